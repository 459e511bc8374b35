/* st_poseidon: Poseidon over BLS12-381 Fr exactly as neptune computes it for Filecoin, the hash
 * of tree_c, tree_r_last, the label columns and comm_r.
 *
 * Parameters (reference filecoin-exact-and-cluster.md section 3; neptune src/):
 *   width t = arity + 1, S-box x^5, R_F = 8 full rounds, R_P partial rounds from neptune's
 *   round_numbers.rs for Strength::Standard (arity 2: 55, 4: 56, 8 and 11: 57, 16: 59);
 *   round constants from the Grain LFSR seeded with field 1, S-box 1, field size 255, t, R_F,
 *   R_P and 30 ones; 160 bits discarded, self-shrinking, 255-bit big-endian draws below r;
 *   MDS the Cauchy matrix M[i][j] = 1/(i + j + t);
 *   the state [2^arity - 1 (the MerkleTree domain tag), in_1 .. in_arity], output state[1].
 * Elements are 32-byte little-endian canonical values below r. Arithmetic is blst's.
 *
 * Two forms compute the same function. st_poseidon_hash is the fast one: the round constants of
 * the partial rounds are folded so that each adds to element 0 only (what it would add to the
 * others is carried forward through the MDS into the next full round), and each partial round's
 * MDS is factored into a sparse matrix, the dense remainder pushed back into the last full round
 * before them (the Poseidon paper's appendix B). st_poseidon_hash_plain is the textbook
 * permutation, kept as the fast form's reference in the tests.
 *
 * Each arity's constants are computed once, on first use, and never change: a pure function of
 * the arity, safe to share between threads. */
#ifndef ST_POSEIDON_H
#define ST_POSEIDON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The arities served: 2, 4, 8 and 11 (Filecoin's sealing and PoSt), 16 (its multi-node hash).
 * Neptune's 24 and 36 are not on any path Filecoin proves. */
bool st_poseidon_arity_ok(unsigned arity);
/* out = Poseidon(in[0..arity-1]); in holds arity 32-byte elements, each below r (a larger value
 * is reduced mod r: callers reading untrusted bytes check them with st_fr_is_valid first).
 * arity must satisfy st_poseidon_arity_ok (else out is all zero). out may alias in (the inputs
 * are read before out is written), as a tree row rebuilt in place needs. */
void st_poseidon_hash(unsigned arity, const uint8_t *in, uint8_t out[32]);
void st_poseidon_hash_plain(unsigned arity, const uint8_t *in, uint8_t out[32]);
/* Field multiplications (squarings included) one st_poseidon_hash makes, conversions in and
 * out of Montgomery form included, for the benchmark's ratio. */
unsigned st_poseidon_mults(unsigned arity);

#endif

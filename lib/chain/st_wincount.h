/* st_wincount: the election's Poisson sortition, with Lotus's fixed-point functions
 * (lotus chain/types/electionproof.go; filecoin-facts.md section 5).
 *
 * All values are Q.256 fixed point in GMP integers (1.0 = 2^256). lambda = 5 x power / total;
 * a miner's VRF output h = blake2b-256(election VRF proof), read big-endian, is compared with
 * the inverse CDF of Poisson(lambda): the number of steps it stays below it, at most
 * ST_MAX_WIN_COUNT, is the win count. The golden files in tests/vectors/poisson pin every
 * function. Each rounds as Go's big.Int does (floor shifts, Euclidean division), so values
 * outside the usual ranges (power above total) also give Lotus's answer. */
#ifndef ST_WINCOUNT_H
#define ST_WINCOUNT_H

#include <gmp.h>
#include <stddef.h>
#include <stdint.h>

#define ST_BLOCKS_PER_EPOCH 5 /* ExpectedLeadersPerEpoch */
#define ST_MAX_WIN_COUNT (3 * ST_BLOCKS_PER_EPOCH)

/* e^-x for x in Q.256 (expneg): a rational approximation, good to 3.4e-30 on [0, 1.725) and
 * 4.6e-15 on [0, 5). out may be x. */
void st_wincount_expneg(const mpz_t x, mpz_t out);
/* lambda = power x 5 / total in Q.256 (lambda). total must be > 0. */
void st_wincount_lambda(const mpz_t power, const mpz_t total, mpz_t out);

/* The Poisson iterator (poiss): init gives the first inverse CDF value, next the following. */
typedef struct st_poisson {
  mpz_t lam, pmf, icdf;
  uint64_t k;
} st_poisson;
void st_poisson_init(st_poisson *p, const mpz_t lam); /* p->icdf holds the first value */
void st_poisson_next(st_poisson *p);                  /* p->icdf holds the next value */
void st_poisson_clear(st_poisson *p);

/* ElectionProof.ComputeWinCount: vrf_proof is the election proof's bytes; power and total are
 * quality-adjusted power. 0 when total is 0 or less (where Lotus would divide by zero). */
int64_t st_wincount(const uint8_t *vrf_proof, size_t len, const mpz_t power, const mpz_t total);

/* The chance of winning at least one block in an epoch, 1 - e^(-5 power / total), as `lotus-miner
 * info` now shows it; 0 when power or total is 0 or less. Computed with expneg in Q.256 (no
 * libm needed) and returned as a double: within an ulp of Lotus's float64 -expm1(-lambda). */
double st_wincount_expected_per_epoch(const mpz_t power, const mpz_t total);

#endif

/* st_wincount: Lotus's election arithmetic (chain/types/electionproof.go) in GMP.
 *
 * Go's big.Int and GMP round differently, so each operation names the rounding Go uses:
 * Int.Div is Euclidean (the remainder is never negative) and Int.Rsh is an arithmetic shift
 * (it rounds toward minus infinity, also for negative values). */
#include "chain/st_wincount.h"

#include "crypto/st_hash.h"

#define PRECISION 256

/* The rational approximation of e^-x: numerator and denominator coefficients, highest order
 * first, as integers; the coefficient is the integer x 2^-128. */
static const char *const EXP_NUM[] = {
    "-648770010757830093818553637600",          "67469480939593786226847644286976",
    "-3197587544499098424029388939001856",      "89244641121992890118377641805348864",
    "-1579656163641440567800982336819953664",   "17685496037279256458459817590917169152",
    "-115682590513835356866803355398940131328", "340282366920938463463374607431768211456",
};
static const char *const EXP_DENO[] = {
    "1225524182432722209606361",
    "114095592300906098243859450",
    "5665570424063336070530214243",
    "194450132448609991765137938448",
    "5068267641632683791026134915072",
    "104716890604972796896895427629056",
    "1748338658439454459487681798864896",
    "23704654329841312470660182937960448",
    "259380097567996910282699886670381056",
    "2250336698853390384720606936038375424",
    "14978272436876548034486263159246028800",
    "72144088983913131323343765784380833792",
    "224599776407103106596571252037123047424",
    "340282366920938463463374607431768211456",
};
#define NUM_LEN (sizeof EXP_NUM / sizeof EXP_NUM[0])
#define DENO_LEN (sizeof EXP_DENO / sizeof EXP_DENO[0])

/* Go's Int.Div: Euclidean division, q = floor(n/d) for d > 0 and ceil(n/d) for d < 0. */
static void go_div(mpz_t q, const mpz_t n, const mpz_t d) {
  if (mpz_sgn(d) > 0) mpz_fdiv_q(q, n, d);
  else mpz_cdiv_q(q, n, d);
}

/* Horner's method over Q.256 coefficients (each the table's integer << 128); the product of two
 * Q.256 values is shifted back with Go's arithmetic Rsh. */
static void polyval(const char *const *coefs, size_t n, const mpz_t x, mpz_t res) {
  mpz_t c, tmp;
  mpz_inits(c, tmp, NULL);
  mpz_set_str(res, coefs[0], 10);
  mpz_mul_2exp(res, res, PRECISION - 128);
  for (size_t i = 1; i < n; i++) {
    mpz_set_str(c, coefs[i], 10);
    mpz_mul_2exp(c, c, PRECISION - 128);
    mpz_mul(tmp, res, x);
    mpz_fdiv_q_2exp(res, tmp, PRECISION);
    mpz_add(res, res, c);
  }
  mpz_clears(c, tmp, NULL);
}

void st_wincount_expneg(const mpz_t x, mpz_t out) {
  mpz_t num, deno;
  mpz_inits(num, deno, NULL);
  polyval(EXP_NUM, NUM_LEN, x, num);
  polyval(EXP_DENO, DENO_LEN, x, deno);
  mpz_mul_2exp(num, num, PRECISION); /* Q.512 */
  go_div(out, num, deno);            /* Q.512 / Q.256 = Q.256 */
  mpz_clears(num, deno, NULL);
}

void st_wincount_lambda(const mpz_t power, const mpz_t total, mpz_t out) {
  mpz_t lam;
  mpz_init(lam);
  mpz_mul_ui(lam, power, ST_BLOCKS_PER_EPOCH);
  mpz_mul_2exp(lam, lam, PRECISION);
  go_div(out, lam, total);
  mpz_clear(lam);
}

void st_poisson_init(st_poisson *p, const mpz_t lam) {
  mpz_init_set(p->lam, lam);
  mpz_init(p->pmf);
  st_wincount_expneg(lam, p->pmf); /* pmf(0) = e^-lambda */
  mpz_init(p->icdf);
  mpz_setbit(p->icdf, PRECISION); /* 1.0 */
  mpz_sub(p->icdf, p->icdf, p->pmf);
  p->k = 0;
}

void st_poisson_next(st_poisson *p) {
  /* pmf(k) = pmf(k-1) / k x lambda, dividing first as Lotus does; icdf(k) = icdf(k-1) - pmf(k) */
  p->k++;
  mpz_fdiv_q_ui(p->pmf, p->pmf, p->k); /* Euclidean for a positive divisor */
  mpz_mul(p->pmf, p->pmf, p->lam);
  mpz_fdiv_q_2exp(p->pmf, p->pmf, PRECISION);
  mpz_sub(p->icdf, p->icdf, p->pmf);
}

void st_poisson_clear(st_poisson *p) { mpz_clears(p->lam, p->pmf, p->icdf, NULL); }

int64_t st_wincount(const uint8_t *vrf_proof, size_t len, const mpz_t power, const mpz_t total) {
  if (mpz_sgn(total) <= 0) return 0;
  uint8_t h[32];
  st_blake2b_256(vrf_proof, len, h);
  mpz_t lhs, lam;
  mpz_inits(lhs, lam, NULL);
  mpz_import(lhs, sizeof h, 1, 1, 1, 0, h); /* big-endian: Q.256 in [0, 1) */
  st_wincount_lambda(power, total, lam);
  st_poisson p;
  st_poisson_init(&p, lam);
  int64_t j = 0;
  while (mpz_cmp(lhs, p.icdf) < 0 && j < ST_MAX_WIN_COUNT) {
    st_poisson_next(&p);
    j++;
  }
  st_poisson_clear(&p);
  mpz_clears(lhs, lam, NULL);
  return j;
}

/* 1 - e^-lambda in the election's own Q.256 arithmetic, which needs no libm and agrees with
 * lotus-miner's -expm1(-lambda) in float64 to within an ulp. expneg is accurate below 1.725, so
 * a larger lambda is halved n times and the result squared n times: e^-x = (e^-(x/2^n))^(2^n). */
double st_wincount_expected_per_epoch(const mpz_t power, const mpz_t total) {
  if (mpz_sgn(total) <= 0 || mpz_sgn(power) <= 0) return 0;
  mpz_t x, y;
  mpz_inits(x, y, NULL);
  st_wincount_lambda(power, total, x);
  double p = 1; /* from lambda 746 on, e^-lambda is below the smallest double */
  mpz_set_ui(y, 746);
  mpz_mul_2exp(y, y, PRECISION);
  if (mpz_cmp(x, y) < 0) {
    unsigned halvings = 0;
    for (; mpz_sizeinbase(x, 2) > PRECISION; halvings++) mpz_fdiv_q_2exp(x, x, 1); /* until x < 1 */
    st_wincount_expneg(x, y);
    for (unsigned i = 0; i < halvings; i++) {
      mpz_mul(y, y, y);
      mpz_fdiv_q_2exp(y, y, PRECISION);
    }
    mpz_set_ui(x, 1);
    mpz_mul_2exp(x, x, PRECISION);
    mpz_sub(x, x, y);
    p = mpz_get_d(x) * 0x1p-256;
  }
  mpz_clears(x, y, NULL);
  return p;
}

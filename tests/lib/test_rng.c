/* test_rng.c -- lib/rng.h: the generator against an independent transcription of the
 * published algorithms (splitmix64 seeding, xoshiro256**, Lemire's bounded integers),
 * and its distributions against theory.
 *
 * Statistical tolerances are 5 standard errors of the estimate (a false alarm about
 * once in 1.7 million runs for a normal estimate); the draws are seeded, so a given
 * build either always passes or always fails. Chi-square bounds are stated per test.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rng.h"

/* ------------------------------------------------------------------------------- */
/* reference transcription of https://prng.di.unimi.it/splitmix64.c and
 * https://prng.di.unimi.it/xoshiro256starstar.c */

static uint64_t ref_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}

static inline uint64_t ref_rotl(const uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t ref_next(uint64_t s[4]) {
    const uint64_t result = ref_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return result;
}

Test(lib_rng, splitmix64_published_values) {
    /* The first outputs of splitmix64 from state 0, the widely reproduced reference
     * values of Vigna's splitmix64.c: they pin down our transcription. */
    uint64_t x = 0;
    cr_assert_eq(ref_splitmix64(&x), 0xe220a8397b1dcdafULL);
    cr_assert_eq(ref_splitmix64(&x), 0x6e789e6aa1b965f4ULL);
    cr_assert_eq(ref_splitmix64(&x), 0x06c45d188009454fULL);
    cr_assert_eq(ref_splitmix64(&x), 0xf88bb8a8724c81ecULL);
}

Test(lib_rng, matches_reference_xoshiro256starstar) {
    const uint64_t seeds[4] = {0, 1, 42, UINT64_MAX};
    for (int k = 0; k < 4; k++) {
        uint64_t sm = seeds[k], s[4];
        for (int i = 0; i < 4; i++) s[i] = ref_splitmix64(&sm);
        gd_rng r;
        gd_rng_seed(&r, seeds[k]);
        for (int i = 0; i < 1000; i++) {
            uint64_t want = ref_next(s), got = gd_rng_u64(&r);
            cr_assert_eq(got, want, "seed %llu draw %d: %016llx, want %016llx",
                         (unsigned long long)seeds[k], i, (unsigned long long)got,
                         (unsigned long long)want);
        }
    }
}

Test(lib_rng, same_seed_same_stream_different_seeds_differ) {
    gd_rng a, b;
    gd_rng_seed(&a, 12345);
    gd_rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++) cr_assert_eq(gd_rng_u64(&a), gd_rng_u64(&b));
    /* neighbouring seeds: the first outputs must all differ (equal 64-bit words by
     * chance: probability ~2^-64 per pair) */
    uint64_t first[16];
    for (uint64_t s = 0; s < 16; s++) {
        gd_rng_seed(&a, s);
        first[s] = gd_rng_u64(&a);
    }
    for (int i = 0; i < 16; i++)
        for (int j = i + 1; j < 16; j++) cr_assert_neq(first[i], first[j], "seeds %d and %d", i, j);
    /* re-seeding resets the stream, including a pending normal */
    gd_rng_seed(&a, 7);
    double n1 = gd_rng_normal(&a);
    gd_rng_seed(&a, 7);
    cr_assert_eq(gd_rng_normal(&a), n1);
}

Test(lib_rng, seed_zero_is_a_good_state) {
    /* xoshiro's all-zero state would output zeros forever; splitmix64 seeding avoids it */
    gd_rng r;
    gd_rng_seed(&r, 0);
    cr_assert(r.s[0] | r.s[1] | r.s[2] | r.s[3], "seed 0 gave the all-zero state");
    int zeros = 0, ones = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = gd_rng_u64(&r);
        zeros += x == 0;
        ones += __builtin_popcountll(x);
    }
    cr_assert_eq(zeros, 0);
    /* 64000 fair bits: mean 32000, sd sqrt(64000)/2 = 126; 5 sd = 632 */
    cr_assert(fabs(ones - 32000.0) < 632, "%d one bits in 64000", ones);
}

Test(lib_rng, state_copy_continues_the_same_stream) {
    gd_rng a;
    gd_rng_seed(&a, 99);
    for (int i = 0; i < 10; i++) gd_rng_u64(&a);
    gd_rng_normal(&a); /* leaves the second normal of a pair waiting in the state */
    cr_assert(a.has_spare);
    gd_rng b = a; /* the whole state is the struct */
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(gd_rng_normal(&a), gd_rng_normal(&b), "normal %d", i);
        cr_assert_eq(gd_rng_u64(&a), gd_rng_u64(&b), "u64 %d", i);
        cr_assert_eq(gd_rng_uniform(&a), gd_rng_uniform(&b));
        cr_assert_eq(gd_rng_below(&a, 1000), gd_rng_below(&b, 1000));
    }
}

/* ------------------------------------------------------------------------------- */
/* uniform */

Test(lib_rng, uniform_is_the_top_53_bits) {
    gd_rng r, c;
    gd_rng_seed(&r, 5);
    c = r;
    for (int i = 0; i < 1000; i++) {
        double u = gd_rng_uniform(&r);
        double want = (double)(gd_rng_u64(&c) >> 11) / 9007199254740992.0; /* 2^53 */
        cr_assert_eq(u, want);
    }
}

Test(lib_rng, uniform_moments) {
    /* 1e6 draws of U[0,1): mean 1/2 with sd sqrt(1/12 / n) = 2.89e-4; the sample
     * variance has sd sqrt(Var((U-1/2)^2) / n) = sqrt((1/80 - 1/144) / n) = 7.45e-5. */
    enum { n = 1000000 };
    gd_rng r;
    gd_rng_seed(&r, 2024);
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        double u = gd_rng_uniform(&r);
        cr_assert(u >= 0.0 && u < 1.0, "draw %d = %.17g outside [0, 1)", i, u);
        s += u;
        s2 += (u - 0.5) * (u - 0.5);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    double mean = s / n, var = s2 / n - (mean - 0.5) * (mean - 0.5);
    cr_assert(fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / n), "mean %.6f", mean);
    cr_assert(fabs(var - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / n), "variance %.6f, want %.6f", var,
              1.0 / 12);
    /* the extremes of 1e6 uniforms lie within ~1e-6 of 0 and 1; 2e-5 is P < 1e-8 */
    cr_assert(lo < 2e-5 && hi > 1 - 2e-5, "range [%g, %g]", lo, hi);
}

Test(lib_rng, fill_uniform_range) {
    float x[10000];
    gd_rng r;
    gd_rng_seed(&r, 8);
    gd_rng_fill_uniform(&r, x, 10000, -3.0f, 5.0f);
    double s = 0;
    for (int i = 0; i < 10000; i++) {
        /* lo + (hi - lo) u may round up to hi in float: allow the closed interval */
        cr_assert(x[i] >= -3.0f && x[i] <= 5.0f, "x[%d] = %g", i, x[i]);
        s += x[i];
    }
    /* mean 1, sd 8 / sqrt(12 * 1e4) = 0.023; 5 sd = 0.115 */
    cr_assert(fabs(s / 10000 - 1.0) < 0.115, "mean %g", s / 10000);
}

/* ------------------------------------------------------------------------------- */
/* normal */

Test(lib_rng, normal_moments_and_one_sigma_mass) {
    /* 1e6 draws of N(0,1). Standard errors: mean 1/sqrt(n) = 1e-3; variance
     * sqrt(2/n) = 1.41e-3; fraction in [-1, 1] (p = erf(1/sqrt 2) = 0.682689)
     * sqrt(p(1-p)/n) = 4.65e-4; fourth moment 3 with sd sqrt((105 - 9)/n) = 9.8e-3.
     * Each within 5 standard errors. */
    enum { n = 1000000 };
    gd_rng r;
    gd_rng_seed(&r, 31337);
    double s = 0, s2 = 0, s4 = 0;
    long inside = 0;
    for (int i = 0; i < n; i++) {
        double z = gd_rng_normal(&r);
        cr_assert(isfinite(z));
        s += z;
        s2 += z * z;
        s4 += z * z * z * z;
        inside += fabs(z) <= 1.0;
    }
    double mean = s / n, var = s2 / n - mean * mean, kurt = s4 / n;
    double p = erf(1.0 / sqrt(2.0)), frac = (double)inside / n;
    cr_assert(fabs(mean) < 5 / sqrt(n), "mean %g", mean);
    cr_assert(fabs(var - 1) < 5 * sqrt(2.0 / n), "variance %g", var);
    cr_assert(fabs(frac - p) < 5 * sqrt(p * (1 - p) / n), "fraction within 1 sigma %.6f, want %.6f", frac, p);
    cr_assert(fabs(kurt - 3) < 5 * sqrt(96.0 / n), "fourth moment %g, want 3", kurt);
}

Test(lib_rng, fill_normal_mean_std) {
    /* N(2, 0.5^2), 1e5 draws: mean sd 0.5/sqrt(n) = 1.6e-3; std sd ~ 0.5/sqrt(2n) = 1.1e-3 */
    enum { n = 100000 };
    static float x[n];
    gd_rng r;
    gd_rng_seed(&r, 4);
    gd_rng_fill_normal(&r, x, n, 2.0f, 0.5f);
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += x[i];
    double mean = s / n;
    for (int i = 0; i < n; i++) s2 += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(s2 / (n - 1));
    cr_assert(fabs(mean - 2.0) < 5 * 0.5 / sqrt(n), "mean %g", mean);
    cr_assert(fabs(sd - 0.5) < 5 * 0.5 / sqrt(2.0 * n), "std %g", sd);
}

/* ------------------------------------------------------------------------------- */
/* bounded integers and shuffles */

/* Lemire 2019, "Fast random integer generation in an interval", Algorithm 5 (nearly
 * divisionless), transcribed from the paper onto the reference generator. */
static uint64_t ref_below(uint64_t s[4], uint64_t n) {
    unsigned __int128 m = (unsigned __int128)ref_next(s) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            m = (unsigned __int128)ref_next(s) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

Test(lib_rng, below_matches_lemire_and_stays_below_n) {
    const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, 1ULL << 32, (1ULL << 63) + 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint64_t sm = 77, s[4];
        for (int i = 0; i < 4; i++) s[i] = ref_splitmix64(&sm);
        gd_rng r;
        gd_rng_seed(&r, 77);
        for (int i = 0; i < 2000; i++) {
            uint64_t got = gd_rng_below(&r, ns[k]), want = ref_below(s, ns[k]);
            cr_assert(got < ns[k], "below(%llu) gave %llu", (unsigned long long)ns[k], (unsigned long long)got);
            cr_assert_eq(got, want, "below(%llu) draw %d", (unsigned long long)ns[k], i);
        }
    }
}

Test(lib_rng, below_ten_is_uniform_chi_square) {
    /* 1e5 draws into 10 cells: chi-square with 9 degrees of freedom, mean 9, sd 4.2;
     * P(chi2_9 > 40) ~ 5e-6. A bias of 1% in one cell would add ~10 to the statistic,
     * a modulo-bias-sized error or a stuck cell far more. */
    enum { n = 100000, K = 10 };
    long count[K] = {0};
    gd_rng r;
    gd_rng_seed(&r, 10);
    for (int i = 0; i < n; i++) count[gd_rng_below(&r, K)]++;
    double chi2 = 0, e = (double)n / K;
    for (int k = 0; k < K; k++) chi2 += (count[k] - e) * (count[k] - e) / e;
    cr_assert(chi2 < 40, "chi-square %g for counts %ld %ld %ld ...", chi2, count[0], count[1], count[2]);
}

Test(lib_rng, below_huge_n_is_uniform_in_halves) {
    /* n = 3 * 2^62: a plain u64 % n would put 1/2 of the mass (not 1/3) in [0, 2^62).
     * With 1e5 draws the fraction below n/3 must be 1/3 within 5 sd = 5 * 1.5e-3. */
    const uint64_t n = 3ULL << 62;
    gd_rng r;
    gd_rng_seed(&r, 3);
    long low = 0;
    for (int i = 0; i < 100000; i++) low += gd_rng_below(&r, n) < (n / 3);
    double frac = low / 1e5;
    cr_assert(fabs(frac - 1.0 / 3) < 5 * sqrt(2.0 / 9 / 1e5), "fraction %g, want 1/3", frac);
}

static int is_permutation(const int *idx, int n) {
    char seen[1000] = {0};
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= n || seen[idx[i]]) return 0;
        seen[idx[i]] = 1;
    }
    return 1;
}

Test(lib_rng, shuffle_is_a_deterministic_permutation) {
    enum { n = 1000 };
    int a[n], b[n], c[n];
    for (int i = 0; i < n; i++) a[i] = b[i] = c[i] = i;
    gd_rng ra, rb, rc;
    gd_rng_seed(&ra, 5);
    gd_rng_seed(&rb, 5);
    gd_rng_seed(&rc, 6);
    gd_rng_shuffle(&ra, a, n);
    gd_rng_shuffle(&rb, b, n);
    gd_rng_shuffle(&rc, c, n);
    cr_assert(is_permutation(a, n), "not a permutation");
    cr_assert_arr_eq(a, b, sizeof a, "same seed, different shuffle");
    /* different seeds: equal by chance with probability 1/1000! */
    cr_assert(memcmp(a, c, sizeof a) != 0, "seeds 5 and 6 gave the same shuffle");
    int fixed = 0;
    for (int i = 0; i < n; i++) fixed += a[i] == i;
    /* fixed points of a uniform permutation ~ Poisson(1): P(>= 10) < 1e-6 */
    cr_assert(fixed < 10, "%d fixed points: barely shuffled", fixed);
    /* n = 0 and 1 are no-ops */
    int one[1] = {0};
    gd_rng_shuffle(&ra, one, 1);
    gd_rng_shuffle(&ra, one, 0);
    cr_assert_eq(one[0], 0);
}

Test(lib_rng, shuffle_of_three_is_uniform_over_six_orders) {
    /* 60000 shuffles of (0 1 2): each of the 3! = 6 orders expected 10000 times;
     * chi-square with 5 degrees of freedom, P(chi2_5 > 35) ~ 1.5e-6. A biased
     * Fisher-Yates (j drawn from [0, n) instead of [0, i]) puts 4/27 vs 5/27 on some
     * orders, a chi-square in the thousands. */
    long count[6] = {0};
    gd_rng r;
    gd_rng_seed(&r, 11);
    for (int t = 0; t < 60000; t++) {
        int p[3] = {0, 1, 2};
        gd_rng_shuffle(&r, p, 3);
        cr_assert(is_permutation(p, 3));
        count[p[0] * 2 + (p[1] > p[2])]++; /* order -> index: first element, then the rest */
    }
    double chi2 = 0;
    for (int k = 0; k < 6; k++) chi2 += (count[k] - 10000.0) * (count[k] - 10000.0) / 10000.0;
    cr_assert(chi2 < 35, "chi-square %g", chi2);
}

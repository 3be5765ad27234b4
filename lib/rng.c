/* rng.c -- xoshiro256** and splitmix64 (https://prng.di.unimi.it/), Box-Muller normals. */
#include "rng.h"

#include <math.h>

static uint64_t gd__splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void gd_rng_seed(gd_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = gd__splitmix64(&seed);
    r->has_spare = 0;
    r->spare = 0.0;
}

static uint64_t gd__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gd_rng_u64(gd_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = gd__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = gd__rotl(s[3], 45);
    return result;
}

uint64_t gd_rng_below(gd_rng *r, uint64_t n) {
    /* Lemire, "Fast random integer generation in an interval", 2019. */
    unsigned __int128 m = (unsigned __int128)gd_rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)gd_rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double gd_rng_uniform(gd_rng *r) { return (double)(gd_rng_u64(r) >> 11) * 0x1.0p-53; }

double gd_rng_normal(gd_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller: u1 in (0, 1] so that log(u1) is finite. */
    double u1 = 1.0 - gd_rng_uniform(r);
    double u2 = gd_rng_uniform(r);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 2.0 * M_PI * u2;
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

void gd_rng_fill_uniform(gd_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * gd_rng_uniform(r));
}

void gd_rng_fill_normal(gd_rng *r, float *x, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(mean + std * gd_rng_normal(r));
}

void gd_rng_shuffle(gd_rng *r, int *idx, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)gd_rng_below(r, (uint64_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

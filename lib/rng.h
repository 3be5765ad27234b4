/* rng.h -- our own seeded random numbers (never rand()).
 *
 * xoshiro256** (Blackman & Vigna 2018, https://prng.di.unimi.it/) seeded through
 * splitmix64, so that any 64-bit seed, including 0, gives a good state. The whole state
 * is the struct: copy it to save it, and the same seed gives the same numbers on every
 * machine (the normal deviates use libm's log/cos/sin, so their last bits can differ
 * between libm versions).
 *
 *   gd_rng r;
 *   gd_rng_seed(&r, 42);
 *   double u = gd_rng_uniform(&r);          // [0, 1)
 *   float z = gd_rng_normal(&r);            // N(0, 1)
 *   gd_rng_shuffle(&r, idx, n);             // Fisher-Yates
 */
#ifndef GD_RNG_H
#define GD_RNG_H

#include <stdint.h>
#include <stddef.h>

typedef struct gd_rng {
    uint64_t s[4];
    int has_spare;   /* Box-Muller makes normals in pairs; the second waits here */
    double spare;
} gd_rng;

void gd_rng_seed(gd_rng *r, uint64_t seed);
uint64_t gd_rng_u64(gd_rng *r);
/* Uniform integer in [0, n), without modulo bias (Lemire 2019). n must be > 0. */
uint64_t gd_rng_below(gd_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double gd_rng_uniform(gd_rng *r);
/* Standard normal N(0, 1) by the Box-Muller transform. */
double gd_rng_normal(gd_rng *r);
/* Fill x[0..n) with U(lo, hi) or N(mean, std). */
void gd_rng_fill_uniform(gd_rng *r, float *x, size_t n, float lo, float hi);
void gd_rng_fill_normal(gd_rng *r, float *x, size_t n, float mean, float std);
/* Shuffle idx[0..n) in place (Fisher-Yates). */
void gd_rng_shuffle(gd_rng *r, int *idx, int n);

#endif

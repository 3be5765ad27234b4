/* synth.c -- quadratics, Rosenbrock, noisy linear regression; see synth.h. */
#include "synth.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int gd_quad_init(gd_quad *q, int d, const double *lambda, const double *Q) {
    memset(q, 0, sizeof *q);
    if (d < 1) return gd_seterr("quadratic: dimension %d (must be >= 1)", d);
    for (int k = 0; k < d; k++)
        if (!isfinite(lambda[k])) return gd_seterr("quadratic: eigenvalue %d is not finite", k);
    q->d = d;
    q->lambda = malloc((size_t)d * sizeof *q->lambda);
    q->Q = calloc((size_t)d * d, sizeof *q->Q);
    q->A = calloc((size_t)d * d, sizeof *q->A);
    if (!q->lambda || !q->Q || !q->A) {
        gd_quad_free(q);
        return gd_seterr("quadratic: out of memory");
    }
    memcpy(q->lambda, lambda, (size_t)d * sizeof *lambda);
    if (Q) {
        memcpy(q->Q, Q, (size_t)d * d * sizeof *Q);
    } else {
        for (int i = 0; i < d; i++) q->Q[i * d + i] = 1.0;
    }
    /* A[i][j] = sum_k Q[i][k] lambda[k] Q[j][k] */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double acc = 0.0;
            for (int k = 0; k < d; k++) acc += q->Q[i * d + k] * lambda[k] * q->Q[j * d + k];
            q->A[i * d + j] = acc;
        }
    return 0;
}

void gd_quad_free(gd_quad *q) {
    free(q->lambda);
    free(q->Q);
    free(q->A);
    memset(q, 0, sizeof *q);
}

void gd_quad_grad(double *g, const gd_quad *q, const double *x) {
    int d = q->d;
    for (int i = 0; i < d; i++) {
        double acc = 0.0;
        for (int j = 0; j < d; j++) acc += q->A[i * d + j] * x[j];
        g[i] = acc;
    }
}

double gd_quad_loss(const gd_quad *q, const double *x) {
    double acc = 0.0;
    for (int i = 0; i < q->d; i++)
        for (int j = 0; j < q->d; j++) acc += x[i] * q->A[i * q->d + j] * x[j];
    return 0.5 * acc;
}

void gd_rotation2(double *Q, double angle) {
    Q[0] = cos(angle);
    Q[1] = -sin(angle);
    Q[2] = sin(angle);
    Q[3] = cos(angle);
}

void gd_random_orthogonal(double *Q, int d, gd_rng *rng) {
    /* columns of a Gaussian matrix, orthonormalised by modified Gram-Schmidt */
    for (int i = 0; i < d * d; i++) Q[i] = gd_rng_normal(rng);
    for (int k = 0; k < d; k++) {
        for (int j = 0; j < k; j++) {
            double dot = 0.0;
            for (int i = 0; i < d; i++) dot += Q[i * d + k] * Q[i * d + j];
            for (int i = 0; i < d; i++) Q[i * d + k] -= dot * Q[i * d + j];
        }
        double norm = 0.0;
        for (int i = 0; i < d; i++) norm += Q[i * d + k] * Q[i * d + k];
        norm = sqrt(norm);
        for (int i = 0; i < d; i++) Q[i * d + k] /= norm;
    }
}

double gd_rosenbrock(double *grad, const double *x, double a, double b) {
    double u = a - x[0], v = x[1] - x[0] * x[0];
    if (grad) {
        grad[0] = -2.0 * u - 4.0 * b * x[0] * v;
        grad[1] = 2.0 * b * v;
    }
    return u * u + b * v * v;
}

int gd_linreg_init(gd_linreg *p, int n, int d, float noise_std, gd_rng *rng) {
    memset(p, 0, sizeof *p);
    if (n < 1 || d < 1) return gd_seterr("linreg: n = %d, d = %d (both must be >= 1)", n, d);
    if (!(noise_std >= 0.0f)) return gd_seterr("linreg: noise_std must be >= 0");
    p->n = n;
    p->d = d;
    p->noise_std = noise_std;
    p->X = malloc((size_t)n * d * sizeof *p->X);
    p->y = malloc((size_t)n * sizeof *p->y);
    p->w_true = malloc((size_t)d * sizeof *p->w_true);
    if (!p->X || !p->y || !p->w_true) {
        gd_linreg_free(p);
        return gd_seterr("linreg: out of memory");
    }
    gd_rng_fill_normal(rng, p->w_true, (size_t)d, 0.0f, 1.0f);
    gd_rng_fill_normal(rng, p->X, (size_t)n * d, 0.0f, 1.0f);
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int j = 0; j < d; j++) acc += (double)p->X[(size_t)i * d + j] * p->w_true[j];
        p->y[i] = (float)(acc + noise_std * gd_rng_normal(rng));
    }
    return 0;
}

void gd_linreg_free(gd_linreg *p) {
    free(p->X);
    free(p->y);
    free(p->w_true);
    memset(p, 0, sizeof *p);
}

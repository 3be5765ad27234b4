/* synth.h -- synthetic problems whose answers we know.
 *
 * Quadratic  f(x) = 1/2 x^T A x,  A = Q diag(lambda) Q^T  (d dims, double precision).
 *   Its gradient is A x, its Hessian A, its minimum 0 at x = 0: gradient descent on it
 *   is x <- (I - lr A) x, which is why Chapter 1 can predict every number it measures.
 * Rosenbrock f(x, y) = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2).
 * Noisy linear regression  y = X w_true + noise, X and w_true standard normal.
 *
 *   double lambda[2] = {1, 10}, Q[4];
 *   gd_rotation2(Q, 0.5);                  // or NULL for axis-aligned
 *   gd_quad q;
 *   if (gd_quad_init(&q, 2, lambda, Q) != 0) die(gd_error());
 *   gd_quad_grad(g, &q, x);
 *   gd_quad_free(&q);
 */
#ifndef GD_SYNTH_H
#define GD_SYNTH_H

#include "rng.h"

typedef struct gd_quad {
    int d;
    double *lambda;   /* (d) eigenvalues */
    double *Q;        /* (d, d) orthogonal; column k is the eigenvector of lambda[k] */
    double *A;        /* (d, d) = Q diag(lambda) Q^T */
} gd_quad;

/* Q may be NULL (identity). Fails on d < 1 or a non-finite eigenvalue. */
int gd_quad_init(gd_quad *q, int d, const double *lambda, const double *Q);
void gd_quad_free(gd_quad *q);
double gd_quad_loss(const gd_quad *q, const double *x);       /* 1/2 x^T A x */
void gd_quad_grad(double *g, const gd_quad *q, const double *x);   /* g = A x */

/* Q (2, 2): rotation by angle (radians). */
void gd_rotation2(double *Q, double angle);
/* Q (d, d): a random orthogonal matrix (Gram-Schmidt on a Gaussian matrix). */
void gd_random_orthogonal(double *Q, int d, gd_rng *rng);

/* Rosenbrock loss at x (2); grad (2) is written if not NULL. */
double gd_rosenbrock(double *grad, const double *x, double a, double b);

typedef struct gd_linreg {
    int n, d;
    float *X;         /* (n, d) */
    float *y;         /* (n) */
    float *w_true;    /* (d) */
    float noise_std;
} gd_linreg;

int gd_linreg_init(gd_linreg *p, int n, int d, float noise_std, gd_rng *rng);
void gd_linreg_free(gd_linreg *p);

#endif

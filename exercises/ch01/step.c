/* step.c -- Exercise 1.2 (coding): one gradient-descent step on a quadratic.
 *
 * Write the loss f(theta) = 1/2 theta^T A theta and the update of Chapter 1, §1.1-1.2,
 *     theta <- theta - lr * grad f(theta),   grad f(theta) = A theta,
 * in place. Shapes: A (d, d), row-major (element (i, j) is A[i * d + j]), symmetric;
 * theta (d); 1 <= d <= EX_GD_MAXDIM. Use double throughout. Mind that the whole
 * gradient is a function of the OLD theta: every component of A theta must be computed
 * before any component of theta changes.
 *
 * The check (exercises/ch01/check.c) compares your functions, step after step, with
 * the library's gd_quad_loss and gd_quad_grad (lib/synth.h) on random quadratics, and
 * runs your step for many iterations to compare the measured contraction factor with
 * the chapter's max_i |1 - lr lambda_i|. Hand in this file.
 */
#include "step.h"

#include <math.h>

double ex_quad_loss(const double *A, const double *theta, int d)
{
    /* BEGIN SOLUTION 1.2 */
    double f = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) f += theta[i] * A[i * d + j] * theta[j];
    return 0.5 * f;
    /* END SOLUTION 1.2 */
    /* STUB 1.2: (void)A; (void)theta; (void)d; */
    /* STUB 1.2: return NAN; */
    /* WRONG 1.2: double f = 0; */
    /* WRONG 1.2: for (int i = 0; i < d; i++) */
    /* WRONG 1.2:     for (int j = 0; j < d; j++) f += theta[i] * A[i * d + j] * theta[j]; */
    /* WRONG 1.2: return f; */
}

void ex_gd_step(double *theta, const double *A, int d, double lr)
{
    /* BEGIN SOLUTION 1.2 */
    double g[EX_GD_MAXDIM];                   /* g = A theta, from the old theta */
    for (int i = 0; i < d; i++) {
        g[i] = 0;
        for (int j = 0; j < d; j++) g[i] += A[i * d + j] * theta[j];
    }
    for (int i = 0; i < d; i++) theta[i] -= lr * g[i];   /* theta <- theta - lr * g */
    /* END SOLUTION 1.2 */
    /* STUB 1.2: (void)theta; (void)A; (void)d; (void)lr; */
    /* WRONG 1.2: for (int i = 0; i < d; i++) { */
    /* WRONG 1.2:     double gi = 0; */
    /* WRONG 1.2:     for (int j = 0; j < d; j++) gi += A[i * d + j] * theta[j]; */
    /* WRONG 1.2:     theta[i] -= lr * gi; */
    /* WRONG 1.2: } */
}

/* limits.c -- Exercise 1.1 (derivation): the 2/L bound and the best fixed step.
 *
 * Gradient descent theta <- theta - lr * A theta on f(theta) = 1/2 theta^T A theta,
 * A symmetric with eigenvalues between mu > 0 (the smallest) and L (the largest).
 * Derive, on paper, (a) the largest lr for which it converges from every start,
 * (b) the lr that makes the contraction factor rho(lr) = max_i |1 - lr lambda_i|
 * smallest, and (c) that smallest rho; then write each result here as a formula in
 * mu and L. Sources: Chapter 1, §1.3-1.4 (chapters/01-gradient-descent/README.md);
 * Nesterov, Introductory Lectures on Convex Optimization (2004), §1.2.3 / §2.1.
 *
 * The check (exercises/ch01/check.c) does not know the formulas: it simulates gradient
 * descent on quadratics built by the library (gd_quad), bisects the learning rate at
 * which the iterates stop shrinking, and searches for the lr whose measured rate is
 * smallest, then compares with your functions. Hand in the derivation (written part)
 * and this file.
 */
#include "limits.h"

#include <math.h>

double ex_gd_max_lr(double mu, double L)
{
    /* BEGIN SOLUTION 1.1 */
    (void)mu;
    return 2.0 / L;
    /* END SOLUTION 1.1 */
    /* STUB 1.1: (void)mu; (void)L; */
    /* STUB 1.1: return NAN; */
    /* WRONG 1.1: (void)mu; */
    /* WRONG 1.1: return 1.0 / L; */
}

double ex_gd_best_lr(double mu, double L)
{
    /* BEGIN SOLUTION 1.1 */
    return 2.0 / (mu + L);
    /* END SOLUTION 1.1 */
    /* STUB 1.1: (void)mu; (void)L; */
    /* STUB 1.1: return NAN; */
    /* WRONG 1.1: (void)mu; */
    /* WRONG 1.1: return 1.0 / L; */
}

double ex_gd_best_rate(double mu, double L)
{
    /* BEGIN SOLUTION 1.1 */
    return (L - mu) / (L + mu);
    /* END SOLUTION 1.1 */
    /* STUB 1.1: (void)mu; (void)L; */
    /* STUB 1.1: return NAN; */
    /* WRONG 1.1: return 1.0 - mu / L; */
}

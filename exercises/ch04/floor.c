/* floor.c -- Exercise 4.1 (Chapter 4, §4.1): the noise floor of SGD with heavy-ball
 * momentum on the noisy quadratic.
 *
 * f(x) = lambda x^2 / 2; each step sees the gradient g_k = lambda x_k + sigma xi_k with
 * xi_k ~ N(0, 1) fresh every step (chapters/04-schedules/noise.c). SGD with momentum as
 * PyTorch implements it (lib/optim.c, Chapter 3's heavy ball):
 *     b_k = beta b_{k-1} + g_k,    x_{k+1} = x_k - eta b_k .
 * Write ex_momentum_floor: the stationary second moment lim E[x_k^2] as a function of
 * the lr eta > 0, the noise variance sigma2 = sigma^2 >= 0, the curvature lambda > 0 and
 * the momentum 0 <= beta < 1, inside the stable range 0 < eta lambda < 2 (1 + beta).
 * With beta = 0 it must be §4.1's floor eta sigma2 / (lambda (2 - eta lambda)).
 * Derive it by hand first (the written part): eliminate b to get a recursion for x alone,
 * then write the recursion of the second moments E[x_k^2], E[x_k x_{k-1}] and solve for
 * its fixed point. The check compares your function with that fixed point computed
 * numerically and with a simulation of many chains, at several (eta, lambda, beta).
 */
#include "floor.h"

#include <math.h>

double ex_momentum_floor(double eta, double sigma2, double lambda, double beta)
{
    /* BEGIN SOLUTION 4.1 */
    /* (1 + beta) eta sigma^2 / ((1 - beta) lambda (2 (1 + beta) - eta lambda)) */
    return (1.0 + beta) * eta * sigma2 / ((1.0 - beta) * lambda * (2.0 * (1.0 + beta) - eta * lambda));
    /* END SOLUTION 4.1 */
    /* STUB 4.1: (void)eta; (void)sigma2; (void)lambda; (void)beta; */
    /* STUB 4.1: return NAN; */
    /* WRONG 4.1: double e = eta / (1.0 - beta); */
    /* WRONG 4.1: return e * sigma2 / (lambda * (2.0 - e * lambda)); */
}

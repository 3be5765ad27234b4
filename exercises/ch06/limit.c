/* limit.c -- Exercise 6.1 (Chapter 6, §6.2): momentum's stability limit, with dampening.
 *
 * Write ex_momentum_limit (limit.h): the largest learning rate eta at which PyTorch's SGD
 * with momentum beta and dampening d (torch.optim.SGD, nesterov off, no weight decay)
 *     v_{t+1} = beta v_t + (1 - d) g_t,     theta_{t+1} = theta_t - eta v_{t+1}
 * converges on the quadratic f(theta) = L theta^2 / 2 (g_t = L theta_t), from any start.
 * (PyTorch's first update sets v_1 = g_0 without the factor 1 - d; that changes one step,
 * not the limit.) Derive it as §6.2 does for d = 0: write one step as a linear map of
 * (theta_t, v_t), find its characteristic polynomial and apply the Jury conditions. The
 * derivation is the written part; the function returns its result.
 * Shapes: scalars. 0 <= beta < 1, 0 <= dampening < 1, L > 0.
 * The check finds the limit by bisection on the library's SGD (lib/optim.h, float32)
 * run on the quadratic -- stable: |theta| after 3000 updates below |theta_0| -- for
 * several beta, d and L, and compares to a relative 1%.
 */
#include "limit.h"

#include <math.h>

double ex_momentum_limit(double beta, double dampening, double L)
{
    /* BEGIN SOLUTION 6.1 */
    /* p(z) = z^2 - (1 + beta - eta (1-d) L) z + beta; p(-1) = 2 (1 + beta) - eta (1-d) L > 0 */
    return 2.0 * (1.0 + beta) / ((1.0 - dampening) * L);
    /* END SOLUTION 6.1 */
    /* STUB 6.1: (void)beta; (void)dampening; (void)L; */
    /* STUB 6.1: return NAN; */
    /* WRONG 6.1: (void)dampening; return 2.0 * (1.0 + beta) / L; */
}

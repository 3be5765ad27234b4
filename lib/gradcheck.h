/* gradcheck.h -- compare an analytic gradient with central finite differences.
 *
 * loss(ctx) computes the loss for the current values of x (which lives inside ctx).
 * For each i, x[i] is nudged by +-eps and (loss+ - loss-) / (2 eps) is compared with
 * grad[i]; x is restored exactly. The result is the largest relative error
 *     |numeric - analytic| / max(|numeric| + |analytic|, floor)
 * so that gradients near zero are judged on an absolute scale (floor). With float32
 * layers and eps = 1e-2, a correct backward scores around 1e-4; a wrong one near 1.
 * Reference: cs231n notes, "Gradient checks".
 */
#ifndef GD_GRADCHECK_H
#define GD_GRADCHECK_H

#include <stddef.h>

typedef double (*gd_loss_fn)(void *ctx);

double gd_gradcheck(gd_loss_fn loss, void *ctx, float *x, const float *grad, size_t n,
                    float eps, double floor);

#endif

/* optim.h -- optimizers. For now plain SGD; momentum, Adam and the rest come with
 * Chapter 6 (issue #3), each with its update rule written where it happens.
 *
 *   gd_sgd_step(m.params, m.nparams, lr);     // w = w - lr * grad, for every parameter
 */
#ifndef GD_OPTIM_H
#define GD_OPTIM_H

#include "tensor.h"

/* Plain gradient descent, torch.optim.SGD with its defaults (no momentum, no weight
 * decay): w = w - lr * grad. */
void gd_sgd_step(gd_param *params, int nparams, float lr);

#endif

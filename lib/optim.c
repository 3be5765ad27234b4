/* optim.c -- optimizer update rules. */
#include "optim.h"

/* https://pytorch.org/docs/stable/generated/torch.optim.SGD.html (momentum = 0) */
void gd_sgd_step(gd_param *params, int nparams, float lr) {
    for (int p = 0; p < nparams; p++) {
        float *restrict w = params[p].value->data;        /* restrict: w and g never */
        const float *restrict g = params[p].grad->data;   /* overlap, so it vectorizes */
        size_t n = params[p].value->size;
        for (size_t i = 0; i < n; i++) w[i] -= lr * g[i]; /* w = w - lr * g */
    }
}

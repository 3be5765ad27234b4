/* adamw.c -- Exercise 6.2 (Chapter 6, §6.6): AdamW's step.
 *
 * Write ex_adamw_step (adamw.h): one update of AdamW (Loshchilov & Hutter 2019, as
 * PyTorch's torch.optim.AdamW implements it, https://pytorch.org/docs/stable/generated/
 * torch.optim.AdamW.html; amsgrad and maximize off), for every i < n:
 *     w = w - lr * weight_decay * w                  (decoupled: not through the gradient)
 *     m = beta1 * m + (1 - beta1) * g
 *     v = beta2 * v + (1 - beta2) * g * g
 *     m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
 *     w = w - lr * m_hat / (sqrt(v_hat) + eps)
 * Shapes: w, g, m, v have n floats each; m and v are the optimizer's state (zero before
 * the first update, t = 1), updated in place, as is w. Hyperparameters come from hp
 * (lib/optim.h: lr, beta1, beta2, eps, weight_decay). Compute in float or double as you
 * like: the check allows for rounding.
 * The check trains the library's AdamW (GD_ADAMW) and your step side by side on a noisy
 * quadratic for 300 updates, for several settings, and compares the weights (relative
 * 1e-4) -- and Adam + L2 (weight decay through the gradient) is a different optimizer.
 */
#include "adamw.h"

#include <math.h>

void ex_adamw_step(const gd_hparams *hp, long t, float *w, const float *g, float *m, float *v, size_t n)
{
    /* BEGIN SOLUTION 6.2 */
    double bc1 = 1.0 - pow(hp->beta1, (double)t), bc2 = 1.0 - pow(hp->beta2, (double)t);
    for (size_t i = 0; i < n; i++) {
        double wi = w[i] * (1.0 - hp->lr * hp->weight_decay);                   /* w = w - lr*wd*w */
        m[i] = (float)(hp->beta1 * m[i] + (1.0 - hp->beta1) * g[i]);            /* m = b1 m + (1-b1) g */
        v[i] = (float)(hp->beta2 * v[i] + (1.0 - hp->beta2) * (double)g[i] * g[i]); /* v = b2 v + (1-b2) g^2 */
        double mhat = m[i] / bc1, vhat = v[i] / bc2;
        w[i] = (float)(wi - hp->lr * mhat / (sqrt(vhat) + hp->eps));             /* w = w - lr m_hat/(sqrt(v_hat)+eps) */
    }
    /* END SOLUTION 6.2 */
    /* STUB 6.2: (void)hp; (void)t; (void)w; (void)g; (void)m; (void)v; (void)n; */
    /* WRONG 6.2: double bc1 = 1.0 - pow(hp->beta1, (double)t), bc2 = 1.0 - pow(hp->beta2, (double)t); */
    /* WRONG 6.2: for (size_t i = 0; i < n; i++) { */
    /* WRONG 6.2:     double gi = g[i] + hp->weight_decay * w[i]; */
    /* WRONG 6.2:     m[i] = (float)(hp->beta1 * m[i] + (1.0 - hp->beta1) * gi); */
    /* WRONG 6.2:     v[i] = (float)(hp->beta2 * v[i] + (1.0 - hp->beta2) * gi * gi); */
    /* WRONG 6.2:     w[i] = (float)(w[i] - hp->lr * (m[i] / bc1) / (sqrt(v[i] / bc2) + hp->eps)); */
    /* WRONG 6.2: } */
}

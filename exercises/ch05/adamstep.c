/* adamstep.c -- Exercise 5.1 (Chapter 5, §5.2): Adam's first step, and the step after a
 * silence.
 *
 * Write ex_adam_step_after_zeros (adamstep.h): a coordinate has gradient 0 at steps
 * 1, ..., k and a gradient g != 0 at step t = k + 1. Return the size of Adam's update of
 * that coordinate at step t, |theta_t - theta_{t-1}|, divided by the learning rate, with
 * eps taken as 0. Adam as Kingma & Ba (2015, Algorithm 1) and PyTorch's torch.optim.Adam
 * write it, and as the chapter's §5.2 does:
 *     m_t = beta1 m_{t-1} + (1 - beta1) g_t        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
 *     m_hat = m_t / (1 - beta1^t)                  v_hat = v_t / (1 - beta2^t)
 *     theta_t = theta_{t-1} - lr m_hat / (sqrt(v_hat) + eps),   m_0 = v_0 = 0.
 * Shapes: scalars only. k >= 0; 0 <= beta1 < 1, 0 <= beta2 < 1.
 * The answer does not depend on g (derive why: that is the written part). The check runs
 * the library's Adam (lib/optim.h, GD_ADAM, eps 1e-30) on one coordinate through k zero
 * gradients and one nonzero one, and compares the measured update with your function for
 * several k and betas, to a relative 1e-3.
 */
#include "adamstep.h"

#include <math.h>

double ex_adam_step_after_zeros(long k, double beta1, double beta2)
{
    /* BEGIN SOLUTION 5.1 */
    /* m_t = (1-beta1) g and v_t = (1-beta2) g^2 (the zeros left both at 0), t = k + 1 */
    double t = (double)k + 1.0;
    double m_hat = (1.0 - beta1) / (1.0 - pow(beta1, t));          /* m_hat / g */
    double v_hat = (1.0 - beta2) / (1.0 - pow(beta2, t));          /* v_hat / g^2 */
    return m_hat / sqrt(v_hat);
    /* END SOLUTION 5.1 */
    /* STUB 5.1: (void)k; (void)beta1; (void)beta2; */
    /* STUB 5.1: return NAN; */
    /* WRONG 5.1: (void)k; return (1.0 - beta1) / sqrt(1.0 - beta2); */
}

/* Exercise 5.2 (Chapter 5, §5.2): how large can one Adam step be?
 *
 * Write ex_adam_cs_bound (adamstep.h). With bias correction, m_hat_t = sum_k a_k g_k and
 * v_hat_t = sum_k b_k g_k^2 over k = 1..t, with weights a_k, b_k > 0 you work out from the
 * recursions above. Show with the Cauchy-Schwarz inequality that, whatever the gradients,
 *     |m_hat_t| / sqrt(v_hat_t) <= sqrt(sum_k a_k^2 / b_k),
 * sum the series in closed form, and return the bound for step t (eps taken as 0). The
 * written part: the proof, the closed form, its value at t = 1 and as t -> infinity for
 * Adam's defaults, the gradients for which it is an equality, and why they are rare.
 * Shapes: scalars. t >= 1; 0 <= beta1 < 1, beta1^2 < beta2 < 1.
 * The check feeds the library's Adam (eps 1e-30) gradients of the kind that attain the
 * bound, measures |theta_t - theta_{t-1}| / lr, and compares to a relative 1e-3 for
 * several t and betas; it also checks that random gradients never exceed your bound.
 */
double ex_adam_cs_bound(long t, double beta1, double beta2)
{
    /* BEGIN SOLUTION 5.2 */
    /* a_k = (1-b1) b1^(t-k) / (1-b1^t), b_k = (1-b2) b2^(t-k) / (1-b2^t);
     * sum a_k^2/b_k = (1-b1)^2/(1-b2) (1-b2^t)/(1-b1^t)^2 sum_{j<t} r^j, r = b1^2/b2 */
    double tt = (double)t, r = beta1 * beta1 / beta2;
    double s = (1.0 - pow(r, tt)) / (1.0 - r);
    return (1.0 - beta1) / sqrt(1.0 - beta2) * sqrt(1.0 - pow(beta2, tt)) / (1.0 - pow(beta1, tt)) * sqrt(s);
    /* END SOLUTION 5.2 */
    /* STUB 5.2: (void)t; (void)beta1; (void)beta2; */
    /* STUB 5.2: return NAN; */
    /* WRONG 5.2: (void)t; return (1.0 - beta1) / sqrt(1.0 - beta2); */
}

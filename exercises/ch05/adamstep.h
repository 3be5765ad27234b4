/* adamstep.h -- Exercises 5.1 and 5.2 (Chapter 5, §5.2): the size of Adam's update after k
 * zero gradients, and the largest update any gradients can produce, in units of the
 * learning rate. See adamstep.c. */
#ifndef EX_CH05_ADAMSTEP_H
#define EX_CH05_ADAMSTEP_H

/* |theta_t - theta_{t-1}| / lr for a coordinate whose gradients were 0 at steps 1..k and
 * g != 0 at step t = k + 1, Adam with bias correction (Kingma & Ba 2015, Algorithm 1),
 * eps taken as 0. k >= 0 (k = 0: the first step); 0 <= beta1, beta2 < 1. */
double ex_adam_step_after_zeros(long k, double beta1, double beta2);

/* Exercise 5.2: the Cauchy-Schwarz bound sqrt(sum_k a_k^2 / b_k) on |m_hat_t| / sqrt(v_hat_t)
 * at step t >= 1, for any gradients g_1..g_t (eps taken as 0); beta1^2 < beta2 < 1. */
double ex_adam_cs_bound(long t, double beta1, double beta2);

#endif

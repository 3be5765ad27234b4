/* warmup.c -- Exercise 5.3 (Chapter 5, §5.1): warmups for every parameter group.
 *
 * (a) Write ex_warmup_apply (warmup.h), the warmup of §5.1 as a function a training loop
 * calls before each update, without the library's schedule language:
 *     lr_t = lr0 * (S + (1 - S) * min(1, t/T)),   t = 0, 1, 2, ...
 * for every parameter group of the optimizer, where lr0 is that group's initial lr (the
 * lr it was added with: gd_optim_initial_lr), S = start and T the warmup's length in
 * updates; T = 0 means no warmup (lr_t = lr0). S = 0 is Hugging Face's
 * get_linear_schedule_with_warmup (the first update has lr 0), S = 1/k Goyal et al.'s
 * recipe (§5.6). Shapes: opt has gd_optim_ngroups(opt) >= 1 groups, each with its own
 * initial lr; t >= 0, T >= 0, 0 <= start <= 1. Use lib/optim.h's gd_optim_ngroups,
 * gd_optim_initial_lr and gd_optim_set_lr; compute t/T in double. The function may be
 * called several times for the same t (it must not compound) and for any t in any order.
 * The loop it goes in:
 *     for (long t = 0; t < steps; t++) {
 *         ... zero_grad, forward, backward ...
 *         ex_warmup_apply(opt, t, 500, 0.0);
 *         gd_optim_step(opt);
 *     }
 * (b) Write ex_warmup_exp_apply (warmup.h): the exponential warmup of Ma & Yarats (2021),
 *     lr_t = lr0 * (1 - exp(-t/tau)),   t = 0, 1, 2, ...
 * which the library's schedules do not have (their kind=exp is a geometric ramp); tau =
 * 1/(1 - beta2) is the authors' untuned choice. Same groups, same rules as (a).
 * The check compares every group's lr with the library's schedule "warmup:T=T:start=S"
 * (lib/sched.h, gd_sched_lr) at every step, and the exponential one with 1 minus the
 * library's exponential decay "exp:gamma=..."; and it trains an optimizer with three
 * groups on a quadratic under your warmup and under gd_sched_apply: the weights must agree.
 */
#include "warmup.h"

#include <math.h>

void ex_warmup_apply(gd_optim *opt, long t, long T, double start)
{
    /* BEGIN SOLUTION 5.3 */
    double u = T > 0 ? fmin(1.0, (double)t / (double)T) : 1.0;     /* fraction of the warmup done */
    for (int g = 0; g < gd_optim_ngroups(opt); g++)
        gd_optim_set_lr(opt, g, gd_optim_initial_lr(opt, g) * (start + (1.0 - start) * u));
    /* END SOLUTION 5.3 */
    /* STUB 5.3: (void)opt; (void)t; (void)T; (void)start; */
    /* WRONG 5.3: double u = T > 0 ? fmin(1.0, (double)(t + 1) / (double)T) : 1.0; */
    /* WRONG 5.3: for (int g = 0; g < gd_optim_ngroups(opt); g++) */
    /* WRONG 5.3:     gd_optim_set_lr(opt, g, gd_optim_initial_lr(opt, g) * (start + (1.0 - start) * u)); */
}

void ex_warmup_exp_apply(gd_optim *opt, long t, double tau)
{
    /* BEGIN SOLUTION 5.3 */
    for (int g = 0; g < gd_optim_ngroups(opt); g++)
        gd_optim_set_lr(opt, g, gd_optim_initial_lr(opt, g) * (1.0 - exp(-(double)t / tau)));
    /* END SOLUTION 5.3 */
    /* STUB 5.3: (void)opt; (void)t; (void)tau; */
    /* WRONG 5.3: for (int g = 0; g < gd_optim_ngroups(opt); g++) */
    /* WRONG 5.3:     gd_optim_set_lr(opt, g, gd_optim_lr(opt, g) * (1.0 - exp(-(double)t / tau))); */
}

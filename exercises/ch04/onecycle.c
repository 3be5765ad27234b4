/* onecycle.c -- Exercise 4.4 (Chapter 4, §4.3): the one-cycle schedule, as PyTorch's
 * OneCycleLR computes it (two phases, cosine annealing; Smith and Topin 2019;
 * https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html).
 *
 * Write ex_onecycle: the lr of update t (t = 0 the first) of a run of `total` updates,
 * OneCycleLR(max_lr, total_steps=total, pct_start=pct, anneal_strategy='cos',
 * div_factor=div, final_div_factor=final_div, three_phase=False):
 *   initial = max_lr / div,   min_lr = initial / final_div;
 *   phase 1 anneals from initial to max_lr and ENDS AT STEP pct * total - 1 (a real
 *   number, PyTorch's float end_step); phase 2 anneals from max_lr to min_lr, from there
 *   to step total - 1. A phase running from step s to step e (s = 0 for phase 1) is at
 *   the fraction p = (t - s) / (e - s), and the cosine anneal from A to B gives
 *       B + (A - B) (1 + cos(pi p)) / 2 ;
 *   phase 1 covers t <= its end, phase 2 the rest.
 *   - t >= total - 1: the final value, min_lr (the library holds it; PyTorch raises an
 *     error after total steps).
 * total >= 2; 0 < pct < 1 with pct * total > 1; max_lr > 0; div, final_div >= 1.
 * The check compares your lr with the library's `onecycle` term (gd_sched_lr) at every
 * step of several runs, to 1e-12 of max_lr.
 */
#include "onecycle.h"

#include <math.h>

double ex_onecycle(long t, long total, double max_lr, double pct, double div, double final_div)
{
    /* BEGIN SOLUTION 4.4 */
    double initial = max_lr / div, min_lr = initial / final_div;
    double end1 = pct * (double)total - 1, end2 = (double)total - 1;  /* PyTorch's end_step */
    double step = (double)(t < total - 1 ? t : total - 1);
    double a, b, p;
    if (step <= end1) a = initial, b = max_lr, p = step / end1;
    else a = max_lr, b = min_lr, p = (step - end1) / (end2 - end1);
    return b + (a - b) * (1.0 + cos(M_PI * p)) / 2.0;                /* cos anneal from a to b */
    /* END SOLUTION 4.4 */
    /* STUB 4.4: (void)t; (void)total; (void)max_lr; (void)pct; (void)div; (void)final_div; */
    /* STUB 4.4: return NAN; */
    /* WRONG 4.4: double initial = max_lr / div, min_lr = initial / final_div; */
    /* WRONG 4.4: double end1 = pct * (double)total, end2 = (double)total; */
    /* WRONG 4.4: double step = (double)(t < total ? t : total), a, b, p; */
    /* WRONG 4.4: if (step <= end1) a = initial, b = max_lr, p = step / end1; */
    /* WRONG 4.4: else a = max_lr, b = min_lr, p = (step - end1) / (end2 - end1); */
    /* WRONG 4.4: return b + (a - b) * (1.0 + cos(M_PI * p)) / 2.0; */
}

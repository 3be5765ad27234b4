/* warmcos.c -- Exercise 4.2 (Chapter 4, §4.3): linear warmup, then cosine decay.
 *
 * The schedule of most transformer recipes (Goyal et al. 2017 for the warmup; Loshchilov
 * and Hutter 2017, PyTorch's CosineAnnealingLR, for the cosine), as lib/sched.h writes it:
 * "warmup:T=W,cosine:T=(total-W):min=MIN". Write ex_warmup_cosine: the lr of update t
 * (t = 0 is the first update) for a run of `total` updates whose first `warmup` are a
 * linear warmup from 0, with base lr `base`:
 *   - t < warmup:             rises linearly from 0 at t = 0 towards base (it would
 *                             reach base at t = warmup);
 *   - warmup <= t <= total:   a half cosine from base at t = warmup down to min_lr at
 *                             t = total;
 *   - t > total:              holds min_lr (the book's cosine holds; PyTorch's rises
 *                             again).
 * 1 <= warmup < total; base > 0; 0 <= min_lr <= base; t >= 0.
 * The check compares your lr with the library's (gd_sched_lr) at every step of several
 * runs, to 1e-12 of base.
 */
#include "warmcos.h"

#include <math.h>

double ex_warmup_cosine(long t, long warmup, long total, double base, double min_lr)
{
    /* BEGIN SOLUTION 4.2 */
    if (t < warmup) return base * (double)t / (double)warmup;             /* base t / W */
    if (t >= total) return min_lr;
    double u = (double)(t - warmup) / (double)(total - warmup);           /* 0 .. 1 after the warmup */
    return min_lr + (base - min_lr) * (1.0 + cos(M_PI * u)) / 2.0;       /* min + (base-min)(1+cos(pi u))/2 */
    /* END SOLUTION 4.2 */
    /* STUB 4.2: (void)t; (void)warmup; (void)total; (void)base; (void)min_lr; */
    /* STUB 4.2: return NAN; */
    /* WRONG 4.2: if (t < warmup) return base * (double)t / (double)warmup; */
    /* WRONG 4.2: if (t >= total) return min_lr; */
    /* WRONG 4.2: return min_lr + (base - min_lr) * (1.0 + cos(M_PI * (double)t / (double)total)) / 2.0; */
}

/* warmup.h -- Exercise 5.3 (Chapter 5, §5.1): a linear warmup and Ma & Yarats' exponential
 * one, for every parameter group of an optimizer. See warmup.c. */
#ifndef EX_CH05_WARMUP_H
#define EX_CH05_WARMUP_H

#include "optim.h"

/* Set the lr of every group of opt for update t (t = 0: the first update) to that group's
 * initial lr times start + (1 - start) min(1, t/T). T = 0: no warmup (the initial lr).
 * t >= 0, T >= 0, 0 <= start <= 1. */
void ex_warmup_apply(gd_optim *opt, long t, long T, double start);

/* Set the lr of every group for update t to its initial lr times 1 - exp(-t/tau).
 * t >= 0, tau > 0. */
void ex_warmup_exp_apply(gd_optim *opt, long t, double tau);

#endif

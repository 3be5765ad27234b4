/* adamw.h -- Exercise 6.2 (Chapter 6, §6.6): one AdamW update. See adamw.c. */
#ifndef EX_CH06_ADAMW_H
#define EX_CH06_ADAMW_H

#include <stddef.h>
#include "optim.h"

/* One AdamW update (torch.optim.AdamW, amsgrad and maximize off) of the n weights w from
 * their gradient g, with the moments m and v (zero before the first update) and the
 * update's number t (1 for the first). Reads hp->lr, beta1, beta2, eps, weight_decay. */
void ex_adamw_step(const gd_hparams *hp, long t, float *w, const float *g, float *m, float *v, size_t n);

#endif

/* warmcos.h -- Exercise 4.2: linear warmup followed by cosine decay. See warmcos.c. */
#ifndef EX_WARMCOS_H
#define EX_WARMCOS_H

double ex_warmup_cosine(long t, long warmup, long total, double base, double min_lr);

#endif

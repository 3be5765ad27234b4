/* onecycle.h -- Exercise 4.4: PyTorch's OneCycleLR. See onecycle.c. */
#ifndef EX_ONECYCLE_H
#define EX_ONECYCLE_H

double ex_onecycle(long t, long total, double max_lr, double pct, double div, double final_div);

#endif

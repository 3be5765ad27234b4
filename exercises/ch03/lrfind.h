/* lrfind.h -- Exercise 3.2: fastai's suggestions from a range-test curve. See lrfind.c. */
#ifndef EX_LRFIND_H
#define EX_LRFIND_H

double ex_lr_valley(const double *lrs, const double *losses, int n);
double ex_lr_steep(const double *lrs, const double *losses, int n);

#endif

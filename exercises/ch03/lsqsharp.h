/* lsqsharp.h -- Exercise 3.1: the sharpness of linear least squares. See lsqsharp.c. */
#ifndef EX_LSQSHARP_H
#define EX_LSQSHARP_H

double ex_lsq_sharpness(const double *X, int N, int D, int K);

#endif

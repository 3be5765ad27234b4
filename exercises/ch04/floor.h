/* floor.h -- Exercise 4.1: the noise floor of SGD with momentum. See floor.c. */
#ifndef EX_FLOOR_H
#define EX_FLOOR_H

double ex_momentum_floor(double eta, double sigma2, double lambda, double beta);

#endif

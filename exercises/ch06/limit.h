/* limit.h -- Exercise 6.1 (Chapter 6, §6.2): the stability limit of SGD with momentum and
 * dampening on a quadratic. See limit.c. */
#ifndef EX_CH06_LIMIT_H
#define EX_CH06_LIMIT_H

/* The largest learning rate at which PyTorch's SGD with momentum beta and dampening d
 * (nesterov off) converges on f(theta) = L theta^2 / 2. 0 <= beta < 1, 0 <= d < 1, L > 0. */
double ex_momentum_limit(double beta, double dampening, double L);

#endif

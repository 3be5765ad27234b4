/* limits.h -- Exercise 1.1: the stable range, the best fixed step and its rate of
 * gradient descent on a quadratic whose Hessian has eigenvalues in [mu, L]. */
#ifndef EX_CH01_LIMITS_H
#define EX_CH01_LIMITS_H

/* The largest learning rate for which gradient descent converges from every start
 * (the supremum of the stable range). */
double ex_gd_max_lr(double mu, double L);
/* The learning rate that minimises the contraction factor rho(lr). */
double ex_gd_best_lr(double mu, double L);
/* rho at that learning rate: the error shrinks by this factor per step. */
double ex_gd_best_rate(double mu, double L);

#endif

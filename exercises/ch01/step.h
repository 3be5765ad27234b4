/* step.h -- Exercise 1.2: one step of gradient descent on a quadratic, and its loss. */
#ifndef EX_CH01_STEP_H
#define EX_CH01_STEP_H

#define EX_GD_MAXDIM 64   /* largest d the functions must handle */

/* f(theta) = 1/2 theta^T A theta, A (d, d) row-major, theta (d). */
double ex_quad_loss(const double *A, const double *theta, int d);
/* One gradient-descent step in place: theta <- theta - lr * A theta. */
void ex_gd_step(double *theta, const double *A, int d, double lr);

#endif

/* power.h -- Exercise 3.4: the sharpness from gradients alone. See power.c. */
#ifndef EX_POWER_H
#define EX_POWER_H

/* The gradient of the loss at w (P numbers) into g; ctx is passed through. */
typedef void (*ex_grad_fn)(const double *w, double *g, int P, void *ctx);

double ex_sharpness(ex_grad_fn grad, void *ctx, const double *w, int P);

#endif

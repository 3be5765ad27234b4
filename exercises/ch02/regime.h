/* regime.h -- Exercise 2.2: too low, just right or too high, from the loss curve. */
#ifndef EX_CH02_REGIME_H
#define EX_CH02_REGIME_H

enum { EX_TOO_LOW = 0, EX_JUST_RIGHT = 1, EX_TOO_HIGH = 2 };

/* loss[0..n): the minibatch training loss of every step of a run of `planned` steps
 * (n < planned when the run was stopped early; values may be inf or NaN). Returns
 * EX_TOO_LOW, EX_JUST_RIGHT or EX_TOO_HIGH. */
int ex_regime(const double *loss, int n, int planned);

#endif

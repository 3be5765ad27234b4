/* early.h -- Exercise 7.1: the early-stopping rule (see early.c). */
#ifndef EX_CH07_EARLY_H
#define EX_CH07_EARLY_H

/* Replay early stopping on n evaluations' metrics m[0..n-1]. maximize: 0 for mode=min
 * (a loss), 1 for mode=max (an accuracy). Returns the index of the evaluation at which
 * the stop fires, or -1 if it never does; *best gets the index of the best evaluation
 * (the last one that counted as an improvement, the weights that would be restored), or
 * -1 if none did. */
int ex_early_stop(const double *m, int n, int maximize, double min_delta, int patience, int *best);

#endif

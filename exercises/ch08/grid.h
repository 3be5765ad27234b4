/* grid.h -- Exercise 8.1: the log-spaced grid of a sweep and its refinement (see grid.c). */
#ifndef EX_CH08_GRID_H
#define EX_CH08_GRID_H

/* The rates of the range LO:HI:PER_DECADE, ascending, into out (at most cap of them).
 * Returns how many there are, or -1 if more than cap. */
int ex_log_grid(double lo, double hi, int per_decade, double *out, int cap);

/* The refinement around a coarse sweep's best rate: the quarter-decade rates either
 * side of it, out[0] < best < out[1]. */
void ex_refine(double best, double out[2]);

#endif

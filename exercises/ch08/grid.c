/* grid.c -- Exercise 8.1 (Chapter 8, §8.2, §8.9 and §8.10): the log-spaced grid of a
 * sweep, and the refinement around its best.
 *
 * A learning-rate sweep is logarithmic (§8.2): "1e-4:1:4" means from 1e-4 to 1, four
 * points per decade. Write ex_log_grid (grid.h) so that it gives exactly the rates that
 * lib/sweep.h (and with it tools/sweep and lrtune --grid) gives for LO:HI:PER_DECADE:
 *   - the i-th rate is 10^(log10(lo) + i / per_decade), i = 0, 1, 2, ...: it starts at
 *     lo and takes equal steps in log10;
 *   - it goes up to hi, and includes hi when hi lies on the grid (allow for rounding:
 *     log10(1) - log10(1e-4) need not come out as exactly 4 in floating point, so count
 *     the steps with a little slack, 1e-9 of a step, before rounding down);
 *   - each rate is rounded to 3 significant digits (10^(1/4) = 1.7782... becomes 1.78,
 *     0.0031622... becomes 0.00316), the way the rates are written in the tables.
 * Shapes: 0 < lo <= hi; 1 <= per_decade <= 100; out has room for cap doubles. Return the
 * number of rates (write them to out, ascending), or -1 if there are more than cap.
 * Source: the header comment of lib/sweep.h ("THE GRID"). The check compares your rates
 * with those gd_sweep_set_lr makes from the same text, on a few hundred ranges.
 *
 * Then write ex_refine: lrtune's coarse sweep uses the half-decade lattice {1, 3.16} x
 * 10^k, and its refinement (§8.9, step 3) adds the two quarter-decade rates on either
 * side of the coarse best: for best = 0.01 they are 10^(-2 -+ 1/4) = 0.00562 and 0.0178.
 * Write them to out[0] (below) and out[1] (above), rounded to 3 significant digits like
 * every rate of the grids. best is a rate of the lattice as written (3 significant
 * digits: 0.0316 stands for 10^-1.5). The check compares them with the neighbours of best
 * in lib/sweep.h's quarter-decade grid, for every lattice rate from 1e-6 to 10.
 */
#include "grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int ex_log_grid(double lo, double hi, int per_decade, double *out, int cap)
{
    /* BEGIN SOLUTION 8.1 */
    long count = (long)floor(per_decade * log10(hi / lo) + 1e-9) + 1;
    if (count > cap) return -1;
    for (long i = 0; i < count; i++) {
        char text[32];
        snprintf(text, sizeof text, "%.3g", pow(10.0, log10(lo) + (double)i / per_decade));
        out[i] = strtod(text, NULL);
    }
    return (int)count;
    /* END SOLUTION 8.1 */
    /* STUB 8.1: (void)lo; (void)hi; (void)per_decade; (void)out; (void)cap; */
    /* STUB 8.1: return 0; */
    /* WRONG 8.1: long count = (long)floor(per_decade * log10(hi / lo)); */
    /* WRONG 8.1: if (count > cap) return -1; */
    /* WRONG 8.1: for (long i = 0; i < count; i++) { */
    /* WRONG 8.1:     char text[32]; */
    /* WRONG 8.1:     snprintf(text, sizeof text, "%.3g", pow(10.0, log10(lo) + (double)i / per_decade)); */
    /* WRONG 8.1:     out[i] = strtod(text, NULL); */
    /* WRONG 8.1: } */
    /* WRONG 8.1: return (int)count; */
}

void ex_refine(double best, double out[2])
{
    /* BEGIN SOLUTION 8.1 */
    long j = lround(4 * log10(best));                  /* best = 10^(j/4), rounded */
    for (int s = 0; s < 2; s++) {
        char text[32];
        snprintf(text, sizeof text, "%.3g", pow(10.0, (double)(j + (s ? 1 : -1)) / 4));
        out[s] = strtod(text, NULL);
    }
    /* END SOLUTION 8.1 */
    /* STUB 8.1: (void)best; */
    /* STUB 8.1: out[0] = out[1] = NAN; */
    /* WRONG 8.1: out[0] = best / 1.78; */
    /* WRONG 8.1: out[1] = best * 1.78; */
}

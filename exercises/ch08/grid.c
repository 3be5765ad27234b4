/* grid.c -- Exercise 8.1 (Chapter 8, §8.2 and §8.10): the log-spaced grid of a sweep.
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

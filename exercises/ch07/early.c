/* early.c -- Exercise 7.1 (Chapter 7, §7.2): the early-stopping rule, written out.
 *
 * Write ex_early_stop (early.h): given the metric of each evaluation in order, m[0..n-1],
 * say at which evaluation early stopping fires and which evaluation it restores. The
 * semantics are those of Keras' and PyTorch Lightning's EarlyStopping as lib/monitor.h
 * describes them (read its header comment, not its code):
 *   - mode min (maximize 0): m[k] improves when m[k] < best - min_delta; mode max
 *     (maximize 1): when m[k] > best + min_delta. Strict, absolute. best starts at +inf
 *     (min) or -inf (max), so the first finite metric is always an improvement.
 *   - an improvement sets best = m[k], remembers k and resets the wait counter;
 *   - any other evaluation adds one to the wait counter, and the stop fires when the
 *     counter reaches patience (so patience 0 and 1 both stop at the first evaluation
 *     that does not improve);
 *   - a metric that is not finite (NaN, inf) never improves and stops the run at once
 *     (check_finite, on by default).
 * Shapes: m has n >= 0 entries; min_delta >= 0; patience >= 0. Return the index of the
 * evaluation at which the stop fires (-1: it never fires within the n), and set *best to
 * the index of the last improvement (-1: none).
 * The check replays lib/monitor.c's gd_early (gd_early_observe) on a few thousand metric
 * sequences -- falling, rising, noisy, with ties and NaNs, both modes -- and compares.
 */
#include "early.h"

#include <math.h>

int ex_early_stop(const double *m, int n, int maximize, double min_delta, int patience, int *best)
{
    /* BEGIN SOLUTION 7.1 */
    double b = maximize ? -INFINITY : INFINITY;
    int wait = 0;
    *best = -1;
    for (int k = 0; k < n; k++) {
        int better = isfinite(m[k]) && (maximize ? m[k] > b + min_delta : m[k] < b - min_delta);
        if (better) {
            b = m[k];
            *best = k;
            wait = 0;
            continue;
        }
        wait++;
        if (wait >= patience || !isfinite(m[k])) return k;
    }
    return -1;
    /* END SOLUTION 7.1 */
    /* STUB 7.1: (void)m; (void)n; (void)maximize; (void)min_delta; (void)patience; */
    /* STUB 7.1: *best = -1; */
    /* STUB 7.1: return -2; */
    /* WRONG 7.1: double b = maximize ? -INFINITY : INFINITY; */
    /* WRONG 7.1: int wait = 0; */
    /* WRONG 7.1: *best = -1; */
    /* WRONG 7.1: for (int k = 0; k < n; k++) { */
    /* WRONG 7.1:     if (isfinite(m[k]) && (maximize ? m[k] > b + min_delta : m[k] < b - min_delta)) { */
    /* WRONG 7.1:         b = m[k], *best = k, wait = 0; */
    /* WRONG 7.1:         continue; */
    /* WRONG 7.1:     } */
    /* WRONG 7.1:     if (++wait > patience || !isfinite(m[k])) return k; */
    /* WRONG 7.1: } */
    /* WRONG 7.1: return -1; */
}

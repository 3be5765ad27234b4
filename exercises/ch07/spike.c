/* spike.c -- Exercise 7.2 (Chapter 7, §7.3): the spike detector that triggers a back-off.
 *
 * Write ex_spike_flags (spike.h): go through the step losses loss[0..n-1] in order and
 * mark each as a spike (flags[i] = 1) or not (0), by the rule of §7.3 and lib/monitor.h:
 *   - loss[i] is a spike when it is not finite, or when it is more than `threshold`
 *     times the MEDIAN of the accepted losses in the window (strictly more: loss >
 *     threshold * median); with an empty window only a non-finite loss is a spike;
 *   - a loss that is not a spike is accepted: it joins the window, which keeps the last
 *     `window` accepted losses (the oldest leaves when it is full);
 *   - a spike never joins the window (so a burst of spikes cannot raise the bar);
 *   - the median of an even number of values is the mean of the middle two.
 * Shapes: n >= 0; window >= 1 (at most 1000); threshold > 1; flags has n entries.
 * Return the number of spikes. (gd_fit then rolls back and halves the lr on each; here
 * only the detector is asked for.)
 * The check feeds the same sequences to lib/monitor.c's gd_spike_check -- noisy falling
 * losses with planted single spikes, bursts of spikes, NaNs and infinities, even and
 * odd windows -- and compares every flag.
 */
#include "spike.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* BEGIN SOLUTION 7.2 */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *ring, int n)
{
    double tmp[1000];
    memcpy(tmp, ring, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}
/* END SOLUTION 7.2 */

int ex_spike_flags(const double *loss, int n, int window, double threshold, int *flags)
{
    /* BEGIN SOLUTION 7.2 */
    double ring[1000];
    int have = 0, head = 0, spikes = 0;
    for (int i = 0; i < n; i++) {
        int spike = !isfinite(loss[i]) || (have > 0 && loss[i] > threshold * median(ring, have));
        flags[i] = spike;
        if (spike) {
            spikes++;
            continue;
        }
        ring[head] = loss[i];
        head = (head + 1) % window;
        if (have < window) have++;
    }
    return spikes;
    /* END SOLUTION 7.2 */
    /* STUB 7.2: (void)loss; (void)window; (void)threshold; */
    /* STUB 7.2: for (int i = 0; i < n; i++) flags[i] = -1; */
    /* STUB 7.2: return -1; */
    /* WRONG 7.2: double ring[1000], sum = 0; */
    /* WRONG 7.2: int have = 0, head = 0, spikes = 0; */
    /* WRONG 7.2: for (int i = 0; i < n; i++) { */
    /* WRONG 7.2:     int spike = !isfinite(loss[i]) || (have > 0 && loss[i] > threshold * sum / have); */
    /* WRONG 7.2:     flags[i] = spike; */
    /* WRONG 7.2:     spikes += spike; */
    /* WRONG 7.2:     if (!isfinite(loss[i])) continue; */
    /* WRONG 7.2:     if (have == window) sum -= ring[head]; */
    /* WRONG 7.2:     ring[head] = loss[i], sum += loss[i]; */
    /* WRONG 7.2:     head = (head + 1) % window; */
    /* WRONG 7.2:     if (have < window) have++; */
    /* WRONG 7.2: } */
    /* WRONG 7.2: return spikes; */
}

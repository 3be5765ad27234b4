/* spike.h -- Exercise 7.2: the spike detector of the back-off rule (see spike.c). */
#ifndef EX_CH07_SPIKE_H
#define EX_CH07_SPIKE_H

/* Mark the spikes among n step losses loss[0..n-1]: flags[i] = 1 if loss[i] is a spike,
 * else 0, with a window of `window` accepted losses and the given threshold. Returns the
 * number of spikes. */
int ex_spike_flags(const double *loss, int n, int window, double threshold, int *flags);

#endif

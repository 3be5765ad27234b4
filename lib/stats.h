/* stats.h -- what holds across seeds: the median and the range of a handful of runs.
 *
 * The book states every result that rests on training over several seeds (one
 * floating-point trajectory is not a fact): a median with its range, or "k of N".
 *
 *   double acc[5] = {...};                      // one value per seed
 *   gd_stats s = gd_stats_of(acc, 5);           // s.median, s.min, s.max, s.n
 *   printf("%.1f %% (%.1f to %.1f)", s.median, s.min, s.max);
 *
 * NaN values (a run that diverged and has no value) are left out and counted in
 * s.nan; the input is not modified. Median of an even count: the mean of the two
 * middle values (numpy.median). Quantiles: linear interpolation between order
 * statistics (numpy.quantile's default, method "linear").
 */
#ifndef GD_STATS_H
#define GD_STATS_H

typedef struct gd_stats {
    int n;            /* finite values */
    int nan;          /* NaN values left out */
    double median, min, max, mean;
} gd_stats;

/* Summary of the finite values of v[0..n); with none, every field but nan is NaN (n 0). */
gd_stats gd_stats_of(const double *v, int n);
/* The q-quantile (0 <= q <= 1) of the finite values of v[0..n); NaN if there are none. */
double gd_quantile(const double *v, int n, double q);
/* How many of v[0..n) satisfy lo <= v[i] <= hi. */
int gd_count_between(const double *v, int n, double lo, double hi);

#endif

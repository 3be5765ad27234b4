/* lrfind.c -- Exercise 3.2 (Chapter 3, §3.3): fastai's valley and steep suggestions.
 *
 * A range test (chapters/03-choosing/rangetest.c) ramps the lr exponentially and records
 * the smoothed training loss at each lr; fastai's Learner.lr_find then drops the first
 * tenth and the last five points and suggests an lr from the rest
 * (fastai/callback/schedule.py, v2.7, functions `valley` and `steep`). You get the
 * trimmed curve: lrs[0..n) increasing, losses[0..n) the smoothed losses, n >= 2.
 *
 * ex_lr_steep: the lr where the loss falls fastest per unit of log(lr): with
 *     g[i] = (losses[i+1] - losses[i]) / (log(lrs[i+1]) - log(lrs[i])),  i = 0 .. n-2,
 *   return lrs[i] at the FIRST i where g[i] is smallest.
 *
 * ex_lr_valley: fastai's default. lds[i] is the length of the longest strictly decreasing
 *   subsequence of losses that ends at i (not necessarily contiguous). fastai computes it
 *   with two loops, and keeps track of the end of the longest one as it goes:
 *       lds[i] = 1 for all i;  max_start = max_end = 0
 *       for i = 1 .. n-1:
 *           for j = 0 .. i-1:
 *               if losses[i] < losses[j] and lds[i] < lds[j] + 1:  lds[i] = lds[j] + 1
 *               if lds[max_end] < lds[i]:  max_end = i;  max_start = max_end - lds[max_end]
 *       sections = (max_end - max_start) / 3        (a real number)
 *       idx = max_start + int(sections) + int(sections / 2)
 *   and returns lrs[idx] (clamp idx to 0 .. n-1, as the chapter's program does).
 *   Follow it exactly, including where the second `if` sits (inside the inner loop)
 *   and how max_start is set: the check compares your suggestions with the chapter's
 *   program on fresh range tests, to 6 significant digits.
 */
#include "lrfind.h"

#include <math.h>
#include <stdlib.h>

double ex_lr_steep(const double *lrs, const double *losses, int n)
{
    /* BEGIN SOLUTION 3.2 */
    int is = 0;
    double gmin = INFINITY;
    for (int i = 0; i + 1 < n; i++) {
        double g = (losses[i + 1] - losses[i]) / (log(lrs[i + 1]) - log(lrs[i])); /* d loss / d log lr */
        if (g < gmin) gmin = g, is = i;
    }
    return lrs[is];
    /* END SOLUTION 3.2 */
    /* STUB 3.2: (void)lrs; (void)losses; (void)n; */
    /* STUB 3.2: return NAN; */
    /* WRONG 3.2: int is = 0; */
    /* WRONG 3.2: for (int i = 0; i + 1 < n; i++) if ((losses[i + 1] - losses[i]) / (lrs[i + 1] - lrs[i]) < (losses[is + 1] - losses[is]) / (lrs[is + 1] - lrs[is])) is = i; */
    /* WRONG 3.2: return lrs[is]; */
}

double ex_lr_valley(const double *lrs, const double *losses, int n)
{
    /* BEGIN SOLUTION 3.2 */
    int *lds = malloc((size_t)n * sizeof *lds);
    int max_start = 0, max_end = 0;
    for (int i = 0; i < n; i++) lds[i] = 1;
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) {
            if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
            if (lds[max_end] < lds[i]) {
                max_end = i;
                max_start = max_end - lds[max_end];
            }
        }
    double sections = (max_end - max_start) / 3.0;
    int idx = max_start + (int)sections + (int)(sections / 2);
    if (idx < 0) idx = 0;
    if (idx >= n) idx = n - 1;
    free(lds);
    return lrs[idx];
    /* END SOLUTION 3.2 */
    /* STUB 3.2: (void)lrs; (void)losses; (void)n; */
    /* STUB 3.2: return NAN; */
    /* WRONG 3.2: int start = 0, len = 1; */
    /* WRONG 3.2: for (int i = 1, s = 0; i < n; i++) { if (!(losses[i] < losses[i - 1])) s = i; if (i - s + 1 > len) len = i - s + 1, start = s; } */
    /* WRONG 3.2: return lrs[start + len / 2]; */
}

/* symptom.c -- Exercise 8.4 (Chapter 8, §8.8): the detection rules of the symptom table.
 *
 * Write ex_symptom (symptom.h): apply one of four rules of §8.8's table to the training
 * losses of one run, the way chapters/08-recipe/symptoms.c applies them (read the table
 * and the text of §8.8; the thresholds are the table's).
 *   loss[0..n-1]: the loss of each step, in order; the run was to take T steps and
 *     stopped early (n < T) only when a loss was not finite (that loss is loss[n-1]).
 *   lnC: ln C, C the number of classes (ln 10 for Fashion-MNIST).
 * The rules (the window means are plain means of the losses in them):
 *   EX_EXPLOSION  some complete 10-step window (steps 10w .. 10w+9, all among the n) has
 *                 a mean that is not finite or above 10 times the first loss, loss[0]
 *                 (train.h's divergence rule on 10-step windows);
 *   EX_STUCK      the run took all T steps, and the mean of the last tenth (steps
 *                 T - T/10 .. T-1, integer division) is within 0.1 nats of lnC
 *                 (strictly: |mean - lnC| < 0.1);
 *   EX_OSCILLATION  the run took all T steps, EX_EXPLOSION did not fire, and the mean of
 *                 the last quarter (steps 3T/4 .. T-1) is above the mean of the second
 *                 quarter (steps T/4 .. T/2-1): the loss went back up;
 *   EX_PLATEAU    the run took all T steps, EX_EXPLOSION did not fire, and the mean of the
 *                 last quarter is less than 10 % below the mean of the third quarter
 *                 (steps T/2 .. 3T/4-1): (q3 - q4) / q3 < 0.10.
 * Shapes: 1 <= n <= T; T >= 40. Return 1 if the rule fires, 0 if not.
 * The check runs ch08-symptoms (three of its cases, two seeds, 200 steps), gives your
 * function every run's logged losses (--curves) and compares each rule's verdict with the
 * program's own (the `symptom` column of --summary, and its diverged_at, final_loss,
 * gain and gain2 columns, from which the other rules' verdicts follow).
 */
#include "symptom.h"

#include <math.h>

/* BEGIN SOLUTION 8.4 */
static double mean_of(const double *v, long a, long b)
{
    double s = 0;
    for (long i = a; i < b; i++) s += v[i];
    return s / (double)(b - a);
}

static int exploded(const double *loss, long n)
{
    for (long w = 0; 10 * w + 10 <= n; w++) {
        double m = mean_of(loss, 10 * w, 10 * w + 10);
        if (!isfinite(m) || m > 10 * loss[0]) return 1;
    }
    return 0;
}
/* END SOLUTION 8.4 */

int ex_symptom(int rule, const double *loss, long n, long T, double lnC)
{
    /* BEGIN SOLUTION 8.4 */
    if (rule == EX_EXPLOSION) return exploded(loss, n);
    if (n < T) return 0;
    if (rule == EX_STUCK) return fabs(mean_of(loss, T - T / 10, T) - lnC) < 0.1;
    if (exploded(loss, n)) return 0;
    double q2 = mean_of(loss, T / 4, T / 2), q3 = mean_of(loss, T / 2, 3 * T / 4), q4 = mean_of(loss, 3 * T / 4, T);
    if (rule == EX_OSCILLATION) return q4 > q2;
    if (rule == EX_PLATEAU) return (q3 - q4) / q3 < 0.10;
    return 0;
    /* END SOLUTION 8.4 */
    /* STUB 8.4: (void)rule; (void)loss; (void)n; (void)T; (void)lnC; */
    /* STUB 8.4: return -1; */
    /* WRONG 8.4: double s = 0, q[4] = {0, 0, 0, 0}; */
    /* WRONG 8.4: if (rule == EX_EXPLOSION) { */
    /* WRONG 8.4:     for (long w = 0; 10 * w + 10 <= n; w++) { */
    /* WRONG 8.4:         s = 0; */
    /* WRONG 8.4:         for (long i = 10 * w; i < 10 * w + 10; i++) s += loss[i]; */
    /* WRONG 8.4:         if (!isfinite(s) || s / 10 > 10 * loss[0]) return 1; */
    /* WRONG 8.4:     } */
    /* WRONG 8.4:     return 0; */
    /* WRONG 8.4: } */
    /* WRONG 8.4: if (n < T) return 0; */
    /* WRONG 8.4: for (int k = 0; k < 4; k++) { */
    /* WRONG 8.4:     for (long i = k * T / 4; i < (k + 1) * T / 4; i++) q[k] += loss[i]; */
    /* WRONG 8.4:     q[k] /= (double)((k + 1) * T / 4 - k * T / 4); */
    /* WRONG 8.4: } */
    /* WRONG 8.4: if (rule == EX_STUCK) { */
    /* WRONG 8.4:     for (long i = T - T / 10; i < T; i++) s += loss[i]; */
    /* WRONG 8.4:     return fabs(s / (double)(T / 10) - lnC) < 0.1; */
    /* WRONG 8.4: } */
    /* WRONG 8.4: if (rule == EX_OSCILLATION) return q[3] > q[1]; */
    /* WRONG 8.4: if (rule == EX_PLATEAU) return (q[2] - q[3]) / q[2] < 0.10; */
    /* WRONG 8.4: return 0; */
}

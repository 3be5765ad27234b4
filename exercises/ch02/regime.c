/* regime.c -- Exercise 2.2 (coding): tell the three regimes apart from a loss curve.
 *
 * Chapter 2, §2.2 (chapters/02-lr-regimes/README.md) ends with a rule of thumb: a loss
 * that goes up at the start is a learning rate that is too high; a loss that goes down
 * smoothly but is still falling steeply when you stop is one that is (probably) too
 * low. Turn it into code. Input: loss[0..n), the minibatch training loss of each step
 * of a run planned for `planned` steps (plain SGD, batch 64, Chapter 2's models);
 * n < planned when the trainer stopped the run as diverged, and a value may be inf or
 * NaN. Return EX_TOO_HIGH, EX_TOO_LOW or EX_JUST_RIGHT (regime.h). Design your own
 * rule; a minibatch loss is noisy (compare means over many steps, not single values).
 *
 * The check (exercises/ch02/check.c) trains fresh runs through the library (lib/train.h):
 * logistic regression at lr 0.005, 0.1 and 1.5 and the MLP 784-64-10 at 0.005, 0.2
 * and 3 -- the chapter's too low, just right and too high -- for 300 steps on seeds of
 * the grading run, with the divergence rule switched off (the curve goes on after the
 * blow-up) and once with it on (the curve stops), and requires every curve to get its
 * label. Hand in this file and, in writing, your rule and why it works.
 */
#include "regime.h"

#include <math.h>

int ex_regime(const double *loss, int n, int planned)
{
    /* BEGIN SOLUTION 2.2 */
    if (n < planned || n < 8) return EX_TOO_HIGH;      /* stopped early: diverged */
    for (int i = 0; i < n; i++)                        /* any blow-up: up, not down */
        if (!isfinite(loss[i]) || loss[i] > 2 * loss[0]) return EX_TOO_HIGH;
    double q[4] = {0, 0, 0, 0};                        /* the mean of each quarter */
    int c[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) q[4 * i / n] += loss[i], c[4 * i / n]++;
    for (int k = 0; k < 4; k++) q[k] /= c[k];
    /* still falling steeply: from the second quarter to the last the loss fell by more
     * than a fifth of its whole fall so far */
    if (q[1] - q[3] > 0.2 * (loss[0] - q[3])) return EX_TOO_LOW;
    return EX_JUST_RIGHT;
    /* END SOLUTION 2.2 */
    /* STUB 2.2: (void)loss; (void)n; (void)planned; */
    /* STUB 2.2: return -1; */
    /* WRONG 2.2: (void)planned; */
    /* WRONG 2.2: return n > 0 && loss[n - 1] < loss[0] ? EX_JUST_RIGHT : EX_TOO_HIGH; */
}

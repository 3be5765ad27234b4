/* check.c -- the automatic checks of Chapter 4's exercises (exercises/README.md).
 *
 * 4.1: the student's floor against the fixed point of the second-moment recursion of
 *      heavy ball, iterated numerically, and against a simulation of many chains.
 * 4.2: the student's warmup + cosine against the library's schedule (lib/sched.h) at
 *      every step of several runs.
 * 4.4: the student's one-cycle against the library's `onecycle` term at every step.
 * 4.3: the student's readings of ch04-noise's horizon runs against the exact
 *      expectations, from the recursion E[x_{t+1}^2] = (1 - lr_t lambda)^2 E[x_t^2] +
 *      lr_t^2 sigma^2 with the library's schedules.
 */
#include "grade.h"
#include "floor.h"
#include "warmcos.h"
#include "onecycle.h"
#include "rng.h"
#include "sched.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- 4.1 ---------------------------------------------------------------------------- */

/* lim E[x^2] of heavy ball on the noisy quadratic, from the recursion of the covariance of
 * (x_k, x_{k-1}): x_{k+1} = a1 x_k + a2 x_{k-1} + e_k, a1 = 1 + beta - eta lambda,
 * a2 = -beta, Var e = eta^2 sigma2; C <- A C A^T + diag(eta^2 sigma2, 0), iterated. */
static double moment_fixed_point(double eta, double sigma2, double lambda, double beta)
{
    double a1 = 1 + beta - eta * lambda, a2 = -beta, q = eta * eta * sigma2;
    double c00 = 0, c01 = 0, c11 = 0;
    /* the covariance converges like |root|^(2k) (at most 0.9^k in the cases below): 10^5
     * steps are far more than enough */
    for (long k = 0; k < 100000; k++) {
        /* (x_{k+1}, x_k) = A (x_k, x_{k-1}) + (e_k, 0), A = [[a1, a2], [1, 0]] */
        double n00 = a1 * a1 * c00 + 2 * a1 * a2 * c01 + a2 * a2 * c11 + q;
        double n01 = a1 * c00 + a2 * c01, n11 = c00;
        c00 = n00, c01 = n01, c11 = n11;
    }
    return c00;
}

/* The same by simulation: `chains` heavy-ball chains (PyTorch's form), a burn-in, then the
 * mean of x^2 over `steps` steps of each. *se: its standard error, from the spread of the
 * chains' own means (which are independent). */
static double simulated_floor(double eta, double sigma, double lambda, double beta, int chains, long burn,
                              long steps, unsigned long long seed, double *se)
{
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    double sum = 0, sum2 = 0;
    for (int r = 0; r < chains; r++) {
        double x = 0, b = 0, acc = 0;
        for (long k = 0; k < burn + steps; k++) {
            double g = lambda * x + sigma * gd_rng_normal(&rng); /* noisy gradient */
            b = k == 0 ? g : beta * b + g;                       /* b = beta b + g */
            x -= eta * b;                                         /* x = x - lr b */
            if (k >= burn) acc += x * x;
        }
        acc /= (double)steps;
        sum += acc, sum2 += acc * acc;
    }
    double mean = sum / chains;
    *se = sqrt((sum2 / chains - mean * mean) / (chains - 1));
    return mean;
}

EXERCISE("4.1", check_momentum_floor)
{
    static const double cases[][4] = {
        /* eta, sigma2, lambda, beta */
        {0.1, 1, 1, 0},     {1.5, 1, 1, 0},    {0.5, 1, 1, 0.5},  {1.5, 1, 1, 0.5},
        {0.1, 1, 1, 0.9},   {3.0, 1, 1, 0.9},  {0.05, 0.5, 2, 0.8}, {0.2, 4, 0.5, 0.3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double eta = cases[c][0], s2 = cases[c][1], lam = cases[c][2], beta = cases[c][3];
        char what[160];
        snprintf(what, sizeof what, "ex_momentum_floor(eta=%g, sigma2=%g, lambda=%g, beta=%g) (the moment "
                 "recursion's fixed point)", eta, s2, lam, beta);
        grade_close(g, what, ex_momentum_floor(eta, s2, lam, beta), moment_fixed_point(eta, s2, lam, beta), 1e-6,
                    0);
    }
    /* and one case simulated, as ch04-noise measures its floors: 400 chains, burn-in 400
     * steps (the start is forgotten as |root|^(2k) = 0.5^k), 2000 steps each; accepted
     * within 5 standard errors */
    double se, sim = simulated_floor(0.5, 1, 1, 0.5, 400, 400, 2000, grade_seed(0), &se);
    double got = ex_momentum_floor(0.5, 1, 1, 0.5);
    grade_expect(g, fabs(got - sim) <= 5 * se, "ex_momentum_floor(eta=0.5, sigma2=1, lambda=1, beta=0.5): a "
                 "simulation of 400 chains measured %.4g +- %.2g (standard error), got %.6g", sim, se, got);
}

/* ---- 4.2 ---------------------------------------------------------------------------- */

EXERCISE("4.2", check_warmup_cosine)
{
    static const struct { long W, T; double base, min; } runs[] = {
        {100, 1000, 0.1, 0}, {5, 50, 3e-4, 3e-5}, {1, 10, 1, 0.5}, {500, 10000, 6e-4, 6e-5}, {7, 8, 2, 0},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char spec[128];
        snprintf(spec, sizeof spec, "warmup:T=%ld,cosine:T=%ld:min=%.17g", runs[r].W, runs[r].T - runs[r].W,
                 runs[r].min);
        gd_sched *s = gd_sched_parse(spec);
        if (!grade_expect(g, s != NULL, "the library refused '%s'", spec)) continue;
        for (long t = 0; t <= runs[r].T + 20; t++) {
            double want = gd_sched_lr(s, t, runs[r].base);
            double got = ex_warmup_cosine(t, runs[r].W, runs[r].T, runs[r].base, runs[r].min);
            char what[400];
            snprintf(what, sizeof what, "ex_warmup_cosine(t=%ld, warmup=%ld, total=%ld, base=%g, min_lr=%g) "
                     "(the library's '%s')", t, runs[r].W, runs[r].T, runs[r].base, runs[r].min, spec);
            if (!grade_close(g, what, got, want, 0, 1e-12 * runs[r].base)) break; /* one message per run */
        }
        gd_sched_free(s);
    }
}

/* ---- 4.3 ---------------------------------------------------------------------------- */

/* E[f(x_T)] = lambda/2 E[x_T^2] from x_0 = 10, sigma = 1, T = 2000 steps, for schedule k:
 * 0 constant 0.5, 1 the 1/t schedule 0.5 / (1 + t/2), 2 multistep, 3 cosine (base 0.5). */
static double expected_final(int k, double lambda)
{
    gd_sched *s = k == 2 ? gd_sched_parse("multistep:milestones=1000/1500") : k == 3 ? gd_sched_parse("cosine:T=2000")
                                                                                     : NULL;
    double v = 100; /* x0^2 */
    for (long t = 0; t < 2000; t++) {
        double lr = k == 0 ? 0.5 : k == 1 ? 0.5 / (1.0 + t / 2.0) : gd_sched_lr(s, t, 0.5);
        v = (1 - lr * lambda) * (1 - lr * lambda) * v + lr * lr; /* sigma = 1 */
    }
    gd_sched_free(s);
    return 0.5 * lambda * v;
}

EXERCISE("4.3", check_horizon)
{
    static const char *names[4] = {"constant", "inverse", "step", "cosine"};
    static const double lambdas[2] = {1, 0.05};
    static const char *best_keys[2] = {"4.3.best_steep", "4.3.best_flat"};
    double e[2][4];
    for (int l = 0; l < 2; l++) {
        int best = 0;
        for (int k = 0; k < 4; k++) {
            e[l][k] = expected_final(k, lambdas[l]);
            if (e[l][k] < e[l][best]) best = k;
        }
        const char *got = grade_answer_word(g, best_keys[l]);
        grade_expect(g, strcmp(got, names[best]) == 0, "%s: expected the schedule with the lowest exact expected "
                     "final loss at lambda=%g (constant, inverse, step or cosine), got '%s'", best_keys[l], lambdas[l], got);
    }
    /* measured means over 1000 chains: the relative standard error of a mean of x^2 over
     * 1000 independent Gaussian chains is sqrt(2/1000) = 4.5%; accept 20% (over 4 of them) */
    grade_close(g, "4.3.cosine_flat (the mean loss of cosine at step 2000, lambda=0.05; its exact expectation)",
                grade_answer(g, "4.3.cosine_flat"), e[1][3], 0.2, 0);
    grade_close(g, "4.3.inverse_flat (the mean loss of 1/t at step 2000, lambda=0.05; its exact expectation)",
                grade_answer(g, "4.3.inverse_flat"), e[1][1], 0.2, 0);
}

/* ---- 4.4 ---------------------------------------------------------------------------- */

EXERCISE("4.4", check_onecycle)
{
    static const struct { long T; double max_lr, pct, div, final_div; } runs[] = {
        {1000, 0.1, 0.3, 25, 1e4}, {100, 1, 0.25, 10, 100}, {37, 0.5, 0.5, 25, 1e4}, {5000, 3e-3, 0.1, 25, 1e3},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char spec[160];
        snprintf(spec, sizeof spec, "onecycle:T=%ld:pct=%g:div=%g:final_div=%g", runs[r].T, runs[r].pct,
                 runs[r].div, runs[r].final_div);
        gd_sched *s = gd_sched_parse(spec);
        if (!grade_expect(g, s != NULL, "the library refused '%s'", spec)) continue;
        for (long t = 0; t <= runs[r].T + 10; t++) {
            double want = gd_sched_lr(s, t, runs[r].max_lr);
            double got = ex_onecycle(t, runs[r].T, runs[r].max_lr, runs[r].pct, runs[r].div, runs[r].final_div);
            char what[400];
            snprintf(what, sizeof what, "ex_onecycle(t=%ld, total=%ld, max_lr=%g, pct=%g, div=%g, final_div=%g) "
                     "(the library's '%s')", t, runs[r].T, runs[r].max_lr, runs[r].pct, runs[r].div,
                     runs[r].final_div, spec);
            if (!grade_close(g, what, got, want, 0, 1e-12 * runs[r].max_lr)) break; /* one message per run */
        }
        gd_sched_free(s);
    }
}

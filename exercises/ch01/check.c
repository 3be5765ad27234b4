/* check.c -- the automatic checks of Chapter 1's exercises (exercises/README.md).
 *
 * None of them knows the formulas the exercises ask for. Expected values come from
 * simulating gradient descent (on quadratics built by the library, lib/synth.h, and on
 * theta cos theta), from bisecting the learning rate at which the simulated iterates
 * stop converging, from a search for the lr whose measured rate is smallest, and from
 * the library's Adam (lib/optim.h). Nothing here is random or uses BLAS in a way that
 * changes with the kernel: every machine and seed base computes the same values.
 */
#include "grade.h"
#include "limits.h"
#include "step.h"

#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAXD 8

/* The measured contraction factor of gradient descent with step lr on q: the geometric
 * mean of |theta_{t+1}| / |theta_t| over the second half of T steps, from a start with
 * a component along every eigenvector (renormalised every step: no overflow). */
static double measured_rate(const gd_quad *q, double lr, int T)
{
    double x[MAXD], g[MAXD], logsum = 0;
    for (int i = 0; i < q->d; i++) x[i] = 1.0 + 0.37 * i;
    for (int t = 0; t < T; t++) {
        gd_quad_grad(g, q, x);
        double n = 0;
        for (int i = 0; i < q->d; i++) x[i] -= lr * g[i], n += x[i] * x[i];
        n = sqrt(n);
        if (!(n > 0) || !isfinite(n)) return n > 0 ? INFINITY : 0;
        if (t >= T / 2) logsum += log(n);
        for (int i = 0; i < q->d; i++) x[i] /= n;
    }
    return exp(logsum / (T - T / 2));
}

/* The learning rate at which the measured rate crosses 1: bisection. */
static double measured_edge(const gd_quad *q)
{
    double lo = 0, hi = 1;
    while (measured_rate(q, hi, 2000) <= 1) hi *= 2;
    for (int k = 0; k < 60 && hi - lo > 1e-9 * hi; k++) {
        double mid = 0.5 * (lo + hi);
        if (measured_rate(q, mid, 4000) > 1) hi = mid; else lo = mid;
    }
    return 0.5 * (lo + hi);
}

/* The learning rate in (0, edge) whose measured rate is smallest (golden-section search:
 * the measured rate is a V in lr). Near the bottom two directions shrink at nearly the
 * same rate and the measured one is a soft maximum of the two, a little below the
 * larger: by about ln(2) / (T/2) relatively, 7e-5 for this T. */
#define T_BEST 20000
static double measured_best(const gd_quad *q, double edge, double *rate)
{
    const double r = (sqrt(5.0) - 1) / 2;
    double a = 0, b = edge, c = b - r * (b - a), d = a + r * (b - a);
    double fc = measured_rate(q, c, T_BEST), fd = measured_rate(q, d, T_BEST);
    while (b - a > 1e-7 * edge) {
        if (fc < fd) b = d, d = c, fd = fc, c = b - r * (b - a), fc = measured_rate(q, c, T_BEST);
        else a = c, c = d, fc = fd, d = a + r * (b - a), fd = measured_rate(q, d, T_BEST);
    }
    double best = 0.5 * (a + b);
    *rate = measured_rate(q, best, T_BEST);
    return best;
}

/* A d-dimensional quadratic with eigenvalues mu, L and d - 2 in between, turned by a
 * fixed random rotation (rng seeded with `seed`). */
static int make_quad(gd_quad *q, int d, double mu, double L, double scale, uint64_t seed)
{
    double lambda[MAXD], Q[MAXD * MAXD];
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    gd_random_orthogonal(Q, d, &rng);
    for (int i = 0; i < d; i++) lambda[i] = scale * (mu + (L - mu) * (d > 1 ? (double)i / (d - 1) : 0) * (i == d - 1 ? 1 : 0.6));
    return gd_quad_init(q, d, lambda, Q);
}

EXERCISE("1.1", check_limits)
{
    const double cases[][3] = {{1, 10, 2}, {1, 100, 3}, {0.5, 3, 4}, {2, 7, 2}, {0.01, 1, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double mu = cases[k][0], L = cases[k][1];
        gd_quad q;
        if (make_quad(&q, (int)cases[k][2], mu, L, 1, 11 + k) != 0) {
            grade_expect(g, 0, "could not build the test quadratic: %s", gd_error());
            return;
        }
        char what[160];
        double edge = measured_edge(&q), rate, best = measured_best(&q, edge, &rate);
        snprintf(what, sizeof what, "ex_gd_max_lr(mu=%g, L=%g) against the bisected edge of simulated gradient descent", mu, L);
        grade_close(g, what, ex_gd_max_lr(mu, L), edge, 1e-4, 0);
        snprintf(what, sizeof what, "ex_gd_best_lr(mu=%g, L=%g) against the lr of the smallest measured rate", mu, L);
        grade_close(g, what, ex_gd_best_lr(mu, L), best, 1e-3, 0);
        snprintf(what, sizeof what, "ex_gd_best_rate(mu=%g, L=%g) against the smallest measured rate", mu, L);
        grade_close(g, what, ex_gd_best_rate(mu, L), rate, 3e-4, 1e-6);
        gd_quad_free(&q);
    }
}

EXERCISE("1.2", check_step)
{
    const int dims[] = {1, 2, 5, 16};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        int d = dims[k];
        double lambda[16], Q[256], x[16], ref[16], gr[16];
        gd_rng rng;
        gd_rng_seed(&rng, 100 + k);
        gd_random_orthogonal(Q, d, &rng);
        for (int i = 0; i < d; i++) lambda[i] = 1 + 9 * gd_rng_uniform(&rng);
        gd_quad q;
        if (gd_quad_init(&q, d, lambda, Q) != 0) { grade_expect(g, 0, "could not build the test quadratic: %s", gd_error()); return; }
        for (int i = 0; i < d; i++) x[i] = ref[i] = 2 * gd_rng_uniform(&rng) - 1;
        char what[160];
        snprintf(what, sizeof what, "ex_quad_loss (d=%d) against gd_quad_loss", d);
        grade_close(g, what, ex_quad_loss(q.A, x, d), gd_quad_loss(&q, x), 1e-12, 1e-15);
        double lr = 0.15;
        for (int t = 0; t < 20; t++) {
            ex_gd_step(x, q.A, d, lr);
            gd_quad_grad(gr, &q, ref);
            for (int i = 0; i < d; i++) ref[i] -= lr * gr[i];
            double err = 0, n = 0;
            int worst = 0;
            for (int i = 0; i < d; i++) {
                if (!(fabs(x[i] - ref[i]) <= err)) err = fabs(x[i] - ref[i]), worst = i;
                n = fmax(n, fabs(ref[i]));
            }
            if (!grade_expect(g, err <= 1e-12 * n, "ex_gd_step (d=%d, lr=%g), step %d: expected theta - lr * A theta "
                              "(gradient from gd_quad_grad), got theta[%d] = %.6g instead of %.6g",
                              d, lr, t + 1, worst, x[worst], ref[worst]))
                break;
        }
        gd_quad_free(&q);
    }
    /* Many of your steps: the measured factor per step is the chapter's max |1 - lr lambda|. */
    double lambda[2] = {1, 10}, Q[4], x[2] = {-9, 3};
    gd_rotation2(Q, 30 * M_PI / 180);
    gd_quad q;
    if (gd_quad_init(&q, 2, lambda, Q) != 0) return;
    double lr = 0.15, f0 = NAN, f1 = NAN;
    for (int t = 0; t <= 200; t++) {
        if (t == 100) f0 = ex_quad_loss(q.A, x, 2);
        if (t == 200) f1 = ex_quad_loss(q.A, x, 2);
        if (t < 200) ex_gd_step(x, q.A, 2, lr);
    }
    double r = measured_rate(&q, lr, 2000);   /* the library's gradient, renormalised */
    grade_close(g, "loss[200]/loss[100] of 200 ex_gd_step's (mu=1, L=10, lr=0.15) against rho^200 measured with gd_quad_grad",
                f1 / f0, pow(r, 200), 1e-6, 0);
    gd_quad_free(&q);
}

/* The chapter's quadratic: mu 1, L 10, eigenvectors turned by 30 degrees, theta_0 (-9, 3). */
static double ch01_loss_ratio(double lr, int from, int to)
{
    double lambda[2] = {1, 10}, Q[4], x[2] = {-9, 3}, gr[2], f0 = NAN, f1 = NAN;
    gd_rotation2(Q, 30 * M_PI / 180);
    gd_quad q;
    if (gd_quad_init(&q, 2, lambda, Q) != 0) return NAN;
    for (int t = 0; t <= to; t++) {
        if (t == from) f0 = gd_quad_loss(&q, x);
        if (t == to) f1 = gd_quad_loss(&q, x);
        gd_quad_grad(gr, &q, x);
        for (int i = 0; i < 2; i++) x[i] -= lr * gr[i];
    }
    gd_quad_free(&q);
    return pow(f1 / f0, 1.0 / (to - from));
}

EXERCISE("1.3", check_loss_ratio)
{
    const char *keys[] = {"1.3.loss_ratio_0.02", "1.3.loss_ratio_0.1", "1.3.loss_ratio_0.181818"};
    const double lrs[] = {0.02, 0.1, 0.181818};
    for (int k = 0; k < 3; k++) {
        double got = grade_answer(g, keys[k]);
        char what[160];
        snprintf(what, sizeof what, "%s (simulated: loss[150]/loss[100] per step at lr %g)", keys[k], lrs[k]);
        grade_close(g, what, got, ch01_loss_ratio(lrs[k], 100, 150), 2e-3, 0);
    }
}

/* Adam (the library's, defaults but lr) on f = scale/2 theta^T A theta from (-9, 3):
 * the length of the path of its first `steps` steps. */
static double adam_path(const gd_quad *q, double scale, int steps)
{
    int shape[1] = {2};
    gd_param p;
    if (gd_param_init(&p, "theta", 1, shape) != 0) return NAN;
    p.value->data[0] = -9, p.value->data[1] = 3;
    gd_hparams hp = gd_optim_defaults(GD_ADAM);
    hp.lr = 0.1;
    gd_optim *o = gd_optim_new(GD_ADAM, &hp);
    if (!o || gd_optim_add_group(o, &p, 1, NULL) < 0) { gd_param_free(&p); return NAN; }
    double path = 0;
    for (int t = 0; t < steps; t++) {
        double x[2] = {p.value->data[0], p.value->data[1]}, gr[2];
        gd_quad_grad(gr, q, x);
        for (int i = 0; i < 2; i++) p.grad->data[i] = (float)(scale * gr[i]);
        gd_optim_step(o);
        path += hypot(p.value->data[0] - x[0], p.value->data[1] - x[1]);
    }
    gd_optim_free(o);
    gd_param_free(&p);
    return path;
}

EXERCISE("1.4", check_scale)
{
    double lambda[2] = {1, 10}, lambda100[2] = {100, 1000}, Q[4];
    gd_rotation2(Q, 30 * M_PI / 180);
    gd_quad q, q100;
    if (gd_quad_init(&q, 2, lambda, Q) != 0 || gd_quad_init(&q100, 2, lambda100, Q) != 0) {
        grade_expect(g, 0, "could not build the test quadratics: %s", gd_error());
        return;
    }
    double e1 = measured_edge(&q), e100 = measured_edge(&q100), r1, r100;
    double b1 = measured_best(&q, e1, &r1), b100 = measured_best(&q100, e100, &r100);
    grade_close(g, "1.4.max_lr_factor (bisected edges of simulated gradient descent, loss x100 / loss)",
                grade_answer(g, "1.4.max_lr_factor"), e100 / e1, 1e-3, 0);
    grade_close(g, "1.4.best_lr_factor (lr of the smallest measured rate, loss x100 / loss)",
                grade_answer(g, "1.4.best_lr_factor"), b100 / b1, 1e-2, 0);
    grade_close(g, "1.4.best_rate_factor (smallest measured rate, loss x100 / loss)",
                grade_answer(g, "1.4.best_rate_factor"), r100 / r1, 1e-3, 0);
    grade_close(g, "1.4.adam_step_factor (path of 20 steps of the library's Adam, lr 0.1, loss x100 / loss)",
                grade_answer(g, "1.4.adam_step_factor"), adam_path(&q, 100, 20) / adam_path(&q, 1, 20), 1e-3, 0);
    gd_quad_free(&q);
    gd_quad_free(&q100);
}

/* f(theta) = theta cos theta: its derivative. */
static double nc_df(double x) { return cos(x) - x * sin(x); }

/* Does gradient descent from 3.4 with step lr settle (|theta_t - theta*| < 1e-9 for
 * the last 100 of 50000 steps) at theta*? */
static int nc_settles(double lr, double star)
{
    double x = 3.4;
    int ok = 0;
    for (int t = 0; t < 50000; t++) {
        x -= lr * nc_df(x);
        if (!isfinite(x)) return 0;
        if (t >= 49900) ok += fabs(x - star) < 1e-9;
    }
    return ok == 100;
}

EXERCISE("1.5", check_nonconvex)
{
    /* the minimum near 3.4: gradient descent with a tiny step, run to the end */
    double star = 3.4;
    for (int t = 0; t < 200000; t++) star -= 0.01 * nc_df(star);
    double h = 1e-5, curv = (nc_df(star + h) - nc_df(star - h)) / (2 * h);
    grade_close(g, "1.5.curvature (central difference of f' at the minimum found by descent)",
                grade_answer(g, "1.5.curvature"), curv, 2e-3, 0);
    double lo = 0.1, hi = 1.0;
    if (!nc_settles(lo, star) || nc_settles(hi, star)) {
        grade_expect(g, 0, "the bracket [0.1, 1] of the simulation did not hold");
        return;
    }
    for (int k = 0; k < 30; k++) {
        double mid = 0.5 * (lo + hi);
        if (nc_settles(mid, star)) lo = mid; else hi = mid;
    }
    grade_close(g, "1.5.max_lr (bisection on simulated gradient descent from 3.4)",
                grade_answer(g, "1.5.max_lr"), 0.5 * (lo + hi), 0, 0.01);
}

/* quadratic.c -- gradient descent on a two-dimensional quadratic, Chapter 1.
 *
 * f(x) = 1/2 x^T A x, where A has eigenvalues mu and L (the condition number is
 * kappa = L / mu) and its eigenvectors are turned by --angle degrees. Gradient descent
 * is x <- x - lr * A x, so each eigen-direction is multiplied by (1 - lr * lambda) per
 * step: stable iff 0 < lr < 2/L, fastest at lr = 2/(mu + L).
 *
 * For each learning rate it prints a summary row (theory rate, measured rate, steps to
 * reach |x| < tol, what happened) and can write the trajectories (--out), the level
 * sets of f for a contour plot (--contours), a rate-versus-lr sweep (--sweep, --rates)
 * and the numbers the chapter quotes (--numbers). Leaves out: noise, momentum,
 * non-quadratic losses (the chapter's nonconvex.c has one).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DIM 2
#define DIVERGED 1e6 /* |x| / |x0| beyond this counts as diverged */

typedef struct {
    double lr;
    long steps_run;       /* steps taken before stopping */
    long reached_tol;     /* first step with |x| < tol, or -1 */
    long diverged_at;     /* first step with |x| > DIVERGED |x0| or non-finite, or -1 */
    double rate;          /* measured |x_n| / |x_{n-1}| over the second half of the run */
    double final_loss;
} run_result;

static double norm2(const double *x) { return sqrt(x[0] * x[0] + x[1] * x[1]); }

/* The theory: the error in eigen-direction k is multiplied by |1 - lr lambda_k| per
 * step, so the slowest direction sets the rate. */
static double theory_rate(double lr, double mu, double L) {
    return fmax(fabs(1.0 - lr * mu), fabs(1.0 - lr * L));
}

/* Run gradient descent from x0 with step lr for at most max_steps steps, stopping early
 * once |x| < tol (if stop_at_tol) or on divergence. Each iterate goes to t (if not NULL). */
static run_result descend(const gd_quad *q, const double *x0, double lr, long max_steps,
                          double tol, int stop_at_tol, gd_table *t, int run) {
    run_result r = {lr, 0, -1, -1, NAN, NAN};
    double x[DIM] = {x0[0], x0[1]}, g[DIM];
    double start = norm2(x0);
    /* |x| at every step, for the measured rate */
    static double norms[1000001];
    norms[0] = start;
    if (t) gd_table_row(t, "%d %g 0 %.10g %.10g %.10g", run, lr, x[0], x[1], gd_quad_loss(q, x));
    if (start < tol) r.reached_tol = 0;
    for (long k = 1; k <= max_steps; k++) {
        // region update
        gd_quad_grad(g, q, x);            /* g = A x, the gradient of 1/2 x^T A x */
        for (int i = 0; i < DIM; i++)
            x[i] = x[i] - lr * g[i];      /* the whole method: x <- x - lr * grad f(x) */
        // endregion update
        double n = norm2(x);
        norms[k] = n;
        r.steps_run = k;
        if (t) gd_table_row(t, "%d %g %ld %.10g %.10g %.10g", run, lr, k, x[0], x[1], gd_quad_loss(q, x));
        if (!isfinite(n) || n > DIVERGED * start) {
            r.diverged_at = k;
            break;
        }
        if (n < tol && r.reached_tol < 0) {
            r.reached_tol = k;
            if (stop_at_tol) break;
        }
    }
    /* measured asymptotic rate: the geometric mean of |x_k| / |x_{k-1}| over the second
     * half of the run (the first half lets the faster direction die out) */
    long n = r.steps_run, half = n / 2;
    if (n >= 2 && norms[half] > 0 && norms[n] > 0)
        r.rate = exp((log(norms[n]) - log(norms[half])) / (double)(n - half));
    r.final_loss = gd_quad_loss(q, x);
    return r;
}

static void print_result(const run_result *r, double mu, double L) {
    char what[64];
    if (r->diverged_at >= 0) snprintf(what, sizeof what, "diverged at step %ld", r->diverged_at);
    else if (r->reached_tol >= 0) snprintf(what, sizeof what, "converged at step %ld", r->reached_tol);
    else if (r->rate > 1.0) snprintf(what, sizeof what, "diverging (|x| grows each step)");
    else snprintf(what, sizeof what, "not converged after %ld steps", r->steps_run);
    printf("%-10.6g %-12.6f %-12.6f %-12.4g %s\n", r->lr, theory_rate(r->lr, mu, L), r->rate,
           r->final_loss, what);
}

/* Level sets f(x) = c of 1/2 x^T A x are ellipses: x = Q (sqrt(2c/mu) cos t, sqrt(2c/L) sin t). */
static void write_contours(gd_table *t, const gd_quad *q, const double *levels, int nlevels) {
    for (int i = 0; i < nlevels; i++) {
        if (i > 0) gd_table_block(t);
        double a = sqrt(2.0 * levels[i] / q->lambda[0]), b = sqrt(2.0 * levels[i] / q->lambda[1]);
        for (int s = 0; s <= 200; s++) {
            double th = 2.0 * M_PI * s / 200.0, u = a * cos(th), v = b * sin(th);
            gd_table_row(t, "%g %.8g %.8g", levels[i], q->Q[0] * u + q->Q[1] * v, q->Q[2] * u + q->Q[3] * v);
        }
    }
}

int main(int argc, char **argv) {
    gd_floats lrs = {3, {0.02, 2.0 / 11.0, 0.205}};
    gd_floats x0_opt = {2, {-9.0, 3.0}};
    gd_floats sweep = {0};
    double mu = 1.0, L = 10.0, angle = 30.0, tol = 1e-6;
    long steps = 100;
    int keep_going = 0;
    const char *out = NULL, *contours = NULL, *rates = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lr", &lrs, "learning rates to run", 0, 1e6, 1),
        GD_OPT_FLOAT("mu", &mu, "smallest eigenvalue of A", 0, 1e6, 1),
        GD_OPT_FLOAT("L", &L, "largest eigenvalue of A (>= mu)", 0, 1e6, 1),
        GD_OPT_FLOAT("angle", &angle, "rotation of the eigenvectors, degrees", -360, 360, 0),
        GD_OPT_FLOATS("x0", &x0_opt, "starting point x1,x2", -1e6, 1e6, 0),
        GD_OPT_INT("steps", &steps, "most steps per run", 1, 1000000),
        GD_OPT_FLOAT("tol", &tol, "stop when |x| < tol (the minimum is x = 0)", 0, 1e6, 0),
        GD_OPT_FLAG("keep-going", &keep_going, "run all steps even after reaching tol"),
        GD_OPT_FLOATS("sweep", &sweep, "LO,HI,N: run N learning rates evenly spaced in [LO, HI] instead of --lr", 0, 1e6, 0),
        GD_OPT_STRING("out", &out, "write every iterate to this table"),
        GD_OPT_STRING("contours", &contours, "write level sets of f to this table"),
        GD_OPT_STRING("rates", &rates, "write lr, theory and measured rate to this table"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Gradient descent on f(x) = 1/2 x^T A x in two dimensions (Chapter 1).", opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (L < mu) {
        fprintf(stderr, "%s: --L: must be >= --mu (%g), got %g\n", gd_prog(), mu, L);
        return 2;
    }
    if (x0_opt.n != 2) {
        fprintf(stderr, "%s: --x0: needs two numbers x1,x2, got %d\n", gd_prog(), x0_opt.n);
        return 2;
    }
    if (sweep.n) {
        if (sweep.n != 3 || !(sweep.v[0] > 0) || !(sweep.v[1] > sweep.v[0]) || sweep.v[2] < 2 ||
            sweep.v[2] > GD_FLOATS_MAX * 1000 || sweep.v[2] != floor(sweep.v[2])) {
            fprintf(stderr, "%s: --sweep: needs LO,HI,N with 0 < LO < HI and a whole N >= 2\n", gd_prog());
            return 2;
        }
    }
    if ((out || contours) && sweep.n) {
        fprintf(stderr, "%s: --out and --contours go with --lr, not --sweep\n", gd_prog());
        return 2;
    }

    double lambda[DIM] = {mu, L}, Q[DIM * DIM];
    gd_rotation2(Q, angle * M_PI / 180.0);
    gd_quad q;
    if (gd_quad_init(&q, DIM, lambda, Q) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    const double *x0 = x0_opt.v;

    gd_table *traj = NULL, *rate_t = NULL;
    if (out && !(traj = gd_table_open(out, "run lr step x1 x2 loss"))) goto io_error;
    if (rates && !(rate_t = gd_table_open(rates, "lr theory measured status mu L"))) goto io_error;
    gd_table *tables[2] = {traj, rate_t};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch01-quadratic");
        gd_table_meta(tables[i], "problem", "f(x) = 1/2 x^T A x, eigenvalues mu=%g L=%g, rotated %g degrees", mu, L, angle);
        gd_table_meta(tables[i], "start", "x0 = (%g, %g)", x0[0], x0[1]);
        gd_table_meta(tables[i], "steps", "%ld (tol %g%s)", steps, tol, keep_going ? ", keep going" : "");
        gd_table_meta(tables[i], "seed", "none (deterministic: no randomness)");
    }

    int n = sweep.n ? (int)sweep.v[2] : lrs.n;
    run_result first[GD_FLOATS_MAX]; /* the --lr runs, for --numbers */
    printf("%-10s %-12s %-12s %-12s %s\n", "lr", "theory_rate", "measured", "final_loss", "outcome");
    for (int i = 0; i < n; i++) {
        double lr = sweep.n ? sweep.v[0] + (sweep.v[1] - sweep.v[0]) * i / (n - 1) : lrs.v[i];
        if (traj && i > 0) gd_table_block(traj);
        run_result r = descend(&q, x0, lr, steps, tol, !keep_going, traj, i);
        print_result(&r, mu, L);
        if (i < GD_FLOATS_MAX) first[i] = r;
        if (rate_t)
            gd_table_row(rate_t, "%.6g %.6f %.6f %s %g %g", lr, theory_rate(lr, mu, L), r.rate,
                         r.diverged_at >= 0 || r.rate > 1.0 ? "diverged" : r.reached_tol >= 0 ? "converged" : "running",
                         mu, L);
    }
    if (contours) {
        gd_table *c = gd_table_open(contours, "level x1 x2");
        if (!c) goto io_error;
        gd_table_meta(c, "program", "ch01-quadratic");
        gd_table_meta(c, "problem", "level sets of 1/2 x^T A x, mu=%g L=%g, rotated %g degrees", mu, L, angle);
        double levels[] = {0.5, 2, 8, 24, 64, 160, 400};
        write_contours(c, &q, levels, (int)(sizeof levels / sizeof *levels));
        if (gd_table_close(c) != 0) goto io_error;
    }
    if (numbers) {
        /* What Chapter 1 quotes: theory, and the same quantities measured here. */
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch01-quadratic");
        double kappa = L / mu, best = 2.0 / (mu + L);
        run_result at_best = descend(&q, x0, best, 200, 0.0, 0, NULL, 0);
        run_result at_inv_l = descend(&q, x0, 1.0 / L, 200, 0.0, 0, NULL, 0);
        gd_table_kv(t, "q_mu", "%g", mu);
        gd_table_kv(t, "q_L", "%g", L);
        gd_table_kv(t, "q_kappa", "%g", kappa);
        gd_table_kv(t, "q_lr_max", "%.4g", 2.0 / L);
        gd_table_kv(t, "q_lr_best", "%.4f", best);
        gd_table_kv(t, "q_rate_best_theory", "%.4f", (kappa - 1) / (kappa + 1));
        gd_table_kv(t, "q_rate_best_measured", "%.4f", at_best.rate);
        gd_table_kv(t, "q_rate_inv_l_theory", "%.4f", 1.0 - 1.0 / kappa);
        gd_table_kv(t, "q_rate_inv_l_measured", "%.4f", at_inv_l.rate);
        /* steps to shrink the error by 1e6, from the rates: ln(1e-6) / ln(rate) */
        gd_table_kv(t, "q_steps_best", "%.0f", ceil(log(1e-6) / log((kappa - 1) / (kappa + 1))));
        gd_table_kv(t, "q_steps_inv_l", "%.0f", ceil(log(1e-6) / log(1.0 - 1.0 / kappa)));
        /* just below and just above the edge 2/L, run until |x| < 1e-6 or divergence */
        double below = 0.995 * 2.0 / L, above = 1.005 * 2.0 / L;
        run_result r_below = descend(&q, x0, below, 100000, 1e-6, 1, NULL, 0);
        run_result r_above = descend(&q, x0, above, 100000, 1e-6, 1, NULL, 0);
        gd_table_kv(t, "q_lr_below", "%.4g", below);
        gd_table_kv(t, "q_lr_above", "%.4g", above);
        gd_table_kv(t, "q_below_converged_at", "%ld", r_below.reached_tol);
        gd_table_kv(t, "q_above_diverged_at", "%ld", r_above.diverged_at);
        gd_table_kv(t, "q_x0", "(%g, %g)", x0[0], x0[1]);
        gd_table_kv(t, "q_angle", "%g", angle);
        gd_table_kv(t, "q_steps", "%ld", steps);
        gd_table_kv(t, "q_lr_inv_l", "%.4g", 1.0 / L);
        for (int i = 0; i < lrs.n && !sweep.n; i++) {
            char key[64];
            snprintf(key, sizeof key, "q_run%d_lr", i);
            gd_table_kv(t, key, "%.4g", first[i].lr);
            snprintf(key, sizeof key, "q_run%d_rate", i);
            gd_table_kv(t, key, "%.4g", theory_rate(first[i].lr, mu, L));
            snprintf(key, sizeof key, "q_run%d_steep", i); /* |1 - lr L|, the steep factor */
            gd_table_kv(t, key, "%.4g", fabs(1.0 - first[i].lr * L));
            snprintf(key, sizeof key, "q_run%d_flat", i);  /* |1 - lr mu| */
            gd_table_kv(t, key, "%.4g", fabs(1.0 - first[i].lr * mu));
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (traj && gd_table_close(traj) != 0) { traj = NULL; goto io_error; }
    if (rate_t && gd_table_close(rate_t) != 0) { rate_t = NULL; goto io_error; }
    gd_quad_free(&q);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (traj) gd_table_abort(traj);
    if (rate_t) gd_table_abort(rate_t);
    gd_quad_free(&q);
    return 1;
}

/* nonconvex.c -- gradient descent on f(theta) = theta cos(c theta), Chapter 1.
 *
 * A one-dimensional loss with many minima. Far from 0 they are deeper but also sharper:
 * near a minimum theta*, f behaves like the quadratic 1/2 f''(theta*) (theta - theta*)^2,
 * so by the quadratic theory gradient descent can settle there only if
 * lr < 2 / f''(theta*) (lr is the book's eta). A small
 * step rolls into the nearest minimum; a large one is thrown out of every minimum too
 * sharp for it and ends in a flatter one, which here is a WORSE one; larger still, no
 * minimum is flat enough and the iterate never settles.
 *
 * Writes the curve (--curve), every iterate (--out), the minima with their curvature and
 * largest stable step (--minima), and the numbers the chapter quotes (--numbers).
 * Leaves out: noise, momentum, more than one dimension.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>

static double c = 1.0; /* frequency of the cosine */

static double f(double theta) { return theta * cos(c * theta); }
static double df(double theta) { return cos(c * theta) - c * theta * sin(c * theta); }
static double d2f(double theta) { return -2.0 * c * sin(c * theta) - c * c * theta * cos(c * theta); }

typedef struct {
    double lr, theta;
    long settled_at; /* first step after which |f'(theta)| < tol held to the end, or -1 */
    long diverged_at;
} run_result;

static run_result descend(double theta0, double lr, long steps, double tol, gd_table *t, int run) {
    run_result r = {lr, theta0, -1, -1};
    double theta = theta0;
    if (t) gd_table_row(t, "%d %g 0 %.10g %.10g", run, lr, theta, f(theta));
    for (long k = 1; k <= steps; k++) {
        // region update
        theta = theta - lr * df(theta); /* theta <- theta - lr f'(theta) */
        // endregion update
        if (t) gd_table_row(t, "%d %g %ld %.10g %.10g", run, lr, k, theta, f(theta));
        if (!isfinite(theta) || fabs(theta) > 1e6) {
            r.diverged_at = k;
            break;
        }
        if (fabs(df(theta)) < tol) {
            if (r.settled_at < 0) r.settled_at = k;
        } else {
            r.settled_at = -1;
        }
    }
    r.theta = theta;
    return r;
}

/* Can gradient descent with step lr settle at the minimum theta*? Iff lr f''(theta*) < 2. */
static int lr_stable(double lr, double theta) { return lr * d2f(theta) < 2.0; }

/* The minima of f in [lo, hi]: sign changes of f' from - to +, refined by bisection. */
static int find_minima(double *xs, int max, double lo, double hi) {
    int n = 0;
    double step = 1e-3 / c;
    for (double a = lo; a < hi && n < max; a += step) {
        double b = a + step;
        if (!(df(a) < 0 && df(b) >= 0)) continue;
        double l = a, h = b;
        for (int i = 0; i < 100; i++) {
            double m = 0.5 * (l + h);
            if (df(m) < 0) l = m;
            else h = m;
        }
        xs[n++] = 0.5 * (l + h);
    }
    return n;
}

int main(int argc, char **argv) {
    gd_floats lrs = {3, {0.1, 0.9, 1.1}};
    double x0 = 2.0, tol = 1e-8, lo = -10.0, hi = 10.0;
    long steps = 200;
    const char *out = NULL, *curve = NULL, *minima_path = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lr", &lrs, "learning rates (eta) to run", 0, 1e3, 1),
        GD_OPT_FLOAT("x0", &x0, "starting point theta_0", -1e3, 1e3, 0),
        GD_OPT_FLOAT("c", &c, "frequency c in f(theta) = theta cos(c theta)", 0, 100, 1),
        GD_OPT_INT("steps", &steps, "steps per run", 1, 1000000),
        GD_OPT_FLOAT("tol", &tol, "settled when |f'(theta)| < tol", 0, 1, 1),
        GD_OPT_FLOAT("lo", &lo, "left end of the plotted range", -1e3, 1e3, 0),
        GD_OPT_FLOAT("hi", &hi, "right end of the plotted range", -1e3, 1e3, 0),
        GD_OPT_OUT("out", &out, "write every iterate to this table"),
        GD_OPT_OUT("curve", &curve, "write f on [lo, hi] to this table"),
        GD_OPT_OUT("minima", &minima_path, "write the minima in [lo, hi] to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv, "Gradient descent on the nonconvex f(theta) = theta cos(c theta) (Chapter 1).\nlr is the learning rate eta.", opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!(hi > lo)) {
        fprintf(stderr, "%s: --hi: must be > --lo (%g), got %g\n", gd_prog(), lo, hi);
        return 2;
    }

    double mins[256];
    int nmin = find_minima(mins, 256, lo, hi);

    gd_table *traj = NULL;
    if (out && !(traj = gd_table_open(out, "run lr step theta f"))) goto io_error;
    if (traj) {
        gd_table_meta(traj, "program", "ch01-nonconvex");
        gd_table_meta(traj, "problem", "f(theta) = theta cos(%g theta), theta_0 = %g, %ld steps", c, x0, steps);
        gd_table_meta(traj, "seed", "none (deterministic: no randomness)");
    }
    printf("%-8s %-12s %-12s %s\n", "lr", "final_theta", "final_f", "outcome");
    run_result results[GD_FLOATS_MAX];
    for (int i = 0; i < lrs.n; i++) {
        if (traj && i > 0) gd_table_block(traj);
        run_result r = results[i] = descend(x0, lrs.v[i], steps, tol, traj, i);
        if (r.diverged_at >= 0) printf("%-8g %-12s %-12s diverged at step %ld\n", r.lr, "-", "-", r.diverged_at);
        else if (r.settled_at >= 0)
            printf("%-8g %-12.6f %-12.6f settled at step %ld, curvature f'' = %.4f, 2/f'' = %.4f\n", r.lr, r.theta,
                   f(r.theta), r.settled_at, d2f(r.theta), 2.0 / d2f(r.theta));
        else printf("%-8g %-12.6f %-12.6f did not settle in %ld steps\n", r.lr, r.theta, f(r.theta), steps);
    }
    if (traj) {
        int rc2 = gd_table_close(traj);
        traj = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (curve) {
        gd_table *t = gd_table_open(curve, "theta f");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch01-nonconvex");
        gd_table_meta(t, "problem", "f(theta) = theta cos(%g theta)", c);
        for (int i = 0; i <= 1000; i++) {
            double theta = lo + (hi - lo) * i / 1000.0;
            gd_table_row(t, "%.6g %.8g", theta, f(theta));
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (minima_path) {
        gd_table *t = gd_table_open(minima_path, "theta f curvature max_stable_lr");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch01-nonconvex");
        gd_table_meta(t, "problem", "minima of f(theta) = theta cos(%g theta) in [%g, %g]", c, lo, hi);
        for (int i = 0; i < nmin; i++)
            gd_table_row(t, "%.6f %.6f %.6f %.6f", mins[i], f(mins[i]), d2f(mins[i]), 2.0 / d2f(mins[i]));
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch01-nonconvex");
        gd_table_kv(t, "nc_x0", "%g", x0);
        gd_table_kv(t, "nc_steps", "%ld", steps);
        gd_table_kv(t, "nc_nmin", "%d", nmin);
        gd_table_kv(t, "nc_lo", "%g", lo);
        gd_table_kv(t, "nc_hi", "%g", hi);
        /* a table of the minima, and one row per run */
        char buf[4096];
        int len = snprintf(buf, sizeof buf, "| minimum θ* | f(θ*) | curvature f''(θ*) | largest stable η, 2/f''(θ*) |\n|---:|---:|---:|---:|\n");
        for (int i = 0; i < nmin && len < (int)sizeof buf - 100; i++)
            len += snprintf(buf + len, sizeof buf - len, "| %.3f | %.3f | %.3f | %.3f |\n", mins[i], f(mins[i]),
                            d2f(mins[i]), 2.0 / d2f(mins[i]));
        gd_table_kv(t, "nc_minima", "%s", buf);
        len = snprintf(buf, sizeof buf, "| η | where it ends | f there | outcome |\n|---:|---:|---:|---|\n");
        for (int i = 0; i < lrs.n && len < (int)sizeof buf - 100; i++) {
            run_result r = results[i];
            if (r.diverged_at >= 0)
                len += snprintf(buf + len, sizeof buf - len, "| %g | - | - | diverged at step %ld |\n", r.lr, r.diverged_at);
            else if (r.settled_at >= 0)
                len += snprintf(buf + len, sizeof buf - len, "| %g | %.3f | %.3f | settled at step %ld |\n", r.lr, r.theta,
                                f(r.theta), r.settled_at);
            else
                len += snprintf(buf + len, sizeof buf - len, "| %g | %.3f (still moving) | %.3f | never settles in %ld steps |\n",
                                r.lr, r.theta, f(r.theta), steps);
        }
        gd_table_kv(t, "nc_runs", "%s", buf);
        /* the minima where the runs settled, with their curvature: inline numbers */
        for (int i = 0; i < lrs.n; i++) {
            run_result r = results[i];
            char key[64];
#define KV(name, fmt, value) (snprintf(key, sizeof key, "nc_run%d_" name, i), gd_table_kv(t, key, fmt, value))
            KV("lr", "%g", r.lr);
            int nflat = 0; /* minima in [lo, hi] flat enough for this step: lr < 2/f'' */
            for (int m = 0; m < nmin; m++) nflat += lr_stable(r.lr, mins[m]);
            KV("nflat", "%d", nflat);
            if (r.settled_at < 0) continue;
            KV("theta", "%.3f", r.theta);
            KV("f", "%.3f", f(r.theta));
            KV("curv", "%.3f", d2f(r.theta));
            KV("maxlr", "%.3f", 2.0 / d2f(r.theta));
            KV("settled", "%ld", r.settled_at);
#undef KV
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (traj) gd_table_abort(traj);
    return 1;
}

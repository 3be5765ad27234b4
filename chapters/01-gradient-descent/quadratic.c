/* quadratic.c -- gradient descent on a two-dimensional quadratic, Chapter 1.
 *
 * f(theta) = 1/2 theta^T A theta, where A has eigenvalues mu (the smallest) and L (the
 * largest, lambda_max; the condition number is kappa = L / mu) and its eigenvectors are
 * turned by --angle degrees. Gradient descent is theta <- theta - lr * A theta (lr is the
 * book's eta), so each eigen-direction is multiplied by (1 - lr * lambda) per step: the
 * contraction factor is rho = max |1 - lr lambda|, below 1 iff 0 < lr < 2/L, smallest
 * at lr = 2/(mu + L) where rho = (kappa - 1)/(kappa + 1).
 *
 * --jacobi divides each coordinate's step by A's diagonal entry (theta <- theta - lr
 * D^-1 A theta, D = diag(A)): a fixed diagonal rescaling, the kind of preconditioner a
 * per-coordinate method (Adam, RMSprop, Adagrad) has. It cures ill-conditioning along
 * the axes, not a rotated one; --numbers tabulates by how much, against the angle.
 *
 * For each learning rate it prints a summary row (rho from theory, rho measured, the
 * final loss, what happened) and can write the trajectories (--out), the level sets of
 * f for a contour plot (--contours), rho against lr (--sweep, --rates) and the numbers
 * the chapter quotes (--numbers). Leaves out: noise, momentum, non-quadratic losses
 * (the chapter's nonconvex.c has one).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DIM 2
#define DIVERGED 1e6 /* |theta| / |theta_0| beyond this counts as diverged */

typedef struct {
    double lr;
    long steps_run;       /* steps taken before stopping */
    long reached_tol;     /* first step with |theta| < tol, or -1 */
    long diverged_at;     /* first step with |theta| > DIVERGED |theta_0| or non-finite, or -1 */
    double rho;           /* measured |theta_t| / |theta_{t-1}| over the second half of the run */
    double final_loss;
} run_result;

/* The iteration: theta <- theta - lr * P grad f(theta), with P = I (plain gradient
 * descent) or D^-1 = diag(A)^-1 (--jacobi). Its factors per eigen-direction are
 * 1 - lr * lambda over the eigenvalues lambda of P A, smallest first in ev[0]. */
typedef struct {
    gd_quad q;
    int jacobi;
    double ev[DIM];
} problem;

static double norm2(const double *v) { return sqrt(v[0] * v[0] + v[1] * v[1]); }

/* Eigenvalues of D^-1 A (those of D^-1/2 A D^-1/2 = [[1, c], [c, 1]]): 1 - |c|, 1 + |c|,
 * with c = a12 / sqrt(a11 a22). In two dimensions no other positive diagonal D gives a
 * smaller ratio: any diagonal rescaling leaves c as it is, and with c fixed the ratio is
 * smallest when the diagonal entries are equal. */
static void jacobi_eigenvalues(double *ev, const double *A) {
    double c = fabs(A[1]) / sqrt(A[0] * A[3]);
    ev[0] = 1.0 - c;
    ev[1] = 1.0 + c;
}

/* g <- D^-1 g: each coordinate's step divided by A's diagonal entry. */
static void jacobi_scale(double *g, const gd_quad *q) {
    for (int i = 0; i < DIM; i++) g[i] /= q->A[i * DIM + i];
}

static int problem_init(problem *p, double mu, double L, double angle_deg, int jacobi) {
    double lambda[DIM] = {mu, L}, Q[DIM * DIM];
    gd_rotation2(Q, angle_deg * M_PI / 180.0);
    if (gd_quad_init(&p->q, DIM, lambda, Q) != 0) return -1;
    p->jacobi = jacobi;
    if (jacobi) jacobi_eigenvalues(p->ev, p->q.A);
    else p->ev[0] = mu, p->ev[1] = L;
    return 0;
}

/* The theory: the error in eigen-direction i is multiplied by |1 - lr lambda_i| per
 * step, so the slowest direction sets the contraction factor rho. */
static double theory_rho(double lr, const problem *p) {
    return fmax(fabs(1.0 - lr * p->ev[0]), fabs(1.0 - lr * p->ev[1]));
}

/* Run gradient descent from theta0 with step lr for at most max_steps steps, stopping
 * early once |theta| < tol (if stop_at_tol) or on divergence. Each iterate goes to t (if
 * not NULL). */
static run_result descend(const problem *p, const double *theta0, double lr, long max_steps,
                          double tol, int stop_at_tol, gd_table *t, int run) {
    run_result r = {lr, 0, -1, -1, NAN, NAN};
    const gd_quad *q = &p->q;
    double theta[DIM] = {theta0[0], theta0[1]}, g[DIM];
    double start = norm2(theta0), rho = theory_rho(lr, p);
    /* |theta| at every step, for the measured rho */
    static double norms[1000001];
    norms[0] = start;
#define ROW(step) \
    gd_table_row(t, "%d %g %ld %.10g %.10g %.10g %g %g %.6g", run, lr, (long)(step), theta[0], theta[1], \
                 gd_quad_loss(q, theta), p->ev[0], p->ev[1], rho)
    if (t) ROW(0);
    if (start < tol) r.reached_tol = 0;
    for (long k = 1; k <= max_steps; k++) {
        // region update
        gd_quad_grad(g, q, theta);            /* g = A theta, the gradient of f(theta) */
        if (p->jacobi) jacobi_scale(g, q);    /* --jacobi only: g <- D^-1 g, D = diag(A) */
        for (int i = 0; i < DIM; i++)
            theta[i] = theta[i] - lr * g[i];  /* the whole method: theta <- theta - lr * grad f(theta) */
        // endregion update
        double n = norm2(theta);
        norms[k] = n;
        r.steps_run = k;
        if (t) ROW(k);
        if (!isfinite(n) || n > DIVERGED * start) {
            r.diverged_at = k;
            break;
        }
        if (n < tol && r.reached_tol < 0) {
            r.reached_tol = k;
            if (stop_at_tol) break;
        }
    }
#undef ROW
    /* measured asymptotic rho: the geometric mean of |theta_t| / |theta_{t-1}| over the
     * second half of the run (the first half lets the faster direction die out); 0 if
     * the iterate hit the minimum exactly */
    long n = r.steps_run, half = n / 2;
    if (n >= 2 && norms[n] == 0) r.rho = 0;
    else if (n >= 2 && norms[half] > 0 && norms[n] > 0)
        r.rho = exp((log(norms[n]) - log(norms[half])) / (double)(n - half));
    r.final_loss = gd_quad_loss(q, theta);
    return r;
}

static void print_result(const run_result *r, const problem *p) {
    char what[64];
    if (r->diverged_at >= 0) snprintf(what, sizeof what, "diverged at step %ld", r->diverged_at);
    else if (r->reached_tol >= 0) snprintf(what, sizeof what, "converged at step %ld", r->reached_tol);
    else if (r->rho > 1.0) snprintf(what, sizeof what, "diverging (|theta| grows each step)");
    else snprintf(what, sizeof what, "not converged after %ld steps", r->steps_run);
    printf("%-10.6g %-12.6f %-12.6f %-12.4g %s\n", r->lr, theory_rho(r->lr, p), r->rho, r->final_loss, what);
}

/* Level sets f(theta) = c of 1/2 theta^T A theta are ellipses:
 * theta = Q (sqrt(2c/mu) cos s, sqrt(2c/L) sin s). */
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

/* The table of §1.4: by how much the best diagonal rescaling (D^-1, D = diag(A)) lowers
 * kappa, against the rotation of A's eigenvectors; and rho at the best step with it,
 * from theory and measured (200 steps from theta0). Returns the table's length or -1. */
static int diag_table(char *buf, size_t size, double mu, double L, const double *theta0) {
    static const double angles[] = {0, 15, 30, 45};
    int len = snprintf(buf, size,
                       "| rotation | κ of A | κ of D⁻¹A | best ρ, plain | best ρ with D⁻¹: theory | measured |\n"
                       "|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof angles / sizeof *angles && len > 0 && (size_t)len < size; i++) {
        problem p;
        if (problem_init(&p, mu, L, angles[i], 1) != 0) return -1;
        double kd = p.ev[1] / p.ev[0], best = 2.0 / (p.ev[0] + p.ev[1]);
        run_result r = descend(&p, theta0, best, 200, 0.0, 0, NULL, 0);
        len += snprintf(buf + len, size - (size_t)len, "| %g° | %.4g | %.4g | %.4f | %.4f | %.4f |\n", angles[i],
                        L / mu, kd, (L / mu - 1) / (L / mu + 1), (kd - 1) / (kd + 1), r.rho);
        gd_quad_free(&p.q);
    }
    return len;
}

int main(int argc, char **argv) {
    gd_floats lrs = {3, {0.02, 2.0 / 11.0, 0.205}};
    gd_floats x0_opt = {2, {-9.0, 3.0}};
    gd_floats sweep = {0};
    double mu = 1.0, L = 10.0, angle = 30.0, tol = 1e-6;
    long steps = 100;
    int keep_going = 0, jacobi = 0;
    const char *out = NULL, *contours = NULL, *rates = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lr", &lrs, "learning rates (eta) to run", 0, 1e6, 1),
        GD_OPT_FLOAT("mu", &mu, "smallest eigenvalue of A (mu, the strong convexity)", 0, 1e6, 1),
        GD_OPT_FLOAT("L", &L, "largest eigenvalue of A (L = lambda_max, the curvature; >= mu)", 0, 1e6, 1),
        GD_OPT_FLOAT("angle", &angle, "rotation of the eigenvectors, degrees", -360, 360, 0),
        GD_OPT_FLOATS("x0", &x0_opt, "starting point theta_0: theta1,theta2", -1e6, 1e6, 0),
        GD_OPT_INT("steps", &steps, "most steps per run", 1, 1000000),
        GD_OPT_FLOAT("tol", &tol, "stop when |theta| < tol (the minimum is theta = 0)", 0, 1e6, 0),
        GD_OPT_FLAG("keep-going", &keep_going, "run all steps even after reaching tol"),
        GD_OPT_FLAG("jacobi", &jacobi, "divide each coordinate's step by A's diagonal entry: theta <- theta - lr D^-1 grad f, D = diag(A)"),
        GD_OPT_FLOATS("sweep", &sweep, "LO,HI,N: run N learning rates evenly spaced in [LO, HI] instead of --lr", 0, 1e6, 0),
        GD_OPT_OUT("out", &out, "write every iterate theta_t to this table"),
        GD_OPT_OUT("contours", &contours, "write level sets of f to this table"),
        GD_OPT_OUT("rates", &rates, "write lr and the contraction factor rho (theory, measured) to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Gradient descent on f(theta) = 1/2 theta^T A theta in two dimensions (Chapter 1).\n"
                          "lr is the learning rate eta; rho = max |1 - lr lambda| is the contraction factor per step.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (L < mu) {
        fprintf(stderr, "%s: --L: must be >= --mu (%g), got %g\n", gd_prog(), mu, L);
        return 2;
    }
    if (x0_opt.n != 2) {
        fprintf(stderr, "%s: --x0: needs two numbers theta1,theta2, got %d\n", gd_prog(), x0_opt.n);
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

    problem p;
    if (problem_init(&p, mu, L, angle, jacobi) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    const gd_quad *q = &p.q;
    const double *x0 = x0_opt.v;

    gd_table *traj = NULL, *rate_t = NULL;
    if (out && !(traj = gd_table_open(out, "run lr step theta1 theta2 loss mu L rho"))) goto io_error;
    if (rates && !(rate_t = gd_table_open(rates, "lr rho_theory rho_measured status mu L"))) goto io_error;
    gd_table *tables[2] = {traj, rate_t};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch01-quadratic");
        gd_table_meta(tables[i], "problem", "f(theta) = 1/2 theta^T A theta, eigenvalues mu=%g L=%g, rotated %g degrees", mu, L, angle);
        if (jacobi)
            gd_table_meta(tables[i], "method", "theta <- theta - lr D^-1 grad f, D = diag(A): columns mu, L are the eigenvalues of D^-1 A");
        gd_table_meta(tables[i], "start", "theta_0 = (%g, %g)", x0[0], x0[1]);
        gd_table_meta(tables[i], "steps", "%ld (tol %g%s)", steps, tol, keep_going ? ", keep going" : "");
        gd_table_meta(tables[i], "seed", "none (deterministic: no randomness)");
    }

    int n = sweep.n ? (int)sweep.v[2] : lrs.n;
    run_result first[GD_FLOATS_MAX]; /* the --lr runs, for --numbers */
    printf("%-10s %-12s %-12s %-12s %s\n", "lr", "rho_theory", "rho_measured", "final_loss", "outcome");
    for (int i = 0; i < n; i++) {
        double lr = sweep.n ? sweep.v[0] + (sweep.v[1] - sweep.v[0]) * i / (n - 1) : lrs.v[i];
        if (traj && i > 0) gd_table_block(traj);
        run_result r = descend(&p, x0, lr, steps, tol, !keep_going, traj, i);
        print_result(&r, &p);
        if (i < GD_FLOATS_MAX) first[i] = r;
        if (rate_t)
            gd_table_row(rate_t, "%.6g %.6f %.6f %s %g %g", lr, theory_rho(lr, &p), r.rho,
                         r.diverged_at >= 0 || r.rho > 1.0 ? "diverged" : r.reached_tol >= 0 ? "converged" : "running",
                         p.ev[0], p.ev[1]);
    }
    if (contours) {
        gd_table *c = gd_table_open(contours, "level theta1 theta2");
        if (!c) goto io_error;
        gd_table_meta(c, "program", "ch01-quadratic");
        gd_table_meta(c, "problem", "level sets of 1/2 theta^T A theta, mu=%g L=%g, rotated %g degrees", mu, L, angle);
        double levels[] = {0.5, 2, 8, 24, 64, 160, 400};
        write_contours(c, q, levels, (int)(sizeof levels / sizeof *levels));
        if (gd_table_close(c) != 0) goto io_error;
    }
    if (numbers) {
        /* What Chapter 1 quotes: theory, and the same quantities measured here (for
         * plain gradient descent on the problem given, whatever --jacobi says). */
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch01-quadratic");
        problem plain;
        if (problem_init(&plain, mu, L, angle, 0) != 0) {
            gd_table_abort(t);
            goto io_error;
        }
        double kappa = L / mu, best = 2.0 / (mu + L);
        run_result at_best = descend(&plain, x0, best, 200, 0.0, 0, NULL, 0);
        run_result at_inv_l = descend(&plain, x0, 1.0 / L, 200, 0.0, 0, NULL, 0);
        gd_table_kv(t, "q_mu", "%g", mu);
        gd_table_kv(t, "q_L", "%g", L);
        gd_table_kv(t, "q_kappa", "%g", kappa);
        gd_table_kv(t, "q_lr_max", "%.4g", 2.0 / L);
        gd_table_kv(t, "q_lr_best", "%.4f", best);
        gd_table_kv(t, "q_best_over_max", "%.4f", best / (2.0 / L)); /* = kappa/(kappa+1) */
        gd_table_kv(t, "q_rho_best_theory", "%.4f", (kappa - 1) / (kappa + 1));
        gd_table_kv(t, "q_rho_best_measured", "%.4f", at_best.rho);
        gd_table_kv(t, "q_rho_inv_l_theory", "%.4f", 1.0 - 1.0 / kappa);
        gd_table_kv(t, "q_rho_inv_l_measured", "%.4f", at_inv_l.rho);
        /* steps to shrink the error by 1e6, from rho: ln(1e-6) / ln(rho) */
        gd_table_kv(t, "q_steps_best", "%.0f", ceil(log(1e-6) / log((kappa - 1) / (kappa + 1))));
        gd_table_kv(t, "q_steps_inv_l", "%.0f", ceil(log(1e-6) / log(1.0 - 1.0 / kappa)));
        /* just below and just above the edge 2/L, run until |theta| < 1e-6 or divergence */
        double below = 0.995 * 2.0 / L, above = 1.005 * 2.0 / L;
        run_result r_below = descend(&plain, x0, below, 100000, 1e-6, 1, NULL, 0);
        run_result r_above = descend(&plain, x0, above, 100000, 1e-6, 1, NULL, 0);
        gd_table_kv(t, "q_lr_below", "%.4g", below);
        gd_table_kv(t, "q_lr_above", "%.4g", above);
        gd_table_kv(t, "q_below_converged_at", "%ld", r_below.reached_tol);
        gd_table_kv(t, "q_above_diverged_at", "%ld", r_above.diverged_at);
        gd_table_kv(t, "q_x0", "(%g, %g)", x0[0], x0[1]);
        gd_table_kv(t, "q_angle", "%g", angle);
        gd_table_kv(t, "q_steps", "%ld", steps);
        gd_table_kv(t, "q_lr_inv_l", "%.4g", 1.0 / L);
        /* the best diagonal rescaling at this angle, and the table over angles */
        problem diag;
        if (problem_init(&diag, mu, L, angle, 1) != 0) {
            gd_quad_free(&plain.q);
            gd_table_abort(t);
            goto io_error;
        }
        double kd = diag.ev[1] / diag.ev[0];
        gd_table_kv(t, "q_kappa_diag", "%.3g", kd);
        gd_table_kv(t, "q_rho_diag", "%.4f", (kd - 1) / (kd + 1));
        gd_quad_free(&diag.q);
        char buf[2048];
        if (diag_table(buf, sizeof buf, mu, L, x0) < 0) {
            gd_quad_free(&plain.q);
            gd_table_abort(t);
            goto io_error;
        }
        gd_table_kv(t, "q_diag", "%s", buf);
        for (int i = 0; i < lrs.n && !sweep.n; i++) {
            char key[64];
            snprintf(key, sizeof key, "q_run%d_lr", i);
            gd_table_kv(t, key, "%.4g", first[i].lr);
            snprintf(key, sizeof key, "q_run%d_lrL", i); /* lr L, against the limit 2 */
            gd_table_kv(t, key, "%.4g", first[i].lr * L);
            snprintf(key, sizeof key, "q_run%d_rho", i);
            gd_table_kv(t, key, "%.4g", theory_rho(first[i].lr, &plain));
            snprintf(key, sizeof key, "q_run%d_steep", i); /* |1 - lr L|, the steep factor */
            gd_table_kv(t, key, "%.4g", fabs(1.0 - first[i].lr * L));
            snprintf(key, sizeof key, "q_run%d_flat", i);  /* |1 - lr mu| */
            gd_table_kv(t, key, "%.4g", fabs(1.0 - first[i].lr * mu));
        }
        gd_quad_free(&plain.q);
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (traj && gd_table_close(traj) != 0) { traj = NULL; goto io_error; }
    if (rate_t && gd_table_close(rate_t) != 0) { rate_t = NULL; goto io_error; }
    gd_quad_free(&p.q);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (traj) gd_table_abort(traj);
    if (rate_t) gd_table_abort(rate_t);
    gd_quad_free(&p.q);
    return 1;
}

/* test_ch01.c -- the claims Chapter 1 makes, checked against the theory.
 *
 * Each test runs the chapter's programs as a reader would, or reads the tables `make`
 * made for the figures and the text, and compares them with the closed forms of
 * §1.1-1.6 (never with numbers copied from an earlier run). Chapter 1 is deterministic
 * and uses no BLAS, so every build (seed base, OpenBLAS kernel) must pass the same way.
 */
#include "../common.h"

#include <math.h>

#include "optim.h"
#include "tensor.h"

#define QUAD GD_BIN "ch01-quadratic"
#define NONCONVEX GD_BIN "ch01-nonconvex"
#define D01 GD_BUILD_DIR "/ch01/"
#define NUMQ D01 "numbers-quadratic.tsv"
#define NUMNC D01 "numbers-nonconvex.tsv"
#define README "chapters/01-gradient-descent/README.md"

/* The summary row `quadratic` prints for one learning rate:
 * lr rho_theory rho_measured final_loss outcome... (program output, not a table) */
typedef struct {
    double lr, theory, measured, final_loss;
    char outcome[128];
} quad_row;

static quad_row run_quad(const char *args) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, QUAD " %s", args);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s failed: %s", cmd, r.err);
    const char *row = strchr(r.out, '\n'); /* skip the header */
    cr_assert_not_null(row);
    quad_row q = {0};
    int n = sscanf(row + 1, "%lf %lf %lf %lf %127[^\n]", &q.lr, &q.theory, &q.measured, &q.final_loss, q.outcome);
    cr_assert_eq(n, 5, "cannot parse: %s", row + 1);
    t_free(&r);
    return q;
}

/* ---------------------------------------------------------------------------------- */
/* §1.1: the loss's scale. Gradient descent: multiplying f by c multiplies A (mu and L)
 * by c, and eta/c on c f takes the same steps as eta on f. */
Test(ch01_scale, gd_steps_are_unchanged_by_c_f_with_eta_over_c) {
    const double c = 10;
    char cmd[512];
    snprintf(cmd, sizeof cmd, QUAD " --lr 0.02,0.18181818181818182,0.205 --tol 0 --out %%s");
    t_tsv *a = t_run_table(cmd);
    snprintf(cmd, sizeof cmd, QUAD " --mu %g --L %g --lr %.17g,%.17g,%.17g --tol 0 --out %%s", 1 * c, 10 * c, 0.02 / c,
             0.18181818181818182 / c, 0.205 / c);
    t_tsv *b = t_run_table(cmd);
    cr_assert_eq(a->nrows, b->nrows);
    int x1a = t_tsv_col(a, "theta1"), x2a = t_tsv_col(a, "theta2"), x1b = t_tsv_col(b, "theta1"),
        x2b = t_tsv_col(b, "theta2");
    double worst = 0;
    for (int i = 0; i < a->nrows; i++) {
        double d1 = fabs(t_tsv_num(a, i, x1a) - t_tsv_num(b, i, x1b)), d2 = fabs(t_tsv_num(a, i, x2a) - t_tsv_num(b, i, x2b));
        double scale = fmax(1.0, fmax(fabs(t_tsv_num(a, i, x1a)), fabs(t_tsv_num(a, i, x2a))));
        worst = fmax(worst, fmax(d1, d2) / scale);
    }
    /* the same steps up to rounding (the tables print 10 digits) */
    cr_expect(worst < 1e-8, "eta/c on c f differs from eta on f by %g (relative)", worst);
    t_tsv_free(a);
    t_tsv_free(b);
}

/* Adam on f and on c f, with the same lr: |theta| trajectories that differ only by the
 * rounding of float32 and by eps (1e-8 against gradients of order 1 or more here). And
 * gradient descent with that same lr is not invariant: on 10 f it diverges. */
static void adam_on_scaled_quadratic(float *path, int steps, double c, double lr) {
    /* A = Q diag(1, 10) Q^T with Q the chapter's 30-degree rotation, built here */
    double th = 30 * M_PI / 180, co = cos(th), si = sin(th), l1 = 1, l2 = 10;
    double A[4] = {co * co * l1 + si * si * l2, co * si * (l1 - l2), co * si * (l1 - l2), si * si * l1 + co * co * l2};
    gd_param p;
    int shape[1] = {2};
    cr_assert_eq(gd_param_init(&p, "theta", 1, shape), 0);
    p.value->data[0] = -9;
    p.value->data[1] = 3;
    gd_hparams hp = gd_optim_defaults(GD_ADAM);
    hp.lr = lr;
    gd_optim *o = gd_optim_new(GD_ADAM, &hp);
    cr_assert_not_null(o);
    cr_assert_geq(gd_optim_add_group(o, &p, 1, NULL), 0);
    for (int t = 0; t < steps; t++) {
        gd_optim_zero_grad(o);
        float *x = p.value->data, *g = p.grad->data;
        g[0] = (float)(c * (A[0] * x[0] + A[1] * x[1])); /* grad of c/2 x^T A x */
        g[1] = (float)(c * (A[2] * x[0] + A[3] * x[1]));
        gd_optim_step(o);
        path[2 * t] = x[0];
        path[2 * t + 1] = x[1];
    }
    gd_optim_free(o);
    gd_param_free(&p);
}

Test(ch01_scale, adam_steps_do_not_depend_on_the_loss_scale) {
    enum { STEPS = 300 };
    static float a[2 * STEPS], b[2 * STEPS], s[2 * STEPS];
    const double lr = 0.05;
    adam_on_scaled_quadratic(a, STEPS, 1, lr);
    adam_on_scaled_quadratic(b, STEPS, 10, lr);
    adam_on_scaled_quadratic(s, STEPS, 0.1, lr);
    double worst = 0, moved = 0;
    for (int i = 0; i < 2 * STEPS; i++) {
        worst = fmax(worst, fmax(fabs(a[i] - b[i]), fabs(a[i] - s[i])));
        moved = fmax(moved, fabs(a[i] - (i % 2 ? 3 : -9)));
    }
    /* |theta_0| ~ 9.5: a difference of 1e-4 is float32 rounding, not another path */
    cr_expect(worst < 1e-4, "Adam on 10 f or f/10 differs from Adam on f by %g", worst);
    cr_expect(moved > 5, "Adam did not move (%g): the comparison would be empty", moved);
    /* gradient descent at one lr: fine on f, diverges on 10 f (its lr has units) */
    quad_row on_f = run_quad("--lr 0.15 --steps 200 --tol 0");
    quad_row on_10f = run_quad("--mu 10 --L 100 --lr 0.15 --steps 200 --tol 0");
    cr_expect(on_f.measured < 1, "GD at 0.15 on f: rho %g", on_f.measured);
    cr_expect(strncmp(on_10f.outcome, "diverged", 8) == 0, "GD at 0.15 on 10 f: %s", on_10f.outcome);
}

/* ---------------------------------------------------------------------------------- */
/* §1.3: f = 1/2 (theta1^2 + 10 theta2^2) (mu = 1, L = 10): 2/L = 0.2 is the edge. */
Test(ch01_quadratic, just_below_two_over_L_converges) {
    quad_row q = run_quad("--lr 0.199 --steps 100000 --tol 1e-6 --angle 0");
    cr_expect(strncmp(q.outcome, "converged at step", 17) == 0, "lr 0.199: %s", q.outcome);
}

Test(ch01_quadratic, just_above_two_over_L_diverges) {
    quad_row q = run_quad("--lr 0.201 --steps 100000 --tol 1e-6 --angle 0");
    cr_expect(strncmp(q.outcome, "diverged at step", 16) == 0, "lr 0.201: %s", q.outcome);
}

/* The text's pair (§1.3): half a percent either side of 2/L, one converges and one runs
 * away, as the numbers table says. */
Test(ch01_quadratic, the_edge_in_the_text) {
    double L = t_num(NUMQ, "q_L"), below = t_num(NUMQ, "q_lr_below"), above = t_num(NUMQ, "q_lr_above");
    cr_expect(fabs(t_num(NUMQ, "q_lr_max") - 2 / L) < 1e-9);
    cr_expect(below < 2 / L && above > 2 / L && fabs(below * L / 2 - 0.995) < 1e-3 && fabs(above * L / 2 - 1.005) < 1e-3,
              "%g and %g are not half a percent either side of 2/L = %g", below, above, 2 / L);
    cr_expect_gt(t_num(NUMQ, "q_below_converged_at"), 0);
    cr_expect_gt(t_num(NUMQ, "q_above_diverged_at"), 0);
}

/* §1.4: rho at 2/(mu+L) is (kappa-1)/(kappa+1), at 1/L it is 1 - 1/kappa, to +-0.002;
 * the table's numbers and step counts agree with the theory computed here. */
Test(ch01_quadratic, rho_at_best_step) {
    double mu = 1, L = 10, kappa = L / mu;
    quad_row q = run_quad("--lr 0.18181818181818182 --steps 300 --tol 0");
    cr_expect(fabs(q.measured - (kappa - 1) / (kappa + 1)) < 0.002, "measured %g", q.measured);
}

Test(ch01_quadratic, rho_at_one_over_L) {
    quad_row q = run_quad("--lr 0.1 --steps 300 --tol 0");
    cr_expect(fabs(q.measured - (1.0 - 1.0 / 10.0)) < 0.002, "measured %g", q.measured);
}

Test(ch01_quadratic, the_table_of_section_1_4) {
    double mu = t_num(NUMQ, "q_mu"), L = t_num(NUMQ, "q_L"), kappa = L / mu;
    double best = (kappa - 1) / (kappa + 1), inv = 1 - 1 / kappa;
    cr_expect(fabs(t_num(NUMQ, "q_lr_best") - 2 / (mu + L)) < 1e-4);
    cr_expect(fabs(t_num(NUMQ, "q_rho_best_theory") - best) < 1e-4);
    cr_expect(fabs(t_num(NUMQ, "q_rho_best_measured") - best) < 0.002);
    cr_expect(fabs(t_num(NUMQ, "q_rho_inv_l_theory") - inv) < 1e-4);
    cr_expect(fabs(t_num(NUMQ, "q_rho_inv_l_measured") - inv) < 0.002);
    cr_expect_eq(t_num(NUMQ, "q_steps_best"), ceil(log(1e-6) / log(best)));
    cr_expect_eq(t_num(NUMQ, "q_steps_inv_l"), ceil(log(1e-6) / log(inv)));
    /* lesson 2: eta* / (2/L) = kappa / (kappa + 1) */
    cr_expect(fabs(t_num(NUMQ, "q_best_over_max") - kappa / (kappa + 1)) < 1e-4);
}

/* The bound |theta_t| <= rho^t |theta_0| holds at every step, not only in the limit
 * (I - eta A is symmetric), so the step counts are enough. */
Test(ch01_quadratic, contraction_bound_holds_every_step) {
    t_tsv *t = t_run_table(QUAD " --lr 0.02,0.1,0.18181818181818182,0.199 --steps 300 --tol 0 --out %s");
    int c1 = t_tsv_col(t, "theta1"), c2 = t_tsv_col(t, "theta2"), cs = t_tsv_col(t, "step"), cr = t_tsv_col(t, "rho");
    double start = 0;
    for (int i = 0; i < t->nrows; i++) {
        double n = hypot(t_tsv_num(t, i, c1), t_tsv_num(t, i, c2)), step = t_tsv_num(t, i, cs);
        if (step == 0) start = n;
        cr_expect(n <= pow(t_tsv_num(t, i, cr), step) * start * (1 + 1e-6), "row %d: |theta| %g > rho^t |theta_0|", i, n);
    }
    t_tsv_free(t);
}

/* The theory holds whatever the eigenvalues and rotation: kappa = 50, turned 10 degrees. */
Test(ch01_quadratic, rho_theory_for_other_conditioning) {
    quad_row q = run_quad("--mu 2 --L 100 --angle 10 --lr 0.0196078431372549 --steps 2000 --tol 0");
    double kappa = 50;
    cr_expect(fabs(q.measured - (kappa - 1) / (kappa + 1)) < 0.002, "measured %g", q.measured);
}

/* Figure 1.1 (the build's table): measured = max|1 - eta lambda| within 1e-3, runs
 * converge exactly below 2/L, and the smallest measured rho sits within one grid step
 * of 2/(mu+L). */
Test(ch01_quadratic, figure_1_1_matches_theory) {
    t_tsv *t = t_tsv_read(D01 "rates.tsv");
    int clr = t_tsv_col(t, "lr"), cth = t_tsv_col(t, "rho_theory"), cme = t_tsv_col(t, "rho_measured"),
        cst = t_tsv_col(t, "status"), cmu = t_tsv_col(t, "mu"), cL = t_tsv_col(t, "L");
    cr_assert_eq(t->nrows, 120);
    double mu = t_tsv_num(t, 0, cmu), L = t_tsv_num(t, 0, cL);
    double best_lr = 0, best_rho = INFINITY, step = t_tsv_num(t, 1, clr) - t_tsv_num(t, 0, clr);
    for (int i = 0; i < t->nrows; i++) {
        double lr = t_tsv_num(t, i, clr), measured = t_tsv_num(t, i, cme);
        const char *status = t_tsv_cell(t, i, cst);
        double expect = fmax(fabs(1 - lr * mu), fabs(1 - lr * L));
        cr_expect(fabs(t_tsv_num(t, i, cth) - expect) < 1e-6);
        cr_expect(fabs(measured - expect) < 1e-3, "lr %g: measured %g, theory %g", lr, measured, expect);
        if (lr < 2 / L - 1e-9) cr_expect_str_neq(status, "diverged", "lr %g < 2/L diverged", lr);
        if (lr > 2 / L + 1e-9) cr_expect_str_eq(status, "diverged", "lr %g > 2/L: %s", lr, status);
        if (measured < best_rho) best_rho = measured, best_lr = lr;
    }
    t_tsv_free(t);
    cr_expect(fabs(best_lr - 2 / (mu + L)) <= step, "smallest rho at lr %g, not near 2/(mu+L)", best_lr);
}

/* §1.5 and Figure 1.2: too small shrinks by 1 - eta mu; at 2/(mu+L) both directions
 * shrink by the same factor; too large has eta L > 2 and grows by |1 - eta L|. */
Test(ch01_quadratic, too_small_just_right_too_large) {
    double mu = t_num(NUMQ, "q_mu"), L = t_num(NUMQ, "q_L");
    double lr0 = t_num(NUMQ, "q_run0_lr"), lr1 = t_num(NUMQ, "q_run1_lr"), lr2 = t_num(NUMQ, "q_run2_lr");
    cr_expect(fabs(t_num(NUMQ, "q_run0_flat") - (1 - lr0 * mu)) < 1e-3);
    cr_expect(1 - lr0 * L > 0, "the too-small step should not zigzag");
    cr_expect(fabs(lr1 - 2 / (mu + L)) < 1e-4, "run 1 is not 2/(mu+L): %g", lr1);
    cr_expect(fabs(t_num(NUMQ, "q_run1_steep") - t_num(NUMQ, "q_run1_flat")) < 1e-3);
    cr_expect(t_num(NUMQ, "q_run2_lrL") > 2 && fabs(t_num(NUMQ, "q_run2_lrL") - lr2 * L) < 1e-3);
    cr_expect(fabs(t_num(NUMQ, "q_run2_steep") - fabs(1 - lr2 * L)) < 1e-3);
    cr_expect(t_num(NUMQ, "q_run2_flat") < 1, "the flat direction of the too-large run still converges");
    /* and the runs measured at those rates (each with enough steps) */
    char args[128];
    snprintf(args, sizeof args, "--lr %.17g --steps 400 --tol 0", lr0);
    quad_row small = run_quad(args);
    cr_expect(fabs(small.measured - (1 - lr0 * mu)) < 0.002, "measured %g", small.measured);
    snprintf(args, sizeof args, "--lr %.17g --steps 100 --tol 0", lr2);
    quad_row large = run_quad(args);
    cr_expect(fabs(large.measured - fabs(1 - lr2 * L)) < 0.002, "measured %g", large.measured);
}

/* Figure 1.2's data: three runs from the same start; the first two end closer to the
 * minimum than they started, the third farther (it leaves the picture). */
Test(ch01_quadratic, figure_1_2_runs) {
    t_tsv *t = t_tsv_read(D01 "traj.tsv");
    int cr_ = t_tsv_col(t, "run"), c1 = t_tsv_col(t, "theta1"), c2 = t_tsv_col(t, "theta2"), crho = t_tsv_col(t, "rho");
    double first[3] = {NAN, NAN, NAN}, last[3] = {0}, rho[3] = {0};
    for (int i = 0; i < t->nrows; i++) {
        int run = (int)t_tsv_num(t, i, cr_);
        cr_assert(run >= 0 && run < 3);
        double n = hypot(t_tsv_num(t, i, c1), t_tsv_num(t, i, c2));
        if (isnan(first[run])) first[run] = n;
        last[run] = n;
        rho[run] = t_tsv_num(t, i, crho);
    }
    t_tsv_free(t);
    cr_expect(first[0] == first[1] && first[1] == first[2], "not the same start");
    cr_expect(rho[0] < 1 && last[0] < first[0]);
    cr_expect(rho[1] < rho[0] && last[1] < 1e-5);
    cr_expect(rho[2] > 1 && last[2] > 10 * first[2], "the too-large run should leave the picture: %g", last[2]);
}

/* Figure 1.3's caption: the loss shrinks by rho^2 per step (it is quadratic in theta),
 * for every run of the figure, over the second half of its 150 steps. */
Test(ch01_quadratic, figure_1_3_loss_ratio_is_rho_squared) {
    t_tsv *t = t_tsv_read(D01 "losses.tsv");
    int crun = t_tsv_col(t, "run"), cstep = t_tsv_col(t, "step"), closs = t_tsv_col(t, "loss"), crho = t_tsv_col(t, "rho");
    double half[5] = {0}, end[5] = {0}, rho[5] = {0};
    long last = 0;
    for (int i = 0; i < t->nrows; i++) {
        int run = (int)t_tsv_num(t, i, crun);
        long step = (long)t_tsv_num(t, i, cstep);
        cr_assert(run >= 0 && run < 5);
        if (step == 75) half[run] = t_tsv_num(t, i, closs);
        if (step == 150) end[run] = t_tsv_num(t, i, closs);
        rho[run] = t_tsv_num(t, i, crho);
        last = step > last ? step : last;
    }
    t_tsv_free(t);
    cr_assert_eq(last, 150);
    for (int r = 0; r < 5; r++) {
        double ratio = pow(end[r] / half[r], 1.0 / 75);
        cr_expect(fabs(ratio - rho[r] * rho[r]) < 2e-3, "run %d: loss ratio per step %g, rho^2 = %g", r, ratio,
                  rho[r] * rho[r]);
    }
}

/* ---------------------------------------------------------------------------------- */
/* §1.4, the diagonal rescaling. kappa of D^-1 A in closed form, for A = Q diag(mu, L) Q^T
 * turned by deg degrees. */
static void rotated(double *A, double mu, double L, double deg) {
    double th = deg * M_PI / 180, c = cos(th), s = sin(th);
    A[0] = c * c * mu + s * s * L;
    A[1] = A[2] = c * s * (mu - L);
    A[3] = s * s * mu + c * c * L;
}
/* condition number of the symmetric 2x2 [[a, b], [b, d]] */
static double kappa2(double a, double b, double d) {
    double m = 0.5 * (a + d), r = sqrt(0.25 * (a - d) * (a - d) + b * b);
    return (m + r) / (m - r);
}

/* The text: in two dimensions D = diag(A) is the best diagonal rescaling. Scan every
 * ratio of the two scales over six decades: none does better. */
Test(ch01_diag, jacobi_is_the_best_diagonal_rescaling_in_2d) {
    for (double deg = 0; deg <= 90; deg += 7.5) {
        double A[4];
        rotated(A, 1, 10, deg);
        double jac = kappa2(1, A[1] / sqrt(A[0] * A[3]), 1);
        for (double e = -3; e <= 3; e += 0.01) {
            double s = pow(10, e); /* S = diag(1, s): S A S */
            double k = kappa2(A[0], s * A[1], s * s * A[3]);
            cr_expect(k >= jac * (1 - 1e-9), "angle %g: scale %g gives kappa %g < Jacobi's %g", deg, s, k, jac);
        }
        cr_expect(jac <= 10 * (1 + 1e-9));
    }
}

/* The table of §1.4 and the sentences after it: kappa of D^-1 A from the closed form;
 * 1 at 0 degrees (one step lands on the minimum), kappa at 45 (nothing changes), and in
 * between a kappa that stays above 1; measured rho equals the theory. */
Test(ch01_diag, the_table_and_its_sentences) {
    char *block = t_str(NUMQ, "q_diag");
    for (char *p = block; (p = strstr(p, "\\n"));) p[0] = ' ', p[1] = '\n'; /* the table's "\n" */
    double mu = t_num(NUMQ, "q_mu"), L = t_num(NUMQ, "q_L");
    int rows = 0;
    for (char *line = strtok(block, "\n"); line; line = strtok(NULL, "\n")) {
        double deg, k, kd, plain, theory, measured;
        if (sscanf(line, "| %lf° | %lf | %lf | %lf | %lf | %lf |", &deg, &k, &kd, &plain, &theory, &measured) != 6) continue;
        rows++;
        double A[4];
        rotated(A, mu, L, deg);
        double expect = kappa2(1, A[1] / sqrt(A[0] * A[3]), 1);
        cr_expect(fabs(kd - expect) < 1e-3 * expect, "%g deg: kappa of D^-1 A %g, expected %g", deg, kd, expect);
        cr_expect(fabs(k - L / mu) < 1e-9 && fabs(plain - (L / mu - 1) / (L / mu + 1)) < 1e-4);
        cr_expect(fabs(theory - (expect - 1) / (expect + 1)) < 1e-4);
        cr_expect(fabs(measured - theory) < 0.002, "%g deg: measured rho %g, theory %g", deg, measured, theory);
        if (deg == 0) cr_expect(kd == 1 && measured == 0, "at 0 degrees one step should land on the minimum");
        if (deg == 45) cr_expect(fabs(kd - L / mu) < 1e-3, "at 45 degrees the rescaling should change nothing");
    }
    free(block);
    cr_expect_eq(rows, 4);
    double A[4], angle = t_num(NUMQ, "q_angle");
    rotated(A, mu, L, angle);
    double expect = kappa2(1, A[1] / sqrt(A[0] * A[3]), 1);
    cr_expect(fabs(t_num(NUMQ, "q_kappa_diag") - expect) < 0.01, "q_kappa_diag %g, expected %g", t_num(NUMQ, "q_kappa_diag"), expect);
    cr_expect(expect > 1.5, "at %g degrees the rescaled kappa %g is no longer ill-conditioned", angle, expect);
}

/* --jacobi measured at another rotation, from its best step. */
Test(ch01_diag, jacobi_run_matches_theory) {
    double A[4];
    rotated(A, 2, 50, 20);
    double c = fabs(A[1]) / sqrt(A[0] * A[3]), lo = 1 - c, hi = 1 + c, kd = hi / lo;
    char args[256];
    snprintf(args, sizeof args, "--jacobi --mu 2 --L 50 --angle 20 --lr %.17g --steps 2000 --tol 0", 2 / (lo + hi));
    quad_row q = run_quad(args);
    cr_expect(fabs(q.theory - (kd - 1) / (kd + 1)) < 1e-5, "theory %g", q.theory);
    cr_expect(fabs(q.measured - (kd - 1) / (kd + 1)) < 0.002, "measured %g, theory %g", q.measured, (kd - 1) / (kd + 1));
}

/* ---------------------------------------------------------------------------------- */
/* §1.6: on theta cos theta from theta_0 = 2, lr 0.1 settles in the nearest minimum (f' = 0
 * between 3 and 4), lr 0.9 is thrown out of it and settles in the flatter one between -1
 * and 0, lr 1.1 never settles. The minima are found here by bisection on f'. */
static double dfx(double x) { return cos(x) - x * sin(x); }
static double d2fx(double x) { return -2 * sin(x) - x * cos(x); }
static double fx(double x) { return x * cos(x); }
static double root(double lo, double hi) {
    for (int i = 0; i < 200; i++) {
        double m = 0.5 * (lo + hi);
        if ((dfx(lo) < 0) == (dfx(m) < 0)) lo = m;
        else hi = m;
    }
    return 0.5 * (lo + hi);
}

Test(ch01_nonconvex, the_step_chooses_the_minimum) {
    t_result r = t_run(NONCONVEX " --lr 0.1,0.9,1.1 --x0 2 --steps 200");
    cr_assert_eq(r.status, 0, "%s", r.err);
    double sharp = root(3, 4), flat = root(-1.5, 0);
    double lr[3], x[3];
    char outcome[3][128];
    const char *line = strchr(r.out, '\n') + 1;
    for (int i = 0; i < 3; i++) {
        char xs[32], fs[32];
        cr_assert_eq(sscanf(line, "%lf %31s %31s %127[^\n]", &lr[i], xs, fs, outcome[i]), 4, "%s", line);
        x[i] = atof(xs);
        line = strchr(line, '\n') + 1;
    }
    cr_expect(strstr(outcome[0], "settled") && fabs(x[0] - sharp) < 1e-5, "lr 0.1: %g %s", x[0], outcome[0]);
    cr_expect(strstr(outcome[1], "settled") && fabs(x[1] - flat) < 1e-5, "lr 0.9: %g %s", x[1], outcome[1]);
    cr_expect(strstr(outcome[2], "did not settle") != NULL, "lr 1.1: %s", outcome[2]);
    /* and the reason: lr < 2/f'' where it settled, lr > 2/f'' at the minimum it left */
    cr_expect(0.9 < 2 / d2fx(flat));
    cr_expect(0.9 > 2 / d2fx(sharp));
    /* "the nearest minimum" to theta_0 = 2, and "a worse minimum" */
    cr_expect(fabs(2 - sharp) < fabs(2 - flat));
    cr_expect(fx(flat) > fx(sharp));
    t_free(&r);
}

/* The table of minima (the build's) and the counts in the text: how many of them are
 * flat enough for each step, counted here from f'' at each minimum. */
Test(ch01_nonconvex, minima_table_and_counts) {
    t_tsv *t = t_tsv_read(D01 "nc-minima.tsv");
    int cx = t_tsv_col(t, "theta"), cc = t_tsv_col(t, "curvature"), cm = t_tsv_col(t, "max_stable_lr");
    cr_expect_eq(t->nrows, (int)t_num(NUMNC, "nc_nmin"));
    const double lrs[3] = {0.1, 0.9, 1.1};
    int nflat[3] = {0};
    for (int i = 0; i < t->nrows; i++) {
        double x = t_tsv_num(t, i, cx);
        cr_expect(fabs(dfx(x)) < 1e-5 && d2fx(x) > 0, "%g is not a minimum", x);
        cr_expect(fabs(t_tsv_num(t, i, cc) - d2fx(x)) < 1e-5);
        cr_expect(fabs(t_tsv_num(t, i, cm) - 2 / d2fx(x)) < 1e-5);
        for (int k = 0; k < 3; k++) nflat[k] += lrs[k] * d2fx(x) < 2;
    }
    /* "minima get deeper and sharper away from 0" */
    for (int i = 0; i < t->nrows; i++)
        for (int j = 0; j < t->nrows; j++) {
            double xi = t_tsv_num(t, i, cx), xj = t_tsv_num(t, j, cx);
            if (fabs(xi) < fabs(xj)) cr_expect(fx(xi) > fx(xj) && d2fx(xi) < d2fx(xj), "minima at %g and %g", xi, xj);
        }
    t_tsv_free(t);
    for (int k = 0; k < 3; k++) {
        char key[32];
        snprintf(key, sizeof key, "nc_run%d_lr", k);
        cr_assert(fabs(t_num(NUMNC, key) - lrs[k]) < 1e-12, "the chapter's runs are no longer 0.1, 0.9, 1.1");
        snprintf(key, sizeof key, "nc_run%d_nflat", k);
        cr_expect_eq((int)t_num(NUMNC, key), nflat[k], "%s", key);
    }
    /* the text: one flat enough for 0.9 (the one it settles in), none for 1.1 */
    cr_expect_eq(nflat[1], 1);
    cr_expect_eq(nflat[2], 0);
}

/* The bound 2/f''(theta*) is sharp: started next to theta* ~ 3.43 (2/f'' ~ 0.52), 0.95
 * of the bound settles there and 1.05 of it is thrown out. */
Test(ch01_nonconvex, curvature_bound_is_sharp) {
    double sharp = root(3, 4), bound = 2 / d2fx(sharp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, NONCONVEX " --lr %.6f,%.6f --x0 %.6f --steps 2000", 0.95 * bound, 1.05 * bound, sharp + 0.01);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *row1 = strchr(r.out, '\n') + 1, *row2 = strchr(row1, '\n') + 1;
    double x1 = atof(strchr(row1, ' '));
    cr_expect(strstr(row1, "settled at") && row1 < row2 && fabs(x1 - sharp) < 1e-5, "below the bound: %s", row1);
    cr_expect(strstr(row2, "settled at") == NULL || fabs(atof(strchr(row2, ' ')) - sharp) > 0.1,
              "above the bound it must not settle at %g: %s", sharp, row2);
    t_free(&r);
}

/* §1.7's example: 0.5 and 0.55 are either side of 2/f'' at theta* ~ 3.43, and the runs
 * from 3.4 do what that predicts. */
Test(ch01_nonconvex, try_it_either_side_of_the_bound) {
    double sharp = root(3, 4), bound = 2 / d2fx(sharp);
    cr_expect(0.5 < bound && bound < 0.55 && fabs(bound - 0.52) < 0.005, "2/f'' = %g", bound);
    t_result r = t_run(NONCONVEX " --lr 0.5,0.55 --x0 3.4 --steps 1000");
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *row1 = strchr(r.out, '\n') + 1, *row2 = strchr(row1, '\n') + 1;
    cr_expect(strstr(row1, "settled at") && fabs(atof(strchr(row1, ' ')) - sharp) < 1e-5, "0.5: %s", row1);
    cr_expect(strstr(row2, "settled at") == NULL || fabs(atof(strchr(row2, ' ')) - sharp) > 0.1, "0.55: %s", row2);
    t_free(&r);
}

/* ---------------------------------------------------------------------------------- */
/* The commands the text prints are runnable as written. Each figure caption's
 * "Data: `build/bin/...`" command is run in a scratch directory (build/bin/ -> this
 * build's programs, build/ch01/ -> the scratch directory) and must write, byte for
 * byte, the tables the figure was drawn from; every command of §1.7 must exit 0. */
static char *replace_all(const char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from)) n++;
    char *out = malloc(strlen(s) + n * (nt + 1) + 1), *o = out;
    for (const char *p; (p = strstr(s, from)); s = p + nf) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, nt);
        o += nt;
    }
    strcpy(o, s);
    return out;
}

static void run_in_scratch(const char *command, int check_tables) {
    char cwd[1024], bin[1200], dir[] = "/tmp/gdtest-ch01cmd-XXXXXX";
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_not_null(mkdtemp(dir));
    snprintf(bin, sizeof bin, "%s/" GD_BIN, cwd);
    char scratch[64];
    snprintf(scratch, sizeof scratch, "%s/", dir);
    char *a = replace_all(command, "build/bin/", bin);
    char *b = replace_all(a, "build/ch01/", scratch);
    char *cmd;
    cr_assert(asprintf(&cmd, "cd %s && %s", dir, b) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d: %s", command, r.status, r.err);
    t_free(&r);
    if (check_tables) {
        int n = 0;
        for (const char *p = strstr(command, "build/ch01/"); p; p = strstr(p + 1, "build/ch01/")) {
            char name[64];
            cr_assert_eq(sscanf(p + strlen("build/ch01/"), "%63[^ `]", name), 1);
            char mine[256], built[256];
            snprintf(mine, sizeof mine, "%s/%s", dir, name);
            snprintf(built, sizeof built, D01 "%s", name);
            char *x = t_slurp(mine), *y = t_slurp(built);
            cr_expect(x && y && strcmp(x, y) == 0, "%s: %s differs from the figure's %s", command, name, built);
            free(x);
            free(y);
            n++;
        }
        cr_expect_gt(n, 0, "%s names no table", command);
    }
    free(a);
    free(b);
    free(cmd);
    char *rm;
    cr_assert(asprintf(&rm, "rm -rf %s", dir) > 0);
    cr_expect_eq(system(rm), 0);
    free(rm);
}

Test(ch01_text, caption_commands_make_the_figures_data) {
    char *text = t_slurp(README);
    cr_assert_not_null(text);
    int n = 0;
    /* every "`build/bin/ch01-...`" between a "*Figure 1." and the end of its caption */
    for (const char *fig = strstr(text, "*Figure 1."); fig; fig = strstr(fig + 1, "*Figure 1.")) {
        const char *end = strstr(fig, ".*\n");
        cr_assert_not_null(end);
        const char *cmd = strstr(fig, "`build/bin/ch01-");
        cr_assert(cmd && cmd < end, "a caption of Chapter 1 gives no command for its data");
        const char *close = strchr(cmd + 1, '`');
        char *c = strndup(cmd + 1, (size_t)(close - cmd - 1));
        run_in_scratch(c, 1);
        free(c);
        n++;
    }
    free(text);
    cr_expect_eq(n, 4, "Chapter 1 has four figures, found %d captions", n);
}

Test(ch01_text, try_it_commands_run) {
    char *text = t_slurp(README);
    cr_assert_not_null(text);
    const char *sec = strstr(text, "## 1.7 Try it");
    cr_assert_not_null(sec);
    const char *block = strstr(sec, "```sh\n"), *end = block ? strstr(block + 6, "```") : NULL;
    cr_assert(block && end);
    int n = 0;
    for (const char *line = block + 6; line < end; line = strchr(line, '\n') + 1) {
        if (strncmp(line, "build/bin/", 10) != 0) continue;
        size_t len = strcspn(line, "#\n");
        char *c = strndup(line, len);
        run_in_scratch(c, 0);
        free(c);
        n++;
    }
    free(text);
    cr_expect_geq(n, 5);
}

/* §1.7: "--jacobi --angle 0 --lr 1": axis-aligned, one step lands on the minimum. */
Test(ch01_text, jacobi_axis_aligned_takes_one_step) {
    quad_row q = run_quad("--jacobi --angle 0 --lr 1");
    cr_expect_str_eq(q.outcome, "converged at step 1");
}

/* ---------------------------------------------------------------------------------- */
/* Bad input: one line naming the option, exit 2, nothing written. */
Test(ch01_programs, bad_options_are_rejected) {
    t_assert_rejects(QUAD " --lr 0", 2, "--lr");
    t_assert_rejects(QUAD " --lr -0.1", 2, "--lr");
    t_assert_rejects(QUAD " --lr nan", 2, "--lr");
    t_assert_rejects(QUAD " --lr abc", 2, "--lr");
    t_assert_rejects(QUAD " --lr", 2, "--lr");
    t_assert_rejects(QUAD " --steps 0", 2, "--steps");
    t_assert_rejects(QUAD " --steps 2.5", 2, "--steps");
    t_assert_rejects(QUAD " --steps 99999999999", 2, "--steps");
    t_assert_rejects(QUAD " --L 0.5 --mu 1", 2, "--L");
    t_assert_rejects(QUAD " --x0 1,2,3", 2, "--x0");
    t_assert_rejects(QUAD " --sweep 0.2,0.1,10", 2, "--sweep");
    t_assert_rejects(QUAD " --sweep 0.1,0.2,2.5", 2, "--sweep");
    t_assert_rejects(QUAD " --learning-rate 0.1", 2, "--learning-rate");
    t_assert_rejects(QUAD " --jacobi=2", 2, "--jacobi");
    t_assert_rejects(QUAD " stray", 2, "stray");
    t_assert_rejects(NONCONVEX " --lr inf", 2, "--lr");
    t_assert_rejects(NONCONVEX " --c 0", 2, "--c");
    t_assert_rejects(NONCONVEX " --lo 1 --hi 0", 2, "--hi");
    t_assert_rejects(NONCONVEX " --bogus", 2, "--bogus");
}

Test(ch01_programs, help_exits_zero) {
    const char *progs[] = {QUAD, NONCONVEX};
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") && strstr(r.out, "--lr"), "%s", r.out);
        t_free(&r);
    }
}

/* A run that cannot write its output fails with one line and leaves an earlier result
 * untouched; a bad option never touches it either. */
Test(ch01_programs, failures_keep_earlier_results) {
    char dir[] = "/tmp/gdtest-keep-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/traj.tsv", dir);
    FILE *f = fopen(path, "w");
    fputs("earlier result\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, QUAD " --lr 0.1 --out %s --steps 0", path);
    t_assert_rejects(cmd, 2, "--steps");
    /* an unwritable directory for the second table makes the run fail after the first */
    snprintf(cmd, sizeof cmd, QUAD " --lr 0.1 --out %s --contours /proc/nonexistent/c.tsv", path);
    t_result r = t_run(cmd);
    cr_expect_neq(r.status, 0);
    cr_expect(strstr(r.err, "/proc/nonexistent") != NULL, "%s", r.err);
    t_free(&r);
    char *kept = t_slurp(path);
    cr_expect_str_eq(kept, "earlier result\n");
    free(kept);
    /* and no temporary files are left behind */
    snprintf(cmd, sizeof cmd, "ls %s | wc -l", dir);
    r = t_run(cmd);
    cr_expect_eq(atoi(r.out), 1, "files left in %s: %s", dir, r.out);
    t_free(&r);
    unlink(path);
    rmdir(dir);
}

/* Same arguments, same bytes. */
Test(ch01_programs, deterministic) {
    t_result a = t_run(QUAD " --sweep 0.01,0.25,25 --tol 0 --rates -");
    t_result b = t_run(QUAD " --sweep 0.01,0.25,25 --tol 0 --rates -");
    cr_expect_str_eq(a.out, b.out);
    t_free(&a);
    t_free(&b);
}

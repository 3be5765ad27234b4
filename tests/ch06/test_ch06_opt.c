/* test_ch06_opt.c -- the claims of Chapter 6, §6.1-6.4 (part opt: seven optimizers,
 * momentum's effective lr and stability limit, the loss scale, the defaults table).
 *
 * Theory is checked against the library or a direct computation (the eigenvalues of the
 * momentum iteration, the buffer's limit g / (1 - beta), the loss scale's equivalences).
 * The experiments' claims are read from what `make` wrote under GD_BUILD_DIR/ch06 and
 * checked with margins meant to hold for any seed base and BLAS kernel: orderings of
 * medians, bounds, counts; recomputed from the run tables where the text quotes a
 * summary.
 */
#include "../common.h"
#include "gd.h"

#include <math.h>

#define OPT GD_BIN "ch06-optimizers"
#define MOM GD_BIN "ch06-momentum"
#define D06 GD_BUILD_DIR "/ch06/"
#define NUM D06 "numbers-opt.tsv"
#define NUM_MOM D06 "numbers-opt-momentum.tsv"
#define NUM_LIM D06 "numbers-opt-limits.tsv"

static const char *names[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"};
#define NOPT 7

/* ---------------------------------------------------------------------------------- */
/* §6.2 theory */

/* Spectral radius of the 2x2 matrix [[a, b], [c, d]]. */
static double radius2(double a, double b, double c, double d) {
    double tr = a + d, det = a * d - b * c, disc = tr * tr / 4 - det;
    if (disc >= 0) return fmax(fabs(tr / 2 + sqrt(disc)), fabs(tr / 2 - sqrt(disc)));
    return sqrt(det);   /* complex pair: |z|^2 = det */
}

/* The matrices of the text: momentum (theta, v) -> ((1 - eta l) theta - eta b v, l theta + b v),
 * Nesterov ((1 - eta l (1 + b)) theta - eta b^2 v, l theta + b v). Just below the limit the
 * iteration contracts, just above it does not. */
Test(ch06_opt, stability_limit_is_where_the_eigenvalues_leave_the_unit_circle) {
    double l = 10, betas[] = {0, 0.5, 0.9, 0.99};
    for (int i = 0; i < 4; i++) {
        double b = betas[i];
        double hb = 2 * (1 + b) / l, nag = 2 * (1 + b) / ((1 + 2 * b) * l);
        for (int side = 0; side < 2; side++) {
            double f = side ? 1.001 : 0.999, eta = f * hb;
            double r = radius2(1 - eta * l, -eta * b, l, b);
            cr_expect(side ? r > 1 : r < 1, "momentum beta %g at %g x the limit: radius %g", b, f, r);
            if (b > 0) {
                eta = f * nag;
                r = radius2(1 - eta * l * (1 + b), -eta * b * b, l, b);
                cr_expect(side ? r > 1 : r < 1, "Nesterov beta %g at %g x the limit: radius %g", b, f, r);
            }
        }
    }
}

/* The program's bisection with the library's optimizer agrees with the formula. */
Test(ch06_opt, measured_limits_match_the_formulas) {
    t_tsv *t = t_tsv_read(D06 "opt-limits.tsv");
    int cf = t_tsv_col(t, "form"), cb = t_tsv_col(t, "beta"), cm = t_tsv_col(t, "measured"), ct = t_tsv_col(t, "theory");
    cr_assert_geq(t->nrows, 7);
    for (int i = 0; i < t->nrows; i++) {
        double b = t_tsv_num(t, i, cb), m = t_tsv_num(t, i, cm), th = t_tsv_num(t, i, ct);
        int nest = strcmp(t_tsv_cell(t, i, cf), "nesterov") == 0;
        double formula = nest ? 2 * (1 + b) / ((1 + 2 * b) * 10) : 2 * (1 + b) / 10;
        cr_expect(fabs(th / formula - 1) < 1e-7, "row %d: theory column %g, formula %g", i, th, formula);
        cr_expect(fabs(m / formula - 1) < 1e-3, "%s beta %g: measured %g, formula %g", nest ? "nesterov" : "momentum", b, m,
                  formula);
    }
    cr_expect_lt(t_num(NUM_LIM, "opt_lim_worst"), 1e-3);
    t_tsv_free(t);
}

/* With a constant gradient g the buffer after k steps is g (1 - beta^k) / (1 - beta): the
 * step tends to lr g / (1 - beta), plain SGD's at lr / (1 - beta). */
Test(ch06_opt, momentum_buffer_tends_to_g_over_one_minus_beta) {
    gd_param p;
    int shape[1] = {1};
    cr_assert_eq(gd_param_init(&p, "w", 1, shape), 0);
    gd_hparams hp = gd_optim_defaults(GD_SGD);
    hp.lr = 0.01, hp.momentum = 0.9;
    gd_optim *o = gd_optim_new(GD_SGD, &hp);
    cr_assert_not_null(o);
    cr_assert(gd_optim_add_group(o, &p, 1, NULL) >= 0);
    const float g = 0.5f;
    for (int k = 1; k <= 200; k++) {
        float before = p.value->data[0];
        p.grad->data[0] = g;
        gd_optim_step(o);
        double step = before - p.value->data[0], expect = hp.lr * g * (1 - pow(0.9, k)) / (1 - 0.9);
        cr_expect(fabs(step - expect) <= 1e-3 * expect + 1e-6, "step %d: %g, expected %g", k, step, expect);
    }
    gd_optim_free(o);
    gd_param_free(&p);
}

/* ---------------------------------------------------------------------------------- */
/* §6.3 theory: 100 x the loss is SGD at 100 x the lr, and Adam with eps / 100 */

static double val_loss(const char *args) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, OPT " %s --epochs 1 --train 1000 --val 500 --seeds 1 --batch-size 50 --out %%s", args);
    t_tsv *t = t_run_table(cmd);
    cr_assert_eq(t->nrows, 1);
    double v = t_tsv_num(t, 0, t_tsv_col(t, "val_loss"));
    t_tsv_free(t);
    return v;
}

Test(ch06_opt, loss_scale_is_an_lr_scale_for_sgd_and_an_eps_scale_for_adam) {
    double a = val_loss("--optim sgd --lr 0.001 --loss-scale 100"), b = val_loss("--optim sgd --lr 0.1");
    cr_expect(fabs(a / b - 1) < 1e-3, "SGD lr 0.001 x 100 loss: %g; lr 0.1: %g", a, b);
    double c = val_loss("--optim adam --lr 0.01 --loss-scale 100"), d = val_loss("--optim adam:eps=1e-10 --lr 0.01");
    cr_expect(fabs(c / d - 1) < 1e-3, "Adam x 100 loss: %g; eps 1e-10: %g", c, d);
    double e = val_loss("--optim adam --lr 0.01");
    cr_expect(isfinite(e));
}

/* ---------------------------------------------------------------------------------- */
/* The programs' interfaces */

Test(ch06_opt, programs_have_help_and_reject_bad_input) {
    t_result r = t_run(OPT " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--loss-scale") != NULL);
    t_free(&r);
    r = t_run(MOM " --help");
    cr_expect_eq(r.status, 0);
    t_free(&r);
    t_assert_rejects(OPT " --lr 0 --out /tmp/gd-ch06-never.tsv", 2, "--lr");
    t_assert_rejects(OPT " --optim adam:lr=0.1 --lr 0.01 --out /tmp/gd-ch06-never.tsv", 2, "--optim");
    t_assert_rejects(OPT " --loss-scale -1 --out /tmp/gd-ch06-never.tsv", 2, "--loss-scale");
    t_assert_rejects(OPT, 2, "--out");
    t_assert_rejects(OPT " --from /nonexistent.tsv --numbers /tmp/gd-ch06-never.tsv", 2, "/nonexistent.tsv");
    t_assert_rejects(MOM " --curves a --limits b", 2, "--limits");
    t_assert_rejects(MOM " --limits /tmp/gd-ch06-never.tsv --betas 1", 2, "--betas");
    struct stat st;
    cr_expect_neq(stat("/tmp/gd-ch06-never.tsv", &st), 0, "a rejected run wrote its output");
}

/* ---------------------------------------------------------------------------------- */
/* §6.1 from the data */

typedef struct {
    int n;
    double lr[16], med[16];
    int ndiv[16];
    double loss[16][8];
    int ns[16];
} curve;

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One optimizer's run table (scale 1 or 100): per lr (ascending, as written) the seeds'
 * losses (a diverged seed: +inf) and their median. */
static curve read_curve(const char *file) {
    curve c = {0};
    t_tsv *t = t_tsv_read(file);
    int cl = t_tsv_col(t, "lr"), cs = t_tsv_col(t, "status"), cv = t_tsv_col(t, "val_loss");
    for (int i = 0; i < t->nrows; i++) {
        double lr = t_tsv_num(t, i, cl);
        int k;
        for (k = 0; k < c.n && c.lr[k] != lr; k++) {
        }
        if (k == c.n) c.lr[c.n++] = lr;
        int div = strcmp(t_tsv_cell(t, i, cs), "diverged") == 0;
        c.loss[k][c.ns[k]++] = div ? INFINITY : t_tsv_num(t, i, cv);
        c.ndiv[k] += div;
    }
    for (int k = 0; k < c.n; k++) {
        double s[8];
        memcpy(s, c.loss[k], sizeof s);
        qsort(s, (size_t)c.ns[k], sizeof *s, cmpd);
        c.med[k] = c.ns[k] % 2 ? s[c.ns[k] / 2] : 0.5 * (s[c.ns[k] / 2 - 1] + s[c.ns[k] / 2]);
    }
    t_tsv_free(t);
    return c;
}

static int best_of(const curve *c) {
    int b = -1;
    for (int k = 0; k < c->n; k++)
        if (c->ndiv[k] == 0 && (b < 0 || c->med[k] < c->med[b])) b = k;
    return b;
}

static curve runs(const char *name) {
    char f[256];
    snprintf(f, sizeof f, D06 "opt-runs-%s.tsv", name);
    return read_curve(f);
}

static double num_key(const char *fmt, const char *name) {
    char key[128];
    snprintf(key, sizeof key, fmt, name);
    return t_num(NUM, key);
}

/* The best lr the text quotes is the grid point with the lowest median (no seed
 * diverged), recomputed from the runs; it is inside the grid, and so is the basin. */
Test(ch06_opt, best_lr_and_basin_recomputed_and_inside_the_grid) {
    for (int o = 0; o < NOPT; o++) {
        curve c = runs(names[o]);
        cr_assert_geq(c.ns[0], 5, "%s: fewer than 5 seeds", names[o]);
        int b = best_of(&c);
        cr_assert_geq(b, 0);
        double quoted = num_key("opt_%s_best_lr", names[o]);
        cr_expect(fabs(quoted / c.lr[b] - 1) < 1e-2, "%s: best lr %g in the text, %g from the runs", names[o], quoted, c.lr[b]);
        cr_expect(b > 0 && b < c.n - 1, "%s: best lr at the end of the grid", names[o]);
        cr_expect_eq(num_key("opt_%s_basin_at_edge", names[o]), 0, "%s: basin touches the grid's end", names[o]);
        /* the basin: within 10 % of the best median */
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < c.n; k++)
            if (c.ndiv[k] == 0 && c.med[k] <= 1.1 * c.med[b]) lo = fmin(lo, c.lr[k]), hi = fmax(hi, c.lr[k]);
        double width = log10(hi / lo);
        cr_expect(fabs(num_key("opt_%s_basin_width", names[o]) - width) < 0.06, "%s: basin width %g, recomputed %g",
                  names[o], num_key("opt_%s_basin_width", names[o]), width);
    }
}

/* "SGD has the highest best loss, 158 steps of plain SGD are not enough"; "Adam and AdamW
 * are indistinguishable here"; "momentum moves SGD's curve to the left" (by about 10 on
 * the slow side); "the best lrs span ... decades"; "the basins are narrow". */
Test(ch06_opt, orderings_the_text_states) {
    double best[NOPT];
    for (int o = 0; o < NOPT; o++) {
        curve c = runs(names[o]);
        best[o] = c.med[best_of(&c)];
    }
    for (int o = 1; o < NOPT; o++)
        cr_expect_gt(best[0] - best[o], 0.05, "SGD's best median %g is not clearly above %s's %g", best[0], names[o],
                     best[o]);
    char *worst = t_str(NUM, "opt_worst");
    cr_expect_str_eq(worst, "SGD");
    free(worst);
    cr_expect_lt(fabs(best[3] - best[4]), 0.05, "Adam %g and AdamW %g differ", best[3], best[4]);
    /* momentum's curve is SGD's moved left by about 1/(1-beta) = 10 on the slow side */
    double ratio = t_num(NUM, "opt_flank_ratio");
    cr_expect(ratio > 5 && ratio < 20, "flank ratio %g", ratio);
    curve cs = runs("sgd"), cm = runs("momentum");
    double level = t_num(NUM, "opt_flank_level"), x[2];
    curve *cc[2] = {&cs, &cm};
    for (int j = 0; j < 2; j++) {
        int i = 0;
        while (i < cc[j]->n && cc[j]->med[i] > level) i++;
        cr_assert(i > 0 && i < cc[j]->n, "the level %g is not crossed on the slow side", level);
        double x0 = log10(cc[j]->lr[i - 1]), x1 = log10(cc[j]->lr[i]), y0 = cc[j]->med[i - 1], y1 = cc[j]->med[i];
        x[j] = x0 + (y0 - level) / (y0 - y1) * (x1 - x0);
    }
    cr_expect(fabs(log10(ratio) - (x[0] - x[1])) < 0.01, "flank ratio %g, recomputed %g", ratio, pow(10, x[0] - x[1]));
    cr_expect_geq(t_num(NUM, "opt_best_span"), 1.5);
    cr_expect_leq(t_num(NUM, "opt_widest_width"), 2.0);
}

/* ---------------------------------------------------------------------------------- */
/* §6.2 from the data */

Test(ch06_opt, momentum_at_the_same_effective_lr_lines_up_and_the_controls_do_not) {
    cr_expect_leq(t_num(NUM_MOM, "opt_mom_gap"), 10, "momentum curves more than 10 %% off SGD's");
    cr_expect_geq(t_num(NUM_MOM, "opt_mom_sgd_small_final_lo"), 50, "SGD at eta(1-beta) not clearly above in every seed");
    cr_expect_leq(t_num(NUM_MOM, "opt_mom_momentum_same_lr_final_hi"), -10,
                  "momentum at eta not clearly below in every seed");
    /* recompute the gap from the curves: every seed, windows from step k/(1-beta) on */
    t_tsv *t = t_tsv_read(D06 "opt-momentum.tsv");
    int ca = t_tsv_col(t, "arm"), cb = t_tsv_col(t, "beta"), cs = t_tsv_col(t, "seed"), ct = t_tsv_col(t, "step"),
        cl = t_tsv_col(t, "train_loss");
    double k = t_num(NUM_MOM, "opt_mom_k"), worst = 0;
    int checked = 0;
    for (int i = 0; i < t->nrows; i++) {
        const char *arm = t_tsv_cell(t, i, ca);
        if (strncmp(arm, "momentum_0", 10) != 0) continue;
        double beta = t_tsv_num(t, i, cb), step = t_tsv_num(t, i, ct);
        if (step - 10 < k / (1 - beta)) continue;   /* the window (step-10, step] starts after k/(1-beta) */
        for (int j = 0; j < t->nrows; j++)
            if (strcmp(t_tsv_cell(t, j, ca), "sgd") == 0 && strcmp(t_tsv_cell(t, j, cs), t_tsv_cell(t, i, cs)) == 0 &&
                t_tsv_num(t, j, ct) == step) {
                double l0 = t_tsv_num(t, j, cl);
                worst = fmax(worst, fabs(t_tsv_num(t, i, cl) - l0) / l0);
                checked++;
            }
    }
    cr_expect_gt(checked, 100);
    /* "as eta is here (below the upper end of SGD's basin in 6.1)" */
    cr_expect_lt(t_num(NUM_MOM, "opt_mom_eta"), t_num(NUM, "opt_sgd_basin_hi"));
    cr_expect(fabs(100 * worst - t_num(NUM_MOM, "opt_mom_gap")) < 0.06, "gap %g %%, recomputed %g %%",
              t_num(NUM_MOM, "opt_mom_gap"), 100 * worst);
    t_tsv_free(t);
}

/* ---------------------------------------------------------------------------------- */
/* §6.3 from the data */

Test(ch06_opt, sgd_best_lr_moves_by_the_scale_adam_does_not) {
    curve s1 = runs("sgd"), s100 = read_curve(D06 "opt-scale-sgd.tsv");
    curve a1 = runs("adam"), a100 = read_curve(D06 "opt-scale-adam.tsv");
    double fs = s1.lr[best_of(&s1)] / s100.lr[best_of(&s100)], fa = a1.lr[best_of(&a1)] / a100.lr[best_of(&a100)];
    cr_expect(fabs(log10(fs) - 2) < 0.26, "SGD's best lr moved by %g", fs);
    cr_expect(fabs(log10(fa)) <= 0.51, "Adam's best lr moved by %g (more than one grid step)", fa);
    cr_expect(fabs(t_num(NUM, "opt_scale_sgd_factor") / fs - 1) < 1e-2);
    cr_expect(fabs(log10(t_num(NUM, "opt_scale_sgd_factor_fit")) - 2) < 0.15);
    cr_expect(fabs(log10(t_num(NUM, "opt_scale_adam_factor_fit"))) < 0.5);
    /* SGD's scaled curve at lr is the unscaled one at 100 lr; Adam's is the same curve */
    double gs = 0, ga = 0;
    int ns = 0, na = 0;
    for (int k = 0; k < s100.n; k++)
        for (int m = 0; m < s1.n; m++)
            if (fabs(s1.lr[m] / (100 * s100.lr[k]) - 1) < 1e-2 && !s1.ndiv[m] && !s100.ndiv[k])
                gs = fmax(gs, fabs(s1.med[m] - s100.med[k])), ns++;
    for (int k = 0; k < a100.n; k++)
        for (int m = 0; m < a1.n; m++)
            if (fabs(a1.lr[m] / a100.lr[k] - 1) < 1e-2 && !a1.ndiv[m] && !a100.ndiv[k])
                ga = fmax(ga, fabs(a1.med[m] - a100.med[k])), na++;
    cr_expect_geq(ns, 4);
    cr_expect_geq(na, 5);
    cr_expect_lt(gs, 0.15, "SGD: scaled curve off the shifted one by %g", gs);
    cr_expect_lt(ga, 0.15, "Adam: scaled curve off the unscaled one by %g", ga);
    cr_expect(fabs(gs - t_num(NUM, "opt_scale_sgd_gap")) < 0.01 && fabs(ga - t_num(NUM, "opt_scale_adam_gap")) < 0.01);
}

/* ---------------------------------------------------------------------------------- */
/* §6.4 from the data */

Test(ch06_opt, defaults_distances_are_log10_default_over_best) {
    t_tsv *t = t_tsv_read("chapters/06-optimizers/opt-defaults.tsv");
    int co = t_tsv_col(t, "optimizer"), cl = t_tsv_col(t, "library"), cv = t_tsv_col(t, "lr"), cs = t_tsv_col(t, "source");
    int n = 0;
    double far = 0;
    for (int i = 0; i < t->nrows; i++) {
        cr_expect(strncmp(t_tsv_cell(t, i, cs), "https://", 8) == 0, "row %d has no source", i);
        if (strcmp(t_tsv_cell(t, i, cv), "none") == 0) continue;
        const char *o = t_tsv_cell(t, i, co);
        char key[128], lib[64];
        snprintf(lib, sizeof lib, "%s", t_tsv_cell(t, i, cl));
        for (char *p = lib; *p; p++)
            if (*p == ' ' || *p == '.' || *p == '-') *p = '_';
        snprintf(key, sizeof key, "opt_dist_%s_%s", o, lib);
        double d = log10(t_tsv_num(t, i, cv) / num_key("opt_%s_best_lr", o));
        cr_expect(fabs(t_num(NUM, key) - d) < 0.051, "%s: %g, recomputed %g", key, t_num(NUM, key), d);
        far = fmax(far, fabs(d));
        n++;
    }
    cr_expect_eq(n, (int)t_num(NUM, "opt_defaults_n"));
    /* the text: the farthest is PyTorch 2.3's SGD default, far below SGD's best */
    cr_expect(fabs(far - t_num(NUM, "opt_defaults_far")) < 0.051);
    cr_expect(fabs(fabs(t_num(NUM, "opt_dist_sgd_PyTorch_2_3")) - far) < 0.051, "the farthest default is not SGD's");
    cr_expect_leq(t_num(NUM, "opt_dist_sgd_PyTorch_2_3"), -1.5);
    /* "barely move the loss": SGD at its grid's smallest lr (above the default) still near ln 10 */
    curve sg = runs("sgd");
    cr_expect_geq(sg.lr[0], 1e-3, "SGD's grid starts below PyTorch 2.3's default");
    cr_expect_gt(sg.med[0], 0.8 * log(10), "SGD at %g: median %g, not near ln 10", sg.lr[0], sg.med[0]);
    cr_expect(fabs(t_num(NUM, "opt_sgd_loss_at_lowest_lr") - sg.med[0]) < 0.006);
    /* the adaptive defaults land nearer than SGD's, within 1.5 decades */
    cr_expect_lt(t_num(NUM, "opt_defaults_far_adaptive"), far);
    const char *adaptive[] = {"adam", "adamw", "rmsprop", "adagrad"}, *libs[] = {"PyTorch_1_13", "PyTorch_2_3", "Keras"};
    for (int a = 0; a < 4; a++)
        for (int l = 0; l < 3; l++) {
            char key[96];
            snprintf(key, sizeof key, "opt_dist_%s_%s", adaptive[a], libs[l]);
            cr_expect_leq(fabs(t_num(NUM, key)), 1.5, "%s", key);
        }
    /* Adam's 1e-3 is below its best, and worse there than at the best in most seeds */
    cr_expect_lt(t_num(NUM, "opt_dist_adam_PyTorch_2_3"), 0);
    char *w = t_str(NUM, "opt_defworse_adam");
    int k = 0, of = 0;
    cr_assert_eq(sscanf(w, "%d of %d", &k, &of), 2);
    cr_expect(k >= 3 && of >= 5, "Adam at 1e-3 worse than at its best in only %s seeds", w);
    free(w);
    curve c = runs("adam");
    int b = best_of(&c), d = -1;
    for (int m = 0; m < c.n; m++)
        if (fabs(c.lr[m] / 1e-3 - 1) < 1e-2) d = m;
    cr_assert_geq(d, 0, "1e-3 is not on Adam's grid");
    cr_expect_geq(c.med[d] - c.med[b], 0.04, "Adam's median at 1e-3 only %g above the best", c.med[d] - c.med[b]);
    cr_expect(fabs(t_num(NUM, "opt_defgap_adam") - (c.med[d] - c.med[b])) < 0.006);
    t_tsv_free(t);
}

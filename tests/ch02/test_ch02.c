/* test_ch02.c -- the claims Chapter 2 makes, checked on the runs `make` produced and
 * on small runs made here.
 *
 * The runs are real training (BLAS sums), so the checks are directions and generous
 * margins, never numbers copied from an earlier run.
 */
#include "../common.h"

#include <math.h>

#define REGIMES GD_BIN "ch02-regimes"
#define STEPS GD_BIN "ch02-steps"
#define D02 GD_BUILD_DIR "/ch02/"

/* ---------------------------------------------------------------------------------- */
/* A table (gd_table format): '#' comments, a header, rows of tab-separated fields.
 * Fields that are not numbers read as NaN, except the words of a status column, which
 * are kept in `words`; blank lines (blocks) are skipped. */
#define MAXCOLS 16
typedef struct {
    int n, ncols;
    double (*v)[MAXCOLS];
    char (*words)[MAXCOLS][48];
    char names[MAXCOLS][32];
} table;

static table t_table(const char *path) {
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s (does `make` run before the tests?)", path);
    table t = {0, 0, NULL, NULL, {{0}}};
    int cap = 0, header = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        char *fsave = NULL;
        int c = 0;
        if (!header) {
            for (char *f = strtok_r(line, "\t", &fsave); f && c < MAXCOLS; f = strtok_r(NULL, "\t", &fsave), c++)
                snprintf(t.names[c], sizeof t.names[c], "%s", f);
            t.ncols = c;
            header = 1;
            continue;
        }
        if (t.n == cap) {
            cap = cap ? 2 * cap : 1024;
            t.v = realloc(t.v, (size_t)cap * sizeof *t.v);
            t.words = realloc(t.words, (size_t)cap * sizeof *t.words);
        }
        for (char *f = strtok_r(line, "\t", &fsave); f && c < MAXCOLS; f = strtok_r(NULL, "\t", &fsave), c++) {
            char *end;
            double x = strtod(f, &end);
            t.v[t.n][c] = end != f && *end == '\0' ? x : NAN;
            snprintf(t.words[t.n][c], sizeof t.words[t.n][c], "%s", f);
        }
        for (; c < MAXCOLS; c++) t.v[t.n][c] = NAN, t.words[t.n][c][0] = '\0';
        t.n++;
    }
    free(text);
    cr_assert(t.n > 0, "%s has no rows", path);
    return t;
}

static void t_table_free(table *t) {
    free(t->v);
    free(t->words);
}

static int col(const table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return c;
    cr_assert_fail("no column '%s'", name);
    return -1;
}

/* A value of a `key value` numbers table. */
static double number(const char *path, const char *key) {
    table t = t_table(path);
    int k = col(&t, "key"), v = col(&t, "value");
    double x = NAN;
    int found = 0;
    for (int i = 0; i < t.n && !found; i++)
        if (strcmp(t.words[i][k], key) == 0) x = t.v[i][v], found = 1;
    t_table_free(&t);
    cr_assert(found, "%s: no key %s", path, key);
    return x;
}

/* One run of the curves table (column `run` == r): step and validation loss at every
 * evaluation, and the largest step and training loss anywhere in it. */
typedef struct {
    int n;
    double step[2000], val[2000];
    double last_step, max_train;
    int nonfinite;   /* rows whose training loss is not finite: never plotted */
} curve;

static curve load_curve(const char *path, int r) {
    table t = t_table(path);
    int cr = col(&t, "run"), cs = col(&t, "step"), ct = col(&t, "train_loss"), cv = col(&t, "val_loss");
    curve c = {0};
    c.max_train = -INFINITY;
    for (int i = 0; i < t.n; i++) {
        if (t.v[i][cr] != r) continue;
        c.last_step = t.v[i][cs];
        if (!isfinite(t.v[i][ct])) c.nonfinite++;
        else c.max_train = fmax(c.max_train, t.v[i][ct]);
        if (!isnan(t.v[i][cv]) && c.n < 2000) c.step[c.n] = t.v[i][cs], c.val[c.n++] = t.v[i][cv];
    }
    t_table_free(&t);
    return c;
}

static double val_at(const curve *c, double step) {
    for (int i = 0; i < c->n; i++)
        if (c->step[i] == step) return c->val[i];
    cr_assert_fail("no validation loss at step %g", step);
    return NAN;
}

static const char *models[] = {"logreg", "mlp"};

/* ---------------------------------------------------------------------------------- */
/* §2.2: the three regimes, on both models, in the runs Figure 2.1 shows. */

/* Too high: the trainer stopped the run within the first steps; the summary says so,
 * the curve ends before the step it diverged at, and no garbage is in it. */
Test(ch02_regimes, too_high_diverges_and_stops_the_curve) {
    for (int m = 0; m < 2; m++) {
        char sum[256], curves[256];
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        snprintf(curves, sizeof curves, D02 "%s.tsv", models[m]);
        table t = t_table(sum);
        cr_assert_eq(t.n, 3);
        int st = col(&t, "status"), div = col(&t, "diverged_at");
        cr_expect_str_eq(t.words[2][st], "diverged", "%s: the too-high lr: %s", models[m], t.words[2][st]);
        double at = t.v[2][div];
        cr_expect(at >= 1 && at <= 100, "%s: diverged at step %g", models[m], at);
        curve c = load_curve(curves, 2);
        cr_expect(c.last_step < at, "%s: the curve goes on to step %g, past the divergence at %g", models[m],
                  c.last_step, at);
        cr_expect(c.nonfinite == 0, "%s: non-finite losses in the plotted curve", models[m]);
        cr_expect(c.max_train < 10 * 2.5, "%s: a plotted loss %g above the divergence rule", models[m], c.max_train);
        /* and the others did not diverge */
        for (int i = 0; i < 2; i++) cr_expect_str_neq(t.words[i][st], "diverged", "%s run %d", models[m], i);
        t_table_free(&t);
    }
}

/* Too low: the validation loss falls at every evaluation (checked every 50 steps, each
 * fall at least 0.002), but ends above the target, higher than the just-right run's
 * after a tenth of the steps. */
Test(ch02_regimes, too_low_falls_monotonically_but_slowly) {
    for (int m = 0; m < 2; m++) {
        char curves[256];
        snprintf(curves, sizeof curves, D02 "%s.tsv", models[m]);
        curve low = load_curve(curves, 0), right = load_curve(curves, 1);
        double prev = INFINITY;
        for (double s = 50; s <= 1000; s += 50) {
            double v = val_at(&low, s);
            cr_expect(v < prev - 0.002, "%s: validation loss %g at step %g after %g", models[m], v, s, prev);
            prev = v;
        }
        double end = val_at(&low, 1000);
        cr_expect(end > 0.6 + 0.05, "%s: the crawl reached %g", models[m], end);
        cr_expect(val_at(&low, 50) - end > 0.3, "%s: it does fall: %g -> %g", models[m], val_at(&low, 50), end);
        cr_expect(end > val_at(&right, 100) + 0.03, "%s: crawl %g vs just right at step 100 %g", models[m], end,
                  val_at(&right, 100));
    }
}

/* Just right: reaches the target within the first half of the run, and ends well below it. */
Test(ch02_regimes, just_right_reaches_the_target) {
    for (int m = 0; m < 2; m++) {
        char sum[256];
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        table t = t_table(sum);
        int st = col(&t, "status"), at = col(&t, "reached_at"), val = col(&t, "val_loss");
        cr_expect_str_eq(t.words[1][st], "reached", "%s: %s", models[m], t.words[1][st]);
        cr_expect(t.v[1][at] > 0 && t.v[1][at] <= 500, "%s: reached at %g", models[m], t.v[1][at]);
        cr_expect(t.v[1][val] < 0.6 - 0.05, "%s: ends at %g", models[m], t.v[1][val]);
        t_table_free(&t);
    }
}

/* §2.2's gradient-flow remark, on logistic regression: the crawl after 1000 steps and
 * the just-right run at the same lr * steps are at nearly the same validation loss. */
Test(ch02_regimes, same_distance_same_place) {
    double low = number(D02 "numbers-logreg.tsv", "logreg_run0_val_same_time");
    double right = number(D02 "numbers-logreg.tsv", "logreg_run1_val_same_time");
    cr_expect(fabs(low - right) < 0.1, "crawl %g, just right at the same lr * steps %g", low, right);
}

/* A run made here, small: a too-high lr prints exactly one line for its run, saying
 * "diverged at step", and the program exits 0. */
Test(ch02_regimes, divergence_is_an_outcome_not_a_crash) {
    t_result r = t_run(REGIMES " --lr 3 --steps 40 --train-size 500 --val-size 100");
    cr_expect_eq(r.status, 0, "%s", r.err);
    int lines = 0;
    const char *hit = NULL;
    for (const char *p = r.out; (p = strstr(p, "diverged at step")); p++) lines++, hit = p;
    cr_expect_eq(lines, 1, "%s", r.out);
    cr_expect(hit && atol(hit + strlen("diverged at step")) >= 1, "%s", r.out);
    cr_expect_eq(t_lines(r.out), 2, "a header and one row: %s", r.out);
    t_free(&r);
}

/* ---------------------------------------------------------------------------------- */
/* §2.3: the sharpness. */

/* 2/L at the start lies between the just-right lr and twice it; the curvature falls
 * during training; at lr 0.5 the run ends where L is about 2/lr (within 30%). */
Test(ch02_sharpness, two_over_L_and_the_edge) {
    double L = number(D02 "numbers-logreg.tsv", "logreg_sharp");
    double lr1 = number(D02 "numbers-logreg.tsv", "logreg_run1_lr");
    cr_expect(lr1 < 2 / L && 2 / L < 2 * lr1, "2/L = %g, just-right lr %g", 2 / L, lr1);
    double end0 = number(D02 "numbers-logreg.tsv", "logreg_run0_sharp_end");
    double end1 = number(D02 "numbers-logreg.tsv", "logreg_run1_sharp_end");
    cr_expect(end1 < end0 && end0 < L, "L: start %g, crawl end %g, just-right end %g", L, end0, end1);
    double lr = number(D02 "numbers-edge.tsv", "edge_run0_lr"), edge = number(D02 "numbers-edge.tsv", "edge_run0_sharp_end");
    cr_expect(lr > 2 / L, "the edge run starts beyond the cliff");
    cr_expect(fabs(edge / (2 / lr) - 1) < 0.3, "L at the end %g, 2/lr %g", edge, 2 / lr);
    cr_expect_eq(number(D02 "numbers-edge.tsv", "edge_run0_diverged_at"), -1);
}

/* Power iteration has converged: 20 and 40 iterations agree within 1%. */
Test(ch02_sharpness, power_iteration_converges) {
    double L[2];
    const char *iters[] = {"20", "40"};
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, REGIMES " --lr 0.1 --steps 1 --train-size 1000 --val-size 100 --sharpness %s",
                 iters[i]);
        t_result r = t_run(cmd);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_eq(sscanf(r.out, "sharpness at init: L = %lf", &L[i]), 1, "%s", r.out);
        t_free(&r);
    }
    cr_expect(L[0] > 0 && fabs(L[0] / L[1] - 1) < 0.01, "L %g (20 iterations) vs %g (40)", L[0], L[1]);
}

/* ---------------------------------------------------------------------------------- */
/* §2.4: steps to the target against the lr, over the seeds. */

typedef struct {
    int n;
    double lr[64], med[64], lrx[64], val[64];
    int reached[64], diverged[64], seeds[64];
} sweep;

static sweep load_sweep(const char *model) {
    char path[256];
    snprintf(path, sizeof path, D02 "steps-%s.tsv", model);
    table t = t_table(path);
    sweep s = {0};
    int lr = col(&t, "lr"), md = col(&t, "median_steps"), re = col(&t, "reached"), dv = col(&t, "diverged"),
        se = col(&t, "seeds"), lx = col(&t, "lr_x_steps"), vl = col(&t, "val_loss");
    for (int i = 0; i < t.n && i < 64; i++, s.n++) {
        s.lr[i] = t.v[i][lr], s.med[i] = t.v[i][md], s.lrx[i] = t.v[i][lx], s.val[i] = t.v[i][vl];
        s.reached[i] = (int)t.v[i][re], s.diverged[i] = (int)t.v[i][dv], s.seeds[i] = (int)t.v[i][se];
    }
    t_table_free(&t);
    return s;
}

/* The U: its bottom is interior, at least 3 times faster than the first lr that
 * reached the target; the largest lrs diverge on every seed; no lr both reached the
 * target and diverged on the same seed (the counts add up). */
Test(ch02_steps, a_u_with_a_cliff) {
    for (int m = 0; m < 2; m++) {
        sweep s = load_sweep(models[m]);
        cr_assert_eq(s.n, 16);
        int best = -1, first = -1;
        for (int i = 0; i < s.n; i++) {
            cr_expect(s.seeds[i] == 3 && s.reached[i] + s.diverged[i] <= 3);
            if (!isnan(s.med[i]) && first < 0) first = i;
            if (!isnan(s.med[i]) && (best < 0 || s.med[i] < s.med[best])) best = i;
        }
        cr_assert(first >= 1 && best > first, "%s: the slow side is missing", models[m]);
        cr_expect(s.med[best] * 3 < s.med[first], "%s: bottom %g vs first %g", models[m], s.med[best], s.med[first]);
        cr_expect(best + 1 < s.n && !isnan(s.med[best + 1]) && s.med[best + 1] >= s.med[best],
                  "%s: the right side rises before the cliff", models[m]);
        for (int i = s.n - 3; i < s.n; i++)
            cr_expect_eq(s.diverged[i], 3, "%s: lr %g diverged on %d seeds", models[m], s.lr[i], s.diverged[i]);
        for (int i = 0; i <= best; i++)
            cr_expect_eq(s.diverged[i], 0, "%s: lr %g below the best diverged", models[m], s.lr[i]);
        for (int i = 0; i < first; i++) cr_expect(s.reached[i] < 3, "%s: the left wall", models[m]);
    }
}

/* The slow side: lr * steps is nearly constant (within a factor 1.5) for the lrs
 * at least twice below the fastest. */
Test(ch02_steps, crawl_side_has_slope_minus_one) {
    for (int m = 0; m < 2; m++) {
        sweep s = load_sweep(models[m]);
        int best = -1;
        for (int i = 0; i < s.n; i++)
            if (!isnan(s.med[i]) && (best < 0 || s.med[i] < s.med[best])) best = i;
        double lo = INFINITY, hi = 0;
        int n = 0;
        for (int i = 0; i < best; i++)
            if (!isnan(s.med[i]) && 2 * s.lr[i] <= s.lr[best]) lo = fmin(lo, s.lrx[i]), hi = fmax(hi, s.lrx[i]), n++;
        cr_expect(n >= 3, "%s: %d lrs on the slow side", models[m], n);
        cr_expect(hi < 1.5 * lo, "%s: lr * steps from %g to %g", models[m], lo, hi);
    }
}

/* The band between the last lr that reached the target and the first that diverged:
 * at its top the MLP ends near ln 10 (it stopped learning), logistic regression well
 * below; the MLP's first divergence is at a larger lr. */
Test(ch02_steps, the_two_models_fail_differently) {
    double gap_mlp = number(D02 "numbers-steps-mlp.tsv", "steps_mlp_gap_val");
    double gap_log = number(D02 "numbers-steps-logreg.tsv", "steps_logreg_gap_val");
    cr_expect(fabs(gap_mlp - log(10)) < 0.3, "MLP at the top of the band: %g (ln 10 = %g)", gap_mlp, log(10));
    cr_expect(gap_log < gap_mlp - 0.5, "logistic regression in the band %g, MLP %g", gap_log, gap_mlp);
    double div_mlp = number(D02 "numbers-steps-mlp.tsv", "steps_mlp_first_div");
    double div_log = number(D02 "numbers-steps-logreg.tsv", "steps_logreg_first_div");
    cr_expect(div_mlp > div_log, "first divergence: MLP %g, logistic regression %g", div_mlp, div_log);
}

/* Mean |change| of the validation loss between evaluations over the second half of a
 * run of logistic regression at lr (the chapter's settings, seed 0). */
static double jumpiness(double lr) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, REGIMES " --lr %g --steps 1000 --eval-every 10 --out -", lr);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    double prev = NAN, sum = 0;
    int n = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        int run;
        double l, seed, step, train, val;
        if (line[0] == '#' || sscanf(line, "%d %lf %lf %lf %lf %lf", &run, &l, &seed, &step, &train, &val) != 6) continue;
        if (step <= 500 || isnan(val)) continue;
        if (!isnan(prev)) sum += fabs(val - prev), n++;
        prev = val;
    }
    t_free(&r);
    cr_assert(n >= 10, "%d evaluations", n);
    return sum / n;
}

/* Logistic regression in the band between "reached" and "diverged" oscillates: its
 * validation loss jumps between evaluations ten times more than the just-right run's. */
Test(ch02_steps, logistic_regression_oscillates_in_the_band) {
    double gap = number(D02 "numbers-steps-logreg.tsv", "steps_logreg_gap_hi");
    double right = number(D02 "numbers-logreg.tsv", "logreg_run1_lr");
    double j_gap = jumpiness(gap), j_right = jumpiness(right);
    cr_expect(j_gap > 10 * j_right, "mean jump at lr %g: %g, at lr %g: %g", gap, j_gap, right, j_right);
}

/* ---------------------------------------------------------------------------------- */
Test(ch02_programs, bad_options_are_rejected) {
    t_assert_rejects(REGIMES " --lr 0", 2, "--lr");
    t_assert_rejects(REGIMES " --lr -0.1", 2, "--lr");
    t_assert_rejects(REGIMES " --lr abc", 2, "--lr");
    t_assert_rejects(REGIMES " --lr nan", 2, "--lr");
    t_assert_rejects(REGIMES " --steps 0", 2, "--steps");
    t_assert_rejects(REGIMES " --steps 1.5", 2, "--steps");
    t_assert_rejects(REGIMES " --sweep 1,0.1,5", 2, "--sweep");
    t_assert_rejects(REGIMES " --sweep 0.1,1,1", 2, "--sweep");
    t_assert_rejects(REGIMES " --sweep 0.1,1,2.5", 2, "--sweep");
    t_assert_rejects(REGIMES " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(REGIMES " --dims 100-10", 2, "--dims");
    t_assert_rejects(REGIMES " --train-size 0", 2, "--train-size");
    t_assert_rejects(REGIMES " --train-size 50000 --val-size 20000", 2, "--val-size");
    t_assert_rejects(REGIMES " --train-size 500 --sharpness 5 --sharp-size 1000", 2, "--sharp-size");
    t_assert_rejects(REGIMES " --seeds 0", 2, "--seeds");
    t_assert_rejects(REGIMES " --sweep 0.1,1,100 --seeds 3", 2, "--seeds");
    t_assert_rejects(REGIMES " --target 0", 2, "--target");
    t_assert_rejects(REGIMES " --seed -1", 2, "--seed");
    t_assert_rejects(REGIMES " --learning-rate 0.1", 2, "--learning-rate");
    t_assert_rejects(REGIMES " stray", 2, "stray");
    t_assert_rejects(REGIMES " --data /nonexistent", 1, "/nonexistent");
    t_assert_rejects(STEPS, 2, "no summary tables");
    t_assert_rejects(STEPS " --bogus x", 2, "--bogus");
    t_assert_rejects(STEPS " /nonexistent/s.tsv", 1, "/nonexistent/s.tsv");
    t_assert_rejects(STEPS " " D02 "numbers-logreg.tsv", 1, "numbers-logreg.tsv");
}

Test(ch02_programs, help_exits_zero) {
    const char *progs[] = {REGIMES, STEPS};
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") != NULL, "%s", r.out);
        t_free(&r);
    }
}

/* Same arguments, same bytes (curves and summary); the seed and settings are in the header. */
Test(ch02_programs, deterministic) {
    const char *cmd = REGIMES " --lr 0.1,2 --steps 60 --train-size 500 --val-size 200 --seed 5 --out - --summary -";
    t_result a = t_run(cmd), b = t_run(cmd);
    cr_assert_eq(a.status, 0, "%s", a.err);
    cr_expect_str_eq(a.out, b.out);
    cr_expect(strstr(a.out, "# seed: 5") != NULL, "the seed is printed in the header");
    cr_expect(strstr(a.out, "# model: 784-10") != NULL, "the settings are printed in the header");
    t_free(&a);
    t_free(&b);
}

/* The numbers and code quoted in the chapter's prose are the ones the programs produce now. */

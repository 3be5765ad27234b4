/* test_ch04.c -- the claims Chapter 4 makes, checked against theory and against the
 * runs that `make` produced.
 *
 * The noisy quadratic (§4.1-4.2) is checked against closed forms computed here. The
 * schedule figures (§4.3) are checked at the steps the text describes. The Fashion-MNIST
 * comparison (§4.4) is checked for the directions the text claims, seed by seed and with
 * margins, never against numbers copied from an earlier run.
 */
#include "../common.h"

#include <math.h>

#define NOISE GD_BIN "ch04-noise"
#define TRAIN GD_BIN "ch04-train"
#define SUMMARY GD_BIN "ch04-summary"
#define D04 GD_BUILD_DIR "/ch04/"

/* ---------------------------------------------------------------------------------- */
/* A table (gd_table format): '#' comments, a header, rows of tab-separated fields.
 * Fields that are not numbers read as NaN; blank lines (blocks) are skipped. */
#define MAXCOLS 16
typedef struct {
    int n, ncols;
    double (*v)[MAXCOLS];
    char names[MAXCOLS][32];
} table;

static table t_table(const char *path) {
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s (does `make` run before the tests?)", path);
    table t = {0, 0, NULL, {{0}}};
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
        if (t.n == cap) t.v = realloc(t.v, (size_t)(cap = cap ? 2 * cap : 1024) * sizeof *t.v);
        for (char *f = strtok_r(line, "\t", &fsave); f && c < MAXCOLS; f = strtok_r(NULL, "\t", &fsave), c++) {
            char *end;
            double x = strtod(f, &end);
            t.v[t.n][c] = end != f && *end == '\0' ? x : NAN;
        }
        for (; c < MAXCOLS; c++) t.v[t.n][c] = NAN;
        t.n++;
    }
    free(text);
    cr_assert(t.n > 0, "%s has no rows", path);
    return t;
}

static int col(const table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return c;
    cr_assert_fail("no column '%s'", name);
    return -1;
}

/* The value in column `name` of the row where column `key` equals k (first match). */
static double at(const table *t, const char *key, double k, const char *name) {
    int ck = col(t, key), cv = col(t, name);
    for (int i = 0; i < t->n; i++)
        if (t->v[i][ck] == k) return t->v[i][cv];
    cr_assert_fail("no row with %s = %g", key, k);
    return NAN;
}

static char *tmpfile_path(void) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/gdtest-ch04-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    return path;
}

static t_result run_ok(const char *cmd) {
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s failed (%d): %s", cmd, r.status, r.err);
    return r;
}

/* The closed form of §4.1: E[x^2] -> lr sigma^2 / (lambda (2 - lr lambda)). */
static double floor_x2(double lr, double lambda, double sigma) {
    return lr * sigma * sigma / (lambda * (2 - lr * lambda));
}

/* ---------------------------------------------------------------------------------- */
/* §4.1: the floors that `make` measured (lambda = sigma = 1), against the closed form.
 * The tolerance is 3%, and the standard errors must be under a third of it, so that a
 * pass is not luck. The largest lr must show that the (2 - lr lambda) factor matters. */
Test(ch04_noise, measured_floors_match_the_closed_form) {
    table t = t_table(D04 "floors.tsv");
    int lr = col(&t, "lr"), th = col(&t, "theory"), sm = col(&t, "small_lr"), me = col(&t, "measured"),
        se = col(&t, "std_err");
    cr_expect_geq(t.n, 3);
    double largest = 0;
    for (int i = 0; i < t.n; i++) {
        double *r = t.v[i], expect = floor_x2(r[lr], 1, 1);
        cr_expect(fabs(r[th] / expect - 1) < 1e-6, "lr %g: theory column %g, closed form %g", r[lr], r[th], expect);
        cr_expect(fabs(r[me] / expect - 1) < 0.03, "lr %g: measured %g, theory %g", r[lr], r[me], expect);
        cr_expect(r[se] / expect < 0.01, "lr %g: standard error %g is not well below the 3%% tolerance", r[lr], r[se]);
        cr_expect(fabs(r[sm] - r[lr] / 2) < 1e-9);
        if (r[lr] > largest) largest = r[lr];
    }
    double m = at(&t, "lr", largest, "measured"), small = largest / 2;
    cr_expect(largest > 1 && m / small > 1.5, "at lr %g the small-lr approximation should be far off (%g vs %g)",
              largest, m, small);
    free(t.v);
}

/* The same on another problem, run here: lambda = 2, sigma = 0.5, within 3% and within
 * 5 standard errors. */
Test(ch04_noise, floors_on_another_quadratic) {
    char *path = tmpfile_path(), cmd[512];
    snprintf(cmd, sizeof cmd,
             NOISE " --lambda 2 --sigma 0.5 --lr 0.8,0.05 --no-decay --steps 10 --chains 400 --floor-steps 20000 "
                   "--seed 11 --floors %s",
             path);
    t_result r = run_ok(cmd);
    t_free(&r);
    table t = t_table(path);
    unlink(path);
    cr_assert_eq(t.n, 2);
    for (int i = 0; i < 2; i++) {
        double lr = t.v[i][col(&t, "lr")], m = t.v[i][col(&t, "measured")], se = t.v[i][col(&t, "std_err")];
        double expect = floor_x2(lr, 2, 0.5);
        cr_expect(fabs(m / expect - 1) < 0.03, "lr %g: measured %g, theory %g", lr, m, expect);
        cr_expect(fabs(m - expect) < 5 * se, "lr %g: measured %g +- %g, theory %g", lr, m, se, expect);
    }
    free(t.v);
}

/* Figure 4.1: each constant-lr curve ends at its floor (the exact expectation reaches the
 * closed form; the measured mean over the last decade is within 5% of it). */
Test(ch04_noise, constant_curves_level_off_at_their_floors) {
    table t = t_table(D04 "noise.tsv");
    int cu = col(&t, "curve"), lr = col(&t, "lr"), st = col(&t, "step"), lo = col(&t, "loss"), th = col(&t, "theory"),
        fl = col(&t, "floor");
    int checked = 0;
    for (int k = 0; k < 4; k++) {
        double sum = 0, theory = NAN, lrk = NAN, floor_col = NAN;
        long n = 0, last = -1;
        for (int i = 0; i < t.n; i++) {
            if (t.v[i][cu] != k) continue;
            lrk = t.v[i][lr], floor_col = t.v[i][fl];
            if (t.v[i][st] >= 1000) sum += t.v[i][lo], n++;
            if (t.v[i][st] > last) last = (long)t.v[i][st], theory = t.v[i][th];
        }
        double expect = 0.5 * floor_x2(lrk, 1, 1); /* loss = lambda/2 E[x^2] */
        cr_expect(fabs(floor_col / expect - 1) < 1e-6, "curve %d: floor %g, expected %g", k, floor_col, expect);
        cr_expect(fabs(theory / expect - 1) < 1e-6, "curve %d: expectation at the end %g, floor %g", k, theory, expect);
        cr_expect(n > 10 && fabs(sum / n / expect - 1) < 0.05, "curve %d (lr %g): measured %g, floor %g", k, lrk,
                  sum / n, expect);
        checked++;
    }
    cr_expect_eq(checked, 4);
    free(t.v);
}

/* The 1/t schedule lr0 / (1 + t/t0) with lr0 = 0.5, t0 = 2, lambda = 1 is the running
 * average: E[x_t^2] = (x0^2 + t sigma^2) / (t + 1)^2 exactly (§4.1). The program's
 * expectation must be that, its measurement must agree within 4 standard errors of a
 * mean of 1000 chains, and it must end far below every floor. */
Test(ch04_noise, one_over_t_is_the_running_average) {
    table t = t_table(D04 "noise.tsv");
    int cu = col(&t, "curve"), st = col(&t, "step"), lo = col(&t, "loss"), th = col(&t, "theory");
    double x0 = 10, final_loss = NAN, final_theory = NAN;
    long T = 0, rows = 0;
    for (int i = 0; i < t.n; i++) {
        if (t.v[i][cu] != 4) continue;
        double s = t.v[i][st], exact = 0.5 * (x0 * x0 + s) / ((s + 1) * (s + 1));
        cr_expect(fabs(t.v[i][th] / exact - 1) < 1e-6, "step %g: expectation %g, closed form %g", s, t.v[i][th], exact);
        if (s >= T) T = (long)s, final_loss = t.v[i][lo], final_theory = t.v[i][th];
        rows++;
    }
    cr_assert(rows > 10);
    cr_expect(fabs(final_loss / final_theory - 1) < 4 * sqrt(2.0 / 1000), "measured %g, expected %g", final_loss,
              final_theory);
    double lowest_floor = 0.5 * floor_x2(0.02, 1, 1);
    cr_expect(final_loss < lowest_floor / 10, "1/t ends at %g, the lowest floor is %g", final_loss, lowest_floor);
    free(t.v);
}

/* §4.1: with c = lr0 t0, E[x_t^2] ~ c^2 sigma^2 / ((2 c lambda - 1) t) when c lambda > 1/2,
 * and falls only like t^(-2 c lambda) when c lambda < 1/2. Checked on the exact
 * expectations the program writes (two chains suffice: only the theory column is used). */
static double slope_of_expectation(const char *decay, double *at_T) {
    char *path = tmpfile_path(), cmd[512];
    snprintf(cmd, sizeof cmd, NOISE " --lr 0.02 --decay %s --steps 100000 --chains 2 --out %s", decay, path);
    t_result r = run_ok(cmd);
    t_free(&r);
    table t = t_table(path);
    unlink(path);
    int cu = col(&t, "curve"), st = col(&t, "step"), th = col(&t, "theory");
    double a = NAN, b = NAN;
    for (int i = 0; i < t.n; i++) {
        if (t.v[i][cu] != 1) continue;
        if (t.v[i][st] == 10000) a = t.v[i][th];
        if (t.v[i][st] == 100000) b = t.v[i][th];
    }
    free(t.v);
    cr_assert(a > 0 && b > 0);
    *at_T = b;
    return log10(b / a); /* per decade */
}

Test(ch04_noise, decay_rate_depends_on_c_lambda) {
    double end;
    double s1 = slope_of_expectation("0.5,2", &end); /* c = 1 */
    cr_expect(fabs(s1 + 1) < 0.02, "c lambda = 1: slope %g per decade, expected -1", s1);
    /* loss = lambda/2 c^2 sigma^2 / ((2 c lambda - 1) t) at t = 1e5 */
    cr_expect(fabs(end / (0.5 * 1.0 / 100000) - 1) < 0.02, "c = 1: %g at t = 1e5", end);
    double s2 = slope_of_expectation("0.1,2", &end); /* c = 0.2: too fast */
    cr_expect(fabs(s2 + 0.4) < 0.03, "c lambda = 0.2: slope %g per decade, expected -2 c lambda = -0.4", s2);
}

/* §4.2, Figure 4.2: over a finite horizon step decay and cosine end far below the
 * constant rate's floor on both curvatures; 1/t wins where it was tuned (lambda = 1)
 * and ends above even the constant rate's floor where it is not (lambda = 0.05). */
static void horizon_finals(const char *path, double *final) {
    table t = t_table(path);
    int cu = col(&t, "curve"), st = col(&t, "step"), lo = col(&t, "loss");
    double last[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    for (int i = 0; i < t.n; i++) {
        int k = (int)t.v[i][cu];
        cr_assert(k >= 0 && k < 4, "unexpected curve %d in %s", k, path);
        if (t.v[i][st] > last[k]) last[k] = t.v[i][st], final[k] = t.v[i][lo];
    }
    free(t.v);
}

Test(ch04_horizon, practical_schedules_end_below_the_floor) {
    double h[4], f[4]; /* constant, 1/t, multistep, cosine */
    horizon_finals(D04 "horizon.tsv", h);
    horizon_finals(D04 "flat.tsv", f);
    double floor_h = 0.5 * floor_x2(0.5, 1, 1), floor_f = 0.05 / 2 * floor_x2(0.5, 0.05, 1);
    cr_expect(fabs(h[0] / floor_h - 1) < 0.2 && fabs(f[0] / floor_f - 1) < 0.2, "constant: %g, %g", h[0], f[0]);
    for (int k = 2; k < 4; k++) {
        cr_expect(h[k] < floor_h / 20, "lambda 1, schedule %d: %g vs floor %g", k, h[k], floor_h);
        cr_expect(f[k] < floor_f / 4, "lambda 0.05, schedule %d: %g vs floor %g", k, f[k], floor_f);
    }
    cr_expect(h[1] < h[2] / 2 && h[1] < h[3] / 2, "1/t should win at lambda 1: %g vs %g, %g", h[1], h[2], h[3]);
    cr_expect(f[1] > 2 * floor_f, "1/t at lambda 0.05 should end above the constant floor: %g vs %g", f[1], floor_f);
}

/* Step decay walks down the floors: just before the second cut it sits at the floor of
 * lr 0.05 (the exact expectation within 2%, the measurement within 15%). */
Test(ch04_horizon, step_decay_walks_down_the_floors) {
    table t = t_table(D04 "horizon.tsv");
    int cu = col(&t, "curve"), st = col(&t, "step"), lo = col(&t, "loss"), th = col(&t, "theory"), lt = col(&t, "lr_t");
    double loss = NAN, theory = NAN, lr = NAN;
    for (int i = 0; i < t.n; i++)
        if (t.v[i][cu] == 2 && t.v[i][st] == 1490) loss = t.v[i][lo], theory = t.v[i][th], lr = t.v[i][lt];
    free(t.v);
    double expect = 0.5 * floor_x2(0.05, 1, 1);
    cr_expect(fabs(lr - 0.05) < 1e-12, "lr at step 1490: %g", lr);
    cr_expect(fabs(theory / expect - 1) < 0.02, "expectation %g, floor of lr 0.05 %g", theory, expect);
    cr_expect(fabs(loss / expect - 1) < 0.15, "measured %g, floor of lr 0.05 %g", loss, expect);
}

/* ---------------------------------------------------------------------------------- */
/* §4.3: the schedule curves, at the steps the text describes (base lr 1). */
static table sched(const char *name) {
    char path[256];
    snprintf(path, sizeof path, D04 "sched/%s.tsv", name);
    return t_table(path);
}

#define LR(tab, step) at(&(tab), "step", step, "lr")
#define MOM(tab, step) at(&(tab), "step", step, "momentum")
#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

Test(ch04_sched, one_cycle) {
    table t = sched("onecycle");
    int lr = col(&t, "lr"), mo = col(&t, "momentum");
    double peak = 0, peak_step = -1, lowest_mom = 1;
    for (int i = 0; i < t.n; i++) {
        if (t.v[i][lr] > peak) peak = t.v[i][lr], peak_step = t.v[i][0];
        if (t.v[i][mo] < lowest_mom) lowest_mom = t.v[i][mo];
    }
    cr_expect(NEAR(LR(t, 0), 1.0 / 25), "starts at base / div: %g", LR(t, 0));
    cr_expect(NEAR(peak, 1) && fabs(peak_step - 300) <= 1, "peak %g at step %g", peak, peak_step);
    cr_expect(fabs(LR(t, 999) / (1.0 / 25 / 1e4) - 1) < 1e-6, "ends at base / (div final_div): %g", LR(t, 999));
    cr_expect(NEAR(MOM(t, 0), 0.95) && NEAR(lowest_mom, 0.85) && NEAR(MOM(t, peak_step), 0.85));
    free(t.v);
    table three = sched("onecycle3");
    cr_expect(fabs(LR(three, 598) - 1.0 / 25) < 1e-9, "three phases: back at the start at 2 pct T: %g", LR(three, 598));
    cr_expect(LR(three, 999) < 1e-5);
    free(three.v);
}

Test(ch04_sched, cyclic_and_its_momentum) {
    table t = sched("triangular");
    cr_expect(NEAR(LR(t, 0), 0.1) && NEAR(LR(t, 125), 1) && NEAR(LR(t, 250), 0.1) && NEAR(LR(t, 375), 1));
    cr_expect(NEAR(MOM(t, 0), 0.9) && NEAR(MOM(t, 125), 0.8), "momentum high when lr low: %g, %g", MOM(t, 0),
              MOM(t, 125));
    free(t.v);
    table t2 = sched("triangular2");
    for (int k = 0; k < 4; k++) /* each cycle's height is half the last */
        cr_expect(NEAR(LR(t2, 125 + 250 * k) - 0.1, 0.9 / pow(2, k)), "cycle %d peak %g", k, LR(t2, 125 + 250 * k));
    free(t2.v);
}

Test(ch04_sched, restarts_cosine_floor_invsqrt_wsd_warmups) {
    table r = sched("restarts2"); /* periods T0, 2 T0, 4 T0 with T0 = 100 */
    cr_expect(NEAR(LR(r, 100), 1) && NEAR(LR(r, 300), 1) && NEAR(LR(r, 700), 1) && LR(r, 299) < 1e-3);
    free(r.v);
    table c = sched("cosinemin");
    cr_expect(NEAR(LR(c, 1000), 0.1) && NEAR(LR(c, 500), 0.55));
    free(c.v);
    table s = sched("invsqrt"); /* base sqrt(W / t) after a warmup of W = 100 */
    cr_expect(NEAR(LR(s, 100), 1) && NEAR(LR(s, 400), 0.5) && NEAR(LR(s, 900), 1.0 / 3), "%g %g %g", LR(s, 100),
              LR(s, 400), LR(s, 900));
    cr_expect(NEAR(LR(s, 50), 0.5), "linear warmup: %g", LR(s, 50));
    free(s.v);
    table w = sched("wsd"), wq = sched("wsdsqrt"); /* stable from 50 to 50 + 0.8 * 950 = 810 */
    cr_expect(NEAR(LR(w, 50), 1) && NEAR(LR(w, 810), 1) && LR(w, 811) < 1 && NEAR(LR(w, 1000), 0));
    cr_expect(LR(wq, 900) < LR(w, 900), "1 - sqrt(u) decays faster at first: %g vs %g", LR(wq, 900), LR(w, 900));
    free(w.v);
    free(wq.v);
    table k = sched("warmconst"), e = sched("warmexp");
    cr_expect(NEAR(LR(k, 0), 0.1) && NEAR(LR(k, 99), 0.1) && NEAR(LR(k, 100), 1));
    cr_expect(NEAR(LR(e, 0), 0.01) && NEAR(LR(e, 100), 1));
    free(k.v);
    free(e.v);
}

/* ---------------------------------------------------------------------------------- */
/* §4.4: the Fashion-MNIST runs. */
static const char *scheds[] = {"constant", "step", "exp", "cosine", "wsd", "onecycle"};
#define NSCHED 6
#define NSEED 3

typedef struct {
    double acc, loss, test_loss, lr_end, lr_half;
} final_row;

/* The final evaluated row of one run, and the lr at its end and halfway. */
static final_row final_of(const char *name, int seed) {
    char path[256];
    snprintf(path, sizeof path, D04 "runs/%s-s%d.tsv", name, seed);
    table t = t_table(path);
    int acc = col(&t, "test_acc"), loss = col(&t, "train_eval_loss"), tl = col(&t, "test_loss"), lr = col(&t, "lr"),
        st = col(&t, "step");
    final_row f = {NAN, NAN, NAN, NAN, NAN};
    double T = t.v[t.n - 1][st];
    for (int i = 0; i < t.n; i++) {
        if (!isnan(t.v[i][acc])) f.acc = 100 * t.v[i][acc], f.loss = t.v[i][loss], f.test_loss = t.v[i][tl];
        if (t.v[i][st] <= T / 2) f.lr_half = t.v[i][lr];
    }
    f.lr_end = t.v[t.n - 1][lr];
    free(t.v);
    cr_assert(!isnan(f.acc), "%s: no evaluation", path);
    return f;
}

static final_row runs[NSCHED][NSEED];
static void load_runs(void) {
    for (int s = 0; s < NSCHED; s++)
        for (int k = 0; k < NSEED; k++) runs[s][k] = final_of(scheds[s], k);
}

static double mean_of(int s, int field) {
    double m = 0;
    for (int k = 0; k < NSEED; k++) m += field == 0 ? runs[s][k].acc : field == 1 ? runs[s][k].loss : runs[s][k].test_loss;
    return m / NSEED;
}

/* Every decaying schedule beats the constant rate on every seed: its worst seed has a
 * higher test accuracy and a lower test loss than the constant rate's best seed. */
Test(ch04_train, every_decay_beats_constant_on_every_seed) {
    load_runs();
    double best_acc = -1, best_tl = INFINITY;
    for (int k = 0; k < NSEED; k++) best_acc = fmax(best_acc, runs[0][k].acc), best_tl = fmin(best_tl, runs[0][k].test_loss);
    for (int s = 1; s < NSCHED; s++)
        for (int k = 0; k < NSEED; k++) {
            cr_expect(runs[s][k].acc > best_acc + 0.2, "%s seed %d: %.2f%% vs constant's best %.2f%%", scheds[s], k,
                      runs[s][k].acc, best_acc);
            cr_expect(runs[s][k].test_loss < best_tl - 0.005, "%s seed %d: test loss %.4f vs constant's best %.4f",
                      scheds[s], k, runs[s][k].test_loss, best_tl);
        }
}

/* Training loss: step, cosine, WSD and one-cycle end below the constant rate on every
 * seed; WSD and one-cycle lowest of all (means); exp within a few percent of constant. */
Test(ch04_train, training_loss_claims) {
    load_runs();
    double const_best = INFINITY;
    for (int k = 0; k < NSEED; k++) const_best = fmin(const_best, runs[0][k].loss);
    int late[] = {1, 3, 4, 5};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < NSEED; k++)
            cr_expect(runs[late[i]][k].loss < const_best - 0.005, "%s seed %d: %.4f vs constant's best %.4f",
                      scheds[late[i]], k, runs[late[i]][k].loss, const_best);
    double others = INFINITY;
    for (int s = 0; s < 4; s++) others = fmin(others, mean_of(s, 1));
    cr_expect(mean_of(4, 1) < others - 0.005 && mean_of(5, 1) < others - 0.005,
              "WSD %.4f and one-cycle %.4f should be below every other schedule (%.4f)", mean_of(4, 1), mean_of(5, 1),
              others);
    double ratio = mean_of(2, 1) / mean_of(0, 1);
    cr_expect(ratio > 0.95 && ratio < 1.05, "exp / constant training loss %.3f", ratio);
}

/* Figure 4.7: until step decay's first milestone (half the run) the step and constant
 * runs are identical, bit for bit; in the 200 updates after it the step run's training
 * loss (the mean over those minibatches) is more than 5% below the constant run's, on
 * every seed. */
Test(ch04_train, step_decay_drops_at_its_milestone) {
    for (int k = 0; k < NSEED; k++) {
        char pc[256], ps[256];
        snprintf(pc, sizeof pc, D04 "runs/constant-s%d.tsv", k);
        snprintf(ps, sizeof ps, D04 "runs/step-s%d.tsv", k);
        table c = t_table(pc), s = t_table(ps);
        cr_assert_eq(c.n, s.n);
        int st = col(&c, "step"), tl = col(&c, "train_loss");
        double T = c.v[c.n - 1][st], m = floor(T / 2 / 469) * 469; /* the first milestone */
        double after_c = 0, after_s = 0;
        int n = 0;
        for (int i = 0; i < c.n; i++) {
            if (c.v[i][st] <= m)
                cr_expect(c.v[i][tl] == s.v[i][tl], "seed %d step %g: %g vs %g", k, c.v[i][st], c.v[i][tl], s.v[i][tl]);
            else if (c.v[i][st] <= m + 200)
                after_c += c.v[i][tl], after_s += s.v[i][tl], n++;
        }
        cr_assert(n >= 3);
        cr_expect(after_s < 0.95 * after_c, "seed %d: after the milestone %g vs constant %g", k, after_s / n, after_c / n);
        free(c.v);
        free(s.v);
    }
}

/* Which decay matters less than whether: the decaying schedules' mean accuracies span
 * less than the smallest gain of any of them over the constant rate. */
Test(ch04_train, which_decay_matters_less_than_whether) {
    load_runs();
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 1; s < NSCHED; s++) lo = fmin(lo, mean_of(s, 0)), hi = fmax(hi, mean_of(s, 0));
    cr_expect(hi - lo < lo - mean_of(0, 0), "span %.2f, smallest gain %.2f", hi - lo, lo - mean_of(0, 0));
}

/* Every schedule ends where the run ends, as train.c's presets promise (base lr 0.1):
 * constant at the base, step and exp at base/100 (exp at base/10 halfway), the rest at
 * practically 0 (below base/500: WSD's linear decay is at 1/713 of the base at its last
 * update, cosine and one-cycle far lower). */
Test(ch04_train, schedules_end_where_the_run_ends) {
    load_runs();
    double base = 0.1;
    for (int k = 0; k < NSEED; k++) {
        cr_expect(NEAR(runs[0][k].lr_end, base));
        cr_expect(fabs(runs[1][k].lr_end / (base / 100) - 1) < 1e-4, "step ends at %g", runs[1][k].lr_end);
        cr_expect(fabs(runs[2][k].lr_end / (base / 100) - 1) < 0.01, "exp ends at %g", runs[2][k].lr_end);
        cr_expect(fabs(runs[2][k].lr_half / (base / 10) - 1) < 0.02, "exp halfway at %g", runs[2][k].lr_half);
        for (int s = 3; s < NSCHED; s++)
            cr_expect(runs[s][k].lr_end < base / 500, "%s ends at %g", scheds[s], runs[s][k].lr_end);
    }
}

/* The summary table is the mean and sample sd of the runs' final rows. */
Test(ch04_train, summary_matches_the_runs) {
    load_runs();
    table t = t_table(D04 "summary.tsv");
    cr_assert_eq(t.n, NSCHED);
    int acc = col(&t, "test_acc"), sd = col(&t, "test_acc_sd"), seeds = col(&t, "seeds");
    for (int s = 0; s < NSCHED; s++) {
        double m = mean_of(s, 0), ss = 0;
        for (int k = 0; k < NSEED; k++) ss += (runs[s][k].acc - m) * (runs[s][k].acc - m);
        cr_expect(t.v[s][seeds] == NSEED);
        cr_expect(fabs(t.v[s][acc] - m) < 1e-3, "%s: %g vs %g", scheds[s], t.v[s][acc], m);
        cr_expect(fabs(t.v[s][sd] - sqrt(ss / (NSEED - 1))) < 1e-3, "%s sd", scheds[s]);
    }
    free(t.v);
}

/* A short run, twice: the same bytes; the cosine preset's lr falls monotonically from the
 * base to practically 0 (a training subset, so that it takes a moment). */
Test(ch04_train, short_run_deterministic_and_scheduled) {
    char a[64], b[64], cmd[512];
    snprintf(a, sizeof a, "%s", tmpfile_path());
    snprintf(b, sizeof b, "%s", tmpfile_path());
    const char *args = " --sched cosine --epochs 5 --train-size 2560 --train-eval 500 --seed 3 --out ";
    snprintf(cmd, sizeof cmd, TRAIN "%s%s", args, a);
    t_result r = run_ok(cmd);
    cr_expect(strstr(r.out, "test accuracy") != NULL, "%s", r.out);
    t_free(&r);
    snprintf(cmd, sizeof cmd, TRAIN "%s%s", args, b);
    r = run_ok(cmd);
    t_free(&r);
    char *ta = t_slurp(a), *tb = t_slurp(b);
    cr_expect_str_eq(ta, tb);
    cr_expect(strstr(ta, "# schedule: cosine = cosine:T=100 ") != NULL, "5 x 2560 / 128 = 100 updates: %s", ta);
    free(ta);
    free(tb);
    table t = t_table(a);
    int lr = col(&t, "lr");
    for (int i = 1; i < t.n; i++) cr_expect(t.v[i][lr] <= t.v[i - 1][lr]);
    cr_expect(t.v[t.n - 1][lr] < 0.1 * 0.01);
    free(t.v);
    unlink(a);
    unlink(b);
}

/* ---------------------------------------------------------------------------------- */
Test(ch04_programs, bad_options_are_rejected) {
    t_assert_rejects(NOISE " --lr 2.5", 2, "--lr");
    t_assert_rejects(NOISE " --lambda 4 --lr 0.5", 2, "--lr");
    t_assert_rejects(NOISE " --lr 0", 2, "--lr");
    t_assert_rejects(NOISE " --lr abc", 2, "--lr");
    t_assert_rejects(NOISE " --decay 1", 2, "--decay");
    t_assert_rejects(NOISE " --decay 0.5,0", 2, "--decay");
    t_assert_rejects(NOISE " --chains 1", 2, "--chains");
    t_assert_rejects(NOISE " --steps 10 --every 100", 2, "--every");
    t_assert_rejects(NOISE " --sigma -1", 2, "--sigma");
    t_assert_rejects(NOISE " --sched bogus", 2, "--sched");
    t_assert_rejects(NOISE " --sched 'cosine:T=0'", 2, "--sched");
    t_assert_rejects(NOISE " --seed -1", 2, "--seed");
    t_assert_rejects(NOISE " stray", 2, "stray");
    t_assert_rejects(TRAIN " --sched bogus", 2, "--sched");
    t_assert_rejects(TRAIN " --sched 'cosine:T=100:bogus=1'", 2, "--sched");
    t_assert_rejects(TRAIN " --optim sgd:lr=-1", 2, "--optim");
    t_assert_rejects(TRAIN " --optim sgdd", 2, "--optim");
    t_assert_rejects(TRAIN " --epochs 0", 2, "--epochs");
    t_assert_rejects(TRAIN " --batch-size 0", 2, "--batch-size");
    t_assert_rejects(TRAIN " --train-size 70000", 2, "--train-size");
    t_assert_rejects(TRAIN " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(TRAIN " --seed 1.5", 2, "--seed");
    t_assert_rejects(SUMMARY, 2, "no run tables");
    t_assert_rejects(SUMMARY " --bogus x", 2, "--bogus");
    t_assert_rejects(SUMMARY " /nonexistent/run.tsv", 1, "/nonexistent/run.tsv");
    t_assert_rejects(SUMMARY " " D04 "floors.tsv", 1, "floors.tsv");
    t_assert_rejects(TRAIN " --data /nonexistent", 1, "/nonexistent");
}

Test(ch04_programs, help_exits_zero) {
    const char *progs[] = {NOISE, TRAIN, SUMMARY};
    for (int i = 0; i < 3; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") != NULL, "%s", r.out);
        t_free(&r);
    }
}

/* Same arguments, same bytes; an output that cannot be written fails in one line. */
Test(ch04_programs, deterministic_and_failing_cleanly) {
    const char *cmd = NOISE " --lr 0.3 --steps 200 --chains 50 --floor-steps 100 --out - --floors -";
    t_result a = run_ok(cmd), b = run_ok(cmd);
    cr_expect_str_eq(a.out, b.out);
    cr_expect(strstr(a.out, "# seed: 4") != NULL, "the seed is printed in the header");
    t_free(&a);
    t_free(&b);
    t_result r = t_run(NOISE " --steps 10 --chains 10 --out /proc/nonexistent/x.tsv");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "/proc/nonexistent") != NULL && t_lines(r.err) == 1, "%s", r.err);
    t_free(&r);
}

/* The numbers and code quoted in the chapter's prose are the ones the programs produce now. */

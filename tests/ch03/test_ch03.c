/* test_ch03.c -- the claims Chapter 3 makes, checked on the runs `make` produced and on
 * small runs made here.
 *
 * The sweep (§3.2) is checked for its grid and the shapes the text describes; the range
 * test (§3.3) is re-derived from its own log (ramp, smoothing, stop rule, fastai's three
 * suggestions, implemented again here) and compared with the sweep's best lr within the
 * factors the text states; the sharpness (§3.4) is checked against an exact product, and
 * full-batch GD around 2/lambda_max on a quadratic loss diverges just above it and
 * converges just below, on the chapter's problem and on another one run here.
 */
#include "../common.h"

#include <math.h>

#define RANGETEST GD_BIN "ch03-rangetest"
#define SHARPNESS GD_BIN "ch03-sharpness"
#define SUMMARY GD_BIN "ch03-summary"
#define D03 GD_BUILD_DIR "/ch03/"

/* ---------------------------------------------------------------------------------- */
/* Tables: '#' comments, a header, tab-separated rows; text fields kept as strings. */
#define MAXCOLS 16
typedef struct {
    int n, ncols;
    char names[MAXCOLS][32];
    char *(*s)[MAXCOLS];
    double (*v)[MAXCOLS];
} table;

static table t_table(const char *path) {
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s (does `make` run before the tests?)", path);
    table t = {0};
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
            cap = cap ? 2 * cap : 256;
            t.v = realloc(t.v, (size_t)cap * sizeof *t.v);
            t.s = realloc(t.s, (size_t)cap * sizeof *t.s);
        }
        for (char *f = strtok_r(line, "\t", &fsave); f && c < MAXCOLS; f = strtok_r(NULL, "\t", &fsave), c++) {
            char *end;
            double x = strtod(f, &end);
            t.v[t.n][c] = end != f && *end == '\0' ? x : NAN;
            t.s[t.n][c] = strdup(f);
        }
        for (; c < MAXCOLS; c++) t.v[t.n][c] = NAN, t.s[t.n][c] = NULL;
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

/* The value of key in a `key value` numbers table. */
static double number(const char *path, const char *key) {
    table t = t_table(path);
    for (int i = 0; i < t.n; i++)
        if (t.s[i][0] && strcmp(t.s[i][0], key) == 0) return t.v[i][1];
    cr_assert_fail("%s: no key %s", path, key);
    return NAN;
}

static char *tmp_path(void) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/gdtest-ch03-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    return path;
}

/* ---------------------------------------------------------------------------------- */
/* §3.2: the sweep covers 1e-5 to 1 with >= 4 points per decade, 3 optimizers, >= 3 seeds. */
Test(ch03_sweep, grid_spans_five_decades_with_seeds) {
    table t = t_table(D03 "sweep.tsv");
    int lr = col(&t, "lr"), seed = col(&t, "seed"), op = col(&t, "optim");
    double lo = INFINITY, hi = 0;
    int nlr = 0, maxseed = 0, adam = 0, mom = 0, sgd = 0;
    double seen[256];
    for (int i = 0; i < t.n; i++) {
        double x = t.v[i][lr];
        lo = fmin(lo, x), hi = fmax(hi, x);
        int dup = 0;
        for (int j = 0; j < nlr; j++) dup |= seen[j] == x;
        if (!dup && nlr < 256) seen[nlr++] = x;
        if (t.v[i][seed] > maxseed) maxseed = (int)t.v[i][seed];
        adam += strcmp(t.s[i][op], "adam") == 0;
        mom += strcmp(t.s[i][op], "sgd:momentum=0.9") == 0;
        sgd += strcmp(t.s[i][op], "sgd") == 0;
    }
    cr_expect_leq(lo, 1e-5 * 1.0001);
    cr_expect_geq(hi, 1.0);
    cr_expect_geq(nlr, 4 * 5 + 1, "%d lrs for 5 decades", nlr);
    cr_expect_geq(maxseed + 1, 3);
    cr_expect(adam > 0 && mom > 0 && sgd > 0 && adam == mom && mom == sgd);
    cr_expect_eq(t.n, nlr * 3 * (maxseed + 1));
}

/* The text: Adam diverges at the largest lrs (every seed at lr 1), while plain SGD and
 * momentum do not diverge by the trainer's rule but end near chance accuracy at lr 1. */
Test(ch03_sweep, ways_of_failing) {
    table t = t_table(D03 "sweep.tsv");
    int lr = col(&t, "lr"), op = col(&t, "optim"), st = col(&t, "status"), acc = col(&t, "val_acc");
    for (int i = 0; i < t.n; i++) {
        if (t.v[i][lr] != 1) continue;
        if (strcmp(t.s[i][op], "adam") == 0) cr_expect_str_eq(t.s[i][st], "diverged");
        else {
            cr_expect_str_eq(t.s[i][st], "ok", "%s at lr 1", t.s[i][op]);
            cr_expect_lt(t.v[i][acc], 0.3, "%s at lr 1: accuracy %g, near chance expected", t.s[i][op], t.v[i][acc]);
        }
    }
}

/* The best lr is inside the grid (not at either end), the defaults are within a decade of
 * it (Adam 1e-3, momentum 1e-2) and give a worse loss than the best. */
Test(ch03_sweep, best_lr_inside_grid_and_near_defaults) {
    const char *nums = D03 "numbers-sweep.tsv";
    const char *opts[] = {"sgd", "momentum", "adam"};
    for (int o = 0; o < 3; o++) {
        char key[64];
        snprintf(key, sizeof key, "best_lr_%s", opts[o]);
        double best = number(nums, key);
        cr_expect(best > 1e-5 * 1.01 && best < 0.99, "%s: best lr %g at the grid's end", opts[o], best);
        if (o > 0) {
            double def = o == 2 ? 1e-3 : 1e-2;
            cr_expect(best / def <= 10 && best / def >= 0.1, "%s: best %g, default %g", opts[o], best, def);
            snprintf(key, sizeof key, "default_gap_%s", opts[o]);
            cr_expect_geq(number(nums, key), 0);
        }
    }
    cr_expect_lt(number(nums, "best_loss_adam"), number(nums, "best_loss_sgd"));
    cr_expect_lt(number(nums, "best_loss_momentum"), number(nums, "best_loss_sgd"));
}

/* ---------------------------------------------------------------------------------- */
/* §3.3: fastai's lr_find, re-derived from the run's own log: lr_i = 1e-7 * 1e8^(i/100);
 * smooth_i = avg_i / (1 - 0.98^(i+1)), avg_i = 0.98 avg_(i-1) + 0.02 loss_i; the run stops
 * at the first step where smooth > 4 x its best, else after 100 steps; suggestions from
 * the points [10, n - 5). */
static void check_rangetest(const char *name) {
    char path[256], sug[256];
    snprintf(path, sizeof path, D03 "rt/%s.tsv", name);
    snprintf(sug, sizeof sug, D03 "rt/%s.suggest", name);
    table t = t_table(path);
    int lrc = col(&t, "lr"), lc = col(&t, "loss"), sc = col(&t, "smooth_loss");
    int n = t.n;
    double avg = 0, best = INFINITY, lrs[128], sm[128];
    cr_assert_leq(n, 100);
    int stopped = 0;
    for (int i = 0; i < n; i++) {
        double lr = 1e-7 * pow(1e8, i / 100.0);
        cr_expect(fabs(t.v[i][lrc] / lr - 1) < 1e-4, "%s step %d: lr %g, expected %g", name, i, t.v[i][lrc], lr);
        avg = 0.98 * avg + 0.02 * t.v[i][lc];
        double s = avg / (1 - pow(0.98, i + 1));
        cr_expect(fabs(s - t.v[i][sc]) < 1e-5 + 1e-5 * fabs(s), "%s step %d: smooth %g, expected %g", name, i,
                  t.v[i][sc], s);
        best = fmin(best, s);
        stopped = s > 4 * best;
        cr_expect(!stopped || i == n - 1, "%s: should have stopped at step %d", name, i);
        lrs[i] = t.v[i][lrc], sm[i] = t.v[i][sc];
    }
    cr_expect(stopped || n == 100);
    /* the suggestions, recomputed */
    int lo = 10, hi = n - 5, m = hi - lo;
    const double *L = lrs + lo, *S = sm + lo;
    int im = 0, is = 0;
    double gmin = INFINITY;
    for (int i = 1; i < m; i++)
        if (S[i] < S[im]) im = i;
    for (int i = 0; i + 1 < m; i++) {
        double g = (S[i + 1] - S[i]) / (log(L[i + 1]) - log(L[i]));
        if (g < gmin) gmin = g, is = i;
    }
    int lds[128], ms = 0, me = 0;
    for (int i = 0; i < m; i++) lds[i] = 1;
    for (int i = 1; i < m; i++)
        for (int j = 0; j < i; j++) {
            if (S[i] < S[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
            if (lds[me] < lds[i]) me = i, ms = me - lds[me];
        }
    double sec = (me - ms) / 3.0;
    int iv = ms + (int)sec + (int)(sec / 2);
    table s = t_table(sug);
    /* the log rounds lrs and losses to 6 digits: compare with 1e-3 */
    cr_expect(fabs(s.v[0][col(&s, "minimum")] / (L[im] / 10) - 1) < 1e-3, "%s: minimum", name);
    cr_expect(fabs(s.v[0][col(&s, "steep")] / L[is] - 1) < 1e-3, "%s: steep", name);
    cr_expect(fabs(s.v[0][col(&s, "valley")] / L[iv] - 1) < 1e-3, "%s: valley", name);
}

Test(ch03_rangetest, is_fastai_lr_find) {
    const char *names[] = {"sgd-s0", "sgd-s1", "momentum-s0", "momentum-s2", "adam-s0", "adam-s1"};
    for (int i = 0; i < 6; i++) check_rangetest(names[i]);
}

/* The text's claim: minimum/10 lies within a factor of 4 of the sweep's best lr (either
 * way) for every optimizer, and valley is below the best, within a factor of 20. */
Test(ch03_rangetest, suggestions_within_stated_factors_of_the_sweep) {
    const char *nums = D03 "numbers-sweep.tsv";
    const char *opts[] = {"sgd", "momentum", "adam"};
    for (int o = 0; o < 3; o++) {
        char key[64];
        snprintf(key, sizeof key, "best_lr_%s", opts[o]);
        double best = number(nums, key);
        snprintf(key, sizeof key, "rt_minimum_%s", opts[o]);
        double mn = number(nums, key);
        snprintf(key, sizeof key, "rt_valley_%s", opts[o]);
        double va = number(nums, key);
        cr_expect(best / mn <= 4 && mn / best <= 4, "%s: minimum/10 %g vs best %g", opts[o], mn, best);
        cr_expect(va < best && best / va <= 20, "%s: valley %g vs best %g", opts[o], va, best);
    }
}

/* ---------------------------------------------------------------------------------- */
/* §3.4: the finite-difference HVP against the exact product of softmax regression. */
Test(ch03_sharpness, hvp_matches_exact_product) {
    const char *nums = D03 "numbers-check.tsv";
    cr_expect_lt(number(nums, "check_err_at_eps"), 1e-3);
    cr_expect_lt(number(nums, "check_lambda_rel"), 1e-3);
    /* and on another problem, run here: 300 images, seed 5 */
    char *path = tmp_path(), cmd[512];
    snprintf(cmd, sizeof cmd, SHARPNESS " --experiment check --hidden 0 --n 300 --seed 5 --eps 1e-2 --iters 10 "
                                        "--numbers %s", path);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
    t_free(&r);
    cr_expect_lt(number(path, "check_err_at_eps"), 1e-3);
    cr_expect_lt(number(path, "check_lambda_rel"), 1e-2);
    unlink(path);
}

/* Full-batch GD on a quadratic loss (linear least squares) with lambda_max measured by
 * power iteration: 0.9 x 2/lambda_max converges (the loss falls), 1.1 x diverges. */
static void check_edge(const char *nums, const char *prefix) {
    char key[64];
    snprintf(key, sizeof key, "%sf0p9_diverged", prefix);
    cr_expect_eq(number(nums, key), 0, "0.9 x 2/lambda diverged");
    snprintf(key, sizeof key, "%sf0p9_final", prefix);
    double fin = number(nums, key);
    snprintf(key, sizeof key, "%sfirst_loss", prefix);
    cr_expect_lt(fin, number(nums, key) / 2, "0.9 x 2/lambda: the loss should fall");
    snprintf(key, sizeof key, "%sf1p1_diverged", prefix);
    cr_expect_eq(number(nums, key), 1, "1.1 x 2/lambda did not diverge");
}

Test(ch03_sharpness, gd_diverges_above_two_over_lambda_on_a_quadratic) {
    check_edge(D03 "numbers-edge-lin.tsv", "lin_");
    cr_expect_eq(number(D03 "numbers-edge-lin.tsv", "lin_f0p99_diverged"), 0);
    cr_expect_eq(number(D03 "numbers-edge-lin.tsv", "lin_f1p01_diverged"), 1);
    char *path = tmp_path(), cmd[512];
    snprintf(cmd, sizeof cmd, SHARPNESS " --experiment edge --hidden 0 --loss mse --n 400 --seed 7 --steps 300 "
                                        "--factors 0.9,1.1 --numbers %s", path);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
    t_free(&r);
    check_edge(path, "");
    unlink(path);
}

/* The MLP does not diverge at 1.1 to 3 x its initial 2/lambda_max (the text's claim). */
Test(ch03_sharpness, mlp_survives_above_initial_edge) {
    const char *nums = D03 "numbers-edge-mlp.tsv";
    cr_expect_eq(number(nums, "mlp_f1p1_diverged"), 0);
    cr_expect_eq(number(nums, "mlp_f3_diverged"), 0);
    cr_expect_lt(number(nums, "mlp_f3_final"), number(nums, "mlp_first_loss") / 2);
}

/* Edge of stability: the sharpness starts below 2/lr, climbs to it, and over the second
 * half of the run stays around it (mean within 0.7 to 1.5 x 2/lr). */
Test(ch03_sharpness, sharpness_climbs_to_two_over_lr) {
    double edge = number(D03 "numbers-eos.tsv", "eos_two_over_lr");
    double lr = number(D03 "numbers-eos.tsv", "eos_lr");
    cr_expect(fabs(edge * lr / 2 - 1) < 1e-2);
    table t = t_table(D03 "eos.tsv");
    int st = col(&t, "step"), sh = col(&t, "sharpness");
    double first = NAN, sum = 0, mx = 0, last_step = t.v[t.n - 1][st];
    int n = 0;
    for (int i = 0; i < t.n; i++) {
        double s = t.v[i][sh];
        if (isnan(s)) continue;
        if (isnan(first)) first = s;
        mx = fmax(mx, s);
        if (t.v[i][st] >= last_step / 2) sum += s, n++;
    }
    cr_expect_lt(first, 0.8 * edge, "sharpness at the start %g, 2/lr %g", first, edge);
    cr_expect_geq(mx, 0.9 * edge, "sharpness never reached 2/lr: max %g, 2/lr %g", mx, edge);
    cr_assert_gt(n, 3);
    cr_expect(sum / n > 0.7 * edge && sum / n < 1.5 * edge, "second half mean %g, 2/lr %g", sum / n, edge);
}

/* ---------------------------------------------------------------------------------- */
Test(ch03_programs, deterministic) {
    char *a = t_run_file(RANGETEST " --optim adam --num-it 30 --seed 3 --out %s"),
         *b = t_run_file(RANGETEST " --optim adam --num-it 30 --seed 3 --out %s");
    cr_expect_str_eq(a, b);
    free(a), free(b);
    a = t_run_file(SHARPNESS " --experiment edge --n 200 --hidden 8 --steps 20 --factors 0.5,2 --out %s");
    b = t_run_file(SHARPNESS " --experiment edge --n 200 --hidden 8 --steps 20 --factors 0.5,2 --out %s");
    cr_expect_str_eq(a, b);
    free(a), free(b);
}

Test(ch03_programs, help_and_bad_options) {
    const char *progs[] = {RANGETEST, SHARPNESS, SUMMARY};
    for (int i = 0; i < 3; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "--") != NULL);
        t_free(&r);
    }
    t_assert_rejects(RANGETEST " --optim sgdd", 2, "--optim");
    t_assert_rejects(RANGETEST " --optim sgd:lr=0.1", 2, "--optim");
    t_assert_rejects(RANGETEST " --beta 1", 2, "--beta");
    t_assert_rejects(RANGETEST " --start-lr 0", 2, "--start-lr");
    t_assert_rejects(RANGETEST " --start-lr 1 --end-lr 0.1", 2, "--end-lr");
    t_assert_rejects(RANGETEST " --num-it 1", 2, "--num-it");
    t_assert_rejects(RANGETEST " --stop-factor 0.5", 2, "--stop-factor");
    t_assert_rejects(RANGETEST " --train-subset 59000", 2, "--train-subset");
    t_assert_rejects(RANGETEST " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(RANGETEST " --data /nonexistent", 1, "/nonexistent");
    t_assert_rejects(SHARPNESS " --experiment bogus", 2, "--experiment");
    t_assert_rejects(SHARPNESS " --loss hinge", 2, "--loss");
    t_assert_rejects(SHARPNESS " --experiment check --hidden 4", 2, "--experiment");
    t_assert_rejects(SHARPNESS " --eps 0", 2, "--eps");
    t_assert_rejects(SHARPNESS " --factors 0.5,-1", 2, "--factors");
    t_assert_rejects(SHARPNESS " --n 5", 2, "--n");
    t_assert_rejects(SHARPNESS " --lr -1", 2, "--lr");
    t_assert_rejects(SHARPNESS " --data /nonexistent", 1, "/nonexistent");
    t_assert_rejects(SUMMARY, 2, "--sweep");
    t_assert_rejects(SUMMARY " --sweep /nonexistent.tsv", 1, "/nonexistent.tsv");
}


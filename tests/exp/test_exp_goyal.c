/* test_exp_goyal.c -- experiments/goyal-scaling: the README's claims, checked against
 * the committed results, and the quick run's outputs.
 *
 * The claims are recomputed here from the per-run table (results/runs.tsv,
 * runs-low.tsv: one final test error per seed), not read from the program's summaries:
 * medians over the seeds (5), a stopped run counted as chance (90 % error), as the
 * README says. The committed results do not change with the build, so these hold in
 * every build; the quick run's numbers do, so only its shape is checked.
 */
#include "../common.h"

#include <math.h>

#define GS GD_BIN "exp-goyal-scaling"
#define GS_RES "experiments/goyal-scaling/results/"
#define GS_Q GD_BUILD_DIR "/exp-quick/goyal-scaling/"

/* Median final error (a stopped run counts as 0.9) over the seeds of (batch, warmup
 * epochs) in a runs table; *n_stopped the runs stopped by the divergence rule. The
 * smallest batch of a sweep with a warmup series has only its run without warmup. */
static double median_err(const char *path, int batch, double warmup, int *n_stopped, int *n_runs) {
    t_tsv *t = t_tsv_read(path);
    int cb = t_tsv_col(t, "batch"), cw = t_tsv_col(t, "warmup_epochs"), ce = t_tsv_col(t, "test_err"),
        cs = t_tsv_col(t, "status");
    double v[64];
    int n = 0, stopped = 0;
    for (int i = 0; i < t->nrows && n < 64; i++) {
        if ((int)t_tsv_num(t, i, cb) != batch || t_tsv_num(t, i, cw) != warmup) continue;
        int st = strcmp(t_tsv_cell(t, i, cs), "diverged") == 0;
        double e = t_tsv_num(t, i, ce);
        stopped += st;
        v[n++] = st || isnan(e) ? 0.9 : e;
    }
    t_tsv_free(t);
    if (n_stopped) *n_stopped = stopped;
    if (n_runs) *n_runs = n;
    cr_assert(n > 0, "%s: no runs at batch %d, warmup %g", path, batch, warmup);
    return t_median(v, n);
}

/* ---------------------------------------------------------------------------------- */
Test(exp_goyal_cli, help_and_bad_input) {
    t_result r = t_run(GS " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--batches") && strstr(r.out, "--warmup-epochs") && strstr(r.out, "--base-lr"));
    t_free(&r);
    t_assert_rejects(GS " --batches 512,256", 2, "--batches");
    t_assert_rejects(GS " --batches 100.5", 2, "--batches");
    t_assert_rejects(GS " --batches 0", 2, "--batches");
    t_assert_rejects(GS " --epochs 4 --decay-epochs 2,5", 2, "--decay-epochs");
    t_assert_rejects(GS " --epochs 9 --decay-epochs 3,6,8 --warmup-epochs 4", 2, "--warmup-epochs");
    t_assert_rejects(GS " --sched cosine:T=10", 2, "--sched");
    t_assert_rejects(GS " --base-lr 0", 2, "--base-lr");
    t_assert_rejects(GS " --optim sgd:momentum=2", 2, "--optim");
}

/* The quick run (make test): every table well-formed, with its provenance; one row per
 * run, errors in [0, 1] or a stopped run; the smallest batch has no warmup run. */
Test(exp_goyal_quick, tables_are_well_formed) {
    t_tsv *t = t_tsv_read(GS_Q "runs.tsv");
    int cb = t_tsv_col(t, "batch"), cw = t_tsv_col(t, "warmup_epochs"), ce = t_tsv_col(t, "test_err"),
        cs = t_tsv_col(t, "status"), cl = t_tsv_col(t, "lr");
    cr_expect_eq(t->nrows, 3, "2 batches x 2 warmups, less the smallest batch's warmup: 3 runs, got %d", t->nrows);
    for (int i = 0; i < t->nrows; i++) {
        const char *st = t_tsv_cell(t, i, cs);
        double e = t_tsv_num(t, i, ce);
        cr_expect(strcmp(st, "ok") == 0 || strcmp(st, "diverged") == 0, "status '%s'", st);
        if (strcmp(st, "ok") == 0) cr_expect(e >= 0 && e <= 1, "error %g", e);
        /* the linear scaling rule: lr = base-lr * batch / base-batch (0.1 at 512) */
        cr_expect_float_eq(t_tsv_num(t, i, cl), 0.1 * t_tsv_num(t, i, cb) / 512, 1e-9);
        cr_expect(!(t_tsv_num(t, i, cb) == 512 && t_tsv_num(t, i, cw) > 0), "the smallest batch has a warmup run");
    }
    t_tsv_free(t);
    const char *files[] = {"runs.tsv", "curves.tsv", "numbers.tsv"};
    for (int k = 0; k < 3; k++) {
        char path[512];
        snprintf(path, sizeof path, GS_Q "%s", files[k]);
        char *text = t_slurp(path);
        cr_assert_not_null(text, "%s", path);
        cr_expect(strstr(text, "# command: exp-goyal-scaling ") && strstr(text, "# blas: "), "%s: no provenance", path);
        free(text);
    }
    cr_expect_eq(t_num(GS_Q "numbers.tsv", "gs_batch_max"), 8192);
    char *table = t_str(GS_Q "numbers.tsv", "gs_table");
    cr_expect(strstr(table, "| 8192 |") != NULL);
    free(table);
}

/* ---------------------------------------------------------------------------------- */
/* The README's claims, from the committed per-run tables. */

static const int BATCHES[] = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
#define NB 10
#define BASE 256

/* The arm "with warmup" of a batch: its warmup runs, or for a batch <= 256 (nothing to
 * warm up from) its runs without. */
static double warm_err(int batch, int *stopped) {
    return median_err(GS_RES "runs.tsv", batch, batch <= BASE ? 0 : 1, stopped, NULL);
}

/* In how many seeds does the warmup end with an error lower by at least 0.1 point? */
static int warmup_ahead(int batch, int *nseeds) {
    t_tsv *t = t_tsv_read(GS_RES "runs.tsv");
    int cs = t_tsv_col(t, "seed"), cb = t_tsv_col(t, "batch"), cw = t_tsv_col(t, "warmup_epochs"),
        ce = t_tsv_col(t, "test_err"), cst = t_tsv_col(t, "status");
    double e[2][64];
    int n[2] = {0, 0};
    double seed0 = INFINITY;
    for (int i = 0; i < t->nrows; i++) seed0 = fmin(seed0, t_tsv_num(t, i, cs));
    for (int i = 0; i < t->nrows; i++) {
        if ((int)t_tsv_num(t, i, cb) != batch) continue;
        int w = t_tsv_num(t, i, cw) > 0, s = (int)(t_tsv_num(t, i, cs) - seed0);
        cr_assert(s >= 0 && s < 64);
        double x = t_tsv_num(t, i, ce);
        e[w][s] = strcmp(t_tsv_cell(t, i, cst), "diverged") == 0 || isnan(x) ? 0.9 : x;
        n[w]++;
    }
    t_tsv_free(t);
    cr_assert(n[0] == n[1] && n[0] > 0, "batch %d: paired runs", batch);
    int ahead = 0;
    for (int s = 0; s < n[0]; s++) ahead += e[1][s] <= e[0][s] - 0.001;
    *nseeds = n[0];
    return ahead;
}

Test(exp_goyal_claims, the_rule_holds_up_to_the_flat_end_and_breaks_after) {
    double base = warm_err(BASE, NULL);
    double tol = t_num(GS_RES "numbers.tsv", "gs_tol") / 100;
    int flat_to = (int)t_num(GS_RES "numbers.tsv", "gs_w1_flat_to");
    int brk = (int)t_num(GS_RES "numbers.tsv", "gs_w1_break");
    cr_expect_geq(flat_to, 512, "the README: the rule holds at least to 512");
    int last_flat = 0;
    for (int i = 0; i < NB && BATCHES[i] <= flat_to; i++) {
        double e = warm_err(BATCHES[i], NULL);
        cr_expect_leq(fabs(e - base), tol + 1e-9, "batch %d: %g vs batch 256's %g", BATCHES[i], e, base);
        last_flat = BATCHES[i];
    }
    cr_expect_eq(last_flat, flat_to);
    cr_expect_eq(brk, 2 * flat_to, "the break is the next batch");
    cr_expect_gt(warm_err(brk, NULL) - base, 0.02, "the break: more than 2 points above batch 256");
    /* from 4096 up, with or without warmup, the median is at (or within 2 points of) chance */
    for (int i = 0; i < NB; i++)
        if (BATCHES[i] >= 4096)
            for (int w = 0; w < 2; w++) {
                double e = median_err(GS_RES "runs.tsv", BATCHES[i], w, NULL, NULL);
                cr_expect_geq(e, 0.88, "batch %d, warmup %d: median %g", BATCHES[i], w, e);
            }
}

Test(exp_goyal_claims, the_warmup_helps_where_the_rule_breaks_without_repairing_it) {
    double base = warm_err(BASE, NULL);
    int pair[] = {1024, 2048};
    for (int k = 0; k < 2; k++) {
        int n, ahead = warmup_ahead(pair[k], &n);
        cr_expect_geq(ahead, n - 1, "batch %d: warmup ahead in %d of %d seeds", pair[k], ahead, n);
        for (int w = 0; w < 2; w++)
            cr_expect_gt(median_err(GS_RES "runs.tsv", pair[k], w, NULL, NULL) - base, 0.01,
                         "batch %d, warmup %d: not within a point of batch 256", pair[k], w);
    }
    int s0, s1;
    median_err(GS_RES "runs.tsv", 2048, 0, &s0, NULL);
    median_err(GS_RES "runs.tsv", 2048, 1, &s1, NULL);
    cr_expect_gt(s0, s1, "at 2048 more runs are stopped without warmup (%d) than with it (%d)", s0, s1);
    /* "stopped in the first steps": within the first 10 */
    t_tsv *t = t_tsv_read(GS_RES "runs.tsv");
    int cb = t_tsv_col(t, "batch"), cst = t_tsv_col(t, "status"), cn = t_tsv_col(t, "steps");
    for (int i = 0; i < t->nrows; i++)
        if ((int)t_tsv_num(t, i, cb) == 2048 && strcmp(t_tsv_cell(t, i, cst), "diverged") == 0)
            cr_expect_leq(t_tsv_num(t, i, cn), 10, "row %d: stopped after %g steps", i, t_tsv_num(t, i, cn));
    t_tsv_free(t);
}

/* The blue series: the same recipe from an 8 times lower lr, warmup only (warmup_epochs
 * 1 in every row; a batch <= 256 has nothing to warm up from, so its run has none). */
#define LOW GS_RES "runs-low.tsv"

Test(exp_goyal_claims, a_lower_lr_moves_the_break_less_than_eight_fold) {
    double base = median_err(LOW, BASE, 1, NULL, NULL);
    double tol = t_num(GS_RES "numbers-low.tsv", "gs8_tol") / 100;
    int flat_to = (int)t_num(GS_RES "numbers-low.tsv", "gs8_w0_flat_to");
    int brk = (int)t_num(GS_RES "numbers-low.tsv", "gs8_w0_break");
    for (int i = 0; i < NB && BATCHES[i] <= flat_to; i++) {
        double e = median_err(LOW, BATCHES[i], 1, NULL, NULL);
        cr_expect_leq(fabs(e - base), tol + 1e-9, "low lr, batch %d: %g vs %g", BATCHES[i], e, base);
    }
    cr_expect_gt(median_err(LOW, brk, 1, NULL, NULL) - base, tol, "the low series' break");
    int brk_high = (int)t_num(GS_RES "numbers.tsv", "gs_w1_break");
    cr_expect_gt(flat_to, (int)t_num(GS_RES "numbers.tsv", "gs_w1_flat_to"), "flat to a larger batch");
    cr_expect_lt(brk, 8 * brk_high, "the break moves less than 8-fold (%d vs %d)", brk, brk_high);
    cr_expect_lt(t_num(GS_RES "numbers-low.tsv", "gs8_w0_break_lr"), t_num(GS_RES "numbers.tsv", "gs_w1_break_lr"),
                 "the low series breaks at a lower lr");
    /* the same lr (0.4), 8 times fewer steps: more than 10 points worse */
    double hi = warm_err(brk_high, NULL), lo = median_err(LOW, 8 * brk_high, 1, NULL, NULL);
    cr_expect_gt(lo - hi, 0.10, "batch %d at low lr (%g) vs batch %d (%g)", 8 * brk_high, lo, brk_high, hi);
}

Test(exp_goyal_claims, no_run_at_lr_0_8_or_more_trains_and_flat_is_not_good) {
    const char *files[] = {GS_RES "runs.tsv", LOW};
    for (int f = 0; f < 2; f++) {
        double base = median_err(files[f], BASE, f == 0 ? 0 : 1, NULL, NULL);
        t_tsv *t = t_tsv_read(files[f]);
        int cl = t_tsv_col(t, "lr"), ce = t_tsv_col(t, "test_err"), cs = t_tsv_col(t, "status");
        int n = 0;
        for (int i = 0; i < t->nrows; i++) {
            if (t_tsv_num(t, i, cl) < 0.8 - 1e-9) continue;
            double e = strcmp(t_tsv_cell(t, i, cs), "diverged") == 0 ? 0.9 : t_tsv_num(t, i, ce);
            cr_expect_gt(e - base, 0.10, "%s row %d: lr %g, error %g", files[f], i, t_tsv_num(t, i, cl), e);
            n++;
        }
        cr_expect_gt(n, 0);
        t_tsv_free(t);
    }
    double best_high = warm_err(BASE, NULL);
    for (int i = 0; i < NB; i++)
        cr_expect_gt(median_err(LOW, BATCHES[i], 1, NULL, NULL) - best_high, 0.02, "low lr, batch %d", BATCHES[i]);
}

/* The numbers table agrees with the per-run tables it summarises. */
Test(exp_goyal_claims, numbers_agree_with_the_runs) {
    cr_expect_float_eq(t_num(GS_RES "numbers.tsv", "gs_w1_base_err"), 100 * warm_err(BASE, NULL), 0.051);
    cr_expect_float_eq(t_num(GS_RES "numbers.tsv", "gs_b2048_w1_err"), 100 * warm_err(2048, NULL), 0.051);
    cr_expect_float_eq(t_num(GS_RES "numbers-low.tsv", "gs8_w0_base_err"), 100 * median_err(LOW, BASE, 1, NULL, NULL),
                       0.051);
}

/* Figure 2: the median test error after each epoch (over the seeds that have one). */
static double curve_median(int batch, int warm, int epoch) {
    t_tsv *t = t_tsv_read(GS_RES "curves.tsv");
    int cb = t_tsv_col(t, "batch"), cw = t_tsv_col(t, "warmup_epochs"), ce = t_tsv_col(t, "epoch"),
        cx = t_tsv_col(t, "test_err");
    double v[64];
    int n = 0;
    for (int i = 0; i < t->nrows && n < 64; i++)
        if ((int)t_tsv_num(t, i, cb) == batch && (t_tsv_num(t, i, cw) > 0) == warm &&
            fabs(t_tsv_num(t, i, ce) - epoch) < 1e-6)
            v[n++] = t_tsv_num(t, i, cx);
    t_tsv_free(t);
    cr_assert(n > 0, "no curve points at batch %d, warmup %d, epoch %d", batch, warm, epoch);
    return t_median(v, n);
}

Test(exp_goyal_claims, curves_join_the_baseline_at_512_and_stay_above_at_1024_and_2048) {
    for (int e = 1; e <= 9; e++) {
        double base = curve_median(BASE, 0, e);
        if (e >= 4)
            for (int w = 0; w < 2; w++)
                cr_expect_leq(curve_median(512, w, e) - base, 0.01, "512, warmup %d, epoch %d", w, e);
        for (int w = 0; w < 2; w++) {
            cr_expect_gt(curve_median(1024, w, e) - base, 0.01, "1024, warmup %d, epoch %d", w, e);
            cr_expect_gt(curve_median(2048, w, e) - base, 0.01, "2048, warmup %d, epoch %d", w, e);
        }
    }
}

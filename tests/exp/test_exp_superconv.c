/* test_exp_superconv.c -- experiments/super-convergence: the README's claims, checked
 * against the committed results, and the quick run's outputs.
 *
 * The claims are recomputed here from the per-run table (results/runs.tsv: one final
 * test accuracy per seed, regime and lr): medians over the seeds (5), a stopped run
 * counted as chance (10 %), the best lr of a regime the one with the highest median, as
 * the README says. The quick run's numbers change with the build: only its shape is
 * checked.
 */
#include "../common.h"

#include <math.h>

#define SC GD_BIN "exp-sc-train"
#define SC_RES "experiments/super-convergence/results/"
#define SC_Q GD_BUILD_DIR "/exp-quick/super-convergence/"

#define MAXS 16
#define MAXLR 16

typedef struct {
    int nlr, nseeds;
    double lr[MAXLR];
    double acc[3][MAXLR][MAXS];      /* [regime][lr][seed], stopped = 0.1 */
    int best[3];                     /* index of the lr with the highest median */
    double med[3][MAXLR];
} sc_data;

static int regime_index(const char *name) {
    return strcmp(name, "onecycle") == 0 ? 0 : strcmp(name, "step") == 0 ? 1 : strcmp(name, "step-long") == 0 ? 2 : -1;
}

static void sc_read(const char *path, sc_data *d) {
    memset(d, 0, sizeof *d);
    t_tsv *t = t_tsv_read(path);
    int cs = t_tsv_col(t, "seed"), cr = t_tsv_col(t, "regime"), cl = t_tsv_col(t, "lr"), ca = t_tsv_col(t, "test_acc"),
        cst = t_tsv_col(t, "status");
    double seed0 = INFINITY;
    for (int i = 0; i < t->nrows; i++) seed0 = fmin(seed0, t_tsv_num(t, i, cs));
    int count[3][MAXLR] = {{0}};
    for (int i = 0; i < t->nrows; i++) {
        int reg = regime_index(t_tsv_cell(t, i, cr));
        cr_assert(reg >= 0, "regime '%s'", t_tsv_cell(t, i, cr));
        double lr = t_tsv_num(t, i, cl);
        int k = 0;
        while (k < d->nlr && d->lr[k] != lr) k++;
        if (k == d->nlr) {
            cr_assert(d->nlr < MAXLR);
            d->lr[d->nlr++] = lr;
        }
        int s = (int)(t_tsv_num(t, i, cs) - seed0);
        cr_assert(s >= 0 && s < MAXS);
        double a = t_tsv_num(t, i, ca);
        d->acc[reg][k][s] = strcmp(t_tsv_cell(t, i, cst), "diverged") == 0 || isnan(a) ? 0.1 : a;
        count[reg][k]++;
        if (s + 1 > d->nseeds) d->nseeds = s + 1;
    }
    t_tsv_free(t);
    for (int reg = 0; reg < 3; reg++) {
        d->best[reg] = 0;
        for (int k = 0; k < d->nlr; k++) {
            cr_assert_eq(count[reg][k], d->nseeds, "every regime and lr has every seed");
            double v[MAXS];
            memcpy(v, d->acc[reg][k], sizeof v);
            d->med[reg][k] = t_median(v, d->nseeds);
            if (d->med[reg][k] > d->med[reg][d->best[reg]]) d->best[reg] = k;
        }
    }
}

/* ---------------------------------------------------------------------------------- */
Test(exp_superconv_cli, help_and_bad_input) {
    t_result r = t_run(SC " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--lrs") && strstr(r.out, "--long") && strstr(r.out, "--epochs"));
    t_free(&r);
    t_assert_rejects(SC " --optim adam", 2, "--optim");
    t_assert_rejects(SC " --lrs 0.1,0", 2, "--lrs");
    t_assert_rejects(SC " --long 0", 2, "--long");
    t_assert_rejects(SC " --epochs 0", 2, "--epochs");
    t_assert_rejects(SC " --sched cosine:T=10", 2, "--sched");
    t_assert_rejects(SC " --epochs 0.01", 2, "--epochs");
}

/* The quick run: every table well-formed with its provenance, 3 regimes x 2 lrs, the
 * long step schedule twice the budget's steps, accuracies in [0, 1]. */
Test(exp_superconv_quick, tables_are_well_formed) {
    t_tsv *t = t_tsv_read(SC_Q "runs.tsv");
    int cr = t_tsv_col(t, "regime"), cn = t_tsv_col(t, "steps"), ca = t_tsv_col(t, "test_acc"),
        cs = t_tsv_col(t, "status");
    cr_expect_eq(t->nrows, 6, "3 regimes x 2 lrs x 1 seed, got %d rows", t->nrows);
    double steps[3] = {0};
    for (int i = 0; i < t->nrows; i++) {
        int reg = regime_index(t_tsv_cell(t, i, cr));
        cr_assert(reg >= 0);
        steps[reg] = t_tsv_num(t, i, cn);
        if (strcmp(t_tsv_cell(t, i, cs), "ok") == 0)
            cr_expect(t_tsv_num(t, i, ca) >= 0 && t_tsv_num(t, i, ca) <= 1);
    }
    t_tsv_free(t);
    cr_expect_eq(steps[0], steps[1], "onecycle and step share the budget");
    cr_expect_eq(steps[2], 2 * steps[1], "--long 2: twice the budget");
    const char *files[] = {"runs.tsv", "curves.tsv", "numbers.tsv"};
    for (int k = 0; k < 3; k++) {
        char path[512];
        snprintf(path, sizeof path, SC_Q "%s", files[k]);
        char *text = t_slurp(path);
        cr_assert_not_null(text, "%s", path);
        cr_expect(strstr(text, "# command: exp-sc-train ") && strstr(text, "# blas: "), "%s: no provenance", path);
        free(text);
    }
    cr_expect_eq(t_num(SC_Q "numbers.tsv", "sc_long"), 2);
}

/* ---------------------------------------------------------------------------------- */
/* The README's claims, from the committed per-run table. */

/* The paired comparison at the best lrs: in how many seeds is a's accuracy above b's. */
static int seeds_above(const sc_data *d, int ra, int rb) {
    int n = 0;
    for (int s = 0; s < d->nseeds; s++) n += d->acc[ra][d->best[ra]][s] > d->acc[rb][d->best[rb]][s];
    return n;
}

Test(exp_superconv_claims, onecycle_beats_step_at_the_same_budget) {
    sc_data d;
    sc_read(SC_RES "runs.tsv", &d);
    cr_assert_geq(d.nseeds, 5, "5 seeds");
    cr_expect_gt(d.med[0][d.best[0]], d.med[1][d.best[1]], "one cycle's best median (%g) above the step "
                 "schedule's at the same budget (%g)", d.med[0][d.best[0]], d.med[1][d.best[1]]);
    cr_expect_geq(seeds_above(&d, 0, 1), d.nseeds - 1, "one cycle ahead in at least %d of %d seeds, got %d",
                  d.nseeds - 1, d.nseeds, seeds_above(&d, 0, 1));
}

Test(exp_superconv_claims, the_longer_step_schedule_stays_ahead) {
    sc_data d;
    sc_read(SC_RES "runs.tsv", &d);
    cr_expect_gt(d.med[2][d.best[2]] - d.med[0][d.best[0]], 0.01, "the 5x longer step schedule (%g) more than "
                 "1 point above one cycle (%g): no super-convergence", d.med[2][d.best[2]], d.med[0][d.best[0]]);
    cr_expect_eq(seeds_above(&d, 2, 0), d.nseeds, "the long step schedule ahead in every seed, got %d of %d",
                 seeds_above(&d, 2, 0), d.nseeds);
}

Test(exp_superconv_claims, the_best_peak_is_not_a_large_lr_but_onecycle_tolerates_one) {
    sc_data d;
    sc_read(SC_RES "runs.tsv", &d);
    cr_expect_leq(d.lr[d.best[0]], 3 * d.lr[d.best[1]] * (1 + 1e-9), "one cycle's best peak %g vs step's %g",
                  d.lr[d.best[0]], d.lr[d.best[1]]);
    int k = -1;
    for (int i = 0; i < d.nlr; i++)
        if (fabs(d.lr[i] - 0.3) < 1e-12) k = i;
    cr_assert(k >= 0, "the grid has lr 0.3");
    cr_expect_gt(d.med[0][k] - d.med[1][k], 0.03, "at lr 0.3 one cycle (%g) more than 3 points above the step "
                 "schedule at the same budget (%g)", d.med[0][k], d.med[1][k]);
    /* at lr 1 both step schedules' medians are chance, one cycle's is well above it */
    int k1 = -1;
    for (int i = 0; i < d.nlr; i++)
        if (fabs(d.lr[i] - 1) < 1e-12) k1 = i;
    cr_assert(k1 >= 0, "the grid has lr 1");
    cr_expect_leq(d.med[1][k1], 0.11);
    cr_expect_leq(d.med[2][k1], 0.11);
    cr_expect_gt(d.med[0][k1], 0.2, "one cycle at peak 1: %g", d.med[0][k1]);
}

/* The README's numbers are the committed results' (test_exp.c runs mdsync --check);
 * here: the numbers table agrees with the per-run table it summarises. */
Test(exp_superconv_claims, numbers_agree_with_the_runs) {
    sc_data d;
    sc_read(SC_RES "runs.tsv", &d);
    cr_expect_float_eq(t_num(SC_RES "numbers.tsv", "sc_oc_best_lr"), d.lr[d.best[0]], 1e-12);
    cr_expect_float_eq(t_num(SC_RES "numbers.tsv", "sc_step_best_lr"), d.lr[d.best[1]], 1e-12);
    cr_expect_float_eq(t_num(SC_RES "numbers.tsv", "sc_long_best_lr"), d.lr[d.best[2]], 1e-12);
    cr_expect_float_eq(t_num(SC_RES "numbers.tsv", "sc_oc_best_acc"), 100 * d.med[0][d.best[0]], 0.051);
    cr_expect_float_eq(t_num(SC_RES "numbers.tsv", "sc_long_best_acc"), 100 * d.med[2][d.best[2]], 0.051);
}

/* test_exp_d2l.c -- experiments/d2l-schedules: the README's claims, checked against the
 * committed results, and the quick run's outputs.
 *
 * Committed results (results/runs-{a,b}.tsv, curves-{a,b}.tsv): every schedule ran for
 * every seed; each schedule's lr, epoch by epoch, is what the README says d2l's code
 * gives (in particular the multistep quirk: 0.125 in every epoch of multistep-d2l,
 * against 0.5 then 0.25 from epoch 15 for multistep); the ordering and the seed-by-seed
 * counts of the numbers table are recomputed here from the per-run rows. The quick
 * run's numbers change with the build: only its shape is checked.
 */
#include "../common.h"

#include <math.h>

#define D2L GD_BIN "exp-d2l-train"
#define D2L_RES "experiments/d2l-schedules/results/"
#define D2L_Q GD_BUILD_DIR "/exp-quick/d2l-schedules/"

static const char *names[6] = {"constant", "sqrt", "multistep", "multistep-d2l", "cosine", "warmup-cosine"};

static int sched_of(const char *s) {
    for (int k = 0; k < 6; k++)
        if (strcmp(s, names[k]) == 0) return k;
    return -1;
}

Test(exp_d2l_cli, help_and_bad_input) {
    t_result r = t_run(D2L " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--scheds") && strstr(r.out, "--train-n") && strstr(r.out, "--model"));
    t_free(&r);
    t_assert_rejects(D2L " --scheds constant,linear --out /dev/null", 2, "--scheds");
    t_assert_rejects(D2L " --model lenet:act=tanh --out /dev/null", 2, "--model");
    t_assert_rejects(D2L " --epochs 0 --out /dev/null", 2, "--epochs");
    t_assert_rejects(D2L " --runs x.tsv", 2, "--summary");
    t_assert_rejects(D2L, 2, "--out");
}

/* The lr of every epoch in the committed curves is the section's code's. */
Test(exp_d2l, committed_lrs_are_d2ls) {
    const char *files[2] = {D2L_RES "curves-a.tsv", D2L_RES "curves-b.tsv"};
    int seen[6] = {0};
    for (int f = 0; f < 2; f++) {
        t_tsv *t = t_tsv_read(files[f]);
        int cs = t_tsv_col(t, "sched"), ce = t_tsv_col(t, "epoch"), cl = t_tsv_col(t, "lr");
        for (int i = 0; i < t->nrows; i++) {
            int k = sched_of(t_tsv_cell(t, i, cs));
            cr_assert(k >= 0, "schedule '%s'", t_tsv_cell(t, i, cs));
            int e = (int)t_tsv_num(t, i, ce) - 1;   /* the table counts epochs from 1 */
            double lr = t_tsv_num(t, i, cl), want;
            const double pi = 3.14159265358979324;
            switch (k) {
            case 0: want = 0.3; break;
            case 1: want = e == 0 ? 0.1 : 0.1 / sqrt((double)e); break;          /* 0.1 (t+1)^-1/2 one epoch late */
            case 2: want = e < 15 ? 0.5 : 0.25; break;
            case 3: want = 0.125; break;                                         /* past both milestones */
            case 4: want = e == 0 ? 0.3 : e - 1 <= 20 ? 0.01 + 0.29 * (1 + cos(pi * (e - 1) / 20)) / 2 : 0.01; break;
            default:
                want = e == 0       ? 0.3                                         /* the optimizer's lr */
                       : e - 1 < 5  ? 0.3 * (e - 1) / 5                            /* warmup from scheduler(0) = 0 */
                       : e - 1 <= 20 ? 0.01 + 0.29 * (1 + cos(pi * (e - 6) / 15)) / 2
                                     : 0.01;
            }
            cr_assert(fabs(lr - want) <= 1e-5 * want + 1e-9, "%s epoch %d: lr %g, d2l's code gives %g", names[k], e, lr,
                      want);
            seen[k]++;
        }
        t_tsv_free(t);
    }
    for (int k = 0; k < 6; k++) cr_assert(seen[k] >= 30, "%s: %d epochs in the curves", names[k], seen[k]);
}

/* Every schedule for every seed; the numbers' ordering and counts recomputed. */
Test(exp_d2l, committed_claims) {
    double loss[6][16], test[6][16], acc[6][16];
    long seed0 = -1;
    int n[6] = {0}, ndiv[6] = {0}, nseeds = 0;
    const char *files[2] = {D2L_RES "runs-a.tsv", D2L_RES "runs-b.tsv"};
    for (int f = 0; f < 2; f++) {
        t_tsv *t = t_tsv_read(files[f]);
        int cs = t_tsv_col(t, "sched"), cd = t_tsv_col(t, "seed"), cl = t_tsv_col(t, "train_loss"),
            ca = t_tsv_col(t, "test_acc"), cv = t_tsv_col(t, "diverged");
        for (int i = 0; i < t->nrows; i++) {
            long s = (long)t_tsv_num(t, i, cd);
            if (seed0 < 0 || s < seed0) seed0 = s;
        }
        for (int i = 0; i < t->nrows; i++) {
            int k = sched_of(t_tsv_cell(t, i, cs));
            int s = (int)((long)t_tsv_num(t, i, cd) - seed0);
            cr_assert(k >= 0 && s >= 0 && s < 16);
            int div = t_tsv_num(t, i, cv) != 0;
            ndiv[k] += div;
            loss[k][s] = t_tsv_num(t, i, cl);
            acc[k][s] = t_tsv_num(t, i, ca);
            test[k][s] = div ? 0.1 : acc[k][s];   /* a stopped run counts as chance, as the summary */
            n[k]++;
            if (s + 1 > nseeds) nseeds = s + 1;
        }
        t_tsv_free(t);
    }
    cr_assert(nseeds >= 3, "at least 3 seeds (the brief's minimum for long runs)");
    for (int k = 0; k < 6; k++) cr_assert_eq(n[k], nseeds, "%s has %d runs, not %d", names[k], n[k], nseeds);
    const char *num = D2L_RES "numbers.tsv";
    cr_assert_eq((int)t_num(num, "d2l_seeds"), nseeds);
    for (int k = 0; k < 6; k++) {
        char key[96], id[32], expect[64];
        snprintf(id, sizeof id, "%s", names[k]);
        for (char *p = id; *p; p++)
            if (*p == '-') *p = '_';
        snprintf(key, sizeof key, "d2l_%s_diverged", id);
        snprintf(expect, sizeof expect, "%d of %d", ndiv[k], nseeds);
        char *v = t_str(num, key);
        cr_assert_str_eq(v, expect, "%s", key);
        free(v);
    }
    /* the ordering by median test accuracy */
    double med[6];
    for (int k = 0; k < 6; k++) {
        double v[16];
        memcpy(v, test[k], sizeof v);
        med[k] = t_median(v, nseeds);
    }
    int order[6] = {0, 1, 2, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            if (med[order[j]] > med[order[i]]) {
                int x = order[i];
                order[i] = order[j], order[j] = x;
            }
    char want[256] = "";
    for (int i = 0; i < 6; i++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? " > " : "", names[order[i]]);
    char *got = t_str(num, "d2l_order_test_acc");
    cr_assert_str_eq(got, want);
    free(got);
    /* seed by seed against the constant lr */
    for (int k = 1; k < 6; k++) {
        int lower = 0, higher = 0;
        for (int s = 0; s < nseeds; s++) lower += loss[k][s] < loss[0][s], higher += acc[k][s] > acc[0][s];
        char key[96], id[32], expect[64];
        snprintf(id, sizeof id, "%s", names[k]);
        for (char *p = id; *p; p++)
            if (*p == '-') *p = '_';
        snprintf(key, sizeof key, "d2l_%s_lower_loss", id);
        snprintf(expect, sizeof expect, "%d of %d", lower, nseeds);
        char *v = t_str(num, key);
        cr_assert_str_eq(v, expect, "%s", key);
        free(v);
        snprintf(key, sizeof key, "d2l_%s_higher_test", id);
        snprintf(expect, sizeof expect, "%d of %d", higher, nseeds);
        v = t_str(num, key);
        cr_assert_str_eq(v, expect, "%s", key);
        free(v);
    }
}

/* The quick run: one seed, every schedule, well-formed and sane. */
Test(exp_d2l, quick_run_is_well_formed) {
    t_tsv *t = t_tsv_read(D2L_Q "runs.tsv");
    cr_assert_eq(t->nrows, 6, "one run per schedule");
    int ca = t_tsv_col(t, "test_acc"), cl = t_tsv_col(t, "train_loss");
    for (int i = 0; i < t->nrows; i++) {
        double a = t_tsv_num(t, i, ca), l = t_tsv_num(t, i, cl);
        cr_assert(a >= 0 && a <= 1 && isfinite(l) && l > 0 && l < 5, "row %d: acc %g, loss %g", i, a, l);
    }
    t_tsv_free(t);
    t = t_tsv_read(D2L_Q "curves.tsv");
    cr_assert_eq(t->nrows, 12, "two epochs per schedule");
    t_tsv_free(t);
    cr_assert((int)t_num(D2L_Q "numbers.tsv", "d2l_runs") == 6);
}

/* sc-train.c -- Smith & Topin's super-convergence: one learning-rate cycle to a large peak
 * against a piecewise-constant (step) schedule, at the same budget and at a longer one.
 *
 * Smith, L. N. and Topin, N. (2019), "Super-Convergence: Very Fast Training of Neural
 * Networks Using Large Learning Rates", Proc. SPIE 11006 (arXiv:1708.07120). Their
 * Figure 1a: a ResNet-56 on CIFAR-10 reaches a higher test accuracy after about 10,000
 * iterations of one cycle to a large lr than after about 80,000 of a piecewise-constant
 * schedule.
 *
 * Three regimes, each trained at every lr of --lrs from the same seeds (paired runs),
 * SGD with momentum (PyTorch's update, optim.h: v <- beta v + g; theta <- theta - lr v):
 *   onecycle   budget B = --epochs epochs: "onecycle:T=B:pct=0.45:three_phase=1:
 *              anneal=linear" (sched.h, PyTorch's OneCycleLR): the lr rises linearly from
 *              lr/25 to the peak lr over 45 % of the steps, falls back to lr/25 over the
 *              next 45 %, then to lr/25/1e4 over the last 10 % (Smith & Topin's 1cycle:
 *              two equal steps, then a short annihilation); momentum falls from 0.95 to
 *              0.85 while the lr rises and back (cycle_momentum, PyTorch's default);
 *   step       budget B: constant lr, divided by 10 at 50 % and 75 % of the steps;
 *              momentum 0.9 (the optimizer's);
 *   step-long  the same step schedule over --long times B (the "standard" long training).
 * The best lr of each regime is the one with the highest median final test accuracy.
 * Outputs: --out (one row per run), --curves (test accuracy every 1/--eval-per-epoch of an
 * epoch), --summary (per regime and lr: median, min, max over seeds), --numbers (what the README quotes); every table records its command and
 * arithmetic (gd_table_provenance). A run stopped by the trainer's divergence rule
 * counts as chance accuracy, 10 %, in the summaries, which say how many there were.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 512
#define NREG 3
#define CHANCE_ACC 0.1

static const char *reg_name[NREG] = {"onecycle", "step", "step-long"};

typedef struct {
    uint64_t seed;
    int reg, ilr;
    double lr;
    long steps, diverged_at;
    double acc, loss, train_loss;    /* final test accuracy and loss, last logged training loss */
} run_result;

static run_result res[MAX_RUNS];
static int nres;

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-128-10";
    to.optim = "sgd:momentum=0.9";
    to.seeds = 5;
    gd_floats lrs = {4, {0.03, 0.1, 0.3, 1}};
    double epochs = 3, eval_per_epoch = 2;
    long longer = 5;
    const char *out = NULL, *curves = NULL, *summary = NULL, *numbers = NULL, *tag = "sc";
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOATS("lrs", &lrs, "lrs: the peak of onecycle, the initial lr of step", 0, 100, 1),
        GD_OPT_FLOAT("epochs", &epochs, "the budget B of onecycle and step, in epochs", 0, 1000, 1),
        GD_OPT_INT("long", &longer, "step-long trains for this many times B", 1, 100),
        GD_OPT_FLOAT("eval-per-epoch", &eval_per_epoch, "test evaluations per epoch (for --curves)", 0, 100, 1),
        GD_OPT_OUT("out", &out, "write one row per run (final test accuracy) to this table"),
        GD_OPT_OUT("curves", &curves, "write the test accuracy during every run to this table"),
        GD_OPT_OUT("summary", &summary, "write each regime and lr's median, min and max accuracy over seeds to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the README quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the numbers' keys (default sc)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Super-convergence (Smith & Topin 2019): one cycle to a large peak lr against a step "
                          "schedule at the same budget and at a longer one, SGD + momentum on Fashion-MNIST, over "
                          "seeds and lrs.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    /* the keys of --numbers are TAG_...: a tag that did not fit the key buffer was cut
     * silently; refused instead (and one that is not a key's characters) */
    if (!*tag || strlen(tag) > 20 ||
        strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(tag)) {
        gd_usage_error("--tag: 1 to 20 letters, digits or '_', got '%.40s'", tag);
        return 2;
    }
    if (to.sched) {
        gd_usage_error("--sched: this program makes its own (onecycle and step), got '%.60s'", to.sched);
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */
    if (kind != GD_SGD) {
        gd_usage_error("--optim: SGD (with momentum) only, got '%.60s'", to.optim);
        return 2;
    }
    if ((long)lrs.n * NREG * to.seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS,
                (long)lrs.n * NREG * to.seeds);
        return 2;
    }

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    long per_epoch = (train.n + to.batch_size - 1) / to.batch_size;
    long B = (long)ceil(epochs * per_epoch);
    if (B < 10) {
        fprintf(stderr, "%s: --epochs: the budget must be at least 10 steps, got %ld\n", gd_prog(), B);
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    int eval_every = (int)fmax(1, round(per_epoch / eval_per_epoch));
    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);

    gd_table *t = NULL, *ct = NULL;
    if (out && !(t = gd_table_open(out, "seed regime lr steps test_acc test_loss train_loss status"))) goto io_error;
    if (curves && !(ct = gd_table_open(curves, "seed regime lr step epoch lr_now test_acc"))) goto io_error;
    gd_table *tabs[2] = {t, ct};
    for (int k = 0; k < 2; k++) {
        if (!tabs[k]) continue;
        gd_table_provenance(tabs[k]);
        gd_table_meta(tabs[k], "program", "exp-sc-train");
        gd_table_meta(tabs[k], "model", "MLP %s, ReLU, batch %ld", to.dims, to.batch_size);
        gd_table_meta(tabs[k], "seeds", "%llu to %llu (the same for every regime and lr)", (unsigned long long)to.seed,
                      (unsigned long long)(to.seed + to.seeds - 1));
        gd_table_meta(tabs[k], "optim", "%s with lr from the run's row", canon);
        gd_table_meta(tabs[k], "onecycle", "onecycle:T=%ld:pct=0.45:three_phase=1:anneal=linear (B = %g epochs)", B,
                      epochs);
        gd_table_meta(tabs[k], "step", "multistep:milestones=%ld/%ld (B), step-long: %ld/%ld (%ld B)", B / 2, 3 * B / 4,
                      longer * B / 2, 3 * longer * B / 4, longer);
    }

    printf("%-5s %-10s %-7s %-6s %s\n", "seed", "regime", "lr", "steps", "final test accuracy");
    for (long s = 0; s < to.seeds; s++)
        for (int reg = 0; reg < NREG; reg++)
            for (int i = 0; i < lrs.n; i++) {
                run_result *r = &res[nres++];
                memset(r, 0, sizeof *r);
                r->seed = to.seed + (uint64_t)s;
                r->reg = reg, r->ilr = i, r->lr = lrs.v[i];
                long T = reg == 2 ? longer * B : B;
                char sched[256];
                // region schedules
                if (reg == 0)   /* one cycle: lr/25 -> lr -> lr/25 (45 % each), then -> lr/25/1e4 */
                    snprintf(sched, sizeof sched, "onecycle:T=%ld:pct=0.45:three_phase=1:anneal=linear", T);
                else            /* piecewise constant: lr, lr/10 at T/2, lr/100 at 3T/4 */
                    snprintf(sched, sizeof sched, "multistep:milestones=%ld/%ld", T / 2, 3 * T / 4);
                // endregion schedules
                gd_hparams h = hp;
                h.lr = r->lr;
                char spec[256], label[96];
                gd_optim_format(spec, sizeof spec, kind, &h);
                snprintf(label, sizeof label, "%s lr %g seed %llu", reg_name[reg], r->lr, (unsigned long long)r->seed);
                cfg.optim = spec;
                cfg.sched = sched;
                cfg.epochs = (double)T / per_epoch;
                cfg.seed = r->seed;
                cfg.train = &train;
                cfg.test = &test;
                cfg.eval_every = eval_every;
                cfg.log_every = 10;
                cfg.label = label;
                gd_trainer *tr = gd_trainer_new(&cfg);
                if (!tr) {
                    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                    return 1;
                }
                gd_train_log log;
                if (gd_trainer_run(tr, &log) != 0) {
                    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                    return 1;
                }
                r->steps = log.steps;
                r->diverged_at = log.diverged_at;
                r->acc = r->loss = r->train_loss = NAN;
                for (int j = 0; j < log.n; j++) {
                    const gd_train_row *row = &log.rows[j];
                    if (isnan(row->test_acc)) continue;
                    if (ct)
                        gd_table_row(ct, "%llu %s %g %ld %.4f %.6g %.4f", (unsigned long long)r->seed, reg_name[reg],
                                     r->lr, row->step, row->epoch, row->lr, row->test_acc);
                }
                if (log.diverged_at < 0 && log.n > 0 && log.rows[log.n - 1].step == T &&
                    !isnan(log.rows[log.n - 1].test_acc)) {
                    r->acc = log.rows[log.n - 1].test_acc;
                    r->loss = log.rows[log.n - 1].test_loss;
                    r->train_loss = log.rows[log.n - 1].train_loss;
                }
                printf("%-5llu %-10s %-7g %-6ld %.4f%s\n", (unsigned long long)r->seed, reg_name[reg], r->lr, T, r->acc,
                       r->diverged_at >= 0 ? " (stopped: diverged)" : "");
                if (ct) gd_table_block(ct);
                if (t)
                    gd_table_row(t, "%llu %s %g %ld %.4f %.5f %.5f %s", (unsigned long long)r->seed, reg_name[reg], r->lr,
                                 r->steps, r->acc, r->loss, r->train_loss, r->diverged_at >= 0 ? "diverged" : "ok");
                gd_trainer_free(tr);
                gd_train_log_free(&log);
            }
    if (t) {
        int e = gd_table_close(t);
        t = NULL;
        if (e) goto io_error;
    }
    if (ct) {
        int e = gd_table_close(ct);
        ct = NULL;
        if (e) goto io_error;
    }

    /* final test accuracy per regime and lr over seeds (a stopped run counts as chance);
     * the best lr of a regime has the highest median */
    static double acc[NREG][GD_FLOATS_MAX][MAX_RUNS];
    static int ndiv[NREG][GD_FLOATS_MAX];
    static gd_stats st[NREG][GD_FLOATS_MAX];
    int best[NREG];
    for (int reg = 0; reg < NREG; reg++) {
        best[reg] = 0;
        for (int i = 0; i < lrs.n; i++) {
            for (long s = 0; s < to.seeds; s++) {
                const run_result *r = NULL;
                for (int j = 0; j < nres && !r; j++)
                    if (res[j].seed == to.seed + (uint64_t)s && res[j].reg == reg && res[j].ilr == i) r = &res[j];
                int stopped = !r || isnan(r->acc);
                ndiv[reg][i] += stopped;
                acc[reg][i][s] = stopped ? CHANCE_ACC : r->acc;
            }
            st[reg][i] = gd_stats_of(acc[reg][i], (int)to.seeds);
            if (st[reg][i].median > st[reg][best[reg]].median) best[reg] = i;
        }
    }
    if (summary) {
        gd_table *su = gd_table_open(summary, "regime lr steps acc_median acc_min acc_max stopped best");
        if (!su) goto io_error;
        gd_table_provenance(su);
        gd_table_meta(su, "program", "exp-sc-train");
        gd_table_meta(su, "over seeds", "%llu to %llu; a stopped run counts as %g accuracy (chance); best: the lr "
                      "with the regime's highest median", (unsigned long long)to.seed,
                      (unsigned long long)(to.seed + to.seeds - 1), CHANCE_ACC);
        for (int reg = 0; reg < NREG; reg++) {
            for (int i = 0; i < lrs.n; i++)
                gd_table_row(su, "%s %g %ld %.4f %.4f %.4f %d %d", reg_name[reg], lrs.v[i], reg == 2 ? longer * B : B,
                             st[reg][i].median, st[reg][i].min, st[reg][i].max, ndiv[reg][i], i == best[reg]);
            gd_table_block(su);
        }
        if (gd_table_close(su) != 0) goto io_error;
    }

    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_provenance(nt);
        gd_table_meta(nt, "program", "exp-sc-train");
        char key[96], what[64];
#define KV(w, fmt, ...) (snprintf(key, sizeof key, "%s_%s", tag, w), gd_table_kv(nt, key, fmt, __VA_ARGS__))
        KV("dims", "%s", to.dims);
        KV("batch", "%ld", to.batch_size);
        KV("momentum", "%g", hp.momentum);
        KV("seeds", "%ld", to.seeds);
        KV("seed_first", "%llu", (unsigned long long)to.seed);
        KV("epochs", "%g", epochs);
        KV("budget", "%ld", B);
        KV("long", "%ld", longer);
        KV("long_epochs", "%g", longer * epochs);
        KV("long_steps", "%ld", longer * B);
        for (int reg = 0; reg < NREG; reg++) {
            for (int i = 0; i < lrs.n; i++) {
                snprintf(what, sizeof what, "%s_lr%g_acc", reg == 0 ? "oc" : reg == 1 ? "step" : "long", lrs.v[i]);
                KV(what, "%.1f%%", 100 * st[reg][i].median);
                snprintf(what, sizeof what, "%s_lr%g_div", reg == 0 ? "oc" : reg == 1 ? "step" : "long", lrs.v[i]);
                KV(what, "%d", ndiv[reg][i]);
            }
        }
        /* the table: one row per lr, one column per regime */
        char buf[8192];
        int len = snprintf(buf, sizeof buf, "| lr (peak for onecycle) | onecycle, %ld steps | step, %ld steps | step, %ld steps |\n"
                           "|---:|---|---|---|\n", B, B, longer * B);
        for (int i = 0; i < lrs.n && len < (int)sizeof buf - 512; i++) {
            len += snprintf(buf + len, sizeof buf - len, "| %g |", lrs.v[i]);
            for (int reg = 0; reg < NREG; reg++) {
                gd_stats a = st[reg][i];
                if (ndiv[reg][i] == to.seeds)
                    len += snprintf(buf + len, sizeof buf - len, " all %ld stopped (diverged) |", to.seeds);
                else
                    len += snprintf(buf + len, sizeof buf - len, " %s%.1f%% (%.1f to %.1f)%s%s |", i == best[reg] ? "**" : "",
                                    100 * a.median, 100 * a.min, 100 * a.max, ndiv[reg][i] ? " *" : "",
                                    i == best[reg] ? "**" : "");
            }
            len += snprintf(buf + len, sizeof buf - len, "\n");
        }
        KV("table", "%s", buf);
        /* the best lr of each regime, its median (range), and paired comparisons at the best lrs */
        for (int reg = 0; reg < NREG; reg++) {
            const char *n = reg == 0 ? "oc" : reg == 1 ? "step" : "long";
            gd_stats a = st[reg][best[reg]];
            snprintf(what, sizeof what, "%s_best_lr", n);
            KV(what, "%g", lrs.v[best[reg]]);
            snprintf(what, sizeof what, "%s_best_acc", n);
            KV(what, "%.1f%%", 100 * a.median);
            snprintf(what, sizeof what, "%s_best_min", n);
            KV(what, "%.1f%%", 100 * a.min);
            snprintf(what, sizeof what, "%s_best_max", n);
            KV(what, "%.1f%%", 100 * a.max);
        }
        const double *oc = acc[0][best[0]], *sb = acc[1][best[1]], *sl = acc[2][best[2]];
        int over_step = 0, over_long = 0;
        for (long s = 0; s < to.seeds; s++) {
            over_step += oc[s] > sb[s];
            over_long += oc[s] > sl[s];
        }
        KV("oc_over_step", "%d of %ld", over_step, to.seeds);
        KV("oc_over_long", "%d of %ld", over_long, to.seeds);
        double d_step = st[0][best[0]].median - st[1][best[1]].median;
        double d_long = st[0][best[0]].median - st[2][best[2]].median;
        KV("oc_minus_step", "%.1f", 100 * d_step);
        KV("oc_minus_long", "%.1f", 100 * d_long);
        /* words from the data: how the best one-cycle compares with each step schedule */
        KV("oc_vs_step_word", "%s", d_step > 0 ? "above" : d_step < 0 ? "below" : "equal to");
        KV("oc_vs_long_word", "%s", d_long > 0 ? "above" : d_long < 0 ? "below" : "equal to");
        KV("oc_peak_ratio", "%g", lrs.v[best[0]] / lrs.v[best[1]]);
#undef KV
        if (gd_table_close(nt) != 0) goto io_error;
    }
    gd_images_free(&train);
    gd_images_free(&test);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    if (ct) gd_table_abort(ct);
    return 1;
}

/* scaling.c -- the linear scaling rule, with and without gradual warmup, Chapter 5.
 *
 * Goyal et al. 2017 ("Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour"): when
 * the minibatch is multiplied by k, multiply the learning rate by k; and ramp the lr
 * up from the small-batch value over the first epochs (gradual warmup). The program
 * trains the same MLP with SGD + momentum at batch B*k and lr k*lr for each k of --k,
 * with no warmup and with a linear warmup from lr to k*lr over --warmup-epochs
 * (the spec "warmup:T=N:start=1/k", sched.h), and records the test accuracy after every
 * epoch, for --seeds seeds (the same seeds for every k and warmup: paired runs). The
 * trainer's divergence rule (train.h: a logged window's loss above 10 times the first
 * batch's; every step is a window here) stops a run.
 * Leaves out: the step decay that follows in Goyal et al., batch normalisation, the
 * many epochs that make their large-batch runs catch up (our runs are short).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EPOCHS 64
#define MAX_RUNS 512

typedef struct {
    int k, warm;
    uint64_t seed;
    int batch;
    double lr;
    long steps, diverged_at;
    int nepochs;                      /* epochs evaluated */
    double acc[MAX_EPOCHS], loss[MAX_EPOCHS];
} run_result;

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-64-10";
    to.optim = "sgd:lr=0.05:momentum=0.9";
    to.seeds = 5;
    const char *out = NULL, *numbers = NULL;
    gd_floats ks = {3, {1, 4, 16}};
    gd_floats warmup_epochs = {2, {0, 1}};
    long epochs = 3;
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOATS("k", &ks, "batch multipliers: batch B*k at lr k*lr (B = --batch-size)", 1, 1000, 0),
        GD_OPT_FLOATS("warmup-epochs", &warmup_epochs, "gradual warmup lengths from lr to k*lr, in epochs (0: none)", 0, 1000, 0),
        GD_OPT_INT("epochs", &epochs, "epochs per run", 1, MAX_EPOCHS),
        GD_OPT_OUT("out", &out, "write the test accuracy after every epoch of every run to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The linear scaling rule (batch x k, lr x k) with and without gradual warmup, SGD on "
                          "Fashion-MNIST, over seeds (Chapter 5).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    if (to.sched) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--sched: this program makes its own (the warmup, then constant), got '%s'", to.sched);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */
    const char *dims_s = to.dims;
    long batch = to.batch_size;
    for (int i = 0; i < ks.n; i++)
        if (ks.v[i] != floor(ks.v[i]) || ks.v[i] * batch > 60000) {
            fprintf(stderr, "%s: --k: whole multipliers with B*k <= 60000, got %g\n", gd_prog(), ks.v[i]);
            return 2;
        }
    for (int i = 0; i < warmup_epochs.n; i++)
        if (warmup_epochs.v[i] >= epochs) {
            fprintf(stderr, "%s: --warmup-epochs: must be shorter than --epochs (%ld), got %g\n", gd_prog(), epochs,
                    warmup_epochs.v[i]);
            return 2;
        }
    if ((long)ks.n * warmup_epochs.n * to.seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS,
                (long)ks.n * warmup_epochs.n * to.seeds);
        return 2;
    }

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* the largest batch, B * max k, is that many distinct images */
    double kmax = 1;
    for (int i = 0; i < ks.n; i++) kmax = fmax(kmax, ks.v[i]);
    if (gd_train_opts_require(to.data, &train, (long)kmax * batch,
                              "the training set", "--batch-size x the largest --k") != 0) {
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);
    gd_table *t = NULL;
    if (out && !(t = gd_table_open(out, "seed k batch lr warmup_epochs epoch step train_loss test_loss test_acc status")))
        goto io_error;
    if (t) {
        gd_table_meta(t, "program", "ch05-scaling");
        gd_table_meta(t, "model", "MLP %s, ReLU, %ld epochs", dims_s, epochs);
        gd_table_meta(t, "seeds", "%llu to %llu (the same for every k and warmup)", (unsigned long long)to.seed,
                      (unsigned long long)(to.seed + to.seeds - 1));
        gd_table_meta(t, "optim", "%s at batch %ld; batch %ld k uses lr k * %g", canon, batch, batch, hp.lr);
        gd_table_meta(t, "warmup", "warmup:T=(epochs * steps per epoch):start=1/k, then constant");
        gd_table_meta(t, "divergence rule", "the trainer's: a step's loss > 10 x the first step's stops the run");
    }

    static run_result res[MAX_RUNS];
    int nres = 0;
    printf("%-5s %-4s %-6s %-7s %-7s %s\n", "seed", "k", "batch", "lr", "warmup", "test accuracy after each epoch");
    for (long s = 0; s < to.seeds; s++)
    for (int w = 0; w < warmup_epochs.n; w++) {
        for (int i = 0; i < ks.n; i++) {
            if (warmup_epochs.v[w] > 0 && ks.v[i] == 1) continue;   /* a warmup from lr to 1 lr: no warmup */
            run_result *r = &res[nres++];
            memset(r, 0, sizeof *r);
            r->seed = to.seed + (uint64_t)s;
            r->k = (int)ks.v[i];
            r->warm = (int)(warmup_epochs.v[w] > 0);
            r->batch = (int)(batch * r->k);
            r->lr = hp.lr * r->k;
            gd_hparams h = hp;
            char spec[256], sched[128], label[96];
            // region goyal
            long per_epoch = (train.n + r->batch - 1) / r->batch;
            long T = (long)ceil(warmup_epochs.v[w] * per_epoch);    /* warmup steps */
            h.lr = r->lr;                                            /* k lr at batch k B */
            /* gradual warmup: lr(t) = k lr (1/k + (1 - 1/k) t/T), from lr up to k lr */
            snprintf(sched, sizeof sched, "warmup:T=%ld:start=%.10g", T, 1.0 / r->k);
            // endregion goyal
            gd_optim_format(spec, sizeof spec, kind, &h);
            snprintf(label, sizeof label, "k %d%s seed %llu", r->k, T > 0 ? " warmup" : "", (unsigned long long)r->seed);
            cfg.optim = spec;
            cfg.sched = T > 0 && r->k > 1 ? sched : NULL;
            cfg.batch_size = r->batch;
            cfg.epochs = (double)epochs;
            cfg.seed = r->seed;
            cfg.train = &train;
            cfg.test = &test;
            cfg.eval_every = 0;      /* after every epoch */
            cfg.log_every = 1;       /* the divergence rule compares with the first step */
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
            printf("%-5llu %-4d %-6d %-7.4g %-7s", (unsigned long long)r->seed, r->k, r->batch, r->lr, T > 0 ? "yes" : "no");
            double window = 0;
            int nwin = 0;
            for (int j = 0; j < log.n; j++) {
                const gd_train_row *row = &log.rows[j];
                window += row->train_loss, nwin++;
                if (isnan(row->test_acc) && !(j == log.n - 1 && r->diverged_at >= 0)) continue;
                int diverged = j == log.n - 1 && r->diverged_at >= 0;
                if (t)
                    gd_table_row(t, "%llu %d %d %.6g %g %.4f %ld %.5f %.5f %.4f %s", (unsigned long long)r->seed, r->k,
                                 r->batch, r->lr,
                                 warmup_epochs.v[w], row->epoch, row->step, window / nwin, row->test_loss, row->test_acc,
                                 diverged ? "diverged" : "ok");
                if (!diverged && r->nepochs < MAX_EPOCHS) {
                    r->acc[r->nepochs] = row->test_acc, r->loss[r->nepochs] = row->test_loss;
                    r->nepochs++;
                    printf(" %.4f", row->test_acc);
                }
                window = 0, nwin = 0;
            }
            if (r->diverged_at >= 0) printf(" diverged at step %ld", r->diverged_at);
            printf("\n");
            if (t) gd_table_block(t);
            gd_trainer_free(tr);
            gd_train_log_free(&log);
        }
    }
    if (t) {
        int e = gd_table_close(t);
        t = NULL;
        if (e) goto io_error;
    }
    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch05-scaling");
        gd_table_kv(nt, "ls_dims", "%s", dims_s);
        gd_table_kv(nt, "ls_lr", "%g", hp.lr);
        gd_table_kv(nt, "ls_momentum", "%g", hp.momentum);
        gd_table_kv(nt, "ls_batch", "%ld", batch);
        gd_table_kv(nt, "ls_epochs", "%ld", epochs);
        gd_table_kv(nt, "ls_seeds", "%ld", to.seeds);
        gd_table_kv(nt, "ls_kmax", "%g", ks.v[ks.n - 1]);
        gd_table_kv(nt, "ls_batch_max", "%g", ks.v[ks.n - 1] * batch);
        gd_table_kv(nt, "ls_lr_max", "%g", ks.v[ks.n - 1] * hp.lr);
        gd_table_kv(nt, "ls_warmup_epochs", "%g", warmup_epochs.v[warmup_epochs.n - 1]);
        /* per k and warmup, over seeds: the test accuracy after epoch 1 and the last
         * epoch (a run stopped by the divergence rule has none: NaN, counted) */
        static double e1[GD_FLOATS_MAX][GD_FLOATS_MAX][MAX_RUNS], last[GD_FLOATS_MAX][GD_FLOATS_MAX][MAX_RUNS];
        int ndiv[GD_FLOATS_MAX][GD_FLOATS_MAX] = {{0}};
        for (int w = 0; w < warmup_epochs.n; w++)
            for (int i = 0; i < ks.n; i++)
                for (long s = 0; s < to.seeds; s++) {
                    /* k = 1 with a warmup is the run without (from lr to 1 lr) */
                    int ww = ks.v[i] == 1 ? 0 : w;
                    const run_result *r = NULL;
                    for (int j = 0; j < nres && !r; j++)
                        if (res[j].seed == to.seed + (uint64_t)s && res[j].k == (int)ks.v[i] &&
                            res[j].warm == (warmup_epochs.v[ww] > 0))
                            r = &res[j];
                    e1[w][i][s] = r && r->nepochs > 0 ? r->acc[0] : NAN;
                    last[w][i][s] = r && r->nepochs == epochs ? r->acc[epochs - 1] : NAN;
                    ndiv[w][i] += !r || r->diverged_at >= 0;
                }
        char buf[8192], key[64];
        int len = snprintf(buf, sizeof buf, "| k | batch | lr | steps per epoch |");
        for (int w = 0; w < warmup_epochs.n; w++)
            len += snprintf(buf + len, sizeof buf - len, " %s: epoch 1 | %s: epoch %ld |",
                            warmup_epochs.v[w] > 0 ? "warmup" : "no warmup", warmup_epochs.v[w] > 0 ? "warmup" : "no warmup",
                            epochs);
        len += snprintf(buf + len, sizeof buf - len, "\n|---:|---:|---:|---:|");
        for (int w = 0; w < warmup_epochs.n; w++) len += snprintf(buf + len, sizeof buf - len, "---:|---:|");
        len += snprintf(buf + len, sizeof buf - len, "\n");
        gd_stats base = gd_stats_of(last[0][0], (int)to.seeds);   /* the first k (1): the small batch */
        for (int i = 0; i < ks.n && len < (int)sizeof buf - 400; i++) {
            int k = (int)ks.v[i], B = (int)(batch * k);
            len += snprintf(buf + len, sizeof buf - len, "| %d | %d | %.3g | %d |", k, B, hp.lr * k, (train.n + B - 1) / B);
            for (int w = 0; w < warmup_epochs.n; w++) {
                gd_stats a1 = gd_stats_of(e1[w][i], (int)to.seeds), al = gd_stats_of(last[w][i], (int)to.seeds);
                if (w > 0 && k == 1) {
                    len += snprintf(buf + len, sizeof buf - len, " (no warmup: from lr to lr) | |");
                    continue;
                }
                if (a1.n)
                    len += snprintf(buf + len, sizeof buf - len, " %.1f%% (%.1f to %.1f) |", 100 * a1.median,
                                    100 * a1.min, 100 * a1.max);
                else
                    len += snprintf(buf + len, sizeof buf - len, " - |");
                if (al.n)
                    len += snprintf(buf + len, sizeof buf - len, " %.1f%% (%.1f to %.1f)%s |", 100 * al.median,
                                    100 * al.min, 100 * al.max, ndiv[w][i] ? " *" : "");
                else
                    len += snprintf(buf + len, sizeof buf - len, " all stopped |");
                /* inline: ls_k4_w1_e1, ls_k4_w1_last (medians), _last_min, _last_max, _div, _gap */
#define KVK(what, fmt, value) (snprintf(key, sizeof key, "ls_k%d_w%d_%s", k, w, what), gd_table_kv(nt, key, fmt, value))
                KVK("div", "%d", ndiv[w][i]);
                if (a1.n) KVK("e1", "%.1f%%", 100 * a1.median);
                if (al.n) {
                    KVK("last", "%.1f%%", 100 * al.median);
                    KVK("last_min", "%.1f%%", 100 * al.min);
                    KVK("last_max", "%.1f%%", 100 * al.max);
                    KVK("gap", "%.1f", 100 * (base.median - al.median));   /* points below the small batch */
                }
#undef KVK
            }
            len += snprintf(buf + len, sizeof buf - len, "\n");
            /* paired by seed: in how many seeds is the warmup ahead of no warmup? */
            if (warmup_epochs.n > 1 && k > 1) {
                int ahead = 0, ahead1 = 0;
                for (long s = 0; s < to.seeds; s++) {
                    double a = last[1][i][s], b = last[0][i][s];
                    ahead += (isnan(b) && !isnan(a)) || a > b;   /* a stopped run is behind */
                    a = e1[1][i][s], b = e1[0][i][s];
                    ahead1 += (isnan(b) && !isnan(a)) || a > b;
                }
                snprintf(key, sizeof key, "ls_k%d_ahead", k);
                gd_table_kv(nt, key, "%d of %ld", ahead, to.seeds);
                snprintf(key, sizeof key, "ls_k%d_ahead_e1", k);
                gd_table_kv(nt, key, "%d of %ld", ahead1, to.seeds);
            }
        }
        gd_table_kv(nt, "ls_table", "%s", buf);
        if (gd_table_close(nt) != 0) goto io_error;
    }
    gd_images_free(&train);
    gd_images_free(&test);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    return 1;
}

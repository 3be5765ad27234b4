/* goyal-scaling.c -- Goyal et al. 2017's linear scaling rule with gradual warmup: the test
 * error against the minibatch size (their Figure 1), on an MLP and Fashion-MNIST.
 *
 * Goyal, Dollar, Girshick, Noordhuis, Wesolowski, Kyrola, Tulloch, Jia, He (2017),
 * "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", arXiv:1706.02677:
 *   linear scaling rule: batch B trains at lr eta(B) = base_lr * B / base_batch
 *                        (theirs: 0.1 * kn / 256, kn the minibatch);
 *   gradual warmup:      for B > base_batch, over the first W epochs the lr rises
 *                        linearly, by a constant amount each step, from eta(base_batch)
 *                        to eta(B) (theirs: from 0.1 over 5 epochs, Section 5.3);
 *   then SGD + momentum with the lr divided by 10 at fixed epochs (their 30, 60, 80 of 90).
 * Every batch size of --batches trains for the same number of --epochs (the same number
 * of images seen, as in the paper), so batch B takes ceil(60000 / B) steps per epoch:
 * 938 at B = 64, 8 at B = 8192. Each batch is trained with no warmup (constant eta(B)
 * until the first decay) and with each warmup of --warmup-epochs; a batch no larger
 * than base_batch has nothing to warm up from (its warmup runs are its runs without).
 * The same seeds for every batch and warmup: paired runs.
 *
 * The update (lib/optim.h, PyTorch's SGD): v <- beta v + g; theta <- theta - eta_t v,
 * with g the minibatch's mean gradient (plus weight_decay theta if given).
 * A run stopped by the trainer's divergence rule (train.h) has no final error; the
 * summaries count it as chance, 90 % error on ten classes, and say how many there were.
 *
 * Outputs: --out, one row per run (final test error, steps, status); --curves, the test
 * error after every epoch of every run; --summary, per batch and warmup the median, min
 * and max final error over seeds; --numbers, the numbers the README quotes (keys
 * prefixed by --tag). Every table records its command and arithmetic (gd_table_provenance).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EPOCHS 64
#define MAX_RUNS 1024
#define CHANCE_ERR 0.9   /* ten classes */

typedef struct {
    uint64_t seed;
    int batch, w;                    /* w: index into --warmup-epochs */
    double lr;
    long steps, diverged_at;
    int nepochs;
    double err[MAX_EPOCHS];          /* test error after each epoch */
    double final_err;                /* NaN if stopped */
    double final_train_loss;         /* mean over the last epoch's steps (NaN if stopped) */
} run_result;

static run_result res[MAX_RUNS];
static int nres;

static const run_result *find_run(uint64_t seed, int batch, int w) {
    for (int j = 0; j < nres; j++)
        if (res[j].seed == seed && res[j].batch == batch && res[j].w == w) return &res[j];
    return NULL;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-64-10";
    to.optim = "sgd:momentum=0.9";
    to.seeds = 5;
    gd_floats batches = {10, {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}};
    gd_floats warmup_epochs = {2, {0, 1}};
    gd_floats decay_epochs = {3, {3, 6, 8}};
    double base_lr = 0.1, base_batch = 256, tol = 1.0;
    long epochs = 9;
    const char *out = NULL, *curves = NULL, *summary = NULL, *numbers = NULL, *tag = "gs";
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOATS("batches", &batches, "minibatch sizes, increasing (each <= 60000)", 1, 60000, 0),
        GD_OPT_FLOAT("base-lr", &base_lr, "lr at --base-batch: batch B trains at base-lr * B / base-batch", 0, 100, 1),
        GD_OPT_FLOAT("base-batch", &base_batch, "the batch at which the lr is --base-lr (Goyal et al.: 256)", 1, 60000, 0),
        GD_OPT_FLOATS("warmup-epochs", &warmup_epochs,
                      "gradual warmup lengths in epochs (0: none), from the smallest batch's lr", 0, 1000, 0),
        GD_OPT_INT("epochs", &epochs, "epochs per run (the same for every batch)", 1, MAX_EPOCHS),
        GD_OPT_FLOATS("decay-epochs", &decay_epochs, "epochs at which the lr is divided by 10, increasing", 0, 1000, 1),
        GD_OPT_FLOAT("tol", &tol, "points of error within which a batch counts as matching --base-batch", 0, 100, 0),
        GD_OPT_OUT("out", &out, "write one row per run (final test error) to this table"),
        GD_OPT_OUT("curves", &curves, "write the test error after every epoch of every run to this table"),
        GD_OPT_OUT("summary", &summary, "write each batch and warmup's median, min and max error over seeds to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the README quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the numbers' keys (default gs)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The linear scaling rule (lr proportional to the minibatch) with and without gradual "
                          "warmup: test error against minibatch size at an equal number of epochs (Goyal et al. "
                          "2017, Figure 1), SGD + momentum on Fashion-MNIST, over seeds.",
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
        gd_usage_error("--sched: this program makes its own (warmup, then steps of 10), got '%.60s'", to.sched);
        return 2;
    }
    for (int i = 0; i < batches.n; i++)
        if (batches.v[i] != floor(batches.v[i]) || (i > 0 && batches.v[i] <= batches.v[i - 1])) {
            fprintf(stderr, "%s: --batches: whole numbers, increasing, got %g after %g\n", gd_prog(), batches.v[i],
                    i > 0 ? batches.v[i - 1] : 0.0);
            return 2;
        }
    for (int i = 0; i < decay_epochs.n; i++)
        if (decay_epochs.v[i] >= epochs || (i > 0 && decay_epochs.v[i] <= decay_epochs.v[i - 1])) {
            fprintf(stderr, "%s: --decay-epochs: increasing and below --epochs (%ld), got %g\n", gd_prog(), epochs,
                    decay_epochs.v[i]);
            return 2;
        }
    for (int i = 0; i < warmup_epochs.n; i++)
        if (warmup_epochs.v[i] > (decay_epochs.n ? decay_epochs.v[0] : (double)epochs)) {
            fprintf(stderr, "%s: --warmup-epochs: must end by the first decay (epoch %g), got %g\n", gd_prog(),
                    decay_epochs.n ? decay_epochs.v[0] : (double)epochs, warmup_epochs.v[i]);
            return 2;
        }
    if ((long)batches.n * warmup_epochs.n * to.seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS,
                (long)batches.n * warmup_epochs.n * to.seeds);
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* an epoch of the largest batch must hold one full minibatch: fewer images would
     * train every batch size on the same whole set, and the comparison would mean nothing */
    if (gd_images_require(&train, (long)batches.v[batches.n - 1], "the training set", "--batches") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to.data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);
    char decay_s[1024] = "";   /* <= 64 (GD_FLOATS_MAX) values < 1000, %g: <= 8 chars each */
    for (int i = 0, len = 0; i < decay_epochs.n; i++)
        len += snprintf(decay_s + len, sizeof decay_s - len, "%s%g", i ? "/" : "", decay_epochs.v[i]);
    double lr_small = base_lr;   /* the warmup starts at the base batch's lr */
    int w0 = -1;   /* the run without warmup, if there is one */
    for (int w = 0; w < warmup_epochs.n; w++)
        if (warmup_epochs.v[w] == 0) w0 = w;

    gd_table *t = NULL, *ct = NULL;
    if (out && !(t = gd_table_open(out, "seed batch lr warmup_epochs steps_per_epoch steps test_err train_loss status")))
        goto io_error;
    if (curves && !(ct = gd_table_open(curves, "seed batch lr warmup_epochs epoch step test_err")))
        goto io_error;
    gd_table *tabs[2] = {t, ct};
    for (int k = 0; k < 2; k++) {
        if (!tabs[k]) continue;
        gd_table_provenance(tabs[k]);
        gd_table_meta(tabs[k], "program", "exp-goyal-scaling");
        gd_table_meta(tabs[k], "model", "MLP %s, ReLU, %ld epochs for every batch", to.dims, epochs);
        gd_table_meta(tabs[k], "seeds", "%llu to %llu (the same for every batch and warmup)",
                      (unsigned long long)to.seed, (unsigned long long)(to.seed + to.seeds - 1));
        gd_table_meta(tabs[k], "optim", "%s with lr %g * batch / %g", canon, base_lr, base_batch);
        gd_table_meta(tabs[k], "schedule", "for batch > %g: linear warmup from %g (the lr of batch %g) over "
                      "warmup_epochs; then lr / 10 at epochs %s", base_batch, lr_small, base_batch, decay_s);
        gd_table_meta(tabs[k], "batch <= base", "nothing to warm up from: only its run without warmup");
        gd_table_meta(tabs[k], "divergence rule", "the trainer's: a step's loss > 10 x the first step's stops the run");
    }

    printf("%-5s %-6s %-7s %-7s %s\n", "seed", "batch", "lr", "warmup", "test error after each epoch");
    for (long s = 0; s < to.seeds; s++)
        for (int i = 0; i < batches.n; i++)
            for (int w = 0; w < warmup_epochs.n; w++) {
                /* a batch <= base_batch has nothing to warm up from: its run without
                 * warmup stands for it (the summaries look it up) */
                if (batches.v[i] <= base_batch && warmup_epochs.v[w] > 0 && w0 >= 0) continue;
                run_result *r = &res[nres++];
                memset(r, 0, sizeof *r);
                r->seed = to.seed + (uint64_t)s;
                r->batch = (int)batches.v[i];
                r->w = w;
                long per_epoch = (train.n + r->batch - 1) / r->batch;
                // region goyal
                r->lr = base_lr * r->batch / base_batch;                  /* linear scaling rule */
                long T = (long)ceil(warmup_epochs.v[w] * per_epoch);      /* warmup steps */
                /* gradual warmup: lr(t) = eta(B) (S + (1 - S) t/T), S = eta(base_batch) / eta(B),
                 * then the lr divided by 10 at each decay epoch (milestones count from the
                 * warmup's end, where the multistep term starts) */
                char sched[2048];   /* at most 64 milestones (GD_FLOATS_MAX) of <= 9 digits */
                int len = 0;
                if (T > 0 && r->lr > lr_small)
                    len += snprintf(sched, sizeof sched, "warmup:T=%ld:start=%.10g,", T, lr_small / r->lr);
                else
                    T = 0;
                len += snprintf(sched + len, sizeof sched - len, "multistep:milestones=");
                for (int d = 0; d < decay_epochs.n; d++)
                    len += snprintf(sched + len, sizeof sched - len, "%s%ld", d ? "/" : "",
                                    (long)llround(decay_epochs.v[d] * per_epoch) - T);
                // endregion goyal
                gd_hparams h = hp;
                h.lr = r->lr;
                char spec[256], label[96];
                gd_optim_format(spec, sizeof spec, kind, &h);
                snprintf(label, sizeof label, "batch %d%s seed %llu", r->batch, T > 0 ? " warmup" : "",
                         (unsigned long long)r->seed);
                cfg.optim = spec;
                cfg.sched = sched;
                cfg.batch_size = r->batch;
                cfg.epochs = (double)epochs;
                cfg.seed = r->seed;
                cfg.train = &train;
                cfg.test = &test;
                cfg.eval_every = 0;     /* after every epoch */
                cfg.log_every = 1;      /* the divergence rule compares each step with the first */
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
                r->final_err = r->final_train_loss = NAN;
                printf("%-5llu %-6d %-7.4g %-7g", (unsigned long long)r->seed, r->batch, r->lr, warmup_epochs.v[w]);
                double window = 0;
                int nwin = 0;
                for (int j = 0; j < log.n; j++) {
                    const gd_train_row *row = &log.rows[j];
                    window += row->train_loss, nwin++;
                    if (isnan(row->test_acc)) continue;
                    if (r->nepochs < MAX_EPOCHS) r->err[r->nepochs++] = 1 - row->test_acc;
                    if (ct)
                        gd_table_row(ct, "%llu %d %.6g %g %.4f %ld %.4f", (unsigned long long)r->seed, r->batch, r->lr,
                                     warmup_epochs.v[w], row->epoch, row->step, 1 - row->test_acc);
                    printf(" %.4f", 1 - row->test_acc);
                    if (r->diverged_at < 0 && r->nepochs == epochs) {
                        r->final_err = 1 - row->test_acc;
                        r->final_train_loss = window / nwin;
                    }
                    window = 0, nwin = 0;
                }
                if (r->diverged_at >= 0) printf(" stopped at step %ld", r->diverged_at);
                printf("\n");
                if (ct) gd_table_block(ct);
                if (t)
                    gd_table_row(t, "%llu %d %.6g %g %ld %ld %.4f %.5f %s", (unsigned long long)r->seed, r->batch, r->lr,
                                 warmup_epochs.v[w], per_epoch, r->steps, r->final_err, r->final_train_loss,
                                 r->diverged_at >= 0 ? "diverged" : "ok");
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

    /* final error per batch and warmup over seeds; a stopped run counts as chance */
    static double err[GD_FLOATS_MAX][GD_FLOATS_MAX][MAX_RUNS];
    static int ndiv[GD_FLOATS_MAX][GD_FLOATS_MAX];
    static gd_stats st[GD_FLOATS_MAX][GD_FLOATS_MAX];
    int ibase = -1;
    for (int i = 0; i < batches.n; i++) {
        if (batches.v[i] == base_batch) ibase = i;
        for (int w = 0; w < warmup_epochs.n; w++) {
            for (long s = 0; s < to.seeds; s++) {
                const run_result *r = find_run(to.seed + (uint64_t)s, (int)batches.v[i], w);
                if (!r && batches.v[i] <= base_batch && w0 >= 0)
                    r = find_run(to.seed + (uint64_t)s, (int)batches.v[i], w0);
                int stopped = !r || isnan(r->final_err);
                ndiv[i][w] += stopped;
                err[i][w][s] = stopped ? CHANCE_ERR : r->final_err;
            }
            st[i][w] = gd_stats_of(err[i][w], (int)to.seeds);
        }
    }
    if (summary) {
        gd_table *su = gd_table_open(summary, "batch lr warmup_epochs steps err_median err_min err_max stopped");
        if (!su) goto io_error;
        gd_table_provenance(su);
        gd_table_meta(su, "program", "exp-goyal-scaling");
        gd_table_meta(su, "over seeds", "%llu to %llu; a stopped run counts as %g error (chance)",
                      (unsigned long long)to.seed, (unsigned long long)(to.seed + to.seeds - 1), CHANCE_ERR);
        for (int w = 0; w < warmup_epochs.n; w++) {
            for (int i = 0; i < batches.n; i++) {
                long per_epoch = (train.n + (long)batches.v[i] - 1) / (long)batches.v[i];
                gd_table_row(su, "%g %.6g %g %ld %.4f %.4f %.4f %d", batches.v[i], base_lr * batches.v[i] / base_batch,
                             warmup_epochs.v[w], per_epoch * epochs, st[i][w].median, st[i][w].min, st[i][w].max,
                             ndiv[i][w]);
            }
            gd_table_block(su);
        }
        if (gd_table_close(su) != 0) goto io_error;
    }

    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_provenance(nt);
        gd_table_meta(nt, "program", "exp-goyal-scaling");
        char key[96];
#define KV(what, fmt, ...) (snprintf(key, sizeof key, "%s_%s", tag, what), gd_table_kv(nt, key, fmt, __VA_ARGS__))
        KV("dims", "%s", to.dims);
        KV("optim", "%s", canon);
        KV("base_lr", "%g", base_lr);
        KV("base_batch", "%g", base_batch);
        KV("epochs", "%ld", epochs);
        KV("decay_epochs", "%s", decay_s);
        KV("seeds", "%ld", to.seeds);
        KV("seed_first", "%llu", (unsigned long long)to.seed);
        KV("batch_min", "%g", batches.v[0]);
        KV("batch_max", "%g", batches.v[batches.n - 1]);
        KV("lr_min", "%g", base_lr * batches.v[0] / base_batch);
        KV("warmup_from", "%g", lr_small);
        KV("lr_max", "%g", base_lr * batches.v[batches.n - 1] / base_batch);
        KV("tol", "%g", tol);
        char buf[8192];
        int len = snprintf(buf, sizeof buf, "| batch | lr | steps per epoch | steps in all |");
        for (int w = 0; w < warmup_epochs.n; w++)
            len += warmup_epochs.v[w] > 0
                       ? snprintf(buf + len, sizeof buf - len, " warmup %g epoch%s: test error |", warmup_epochs.v[w],
                                  warmup_epochs.v[w] == 1 ? "" : "s")
                       : snprintf(buf + len, sizeof buf - len, " no warmup: test error |");
        len += snprintf(buf + len, sizeof buf - len, "\n|---:|---:|---:|---:|");
        for (int w = 0; w < warmup_epochs.n; w++) len += snprintf(buf + len, sizeof buf - len, "---|");
        len += snprintf(buf + len, sizeof buf - len, "\n");
        for (int i = 0; i < batches.n && len < (int)sizeof buf - 512; i++) {
            int B = (int)batches.v[i];
            long per_epoch = (train.n + B - 1) / B;
            len += snprintf(buf + len, sizeof buf - len, "| %d | %.4g | %ld | %ld |", B, base_lr * B / base_batch,
                            per_epoch, per_epoch * epochs);
            for (int w = 0; w < warmup_epochs.n; w++) {
                gd_stats a = st[i][w];
                if (ndiv[i][w] == to.seeds)
                    len += snprintf(buf + len, sizeof buf - len, " all %ld stopped (diverged) |", to.seeds);
                else
                    len += snprintf(buf + len, sizeof buf - len, " %.1f%% (%.1f to %.1f)%s |", 100 * a.median,
                                    100 * a.min, 100 * a.max, ndiv[i][w] ? " *" : "");
                char what[64];
                snprintf(what, sizeof what, "b%d_w%d_err", B, w);
                KV(what, "%.1f%%", 100 * a.median);
                snprintf(what, sizeof what, "b%d_w%d_min", B, w);
                KV(what, "%.1f%%", 100 * a.min);
                snprintf(what, sizeof what, "b%d_w%d_max", B, w);
                KV(what, "%.1f%%", 100 * a.max);
                snprintf(what, sizeof what, "b%d_w%d_div", B, w);
                KV(what, "%d", ndiv[i][w]);
            }
            len += snprintf(buf + len, sizeof buf - len, "\n");
            /* paired by seed: in how many seeds has the last warmup the lower error, by at
             * least 0.1 point (a stopped run counts as chance, 90 %)? */
            if (warmup_epochs.n > 1) {
                int ahead = 0, wl = warmup_epochs.n - 1;
                for (long s = 0; s < to.seeds; s++) ahead += err[i][wl][s] <= err[i][0][s] - 0.001;
                char what[64];
                snprintf(what, sizeof what, "b%d_ahead", B);
                KV(what, "%d of %ld", ahead, to.seeds);
            }
        }
        KV("table", "%s", buf);
        /* Where the rule holds: for each warmup, the largest batch up to which every
         * batch's median error is within tol points of the base batch's, and the first
         * batch past it (the break). */
        if (ibase >= 0)
            for (int w = 0; w < warmup_epochs.n; w++) {
                char what[64];
                double base = st[ibase][w].median;
                snprintf(what, sizeof what, "w%d_base_err", w);
                KV(what, "%.1f%%", 100 * base);
                int last = ibase;
                while (last + 1 < batches.n && st[last + 1][w].median <= base + tol / 100) last++;
                snprintf(what, sizeof what, "w%d_flat_to", w);
                KV(what, "%g", batches.v[last]);
                snprintf(what, sizeof what, "w%d_flat_lr", w);
                KV(what, "%g", base_lr * batches.v[last] / base_batch);
                snprintf(what, sizeof what, "w%d_break", w);
                if (last + 1 < batches.n) {
                    KV(what, "%g", batches.v[last + 1]);
                    snprintf(what, sizeof what, "w%d_break_lr", w);
                    KV(what, "%g", base_lr * batches.v[last + 1] / base_batch);
                    snprintf(what, sizeof what, "w%d_break_err", w);
                    KV(what, "%.1f%%", 100 * st[last + 1][w].median);
                    snprintf(what, sizeof what, "w%d_break_steps", w);
                    KV(what, "%ld", (long)((train.n + batches.v[last + 1] - 1) / batches.v[last + 1]) * epochs);
                } else {
                    KV(what, "%s", "none in the sweep");
                }
            }
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

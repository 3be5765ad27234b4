/* d2l-train.c -- d2l's learning-rate scheduling section (Dive into Deep Learning, Zhang,
 * Lipton, Li & Smola, section 12.11 "Learning Rate Scheduling", PyTorch tab): LeNet with
 * ReLU and max pooling on Fashion-MNIST, batch 256, plain SGD, 30 epochs, the section's
 * schedules stepped once per epoch, as its train() does (after each epoch: a PyTorch
 * scheduler's step(), or param_group['lr'] = scheduler(epoch) for the section's own
 * classes; so epoch 0 always runs at the optimizer's initial lr).
 *
 * The schedules, as the section's code runs them (lib/sched.h specs, the step = epoch):
 *   constant       SGD lr 0.3, no scheduler
 *   sqrt           SquareRootScheduler(lr=0.1) with SGD lr 0.1: 0.1 in epoch 0, then
 *                  0.1 (e)^(-1/2) in epoch e: "constant:T=1,invsqrt:T0=1"
 *   multistep      what the section means: MultiStepLR(milestones=[15, 30], gamma=0.5) on
 *                  SGD lr 0.5: 0.5 for epochs 0-14, 0.25 for 15-29
 *   multistep-d2l  what its code does: the cell that plots the schedule calls
 *                  trainer.step() and scheduler.step() 30 times on the same optimizer
 *                  before train() runs, so training starts past both milestones and
 *                  runs every epoch at 0.5 * 0.5 * 0.5 = 0.125: "constant:factor=0.25"
 *                  on 0.5
 *   cosine         CosineScheduler(max_update=20, base_lr=0.3, final_lr=0.01) with SGD lr
 *                  0.3: "constant:T=1,cosine:T=20:min=0.01"
 *   warmup-cosine  CosineScheduler(20, warmup_steps=5, base_lr=0.3, final_lr=0.01) with
 *                  SGD lr 0.3: epoch 0 at 0.3 (the optimizer's lr), then the warmup from
 *                  scheduler(0) = 0 up by 0.06 an epoch, then the cosine:
 *                  "constant:T=1,warmup:T=5:start=0,cosine:T=15:min=0.01"
 * The model is PyTorch's LeNet of the section (net_fn, default initialisation: init=torch
 * in lib/lenet.h). d2l prints the last epoch's running training loss and accuracy (the
 * mean over that epoch's batches, taken before each update) and the test accuracy after
 * it; so do we. --train-n trains on a fixed random subset (the budget of this run).
 *
 * Two modes. Training (--out, --curves): every schedule of --scheds for seeds seed ..
 * seed + seeds - 1; one row per run and one per run and epoch. Summary (--runs
 * A.tsv,B.tsv,... --summary --numbers): medians and ranges over the runs' seeds.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSCHED 6
#define MAX_RUNS 256

static const char *sched_name[NSCHED] = {"constant", "sqrt", "multistep", "multistep-d2l", "cosine", "warmup-cosine"};
static const char *sched_optim[NSCHED] = {"sgd:lr=0.3", "sgd:lr=0.1", "sgd:lr=0.5",
                                          "sgd:lr=0.5", "sgd:lr=0.3", "sgd:lr=0.3"};
static const char *sched_spec[NSCHED] = {NULL,
                                         "constant:T=1,invsqrt:T0=1",
                                         "multistep:milestones=15/30:gamma=0.5",
                                         "constant:factor=0.25",
                                         "constant:T=1,cosine:T=20:min=0.01",
                                         "constant:T=1,warmup:T=5:start=0,cosine:T=15:min=0.01"};

typedef struct {
    int sched;
    long seed;
    double train_loss, train_acc, test_loss, test_acc;
    long diverged;                   /* 1 if a loss was not finite */
} run;

static int sched_index(const char *name) {
    for (int k = 0; k < NSCHED; k++)
        if (strcmp(name, sched_name[k]) == 0) return k;
    return -1;
}

/* One run; its epochs go to curves (may be NULL). */
static int train_one(run *r, gd_train_cfg cfg, int k, gd_table *curves, int test_n) {
    cfg.optim = sched_optim[k];
    cfg.sched = sched_spec[k];
    cfg.sched_per_epoch = 1;       /* the step of the schedule is the epoch */
    cfg.eval_every = 0;
    cfg.collapse_window = 0;
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) return -1;
    long total = (long)ceil(cfg.epochs * tr->steps_per_epoch);
    double sum = 0.0;
    long correct = 0, seen = 0;
    r->sched = k;
    r->seed = (long)cfg.seed;
    r->diverged = 0;
    r->train_loss = r->train_acc = NAN;   /* until an epoch ends */
    while (tr->step < total) {
        int pos = tr->pos >= tr->n_train ? 0 : tr->pos;
        double loss = gd_trainer_step(tr);     /* the schedule's lr for this epoch, then one update */
        int B = tr->pos - pos;
        /* d2l's running metrics: this batch's loss and accuracy, before the update */
        sum += loss * B;
        correct += gd_count_correct(tr->lenet ? tr->lenet->logits : tr->model.out[tr->model.nlayers - 1], tr->y, B,
                                    GD_FMNIST_CLASSES);
        seen += B;
        if (!isfinite(loss)) r->diverged = 1;
        if (tr->pos >= tr->n_train) {          /* the epoch ends */
            r->train_loss = sum / seen;
            r->train_acc = (double)correct / seen;
            if (curves)
                gd_table_row(curves, "%s\t%ld\t%ld\t%.6g\t%.6f\t%.6f", sched_name[k], r->seed, tr->epoch + 1,
                             gd_optim_lr(tr->opt, 0), r->train_loss, r->train_acc);
            sum = 0.0, correct = 0, seen = 0;
        }
        if (r->diverged) break;
    }
    r->test_loss = r->test_acc = NAN;
    if (!r->diverged) gd_trainer_eval(tr, cfg.test, NULL, test_n, &r->test_loss, &r->test_acc);
    gd_trainer_free(tr);
    return 0;
}

/* ---- summary ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static void stats(const double *v, int n, double *med, double *lo, double *hi) {
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    *lo = s[0], *hi = s[n - 1];
}

static const char *sched_lr[NSCHED] = {
    "0.3", "0.1, then 0.1/sqrt(e)", "0.5, 0.25 from epoch 15", "0.125 (0.5 past both milestones)",
    "0.3, then cosine to 0.01 over 20", "0.3, then 0 rising by 0.06, then cosine"};

static int summarize(const char *runs_list, const char *summary, const char *numbers, long train_n, double epochs,
                     long batch) {
    static run rs[MAX_RUNS];
    int n = 0;
    char *list = strdup(runs_list), *save = NULL;
    if (!list) return fprintf(stderr, "%s: out of memory\n", gd_prog()), 1;
    for (char *path = strtok_r(list, ",", &save); path; path = strtok_r(NULL, ",", &save)) {
        FILE *f = fopen(path, "r");
        if (!f) {
            gd_usage_error("--runs: cannot open %s", path);
            free(list);
            return 2;   /* the tables given */
        }
        char *line = NULL;
        size_t cap = 0;
        int header = 1;
        while (getline(&line, &cap, f) > 0) {
            if (line[0] == '#' || line[0] == '\n') continue;
            if (header) { header = 0; continue; }       /* the column names */
            char name[64];
            run r;
            if (n == MAX_RUNS || sscanf(line, "%63s %ld %lf %lf %lf %lf %ld", name, &r.seed, &r.train_loss,
                                        &r.train_acc, &r.test_loss, &r.test_acc, &r.diverged) != 7 ||
                (r.sched = sched_index(name)) < 0) {
                gd_usage_error("--runs: %s: a row that is not a run of this program", path);
                free(line), fclose(f), free(list);
                return 2;
            }
            rs[n++] = r;
        }
        free(line);
        fclose(f);
    }
    free(list);
    if (n == 0) return gd_usage_error("--runs: no runs in '%s'", runs_list), 2;
    gd_table *s = gd_table_open(summary, "sched runs diverged train_loss train_loss_min train_loss_max train_acc "
                                         "train_acc_min train_acc_max test_acc test_acc_min test_acc_max");
    gd_table *t = gd_table_open(numbers, "key value");
    if (!s || !t) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
    gd_table_provenance(s);
    gd_table_provenance(t);
    double med_test[NSCHED], med_train[NSCHED];
    int nseeds = -1;
    /* the README's table: one row per schedule, medians (min to max) over the seeds */
    char *table = malloc(8192);
    if (!table) return fprintf(stderr, "%s: out of memory\n", gd_prog()), 1;
    snprintf(table, 8192, "| schedule | lr in epoch e (0, 1, ...) | train loss | train acc | test acc |\n"
                          "|---|---|---|---|---|\n");
    for (int k = 0; k < NSCHED; k++) {
        double a[MAX_RUNS], b[MAX_RUNS], c[MAX_RUNS];
        int m = 0, div = 0, chance = 0;
        for (int i = 0; i < n; i++)
            if (rs[i].sched == k) {
                div += rs[i].diverged != 0;
                /* at chance: the last epoch's loss within 1 % of ln 10 (a collapsed net
                 * outputs the same logits for every image, train.h) */
                chance += !rs[i].diverged && fabs(rs[i].train_loss - log(10.0)) < 0.01 * log(10.0);
                a[m] = rs[i].train_loss, b[m] = rs[i].train_acc, c[m] = rs[i].diverged ? 0.1 : rs[i].test_acc;
                m++;
            }
        med_test[k] = med_train[k] = NAN;
        if (m == 0) continue;
        if (nseeds < 0 || m < nseeds) nseeds = m;
        double l[3], ac[3], te[3];
        stats(a, m, &l[0], &l[1], &l[2]);
        stats(b, m, &ac[0], &ac[1], &ac[2]);
        stats(c, m, &te[0], &te[1], &te[2]);
        med_test[k] = te[0], med_train[k] = ac[0];
        gd_table_row(s, "%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f", sched_name[k], m, div, l[0],
                     l[1], l[2], ac[0], ac[1], ac[2], te[0], te[1], te[2]);
        char key[96];
        const char *nm = sched_name[k];
        char id[32];
        snprintf(id, sizeof id, "%s", nm);
        for (char *p = id; *p; p++)
            if (*p == '-') *p = '_';
        snprintf(key, sizeof key, "d2l_%s_train_loss", id);
        gd_table_kv(t, key, "%.3f (%.3f to %.3f)", l[0], l[1], l[2]);
        snprintf(key, sizeof key, "d2l_%s_train_acc", id);
        gd_table_kv(t, key, "%.3f (%.3f to %.3f)", ac[0], ac[1], ac[2]);
        snprintf(key, sizeof key, "d2l_%s_test_acc", id);
        gd_table_kv(t, key, "%.3f (%.3f to %.3f)", te[0], te[1], te[2]);
        snprintf(key, sizeof key, "d2l_%s_diverged", id);
        gd_table_kv(t, key, "%d of %d", div, m);
        snprintf(key, sizeof key, "d2l_%s_chance", id);
        gd_table_kv(t, key, "%d of %d", chance, m);
        snprintf(table + strlen(table), 8192 - strlen(table),
                 "| %s | %s | %.3f (%.3f to %.3f) | %.3f (%.3f to %.3f) | %.3f (%.3f to %.3f) |\n", nm, sched_lr[k],
                 l[0], l[1], l[2], ac[0], ac[1], ac[2], te[0], te[1], te[2]);
    }
    table[strlen(table) - 1] = '\0';   /* no newline after the last row */
    gd_table_kv(t, "d2l_table", "%s", table);
    free(table);
    long per_epoch = (train_n + batch - 1) / batch;
    gd_table_kv(t, "d2l_train_n", "%ld", train_n);
    gd_table_kv(t, "d2l_fraction", "%.0f", 60000.0 / (double)train_n);
    gd_table_kv(t, "d2l_epochs", "%g", epochs);
    gd_table_kv(t, "d2l_batch", "%ld", batch);
    gd_table_kv(t, "d2l_steps", "%ld", (long)ceil(epochs * per_epoch));
    gd_table_kv(t, "d2l_steps_d2l", "%ld", (long)ceil(epochs * ((60000 + batch - 1) / batch)));
    /* orderings, generated: the schedules by median test accuracy, and by train accuracy */
    int order[NSCHED];
    for (int k = 0; k < NSCHED; k++) order[k] = k;
    for (int i = 0; i < NSCHED; i++)
        for (int j = i + 1; j < NSCHED; j++)
            if (med_test[order[j]] > med_test[order[i]]) {
                int x = order[i];
                order[i] = order[j], order[j] = x;
            }
    char buf[256] = "";
    for (int i = 0; i < NSCHED; i++)
        if (!isnan(med_test[order[i]]))
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? " > " : "", sched_name[order[i]]);
    gd_table_kv(t, "d2l_order_test_acc", "%s", buf);
    /* paired by seed against the constant lr: in how many seeds is the schedule's final
     * training loss lower, and its test accuracy higher */
    for (int k = 1; k < NSCHED; k++) {
        int pairs = 0, lower = 0, higher = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (rs[i].sched == k && rs[j].sched == 0 && rs[i].seed == rs[j].seed) {
                    pairs++;
                    lower += rs[i].train_loss < rs[j].train_loss;
                    higher += rs[i].test_acc > rs[j].test_acc;
                }
        char id[32], key[96];
        snprintf(id, sizeof id, "%s", sched_name[k]);
        for (char *p = id; *p; p++)
            if (*p == '-') *p = '_';
        snprintf(key, sizeof key, "d2l_%s_lower_loss", id);
        gd_table_kv(t, key, "%d of %d", lower, pairs);
        snprintf(key, sizeof key, "d2l_%s_higher_test", id);
        gd_table_kv(t, key, "%d of %d", higher, pairs);
    }
    gd_table_kv(t, "d2l_seeds", "%d", nseeds);
    gd_table_kv(t, "d2l_runs", "%d", n);
    if (gd_table_close(s) || gd_table_close(t)) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
    return 0;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.model = "lenet:act=relu:pool=max:init=torch";
    to.batch_size = 256;
    to.seeds = 3;
    double epochs = 30;
    long train_n = 0, test_n = 0;
    const char *scheds = "constant,sqrt,multistep,multistep-d2l,cosine,warmup-cosine";
    const char *out = NULL, *curves = NULL, *runs = NULL, *summary = NULL, *numbers = NULL;
    gd_opt opts[] = {GD_TRAIN_OPTS_MODEL(&to),
                     GD_TRAIN_OPTS_SEEDS(&to),
                     GD_OPT_FLOAT("epochs", &epochs, "epochs per run", 0, 1000, 1),
                     GD_OPT_INT("train-n", &train_n, "train on this many images, a fixed random subset (0: all)", 0,
                                60000),
                     GD_OPT_INT("test-n", &test_n, "evaluate on the first n test images (0: all 10000)", 0, 10000),
                     GD_OPT_STRING("scheds", &scheds, "comma-separated schedules: constant, sqrt, multistep, "
                                                      "multistep-d2l, cosine, warmup-cosine"),
                     GD_OPT_OUT("out", &out, "training mode: one row per run (sched, seed, final metrics)"),
                     GD_OPT_OUT("curves", &curves, "training mode: one row per run and epoch"),
                     GD_OPT_STRING("runs", &runs, "summary mode: comma-separated --out tables to summarise"),
                     GD_OPT_OUT("summary", &summary, "summary mode: medians and ranges per schedule"),
                     GD_OPT_OUT("numbers", &numbers, "summary mode: the README's numbers (key value)"),
                     GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "d2l section 12.11: LeNet (ReLU, max pooling) on Fashion-MNIST, batch 256, SGD, the "
                          "section's learning-rate schedules\nstepped per epoch; --out/--curves train, --runs "
                          "--summary --numbers summarise.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (runs) {
        if (!summary || !numbers) {
            fprintf(stderr, "%s: --runs needs --summary and --numbers\n", gd_prog());
            return 2;
        }
        return summarize(runs, summary, numbers, train_n > 0 ? train_n : 60000, epochs, to.batch_size);
    }
    if (!out) {
        fprintf(stderr, "%s: give --out (training) or --runs (summary)\n", gd_prog());
        return 2;
    }
    if (summary || numbers) {   /* summary mode's outputs in a training run: they were ignored */
        fprintf(stderr, "%s: --%s: only with --runs (summary mode)\n", gd_prog(), summary ? "summary" : "numbers");
        return 2;
    }
    int chosen[NSCHED], nchosen = 0;
    char *list = strdup(scheds), *save = NULL;
    for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        int k = sched_index(s);
        if (k < 0 || nchosen == NSCHED) {
            gd_usage_error("--scheds: unknown schedule '%.60s'", s);
            free(list);
            return 2;
        }
        chosen[nchosen++] = k;
    }
    free(list);
    if (nchosen == 0) return fprintf(stderr, "%s: --scheds: no schedule\n", gd_prog()), 2;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* the subset is drawn from the training set, the evaluation reads the first test_n */
    if (gd_images_require(&train, train_n, "the training set", "--train-n") != 0 ||
        gd_images_require(&test, test_n, "the test set", "--test-n") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to.data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    gd_blas_threads(1);
    int *idx = NULL, *rest = NULL;
    cfg.train = &train;
    cfg.test = &test;
    cfg.epochs = epochs;
    if (train_n > 0 && train_n < train.n) {
        /* a fixed subset (split seed 0, whatever --seed is): the same images in every run */
        idx = malloc((size_t)train_n * sizeof *idx);
        rest = malloc((size_t)(train.n - train_n) * sizeof *rest);
        if (!idx || !rest || gd_split(idx, rest, train.n, train.n - (int)train_n, 0) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), idx && rest ? gd_error() : "out of memory");
            return 1;
        }
        cfg.train_idx = idx;
        cfg.n_train = (int)train_n;
    }
    gd_table *o = gd_table_open(out, "sched seed train_loss train_acc test_loss test_acc diverged");
    gd_table *c = curves ? gd_table_open(curves, "sched seed epoch lr train_loss train_acc") : NULL;
    if (!o || (curves && !c)) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
    gd_table_provenance(o);
    if (c) gd_table_provenance(c);
    gd_table_meta(o, "model", "%s", to.model);
    gd_table_meta(o, "data", "Fashion-MNIST, %d training images%s, %ld test images", cfg.n_train ? cfg.n_train : train.n,
                  cfg.n_train ? " (a fixed random subset, split seed 0)" : "", test_n > 0 ? test_n : (long)test.n);
    gd_table_meta(o, "training", "batch %d, %g epochs, plain SGD, schedules stepped per epoch", cfg.batch_size, epochs);
    for (long s = 0; s < to.seeds; s++)
        for (int i = 0; i < nchosen; i++) {
            run r;
            cfg.seed = to.seed + (uint64_t)s;
            char label[64];
            snprintf(label, sizeof label, "%s seed %ld", sched_name[chosen[i]], (long)cfg.seed);
            cfg.label = label;
            if (train_one(&r, cfg, chosen[i], c, (int)test_n) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            gd_table_row(o, "%s\t%ld\t%.6f\t%.6f\t%.6f\t%.6f\t%ld", sched_name[r.sched], r.seed, r.train_loss,
                         r.train_acc, r.test_loss, r.test_acc, r.diverged);
        }
    if (gd_table_close(o) || (c && gd_table_close(c))) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
    free(idx), free(rest);
    gd_images_free(&train), gd_images_free(&test);
    return 0;
}

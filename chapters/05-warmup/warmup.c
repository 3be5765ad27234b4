/* warmup.c -- Adam at a high learning rate, with and without linear warmup, Chapter 5.
 *
 * Trains an MLP on Fashion-MNIST once per (warmup length, seed) and records what the
 * first few hundred steps do: the training loss at every step, the step at which the
 * loss first rose above --diverge times the first step's loss (the trainer's divergence
 * rule, train.h), the peak loss, the test accuracy where the run lands, and how many
 * hidden units ended up dead (never active on the first 1000 test images).
 *
 * The schedule is "warmup:T=N" (sched.h): lr(t) = lr * t/N for t < N, then lr; a
 * warmup of 0 is a constant lr. Runs are NOT stopped at the divergence rule (the
 * trainer would stop them; we let them go on to see where they land), only at a
 * non-finite loss. The same program makes the with/without comparison over seeds
 * (--warmup 0,100 --seeds 8) and the warmup-length sweep (--warmup 0,10,30,...).
 * Leaves out: other warmup shapes (sched.h has exp and constant), decay after warmup,
 * long runs (the runs are short on purpose: warmup is about the first steps).
 */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 1024
#define DEAD_PROBE 1000 /* test images on which a dead unit is never active */

typedef struct {
    long warmup;
    uint64_t seed;
    long spiked_at;        /* first step whose loss > diverge * the first step's, or -1 */
    long stopped_at;       /* step at which the loss was not finite (run stopped), or -1 */
    double first_loss;     /* the loss of step 1 (before any update: about ln 10) */
    double peak_loss;      /* the largest per-step loss */
    long peak_step;
    double final_loss;     /* mean training loss of the last 50 steps */
    double test_loss, test_acc;
    double dead_frac;      /* dead units of the first hidden layer, fraction */
} run_result;

/* Units of hidden layer l that are zero on every one of the first n test images. */
static int dead_units(gd_trainer *tr, const gd_images *test, int l, int n) {
    gd_mlp *m = &tr->model;
    int H = m->dims[l + 1], dead = 0;
    int *idx = malloc((size_t)n * sizeof *idx);
    float *X = malloc((size_t)n * m->dims[0] * sizeof *X);
    int *y = malloc((size_t)n * sizeof *y);
    int *alive = calloc((size_t)H, sizeof *alive);
    if (!idx || !X || !y || !alive) {
        dead = -1;
        goto done;
    }
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < n; i += m->max_batch) {
        int B = n - i < m->max_batch ? n - i : m->max_batch;
        gd_images_batch(X, y, test, idx + i, B);
        gd_mlp_forward(m, X, B);
        const float *a = m->out[l]; /* (B, H) after the activation */
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) alive[h] |= a[(size_t)b * H + h] > 0.0f;
    }
    for (int h = 0; h < H; h++) dead += !alive[h];
done:
    free(idx), free(X), free(y), free(alive);
    return dead;
}

/* Append the rows of a --summary table to res; returns the new count or -1. */
static int read_summary(const char *path, run_result *res, int nres, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char line[1024];
    int header = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "warmup\tseed\t", 12) != 0) {
                fclose(f);
                return gd_seterr("%s: not a summary table of ch05-warmup", path);
            }
            continue;
        }
        if (nres == max) {
            fclose(f);
            return gd_seterr("%s: more than %d runs", path, max);
        }
        run_result *r = &res[nres];
        unsigned long long seed;
        if (sscanf(line, "%ld %llu %ld %ld %lf %lf %ld %lf %lf %lf %lf", &r->warmup, &seed, &r->spiked_at,
                   &r->stopped_at, &r->first_loss, &r->peak_loss, &r->peak_step, &r->final_loss, &r->test_loss,
                   &r->test_acc, &r->dead_frac) != 11) {
            fclose(f);
            return gd_seterr("%s: malformed row: %.60s", path, line);
        }
        r->seed = seed;
        nres++;
    }
    fclose(f);
    return nres;
}

/* One `key value` row of the numbers table, the key prefixed by tag and '_'. */
static void kv(gd_table *t, const char *tag, const char *name, const char *fmt, ...) GD_PRINTF(4, 5);
static void kv(gd_table *t, const char *tag, const char *name, const char *fmt, ...) {
    char key[128], value[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "%s_%s", tag, name);
    gd_table_kv(t, key, "%s", value);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
    const char *dims_s = "784-256-256-10", *optim = "adam:lr=0.05", *data = NULL;
    const char *curves = NULL, *summary = NULL, *numbers = NULL, *tag = "w", *from = NULL;
    gd_floats warmups = {2, {0, 100}};
    long steps = 600, batch = 128, nseeds = 8;
    uint64_t first_seed = 0;
    double diverge = 10.0;
    gd_opt opts[] = {
        GD_OPT_STRING("dims", &dims_s, "layer sizes of the MLP"),
        GD_OPT_STRING("optim", &optim, "optimizer spec (optim.h), with its peak lr"),
        GD_OPT_FLOATS("warmup", &warmups, "linear warmup lengths in steps to compare (0: none)", 0, 1e7, 0),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 10000000),
        GD_OPT_INT("batch-size", &batch, "minibatch size", 1, 60000),
        GD_OPT_INT("seeds", &nseeds, "seeds per warmup length (first-seed, first-seed + 1, ...)", 1, 1000),
        GD_OPT_SEED("first-seed", &first_seed, "the first seed (initial weights and data order)"),
        GD_OPT_FLOAT("diverge", &diverge, "divergence rule: a step's loss above this times the first step's", 1, 1e12, 1),
        GD_OPT_STRING("data", &data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_STRING("curves", &curves, "write the loss at every step of every run to this table"),
        GD_OPT_STRING("summary", &summary, "write one row per run to this table"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers"),
        GD_OPT_STRING("from", &from, "no training: read these --summary tables (comma-separated) and write --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Adam at a high learning rate with and without linear warmup, over seeds "
                          "(Chapter 5).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_train_cfg cfg = gd_train_defaults();
    if ((cfg.nlayers = gd_parse_dims(dims_s, cfg.dims, GD_TRAIN_MAXLAYERS)) < 0) {
        fprintf(stderr, "%s: --dims: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (cfg.nlayers < 2) {
        fprintf(stderr, "%s: --dims: needs a hidden layer (dead units are counted in it), got '%s'\n", gd_prog(), dims_s);
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    for (int i = 0; i < warmups.n; i++)
        if (warmups.v[i] != floor(warmups.v[i])) {
            fprintf(stderr, "%s: --warmup: lengths are whole numbers of steps, got %g\n", gd_prog(), warmups.v[i]);
            return 2;
        }
    if (warmups.n * nseeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS, warmups.n * nseeds);
        return 2;
    }

    static run_result res[MAX_RUNS];
    int nres = 0;
    gd_table *ct = NULL, *st = NULL;
    if (from) {
        /* merge earlier runs: the warmup lengths are those found, in increasing order */
        char list[4096];
        snprintf(list, sizeof list, "%s", from);
        for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
            if ((nres = read_summary(p, res, nres, MAX_RUNS)) < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                return 1;
            }
        warmups.n = 0;
        for (int i = 0; i < nres; i++) {
            int w = 0;
            while (w < warmups.n && warmups.v[w] < res[i].warmup) w++;
            if (w < warmups.n && warmups.v[w] == res[i].warmup) continue;
            if (warmups.n == GD_FLOATS_MAX) break;
            memmove(warmups.v + w + 1, warmups.v + w, (size_t)(warmups.n - w) * sizeof *warmups.v);
            warmups.v[w] = (double)res[i].warmup;
            warmups.n++;
        }
        goto write_numbers;
    }

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);

    if (curves && !(ct = gd_table_open(curves, "warmup seed step lr loss"))) goto io_error;
    if (summary && !(st = gd_table_open(summary, "warmup seed spiked_at stopped_at first_loss peak_loss peak_step "
                                                 "final_loss test_loss test_acc dead_frac")))
        goto io_error;
    gd_table *tables[2] = {ct, st};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch05-warmup");
        gd_table_meta(tables[i], "model", "MLP %s, ReLU, batch %ld, %ld steps", dims_s, batch, steps);
        gd_table_meta(tables[i], "optim", "%s", canon);
        gd_table_meta(tables[i], "schedule", "warmup:T=N (linear from 0), then constant; N = 0: constant");
        gd_table_meta(tables[i], "seeds", "%llu to %llu", (unsigned long long)first_seed,
                      (unsigned long long)(first_seed + nseeds - 1));
        gd_table_meta(tables[i], "divergence rule", "a step's loss > %g x the first step's (runs go on)", diverge);
    }

    printf("%-7s %-5s %-10s %-10s %-10s %-9s %s\n", "warmup", "seed", "peak_loss", "spiked_at", "final_loss",
           "test_acc", "dead_units");
    for (int w = 0; w < warmups.n; w++) {
        for (long s = 0; s < nseeds; s++) {
            run_result *r = &res[nres++];
            memset(r, 0, sizeof *r);
            r->warmup = (long)warmups.v[w];
            r->seed = first_seed + (uint64_t)s;
            char sched[64], label[64];
            snprintf(sched, sizeof sched, "warmup:T=%ld", r->warmup);
            snprintf(label, sizeof label, "warmup %ld seed %llu", r->warmup, (unsigned long long)r->seed);
            cfg.optim = optim;
            cfg.sched = r->warmup > 0 ? sched : NULL;
            cfg.batch_size = (int)batch;
            cfg.seed = r->seed;
            cfg.train = &train;
            cfg.test = &test;
            cfg.label = label;
            cfg.log_every = 1;               /* every step is a row: the rule compares with step 1 */
            cfg.diverge_factor = INFINITY;   /* only a non-finite loss stops a run */
            /* the trainer counts epochs; it runs ceil(epochs * steps_per_epoch) steps */
            long per_epoch = (train.n + batch - 1) / batch;
            cfg.epochs = ((double)steps - 0.5) / (double)per_epoch;
            cfg.eval_every = (int)steps;     /* evaluate where the run lands */
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
            r->first_loss = log.rows[0].train_loss;
            r->spiked_at = -1;
            r->stopped_at = log.diverged_at;
            r->peak_loss = -INFINITY;
            double tail = 0.0;
            int ntail = 0;
            for (int i = 0; i < log.n; i++) {
                const gd_train_row *row = &log.rows[i];
                if (ct) gd_table_row(ct, "%ld %llu %ld %.6g %.6g", r->warmup, (unsigned long long)r->seed, row->step,
                                     row->lr, row->train_loss);
                if (r->spiked_at < 0 && !(row->train_loss <= diverge * r->first_loss)) r->spiked_at = row->step;
                if (row->train_loss > r->peak_loss) r->peak_loss = row->train_loss, r->peak_step = row->step;
                if (i >= log.n - 50) tail += row->train_loss, ntail++;
            }
            if (ct) gd_table_block(ct);
            r->final_loss = tail / ntail;
            const gd_train_row *last = &log.rows[log.n - 1];
            r->test_loss = last->test_loss;
            r->test_acc = last->test_acc;
            int dead = r->stopped_at < 0 ? dead_units(tr, &test, 0, DEAD_PROBE) : -1;
            r->dead_frac = dead < 0 ? NAN : (double)dead / cfg.dims[1];
            if (st)
                gd_table_row(st, "%ld %llu %ld %ld %.5f %.5g %ld %.5f %.5f %.4f %.4f", r->warmup,
                             (unsigned long long)r->seed, r->spiked_at, r->stopped_at, r->first_loss, r->peak_loss,
                             r->peak_step, r->final_loss, r->test_loss, r->test_acc, r->dead_frac);
            printf("%-7ld %-5llu %-10.4g %-10ld %-10.4f %-9.4f %.0f%%\n", r->warmup, (unsigned long long)r->seed,
                   r->peak_loss, r->spiked_at, r->final_loss, r->test_acc, 100 * r->dead_frac);
            gd_trainer_free(tr);
            gd_train_log_free(&log);
        }
    }
    if (ct) {
        int e = gd_table_close(ct);
        ct = NULL;
        if (e) goto io_error;
    }
    if (st) {
        int e = gd_table_close(st);
        st = NULL;
        if (e) goto io_error;
    }

    gd_images_free(&train);
    gd_images_free(&test);

write_numbers:
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch05-warmup");
        kv(t, tag, "dims", "%s", dims_s);
        kv(t, tag, "lr", "%g", hp.lr);
        kv(t, tag, "lr_x_default", "%.0f", hp.lr / gd_optim_defaults(kind).lr);
        kv(t, tag, "batch", "%ld", batch);
        kv(t, tag, "steps", "%ld", steps);
        kv(t, tag, "epochs", "%.2g", (double)steps * batch / 60000.0); /* Fashion-MNIST's training set */
        kv(t, tag, "diverge", "%g", diverge);
        /* Adam's first step moves the first layer by about lr sqrt(3 D) of its norm (5.2) */
        kv(t, tag, "first_step_rel", "%.0f%%", 100 * hp.lr * sqrt(3.0 * cfg.dims[0]));
        /* one row per warmup length: how many runs spiked, the peak, where they land */
        char buf[8192];
        int len = snprintf(buf, sizeof buf,
                           "| warmup steps | runs that diverge by the trainer's rule | median peak loss | training loss "
                           "at the end | test accuracy: mean (min to max) | dead units in the first layer |\n"
                           "|---:|---:|---:|---:|---:|---:|\n");
        for (int w = 0; w < warmups.n; w++) {
            long T = (long)warmups.v[w];
            double peaks[MAX_RUNS], acc_sum = 0, acc_min = INFINITY, acc_max = -INFINITY, loss_sum = 0, dead_sum = 0;
            int n = 0, spiked = 0, finite = 0;
            for (int i = 0; i < nres; i++) {
                if (res[i].warmup != T) continue;
                peaks[n++] = res[i].peak_loss;
                spiked += res[i].spiked_at >= 0;
                if (res[i].stopped_at >= 0) continue;
                finite++;
                acc_sum += res[i].test_acc, loss_sum += res[i].final_loss, dead_sum += res[i].dead_frac;
                acc_min = fmin(acc_min, res[i].test_acc), acc_max = fmax(acc_max, res[i].test_acc);
            }
            double med = median(peaks, n);
            if (w == 0) kv(t, tag, "seeds", "%d", n);
            if (len < (int)sizeof buf - 200) {
                if (finite)
                    len += snprintf(buf + len, sizeof buf - len,
                                    "| %ld | %d of %d | %.2g | %.2f | %.1f%% (%.1f to %.1f) | %.0f%% |\n", T, spiked, n,
                                    med, loss_sum / finite, 100 * acc_sum / finite, 100 * acc_min, 100 * acc_max,
                                    100 * dead_sum / finite);
                else
                    len += snprintf(buf + len, sizeof buf - len, "| %ld | %d of %d | %.2g | - | - (all stopped) | - |\n",
                                    T, spiked, n, med);
            }
            /* inline numbers for each warmup length: TAG_wN_NAME */
            char name[64];
#define KVW(what, fmt, value) (snprintf(name, sizeof name, "w%ld_%s", T, what), kv(t, tag, name, fmt, value))
            KVW("spiked", "%d", spiked);
            KVW("runs", "%d", n);
            KVW("peak", "%.2g", med);
            if (finite) {
                KVW("acc", "%.1f%%", 100 * acc_sum / finite);
                KVW("acc_min", "%.1f%%", 100 * acc_min);
                KVW("acc_max", "%.1f%%", 100 * acc_max);
                KVW("dead", "%.0f%%", 100 * dead_sum / finite);
                KVW("loss", "%.2f", loss_sum / finite);
            }
#undef KVW
        }
        kv(t, tag, "table", "%s", buf);
        if (gd_table_close(t) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (ct) gd_table_abort(ct);
    if (st) gd_table_abort(st);
    return 1;
}

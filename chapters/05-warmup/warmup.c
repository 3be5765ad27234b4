/* warmup.c -- Adam at a high learning rate, with and without linear warmup, Chapter 5.
 *
 * Trains an MLP on Fashion-MNIST once per (warmup length, seed) and records what the
 * first few hundred steps do: the training loss at every step, the step at which the run
 * first broke the trainer's divergence rule (train.h: a logged window's mean loss not
 * finite or above --diverge times the first batch's loss; every step is logged here, so
 * a window is one step), the peak loss, the test accuracy where the run lands, and how
 * many hidden units ended up dead (never active on the first 1000 test images).
 *
 * The schedule is "warmup:T=N" (sched.h): lr(t) = lr * t/N for t < N, then lr (or the
 * --sched that follows it); a warmup of 0 is no warmup. Runs are NOT stopped at the
 * divergence rule (the trainer would stop them; we let them go on to see where they
 * land), only at a non-finite loss; --stop lets the trainer stop them instead, which
 * shows that the program's rule is the trainer's (tests/ch05). The seeds are --seed,
 * --seed + 1, ..., the same for every warmup length (paired runs). The same program makes
 * the with/without comparison (--warmup 0,100) and the warmup-length sweep
 * (--warmup 0,1,3,...); --from merges the --summary tables of several runs into the
 * numbers the chapter quotes: medians and ranges over seeds, counts "k of N".
 * Leaves out: other warmup shapes (sched.h has kind=exp and kind=constant), long runs
 * (the runs are short on purpose: warmup is about the first steps).
 */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 1024
#define DEAD_PROBE 1000 /* test images on which a dead unit is never active */
#define MAX_TAG 32      /* --tag: kv's key[128] holds it, '_' and the name */

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
        if (!strchr(line, '\n') && !feof(f)) { /* a summary row is about 80 characters */
            fclose(f);
            return gd_seterr("%s: a line longer than %zu characters: not a summary table of ch05-warmup", path,
                             sizeof line - 2);
        }
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

/* A loss for the text: 2.31, 12.4 -> 12, 84.2 -> 84, 121 -> 121 (no exponent). */
static const char *fmt_loss(char *buf, size_t n, double x) {
    snprintf(buf, n, fabs(x) >= 10 ? "%.0f" : "%.3g", x);
    return buf;
}

/* One `key value` row of the numbers table, the key prefixed by tag and '_'. */
static void kv(gd_table *t, const char *tag, const char *name, const char *fmt, ...) GD_PRINTF(4, 5);
static void kv(gd_table *t, const char *tag, const char *name, const char *fmt, ...) {
    char key[128];               /* tag is at most MAX_TAG characters, names are short */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *value = n < 0 ? NULL : malloc((size_t)n + 1);    /* the value whole (--dims is the user's text) */
    if (value) {
        va_start(ap, fmt);
        vsnprintf(value, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    snprintf(key, sizeof key, "%s_%s", tag, name);
    gd_table_kv(t, key, "%s", value ? value : "(out of memory)");
    free(value);
}

/* The trainer's divergence rule (train.h, gd_trainer_run): a logged window's mean training
 * loss that is not finite or above factor times the first batch's loss. With log_every 1
 * a window is one step, and the first window is the first batch: the same comparison,
 * on the same numbers, as the trainer makes. */
static int breaks_rule(double window_loss, double first_batch_loss, double factor) {
    return !isfinite(window_loss) || window_loss > factor * first_batch_loss;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-256-256-10";
    to.optim = "adam:lr=0.05";
    to.seeds = 5;
    const char *curves = NULL, *summary = NULL, *numbers = NULL, *tag = "w", *from = NULL;
    gd_floats warmups = {2, {0, 100}};
    long steps = 300;
    double diverge = 10.0;
    int stop = 0;
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOATS("warmup", &warmups, "linear warmup lengths in steps to compare (0: none)", 0, 1e7, 0),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 10000000),
        GD_OPT_FLOAT("diverge", &diverge, "the trainer's divergence rule: a step's loss above this times the first batch's", 1, 1e12, 1),
        GD_OPT_FLAG("stop", &stop, "let the trainer stop a run that breaks the rule (default: note it and go on)"),
        GD_OPT_OUT("curves", &curves, "write the loss at every step of every run to this table"),
        GD_OPT_OUT("summary", &summary, "write one row per run to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers"),
        GD_OPT_STRING("from", &from, "no training: read these --summary tables (comma-separated) and write --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Adam at a high learning rate with and without linear warmup, over seeds "
                          "(Chapter 5). --sched, if given, follows the warmup.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_train_cfg cfg = gd_train_defaults();
    /* a hidden layer is needed: its dead units are counted */
    if (gd_train_opts_apply(&to, &cfg, 2) != 0) return 2;
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */
    for (int i = 0; i < warmups.n; i++)
        if (warmups.v[i] != floor(warmups.v[i])) {
            fprintf(stderr, "%s: --warmup: lengths are whole numbers of steps, got %g\n", gd_prog(), warmups.v[i]);
            return 2;
        }
    if (warmups.n * to.seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS, warmups.n * to.seeds);
        return 2;
    }
    if (strlen(tag) > MAX_TAG) {
        fprintf(stderr, "%s: --tag: at most %d characters, got %zu\n", gd_prog(), MAX_TAG, strlen(tag));
        return 2;
    }
    const char *dims_s = to.dims;
    long batch = to.batch_size, nseeds = to.seeds;
    uint64_t first_seed = to.seed;

    static run_result res[MAX_RUNS];
    int nres = 0;
    gd_table *ct = NULL, *st = NULL;
    if (from) {
        /* merge earlier runs: the warmup lengths are those found, in increasing order */
        char *list = strdup(from);   /* the user's list, whole: strtok writes into it */
        if (!list) {
            fprintf(stderr, "%s: out of memory\n", gd_prog());
            return 1;
        }
        for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
            if ((nres = read_summary(p, res, nres, MAX_RUNS)) < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                free(list);
                return 2;   /* the tables given are missing or not summaries: the user's input */
            }
        free(list);
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
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* dead units are counted on the first DEAD_PROBE test images */
    if (gd_train_opts_require(to.data, &test, DEAD_PROBE, "the test set", "counting dead units") != 0) {
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
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
        gd_table_meta(tables[i], "schedule", "warmup:T=N (linear from 0), then %s; N = 0: no warmup",
                      to.sched ? to.sched : "constant");
        gd_table_meta(tables[i], "seeds", "%llu to %llu", (unsigned long long)first_seed,
                      (unsigned long long)(first_seed + nseeds - 1));
        gd_table_meta(tables[i], "divergence rule", "the trainer's: a step's loss > %g x the first batch's (%s)", diverge,
                      stop ? "the trainer stops the run" : "noted, the run goes on");
    }

    printf("%-7s %-5s %-10s %-10s %-10s %-9s %s\n", "warmup", "seed", "peak_loss", "spiked_at", "final_loss",
           "test_acc", "dead_units");
    for (int w = 0; w < warmups.n; w++) {
        for (long s = 0; s < nseeds; s++) {
            run_result *r = &res[nres++];
            memset(r, 0, sizeof *r);
            r->warmup = (long)warmups.v[w];
            r->seed = first_seed + (uint64_t)s;
            /* the warmup in front of the user's --sched: on the heap, the spec whole */
            char *sched = NULL, label[64];
            if (r->warmup > 0) {
                const char *rest = to.sched ? to.sched : "";
                int len = snprintf(NULL, 0, "warmup:T=%ld%s%s", r->warmup, to.sched ? "," : "", rest);
                if (len < 0 || !(sched = malloc((size_t)len + 1))) {
                    fprintf(stderr, "%s: out of memory\n", gd_prog());
                    return 1;
                }
                snprintf(sched, (size_t)len + 1, "warmup:T=%ld%s%s", r->warmup, to.sched ? "," : "", rest);
            }
            snprintf(label, sizeof label, "warmup %ld seed %llu", r->warmup, (unsigned long long)r->seed);
            cfg.sched = sched ? sched : to.sched && to.sched[0] ? to.sched : NULL;
            cfg.seed = r->seed;
            cfg.train = &train;
            cfg.test = &test;
            cfg.label = label;
            cfg.log_every = 1;               /* every step is a window: the rule compares with step 1 */
            /* --stop: the trainer applies its rule; else only a non-finite loss stops a run */
            cfg.diverge_factor = stop ? diverge : INFINITY;
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
                if (r->spiked_at < 0 && breaks_rule(row->train_loss, r->first_loss, diverge)) r->spiked_at = row->step;
                if (row->train_loss > r->peak_loss) r->peak_loss = row->train_loss, r->peak_step = row->step;
                if (i >= log.n - 50) tail += row->train_loss, ntail++;
            }
            if (ct) gd_table_block(ct);
            r->final_loss = tail / ntail;   /* with --stop: over the steps run */
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
            free(sched);
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
        /* one row per warmup length: how many runs broke the rule, the peak, where they land */
        char buf[8192];
        int len = snprintf(buf, sizeof buf,
                           "| warmup steps | runs that break the trainer's rule | peak loss: median | training loss "
                           "at the end: median | test accuracy: median (min to max) | dead units in the first layer: "
                           "median |\n|---:|---:|---:|---:|---:|---:|\n");
        /* accuracies per length (NaN: stopped), for the comparisons below */
        static double acc[GD_FLOATS_MAX][MAX_RUNS];
        int nacc[GD_FLOATS_MAX] = {0};
        gd_stats accs[GD_FLOATS_MAX], deads[GD_FLOATS_MAX];
        int spikes[GD_FLOATS_MAX];
        long first_safe = -1;   /* the shortest warmup from which on no run breaks the rule */
        for (int w = 0; w < warmups.n; w++) {
            long T = (long)warmups.v[w];
            double peaks[MAX_RUNS], dead[MAX_RUNS], loss[MAX_RUNS];
            int n = 0, spiked = 0;
            for (int i = 0; i < nres; i++) {
                if (res[i].warmup != T) continue;
                int stopped = res[i].stopped_at >= 0;
                peaks[n] = res[i].peak_loss;
                acc[w][n] = stopped ? NAN : res[i].test_acc;
                dead[n] = stopped ? NAN : res[i].dead_frac;
                loss[n] = stopped ? NAN : res[i].final_loss;
                spiked += res[i].spiked_at >= 0;
                n++;
            }
            nacc[w] = n;
            spikes[w] = spiked;
            gd_stats pk = gd_stats_of(peaks, n), a = gd_stats_of(acc[w], n), d = gd_stats_of(dead, n),
                     l = gd_stats_of(loss, n);
            accs[w] = a, deads[w] = d;
            char lb[32];
            if (w == 0) kv(t, tag, "seeds", "%d", n);
            if (len < (int)sizeof buf - 200) {
                if (a.n)
                    len += snprintf(buf + len, sizeof buf - len,
                                    "| %ld | %d of %d | %s | %.2f | %.1f%% (%.1f to %.1f) | %.0f%% |\n", T, spiked, n,
                                    fmt_loss(lb, sizeof lb, pk.median), l.median, 100 * a.median, 100 * a.min,
                                    100 * a.max, 100 * d.median);
                else
                    len += snprintf(buf + len, sizeof buf - len, "| %ld | %d of %d | %s | - | - (all stopped) | - |\n",
                                    T, spiked, n, fmt_loss(lb, sizeof lb, pk.median));
            }
            /* inline numbers for each warmup length: TAG_wN_NAME */
            char name[64];
#define KVW(what, fmt, value) (snprintf(name, sizeof name, "w%ld_%s", T, what), kv(t, tag, name, fmt, value))
            KVW("spiked", "%d", spiked);
            KVW("runs", "%d", n);
            KVW("peak", "%s", fmt_loss(lb, sizeof lb, pk.median));
            KVW("peak_min", "%s", fmt_loss(lb, sizeof lb, pk.min));
            KVW("peak_max", "%s", fmt_loss(lb, sizeof lb, pk.max));
            if (a.n) {
                KVW("acc", "%.1f%%", 100 * a.median);
                KVW("acc_min", "%.1f%%", 100 * a.min);
                KVW("acc_max", "%.1f%%", 100 * a.max);
                KVW("dead", "%.0f%%", 100 * d.median);
                KVW("loss", "%.2f", l.median);
            }
#undef KVW
        }
        for (int w = warmups.n - 1; w >= 0 && spikes[w] == 0; w--) first_safe = (long)warmups.v[w];
        kv(t, tag, "table", "%s", buf);
        kv(t, tag, "first_safe", "%ld", first_safe);
        /* With and without warmup (lengths 0 and T > 0): how many runs without warmup land
         * below the lowest run with it (TAG_wT_below: "k of N"). */
        if (warmups.n > 1 && warmups.v[0] == 0)
            for (int w = 1; w < warmups.n; w++) {
                if (!accs[w].n) continue;
                int below = 0;
                for (int i = 0; i < nacc[0]; i++) below += acc[0][i] < accs[w].min;
                char name[64];
                snprintf(name, sizeof name, "w%ld_below", (long)warmups.v[w]);
                kv(t, tag, name, "%d of %d", below, nacc[0]);
            }
        /* From the shortest safe length on: the band of the median accuracies and the
         * widest seed range of one length, in points (is the band wider than the seeds?). */
        if (first_safe >= 0) {
            double lo = INFINITY, hi = -INFINITY, spread = 0, dlo = INFINITY, dhi = -INFINITY;
            long at_lo = -1, at_hi = -1, at_spread = -1;
            for (int w = 0; w < warmups.n; w++) {
                if (warmups.v[w] < first_safe || !accs[w].n) continue;
                if (accs[w].median < lo) lo = accs[w].median, at_lo = (long)warmups.v[w];
                if (accs[w].median > hi) hi = accs[w].median, at_hi = (long)warmups.v[w];
                if (accs[w].max - accs[w].min > spread) spread = accs[w].max - accs[w].min, at_spread = (long)warmups.v[w];
                dlo = fmin(dlo, deads[w].median), dhi = fmax(dhi, deads[w].median);
            }
            kv(t, tag, "safe_acc_lo", "%.1f%%", 100 * lo);
            kv(t, tag, "safe_acc_lo_at", "%ld", at_lo);
            kv(t, tag, "safe_acc_hi", "%.1f%%", 100 * hi);
            kv(t, tag, "safe_acc_hi_at", "%ld", at_hi);
            kv(t, tag, "safe_band", "%.1f", 100 * (hi - lo));
            kv(t, tag, "safe_spread", "%.1f", 100 * spread);
            kv(t, tag, "safe_spread_at", "%ld", at_spread);
            kv(t, tag, "safe_band_vs_spread", "%s", hi - lo < spread ? "narrower than" : "at least as wide as");
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (ct) gd_table_abort(ct);
    if (st) gd_table_abort(st);
    return 1;
}

/* gpt.c -- a small GPT on fortune cookies, trained with AdamW over a grid of peak
 * learning rates and seeds, Chapter 6.
 *
 * The model is lib/gpt.h's (nanoGPT's GPT-2 without dropout), byte-level on Debian's
 * fortunes (lib/text.h). One run: GPT-2 initialisation from the seed, AdamW in two
 * groups (weight decay on the Linear weights only, gd_gpt_decays; the other group 0),
 * the --sched spec (sched.h) scaled to each peak lr, --steps updates on random windows
 * (B = --batch-size rows of T = --context bytes, from the same seed), then the
 * validation loss on a fixed set of windows. The update rules are in lib/optim.c; the
 * loop is:
 *
 *   for t = 0 .. steps-1:
 *       x, y = random windows of the training stream          // (B, T) each
 *       loss = mean cross-entropy of the model's logits(x) against y
 *       grads = d loss / d theta                              // gd_gpt_backward
 *       eta_t = sched(t, peak lr)                              // gd_sched_apply
 *       theta = AdamW(theta, grads, eta_t)                     // gd_optim_step
 *
 * Each invocation is one "arm" (--arm NAME: an optimizer, a schedule, a batch size)
 * over --lr LIST x --seeds; it writes one --summary row per run and, with --curves, the
 * loss of every step. A run "spikes" when the loss of a step after the first is more
 * than --spike-gap (0.5) nats above the first step's (about ln V, the loss of the
 * initial, near-uniform guess: the model has become clearly worse than knowing
 * nothing; the gap keeps the batch-to-batch noise of the first steps, before the loss
 * has moved, from counting); spiked_at is the first such step.
 * A run whose loss stops being finite is stopped there (its validation loss is NaN). --from merges summaries into the numbers the chapter quotes
 * (medians, ranges, counts over seeds; the best peak lr of each arm) without training.
 * --save writes the trained model of one run (the first seed at --save-lr) for
 * ch06-sample. Leaves out: gradient clipping (nanoGPT clips the norm at 1; we do not, so
 * that what the learning rate does is not hidden), dropout, and long runs (this is the
 * CPU-seconds version; see the chapter text for the setting).
 */
#include "gd.h"
#include "gpt.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 2048
#define MAX_ARMS 16
#define BASIN 0.15   /* nats: the basin is the lrs whose median is this close to the best's */

/* GPT-3's Table 2.1 (Brown et al. 2020, arXiv:2005.14165): width d_model and peak lr of
 * the smallest and the largest model, for the comparison in the text. */
#define GPT3_SMALL_WIDTH 768
#define GPT3_SMALL_LR 6.0e-4
#define GPT3_LARGE_WIDTH 12288
#define GPT3_LARGE_LR 0.6e-4

typedef struct {
    char arm[32];
    double beta2;
    long batch, steps;
    double lr;             /* peak lr */
    unsigned long long seed;
    double first_loss;     /* the loss of the first batch (before any update; about ln V) */
    double final_loss;     /* mean training loss of the last tenth of the steps */
    double val_loss;       /* on the fixed validation windows; NaN if stopped */
    double unigram;        /* the unigram baseline on the same windows' targets */
    double peak_loss;      /* the largest loss of a step after the first */
    long spiked_at;        /* first step (>= 1) whose loss is above the first's + the gap, or -1 */
    long stopped_at;       /* step whose loss was not finite, or -1 */
} run_result;

/* ------------------------------------------------------------------------------------
 * The data and the validation windows. */

typedef struct {
    gd_corpus corpus;
    gd_vocab vocab;
    gd_tokens train, val;
    int nval;              /* validation windows */
    int *vx, *vy;          /* (nval, T) */
    double *unigram_p;     /* (V): the training stream's byte frequencies (add-one) */
    double unigram_val;    /* their cross-entropy on the validation windows' targets */
    double unigram_full;   /* ... on the whole validation stream */
} text_data;

static int load_data(text_data *d, const char *dir, double val_frac, uint64_t split_seed,
                     int nval, int T) {
    memset(d, 0, sizeof *d);
    if (gd_corpus_load(&d->corpus, dir) != 0) return -1;
    gd_vocab_build(&d->vocab, &d->corpus);
    if (gd_text_split(&d->train, &d->val, &d->corpus, &d->vocab, val_frac, split_seed) != 0)
        return -1;
    if (d->val.n < (long)T + 1 + nval || d->train.n < (long)T + 1)
        return gd_seterr("%s: the validation split (%ld bytes) is too small for %d windows of %d",
                         gd_fortunes_dir(dir), d->val.n, nval, T);
    d->nval = nval;
    d->vx = malloc((size_t)nval * T * sizeof *d->vx);
    d->vy = malloc((size_t)nval * T * sizeof *d->vy);
    d->unigram_p = malloc((size_t)d->vocab.size * sizeof *d->unigram_p);
    if (!d->vx || !d->vy || !d->unigram_p) return gd_seterr("out of memory");
    /* nval windows evenly spaced over the validation stream: the same for every run */
    const long last = d->val.n - T - 1;
    for (int i = 0; i < nval; i++) {
        long o = nval > 1 ? (long)((double)last * i / (nval - 1)) : 0;
        gd_text_window(d->vx + (size_t)i * T, d->vy + (size_t)i * T, &d->val, o, T);
    }
    gd_text_unigram(d->unigram_p, &d->train, d->vocab.size);
    d->unigram_val = gd_text_xent(d->unigram_p, d->vy, (long)nval * T);
    d->unigram_full = gd_text_xent(d->unigram_p, d->val.ids, d->val.n);
    return 0;
}

static void free_data(text_data *d) {
    free(d->vx), free(d->vy), free(d->unigram_p);
    gd_tokens_free(&d->train), gd_tokens_free(&d->val);
    gd_corpus_free(&d->corpus);
}

/* Mean loss over the validation windows, in chunks of the model's max_batch rows. */
static double val_loss(gd_gpt *m, const text_data *d, int T) {
    double sum = 0;
    for (int i = 0; i < d->nval; i += m->max_batch) {
        int B = d->nval - i < m->max_batch ? d->nval - i : m->max_batch;
        sum += B * gd_gpt_loss(m, d->vx + (size_t)i * T, d->vy + (size_t)i * T, B, T);
    }
    return sum / d->nval;
}

/* ------------------------------------------------------------------------------------
 * Summaries: write, read. */

#define SUMMARY_COLS "arm beta2 batch steps lr seed first_loss final_loss val_loss unigram peak_loss spiked_at stopped_at"

static void summary_row(gd_table *t, const run_result *r) {
    gd_table_row(t, "%s %g %ld %ld %.6g %llu %.5f %.5f %.5f %.5f %.5f %ld %ld", r->arm, r->beta2,
                 r->batch, r->steps, r->lr, r->seed, r->first_loss, r->final_loss, r->val_loss,
                 r->unigram, r->peak_loss, r->spiked_at, r->stopped_at);
}

static int read_summary(const char *path, run_result *res, int nres, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "arm\tbeta2\t", 10) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a summary table of ch06-gpt", path);
            }
            continue;
        }
        if (nres == max) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d runs", path, max);
        }
        run_result *r = &res[nres];
        if (sscanf(line, "%31s %lf %ld %ld %lf %llu %lf %lf %lf %lf %lf %ld %ld", r->arm, &r->beta2,
                   &r->batch, &r->steps, &r->lr, &r->seed, &r->first_loss, &r->final_loss,
                   &r->val_loss, &r->unigram, &r->peak_loss, &r->spiked_at, &r->stopped_at) != 13) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(f), free(line);
            return -1;
        }
        nres++;
    }
    fclose(f), free(line);
    return nres;
}

/* ------------------------------------------------------------------------------------
 * Numbers for the text. */

/* Every key of --numbers starts with this and '_' (--key-prefix), so that two tables of
 * the chapter (the grid's, the long run's) never share a key. */
static const char *key_prefix = "gpt";

static void kv(gd_table *t, const char *name, const char *fmt, ...) GD_PRINTF(3, 4);
static void kv(gd_table *t, const char *name, const char *fmt, ...) {
    char key[128], *value = NULL;   /* key: a prefix of at most 20 and the program's names */
    size_t size = 0;
    FILE *m = open_memstream(&value, &size);   /* the value whole, however long (the grid's table) */
    if (!m) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m, fmt, ap);
    va_end(ap);
    fclose(m);
    snprintf(key, sizeof key, "%.20s_%s", key_prefix, name);
    gd_table_kv(t, key, "%s", value);
    free(value);
}

/* An lr as the text writes it: 3e-4, 1e-3, 3.2e-3 (two significant digits at most). */
static const char *fmt_lr(char *buf, size_t n, double lr) {
    snprintf(buf, n, "%.2g", lr);
    /* 0.001 -> 1e-3 */
    double e = floor(log10(lr) + 1e-9);
    double m = lr / pow(10, e);
    if (fabs(m - round(m)) < 0.05 * m) snprintf(buf, n, "%.0fe%.0f", round(m), e);
    else snprintf(buf, n, "%.2ge%.0f", m, e);
    return buf;
}

typedef struct {
    char name[32];
    long batch, steps;
    double beta2;
    int nlr;
    double lr[GD_FLOATS_MAX];
    gd_stats val[GD_FLOATS_MAX];     /* over seeds, per lr */
    int stuck[GD_FLOATS_MAX];        /* runs whose validation loss is not below the unigram's */
    int spiked[GD_FLOATS_MAX];       /* runs with a step worse than the first (a uniform guess) */
    int runs[GD_FLOATS_MAX];
    int best;                        /* index of the lr with the lowest median val loss */
} arm_stats;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void arm_collect(arm_stats *a, const run_result *res, int nres) {
    a->nlr = 0;
    for (int i = 0; i < nres; i++) {
        if (strcmp(res[i].arm, a->name) != 0) continue;
        a->batch = res[i].batch, a->steps = res[i].steps, a->beta2 = res[i].beta2;
        int k = 0;
        while (k < a->nlr && a->lr[k] != res[i].lr) k++;
        if (k == a->nlr && a->nlr < GD_FLOATS_MAX) a->lr[a->nlr++] = res[i].lr;
    }
    qsort(a->lr, (size_t)a->nlr, sizeof *a->lr, cmp_double);
    a->best = -1;
    for (int k = 0; k < a->nlr; k++) {
        double v[MAX_RUNS];
        int n = 0;
        a->stuck[k] = a->spiked[k] = 0;
        for (int i = 0; i < nres; i++) {
            if (strcmp(res[i].arm, a->name) != 0 || res[i].lr != a->lr[k]) continue;
            v[n++] = res[i].val_loss;
            a->stuck[k] += !(res[i].val_loss < res[i].unigram);
            a->spiked[k] += res[i].spiked_at >= 0;
        }
        a->runs[k] = n;
        a->val[k] = gd_stats_of(v, n);
        /* a diverged run (NaN) counts as worse than any finite one */
        if (a->val[k].nan == 0 && (a->best < 0 || a->val[k].median < a->val[a->best].median))
            a->best = k;
    }
}

/* The best lr read off the medians: the vertex of the parabola in log10(lr) through the
 * lowest grid point and its two neighbours (the lowest point itself at an end of the
 * grid or where the three do not curve upwards), as 6.5 does with log2. */
static double best_fit(const arm_stats *a) {
    const int k = a->best;
    if (k < 0) return NAN;
    if (k == 0 || k == a->nlr - 1 || a->val[k - 1].n == 0 || a->val[k + 1].n == 0) return a->lr[k];
    double x0 = log10(a->lr[k - 1]), x1 = log10(a->lr[k]), x2 = log10(a->lr[k + 1]);
    double y0 = a->val[k - 1].median, y1 = a->val[k].median, y2 = a->val[k + 1].median;
    /* the vertex of the parabola through (x0,y0), (x1,y1), (x2,y2) */
    double d0 = (y1 - y0) / (x1 - x0), d1 = (y2 - y1) / (x2 - x1), c = (d1 - d0) / (x2 - x0);
    if (!(c > 0)) return a->lr[k];
    double xv = 0.5 * (x0 + x1) - d0 / (2 * c);
    if (xv < x0) xv = x0;
    if (xv > x2) xv = x2;
    return pow(10, xv);
}

/* The val losses of arm name at lr, by seed: v[j] for seeds[j]; returns how many. */
static int by_seed(const run_result *res, int nres, const char *name, double lr, unsigned long long *seeds,
                   double *v) {
    int n = 0;
    for (int i = 0; i < nres && n < 64; i++)
        if (strcmp(res[i].arm, name) == 0 && res[i].lr == lr) seeds[n] = res[i].seed, v[n++] = res[i].val_loss;
    return n;
}

/* Arm A against arm B at every lr they share, seed by seed (the same seeds: the same
 * initial weights and windows): how many seeds A ends lower, and the median of A - B. */
static void compare_arms(gd_table *t, const arm_stats *A, const arm_stats *B, const run_result *res, int nres) {
    char verdict[1024] = "", lb[32];
    int nall = 0, nshared = 0, nlower = 0;
    for (int k = 0; k < A->nlr; k++) {
        unsigned long long sa[64], sb[64];
        double va[64], vb[64], diff[64];
        int na = by_seed(res, nres, A->name, A->lr[k], sa, va), nb = by_seed(res, nres, B->name, A->lr[k], sb, vb);
        if (nb == 0) continue;
        int n = 0, lower = 0;
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb && n < 64; j++)   /* a seed given twice (--from a,a) pairs more than once */
                if (sa[i] == sb[j]) {
                    diff[n++] = va[i] - vb[j];
                    lower += va[i] < vb[j];
                }
        gd_stats d = gd_stats_of(diff, n);
        char name[128];
        snprintf(name, sizeof name, "%.31s_vs_%.31s_lr%d_lower", A->name, B->name, k);
        kv(t, name, "%d of %d", lower, n);
        snprintf(name, sizeof name, "%.31s_vs_%.31s_lr%d_diff", A->name, B->name, k);
        kv(t, name, "%+.2f", d.median);
        snprintf(name, sizeof name, "%.31s_vs_%.31s_lr%d_diff_min", A->name, B->name, k);
        kv(t, name, "%+.2f", d.min);
        snprintf(name, sizeof name, "%.31s_vs_%.31s_lr%d_diff_max", A->name, B->name, k);
        kv(t, name, "%+.2f", d.max);
        nshared++;
        if (n > 0 && (lower == n || lower == 0)) {
            size_t len = strlen(verdict);
            snprintf(verdict + len, sizeof verdict - len, "%s%s at %s", nall ? " and " : "",
                     lower == n ? "lower" : "higher", fmt_lr(lb, sizeof lb, A->lr[k]));
            nall++;
            nlower += lower == n;
        }
    }
    /* the lrs at which A ended on the same side of B in every seed */
    char name[128];
    if (A->best >= 0 && B->best >= 0) {   /* each at its own best lr: the best medians */
        snprintf(name, sizeof name, "%.31s_vs_%.31s_best_diff", A->name, B->name);
        kv(t, name, "%+.2f", A->val[A->best].median - B->val[B->best].median);
    }
    snprintf(name, sizeof name, "%.31s_vs_%.31s_all_seeds", A->name, B->name);
    if (nall == 0) kv(t, name, "at no learning rate did every seed end on the same side");
    else kv(t, name, "every seed ended %s", verdict);
    snprintf(name, sizeof name, "%.31s_vs_%.31s_all_lower", A->name, B->name);
    kv(t, name, "%d of %d", nlower, nshared);
}

/* The best lr of each seed of arm a (lowest validation loss over the grid). */
static int seed_bests(const arm_stats *a, const run_result *res, int nres, double *best_lr) {
    unsigned long long seeds[MAX_RUNS];
    int ns = 0;
    for (int i = 0; i < nres; i++) {
        if (strcmp(res[i].arm, a->name) != 0) continue;
        int j = 0;
        while (j < ns && seeds[j] != res[i].seed) j++;
        if (j == ns) seeds[ns++] = res[i].seed;
    }
    for (int j = 0; j < ns; j++) {
        double bv = INFINITY;
        best_lr[j] = NAN;
        for (int i = 0; i < nres; i++)
            if (strcmp(res[i].arm, a->name) == 0 && res[i].seed == seeds[j] && res[i].val_loss < bv)
                bv = res[i].val_loss, best_lr[j] = res[i].lr;
    }
    return ns;
}

static int write_numbers(const char *path, const char *grid, const run_result *res, int nres,
                         const text_data *d, int have_data, const char *arms_s, double spike_gap,
                         const gd_gpt_config *cfg, const char *sched_s, const gd_hparams *hp,
                         const char *pairs_s) {
    gd_table *t = gd_table_open(path, "key value");
    if (!t) return -1;
    gd_table_meta(t, "program", "ch06-gpt");
    static arm_stats arms[MAX_ARMS];
    int narms = 0;
    char lb[32], lb2[32];
    /* the user's lists, however long: copied whole (a fixed buffer would drop arms) */
    char *list = strdup(arms_s), *plist = strdup(pairs_s ? pairs_s : "");
    if (!list || !plist) {
        free(list), free(plist);
        gd_table_abort(t);
        return gd_seterr("out of memory");
    }
    for (char *p = strtok(list, ","); p; p = strtok(NULL, ",")) {
        if (narms == MAX_ARMS || strlen(p) >= sizeof arms[narms].name) {
            if (narms == MAX_ARMS) gd_seterr("--arms: more than %d arms", MAX_ARMS);
            else gd_seterr("--arms: '%.40s...' is longer than an arm's name (%zu characters)", p, sizeof arms[0].name - 1);
            free(list), free(plist);
            gd_table_abort(t);
            return -2;
        }
        snprintf(arms[narms].name, sizeof arms[narms].name, "%s", p);
        arm_collect(&arms[narms], res, nres);
        if (arms[narms].nlr == 0) {
            gd_seterr("--arms: no run of arm '%s' in the --from tables", p);
            free(list), free(plist);
            gd_table_abort(t);
            return -2;
        }
        narms++;
    }
    free(list);
    gd_gpt probe;   /* the model's size, from its config */
    if (gd_gpt_init(&probe, cfg, 1, 0) == 0) {
        kv(t, "params", "%zu", gd_gpt_numel(&probe));
        gd_gpt_free(&probe);
    }
    kv(t, "layers", "%d", cfg->layers);
    kv(t, "heads", "%d", cfg->heads);
    kv(t, "width", "%d", cfg->width);
    kv(t, "context", "%d", cfg->block);
    kv(t, "val_windows", "%d", d->nval);
    /* the main arm's optimizer and schedule (the --optim and --sched given with --from) */
    kv(t, "sched", "%s", sched_s);
    kv(t, "beta1", "%g", hp->beta1);
    kv(t, "beta2", "%g", hp->beta2);
    kv(t, "weight_decay", "%g", hp->weight_decay);
    if (have_data) {
        kv(t, "files", "%d", d->corpus.nfiles);
        kv(t, "entries", "%d", d->corpus.nentries);
        kv(t, "mbytes", "%.2f", d->corpus.start[d->corpus.nentries] / 1e6);
        kv(t, "vocab", "%d", d->vocab.size);
        kv(t, "val_entries", "%d", d->val.nentries);
        kv(t, "val_pct", "%.0f%%", 100.0 * d->val.nentries / d->corpus.nentries);
        kv(t, "train_kbytes", "%.0f", d->train.n / 1e3);
        kv(t, "val_kbytes", "%.0f", d->val.n / 1e3);
        kv(t, "unigram_full", "%.3f", d->unigram_full);
        /* the share of letters, spaces and newlines in the corpus (ch06-sample's measure) */
        long texty = 0, n = d->corpus.start[d->corpus.nentries];
        for (long i = 0; i < n; i++) {
            unsigned char c = d->corpus.bytes[i];
            texty += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '\n';
        }
        kv(t, "corpus_letters", "%.0f%%", 100.0 * texty / n);
    }
    /* The unigram baseline on the validation windows (the same in every run). */
    const double unigram = res[0].unigram;
    kv(t, "unigram", "%.3f", unigram);
    kv(t, "spike_gap", "%g", spike_gap);
    kv(t, "basin", "%g", BASIN);
    /* GPT-3: the largest model is 16 times wider and its lr 10 times smaller; with the
     * 1/width rule of 6.5, a model of our width would sit this far above GPT-3 Small */
    kv(t, "gpt3_width_ratio", "%d", GPT3_LARGE_WIDTH / GPT3_SMALL_WIDTH);
    kv(t, "gpt3_lr_ratio", "%.0f", GPT3_SMALL_LR / GPT3_LARGE_LR);
    kv(t, "gpt3_exponent", "%.2f", log(GPT3_SMALL_LR / GPT3_LARGE_LR) / log((double)GPT3_LARGE_WIDTH / GPT3_SMALL_WIDTH));
    kv(t, "gpt3_small_over_ours", "%.0f", (double)GPT3_SMALL_WIDTH / cfg->width);
    kv(t, "gpt3_small_scaled", "%.2g", GPT3_SMALL_LR * GPT3_SMALL_WIDTH / cfg->width);
    {   /* GPT-3 Small (125M parameters) and GPT-3 (175B) against this model */
        gd_gpt m;
        if (gd_gpt_init(&m, cfg, 1, 0) == 0) {
            double n = (double)gd_gpt_numel(&m);
            kv(t, "gpt3_small_x_ours", "%.0f", 125e6 / n);
            kv(t, "gpt3_large_x_ours", "%.1e", 175e9 / n);
            gd_gpt_free(&m);
        }
    }
    for (int a = 0; a < narms; a++) {
        const arm_stats *A = &arms[a];
        char name[128];
#define KVA(what, fmt, ...) (snprintf(name, sizeof name, "%.31s_%.60s", A->name, what), kv(t, name, fmt, __VA_ARGS__))
        KVA("batch", "%ld", A->batch);
        KVA("bytes", "%ld", A->batch * A->steps * cfg->block);
        KVA("batch_bytes", "%ld", A->batch * cfg->block);
        if (have_data) KVA("train_pct", "%.1f%%", 100.0 * A->batch * A->steps * cfg->block / d->train.n);
        KVA("steps", "%ld", A->steps);
        KVA("seeds", "%d", A->runs[0]);
        KVA("lr_min", "%s", fmt_lr(lb, sizeof lb, A->lr[0]));
        KVA("lr_max", "%s", fmt_lr(lb, sizeof lb, A->lr[A->nlr - 1]));
        KVA("nlr", "%d", A->nlr);
        if (A->best >= 0) {
            const gd_stats *s = &A->val[A->best];
            KVA("best_lr", "%s", fmt_lr(lb, sizeof lb, A->lr[A->best]));
            KVA("best_val", "%.3f", s->median);
            KVA("best_val_min", "%.3f", s->min);
            KVA("best_val_max", "%.3f", s->max);
            KVA("best_val_spread", "%.2f", s->max - s->min);
            KVA("best_below_unigram", "%.2f", unigram - s->max);
            KVA("best_below_unigram_pct", "%.0f%%", 100 * (unigram - s->median) / unigram);
            KVA("best_x_3e4", "%.2g", A->lr[A->best] / 3e-4);
            KVA("fit_x_gpt3", "%.1f", best_fit(A) / GPT3_SMALL_LR);
            KVA("best_fit", "%.2g", best_fit(A));
            /* the basin: the lrs whose median is within BASIN nats of the best median */
            int lo = A->best, hi = A->best;
            for (int k = 0; k < A->nlr; k++)
                if (A->val[k].n && A->val[k].median <= s->median + BASIN) {
                    if (k < lo) lo = k;
                    if (k > hi) hi = k;
                }
            KVA("basin_lo", "%s", fmt_lr(lb, sizeof lb, A->lr[lo]));
            KVA("basin_hi", "%s", fmt_lr(lb2, sizeof lb2, A->lr[hi]));
            KVA("basin_decades", "%.2g", log10(A->lr[hi] / A->lr[lo]));
        }
        double bl[MAX_RUNS];
        int ns = seed_bests(A, res, nres, bl);
        qsort(bl, (size_t)ns, sizeof *bl, cmp_double);
        KVA("seed_best_lr_min", "%s", fmt_lr(lb, sizeof lb, bl[0]));
        KVA("seed_best_lr_max", "%s", fmt_lr(lb2, sizeof lb2, bl[ns - 1]));
        int stuck = 0, spiked = 0, total = 0;
        for (int k = 0; k < A->nlr; k++) stuck += A->stuck[k], spiked += A->spiked[k], total += A->runs[k];
        KVA("stuck", "%d", stuck);
        KVA("spiked", "%d", spiked);
        KVA("runs", "%d", total);
        /* per lr: lr index k as a key (the lrs are in the grid's order) */
        for (int k = 0; k < A->nlr; k++) {
            char w[32];
            snprintf(w, sizeof w, "lr%d_val", k);
            KVA(w, "%.3f", A->val[k].median);
            snprintf(w, sizeof w, "lr%d_stuck", k);
            KVA(w, "%d of %d", A->stuck[k], A->runs[k]);
            snprintf(w, sizeof w, "lr%d_spiked", k);
            KVA(w, "%d of %d", A->spiked[k], A->runs[k]);
            snprintf(w, sizeof w, "lr%d", k);
            KVA(w, "%s", fmt_lr(lb, sizeof lb, A->lr[k]));
            /* the spikes at this lr: the latest first-spike step, the median peak loss */
            long last = -1;
            double peaks[MAX_RUNS];
            int np = 0;
            for (int i = 0; i < nres; i++)
                if (strcmp(res[i].arm, A->name) == 0 && res[i].lr == A->lr[k]) {
                    peaks[np++] = res[i].peak_loss;
                    if (res[i].spiked_at > last) last = res[i].spiked_at;
                }
            snprintf(w, sizeof w, "lr%d_spike_last", k);
            KVA(w, "%ld", last);
            snprintf(w, sizeof w, "lr%d_peak", k);
            KVA(w, "%.1f", gd_stats_of(peaks, np).median);
        }
#undef KVA
    }
    /* Every other arm against the first, seed by seed, at the lrs they share. */
    for (int a = 1; a < narms; a++) compare_arms(t, &arms[a], &arms[0], res, nres);
    /* The batch-size rules, for each --pairs A:Z (A the larger batch): the best lrs
     * (parabola vertices) and their ratio against the ratio of the batch sizes; and seed
     * by seed, in how many seeds A's best grid lr is above Z's. */
    char *save = NULL;
    for (char *p = strtok_r(plist, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(p, ':');
        const arm_stats *A = NULL, *Z = NULL;
        if (colon) {
            *colon = '\0';
            for (int a = 0; a < narms; a++) {
                if (strcmp(arms[a].name, p) == 0) A = &arms[a];
                if (strcmp(arms[a].name, colon + 1) == 0) Z = &arms[a];
            }
        }
        if (!A || !Z || A->batch == Z->batch) {
            gd_seterr("--pairs: '%s' is not two arms of different batch sizes", p);
            free(plist);
            gd_table_abort(t);
            return -2;
        }
        double ratio = best_fit(A) / best_fit(Z), kb = (double)A->batch / Z->batch;
        char name[128];
#define KVP(what, fmt, ...) (snprintf(name, sizeof name, "%.31s_%.31s_%s", A->name, Z->name, what), kv(t, name, fmt, __VA_ARGS__))
        KVP("batch_ratio", "%.3g", kb);
        KVP("sqrt", "%.3g", sqrt(kb));
        KVP("lr_ratio", "%.2g", ratio);
        /* what the measured ratio says: both rules want the larger batch's lr higher */
        double dsq = fabs(log(ratio / sqrt(kb))), dlin = fabs(log(ratio / kb));
        KVP("verdict", "%s",
            ratio <= 1 ? "the opposite of both rules: the larger batch's best lr is not higher"
            : dsq < dlin ? "nearer to the square-root rule than to the linear one"
                         : "nearer to the linear rule than to the square-root one");
        double ba[MAX_RUNS], bz[MAX_RUNS];
        int na = seed_bests(A, res, nres, ba), nz = seed_bests(Z, res, nres, bz), higher = 0;
        for (int i = 0; i < na && i < nz; i++) higher += ba[i] > bz[i];   /* seeds in the same order */
        KVP("seeds_higher", "%d of %d", higher, na < nz ? na : nz);
#undef KVP
    }
    free(plist);
    /* The grid as a table: one row per lr, one column per arm (median and range). */
    /* on the heap: 16 arms x 64 lrs are about 40 KB (an 8 KB buffer overflowed) */
    char *buf = NULL;
    size_t buf_size = 0;
    FILE *bm = open_memstream(&buf, &buf_size);
    if (!bm) {
        gd_table_abort(t);
        return gd_seterr("out of memory");
    }
    fprintf(bm, "| peak lr |");
    for (int a = 0; a < narms; a++) fprintf(bm, " %s |", arms[a].name);
    fprintf(bm, "\n|---:|");
    for (int a = 0; a < narms; a++) fprintf(bm, "---:|");
    fprintf(bm, "\n");
    double all_lr[GD_FLOATS_MAX * MAX_ARMS];
    int nall = 0;
    for (int a = 0; a < narms; a++)
        for (int k = 0; k < arms[a].nlr; k++) {
            int j = 0;
            while (j < nall && all_lr[j] != arms[a].lr[k]) j++;
            if (j == nall) all_lr[nall++] = arms[a].lr[k];
        }
    qsort(all_lr, (size_t)nall, sizeof *all_lr, cmp_double);
    for (int j = 0; j < nall; j++) {
        fprintf(bm, "| %s |", fmt_lr(lb, sizeof lb, all_lr[j]));
        for (int a = 0; a < narms; a++) {
            const arm_stats *A = &arms[a];
            int k = 0;
            while (k < A->nlr && A->lr[k] != all_lr[j]) k++;
            if (k == A->nlr) fprintf(bm, " |");
            else if (A->val[k].n == 0)
                fprintf(bm, " diverged (%d of %d) |", A->val[k].nan, A->runs[k]);
            else
                fprintf(bm, " %s%.2f (%.2f to %.2f)%s%s |",
                                k == A->best ? "**" : "", A->val[k].median, A->val[k].min, A->val[k].max,
                                k == A->best ? "**" : "", A->val[k].nan ? " + diverged" : "");
        }
        fprintf(bm, "\n");
    }
    fclose(bm);
    kv(t, "table", "%s", buf);
    free(buf);
    if (grid) {
        /* for the figure: one block per arm, one row per lr, median and range over seeds */
        gd_table *g = gd_table_open(grid, "arm lr median min max runs diverged unigram");
        if (!g) {
            gd_table_abort(t);
            return -1;
        }
        gd_table_meta(g, "program", "ch06-gpt --from (validation loss over seeds)");
        for (int a = 0; a < narms; a++) {
            for (int k = 0; k < arms[a].nlr; k++)
                gd_table_row(g, "%s %.6g %.5f %.5f %.5f %d %d %.5f", arms[a].name, arms[a].lr[k], arms[a].val[k].median,
                             arms[a].val[k].min, arms[a].val[k].max, arms[a].runs[k], arms[a].val[k].nan, unigram);
            gd_table_block(g);
            gd_table_block(g);
        }
        if (gd_table_close(g) != 0) {
            gd_table_abort(t);
            return -1;
        }
    }
    return gd_table_close(t);
}

/* The canonical form of a schedule (gd_sched_format), whole: the buffer grows until the
 * text fits, so a long chain is never cut short in the tables' headers. NULL: no memory. */
static char *sched_text(const gd_sched *s) {
    for (size_t n = 1024;; n *= 2) {
        char *b = malloc(n);
        if (!b) return NULL;
        gd_sched_format(s, b, n);
        if (strlen(b) < n - 1) return b;
        free(b);
    }
}

/* ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    const char *optim_s = "adamw:betas=0.9/0.95:weight_decay=0.1", *sched_s = "warmup:T=20,cosine:T=180";
    const char *data_dir = NULL, *arm = "main", *summary = NULL, *curves = NULL, *numbers = NULL;
    const char *from = NULL, *save = NULL, *arms = NULL, *grid = NULL, *pairs = NULL;
    gd_floats lrs = {1, {1e-3}};
    double save_lr = 0, val_frac = 0.1, spike_gap = 0.5;
    long steps = 200, batch = 8, context = 32, layers = 2, heads = 4, width = 64, nval = 64;
    long seeds = 3;
    uint64_t seed = 0, split_seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("optim", &optim_s, "optimizer spec (lib/optim.h); its lr is replaced by each --lr"),
        GD_OPT_STRING("sched", &sched_s, "schedule spec (lib/sched.h) relative to the peak lr; \"constant\" for none"),
        GD_OPT_FLOATS("lr", &lrs, "peak learning rates, comma-separated", 0, 10, 1),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 1000000),
        GD_OPT_INT("batch-size", &batch, "windows per minibatch (B)", 1, 4096),
        GD_OPT_INT("context", &context, "window length in bytes (T); also the model's block size", 2, 1024),
        GD_OPT_INT("layers", &layers, "transformer blocks", 1, 64),
        GD_OPT_INT("heads", &heads, "attention heads", 1, 64),
        GD_OPT_INT("width", &width, "embedding width C (a multiple of --heads)", 1, 4096),
        GD_OPT_SEED("seed", &seed, "the first seed (initial weights and windows)"),
        GD_OPT_INT("seeds", &seeds, "runs per lr, with seeds seed, seed+1, ...", 1, 1000),
        GD_OPT_STRING("data", &data_dir, "fortunes directory (default: $GD_FORTUNES or " GD_FORTUNES_DEFAULT_DIR ")"),
        GD_OPT_SEED("split-seed", &split_seed, "seed of the train/validation split of the entries"),
        GD_OPT_FLOAT("val-frac", &val_frac, "fraction of the entries held out for validation", 0, 0.9, 1),
        GD_OPT_INT("val-windows", &nval, "validation windows (evenly spaced over the held-out entries)", 1, 100000),
        GD_OPT_FLOAT("spike-gap", &spike_gap, "a spike: a step's loss this many nats above the first step's", 0, 100, 0),
        GD_OPT_STRING("arm", &arm, "name of this setting in the tables (letters and digits)"),
        GD_OPT_OUT("summary", &summary, "write one row per run to this table"),
        GD_OPT_OUT("curves", &curves, "write the loss and lr of every step of every run to this table"),
        GD_OPT_OUT("save", &save, "write the trained model of the first seed at --save-lr here (gd_gpt_save)"),
        GD_OPT_FLOAT("save-lr", &save_lr, "the peak lr of the run --save writes (one of --lr)", 0, 10, 0),
        GD_OPT_STRING("from", &from, "no training: read these --summary tables (comma-separated) and write --numbers"),
        GD_OPT_STRING("arms", &arms, "with --from: the arms to report, in this order (comma-separated)"),
        GD_OPT_STRING("pairs", &pairs, "with --from: A:Z,... arms of two batch sizes (A larger) to hold to the scaling rules"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("key-prefix", &key_prefix, "the keys of --numbers start with this and '_'"),
        GD_OPT_OUT("grid", &grid, "with --numbers: also the validation loss per arm and lr (median, range) here"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "A small GPT trained on Debian's fortunes with AdamW, over peak learning rates and "
                          "seeds (Chapter 6).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim_s, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (width % heads != 0) {
        fprintf(stderr, "%s: --width: %ld is not a multiple of --heads %ld\n", gd_prog(), width, heads);
        return 2;
    }
    for (const char *p = arm; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9')) {
            gd_usage_error("--arm: letters and digits only, got '%.60s'", arm);
            return 2;
        }
    for (const char *p = key_prefix; *p || p == key_prefix; p++)
        if (!*p || strlen(key_prefix) > 20 ||
            (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '_')) {
            gd_usage_error("--key-prefix: 1 to 20 letters, digits or '_', got '%.60s'", key_prefix);
            return 2;
        }
    if (strlen(arm) > 20) {
        gd_usage_error("--arm: at most 20 characters, got '%.60s'", arm);
        return 2;
    }
    if ((long)lrs.n * seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS, lrs.n * seeds);
        return 2;
    }
    int save_k = -1;
    if (save) {
        for (int k = 0; k < lrs.n; k++)
            if (lrs.v[k] == save_lr) save_k = k;
        if (save_k < 0) {
            fprintf(stderr, "%s: --save-lr: %g is not one of --lr\n", gd_prog(), save_lr);
            return 2;
        }
    }
    if (from && !numbers) {
        fprintf(stderr, "%s: --from: needs --numbers\n", gd_prog());
        return 2;
    }
    if (from && !arms) {
        fprintf(stderr, "%s: --from: needs --arms\n", gd_prog());
        return 2;
    }
    if (!from && (arms || pairs)) {   /* a training run has one arm: found wrong only after training */
        fprintf(stderr, "%s: --%s: only with --from\n", gd_prog(), arms ? "arms" : "pairs");
        return 2;
    }

    /* parsed after the other checks, so that their refusals have nothing to free */
    gd_sched *sched = gd_sched_parse(sched_s);
    if (!sched) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        return 2;
    }
    const int T = (int)context, B = (int)batch;
    text_data d;
    if (load_data(&d, data_dir, val_frac, split_seed, (int)nval, T) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        free_data(&d);
        gd_sched_free(sched);
        return 2;
    }
    static run_result res[MAX_RUNS];
    int nres = 0;
    gd_gpt_config cfg = {.vocab = d.vocab.size, .block = T, .layers = (int)layers, .heads = (int)heads,
                         .width = (int)width};

    if (from) {
        /* the tables given (their list copied whole) are the user's input: exit 2 if wrong */
        char *list = strdup(from);
        int status = list ? 0 : 1;
        if (!list) fprintf(stderr, "%s: out of memory\n", gd_prog());
        for (char *p = list ? strtok(list, ",") : NULL; p && !status; p = strtok(NULL, ","))
            if ((nres = read_summary(p, res, nres, MAX_RUNS)) < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                status = 2;
            }
        free(list);
        if (!status && nres <= 0) {
            gd_usage_error("--from: no runs in %s", from);
            status = 2;
        }
        int e = status ? 0 : write_numbers(numbers, grid, res, nres, &d, 1, arms, spike_gap, &cfg, sched_s, &hp, pairs);
        if (e != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            status = e == -2 ? 2 : 1;
        }
        free_data(&d);
        gd_sched_free(sched);
        return status;
    }

    gd_blas_threads(1);
    char canon_optim[256];
    gd_optim_format(canon_optim, sizeof canon_optim, kind, &hp);
    char *canon_sched = sched_text(sched);   /* however long the user's schedule */
    gd_table *st = NULL, *ct = NULL;
    if (summary && !(st = gd_table_open(summary, SUMMARY_COLS))) goto io_error;
    if (curves && !(ct = gd_table_open(curves, "arm lr seed step lr_t loss"))) goto io_error;
    gd_table *tables[2] = {st, ct};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch06-gpt");
        gd_table_meta(tables[i], "model", "GPT: %ld layers, %ld heads, width %ld, context %ld, vocab %d (bytes)",
                      layers, heads, width, context, cfg.vocab);
        gd_table_meta(tables[i], "data", "%s: %d files, %d entries; %d validation entries (split seed %llu), "
                      "%d windows of %d", gd_fortunes_dir(data_dir), d.corpus.nfiles, d.corpus.nentries,
                      d.val.nentries, (unsigned long long)split_seed, d.nval, T);
        gd_table_meta(tables[i], "optim", "%s (lr: each peak lr; weight decay on Linear weights only)", canon_optim);
        gd_table_meta(tables[i], "schedule", "%s", canon_sched ? canon_sched : "?");
        gd_table_meta(tables[i], "batch", "%ld windows, %ld steps", batch, steps);
        gd_table_meta(tables[i], "spike", "a step's loss more than %g nats above the first step's", spike_gap);
        gd_table_meta(tables[i], "seeds", "%llu to %llu", (unsigned long long)seed,
                      (unsigned long long)(seed + seeds - 1));
    }

    int *x = malloc((size_t)B * T * sizeof *x), *y = malloc((size_t)B * T * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    printf("%-8s %-8s %-5s %-10s %-10s %-10s %-9s %s\n", "arm", "lr", "seed", "final", "val", "unigram", "peak", "spiked_at");
    for (int k = 0; k < lrs.n; k++) {
        for (long s = 0; s < seeds; s++) {
            run_result *r = &res[nres++];
            memset(r, 0, sizeof *r);
            snprintf(r->arm, sizeof r->arm, "%s", arm);
            r->beta2 = hp.beta2, r->batch = batch, r->steps = steps, r->lr = lrs.v[k];
            r->seed = seed + (unsigned long long)s;
            r->stopped_at = -1;
            r->spiked_at = -1;
            r->unigram = d.unigram_val;
            gd_gpt m;
            if (gd_gpt_init(&m, &cfg, B, r->seed) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            /* Two groups, as nanoGPT/minGPT make them: decay on the Linear weights only. */
            gd_hparams h = hp;
            h.lr = r->lr;
            gd_optim *opt = gd_optim_new(kind, &h);
            gd_param *dec = malloc((size_t)m.nparams * sizeof *dec), *nodec = malloc((size_t)m.nparams * sizeof *nodec);
            int nd = 0, nn = 0;
            for (int i = 0; i < m.nparams; i++) {
                if (gd_gpt_decays(&m, i)) dec[nd++] = m.params[i];
                else nodec[nn++] = m.params[i];
            }
            gd_hparams h0 = h;
            h0.weight_decay = 0;
            if (!opt || (nd && gd_optim_add_group(opt, dec, nd, &h) < 0) ||
                (nn && gd_optim_add_group(opt, nodec, nn, &h0) < 0)) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            free(dec), free(nodec);
            /* the windows come from their own stream of the seed, apart from the init */
            gd_rng rng;
            gd_rng_seed(&rng, r->seed ^ 0x9e3779b97f4a7c15ULL);
            double tail = 0;
            long ntail = 0, tail_from = steps - (steps + 9) / 10;
            r->peak_loss = -INFINITY;
            for (long t = 0; t < steps; t++) {
                gd_text_batch(x, y, &d.train, B, T, &rng);
                double loss = gd_gpt_loss(&m, x, y, B, T);
                if (t == 0) r->first_loss = loss;
                if (!isfinite(loss)) {
                    r->stopped_at = t;
                    break;
                }
                /* a spike: worse than the first step, the loss of a near-uniform guess */
                if (t > 0 && loss > r->peak_loss) r->peak_loss = loss;
                if (t > 0 && r->spiked_at < 0 && loss > r->first_loss + spike_gap) r->spiked_at = t;
                if (t >= tail_from) tail += loss, ntail++;
                gd_gpt_zero_grad(&m);
                gd_gpt_backward(&m);
                gd_sched_apply(sched, t, opt);
                if (ct) gd_table_row(ct, "%s %.6g %llu %ld %.6g %.6g", arm, r->lr, r->seed, t, gd_optim_lr(opt, 0), loss);
                gd_optim_step(opt);
            }
            if (ct) gd_table_block(ct);
            r->final_loss = ntail ? tail / ntail : NAN;
            r->val_loss = r->stopped_at < 0 ? val_loss(&m, &d, T) : NAN;
            if (!isfinite(r->val_loss)) r->val_loss = NAN;
            if (st) summary_row(st, r);
            printf("%-8s %-8g %-5llu %-10.4f %-10.4f %-10.4f %-9.3f %ld\n", arm, r->lr, r->seed, r->final_loss,
                   r->val_loss, r->unigram, r->peak_loss, r->spiked_at);
            if (save && k == save_k && s == 0 && gd_gpt_save(&m, save) != 0) {
                fprintf(stderr, "%s: --save: %s\n", gd_prog(), gd_error());
                return 1;
            }
            gd_optim_free(opt);
            gd_gpt_free(&m);
        }
    }
    free(x), free(y);
    if (st) {
        int e = gd_table_close(st);
        st = NULL;
        if (e) goto io_error;
    }
    if (ct) {
        int e = gd_table_close(ct);
        ct = NULL;
        if (e) goto io_error;
    }
    if (numbers && write_numbers(numbers, grid, res, nres, &d, 1, arm, spike_gap, &cfg, sched_s, &hp, pairs) != 0) goto io_error;
    free_data(&d);
    gd_sched_free(sched);
    free(canon_sched);
    return 0;
io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (st) gd_table_abort(st);
    if (ct) gd_table_abort(ct);
    return 1;
}

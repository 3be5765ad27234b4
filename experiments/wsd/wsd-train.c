/* wsd-train.c -- warmup-stable-decay against cosine on the small GPT of Chapter 6, and
 * the cooldown-length sweep (Hagele et al. 2024, arXiv:2405.18392; Hu et al. 2024,
 * MiniCPM, arXiv:2404.06395).
 *
 * One invocation trains ONE seed (so that make -j spreads the seeds over the cores):
 * the model is lib/gpt.h's (nanoGPT's GPT-2 without dropout), byte-level on Debian's
 * fortunes (lib/text.h), AdamW in the two groups of Chapter 6 (weight decay on the
 * Linear weights only). Every run of the seed starts from the same initial weights and
 * draws the same windows at the same step, so the arms are paired. The runs:
 *
 *   stable   warmup:T=W then constant at the peak lr, up to the largest budget; its
 *            validation loss at each budget is the arm "const" (a cooldown of 0 %).
 *   wsd      branched from the stable run: at step b = B - D it is copied (weights,
 *            AdamW's moments and step count, the window stream) and the copy runs a
 *            cooldown of D = round(frac B) steps to lr 0 at B,
 *                eta_t = peak (1 - sqrt((t - b) / D))            shape sqrt ("1-sqrt")
 *                eta_t = peak (1 - (t - b) / D)                  shape linear
 *            (lib/sched.h's wsd term; the schedule of the branch, written out, is
 *            "warmup:T=W,constant:T=b-W,wsd:T=D:decay=1:shape=S" -- the same lr as the
 *            stable run up to b, so the branch IS that WSD run, at the cost of D steps).
 *            At every budget with --frac, and at the largest budget with each of
 *            --sweep (shape sqrt), and --linear (shape linear).
 *   cos      warmup:T=W then cosine from the peak to --cos-min x peak at B, trained from
 *            scratch for each budget (it must know B from the start); "cos0" the same to
 *            0, at the largest budget only.
 *
 * The update, where it happens (train_step; the AdamW rule is in lib/optim.c):
 *   x, y = windows of the training stream                     // (B, T) ids each
 *   loss = mean cross-entropy of logits(x) against y; grads = d loss / d theta
 *   eta_t = sched(t, peak); theta = AdamW(theta, grads, eta_t)
 *
 * Outputs: --summary, one row per arm (its validation loss at its budget, on fixed
 * windows of the held-out entries, and the steps it cost); --curves, the validation loss
 * every --eval-every steps of every run. --from merges the summaries of several seeds
 * into --numbers (the README's) and --grid (median and range per arm, for the figures),
 * without training. Leaves out, as Chapter 6: gradient clipping, dropout.
 */
#include "gd.h"
#include "gpt.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARMS 64
#define MAX_ROWS 4096

/* ------------------------------------------------------------------------------------
 * Data: the corpus, the split, fixed validation windows (as ch06-gpt). */

typedef struct {
    gd_corpus corpus;
    gd_vocab vocab;
    gd_tokens train, val;
    int nval;
    int *vx, *vy;          /* (nval, T) */
} text_data;

static int load_data(text_data *d, const char *dir, double val_frac, uint64_t split_seed, int nval, int T) {
    memset(d, 0, sizeof *d);
    if (gd_corpus_load(&d->corpus, dir) != 0) return -1;
    gd_vocab_build(&d->vocab, &d->corpus);
    if (gd_text_split(&d->train, &d->val, &d->corpus, &d->vocab, val_frac, split_seed) != 0) return -1;
    if (d->val.n < (long)T + 1 + nval || d->train.n < (long)T + 1)
        return gd_seterr("%s: the validation split (%ld bytes) is too small for %d windows of %d",
                         gd_fortunes_dir(dir), d->val.n, nval, T);
    d->nval = nval;
    d->vx = malloc((size_t)nval * T * sizeof *d->vx);
    d->vy = malloc((size_t)nval * T * sizeof *d->vy);
    if (!d->vx || !d->vy) return gd_seterr("out of memory");
    /* nval windows evenly spaced over the validation stream: the same for every run */
    const long last = d->val.n - T - 1;
    for (int i = 0; i < nval; i++) {
        long o = nval > 1 ? (long)((double)last * i / (nval - 1)) : 0;
        gd_text_window(d->vx + (size_t)i * T, d->vy + (size_t)i * T, &d->val, o, T);
    }
    return 0;
}

static void free_data(text_data *d) {
    free(d->vx), free(d->vy);
    gd_tokens_free(&d->train), gd_tokens_free(&d->val);
    gd_corpus_free(&d->corpus);
}

static double val_loss(gd_gpt *m, const text_data *d, int T) {
    double sum = 0;
    for (int i = 0; i < d->nval; i += m->max_batch) {
        int B = d->nval - i < m->max_batch ? d->nval - i : m->max_batch;
        sum += B * gd_gpt_loss(m, d->vx + (size_t)i * T, d->vy + (size_t)i * T, B, T);
    }
    return sum / d->nval;
}

/* ------------------------------------------------------------------------------------
 * Arms. */

typedef enum { ARM_CONST, ARM_WSD, ARM_COS } arm_kind;

typedef struct {
    char name[16];         /* const, wsd, wsdlin, cos, cos0 */
    arm_kind kind;
    long budget;           /* B: steps of the run */
    double frac;           /* cooldown fraction of B (wsd), 0 for const, cosine floor / peak for cos */
    long branch;           /* wsd, const: the stable run's step it starts from; cos: 0 */
    long cost;             /* steps trained for this arm alone */
    char sched[256];       /* its schedule, relative to the peak lr */
    double val;            /* validation loss at step budget */
} arm;

typedef struct {
    char name[16];
    long budget;
    double frac;
    long branch, cost;
    unsigned long long seed;
    double val;
} row;

/* ------------------------------------------------------------------------------------
 * Training. */

typedef struct {
    gd_gpt m;
    gd_optim *opt;
} net;

static int net_new(net *n, const gd_gpt_config *cfg, int B, uint64_t seed, gd_optim_kind kind,
                   const gd_hparams *hp) {
    if (gd_gpt_init(&n->m, cfg, B, seed) != 0) return -1;
    /* Two groups, as nanoGPT/minGPT make them: decay on the Linear weights only. */
    gd_hparams h0 = *hp;
    h0.weight_decay = 0;
    n->opt = gd_optim_new(kind, hp);
    gd_param *dec = malloc((size_t)n->m.nparams * sizeof *dec), *nodec = malloc((size_t)n->m.nparams * sizeof *nodec);
    if (!n->opt || !dec || !nodec) return gd_seterr("out of memory");
    int nd = 0, nn = 0;
    for (int i = 0; i < n->m.nparams; i++) {
        if (gd_gpt_decays(&n->m, i)) dec[nd++] = n->m.params[i];
        else nodec[nn++] = n->m.params[i];
    }
    int e = (nd && gd_optim_add_group(n->opt, dec, nd, hp) < 0) || (nn && gd_optim_add_group(n->opt, nodec, nn, &h0) < 0);
    free(dec), free(nodec);
    return e ? -1 : 0;
}

static void net_free(net *n) {
    gd_optim_free(n->opt);
    gd_gpt_free(&n->m);
}

/* dst = src: weights and the optimizer's state (moments, step count). */
static int net_copy(net *dst, const net *src) {
    for (int i = 0; i < src->m.nparams; i++)
        memcpy(dst->m.params[i].value->data, src->m.params[i].value->data,
               src->m.params[i].value->size * sizeof(float));
    size_t n = gd_optim_state_size(src->opt);
    void *buf = malloc(n);
    if (!buf) return gd_seterr("out of memory");
    gd_optim_state_write(src->opt, buf);
    int e = gd_optim_state_read(dst->opt, buf, n);
    free(buf);
    return e;
}

typedef struct {
    const text_data *d;
    int B, T;
    int *x, *y;
    long eval_every;
    gd_table *curves;
    unsigned long long seed;
    int nstable;
    long stable_t[MAX_ROWS];
    double stable_v[MAX_ROWS];
} ctx;

/* One update at step t (see the header); returns the batch's loss. */
static double train_step(net *n, const gd_sched *s, long t, gd_rng *rng, ctx *c) {
    gd_text_batch(c->x, c->y, &c->d->train, c->B, c->T, rng);
    double loss = gd_gpt_loss(&n->m, c->x, c->y, c->B, c->T);
    gd_gpt_zero_grad(&n->m);
    gd_gpt_backward(&n->m);
    gd_sched_apply(s, t, n->opt);
    gd_optim_step(n->opt);
    return loss;
}

static void curve_row(ctx *c, const arm *a, long t, double lr, double v) {
    if (c->curves && !strcmp(a->name, "stable")) {
        /* the stable run's rows are kept and written at the end, as one block */
        if (c->nstable < MAX_ROWS) c->stable_t[c->nstable] = t, c->stable_v[c->nstable++] = v;
        return;
    }
    if (c->curves)
        gd_table_row(c->curves, "%s %ld %g %llu %ld %.6g %.5f", a->name, a->budget, a->frac, c->seed, t, lr, v);
}

/* Run n from step `from` to a->budget under a's schedule (peak lr), evaluating every
 * eval_every steps and at the end. Sets a->val (NaN if the loss stops being finite). */
static void run_to_budget(net *n, arm *a, long from, gd_rng *rng, double peak, ctx *c) {
    gd_sched *s = gd_sched_parse(a->sched);
    if (!s) {
        fprintf(stderr, "%s: schedule %s: %s\n", gd_prog(), a->sched, gd_error());
        exit(1);
    }
    a->val = NAN;
    if (from > 0) curve_row(c, a, from, gd_sched_lr(s, from, peak), val_loss(&n->m, c->d, c->T));
    for (long t = from; t < a->budget; t++) {
        if (t > from && t % c->eval_every == 0) curve_row(c, a, t, gd_sched_lr(s, t, peak), val_loss(&n->m, c->d, c->T));
        if (!isfinite(train_step(n, s, t, rng, c))) goto done;
    }
    a->val = val_loss(&n->m, c->d, c->T);
    if (!isfinite(a->val)) a->val = NAN;
    curve_row(c, a, a->budget, gd_sched_lr(s, a->budget, peak), a->val);
    if (c->curves) gd_table_block(c->curves);
done:
    gd_sched_free(s);
}

/* ------------------------------------------------------------------------------------
 * Summaries and numbers. */

#define SUMMARY_COLS "arm budget frac branch cost seed val_loss"

static int read_summary(const char *path, row *rows, int nrows) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "arm\tbudget\tfrac\t", 16) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a summary table of exp-wsd-train", path);
            }
            continue;
        }
        if (nrows == MAX_ROWS) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d rows", path, MAX_ROWS);
        }
        row *r = &rows[nrows];
        if (sscanf(line, "%15s %ld %lf %ld %ld %llu %lf", r->name, &r->budget, &r->frac, &r->branch, &r->cost,
                   &r->seed, &r->val) != 7) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(f), free(line);
            return -1;
        }
        nrows++;
    }
    fclose(f), free(line);
    return nrows;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return isnan(x) ? (isnan(y) ? 0 : 1) : isnan(y) ? -1 : (x > y) - (x < y);
}

/* The validation losses of arm (name, budget, frac) in seed order; returns how many. */
static int losses(const row *rows, int nrows, const char *name, long budget, double frac,
                  unsigned long long *seeds, double *v) {
    int n = 0;
    for (int i = 0; i < nrows; i++)
        if (!strcmp(rows[i].name, name) && rows[i].budget == budget && fabs(rows[i].frac - frac) < 1e-9) {
            if (seeds) seeds[n] = rows[i].seed;
            v[n++] = rows[i].val;
        }
    return n;
}

/* The value of (name, budget, frac) for the given seed, NaN if absent. */
static double loss_of(const row *rows, int nrows, const char *name, long budget, double frac, unsigned long long seed) {
    for (int i = 0; i < nrows; i++)
        if (!strcmp(rows[i].name, name) && rows[i].budget == budget && fabs(rows[i].frac - frac) < 1e-9 &&
            rows[i].seed == seed)
            return rows[i].val;
    return NAN;
}

static double median(const double *v, int n, double *lo, double *hi) {
    double s[MAX_ROWS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *lo = s[0], *hi = s[n - 1];
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Every key of --numbers starts with this and '_' (--key-prefix), so that the tables of
 * the main run and of the learning-rate check never share a key. */
static const char *key_prefix = "wsd";

static void kv(gd_table *t, const char *name, const char *fmt, ...) GD_PRINTF(3, 4);
static void kv(gd_table *t, const char *name, const char *fmt, ...) {
    char key[128], value[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "%.20s_%s", key_prefix, name);
    gd_table_kv(t, key, "%s", value);
}

/* "2.345 (2.301 to 2.390)": median and range over seeds. */
static const char *med_range(char *buf, size_t n, const double *v, int k) {
    double lo, hi, m = median(v, k, &lo, &hi);
    snprintf(buf, n, "%.3f (%.3f to %.3f)", m, lo, hi);
    return buf;
}

/* Paired differences a - b over the seeds that have both; median, range and how many
 * are below 0 (a better). */
typedef struct {
    int n, below;
    double med, lo, hi;
} paired;

static paired pair(const row *rows, int nrows, const char *an, long ab, double af, const char *bn, long bb,
                   double bf) {
    paired p = {0};
    unsigned long long seeds[MAX_ROWS];
    double va[MAX_ROWS], d[MAX_ROWS];
    int na = losses(rows, nrows, an, ab, af, seeds, va);
    for (int i = 0; i < na; i++) {
        double vb = loss_of(rows, nrows, bn, bb, bf, seeds[i]);
        if (isnan(vb) || isnan(va[i])) continue;
        d[p.n] = va[i] - vb;
        p.below += d[p.n] < 0;
        p.n++;
    }
    if (p.n) p.med = median(d, p.n, &p.lo, &p.hi);
    return p;
}

/* "lower than X in every seed (by 0.012 nats, median)", "lower than X in 2 of 3 seeds
 * (median difference -0.004 nats)", "higher than X in every seed (by 0.010 nats, median)". */
static const char *compare(char *buf, size_t n, const paired *d, const char *what) {
    if (d->below == d->n)
        snprintf(buf, n, "lower than %s in every seed (by %.3f nats, median)", what, -d->med);
    else if (d->below == 0)
        snprintf(buf, n, "higher than %s in every seed (by %.3f nats, median)", what, d->med);
    else
        snprintf(buf, n, "lower than %s in %d of %d seeds (median difference %+.3f nats)", what, d->below, d->n, d->med);
    return buf;
}

static const char *pct(char *buf, size_t n, double f) {
    snprintf(buf, n, "%g %%", 100 * f);
    return buf;
}

typedef struct {
    long budgets[8];
    int nbudgets;
    double frac, cos_min, lr;
    gd_floats sweep;
    int linear;
    long warmup;
    long layers, heads, width, context, batch, nval;  /* for the README's description */
} plan;

static int write_numbers(const char *path, const char *grid, const row *rows, int nrows, const plan *p) {
    /* the grid: median and range per arm, for the figures */
    if (grid) {
        gd_table *g = gd_table_open(grid, "arm budget frac n median lo hi cost");
        if (!g) return -1;
        gd_table_provenance(g);
        gd_table_meta(g, "note", "validation loss at the arm's budget over seeds; cost: steps trained for the arm alone");
        char done[MAX_ROWS];
        memset(done, 0, sizeof done);
        for (int i = 0; i < nrows; i++) {
            if (done[i]) continue;
            double v[MAX_ROWS], lo, hi;
            int k = losses(rows, nrows, rows[i].name, rows[i].budget, rows[i].frac, NULL, v);
            for (int j = i; j < nrows; j++)
                if (!strcmp(rows[j].name, rows[i].name) && rows[j].budget == rows[i].budget &&
                    fabs(rows[j].frac - rows[i].frac) < 1e-9)
                    done[j] = 1;
            double m = median(v, k, &lo, &hi);
            gd_table_row(g, "%s %ld %g %d %.5f %.5f %.5f %ld", rows[i].name, rows[i].budget, rows[i].frac, k, m, lo, hi,
                         rows[i].cost);
        }
        if (gd_table_close(g) != 0) return -1;
    }
    gd_table *t = gd_table_open(path, "key value");
    if (!t) return -1;
    gd_table_provenance(t);
    char b1[128], b2[128], b3[128];
    double v[MAX_ROWS];
    unsigned long long seeds[MAX_ROWS];
    const long Bmax = p->budgets[p->nbudgets - 1];
    int nseeds = losses(rows, nrows, "const", Bmax, 0, seeds, v);
    kv(t, "seeds", "%d", nseeds);
    kv(t, "seed_list", "%llu to %llu", seeds[0], seeds[nseeds - 1]);
    kv(t, "frac", "%s", pct(b1, sizeof b1, p->frac));
    kv(t, "cos_min", "%s", pct(b1, sizeof b1, p->cos_min));
    kv(t, "bmax", "%ld", Bmax);
    kv(t, "layers", "%ld", p->layers);
    kv(t, "heads", "%ld", p->heads);
    kv(t, "width", "%ld", p->width);
    kv(t, "context", "%ld", p->context);
    kv(t, "batch", "%ld", p->batch);
    kv(t, "lr", "%.3g", p->lr);
    kv(t, "warmup", "%ld", p->warmup);
    kv(t, "val_windows", "%ld", p->nval);
    kv(t, "bytes", "%ld", Bmax * p->batch * p->context);
    kv(t, "cos_min_lr", "%.3g", p->cos_min * p->lr);
    /* The budgets table: cosine (one run per budget) against WSD branched from one stable run. */
    char tab[8192];
    int o = snprintf(tab, sizeof tab,
                     "| budget (steps) | cosine to %g %% | WSD, %g %% 1-sqrt cooldown | constant (no cooldown) | "
                     "WSD - cosine (paired) | WSD lower |\n|---:|---:|---:|---:|---:|---:|\n",
                     100 * p->cos_min, 100 * p->frac);
    /* what the models at every budget cost: cosine, a run per budget; WSD, the stable run
     * up to the last branch point and one cooldown per budget */
    long cost_cos = 0, cost_wsd = Bmax - (long)llround(p->frac * Bmax);
    for (int i = 0; i < p->nbudgets; i++) {
        long B = p->budgets[i];
        double vc[MAX_ROWS], vw[MAX_ROWS], vk[MAX_ROWS];
        int nc = losses(rows, nrows, "cos", B, p->cos_min, NULL, vc);
        int nw = losses(rows, nrows, "wsd", B, p->frac, NULL, vw);
        int nk = losses(rows, nrows, "const", B, 0, NULL, vk);
        if (!nc || !nw || !nk) {
            gd_table_abort(t);
            return gd_seterr("budget %ld: missing cos, wsd or const rows", B);
        }
        paired d = pair(rows, nrows, "wsd", B, p->frac, "cos", B, p->cos_min);
        char bb[128];
        o += snprintf(tab + o, sizeof tab - o, "| %ld | %s | %s | %s | %+.3f (%+.3f to %+.3f) | %d of %d |\n", B,
                      med_range(b1, sizeof b1, vc, nc), med_range(b2, sizeof b2, vw, nw),
                      med_range(b3, sizeof b3, vk, nk), d.med, d.lo, d.hi, d.below, d.n);
        char key[64];
        snprintf(key, sizeof key, "b%d", i + 1);
        kv(t, key, "%ld", B);
        snprintf(key, sizeof key, "gap_b%d", i + 1);
        kv(t, key, "%+.3f", d.med);
        snprintf(key, sizeof key, "wins_b%d", i + 1);
        kv(t, key, "%d of %d", d.below, d.n);
        snprintf(key, sizeof key, "cos_b%d", i + 1);
        kv(t, key, "%s", med_range(bb, sizeof bb, vc, nc));
        snprintf(key, sizeof key, "wsd_b%d", i + 1);
        kv(t, key, "%s", med_range(bb, sizeof bb, vw, nw));
        snprintf(key, sizeof key, "const_b%d", i + 1);
        kv(t, key, "%s", med_range(bb, sizeof bb, vk, nk));
        paired kc = pair(rows, nrows, "const", B, 0, "wsd", B, p->frac);
        snprintf(key, sizeof key, "cooldown_gain_b%d", i + 1);
        kv(t, key, "%.3f", kc.med);
        cost_cos += B;
        cost_wsd += (long)llround(p->frac * B);
    }
    kv(t, "budgets_table", "%s", tab);
    kv(t, "nbudgets", "%d", p->nbudgets);
    {
        char claim[4096], c1[512];
        int o2 = 0, all_below = 1, all_above = 1;
        for (int i = 0; i < p->nbudgets; i++) {
            paired d = pair(rows, nrows, "wsd", p->budgets[i], p->frac, "cos", p->budgets[i], p->cos_min);
            all_below &= d.below == d.n;
            all_above &= d.below == 0;
            o2 += snprintf(claim + o2, sizeof claim - o2, "%sat %ld steps WSD is %s", i ? "; " : "", p->budgets[i],
                           compare(c1, sizeof c1, &d, "cosine"));
        }
        kv(t, "claim_budgets", "In this setting %s. In detail: %s.",
           all_below   ? "WSD with its branched cooldowns is lower than a cosine run that knew its budget, at every budget and in every seed"
           : all_above ? "cosine is lower than WSD at every budget and in every seed"
                       : "neither schedule is lower at every budget and in every seed",
           claim);
        kv(t, "all_below_cos", "%d", all_below);
    }
    kv(t, "cost_cos", "%ld", cost_cos);
    kv(t, "cost_wsd", "%ld", cost_wsd);
    kv(t, "cost_ratio", "%.2f", (double)cost_wsd / cost_cos);
    /* The cooldown sweep at the largest budget. */
    o = snprintf(tab, sizeof tab,
                 "| cooldown (share of the %ld steps) | validation loss, median (range) | - cosine to %g %% (paired) "
                 "| lower than cosine |\n|---:|---:|---:|---:|\n",
                 Bmax, 100 * p->cos_min);
    double best_med = INFINITY, best_f = 0;
    double fr[GD_FLOATS_MAX + 2];
    int nf = 0;
    fr[nf++] = 0;
    for (int i = 0; i < p->sweep.n; i++) fr[nf++] = p->sweep.v[i];
    int has_frac = 0;
    for (int i = 0; i < nf; i++) has_frac |= fabs(fr[i] - p->frac) < 1e-9;
    if (!has_frac) fr[nf++] = p->frac;
    qsort(fr, (size_t)nf, sizeof *fr, cmp_double);
    for (int i = 0; i < nf; i++) {
        const char *nm = fr[i] == 0 ? "const" : "wsd";
        int k = losses(rows, nrows, nm, Bmax, fr[i], NULL, v);
        if (!k) {
            gd_table_abort(t);
            return gd_seterr("cooldown %g: no rows", fr[i]);
        }
        double lo, hi, m = median(v, k, &lo, &hi);
        if (m < best_med) best_med = m, best_f = fr[i];
        paired d = pair(rows, nrows, nm, Bmax, fr[i], "cos", Bmax, p->cos_min);
        o += snprintf(tab + o, sizeof tab - o, "| %s | %s | %+.3f (%+.3f to %+.3f) | %d of %d |\n",
                      pct(b1, sizeof b1, fr[i]), med_range(b2, sizeof b2, v, k), d.med, d.lo, d.hi, d.below, d.n);
    }
    kv(t, "sweep_table", "%s", tab);
    kv(t, "best_frac", "%s", pct(b1, sizeof b1, best_f));
    {
        char claim[4096], c1[512], c2[512], c3[512];
        int o2 = 0;
        const char *nb = best_f == 0 ? "const" : "wsd";
        paired d0 = pair(rows, nrows, nb, Bmax, best_f, "const", Bmax, 0);
        paired dc = pair(rows, nrows, nb, Bmax, best_f, "cos", Bmax, p->cos_min);
        o2 += snprintf(claim + o2, sizeof claim - o2,
                       "At %ld steps the cooldown with the lowest median validation loss is %s of the run",
                       Bmax, pct(b1, sizeof b1, best_f));
        if (best_f > 0)
            o2 += snprintf(claim + o2, sizeof claim - o2, "; it is %s", compare(c1, sizeof c1, &d0, "no cooldown at all"));
        o2 += snprintf(claim + o2, sizeof claim - o2, " and %s.", compare(c2, sizeof c2, &dc, "cosine to 10 % at the same budget"));
        if (p->linear) {
            paired dl = pair(rows, nrows, "wsd", Bmax, p->frac, "wsdlin", Bmax, p->frac);
            o2 += snprintf(claim + o2, sizeof claim - o2, " At %s, the 1-sqrt cooldown is %s.", pct(b2, sizeof b2, p->frac),
                           compare(c3, sizeof c3, &dl, "the linear cooldown of the same length"));
        }
        kv(t, "claim_sweep", "%s", claim);
    }
    /* linear against 1-sqrt, and the cosine floors */
    if (p->linear) {
        int k = losses(rows, nrows, "wsdlin", Bmax, p->frac, NULL, v);
        if (k) {
            kv(t, "linear", "%s", med_range(b1, sizeof b1, v, k));
            paired d = pair(rows, nrows, "wsd", Bmax, p->frac, "wsdlin", Bmax, p->frac);
            kv(t, "sqrt_minus_linear", "%+.3f (%+.3f to %+.3f)", d.med, d.lo, d.hi);
            kv(t, "sqrt_wins", "%d of %d", d.below, d.n);
        }
    }
    int k = losses(rows, nrows, "cos0", Bmax, 0, NULL, v);
    if (k) {
        kv(t, "cos0", "%s", med_range(b1, sizeof b1, v, k));
        paired d = pair(rows, nrows, "wsd", Bmax, p->frac, "cos0", Bmax, 0);
        kv(t, "wsd_minus_cos0", "%+.3f (%+.3f to %+.3f)", d.med, d.lo, d.hi);
        kv(t, "wsd_wins_cos0", "%d of %d", d.below, d.n);
    }
    return gd_table_close(t);
}

/* ------------------------------------------------------------------------------------ */

static int parse_budgets(const gd_floats *f, plan *p) {
    if (f->n < 1 || f->n > 8) return gd_seterr("--budgets: 1 to 8 budgets");
    p->nbudgets = f->n;
    for (int i = 0; i < f->n; i++) {
        p->budgets[i] = (long)f->v[i];
        if (p->budgets[i] != f->v[i]) return gd_seterr("--budgets: whole numbers of steps, got %g", f->v[i]);
        if (i && p->budgets[i] <= p->budgets[i - 1]) return gd_seterr("--budgets: increasing, got %g after %g", f->v[i], f->v[i - 1]);
    }
    return 0;
}

static int add_wsd(arm *arms, int *na, const char *name, long B, double frac, const char *shape, long W) {
    long D = llround(frac * B), b = B - D;
    if (D < 1) return gd_seterr("a cooldown of %g of %ld steps is less than one step", frac, B);
    if (b <= W) return gd_seterr("a cooldown of %g of %ld steps starts inside the warmup (%ld steps)", frac, B, W);
    if (*na == MAX_ARMS) return gd_seterr("too many arms");
    arm *a = &arms[(*na)++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->kind = ARM_WSD, a->budget = B, a->frac = frac, a->branch = b, a->cost = D;
    snprintf(a->sched, sizeof a->sched, "warmup:T=%ld,constant:T=%ld,wsd:T=%ld:decay=1:shape=%s", W, b - W, D, shape);
    return 0;
}

static int cmp_branch(const void *x, const void *y) {
    const arm *a = x, *b = y;
    return (a->branch > b->branch) - (a->branch < b->branch);
}

int main(int argc, char **argv) {
    const char *optim_s = "adamw:betas=0.9/0.95:weight_decay=0.1";
    const char *data_dir = NULL, *summary = NULL, *curves = NULL, *numbers = NULL, *from = NULL, *grid = NULL;
    long layers = 2, heads = 4, width = 32, context = 32, batch = 16, warmup = 200, nval = 256, eval_every = 200;
    long linear = 1, cos0 = 1, scratch = 0;
    double lr = 3e-3, frac = 0.2, cos_min = 0.1, val_frac = 0.1;
    gd_floats budgets = {3, {1200, 2400, 4800}}, sweep = {4, {0.05, 0.1, 0.2, 0.4}};
    uint64_t seed = 0, split_seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("optim", &optim_s, "optimizer spec (lib/optim.h); its lr is replaced by --lr"),
        GD_OPT_FLOAT("lr", &lr, "peak learning rate of every run", 0, 10, 1),
        GD_OPT_INT("warmup", &warmup, "linear warmup steps of every run", 0, 100000000),
        GD_OPT_FLOATS("budgets", &budgets, "step budgets, increasing: cosine and WSD at each", 1, 1e8, 0),
        GD_OPT_FLOAT("frac", &frac, "cooldown of WSD at every budget, as a fraction of the budget", 0, 1, 1),
        GD_OPT_FLOATS("sweep", &sweep, "cooldown fractions (1-sqrt) tried at the largest budget", 0, 1, 1),
        GD_OPT_INT("linear", &linear, "1: also a linear cooldown of --frac at the largest budget", 0, 1),
        GD_OPT_FLOAT("cos-min", &cos_min, "cosine's final lr as a fraction of the peak", 0, 1, 0),
        GD_OPT_INT("cos0", &cos0, "1: also cosine to 0 at the largest budget", 0, 1),
        GD_OPT_INT("scratch", &scratch, "1: train every WSD run from step 0 instead of branching (a check)", 0, 1),
        GD_OPT_INT("batch-size", &batch, "windows per minibatch (B)", 1, 4096),
        GD_OPT_INT("context", &context, "window length in bytes (T); the model's block size", 1, 4096),
        GD_OPT_INT("layers", &layers, "transformer blocks", 1, 64),
        GD_OPT_INT("heads", &heads, "attention heads", 1, 64),
        GD_OPT_INT("width", &width, "embedding width C (a multiple of --heads)", 1, 4096),
        GD_OPT_SEED("seed", &seed, "the seed (initial weights and windows) of this invocation's runs"),
        GD_OPT_STRING("data", &data_dir, "fortunes directory (default: $GD_FORTUNES or /usr/share/games/fortunes)"),
        GD_OPT_SEED("split-seed", &split_seed, "seed of the train/validation split of the entries"),
        GD_OPT_FLOAT("val-frac", &val_frac, "fraction of the entries held out for validation", 0, 1, 1),
        GD_OPT_INT("val-windows", &nval, "validation windows (evenly spaced over the held-out entries)", 1, 100000),
        GD_OPT_INT("eval-every", &eval_every, "steps between the validation losses of --curves", 1, 100000000),
        GD_OPT_OUT("summary", &summary, "write one row per arm to this table"),
        GD_OPT_OUT("curves", &curves, "write the validation loss of every run every --eval-every steps here"),
        GD_OPT_STRING("from", &from, "no training: read these --summary tables (comma-separated) and write --numbers"),
        GD_OPT_OUT("numbers", &numbers, "with --from: write the numbers the README quotes to this table"),
        GD_OPT_OUT("grid", &grid, "with --from: write the median and range of every arm here"),
        GD_OPT_STRING("key-prefix", &key_prefix, "with --from: the keys of --numbers start with this and '_' (letters)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Warmup-stable-decay (branched from one stable run) against cosine on the small GPT of "
                          "Chapter 6, over step budgets and cooldown lengths; one seed per invocation.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_blas_threads(1);
    plan p = {.frac = frac, .cos_min = cos_min, .lr = lr, .sweep = sweep, .linear = (int)linear, .warmup = warmup,
              .layers = layers, .heads = heads, .width = width, .context = context, .batch = batch, .nval = nval};
    if (parse_budgets(&budgets, &p) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    for (const char *c = key_prefix; ; c++) {
        if (!*c && c > key_prefix) break;
        if (!*c || !((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) || c - key_prefix >= 20) {
            gd_usage_error("--key-prefix: 1 to 20 letters, got '%.40s'", key_prefix);
            return 2;
        }
    }
    if (width % heads) {
        fprintf(stderr, "%s: --width: must be a multiple of --heads (%ld), got %ld\n", gd_prog(), heads, width);
        return 2;
    }
    if (warmup >= p.budgets[0]) {
        fprintf(stderr, "%s: --warmup: must be shorter than the smallest budget (%ld), got %ld\n", gd_prog(), p.budgets[0], warmup);
        return 2;
    }
    const long Bmax = p.budgets[p.nbudgets - 1];
    if (!from && (numbers || grid)) {   /* a training run writes --summary and --curves; they were ignored */
        fprintf(stderr, "%s: --%s: only with --from (the numbers come from the summaries)\n", gd_prog(),
                numbers ? "numbers" : "grid");
        return 2;
    }

    if (from) {
        if (!numbers) {
            fprintf(stderr, "%s: --from needs --numbers\n", gd_prog());
            return 2;
        }
        static row rows[MAX_ROWS];
        int nrows = 0;
        char *list = strdup(from);
        if (!list) return 1;
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            nrows = read_summary(tok, rows, nrows);
            if (nrows < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                free(list);
                return 2;   /* the tables given */
            }
        }
        free(list);
        if (!nrows) {
            fprintf(stderr, "%s: --from: no rows\n", gd_prog());
            return 2;
        }
        if (write_numbers(numbers, grid, rows, nrows, &p) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        return 0;
    }

    /* The arms of this seed. */
    static arm arms[MAX_ARMS];
    int na = 0;
    for (int i = 0; i < p.nbudgets; i++) {
        arm *a = &arms[na++];
        memset(a, 0, sizeof *a);
        snprintf(a->name, sizeof a->name, "const");
        a->kind = ARM_CONST, a->budget = a->branch = p.budgets[i];
        snprintf(a->sched, sizeof a->sched, "warmup:T=%ld,constant", warmup);
    }
    int e = 0;
    for (int i = 0; i < p.nbudgets && !e; i++) e = add_wsd(arms, &na, "wsd", p.budgets[i], frac, "sqrt", warmup);
    for (int i = 0; i < sweep.n && !e; i++)
        if (fabs(sweep.v[i] - frac) > 1e-9) e = add_wsd(arms, &na, "wsd", Bmax, sweep.v[i], "sqrt", warmup);
    if (!e && linear) e = add_wsd(arms, &na, "wsdlin", Bmax, frac, "linear", warmup);
    if (!e && na + p.nbudgets + (int)cos0 > MAX_ARMS) e = gd_seterr("--sweep: too many arms (at most %d in all)", MAX_ARMS);
    if (e) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    for (int i = 0; i < p.nbudgets + (int)cos0; i++) {
        int zero = i == p.nbudgets;
        long B = zero ? Bmax : p.budgets[i];
        arm *a = &arms[na++];
        memset(a, 0, sizeof *a);
        snprintf(a->name, sizeof a->name, zero ? "cos0" : "cos");
        a->kind = ARM_COS, a->budget = B, a->frac = zero ? 0 : cos_min, a->branch = 0, a->cost = B;
        snprintf(a->sched, sizeof a->sched, "warmup:T=%ld,cosine:T=%ld:min=%.17g", warmup, B - warmup,
                 (zero ? 0 : cos_min) * lr);
    }
    if (scratch)
        for (int i = 0; i < na; i++)
            if (arms[i].kind == ARM_WSD) arms[i].cost = arms[i].budget;
    /* the branches in the order the stable run reaches them */
    qsort(arms, (size_t)na, sizeof *arms, cmp_branch);

    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim_s, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    hp.lr = lr;
    const int B = (int)batch, T = (int)context;
    text_data d;
    if (load_data(&d, data_dir, val_frac, split_seed, (int)nval, T) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        free_data(&d);
        return 2;   /* the corpus: missing, damaged or too small */
    }
    gd_gpt_config cfg = {.vocab = d.vocab.size, .block = T, .layers = (int)layers, .heads = (int)heads, .width = (int)width};
    char canon_optim[512];
    gd_optim_format(canon_optim, sizeof canon_optim, kind, &hp);
    gd_table *st = NULL, *ct = NULL;
    if (summary && !(st = gd_table_open(summary, SUMMARY_COLS))) goto io_error;
    if (curves && !(ct = gd_table_open(curves, "arm budget frac seed step lr val_loss"))) goto io_error;
    gd_table *tables[2] = {st, ct};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_provenance(tables[i]);
        gd_table_meta(tables[i], "model", "GPT: %ld layers, %ld heads, width %ld, context %ld, vocab %d (bytes)", layers,
                      heads, width, context, cfg.vocab);
        gd_table_meta(tables[i], "data", "%s: %d entries; %d validation entries (split seed %llu), %d windows of %d",
                      gd_fortunes_dir(data_dir), d.corpus.nentries, d.val.nentries, (unsigned long long)split_seed,
                      d.nval, T);
        gd_table_meta(tables[i], "optim", "%s (weight decay on Linear weights only)", canon_optim);
        gd_table_meta(tables[i], "batch", "%ld windows of %ld bytes", batch, context);
        gd_table_meta(tables[i], "note", "frac: cooldown share of the budget (wsd, wsdlin; 0 for const), cosine's final "
                                         "lr / peak (cos, cos0); cost: steps trained for the arm alone");
    }

    static ctx c;
    c = (ctx){.d = &d, .B = B, .T = T, .eval_every = eval_every, .curves = ct, .seed = seed};
    c.x = malloc((size_t)B * T * sizeof *c.x);
    c.y = malloc((size_t)B * T * sizeof *c.y);
    net main_net, branch_net;
    if (!c.x || !c.y || net_new(&main_net, &cfg, B, seed, kind, &hp) != 0 ||
        net_new(&branch_net, &cfg, B, seed, kind, &hp) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    /* the windows come from their own stream of the seed, apart from the init (as ch06-gpt) */
    const uint64_t data_seed = seed ^ 0x9e3779b97f4a7c15ULL;

    /* Cosine: from scratch, one run per budget (and, with --scratch, every WSD run too:
     * the check that a branch is the WSD run it stands for). */
    for (int i = 0; i < na; i++) {
        if (arms[i].kind != ARM_COS && !(scratch && arms[i].kind == ARM_WSD)) continue;
        net n;
        if (net_new(&n, &cfg, B, seed, kind, &hp) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_rng rng;
        gd_rng_seed(&rng, data_seed);
        run_to_budget(&n, &arms[i], 0, &rng, lr, &c);
        net_free(&n);
        printf("%-7s B %-6ld frac %-5g seed %llu  val %.4f\n", arms[i].name, arms[i].budget, arms[i].frac,
               (unsigned long long)seed, arms[i].val);
        fflush(stdout);
    }

    /* The stable run, with its branches. */
    char stable_spec[128];
    snprintf(stable_spec, sizeof stable_spec, "warmup:T=%ld,constant", warmup);
    gd_sched *stable = gd_sched_parse(stable_spec);
    arm stable_arm = {.name = "stable", .kind = ARM_CONST, .budget = Bmax};
    snprintf(stable_arm.sched, sizeof stable_arm.sched, "%s", stable_spec);
    gd_rng rng;
    gd_rng_seed(&rng, data_seed);
    int next = 0, diverged = 0;
    for (long t = 0; t <= Bmax; t++) {
        if (t % eval_every == 0 && !diverged)
            curve_row(&c, &stable_arm, t, gd_sched_lr(stable, t, lr), val_loss(&main_net.m, &d, T));
        for (; next < na && arms[next].branch <= t; next++) {
            arm *a = &arms[next];
            if (a->kind == ARM_COS || (scratch && a->kind == ARM_WSD)) continue;
            if (a->branch != t) continue;
            if (diverged) {
                a->val = NAN;
            } else if (a->kind == ARM_CONST) {
                a->val = val_loss(&main_net.m, &d, T);
                if (!isfinite(a->val)) a->val = NAN;
                curve_row(&c, a, t, gd_sched_lr(stable, t, lr), a->val);
                if (ct) gd_table_block(ct);
            } else {
                if (net_copy(&branch_net, &main_net) != 0) {
                    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                    return 1;
                }
                gd_rng br = rng;
                run_to_budget(&branch_net, a, t, &br, lr, &c);
            }
            printf("%-7s B %-6ld frac %-5g seed %llu  val %.4f (from step %ld)\n", a->name, a->budget, a->frac,
                   (unsigned long long)seed, a->val, a->branch);
            fflush(stdout);
        }
        if (t == Bmax || diverged) continue;
        if (!isfinite(train_step(&main_net, stable, t, &rng, &c))) diverged = 1;
    }
    for (int i = 0; i < c.nstable && ct; i++)
        gd_table_row(ct, "stable %ld 0 %llu %ld %.6g %.5f", Bmax, (unsigned long long)seed, c.stable_t[i],
                     gd_sched_lr(stable, c.stable_t[i], lr), c.stable_v[i]);
    gd_sched_free(stable);
    for (int i = 0; i < na && st; i++)
        gd_table_row(st, "%s %ld %g %ld %ld %llu %.5f", arms[i].name, arms[i].budget, arms[i].frac, arms[i].branch,
                     arms[i].cost, (unsigned long long)seed, arms[i].val);
    net_free(&main_net);
    net_free(&branch_net);
    free(c.x), free(c.y);
    free_data(&d);
    if (st && gd_table_close(st) != 0) {
        st = NULL;
        goto io_error;
    }
    st = NULL;
    if (ct && gd_table_close(ct) != 0) {
        ct = NULL;
        goto io_error;
    }
    return 0;
io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (st) gd_table_abort(st);
    if (ct) gd_table_abort(ct);
    return 1;
}

/* optimizers.c -- seven optimizers on one problem, and what a loss scale does to them,
 * Chapter 6 (§6.1, §6.3, §6.4).
 *
 * TRAIN (--out): one optimizer (--optim, a spec of optim.h WITHOUT lr) at every lr of a
 * grid (--lr, "1e-3:10:2" = 1e-3 to 10, 2 points per decade, as lib/sweep.h writes
 * grids) and every seed (--seed, --seeds), on the book's small Fashion-MNIST problem:
 * an MLP (--dims, 784-64-10) trained for --epochs (2) over the first --train (5000)
 * images of a fixed split of the training set, batch --batch-size (64), then evaluated
 * on --val (2000) held-out training images of the same split (split seed 0, the same
 * for every run: the sweep setting of Chapter 3). One row per (lr, seed).
 *
 * The loss the optimizer sees is --loss-scale times the cross-entropy: the gradient of
 * c * l is c * grad l, so the program multiplies every gradient by c between the
 * backward pass and the optimizer's step (what backward() of the scaled loss computes,
 * up to rounding). The table records the unscaled loss. Divergence is the trainer's
 * rule (train.h), on the unscaled loss, with a logged window of 10 steps: the run stops
 * when the mean loss of a window is not finite or above 10 times the first batch's.
 *
 * SUMMARY (--from a.tsv,b.tsv,... --numbers --curves): per optimizer and loss scale, per
 * lr, the median / min / max over seeds of the final validation loss (a diverged seed
 * counts as +infinity in the median: it is worse than any finite loss), the best lr
 * (lowest median among the lrs at which no seed diverged, as Chapter 3 grades its sweep)
 * and the good-lr basin: the lrs where no seed diverged and whose median is within
 * --margin (0.1: 10 %) of the best median, l <= (1 + margin) l_best; its width in decades
 * is log10(largest / smallest lr in it) (a noisy median can leave a hole inside: the
 * count of lrs in it is reported too). With --defaults (a committed table of library
 * defaults: optimizer, library, lr or "none", source) it writes how many decades each
 * default lies from the measured best lr, log10(default / best), and the table the text
 * shows. With a run at --loss-scale != 1 for an optimizer, the shift of its best lr.
 *
 * Leaves out: schedules (the lr is constant), weight decay other than AdamW's default,
 * fits between grid points other than the parabola through the best lr and its two
 * neighbours (used only for the loss-scale shift).
 */
#define _GNU_SOURCE /* asprintf */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_EVERY 10     /* steps per window of the divergence rule (train.h) */
#define MAXG 32          /* optimizer x scale groups in a summary */
#define MAXL 32          /* lrs per group */
#define MAXS 32          /* seeds per lr */
#define FLANK_LEVEL 1.5 /* a loss on every curve's slow side: between ln 10 (nothing learned) and the best */
#define COLUMNS "name scale lr seed status diverged_at train_loss val_loss val_acc steps"

/* ---------------------------------------------------------------------------------- */
/* Training */

/* One update on the loss c * l: gd_trainer_step (train.h) with the gradients multiplied
 * by c before the optimizer's step. Returns the batch's unscaled loss l. */
static double scaled_step(gd_trainer *tr, float c) {
    const gd_train_cfg *cfg = &tr->cfg;
    if (tr->pos >= tr->n_train) {   /* a new epoch: reshuffle, as the trainer does */
        gd_rng_shuffle(&tr->rng, tr->order, tr->n_train);
        tr->pos = 0;
        tr->epoch++;
    }
    int B = cfg->batch_size < tr->n_train - tr->pos ? cfg->batch_size : tr->n_train - tr->pos;
    gd_images_batch(tr->X, tr->y, cfg->train, tr->order + tr->pos, B);   /* X (B, 784), y (B) */
    tr->pos += B;
    gd_optim_zero_grad(tr->opt);
    double loss = gd_mlp_loss(&tr->model, tr->X, tr->y, B);
    gd_mlp_backward(&tr->model, tr->y, B);
    if (c != 1.0f)   /* grad (c * l) = c * grad l */
        for (int p = 0; p < tr->model.nparams; p++) {
            gd_tensor *g = tr->model.params[p].grad;
            for (size_t j = 0; j < g->size; j++) g->data[j] *= c;
        }
    gd_optim_step(tr->opt);
    tr->step++;
    return loss;
}

typedef struct {
    long diverged_at;                 /* -1: did not diverge */
    double train_loss;                /* mean of the last window */
    double val_loss, val_acc;         /* NaN if diverged */
    long steps;
} run_result;

static int train_one(const gd_train_cfg *cfg, long steps, float scale, const gd_images *ds, const int *val_idx,
                     int n_val, run_result *r) {
    gd_trainer *tr = gd_trainer_new(cfg);
    if (!tr) return -1;
    double first = NAN, window = 0;
    r->diverged_at = -1;
    r->train_loss = r->val_loss = r->val_acc = NAN;
    for (long t = 0; t < steps; t++) {
        double l = scaled_step(tr, scale);
        if (t == 0) first = l;
        window += l;
        if (tr->step % LOG_EVERY == 0 || t == steps - 1) {
            long n = tr->step % LOG_EVERY ? tr->step % LOG_EVERY : LOG_EVERY;
            double mean = window / (double)n;
            window = 0;
            r->train_loss = mean;
            if (!isfinite(mean) || mean > cfg->diverge_factor * first) {   /* the trainer's rule */
                r->diverged_at = tr->step;
                break;
            }
        }
    }
    r->steps = tr->step;
    if (r->diverged_at < 0) gd_trainer_eval(tr, ds, val_idx, n_val, &r->val_loss, &r->val_acc);
    gd_trainer_free(tr);
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Summary */

typedef struct {
    char *name;           /* the optimizer's name as the tables give it (malloc'd: any length) */
    double scale;
    int nlr;
    double lr[MAXL];
    char lr_text[MAXL][24];
    double loss[MAXL][MAXS], acc[MAXL][MAXS];
    int ns[MAXL], ndiv[MAXL];
    /* computed */
    double med[MAXL], lo[MAXL], hi[MAXL], med_acc[MAXL];
    int best, basin_lo, basin_hi, nbasin;   /* basin: lrs within the margin, the smallest, the largest, how many */
} group;

static group groups[MAXG];
static int ngroups;

static group *find_group(const char *name, double scale) {
    for (int i = 0; i < ngroups; i++)
        if (strcmp(groups[i].name, name) == 0 && groups[i].scale == scale) return &groups[i];
    if (ngroups == MAXG) return NULL;
    group *g = &groups[ngroups++];
    memset(g, 0, sizeof *g);
    if (!(g->name = strdup(name))) return NULL;
    g->scale = scale;
    return g;
}

/* Make room for a new lr at position i (entries i.. move up by one). */
static void insert_lr(group *g, int i) {
    int n = g->nlr - i;
    memmove(&g->lr[i + 1], &g->lr[i], (size_t)n * sizeof g->lr[0]);
    memmove(&g->lr_text[i + 1], &g->lr_text[i], (size_t)n * sizeof g->lr_text[0]);
    memmove(&g->loss[i + 1], &g->loss[i], (size_t)n * sizeof g->loss[0]);
    memmove(&g->acc[i + 1], &g->acc[i], (size_t)n * sizeof g->acc[0]);
    memmove(&g->ns[i + 1], &g->ns[i], (size_t)n * sizeof g->ns[0]);
    memmove(&g->ndiv[i + 1], &g->ndiv[i], (size_t)n * sizeof g->ndiv[0]);
    g->ns[i] = g->ndiv[i] = 0;
    g->nlr++;
}

static int fields(char *line, char **f, int max) {
    int n = 0;
    for (char *save = NULL, *s = strtok_r(line, "\t\n", &save); s && n < max; s = strtok_r(NULL, "\t\n", &save))
        f[n++] = s;
    return n;
}

static int read_runs(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0, lineno = 0;
    while (getline(&line, &line_cap, f) > 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char *fl[16];
        int n = fields(line, fl, 16);
        if (!header) {
            if (n != 10 || strcmp(fl[0], "name") != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: line %d: not a table of this program (columns " COLUMNS ")", path, lineno);
            }
            header = 1;
            continue;
        }
        if (n != 10) {
            fclose(f), free(line);
            return gd_seterr("%s: line %d: %d fields, expected 10", path, lineno, n);
        }
        group *g = find_group(fl[0], atof(fl[1]));
        if (!g) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d optimizer/scale groups (or out of memory)", path, MAXG);
        }
        double lr = atof(fl[2]);
        int i;
        for (i = 0; i < g->nlr && g->lr[i] < lr; i++) {   /* lrs kept ascending */
        }
        if (i == g->nlr || g->lr[i] != lr) {
            if (g->nlr == MAXL) {
                fclose(f), free(line);
                return gd_seterr("%s: more than %d lrs for %s", path, MAXL, fl[0]);
            }
            insert_lr(g, i);
            g->lr[i] = lr;
            snprintf(g->lr_text[i], sizeof g->lr_text[i], "%s", fl[2]);
        }
        if (g->ns[i] == MAXS) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d seeds", path, MAXS);
        }
        int diverged = strcmp(fl[4], "diverged") == 0;
        g->loss[i][g->ns[i]] = diverged ? INFINITY : atof(fl[7]);
        g->acc[i][g->ns[i]] = diverged ? NAN : atof(fl[8]);
        g->ns[i]++;
        g->ndiv[i] += diverged;
    }
    fclose(f), free(line);
    if (!header) return gd_seterr("%s: no header line", path);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median of v[0..n) with +inf allowed (numpy.median's convention for even n) */
static double median_inf(const double *v, int n) {
    double s[MAXS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static void analyse(group *g, double margin) {
    g->best = -1;
    for (int i = 0; i < g->nlr; i++) {
        g->med[i] = median_inf(g->loss[i], g->ns[i]);
        double lo = INFINITY, hi = -INFINITY, acc[MAXS];
        int na = 0;
        for (int k = 0; k < g->ns[i]; k++) {
            if (isfinite(g->loss[i][k])) lo = fmin(lo, g->loss[i][k]), hi = fmax(hi, g->loss[i][k]);
            if (isfinite(g->acc[i][k])) acc[na++] = g->acc[i][k];
        }
        g->lo[i] = isfinite(lo) ? lo : NAN;
        g->hi[i] = isfinite(hi) ? hi : NAN;
        g->med_acc[i] = na == g->ns[i] ? gd_stats_of(acc, na).median : NAN;
        if (g->ndiv[i] == 0 && (g->best < 0 || g->med[i] < g->med[g->best])) g->best = i;
    }
    g->basin_lo = g->basin_hi = g->best;
    g->nbasin = 0;
    if (g->best < 0) return;
    /* the basin: every lr (no seed diverged) whose median is within margin (a fraction) of the best's */
    double limit = g->med[g->best] * (1 + margin);
    for (int i = 0; i < g->nlr; i++)
        if (g->ndiv[i] == 0 && g->med[i] <= limit) {
            if (i < g->basin_lo) g->basin_lo = i;
            if (i > g->basin_hi) g->basin_hi = i;
            g->nbasin++;
        }
}

/* The minimum of the parabola through (log10 lr, median loss) at the best lr and its two
 * neighbours, in log10 lr; the best grid point itself at the edge of the grid. */
static double vertex(const group *g) {
    int b = g->best;
    if (b <= 0 || b >= g->nlr - 1 || !isfinite(g->med[b - 1]) || !isfinite(g->med[b + 1])) return log10(g->lr[b]);
    double x0 = log10(g->lr[b - 1]), x1 = log10(g->lr[b]), x2 = log10(g->lr[b + 1]);
    double y0 = g->med[b - 1], y1 = g->med[b], y2 = g->med[b + 1];
    double d = (x0 - x1) * (x0 - x2) * (x1 - x2);
    double A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / d;
    double Bc = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / d;
    if (A <= 0) return x1;
    return -Bc / (2 * A);
}

/* Where the median loss first falls below level, scanning up from the smallest lr: log10 lr,
 * interpolated linearly in log10 lr between the two grid points around it (the curve's
 * left flank, where a run is too slow rather than unstable); NaN if it is not crossed
 * there. */
static double flank(const group *g, double level) {
    int i = 0;
    while (i < g->nlr && g->med[i] > level) i++;
    if (i == 0 || i == g->nlr) return NAN;
    double x0 = log10(g->lr[i - 1]), x1 = log10(g->lr[i]), y0 = g->med[i - 1], y1 = g->med[i];
    return x0 + (y0 - level) / (y0 - y1) * (x1 - x0);
}

static const char *display_name(const char *name) {
    static const char *map[][2] = {{"sgd", "SGD"},         {"momentum", "SGD + momentum 0.9"},
                                   {"nesterov", "Nesterov 0.9"}, {"adam", "Adam"},
                                   {"adamw", "AdamW"},     {"rmsprop", "RMSprop"},
                                   {"adagrad", "Adagrad"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strcmp(map[i][0], name) == 0) return map[i][1];
    return name;
}

/* An lr as the text writes it: 0.001, 0.00316, 3.16, 1e-05 -> "1e-5" */
static void fmt_lr(char *buf, size_t size, double lr) {
    if (lr >= 1e-4) snprintf(buf, size, "%.3g", lr);
    else {
        int e = (int)floor(log10(lr) + 1e-9);
        double m = lr / pow(10, e);
        if (fabs(m - 1) < 1e-6) snprintf(buf, size, "1e%d", e);
        else snprintf(buf, size, "%.3ge%d", m, e);
    }
}

/* The defaults table: rows "optimizer library lr source" (lr a number or "none"). */
typedef struct {
    char opt[32], lib[64], lr[32], src[256];
} default_row;

static int read_defaults(const char *path, default_row *rows, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int n = 0, header = 0, lineno = 0;
    while (getline(&line, &line_cap, f) > 0) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char *fl[8];
        int k = fields(line, fl, 8);
        if (!header) {
            header = 1;
            if (k != 4 || strcmp(fl[0], "optimizer") != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: line %d: expected the columns optimizer library lr source", path, lineno);
            }
            continue;
        }
        char *end;
        if (k != 4 || (strcmp(fl[2], "none") != 0 && (strtod(fl[2], &end) <= 0 || *end))) {
            fclose(f), free(line);
            return gd_seterr("%s: line %d: expected 4 fields with lr a positive number or none", path, lineno);
        }
        if (n == max) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d rows", path, max);
        }
        /* refused, not cut: a cut name would be another optimizer or library */
        if (strlen(fl[0]) >= sizeof rows[n].opt || strlen(fl[1]) >= sizeof rows[n].lib ||
            strlen(fl[2]) >= sizeof rows[n].lr || strlen(fl[3]) >= sizeof rows[n].src) {
            fclose(f), free(line);
            return gd_seterr("%s: line %d: a field too long (optimizer %zu, library %zu, lr %zu, source %zu characters "
                             "at most)", path, lineno, sizeof rows[n].opt - 1, sizeof rows[n].lib - 1,
                             sizeof rows[n].lr - 1, sizeof rows[n].src - 1);
        }
        snprintf(rows[n].opt, sizeof rows[n].opt, "%s", fl[0]);
        snprintf(rows[n].lib, sizeof rows[n].lib, "%s", fl[1]);
        snprintf(rows[n].lr, sizeof rows[n].lr, "%s", fl[2]);
        snprintf(rows[n].src, sizeof rows[n].src, "%s", fl[3]);
        n++;
    }
    fclose(f), free(line);
    if (!header) return gd_seterr("%s: no header line (optimizer library lr source)", path);
    return n;
}

/* keys may not contain '-' or '.': a library name "torch-2.3" becomes "torch_2_3" */
static void keyify(char *dst, size_t size, const char *s) {
    size_t n = strlen(s) < size - 1 ? strlen(s) : size - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '-' || *p == '.' || *p == ' ') *p = '_';
}

static group *scale1(const char *name) {
    for (int i = 0; i < ngroups; i++)
        if (strcmp(groups[i].name, name) == 0 && groups[i].scale == 1.0) return &groups[i];
    return NULL;
}

static int summary(const char *from, const char *defaults, double margin, const char *numbers, const char *curves) {
    char *list = strdup(from);
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (read_runs(p) != 0) {
            free(list);
            return -2;   /* a table given is missing or not this program's */
        }
    free(list);
    for (int i = 0; i < ngroups; i++) analyse(&groups[i], margin);

    if (curves) {
        gd_table *t = gd_table_open(curves, "name scale lr median min max ndiv nseeds median_acc");
        if (!t) return -1;
        gd_table_meta(t, "what", "final validation loss over seeds, per optimizer, loss scale and lr "
                                 "(median: a diverged seed counts as +inf; min, max: of the seeds that did not diverge)");
        for (int i = 0; i < ngroups; i++) {
            group *g = &groups[i];
            for (int k = 0; k < g->nlr; k++)
                gd_table_row(t, "%s %g %s %.6g %.6g %.6g %d %d %.6g", g->name, g->scale, g->lr_text[k], g->med[k],
                             g->lo[k], g->hi[k], g->ndiv[k], g->ns[k], g->med_acc[k]);
        }
        if (gd_table_close(t) != 0) return -1;
    }
    if (!numbers) return 0;
    gd_table *t = gd_table_open(numbers, "key value");
    if (!t) return -1;
    gd_table_meta(t, "margin", "%g", margin);
    gd_table_kv(t, "opt_margin", "%g", 100 * margin);
    int nseeds = 0;
    /* per optimizer at scale 1: best lr, its loss, basin */
    char md[8192];
    int len = snprintf(md, sizeof md,
                       "| optimizer | lrs tried | best lr | median val. loss at best (range) | accuracy | basin (lrs in it) | width (decades) |\n"
                       "|---|---|---|---|---|---|---|\n");
    const char *lowest = NULL;
    double wmax = -1, wmin = 1e9, lmin = INFINITY;
    for (int i = 0; i < ngroups; i++) {
        group *g = &groups[i];
        if (g->best < 0) {
            gd_table_abort(t);
            return gd_seterr("%s (loss scale %g): every lr diverged in some seed", g->name, g->scale);
        }
        if (g->ns[g->best] > nseeds) nseeds = g->ns[g->best];
        char key[96], a[32], b[32], c[32], lo[32], hi[32];
        double width = log10(g->lr[g->basin_hi] / g->lr[g->basin_lo]);
        int b_ = g->best;
        if (g->scale != 1.0) continue;
        fmt_lr(a, sizeof a, g->lr[b_]);
        fmt_lr(lo, sizeof lo, g->lr[g->basin_lo]);
        fmt_lr(hi, sizeof hi, g->lr[g->basin_hi]);
        fmt_lr(b, sizeof b, g->lr[0]);
        fmt_lr(c, sizeof c, g->lr[g->nlr - 1]);
        snprintf(key, sizeof key, "opt_%.32s_best_lr", g->name);
        gd_table_kv(t, key, "%s", a);
        snprintf(key, sizeof key, "opt_%.32s_best_loss", g->name);
        gd_table_kv(t, key, "%.3f", g->med[b_]);
        snprintf(key, sizeof key, "opt_%.32s_best_acc", g->name);
        gd_table_kv(t, key, "%.1f", 100 * g->med_acc[b_]);
        snprintf(key, sizeof key, "opt_%.32s_loss_at_lowest_lr", g->name);   /* the grid's smallest lr */
        gd_table_kv(t, key, "%.2f", g->med[0]);
        snprintf(key, sizeof key, "opt_%.32s_basin_lo", g->name);
        gd_table_kv(t, key, "%s", lo);
        snprintf(key, sizeof key, "opt_%.32s_basin_hi", g->name);
        gd_table_kv(t, key, "%s", hi);
        snprintf(key, sizeof key, "opt_%.32s_basin_width", g->name);
        gd_table_kv(t, key, "%.1f", width);
        snprintf(key, sizeof key, "opt_%.32s_basin_n", g->name);
        gd_table_kv(t, key, "%d", g->nbasin);
        snprintf(key, sizeof key, "opt_%.32s_basin_at_edge", g->name);
        gd_table_kv(t, key, "%d", g->basin_lo == 0 || g->basin_hi == g->nlr - 1);
        len += snprintf(md + len, sizeof md - (size_t)len, "| %s | %s to %s | %s | %.3f (%.3f to %.3f) | %.1f %% | %s to %s (%d of %d) | %.1f |\n",
                        display_name(g->name), b, c, a, g->med[b_], g->lo[b_], g->hi[b_], 100 * g->med_acc[b_], lo,
                        hi, g->nbasin, g->basin_hi - g->basin_lo + 1, width);
        wmax = fmax(wmax, width);
        wmin = fmin(wmin, width);
        if (g->med[b_] < lmin) lmin = g->med[b_], lowest = g->name;
    }
    gd_table_kv(t, "opt_table", "%s", md);
    {   /* the best lrs across optimizers: smallest, largest; the highest best loss and the next */
        const group *lo = NULL, *hi = NULL, *worst = NULL;
        double second = -INFINITY;
        for (int i = 0; i < ngroups; i++) {
            const group *g = &groups[i];
            if (g->scale != 1.0) continue;
            if (!lo || g->lr[g->best] < lo->lr[lo->best]) lo = g;
            if (!hi || g->lr[g->best] > hi->lr[hi->best]) hi = g;
            if (!worst || g->med[g->best] > worst->med[worst->best]) worst = g;
        }
        for (int i = 0; i < ngroups; i++)
            if (groups[i].scale == 1.0 && &groups[i] != worst) second = fmax(second, groups[i].med[groups[i].best]);
        if (lo) {
            char a[32];
            gd_table_kv(t, "opt_lowest_best", "%s", display_name(lo->name));
            fmt_lr(a, sizeof a, lo->lr[lo->best]);
            gd_table_kv(t, "opt_lowest_best_lr", "%s", a);
            gd_table_kv(t, "opt_highest_best", "%s", display_name(hi->name));
            fmt_lr(a, sizeof a, hi->lr[hi->best]);
            gd_table_kv(t, "opt_highest_best_lr", "%s", a);
            gd_table_kv(t, "opt_best_span", "%.1f", log10(hi->lr[hi->best] / lo->lr[lo->best]));
            const group *sgd = scale1("sgd"), *mom = scale1("momentum");
            if (sgd && mom) {
                gd_table_kv(t, "opt_sgd_over_momentum", "%.3g", sgd->lr[sgd->best] / mom->lr[mom->best]);
                /* the left flanks: where each curve falls below FLANK_LEVEL, and their ratio */
                double fs = flank(sgd, FLANK_LEVEL), fm = flank(mom, FLANK_LEVEL);
                gd_table_kv(t, "opt_flank_level", "%g", FLANK_LEVEL);
                gd_table_kv(t, "opt_flank_sgd", "%.3g", pow(10, fs));
                gd_table_kv(t, "opt_flank_momentum", "%.3g", pow(10, fm));
                gd_table_kv(t, "opt_flank_ratio", "%.3g", pow(10, fs - fm));
            }
            gd_table_kv(t, "opt_worst", "%s", display_name(worst->name));
            gd_table_kv(t, "opt_worst_gap", "%.2f", worst->med[worst->best] - second);
        }
    }
    gd_table_kv(t, "opt_seeds", "%d", nseeds);
    if (lowest) {
        gd_table_kv(t, "opt_lowest", "%s", display_name(lowest));
        /* every optimizer whose basin is as wide as the widest (ties named together) */
        char w[256] = "", n[256] = "";
        for (int i = 0; i < ngroups; i++) {
            group *g = &groups[i];
            if (g->scale != 1.0) continue;
            double width = log10(g->lr[g->basin_hi] / g->lr[g->basin_lo]);
            if (fabs(width - wmax) < 1e-9)
                snprintf(w + strlen(w), sizeof w - strlen(w), "%s%s", w[0] ? ", " : "", display_name(g->name));
            if (fabs(width - wmin) < 1e-9)
                snprintf(n + strlen(n), sizeof n - strlen(n), "%s%s", n[0] ? ", " : "", display_name(g->name));
        }
        gd_table_kv(t, "opt_widest", "%s", w);
        gd_table_kv(t, "opt_widest_width", "%.1f", wmax);
        gd_table_kv(t, "opt_narrowest", "%s", n);
        gd_table_kv(t, "opt_narrowest_width", "%.1f", wmin);
    }

    /* loss scale: per optimizer run at another scale, the shift of its best lr */
    for (int i = 0; i < ngroups; i++) {
        group *g = &groups[i], *g1 = scale1(g->name);
        if (g->scale == 1.0 || !g1) continue;
        char key[96], a[32];
        double grid = g1->lr[g1->best] / g->lr[g->best];
        double fit = pow(10, vertex(g1) - vertex(g));
        snprintf(key, sizeof key, "opt_scale_%.32s_best_lr", g->name);
        fmt_lr(a, sizeof a, g->lr[g->best]);
        gd_table_kv(t, key, "%s", a);
        snprintf(key, sizeof key, "opt_scale_%.32s_factor", g->name);
        gd_table_kv(t, key, "%.3g", grid);
        snprintf(key, sizeof key, "opt_scale_%.32s_factor_fit", g->name);
        gd_table_kv(t, key, "%.3g", fit);
        snprintf(key, sizeof key, "opt_scale_%.32s_scale", g->name);
        gd_table_kv(t, key, "%g", g->scale);
        /* the largest gap between the two curves' medians: SGD's at lr * scale, others' at
         * the same lr (the grids must contain the matching points) */
        int sgd_like = strncmp(g->name, "sgd", 3) == 0;
        double gap = 0;
        int matched = 0;
        for (int k = 0; k < g->nlr; k++) {
            double want = sgd_like ? g->lr[k] * g->scale : g->lr[k];
            for (int m = 0; m < g1->nlr; m++)
                if (fabs(g1->lr[m] / want - 1) < 1e-2 && g->ndiv[k] == 0 && g1->ndiv[m] == 0) {
                    gap = fmax(gap, fabs(g->med[k] - g1->med[m]));
                    matched++;
                }
        }
        snprintf(key, sizeof key, "opt_scale_%.32s_gap", g->name);
        gd_table_kv(t, key, "%.2g", gap);
        snprintf(key, sizeof key, "opt_scale_%.32s_matched", g->name);
        gd_table_kv(t, key, "%d", matched);
    }

    /* the defaults and their distance from the best */
    if (defaults) {
        default_row rows[64];
        int n = read_defaults(defaults, rows, 64);
        if (n < 0) {
            gd_table_abort(t);
            return -2;
        }
        char libs[8][64];
        int nlib = 0;
        for (int r = 0; r < n; r++) {
            int k;
            for (k = 0; k < nlib && strcmp(libs[k], rows[r].lib) != 0; k++) {
            }
            if (k == nlib && nlib == 8) {
                gd_table_abort(t);
                gd_seterr("%s: more than 8 libraries", defaults);
                return -2;
            }
            if (k == nlib) snprintf(libs[nlib++], sizeof libs[0], "%s", rows[r].lib);   /* fits: read_defaults */
        }
        /* the table on the heap: 32 optimizers x 8 libraries did not fit 8 KB */
        char *tab = NULL;
        size_t tab_size = 0;
        FILE *tm = open_memstream(&tab, &tab_size);
        if (!tm) {
            gd_table_abort(t);
            return gd_seterr("out of memory");
        }
        fprintf(tm, "| optimizer | measured best lr |");
        for (int k = 0; k < nlib; k++) fprintf(tm, " %s |", libs[k]);
        fprintf(tm, "\n|---|---|");
        for (int k = 0; k < nlib; k++) fprintf(tm, "---|");
        fprintf(tm, "\n");
        int in_basin = 0, with_default = 0;
        double far = 0, far_adaptive = 0;
        for (int i = 0; i < ngroups; i++) {
            group *g = &groups[i];
            if (g->scale != 1.0) continue;
            char a[32];
            fmt_lr(a, sizeof a, g->lr[g->best]);
            fprintf(tm, "| %s | %s |", display_name(g->name), a);
            for (int k = 0; k < nlib; k++) {
                const default_row *d = NULL;
                for (int r = 0; r < n; r++)
                    if (strcmp(rows[r].opt, g->name) == 0 && strcmp(rows[r].lib, libs[k]) == 0) d = &rows[r];
                if (!d) {
                    fprintf(tm, " not listed |");
                    continue;
                }
                if (strcmp(d->lr, "none") == 0) {
                    fprintf(tm, " none |");
                    continue;
                }
                double lr = atof(d->lr), dist = log10(lr / g->lr[g->best]);
                for (int m = 0; m < g->nlr; m++)   /* the default on the grid: seeds worse there than at the best */
                    if (fabs(g->lr[m] / lr - 1) < 1e-2 && m != g->best && strcmp(libs[k], "PyTorch 2.3") == 0) {
                        int worse = 0;
                        for (int q = 0; q < g->ns[m] && q < g->ns[g->best]; q++) worse += g->loss[m][q] > g->loss[g->best][q];
                        char key[128];
                        snprintf(key, sizeof key, "opt_defworse_%.32s", g->name);
                        gd_table_kv(t, key, "%d of %d", worse, g->ns[m]);
                        snprintf(key, sizeof key, "opt_defgap_%.32s", g->name);   /* median there - best median */
                        gd_table_kv(t, key, "%.2f", g->med[m] - g->med[g->best]);
                    }
                int inside = lr >= g->lr[g->basin_lo] * (1 - 1e-9) && lr <= g->lr[g->basin_hi] * (1 + 1e-9);
                with_default++;
                in_basin += inside;
                far = fmax(far, fabs(dist));
                if (strncmp(g->name, "ada", 3) == 0 || strcmp(g->name, "rmsprop") == 0)   /* the adaptive methods */
                    far_adaptive = fmax(far_adaptive, fabs(dist));
                char key[128], lk[64];
                keyify(lk, sizeof lk, libs[k]);
                snprintf(key, sizeof key, "opt_dist_%.32s_%.48s", g->name, lk);
                gd_table_kv(t, key, "%+.1f", dist);
                fprintf(tm, " %s (%+.1f)%s |", d->lr, dist, inside ? "" : " ✗");
            }
            fprintf(tm, "\n");
        }
        fclose(tm);
        gd_table_kv(t, "opt_defaults_table", "%s", tab);
        free(tab);
        gd_table_kv(t, "opt_defaults_n", "%d", with_default);
        gd_table_kv(t, "opt_defaults_in_basin", "%d", in_basin);
        gd_table_kv(t, "opt_defaults_far", "%.1f", far);
        gd_table_kv(t, "opt_defaults_far_adaptive", "%.1f", far_adaptive);
        /* the sources, one line each */
        char *src = NULL;   /* on the heap too: 64 sources of 255 characters did not fit 8 KB */
        size_t src_size = 0;
        FILE *sm = open_memstream(&src, &src_size);
        if (!sm) {
            gd_table_abort(t);
            return gd_seterr("out of memory");
        }
        for (int r = 0; r < n; r++) {
            int seen = 0;
            for (int q = 0; q < r; q++) seen |= strcmp(rows[q].src, rows[r].src) == 0;
            if (!seen) fprintf(sm, "- %s: <%s>\n", rows[r].lib, rows[r].src);
        }
        fclose(sm);
        gd_table_kv(t, "opt_defaults_sources", "%s", src);
        free(src);
    }
    return gd_table_close(t);
}

/* ---------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-64-10";
    to.optim = "sgd";
    to.batch_size = 64;
    to.seeds = 5;
    const char *lr_grid = "1e-3:10:2", *name = NULL, *out = NULL, *from = NULL, *numbers = NULL, *curves = NULL,
               *defaults = NULL;
    double epochs = 2, scale = 1, margin = 0.1;
    long n_train = 5000, n_val = 2000;
    gd_opt opts[] = {GD_TRAIN_OPTS_MODEL(&to),
                     GD_TRAIN_OPTS_SEEDS(&to),
                     GD_OPT_STRING("lr", &lr_grid, "lrs: a list 0.01,0.1 or LO:HI:PER_DECADE (log-spaced, as lib/sweep.h)"),
                     GD_OPT_STRING("name", &name, "the optimizer's name in the tables (default: the spec)"),
                     GD_OPT_FLOAT("loss-scale", &scale, "the optimizer sees this times the loss", 0, 1e6, 1),
                     GD_OPT_FLOAT("epochs", &epochs, "passes over the training images", 0, 1000, 1),
                     GD_OPT_INT("train", &n_train, "training images (the first of the split)", 1, 58000),
                     GD_OPT_INT("val", &n_val, "held-out training images, evaluated after the last step", 1, 10000),
                     GD_OPT_OUT("out", &out, "train: one row per (lr, seed) to this table"),
                     GD_OPT_STRING("from", &from, "summary: run tables, comma-separated"),
                     GD_OPT_STRING("defaults", &defaults, "summary: table of library defaults (optimizer library lr source)"),
                     GD_OPT_FLOAT("margin", &margin, "summary: the basin: median loss within this fraction of the best median", 0, 10, 1),
                     GD_OPT_OUT("numbers", &numbers, "summary: the numbers the text quotes"),
                     GD_OPT_OUT("curves", &curves, "summary: median/min/max per optimizer, scale and lr"),
                     GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST with one optimizer over a grid of lrs and seeds (--out), "
                          "or summarise such tables (--from): best lr, basin, loss-scale shift, library defaults.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!out == !from) {
        fprintf(stderr, "%s: give either --out (train) or --from (summary)\n", gd_prog());
        return 2;
    }
    /* the name is a field of the table: a blank in it would split the row into more columns */
    if (name && strcspn(name, " \t\n\r\v\f") != strlen(name)) {
        gd_usage_error("--name: no spaces, got '%.60s'", name);
        return 2;
    }
    if (from) {
        if (!numbers && !curves) {
            fprintf(stderr, "%s: --from: give --numbers or --curves\n", gd_prog());
            return 2;
        }
        int e = summary(from, defaults, margin, numbers, curves);
        if (e != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return e == -2 ? 2 : 1;   /* -2: the tables given; -1: writing */
        }
        return 0;
    }

    /* train */
    gd_sweep sw;   /* only for its lr grid parser */
    gd_sweep_init(&sw);
    if (gd_sweep_set_lr(&sw, lr_grid) != 0) {
        fprintf(stderr, "%s: --lr: %s\n", gd_prog(), gd_error());
        gd_sweep_free(&sw);
        return 2;
    }
    if (sw.n_lr > MAXL) {
        fprintf(stderr, "%s: --lr: more than %d lrs\n", gd_prog(), MAXL);
        gd_sweep_free(&sw);
        return 2;
    }
    /* the spec with each lr of the grid: the user's text, however long (a fixed buffer
     * would cut a long --optim short and drop the ":lr=" after it) */
    char *spec = NULL;
    if (asprintf(&spec, "%s:lr=%s", to.optim, sw.lr_text[0]) < 0) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        gd_sweep_free(&sw);
        return 1;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(spec, &kind, &hp) != 0) {   /* a spec with its own lr: "lr given twice" */
        fprintf(stderr, "%s: --optim: %s (give the spec without lr; --lr sets it)\n", gd_prog(), gd_error());
        gd_sweep_free(&sw);
        free(spec);
        return 2;
    }
    gd_train_cfg cfg = gd_train_defaults();
    gd_train_opts to1 = to;
    to1.optim = spec;
    if (gd_train_opts_apply(&to1, &cfg, 2) != 0) {
        gd_sweep_free(&sw);
        free(spec);
        return 2;
    }
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) {
        gd_sweep_free(&sw);
        free(spec);
        return 2;
    }
    /* the runs index n_train images of the split's training part and n_val held out */
    if (gd_images_require(&train, n_train + n_val, "the training set", "--train + --val") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to.data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        gd_sweep_free(&sw);
        free(spec);
        return 2;
    }
    gd_blas_threads(1);
    int *train_idx = malloc((size_t)train.n * sizeof *train_idx), *val_idx = malloc((size_t)n_val * sizeof *val_idx);
    if (!train_idx || !val_idx || gd_split(train_idx, val_idx, train.n, (int)n_val, 0) != 0) {
        fprintf(stderr, "%s: cannot split the training set: %s\n", gd_prog(), gd_error());
        return 1;
    }
    cfg.train = &train;
    cfg.train_idx = train_idx;
    cfg.n_train = (int)n_train;
    cfg.val = NULL;
    cfg.collapse_window = 0;
    cfg.label = "opt";
    long steps_per_epoch = (n_train + to.batch_size - 1) / to.batch_size;
    long steps = (long)ceil(epochs * (double)steps_per_epoch - 1e-9);

    gd_table *t = gd_table_open(out, COLUMNS);
    if (!t) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    const char *nm = name ? name : to.optim;
    gd_table_meta(t, "optim", "%s (lr from the grid)", to.optim);
    gd_table_meta(t, "lr", "%s", lr_grid);
    gd_table_meta(t, "model", "%s, batch %ld, %ld steps (%g epochs of %ld images), val %ld held-out images", to.dims,
                  to.batch_size, steps, epochs, n_train, n_val);
    gd_table_meta(t, "loss_scale", "%g", scale);
    gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed, (unsigned long long)(to.seed + to.seeds - 1));
    gd_table_meta(t, "blas", "%s", gd_blas_info());
    for (int i = 0; i < sw.n_lr; i++) {
        free(spec);
        if (asprintf(&spec, "%s:lr=%s", to.optim, sw.lr_text[i]) < 0) {
            fprintf(stderr, "%s: out of memory\n", gd_prog());
            gd_table_abort(t);
            return 1;
        }
        cfg.optim = spec;
        for (long s = 0; s < to.seeds; s++) {
            cfg.seed = to.seed + (uint64_t)s;
            run_result r;
            if (train_one(&cfg, steps, (float)scale, &train, val_idx, (int)n_val, &r) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                gd_table_abort(t);
                return 1;
            }
            gd_table_row(t, "%s %g %s %llu %s %ld %.6g %.6g %.6g %ld", nm, scale, sw.lr_text[i],
                         (unsigned long long)cfg.seed, r.diverged_at >= 0 ? "diverged" : "ok", r.diverged_at,
                         r.train_loss, r.val_loss, r.val_acc, r.steps);
        }
    }
    if (gd_table_close(t) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    free(train_idx), free(val_idx), free(spec);
    gd_images_free(&train), gd_images_free(&test);
    gd_sweep_free(&sw);
    return 0;
}

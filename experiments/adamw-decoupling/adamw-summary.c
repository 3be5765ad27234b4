/* adamw-summary.c -- the lr x weight-decay grid of Adam + L2 against AdamW (Loshchilov &
 * Hutter 2019, "Decoupled Weight Decay Regularization", ICLR 2019, arXiv:1711.05101,
 * Figure 2), summarized from Chapter 6's runs (ch06-decay --out, one row per optimizer,
 * lr, weight decay and seed): experiments/adamw-decoupling.
 *
 * Writes
 *   --runs     a copy of the runs, with the command that summarized them and the runs'
 *              own header (for the committed results)
 *   --grid     per (optimizer, lr, weight decay): the median held-out error and loss over
 *              the seeds, and whether the cell is its lr's best weight decay (the heat map)
 *   --numbers  the README's numbers: the grids as tables, each lr's best weight decay,
 *              and how the best weight decay moves with the lr:
 *                slope  least-squares slope of log10(best lambda) on log10(lr), over the
 *                       lrs whose best lambda is > 0; 0: the best decay does not move with
 *                       the lr (the basin lies along the axes), 1: it grows in proportion
 *                       (a diagonal); from the median grid, and per seed from each seed's
 *                       own grid (median and range)
 *              For AdamW the same for the per-step decay lr x lambda, which is the paper's
 *              decay (PyTorch multiplies lambda by the lr, the paper by the schedule's
 *              factor only, Chapter 6, 6.6): its slope is lambda's plus 1.
 * Error = 1 - accuracy on the held-out images; a diverged run counts as the worst (+inf).
 */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 8192
#define MAX_SEEDS 32
#define MAX_AX 32
#define FLAT 0.25 /* a slope of at most this size: the best decay does not move with the lr */

typedef struct {
    char optim[8];
    double lr, wd;
    unsigned long long seed;
    long diverged_at;
    double val_loss, val_acc, train_loss;
} row;

static int read_rows(const char *path, row *rows, int n, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "optim\tlr\tweight_decay\tseed\t", 27) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a table of ch06-decay --out", path);
            }
            continue;
        }
        if (n == max) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d runs", path, max);
        }
        row *r = &rows[n];
        char a[64], b[64], c[64];
        if (sscanf(line, "%7s %lf %lf %llu %ld %63s %63s %63s", r->optim, &r->lr, &r->wd, &r->seed, &r->diverged_at, a,
                   b, c) != 8) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(f), free(line);
            return -1;
        }
        r->val_loss = strtod(a, NULL), r->val_acc = strtod(b, NULL), r->train_loss = strtod(c, NULL);
        n++;
    }
    fclose(f), free(line);
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median where NaN counts as +inf */
static double median_inf(const double *v, int n) {
    double s[MAX_SEEDS];
    for (int i = 0; i < n; i++) s[i] = isnan(v[i]) ? INFINITY : v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Add x to the n distinct values v[0..n) unless it is there; the new count, or MAX_AX + 1
 * when it would not fit (a table with too many lrs or decays is refused, not cut). */
static int add_unique(double *v, int n, double x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return n;
    if (n >= MAX_AX) return MAX_AX + 1;
    v[n++] = x;
    return n;
}

/* The index of x in v[0..n), or -1. */
static int index_of(const double *v, int n, double x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return i;
    return -1;
}

/* least-squares slope of y on x (n >= 2 distinct x), else nan */
static double slope(const double *x, const double *y, int n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) mx += x[i] / n, my += y[i] / n;
    for (int i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    return sxx > 0 ? sxy / sxx : NAN;
}

/* each lr's best weight decay index in a (lr, wd) grid of errors; the slope of log10 of
 * the best lambda (times lr^shift) on log10 lr over the lrs whose best is > 0 */
static double best_slope(double err[MAX_AX][MAX_AX], const double *lrs, int nl, const double *wds, int nw, int *best,
                         int *nused) {
    double x[MAX_AX], y[MAX_AX];
    int n = 0;
    for (int l = 0; l < nl; l++) {
        int b = 0;
        for (int w = 1; w < nw; w++)
            if (err[l][w] < err[l][b]) b = w;
        if (best) best[l] = b;
        if (wds[b] > 0 && isfinite(err[l][b])) x[n] = log10(lrs[l]), y[n] = log10(wds[b]), n++;
    }
    if (nused) *nused = n;
    return slope(x, y, n);
}

/* 0.0003 -> "0.0003", 3e-05 -> "3e-05" */
static const char *fmt_g(char *buf, size_t size, double v) {
    snprintf(buf, size, "%g", v);
    return buf;
}

static void kv(gd_table *t, const char *key, const char *fmt, ...) GD_PRINTF(3, 4);
static void kv(gd_table *t, const char *key, const char *fmt, ...) {
    char val[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    gd_table_kv(t, key, "%s", val);
}

/* Everything for one optimizer and one measure (metric 0: held-out error, keys
 * OPTIM_...; 1: held-out loss, keys OPTIM_loss_...); *seed_best gets each seed's lowest
 * value over the grid. The grid table (gt, with metric 0 only) gets both measures and
 * each lr's best weight decay by each. */
static int summarize(gd_table *nt, gd_table *gt, const char *optim, int metric, const row *rows, int nrows,
                     double *seed_best, int *nseeds_out) {
    double lrs[MAX_AX], wds[MAX_AX];
    unsigned long long seeds[MAX_SEEDS];
    int nl = 0, nw = 0, ns = 0;
    for (int i = 0; i < nrows; i++) {
        if (strcmp(rows[i].optim, optim)) continue;
        if (!isfinite(rows[i].lr) || !isfinite(rows[i].wd))
            return gd_seterr("%s: a run with lr %g, weight decay %g", optim, rows[i].lr, rows[i].wd);
        nl = add_unique(lrs, nl, rows[i].lr);
        nw = add_unique(wds, nw, rows[i].wd);
        if (nl > MAX_AX || nw > MAX_AX) return gd_seterr("%s: more than %d lrs or weight decays", optim, MAX_AX);
        int k = 0;
        while (k < ns && seeds[k] != rows[i].seed) k++;
        if (k == ns) {
            if (ns == MAX_SEEDS) return gd_seterr("%s: more than %d seeds", optim, MAX_SEEDS);
            seeds[ns++] = rows[i].seed;
        }
    }
    qsort(lrs, (size_t)nl, sizeof *lrs, cmp_double);
    qsort(wds, (size_t)nw, sizeof *wds, cmp_double);
    if (nl < 2 || nw < 3 || wds[0] != 0) return gd_seterr("%s: need 2 lrs, weight decay 0 and two others", optim);
    static double err[MAX_AX][MAX_AX][MAX_SEEDS], loss[MAX_AX][MAX_AX][MAX_SEEDS];
    static int have[MAX_AX][MAX_AX][MAX_SEEDS];
    memset(have, 0, sizeof have);
    for (int i = 0; i < nrows; i++) {
        if (strcmp(rows[i].optim, optim)) continue;
        int l = index_of(lrs, nl, rows[i].lr), w = index_of(wds, nw, rows[i].wd), s = 0;   /* found: added above */
        while (seeds[s] != rows[i].seed) s++;
        int div = rows[i].diverged_at >= 0 || isnan(rows[i].val_acc) || isnan(rows[i].val_loss);
        err[l][w][s] = div ? NAN : metric == 0 ? 1 - rows[i].val_acc : rows[i].val_loss;
        loss[l][w][s] = div ? NAN : metric == 0 ? rows[i].val_loss : 1 - rows[i].val_acc;
        have[l][w][s] = 1;
    }
    for (int l = 0; l < nl; l++)
        for (int w = 0; w < nw; w++)
            for (int s = 0; s < ns; s++)
                if (!have[l][w][s]) return gd_seterr("%s: no run for lr %g, weight decay %g, seed %llu", optim, lrs[l],
                                                     wds[w], seeds[s]);
    /* the median grid */
    static double med[MAX_AX][MAX_AX], medl[MAX_AX][MAX_AX];
    int bl = 0, bw = 0;
    for (int l = 0; l < nl; l++)
        for (int w = 0; w < nw; w++) {
            med[l][w] = median_inf(err[l][w], ns), medl[l][w] = median_inf(loss[l][w], ns);
            if (med[l][w] < med[bl][bw]) bl = l, bw = w;
        }
    int best[MAX_AX], bestl[MAX_AX], nused;
    double sl = best_slope(med, lrs, nl, wds, nw, best, &nused);
    best_slope(medl, lrs, nl, wds, nw, bestl, NULL);
    for (int l = 0; l < nl && gt && metric == 0; l++) {
        for (int w = 0; w < nw; w++)
            gd_table_row(gt, "%s %g %g %d %d %.5g %.5g %d %d", optim, lrs[l], wds[w], l, w, med[l][w], medl[l][w],
                         w == best[l], w == bestl[l]);
        gd_table_block(gt);
    }
    /* per seed: its own grid's slope */
    double sls[MAX_SEEDS];
    int nsl = 0;
    static double one[MAX_AX][MAX_AX];
    for (int s = 0; s < ns; s++) {
        for (int l = 0; l < nl; l++)
            for (int w = 0; w < nw; w++) one[l][w] = isnan(err[l][w][s]) ? INFINITY : err[l][w][s];
        int nu;
        double v = best_slope(one, lrs, nl, wds, nw, NULL, &nu);
        if (isfinite(v)) sls[nsl++] = v;
        double b = INFINITY;
        for (int l = 0; l < nl; l++)
            for (int w = 0; w < nw; w++) b = fmin(b, one[l][w]);
        seed_best[s] = b;
    }
    *nseeds_out = ns;
    gd_stats ss = gd_stats_of(sls, nsl);
    char key[96], b1[32], b2[32], o[32];
    /* the key stem: adam, adam_loss, adamw, adamw_loss */
    snprintf(o, sizeof o, "%s%s", optim, metric ? "_loss" : "");
    double scale = metric ? 1 : 100;        /* error in %, loss as it is */
    const char *cell = metric ? " %.3f |" : " %.1f |", *bcell = metric ? " **%.3f** |" : " **%.1f** |";
    /* the grid as a table: median error in %, each lr's best in bold */
    char md[8192];
    int ml = snprintf(md, sizeof md, "| $\\eta$ \\ $\\lambda$ |");
    for (int w = 0; w < nw; w++) ml += snprintf(md + ml, sizeof md - ml, " %s |", fmt_g(b1, sizeof b1, wds[w]));
    ml += snprintf(md + ml, sizeof md - ml, "\n|---:|");
    for (int w = 0; w < nw; w++) ml += snprintf(md + ml, sizeof md - ml, "---:|");
    for (int l = 0; l < nl && ml < (int)sizeof md - 600; l++) {
        ml += snprintf(md + ml, sizeof md - ml, "\n| %s |", fmt_g(b1, sizeof b1, lrs[l]));
        for (int w = 0; w < nw; w++)
            ml += snprintf(md + ml, sizeof md - ml, w == best[l] ? bcell : cell, scale * med[l][w]);
    }
    snprintf(key, sizeof key, "%s_grid", o), kv(nt, key, "%s", md);
    /* each lr's best lambda, as a list */
    char list[2048];
    int len = 0;
    double lo = INFINITY, hi = 0;
    for (int l = 0; l < nl; l++) {
        len += snprintf(list + len, sizeof list - len, "%s%s: %s", l ? ", " : "", fmt_g(b1, sizeof b1, lrs[l]),
                        fmt_g(b2, sizeof b2, wds[best[l]]));
        if (wds[best[l]] > 0) lo = fmin(lo, wds[best[l]]), hi = fmax(hi, wds[best[l]]);
    }
    snprintf(key, sizeof key, "%s_bestwd_list", o), kv(nt, key, "%s", list);
    snprintf(key, sizeof key, "%s_bestwd_n", o), kv(nt, key, "%d", nused);
    snprintf(key, sizeof key, "%s_wd_decades", o), kv(nt, key, "%.1f", nused ? log10(hi / lo) : NAN);
    snprintf(key, sizeof key, "%s_slope", o), kv(nt, key, "%.2f", sl);
    snprintf(key, sizeof key, "%s_slope_seeds_med", o), kv(nt, key, "%.2f", ss.median);
    snprintf(key, sizeof key, "%s_slope_seeds_lo", o), kv(nt, key, "%.2f", ss.min);
    snprintf(key, sizeof key, "%s_slope_seeds_hi", o), kv(nt, key, "%.2f", ss.max);
    snprintf(key, sizeof key, "%s_slope_seeds_n", o), kv(nt, key, "%d", nsl);
    /* every seed's slope, and how many are positive (the best decay grows with the lr)
     * or flat (|slope| <= FLAT: it moves less than FLAT decades per decade of lr) */
    char sl_list[512];
    int sll = 0, pos = 0, flat = 0;
    for (int k = 0; k < nsl; k++) {
        sll += snprintf(sl_list + sll, sizeof sl_list - sll, "%s%.2f", k ? ", " : "", sls[k]);
        pos += sls[k] > 0, flat += fabs(sls[k]) <= FLAT;
    }
    snprintf(key, sizeof key, "%s_slope_seeds", o), kv(nt, key, "%s", nsl ? sl_list : "none");
    snprintf(key, sizeof key, "%s_slope_pos", o), kv(nt, key, "%d of %d", pos, nsl);
    snprintf(key, sizeof key, "%s_slope_flat", o), kv(nt, key, "%d of %d", flat, nsl);
    if (!strcmp(optim, "adamw")) {
        /* the paper's decay per step, lr x lambda: slope + 1 */
        snprintf(key, sizeof key, "%s_product_slope", o), kv(nt, key, "%.2f", sl + 1);
        snprintf(key, sizeof key, "%s_product_slope_seeds_med", o), kv(nt, key, "%.2f", ss.median + 1);
        snprintf(key, sizeof key, "%s_product_slope_seeds_lo", o), kv(nt, key, "%.2f", ss.min + 1);
        snprintf(key, sizeof key, "%s_product_slope_seeds_hi", o), kv(nt, key, "%.2f", ss.max + 1);
    }
    snprintf(key, sizeof key, "%s_best_lr", o), kv(nt, key, "%s", fmt_g(b1, sizeof b1, lrs[bl]));
    snprintf(key, sizeof key, "%s_best_wd", o), kv(nt, key, "%s", fmt_g(b1, sizeof b1, wds[bw]));
    snprintf(key, sizeof key, "%s_best", o), kv(nt, key, metric ? "%.3f" : "%.1f", scale * med[bl][bw]);
    int b0 = 0;
    for (int l = 1; l < nl; l++)
        if (med[l][0] < med[b0][0]) b0 = l;
    snprintf(key, sizeof key, "%s_nowd_lr", o), kv(nt, key, "%s", fmt_g(b1, sizeof b1, lrs[b0]));
    snprintf(key, sizeof key, "%s_nowd", o), kv(nt, key, metric ? "%.3f" : "%.1f", scale * med[b0][0]);
    snprintf(key, sizeof key, "%s_nlr", o), kv(nt, key, "%d", nl);
    snprintf(key, sizeof key, "%s_nwd", o), kv(nt, key, "%d", nw);
    if (!strcmp(o, "adam")) kv(nt, "seeds", "%d", ns), kv(nt, "flat", "%.2f", FLAT);
    printf("%s: best %.3g at lr %g, lambda %g; best lambda per lr: %s; slope %.2f (seeds %.2f, %.2f to %.2f)\n", o,
           scale * med[bl][bw], lrs[bl], wds[bw], list, sl, ss.median, ss.min, ss.max);
    return 0;
}

int main(int argc, char **argv) {
    const char *from = NULL, *runs_out = NULL, *grid = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_STRING("from", &from, "tables of ch06-decay --out (comma-separated): Adam + L2 and AdamW runs"),
        GD_OPT_OUT("runs", &runs_out, "write a copy of the runs here"),
        GD_OPT_OUT("grid", &grid, "write the median grid here (the heat map)"),
        GD_OPT_OUT("numbers", &numbers, "write the README's numbers here"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Summarize an lr x weight-decay grid of Adam + L2 and AdamW runs (ch06-decay --out): "
                          "held-out error per cell, each lr's best weight decay and how it moves with the lr "
                          "(experiments/adamw-decoupling).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!from) {
        fprintf(stderr, "%s: --from: give the tables of ch06-decay --out\n", gd_prog());
        return 2;
    }
    if (!runs_out && !grid && !numbers) {
        fprintf(stderr, "%s: nothing to write: give --runs, --grid or --numbers\n", gd_prog());
        return 2;
    }
    static row rows[MAX_RUNS];
    int nrows = 0;
    char *list = strdup(from);
    if (!list) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
        if ((nrows = read_rows(p, rows, nrows, MAX_RUNS)) < 0) {
            fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
            free(list);
            return 2;   /* the tables given */
        }
    if (nrows == 0) {   /* "," or tables without rows */
        gd_usage_error("--from: no runs in '%s'", from);
        free(list);
        return 2;
    }
    gd_table *rt = NULL, *gt = NULL, *nt = NULL;
    if (runs_out && !(rt = gd_table_open(runs_out, "optim lr weight_decay seed diverged_at val_loss val_acc train_loss")))
        goto io_error;
    if (grid && !(gt = gd_table_open(grid, "optim lr weight_decay i_lr i_wd val_err val_loss best_err best_loss")))
        goto io_error;
    if (!(nt = gd_table_open(numbers ? numbers : "/dev/null", "key value"))) goto io_error;
    if (rt) {
        gd_table_provenance(rt);
        gd_table_meta(rt, "program", "adamw-summary: the rows of %s", from);
        /* the runs' own headers */
        strcpy(list, from);
        for (char *p = strtok(list, ","); p; p = strtok(NULL, ",")) {
            FILE *f = fopen(p, "r");
            char *line = NULL;   /* whole lines, however long: a header line is never cut */
            size_t cap = 0;
            while (f && getline(&line, &cap, f) > 0 && line[0] == '#') {
                line[strcspn(line, "\n")] = 0;
                gd_table_meta(rt, "runs", "%s", line[1] ? line + 2 : "");
            }
            free(line);
            if (f) fclose(f);
        }
        for (int i = 0; i < nrows; i++)
            gd_table_row(rt, "%s %g %g %llu %ld %.6g %.6g %.6g", rows[i].optim, rows[i].lr, rows[i].wd, rows[i].seed,
                         rows[i].diverged_at, rows[i].val_loss, rows[i].val_acc, rows[i].train_loss);
    }
    if (gt) {
        gd_table_provenance(gt);
        gd_table_meta(gt, "values", "val_err = 1 - accuracy on the held-out images, val_loss: medians over the seeds "
                      "(a diverged run counts as +inf); best_err, best_loss: 1 where the lr's median is lowest");
    }
    gd_table_provenance(nt);
    /* the setting, from the first table's header (ch06-decay writes model, training,
     * judged on, seeds) */
    strcpy(list, from);
    const char *first = strtok(list, ",");   /* not NULL: a table was read */
    FILE *f0 = first ? fopen(first, "r") : NULL;
    char *l0 = NULL;
    size_t cap0 = 0;
    const char *setting[][2] = {{"# model: ", "model"}, {"# training: ", "training"}, {"# judged on: ", "judged"},
                                {"# seeds: ", "seed_list"}};
    while (f0 && getline(&l0, &cap0, f0) > 0 && l0[0] == '#') {
        l0[strcspn(l0, "\n")] = 0;
        for (int k = 0; k < 4; k++)
            if (!strncmp(l0, setting[k][0], strlen(setting[k][0]))) kv(nt, setting[k][1], "%s", l0 + strlen(setting[k][0]));
    }
    free(l0);
    if (f0) fclose(f0);
    free(list);
    const char *names[2] = {"adam", "adamw"};
    double best[2][MAX_SEEDS];
    int nseeds[2] = {0, 0};
    for (int metric = 0; metric < 2; metric++)
    for (int o = 0; o < 2; o++) {
        int any = 0;
        for (int i = 0; i < nrows && !any; i++) any = !strcmp(rows[i].optim, names[o]);
        if (!any) {
            fprintf(stderr, "%s: --from: no %s runs\n", gd_prog(), names[o]);
            goto abort;
        }
        double b[MAX_SEEDS];
        if (summarize(nt, gt, names[o], metric, rows, nrows, b, &nseeds[o]) != 0) {
            fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
            goto abort;
        }
        if (metric == 0) memcpy(best[o], b, sizeof b);
    }
    if (nseeds[0] == nseeds[1]) {
        /* paired: each seed's best cell, AdamW minus Adam + L2, in points of error */
        double d[MAX_SEEDS];
        int lower = 0;
        for (int s = 0; s < nseeds[0]; s++) d[s] = 100 * (best[1][s] - best[0][s]), lower += d[s] < 0;
        gd_stats ds = gd_stats_of(d, nseeds[0]);
        kv(nt, "adamw_lower", "%d of %d", lower, nseeds[0]);
        kv(nt, "diff_med", "%+.1f", ds.median);
        kv(nt, "diff_lo", "%+.1f", ds.min);
        kv(nt, "diff_hi", "%+.1f", ds.max);
    }
    if ((rt && gd_table_close(rt) != 0) || (gt && gd_table_close(gt) != 0) || gd_table_close(nt) != 0) goto io_error;
    return 0;

abort:   /* the runs given do not make the grid: the user's input */
    if (rt) gd_table_abort(rt);
    if (gt) gd_table_abort(gt);
    if (nt) gd_table_abort(nt);
    return 2;
io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

/* wsd-best.c -- experiments/wsd: each schedule at its own best peak learning rate.
 *
 * No training: reads --summary tables of exp-wsd-train (each trained at ONE peak lr, read
 * from the table's "# optim: ...:lr=X:..." line; one seed per table) and, at --budget,
 * for cosine ("cos", to --cos-min of the peak) and WSD ("wsd", a --frac cooldown):
 *
 *   - the grid: per peak lr, the median and range over seeds of each, and the paired
 *     difference WSD - cosine (same seed, same peak);
 *   - each schedule's best peak: the lowest median over seeds (a run that diverged has a
 *     non-finite loss and never wins), and whether it is bracketed (a peak lower and one
 *     higher on the grid);
 *   - WSD at its best peak against cosine at its best peak, paired by seed: the median
 *     of the differences and in how many seeds WSD is lower.
 *
 * Writes --numbers (key value, keys prefixed --key-prefix "_") for the README, and --grid
 * (one row per peak lr, schedule and seed) for the figure.
 */
#include "cli.h"
#include "out.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096
#define MAX_LRS 32
#define MAX_SEEDS 64

typedef struct {
    char arm[16];
    long budget;
    double frac, lr, val;
    long seed;
} row;

/* Read one summary table; its peak lr from the "# optim:" line. Returns the new count. */
static int read_summary(const char *path, row *rows, int n) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    double lr = NAN;
    int header = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (!strncmp(line, "# optim:", 8)) {
            const char *p = strstr(line, ":lr=");
            if (p) lr = strtod(p + 4, NULL);
            continue;
        }
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "arm\tbudget\tfrac\t", 16) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a summary table of exp-wsd-train", path);
            }
            if (!(lr > 0)) {
                fclose(f), free(line);
                return gd_seterr("%s: no '# optim: ...:lr=' line before the rows", path);
            }
            continue;
        }
        if (n == MAX_ROWS) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d rows in all", path, MAX_ROWS);
        }
        row *r = &rows[n];
        long branch, cost;
        if (sscanf(line, "%15s %ld %lf %ld %ld %ld %lf", r->arm, &r->budget, &r->frac, &branch, &cost, &r->seed,
                   &r->val) != 7) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(f), free(line);
            return -1;
        }
        r->lr = lr;
        n++;
    }
    fclose(f), free(line);
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    int nx = !isfinite(x), ny = !isfinite(y);
    return nx || ny ? nx - ny : (x > y) - (x < y);
}

/* Median (non-finite values sort last, so a diverged run counts as the worst). */
static double median(const double *v, int n, double *lo, double *hi) {
    double s[MAX_SEEDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *lo = s[0], *hi = s[n - 1];
    if (n % 2) return s[n / 2];
    return isfinite(s[n / 2]) ? 0.5 * (s[n / 2 - 1] + s[n / 2]) : INFINITY;
}

static double loss_of(const row *r, int n, const char *arm, long budget, double frac, double lr, long seed) {
    for (int i = 0; i < n; i++)
        if (!strcmp(r[i].arm, arm) && r[i].budget == budget && fabs(r[i].frac - frac) < 1e-9 &&
            fabs(r[i].lr - lr) <= 1e-9 * lr && r[i].seed == seed)
            return r[i].val;
    return NAN;
}

static const char *prefix = "wsdbest";

static void kv(gd_table *t, const char *name, const char *fmt, ...) GD_PRINTF(3, 4);
static void kv(gd_table *t, const char *name, const char *fmt, ...) {
    char key[128], value[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "%.20s_%s", prefix, name);
    gd_table_kv(t, key, "%s", value);
}

/* "2.345 (2.301 to 2.390)", or "diverged" when the median is not finite. */
static const char *med_range(char *buf, size_t n, const double *v, int k) {
    double lo, hi, m = median(v, k, &lo, &hi);
    if (!isfinite(m)) snprintf(buf, n, "diverged");
    else if (!isfinite(hi)) snprintf(buf, n, "%.3f (%.3f to diverged)", m, lo);
    else snprintf(buf, n, "%.3f (%.3f to %.3f)", m, lo, hi);
    return buf;
}

int main(int argc, char **argv) {
    const char *from = NULL, *numbers = NULL, *grid = NULL;
    long budget = 1200;
    double main_lr = 0.00316, frac = 0.2, cos_min = 0.1;
    gd_opt opts[] = {
        GD_OPT_STRING("from", &from, "--summary tables of exp-wsd-train (comma-separated), one peak lr and seed each"),
        GD_OPT_INT("budget", &budget, "the step budget compared", 1, 100000000),
        GD_OPT_FLOAT("main-lr", &main_lr, "the main peak lr: the grid's peaks are given as multiples of it", 0, 10, 1),
        GD_OPT_FLOAT("frac", &frac, "WSD's cooldown (share of the budget) compared", 0, 1, 1),
        GD_OPT_FLOAT("cos-min", &cos_min, "cosine's final lr / peak of the arm compared", 0, 1, 0),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the README quotes to this table"),
        GD_OPT_OUT("grid", &grid, "write one row per peak lr, schedule and seed here (the figure's data)"),
        GD_OPT_STRING("key-prefix", &prefix, "the keys of --numbers start with this and '_' (letters)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Cosine and WSD over a grid of peak learning rates: each schedule's best peak, and WSD "
                          "against cosine each at its own best peak (no training: reads exp-wsd-train's summaries).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    for (const char *c = prefix;; c++) {
        if (!*c && c > prefix) break;
        if (!*c || !((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) || c - prefix >= 20) {
            gd_usage_error("--key-prefix: 1 to 20 letters, got '%.40s'", prefix);
            return 2;
        }
    }
    if (!from || !numbers) {
        fprintf(stderr, "%s: --from and --numbers are required\n", gd_prog());
        return 2;
    }
    static row rows[MAX_ROWS];
    int n = 0;
    char *list = strdup(from);
    if (!list) return 1;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        n = read_summary(tok, rows, n);
        if (n < 0) {
            fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
            free(list);
            return 2;   /* the tables given */
        }
    }
    free(list);

    /* the peaks (sorted) and the seeds (of cosine at the budget) */
    double lrs[MAX_LRS];
    long seeds[MAX_SEEDS];
    int nl = 0, ns = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].arm, "cos") || rows[i].budget != budget || fabs(rows[i].frac - cos_min) > 1e-9) continue;
        int seen = 0;
        for (int j = 0; j < nl; j++) seen |= fabs(lrs[j] - rows[i].lr) <= 1e-9 * rows[i].lr;
        if (!seen && nl == MAX_LRS) {   /* refused, not cut: every peak given counts */
            fprintf(stderr, "%s: --from: more than %d peak lrs\n", gd_prog(), MAX_LRS);
            return 2;
        }
        if (!seen) lrs[nl++] = rows[i].lr;
        seen = 0;
        for (int j = 0; j < ns; j++) seen |= seeds[j] == rows[i].seed;
        if (!seen && ns == MAX_SEEDS) {
            fprintf(stderr, "%s: --from: more than %d seeds\n", gd_prog(), MAX_SEEDS);
            return 2;
        }
        if (!seen) seeds[ns++] = rows[i].seed;
    }
    if (nl < 1 || ns < 1) {
        fprintf(stderr, "%s: --from: no cosine run at --budget %ld\n", gd_prog(), budget);
        return 2;
    }
    qsort(lrs, (size_t)nl, sizeof *lrs, cmp_double);
    for (int i = 1; i < ns; i++)  /* seeds ascending (insertion sort: a handful) */
        for (int j = i; j > 0 && seeds[j - 1] > seeds[j]; j--) {
            long x = seeds[j];
            seeds[j] = seeds[j - 1], seeds[j - 1] = x;
        }

    /* per peak: the losses of each schedule in seed order; every seed must have both */
    static double vc[MAX_LRS][MAX_SEEDS], vw[MAX_LRS][MAX_SEEDS];
    double mc[MAX_LRS], mw[MAX_LRS], lo, hi;
    for (int l = 0; l < nl; l++) {
        for (int s = 0; s < ns; s++) {
            vc[l][s] = loss_of(rows, n, "cos", budget, cos_min, lrs[l], seeds[s]);
            vw[l][s] = loss_of(rows, n, "wsd", budget, frac, lrs[l], seeds[s]);
            if (isnan(vc[l][s]) || isnan(vw[l][s])) {
                fprintf(stderr, "%s: --from: peak %g, seed %ld: no cos and wsd rows at budget %ld\n", gd_prog(), lrs[l],
                        seeds[s], budget);
                return 2;
            }
        }
        mc[l] = median(vc[l], ns, &lo, &hi);
        mw[l] = median(vw[l], ns, &lo, &hi);
    }
    int bc = 0, bw = 0;
    for (int l = 1; l < nl; l++) {
        if (cmp_double(&mc[l], &mc[bc]) < 0) bc = l;
        if (cmp_double(&mw[l], &mw[bw]) < 0) bw = l;
    }

    if (grid) {
        gd_table *g = gd_table_open(grid, "lr mult arm seed val_loss");
        if (!g) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_table_provenance(g);
        gd_table_meta(g, "note", "validation loss at step %ld; mult: the peak lr / %g; seed median: over the seeds", budget,
                      main_lr);
        for (int l = 0; l < nl; l++)
            for (int s = 0; s < ns; s++) {
                gd_table_row(g, "%g %.2g cos %ld %.5f", lrs[l], lrs[l] / main_lr, seeds[s], vc[l][s]);
                gd_table_row(g, "%g %.2g wsd %ld %.5f", lrs[l], lrs[l] / main_lr, seeds[s], vw[l][s]);
            }
        for (int l = 0; l < nl; l++) {  /* the medians over the seeds: seed "median" */
            gd_table_row(g, "%g %.2g cos median %.5f", lrs[l], lrs[l] / main_lr, mc[l]);
            gd_table_row(g, "%g %.2g wsd median %.5f", lrs[l], lrs[l] / main_lr, mw[l]);
        }
        if (gd_table_close(g) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
    }

    gd_table *t = gd_table_open(numbers, "key value");
    if (!t) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_table_provenance(t);
    char b1[128], b2[128], tab[8192];
    kv(t, "budget", "%ld", budget);
    kv(t, "seeds", "%d", ns);
    kv(t, "npeaks", "%d", nl);
    kv(t, "lr_min", "%.3g", lrs[0]);
    kv(t, "lr_max", "%.3g", lrs[nl - 1]);
    int o = snprintf(tab, sizeof tab,
                     "| peak lr | x the main peak | cosine to %g %% | WSD, %g %% 1-sqrt cooldown | WSD - cosine (paired) "
                     "| WSD lower |\n|---:|---:|---:|---:|---:|---:|\n",
                     100 * cos_min, 100 * frac);
    for (int l = 0; l < nl && o < (int)sizeof tab; l++) {
        double d[MAX_SEEDS];
        int below = 0;
        for (int s = 0; s < ns; s++) d[s] = vw[l][s] - vc[l][s], below += d[s] < 0;
        double m = median(d, ns, &lo, &hi);
        char dd[96];
        if (isfinite(lo) && isfinite(hi)) snprintf(dd, sizeof dd, "%+.3f (%+.3f to %+.3f)", m, lo, hi);
        else snprintf(dd, sizeof dd, "-");
        o += snprintf(tab + o, sizeof tab - (size_t)o, "| %.3g | %.2g | %s%s%s | %s%s%s | %s | %d of %d |\n", lrs[l],
                      lrs[l] / main_lr, l == bc ? "**" : "", med_range(b1, sizeof b1, vc[l], ns), l == bc ? "**" : "",
                      l == bw ? "**" : "", med_range(b2, sizeof b2, vw[l], ns), l == bw ? "**" : "", dd, below, ns);
    }
    kv(t, "table", "%s", tab);
    /* each schedule's best peak, and whether the grid brackets it */
    const char *who[2] = {"cos", "wsd"};
    int best[2] = {bc, bw};
    for (int k = 0; k < 2; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s_lr", who[k]);
        kv(t, key, "%.3g", lrs[best[k]]);
        snprintf(key, sizeof key, "%s_mult", who[k]);
        kv(t, key, "%.2g", lrs[best[k]] / main_lr);
        snprintf(key, sizeof key, "%s_best", who[k]);
        kv(t, key, "%s", med_range(b1, sizeof b1, k ? vw[best[k]] : vc[best[k]], ns));
        snprintf(key, sizeof key, "%s_bracketed", who[k]);
        kv(t, key, "%d", best[k] > 0 && best[k] < nl - 1);
    }
    /* WSD at its best peak against cosine at its best, paired by seed */
    double d[MAX_SEEDS];
    int below = 0;
    for (int s = 0; s < ns; s++) d[s] = vw[bw][s] - vc[bc][s], below += d[s] < 0;
    double gap = median(d, ns, &lo, &hi);
    kv(t, "gap", "%+.3f", gap);
    kv(t, "gap_range", "%+.3f to %+.3f", lo, hi);
    kv(t, "wins", "%d of %d", below, ns);
    char same[160], vs[320], br[200];
    if (bc == bw)
        snprintf(same, sizeof same, "the same for both schedules, %.3g (%.2g times the main peak)", lrs[bc],
                 lrs[bc] / main_lr);
    else
        snprintf(same, sizeof same, "%.3g (%.2g times the main peak) for cosine and %.3g (%.2g times) for WSD", lrs[bc],
                 lrs[bc] / main_lr, lrs[bw], lrs[bw] / main_lr);
    int brc = bc > 0 && bc < nl - 1, brw = bw > 0 && bw < nl - 1;
    if (brc && brw) snprintf(br, sizeof br, "and inside the grid: a lower and a higher peak are both worse");
    else if (!brc && !brw) snprintf(br, sizeof br, "and at the edge of the grid for both, so not bracketed");
    else snprintf(br, sizeof br, "and at the edge of the grid for %s, so not bracketed for it", brc ? "WSD" : "cosine");
    if (below == ns)
        snprintf(vs, sizeof vs, "WSD is lower than cosine in every seed (by %.3f nats, median; %.3f to %.3f)", -gap,
                 -hi, -lo);
    else if (below == 0)
        snprintf(vs, sizeof vs, "WSD is higher than cosine in every seed (by %.3f nats, median; %.3f to %.3f)", gap,
                 lo, hi);
    else
        snprintf(vs, sizeof vs,
                 "WSD is lower than cosine in %d of %d seeds (median difference %+.3f nats, %+.3f to %+.3f): "
                 "neither is lower in every seed",
                 below, ns, gap, lo, hi);
    kv(t, "vs", "%s", vs);
    /* with ns seeds and no difference, all on one side (either) happens 2 / 2^ns of the time */
    kv(t, "sign_chance", "1 in %.0f", ldexp(1, ns - 1));   /* 2^(ns-1), exact in a double (ns <= MAX_SEEDS) */
    kv(t, "claim",
       "At %ld steps the best peak learning rate on this grid (lowest median over the seeds) is %s, %s. Each at its "
       "own best peak, %s.",
       budget, same, br, vs);
    if (gd_table_close(t) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    return 0;
}

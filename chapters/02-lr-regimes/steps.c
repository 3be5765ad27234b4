/* steps.c -- steps to a target loss against the learning rate, over seeds, Chapter 2.
 *
 * Reads the --summary tables of `ch02-regimes --sweep` (any number of seeds, in one
 * table or several; rows are matched by learning rate) and writes, per learning rate,
 * how many seeds reached the target, diverged, or did neither, with the median steps
 * to the target over the seeds (--out); and what the chapter says about the U-shaped
 * curve, as statements over the seeds (--numbers, keys prefixed by --tag): the fastest
 * median, the lr * steps product on the slow side, the largest lr at which every seed
 * reached the target, the smallest at which a seed diverged, the runs that ended at
 * chance (validation loss ln 10), and a whole table of outcomes for the text.
 *
 * The median counts a seed that did not reach the target (or diverged) as infinitely
 * many steps: it is defined when more than half of the seeds reached it.
 * Leaves out: training (ch02-regimes does it).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LR 256
#define MAX_SEEDS 64
#define MAX_TAG 32         /* --tag: key[96] holds tag, '_' and the longest name */
#define CHANCE_TOL 0.02    /* a validation loss within this of ln 10: at chance */

typedef struct {
    double lr;
    int n, reached, diverged, chance;
    double steps[MAX_SEEDS];   /* steps to the target; INFINITY if not reached or diverged */
    double val[MAX_SEEDS];     /* final validation loss; NaN if diverged */
    double jump[MAX_SEEDS];    /* mean |change| of the validation loss between evaluations, second half */
    double div[MAX_SEEDS];     /* step at which it diverged; NaN if it did not */
} lr_row;

static long steps = -1;      /* steps per run, from the tables' "# model:" line */
static long eval_every = -1; /* from the "# target:" line */

static int col_of(char **fields, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(fields[i], name)) return i;
    return -1;
}

/* Add one summary table's rows to rows (matched by lr). 0, or -1 with a reason. */
static int read_summary(const char *path, lr_row *rows, int *nrows, int *target_seen, double *target) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char line[2048];
    int header = 0, c_lr = -1, c_val = -1, c_reached = -1, c_div = -1, c_jump = -1, ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n') && !feof(f)) { /* no table of ch02-regimes has such a line */
            fclose(f);
            return gd_seterr("%s: a line longer than %zu characters: not a ch02-regimes --summary table", path,
                             sizeof line - 2);
        }
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') {
            double t;
            long ev;
            if (sscanf(line, "# target: validation loss %lf, evaluated every %ld steps", &t, &ev) == 2) eval_every = ev;
            if (sscanf(line, "# target: validation loss %lf", &t) == 1) *target = t, *target_seen = 1;
            const char *b = strstr(line, "# model: ") ? strstr(line, ", batch ") : NULL;
            long st, bs;
            if (b && sscanf(b, ", batch %ld, %ld steps", &bs, &st) == 2) steps = st;
            continue;
        }
        if (line[0] == '\0') continue;
        char *fields[32], *save = NULL;
        int n = 0;
        for (char *p = strtok_r(line, "\t", &save); p && n < 32; p = strtok_r(NULL, "\t", &save)) fields[n++] = p;
        if (!header) {
            c_lr = col_of(fields, n, "lr"), c_val = col_of(fields, n, "val_loss");
            c_reached = col_of(fields, n, "reached_at"), c_div = col_of(fields, n, "diverged_at");
            c_jump = col_of(fields, n, "val_jump");
            if (c_lr < 0 || c_val < 0 || c_reached < 0 || c_div < 0 || c_jump < 0) {
                fclose(f);
                return gd_seterr("%s: not a ch02-regimes --summary table", path);
            }
            header = 1;
            continue;
        }
        if (n <= c_lr || n <= c_val || n <= c_reached || n <= c_div || n <= c_jump) {
            fclose(f);
            return gd_seterr("%s: a row with %d fields", path, n);
        }
        double lr = atof(fields[c_lr]);
        int i = 0;
        while (i < *nrows && fabs(rows[i].lr / lr - 1) > 1e-4) i++;
        if (i == *nrows) {
            if (*nrows == MAX_LR) {
                fclose(f);
                return gd_seterr("%s: more than %d learning rates", path, MAX_LR);
            }
            memset(&rows[i], 0, sizeof rows[i]);
            rows[(*nrows)++].lr = lr;
        }
        lr_row *r = &rows[i];
        if (r->n == MAX_SEEDS) {
            fclose(f);
            return gd_seterr("%s: more than %d seeds", path, MAX_SEEDS);
        }
        long div = atol(fields[c_div]), reached = atol(fields[c_reached]);
        int k = r->n++;
        r->steps[k] = INFINITY, r->val[k] = NAN, r->jump[k] = NAN, r->div[k] = NAN;
        if (div >= 0) {
            r->diverged++;
            r->div[k] = (double)div;
        } else {
            r->val[k] = atof(fields[c_val]);
            r->jump[k] = atof(fields[c_jump]);
            if (reached >= 0) r->steps[k] = (double)reached, r->reached++;
            else if (fabs(r->val[k] - log(10.0)) < CHANCE_TOL) r->chance++;
        }
        ok = 1;
    }
    fclose(f);
    if (!ok) return gd_seterr("%s: no rows", path);
    return 0;
}

static int by_lr(const void *a, const void *b) {
    double x = ((const lr_row *)a)->lr, y = ((const lr_row *)b)->lr;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) with INFINITY allowed (not reached): NaN when it is infinite. */
static double censored_median(const double *v, int n) {
    double s[MAX_SEEDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    return isfinite(m) ? m : NAN;
}

/* "140 (100–200)": median and range of the finite values, or "—". */
static void med_range(char *buf, size_t size, const double *v, int n, const char *fmt) {
    double w[MAX_SEEDS];
    for (int i = 0; i < n; i++) w[i] = isfinite(v[i]) ? v[i] : NAN;
    gd_stats st = gd_stats_of(w, n);
    char a[32], lo[32], hi[32];
    if (!fmt) fmt = "%g"; /* never NULL here; gcc 12 -O1 -fsanitize=undefined says "null format string" */
    if (st.n == 0) {
        snprintf(buf, size, "—");
        return;
    }
    snprintf(a, sizeof a, fmt, st.median);
    snprintf(lo, sizeof lo, fmt, st.min);
    snprintf(hi, sizeof hi, fmt, st.max);
    if (!strcmp(lo, hi)) snprintf(buf, size, "%s", a);
    else snprintf(buf, size, "%s (%s–%s)", a, lo, hi);
}

int main(int argc, char **argv) {
    const char *out = NULL, *numbers = NULL, *tag = "x";
    gd_opt opts[] = {
        GD_OPT_OUT("out", &out, "write one row per learning rate to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers (logreg, mlp, ...)"),
        GD_OPT_END};
    /* Options and summary tables in any order (as ch04-summary takes its runs): the
     * "--name value" / "--name=value" / "--help" arguments go to gd_cli_parse (every
     * option here takes a value), every other argument is a table. */
    static char **optv, **files; /* static: live to the end (gd_cli keeps optv for provenance) */
    optv = malloc((size_t)(argc + 1) * sizeof *optv), files = malloc((size_t)(argc + 1) * sizeof *files);
    if (!optv || !files) return fprintf(stderr, "%s: out of memory\n", argv[0]), 1;
    int optc = 0, nfiles = 0;
    optv[optc++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            files[nfiles++] = argv[i];
            continue;
        }
        optv[optc++] = argv[i];
        if (!strchr(argv[i], '=') && strcmp(argv[i], "--help") != 0 && i + 1 < argc) optv[optc++] = argv[++i];
    }
    optv[optc] = NULL;
    int rc = gd_cli_parse(optc, optv,
                          "Steps to the target loss against the learning rate, over the seeds of ch02-regimes "
                          "--sweep summary tables (given as arguments) (Chapter 2).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (nfiles > MAX_SEEDS) {
        fprintf(stderr, "%s: at most %d summary tables, got %d\n", gd_prog(), MAX_SEEDS, nfiles);
        return 2;
    }
    if (strlen(tag) > MAX_TAG) { /* keys are tag_name, in a fixed buffer */
        fprintf(stderr, "%s: --tag: at most %d characters, got %zu\n", gd_prog(), MAX_TAG, strlen(tag));
        return 2;
    }
    if (nfiles == 0) {
        fprintf(stderr, "%s: no summary tables given (ch02-steps [options] SUMMARY.tsv...)\n", gd_prog());
        return 2;
    }

    static lr_row rows[MAX_LR];
    int nrows = 0, target_seen = 0;
    double target = NAN;
    for (int i = 0; i < nfiles; i++)
        if (read_summary(files[i], rows, &nrows, &target_seen, &target) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 2; /* the tables given are missing or not ch02-regimes's: the user's input */
        }
    qsort(rows, (size_t)nrows, sizeof *rows, by_lr);
    for (int i = 1; i < nrows; i++)
        if (rows[i].n != rows[0].n) {
            fprintf(stderr, "%s: lr %g has %d seeds, lr %g has %d: not one sweep\n", gd_prog(), rows[i].lr,
                    rows[i].n, rows[0].lr, rows[0].n);
            return 2;
        }
    int N = rows[0].n;

    /* the fastest lr: the lowest median (ties: the smaller lr) */
    int best = -1, first_reached = -1, last_all = -1, first_div = -1, first_all_div = -1;
    double med[MAX_LR];
    for (int i = 0; i < nrows; i++) {
        med[i] = censored_median(rows[i].steps, N);
        if (!isnan(med[i]) && (best < 0 || med[i] < med[best])) best = i;
        if (!isnan(med[i]) && first_reached < 0) first_reached = i;
        if (rows[i].reached == N) last_all = i;
        if (rows[i].diverged > 0 && first_div < 0) first_div = i;
    }
    for (int i = nrows - 1; i >= 0 && rows[i].diverged == N; i--) first_all_div = i;

    printf("%-10s %-6s %-8s %-9s %-12s %s\n", "lr", "seeds", "reached", "diverged", "median_steps", "lr*steps");
    for (int i = 0; i < nrows; i++)
        printf("%-10.4g %-6d %-8d %-9d %-12.0f %.3g\n", rows[i].lr, N, rows[i].reached, rows[i].diverged, med[i],
               rows[i].lr * med[i]);

    if (out) {
        gd_table *t = gd_table_open(out, "lr seeds reached diverged not_reached chance median_steps lr_x_steps "
                                         "val_loss val_jump");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch02-steps");
        gd_table_meta(t, "from", "%d summary tables of ch02-regimes --sweep, %d seeds", nfiles, N);
        if (target_seen) gd_table_meta(t, "target", "validation loss %g", target);
        gd_table_meta(t, "columns", "median_steps over the seeds, a seed that did not reach the target counting as "
                                    "infinite (nan when more than half did not); chance: runs that ended within %g of "
                                    "ln 10; val_loss, val_jump: medians over the seeds that did not diverge",
                      CHANCE_TOL);
        for (int i = 0; i < nrows; i++) {
            gd_stats v = gd_stats_of(rows[i].val, N), j = gd_stats_of(rows[i].jump, N);
            gd_table_row(t, "%.6g %d %d %d %d %d %.6g %.6g %.6g %.6g", rows[i].lr, N, rows[i].reached,
                         rows[i].diverged, N - rows[i].diverged - rows[i].reached, rows[i].chance, med[i],
                         rows[i].lr * med[i], v.median, j.median);
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch02-steps");
        char key[96], str[256];
#define KV(name, ...) (snprintf(key, sizeof key, "%s_%s", tag, name), gd_table_kv(t, key, __VA_ARGS__))
        KV("sweep_n", "%d", nrows);
        KV("sweep_lo", "%g", rows[0].lr);
        KV("sweep_hi", "%g", rows[nrows - 1].lr);
        KV("seeds", "%d", N);
        KV("steps", "%ld", steps);
        KV("target", "%g", target);
        KV("eval_every", "%ld", eval_every);
        KV("best_lr", "%.2g", best >= 0 ? rows[best].lr : NAN);
        KV("best_steps", "%.0f", best >= 0 ? med[best] : NAN);
        if (best >= 0) med_range(str, sizeof str, rows[best].steps, N, "%.0f");
        KV("best_range", "%s", best >= 0 ? str : "—");
        KV("first_reached", "%.2g", first_reached >= 0 ? rows[first_reached].lr : NAN);
        KV("last_all", "%.2g", last_all >= 0 ? rows[last_all].lr : NAN);
        int last_any = -1; /* the largest lr at which at least one seed reached the target */
        for (int i = 0; i < nrows; i++)
            if (rows[i].reached > 0) last_any = i;
        KV("last_any", "%.2g", last_any >= 0 ? rows[last_any].lr : NAN);
        KV("last_any_count", "%d of %d", last_any >= 0 ? rows[last_any].reached : 0, N);
        KV("last_all_steps", "%.0f", last_all >= 0 ? med[last_all] : NAN);
        KV("first_div", "%.2g", first_div >= 0 ? rows[first_div].lr : NAN);
        KV("first_div_count", "%d of %d", first_div >= 0 ? rows[first_div].diverged : 0, N);
        KV("first_all_div", "%.2g", first_all_div >= 0 ? rows[first_all_div].lr : NAN);
        KV("best_to_div", "%.1f", best >= 0 && first_div >= 0 ? rows[first_div].lr / rows[best].lr : NAN);
        int mixed = 0; /* learning rates above the fastest at which the seeds did not all end the same way */
        for (int i = best + 1; best >= 0 && i < nrows; i++) {
            int neither = N - rows[i].reached - rows[i].diverged;
            mixed += (rows[i].reached > 0) + (neither > 0) + (rows[i].diverged > 0) > 1;
        }
        KV("mixed_n", "%d", mixed);
        /* the slow side: lr * median over the lrs with a median, at least twice below the fastest */
        double lo = INFINITY, hi = -INFINITY;
        int ncrawl = 0;
        for (int i = 0; best >= 0 && i < best; i++)
            if (!isnan(med[i]) && rows[i].lr * 2 <= rows[best].lr)
                lo = fmin(lo, rows[i].lr * med[i]), hi = fmax(hi, rows[i].lr * med[i]), ncrawl++;
        KV("crawl_n", "%d", ncrawl);
        if (ncrawl > 0 && lround(lo) == lround(hi)) KV("crawl_range", "%.0f", lo);
        else KV("crawl_range", "between %.0f and %.0f", lo, hi);
        KV("crawl_lo", "%.0f", lo);
        KV("crawl_hi", "%.0f", hi);
        /* runs that neither reached the target nor diverged, above the fastest lr: how
         * many ended at chance, and how much their validation loss jumps (median)
         * against the runs at the fastest lr */
        int stuck = 0, chance = 0, nj = 0;
        double jumps[MAX_LR * MAX_SEEDS];
        for (int i = best + 1; best >= 0 && i < nrows; i++)
            for (int k = 0; k < N; k++)
                if (!isfinite(rows[i].steps[k]) && !isnan(rows[i].val[k])) {
                    stuck++;
                    chance += fabs(rows[i].val[k] - log(10.0)) < CHANCE_TOL;
                    jumps[nj++] = rows[i].jump[k];
                }
        KV("stuck", "%d", stuck);
        KV("chance", "%d of %d", chance, stuck);
        KV("chance_n", "%d", chance);
        gd_stats jb = gd_stats_of(best >= 0 ? rows[best].jump : jumps, best >= 0 ? N : 0);
        gd_stats js = gd_stats_of(jumps, nj);
        KV("jump_best", "%.3f", jb.median);
        KV("jump_stuck", "%.3f", js.median);
        /* the outcomes, one row per lr, as a markdown table for the text */
        size_t cap = 16384, len = 0;
        char *tab = malloc(cap);
        if (!tab) goto io_error;
#define ADD(...) (len += (size_t)snprintf(tab + len, len < cap ? cap - len : 0, __VA_ARGS__))
        ADD("| η | median steps to %g | reached: seeds (steps) | neither: seeds (final validation loss) | "
            "diverged: seeds (at step) |\\n|---:|---:|---|---|---|", target);
        for (int i = 0; i < nrows; i++) {
            const lr_row *r = &rows[i];
            int neither = N - r->reached - r->diverged;
            char md[32] = "—", a[96] = "—", b[96] = "—", c[96] = "—", m[64];
            if (!isnan(med[i])) snprintf(md, sizeof md, "%.0f", med[i]);
            if (r->reached) {
                med_range(m, sizeof m, r->steps, N, "%.0f");
                snprintf(a, sizeof a, "%d (%s)", r->reached, strchr(m, '(') ? strchr(m, '(') + 1 : m);
                if (a[strlen(a) - 2] == ')') a[strlen(a) - 1] = '\0';
            }
            if (neither) {
                double v[MAX_SEEDS];
                int n = 0;
                for (int k = 0; k < N; k++)
                    if (!isfinite(r->steps[k]) && !isnan(r->val[k])) v[n++] = r->val[k];
                med_range(m, sizeof m, v, n, "%.2f");
                snprintf(b, sizeof b, "%d (%s)", neither, strchr(m, '(') ? strchr(m, '(') + 1 : m);
                if (b[strlen(b) - 2] == ')') b[strlen(b) - 1] = '\0';
            }
            if (r->diverged) {
                med_range(m, sizeof m, r->div, N, "%.0f");
                snprintf(c, sizeof c, "%d (%s)", r->diverged, strchr(m, '(') ? strchr(m, '(') + 1 : m);
                if (c[strlen(c) - 2] == ')') c[strlen(c) - 1] = '\0';
            }
            ADD("\\n| %.2g | %s | %s | %s | %s |", r->lr, md, a, b, c);
        }
        KV("outcomes", "%s", tab);
        free(tab);
        if (gd_table_close(t) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

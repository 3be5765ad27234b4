/* steps.c -- steps to a target loss against the learning rate, over seeds, Chapter 2.
 *
 * Reads the --summary tables of `ch02-regimes --sweep` (one per seed, the same
 * learning rates in each) and writes, per learning rate, how many seeds reached the
 * target, diverged, or did neither, and the median steps to the target over the seeds
 * (--out); and the numbers the chapter quotes about the U-shaped curve (--numbers,
 * keys prefixed by --tag): the fastest lr, the lr * steps product on the slow side, the
 * largest lr that always reached the target and the smallest that diverged.
 * Leaves out: training (ch02-regimes does it).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LR 256
#define MAX_SEEDS 64

typedef struct {
    double lr;
    int n, reached, diverged;
    double steps[MAX_SEEDS];   /* steps to the target of the seeds that reached it */
    double val_sum;            /* final validation loss, summed over non-diverged seeds */
    long div_step_max;         /* latest step at which a seed diverged */
} lr_row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Add one summary table's rows to rows (matched by lr). 0, or -1 with a reason. */
static long steps = -1; /* steps per run, from the tables' "# model:" line */

static int read_summary(const char *path, lr_row *rows, int *nrows, int *target_seen, double *target) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char line[1024];
    int header = 0, c_lr = -1, c_status = -1, c_val = -1, c_reached = -1, c_div = -1, ok = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') {
            double t;
            if (sscanf(line, "# target: validation loss %lf", &t) == 1) *target = t, *target_seen = 1;
            const char *b = strstr(line, "# model: ") ? strstr(line, ", batch ") : NULL;
            long st;
            long bs;
            if (b && sscanf(b, ", batch %ld, %ld steps", &bs, &st) == 2) steps = st;
            continue;
        }
        if (line[0] == '\0') continue;
        char *fields[16], *save = NULL;
        int n = 0;
        for (char *p = strtok_r(line, "\t", &save); p && n < 16; p = strtok_r(NULL, "\t", &save)) fields[n++] = p;
        if (!header) {
            for (int i = 0; i < n; i++) {
                if (!strcmp(fields[i], "lr")) c_lr = i;
                if (!strcmp(fields[i], "status")) c_status = i;
                if (!strcmp(fields[i], "val_loss")) c_val = i;
                if (!strcmp(fields[i], "reached_at")) c_reached = i;
                if (!strcmp(fields[i], "diverged_at")) c_div = i;
            }
            if (c_lr < 0 || c_status < 0 || c_val < 0 || c_reached < 0 || c_div < 0) {
                fclose(f);
                return gd_seterr("%s: not a ch02-regimes --summary table", path);
            }
            header = 1;
            continue;
        }
        int need = c_div > c_reached ? c_div : c_reached;
        if (n <= need || n <= c_lr || n <= c_status || n <= c_val) {
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
            rows[(*nrows)++] = (lr_row){lr, 0, 0, 0, {0}, 0, -1};
        }
        lr_row *r = &rows[i];
        if (r->n == MAX_SEEDS) {
            fclose(f);
            return gd_seterr("%s: more than %d seeds", path, MAX_SEEDS);
        }
        r->n++;
        long div = atol(fields[c_div]), reached = atol(fields[c_reached]);
        if (div >= 0) {
            r->diverged++;
            if (div > r->div_step_max) r->div_step_max = div;
        } else {
            r->val_sum += atof(fields[c_val]);
            if (reached >= 0) r->steps[r->reached++] = (double)reached;
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

int main(int argc, char **argv) {
    const char *out = NULL, *numbers = NULL, *tag = "x";
    gd_opt opts[] = {
        GD_OPT_STRING("out", &out, "write one row per learning rate to this table"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers (logreg, mlp, ...)"),
        GD_OPT_END};
    /* options first, then the summary tables (as ch04-summary takes its runs) */
    int first = 1;
    while (first < argc && strncmp(argv[first], "--", 2) == 0)
        first += strchr(argv[first], '=') || strcmp(argv[first], "--help") == 0 ? 1 : 2;
    if (first > argc) first = argc;
    char **files = argv + first;
    int nfiles = argc - first;
    int rc = gd_cli_parse(first, argv,
                          "Steps to the target loss against the learning rate, over the seeds of ch02-regimes "
                          "--sweep summary tables (given as arguments) (Chapter 2).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (nfiles > MAX_SEEDS) {
        fprintf(stderr, "%s: at most %d summary tables, got %d\n", gd_prog(), MAX_SEEDS, nfiles);
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
            return 1;
        }
    qsort(rows, (size_t)nrows, sizeof *rows, by_lr);

    /* the fastest lr: the lowest median among the lrs where every seed reached the target */
    int best = -1;
    double med[MAX_LR];
    for (int i = 0; i < nrows; i++) {
        med[i] = rows[i].reached == rows[i].n ? median(rows[i].steps, rows[i].n) : NAN;
        if (!isnan(med[i]) && (best < 0 || med[i] < med[best])) best = i;
    }
    int first_div = -1, last_reached = -1, first_reached = -1;
    for (int i = 0; i < nrows; i++) {
        if (rows[i].diverged > 0 && first_div < 0) first_div = i;
        if (rows[i].reached == rows[i].n) {
            last_reached = i;
            if (first_reached < 0) first_reached = i;
        }
    }

    printf("%-10s %-6s %-8s %-9s %-12s %s\n", "lr", "seeds", "reached", "diverged", "median_steps", "lr*steps");
    for (int i = 0; i < nrows; i++)
        printf("%-10.4g %-6d %-8d %-9d %-12.0f %.3g\n", rows[i].lr, rows[i].n, rows[i].reached, rows[i].diverged,
               med[i], rows[i].lr * med[i]);

    if (out) {
        gd_table *t = gd_table_open(out, "lr seeds reached diverged not_reached median_steps lr_x_steps val_loss");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch02-steps");
        gd_table_meta(t, "from", "%d summary tables of ch02-regimes --sweep", nfiles);
        if (target_seen) gd_table_meta(t, "target", "validation loss %g", target);
        gd_table_meta(t, "columns", "median_steps over the seeds, when every seed reached the target (else nan); "
                                    "val_loss: mean final validation loss of the seeds that did not diverge");
        for (int i = 0; i < nrows; i++) {
            int live = rows[i].n - rows[i].diverged;
            gd_table_row(t, "%.6g %d %d %d %d %.6g %.6g %.6g", rows[i].lr, rows[i].n, rows[i].reached,
                         rows[i].diverged, live - rows[i].reached, med[i], rows[i].lr * med[i],
                         live ? rows[i].val_sum / live : NAN);
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch02-steps");
        char key[96];
#define KV(name, ...) (snprintf(key, sizeof key, "%s_%s", tag, name), gd_table_kv(t, key, __VA_ARGS__))
        KV("sweep_n", "%d", nrows);
        KV("sweep_lo", "%g", rows[0].lr);
        KV("sweep_hi", "%g", rows[nrows - 1].lr);
        KV("seeds", "%d", rows[0].n);
        KV("steps", "%ld", steps);
        KV("target", "%g", target);
        KV("best_lr", "%.2g", best >= 0 ? rows[best].lr : NAN);
        KV("best_steps", "%.0f", best >= 0 ? med[best] : NAN);
        KV("first_reached", "%.2g", first_reached >= 0 ? rows[first_reached].lr : NAN);
        KV("first_reached_steps", "%.0f", first_reached >= 0 ? med[first_reached] : NAN);
        KV("last_reached", "%.2g", last_reached >= 0 ? rows[last_reached].lr : NAN);
        KV("last_reached_steps", "%.0f", last_reached >= 0 ? med[last_reached] : NAN);
        KV("first_div", "%.2g", first_div >= 0 ? rows[first_div].lr : NAN);
        KV("first_div_seeds", "%d", first_div >= 0 ? rows[first_div].diverged : 0);
        KV("first_div_step", "%ld", first_div >= 0 ? rows[first_div].div_step_max : -1);
        /* the slow side: lr * steps over the lrs from the first that reached the target to
         * the last at least twice below the fastest */
        double lo = INFINITY, hi = -INFINITY;
        for (int i = first_reached; i >= 0 && best >= 0 && i <= best && rows[i].lr * 2 <= rows[best].lr; i++)
            if (!isnan(med[i])) lo = fmin(lo, rows[i].lr * med[i]), hi = fmax(hi, rows[i].lr * med[i]);
        KV("crawl_lo", "%.0f", lo);
        KV("crawl_hi", "%.0f", hi);
        /* between the last lr that reached the target and the first that diverged; the
         * validation loss at the largest lr of that band (mean over its seeds) */
        if (last_reached >= 0 && first_div > last_reached + 1) {
            const lr_row *top = &rows[first_div - 1];
            double v = top->val_sum / (top->n - top->diverged);
            KV("gap_lo", "%.2g", rows[last_reached + 1].lr);
            KV("gap_hi", "%.2g", rows[first_div - 1].lr);
            if (first_div - 1 == last_reached + 1) KV("gap_range", "at %.2g", rows[last_reached + 1].lr);
            else KV("gap_range", "from %.2g to %.2g", rows[last_reached + 1].lr, rows[first_div - 1].lr);
            KV("gap_val", "%.2f", v);
        } else {
            KV("gap_lo", "none");
            KV("gap_hi", "none");
            KV("gap_range", "nowhere");
            KV("gap_val", "none");
        }
        if (gd_table_close(t) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

/* tune-compare.c -- Chapter 8's capstone: lrtune's recommendation against a full sweep.
 *
 * Reads two directories written by build/bin/lrtune on the same task and seeds: the
 * recipe (--recipe: sanity checks, range test, its short sweep) and the full sweep
 * (--full: `lrtune --grid LO:HI:PER_DECADE`, every lr of a fine grid, no range test).
 * No training here. It writes the numbers the chapter quotes (--numbers, keys tune_*):
 *   - the two peak lrs and the factor between them;
 *   - the median validation loss over the seeds at each (the recipe's lr is a point of
 *     the full grid, so its median is read from the full sweep too, and must agree), and
 *     how much worse the recipe's is, in % of the full sweep's best;
 *   - the spread over seeds at the full sweep's best lr (max - min, in % of its median),
 *     to say whether that excess is a difference at all;
 *   - the basin: the full grid's lrs whose median is within BASIN_PCT % of the best;
 *   - what the refinement changed: the best lr of the recipe's coarse sweep alone, and
 *     how much worse its median is than the full sweep's best;
 *   - what each cost, in examples (rows through a forward and backward pass, plus the
 *     validation passes) and updates, as counted by lrtune, and the recipe's share;
 *   - the sanity checks and the range test's suggestions, and the lr of its lowest batch
 *     loss (the smoothed loss's minimum lags behind it).
 * and --marks, a small table of the lrs the figures mark (valley, steep, min_lr, the
 * recipe's grid ends, the recipe's lr, the full sweep's best).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASIN_PCT 1.0          /* the basin: medians within 1 % of the best */
#define MARGIN_LR_FACTOR 1.8   /* the claims' margins (tests/ch08/test_ch08_tune.c): a factor */
#define MARGIN_LOSS_PCT 2.0    /*   1.8 in lr (one step of a quarter-decade grid), 2 % in loss */
#define MAXROWS 512

/* A "key value" table or a table with a header: rows of fields (malloc'd text). */
typedef struct {
    int nrows, ncols;
    char *cols[32];
    char **cell;   /* (nrows, ncols) */
} table;

static void table_free(table *t) {
    for (int i = 0; i < t->nrows * t->ncols; i++) free(t->cell[i]);
    free(t->cell);
    for (int j = 0; j < t->ncols; j++) free(t->cols[j]);
    memset(t, 0, sizeof *t);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    for (size_t r; s && (r = fread(s + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) free(s);
            s = t;
        }
    }
    fclose(f);
    if (s) s[n] = '\0';
    return s;
}

/* Read a TSV of out.h: '#' lines skipped, the first other line is the header. */
static int table_read(table *t, const char *path) {
    memset(t, 0, sizeof *t);
    char *text = slurp(path);
    if (!text) return gd_seterr("%s: cannot read", path);
    int cap = 0, header = 1;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (*line == '#' || *line == '\0') continue;
        char *f[32];
        int n = 0;
        for (char *p = line; n < 32;) {
            f[n++] = p;
            p = strchr(p, '\t');
            if (!p) break;
            *p++ = '\0';
        }
        if (header) {
            t->ncols = n;
            for (int j = 0; j < n; j++) t->cols[j] = strdup(f[j]);
            header = 0;
            continue;
        }
        if (n != t->ncols) {
            free(text);
            return gd_seterr("%s: a row of %d fields, the header has %d", path, n, t->ncols);
        }
        if (t->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            char **c = realloc(t->cell, (size_t)cap * t->ncols * sizeof *c);
            if (!c) return free(text), gd_seterr("out of memory");
            t->cell = c;
        }
        for (int j = 0; j < n; j++) t->cell[t->nrows * t->ncols + j] = strdup(f[j]);
        t->nrows++;
    }
    free(text);
    if (header) return gd_seterr("%s: no header line", path);
    return 0;
}

static int col(const table *t, const char *name) {
    for (int j = 0; j < t->ncols; j++)
        if (strcmp(t->cols[j], name) == 0) return j;
    return -1;
}

static const char *cell(const table *t, int i, int j) { return t->cell[i * t->ncols + j]; }

/* The value of key in a "key value" table, or NULL. */
static const char *kv(const table *t, const char *key) {
    int k = col(t, "key"), v = col(t, "value");
    for (int i = 0; k >= 0 && v >= 0 && i < t->nrows; i++)
        if (strcmp(cell(t, i, k), key) == 0) return cell(t, i, v);
    return NULL;
}

static double kvnum(const table *t, const char *key, int *bad) {
    const char *s = kv(t, key);
    double x;
    if (!s || gd_parse_double(s, &x) != 0) {
        if (!*bad) gd_seterr("no number '%s'", key);
        *bad = 1;
        return NAN;
    }
    return x;
}

/* A comma-separated list with a space after each comma, for the prose (malloc'd). */
static char *spaced(const char *list) {
    if (!list) list = "?";
    char *out = malloc(2 * strlen(list) + 1), *o = out;
    if (!out) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        exit(1);
    }
    for (const char *c = list; *c; c++) o += sprintf(o, *c == ',' ? ", " : "%c", *c);
    *o = '\0';
    return out;
}

/* "PREFIX_NAME" in a buffer of its own size, valid until the next call. */
static const char *key_of(const char *prefix, const char *name) {
    static char *buf;
    free(buf);
    buf = malloc(strlen(prefix) + strlen(name) + 2);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        exit(1);
    }
    sprintf(buf, "%s_%s", prefix, name);
    return buf;
}

/* Free the five tables (read or still empty) and return status: every exit of main goes
 * through here, so a refusal leaks nothing. */
static int finish(int status, table **tabs) {
    for (int i = 0; i < 5; i++) table_free(tabs[i]);
    return status;
}

int main(int argc, char **argv) {
    const char *recipe = NULL, *full = NULL, *numbers = NULL, *marks = NULL, *rp = "tune_recipe", *fp = "tune_full";
    gd_opt opts[] = {GD_OPT_STRING("recipe", &recipe, "lrtune's directory for the recipe (required)"),
                     GD_OPT_STRING("full", &full, "lrtune's directory for the full sweep, --grid (required)"),
                     GD_OPT_STRING("recipe-prefix", &rp, "--key-prefix the recipe's lrtune used"),
                     GD_OPT_STRING("full-prefix", &fp, "--key-prefix the full sweep's lrtune used"),
                     GD_OPT_OUT("numbers", &numbers, "write the chapter's numbers (keys tune_*) here"),
                     GD_OPT_OUT("marks", &marks, "write the lrs the figures mark here"),
                     GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Chapter 8's capstone: compares lrtune's recommendation (--recipe DIR) with the best of "
                          "a full sweep on the same task and seeds (--full DIR): loss, lr and cost. No training.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    const char *prog = gd_prog();
    if (!recipe || !full) {
        fprintf(stderr, "%s: --%s: required\n", prog, !recipe ? "recipe" : "full");
        return 2;
    }
    table rrec = {0}, frec = {0}, fsum = {0}, rsum = {0}, range = {0};
    const char *dirs[5] = {recipe, full, full, recipe, recipe};
    const char *names[5] = {"recommend", "recommend", "summary", "summary", "range"};
    table *tabs[5] = {&rrec, &frec, &fsum, &rsum, &range};
    for (int i = 0; i < 5; i++) {
        char *p = malloc(strlen(dirs[i]) + 32);
        if (!p) return finish(1, tabs);
        sprintf(p, "%s/%s.tsv", dirs[i], names[i]);
        int bad = table_read(tabs[i], p);
        free(p);
        if (bad) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            return finish(2, tabs);
        }
    }
    int bad = 0;
#define RK(name) key_of(rp, name)
#define FK(name) key_of(fp, name)
    double r_lr = kvnum(&rrec, RK("peak_lr"), &bad), f_lr = kvnum(&frec, FK("peak_lr"), &bad);
    double r_cost = kvnum(&rrec, RK("cost_total"), &bad), f_cost = kvnum(&frec, FK("cost_sweep"), &bad);
    double r_upd = kvnum(&rrec, RK("updates_total"), &bad), f_upd = kvnum(&frec, FK("updates_sweep"), &bad);
    double f_best = kvnum(&frec, FK("best_median"), &bad);
    if (bad) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        return finish(2, tabs);
    }
    /* the full sweep's rows: lr runs diverged median min max */
    int cl = col(&fsum, "lr"), cm = col(&fsum, "median"), cmin = col(&fsum, "min"), cmax = col(&fsum, "max"),
        cr = col(&fsum, "runs");
    int rl = col(&rsum, "lr"), rm = col(&rsum, "median"), rr = col(&rsum, "runs"), rs = col(&rsum, "stage");
    if (cl < 0 || cm < 0 || cmin < 0 || cmax < 0 || cr < 0 || rl < 0 || rm < 0 || rr < 0 || rs < 0) {
        gd_usage_error("%s/summary.tsv or %s/summary.tsv: not lrtune's summary", full, recipe);
        return finish(2, tabs);
    }
    int i_r = -1, i_f = -1, f_runs = 0, r_runs = 0;
    for (int i = 0; i < fsum.nrows; i++) {
        double lr = atof(cell(&fsum, i, cl));
        if (fabs(lr / r_lr - 1) < 1e-6) i_r = i;
        if (fabs(lr / f_lr - 1) < 1e-6) i_f = i;
        f_runs += atoi(cell(&fsum, i, cr));
    }
    int i_c = -1;   /* the coarse sweep's best: what the recipe would say without the refinement */
    for (int i = 0; i < rsum.nrows; i++) {
        r_runs += atoi(cell(&rsum, i, rr));
        if (strcmp(cell(&rsum, i, rs), "coarse") == 0 &&
            (i_c < 0 || atof(cell(&rsum, i, rm)) < atof(cell(&rsum, i_c, rm))))
            i_c = i;
    }
    if (i_c < 0) {
        gd_usage_error("%s/summary.tsv has no coarse sweep", recipe);
        return finish(2, tabs);
    }
    double c_lr = atof(cell(&rsum, i_c, rl)), c_med = atof(cell(&rsum, i_c, rm));
    /* the range test's lowest batch loss (not smoothed) */
    int gl = col(&range, "lr"), gx = col(&range, "loss"), i_g = -1;
    for (int i = 0; gl >= 0 && gx >= 0 && i < range.nrows; i++)
        if (i_g < 0 || atof(cell(&range, i, gx)) < atof(cell(&range, i_g, gx))) i_g = i;
    if (i_g < 0) {
        gd_usage_error("%s/range.tsv: no range test", recipe);
        return finish(2, tabs);
    }
    double raw_min_lr = atof(cell(&range, i_g, gl));
    if (i_r < 0 || i_f < 0) {
        fprintf(stderr, "%s: the recipe's lr %g or the best %g is not on the full grid\n", prog, r_lr, f_lr);
        return finish(2, tabs);
    }
    f_best = atof(cell(&fsum, i_f, cm));              /* at the summary's precision, as the others */
    double r_med_full = atof(cell(&fsum, i_r, cm));   /* the recipe's lr in the full sweep */
    double r_med = NAN;                               /* ... and in the recipe's own sweep */
    for (int i = 0; i < rsum.nrows; i++)
        if (fabs(atof(cell(&rsum, i, rl)) / r_lr - 1) < 1e-6) r_med = atof(cell(&rsum, i, rm));
    double f_min = atof(cell(&fsum, i_f, cmin)), f_max = atof(cell(&fsum, i_f, cmax));
    double factor = r_lr > f_lr ? r_lr / f_lr : f_lr / r_lr;
    double excess = (r_med - f_best) / f_best * 100, spread = (f_max - f_min) / f_best * 100;
    /* the basin: the lrs of the full grid within BASIN_PCT % of the best median */
    int b_lo = -1, b_hi = -1, b_n = 0;
    for (int i = 0; i < fsum.nrows; i++)
        if (atof(cell(&fsum, i, cm)) <= f_best * (1 + BASIN_PCT / 100)) {
            if (b_lo < 0) b_lo = i;
            b_hi = i;
            b_n++;
        }
    printf("recipe: lr %g, median validation loss %.4f (%.4f in the full sweep), cost %.0f examples, %.0f updates\n",
           r_lr, r_med, r_med_full, r_cost, r_upd);
    printf("full sweep: best lr %g, median %.4f (seeds %.4f to %.4f), cost %.0f examples, %.0f updates\n", f_lr, f_best,
           f_min, f_max, f_cost, f_upd);
    printf("lr factor %.3g, loss %+.2f%% (seed spread at the best %.2f%%), cost %.1f%%\n", factor, excess, spread,
           100 * r_cost / f_cost);
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            return finish(1, tabs);
        }
        gd_table_meta(t, "program", "ch08-tune-compare");
        gd_table_meta(t, "recipe", "%s", recipe);
        gd_table_meta(t, "full", "%s", full);
        const char *sr[] = {"sched", "warmup", "grid", "valley", "steep", "min_lr", "init_loss", "ln_c", "grad_err",
                            "overfit_start", "overfit_end", "sanity", "n_lr", "seeds", "edge"};
        for (size_t i = 0; i < sizeof sr / sizeof *sr; i++) {
            const char *v = kv(&rrec, RK(sr[i]));
            gd_table_kv(t, key_of("tune", sr[i]), "%s", v ? v : "?");
        }
        char *gs = spaced(kv(&rrec, RK("grid")));
        gd_table_kv(t, "tune_grid_text", "%s", gs);
        free(gs);
        gd_table_kv(t, "tune_full_n_lr", "%d", fsum.nrows);
        gd_table_kv(t, "tune_full_lo", "%s", cell(&fsum, 0, cl));
        gd_table_kv(t, "tune_full_hi", "%s", cell(&fsum, fsum.nrows - 1, cl));
        gd_table_kv(t, "tune_recipe_lr", "%g", r_lr);
        gd_table_kv(t, "tune_full_lr", "%g", f_lr);
        gd_table_kv(t, "tune_lr_factor", "%.2f", factor);
        gd_table_kv(t, "tune_recipe_loss", "%.4f", r_med);
        gd_table_kv(t, "tune_recipe_loss_in_full", "%.4f", r_med_full);
        gd_table_kv(t, "tune_full_loss", "%.4f", f_best);
        gd_table_kv(t, "tune_full_loss_min", "%.4f", f_min);
        gd_table_kv(t, "tune_full_loss_max", "%.4f", f_max);
        gd_table_kv(t, "tune_loss_excess_pct", "%.2f", excess);
        gd_table_kv(t, "tune_full_spread_pct", "%.2f", spread);
        gd_table_kv(t, "tune_excess_vs_spread", "%s", excess < spread ? "smaller than" : "not smaller than");
        gd_table_kv(t, "tune_same_lr", "%s", i_r == i_f ? "the same lr as" : "another lr than");
        gd_table_kv(t, "tune_raw_min_lr", "%.3g", raw_min_lr);
        gd_table_kv(t, "tune_coarse_lr", "%g", c_lr);
        gd_table_kv(t, "tune_coarse_loss", "%.4f", c_med);
        gd_table_kv(t, "tune_coarse_excess_pct", "%.2f", (c_med - f_best) / f_best * 100);
        const char *stage = kv(&rrec, RK("best_stage"));
        gd_table_kv(t, "tune_recipe_stage", "%s", stage && strcmp(stage, "refine") == 0 ? "the refinement"
                                                                                        : "the coarse sweep");
        const char *refine = kv(&rrec, RK("refine"));
        char *rs_text = spaced(refine);
        gd_table_kv(t, "tune_refine_text", "%s", rs_text);
        free(rs_text);
        gd_table_kv(t, "tune_basin_pct", "%g", BASIN_PCT);
        gd_table_kv(t, "tune_basin_lo", "%s", cell(&fsum, b_lo, cl));
        gd_table_kv(t, "tune_basin_hi", "%s", cell(&fsum, b_hi, cl));
        gd_table_kv(t, "tune_basin_n", "%d", b_n);
        gd_table_kv(t, "tune_recipe_in_basin", "%s", i_r >= b_lo && i_r <= b_hi ? "inside" : "outside");
        gd_table_kv(t, "tune_recipe_cost", "%.0f", r_cost);
        gd_table_kv(t, "tune_full_cost", "%.0f", f_cost);
        gd_table_kv(t, "tune_cost_pct", "%.0f", 100 * r_cost / f_cost);
        gd_table_kv(t, "tune_checks_cost", "%s", kv(&rrec, RK("cost_checks")) ? kv(&rrec, RK("cost_checks")) : "?");
        gd_table_kv(t, "tune_recipe_updates", "%.0f", r_upd);
        gd_table_kv(t, "tune_full_updates", "%.0f", f_upd);
        gd_table_kv(t, "tune_updates_pct", "%.0f", 100 * r_upd / f_upd);
        gd_table_kv(t, "tune_recipe_runs", "%d", r_runs);
        gd_table_kv(t, "tune_full_runs", "%d", f_runs);
        gd_table_kv(t, "tune_margin_lr_factor", "%.2f", MARGIN_LR_FACTOR);
        gd_table_kv(t, "tune_margin_loss_pct", "%g", MARGIN_LOSS_PCT);
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            return finish(1, tabs);
        }
    }
    if (marks) {
        gd_table *t = gd_table_open(marks, "what lr");
        if (!t) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            return finish(1, tabs);
        }
        gd_table_meta(t, "program", "ch08-tune-compare");
        const char *what[] = {"valley", "steep", "min_lr"};
        for (int i = 0; i < 3; i++) {
            const char *v = kv(&rrec, RK(what[i]));
            gd_table_row(t, "%s %s", what[i], v ? v : "?");
        }
        gd_table_row(t, "grid_lo %s", cell(&rsum, 0, rl));
        gd_table_row(t, "grid_hi %s", cell(&rsum, rsum.nrows - 1, rl));
        gd_table_row(t, "recipe %g", r_lr);
        gd_table_row(t, "full %g", f_lr);
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            return finish(1, tabs);
        }
    }
    for (int i = 0; i < 5; i++) table_free(tabs[i]);
    return 0;
}

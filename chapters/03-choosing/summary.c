/* summary.c -- the chapter's learning-rate sweep and range tests, summarised, Chapter 3.
 *
 * Reads the table build/bin/sweep wrote (one row per lr, optimizer and seed) and the
 * suggestion tables of ch03-rangetest, and writes
 *   --curves   per optimizer (one block each) and lr: the mean, min and max over seeds of
 *              the final validation loss and accuracy, and how many seeds diverged
 *   --numbers  the best lr per optimizer (lowest mean validation loss over the seeds,
 *              among lrs where no seed diverged), the defaults' results, the range
 *              test's suggestions (median over seeds) and their factor to the best lr,
 *              and the two tables the text shows
 * Leaves out: any fitting between grid points (the best lr is a grid point, so it is
 * known to within a factor of 10^(1/4) = 1.78 on a 4-per-decade grid).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXO 8
#define MAXL 64
#define MAXS 16

typedef struct {
    char name[64];                   /* optimizer spec as in the sweep: sgd, adam, ... */
    double lr[MAXL];
    int nlr;
    double loss[MAXL][MAXS], acc[MAXL][MAXS];
    int ns[MAXL], ndiv[MAXL];
    /* range test: suggestions per seed */
    double valley[MAXS], steep[MAXS], minimum[MAXS];
    int nrt;
} optim_rows;

static optim_rows opt[MAXO];
static int nopt;

static optim_rows *find_optim(const char *name) {
    for (int i = 0; i < nopt; i++)
        if (strcmp(opt[i].name, name) == 0) return &opt[i];
    if (nopt == MAXO) return NULL;
    snprintf(opt[nopt].name, sizeof opt[nopt].name, "%s", name);
    return &opt[nopt++];
}

static int lr_index(optim_rows *o, double lr) {
    for (int i = 0; i < o->nlr; i++)
        if (o->lr[i] == lr) return i;
    if (o->nlr == MAXL) return -1;
    o->lr[o->nlr] = lr;
    return o->nlr++;
}

/* split a line into at most max tab-separated fields, in place */
static int fields(char *line, char **f, int max) {
    int n = 0;
    for (char *save = NULL, *s = strtok_r(line, "\t\n", &save); s && n < max; s = strtok_r(NULL, "\t\n", &save))
        f[n++] = s;
    return n;
}

/* the sweep's settings, from its '#' lines: "# model: 784-64-10" */
static char settings[8][2][128];
static int nsettings;

static int read_sweep(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "%s: %s: cannot open\n", gd_prog(), path);
        return -1;
    }
    char line[4096], *f[16];
    int header = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#') {
            const char *keys[] = {"model", "epochs", "batch_size", "train_subset", "val", "points"};
            for (int k = 0; k < 6 && nsettings < 8; k++) {
                size_t n = strlen(keys[k]);
                if (strncmp(line + 2, keys[k], n) == 0 && line[2 + n] == ':') {
                    snprintf(settings[nsettings][0], sizeof settings[0][0], "sweep_%s", keys[k]);
                    snprintf(settings[nsettings][1], sizeof settings[0][1], "%s", line + 4 + n);
                    settings[nsettings][1][strcspn(settings[nsettings][1], "\n")] = '\0';
                    nsettings++;
                }
            }
            continue;
        }
        if (line[0] == '\n') continue;
        if (!header) {
            header = 1;
            continue;
        }
        /* id lr optim sched seed status diverged_at train_loss val_loss val_acc steps */
        if (fields(line, f, 16) < 11) continue;
        optim_rows *o = find_optim(f[2]);
        int i = o ? lr_index(o, atof(f[1])) : -1;
        if (i < 0 || o->ns[i] + o->ndiv[i] >= MAXS) continue;
        if (strcmp(f[5], "ok") == 0) {
            o->loss[i][o->ns[i]] = atof(f[8]);
            o->acc[i][o->ns[i]++] = atof(f[9]);
        } else {
            o->ndiv[i]++;
        }
    }
    fclose(fp);
    if (nopt == 0) {
        fprintf(stderr, "%s: %s: no rows\n", gd_prog(), path);
        return -1;
    }
    return 0;
}

static int read_suggest(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "%s: %s: cannot open\n", gd_prog(), path);
        return -1;
    }
    char line[4096], *f[16];
    int header = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            continue;
        }
        /* label seed steps stopped valley steep minimum min_lr */
        if (fields(line, f, 16) < 8) continue;
        optim_rows *o = find_optim(f[0]);
        if (!o || o->nrt == MAXS) continue;
        o->valley[o->nrt] = atof(f[4]);
        o->steep[o->nrt] = atof(f[5]);
        o->minimum[o->nrt++] = atof(f[6]);
    }
    fclose(fp);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *x, int n) {
    double s[MAXS];
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : sqrt(s[n / 2 - 1] * s[n / 2]); /* geometric: lrs are log-scale */
}

static double mean(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return n ? s / n : NAN;
}

/* "sgd:momentum=0.9" -> "sgd_momentum" for keys */
static void keyname(char *k, size_t size, const char *name) {
    snprintf(k, size, "%.60s", strcmp(name, "sgd") == 0 ? "sgd" : strstr(name, "momentum") ? "momentum" : name);
    for (char *p = k; *p; p++)
        if (*p == ':' || *p == '=' || *p == '.') *p = '_';
}

static const char *pretty(const char *name) {
    return strcmp(name, "sgd") == 0 ? "SGD" : strstr(name, "momentum") ? "SGD + momentum 0.9"
         : strcmp(name, "adam") == 0 ? "Adam" : name;
}

int main(int argc, char **argv) {
    const char *sweep = NULL, *suggest = NULL, *curves = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_STRING("sweep", &sweep, "the sweep table (build/bin/sweep --out)"),
        GD_OPT_STRING("suggest", &suggest, "range-test suggestion tables, comma-separated (ch03-rangetest --suggest)"),
        GD_OPT_STRING("curves", &curves, "write the curves over lr here"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes here"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv, "Summarise the chapter's lr sweep and range tests (Chapter 3).", opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!sweep) {
        fprintf(stderr, "%s: --sweep: required\n", gd_prog());
        return 2;
    }
    if (read_sweep(sweep) != 0) return 1;
    if (suggest) {
        char *list = strdup(suggest);
        for (char *save = NULL, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save))
            if (read_suggest(s) != 0) return 1;
        free(list);
    }
    int status = 0;
    if (curves) {
        gd_table *t = gd_table_open(curves, "optim lr n_ok n_diverged loss_mean loss_min loss_max acc_mean acc_min "
                                            "acc_max");
        if (!t) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
        gd_table_meta(t, "program", "ch03-summary");
        gd_table_meta(t, "source", "%s", sweep);
        gd_table_meta(t, "columns", "one block per optimizer (index = its order in the sweep); loss and acc: final "
                      "validation loss and accuracy (%%) over the seeds that did not diverge, nan if all did");
        for (int o = 0; o < nopt; o++) {
            if (opt[o].nlr == 0) continue;
            for (int i = 0; i < opt[o].nlr; i++) {
                int n = opt[o].ns[i];
                double lmin = INFINITY, lmax = -INFINITY, amin = INFINITY, amax = -INFINITY;
                for (int s = 0; s < n; s++) {
                    lmin = fmin(lmin, opt[o].loss[i][s]), lmax = fmax(lmax, opt[o].loss[i][s]);
                    amin = fmin(amin, opt[o].acc[i][s]), amax = fmax(amax, opt[o].acc[i][s]);
                }
                if (!n) lmin = lmax = amin = amax = NAN;
                gd_table_row(t, "%d %g %d %d %.5f %.5f %.5f %.3f %.3f %.3f", o, opt[o].lr[i], n, opt[o].ndiv[i],
                             mean(opt[o].loss[i], n), lmin, lmax, 100 * mean(opt[o].acc[i], n), 100 * amin,
                             100 * amax);
            }
            gd_table_block(t);
        }
        if (gd_table_close(t) != 0) status = 1;
    }
    if (numbers && !status) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
        gd_table_meta(t, "program", "ch03-summary --sweep %s", sweep);
        char best_tab[4096] = "| optimizer | best lr | val. loss (mean over seeds) | val. accuracy | lrs that "
                              "diverged (any seed) |\n|---|---:|---:|---:|---|";
        char rt_tab[4096] = "| optimizer | sweep's best lr | valley | steep | minimum/10 | best / valley |\n"
                            "|---|---:|---:|---:|---:|---:|";
        int nseeds = 0, nlr = 0;
        for (int o = 0; o < nopt; o++) {
            if (opt[o].nlr == 0) continue;
            char k[64], key[160];
            keyname(k, sizeof k, opt[o].name);
            int best = -1, first_div = -1;
            nlr = opt[o].nlr;
            for (int i = 0; i < opt[o].nlr; i++) {
                if (opt[o].ns[i] + opt[o].ndiv[i] > nseeds) nseeds = opt[o].ns[i] + opt[o].ndiv[i];
                if (opt[o].ndiv[i] > 0) {
                    if (first_div < 0) first_div = i;
                    continue;
                }
                if (best < 0 || mean(opt[o].loss[i], opt[o].ns[i]) < mean(opt[o].loss[best], opt[o].ns[best]))
                    best = i;
            }
            if (best < 0) continue;
            double bl = opt[o].lr[best], loss = mean(opt[o].loss[best], opt[o].ns[best]),
                   acc = 100 * mean(opt[o].acc[best], opt[o].ns[best]);
            snprintf(key, sizeof key, "best_lr_%s", k), gd_table_kv(t, key, "%g", bl);
            snprintf(key, sizeof key, "best_loss_%s", k), gd_table_kv(t, key, "%.3f", loss);
            snprintf(key, sizeof key, "best_acc_%s", k), gd_table_kv(t, key, "%.1f", acc);
            char divtext[64] = "none";
            if (first_div >= 0) snprintf(divtext, sizeof divtext, "%g and above", opt[o].lr[first_div]);
            snprintf(key, sizeof key, "first_div_%s", k), gd_table_kv(t, key, "%s", divtext);
            /* the defaults: Adam 1e-3, SGD with momentum 1e-2 (and plain SGD 1e-2) */
            double def = strcmp(k, "adam") == 0 ? 1e-3 : 1e-2;
            for (int i = 0; i < opt[o].nlr; i++)
                if (fabs(opt[o].lr[i] / def - 1) < 1e-9 && opt[o].ns[i] > 0) {
                    snprintf(key, sizeof key, "default_loss_%s", k);
                    gd_table_kv(t, key, "%.3f", mean(opt[o].loss[i], opt[o].ns[i]));
                    snprintf(key, sizeof key, "default_acc_%s", k);
                    gd_table_kv(t, key, "%.1f", 100 * mean(opt[o].acc[i], opt[o].ns[i]));
                    snprintf(key, sizeof key, "default_gap_%s", k);
                    gd_table_kv(t, key, "%.1f", acc - 100 * mean(opt[o].acc[i], opt[o].ns[i]));
                }
            /* within 0.05 of the best mean loss: how wide the good range is */
            double lo = NAN, hi = NAN;
            for (int i = 0; i < opt[o].nlr; i++)
                if (opt[o].ndiv[i] == 0 && mean(opt[o].loss[i], opt[o].ns[i]) <= loss + 0.05) {
                    if (isnan(lo)) lo = opt[o].lr[i];
                    hi = opt[o].lr[i];
                }
            snprintf(key, sizeof key, "good_lo_%s", k), gd_table_kv(t, key, "%g", lo);
            snprintf(key, sizeof key, "good_hi_%s", k), gd_table_kv(t, key, "%g", hi);
            snprintf(best_tab + strlen(best_tab), sizeof best_tab - strlen(best_tab), "\n| %s | %g | %.3f | %.1f%% | %s |",
                     pretty(opt[o].name), bl, loss, acc, divtext);
            if (opt[o].nrt > 0) {
                double v = median(opt[o].valley, opt[o].nrt), s = median(opt[o].steep, opt[o].nrt),
                       m = median(opt[o].minimum, opt[o].nrt);
                snprintf(key, sizeof key, "rt_valley_%s", k), gd_table_kv(t, key, "%.2g", v);
                snprintf(key, sizeof key, "rt_steep_%s", k), gd_table_kv(t, key, "%.2g", s);
                snprintf(key, sizeof key, "rt_minimum_%s", k), gd_table_kv(t, key, "%.2g", m);
                snprintf(key, sizeof key, "rt_factor_valley_%s", k), gd_table_kv(t, key, "%.1f", bl / v);
                snprintf(key, sizeof key, "rt_factor_minimum_%s", k), gd_table_kv(t, key, "%.1f", bl / m);
                snprintf(rt_tab + strlen(rt_tab), sizeof rt_tab - strlen(rt_tab),
                         "\n| %s | %g | %.2g | %.2g | %.2g | %.1f |", pretty(opt[o].name), bl, v, s, m, bl / v);
            }
        }
        for (int i = 0; i < nsettings; i++) gd_table_kv(t, settings[i][0], "%s", settings[i][1]);
        gd_table_kv(t, "sweep_seeds", "%d", nseeds);
        gd_table_kv(t, "sweep_nlr", "%d", nlr);
        gd_table_kv(t, "best_table", "%s", best_tab);
        gd_table_kv(t, "rt_table", "%s", rt_tab);
        if (gd_table_close(t) != 0) status = 1;
    }
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return status;
}

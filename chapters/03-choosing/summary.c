/* summary.c -- the chapter's learning-rate sweep and range tests, summarised, Chapter 3.
 *
 * Reads the table build/bin/sweep wrote (one row per lr, optimizer, schedule and seed)
 * and the suggestion tables of ch03-rangetest (one row per seed), and writes
 *   --curves   per optimizer and schedule (one block each) and lr: the median, min and max
 *              over seeds of the final validation loss and accuracy, and how many seeds
 *              diverged
 *   --numbers  per optimizer and schedule the best lr (lowest MEDIAN validation loss over
 *              the seeds, among lrs where no seed diverged) and the lrs within 0.05 of it;
 *              the defaults' gap; the range test's suggestions (median over seeds, and the
 *              factor of every seed's suggestion to the best lr of the schedule given by
 *              --score-sched); which suggestion is nearest, generated; the tables the
 *              text shows
 * Leaves out: any fitting between grid points (the best lr is a grid point, so it is
 * known to within a factor of 10^(1/4) = 1.78 on a 4-per-decade grid).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXO 8
#define MAXC 4
#define MAXL 64
#define MAXS 32
#define NEAR 0.05 /* "near the best": median val. loss within this of the best */

typedef struct {
    double lr[MAXL];
    int nlr;
    double loss[MAXL][MAXS], acc[MAXL][MAXS];
    int ns[MAXL], ndiv[MAXL];
} curve;

typedef struct {
    char name[64];                   /* optimizer spec as in the sweep: sgd, adam, ... */
    curve c[MAXC];                   /* per schedule */
    double sug[3][MAXS];             /* range test: valley, steep, minimum per seed */
    int nrt;
} optim_rows;

static optim_rows opt[MAXO];
static int nopt;
static char scheds[MAXC][64];
static int nsched;

static optim_rows *find_optim(const char *name) {
    for (int i = 0; i < nopt; i++)
        if (strcmp(opt[i].name, name) == 0) return &opt[i];
    if (nopt == MAXO) return NULL;
    snprintf(opt[nopt].name, sizeof opt[nopt].name, "%s", name);
    return &opt[nopt++];
}

static int find_sched(const char *name) {
    for (int i = 0; i < nsched; i++)
        if (strcmp(scheds[i], name) == 0) return i;
    if (nsched == MAXC) return -1;
    snprintf(scheds[nsched], sizeof scheds[0], "%s", name);
    return nsched++;
}

static int lr_index(curve *o, double lr) {
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

/* the sweep's settings, from its '#' lines: "# model: 784-64-10"; key, and the value
 * whole (a heap copy, as long as the line) */
static char settings[8][32], *setting_value[8];
static int nsettings;

/* Messages go through gd_seterr, which escapes control characters (a path with a newline
 * still gives one line). */
static int read_sweep(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        gd_seterr("%s: cannot open", path);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return -1;
    }
    char line[4096], *f[16];
    int header = 0;
    while (fgets(line, sizeof line, fp)) {
        if (!strchr(line, '\n') && !feof(fp)) {
            gd_seterr("%s: a line longer than %zu characters", path, sizeof line - 2);
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            fclose(fp);
            return -1;
        }
        if (line[0] == '#') {
            const char *keys[] = {"model", "epochs", "batch_size", "train_subset", "val", "points"};
            for (int k = 0; k < 6 && nsettings < 8; k++) {
                size_t n = strlen(keys[k]);
                if (strncmp(line + 2, keys[k], n) == 0 && line[2 + n] == ':') {
                    snprintf(settings[nsettings], sizeof settings[0], "sweep_%s", keys[k]);   /* keys: short */
                    const char *v = line[3 + n] ? line + 4 + n : "";    /* "# key: value" */
                    if (!(setting_value[nsettings] = strndup(v, strcspn(v, "\n")))) {
                        fprintf(stderr, "%s: out of memory\n", gd_prog());
                        fclose(fp);
                        return -1;
                    }
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
        /* what does not fit is refused, never dropped or cut short in silence */
        if (strlen(f[2]) >= sizeof opt[0].name || strlen(f[3]) >= sizeof scheds[0]) {
            gd_seterr("%s: an optimizer or schedule spec longer than %zu characters", path,
                      sizeof scheds[0] - 1);
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            fclose(fp);
            return -1;
        }
        optim_rows *o = find_optim(f[2]);
        int sc = find_sched(f[3]);
        curve *c = o && sc >= 0 ? &o->c[sc] : NULL;
        int i = c ? lr_index(c, atof(f[1])) : -1;
        if (i < 0 || c->ns[i] + c->ndiv[i] >= MAXS) {
            gd_seterr("%s: more than %d optimizers, %d schedules, %d lrs or %d seeds", path, MAXO, MAXC, MAXL,
                      MAXS);
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            fclose(fp);
            return -1;
        }
        if (strcmp(f[5], "ok") == 0) {
            c->loss[i][c->ns[i]] = atof(f[8]);
            c->acc[i][c->ns[i]++] = 100 * atof(f[9]);
        } else {
            c->ndiv[i]++;
        }
    }
    fclose(fp);
    if (nopt == 0) {
        gd_seterr("%s: no rows", path);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return -1;
    }
    return 0;
}

static int read_suggest(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        gd_seterr("%s: cannot open", path);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return -1;
    }
    char line[4096], *f[16];
    int header = 0;
    while (fgets(line, sizeof line, fp)) {
        if (!strchr(line, '\n') && !feof(fp)) {
            gd_seterr("%s: a line longer than %zu characters", path, sizeof line - 2);
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            fclose(fp);
            return -1;
        }
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            continue;
        }
        /* label seed steps stopped valley steep minimum min_lr */
        if (fields(line, f, 16) < 8) continue;
        optim_rows *o = strlen(f[0]) < sizeof opt[0].name ? find_optim(f[0]) : NULL;
        if (!o || o->nrt == MAXS) {
            gd_seterr("%s: a label longer than %zu characters, or more than %d optimizers or %d seeds", path,
                      sizeof opt[0].name - 1, MAXO, MAXS);
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            fclose(fp);
            return -1;
        }
        o->sug[0][o->nrt] = atof(f[4]);
        o->sug[1][o->nrt] = atof(f[5]);
        o->sug[2][o->nrt++] = atof(f[6]);
    }
    fclose(fp);
    return 0;
}

/* "sgd:momentum=0.9" -> "momentum" for keys; "cosine:T=158" -> "cosine". The names are
 * at most 63 characters (read_sweep refuses longer ones) and every k here holds 64. */
static void keyname(char *k, size_t size, const char *name) {
    snprintf(k, size, "%s", strcmp(name, "sgd") == 0 ? "sgd" : strstr(name, "momentum") ? "momentum" : name);
    k[strcspn(k, ":")] = '\0';
    for (char *p = k; *p; p++)
        if (*p == '=' || *p == '.' || *p == ',') *p = '_';
}

static const char *pretty(const char *name) {
    return strcmp(name, "sgd") == 0 ? "SGD" : strstr(name, "momentum") ? "SGD + momentum 0.9"
         : strcmp(name, "adam") == 0 ? "Adam" : name;
}

static double med(const double *v, int n) { return gd_stats_of(v, n).median; }

/* best lr of a curve: lowest median loss among lrs where no seed diverged; -1 if none */
static int best_of(const curve *c) {
    int best = -1;
    for (int i = 0; i < c->nlr; i++)
        if (c->ndiv[i] == 0 && c->ns[i] > 0 && (best < 0 || med(c->loss[i], c->ns[i]) < med(c->loss[best], c->ns[best])))
            best = i;
    return best;
}

static const char *sug_name[3] = {"valley", "steep", "minimum/10"};
static const char *sug_key[3] = {"valley", "steep", "minimum"};

int main(int argc, char **argv) {
    const char *sweep = NULL, *suggest = NULL, *curves = NULL, *numbers = NULL, *score = "cosine";
    gd_opt opts[] = {
        GD_OPT_STRING("sweep", &sweep, "the sweep table (build/bin/sweep --out)"),
        GD_OPT_OUT("suggest", &suggest, "range-test suggestion tables, comma-separated (ch03-rangetest --suggest)"),
        GD_OPT_STRING("score-sched", &score, "grade the suggestions against the best lr of this schedule (its "
                      "name before ':')"),
        GD_OPT_OUT("curves", &curves, "write the curves over lr here"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes here"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv, "Summarise the chapter's lr sweep and range tests (Chapter 3).", opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!sweep) {
        fprintf(stderr, "%s: --sweep: required\n", gd_prog());
        return 2;
    }
    if (read_sweep(sweep) != 0) return 2;   /* the tables given are the user's input */
    int ssc = -1;
    for (int s = 0; s < nsched; s++) {
        char k[64];
        keyname(k, sizeof k, scheds[s]);
        if (strcmp(k, score) == 0) ssc = s;
    }
    if (ssc < 0) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--score-sched: the sweep has no schedule '%s'", score);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (suggest) {
        char *list = strdup(suggest);
        if (!list) return fprintf(stderr, "%s: out of memory\n", gd_prog()), 1;
        for (char *save = NULL, *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save))
            if (read_suggest(s) != 0) {
                free(list);
                return 2;
            }
        free(list);
    }
    int status = 0;
    if (curves) {
        gd_table *t = gd_table_open(curves, "optim sched name lr n_ok n_diverged loss_med loss_min loss_max acc_med "
                                            "acc_min acc_max");
        if (!t) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
        gd_table_meta(t, "program", "ch03-summary");
        gd_table_meta(t, "source", "%s", sweep);
        gd_table_meta(t, "columns", "one block per optimizer and schedule (optimizer outer); name: the legend, '_' for "
                      "' '; loss and acc: final validation loss and accuracy (%%) over the seeds that did not "
                      "diverge, nan if all did");
        for (int o = 0; o < nopt; o++)
            for (int s = 0; s < nsched; s++) {
                curve *c = &opt[o].c[s];
                if (c->nlr == 0) continue;
                char k[64], name[128];
                keyname(k, sizeof k, scheds[s]);
                snprintf(name, sizeof name, "%s,_%s", pretty(opt[o].name), k);
                for (char *q = name; *q; q++)
                    if (*q == ' ') *q = '_';
                for (int i = 0; i < c->nlr; i++) {
                    gd_stats l = gd_stats_of(c->loss[i], c->ns[i]), a = gd_stats_of(c->acc[i], c->ns[i]);
                    gd_table_row(t, "%s %s %s %g %d %d %.5f %.5f %.5f %.3f %.3f %.3f", opt[o].name, scheds[s], name,
                                 c->lr[i], c->ns[i], c->ndiv[i], l.median, l.min, l.max, a.median, a.min, a.max);
                }
                gd_table_block(t);
            }
        if (gd_table_close(t) != 0) status = 1;
    }
    if (numbers && !status) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) return fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()), 1;
        gd_table_meta(t, "program", "ch03-summary --sweep %s", sweep);
        char best_tab[8192] = "| optimizer | schedule | best lr | lrs within 0.05 of its loss | val. loss, median "
                              "(range) | val. accuracy, median (range) | lrs where a seed diverged |\n"
                              "|---|---|---:|---|---|---|---|";
        char rt_tab[8192];
        snprintf(rt_tab, sizeof rt_tab, "| optimizer | best lr (%s) | valley | steep | minimum/10 | nearest (median "
                 "over seeds) |\n|---|---:|---:|---:|---:|---|", score);
        int nseeds = 0, nlr = 0, nrt_all = 0, below[3] = {0, 0, 0}, nearest_n[3] = {0, 0, 0};
        double maxf[3] = {1, 1, 1};
        char nearest_list[3][256] = {"", "", ""};
        for (int o = 0; o < nopt; o++) {
            char k[64], key[160];
            keyname(k, sizeof k, opt[o].name);
            double best_lr[MAXC];
            for (int s = 0; s < nsched; s++) {
                curve *c = &opt[o].c[s];
                best_lr[s] = NAN;
                if (c->nlr == 0) continue;
                char sk[64], ks[128];
                keyname(sk, sizeof sk, scheds[s]);
                snprintf(ks, sizeof ks, "%s_%s", k, sk);
                int first_div = -1;
                nlr = c->nlr;
                for (int i = 0; i < c->nlr; i++) {
                    if (c->ns[i] + c->ndiv[i] > nseeds) nseeds = c->ns[i] + c->ndiv[i];
                    if (c->ndiv[i] > 0 && first_div < 0) first_div = i;
                }
                /* the largest lr of the grid: how the runs there end */
                int top = 0;
                for (int i = 1; i < c->nlr; i++)
                    if (c->lr[i] > c->lr[top]) top = i;
                gd_stats ta = gd_stats_of(c->acc[top], c->ns[top]), tl = gd_stats_of(c->loss[top], c->ns[top]);
                snprintf(key, sizeof key, "top_lr_%s", ks), gd_table_kv(t, key, "%g", c->lr[top]);
                snprintf(key, sizeof key, "top_ndiv_%s", ks), gd_table_kv(t, key, "%d", c->ndiv[top]);
                snprintf(key, sizeof key, "top_acc_med_%s", ks), gd_table_kv(t, key, "%.1f", ta.median);
                snprintf(key, sizeof key, "top_acc_hi_%s", ks), gd_table_kv(t, key, "%.1f", ta.max);
                snprintf(key, sizeof key, "top_loss_med_%s", ks), gd_table_kv(t, key, "%.2f", tl.median);
                int best = best_of(c);
                if (best < 0) continue;
                gd_stats l = gd_stats_of(c->loss[best], c->ns[best]), a = gd_stats_of(c->acc[best], c->ns[best]);
                best_lr[s] = c->lr[best];
                snprintf(key, sizeof key, "best_lr_%s", ks), gd_table_kv(t, key, "%g", c->lr[best]);
                snprintf(key, sizeof key, "best_loss_%s", ks), gd_table_kv(t, key, "%.3f", l.median);
                snprintf(key, sizeof key, "best_loss_lo_%s", ks), gd_table_kv(t, key, "%.3f", l.min);
                snprintf(key, sizeof key, "best_loss_hi_%s", ks), gd_table_kv(t, key, "%.3f", l.max);
                snprintf(key, sizeof key, "best_acc_%s", ks), gd_table_kv(t, key, "%.1f", a.median);
                char divtext[64] = "none";
                if (first_div >= 0) snprintf(divtext, sizeof divtext, "%g and above", c->lr[first_div]);
                snprintf(key, sizeof key, "first_div_%s", ks), gd_table_kv(t, key, "%s", divtext);
                /* the defaults: Adam 1e-3, SGD (with or without momentum) 1e-2 */
                double def = strcmp(k, "adam") == 0 ? 1e-3 : 1e-2;
                for (int i = 0; i < c->nlr; i++)
                    if (fabs(c->lr[i] / def - 1) < 1e-9 && c->ns[i] > 0) {
                        snprintf(key, sizeof key, "default_acc_%s", ks);
                        gd_table_kv(t, key, "%.1f", med(c->acc[i], c->ns[i]));
                        snprintf(key, sizeof key, "default_gap_%s", ks);
                        gd_table_kv(t, key, "%.1f", a.median - med(c->acc[i], c->ns[i]));
                    }
                /* within NEAR of the best median loss: how wide the good range is */
                double lo = NAN, hi = NAN;
                for (int i = 0; i < c->nlr; i++)
                    if (c->ndiv[i] == 0 && c->ns[i] > 0 && med(c->loss[i], c->ns[i]) <= l.median + NEAR) {
                        if (isnan(lo)) lo = c->lr[i];
                        hi = c->lr[i];
                    }
                snprintf(key, sizeof key, "good_lo_%s", ks), gd_table_kv(t, key, "%g", lo);
                snprintf(key, sizeof key, "good_hi_%s", ks), gd_table_kv(t, key, "%g", hi);
                char good[64];
                if (lo == hi) snprintf(good, sizeof good, "%g only", lo);
                else snprintf(good, sizeof good, "%g to %g", lo, hi);
                snprintf(best_tab + strlen(best_tab), sizeof best_tab - strlen(best_tab),
                         "\n| %s | %s | %g | %s | %.3f (%.3f to %.3f) | %.1f%% (%.1f to %.1f) | %s |", pretty(opt[o].name),
                         sk, c->lr[best], good, l.median, l.min, l.max, a.median, a.min, a.max, divtext);
            }
            /* how the best lr moves from the first schedule (constant) to the scored one */
            if (ssc != 0 && !isnan(best_lr[0]) && !isnan(best_lr[ssc])) {
                snprintf(key, sizeof key, "sched_shift_%s", k);
                gd_table_kv(t, key, "%.2g", best_lr[ssc] / best_lr[0]);
            }
            double bl = best_lr[ssc];
            if (opt[o].nrt > 0 && !isnan(bl)) {
                double m[3], lf[3];
                int near = 0;
                for (int g = 0; g < 3; g++) {
                    m[g] = med(opt[o].sug[g], opt[o].nrt);
                    lf[g] = fabs(log(m[g] / bl));
                    if (lf[g] < lf[near]) near = g;
                    snprintf(key, sizeof key, "rt_%s_%s", sug_key[g], k), gd_table_kv(t, key, "%.2g", m[g]);
                    snprintf(key, sizeof key, "rt_factor_%s_%s", sug_key[g], k), gd_table_kv(t, key, "%.2g", bl / m[g]);
                    for (int r = 0; r < opt[o].nrt; r++) {
                        double x = opt[o].sug[g][r];
                        below[g] += x < bl;
                        double f = x > bl ? x / bl : bl / x;
                        if (f > maxf[g]) maxf[g] = f;
                    }
                }
                nrt_all += opt[o].nrt;
                nearest_n[near]++;
                snprintf(nearest_list[near] + strlen(nearest_list[near]), sizeof nearest_list[0] - strlen(nearest_list[near]),
                         "%s%s", nearest_list[near][0] ? ", " : "", pretty(opt[o].name));
                snprintf(key, sizeof key, "rt_nearest_%s", k), gd_table_kv(t, key, "%s", sug_name[near]);
                snprintf(rt_tab + strlen(rt_tab), sizeof rt_tab - strlen(rt_tab), "\n| %s | %g | %.2g | %.2g | %.2g | %s |",
                         pretty(opt[o].name), bl, m[0], m[1], m[2], sug_name[near]);
            }
        }
        /* generated sentences: which suggestion is nearest, for which optimizers */
        char nearest_text[1024] = "";
        for (int g = 0; g < 3; g++) {
            if (!nearest_n[g]) continue;
            snprintf(nearest_text + strlen(nearest_text), sizeof nearest_text - strlen(nearest_text), "%s**%s** for %s",
                     nearest_text[0] ? "; " : "", sug_name[g], nearest_list[g]);
        }
        gd_table_kv(t, "rt_nearest_text", "%s", nearest_text);
        for (int g = 0; g < 3; g++) {
            char key[64];
            snprintf(key, sizeof key, "rt_below_%s", sug_key[g]), gd_table_kv(t, key, "%d", below[g]);
            snprintf(key, sizeof key, "rt_maxfactor_%s", sug_key[g]), gd_table_kv(t, key, "%.2g", maxf[g]);
            snprintf(key, sizeof key, "rt_nearest_n_%s", sug_key[g]), gd_table_kv(t, key, "%d", nearest_n[g]);
        }
        gd_table_kv(t, "rt_runs", "%d", nrt_all);
        gd_table_kv(t, "rt_score_sched", "%s", score);
        for (int i = 0; i < nsettings; i++) gd_table_kv(t, settings[i], "%s", setting_value[i]);
        gd_table_kv(t, "sweep_seeds", "%d", nseeds);
        gd_table_kv(t, "sweep_nlr", "%d", nlr);
        gd_table_kv(t, "sweep_near", "%g", NEAR);
        gd_table_kv(t, "best_table", "%s", best_tab);
        gd_table_kv(t, "rt_table", "%s", rt_tab);
        if (gd_table_close(t) != 0) status = 1;
    }
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return status;
}

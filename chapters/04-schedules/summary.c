/* summary.c -- the Fashion-MNIST comparison of Chapter 4: many runs of train.c, one table.
 *
 * Reads the tables that ch04-train wrote (one per schedule and seed, given as arguments),
 * groups them by schedule, and writes: each schedule's final test accuracy, training
 * loss and test loss as mean and sample standard deviation over the seeds (--out); the
 * curves averaged over the seeds, for the figures (--curves); and the numbers and the
 * table the chapter quotes (--numbers). Schedules keep the order of the arguments.
 * Leaves out: significance tests (with three seeds, the text compares the gaps with
 * the standard deviations and says how far that goes).
 */
#include "gd.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 256
#define MAX_SCHEDS 32

typedef struct {
    long step;
    double epoch, lr, train_loss, train_eval_loss, train_eval_acc, test_loss, test_acc;
} row;

typedef struct {
    char path[1024];
    char name[128], spec[1024], optim[512], model[512];
    unsigned long long seed;
    long diverged_at;
    int n;
    row *rows;
    const row *final; /* the last evaluated row */
} run;

typedef struct {
    char name[128];
    int runs[MAX_RUNS], n;
    double acc, acc_sd, loss, loss_sd, test_loss, test_loss_sd; /* over the seeds */
} group;

static int fail(const char *path, const char *what) {
    gd_seterr("%s: %s", path, what);
    return -1;
}

/* "# key: value" -> value into dst, if line is that comment. */
static int meta(const char *line, const char *key, char *dst, size_t size) {
    size_t n = strlen(key);
    if (strncmp(line, "# ", 2) != 0 || strncmp(line + 2, key, n) != 0 || strncmp(line + 2 + n, ": ", 2) != 0)
        return 0;
    snprintf(dst, size, "%s", line + 4 + n);
    return 1;
}

static int read_run(run *r, const char *path) {
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) return fail(path, "cannot open");
    char line[4096], seed[64] = "", sched[1200] = "", diverged[64] = "-1";
    int header = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') {
            (void)(meta(line, "schedule", sched, sizeof sched) || meta(line, "seed", seed, sizeof seed) ||
                   meta(line, "optimizer", r->optim, sizeof r->optim) ||
                   meta(line, "model", r->model, sizeof r->model) ||
                   meta(line, "diverged_at", diverged, sizeof diverged));
            continue;
        }
        if (!header) {
            if (strncmp(line, "step\tepoch\tlr\ttrain_loss\t", 24) != 0) {
                fclose(f);
                return fail(path, "not a ch04-train table (no 'step epoch lr train_loss ...' header)");
            }
            header = 1;
            continue;
        }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 256;
            r->rows = realloc(r->rows, (size_t)cap * sizeof *r->rows);
        }
        row *w = &r->rows[r->n];
        if (sscanf(line, "%ld %lf %lf %lf %lf %lf %lf %lf", &w->step, &w->epoch, &w->lr, &w->train_loss,
                   &w->train_eval_loss, &w->train_eval_acc, &w->test_loss, &w->test_acc) != 8) {
            fclose(f);
            return fail(path, "a row without 8 numbers");
        }
        r->n++;
    }
    fclose(f);
    /* "# schedule: NAME = SPEC (steps are updates)" */
    char *eq = strstr(sched, " = ");
    if (!eq || !seed[0]) return fail(path, "no '# schedule:' or '# seed:' line");
    *eq = '\0';
    snprintf(r->name, sizeof r->name, "%s", sched);
    char *paren = strstr(eq + 3, " (");
    if (paren) *paren = '\0';
    snprintf(r->spec, sizeof r->spec, "%s", eq + 3);
    r->seed = strtoull(seed, NULL, 10);
    r->diverged_at = atol(diverged);
    for (int i = r->n - 1; i >= 0 && !r->final; i--)
        if (!isnan(r->rows[i].test_acc)) r->final = &r->rows[i];
    if (!r->final) return fail(path, "no evaluated row");
    return 0;
}

static void mean_sd(const double *x, int n, double *mean, double *sd) {
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : NAN; /* sample standard deviation */
}

/* A schedule name as a numbers key: letters, digits and '_'. */
static void keyname(char *dst, size_t size, const char *name) {
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) dst[i] = isalnum((unsigned char)name[i]) ? name[i] : '_';
    dst[i] = '\0';
}

static run runs[MAX_RUNS];
static group groups[MAX_SCHEDS];

int main(int argc, char **argv) {
    const char *out = NULL, *curves = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_STRING("out", &out, "write the mean and sd per schedule to this table"),
        GD_OPT_STRING("curves", &curves, "write the curves averaged over the seeds to this table"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    /* The options come first, then the run tables. gd_cli_parse takes options only, so it
     * is given the leading "--name value" / "--name=value" / "--help" arguments. */
    int first = 1;
    while (first < argc && strncmp(argv[first], "--", 2) == 0)
        first += strchr(argv[first], '=') || strcmp(argv[first], "--help") == 0 ? 1 : 2;
    if (first > argc) first = argc;
    int rc = gd_cli_parse(first, argv,
                          "Summarize ch04-train runs: final test accuracy and training loss per schedule, mean and "
                          "sd over seeds (Chapter 4). Arguments: the options, then the run tables.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    int nruns = argc - first, ngroups = 0;
    if (nruns < 1) {
        fprintf(stderr, "%s: no run tables given (see --help)\n", gd_prog());
        return 2;
    }
    if (nruns > MAX_RUNS) {
        fprintf(stderr, "%s: more than %d run tables\n", gd_prog(), MAX_RUNS);
        return 2;
    }
    for (int i = 0; i < nruns; i++) {
        if (read_run(&runs[i], argv[first + i]) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        int g = 0;
        while (g < ngroups && strcmp(groups[g].name, runs[i].name) != 0) g++;
        if (g == ngroups) {
            if (ngroups == MAX_SCHEDS) {
                fprintf(stderr, "%s: more than %d schedules\n", gd_prog(), MAX_SCHEDS);
                return 1;
            }
            snprintf(groups[ngroups++].name, sizeof groups[0].name, "%s", runs[i].name);
        }
        group *G = &groups[g];
        const run *a = &runs[G->runs[0]], *b = &runs[i];
        /* the seeds of one schedule must be the same experiment, logged at the same steps */
        if (G->n > 0 && (strcmp(a->spec, b->spec) || strcmp(a->optim, b->optim) || a->n != b->n)) {
            fprintf(stderr, "%s: %s: not the same run as %s with another seed\n", gd_prog(), b->path, a->path);
            return 1;
        }
        for (int j = 0; j < G->n; j++)
            if (runs[G->runs[j]].seed == b->seed) {
                fprintf(stderr, "%s: %s: seed %llu twice for %s\n", gd_prog(), b->path, b->seed, b->name);
                return 1;
            }
        G->runs[G->n++] = i;
    }

    for (int g = 0; g < ngroups; g++) {
        group *G = &groups[g];
        double acc[MAX_RUNS], loss[MAX_RUNS], tl[MAX_RUNS];
        for (int j = 0; j < G->n; j++) {
            const row *f = runs[G->runs[j]].final;
            acc[j] = 100.0 * f->test_acc, loss[j] = f->train_eval_loss, tl[j] = f->test_loss;
        }
        mean_sd(acc, G->n, &G->acc, &G->acc_sd);
        mean_sd(loss, G->n, &G->loss, &G->loss_sd);
        mean_sd(tl, G->n, &G->test_loss, &G->test_loss_sd);
        printf("%-10s %d seeds: test accuracy %.2f +- %.2f %%, train loss %.4f +- %.4f, test loss %.4f +- %.4f\n",
               G->name, G->n, G->acc, G->acc_sd, G->loss, G->loss_sd, G->test_loss, G->test_loss_sd);
    }

    gd_table *t = NULL;
    if (out) {
        if (!(t = gd_table_open(out, "schedule seeds test_acc test_acc_sd train_loss train_loss_sd test_loss "
                                     "test_loss_sd spec")))
            goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        gd_table_meta(t, "optimizer", "%s", runs[0].optim);
        gd_table_meta(t, "model", "%s", runs[0].model);
        gd_table_meta(t, "columns", "final test accuracy (%%), loss on the evaluated training images, test loss: "
                                    "mean and sample sd over the seeds");
        for (int g = 0; g < ngroups; g++) {
            const group *G = &groups[g];
            gd_table_row(t, "%s %d %.4f %.4f %.6f %.6f %.6f %.6f %s", G->name, G->n, G->acc, G->acc_sd, G->loss,
                         G->loss_sd, G->test_loss, G->test_loss_sd, runs[G->runs[0]].spec);
        }
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (curves) {
        if (!(t = gd_table_open(curves, "sched name step epoch lr train_loss train_eval_loss test_acc"))) goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        gd_table_meta(t, "columns", "means over the seeds of each schedule; test_acc in %%; nan where not evaluated");
        for (int g = 0; g < ngroups; g++) {
            const group *G = &groups[g];
            if (g > 0) gd_table_block(t);
            const run *r0 = &runs[G->runs[0]];
            for (int i = 0; i < r0->n; i++) {
                double tl = 0, el = 0, ta = 0;
                for (int j = 0; j < G->n; j++) {
                    const row *w = &runs[G->runs[j]].rows[i];
                    tl += w->train_loss, el += w->train_eval_loss, ta += w->test_acc;
                }
                gd_table_row(t, "%d %s %ld %.4f %.6g %.6f %.6f %.4f", g, G->name, r0->rows[i].step, r0->rows[i].epoch,
                             r0->rows[i].lr, tl / G->n, el / G->n, 100.0 * ta / G->n);
            }
        }
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (numbers) {
        if (!(t = gd_table_open(numbers, "key value"))) goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        const group *constant = NULL, *best = NULL;
        for (int g = 0; g < ngroups; g++) {
            if (!strcmp(groups[g].name, "constant")) constant = &groups[g];
            if (!best || groups[g].acc > best->acc) best = &groups[g];
        }
        char buf[8192], key[256], kn[128];
        int len = snprintf(buf, sizeof buf,
                           "| schedule | spec (steps are updates) | test accuracy (%%) | training loss | test loss |\n"
                           "|---|---|---:|---:|---:|\n");
        for (int g = 0; g < ngroups && len < (int)sizeof buf - 1200; g++) {
            const group *G = &groups[g];
            len += snprintf(buf + len, sizeof buf - len, "| %s | `%s` | %.1f ± %.2f | %.3f ± %.3f | %.3f ± %.3f |\n",
                            G->name, runs[G->runs[0]].spec, G->acc, G->acc_sd, G->loss, G->loss_sd, G->test_loss,
                            G->test_loss_sd);
            keyname(kn, sizeof kn, G->name);
#define KV(suffix, ...) (snprintf(key, sizeof key, "train_%s_" suffix, kn), gd_table_kv(t, key, __VA_ARGS__))
            KV("acc", "%.1f", G->acc);
            KV("acc_sd", "%.2f", G->acc_sd);
            KV("loss", "%.3f", G->loss);
            KV("loss_sd", "%.3f", G->loss_sd);
            KV("test_loss", "%.3f", G->test_loss);
            KV("spec", "%s", runs[G->runs[0]].spec);
            if (constant) {
                KV("acc_gain", "%.1f", G->acc - constant->acc);
                KV("loss_ratio", "%.2f", G->loss / constant->loss);
            }
#undef KV
        }
        gd_table_kv(t, "train_table", "%s", buf);
        gd_table_kv(t, "train_optim", "%s", runs[0].optim);
        gd_table_kv(t, "train_model", "%s", runs[0].model);
        gd_table_kv(t, "train_nseeds", "%d", groups[0].n);
        len = 0;
        for (int j = 0; j < groups[0].n; j++)
            len += snprintf(buf + len, sizeof buf - len, "%s%llu", j ? ", " : "", runs[groups[0].runs[j]].seed);
        gd_table_kv(t, "train_seeds", "%s", buf);
        gd_table_kv(t, "train_epochs", "%.0f", runs[0].final->epoch);
        gd_table_kv(t, "train_steps", "%ld", runs[0].final->step);
        gd_table_kv(t, "train_best", "%s", best->name);
        gd_table_kv(t, "train_best_acc", "%.1f", best->acc);
        /* the spread between the decaying schedules, against the seeds' spread */
        double lo = INFINITY, hi = -INFINITY, sd = 0;
        for (int g = 0; g < ngroups; g++) {
            if (&groups[g] == constant) continue;
            lo = fmin(lo, groups[g].acc), hi = fmax(hi, groups[g].acc), sd = fmax(sd, groups[g].acc_sd);
        }
        /* the smallest and largest gain in accuracy over the constant lr */
        const group *glo = NULL, *ghi = NULL;
        for (int g = 0; g < ngroups && constant; g++) {
            if (&groups[g] == constant) continue;
            if (!glo || groups[g].acc < glo->acc) glo = &groups[g];
            if (!ghi || groups[g].acc > ghi->acc) ghi = &groups[g];
        }
        if (glo) {
            gd_table_kv(t, "train_gain_lo", "%.1f", glo->acc - constant->acc);
            gd_table_kv(t, "train_gain_lo_name", "%s", glo->name);
            gd_table_kv(t, "train_gain_hi", "%.1f", ghi->acc - constant->acc);
            gd_table_kv(t, "train_gain_hi_name", "%s", ghi->name);
        }
        gd_table_kv(t, "train_decay_acc_lo", "%.1f", lo);
        gd_table_kv(t, "train_decay_acc_hi", "%.1f", hi);
        gd_table_kv(t, "train_decay_acc_range", "%.1f", hi - lo);
        gd_table_kv(t, "train_decay_sd_max", "%.2f", sd);
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    for (int i = 0; i < nruns; i++) free(runs[i].rows);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    return 1;
}

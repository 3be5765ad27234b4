/* summary.c -- the Fashion-MNIST race of Chapter 4: the arms' tables (train.c), one result.
 *
 * Reads one table per schedule (given as arguments; each holds a block per base lr and
 * seed), and for every schedule picks the base lr whose median validation accuracy over
 * the seeds is highest (ties: the smaller lr). The test set plays no part in that choice;
 * its numbers are reported for the chosen lr only. Writes: every (schedule, base lr) with
 * the median and range over the seeds of its final validation accuracy, test accuracy,
 * training loss and test loss (--out); at the chosen lr, the median and the range over the
 * seeds of each logged row, for the figure (--curves); and the numbers, tables and the
 * comparisons the chapter prints (--numbers). Schedules keep the order of the arguments.
 * A run that diverged has no final numbers: it counts as chance (10 %) when the lr is
 * chosen, and is left out (and counted) in the medians.
 * Leaves out: significance tests; the text states medians, ranges and seed counts.
 */
#include "gd.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHEDS 16
#define MAX_LRS 16
#define MAX_SEEDS 64
#define MAX_ROWS 4096

typedef struct {
    double base;
    unsigned long long seed;
    int n;                           /* rows */
    double *step, *epoch, *lr, *train_loss, *val_acc;
    double val, test_acc, test_loss, train_eval_loss; /* final; NaN if diverged */
} run;

/* The text fields come from the tables, and an arm's name and spec are the --sched its
 * ch04-train was given: heap strings, whole however long ("" when a table lacks the line). */
typedef struct {
    char *path, *name, *spec, *optim, *model, *warmup, *seeds, *sizes;
    run *runs;
    int nruns;
    double lrs[MAX_LRS];
    int nlrs, chosen;                /* index into lrs */
} arm;

static arm arms[MAX_SCHEDS];

static int fail(const char *path, const char *what) {
    gd_seterr("%s: %s", path, what);
    return -1;
}

/* "# key: value" -> a copy of value into *dst (freeing what was there), if line is that
 * comment. */
static int meta(const char *line, const char *key, char **dst) {
    size_t n = strlen(key);
    if (strncmp(line, "# ", 2) != 0 || strncmp(line + 2, key, n) != 0 || strncmp(line + 2 + n, ": ", 2) != 0)
        return 0;
    free(*dst);
    *dst = strdup(line + 4 + n);
    return 1;
}

static void arm_free(arm *a) {
    for (int j = 0; j < a->nruns; j++) {
        run *r = &a->runs[j];
        free(r->step), free(r->epoch), free(r->lr), free(r->train_loss), free(r->val_acc);
    }
    free(a->runs);
    char **text[] = {&a->path, &a->name, &a->spec, &a->optim, &a->model, &a->warmup, &a->seeds, &a->sizes};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) free(*text[i]);
    memset(a, 0, sizeof *a);
}

/* A string that grows as it is written to: the chapter's tables name every arm, and an
 * arm's name can be as long as a schedule spec. */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_reset(strbuf *b) {
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

static void sb_add(strbuf *b, const char *fmt, ...) GD_PRINTF(2, 3);
static void sb_add(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = 2 * (b->len + (size_t)n + 1);
        char *s = realloc(b->s, cap);
        if (!s) return;             /* out of memory: the text stays as it was */
        b->s = s, b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void push(double **v, int n, double x) {
    if ((n & (n - 1)) == 0) *v = realloc(*v, (size_t)(n ? 2 * n : 1) * sizeof **v);
    (*v)[n] = x;
}

static const char *COLS = "base seed step epoch lr train_loss val_loss val_acc train_eval_loss test_loss test_acc";

static int read_arm(arm *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f) return fail(path, "cannot open");
    char *line = NULL, *sched = NULL;   /* a line of any length (getline) */
    size_t line_cap = 0;
    int header = 0;
    run *r = NULL;
    while (getline(&line, &line_cap, f) >= 0) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') {
            (void)(meta(line, "schedule", &sched) || meta(line, "optimizer", &a->optim) ||
                   meta(line, "model", &a->model) || meta(line, "warmup", &a->warmup) ||
                   meta(line, "seeds", &a->seeds) || meta(line, "sizes", &a->sizes));
            continue;
        }
        if (!header) {
            char want[256];
            snprintf(want, sizeof want, "%s", COLS);
            for (char *c = want; *c; c++) if (*c == ' ') *c = '\t';
            if (strcmp(line, want) != 0) {
                fclose(f), free(line), free(sched);
                return fail(path, "not a ch04-train table (no 'base seed step epoch lr ...' header)");
            }
            header = 1;
            continue;
        }
        if (!line[0]) continue; /* a blank line between blocks */
        double v[11];
        if (sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7], &v[8], &v[9], &v[10]) != 11) {
            fclose(f), free(line), free(sched);
            return fail(path, "a row without 11 numbers");
        }
        if (!r || r->base != v[0] || r->seed != (unsigned long long)v[1]) {
            a->runs = realloc(a->runs, (size_t)(a->nruns + 1) * sizeof *a->runs);
            r = &a->runs[a->nruns++];
            memset(r, 0, sizeof *r);
            r->base = v[0], r->seed = (unsigned long long)v[1];
        }
        push(&r->step, r->n, v[2]);
        push(&r->epoch, r->n, v[3]);
        push(&r->lr, r->n, v[4]);
        push(&r->train_loss, r->n, v[5]);
        push(&r->val_acc, r->n, 100 * v[7]);
        r->n++;
        r->val = 100 * v[7], r->train_eval_loss = v[8], r->test_loss = v[9], r->test_acc = 100 * v[10];
    }
    fclose(f);
    free(line);
    /* "# schedule: NAME = SPEC (steps are updates)" */
    char *eq = sched ? strstr(sched, " = ") : NULL;
    if (!eq) {
        free(sched);
        return fail(path, "no '# schedule:' line");
    }
    *eq = '\0';
    a->name = strdup(sched);
    char *paren = strstr(eq + 3, " (");
    if (paren) *paren = '\0';
    a->spec = strdup(eq + 3);
    free(sched);
    char **text[] = {&a->path, &a->name, &a->spec, &a->optim, &a->model, &a->warmup, &a->seeds, &a->sizes};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++)
        if (!*text[i] && !(*text[i] = strdup(""))) return fail(path, "out of memory");
    if (a->nruns == 0) return fail(path, "no runs");
    for (int i = 0; i < a->nruns; i++) {
        int k = 0;
        while (k < a->nlrs && a->lrs[k] != a->runs[i].base) k++;
        if (k == a->nlrs) {
            if (a->nlrs == MAX_LRS) return fail(path, "too many base lrs");
            a->lrs[a->nlrs++] = a->runs[i].base;
        }
        if (a->runs[i].n != a->runs[0].n) return fail(path, "runs of different lengths");
    }
    return 0;
}

/* The final values of field (0 val, 1 test acc, 2 train loss, 3 test loss) over the
 * seeds of base lr k; returns how many. */
static int finals(const arm *a, int k, int field, double *v) {
    int n = 0;
    for (int i = 0; i < a->nruns; i++) {
        const run *r = &a->runs[i];
        if (r->base != a->lrs[k]) continue;
        v[n++] = field == 0 ? r->val : field == 1 ? r->test_acc : field == 2 ? r->train_eval_loss : r->test_loss;
    }
    return n;
}

static gd_stats stat(const arm *a, int k, int field) {
    double v[MAX_SEEDS];
    int n = finals(a, k, field, v);
    return gd_stats_of(v, n);
}

/* The median validation accuracy of base lr k, a diverged run counting as chance. */
static double val_score(const arm *a, int k) {
    double v[MAX_SEEDS];
    int n = finals(a, k, 0, v);
    for (int i = 0; i < n; i++) if (isnan(v[i])) v[i] = 10.0;
    return gd_stats_of(v, n).median;
}

/* *key = "train_KN_SUFFIX", the buffer grown to fit; returns it. */
static const char *name_key(char **key, const char *kn, const char *suffix) {
    size_t n = strlen(kn) + strlen(suffix) + sizeof "train__";
    char *k = realloc(*key, n);
    if (!k) return *key ? *key : "train_out_of_memory";
    snprintf(k, n, "train_%s_%s", kn, suffix);
    return *key = k;
}

/* x as printed with one decimal, so that differences of printed values agree with the
 * differences the text quotes. */
static double r1(double x) {
    char s[64];
    snprintf(s, sizeof s, "%.1f", x);
    return strtod(s, NULL);
}

int main(int argc, char **argv) {
    const char *out = NULL, *curves = NULL, *numbers = NULL;
    gd_opt opts[] = {
        GD_OPT_OUT("out", &out, "write every (schedule, base lr) with its medians and ranges to this table"),
        GD_OPT_OUT("curves", &curves, "write the curves at each schedule's chosen lr (median and range)"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    /* Options and arm tables in any order. gd_cli_parse takes options only, so it is given
     * the "--name value" / "--name=value" / "--help" arguments (every option here takes a
     * value), and every other argument is a table, in the order given. */
    static char **optv, **tables; /* static: live to the end (gd_cli keeps optv for provenance) */
    optv = malloc((size_t)(argc + 1) * sizeof *optv), tables = malloc((size_t)(argc + 1) * sizeof *tables);
    if (!optv || !tables) return fprintf(stderr, "%s: out of memory\n", argv[0]), 1;
    int optc = 0, narms = 0;
    optv[optc++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            tables[narms++] = argv[i];
            continue;
        }
        optv[optc++] = argv[i];
        if (!strchr(argv[i], '=') && strcmp(argv[i], "--help") != 0 && i + 1 < argc) optv[optc++] = argv[++i];
    }
    optv[optc] = NULL;
    int rc = gd_cli_parse(optc, optv,
                          "Summarize ch04-train arms: per schedule, the base lr chosen on validation accuracy, and "
                          "the test accuracy and losses at it, median and range over the seeds (Chapter 4). "
                          "Arguments: the options and one table per schedule.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (narms < 1) {
        fprintf(stderr, "%s: no arm tables given (see --help)\n", gd_prog());
        return 2;
    }
    if (narms > MAX_SCHEDS) {
        fprintf(stderr, "%s: more than %d arm tables\n", gd_prog(), MAX_SCHEDS);
        return 2;
    }
    for (int i = 0; i < narms; i++) {
        if (read_arm(&arms[i], tables[i]) != 0) { /* the tables given are the user's input: 2 */
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 2;
        }
        arm *a = &arms[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(arms[j].name, a->name)) {
                gd_seterr("%s: schedule %s twice", a->path, a->name); /* one line: control characters escaped */
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 2;
            }
        a->chosen = 0;
        for (int k = 1; k < a->nlrs; k++) {
            double s = val_score(a, k), best = val_score(a, a->chosen);
            if (s > best || (s == best && a->lrs[k] < a->lrs[a->chosen])) a->chosen = k;
        }
        gd_stats ta = stat(a, a->chosen, 1);
        printf("%-10s lr %-6g (median val %.2f %%): test accuracy %.2f %% (%.2f to %.2f), %d seeds\n", a->name,
               a->lrs[a->chosen], val_score(a, a->chosen), ta.median, ta.min, ta.max, ta.n);
    }

    gd_table *t = NULL;
    if (out) {
        if (!(t = gd_table_open(out, "schedule base seeds diverged chosen val_acc test_acc test_acc_min test_acc_max "
                                     "train_loss train_loss_min train_loss_max test_loss test_loss_min "
                                     "test_loss_max spec")))
            goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        gd_table_meta(t, "optimizer", "%s", arms[0].optim);
        gd_table_meta(t, "model", "%s", arms[0].model);
        gd_table_meta(t, "columns", "final numbers over the seeds: val_acc the median (a diverged run as 10 %%), the "
                                    "others median, min and max of the runs that did not diverge; accuracies in %%; "
                                    "chosen: the base lr with the highest median val_acc");
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            for (int k = 0; k < a->nlrs; k++) {
                gd_stats ta = stat(a, k, 1), tr = stat(a, k, 2), tl = stat(a, k, 3);
                gd_table_row(t, "%s %g %d %d %d %.4f %.4f %.4f %.4f %.6f %.6f %.6f %.6f %.6f %.6f %s", a->name,
                             a->lrs[k], ta.n + ta.nan, ta.nan, k == a->chosen, val_score(a, k), ta.median, ta.min,
                             ta.max, tr.median, tr.min, tr.max, tl.median, tl.min, tl.max, a->spec);
            }
        }
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (curves) {
        if (!(t = gd_table_open(curves, "sched name base step epoch lr train_loss train_loss_min train_loss_max "
                                        "val_acc val_acc_min val_acc_max")))
            goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        gd_table_meta(t, "columns", "each schedule at its chosen base lr: median, min and max over the seeds of each "
                                    "logged row; val_acc in %%, nan where not evaluated");
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            if (i > 0) gd_table_block(t);
            const run *sel[MAX_SEEDS];
            int n = 0;
            for (int j = 0; j < a->nruns && n < MAX_SEEDS; j++)
                if (a->runs[j].base == a->lrs[a->chosen]) sel[n++] = &a->runs[j];
            for (int r = 0; r < sel[0]->n; r++) {
                double tl[MAX_SEEDS], va[MAX_SEEDS];
                for (int j = 0; j < n; j++) tl[j] = r < sel[j]->n ? sel[j]->train_loss[r] : NAN,
                                            va[j] = r < sel[j]->n ? sel[j]->val_acc[r] : NAN;
                gd_stats L = gd_stats_of(tl, n), V = gd_stats_of(va, n);
                gd_table_row(t, "%d %s %g %.0f %.4f %.6g %.6f %.6f %.6f %.4f %.4f %.4f", i, a->name, a->lrs[a->chosen],
                             sel[0]->step[r], sel[0]->epoch[r], sel[0]->lr[r], L.median, L.min, L.max, V.median,
                             V.min, V.max);
            }
        }
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (numbers) {
        if (!(t = gd_table_open(numbers, "key value"))) goto io_error;
        gd_table_meta(t, "program", "ch04-summary");
        const arm *constant = NULL;
        for (int i = 0; i < narms; i++)
            if (!strcmp(arms[i].name, "constant")) constant = &arms[i];
        strbuf sb = {0};
        char *key = NULL, *kn = NULL;
        /* the race: each schedule at its chosen lr */
        sb_add(&sb, "| schedule | spec (steps are updates) | lr chosen | validation accuracy (%%) | test "
                    "accuracy (%%) | training loss | test loss |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            int k = a->chosen;
            gd_stats ta = stat(a, k, 1), tr = stat(a, k, 2), tl = stat(a, k, 3);
            sb_add(&sb,
                            "| %s | `%s` | %g | %.1f | %.1f (%.1f to %.1f) | %.3f (%.3f to %.3f) | %.3f (%.3f to "
                            "%.3f) |\n",
                            a->name, a->spec, a->lrs[k], val_score(a, k), ta.median, ta.min, ta.max, tr.median, tr.min,
                            tr.max, tl.median, tl.min, tl.max);
        }
        gd_table_kv(t, "train_table", "%s", sb.s ? sb.s : "");
        /* the tuning: median validation accuracy of every (schedule, lr), the chosen in bold */
        sb_reset(&sb);
        sb_add(&sb, "| schedule |");
        for (int k = 0; k < arms[0].nlrs; k++) sb_add(&sb, " lr %g |", arms[0].lrs[k]);
        sb_add(&sb, "\n|---|");
        for (int k = 0; k < arms[0].nlrs; k++) sb_add(&sb, "---:|");
        sb_add(&sb, "\n");
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            sb_add(&sb, "| %s |", a->name);
            for (int k = 0; k < a->nlrs; k++) {
                gd_stats s = stat(a, k, 0);
                char cell[64];
                snprintf(cell, sizeof cell, "%.1f%s", val_score(a, k), s.nan ? " (diverged: " : "");
                if (s.nan) snprintf(cell + strlen(cell), sizeof cell - strlen(cell), "%d)", s.nan);
                sb_add(&sb, k == a->chosen ? " **%s** |" : " %s |", cell);
            }
            sb_add(&sb, "\n");
        }
        gd_table_kv(t, "train_tuning", "%s", sb.s ? sb.s : "");

        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            int k = a->chosen;
            gd_stats ta = stat(a, k, 1), tr = stat(a, k, 2), tl = stat(a, k, 3);
            free(kn);   /* the name with every character but letters and digits as '_' */
            if (!(kn = strdup(a->name))) goto oom;
            for (char *c = kn; *c; c++) *c = isalnum((unsigned char)*c) ? *c : '_';
#define KV(suffix, ...) (gd_table_kv(t, name_key(&key, kn, suffix), __VA_ARGS__))
            KV("lr", "%g", a->lrs[k]);
            KV("acc", "%.1f", ta.median);
            KV("acc_min", "%.1f", ta.min);
            KV("acc_max", "%.1f", ta.max);
            KV("acc_span", "%.1f", r1(ta.max) - r1(ta.min));
            KV("loss", "%.3f", tr.median);
            KV("test_loss", "%.3f", tl.median);
            KV("spec", "%s", a->spec);
#undef KV
        }
        gd_table_kv(t, "train_optim", "%s", arms[0].optim);
        gd_table_kv(t, "train_model", "%s", arms[0].model);
        gd_table_kv(t, "train_warmup", "%s", arms[0].warmup);
        long ntrain = 0, nval = 0, neval = 0;
        sscanf(arms[0].sizes, "%ld %ld %ld", &ntrain, &nval, &neval);
        gd_table_kv(t, "train_val_size", "%ld", nval);
        gd_table_kv(t, "train_eval_size", "%ld", neval);
        gd_table_kv(t, "train_seeds", "%s", arms[0].seeds);
        gd_table_kv(t, "train_nseeds", "%d", stat(&arms[0], 0, 1).n + stat(&arms[0], 0, 1).nan);
        sb_reset(&sb);
        for (int k = 0; k < arms[0].nlrs; k++) sb_add(&sb, "%s%g", k ? ", " : "", arms[0].lrs[k]);
        gd_table_kv(t, "train_lrs", "%s", sb.s ? sb.s : "");
        gd_table_kv(t, "train_nruns", "%d", narms * arms[0].nruns);
        const run *r0 = &arms[0].runs[0];
        gd_table_kv(t, "train_epochs", "%.0f", r0->epoch[r0->n - 1]);
        gd_table_kv(t, "train_steps", "%.0f", r0->step[r0->n - 1]);
        if (constant) {
            /* every other schedule against the constant rate, at the chosen lrs: the gap of
             * the medians, and how many of the pairs (same seed) each wins */
            double glo = INFINITY, ghi = -INFINITY, cm = stat(constant, constant->chosen, 1).median;
            const arm *alo = NULL, *ahi = NULL;
            int pairs_won = 0, pairs = 0;
            for (int i = 0; i < narms; i++) {
                const arm *a = &arms[i];
                if (a == constant) continue;
                double g = stat(a, a->chosen, 1).median - cm; /* the arms by their medians; the gaps as printed */
                if (g < glo) glo = g, alo = a;
                if (g > ghi) ghi = g, ahi = a;
                for (int x = 0; x < a->nruns; x++) {
                    const run *p = &a->runs[x];
                    if (p->base != a->lrs[a->chosen]) continue;
                    for (int y = 0; y < constant->nruns; y++) {
                        const run *q = &constant->runs[y];
                        if (q->base != constant->lrs[constant->chosen] || q->seed != p->seed) continue;
                        pairs++;
                        pairs_won += p->test_acc > q->test_acc;
                    }
                }
            }
            if (alo) {
                gd_table_kv(t, "train_gain_lo", "%.1f", r1(stat(alo, alo->chosen, 1).median) - r1(cm));
                gd_table_kv(t, "train_gain_lo_name", "%s", alo->name);
                gd_table_kv(t, "train_gain_hi", "%.1f", r1(stat(ahi, ahi->chosen, 1).median) - r1(cm));
                gd_table_kv(t, "train_gain_hi_name", "%s", ahi->name);
                gd_table_kv(t, "train_pairs", "%d", pairs);
                gd_table_kv(t, "train_pairs_won", "%d", pairs_won);
            }
        }
        /* the chosen lrs at an edge of the grid (the best might lie beyond it) */
        sb_reset(&sb);
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            if (a->chosen != 0 && a->chosen != a->nlrs - 1) continue;
            sb_add(&sb, "%s%s (%g, the %s lr)", sb.len ? ", " : "", a->name,
                            a->lrs[a->chosen], a->chosen == 0 ? "smallest" : "largest");
        }
        gd_table_kv(t, "train_edge", "%s", sb.len ? sb.s : "none");
        /* the spread over the seeds: the constant rate's, and the decaying schedules' median
         * and largest (from the printed values) */
        double spans[MAX_SCHEDS];
        int nspans = 0;
        const arm *widest = NULL;
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            if (a == constant) continue;
            gd_stats ta = stat(a, a->chosen, 1);
            spans[nspans++] = r1(ta.max) - r1(ta.min);
            if (!widest || spans[nspans - 1] > r1(stat(widest, widest->chosen, 1).max) - r1(stat(widest, widest->chosen, 1).min))
                widest = a;
        }
        if (nspans) {
            gd_stats sp = gd_stats_of(spans, nspans);
            gd_table_kv(t, "train_decay_span_median", "%.1f", sp.median);
            gd_table_kv(t, "train_decay_span_max", "%.1f", sp.max);
            gd_table_kv(t, "train_decay_span_max_name", "%s", widest->name);
        }
        /* the schedules indistinguishable from the best median: their ranges overlap its range */
        const arm *top = NULL;
        for (int i = 0; i < narms; i++)
            if (!top || stat(&arms[i], arms[i].chosen, 1).median > stat(top, top->chosen, 1).median) top = &arms[i];
        gd_stats ts = stat(top, top->chosen, 1);
        sb_reset(&sb);
        int nover = 0;
        for (int i = 0; i < narms; i++) {
            const arm *a = &arms[i];
            gd_stats as = stat(a, a->chosen, 1);
            if (a == top || as.max < ts.min || as.min > ts.max) continue;
            sb_add(&sb, "%s%s", sb.len ? ", " : "", a->name);
            nover++;
        }
        gd_table_kv(t, "train_top", "%s", top->name);
        gd_table_kv(t, "train_top_acc", "%.1f", ts.median);
        gd_table_kv(t, "train_overlap", "%s", nover ? sb.s : "no other schedule");
        gd_table_kv(t, "train_noverlap", "%d", nover);
        /* the decaying schedules' medians: their spread, from the printed values */
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < narms; i++) {
            if (constant == &arms[i]) continue;
            double m = r1(stat(&arms[i], arms[i].chosen, 1).median);
            lo = fmin(lo, m), hi = fmax(hi, m);
        }
        gd_table_kv(t, "train_decay_acc_lo", "%.1f", lo);
        gd_table_kv(t, "train_decay_acc_hi", "%.1f", hi);
        gd_table_kv(t, "train_decay_acc_span", "%.1f", hi - lo);
        free(sb.s), free(key), free(kn);
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }
    for (int i = 0; i < narms; i++) arm_free(&arms[i]);
    return 0;

oom:
    gd_seterr("out of memory");
io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    return 1;
}

/* lrsched.c -- print the learning rate (and momentum) that a schedule gives at each step.
 *
 *   build/bin/lrsched --sched "warmup:T=500,cosine:T=9500:min=1e-5" --steps 10000 --every 100
 *
 * writes a table `step lr`, plus a `momentum` column when the schedule cycles momentum
 * (cyclic, onecycle) at any printed step ("nan" at steps where it leaves momentum to the
 * optimizer), for readers and for Chapter 4's figures. SPEC is the grammar at the top of
 * lib/sched.h; a bad one is reported in one line naming the term and key (exit 2).
 *
 * Reduce-on-plateau is driven by a metric, not by the step. --metrics FILE gives the
 * metric sequence, one number per line: line k is observed before step k is printed,
 * as in PyTorch's `for epoch: train(); scheduler.step(val_loss)`, so step t shows the lr
 * after t observations. Without --metrics a plateau schedule is printed with no
 * reductions, and one line on stderr says so.
 *
 * Leaves out: parameter groups (there is one base lr, --lr) and drawing (gnuplot reads
 * the table; see Chapter 4's scripts).
 */
#include "gd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEP 1e12

/* The numbers of a metrics file (one per line; blank lines and '#' comments skipped).
 * NULL with a one-line reason naming the file and line. */
static double *read_metrics(const char *path, long *n) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot read: %s", path, strerror(errno)), NULL;
    long cap = 64, lineno = 0;
    double *v = malloc(sizeof *v * (size_t)cap);
    char line[256];
    *n = 0;
    while (v && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0' || *p == '#') continue;
        char *end;
        double x = strtod(p, &end);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || *end != '\0') {   /* nan is allowed: PyTorch counts it as no improvement */
            gd_seterr("%s:%ld: '%s' is not a number", path, lineno, p);
            free(v);
            fclose(f);
            return NULL;
        }
        if (*n == cap) {
            double *w = realloc(v, sizeof *v * (size_t)(cap *= 2));
            if (!w) free(v);
            v = w;
        }
        if (v) v[(*n)++] = x;
    }
    fclose(f);
    if (!v) return gd_seterr("%s: out of memory", path), NULL;
    return v;
}

int main(int argc, char **argv) {
    const char *spec = NULL, *out = "-", *metrics_path = NULL;
    double base = 0.1;
    long steps = 100, from = 0, to = -1, every = 1;
    gd_opt opts[] = {
        GD_OPT_STRING("sched", &spec, "the schedule, e.g. warmup:T=500,cosine:T=9500 (grammar: lib/sched.h)"),
        GD_OPT_FLOAT("lr", &base, "base lr: the optimizer's lr, which the schedule scales", 0, 1e6, 1),
        GD_OPT_INT("steps", &steps, "print steps --from .. --from + steps - 1", 1, MAX_STEP),
        GD_OPT_INT("from", &from, "first step printed", 0, MAX_STEP),
        GD_OPT_INT("to", &to, "last step printed, inclusive; -1: --from + --steps - 1", -1, MAX_STEP),
        GD_OPT_INT("every", &every, "print every K-th step from --from", 1, MAX_STEP),
        GD_OPT_STRING("metrics", &metrics_path, "plateau: metric per line, line k observed before step k"),
        GD_OPT_STRING("out", &out, "write the table here (- : standard output)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Prints the learning rate (and momentum, for cyclic and onecycle) that a schedule gives\n"
                          "at each step, as a table `step lr [momentum]`. Schedules: constant, warmup, step,\n"
                          "multistep, exp, linear, poly, cosine, restarts, cyclic, onecycle, wsd, invsqrt, plateau;\n"
                          "chain them with commas (\"warmup:T=100,cosine:T=900\"), start one at a step with @STEP:.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!spec) {
        fprintf(stderr, "%s: --sched: required (e.g. --sched cosine:T=1000; see --help)\n", gd_prog());
        return 2;
    }
    if (to < 0) to = from + steps - 1;
    if (to < from) {
        fprintf(stderr, "%s: --to: must be >= --from (%ld), got %ld\n", gd_prog(), from, to);
        return 2;
    }
    gd_sched *s = gd_sched_parse(spec);
    if (!s) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (metrics_path && !gd_sched_has_plateau(s)) {
        fprintf(stderr, "%s: --metrics: the schedule has no plateau term to feed\n", gd_prog());
        gd_sched_free(s);
        return 2;
    }
    long nmetrics = 0, observed = 0;
    double *metrics = NULL;
    if (metrics_path && !(metrics = read_metrics(metrics_path, &nmetrics))) {
        fprintf(stderr, "%s: --metrics: %s\n", gd_prog(), gd_error());
        gd_sched_free(s);
        return 1;
    }
    if (gd_sched_has_plateau(s) && !metrics_path)
        fprintf(stderr, "%s: note: plateau reduces the lr only when fed a metric (--metrics FILE); "
                        "printed without reductions\n", gd_prog());

    /* a momentum column only if the schedule cycles momentum at some printed step */
    int with_momentum = 0;
    double m;
    for (long t = from; t <= to && !with_momentum; t += every) with_momentum = gd_sched_momentum(s, t, &m);

    char canonical[2048];
    gd_sched_format(s, canonical, sizeof canonical);
    gd_table *tab = gd_table_open(out, with_momentum ? "step lr momentum" : "step lr");
    if (!tab) {
        fprintf(stderr, "%s: --out: %s\n", gd_prog(), gd_error());
        free(metrics);
        gd_sched_free(s);
        return 1;
    }
    gd_table_meta(tab, "program", "lrsched");
    gd_table_meta(tab, "sched", "%s", canonical);
    gd_table_meta(tab, "lr", "%.15g", base);
    if (gd_sched_has_plateau(s))
        gd_table_meta(tab, "metrics", "%s", metrics_path ? metrics_path : "none (no reductions)");
    for (long t = from; t <= to; t += every) {
        while (observed < t && observed < nmetrics) gd_sched_observe(s, metrics[observed++]);
        double lr = gd_sched_lr(s, t, base);
        if (!with_momentum) gd_table_row(tab, "%ld %.15g", t, lr);
        else if (gd_sched_momentum(s, t, &m)) gd_table_row(tab, "%ld %.15g %.15g", t, lr, m);
        else gd_table_row(tab, "%ld %.15g nan", t, lr);
    }
    free(metrics);
    gd_sched_free(s);
    if (gd_table_close(tab) != 0) {
        fprintf(stderr, "%s: --out: %s\n", gd_prog(), gd_error());
        return 1;
    }
    return 0;
}

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
 * reductions, and one line on stderr says so. Numbers there are decimal as options
 * take them (no hex), with spaces around them allowed, and nan or inf (a diverged loss:
 * PyTorch counts it as no improvement); lines of any length.
 *
 * Exit status: 0; 2 a bad option, spec or metrics file (missing, a directory, a line
 * that is not a number); 1 a failure while running (a read error, an output that
 * cannot be written). --out is checked before anything is computed.
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
#include <strings.h>
#include <sys/stat.h>

#define MAX_STEP 1e12

/* One metric: a decimal number (gd_parse_double), or nan / inf with an optional sign
 * in any case (what printf and Python write for a diverged loss). */
static int parse_metric(const char *p, double *x) {
    const char *q = p + (*p == '+' || *p == '-');
    if (strcasecmp(q, "nan") == 0) return *x = NAN, 0;
    if (strcasecmp(q, "inf") == 0) return *x = *p == '-' ? -INFINITY : INFINITY, 0;
    return gd_parse_double(p, x);
}

/* The numbers of a metrics file (one per line, spaces around them allowed; blank lines
 * and '#' comments skipped). NULL with a one-line reason naming the file (and line),
 * *status the exit status: 2 the file is wrong, 1 it could not be read. */
static double *read_metrics(const char *path, long *n, int *status) {
    *status = 2;
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot read: %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return gd_seterr("%s: is a directory, not a file of metrics", path), NULL;
    }
    long cap = 64, lineno = 0;
    double *v = malloc(sizeof *v * (size_t)cap);
    char *line = NULL;               /* getline: any length */
    size_t line_cap = 0;
    ssize_t len;
    const char *why = NULL;
    *n = 0;
    while (v && !why && (len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            why = "a NUL byte";
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line, *e = line + strlen(line);
        while (*p == ' ' || *p == '\t') p++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (*p == '\0' || *p == '#') continue;
        double x;
        if (parse_metric(p, &x) != 0) {
            gd_seterr("%s:%ld: '%.60s%s' is not a number", path, lineno, p, strlen(p) > 60 ? "..." : "");
            free(v);
            free(line);
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
    int read_error = ferror(f);
    free(line);
    fclose(f);
    if (why) {
        free(v);
        return gd_seterr("%s:%ld: %s: not a text file of numbers", path, lineno, why), NULL;
    }
    *status = 1;
    if (!v) return gd_seterr("%s: out of memory", path), NULL;
    if (read_error) {
        free(v);
        return gd_seterr("%s: read error", path), NULL;
    }
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
        GD_OPT_OUT("out", &out, "write the table here (- : standard output)"),
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
    int status;
    if (metrics_path && !(metrics = read_metrics(metrics_path, &nmetrics, &status))) {
        fprintf(stderr, "%s: --metrics: %s\n", gd_prog(), gd_error());
        gd_sched_free(s);
        return status;
    }
    if (gd_sched_has_plateau(s) && !metrics_path)
        fprintf(stderr, "%s: note: plateau reduces the lr only when fed a metric (--metrics FILE); "
                        "printed without reductions\n", gd_prog());

    /* a momentum column only if the schedule cycles momentum at some printed step */
    int with_momentum = 0;
    double m;
    for (long t = from; t <= to && !with_momentum; t += every) with_momentum = gd_sched_momentum(s, t, &m);

    size_t canonical_size = gd_sched_format(s, NULL, 0) + 1;   /* the whole spec, however long */
    char *canonical = malloc(canonical_size);
    gd_table *tab = canonical ? gd_table_open(out, with_momentum ? "step lr momentum" : "step lr") : NULL;
    if (!tab) {
        fprintf(stderr, "%s: --out: %s\n", gd_prog(), canonical ? gd_error() : "out of memory");
        free(canonical);
        free(metrics);
        gd_sched_free(s);
        return 1;
    }
    gd_sched_format(s, canonical, canonical_size);
    gd_table_meta(tab, "program", "lrsched");
    gd_table_meta(tab, "sched", "%s", canonical);
    free(canonical);
    gd_table_meta(tab, "lr", "%.15g", base);
    if (gd_sched_has_plateau(s) && metrics_path) {
        /* the path as one header line: a control character in it (a newline) shown as '?' */
        char *shown = malloc(strlen(metrics_path) + 1);
        if (shown) {
            size_t i = 0;
            for (; metrics_path[i]; i++) {
                unsigned char c = (unsigned char)metrics_path[i];
                shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
            }
            shown[i] = '\0';
        }
        gd_table_meta(tab, "metrics", "%s", shown ? shown : "(out of memory)");
        free(shown);
    } else if (gd_sched_has_plateau(s)) {
        gd_table_meta(tab, "metrics", "none (no reductions)");
    }
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

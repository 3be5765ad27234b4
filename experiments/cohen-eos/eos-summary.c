/* eos-summary.c -- what the full-batch runs of experiments/cohen-eos show, per learning
 * rate over the seeds: the numbers its README quotes, and a copy of the runs (with the
 * command that summarized them) for the figures.
 *
 * Input (--in): a table of ch03-sharpness --experiment eos or exp-eos-momentum,
 * "lr seed step loss sharpness resid", one block per (lr, seed), the sharpness every
 * few steps (nan in between). The stability limit of the update on a quadratic is
 *     limit / lr,   limit = 2 (plain GD), 2(1 + beta) (heavy ball),
 *                           (2 + 2 beta)/(1 + 2 beta) (Nesterov),
 * as torch.optim.SGD performs them (eos-momentum.c derives them). Per run:
 *   start    the sharpness at step 0
 *   reach    the first measured step where the sharpness is >= --reach x limit/lr
 *   end      the mean of the sharpness measurements in the last --tail of the steps,
 *            as a ratio to limit/lr; "in band": |end - 1| <= --band
 *   sharpened  end sharpness above the start (progressive sharpening: it crossed its
 *            initial value)
 *   ups      after reach, the number of steps whose loss is above the step before
 *            (the loss is non-monotone when ups > 0)
 *   fell     the last loss below the loss at reach (it keeps falling at the edge)
 *   tail ups the loss up-steps in the last --tail of the steps (still at the edge?)
 * A run whose loss stops being finite counts as diverged and is left out of the medians.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 256

typedef struct {
    double lr;
    unsigned long long seed;
    long n, cap;          /* rows */
    long *step;
    double *loss, *sharp; /* sharp: nan where not measured */
} run;

static int read_runs(const char *path, run *runs, int *nruns, long *max_step) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines: a long comment line (# command: ...) is one line */
    size_t cap = 0;
    int header = 0, nr = 0;
    *max_step = 0;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#') continue;
        if (line[0] == '\n') continue;
        if (!header) {
            if (strncmp(line, "lr\tseed\tstep\tloss\tsharpness", 27) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a table of lr, seed, step, loss, sharpness", path);
            }
            header = 1;
            continue;
        }
        double lr, loss, sh;
        unsigned long long seed;
        long step;
        char a[64], b[64];
        if (sscanf(line, "%lf %llu %ld %63s %63s", &lr, &seed, &step, a, b) != 5) {
            fclose(f), free(line);
            return gd_seterr("%s: malformed row: %.60s", path, line);
        }
        loss = strtod(a, NULL), sh = strtod(b, NULL);
        run *r = nr ? &runs[nr - 1] : NULL;
        if (!r || r->lr != lr || r->seed != seed) {
            if (nr == MAX_RUNS) {
                fclose(f), free(line);
                return gd_seterr("%s: more than %d runs", path, MAX_RUNS);
            }
            r = &runs[nr++];
            memset(r, 0, sizeof *r);
            r->lr = lr, r->seed = seed;
        }
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 1024;
            r->step = realloc(r->step, (size_t)r->cap * sizeof *r->step);
            r->loss = realloc(r->loss, (size_t)r->cap * sizeof *r->loss);
            r->sharp = realloc(r->sharp, (size_t)r->cap * sizeof *r->sharp);
        }
        r->step[r->n] = step, r->loss[r->n] = loss, r->sharp[r->n] = sh, r->n++;
        if (step > *max_step) *max_step = step;
    }
    free(line);
    fclose(f);
    if (!header || nr == 0) return gd_seterr("%s: no runs", path);
    *nruns = nr;
    return 0;
}

/* 0.15 -> "0p15", for keys */
static void numkey(char *k, size_t size, const char *pre, double x) {
    snprintf(k, size, "%s%g", pre, x);
    for (char *q = k; *q; q++)
        if (*q == '.') *q = 'p';
}

/* "0.2 (0.1 to 0.3)", or "0.2" when the range is one value, "none" when there is none */
static void med_range(char *buf, size_t size, const char *fmt, gd_stats st) {
    char a[40], b[40], c[40];
    if (!fmt) fmt = "%g";   /* never: but gcc -O1 with UBSan's checks then sees a null format (a false positive) */
    if (st.n == 0) {
        snprintf(buf, size, "none");
        return;
    }
    snprintf(a, sizeof a, fmt, st.median), snprintf(b, sizeof b, fmt, st.min), snprintf(c, sizeof c, fmt, st.max);
    if (strcmp(b, c) == 0) snprintf(buf, size, "%s", a);
    else snprintf(buf, size, "%s (%s to %s)", a, b, c);
}

static void kv(gd_table *t, const char *prefix, const char *key, const char *fmt, double v) {
    if (!t) return;
    char k[160], val[64];
    snprintf(k, sizeof k, "%s%s", prefix, key);
    snprintf(val, sizeof val, fmt, v);
    gd_table_kv(t, k, "%s", val);
}

/* key_med, key_lo, key_hi */
static gd_stats kv_stats(gd_table *t, const char *prefix, const char *key, const char *fmt, const double *v, int n) {
    gd_stats st = gd_stats_of(v, n);
    char k[160];
    snprintf(k, sizeof k, "%s_med", key), kv(t, prefix, k, fmt, st.median);
    snprintf(k, sizeof k, "%s_lo", key), kv(t, prefix, k, fmt, st.min);
    snprintf(k, sizeof k, "%s_hi", key), kv(t, prefix, k, fmt, st.max);
    return st;
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *numbers = NULL, *prefix = "";
    double beta = 0, band = 0.1, tail = 0.2, reach = 0.9;
    long nesterov = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("in", &in, "the runs: a table of ch03-sharpness --experiment eos or exp-eos-momentum"),
        GD_OPT_FLOAT("momentum", &beta, "the runs' momentum beta (0: plain GD)", 0, 0.999, 0),
        GD_OPT_INT("nesterov", &nesterov, "1: the runs used Nesterov's form", 0, 1),
        GD_OPT_FLOAT("band", &band, "in band: |end sharpness / (limit/lr) - 1| <= band", 0, 10, 1),
        GD_OPT_FLOAT("tail", &tail, "the end of a run: its last fraction of steps", 0, 1, 1),
        GD_OPT_FLOAT("reach", &reach, "a run reaches the edge at this fraction of limit/lr", 0, 10, 1),
        GD_OPT_OUT("out", &out, "copy of the runs (lr seed step loss sharpness), with the provenance"),
        GD_OPT_OUT("numbers", &numbers, "the numbers the README quotes (key value)"),
        GD_OPT_STRING("prefix", &prefix, "prefix of the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Summarize full-batch runs with the sharpness measured along the way: does it rise to the "
                          "stability limit of the update and hover there while the loss falls? "
                          "(experiments/cohen-eos)",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!in) {
        fprintf(stderr, "%s: --in: give the table of runs to summarize\n", gd_prog());
        return 2;
    }
    if (nesterov && beta == 0) {
        fprintf(stderr, "%s: --nesterov: needs --momentum above 0\n", gd_prog());
        return 2;
    }
    if (strlen(prefix) > 64) {
        fprintf(stderr, "%s: --prefix: at most 64 characters\n", gd_prog());
        return 2;
    }
    static run runs[MAX_RUNS];
    int nruns = 0;
    long steps = 0;
    if (read_runs(in, runs, &nruns, &steps) != 0) {
        fprintf(stderr, "%s: --in: %s\n", gd_prog(), gd_error());
        return 2;   /* the table given */
    }
    double limit = beta == 0 ? 2 : nesterov ? (2 + 2 * beta) / (1 + 2 * beta) : 2 * (1 + beta);
    const char *method = beta == 0 ? "plain GD" : nesterov ? "Nesterov" : "heavy ball";

    gd_table *ot = NULL, *nt = NULL;
    if (out && !(ot = gd_table_open(out, "lr seed step loss sharpness"))) goto io_error;
    if (numbers && !(nt = gd_table_open(numbers, "key value"))) goto io_error;
    if (ot) {
        gd_table_provenance(ot);
        gd_table_meta(ot, "program", "exp-eos-summary: the rows of %s (the sharpness column: nan where not measured)",
                      in);
        /* the input's own header, kept */
        FILE *f = fopen(in, "r");
        char *line = NULL;   /* whole lines, however long: a header line is never cut */
        size_t cap = 0;
        while (f && getline(&line, &cap, f) > 0 && line[0] == '#') {
            line[strcspn(line, "\n")] = 0;
            if (strncmp(line, "# program", 9) && strncmp(line, "# command", 9))
                gd_table_meta(ot, "runs", "%s", strlen(line) > 2 ? line + 2 : "");
            else if (!strncmp(line, "# command", 9)) gd_table_meta(ot, "runs made by", "%s", strlen(line) > 11 ? line + 11 : "");
        }
        free(line);
        if (f) fclose(f);
        for (int r = 0; r < nruns; r++) {
            for (long i = 0; i < runs[r].n; i++)
                gd_table_row(ot, "%g %llu %ld %.6g %.5g", runs[r].lr, runs[r].seed, runs[r].step[i], runs[r].loss[i],
                             runs[r].sharp[i]);
            gd_table_block(ot);
        }
    }
    if (nt) {
        gd_table_provenance(nt);
        gd_table_meta(nt, "program", "exp-eos-summary --in %s (%s, momentum %g; limit %.6g / lr)", in, method, beta,
                      limit);
    }

    /* the learning rates, in the order they first appear */
    double lrs[MAX_RUNS];
    int nl = 0;
    for (int r = 0; r < nruns; r++) {
        int k = 0;
        while (k < nl && lrs[k] != runs[r].lr) k++;
        if (k == nl) lrs[nl++] = runs[r].lr;
    }
    char tab[8192];
    int tl = snprintf(tab, sizeof tab,
                      "| $\\eta$ | limit/$\\eta$ | start | runs reaching %.0f%% | step it is reached | end/limit | in band "
                      "| sharpened | loss up-steps after reach | loss fell after reach | final loss |\n"
                      "|---:|---:|---|---:|---|---|---:|---:|---|---:|---|",
                      100 * reach);
    int all_runs = 0, all_band = 0, all_sharp = 0, all_fell = 0, all_nonmono = 0, all_div = 0, all_reach = 0,
        all_tail = 0;
    double *ratio_all = malloc((size_t)nruns * sizeof *ratio_all);
    int nra = 0;
    for (int l = 0; l < nl; l++) {
        double lr = lrs[l], edge = limit / lr;
        double start[MAX_RUNS], rstep[MAX_RUNS], ratio[MAX_RUNS], ups[MAX_RUNS], fin[MAX_RUNS], mx[MAX_RUNS],
            ratio2[MAX_RUNS], tups[MAX_RUNS];
        int ns = 0, nreach = 0, nband = 0, nsharp = 0, nfell = 0, ndiv = 0, nnonmono = 0, ntail = 0;
        for (int r = 0; r < nruns; r++) {
            if (runs[r].lr != lr) continue;
            run *u = &runs[r];
            int div = u->step[u->n - 1] < steps || !isfinite(u->loss[u->n - 1]);
            start[ns] = u->sharp[0];
            rstep[ns] = NAN, ratio[ns] = NAN, ups[ns] = NAN, fin[ns] = NAN, mx[ns] = NAN, ratio2[ns] = NAN, tups[ns] = NAN;
            if (div) {
                ndiv++, ns++;
                continue;
            }
            long ir = -1;
            double sum = 0;
            int cnt = 0;
            mx[ns] = 0;
            for (long i = 0; i < u->n; i++) {
                if (isnan(u->sharp[i])) continue;
                mx[ns] = fmax(mx[ns], u->sharp[i] / edge);
                if (ir < 0 && u->sharp[i] >= reach * edge) ir = i;
                if (u->step[i] >= (1 - tail) * steps) sum += u->sharp[i], cnt++;
            }
            ratio[ns] = cnt ? sum / cnt / edge : NAN;
            ratio2[ns] = cnt ? sum / cnt / (2 / lr) : NAN;   /* against plain GD's 2/lr */
            /* loss up-steps in the last --tail of the steps: is it still at the edge? */
            tups[ns] = 0;
            for (long i = 1; i < u->n; i++) tups[ns] += u->step[i] >= (1 - tail) * steps && u->loss[i] > u->loss[i - 1];
            ntail += tups[ns] > 0;
            ratio_all[nra++] = ratio[ns];
            fin[ns] = u->loss[u->n - 1];
            if (fabs(ratio[ns] - 1) <= band) nband++;
            if (cnt && sum / cnt > start[ns]) nsharp++;
            if (ir >= 0) {
                nreach++;
                rstep[ns] = (double)u->step[ir];
                int up = 0;
                for (long i = ir + 1; i < u->n; i++) up += u->loss[i] > u->loss[i - 1];
                ups[ns] = up;
                nnonmono += up > 0;
                nfell += u->loss[u->n - 1] < u->loss[ir];
            }
            ns++;
        }
        char key[64], k2[128], a[128], b[128], c[128], d[128], e[128];
        numkey(key, sizeof key, "lr", lr);
        snprintf(k2, sizeof k2, "%s_edge", key), kv(nt, prefix, k2, "%.3g", edge);
        snprintf(k2, sizeof k2, "%s_runs", key), kv(nt, prefix, k2, "%.0f", ns);
        snprintf(k2, sizeof k2, "%s_div", key), kv(nt, prefix, k2, "%.0f", ndiv);
        snprintf(k2, sizeof k2, "%s_reach", key), kv(nt, prefix, k2, "%.0f", nreach);
        snprintf(k2, sizeof k2, "%s_band", key), kv(nt, prefix, k2, "%.0f", nband);
        snprintf(k2, sizeof k2, "%s_sharpened", key), kv(nt, prefix, k2, "%.0f", nsharp);
        snprintf(k2, sizeof k2, "%s_nonmono", key), kv(nt, prefix, k2, "%.0f", nnonmono);
        snprintf(k2, sizeof k2, "%s_fell", key), kv(nt, prefix, k2, "%.0f", nfell);
        snprintf(k2, sizeof k2, "%s_start", key);
        gd_stats s0 = kv_stats(nt, prefix, k2, "%.3g", start, ns);
        snprintf(k2, sizeof k2, "%s_end", key);
        gd_stats se = kv_stats(nt, prefix, k2, "%.2f", ratio, ns);
        snprintf(k2, sizeof k2, "%s_max", key);
        kv_stats(nt, prefix, k2, "%.2f", mx, ns);
        snprintf(k2, sizeof k2, "%s_end_gd", key);
        kv_stats(nt, prefix, k2, "%.2f", ratio2, ns);
        snprintf(k2, sizeof k2, "%s_tail_ups", key);
        kv_stats(nt, prefix, k2, "%.0f", tups, ns);
        snprintf(k2, sizeof k2, "%s_tail_nonmono", key), kv(nt, prefix, k2, "%.0f", ntail);
        snprintf(k2, sizeof k2, "%s_reach_step", key);
        gd_stats sr = kv_stats(nt, prefix, k2, "%.0f", rstep, ns);
        snprintf(k2, sizeof k2, "%s_ups", key);
        gd_stats su = kv_stats(nt, prefix, k2, "%.0f", ups, ns);
        snprintf(k2, sizeof k2, "%s_final", key);
        gd_stats sf = kv_stats(nt, prefix, k2, "%.3g", fin, ns);
        med_range(a, sizeof a, "%.3g", s0), med_range(b, sizeof b, "%.0f", sr), med_range(c, sizeof c, "%.2f", se);
        med_range(d, sizeof d, "%.0f", su), med_range(e, sizeof e, "%.3g", sf);
        if (tl < (int)sizeof tab - 600)
            tl += snprintf(tab + tl, sizeof tab - tl, "\n| %g | %.3g | %s | %d of %d | %s | %s | %d of %d | %d of %d | %s | %d of %d | %s |",
                           lr, edge, a, nreach, ns, b, c, nband, ns, nsharp, ns, d, nfell, nreach, e);
        printf("%s lr %g: limit/lr %.3g; %d of %d runs reach %.0f%%, end/limit %.2f (%.2f to %.2f), %d in band, "
               "%d diverged\n", method, lr, edge, nreach, ns, 100 * reach, se.median, se.min, se.max, nband, ndiv);
        all_runs += ns, all_band += nband, all_sharp += nsharp, all_fell += nfell, all_nonmono += nnonmono;
        all_div += ndiv, all_reach += nreach, all_tail += ntail;
    }
    if (nt) {
        /* the setting, from the runs' own header: model, seeds, power iterations; the
         * measurement interval from the steps */
        FILE *f = fopen(in, "r");
        char *line = NULL, k[160];   /* k: the --prefix (at most 64) and a short name */
        size_t cap = 0;
        long iters = -1;
        while (f && getline(&line, &cap, f) > 0 && line[0] == '#') {
            line[strcspn(line, "\n")] = 0;
            if (!strncmp(line, "# model: ", 9)) snprintf(k, sizeof k, "%smodel", prefix), gd_table_kv(nt, k, "%s", line + 9);
            if (!strncmp(line, "# seeds: ", 9)) snprintf(k, sizeof k, "%sseed_list", prefix), gd_table_kv(nt, k, "%s", line + 9);
            char *by = strstr(line, "lambda_max by ");
            if (by) iters = strtol(by + 14, NULL, 10);
        }
        free(line);
        if (f) fclose(f);
        kv(nt, prefix, "iters", "%.0f", (double)iters);
        long every = 0;
        for (long i = 1; i < runs[0].n && !every; i++)
            if (!isnan(runs[0].sharp[i])) every = runs[0].step[i] - runs[0].step[0];
        kv(nt, prefix, "every", "%.0f", (double)every);
        kv(nt, prefix, "seeds", "%.0f", (double)nruns / nl);
        kv(nt, prefix, "limit", "%.4g", limit);
        kv(nt, prefix, "momentum", "%g", beta);
        kv(nt, prefix, "band_pct", "%.0f", 100 * band);
        kv(nt, prefix, "tail_pct", "%.0f", 100 * tail);
        kv(nt, prefix, "reach_pct", "%.0f", 100 * reach);
        kv(nt, prefix, "steps", "%.0f", (double)steps);
        kv(nt, prefix, "nlr", "%.0f", nl);
        kv(nt, prefix, "runs", "%.0f", all_runs);
        kv(nt, prefix, "band", "%.0f", all_band);
        kv(nt, prefix, "sharpened", "%.0f", all_sharp);
        kv(nt, prefix, "reach", "%.0f", all_reach);
        kv(nt, prefix, "nonmono", "%.0f", all_nonmono);
        kv(nt, prefix, "fell", "%.0f", all_fell);
        kv(nt, prefix, "div", "%.0f", all_div);
        kv(nt, prefix, "tail_nonmono", "%.0f", all_tail);
        kv_stats(nt, prefix, "end", "%.2f", ratio_all, nra);
        snprintf(k, sizeof k, "%stable", prefix);
        gd_table_kv(nt, k, "%s", tab);
    }
    free(ratio_all);
    for (int r = 0; r < nruns; r++) free(runs[r].step), free(runs[r].loss), free(runs[r].sharp);
    if ((ot && gd_table_close(ot) != 0) || (nt && gd_table_close(nt) != 0)) goto io_error;
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

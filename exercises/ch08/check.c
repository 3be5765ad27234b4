/* check.c -- the automatic checks of Chapter 8's exercises (exercises/README.md).
 *
 * 8.1 compares the student's grid with lib/sweep.c's (gd_sweep_set_lr) on a few hundred
 * ranges, and the refinement with the neighbours in lib/sweep.c's quarter-decade grid.
 * 8.2 recomputes the run counts from the library's own grid and the gradient check's
 * error from lib/gradcheck.c run on a planted bug. 8.3 runs lrtune afresh (the recipe
 * and the full sweep, on a quadratic: a fraction of a CPU-second) with this grading
 * run's seed and reads its tables. 8.4 runs ch08-symptoms (three cases, two seeds, 200
 * steps: about 2 CPU-seconds) and compares the student's rules with the program's
 * verdicts on every logged run.
 */
#define _GNU_SOURCE /* mkdtemp, asprintf */
#include "grade.h"
#include "grid.h"
#include "symptom.h"

#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rates lib/sweep.h makes of TEXT: their number (-1 on an error), into v. */
static int lib_grid(const char *text, double *v, int cap)
{
    gd_sweep sw;
    gd_sweep_init(&sw);
    int n = -1;
    if (gd_sweep_set_lr(&sw, text) == 0 && sw.n_lr <= cap) {
        n = sw.n_lr;
        memcpy(v, sw.lr, (size_t)n * sizeof *v);
    }
    gd_sweep_free(&sw);
    return n;
}

/* ---- 8.1 ---------------------------------------------------------------------------- */

EXERCISE("8.1", check_grid)
{
    gd_rng r;
    gd_rng_seed(&r, 81);
    const double los[] = {1e-5, 1e-4, 3e-4, 0.001, 0.002, 0.02, 0.1, 1, 2.5};
    const int pers[] = {1, 2, 3, 4, 5, 8, 10, 12};
    int wrong = 0;
    for (int t = 0; t < 400 && wrong < 3; t++) {
        double lo = los[t % 9];
        int per = pers[(t / 9) % 8];
        /* whole decades (hi on the grid) half of the time, else anywhere in 0 to 4.5 decades */
        double hi = t % 2 ? lo * pow(10.0, (double)(gd_rng_below(&r, 5))) : lo * pow(10.0, 4.5 * gd_rng_uniform(&r));
        char text[96];
        snprintf(text, sizeof text, "%.15g:%.15g:%d", lo, hi, per);
        double want[200], got[200];
        int nw = lib_grid(text, want, 200);
        if (nw < 0) continue;
        for (int i = 0; i < 200; i++) got[i] = NAN;
        /* the grid as it is written: lo and hi as gd_sweep_set_lr parsed them */
        int ng = ex_log_grid(strtod(text, NULL), strtod(strchr(text, ':') + 1, NULL), per, got, 200);
        if (ng != nw) {
            grade_expect(g, 0, "ex_log_grid(lo=%g, hi=%g, per_decade=%d): expected %d rates (gd_sweep_set_lr "
                         "\"%s\": %g ... %g), got %d", lo, hi, per, nw, text, want[0], want[nw - 1], ng);
            wrong++;
            continue;
        }
        for (int i = 0; i < nw; i++)
            if (!(fabs(got[i] - want[i]) <= 1e-12 * want[i])) {
                grade_expect(g, 0, "ex_log_grid(lo=%g, hi=%g, per_decade=%d): rate %d: expected %.17g "
                             "(gd_sweep_set_lr), got %.17g", lo, hi, per, i, want[i], got[i]);
                wrong++;
                break;
            }
    }
    /* the refinement: the neighbours of each half-decade rate in the quarter-decade grid */
    double q[60];
    int nq = lib_grid("1e-7:100:4", q, 60);
    for (int i = 2; i + 1 < nq && wrong < 6; i += 2) {
        double out[2] = {NAN, NAN};
        ex_refine(q[i], out);
        for (int s = 0; s < 2; s++)
            if (!(fabs(out[s] - q[i + (s ? 1 : -1)]) <= 1e-12 * q[i])) {
                grade_expect(g, 0, "ex_refine(%g): expected %g and %g (its neighbours in gd_sweep_set_lr "
                             "\"1e-7:100:4\"), got %.17g and %.17g", q[i], q[i - 1], q[i + 1], out[0], out[1]);
                wrong++;
                break;
            }
    }
    /* too small a buffer: -1, and nothing written past it */
    double small[3] = {0, 0, 0};
    int n = ex_log_grid(1e-4, 1, 4, small, 2);
    grade_expect(g, n == -1 && small[2] == 0,
                 "ex_log_grid(1e-4, 1, 4) with cap 2: expected -1 (17 rates do not fit), got %d", n);
}

/* ---- 8.2 ---------------------------------------------------------------------------- */

/* f(x) = 1/2 sum a_i x_i^2: central differences are exact for it up to rounding. */
typedef struct { float *x; const double *a; int n; } quad_ctx;
static double quad_loss(void *p)
{
    quad_ctx *q = p;
    double s = 0;
    for (int i = 0; i < q->n; i++) s += 0.5 * q->a[i] * (double)q->x[i] * q->x[i];
    return s;
}

/* lib/gradcheck.c's relative error for a backward whose gradient is `scale` times the
 * true one (the planted bug of §8.1 is scale N: the mean's 1/N forgotten). */
static double gradcheck_scaled(double scale)
{
    double a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float x[8] = {1.5f, -2, 0.75f, 3, -1.25f, 2.5f, -0.5f, 1};
    float grad[8];
    for (int i = 0; i < 8; i++) grad[i] = (float)(scale * a[i] * x[i]);
    quad_ctx q = {x, a, 8};
    return gd_gradcheck(quad_loss, &q, x, grad, 8, 1e-2f, 0.1);
}

static int sweep_runs(const char *lr, int seeds)
{
    double v[200];
    int n = lib_grid(lr, v, 200);
    return n < 0 ? -1 : n * seeds;
}

EXERCISE("8.2", check_costs)
{
    grade_close(g, "8.2.full_runs (runs of the sweep 1e-4:1:4 over 3 seeds; lib/sweep.h's grid)",
                grade_answer(g, "8.2.full_runs"), sweep_runs("1e-4:1:4", 3), 0, 1e-9);
    grade_close(g, "8.2.runs_3dec (runs of the sweep 1e-3:1:3 over 5 seeds; lib/sweep.h's grid)",
                grade_answer(g, "8.2.runs_3dec"), sweep_runs("1e-3:1:3", 5), 0, 1e-9);
    grade_close(g, "8.2.gc_n4 (gradient check's relative error, gradient 4 times too large; gd_gradcheck)",
                grade_answer(g, "8.2.gc_n4"), gradcheck_scaled(4), 0, 2e-3);
    grade_close(g, "8.2.gc_half (gradient check's relative error, gradient half as large; gd_gradcheck)",
                grade_answer(g, "8.2.gc_half"), gradcheck_scaled(0.5), 0, 2e-3);
}

/* ---- 8.3 ---------------------------------------------------------------------------- */

/* The value of KEY in a two-column table (recommend.tsv): NAN when missing. */
static double table_value(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    char line[1024];
    size_t k = strlen(key);
    double v = NAN;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, k) == 0 && line[k] == '\t') {
            v = strtod(line + k + 1, NULL);
            break;
        }
    fclose(f);
    return v;
}

/* The smallest lr of summary.tsv at which every run diverged (NAN: none). */
static double first_all_diverged(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    char line[1024];
    double v = NAN;
    while (fgets(line, sizeof line, f)) {
        double lr;
        int runs, div;
        if (line[0] == '#' || sscanf(line, "%lf %d %d", &lr, &runs, &div) != 3) continue;
        if (runs > 0 && div == runs && (isnan(v) || lr < v)) v = lr;
    }
    fclose(f);
    return v;
}

/* The commands are built on the heap, the paths in quotes: a long or spaced program
 * directory (GRADE_BIN_DIR) is run as it is, never cut short. */
static int run_lrtune(grade *g, const char *dir, const char *extra)
{
    char *cmd = NULL, *mk = NULL;
    if (asprintf(&cmd, "'%s' --model quad:d=20:L=99:mu=1 --sched constant --warmup 0 --steps 100 --seed %llu "
                 "--workers 1 --quiet --dir '%s' %s > '%s/stdout' 2>&1", grade_bin("lrtune"), grade_seed(0), dir,
                 extra, dir) < 0)
        cmd = NULL;
    if (asprintf(&mk, "mkdir -p '%s'", dir) < 0) mk = NULL;
    int rc = 0;
    if (!cmd || !mk || system(mk) != 0 || system(cmd) != 0) {
        grade_expect(g, 0, "8.3: %s failed (see %s/stdout)", cmd ? cmd : "lrtune", dir);
        rc = -1;
    }
    free(cmd), free(mk);
    return rc;
}

/* rm -rf DIR (a temporary directory of mkdtemp); a leftover one is harmless. */
static void remove_dir(const char *dir)
{
    char *rm = NULL;
    if (asprintf(&rm, "rm -rf '%s'", dir) >= 0 && system(rm) != 0) { /* harmless */ }
    free(rm);
}

EXERCISE("8.3", check_tune)
{
    double a_lr = grade_answer(g, "8.3.lr"), a_full = grade_answer(g, "8.3.full_lr");
    double a_runs = grade_answer(g, "8.3.runs"), a_div = grade_answer(g, "8.3.first_diverged");
    char tmpl[] = "/tmp/grade-ch08-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) { grade_expect(g, 0, "8.3: cannot make a temporary directory"); return; }
    char recipe[256], full[256], path[300];
    snprintf(recipe, sizeof recipe, "%s/recipe", dir);
    snprintf(full, sizeof full, "%s/full", dir);
    if (run_lrtune(g, recipe, "") == 0 && run_lrtune(g, full, "--grid 1e-4:1:4") == 0) {
        snprintf(path, sizeof path, "%s/recommend.tsv", recipe);
        double lr = table_value(path, "lrtune_peak_lr");
        double runs = table_value(path, "lrtune_n_lr") * table_value(path, "lrtune_seeds");
        snprintf(path, sizeof path, "%s/summary.tsv", recipe);
        double div = first_all_diverged(path);
        snprintf(path, sizeof path, "%s/recommend.tsv", full);
        double full_lr = table_value(path, "lrtune_peak_lr");
        /* the rates are on the 3-significant-digit grid: 1 % tells neighbours apart */
        grade_close(g, "8.3.lr (lrtune's recommended lr; a fresh run)", a_lr, lr, 0.01, 0);
        grade_close(g, "8.3.full_lr (the full sweep's best lr; a fresh run with --grid 1e-4:1:4)", a_full, full_lr,
                    0.01, 0);
        grade_close(g, "8.3.runs (lrtune's training runs: rates x seeds; a fresh run)", a_runs, runs, 0, 1e-9);
        grade_close(g, "8.3.first_diverged (lrtune's smallest rate at which every seed diverged; a fresh run)", a_div,
                    div, 0.01, 0);
    }
    remove_dir(dir);
}

/* ---- 8.4 ---------------------------------------------------------------------------- */

#define SYM_T 200
#define SYM_SEEDS 2
#define SYM_RUNS (2 * SYM_SEEDS)

/* One run of ch08-symptoms: its losses (--curves) and its summary row (--summary). */
typedef struct {
    char name[128];
    double loss[SYM_T];
    long n;
    long diverged_at, steps;
    double final_loss, gain, gain2;
    int symptom;
} sym_run;

/* Read the runs of case CASE from DIR/curves-CASE.tsv and DIR/summary-CASE.tsv into r
 * (at most SYM_RUNS: the broken and the fixed arm of each seed). Their number, or -1. */
static int read_case(const char *dir, const char *cname, sym_run *r)
{
    char path[400], line[1024];
    snprintf(path, sizeof path, "%s/summary-%s.tsv", dir, cname);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int nr = 0;
    while (fgets(line, sizeof line, f) && nr < SYM_RUNS) {
        char c[32], arm[32];
        unsigned long long seed;
        double first, swing;
        if (line[0] == '#' || sscanf(line, "%31s %31s %llu %ld %ld %lf %lf %lf %lf %lf", c, arm, &seed, &r[nr].steps,
                                     &r[nr].diverged_at, &first, &r[nr].final_loss, &swing, &r[nr].gain,
                                     &r[nr].gain2) != 10)
            continue;
        char *last = strrchr(line, '\t');
        r[nr].symptom = last ? atoi(last + 1) : -1;
        snprintf(r[nr].name, sizeof r[nr].name, "%s/%s/%llu", c, arm, seed);
        r[nr].n = 0;
        nr++;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/curves-%s.tsv", dir, cname);
    if (!(f = fopen(path, "r"))) return -1;
    while (fgets(line, sizeof line, f)) {
        char c[32], arm[32], name[128];
        unsigned long long seed;
        long step;
        double lr, loss;
        if (line[0] == '#' || sscanf(line, "%31s %31s %llu %ld %lf %lf", c, arm, &seed, &step, &lr, &loss) != 6) continue;
        snprintf(name, sizeof name, "%s/%s/%llu", c, arm, seed);
        for (int i = 0; i < nr; i++)
            if (strcmp(name, r[i].name) == 0 && step == r[i].n + 1 && r[i].n < SYM_T) r[i].loss[r[i].n++] = loss;
    }
    fclose(f);
    return nr;
}

EXERCISE("8.4", check_symptoms)
{
    char tmpl[] = "/tmp/grade-ch08-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) { grade_expect(g, 0, "8.4: cannot make a temporary directory"); return; }
    const char *cases[] = {"nan", "stuck", "plateau"};
    const int case_rule[] = {EX_EXPLOSION, EX_STUCK, EX_PLATEAU};
    const char *rule_name[] = {"EX_EXPLOSION", "EX_STUCK", "EX_OSCILLATION", "EX_PLATEAU"};
    double lnC = log(10.0);
    int compared = 0, wrong = 0;
    for (int c = 0; c < 3 && wrong < 3; c++) {
        char *cmd = NULL;
        if (asprintf(&cmd, "'%s' --case %s --seed %llu --seeds %d --steps %d --val-size 100 --curves "
                     "'%s/curves-%s.tsv' --summary '%s/summary-%s.tsv' > '%s/stdout' 2>&1", grade_bin("ch08-symptoms"),
                     cases[c], grade_seed(0), SYM_SEEDS, SYM_T, dir, cases[c], dir, cases[c], dir) < 0)
            cmd = NULL;
        sym_run r[SYM_RUNS];
        int nr;
        if (!cmd || system(cmd) != 0 || (nr = read_case(dir, cases[c], r)) < 1) {
            grade_expect(g, 0, "8.4: %s failed (see %s/stdout)", cmd ? cmd : "ch08-symptoms", dir);
            free(cmd);
            return;
        }
        free(cmd);
        for (int i = 0; i < nr && wrong < 3; i++) {
            /* the program's verdicts: its own rule's, and the others' from its statistics;
             * a statistic within 0.1 % of its threshold is left out (the tables round) */
            int want[4];
            int near[4] = {0, 0, 0, 0};
            want[EX_EXPLOSION] = r[i].diverged_at >= 0;
            want[EX_STUCK] = r[i].steps == SYM_T && fabs(r[i].final_loss - lnC) < 0.1;
            near[EX_STUCK] = fabs(fabs(r[i].final_loss - lnC) - 0.1) < 1e-4;
            want[EX_OSCILLATION] = r[i].diverged_at < 0 && r[i].gain2 < 0;
            near[EX_OSCILLATION] = fabs(r[i].gain2) < 1e-3;
            want[EX_PLATEAU] = r[i].diverged_at < 0 && r[i].gain < 0.10;
            near[EX_PLATEAU] = fabs(r[i].gain - 0.10) < 1e-4;
            want[case_rule[c]] = r[i].symptom;
            for (int rule = 0; rule < 4; rule++) {
                if (near[rule]) continue;
                int got = ex_symptom(rule, r[i].loss, r[i].n, SYM_T, lnC);
                compared++;
                if (got != want[rule]) {
                    grade_expect(g, 0, "ex_symptom(%s) on the run %s (case/arm/seed) of ch08-symptoms (%ld steps, "
                                 "diverged at %ld, final loss %.4g, gain %.4g, gain2 %.4g): expected %d, got %d",
                                 rule_name[rule], r[i].name, r[i].n, r[i].diverged_at, r[i].final_loss,
                                 r[i].gain, r[i].gain2, want[rule], got);
                    wrong++;
                }
            }
        }
    }
    grade_expect(g, compared >= 24, "8.4: only %d verdicts could be compared", compared);
    remove_dir(dir);
}

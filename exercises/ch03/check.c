/* check.c -- the automatic checks of Chapter 3's exercises (exercises/README.md).
 *
 * 3.1: gradient descent on a least-squares problem at 0.97 and 1.03 times 2 / lambda_max
 *      (the student's lambda_max) must converge and diverge: the stability edge measured,
 *      not a formula.
 * 3.2: fresh range tests by the chapter's program (build/bin/ch03-rangetest): the
 *      student's valley and steep on each trimmed curve against the program's own.
 * 3.4: quadratic losses with a known spectrum (a random rotation of a chosen diagonal):
 *      the student's lambda_max from gradients alone against the largest eigenvalue.
 * 3.3: fresh range tests at 100 and 400 steps on five seeds: the medians of the
 *      minimum/10 suggestion against the student's answers.
 */
#define _GNU_SOURCE /* asprintf */
#include "grade.h"
#include "lrfind.h"
#include "lsqsharp.h"
#include "power.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- 3.1 ---------------------------------------------------------------------------- */

/* Full-batch gradient descent on f = 1/(N K) sum (X W^T + b - Y)^2 from a random start;
 * returns the last loss divided by the first, or INFINITY once the loss exceeds 1e8 times
 * the first (diverged). */
static double gd_lsq(const double *X, const double *Y, int N, int D, int K, double lr, long steps,
                     unsigned long long seed)
{
    int E = D + 1;
    double *W = malloc((size_t)K * E * sizeof *W), *G = malloc((size_t)K * E * sizeof *G); /* (K, D+1) */
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    for (int i = 0; i < K * E; i++) W[i] = gd_rng_normal(&rng);
    double first = NAN, loss = NAN;
    for (long s = 0; s <= steps; s++) {
        loss = 0;
        for (int i = 0; i < K * E; i++) G[i] = 0;
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++) {
                double r = W[(size_t)k * E + D] - Y[(size_t)n * K + k];
                for (int d = 0; d < D; d++) r += W[(size_t)k * E + d] * X[(size_t)n * D + d];
                loss += r * r;
                double c = 2.0 * r / ((double)N * K); /* d f / d out[n][k] */
                for (int d = 0; d < D; d++) G[(size_t)k * E + d] += c * X[(size_t)n * D + d];
                G[(size_t)k * E + D] += c;
            }
        loss /= (double)N * K;
        if (s == 0) first = loss;
        if (!(loss <= 1e8 * first)) {
            loss = INFINITY;
            break;
        }
        for (int i = 0; i < K * E; i++) W[i] -= lr * G[i]; /* W <- W - lr grad */
    }
    free(W);
    free(G);
    return loss / first;
}

EXERCISE("3.1", check_lsq_sharpness)
{
    /* two problems: pixel-like inputs in [0, 1] (far from centred: the bias matters) and
     * centred normal inputs; one-hot targets */
    for (int p = 0; p < 2; p++) {
        int N = p ? 150 : 200, D = p ? 6 : 12, K = p ? 3 : 4;
        double *X = malloc((size_t)N * D * sizeof *X), *Y = calloc((size_t)N * K, sizeof *Y);
        gd_rng rng;
        gd_rng_seed(&rng, grade_seed(p));
        for (int i = 0; i < N * D; i++) X[i] = p ? gd_rng_normal(&rng) : gd_rng_uniform(&rng);
        for (int n = 0; n < N; n++) Y[(size_t)n * K + gd_rng_below(&rng, (uint64_t)K)] = 1;
        double lam = ex_lsq_sharpness(X, N, D, K);
        if (!grade_expect(g, isfinite(lam) && lam > 0, "ex_lsq_sharpness(N=%d, D=%d, K=%d): expected a positive "
                          "number, got %g", N, D, K, lam)) {
            free(X), free(Y);
            continue;
        }
        double below = gd_lsq(X, Y, N, D, K, 0.97 * 2 / lam, 3000, grade_seed(10 + p));
        double above = gd_lsq(X, Y, N, D, K, 1.03 * 2 / lam, 3000, grade_seed(10 + p));
        char how[64];
        if (isinf(below)) snprintf(how, sizeof how, "passed 1e8 times its first value (diverged)");
        else snprintf(how, sizeof how, "ended at %.3g times its first value", below);
        grade_expect(g, below < 1, "ex_lsq_sharpness(N=%d, D=%d, K=%d) = %.6g: gradient descent at 0.97 x 2/that "
                     "= %.6g should converge, but its loss %s (lambda_max too small?)", N, D, K, lam,
                     0.97 * 2 / lam, how);
        grade_expect(g, isinf(above), "ex_lsq_sharpness(N=%d, D=%d, K=%d) = %.6g: gradient descent at 1.03 x 2/that "
                     "= %.6g should diverge within 3000 steps, but its loss ended at %.3g x the first (lambda_max "
                     "too large?)", N, D, K, lam, 1.03 * 2 / lam, above);
        free(X);
        free(Y);
    }
}

/* ---- range tests by the chapter's program ------------------------------------------- */

typedef struct {
    unsigned long long seed;
    int steps;
    double lr[512], smooth[512];              /* the log, --out */
    double valley, steep, minimum;           /* the program's suggestions, --suggest */
} rt_run;

/* Run ch03-rangetest (optimizer OPT, seeds SEED.., NSEEDS of them, NUM_IT steps) and read
 * its two tables into runs[0..nseeds). Returns 0, or -1 with a failed expectation. */
static int range_test(grade *g, const char *opt, unsigned long long seed, int nseeds, int num_it, rt_run *runs)
{
    char dir[] = "/tmp/grade-ch03-XXXXXX", out[128], sug[128], *cmd = NULL;
    if (!mkdtemp(dir)) return grade_expect(g, 0, "cannot make a temporary directory in /tmp"), -1;
    snprintf(out, sizeof out, "%s/rt.tsv", dir);
    snprintf(sug, sizeof sug, "%s/rt.suggest", dir);
    /* on the heap: the program's path (GRADE_BIN_DIR) may be long, and is run as it is */
    if (asprintf(&cmd, "'%s' --optim '%s' --seed %llu --seeds %d --num-it %d --label x --out %s --suggest %s "
                 ">/dev/null", grade_bin("ch03-rangetest"), opt, seed, nseeds, num_it, out, sug) < 0)
        cmd = NULL;
    int rc = cmd ? system(cmd) : -1, status = -1;
    if (rc != 0) {
        /* system()'s status decoded: the program's exit status, or the signal that ended it */
        int st = rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : WIFSIGNALED(rc) ? 128 + WTERMSIG(rc) : rc;
        grade_expect(g, 0, "could not run the chapter's range test (exit status %d): %s -- is it built? (make "
                     "%s)", st, cmd ? cmd : "ch03-rangetest", grade_bin("ch03-rangetest"));
        goto done;
    }
    for (int k = 0; k < nseeds; k++) runs[k].steps = 0, runs[k].seed = seed + (unsigned long long)k;
    FILE *f = fopen(out, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long s;
        int step;
        double lr, loss, smooth;
        if (sscanf(line, "%llu %d %lf %lf %lf", &s, &step, &lr, &loss, &smooth) != 5 || s < seed ||
            s >= seed + (unsigned long long)nseeds || step != runs[s - seed].steps || step >= 512)
            continue;
        runs[s - seed].lr[step] = lr, runs[s - seed].smooth[step] = smooth, runs[s - seed].steps++;
    }
    if (f) fclose(f);
    int nsug = 0;
    f = fopen(sug, "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long s;
        int steps, stopped;
        double valley, steep, minimum;
        if (sscanf(line, "x %llu %d %d %lf %lf %lf", &s, &steps, &stopped, &valley, &steep, &minimum) != 6 ||
            s < seed || s >= seed + (unsigned long long)nseeds)
            continue;
        runs[s - seed].valley = valley, runs[s - seed].steep = steep, runs[s - seed].minimum = minimum;
        nsug++;
    }
    if (f) fclose(f);
    status = grade_expect(g, nsug == nseeds, "the range test's %s: expected %d rows, read %d", sug, nseeds, nsug) ? 0
                                                                                                              : -1;
done:
    free(cmd);
    unlink(out);
    unlink(sug);
    rmdir(dir);
    return status;
}

EXERCISE("3.2", check_lrfind)
{
    const char *opts[2] = {"adam", "sgd:momentum=0.9"};
    for (int o = 0; o < 2; o++) {
        rt_run runs[2];
        if (range_test(g, opts[o], grade_seed(2 * o), 2, 100, runs) != 0) return;
        for (int k = 0; k < 2; k++) {
            rt_run *r = &runs[k];
            int lo = 100 / 10, hi = r->steps - 5; /* fastai's trim, as the program does it */
            if (!grade_expect(g, hi - lo >= 2, "range test %s seed %llu: only %d steps", opts[o], r->seed, r->steps))
                continue;
            char what[160];
            snprintf(what, sizeof what, "ex_lr_valley on the range test of %s, seed %llu (%d points)", opts[o],
                     r->seed, hi - lo);
            grade_close(g, what, ex_lr_valley(r->lr + lo, r->smooth + lo, hi - lo), r->valley, 2e-5, 0);
            snprintf(what, sizeof what, "ex_lr_steep on the range test of %s, seed %llu (%d points)", opts[o],
                     r->seed, hi - lo);
            grade_close(g, what, ex_lr_steep(r->lr + lo, r->smooth + lo, hi - lo), r->steep, 2e-5, 0);
        }
    }
}

/* ---- 3.3 ---------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

EXERCISE("3.3", check_ramp_length)
{
    enum { S = 5 };
    int num_its[2] = {100, 400};
    const char *keys[2] = {"3.3.minimum_100", "3.3.minimum_400"};
    double med[2];
    for (int a = 0; a < 2; a++) {
        rt_run runs[S];
        if (range_test(g, "adam", grade_seed(0), S, num_its[a], runs) != 0) return;
        double m[S];
        for (int k = 0; k < S; k++) m[k] = runs[k].minimum;
        qsort(m, S, sizeof m[0], cmp_double);
        med[a] = m[S / 2];
    }
    /* the medians vary with the seeds by less than a factor of 1.5 (solutions.md): accept
     * the student's within a factor of 2 of the fresh run's */
    for (int a = 0; a < 2; a++) {
        double got = grade_answer(g, keys[a]);
        grade_expect(g, got > 0 && fabs(log(got / med[a])) <= log(2.0),
                     "%s: expected the median minimum/10 of Adam's range test at --num-it %d over 5 seeds "
                     "(a fresh run's, within a factor of 2), got %g", keys[a], num_its[a], got);
    }
    const char *dir = grade_answer_word(g, "3.3.direction");
    const char *want = med[1] < med[0] ? "lower" : "higher";
    grade_expect(g, strcmp(dir, want) == 0, "3.3.direction: expected the direction in which a fresh run's median "
                 "minimum/10 moves from 100 to 400 steps ('lower' or 'higher'), got '%s'", dir);
}

/* ---- 3.4 ---------------------------------------------------------------------------- */

/* f(w) = 1/2 (w - c)^T A (w - c): its gradient A (w - c), and a count of the calls */
typedef struct {
    int P;
    const double *A, *c; /* (P, P), (P) */
    long calls;
} quad;

static void quad_grad(const double *w, double *gr, int P, void *ctx)
{
    quad *q = ctx;
    q->calls++;
    for (int i = 0; i < P; i++) {
        gr[i] = 0;
        for (int j = 0; j < P; j++) gr[i] += q->A[(size_t)i * P + j] * (w[j] - q->c[j]);
    }
}

/* A = Q diag(spec) Q^T with Q a random rotation (Gram-Schmidt of a normal matrix) */
static void rotated(double *A, const double *spec, int P, gd_rng *rng)
{
    double *Q = malloc((size_t)P * P * sizeof *Q); /* columns Q[.][k] */
    for (int i = 0; i < P * P; i++) Q[i] = gd_rng_normal(rng);
    for (int k = 0; k < P; k++) {
        for (int j = 0; j < k; j++) {
            double d = 0;
            for (int i = 0; i < P; i++) d += Q[(size_t)i * P + j] * Q[(size_t)i * P + k];
            for (int i = 0; i < P; i++) Q[(size_t)i * P + k] -= d * Q[(size_t)i * P + j];
        }
        double n = 0;
        for (int i = 0; i < P; i++) n += Q[(size_t)i * P + k] * Q[(size_t)i * P + k];
        for (int i = 0; i < P; i++) Q[(size_t)i * P + k] /= sqrt(n);
    }
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) {
            double a = 0;
            for (int k = 0; k < P; k++) a += Q[(size_t)i * P + k] * spec[k] * Q[(size_t)j * P + k];
            A[(size_t)i * P + j] = a;
        }
    free(Q);
}

EXERCISE("3.4", check_sharpness)
{
    enum { PMAX = 40 };
    static const double s1[10] = {12, 6, 3, 2, 1, 0.5, 0.2, 0, -0.5, -1};       /* positive top */
    static const double s2[10] = {-5, 2, 1, 0.5, 0.1, 0, -0.3, -1, -2, 0.05};   /* -5 dominates */
    static const double s3[10] = {4, -3.5, 1, 0.5, 0.1, 0, -0.3, -1, -2, 0.05}; /* 4 just beats -3.5 */
    double s4[PMAX];                                                             /* 7, 3, -20, rest in [-2, 2.5] */
    gd_rng rng;
    gd_rng_seed(&rng, grade_seed(20));
    s4[0] = 7, s4[1] = 3, s4[2] = -20;
    for (int i = 3; i < PMAX; i++) s4[i] = -2 + 4.5 * gd_rng_uniform(&rng);
    const struct { const double *spec; int P; const char *name; } cases[] = {
        {s1, 10, "spectrum 12, 6, 3, ..., -1"},
        {s2, 10, "spectrum -5, 2, 1, ... (the most negative is the largest in magnitude)"},
        {s3, 10, "spectrum 4, -3.5, 1, ..."},
        {s4, PMAX, "40 eigenvalues: 7, 3, -20 and 37 in [-2, 2.5]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int P = cases[k].P;
        double A[PMAX * PMAX], c[PMAX], w[PMAX], want = -INFINITY;
        rotated(A, cases[k].spec, P, &rng);
        for (int i = 0; i < P; i++) c[i] = gd_rng_normal(&rng), w[i] = gd_rng_normal(&rng);
        for (int i = 0; i < P; i++) want = fmax(want, cases[k].spec[i]);
        quad q = {P, A, c, 0};
        double got = ex_sharpness(quad_grad, &q, w, P);
        char what[200];
        snprintf(what, sizeof what, "ex_sharpness on a quadratic in %d dimensions, %s: lambda_max", P, cases[k].name);
        grade_close(g, what, got, want, 1e-4, 0);
        grade_expect(g, q.calls <= 2000, "ex_sharpness (%s): used %ld gradient evaluations, at most 2000 allowed",
                     cases[k].name, q.calls);
    }
}

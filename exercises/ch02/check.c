/* check.c -- the automatic checks of Chapter 2's exercises (exercises/README.md).
 *
 * Expected values come from the library, never from the answer's formula: 2.1 compares
 * with the library's MLP with no hidden layer (lib/model.h); 2.2 labels fresh training
 * runs by the learning rate they were trained at (the chapter's too low, just right and
 * too high); 2.3 trains and measures the sharpness afresh, on this grading run's seeds
 * (grade_seed), with an exact Hessian-vector product instead of the chapter program's
 * difference of gradients, and accepts answers within the spread that the seeds give.
 */
#include "grade.h"
#include "logreg.h"
#include "regime.h"

#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 784
#define K 10

EXERCISE("2.1", check_logreg)
{
    const int N = 64;
    float *W = malloc(sizeof(float) * K * D), *b = malloc(sizeof(float) * K), *X = malloc(sizeof(float) * N * D);
    float *dW = malloc(sizeof(float) * K * D), *db = malloc(sizeof(float) * K);
    int y[64], dims[2] = {D, K};
    gd_mlp m;
    if (!W || !b || !X || !dW || !db || gd_mlp_init(&m, 1, dims, GD_ACT_RELU, N, 7) != 0) {
        grade_expect(g, 0, "setup failed: %s", gd_error());
        return;
    }
    gd_rng rng;
    gd_rng_seed(&rng, 2024);
    gd_rng_fill_uniform(&rng, X, (size_t)N * D, 0, 1);              /* pixels in [0, 1] */
    for (int n = 0; n < N; n++) y[n] = (int)gd_rng_below(&rng, K);
    const float scales[2] = {1, 300};     /* the second: logits in the thousands */
    for (int c = 0; c < 2; c++) {
        gd_rng_fill_uniform(&rng, W, (size_t)K * D, -scales[c] / 28, scales[c] / 28);
        gd_rng_fill_uniform(&rng, b, K, -scales[c] / 28, scales[c] / 28);
        memcpy(m.params[0].value->data, W, sizeof(float) * K * D);
        memcpy(m.params[1].value->data, b, sizeof(float) * K);
        double want = gd_mlp_loss(&m, X, y, N);
        gd_mlp_zero_grad(&m);
        gd_mlp_backward(&m, y, N);
        for (int i = 0; i < K * D; i++) dW[i] = NAN;
        for (int k = 0; k < K; k++) db[k] = NAN;
        double got = ex_logreg_loss_grad(dW, db, W, b, X, y, N, D, K);
        char what[160];
        snprintf(what, sizeof what, "ex_logreg_loss_grad loss (N=%d, weights ~U(+-%g/28)) against gd_mlp_loss", N, scales[c]);
        grade_close(g, what, got, want, 1e-5, 1e-6);
        const float *rW = m.params[0].grad->data, *rb = m.params[1].grad->data;
        double big = 0, err = 0;
        int worst = 0;
        for (int i = 0; i < K * D; i++) {
            big = fmax(big, fabs(rW[i]));
            if (!(fabs(dW[i] - rW[i]) <= err)) err = fabs(dW[i] - rW[i]), worst = i;
        }
        grade_expect(g, err <= 1e-4 * big + 1e-7, "ex_logreg_loss_grad dW (weights ~U(+-%g/28)) against gd_mlp_backward: "
                     "expected dW[%d][%d] = %.6g, got %.6g (largest |dW| %.3g)", scales[c], worst / D, worst % D, rW[worst],
                     dW[worst], big);
        big = 0, err = 0, worst = 0;
        for (int k = 0; k < K; k++) {
            big = fmax(big, fabs(rb[k]));
            if (!(fabs(db[k] - rb[k]) <= err)) err = fabs(db[k] - rb[k]), worst = k;
        }
        grade_expect(g, err <= 1e-4 * big + 1e-7, "ex_logreg_loss_grad db (weights ~U(+-%g/28)) against gd_mlp_backward: "
                     "expected db[%d] = %.6g, got %.6g", scales[c], worst, rb[worst], db[worst]);
    }
    gd_mlp_free(&m);
    free(W), free(b), free(X), free(dW), free(db);
}

/* Chapter 2's setting: the first 6000 training images split by the seed into 5000 for
 * training and 1000 held out; plain SGD, batch 64. */
typedef struct {
    gd_images train, test;
    int tri[5000], vai[1000];
} ch02_data;

static int load(grade *g, ch02_data *d)
{
    gd_blas_threads(1);   /* as the chapter's programs: one thread, no fight over cores */
    /* the checks split the first 6000 training images (ch02_trainer): never more than there are */
    if (gd_fmnist_load(&d->train, &d->test, NULL) != 0) {
        grade_expect(g, 0, "cannot load Fashion-MNIST: %s", gd_error());
        return -1;
    }
    if (gd_images_require(&d->train, 6000, "the training set", "Chapter 2's split") != 0) {
        grade_expect(g, 0, "%s: %s", gd_fmnist_dir(NULL), gd_error());
        gd_images_free(&d->train), gd_images_free(&d->test);
        return -1;
    }
    return 0;
}

static gd_trainer *ch02_trainer(ch02_data *d, const char *dims, double lr, int steps, double diverge_factor,
                                uint64_t seed, char *spec, size_t size)
{
    gd_split(d->tri, d->vai, 6000, 1000, seed);
    gd_train_cfg cfg = gd_train_defaults();
    cfg.nlayers = gd_parse_dims(dims, cfg.dims, GD_TRAIN_MAXLAYERS);
    snprintf(spec, size, "sgd:lr=%g", lr);
    cfg.optim = spec;
    cfg.batch_size = 64;
    cfg.seed = seed;
    cfg.train = &d->train, cfg.train_idx = d->tri, cfg.n_train = 5000;
    cfg.epochs = (double)steps / ((5000 + 63) / 64);   /* as ch02-regimes: exactly `steps` updates */
    cfg.log_every = 1;
    cfg.eval_every = 1 << 30;
    cfg.diverge_factor = diverge_factor;
    cfg.collapse_window = 0;
    return gd_trainer_new(&cfg);
}

EXERCISE("2.2", check_regime)
{
    static ch02_data d;
    if (load(g, &d) != 0) return;
    const char *names[3] = {"too low", "just right", "too high"};
    const struct { const char *dims; double lr; int label, seeds; double factor; } runs[] = {
        {"784-10", 0.005, EX_TOO_LOW, 2, 1e30},   {"784-10", 0.1, EX_JUST_RIGHT, 2, 1e30},
        {"784-10", 1.5, EX_TOO_HIGH, 2, 1e30},    {"784-64-10", 0.005, EX_TOO_LOW, 2, 1e30},
        {"784-64-10", 0.2, EX_JUST_RIGHT, 2, 1e30}, {"784-64-10", 3, EX_TOO_HIGH, 2, 1e30},
        {"784-10", 1.5, EX_TOO_HIGH, 1, 10},      /* the trainer's divergence rule on: cut short */
    };
    const int steps = 300;
    double loss[300];
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (int s = 0; s < runs[r].seeds; s++) {
            char spec[64];
            uint64_t seed = grade_seed(s);
            gd_trainer *tr = ch02_trainer(&d, runs[r].dims, runs[r].lr, steps, runs[r].factor, seed, spec, sizeof spec);
            gd_train_log log;
            if (!tr || gd_trainer_run(tr, &log) != 0) {
                grade_expect(g, 0, "training failed: %s", gd_error());
                gd_trainer_free(tr);
                return;
            }
            int n = 0;
            for (int i = 0; i < log.n && n < steps; i++) loss[n++] = log.rows[i].train_loss;
            int got = ex_regime(loss, n, steps);
            grade_expect(g, got == runs[r].label, "ex_regime: %s at lr %g, seed %llu (%d of %d steps, loss %.3g at step 1, "
                         "%.3g at the last): expected %d (%s), got %d%s%s", runs[r].dims, runs[r].lr,
                         (unsigned long long)seed, n, steps, loss[0], loss[n - 1], runs[r].label, names[runs[r].label], got,
                         got >= 0 && got <= 2 ? " " : "", got >= 0 && got <= 2 ? names[got] : "");
            gd_train_log_free(&log);
            gd_trainer_free(tr);
        }
}

/* H v for logistic regression's mean cross-entropy on X (N, D), at the weights whose
 * softmax m->probs holds (after gd_mlp_loss): with u_n = V_W x_n + v_b and
 * s_n = p_n * u_n - p_n (p_n . u_n), (H v)_W = (1/N) sum_n s_n x_n^T, (H v)_b = (1/N)
 * sum_n s_n. v and Hv are (K * D + K): the weight, then the bias. */
static void logreg_hvp(double *Hv, const double *v, const gd_mlp *m, const float *X, int N, float *U, float *Vw,
                       float *tmp)
{
    for (int i = 0; i < K * D; i++) Vw[i] = (float)v[i];
    gd_matmul(U, X, Vw, N, K, D, 0, 1, 1.0f, 0.0f);                      /* U = X V_W^T */
    for (int n = 0; n < N; n++) {
        const float *p = m->probs + (size_t)n * K;
        float *u = U + (size_t)n * K;
        double pu = 0;
        for (int k = 0; k < K; k++) pu += p[k] * (u[k] + v[K * D + k]);
        for (int k = 0; k < K; k++) u[k] = (float)(p[k] * (u[k] + v[K * D + k] - pu));   /* s_n */
    }
    gd_matmul(tmp, U, X, K, D, N, 1, 0, 1.0f / N, 0.0f);                  /* (1/N) S^T X */
    for (int i = 0; i < K * D; i++) Hv[i] = tmp[i];
    for (int k = 0; k < K; k++) {
        double s = 0;
        for (int n = 0; n < N; n++) s += U[(size_t)n * K + k];
        Hv[K * D + k] = s / N;
    }
}

/* The largest eigenvalue of the Hessian at the model's weights on X, y (N): power
 * iteration until the estimate changes by less than 1e-5 (at most 300 iterations). */
static double logreg_sharpness(gd_mlp *m, const float *X, const int *y, int N, uint64_t seed)
{
    const int P = K * D + K;
    double *v = malloc(sizeof(double) * P), *Hv = malloc(sizeof(double) * P);
    float *U = malloc(sizeof(float) * (size_t)N * K), *Vw = malloc(sizeof(float) * K * D),
          *tmp = malloc(sizeof(float) * K * D);
    double lambda = NAN;
    if (v && Hv && U && Vw && tmp) {
        gd_mlp_loss(m, X, y, N);
        gd_rng rng;
        gd_rng_seed(&rng, seed);
        double nv = 0;
        for (int i = 0; i < P; i++) v[i] = gd_rng_normal(&rng), nv += v[i] * v[i];
        for (int i = 0; i < P; i++) v[i] /= sqrt(nv);
        for (int it = 0; it < 300; it++) {
            logreg_hvp(Hv, v, m, X, N, U, Vw, tmp);
            double vHv = 0, n2 = 0;
            for (int i = 0; i < P; i++) vHv += v[i] * Hv[i], n2 += Hv[i] * Hv[i];
            for (int i = 0; i < P; i++) v[i] = Hv[i] / sqrt(n2);
            int done = fabs(vHv - lambda) < 1e-5 * fabs(vHv);
            lambda = vHv;
            if (done) break;
        }
    }
    free(v), free(Hv), free(U), free(Vw), free(tmp);
    return lambda;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

EXERCISE("2.3", check_sharpness)
{
    static ch02_data d;
    if (load(g, &d) != 0) return;
    enum { SEEDS = 3, NS = 1000 };
    static float X[NS * D];
    int y[NS];
    double start[SEEDS], end[SEEDS];
    int nend = 0;
    for (int s = 0; s < SEEDS; s++) {
        char spec[64];
        uint64_t seed = grade_seed(s);
        gd_trainer *tr = ch02_trainer(&d, "784-10", 0.5, 1000, 10, seed, spec, sizeof spec);
        gd_train_log log;
        if (!tr) { grade_expect(g, 0, "training failed: %s", gd_error()); return; }
        gd_images_batch(X, y, &d.train, d.tri, NS);      /* the split's first 1000 training images */
        start[s] = logreg_sharpness(&tr->model, X, y, NS, seed + 1);
        if (gd_trainer_run(tr, &log) != 0) { grade_expect(g, 0, "training failed"); gd_trainer_free(tr); return; }
        if (log.diverged_at < 0) end[nend++] = logreg_sharpness(&tr->model, X, y, NS, seed + 1);
        gd_train_log_free(&log);
        gd_trainer_free(tr);
    }
    qsort(start, SEEDS, sizeof *start, cmp_double);
    qsort(end, (size_t)nend, sizeof *end, cmp_double);
    /* A median over the student's five seeds falls inside the spread of the seeds:
     * accepted from 0.6 times the smallest to 1.5 times the largest of this run's three.
     * (The end sharpness went from 3.09 to 7.14 over seed bases 0, 7, 1000, 2000, 3000,
     * 5000, 10000 and 12345; the smallest of three seeds was at most 4.65.) */
    double a = grade_answer(g, "2.3.sharpness_start");
    /* the messages say what was measured, not its value: that would be the answer */
    grade_expect(g, a >= 0.6 * start[0] && a <= 1.5 * start[SEEDS - 1],
                 "2.3.sharpness_start: expected from 0.6 x the smallest to 1.5 x the largest of 3 fresh seeds' "
                 "sharpness at the start, got %.4g", a);
    double c = grade_answer(g, "2.3.cliff_lr");
    grade_expect(g, c >= 2 / (1.5 * start[SEEDS - 1]) && c <= 2 / (0.6 * start[0]),
                 "2.3.cliff_lr: expected 2 / a sharpness in the range above, got %.4g", c);
    if (!grade_expect(g, nend > 0, "every fresh run at lr 0.5 diverged: cannot check 2.3.sharpness_end")) return;
    double e = grade_answer(g, "2.3.sharpness_end");
    grade_expect(g, e >= 0.6 * end[0] && e <= 1.5 * end[nend - 1],
                 "2.3.sharpness_end: expected from 0.6 x the smallest to 1.5 x the largest sharpness at the end "
                 "of the %d fresh runs at lr 0.5 that did not diverge, got %.4g", nend, e);
}

EXERCISE("2.4", check_zero_sharpness)
{
    static ch02_data d;
    if (load(g, &d) != 0) return;
    enum { NS = 1000 };
    static float X[NS * D];
    int y[NS], idx[NS], dims[2] = {D, K};
    for (int i = 0; i < NS; i++) idx[i] = i;                /* the first 1000 training images */
    gd_images_batch(X, y, &d.train, idx, NS);
    gd_mlp m;
    if (gd_mlp_init(&m, 1, dims, GD_ACT_RELU, NS, 1) != 0) { grade_expect(g, 0, "setup failed: %s", gd_error()); return; }
    gd_fill(m.params[0].value->data, 0, (size_t)K * D);   /* W = 0, b = 0: every softmax output 1/K */
    gd_fill(m.params[1].value->data, 0, K);
    double want = logreg_sharpness(&m, X, y, NS, 5);   /* power iteration on the Hessian itself */
    grade_close(g, "2.4.sharpness_zero (power iteration with exact Hessian-vector products at W = 0, b = 0)",
                grade_answer(g, "2.4.sharpness_zero"), want, 0.01, 0);
    gd_mlp_free(&m);
}

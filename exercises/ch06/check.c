/* check.c -- the automatic checks of Chapter 6's exercises (exercises/README.md).
 *
 * 6.1 finds the stability limit of the library's SGD with momentum and dampening
 * (lib/optim.c, PyTorch's update in float32) on a one-dimensional quadratic by bisection
 * on the measured behaviour, and compares with the student's formula.
 * 6.2 trains the library's AdamW and the student's step side by side on a noisy quadratic.
 * 6.3 trains the runs of the question afresh (ch06-optimizers' setting, through the
 * library's trainer) on two seeds of this grading run and recomputes both answers.
 */
#include "grade.h"
#include "adamw.h"
#include "limit.h"

#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 6.1 ---------------------------------------------------------------------------- */

enum { ITERS61 = 3000 };

/* 1 if lib's SGD (momentum beta, dampening d, lr eta) on f = L theta^2 / 2 ends below
 * its start after ITERS61 updates; -1 on a setup failure. */
static int stable(double beta, double d, double L, double eta)
{
    gd_hparams hp = gd_optim_defaults(GD_SGD);
    hp.lr = eta;
    hp.momentum = beta;
    hp.dampening = d;
    gd_param p;
    int shape[1] = {1};
    if (gd_param_init(&p, "theta", 1, shape) != 0) return -1;
    gd_optim *opt = gd_optim_new(GD_SGD, &hp);
    if (!opt || gd_optim_add_group(opt, &p, 1, NULL) < 0) return -1;
    p.value->data[0] = 1.0f;
    int ok = 1;
    for (int t = 0; t < ITERS61; t++) {
        p.grad->data[0] = (float)L * p.value->data[0];      /* g = L theta */
        gd_optim_step(opt);
        if (!(fabsf(p.value->data[0]) < 1e30f)) { ok = 0; break; }
    }
    if (ok) ok = fabsf(p.value->data[0]) < 1.0f;
    gd_optim_free(opt);
    gd_param_free(&p);
    return ok;
}

/* The largest stable lr, by bisection: bracketed by doubling from a tiny lr (no formula). */
static double measured_limit(double beta, double d, double L)
{
    double lo = 1e-3 / L, hi = lo;
    if (stable(beta, d, L, lo) != 1) return NAN;
    while (stable(beta, d, L, hi) == 1) {
        lo = hi;
        hi *= 2;
        if (hi > 1e6 / L) return NAN;
    }
    for (int i = 0; i < 40; i++) {
        double mid = 0.5 * (lo + hi);
        if (stable(beta, d, L, mid) == 1) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

EXERCISE("6.1", check_limit)
{
    const double cases[][3] = {
        /* beta, dampening, L */
        {0.0, 0.0, 1.0}, {0.9, 0.0, 10.0}, {0.5, 0.0, 2.0}, {0.9, 0.5, 10.0},
        {0.5, 0.9, 1.0}, {0.99, 0.0, 1.0}, {0.8, 0.3, 4.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double beta = cases[i][0], d = cases[i][1], L = cases[i][2];
        double want = measured_limit(beta, d, L);
        if (!isfinite(want)) {
            grade_expect(g, 0, "6.1: the measured limit for beta %g, dampening %g, L %g was not bracketed", beta, d, L);
            return;
        }
        char what[200];
        snprintf(what, sizeof what, "ex_momentum_limit(beta=%g, dampening=%g, L=%g) (bisection on lib's SGD, %d updates)",
                 beta, d, L, ITERS61);
        /* finitely many updates put the measured edge a little above the true one
         * (a spectral radius of 1 + 1e-4 grows by less than 2 in 3000 updates): 1% */
        if (!grade_close(g, what, ex_momentum_limit(beta, d, L), want, 0.01, 0)) return;
    }
}

/* ---- 6.2 ---------------------------------------------------------------------------- */

EXERCISE("6.2", check_adamw)
{
    enum { N = 32, STEPS = 300 };
    /* lr, weight_decay, beta1, beta2, eps */
    const double settings[][5] = {
        {1e-2, 0.1, 0.9, 0.999, 1e-8},
        {3e-2, 1.0, 0.8, 0.99, 1e-8},
        {1e-3, 0.0, 0.9, 0.999, 1e-8},
        {5e-3, 0.3, 0.5, 0.9, 1e-3},
    };
    for (size_t s = 0; s < sizeof settings / sizeof *settings; s++) {
        gd_hparams hp = gd_optim_defaults(GD_ADAMW);
        hp.lr = settings[s][0];
        hp.weight_decay = settings[s][1];
        hp.beta1 = settings[s][2];
        hp.beta2 = settings[s][3];
        hp.eps = settings[s][4];
        gd_param p;
        int shape[1] = {N};
        gd_optim *opt = gd_optim_new(GD_ADAMW, &hp);
        if (gd_param_init(&p, "w", 1, shape) != 0 || !opt || gd_optim_add_group(opt, &p, 1, NULL) < 0) {
            grade_expect(g, 0, "6.2: cannot set up the check (%s)", gd_error());
            return;
        }
        float w[N], m[N] = {0}, v[N] = {0}, gr[N], noise[N];
        gd_rng r;
        gd_rng_seed(&r, 62 + s);
        for (int i = 0; i < N; i++) w[i] = p.value->data[i] = (float)(2.0 * gd_rng_uniform(&r) - 1.0);
        double worst = 0;
        long worst_t = 0;
        for (long t = 1; t <= STEPS; t++) {
            /* noisy quadratic: g = c_i (w - 0.5) + noise, noise N(0, 1), the same for both */
            for (int i = 0; i < N; i++) noise[i] = (float)gd_rng_normal(&r);
            for (int i = 0; i < N; i++) {
                float c = (float)(0.1 * (1 + i));   /* curvatures 0.1 .. 3.2: the noise dominates near the minimum */
                p.grad->data[i] = c * (p.value->data[i] - 0.5f) + noise[i];
                gr[i] = c * (w[i] - 0.5f) + noise[i];
            }
            gd_optim_step(opt);
            ex_adamw_step(&hp, t, w, gr, m, v, N);
            for (int i = 0; i < N; i++) {
                /* rounding: float32 arithmetic in another order, 300 times over */
                double d = fabs((double)w[i] - p.value->data[i]) / (1e-5 + 1e-4 * fabs(p.value->data[i]));
                if (!(d <= worst)) { worst = d; worst_t = t; }
            }
        }
        grade_expect(g, worst <= 1,
                     "6.2: ex_adamw_step against lib's AdamW (lr %g, weight_decay %g, betas %g/%g, eps %g), %d updates "
                     "of %d weights on a noisy quadratic: weights differ by %.3g times the tolerance 1e-5 + 1e-4 |w| (worst "
                     "first at update %ld); expected at most 1", hp.lr, hp.weight_decay, hp.beta1, hp.beta2, hp.eps, STEPS, N, worst, worst_t);
        gd_optim_free(opt);
        gd_param_free(&p);
    }
}

/* ---- 6.3 ---------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over seeds of the mean training loss of the last 10 of 158 steps (ch06-optimizers:
 * 784-64-10, batch 64, the first 5000 images of its split). */
static double final_loss(const gd_images *train, const int *idx, const char *optim, int nseeds)
{
    double v[8];
    for (int s = 0; s < nseeds; s++) {
        gd_train_cfg cfg = gd_train_defaults();
        cfg.nlayers = 2;
        int dims[3] = {784, 64, 10};
        memcpy(cfg.dims, dims, sizeof dims);
        cfg.optim = optim;
        cfg.batch_size = 64;
        cfg.epochs = 2;
        cfg.seed = grade_seed(s);
        cfg.train = train;
        cfg.train_idx = idx;
        cfg.n_train = 5000;
        cfg.collapse_window = 0;
        gd_trainer *tr = gd_trainer_new(&cfg);
        if (!tr) return NAN;
        double sum = 0;
        for (int t = 0; t < 158; t++) {
            double l = gd_trainer_step(tr);
            if (t >= 148) sum += l;
        }
        v[s] = sum / 10;
        gd_trainer_free(tr);
    }
    qsort(v, (size_t)nseeds, sizeof *v, cmp_double);
    return nseeds % 2 ? v[nseeds / 2] : 0.5 * (v[nseeds / 2 - 1] + v[nseeds / 2]);
}

EXERCISE("6.3", check_effective_lr)
{
    double a_factor = grade_answer(g, "6.3.match_factor");
    const char *a_lower = grade_answer_word(g, "6.3.lower_at_same_lr");
    if (!isfinite(a_factor) || !*a_lower) return;   /* unanswered: said; no need to train */
    gd_images train, test;
    /* the runs train on 5000 images of the split, 2000 held out */
    if (gd_fmnist_load(&train, &test, NULL) != 0) {
        grade_expect(g, 0, "6.3: cannot load Fashion-MNIST: %s", gd_error());
        return;
    }
    if (gd_images_require(&train, 7000, "the training set", "6.3's runs") != 0) {
        grade_expect(g, 0, "6.3: %s: %s", gd_fmnist_dir(NULL), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return;
    }
    gd_blas_threads(1);
    int *idx = malloc((size_t)train.n * sizeof *idx), *val = malloc(2000 * sizeof *val);
    if (!idx || !val || gd_split(idx, val, train.n, 2000, 0) != 0) {
        grade_expect(g, 0, "6.3: cannot split the images");
        return;
    }
    enum { NSEED = 2 };
    double sgd = final_loss(&train, idx, "sgd:lr=0.05", NSEED);
    const double factors[4] = {1, 0.316, 0.1, 0.0316};
    double mom[4];
    int best = 0;
    for (int f = 0; f < 4; f++) {
        char spec[64];
        snprintf(spec, sizeof spec, "sgd:lr=%.6g:momentum=0.9", 0.05 * factors[f]);
        mom[f] = final_loss(&train, idx, spec, NSEED);
        if (fabs(log(mom[f] / sgd)) < fabs(log(mom[best] / sgd))) best = f;
    }
    free(idx);
    free(val);
    gd_images_free(&train);
    gd_images_free(&test);
    grade_expect(g, fabs(a_factor - factors[best]) <= 0.01 * factors[best],
                 "6.3.match_factor: expected the f of 1, 0.316, 0.1, 0.0316 at which momentum 0.9 at 0.05 f ends "
                 "nearest SGD at 0.05 (fresh runs, median of %d seeds), got %g", NSEED, a_factor);
    const char *lower = mom[0] < sgd ? "momentum" : "sgd";
    grade_expect(g, strcmp(a_lower, lower) == 0,
                 "6.3.lower_at_same_lr: expected the one that ends lower at lr 0.05 in fresh runs ('sgd' or "
                 "'momentum'), got '%s'", a_lower);
}

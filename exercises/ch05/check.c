/* check.c -- the automatic checks of Chapter 5's exercises (exercises/README.md).
 *
 * 5.1 runs the library's Adam (lib/optim.c, PyTorch's update in float32) on single
 * coordinates through k zero gradients and one nonzero gradient, and measures the update.
 * 5.2 feeds the library's Adam the gradients that attain the bound and measures the update.
 * 5.3 compares the student's warmups with the library's schedules "warmup:T=..:start=.."
 * and "exp:gamma=.." (lib/sched.c) lr by lr, and trains the same three-group optimizer
 * under the linear one and under the library's.
 * 5.4 trains the runs of the question afresh through the library's trainer (the loop of
 * ch05-warmup), on three seeds of this grading run and fewer steps, and recomputes each
 * answer from them.
 */
#include "grade.h"
#include "adamstep.h"
#include "warmup.h"

#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 5.1 ---------------------------------------------------------------------------- */

/* The library's Adam (eps 1e-30, lr 1e-3) on one coordinate: k zero gradients, then g.
 * Returns |delta theta| / lr of the last update. */
static double measured_step(long k, double beta1, double beta2, float gval)
{
    gd_hparams hp = gd_optim_defaults(GD_ADAM);
    hp.lr = 1e-3;
    hp.beta1 = beta1;
    hp.beta2 = beta2;
    hp.eps = 1e-30;
    gd_param p;
    int shape[1] = {1};
    if (gd_param_init(&p, "w", 1, shape) != 0) return NAN;
    gd_optim *opt = gd_optim_new(GD_ADAM, &hp);
    if (!opt || gd_optim_add_group(opt, &p, 1, NULL) < 0) return NAN;
    p.value->data[0] = 0.5f;
    for (long s = 0; s < k; s++) {
        p.grad->data[0] = 0.0f;
        gd_optim_step(opt);
    }
    float before = p.value->data[0];
    p.grad->data[0] = gval;
    gd_optim_step(opt);
    double r = fabs((double)p.value->data[0] - (double)before) / hp.lr;
    gd_optim_free(opt);
    gd_param_free(&p);
    return r;
}

EXERCISE("5.1", check_adam_step)
{
    const long ks[] = {0, 1, 3, 10, 100, 1000, 10000};
    const double betas[][2] = {{0.9, 0.999}, {0.9, 0.99}, {0.5, 0.9}, {0.95, 0.9999}, {0.0, 0.999}};
    const float gs[] = {0.37f, -2.5e-3f, 41.0f};
    for (size_t b = 0; b < sizeof betas / sizeof *betas; b++)
        for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
            double b1 = betas[b][0], b2 = betas[b][1];
            double want = measured_step(ks[i], b1, b2, gs[(b + i) % 3]);
            char what[160];
            snprintf(what, sizeof what, "ex_adam_step_after_zeros(k=%ld, beta1=%g, beta2=%g) (lib's Adam, measured)",
                     ks[i], b1, b2);
            /* float32 rounding of an update of 1e-3 at 0.5: a relative 1e-4 at most */
            if (!grade_close(g, what, ex_adam_step_after_zeros(ks[i], b1, b2), want, 1e-3, 0)) return;
        }
}

/* ---- 5.2 ---------------------------------------------------------------------------- */

/* The library's Adam (eps 1e-30, lr 1e-3) on one coordinate fed g_1..g_t; |delta theta_t| / lr. */
static double measured_last_step(const float *gs, long t, double beta1, double beta2)
{
    gd_hparams hp = gd_optim_defaults(GD_ADAM);
    hp.lr = 1e-3;
    hp.beta1 = beta1;
    hp.beta2 = beta2;
    hp.eps = 1e-30;
    gd_param p;
    int shape[1] = {1};
    if (gd_param_init(&p, "w", 1, shape) != 0) return NAN;
    gd_optim *opt = gd_optim_new(GD_ADAM, &hp);
    if (!opt || gd_optim_add_group(opt, &p, 1, NULL) < 0) return NAN;
    float before = 0;
    for (long k = 0; k < t; k++) {
        p.value->data[0] = 0.5f;      /* the weight does not feed back: measure each step from 0.5 */
        before = p.value->data[0];
        p.grad->data[0] = gs[k];
        gd_optim_step(opt);
    }
    double r = fabs((double)p.value->data[0] - (double)before) / hp.lr;
    gd_optim_free(opt);
    gd_param_free(&p);
    return r;
}

EXERCISE("5.2", check_cs_bound)
{
    enum { TMAX = 700 };
    static float gs[TMAX];
    const double betas[][2] = {{0.9, 0.999}, {0.9, 0.99}, {0.5, 0.9}, {0.8, 0.7}, {0.0, 0.5}};
    const long ts[] = {1, 2, 5, 30, 100, 300, 700};
    for (size_t b = 0; b < sizeof betas / sizeof *betas; b++) {
        double b1 = betas[b][0], b2 = betas[b][1];
        for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
            long t = ts[i];
            /* gradients that change by the factor beta2/beta1 per step, the largest 1e17
             * (floats reach 3e38; when the change is fast, those far from the largest
             * underflow to 0, which moves the attained value by far less than the
             * tolerance: their weight in the bound is (b1^2/b2)^(t-k)) */
            double lrho = b1 > 0 ? log10(b2 / b1) : 0;
            if (lrho < 0 && (double)(t - 1) * -lrho > 34) continue;   /* the newest would underflow */
            double top = 17.0 - fmax(0.0, (double)(t - 1) * lrho);
            for (long k = 0; k < t; k++) {
                double lg = top + (double)k * lrho;
                gs[k] = lg < -18 ? 0.0f : (float)pow(10.0, lg);
            }
            if (b1 == 0) for (long k = 0; k < t; k++) gs[k] = k == t - 1 ? 1.0f : 0.0f;
            double want = measured_last_step(gs, t, b1, b2);
            char what[200];
            snprintf(what, sizeof what, "ex_adam_cs_bound(t=%ld, beta1=%g, beta2=%g) (lib's Adam on the gradients that attain "
                     "it, measured)", t, b1, b2);
            if (!grade_close(g, what, ex_adam_cs_bound(t, b1, b2), want, 1e-3, 0)) return;
        }
    }
    /* random gradients (signs, sizes over 4 decades, runs of zeros) stay under the bound */
    gd_rng r;
    gd_rng_seed(&r, grade_seed(0) + 52);
    for (int trial = 0; trial < 200; trial++) {
        long t = 1 + (long)gd_rng_below(&r, 200);
        for (long k = 0; k < t; k++) {
            double u = gd_rng_uniform(&r);
            gs[k] = u < 0.3 ? 0.0f : (float)((u < 0.65 ? -1 : 1) * pow(10.0, 4 * gd_rng_uniform(&r) - 2));
        }
        gs[t - 1] = 1.0f;
        double got = measured_last_step(gs, t, 0.9, 0.999), bound = ex_adam_cs_bound(t, 0.9, 0.999);
        if (!grade_expect(g, got <= bound * (1 + 1e-3),
                          "5.2: random gradients moved lib's Adam by %.6g lr at step %ld (betas 0.9/0.999), above "
                          "ex_adam_cs_bound(t=%ld) = %.6g", got, t, t, bound))
            return;
    }
}

/* ---- 5.3 ---------------------------------------------------------------------------- */

/* Three groups with their own initial lrs, one weight vector each (n = 8). */
enum { NG52 = 3, N52 = 8 };
typedef struct {
    gd_param p[NG52];
    gd_optim *opt;
} rig52;

static int rig52_new(rig52 *r, gd_optim_kind kind)
{
    const double lrs[NG52] = {0.1, 0.01, 0.03};
    gd_hparams hp = gd_optim_defaults(kind);
    hp.lr = lrs[0];
    if (kind == GD_SGD) hp.momentum = 0.9;
    r->opt = gd_optim_new(kind, &hp);
    if (!r->opt) return -1;
    int shape[1] = {N52};
    for (int k = 0; k < NG52; k++) {
        if (gd_param_init(&r->p[k], "w", 1, shape) != 0) return -1;
        for (int i = 0; i < N52; i++) r->p[k].value->data[i] = (float)(1.0 + 0.25 * i - 0.5 * k);
        gd_hparams gh = hp;
        gh.lr = lrs[k];
        if (gd_optim_add_group(r->opt, &r->p[k], 1, &gh) < 0) return -1;
    }
    return 0;
}

static void rig52_free(rig52 *r)
{
    gd_optim_free(r->opt);
    for (int k = 0; k < NG52; k++) gd_param_free(&r->p[k]);
}

/* gradient of f = sum_i c_i w_i^2 / 2, c_i = 1 + i */
static void rig52_grad(rig52 *r)
{
    for (int k = 0; k < NG52; k++)
        for (int i = 0; i < N52; i++) r->p[k].grad->data[i] = (float)(1 + i) * r->p[k].value->data[i];
}

EXERCISE("5.3", check_warmup)
{
    const long Ts[] = {0, 1, 5, 30};
    const double starts[] = {0.0, 0.0625, 0.5};
    /* lr by lr, against lib/sched.c's warmup term; called twice per step, in a scrambled order */
    for (size_t a = 0; a < sizeof Ts / sizeof *Ts; a++)
        for (size_t b = 0; b < sizeof starts / sizeof *starts; b++) {
            long T = Ts[a];
            double S = starts[b];
            char spec[96];
            snprintf(spec, sizeof spec, "warmup:T=%ld:start=%.17g", T > 0 ? T : 1, S);
            gd_sched *s = gd_sched_parse(spec);
            rig52 r;
            if (!s || rig52_new(&r, GD_ADAM) != 0) {
                grade_expect(g, 0, "5.3: cannot set up the check (%s)", gd_error());
                return;
            }
            for (long i = 0; i < 2 * T + 6; i++) {
                long t = (i * 7) % (2 * T + 6);
                for (int twice = 0; twice < 2; twice++) ex_warmup_apply(r.opt, t, T, S);
                for (int k = 0; k < NG52; k++) {
                    double lr0 = gd_optim_initial_lr(r.opt, k);
                    double want = T > 0 ? gd_sched_lr(s, t, lr0) : lr0;   /* T = 0: no warmup at all */
                    char what[320];
                    snprintf(what, sizeof what, "group %d's lr after ex_warmup_apply(t=%ld, T=%ld, start=%g), initial lr %g "
                             "(lib: \"%s\")", k, t, T, S, lr0, T > 0 ? spec : "constant");
                    if (!grade_close(g, what, gd_optim_lr(r.opt, k), want, 1e-12, 1e-15)) {
                        rig52_free(&r);
                        gd_sched_free(s);
                        return;
                    }
                }
            }
            rig52_free(&r);
            gd_sched_free(s);
        }
    /* (b) the exponential warmup against 1 - the library's exponential decay gamma^t,
     * gamma = exp(-1/tau); twice per step, scrambled order */
    const double taus[] = {1.0, 10.0, 1000.0};
    for (size_t a = 0; a < sizeof taus / sizeof *taus; a++) {
        char spec[96];
        snprintf(spec, sizeof spec, "exp:gamma=%.17g", exp(-1.0 / taus[a]));
        gd_sched *s = gd_sched_parse(spec);
        rig52 r;
        if (!s || rig52_new(&r, GD_ADAM) != 0) {
            grade_expect(g, 0, "5.3: cannot set up the check (%s)", gd_error());
            return;
        }
        for (long i = 0; i < 40; i++) {
            long t = (i * 7) % 40 * (long)(taus[a] / 5 + 1);
            for (int twice = 0; twice < 2; twice++) ex_warmup_exp_apply(r.opt, t, taus[a]);
            for (int k = 0; k < NG52; k++) {
                double lr0 = gd_optim_initial_lr(r.opt, k);
                double want = lr0 - gd_sched_lr(s, t, lr0);
                char what[320];
                snprintf(what, sizeof what, "group %d's lr after ex_warmup_exp_apply(t=%ld, tau=%g), initial lr %g "
                         "(lr0 - lib's \"%s\")", k, t, taus[a], lr0, spec);
                if (!grade_close(g, what, gd_optim_lr(r.opt, k), want, 1e-9, 1e-15)) {
                    rig52_free(&r);
                    gd_sched_free(s);
                    return;
                }
            }
        }
        rig52_free(&r);
        gd_sched_free(s);
    }
    /* training: SGD with momentum and Adam, 60 updates, warmup over 20 from 0.1 */
    gd_optim_kind kinds[2] = {GD_SGD, GD_ADAM};
    for (int kk = 0; kk < 2; kk++) {
        gd_sched *s = gd_sched_parse("warmup:T=20:start=0.1");
        rig52 mine, lib;
        if (!s || rig52_new(&mine, kinds[kk]) != 0 || rig52_new(&lib, kinds[kk]) != 0) {
            grade_expect(g, 0, "5.3: cannot set up the check (%s)", gd_error());
            return;
        }
        for (long t = 0; t < 60; t++) {
            rig52_grad(&mine);
            rig52_grad(&lib);
            ex_warmup_apply(mine.opt, t, 20, 0.1);
            gd_sched_apply(s, t, lib.opt);
            gd_optim_step(mine.opt);
            gd_optim_step(lib.opt);
        }
        double worst = 0, at = 0;
        for (int k = 0; k < NG52; k++)
            for (int i = 0; i < N52; i++) {
                double d = fabs((double)mine.p[k].value->data[i] - lib.p[k].value->data[i]);
                if (!(d <= worst)) { worst = d; at = lib.p[k].value->data[i]; }
            }
        grade_expect(g, worst <= 1e-6 * (1 + fabs(at)),
                     "5.3: %s, 3 groups, 60 updates with ex_warmup_apply(t, T=20, start=0.1): the weights differ from the "
                     "run under lib's \"warmup:T=20:start=0.1\" by %.3g (expected at most 1e-6)",
                     gd_optim_name(kinds[kk]), worst);
        rig52_free(&mine);
        rig52_free(&lib);
        gd_sched_free(s);
    }
}

/* ---- 5.4 ---------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

EXERCISE("5.4", check_short_warmup)
{
    double a_w0 = grade_answer(g, "5.4.spike_step_w0"), a_w1 = grade_answer(g, "5.4.spike_step_w1");
    double a_long = grade_answer(g, "5.4.longest_spiking");
    if (!isfinite(a_w0) || !isfinite(a_w1) || !isfinite(a_long)) return;   /* unanswered: said; no need to train */
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, NULL) != 0) {
        grade_expect(g, 0, "5.4: cannot load Fashion-MNIST: %s", gd_error());
        return;
    }
    gd_blas_threads(1);
    /* ch05-warmup's runs (chapters/05-warmup/warmup.c): 784-256-256-10, Adam lr 0.05,
     * batch 128, every step's loss against 10 x the first's; 16 steps (the spikes come
     * within the first few), 3 seeds of this grading run */
    enum { NSEED = 3, STEPS = 16 };
    const long warmups[4] = {0, 1, 3, 10};
    double spike[4][NSEED];
    int spiking[4] = {0};
    for (int w = 0; w < 4; w++)
        for (int s = 0; s < NSEED; s++) {
            gd_train_cfg cfg = gd_train_defaults();
            cfg.nlayers = 3;
            int dims[4] = {784, 256, 256, 10};
            memcpy(cfg.dims, dims, sizeof dims);
            cfg.optim = "adam:lr=0.05";
            char sched[64];
            snprintf(sched, sizeof sched, "warmup:T=%ld", warmups[w]);
            cfg.sched = warmups[w] > 0 ? sched : NULL;
            cfg.batch_size = 128;
            cfg.epochs = 1;
            cfg.seed = grade_seed(s);
            cfg.train = &train;
            cfg.log_every = 1;
            cfg.diverge_factor = INFINITY;
            gd_trainer *tr = gd_trainer_new(&cfg);
            if (!tr) {
                grade_expect(g, 0, "5.4: cannot set up the run: %s", gd_error());
                return;
            }
            double first = NAN;
            spike[w][s] = INFINITY;   /* never: sorts last */
            for (int k = 1; k <= STEPS; k++) {
                double loss = gd_trainer_step(tr);
                if (k == 1) first = loss;
                if (!isfinite(spike[w][s])) {
                    if (!(loss <= 10 * first)) spike[w][s] = k;
                }
            }
            spiking[w] += isfinite(spike[w][s]);
            gd_trainer_free(tr);
        }
    gd_images_free(&train);
    gd_images_free(&test);
    double med[2];
    for (int w = 0; w < 2; w++) {
        qsort(spike[w], NSEED, sizeof spike[w][0], cmp_double);
        med[w] = spike[w][NSEED / 2];
    }
    long longest = -1;
    for (int w = 0; w < 4; w++)
        if (2 * spiking[w] >= NSEED) longest = warmups[w];
    grade_close(g, "5.4.spike_step_w0 (median step of the spike without warmup; 3 fresh runs)", a_w0, med[0], 0, 0.5);
    grade_close(g, "5.4.spike_step_w1 (median step of the spike with warmup:T=1; 3 fresh runs)", a_w1, med[1], 0, 0.5);
    grade_expect(g, longest >= 0 && a_long == (double)longest,
                 "5.4.longest_spiking: expected the longest of 0, 1, 3, 10 at which at least half of 3 fresh runs "
                 "break the rule, got %g", a_long);
}

/* test_ch05.c -- the claims Chapter 5 (warmup) makes.
 *
 * Theory checks use the library directly (Adam's first step, the effective number of
 * samples in v_hat, the linear warmup). The experiments' claims are read from the data
 * that `make` wrote under GD_BUILD_DIR/ch05 (make test depends on the runs) and checked
 * with margins, never against numbers copied from an earlier run. Every claim about
 * training is checked over the seeds of the build (5, from GD_SEED_BASE): medians,
 * counts, orderings of medians, never one run; the margins leave room for other seeds
 * and other arithmetics (BLAS kernels).
 */
#include "../common.h"
#include "gd.h"

#include <math.h>

#define WARMUP GD_BIN "ch05-warmup"
#define ADAMSTEPS GD_BIN "ch05-adamsteps"
#define VNOISE GD_BIN "ch05-vnoise"
#define SCALING GD_BIN "ch05-scaling"
#define SPARSE GD_BIN "ch05-sparse"
#define D05 GD_BUILD_DIR "/ch05/"

/* ---------------------------------------------------------------------------------
 * §5.2 Theory: Adam's first update is lr * g / (|g| + eps), i.e. lr * sign(g), in every
 * coordinate, whatever the gradient's scale and whatever beta1 and beta2. */
Test(ch05_theory, adam_first_step_is_lr_times_sign_of_g) {
    int dims[] = {20, 16, 10};
    const int N = 32;
    double lrs[] = {1e-3, 0.05};
    double scales[] = {1e-3, 1.0, 1e3}; /* the loss multiplied by this: same first step */
    const char *specs[] = {"adam", "adam:betas=0.5/0.9", "adamw:weight_decay=0"};
    gd_rng r;
    gd_rng_seed(&r, 5);
    float X[32 * 20];
    int y[32];
    gd_rng_fill_normal(&r, X, 32 * 20, 0, 1);
    for (int i = 0; i < N; i++) y[i] = (int)gd_rng_below(&r, 10);
    for (int s = 0; s < 3; s++)
        for (int l = 0; l < 2; l++)
            for (int c = 0; c < 3; c++) {
                gd_mlp m;
                cr_assert_eq(gd_mlp_init(&m, 2, dims, GD_ACT_RELU, N, 1), 0);
                gd_optim_kind kind;
                gd_hparams hp;
                cr_assert_eq(gd_optim_parse(specs[s], &kind, &hp), 0, "%s", gd_error());
                hp.lr = lrs[l];
                gd_optim *o = gd_optim_new(kind, &hp);
                cr_assert_not_null(o);
                cr_assert(gd_optim_add_group(o, m.params, m.nparams, NULL) >= 0);
                gd_optim_zero_grad(o);
                gd_mlp_loss(&m, X, y, N);
                gd_mlp_backward(&m, y, N);
                size_t total = 0, at_lr = 0;
                float *before[8];
                for (int p = 0; p < m.nparams; p++) {
                    float *g = m.params[p].grad->data;
                    for (size_t j = 0; j < m.params[p].grad->size; j++) g[j] *= (float)scales[c];
                    before[p] = malloc(m.params[p].value->size * sizeof(float));
                    memcpy(before[p], m.params[p].value->data, m.params[p].value->size * sizeof(float));
                }
                gd_optim_step(o);
                for (int p = 0; p < m.nparams; p++) {
                    const float *w = m.params[p].value->data, *g = m.params[p].grad->data;
                    for (size_t j = 0; j < m.params[p].value->size; j++) {
                        double d = (double)w[j] - before[p][j], ag = fabs((double)g[j]);
                        double expect = g[j] == 0 ? 0 : -hp.lr * g[j] / (ag + hp.eps);
                        /* float rounding of w (|w| < 1) is far below 1e-5 lr */
                        cr_assert(fabs(d - expect) <= 1e-5 * hp.lr + 1e-7 * fabs(before[p][j]),
                                  "%s lr %g scale %g: %s[%zu]: update %g, expected %g", specs[s], hp.lr, scales[c],
                                  m.params[p].name, j, d, expect);
                        total++;
                        at_lr += fabs(fabs(d) / hp.lr - 1) < 1e-3;
                    }
                    free(before[p]);
                }
                /* with these gradients (none below 1e-3 eps... at scale 1e-3 some are tiny) */
                if (scales[c] >= 1.0) cr_expect_geq(at_lr, total * 9 / 10, "%zu of %zu at lr", at_lr, total);
                gd_optim_free(o);
                gd_mlp_free(&m);
            }
}

/* §5.3 Theory: v_hat_t's weights w_k = (1-b) b^(t-k) / (1 - b^t) sum to 1, and
 * 1 / sum w_k^2 is the closed form n_eff(t) that vnoise.tsv tabulates; its limit is
 * (1+b)/(1-b), within 0.1% of the rule of thumb 2/(1-b) for b = 0.999. */
Test(ch05_theory, effective_samples_of_v_hat) {
    t_tsv *t = t_tsv_read(D05 "vnoise.tsv");
    double betas[] = {0.9, 0.99, 0.999};
    cr_assert_eq(t->ncols, 10);   /* step, then (rms pred neff) per beta2 */
    for (int i = 0; i < t->nrows; i += 37) {
        long step = (long)t_tsv_num(t, i, 0);
        for (int k = 0; k < 3; k++) {
            double b = betas[k], sum = 0, sum2 = 0;
            for (long j = 1; j <= step; j++) {
                double w = (1 - b) * pow(b, (double)(step - j)) / (1 - pow(b, (double)step));
                sum += w, sum2 += w * w;
            }
            cr_expect(fabs(sum - 1) < 1e-9);
            double neff = t_tsv_num(t, i, 3 + 3 * k);
            cr_expect(fabs(neff - 1 / sum2) < 1e-3 * neff, "beta2 %g step %ld: table %g, direct %g", b, step, neff, 1 / sum2);
        }
    }
    cr_expect(fabs((1 + 0.999) / (1 - 0.999) / (2 / (1 - 0.999)) - 1) < 1e-3);
    t_tsv_free(t);
}

/* The linear warmup the runs used: lr(t) = lr * t / T for the update t = 0, 1, ...,
 * then lr. curves-w100.tsv's lr column is the lr of update step - 1. */
Test(ch05_theory, linear_warmup_is_the_schedule_used) {
    t_tsv *t = t_tsv_read(D05 "curves-w100.tsv");
    int cw = t_tsv_col(t, "warmup"), cs = t_tsv_col(t, "step"), cl = t_tsv_col(t, "lr");
    double peak = 0;
    for (int i = 0; i < t->nrows; i++) peak = fmax(peak, t_tsv_num(t, i, cl));
    int checked = 0;
    for (int i = 0; i < t->nrows; i++) {
        double T = t_tsv_num(t, i, cw), step = t_tsv_num(t, i, cs), lr = t_tsv_num(t, i, cl);
        double expect = step - 1 < T ? peak * (step - 1) / T : peak;
        cr_expect(fabs(lr - expect) <= 1e-5 * peak, "step %g: lr %g, expected %g", step, lr, expect);
        checked++;
    }
    cr_expect_gt(checked, 1000);
    /* and sched.h's spec says the same */
    gd_sched *s = gd_sched_parse("warmup:T=100");
    cr_assert_not_null(s);
    cr_expect(fabs(gd_sched_lr(s, 0, 0.05)) < 1e-15);
    cr_expect(fabs(gd_sched_lr(s, 50, 0.05) - 0.025) < 1e-12);
    cr_expect(fabs(gd_sched_lr(s, 100, 0.05) - 0.05) < 1e-12);
    cr_expect(fabs(gd_sched_lr(s, 5000, 0.05) - 0.05) < 1e-12);
    gd_sched_free(s);
    t_tsv_free(t);
}

/* §5.1: kind=exp is a geometric ramp S^(1 - t/T): the same ratio from step to step, from
 * S lr at t = 0 to lr at T; not Ma & Yarats' 1 - exp(-t/tau), whose ratio falls. */
Test(ch05_theory, exp_warmup_is_geometric) {
    gd_sched *s = gd_sched_parse("warmup:T=10:kind=exp");
    cr_assert_not_null(s);
    cr_expect(fabs(gd_sched_lr(s, 0, 1.0) - 0.01) < 1e-12);
    cr_expect(fabs(gd_sched_lr(s, 10, 1.0) - 1.0) < 1e-12);
    double q = gd_sched_lr(s, 1, 1.0) / gd_sched_lr(s, 0, 1.0);
    cr_expect(fabs(q - pow(100, 0.1)) < 1e-9, "ratio %g", q);
    for (int t = 1; t < 10; t++)
        cr_expect(fabs(gd_sched_lr(s, t + 1, 1.0) / gd_sched_lr(s, t, 1.0) - q) < 1e-9);
    /* 1 - exp(-t/tau) is not geometric: its step ratio falls toward 1 */
    double tau = 10, r1 = (1 - exp(-2 / tau)) / (1 - exp(-1 / tau)), r5 = (1 - exp(-6 / tau)) / (1 - exp(-5 / tau));
    cr_expect_gt(r1, r5 + 0.1);
    gd_sched_free(s);
}

/* ---------------------------------------------------------------------------------
 * §5.2: the first step is not Adam's largest. After Z zero gradients a gradient moves
 * its coordinate by lr (1-b1)/sqrt(1-b2) sqrt(1-b2^t)/(1-b1^t), t = Z+1 (computed here,
 * not read from the program), up to Kingma & Ba's bound (1-b1)/sqrt(1-b2) = 3.16; and
 * gradients growing by b2/b1 per step reach the Cauchy-Schwarz bound of Exercise 2. */
static double sparse_closed_form(double b1, double b2, double t) {
    return (1 - b1) / sqrt(1 - b2) * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
}

Test(ch05_sparse, update_after_zeros_exceeds_the_first_step) {
    t_tsv *t = t_tsv_read(D05 "sparse.tsv");
    int cp = t_tsv_col(t, "pattern"), cz = t_tsv_col(t, "zeros"), cs = t_tsv_col(t, "step"),
        cu = t_tsv_col(t, "update_over_lr");
    double b1 = 0.9, b2 = 0.999, kb = (1 - b1) / sqrt(1 - b2), largest = 0, first = NAN;
    int grow = 0;
    for (int i = 0; i < t->nrows; i++) {
        double z = t_tsv_num(t, i, cz), step = t_tsv_num(t, i, cs), u = t_tsv_num(t, i, cu);
        if (strcmp(t_tsv_cell(t, i, cp), "sparse") == 0) {
            cr_expect_eq(step, z + 1);
            double expect = sparse_closed_form(b1, b2, step);
            cr_expect(fabs(u - expect) < 1e-4 * expect, "zeros %g: %g lr, closed form %g", z, u, expect);
            cr_expect_leq(u, kb * (1 + 1e-5), "above Kingma & Ba's bound: %g", u);
            largest = fmax(largest, u);
            if (z == 0) first = u;
        } else {
            /* gradients r^j, r = b2/b1, for n = step - z steps after z zeros */
            long n = (long)(step - z);
            double sum = 0;
            for (long j = 0; j < n; j++) sum += pow(b1 * b1 / b2, (double)j);
            double expect = kb * sqrt(sum) * sqrt(1 - pow(b2, step)) / (1 - pow(b1, step));
            cr_expect(fabs(u - expect) < 1e-4 * expect, "growing gradients: %g lr, bound %g", u, expect);
            double cs_limit = (1 - b1) / sqrt((1 - b2) * (1 - b1 * b1 / b2));
            cr_expect(fabs(u / cs_limit - 1) < 0.01, "%g lr, large-t bound %g", u, cs_limit);
            grow++;
        }
    }
    cr_expect(fabs(first - 1) < 1e-4, "first step %g lr", first);
    cr_expect_gt(largest, 3.1, "the largest update after zeros: %g lr", largest);
    cr_expect_gt(largest, 3 * first);
    cr_expect_eq(grow, 1);
    t_tsv_free(t);
}

/* With (1 - b1) = sqrt(1 - b2) (betas 0.9/0.99) the bound is 1: no update exceeds lr. */
Test(ch05_sparse, bound_is_one_when_betas_balance) {
    char *text = t_run_file(SPARSE " --optim adam:betas=0.9/0.99 --zeros 0,10,100,1000 --grow 0 --out %s");
    cr_assert_not_null(strstr(text, "update_over_lr"));
    int n = 0;
    for (char *p = strstr(text, "\nsparse\t"); p; p = strstr(p + 1, "\nsparse\t")) {
        double z, step, u;
        cr_assert_eq(sscanf(p, "\nsparse\t%lf\t%lf\t%lf", &z, &step, &u), 3);
        cr_expect_leq(u, 1 + 1e-5, "zeros %g: %g lr", z, u);
        cr_expect(fabs(u - sparse_closed_form(0.9, 0.99, step)) < 1e-4, "zeros %g: %g", z, u);
        n++;
    }
    cr_expect_eq(n, 4);
    free(text);
}

/* ---------------------------------------------------------------------------------
 * §5.2 measured: in the real run, step 1 moves (nearly) every coordinate by lr; later
 * the typical update is a fraction of lr; the first layer changes by about lr sqrt(3 D). */
Test(ch05_adamsteps, step_one_is_lr_then_updates_shrink) {
    t_tsv *t = t_tsv_read(D05 "steps.tsv");
    cr_assert_geq(t->nrows, 100);
    int cst = t_tsv_col(t, "step"), clr = t_tsv_col(t, "lr"), c10 = t_tsv_col(t, "p10"), cmed = t_tsv_col(t, "median"),
        cfr = t_tsv_col(t, "frac_at_lr"), crel = t_tsv_col(t, "rel_W1");
    double lr = t_tsv_num(t, 0, clr);
    cr_expect_eq(t_tsv_num(t, 0, cst), 1);
    cr_expect(fabs(t_tsv_num(t, 0, cmed) - 1) < 0.01, "median at step 1: %g", t_tsv_num(t, 0, cmed));
    cr_expect(fabs(t_tsv_num(t, 0, c10) - 1) < 0.01, "10%% quantile at step 1: %g", t_tsv_num(t, 0, c10));
    cr_expect_gt(t_tsv_num(t, 0, cfr), 0.9, "fraction within 1%% of lr at step 1: %g", t_tsv_num(t, 0, cfr));
    double rel_theory = lr * sqrt(3.0 * 784), rel = t_tsv_num(t, 0, crel);
    cr_expect(fabs(rel / rel_theory - 1) < 0.15, "first layer moved %g of its norm, theory %g", rel, rel_theory);
    /* after 100 steps the median update is below a fifth of lr (the text), and few are near lr */
    cr_expect_lt(t_tsv_num(t, 99, cmed), 0.2, "median at step 100: %g", t_tsv_num(t, 99, cmed));
    cr_expect_lt(t_tsv_num(t, 99, cfr), 0.05);
    cr_expect_lt(t_tsv_num(t, t->nrows - 1, cmed), t_tsv_num(t, 9, cmed));
    t_tsv_free(t);
}

/* The numbers the text quotes agree with the formula to float precision. */
Test(ch05_adamsteps, step_one_matches_the_formula) {
    double dev = t_num(D05 "numbers-adamsteps.tsv", "as_s1_max_dev");
    cr_expect_lt(dev, 1e-4, "largest |update/lr - |g|/(|g|+eps)| at step 1: %g", dev);
}

/* A small run of the program, as a reader would: the first step is lr sign(g). */
Test(ch05_adamsteps, small_run_first_step) {
    char *text = t_run_file(ADAMSTEPS " --dims 784-16-10 --optim adam:lr=0.01 --steps 3 --numbers %s");
    char *p = strstr(text, "as_s1_frac\t");
    cr_assert_not_null(p, "%s", text);
    double frac = atof(p + strlen("as_s1_frac\t"));
    cr_expect_gt(frac, 90, "%g%% of coordinates at lr", frac);
    free(text);
}

/* ---------------------------------------------------------------------------------
 * §5.3 measured: v_hat's relative error is large at first, falls like 1/sqrt(n_eff(t)),
 * and stops falling at n_eff's limit: early for beta2 = 0.9, not within 500 steps for
 * 0.999. The prediction from CV and n_eff holds within 20% from step 10 on. */
Test(ch05_vnoise, noisy_at_first_and_as_predicted) {
    t_tsv *t = t_tsv_read(D05 "vnoise.tsv");
    cr_assert_geq(t->nrows, 500);
#define V(i, c) t_tsv_num(t, (i), (c))
    /* averaged over windows of steps (one step's RMS shares its few recent batches
     * across all coordinates, so it fluctuates, most for beta2 = 0.9) */
    int lo[] = {10, 30, 100, 300}, hi[] = {30, 100, 300, t->nrows};
    for (int w = 0; w < 4; w++)
        for (int k = 0; k < 3; k++) {
            double rms = 0, pred = 0;
            for (int i = lo[w] - 1; i < hi[w]; i++) rms += V(i, 1 + 3 * k), pred += V(i, 2 + 3 * k);
            cr_expect(fabs(rms / pred - 1) < 0.2, "steps %d-%d beta %d: measured %g, predicted %g", lo[w], hi[w], k,
                      rms / (hi[w] - lo[w] + 1), pred / (hi[w] - lo[w] + 1));
        }
    double first = V(0, 7), at100 = V(99, 7), last = V(t->nrows - 1, 7);
    cr_expect_gt(first, 3 * at100, "beta2 0.999: %g at step 1, %g at step 100", first, at100);
    cr_expect_lt(last, 0.85 * at100, "beta2 0.999 still improving: %g -> %g", at100, last);
    cr_expect_gt(V(t->nrows - 1, 1), 0.8 * V(99, 1), "beta2 0.9 has plateaued: %g -> %g", V(99, 1), V(t->nrows - 1, 1));
#undef V
    t_tsv_free(t);
}

/* ---------------------------------------------------------------------------------
 * §5.4-5.5: Adam at a high lr over seeds. One warmup length's runs, from a summary. */
typedef struct {
    long T;
    int n, spiked, late_spike;
    double acc, dead, peak, first;   /* medians over seeds */
    double seed_min;
} group;

static group summarize(const char *path, long T) {
    t_tsv *t = t_tsv_read(path);
    int cw = t_tsv_col(t, "warmup"), cs = t_tsv_col(t, "seed"), csp = t_tsv_col(t, "spiked_at"),
        cst = t_tsv_col(t, "stopped_at"), cf = t_tsv_col(t, "first_loss"), cp = t_tsv_col(t, "peak_loss"),
        ca = t_tsv_col(t, "test_acc"), cd = t_tsv_col(t, "dead_frac");
    group g = {T, 0, 0, 0, 0, 0, 0, 0, INFINITY};
    double acc[64], dead[64], peak[64], first[64];
    for (int i = 0; i < t->nrows; i++) {
        if (t_tsv_num(t, i, cw) != T) continue;
        cr_assert_lt(g.n, 64);
        cr_expect_eq(t_tsv_num(t, i, cst), -1, "%s: a run was stopped by a non-finite loss", path);
        double sp = t_tsv_num(t, i, csp);
        g.spiked += sp >= 0;
        g.late_spike += sp > 3;
        acc[g.n] = t_tsv_num(t, i, ca), dead[g.n] = t_tsv_num(t, i, cd);
        peak[g.n] = t_tsv_num(t, i, cp), first[g.n] = t_tsv_num(t, i, cf);
        g.seed_min = fmin(g.seed_min, t_tsv_num(t, i, cs));
        g.n++;
    }
    cr_assert_geq(g.n, 5, "%s: warmup %ld: %d seeds, the text needs at least 5", path, T, g.n);
    g.acc = t_median(acc, g.n), g.dead = t_median(dead, g.n), g.peak = t_median(peak, g.n), g.first = t_median(first, g.n);
    t_tsv_free(t);
    return g;
}

/* §5.4: without warmup (nearly) every run breaks the trainer's rule, right after the
 * first update; with 100 steps of warmup none does, and its peak is the starting loss.
 * The medians of the test accuracy are far apart, and the runs without warmup have more
 * dead units. The seeds are the build's (make SEED=n). */
Test(ch05_warmup, warmup_prevents_the_early_divergence) {
    group no = summarize(D05 "seeds-w0.tsv", 0), yes = summarize(D05 "seeds-w100.tsv", 100);
    cr_expect_eq(no.seed_min, GD_SEED_BASE, "the first seed is the build's seed base");
    cr_expect_eq(yes.seed_min, GD_SEED_BASE);
    cr_assert_eq(no.n, yes.n);
    cr_expect_geq(no.spiked, no.n - 1, "%d of %d without warmup", no.spiked, no.n);
    cr_expect_eq(no.late_spike, 0, "the rule fires right after the first update (step <= 3)");
    cr_expect_eq(yes.spiked, 0, "%d of %d with warmup", yes.spiked, yes.n);
    cr_expect_gt(no.peak, 10 * no.first, "median peak %g without warmup", no.peak);
    cr_expect_lt(yes.peak, 1.1 * yes.first, "median peak %g with warmup, first loss %g", yes.peak, yes.first);
    cr_expect_gt(yes.acc, no.acc + 0.10, "median test accuracy %g with warmup, %g without", yes.acc, no.acc);
    cr_expect_gt(no.dead, yes.dead, "median dead fraction %g without, %g with", no.dead, yes.dead);
    /* Adam's default lr without warmup: no divergence, and a better median than lr 0.05 with warmup */
    group ref = summarize(D05 "ref.tsv", 0);
    cr_expect_eq(ref.spiked, 0);
    cr_expect_gt(ref.acc, yes.acc, "median %g at lr 0.001, %g at 0.05 with warmup", ref.acc, yes.acc);
    cr_expect_lt(ref.dead, yes.dead);
}

/* §5.5: the sweep. One step of warmup is not enough (at least half break the rule); from
 * one step on the median peak does not rise with the length (by more than 10%); from some length of at most 30 steps on no
 * seed breaks the rule (and the text's number says which); a 300-step warmup leaves fewer
 * dead units than a 10-step one. */
Test(ch05_warmup, sweep_peak_falls_and_few_steps_suffice) {
    const char *files[] = {D05 "seeds-w0.tsv", D05 "sweep-a.tsv", D05 "sweep-a.tsv", D05 "sweep-a.tsv",
                           D05 "sweep-b.tsv",  D05 "seeds-w100.tsv", D05 "sweep-b.tsv"};
    long Ts[] = {0, 1, 3, 10, 30, 100, 300};
    group g[7];
    for (int i = 0; i < 7; i++) g[i] = summarize(files[i], Ts[i]);
    cr_expect_geq(2 * g[1].spiked, g[1].n, "warmup 1: %d of %d", g[1].spiked, g[1].n);
    for (int i = 2; i < 7; i++)   /* from 1 step on (0 and 1 both spike: either order) */
        cr_expect_leq(g[i].peak, 1.1 * g[i - 1].peak, "median peak %g at %ld steps, %g at %ld", g[i].peak, Ts[i],
                      g[i - 1].peak, Ts[i - 1]);
    long first_safe = -1;
    for (int i = 6; i >= 0 && g[i].spiked == 0; i--) first_safe = Ts[i];
    cr_expect(first_safe >= 0 && first_safe <= 30, "no seed breaks the rule from %ld steps on", first_safe);
    cr_expect_eq(t_num(D05 "numbers-sweep.tsv", "sweep_first_safe"), first_safe);
    cr_expect_lt(g[6].dead, g[3].dead, "median dead %g at 300 steps, %g at 10", g[6].dead, g[3].dead);
}

/* The program's divergence rule is the trainer's: with --stop the trainer applies its own
 * rule (train.c) and stops each run at the step the program reports without --stop. */
Test(ch05_warmup, rule_is_the_trainers) {
    const char *base = WARMUP " --steps 8 --seeds 3 --seed 11 --warmup 0,100";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --summary %%s", base);
    char *free_run = t_run_file(cmd);
    snprintf(cmd, sizeof cmd, "%s --stop --summary %%s", base);
    char *stopped = t_run_file(cmd);
    long spiked[8], stop[8], w[8];
    int n = 0, m = 0, fired = 0;
    for (char *p = strstr(free_run, "\nwarmup\t"); (p = strchr(p + 1, '\n')) && p[1];) {
        cr_assert_lt(n, 8);
        cr_assert_eq(sscanf(p + 1, "%ld\t%*s\t%ld", &w[n], &spiked[n]), 2);
        n++;
    }
    for (char *p = strstr(stopped, "\nwarmup\t"); (p = strchr(p + 1, '\n')) && p[1];) {
        long ww, sp;
        cr_assert_lt(m, 8);
        cr_assert_eq(sscanf(p + 1, "%ld\t%*s\t%ld\t%ld", &ww, &sp, &stop[m]), 3);
        cr_expect_eq(ww, w[m]);
        cr_expect_eq(stop[m], spiked[m], "run %d: the trainer stopped at %ld, the program says %ld", m, stop[m],
                     spiked[m]);
        fired += stop[m] >= 0;
        m++;
    }
    cr_expect_eq(n, 6);
    cr_expect_eq(m, n);
    cr_expect_geq(fired, 1, "no run broke the rule: the comparison tested nothing");
    cr_expect_lt(fired, n, "every run broke the rule");
    free(free_run);
    free(stopped);
}

/* ---------------------------------------------------------------------------------
 * §5.6: the linear scaling rule over seeds. At k = 4 the median final accuracy is within
 * 5 points of batch 128's, with and without warmup, and the two within 4 points of each
 * other; at k = 16 it is more than 15 points below, with and without warmup, and the
 * divergence rule stops none of the runs without warmup. */
Test(ch05_scaling, rule_holds_at_4_and_breaks_at_16) {
    t_tsv *t = t_tsv_read(D05 "scaling.tsv");
    int cs = t_tsv_col(t, "seed"), ck = t_tsv_col(t, "k"), cw = t_tsv_col(t, "warmup_epochs"),
        ce = t_tsv_col(t, "epoch"), ca = t_tsv_col(t, "test_acc"), cst = t_tsv_col(t, "status");
    double last_epoch = 0, seed_min = INFINITY;
    int stopped16 = 0;
    for (int i = 0; i < t->nrows; i++) last_epoch = fmax(last_epoch, round(t_tsv_num(t, i, ce)));
    cr_assert_geq(last_epoch, 3);
    /* final accuracy per (k, warmup) over seeds; a run stopped early counts as 0 */
    double acc[2][17][64];
    int n[2][17] = {{0}};
    for (int i = 0; i < t->nrows; i++) {
        int k = (int)t_tsv_num(t, i, ck), w = t_tsv_num(t, i, cw) > 0;
        cr_assert(k >= 1 && k <= 16);
        seed_min = fmin(seed_min, t_tsv_num(t, i, cs));
        int stopped = strcmp(t_tsv_cell(t, i, cst), "ok") != 0;
        if (k == 16 && !w) stopped16 += stopped;
        if (!stopped && round(t_tsv_num(t, i, ce)) != last_epoch) continue;
        cr_assert_lt(n[w][k], 64);
        acc[w][k][n[w][k]++] = stopped ? 0 : t_tsv_num(t, i, ca);
    }
    cr_expect_eq(seed_min, GD_SEED_BASE);
    cr_expect_eq(stopped16, 0, "the text says the divergence rule stops no run at k = 16 without warmup");
    cr_assert_geq(n[0][1], 5, "%d seeds at batch 128", n[0][1]);
    double base = t_median(acc[0][1], n[0][1]);
    for (int w = 0; w < 2; w++) {
        cr_assert_eq(n[w][4], n[0][1]);
        cr_assert_eq(n[w][16], n[0][1]);
        double m4 = t_median(acc[w][4], n[w][4]), m16 = t_median(acc[w][16], n[w][16]);
        cr_expect_gt(m4, base - 0.05, "k 4 warmup %d: median %g vs %g at batch 128", w, m4, base);
        cr_expect_lt(m16, base - 0.15, "k 16 warmup %d: median %g vs %g at batch 128", w, m16, base);
    }
    /* at k = 4 the warmup changes little: the two medians within 4 points */
    double w4 = t_median(acc[1][4], n[1][4]), n4 = t_median(acc[0][4], n[0][4]);
    cr_expect(fabs(w4 - n4) < 0.04, "k 4: median %g with warmup, %g without", w4, n4);
    t_tsv_free(t);
}

/* ---------------------------------------------------------------------------------
 * The programs: options, help, determinism. */
Test(ch05_programs, bad_options_are_rejected) {
    t_assert_rejects(WARMUP " --optim adam:lr=0", 2, "--optim");
    t_assert_rejects(WARMUP " --optim lamb", 2, "--optim");
    t_assert_rejects(WARMUP " --sched cosine:T=0", 2, "--sched");
    t_assert_rejects(WARMUP " --warmup -1", 2, "--warmup");
    t_assert_rejects(WARMUP " --warmup 2.5", 2, "--warmup");
    t_assert_rejects(WARMUP " --steps 0", 2, "--steps");
    t_assert_rejects(WARMUP " --seeds 0", 2, "--seeds");
    t_assert_rejects(WARMUP " --seed -1", 2, "--seed");
    t_assert_rejects(WARMUP " --dims 784-10", 2, "--dims");
    t_assert_rejects(WARMUP " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(WARMUP " --diverge 1", 2, "--diverge");
    t_assert_rejects(WARMUP " --from /nonexistent/s.tsv", 2, "/nonexistent/s.tsv");
    t_assert_rejects(ADAMSTEPS " --steps -3", 2, "--steps");
    t_assert_rejects(ADAMSTEPS " --hist-steps 1.5", 2, "--hist-steps");
    t_assert_rejects(ADAMSTEPS " --sched cosine:T=3", 2, "--sched");
    t_assert_rejects(ADAMSTEPS " --optim sgd:lr=0.1:betas=0.9/0.99", 2, "--optim");
    t_assert_rejects(SPARSE " --optim sgd", 2, "--optim");
    t_assert_rejects(SPARSE " --optim adam:amsgrad=1", 2, "--optim");
    t_assert_rejects(SPARSE " --zeros 1.5", 2, "--zeros");
    t_assert_rejects(SPARSE " --zeros -1", 2, "--zeros");
    t_assert_rejects(SPARSE " --grow 201", 2, "--grow");
    t_assert_rejects(SPARSE " --optim adam:betas=0.5/0.999 --grow 200", 2, "--grow");
    t_assert_rejects(VNOISE " --beta2 1", 2, "--beta2");
    t_assert_rejects(VNOISE " --beta2 0", 2, "--beta2");
    t_assert_rejects(VNOISE " --ref 1", 2, "--ref");
    t_assert_rejects(VNOISE " --dims 100-10", 2, "--dims");
    t_assert_rejects(SCALING " --k 0", 2, "--k");
    t_assert_rejects(SCALING " --k 1.5", 2, "--k");
    t_assert_rejects(SCALING " --k 1000", 2, "--k");
    t_assert_rejects(SCALING " --seeds 0", 2, "--seeds");
    t_assert_rejects(SCALING " --sched cosine:T=10", 2, "--sched");
    t_assert_rejects(SCALING " --warmup-epochs 4 --epochs 4", 2, "--warmup-epochs");
    t_assert_rejects(SCALING " --data /nonexistent", 2, "/nonexistent");
    t_assert_rejects(SCALING " --bogus", 2, "--bogus");
}

/* A rejected run leaves an earlier table alone (tables go through a temporary file). */
Test(ch05_programs, bad_input_keeps_earlier_results) {
    char path[] = "/tmp/gdtest-ch05-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "earlier\n", 8), 8);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, SPARSE " --zeros 1.5 --out %s", path);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2);
    t_free(&r);
    snprintf(cmd, sizeof cmd, WARMUP " --data /nonexistent --summary %s", path);
    r = t_run(cmd);
    cr_expect_eq(r.status, 2); /* a missing data directory: the user's input */
    t_free(&r);
    char *text = t_slurp(path);
    cr_expect_str_eq(text, "earlier\n");
    free(text);
    unlink(path);
}

Test(ch05_programs, help_exits_zero) {
    const char *progs[] = {WARMUP, ADAMSTEPS, VNOISE, SCALING, SPARSE};
    for (int i = 0; i < 5; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") != NULL, "%s", r.out);
        if (i != 4) cr_expect(strstr(r.out, "--data") != NULL, "%s", r.out);
        t_free(&r);
    }
}

/* Same arguments, same bytes; the table says how it was made. */
Test(ch05_programs, deterministic) {
    const char *cmd = WARMUP " --dims 784-16-10 --steps 30 --seeds 2 --seed 3 --warmup 0,5 --summary %s";
    char *a = t_run_file(cmd), *b = t_run_file(cmd);
    cr_expect_str_eq(a, b);
    cr_expect(strstr(a, "# program: ch05-warmup") && strstr(a, "# seeds: 3 to 4"), "%s", a);
    free(a);
    free(b);
}

/* test_ch05.c -- the claims Chapter 5 (warmup) makes.
 *
 * Theory checks use the library directly (Adam's first step, the effective number of
 * samples in v_hat, the linear warmup). The experiments' claims are read from the data
 * that `make` wrote under GD_BUILD_DIR/ch05 (make test depends on the runs) and checked
 * with margins, never against numbers copied from an earlier run.
 */
#include "../common.h"
#include "gd.h"

#include <math.h>

#define WARMUP GD_BIN "ch05-warmup"
#define ADAMSTEPS GD_BIN "ch05-adamsteps"
#define VNOISE GD_BIN "ch05-vnoise"
#define SCALING GD_BIN "ch05-scaling"
#define D05 GD_BUILD_DIR "/ch05/"

/* ---------------------------------------------------------------------------------
 * Reading tables: rows of numbers (comments and the header skipped). */
#define MAXCOLS 16
typedef struct {
    int n, cols;
    double (*v)[MAXCOLS];
    char (*last)[16];   /* the last column as text (status words) */
} table;

static table read_table(const char *path) {
    char *text = t_slurp(path);
    cr_assert_not_null(text, "%s is missing: run make first", path);
    table t = {0, 0, calloc(100000, sizeof *t.v), calloc(100000, sizeof *t.last)};
    int header = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        if (!header) {
            header = 1;
            continue;
        }
        cr_assert(t.n < 100000);
        int c = 0;
        char *save, *tok;
        for (tok = strtok_r(line, "\t", &save); tok && c < MAXCOLS; tok = strtok_r(NULL, "\t", &save)) {
            t.v[t.n][c++] = strtod(tok, NULL);
            snprintf(t.last[t.n], sizeof t.last[t.n], "%s", tok);
        }
        t.cols = c;
        t.n++;
    }
    free(text);
    return t;
}

static void free_table(table *t) {
    free(t->v);
    free(t->last);
}

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
    table t = read_table(D05 "vnoise.tsv");
    double betas[] = {0.9, 0.99, 0.999};
    cr_assert_eq(t.cols, 10);
    for (int i = 0; i < t.n; i += 37) {
        long step = (long)t.v[i][0];
        for (int k = 0; k < 3; k++) {
            double b = betas[k], sum = 0, sum2 = 0;
            for (long j = 1; j <= step; j++) {
                double w = (1 - b) * pow(b, (double)(step - j)) / (1 - pow(b, (double)step));
                sum += w, sum2 += w * w;
            }
            cr_expect(fabs(sum - 1) < 1e-9);
            double neff = t.v[i][3 + 3 * k];
            cr_expect(fabs(neff - 1 / sum2) < 1e-3 * neff, "beta2 %g step %ld: table %g, direct %g", b, step, neff, 1 / sum2);
        }
    }
    cr_expect(fabs((1 + 0.999) / (1 - 0.999) / (2 / (1 - 0.999)) - 1) < 1e-3);
    free_table(&t);
}

/* The linear warmup the runs used: lr(t) = lr * t / T for the update t = 0, 1, ...,
 * then lr. curves-w100.tsv's lr column is the lr of update step - 1. */
Test(ch05_theory, linear_warmup_is_the_schedule_used) {
    table t = read_table(D05 "curves-w100.tsv");
    double peak = 0;
    for (int i = 0; i < t.n; i++) peak = fmax(peak, t.v[i][3]);
    int checked = 0;
    for (int i = 0; i < t.n; i++) {
        double T = t.v[i][0], step = t.v[i][2], lr = t.v[i][3];
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
}

/* ---------------------------------------------------------------------------------
 * §5.2 measured: in the real run, step 1 moves (nearly) every coordinate by lr; later
 * the typical update is a fraction of lr; the first layer changes by about lr sqrt(3 D). */
Test(ch05_adamsteps, step_one_is_lr_then_updates_shrink) {
    table t = read_table(D05 "steps.tsv");
    cr_assert_geq(t.n, 100);
    /* columns: step lr loss p10 median p90 frac_at_lr rel_W1 rel_W2 rel_W3 */
    double lr = t.v[0][1];
    cr_expect_eq(t.v[0][0], 1);
    cr_expect(fabs(t.v[0][4] - 1) < 0.01, "median at step 1: %g", t.v[0][4]);
    cr_expect(fabs(t.v[0][3] - 1) < 0.01, "10%% quantile at step 1: %g", t.v[0][3]);
    cr_expect_gt(t.v[0][6], 0.9, "fraction within 1%% of lr at step 1: %g", t.v[0][6]);
    double rel_theory = lr * sqrt(3.0 * 784);
    cr_expect(fabs(t.v[0][7] / rel_theory - 1) < 0.15, "first layer moved %g of its norm, theory %g", t.v[0][7], rel_theory);
    /* after 100 steps the median update is well below lr, and few are near lr */
    cr_expect_lt(t.v[99][4], 0.2, "median at step 100: %g", t.v[99][4]);
    cr_expect_lt(t.v[99][6], 0.05);
    cr_expect_lt(t.v[t.n - 1][4], t.v[9][4], "median at the end %g, at step 10 %g", t.v[t.n - 1][4], t.v[9][4]);
    free_table(&t);
}

/* The numbers the text quotes agree with the formula to float precision. */
Test(ch05_adamsteps, step_one_matches_the_formula) {
    char *text = t_slurp(D05 "numbers-adamsteps.tsv");
    cr_assert_not_null(text);
    char *p = strstr(text, "as_s1_max_dev\t");
    cr_assert_not_null(p);
    double dev = atof(p + strlen("as_s1_max_dev\t"));
    cr_expect_lt(dev, 1e-4, "largest |update/lr - |g|/(|g|+eps)| at step 1: %g", dev);
    free(text);
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
    table t = read_table(D05 "vnoise.tsv");
    cr_assert_geq(t.n, 500);
    /* columns: step, then (rms pred neff) for beta2 = 0.9, 0.99, 0.999 */
    /* averaged over windows of steps (one step's RMS shares its few recent batches
     * across all coordinates, so it fluctuates, most for beta2 = 0.9) */
    int lo[] = {10, 30, 100, 300}, hi[] = {30, 100, 300, t.n};
    for (int w = 0; w < 4; w++)
        for (int k = 0; k < 3; k++) {
            double rms = 0, pred = 0;
            for (int i = lo[w] - 1; i < hi[w]; i++) rms += t.v[i][1 + 3 * k], pred += t.v[i][2 + 3 * k];
            cr_expect(fabs(rms / pred - 1) < 0.2, "steps %d-%d beta %d: measured %g, predicted %g", lo[w], hi[w], k,
                      rms / (hi[w] - lo[w] + 1), pred / (hi[w] - lo[w] + 1));
        }
    double first = t.v[0][7], at100 = t.v[99][7], last = t.v[t.n - 1][7];
    cr_expect_gt(first, 3 * at100, "beta2 0.999: %g at step 1, %g at step 100", first, at100);
    cr_expect_lt(last, 0.85 * at100, "beta2 0.999 still improving: %g -> %g", at100, last);
    cr_expect_gt(t.v[t.n - 1][1], 0.8 * t.v[99][1], "beta2 0.9 has plateaued: %g -> %g", t.v[99][1], t.v[t.n - 1][1]);
    free_table(&t);
}

/* ---------------------------------------------------------------------------------
 * §5.1: Adam at a high lr, no warmup vs linear warmup, over seeds. */
typedef struct {
    int n, spiked;
    double acc, dead, peak_step_max;
} group;

static group summarize(const char *path) {
    table t = read_table(path);
    group g = {0};
    /* warmup seed spiked_at stopped_at first_loss peak_loss peak_step final_loss test_loss test_acc dead_frac */
    for (int i = 0; i < t.n; i++) {
        cr_expect_eq(t.v[i][3], -1, "%s: a run was stopped by a non-finite loss", path);
        g.n++;
        g.spiked += t.v[i][2] >= 0;
        g.acc += t.v[i][9];
        g.dead += t.v[i][10];
        if (t.v[i][2] >= 0) g.peak_step_max = fmax(g.peak_step_max, t.v[i][2]);
    }
    g.acc /= g.n, g.dead /= g.n;
    free_table(&t);
    return g;
}

Test(ch05_warmup, warmup_prevents_the_early_divergence) {
    group no = summarize(D05 "seeds-w0.tsv"), yes = summarize(D05 "seeds-w100.tsv");
    cr_assert_geq(no.n, 5, "at least 5 seeds");
    cr_assert_eq(no.n, yes.n);
    /* most runs without warmup break the trainer's rule, in the first few steps ... */
    cr_expect_geq(2 * no.spiked, no.n, "%d of %d without warmup", no.spiked, no.n);
    cr_expect_leq(no.peak_step_max, 3, "the spikes come right after the first update");
    /* ... (almost) none with warmup */
    cr_expect_leq(8 * yes.spiked, yes.n, "%d of %d with warmup", yes.spiked, yes.n);
    /* and without warmup they land clearly worse, with more dead units */
    cr_expect_gt(yes.acc, no.acc + 0.10, "test accuracy %g with warmup, %g without", yes.acc, no.acc);
    cr_expect_gt(no.dead, yes.dead);
}

/* §5.4: the sweep. Any warmup of 10 steps or more avoids the spikes and lands far
 * above no warmup; the runs at Adam's default lr never spike. */
Test(ch05_warmup, sweep_any_warmup_helps) {
    group none = summarize(D05 "seeds-w0.tsv");
    table t = read_table(D05 "sweep-b.tsv"); /* 30, 300, 1000 */
    table a = read_table(D05 "sweep-a.tsv"); /* 1, 3, 10 */
    int checked = 0;
    for (int i = 0; i < a.n; i++)
        if (a.v[i][0] >= 10) {
            cr_expect_eq(a.v[i][2], -1, "warmup %g seed %g spiked", a.v[i][0], a.v[i][1]);
            cr_expect_gt(a.v[i][9], none.acc + 0.10);
            checked++;
        }
    for (int i = 0; i < t.n; i++) {
        cr_expect_eq(t.v[i][2], -1, "warmup %g seed %g spiked", t.v[i][0], t.v[i][1]);
        cr_expect_gt(t.v[i][9], none.acc + 0.10);
        checked++;
    }
    cr_expect_geq(checked, 9);
    group ref = summarize(D05 "ref.tsv");
    cr_expect_eq(ref.spiked, 0);
    free_table(&t);
    free_table(&a);
}

/* ---------------------------------------------------------------------------------
 * §5.5: the linear scaling rule. Up to k = 8 the large batch ends its epochs within 3
 * points of batch 128; at k = 16 without warmup it does not (the rule breaks down), and
 * the gradual warmup recovers most of the gap. */
Test(ch05_scaling, rule_holds_then_breaks) {
    table t = read_table(D05 "scaling.tsv");
    /* k batch lr warmup_epochs epoch step train_loss test_loss test_acc status */
    double final[2][17] = {{0}}, base = -1;
    int epochs = 0, stopped16 = 0;
    for (int i = 0; i < t.n; i++) {
        int k = (int)t.v[i][0], w = t.v[i][3] > 0;
        cr_assert(k >= 1 && k <= 16);
        if (k == 16 && w == 0) stopped16 |= strcmp(t.last[i], "ok") != 0;
        if (strcmp(t.last[i], "ok") != 0) {
            final[w][k] = 0; /* diverged: counts as the worst */
            continue;
        }
        final[w][k] = t.v[i][8];
        if (k == 1 && w == 0) base = t.v[i][8], epochs = (int)round(t.v[i][4]);
    }
    cr_assert_gt(base, 0.8, "batch 128 ends at %g", base);
    cr_expect_geq(epochs, 3);
    for (int w = 0; w < 2; w++)
        for (int k = 2; k <= 8; k *= 2)
            cr_expect_gt(final[w][k], base - 0.03, "k %d warmup %d: %g vs %g", k, w, final[w][k], base);
    for (int k = 2; k <= 8; k *= 2) /* the warmup changes little there */
        cr_expect(fabs(final[1][k] - final[0][k]) < 0.02, "k %d: warmup %g, none %g", k, final[1][k], final[0][k]);
    cr_expect_lt(final[0][16], base - 0.10, "k 16 without warmup: %g vs %g", final[0][16], base);
    cr_expect_eq(stopped16, 0, "the text says the trainer's rule does not stop k = 16");
    cr_expect_gt(final[1][16], final[0][16] + 0.10, "k 16: warmup %g, none %g", final[1][16], final[0][16]);
    free_table(&t);
}

/* ---------------------------------------------------------------------------------
 * The programs: options, help, determinism. */
Test(ch05_programs, bad_options_are_rejected) {
    t_assert_rejects(WARMUP " --optim adam:lr=0", 2, "--optim");
    t_assert_rejects(WARMUP " --optim nadam", 2, "--optim");
    t_assert_rejects(WARMUP " --warmup -1", 2, "--warmup");
    t_assert_rejects(WARMUP " --warmup 2.5", 2, "--warmup");
    t_assert_rejects(WARMUP " --steps 0", 2, "--steps");
    t_assert_rejects(WARMUP " --seeds 0", 2, "--seeds");
    t_assert_rejects(WARMUP " --dims 784-10", 2, "--dims");
    t_assert_rejects(WARMUP " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(WARMUP " --diverge 1", 2, "--diverge");
    t_assert_rejects(WARMUP " --from /nonexistent/s.tsv", 1, "/nonexistent/s.tsv");
    t_assert_rejects(ADAMSTEPS " --steps -3", 2, "--steps");
    t_assert_rejects(ADAMSTEPS " --hist-steps 1.5", 2, "--hist-steps");
    t_assert_rejects(ADAMSTEPS " --optim sgd:lr=0.1:betas=0.9/0.99", 2, "--optim");
    t_assert_rejects(VNOISE " --beta2 1", 2, "--beta2");
    t_assert_rejects(VNOISE " --beta2 0", 2, "--beta2");
    t_assert_rejects(VNOISE " --ref 1", 2, "--ref");
    t_assert_rejects(VNOISE " --dims 100-10", 2, "--dims");
    t_assert_rejects(SCALING " --k 0", 2, "--k");
    t_assert_rejects(SCALING " --k 1.5", 2, "--k");
    t_assert_rejects(SCALING " --k 1000", 2, "--k");
    t_assert_rejects(SCALING " --warmup-epochs 4 --epochs 4", 2, "--warmup-epochs");
    t_assert_rejects(SCALING " --data /nonexistent", 1, "/nonexistent");
    t_assert_rejects(SCALING " --bogus", 2, "--bogus");
}

Test(ch05_programs, help_exits_zero) {
    const char *progs[] = {WARMUP, ADAMSTEPS, VNOISE, SCALING};
    for (int i = 0; i < 4; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") && strstr(r.out, "--data"), "%s", r.out);
        t_free(&r);
    }
}

/* Same arguments, same bytes; the table says how it was made. */
Test(ch05_programs, deterministic) {
    const char *cmd = WARMUP " --dims 784-16-10 --steps 30 --seeds 2 --first-seed 3 --warmup 0,5 --summary %s";
    char *a = t_run_file(cmd), *b = t_run_file(cmd);
    cr_expect_str_eq(a, b);
    cr_expect(strstr(a, "# program: ch05-warmup") && strstr(a, "# seeds: 3 to 4"), "%s", a);
    free(a);
    free(b);
}

/* The numbers in the chapter's prose are the ones the programs produce now. */

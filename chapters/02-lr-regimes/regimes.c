/* regimes.c -- too low, just right, too high: plain SGD on Fashion-MNIST, Chapter 2.
 *
 * Trains one model (--dims 784-10 is logistic regression, 784-64-10 an MLP) with plain
 * minibatch SGD, theta <- theta - lr * grad (Chapter 1's update, no momentum), once per
 * learning rate and seed. Each seed has its own train/validation split of the first
 * --train-size + --val-size training images (gd_split), its own initial weights and
 * its own batch order. Every run is the book's training loop (lib/train.c), which stops
 * a run as diverged when its loss is not finite or exceeds 10 times the first batch's;
 * such a run is reported as "diverged at step s" together with the loss at step s, the
 * one that tripped the rule, and its curve ends at the last healthy row.
 *
 *   --lr A,B,C          the three regimes: loss curves (--out), one summary row each
 *   --sweep LO,HI,N     N log-spaced learning rates: steps to reach --target
 *   --seed S --seeds K  every learning rate on seeds S, S+1, ..., S+K-1
 *   --sharpness N       the largest eigenvalue of the loss's Hessian (the sharpness,
 *                       lambda_max) at the initial weights and at the end of each run,
 *                       by power iteration (at most N iterations, stopped when the
 *                       estimate changes by less than --sharp-tol; both are reported)
 *
 * Writes the curves (--out), one row per run (--summary) and the numbers the chapter
 * quotes, as statements over the seeds (--numbers, keys prefixed by --tag). Leaves out:
 * momentum and Adam (Chapter 6), schedules (Chapter 4), the test set (the chapter uses
 * its validation split).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 256
#define MAX_SEEDS 64
#define MAX_TAG 32   /* --tag: key[96] holds tag, '_' and the longest name (34) */

typedef struct {
    double value;           /* lambda_max estimate (NaN: not measured) */
    int iters;              /* power iterations used */
    double rel;             /* relative change of the estimate in the last iteration */
} sharp_est;

typedef struct {
    double lr;
    uint64_t seed;
    double first_loss;      /* the first step's training loss */
    long diverged_at;       /* the trainer's log.diverged_at: step, or -1 */
    double div_loss;        /* the training loss at diverged_at (the one that tripped the rule) */
    long reached_at;        /* first evaluated step with validation loss <= target, or -1 */
    long last_step;         /* the last healthy logged row */
    double last_train, last_val, last_acc; /* ... and its losses (val: the last evaluated) */
    double best_val;        /* lowest validation loss seen */
    double val_same_time;   /* validation loss at the last evaluation with lr * step <= setup.time */
    double val_jump;        /* mean |change| of the validation loss between evaluations, second half */
    sharp_est sharp0, sharp_end; /* the sharpness at the initial and at the final weights */
} run_result;

typedef struct {
    gd_train_cfg base;      /* model, batch, data, evaluation: everything but lr, seed, split */
    long steps, train_size, val_size;
    double target;
    int sharp_n, sharp_iters; /* images the sharpness is measured on; 0 iterations: not measured */
    double sharp_tol;
    double time;            /* lr * steps of the first --lr run: "the same distance" */
} setup;

/* "diverged at step 4", "reached 0.6 at step 300", "did not reach 0.6 in 600 steps" */
static void outcome(char *buf, size_t size, const run_result *r, const setup *s) {
    // region outcome
    if (r->diverged_at >= 0) snprintf(buf, size, "diverged at step %ld (loss %.3g)", r->diverged_at, r->div_loss);
    else if (r->reached_at >= 0) snprintf(buf, size, "reached %g at step %ld", s->target, r->reached_at);
    else snprintf(buf, size, "did not reach %g in %ld steps", s->target, s->steps);
    // endregion outcome
}

static sharp_est sharpness(gd_mlp *m, const float *X, const int *y, int N, int iters, double tol, uint64_t seed);

/* One run of the shared training loop at one lr and seed; its healthy rows go to t. */
static int train_one(run_result *r, const setup *s, double lr, uint64_t seed, gd_table *t, int run,
                     const gd_images *train) {
    /* this seed's split: the first train_size + val_size images, shuffled by the seed */
    int *train_idx = malloc((size_t)s->train_size * sizeof *train_idx);
    int *val_idx = malloc((size_t)s->val_size * sizeof *val_idx);
    float *X = NULL;
    int *y = NULL, rc = -1;
    gd_trainer *tr = NULL;
    if (!train_idx || !val_idx) {
        gd_seterr("out of memory");
        goto done;
    }
    if (gd_split(train_idx, val_idx, (int)(s->train_size + s->val_size), (int)s->val_size, seed) != 0) goto done;
    char optim[64];
    snprintf(optim, sizeof optim, "sgd:lr=%.10g", lr); /* plain SGD: theta <- theta - lr * grad */
    gd_train_cfg cfg = s->base;
    cfg.optim = optim;
    cfg.seed = seed;
    cfg.train_idx = train_idx;
    cfg.val_idx = val_idx;
    if (!(tr = gd_trainer_new(&cfg))) goto done;
    *r = (run_result){lr, seed, NAN, -1, NAN, -1, 0, NAN, NAN, NAN, INFINITY, NAN, NAN, {NAN, 0, NAN}, {NAN, 0, NAN}};
    if (s->sharp_iters > 0) { /* on the first sharp_n training images of this split */
        X = malloc((size_t)s->sharp_n * 784 * sizeof *X);
        y = malloc((size_t)s->sharp_n * sizeof *y);
        if (!X || !y) {
            gd_seterr("out of memory");
            goto done;
        }
        gd_images_batch(X, y, train, train_idx, s->sharp_n);
        r->sharp0 = sharpness(&tr->model, X, y, s->sharp_n, s->sharp_iters, s->sharp_tol, seed + 1);
    }
    gd_train_log log;
    if (gd_trainer_run(tr, &log) != 0) goto done;
    r->diverged_at = log.diverged_at;
    long same = (long)floor(s->time / lr + 1e-9); /* the last step with lr * step <= time */
    double prev_val = NAN, jump = 0;
    int njump = 0;
    for (int i = 0; i < log.n; i++) {
        const gd_train_row *w = &log.rows[i];
        if (i == 0) r->first_loss = w->train_loss;
        if (w->step == log.diverged_at) { /* the row that tripped the rule: reported, not plotted */
            r->div_loss = w->train_loss;
            break;
        }
        r->last_step = w->step;
        r->last_train = w->train_loss;
        if (!isnan(w->val_loss)) {
            r->last_val = w->val_loss, r->last_acc = w->val_acc;
            if (w->val_loss < r->best_val) r->best_val = w->val_loss;
            if (r->reached_at < 0 && w->val_loss <= s->target) r->reached_at = w->step;
            if (w->step <= same) r->val_same_time = w->val_loss;
            if (2 * w->step > s->steps) { /* how much it jumps between evaluations */
                if (!isnan(prev_val)) jump += fabs(w->val_loss - prev_val), njump++;
                prev_val = w->val_loss;
            }
        }
        if (t) gd_table_row(t, "%d %.6g %llu %ld %.6f %.6f %.6f", run, lr, (unsigned long long)seed, w->step,
                            w->train_loss, w->val_loss, w->val_acc);
    }
    if (njump > 0 && log.diverged_at < 0) r->val_jump = jump / njump;
    if (s->sharp_iters > 0 && log.diverged_at < 0) /* the curvature where the run ended */
        r->sharp_end = sharpness(&tr->model, X, y, s->sharp_n, s->sharp_iters, s->sharp_tol, seed + 1);
    gd_train_log_free(&log);
    rc = 0;
done:
    gd_trainer_free(tr);
    free(X);
    free(y);
    free(train_idx);
    free(val_idx);
    return rc;
}

/* The gradient of the mean loss over X (N, D), y (N) at the model's weights, as one
 * flat vector g (numel). */
static double flat_grad(double *g, gd_mlp *m, const float *X, const int *y, int N) {
    gd_mlp_zero_grad(m);
    double loss = gd_mlp_loss(m, X, y, N);
    gd_mlp_backward(m, y, N);
    size_t k = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].grad->size; i++) g[k++] = m->params[p].grad->data[i];
    return loss;
}

/* theta += a * v over every parameter (v flat). */
static void nudge(gd_mlp *m, const double *v, double a) {
    size_t k = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].value->size; i++) m->params[p].value->data[i] += (float)(a * v[k++]);
}

/* The largest eigenvalue of the Hessian of the mean loss over X at the model's current
 * weights, by power iteration: v <- H v / |H v|, with the Hessian-vector product taken
 * as a central difference of gradients, H v ~ (g(theta + e v) - g(theta - e v)) / 2e.
 * Stops when the Rayleigh quotient v^T H v changes by less than tol (relative) from
 * one iteration to the next, or after iters iterations; returns the estimate, the
 * iterations used and that last relative change, so a caller can see whether it
 * converged. The weights are left as they were. value NaN if out of memory. */
static sharp_est power_iteration(gd_mlp *m, const float *X, const int *y, int N, int iters, double tol,
                                 uint64_t seed, double shift) {
    size_t n = gd_mlp_numel(m);
    double *v = malloc(n * sizeof *v), *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm);
    float *w0 = malloc(n * sizeof *w0);
    sharp_est est = {NAN, 0, NAN};
    if (!v || !gp || !gm || !w0) goto done;
    size_t k = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].value->size; i++) w0[k++] = m->params[p].value->data[i];
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    double norm = 0, prev = NAN;
    for (size_t i = 0; i < n; i++) v[i] = gd_rng_normal(&rng), norm += v[i] * v[i];
    for (size_t i = 0; i < n; i++) v[i] /= sqrt(norm);
    const double e = 1e-2; /* float32 weights: a step far above their rounding error */
    for (int it = 0; it < iters; it++) {
        // region hvp
        nudge(m, v, e);
        flat_grad(gp, m, X, y, N);        /* g(theta + e v) */
        nudge(m, v, -2 * e);
        flat_grad(gm, m, X, y, N);        /* g(theta - e v) */
        // endregion hvp
        k = 0; /* back to theta exactly */
        for (int p = 0; p < m->nparams; p++)
            for (size_t i = 0; i < m->params[p].value->size; i++) m->params[p].value->data[i] = w0[k++];
        double vHv = 0;
        norm = 0;
        for (size_t i = 0; i < n; i++) {
            double hv = (gp[i] - gm[i]) / (2 * e) - shift * v[i]; /* ((H - shift I) v)_i */
            vHv += v[i] * hv;
            v[i] = hv;
            norm += hv * hv;
        }
        est.value = vHv + shift; /* the Rayleigh quotient v^T H v with |v| = 1 */
        est.iters = it + 1;
        est.rel = fabs(est.value - prev) / fabs(est.value);
        prev = est.value;
        if (!(norm > 0) || est.rel < tol) break;
        for (size_t i = 0; i < n; i++) v[i] /= sqrt(norm);
    }
done:
    free(w0);
    free(v);
    free(gp);
    free(gm);
    return est;
}

/* Power iteration finds the eigenvalue of largest magnitude. If that one is negative
 * (a saddle-like direction, possible in an MLP), run it again on H - lambda I, whose
 * eigenvalues are all >= 0 and whose largest is lambda_max - lambda. */
static sharp_est sharpness(gd_mlp *m, const float *X, const int *y, int N, int iters, double tol, uint64_t seed) {
    sharp_est L = power_iteration(m, X, y, N, iters, tol, seed, 0.0);
    if (L.value < 0) L = power_iteration(m, X, y, N, iters, tol, seed, L.value);
    return L;
}

/* ---------------------------------------------------------------------------------- */
/* Statements over the seeds of one learning rate, for the text. */

/* "0.77 (0.75–0.79)": the median and the range of v[0..n) (NaN left out), one value if
 * they agree at this precision, "—" if there is none. */
static void med_range(char *buf, size_t size, const double *v, int n, const char *fmt) {
    gd_stats st = gd_stats_of(v, n);
    char a[32], lo[32], hi[32];
    if (!fmt) fmt = "%g"; /* never NULL here; gcc 12 -O1 -fsanitize=undefined says "null format string" */
    if (st.n == 0) {
        snprintf(buf, size, "—");
        return;
    }
    snprintf(a, sizeof a, fmt, st.median);
    snprintf(lo, sizeof lo, fmt, st.min);
    snprintf(hi, sizeof hi, fmt, st.max);
    if (!strcmp(lo, hi)) snprintf(buf, size, "%s", a);
    else snprintf(buf, size, "%s (%s–%s)", a, lo, hi);
}

/* What happened to the K seeds of one lr, whole: "reached 0.6 in 5 of 5 seeds, at step
 * 180 (160–200)"; "diverged in 5 of 5 seeds, at step 4 (3–5)"; several outcomes are
 * joined by "; ". */
static void outcome_over_seeds(char *buf, size_t size, const run_result *r, int k, const setup *s) {
    double reached[MAX_SEEDS], div[MAX_SEEDS];
    int nr = 0, nd = 0, nn = 0;
    for (int i = 0; i < k; i++) {
        if (r[i].diverged_at >= 0) div[nd++] = (double)r[i].diverged_at;
        else if (r[i].reached_at >= 0) reached[nr++] = (double)r[i].reached_at;
        else nn++;
    }
    char part[128], range[64];
    buf[0] = '\0';
    if (nr) {
        med_range(range, sizeof range, reached, nr, "%.0f");
        snprintf(part, sizeof part, "reached %g in %d of %d seeds, at step %s", s->target, nr, k, range);
        strncat(buf, part, size - strlen(buf) - 1);
    }
    if (nn) {
        snprintf(part, sizeof part, "%sdid not reach %g in %ld steps in %d of %d seeds", buf[0] ? "; " : "", s->target,
                 s->steps, nn, k);
        strncat(buf, part, size - strlen(buf) - 1);
    }
    if (nd) {
        med_range(range, sizeof range, div, nd, "%.0f");
        snprintf(part, sizeof part, "%sdiverged in %d of %d seeds, at step %s", buf[0] ? "; " : "", nd, k, range);
        strncat(buf, part, size - strlen(buf) - 1);
    }
}

int main(int argc, char **argv) {
    gd_floats lrs = {3, {0.005, 0.1, 1.5}}, sweep = {0};
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-10";
    to.batch_size = 64;
    const char *out = NULL, *summary = NULL, *numbers = NULL, *tag = "x";
    long steps = 1000, train_size = 5000, val_size = 1000, eval_every = 10, log_every = 1;
    long sharp_iters = 0, sharp_size = 1000;
    double target = 0.6, sharp_tol = 1e-3;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lr", &lrs, "learning rates to run (the three regimes)", 0, 1e4, 1),
        GD_OPT_FLOATS("sweep", &sweep, "LO,HI,N: N log-spaced learning rates in [LO, HI] instead of --lr", 0, 1e4, 1),
        GD_OPT_STRING("dims", &to.dims, "layer sizes: 784-10 is logistic regression, 784-64-10 an MLP"),
        GD_OPT_INT("batch-size", &to.batch_size, "minibatch size", 1, 60000),
        GD_OPT_STRING("data", &to.data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or "
                      GD_FMNIST_DEFAULT_DIR ")"),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_INT("steps", &steps, "SGD updates per run", 1, 1000000),
        GD_OPT_INT("train-size", &train_size, "training images (of the split)", 1, 59999),
        GD_OPT_INT("val-size", &val_size, "held-out validation images (of the split)", 1, 59999),
        GD_OPT_INT("eval-every", &eval_every, "steps between validation evaluations", 1, 1000000),
        GD_OPT_INT("log-every", &log_every, "steps per logged training-loss window", 1, 1000000),
        GD_OPT_FLOAT("target", &target, "validation loss that counts as reached", 0, 100, 1),
        GD_OPT_INT("sharpness", &sharp_iters, "at most this many power iterations for the Hessian's largest "
                   "eigenvalue, at init and at the end of each run (0: skip)", 0, 10000),
        GD_OPT_FLOAT("sharp-tol", &sharp_tol, "stop the power iteration when its estimate changes by less than "
                     "this (relative)", 0, 1, 1),
        GD_OPT_INT("sharp-size", &sharp_size, "training images the sharpness is measured on", 1, 5000),
        GD_OPT_OUT("out", &out, "write every run's loss curve to this table"),
        GD_OPT_OUT("summary", &summary, "write one row per run to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers (logreg, mlp, ...)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Plain SGD on Fashion-MNIST at learning rates too low, just right and too high, over "
                          "seeds: loss curves, divergence, steps to a target loss, sharpness (Chapter 2).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    setup s = {gd_train_defaults(), steps, train_size, val_size, target, 0, 0, sharp_tol,
               sweep.n ? 0.0 : lrs.v[0] * steps};
    gd_train_cfg *cfg = &s.base;
    if (gd_train_opts_apply(&to, cfg, 1) != 0) return 2;
    if (cfg->dims[0] != 784 || cfg->dims[cfg->nlayers] != 10) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--dims: '%s' must start with 784 (pixels) and end with 10 (classes)", to.dims);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (sweep.n && (sweep.n != 3 || !(sweep.v[1] > sweep.v[0]) || sweep.v[2] < 2 || sweep.v[2] > MAX_RUNS ||
                    sweep.v[2] != floor(sweep.v[2]))) {
        fprintf(stderr, "%s: --sweep: needs LO,HI,N with 0 < LO < HI and a whole N in [2, %d]\n", gd_prog(), MAX_RUNS);
        return 2;
    }
    if (train_size + val_size > 60000) {
        fprintf(stderr, "%s: --val-size: train-size + val-size must be <= 60000, got %ld\n", gd_prog(),
                train_size + val_size);
        return 2;
    }
    if (sharp_iters > 0 && sharp_size > train_size) {
        fprintf(stderr, "%s: --sharp-size: must be <= --train-size (%ld), got %ld\n", gd_prog(), train_size, sharp_size);
        return 2;
    }
    long seeds = to.seeds;
    if (seeds > MAX_SEEDS) {
        fprintf(stderr, "%s: --seeds: at most %d, got %ld\n", gd_prog(), MAX_SEEDS, seeds);
        return 2;
    }
    int nlr = sweep.n ? (int)sweep.v[2] : lrs.n;
    if (nlr * seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS, nlr * seeds);
        return 2;
    }
    if (strlen(tag) > MAX_TAG) { /* keys are tag_name, in a fixed buffer */
        fprintf(stderr, "%s: --tag: at most %d characters, got %zu\n", gd_prog(), MAX_TAG, strlen(tag));
        return 2;
    }
    s.sharp_n = (int)sharp_size, s.sharp_iters = (int)sharp_iters;

    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    gd_images_free(&test); /* this chapter never looks at the test set */
    /* every split draws from the first train_size + val_size images */
    if (gd_train_opts_require(to.data, &train, train_size + val_size,
                              "the training set", "--train-size + --val-size") != 0) {
        gd_images_free(&train);
        return 2;
    }
    gd_blas_threads(1);
    cfg->train = &train;
    cfg->n_train = (int)train_size;
    cfg->val = &train;
    cfg->n_val = (int)val_size;
    cfg->eval_every = (int)eval_every;
    cfg->log_every = (int)log_every;
    cfg->epochs = (double)steps / ((train_size + to.batch_size - 1) / to.batch_size);
    cfg->label = "ch02-regimes";

    gd_table *t = NULL, *sum = NULL;
    const char *cols_out = "run lr seed step train_loss val_loss val_acc";
    const char *cols_sum = "lr seed status step train_loss val_loss val_acc best_val reached_at diverged_at "
                           "first_loss div_loss val_same_time val_jump sharp_init sharp_init_iters sharp_init_rel "
                           "sharp_end sharp_end_iters sharp_end_rel";
    if (out && !(t = gd_table_open(out, cols_out))) goto io_error;
    if (summary && !(sum = gd_table_open(summary, cols_sum))) goto io_error;
    gd_table *tables[2] = {t, sum};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch02-regimes");
        gd_table_meta(tables[i], "model", "%s (%s), plain SGD, batch %ld, %ld steps", to.dims,
                      cfg->nlayers == 1 ? "logistic regression" : "MLP, ReLU", to.batch_size, steps);
        gd_table_meta(tables[i], "data", "Fashion-MNIST, the first %ld training images split by each run's seed: "
                      "%ld train, %ld validation", train_size + val_size, train_size, val_size);
        gd_table_meta(tables[i], "seed", "%llu (+%ld more)", (unsigned long long)to.seed, seeds - 1);
        gd_table_meta(tables[i], "divergence", "loss not finite, or a %d-step window's training loss above %g x "
                      "the first batch's (lib/train.c)", cfg->log_every, cfg->diverge_factor);
        gd_table_meta(tables[i], "target", "validation loss %g, evaluated every %ld steps", target, eval_every);
        if (sharp_iters > 0)
            gd_table_meta(tables[i], "sharpness", "power iteration on %ld training images, at most %ld iterations, "
                          "stopped at a relative change below %g", sharp_size, sharp_iters, sharp_tol);
    }

    static run_result runs[MAX_RUNS];
    int nruns = 0;
    printf("%-10s %-5s %-12s %-12s %s\n", "lr", "seed", "train_loss", "val_loss", "outcome");
    for (int i = 0; i < nlr; i++) {
        double lr = sweep.n ? sweep.v[0] * pow(sweep.v[1] / sweep.v[0], (double)i / (nlr - 1)) : lrs.v[i];
        for (long k = 0; k < seeds; k++) {
            run_result *r = &runs[nruns];
            if (t && nruns > 0) gd_table_block(t);
            if (train_one(r, &s, lr, to.seed + (uint64_t)k, t, nruns, &train) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                goto fail;
            }
            nruns++;
            char what[96];
            outcome(what, sizeof what, r, &s);
            printf("%-10.4g %-5llu %-12.4f %-12.4f %s", lr, (unsigned long long)r->seed, r->last_train, r->last_val,
                   what);
            if (!isnan(r->sharp_end.value))
                printf(" (sharpness %.4g at the start, %.4g at the end)", r->sharp0.value, r->sharp_end.value);
            printf("\n");
            if (sum)
                gd_table_row(sum, "%.6g %llu %s %ld %.6f %.6f %.6f %.6f %ld %ld %.6g %.6g %.6f %.6g %.6g %d %.3g %.6g %d %.3g",
                             lr, (unsigned long long)r->seed,
                             r->diverged_at >= 0 ? "diverged" : r->reached_at >= 0 ? "reached" : "not_reached",
                             r->last_step, r->last_train, r->last_val, r->last_acc, r->best_val, r->reached_at,
                             r->diverged_at, r->first_loss, r->div_loss, r->val_same_time, r->val_jump, r->sharp0.value,
                             r->sharp0.iters, r->sharp0.rel, r->sharp_end.value, r->sharp_end.iters, r->sharp_end.rel);
        }
    }

    if (numbers) {
        /* What the chapter quotes, under TAG_...: the setting, and per learning rate k
         * (runK_...) what held over its seeds (a sweep's numbers come from ch02-steps). */
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch02-regimes");
        gd_table_meta(nt, "seed", "%llu (+%ld more)", (unsigned long long)to.seed, seeds - 1);
        char key[96];
#define KV(name, ...) (snprintf(key, sizeof key, "%s_%s", tag, name), gd_table_kv(nt, key, __VA_ARGS__))
        KV("dims", "%s", to.dims);
        KV("steps", "%ld", steps);
        KV("batch", "%ld", to.batch_size);
        KV("train", "%ld", train_size);
        KV("val", "%ld", val_size);
        KV("target", "%g", target);
        KV("split", "%ld", train_size + val_size);
        KV("eval_every", "%ld", eval_every);
        KV("diverge_factor", "%g", cfg->diverge_factor);
        KV("seeds", "%ld", seeds);
        size_t params = 0;
        for (int l = 0; l < cfg->nlayers; l++) params += (size_t)(cfg->dims[l] + 1) * cfg->dims[l + 1];
        KV("params", "%zu", params);
        double v[MAX_SEEDS], w[MAX_SEEDS];
        char str[256];
        if (sharp_iters > 0) {
            /* the sharpness at init (one per seed: the same for every lr) and how the
             * power iteration converged over every measurement */
            int iters_max = 0;
            double rel_max = 0;
            for (int k = 0; k < seeds; k++) v[k] = runs[k].sharp0.value, w[k] = 2 / runs[k].sharp0.value;
            for (int i = 0; i < nruns; i++) {
                const sharp_est *e[2] = {&runs[i].sharp0, &runs[i].sharp_end};
                for (int j = 0; j < 2; j++)
                    if (!isnan(e[j]->value)) iters_max = e[j]->iters > iters_max ? e[j]->iters : iters_max,
                                             rel_max = fmax(rel_max, e[j]->rel);
            }
            gd_stats L = gd_stats_of(v, (int)seeds), two = gd_stats_of(w, (int)seeds);
            KV("sharp_size", "%ld", sharp_size);
            KV("sharp", "%.3g", L.median);
            KV("sharp_lo", "%.3g", L.min);
            KV("sharp_hi", "%.3g", L.max);
            KV("sharp_lr", "%.2g", two.median);
            KV("sharp_lr_lo", "%.2g", two.min);
            KV("sharp_lr_hi", "%.2g", two.max);
            KV("sharp_iters_max", "%d", iters_max);
            KV("sharp_iters_cap", "%ld", sharp_iters);
            KV("sharp_rel_max", "%.1e", rel_max);
            KV("sharp_tol", "%g", sharp_tol);
        }
        for (int i = 0; i < nlr; i++) {
            const run_result *r = &runs[i * seeds];
            char name[48];
            int nd = 0, nr = 0;
#define RUNKV(field, ...) (snprintf(name, sizeof name, "run%d_%s", i, field), KV(name, __VA_ARGS__))
            RUNKV("lr", "%g", r->lr);
            RUNKV("two_over_lr", "%.3g", 2 / r->lr);   /* the curvature this lr can take */
            outcome_over_seeds(str, sizeof str, r, (int)seeds, &s);
            RUNKV("outcome", "%s", str);
            for (int k = 0; k < seeds; k++) nd += r[k].diverged_at >= 0, nr += r[k].reached_at >= 0;
            RUNKV("diverged", "%d", nd);
            RUNKV("reached", "%d", nr);
            for (int k = 0; k < seeds; k++) v[k] = r[k].diverged_at >= 0 ? NAN : r[k].last_val;
            med_range(str, sizeof str, v, (int)seeds, "%.2f");
            RUNKV("val", "%s", str);
            for (int k = 0; k < seeds; k++) v[k] = r[k].diverged_at >= 0 ? NAN : 100 * r[k].last_acc;
            med_range(str, sizeof str, v, (int)seeds, "%.0f");
            RUNKV("acc", "%s", str);
            for (int k = 0; k < seeds; k++) v[k] = r[k].first_loss;
            med_range(str, sizeof str, v, (int)seeds, "%.2f");
            RUNKV("first", "%s", str);
            for (int k = 0; k < seeds; k++) v[k] = r[k].diverged_at >= 0 ? (double)r[k].diverged_at : NAN;
            med_range(str, sizeof str, v, (int)seeds, "%.0f");
            RUNKV("div_step", "%s", str);
            for (int k = 0; k < seeds; k++) v[k] = r[k].div_loss;
            med_range(str, sizeof str, v, (int)seeds, "%.3g");
            RUNKV("div_loss", "%s", str);
            if (!sweep.n) { /* the same lr * steps as the first --lr run's end */
                RUNKV("same_step", "%ld", (long)floor(s.time / r->lr + 1e-9));
                for (int k = 0; k < seeds; k++) v[k] = r[k].val_same_time;
                med_range(str, sizeof str, v, (int)seeds, "%.2f");
                RUNKV("val_same_time", "%s", str);
            }
            if (sharp_iters > 0) {
                int below = 0, falls = 0, live = 0;
                for (int k = 0; k < seeds; k++) {
                    below += r->lr < 2 / r[k].sharp0.value;
                    v[k] = r[k].sharp_end.value;
                    if (!isnan(v[k])) live++, falls += v[k] < r[k].sharp0.value;
                }
                RUNKV("below_two_over_L", "%d of %ld", below, seeds);
                med_range(str, sizeof str, v, (int)seeds, "%.3g");
                RUNKV("sharp_end", "%s", str);
                RUNKV("sharp_falls", "%d of %d", falls, live);
                int under = 0;
                for (int k = 0; k < seeds; k++) under += !isnan(v[k]) && v[k] < 2 / r->lr;
                RUNKV("sharp_end_below_two_over_lr", "%d of %d", under, live);
            }
        }
        if (!sweep.n && nlr >= 2) { /* the crawl and the next lr at the same lr * steps, per seed */
            double d = 0;
            for (int k = 0; k < seeds; k++) d = fmax(d, fabs(runs[k].last_val - runs[seeds + k].val_same_time));
            KV("same_time_maxdiff", "%.2f", d);
        }
        if (gd_table_close(nt) != 0) goto io_error;
    }
    if (t && gd_table_close(t) != 0) { t = NULL; goto io_error; }
    if (sum && gd_table_close(sum) != 0) { sum = NULL; goto io_error; }
    gd_images_free(&train);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
fail:
    if (t) gd_table_abort(t);
    if (sum) gd_table_abort(sum);
    gd_images_free(&train);
    return 1;
}

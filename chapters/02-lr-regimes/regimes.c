/* regimes.c -- too low, just right, too high: plain SGD on Fashion-MNIST, Chapter 2.
 *
 * Trains one model (--dims 784-10 is logistic regression, 784-64-10 an MLP) with plain
 * minibatch SGD, w <- w - lr * grad (Chapter 1's update, no momentum), once per
 * learning rate and seed, on a seeded train/validation split of the first
 * --train-size + --val-size training images (gd_split). Every run is the book's
 * training loop (lib/train.c), which stops a run as diverged when its loss is not
 * finite or its windowed training loss exceeds 10 times the first batch's; such a run
 * is reported as "diverged at step s", and its curve ends at the last healthy row.
 *
 *   --lr A,B,C          the three regimes: loss curves (--out), one summary row each
 *   --sweep LO,HI,N     N log-spaced learning rates: steps to reach --target
 *   --sharpness N       the largest eigenvalue of the loss's Hessian at the initial
 *                       weights (N power iterations), so 2/L can be compared with the
 *                       learning rates that diverge (Chapter 1, section 1.3)
 *
 * Writes the curves (--out), one row per run (--summary) and the numbers the chapter
 * quotes (--numbers, keys prefixed by --tag). Leaves out: momentum and Adam (Chapter
 * 6), schedules (Chapter 4), the test set (the chapter uses its validation split).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 256

typedef struct {
    double lr;
    uint64_t seed;
    double first_loss;      /* the first logged window's training loss */
    long diverged_at;       /* the trainer's log.diverged_at: step, or -1 */
    long reached_at;        /* first evaluated step with validation loss <= target, or -1 */
    long last_step;         /* the last healthy logged row */
    double last_train, last_val, last_acc; /* ... and its losses (val: the last evaluated) */
    double best_val;        /* lowest validation loss seen */
    double sharp_end;       /* the Hessian's largest eigenvalue at the final weights (or NaN) */
    double val_same_time;   /* validation loss at the step where lr * step = setup.time */
} run_result;

typedef struct {
    gd_train_cfg base;      /* model, batch, data, evaluation: everything but lr and seed */
    const gd_images *train;
    long steps;
    double target;
    const float *sharp_X;   /* (sharp_n, 784) images the sharpness is measured on */
    const int *sharp_y;
    int sharp_n, sharp_iters; /* 0 iterations: not measured */
    double time;            /* lr * steps of the first --lr run: "the same distance" */
} setup;

/* "diverged at step 140", "reached 0.6 at step 300", "did not reach 0.6 in 600 steps" */
static void outcome(char *buf, size_t size, const run_result *r, const setup *s) {
    // region outcome
    if (r->diverged_at >= 0) snprintf(buf, size, "diverged at step %ld", r->diverged_at);
    else if (r->reached_at >= 0) snprintf(buf, size, "reached %g at step %ld", s->target, r->reached_at);
    else snprintf(buf, size, "did not reach %g in %ld steps", s->target, s->steps);
    // endregion outcome
}

static double sharpness(gd_mlp *m, const float *X, const int *y, int N, int iters, uint64_t seed);

/* One run of the shared training loop at one lr and seed; its healthy rows go to t. */
static int train_one(run_result *r, const setup *s, double lr, uint64_t seed, gd_table *t, int run) {
    char optim[64];
    snprintf(optim, sizeof optim, "sgd:lr=%.10g", lr); /* plain SGD: w <- w - lr * grad */
    gd_train_cfg cfg = s->base;
    cfg.optim = optim;
    cfg.seed = seed;
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) return -1;
    gd_train_log log;
    if (gd_trainer_run(tr, &log) != 0) {
        gd_trainer_free(tr);
        return -1;
    }
    *r = (run_result){lr, seed, NAN, log.diverged_at, -1, 0, NAN, NAN, NAN, INFINITY, NAN, NAN};
    long same = lround(s->time / lr);       /* the step where lr * step = time */
    for (int i = 0; i < log.n; i++) {
        const gd_train_row *w = &log.rows[i];
        if (w->step == log.diverged_at) break;  /* the row that tripped the rule: not plotted */
        if (i == 0) r->first_loss = w->train_loss;
        r->last_step = w->step;
        r->last_train = w->train_loss;
        if (!isnan(w->val_loss)) {
            r->last_val = w->val_loss, r->last_acc = w->val_acc;
            if (w->val_loss < r->best_val) r->best_val = w->val_loss;
            if (r->reached_at < 0 && w->val_loss <= s->target) r->reached_at = w->step;
            if (w->step <= same) r->val_same_time = w->val_loss;
        }
        if (t) gd_table_row(t, "%d %.6g %llu %ld %.6f %.6f %.6f", run, lr, (unsigned long long)seed, w->step,
                            w->train_loss, w->val_loss, w->val_acc);
    }
    if (s->sharp_iters > 0 && log.diverged_at < 0) /* the curvature where the run ended */
        r->sharp_end = sharpness(&tr->model, s->sharp_X, s->sharp_y, s->sharp_n, s->sharp_iters, seed + 1);
    gd_train_log_free(&log);
    gd_trainer_free(tr);
    return 0;
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

/* w += a * v over every parameter (v flat). */
static void nudge(gd_mlp *m, const double *v, double a) {
    size_t k = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].value->size; i++) m->params[p].value->data[i] += (float)(a * v[k++]);
}

/* The largest eigenvalue L of the Hessian of the mean loss over X at the model's current
 * weights, by power iteration: v <- H v / |H v|, with the Hessian-vector product taken
 * as a central difference of gradients, H v ~ (g(w + e v) - g(w - e v)) / 2e. The
 * weights are left as they were. Returns NaN if out of memory. */
static double power_iteration(gd_mlp *m, const float *X, const int *y, int N, int iters, uint64_t seed,
                              double shift) {
    size_t n = gd_mlp_numel(m);
    double *v = malloc(n * sizeof *v), *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm);
    double L = NAN;
    if (!v || !gp || !gm) goto done;
    float *w0 = malloc(n * sizeof *w0);
    if (!w0) goto done;
    size_t k = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].value->size; i++) w0[k++] = m->params[p].value->data[i];
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    double norm = 0;
    for (size_t i = 0; i < n; i++) v[i] = gd_rng_normal(&rng), norm += v[i] * v[i];
    for (size_t i = 0; i < n; i++) v[i] /= sqrt(norm);
    const double e = 1e-2; /* float32 weights: a step far above their rounding error */
    for (int it = 0; it < iters; it++) {
        // region hvp
        nudge(m, v, e);
        flat_grad(gp, m, X, y, N);        /* g(w + e v) */
        nudge(m, v, -2 * e);
        flat_grad(gm, m, X, y, N);        /* g(w - e v) */
        // endregion hvp
        k = 0; /* back to w0 exactly */
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
        L = vHv + shift; /* the Rayleigh quotient v^T H v with |v| = 1 */
        if (!(norm > 0)) break;
        for (size_t i = 0; i < n; i++) v[i] /= sqrt(norm);
    }
    free(w0);
done:
    free(v);
    free(gp);
    free(gm);
    return L;
}

/* Power iteration finds the eigenvalue of largest magnitude. If that one is negative
 * (a saddle-like direction, possible in an MLP), run it again on H - lambda I, whose
 * eigenvalues are all >= 0 and whose largest is L - lambda. */
static double sharpness(gd_mlp *m, const float *X, const int *y, int N, int iters, uint64_t seed) {
    double L = power_iteration(m, X, y, N, iters, seed, 0.0);
    if (L < 0) L = power_iteration(m, X, y, N, iters, seed, L);
    return L;
}

int main(int argc, char **argv) {
    gd_floats lrs = {3, {0.005, 0.1, 1.5}}, sweep = {0};
    const char *dims_arg = "784-10", *data_dir = NULL, *out = NULL, *summary = NULL, *numbers = NULL, *tag = "x";
    long steps = 1000, batch_size = 64, train_size = 5000, val_size = 1000, eval_every = 10, log_every = 1;
    long seeds = 1, sharp_iters = 0, sharp_size = 1000;
    double target = 0.6;
    uint64_t seed = 0;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lr", &lrs, "learning rates to run (the three regimes)", 0, 1e4, 1),
        GD_OPT_FLOATS("sweep", &sweep, "LO,HI,N: N log-spaced learning rates in [LO, HI] instead of --lr", 0, 1e4, 1),
        GD_OPT_STRING("dims", &dims_arg, "layer sizes: 784-10 is logistic regression, 784-64-10 an MLP"),
        GD_OPT_INT("steps", &steps, "SGD updates per run", 1, 1000000),
        GD_OPT_INT("batch-size", &batch_size, "minibatch size", 1, 60000),
        GD_OPT_INT("train-size", &train_size, "training images (of the split)", 1, 59999),
        GD_OPT_INT("val-size", &val_size, "held-out validation images (of the split)", 1, 59999),
        GD_OPT_INT("eval-every", &eval_every, "steps between validation evaluations", 1, 1000000),
        GD_OPT_INT("log-every", &log_every, "steps per logged training-loss window", 1, 1000000),
        GD_OPT_FLOAT("target", &target, "validation loss that counts as reached", 0, 100, 1),
        GD_OPT_SEED("seed", &seed, "first random seed (split, initialisation and data order)"),
        GD_OPT_INT("seeds", &seeds, "seeds per learning rate: seed, seed+1, ...", 1, 64),
        GD_OPT_INT("sharpness", &sharp_iters, "power iterations for the Hessian's largest eigenvalue, at init and at the end of each run (0: skip)", 0, 1000),
        GD_OPT_INT("sharp-size", &sharp_size, "training images the sharpness is measured on", 1, 1000),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_STRING("out", &out, "write every run's loss curve to this table"),
        GD_OPT_STRING("summary", &summary, "write one row per run to this table"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("tag", &tag, "prefix of the keys in --numbers (logreg, mlp, ...)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Plain SGD on Fashion-MNIST at learning rates too low, just right and too high: loss "
                          "curves, divergence, steps to a target loss (Chapter 2).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    setup s = {gd_train_defaults(), NULL, steps, target, NULL, NULL, 0, 0, sweep.n ? 0.0 : lrs.v[0] * steps};
    gd_train_cfg *cfg = &s.base;
    if ((cfg->nlayers = gd_parse_dims(dims_arg, cfg->dims, GD_TRAIN_MAXLAYERS)) < 0) {
        fprintf(stderr, "%s: --dims: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (cfg->dims[0] != 784 || cfg->dims[cfg->nlayers] != 10) {
        fprintf(stderr, "%s: --dims: '%s' must start with 784 (pixels) and end with 10 (classes)\n", gd_prog(), dims_arg);
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
    int nlr = sweep.n ? (int)sweep.v[2] : lrs.n;
    if (nlr * seeds > MAX_RUNS) {
        fprintf(stderr, "%s: --seeds: at most %d runs in all, got %ld\n", gd_prog(), MAX_RUNS, nlr * seeds);
        return 2;
    }

    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_images_free(&test); /* this chapter never looks at the test set */
    gd_blas_threads(1);
    /* The split: the first train_size + val_size training images, shuffled by the seed. */
    int *train_idx = malloc((size_t)train_size * sizeof *train_idx), *val_idx = malloc((size_t)val_size * sizeof *val_idx);
    if (!train_idx || !val_idx ||
        gd_split(train_idx, val_idx, (int)(train_size + val_size), (int)val_size, seed) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), train_idx && val_idx ? gd_error() : "out of memory");
        return 1;
    }
    cfg->batch_size = (int)batch_size;
    cfg->train = &train;
    cfg->train_idx = train_idx;
    cfg->n_train = (int)train_size;
    cfg->val = &train;
    cfg->val_idx = val_idx;
    cfg->n_val = (int)val_size;
    cfg->eval_every = (int)eval_every;
    cfg->log_every = (int)log_every;
    cfg->epochs = (double)steps / ((train_size + batch_size - 1) / batch_size);
    cfg->label = "ch02-regimes";

    double L = NAN;
    if (sharp_iters > 0) {
        /* the Hessian at the initial weights of seed `seed`, on sharp_size training images */
        gd_train_cfg c = *cfg;
        c.optim = "sgd:lr=0.1";
        c.seed = seed;
        gd_trainer *tr = gd_trainer_new(&c);
        float *X = malloc((size_t)sharp_size * 784 * sizeof *X);
        int *y = malloc((size_t)sharp_size * sizeof *y);
        if (!tr || !X || !y) {
            fprintf(stderr, "%s: %s\n", gd_prog(), tr ? "out of memory" : gd_error());
            return 1;
        }
        gd_images_batch(X, y, &train, train_idx, (int)sharp_size);
        L = sharpness(&tr->model, X, y, (int)sharp_size, (int)sharp_iters, seed + 1);
        gd_trainer_free(tr);
        s.sharp_X = X, s.sharp_y = y, s.sharp_n = (int)sharp_size, s.sharp_iters = (int)sharp_iters;
        printf("sharpness at init: L = %.4g, 2/L = %.4g\n", L, 2 / L);
    }

    gd_table *t = NULL, *sum = NULL;
    const char *cols_out = "run lr seed step train_loss val_loss val_acc";
    const char *cols_sum = "lr seed status step train_loss val_loss val_acc best_val reached_at diverged_at";
    if (out && !(t = gd_table_open(out, cols_out))) goto io_error;
    if (summary && !(sum = gd_table_open(summary, cols_sum))) goto io_error;
    gd_table *tables[2] = {t, sum};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch02-regimes");
        gd_table_meta(tables[i], "model", "%s (%s), plain SGD, batch %ld, %ld steps", dims_arg,
                      cfg->nlayers == 1 ? "logistic regression" : "MLP, ReLU", batch_size, steps);
        gd_table_meta(tables[i], "data", "Fashion-MNIST, first %ld training images split by seed %llu: %ld train, "
                      "%ld validation", train_size + val_size, (unsigned long long)seed, train_size, val_size);
        gd_table_meta(tables[i], "seed", "%llu (+%ld more)", (unsigned long long)seed, seeds - 1);
        gd_table_meta(tables[i], "divergence", "loss not finite, or a %d-step window's training loss above %g x "
                      "the first window's (lib/train.c)", cfg->log_every, cfg->diverge_factor);
        gd_table_meta(tables[i], "target", "validation loss %g, evaluated every %ld steps", target, eval_every);
        if (sharp_iters > 0) gd_table_meta(tables[i], "sharpness", "L = %.6g at init, 2/L = %.6g", L, 2 / L);
    }

    static run_result runs[MAX_RUNS];
    int nruns = 0;
    printf("%-10s %-5s %-12s %-12s %s\n", "lr", "seed", "train_loss", "val_loss", "outcome");
    for (int i = 0; i < nlr; i++) {
        double lr = sweep.n ? sweep.v[0] * pow(sweep.v[1] / sweep.v[0], (double)i / (nlr - 1)) : lrs.v[i];
        for (long k = 0; k < seeds; k++) {
            run_result *r = &runs[nruns];
            if (t && nruns > 0) gd_table_block(t);
            if (train_one(r, &s, lr, seed + (uint64_t)k, t, nruns) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                goto fail;
            }
            nruns++;
            char what[96];
            outcome(what, sizeof what, r, &s);
            printf("%-10.4g %-5llu %-12.4f %-12.4f %s", lr, (unsigned long long)r->seed, r->last_train, r->last_val,
                   what);
            if (!isnan(r->sharp_end)) printf(" (sharpness at the end: %.4g)", r->sharp_end);
            printf("\n");
            if (sum)
                gd_table_row(sum, "%.6g %llu %s %ld %.6f %.6f %.6f %.6f %ld %ld", lr, (unsigned long long)r->seed,
                             r->diverged_at >= 0 ? "diverged" : r->reached_at >= 0 ? "reached" : "not_reached",
                             r->last_step, r->last_train, r->last_val, r->last_acc, r->best_val, r->reached_at,
                             r->diverged_at);
        }
    }

    if (numbers) {
        /* What the chapter quotes, under TAG_...: the setting, and each run's outcome
         * (a sweep's numbers come from ch02-steps, over the seeds). */
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch02-regimes");
        char key[96];
#define KV(name, ...) (snprintf(key, sizeof key, "%s_%s", tag, name), gd_table_kv(nt, key, __VA_ARGS__))
        KV("dims", "%s", dims_arg);
        KV("steps", "%ld", steps);
        KV("batch", "%ld", batch_size);
        KV("train", "%ld", train_size);
        KV("val", "%ld", val_size);
        KV("target", "%g", target);
        KV("split", "%ld", train_size + val_size);
        KV("eval_every", "%ld", eval_every);
        KV("diverge_factor", "%g", cfg->diverge_factor);
        size_t params = 0;
        for (int l = 0; l < cfg->nlayers; l++) params += (size_t)(cfg->dims[l] + 1) * cfg->dims[l + 1];
        KV("params", "%zu", params);
        if (sharp_iters > 0) {
            KV("sharp_size", "%ld", sharp_size);
            KV("sharp", "%.3g", L);
            KV("sharp_lr", "%.2g", 2 / L);
        }
        for (int i = 0; i < nruns; i++) {
            const run_result *r = &runs[i];
            char what[96], name[32];
            outcome(what, sizeof what, r, &s);
#define RUNKV(field, ...) (snprintf(name, sizeof name, "run%d_%s", i, field), KV(name, __VA_ARGS__))
            RUNKV("lr", "%g", r->lr);
            RUNKV("two_over_lr", "%.3g", 2 / r->lr);   /* the curvature this lr can take */
            RUNKV("outcome", "%s", what);
            RUNKV("first", "%.2f", r->first_loss);
            RUNKV("train", "%.2f", r->last_train);
            RUNKV("val", "%.2f", r->last_val);
            RUNKV("acc", "%.0f", 100 * r->last_acc);
            RUNKV("best_val", "%.2f", r->best_val);
            RUNKV("diverged_at", "%ld", r->diverged_at);
            RUNKV("reached_at", "%ld", r->reached_at);
            RUNKV("last_step", "%ld", r->last_step);
            RUNKV("same_step", "%ld", lround(s.time / r->lr));
            RUNKV("val_same_time", "%.2f", r->val_same_time);
            if (sharp_iters > 0) RUNKV("sharp_end", "%.3g", r->sharp_end);
        }
        if (gd_table_close(nt) != 0) goto io_error;
    }
    if (t && gd_table_close(t) != 0) { t = NULL; goto io_error; }
    if (sum && gd_table_close(sum) != 0) { sum = NULL; goto io_error; }
    free((void *)s.sharp_X);
    free((void *)s.sharp_y);
    free(train_idx);
    free(val_idx);
    gd_images_free(&train);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
fail:
    if (t) gd_table_abort(t);
    if (sum) gd_table_abort(sum);
    free(train_idx);
    free(val_idx);
    gd_images_free(&train);
    return 1;
}

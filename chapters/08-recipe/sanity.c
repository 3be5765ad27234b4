/* sanity.c -- the three checks to run before any tuning, Chapter 8 (8.1).
 *
 * Over --seeds seeds, on Fashion-MNIST:
 *   1. the loss at initialisation: the mean cross-entropy of a fresh MLP on --val-size
 *      held-out training images, against ln C (C = 10 classes: a network that knows
 *      nothing and says so puts 1/C on every class). And the same with every weight
 *      multiplied by --bad-scale, the kind of initialisation bug the check is there to catch.
 *   2. overfit one batch: --batch images, trained over and over with Adam's default
 *      (lr 1e-3) for --overfit-steps steps; the first step at which the loss is below
 *      --overfit-target, and the last loss.
 *   3. a gradient check (lib/gradcheck.h: central differences, eps 1e-2, float32): the
 *      largest relative error over every parameter of a small tanh MLP (no kinks) on 4
 *      images; and the same with a backward that forgot the mean's 1/N (the gradient N
 *      times too large), which the check must flag.
 * Leaves out: checks on data (labels shuffled, inputs not normalised) and on the
 * regularisation term (CS231n checks it separately).
 */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 64
#define GC_N 4            /* images in the gradient check */
#define GC_EPS 1e-2f
#define GC_FLOOR 1e-1

/* One `key value` row, key recipe_sanity_NAME (no fixed-size copies: values hold the user's text). */
static void kv(gd_table *t, const char *name, const char *fmt, ...) GD_PRINTF(3, 4);
static void kv(gd_table *t, const char *name, const char *fmt, ...) {
    char *key = NULL, *value = NULL;
    va_list ap;
    va_start(ap, fmt);
    int ok = asprintf(&key, "recipe_sanity_%s", name) >= 0 && vasprintf(&value, fmt, ap) >= 0;
    va_end(ap);
    if (ok) gd_table_kv(t, key, "%s", value);
    free(key), free(value);
}

/* Mean loss of model m on images idx[0..n) of ds, in batches of m->max_batch. */
static double mean_loss(gd_mlp *m, const gd_images *ds, const int *idx, int n, float *X, int *y) {
    double total = 0;
    for (int i = 0; i < n; i += m->max_batch) {
        int B = n - i < m->max_batch ? n - i : m->max_batch;
        gd_images_batch(X, y, ds, idx + i, B);
        total += gd_mlp_loss(m, X, y, B) * B;
    }
    return total / n;
}

typedef struct {
    gd_mlp *m;
    const float *X;
    const int *y;
    int N;
} gc_ctx;

static double gc_loss(void *ctx) {
    gc_ctx *c = ctx;
    return gd_mlp_loss(c->m, c->X, c->y, c->N);
}

/* The largest relative error of the gradient check over every parameter of m on (X, y);
 * the analytic gradient multiplied by scale first (1: as backward computes it). */
static double gradcheck_all(gd_mlp *m, const float *X, const int *y, int N, float scale) {
    gd_mlp_loss(m, X, y, N);
    gd_mlp_zero_grad(m);
    gd_mlp_backward(m, y, N);
    double worst = 0;
    gc_ctx c = {m, X, y, N};
    for (int p = 0; p < m->nparams; p++) {
        gd_tensor *g = m->params[p].grad;
        float *grad = malloc(g->size * sizeof *grad);   /* a copy: the check's forwards keep grads */
        if (!grad) return NAN;
        for (size_t i = 0; i < g->size; i++) grad[i] = g->data[i] * scale;
        double e = gd_gradcheck(gc_loss, &c, m->params[p].value->data, grad, g->size, GC_EPS, GC_FLOOR);
        if (e > worst) worst = e;
        free(grad);
    }
    return worst;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-64-10";
    to.seeds = 5;
    const char *out = NULL, *numbers = NULL, *gc_dims = "784-16-10";
    long val_size = 2000, batch = 32, overfit_steps = 300;
    double bad_scale = 10, target = 0.01;
    gd_opt opts[] = {
        GD_OPT_STRING("dims", &to.dims, "the MLP of checks 1 and 2 (ReLU)"),
        GD_OPT_STRING("gc-dims", &gc_dims, "the MLP of the gradient check (tanh)"),
        GD_OPT_STRING("data", &to.data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_INT("val-size", &val_size, "held-out training images for the loss at initialisation", 10, 10000),
        GD_OPT_FLOAT("bad-scale", &bad_scale, "the buggy initialisation: every weight times this", 1, 1000, 0),
        GD_OPT_INT("batch", &batch, "images of the batch to overfit", 1, 1024),
        GD_OPT_INT("overfit-steps", &overfit_steps, "Adam steps on that batch", 1, 100000),
        GD_OPT_FLOAT("overfit-target", &target, "the loss the batch must get below", 0, 10, 1),
        GD_OPT_OUT("out", &out, "write one row per seed: seed init_loss bad_init_loss overfit_step "
                                   "overfit_loss gc_err gc_err_bug"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes (keys recipe_sanity_...)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The sanity checks before tuning (Chapter 8): the loss at initialisation against ln C, "
                          "overfitting one batch, and a gradient check, each also run on a planted bug.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    int dims[GD_TRAIN_MAXLAYERS + 1], gdims[GD_TRAIN_MAXLAYERS + 1];
    int nl = gd_parse_dims(to.dims, dims, GD_TRAIN_MAXLAYERS), gnl = gd_parse_dims(gc_dims, gdims, GD_TRAIN_MAXLAYERS);
    if (nl < 1 || dims[0] != 784 || dims[nl] != GD_FMNIST_CLASSES) {
        gd_usage_error("--dims: want 784-...-10, got '%.60s'", to.dims);
        return 2;
    }
    if (gnl < 1 || gdims[0] != 784 || gdims[gnl] != GD_FMNIST_CLASSES) {
        gd_usage_error("--gc-dims: want 784-...-10, got '%.60s'", gc_dims);
        return 2;
    }
    if (to.seeds > MAX_SEEDS) {
        fprintf(stderr, "%s: --seeds: at most %d, got %ld\n", gd_prog(), MAX_SEEDS, to.seeds);
        return 2;
    }
    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* what the checks index in the training part of the split (val_size held out): seed
     * s overfits images s*batch .. (s+1)*batch, its gradient check takes GC_N from 1000 on */
    long need_b = (long)to.seeds * batch, need_gc = 1000 + (long)to.seeds * GC_N;
    if (gd_images_require(&train, val_size + (need_b > need_gc ? need_b : need_gc), "the training set",
                          "--val-size + the batches of --seeds (--batch each, and 1000 + 4 each for the gradient check)") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to.data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    int *tidx = malloc((size_t)train.n * sizeof *tidx), *vidx = malloc((size_t)train.n * sizeof *vidx);
    int maxb = 256 > batch ? 256 : (int)batch;
    float *X = malloc((size_t)maxb * 784 * sizeof *X);
    int *y = malloc((size_t)maxb * sizeof *y);
    if (!tidx || !vidx || !X || !y || gd_split(tidx, vidx, train.n, (int)val_size, 0) != 0) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    double lnC = log((double)GD_FMNIST_CLASSES);
    int N = (int)to.seeds;
    double init[MAX_SEEDS], bad[MAX_SEEDS], ofl[MAX_SEEDS], ofs[MAX_SEEDS], gce[MAX_SEEDS], gcb[MAX_SEEDS];
    for (int s = 0; s < N; s++) {
        uint64_t seed = to.seed + (uint64_t)s;
        gd_mlp m;
        if (gd_mlp_init(&m, nl, dims, GD_ACT_RELU, maxb, seed) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        /* 1. loss at initialisation, then with every weight (not bias) times bad_scale */
        init[s] = mean_loss(&m, &train, vidx, (int)val_size, X, y);
        for (int p = 0; p < m.nparams; p += 2)
            for (size_t i = 0; i < m.params[p].value->size; i++) m.params[p].value->data[i] *= (float)bad_scale;
        bad[s] = mean_loss(&m, &train, vidx, (int)val_size, X, y);
        gd_mlp_free(&m);
        /* 2. overfit one batch: the first `batch` images of the training part, from fresh weights */
        if (gd_mlp_init(&m, nl, dims, GD_ACT_RELU, maxb, seed) != 0) return 1;
        gd_hparams hp = gd_optim_defaults(GD_ADAM);   /* lr 1e-3 */
        gd_optim *opt = gd_optim_new(GD_ADAM, &hp);
        if (!opt || gd_optim_add_group(opt, m.params, m.nparams, NULL) < 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_images_batch(X, y, &train, tidx + s * batch, (int)batch);   /* another batch per seed */
        ofs[s] = NAN;
        double loss = NAN;
        for (long t = 0; t < overfit_steps; t++) {
            gd_optim_zero_grad(opt);
            loss = gd_mlp_loss(&m, X, y, (int)batch);
            if (isnan(ofs[s]) && loss < target) ofs[s] = (double)t;   /* loss of the weights after t updates */
            gd_mlp_backward(&m, y, (int)batch);
            gd_optim_step(opt);
        }
        ofl[s] = gd_mlp_loss(&m, X, y, (int)batch);
        if (isnan(ofs[s]) && ofl[s] < target) ofs[s] = (double)overfit_steps;
        gd_optim_free(opt);
        gd_mlp_free(&m);
        /* 3. gradient check on 4 images, tanh, then the bug: the gradient GC_N times too large */
        if (gd_mlp_init(&m, gnl, gdims, GD_ACT_TANH, GC_N, seed) != 0) return 1;
        gd_images_batch(X, y, &train, tidx + 1000 + s * GC_N, GC_N);
        gce[s] = gradcheck_all(&m, X, y, GC_N, 1.0f);
        gcb[s] = gradcheck_all(&m, X, y, GC_N, (float)GC_N);
        gd_mlp_free(&m);
        printf("seed %llu: init loss %.4f (ln C %.4f), x%g init %.3g, overfit %s after %g steps (last %.2g), "
               "gradcheck %.2g (bug %.2g)\n",
               (unsigned long long)seed, init[s], lnC, bad_scale, bad[s], isnan(ofs[s]) ? "not done" : "done",
               ofs[s], ofl[s], gce[s], gcb[s]);
    }
    if (out) {
        gd_table *t = gd_table_open(out, "seed init_loss bad_init_loss overfit_step overfit_loss gc_err gc_err_bug");
        if (!t) {
            fprintf(stderr, "%s: --out: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_table_meta(t, "dims", "%s (checks 1, 2), %s tanh (check 3)", to.dims, gc_dims);
        gd_table_meta(t, "ln_C", "%.6f", lnC);
        for (int s = 0; s < N; s++)
            gd_table_row(t, "%llu %.6f %.6g %g %.6g %.4g %.4g", (unsigned long long)(to.seed + (uint64_t)s), init[s],
                         bad[s], ofs[s], ofl[s], gce[s], gcb[s]);
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: --out: %s\n", gd_prog(), gd_error());
            return 1;
        }
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) {
            fprintf(stderr, "%s: --numbers: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_table_meta(t, "program", "ch08-sanity");
        gd_stats si = gd_stats_of(init, N), sb = gd_stats_of(bad, N), so = gd_stats_of(ofs, N);
        gd_stats sl = gd_stats_of(ofl, N), ge = gd_stats_of(gce, N), gb = gd_stats_of(gcb, N);
        kv(t, "seeds", "%d", N);
        kv(t, "dims", "%s", to.dims);
        kv(t, "gc_dims", "%s", gc_dims);
        kv(t, "lnC", "%.4f", lnC);
        kv(t, "init_med", "%.3f", si.median);
        kv(t, "init_lo", "%.3f", si.min);
        kv(t, "init_hi", "%.3f", si.max);
        kv(t, "init_dev", "%.3f", fmax(fabs(si.min - lnC), fabs(si.max - lnC)));
        kv(t, "bad_scale", "%g", bad_scale);
        kv(t, "bad_med", "%.1f", sb.median);
        kv(t, "bad_lo", "%.1f", sb.min);
        kv(t, "batch", "%ld", batch);
        kv(t, "overfit_steps", "%ld", overfit_steps);
        kv(t, "overfit_target", "%g", target);
        kv(t, "overfit_k", "%d of %d", so.n, N);
        kv(t, "overfit_step_med", "%.0f", so.median);
        kv(t, "overfit_step_hi", "%.0f", so.max);
        kv(t, "overfit_last_hi", "%.1e", sl.max);
        kv(t, "gc_max", "%.1e", ge.max);
        kv(t, "gc_bug_min", "%.2f", gb.min);
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: --numbers: %s\n", gd_prog(), gd_error());
            return 1;
        }
    }
    free(tidx), free(vidx), free(X), free(y);
    gd_images_free(&train), gd_images_free(&test);
    return 0;
}

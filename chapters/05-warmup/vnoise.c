/* vnoise.c -- how noisy Adam's second-moment estimate v_hat is in the first steps,
 * Chapter 5.
 *
 * Adam divides by sqrt(v_hat), where v = beta2 v + (1 - beta2) g^2 and
 * v_hat_t = v_t / (1 - beta2^t) is a weighted average of the squared minibatch gradients
 * seen so far. Early on it averages only a few of them: its effective number of samples
 * (sum w)^2 / sum w^2 is
 *     n_eff(t) = (1 + beta2)/(1 - beta2) * (1 - beta2^t)/(1 + beta2^t),
 * about t at first and (1 + beta2)/(1 - beta2) ~ 2/(1 - beta2) in the end.
 *
 * To measure the noise alone, the weights are frozen at their initial values (no
 * training) and the program computes minibatch gradients there: a reference second
 * moment v* from --ref batches, and, from further batches, the running v_hat_t for each
 * beta2 of --beta2 (every batch's images drawn at random from the 60000 training
 * images, so that reference and stream estimate the same E[g^2]). For coordinates whose gradient is nonzero in every reference batch
 * it writes the root-mean-square relative error sqrt(mean (v_hat/v* - 1)^2) per step,
 * and the prediction sqrt(mean CV^2 (1/n_eff(t) + 1/n_ref)), where CV^2 = Var(g^2) /
 * E[g^2]^2 per coordinate, estimated from the reference batches (the variance of a
 * weighted average of independent samples, plus the reference's own noise).
 * Leaves out: training (the drift of the weights is a second, separate reason why
 * v_hat lags), the first moment m.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BETAS 8

/* Effective number of squared gradients in v_hat_t: (sum w)^2 / sum w^2. */
static double n_eff(double beta2, long t) {
    double bt = pow(beta2, (double)t);
    return (1 + beta2) / (1 - beta2) * (1 - bt) / (1 + bt);
}

/* The gradient of the mean loss on images idx[0..B) at the model's weights, into g
 * (numel floats, the parameters one after another). */
static void batch_grad(float *g, gd_mlp *m, float *X, int *y, const gd_images *ds, const int *idx, int B) {
    gd_mlp_zero_grad(m);
    gd_images_batch(X, y, ds, idx, B);
    gd_mlp_loss(m, X, y, B);
    gd_mlp_backward(m, y, B);
    size_t off = 0;
    for (int p = 0; p < m->nparams; p++) {
        memcpy(g + off, m->params[p].grad->data, m->params[p].grad->size * sizeof *g);
        off += m->params[p].grad->size;
    }
}

int main(int argc, char **argv) {
    const char *dims_s = "784-256-256-10", *data = NULL, *out = NULL, *numbers = NULL;
    long steps = 500, batch = 128, nref = 234;
    uint64_t seed = 0;
    gd_floats betas = {3, {0.9, 0.99, 0.999}};
    gd_opt opts[] = {
        GD_OPT_STRING("dims", &dims_s, "layer sizes of the MLP"),
        GD_OPT_FLOATS("beta2", &betas, "Adam's beta2 values to follow", 0, 0.999999, 1),
        GD_OPT_INT("steps", &steps, "minibatch gradients fed to v_hat", 1, 1000000),
        GD_OPT_INT("batch-size", &batch, "minibatch size", 1, 60000),
        GD_OPT_INT("ref", &nref, "reference batches, for v*", 2, 100000),
        GD_OPT_SEED("seed", &seed, "initial weights and batch draws"),
        GD_OPT_STRING("data", &data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_OUT("out", &out, "write the measured and predicted error of v_hat per step"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The noise of Adam's second-moment estimate v_hat in the first steps, at frozen "
                          "initial weights on Fashion-MNIST (Chapter 5).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    int dims[GD_TRAIN_MAXLAYERS + 1];
    int nlayers = gd_parse_dims(dims_s, dims, GD_TRAIN_MAXLAYERS);
    if (nlayers < 0) {
        fprintf(stderr, "%s: --dims: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (dims[0] != 784 || dims[nlayers] != GD_FMNIST_CLASSES) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--dims: must start at 784 and end at %d, got '%s'", GD_FMNIST_CLASSES, dims_s);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (betas.n > MAX_BETAS) {
        fprintf(stderr, "%s: --beta2: at most %d values, got %d\n", gd_prog(), MAX_BETAS, betas.n);
        return 2;
    }

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data) != 0) { /* 28x28 images only: dims[0] = 784 = train.dim */
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_images_free(&test);      /* not used */
    /* a minibatch is --batch-size images of the set (drawn with replacement, but a set
     * smaller than one batch is not the noise this program measures) */
    if (gd_train_opts_require(data, &train, batch, "the training set", "a minibatch (--batch-size)") != 0) {
        gd_images_free(&train);
        return 2;
    }
    gd_mlp m;
    if (gd_mlp_init(&m, nlayers, dims, GD_ACT_RELU, (int)batch, seed) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    size_t n = gd_mlp_numel(&m);
    float *g = malloc(n * sizeof *g), *X = malloc((size_t)batch * dims[0] * sizeof *X);
    int *y = malloc((size_t)batch * sizeof *y), *idx = malloc((size_t)batch * sizeof *idx);
    double *s2 = calloc(n, sizeof *s2), *s4 = calloc(n, sizeof *s4);   /* sum g^2, sum g^4 */
    long *nonzero = calloc(n, sizeof *nonzero);
    double *v = calloc(n * (size_t)betas.n, sizeof *v);                 /* (betas, n) */
    if (!g || !X || !y || !idx || !s2 || !s4 || !nonzero || !v) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    gd_rng rng;
    gd_rng_seed(&rng, seed ^ 0x766e6f697365ull);

    /* The reference: nref batches drawn at random from the training images. */
    for (long b = 0; b < nref; b++) {
        for (int i = 0; i < batch; i++) idx[i] = (int)gd_rng_below(&rng, (uint64_t)train.n);
        batch_grad(g, &m, X, y, &train, idx, (int)batch);
        for (size_t j = 0; j < n; j++) {
            double q = (double)g[j] * g[j];
            s2[j] += q, s4[j] += q * q, nonzero[j] += g[j] != 0.0f;
        }
    }
    /* CV^2 = Var(g^2) / E[g^2]^2 per coordinate, over coordinates with a gradient in
     * every reference batch; the mean of CV^2 sets the prediction. */
    size_t ncoord = 0;
    double cv2_sum = 0;
    unsigned char *use = calloc(n, 1);
    if (!use) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    for (size_t j = 0; j < n; j++) {
        if (nonzero[j] != nref) continue;
        double mean2 = s2[j] / nref, var2 = s4[j] / nref - mean2 * mean2;
        use[j] = 1;
        ncoord++;
        cv2_sum += var2 / (mean2 * mean2) * nref / (nref - 1); /* unbiased variance */
        s2[j] = mean2;                                             /* now v* */
    }
    double cv2 = cv2_sum / ncoord;

    gd_table *t = NULL;
    char columns[512] = "step";
    for (int k = 0; k < betas.n; k++) {
        size_t len = strlen(columns);
        snprintf(columns + len, sizeof columns - len, " rms_%g pred_%g neff_%g", betas.v[k], betas.v[k], betas.v[k]);
    }
    if (out && !(t = gd_table_open(out, columns))) goto io_error;
    if (t) {
        gd_table_meta(t, "program", "ch05-vnoise");
        gd_table_meta(t, "model", "MLP %s at its initial weights (seed %llu), batch %ld", dims_s,
                      (unsigned long long)seed, batch);
        gd_table_meta(t, "reference", "v* from %ld batches; %zu of %zu coordinates have a "
                                      "gradient in every one; mean CV^2 = %.4f", nref, ncoord, n, cv2);
        gd_table_meta(t, "measured", "rms_B = sqrt(mean (v_hat/v* - 1)^2) for beta2 = B; every batch drawn at "
                                     "random from the training images");
        gd_table_meta(t, "predicted", "pred_B = sqrt(mean CV^2 (1/neff_B + 1/n_ref)), neff = (1+B)/(1-B) (1-B^t)/(1+B^t)");
    }

    double rms_at[MAX_BETAS][4], pred_at[MAX_BETAS][4];
    long at_steps[4] = {1, 10, 100, steps};
    printf("%-6s", "step");
    for (int k = 0; k < betas.n; k++) printf(" rms(b2=%-6g) pred(b2=%-5g)", betas.v[k], betas.v[k]);
    printf("\n");
    for (long s = 1; s <= steps; s++) {
        for (int b = 0; b < batch; b++) idx[b] = (int)gd_rng_below(&rng, (uint64_t)train.n);
        batch_grad(g, &m, X, y, &train, idx, (int)batch);
        char row[1024];
        int len = snprintf(row, sizeof row, "%ld", s);
        int print = s == 1 || s == 10 || s == 100 || s == steps;
        if (print) printf("%-6ld", s);
        for (int k = 0; k < betas.n; k++) {
            double b2 = betas.v[k], bc = 1 - pow(b2, (double)s), err2 = 0;
            double *vk = v + (size_t)k * n;
            for (size_t j = 0; j < n; j++) {
                vk[j] = b2 * vk[j] + (1 - b2) * (double)g[j] * g[j]; /* v = beta2 v + (1 - beta2) g^2 */
                if (!use[j]) continue;
                double e = vk[j] / bc / s2[j] - 1;                     /* v_hat / v* - 1 */
                err2 += e * e;
            }
            double ne = n_eff(b2, s), rms = sqrt(err2 / ncoord), pred = sqrt(cv2 * (1 / ne + 1.0 / nref));
            if (len < (int)sizeof row - 64) len += snprintf(row + len, sizeof row - len, " %.5g %.5g %.5g", rms, pred, ne);
            for (int q = 0; q < 4; q++)
                if (s == at_steps[q]) rms_at[k][q] = rms, pred_at[k][q] = pred;
            if (print) printf(" %-14.4f %-14.4f", rms, pred);
        }
        if (print) printf("\n");
        if (t) gd_table_row(t, "%s", row);
    }
    if (t) {
        int e = gd_table_close(t);
        t = NULL;
        if (e) goto io_error;
    }
    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch05-vnoise");
        gd_table_kv(nt, "vn_steps", "%ld", steps);
        gd_table_kv(nt, "vn_ref", "%ld", nref);
        gd_table_kv(nt, "vn_coords", "%.0f%%", 100.0 * ncoord / n);
        gd_table_kv(nt, "vn_cv", "%.2f", sqrt(cv2));
        for (int k = 0; k < betas.n; k++) {
            char key[64];
            /* keys by beta2's digits: 0.999 -> b999 */
            char b[32];
            snprintf(b, sizeof b, "%g", betas.v[k]);
            const char *digits = strchr(b, '.') ? strchr(b, '.') + 1 : b;
#define KV(name, fmt, value) (snprintf(key, sizeof key, "vn_b%s_" name, digits), gd_table_kv(nt, key, fmt, value))
            KV("limit", "%.0f", (1 + betas.v[k]) / (1 - betas.v[k]));
            KV("rule", "%.0f", 2 / (1 - betas.v[k]));
            KV("half", "%.0f", log(3.0) / (1 - betas.v[k]));
            /* after a warmup of 2/(1 - beta2) steps v_hat averages this many squares */
            KV("neff_rule", "%.0f", n_eff(betas.v[k], (long)round(2 / (1 - betas.v[k]))));
            KV("neff_rule_frac", "%.0f%%", 100 * n_eff(betas.v[k], (long)round(2 / (1 - betas.v[k]))) /
                                               ((1 + betas.v[k]) / (1 - betas.v[k])));
            KV("rms1", "%.2f", rms_at[k][0]);
            KV("rms10", "%.2f", rms_at[k][1]);
            KV("rms100", "%.2f", rms_at[k][2]);
            KV("rms_last", "%.2f", rms_at[k][3]);
            KV("pred1", "%.2f", pred_at[k][0]);
            KV("pred10", "%.2f", pred_at[k][1]);
            KV("pred100", "%.2f", pred_at[k][2]);
            KV("pred_last", "%.2f", pred_at[k][3]);
#undef KV
        }
        if (gd_table_close(nt) != 0) goto io_error;
    }
    free(g), free(X), free(y), free(idx), free(s2), free(s4), free(nonzero), free(v), free(use);
    gd_mlp_free(&m);
    gd_images_free(&train);
    gd_images_free(&test);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    return 1;
}

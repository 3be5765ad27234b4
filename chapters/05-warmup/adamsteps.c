/* adamsteps.c -- how large Adam's updates are, coordinate by coordinate, in the first
 * steps of a real run, Chapter 5.
 *
 * Adam's update is lr * m_hat / (sqrt(v_hat) + eps). At step 1, m_hat = g and
 * v_hat = g^2, so every coordinate with a gradient moves by lr * |g| / (|g| + eps),
 * that is by lr (up to eps), whatever the size of its gradient: the first update is
 * lr * sign(g). Later the gradients' signs disagree from step to step, m_hat averages
 * them out while v_hat does not, and the updates shrink below lr.
 *
 * The program trains an MLP on Fashion-MNIST with the trainer (one gd_trainer_step at a
 * time), copies the weights before each step and measures w_new - w_old for every
 * coordinate: quantiles of |update| / lr at every step (--out), their distribution at a
 * few steps (--hist), each weight matrix's relative change |dW| / |W| (Frobenius), and
 * at step 1 how far every coordinate is from the formula lr |g| / (|g| + eps). The
 * quantiles at each step come from a fixed random sample of one coordinate in 16 (the
 * whole distribution at the --hist steps); the fraction at lr counts every coordinate.
 * Leaves out: the loss (see warmup.c), schedules (the lr is constant here).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |update| / lr on a log scale: 0.001-decade bins from 10^-6.05 to 10^0.95, so that
 * the 0.1-decade bins of --hist are centred on 1 (a step of exactly lr) */
#define LOG_LO (-6.05)
#define LOG_HI 0.95
#define NBINS 7000
#define COARSE 100 /* --hist merges 100 bins: 0.1 decade */
#define SAMPLE 16  /* the per-step quantiles use one coordinate in SAMPLE, chosen at random */

typedef struct {
    long count[NBINS];
    long n;
} histogram;

static void hist_add(histogram *h, double r) {
    int b = r > 0 ? (int)floor((log10(r) - LOG_LO) / (LOG_HI - LOG_LO) * NBINS) : 0;
    if (b < 0) b = 0;
    if (b >= NBINS) b = NBINS - 1;
    h->count[b]++;
    h->n++;
}

/* The q-quantile (0 < q < 1), read at the centre of its bin. */
static double hist_quantile(const histogram *h, double q) {
    long target = (long)ceil(q * h->n), seen = 0;
    for (int b = 0; b < NBINS; b++) {
        seen += h->count[b];
        if (seen >= target && seen > 0) return pow(10.0, LOG_LO + (b + 0.5) * (LOG_HI - LOG_LO) / NBINS);
    }
    return NAN;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-256-256-10";
    to.optim = "adam";
    const char *out = NULL, *hist_path = NULL, *numbers = NULL;
    long steps = 1000;
    uint64_t seed = 0;
    gd_floats hist_steps = {4, {1, 10, 100, 1000}};
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),   /* --sched is refused: the lr is constant here */
        GD_OPT_INT("steps", &steps, "updates to measure", 1, 1000000),
        GD_OPT_SEED("seed", &seed, "initial weights and data order (one run)"),
        GD_OPT_FLOATS("hist-steps", &hist_steps, "steps at which --hist records the distribution", 1, 1e6, 0),
        GD_OPT_OUT("out", &out, "write the quantiles of |update|/lr and each layer's relative change per step"),
        GD_OPT_OUT("hist", &hist_path, "write the distribution of |update|/lr at --hist-steps"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The size of every coordinate's update in the first steps of Adam (or any optimizer) "
                          "on Fashion-MNIST (Chapter 5).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    if (to.sched) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--sched: the lr is constant here (updates are measured in units of it), got '%s'", to.sched);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */
    const char *dims_s = to.dims;
    long batch = to.batch_size;
    for (int i = 0; i < hist_steps.n; i++)
        if (hist_steps.v[i] != floor(hist_steps.v[i])) {
            fprintf(stderr, "%s: --hist-steps: steps are whole numbers, got %g\n", gd_prog(), hist_steps.v[i]);
            return 2;
        }

    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* every update is measured on a full minibatch of --batch-size images */
    if (gd_train_opts_require(to.data, &train, batch, "the training set", "a minibatch (--batch-size)") != 0) {
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    cfg.seed = seed;
    cfg.train = &train;
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_mlp *m = &tr->model;
    size_t numel = gd_mlp_numel(m);
    float *prev = malloc(numel * sizeof *prev);        /* weights before the step */
    unsigned char *seen = calloc(numel, 1);            /* had a nonzero gradient so far */
    unsigned char *sampled = calloc(numel, 1);         /* in the quantiles' sample */
    histogram *h = malloc(sizeof *h);
    if (!prev || !seen || !sampled || !h) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    gd_rng rng;
    gd_rng_seed(&rng, seed ^ 0x73616d706c65ull);
    for (size_t j = 0; j < numel; j++) sampled[j] = gd_rng_below(&rng, SAMPLE) == 0;

    char canon[256], columns[512] = "step lr loss p10 median p90 frac_at_lr";
    gd_optim_format(canon, sizeof canon, kind, &hp);
    for (int l = 0; l < m->nlayers; l++) {
        size_t len = strlen(columns);
        snprintf(columns + len, sizeof columns - len, " rel_W%d", l + 1);
    }
    gd_table *ot = NULL, *ht = NULL;
    if (out && !(ot = gd_table_open(out, columns))) goto io_error;
    if (hist_path && !(ht = gd_table_open(hist_path, "step lo hi fraction"))) goto io_error;
    gd_table *tables[2] = {ot, ht};
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_meta(tables[i], "program", "ch05-adamsteps");
        gd_table_meta(tables[i], "model", "MLP %s, ReLU, batch %ld, seed %llu", dims_s, batch, (unsigned long long)seed);
        gd_table_meta(tables[i], "optim", "%s (constant lr)", canon);
        gd_table_meta(tables[i], "measured", "|w_new - w_old| / lr per coordinate, over coordinates that have had a "
                                              "nonzero gradient; rel_Wl = |dW|/|W| (Frobenius) of layer l");
    }

    /* what the chapter quotes */
    double s1_frac = NAN, s1_max_dev = 0, s1_zero_frac = NAN, s1_rel0 = NAN, last_rel0 = NAN;
    double med_at[4] = {NAN, NAN, NAN, NAN};
    long med_steps[4] = {1, 10, 100, steps};
    printf("%-6s %-10s %-9s %-9s %-9s %-10s %s\n", "step", "loss", "p10", "median", "p90", "frac_at_lr", "rel_W1");
    for (long t = 1; t <= steps; t++) {
        size_t off = 0;
        for (int p = 0; p < m->nparams; p++) {
            memcpy(prev + off, m->params[p].value->data, m->params[p].value->size * sizeof *prev);
            off += m->params[p].value->size;
        }
        double loss = gd_trainer_step(tr);
        double lr = gd_optim_lr(tr->opt, 0);
        memset(h, 0, sizeof *h);
        int full = 0; /* the whole distribution at the --hist-steps, a sample otherwise */
        for (int k = 0; k < hist_steps.n; k++) full |= (long)hist_steps.v[k] == t;
        long at_lr = 0, zero_grad = 0, nseen = 0;
        double rel[GD_TRAIN_MAXLAYERS] = {0};
        off = 0;
        for (int p = 0; p < m->nparams; p++) {
            const float *w = m->params[p].value->data, *g = m->params[p].grad->data;
            size_t n = m->params[p].value->size;
            double dw2 = 0, w2 = 0;
            for (size_t j = 0; j < n; j++) {
                double d = (double)w[j] - (double)prev[off + j];
                dw2 += d * d;
                w2 += (double)prev[off + j] * prev[off + j];
                if (g[j] != 0.0f) seen[off + j] = 1;
                if (!seen[off + j]) {
                    zero_grad++;
                    continue;
                }
                // region step1
                double r = fabs(d) / lr;                 /* d = w_new - w_old */
                if (t == 1) {
                    /* m_hat = g, v_hat = g^2: |update| = lr |g| / (|g| + eps) = lr, up to eps */
                    double ag = fabs((double)g[j]), expect = ag / (ag + hp.eps);
                    s1_max_dev = fmax(s1_max_dev, fabs(r - expect));
                }
                // endregion step1
                if (full || sampled[off + j]) hist_add(h, r);
                at_lr += fabs(r - 1.0) < 0.01;
                nseen++;
            }
            if (p % 2 == 0) rel[p / 2] = sqrt(dw2 / w2); /* params: weight, bias, weight, ... */
            off += n;
        }
        double q10 = hist_quantile(h, 0.1), q50 = hist_quantile(h, 0.5), q90 = hist_quantile(h, 0.9);
        double frac = nseen ? (double)at_lr / nseen : NAN;
        if (t == 1) {
            s1_frac = frac;
            s1_zero_frac = (double)zero_grad / numel;
            s1_rel0 = rel[0];
        }
        last_rel0 = rel[0];
        for (int k = 0; k < 4; k++)
            if (t == med_steps[k]) med_at[k] = q50;
        if (ot) {
            char row[1024];
            int len = snprintf(row, sizeof row, "%ld %.6g %.6f %.5g %.5g %.5g %.6f", t, lr, loss, q10, q50, q90, frac);
            for (int l = 0; l < m->nlayers && len < (int)sizeof row - 32; l++)
                len += snprintf(row + len, sizeof row - len, " %.5g", rel[l]);
            gd_table_row(ot, "%s", row);
        }
        if (ht)
            for (int k = 0; k < hist_steps.n; k++) {
                if ((long)hist_steps.v[k] != t) continue;
                for (int b = 0; b < NBINS; b += COARSE) {
                    long c = 0;
                    for (int i = b; i < b + COARSE; i++) c += h->count[i];
                    double lo = LOG_LO + b * (LOG_HI - LOG_LO) / NBINS, hi = LOG_LO + (b + COARSE) * (LOG_HI - LOG_LO) / NBINS;
                    gd_table_row(ht, "%ld %.4g %.4g %.6f", t, pow(10, lo), pow(10, hi), (double)c / h->n);
                }
                gd_table_block(ht);
            }
        if (t == 1 || t == 10 || t == 100 || t == steps || t % 1000 == 0)
            printf("%-6ld %-10.4f %-9.3g %-9.3g %-9.3g %-10.4f %.4g\n", t, loss, q10, q50, q90, frac, rel[0]);
    }
    if (ot) {
        int e = gd_table_close(ot);
        ot = NULL;
        if (e) goto io_error;
    }
    if (ht) {
        int e = gd_table_close(ht);
        ht = NULL;
        if (e) goto io_error;
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto io_error;
        gd_table_meta(t, "program", "ch05-adamsteps");
        gd_table_kv(t, "as_dims", "%s", dims_s);
        gd_table_kv(t, "as_lr", "%g", hp.lr);
        gd_table_kv(t, "as_eps", "%g", hp.eps);
        gd_table_kv(t, "as_steps", "%ld", steps);
        gd_table_kv(t, "as_numel", "%zu", numel);
        gd_table_kv(t, "as_s1_frac", "%.1f%%", 100 * s1_frac);
        gd_table_kv(t, "as_s1_zero", "%.1f%%", 100 * s1_zero_frac);
        gd_table_kv(t, "as_s1_max_dev", "%.1e", s1_max_dev);
        gd_table_kv(t, "as_med10", "%.2f", med_at[1]);
        gd_table_kv(t, "as_med100", "%.2f", med_at[2]);
        gd_table_kv(t, "as_med_last", "%.2f", med_at[3]);
        gd_table_kv(t, "as_s1_rel", "%.3f", s1_rel0);
        gd_table_kv(t, "as_s1_rel_theory", "%.3f", hp.lr * sqrt(3.0 * cfg.dims[0]));
        gd_table_kv(t, "as_last_rel", "%.4f", last_rel0);
        gd_table_kv(t, "as_D", "%d", cfg.dims[0]);
        if (gd_table_close(t) != 0) goto io_error;
    }
    free(prev), free(seen), free(sampled), free(h);
    gd_trainer_free(tr);
    gd_images_free(&train);
    gd_images_free(&test);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (ot) gd_table_abort(ot);
    if (ht) gd_table_abort(ht);
    return 1;
}

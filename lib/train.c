/* train.c -- the shared training loop; see train.h. */
#include "train.h"
#include "err.h"
#include "layers.h"
#include "tensor.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GD__EVAL_BATCH 1000

void gd_blas_threads(int n) { openblas_set_num_threads(n); }

gd_train_cfg gd_train_defaults(void) {
    gd_train_cfg c;
    memset(&c, 0, sizeof c);
    c.nlayers = 2;
    c.dims[0] = 784, c.dims[1] = 128, c.dims[2] = 10;
    c.act = GD_ACT_RELU;
    c.optim = "sgd:lr=0.1";
    c.batch_size = 128;
    c.epochs = 1;
    c.log_every = 50;
    c.diverge_factor = 10.0;
    c.label = "train";
    c.collapse_window = 50;
    return c;
}

int gd_parse_dims(const char *s, int *dims, int max_layers) {
    int n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        /* digits only: strtol would also take a sign, leading space and 0x */
        long v = *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : (end = (char *)p, 0);
        if (end == p || errno || v < 1 || v > 1000000)
            return gd_seterr("'%s' is not a list of layer sizes like 784-128-10", s);
        if (n > max_layers) return gd_seterr("'%s': more than %d layers", s, max_layers);
        dims[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != '-') return gd_seterr("'%s' is not a list of layer sizes like 784-128-10", s);
        p = end + 1;
    }
    if (n < 2) return gd_seterr("'%s': need at least an input and an output size", s);
    return n - 1;
}

static gd_trainer *gd__trainer_new(const gd_train_cfg *cfg, int mlp);

int gd_train_model_is_mlp(const char *spec) {
    if (!spec || strcmp(spec, "mlp") == 0) return 1;
    gd_lenet_arch a;
    if (strncmp(spec, "lenet", 5) == 0) return gd_lenet_parse(spec, &a) == 0 ? 0 : -1;
    return gd_seterr("unknown model '%s' (mlp, lenet, lenet:act=relu:pool=max)", spec);
}

/* The model's pieces, whichever it is. */
static int gd__classes(const gd_trainer *tr) {
    return tr->lenet ? GD_LENET_CLASSES : tr->cfg.dims[tr->cfg.nlayers];
}
static const float *gd__logits(const gd_trainer *tr) {
    return tr->lenet ? tr->lenet->logits : tr->model.out[tr->model.nlayers - 1];
}
static const float *gd__probs(const gd_trainer *tr) { return tr->lenet ? tr->lenet->probs : tr->model.probs; }
static double gd__loss(gd_trainer *tr, const float *X, const int *y, int B) {
    return tr->lenet ? gd_lenet_loss(tr->lenet, X, y, B) : gd_mlp_loss(&tr->model, X, y, B);
}

/* LeNet in tr->lenet, and tr->model a view of its parameters (train.h). */
static int gd__lenet_new(gd_trainer *tr, const gd_train_cfg *cfg) {
    gd_lenet_arch a;
    if (gd_lenet_parse(cfg->model, &a) != 0) return -1;
    if (cfg->train->rows != GD_LENET_SIDE || cfg->train->cols != GD_LENET_SIDE)
        return gd_seterr("trainer: LeNet takes %dx%d images, these are %dx%d", GD_LENET_SIDE, GD_LENET_SIDE,
                         cfg->train->rows, cfg->train->cols);
    if (!(tr->lenet = malloc(sizeof *tr->lenet))) return gd_seterr("trainer: out of memory");
    if (gd_lenet_init(tr->lenet, &a, tr->max_batch, cfg->seed) != 0) {
        free(tr->lenet);
        tr->lenet = NULL;
        return -1;
    }
    tr->model.nparams = tr->lenet->nparams;
    tr->model.params = tr->lenet->params;
    return 0;
}

gd_trainer *gd_trainer_new(const gd_train_cfg *cfg) {
    if (!cfg->train) return gd_seterr("trainer: no training images"), NULL;
    if (cfg->batch_size < 1) return gd_seterr("trainer: batch size %d (must be >= 1)", cfg->batch_size), NULL;
    if (!(cfg->epochs > 0)) return gd_seterr("trainer: epochs must be > 0"), NULL;
    int mlp = gd_train_model_is_mlp(cfg->model);
    if (mlp < 0) return NULL;
    if (!mlp) return gd__trainer_new(cfg, 0);
    if (cfg->nlayers < 1 || cfg->nlayers > GD_TRAIN_MAXLAYERS)
        return gd_seterr("trainer: %d layers (1 to %d)", cfg->nlayers, GD_TRAIN_MAXLAYERS), NULL;
    if (cfg->dims[0] != cfg->train->dim)
        return gd_seterr("trainer: the model takes %d inputs but the images have %d pixels", cfg->dims[0],
                         cfg->train->dim), NULL;
    if (cfg->dims[cfg->nlayers] != GD_FMNIST_CLASSES)
        return gd_seterr("trainer: the model has %d outputs, the data %d classes", cfg->dims[cfg->nlayers],
                         GD_FMNIST_CLASSES), NULL;
    return gd__trainer_new(cfg, 1);
}

static gd_trainer *gd__trainer_new(const gd_train_cfg *cfg, int mlp) {
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(cfg->optim, &kind, &hp) != 0) return NULL;

    gd_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return gd_seterr("trainer: out of memory"), NULL;
    tr->cfg = *cfg;
    tr->lr_scale = 1.0;
    tr->n_train = cfg->n_train > 0 ? cfg->n_train : cfg->train->n;
    if (cfg->train_idx == NULL && tr->n_train > cfg->train->n) tr->n_train = cfg->train->n;
    tr->steps_per_epoch = (tr->n_train + cfg->batch_size - 1) / cfg->batch_size;
    tr->max_batch = cfg->batch_size > GD__EVAL_BATCH ? cfg->batch_size : GD__EVAL_BATCH;
    if (cfg->sched && !(tr->sched = gd_sched_parse(cfg->sched))) goto fail;
    if (mlp ? gd_mlp_init(&tr->model, cfg->nlayers, cfg->dims, cfg->act, tr->max_batch, cfg->seed) != 0
            : gd__lenet_new(tr, cfg) != 0)
        goto fail;
    if (!(tr->opt = gd_optim_new(kind, &hp))) goto fail;
    /* one group, as torch.optim.X(model.parameters()) */
    if (gd_optim_add_group(tr->opt, tr->model.params, tr->model.nparams, NULL) < 0) goto fail;
    tr->order = malloc((size_t)tr->n_train * sizeof *tr->order);
    tr->X = malloc((size_t)tr->max_batch * cfg->train->dim * sizeof *tr->X);
    tr->y = malloc((size_t)tr->max_batch * sizeof *tr->y);
    if (cfg->collapse_window < 0) {
        gd_seterr("trainer: collapse window %d (must be >= 0)", cfg->collapse_window);
        goto fail;
    }
    if (cfg->collapse_window > 0 && !(tr->flat = calloc((size_t)cfg->collapse_window, 1))) {
        gd_seterr("trainer: out of memory");
        goto fail;
    }
    if (!tr->order || !tr->X || !tr->y) {
        gd_seterr("trainer: out of memory");
        goto fail;
    }
    for (int i = 0; i < tr->n_train; i++) tr->order[i] = cfg->train_idx ? cfg->train_idx[i] : i;
    /* the data order has its own stream, so that changing the model does not change it */
    gd_rng_seed(&tr->rng, cfg->seed ^ 0x6461746f72646572ull);
    gd_rng_shuffle(&tr->rng, tr->order, tr->n_train);
    return tr;
fail:
    gd_trainer_free(tr);
    return NULL;
}

void gd_trainer_free(gd_trainer *tr) {
    if (!tr) return;
    if (tr->lenet) {
        gd_lenet_free(tr->lenet);
        free(tr->lenet);
    } else {
        gd_mlp_free(&tr->model);
    }
    gd_optim_free(tr->opt);
    gd_sched_free(tr->sched);
    free(tr->order);
    free(tr->X);
    free(tr->y);
    free(tr->flat);
    free(tr);
}

/* Is the batch "flat": every logit the same for all B examples (train.h)? */
static int gd__flat(const float *z, int B, int K) {
    if (B < 2) return 0;
    for (int k = 0; k < K; k++) {
        float lo = z[k], hi = z[k];
        for (int i = 1; i < B; i++) {
            float v = z[(size_t)i * K + k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (!(hi - lo <= 1e-4f)) return 0;   /* max - min over the batch (NaN: not flat) */
    }
    return 1;
}

/* One more step into the collapse window. */
static void gd__flat_push(gd_trainer *tr, int flat) {
    int W = tr->cfg.collapse_window;
    if (W <= 0) return;
    if (tr->flat_n == W) tr->flat_count -= tr->flat[tr->flat_head];
    else tr->flat_n++;
    tr->flat[tr->flat_head] = (unsigned char)flat;
    tr->flat_count += flat;
    tr->flat_head = (tr->flat_head + 1) % W;
}

int gd_trainer_collapsed(const gd_trainer *tr) {
    int W = tr->cfg.collapse_window;
    // region collapse
    return W > 0 && tr->flat_n == W && 2 * tr->flat_count >= W;   /* at least half of the last W steps flat */
    // endregion collapse
}

int gd_trainer_flat_steps(const gd_trainer *tr) { return tr->flat_count; }

void gd_trainer_collapse_reset(gd_trainer *tr) {
    tr->flat_n = tr->flat_head = tr->flat_count = 0;
}

double gd_trainer_step(gd_trainer *tr) {
    const gd_train_cfg *c = &tr->cfg;
    if (tr->pos >= tr->n_train) {
        /* a new epoch: reshuffle (DataLoader(shuffle=True), drop_last=False) */
        gd_rng_shuffle(&tr->rng, tr->order, tr->n_train);
        tr->pos = 0;
        tr->epoch++;
    }
    int B = c->batch_size < tr->n_train - tr->pos ? c->batch_size : tr->n_train - tr->pos;
    gd_images_batch(tr->X, tr->y, c->train, tr->order + tr->pos, B);
    tr->pos += B;
    if (tr->sched) gd_sched_apply(tr->sched, c->sched_per_epoch ? tr->epoch : tr->step, tr->opt);
    if (tr->lr_scale != 1.0)   /* lr = schedule's lr (or the initial lr) * lr_scale */
        for (int g = 0; g < gd_optim_ngroups(tr->opt); g++)
            gd_optim_set_lr(tr->opt, g, (tr->sched ? gd_optim_lr(tr->opt, g) : gd_optim_initial_lr(tr->opt, g)) *
                                            tr->lr_scale);
    gd_optim_zero_grad(tr->opt);
    double loss = gd__loss(tr, tr->X, tr->y, B);
    if (c->collapse_window > 0)   /* does the output still depend on the input? (train.h) */
        gd__flat_push(tr, gd__flat(gd__logits(tr), B, gd__classes(tr)));
    if (tr->lenet) gd_lenet_backward(tr->lenet, tr->y, B);
    else gd_mlp_backward(&tr->model, tr->y, B);
    gd_optim_step(tr->opt);
    tr->step++;
    return loss;
}

#define GD__ECE_BINS 15

void gd_trainer_eval(gd_trainer *tr, const gd_images *ds, const int *idx, int n, double *loss, double *acc) {
    gd_trainer_eval_ece(tr, ds, idx, n, loss, acc, NULL);
}

void gd_trainer_eval_ece(gd_trainer *tr, const gd_images *ds, const int *idx, int n, double *loss, double *acc,
                         double *ece) {
    if (n <= 0) n = ds->n;
    double total = 0.0;
    long correct = 0;
    int K = gd__classes(tr);
    /* ECE (Guo et al. 2017): per confidence bin ((b-1)/15, b/15], images, correct ones, summed confidence */
    long bin_n[GD__ECE_BINS] = {0}, bin_correct[GD__ECE_BINS] = {0};
    double bin_conf[GD__ECE_BINS] = {0};
    int *seq = NULL;
    for (int i = 0; i < n; i += tr->max_batch) {
        int B = n - i < tr->max_batch ? n - i : tr->max_batch;
        if (idx) {
            gd_images_batch(tr->X, tr->y, ds, idx + i, B);
        } else {
            /* consecutive images: an index list made on the fly */
            if (!seq) seq = malloc((size_t)tr->max_batch * sizeof *seq);
            for (int b = 0; b < B; b++) seq[b] = i + b;
            gd_images_batch(tr->X, tr->y, ds, seq, B);
        }
        total += gd__loss(tr, tr->X, tr->y, B) * B;
        correct += gd_count_correct(gd__logits(tr), tr->y, B, K);
        if (ece)
            for (int b = 0; b < B; b++) {
                const float *p = gd__probs(tr) + (size_t)b * K, *z = gd__logits(tr) + (size_t)b * K;
                int arg = gd_argmax(z, K);   /* the predicted class, as gd_count_correct counts it */
                double conf = p[arg];
                int bin = (int)ceil(conf * GD__ECE_BINS) - 1;
                bin = bin < 0 ? 0 : bin >= GD__ECE_BINS ? GD__ECE_BINS - 1 : bin;
                bin_n[bin]++, bin_conf[bin] += conf, bin_correct[bin] += arg == tr->y[b];
            }
    }
    free(seq);
    *loss = total / n;
    *acc = (double)correct / n;
    if (ece) {
        double e = 0.0;   /* ECE = sum_b n_b/n |acc_b - conf_b| */
        for (int b = 0; b < GD__ECE_BINS; b++)
            if (bin_n[b]) e += fabs((double)bin_correct[b] - bin_conf[b]) / n;
        *ece = e;
    }
}

static double gd__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int gd__log_add(gd_train_log *log, gd_train_row row) {
    if (log->n == log->cap) {
        int cap = log->cap ? 2 * log->cap : 256;
        gd_train_row *rows = realloc(log->rows, (size_t)cap * sizeof *rows);
        if (!rows) return gd_seterr("trainer: out of memory for the log");
        log->rows = rows;
        log->cap = cap;
    }
    log->rows[log->n++] = row;
    return 0;
}

/* One progress line on stderr: rewritten in place on a terminal (5 times a second at
 * most), else a plain line every 10 s; the closing line only if the run was long. */
static void gd__progress(const gd_trainer *tr, long total, double loss, double t0, double *last, int done) {
    int tty = isatty(STDERR_FILENO);
    double now = gd__now(), elapsed = now - t0;
    if (done ? (!tty && elapsed < 10.0) : (now - *last < (tty ? 0.2 : 10.0))) return;
    *last = now;
    double left = tr->step > 0 ? elapsed * (double)(total - tr->step) / tr->step : 0.0;
    fprintf(stderr, "%s%s: step %ld/%ld (epoch %.1f), loss %.4f, %.0f s", tty ? "\r" : "", tr->cfg.label,
            tr->step, total, (double)tr->step / tr->steps_per_epoch, loss, elapsed);
    if (!done) fprintf(stderr, ", %.0f s left", left);
    fputs(tty && !done ? "   " : "\n", stderr);
}

int gd_trainer_run(gd_trainer *tr, gd_train_log *log) {
    const gd_train_cfg *c = &tr->cfg;
    memset(log, 0, sizeof *log);
    log->diverged_at = log->collapsed_at = -1;
    long total = (long)ceil(c->epochs * tr->steps_per_epoch);
    long eval_every = c->eval_every > 0 ? c->eval_every : tr->steps_per_epoch;
    int log_every = c->log_every > 0 ? c->log_every : 50;
    double t0 = gd__now(), last = t0, window = 0.0, first = NAN;
    int in_window = 0;
    while (tr->step < total) {
        double loss = gd_trainer_step(tr);
        /* the reference for divergence is the very first batch's loss: a blow-up in the
         * first steps must not become part of it (Adam without warmup spikes at step 2) */
        if (isnan(first)) first = loss;
        if (log->collapsed_at < 0 && gd_trainer_collapsed(tr)) log->collapsed_at = tr->step;   /* recorded, not stopped */
        window += loss;
        in_window++;
        int eval_now = (c->val || c->test) && (tr->step % eval_every == 0 || tr->step == total);
        if (tr->step % log_every == 0 || tr->step == total || eval_now || !isfinite(loss)) {
            gd_train_row row = {tr->step, (double)tr->step / tr->steps_per_epoch, gd_optim_lr(tr->opt, 0),
                                window / in_window, NAN, NAN, NAN, NAN, NAN};
            int diverged = !isfinite(row.train_loss) || row.train_loss > c->diverge_factor * first;
            if (eval_now && !diverged) {
                if (c->val) gd_trainer_eval(tr, c->val, c->val_idx, c->n_val, &row.val_loss, &row.val_acc);
                if (c->test) gd_trainer_eval_ece(tr, c->test, NULL, 0, &row.test_loss, &row.test_acc, &row.test_ece);
            }
            if (gd__log_add(log, row) != 0) return -1;
            window = 0.0;
            in_window = 0;
            if (diverged) {
                log->diverged_at = tr->step;
                break;
            }
            gd__progress(tr, total, row.train_loss, t0, &last, 0);
        }
    }
    log->steps = tr->step;
    log->seconds = gd__now() - t0;
    gd__progress(tr, total, log->n ? log->rows[log->n - 1].train_loss : NAN, t0, &last, 1);
    return 0;
}

void gd_train_log_free(gd_train_log *log) {
    free(log->rows);
    memset(log, 0, sizeof *log);
}

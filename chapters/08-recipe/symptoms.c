/* symptoms.c -- the symptom -> cause -> fix table of Chapter 8, each row a run.
 *
 * One --case at a time: the program trains the same small MLP on Fashion-MNIST twice
 * per seed, once with a setting that produces the symptom ("broken") and once with the
 * fix the chapter recommends ("fixed"), from the same seed (the same initial weights and
 * data order: paired runs). At every step it records the training loss, the gradient's
 * total norm (before clipping), and the update-to-weight ratio of the first layer's
 * weight ||dW|| / ||W|| (CS231n's "ratio of weights:updates", measured on the update the
 * optimizer actually made). Then it applies the case's detection rule to each run and
 * writes whether the symptom was seen, for both arms, as counts "k of N seeds".
 *
 * The cases, their settings and their rules are the table `cases` below; --help lists
 * them. --broken-optim, --fixed-sched, --fixed-clip, ... replace one arm's setting (the
 * chapter uses --fixed-clip to try a clip in place of a row's fix; --key keeps those
 * numbers apart). The loop is the trainer's (lib/train.c, gd_trainer_step) written out, so that
 * the gradient can be measured and clipped between backward and the update, as
 * torch.nn.utils.clip_grad_norm_ does:
 *     total = sqrt(sum over every parameter of g^2);  if total > max_norm: g *= max_norm / (total + 1e-6)
 * Leaves out: the collapse rule's bookkeeping across checkpoints (train.h), evaluations
 * during the run (one evaluation at the end, on held-out training images).
 */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include "gd.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 64
#define FLAT_TOL 1e-4 /* train.h's collapse rule: a batch is flat when max - min <= this per class */

/* One arm of a case: an optimizer, a schedule (NULL: constant), a clipping norm (0: none). */
typedef struct {
    const char *optim, *sched;
    double clip;
} arm;

typedef enum { RULE_NAN, RULE_STUCK, RULE_OSC, RULE_PLATEAU, RULE_CRAWL, RULE_SPIKES } rule_kind;

typedef struct {
    const char *name;
    const char *symptom, *cause, *rule, *fix;
    rule_kind kind;
    const char *dims;
    long steps;
    arm broken, fixed;
    long train_size;       /* training images (0: --train-size) */
} case_def;

/* The thresholds of the rules (the same for both arms of a case). */
#define DIVERGE_FACTOR 10.0   /* train.h's divergence rule: a window's loss > 10 x the first batch's */
#define STUCK_NATS 0.1        /* stuck: the last tenth's loss within 0.1 nats of ln C */
#define OSC_GAIN 0.0          /* oscillation: the last quarter's mean loss above the second quarter's */
#define PLATEAU_GAIN 0.10     /* plateau: the last quarter's mean loss < 10 % below the third quarter's */
#define CRAWL_RATIO 1e-3      /* crawl: median update-to-weight ratio < 1e-3 (CS231n's heuristic: ~1e-3) */
#define SPIKE_WINDOW 50       /* spikes: monitor.h's gd_spike, a loss > 3 x the median of the last 50 */
#define SPIKE_THRESHOLD 3.0

static const case_def cases[] = {
    {"nan", "the loss explodes (or is NaN)", "lr two decades above the stable range",
     "a 10-step mean loss not finite or above 10 x the first batch's (train.h's divergence rule)",
     "lr back to the sweep's range (/ 100)", RULE_NAN, "784-64-10", 300,
     {"sgd:lr=10:momentum=0.9", NULL, 0}, {"sgd:lr=0.1:momentum=0.9", NULL, 0}, 0},
    {"stuck", "the loss sits at ln C", "lr high enough that the first steps silence every ReLU unit",
     "the mean loss of the last tenth within 0.1 nats of ln C",
     "lr / 10", RULE_STUCK, "784-64-10", 300,
     {"sgd:lr=1:momentum=0.9", NULL, 0}, {"sgd:lr=0.1:momentum=0.9", NULL, 0}, 0},
    {"osc", "the loss bounces and drifts up", "lr just below the collapse",
     "the last quarter's mean loss above the second quarter's (the loss went back up)",
     "lr / 3", RULE_OSC, "784-64-10", 300,
     {"sgd:lr=0.3:momentum=0.9", NULL, 0}, {"sgd:lr=0.1:momentum=0.9", NULL, 0}, 0},
    {"plateau", "the loss stops falling", "a constant lr at its noise floor",
     "the last quarter's mean loss less than 10 % below the third quarter's",
     "decay the lr (cosine to 0)", RULE_PLATEAU, "784-64-10", 600,
     {"adam:lr=3e-2", NULL, 0}, {"adam:lr=3e-2", "cosine:T=600", 0}, 0},
    {"crawl", "the loss falls, but slowly", "lr far too low",
     "median update-to-weight ratio of the first layer over the second half below 1e-3 (CS231n's heuristic)",
     "lr x 30", RULE_CRAWL, "784-64-10", 300,
     {"sgd:lr=3e-3", NULL, 0}, {"sgd:lr=0.1", NULL, 0}, 0},
    {"spikes", "spikes late in the run", "Adam at a constant lr once the training loss is small",
     "a step's loss above 3 x the median of the last 50, in the second half of the run",
     "decay the lr (cosine to 0)", RULE_SPIKES, "784-64-10", 600,
     {"adam:lr=1e-2", NULL, 0}, {"adam:lr=1e-2", "cosine:T=600", 0}, 1000},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* What one run did. */
typedef struct {
    uint64_t seed;
    long steps;            /* steps done (fewer when the loss was not finite) */
    long diverged_at;      /* the divergence rule's step, or -1 */
    double first_loss;     /* the loss of the first batch (before any update) */
    double final_loss;     /* mean loss of the last tenth of the steps (NaN if diverged) */
    double swing;          /* std / mean of the 10-step mean losses of the second half */
    double gain;           /* (third quarter - last quarter) / third quarter, mean losses */
    double gain2;          /* (second quarter - last quarter) / second quarter, mean losses */
    double ratio_med;      /* median update-to-weight ratio of layer 0's weight, second half of the run */
    double gnorm_med;      /* median gradient norm */
    int late_spikes;       /* spikes in the second half */
    double clipped;        /* share of the steps whose gradient norm was above the clip (0 without one) */
    int flat;              /* the last batch's logits were flat (train.h's test) */
    double val_acc;        /* accuracy on the held-out images at the end (NaN if diverged) */
    int symptom;           /* the case's rule fired */
} run_result;

static double mean_range(const double *v, long a, long b) {
    double s = 0;
    for (long i = a; i < b; i++) s += v[i];
    return b > a ? s / (double)(b - a) : NAN;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, long n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ||v||_2 of n floats, accumulated in double. */
static double norm2(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

/* 1 if every class's logit is the same (within FLAT_TOL) for every row of logits (B, K). */
static int logits_flat(const float *logits, int B, int K) {
    if (B < 2) return 0;
    for (int k = 0; k < K; k++) {
        float lo = logits[k], hi = logits[k];
        for (int i = 1; i < B; i++) {
            float v = logits[(size_t)i * K + k];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (hi - lo > FLAT_TOL) return 0;
    }
    return 1;
}

/* One step of the trainer (lib/train.c, gd_trainer_step) with gradient clipping between
 * backward and the update. Returns the batch's loss; *gnorm gets the gradient's total
 * norm before clipping, *ratio layer 0's ||W_after - W_before|| / ||W_before||. */
static double step(gd_trainer *tr, double clip, float *w_before, double *gnorm, double *ratio, int *flat) {
    const gd_train_cfg *c = &tr->cfg;
    if (tr->pos >= tr->n_train) {   /* a new epoch: reshuffle */
        gd_rng_shuffle(&tr->rng, tr->order, tr->n_train);
        tr->pos = 0;
        tr->epoch++;
    }
    int B = c->batch_size < tr->n_train - tr->pos ? c->batch_size : tr->n_train - tr->pos;
    gd_images_batch(tr->X, tr->y, c->train, tr->order + tr->pos, B);
    tr->pos += B;
    if (tr->sched) gd_sched_apply(tr->sched, tr->step, tr->opt);
    gd_optim_zero_grad(tr->opt);
    double loss = gd_mlp_loss(&tr->model, tr->X, tr->y, B);
    gd_mlp *m = &tr->model;
    *flat = logits_flat(m->out[m->nlayers - 1], B, m->dims[m->nlayers]);
    gd_mlp_backward(m, tr->y, B);
    double total = 0;   /* total = sqrt(sum g^2) over every parameter (clip_grad_norm_'s norm_type 2) */
    for (int p = 0; p < m->nparams; p++) {
        double n = norm2(m->params[p].grad->data, m->params[p].grad->size);
        total += n * n;
    }
    total = sqrt(total);
    *gnorm = total;
    if (clip > 0 && total > clip) {   /* g *= max_norm / (total + 1e-6) */
        float coef = (float)(clip / (total + 1e-6));
        for (int p = 0; p < m->nparams; p++)
            for (size_t i = 0; i < m->params[p].grad->size; i++) m->params[p].grad->data[i] *= coef;
    }
    const gd_tensor *W = m->params[0].value;   /* "0.weight" (H1, D) */
    memcpy(w_before, W->data, W->size * sizeof *w_before);
    gd_optim_step(tr->opt);
    double du = 0;   /* ||W_after - W_before|| */
    for (size_t i = 0; i < W->size; i++) {
        double d = (double)W->data[i] - w_before[i];
        du += d * d;
    }
    double wn = norm2(w_before, W->size);
    *ratio = wn > 0 ? sqrt(du) / wn : NAN;
    tr->step++;
    return loss;
}

typedef struct {
    gd_table *curves;   /* may be NULL */
    const gd_images *train;
    const int *train_idx, *val_idx;
    int n_train, n_val;
    int batch;
} setup;

/* Train one arm of case cd from seed; fill r, write the curve. 0, or -1 (message printed). */
static int run_arm(const setup *su, const case_def *cd, const arm *a, const char *arm_name, uint64_t seed,
                   run_result *r) {
    gd_train_cfg cfg = gd_train_defaults();
    cfg.nlayers = gd_parse_dims(cd->dims, cfg.dims, GD_TRAIN_MAXLAYERS);
    cfg.optim = a->optim;
    cfg.sched = a->sched;
    cfg.batch_size = su->batch;
    cfg.seed = seed;
    cfg.train = su->train;
    cfg.train_idx = su->train_idx;
    cfg.n_train = su->n_train;
    cfg.collapse_window = 0;
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) {
        fprintf(stderr, "%s: case %s: %s\n", gd_prog(), cd->name, gd_error());
        return -1;
    }
    long T = cd->steps;
    double *loss = malloc((size_t)T * sizeof *loss), *ratio = malloc((size_t)T * sizeof *ratio);
    double *gn = malloc((size_t)T * sizeof *gn);
    float *wb = malloc(tr->model.params[0].value->size * sizeof *wb);
    gd_spike sp;
    if (!loss || !ratio || !gn || !wb || gd_spike_init(&sp, SPIKE_WINDOW, SPIKE_THRESHOLD) != 0) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        free(loss), free(ratio), free(gn), free(wb);
        gd_trainer_free(tr);
        return -1;
    }
    memset(r, 0, sizeof *r);
    r->seed = seed;
    r->diverged_at = -1;
    int flat = 0;
    long t = 0;
    double window = 0;
    for (; t < T; t++) {
        loss[t] = step(tr, a->clip, wb, &gn[t], &ratio[t], &flat);
        if (t == 0) r->first_loss = loss[t];
        int spiked = gd_spike_check(&sp, loss[t], NULL) && isfinite(loss[t]);   /* every step feeds the window */
        if (spiked && t >= T / 2) r->late_spikes++;
        window += loss[t];
        if ((t + 1) % 10 == 0) {   /* the divergence rule on 10-step windows */
            double wm = window / 10;
            if (r->diverged_at < 0 && (!isfinite(wm) || wm > DIVERGE_FACTOR * r->first_loss)) r->diverged_at = t + 1;
            window = 0;
        }
        if (su->curves)   /* loss10: the mean loss of the last 10 steps (fewer at the start) */
            gd_table_row(su->curves, "%s %s %llu %ld %.6g %.6g %.6g %.6g %.6g %d", cd->name, arm_name,
                         (unsigned long long)seed, t + 1, gd_optim_lr(tr->opt, 0), loss[t], gn[t], ratio[t],
                         mean_range(loss, t >= 9 ? t - 9 : 0, t + 1), spiked && t >= T / 2);
        if (!isfinite(loss[t])) {
            t++;
            break;
        }
    }
    if (su->curves) gd_table_block(su->curves);
    r->steps = t;
    r->flat = flat;
    if (t < T) {   /* stopped at a loss that was not finite */
        r->final_loss = r->swing = r->gain = r->gain2 = NAN;
        r->val_acc = NAN;
    } else {
        r->final_loss = mean_range(loss, T - T / 10, T);
        double q3 = mean_range(loss, T / 2, 3 * T / 4), q4 = mean_range(loss, 3 * T / 4, T);
        r->gain = (q3 - q4) / q3;
        double q2 = mean_range(loss, T / 4, T / 2);
        r->gain2 = (q2 - q4) / q2;
        double s1 = 0, s2 = 0;   /* the 10-step means of the second half: their std / their mean */
        long nw = 0;
        for (long s = T / 2; s + 10 <= T; s += 10, nw++) {
            double m = mean_range(loss, s, s + 10);
            s1 += m, s2 += m * m;
        }
        double mu = s1 / nw;
        r->swing = sqrt(fmax(0, s2 / nw - mu * mu)) / mu;
        double vl;
        gd_trainer_eval(tr, su->train, su->val_idx, su->n_val, &vl, &r->val_acc);
    }
    if (a->clip > 0) {
        long c = 0;
        for (long s = 0; s < t; s++) c += gn[s] > a->clip;
        r->clipped = t ? (double)c / t : 0;
    }
    long n = 0;   /* the ratio's median over the second half of the steps (after the first transient) */
    for (long s = T / 2; s < t; s++)
        if (isfinite(ratio[s])) ratio[n++] = ratio[s];
    r->ratio_med = median_of(ratio, n);
    n = 0;
    for (long s = 0; s < t; s++)
        if (isfinite(gn[s])) gn[n++] = gn[s];
    r->gnorm_med = median_of(gn, n);
    double lnC = log((double)cfg.dims[cfg.nlayers]);
    switch (cd->kind) {
    case RULE_NAN: r->symptom = r->diverged_at >= 0; break;
    case RULE_STUCK: r->symptom = t == T && fabs(r->final_loss - lnC) < STUCK_NATS; break;
    case RULE_OSC: r->symptom = r->diverged_at < 0 && r->gain2 < OSC_GAIN; break;
    case RULE_PLATEAU: r->symptom = r->diverged_at < 0 && r->gain < PLATEAU_GAIN; break;
    case RULE_CRAWL: r->symptom = r->ratio_med < CRAWL_RATIO; break;
    case RULE_SPIKES: r->symptom = r->late_spikes > 0; break;
    }
    gd_spike_free(&sp);
    free(loss), free(ratio), free(gn), free(wb);
    gd_trainer_free(tr);
    return 0;
}

/* One `key value` row, the key built from the case's name and a suffix (no fixed-size
 * copies: the name and the specs are the user's text). */
static void kv(gd_table *t, const char *cname, const char *name, const char *fmt, ...) GD_PRINTF(4, 5);
static void kv(gd_table *t, const char *cname, const char *name, const char *fmt, ...) {
    char *key = NULL, *value = NULL;
    va_list ap;
    va_start(ap, fmt);
    int ok = asprintf(&key, "recipe_%s_%s", cname, name) >= 0 && vasprintf(&value, fmt, ap) >= 0;
    va_end(ap);
    if (ok) gd_table_kv(t, key, "%s", value);
    free(key), free(value);
}

/* Median and range of one field (at byte offset off, a double) over the n runs, NaN ones left out. */
static gd_stats field_stats(const run_result *runs, int n, size_t off) {
    double v[MAX_SEEDS];
    for (int i = 0; i < n; i++) memcpy(&v[i], (const char *)&runs[i] + off, sizeof v[i]);
    return gd_stats_of(v, n);
}
#define FIELD(runs, n, f) field_stats((runs), (n), offsetof(run_result, f))

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.seeds = 5;
    to.batch_size = 64;
    const char *cname = NULL, *curves = NULL, *summary = NULL, *numbers = NULL, *key = NULL;
    long train_size = 0, val_size = 2000, steps = 0;
    const char *bo = NULL, *bs = NULL, *fo = NULL, *fs = NULL;
    double bclip = 0, fclip = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("case", &cname, "which row of the table: nan, stuck, osc, plateau, crawl, spikes"),
        GD_OPT_STRING("broken-optim", &bo, "replace the case's broken optimizer (optim.h spec)"),
        GD_OPT_STRING("broken-sched", &bs, "replace the case's broken schedule (sched.h spec, 'none': constant)"),
        GD_OPT_STRING("fixed-optim", &fo, "replace the case's fixed optimizer"),
        GD_OPT_STRING("fixed-sched", &fs, "replace the case's fixed schedule ('none': constant)"),
        GD_OPT_FLOAT("broken-clip", &bclip, "clip the broken arm's gradient norm at this (0: the case's, none in the table)", 0, 1e6, 0),
        GD_OPT_FLOAT("fixed-clip", &fclip, "clip the fixed arm's gradient norm at this (0: the case's, none in the table)", 0, 1e6, 0),
        GD_OPT_INT("steps", &steps, "replace the case's number of steps (0: the case's)", 0, 1000000),
        GD_OPT_INT("batch-size", &to.batch_size, "minibatch size", 1, 60000),
        GD_OPT_INT("train-size", &train_size, "training images, the first of a fixed split (0: the case's, 5000 or 1000)", 0, 50000),
        GD_OPT_INT("val-size", &val_size, "held-out training images for the final accuracy", 100, 10000),
        GD_OPT_STRING("data", &to.data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_OUT("curves", &curves, "write every step of every run: case arm seed step lr loss gnorm ratio loss10 late_spike"),
        GD_OPT_OUT("summary", &summary, "write one row per run"),
        GD_OPT_STRING("key", &key, "the CASE in the keys recipe_CASE_... of --numbers (default: --case)"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes (keys recipe_CASE_...)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Produce one symptom of the chapter's table (--case), detect it with the case's rule, "
                          "apply the fix, over several seeds (Chapter 8). Cases: nan (lr far too high), stuck "
                          "(dead network at ln C), osc (lr just below the collapse), plateau (constant lr at its "
                          "noise floor), crawl (lr far too low), spikes (late spikes of Adam at a constant lr).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    const case_def *cd = NULL;
    if (!cname) {
        fprintf(stderr, "%s: --case: required (nan, stuck, osc, plateau, crawl, spikes)\n", gd_prog());
        return 2;
    }
    for (int i = 0; i < NCASES; i++)
        if (strcmp(cases[i].name, cname) == 0) cd = &cases[i];
    if (!cd) {
        gd_usage_error("--case: unknown case '%.60s' (nan, stuck, osc, plateau, crawl, spikes)", cname);
        return 2;
    }
    case_def cdv = *cd;   /* the case, with the overrides applied */
    if (bo) cdv.broken.optim = bo;
    if (bs) cdv.broken.sched = strcmp(bs, "none") == 0 ? NULL : bs;
    if (fo) cdv.fixed.optim = fo;
    if (fs) cdv.fixed.sched = strcmp(fs, "none") == 0 ? NULL : fs;
    if (steps > 0) cdv.steps = steps;
    if (bclip > 0) cdv.broken.clip = bclip;
    if (fclip > 0) cdv.fixed.clip = fclip;
    if (train_size > 0) cdv.train_size = train_size;
    else if (cdv.train_size == 0) cdv.train_size = 5000;
    cd = &cdv;
    const char *specs[4][2] = {{"broken-optim", cd->broken.optim}, {"fixed-optim", cd->fixed.optim},
                               {"broken-sched", cd->broken.sched}, {"fixed-sched", cd->fixed.sched}};
    for (int i = 0; i < 4; i++) {
        if (!specs[i][1]) continue;
        if (i < 2) {
            gd_optim_kind k;
            gd_hparams hp;
            if (gd_optim_parse(specs[i][1], &k, &hp) != 0) {
                fprintf(stderr, "%s: --%s: %s\n", gd_prog(), specs[i][0], gd_error());
                return 2;
            }
        } else {
            gd_sched *sc = gd_sched_parse(specs[i][1]);
            if (!sc) {
                fprintf(stderr, "%s: --%s: %s\n", gd_prog(), specs[i][0], gd_error());
                return 2;
            }
            gd_sched_free(sc);
        }
    }
    if (to.seeds > MAX_SEEDS) {
        fprintf(stderr, "%s: --seeds: at most %d, got %ld\n", gd_prog(), MAX_SEEDS, to.seeds);
        return 2;
    }
    if (key && (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(key))) {
        gd_usage_error("--key: lower-case letters and digits only, got '%.60s'", key);
        return 2;
    }
    gd_blas_threads(1);
    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    if (cd->train_size + val_size > train.n) {
        fprintf(stderr, "%s: --train-size + --val-size: at most %d, got %ld\n", gd_prog(), train.n,
                cd->train_size + val_size);
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    /* a fixed split (seed 0): the first train_size of its training part, the first val_size of the rest */
    int *tidx = malloc((size_t)train.n * sizeof *tidx), *vidx = malloc((size_t)train.n * sizeof *vidx);
    if (!tidx || !vidx || gd_split(tidx, vidx, train.n, (int)val_size, 0) != 0) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    setup su = {NULL, &train, tidx, vidx, (int)cd->train_size, (int)val_size, (int)to.batch_size};
    if (curves) {
        su.curves = gd_table_open(curves, "case arm seed step lr loss gnorm ratio loss10 late_spike");
        if (!su.curves) {
            fprintf(stderr, "%s: --curves: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_table_meta(su.curves, "case", "%s (%s)", cd->name, cd->symptom);
        gd_table_meta(su.curves, "broken", "%s%s%s clip %g", cd->broken.optim, cd->broken.sched ? " sched " : "",
                      cd->broken.sched ? cd->broken.sched : "", cd->broken.clip);
        gd_table_meta(su.curves, "fixed", "%s%s%s clip %g", cd->fixed.optim, cd->fixed.sched ? " sched " : "",
                      cd->fixed.sched ? cd->fixed.sched : "", cd->fixed.clip);
    }
    run_result br[MAX_SEEDS], fr[MAX_SEEDS];
    int N = (int)to.seeds;
    for (int s = 0; s < N; s++) {
        if (run_arm(&su, cd, &cd->broken, "broken", to.seed + s, &br[s]) != 0) return 1;
        if (run_arm(&su, cd, &cd->fixed, "fixed", to.seed + s, &fr[s]) != 0) return 1;
    }
    if (su.curves && gd_table_close(su.curves) != 0) {
        fprintf(stderr, "%s: --curves: %s\n", gd_prog(), gd_error());
        return 1;
    }
    if (summary) {
        gd_table *t = gd_table_open(summary, "case arm seed steps diverged_at first_loss final_loss swing gain gain2 "
                                             "ratio_med gnorm_med late_spikes flat val_acc symptom");
        if (!t) {
            fprintf(stderr, "%s: --summary: %s\n", gd_prog(), gd_error());
            return 1;
        }
        for (int a = 0; a < 2; a++)
            for (int s = 0; s < N; s++) {
                const run_result *r = a ? &fr[s] : &br[s];
                gd_table_row(t, "%s %s %llu %ld %ld %.6g %.6g %.4g %.4g %.4g %.4g %.4g %d %d %.4f %d", cd->name,
                             a ? "fixed" : "broken", (unsigned long long)r->seed, r->steps, r->diverged_at,
                             r->first_loss, r->final_loss, r->swing, r->gain, r->gain2, r->ratio_med, r->gnorm_med,
                             r->late_spikes, r->flat, r->val_acc, r->symptom);
            }
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: --summary: %s\n", gd_prog(), gd_error());
            return 1;
        }
    }
    int kb = 0, kf = 0, better = 0;
    for (int s = 0; s < N; s++) {
        kb += br[s].symptom;
        kf += fr[s].symptom;
        /* the fix helps on this seed: the fixed run's final loss is finite and below the broken one's */
        better += isfinite(fr[s].final_loss) && (!isfinite(br[s].final_loss) || fr[s].final_loss < br[s].final_loss);
    }
    printf("%s: symptom in %d of %d seeds broken, %d of %d fixed; fixed run ends lower in %d of %d\n", cd->name, kb,
           N, kf, N, better, N);
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) {
            fprintf(stderr, "%s: --numbers: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_table_meta(t, "program", "ch08-symptoms --case %s", cd->name);
        const char *kname = key ? key : cd->name;
        kv(t, kname, "seeds", "%d", N);
        char cb[64] = "", cf[64] = "";
        if (cd->broken.clip > 0) snprintf(cb, sizeof cb, ", clip %g", cd->broken.clip);
        if (cd->fixed.clip > 0) snprintf(cf, sizeof cf, ", clip %g", cd->fixed.clip);
        kv(t, kname, "broken", "%s%s%s%s", cd->broken.optim, cd->broken.sched ? ", " : "",
           cd->broken.sched ? cd->broken.sched : "", cb);
        kv(t, kname, "fixed", "%s%s%s%s", cd->fixed.optim, cd->fixed.sched ? ", " : "",
           cd->fixed.sched ? cd->fixed.sched : "", cf);
        kv(t, kname, "steps", "%ld", cd->steps);
        kv(t, kname, "train_size", "%ld", cd->train_size);
        kv(t, kname, "broken_k", "%d of %d", kb, N);
        kv(t, kname, "fixed_k", "%d of %d", kf, N);
        kv(t, kname, "better_k", "%d of %d", better, N);
        gd_stats lb = FIELD(br, N, final_loss), lf = FIELD(fr, N, final_loss);
        gd_stats ab = FIELD(br, N, val_acc), af = FIELD(fr, N, val_acc);
        gd_stats rb = FIELD(br, N, ratio_med), rf = FIELD(fr, N, ratio_med);
        kv(t, kname, "broken_loss", lb.n ? "%.2f" : "diverged", lb.median);
        kv(t, kname, "fixed_loss", lf.n ? "%.2f" : "diverged", lf.median);
        kv(t, kname, "broken_acc", ab.n ? "%.1f%%" : "none", 100 * ab.median);
        kv(t, kname, "fixed_acc", af.n ? "%.1f%%" : "none", 100 * af.median);
        int bflat = 0, bnf = 0, bsp = 0, fsp = 0, bdiv = 0;
        for (int s = 0; s < N; s++) {
            bflat += br[s].flat;
            bnf += br[s].steps < cd->steps;
            bdiv += br[s].diverged_at >= 0;
            bsp += br[s].late_spikes;
            fsp += fr[s].late_spikes;
        }
        kv(t, kname, "broken_flat_k", "%d of %d", bflat, N);
        kv(t, kname, "broken_nonfinite_k", "%d of %d", bnf, N);
        kv(t, kname, "broken_div_k", "%d of %d", bdiv, N);
        kv(t, kname, "broken_spikes", "%d", bsp);
        kv(t, kname, "fixed_spikes", "%d", fsp);
        gd_stats gb = FIELD(br, N, gnorm_med), gf = FIELD(fr, N, gnorm_med);
        gd_stats cl = FIELD(fr, N, clipped);
        if (cd->fixed.clip > 0) kv(t, kname, "fixed_clipped", "%.0f%%", 100 * cl.median);
        kv(t, kname, "broken_gnorm", "%.2f", gb.median);
        kv(t, kname, "fixed_gnorm", "%.2f", gf.median);
        kv(t, kname, "broken_ratio", "%.1e", rb.median);
        kv(t, kname, "broken_ratio_lo", "%.1e", rb.min);
        kv(t, kname, "broken_ratio_hi", "%.1e", rb.max);
        kv(t, kname, "fixed_ratio_lo", "%.1e", rf.min);
        kv(t, kname, "fixed_ratio_hi", "%.1e", rf.max);
        kv(t, kname, "fixed_ratio", "%.1e", rf.median);
        if (gd_table_close(t) != 0) {
            fprintf(stderr, "%s: --numbers: %s\n", gd_prog(), gd_error());
            return 1;
        }
    }
    free(tidx), free(vidx);
    gd_images_free(&train), gd_images_free(&test);
    return 0;
}

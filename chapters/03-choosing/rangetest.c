/* rangetest.c -- fastai's learning-rate finder, Learner.lr_find, Chapter 3. It descends
 * from Smith's range test (Smith 2017, "Cyclical learning rates for training neural
 * networks", §3.3), which raises the lr LINEARLY over a few epochs and reads the
 * ACCURACY; fastai's variant, written out here, ramps the lr exponentially over 100
 * minibatches and reads a smoothed training loss.
 *
 * Training starts from fresh weights with a tiny lr that grows exponentially every step,
 *     lr_i = start_lr * (end_lr / start_lr)^(i / num_it),   i = 0, 1, ...
 * (fastai's SchedExp; here the schedule `exp:gamma=G` of sched.h with
 * G = (end_lr/start_lr)^(1/num_it)). After each step the loss is smoothed with a debiased
 * exponential moving average (fastai's AvgSmoothLoss, beta = 0.98), and the test stops when
 * the smoothed loss exceeds 4 times the best seen so far (stop_div), or is not finite, or
 * after num_it steps. fastai then drops the first num_it/10 and the last 5 points and
 * suggests a learning rate from the rest (fastai/callback/schedule.py, v2.7):
 *   minimum  the lr at the lowest smoothed loss, divided by 10
 *   steep    the lr where the smoothed loss falls fastest per unit of log(lr)
 *   valley   the longest decreasing SUBSEQUENCE of losses (not necessarily contiguous),
 *            the point about half way along it (fastai's default since 2.5)
 * The training images are the ones the chapter's sweep uses (lib/sweep.h: 2000 of the
 * 60000 held out with split seed 0, the first 5000 of the rest), so the suggestions can
 * be compared with the sweep's best lr. Leaves out: fastai's restoring of the weights
 * afterwards (the program simply ends), and its plot.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPLIT_SEED 0 /* GD_SWEEP_SPLIT_SEED: the same held-out images as build/bin/sweep */

/* The three suggestions, over the points lrs[0..n), losses[0..n) (already trimmed). */
typedef struct {
    double minimum, steep, valley;
    int i_min, i_steep, i_valley;
} suggestions;

static void suggest(suggestions *s, const double *lrs, const double *losses, int n) {
    // region suggest
    /* minimum: lrs[argmin loss] / 10 */
    int im = 0;
    for (int i = 1; i < n; i++)
        if (losses[i] < losses[im]) im = i;
    s->i_min = im;
    s->minimum = lrs[im] / 10;
    /* steep: argmin of (loss[i+1] - loss[i]) / (log lr[i+1] - log lr[i]), the lr at i */
    int is = 0;
    double gmin = INFINITY;
    for (int i = 0; i + 1 < n; i++) {
        double g = (losses[i + 1] - losses[i]) / (log(lrs[i + 1]) - log(lrs[i]));
        if (g < gmin) gmin = g, is = i;
    }
    s->i_steep = is;
    s->steep = lrs[is];
    /* valley: lds[i] = length of the longest decreasing subsequence of losses ending at
     * i; the longest one runs from max_start to max_end, and the suggestion is the point
     * max_start + int(len/3) + int(len/3/2), about half way along it (fastai's code) */
    int *lds = malloc((size_t)n * sizeof *lds);
    int max_start = 0, max_end = 0;
    for (int i = 0; i < n; i++) lds[i] = 1;
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) {
            if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
            if (lds[max_end] < lds[i]) {
                max_end = i;
                max_start = max_end - lds[max_end];
            }
        }
    double sections = (max_end - max_start) / 3.0;
    int iv = max_start + (int)sections + (int)(sections / 2);
    if (iv < 0) iv = 0;
    if (iv >= n) iv = n - 1;
    s->i_valley = iv;
    s->valley = lrs[iv];
    free(lds);
    // endregion suggest
}

int main(int argc, char **argv) {
    const char *out = NULL, *suggest_out = NULL, *label = NULL;
    double start_lr = 1e-7, end_lr = 10, beta = 0.98, stop_factor = 4;
    long num_it = 100, train_subset = 5000, n_val = 2000;
    gd_train_opts to = gd_train_opts_defaults();
    to.optim = "sgd:momentum=0.9";
    to.dims = "784-64-10";
    to.batch_size = 64;
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOAT("start-lr", &start_lr, "first lr (fastai: 1e-7)", 0, 1e3, 1),
        GD_OPT_FLOAT("end-lr", &end_lr, "lr reached after num-it steps (fastai: 10)", 0, 1e6, 1),
        GD_OPT_INT("num-it", &num_it, "steps from start-lr to end-lr (fastai: 100)", 2, 100000),
        GD_OPT_FLOAT("beta", &beta, "smoothing of the loss (fastai: 0.98)", 0, 0.9999, 0),
        GD_OPT_FLOAT("stop-factor", &stop_factor, "stop when the smoothed loss exceeds this times its best (4)",
                     1, 1e6, 1),
        GD_OPT_INT("train-subset", &train_subset, "train on the first N images not held out", 1, 60000),
        GD_OPT_INT("val", &n_val, "training images held out (as the sweep: split seed 0)", 0, 50000),
        GD_OPT_STRING("label", &label, "name of the run in --suggest (default: the optimizer spec)"),
        GD_OPT_OUT("out", &out, "write seed, lr, loss and smoothed loss per step to this table"),
        GD_OPT_OUT("suggest", &suggest_out, "write the suggestions, one row per seed, to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "The learning-rate range test as fastai's lr_find: exponential lr ramp, smoothed "
                          "loss, and its three suggestions, for each seed (Chapter 3). --optim takes no lr "
                          "and --sched is not allowed: the test sets the lr itself.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (end_lr <= start_lr) {
        fprintf(stderr, "%s: --end-lr: must be > --start-lr (%g), got %g\n", gd_prog(), start_lr, end_lr);
        return 2;
    }
    if (train_subset + n_val > 60000) {
        fprintf(stderr, "%s: --train-subset: %ld + --val %ld exceeds the 60000 training images\n", gd_prog(),
                train_subset, n_val);
        return 2;
    }
    if (label && (!*label || label[strcspn(label, " \t\n\r")])) { /* one column of --suggest */
        fprintf(stderr, "%s: --label: must be one word, without spaces (it is a column of --suggest)\n", gd_prog());
        return 2;
    }
    if (to.sched) {
        fprintf(stderr, "%s: --sched: the range test sets the lr schedule itself (an exponential ramp)\n", gd_prog());
        return 2;
    }
    if (strstr(to.optim, "lr=")) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--optim: give the optimizer without lr (the test sets it), got '%s'", to.optim);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    /* the optimizer with lr = start_lr; the schedule multiplies it by G every step. The
     * spec is the user's text plus the lr: on the heap, as long as it needs to be. */
    const char *optim = to.optim;
    char canonical[512], sched[64];    /* gd_optim_format: the kind's keys and numbers, < 300 */
    int spec_len = snprintf(NULL, 0, "%s:lr=%.17g", optim, start_lr);
    char *spec = spec_len < 0 ? NULL : malloc((size_t)spec_len + 1);
    if (!spec) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    snprintf(spec, (size_t)spec_len + 1, "%s:lr=%.17g", optim, start_lr);
    double G = pow(end_lr / start_lr, 1.0 / (double)num_it);
    snprintf(sched, sizeof sched, "exp:gamma=%.17g", G); /* lr_i = start_lr * G^i */
    to.optim = spec;
    to.sched = sched;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) {
        free(spec);
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(spec, &kind, &hp);
    gd_optim_format(canonical, sizeof canonical, kind, &hp);

    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) {
        free(spec);
        return 2;
    }
    /* the split holds out n_val images and trains on the first train_subset of the rest */
    if (gd_train_opts_require(to.data, &train, train_subset + n_val,
                              "the training set", "--train-subset + --val") != 0) {
        free(spec);
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    gd_blas_threads(1);
    int n = train.n;
    int *train_idx = malloc((size_t)n * sizeof *train_idx), *val_idx = malloc((size_t)(n_val + 1) * sizeof *val_idx);
    if (!train_idx || !val_idx || gd_split(train_idx, val_idx, n, (int)n_val, SPLIT_SEED) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), train_idx && val_idx ? gd_error() : "out of memory");
        free(spec), free(train_idx), free(val_idx);
        gd_images_free(&train);
        gd_images_free(&test);
        return 1;
    }
    cfg.epochs = 1000;
    cfg.train = &train;
    cfg.train_idx = train_idx;
    cfg.n_train = (int)train_subset;
    cfg.label = label ? label : optim;

    /* the same "# model:" line in both tables (--dims is the user's text: no fixed buffer) */
#define MODEL_META(tab)                                                                                          \
    gd_table_meta(tab, "model", "MLP %s, ReLU; batch %ld; the first %ld training images not held out (%ld held " \
                  "out, split seed %d)", to.dims, to.batch_size, train_subset, n_val, SPLIT_SEED)
    int status = 0;
    gd_table *t = NULL, *ts = NULL;
    if (out && !(t = gd_table_open(out, "seed step lr loss smooth_loss"))) status = 1;
    if (t) {
        gd_table_meta(t, "program", "ch03-rangetest");
        gd_table_meta(t, "optimizer", "%s (label %s)", canonical, cfg.label);
        gd_table_meta(t, "ramp", "lr = %g * %.10g^step, %ld steps to %g; beta %g; stop above %g x best", start_lr, G,
                      num_it, end_lr, beta, stop_factor);
        MODEL_META(t);
        gd_table_meta(t, "columns", "one block per seed; lr and smooth_loss in full (17 digits), so that the "
                      "suggestions can be recomputed from the table exactly");
    }
    if (suggest_out && !status && !(ts = gd_table_open(suggest_out, "label seed steps stopped valley steep minimum "
                                                                    "min_lr"))) status = 1;
    if (ts) {
        gd_table_meta(ts, "program", "ch03-rangetest");
        gd_table_meta(ts, "optimizer", "%s", canonical);
        MODEL_META(ts);
        gd_table_meta(ts, "columns", "one row per seed; stopped: 1 if the smoothed loss passed %g x its best; "
                      "valley, steep, minimum: fastai's suggestions (minimum = min_lr / 10)", stop_factor);
    }
    double *lrs = malloc((size_t)(num_it + 1) * sizeof *lrs), *raw = malloc((size_t)(num_it + 1) * sizeof *raw),
           *smooth = malloc((size_t)(num_it + 1) * sizeof *smooth);
    for (long k = 0; k < to.seeds && !status; k++) {
        cfg.seed = to.seed + (uint64_t)k;
        gd_trainer *tr = gd_trainer_new(&cfg);
        if (!tr) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            status = 1;
            break;
        }
        int steps = 0, stopped_div = 0;
        // region ramp
        double avg = 0, best = INFINITY;
        for (long i = 0; i < num_it; i++) {
            double loss = gd_trainer_step(tr);                       /* at lr_i = start_lr * G^i */
            lrs[steps] = gd_optim_lr(tr->opt, 0);
            raw[steps] = loss;
            avg = beta * avg + (1 - beta) * loss;                    /* avg = beta avg + (1-beta) loss */
            double s = avg / (1 - pow(beta, (double)(i + 1)));       /* debiased: / (1 - beta^(i+1)) */
            smooth[steps++] = s;
            if (s < best) best = s;
            if (!isfinite(s) || s > stop_factor * best) {            /* stop_div: 4x the best */
                stopped_div = 1;
                break;
            }
        }
        // endregion ramp
        gd_trainer_free(tr);
        /* fastai's trim: drop the first num_it/10 points and the last 5, and anything from
         * the first NaN on */
        int lo = (int)(num_it / 10), hi = steps - 5;
        for (int i = lo; i < hi; i++)
            if (isnan(smooth[i])) {
                hi = i;
                break;
            }
        suggestions sg = {NAN, NAN, NAN, -1, -1, -1};
        if (hi - lo >= 2) {
            suggest(&sg, lrs + lo, smooth + lo, hi - lo);
            sg.i_min += lo, sg.i_steep += lo, sg.i_valley += lo;
        }
        printf("%s seed %llu: %d steps%s; suggestions: valley %.3g, steep %.3g, minimum/10 %.3g\n", cfg.label,
               (unsigned long long)cfg.seed, steps, stopped_div ? " (stopped: loss > 4x best)" : "", sg.valley,
               sg.steep, sg.minimum);
        if (t) {
            for (int i = 0; i < steps; i++)
                gd_table_row(t, "%llu %d %.17g %.9g %.17g", (unsigned long long)cfg.seed, i, lrs[i], raw[i],
                             smooth[i]);
            gd_table_block(t);
        }
        if (ts)
            gd_table_row(ts, "%s %llu %d %d %.6g %.6g %.6g %.6g", cfg.label, (unsigned long long)cfg.seed, steps,
                         stopped_div, sg.valley, sg.steep, sg.minimum, sg.i_min >= 0 ? lrs[sg.i_min] : NAN);
    }
    if (t && gd_table_close(t) != 0) status = 1;
    if (ts && gd_table_close(ts) != 0) status = 1;
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    free(lrs);
    free(raw);
    free(smooth);
    free(train_idx);
    free(val_idx);
    free(spec);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;
}

/* train.c -- one arm of Chapter 4's race: an MLP on Fashion-MNIST under one learning-rate
 * schedule, for every base lr of a small grid and every seed.
 *
 * The chapter runs this once per schedule and compares the arms (summary.c). --sched
 * takes any schedule spec of sched.h, with steps counted in updates; or one of the
 * chapter's names (constant, step, exp, cosine, wsd, onecycle), which this program
 * expands into a spec for the run's length, so that every schedule ends where the run
 * ends, and puts the same linear warmup (--warmup, a fraction of the run) in front of
 * every one of them but one-cycle, whose rising phase is its own warmup.
 *
 * Each run trains on the first --train-size training images and is validated after every
 * epoch on --val-size other training images (the last ones of the 60000), which is what
 * summary.c picks each schedule's base lr by; the 10000 test images are evaluated once,
 * after the last update, and so is the loss on (up to) --train-eval of the training
 * images. Writes one block of rows per (base lr, seed) (--out): the lr, the training loss
 * averaged over each logged window of minibatches, the validation loss and accuracy once
 * per epoch, and in the last row the final training and test numbers.
 * Leaves out: data augmentation, weight decay, choosing anything on the test set.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chapter's schedules as specs for a run of T updates whose first W are a linear
 * warmup. Returns 1 and fills spec if name is one of them, 0 otherwise. */
static int chapter_schedule(char *spec, size_t size, const char *name, long T, long W) {
    char warm[64] = "";
    long S = T - W; /* the updates after the warmup */
    if (W > 0) snprintf(warm, sizeof warm, "warmup:T=%ld,", W);
    // region presets
    if (strcmp(name, "constant") == 0) {
        snprintf(spec, size, "%sconstant", warm);                   /* lr = base after the warmup */
    } else if (strcmp(name, "step") == 0) {
        long m1 = T / 2 - W, m2 = 3 * T / 4 - W;                    /* x0.1 at 1/2 and 3/4 of the run */
        snprintf(spec, size, "%smultistep:milestones=%ld/%ld:gamma=0.1", warm, m1, m2);
    } else if (strcmp(name, "exp") == 0) {
        snprintf(spec, size, "%sexp:gamma=%.10g", warm, pow(0.01, 1.0 / S)); /* base -> base/100 at T */
    } else if (strcmp(name, "cosine") == 0) {
        snprintf(spec, size, "%scosine:T=%ld", warm, S);            /* base -> 0 at T */
    } else if (strcmp(name, "wsd") == 0) {
        snprintf(spec, size, "%swsd:T=%ld:decay=0.2:shape=linear", warm, S); /* linear to 0 over the last 20% */
    } else if (strcmp(name, "onecycle") == 0) {
        snprintf(spec, size, "onecycle:T=%ld", T);                  /* its own warmup: base/25 -> base at 30% */
    } else {
        return 0;
    }
    // endregion presets
    return 1;
}

/* The canonical spelling of spec (sched.h's gd_sched_format), on the heap and whole:
 * gd_sched_format(s, NULL, 0) is its length. NULL (gd_error) if out of memory. */
static char *canonical_sched(const char *spec) {
    gd_sched *s = gd_sched_parse(spec);
    if (!s) return NULL;
    size_t n = gd_sched_format(s, NULL, 0) + 1;
    char *buf = malloc(n);
    if (buf) gd_sched_format(s, buf, n);
    else gd_seterr("out of memory for the canonical schedule spec");
    gd_sched_free(s);
    return buf;
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.optim = "sgd:lr=0.1:momentum=0.9";
    to.dims = "784-64-10";
    to.sched = "constant";
    gd_floats lrs = {0, {0}};
    double epochs = 6, warmup = 0.05;
    long train_size = 10000, val_size = 5000, train_eval = 5000;
    const char *out = NULL;
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOATS("lrs", &lrs, "base lrs to try, e.g. 0.05,0.1,0.2 (default: the optimizer's lr)", 0, 100, 1),
        GD_OPT_FLOAT("epochs", &epochs, "passes over the training images", 0, 1000, 1),
        GD_OPT_FLOAT("warmup", &warmup, "the chapter's schedules: linear warmup over this fraction of the run", 0,
                     0.5, 0),
        GD_OPT_INT("train-size", &train_size, "train on the first N training images", 1, 60000),
        GD_OPT_INT("val-size", &val_size, "validate on the last N training images (held out)", 1, 30000),
        GD_OPT_INT("train-eval", &train_eval, "training images whose final loss is evaluated", 1, 60000),
        GD_OPT_OUT("out", &out, "write the training log to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST under one learning-rate schedule, for each base lr and seed, "
                          "and report validation and test accuracy (Chapter 4). --sched also takes the chapter's "
                          "names: constant, step, exp, cosine, wsd, onecycle.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (train_size + val_size > 60000) {
        fprintf(stderr, "%s: --val-size: %ld training plus %ld validation images are more than the 60000\n",
                gd_prog(), train_size, val_size);
        return 2;
    }
    if (train_eval > train_size) train_eval = train_size;

    /* The spec is made before the (slow) loading, so that a bad --sched fails at once. */
    long E = (train_size + to.batch_size - 1) / to.batch_size, T = (long)ceil(epochs * E); /* as the trainer counts */
    long W = (long)lround(warmup * T);
    /* A chapter name is expanded into preset (numbers only: short); any other --sched is
     * used as given, never copied into a fixed buffer, so a long chain runs whole. */
    char preset[256];
    const char *sched_arg = to.sched;
    const char *spec = chapter_schedule(preset, sizeof preset, sched_arg, T, W) ? preset : sched_arg;
    to.sched = spec;
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    char *canonical = canonical_sched(spec);
    if (!canonical) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp); /* checked by gd_train_opts_apply */
    if (lrs.n == 0) lrs = (gd_floats){1, {hp.lr}};
    char lrs_text[GD_FLOATS_MAX * 16] = "";
    for (int i = 0; i < lrs.n; i++)
        snprintf(lrs_text + strlen(lrs_text), sizeof lrs_text - strlen(lrs_text), "%s%g", i ? ", " : "", lrs.v[i]);

    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) {
        free(canonical);
        return 2;
    }
    /* training: the first train_size images; validation: the last val_size */
    if (gd_train_opts_require(to.data, &train, train_size + val_size,
                              "the training set", "--train-size + --val-size") != 0) {
        free(canonical);
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    int *val_idx = malloc((size_t)val_size * sizeof *val_idx); /* (val_size) the last images */
    for (long i = 0; i < val_size; i++) val_idx[i] = (int)(train.n - val_size + i);
    gd_blas_threads(1);

    cfg.epochs = epochs;
    cfg.train = &train;
    cfg.n_train = (int)train_size;         /* the first train_size images */
    cfg.val = &train;                      /* validation: the last val_size of them */
    cfg.val_idx = val_idx;
    cfg.n_val = (int)val_size;
    cfg.test = NULL;                       /* the test set: once, at the end */
    cfg.log_every = 10;                    /* rows every 10 updates: the warmup shows */
    cfg.label = sched_arg;

    gd_table *t = NULL;
    if (out) {
        t = gd_table_open(out, "base seed step epoch lr train_loss val_loss val_acc train_eval_loss test_loss test_acc");
        if (!t) goto io_error;
        char dims_text[128] = "";
        for (int l = 0; l <= cfg.nlayers; l++)
            snprintf(dims_text + strlen(dims_text), sizeof dims_text - strlen(dims_text), "%s%d", l ? "-" : "",
                     cfg.dims[l]);
        gd_table_meta(t, "program", "ch04-train");
        gd_table_meta(t, "schedule", "%s = %s (steps are updates)", sched_arg, spec);
        gd_table_meta(t, "canonical", "%s", canonical);
        gd_table_meta(t, "warmup", "%ld updates (%g of the run)", W, warmup);
        char optim_canonical[512];
        gd_optim_format(optim_canonical, sizeof optim_canonical, kind, &hp);
        gd_table_meta(t, "optimizer", "%s", optim_canonical);
        gd_table_meta(t, "base", "the optimizer's lr is each base lr in turn: %s", lrs_text);
        gd_table_meta(t, "sizes", "%ld %ld %ld (training, validation, train_eval images)", train_size, val_size,
                      train_eval);
        gd_table_meta(t, "model", "MLP %s, ReLU; batch %ld; %g epochs of %ld updates; %ld training images", dims_text,
                      to.batch_size, epochs, E, train_size);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed,
                      (unsigned long long)(to.seed + to.seeds - 1));
        gd_table_meta(t, "columns", "one block per (base, seed); train_loss: mean minibatch loss since the previous "
                                    "row; val: training images %ld to %d, held out, after every epoch; "
                                    "train_eval (the first %ld training images) and test (the 10000 test images): "
                                    "after the last update, in the last row",
                      train.n - val_size, train.n - 1, train_eval);
    }
    int blocks = 0, status = 0;
    for (int i = 0; i < lrs.n; i++) {
        hp.lr = lrs.v[i];
        char optim[512];
        gd_optim_format(optim, sizeof optim, kind, &hp);
        cfg.optim = optim;
        for (long s = 0; s < to.seeds; s++) {
            cfg.seed = to.seed + (uint64_t)s;
            gd_trainer *tr = gd_trainer_new(&cfg);
            gd_train_log log;
            if (!tr || gd_trainer_run(tr, &log) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                if (tr) gd_trainer_free(tr);
                status = 1;
                goto done;
            }
            double el = NAN, ea = NAN, tl = NAN, ta = NAN;
            if (log.diverged_at < 0) {
                gd_trainer_eval(tr, &train, NULL, (int)train_eval, &el, &ea);
                gd_trainer_eval(tr, &test, NULL, 0, &tl, &ta);
            }
            printf("%s lr %g seed %llu: val accuracy %.2f%%, test accuracy %.2f%%, train loss %.4f%s\n", sched_arg,
                   hp.lr, (unsigned long long)cfg.seed, 100 * log.rows[log.n - 1].val_acc, 100 * ta, el,
                   log.diverged_at >= 0 ? " (diverged)" : "");
            if (t) {
                if (blocks++) gd_table_block(t);
                for (int r = 0; r < log.n; r++) {
                    const gd_train_row *w = &log.rows[r];
                    int last = r == log.n - 1;
                    gd_table_row(t, "%g %llu %ld %.4f %.6g %.6f %.6f %.6f %.6f %.6f %.6f", hp.lr,
                                 (unsigned long long)cfg.seed, w->step, w->epoch, w->lr, w->train_loss, w->val_loss,
                                 w->val_acc, last ? el : NAN, last ? tl : NAN, last ? ta : NAN);
                }
            }
            gd_train_log_free(&log);
            gd_trainer_free(tr);
        }
    }
done:
    if (t) {
        if (status) gd_table_abort(t);
        else if (gd_table_close(t) != 0) status = 1, fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    }
    free(val_idx);
    free(canonical);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    free(val_idx);
    free(canonical);
    gd_images_free(&train);
    gd_images_free(&test);
    return 1;
}

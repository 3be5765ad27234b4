/* train.c -- one training run of an MLP on Fashion-MNIST under a learning-rate schedule,
 * Chapter 4.
 *
 * The chapter runs this once per schedule and seed and compares the runs (summary.c).
 * --sched takes any schedule spec of sched.h, with steps counted in updates; or one of
 * the chapter's names (constant, step, exp, cosine, wsd, onecycle), which this program
 * expands into a spec for the run's length, so that every schedule ends where the run
 * ends. The model, optimizer, base lr, batches and seed are the same for every schedule.
 *
 * Writes one row per logged window (--out): the lr, the training loss averaged over the
 * window's minibatches, and once per epoch the loss and accuracy on a fixed set of
 * training images and on the 10000 test images. Progress goes to stderr (lib/train.c).
 * Leaves out: a validation split (the chapter reports the test set and says so), data
 * augmentation, weight decay.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chapter's schedules as specs for a run of T updates with E updates per epoch and
 * epochs epochs. Returns 1 and fills spec if name is one of them, 0 otherwise. */
static int chapter_schedule(char *spec, size_t size, const char *name, long T, long E, double epochs) {
    // region presets
    if (strcmp(name, "constant") == 0) {
        snprintf(spec, size, "constant");                        /* lr = base throughout */
    } else if (strcmp(name, "step") == 0) {
        long m1 = (long)floor(epochs / 2) * E, m2 = (long)floor(3 * epochs / 4) * E;
        snprintf(spec, size, "multistep:milestones=%ld/%ld:gamma=0.1", m1, m2); /* x0.1 at 1/2, 3/4 */
    } else if (strcmp(name, "exp") == 0) {
        snprintf(spec, size, "exp:gamma=%.10g", pow(0.01, 1.0 / T)); /* base -> base/100 over T */
    } else if (strcmp(name, "cosine") == 0) {
        snprintf(spec, size, "cosine:T=%ld", T);                 /* base -> 0 over T */
    } else if (strcmp(name, "wsd") == 0) {
        long W = (long)lround(0.05 * T);                          /* 5% warmup, 20% decay */
        snprintf(spec, size, "warmup:T=%ld,wsd:T=%ld:decay=0.2:shape=linear", W, T - W);
    } else if (strcmp(name, "onecycle") == 0) {
        snprintf(spec, size, "onecycle:T=%ld", T);               /* peak = base at 30% */
    } else {
        return 0;
    }
    // endregion presets
    return 1;
}

/* spec (and its canonical form) for --sched on a run over n_train images; -1 if bad. */
static int make_spec(char *spec, size_t size, char *canonical, size_t csize, const char *arg, long n_train,
                     long batch_size, double epochs) {
    long E = (n_train + batch_size - 1) / batch_size, T = (long)ceil(epochs * E); /* as the trainer counts */
    if (!chapter_schedule(spec, size, arg, T, E, epochs)) snprintf(spec, size, "%s", arg);
    gd_sched *s = gd_sched_parse(spec);
    if (!s) return -1;
    gd_sched_format(s, canonical, csize);
    gd_sched_free(s);
    return 0;
}

int main(int argc, char **argv) {
    const char *sched_arg = "constant", *optim = "sgd:lr=0.1:momentum=0.9", *dims_arg = "784-128-10";
    const char *data_dir = NULL, *out = NULL;
    double epochs = 8;
    long batch_size = 128, train_size = 0, train_eval = 10000;
    uint64_t seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("sched", &sched_arg,
                      "schedule: constant, step, exp, cosine, wsd, onecycle, or a sched.h spec in updates"),
        GD_OPT_STRING("optim", &optim, "optimizer spec (optim.h); its lr is the base lr"),
        GD_OPT_FLOAT("epochs", &epochs, "passes over the training images", 0, 1000, 1),
        GD_OPT_INT("batch-size", &batch_size, "minibatch size", 1, 60000),
        GD_OPT_STRING("dims", &dims_arg, "layer sizes, input to output"),
        GD_OPT_INT("train-size", &train_size, "train on the first N training images (0: all 60000)", 0, 60000),
        GD_OPT_INT("train-eval", &train_eval, "training images whose loss is evaluated every epoch", 1, 60000),
        GD_OPT_SEED("seed", &seed, "random seed (initialisation and data order)"),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_STRING("out", &out, "write the training log to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST with one learning-rate schedule and report the test "
                          "accuracy (Chapter 4).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_train_cfg cfg = gd_train_defaults();
    if ((cfg.nlayers = gd_parse_dims(dims_arg, cfg.dims, GD_TRAIN_MAXLAYERS)) < 0) {
        fprintf(stderr, "%s: --dims: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    /* The spec is made for the full training set before the (slow) loading, so that a
     * bad --sched fails at once, and again for the images actually there. */
    char spec[512], canonical[1024];
    long n_train = train_size > 0 ? train_size : 60000;
    if (make_spec(spec, sizeof spec, canonical, sizeof canonical, sched_arg, n_train, batch_size, epochs) != 0) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    n_train = train_size > 0 && train_size < train.n ? train_size : train.n;
    if (make_spec(spec, sizeof spec, canonical, sizeof canonical, sched_arg, n_train, batch_size, epochs) != 0) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    long E = (n_train + batch_size - 1) / batch_size;
    if (train_eval > n_train) train_eval = n_train;
    gd_blas_threads(1);

    cfg.optim = optim;
    cfg.sched = spec;
    cfg.batch_size = (int)batch_size;
    cfg.epochs = epochs;
    cfg.seed = seed;
    cfg.train = &train;
    cfg.n_train = (int)n_train;            /* the first n_train images */
    cfg.val = &train;                      /* "training loss": the first train_eval of them */
    cfg.n_val = (int)train_eval;
    cfg.test = &test;
    cfg.label = sched_arg;
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_images_free(&train);
        gd_images_free(&test);
        return 1;
    }
    char optim_canonical[512];
    gd_optim_format(optim_canonical, sizeof optim_canonical, kind, &hp);
    gd_train_log log;
    if (gd_trainer_run(tr, &log) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_trainer_free(tr);
        return 1;
    }

    /* the last evaluated row holds the final numbers */
    const gd_train_row *last = NULL;
    for (int i = log.n - 1; i >= 0 && !last; i--)
        if (!isnan(log.rows[i].test_acc)) last = &log.rows[i];
    if (log.diverged_at >= 0) printf("%s: diverged at step %ld\n", sched_arg, log.diverged_at);
    else if (last)
        printf("%s seed %llu: train loss %.4f, test loss %.4f, test accuracy %.2f%% (%.1f s)\n", sched_arg,
               (unsigned long long)seed, last->val_loss, last->test_loss, 100 * last->test_acc, log.seconds);

    int status = 0;
    if (out) {
        gd_table *t = gd_table_open(out, "step epoch lr train_loss train_eval_loss train_eval_acc test_loss test_acc");
        if (!t) {
            status = 1;
        } else {
            char dims_text[128] = "";
            for (int l = 0; l <= cfg.nlayers; l++)
                snprintf(dims_text + strlen(dims_text), sizeof dims_text - strlen(dims_text), "%s%d", l ? "-" : "",
                         cfg.dims[l]);
            gd_table_meta(t, "program", "ch04-train");
            gd_table_meta(t, "schedule", "%s = %s (steps are updates)", sched_arg, spec);
            gd_table_meta(t, "canonical", "%s", canonical);
            gd_table_meta(t, "optimizer", "%s", optim_canonical);
            gd_table_meta(t, "model", "MLP %s, ReLU; batch %ld; %g epochs of %ld updates; %ld training images",
                          dims_text, batch_size, epochs, E, n_train);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
            gd_table_meta(t, "columns", "train_loss: mean minibatch loss since the previous row; train_eval: the "
                                        "first %ld training images; test: the 10000 test images", train_eval);
            gd_table_meta(t, "diverged_at", "%ld", log.diverged_at);
            for (int i = 0; i < log.n; i++) {
                const gd_train_row *r = &log.rows[i];
                gd_table_row(t, "%ld %.4f %.6g %.6f %.6f %.6f %.6f %.6f", r->step, r->epoch, r->lr, r->train_loss,
                             r->val_loss, r->val_acc, r->test_loss, r->test_acc);
            }
            status = gd_table_close(t) != 0;
        }
        if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    }
    gd_train_log_free(&log);
    gd_trainer_free(tr);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;
}

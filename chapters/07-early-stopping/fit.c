/* fit.c -- one monitored training run on Fashion-MNIST, Chapter 7.
 *
 * An MLP trains on a subset of the training images while a held-out validation split
 * (gd_split: images the training never sees) is evaluated every epoch (or every
 * --eval-every steps); the 10000 test images are evaluated alongside, for the text's
 * figures only -- nothing is decided on them. The loop is lib/monitor.h's gd_fit:
 *
 *   --early SPEC     early stopping (monitor, mode, min_delta, patience,
 *                    restore_best_weights), e.g. patience=5:min_delta=0.001
 *   --backoff SPEC   on a loss spike roll back to the newest checkpoint and multiply the
 *                    lr by factor, at most `retries` times, e.g. factor=0.5:retries=4
 *   --ckpt-dir DIR   checkpoints (lib/ckpt.h): one per evaluation and every --ckpt-every
 *                    steps, the last --keep-last kept, best.bin by the monitored metric
 *   --stop-at K      end after step K as if the process were killed; --resume starts
 *                    from DIR's newest checkpoint
 *
 * Writes the log (--out), the back-off events (--events), the final state as a
 * checkpoint (--final, after restoring the best weights) and the numbers the text
 * quotes, prefixed by --key (--numbers). Exit status 1 when the back-off gave up (the
 * report is the one line on stderr).
 * Leaves out: data augmentation, weight decay, saving the early-stopping counters in
 * the checkpoint (a resumed run starts its patience afresh).
 */
#include "gd.h"
#include "monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the parameters' bytes: equal hashes for bitwise equal parameters. */
static unsigned long long param_hash(const gd_mlp *m) {
    unsigned long long h = 1469598103934665603ull;
    for (int p = 0; p < m->nparams; p++) {
        const unsigned char *b = (const unsigned char *)m->params[p].value->data;
        for (size_t i = 0; i < m->params[p].value->size * sizeof(float); i++) h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv) {
    const char *optim = "sgd:lr=0.1:momentum=0.9", *sched = NULL, *dims_arg = "784-128-10", *data_dir = NULL;
    const char *early_arg = NULL, *backoff_arg = NULL, *ckpt_dir = NULL, *out = NULL, *events = NULL;
    const char *final = NULL, *numbers = NULL, *key = "run";
    double epochs = 10;
    long batch_size = 128, train_size = 0, val_size = 5000, eval_every = 0, log_every = 10;
    long ckpt_every = 0, keep_last = 3, stop_at = 0;
    int resume = 0;
    uint64_t seed = 0, split_seed = 7;
    gd_opt opts[] = {
        GD_OPT_STRING("optim", &optim, "optimizer spec (optim.h)"),
        GD_OPT_STRING("sched", &sched, "schedule spec (sched.h), steps in updates; plateau terms see the metric"),
        GD_OPT_STRING("dims", &dims_arg, "layer sizes, input to output"),
        GD_OPT_FLOAT("epochs", &epochs, "passes over the training subset", 0, 10000, 1),
        GD_OPT_INT("batch-size", &batch_size, "minibatch size", 1, 60000),
        GD_OPT_INT("train-size", &train_size, "train on this many images of the training split (0: all)", 0, 59999),
        GD_OPT_INT("val-size", &val_size, "images held out of the 60000 for validation", 1, 59999),
        GD_OPT_INT("eval-every", &eval_every, "steps between evaluations (0: every epoch)", 0, 10000000),
        GD_OPT_INT("log-every", &log_every, "steps per logged training-loss window", 1, 1000000),
        GD_OPT_SEED("seed", &seed, "random seed (initialisation and data order)"),
        GD_OPT_SEED("split-seed", &split_seed, "seed of the train/validation split"),
        GD_OPT_STRING("early", &early_arg, "early stopping spec, e.g. patience=5:min_delta=0.001 (monitor.h)"),
        GD_OPT_STRING("backoff", &backoff_arg, "back-off spec, e.g. factor=0.5:retries=4:threshold=3 (monitor.h)"),
        GD_OPT_STRING("ckpt-dir", &ckpt_dir, "checkpoint directory"),
        GD_OPT_INT("ckpt-every", &ckpt_every, "steps between checkpoints besides evaluations (0: none)", 0, 10000000),
        GD_OPT_INT("keep-last", &keep_last, "checkpoints kept besides best.bin (0: all)", 0, 1000000),
        GD_OPT_INT("stop-at", &stop_at, "end after this step, as if killed (0: never)", 0, 100000000),
        GD_OPT_FLAG("resume", &resume, "start from the newest good checkpoint in --ckpt-dir"),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_STRING("out", &out, "write the training log to this table"),
        GD_OPT_STRING("events", &events, "write the back-off events to this table"),
        GD_OPT_STRING("final", &final, "save the final state (best weights restored) as a checkpoint here"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the text quotes to this table"),
        GD_OPT_STRING("key", &key, "prefix of the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST with validation monitoring, early stopping, "
                          "checkpoints and back-off on loss spikes (Chapter 7).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    /* every spec is checked before the (slow) loading */
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
    gd_sched *check = sched ? gd_sched_parse(sched) : NULL;
    if (sched && !check) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_sched_free(check);
    gd_early_cfg ec = gd_early_defaults();
    if (early_arg && gd_early_parse(early_arg, &ec) != 0) {
        fprintf(stderr, "%s: --early: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_backoff_cfg bc = gd_backoff_defaults();
    if (backoff_arg && gd_backoff_parse(backoff_arg, &bc) != 0) {
        fprintf(stderr, "%s: --backoff: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (train_size > 0 && train_size + val_size > 60000) {
        fprintf(stderr, "%s: --train-size: %ld training and %ld validation images exceed the 60000\n", gd_prog(),
                train_size, val_size);
        return 2;
    }
    if ((backoff_arg || resume || stop_at) && !ckpt_dir) {
        fprintf(stderr, "%s: --ckpt-dir: needed by %s\n", gd_prog(),
                backoff_arg ? "--backoff" : resume ? "--resume" : "--stop-at");
        return 2;
    }

    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    int N = train.n, *train_idx = malloc((size_t)N * sizeof *train_idx), *val_idx = malloc((size_t)N * sizeof *val_idx);
    int status = 1;
    gd_trainer *tr = NULL;
    gd_fit_result res;
    memset(&res, 0, sizeof res);
    if (!train_idx || !val_idx || val_size >= N || gd_split(train_idx, val_idx, N, (int)val_size, split_seed) != 0) {
        fprintf(stderr, "%s: cannot split %d images (%s)\n", gd_prog(), N, gd_error());
        goto done;
    }
    gd_blas_threads(1);
    cfg.optim = optim;
    cfg.sched = sched;
    cfg.batch_size = (int)batch_size;
    cfg.epochs = epochs;
    cfg.seed = seed;
    cfg.train = &train;
    cfg.train_idx = train_idx;              /* the first train_size of the training split */
    cfg.n_train = (int)(train_size > 0 && train_size < N - val_size ? train_size : N - val_size);
    cfg.val = &train;
    cfg.val_idx = val_idx;
    cfg.n_val = (int)val_size;
    cfg.test = &test;
    cfg.eval_every = (int)eval_every;
    cfg.log_every = (int)log_every;
    cfg.label = key;
    if (!(tr = gd_trainer_new(&cfg))) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        goto done;
    }
    gd_fit_cfg fc = {early_arg ? &ec : NULL, backoff_arg ? &bc : NULL, ckpt_dir, NULL, (int)ckpt_every,
                     (int)keep_last, stop_at, resume};
    if (gd_fit(tr, &fc, &res) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        goto done;
    }
    /* the final model (the best weights, if restored), on validation and test */
    double val_loss = NAN, val_acc = NAN, test_loss = NAN, test_acc = NAN;
    if (!res.gave_up && res.log.diverged_at < 0) {
        gd_trainer_eval(tr, &train, val_idx, (int)val_size, &val_loss, &val_acc);
        gd_trainer_eval(tr, &test, NULL, 0, &test_loss, &test_acc);
    }
    unsigned long long hash = param_hash(&tr->model);
    long spe = tr->steps_per_epoch;

    /* the last evaluated row: the last epoch's model */
    const gd_train_row *last = NULL;
    for (int i = res.log.n - 1; i >= 0 && !last; i--)
        if (!isnan(res.log.rows[i].val_loss)) last = &res.log.rows[i];

    if (res.gave_up) fprintf(stderr, "%s: %s\n", gd_prog(), res.report);
    else if (res.log.diverged_at >= 0) printf("%s: diverged at step %ld\n", key, res.log.diverged_at);
    else
        printf("%s: %ld steps%s%s, %d back-offs; final val loss %.4f, test accuracy %.2f%%, params %016llx\n", key,
               tr->step, res.stopped_early ? ", stopped early" : "", res.restored ? ", best weights restored" : "",
               res.nevents, val_loss, 100 * test_acc, hash);

    status = res.gave_up ? 1 : 0;
    char optim_c[512], early_c[256] = "none", backoff_c[256] = "none";
    gd_optim_format(optim_c, sizeof optim_c, kind, &hp);
    if (early_arg) gd_early_format(early_c, sizeof early_c, &ec);
    if (backoff_arg) gd_backoff_format(backoff_c, sizeof backoff_c, &bc);
    if (out) {
        gd_table *t = gd_table_open(out, "step epoch lr train_loss val_loss val_acc test_loss test_acc");
        if (!t) {
            status = 1;
        } else {
            gd_table_meta(t, "program", "ch07-fit");
            gd_table_meta(t, "optimizer", "%s", optim_c);
            gd_table_meta(t, "schedule", "%s", sched ? sched : "constant");
            gd_table_meta(t, "model", "MLP %s, ReLU; batch %ld; %g epochs of %ld updates; %d training images, %ld "
                          "validation (split seed %llu)", dims_arg, batch_size, epochs, spe, cfg.n_train, val_size,
                          (unsigned long long)split_seed);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
            gd_table_meta(t, "early", "%s", early_c);
            gd_table_meta(t, "backoff", "%s", backoff_c);
            gd_table_meta(t, "columns", "train_loss: mean minibatch loss since the previous row; val: the held-out "
                                        "split; test: the 10000 test images (NaN between evaluations)");
            gd_table_meta(t, "diverged_at", "%ld", res.log.diverged_at);
            for (int i = 0; i < res.log.n; i++) {
                const gd_train_row *r = &res.log.rows[i];
                gd_table_row(t, "%ld %.4f %.6g %.6g %.6f %.6f %.6f %.6f", r->step, r->epoch, r->lr, r->train_loss,
                             r->val_loss, r->val_acc, r->test_loss, r->test_acc);
            }
            if (gd_table_close(t) != 0) status = 1;
        }
    }
    if (events) {
        gd_table *t = gd_table_open(events, "step loss median rollback_to lr_scale lr");
        if (!t) {
            status = 1;
        } else {
            gd_table_meta(t, "program", "ch07-fit");
            gd_table_meta(t, "backoff", "%s", backoff_c);
            gd_table_meta(t, "gave_up", "%d", res.gave_up);
            for (int i = 0; i < res.nevents; i++) {
                const gd_backoff_event *e = &res.events[i];
                gd_table_row(t, "%ld %.6g %.6g %ld %.6g %.6g", e->step, e->loss, e->median, e->rollback_to,
                             e->lr_scale, e->lr);
            }
            if (gd_table_close(t) != 0) status = 1;
        }
    }
    if (final && gd_ckpt_save(tr, final, res.best_metric) != 0) status = 1;
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) {
            status = 1;
        } else {
            gd_table_meta(t, "program", "ch07-fit --key %s", key);
            double lr0 = hp.lr;
            char k[128];
#define KV(name, ...) (snprintf(k, sizeof k, "%s_%s", key, name), gd_table_kv(t, k, __VA_ARGS__))
            KV("lr", "%g", lr0);
            KV("optim", "%s", optim);
            KV("dims", "%s", dims_arg);
            KV("sched", "%s", sched ? sched : "constant");
            KV("ckpt_every", "%ld", ckpt_every);
            KV("keep_last", "%ld", keep_last);
            KV("stop_at", "%ld", stop_at);
            KV("train_size", "%d", cfg.n_train);
            KV("val_size", "%ld", val_size);
            KV("batch_size", "%ld", batch_size);
            KV("epochs", "%g", epochs);
            KV("steps_per_epoch", "%ld", spe);
            KV("steps", "%ld", tr->step);
            KV("early", "%s", early_arg ? early_arg : "none");
            KV("backoff", "%s", backoff_arg ? backoff_arg : "none");
            KV("backoff_factor", "%g", bc.factor);
            KV("backoff_window", "%d", bc.window);
            KV("backoff_threshold", "%g", bc.threshold);
            KV("diverged_at", "%ld", res.log.diverged_at);
            KV("backoffs", "%d", res.nevents);
            KV("gave_up", "%d", res.gave_up);
            KV("stopped_early", "%d", res.stopped_early);
            KV("stop_epoch", "%ld", res.stop_step >= 0 ? res.stop_step / spe : -1);
            KV("best_epoch", "%ld", res.best_step >= 0 ? res.best_step / spe : -1);
            KV("best_metric", "%.4f", res.best_metric);
            KV("final_val_loss", "%.4f", val_loss);
            KV("final_test_loss", "%.4f", test_loss);
            KV("final_test_acc", "%.2f", 100 * test_acc);
            if (last) {
                KV("last_epoch", "%.0f", last->epoch);
                KV("last_val_loss", "%.4f", last->val_loss);
                KV("last_test_loss", "%.4f", last->test_loss);
                KV("last_test_acc", "%.2f", 100 * last->test_acc);
            }
            for (int i = 0; i < res.nevents; i++) {
                snprintf(k, sizeof k, "%s_event%d", key, i + 1);
                gd_table_kv(t, k, "step %ld: loss %.3g (median %.3g), back to step %ld, lr %.3g",
                            res.events[i].step, res.events[i].loss, res.events[i].median, res.events[i].rollback_to,
                            res.events[i].lr);
            }
            if (res.nevents) KV("final_lr", "%.3g", res.events[res.nevents - 1].lr);
            KV("resumed_from", "%ld", res.resumed_from);
            KV("params", "%016llx", hash);
            KV("report", "%s", res.gave_up ? res.report : "none");
#undef KV
            if (gd_table_close(t) != 0) status = 1;
        }
    }
    if (status && !res.gave_up) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
done:
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
    free(train_idx);
    free(val_idx);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;
}

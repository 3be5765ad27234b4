/* test_monitor.c -- lib/monitor.h: early stopping on scripted metric sequences (the
 * expectations derived by hand from the Keras/Lightning rules), restoring the best
 * weights bitwise (fired or not), the spike detector, the spec parsers, and gd_fit's
 * back-off and resume on a tiny synthetic trainer.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ckpt.h"
#include "err.h"
#include "monitor.h"
#include "train.h"

/* Feed seq to a fresh early stopper; return the index of the observation that fired
 * (-1 if none) and the best index. */
static long run_seq(const char *spec, const double *seq, int n, long *best) {
    gd_early_cfg c = gd_early_defaults();
    cr_assert_eq(gd_early_parse(spec, &c), 0, "%s: %s", spec, gd_error());
    gd_early es;
    gd_early_init(&es, &c);
    long fired = -1;
    for (int i = 0; i < n && fired < 0; i++)
        if (gd_early_observe(&es, seq[i], NULL) == GD_EARLY_STOP) fired = i;
    *best = es.best_eval;
    gd_early_free(&es);
    return fired;
}

/* Hand-derived: best at index 2 (0.7); indices 3, 4, 5 do not improve; patience 3 fires
 * at index 5 (the third in a row). */
Test(lib_monitor, patience_counts_consecutive_non_improvements) {
    double seq[] = {1.0, 0.8, 0.7, 0.75, 0.71, 0.9, 0.5, 0.4};
    long best;
    cr_expect_eq(run_seq("patience=3", seq, 8, &best), 5);
    cr_expect_eq(best, 2);
    /* patience 0 and 1 both fire at the first non-improvement (index 3) */
    cr_expect_eq(run_seq("patience=0", seq, 8, &best), 3);
    cr_expect_eq(run_seq("patience=1", seq, 8, &best), 3);
    /* patience 4: index 6 (0.5) improves before the fourth: never fires; best index 7 */
    cr_expect_eq(run_seq("patience=4", seq, 8, &best), -1);
    cr_expect_eq(best, 7);
}

/* min_delta 0.05: 0.97 is no improvement on 1.0, 0.94 is (1.0 - 0.94 = 0.06 > 0.05);
 * then 0.9 (gain 0.04) and 0.895 (0.045) are not: patience 2 fires at index 4, best
 * stays at index 2 even though 0.895 is lower. */
Test(lib_monitor, min_delta_is_absolute_and_strict) {
    double seq[] = {1.0, 0.97, 0.94, 0.90, 0.895, 0.5};
    long best;
    cr_expect_eq(run_seq("patience=2:min_delta=0.05", seq, 6, &best), 4);
    cr_expect_eq(best, 2);
    /* without min_delta every decrease counts: never fires */
    cr_expect_eq(run_seq("patience=2", seq, 6, &best), -1);
    cr_expect_eq(best, 5);
    /* equal values are not an improvement */
    double flat[] = {0.5, 0.5, 0.5};
    cr_expect_eq(run_seq("patience=2", flat, 3, &best), 2);
    cr_expect_eq(best, 0);
}

/* mode max (and auto for val_acc): accuracy going up is better. */
Test(lib_monitor, mode_max_and_auto) {
    double seq[] = {0.5, 0.6, 0.62, 0.61, 0.6, 0.7};
    long best;
    cr_expect_eq(run_seq("monitor=val_acc:patience=2", seq, 6, &best), 4);
    cr_expect_eq(best, 2);
    cr_expect_eq(run_seq("mode=max:patience=2", seq, 6, &best), 4);
    cr_expect_eq(run_seq("mode=max:patience=2:min_delta=0.025", seq, 6, &best), 3);   /* 0.62 is not > 0.6+0.025 */
    cr_expect_eq(best, 1);
    /* val_loss watched in mode min: the same sequence fires at index 1 with patience 1 */
    cr_expect_eq(run_seq("monitor=val_loss:patience=1", seq, 6, &best), 1);
}

/* A NaN metric stops at once with check_finite, and is just no improvement without. */
Test(lib_monitor, non_finite_metric) {
    double seq[] = {1.0, NAN, 0.9, 0.8};
    long best;
    cr_expect_eq(run_seq("patience=5", seq, 4, &best), 1);
    cr_expect_eq(run_seq("patience=5:check_finite=0", seq, 4, &best), -1);
    cr_expect_eq(best, 3);
}

Test(lib_monitor, specs_rejected_with_the_key_named) {
    const char *bad[] = {"patience=-1", "patience=1.5", "min_delta=-0.1", "mode=up", "monitor=loss", "restore=2",
                         "colour=red", "patience", "patience=abc"};
    const char *key[] = {"patience", "patience", "min_delta", "mode", "monitor", "restore", "colour", "patience",
                         "patience"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gd_early_cfg c = gd_early_defaults(), before = c;
        cr_expect_eq(gd_early_parse(bad[i], &c), -1, "%s accepted", bad[i]);
        cr_expect(strstr(gd_error(), key[i]) != NULL, "%s: '%s' does not name the key", bad[i], gd_error());
        cr_expect_eq(memcmp(&c, &before, sizeof c), 0, "%s changed the config", bad[i]);
    }
    const char *bbad[] = {"factor=1", "factor=0", "retries=-1", "window=0", "threshold=1", "speed=2"};
    for (size_t i = 0; i < sizeof bbad / sizeof *bbad; i++) {
        gd_backoff_cfg c = gd_backoff_defaults();
        cr_expect_eq(gd_backoff_parse(bbad[i], &c), -1, "%s accepted", bbad[i]);
    }
    gd_backoff_cfg c = gd_backoff_defaults();
    cr_expect_eq(gd_backoff_parse("factor=0.25:retries=2:window=7:threshold=4", &c), 0);
    cr_expect(c.factor == 0.25 && c.retries == 2 && c.window == 7 && c.threshold == 4);
}

/* Spikes: above threshold x the median of the accepted losses, or not finite; spikes
 * stay out of the window. */
Test(lib_monitor, spike_detector) {
    gd_spike sp;
    cr_assert_eq(gd_spike_init(&sp, 4, 3.0), 0);
    double med;
    cr_expect_eq(gd_spike_check(&sp, 5.0, &med), 0);         /* empty window: accepted */
    cr_expect(isnan(med));
    cr_expect_eq(gd_spike_check(&sp, 1.0, NULL), 0);
    cr_expect_eq(gd_spike_check(&sp, 2.0, NULL), 0);          /* window 5 1 2: median 2 */
    cr_expect_eq(gd_spike_check(&sp, 6.5, &med), 1);          /* 6.5 > 3 * 2 */
    cr_expect(med == 2.0);
    cr_expect_eq(gd_spike_check(&sp, 6.0, NULL), 0);          /* 6 is not > 6 */
    cr_expect(gd_spike_median(&sp) == 3.5);                   /* 5 1 2 6 */
    cr_expect_eq(gd_spike_check(&sp, 0.5, NULL), 0);          /* replaces 5: 0.5 1 2 6 */
    cr_expect(gd_spike_median(&sp) == 1.5);
    cr_expect_eq(gd_spike_check(&sp, NAN, NULL), 1);
    cr_expect_eq(gd_spike_check(&sp, INFINITY, NULL), 1);
    cr_expect(gd_spike_median(&sp) == 1.5);
    gd_spike_free(&sp);
}

/* ------------------------------------------------------------------------------- */
/* gd_fit on a tiny trainer: 8-5-10 on 32 synthetic 2x4 images. */

static gd_images tiny;
static uint8_t tiny_pixels[32 * 8], tiny_labels[32];
static int train_idx[24], val_idx[8];
static char tmpdir[64];

static void setup(void) {
    gd_rng r;
    gd_rng_seed(&r, 5);
    for (int i = 0; i < 32 * 8; i++) tiny_pixels[i] = (uint8_t)gd_rng_below(&r, 256);
    for (int i = 0; i < 32; i++) tiny_labels[i] = (uint8_t)(i % 10);
    tiny = (gd_images){32, 2, 4, 8, tiny_pixels, tiny_labels};
    for (int i = 0; i < 24; i++) train_idx[i] = i;
    for (int i = 0; i < 8; i++) val_idx[i] = 24 + i;
    strcpy(tmpdir, "/tmp/gdtest-monitor.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    gd_blas_threads(1);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

static gd_train_cfg tiny_cfg(const char *optim) {
    gd_train_cfg c = gd_train_defaults();
    c.nlayers = 2;
    c.dims[0] = 8, c.dims[1] = 5, c.dims[2] = 10;
    c.optim = optim;
    c.batch_size = 6;
    c.epochs = 40;
    c.seed = 3;
    c.train = &tiny;
    c.train_idx = train_idx;
    c.n_train = 24;
    c.val = &tiny;
    c.val_idx = val_idx;
    c.n_val = 8;
    c.label = "monitor-test";
    return c;
}

/* The MODL section of a checkpoint file (the parameters), malloc'd. */
static unsigned char *params_of(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    unsigned char head[36];
    cr_assert_eq(fread(head, 1, 36, f), 36);
    cr_assert(memcmp(head + 24, "MODL", 4) == 0);
    uint64_t len = 0;
    for (int i = 0; i < 8; i++) len |= (uint64_t)head[28 + i] << (8 * i);
    unsigned char *b = malloc(len);
    cr_assert_eq(fread(b, 1, len, f), len);
    fclose(f);
    *n = len;
    return b;
}

static void expect_same_params(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *pa = params_of(a, &na), *pb = params_of(b, &nb);
    cr_expect(na == nb && memcmp(pa, pb, na) == 0, "%s and %s hold different parameters", a, b);
    free(pa);
    free(pb);
}

/* Restoring gives the weights of the best evaluation bitwise -- best.bin's, saved by the
 * same loop with the same metric -- whether the stop fired or the run ran out. */
static void restores_best(const char *spec, int expect_fired) {
    gd_train_cfg c = tiny_cfg("sgd:lr=0.5:momentum=0.9");
    gd_trainer *tr = gd_trainer_new(&c);
    cr_assert_not_null(tr, "%s", gd_error());
    gd_early_cfg ec = gd_early_defaults();
    cr_assert_eq(gd_early_parse(spec, &ec), 0);
    char dir[128], final[160], best[160];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, expect_fired ? "fired" : "ran-out");
    gd_fit_cfg fc = {&ec, NULL, dir, NULL, 0, 2, 0, 0};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect_eq(res.stopped_early, expect_fired, "%s: stopped_early %d", spec, res.stopped_early);
    cr_expect(res.restored);
    cr_expect(res.best_step > 0 && res.best_step < tr->step, "best at %ld of %ld: not a test of restoring",
              res.best_step, tr->step);
    snprintf(final, sizeof final, "%s/final.bin", tmpdir);
    snprintf(best, sizeof best, "%s/best.bin", dir);
    cr_assert_eq(gd_ckpt_save(tr, final, NAN), 0);
    expect_same_params(final, best);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

Test(lib_monitor, restores_best_weights_when_fired, .init = setup, .fini = teardown) {
    restores_best("patience=3", 1);
}
Test(lib_monitor, restores_best_weights_when_not_fired, .init = setup, .fini = teardown) {
    restores_best("patience=100000", 0);
}

/* An impossible lr: every retry spikes again; gd_fit gives up after exactly `retries`
 * back-offs, each halving the lr, with a report that says so. */
Test(lib_monitor, backoff_gives_up_after_the_retries, .init = setup, .fini = teardown) {
    gd_train_cfg c = tiny_cfg("sgd:lr=1e6");
    gd_trainer *tr = gd_trainer_new(&c);
    gd_backoff_cfg bc = gd_backoff_defaults();
    bc.retries = 3;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/giveup", tmpdir);
    gd_fit_cfg fc = {NULL, &bc, dir, NULL, 0, 2, 0, 0};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect(res.gave_up);
    cr_expect_eq(res.nevents, 3);
    for (int i = 0; i < res.nevents; i++) {
        cr_expect_eq(res.events[i].rollback_to, 0);
        cr_expect(fabs(res.events[i].lr_scale - pow(0.5, i + 1)) < 1e-15);
    }
    cr_expect(strstr(res.report, "gave up after 3 back-offs") != NULL, "report: %s", res.report);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* gd_fit killed at step k and resumed from its newest checkpoint ends bitwise where the
 * straight run ends. */
Test(lib_monitor, fit_resumes_exactly, .init = setup, .fini = teardown) {
    gd_train_cfg c = tiny_cfg("adam:lr=0.01");
    c.sched = "warmup:T=5,cosine:T=100";
    c.epochs = 10;
    char a[128], b[128], fa[160], fb[160];
    snprintf(a, sizeof a, "%s/straight", tmpdir);
    snprintf(b, sizeof b, "%s/resumed", tmpdir);
    gd_fit_result res;
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg fc = {NULL, NULL, a, NULL, 7, 2, 0, 0};
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    snprintf(fa, sizeof fa, "%s/a.bin", tmpdir);
    cr_assert_eq(gd_ckpt_save(tr, fa, NAN), 0);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);

    tr = gd_trainer_new(&c);
    gd_fit_cfg killed = {NULL, NULL, b, NULL, 7, 2, 17, 0};
    cr_assert_eq(gd_fit(tr, &killed, &res), 0, "%s", gd_error());
    cr_expect(res.interrupted);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
    tr = gd_trainer_new(&c);
    gd_fit_cfg resumed = {NULL, NULL, b, NULL, 7, 2, 0, 1};
    cr_assert_eq(gd_fit(tr, &resumed, &res), 0, "%s", gd_error());
    cr_expect_eq(res.resumed_from, 16);   /* evaluations at 4, 8, 12, 16; ckpt_every at 7, 14 */
    snprintf(fb, sizeof fb, "%s/b.bin", tmpdir);
    cr_assert_eq(gd_ckpt_save(tr, fb, NAN), 0);
    expect_same_params(fa, fb);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* ------------------------------------------------------------------------------- */
/* The collapse rule (train.h): a run whose output stopped depending on its input. */

/* A run at a tiny lr has not learned anything (its loss stays near ln 10), but its
 * random weights make the output depend on the input: never a flat batch, no collapse. */
Test(lib_monitor, collapse_rule_ignores_a_run_that_has_not_learned, .init = setup, .fini = teardown) {
    gd_train_cfg c = tiny_cfg("sgd:lr=1e-7");
    c.epochs = 60;   /* 240 steps, several windows of 50 */
    gd_trainer *tr = gd_trainer_new(&c);
    cr_assert_not_null(tr, "%s", gd_error());
    gd_train_log log;
    cr_assert_eq(gd_trainer_run(tr, &log), 0);
    cr_expect_eq(log.collapsed_at, -1);
    cr_expect_eq(gd_trainer_flat_steps(tr), 0);
    cr_expect(fabs(log.rows[log.n - 1].train_loss - log.rows[0].train_loss) < 0.05, "the run should not learn");
    gd_train_log_free(&log);
    gd_trainer_free(tr);
}

/* Kill every hidden unit (bias -1000: ReLU(x) = 0 for every input): the logits are the
 * last layer's bias for every image, every batch is flat, and the rule fires exactly
 * when the window is full. gd_trainer_run records it and goes on. */
static gd_trainer *dead_trainer(const char *optim) {
    gd_train_cfg c = tiny_cfg(optim);
    c.epochs = 30;   /* 120 steps */
    gd_trainer *tr = gd_trainer_new(&c);
    cr_assert_not_null(tr, "%s", gd_error());
    gd_tensor *b0 = tr->model.params[1].value;   /* "0.bias" (H1) */
    for (size_t i = 0; i < b0->size; i++) b0->data[i] = -1000.0f;
    return tr;
}

Test(lib_monitor, collapse_rule_fires_on_a_dead_network, .init = setup, .fini = teardown) {
    gd_trainer *tr = dead_trainer("sgd:lr=0.1:momentum=0.9");
    gd_train_log log;
    cr_assert_eq(gd_trainer_run(tr, &log), 0);
    cr_expect_eq(log.collapsed_at, tr->cfg.collapse_window, "collapsed at %ld", log.collapsed_at);
    cr_expect_eq(log.steps, 120, "gd_trainer_run records a collapse, it does not stop");
    cr_expect_eq(log.diverged_at, -1);
    gd_train_log_free(&log);
    gd_trainer_free(tr);
    /* off: never */
    gd_train_cfg c = tiny_cfg("sgd:lr=0.1");
    c.collapse_window = 0;
    tr = gd_trainer_new(&c);
    gd_tensor *b0 = tr->model.params[1].value;
    for (size_t i = 0; i < b0->size; i++) b0->data[i] = -1000.0f;
    cr_assert_eq(gd_trainer_run(tr, &log), 0);
    cr_expect_eq(log.collapsed_at, -1);
    gd_train_log_free(&log);
    gd_trainer_free(tr);
}

/* gd_fit without back-off ends the run at the collapse (an outcome, rc 0); with
 * back-off a collapse is an event: rolled back to a checkpoint at least a window old,
 * lr halved; the dead network stays dead, so it gives up after the retries, saying so. */
Test(lib_monitor, fit_stops_or_backs_off_on_a_collapse, .init = setup, .fini = teardown) {
    gd_trainer *tr = dead_trainer("sgd:lr=0.1");
    char dir[128];
    snprintf(dir, sizeof dir, "%s/collapse", tmpdir);
    gd_fit_cfg fc = {NULL, NULL, dir, NULL, 10, 0, 0, 0};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect_eq(res.log.collapsed_at, 50);
    cr_expect_eq(tr->step, 50);
    cr_expect(!res.gave_up && res.log.diverged_at == -1);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);

    tr = dead_trainer("sgd:lr=0.1");
    snprintf(dir, sizeof dir, "%s/collapse-backoff", tmpdir);
    gd_backoff_cfg bc = gd_backoff_defaults();
    bc.retries = 2;
    gd_fit_cfg fb = {NULL, &bc, dir, NULL, 10, 0, 0, 0};
    cr_assert_eq(gd_fit(tr, &fb, &res), 0, "%s", gd_error());
    cr_expect_eq(res.nevents, 2);
    for (int i = 0; i < res.nevents; i++) {
        cr_expect_eq(res.events[i].kind, GD_EVENT_COLLAPSE);
        cr_expect(res.events[i].rollback_to <= res.events[i].step - 50, "event %d: step %ld, back to %ld", i,
                  res.events[i].step, res.events[i].rollback_to);
        cr_expect(fabs(res.events[i].lr_scale - pow(0.5, i + 1)) < 1e-15);
    }
    cr_expect(res.gave_up);
    cr_expect_eq(res.gave_up_kind, GD_EVENT_COLLAPSE);
    cr_expect(strstr(res.report, "gave up after 2 back-offs: the run collapsed") != NULL, "report: %s", res.report);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* A spike at step t goes back to a checkpoint of step t - 2 or older, never to t - 1
 * (which holds the weights that spiked): checkpoints every step, lr far too high. */
Test(lib_monitor, spike_rolls_back_past_the_weights_that_spiked, .init = setup, .fini = teardown) {
    gd_train_cfg c = tiny_cfg("sgd:lr=1e6");
    gd_trainer *tr = gd_trainer_new(&c);
    gd_backoff_cfg bc = gd_backoff_defaults();
    bc.retries = 3;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/spike-t2", tmpdir);
    gd_fit_cfg fc = {NULL, &bc, dir, NULL, 1, 0, 0, 0};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect(res.nevents >= 1);
    for (int i = 0; i < res.nevents; i++)
        cr_expect(res.events[i].rollback_to <= (res.events[i].step - 2 > 0 ? res.events[i].step - 2 : 0),
                  "spike at %ld went back to %ld", res.events[i].step, res.events[i].rollback_to);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* ECE (Guo et al. 2017, 15 bins) on a case worked by hand: all weights and biases 0, so
 * every image gets probability 0.1 for every class and is predicted as class 0 (the
 * first of equal logits). The 32 tiny images have labels i % 10: 4 of them are class 0,
 * so all 32 sit in the bin (1/15, 2/15] with accuracy 4/32 and confidence 0.1:
 * ECE = |0.125 - 0.1| = 0.025. */
Test(lib_monitor, calibration_error_by_hand, .init = setup, .fini = teardown) {
    gd_train_cfg c = tiny_cfg("sgd:lr=0.1");
    gd_trainer *tr = gd_trainer_new(&c);
    cr_assert_not_null(tr, "%s", gd_error());
    for (int p = 0; p < tr->model.nparams; p++)
        for (size_t i = 0; i < tr->model.params[p].value->size; i++) tr->model.params[p].value->data[i] = 0.0f;
    double loss, acc, ece;
    gd_trainer_eval_ece(tr, &tiny, NULL, 32, &loss, &acc, &ece);
    cr_expect(fabs(acc - 4.0 / 32) < 1e-12, "accuracy %g", acc);
    cr_expect(fabs(loss - log(10.0)) < 1e-6, "loss %g", loss);
    cr_expect(fabs(ece - 0.025) < 1e-6, "ECE %g, expected 0.025", ece);
    gd_trainer_free(tr);
}

/* ------------------------------------------------------------------------------- */
/* Resuming never hides damage (monitor.h): a damaged checkpoint is never deleted or
 * written over, passing over one says so in one line, and nothing loadable is an error
 * unless the run asked to start fresh (GD_FIT_RESUME_OR_START). */

/* "name:size:crc name:size:crc ..." of every entry of dir, sorted by name (malloc'd):
 * equal strings, an unchanged directory. */
static char *dir_state(const char *dir) {
    struct dirent **e;
    int n = scandir(dir, &e, NULL, alphasort);
    cr_assert(n >= 0, "%s", dir);
    size_t cap = 64 + (size_t)n * 300, len = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (e[i]->d_name[0] != '.') {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e[i]->d_name);
            FILE *f = fopen(p, "rb");
            uLong crc = crc32(0L, Z_NULL, 0);
            long size = 0;
            unsigned char b[4096];
            size_t k;
            while (f && (k = fread(b, 1, sizeof b, f)) > 0) crc = crc32(crc, b, (uInt)k), size += (long)k;
            if (f) fclose(f);
            len += (size_t)snprintf(s + len, cap - len, "%s:%ld:%08lx ", e[i]->d_name, size, (unsigned long)crc);
        }
        free(e[i]);
    }
    free(e);
    return s;
}

static void flip_bit(const char *path, long off) {
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    int c = fgetc(f);
    cr_assert_eq(fseek(f, off, SEEK_SET), 0);
    fputc(c ^ 0x04, f);
    fclose(f);
}

/* crc:size of a file, to find its bytes again under another name */
static char *file_id(const char *path) {
    char dir[256], name[256];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    snprintf(name, sizeof name, "%s:", slash + 1);
    char *st = dir_state(dir), *at = strstr(st, name);
    cr_assert_not_null(at, "%s", path);
    char *id = strdup(at + strlen(name));
    *strchr(id, ' ') = '\0';
    free(st);
    return id;
}

/* The run of fit_resumes_exactly, killed after step 17 (ckpt-00000014.bin,
 * ckpt-00000016.bin and best.bin kept); and the straight run's final parameters. */
static gd_train_cfg resume_cfg(void) {
    gd_train_cfg c = tiny_cfg("adam:lr=0.01");
    c.sched = "warmup:T=5,cosine:T=100";
    c.epochs = 10;
    return c;
}

static void killed_run(const char *dir) {
    gd_train_cfg c = resume_cfg();
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg killed = {NULL, NULL, dir, NULL, 7, 2, 17, GD_FIT_START};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &killed, &res), 0, "%s", gd_error());
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

static void straight_final(const char *path) {
    gd_train_cfg c = resume_cfg();
    char dir[160];
    snprintf(dir, sizeof dir, "%s/straight", tmpdir);
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg fc = {NULL, NULL, dir, NULL, 7, 2, 0, GD_FIT_START};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_assert_eq(gd_ckpt_save(tr, path, NAN), 0, "%s", gd_error());
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

Test(lib_monitor, resume_with_nothing_loadable_is_an_error_and_keeps_the_files, .init = setup, .fini = teardown) {
    char dir[128], p[192];
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    killed_run(dir);
    const char *names[3] = {"ckpt-00000014.bin", "ckpt-00000016.bin", "best.bin"};
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        flip_bit(p, 1000 + 37 * i);
        ids[i] = file_id(p);
    }
    char *before = dir_state(dir);

    gd_train_cfg c = resume_cfg();
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg fc = {NULL, NULL, dir, NULL, 7, 2, 0, GD_FIT_RESUME};
    gd_fit_result res;
    cr_expect_eq(gd_fit(tr, &fc, &res), -1, "resumed from nothing loadable without an error");
    const char *e = gd_error();
    cr_expect(res.resume_error);
    cr_expect(strstr(e, "no loadable checkpoint in") && strstr(e, dir) && strstr(e, "3 damaged") &&
              strstr(e, "ckpt-00000016.bin: damaged") && !strchr(e, '\n'), "error: %s", e);
    cr_expect_eq(tr->step, 0, "the trainer was changed");
    char *after = dir_state(dir);
    cr_expect_str_eq(after, before, "the directory changed");
    free(after);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);

    /* asked to start fresh: it does, says what it found, and the damaged bytes stay */
    tr = gd_trainer_new(&c);
    fc.resume = GD_FIT_RESUME_OR_START;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect_eq(res.resumed_from, -1);
    cr_assert(res.nnotes >= 1);
    cr_expect(strstr(res.notes[0], "no loadable checkpoint") && strstr(res.notes[0], "3 damaged") &&
              strstr(res.notes[0], "starting from step 0") && !strchr(res.notes[0], '\n'), "note: %s", res.notes[0]);
    after = dir_state(dir);
    for (int i = 0; i < 3; i++) cr_expect(strstr(after, ids[i]), "the damaged %s is lost: %s", names[i], after);
    char fa[160], fb[160];
    snprintf(fa, sizeof fa, "%s/straight.bin", tmpdir);
    snprintf(fb, sizeof fb, "%s/fresh.bin", tmpdir);
    cr_assert_eq(gd_ckpt_save(tr, fb, NAN), 0, "%s", gd_error());
    straight_final(fa);
    expect_same_params(fa, fb);
    free(after), free(before);
    for (int i = 0; i < 3; i++) free(ids[i]);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* A missing or empty directory: GD_FIT_RESUME refuses, GD_FIT_RESUME_OR_START starts
 * (and says nothing: there was no damage). */
Test(lib_monitor, resume_from_a_missing_or_empty_directory, .init = setup, .fini = teardown) {
    char dir[128];
    gd_train_cfg c = tiny_cfg("sgd:lr=0.1");
    c.epochs = 1;
    for (int k = 0; k < 2; k++) {
        snprintf(dir, sizeof dir, "%s/%s", tmpdir, k ? "empty" : "missing");
        if (k) cr_assert_eq(mkdir(dir, 0777), 0);
        gd_trainer *tr = gd_trainer_new(&c);
        gd_fit_cfg fc = {NULL, NULL, dir, NULL, 0, 2, 0, GD_FIT_RESUME};
        gd_fit_result res;
        cr_expect_eq(gd_fit(tr, &fc, &res), -1);
        cr_expect(res.resume_error);
        cr_expect(strstr(gd_error(), dir) && strstr(gd_error(), "no checkpoint to resume from"), "%s", gd_error());
        gd_fit_result_free(&res);
        fc.resume = GD_FIT_RESUME_OR_START;
        cr_expect_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
        cr_expect(res.resumed_from == -1 && res.nnotes == 0 && tr->step == 4);
        gd_fit_result_free(&res);
        gd_trainer_free(tr);
    }
}

/* The newest checkpoint damaged: resume from the one before it, say so in one line
 * naming both, keep the damaged bytes (renamed aside when the resumed run saves that
 * step again, which it also says), and still end bitwise where the straight run ends. */
Test(lib_monitor, resume_falls_back_past_a_damaged_checkpoint_and_says_so, .init = setup, .fini = teardown) {
    char dir[128], p[192];
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    killed_run(dir);
    snprintf(p, sizeof p, "%s/ckpt-00000016.bin", dir);
    flip_bit(p, 4321);
    char *id = file_id(p);
    gd_train_cfg c = resume_cfg();
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg fc = {NULL, NULL, dir, NULL, 7, 2, 0, GD_FIT_RESUME};
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect_eq(res.resumed_from, 14);
    cr_assert(res.nnotes >= 1, "no word about the damaged checkpoint");
    const char *n0 = res.notes[0];
    cr_expect(strstr(n0, "ckpt-00000016.bin") && strstr(n0, "ckpt-00000014.bin") && strstr(n0, "resuming from") &&
              !strchr(n0, '\n'), "note: %s", n0);
    int renamed = 0;
    for (int i = 1; i < res.nnotes; i++) renamed += strstr(res.notes[i], "ckpt-00000016.bin.damaged") != NULL;
    cr_expect_eq(renamed, 1, "the renaming aside was not noted once");
    char *after = dir_state(dir), want[128];
    snprintf(want, sizeof want, "ckpt-00000016.bin.damaged:%s ", id);
    cr_expect(strstr(after, want), "the damaged bytes are lost: %s", after);
    char fa[160], fb[160];
    snprintf(fa, sizeof fa, "%s/straight.bin", tmpdir);
    snprintf(fb, sizeof fb, "%s/resumed.bin", tmpdir);
    cr_assert_eq(gd_ckpt_save(tr, fb, NAN), 0, "%s", gd_error());
    straight_final(fa);
    expect_same_params(fa, fb);
    free(after), free(id);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

/* A back-off that has to pass over damaged checkpoints says so, and keeps them. The run
 * resumes from step 8 (9 and 10 damaged) and, with a threshold just above 1, the first
 * loss above the running median is a spike: going back to step <= t - 2 passes over 9
 * and 10 for 8 (the resumed run saves nothing before its evaluation at step 12, and
 * the first spike comes before that is within reach). */
Test(lib_monitor, backoff_past_a_damaged_checkpoint_says_so, .init = setup, .fini = teardown) {
    char dir[128], p[192];
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    gd_train_cfg c = resume_cfg();
    gd_trainer *tr = gd_trainer_new(&c);
    gd_fit_cfg first = {NULL, NULL, dir, NULL, 1, 0, 10, GD_FIT_START};   /* ckpt-0 ... ckpt-10 */
    gd_fit_result res;
    cr_assert_eq(gd_fit(tr, &first, &res), 0, "%s", gd_error());
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
    char *id[2];
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/ckpt-%08d.bin", dir, 9 + k);
        flip_bit(p, 1234);
        id[k] = file_id(p);
    }
    tr = gd_trainer_new(&c);
    gd_backoff_cfg bc = gd_backoff_defaults();
    bc.threshold = 1.000001;
    bc.retries = 1;
    gd_fit_cfg fc = {NULL, &bc, dir, NULL, 0, 0, 0, GD_FIT_RESUME};
    cr_assert_eq(gd_fit(tr, &fc, &res), 0, "%s", gd_error());
    cr_expect_eq(res.resumed_from, 8);
    cr_assert(res.nevents >= 1, "no back-off: not a test of backing off");
    cr_assert(res.events[0].step - 2 < 12, "the first spike at step %ld: it may go back to the save of step 12",
              res.events[0].step);
    cr_expect_eq(res.events[0].rollback_to, 8);
    int noted = 0;
    for (int i = 0; i < res.nnotes; i++)
        noted += strstr(res.notes[i], "backing off to") && strstr(res.notes[i], "ckpt-00000008.bin") &&
                 strstr(res.notes[i], "damaged") && !strchr(res.notes[i], '\n');
    cr_expect_eq(noted, 1, "the back-off past damaged checkpoints was not noted once (%d notes)", res.nnotes);
    char *after = dir_state(dir);
    for (int k = 0; k < 2; k++) cr_expect(strstr(after, id[k]), "damaged bytes lost: %s", after);
    free(after), free(id[0]), free(id[1]);
    gd_fit_result_free(&res);
    gd_trainer_free(tr);
}

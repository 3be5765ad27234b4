/* test_ch07.c -- the claims Chapter 7 makes, checked on the runs that `make` produced
 * (and on small runs made here), in any build: any seed base (the seeds are read from
 * the tables), any arithmetic. Early stopping fires where its rules say on the logged
 * validation curves and restores the best weights bitwise, fired or not; what
 * restoring buys holds in every seed; the plain runs at a too-high lr die and the
 * back-off runs learn in most seeds; every back-off is logged as the rules say; an
 * impossible lr gives up, an outcome with a report; a killed and resumed run ends
 * bitwise where the straight run ends; heavy-ball momentum's stability bound.
 * Margins, never numbers copied from an earlier run.
 */
#include "../common.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIT GD_BIN "ch07-fit"
#define D07 GD_BUILD_DIR "/ch07/"

/* The MODL section (the parameters) of a checkpoint file. */
static unsigned char *params_of(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    unsigned char head[36];
    cr_assert_eq(fread(head, 1, 36, f), 36);
    cr_assert(memcmp(head + 24, "MODL", 4) == 0, "%s: no MODL section", path);
    unsigned long long len = 0;
    for (int i = 0; i < 8; i++) len |= (unsigned long long)head[28 + i] << (8 * i);
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

static int streq_num(const char *path_a, const char *key_a, const char *path_b, const char *key_b) {
    char *a = t_str(path_a, key_a), *b = t_str(path_b, key_b);
    int eq = strcmp(a, b) == 0;
    free(a);
    free(b);
    return eq;
}

/* The column `name` of every row of table t, as numbers (malloc'd, t->nrows of them). */
static double *col(const t_tsv *t, const char *name) {
    int c = t_tsv_col(t, name);
    double *v = malloc((size_t)(t->nrows ? t->nrows : 1) * sizeof *v);
    for (int i = 0; i < t->nrows; i++) v[i] = t_tsv_num(t, i, c);
    return v;
}

/* ---------------------------------------------------------------------------------- */
/* §7.2 Early stopping. The rules applied here, independently of lib/monitor.c, to the
 * logged validation curve of each seed of the run that never stopped: where patience p
 * fires (the p-th evaluation in a row that does not beat the best, strictly) and the
 * best epoch before it. */
static void replay(const t_tsv *log, double seed, int acc, int patience, int *best_epoch, int *fire_epoch) {
    int cs = t_tsv_col(log, "seed"), ce = t_tsv_col(log, "epoch"), cm = t_tsv_col(log, acc ? "val_acc" : "val_loss");
    double best = acc ? -INFINITY : INFINITY, last = -1;
    int wait = 0;
    *best_epoch = *fire_epoch = -1;
    for (int i = 0; i < log->nrows && *fire_epoch < 0; i++) {
        double m = t_tsv_num(log, i, cm);
        if (t_tsv_num(log, i, cs) != seed || isnan(m)) continue;
        int epoch = (int)lround(t_tsv_num(log, i, ce));
        last = epoch;
        if (acc ? m > best : m < best) best = m, *best_epoch = epoch, wait = 0;
        else if (++wait >= patience) *fire_epoch = epoch;
    }
    if (*fire_epoch < 0) *fire_epoch = (int)last;   /* never fired: the run's end */
}

Test(ch07_early, fires_where_the_rules_say_on_the_logged_curves) {
    t_tsv *log = t_tsv_read(D07 "full.tsv"), *runs = t_tsv_read(D07 "runs-full.tsv");
    double *seed = col(runs, "seed"), *s1 = col(runs, "wi1_stop_epoch"), *b1 = col(runs, "wi1_best_epoch"),
           *s2 = col(runs, "wi2_stop_epoch"), *b2 = col(runs, "wi2_best_epoch");
    cr_assert_eq(runs->nrows, t_num(D07 "numbers-full.tsv", "full_seeds"));
    cr_assert(runs->nrows >= 5, "claims over seeds need at least 5");
    int fired = 0;
    for (int i = 0; i < runs->nrows; i++) {
        int best, fire;
        replay(log, seed[i], 0, 5, &best, &fire);   /* monitor=val_loss:patience=5 */
        cr_expect_eq(s1[i], fire, "seed %g: val_loss patience 5 fires at %d, the table says %g", seed[i], fire, s1[i]);
        cr_expect_eq(b1[i], best, "seed %g: best val loss at %d, the table says %g", seed[i], best, b1[i]);
        fired += fire < 60;
        replay(log, seed[i], 1, 10, &best, &fire);  /* monitor=val_acc:patience=10 */
        cr_expect_eq(s2[i], fire, "seed %g: val_acc patience 10 fires at %d, the table says %g", seed[i], fire, s2[i]);
        cr_expect_eq(b2[i], best, "seed %g: best val acc at %d, the table says %g", seed[i], best, b2[i]);
    }
    cr_expect_eq(fired, runs->nrows, "patience 5 on val_loss should fire in every seed (the curve turns)");
    free(seed), free(s1), free(b1), free(s2), free(b2);
    t_tsv_free(runs);

    /* the runs that really stopped (the first seed) are the full run cut short, row by row */
    const char *stopped[2] = {D07 "esloss.tsv", D07 "esacc.tsv"};
    for (int k = 0; k < 2; k++) {
        t_tsv *es = t_tsv_read(stopped[k]);
        cr_assert(es->nrows > 0);
        double s0 = t_tsv_num(es, 0, t_tsv_col(es, "seed"));
        int off = -1;
        for (int i = 0; i < log->nrows && off < 0; i++)
            if (t_tsv_num(log, i, 0) == s0) off = i;
        cr_assert(off >= 0, "seed %g is not in full.tsv", s0);
        for (int i = 0; i < es->nrows; i++)
            for (int c = 0; c < es->ncols; c++)
                cr_expect_str_eq(t_tsv_cell(es, i, c), t_tsv_cell(log, off + i, c), "%s row %d column %s differs",
                                 stopped[k], i, es->names[c]);
        int best, fire;
        replay(log, s0, k, k ? 10 : 5, &best, &fire);
        const char *num = k ? D07 "numbers-esacc.tsv" : D07 "numbers-esloss.tsv";
        cr_expect_eq(t_num(num, k ? "esacc_stop_epoch" : "esloss_stop_epoch"), fire);
        cr_expect_eq(t_num(num, k ? "esacc_best_epoch" : "esloss_best_epoch"), best);
        cr_expect_eq(t_tsv_num(es, es->nrows - 1, t_tsv_col(es, "epoch")), fire);
        t_tsv_free(es);
    }
    cr_expect_eq(t_num(D07 "numbers-esloss.tsv", "esloss_stopped_early"), 1);
    t_tsv_free(log);
}

/* Restored weights are best.bin's, bitwise: when the stop fired (esloss, esacc) and
 * when the run ran out without it (full, first seed). Both val_loss runs end with the
 * same model. */
Test(ch07_early, restores_the_best_weights_fired_or_not) {
    char best[256];
    snprintf(best, sizeof best, D07 "ckpt/full/s%.0f/best.bin", t_num(D07 "numbers-full.tsv", "full_seed_first"));
    expect_same_params(D07 "full-final.bin", best);
    expect_same_params(D07 "esloss-final.bin", D07 "ckpt/esloss/best.bin");
    expect_same_params(D07 "esacc-final.bin", D07 "ckpt/esacc/best.bin");
    cr_expect(streq_num(D07 "numbers-full.tsv", "full_params", D07 "numbers-esloss.tsv", "esloss_params"));
    cr_expect_eq(t_num(D07 "numbers-full.tsv", "full_n_finished"), t_num(D07 "numbers-full.tsv", "full_seeds"));
}

/* What the text says restoring buys, in every seed: the last epoch's validation and test
 * loss are far above the best epoch's, and so is its calibration error; the test accuracy
 * moves by a few points at most. Stopping saves most of the updates; the weights where
 * the stop fires have a higher test loss than the restored ones (medians). */
Test(ch07_early, best_epoch_beats_last_epoch_on_loss_and_calibration) {
    t_tsv *r = t_tsv_read(D07 "runs-full.tsv");
    double *best = col(r, "best_metric"), *lastv = col(r, "last_val_loss"), *lastt = col(r, "last_test_loss"),
           *fint = col(r, "final_test_loss"), *lasta = col(r, "last_test_acc"), *fina = col(r, "final_test_acc"),
           *laste = col(r, "last_test_ece"), *fine = col(r, "final_test_ece"), *stopl = col(r, "wi1_stop_test_loss"),
           *bestl = col(r, "wi1_best_test_loss");
    int n = r->nrows;
    for (int i = 0; i < n; i++) {
        cr_expect(lastv[i] > 1.2 * best[i], "seed row %d: last val loss %g, best %g", i, lastv[i], best[i]);
        cr_expect(lastt[i] > 1.2 * fint[i], "seed row %d: last test loss %g, restored %g", i, lastt[i], fint[i]);
        cr_expect(fine[i] < 0.8 * laste[i], "seed row %d: ECE restored %g, last %g", i, fine[i], laste[i]);
        cr_expect(fabs(lasta[i] - fina[i]) < 4, "seed row %d: accuracy last %g, restored %g", i, lasta[i], fina[i]);
    }
    cr_expect_eq(t_num(D07 "numbers-full.tsv", "full_n_restore_lower_ece"), n);
    /* "restoring the lowest validation loss does not buy accuracy": the median change
     * (restored minus last epoch) is not a gain of half a point or more */
    double *gain = malloc((size_t)n * sizeof *gain);
    for (int i = 0; i < n; i++) gain[i] = fina[i] - lasta[i];
    cr_expect(t_median(gain, n) < 0.5, "restoring changed the test accuracy by %g (median)", t_median(gain, n));
    free(gain);
    cr_expect_eq(t_num(D07 "numbers-full.tsv", "full_n_restore_lower_loss"), n);
    cr_expect(t_median(stopl, n) > t_median(bestl, n), "stopped, not restored: test loss %g vs restored %g",
              t_median(stopl, n), t_median(bestl, n));
    cr_expect(t_num(D07 "numbers-esloss.tsv", "esloss_steps") < 0.5 * t_num(D07 "numbers-full.tsv", "full_total_steps"));
    free(best), free(lastv), free(lastt), free(fint), free(lasta), free(fina), free(laste), free(fine), free(stopl),
        free(bestl);
    t_tsv_free(r);

    /* reduce-on-plateau in the same loop: every seed stopped and lowered its lr; the
     * median best validation loss is below the constant-lr runs' median */
    t_tsv *p = t_tsv_read(D07 "plateau.tsv");
    int cs = t_tsv_col(p, "seed"), clr = t_tsv_col(p, "lr");
    for (int i = 0; i < p->nrows; i++) {
        int lastrow = i + 1 == p->nrows || t_tsv_num(p, i + 1, cs) != t_tsv_num(p, i, cs);
        if (lastrow) cr_expect(t_tsv_num(p, i, clr) < 0.1 * t_tsv_num(p, 0, clr), "plateau seed %g: lr %g at the end",
                               t_tsv_num(p, i, cs), t_tsv_num(p, i, clr));
    }
    t_tsv_free(p);
    t_tsv *pr = t_tsv_read(D07 "runs-plateau.tsv"), *fr = t_tsv_read(D07 "runs-full.tsv");
    double *stopped = col(pr, "stopped_early"), *pb = col(pr, "best_metric"), *fb = col(fr, "best_metric");
    for (int i = 0; i < pr->nrows; i++) cr_expect_eq(stopped[i], 1);
    cr_expect(t_median(pb, pr->nrows) < t_median(fb, fr->nrows), "plateau median best val loss %g, constant lr %g",
              t_median(pb, pr->nrows), t_median(fb, fr->nrows));
    free(stopped), free(pb), free(fb);
    t_tsv_free(pr);
    t_tsv_free(fr);
}

/* ---------------------------------------------------------------------------------- */
/* §7.3 Spikes and back-off. What the text says holds in every build: every plain run
 * dies (diverged or collapsed), none learns; the back-off runs learn (finish above 20 %
 * test accuracy) in at least 3 of 5 seeds at each rate and never hit the divergence
 * rule; the counts in the text add up. */
Test(ch07_spike, plain_runs_die_backoff_runs_learn_in_most_seeds) {
    const char *lrs[2] = {"08", "07"};
    for (int k = 0; k < 2; k++) {
        char pn[128], bn[128], key[64];
        snprintf(pn, sizeof pn, D07 "numbers-plain%s.tsv", lrs[k]);
        snprintf(bn, sizeof bn, D07 "numbers-backoff%s.tsv", lrs[k]);
        double seeds = t_num(pn, (snprintf(key, sizeof key, "plain%s_seeds", lrs[k]), key));
        cr_assert(seeds >= 5);
        cr_expect_eq(t_num(pn, (snprintf(key, sizeof key, "plain%s_n_dead", lrs[k]), key)), seeds,
                     "lr 0.%c: every plain run should die", lrs[k][1]);
        cr_expect_eq(t_num(pn, (snprintf(key, sizeof key, "plain%s_n_learned", lrs[k]), key)), 0);
        double learned = t_num(bn, (snprintf(key, sizeof key, "backoff%s_n_learned", lrs[k]), key));
        cr_expect(learned >= 3 && learned <= seeds, "lr 0.%c: back-off learned in %g of %g", lrs[k][1], learned,
                  seeds);
        cr_expect_eq(t_num(bn, (snprintf(key, sizeof key, "backoff%s_n_diverged", lrs[k]), key)), 0);
        double fin = t_num(bn, (snprintf(key, sizeof key, "backoff%s_n_finished", lrs[k]), key)),
               gave = t_num(bn, (snprintf(key, sizeof key, "backoff%s_n_gave_up", lrs[k]), key)),
               col_ = t_num(bn, (snprintf(key, sizeof key, "backoff%s_n_collapsed", lrs[k]), key));
        cr_expect_eq(fin + gave + col_, seeds);
        /* "the final test accuracy of the back-off runs that finished spreads widely" */
        double lo = t_num(bn, (snprintf(key, sizeof key, "backoff%s_finished_test_acc_min", lrs[k]), key)),
               hi = t_num(bn, (snprintf(key, sizeof key, "backoff%s_finished_test_acc_max", lrs[k]), key));
        cr_expect(hi - lo >= 10, "lr 0.%c: finished back-off runs between %g and %g %%", lrs[k][1], lo, hi);
    }
}

/* A plain run stopped as collapsed sits at chance with the loss of a constant guess
 * (about ln 10); one stopped as diverged has a loss far above its start. */
Test(ch07_spike, collapsed_runs_sit_at_chance) {
    const char *files[2] = {D07 "runs-plain08.tsv", D07 "runs-plain07.tsv"};
    for (int k = 0; k < 2; k++) {
        t_tsv *r = t_tsv_read(files[k]);
        int co = t_tsv_col(r, "outcome"), cl = t_tsv_col(r, "end_loss"), ca = t_tsv_col(r, "final_test_acc");
        for (int i = 0; i < r->nrows; i++) {
            const char *o = t_tsv_cell(r, i, co);
            if (strcmp(o, "collapsed") == 0) {
                cr_expect(fabs(t_tsv_num(r, i, cl) - log(10.0)) < 0.1, "%s row %d: loss %g", files[k], i,
                          t_tsv_num(r, i, cl));
                cr_expect(t_tsv_num(r, i, ca) < 12, "%s row %d: accuracy %g", files[k], i, t_tsv_num(r, i, ca));
            } else {
                cr_expect_str_eq(o, "diverged", "%s row %d", files[k], i);
                cr_expect(t_tsv_num(r, i, cl) > 10 * log(10.0) || isnan(t_tsv_num(r, i, cl)));
            }
        }
        t_tsv_free(r);
    }
}

/* Every back-off is logged as the rules say: the lr halves each time; a spike's loss is
 * above threshold x median (or not finite) and it goes back at least 2 steps; a
 * collapse goes back at least the collapse window (or to the oldest kept checkpoint);
 * the per-seed counts match the runs table. */
Test(ch07_spike, every_backoff_is_logged) {
    const char *lrs[2] = {"08", "07"};
    for (int k = 0; k < 2; k++) {
        char ef[128], rf[128], nf[128], key[64];
        snprintf(ef, sizeof ef, D07 "events-backoff%s.tsv", lrs[k]);
        snprintf(rf, sizeof rf, D07 "runs-backoff%s.tsv", lrs[k]);
        snprintf(nf, sizeof nf, D07 "numbers-backoff%s.tsv", lrs[k]);
        double lr0 = t_num(nf, (snprintf(key, sizeof key, "backoff%s_lr", lrs[k]), key));
        double window = t_num(nf, (snprintf(key, sizeof key, "backoff%s_collapse_window", lrs[k]), key));
        t_tsv *e = t_tsv_read(ef), *r = t_tsv_read(rf);
        int es = t_tsv_col(e, "seed"), ek = t_tsv_col(e, "kind"), est = t_tsv_col(e, "step"), el = t_tsv_col(e, "loss"),
            em = t_tsv_col(e, "median"), eb = t_tsv_col(e, "rollback_to"), esc = t_tsv_col(e, "lr_scale"),
            elr = t_tsv_col(e, "lr");
        int total = 0;
        for (int j = 0; j < r->nrows; j++) {
            double seed = t_tsv_num(r, j, t_tsv_col(r, "seed")), scale = 1;
            int n = 0;
            for (int i = 0; i < e->nrows; i++) {
                if (t_tsv_num(e, i, es) != seed) continue;
                scale *= 0.5;
                n++;
                double step = t_tsv_num(e, i, est), back = t_tsv_num(e, i, eb), loss = t_tsv_num(e, i, el);
                cr_expect(fabs(t_tsv_num(e, i, esc) - scale) < 1e-12 && fabs(t_tsv_num(e, i, elr) - lr0 * scale) < 1e-9,
                          "%s seed %g event %d: lr", ef, seed, n);
                if (strcmp(t_tsv_cell(e, i, ek), "spike") == 0) {
                    cr_expect(!isfinite(loss) || loss > 3 * t_tsv_num(e, i, em), "%s seed %g event %d", ef, seed, n);
                    cr_expect(back <= fmax(step - 2, 0), "%s seed %g: spike at %g went back to %g", ef, seed, step,
                              back);
                } else {
                    cr_expect_str_eq(t_tsv_cell(e, i, ek), "collapse");
                    cr_expect(back <= step - window || back < step, "%s seed %g: collapse at %g went back to %g", ef,
                              seed, step, back);
                }
            }
            cr_expect_eq(n, t_tsv_num(r, j, t_tsv_col(r, "backoffs")), "%s seed %g", ef, seed);
            total += n;
        }
        cr_expect_eq(total, t_num(nf, (snprintf(key, sizeof key, "backoff%s_spike_events", lrs[k]), key)) +
                                t_num(nf, (snprintf(key, sizeof key, "backoff%s_collapse_events", lrs[k]), key)));
        t_tsv_free(e);
        t_tsv_free(r);
    }
}

/* An lr no back-off can rescue: an outcome, not an error. Exit 0, the report on stdout,
 * "gave up" in the tables. */
Test(ch07_spike, impossible_lr_gives_up_with_a_report) {
    char dir[] = "/tmp/gdtest-ch07-XXXXXX", cmd[1024], numbers[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(numbers, sizeof numbers, "%s/numbers.tsv", dir);
    snprintf(cmd, sizeof cmd,
             FIT " --train-size 500 --val-size 500 --epochs 2 --optim sgd:lr=1000 --backoff retries=2 "
                 "--ckpt-dir %s/ck --numbers %s",
             dir, numbers);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d (%s)", cmd, r.status, r.err);
    cr_expect(strstr(r.out, "gave up after 2 back-offs") != NULL, "stdout: %s", r.out);
    t_free(&r);
    cr_expect_eq(t_num(numbers, "run_n_gave_up"), 1);
    char *o = t_str(numbers, "run_outcomes");
    cr_expect_str_eq(o, "1 gave up");
    free(o);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Heavy-ball momentum on a quadratic f = lambda theta^2 / 2, as PyTorch's SGD does it
 * (buf = beta buf + g; theta -= lr buf): stable for lr lambda < 2 (1 + beta) = 3.8 at
 * beta = 0.9, unstable above -- momentum raises the limit of plain GD (2). */
static double heavy_ball(double lr_lambda, double beta, int steps) {
    double theta = 1, buf = 0;
    for (int t = 0; t < steps; t++) {
        double g = theta;   /* lambda = 1 */
        buf = beta * buf + g;
        theta -= lr_lambda * buf;
    }
    return fabs(theta);
}

Test(ch07_spike, momentum_raises_the_stability_limit) {
    /* 300 steps: the stable runs shrink like 0.949^t (sqrt(beta)), the unstable ones grow
     * without overflowing */
    cr_expect(heavy_ball(2.5, 0.9, 300) < 1e-3, "eta lambda 2.5 (> 2) is stable with momentum 0.9");
    cr_expect(heavy_ball(3.7, 0.9, 300) < 1e-3, "eta lambda 3.7 < 3.8 is stable");
    cr_expect(heavy_ball(3.9, 0.9, 300) > 1e3, "eta lambda 3.9 > 3.8 is unstable");
    cr_expect(heavy_ball(2.1, 0.0, 300) > 1e3, "without momentum 2.1 > 2 is unstable");
}

/* ---------------------------------------------------------------------------------- */
/* §7.4 Killed and resumed: bitwise the straight run, from the newest checkpoint. */
Test(ch07_resume, killed_and_resumed_equals_straight) {
    cr_expect_eq(t_num(D07 "numbers-resumed.tsv", "resumed_resumed_from"), 40);
    cr_expect(streq_num(D07 "numbers-resumed.tsv", "resumed_params", D07 "numbers-straight.tsv", "straight_params"));
    expect_same_params(D07 "straight-final.bin", D07 "resumed-final.bin");
    char *dir = t_str(D07 "numbers-killed.tsv", "killed_dir");
    cr_expect_str_eq(dir, "best.bin ckpt-00000030.bin ckpt-00000040.bin");
    free(dir);
    /* the resumed log's rows are the straight log's rows for the same steps */
    t_tsv *s = t_tsv_read(D07 "straight.tsv"), *r = t_tsv_read(D07 "resumed.tsv");
    int ss = t_tsv_col(s, "step"), rs = t_tsv_col(r, "step"), sl = t_tsv_col(s, "train_loss"),
        rl = t_tsv_col(r, "train_loss");
    int matched = 0;
    for (int i = 0; i < r->nrows; i++)
        for (int j = 0; j < s->nrows; j++)
            if (t_tsv_num(s, j, ss) == t_tsv_num(r, i, rs)) {
                cr_expect_str_eq(t_tsv_cell(r, i, rl), t_tsv_cell(s, j, sl), "step %s", t_tsv_cell(r, i, rs));
                matched++;
            }
    cr_expect_eq(matched, r->nrows);
    t_tsv_free(s);
    t_tsv_free(r);
}

/* ---------------------------------------------------------------------------------- */
/* §7.4 Resuming never hides damage (lib/monitor.h): small runs made here. */

#define SMALL FIT " --train-size 500 --val-size 500 --seed 3"

/* "name:size:crc32 ..." of every entry of dir, sorted by name (malloc'd). */
static char *dir_state(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd '%s' && for f in $(ls -A); do printf '%%s:%%s ' \"$f\" \"$(cksum < \"$f\" | tr ' ' :)\"; done",
             dir);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    free(r.err);
    return r.out;
}

/* the "size:crc" part of dir_state for one file */
static char *file_id(const char *dir, const char *name) {
    char *st = dir_state(dir), key[128];
    snprintf(key, sizeof key, " %s:", name);
    char *spaced = malloc(strlen(st) + 2);
    sprintf(spaced, " %s", st);
    char *at = strstr(spaced, key);
    cr_assert_not_null(at, "%s not in %s", name, st);
    char *id = strdup(at + strlen(key));
    *strchr(id, ' ') = '\0';
    free(st), free(spaced);
    return id;
}

static void flip_bit(const char *path, long off) {
    FILE *f = fopen(path, "r+b");
    cr_assert_not_null(f, "%s", path);
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ 0x08, f);
    fclose(f);
}

static void run_ok(const char *cmd) {
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d (%s)", cmd, r.status, r.err);
    t_free(&r);
}

/* One bit flipped in the only checkpoint (and in best.bin, its copy): --resume refuses,
 * exit 2, one line with the reason, nothing written and nothing in the directory
 * changed; --resume-or-start starts from step 0, says why, and keeps the damaged bytes. */
Test(ch07_resume, only_damaged_checkpoints_is_an_error) {
    char dir[] = "/tmp/gdtest-ch07-XXXXXX", ck[128], cmd[1024], num[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(num, sizeof num, "%s/numbers.tsv", dir);
    snprintf(cmd, sizeof cmd, SMALL " --epochs 2 --ckpt-dir %s --keep-last 1 --stop-at 4", ck);
    run_ok(cmd);
    char p[192];
    snprintf(p, sizeof p, "%s/ckpt-00000004.bin", ck);
    flip_bit(p, 1000);
    snprintf(p, sizeof p, "%s/best.bin", ck);
    flip_bit(p, 1001);
    char *before = dir_state(ck), *id_ckpt = file_id(ck, "ckpt-00000004.bin"), *id_best = file_id(ck, "best.bin");
    cr_assert(strstr(before, "ckpt-00000004.bin") && strstr(before, "best.bin"), "%s", before);

    snprintf(cmd, sizeof cmd, SMALL " --epochs 2 --ckpt-dir %s --keep-last 1 --resume --numbers %s", ck, num);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2, "exit %d (stderr: %s)", r.status, r.err);
    cr_expect_eq(t_lines(r.err), 1, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "--resume") && strstr(r.err, "no loadable checkpoint") &&
              strstr(r.err, "ckpt-00000004.bin"), "stderr: %s", r.err);
    cr_expect_str_empty(r.out);
    t_free(&r);
    cr_expect_neq(access(num, F_OK), 0, "--numbers was written by a refused resume");
    char *after = dir_state(ck);
    cr_expect_str_eq(after, before, "the checkpoint directory changed");
    free(after);

    snprintf(cmd, sizeof cmd, SMALL " --epochs 2 --ckpt-dir %s --keep-last 1 --resume-or-start --numbers %s", ck, num);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "exit %d (stderr: %s)", r.status, r.err);
    cr_expect(strstr(r.err, "starting from step 0") && strstr(r.err, "ckpt-00000004.bin"), "stderr: %s", r.err);
    t_free(&r);
    cr_expect_eq(t_num(num, "run_resumed_from"), -1);
    after = dir_state(ck);
    cr_expect(strstr(after, id_ckpt) && strstr(after, id_best), "the damaged bytes are gone: %s", after);
    free(after), free(before), free(id_ckpt), free(id_best);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* The newest checkpoint damaged, an older one good: resume from the older one, one line
 * on stderr naming both, the damaged bytes kept, and the end bitwise the straight run's. */
Test(ch07_resume, falls_back_past_a_damaged_checkpoint_in_one_line) {
    char dir[] = "/tmp/gdtest-ch07-XXXXXX", ck[128], cmd[1024], num[128], straight[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ck, sizeof ck, "%s/ck", dir);
    snprintf(num, sizeof num, "%s/numbers.tsv", dir);
    snprintf(straight, sizeof straight, "%s/straight.tsv", dir);
    const char *run = SMALL " --epochs 3 --ckpt-every 3 --keep-last 2";
    snprintf(cmd, sizeof cmd, "%s --ckpt-dir %s/straight --numbers %s", run, dir, straight);
    run_ok(cmd);
    snprintf(cmd, sizeof cmd, "%s --ckpt-dir %s --stop-at 7", run, ck);
    run_ok(cmd);
    char p[192];
    snprintf(p, sizeof p, "%s/ckpt-00000006.bin", ck);
    cr_assert_eq(access(p, F_OK), 0, "the killed run should have left ckpt-00000006.bin");
    flip_bit(p, 2000);
    char *id = file_id(ck, "ckpt-00000006.bin");

    snprintf(cmd, sizeof cmd, "%s --ckpt-dir %s --resume --numbers %s", run, ck, num);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "exit %d (stderr: %s)", r.status, r.err);
    int lines = 0;
    for (char *l = r.err; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = '\0';
        if (strstr(l, "resuming from")) {
            lines++;
            cr_expect(strstr(l, "ckpt-00000006.bin") && strstr(l, "ckpt-00000004.bin"), "line: %s", l);
        }
        l = nl ? nl + 1 : NULL;
    }
    cr_expect_eq(lines, 1, "one line about the fallback expected, stderr: %s", r.err);
    t_free(&r);
    cr_expect_eq(t_num(num, "run_resumed_from"), 4);
    cr_expect(streq_num(num, "run_params", straight, "run_params"), "the resumed run is not the straight run");
    char *after = dir_state(ck), want[160];
    snprintf(want, sizeof want, "ckpt-00000006.bin.damaged:%s", id);
    cr_expect(strstr(after, want), "the damaged bytes are gone: %s", after);
    free(after), free(id);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* --final follows a symlink (the target written, the link kept) and writes a FIFO in
 * place (a reader gets the checkpoint; the FIFO is still a FIFO), as out.h's policy
 * says; a link to /dev/full fails with ENOSPC, exit 1, in one line. */
Test(ch07_cli, final_follows_symlinks_and_writes_fifos_in_place, .timeout = 120) {
    char dir[] = "/tmp/gdtest-ch07-XXXXXX", cmd[1024], p[160], q[160];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/target.bin", dir);
    FILE *f = fopen(p, "w");
    fputs("old", f);
    fclose(f);
    snprintf(q, sizeof q, "%s/link.bin", dir);
    cr_assert_eq(symlink(p, q), 0);
    snprintf(cmd, sizeof cmd, SMALL " --epochs 1 --final %s", q);
    run_ok(cmd);
    struct stat st;
    cr_assert_eq(lstat(q, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced");
    char *t = t_slurp(p);
    cr_expect(t && strncmp(t, "GDCKPT", 6) == 0, "the link's target does not hold the checkpoint");
    free(t);

    snprintf(p, sizeof p, "%s/pipe", dir);
    cr_assert_eq(mkfifo(p, 0600), 0);
    snprintf(cmd, sizeof cmd, "( (timeout 60 cat %s/pipe > %s/got &) ; " SMALL " --epochs 1 --final %s/pipe; s=$?; "
             "sleep 0.2; exit $s )", dir, dir, dir);
    run_ok(cmd);
    cr_assert_eq(lstat(p, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced by a regular file");
    snprintf(q, sizeof q, "%s/got", dir);
    t = t_slurp(q);
    cr_expect(t && strncmp(t, "GDCKPT", 6) == 0, "the FIFO's reader did not get the checkpoint");
    free(t);

    if (access("/dev/full", W_OK) == 0) {
        snprintf(q, sizeof q, "%s/full.bin", dir);
        cr_assert_eq(symlink("/dev/full", q), 0);
        snprintf(cmd, sizeof cmd, SMALL " --epochs 1 --final %s", q);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.err);
        cr_expect(t_lines(r.err) == 1 && strstr(r.err, "No space left"), "stderr: %s", r.err);
        t_free(&r);
        cr_expect(lstat(q, &st) == 0 && S_ISLNK(st.st_mode), "the link to /dev/full was replaced");
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* ---------------------------------------------------------------------------------- */
Test(ch07_cli, bad_options_rejected) {
    t_assert_rejects(FIT " --early patience=-1", 2, "--early");
    t_assert_rejects(FIT " --early monitor=accuracy", 2, "--early");
    t_assert_rejects(FIT " --what-if 'patience=5;monitor=x'", 2, "--what-if");
    t_assert_rejects(FIT " --backoff factor=2 --ckpt-dir /tmp/x", 2, "--backoff");
    t_assert_rejects(FIT " --backoff factor=0.5", 2, "--ckpt-dir");
    t_assert_rejects(FIT " --epochs 0", 2, "--epochs");
    t_assert_rejects(FIT " --seeds 0", 2, "--seeds");
    t_assert_rejects(FIT " --collapse-window -1", 2, "--collapse-window");
    t_assert_rejects(FIT " --train-size 59000 --val-size 5000", 2, "--train-size");
    t_assert_rejects(FIT " --optim sgd:lr=-1", 2, "--optim");
    t_assert_rejects(FIT " --sched cosine:T=0", 2, "--sched");
    t_assert_rejects(FIT " --dims 784-12x", 2, "--dims");
    t_assert_rejects(FIT " --resume-or-start", 2, "--ckpt-dir");
    t_assert_rejects(FIT " --data /nonexistent/fmnist", 2, "/nonexistent/fmnist");   /* was exit 1 */
    t_assert_rejects(FIT " --resume --resume-or-start --ckpt-dir /tmp/x", 2, "--resume-or-start");
    t_result r = t_run(FIT " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--early") && strstr(r.out, "--backoff") && strstr(r.out, "--resume-or-start") &&
              strstr(r.out, "--seeds") && strstr(r.out, "--what-if"));
    t_free(&r);
}

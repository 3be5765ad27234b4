/* test_ch02.c -- the claims Chapter 2 makes, checked on the runs `make` produced (five
 * seeds per learning rate, from the build's seed base) and on small runs made here.
 *
 * The runs are real training (BLAS sums, one seed base among many), so every check is
 * a statement over the seeds with a margin -- a median ordering, a count, a bound --
 * never a number copied from an earlier run. The same claims must hold for any seed
 * base (make SEED=n) and any BLAS kernel (OPENBLAS_CORETYPE=...).
 */
#include "../common.h"

#include <math.h>

#define REGIMES GD_BIN "ch02-regimes"
#define STEPS GD_BIN "ch02-steps"
#define D02 GD_BUILD_DIR "/ch02/"
#define MAXS 64

static const char *models[] = {"logreg", "mlp"};

/* The rows of one learning rate (the k-th distinct lr, in table order) of a --summary
 * table: seeds, and the columns a test asks for by name. */
typedef struct {
    int n;                               /* seeds */
    double lr;
    char status[MAXS][16];
    double v[MAXS];                      /* the column asked for */
} lr_rows;

static lr_rows rows_of(const char *path, int k, const char *column) {
    t_tsv *t = t_tsv_read(path);
    int cl = t_tsv_col(t, "lr"), cs = t_tsv_col(t, "status"), cc = t_tsv_col(t, column);
    lr_rows r = {0};
    int idx = -1;
    double prev = NAN;
    for (int i = 0; i < t->nrows; i++) {
        double lr = t_tsv_num(t, i, cl);
        if (lr != prev) idx++, prev = lr;
        if (idx != k) continue;
        cr_assert(r.n < MAXS);
        r.lr = lr;
        snprintf(r.status[r.n], sizeof r.status[r.n], "%s", t_tsv_cell(t, i, cs));
        r.v[r.n++] = t_tsv_num(t, i, cc);
    }
    t_tsv_free(t);
    cr_assert(r.n >= 5, "%s: learning rate #%d has %d seeds (the chapter's claims need 5)", path, k, r.n);
    return r;
}

static double median_of(const double *v, int n) {
    double w[MAXS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) w[m++] = v[i];
    return t_median(w, m);
}

/* ---------------------------------------------------------------------------------- */
/* §2.2: the three regimes, on both models, every seed, in the runs Figure 2.1 shows. */

/* The curve of one run (column `run`): its evaluations and its largest plotted loss. */
typedef struct {
    int n;
    double step[200], val[200];
    double last_step, max_train;
    int nonfinite;
} curve;

static curve load_curve(const char *path, int run) {
    t_tsv *t = t_tsv_read(path);
    int cr = t_tsv_col(t, "run"), cs = t_tsv_col(t, "step"), ct = t_tsv_col(t, "train_loss"),
        cv = t_tsv_col(t, "val_loss");
    curve c = {0};
    c.max_train = -INFINITY;
    c.last_step = -1;
    for (int i = 0; i < t->nrows; i++) {
        if (t_tsv_num(t, i, cr) != run) continue;
        double tr = t_tsv_num(t, i, ct), v = t_tsv_num(t, i, cv);
        c.last_step = t_tsv_num(t, i, cs);
        if (!isfinite(tr)) c.nonfinite++;
        else c.max_train = fmax(c.max_train, tr);
        if (!isnan(v) && c.n < 200) c.step[c.n] = c.last_step, c.val[c.n++] = v;
    }
    t_tsv_free(t);
    return c;
}

/* The training loss of run `run` at step `step` of a curves table. */
static double train_at(const char *path, int run, double step) {
    t_tsv *t = t_tsv_read(path);
    int cr = t_tsv_col(t, "run"), cs = t_tsv_col(t, "step"), ct = t_tsv_col(t, "train_loss");
    double x = NAN;
    for (int i = 0; i < t->nrows; i++)
        if (t_tsv_num(t, i, cr) == run && t_tsv_num(t, i, cs) == step) x = t_tsv_num(t, i, ct);
    t_tsv_free(t);
    cr_assert(!isnan(x), "%s: run %d has no step %g", path, run, step);
    return x;
}

static double val_at(const curve *c, double step) {
    for (int i = 0; i < c->n; i++)
        if (c->step[i] == step) return c->val[i];
    cr_assert_fail("no validation loss at step %g", step);
    return NAN;
}

/* Too high: every seed diverged within the first steps; the summary gives the step and
 * the loss of that step, which is the one that broke the rule (above 10x the first
 * batch's); the plotted curve stops at the step before, and has no garbage in it. The
 * other two learning rates diverged on no seed. */
Test(ch02_regimes, too_high_diverges_on_every_seed_and_stops_the_curve) {
    for (int m = 0; m < 2; m++) {
        char sum[256], curves[256];
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        snprintf(curves, sizeof curves, D02 "%s.tsv", models[m]);
        lr_rows at = rows_of(sum, 2, "diverged_at"), loss = rows_of(sum, 2, "div_loss"),
                first = rows_of(sum, 2, "first_loss");
        for (int s = 0; s < at.n; s++) {
            cr_expect_str_eq(at.status[s], "diverged", "%s seed #%d: %s", models[m], s, at.status[s]);
            cr_expect(at.v[s] >= 1 && at.v[s] <= 100, "%s seed #%d: diverged at step %g", models[m], s, at.v[s]);
            cr_expect(!(loss.v[s] <= 10 * first.v[s]), "%s seed #%d: the loss at the divergence step, %g, is not "
                      "above 10 x the first (%g)", models[m], s, loss.v[s], first.v[s]);
            curve c = load_curve(curves, 2 * at.n + s);
            cr_expect_eq(c.last_step, at.v[s] - 1, "%s seed #%d: the curve ends at step %g, diverged at %g", models[m],
                         s, c.last_step, at.v[s]);
            cr_expect(c.nonfinite == 0, "%s seed #%d: non-finite losses in the plotted curve", models[m], s);
            cr_expect(c.max_train <= 10 * first.v[s], "%s seed #%d: a plotted loss %g above the divergence rule",
                      models[m], s, c.max_train);
            cr_expect(at.v[s] <= 2 || train_at(curves, 2 * at.n + s, 2) > first.v[s], "%s seed #%d: the loss does not "
                      "rise at the first step", models[m], s);
        }
        for (int k = 0; k < 2; k++) {
            lr_rows r = rows_of(sum, k, "diverged_at");
            for (int s = 0; s < r.n; s++) cr_expect_eq(r.v[s], -1, "%s lr %g seed #%d diverged", models[m], r.lr, s);
        }
    }
}

/* Too low: on every seed the validation loss falls at every evaluation (checked every
 * 50 steps, each fall at least 0.002) but ends above the target; the median at the end
 * is above the just-right runs' median at step 100. */
Test(ch02_regimes, too_low_falls_on_every_seed_but_slowly) {
    for (int m = 0; m < 2; m++) {
        char curves[256], sum[256];
        snprintf(curves, sizeof curves, D02 "%s.tsv", models[m]);
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        int K = rows_of(sum, 0, "val_loss").n;
        double end[MAXS], right100[MAXS];
        for (int s = 0; s < K; s++) {
            curve low = load_curve(curves, s), right = load_curve(curves, K + s);
            double prev = INFINITY;
            for (double st = 50; st <= 1000; st += 50) {
                double v = val_at(&low, st);
                cr_expect(v < prev - 0.002, "%s seed #%d: validation loss %g at step %g after %g", models[m], s, v, st,
                          prev);
                prev = v;
            }
            end[s] = val_at(&low, 1000);
            right100[s] = val_at(&right, 100);
            cr_expect(end[s] > 0.6 + 0.05, "%s seed #%d: the crawl reached %g", models[m], s, end[s]);
        }
        double a = t_median(end, K), b = t_median(right100, K);
        cr_expect(a > b + 0.03, "%s: crawl median %g vs just right at step 100 %g", models[m], a, b);
    }
}

/* Just right: every seed reached the target within the first half of the run, and the
 * median ends well below it. */
Test(ch02_regimes, just_right_reaches_the_target_on_every_seed) {
    for (int m = 0; m < 2; m++) {
        char sum[256];
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        lr_rows at = rows_of(sum, 1, "reached_at"), val = rows_of(sum, 1, "val_loss");
        for (int s = 0; s < at.n; s++) {
            cr_expect_str_eq(at.status[s], "reached", "%s seed #%d: %s", models[m], s, at.status[s]);
            cr_expect(at.v[s] > 0 && at.v[s] <= 500, "%s seed #%d: reached at %g", models[m], s, at.v[s]);
        }
        cr_expect(t_median(val.v, val.n) < 0.6 - 0.05, "%s: median end %g", models[m], t_median(val.v, val.n));
    }
}

/* §2.2's gradient-flow remark, on logistic regression: the crawl after 1000 steps and
 * the just-right runs at the same lr * steps are at nearly the same validation loss:
 * the medians within 0.1, every seed within 0.3 (the text prints the largest gap). */
Test(ch02_regimes, same_distance_same_place) {
    lr_rows low = rows_of(D02 "logreg-sum.tsv", 0, "val_loss"), right = rows_of(D02 "logreg-sum.tsv", 1, "val_same_time");
    cr_assert_eq(low.n, right.n);
    double d = 0;
    for (int s = 0; s < low.n; s++) d = fmax(d, fabs(low.v[s] - right.v[s]));
    double a = t_median(low.v, low.n), b = t_median(right.v, right.n);
    cr_expect(fabs(a - b) < 0.1, "crawl median %g, just right at the same lr * steps %g", a, b);
    cr_expect(d < 0.3, "largest gap of one seed %g", d);
    cr_expect(fabs(t_num(D02 "numbers-logreg.tsv", "logreg_same_time_maxdiff") - d) < 0.006, "the text's gap");
}

/* The text's outcome cells count the seeds of the summary. */
Test(ch02_regimes, outcome_counts_are_the_summarys) {
    for (int m = 0; m < 2; m++) {
        char sum[256], num[256], key[64];
        snprintf(sum, sizeof sum, D02 "%s-sum.tsv", models[m]);
        snprintf(num, sizeof num, D02 "numbers-%s.tsv", models[m]);
        for (int k = 0; k < 3; k++) {
            lr_rows r = rows_of(sum, k, "reached_at");
            int reached = 0, diverged = 0;
            for (int s = 0; s < r.n; s++)
                reached += !strcmp(r.status[s], "reached"), diverged += !strcmp(r.status[s], "diverged");
            snprintf(key, sizeof key, "%s_run%d_reached", models[m], k);
            cr_expect_eq(t_num(num, key), reached, "%s", key);
            snprintf(key, sizeof key, "%s_run%d_diverged", models[m], k);
            cr_expect_eq(t_num(num, key), diverged, "%s", key);
        }
    }
}

/* A run made here, small: a too-high lr prints exactly one line for its run, saying
 * "diverged at step s (loss x)" with x above 10 x the first loss's order (ln 10), and
 * the program exits 0. */
Test(ch02_regimes, divergence_is_an_outcome_not_a_crash) {
    t_result r = t_run(REGIMES " --lr 3 --steps 40 --train-size 500 --val-size 100 --seed " "0");
    cr_expect_eq(r.status, 0, "%s", r.err);
    int lines = 0;
    const char *hit = NULL;
    for (const char *p = r.out; (p = strstr(p, "diverged at step")); p++) lines++, hit = p;
    cr_expect_eq(lines, 1, "%s", r.out);
    long step = 0;
    double loss = 0;
    cr_expect(hit && sscanf(hit, "diverged at step %ld (loss %lf)", &step, &loss) == 2, "%s", r.out);
    cr_expect(step >= 1 && loss > 10 * 2.0, "%s", r.out);
    cr_expect_eq(t_lines(r.out), 2, "a header and one row: %s", r.out);
    t_free(&r);
}

/* ---------------------------------------------------------------------------------- */
/* §2.3: the sharpness. */

/* At lr 0.5 every seed starts beyond the cliff (2/lambda_max < 0.5), and at least 3 of
 * the 5 do not diverge (a divergence there is possible: one seed under one BLAS
 * kernel); on every seed that did not, the sharpness falls; and the larger the lr, the
 * lower the sharpness where the runs end: median at 0.5 < 0.8 x median at 0.1 < 0.8^2 x
 * median at 0.005 (medians over the runs that did not diverge). At 0.5 the median ends
 * within a factor 2 of 2/lr. */
Test(ch02_sharpness, larger_lr_ends_flatter) {
    lr_rows e0 = rows_of(D02 "edge-sum.tsv", 0, "sharp_init"), e1 = rows_of(D02 "edge-sum.tsv", 0, "sharp_end"),
            div = rows_of(D02 "edge-sum.tsv", 0, "diverged_at");
    int live = 0;
    for (int s = 0; s < e0.n; s++) {
        cr_expect(e0.lr > 2 / e0.v[s], "seed #%d: 2/lambda_max = %g, lr %g", s, 2 / e0.v[s], e0.lr);
        if (div.v[s] >= 0) continue;
        live++;
        cr_expect(e1.v[s] < e0.v[s], "seed #%d: lambda_max %g -> %g", s, e0.v[s], e1.v[s]);
    }
    cr_assert(live >= 3, "%d of %d seeds diverged at lr %g", e0.n - live, e0.n, e0.lr);
    double m_edge = median_of(e1.v, e1.n);
    double m_right = median_of(rows_of(D02 "logreg-sum.tsv", 1, "sharp_end").v, e1.n);
    double m_low = median_of(rows_of(D02 "logreg-sum.tsv", 0, "sharp_end").v, e1.n);
    cr_expect(m_edge < 0.8 * m_right && m_right < 0.8 * m_low, "medians at the end: lr %g %g, 0.1 %g, 0.005 %g",
              e0.lr, m_edge, m_right, m_low);
    cr_expect(m_edge < 2 * (2 / e0.lr) && m_edge > 0.5 * (2 / e0.lr), "median %g, 2/lr %g", m_edge, 2 / e0.lr);
}

/* 2/lambda_max at the start is a poor prediction for a whole run: logistic regression
 * reaches the target on some seed of the sweep at a learning rate above every seed's
 * 2/lambda_max. */
Test(ch02_sharpness, reaches_the_target_above_two_over_lambda) {
    lr_rows L = rows_of(D02 "logreg-sum.tsv", 0, "sharp_init");
    double two[MAXS];
    for (int s = 0; s < L.n; s++) two[s] = 2 / L.v[s];
    double m = t_max(two, L.n), last = t_num(D02 "numbers-steps-logreg.tsv", "steps_logreg_last_any");
    cr_expect(last > m, "reached up to lr %g, largest 2/lambda_max %g", last, m);
}

/* The counts the text prints ("below 2/lambda_max in k of N seeds") are the summary's. */
Test(ch02_sharpness, counts_are_the_summarys) {
    lr_rows L = rows_of(D02 "logreg-sum.tsv", 1, "sharp_init");
    int below = 0;
    for (int s = 0; s < L.n; s++) below += L.lr < 2 / L.v[s];
    char *text = t_str(D02 "numbers-logreg.tsv", "logreg_run1_below_two_over_L");
    int k = -1, n = -1;
    cr_expect(sscanf(text, "%d of %d", &k, &n) == 2 && k == below && n == L.n, "'%s' vs %d of %d", text, below, L.n);
    free(text);
}

/* Every sharpness measurement in the tables converged (its last relative change is
 * below the tolerance before the iteration cap), and converging ten thousand times
 * tighter moves the estimate by less than 1 %, at the initial weights and after
 * training. */
Test(ch02_sharpness, power_iteration_converges) {
    const char *tables[] = {D02 "logreg-sum.tsv", D02 "edge-sum.tsv"};
    for (int i = 0; i < 2; i++) {
        t_tsv *t = t_tsv_read(tables[i]);
        const char *cols[2][2] = {{"sharp_init", "sharp_init_rel"}, {"sharp_end", "sharp_end_rel"}};
        int n = 0, rows = t->nrows;
        for (int j = 0; j < 2; j++) {
            int cv = t_tsv_col(t, cols[j][0]), cr = t_tsv_col(t, cols[j][1]);
            for (int r = 0; r < t->nrows; r++) {
                if (isnan(t_tsv_num(t, r, cv))) continue;
                n++;
                cr_expect(t_tsv_num(t, r, cr) < 1e-3, "%s row %d: %s last changed by %g", tables[i], r, cols[j][0],
                          t_tsv_num(t, r, cr));
            }
        }
        cr_expect(n > rows, "%s: %d measurements in %d runs", tables[i], n, rows);
        t_tsv_free(t);
    }
    double L[2][2];
    const char *tol[] = {"1e-3 --sharpness 100", "1e-7 --sharpness 3000"};
    for (int i = 0; i < 2; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, REGIMES " --lr 0.2 --steps 200 --train-size 1000 --val-size 100 --seed 3 "
                 "--sharp-tol %s --summary %%s", tol[i]);
        char *text = t_run_file(cmd);
        char path[] = "/tmp/gdtest-ch02-XXXXXX";
        int fd = mkstemp(path);
        cr_assert(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
        free(text);
        lr_rows a = {0};
        t_tsv *t = t_tsv_read(path);
        L[i][0] = t_tsv_num(t, 0, t_tsv_col(t, "sharp_init"));
        L[i][1] = t_tsv_num(t, 0, t_tsv_col(t, "sharp_end"));
        t_tsv_free(t);
        unlink(path);
        (void)a;
    }
    for (int j = 0; j < 2; j++)
        cr_expect(L[0][j] > 0 && fabs(L[0][j] / L[1][j] - 1) < 0.01, "%s: %g (tol 1e-3) vs %g (tol 1e-7)",
                  j ? "after training" : "at init", L[0][j], L[1][j]);
}

/* ---------------------------------------------------------------------------------- */
/* §2.4: steps to the target against the lr, over the seeds. */

typedef struct {
    int n, seeds;
    double lr[64], med[64], lrx[64];
    int reached[64], diverged[64];
} sweep;

static sweep load_sweep(const char *model) {
    char path[256];
    snprintf(path, sizeof path, D02 "steps-%s.tsv", model);
    t_tsv *t = t_tsv_read(path);
    sweep s = {0};
    int lr = t_tsv_col(t, "lr"), md = t_tsv_col(t, "median_steps"), re = t_tsv_col(t, "reached"),
        dv = t_tsv_col(t, "diverged"), se = t_tsv_col(t, "seeds"), lx = t_tsv_col(t, "lr_x_steps");
    for (int i = 0; i < t->nrows && i < 64; i++, s.n++) {
        s.lr[i] = t_tsv_num(t, i, lr), s.med[i] = t_tsv_num(t, i, md), s.lrx[i] = t_tsv_num(t, i, lx);
        s.reached[i] = (int)t_tsv_num(t, i, re), s.diverged[i] = (int)t_tsv_num(t, i, dv);
        s.seeds = (int)t_tsv_num(t, i, se);
    }
    t_tsv_free(t);
    return s;
}

static int best_of(const sweep *s) {
    int best = -1;
    for (int i = 0; i < s->n; i++)
        if (!isnan(s->med[i]) && (best < 0 || s->med[i] < s->med[best])) best = i;
    return best;
}

/* The U: its bottom (the lowest median) is interior, at least 2.5 times faster than
 * the first lr with a median, and lies between 0.1 and 0.4 (the text says so); every
 * seed diverges at the three largest lrs and none at or below the bottom; the first
 * divergence is 3 to 12 times the fastest lr; and some lr above the fastest has seeds
 * that ended differently. */
Test(ch02_steps, a_u_with_a_cliff) {
    for (int m = 0; m < 2; m++) {
        sweep s = load_sweep(models[m]);
        cr_assert(s.n >= 10 && s.seeds >= 5, "%s: %d lrs, %d seeds", models[m], s.n, s.seeds);
        int best = best_of(&s), first = -1, first_div = -1;
        for (int i = 0; i < s.n; i++) {
            cr_expect(s.reached[i] + s.diverged[i] <= s.seeds);
            if (!isnan(s.med[i]) && first < 0) first = i;
            if (s.diverged[i] > 0 && first_div < 0) first_div = i;
        }
        cr_assert(first >= 1 && best > first, "%s: the slow side is missing", models[m]);
        cr_expect(s.med[best] * 2.5 < s.med[first], "%s: bottom %g vs first %g", models[m], s.med[best], s.med[first]);
        cr_expect(s.lr[best] >= 0.1 && s.lr[best] <= 0.4, "%s: the fastest median at lr %g", models[m], s.lr[best]);
        for (int i = s.n - 3; i < s.n; i++)
            cr_expect_eq(s.diverged[i], s.seeds, "%s: lr %g diverged on %d seeds", models[m], s.lr[i], s.diverged[i]);
        for (int i = 0; i <= best; i++)
            cr_expect_eq(s.diverged[i], 0, "%s: lr %g at or below the fastest diverged", models[m], s.lr[i]);
        double ratio = s.lr[first_div] / s.lr[best];
        cr_expect(ratio >= 3 && ratio <= 12, "%s: first divergence %g x the fastest lr", models[m], ratio);
        for (int i = 0; i < first; i++) cr_expect(s.reached[i] * 2 <= s.seeds, "%s: the left wall", models[m]);
        /* near the cliff the seeds disagree: some lr above the fastest has two outcomes */
        int mixed = 0;
        for (int i = best + 1; i < s.n; i++) {
            int neither = s.seeds - s.reached[i] - s.diverged[i];
            mixed += (s.reached[i] > 0) + (neither > 0) + (s.diverged[i] > 0) > 1;
        }
        cr_expect(mixed >= 1, "%s: every lr above the fastest ended the same way on every seed", models[m]);
    }
}

/* The bottom is shallow: the median of a neighbour of the fastest lr lies within the
 * range of the seeds' steps at the fastest. */
Test(ch02_steps, the_bottom_is_shallow) {
    for (int m = 0; m < 2; m++) {
        sweep s = load_sweep(models[m]);
        int best = best_of(&s);
        char path[256];
        snprintf(path, sizeof path, D02 "sweep-%s.tsv", models[m]);
        t_tsv *t = t_tsv_read(path);
        int cl = t_tsv_col(t, "lr"), cr = t_tsv_col(t, "reached_at");
        double hi = -INFINITY;
        for (int i = 0; i < t->nrows; i++)
            if (fabs(t_tsv_num(t, i, cl) / s.lr[best] - 1) < 1e-4) hi = fmax(hi, t_tsv_num(t, i, cr));
        t_tsv_free(t);
        double lo_nb = best > 0 ? s.med[best - 1] : NAN, hi_nb = best + 1 < s.n ? s.med[best + 1] : NAN;
        cr_expect(lo_nb <= hi || hi_nb <= hi, "%s: medians next to the fastest %g and %g, its slowest seed %g",
                  models[m], lo_nb, hi_nb, hi);
    }
}

/* The slow side: lr * median steps is nearly constant (within a factor 1.5) over the
 * lrs at least twice below the fastest, at least two of them. */
Test(ch02_steps, crawl_side_has_slope_minus_one) {
    for (int m = 0; m < 2; m++) {
        sweep s = load_sweep(models[m]);
        int best = best_of(&s);
        double lo = INFINITY, hi = 0;
        int n = 0;
        for (int i = 0; i < best; i++)
            if (!isnan(s.med[i]) && 2 * s.lr[i] <= s.lr[best]) lo = fmin(lo, s.lrx[i]), hi = fmax(hi, s.lrx[i]), n++;
        cr_expect(n >= 2, "%s: %d lrs on the slow side", models[m], n);
        cr_expect(hi < 1.5 * lo, "%s: lr * steps from %g to %g", models[m], lo, hi);
    }
}

/* Two ways of not learning: logistic regression's runs that neither reached the target
 * nor diverged jump between evaluations (median) at least 3 times more than at the
 * fastest lr, and none of them sits at chance; some of the MLP's do sit at chance
 * (ln 10), flat. */
Test(ch02_steps, the_two_models_fail_differently) {
    const char *lg = D02 "numbers-steps-logreg.tsv", *ml = D02 "numbers-steps-mlp.tsv";
    cr_assert(t_num(lg, "steps_logreg_stuck") >= 1, "logistic regression: no run between reached and diverged");
    double jb = t_num(lg, "steps_logreg_jump_best"), js = t_num(lg, "steps_logreg_jump_stuck");
    cr_expect(js > 3 * jb, "logistic regression: jumps %g against %g at the fastest lr", js, jb);
    cr_expect_eq(t_num(lg, "steps_logreg_chance_n"), 0, "logistic regression at chance");
    cr_expect(t_num(ml, "steps_mlp_chance_n") >= 1, "the MLP: no run at chance");
}

/* ---------------------------------------------------------------------------------- */
Test(ch02_programs, bad_options_are_rejected) {
    t_assert_rejects(REGIMES " --lr 0", 2, "--lr");
    t_assert_rejects(REGIMES " --lr -0.1", 2, "--lr");
    t_assert_rejects(REGIMES " --lr abc", 2, "--lr");
    t_assert_rejects(REGIMES " --lr nan", 2, "--lr");
    t_assert_rejects(REGIMES " --steps 0", 2, "--steps");
    t_assert_rejects(REGIMES " --steps 1.5", 2, "--steps");
    t_assert_rejects(REGIMES " --sweep 1,0.1,5", 2, "--sweep");
    t_assert_rejects(REGIMES " --sweep 0.1,1,1", 2, "--sweep");
    t_assert_rejects(REGIMES " --sweep 0.1,1,2.5", 2, "--sweep");
    t_assert_rejects(REGIMES " --dims 784-x-10", 2, "--dims");
    t_assert_rejects(REGIMES " --dims 100-10", 2, "--dims");
    t_assert_rejects(REGIMES " --batch-size 0", 2, "--batch-size");
    t_assert_rejects(REGIMES " --train-size 0", 2, "--train-size");
    t_assert_rejects(REGIMES " --train-size 50000 --val-size 20000", 2, "--val-size");
    t_assert_rejects(REGIMES " --train-size 500 --sharpness 5 --sharp-size 1000", 2, "--sharp-size");
    t_assert_rejects(REGIMES " --sharp-tol 0", 2, "--sharp-tol");
    t_assert_rejects(REGIMES " --seeds 0", 2, "--seeds");
    t_assert_rejects(REGIMES " --seeds 65", 2, "--seeds");
    t_assert_rejects(REGIMES " --sweep 0.1,1,100 --seeds 3", 2, "--seeds");
    t_assert_rejects(REGIMES " --target 0", 2, "--target");
    t_assert_rejects(REGIMES " --seed -1", 2, "--seed");
    t_assert_rejects(REGIMES " --learning-rate 0.1", 2, "--learning-rate");
    t_assert_rejects(REGIMES " stray", 2, "stray");
    t_assert_rejects(REGIMES " --data /nonexistent", 2, "/nonexistent");
    t_assert_rejects(STEPS, 2, "no summary tables");
    t_assert_rejects(STEPS " --bogus x", 2, "--bogus");
    t_assert_rejects(STEPS " /nonexistent/s.tsv", 2, "/nonexistent/s.tsv");
    t_assert_rejects(STEPS " " D02 "numbers-logreg.tsv", 2, "numbers-logreg.tsv");
}

/* A failed run leaves the earlier table in place (gd_table: temp file + rename). */
Test(ch02_programs, a_failed_run_does_not_clobber) {
    char path[] = "/tmp/gdtest-ch02-keep-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0 && write(fd, "keep\n", 5) == 5);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, REGIMES " --data /nonexistent --summary %s", path);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2); /* a missing data directory: the user's input */
    t_free(&r);
    char *text = t_slurp(path);
    cr_expect_str_eq(text, "keep\n");
    free(text);
    unlink(path);
}

Test(ch02_programs, help_exits_zero) {
    const char *progs[] = {REGIMES, STEPS};
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --help", progs[i]);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0);
        cr_expect(strstr(r.out, "usage:") != NULL, "%s", r.out);
        t_free(&r);
    }
}

/* Same arguments, same bytes (curves and summary); the seeds and settings are in the
 * header, and two seeds give two different splits and runs. */
Test(ch02_programs, deterministic) {
    const char *cmd = REGIMES " --lr 0.1,2 --steps 60 --train-size 500 --val-size 200 --seed 5 --seeds 2 --out - --summary -";
    t_result a = t_run(cmd), b = t_run(cmd);
    cr_assert_eq(a.status, 0, "%s", a.err);
    cr_expect_str_eq(a.out, b.out);
    cr_expect(strstr(a.out, "# seed: 5 (+1 more)") != NULL, "the seeds are printed in the header");
    cr_expect(strstr(a.out, "# model: 784-10") != NULL, "the settings are printed in the header");
    t_free(&a);
    t_free(&b);
}

/* test_exp_eos.c -- experiments/cohen-eos: the README's claims, checked against the
 * committed results, and the quick run's outputs.
 *
 * The claims are recomputed here from the committed runs (results/trace-*.tsv: the loss
 * at every step and the sharpness every few steps of each (lr, seed)), not read from
 * exp-eos-summary's numbers: the stability limits are computed here from beta (2,
 * 2(1+beta), (2+2beta)/(1+2beta)), the end of a run is its last 20% of steps, a run
 * reaches the edge at 90% of limit/lr, "in band" is within 10% of limit/lr, as the
 * README says. The committed results do not change with the build, so these hold in
 * every build; the quick run's numbers do, so only its shape is checked there (and
 * that exp-eos-momentum --momentum 0 is ch03-sharpness's plain GD, bit for bit).
 */
#include "../common.h"

#include <math.h>

#define MOM GD_BIN "exp-eos-momentum"
#define SUM GD_BIN "exp-eos-summary"
#define CE_RES "experiments/cohen-eos/results/"
#define CE_Q GD_BUILD_DIR "/exp-quick/cohen-eos/"

#define BETA 0.9
#define TAIL 0.2
#define REACH 0.9
#define BAND 0.1

/* One run of a trace, summarized the README's way. */
typedef struct {
    double lr, start, end_ratio, max_ratio, loss0, loss_reach, loss_end;
    long steps, reach_step;
    int ups, tail_ups, finite;
} ce_run;

/* Every (lr, seed) block of a trace table; returns the number of runs. */
static int ce_read(const char *path, double limit, ce_run *runs, int max) {
    t_tsv *t = t_tsv_read(path);
    int cl = t_tsv_col(t, "lr"), cs = t_tsv_col(t, "seed"), ct = t_tsv_col(t, "step"), cf = t_tsv_col(t, "loss"),
        ch = t_tsv_col(t, "sharpness");
    long last_step = 0;
    for (int i = 0; i < t->nrows; i++) last_step = fmax(last_step, t_tsv_num(t, i, ct));
    int n = 0;
    for (int i = 0; i < t->nrows;) {
        double lr = t_tsv_num(t, i, cl), seed = t_tsv_num(t, i, cs);
        int j = i;
        while (j < t->nrows && t_tsv_num(t, j, cl) == lr && t_tsv_num(t, j, cs) == seed) j++;
        cr_assert(n < max, "%s: more than %d runs", path, max);
        ce_run *r = &runs[n++];
        double edge = limit / lr, sum = 0;
        int cnt = 0;
        long ir = -1;
        r->lr = lr, r->start = t_tsv_num(t, i, ch), r->max_ratio = 0, r->ups = 0;
        r->loss0 = t_tsv_num(t, i, cf), r->loss_end = t_tsv_num(t, j - 1, cf), r->steps = (long)t_tsv_num(t, j - 1, ct);
        r->finite = r->steps == last_step && isfinite(r->loss_end);
        for (int k = i; k < j; k++) {
            double s = t_tsv_num(t, k, ch), step = t_tsv_num(t, k, ct);
            if (isnan(s)) continue;
            r->max_ratio = fmax(r->max_ratio, s / edge);
            if (ir < 0 && s >= REACH * edge) ir = k;
            if (step >= (1 - TAIL) * last_step) sum += s, cnt++;
        }
        r->end_ratio = cnt ? sum / cnt / edge : NAN;
        r->reach_step = ir < 0 ? -1 : (long)t_tsv_num(t, ir, ct);
        r->loss_reach = ir < 0 ? NAN : t_tsv_num(t, ir, cf);
        for (long k = ir < 0 ? j : ir + 1; k < j; k++) r->ups += t_tsv_num(t, k, cf) > t_tsv_num(t, k - 1, cf);
        r->tail_ups = 0;
        for (long k = i + 1; k < j; k++)
            r->tail_ups += t_tsv_num(t, k, ct) >= (1 - TAIL) * last_step && t_tsv_num(t, k, cf) > t_tsv_num(t, k - 1, cf);
        i = j;
    }
    t_tsv_free(t);
    return n;
}

/* ---------------------------------------------------------------------------------- */
Test(exp_eos_cli, help_and_bad_input) {
    t_result r = t_run(MOM " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--momentum") && strstr(r.out, "--nesterov") && strstr(r.out, "--every"));
    t_free(&r);
    r = t_run(SUM " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--band") && strstr(r.out, "--tail") && strstr(r.out, "--reach"));
    t_free(&r);
    t_assert_rejects(MOM " --loss hinge", 2, "--loss");
    t_assert_rejects(MOM " --momentum 0 --nesterov 1", 2, "--nesterov");
    t_assert_rejects(MOM " --momentum 1.5", 2, "--momentum");
    t_assert_rejects(MOM " --lr 0", 2, "--lr");
    t_assert_rejects(MOM " --n 5", 2, "--n");
    t_assert_rejects(SUM, 2, "--in");
    t_assert_rejects(SUM " --in x --momentum 0 --nesterov 1", 2, "--nesterov");
    t_assert_rejects(SUM " --in x --band -1", 2, "--band");
    t_assert_rejects(SUM " --in x --prefix aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2, "--prefix");
    r = t_run(SUM " --in /nonexistent/trace.tsv --numbers /dev/null");
    cr_expect_eq(r.status, 2);   /* the user's input (the book's convention) */
    cr_expect(strstr(r.err, "/nonexistent/trace.tsv") != NULL, "%s", r.err);
    t_free(&r);
}

/* The quick run: every table well-formed with its provenance; plain GD through the
 * momentum program (momentum 0) is ch03-sharpness's run, bit for bit (the same
 * initial weights, the same arithmetic), apart from the residual at step 0 that
 * ch03-sharpness does not record. */
Test(exp_eos_quick, tables_are_well_formed_and_momentum_zero_is_gd) {
    const char *files[] = {"trace-gd.tsv", "trace-hb.tsv", "trace-nag.tsv", "numbers-gd.tsv", "numbers-hb.tsv",
                           "numbers-nag.tsv", "gd0.tsv"};
    for (int k = 0; k < 7; k++) {
        char path[512];
        snprintf(path, sizeof path, CE_Q "%s", files[k]);
        char *text = t_slurp(path);
        cr_assert_not_null(text, "%s", path);
        cr_expect(strstr(text, "# command: exp-eos-") && strstr(text, "# blas: "), "%s: no provenance", path);
        free(text);
    }
    ce_run a[8];
    cr_assert_eq(ce_read(CE_Q "trace-hb.tsv", 2 * (1 + BETA), a, 8), 1);
    cr_expect(a[0].steps == 60 && a[0].finite, "heavy ball: %ld steps", a[0].steps);
    cr_expect(a[0].start > 0, "a sharpness at step 0: %g", a[0].start);
    cr_expect_eq(t_num(CE_Q "numbers-hb.tsv", "hb_limit"), 3.8);
    cr_expect_float_eq(t_num(CE_Q "numbers-nag.tsv", "nag_limit"), 3.8 / 2.8, 1e-3);
    cr_expect_eq(t_num(CE_Q "numbers-gd.tsv", "gd_limit"), 2);
    t_tsv *g = t_tsv_read(CE_Q "gd.tsv"), *m = t_tsv_read(CE_Q "gd0.tsv");
    cr_assert_eq(g->nrows, m->nrows);
    cr_assert_eq(g->nrows, 61);
    for (int i = 0; i < g->nrows; i++)
        for (int c = 0; c < 5; c++)
            cr_expect_str_eq(t_tsv_cell(g, i, c), t_tsv_cell(m, i, c), "row %d column %s", i, g->names[c]);
    t_tsv_free(g), t_tsv_free(m);
}

/* Every run of an arm in band: its end sharpness within BAND of limit/lr; it reached
 * the edge, and after that its loss went up on some steps yet ended lower than where it
 * reached the edge (and than at the start). */
static void ce_expect_edge(const char *arm, const ce_run *r, int n) {
    for (int i = 0; i < n; i++) {
        cr_expect(r[i].finite, "%s lr %g: the run stopped", arm, r[i].lr);
        cr_expect(fabs(r[i].end_ratio - 1) <= BAND, "%s lr %g: end sharpness %g of limit/lr", arm, r[i].lr,
                  r[i].end_ratio);
        cr_expect(r[i].reach_step >= 0, "%s lr %g: never reached %g of limit/lr", arm, r[i].lr, REACH);
        cr_expect(r[i].ups > 0, "%s lr %g: the loss never went up after the edge", arm, r[i].lr);
        cr_expect(r[i].loss_end < r[i].loss_reach && r[i].loss_end < r[i].loss0, "%s lr %g: loss %g at the end, %g at "
                  "the edge, %g at the start", arm, r[i].lr, r[i].loss_end, r[i].loss_reach, r[i].loss0);
    }
}

/* Momentum 0.9, squared error, every run: still non-monotone in the last TAIL of the
 * steps; heavy ball ends at 2(1+beta)/lr, nearly twice plain GD's
 * 2/lr (above 1.5 times it in every run); Nesterov at (2+2beta)/(1+2beta)/lr, below
 * 2/lr (under 0.75 of it) and far below heavy ball's limit at the same lr. */
Test(exp_eos_claims, momentum_plateaus_at_its_own_limit) {
    ce_run r[16];
    int n = ce_read(CE_RES "trace-hb.tsv", 2 * (1 + BETA), r, 16);
    cr_expect_eq(n, 6, "heavy ball: 2 lrs x 3 seeds, got %d runs", n);
    ce_expect_edge("heavy ball", r, n);
    for (int i = 0; i < n; i++) cr_expect(r[i].tail_ups > 0, "heavy ball lr %g: no up-step at the end", r[i].lr);
    for (int i = 0; i < n; i++)
        cr_expect(r[i].end_ratio * (1 + BETA) > 1.5, "heavy ball lr %g: end sharpness %g x 2/lr", r[i].lr,
                  r[i].end_ratio * (1 + BETA));
    double nl = (2 + 2 * BETA) / (1 + 2 * BETA);
    n = ce_read(CE_RES "trace-nag.tsv", nl, r, 16);
    cr_expect_eq(n, 3, "Nesterov: 1 lr x 3 seeds, got %d runs", n);
    ce_expect_edge("Nesterov", r, n);
    for (int i = 0; i < n; i++) cr_expect(r[i].tail_ups > 0, "Nesterov lr %g: no up-step at the end", r[i].lr);
    for (int i = 0; i < n; i++) {
        cr_expect(r[i].end_ratio * nl / 2 < 0.75, "Nesterov lr %g: end sharpness %g x 2/lr", r[i].lr,
                  r[i].end_ratio * nl / 2);
        cr_expect(r[i].end_ratio * nl / (2 * (1 + BETA)) < 0.4, "Nesterov lr %g: end sharpness %g x 2(1+beta)/lr",
                  r[i].lr, r[i].end_ratio * nl / (2 * (1 + BETA)));
    }
}

/* Heavy ball with cross-entropy: the sharpness rises but peaks below 90 % of the limit
 * (at the measured steps) and then falls to under a tenth of it as the loss goes to
 * zero (under 0.01). */
Test(exp_eos_claims, heavy_ball_with_cross_entropy_never_reaches_the_edge) {
    ce_run r[8];
    int n = ce_read(CE_RES "trace-hbx.tsv", 2 * (1 + BETA), r, 8);
    cr_expect_eq(n, 3);
    for (int i = 0; i < n; i++) {
        cr_expect(r[i].max_ratio < REACH && r[i].max_ratio > 1.5 * r[i].start / (2 * (1 + BETA) / r[i].lr),
                  "lr %g: peak %g of the limit, start %g", r[i].lr, r[i].max_ratio, r[i].start);
        cr_expect(r[i].end_ratio < 0.1, "lr %g: end %g of the limit", r[i].lr, r[i].end_ratio);
        cr_expect(r[i].loss_end < 0.01, "lr %g: final loss %g", r[i].lr, r[i].loss_end);
    }
}

/* Plain GD, cross-entropy: at lr 0.1 and 0.2 every run ends in band at 2/lr after rising
 * from below it (progressive sharpening: the end sharpness above the start, 3 to 4 times
 * it at 0.1); at 0.3 the
 * sharpness starts just below 2/lr, overshoots it (above 1.5 times) and ends below the
 * band (under 0.9). In every run the loss goes up on some steps after the edge yet ends
 * lower, and goes up on no step in the last TAIL of the steps; and in every seed the end
 * sharpness is lower at a larger lr. */
Test(exp_eos_claims, plain_gd_rises_to_two_over_lr) {
    ce_run r[16];
    int n = ce_read(CE_RES "trace-gd.tsv", 2, r, 16);
    cr_assert_eq(n, 9, "3 lrs x 3 seeds, got %d runs", n);
    ce_run mid[6];
    int nm = 0;
    for (int i = 0; i < n; i++) {
        double edge = 2 / r[i].lr;
        if (r[i].lr < 0.25) {
            mid[nm++] = r[i];
            cr_expect(r[i].start < REACH * edge, "lr %g: starts at %g, already at the edge %g", r[i].lr, r[i].start, edge);
            cr_expect(r[i].end_ratio * edge > r[i].start, "lr %g: end %g, start %g", r[i].lr, r[i].end_ratio * edge,
                      r[i].start);
            /* "about three times its start" at 0.1 */
            if (r[i].lr < 0.15)
                cr_expect(r[i].end_ratio * edge > 3 * r[i].start && r[i].end_ratio * edge < 4 * r[i].start,
                          "lr %g: end %g, start %g", r[i].lr, r[i].end_ratio * edge, r[i].start);
        } else {
            cr_expect(r[i].max_ratio > 1.5 && r[i].end_ratio < 0.9, "lr %g: peak %g, end %g of 2/lr", r[i].lr,
                      r[i].max_ratio, r[i].end_ratio);
            cr_expect(r[i].reach_step >= 0 && r[i].ups > 0 && r[i].loss_end < r[i].loss_reach, "lr %g", r[i].lr);
        }
    }
    cr_expect_eq(nm, 6);
    ce_expect_edge("GD", mid, nm);
    /* the edge ends before the run: no loss up-step in the last TAIL of the steps */
    for (int i = 0; i < n; i++) cr_expect_eq(r[i].tail_ups, 0, "lr %g: %d up-steps at the end", r[i].lr, r[i].tail_ups);
    /* runs are lr-major, seed-minor: run (l, s) is r[3 l + s] */
    for (int s = 0; s < 3; s++)
        for (int l = 0; l + 1 < 3; l++) {
            const ce_run *a = &r[3 * l + s], *b = &r[3 * (l + 1) + s];
            cr_expect(a->lr < b->lr && a->end_ratio * 2 / a->lr > b->end_ratio * 2 / b->lr,
                      "seed %d: end sharpness %g at lr %g, %g at lr %g", s, a->end_ratio * 2 / a->lr, a->lr,
                      b->end_ratio * 2 / b->lr, b->lr);
        }
}

/* test_ch08_tune.c -- the claims of Chapter 8's capstone (sections 8.9 and 8.10).
 *
 * lrtune (the recipe) and a full sweep ran on the same task -- the GPT of lib/gpt.h at
 * width 16, 256 updates of batch 8, AdamW, seeds SEED+0..SEED+2 -- under
 * GD_BUILD_DIR/ch08/tune-recipe and tune-full; ch08-tune-compare wrote the numbers the
 * text quotes (numbers-tune.tsv). The claims, with the margins the text states (the
 * same constants as chapters/08-recipe/tune-compare.c, checked here against its table):
 *   - the sanity checks pass (loss at init within 10 % of ln V, the gradient check, one
 *     batch overfitted);
 *   - lrtune's peak lr is within a factor MARGIN_LR of the full sweep's best, and its
 *     median validation loss within MARGIN_LOSS % of the best median;
 *   - at less than half the full sweep's cost, in examples and in updates;
 *   - the two sweeps agree where they overlap (the same runs: common seeds);
 *   - the comparatives in the text ("inside"/"outside", "smaller than") are the data's.
 * They must hold for any seed base and BLAS kernel (checked with SEED=1000 and
 * OPENBLAS_CORETYPE=Sandybridge): they are stated with margins, not digits.
 */
#include "../common.h"

#include <math.h>

#define D08 GD_BUILD_DIR "/ch08/"
#define NUM D08 "numbers-tune.tsv"
#define MARGIN_LR 1.8     /* one step of the full sweep's quarter-decade grid (10^(1/4) = 1.78) */
#define MARGIN_LOSS 2.0   /* % */

Test(ch08_tune, the_margins_are_the_texts) {
    cr_expect_float_eq(t_num(NUM, "tune_margin_lr_factor"), MARGIN_LR, 1e-9);
    cr_expect_float_eq(t_num(NUM, "tune_margin_loss_pct"), MARGIN_LOSS, 1e-9);
}

Test(ch08_tune, sanity_checks_pass) {
    t_tsv *t = t_tsv_read(D08 "tune-recipe/sanity.tsv");
    int c = t_tsv_col(t, "check"), v = t_tsv_col(t, "value"), e = t_tsv_col(t, "expected"), r = t_tsv_col(t, "result");
    cr_assert_eq(t->nrows, 3);
    for (int i = 0; i < 3; i++) cr_expect_str_eq(t_tsv_cell(t, i, r), "pass", "%s", t_tsv_cell(t, i, c));
    /* the loss at init is ln V: the GPT's logits start near 0 (lib/gpt.h) */
    cr_expect_leq(fabs(t_tsv_num(t, 0, v) - t_tsv_num(t, 0, e)), 0.1 * t_tsv_num(t, 0, e));
    t_tsv_free(t);
    char *s = t_str(NUM, "tune_sanity");
    cr_expect_str_eq(s, "pass");
    free(s);
    /* overfitting one batch: the text says the loss falls to a small fraction */
    cr_expect_lt(t_num(NUM, "tune_overfit_end"), 0.5 * t_num(NUM, "tune_overfit_start"));
}

Test(ch08_tune, recommendation_is_within_the_margins_of_the_full_sweep) {
    double r = t_num(NUM, "tune_recipe_lr"), f = t_num(NUM, "tune_full_lr");
    double factor = r > f ? r / f : f / r;
    cr_expect_leq(factor, MARGIN_LR, "lrtune's lr %g, the full sweep's best %g: a factor %g", r, f, factor);
    cr_expect_float_eq(t_num(NUM, "tune_lr_factor"), factor, 0.006);
    double rl = t_num(NUM, "tune_recipe_loss"), fl = t_num(NUM, "tune_full_loss");
    cr_expect_geq(rl, fl - 1e-9, "the full sweep's best is the lowest median of a grid that contains lrtune's lr");
    cr_expect_leq((rl - fl) / fl * 100, MARGIN_LOSS, "lrtune's median %g, the best %g", rl, fl);
    cr_expect_float_eq(t_num(NUM, "tune_loss_excess_pct"), (rl - fl) / fl * 100, 0.006);
    /* the recommendation is not at the edge of lrtune's grid, and it is not on the
     * edge of the full grid either (the full sweep brackets its best) */
    char *edge = t_str(NUM, "tune_edge");
    cr_expect_str_eq(edge, "no");
    free(edge);
    cr_expect_gt(f, t_num(NUM, "tune_full_lo"));
    cr_expect_lt(f, t_num(NUM, "tune_full_hi"));
}

/* The recipe's lr is a point of the full grid and the seeds are the same: the same runs,
 * the same median in both tables. */
Test(ch08_tune, the_sweeps_agree_where_they_overlap) {
    cr_expect_float_eq(t_num(NUM, "tune_recipe_loss"), t_num(NUM, "tune_recipe_loss_in_full"), 1e-9);
    t_tsv *a = t_tsv_read(D08 "tune-recipe/summary.tsv"), *b = t_tsv_read(D08 "tune-full/summary.tsv");
    int al = t_tsv_col(a, "lr"), am = t_tsv_col(a, "median"), bl = t_tsv_col(b, "lr"), bm = t_tsv_col(b, "median");
    int found = 0;
    for (int i = 0; i < a->nrows; i++)
        for (int j = 0; j < b->nrows; j++)
            if (fabs(t_tsv_num(a, i, al) / t_tsv_num(b, j, bl) - 1) < 1e-9) {
                cr_expect_float_eq(t_tsv_num(a, i, am), t_tsv_num(b, j, bm), 1e-9, "lr %g",
                                   t_tsv_num(a, i, al));
                found++;
            }
    cr_expect_eq(found, a->nrows, "every lr lrtune tried is a point of the full grid");
    t_tsv_free(a), t_tsv_free(b);
}

Test(ch08_tune, at_less_than_half_the_cost) {
    double rc = t_num(NUM, "tune_recipe_cost"), fc = t_num(NUM, "tune_full_cost");
    cr_expect_lt(rc, 0.5 * fc, "recipe %g examples, full sweep %g", rc, fc);
    cr_expect_lt(t_num(NUM, "tune_recipe_updates"), 0.5 * t_num(NUM, "tune_full_updates"));
    cr_expect_float_eq(t_num(NUM, "tune_cost_pct"), round(100 * rc / fc), 1e-9);
    /* "the range test and the checks are the cheap part of lrtune" */
    cr_expect_lt(t_num(NUM, "tune_checks_cost"), 0.25 * rc);
    /* the count itself: runs x updates x batch (+ validation windows) for the sweep; the
     * recipe's runs are its coarse and refinement lrs times the seeds */
    cr_expect_eq((int)t_num(NUM, "tune_recipe_runs"), (int)(t_num(NUM, "tune_n_lr") * t_num(NUM, "tune_seeds")));
    cr_expect_eq((int)t_num(NUM, "tune_full_runs"), (int)(t_num(NUM, "tune_full_n_lr") * t_num(NUM, "tune_seeds")));
}

/* The generated phrases say what the numbers say. */
Test(ch08_tune, generated_phrases_match_the_numbers) {
    char *s = t_str(NUM, "tune_excess_vs_spread");
    int smaller = t_num(NUM, "tune_loss_excess_pct") < t_num(NUM, "tune_full_spread_pct");
    cr_expect_str_eq(s, smaller ? "smaller than" : "not smaller than");
    free(s);
    s = t_str(NUM, "tune_same_lr");
    cr_expect_str_eq(s, t_num(NUM, "tune_recipe_lr") == t_num(NUM, "tune_full_lr") ? "the same lr as" : "another lr than");
    free(s);
    /* the basin contains the full sweep's best, and lrtune's lr is where the text says */
    double lo = t_num(NUM, "tune_basin_lo"), hi = t_num(NUM, "tune_basin_hi"), r = t_num(NUM, "tune_recipe_lr");
    cr_expect(lo <= t_num(NUM, "tune_full_lr") && t_num(NUM, "tune_full_lr") <= hi);
    s = t_str(NUM, "tune_recipe_in_basin");
    cr_expect_str_eq(s, lo <= r && r <= hi ? "inside" : "outside");
    free(s);
    /* the coarse sweep alone is never better than the full sweep's best */
    cr_expect_geq(t_num(NUM, "tune_coarse_excess_pct"), -0.005);
}

/* Figure 8.10b's caption: the smoothed loss's minimum lies to the right of the lowest
 * batch loss (the average lags), and it is what lrtune's grid is not centred on when
 * the span is wide: the grid stays below it. */
Test(ch08_tune, the_smoothed_minimum_lags_the_batch_losses) {
    double raw = t_num(NUM, "tune_raw_min_lr"), smooth = t_num(NUM, "tune_min_lr");
    cr_expect_lt(raw, smooth, "lowest batch loss at %g, lowest smoothed loss at %g", raw, smooth);
    t_tsv *t = t_tsv_read(D08 "tune-recipe/summary.tsv");
    int l = t_tsv_col(t, "lr");
    for (int i = 0; i < t->nrows; i++) cr_expect_lt(t_tsv_num(t, i, l), smooth);
    t_tsv_free(t);
}

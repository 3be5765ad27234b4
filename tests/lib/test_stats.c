/* test_stats.c -- medians, ranges and quantiles over seeds, against hand-worked values
 * and numpy's definitions (median of an even count: mean of the middle two; quantile:
 * numpy.quantile's default "linear" method). */
#include "../common.h"
#include "gd.h"

#include <criterion/redirect.h>

Test(lib_stats, median_range_and_nan) {
    double v[] = {3, 1, NAN, 2, 10};
    gd_stats s = gd_stats_of(v, 5);
    cr_expect_eq(s.n, 4);
    cr_expect_eq(s.nan, 1);
    cr_expect_float_eq(s.median, 2.5, 1e-15);   /* (2 + 3) / 2 */
    cr_expect_eq(s.min, 1);
    cr_expect_eq(s.max, 10);
    cr_expect_float_eq(s.mean, 4.0, 1e-15);
    cr_expect(isnan(v[2]) && v[0] == 3, "input not modified");
    double odd[] = {5, -1, 4};
    cr_expect_eq(gd_stats_of(odd, 3).median, 4);
    double none[] = {NAN, NAN};
    gd_stats e = gd_stats_of(none, 2);
    cr_expect(e.n == 0 && e.nan == 2 && isnan(e.median) && isnan(e.min));
}

Test(lib_stats, quantiles_like_numpy) {
    /* numpy.quantile([1, 2, 3, 4, 10], q) = 1, 1.4, 3, 4, 10 for q = 0, .1, .5, .75, 1 */
    double v[] = {10, 4, 3, 2, 1};
    cr_expect_float_eq(gd_quantile(v, 5, 0.0), 1.0, 1e-15);
    cr_expect_float_eq(gd_quantile(v, 5, 0.1), 1.4, 1e-12);
    cr_expect_float_eq(gd_quantile(v, 5, 0.5), 3.0, 1e-15);
    cr_expect_float_eq(gd_quantile(v, 5, 0.75), 4.0, 1e-15);
    cr_expect_float_eq(gd_quantile(v, 5, 1.0), 10.0, 1e-15);
    cr_expect_eq(gd_count_between(v, 5, 2, 4), 3);
}

Test(lib_stats, train_opts_check_specs_before_loading, .init = cr_redirect_stderr) {
    gd_train_opts to = gd_train_opts_defaults();
    gd_train_cfg cfg = gd_train_defaults();
    to.dims = "784-64-10", to.optim = "adam:lr=0.01", to.sched = "warmup:T=5,cosine:T=10", to.seed = 42;
    cr_expect_eq(gd_train_opts_apply(&to, &cfg, 2), 0);
    cr_expect(cfg.nlayers == 2 && cfg.dims[1] == 64 && cfg.seed == 42 && cfg.batch_size == 128);
    cr_expect_str_eq(cfg.optim, "adam:lr=0.01");
    to.dims = "784-10";
    cr_expect_eq(gd_train_opts_apply(&to, &cfg, 2), -1, "a hidden layer was required");
    to.dims = "784-x";
    cr_expect_eq(gd_train_opts_apply(&to, &cfg, 1), -1);
    to.dims = "784-10", to.optim = "adam:lr=-1";
    cr_expect_eq(gd_train_opts_apply(&to, &cfg, 1), -1);
    to.optim = "sgd", to.sched = "cosine:T=0";
    cr_expect_eq(gd_train_opts_apply(&to, &cfg, 1), -1);
}

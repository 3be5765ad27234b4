/* test_exp.c -- what every experiment promises, checked the same way for all of them.
 *
 * An experiment (experiments/NAME/) commits its full run's results, and its README
 * quotes them through mdsync markers. Here: every experiment has a README, a rules.mk
 * and committed results; each results table records the command and the arithmetic
 * that wrote it; and the README's numbers are the committed ones (mdsync --check, with
 * the same rule as the chapters: digits are compared when the README's stamp names this
 * build's arithmetic and seed base, otherwise every marked region must still be
 * fillable). Each experiment's own tests (tests/exp/test_exp_NAME.c) check its claims
 * against the committed results and run its quick mode. */
#include "../common.h"

#include <dirent.h>
#include <glob.h>

#define STR_(x) #x
#define STR(x) STR_(x)

Test(exp_all, every_experiment_has_readme_rules_and_fresh_numbers) {
    glob_t g;
    int rc = glob("experiments/*/rules.mk", 0, NULL, &g);
    if (rc == GLOB_NOMATCH) { cr_log_info("no experiments yet"); return; }
    cr_assert_eq(rc, 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/rules.mk")), g.gl_pathv[i]);
        char path[600];
        snprintf(path, sizeof path, "%s/README.md", dir);
        cr_expect_eq(access(path, R_OK), 0, "%s has no README.md", dir);
        snprintf(path, sizeof path, "%s/results/numbers*.tsv", dir);
        glob_t n;
        if (glob(path, 0, NULL, &n) != 0) {
            cr_expect_fail("%s: no committed results/numbers*.tsv (run make experiment EXP=...)", dir);
            continue;
        }
        size_t len = 0;
        for (size_t k = 0; k < n.gl_pathc; k++) len += strlen(n.gl_pathv[k]) + 1;
        char *list = calloc(len + 1, 1);
        for (size_t k = 0; k < n.gl_pathc; k++) {
            strcat(list, n.gl_pathv[k]);
            strcat(list, " ");
        }
        /* every committed table says how it was made: command (with its seeds) and
         * arithmetic (gd_table_provenance) */
        snprintf(path, sizeof path, "%s/results/*.tsv", dir);
        glob_t all;
        cr_assert_eq(glob(path, 0, NULL, &all), 0);
        for (size_t k = 0; k < all.gl_pathc; k++) {
            char *text = t_slurp(all.gl_pathv[k]);
            cr_assert_not_null(text);
            cr_expect_not_null(strstr(text, "# command: "), "%s: no '# command:' line", all.gl_pathv[k]);
            cr_expect_not_null(strstr(text, "# blas: "), "%s: no '# blas:' line", all.gl_pathv[k]);
            free(text);
        }
        globfree(&all);
        char *cmd;
        cr_assert(asprintf(&cmd, GD_BIN "mdsync --check --seed-base " STR(GD_SEED_BASE) " %s/README.md %s",
                           dir, list) > 0);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0, "%s: the README's numbers are not the committed results': %s", dir, r.err);
        t_free(&r);
        free(cmd);
        free(list);
        globfree(&n);
    }
    globfree(&g);
}

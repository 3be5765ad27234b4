/* test_ch08_harden.c -- Chapter 8's programs against what a careless or hostile user
 * gives them (issue 12). Each test is one defect the programs had: it failed before the
 * fix. Fast: a tiny Fashion-MNIST-shaped directory written here, or refusals.
 */
#include "../common.h"
#include "../harden.h"   /* write_idx, tiny_fmnist, rm_rf */

#define SANITY GD_BIN "ch08-sanity"
#define COMPARE GD_BIN "ch08-tune-compare"


/* ch08-sanity overfits --batch images per seed and checks gradients on images 1000 on of
 * the split's training part; on a data set smaller than that it read past the index
 * list (uninitialised indices: images from anywhere, or a crash). Now refused before any
 * work: one line, exit 2. */
Test(ch08_harden, sanity_refuses_data_smaller_than_its_checks_index) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    char *cmd;
    cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s " SANITY " --seeds 1 --val-size 10 --batch 4 --overfit-steps 2",
                       dir) > 0);
    t_assert_rejects(cmd, 2, "too few");
    free(cmd);
    rm_rf(dir);
}

/* The directories given to ch08-tune-compare are the user's input: a missing one is
 * exit 2 (it was 1, the status of a failure while running); an unwritable --numbers is
 * refused before anything is read. */
Test(ch08_harden, tune_compare_input_errors_exit_2) {
    t_assert_rejects(COMPARE " --recipe /nonexistent/recipe --full /nonexistent/full", 2, "/nonexistent/");
    t_assert_rejects(COMPARE " --recipe /nonexistent/recipe --full /nonexistent/full --numbers /tmp", 2, "--numbers");
}

/* The coursework kit's checks (exercises/chNN/check.c, run by build/bin/grade) trained on
 * Fashion-MNIST assuming its size: Chapter 2's split the first 6000 training images of
 * whatever was there (on a 100-image set the checks of 2.2-2.4 crashed), 6.3 and 7.4 split
 * off 2000 or 5000. Each now names the directory and the count it needs. */
Test(ch08_harden, kit_checks_name_too_small_data_instead_of_crashing) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    const char *ids[] = {"2", "6.3", "7.4"};
    for (int i = 0; i < 3; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s " GD_BIN "grade --only %s", dir, ids[i]) > 0);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
        cr_expect_null(strstr(r.out, "crashed"), "%s: a check crashed:\n%s", cmd, r.out);
        cr_expect_not_null(strstr(r.out, "too few"), "%s: no check named the data's size:\n%s", cmd, r.out);
        t_free(&r);
        free(cmd);
    }
    rm_rf(dir);
}

/* The check of 8.3 ran lrtune through a shell command built in 2048 bytes with the
 * program's path unquoted: a GRADE_BIN_DIR with a space in it (here a symlink to the
 * build's programs) failed the exercise. The paths are quoted now. */
Test(ch08_harden, kit_check_runs_programs_from_a_directory_with_a_space) {
    char dir[] = "/tmp/gdtest-kitbin-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char link[128], *target = realpath(GD_BIN_DIR, NULL), *cmd;
    cr_assert_not_null(target);
    snprintf(link, sizeof link, "%s/bin dir", dir);
    cr_assert_eq(symlink(target, link), 0);
    cr_assert(asprintf(&cmd, "GRADE_BIN_DIR='%s' " GD_BIN "grade --only 8.3", link) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    const char *line = strstr(r.out, "8.3 ");
    cr_expect(line && strstr(line, " ok"), "%s: 8.3 not graded ok:\n%s", cmd, r.out);
    t_free(&r);
    free(cmd), free(target);
    rm_rf(dir);
}

/* A value with a newline, refused by the program itself, was printed raw: a two-line
 * message (the probe's 'a\nb' cases). gd_usage_error escapes it: one line, exit 2. */
Test(ch08_harden, a_refused_value_with_a_newline_stays_one_line) {
    char dir[64];
    tiny_fmnist(dir, 300, 50);
    const char *opt[] = {
        SANITY " --seeds 1 --val-size 64 --batch 8 --overfit-steps 5 --dims 'a\nb'",
        SANITY " --seeds 1 --val-size 64 --batch 8 --overfit-steps 5 --gc-dims 'a\nb'",
        GD_BIN "ch08-symptoms --seeds 1 --steps 5 --train-size 150 --val-size 100 --case 'a\nb'",
        GD_BIN "ch08-symptoms --case nan --seeds 1 --steps 5 --train-size 150 --val-size 100 --key 'a\nb'",
    };
    const char *needle[] = {"--dims", "--gc-dims", "--case", "--key"};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s %s", dir, opt[i]) > 0);
        t_assert_rejects(cmd, 2, needle[i]);
        t_assert_rejects(cmd, 2, "a\\nb");
        free(cmd);
    }
    rm_rf(dir);
}

/* test_grade_out.c -- where the autograder writes its tables (exercises/grade.c): by
 * out.h's one policy, and an output that can never be written is refused before any
 * exercise is graded. One quick exercise (1.1, a derivation) is graded each time. */
#include "../common.h"

#define GRADE "GRADE_BIN_DIR=" GD_BIN_DIR " " GD_BIN "grade --only 1.1"

Test(tools_grade, outputs_follow_the_write_policy) {
    /* can never be written: exit 2 at once, one line, nothing graded (no score table) */
    t_result r = t_run(GRADE " --tsv /proc/x/y.tsv");
    cr_expect_eq(r.status, 2, "%s", r.err);
    cr_expect(t_lines(r.err) == 1 && strstr(r.err, "--tsv") && strstr(r.err, "/proc/x/y.tsv"), "%s", r.err);
    cr_expect(strstr(r.out, "total") == NULL, "graded before refusing: %s", r.out);
    t_free(&r);

    char dir[] = "/tmp/gdtest-grade-XXXXXX", link[128], target[128], cmd[512];
    cr_assert_not_null(mkdtemp(dir));
    /* a symlink keeps its link; the file it points to gets the table */
    snprintf(link, sizeof link, "%s/grades.tsv", dir);
    snprintf(target, sizeof target, "%s/real.tsv", dir);
    cr_assert_eq(symlink("real.tsv", link), 0);
    fclose(fopen(target, "w"));   /* out.h refuses a link that leads nowhere */
    snprintf(cmd, sizeof cmd, GRADE " --tsv %s", link);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    struct stat st;
    cr_expect(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced by a file");
    char *got = t_slurp(target);
    cr_expect(got && strstr(got, "\n1.1\t"), "the target has no table: %s", got ? got : "(none)");
    free(got);
    /* a device is written in place: /dev/full reports ENOSPC (exit 1) and stays a device */
    if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode)) {
        r = t_run(GRADE " --json /dev/full");
        cr_expect_eq(r.status, 1, "%s", r.err);
        cr_expect(strstr(r.err, "No space left on device") != NULL, "%s", r.err);
        t_free(&r);
        cr_expect(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode), "/dev/full is still a device");
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* An empty --only, --tsv or --json was taken as the value, and the next argument then
 * read as something else; a refused value with a newline gave two lines. Now: one
 * line naming the option, exit 2. */
Test(tools_grade, empty_and_multiline_values_are_refused_in_one_line) {
    const char *opt[] = {"--only", "--tsv", "--json"};
    for (int i = 0; i < 3; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "GRADE_BIN_DIR=" GD_BIN_DIR " " GD_BIN "grade %s '' --list", opt[i]);
        t_assert_rejects(cmd, 2, opt[i]);
    }
    t_assert_rejects(GD_BIN "grade --only 'a\nb'", 2, "a\\nb");
    t_assert_rejects(GD_BIN "grade --timeout 'a\nb'", 2, "--timeout");
    t_assert_rejects(GD_BIN "grade --seed-base '1\n2'", 2, "--seed-base");
}

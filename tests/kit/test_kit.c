/* INSTRUCTOR EDITION ONLY -- the coursework kit works: the instructor's edition earns
 * full marks, the student edition none, every planted wrong answer is caught, and one
 * planted wrong answer costs exactly its exercise's points.
 *
 * The four score tables are made by exercises/rules.mk before the tests run:
 *   build/kit/instructor.tsv   this tree, graded
 *   build/kit/student.tsv      `make student`, then `make grade` in the student edition
 *   build/kit/wrong-all.tsv    every exercise's WRONG lines in place of its solution
 *   build/kit/wrong-N.M.tsv    exercise N.M's only (KIT_WRONG in exercises/rules.mk)
 * The last three do not depend on the arithmetic or the seed base and are made only
 * when BOOK_TESTS is on (CI's first pass).
 */
#include "kit.h"

#ifndef GD_BOOK_TESTS
#define GD_BOOK_TESTS 1
#endif
#ifndef GD_KIT_WRONG
#define GD_KIT_WRONG "4.1"
#endif

static kit_exercise ex[KIT_MAX];
static kit_grade got[KIT_MAX];

Test(kit, instructor_edition_earns_full_marks)
{
    int n = kit_manifest(ex);
    int m = kit_grades(GD_BUILD_DIR "/kit/instructor.tsv", got);
    cr_assert_eq(m, n, "the grader graded %d exercises, the manifests list %d", m, n);
    for (int i = 0; i < n; i++) {
        const kit_grade *g = kit_find(got, m, ex[i].id);
        cr_assert_not_null(g, "exercise %s was not graded", ex[i].id);
        cr_expect_eq(g->points, ex[i].points, "exercise %s: %d points in the table, %d in the manifest", ex[i].id, g->points, ex[i].points);
        cr_expect_eq(g->score, ex[i].points, "exercise %s: the solution earns %d of %d: %s", ex[i].id, g->score, ex[i].points, g->result);
    }
}

/* A failing exercise is reported with a message, not a crash or a time-out. */
static void expect_all_fail(const char *path, const char *edition, int allow_crash)
{
    int n = kit_manifest(ex);
    int m = kit_grades(path, got);
    cr_assert_eq(m, n, "%s: graded %d exercises, the manifests list %d", edition, m, n);
    for (int i = 0; i < n; i++) {
        const kit_grade *g = kit_find(got, m, ex[i].id);
        cr_assert_not_null(g, "%s: exercise %s was not graded", edition, ex[i].id);
        cr_expect_eq(g->score, 0, "%s: exercise %s earns %d points: its check does not catch it", edition, ex[i].id, g->score);
        cr_expect(strcmp(g->result, "ok") != 0 && g->result[0], "%s: exercise %s: no message", edition, ex[i].id);
        if (!allow_crash)
            cr_expect(strncmp(g->result, "crashed", 7) != 0 && strncmp(g->result, "timed out", 9) != 0,
                      "%s: exercise %s: the stub should fail with a message, not: %s", edition, ex[i].id, g->result);
    }
}

Test(kit, student_edition_fails_every_exercise, .disabled = !GD_BOOK_TESTS)
{
    expect_all_fail(GD_BUILD_DIR "/kit/student.tsv", "the student edition", 0);
}

Test(kit, every_planted_wrong_answer_is_caught, .disabled = !GD_BOOK_TESTS)
{
    expect_all_fail(GD_BUILD_DIR "/kit/wrong-all.tsv", "the wrong-answer edition", 1);
}

Test(kit, one_wrong_answer_costs_exactly_its_points, .disabled = !GD_BOOK_TESTS)
{
    int n = kit_manifest(ex);
    int m = kit_grades(GD_BUILD_DIR "/kit/wrong-" GD_KIT_WRONG ".tsv", got);
    cr_assert_eq(m, n);
    int max = 0, total = 0, planted = -1;
    for (int i = 0; i < n; i++) {
        const kit_grade *g = kit_find(got, m, ex[i].id);
        cr_assert_not_null(g);
        max += ex[i].points;
        total += g->score;
        if (strcmp(ex[i].id, GD_KIT_WRONG) == 0) {
            planted = i;
            cr_expect_eq(g->score, 0, "the planted wrong answer to %s earns %d", GD_KIT_WRONG, g->score);
        } else {
            cr_expect_eq(g->score, ex[i].points, "exercise %s lost points for a wrong answer planted in %s: %s", ex[i].id, GD_KIT_WRONG, g->result);
        }
    }
    cr_assert_geq(planted, 0, "KIT_WRONG=%s is not an exercise", GD_KIT_WRONG);
    cr_expect_eq(total, max - ex[planted].points, "total %d; full marks %d less exercise %s's %d points is %d", total, max, GD_KIT_WRONG, ex[planted].points, max - ex[planted].points);
}

/* The student edition holds no solution: no marker, no worked answers, no kit tests. */
Test(kit, student_edition_holds_no_solution, .disabled = !GD_BOOK_TESTS)
{
    t_result r = t_run("grep -rlE 'BEGIN SOLUTION [0-9]|WRONG [0-9]+\\.[0-9a-z]*:' " GD_BUILD_DIR "/kit/student --exclude-dir=build");
    cr_expect_eq(r.status, 1, "files of the student edition with solutions or wrong answers in them:\n%s", r.out);
    t_free(&r);
    struct stat st;
    cr_expect_neq(stat(GD_BUILD_DIR "/kit/student/tests/kit/test_kit.c", &st), 0, "the kit's own tests are in the student edition");
    int n = kit_manifest(ex);
    for (int i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, GD_BUILD_DIR "/kit/student/exercises/ch%02d/solutions.md", atoi(ex[i].id));
        cr_expect_neq(stat(path, &st), 0, "%s is in the student edition", path);
    }
}

/* Every exercise has a solution, a stub for the student, a wrong answer for these tests,
 * and worked answers in its chapter's solutions.md. */
Test(kit, every_exercise_has_solution_stub_wrong_and_worked_answer)
{
    int n = kit_manifest(ex);
    t_result r = t_run(GD_BIN "edition --ids $(find exercises -type f | sort)");
    cr_assert_eq(r.status, 0, "edition --ids: %s", r.err);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s\t", ex[i].id);
        const char *line = r.out;
        while (line && strncmp(line, key, strlen(key)) != 0) {
            line = strchr(line, '\n');
            if (line) line++;
        }
        cr_expect_not_null(line, "exercise %s has no SOLUTION/STUB/WRONG markers in exercises/", ex[i].id);
        if (line) {
            int sol = 0, stub = 0, wrong = 0;
            sscanf(line + strlen(key), "solution=%d\tstub=%d\twrong=%d", &sol, &stub, &wrong);
            cr_expect(sol > 0 && stub > 0 && wrong > 0, "exercise %s: %d solutions, %d stubs, %d wrong answers marked", ex[i].id, sol, stub, wrong);
        }
        char path[64], heading[64];
        snprintf(path, sizeof path, "exercises/ch%02d/solutions.md", atoi(ex[i].id));
        char *text = t_slurp(path);
        cr_assert_not_null(text, "no %s", path);
        snprintf(heading, sizeof heading, "Exercise %s", ex[i].id);
        char *p = text;
        int found = 0;
        while ((p = strstr(p, heading))) {            /* "Exercise 4.1" but not "Exercise 4.10" */
            char c = p[strlen(heading)];
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z')) { found = 1; break; }
            p++;
        }
        cr_expect(found, "%s has no worked answer to exercise %s", path, ex[i].id);
        free(text);
    }
    t_free(&r);
}

/* The instructor's course plan names exercises that exist, one of each kind a week, and
 * its minutes are the sums of their estimates. Rows: | week | chapter | a, b, c | min | */
Test(kit, the_course_plan_names_real_exercises)
{
    int n = kit_manifest(ex);
    char *guide = t_slurp("exercises/INSTRUCTOR.md");
    cr_assert_not_null(guide);
    int weeks = 0;
    for (char *p = guide; (p = strstr(p, "\n| ")); p++) {
        int week;
        char set[64];
        int minutes;
        const char *bar = strstr(p + 3, ") | ");
        if (sscanf(p, "\n| %d |", &week) != 1 || !bar || sscanf(bar, ") | %63[^|]| %d |", set, &minutes) != 2) continue;
        weeks++;
        int sum = 0, kinds = 0;
        for (char *id = strtok(set, ", "); id; id = strtok(NULL, ", ")) {
            int found = 0;
            for (int i = 0; i < n; i++)
                if (strcmp(ex[i].id, id) == 0) {
                    found = 1;
                    sum += ex[i].minutes;
                    kinds |= strcmp(ex[i].kind, "derivation") == 0 ? 1 : strcmp(ex[i].kind, "coding") == 0 ? 2 : 4;
                }
            cr_expect(found, "week %d's plan names exercise %s, which no manifest lists", week, id);
        }
        cr_expect_eq(kinds, 7, "week %d's set is not one of each kind", week);
        cr_expect_eq(sum, minutes, "week %d: the plan says %d minutes, the exercises' estimates add up to %d", week, minutes, sum);
    }
    cr_expect_eq(weeks, 8, "the plan has %d weeks", weeks);
    free(guide);
}

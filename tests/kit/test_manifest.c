/* The exercises as the book states them: every chapter has three to six, of all three
 * kinds; each manifest row (exercises/chNN/exercises.tsv) has its heading in the
 * chapter's README with the same kind, difficulty and time, and each heading its row;
 * the coursework guide's table of all exercises agrees with the manifests. */
#include "kit.h"

#include <dirent.h>

static kit_exercise ex[KIT_MAX];

static const char *stars[] = { "", "★", "★★", "★★★" };

/* The README of chapter CH (chapters/NN-slug/README.md), as a string. */
static char *chapter_readme(int ch)
{
    DIR *d = opendir("chapters");
    cr_assert_not_null(d);
    struct dirent *e;
    char prefix[8], path[300] = "";
    snprintf(prefix, sizeof prefix, "%02d-", ch);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, 3) == 0) snprintf(path, sizeof path, "chapters/%s/README.md", e->d_name);
    closedir(d);
    cr_assert(path[0], "no chapters/%02d-*", ch);
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s", path);
    return text;
}

Test(kit, every_chapter_has_exercises_of_every_kind)
{
    int n = kit_manifest(ex);
    for (int ch = 1; ch <= 8; ch++) {
        int count = 0, deriv = 0, coding = 0, exper = 0;
        for (int i = 0; i < n; i++) {
            if (atoi(ex[i].id) != ch) continue;
            count++;
            deriv += strcmp(ex[i].kind, "derivation") == 0;
            coding += strcmp(ex[i].kind, "coding") == 0;
            exper += strcmp(ex[i].kind, "experiment") == 0;
            cr_expect(ex[i].difficulty >= 1 && ex[i].difficulty <= 3, "exercise %s: difficulty %d is not 1 to 3", ex[i].id, ex[i].difficulty);
            cr_expect(ex[i].minutes > 0 && ex[i].points > 0 && ex[i].written >= 0, "exercise %s: minutes, points or written points missing", ex[i].id);
        }
        cr_expect(count >= 3 && count <= 6, "Chapter %d has %d exercises (3 to 6)", ch, count);
        cr_expect(deriv && coding && exper, "Chapter %d: %d derivations, %d coding, %d experiments (one of each at least)", ch, deriv, coding, exper);
    }
}

Test(kit, every_exercise_is_in_its_chapter_with_the_same_heading)
{
    int n = kit_manifest(ex);
    for (int ch = 1; ch <= 8; ch++) {
        char *text = chapter_readme(ch);
        int headings = 0;
        for (char *p = text; (p = strstr(p, "\n### Exercise ")); p++) headings++;
        int rows = 0;
        for (int i = 0; i < n; i++) {
            if (atoi(ex[i].id) != ch) continue;
            rows++;
            char want[400];
            snprintf(want, sizeof want, "\n### Exercise %s: %s (%s, %s, %d min)\n", ex[i].id, ex[i].title, ex[i].kind,
                     stars[ex[i].difficulty], ex[i].minutes);
            cr_expect_not_null(strstr(text, want), "Chapter %d's README has no heading%s", ch, want);
        }
        cr_expect_eq(headings, rows, "Chapter %d's README has %d exercise headings, its exercises.tsv %d rows", ch, headings, rows);
        free(text);
    }
}

/* exercises/README.md lists every exercise in a table row
 * | 4.1 | title | kind | ★★ | 30 | 10 + 5 | */
Test(kit, the_guide_lists_every_exercise)
{
    int n = kit_manifest(ex);
    char *guide = t_slurp("exercises/README.md");
    cr_assert_not_null(guide);
    int rows = 0;
    for (char *p = guide; (p = strstr(p, "\n| ")); p++)
        if (p[3] >= '0' && p[3] <= '9') rows++;
    for (int i = 0; i < n; i++) {
        char want[400];
        snprintf(want, sizeof want, "\n| %s | %s | %s | %s | %d | %d + %d |", ex[i].id, ex[i].title, ex[i].kind,
                 stars[ex[i].difficulty], ex[i].minutes, ex[i].points, ex[i].written);
        cr_expect_not_null(strstr(guide, want), "exercises/README.md has no row%s", want);
    }
    cr_expect_eq(rows, n, "exercises/README.md has %d exercise rows, the manifests %d exercises", rows, n);
    free(guide);
}

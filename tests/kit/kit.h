/* kit.h -- reading the coursework kit's manifests and score tables in tests.
 *
 * exercises/chNN/exercises.tsv: id kind points written difficulty minutes title
 * a score table (grade --tsv):  id kind points score written title result, then a
 *                               "total" row; '#' lines are comments.
 */
#ifndef GD_TESTS_KIT_H
#define GD_TESTS_KIT_H

#include "../common.h"

#define KIT_MAX 256

typedef struct {
    char id[16], kind[16], title[160];
    int points, written, difficulty, minutes;
} kit_exercise;

typedef struct {
    char id[16];
    int points, score;
    char result[600];
} kit_grade;

/* Split LINE (modified) at tabs into at most MAX fields; returns the count. */
static inline int kit_fields(char *line, char **field, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < max;) {
        field[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/* Every chapter's manifest, chapters in order. Returns the number of exercises. */
static inline int kit_manifest(kit_exercise *ex)
{
    int n = 0;
    for (int ch = 1; ch <= 99; ch++) {
        char path[64], line[512];
        snprintf(path, sizeof path, "exercises/ch%02d/exercises.tsv", ch);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int first = 1;
        while (fgets(line, sizeof line, f)) {
            if (first) { first = 0; continue; }
            if (line[0] == '#' || line[0] == '\n') continue;
            char *fl[7];
            cr_assert_eq(kit_fields(line, fl, 7), 7, "%s: a row without 7 fields", path);
            cr_assert_lt(n, KIT_MAX);
            kit_exercise *x = &ex[n++];
            snprintf(x->id, sizeof x->id, "%s", fl[0]);
            snprintf(x->kind, sizeof x->kind, "%s", fl[1]);
            snprintf(x->title, sizeof x->title, "%s", fl[6]);
            x->points = atoi(fl[2]);
            x->written = atoi(fl[3]);
            x->difficulty = atoi(fl[4]);
            x->minutes = atoi(fl[5]);
        }
        fclose(f);
    }
    return n;
}

/* A score table written by grade --tsv. Returns the number of rows (not the total). */
static inline int kit_grades(const char *path, kit_grade *g)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s (made by exercises/rules.mk)", path);
    char line[2048];
    int n = 0, header = 1;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (header) { header = 0; continue; }
        char *fl[7];
        int nf = kit_fields(line, fl, 7);
        if (strcmp(fl[0], "total") == 0) continue;
        cr_assert_eq(nf, 7, "%s: a row without 7 fields: %s", path, fl[0]);
        cr_assert_lt(n, KIT_MAX);
        snprintf(g[n].id, sizeof g[n].id, "%s", fl[0]);
        g[n].points = atoi(fl[2]);
        g[n].score = atoi(fl[3]);
        snprintf(g[n].result, sizeof g[n].result, "%s", fl[6]);
        n++;
    }
    fclose(f);
    return n;
}

static inline const kit_grade *kit_find(const kit_grade *g, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(g[i].id, id) == 0) return &g[i];
    return NULL;
}

#endif

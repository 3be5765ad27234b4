/* test_probe.c -- the generated probe: every program in GD_BIN_DIR (chapters, tools,
 * bench, exp-*) x every option its --help lists x a list of bad values, and every
 * program that reads Fashion-MNIST x a list of broken data directories. Nothing here
 * names a program's options: a new program or option is probed without editing this
 * file. The rules a case is judged by are in probe.h; each failure is one line
 * "program --option value: what happened", and every failure is listed (the test
 * fails once, at the end, with the count).
 *
 * What is asserted, by the kind --help gives an option (only what is true of every
 * option of that kind):
 *   N, X,Y,...  numbers: every bad value is refused (exit 2, one line naming the
 *               option); the value is followed by PR_SENTINEL, so a value taken for
 *               a number shows as the sentinel's refusal and no work starts. 2^63 and
 *               2^64 may be taken (an option's range may be that wide) but must not
 *               crash or print two lines;
 *   S           text, a spec or a path to read: "" is refused; a 100,000-character
 *               value and one with a newline may be valid (a label), so they must
 *               be refused in one line or accepted, never crash or hang;
 *   FILE, DIR   outputs (and S options whose help says "write ..."): an unwritable
 *               path is refused with exit 2 naming the option, before any work;
 *   flags       a value (--flag=1) is refused.
 * The cases that may get past the options (S, FILE, DIR) carry the program's short-run
 * options from programs.tsv (the value under test first, its option taken out of
 * them), so that whatever else the program requires is there. Every case runs with
 * GD_FASHION_MNIST and GD_FORTUNES naming an empty directory (and $DATA is it): a
 * program that took a bad value and went on to work stops at its data with exit 2
 * instead of training, and its refusal names the data, not the option -- which is how
 * an output checked only after loading the data shows.
 *
 * The data directories: missing, empty, a cut-off gzip, a wrong magic number, 1x1
 * images, 10 images, a label >= 10, fewer labels than images, no labels file. Each
 * program runs with its short-run options from programs.tsv ($DATA the broken
 * directory) and must refuse the data: exit 2, one line (naming the directory when a
 * file in it is damaged), no file written. A last directory holds 1000 well-formed
 * images: a short run may use them or refuse them, but not crash or read past them.
 *
 * The probe depends on neither the BLAS kernel nor the seed base, so it runs where the
 * book's other such tests run (GD_BOOK_TESTS: CI's first pass, not the other two), or
 * wherever GD_PROBE=1 is set (make check-asan runs it on the sanitized programs).
 *
 * Knobs: GD_PROBE_JOBS (cases at once, 3), GD_PROBE_TIMEOUT (seconds per case, 20),
 * GD_PROBE_ONLY (probe only the programs whose name contains this),
 * GD_PROBE_REPORT (also write the failure lines to this file).
 */
#include "probe.h"

#define PR_MAX_PROGS 128

#ifndef GD_BOOK_TESTS
#define GD_BOOK_TESTS 1
#endif

static void pr_skip_unless_wanted(void) {
    const char *want = getenv("GD_PROBE");
    if (want ? strcmp(want, "0") == 0 : !GD_BOOK_TESTS)
        cr_skip_test("the probe runs in the first pass only (BOOK_TESTS=1 or GD_PROBE=1)");
}

/* ---------------------------------------------------------------------------------- */
/* The programs. */

typedef struct {
    char *name;
    char *path;
} pr_prog;

static int pr__cmp_prog(const void *a, const void *b) {
    return strcmp(((const pr_prog *)a)->name, ((const pr_prog *)b)->name);
}

/* Every program in GD_BIN_DIR: executables without a '.' in the name (NAME.d are
 * make's dependency files), the test binary excepted. Sorted. */
static int pr_programs(pr_prog *progs, int max) {
    char bin[PATH_MAX];
    cr_assert_not_null(realpath(GD_BIN_DIR, bin), "no %s: build the programs first", GD_BIN_DIR);
    DIR *d = opendir(bin);
    cr_assert_not_null(d, "cannot list %s", bin);
    const char *only = getenv("GD_PROBE_ONLY");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.' || strchr(e->d_name, '.') || strcmp(e->d_name, "gdtest") == 0) continue;
        char *path = pr_fmt("%s/%s", bin, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0 ||
            (only && !strstr(e->d_name, only))) {
            free(path);
            continue;
        }
        progs[n].name = strdup(e->d_name);
        progs[n].path = path;
        n++;
    }
    closedir(d);
    qsort(progs, (size_t)n, sizeof *progs, pr__cmp_prog);
    return n;
}

/* ---------------------------------------------------------------------------------- */
/* programs.tsv: per program, what data it reads and the options of a short run. */

typedef struct {
    char *name;
    char *data;         /* fmnist, fortunes or none */
    char *args;         /* words; $DATA, $TMP and $ROOT are replaced */
} pr_row;

static int pr_table(pr_row *rows, int max) {
    FILE *f = fopen("tests/probe/programs.tsv", "r");
    cr_assert_not_null(f, "cannot read tests/probe/programs.tsv (run from the top of the book)");
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        cr_assert(t1 && t2, "programs.tsv: '%s' is not program<TAB>data<TAB>args", line);
        *t1 = *t2 = '\0';
        rows[n].name = strdup(line);
        rows[n].data = strdup(t1 + 1);
        rows[n].args = strdup(t2 + 1);
        cr_assert(strcmp(rows[n].data, "fmnist") == 0 || strcmp(rows[n].data, "fortunes") == 0 ||
                      strcmp(rows[n].data, "none") == 0,
                  "programs.tsv: %s: data '%s' is not fmnist, fortunes or none", rows[n].name, rows[n].data);
        n++;
    }
    fclose(f);
    return n;
}

static const pr_row *pr_table_find(const pr_row *rows, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0) return &rows[i];
    return NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Every program is listed in programs.tsv (the short runs of make check-asan and the
 * data probe read it), and every row names a program that exists. */

Test(probe, every_program_has_a_short_run, .timeout = 60) {
    static pr_prog progs[PR_MAX_PROGS];
    static pr_row rows[PR_MAX_PROGS * 2];
    int np = pr_programs(progs, PR_MAX_PROGS), nr = pr_table(rows, PR_MAX_PROGS * 2);
    cr_assert_gt(np, 3, "no programs in %s", GD_BIN_DIR);
    for (int i = 0; i < np; i++) {
        const pr_row *row = pr_table_find(rows, nr, progs[i].name);
        cr_expect_not_null(row, "%s has no short run in tests/probe/programs.tsv (add a row: its fastest "
                           "options, the data it reads)", progs[i].name);
        /* a program whose --data reads Fashion-MNIST has a row that says so, or the
         * data probe would pass it by */
        char *cmd = pr_fmt("'%s' --help", progs[i].path);
        t_result r = t_run(cmd);
        free(cmd);
        const char *d = strstr(r.out, "\n  --data ");
        const char *eol = d ? strchr(d + 1, '\n') : NULL;
        int fmnist = d && eol && memmem(d, (size_t)(eol - d), "Fashion-MNIST", 13) != NULL;
        t_free(&r);
        int has = 0;
        for (int k = 0; k < nr; k++)
            has |= strcmp(rows[k].name, progs[i].name) == 0 && strcmp(rows[k].data, "fmnist") == 0;
        if (row && fmnist)
            cr_expect(has, "%s reads Fashion-MNIST (--data), but no row of tests/probe/programs.tsv "
                      "says fmnist", progs[i].name);
    }
    if (getenv("GD_PROBE_ONLY")) return;
    for (int i = 0; i < nr; i++) {
        int found = 0;
        for (int j = 0; j < np && !found; j++) found = strcmp(progs[j].name, rows[i].name) == 0;
        cr_expect(found, "tests/probe/programs.tsv names %s, which is not in %s", rows[i].name, GD_BIN_DIR);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Every option x bad values. */

Test(probe, every_option_refuses_bad_values, .timeout = 1800) {
    pr_skip_unless_wanted();
    static pr_prog progs[PR_MAX_PROGS];
    static pr_row rows[PR_MAX_PROGS * 2];
    int np = pr_programs(progs, PR_MAX_PROGS), nr = pr_table(rows, PR_MAX_PROGS * 2);
    cr_assert_gt(np, 0, "no programs in %s", GD_BIN_DIR);
    char *scratch = pr_scratch();
    char *empty = pr_fmt("%s/empty-data", scratch);
    cr_assert_eq(mkdir(empty, 0700), 0);
    pr_cases cs = {0};
    int nopts = 0;
    for (int i = 0; i < np; i++) {
        const pr_prog *p = &progs[i];
        const pr_row *row = pr_table_find(rows, nr, p->name);
        const char *base = row ? row->args : NULL;
        nopts += pr_option_cases(&cs, p->name, p->path, base, empty);
    }
    cr_log_info("probe: %d programs, %d options, %d cases", np, nopts, cs.n);
    double t0 = pr_now();
    pr_run_pending(&cs, scratch);
    pr_report(cs.cases, cs.n, "options", pr_now() - t0);
    pr_cases_free(&cs);
    pr_rm_rf(scratch);
    free(scratch);
    free(empty);
}

/* ---------------------------------------------------------------------------------- */
/* Broken Fashion-MNIST directories. */

Test(probe, every_program_refuses_broken_data, .timeout = 1800) {
    pr_skip_unless_wanted();
    static pr_prog progs[PR_MAX_PROGS];
    static pr_row rows[PR_MAX_PROGS * 2];
    int np = pr_programs(progs, PR_MAX_PROGS), nr = pr_table(rows, PR_MAX_PROGS * 2);
    char *scratch = pr_scratch();
    pr_make_broken(scratch);
    pr_cases cs = {0};
    for (int i = 0; i < np; i++) {
        const pr_row *row = pr_table_find(rows, nr, progs[i].name);
        if (!row || strcmp(row->data, "none") == 0) continue;   /* every_program_has_a_short_run */
        pr_data_cases(&cs, progs[i].name, progs[i].path, row->args, row->data, scratch);
    }
    double t0 = pr_now();
    pr_run(cs.cases, cs.n, scratch);
    pr_report(cs.cases, cs.n, "data", pr_now() - t0);
    pr_cases_free(&cs);
    pr_rm_rf(scratch);
    free(scratch);
}

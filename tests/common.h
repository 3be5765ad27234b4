/* common.h -- helpers shared by the test files: run a program, read a file.
 *
 * Tests run from the repository root (the Makefile does that), so programs are at
 * GD_BUILD_DIR "/bin/NAME" and chapter outputs under GD_BUILD_DIR "/chNN".
 */
#ifndef GD_TESTS_COMMON_H
#define GD_TESTS_COMMON_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GD_BUILD_DIR
#define GD_BUILD_DIR "build"
#endif
/* The seed base of this build (make SEED=n): claims must hold for any, so tests read
 * seeds from the tables and use this only to name what they checked. */
#ifndef GD_SEED_BASE
#define GD_SEED_BASE 0
#endif
/* The programs: $(BIN), which is GD_BUILD_DIR/bin unless the build reuses another
 * build's programs (make PROGBUILD=...). */
#ifndef GD_BIN_DIR
#define GD_BIN_DIR GD_BUILD_DIR "/bin"
#endif
#define GD_BIN GD_BIN_DIR "/"

/* Whole file as a NUL-terminated string (malloc'd), or NULL. */
static inline char *t_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[n] = '\0';
    return s;
}

typedef struct {
    int status;   /* exit status, or 128 + signal */
    char *out;    /* captured stdout */
    char *err;    /* captured stderr */
} t_result;

/* Run a shell command line, capturing stdout and stderr. */
static inline t_result t_run(const char *cmd) {
    char dir[] = "/tmp/gdtest-run-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *line, out[64], err[64];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    cr_assert(asprintf(&line, "%s >%s 2>%s", cmd, out, err) > 0);
    int st = system(line);
    free(line);
    t_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = t_slurp(out);
    r.err = t_slurp(err);
    unlink(out);
    unlink(err);
    rmdir(dir);
    return r;
}

static inline void t_free(t_result *r) {
    free(r->out);
    free(r->err);
}

/* Run cmd_fmt with "%s" replaced by a fresh temporary file's path (written into path,
 * which holds a mkstemp template) and require exit 0. The caller reads and unlinks it. */
static inline void t__run_into(const char *cmd_fmt, char *path) {
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, cmd_fmt, path);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
}

/* Run cmd_fmt with "%s" replaced by a fresh temporary file's path, require exit 0, and
 * return what the program wrote into that file (malloc'd). */
static inline char *t_run_file(const char *cmd_fmt) {
    char path[] = "/tmp/gdtest-file-XXXXXX";
    t__run_into(cmd_fmt, path);
    char *text = t_slurp(path);
    unlink(path);
    cr_assert_not_null(text);
    return text;
}

/* Number of lines in s. */
static inline int t_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* A program rejects bad input properly: exit status `status`, exactly one line on
 * stderr, containing `needle`, and nothing on stdout. */
static inline void t_assert_rejects(const char *cmd, int status, const char *needle) {
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, status, "%s: exit %d, expected %d (stderr: %s)", cmd, r.status, status, r.err);
    cr_expect_eq(t_lines(r.err), 1, "%s: stderr should be one line, got: %s", cmd, r.err);
    cr_expect(strstr(r.err, needle) != NULL, "%s: stderr should mention '%s', got: %s", cmd, needle, r.err);
    cr_expect_str_empty(r.out, "%s: nothing on stdout expected, got: %s", cmd, r.out);
    t_free(&r);
}

/* ---------------------------------------------------------------------------------- */
/* Tables (out.h): '#' comments, one header line, rows of tab-separated fields; blank
 * lines (blocks) are skipped. Every field is kept as text; t_tsv_num reads it as a
 * number (NaN when it is not one: "nan", a status word, an empty field).
 *
 *   t_tsv *t = t_tsv_read(GD_BUILD_DIR "/ch05/seeds-w0.tsv");
 *   int acc = t_tsv_col(t, "test_acc");          // fails the test if there is none
 *   for (int i = 0; i < t->nrows; i++) x[i] = t_tsv_num(t, i, acc);
 *   t_tsv_free(t);
 */
#define T_TSV_MAXCOLS 64
typedef struct {
    int nrows, ncols;
    char *names[T_TSV_MAXCOLS];
    char **cells;        /* (nrows, ncols), row-major; NULL where a row is short */
    char *text;          /* the file, cut up in place */
} t_tsv;

static inline t_tsv *t_tsv_read(const char *path) {
    t_tsv *t = calloc(1, sizeof *t);
    t->text = t_slurp(path);
    cr_assert_not_null(t->text, "cannot read %s (does make run the chapter before the tests?)", path);
    int cap = 0, header = 0;
    char *save = NULL;
    for (char *line = strtok_r(t->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        if (!header) {
            for (char *f = line; f && t->ncols < T_TSV_MAXCOLS; t->ncols++) {
                t->names[t->ncols] = f;
                if ((f = strchr(f, '\t'))) *f++ = '\0';
            }
            header = 1;
            continue;
        }
        if (t->nrows == cap) {
            cap = cap ? 2 * cap : 256;
            t->cells = realloc(t->cells, (size_t)cap * t->ncols * sizeof *t->cells);
        }
        char **row = t->cells + (size_t)t->nrows * t->ncols;
        char *f = line;
        for (int c = 0; c < t->ncols; c++) {
            row[c] = f;
            if (f && (f = strchr(f, '\t'))) *f++ = '\0';
        }
        t->nrows++;
    }
    cr_assert(header, "%s has no header line", path);
    return t;
}

static inline void t_tsv_free(t_tsv *t) {
    if (!t) return;
    free(t->cells);
    free(t->text);
    free(t);
}

/* Index of column name; fails the test if the table has none. */
static inline int t_tsv_col(const t_tsv *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return c;
    cr_assert_fail("the table has no column '%s'", name);
    return -1;
}

static inline const char *t_tsv_cell(const t_tsv *t, int row, int col) {
    cr_assert(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols, "cell (%d, %d) out of range", row, col);
    const char *s = t->cells[(size_t)row * t->ncols + col];
    return s ? s : "";
}

static inline double t_tsv_num(const t_tsv *t, int row, int col) {
    const char *s = t_tsv_cell(t, row, col);
    char *end;
    double x = strtod(s, &end);
    return end != s && *end == '\0' ? x : NAN;
}

/* The value of key in a `key value` numbers table, as text (malloc'd) or as a number.
 * Fails the test if the key is missing (or, for t_num, not a number). */
static inline char *t_str(const char *path, const char *key) {
    t_tsv *t = t_tsv_read(path);
    int k = t_tsv_col(t, "key"), v = t_tsv_col(t, "value");
    char *found = NULL;
    for (int i = 0; i < t->nrows && !found; i++)
        if (strcmp(t_tsv_cell(t, i, k), key) == 0) found = strdup(t_tsv_cell(t, i, v));
    t_tsv_free(t);
    cr_assert_not_null(found, "%s: no number named '%s'", path, key);
    return found;
}

static inline double t_num(const char *path, const char *key) {
    char *s = t_str(path, key), *end;
    double x = strtod(s, &end);
    cr_assert(end != s, "%s: '%s' is '%s', not a number", path, key, s);
    free(s);
    return x;
}

/* t_run_file, read as a table: run cmd_fmt with "%s" replaced by a temporary file's
 * path, require exit 0, and return the table the program wrote there. */
static inline t_tsv *t_run_table(const char *cmd_fmt) {
    char path[] = "/tmp/gdtest-table-XXXXXX";
    t__run_into(cmd_fmt, path);
    t_tsv *t = t_tsv_read(path);
    unlink(path);
    return t;
}

/* Order statistics of v[0..n) (v is sorted in place). Median: the mean of the two
 * middle values when n is even. */
static inline int t__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static inline double t_median(double *v, int n) {
    cr_assert(n > 0, "median of nothing");
    qsort(v, (size_t)n, sizeof *v, t__cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
static inline double t_min(const double *v, int n) {
    double m = INFINITY;
    for (int i = 0; i < n; i++) m = v[i] < m ? v[i] : m;
    return m;
}
static inline double t_max(const double *v, int n) {
    double m = -INFINITY;
    for (int i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

#endif

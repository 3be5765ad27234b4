/* common.h -- helpers shared by the test files: run a program, read a file.
 *
 * Tests run from the repository root (the Makefile does that), so programs are at
 * GD_BUILD_DIR "/bin/NAME" and chapter outputs under GD_BUILD_DIR "/chNN".
 */
#ifndef GD_TESTS_COMMON_H
#define GD_TESTS_COMMON_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GD_BUILD_DIR
#define GD_BUILD_DIR "build"
#endif
#define GD_BIN GD_BUILD_DIR "/bin/"

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

/* Run cmd_fmt with "%s" replaced by a fresh temporary file's path, require exit 0, and
 * return what the program wrote into that file (malloc'd). */
static inline char *t_run_file(const char *cmd_fmt) {
    char path[] = "/tmp/gdtest-file-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, cmd_fmt, path);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
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

#endif

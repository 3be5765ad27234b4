#define _GNU_SOURCE   /* strcasestr */
/* test_out.c -- lib/out.h: the table format byte for byte (as out.h specifies it), and
 * the atomic-write promise: nothing at the final path until gd_table_close, the old
 * file intact on abort, no temporary left behind; "-" and FIFOs written in place.
 * Every test works in its own mkdtemp directory and removes it.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "out.h"

/* ------------------------------------------------------------------------------- */
/* helpers */

static char tmpdir[256];

static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/gdtest-out.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void remove_tmpdir(void) { rm_rf(tmpdir); }

TestSuite(lib_out, .init = make_tmpdir, .fini = remove_tmpdir);

static void in_tmp(char *buf, size_t n, const char *rel) {
    cr_assert(tmpdir[0] == '/', "no temporary directory"); /* never write relative to / */
    snprintf(buf, n, "%s/%s", tmpdir, rel);
}

/* The whole file as a string (caller frees); NULL if it cannot be opened. */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    size_t got;
    while ((got = fread(s + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n + 1 == cap) s = realloc(s, cap *= 2);
    }
    fclose(f);
    s[n] = '\0';
    return s;
}

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const char *want) {
    char *got = slurp(path);
    cr_assert_not_null(got, "%s does not exist", path);
    cr_assert_str_eq(got, want, "%s holds\n---\n%s---\nwant\n---\n%s---", path, got, want);
    free(got);
}

/* ------------------------------------------------------------------------------- */
/* format */

Test(lib_out, tsv_meta_header_rows_blocks) {
    char path[512];
    in_tmp(path, sizeof path, "rate.tsv");
    gd_table *t = gd_table_open(path, "eta rate theory");
    cr_assert_not_null(t, "%s", gd_error());
    gd_table_meta(t, "seed", "%d", 42);
    gd_table_meta(t, "program", "%s", "ch01-quadratic");
    gd_table_row(t, "%g %g %g", 0.1, 0.5, 0.25);
    gd_table_row(t, "%d %s %d", 2, "x", -3);
    gd_table_block(t);
    gd_table_row(t, "%d %d %d", 7, 8, 9);
    cr_assert_eq(gd_table_close(t), 0, "%s", gd_error());
    /* out.h: "# key: value" lines, one header naming the columns, tab separators,
     * a blank line between blocks */
    assert_file_is(path,
                   "# seed: 42\n"
                   "# program: ch01-quadratic\n"
                   "eta\trate\ttheory\n"
                   "0.1\t0.5\t0.25\n"
                   "2\tx\t-3\n"
                   "\n"
                   "7\t8\t9\n");
}

Test(lib_out, csv_uses_commas) {
    char path[512];
    in_tmp(path, sizeof path, "t.csv");
    gd_table *t = gd_table_open(path, "a b");
    cr_assert_not_null(t);
    gd_table_meta(t, "lr", "%g", 0.5);
    gd_table_row(t, "%d %d", 1, 2);
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "# lr: 0.5\na,b\n1,2\n");
}

Test(lib_out, runs_of_spaces_are_one_separator) {
    char path[512];
    in_tmp(path, sizeof path, "s.tsv");
    gd_table *t = gd_table_open(path, "step   loss"); /* also in the header */
    cr_assert_not_null(t);
    gd_table_row(t, "%5d %12.4f", 3, 1.5);         /* padded fields: "    3       1.5000" */
    gd_table_row(t, "%d     %d  %d", 1, 22, 333);
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "step\tloss\n3\t1.5000\n1\t22\t333\n");
}

Test(lib_out, header_only_table_and_no_meta) {
    char path[512];
    in_tmp(path, sizeof path, "empty.tsv");
    gd_table *t = gd_table_open(path, "x y");
    cr_assert_not_null(t);
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "x\ty\n");
}

Test(lib_out, long_rows_are_not_truncated) {
    /* a row longer than any fixed buffer a writer might use (here 5000 characters) */
    char path[512];
    in_tmp(path, sizeof path, "long.tsv");
    char big[5001];
    memset(big, 'a', 5000);
    big[5000] = '\0';
    gd_table *t = gd_table_open(path, "k v");
    cr_assert_not_null(t);
    gd_table_row(t, "%d %s", 1, big);
    cr_assert_eq(gd_table_close(t), 0);
    size_t n = strlen("k\tv\n1\t") + 5000 + 1;
    char *want = malloc(n + 1);
    snprintf(want, n + 1, "k\tv\n1\t%s\n", big);
    assert_file_is(path, want);
    free(want);
}

Test(lib_out, missing_directories_are_created) {
    char path[512], dir[512];
    in_tmp(path, sizeof path, "a/b/c/t.tsv");
    in_tmp(dir, sizeof dir, "a/b/c");
    cr_assert(!exists(dir));
    gd_table *t = gd_table_open(path, "x");
    cr_assert_not_null(t, "%s", gd_error());
    struct stat st;
    cr_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "%s was not created", dir);
    gd_table_row(t, "%d", 1);
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "x\n1\n");
    /* gd_mkdirs_for on its own: the parents, not the last component */
    char p2[512], d2[512], leaf[512];
    in_tmp(p2, sizeof p2, "m/n/file.txt");
    in_tmp(d2, sizeof d2, "m/n");
    in_tmp(leaf, sizeof leaf, "m/n/file.txt");
    cr_assert_eq(gd_mkdirs_for(p2), 0);
    cr_assert(stat(d2, &st) == 0 && S_ISDIR(st.st_mode));
    cr_assert(!exists(leaf));
    cr_assert_eq(gd_mkdirs_for(p2), 0, "existing directories are fine");
}

/* ------------------------------------------------------------------------------- */
/* atomicity */

Test(lib_out, file_appears_only_at_close) {
    char path[512];
    in_tmp(path, sizeof path, "new.tsv");
    gd_table *t = gd_table_open(path, "x");
    cr_assert_not_null(t);
    gd_table_meta(t, "seed", "%d", 1);
    gd_table_row(t, "%d", 1);
    cr_assert(!exists(path), "%s exists while the table is still open", path);
    cr_assert_eq(count_entries(tmpdir), 1, "the writer should have exactly one temporary file");
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "# seed: 1\nx\n1\n");
    cr_assert_eq(count_entries(tmpdir), 1, "a temporary file was left behind");
}

Test(lib_out, old_content_survives_until_close) {
    char path[512];
    in_tmp(path, sizeof path, "old.tsv");
    spit(path, "old\n");
    gd_table *t = gd_table_open(path, "x");
    cr_assert_not_null(t);
    for (int i = 0; i < 1000; i++) gd_table_row(t, "%d", i);
    assert_file_is(path, "old\n");
    cr_assert_eq(gd_table_close(t), 0);
    char *got = slurp(path);
    cr_assert(strncmp(got, "x\n0\n1\n2\n", 8) == 0, "new content not in place");
    free(got);
    cr_assert_eq(count_entries(tmpdir), 1);
}

Test(lib_out, abort_keeps_the_old_file_and_removes_the_temporary) {
    char path[512];
    in_tmp(path, sizeof path, "keep.tsv");
    spit(path, "precious\n");
    gd_table *t = gd_table_open(path, "x y");
    cr_assert_not_null(t);
    gd_table_meta(t, "seed", "%d", 3);
    gd_table_row(t, "%d %d", 1, 2);
    cr_assert_eq(count_entries(tmpdir), 2); /* the old file and the temporary */
    gd_table_abort(t);
    assert_file_is(path, "precious\n");
    cr_assert_eq(count_entries(tmpdir), 1, "abort left a temporary file");
}

Test(lib_out, abort_without_old_file_leaves_nothing) {
    char path[512];
    in_tmp(path, sizeof path, "none.tsv");
    gd_table *t = gd_table_open(path, "x");
    cr_assert_not_null(t);
    gd_table_row(t, "%d", 1);
    gd_table_abort(t);
    cr_assert(!exists(path));
    cr_assert_eq(count_entries(tmpdir), 0);
}

/* ------------------------------------------------------------------------------- */
/* failures */

Test(lib_out, unwritable_place_returns_null_with_reason) {
    /* /proc refuses new directories and files, even to root */
    gd_seterr("%s", "");
    gd_table *t = gd_table_open("/proc/x/y.tsv", "a b");
    cr_assert_null(t, "opened a table under /proc");
    cr_assert(strlen(gd_error()) > 0, "no reason");
    cr_assert(strstr(gd_error(), "/proc/x"), "reason '%s' does not name the path", gd_error());

    gd_seterr("%s", "");
    t = gd_table_open("/proc/y.tsv", "a");
    cr_assert_null(t, "opened a table in /proc");
    cr_assert(strstr(gd_error(), "/proc/y.tsv"), "reason '%s' does not name the path", gd_error());
}

Test(lib_out, parent_is_a_file) {
    char file[512], path[512];
    in_tmp(file, sizeof file, "plain");
    in_tmp(path, sizeof path, "plain/t.tsv");
    spit(file, "not a directory\n");
    gd_seterr("%s", "");
    cr_assert_null(gd_table_open(path, "x"));
    cr_assert(strlen(gd_error()) > 0);
    assert_file_is(file, "not a directory\n");
}

Test(lib_out, path_that_is_a_directory_fails_cleanly) {
    /* Neither opening a directory for writing nor renaming a file over it can work:
     * the failure may come at open (NULL) or at close (-1), but it must come, with a
     * reason naming the path, leaving the directory as it was and no temporary. */
    char path[512];
    in_tmp(path, sizeof path, "dir.tsv");
    cr_assert_eq(mkdir(path, 0777), 0);
    gd_seterr("%s", "");
    gd_table *t = gd_table_open(path, "x");
    if (t) {
        gd_table_row(t, "%d", 1);
        cr_assert_eq(gd_table_close(t), -1, "close reported success but the table is nowhere");
    }
    cr_assert(strstr(gd_error(), "dir.tsv"), "reason '%s' does not name the path", gd_error());
    struct stat st;
    cr_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "the directory was replaced");
    cr_assert_eq(count_entries(path), 0);
    cr_assert_eq(count_entries(tmpdir), 1, "a temporary file was left behind");
}

/* ------------------------------------------------------------------------------- */
/* key-value tables, standard output, devices */

Test(lib_out, kv_keeps_spaces_and_escapes_newlines) {
    /* out.h: key, a separator, the value verbatim (spaces kept); a newline in the
     * value is written as the two characters \n. (A tab in the value would read as a
     * third column; the writer turns it into a space.) */
    char path[512];
    in_tmp(path, sizeof path, "numbers.tsv");
    gd_table *t = gd_table_open(path, "name value");
    cr_assert_not_null(t);
    gd_table_meta(t, "program", "%s", "ch01");
    gd_table_kv(t, "lr", "%g", 0.25);
    gd_table_kv(t, "sentence", "%s  %s", "two", "spaces");
    gd_table_kv(t, "lines", "a\nb%s", "\n");
    gd_table_kv(t, "tab", "a\tb");
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path,
                   "# program: ch01\n"
                   "name\tvalue\n"
                   "lr\t0.25\n"
                   "sentence\ttwo  spaces\n"
                   "lines\ta\\nb\\n\n"
                   "tab\ta b\n");
    in_tmp(path, sizeof path, "numbers.csv");
    t = gd_table_open(path, "name value");
    cr_assert_not_null(t);
    gd_table_kv(t, "steps", "%d", 100);
    cr_assert_eq(gd_table_close(t), 0);
    assert_file_is(path, "name,value\nsteps,100\n");
}

Test(lib_out, dash_writes_to_stdout_and_leaves_it_open) {
    fflush(stdout);
    FILE *cap = tmpfile();
    cr_assert_not_null(cap);
    int saved = dup(1);
    dup2(fileno(cap), 1);
    gd_table *t = gd_table_open("-", "a b");
    cr_assert_not_null(t, "%s", gd_error());
    gd_table_meta(t, "seed", "%d", 5);
    gd_table_row(t, "%d %d", 1, 2);
    int rc = gd_table_close(t);
    /* stdout must still work after the table is closed */
    int after = printf("after\n") > 0 && fflush(stdout) == 0;
    dup2(saved, 1);
    close(saved);
    cr_assert_eq(rc, 0, "%s", gd_error());
    cr_assert(after, "stdout is unusable after gd_table_close(\"-\")");
    rewind(cap);
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, cap);
    buf[n] = '\0';
    fclose(cap);
    cr_assert_str_eq(buf, "# seed: 5\na\tb\n1\t2\nafter\n");
    cr_assert_eq(count_entries(tmpdir), 0);
}

Test(lib_out, fifo_is_written_in_place, .timeout = 20) {
    /* An existing FIFO (like /dev/stdout, a non-regular file) must be written through,
     * not replaced by a regular file renamed over it. A child process reads the FIFO
     * into a regular file. */
    char fifo[512], copy[512];
    in_tmp(fifo, sizeof fifo, "pipe.tsv");
    in_tmp(copy, sizeof copy, "copy.txt");
    cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* if the writer never opens the FIFO (it renamed a file over it instead), the
         * reader would block forever: give up after 10 s, which fails the test */
        alarm(10);
        FILE *in = fopen(fifo, "r"), *out = fopen(copy, "w");
        int c;
        if (in && out)
            while ((c = fgetc(in)) != EOF) fputc(c, out);
        if (out) fclose(out);
        _exit(in && out ? 0 : 1);
    }
    gd_table *t = gd_table_open(fifo, "x y");
    cr_assert_not_null(t, "%s", gd_error());
    gd_table_row(t, "%d %d", 3, 4);
    int rc = gd_table_close(t);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert_eq(rc, 0, "%s", gd_error());
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader failed");
    struct stat st;
    cr_assert(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
    assert_file_is(copy, "x\ty\n3\t4\n");
    cr_assert_eq(count_entries(tmpdir), 2, "a temporary file was left behind");
}

/* ------------------------------------------------------------------------------- */
/* gd_table_provenance: the command line as parsed (program's name, args quoted for sh
 * when they need it) and the arithmetic, so that a committed result says how to remake it. */
#include "cli.h"
#include "tensor.h"

Test(lib_out_provenance, records_the_parsed_command_and_the_blas) {
    const char *s = NULL;
    gd_opt opts[] = {GD_OPT_STRING("spec", &s, "a spec"), GD_OPT_END};
    char *argv[] = {"/some/dir/exp-demo", "--spec", "a b'c", "--spec=x:y=1", NULL};
    cr_assert_eq(gd_cli_parse(4, argv, "demo", opts), GD_CLI_OK);
    char dir[] = "/tmp/gdtest-prov-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/t.tsv", dir);
    gd_table *t = gd_table_open(path, "a b");
    cr_assert_not_null(t);
    gd_table_provenance(t);
    gd_table_row(t, "1 2");
    cr_assert_eq(gd_table_close(t), 0);
    FILE *f = fopen(path, "r");
    char text[512] = {0};
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char want[512];
    snprintf(want, sizeof want, "# command: exp-demo --spec 'a b'\\''c' --spec=x:y=1\n# blas: %s\na\tb\n1\t2\n",
             gd_blas_info());
    cr_expect_str_eq(text, want);
    unlink(path);
    rmdir(dir);
}

/* ------------------------------------------------------------------------------- */
/* The policy of every whole-file writer (gd_atomic, out.h): devices written in place,
 * symlinks followed, directories refused, killed writers' temporaries cleaned up, and
 * outputs checked before any work (gd_out_check). Issue 12: `sweep merge /dev/full t`
 * and `--final /dev/full` turned the device into a regular file and reported success,
 * and a symlinked output was replaced by a file. */

TestSuite(lib_out_atomic, .init = make_tmpdir, .fini = remove_tmpdir);

Test(lib_out_atomic, dev_full_is_written_in_place_and_fails_with_enospc) {
    struct stat before, after;
    if (stat("/dev/full", &before) != 0 || !S_ISCHR(before.st_mode)) cr_skip_test("no /dev/full here");
    gd_atomic a;
    cr_assert_eq(gd_atomic_open(&a, "/dev/full"), 0, "%s", gd_error());
    cr_assert_eq(a.direct, 1, "/dev/full is not written in place");
    for (int i = 0; i < 10000; i++) fputs("a line that fills more than a stdio buffer\n", a.f);
    gd_seterr("%s", "");
    cr_assert_eq(gd_atomic_commit(&a), -1, "writing to /dev/full reported success");
    cr_assert(strstr(gd_error(), "No space left"), "reason '%s' does not say ENOSPC", gd_error());
    cr_assert(stat("/dev/full", &after) == 0 && S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev,
              "/dev/full is no longer the device");
    /* the same through the table writer and gd_write_file */
    gd_table *t = gd_table_open("/dev/full", "a");
    cr_assert_not_null(t, "%s", gd_error());
    for (int i = 0; i < 10000; i++) gd_table_row(t, "%d", i);
    cr_assert_eq(gd_table_close(t), -1);
    char big[1 << 16];
    memset(big, 'x', sizeof big);
    cr_assert_eq(gd_write_file("/dev/full", big, sizeof big), -1);
    cr_assert(stat("/dev/full", &after) == 0 && S_ISCHR(after.st_mode));
}

Test(lib_out_atomic, dev_null_is_written_in_place) {
    cr_assert_eq(gd_write_file("/dev/null", "x\n", 2), 0, "%s", gd_error());
    struct stat st;
    cr_assert(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null was replaced");
}

Test(lib_out_atomic, a_symlink_is_followed_and_stays_a_link) {
    char target[512], link_[512];
    in_tmp(target, sizeof target, "real.tsv");
    in_tmp(link_, sizeof link_, "link.tsv");
    spit(target, "old\n");
    cr_assert_eq(symlink("real.tsv", link_), 0, "symlink: %s", strerror(errno));
    cr_assert_eq(gd_write_file(link_, "new\n", 4), 0, "%s", gd_error());
    struct stat st;
    cr_assert(lstat(link_, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced by a file");
    assert_file_is(target, "new\n");
    /* the table writer too */
    gd_table *t = gd_table_open(link_, "a b");
    cr_assert_not_null(t, "%s", gd_error());
    gd_table_row(t, "%d %d", 1, 2);
    cr_assert_eq(gd_table_close(t), 0, "%s", gd_error());
    cr_assert(lstat(link_, &st) == 0 && S_ISLNK(st.st_mode), "gd_table replaced the link");
    assert_file_is(target, "a\tb\n1\t2\n");
    cr_assert_eq(count_entries(tmpdir), 2, "a temporary file was left behind");
}

Test(lib_out_atomic, a_dangling_symlink_is_refused) {
    char link_[512];
    in_tmp(link_, sizeof link_, "dangling.tsv");
    cr_assert_eq(symlink("nowhere/x.tsv", link_), 0);
    gd_seterr("%s", "");
    cr_assert_eq(gd_write_file(link_, "x", 1), -1, "wrote through a link that leads nowhere");
    cr_assert(strstr(gd_error(), "dangling.tsv"), "reason '%s' does not name the path", gd_error());
    cr_assert_eq(gd_out_check(link_), -1);
    struct stat st;
    cr_assert(lstat(link_, &st) == 0 && S_ISLNK(st.st_mode));
}

Test(lib_out_atomic, a_directory_is_refused_at_open) {
    char dir[512];
    in_tmp(dir, sizeof dir, "d");
    cr_assert_eq(mkdir(dir, 0777), 0);
    gd_atomic a;
    gd_seterr("%s", "");
    cr_assert_eq(gd_atomic_open(&a, dir), -1);
    cr_assert(strstr(gd_error(), "is a directory"), "reason: '%s'", gd_error());
    cr_assert_eq(gd_out_check(dir), -1);
    cr_assert_eq(count_entries(tmpdir), 1);
}

/* A temporary file of a writer that was killed (its pid gone) is removed by the next
 * write of the same path; one of a live writer is not. */
Test(lib_out_atomic, killed_writers_temporaries_are_removed) {
    fflush(NULL);
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) _exit(0);
    cr_assert_eq(waitpid(child, NULL, 0), child);   /* reaped: the pid is gone */
    char path[512], dead[600], alive[600], other[600];
    in_tmp(path, sizeof path, "t.tsv");
    snprintf(dead, sizeof dead, "%s.tmp.%ld", path, (long)child);
    snprintf(alive, sizeof alive, "%s.tmp.%ld", path, (long)getppid());
    snprintf(other, sizeof other, "%s/u.tsv.tmp.%ld", tmpdir, (long)child);
    spit(dead, "half a tab");
    spit(alive, "being written");
    spit(other, "another file's");
    cr_assert_eq(gd_write_file(path, "x\n", 2), 0, "%s", gd_error());
    cr_assert(!exists(dead), "the killed writer's temporary is still there");
    cr_assert(exists(alive), "a live writer's temporary was removed");
    cr_assert(exists(other), "another path's temporary was removed");
    assert_file_is(path, "x\n");
}

Test(lib_out_atomic, abort_keeps_the_old_file) {
    char path[512];
    in_tmp(path, sizeof path, "keep.bin");
    spit(path, "old");
    gd_atomic a;
    cr_assert_eq(gd_atomic_open(&a, path), 0, "%s", gd_error());
    fputs("new and half", a.f);
    gd_atomic_abort(&a);
    assert_file_is(path, "old");
    cr_assert_eq(count_entries(tmpdir), 1, "a temporary file was left behind");
}

/* gd_out_check: refused before any work, with no side effect. */
Test(lib_out_atomic, out_check_has_no_side_effects) {
    char ok[512], deep[512], file[512], under_file[512];
    in_tmp(ok, sizeof ok, "a/b/c.tsv");
    in_tmp(deep, sizeof deep, "a");
    in_tmp(file, sizeof file, "f");
    in_tmp(under_file, sizeof under_file, "f/x.tsv");
    cr_assert_eq(gd_out_check(ok), 0, "%s", gd_error());
    cr_assert(!exists(deep), "gd_out_check created a directory");
    cr_assert_eq(gd_out_check_dir(ok), 0, "%s", gd_error());
    spit(file, "plain file");
    gd_seterr("%s", "");
    cr_assert_eq(gd_out_check(under_file), -1, "a path under a regular file passed");
    cr_assert(strcasestr(gd_error(), "not a directory"), "reason: '%s'", gd_error());
    cr_assert_eq(gd_out_check_dir(file), -1, "a regular file passed as a directory");
    cr_assert_eq(gd_out_check("/proc/x/y.tsv"), -1, "a path under /proc passed");
    cr_assert_eq(gd_out_check("-"), 0);
    cr_assert_eq(gd_out_check("/dev/null"), 0);
    assert_file_is(file, "plain file");
    cr_assert_eq(count_entries(tmpdir), 1);
}

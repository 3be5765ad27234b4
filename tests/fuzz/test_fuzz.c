/* test_fuzz.c -- the fuzz harnesses (fuzz/fuzz_*.c) as regression tests: every seed of
 * fuzz/corpus/NAME/ and every reproducer of fuzz/regress/NAME/ is replayed through
 * gd_fuzz_NAME, compiled here by gcc with the ordinary library (under `make check-asan`
 * with the sanitizers too). A harness aborts when the library breaks one of the
 * promises it checks (fuzz/fuzz.h), so a file that once made the fuzzer find something
 * fails this test again if the defect comes back.
 *
 * Each file runs in a child process, so a crash or a sanitizer report names the file.
 * The child ends with _exit, so LeakSanitizer does not look at it (in a forked child of
 * criterion's threaded worker its check is unreliable anyway); leaks are the fuzz
 * runs' to find: libFuzzer checks every input for them. Files ending in .txt are the
 * notes that say what a reproducer found (fuzz/README.md), not inputs.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define GD_FUZZ_REPLAY
#include "../../fuzz/fuzz_ckpt.c"
#include "../../fuzz/fuzz_cli.c"
#include "../../fuzz/fuzz_idx.c"
#include "../../fuzz/fuzz_optim.c"
#include "../../fuzz/fuzz_sched.c"
#include "../../fuzz/fuzz_sweep.c"

typedef int (*fuzz_entry)(const uint8_t *, size_t);

static unsigned char *replay_slurp(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16;
    unsigned char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + *n, 1, cap - *n, f)) > 0)
        if ((*n += got) == cap) b = realloc(b, cap *= 2);
    fclose(f);
    return b;
}

/* Replay every file of dir through entry, each in a child; returns how many. */
static int replay_dir(const char *dir, fuzz_entry entry) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size = 0;
        unsigned char *data = replay_slurp(path, &size);
        cr_assert_not_null(data, "cannot read %s", path);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) _exit(entry(data, size) == 0 ? 0 : 3);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the harness %s %d", path,
                  WIFSIGNALED(status) ? "crashed with signal" : "exited with",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *name, fuzz_entry entry) {
    gd_fuzz_dir();   /* made here, so that the children share it and this process removes it */
    char dir[256];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", name);
    int seeds = replay_dir(dir, entry);
    cr_expect_gt(seeds, 0, "no seeds in %s", dir);
    snprintf(dir, sizeof dir, "fuzz/regress/%s", name);
    replay_dir(dir, entry);
}

Test(fuzz, optim) { replay("optim", gd_fuzz_optim); }
Test(fuzz, sched) { replay("sched", gd_fuzz_sched); }
Test(fuzz, cli) { replay("cli", gd_fuzz_cli); }
Test(fuzz, idx) { replay("idx", gd_fuzz_idx); }
Test(fuzz, ckpt) { replay("ckpt", gd_fuzz_ckpt); }
Test(fuzz, sweep) { replay("sweep", gd_fuzz_sweep); }

/* A broken promise must reach the replay as a failure: gd_fuzz_fail aborts (so that
 * libFuzzer keeps the input, and replay_dir sees a signal). */
Test(fuzz, broken_promise_aborts) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(4);
        gd_fuzz_fail("test", "a promise broken on purpose", NULL);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "gd_fuzz_fail did not abort");
}

/* test_sweep_cli.c -- `sweep`, as a reader runs it: the table does not depend on how the
 * grid was run (1 or 2 workers, shards merged, GNU parallel, Slurm's job array, killed
 * and resumed), divergence is a result, and bad grids get one clear line.
 *
 * Grids are tiny (a 784-16-10 net on 800 images: each point trains in ~10 ms) so the
 * whole file takes a few seconds; the data loading (~0.3 s) dominates each run.
 */
#include "../common.h"

#include <signal.h>
#include <time.h>

#define SWEEP GD_BIN "sweep"
/* 2 lrs x 2 optimizers x 2 schedules x 2 seeds = 16 points of 16 steps */
#define SMALL                                                                                                    \
    " --lr 0.03,0.3 --optim 'sgd;adam:betas=0.9/0.99' --sched 'constant;cosine:T=16' --seeds 2 --model 784-16-10" \
    " --train-subset 800 --val 200 --batch-size 50"
/* 5 lrs x 2 optimizers x 2 seeds = 20 points long enough (~50 ms) to kill a sweep midway */
#define LONGER                                                                                                    \
    " --lr 0.01:1:2 --optim 'sgd;adam' --seeds 2 --model 784-32-10 --train-subset 2000 --val 200 --batch-size 50" \
    " --epochs 2"

static char dir[64];
static void mktmp(void) {
    strcpy(dir, "/tmp/gdtest-sweepcli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}
static void rmtmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Run `sweep ARGS --out DIR/NAME`, require exit 0, return the table (malloc'd); the
 * stderr is kept in *err if err is not NULL. */
static char *sweep(const char *args, const char *name, char **err) {
    char cmd[2048], path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(cmd, sizeof cmd, SWEEP " %s --out %s", args, path);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    if (err) *err = r.err;
    else free(r.err);
    free(r.out);
    char *table = t_slurp(path);
    cr_assert_not_null(table, "%s: no table", path);
    return table;
}

static int rows(const char *table) {
    int n = 0;
    for (const char *line = table; *line; line = strchr(line, '\n') + 1) {
        if (*line != '#' && strncmp(line, "id\t", 3) != 0) n++;
        if (!strchr(line, '\n')) break;
    }
    return n;
}

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p++) n++;
    return n;
}

Test(tools_sweep, workers_do_not_change_the_table) {
    mktmp();
    char *err1, *err2;
    char *one = sweep(SMALL " --workers 1", "one.tsv", &err1), *two = sweep(SMALL " --workers 2", "two.tsv", &err2);
    cr_expect_str_eq(one, two);
    cr_expect_eq(rows(one), 16);
    cr_expect(strstr(one, "# program: sweep\n# lr: 0.03,0.3\n") == one, "%s", one);
    /* sorted by id */
    const char *row = strstr(one, "\n0\t");
    cr_assert_not_null(row);
    for (int id = 1; id < 16; id++) {
        char want[16];
        snprintf(want, sizeof want, "\n%d\t", id);
        const char *next = strstr(row + 1, want);
        cr_expect(next && next > row, "row %d out of order", id);
        if (next) row = next;
    }
    /* not a terminal: one plain line per point, with the ETA; the wall times are on
     * stderr, never in the table */
    cr_expect_eq(count(err1, "ETA"), 16, "%s", err1);
    cr_expect(strstr(err1, "[16/16] point") != NULL, "%s", err1);
    cr_expect(strchr(err1, '\r') == NULL, "no carriage returns off a terminal");
    cr_expect(strstr(err2, "on 2 workers") != NULL, "%s", err2);
    free(one);
    free(two);
    free(err1);
    free(err2);
    rmtmp();
}

/* A point's numbers come from the point alone: the same in a smaller grid. */
Test(tools_sweep, a_point_does_not_depend_on_the_grid) {
    mktmp();
    char *big = sweep(SMALL, "big.tsv", NULL);
    char *one = sweep(" --lr 0.3 --optim 'adam:betas=0.9/0.99' --sched 'cosine:T=16' --seeds 1:1 --model 784-16-10"
                      " --train-subset 800 --val 200 --batch-size 50",
                      "one.tsv", NULL);
    const char *key = "\t0.3\tadam:betas=0.9/0.99\tcosine:T=16\t1\t";
    const char *a = strstr(big, key), *b = strstr(one, key);
    cr_assert(a && b, "the point is in both tables");
    cr_expect_eq(strchr(a, '\n') - a, strchr(b, '\n') - b);
    cr_expect_eq(strncmp(a, b, (size_t)(strchr(a, '\n') - a)), 0, "%.80s vs %.80s", a, b);
    cr_expect(strstr(one, "\n0\t0.3\t") != NULL, "its id in the one-point grid is 0");
    free(big);
    free(one);
    rmtmp();
}

Test(tools_sweep, shards_merge_into_the_same_table) {
    mktmp();
    char *whole = sweep(SMALL, "whole.tsv", NULL);
    /* the three shards at once, one worker each */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(for k in 0 1 2; do " SWEEP SMALL " --workers 1 --shard $k/3 --out %s/shard-$k.tsv & done; wait)", dir);
    t_result r = t_run(cmd);
    t_free(&r);
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "%s/shard-%d.tsv", dir, k);
        char *part = t_slurp(cmd);
        cr_assert_not_null(part, "%s", cmd);
        cr_expect_eq(rows(part), k == 0 ? 6 : 5);
        free(part);
    }
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/merged.tsv %s/shard-2.tsv %s/shard-0.tsv %s/shard-1.tsv", dir, dir, dir,
             dir);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "all 16 points") != NULL, "%s", r.err);
    t_free(&r);
    snprintf(cmd, sizeof cmd, "%s/merged.tsv", dir);
    char *merged = t_slurp(cmd);
    cr_expect_str_eq(merged, whole);
    /* to standard output */
    snprintf(cmd, sizeof cmd, SWEEP " merge - %s/shard-*.tsv", dir);
    r = t_run(cmd);
    cr_expect_str_eq(r.out, whole);
    t_free(&r);
    /* two shards of three: written, but the missing points make it fail */
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/part.tsv %s/shard-0.tsv %s/shard-1.tsv", dir, dir, dir);
    r = t_run(cmd);
    cr_expect_eq(r.status, 1);
    cr_expect(t_lines(r.err) == 1 && strstr(r.err, "5 of 16 points are missing"), "%s", r.err);
    t_free(&r);
    free(merged);
    free(whole);
    rmtmp();
}

/* The recipe: shards run by GNU parallel (Debian's `parallel`), then merged.
 * Installed here through the project's installer when that needs no password. */
Test(tools_sweep, gnu_parallel_runs_the_shards) {
    t_result r = t_run("(parallel --version | grep -q 'GNU parallel' || { [ \"$(id -u)\" = 0 ] || sudo -n true; } &&"
                       " sh tools/deps.sh parallel) </dev/null >/dev/null 2>&1; parallel --version");
    int have = r.status == 0 && strstr(r.out, "GNU parallel") != NULL;
    t_free(&r);
    if (!have) cr_skip_test("GNU parallel is not installed and could not be installed: sh tools/deps.sh parallel");
    mktmp();
    char *whole = sweep(SMALL, "whole.tsv", NULL);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(parallel -q -j 3 --halt now,fail=1 " SWEEP SMALL " --workers 1 --shard {}/3 --out %s/shard-{}.tsv "
             "::: 0 1 2 </dev/null && " SWEEP " merge %s/merged.tsv %s/shard-*.tsv)",
             dir, dir, dir);
    r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: %s", cmd, r.err);
    t_free(&r);
    snprintf(cmd, sizeof cmd, "%s/merged.tsv", dir);
    char *merged = t_slurp(cmd);
    cr_expect_str_eq(merged, whole);
    free(merged);
    free(whole);
    rmtmp();
}

/* tools/sweep-slurm.sh, with the variables Slurm would set for each array task. */
Test(tools_sweep, slurm_script_runs_one_shard_per_task) {
    mktmp();
    char *whole = sweep(SMALL, "whole.tsv", NULL);
    char cmd[2048];
    /* the two array tasks at once, as Slurm would run them */
    snprintf(cmd, sizeof cmd,
             "(for k in 0 1; do SLURM_ARRAY_TASK_ID=$k SLURM_CPUS_PER_TASK=1 SWEEP=" SWEEP
             " sh tools/sweep-slurm.sh 2 %s/slurm" SMALL " 2>%s/task-$k.err & done; wait)",
             dir, dir);
    t_result r = t_run(cmd);
    t_free(&r);
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s/task-%d.err", dir, k);
        char *err = t_slurp(cmd);
        cr_expect(err && strstr(err, "on 1 worker") &&
                      strstr(err, "8 of 8 points of the shard"),
                  "task %d (--workers from SLURM_CPUS_PER_TASK, 8 points): %s", k, err);
        free(err);
    }
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/merged.tsv %s/slurm/shard-0.tsv %s/slurm/shard-1.tsv", dir, dir, dir);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    snprintf(cmd, sizeof cmd, "%s/merged.tsv", dir);
    char *merged = t_slurp(cmd);
    cr_expect_str_eq(merged, whole);
    /* outside an array job: one line saying how to submit it */
    snprintf(cmd, sizeof cmd, "env -u SLURM_ARRAY_TASK_ID sh tools/sweep-slurm.sh 2 %s/slurm --lr 0.1", dir);
    t_assert_rejects(cmd, 2, "sbatch --array=0-1");
    free(merged);
    free(whole);
    rmtmp();
}

/* Start `sweep LONGER --out path` in the background; its pid. */
static pid_t start_sweep(const char *path) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec " SWEEP LONGER " --workers 2 --out %s 2>/dev/null", path);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait until the table at path has at least n rows (at most 20 s); its row count. */
static int wait_rows(const char *path, int n) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *s = t_slurp(path);
        int have = s ? rows(s) : 0;
        free(s);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (have >= n || (double)(t.tv_sec - t0.tv_sec) > 20) return have;
        usleep(10000);
    }
}

/* Killed (SIGKILL: no chance to clean up) after a few rows, then interrupted (SIGINT)
 * after a few more, then run to the end: the same table as an uninterrupted run, with
 * nothing run twice and nothing lost, a torn line notwithstanding. */
Test(tools_sweep, killed_sweep_resumes_to_the_same_table, .timeout = 60) {
    mktmp();
    char *whole = sweep(LONGER " --workers 2", "whole.tsv", NULL);
    cr_assert_eq(rows(whole), 20);
    char path[128];
    snprintf(path, sizeof path, "%s/t.tsv", dir);

    pid_t pid = start_sweep(path);
    int before = wait_rows(path, 3);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFSIGNALED(st), "the sweep finished before it could be killed (%d rows): make LONGER longer", before);
    char *s = t_slurp(path);
    int killed_rows = rows(s);
    free(s);
    cr_expect(killed_rows >= 3 && killed_rows < 20, "%d rows after the kill", killed_rows);
    FILE *f = fopen(path, "a");
    fputs("19\t1\tadam\tconst", f);   /* a row torn by the crash */
    fclose(f);

    pid = start_sweep(path);
    wait_rows(path, killed_rows + 3);
    kill(pid, SIGINT);
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st), "SIGINT: a clean exit");
    int code = WEXITSTATUS(st);
    s = t_slurp(path);
    int interrupted_rows = rows(s);
    cr_expect(code == 130 || (code == 0 && interrupted_rows == 20), "exit %d", code);
    cr_expect(strstr(s, "adam\tconst\n") == NULL && strstr(s, "\tconst\t") == NULL, "the torn line is gone");
    free(s);

    char *err;
    char *resumed = sweep(LONGER " --workers 2", "t.tsv", &err);
    char want[64];
    snprintf(want, sizeof want, "%d already in", interrupted_rows);
    cr_expect(strstr(err, want) != NULL, "it says what it skips: %s", err);
    snprintf(want, sizeof want, "[%d/%d]", 20 - interrupted_rows, 20 - interrupted_rows);
    cr_expect(interrupted_rows == 20 || strstr(err, want) != NULL, "it runs only the rest: %s", err);
    cr_expect_str_eq(resumed, whole);
    free(resumed);
    free(err);
    free(whole);
    rmtmp();
}

/* Interrupted by SIGTERM (Slurm's time limit): exit 128+15, the rows kept, and the way
 * on in one line. */
Test(tools_sweep, sigterm_says_how_to_continue) {
    mktmp();
    char path[128], cmd[2048];
    snprintf(path, sizeof path, "%s/t.tsv", dir);
    snprintf(cmd, sizeof cmd, "exec " SWEEP LONGER " --workers 1 --out %s 2>%s/err", path, dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    wait_rows(path, 2);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st));
    snprintf(cmd, sizeof cmd, "%s/err", dir);
    char *err = t_slurp(cmd);
    if (WEXITSTATUS(st) == 143) {
        cr_expect(strstr(err, "run the same command again to continue") != NULL, "%s", err);
        char *s = t_slurp(path);
        char want[64];
        snprintf(want, sizeof want, "%d of 20 points in", rows(s));
        cr_expect(strstr(err, want) != NULL, "the count is the table's: %s", err);
        free(s);
    } else {
        cr_expect_eq(WEXITSTATUS(st), 0, "%s", err);   /* it was quicker than the signal */
    }
    free(err);
    rmtmp();
}

/* A learning rate far too large diverges: a row that says so, and a clean exit. */
Test(tools_sweep, divergence_is_a_result) {
    mktmp();
    char *err;
    char *table = sweep(" --lr 0.05,50 --optim sgd --seeds 1 --model 784-16-10 --train-subset 800 --val 200"
                        " --batch-size 50",
                        "t.tsv", &err);
    const char *ok = strstr(table, "\n0\t0.05\tsgd\tconstant\t0\tok\t-1\t");
    const char *bad = strstr(table, "\n1\t50\tsgd\tconstant\t0\tdiverged\t");
    cr_expect_not_null(ok, "%s", table);
    cr_assert_not_null(bad, "%s", table);
    long step = atol(bad + strlen("\n1\t50\tsgd\tconstant\t0\tdiverged\t"));
    cr_expect(step >= 1 && step < 16, "diverged at step %ld", step);
    char want[64];
    snprintf(want, sizeof want, "diverged at step %ld", step);
    cr_expect(strstr(err, want) != NULL, "%s", err);
    cr_expect(strstr(bad, "\tnan\tnan\t") != NULL, "no validation numbers for a diverged run: %.80s", bad);
    free(table);
    free(err);
    rmtmp();
}

Test(tools_sweep, bad_grids_are_rejected) {
    t_assert_rejects(SWEEP " --lr 0.1:0.01:4", 2, "empty range");
    t_assert_rejects(SWEEP " --lr 0", 2, "--lr");
    t_assert_rejects(SWEEP " --lr -0.1", 2, "must be > 0");
    t_assert_rejects(SWEEP " --lr 0:1:4", 2, "must be > 0");
    t_assert_rejects(SWEEP " --lr 1e-3:1:0", 2, "per decade");
    t_assert_rejects(SWEEP " --lr 1e-3:1", 2, "--lr");
    t_assert_rejects(SWEEP " --lr abc", 2, "abc");
    t_assert_rejects(SWEEP " --lr 0.1,0.1", 2, "twice");
    t_assert_rejects(SWEEP " --optim 'sgd:lr=0.1'", 2, "the grid sets lr");
    t_assert_rejects(SWEEP " --optim nosuch", 2, "--optim");
    t_assert_rejects(SWEEP " --optim 'sgd;;adam'", 2, "empty spec");
    t_assert_rejects(SWEEP " --optim 'sgd:momentum=1.5'", 2, "momentum");
    t_assert_rejects(SWEEP " --sched cosine", 2, "--sched");
    t_assert_rejects(SWEEP " --sched 'constant;bogus:T=3'", 2, "bogus");
    t_assert_rejects(SWEEP " --seeds 0", 2, "--seeds");
    t_assert_rejects(SWEEP " --seeds 3:1", 2, "empty range");
    t_assert_rejects(SWEEP " --shard 2/2", 2, "K must be from 0 to N-1");
    t_assert_rejects(SWEEP " --shard 3/2", 2, "--shard");
    t_assert_rejects(SWEEP " --shard 1", 2, "K/N");
    t_assert_rejects(SWEEP " --shard 0/0", 2, "N must be >= 1");
    t_assert_rejects(SWEEP " --model 100-10", 2, "--model");
    t_assert_rejects(SWEEP " --workers -1", 2, "--workers");
    t_assert_rejects(SWEEP " --epochs 0", 2, "--epochs");
    t_assert_rejects(SWEEP " --val 60000", 2, "--val");
    t_assert_rejects(SWEEP " stray", 2, "stray");
    t_assert_rejects(SWEEP " merge", 2, "need OUT");
    t_assert_rejects(SWEEP " merge out.tsv", 2, "need OUT");
    t_assert_rejects(SWEEP " merge --bogus a b", 2, "--bogus");
}

/* A sweep that cannot start leaves no table behind. */
Test(tools_sweep, failures_before_the_start_leave_nothing) {
    mktmp();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, SWEEP SMALL " --data %s/nowhere --out %s/t.tsv", dir, dir);
    t_assert_rejects(cmd, 2, "nowhere/train-images-idx3-ubyte");   /* the data given: exit 2 */
    snprintf(cmd, sizeof cmd, SWEEP " --lr 0.1 --train-subset 50001 --val 10000 --out %s/t.tsv", dir);
    t_assert_rejects(cmd, 2, "--train-subset");
    snprintf(cmd, sizeof cmd, "%s/t.tsv", dir);
    cr_expect_eq(access(cmd, F_OK), -1, "no table left");
    rmtmp();
}

/* A table belongs to one grid: other arguments, other files, .csv are refused in one line
 * and the file is left as it was. */
Test(tools_sweep, other_tables_are_refused) {
    mktmp();
    char *table = sweep(SMALL, "t.tsv", NULL);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, SWEEP SMALL " --epochs 2 --out %s/t.tsv", dir);
    t_assert_rejects(cmd, 2, "another sweep");   /* the user's --out: exit 2 */
    snprintf(cmd, sizeof cmd, SWEEP SMALL " --out %s/t.csv", dir);
    t_assert_rejects(cmd, 2, ".tsv");
    snprintf(cmd, sizeof cmd, "echo hello > %s/x.tsv; " SWEEP SMALL " --out %s/x.tsv", dir, dir);
    t_assert_rejects(cmd, 2, "not a sweep table");
    snprintf(cmd, sizeof cmd, SWEEP SMALL " --out /dev/null");   /* a device cannot be resumed */
    t_assert_rejects(cmd, 2, "not a regular file");
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/m.tsv %s/t.tsv %s/x.tsv", dir, dir, dir);
    t_assert_rejects(cmd, 2, "x.tsv: not a sweep table");   /* the user's input: 2 */
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/m.tsv %s/nothing.tsv", dir, dir);
    t_assert_rejects(cmd, 2, "nothing.tsv");
    snprintf(cmd, sizeof cmd, "%s/m.tsv", dir);
    cr_expect_eq(access(cmd, F_OK), -1, "a refused merge wrote its OUT");
    snprintf(cmd, sizeof cmd, "%s/t.tsv", dir);
    char *after = t_slurp(cmd);
    cr_expect_str_eq(after, table);
    /* a finished table: nothing to run, nothing changed */
    char *err;
    char *again = sweep(SMALL, "t.tsv", &err);
    cr_expect_str_eq(again, table);
    cr_expect(strstr(err, "16 already in") && strstr(err, "0 to run"), "%s", err);
    free(again);
    free(err);
    free(after);
    free(table);
    rmtmp();
}

/* Outputs follow out.h's one policy (defect 2 of issue 12): a device is written in place
 * (merge into /dev/full fails with ENOSPC, in one line, exit 1, and /dev/full stays a
 * device), a symlink keeps its link and its target is written, a FIFO stays a FIFO,
 * and PATH.tmp.N left by a killed writer is removed. */
Test(tools_sweep, outputs_follow_the_write_policy) {
    mktmp();
    char *table = sweep(SMALL, "t.tsv", NULL);
    char cmd[2048], path[256];
    struct stat st;
    if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode)) {
        snprintf(cmd, sizeof cmd, SWEEP " merge /dev/full %s/t.tsv", dir);
        t_assert_rejects(cmd, 1, "No space left on device");
        cr_expect(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode), "/dev/full is still a device");
    }
    /* a symlink: the link stays, its target gets the table (merge and a sweep's rewrite) */
    snprintf(path, sizeof path, "%s/link.tsv", dir);
    cr_assert_eq(symlink("target.tsv", path), 0);
    snprintf(cmd, sizeof cmd, "touch %s/target.tsv && " SWEEP " merge %s %s/t.tsv", dir, path, dir);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    cr_expect(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "the link stays a link");
    snprintf(path, sizeof path, "%s/target.tsv", dir);
    char *got = t_slurp(path);
    cr_expect_str_eq(got, table);
    free(got);
    snprintf(path, sizeof path, "%s/sweeplink.tsv", dir);
    cr_assert_eq(symlink("empty.tsv", path), 0);
    snprintf(cmd, sizeof cmd, "touch %s/empty.tsv", dir);
    cr_assert_eq(system(cmd), 0);
    free(sweep(SMALL, "sweeplink.tsv", NULL));
    cr_expect(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "a sweep keeps the link too");
    snprintf(path, sizeof path, "%s/empty.tsv", dir);
    got = t_slurp(path);
    cr_expect_str_eq(got, table);
    free(got);
    /* a FIFO is written in place, not replaced by a file */
    snprintf(path, sizeof path, "%s/fifo", dir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    /* timeout: a writer that replaced the FIFO instead would leave cat waiting forever */
    snprintf(cmd, sizeof cmd, "timeout 20 cat %s > %s/from-fifo & " SWEEP " merge %s %s/t.tsv; s=$?; wait; exit $s", path, dir,
             path, dir);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    cr_expect(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO stays a FIFO");
    snprintf(path, sizeof path, "%s/from-fifo", dir);
    got = t_slurp(path);
    cr_expect_str_eq(got, table);
    free(got);
    /* a killed writer's temporary file (a pid that no longer runs) is cleaned up */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    const char *outs[] = {"m.tsv", "s.tsv"};
    for (int i = 0; i < 2; i++) {
        char stale[256];
        snprintf(stale, sizeof stale, "%s/%s.tmp.%ld", dir, outs[i], (long)dead);
        FILE *f = fopen(stale, "w");
        cr_assert_not_null(f);
        fputs("half a table", f);
        fclose(f);
        if (i == 0) {
            snprintf(cmd, sizeof cmd, SWEEP " merge %s/m.tsv %s/t.tsv", dir, dir);
            r = t_run(cmd);
            cr_expect_eq(r.status, 0, "%s", r.err);
            t_free(&r);
        } else {
            free(sweep(SMALL, "s.tsv", NULL));   /* a new sweep table */
        }
        cr_expect_eq(access(stale, F_OK), -1, "%s was not removed", stale);
    }
    free(table);
    rmtmp();
}

/* An output that can never be written fails at once, exit 2, before the data are loaded
 * or anything is trained (GD_OPT_OUT), and sweep merge checks OUT before reading. */
Test(tools_sweep, unwritable_outputs_fail_first) {
    mktmp();
    char cmd[2048];
    t_assert_rejects(SWEEP SMALL " --out /proc/x/y.tsv", 2, "/proc/x/y.tsv");
    snprintf(cmd, sizeof cmd, "mkdir %s/ro && chmod 555 %s/ro", dir, dir);
    cr_assert_eq(system(cmd), 0);
    if (geteuid() != 0) {   /* root may write anywhere: a read-only directory stops others only */
        snprintf(cmd, sizeof cmd, SWEEP SMALL " --out %s/ro/t.tsv", dir);
        t_assert_rejects(cmd, 2, "ro/t.tsv");
    }
    /* no data directory would have been needed: the check comes before loading */
    snprintf(cmd, sizeof cmd, SWEEP SMALL " --data %s/nowhere --out /proc/x/y.tsv", dir);
    t_assert_rejects(cmd, 2, "/proc/x/y.tsv");
    snprintf(cmd, sizeof cmd, SWEEP " merge /proc/x/y.tsv %s/nothing.tsv", dir);
    t_assert_rejects(cmd, 2, "/proc/x/y.tsv");
    snprintf(cmd, sizeof cmd, SWEEP " merge %s %s/nothing.tsv", dir, dir);   /* a directory */
    t_assert_rejects(cmd, 2, "directory");
    rmtmp();
}

/* On a terminal (script(1) gives it one): a status line rewritten in place, with the ETA. */
Test(tools_sweep, progress_on_a_terminal) {
    t_result r = t_run("command -v script");
    int have = r.status == 0;
    t_free(&r);
    if (!have) cr_skip_test("no script(1) to run the sweep on a terminal");
    mktmp();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "script -qfec \"" SWEEP " --lr 0.03,0.3 --optim sgd --seeds 2 --model 784-16-10 "
                              "--train-subset 800 --val 200 --batch-size 50 --out %s/t.tsv\" /dev/null",
             dir);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "\r\033[K") != NULL, "the status line is rewritten: %s", r.out);
    cr_expect(strstr(r.out, "4/4 done") && strstr(r.out, "ETA") && strstr(r.out, "elapsed"), "%s", r.out);
    t_free(&r);
    rmtmp();
}

Test(tools_sweep, help) {
    t_result r = t_run(SWEEP " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage:") && strstr(r.out, "--shard") && strstr(r.out, "sweep merge"), "%s", r.out);
    t_free(&r);
    r = t_run(SWEEP " merge --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: sweep merge OUT IN...") != NULL, "%s", r.out);
    t_free(&r);
}

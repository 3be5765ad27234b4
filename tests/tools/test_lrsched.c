/* test_lrsched.c -- the schedule printer, end to end: it prints what lib/sched.h computes
 * (the library is held to PyTorch in tests/lib/test_sched.c), in the documented table,
 * and rejects bad input in one line. */
#include "../common.h"

#include <fcntl.h>
#include <math.h>

#include "sched.h"

#define LRSCHED GD_BIN "lrsched"

/* The rows of a `step lr [momentum]` table: skips '#' lines and the header, which must
 * be `header`. Returns the number of rows. */
static int rows(const char *text, const char *header, long *step, double *lr, double *mom, int max) {
    char *copy = strdup(text), *save = NULL;
    int n = 0, saw_header = 0;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        if (!saw_header) {
            cr_expect_str_eq(line, header);
            saw_header = 1;
            continue;
        }
        cr_assert_lt(n, max);
        char m[64] = "";
        int got = sscanf(line, "%ld\t%lf\t%63s", &step[n], &lr[n], m);
        cr_assert_geq(got, 2, "bad row '%s'", line);
        if (mom) mom[n] = got == 3 ? strtod(m, NULL) : NAN;
        n++;
    }
    free(copy);
    cr_expect(saw_header, "no header in: %s", text);
    return n;
}

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

Test(tools_lrsched, prints_the_schedules_lr) {
    t_result r = t_run(LRSCHED " --sched 'warmup:T=5,cosine:T=20:min=0.001' --lr 0.3 --steps 30");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.err);
    cr_expect(strstr(r.out, "# sched: warmup:T=5:kind=linear:start=0,@5:cosine:T=20:min=0.001\n") != NULL, "%s",
              r.out);
    long step[64];
    double lr[64];
    int n = rows(r.out, "step\tlr", step, lr, NULL, 64);
    cr_expect_eq(n, 30);
    for (int i = 0; i < n; i++) {
        long t = step[i];
        double want = t < 5 ? 0.3 * t / 5 : 0.001 + (0.3 - 0.001) * (1 + cos(M_PI * fmin(t - 5, 20) / 20)) / 2;
        cr_expect_eq(t, i);
        cr_expect(fabs(lr[i] - want) <= 1e-14 * 0.3, "step %ld: printed %.17g, expected %.17g", t, lr[i], want);
    }
    t_free(&r);
}

/* --from/--to (inclusive) and --every; the printed numbers are the library's. */
Test(tools_lrsched, range_and_every) {
    const char *spec = "step:size=30:gamma=0.5,@100:exp:gamma=0.99";
    char cmd[256];
    snprintf(cmd, sizeof cmd, LRSCHED " --sched '%s' --from 90 --to 200 --every 10", spec);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    long step[64];
    double lr[64];
    int n = rows(r.out, "step\tlr", step, lr, NULL, 64);
    cr_expect_eq(n, 12);
    gd_sched *s = gd_sched_parse(spec);
    for (int i = 0; i < n; i++) {
        cr_expect_eq(step[i], 90 + 10 * i);
        cr_expect(rel(lr[i], gd_sched_lr(s, step[i], 0.1)) < 1e-14, "step %ld", step[i]);
    }
    gd_sched_free(s);
    t_free(&r);
}

/* One-cycle cycles momentum: a third column; before it starts (warmup) the optimizer's
 * own momentum applies, printed as nan. */
Test(tools_lrsched, momentum_column_when_cycled) {
    const char *spec = "warmup:T=3,onecycle:T=20";
    char cmd[256];
    snprintf(cmd, sizeof cmd, LRSCHED " --sched '%s' --lr 0.5 --to 30", spec);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    long step[64];
    double lr[64], mom[64];
    int n = rows(r.out, "step\tlr\tmomentum", step, lr, mom, 64);
    cr_expect_eq(n, 31);
    gd_sched *s = gd_sched_parse(spec);
    for (int i = 0; i < n; i++) {
        double m;
        cr_expect(rel(lr[i], gd_sched_lr(s, step[i], 0.5)) < 1e-14, "step %ld", step[i]);
        if (gd_sched_momentum(s, step[i], &m)) cr_expect(rel(mom[i], m) < 1e-14, "step %ld", step[i]);
        else cr_expect(isnan(mom[i]), "step %ld: momentum %g, expected nan", step[i], mom[i]);
    }
    cr_expect(isnan(mom[0]) && mom[3] == 0.95);
    gd_sched_free(s);
    t_free(&r);
    /* no momentum column for a schedule that does not cycle it */
    r = t_run(LRSCHED " --sched cosine:T=10 --steps 3");
    cr_expect(strstr(r.out, "step\tlr\n") != NULL, "%s", r.out);
    t_free(&r);
}

/* --out writes the same table to a file (atomically, through gd_table), nothing to stdout. */
Test(tools_lrsched, out_file) {
    char *file = t_run_file(LRSCHED " --sched cyclic:min=0.01:up=4 --steps 17 --out %s");
    t_result r = t_run(LRSCHED " --sched cyclic:min=0.01:up=4 --steps 17");
    cr_expect_str_eq(file, r.out);
    cr_expect(strstr(file, "step\tlr\tmomentum\n0\t0.01\t0.9\n") != NULL, "%s", file);
    free(file);
    t_free(&r);
    r = t_run(LRSCHED " --sched cosine:T=5 --out /tmp/gdtest-lrsched-out.tsv");
    cr_expect_eq(r.status, 0);
    cr_expect_str_empty(r.out);
    t_free(&r);
    unlink("/tmp/gdtest-lrsched-out.tsv");
}

/* A bad spec: one line naming --sched, the term and the key; exit 2; nothing printed. */
Test(tools_lrsched, bad_spec_exits_2_with_one_line) {
    t_assert_rejects(LRSCHED " --sched cosine:T=0", 2, "--sched: term 1 (cosine): T must be");
    t_assert_rejects(LRSCHED " --sched cosin:T=10", 2, "unknown schedule 'cosin'");
    t_assert_rejects(LRSCHED " --sched 'warmup:T=5,cosine:T=10:mn=0'", 2, "term 2 (cosine): unknown key 'mn'");
    t_assert_rejects(LRSCHED " --sched 'step:size=10,cosine:T=5'", 2, "never ends");
    t_assert_rejects(LRSCHED " --sched plateau:factor=1.5", 2, "factor");
    t_assert_rejects(LRSCHED " --sched ''", 2, "--sched");
    t_assert_rejects(LRSCHED " --steps 10", 2, "--sched");
    t_assert_rejects(LRSCHED " --sched cosine:T=10 --steps 0", 2, "--steps");
    t_assert_rejects(LRSCHED " --sched cosine:T=10 --from 10 --to 5", 2, "--to");
    t_assert_rejects(LRSCHED " --sched cosine:T=10 --lr 0", 2, "--lr");
    t_assert_rejects(LRSCHED " --sched cosine:T=10 --every 0", 2, "--every");
    t_assert_rejects(LRSCHED " --sched cosine:T=10 --metrics /dev/null", 2, "no plateau");
    /* a metrics file the user names that is missing or a directory: the user's input, 2 */
    t_assert_rejects(LRSCHED " --sched plateau --metrics /nonexistent/metrics.txt", 2, "/nonexistent/metrics.txt");
    t_assert_rejects(LRSCHED " --sched plateau --metrics /tmp", 2, "directory");
    /* numbers are decimal, as every option takes them */
    t_assert_rejects(LRSCHED " --sched cosine:T=0x10", 2, "T must be");
    t_assert_rejects(LRSCHED " --sched 'multistep:milestones=0x10'", 2, "milestones must be");
}

/* A spec with a newline (or any control character) is refused in exactly one line,
 * wherever the newline is: at the end, inside a name, between terms. */
Test(tools_lrsched, spec_with_newline_one_line) {
    const char *specs[] = {"cosine:T=10\\n", "cos\\nine:T=10", "warmup:T=5,\\ncosine:T=10",
                           "cosine:T=10:min=0\\n.1", "cosine:T=1\\t0"};
    for (int i = 0; i < 5; i++) {
        char cmd[256];   /* the X keeps $(...) from dropping a trailing newline */
        snprintf(cmd, sizeof cmd, "s=\"$(printf '%sX')\"; " LRSCHED " --sched \"${s%%X}\"", specs[i]);
        t_assert_rejects(cmd, 2, "--sched: character");
        t_assert_rejects(cmd, 2, "control character");
    }
}

/* A spec of 100,000 characters: one short line (the text quoted up to 60 characters). */
Test(tools_lrsched, long_spec_one_short_line) {
    char *cmd = malloc(100200);
    cr_assert_not_null(cmd);
    int n = snprintf(cmd, 100200, LRSCHED " --sched cosine:T=");
    memset(cmd + n, '9', 100000);
    cmd[n + 100000] = '\0';
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
    cr_expect_lt(strlen(r.err), 300, "%.400s", r.err);
    cr_expect(strstr(r.err, "999...'") != NULL, "%.400s", r.err);
    t_free(&r);
    free(cmd);
}

/* --out is an output option (GD_OPT_OUT): a directory or an unwritable place is refused
 * at once, exit 2, before anything is computed, and an existing file is left alone. */
Test(tools_lrsched, out_checked_before_work) {
    t_assert_rejects(LRSCHED " --sched cosine:T=5 --out /tmp", 2, "--out");
    t_assert_rejects(LRSCHED " --sched cosine:T=5 --out /proc/gdtest-no/such.tsv", 2, "--out");
    char path[] = "/tmp/gdtest-lrsched-keep-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "keep\n", 5), 5);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, LRSCHED " --sched cosine:T=0 --out %s", path);   /* a usage error */
    t_assert_rejects(cmd, 2, "--sched");
    char *text = t_slurp(path);
    cr_expect_str_eq(text, "keep\n", "a usage error wrote %s", path);
    free(text);
    /* a device is written in place: /dev/full fails while writing, exit 1 */
    t_assert_rejects(LRSCHED " --sched cosine:T=5 --out /dev/full", 1, "--out");
    unlink(path);
}

/* A very long chain: the table's # sched: line holds the whole canonical spec (it was
 * cut at 2047 characters into a different schedule). */
Test(tools_lrsched, long_chain_header_whole) {
    char spec[4096] = "";
    size_t n = 0;
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(spec + n, sizeof spec - n, "%scosine:T=3", i ? "," : "");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, LRSCHED " --sched '%s' --steps 2", spec);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s", r.err);
    gd_sched *s = gd_sched_parse(spec);
    cr_assert_not_null(s);
    size_t len = gd_sched_format(s, NULL, 0);
    char *canon = malloc(len + 1);
    gd_sched_format(s, canon, len + 1);
    cr_expect_gt(len, 2048);
    const char *line = strstr(r.out, "# sched: ");
    cr_assert_not_null(line);
    cr_expect(strncmp(line + 9, canon, len) == 0 && line[9 + len] == '\n', "header cut");
    free(canon);
    gd_sched_free(s);
    t_free(&r);
}

Test(tools_lrsched, help_exits_0) {
    t_result r = t_run(LRSCHED " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage:") && strstr(r.out, "--sched") && strstr(r.out, "--metrics"), "%s", r.out);
    t_free(&r);
}

/* Plateau without metrics: the lr without reductions, and one line on stderr saying so. */
Test(tools_lrsched, plateau_needs_metrics) {
    t_result r = t_run(LRSCHED " --sched plateau --steps 5");
    cr_expect_eq(r.status, 0);
    cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "--metrics") && strstr(r.err, "without reductions"), "%s", r.err);
    long step[8];
    double lr[8];
    cr_expect_eq(rows(r.out, "step\tlr", step, lr, NULL, 8), 5);
    for (int i = 0; i < 5; i++) cr_expect_eq(lr[i], 0.1);
    t_free(&r);
}

/* With --metrics: line k is observed before step k, as scheduler.step(metric) after
 * each epoch; a bad line is reported with the file and line number. */
Test(tools_lrsched, plateau_with_metrics) {
    char path[] = "/tmp/gdtest-metrics-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *metrics = "# val loss\n1.0\n1.0\n1.0\n\n0.5\n0.5\n0.5\n";
    cr_assert_eq(write(fd, metrics, strlen(metrics)), (ssize_t)strlen(metrics));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, LRSCHED " --sched plateau:factor=0.5:patience=1 --lr 1 --steps 9 --metrics %s", path);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.err);
    long step[16];
    double lr[16];
    cr_assert_eq(rows(r.out, "step\tlr", step, lr, NULL, 16), 9);
    /* observations: 1 best, 2 bad, 3 bad -> reduce; 4 better, 5 bad, 6 bad -> reduce */
    double want[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25};
    for (int i = 0; i < 9; i++) cr_expect_eq(lr[i], want[i], "step %d: %g", i, lr[i]);
    t_free(&r);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "1.0\nlots\n", 9), 9);
    close(fd);
    snprintf(cmd, sizeof cmd, LRSCHED " --sched plateau --metrics %s", path);
    char needle[64];
    snprintf(needle, sizeof needle, "%s:2", path);
    t_assert_rejects(cmd, 2, needle);                  /* a damaged file the user gave: 2 */
    /* hex is not a number here either; nan, inf and spaces are; lines of any length */
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "1.0\n0x10\n", 9), 9);
    close(fd);
    t_assert_rejects(cmd, 2, needle);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert(fd >= 0);
    char long_line[600];
    memset(long_line, ' ', sizeof long_line);
    memcpy(long_line + 500, "2.0\t \n", 6);
    const char *rest = "nan\n-Inf\n1.0\n1.0\n";
    cr_assert_eq(write(fd, long_line, 506), 506);
    cr_assert_eq(write(fd, rest, strlen(rest)), (ssize_t)strlen(rest));
    close(fd);
    snprintf(cmd, sizeof cmd, LRSCHED " --sched plateau:factor=0.5:patience=0 --lr 1 --steps 6 --metrics %s", path);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(rows(r.out, "step\tlr", step, lr, NULL, 16), 6);
    /* 2.0 best; nan bad -> reduce; -inf best; 1.0 bad -> reduce; 1.0 bad -> reduce */
    double want2[] = {1, 1, 0.5, 0.5, 0.25, 0.125};
    for (int i = 0; i < 6; i++) cr_expect_eq(lr[i], want2[i], "step %d: %g", i, lr[i]);
    t_free(&r);
    unlink(path);
}

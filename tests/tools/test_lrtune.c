/* test_lrtune.c -- build/bin/lrtune (tools/lrtune.c), Chapter 8's recipe as a program.
 *
 * Most tests run it on its synthetic task (quad: full-batch descent on a quadratic, a
 * few milliseconds a run), where the best constant learning rate is known: for f =
 * 1/2 sum lambda_i theta_i^2 with eigenvalues from mu to L, plain gradient descent
 * contracts the error by max(|1 - eta mu|, |1 - eta L|) per step, smallest at
 * eta = 2/(L + mu) (Chapter 1). lrtune's recommendation is checked against that and
 * against an exhaustive sweep (its own --grid, 40 lrs per decade); the resume and shard
 * tests check that an interrupted or split run gives the tables of one run, byte for
 * byte. One test runs the MLP on a small budget for the sanity checks on real data.
 */
#include "../common.h"
#include "gd.h"

#include <math.h>
#include <sys/stat.h>

#define LRTUNE GD_BIN "lrtune"
#define SWEEP GD_BIN "sweep"
/* L = 19, mu = 1: 2/(L + mu) = 0.1, a point of lrtune's half-decade lattice */
#define STR_(x) #x
#define STR(x) STR_(x)
#define SEEDARG " --seed " STR(GD_SEED_BASE)   /* the build's seed base: claims hold for any */
#define QUAD "--model quad:d=20:L=19:mu=1 --steps 200 --sched constant --warmup 0 --seeds 3 --workers 1" SEEDARG
#define QUAD_BEST 0.1

static char *tmpdir(void) {
    char *d = strdup("/tmp/gdtest-lrtune-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void rmdir_r(char *d) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_expect_eq(system(cmd), 0);
    free(d);
}

/* Run lrtune with args into dir (the sub-directory sub); require exit 0; return stderr. */
static char *lrtune(const char *args, const char *dir, const char *sub) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, LRTUNE " %s --dir %s/%s", args, dir, sub);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    char *err = strdup(r.err);
    t_free(&r);
    return err;
}

static char *file(const char *dir, const char *sub, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    char *s = t_slurp(path);
    cr_assert_not_null(s, "%s: missing", path);
    return s;
}

static double rec_num(const char *dir, const char *sub, const char *key) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/recommend.tsv", dir, sub);
    return t_num(path, key);
}

/* s with every "/from/" replaced by "/to/" (malloc'd). */
static char *renamed(const char *s, const char *from, const char *to) {
    char f[64], t[64];
    snprintf(f, sizeof f, "/%s/", from);
    snprintf(t, sizeof t, "/%s/", to);
    char *out = malloc(strlen(s) * (strlen(t) + 1) + 1), *o = out;
    cr_assert_not_null(out);
    while (*s) {
        if (strncmp(s, f, strlen(f)) == 0) {
            o += sprintf(o, "%s", t);
            s += strlen(f);
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* Every table of sub a and sub b is the same, byte for byte (lrtune.gp, which names its
 * directory, once the names are swapped). */
static void same_tables(const char *dir, const char *a, const char *b) {
    const char *names[] = {"sanity.tsv", "range.tsv", "sweep.tsv", "refine.tsv", "summary.tsv", "recommend.tsv",
                           "lrtune.gp"};
    for (int i = 0; i < 7; i++) {
        char *x = file(dir, a, names[i]), *y = file(dir, b, names[i]);
        if (strcmp(names[i], "lrtune.gp") == 0) {
            char *z = renamed(y, b, a);
            free(y);
            y = z;
        }
        cr_expect_str_eq(x, y, "%s: %s and %s differ", names[i], a, b);
        free(x), free(y);
    }
}

Test(tools_lrtune, bad_input_is_one_line_and_exit_2) {
    t_assert_rejects(LRTUNE " --model nope --dir /tmp/x", 2, "--model");
    t_assert_rejects(LRTUNE " --model gpt:width=30:heads=4 --dir /tmp/x", 2, "multiple of heads");
    t_assert_rejects(LRTUNE " --model gpt:depth=3 --dir /tmp/x", 2, "unknown key");
    t_assert_rejects(LRTUNE " --model quad:L=1:mu=2 --dir /tmp/x", 2, "mu");
    t_assert_rejects(LRTUNE " --model mlp:dims=100-10 --dir /tmp/x", 2, "784");
    t_assert_rejects(LRTUNE " --model quad --optim sgd:lr=0.1 --dir /tmp/x", 2, "without lr");
    t_assert_rejects(LRTUNE " --model quad --optim sgd:momentum=2 --dir /tmp/x", 2, "--optim");
    t_assert_rejects(LRTUNE " --model quad --sched step --dir /tmp/x", 2, "--sched");
    t_assert_rejects(LRTUNE " --model quad", 2, "--dir");
    t_assert_rejects(LRTUNE " --model quad --shard 2/2 --dir /tmp/x", 2, "--shard");
    t_assert_rejects(LRTUNE " --model quad --grid 0.1:0.01:4 --dir /tmp/x", 2, "--grid");
    t_assert_rejects(LRTUNE " --model quad --steps 100 --warmup 100 --dir /tmp/x", 2, "--warmup");
    t_assert_rejects(LRTUNE " --model quad --steps 0 --dir /tmp/x", 2, "--steps");
    /* a --dir that can never be written: at once, one line, before any check or training
     * (it used to run the sanity checks and the range test first, then fail with 1) */
    t_assert_rejects(LRTUNE " " QUAD " --dir /proc/x/y", 2, "--dir");
    if (geteuid() != 0) {   /* root writes anywhere: a read-only directory stops others only */
        char dir[] = "/tmp/gdtest-lrtune-ro-XXXXXX", cmd[256];
        cr_assert_not_null(mkdtemp(dir));
        chmod(dir, 0555);
        snprintf(cmd, sizeof cmd, LRTUNE " " QUAD " --dir %s/out", dir);
        t_assert_rejects(cmd, 2, "--dir");
        rmdir(dir);
    }
    /* data that cannot be loaded are the user's input: exit 2 */
    t_assert_rejects(LRTUNE " --model mlp --data /nonexistent/fmnist --dir /tmp/x", 2, "/nonexistent/fmnist");
}

/* The recommendation on the quadratic: the lattice point nearest 2/(L + mu), which is
 * also where an exhaustive sweep (40 lrs per decade) finds the best median, within a
 * factor 10^(1/4) (half the lattice's spacing). */
Test(tools_lrtune, quadratic_recommendation_is_the_known_best, .timeout = 60) {
    char *d = tmpdir();
    free(lrtune(QUAD, d, "recipe"));
    free(lrtune(QUAD " --grid 0.01:1:40", d, "full"));
    double rec = rec_num(d, "recipe", "lrtune_peak_lr"), full = rec_num(d, "full", "lrtune_peak_lr");
    cr_expect_leq(fabs(log10(rec / QUAD_BEST)), 0.25 + 1e-9, "lrtune recommends %g, theory 2/(L+mu) = %g", rec,
                  QUAD_BEST);
    cr_expect_leq(fabs(log10(full / QUAD_BEST)), 0.25 + 1e-9, "the exhaustive sweep's best %g, theory %g", full,
                  QUAD_BEST);
    cr_expect_leq(fabs(log10(rec / full)), 0.25 + 1e-9, "lrtune %g against the exhaustive best %g", rec, full);
    /* the sweep covered the lr where descent breaks (2/L): the grid was not cut short below it */
    char *grid = file(d, "recipe", "summary.tsv");
    cr_expect(strstr(grid, "\n0.316\t") != NULL, "the grid should reach past 2/L = 0.105: %s", grid);
    free(grid);
    char *g = file(d, "recipe", "recommend.tsv");
    cr_expect(strstr(g, "lrtune_edge\tno\n") != NULL, "the best should not be at the edge of the grid");
    cr_expect(strstr(g, "lrtune_sched\tconstant\n") != NULL, "--sched constant --warmup 0: %s", g);
    free(g);
    rmdir_r(d);
}

/* An interrupted sweep (a table cut off mid-row, as SIGKILL leaves it, and no summary
 * yet) is resumed by the same command, and every table ends as one run writes it. */
Test(tools_lrtune, resume_gives_the_same_tables, .timeout = 60) {
    char *d = tmpdir();
    free(lrtune(QUAD, d, "one"));
    char *sweep = file(d, "one", "sweep.tsv");
    /* keep the header and 4 rows, and half of the 5th */
    char *p = sweep;
    int rows = -1;
    while (*p == '#') p = strchr(p, '\n') + 1;   /* '#' lines */
    for (char *q = p; *q; q++)
        if (*q == '\n' && ++rows == 4) {
            q[1 + (strchr(q + 1, '\n') - q - 1) / 2] = '\0';
            break;
        }
    char path[512];
    snprintf(path, sizeof path, "%s/two", d);
    cr_assert_eq(mkdir(path, 0777), 0);
    snprintf(path, sizeof path, "%s/two/sweep.tsv", d);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(sweep, f);
    fclose(f);
    free(sweep);
    char *err = lrtune(QUAD, d, "two");
    cr_expect(strstr(err, "4 already in") != NULL, "the 4 whole rows should be kept: %s", err);
    free(err);
    same_tables(d, "one", "two");
    /* and once more: nothing left to run, the same tables */
    err = lrtune(QUAD, d, "two");
    cr_expect(strstr(err, "15 already in") != NULL || strstr(err, "already in") != NULL, "%s", err);
    free(err);
    same_tables(d, "one", "two");
    rmdir_r(d);
}

/* Three shards, then the same command without --shard (the merge step) = one run; and
 * the shard tables are sweep tables: `sweep merge` joins them into the same table. */
Test(tools_lrtune, shards_merged_equal_one_run, .timeout = 60) {
    char *d = tmpdir();
    free(lrtune(QUAD, d, "one"));
    for (int k = 0; k < 3; k++) {
        char args[512];
        snprintf(args, sizeof args, QUAD " --shard %d/3", k);
        char *err = lrtune(args, d, "sharded");
        cr_expect(strstr(err, "shard") != NULL, "%s", err);
        free(err);
        char *rec = NULL, path[512];
        snprintf(path, sizeof path, "%s/sharded/recommend.tsv", d);
        rec = t_slurp(path);
        cr_expect_null(rec, "a shard does not recommend: the merge step does");
        free(rec);
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, SWEEP " merge %s/merged.tsv %s/sharded/sweep-shard-0-of-3.tsv "
             "%s/sharded/sweep-shard-1-of-3.tsv %s/sharded/sweep-shard-2-of-3.tsv", d, d, d, d);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: %s", cmd, r.err);
    t_free(&r);
    char *merged = file(d, ".", "merged.tsv"), *one = file(d, "one", "sweep.tsv");
    cr_expect_str_eq(merged, one, "sweep merge of lrtune's shards is not the one-run table");
    free(merged), free(one);
    char *err = lrtune(QUAD, d, "sharded");
    cr_expect(strstr(err, "merged the shards") != NULL, "%s", err);
    cr_expect(strstr(err, "15 points, 15 already in") != NULL, "the merge step should run nothing: %s", err);
    free(err);
    same_tables(d, "one", "sharded");
    rmdir_r(d);
}

/* A sweep table of other arguments is refused (one line), not mixed in. */
Test(tools_lrtune, another_task_in_the_same_dir_is_refused, .timeout = 60) {
    char *d = tmpdir();
    free(lrtune(QUAD, d, "x"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, LRTUNE " --model quad:d=20:L=19:mu=1 --steps 150 --sched constant --warmup 0 "
             "--seeds 3 --workers 1" SEEDARG " --dir %s/x", d);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2, "%s: exit %d (the user's --dir: 2)", cmd, r.status);
    cr_expect(strstr(r.err, "another sweep") != NULL, "%s", r.err);
    /* at once: one line, before the checks and the range test (it came after them) */
    cr_expect_eq(t_lines(r.err), 1, "%s", r.err);
    t_free(&r);
    rmdir_r(d);
}

/* On real data (the MLP, a small budget): the loss at initialisation is ln 10 within
 * 10 %, the gradient check passes, one batch is overfitted, and the tables hold what
 * the recommendation says. */
Test(tools_lrtune, mlp_sanity_checks_pass, .timeout = 120) {
    char *d = tmpdir();
    free(lrtune("--model mlp:dims=784-32-10 --steps 40 --batch-size 32 --train-subset 1000 --val 500 "
                "--seeds 1 --max-points 3 --workers 1" SEEDARG, d, "m"));
    char path[512];
    snprintf(path, sizeof path, "%s/m/sanity.tsv", d);
    t_tsv *t = t_tsv_read(path);
    int c = t_tsv_col(t, "check"), v = t_tsv_col(t, "value"), res = t_tsv_col(t, "result");
    cr_assert_eq(t->nrows, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_str_eq(t_tsv_cell(t, i, res), "pass", "%s", t_tsv_cell(t, i, c));
    cr_expect_leq(fabs(t_tsv_num(t, 0, v) - log(10.0)), 0.1 * log(10.0), "loss at init %g, ln 10 = %g",
                  t_tsv_num(t, 0, v), log(10.0));
    t_tsv_free(t);
    double lr = rec_num(d, "m", "lrtune_peak_lr"), best = rec_num(d, "m", "lrtune_best_median");
    snprintf(path, sizeof path, "%s/m/summary.tsv", d);
    t = t_tsv_read(path);
    int cl = t_tsv_col(t, "lr"), cm = t_tsv_col(t, "median"), cs = t_tsv_col(t, "stage"), coarse = 0, fine = 0;
    for (int i = 0; i < t->nrows; i++) {
        coarse += strcmp(t_tsv_cell(t, i, cs), "coarse") == 0;
        fine += strcmp(t_tsv_cell(t, i, cs), "refine") == 0;
    }
    cr_expect_eq(coarse, 3, "--max-points 3");
    cr_expect_eq(fine, 2, "the refinement: the two quarter-decade lrs beside the coarse best");
    for (int i = 0; i < t->nrows; i++) {
        /* (recommend.tsv rounds to 5 digits, summary.tsv to 6) */
        cr_expect_geq(t_tsv_num(t, i, cm), best * (1 - 1e-4), "the recommended median is the lowest");
        if (fabs(t_tsv_num(t, i, cm) - best) <= 1e-4 * best) cr_expect_float_eq(t_tsv_num(t, i, cl), lr, 1e-9);
    }
    t_tsv_free(t);
    rmdir_r(d);
}

/* ---------------------------------------------------------------------------------
 * What lrtune added to lib/sweep.h: the task line and the point runner. */

static int fake_point(const gd_sweep *sw, long id, gd_sweep_result *r, void *ctx) {
    gd_sweep_point p;
    gd_sweep_point_get(sw, id, &p);
    r->diverged_at = -1;
    r->train_loss = p.lr * *(double *)ctx + (double)p.seed;   /* a function of the point only */
    r->val_loss = r->train_loss / 2;
    r->val_acc = NAN;
    r->steps = 7;
    return 0;
}

Test(tools_lrtune, sweep_task_line_and_point_runner) {
    gd_sweep sw, back;
    gd_sweep_init(&sw);
    cr_assert_eq(gd_sweep_set_lr(&sw, "0.01,0.1,1"), 0);
    cr_assert_eq(gd_sweep_set_optim(&sw, "sgd"), 0);
    cr_assert_eq(gd_sweep_set_sched(&sw, "constant"), 0);
    cr_assert_eq(gd_sweep_set_seeds(&sw, "2"), 0);
    cr_expect_neq(gd_sweep_set_task(&sw, "two\nlines"), 0, "a task is one line");
    cr_assert_eq(gd_sweep_set_task(&sw, "quad d=3 (a test)"), 0);
    char *h = gd_sweep_header(&sw);
    cr_expect(strncmp(h, "# program: sweep\n# task: quad d=3 (a test)\n", 43) == 0, "%s", h);
    cr_assert_eq(gd_sweep_from_header(&back, h), 0, "%s", gd_error());
    cr_expect_str_eq(back.task, "quad d=3 (a test)");
    char *h2 = gd_sweep_header(&back);
    cr_expect_str_eq(h, h2);
    free(h2);
    gd_sweep_free(&back);
    char dir[] = "/tmp/gdtest-sweeptask-XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.tsv", dir);
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    double scale = 10;
    t.run_point = fake_point;
    t.point_ctx = &scale;
    gd_sweep_run_cfg cfg = {2, 0, 1, NULL, NULL, NULL};
    gd_sweep_summary sum;
    cr_assert_eq(gd_sweep_run(&t, NULL, &cfg, &sum), 0, "%s", gd_error());
    cr_assert_eq(gd_sweep_table_close(&t), 0);
    cr_expect_eq(sum.ran, 6);
    gd_sweep_rows rows;
    cr_assert_eq(gd_sweep_rows_init(&rows, &sw), 0);
    cr_assert_eq(gd_sweep_rows_read(&rows, &sw, path), 0, "%s", gd_error());
    cr_expect_eq(rows.n, 6);
    for (long id = 0; id < 6; id++) {
        gd_sweep_result r;
        char line[512];
        snprintf(line, sizeof line, "%s", rows.row[id]);
        line[strcspn(line, "\n")] = '\0';
        cr_assert_eq(gd_sweep_parse_row(&sw, line, &r), 0, "%s", gd_error());
        gd_sweep_point p;
        gd_sweep_point_get(&sw, id, &p);
        cr_expect_float_eq(r.train_loss, p.lr * 10 + (double)p.seed, 1e-6, "point %ld", id);
        cr_expect_eq(r.steps, 7);
    }
    gd_sweep_rows_free(&rows);
    /* the same grid without the task line is another sweep: refused */
    gd_sweep_set_task(&sw, NULL);
    cr_expect_neq(gd_sweep_table_open(&t, &sw, path), 0);
    cr_expect(strstr(gd_error(), "another sweep") != NULL, "%s", gd_error());
    free(h);
    gd_sweep_free(&sw);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

/* LeNet (lib/lenet.h) through the same trainer. With ReLU and max pooling the three
 * checks pass (the gradient check leaves out the coordinates that sit on a kink). d2l's
 * sigmoid LeNet passes the gradient check; its loss at initialisation (Xavier weights,
 * sigmoid outputs all positive) can be well above ln 10, which the first check reports
 * -- a true finding, not a bug in lrtune -- so it runs with --force. */
Test(tools_lrtune, lenet_sanity_checks, .timeout = 120) {
    const char *models[] = {"lenet:act=relu:pool=max", "lenet"};
    for (int m = 0; m < 2; m++) {
        char *d = tmpdir(), args[512];
        snprintf(args, sizeof args, "--model %s --steps 20 --batch-size 32 --train-subset 640 --val 200 --seeds 1 "
                 "--grid 0.03 --workers 1%s" SEEDARG, models[m], m ? " --force" : "");
        free(lrtune(args, d, "l"));
        char path[512];
        snprintf(path, sizeof path, "%s/l/sanity.tsv", d);
        t_tsv *t = t_tsv_read(path);
        int c = t_tsv_col(t, "check"), r = t_tsv_col(t, "result");
        cr_assert_eq(t->nrows, 3);
        for (int i = 0; i < 3; i++)
            if (m == 0 || strcmp(t_tsv_cell(t, i, c), "grad_check") == 0)
                cr_expect_str_eq(t_tsv_cell(t, i, r), "pass", "%s: %s", models[m], t_tsv_cell(t, i, c));
        t_tsv_free(t);
        rmdir_r(d);
    }
}

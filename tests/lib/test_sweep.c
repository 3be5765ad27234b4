/* test_sweep.c -- the sweep's grid, point ids, shards and results table (lib/sweep.h),
 * with made-up results: nothing here trains (tests/tools/test_sweep_cli.c does). */
#include "../common.h"
#include "gd.h"
#include "sweep.h"

#include <math.h>
#include <sys/file.h>

static void grid(gd_sweep *sw, const char *lr, const char *optim, const char *sched, const char *seeds) {
    gd_sweep_init(sw);
    cr_assert_eq(gd_sweep_set_lr(sw, lr), 0, "--lr %s: %s", lr, gd_error());
    cr_assert_eq(gd_sweep_set_optim(sw, optim), 0, "--optim %s: %s", optim, gd_error());
    cr_assert_eq(gd_sweep_set_sched(sw, sched), 0, "--sched %s: %s", sched, gd_error());
    cr_assert_eq(gd_sweep_set_seeds(sw, seeds), 0, "--seeds %s: %s", seeds, gd_error());
    cr_assert_eq(gd_sweep_check(sw), 0, "%s", gd_error());
}

/* A made-up result for point id: every fifth point diverged. */
static gd_sweep_result fake(long id) {
    gd_sweep_result r = {0};
    r.id = id;
    int div = id % 5 == 4;
    r.diverged_at = div ? 3 + id : -1;
    r.train_loss = div ? INFINITY : 1.0 / (double)(id + 1);
    r.val_loss = div ? NAN : 0.5 + 0.001 * (double)id;
    r.val_acc = div ? NAN : 0.01 * (double)(id % 100);
    r.steps = div ? 3 + id : 100;
    r.seconds = 0.123456789;   /* never written */
    return r;
}

static char tmpdir[64];
static void mktmp(void) {
    strcpy(tmpdir, "/tmp/gdtest-sweep-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}
static void rmtmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_expect_eq(system(cmd), 0);
}
static void path_in_tmp(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", tmpdir, name); }

/* The text rows_write gives for these rows: what a table must be byte for byte. */
static char *expected_table(const gd_sweep *sw, const long *ids, int n) {
    char *H = gd_sweep_header(sw);
    size_t cap = strlen(H) + 1 + (size_t)n * 512;
    char *s = malloc(cap);
    strcpy(s, H);
    free(H);
    for (int i = 0; i < n; i++) {
        gd_sweep_result r = fake(ids[i]);
        gd_sweep_format_row(sw, &r, s + strlen(s), 512);
    }
    return s;
}

/* Rows (lines that are neither '#' lines nor the header) in a table's text. */
static int rows_in(const char *s) {
    int n = 0;
    for (const char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        n += *line != '#' && strncmp(line, "id\t", 3) != 0;
    return n;
}

/* ------------------------------------------------------------------------------ */

Test(lib_sweep, lr_lists_and_log_ranges) {
    gd_sweep sw;
    gd_sweep_init(&sw);
    cr_assert_eq(gd_sweep_set_lr(&sw, "0.1,0.01"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_lr, 2);
    cr_expect_eq(sw.lr[0], 0.01);   /* sorted ascending */
    cr_expect_str_eq(sw.lr_text[1], "0.1");

    cr_assert_eq(gd_sweep_set_lr(&sw, "1e-5:1:4"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_lr, 21, "1e-5 to 1 at 4 per decade: 5*4+1 points, got %d", sw.n_lr);
    cr_expect_str_eq(sw.lr_text[0], "1e-05");
    cr_expect_str_eq(sw.lr_text[1], "1.78e-05");
    cr_expect_str_eq(sw.lr_text[4], "0.0001");
    cr_expect_str_eq(sw.lr_text[20], "1");
    for (int i = 1; i < sw.n_lr; i++) {
        double ratio = sw.lr[i] / sw.lr[i - 1];
        cr_expect(fabs(ratio - pow(10, 0.25)) < 0.01, "ratio %g at %d", ratio, i);
        cr_expect_eq(strtod(sw.lr_text[i], NULL), sw.lr[i], "the text is the value");
    }
    /* both, mixed; a range whose end is off the grid stops below it; a one-point range */
    cr_assert_eq(gd_sweep_set_lr(&sw, "1e-3:1.5e-2:2, 0.5"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_lr, 4);
    cr_expect_str_eq(sw.lr_text[1], "0.00316");
    cr_expect_str_eq(sw.lr_text[3], "0.5");
    cr_assert_eq(gd_sweep_set_lr(&sw, "0.1:0.1:3"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_lr, 1);
    cr_assert_eq(gd_sweep_set_lr(&sw, "30,3e-7"), 0, "%s", gd_error());
    cr_expect_str_eq(sw.lr_text[0], "3e-07");
    cr_expect_str_eq(sw.lr_text[1], "30");
    gd_sweep_free(&sw);
}

static void expect_bad(int (*set)(gd_sweep *, const char *), const char *text, const char *needle) {
    gd_sweep sw;
    gd_sweep_init(&sw);
    cr_expect_eq(set(&sw, text), -1, "'%s' accepted", text);
    cr_expect(strstr(gd_error(), needle) != NULL, "'%s': reason '%s' should mention '%s'", text, gd_error(), needle);
    cr_expect(strchr(gd_error(), '\n') == NULL, "one line: %s", gd_error());
    gd_sweep_free(&sw);
}

Test(lib_sweep, bad_lr_axes_are_rejected) {
    expect_bad(gd_sweep_set_lr, "0.1:0.01:4", "empty range");
    expect_bad(gd_sweep_set_lr, "0", "> 0");
    expect_bad(gd_sweep_set_lr, "-0.1", "> 0");
    expect_bad(gd_sweep_set_lr, "0:1:4", "> 0");
    expect_bad(gd_sweep_set_lr, "1e-3:1:0", "per decade");
    expect_bad(gd_sweep_set_lr, "1e-3:1:2.5", "per decade");
    expect_bad(gd_sweep_set_lr, "1e-3:1", "LO:HI:POINTS_PER_DECADE");
    expect_bad(gd_sweep_set_lr, "1:2:3:4", "LO:HI:POINTS_PER_DECADE");
    expect_bad(gd_sweep_set_lr, "abc", "abc");
    expect_bad(gd_sweep_set_lr, "nan", "nan");
    expect_bad(gd_sweep_set_lr, "inf", "inf");
    expect_bad(gd_sweep_set_lr, "", "empty");
    expect_bad(gd_sweep_set_lr, "0.1,,0.2", "empty");
    expect_bad(gd_sweep_set_lr, "0.1,0.1", "twice");
    expect_bad(gd_sweep_set_lr, "0.01:1:2,0.1", "twice");
}

Test(lib_sweep, optimizer_and_schedule_axes) {
    gd_sweep sw;
    gd_sweep_init(&sw);
    cr_assert_eq(gd_sweep_set_optim(&sw, " sgd:momentum=0.9 ;adam:betas=0.9/0.98"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_optim, 2);
    cr_expect_str_eq(sw.optim[0], "sgd:momentum=0.9");
    cr_assert_eq(gd_sweep_set_sched(&sw, "constant;warmup:T=5,cosine:T=95"), 0, "%s", gd_error());
    cr_expect_eq(sw.n_sched, 2);
    cr_expect_str_eq(sw.sched[1], "warmup:T=5,cosine:T=95");
    gd_sweep_free(&sw);

    expect_bad(gd_sweep_set_optim, "sgd:lr=0.1", "the grid sets lr");
    expect_bad(gd_sweep_set_optim, "adam;sgd:momentum=0.9:lr=1", "sets lr");
    expect_bad(gd_sweep_set_optim, "nosuch", "nosuch");
    expect_bad(gd_sweep_set_optim, "sgd:momentum=2", "momentum");
    expect_bad(gd_sweep_set_optim, "sgd;;adam", "empty spec");
    expect_bad(gd_sweep_set_optim, "adam;", "empty spec");
    expect_bad(gd_sweep_set_optim, "adam;adam", "twice");
    expect_bad(gd_sweep_set_optim, "sgd: momentum=0.9", "blanks");
    expect_bad(gd_sweep_set_sched, "cosine", "cosine");
    expect_bad(gd_sweep_set_sched, "constant;bogus", "bogus");
    expect_bad(gd_sweep_set_sched, "", "empty spec");
}

Test(lib_sweep, seeds) {
    gd_sweep sw;
    gd_sweep_init(&sw);
    cr_assert_eq(gd_sweep_set_seeds(&sw, "3"), 0);
    cr_expect(sw.n_seeds == 3 && sw.seeds[0] == 0 && sw.seeds[2] == 2);
    cr_assert_eq(gd_sweep_set_seeds(&sw, "9:7,0,5"), -1);   /* a backwards range */
    cr_assert_eq(gd_sweep_set_seeds(&sw, "7:9,0,5"), 0, "%s", gd_error());
    uint64_t want[] = {0, 5, 7, 8, 9};
    cr_assert_eq(sw.n_seeds, 5);
    for (int i = 0; i < 5; i++) cr_expect_eq(sw.seeds[i], want[i]);
    cr_assert_eq(gd_sweep_set_seeds(&sw, "7:7"), 0);
    cr_expect(sw.n_seeds == 1 && sw.seeds[0] == 7);
    gd_sweep_free(&sw);
    expect_bad(gd_sweep_set_seeds, "0", "at least one");
    expect_bad(gd_sweep_set_seeds, "3:1", "empty range");
    expect_bad(gd_sweep_set_seeds, "1,1", "twice");
    expect_bad(gd_sweep_set_seeds, "-1", "-1");
    expect_bad(gd_sweep_set_seeds, "a,b", "'a'");
    expect_bad(gd_sweep_set_seeds, "", "number of seeds");
}

Test(lib_sweep, settings_are_checked) {
    gd_sweep sw;
    gd_sweep_init(&sw);
    cr_expect_eq(gd_sweep_check(&sw), -1, "an empty grid");
    cr_expect(strstr(gd_error(), "no learning rates") != NULL, "%s", gd_error());
    gd_sweep_free(&sw);
    grid(&sw, "0.1", "sgd", "constant", "1");
    sw.batch_size = 0;
    cr_expect_eq(gd_sweep_check(&sw), -1);
    sw.batch_size = 10;
    sw.epochs = 0;
    cr_expect_eq(gd_sweep_check(&sw), -1);
    sw.epochs = 1;
    cr_expect_eq(gd_sweep_set_model(&sw, "784-32-10"), 0);
    cr_expect_eq(sw.nlayers, 2);
    cr_expect_eq(gd_sweep_set_model(&sw, "100-10"), -1);
    cr_expect_eq(gd_sweep_set_model(&sw, "784-32-9"), -1);
    cr_expect_eq(gd_sweep_set_model(&sw, "784--10"), -1);
    gd_sweep_free(&sw);
    /* too many points: 10^4 lrs x 10^4 seeds */
    grid(&sw, "0.1", "sgd", "constant", "1");
    cr_assert_eq(gd_sweep_set_lr(&sw, "1e-50:1e49:100"), 0, "%s", gd_error());
    cr_assert_eq(gd_sweep_set_seeds(&sw, "10000"), 0);
    cr_expect_eq(gd_sweep_check(&sw), -1);
    cr_expect(strstr(gd_error(), "points") != NULL, "%s", gd_error());
    gd_sweep_free(&sw);
}

/* id = ((optim * n_sched + sched) * n_lr + lr) * n_seeds + seed: every combination once. */
Test(lib_sweep, point_ids) {
    gd_sweep sw;
    grid(&sw, "0.001,0.01,0.1", "sgd;adam", "constant;cosine:T=10", "0,7");
    cr_assert_eq(gd_sweep_npoints(&sw), 24);
    int seen[2][2][3][2] = {{{{0}}}};
    for (long id = 0; id < 24; id++) {
        gd_sweep_point p;
        gd_sweep_point_get(&sw, id, &p);
        cr_expect_eq(((p.i_optim * 2 + p.i_sched) * 3 + p.i_lr) * 2 + p.i_seed, id);
        cr_expect_eq(p.lr, sw.lr[p.i_lr]);
        cr_expect_eq(p.seed, sw.seeds[p.i_seed]);
        seen[p.i_optim][p.i_sched][p.i_lr][p.i_seed]++;
    }
    for (int i = 0; i < 24; i++) cr_expect_eq((&seen[0][0][0][0])[i], 1);
    gd_sweep_point p;
    gd_sweep_point_get(&sw, 1, &p);
    cr_expect(p.seed == 7 && p.lr == 0.001, "id 1: the next seed");
    gd_sweep_point_get(&sw, 2, &p);
    cr_expect(p.seed == 0 && p.lr == 0.01, "id 2: the next lr");
    gd_sweep_point_get(&sw, 23, &p);
    cr_expect_str_eq(p.optim, "adam");
    cr_expect_str_eq(p.sched, "cosine:T=10");
    char spec[128];
    gd_sweep_point_optim(&p, spec, sizeof spec);
    cr_expect_str_eq(spec, "adam:lr=0.1");
    gd_sweep_free(&sw);
}

Test(lib_sweep, shards_partition_the_grid) {
    long k, n;
    cr_expect(gd_sweep_parse_shard("2/3", &k, &n) == 0 && k == 2 && n == 3);
    cr_expect(gd_sweep_parse_shard("0/1", &k, &n) == 0 && k == 0 && n == 1);
    const char *bad[] = {"3/3", "4/3", "-1/3", "1/0", "a/b", "1", "1/2/3", "/2", "1/", ""};
    for (int i = 0; i < 10; i++) {
        cr_expect_eq(gd_sweep_parse_shard(bad[i], &k, &n), -1, "'%s' accepted", bad[i]);
        cr_expect(strstr(gd_error(), bad[i]) != NULL, "'%s': %s", bad[i], gd_error());
    }
    cr_expect(strstr((gd_sweep_parse_shard("3/3", &k, &n), gd_error()), "0 to N-1") != NULL);
    for (long N = 1; N <= 7; N++) {
        long size[7] = {0};
        for (long id = 0; id < 100; id++) {
            int in = 0;
            for (long K = 0; K < N; K++)
                if (gd_sweep_in_shard(id, K, N)) in++, size[K]++;
            cr_expect_eq(in, 1, "id %ld in %d shards of %ld", id, in, N);
        }
        for (long K = 1; K < N; K++) cr_expect(labs(size[K] - size[0]) <= 1, "shards of even size");
    }
}

/* The header records the grid: reading it back gives the same grid, the same header. */
Test(lib_sweep, header_round_trip) {
    const char *seeds[] = {"3", "7:7", "0,2,3,4,9"};
    for (int i = 0; i < 3; i++) {
        gd_sweep a, b;
        grid(&a, "1e-4:1:3,5", "sgd:momentum=0.9:nesterov=1;adam", "constant;warmup:T=5,cosine:T=95", seeds[i]);
        cr_assert_eq(gd_sweep_set_model(&a, "784-64-32-10"), 0);
        a.epochs = 0.5, a.batch_size = 64, a.train_subset = 1234, a.n_val = 567, a.diverge_factor = 4;
        char *ha = gd_sweep_header(&a);
        cr_assert_eq(gd_sweep_from_header(&b, ha), 0, "%s", gd_error());
        char *hb = gd_sweep_header(&b);
        cr_expect_str_eq(ha, hb);
        cr_expect_eq(b.n_seeds, a.n_seeds);
        cr_expect_eq(b.train_subset, 1234);
        cr_expect(strstr(ha, "\nid\tlr\toptim\tsched\tseed\tstatus\tdiverged_at\ttrain_loss\tval_loss\tval_acc\t"
                             "steps\n"));
        free(ha);
        free(hb);
        gd_sweep_free(&a);
        gd_sweep_free(&b);
    }
    gd_sweep c;
    cr_expect_eq(gd_sweep_from_header(&c, "id\tlr\n"), -1);
    gd_sweep_free(&c);
}

/* A header's numbers are read as text and range-checked before they become longs: a
 * cast of 1e300 to long is undefined, and 2.5 used to become batch size 2. The refusal
 * names the line and the value. */
Test(lib_sweep, header_numbers_are_range_checked) {
    gd_sweep a;
    grid(&a, "0.01,0.1", "sgd", "constant", "2");
    a.batch_size = 64, a.train_subset = 1000, a.n_val = 100;
    char *H = gd_sweep_header(&a);
    struct { const char *line, *bad, *key, *value; } cases[] = {
        {"# batch_size: 64\n", "# batch_size: 1e300\n", "batch_size", "1e300"},
        {"# batch_size: 64\n", "# batch_size: 2.5\n", "batch_size", "2.5"},
        {"# batch_size: 64\n", "# batch_size: 0\n", "batch_size", "'0'"},
        {"# train_subset: 1000\n", "# train_subset: 99999999999999999999\n", "train_subset", "99999999999999999999"},
        {"# val: 100\n", "# val: -3\n", "val", "-3"},
        {"# val: 100\n", "# val: 1e18\n", "val", "1e18"},
        {"# epochs: 1\n", "# epochs: 1e300\n", "epochs", "1e+300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *at = strstr(H, cases[i].line);
        cr_assert_not_null(at, "%s", cases[i].line);
        char *text;
        cr_assert(asprintf(&text, "%.*s%s%s", (int)(at - H), H, cases[i].bad, at + strlen(cases[i].line)) > 0);
        gd_sweep b;
        cr_expect_eq(gd_sweep_from_header(&b, text), -1, "accepted %s", cases[i].bad);
        cr_expect(strstr(gd_error(), cases[i].key) && strstr(gd_error(), cases[i].value) && !strchr(gd_error(), '\n'),
                  "%s: %s", cases[i].bad, gd_error());
        gd_sweep_free(&b);
        free(text);
    }
    free(H);
    gd_sweep_free(&a);
}

/* A table whose header was cut short is told apart from a table of another grid, and
 * the refusal shows what differs (the two quotes used to be the same 60 characters). */
Test(lib_sweep, a_cut_short_header_says_what_is_missing) {
    mktmp();
    gd_sweep a;
    grid(&a, "0.01,0.1", "sgd", "constant", "1");
    char path[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    char *H = gd_sweep_header(&a);
    const char *about = strstr(H, "# about: ");
    cr_assert_not_null(about);
    /* cut inside a long line, beyond the 60 characters a quote shows */
    size_t cuts[] = {(size_t)(about - H) + 100, (size_t)(about - H)};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path, "w");
        fwrite(H, 1, cuts[i], f);
        fclose(f);
        gd_sweep_table t;
        cr_expect_eq(gd_sweep_table_open(&t, &a, path), -1);
        cr_expect(strstr(gd_error(), "cut short") && strstr(gd_error(), path), "%s", gd_error());
        if (i == 0)   /* the line, how much of it is there, and the text that is missing */
            cr_expect(strstr(gd_error(), "ends after 100 of") && strstr(gd_error(), "without '"), "%s", gd_error());
        else   /* ends at a line: the line that would come next */
            cr_expect(strstr(gd_error(), "before '# about:"), "%s", gd_error());
        char *kept = t_slurp(path);
        cr_expect_eq(strlen(kept), cuts[i], "the file is left as it was");
        free(kept);
    }
    /* two long lines that differ after their 60th character: the quotes show where */
    gd_sweep b, c;
    const char *o1 = "sgd:momentum=0.9:dampening=0.1:weight_decay=0.001;adam:betas=0.9/0.999:weight_decay=0.01";
    const char *o2 = "sgd:momentum=0.9:dampening=0.1:weight_decay=0.001;adam:betas=0.9/0.999:weight_decay=0.02";
    grid(&b, "0.01,0.1", o1, "constant", "1");
    grid(&c, "0.01,0.1", o2, "constant", "1");
    unlink(path);
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &b, path), 0, "%s", gd_error());
    cr_assert_eq(gd_sweep_table_close(&t), 0, "%s", gd_error());
    cr_expect_eq(gd_sweep_table_open(&t, &c, path), -1);
    cr_expect(strstr(gd_error(), "another sweep") && strstr(gd_error(), "weight_decay=0.01'") &&
                  strstr(gd_error(), "weight_decay=0.02'"),
              "%s", gd_error());
    free(H);
    gd_sweep_free(&a);
    gd_sweep_free(&b);
    gd_sweep_free(&c);
    rmtmp();
}

Test(lib_sweep, rows_round_trip_and_reject_anything_else) {
    gd_sweep sw;
    grid(&sw, "0.01,0.1", "sgd;adam", "constant", "2");
    char row[512];
    for (long id = 0; id < 8; id++) {
        gd_sweep_result r = fake(id), back;
        int n = gd_sweep_format_row(&sw, &r, row, sizeof row);
        cr_assert(n > 0 && row[n - 1] == '\n');
        row[n - 1] = '\0';
        cr_assert_eq(gd_sweep_parse_row(&sw, row, &back), 0, "%s: %s", row, gd_error());
        cr_expect_eq(back.id, id);
        cr_expect_eq(back.diverged_at, r.diverged_at);
        cr_expect_eq(back.steps, r.steps);
        cr_expect(strstr(row, "0.123") == NULL, "wall time is not in the table: %s", row);
    }
    gd_sweep_result r = fake(4), back;   /* diverged: inf and nan spelled out */
    gd_sweep_format_row(&sw, &r, row, sizeof row);
    cr_expect_str_eq(row, "4\t0.01\tadam\tconstant\t0\tdiverged\t7\tinf\tnan\tnan\t7\n");
    r = fake(1);
    gd_sweep_format_row(&sw, &r, row, sizeof row);
    cr_expect_str_eq(row, "1\t0.01\tsgd\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01\t100\n");
    const char *bad[] = {
        "1\t0.01\tsgd\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01",           /* 10 fields */
        "1\t0.01\tsgd\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01\t100\t1",   /* 12 */
        "1\t0.1\tsgd\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01\t100",       /* not point 1's lr */
        "1\t0.01\tadam\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01\t100",     /* nor its optimizer */
        "1\t0.01\tsgd\tconstant\t0\tok\t-1\t0.5\t0.501\t0.01\t100",      /* nor its seed */
        "1\t0.01\tsgd\tconstant\t1\tok\t5\t0.5\t0.501\t0.01\t100",       /* ok but diverged_at */
        "1\t0.01\tsgd\tconstant\t1\tok\t-1\t0.50\t0.501\t0.01\t100",     /* not as written */
        "1\t0.01\tsgd\tconstant\t1\tok\t-1\t0.5\t0.50",                 /* torn */
        "8\t0.01\tsgd\tconstant\t0\tok\t-1\t0.5\t0.501\t0.01\t100",      /* no point 8 */
        "x\t0.01\tsgd\tconstant\t1\tok\t-1\t0.5\t0.501\t0.01\t100",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(gd_sweep_parse_row(&sw, bad[i], &back), -1, "accepted: %s", bad[i]);
    gd_sweep_free(&sw);
}

/* Rows appended in any order come out sorted by id, with the header, after close. */
Test(lib_sweep, table_append_then_close_sorts) {
    mktmp();
    gd_sweep sw;
    grid(&sw, "0.01,0.1,1", "sgd;adam", "constant", "2");
    char path[128];
    path_in_tmp(path, sizeof path, "sub/dir/t.tsv");   /* directories are created */
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    long order[] = {5, 0, 11, 3, 7};
    for (int i = 0; i < 5; i++) {
        gd_sweep_result r = fake(order[i]);
        cr_assert_eq(gd_sweep_table_append(&t, &r), 0, "%s", gd_error());
    }
    cr_assert_eq(gd_sweep_table_close(&t), 0, "%s", gd_error());
    long sorted[] = {0, 3, 5, 7, 11};
    char *want = expected_table(&sw, sorted, 5), *got = t_slurp(path);
    cr_expect_str_eq(got, want);
    free(want);
    free(got);
    /* no temporary file is left behind */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s/sub/dir | wc -l", tmpdir);
    t_result r = t_run(cmd);
    cr_expect_eq(atoi(r.out), 1, "%s", r.out);
    t_free(&r);
    gd_sweep_free(&sw);
    rmtmp();
}

/* Resuming: rows there are skipped, a torn last line and garbage are ignored, the next
 * row starts on its own line, and the close drops what was malformed. */
Test(lib_sweep, table_resume_ignores_torn_lines) {
    mktmp();
    gd_sweep sw;
    grid(&sw, "0.01,0.1,1", "sgd;adam", "constant", "2");
    char path[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    long ids[] = {2, 0, 5};
    for (int i = 0; i < 3; i++) {
        gd_sweep_result r = fake(ids[i]);
        gd_sweep_table_append(&t, &r);
    }
    close(t.fd);   /* a crash: no close, no rewrite */
    t.fd = -1;
    gd_sweep_rows_free(&t.done);
    free(t.path);
    FILE *f = fopen(path, "a");
    fputs("garbage line\n", f);
    fputs("7\t0.1\tsg", f);   /* torn: no newline */
    fclose(f);

    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    cr_expect_eq(t.done.n, 3);
    cr_expect(t.done.row[0] && t.done.row[2] && t.done.row[5] && !t.done.row[7]);
    cr_expect_eq(t.done.bad, 2);
    cr_expect_gt(t.done.first_bad, 10);
    gd_sweep_result r = fake(7);
    gd_sweep_table_append(&t, &r);
    cr_assert_eq(gd_sweep_table_close(&t), 0, "%s", gd_error());
    long sorted[] = {0, 2, 5, 7};
    char *want = expected_table(&sw, sorted, 4), *got = t_slurp(path);
    cr_expect_str_eq(got, want);
    free(want);
    free(got);
    gd_sweep_free(&sw);
    rmtmp();
}

/* An empty file (mktemp) becomes a table; a table of another grid and a file that is
 * not a table are refused and left as they were. */
Test(lib_sweep, table_of_another_grid_is_refused) {
    mktmp();
    gd_sweep a, b;
    grid(&a, "0.01,0.1", "sgd", "constant", "1");
    grid(&b, "0.01,0.2", "sgd", "constant", "1");
    char path[128], other[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    path_in_tmp(other, sizeof other, "notes.tsv");
    fclose(fopen(path, "w"));
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &a, path), 0, "%s", gd_error());
    gd_sweep_result r = fake(1);
    gd_sweep_table_append(&t, &r);
    cr_assert_eq(gd_sweep_table_close(&t), 0);
    char *before = t_slurp(path);
    cr_expect_eq(gd_sweep_table_open(&t, &b, path), -1);
    cr_expect(strstr(gd_error(), "another sweep") && strstr(gd_error(), "lr: 0.01,0.1") &&
                  strstr(gd_error(), "lr: 0.01,0.2") && strstr(gd_error(), path),
              "%s", gd_error());
    b.epochs = 2;
    gd_sweep_free(&b);
    grid(&b, "0.01,0.1", "sgd", "constant", "1");
    b.epochs = 2;   /* settings count too */
    cr_expect_eq(gd_sweep_table_open(&t, &b, path), -1);
    cr_expect(strstr(gd_error(), "epochs: 1") != NULL, "%s", gd_error());
    char *after = t_slurp(path);
    cr_expect_str_eq(after, before);
    FILE *f = fopen(other, "w");
    fputs("x\ty\n1\t2\n", f);
    fclose(f);
    cr_expect_eq(gd_sweep_table_open(&t, &a, other), -1);
    cr_expect(strstr(gd_error(), "not a sweep table") != NULL, "%s", gd_error());
    char *kept = t_slurp(other);
    cr_expect_str_eq(kept, "x\ty\n1\t2\n");
    path_in_tmp(other, sizeof other, "t.csv");
    cr_expect_eq(gd_sweep_table_open(&t, &a, other), -1);
    cr_expect(strstr(gd_error(), ".tsv") != NULL, "%s", gd_error());
    free(before);
    free(after);
    free(kept);
    gd_sweep_free(&a);
    gd_sweep_free(&b);
    rmtmp();
}

/* One process at a time: a second one waits a little, then gives up with a clear reason. */
Test(lib_sweep, table_is_locked) {
    mktmp();
    gd_sweep sw;
    grid(&sw, "0.01,0.1", "sgd", "constant", "1");
    char path[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    gd_sweep_table t, u;
    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    cr_expect_eq(gd_sweep_table_open(&u, &sw, path), -1);
    cr_expect(strstr(gd_error(), "in use by another sweep") != NULL, "%s", gd_error());
    /* released a moment later: the second one gets it */
    pid_t pid = fork();
    if (pid == 0) {
        usleep(300000);
        _exit(0);
    }
    int fd = t.fd;   /* the child holds a copy of the locked descriptor until it exits */
    t.fd = -1;
    close(fd);
    gd_sweep_rows_free(&t.done);
    free(t.path);
    cr_expect_eq(gd_sweep_table_open(&u, &sw, path), 0, "%s", gd_error());
    gd_sweep_table_close(&u);
    waitpid(pid, NULL, 0);
    gd_sweep_free(&sw);
    rmtmp();
}

/* Processes appending to one table at once never interleave their lines. */
Test(lib_sweep, concurrent_appends_do_not_interleave) {
    mktmp();
    gd_sweep sw;
    grid(&sw, "0.01,0.1,1,10", "sgd;adam", "constant;warmup:T=10,cosine:T=1000:min=1e-05;step:size=100:gamma=0.5",
         "50");   /* 1200 points */
    char path[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &sw, path), 0, "%s", gd_error());
    enum { P = 4 };
    pid_t pids[P];
    for (int w = 0; w < P; w++) {
        if ((pids[w] = fork()) == 0) {
            for (long id = w; id < 1200; id += P) {
                gd_sweep_result r = fake(id);
                if (gd_sweep_table_append(&t, &r) != 0) _exit(1);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < P; w++) {
        int st;
        waitpid(pids[w], &st, 0);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    gd_sweep_rows rows;
    gd_sweep_rows_init(&rows, &sw);
    cr_assert_eq(gd_sweep_rows_read(&rows, &sw, path), 0, "%s", gd_error());
    cr_expect_eq(rows.n, 1200);
    cr_expect_eq(rows.bad, 0);
    gd_sweep_rows_free(&rows);
    cr_expect_eq(gd_sweep_table_close(&t), 0);
    gd_sweep_free(&sw);
    rmtmp();
}

/* Shards of a grid merge into exactly the table that holds every row. */
Test(lib_sweep, merge_of_shards_is_the_whole_table) {
    mktmp();
    gd_sweep sw;
    grid(&sw, "1e-3:1:2", "sgd;adam", "constant", "2");   /* 7 lrs: 28 points */
    long n = gd_sweep_npoints(&sw);
    char shard[3][128], all[128], out[128];
    char *in[3];
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%d.tsv", k);
        path_in_tmp(shard[k], sizeof shard[k], name);
        in[k] = shard[k];
        gd_sweep_table t;
        cr_assert_eq(gd_sweep_table_open(&t, &sw, shard[k]), 0, "%s", gd_error());
        for (long id = n - 1; id >= 0; id--)
            if (gd_sweep_in_shard(id, k, 3)) {
                gd_sweep_result r = fake(id);
                gd_sweep_table_append(&t, &r);
            }
        if (k != 1) cr_assert_eq(gd_sweep_table_close(&t), 0);
        else close(t.fd), gd_sweep_rows_free(&t.done), free(t.path);   /* one left unsorted */
    }
    long ids[28];
    for (long i = 0; i < n; i++) ids[i] = i;
    char *want = expected_table(&sw, ids, (int)n);
    path_in_tmp(all, sizeof all, "all.tsv");
    path_in_tmp(out, sizeof out, "merged.tsv");
    FILE *f = fopen(all, "w");
    fputs(want, f);
    fclose(f);

    long missing = -1, np = 0;
    char *order[] = {shard[2], shard[0], shard[1]};
    cr_assert_eq(gd_sweep_merge(out, order, 3, &missing, &np), 0, "%s", gd_error());
    cr_expect_eq(missing, 0);
    cr_expect_eq(np, n);
    char *got = t_slurp(out);
    cr_expect_str_eq(got, want);
    free(got);
    /* a table merged with its own shards, into itself */
    char *self[] = {all, shard[1], all};
    cr_assert_eq(gd_sweep_merge(all, self, 3, &missing, NULL), 0, "%s", gd_error());
    got = t_slurp(all);
    cr_expect_str_eq(got, want);
    free(got);
    /* two of three shards: written, points missing */
    cr_assert_eq(gd_sweep_merge(out, in, 2, &missing, NULL), 0, "%s", gd_error());
    cr_expect_eq(missing, n / 3);
    /* a point whose numbers differ between tables: an error, nothing written */
    f = fopen(shard[1], "a");
    gd_sweep_result r = fake(2);
    r.val_acc = 0.5;
    char row[512];
    gd_sweep_format_row(&sw, &r, row, sizeof row);
    fputs(row, f);
    fclose(f);
    unlink(out);
    cr_expect_eq(gd_sweep_merge(out, in, 3, &missing, NULL), -1);
    cr_expect(strstr(gd_error(), "point 2") && strstr(gd_error(), shard[2]), "%s", gd_error());
    cr_expect_eq(access(out, F_OK), -1, "nothing written");
    free(want);
    gd_sweep_free(&sw);
    rmtmp();
}

Test(lib_sweep, merge_refuses_other_grids) {
    mktmp();
    gd_sweep a, b;
    grid(&a, "0.01,0.1", "sgd", "constant", "1");
    grid(&b, "0.01,0.1", "adam", "constant", "1");
    char pa[128], pb[128], out[128], junk[128];
    path_in_tmp(pa, sizeof pa, "a.tsv");
    path_in_tmp(pb, sizeof pb, "b.tsv");
    path_in_tmp(out, sizeof out, "out.tsv");
    path_in_tmp(junk, sizeof junk, "junk.tsv");
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, &a, pa), 0);
    gd_sweep_table_close(&t);
    cr_assert_eq(gd_sweep_table_open(&t, &b, pb), 0);
    gd_sweep_table_close(&t);
    char *in[] = {pa, pb};
    cr_expect_eq(gd_sweep_merge(out, in, 2, NULL, NULL), -1);
    cr_expect(strstr(gd_error(), pb) && strstr(gd_error(), "optim: adam"), "%s", gd_error());
    FILE *f = fopen(junk, "w");
    fputs("hello\n", f);
    fclose(f);
    char *in2[] = {junk, pa};
    cr_expect_eq(gd_sweep_merge(out, in2, 2, NULL, NULL), -1);
    cr_expect(strstr(gd_error(), "not a sweep table") && strstr(gd_error(), junk), "%s", gd_error());
    char *in3[] = {pa, "/nonexistent/x.tsv"};
    cr_expect_eq(gd_sweep_merge(out, in3, 2, NULL, NULL), -1);
    cr_expect(strstr(gd_error(), "/nonexistent/x.tsv") != NULL, "%s", gd_error());
    cr_expect_eq(access(out, F_OK), -1, "nothing written");
    gd_sweep_free(&a);
    gd_sweep_free(&b);
    rmtmp();
}

/* The held-out split is fixed; the training subset is the first images not held out. */
Test(lib_sweep, data_split) {
    gd_images im = {0};
    im.n = 100, im.rows = 28, im.cols = 28, im.dim = 784;
    gd_sweep sw;
    grid(&sw, "0.1", "sgd", "constant", "1");
    sw.n_val = 20;
    sw.train_subset = 50;
    gd_sweep_data d, e;
    cr_assert_eq(gd_sweep_data_init(&d, &sw, &im), 0, "%s", gd_error());
    cr_expect(d.n_train == 50 && d.n_val == 20);
    int used[100] = {0};
    for (int i = 0; i < 80; i++) used[d.train_idx[i]]++;
    for (int i = 0; i < 20; i++) used[d.val_idx[i]]++;
    for (int i = 0; i < 100; i++) cr_expect_eq(used[i], 1, "image %d", i);
    for (int i = 1; i < 50; i++) cr_expect_lt(d.train_idx[i - 1], d.train_idx[i]);
    sw.train_subset = 0;
    cr_assert_eq(gd_sweep_data_init(&e, &sw, &im), 0);
    cr_expect_eq(e.n_train, 80);
    cr_expect_eq(memcmp(d.val_idx, e.val_idx, 20 * sizeof(int)), 0, "the split does not depend on the subset");
    gd_sweep_data_free(&d);
    gd_sweep_data_free(&e);
    sw.train_subset = 81;
    cr_expect_eq(gd_sweep_data_init(&d, &sw, &im), -1);
    cr_expect(strstr(gd_error(), "81") != NULL, "%s", gd_error());
    sw.train_subset = 0, sw.n_val = 100;
    cr_expect_eq(gd_sweep_data_init(&d, &sw, &im), -1);
    gd_sweep_free(&sw);
}

/* ------------------------------------------------------------------------------
 * The workers, on made-up images (no Fashion-MNIST needed): 300 random 28x28 images. */

static gd_images random_images(void) {
    gd_images im = {0};
    im.n = 300, im.rows = 28, im.cols = 28, im.dim = 784;
    im.pixels = malloc((size_t)im.n * im.dim);
    im.labels = malloc((size_t)im.n);
    gd_rng r;
    gd_rng_seed(&r, 7);
    for (int i = 0; i < im.n * im.dim; i++) im.pixels[i] = (uint8_t)gd_rng_below(&r, 256);
    for (int i = 0; i < im.n; i++) im.labels[i] = (uint8_t)(i % 10);
    return im;
}

typedef struct {
    int events, failed, ticks;
    char error[256];
    volatile sig_atomic_t stop;
    int stop_after;
} run_log;

static void on_event(const gd_sweep_event *ev, void *ctx) {
    run_log *l = ctx;
    if (ev->tick) {
        l->ticks++;
        return;
    }
    l->events++;
    if (ev->failed) {
        l->failed++;
        snprintf(l->error, sizeof l->error, "%s", ev->error);
    }
    if (l->stop_after && l->events >= l->stop_after) l->stop = 1;
}

/* Run the whole grid into path on `workers` processes; the table's text. */
static char *run_grid(const gd_sweep *sw, const gd_sweep_data *d, const char *path, int workers, run_log *log,
                      gd_sweep_summary *sum) {
    gd_sweep_table t;
    cr_assert_eq(gd_sweep_table_open(&t, sw, path), 0, "%s", gd_error());
    gd_sweep_run_cfg cfg = {workers, 0, 1, on_event, log, &log->stop};
    gd_sweep_run(&t, d, &cfg, sum);
    cr_assert_eq(gd_sweep_table_close(&t), 0, "%s", gd_error());
    return t_slurp(path);
}

static void tiny_grid(gd_sweep *sw) {
    grid(sw, "0.01,0.1,1", "sgd;adam", "constant", "2");   /* 12 points */
    cr_assert_eq(gd_sweep_set_model(sw, "784-8-10"), 0);
    sw->n_val = 100, sw->batch_size = 50;
}

Test(lib_sweep, workers_write_the_same_table) {
    mktmp();
    gd_images im = random_images();
    gd_sweep sw;
    tiny_grid(&sw);
    gd_sweep_data d;
    cr_assert_eq(gd_sweep_data_init(&d, &sw, &im), 0, "%s", gd_error());
    char p1[128], p2[128];
    path_in_tmp(p1, sizeof p1, "one.tsv");
    path_in_tmp(p2, sizeof p2, "two.tsv");
    run_log l1 = {0}, l2 = {0};
    gd_sweep_summary s1, s2;
    char *one = run_grid(&sw, &d, p1, 1, &l1, &s1), *two = run_grid(&sw, &d, p2, 3, &l2, &s2);
    cr_expect_str_eq(one, two);
    cr_expect(l1.events == 12 && l2.events == 12 && l1.failed == 0, "%d %d: %s", l1.events, l2.events, l1.error);
    cr_expect(s2.total == 12 && s2.ran == 12 && s2.skipped == 0 && s2.failed == 0 && !s2.interrupted);
    /* once more: nothing left to do */
    run_log l3 = {0};
    gd_sweep_summary s3;
    char *again = run_grid(&sw, &d, p2, 2, &l3, &s3);
    cr_expect_str_eq(again, one);
    cr_expect(l3.events == 0 && s3.skipped == 12 && s3.ran == 0);
    free(one);
    free(two);
    free(again);
    gd_sweep_data_free(&d);
    gd_sweep_free(&sw);
    gd_images_free(&im);
    rmtmp();
}

/* A point that cannot run is reported with its reason; the others go on. */
Test(lib_sweep, failed_points_are_reported) {
    mktmp();
    gd_images im = random_images();
    gd_sweep sw;
    tiny_grid(&sw);
    gd_sweep_data d;
    cr_assert_eq(gd_sweep_data_init(&d, &sw, &im), 0, "%s", gd_error());
    im.dim = 100;   /* behind the sweep's back: now every trainer refuses the images */
    char path[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    run_log l = {0};
    gd_sweep_summary s;
    char *table = run_grid(&sw, &d, path, 2, &l, &s);
    cr_expect_eq(l.failed, 12);
    cr_expect(strstr(l.error, "784 inputs") != NULL, "%s", l.error);
    cr_expect(s.failed == 12 && s.ran == 0);
    cr_expect_eq(rows_in(table), 0);
    im.dim = 784;
    free(table);
    gd_sweep_data_free(&d);
    gd_sweep_free(&sw);
    gd_images_free(&im);
    rmtmp();
}

/* Stopped (as by a signal): running points are terminated, none is started, the table
 * keeps what finished, and the next run does the rest. */
Test(lib_sweep, a_stopped_run_resumes) {
    mktmp();
    gd_images im = random_images();
    gd_sweep sw;
    tiny_grid(&sw);
    gd_sweep_data d;
    cr_assert_eq(gd_sweep_data_init(&d, &sw, &im), 0, "%s", gd_error());
    char path[128], ref[128];
    path_in_tmp(path, sizeof path, "t.tsv");
    path_in_tmp(ref, sizeof ref, "ref.tsv");
    run_log l = {0};
    l.stop_after = 3;
    gd_sweep_summary s;
    char *part = run_grid(&sw, &d, path, 2, &l, &s);
    cr_expect(s.interrupted, "interrupted");
    int n = rows_in(part);
    cr_expect(n >= 3 && n < 12, "%d rows", n);
    run_log l2 = {0}, l3 = {0};
    gd_sweep_summary s2, s3;
    char *rest = run_grid(&sw, &d, path, 2, &l2, &s2), *whole = run_grid(&sw, &d, ref, 2, &l3, &s3);
    cr_expect_eq(s2.skipped, n);
    cr_expect_eq(s2.ran, 12 - n);
    cr_expect_str_eq(rest, whole);
    free(part);
    free(rest);
    free(whole);
    gd_sweep_data_free(&d);
    gd_sweep_free(&sw);
    gd_images_free(&im);
    rmtmp();
}

/* fuzz/regress/sweep/nul-in-row: a NUL byte inside a row (after its last field) made the
 * reader keep the row cut at the NUL, and merge wrote two rows on one line. A line with
 * a NUL is malformed: counted as bad, not kept. */
Test(lib_sweep, a_nul_inside_a_row_makes_it_bad) {
    gd_sweep sw;
    grid(&sw, "0.01,0.1", "sgd;adam", "constant", "2");
    char *H = gd_sweep_header(&sw);
    cr_assert_not_null(H);
    char row1[256], row2[256];
    gd_sweep_result r1 = fake(1), r2 = fake(2);
    int n1 = gd_sweep_format_row(&sw, &r1, row1, sizeof row1), n2 = gd_sweep_format_row(&sw, &r2, row2, sizeof row2);
    cr_assert(n1 > 0 && n2 > 0);
    size_t hl = strlen(H), len = hl + (size_t)n1 + 2 + (size_t)n2;
    char *text = malloc(len + 1);
    memcpy(text, H, hl);
    memcpy(text + hl, row1, (size_t)n1 - 1);            /* row 1 without its newline */
    memcpy(text + hl + n1 - 1, "\0x\n", 3);              /* then a NUL, a byte, the newline */
    memcpy(text + hl + n1 + 2, row2, (size_t)n2);
    text[len] = '\0';
    gd_sweep_rows rows;
    cr_assert_eq(gd_sweep_rows_init(&rows, &sw), 0);
    cr_assert_eq(gd_sweep_rows_add_text(&rows, &sw, text, len, "t.tsv"), 0, "%s", gd_error());
    cr_expect_eq(rows.n, 1, "%ld rows kept, want only point 2's", (long)rows.n);
    cr_expect_eq(rows.bad, 1, "the row with a NUL was not counted as bad");
    cr_expect_null(rows.row[1], "point 1's row was kept, cut at the NUL");
    cr_expect_not_null(rows.row[2]);
    gd_sweep_rows_free(&rows);
    free(text);
    free(H);
    gd_sweep_free(&sw);
}

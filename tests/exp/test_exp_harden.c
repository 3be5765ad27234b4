/* test_exp_harden.c -- the experiments' programs against what a careless or hostile
 * user gives them (issue 12). Each test is one defect the programs had: it failed before
 * the fix. Fast: tiny Fashion-MNIST-shaped directories and hand-written tables.
 */
#include "../common.h"
#include "../harden.h"   /* write_idx, tiny_fmnist, rm_rf */


/* A text file written here (a fresh path under dir). */
static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* exp-fmnist-bench set the training set's size to --n-train without looking: more than
 * the directory holds read past the images. exp-d2l-train evaluated the first --test-n
 * test images however many there were. Both refuse now: one line, exit 2. */
Test(exp_harden, counts_larger_than_the_data_are_refused) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    const char *cmds[] = {GD_BIN "exp-fmnist-bench --n-train 200 --epochs 1 --seeds 1 --hidden 4",
                          GD_BIN "exp-d2l-train --out /dev/null --epochs 0.1 --train-n 10 --test-n 30 --seeds 1 "
                                 "--scheds constant",
                          GD_BIN "exp-eos-momentum --n 200 --hidden 4 --steps 2 --seeds 1"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s %s", dir, cmds[i]) > 0);
        t_assert_rejects(cmd, 2, "too few");
        free(cmd);
    }
    rm_rf(dir);
}

/* exp-adamw-summary kept at most 32 lrs and silently dropped the rest, then searched for
 * a dropped lr past the end of its array (a crash). A table with 33 is refused. */
Test(exp_harden, adamw_summary_refuses_more_lrs_than_it_keeps) {
    char dir[] = "/tmp/gdtest-adamw-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    fprintf(m, "optim\tlr\tweight_decay\tseed\tdiverged_at\tval_loss\tval_acc\ttrain_loss\n");
    for (int o = 0; o < 2; o++)
        for (int l = 0; l < 33; l++)
            for (int w = 0; w < 3; w++)
                fprintf(m, "%s\t%g\t%g\t0\t-1\t1.0\t0.5\t0.9\n", o ? "adamw" : "adam", 0.001 * (l + 1), 0.05 * w);
    fclose(m);
    snprintf(path, sizeof path, "%s/runs.tsv", dir);
    put(path, text);
    free(text);
    char *cmd;
    cr_assert(asprintf(&cmd, GD_BIN "exp-adamw-summary --from %s --numbers %s/n.tsv", path, dir) > 0);
    t_assert_rejects(cmd, 2, "more than 32 lrs");
    free(cmd);
    rm_rf(dir);
}

/* exp-wsd-best wrote the chance of an all-one-sided result as 1 << (seeds - 1) in a long:
 * with 64 seeds that shift is undefined (it printed "1 in -9223372036854775808"). */
Test(exp_harden, wsd_best_sign_chance_with_64_seeds) {
    char dir[] = "/tmp/gdtest-wsd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], numbers[128], *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    fprintf(m, "# optim: adamw:lr=0.003\narm\tbudget\tfrac\tbranch\tcost\tseed\tval_loss\n");
    for (int s = 0; s < 64; s++)
        fprintf(m, "cos\t1200\t0.1\t0\t1200\t%d\t%g\nwsd\t1200\t0.2\t960\t1200\t%d\t%g\n", s, 2.0 + 0.001 * s, s,
                1.9 + 0.001 * s);
    fclose(m);
    snprintf(path, sizeof path, "%s/summary.tsv", dir);
    snprintf(numbers, sizeof numbers, "%s/numbers.tsv", dir);
    put(path, text);
    free(text);
    char *cmd;
    cr_assert(asprintf(&cmd, GD_BIN "exp-wsd-best --from %s --numbers %s", path, numbers) > 0);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    char *chance = t_str(numbers, "wsdbest_sign_chance");
    cr_expect_str_eq(chance, "1 in 9223372036854775808");
    free(chance);
    rm_rf(dir);
}

/* exp-eos-summary read its input in 1024-byte pieces and copied its header in 2048-byte
 * ones: a long "# command:" line (a long --data path) made a valid table "not a table",
 * and would have been cut in the copy. Lines are read whole now. */
Test(exp_harden, eos_summary_keeps_a_long_header_line_whole) {
    char dir[] = "/tmp/gdtest-eos-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char in[128], out[128], *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    fprintf(m, "# command: exp-eos-momentum --data /");
    for (int i = 0; i < 3000; i++) fputc('d', m);
    fprintf(m, "\n# model: MLP\nlr\tseed\tstep\tloss\tsharpness\tresid\n");
    for (int s = 0; s <= 40; s += 20) fprintf(m, "0.1\t0\t%d\t%g\t%d\t0.01\n", s, 2.0 - 0.01 * s, 10 + s);
    fclose(m);
    snprintf(in, sizeof in, "%s/runs.tsv", dir);
    snprintf(out, sizeof out, "%s/copy.tsv", dir);
    put(in, text);
    free(text);
    char *cmd;
    cr_assert(asprintf(&cmd, GD_BIN "exp-eos-summary --in %s --out %s", in, out) > 0);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    char *copy = t_slurp(out), want[3100];
    memset(want, 'd', 3000);
    want[3000] = '\n';
    want[3001] = '\0';
    cr_assert_not_null(copy);
    cr_expect_not_null(strstr(copy, want), "the header line was not copied whole");
    free(copy);
    rm_rf(dir);
}

/* exp-fmnist-bench wrote keys "%.20s_..." of --key-prefix, and exp-goyal-scaling and
 * exp-sc-train "TAG_..." into 96 bytes: a longer prefix or tag was cut silently, and the
 * README's markers would not find the keys. Refused now, before any work. */
Test(exp_harden, a_key_prefix_that_would_be_cut_is_refused) {
    char dir[64], prefix[41];
    tiny_fmnist(dir, 100, 20);
    memset(prefix, 'p', 40);
    prefix[40] = '\0';
    char *cmds[3];
    cr_assert(asprintf(&cmds[0], GD_BIN "exp-fmnist-bench --from experiments/fmnist-benchmark/results/runs-mlp-relu-10.tsv "
                                     "--key-prefix %s --numbers %s/n.tsv",
                       prefix, dir) > 0);
    cr_assert(asprintf(&cmds[1], "GD_FASHION_MNIST=%s " GD_BIN "exp-goyal-scaling --batches 8 --epochs 2 --decay-epochs 1 "
                                 "--warmup-epochs 0 --seeds 1 --numbers %s/n.tsv --tag %s%s",
                       dir, dir, prefix, prefix) > 0);
    cr_assert(asprintf(&cmds[2], "GD_FASHION_MNIST=%s " GD_BIN "exp-sc-train --lrs 0.1 --epochs 2 --seeds 1 --numbers "
                                 "%s/n.tsv --tag %s%s",
                       dir, dir, prefix, prefix) > 0);
    const char *needle[3] = {"--key-prefix", "--tag", "--tag"};
    for (int i = 0; i < 3; i++) {
        t_assert_rejects(cmds[i], 2, needle[i]);
        free(cmds[i]);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/n.tsv", dir);
    cr_expect_neq(access(path, F_OK), 0, "a refused prefix wrote --numbers");
    rm_rf(dir);
}

/* exp-wsd-best (and exp-wsd-train --from, exp-fmnist-bench --from, exp-adamw-summary) read
 * their tables in fixed pieces (4096 bytes here): a longer "# command:" line came back in
 * pieces and a valid summary was refused as "not a summary table". Read whole now. */
Test(exp_harden, wsd_best_reads_a_table_with_a_long_command_line) {
    char dir[] = "/tmp/gdtest-wsdlong-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], numbers[128];
    snprintf(path, sizeof path, "%s/summary.tsv", dir);
    snprintf(numbers, sizeof numbers, "%s/numbers.tsv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("# command: exp-wsd-train --data /", f);
    for (int i = 0; i < 5000; i++) fputc('d', f);
    fputs("\n# optim: adamw:lr=0.003\narm\tbudget\tfrac\tbranch\tcost\tseed\tval_loss\n", f);
    for (int s = 0; s < 3; s++)
        fprintf(f, "cos\t1200\t0.1\t0\t1200\t%d\t%g\nwsd\t1200\t0.2\t960\t1200\t%d\t%g\n", s, 2.0 + 0.01 * s, s,
                1.9 + 0.01 * s);
    cr_assert_eq(fclose(f), 0);
    char *cmd;
    cr_assert(asprintf(&cmd, GD_BIN "exp-wsd-best --from %s --numbers %s", path, numbers) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    t_free(&r);
    free(cmd);
    char *wins = t_str(numbers, "wsdbest_wins");
    cr_expect_str_eq(wins, "3 of 3");
    free(wins);
    rm_rf(dir);
}

/* exp-wsd-train, exp-fmnist-bench and exp-d2l-train took --numbers (and --grid,
 * --summary) in a training run and ignored them: the run ended with exit 0 and no numbers. Refused at once now. */
Test(exp_harden, numbers_without_from_are_refused_before_training) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    char *cmd;
    cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s " GD_BIN "exp-fmnist-bench --n-train 50 --epochs 1 --seeds 1 "
                             "--hidden 4 --numbers %s/n.tsv",
                       dir, dir) > 0);
    t_assert_rejects(cmd, 2, "--numbers");
    free(cmd);
    cr_assert(asprintf(&cmd, GD_BIN "exp-wsd-train --layers 1 --heads 1 --width 8 --context 8 --batch-size 2 "
                             "--val-windows 4 --budgets 20 --warmup 2 --eval-every 10 --numbers %s/n.tsv",
                       dir) > 0);
    t_assert_rejects(cmd, 2, "--numbers");
    free(cmd);
    /* exp-d2l-train's summary-mode outputs in a training run, the same */
    cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s " GD_BIN "exp-d2l-train --out /dev/null --epochs 0.1 --train-n 10 "
                             "--test-n 20 --seeds 1 --scheds constant --numbers %s/n.tsv",
                       dir, dir) > 0);
    t_assert_rejects(cmd, 2, "--numbers");
    free(cmd);
    rm_rf(dir);
}

/* A value with a newline, refused by the program itself, was printed raw: a two-line
 * message (the probe's 'a\nb' cases). gd_usage_error escapes it: one line, exit 2. */
Test(exp_harden, a_refused_value_with_a_newline_stays_one_line) {
    char dir[64];
    tiny_fmnist(dir, 300, 50);
    const char *opt[] = {
        "exp-d2l-train --epochs 1 --train-n 64 --test-n 32 --seeds 1 --out $D/d.tsv --scheds 'a\nb'",
        "exp-eos-momentum --n 100 --hidden 8 --steps 10 --iters 3 --every 5 --loss 'a\nb'",
        "exp-fmnist-bench --epochs 1 --n-train 64 --seeds 1 --row 'a\nb'",
        "exp-fmnist-bench --epochs 1 --n-train 64 --seeds 1 --hidden 'a\nb'",
        "exp-fmnist-bench --epochs 1 --n-train 64 --seeds 1 --act 'a\nb'",
        "exp-fmnist-bench --epochs 1 --n-train 64 --seeds 1 --key-prefix 'a\nb'",
        "exp-goyal-scaling --batches 8 --epochs 2 --decay-epochs 1 --warmup-epochs 0 --seeds 1 --tag 'a\nb'",
        "exp-sc-train --lrs 0.1 --epochs 1 --seeds 1 --tag 'a\nb'",
        "exp-wsd-best --from /nonexistent.tsv --budget 40 --numbers $D/n.tsv --key-prefix 'a\nb'",
        "exp-wsd-train --budgets 20,40 --warmup 5 --key-prefix 'a\nb'",
        "exp-d2l-train --summary $D/s.tsv --numbers $D/n.tsv --runs 'a\nb'",   /* a path it cannot open */
    };
    const char *needle[] = {"--scheds", "--loss", "--row", "--hidden", "--act", "--key-prefix",
                            "--tag", "--tag", "--key-prefix", "--key-prefix", "--runs"};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "D=%s GD_FASHION_MNIST=%s " GD_BIN "%s", dir, dir, opt[i]) > 0);
        t_assert_rejects(cmd, 2, needle[i]);
        t_assert_rejects(cmd, 2, "a\\nb");
        free(cmd);
    }
    rm_rf(dir);
}

/* exp-goyal-scaling trained batches of 64 and 128 on a set of 10 images and exited 0
 * (the probe's fm-10-images case): the set must hold one minibatch of the largest. */
Test(exp_harden, goyal_refuses_fewer_images_than_the_largest_batch) {
    char dir[64], *cmd;
    tiny_fmnist(dir, 100, 20);
    cr_assert(asprintf(&cmd, GD_BIN "exp-goyal-scaling --data %s --dims 784-8-10 --batches 64,128 --base-batch 64 "
                             "--epochs 2 --decay-epochs 1 --seeds 1 --warmup-epochs 0", dir) > 0);
    t_assert_rejects(cmd, 2, "--batches");
    free(cmd);
    rm_rf(dir);
}

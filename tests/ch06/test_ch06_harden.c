/* test_ch06_harden.c -- Chapter 6's programs against what a careless or hostile user
 * gives them (issue 12): user text copied whole, outputs checked before any work, data
 * sizes checked against what the programs index, option values that overflowed a stack
 * array. Each test is one defect that the programs had: it failed before the fix.
 *
 * Fast: tiny Fashion-MNIST-shaped directories written here (100 images of 28x28, the
 * pixels a fixed pattern), hand-written run tables, or refusals before any work.
 */
#include "../common.h"
#include "../harden.h"   /* write_idx, tiny_fmnist, rm_rf */

#include <math.h>
#include <sys/stat.h>

#define OPT GD_BIN "ch06-optimizers"
#define DECAY GD_BIN "ch06-decay"
#define MOM GD_BIN "ch06-momentum"
#define WIDTH GD_BIN "ch06-width"
#define GPT GD_BIN "ch06-gpt"
#define SAMPLE GD_BIN "ch06-sample"


/* The values of column col of a table (a fresh array of *n). */
static double *column(const char *path, const char *col, int *n) {
    t_tsv *t = t_tsv_read(path);
    int c = t_tsv_col(t, col);
    double *v = malloc((size_t)(t->nrows + 1) * sizeof *v);
    for (int i = 0; i < t->nrows; i++) v[i] = t_tsv_num(t, i, c);
    *n = t->nrows;
    t_tsv_free(t);
    return v;
}

/* ch06-optimizers copied "--optim:lr=LR" into a 512-byte buffer: a longer spec lost its
 * ":lr=LR" and trained silently at the optimizer's default lr. A spec that means the same
 * (sgd:momentum=0.9 with 600 more zeros) must train exactly as the short one. */
Test(ch06_harden, optimizers_uses_a_long_optim_spec_whole) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    char zeros[601];
    memset(zeros, '0', 600);
    zeros[600] = '\0';
    const char *specs[2] = {"", zeros};
    double *loss[2];
    int n[2];
    for (int k = 0; k < 2; k++) {
        char *cmd, out[600];
        snprintf(out, sizeof out, "%s/opt%d.tsv", dir, k);
        cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s " OPT " --out %s --lr 0.5 --epochs 5 --train 50 --val 20 "
                                 "--seeds 1 --optim sgd:momentum=0.9%s",
                           dir, out, specs[k]) > 0);
        t_result r = t_run(cmd);
        cr_assert_eq(r.status, 0, "%.200s: exit %d: %s", cmd, r.status, r.err);
        t_free(&r);
        free(cmd);
        loss[k] = column(out, "train_loss", &n[k]);
    }
    cr_assert_eq(n[0], n[1]);
    for (int i = 0; i < n[0]; i++)
        cr_expect_eq(loss[0][i], loss[1][i], "row %d: the long spec trained to %g, the short one to %g", i, loss[1][i],
                     loss[0][i]);
    free(loss[0]), free(loss[1]);
    rm_rf(dir);
}

/* A ch06-decay --out table, by hand: Adam + L2 and AdamW, two lrs, weight decays 0 and
 * 0.1, one seed. */
static void decay_table(const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "# program: ch06-decay\noptim\tlr\tweight_decay\tseed\tdiverged_at\tval_loss\tval_acc\ttrain_loss\n");
    const char *o[2] = {"adam", "adamw"};
    for (int a = 0; a < 2; a++)
        for (int l = 0; l < 2; l++)
            for (int w = 0; w < 2; w++)
                fprintf(f, "%s\t%g\t%g\t0\t-1\t%g\t0.5\t%g\n", o[a], l ? 0.01 : 0.001, w ? 0.1 : 0.0,
                        1.0 + 0.1 * a + 0.01 * l + 0.001 * w, 0.9);
    cr_assert_eq(fclose(f), 0);
}

/* ch06-decay (and ch06-width, ch06-gpt) copied --from into a 4096-byte buffer: a longer
 * list of tables was cut, its last path became another file. It is read whole now. */
Test(ch06_harden, decay_reads_a_from_list_longer_than_4096_bytes) {
    char dir[] = "/tmp/gdtest-decay-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char table[128], numbers[128];
    snprintf(table, sizeof table, "%s/runs.tsv", dir);
    snprintf(numbers, sizeof numbers, "%s/numbers.tsv", dir);
    decay_table(table);
    /* the same table 200 times: about 6000 bytes, ending in the full path */
    size_t len = 200 * (strlen(table) + 1) + 1;
    char *list = malloc(len);
    list[0] = '\0';
    for (int i = 0; i < 200; i++) strcat(strcat(list, i ? "," : ""), table);
    cr_assert_gt(strlen(list), 4096);
    char *cmd;
    cr_assert(asprintf(&cmd, DECAY " --from %s --numbers %s", list, numbers) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "--from of %zu bytes: exit %d: %s", strlen(list), r.status, r.err);
    t_free(&r);
    char *adamw = t_str(numbers, "width_decay_adamw_lower");
    cr_expect_str_eq(adamw, "0 of 1");
    free(adamw);
    free(cmd), free(list);
    rm_rf(dir);
}

/* Too small a data set was found by gd_split after loading ("split: n_val = 5000, must be
 * in [0, 100)", exit 1), or not at all when the split fitted but the runs' images did
 * not. Now: one line naming the directory, the count and the options; exit 2. */
Test(ch06_harden, decay_groups_and_momentum_refuse_too_small_data_with_exit_2) {
    char dir[64];
    tiny_fmnist(dir, 100, 20);
    const char *cmds[] = {DECAY " --lrs 0.01 --wds 0 --optims adam --seeds 1 --steps 2 --train-n 10 --val-n 10",
                          GD_BIN "ch06-groups --seeds 1 --steps 2 --train-n 10 --val-n 10",
                          MOM " --curves /dev/null --numbers /dev/null --steps 10 --window 5 --train 10 --seeds 1",
                          OPT " --out /dev/null --lr 0.1 --epochs 1 --train 90 --val 20 --seeds 1"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "GD_FASHION_MNIST=%s %s", dir, cmds[i]) > 0);
        t_assert_rejects(cmd, 2, "too few");
        free(cmd);
    }
    rm_rf(dir);
}

/* ch06-momentum kept the final gaps of at most 64 seeds in a stack array but took
 * --seeds up to 1000: --seeds 65 wrote past it. Refused now, before loading anything. */
Test(ch06_harden, momentum_refuses_more_seeds_than_it_keeps) {
    t_assert_rejects(MOM " --curves /dev/null --numbers /dev/null --steps 10 --window 5 --train 10 --seeds 65", 2,
                     "--seeds");
}

/* An output that cannot be written (here a directory) was found after the data was loaded
 * (exit 1). GD_OPT_OUT refuses it at once: exit 2, one line naming the option. */
Test(ch06_harden, an_unwritable_output_is_refused_before_any_work) {
    t_assert_rejects(WIDTH " --widths 8 --lrs 0.01 --seeds 1 --steps 2 --out /tmp", 2, "--out");
    t_assert_rejects(DECAY " --from /dev/null --numbers /tmp", 2, "--numbers");
}

/* A small GPT checkpoint of ch06-gpt for ch06-sample (a few CPU-seconds at most). */
static void tiny_model(const char *path) {
    char *cmd;
    cr_assert(asprintf(&cmd, GPT " --steps 1 --layers 1 --heads 1 --width 8 --context 8 --seeds 1 --lr 0.001 "
                                 "--val-windows 1 --save %s --save-lr 0.001",
                       path) > 0);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
}

/* ch06-sample wrote --out through its own temp + rename: a symlink at the path was
 * replaced by a regular file. It uses out.h's writer now: the link's target is written,
 * the link kept. And a --key whose suffixed keys did not fit a 128-byte buffer was cut
 * silently; it is refused now. */
Test(ch06_harden, sample_writes_through_a_symlink_and_refuses_a_long_key) {
    char dir[] = "/tmp/gdtest-sample-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char model[128], target[128], link[128], *cmd;
    snprintf(model, sizeof model, "%s/model.bin", dir);
    snprintf(target, sizeof target, "%s/target.txt", dir);
    snprintf(link, sizeof link, "%s/link.txt", dir);
    tiny_model(model);
    FILE *f = fopen(target, "w");
    fputs("old\n", f);
    fclose(f);
    cr_assert_eq(symlink("target.txt", link), 0);
    cr_assert(asprintf(&cmd, SAMPLE " --model %s --tokens 20 --out %s", model, link) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "--out: the symlink was replaced by a regular file");
    char *text = t_slurp(target);
    cr_expect(text && strcmp(text, "old\n") != 0 && strlen(text) >= 20, "--out: the link's target was not written");
    free(text);

    char key[201];
    memset(key, 'k', 200);
    key[200] = '\0';
    cr_assert(asprintf(&cmd, SAMPLE " --model %s --tokens 20 --numbers %s/n.tsv --key %s", model, dir, key) > 0);
    t_assert_rejects(cmd, 2, "--key");
    free(cmd);
    char n_path[160];
    snprintf(n_path, sizeof n_path, "%s/n.tsv", dir);
    cr_expect_neq(access(n_path, F_OK), 0, "a refused --key wrote --numbers");
    rm_rf(dir);
}

/* ch06-width --from kept at most 64 widths (and lrs, seeds), dropped the rest silently and
 * then searched for a dropped one past the end of its array: a segfault with 65 widths.
 * Refused now: one line, exit 2. */
Test(ch06_harden, width_refuses_more_widths_than_it_keeps) {
    char dir[] = "/tmp/gdtest-width-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/runs.tsv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "param\twidth\tlr\tseed\tdiverged_at\tloss\n");
    for (int w = 0; w < 65; w++)
        for (int l = 0; l < 2; l++) fprintf(f, "sp\t%d\t%g\t0\t-1\t1.5\n", 8 + w, l ? 0.01 : 0.001);
    cr_assert_eq(fclose(f), 0);
    char *cmd;
    cr_assert(asprintf(&cmd, WIDTH " --from %s --numbers %s/n.tsv", path, dir) > 0);
    t_assert_rejects(cmd, 2, "more than 64 widths");
    free(cmd);
    rm_rf(dir);
}

/* ch06-optimizers copied the fields of its --defaults table into fixed buffers (a library
 * name into 64 bytes, a source into 256): longer ones were cut silently, a cut name could
 * be another library's. Refused now, naming the line. */
Test(ch06_harden, optimizers_refuses_a_defaults_field_that_would_be_cut) {
    char dir[] = "/tmp/gdtest-optdef-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char runs[128], defs[128];
    snprintf(runs, sizeof runs, "%s/runs.tsv", dir);
    snprintf(defs, sizeof defs, "%s/defaults.tsv", dir);
    FILE *f = fopen(runs, "w");
    cr_assert_not_null(f);
    fprintf(f, "name\tscale\tlr\tseed\tstatus\tdiverged_at\ttrain_loss\tval_loss\tval_acc\tsteps\n");
    for (int i = 0; i < 3; i++) fprintf(f, "sgd\t1\t%g\t0\tok\t-1\t1.0\t%g\t0.5\t10\n", 0.01 * (i + 1), 1.0 + 0.1 * (i != 1));
    cr_assert_eq(fclose(f), 0);
    f = fopen(defs, "w");
    cr_assert_not_null(f);
    fprintf(f, "optimizer\tlibrary\tlr\tsource\nsgd\t");
    for (int i = 0; i < 100; i++) fputc('L', f);
    fprintf(f, "\t0.01\thttps://example.org/\n");
    cr_assert_eq(fclose(f), 0);
    char *cmd;
    cr_assert(asprintf(&cmd, OPT " --from %s --defaults %s --numbers %s/n.tsv", runs, defs, dir) > 0);
    t_assert_rejects(cmd, 2, "line 2: a field too long");
    free(cmd);
    rm_rf(dir);
}

/* ch06-gpt --from built its grid table (one row per lr, one column per arm) in 8 KB and
 * stopped adding rows near the end: with 16 arms and 64 lrs the table in --numbers
 * silently ended after about 20 of them. It is whole now. */
Test(ch06_harden, gpt_grid_table_has_every_lr) {
    char dir[] = "/tmp/gdtest-gptgrid-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char runs[128], numbers[128], arms[256] = "";
    snprintf(runs, sizeof runs, "%s/summary.tsv", dir);
    snprintf(numbers, sizeof numbers, "%s/numbers.tsv", dir);
    FILE *f = fopen(runs, "w");
    cr_assert_not_null(f);
    fprintf(f, "arm\tbeta2\tbatch\tsteps\tlr\tseed\tfirst_loss\tfinal_loss\tval_loss\tunigram\tpeak_loss\tspiked_at\t"
               "stopped_at\n");
    for (int a = 0; a < 16; a++) {
        snprintf(arms + strlen(arms), sizeof arms - strlen(arms), "%sarm%d", a ? "," : "", a);
        for (int l = 0; l < 64; l++)
            fprintf(f, "arm%d\t0.95\t%d\t200\t%.6g\t0\t4.6\t2.5\t%g\t3.2\t4.7\t-1\t-1\n", a, 8 * (a + 1),
                    1e-4 * pow(1.1, l), 2.4 + 0.001 * abs(l - 30));
    }
    cr_assert_eq(fclose(f), 0);
    char *cmd;
    cr_assert(asprintf(&cmd, GPT " --from %s --arms %s --numbers %s", runs, arms, numbers) > 0);
    t_result r = t_run(cmd);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    char *table = t_str(numbers, "gpt_table");
    int rows = 0;
    for (const char *p = table; (p = strstr(p, "\\n")); p += 2) rows++;
    cr_expect_eq(rows, 2 + 64, "the grid table has %d lines (2 header lines + 64 lrs expected)", rows);
    free(table);
    rm_rf(dir);
}

/* ch06-optimizers wrote --name as a field of its run table: a name with a space became
 * two columns, a table its own --from then refused ("11 fields, expected 10"). Refused
 * now, before any work. */
Test(ch06_harden, optimizers_refuses_a_name_that_would_split_its_table) {
    t_assert_rejects(OPT " --name 'my sgd' --out /dev/null --lr 0.1 --epochs 0.01 --seeds 1", 2, "--name");
}

/* ch06-decay and ch06-width --from an empty table (or a list of commas) wrote a numbers
 * table with nothing in it and exit 0; ch06-optimizers took a --defaults table without
 * its header line as no defaults. Refused now: exit 2. */
Test(ch06_harden, summaries_refuse_tables_without_runs) {
    char dir[] = "/tmp/gdtest-empty-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], *cmd;
    snprintf(path, sizeof path, "%s/empty.tsv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("# a comment and nothing else\n", f);
    cr_assert_eq(fclose(f), 0);
    cr_assert(asprintf(&cmd, DECAY " --from %s --numbers %s/n.tsv", path, dir) > 0);
    t_assert_rejects(cmd, 2, "no runs");
    free(cmd);
    cr_assert(asprintf(&cmd, WIDTH " --from %s --numbers %s/n.tsv", path, dir) > 0);
    t_assert_rejects(cmd, 2, "no runs");
    free(cmd);
    rm_rf(dir);
}

/* The --from readers (ch06-decay, -width, -optimizers, -gpt) read lines into 512- or
 * 1024-byte buffers: a longer comment line (a table's "# command:" with long paths) came
 * back in pieces, the second taken for the header, and a valid table was refused. Lines
 * are read whole now. */
Test(ch06_harden, decay_reads_a_table_with_a_long_comment_line) {
    char dir[] = "/tmp/gdtest-longline-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char plain[128], long_[128], n1[128], n2[128];
    snprintf(plain, sizeof plain, "%s/plain.tsv", dir);
    snprintf(long_, sizeof long_, "%s/long.tsv", dir);
    snprintf(n1, sizeof n1, "%s/n1.tsv", dir);
    snprintf(n2, sizeof n2, "%s/n2.tsv", dir);
    decay_table(plain);
    char *text = t_slurp(plain);
    FILE *f = fopen(long_, "w");
    cr_assert_not_null(f);
    fputs("# command: ch06-decay --data /", f);
    for (int i = 0; i < 2000; i++) fputc('d', f);
    fputc('\n', f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    free(text);
    const char *in[2] = {plain, long_}, *out[2] = {n1, n2};
    for (int k = 0; k < 2; k++) {
        char *cmd;
        cr_assert(asprintf(&cmd, DECAY " --from %s --numbers %s", in[k], out[k]) > 0);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
        t_free(&r);
        free(cmd);
    }
    char *a = t_str(n1, "width_decay_diff"), *b = t_str(n2, "width_decay_diff");
    cr_expect_str_eq(a, b);
    free(a), free(b);
    rm_rf(dir);
}

/* ch06-gpt took --pairs (and --arms) in a training run, trained, and only then found that
 * one arm makes no pair (exit 1 after all the work). Refused at once now. */
Test(ch06_harden, gpt_refuses_pairs_without_from_before_training) {
    t_assert_rejects(GPT " --pairs a:b --steps 1 --layers 1 --heads 1 --width 8 --context 8 --seeds 1 "
                         "--val-windows 1 --numbers /dev/null",
                     2, "--pairs");
}

/* A value with a newline, refused by the program itself, was printed raw: a two-line
 * message (the probe's 'a\nb' cases). gd_usage_error escapes it: one line, exit 2. */
Test(ch06_harden, a_refused_value_with_a_newline_stays_one_line) {
    char dir[64];
    tiny_fmnist(dir, 200, 50);
    const char *opt[] = {
        DECAY " --steps 5 --train-n 64 --val-n 64 --seeds 1 --optims 'a\nb'",
        GPT " --steps 3 --seeds 1 --arm 'a\nb'",
        GPT " --steps 3 --seeds 1 --key-prefix 'a\nb'",
        OPT " --seeds 1 --epochs 1 --train 100 --val 50 --out $D/o.tsv --name 'a\nb'",
        SAMPLE " --model /nonexistent.bin --key 'a\nb'",
        WIDTH " --steps 5 --seeds 1 --param 'a\nb'",
    };
    const char *needle[] = {"--optims", "--arm", "--key-prefix", "--name", "--key", "--param"};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++) {
        char *cmd;
        cr_assert(asprintf(&cmd, "D=%s GD_FASHION_MNIST=%s %s", dir, dir, opt[i]) > 0);
        t_assert_rejects(cmd, 2, needle[i]);
        t_assert_rejects(cmd, 2, "a\\nb");   /* the newline shown escaped */
        free(cmd);
    }
    rm_rf(dir);
}

/* ch06-width trained batches of 64 on a set of 10 images and exited 0 (the probe's
 * fm-10-images case): it must hold one minibatch of --batch-size. */
Test(ch06_harden, width_refuses_fewer_images_than_a_batch) {
    char dir[64], *cmd;
    tiny_fmnist(dir, 10, 10);
    cr_assert(asprintf(&cmd, WIDTH " --data %s --widths 16 --lrs 0.001 --steps 5 --tail 2 --seeds 1", dir) > 0);
    t_assert_rejects(cmd, 2, "--batch-size");
    free(cmd);
    rm_rf(dir);
}

/* test_programs.c -- what every program owes its reader: --help, and one clear line with
 * a non-zero exit for a bad option or a bad data file. Programs are found in the build
 * directory, so a new chapter's programs are covered without editing this file. */
#include "../common.h"

#include <dirent.h>
#include <zlib.h>

#define FMNIST "/usr/share/datasets/fashion-mnist"

/* Call f(path) for every program in GD_BIN except the test runner itself. */
static int each_program(void (*f)(const char *path)) {
    DIR *d = opendir(GD_BIN);
    cr_assert_not_null(d, "no %s: build the programs first", GD_BIN);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "gdtest") == 0) continue;
        char path[512];
        snprintf(path, sizeof path, GD_BIN "%s", e->d_name);
        if (strchr(e->d_name, '.') || access(path, X_OK) != 0) continue; /* NAME.d files */
        f(path);
        n++;
    }
    closedir(d);
    return n;
}

static void check_help(const char *prog) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --help", prog);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s --help: exit %d", prog, r.status);
    cr_expect(strstr(r.out, "usage:") != NULL, "%s --help prints no usage: %s", prog, r.out);
    t_free(&r);
}

static void check_unknown_option(const char *prog) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --no-such-option 1", prog);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2, "%s --no-such-option: exit %d", prog, r.status);
    cr_expect_eq(t_lines(r.err), 1, "%s: one line on stderr, got: %s", prog, r.err);
    t_free(&r);
}

Test(tools_programs, every_program_has_help) { cr_expect_gt(each_program(check_help), 3); }

Test(tools_programs, every_program_rejects_unknown_options) { each_program(check_unknown_option); }

/* A data directory with the four real files linked in, one of them replaced. */
static char dir[64];

static void fake_dir(const char *replace, const char *bytes, size_t n, int gzip) {
    strcpy(dir, "/tmp/gdtest-fmnist-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    const char *names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        char from[256], to[256];
        snprintf(from, sizeof from, FMNIST "/%s", names[i]);
        snprintf(to, sizeof to, "%s/%s", dir, names[i]);
        if (strcmp(names[i], replace) != 0) {
            cr_assert_eq(symlink(from, to), 0);
        } else if (bytes && gzip) {
            gzFile g = gzopen(to, "wb");
            gzwrite(g, bytes, (unsigned)n);
            gzclose(g);
        } else if (bytes) {
            FILE *f = fopen(to, "wb");
            fwrite(bytes, 1, n, f);
            fclose(f);
        }
    }
}

static void rm_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* The benchmark is today's program that reads Fashion-MNIST: each broken file gives one
 * line naming the file and the problem, a non-zero exit, and no crash. */
static void expect_data_error(const char *file, const char *problem) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, GD_BIN "bench-mlp --no-torch --reps 1 --data %s", dir);
    t_result r = t_run(cmd);
    cr_expect(r.status != 0 && r.status < 128, "%s: exit %d", file, r.status);
    cr_expect_eq(t_lines(r.err), 1, "one line, got: %s", r.err);
    cr_expect(strstr(r.err, file) && strstr(r.err, problem), "'%s' and '%s' in: %s", file, problem, r.err);
    t_free(&r);
    rm_dir();
}

Test(tools_programs, bad_data_files_are_named) {
    fake_dir("t10k-labels-idx1-ubyte.gz", NULL, 0, 0);
    expect_data_error("t10k-labels-idx1-ubyte", "cannot open");

    /* wrong magic: a labels header where the images should be */
    const unsigned char labels_hdr[] = {0, 0, 8, 1, 0, 0, 0, 1, 3};
    fake_dir("train-images-idx3-ubyte.gz", (const char *)labels_hdr, sizeof labels_hdr, 1);
    expect_data_error("train-images-idx3-ubyte.gz", "magic");

    /* truncated gzip: the first 64 KiB of the real file */
    char *head = malloc(65536);
    FILE *f = fopen(FMNIST "/t10k-images-idx3-ubyte.gz", "rb");
    cr_assert_eq(fread(head, 1, 65536, f), 65536u);
    fclose(f);
    fake_dir("t10k-images-idx3-ubyte.gz", head, 65536, 0);
    free(head);
    expect_data_error("t10k-images-idx3-ubyte.gz", "truncated");

    /* count mismatch: 3 test labels for 10000 test images */
    const unsigned char three[] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    fake_dir("t10k-labels-idx1-ubyte.gz", (const char *)three, sizeof three, 1);
    expect_data_error("t10k-labels-idx1-ubyte.gz", "mismatch");
}

/* ------------------------------------------------------------------------------------
 * Data that is well-formed but not what a program needs (issue 12): every program that
 * reads Fashion-MNIST checks the counts it uses against what it loaded, and the loader
 * refuses images that are not 28x28. Each case: exit 2 (the user's data), one line on
 * stderr naming the file or directory and the problem, and no output file, not even a
 * temporary one. */

#include "small_fmnist.h"

#include <glob.h>

/* Every program that reads Fashion-MNIST, with options that make it do little; "%s" is
 * the output file it would write (those that write one). small: 1 if 100 training and
 * 20 test images are too few for it as run here (all of them, with their defaults). */
static const struct {
    const char *prog, *args;
    int small;
} data_progs[] = {
    {"ch02-regimes", "--steps 5 --out %s", 1},          /* 5000 + 1000 in its split */
    {"ch03-rangetest", "--num-it 5 --out %s", 1},       /* 5000 + 2000 */
    {"ch03-sharpness", "--steps 2 --out %s", 1},        /* a full batch of 1000 */
    {"ch04-train", "--epochs 0.01 --out %s", 1},        /* 10000 + 5000 */
    {"ch05-adamsteps", "--steps 3 --out %s", 1},        /* a batch of 128 */
    {"ch05-scaling", "--epochs 2 --out %s", 1},         /* a batch of 128 x 16 */
    {"ch05-vnoise", "--steps 3 --out %s", 1},           /* a batch of 128 */
    {"ch05-warmup", "--steps 3 --seeds 1 --curves %s", 1}, /* dead units on 1000 test images */
    {"bench-mlp", "--no-torch --reps 1", 1},            /* a batch of 128 */
    {"bench-lenet", "--no-torch --reps 1", 1},          /* a batch of 256 */
};
#define N_DATA_PROGS (int)(sizeof data_progs / sizeof *data_progs)

/* Run data_progs[i] on the data directory `data`, writing into the directory `outdir`;
 * it must refuse with exit 2, one line holding needle1 and needle2, and write nothing. */
static void expect_data_refused(int i, const char *data, const char *outdir, const char *needle1,
                                const char *needle2) {
    char out[256], args[512], *cmd;
    snprintf(out, sizeof out, "%s/out.tsv", outdir);
    snprintf(args, sizeof args, data_progs[i].args, out);
    cr_assert(asprintf(&cmd, GD_BIN "%s --data %s %s", data_progs[i].prog, data, args) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 2, "%s: exit %d, expected 2 (stderr: %s)", cmd, r.status, r.err);
    cr_expect_eq(t_lines(r.err), 1, "%s: one line on stderr, got: %s", cmd, r.err);
    cr_expect(strstr(r.err, needle1) && strstr(r.err, needle2), "%s: '%s' and '%s' in: %s", cmd, needle1, needle2,
              r.err);
    cr_expect_neq(access(out, F_OK), 0, "%s: wrote %s", cmd, out);
    char pattern[300];
    snprintf(pattern, sizeof pattern, "%s.tmp.*", out);
    glob_t g;
    cr_expect_neq(glob(pattern, 0, NULL, &g), 0, "%s: left %s", cmd, pattern);
    globfree(&g);
    t_free(&r);
    free(cmd);
}

/* 100 training and 20 test images: each program that needs more says so and stops
 * (before: ch02-regimes and ch03-rangetest crashed, ch05-warmup overflowed the heap in
 * dead_units, ch03-sharpness trained on fewer images than --n without a word, the
 * benchmarks freed an invalid pointer). */
Test(tools_programs, too_few_images_are_refused, .timeout = 120) {
    char *data = t_small_fmnist(100, 20, 28, 28), *outdir = t_tmpdir();
    for (int i = 0; i < N_DATA_PROGS; i++)
        if (data_progs[i].small) expect_data_refused(i, data, outdir, data, "images, too few");
    t_small_fmnist_rm(data);
    t_small_fmnist_rm(outdir);
}

/* Images of 1x1 pixels are not Fashion-MNIST (before: ch05-vnoise wrote numbers computed
 * from uninitialised memory, the others read past the pixels). */
Test(tools_programs, images_not_28x28_are_refused, .timeout = 120) {
    char *data = t_small_fmnist(100, 20, 1, 1), *outdir = t_tmpdir();
    for (int i = 0; i < N_DATA_PROGS; i++) expect_data_refused(i, data, outdir, "train-images-idx3-ubyte", "28x28");
    t_small_fmnist_rm(data);
    t_small_fmnist_rm(outdir);
}

/* A data directory that does not exist is the user's mistake too: exit 2 (before: 1). */
Test(tools_programs, missing_data_directory_exits_2, .timeout = 120) {
    char *outdir = t_tmpdir();
    for (int i = 0; i < N_DATA_PROGS; i++)
        expect_data_refused(i, "/nonexistent-gdtest-dir", outdir, "/nonexistent-gdtest-dir/train-images",
                            "cannot open");
    t_small_fmnist_rm(outdir);
}

/* The checks refuse only what does not fit: small data that covers what a run asks for
 * is used (the regimes' split of 80 + 20 images; vnoise's batches of 16). */
Test(tools_programs, small_data_that_fits_is_used, .timeout = 120) {
    char *data = t_small_fmnist(100, 20, 28, 28);
    char *cmd;
    cr_assert(asprintf(&cmd, GD_BIN "ch02-regimes --data %s --train-size 80 --val-size 20 --steps 5 --lr 0.1 "
                       "--seeds 1 --out %s/regimes.tsv", data, data) > 0);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    cr_assert(asprintf(&cmd, GD_BIN "ch05-vnoise --data %s --steps 3 --batch-size 16 --out %s/vnoise.tsv", data, data) > 0);
    r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s: exit %d: %s", cmd, r.status, r.err);
    t_free(&r);
    free(cmd);
    t_small_fmnist_rm(data);
}

/* A message that quotes the user's text stays one line when the text holds a newline:
 * it goes through gd_seterr, which escapes control characters (before: two lines). */
Test(tools_programs, quoted_text_with_a_newline_stays_one_line) {
    const char *cmds[] = {
        GD_BIN "ch03-sharpness --experiment 'a\nb'",
        GD_BIN "ch03-summary --sweep '/nonexistent\nsweep.tsv'",
        GD_BIN "ch05-sparse --optim 'sgd\nx'",
        GD_BIN "ch03-rangetest --optim 'sgd:lr=1\nx'",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        t_result r = t_run(cmds[i]);
        cr_expect_eq(r.status, 2, "%s: exit %d", cmds[i], r.status);
        cr_expect_eq(t_lines(r.err), 1, "%s: one line, got: %s", cmds[i], r.err);
        t_free(&r);
    }
}

/* An output that cannot be written (a path under a regular file) is refused at once, by
 * the option parser, before the data is read or anything computed (GD_OPT_OUT; before,
 * the programs trained first and failed at the end with exit 1). The data directory
 * given does not exist, so a program that looked at the data first would say so. */
Test(tools_programs, unwritable_output_refused_before_any_work, .timeout = 60) {
    char *outdir = t_tmpdir(), file[300], out[400];
    snprintf(file, sizeof file, "%s/file", outdir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(out, sizeof out, "%s/out.tsv", file);
    char *cmds[N_DATA_PROGS + 16];
    int n = 0;
    for (int i = 0; i < N_DATA_PROGS; i++) {
        if (!strstr(data_progs[i].args, "%s")) continue;
        char args[512];
        snprintf(args, sizeof args, data_progs[i].args, out);
        cr_assert(asprintf(&cmds[n++], GD_BIN "%s --data /nonexistent-gdtest-dir %s", data_progs[i].prog, args) > 0);
    }
    const char *others[] = {"ch01-quadratic --out %s", "ch01-nonconvex --numbers %s", "ch04-noise --out %s",
                            "ch05-sparse --numbers %s", "ch02-steps --out %s /nonexistent.tsv",
                            "ch03-summary --sweep /nonexistent.tsv --curves %s",
                            "ch04-summary --numbers %s /nonexistent.tsv",
                            /* options after the tables are options too */
                            "ch02-steps /nonexistent.tsv --numbers %s", "ch04-summary /nonexistent.tsv --out %s"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char args[512];
        snprintf(args, sizeof args, others[i], out);
        cr_assert(asprintf(&cmds[n++], GD_BIN "%s", args) > 0);
    }
    for (int i = 0; i < n; i++) {
        t_result r = t_run(cmds[i]);
        cr_expect_eq(r.status, 2, "%s: exit %d (stderr: %s)", cmds[i], r.status, r.err);
        cr_expect_eq(t_lines(r.err), 1, "%s: one line, got: %s", cmds[i], r.err);
        cr_expect(strstr(r.err, ": --") && !strstr(r.err, "nonexistent"), "%s: not refused for its output: %s",
                  cmds[i], r.err);
        t_free(&r);
        free(cmds[i]);
    }
    t_small_fmnist_rm(outdir);
}

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

/* test_data.c -- Fashion-MNIST reader, splits and batches (lib/data.c).
 *
 * Three tests read the real dataset (shapes, counts, known values, peak memory); the
 * rest use small IDX files written into a fresh temporary directory, one per test
 * (Criterion runs every test in its own process, so setenv and getrusage are private).
 */
#include <criterion/criterion.h>

#include "data.h"
#include "err.h"
#include "rng.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------------------------
 * A fresh temporary directory per test, and IDX files written into it. */

static char tmp[64];

static void tmp_init(void) {
    snprintf(tmp, sizeof tmp, "/tmp/gd-test-data-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp), "mkdtemp failed");
}

static void tmp_fini(void) {
    DIR *d = opendir(tmp);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    rmdir(tmp);
}

/* tmp/name; a few calls can be alive at once. */
static const char *tmp_path(const char *name) {
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmp, name);
    return p;
}

static void write_bytes(const char *path, int gz, const void *bytes, size_t len) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f, "gzopen %s", path);
        cr_assert_eq(gzwrite(f, bytes, (unsigned)len), (int)len);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "fopen %s", path);
        cr_assert_eq(fwrite(bytes, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
    }
}

/* An IDX file: magic, ndim big-endian sizes, the data, then `extra` more bytes (0xAB). */
static void write_idx(const char *path, int gz, uint32_t magic, const uint32_t *size,
                      int ndim, const uint8_t *data, size_t len, size_t extra) {
    size_t head = 4 + 4 * (size_t)ndim, total = head + len + extra;
    uint8_t *b = malloc(total);
    cr_assert_not_null(b);
    uint32_t word[4] = {magic};
    for (int d = 0; d < ndim; d++) word[1 + d] = size[d];
    for (int w = 0; w < 1 + ndim; w++)
        for (int k = 0; k < 4; k++) b[4 * w + k] = (uint8_t)(word[w] >> (24 - 8 * k));
    if (len) memcpy(b + head, data, len);
    memset(b + head + len, 0xAB, extra);
    write_bytes(path, gz, b, total);
    free(b);
}

/* The synthetic data: pixel j of image i, label i % 10. */
static uint8_t pix(int i, int j) {
    return (uint8_t)((i * 2654435761u + j * 40503u) >> 13);
}

static void write_images(const char *path, int gz, int n, int rows, int cols,
                         size_t extra) {
    size_t D = (size_t)rows * cols;
    uint8_t *p = malloc((size_t)n * D);
    cr_assert_not_null(p);
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++) p[(size_t)i * D + j] = pix(i, (int)j);
    write_idx(path, gz, 2051, (uint32_t[]){n, rows, cols}, 3, p, (size_t)n * D, extra);
    free(p);
}

static void write_labels(const char *path, int gz, int n, size_t extra) {
    uint8_t *l = malloc((size_t)n);
    cr_assert_not_null(l);
    for (int i = 0; i < n; i++) l[i] = (uint8_t)(i % 10);
    write_idx(path, gz, 2049, (uint32_t[]){n}, 1, l, (size_t)n, extra);
    free(l);
}

/* Four small Fashion-MNIST files in tmp: train n_train images, test n_test, 28x28. */
static void write_fmnist(int gz, int n_train, int n_test) {
    const char *ext = gz ? ".gz" : "";
    char name[64];
    snprintf(name, sizeof name, "train-images-idx3-ubyte%s", ext);
    write_images(tmp_path(name), gz, n_train, 28, 28, 0);
    snprintf(name, sizeof name, "train-labels-idx1-ubyte%s", ext);
    write_labels(tmp_path(name), gz, n_train, 0);
    snprintf(name, sizeof name, "t10k-images-idx3-ubyte%s", ext);
    write_images(tmp_path(name), gz, n_test, 28, 28, 0);
    snprintf(name, sizeof name, "t10k-labels-idx1-ubyte%s", ext);
    write_labels(tmp_path(name), gz, n_test, 0);
}

/* The load failed cleanly: -1, ds zeroed, one line naming the file and the problem. */
static void expect_fail(int rc, const gd_images *ds, const char *file, const char *word) {
    const char *e = gd_error();
    cr_assert_eq(rc, -1, "load succeeded, expected an error about %s", word);
    cr_assert(ds->pixels == NULL && ds->labels == NULL && ds->n == 0, "ds not zeroed");
    cr_assert_not_null(strstr(e, file), "error \"%s\" does not name %s", e, file);
    cr_assert_not_null(strstr(e, word), "error \"%s\" does not say \"%s\"", e, word);
    cr_assert_null(strchr(e, '\n'), "error \"%s\" is more than one line", e);
}

/* ------------------------------------------------------------------------------------
 * The real dataset. Reference values from the raw bytes, independently of this code:
 *   python3 -c 'import gzip; b = gzip.open("train-images-idx3-ubyte.gz").read()[16:];
 *               print(b[14*28+25], b[14*28+12], b[59999*784+14*28+6], sum(b))'
 *   -> 255 237 144 3431114169; likewise t10k: image 0 pixel (14,13) = 136, sum 573469082;
 *   labels: gzip.open(...labels...).read()[8:] -> train [9, 0, 0, 3, 0, ...] last 5,
 *   t10k [9, 2, 1, 1, 6, ...] last 5; collections.Counter -> 6000 (1000) per class. */

static uint64_t pixel_sum(const gd_images *ds) {
    uint64_t s = 0;
    for (size_t i = 0; i < (size_t)ds->n * ds->dim; i++) s += ds->pixels[i];
    return s;
}

Test(lib_data, fmnist_real_files) {
    gd_images train, test;
    int rc = gd_fmnist_load(&train, &test, NULL);
    cr_assert_eq(rc, 0, "%s", gd_error());

    cr_assert_eq(train.n, 60000);
    cr_assert_eq(test.n, 10000);
    cr_assert(train.rows == 28 && train.cols == 28 && train.dim == 784);
    cr_assert(test.rows == 28 && test.cols == 28 && test.dim == 784);

    int count[2][GD_FMNIST_CLASSES] = {{0}};
    for (int i = 0; i < train.n; i++) count[0][train.labels[i]]++;
    for (int i = 0; i < test.n; i++) count[1][test.labels[i]]++;
    for (int k = 0; k < GD_FMNIST_CLASSES; k++) {
        cr_assert_eq(count[0][k], 6000, "train class %d: %d", k, count[0][k]);
        cr_assert_eq(count[1][k], 1000, "test class %d: %d", k, count[1][k]);
    }

    const uint8_t train_first[5] = {9, 0, 0, 3, 0}, test_first[5] = {9, 2, 1, 1, 6};
    cr_assert_arr_eq(train.labels, train_first, 5);
    cr_assert_arr_eq(test.labels, test_first, 5);
    cr_assert_eq(train.labels[59999], 5);
    cr_assert_eq(test.labels[9999], 5);
    cr_assert_eq(train.pixels[14 * 28 + 25], 255);
    cr_assert_eq(train.pixels[14 * 28 + 12], 237);
    cr_assert_eq(train.pixels[59999 * 784 + 14 * 28 + 6], 144);
    cr_assert_eq(test.pixels[14 * 28 + 13], 136);
    cr_assert_eq(pixel_sum(&train), 3431114169ull);
    cr_assert_eq(pixel_sum(&test), 573469082ull);

    /* The same values through a batch: X = pixel / 255, y = label. */
    float X[2 * 784];
    int y[2];
    gd_images_batch(X, y, &train, (const int[]){59999, 0}, 2);
    cr_assert(y[0] == 5 && y[1] == 9);
    cr_assert_eq(X[14 * 28 + 6], 144 / 255.0f);
    cr_assert_eq(X[784 + 14 * 28 + 25], 1.0f);

    gd_images_free(&train);
    gd_images_free(&test);
    cr_assert(train.pixels == NULL && train.n == 0, "free does not zero");
}

/* data.h promises uint8 in memory (55 MB for both sets) and no float copy. */
Test(lib_data, fmnist_peak_rss) {
    gd_images train, test;
    cr_assert_eq(gd_fmnist_load(&train, &test, NULL), 0, "%s", gd_error());
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_kb = ru.ru_maxrss;                          /* kilobytes on Linux */
    gd_images_free(&train);
    gd_images_free(&test);
    cr_log_info("peak RSS with train and test loaded: %ld kB", peak_kb);
    cr_assert_leq(peak_kb, 80000000 / 1024, "peak RSS %ld kB > 80 MB (under valgrind, "
                  "expect this test to fail)", peak_kb);
}

/* A real .gz cut after 1 MB: how much was expected and how much arrived. */
/* The gzipped file NAME of the real dataset: in $GD_FASHION_MNIST when it holds the
 * gzipped files, else in the Debian package's directory (make points the environment at
 * its plain, unpacked copy). */
static void real_gz(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s", gd_fmnist_dir(NULL), name);
    if (access(path, R_OK) != 0) snprintf(path, size, "%s/%s", GD_FMNIST_DEFAULT_DIR, name);
}

Test(lib_data, real_truncated_gzip, .init = tmp_init, .fini = tmp_fini) {
    char src[512];
    real_gz(src, sizeof src, "t10k-images-idx3-ubyte.gz");
    FILE *in = fopen(src, "rb");
    cr_assert_not_null(in, "%s", src);
    static uint8_t head[1000000];
    cr_assert_eq(fread(head, 1, sizeof head, in), sizeof head);
    fclose(in);
    const char *cut = tmp_path("t10k-images-idx3-ubyte.gz");
    write_bytes(cut, 0, head, sizeof head);

    char labels[512];
    real_gz(labels, sizeof labels, "t10k-labels-idx1-ubyte.gz");
    gd_images ds;
    int rc = gd_idx_load(&ds, cut, labels);
    expect_fail(rc, &ds, cut, "truncated: expected 7840000 bytes of pixels, got ");
    cr_assert_not_null(strstr(gd_error(), "gzip stream is cut short"), "%s", gd_error());
}

/* ------------------------------------------------------------------------------------
 * Where the files are: dir argument, else $GD_FASHION_MNIST, else the default. */

Test(lib_data, fmnist_dir_order) {
    unsetenv(GD_FMNIST_ENV);
    cr_assert_str_eq(gd_fmnist_dir(NULL), GD_FMNIST_DEFAULT_DIR);
    cr_assert_str_eq(gd_fmnist_dir(""), GD_FMNIST_DEFAULT_DIR);
    setenv(GD_FMNIST_ENV, "", 1);
    cr_assert_str_eq(gd_fmnist_dir(NULL), GD_FMNIST_DEFAULT_DIR);
    setenv(GD_FMNIST_ENV, "/from/env", 1);
    cr_assert_str_eq(gd_fmnist_dir(NULL), "/from/env");
    cr_assert_str_eq(gd_fmnist_dir("/from/arg"), "/from/arg");
}

Test(lib_data, fmnist_env_override, .init = tmp_init, .fini = tmp_fini) {
    write_fmnist(1, 12, 7);
    setenv(GD_FMNIST_ENV, tmp, 1);
    gd_images train, test;
    cr_assert_eq(gd_fmnist_load(&train, &test, NULL), 0, "%s", gd_error());
    cr_assert(train.n == 12 && test.n == 7 && train.dim == 784 && test.dim == 784);
    cr_assert_eq(train.pixels[5 * 784 + 100], pix(5, 100));
    cr_assert_eq(train.labels[11], 1);
    gd_images_free(&train);
    gd_images_free(&test);
}

Test(lib_data, fmnist_dir_argument_wins, .init = tmp_init, .fini = tmp_fini) {
    write_fmnist(1, 3, 2);
    setenv(GD_FMNIST_ENV, "/nonexistent-gd-dir", 1);
    gd_images train, test;
    cr_assert_eq(gd_fmnist_load(&train, &test, tmp), 0, "%s", gd_error());
    cr_assert(train.n == 3 && test.n == 2);
    gd_images_free(&train);
    gd_images_free(&test);
    /* Without the argument the environment is used, and its path is in the error. */
    expect_fail(gd_fmnist_load(&train, &test, NULL), &train,
                "/nonexistent-gd-dir/train-images-idx3-ubyte.gz", "No such file");
    cr_assert(test.pixels == NULL && test.n == 0);
}

/* Gunzipped files under the names without .gz work too. */
Test(lib_data, fmnist_plain_files, .init = tmp_init, .fini = tmp_fini) {
    write_fmnist(0, 4, 3);
    gd_images train, test;
    cr_assert_eq(gd_fmnist_load(&train, &test, tmp), 0, "%s", gd_error());
    cr_assert(train.n == 4 && test.n == 3);
    cr_assert_eq(test.pixels[2 * 784 + 783], pix(2, 783));
    gd_images_free(&train);
    gd_images_free(&test);
}

/* A missing test file frees the train set already loaded (valgrind: no leak). */
Test(lib_data, fmnist_missing_test_file, .init = tmp_init, .fini = tmp_fini) {
    write_fmnist(1, 3, 2);
    unlink(tmp_path("t10k-labels-idx1-ubyte.gz"));
    gd_images train, test;
    expect_fail(gd_fmnist_load(&train, &test, tmp), &train, "t10k-labels-idx1-ubyte.gz",
                "No such file");
    cr_assert(test.pixels == NULL && test.n == 0);
}

/* Images that are not 28x28 are not Fashion-MNIST: refused, naming the file and both
 * shapes (issue 12: 1x1 images were accepted and a program read past them). */
Test(lib_data, fmnist_refuses_other_shapes, .init = tmp_init, .fini = tmp_fini) {
    gd_images train, test;
    write_images(tmp_path("train-images-idx3-ubyte"), 0, 10, 1, 1, 0);
    write_labels(tmp_path("train-labels-idx1-ubyte"), 0, 10, 0);
    write_images(tmp_path("t10k-images-idx3-ubyte"), 0, 4, 28, 28, 0);
    write_labels(tmp_path("t10k-labels-idx1-ubyte"), 0, 4, 0);
    expect_fail(gd_fmnist_load(&train, &test, tmp), &train, "train-images-idx3-ubyte", "1x1 pixels");
    cr_assert_not_null(strstr(gd_error(), "28x28"), "%s", gd_error());
    cr_assert(test.pixels == NULL && test.n == 0, "test set not freed");
    /* the test set's shape is checked too */
    write_images(tmp_path("train-images-idx3-ubyte"), 0, 10, 28, 28, 0);
    write_images(tmp_path("t10k-images-idx3-ubyte"), 0, 4, 28, 27, 0);
    expect_fail(gd_fmnist_load(&train, &test, tmp), &train, "t10k-images-idx3-ubyte", "28x27 pixels");
    /* gd_idx_load stays a reader of any IDX images */
    gd_images ds;
    cr_assert_eq(gd_idx_load(&ds, tmp_path("t10k-images-idx3-ubyte"), tmp_path("t10k-labels-idx1-ubyte")), 0);
    cr_assert(ds.rows == 28 && ds.cols == 27);
    gd_images_free(&ds);
}

/* gd_images_require: 0 up to the number loaded; above it one line naming the set, how
 * many it has, what needs them and how many. */
Test(lib_data, images_require, .init = tmp_init, .fini = tmp_fini) {
    write_fmnist(0, 100, 20);
    gd_images train, test;
    cr_assert_eq(gd_fmnist_load(&train, &test, tmp), 0, "%s", gd_error());
    cr_assert_eq(gd_images_require(&train, 0, "the training set", "nothing"), 0);
    cr_assert_eq(gd_images_require(&train, 100, "the training set", "all"), 0);
    cr_assert_eq(gd_images_require(&test, 21, "the test set", "--val"), -1);
    const char *e = gd_error();
    cr_assert_str_eq(e, "the test set has 20 images, too few: --val needs 21");
    cr_assert_eq(gd_images_require(&train, 6000, "the training set", "--train-size + --val-size"), -1);
    cr_assert_str_eq(gd_error(), "the training set has 100 images, too few: --train-size + --val-size needs 6000");
    gd_images_free(&train);
    gd_images_free(&test);
    gd_images one = {.n = 1, .rows = 28, .cols = 28, .dim = 784};
    cr_assert_eq(gd_images_require(&one, 2, "a set", "two"), -1);
    cr_assert_str_eq(gd_error(), "a set has 1 image, too few: two needs 2");
}

/* ------------------------------------------------------------------------------------
 * gd_idx_load on good and bad files. */

Test(lib_data, idx_values, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb");    /* gzip and plain */
    write_images(im, 1, 23, 5, 3, 0);
    write_labels(lb, 0, 23, 0);
    gd_images ds;
    cr_assert_eq(gd_idx_load(&ds, im, lb), 0, "%s", gd_error());
    cr_assert(ds.n == 23 && ds.rows == 5 && ds.cols == 3 && ds.dim == 15);
    for (int i = 0; i < 23; i++) {
        cr_assert_eq(ds.labels[i], i % 10);
        for (int j = 0; j < 15; j++) cr_assert_eq(ds.pixels[i * 15 + j], pix(i, j));
    }
    gd_images_free(&ds);
}

Test(lib_data, bad_missing_file, .init = tmp_init, .fini = tmp_fini) {
    const char *lb = tmp_path("lb.gz");
    write_labels(lb, 1, 5, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, tmp_path("nope.gz"), lb), &ds, "nope.gz",
                "No such file or directory");
    const char *im = tmp_path("im.gz");
    write_images(im, 1, 5, 2, 2, 0);
    expect_fail(gd_idx_load(&ds, im, tmp_path("gone")), &ds, "gone", "No such file");
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fclose(f);
    return len;
}

Test(lib_data, bad_truncated_gzip, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb.gz");
    gd_images ds;
    /* Images cut in the middle of the deflate stream. */
    write_images(im, 1, 200, 28, 28, 0);
    write_labels(lb, 1, 200, 0);
    cr_assert_eq(truncate(im, file_size(im) / 2), 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im.gz",
                "truncated: expected 156800 bytes of pixels");
    cr_assert_not_null(strstr(gd_error(), "gzip stream is cut short"), "%s", gd_error());
    /* Labels cut 20 bytes in (10 of them gzip header). */
    write_images(im, 1, 200, 28, 28, 0);
    cr_assert_eq(truncate(lb, 20), 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "truncated");
    /* Labels cut inside the 8-byte gzip trailer: all the data are there, the file is
     * not whole. */
    write_labels(lb, 1, 200, 0);
    cr_assert_eq(truncate(lb, file_size(lb) - 3), 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "gzip stream is cut short after");
}

Test(lib_data, bad_truncated_plain, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im"), *lb = tmp_path("lb");
    /* The header announces 10 images of 4x4 = 160 bytes; only 100 follow. */
    uint8_t p[100] = {0};
    write_idx(im, 0, 2051, (uint32_t[]){10, 4, 4}, 3, p, sizeof p, 0);
    write_labels(lb, 0, 10, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im",
                "truncated: expected 160 bytes of pixels, got 100");
    write_bytes(im, 0, "\0\0\x08", 3);                      /* not even a magic number */
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im", "truncated");
}

Test(lib_data, bad_corrupt_gzip, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb.gz");
    write_images(im, 1, 50, 28, 28, 0);
    write_labels(lb, 1, 50, 0);
    /* Flip a byte of the CRC-32 in the gzip trailer (RFC 1952): the data decompress,
     * the check does not match. */
    FILE *f = fopen(lb, "r+b");
    fseek(f, -8, SEEK_END);
    int c = fgetc(f);
    fseek(f, -8, SEEK_END);
    fputc(c ^ 0x01, f);
    fclose(f);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "corrupt gzip");
    cr_assert_not_null(strstr(gd_error(), "incorrect data check"), "%s", gd_error());
    /* Garbage in the middle of the deflate stream. */
    write_labels(lb, 1, 50, 0);
    f = fopen(im, "r+b");
    fseek(f, 200, SEEK_SET);
    for (int k = 0; k < 32; k++) fputc(0xFF, f);
    fclose(f);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im.gz", "corrupt gzip");
}

Test(lib_data, bad_magic, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb.gz");
    uint8_t p[4] = {0};
    write_idx(im, 1, 0x12345678, (uint32_t[]){1, 2, 2}, 3, p, 4, 0);
    write_labels(lb, 1, 1, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im.gz", "magic");
    cr_assert_not_null(strstr(gd_error(), "305419896"), "%s", gd_error());   /* found */
    cr_assert_not_null(strstr(gd_error(), "expected 2051"), "%s", gd_error());
    /* A text file is not an IDX file either, for labels. */
    write_images(im, 1, 1, 2, 2, 0);
    write_bytes(lb, 0, "hello, world\n", 13);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "expected 2049");
}

Test(lib_data, bad_ndim, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im"), *lb = tmp_path("lb");
    uint8_t p[12] = {0};
    write_idx(im, 0, 0x0802, (uint32_t[]){3, 4}, 2, p, 12, 0);       /* images, ndim 2 */
    write_labels(lb, 0, 3, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im", "ndim = 2, expected 3");
    /* Images and labels swapped: each has the other's ndim. */
    write_images(im, 0, 3, 2, 2, 0);
    expect_fail(gd_idx_load(&ds, lb, im), &ds, "lb", "ndim = 1, expected 3");
    write_idx(lb, 0, 0x0802, (uint32_t[]){3, 1}, 2, p, 3, 0);         /* labels, ndim 2 */
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb", "ndim = 2, expected 1");
}

/* A corrupt header must not become a huge allocation or an overflowing product. */
Test(lib_data, bad_absurd_sizes, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im"), *lb = tmp_path("lb");
    write_labels(lb, 0, 3, 0);
    gd_images ds;
    const uint32_t huge = 0xFFFFFFFFu;           /* the product overflows 64 bits */
    write_idx(im, 0, 2051, (uint32_t[]){huge, huge, huge}, 3, NULL, 0, 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im", "absurd");
    write_idx(im, 0, 2051, (uint32_t[]){3, 65536, 65536}, 3, NULL, 0, 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im", "absurd");
    write_idx(im, 0, 2051, (uint32_t[]){3, 0, 28}, 3, NULL, 0, 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im", "dimension 1 has size 0");
    write_images(im, 0, 3, 2, 2, 0);
    write_idx(lb, 0, 2049, (uint32_t[]){0x80000000u}, 1, NULL, 0, 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb", "absurd");
}

Test(lib_data, bad_count_mismatch, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb.gz");
    write_images(im, 1, 5, 2, 2, 0);
    write_labels(lb, 1, 4, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im.gz has 5 images",
                "lb.gz has 4 labels");
}

Test(lib_data, bad_label_out_of_range, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb.gz");
    write_images(im, 1, 5, 2, 2, 0);
    write_idx(lb, 1, 2049, (uint32_t[]){5}, 1, (const uint8_t[]){1, 2, 3, 10, 4}, 5, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "label at index 3 is 10");
    write_idx(lb, 1, 2049, (uint32_t[]){5}, 1, (const uint8_t[]){1, 2, 3, 4, 255}, 5, 0);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb.gz", "label at index 4 is 255");
}

Test(lib_data, bad_trailing_garbage, .init = tmp_init, .fini = tmp_fini) {
    const char *im = tmp_path("im.gz"), *lb = tmp_path("lb");
    write_images(im, 1, 5, 2, 2, 1);          /* one byte more than the header says */
    write_labels(lb, 0, 5, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "im.gz", "trailing garbage");
    write_images(im, 1, 5, 2, 2, 0);
    write_labels(lb, 0, 5, 1000);
    expect_fail(gd_idx_load(&ds, im, lb), &ds, "lb", "trailing garbage");
}

Test(lib_data, bad_directory_as_file, .init = tmp_init, .fini = tmp_fini) {
    const char *lb = tmp_path("lb");
    write_labels(lb, 0, 5, 0);
    gd_images ds;
    expect_fail(gd_idx_load(&ds, tmp, lb), &ds, tmp, "Is a directory");
}

/* ------------------------------------------------------------------------------------
 * gd_split and gd_images_batch. */

Test(lib_data, split_partition) {
    enum { N = 1000, NV = 137 };
    int tr[N - NV], va[NV], seen[N] = {0};
    cr_assert_eq(gd_split(tr, va, N, NV, 7), 0, "%s", gd_error());
    for (int i = 0; i < N - NV; i++) seen[tr[i]]++;
    for (int i = 0; i < NV; i++) seen[va[i]] += 2;
    int n_tr = 0, n_va = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(seen[i] == 1 || seen[i] == 2, "index %d seen %d", i, seen[i]);
        n_tr += seen[i] == 1;
        n_va += seen[i] == 2;
    }
    cr_assert(n_tr == N - NV && n_va == NV);                /* disjoint and covering */
    for (int i = 1; i < N - NV; i++) cr_assert_lt(tr[i - 1], tr[i]);      /* sorted */
    for (int i = 1; i < NV; i++) cr_assert_lt(va[i - 1], va[i]);
}

/* As data.h says: shuffle 0..n-1 with the seed, the last n_val go to validation. */
Test(lib_data, split_is_a_seeded_shuffle) {
    enum { N = 50, NV = 10 };
    int perm[N], tr[N - NV], va[NV], in_val[N] = {0};
    for (int i = 0; i < N; i++) perm[i] = i;
    gd_rng r;
    gd_rng_seed(&r, 2024);
    gd_rng_shuffle(&r, perm, N);
    for (int i = N - NV; i < N; i++) in_val[perm[i]] = 1;
    cr_assert_eq(gd_split(tr, va, N, NV, 2024), 0);
    for (int i = 0, k = 0; i < N; i++)
        if (in_val[i]) cr_assert_eq(va[k++], i);
}

Test(lib_data, split_deterministic) {
    enum { N = 60000, NV = 5000 };
    static int tr1[N - NV], va1[NV], tr2[N - NV], va2[NV], tr3[N - NV], va3[NV];
    cr_assert_eq(gd_split(tr1, va1, N, NV, 42), 0);
    cr_assert_eq(gd_split(tr2, va2, N, NV, 42), 0);
    cr_assert_eq(gd_split(tr3, va3, N, NV, 43), 0);
    cr_assert_arr_eq(tr1, tr2, sizeof tr1);
    cr_assert_arr_eq(va1, va2, sizeof va1);
    cr_assert(memcmp(va1, va3, sizeof va1) != 0, "seeds 42 and 43 give the same split");
}

Test(lib_data, split_edges) {
    int tr[3], va[3];
    cr_assert_eq(gd_split(tr, NULL, 3, 0, 1), 0);           /* no validation set */
    cr_assert(tr[0] == 0 && tr[1] == 1 && tr[2] == 2);
    cr_assert_eq(gd_split(tr, va, 3, 2, 1), 0);
    cr_assert(tr[0] + va[0] + va[1] == 3 && va[0] < va[1]);
    cr_assert_eq(gd_split(tr, NULL, 1, 0, 1), 0);
    cr_assert_eq(tr[0], 0);
}

Test(lib_data, split_rejects_bad_sizes) {
    int tr[4] = {-7, -7, -7, -7}, va[4];
    cr_assert_eq(gd_split(tr, va, 4, 4, 1), -1);            /* nothing left to train */
    cr_assert_not_null(strstr(gd_error(), "n_val = 4"), "%s", gd_error());
    cr_assert_eq(gd_split(tr, va, 4, -1, 1), -1);
    cr_assert_not_null(strstr(gd_error(), "n_val = -1"), "%s", gd_error());
    cr_assert_eq(gd_split(tr, va, 0, 0, 1), -1);
    cr_assert_not_null(strstr(gd_error(), "n = 0"), "%s", gd_error());
    cr_assert_eq(gd_split(tr, va, -5, 0, 1), -1);
    cr_assert_eq(tr[0], -7, "a rejected split wrote its output");
}

Test(lib_data, batch_values) {
    uint8_t pixels[3 * 4] = {0, 1, 2, 3, 10, 20, 128, 255, 254, 100, 50, 25};
    uint8_t labels[3] = {7, 0, 9};
    gd_images ds = {.n = 3, .rows = 2, .cols = 2, .dim = 4, .pixels = pixels,
                    .labels = labels};
    float X[4 * 4];
    int y[4];
    gd_images_batch(X, y, &ds, (const int[]){1, 1, 2, 0}, 4);      /* repeats allowed */
    const float want[4 * 4] = {
        10 / 255.0f, 20 / 255.0f, 128 / 255.0f, 1.0f,
        10 / 255.0f, 20 / 255.0f, 128 / 255.0f, 1.0f,
        254 / 255.0f, 100 / 255.0f, 50 / 255.0f, 25 / 255.0f,
        0.0f, 1 / 255.0f, 2 / 255.0f, 3 / 255.0f,
    };
    for (int k = 0; k < 16; k++) {
        cr_assert_eq(X[k], want[k], "X[%d] = %.9g, want %.9g", k, X[k], want[k]);
        cr_assert(X[k] >= 0.0f && X[k] <= 1.0f);
    }
    cr_assert(y[0] == 0 && y[1] == 0 && y[2] == 9 && y[3] == 7);
}

/* The vectorised conversion against the plain loop data.c names as its specification,
 * bit for bit: every byte value at every position of a 784-pixel image (the 16-pixel
 * blocks) and of a 37-pixel one (two blocks and a remainder of 5), images in shuffled
 * order (the prefetch of the next one). */
Test(lib_data, batch_equals_plain_division) {
    for (int D = 37; D <= 784; D += 784 - 37) {
        enum { N = 300, B = 64 };
        uint8_t *pixels = malloc((size_t)N * (size_t)D), labels[N];
        float *X = malloc((size_t)B * (size_t)D * sizeof *X);
        int idx[B], y[B];
        cr_assert(pixels && X);
        for (int i = 0; i < N; i++) {
            labels[i] = (uint8_t)(i % 10);
            for (int j = 0; j < D; j++) pixels[(size_t)i * D + j] = (uint8_t)((i * 7 + j * 31) % 256);
        }
        gd_images ds = {.n = N, .rows = 1, .cols = D, .dim = D, .pixels = pixels, .labels = labels};
        int seen[256] = {0};
        for (int start = 0; start + B <= N; start += B) {
            for (int b = 0; b < B; b++) idx[b] = (start + b * 37) % N;
            gd_images_batch(X, y, &ds, idx, B);
            for (int b = 0; b < B; b++) {
                cr_assert_eq(y[b], idx[b] % 10);
                for (int j = 0; j < D; j++) {
                    uint8_t v = pixels[(size_t)idx[b] * D + j];
                    float want = (float)v / 255.0f;                 /* the plain loop */
                    float got = X[(size_t)b * D + j];
                    cr_assert(memcmp(&got, &want, sizeof got) == 0, "D = %d, image %d, pixel %d = %u: got %.9g, "
                              "want %.9g", D, idx[b], j, v, got, want);
                    seen[v] = 1;
                }
            }
        }
        for (int v = 0; v < 256; v++) cr_assert(seen[v], "D = %d: byte value %d never tested", D, v);
        free(pixels);
        free(X);
    }
}

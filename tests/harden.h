/* harden.h -- helpers of the hardening tests (issue 12: tests/ch06, ch08 and exp's
 * *_harden.c): tiny Fashion-MNIST-shaped directories (the pixels a fixed pattern, the
 * labels 0..9 in turn) and their removal. Static: each test file includes its own copy.
 */
#ifndef GD_TESTS_HARDEN_H
#define GD_TESTS_HARDEN_H

#include "common.h"

/* One IDX pair (images: magic 2051, labels: 2049; big-endian sizes) of n r x c images. */
static void write_idx(const char *dir, const char *name, int n, int r, int c) {
    char path[512];
    unsigned char h[16];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    unsigned v[4] = {2051, (unsigned)n, (unsigned)r, (unsigned)c};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++) h[4 * i + b] = (unsigned char)(v[i] >> (24 - 8 * b));
    fwrite(h, 1, 16, f);
    for (long i = 0; i < (long)n * r * c; i++) fputc((int)((i * 7919) % 256), f);
    cr_assert_eq(fclose(f), 0);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, name);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    unsigned w[2] = {2049, (unsigned)n};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < 4; b++) h[4 * i + b] = (unsigned char)(w[i] >> (24 - 8 * b));
    fwrite(h, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 10, f);
    cr_assert_eq(fclose(f), 0);
}

/* A Fashion-MNIST directory of ntrain + ntest 28x28 images in a fresh temporary
 * directory (dir: a buffer of at least 64 bytes). */
static void tiny_fmnist(char *dir, int ntrain, int ntest) {
    strcpy(dir, "/tmp/gdtest-fmnist-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_idx(dir, "train", ntrain, 28, 28);
    write_idx(dir, "t10k", ntest, 28, 28);
}

static void rm_rf(const char *dir) {
    char *cmd;
    cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}

#endif

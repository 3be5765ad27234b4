/* small_fmnist.h -- small but well-formed Fashion-MNIST directories for the tests.
 *
 * The loader accepts any number of images (data.h), so every program must check the
 * counts it needs against what it loaded, and the loader must refuse images that are not
 * 28x28. These directories make both cases: the four IDX files (plain, not gzipped,
 * which the loader reads alike), n_train and n_test images of rows x cols pixels, in a
 * fresh temporary directory that t_small_fmnist_rm removes.
 */
#ifndef GD_TESTS_SMALL_FMNIST_H
#define GD_TESTS_SMALL_FMNIST_H

#include "../common.h"

#include <stdint.h>

static inline void t__idx_write(const char *dir, const char *name, uint32_t magic, const uint32_t *size, int ndim,
                                int pattern) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    size_t n = 1;
    uint32_t head[4] = {magic};
    for (int d = 0; d < ndim; d++) head[1 + d] = size[d], n *= size[d];
    for (int w = 0; w <= ndim; w++) {
        unsigned char b[4] = {(unsigned char)(head[w] >> 24), (unsigned char)(head[w] >> 16),
                              (unsigned char)(head[w] >> 8), (unsigned char)head[w]};
        cr_assert_eq(fwrite(b, 1, 4, f), 4u);
    }
    for (size_t i = 0; i < n; i++) /* labels i % 10; pixels a fixed pattern */
        cr_assert_eq(fputc(pattern ? (int)((i * 2654435761u) >> 24) : (int)(i % 10), f) != EOF, 1);
    cr_assert_eq(fclose(f), 0);
}

/* A fresh directory holding n_train training and n_test test images of rows x cols
 * pixels (malloc'd path). */
static inline char *t_small_fmnist(int n_train, int n_test, int rows, int cols) {
    char *dir = strdup("/tmp/gdtest-fmnist-small-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    const char *split[2] = {"train", "t10k"};
    const int n[2] = {n_train, n_test};
    for (int k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s-images-idx3-ubyte", split[k]);
        t__idx_write(dir, name, 2051, (uint32_t[]){(uint32_t)n[k], (uint32_t)rows, (uint32_t)cols}, 3, 1);
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte", split[k]);
        t__idx_write(dir, name, 2049, (uint32_t[]){(uint32_t)n[k]}, 1, 0);
    }
    return dir;
}

/* An empty temporary directory (malloc'd path), for outputs; t_small_fmnist_rm removes it. */
static inline char *t_tmpdir(void) {
    char *dir = strdup("/tmp/gdtest-out-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* Remove a directory made by t_small_fmnist or t_tmpdir, and free its path. */
static inline void t_small_fmnist_rm(char *dir) {
    char *cmd;
    cr_assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
    free(dir);
}

#endif

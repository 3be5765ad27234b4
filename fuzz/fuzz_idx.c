/* fuzz_idx.c -- the IDX reader (data.h: gd_idx_load), plain and gzipped: the one reader
 * of every Fashion-MNIST file the programs load.
 *
 * Input: FLAGS (1 byte), LEN (2 bytes, little-endian), then the images file's bytes
 * (the first LEN of the rest, or all of it) and the labels file's bytes (what follows).
 * FLAGS bit 0 gzips the images file, bit 1 the labels file, as gzip would (the harness
 * compresses; bytes that are themselves a damaged gzip stream reach zlib as they are
 * when the flag is off, since the reader takes gzip and plain files alike).
 *
 * Checked: a refusal leaves the gd_images empty and gives one printable line naming
 * one of the two files; an acceptance gives sizes >= 1 that agree (dim = rows cols),
 * labels < 10, and the images can be batched (gd_images_batch of the first and last)
 * and split (gd_split).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "fuzz.h"

/* Write part (gzipped if asked) to path. 0, or -1. */
static int fuzz_idx_put(const char *path, const uint8_t *part, size_t n, int gz) {
    if (!gz) return gd_fuzz_write(path, part, n);
    unsigned char *z;
    size_t zn;
    if (gd_fuzz_gzip(part, n, &z, &zn) != 0) return -1;
    int rc = gd_fuzz_write(path, z, zn);
    free(z);
    return rc;
}

int gd_fuzz_idx(const uint8_t *data, size_t size) {
    if (size < 3 || size > 1 << 20) return 0;
    int flags = data[0];
    size_t len = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3, size -= 3;
    if (len > size) len = size;
    const char *images = gd_fuzz_path(0, "images"), *labels = gd_fuzz_path(1, "labels");
    if (fuzz_idx_put(images, data, len, flags & 1) != 0 || fuzz_idx_put(labels, data + len, size - len, flags & 2) != 0)
        return 0;

    gd_images ds;
    memset(&ds, 0x5a, sizeof ds);
    gd_fuzz_clear_error();
    if (gd_idx_load(&ds, images, labels) != 0) {
        gd_fuzz_check_error("idx", "gd_idx_load");
        if (!strstr(gd_error(), images) && !strstr(gd_error(), labels))
            gd_fuzz_fail("idx", "the reason names neither file", gd_error());
        if (ds.pixels || ds.labels || ds.n) gd_fuzz_fail("idx", "a refused load left data in the gd_images", NULL);
        return 0;
    }
    if (ds.n < 1 || ds.rows < 1 || ds.cols < 1 || ds.dim != ds.rows * ds.cols || !ds.pixels || !ds.labels)
        gd_fuzz_fail("idx", "accepted with inconsistent sizes", NULL);
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= GD_FMNIST_CLASSES) gd_fuzz_fail("idx", "accepted a label >= 10", NULL);
    if (ds.dim <= 1 << 16) {
        float *X = malloc(2 * (size_t)ds.dim * sizeof *X);
        int y[2], idx[2] = {0, ds.n - 1};
        if (X) {
            gd_images_batch(X, y, &ds, idx, 2);
            for (int b = 0; b < 2; b++) {
                if (y[b] != ds.labels[idx[b]]) gd_fuzz_fail("idx", "gd_images_batch: wrong label", NULL);
                for (int j = 0; j < ds.dim; j++)
                    if (!(X[(size_t)b * ds.dim + j] >= 0 && X[(size_t)b * ds.dim + j] <= 1))
                        gd_fuzz_fail("idx", "gd_images_batch: a pixel outside [0, 1]", NULL);
            }
            free(X);
        }
    }
    if (ds.n <= 1 << 16) {
        int n_val = ds.n / 3;
        int *tr = malloc((size_t)(ds.n - n_val + 1) * sizeof *tr), *va = malloc((size_t)(n_val + 1) * sizeof *va);
        if (tr && va && gd_split(tr, va, ds.n, n_val, 1) == 0) {
            for (int i = 0; i < ds.n - n_val; i++)
                if (tr[i] < 0 || tr[i] >= ds.n || (i && tr[i] <= tr[i - 1])) gd_fuzz_fail("idx", "gd_split: bad index", NULL);
            for (int i = 0; i < n_val; i++)
                if (va[i] < 0 || va[i] >= ds.n || (i && va[i] <= va[i - 1])) gd_fuzz_fail("idx", "gd_split: bad index", NULL);
        }
        free(tr);
        free(va);
    }
    gd_images_free(&ds);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_idx(data, size); }
#endif

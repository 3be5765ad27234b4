/* data.c -- Fashion-MNIST reader, splits and batches; see data.h.
 *
 * The IDX format is described at the end of Yann LeCun's MNIST page
 * (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE"), and
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) uses it unchanged:
 *
 *   magic   4 bytes  0x00 0x00 TYPE NDIM     (TYPE 0x08 = unsigned byte)
 *   sizes   NDIM x 4 bytes, big-endian       (images: n, rows, cols; labels: n)
 *   data    the product of the sizes, in bytes, last dimension fastest
 *
 * so images have magic 0x0803 = 2051 and labels 0x0801 = 2049. Every file goes through
 * zlib's gzread, which reads gzip and plain files alike. The pixels are read straight
 * into their final uint8 buffer: no float copy, no second buffer.
 *
 * Left out: the other IDX types (int, float, double), which Fashion-MNIST does not use,
 * and junk after the end of a gzip stream, which zlib skips (as gunzip does).
 */
#include "data.h"
#include "err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define GD__IDX_UBYTE 0x08
/* A header that announces more than this is taken as corrupt rather than trusted with
 * an allocation: 1 GiB is 20 times Fashion-MNIST's training images. It also keeps every
 * read within one gzread, whose length is an int. */
#define GD__IDX_MAX_BYTES ((uint64_t)1 << 30)

const char *gd_fmnist_dir(const char *dir) {
    if (dir && *dir) return dir;
    const char *env = getenv(GD_FMNIST_ENV);
    if (env && *env) return env;
    return GD_FMNIST_DEFAULT_DIR;
}

/* zlib's reason for the last failure on f, without the "path: " zlib puts in front. */
static const char *gd__zerror(gzFile f, const char *path, int *errnum) {
    const char *msg = gzerror(f, errnum);
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0) msg += n + 2;
    return msg;
}

/* Read exactly len bytes of `what` ("pixels", "labels", ...) into buf. */
static int gd__read(gzFile f, const char *path, void *buf, size_t len, const char *what) {
    int got = gzread(f, buf, (unsigned)len);      /* len <= GD__IDX_MAX_BYTES fits */
    if (got >= 0 && (size_t)got == len) return 0;
    int errnum;
    const char *msg = gd__zerror(f, path, &errnum);
    if (got >= 0)                       /* zlib says Z_BUF_ERROR for a cut-off gzip */
        return gd_seterr("%s: truncated: expected %zu bytes of %s, got %d (%s)", path,
                         len, what, got, errnum == Z_BUF_ERROR ? "the gzip stream is cut "
                         "short" : "the file ends");
    if (errnum == Z_ERRNO) return gd_seterr("%s: read error: %s", path, msg);
    if (errnum == Z_MEM_ERROR) return gd_seterr("%s: out of memory", path);
    return gd_seterr("%s: corrupt gzip: %s", path, msg);
}

static uint32_t gd__be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open an IDX file of unsigned bytes with ndim dimensions (images 3, labels 1) and read
 * its header into size[0..ndim); *bytes = their product. On failure *f is NULL. */
static int gd__idx_open(gzFile *f, uint32_t *size, uint64_t *bytes, const char *path,
                        int ndim) {
    const uint32_t magic = GD__IDX_UBYTE << 8 | (uint32_t)ndim;    /* 2051 or 2049 */
    unsigned char head[4 * 4];
    errno = 0;
    *f = gzopen(path, "rb");
    if (!*f) return gd_seterr("%s: cannot open: %s", path,
                              errno ? strerror(errno) : "out of memory");
    gzbuffer(*f, 1 << 17);            /* 128 KB reads: a quarter faster than 8 KB */
    if (gd__read(*f, path, head, 4, "magic number") != 0) goto fail;
    uint32_t found = gd__be32(head);
    if (found >> 8 != GD__IDX_UBYTE) {
        gd_seterr("%s: wrong magic number %u (0x%08x), expected %u: not an IDX file of "
                  "unsigned bytes", path, found, found, magic);
        goto fail;
    }
    if (found != magic) {
        gd_seterr("%s: wrong dimensions: magic number %u says ndim = %u, expected %u "
                  "(%s, magic %u)", path, found, found & 0xff, magic & 0xff,
                  ndim == 3 ? "images" : "labels", magic);
        goto fail;
    }
    if (gd__read(*f, path, head, 4 * (size_t)ndim, "sizes") != 0) goto fail;
    *bytes = 1;
    for (int d = 0; d < ndim; d++) {
        size[d] = gd__be32(head + 4 * d);
        if (size[d] == 0) {
            gd_seterr("%s: dimension %d has size 0: empty or corrupt header", path, d);
            goto fail;
        }
        if (*bytes > GD__IDX_MAX_BYTES / size[d]) {
            gd_seterr("%s: absurd size %u in dimension %d: more than %llu bytes of data, "
                      "corrupt header?", path, size[d], d,
                      (unsigned long long)GD__IDX_MAX_BYTES);
            goto fail;
        }
        *bytes *= size[d];
    }
    return 0;
fail:
    gzclose(*f);
    *f = NULL;
    return -1;
}

/* After the data the file must end: no trailing garbage, no cut-off gzip trailer. */
static int gd__idx_end(gzFile f, const char *path, uint64_t bytes) {
    unsigned char extra;
    int got = gzread(f, &extra, 1);
    int errnum;
    const char *msg = gd__zerror(f, path, &errnum);
    if (got == 1)
        return gd_seterr("%s: trailing garbage after the %llu bytes of data the header "
                         "announces", path, (unsigned long long)bytes);
    if (got < 0 && errnum == Z_ERRNO) return gd_seterr("%s: read error: %s", path, msg);
    if (got < 0) return gd_seterr("%s: corrupt gzip: %s", path, msg);
    if (errnum == Z_BUF_ERROR)
        return gd_seterr("%s: truncated: the gzip stream is cut short after the data",
                         path);
    return 0;
}

int gd_idx_load(gd_images *ds, const char *images_path, const char *labels_path) {
    memset(ds, 0, sizeof *ds);
    gzFile fi = NULL, fl = NULL;
    uint32_t isize[3], lsize[1];
    uint64_t npixels, nlabels;
    int rc = -1;
    if (gd__idx_open(&fi, isize, &npixels, images_path, 3) != 0) goto done;
    if (gd__idx_open(&fl, lsize, &nlabels, labels_path, 1) != 0) goto done;
    if (isize[0] != lsize[0]) {
        gd_seterr("count mismatch: %s has %u images but %s has %u labels", images_path,
                  isize[0], labels_path, lsize[0]);
        goto done;
    }
    ds->n = (int)isize[0];                 /* all sizes <= 2^30: checked by idx_open */
    ds->rows = (int)isize[1];
    ds->cols = (int)isize[2];
    ds->dim = ds->rows * ds->cols;
    ds->pixels = malloc((size_t)npixels);
    ds->labels = malloc((size_t)nlabels);
    if (!ds->pixels || !ds->labels) {
        gd_seterr("%s: out of memory for %d images", images_path, ds->n);
        goto done;
    }
    if (gd__read(fi, images_path, ds->pixels, (size_t)npixels, "pixels") != 0) goto done;
    if (gd__idx_end(fi, images_path, npixels) != 0) goto done;
    if (gd__read(fl, labels_path, ds->labels, (size_t)nlabels, "labels") != 0) goto done;
    if (gd__idx_end(fl, labels_path, nlabels) != 0) goto done;
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] >= GD_FMNIST_CLASSES) {
            gd_seterr("%s: label at index %d is %u, must be < %d", labels_path, i,
                      ds->labels[i], GD_FMNIST_CLASSES);
            goto done;
        }
    rc = 0;
done:
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    if (rc != 0) gd_images_free(ds);
    return rc;
}

void gd_images_free(gd_images *ds) {
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

int gd_images_require(const gd_images *ds, long n, const char *set, const char *what) {
    if (n <= (long)ds->n) return 0;
    return gd_seterr("%s has %d image%s, too few: %s needs %ld", set, ds->n, ds->n == 1 ? "" : "s", what, n);
}

/* path = dir/name.gz, or dir/name when only the gunzipped file is there. */
static int gd__fmnist_path(char *path, size_t size, const char *dir, const char *name) {
    int len = snprintf(path, size, "%s/%s.gz", dir, name);
    if (len < 0 || (size_t)len >= size) return gd_seterr("%s: path too long", dir);
    if (access(path, F_OK) != 0) {
        path[len - 3] = '\0';
        if (access(path, F_OK) != 0) path[len - 3] = '.';    /* report the .gz name */
    }
    return 0;
}

int gd_fmnist_load(gd_images *train, gd_images *test, const char *dir) {
    static const char *const name[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };
    char path[4][PATH_MAX];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    dir = gd_fmnist_dir(dir);
    for (int k = 0; k < 4; k++)
        if (gd__fmnist_path(path[k], sizeof path[k], dir, name[k]) != 0) return -1;
    if (gd_idx_load(train, path[0], path[1]) != 0) return -1;
    if (gd_idx_load(test, path[2], path[3]) != 0) {
        gd_images_free(train);
        return -1;
    }
    /* Every program sizes its model's input as 784 = 28 x 28 (the --dims checks); other
     * images would be read past their end, or read short. So they are refused here. */
    for (int k = 0; k < 2; k++) {
        const gd_images *ds = k ? test : train;
        if (ds->rows != GD_FMNIST_ROWS || ds->cols != GD_FMNIST_COLS) {
            gd_seterr("%s: images are %dx%d pixels, Fashion-MNIST's are %dx%d", path[2 * k], ds->rows,
                      ds->cols, GD_FMNIST_ROWS, GD_FMNIST_COLS);
            gd_images_free(train);
            gd_images_free(test);
            return -1;
        }
    }
    return 0;
}

static int gd__cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int gd_split(int *train_idx, int *val_idx, int n, int n_val, uint64_t seed) {
    if (n < 1) return gd_seterr("split: n = %d, must be >= 1", n);
    if (n_val < 0 || n_val >= n)
        return gd_seterr("split: n_val = %d, must be in [0, %d)", n_val, n);
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) return gd_seterr("split: out of memory for %d indices", n);
    for (int i = 0; i < n; i++) perm[i] = i;
    gd_rng r;
    gd_rng_seed(&r, seed);
    gd_rng_shuffle(&r, perm, n);
    const int n_train = n - n_val;
    memcpy(train_idx, perm, (size_t)n_train * sizeof *perm);
    if (n_val > 0) memcpy(val_idx, perm + n_train, (size_t)n_val * sizeof *perm);
    free(perm);
    qsort(train_idx, (size_t)n_train, sizeof *train_idx, gd__cmp_int);
    if (n_val > 0) qsort(val_idx, (size_t)n_val, sizeof *val_idx, gd__cmp_int);
    return 0;
}

/* One image as floats, x[j] = p[j] / 255 (torchvision's ToTensor). The specification
 * is the plain loop, which tests/lib compares against:
 *
 *     for (size_t j = 0; j < D; j++) x[j] = (float)p[j] / 255.0f;
 *
 * Speed only, the same floats: gcc -O2 vectorises a loop (four divisions in one divps,
 * each exact as the scalar one) only when the pointers cannot overlap (restrict) and the
 * count is known to be a multiple of the vector width -- its "very cheap" cost model
 * takes no loop that needs a scalar remainder. So the inner loop has the fixed count 16,
 * and the last loop does what is left over (nothing for 784 pixels). */
static void gd__pixels(float *restrict x, const uint8_t *restrict p, size_t D) {
    size_t j = 0;
    for (; j + 16 <= D; j += 16)
        for (int k = 0; k < 16; k++) x[j + k] = (float)p[j + k] / 255.0f;   /* vectorised */
    for (; j < D; j++) x[j] = (float)p[j] / 255.0f;
}

/* The images of a batch are scattered over the data set (a shuffled epoch), so the time
 * goes into waiting for memory more than into the division: while one image is converted
 * the next one's cache lines (64 bytes) are fetched (__builtin_prefetch, GCC and clang; it
 * changes no result). Measured on a shared 2-core AMD EPYC (15000 to 20000 images,
 * batches of 128 in random order, best of 9 to 25 repetitions, two sessions): 2.0 to 3.1
 * ns per pixel with the lookup table scale[p[j]] this replaced, 0.8 to 1.6 vectorised,
 * 0.3 vectorised with the prefetch. */
void gd_images_batch(float *X, int *y, const gd_images *ds, const int *idx, int B) {
    const size_t D = (size_t)ds->dim;
    for (int b = 0; b < B; b++) {
        if (b + 1 < B)
            for (size_t j = 0; j < D; j += 64) __builtin_prefetch(ds->pixels + (size_t)idx[b + 1] * D + j);
        gd__pixels(X + (size_t)b * D, ds->pixels + (size_t)idx[b] * D, D);    /* X[b] (D) */
        y[b] = ds->labels[idx[b]];
    }
}

/* data.h -- Fashion-MNIST (IDX files, gzip through zlib), splits and batches.
 *
 * Images stay uint8 in memory (60000 + 10000 images of 28x28 = 55 MB) and become
 * floats only a batch at a time, pixel / 255 in [0, 1] (as torchvision's ToTensor).
 *
 * Where the files are, first match wins: the dir argument (programs pass --data), the
 * environment variable GD_FASHION_MNIST, then /usr/share/datasets/fashion-mnist (the
 * Debian package dataset-fashion-mnist). The four files are
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; plain (not gzipped) files work too,
 * also under the names without .gz.
 *
 *   gd_images train, test;
 *   if (gd_fmnist_load(&train, &test, data_dir) != 0) {
 *       fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());   // names file and problem
 *       return 2;                                              // the user's data: exit 2
 *   }
 *   if (gd_images_require(&train, n_train + n_val, "the training set", "--train-size") != 0) {
 *       fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(data_dir), gd_error());
 *       return 2;                                              // too few images: exit 2 too
 *   }
 *   gd_images_batch(X, y, &train, idx + i, B);                 // X (B, 784), y (B)
 *   gd_images_free(&train); gd_images_free(&test);
 *
 * Every failure (missing file, truncated or corrupt gzip, wrong magic, wrong
 * dimensions, sizes over 1 GiB, image/label count mismatch, a label >= 10, bytes after
 * the data; for gd_fmnist_load also images that are not 28x28) returns -1 and names the
 * file.
 *
 * The loader accepts any number of images: a smaller but well-formed directory (a
 * subset, a test fixture) is valid data. So a program never assumes 60000 and 10000;
 * it asks gd_images_require for every count it is about to index with, before any
 * work, and reports a refusal like any other data error (one line, exit 2).
 */
#ifndef GD_DATA_H
#define GD_DATA_H

#include <stdint.h>
#include "rng.h"

#define GD_FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define GD_FMNIST_ENV "GD_FASHION_MNIST"
#define GD_FMNIST_CLASSES 10
#define GD_FMNIST_ROWS 28
#define GD_FMNIST_COLS 28

typedef struct gd_images {
    int n;              /* number of images */
    int rows, cols;     /* 28, 28 */
    int dim;            /* rows * cols */
    uint8_t *pixels;    /* (n, dim) */
    uint8_t *labels;    /* (n) in [0, 10) */
} gd_images;

/* The directory that would be used for dir (dir, else $GD_FASHION_MNIST, else default). */
const char *gd_fmnist_dir(const char *dir);
/* Load train (60000) and test (10000 in the real data set; any number >= 1 is accepted,
 * see gd_images_require). Images that are not 28x28 are refused: not Fashion-MNIST. */
int gd_fmnist_load(gd_images *train, gd_images *test, const char *dir);
/* Load one pair of IDX files (images: magic 2051, labels: magic 2049). */
int gd_idx_load(gd_images *ds, const char *images_path, const char *labels_path);
void gd_images_free(gd_images *ds);

/* 0 if ds holds at least n images; else -1 with a one-line reason naming the set, how
 * many images it has and what needs n of them (set: "the training set"; what: an option,
 * "--train-size + --val-size"): "the training set has 100 images, too few: --train-size +
 * --val-size needs 6000". The caller adds the directory (gd_fmnist_dir). */
int gd_images_require(const gd_images *ds, long n, const char *set, const char *what);

/* Deterministic split of 0..n-1: shuffled by seed, the first n - n_val indices go to
 * train_idx (n - n_val), the rest to val_idx (n_val). Both sorted ascending. */
int gd_split(int *train_idx, int *val_idx, int n, int n_val, uint64_t seed);

/* X (B, dim) = pixels / 255 and y (B) = labels for the images idx[0..B). */
void gd_images_batch(float *X, int *y, const gd_images *ds, const int *idx, int B);

#endif

/* width-common.h -- what the three programs of Chapter 6's part 'width' (width.c,
 * decay.c, groups.c) share: Fashion-MNIST at a lower resolution, a trainer whose
 * optimizer has parameter groups, and the `key value` rows of a numbers table.
 *
 * Fewer pixels: each image is cut into p x p blocks and every block averaged (as
 * torch.nn.AvgPool2d(p) on the [0, 1] images, then rounded back to a byte), so a
 * 28 x 28 image becomes 14 x 14 (p = 2) or 7 x 7 (p = 4). The runs of this part are
 * sized for a CPU budget of seconds; the input layer is the cheap place to save.
 * Leaves out: anything but an average pool.
 */
#ifndef CH06_WIDTH_COMMON_H
#define CH06_WIDTH_COMMON_H

#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* out (n, 28/p, 28/p) = p x p block means of in (n, 28, 28). 0, or -1 (no memory). */
static inline int wc_pool(gd_images *out, const gd_images *in, int p) {
    int R = in->rows / p, C = in->cols / p;
    *out = (gd_images){.n = in->n, .rows = R, .cols = C, .dim = R * C, .pixels = malloc((size_t)in->n * R * C),
                       .labels = malloc((size_t)in->n)};
    if (!out->pixels || !out->labels) {
        free(out->pixels), free(out->labels);
        return gd_seterr("out of memory for the pooled images");
    }
    memcpy(out->labels, in->labels, (size_t)in->n);
    for (int i = 0; i < in->n; i++) {
        const uint8_t *src = in->pixels + (size_t)i * in->dim;
        uint8_t *dst = out->pixels + (size_t)i * out->dim;
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++) {
                int sum = 0;   /* the block's mean, rounded to the nearest byte */
                for (int u = 0; u < p; u++)
                    for (int v = 0; v < p; v++) sum += src[(r * p + u) * in->cols + c * p + v];
                dst[r * C + c] = (uint8_t)((sum + p * p / 2) / (p * p));
            }
    }
    return 0;
}

/* Load Fashion-MNIST (the --data directory, see data.h), check that its training set has
 * at least need images (what: the options that need them, for the message), and pool it
 * by p (1: as it is). 0, or the exit status after one line on stderr: 2 for the data (a
 * missing, damaged or too small directory), 1 when memory runs out. */
static inline int wc_load(const char *data, int p, long need, const char *what, gd_images *train, gd_images *test) {
    gd_train_opts to = gd_train_opts_defaults();
    to.data = data;
    if (gd_train_opts_load(&to, train, test) != 0) return 2;
    if (gd_images_require(train, need, "the training set", what) != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(data), gd_error());
        gd_images_free(train), gd_images_free(test);
        return 2;
    }
    if (p == 1) return 0;
    gd_images full[2] = {*train, *test};
    if (wc_pool(train, &full[0], p) != 0 || wc_pool(test, &full[1], p) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_images_free(&full[0]);
    gd_images_free(&full[1]);
    return 0;
}

/* Replace the trainer's optimizer (one group, as train.h makes it) by one of the same
 * kind and hyperparameters hp whose groups the caller adds: torch.optim.X(param_groups).
 * The trainer keeps stepping, scheduling and logging as before. 0, or -1 (gd_error). */
static inline int wc_regroup(gd_trainer *tr, gd_optim_kind kind, const gd_hparams *hp) {
    gd_optim *o = gd_optim_new(kind, hp);
    if (!o) return -1;
    gd_optim_free(tr->opt);
    tr->opt = o;
    return 0;
}

/* One `key value` row, the key "width_" + name. */
static inline void wc_kv(gd_table *t, const char *name, const char *fmt, ...) GD_PRINTF(3, 4);
static inline void wc_kv(gd_table *t, const char *name, const char *fmt, ...) {
    char key[160], value[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    snprintf(key, sizeof key, "width_%s", name);
    gd_table_kv(t, key, "%s", value);
}

/* A learning rate for the text, 3 significant digits: 0.001, 0.0003, 0.0156. */
static inline const char *wc_lr(char *buf, size_t n, double lr) {
    snprintf(buf, n, "%.3g", lr);
    return buf;
}

#endif

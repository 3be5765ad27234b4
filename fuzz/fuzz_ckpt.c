/* fuzz_ckpt.c -- the checkpoint reader (ckpt.h: gd_ckpt_check, and gd_ckpt_load into a
 * small trainer), what `--resume` trusts.
 *
 * Input: MODE (1 byte), then the checkpoint file's bytes.
 *   MODE bits 0-1 pick the trainer the file is loaded into (fuzz_ckpt_cfg below: four
 *   MLPs on 24 made-up 2x2 images, with SGD, Adam + a plateau schedule, SGD with
 *   momentum stepped per epoch, RMSprop + onecycle); bit 2 rewrites the file's last 4
 *   bytes as the CRC-32 of the bytes before them, so that mutations get past the CRC
 *   to the sections behind it (without it, nearly every mutation is refused there).
 *
 * Checked: every refusal gives one printable line naming the file; a refused load
 * changes nothing in the trainer (parameters, optimizer and plateau state, data order,
 * RNG, counters); a file the loader accepts passes gd_ckpt_check and agrees with what
 * it reports (step, epoch); after an accepted load the trainer trains three more steps
 * (the sanitizers watch it use the order, position and state it was given).
 *
 * fuzz/mkcorpus.c builds these trainers too (fuzz_ckpt_trainer) to write the seeds.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ckpt.h"
#include "fuzz.h"
#include "train.h"

#define FUZZ_CKPT_N 24   /* images */

typedef struct {
    const char *optim, *sched;
    int per_epoch, nlayers, dims[3];
    gd_act act;
} fuzz_ckpt_cfg;

static const fuzz_ckpt_cfg fuzz_ckpt_cfgs[4] = {
    {"sgd:lr=0.1", NULL, 0, 2, {4, 3, 10}, GD_ACT_RELU},
    {"adam:lr=0.01", "warmup:T=2,plateau:patience=1", 0, 2, {4, 3, 10}, GD_ACT_RELU},
    {"sgd:lr=0.1:momentum=0.9:nesterov=1", "step:size=1:gamma=0.5", 1, 2, {4, 5, 10}, GD_ACT_TANH},
    {"rmsprop:lr=0.01:centered=1:momentum=0.5", "onecycle:T=20", 0, 1, {4, 10, 0}, GD_ACT_RELU},
};

/* 24 images of 2x2 pixels, labels 0..9 in turn. */
static const gd_images *fuzz_ckpt_images(void) {
    static uint8_t pixels[FUZZ_CKPT_N * 4], labels[FUZZ_CKPT_N];
    static gd_images ds;
    if (!ds.n) {
        for (int i = 0; i < FUZZ_CKPT_N * 4; i++) pixels[i] = (uint8_t)(i * 37 % 256);
        for (int i = 0; i < FUZZ_CKPT_N; i++) labels[i] = (uint8_t)(i % 10);
        ds.n = FUZZ_CKPT_N, ds.rows = 2, ds.cols = 2, ds.dim = 4, ds.pixels = pixels, ds.labels = labels;
    }
    return &ds;
}

/* A fresh trainer of configuration k (0..3), or NULL. */
static gd_trainer *fuzz_ckpt_trainer(int k) {
    const fuzz_ckpt_cfg *c = &fuzz_ckpt_cfgs[k & 3];
    gd_train_cfg cfg = gd_train_defaults();
    cfg.nlayers = c->nlayers;
    for (int l = 0; l <= c->nlayers; l++) cfg.dims[l] = c->dims[l];
    cfg.act = c->act;
    cfg.optim = c->optim;
    cfg.sched = c->sched;
    cfg.sched_per_epoch = c->per_epoch;
    cfg.batch_size = 4;
    cfg.epochs = 2;
    cfg.seed = 3;
    cfg.train = fuzz_ckpt_images();
    cfg.label = "fuzz";
    return gd_trainer_new(&cfg);
}

/* Everything a load may change, hashed. */
static uint32_t fuzz_ckpt_print(const gd_trainer *tr) {
    uLong h = crc32(0L, Z_NULL, 0);
    for (int p = 0; p < tr->model.nparams; p++) {
        const gd_tensor *v = tr->model.params[p].value;
        h = crc32(h, (const Bytef *)v->data, (uInt)(v->size * sizeof(float)));
    }
    size_t n = gd_optim_state_size(tr->opt);
    unsigned char *b = malloc(n ? n : 1);
    if (b) {
        gd_optim_state_write(tr->opt, b);
        h = crc32(h, b, (uInt)n);
        free(b);
    }
    if (tr->sched && (n = gd_sched_state_size(tr->sched)) > 0 && (b = malloc(n)) != NULL) {
        gd_sched_state_write(tr->sched, b);
        h = crc32(h, b, (uInt)n);
        free(b);
    }
    h = crc32(h, (const Bytef *)tr->order, (uInt)((size_t)tr->n_train * sizeof *tr->order));
    const long counters[] = {tr->n_train, tr->pos, tr->step, tr->epoch};
    h = crc32(h, (const Bytef *)counters, sizeof counters);
    h = crc32(h, (const Bytef *)&tr->lr_scale, sizeof tr->lr_scale);
    h = crc32(h, (const Bytef *)tr->rng.s, sizeof tr->rng.s);
    h = crc32(h, (const Bytef *)&tr->rng.has_spare, sizeof tr->rng.has_spare);
    h = crc32(h, (const Bytef *)&tr->rng.spare, sizeof tr->rng.spare);
    return (uint32_t)h;
}

int gd_fuzz_ckpt(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 20) return 0;
    int mode = data[0];
    data++, size--;
    unsigned char *file = malloc(size ? size : 1);
    if (!file) return 0;
    if (size) memcpy(file, data, size);
    if ((mode & 4) && size >= 4) {
        uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), file, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) file[size - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));   /* little-endian */
    }
    const char *path = gd_fuzz_path(2, "ckpt.bin");
    if (gd_fuzz_write(path, file, size) != 0) {
        free(file);
        return 0;
    }
    free(file);

    gd_ckpt_info info;
    gd_fuzz_clear_error();
    int checked = gd_ckpt_check(path, &info);
    if (checked != 0) {
        gd_fuzz_check_error("ckpt", "gd_ckpt_check");
        if (!strstr(gd_error(), path)) gd_fuzz_fail("ckpt", "gd_ckpt_check: the reason does not name the file", gd_error());
    }

    gd_trainer *tr = fuzz_ckpt_trainer(mode);
    if (!tr) gd_fuzz_fail("ckpt", "the harness's trainer", gd_error());
    uint32_t before = fuzz_ckpt_print(tr);
    double best = -1;
    gd_fuzz_clear_error();
    if (gd_ckpt_load(tr, path, &best) != 0) {
        gd_fuzz_check_error("ckpt", "gd_ckpt_load");
        if (!strstr(gd_error(), path)) gd_fuzz_fail("ckpt", "gd_ckpt_load: the reason does not name the file", gd_error());
        if (fuzz_ckpt_print(tr) != before) gd_fuzz_fail("ckpt", "a refused load changed the trainer", gd_error());
    } else {
        if (checked != 0) gd_fuzz_fail("ckpt", "gd_ckpt_load accepted a file gd_ckpt_check refuses", NULL);
        if (info.step != tr->step || info.epoch != tr->epoch)
            gd_fuzz_fail("ckpt", "gd_ckpt_check and gd_ckpt_load disagree on step or epoch", NULL);
        if (tr->pos < 0 || tr->pos > tr->n_train) gd_fuzz_fail("ckpt", "position outside the epoch", NULL);
        for (int i = 0; i < tr->n_train; i++)
            if (tr->order[i] < 0 || tr->order[i] >= FUZZ_CKPT_N) gd_fuzz_fail("ckpt", "an index outside the data", NULL);
        for (int t = 0; t < 3; t++) gd_trainer_step(tr);
    }
    gd_trainer_free(tr);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_ckpt(data, size); }
#endif

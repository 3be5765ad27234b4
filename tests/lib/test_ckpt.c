/* test_ckpt.c -- lib/ckpt.h: checkpoints resume exactly, refuse anything wrong, and
 * survive being killed.
 *
 *   exact resume   N steps straight == k steps, save, load into a fresh trainer, N - k
 *                  more: every parameter bitwise (Fashion-MNIST, Adam with warmup then
 *                  cosine, and SGD-Nesterov with a plateau schedule stepped per epoch)
 *   refusals       every truncation length, every bit of every byte flipped, wrong
 *                  magic, version and flags, a different model, optimizer, schedule,
 *                  batch size or training set: -1, one line naming the file, the trainer
 *                  unchanged. Flips with the CRC recomputed reach the parser itself:
 *                  refused or loaded, never a crash.
 *   crash safety   a failed write (file size limit) leaves the old file; SIGKILL at
 *                  random moments of a writer that resumes and saves in a loop (50
 *                  kills) always leaves a loadable checkpoint that is never older than
 *                  the one before and equals, bitwise, an uninterrupted run.
 *   the directory  keep the last N and the best (min and max), skip damaged files,
 *                  drop an abandoned future and temporary files of killed writers.
 *
 * The small trainer is 8-5-10 on 32 synthetic 2x4 images (a checkpoint of ~2 kB, so
 * the sweeps are exhaustive). Every test works in its own mkdtemp directory.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ckpt.h"
#include "err.h"
#include "rng.h"
#include "train.h"

/* ------------------------------------------------------------------------------- */
/* helpers */

static char tmpdir[256];

static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void tmp_init(void) {
    strcpy(tmpdir, "/tmp/gdtest-ckpt.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    gd_blas_threads(1);
}
static void tmp_fini(void) { rm_rf(tmpdir); }

static char *in_tmp(const char *name) {
    static char buf[64][512];                              /* a ring: the last 64 stay valid */
    static int k;
    char *s = buf[k++ % 64];
    snprintf(s, 512, "%s/%s", tmpdir, name);
    return s;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* A new file each time: rewriting one in place makes ext4 flush it on close (auto_da_alloc). */
static void spit(const char *path, const unsigned char *b, size_t n) {
    unlink(path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(b, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* 32 random 2x4 images with labels 0..9. */
static gd_images tiny;
static uint8_t tiny_pixels[32 * 8], tiny_labels[32];
static int tiny_idx[20] = {0, 2, 3, 5, 7, 8, 9, 11, 12, 14, 15, 17, 19, 20, 22, 24, 26, 27, 29, 31};
static int other_idx[20] = {1, 2, 3, 5, 7, 8, 9, 11, 12, 14, 15, 17, 19, 20, 22, 24, 26, 27, 29, 31};

static void tiny_make(void) {
    gd_rng r;
    gd_rng_seed(&r, 99);
    for (int i = 0; i < 32 * 8; i++) tiny_pixels[i] = (uint8_t)gd_rng_below(&r, 256);
    for (int i = 0; i < 32; i++) tiny_labels[i] = (uint8_t)(i % 10);
    tiny = (gd_images){32, 2, 4, 8, tiny_pixels, tiny_labels};
}

/* The small trainer: 8-5-10, Adam, warmup then plateau, batch 6 of 20 images. */
static gd_train_cfg tiny_cfg(void) {
    tiny_make();
    gd_train_cfg c = gd_train_defaults();
    c.nlayers = 2;
    c.dims[0] = 8, c.dims[1] = 5, c.dims[2] = 10;
    c.optim = "adam:lr=0.01";
    c.sched = "warmup:T=3,plateau:patience=2";
    c.batch_size = 6;
    c.seed = 7;
    c.train = &tiny;
    c.train_idx = tiny_idx;
    c.n_train = 20;
    c.label = "ckpt-test";
    return c;
}

static gd_trainer *new_trainer(const gd_train_cfg *c) {
    gd_trainer *tr = gd_trainer_new(c);
    cr_assert_not_null(tr, "trainer: %s", gd_error());
    return tr;
}

/* A trainer that has done `steps` updates, with the plateau fed now and then. */
static gd_trainer *trained(const gd_train_cfg *c, int steps) {
    gd_trainer *tr = new_trainer(c);
    for (int i = 0; i < steps; i++) {
        double loss = gd_trainer_step(tr);
        if (tr->sched && gd_sched_has_plateau(tr->sched) && tr->step % 2 == 0) gd_sched_observe(tr->sched, loss);
    }
    return tr;
}

/* Everything a trainer's future depends on, as bytes, to compare two trainers. */
typedef struct {
    unsigned char *b;
    size_t n;
} blob;

static void blob_add(blob *s, const void *p, size_t n) {
    s->b = realloc(s->b, s->n + n);
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static blob snap(const gd_trainer *tr) {
    blob s = {NULL, 0};
    for (int p = 0; p < tr->model.nparams; p++)
        blob_add(&s, tr->model.params[p].value->data, tr->model.params[p].value->size * sizeof(float));
    size_t n = gd_optim_state_size(tr->opt);
    unsigned char *o = malloc(n);
    gd_optim_state_write(tr->opt, o);
    blob_add(&s, o, n);
    free(o);
    if (tr->sched) {
        n = gd_sched_state_size(tr->sched);
        o = malloc(n + 1);
        gd_sched_state_write(tr->sched, o);
        blob_add(&s, o, n);
        free(o);
    }
    blob_add(&s, tr->order, (size_t)tr->n_train * sizeof(int));
    long f[3] = {tr->pos, tr->step, tr->epoch};
    blob_add(&s, f, sizeof f);
    blob_add(&s, tr->rng.s, sizeof tr->rng.s);
    blob_add(&s, &tr->rng.has_spare, sizeof tr->rng.has_spare);
    blob_add(&s, &tr->rng.spare, sizeof tr->rng.spare);
    return s;
}

static int same(blob a, blob b) { return a.n == b.n && memcmp(a.b, b.b, a.n) == 0; }

/* A refusal: -1, one line that names the file (and says `word`), the trainer unchanged. */
static void expect_refused(int rc, const char *path, const char *word, const gd_trainer *tr, blob before,
                           const char *what) {
    const char *e = gd_error();
    cr_assert_eq(rc, -1, "%s: loaded, expected a refusal", what);
    cr_assert(e[0] != '\0', "%s: no reason given", what);
    cr_assert_null(strchr(e, '\n'), "%s: more than one line: %s", what, e);
    cr_assert_not_null(strstr(e, path), "%s: \"%s\" does not name %s", what, e, path);
    if (word) cr_assert_not_null(strstr(e, word), "%s: \"%s\" does not say \"%s\"", what, e, word);
    if (tr) {
        blob after = snap(tr);
        cr_assert(same(before, after), "%s: the refused load changed the trainer", what);
        free(after.b);
    }
}

static uint32_t crc_of(const unsigned char *b, size_t n) { return (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)n); }

static void put_le32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* ------------------------------------------------------------------------------- */
/* round trip and exact resume */

Test(lib_ckpt, save_load_round_trip_is_bitwise, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 11), *b = new_trainer(&c);
    const char *path = in_tmp("sub/dir/a.bin");           /* parent directories are made */
    cr_assert_eq(gd_ckpt_save(a, path, 0.125), 0, "%s", gd_error());
    double best = 0;
    cr_assert_eq(gd_ckpt_load(b, path, &best), 0, "%s", gd_error());
    cr_assert_eq(best, 0.125);
    blob sa = snap(a), sb = snap(b);
    cr_assert(same(sa, sb), "the loaded trainer differs from the saved one");
    cr_assert_eq(b->step, 11);

    gd_ckpt_info info;
    cr_assert_eq(gd_ckpt_check(path, &info), 0, "%s", gd_error());
    cr_assert(info.step == 11 && info.nlayers == 2 && info.dims[0] == 8 && info.dims[1] == 5 && info.dims[2] == 10);
    cr_assert_eq(info.numel, 8 * 5 + 5 + 5 * 10 + 10);
    struct stat st;
    stat(path, &st);
    cr_assert_eq(info.bytes, (size_t)st.st_size);
    cr_assert_null(opendir(in_tmp("sub/dir/a.bin.tmp")), "temporary left behind");

    /* NaN is "no best yet", and saving twice gives the same bytes */
    cr_assert_eq(gd_ckpt_save(a, in_tmp("n1.bin"), NAN), 0);
    cr_assert_eq(gd_ckpt_save(a, in_tmp("n2.bin"), NAN), 0);
    cr_assert_eq(gd_ckpt_load(b, in_tmp("n1.bin"), &best), 0, "%s", gd_error());
    cr_assert(isnan(best));
    size_t n1, n2;
    unsigned char *f1 = slurp(in_tmp("n1.bin"), &n1), *f2 = slurp(in_tmp("n2.bin"), &n2);
    cr_assert(n1 == n2 && memcmp(f1, f2, n1) == 0, "two saves of one state differ");
    cr_assert(memcmp(f1, "GDCKPT\0\0\1\0\0\0\0\0\0\0", 16) == 0, "header is not magic, version 1, flags 0");
    free(f1), free(f2), free(sa.b), free(sb.b);
    gd_trainer_free(a);
    gd_trainer_free(b);
}

/* A back-off's lr_scale is part of the state: a resumed run keeps its reduced lr. */
Test(lib_ckpt, lr_scale_is_saved, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 3), *b = new_trainer(&c);
    a->lr_scale = 0.25;
    cr_assert_eq(gd_ckpt_save(a, in_tmp("s.bin"), NAN), 0, "%s", gd_error());
    cr_assert_eq(b->lr_scale, 1.0);
    cr_assert_eq(gd_ckpt_load(b, in_tmp("s.bin"), NULL), 0, "%s", gd_error());
    cr_assert_eq(b->lr_scale, 0.25);
    gd_trainer_free(a);
    gd_trainer_free(b);
}

/* Fashion-MNIST, 1200 training images in batches of 100 (12 steps an epoch), 784-32-10. */
static gd_images fm;

static void fm_load(void) {
    char img[1024], lab[1024];
    const char *dir = gd_fmnist_dir(NULL);
    /* gzipped as Debian ships it, or plain as make unpacks it into the build */
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    const char *gz = access(img, R_OK) == 0 ? ".gz" : "";
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte%s", dir, gz);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte%s", dir, gz);
    cr_assert_eq(gd_idx_load(&fm, img, lab), 0, "%s", gd_error());
}

static void params_of(const gd_trainer *tr, float *out) {
    for (int p = 0; p < tr->model.nparams; p++) {
        memcpy(out, tr->model.params[p].value->data, tr->model.params[p].value->size * sizeof(float));
        out += tr->model.params[p].value->size;
    }
}

/* One step of the run: the plateau (when there is one) sees a metric that never improves
 * every 5 steps, so that it does cut the lr, on the same steps in both runs. */
static void run_step(gd_trainer *tr) {
    gd_trainer_step(tr);
    if (tr->sched && gd_sched_has_plateau(tr->sched) && tr->step % 5 == 0) gd_sched_observe(tr->sched, 1.0);
}

static void exact_resume(gd_train_cfg *c, const long *ks, int nks, long N) {
    size_t numel = 0;
    gd_trainer *straight = new_trainer(c);
    numel = gd_mlp_numel(&straight->model);
    float *want = malloc(numel * sizeof(float)), *got = malloc(numel * sizeof(float));
    float *init = malloc(numel * sizeof(float));
    params_of(straight, init);
    while (straight->step < N) run_step(straight);
    params_of(straight, want);
    cr_assert(memcmp(want, init, numel * sizeof(float)) != 0, "training did not change the parameters");
    double lr_end = gd_optim_lr(straight->opt, 0);
    for (int i = 0; i < nks; i++) {
        gd_trainer *a = new_trainer(c);
        while (a->step < ks[i]) run_step(a);
        const char *path = in_tmp("resume.bin");
        cr_assert_eq(gd_ckpt_save(a, path, NAN), 0, "%s", gd_error());
        gd_trainer_free(a);                                /* the first run is gone */
        gd_trainer *b = new_trainer(c);
        cr_assert_eq(gd_ckpt_load(b, path, NULL), 0, "%s", gd_error());
        cr_assert_eq(b->step, ks[i]);
        while (b->step < N) run_step(b);
        params_of(b, got);
        size_t diff = 0;
        for (size_t j = 0; j < numel; j++) diff += memcmp(&want[j], &got[j], sizeof(float)) != 0;
        cr_assert_eq(diff, 0, "k = %ld: %zu of %zu parameters differ from the straight run", ks[i], diff, numel);
        cr_assert_eq(gd_optim_lr(b->opt, 0), lr_end, "k = %ld: lr at the end differs", ks[i]);
        gd_trainer_free(b);
    }
    free(want), free(got), free(init);
    gd_trainer_free(straight);
}

Test(lib_ckpt, resume_is_exact_adam_warmup_cosine, .init = tmp_init, .fini = tmp_fini) {
    fm_load();
    gd_train_cfg c = gd_train_defaults();
    c.dims[0] = 784, c.dims[1] = 32, c.dims[2] = 10;
    c.optim = "adam:lr=3e-3";
    c.sched = "warmup:T=10,cosine:T=50:min=1e-4";
    c.batch_size = 100;
    c.seed = 3;
    c.train = &fm;
    c.n_train = 1200;                                      /* the first 1200 images */
    /* mid-epoch, right at an epoch's end (the reshuffle comes with the next step),
     * the first step, the last step */
    const long ks[] = {29, 24, 1, 59};
    exact_resume(&c, ks, 4, 60);
    gd_images_free(&fm);
}

/* Every optimizer kind resumes exactly (the kinds added after the checkpoint format was
 * written were once refused as "unknown optimizer kind"). */
Test(lib_ckpt, resume_is_exact_for_every_optimizer_kind, .init = tmp_init, .fini = tmp_fini) {
    fm_load();
    for (int k = 0; k < GD_OPTIM_NKINDS; k++) {
        gd_train_cfg c = gd_train_defaults();
        c.dims[0] = 784, c.dims[1] = 16, c.dims[2] = 10;
        c.optim = gd_optim_name((gd_optim_kind)k);         /* the kind's defaults */
        c.batch_size = 100;
        c.seed = 5;
        c.train = &fm;
        c.n_train = 600;
        const long ks[] = {7};
        exact_resume(&c, ks, 1, 12);
    }
    gd_images_free(&fm);
}

Test(lib_ckpt, resume_is_exact_sgd_nesterov_plateau_per_epoch, .init = tmp_init, .fini = tmp_fini) {
    fm_load();
    int train_idx[1000];
    for (int i = 0; i < 1000; i++) train_idx[i] = 59000 - 37 * i;       /* scattered images */
    gd_train_cfg c = gd_train_defaults();
    c.dims[0] = 784, c.dims[1] = 24, c.dims[2] = 10;
    c.act = GD_ACT_TANH;
    c.optim = "sgd:lr=0.1:momentum=0.9:nesterov=1:weight_decay=1e-4";
    c.sched = "warmup:T=1,plateau:patience=1:factor=0.5";
    c.sched_per_epoch = 1;
    c.batch_size = 64;                                     /* 16 steps, the last of 40 images */
    c.seed = 11;
    c.train = &fm;
    c.train_idx = train_idx;
    c.n_train = 1000;
    const long ks[] = {21, 16, 47};
    exact_resume(&c, ks, 3, 70);
    /* the plateau did cut the lr (a metric that never improves, patience 1) */
    gd_trainer *t = new_trainer(&c);
    while (t->step < 70) run_step(t);
    cr_assert_lt(gd_optim_lr(t->opt, 0), 0.1 * 0.5 * 0.5 + 1e-12, "the plateau did not cut the lr twice");
    gd_trainer_free(t);
    gd_images_free(&fm);
}

/* ------------------------------------------------------------------------------- */
/* refusals */

Test(lib_ckpt, refuses_a_different_model, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 4);
    const char *path = in_tmp("a.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 1.0), 0, "%s", gd_error());

    gd_train_cfg wider = c, deeper = c, tanh_cfg = c;
    wider.dims[1] = 6;
    deeper.nlayers = 3, deeper.dims[2] = 7, deeper.dims[3] = 10;
    tanh_cfg.act = GD_ACT_TANH;
    struct {
        gd_train_cfg *c;
        const char *msg;
    } cases[] = {{&wider, "model is 8-5-10 relu, the trainer's 8-6-10 relu"},
                 {&deeper, "model is 8-5-10 relu, the trainer's 8-5-7-10 relu"},
                 {&tanh_cfg, "model is 8-5-10 relu, the trainer's 8-5-10 tanh"}};
    for (int i = 0; i < 3; i++) {
        gd_trainer *b = trained(cases[i].c, 2);
        blob before = snap(b);
        expect_refused(gd_ckpt_load(b, path, NULL), path, cases[i].msg, b, before, cases[i].msg);
        free(before.b);
        gd_trainer_free(b);
    }
    gd_trainer_free(a);
}

Test(lib_ckpt, refuses_a_different_config, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 4);
    const char *path = in_tmp("a.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 1.0), 0, "%s", gd_error());

    gd_train_cfg k[8];
    const char *msg[8];
    for (int i = 0; i < 8; i++) k[i] = c;
    k[0].optim = "sgd:lr=0.01:momentum=0.9", msg[0] = "optimizer is adam, the trainer's sgd";
    k[1].optim = "adamw:lr=0.01", msg[1] = "optimizer is adam, the trainer's adamw";
    k[2].sched = "warmup:T=4,plateau:patience=2", msg[2] = "schedule is 'warmup:T=3";
    k[3].sched = NULL, msg[3] = "the trainer's 'constant'";
    k[4].sched_per_epoch = 1, msg[4] = "steps per update, the trainer's per epoch";
    k[5].batch_size = 5, msg[5] = "batch size is 6, the trainer's 5";
    k[6].train_idx = other_idx, msg[6] = "training images are not the trainer's";
    k[7].n_train = 19, msg[7] = "trains on 20 images, the trainer on 19";
    for (int i = 0; i < 8; i++) {
        gd_trainer *b = trained(&k[i], 1);
        blob before = snap(b);
        expect_refused(gd_ckpt_load(b, path, NULL), path, msg[i], b, before, msg[i]);
        free(before.b);
        gd_trainer_free(b);
    }
    /* and a constant-lr checkpoint into a trainer with a schedule */
    gd_train_cfg none = c;
    none.sched = NULL;
    gd_trainer *d = trained(&none, 2), *e = trained(&c, 1);
    cr_assert_eq(gd_ckpt_save(d, path, 1.0), 0, "%s", gd_error());
    blob before = snap(e);
    expect_refused(gd_ckpt_load(e, path, NULL), path, "lr is constant", e, before, "constant into scheduled");
    free(before.b);
    gd_trainer_free(d), gd_trainer_free(e), gd_trainer_free(a);
}

Test(lib_ckpt, refuses_missing_and_non_files, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *b = trained(&c, 1);
    blob before = snap(b);
    expect_refused(gd_ckpt_load(b, in_tmp("nope.bin"), NULL), in_tmp("nope.bin"), "cannot open", b, before, "missing");
    expect_refused(gd_ckpt_load(b, tmpdir, NULL), tmpdir, "not a regular file", b, before, "directory");
    spit(in_tmp("empty.bin"), (const unsigned char *)"", 0);
    expect_refused(gd_ckpt_load(b, in_tmp("empty.bin"), NULL), in_tmp("empty.bin"), "truncated", b, before, "empty");
    spit(in_tmp("text.bin"), (const unsigned char *)"step,loss\n1,2.3\n2,2.1\n3,1.9\n", 28);
    expect_refused(gd_ckpt_load(b, in_tmp("text.bin"), NULL), in_tmp("text.bin"), "not a checkpoint", b, before,
                   "a table");
    free(before.b);
    gd_trainer_free(b);
}

/* Header fields with a correct CRC: the reason is the field, not the checksum. */
Test(lib_ckpt, refuses_wrong_magic_version_flags, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 3), *b = trained(&c, 1);
    const char *path = in_tmp("a.bin"), *bad = in_tmp("bad.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 1.0), 0, "%s", gd_error());
    size_t n;
    unsigned char *f = slurp(path, &n);
    blob before = snap(b);
    struct {
        size_t off;
        uint32_t value;
        const char *word;
    } cases[] = {{0, 0x4b504447u, "not a checkpoint"},     /* "GDPK..." */
                 {8, 3, "checkpoint version 3, this program reads versions 1 and 2"},
                 {8, 0, "checkpoint version 0"},
                 {12, 1, "unknown flags 0x1"}};
    for (int i = 0; i < 4; i++) {
        unsigned char *g = malloc(n);
        memcpy(g, f, n);
        put_le32(g + cases[i].off, cases[i].value);
        put_le32(g + n - 4, crc_of(g, n - 4));
        spit(bad, g, n);
        expect_refused(gd_ckpt_load(b, bad, NULL), bad, cases[i].word, b, before, cases[i].word);
        expect_refused(gd_ckpt_check(bad, NULL), bad, cases[i].word, NULL, before, cases[i].word);
        free(g);
    }
    /* bytes after the end */
    unsigned char *g = malloc(n + 1);
    memcpy(g, f, n);
    g[n] = 0;
    spit(bad, g, n + 1);
    expect_refused(gd_ckpt_load(b, bad, NULL), bad, "but the header says", b, before, "one byte more");
    free(g), free(f), free(before.b);
    gd_trainer_free(a), gd_trainer_free(b);
}

Test(lib_ckpt, refuses_every_truncation, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 9), *b = trained(&c, 2);
    const char *path = in_tmp("a.bin"), *bad = in_tmp("cut.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 2.5), 0, "%s", gd_error());
    size_t n;
    unsigned char *f = slurp(path, &n);
    cr_assert(n > 1000 && n < 8000, "the small checkpoint is %zu bytes", n);
    blob before = snap(b);
    for (size_t len = 0; len < n; len++) {                 /* every length, 0 to n - 1 */
        char what[64];
        snprintf(what, sizeof what, "cut to %zu of %zu bytes", len, n);
        spit(bad, f, len);
        /* a cut inside the magic reads as "truncated"; after it, the length field says so */
        expect_refused(gd_ckpt_load(b, bad, NULL), bad, "truncated", b, before, what);
        expect_refused(gd_ckpt_check(bad, NULL), bad, "truncated", NULL, before, what);
    }
    cr_log_info("all %zu truncations of a %zu-byte checkpoint refused", n, n);
    free(f), free(before.b);
    gd_trainer_free(a), gd_trainer_free(b);
}

Test(lib_ckpt, refuses_every_bit_flip, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 9), *b = trained(&c, 2);
    const char *path = in_tmp("a.bin"), *bad = in_tmp("flip.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 2.5), 0, "%s", gd_error());
    size_t n;
    unsigned char *f = slurp(path, &n);
    blob before = snap(b);
    for (size_t i = 0; i < n; i++) {                       /* every bit of every byte */
        for (int bit = 0; bit < 8; bit++) {
            char what[64];
            snprintf(what, sizeof what, "byte %zu bit %d of %zu bytes", i, bit, n);
            f[i] ^= (unsigned char)(1u << bit);
            spit(bad, f, n);
            f[i] ^= (unsigned char)(1u << bit);
            expect_refused(gd_ckpt_load(b, bad, NULL), bad, NULL, b, before, what);
        }
    }
    cr_log_info("all %zu single-bit flips of a %zu-byte checkpoint refused", 8 * n, n);
    /* the original still loads */
    cr_assert_eq(gd_ckpt_load(b, path, NULL), 0, "%s", gd_error());
    free(f), free(before.b);
    gd_trainer_free(a), gd_trainer_free(b);
}

/* A flip with the CRC recomputed gets past the checksum to the parser and to the
 * optimizer's and schedule's own checks: it must be refused in one line (trainer
 * unchanged), or load (a flipped parameter value is still a checkpoint); never crash or
 * read out of bounds (run this one under valgrind). */
Test(lib_ckpt, parser_survives_flips_behind_a_good_crc, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 9), *b = trained(&c, 2);
    const char *path = in_tmp("a.bin"), *bad = in_tmp("flip.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 2.5), 0, "%s", gd_error());
    size_t n;
    unsigned char *f = slurp(path, &n);
    unsigned char *g = malloc(n);
    blob before = snap(b);
    int refused = 0, loaded = 0;
    for (size_t i = 0; i + 4 < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(g, f, n);
            g[i] ^= (unsigned char)(1u << bit);
            put_le32(g + n - 4, crc_of(g, n - 4));
            spit(bad, g, n);
            if (gd_ckpt_load(b, bad, NULL) == 0) {
                loaded++;
                gd_trainer_free(b);                        /* start again from the same state */
                b = trained(&c, 2);
                continue;
            }
            char what[64];
            snprintf(what, sizeof what, "byte %zu bit %d (CRC fixed)", i, bit);
            expect_refused(-1, bad, NULL, b, before, what);
            refused++;
        }
    }
    cr_log_info("CRC-fixed flips: %d refused, %d loaded (parameter and metric values)", refused, loaded);
    cr_assert_gt(refused, 0);
    free(f), free(g), free(before.b);
    gd_trainer_free(a), gd_trainer_free(b);
}

/* ------------------------------------------------------------------------------- */
/* crash safety */

static int count_entries(const char *dir, const char *containing) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && (!containing || strstr(e->d_name, containing))) n++;
    closedir(d);
    return n;
}

/* A write that fails half-way (the file size limit, EFBIG) leaves the old file as it was
 * and no temporary file. In a child process, so that the limit stays there. */
Test(lib_ckpt, failed_write_leaves_the_old_file, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 3);
    const char *path = in_tmp("a.bin");
    cr_assert_eq(gd_ckpt_save(a, path, 1.0), 0, "%s", gd_error());
    size_t n0;
    unsigned char *old = slurp(path, &n0);
    for (int i = 0; i < 5; i++) gd_trainer_step(a);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {1000, 1000};
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = gd_ckpt_save(a, path, 2.0);
        const char *e = gd_error();
        _exit(rc == -1 && strstr(e, path) && !strchr(e, '\n') && strstr(e, "unchanged") ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the failed save did not report one line naming the file");
    size_t n1;
    unsigned char *now = slurp(path, &n1);
    cr_assert(n0 == n1 && memcmp(old, now, n0) == 0, "the old checkpoint was changed by a failed write");
    cr_assert_eq(count_entries(tmpdir, NULL), 1, "a temporary file was left behind");
    gd_trainer *b = new_trainer(&c);
    cr_assert_eq(gd_ckpt_load(b, path, NULL), 0, "%s", gd_error());
    cr_assert_eq(b->step, 3);

    /* unwritable places: a parent that is a file, a path that is a directory */
    cr_assert_eq(gd_ckpt_save(a, in_tmp("a.bin/x.bin"), 1.0), -1);
    cr_assert_null(strchr(gd_error(), '\n'));
    mkdir(in_tmp("d"), 0777);
    cr_assert_eq(gd_ckpt_save(a, in_tmp("d"), 1.0), -1);
    cr_assert_not_null(strstr(gd_error(), in_tmp("d")), "%s", gd_error());
    cr_assert_eq(count_entries(tmpdir, ".tmp."), 0, "a temporary file was left behind");
    free(old), free(now);
    gd_trainer_free(a), gd_trainer_free(b);
}

/* ckpt-STEP.bin files (not their temporaries) */
static int count_ckpts(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += strncmp(e->d_name, "ckpt-", 5) == 0 && len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0;
    }
    closedir(d);
    return n;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a metric that improves at two saves of three, so best.bin is often being replaced */
static double metric_at(long step) { return step % 3 == 0 ? NAN : -(double)step; }

/* The writer: resume from the directory's newest checkpoint, then step and save, forever:
 * over one fixed path (gd_ckpt_save), and into the directory keeping only the last one. */
static void writer(const gd_train_cfg *c, const char *dir, const char *last_path) {
    gd_trainer *tr = gd_trainer_new(c);
    if (!tr) _exit(2);
    char path[1024];
    if (gd_ckpt_dir_latest(dir, path, sizeof path, NULL) != 0 || gd_ckpt_load(tr, path, NULL) != 0) {
        fprintf(stderr, "writer: %s\n", gd_error());
        _exit(3);
    }
    for (;;) {
        gd_trainer_step(tr);
        if (gd_ckpt_save(tr, last_path, NAN) != 0) _exit(4);
        if (gd_ckpt_dir_save(dir, tr, metric_at(tr->step), GD_CKPT_MIN, 1, NULL) != 0) _exit(5);
    }
}

/* The straight run, remembered as a CRC-32 of its parameters at every step. */
typedef struct {
    gd_trainer *tr;
    uint32_t *crc;                                         /* crc[step], step <= tr->step */
    long cap;
} straight_run;

static uint32_t params_crc(const gd_trainer *tr) {
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int p = 0; p < tr->model.nparams; p++)
        crc = crc32(crc, (const Bytef *)tr->model.params[p].value->data,
                    (uInt)(tr->model.params[p].value->size * sizeof(float)));
    return (uint32_t)crc;
}

static uint32_t straight_at(straight_run *s, long step) {
    if (!s->crc) s->crc = malloc((size_t)(s->cap = 1024) * sizeof *s->crc), s->crc[0] = params_crc(s->tr);
    while (s->tr->step < step) {
        gd_trainer_step(s->tr);
        if (s->tr->step >= s->cap) s->crc = realloc(s->crc, (size_t)(s->cap *= 2) * sizeof *s->crc);
        s->crc[s->tr->step] = params_crc(s->tr);
    }
    return s->crc[step];
}

/* path loads into got, is not older than *last, and equals the straight run at its step. */
static void check_survivor(const char *path, gd_trainer *got, straight_run *ref, long *last, int k) {
    gd_ckpt_info info;
    cr_assert_eq(gd_ckpt_check(path, &info), 0, "kill %d: %s", k, gd_error());
    cr_assert_eq(gd_ckpt_load(got, path, NULL), 0, "kill %d: %s", k, gd_error());
    cr_assert_geq(info.step, *last, "kill %d: %s went back from step %ld to %ld", k, path, *last, info.step);
    *last = info.step;
    cr_assert_eq(params_crc(got), straight_at(ref, info.step), "kill %d: %s (step %ld) differs from a straight run",
                 k, path, info.step);
}

Test(lib_ckpt, sigkill_never_loses_the_last_good_checkpoint, .init = tmp_init, .fini = tmp_fini, .timeout = 60) {
    enum { KILLS = 50 };
    gd_train_cfg c = tiny_cfg();
    c.dims[1] = 2048;                                      /* ~470 kB: a write takes a while */
    c.sched = "warmup:T=5,cosine:T=100";
    char dir[512], last_path[512], best_path[512];         /* (in_tmp's ring would wrap) */
    snprintf(dir, sizeof dir, "%s/run", tmpdir);
    snprintf(last_path, sizeof last_path, "%s/last.bin", tmpdir);
    snprintf(best_path, sizeof best_path, "%s/run/best.bin", tmpdir);
    gd_trainer *first = new_trainer(&c), *got = new_trainer(&c);
    straight_run ref = {new_trainer(&c), NULL, 0};
    /* how long the writer takes to start, and to make one round of saves on this disk:
     * the kills fall at random within its first three rounds */
    double t = now_s();
    for (int i = 0; i < 3; i++) {
        gd_trainer_step(first);
        cr_assert_eq(gd_ckpt_save(first, last_path, NAN), 0, "%s", gd_error());
        cr_assert_eq(gd_ckpt_dir_save(dir, first, metric_at(first->step), GD_CKPT_MIN, 1, NULL), 0, "%s",
                     gd_error());
    }
    double round = (now_s() - t) / 3;
    t = now_s();
    char path[1024];
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, NULL), 0, "%s", gd_error());
    cr_assert_eq(gd_ckpt_load(got, path, NULL), 0, "%s", gd_error());
    double start = now_s() - t;
    gd_trainer_free(first);

    gd_rng r;
    gd_rng_seed(&r, 2024);
    long last_file = 3, last_dir = 3, last_best = 2;       /* step 3's metric is NaN */
    int advanced = 0;
    double t0 = now_s();
    for (int k = 0; k < KILLS; k++) {
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) writer(&c, dir, last_path);
        usleep((useconds_t)(1e6 * (start + 3 * round * gd_rng_uniform(&r))));
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "kill %d: the writer stopped by itself (exit %d)", k,
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1);

        /* the newest in the directory, best.bin, the fixed path: each loads, none went
         * back, and each is what a straight run has at its step */
        gd_ckpt_info di;
        cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &di), 0, "kill %d: %s", k, gd_error());
        advanced += di.step > last_dir;
        check_survivor(path, got, &ref, &last_dir, k);
        check_survivor(best_path, got, &ref, &last_best, k);
        check_survivor(last_path, got, &ref, &last_file, k);
    }
    double dt = now_s() - t0;
    /* a save that completes leaves keep_last files and no temporaries of the killed */
    gd_trainer_step(got);
    cr_assert_eq(gd_ckpt_dir_save(dir, got, metric_at(got->step), GD_CKPT_MIN, 1, NULL), 0, "%s", gd_error());
    cr_assert_eq(count_ckpts(dir), 1);
    cr_assert_eq(count_entries(dir, ".tmp."), 0);
    cr_log_info("%d kills in %.1f s (a round of saves %.1f ms); the run reached step %ld, progress after %d kills",
                KILLS, dt, 1e3 * round, last_dir, advanced);
    cr_assert_gt(advanced, KILLS / 4, "the writer rarely got a checkpoint out (%d of %d): test too tight", advanced,
                 KILLS);
    gd_trainer_free(ref.tr), gd_trainer_free(got);
    free(ref.crc);
}

/* ------------------------------------------------------------------------------- */
/* the directory */

static int exists(const char *dir, const char *name) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

Test(lib_ckpt, dir_keeps_the_last_n_and_the_best, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    const char *dir = in_tmp("run");
    gd_trainer *tr = new_trainer(&c);
    /* step:   1    2    3    4    5    6 ; lower is better */
    double metric[] = {5.0, 3.0, 4.0, NAN, 2.5, 2.6};
    int want_best[] = {1, 1, 0, 0, 1, 0};
    for (int i = 0; i < 6; i++) {
        gd_trainer_step(tr);
        int is_best = -1;
        cr_assert_eq(gd_ckpt_dir_save(dir, tr, metric[i], GD_CKPT_MIN, 3, &is_best), 0, "%s", gd_error());
        cr_assert_eq(is_best, want_best[i], "step %d", i + 1);
    }
    cr_assert(!exists(dir, "ckpt-00000001.bin") && !exists(dir, "ckpt-00000002.bin") &&
              !exists(dir, "ckpt-00000003.bin"));
    cr_assert(exists(dir, "ckpt-00000004.bin") && exists(dir, "ckpt-00000005.bin") && exists(dir, "ckpt-00000006.bin"));
    cr_assert_eq(count_entries(dir, NULL), 4, "ckpt-4, 5, 6 and best.bin");
    gd_ckpt_info info;
    cr_assert_eq(gd_ckpt_check(in_tmp("run/best.bin"), &info), 0, "%s", gd_error());
    cr_assert(info.step == 5 && info.best_metric == 2.5, "best.bin: step %ld metric %g", info.step, info.best_metric);
    /* every checkpoint carries the best so far, for early stopping after a resume */
    gd_trainer *b = new_trainer(&c);
    double best;
    cr_assert_eq(gd_ckpt_load(b, in_tmp("run/ckpt-00000006.bin"), &best), 0, "%s", gd_error());
    cr_assert_eq(best, 2.5);
    cr_assert_eq(gd_ckpt_load(b, in_tmp("run/ckpt-00000004.bin"), &best), 0, "%s", gd_error());
    cr_assert_eq(best, 3.0);
    char path[1024];
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &info), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run/ckpt-00000006.bin"));
    cr_assert_eq(info.step, 6);

    /* higher is better, everything kept */
    const char *dir2 = in_tmp("acc");
    gd_trainer *t2 = new_trainer(&c);
    double acc[] = {0.5, 0.7, 0.6, 0.8};
    int want2[] = {1, 1, 0, 1};
    for (int i = 0; i < 4; i++) {
        gd_trainer_step(t2);
        int is_best;
        cr_assert_eq(gd_ckpt_dir_save(dir2, t2, acc[i], GD_CKPT_MAX, 0, &is_best), 0, "%s", gd_error());
        cr_assert_eq(is_best, want2[i], "acc step %d", i + 1);
    }
    cr_assert_eq(count_entries(dir2, "ckpt-"), 4);
    cr_assert_eq(gd_ckpt_check(in_tmp("acc/best.bin"), &info), 0);
    cr_assert(info.step == 4 && info.best_metric == 0.8);

    /* too small a buffer for the path */
    char small[8];
    cr_assert_eq(gd_ckpt_dir_latest(dir, small, sizeof small, NULL), -1);
    gd_trainer_free(tr), gd_trainer_free(b), gd_trainer_free(t2);
}

static void damage(const char *path, size_t off) {
    size_t n;
    unsigned char *f = slurp(path, &n);
    f[off % n] ^= 0x10;
    spit(path, f, n);
    free(f);
}

Test(lib_ckpt, dir_latest_skips_damaged_files, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    const char *dir = in_tmp("run");
    char path[1024];
    gd_ckpt_info info;
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, NULL), 1, "a missing directory: none");
    mkdir(dir, 0777);
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, NULL), 1, "an empty directory: none");
    spit(in_tmp("run/notes.txt"), (const unsigned char *)"x", 1);
    cr_assert_eq(gd_ckpt_dir_latest(in_tmp("run/notes.txt"), path, sizeof path, NULL), -1, "not a directory");
    cr_assert_null(strchr(gd_error(), '\n'));

    gd_trainer *tr = new_trainer(&c);
    double metric[] = {1.0, 3.0, 2.0};                      /* best.bin is step 10 */
    for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 10; s++) gd_trainer_step(tr);
        cr_assert_eq(gd_ckpt_dir_save(dir, tr, metric[i], GD_CKPT_MIN, 0, NULL), 0, "%s", gd_error());
    }
    damage(in_tmp("run/ckpt-00000030.bin"), 777);
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &info), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run/ckpt-00000020.bin"));
    cr_assert_eq(truncate(in_tmp("run/ckpt-00000020.bin"), 100), 0);
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &info), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run/ckpt-00000010.bin"));
    damage(in_tmp("run/ckpt-00000010.bin"), 5);
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &info), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run/best.bin"));        /* the one good copy left */
    cr_assert_eq(info.step, 10);
    damage(in_tmp("run/best.bin"), 3000);
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, &info), 1);
    cr_assert_not_null(strstr(gd_error(), "no loadable checkpoint: 4 damaged"), "%s", gd_error());
    cr_assert_null(strchr(gd_error(), '\n'));

    /* best.bin is the fallback, not a candidate: after a back-off it may be from a run
     * that was abandoned, at a later step than where the run now is */
    const char *dir2 = in_tmp("run2");
    gd_trainer *t2 = new_trainer(&c);
    double m2[] = {3.0, 1.0, 2.0};                          /* best.bin is step 2 */
    for (int i = 0; i < 3; i++) {
        gd_trainer_step(t2);
        cr_assert_eq(gd_ckpt_dir_save(dir2, t2, m2[i], GD_CKPT_MIN, 0, NULL), 0, "%s", gd_error());
    }
    damage(in_tmp("run2/ckpt-00000003.bin"), 100);
    damage(in_tmp("run2/ckpt-00000002.bin"), 100);
    cr_assert_eq(gd_ckpt_dir_latest(dir2, path, sizeof path, &info), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run2/ckpt-00000001.bin"));
    cr_assert_eq(info.step, 1);
    gd_trainer_free(tr), gd_trainer_free(t2);
}

Test(lib_ckpt, dir_drops_an_abandoned_future_and_stale_temporaries, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    const char *dir = in_tmp("run");
    gd_trainer *tr = new_trainer(&c);
    for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 10; s++) gd_trainer_step(tr);
        cr_assert_eq(gd_ckpt_dir_save(dir, tr, 10.0 - i, GD_CKPT_MIN, 5, NULL), 0, "%s", gd_error());
    }
    /* what killed writers leave (a process that has ended: a child, waited for), what a
     * running one is writing (process 1 never ends: not litter, kept, as out.h's rule
     * for every writer), and a file that is not ours */
    pid_t dead = fork();
    cr_assert(dead >= 0);
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale1[64], stale2[64];
    snprintf(stale1, sizeof stale1, "run/ckpt-00000040.bin.tmp.%ld", (long)dead);
    snprintf(stale2, sizeof stale2, "run/best.bin.tmp.%ld", (long)dead);
    spit(in_tmp(stale1), (const unsigned char *)"GDCK", 4);
    spit(in_tmp(stale2), (const unsigned char *)"", 0);
    spit(in_tmp("run/ckpt-00000050.bin.tmp.1"), (const unsigned char *)"GDCK", 4);
    spit(in_tmp("run/notes.txt"), (const unsigned char *)"mine", 4);
    /* back off: resume from step 10, continue to 15 and save */
    gd_trainer *b = new_trainer(&c);
    cr_assert_eq(gd_ckpt_load(b, in_tmp("run/ckpt-00000010.bin"), NULL), 0, "%s", gd_error());
    for (int s = 0; s < 5; s++) gd_trainer_step(b);
    int is_best;
    cr_assert_eq(gd_ckpt_dir_save(dir, b, 9.5, GD_CKPT_MIN, 5, &is_best), 0, "%s", gd_error());
    cr_assert_eq(is_best, 0, "best.bin (8.0, step 30) still stands");
    cr_assert(exists(dir, "ckpt-00000010.bin") && exists(dir, "ckpt-00000015.bin"));
    cr_assert(!exists(dir, "ckpt-00000020.bin") && !exists(dir, "ckpt-00000030.bin"), "the abandoned future stays");
    cr_assert(!exists(dir, stale1 + 4) && !exists(dir, stale2 + 4), "stale temporaries");
    cr_assert(exists(dir, "ckpt-00000050.bin.tmp.1"), "a running writer's temporary file was removed");
    cr_assert(exists(dir, "notes.txt") && exists(dir, "best.bin"));
    char path[1024];
    cr_assert_eq(gd_ckpt_dir_latest(dir, path, sizeof path, NULL), 0, "%s", gd_error());
    cr_assert_str_eq(path, in_tmp("run/ckpt-00000015.bin"));
    gd_trainer_free(tr), gd_trainer_free(b);
}

/* ------------------------------------------------------------------------------- */
/* Damage is kept (ckpt.h, DAMAGE): a damaged checkpoint is never deleted by the clean-up
 * (too old, or of an abandoned future) and never written over; a save that needs its
 * name renames it to NAME.damaged first, bytes unchanged, and says so. */

static int same_bytes(const char *path, const unsigned char *b, size_t n) {
    if (access(path, F_OK) != 0) return 0;
    size_t m;
    unsigned char *f = slurp(path, &m);
    int eq = m == n && memcmp(f, b, n) == 0;
    free(f);
    return eq;
}

Test(lib_ckpt, dir_never_deletes_or_overwrites_a_damaged_checkpoint, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    const char *dir = in_tmp("run");
    gd_trainer *tr = new_trainer(&c);
    double metric[] = {5.0, 4.0, 3.0};                     /* best.bin: step 30 */
    for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 10; s++) gd_trainer_step(tr);
        cr_assert_eq(gd_ckpt_dir_save(dir, tr, metric[i], GD_CKPT_MIN, 2, NULL), 0, "%s", gd_error());
    }
    cr_assert(exists(dir, "ckpt-00000020.bin") && exists(dir, "ckpt-00000030.bin") && !exists(dir, "ckpt-00000010.bin"));

    /* too old for keep_last 2 at the next save, but damaged: it stays, byte for byte */
    damage(in_tmp("run/ckpt-00000020.bin"), 500);
    size_t n20;
    unsigned char *d20 = slurp(in_tmp("run/ckpt-00000020.bin"), &n20);
    for (int s = 0; s < 10; s++) gd_trainer_step(tr);
    cr_assert_eq(gd_ckpt_dir_save(dir, tr, 6.0, GD_CKPT_MIN, 2, NULL), 0, "%s", gd_error());
    cr_expect(same_bytes(in_tmp("run/ckpt-00000020.bin"), d20, n20), "the clean-up deleted a damaged checkpoint");
    cr_expect_str_eq(gd_ckpt_dir_set_aside(), "", "nothing was renamed");

    /* a damaged checkpoint of a later step (an abandoned future): kept too */
    damage(in_tmp("run/ckpt-00000040.bin"), 700);
    size_t n40;
    unsigned char *d40 = slurp(in_tmp("run/ckpt-00000040.bin"), &n40);
    gd_trainer *b = new_trainer(&c);
    cr_assert_eq(gd_ckpt_load(b, in_tmp("run/ckpt-00000030.bin"), NULL), 0, "%s", gd_error());
    for (int s = 0; s < 5; s++) gd_trainer_step(b);
    cr_assert_eq(gd_ckpt_dir_save(dir, b, 7.0, GD_CKPT_MIN, 2, NULL), 0, "%s", gd_error());
    cr_expect(same_bytes(in_tmp("run/ckpt-00000040.bin"), d40, n40), "a damaged future checkpoint was deleted");

    /* the same step saved again: the damaged file is renamed aside, never written over */
    for (int s = 0; s < 5; s++) gd_trainer_step(b);
    cr_assert_eq(b->step, 40);
    cr_assert_eq(gd_ckpt_dir_save(dir, b, 7.0, GD_CKPT_MIN, 2, NULL), 0, "%s", gd_error());
    cr_expect(same_bytes(in_tmp("run/ckpt-00000040.bin.damaged"), d40, n40), "the damaged step-40 file is lost");
    cr_expect_eq(gd_ckpt_check(in_tmp("run/ckpt-00000040.bin"), NULL), 0, "%s", gd_error());
    const char *aside = gd_ckpt_dir_set_aside();
    cr_expect(strstr(aside, "ckpt-00000040.bin") && strstr(aside, "ckpt-00000040.bin.damaged") && !strchr(aside, '\n'),
              "set aside: '%s'", aside);
    cr_expect(same_bytes(in_tmp("run/ckpt-00000020.bin"), d20, n20));

    /* a damaged best.bin, beaten: renamed aside too, then the new best written */
    damage(in_tmp("run/best.bin"), 900);
    size_t nb;
    unsigned char *db = slurp(in_tmp("run/best.bin"), &nb);
    for (int s = 0; s < 10; s++) gd_trainer_step(b);
    int is_best = 0;
    cr_assert_eq(gd_ckpt_dir_save(dir, b, 1.0, GD_CKPT_MIN, 2, &is_best), 0, "%s", gd_error());
    cr_expect(is_best);
    cr_expect(same_bytes(in_tmp("run/best.bin.damaged"), db, nb), "the damaged best.bin is lost");
    gd_ckpt_info info;
    cr_expect_eq(gd_ckpt_check(in_tmp("run/best.bin"), &info), 0, "%s", gd_error());
    cr_expect_eq(info.step, 50);
    /* a second damaged best.bin gets the next free name */
    damage(in_tmp("run/best.bin"), 901);
    for (int s = 0; s < 10; s++) gd_trainer_step(b);
    cr_assert_eq(gd_ckpt_dir_save(dir, b, 0.5, GD_CKPT_MIN, 2, NULL), 0, "%s", gd_error());
    cr_expect(exists(dir, "best.bin.damaged.2") && same_bytes(in_tmp("run/best.bin.damaged"), db, nb));
    free(d20), free(d40), free(db);
    gd_trainer_free(tr), gd_trainer_free(b);
}

/* gd_ckpt_dir_find says what gd_ckpt_dir_latest passed over: the damaged files newer
 * than its pick, by name and reason, and a damaged best.bin even when it is not needed. */
Test(lib_ckpt, dir_find_names_what_it_passed_over, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    const char *dir = in_tmp("run");
    gd_ckpt_found f;
    cr_assert_eq(gd_ckpt_dir_find(dir, &f), 0, "%s", gd_error());
    cr_expect(f.missing && !f.path && f.nfiles == 0);
    gd_ckpt_found_free(&f);
    gd_trainer *tr = new_trainer(&c);
    for (int i = 0; i < 3; i++) {
        for (int s = 0; s < 10; s++) gd_trainer_step(tr);
        cr_assert_eq(gd_ckpt_dir_save(dir, tr, 3.0 - i, GD_CKPT_MIN, 0, NULL), 0, "%s", gd_error());
    }
    cr_assert_eq(gd_ckpt_dir_find(dir, &f), 0, "%s", gd_error());
    cr_expect(f.path && strcmp(f.path, in_tmp("run/ckpt-00000030.bin")) == 0 && f.ndamaged == 0 && !f.best_damaged);
    cr_expect_eq(f.nfiles, 4);
    gd_ckpt_found_free(&f);
    damage(in_tmp("run/ckpt-00000030.bin"), 300);
    cr_assert_eq(truncate(in_tmp("run/ckpt-00000020.bin"), 99), 0);
    damage(in_tmp("run/best.bin"), 300);
    cr_assert_eq(gd_ckpt_dir_find(dir, &f), 0, "%s", gd_error());
    cr_expect(f.path && strcmp(f.path, in_tmp("run/ckpt-00000010.bin")) == 0, "picked %s", f.path);
    cr_expect_eq(f.info.step, 10);
    cr_expect_eq(f.ndamaged, 2);
    cr_expect(strstr(f.damaged, "ckpt-00000030.bin: damaged") && strstr(f.damaged, "ckpt-00000020.bin: truncated") &&
              !strstr(f.damaged, tmpdir), "damaged: %s", f.damaged);
    cr_expect(f.best_damaged && strstr(f.best_why, "damaged"), "best: %s", f.best_why);
    gd_ckpt_found_free(&f);
    gd_trainer_free(tr);
}

/* out.h's policy holds for checkpoints too: a symlink is followed (its target replaced,
 * the link kept), a device is written in place (a symlink to /dev/full: the write fails
 * with ENOSPC, in one line, and nothing is replaced), a directory is refused. */
Test(lib_ckpt, save_follows_symlinks_and_writes_devices_in_place, .init = tmp_init, .fini = tmp_fini) {
    gd_train_cfg c = tiny_cfg();
    gd_trainer *a = trained(&c, 3);
    spit(in_tmp("target.bin"), (const unsigned char *)"old", 3);
    cr_assert_eq(symlink(in_tmp("target.bin"), in_tmp("link.bin")), 0);
    cr_assert_eq(gd_ckpt_save(a, in_tmp("link.bin"), NAN), 0, "%s", gd_error());
    struct stat st;
    cr_assert_eq(lstat(in_tmp("link.bin"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
    cr_expect_eq(gd_ckpt_check(in_tmp("target.bin"), NULL), 0, "the target was not written: %s", gd_error());

    cr_assert_eq(symlink("/dev/null", in_tmp("null.bin")), 0);
    cr_expect_eq(gd_ckpt_save(a, in_tmp("null.bin"), NAN), 0, "%s", gd_error());
    cr_assert_eq(lstat(in_tmp("null.bin"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode));
    cr_assert_eq(stat("/dev/null", &st), 0);
    cr_expect(S_ISCHR(st.st_mode), "/dev/null is no longer a device");

    if (access("/dev/full", W_OK) == 0) {
        cr_assert_eq(symlink("/dev/full", in_tmp("full.bin")), 0);
        cr_expect_eq(gd_ckpt_save(a, in_tmp("full.bin"), NAN), -1, "a write to /dev/full succeeded");
        cr_expect(strstr(gd_error(), "No space left") && !strchr(gd_error(), '\n'), "%s", gd_error());
        cr_assert_eq(lstat(in_tmp("full.bin"), &st), 0);
        cr_expect(S_ISLNK(st.st_mode), "the link to /dev/full was replaced");
    }
    cr_expect_eq(count_entries(tmpdir, ".tmp."), 0, "a temporary file was left behind");
    gd_trainer_free(a);
}

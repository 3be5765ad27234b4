/* mkcorpus.c -- writes the binary seeds of fuzz/corpus/ (`make fuzz-corpus`): real
 * files made by the library itself, small enough to mutate quickly.
 *
 *   idx/real-*      the first 3 images and labels of Fashion-MNIST's test set (the
 *                   installed dataset), plain and gzipped, in fuzz_idx's input format
 *   ckpt/mlp-K*     a checkpoint of fuzz_ckpt's trainer K (0..3) after 7 steps (into
 *                   the second epoch; the plateau schedule fed metrics), with the mode
 *                   byte in front (CRC fixing on, and off for one of them)
 *   optim/state-*   a spec, "\n", the state of its optimizer after fuzz_optim's updates
 *   sched/state-*   a plateau spec, "\n", its state after some observations
 *
 * The text seeds (specs, argument lists, sweep tables) are committed as they are.
 * Usage: mkcorpus DIR (DIR/idx, DIR/ckpt, ... must exist). Exit 0, or 1 with a line.
 */
#define GD_FUZZ_REPLAY
#include "fuzz_ckpt.c"
#include "fuzz_optim.c"

#include "data.h"

static const char *corpus_dir;

static void corpus_put(const char *sub, const char *name, const void *a, size_t an, const void *b, size_t bn) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", corpus_dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || (an && fwrite(a, 1, an, f) != an) || (bn && fwrite(b, 1, bn, f) != bn) || fclose(f) != 0) {
        fprintf(stderr, "mkcorpus: cannot write %s\n", path);
        exit(1);
    }
}

static void be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* fuzz_idx's input: flags, LEN (little-endian u16), images file, labels file. */
static void corpus_idx(const gd_images *ds, int k) {
    size_t in = 16 + (size_t)k * (size_t)ds->dim, ln = 8 + (size_t)k;
    unsigned char *buf = malloc(3 + in + ln);
    if (!buf) exit(1);
    unsigned char *im = buf + 3, *lb = im + in;
    be32(im, 2051), be32(im + 4, (uint32_t)k), be32(im + 8, (uint32_t)ds->rows), be32(im + 12, (uint32_t)ds->cols);
    memcpy(im + 16, ds->pixels, (size_t)k * (size_t)ds->dim);
    be32(lb, 2049), be32(lb + 4, (uint32_t)k);
    memcpy(lb + 8, ds->labels, (size_t)k);
    buf[1] = (unsigned char)(in & 0xff), buf[2] = (unsigned char)(in >> 8);
    const int flags[3] = {0, 3, 2};
    const char *names[3] = {"real-plain", "real-gzip", "real-labels-gzip"};
    for (int i = 0; i < 3; i++) {
        buf[0] = (unsigned char)flags[i];
        corpus_put("idx", names[i], buf, 3 + in + ln, NULL, 0);
    }
    free(buf);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = malloc(1 << 20);
    *n = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static void corpus_ckpt(void) {
    for (int k = 0; k < 4; k++) {
        gd_trainer *tr = fuzz_ckpt_trainer(k);
        if (!tr) {
            fprintf(stderr, "mkcorpus: trainer %d: %s\n", k, gd_error());
            exit(1);
        }
        for (int t = 0; t < 7; t++) {
            gd_trainer_step(tr);
            if (tr->sched && gd_sched_has_plateau(tr->sched)) gd_sched_observe(tr->sched, 1.0 / (1 + t % 3));
        }
        const char *path = gd_fuzz_path(0, "seed.bin");
        if (gd_ckpt_save(tr, path, 0.5) != 0) {
            fprintf(stderr, "mkcorpus: %s\n", gd_error());
            exit(1);
        }
        size_t n;
        unsigned char *b = slurp(path, &n);
        if (!b) exit(1);
        char name[32];
        unsigned char mode = (unsigned char)(k | 4);
        snprintf(name, sizeof name, "mlp-%d", k);
        corpus_put("ckpt", name, &mode, 1, b, n);
        if (k == 0) {
            mode = 0;
            corpus_put("ckpt", "mlp-0-crc", &mode, 1, b, n);
        }
        free(b);
        gd_trainer_free(tr);
    }
}

static void corpus_optim(void) {
    const char *specs[] = {"sgd:lr=0.1:momentum=0.9:nesterov=1", "adam:lr=1e-3:amsgrad=1", "rmsprop:centered=1:momentum=0.5",
                           "adagrad:initial_accumulator_value=0.1", "nadam", "radam", "adamax", "adadelta"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        gd_optim_kind kind;
        gd_hparams hp;
        gd_param p;
        if (gd_optim_parse(specs[i], &kind, &hp) != 0 || fuzz_optim_param(&p) != 0) exit(1);
        gd_optim *o = gd_optim_new(kind, &hp);
        if (!o || gd_optim_add_group(o, &p, 1, NULL) != 0) exit(1);
        for (int t = 0; t < 3; t++) gd_optim_step(o);
        size_t n;
        unsigned char *s = fuzz_optim_state(o, &n);
        char name[32], *text = malloc(strlen(specs[i]) + 2);
        if (!s || !text) exit(1);
        sprintf(text, "%s\n", specs[i]);
        snprintf(name, sizeof name, "state-%s", gd_optim_name(kind));
        corpus_put("optim", name, text, strlen(text), s, n);
        free(text);
        free(s);
        gd_optim_free(o);
        gd_param_free(&p);
    }
}

static void corpus_sched(void) {
    const char *specs[] = {"warmup:T=100,plateau:patience=5", "plateau:mode=max:threshold_mode=abs:cooldown=2:min_lr=1e-4"};
    for (size_t i = 0; i < 2; i++) {
        gd_sched *s = gd_sched_parse(specs[i]);
        if (!s) exit(1);
        const double m[] = {1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.99};
        for (int k = 0; k < 10; k++) gd_sched_observe(s, m[k]);
        size_t n = gd_sched_state_size(s);
        unsigned char *b = malloc(n + 1);
        char *text = malloc(strlen(specs[i]) + 2), name[32];
        if (!b || !text) exit(1);
        gd_sched_state_write(s, b);
        sprintf(text, "%s\n", specs[i]);
        snprintf(name, sizeof name, "state-%zu", i);
        corpus_put("sched", name, text, strlen(text), b, n);
        free(b);
        free(text);
        gd_sched_free(s);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mkcorpus DIR\n");
        return 1;
    }
    corpus_dir = argv[1];
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, NULL) != 0) {
        fprintf(stderr, "mkcorpus: %s\n", gd_error());
        return 1;
    }
    corpus_idx(&test, 3);
    gd_images_free(&train);
    gd_images_free(&test);
    corpus_ckpt();
    corpus_optim();
    corpus_sched();
    return 0;
}

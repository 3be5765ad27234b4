/* ckpt.c -- checkpoints: the version 1 format, crash-safe writes, the checkpoint
 * directory; see ckpt.h, whose top is the format's specification.
 *
 * A checkpoint is built in memory (one pass to measure, one to write), then written by
 * out.h's gd_write_file (a temporary file, fsynced, renamed into place, the directory
 * synced). Reading is
 * the reverse and is
 * paranoid: the header, the length and the CRC are checked before anything is parsed;
 * every section is parsed with bounds checks into a view (pointers into the file's
 * bytes) and checked against the trainer; only then is the trainer changed, so a refused
 * load changes nothing.
 *
 * Leaves out: compression, other model types than gd_mlp and gd_lenet, reading
 * checkpoints written by a future version (refused with a line that says so).
 */
#include "ckpt.h"
#include "err.h"
#include "out.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define GD__MAGIC "GDCKPT\0\0"          /* 8 bytes; the literal's own NUL is not written */
#define GD__HEADER 24                    /* magic, version, flags, payload length */
#define GD__TRAILER 4                    /* CRC-32 */
#define GD__MAX_DIM 1000000              /* a layer size, as gd_parse_dims allows */
#define GD__MAX_PARAMS (2 * GD_TRAIN_MAXLAYERS)   /* >= GD_LENET_NPARAMS */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define GD__LITTLE 1                     /* arrays of f32 / i32 are copied as they are */
#else
#define GD__LITTLE 0
#endif

/* ------------------------------------------------------------------------------- */
/* Little-endian fields. */

static void gd__le32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void gd__le64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t gd__rd32(const unsigned char *b) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}
static uint64_t gd__rd64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint32_t gd__crc(const unsigned char *b, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {                       /* zlib takes uInt lengths */
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)crc;
}

/* ------------------------------------------------------------------------------- */
/* The writer: with buf NULL it only counts, so the same code measures and writes. */

typedef struct {
    unsigned char *buf;
    size_t n;
} gd__w;

static void gd__put32(gd__w *w, uint32_t v) {
    if (w->buf) gd__le32(w->buf + w->n, v);
    w->n += 4;
}
static void gd__put64(gd__w *w, uint64_t v) {
    if (w->buf) gd__le64(w->buf + w->n, v);
    w->n += 8;
}
static void gd__putf64(gd__w *w, double x) {
    uint64_t v;
    memcpy(&v, &x, 8);
    gd__put64(w, v);
}
static void gd__putbytes(gd__w *w, const void *src, size_t n) {
    if (w->buf && n) memcpy(w->buf + w->n, src, n);
    w->n += n;
}
/* n 32-bit words (f32 or i32), little-endian */
static void gd__putwords(gd__w *w, const void *src, size_t n) {
    if (w->buf) {
        if (GD__LITTLE) {
            memcpy(w->buf + w->n, src, 4 * n);
        } else {
            const uint32_t *s = src;
            for (size_t i = 0; i < n; i++) gd__le32(w->buf + w->n + 4 * i, s[i]);
        }
    }
    w->n += 4 * n;
}
/* A section: tag, u64 length (patched at the end), body. */
static size_t gd__begin(gd__w *w, const char tag[4]) {
    gd__putbytes(w, tag, 4);
    gd__put64(w, 0);
    return w->n;
}
static void gd__end(gd__w *w, size_t body) {
    if (w->buf) gd__le64(w->buf + body - 8, (uint64_t)(w->n - body));
}

/* The schedule's canonical spec, malloc'd (gd_sched_format does not say how long it
 * is, so the buffer grows until the spec leaves room to spare). */
static char *gd__sched_spec(const gd_sched *s) {
    for (size_t cap = 1024; cap <= ((size_t)1 << 24); cap *= 4) {
        char *spec = malloc(cap);
        if (!spec) return NULL;
        spec[0] = '\0';
        gd_sched_format(s, spec, cap);
        if (strlen(spec) < cap - 1) return spec;
        free(spec);
    }
    return NULL;
}

/* Everything but the trailer's CRC. spec: the schedule's canonical spec or NULL. */
static void gd__serialise(gd__w *w, const gd_trainer *tr, gd_optim_kind kind, const char *spec,
                          double best_metric) {
    const gd_mlp *m = &tr->model;       /* for LeNet, a view of its parameters (train.h) */
    gd__putbytes(w, GD__MAGIC, 8);
    gd__put32(w, tr->lenet ? GD_CKPT_VERSION : 1);   /* the MLP's files stay version 1 */
    gd__put32(w, 0);                      /* flags */
    gd__put64(w, 0);                      /* payload length, patched below */
    size_t payload = w->n;

    size_t s = gd__begin(w, "MODL");
    if (tr->lenet) {                      /* version 2: the kind, then LeNet's architecture */
        gd__put32(w, GD_CKPT_LENET);
        gd__put32(w, (uint32_t)tr->lenet->arch.act);
        gd__put32(w, (uint32_t)tr->lenet->arch.pool);
    } else {
        gd__put32(w, (uint32_t)m->nlayers);
        gd__put32(w, (uint32_t)m->act);
        for (int l = 0; l <= m->nlayers; l++) gd__put32(w, (uint32_t)m->dims[l]);
    }
    gd__put32(w, (uint32_t)m->nparams);
    for (int p = 0; p < m->nparams; p++) {
        const gd_tensor *v = m->params[p].value;
        gd__put32(w, (uint32_t)v->ndim);
        for (int d = 0; d < v->ndim; d++) gd__put32(w, (uint32_t)v->shape[d]);
        gd__putwords(w, v->data, v->size);
    }
    gd__end(w, s);

    s = gd__begin(w, "OPTM");
    gd__put32(w, (uint32_t)kind);
    size_t n = gd_optim_state_size(tr->opt);
    gd__put64(w, n);
    if (w->buf) gd_optim_state_write(tr->opt, w->buf + w->n);
    w->n += n;
    gd__end(w, s);

    s = gd__begin(w, "SCHD");
    gd__put32(w, tr->sched != NULL);
    gd__put32(w, tr->cfg.sched_per_epoch != 0);
    size_t len = spec ? strlen(spec) : 0;
    gd__put32(w, (uint32_t)len);
    gd__putbytes(w, spec, len);
    n = tr->sched ? gd_sched_state_size(tr->sched) : 0;
    gd__put64(w, n);
    if (w->buf && n) gd_sched_state_write(tr->sched, w->buf + w->n);
    w->n += n;
    gd__end(w, s);

    s = gd__begin(w, "DATA");
    gd__put32(w, (uint32_t)tr->cfg.batch_size);
    gd__put32(w, (uint32_t)tr->n_train);
    gd__put32(w, (uint32_t)tr->pos);
    gd__put64(w, (uint64_t)(int64_t)tr->epoch);
    gd__put64(w, (uint64_t)(int64_t)tr->step);
    gd__putf64(w, tr->lr_scale);
    gd__putwords(w, tr->order, (size_t)tr->n_train);
    gd__end(w, s);

    s = gd__begin(w, "RNG ");
    for (int i = 0; i < 4; i++) gd__put64(w, tr->rng.s[i]);
    gd__put32(w, (uint32_t)tr->rng.has_spare);
    gd__putf64(w, tr->rng.spare);
    gd__end(w, s);

    s = gd__begin(w, "METR");
    gd__putf64(w, best_metric);
    gd__end(w, s);

    if (w->buf) gd__le64(w->buf + 16, (uint64_t)(w->n - payload));
}

/* The whole file in memory (malloc'd), or NULL with the reason. */
static unsigned char *gd__encode(const gd_trainer *tr, const char *path, double best_metric, size_t *size) {
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(tr->cfg.optim, &kind, &hp) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", gd_error());
        gd_seterr("%s: the trainer's optimizer spec: %s", path, why);
        return NULL;
    }
    char *spec = NULL;
    if (tr->sched && !(spec = gd__sched_spec(tr->sched))) {
        gd_seterr("%s: out of memory for the schedule's spec", path);
        return NULL;
    }
    gd__w w = {NULL, 0};
    gd__serialise(&w, tr, kind, spec, best_metric);
    size_t n = w.n + GD__TRAILER;
    w.buf = malloc(n);
    if (!w.buf) {
        free(spec);
        gd_seterr("%s: out of memory for %zu bytes", path, n);
        return NULL;
    }
    w.n = 0;
    gd__serialise(&w, tr, kind, spec, best_metric);
    free(spec);
    gd__le32(w.buf + w.n, gd__crc(w.buf, w.n));
    *size = n;
    return w.buf;
}

/* ------------------------------------------------------------------------------- */
/* Crash-safe writing is out.h's gd_write_file: PATH.tmp.PID, fsync, rename over PATH,
 * fsync the directory -- the one policy of every writer in the book, so a symlink is
 * followed (its target replaced) and a device such as /dev/null is written in place. */

int gd_ckpt_save(const gd_trainer *tr, const char *path, double best_metric) {
    size_t n;
    unsigned char *buf = gd__encode(tr, path, best_metric, &n);
    if (!buf) return -1;
    int rc = gd_write_file(path, buf, n);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------- */
/* Reading: the file, then a view of its sections. */

/* The whole file (malloc'd) after checking magic, version, flags, length and CRC. */
static unsigned char *gd__read_checked(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gd_seterr("%s: cannot open: %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gd_seterr("%s: not a regular file", path), NULL;
    }
    size_t n = (size_t)st.st_size;
    unsigned char head[GD__HEADER];
    size_t got = 0;
    while (got < sizeof head && got < n) {
        ssize_t k = read(fd, head + got, sizeof head - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    unsigned char *buf = NULL;
    if (got >= 8 && memcmp(head, GD__MAGIC, 8) != 0) {
        gd_seterr("%s: not a checkpoint (wrong magic; expected \"GDCKPT\\0\\0\")", path);
        goto fail;
    }
    if (got >= 12 && gd__rd32(head + 8) != 1 && gd__rd32(head + 8) != GD_CKPT_VERSION) {
        gd_seterr("%s: checkpoint version %lu, this program reads versions 1 and %d", path,
                  (unsigned long)gd__rd32(head + 8), GD_CKPT_VERSION);
        goto fail;
    }
    if (got >= 16 && gd__rd32(head + 12) != 0) {
        gd_seterr("%s: unknown flags 0x%lx in the header", path, (unsigned long)gd__rd32(head + 12));
        goto fail;
    }
    if (n < GD__HEADER + GD__TRAILER) {
        gd_seterr("%s: truncated: %zu bytes, a checkpoint has at least %d", path, n, GD__HEADER + GD__TRAILER);
        goto fail;
    }
    uint64_t plen = gd__rd64(head + 16);
    if (plen != (uint64_t)(n - GD__HEADER - GD__TRAILER)) {
        if (plen > (uint64_t)(n - GD__HEADER - GD__TRAILER))
            gd_seterr("%s: truncated: %zu bytes, the header says %llu", path, n,
                      (unsigned long long)plen + GD__HEADER + GD__TRAILER);
        else
            gd_seterr("%s: %zu bytes, but the header says %llu", path, n,
                      (unsigned long long)plen + GD__HEADER + GD__TRAILER);
        goto fail;
    }
    buf = malloc(n);
    if (!buf) {
        gd_seterr("%s: out of memory for %zu bytes", path, n);
        goto fail;
    }
    memcpy(buf, head, GD__HEADER);
    got = GD__HEADER;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            gd_seterr("%s: read failed: %s", path, strerror(errno));
            goto fail;
        }
        if (k == 0) {
            gd_seterr("%s: truncated while reading (%zu of %zu bytes)", path, got, n);
            goto fail;
        }
        got += (size_t)k;
    }
    uint32_t stored = gd__rd32(buf + n - GD__TRAILER), crc = gd__crc(buf, n - GD__TRAILER);
    if (stored != crc) {
        gd_seterr("%s: damaged: CRC-32 is %08lx, the file says %08lx", path, (unsigned long)crc,
                  (unsigned long)stored);
        goto fail;
    }
    close(fd);
    *size = n;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

/* A checkpoint's contents: numbers, and pointers into the file's bytes for arrays. */
typedef struct {
    int model;                       /* GD_CKPT_MLP or GD_CKPT_LENET */
    int nlayers, act, dims[GD_TRAIN_MAXLAYERS + 1], nparams;   /* the MLP's */
    int lenet_act, lenet_pool;       /* LeNet's */
    int ndim[GD__MAX_PARAMS], shape[GD__MAX_PARAMS][GD_MAXDIM];
    const unsigned char *values[GD__MAX_PARAMS];
    size_t numel[GD__MAX_PARAMS], total;
    uint32_t kind;
    const unsigned char *opt;
    size_t opt_n;
    int sched, per_epoch;
    const char *spec;
    size_t spec_n;
    const unsigned char *sstate;
    size_t sstate_n;
    int batch_size, n_train, pos;
    long epoch, step;
    double lr_scale;                 /* the trainer's lr_scale (back-offs so far) */
    const unsigned char *order;
    uint64_t s[4];
    int has_spare;
    double spare, best;
} gd__view;

/* The reader: a cursor that refuses to run past the end of its section. */
typedef struct {
    const unsigned char *p, *end;
    const char *path, *tag;
    int bad;
} gd__r;

static int gd__short(gd__r *r, size_t need) {
    if ((size_t)(r->end - r->p) >= need) return 0;
    if (!r->bad) gd_seterr("%s: damaged: section %s ends early", r->path, r->tag);
    r->bad = 1;
    return 1;
}
static uint32_t gd__get32(gd__r *r) {
    if (gd__short(r, 4)) return 0;
    r->p += 4;
    return gd__rd32(r->p - 4);
}
static uint64_t gd__get64(gd__r *r) {
    if (gd__short(r, 8)) return 0;
    r->p += 8;
    return gd__rd64(r->p - 8);
}
static double gd__getf64(gd__r *r) {
    uint64_t v = gd__get64(r);
    double x;
    memcpy(&x, &v, 8);
    return x;
}
static const unsigned char *gd__getbytes(gd__r *r, uint64_t n) {
    if (n > (uint64_t)(r->end - r->p)) {
        gd__short(r, SIZE_MAX);
        return NULL;
    }
    r->p += n;
    return r->p - n;
}
/* "... is out of range": the section's values are read, then checked here */
static int gd__bad(gd__r *r, const char *what) {
    if (!r->bad) gd_seterr("%s: damaged: section %s: %s", r->path, r->tag, what);
    r->bad = 1;
    return -1;
}
/* Enter the next section, which must have this tag; sec is its body. */
static int gd__section(gd__r *payload, gd__r *sec, const char *tag) {
    payload->tag = tag;
    const unsigned char *t = gd__getbytes(payload, 4);
    uint64_t len = gd__get64(payload);
    if (payload->bad) return -1;
    if (memcmp(t, tag, 4) != 0) {
        gd_seterr("%s: damaged: expected section %s, found another", payload->path, tag);
        return payload->bad = 1, -1;
    }
    const unsigned char *body = gd__getbytes(payload, len);
    if (!body) return -1;
    *sec = (gd__r){body, body + len, payload->path, tag, 0};
    return 0;
}
static int gd__section_done(gd__r *sec) {
    if (sec->bad) return -1;
    if (sec->p != sec->end) return gd__bad(sec, "bytes left over at its end");
    return 0;
}

static int gd__parse_lenet(gd__view *v, gd__r *r);
static int gd__parse_rest(gd__view *v, gd__r *pl);

/* Parse and check everything that can be checked without a trainer. */
static int gd__parse(gd__view *v, const unsigned char *buf, size_t n, const char *path) {
    memset(v, 0, sizeof *v);
    gd__r pl = {buf + GD__HEADER, buf + n - GD__TRAILER, path, "", 0}, r;

    if (gd__section(&pl, &r, "MODL")) return -1;
    if (gd__rd32(buf + 8) == 2) {         /* version 2 starts with the model's kind */
        uint32_t kind = gd__get32(&r);
        if (r.bad) return -1;
        if (kind == GD_CKPT_LENET) return gd__parse_lenet(v, &r) || gd__parse_rest(v, &pl);
        if (kind != GD_CKPT_MLP) return gd__bad(&r, "unknown model kind");
    }
    v->nlayers = (int)gd__get32(&r);
    v->act = (int)gd__get32(&r);
    if (r.bad) return -1;
    if (v->nlayers < 1 || v->nlayers > GD_TRAIN_MAXLAYERS) return gd__bad(&r, "number of layers out of range");
    if (v->act != GD_ACT_RELU && v->act != GD_ACT_TANH) return gd__bad(&r, "unknown activation");
    for (int l = 0; l <= v->nlayers; l++) {
        uint32_t d = gd__get32(&r);
        if (d < 1 || d > GD__MAX_DIM) return r.bad ? -1 : gd__bad(&r, "a layer size is out of range");
        v->dims[l] = (int)d;
    }
    v->nparams = (int)gd__get32(&r);
    if (r.bad) return -1;
    if (v->nparams != 2 * v->nlayers) return gd__bad(&r, "the number of parameters does not fit the layers");
    for (int p = 0; p < v->nparams; p++) {
        int l = p / 2, is_bias = p % 2;
        v->ndim[p] = (int)gd__get32(&r);
        if (r.bad) return -1;
        if (v->ndim[p] != (is_bias ? 1 : 2)) return gd__bad(&r, "a parameter has the wrong number of dimensions");
        v->shape[p][0] = (int)gd__get32(&r);
        if (!is_bias) v->shape[p][1] = (int)gd__get32(&r);
        if (r.bad) return -1;
        if (v->shape[p][0] != v->dims[l + 1] || (!is_bias && v->shape[p][1] != v->dims[l]))
            return gd__bad(&r, "a parameter's shape does not fit the layer sizes");
        v->numel[p] = (size_t)v->dims[l + 1] * (is_bias ? 1 : (size_t)v->dims[l]);
        v->total += v->numel[p];
        if (!(v->values[p] = gd__getbytes(&r, 4 * (uint64_t)v->numel[p]))) return -1;
    }
    if (gd__section_done(&r)) return -1;
    return gd__parse_rest(v, &pl);
}

/* Version 2's MODL body after the kind, for LeNet: u32 act, u32 pool, u32 nparams, then
 * per parameter u32 ndim, u32 shape[ndim], f32 values; the shapes must be LeNet's. */
static int gd__parse_lenet(gd__view *v, gd__r *r) {
    static const int shapes[GD_LENET_NPARAMS][5] = {   /* ndim, shape */
        {4, 6, 1, 5, 5}, {1, 6}, {4, 16, 6, 5, 5}, {1, 16}, {2, 120, 400},
        {1, 120},        {2, 84, 120}, {1, 84}, {2, 10, 84}, {1, 10}};
    v->model = GD_CKPT_LENET;
    v->lenet_act = (int)gd__get32(r);
    v->lenet_pool = (int)gd__get32(r);
    v->nparams = (int)gd__get32(r);
    if (r->bad) return -1;
    if (v->lenet_act != GD_LENET_SIGMOID && v->lenet_act != GD_LENET_RELU) return gd__bad(r, "unknown activation");
    if (v->lenet_pool != GD_LENET_AVG && v->lenet_pool != GD_LENET_MAX) return gd__bad(r, "unknown pooling");
    if (v->nparams != GD_LENET_NPARAMS) return gd__bad(r, "the number of parameters is not LeNet's");
    for (int p = 0; p < v->nparams; p++) {
        v->ndim[p] = (int)gd__get32(r);
        if (r->bad) return -1;
        if (v->ndim[p] != shapes[p][0]) return gd__bad(r, "a parameter has the wrong number of dimensions");
        v->numel[p] = 1;
        for (int d = 0; d < v->ndim[p]; d++) {
            v->shape[p][d] = (int)gd__get32(r);
            if (r->bad) return -1;
            if (v->shape[p][d] != shapes[p][d + 1]) return gd__bad(r, "a parameter's shape is not LeNet's");
            v->numel[p] *= (size_t)v->shape[p][d];
        }
        v->total += v->numel[p];
        if (!(v->values[p] = gd__getbytes(r, 4 * (uint64_t)v->numel[p]))) return -1;
    }
    return gd__section_done(r);
}

/* The sections after MODL, the same in both versions. */
static int gd__parse_rest(gd__view *v, gd__r *pl) {
    gd__r r;
    if (gd__section(pl, &r, "OPTM")) return -1;
    v->kind = gd__get32(&r);
    uint64_t len = gd__get64(&r);
    v->opt = gd__getbytes(&r, len);
    v->opt_n = (size_t)len;
    if (r.bad) return -1;
    if (v->kind >= GD_OPTIM_NKINDS) return gd__bad(&r, "unknown optimizer kind");
    if (gd__section_done(&r)) return -1;

    if (gd__section(pl, &r, "SCHD")) return -1;
    uint32_t present = gd__get32(&r), per_epoch = gd__get32(&r);
    len = gd__get32(&r);
    v->spec = (const char *)gd__getbytes(&r, len);
    v->spec_n = (size_t)len;
    len = gd__get64(&r);
    v->sstate = gd__getbytes(&r, len);
    v->sstate_n = (size_t)len;
    if (r.bad) return -1;
    if (present > 1 || per_epoch > 1) return gd__bad(&r, "a flag is neither 0 nor 1");
    if (!present && (v->spec_n || v->sstate_n)) return gd__bad(&r, "a spec for no schedule");
    if (present && !v->spec_n) return gd__bad(&r, "a schedule without a spec");
    if (v->spec_n && memchr(v->spec, '\0', v->spec_n)) return gd__bad(&r, "a NUL in the spec");
    v->sched = (int)present;
    v->per_epoch = (int)per_epoch;
    if (gd__section_done(&r)) return -1;

    if (gd__section(pl, &r, "DATA")) return -1;
    uint32_t batch = gd__get32(&r), n_train = gd__get32(&r), pos = gd__get32(&r);
    int64_t epoch = (int64_t)gd__get64(&r), step = (int64_t)gd__get64(&r);
    double lr_scale = gd__getf64(&r);
    if (r.bad) return -1;
    if (!(lr_scale > 0.0) || !isfinite(lr_scale)) return gd__bad(&r, "the lr scale is not a positive number");
    if (batch < 1 || batch > INT32_MAX || n_train < 1 || n_train > INT32_MAX) return gd__bad(&r, "a size is out of range");
    if (pos > n_train) return gd__bad(&r, "the position is past the end of the epoch");
    if (epoch < 0 || step < 0) return gd__bad(&r, "a negative epoch or step");
    if (!(v->order = gd__getbytes(&r, 4 * (uint64_t)n_train))) return -1;
    for (uint32_t i = 0; i < n_train; i++)
        if (gd__rd32(v->order + 4 * i) > INT32_MAX) return gd__bad(&r, "a negative image index");
    v->batch_size = (int)batch;
    v->n_train = (int)n_train;
    v->pos = (int)pos;
    v->epoch = (long)epoch;
    v->step = (long)step;
    v->lr_scale = lr_scale;
    if (gd__section_done(&r)) return -1;

    if (gd__section(pl, &r, "RNG ")) return -1;
    for (int i = 0; i < 4; i++) v->s[i] = gd__get64(&r);
    uint32_t has_spare = gd__get32(&r);
    v->spare = gd__getf64(&r);
    if (r.bad) return -1;
    if (has_spare > 1) return gd__bad(&r, "a flag is neither 0 nor 1");
    if ((v->s[0] | v->s[1] | v->s[2] | v->s[3]) == 0) return gd__bad(&r, "an all-zero state");
    v->has_spare = (int)has_spare;
    if (gd__section_done(&r)) return -1;

    if (gd__section(pl, &r, "METR")) return -1;
    v->best = gd__getf64(&r);
    if (gd__section_done(&r)) return -1;

    if (pl->p != pl->end) return gd__bad(pl, "bytes after the last section");
    return 0;
}

static void gd__info(gd_ckpt_info *info, const gd__view *v, size_t bytes) {
    memset(info, 0, sizeof *info);
    info->step = v->step;
    info->epoch = v->epoch;
    info->best_metric = v->best;
    info->model = v->model;
    info->nlayers = v->nlayers;
    memcpy(info->dims, v->dims, sizeof v->dims);
    info->numel = v->total;
    info->bytes = bytes;
}

int gd_ckpt_check(const char *path, gd_ckpt_info *info) {
    size_t n;
    unsigned char *buf = gd__read_checked(path, &n);
    if (!buf) return -1;
    gd__view v;
    int rc = gd__parse(&v, buf, n, path);
    if (rc == 0 && info) gd__info(info, &v, n);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------- */
/* Loading into a trainer. */

static void gd__dims_str(char *s, size_t size, int nlayers, const int *dims, int act) {
    size_t k = 0;
    s[0] = '\0';
    for (int l = 0; l <= nlayers && k < size; l++)
        k += (size_t)snprintf(s + k, size - k, "%s%d", l ? "-" : "", dims[l]);
    if (k < size) snprintf(s + k, size - k, " %s", act == GD_ACT_TANH ? "tanh" : "relu");
}

/* "784-128-10 relu" or "lenet act=relu pool=max" */
static void gd__model_str(char *s, size_t size, int model, int nlayers, const int *dims, int act, int lenet_act,
                          int lenet_pool) {
    if (model == GD_CKPT_LENET)
        snprintf(s, size, "lenet act=%s pool=%s", lenet_act == GD_LENET_RELU ? "relu" : "sigmoid",
                 lenet_pool == GD_LENET_MAX ? "max" : "avg");
    else
        gd__dims_str(s, size, nlayers, dims, act);
}

/* The checkpoint fits this trainer: everything but the optimizer's and schedule's
 * bytes, which their own read functions check. */
static int gd__fits(const gd__view *v, const gd_trainer *tr, const char *path, gd_optim_kind kind,
                    const char *spec) {
    const gd_mlp *m = &tr->model;
    if (v->model != (tr->lenet ? GD_CKPT_LENET : GD_CKPT_MLP) ||
        (tr->lenet && (v->lenet_act != (int)tr->lenet->arch.act || v->lenet_pool != (int)tr->lenet->arch.pool))) {
        char a[160], b[160];
        gd__model_str(a, sizeof a, v->model, v->nlayers, v->dims, v->act, v->lenet_act, v->lenet_pool);
        if (tr->lenet) gd__model_str(b, sizeof b, GD_CKPT_LENET, 0, NULL, 0, tr->lenet->arch.act, tr->lenet->arch.pool);
        else gd__model_str(b, sizeof b, GD_CKPT_MLP, m->nlayers, m->dims, m->act, 0, 0);
        return gd_seterr("%s: the checkpoint's model is %s, the trainer's %s", path, a, b);
    }
    int same = v->nparams == m->nparams;
    for (int l = 0; same && !tr->lenet && l <= v->nlayers; l++)
        same = v->nlayers == m->nlayers && v->act == (int)m->act && v->dims[l] == m->dims[l];
    for (int p = 0; same && p < v->nparams; p++) {
        const gd_tensor *t = m->params[p].value;
        same = t->ndim == v->ndim[p] && t->size == v->numel[p];
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == v->shape[p][d];
    }
    if (!same) {
        char a[160], b[160];
        gd__dims_str(a, sizeof a, v->nlayers, v->dims, v->act);
        gd__dims_str(b, sizeof b, m->nlayers, m->dims, m->act);
        return gd_seterr("%s: the checkpoint's model is %s, the trainer's %s", path, a, b);
    }
    if (v->kind != (uint32_t)kind)
        return gd_seterr("%s: the checkpoint's optimizer is %s, the trainer's %s", path,
                         gd_optim_name((gd_optim_kind)v->kind), gd_optim_name(kind));
    if (v->sched != (tr->sched != NULL) ||
        (v->sched && (strlen(spec) != v->spec_n || memcmp(spec, v->spec, v->spec_n) != 0))) {
        int shown = v->spec_n > 200 ? 200 : (int)v->spec_n;
        const char *mine = tr->sched ? spec : "constant";
        if (!v->sched) return gd_seterr("%s: the checkpoint's lr is constant, the trainer's schedule '%s'", path, mine);
        return gd_seterr("%s: the checkpoint's schedule is '%.*s', the trainer's '%s'", path, shown, v->spec, mine);
    }
    if (v->per_epoch != (tr->cfg.sched_per_epoch != 0))
        return gd_seterr("%s: the checkpoint's schedule steps per %s, the trainer's per %s", path,
                         v->per_epoch ? "epoch" : "update", tr->cfg.sched_per_epoch ? "epoch" : "update");
    if (v->batch_size != tr->cfg.batch_size)
        return gd_seterr("%s: the checkpoint's batch size is %d, the trainer's %d", path, v->batch_size,
                         tr->cfg.batch_size);
    if (v->n_train != tr->n_train)
        return gd_seterr("%s: the checkpoint trains on %d images, the trainer on %d", path, v->n_train,
                         tr->n_train);
    /* the same images: the checkpoint's order is a permutation of the trainer's */
    int N = tr->cfg.train->n;
    int *count = calloc((size_t)N, sizeof *count);
    if (!count) return gd_seterr("%s: out of memory", path);
    for (int i = 0; i < tr->n_train; i++)
        if (tr->order[i] >= 0 && tr->order[i] < N) count[tr->order[i]]++;
    int ok = 1;
    for (int i = 0; ok && i < v->n_train; i++) {
        uint32_t j = gd__rd32(v->order + 4 * (size_t)i);
        ok = j < (uint32_t)N && count[j]-- > 0;
    }
    free(count);
    if (!ok) return gd_seterr("%s: the checkpoint's training images are not the trainer's", path);
    return 0;
}

/* The optimizer's (or schedule's) state, to put back if a later step fails. */
static unsigned char *gd__backup_optim(const gd_optim *o, size_t *n) {
    *n = gd_optim_state_size(o);
    unsigned char *b = malloc(*n ? *n : 1);
    if (b) gd_optim_state_write(o, b);
    return b;
}

int gd_ckpt_load(gd_trainer *tr, const char *path, double *best_metric) {
    gd_optim_kind kind;
    gd_hparams hp;
    char why[512];
    if (gd_optim_parse(tr->cfg.optim, &kind, &hp) != 0) {
        snprintf(why, sizeof why, "%s", gd_error());
        return gd_seterr("%s: the trainer's optimizer spec: %s", path, why);
    }
    size_t n;
    unsigned char *buf = gd__read_checked(path, &n);
    if (!buf) return -1;
    char *spec = NULL;
    unsigned char *opt_backup = NULL;
    int rc = -1;
    gd__view v;
    if (gd__parse(&v, buf, n, path) != 0) goto done;
    if (tr->sched && !(spec = gd__sched_spec(tr->sched))) {
        gd_seterr("%s: out of memory for the schedule's spec", path);
        goto done;
    }
    if (gd__fits(&v, tr, path, kind, spec) != 0) goto done;

    /* The optimizer and the schedule check their own bytes; a failed read changes
     * nothing in either, and the optimizer is put back if the schedule refuses. */
    size_t opt_backup_n;
    if (!(opt_backup = gd__backup_optim(tr->opt, &opt_backup_n))) {
        gd_seterr("%s: out of memory", path);
        goto done;
    }
    if (gd_optim_state_read(tr->opt, v.opt, v.opt_n) != 0) {
        snprintf(why, sizeof why, "%s", gd_error());
        gd_seterr("%s: %s", path, why);
        goto done;
    }
    if (tr->sched && gd_sched_state_read(tr->sched, v.sstate, v.sstate_n) != 0) {
        snprintf(why, sizeof why, "%s", gd_error());
        gd_optim_state_read(tr->opt, opt_backup, opt_backup_n);
        gd_seterr("%s: %s", path, why);
        goto done;
    }

    /* Nothing can fail from here on. */
    for (int p = 0; p < v.nparams; p++) {
        float *dst = tr->model.params[p].value->data;
        if (GD__LITTLE) {
            memcpy(dst, v.values[p], 4 * v.numel[p]);
        } else {
            for (size_t i = 0; i < v.numel[p]; i++) {
                uint32_t u = gd__rd32(v.values[p] + 4 * i);
                memcpy(dst + i, &u, 4);
            }
        }
    }
    for (int i = 0; i < v.n_train; i++) tr->order[i] = (int)gd__rd32(v.order + 4 * (size_t)i);
    tr->pos = v.pos;
    tr->epoch = v.epoch;
    tr->step = v.step;
    tr->lr_scale = v.lr_scale;
    memcpy(tr->rng.s, v.s, sizeof v.s);
    tr->rng.has_spare = v.has_spare;
    tr->rng.spare = v.spare;
    if (best_metric) *best_metric = v.best;
    rc = 0;
done:
    free(opt_backup);
    free(spec);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------- */
/* The directory: ckpt-STEP.bin, best.bin. */

#define GD__BEST "best.bin"

/* STEP if name is ckpt-STEP.bin (STEP decimal digits), else -1. */
static long gd__ckpt_step(const char *name) {
    if (strncmp(name, "ckpt-", 5) != 0) return -1;
    const char *p = name + 5;
    long step = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18) return -1;
        step = 10 * step + (*p - '0');
    }
    return digits > 0 && strcmp(p, ".bin") == 0 ? step : -1;
}

/* 1 if name is a temporary file a killed writer left: ckpt-STEP.bin.tmp.PID or
 * best.bin.tmp.PID, PID not this process and no longer running -- out.h's rule for
 * every writer's litter, applied here to every checkpoint name at once. */
static int gd__stale_tmp(const char *name) {
    const char *t = strstr(name, ".bin.tmp.");
    if (!t || t[9] < '1' || t[9] > '9' || strlen(t + 9) > 9) return 0;
    for (const char *p = t + 9; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    long pid = atol(t + 9);
    if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) return 0;   /* alive: not litter */
    char base[256];
    size_t k = (size_t)(t - name) + 4;
    if (k >= sizeof base) return 0;
    memcpy(base, name, k);
    base[k] = '\0';
    return strcmp(base, GD__BEST) == 0 || gd__ckpt_step(base) >= 0;
}

static char *gd__join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static int gd__cmp_desc(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x < y) - (x > y);
}

/* The steps of every ckpt-STEP.bin in dir, newest first (malloc'd; *n of them). With
 * stale set, also remove temporary files left behind. 0, or -1 (errno kept). */
static int gd__list(const char *dir, long **steps, int *n, int stale) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int cap = 16;
    long *s = malloc((size_t)cap * sizeof *s);
    *n = 0;
    struct dirent *e;
    while (s && (e = readdir(d))) {
        long step = gd__ckpt_step(e->d_name);
        if (step >= 0) {
            if (*n == cap) {
                long *t = realloc(s, (size_t)(cap *= 2) * sizeof *s);
                if (!t) {
                    free(s);
                    s = NULL;
                    break;
                }
                s = t;
            }
            s[(*n)++] = step;
        } else if (stale && gd__stale_tmp(e->d_name)) {
            char *p = gd__join(dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
    }
    closedir(d);
    if (!s) return errno = ENOMEM, -1;
    qsort(s, (size_t)*n, sizeof *s, gd__cmp_desc);
    *steps = s;
    return 0;
}

static char *gd__ckpt_path(const char *dir, long step) {
    char name[64];
    snprintf(name, sizeof name, "ckpt-%08ld.bin", step);
    return gd__join(dir, name);
}

/* ------------------------------------------------------------------------------- */
/* Damaged files are kept: never deleted, never written over. */

static _Thread_local char gd__aside[1024];   /* what the last gd_ckpt_dir_save set aside */

const char *gd_ckpt_dir_set_aside(void) { return gd__aside; }

/* Add "; " and the printf result to gd__aside, cut (with "...") when it is full. */
static void gd__aside_add(const char *fmt, ...) GD_PRINTF(1, 2);
static void gd__aside_add(const char *fmt, ...) {
    size_t k = strlen(gd__aside);
    if (k + 8 >= sizeof gd__aside) return;
    if (k) k += (size_t)snprintf(gd__aside + k, sizeof gd__aside - k, "; ");
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(gd__aside + k, sizeof gd__aside - k, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof gd__aside - k) memcpy(gd__aside + sizeof gd__aside - 4, "...", 4);
}

/* reason without the leading "PATH: " that gd_ckpt_check puts before it */
static const char *gd__reason(const char *path, const char *why) {
    size_t n = strlen(path);
    return strncmp(why, path, n) == 0 && strncmp(why + n, ": ", 2) == 0 ? why + n + 2 : why;
}

/* If path holds something that is not a good checkpoint (gd_ckpt_check refuses it),
 * rename it to PATH.damaged (PATH.damaged.2, ... if taken) so that writing PATH loses
 * none of its bytes, and say so in gd__aside. 0 (nothing there, a good checkpoint, or
 * set aside), or -1 with the reason. */
static int gd__keep_damaged(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;                      /* nothing there */
    if (gd_ckpt_check(path, NULL) == 0) return 0;             /* a good one: replaced as usual */
    char why[512];
    snprintf(why, sizeof why, "%s", gd__reason(path, gd_error()));
    size_t n = strlen(path) + 32;
    char *to = malloc(n);
    if (!to) return gd_seterr("%s: out of memory", path);
    int free_name = 0;
    for (int k = 1; k <= 1000 && !free_name; k++) {
        if (k == 1) snprintf(to, n, "%s.damaged", path);
        else snprintf(to, n, "%s.damaged.%d", path, k);
        free_name = lstat(to, &st) != 0 && errno == ENOENT;
    }
    if (!free_name || rename(path, to) != 0) {
        int e = free_name ? errno : EEXIST;
        gd_seterr("%s is damaged (%s) and cannot be set aside to be kept: %s", path, why, strerror(e));
        free(to);
        return -1;
    }
    const char *base = strrchr(to, '/');
    gd__aside_add("%s (%s) renamed to %s, not written over", path, why, base ? base + 1 : to);
    free(to);
    return 0;
}

int gd_ckpt_dir_save(const char *dir, const gd_trainer *tr, double metric, gd_ckpt_mode mode, int keep_last,
                     int *is_best) {
    gd__aside[0] = '\0';
    if (is_best) *is_best = 0;
    char *best_path = gd__join(dir, GD__BEST), *path = gd__ckpt_path(dir, tr->step);
    unsigned char *buf = NULL;
    long *steps = NULL;
    int rc = -1;
    if (!best_path || !path) {
        gd_seterr("%s: out of memory", dir);
        goto done;
    }
    /* the best so far is best.bin's; a missing or damaged one counts as none */
    gd_ckpt_info info;
    double best = NAN;
    if (access(best_path, F_OK) == 0 && gd_ckpt_check(best_path, &info) == 0) best = info.best_metric;
    int better = !isnan(metric) && (isnan(best) || (mode == GD_CKPT_MAX ? metric > best : metric < best));

    size_t n;
    if (!(buf = gd__encode(tr, path, better ? metric : best, &n))) goto done;
    /* a damaged file is never replaced: it is renamed aside first (ckpt.h, DAMAGE) */
    if (gd__keep_damaged(path) != 0 || (better && gd__keep_damaged(best_path) != 0)) goto done;
    if (gd_write_file(path, buf, n) != 0) goto done;
    if (better && gd_write_file(best_path, buf, n) != 0) goto done;
    if (better && is_best) *is_best = 1;

    /* The new checkpoint is durable: now delete what is not wanted. (Deletions need no
     * sync: if a crash forgets one, the file is deleted again next time.) */
    int count;
    if (gd__list(dir, &steps, &count, 1) != 0) {
        gd_seterr("%s: cannot list the directory: %s", dir, strerror(errno));
        goto done;
    }
    int kept = 0;
    for (int i = 0; i < count; i++) {
        int keep = steps[i] <= tr->step && (keep_last <= 0 || kept < keep_last);
        if (keep) {
            kept++;
            continue;
        }
        char *old = gd__ckpt_path(dir, steps[i]);
        if (old && gd_ckpt_check(old, NULL) != 0) {
            free(old);                     /* damaged: never deleted (ckpt.h, DAMAGE) */
            continue;
        }
        if (!old || (unlink(old) != 0 && errno != ENOENT)) {
            gd_seterr("%s: cannot remove an old checkpoint: %s", old ? old : dir, strerror(errno));
            free(old);
            goto done;
        }
        free(old);
    }
    rc = 0;
done:
    free(steps);
    free(buf);
    free(path);
    free(best_path);
    return rc;
}

void gd_ckpt_found_free(gd_ckpt_found *f) {
    free(f->path);
    memset(f, 0, sizeof *f);
}

/* Add "NAME: REASON" (NAME without the directory) to f->damaged; the first three only. */
static void gd__found_damaged(gd_ckpt_found *f, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    f->ndamaged++;
    size_t k = strlen(f->damaged);
    if (f->ndamaged > 3) return;
    snprintf(f->damaged + k, sizeof f->damaged - k, "%s%s: %s", k ? "; " : "", base, gd__reason(path, gd_error()));
}

int gd_ckpt_dir_find(const char *dir, gd_ckpt_found *f) {
    memset(f, 0, sizeof *f);
    long *steps = NULL;
    int count;
    if (gd__list(dir, &steps, &count, 0) != 0) {
        if (errno == ENOENT) return f->missing = 1, 0;
        return gd_seterr("%s: cannot list the directory: %s", dir, strerror(errno));
    }
    f->nfiles = count;
    /* the newest ckpt-*.bin that passes the check ... */
    for (int i = 0; i < count && !f->path; i++) {
        char *p = gd__ckpt_path(dir, steps[i]);
        if (!p) break;
        if (gd_ckpt_check(p, &f->info) == 0) {
            f->path = p;
        } else {
            gd__found_damaged(f, p);
            free(p);
        }
    }
    free(steps);
    /* ... or, when none does, best.bin: the one good copy left. best.bin is checked in
     * any case, so that its damage is known too. */
    char *bp = gd__join(dir, GD__BEST);
    if (!bp) {
        gd_ckpt_found_free(f);
        return gd_seterr("%s: out of memory", dir);
    }
    if (access(bp, F_OK) == 0) {
        gd_ckpt_info bi;
        f->nfiles++;
        if (gd_ckpt_check(bp, &bi) == 0) {
            if (!f->path) f->path = bp, bp = NULL, f->info = bi, f->from_best = 1;
        } else {
            f->best_damaged = 1;
            snprintf(f->best_why, sizeof f->best_why, "%s", gd__reason(bp, gd_error()));
            if (!f->path) gd__found_damaged(f, bp);
        }
    }
    free(bp);
    return 0;
}

int gd_ckpt_dir_latest(const char *dir, char *path, size_t size, gd_ckpt_info *info) {
    gd_ckpt_found f;
    if (gd_ckpt_dir_find(dir, &f) != 0) return -1;
    if (!f.path) {
        if (f.ndamaged) gd_seterr("%s: no loadable checkpoint: %d damaged (%s%s)", dir, f.ndamaged, f.damaged,
                                  f.ndamaged > 3 ? "; ..." : "");
        else if (f.missing) gd_seterr("%s: no such directory, so no checkpoint", dir);
        else gd_seterr("%s: no checkpoint", dir);
        return 1;
    }
    int rc = 0;
    if ((size_t)snprintf(path, size, "%s", f.path) >= size)
        rc = gd_seterr("%s: the path does not fit in %zu bytes", f.path, size);
    else if (info)
        *info = f.info;
    gd_ckpt_found_free(&f);
    return rc;
}

/* text.c -- the fortune-cookie corpus, its byte vocabulary, split and windows; see text.h.
 *
 * The file format is strfile(1)'s input (fortune-mod): text in lines, entries separated
 * by a line holding only "%". The .dat files strfile makes from them (a header and the
 * byte offsets of the entries) are an index for random access, which reading every
 * file in full does not need. Left out: rot13-encoded files (fortunes-off's, in a
 * subdirectory we skip) and strfile's other delimiters (the Debian files all use "%").
 */
#include "text.h"
#include "data.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A file bigger than this is taken as not a fortune file (the largest is 245 KB). */
#define GD__FORTUNE_MAX_BYTES ((long)64 << 20)

const char *gd_fortunes_dir(const char *dir) {
    if (dir && *dir) return dir;
    const char *env = getenv(GD_FORTUNES_ENV);
    if (env && *env) return env;
    return GD_FORTUNES_DEFAULT_DIR;
}

static int gd__ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int gd__cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A growing byte buffer and a growing list of entry starts. */
typedef struct {
    uint8_t *b;
    long n, cap;
    long *start;
    int nent, capent;
} gd__buf;

static int gd__put(gd__buf *g, uint8_t x) {
    if (g->n == g->cap) {
        long cap = g->cap ? 2 * g->cap : 1 << 20;
        uint8_t *b = realloc(g->b, (size_t)cap);
        if (!b) return -1;
        g->b = b, g->cap = cap;
    }
    g->b[g->n++] = x;
    return 0;
}

/* Close the entry that started at `from` (if it holds anything): give it a final
 * newline if its last line had none, and record where it started. */
static int gd__end_entry(gd__buf *g, long from) {
    if (g->n == from) return 0;
    if (g->b[g->n - 1] != '\n' && gd__put(g, '\n') != 0) return -1;
    if (g->nent + 2 > g->capent) {
        int cap = g->capent ? 2 * g->capent : 4096;
        long *s = realloc(g->start, (size_t)cap * sizeof *s);
        if (!s) return -1;
        g->start = s, g->capent = cap;
    }
    g->start[g->nent++] = from;
    return 0;
}

/* Read one file's entries into g. */
static int gd__read_fortunes(gd__buf *g, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return gd_seterr("%s: cannot open: %s", path, strerror(errno));
    uint8_t *data = NULL;
    long n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= GD__FORTUNE_MAX_BYTES) {
                free(data), fclose(f);
                return gd_seterr("%s: larger than %ld bytes: not a fortune file", path,
                                 GD__FORTUNE_MAX_BYTES);
            }
            cap = cap ? 2 * cap : 1 << 16;
            uint8_t *d = realloc(data, (size_t)cap);
            if (!d) { free(data), fclose(f); return gd_seterr("%s: out of memory", path); }
            data = d;
        }
        size_t got = fread(data + n, 1, (size_t)(cap - n), f);
        n += (long)got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(data); return gd_seterr("%s: read error", path); }
    if (memchr(data, 0, (size_t)n)) {
        free(data);
        return gd_seterr("%s: contains a NUL byte: not a text file", path);
    }
    const int before = g->nent;
    long from = g->n;                              /* where the current entry starts */
    for (long p = 0; p < n;) {
        long q = p;                                /* the line is data[p .. q), '\n' excluded */
        while (q < n && data[q] != '\n') q++;
        if (q - p == 1 && data[p] == '%') {        /* a separator line */
            if (gd__end_entry(g, from) != 0) goto oom;
            from = g->n;
        } else {
            for (long i = p; i < q; i++) {
                if (data[i] == '\b') {             /* overstrike: the backspaced byte goes */
                    if (g->n > from && g->b[g->n - 1] != '\n') g->n--;
                } else if (gd__put(g, data[i]) != 0) goto oom;
            }
            if (q < n && gd__put(g, '\n') != 0) goto oom;
        }
        p = q + 1;
    }
    if (gd__end_entry(g, from) != 0) goto oom;
    free(data);
    if (g->nent == before) return gd_seterr("%s: no entry (entries are separated by lines "
                                            "holding only %%)", path);
    return 0;
oom:
    free(data);
    return gd_seterr("%s: out of memory", path);
}

int gd_corpus_load(gd_corpus *c, const char *dir) {
    memset(c, 0, sizeof *c);
    dir = gd_fortunes_dir(dir);
    DIR *d = opendir(dir);
    if (!d) return gd_seterr("%s: cannot open the fortunes directory: %s (install Debian's "
                             "package fortunes, or pass --data DIR)", dir, strerror(errno));
    char **names = NULL;
    int nnames = 0, capnames = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d));) {
        const char *nm = e->d_name;
        if (nm[0] == '.' || gd__ends_with(nm, ".dat") || gd__ends_with(nm, ".u8")) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, nm) >= (int)sizeof path) {
            closedir(d);
            for (int j = 0; j < nnames; j++) free(names[j]);
            free(names);
            return gd_seterr("%s: path too long", dir);   /* never a cut path: another file */
        }
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (nnames == capnames) {
            capnames = capnames ? 2 * capnames : 64;
            char **nn = realloc(names, (size_t)capnames * sizeof *nn);
            if (!nn) { closedir(d); goto oom_names; }
            names = nn;
        }
        if (!(names[nnames] = strdup(nm))) { closedir(d); goto oom_names; }
        nnames++;
    }
    closedir(d);
    if (nnames == 0) {
        free(names);
        return gd_seterr("%s: no fortune files in the directory", dir);
    }
    qsort(names, (size_t)nnames, sizeof *names, gd__cmp_str);
    gd__buf g = {0};
    for (int i = 0; i < nnames; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);   /* fits: checked above */
        if (gd__read_fortunes(&g, path) != 0) {
            for (int j = 0; j < nnames; j++) free(names[j]);
            free(names), free(g.b), free(g.start);
            return -1;
        }
    }
    g.start[g.nent] = g.n;                         /* capent >= nent + 2 */
    c->nfiles = nnames;
    c->files = names;
    c->nentries = g.nent;
    c->bytes = g.b;
    c->start = g.start;
    return 0;
oom_names:
    for (int j = 0; j < nnames; j++) free(names[j]);
    free(names);
    return gd_seterr("%s: out of memory", dir);
}

void gd_corpus_free(gd_corpus *c) {
    for (int i = 0; i < c->nfiles; i++) free(c->files[i]);
    free(c->files), free(c->bytes), free(c->start);
    memset(c, 0, sizeof *c);
}

void gd_vocab_build(gd_vocab *v, const gd_corpus *c) {
    int seen[256] = {0};
    for (long i = 0; i < c->start[c->nentries]; i++) seen[c->bytes[i]] = 1;
    seen['%'] = seen['\n'] = 1;                    /* the separator */
    v->size = 0;
    for (int b = 0; b < 256; b++) {
        v->id[b] = seen[b] ? v->size : -1;
        if (seen[b]) v->byte[v->size++] = (uint8_t)b;
    }
}

int gd_vocab_encode(const gd_vocab *v, const uint8_t *s, long n, int *ids) {
    for (long i = 0; i < n; i++) {
        if ((ids[i] = v->id[s[i]]) < 0)
            return gd_seterr("byte 0x%02x at %ld is not in the vocabulary", s[i], i);
    }
    return 0;
}

int gd_vocab_decode(const gd_vocab *v, const int *ids, long n, uint8_t *s) {
    for (long i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->size)
            return gd_seterr("id %d at %ld is outside [0, %d)", ids[i], i, v->size);
        s[i] = v->byte[ids[i]];
    }
    return 0;
}

/* The stream of entries idx[0..k): each entry's ids, then those of "%\n". */
static int gd__stream(gd_tokens *s, const gd_corpus *c, const gd_vocab *v, const int *idx,
                      int k) {
    long n = 0;
    for (int j = 0; j < k; j++) n += c->start[idx[j] + 1] - c->start[idx[j]] + 2;
    s->ids = malloc((size_t)n * sizeof *s->ids);
    s->entries = malloc((size_t)k * sizeof *s->entries);
    if (!s->ids || !s->entries) return gd_seterr("split: out of memory for %ld ids", n);
    static const uint8_t sep[2] = {'%', '\n'};
    long at = 0;
    for (int j = 0; j < k; j++) {
        const long len = c->start[idx[j] + 1] - c->start[idx[j]];
        if (gd_vocab_encode(v, c->bytes + c->start[idx[j]], len, s->ids + at) != 0 ||
            gd_vocab_encode(v, sep, 2, s->ids + at + len) != 0)
            return gd_seterr("split: entry %d: %s", idx[j], gd_error());
        at += len + 2;
        s->entries[j] = idx[j];
    }
    s->n = n;
    s->nentries = k;
    return 0;
}

int gd_text_split(gd_tokens *train, gd_tokens *val, const gd_corpus *c, const gd_vocab *v,
                  double val_frac, uint64_t seed) {
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!(val_frac > 0 && val_frac < 1))
        return gd_seterr("split: the validation fraction must be in (0, 1), got %g", val_frac);
    const int n = c->nentries;
    if (n < 2) return gd_seterr("split: %d entries, need at least 2", n);
    int n_val = (int)lround(val_frac * n);
    if (n_val < 1) n_val = 1;
    if (n_val > n - 1) n_val = n - 1;
    int *tr = malloc((size_t)n * sizeof *tr), *va = malloc((size_t)n_val * sizeof *va);
    int rc = -1;
    if (!tr || !va) gd_seterr("split: out of memory");
    else if (gd_split(tr, va, n, n_val, seed) == 0 &&
             gd__stream(train, c, v, tr, n - n_val) == 0 &&
             gd__stream(val, c, v, va, n_val) == 0)
        rc = 0;
    free(tr), free(va);
    if (rc != 0) gd_tokens_free(train), gd_tokens_free(val);
    return rc;
}

void gd_tokens_free(gd_tokens *s) {
    free(s->ids), free(s->entries);
    memset(s, 0, sizeof *s);
}

int gd_text_window(int *x, int *y, const gd_tokens *s, long o, int T) {
    if (T < 1 || o < 0 || o + T + 1 > s->n)
        return gd_seterr("window: offset %ld, length %d: outside the stream of %ld ids", o, T,
                         s->n);
    memcpy(x, s->ids + o, (size_t)T * sizeof *x);
    memcpy(y, s->ids + o + 1, (size_t)T * sizeof *y);
    return 0;
}

int gd_text_batch(int *x, int *y, const gd_tokens *s, int B, int T, gd_rng *r) {
    if (T < 1 || s->n < (long)T + 1)
        return gd_seterr("batch: a stream of %ld ids is too short for windows of %d", s->n, T);
    for (int b = 0; b < B; b++) {
        long o = (long)gd_rng_below(r, (uint64_t)(s->n - T));   /* [0, n - T - 1] */
        gd_text_window(x + (size_t)b * T, y + (size_t)b * T, s, o, T);
    }
    return 0;
}

void gd_text_unigram(double *p, const gd_tokens *s, int V) {
    for (int k = 0; k < V; k++) p[k] = 1;          /* add-one smoothing */
    for (long i = 0; i < s->n; i++) p[s->ids[i]] += 1;
    for (int k = 0; k < V; k++) p[k] /= (double)s->n + V;
}

double gd_text_xent(const double *p, const int *ids, long n) {
    double sum = 0;
    for (long i = 0; i < n; i++) sum -= log(p[ids[i]]);
    return sum / (double)n;
}

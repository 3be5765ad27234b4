/* sweep.c -- grids of training runs: axes, point ids, shards, the results table
 * (append, resume, merge) and the fork()ed workers; see sweep.h.
 *
 * Leaves out: scheduling across machines (GNU parallel and Slurm do that, on shards),
 * retrying failed points within a run (running the same command again does), and
 * anything adaptive (successive halving, Bayesian search): the grid is fixed up front.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT, pipe2 */
#include "sweep.h"
#include "cli.h"
#include "err.h"
#include "out.h"
#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define GD__AXIS_MAX 100000   /* values on one axis */
#define GD__ROW_MAX 8192      /* bytes in one row */
#define GD__SPEC_MAX 2000     /* characters in one optim or sched spec: two of them, an lr and
                                 the numbers fit in a row, so no point fails after training */

/* ---------------------------------------------------------------------------------
 * Small helpers: numbers written the shortest way that reads back exactly. */

static void gd__shortest(char *buf, size_t size, double v) {
    int p = 1;
    for (; p < 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* 30, not 3e+01: enough digits to reach the decimal point for moderate numbers */
    int e = v != 0 && isfinite(v) ? (int)floor(log10(fabs(v))) : 0;
    if (e >= p && e < 15) p = e + 1;
    snprintf(buf, size, "%.*g", p, v);
}

/* A result number: %.6g, with NaN and infinities spelled one way ("nan", "inf"). */
static void gd__num(char *buf, size_t size, double v) {
    if (isnan(v)) snprintf(buf, size, "nan");
    else if (isinf(v)) snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else snprintf(buf, size, "%.6g", v);
}

static double gd__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Copy of s[0..n) without leading and trailing blanks (malloc'd). */
static char *gd__trimmed(const char *s, size_t n) {
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) n--;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void gd__free_strings(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* gd_error() is overwritten by gd_seterr while it formats: copy it first. */
static int gd__wrap(const char *fmt_prefix, const char *item) {
    char why[512];
    snprintf(why, sizeof why, "%s", gd_error());
    return gd_seterr(fmt_prefix, item, why);
}

/* ---------------------------------------------------------------------------------
 * The grid. */

void gd_sweep_init(gd_sweep *sw) {
    memset(sw, 0, sizeof *sw);
    sw->nlayers = 2;
    sw->dims[0] = 784, sw->dims[1] = 128, sw->dims[2] = 10;
    sw->epochs = 1;
    sw->batch_size = 128;
    sw->train_subset = 0;
    sw->n_val = 10000;
    sw->diverge_factor = 10;
}

void gd_sweep_free(gd_sweep *sw) {
    free(sw->lr);
    gd__free_strings(sw->lr_text, sw->n_lr);
    gd__free_strings(sw->optim, sw->n_optim);
    gd__free_strings(sw->sched, sw->n_sched);
    free(sw->seeds);
    free(sw->task);
    memset(sw, 0, sizeof *sw);
}

int gd_sweep_set_task(gd_sweep *sw, const char *task) {
    char *copy = NULL;
    if (task) {
        if (!*task || strchr(task, '\n')) return gd_seterr("a task is one non-empty line, got '%s'", task);
        if (!(copy = strdup(task))) return gd_seterr("out of memory");
    }
    free(sw->task);
    sw->task = copy;
    return 0;
}

static int gd__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int gd__cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Append v to the growing array *a of *n (capacity *cap) elements of size sz. */
static int gd__push(void **a, int *n, int *cap, const void *v, size_t sz) {
    if (*n >= GD__AXIS_MAX) return gd_seterr("more than %d values", GD__AXIS_MAX);
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        void *p = realloc(*a, (size_t)c * sz);
        if (!p) return gd_seterr("out of memory");
        *a = p, *cap = c;
    }
    memcpy((char *)*a + (size_t)*n * sz, v, sz);
    (*n)++;
    return 0;
}

/* One lr item: a number, or LO:HI:PER_DECADE. */
static int gd__lr_item(const char *item, double **v, int *n, int *cap) {
    const char *c1 = strchr(item, ':');
    if (!c1) {
        double x;
        if (gd_parse_double(item, &x) != 0) return -1;
        if (!(x > 0)) return gd_seterr("'%s': the lr must be > 0", item);
        return gd__push((void **)v, n, cap, &x, sizeof x);
    }
    char lo_s[64], hi_s[64], per_s[64];
    const char *c2 = strchr(c1 + 1, ':');
    if (!c2 || strchr(c2 + 1, ':') || (size_t)(c1 - item) >= sizeof lo_s || (size_t)(c2 - c1 - 1) >= sizeof hi_s ||
        strlen(c2 + 1) >= sizeof per_s)
        return gd_seterr("'%s' is not LO:HI:POINTS_PER_DECADE", item);
    snprintf(lo_s, sizeof lo_s, "%.*s", (int)(c1 - item), item);
    snprintf(hi_s, sizeof hi_s, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    snprintf(per_s, sizeof per_s, "%s", c2 + 1);
    double lo, hi, per;
    if (gd_parse_double(lo_s, &lo) || gd_parse_double(hi_s, &hi) || gd_parse_double(per_s, &per))
        return gd__wrap("'%s': %s", item);
    if (!(lo > 0) || !(hi > 0)) return gd_seterr("'%s': the lr must be > 0", item);
    if (hi < lo) return gd_seterr("'%s': empty range (%g > %g)", item, lo, hi);
    if (per != floor(per) || per < 1 || per > 100)
        return gd_seterr("'%s': points per decade must be a whole number from 1 to 100", item);
    /* from lo up to hi (included when on the grid), rounded to 3 significant digits */
    long count = (long)floor(per * log10(hi / lo) + 1e-9) + 1;
    if (count > GD__AXIS_MAX) return gd_seterr("'%s': more than %d values", item, GD__AXIS_MAX);
    for (long i = 0; i < count; i++) {
        char text[32];
        snprintf(text, sizeof text, "%.3g", pow(10.0, log10(lo) + (double)i / per));
        double x = strtod(text, NULL);
        if (gd__push((void **)v, n, cap, &x, sizeof x) != 0) return -1;
    }
    return 0;
}

int gd_sweep_set_lr(gd_sweep *sw, const char *text) {
    double *v = NULL;
    int n = 0, cap = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        char *item = gd__trimmed(p, comma ? (size_t)(comma - p) : strlen(p));
        if (!item) goto oom;
        int rc = item[0] == '\0' ? gd_seterr("'%s': empty item", text) : gd__lr_item(item, &v, &n, &cap);
        free(item);
        if (rc) goto fail;
        if (!comma) break;
        p = comma + 1;
    }
    qsort(v, (size_t)n, sizeof *v, gd__cmp_double);
    for (int i = 1; i < n; i++)
        if (v[i] == v[i - 1]) {
            gd_seterr("'%s': lr %g appears twice", text, v[i]);
            goto fail;
        }
    char **texts = calloc((size_t)n, sizeof *texts);
    if (!texts) goto oom;
    for (int i = 0; i < n; i++) {
        char buf[40];
        gd__shortest(buf, sizeof buf, v[i]);
        if (!(texts[i] = strdup(buf))) {
            gd__free_strings(texts, n);
            goto oom;
        }
    }
    free(sw->lr);
    gd__free_strings(sw->lr_text, sw->n_lr);
    sw->lr = v, sw->lr_text = texts, sw->n_lr = n;
    return 0;
oom:
    gd_seterr("out of memory");
fail:
    free(v);
    return -1;
}

/* Split text on ';' into trimmed, non-empty, blank-free, distinct specs, each checked by
 * check(spec) (which sets gd_error on failure). */
static int gd__specs(const char *text, char ***out, int *nout, int (*check)(const char *)) {
    char **v = NULL;
    int n = 0, cap = 0;
    const char *p = text;
    for (;;) {
        const char *semi = strchr(p, ';');
        char *spec = gd__trimmed(p, semi ? (size_t)(semi - p) : strlen(p));
        if (!spec) {
            gd_seterr("out of memory");
            goto fail;
        }
        int rc = 0;
        if (spec[0] == '\0') rc = gd_seterr("'%s': empty spec (specs are separated by ';')", text);
        else if (strpbrk(spec, " \t\n\r")) rc = gd_seterr("'%s': a spec has no blanks", spec);
        else if (strlen(spec) > GD__SPEC_MAX)
            rc = gd_seterr("'%.40s...': a spec of %zu characters, more than %d", spec, strlen(spec), GD__SPEC_MAX);
        for (int i = 0; rc == 0 && i < n; i++)
            if (strcmp(v[i], spec) == 0) rc = gd_seterr("'%s' appears twice", spec);
        if (rc == 0 && check(spec) != 0) rc = gd__wrap("'%s': %s", spec);
        if (rc == 0) rc = gd__push((void **)&v, &n, &cap, &spec, sizeof spec);
        if (rc) {
            free(spec);
            goto fail;
        }
        if (!semi) break;
        p = semi + 1;
    }
    *out = v, *nout = n;
    return 0;
fail:
    gd__free_strings(v, n);
    return -1;
}

static int gd__check_optim(const char *spec) {
    /* the grid sets lr: a spec that sets it too would be ambiguous */
    for (const char *c = strchr(spec, ':'); c; c = strchr(c + 1, ':'))
        if (strncmp(c + 1, "lr=", 3) == 0) return gd_seterr("the grid sets lr (give it with the lr axis)");
    size_t n = strlen(spec) + sizeof ":lr=0.001";
    char *full = malloc(n);
    if (!full) return gd_seterr("out of memory");
    snprintf(full, n, "%s:lr=0.001", spec);
    gd_optim_kind kind;
    gd_hparams hp;
    int rc = gd_optim_parse(full, &kind, &hp);
    free(full);
    return rc;
}

static int gd__check_sched(const char *spec) {
    gd_sched *s = gd_sched_parse(spec);
    if (!s) return -1;
    gd_sched_free(s);
    return 0;
}

int gd_sweep_set_optim(gd_sweep *sw, const char *text) {
    char **v;
    int n;
    if (gd__specs(text, &v, &n, gd__check_optim) != 0) return -1;
    gd__free_strings(sw->optim, sw->n_optim);
    sw->optim = v, sw->n_optim = n;
    return 0;
}

int gd_sweep_set_sched(gd_sweep *sw, const char *text) {
    char **v;
    int n;
    if (gd__specs(text, &v, &n, gd__check_sched) != 0) return -1;
    gd__free_strings(sw->sched, sw->n_sched);
    sw->sched = v, sw->n_sched = n;
    return 0;
}

static int gd__parse_u64(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 19) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = 10 * v + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int gd_sweep_set_seeds(gd_sweep *sw, const char *text) {
    uint64_t *v = NULL, count;
    int n = 0, cap = 0;
    size_t len = strlen(text);
    if (!strpbrk(text, ",:")) {
        /* a single number: that many seeds, 0..N-1 */
        if (gd__parse_u64(text, len, &count) != 0)
            return gd_seterr("'%s' is not a number of seeds or a list like 0,5,7:9", text);
        if (count < 1) return gd_seterr("'%s': need at least one seed", text);
        if (count > GD__AXIS_MAX) return gd_seterr("'%s': more than %d seeds", text, GD__AXIS_MAX);
        for (uint64_t s = 0; s < count; s++)
            if (gd__push((void **)&v, &n, &cap, &s, sizeof s) != 0) goto fail;
    } else {
        const char *p = text;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t ilen = comma ? (size_t)(comma - p) : strlen(p);
            const char *colon = memchr(p, ':', ilen);
            uint64_t a, b;
            int bad = colon ? gd__parse_u64(p, (size_t)(colon - p), &a) ||
                                  gd__parse_u64(colon + 1, ilen - (size_t)(colon - p) - 1, &b)
                            : gd__parse_u64(p, ilen, &a);
            if (!colon) b = a;
            if (bad) {
                gd_seterr("'%.*s' is not a seed or a range A:B of seeds", (int)ilen, p);
                goto fail;
            }
            if (b < a) {
                gd_seterr("'%.*s': empty range", (int)ilen, p);
                goto fail;
            }
            if (b - a >= GD__AXIS_MAX) {
                gd_seterr("'%.*s': more than %d seeds", (int)ilen, p, GD__AXIS_MAX);
                goto fail;
            }
            for (uint64_t s = a;; s++) {
                if (gd__push((void **)&v, &n, &cap, &s, sizeof s) != 0) goto fail;
                if (s == b) break;
            }
            if (!comma) break;
            p = comma + 1;
        }
    }
    qsort(v, (size_t)n, sizeof *v, gd__cmp_u64);
    for (int i = 1; i < n; i++)
        if (v[i] == v[i - 1]) {
            gd_seterr("'%s': seed %llu appears twice", text, (unsigned long long)v[i]);
            goto fail;
        }
    free(sw->seeds);
    sw->seeds = v, sw->n_seeds = n;
    return 0;
fail:
    free(v);
    return -1;
}

int gd_sweep_set_model(gd_sweep *sw, const char *dims) {
    int d[GD_TRAIN_MAXLAYERS + 1];
    int n = gd_parse_dims(dims, d, GD_TRAIN_MAXLAYERS);
    if (n < 0) return -1;
    if (d[0] != 784) return gd_seterr("'%s': the first size is the input, 784 pixels (28x28)", dims);
    if (d[n] != GD_FMNIST_CLASSES)
        return gd_seterr("'%s': the last size is the output, %d classes", dims, GD_FMNIST_CLASSES);
    sw->nlayers = n;
    memcpy(sw->dims, d, sizeof d);
    return 0;
}

int gd_sweep_check(const gd_sweep *sw) {
    if (sw->n_lr < 1) return gd_seterr("no learning rates");
    if (sw->n_optim < 1) return gd_seterr("no optimizers");
    if (sw->n_sched < 1) return gd_seterr("no schedules");
    if (sw->n_seeds < 1) return gd_seterr("no seeds");
    /* the ranges keep every later conversion defined: the counts become ints (the
     * trainer's), epochs times the batches per epoch a long */
    if (!(sw->epochs > 0) || !(sw->epochs <= GD_SWEEP_MAX_EPOCHS))
        return gd_seterr("epochs must be > 0 and <= %g, got %g", (double)GD_SWEEP_MAX_EPOCHS, sw->epochs);
    if (sw->batch_size < 1 || sw->batch_size > GD_SWEEP_MAX_COUNT)
        return gd_seterr("the batch size must be from 1 to %ld, got %ld", (long)GD_SWEEP_MAX_COUNT, sw->batch_size);
    if (sw->train_subset < 0 || sw->n_val < 0 || sw->train_subset > GD_SWEEP_MAX_COUNT ||
        sw->n_val > GD_SWEEP_MAX_COUNT)
        return gd_seterr("image counts must be from 0 to %ld, got train subset %ld, val %ld",
                         (long)GD_SWEEP_MAX_COUNT, sw->train_subset, sw->n_val);
    if (!(sw->diverge_factor > 1) || !isfinite(sw->diverge_factor))
        return gd_seterr("the divergence factor must be > 1 and finite, got %g", sw->diverge_factor);
    double np = (double)sw->n_lr * sw->n_optim * sw->n_sched * sw->n_seeds;
    if (np > (double)GD_SWEEP_MAX_POINTS)
        return gd_seterr("%.0f points: more than %ld", np, GD_SWEEP_MAX_POINTS);
    return 0;
}

long gd_sweep_npoints(const gd_sweep *sw) {
    return (long)sw->n_lr * sw->n_optim * sw->n_sched * sw->n_seeds;
}

void gd_sweep_point_get(const gd_sweep *sw, long id, gd_sweep_point *p) {
    /* id = ((optim * n_sched + sched) * n_lr + lr) * n_seeds + seed */
    p->id = id;
    p->i_seed = (int)(id % sw->n_seeds);
    id /= sw->n_seeds;
    p->i_lr = (int)(id % sw->n_lr);
    id /= sw->n_lr;
    p->i_sched = (int)(id % sw->n_sched);
    p->i_optim = (int)(id / sw->n_sched);
    p->lr = sw->lr[p->i_lr];
    p->lr_text = sw->lr_text[p->i_lr];
    p->optim = sw->optim[p->i_optim];
    p->sched = sw->sched[p->i_sched];
    p->seed = sw->seeds[p->i_seed];
}

int gd_sweep_point_optim(const gd_sweep_point *p, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s:lr=%s", p->optim, p->lr_text);
    if (n < 0 || (size_t)n >= size) return gd_seterr("point %ld: its optimizer spec is longer than %zu bytes", p->id, size);
    return n;
}

int gd_sweep_parse_shard(const char *text, long *k, long *n) {
    const char *slash = strchr(text, '/');
    char a[32], b[32];
    if (!slash || (size_t)(slash - text) >= sizeof a || strlen(slash + 1) >= sizeof b)
        return gd_seterr("'%s' is not K/N (shard K of N, 0 <= K < N)", text);
    snprintf(a, sizeof a, "%.*s", (int)(slash - text), text);
    snprintf(b, sizeof b, "%s", slash + 1);
    if (gd_parse_long(a, k) != 0 || gd_parse_long(b, n) != 0)
        return gd_seterr("'%s' is not K/N (shard K of N, 0 <= K < N)", text);
    if (*n < 1) return gd_seterr("'%s': N must be >= 1", text);
    if (*k < 0 || *k >= *n) return gd_seterr("'%s': K must be from 0 to N-1 = %ld", text, *n - 1);
    return 0;
}

/* ---------------------------------------------------------------------------------
 * The table's header: every axis and setting, then the column names. */

static void gd__seeds_text(FILE *f, const gd_sweep *sw) {
    /* runs of consecutive seeds as A:B; a lone single seed as S:S (a bare S is a count) */
    if (sw->n_seeds == 1) {
        fprintf(f, "%llu:%llu", (unsigned long long)sw->seeds[0], (unsigned long long)sw->seeds[0]);
        return;
    }
    for (int i = 0; i < sw->n_seeds;) {
        int j = i;
        while (j + 1 < sw->n_seeds && sw->seeds[j + 1] == sw->seeds[j] + 1) j++;
        fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)sw->seeds[i]);
        if (j > i) fprintf(f, ":%llu", (unsigned long long)sw->seeds[j]);
        i = j + 1;
    }
}

char *gd_sweep_header(const gd_sweep *sw) {
    char *buf = NULL, num[40];
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return gd_seterr("out of memory"), NULL;
    fprintf(f, "# program: sweep\n");
    if (sw->task) fprintf(f, "# task: %s\n", sw->task);
    fprintf(f, "# lr: ");
    for (int i = 0; i < sw->n_lr; i++) fprintf(f, "%s%s", i ? "," : "", sw->lr_text[i]);
    fprintf(f, "\n# optim: ");
    for (int i = 0; i < sw->n_optim; i++) fprintf(f, "%s%s", i ? ";" : "", sw->optim[i]);
    fprintf(f, "\n# sched: ");
    for (int i = 0; i < sw->n_sched; i++) fprintf(f, "%s%s", i ? ";" : "", sw->sched[i]);
    fprintf(f, "\n# seeds: ");
    gd__seeds_text(f, sw);
    fprintf(f, "\n# model: ");
    for (int l = 0; l <= sw->nlayers; l++) fprintf(f, "%s%d", l ? "-" : "", sw->dims[l]);
    gd__shortest(num, sizeof num, sw->epochs);
    fprintf(f, "\n# epochs: %s\n# batch_size: %ld\n# train_subset: %ld\n# val: %ld\n", num, sw->batch_size,
            sw->train_subset, sw->n_val);
    gd__shortest(num, sizeof num, sw->diverge_factor);
    fprintf(f, "# diverge_factor: %s\n# points: %ld\n", num, gd_sweep_npoints(sw));
    if (sw->task)
        fprintf(f, "# about: one row per training run of the task above (the model, epochs, batch_size, "
                   "train_subset and val lines are what the task says they are); "
                   "id = ((optim * n_sched + sched) * n_lr + lr) * n_seeds + seed index; "
                   "seed: initial weights and data order, the same for every lr, optim and sched\n");
    else
        fprintf(f, "# about: one row per training run of an MLP (ReLU) on Fashion-MNIST: the training images "
                   "minus val held out (split seed %d), the first train_subset of them if > 0; "
                   "id = ((optim * n_sched + sched) * n_lr + lr) * n_seeds + seed index; "
                   "seed: initial weights and data order, the same for every lr, optim and sched\n",
                GD_SWEEP_SPLIT_SEED);
    fprintf(f, "# columns: train_loss: mean minibatch loss of the last logged window (steps/10 updates, from 1 "
               "to 50); val_loss, val_acc: "
               "the held-out images after the last update (nan if diverged or val 0); "
               "diverged_at: the step at which the run was stopped as diverged, -1 if not; "
               "wall time is not recorded (it differs run to run)\n");
    for (const char *c = GD_SWEEP_COLUMNS; *c; c++) fputc(*c == ' ' ? '\t' : *c, f);
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(buf);
        return gd_seterr("out of memory"), NULL;
    }
    return buf;
}

/* The value of "# key: value" in a header text, copied into buf (or -1). */
static int gd__meta(const char *text, const char *key, char *buf, size_t size) {
    size_t klen = strlen(key);
    for (const char *line = text; *line == '#';) {
        const char *end = strchr(line, '\n');
        if (!end) break;
        if (strncmp(line, "# ", 2) == 0 && strncmp(line + 2, key, klen) == 0 &&
            strncmp(line + 2 + klen, ": ", 2) == 0) {
            const char *v = line + 4 + klen;
            if ((size_t)(end - v) >= size) return gd_seterr("'%s' line too long", key);
            snprintf(buf, size, "%.*s", (int)(end - v), v);
            return 0;
        }
        line = end + 1;
    }
    return gd_seterr("no '# %s:' line", key);
}

static int gd__from_header(gd_sweep *sw, const char *text, char *v, size_t size);

int gd_sweep_from_header(gd_sweep *sw, const char *text) {
    gd_sweep_init(sw);
    if (strncmp(text, "# program: sweep\n", 17) != 0) return gd_seterr("not a sweep table");
    size_t size = strlen(text) + 1;
    char *v = malloc(size);   /* a value is at most the whole text */
    if (!v) return gd_seterr("out of memory");
    int rc = gd__from_header(sw, text, v, size);
    free(v);
    return rc;
}

static int gd__from_header(gd_sweep *sw, const char *text, char *v, size_t size) {
    const char *axes[] = {"lr", "optim", "sched", "seeds", "model"};
    int (*set[])(gd_sweep *, const char *) = {gd_sweep_set_lr, gd_sweep_set_optim, gd_sweep_set_sched,
                                              gd_sweep_set_seeds, gd_sweep_set_model};
    for (int i = 0; i < 5; i++)
        if (gd__meta(text, axes[i], v, size) != 0 || set[i](sw, v) != 0) return gd__wrap("%s: %s", axes[i]);
    if (gd__meta(text, "task", v, size) == 0 && gd_sweep_set_task(sw, v) != 0) return gd__wrap("%s: %s", "task");
    /* the counts are whole numbers in the ranges gd_sweep_check allows, checked as text:
     * a cast of 1e300 (or 2.5) to long would be undefined (or silently 2) */
    const char *counts[] = {"batch_size", "train_subset", "val"};
    long *dst[] = {&sw->batch_size, &sw->train_subset, &sw->n_val}, lo[] = {1, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (gd__meta(text, counts[i], v, size) != 0) return gd__wrap("%s: %s", counts[i]);
        if (gd_parse_long(v, dst[i]) != 0 || *dst[i] < lo[i] || *dst[i] > GD_SWEEP_MAX_COUNT)
            return gd_seterr("%s: '%s' is not a whole number from %ld to %ld", counts[i], v, lo[i],
                             (long)GD_SWEEP_MAX_COUNT);
    }
    const char *reals[] = {"epochs", "diverge_factor"};
    double *rdst[] = {&sw->epochs, &sw->diverge_factor};
    for (int i = 0; i < 2; i++)
        if (gd__meta(text, reals[i], v, size) != 0 || gd_parse_double(v, rdst[i]) != 0)
            return gd__wrap("%s: %s", reals[i]);
    if (gd_sweep_check(sw) != 0) return -1;
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Rows. */

int gd_sweep_format_row(const gd_sweep *sw, const gd_sweep_result *r, char *buf, size_t size) {
    gd_sweep_point p;
    gd_sweep_point_get(sw, r->id, &p);
    char tl[32], vl[32], va[32];
    gd__num(tl, sizeof tl, r->train_loss);
    gd__num(vl, sizeof vl, r->val_loss);
    gd__num(va, sizeof va, r->val_acc);
    int n = snprintf(buf, size, "%ld\t%s\t%s\t%s\t%llu\t%s\t%ld\t%s\t%s\t%s\t%ld\n", r->id, p.lr_text, p.optim,
                     p.sched, (unsigned long long)p.seed, r->diverged_at >= 0 ? "diverged" : "ok",
                     r->diverged_at >= 0 ? r->diverged_at : -1L, tl, vl, va, r->steps);
    if (n < 0 || (size_t)n >= size) return gd_seterr("row of point %ld longer than %zu bytes", r->id, size);
    return n;
}

static int gd__field_long(const char *s, long *v) {
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return end == s || *end || errno ? -1 : 0;
}

static int gd__field_double(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return end == s || *end ? -1 : 0;
}

int gd_sweep_parse_row(const gd_sweep *sw, const char *line, gd_sweep_result *r) {
    char buf[GD__ROW_MAX], *f[11];
    size_t len = strlen(line);
    if (len + 2 > sizeof buf) return gd_seterr("line longer than %d bytes", GD__ROW_MAX);
    memcpy(buf, line, len + 1);
    int n = 0;
    for (char *p = buf;; p++) {
        if (n == 11) return gd_seterr("more than 11 fields");
        f[n++] = p;
        p = strchr(p, '\t');
        if (!p) break;
        *p = '\0';
    }
    if (n != 11) return gd_seterr("%d fields, not 11", n);
    memset(r, 0, sizeof *r);
    if (gd__field_long(f[0], &r->id) != 0 || r->id < 0 || r->id >= gd_sweep_npoints(sw))
        return gd_seterr("'%s' is not a point id of this grid", f[0]);
    if (gd__field_long(f[6], &r->diverged_at) || gd__field_double(f[7], &r->train_loss) ||
        gd__field_double(f[8], &r->val_loss) || gd__field_double(f[9], &r->val_acc) ||
        gd__field_long(f[10], &r->steps))
        return gd_seterr("point %ld: a number that is not one", r->id);
    /* the row must be exactly the one this grid writes for that point and those numbers:
     * this checks lr, optim, sched, seed and status, and that nothing is torn */
    char again[GD__ROW_MAX];
    if (gd_sweep_format_row(sw, r, again, sizeof again) < 0) return -1;
    again[strlen(again) - 1] = '\0';
    if (strcmp(again, line) != 0) return gd_seterr("not the row of point %ld of this grid", r->id);
    r->seconds = NAN;
    return 0;
}

int gd_sweep_rows_init(gd_sweep_rows *rows, const gd_sweep *sw) {
    memset(rows, 0, sizeof *rows);
    rows->npoints = gd_sweep_npoints(sw);
    rows->first_conflict = -1;
    rows->row = calloc((size_t)(rows->npoints > 0 ? rows->npoints : 1), sizeof *rows->row);
    return rows->row ? 0 : gd_seterr("out of memory");
}

void gd_sweep_rows_free(gd_sweep_rows *rows) {
    for (long i = 0; rows->row && i < rows->npoints; i++) free(rows->row[i]);
    free(rows->row);
    memset(rows, 0, sizeof *rows);
}

/* Why text is not a table with header H: "not a sweep table", a header cut short (which
 * line, how much of it is there, what is missing), or the first line that differs, both
 * versions shown from a little before the first byte that differs, so that two long
 * lines that differ near their end do not look the same. */
static int gd__header_mismatch(const char *name, const char *H, const char *text, size_t len) {
    if (len < 17 || strncmp(text, "# program: sweep\n", 17) != 0)
        return gd_seterr("%s: not a sweep table (it does not start with '# program: sweep')", name);
    const char *a = H, *b = text, *end = text + len;
    for (long lineno = 1; *a; lineno++) {
        const char *ea = strchr(a, '\n'), *eb = memchr(b, '\n', (size_t)(end - b));
        size_t la = (size_t)(ea - a), lb = eb ? (size_t)(eb - b) : (size_t)(end - b), c = 0;
        while (c < la && c < lb && a[c] == b[c]) c++;   /* the first column that differs */
        if (!eb && c == lb && lb < la) {
            /* the text ends inside (or at the start of) this line: cut short, not another grid */
            size_t miss = la - lb;
            if (lb == 0)
                return gd_seterr("%s: its header is cut short: it ends after line %ld, before '%.*s%s' "
                                 "(an interrupted write? delete it, or merge the shards again)",
                                 name, lineno - 1, (int)(la > 60 ? 60 : la), a, la > 60 ? "..." : "");
            return gd_seterr("%s: its header is cut short: line %ld ends after %zu of its %zu bytes, "
                             "without '%.*s%s' (an interrupted write? delete it, or merge the shards again)",
                             name, lineno, lb, la + 1, (int)(miss > 40 ? 40 : miss), a + lb,
                             miss > 40 ? "..." : "");
        }
        if (c < la || c < lb) {
            size_t from = c > 20 ? c - 20 : 0;   /* a little context before the difference */
            size_t sa = la - from, sb = lb - from;
            return gd_seterr("%s: a table of another sweep: line %ld has '%s%.*s%s', these arguments give "
                             "'%s%.*s%s' (use another table, or the same arguments)",
                             name, lineno, from ? "..." : "", (int)(sb > 60 ? 60 : sb), b + from,
                             sb > 60 ? "..." : "", from ? "..." : "", (int)(sa > 60 ? 60 : sa), a + from,
                             sa > 60 ? "..." : "");
        }
        if (!eb)   /* the whole last line, but not its newline */
            return gd_seterr("%s: its header is cut short: line %ld has no newline", name, lineno);
        a = ea + 1, b = eb + 1;
    }
    return gd_seterr("%s: not the header of this sweep", name);   /* not reached: the caller saw a difference */
}

int gd_sweep_rows_add_text(gd_sweep_rows *rows, const gd_sweep *sw, const char *text, size_t len, const char *name) {
    char *H = gd_sweep_header(sw);
    if (!H) return -1;
    size_t hl = strlen(H);
    long lineno = 0;
    for (const char *c = H; *c; c++) lineno += *c == '\n';
    int ok = len >= hl && memcmp(text, H, hl) == 0;
    if (!ok) gd__header_mismatch(name, H, text, len);
    free(H);
    if (!ok) return -1;
    char line[GD__ROW_MAX];
    for (const char *p = text + hl, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        gd_sweep_result r;
        /* a NUL byte inside a line makes it malformed: copied up to the NUL, it would be
         * kept without its end, and written back as two rows on one line (fuzz_sweep) */
        int good = nl && n < sizeof line && !memchr(p, '\0', n);
        if (good) {
            memcpy(line, p, n);
            line[n] = '\0';
            good = gd_sweep_parse_row(sw, line, &r) == 0;
        }
        if (!good) {
            /* malformed, or torn (no newline): ignored */
            if (rows->bad++ == 0) rows->first_bad = lineno;
        } else if (!rows->row[r.id]) {
            if (!(rows->row[r.id] = malloc(n + 2))) return gd_seterr("out of memory");
            memcpy(rows->row[r.id], p, n + 1);
            rows->row[r.id][n + 1] = '\0';
            rows->n++;
        } else if (strncmp(rows->row[r.id], p, n + 1) != 0) {
            if (rows->conflicts++ == 0) rows->first_conflict = r.id;
        }
        p += n + 1;
    }
    return 0;
}

/* The whole file (malloc'd, NUL-terminated), reading fd from offset 0. */
static char *gd__read_fd(int fd, size_t *len, const char *name) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return gd_seterr("out of memory"), NULL;
    for (;;) {
        if (n + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                return gd_seterr("out of memory"), NULL;
            }
            buf = b;
        }
        ssize_t got = pread(fd, buf + n, cap - n - 1, (off_t)n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buf);
            return gd_seterr("%s: cannot read: %s", name, strerror(errno)), NULL;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int gd_sweep_rows_read(gd_sweep_rows *rows, const gd_sweep *sw, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gd_seterr("%s: cannot open: %s", path, strerror(errno));
    size_t len;
    char *text = gd__read_fd(fd, &len, path);
    close(fd);
    if (!text) return -1;
    int rc = gd_sweep_rows_add_text(rows, sw, text, len, path);
    free(text);
    return rc;
}

/* Write all of buf to fd; 0 or -1 (errno set). */
static int gd__write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        buf += w, n -= (size_t)w;
    }
    return 0;
}

/* Write the parts to path by out.h's policy (gd_atomic: a file through PATH.tmp.PID and a
 * rename, a symlink's target replaced and the link kept, a device or FIFO written in
 * place so that /dev/full fails with ENOSPC, a directory refused); "-" is stdout. */
static int gd__write_file(const char *path, const char *parts[], long nparts) {
    gd_atomic a;
    if (gd_atomic_open(&a, path) != 0) return -1;
    for (long i = 0; i < nparts; i++) {
        size_t n = parts[i] ? strlen(parts[i]) : 0;
        if (n && fwrite(parts[i], 1, n, a.f) != n) {
            int err = errno;
            gd_atomic_abort(&a);
            return gd_seterr("%s: write failed: %s (the previous file, if any, is unchanged)", path,
                             strerror(err ? err : EIO));
        }
    }
    return gd_atomic_commit(&a);
}

int gd_sweep_rows_write(const gd_sweep_rows *rows, const gd_sweep *sw, const char *path) {
    char *H = gd_sweep_header(sw);
    if (!H) return -1;
    const char **parts = malloc((size_t)(rows->npoints + 1) * sizeof *parts);
    if (!parts) {
        free(H);
        return gd_seterr("out of memory");
    }
    parts[0] = H;
    for (long i = 0; i < rows->npoints; i++) parts[i + 1] = rows->row[i];   /* NULL: skipped */
    int rc = gd__write_file(path, parts, rows->npoints + 1);
    free(parts);
    free(H);
    return rc;
}

int gd_sweep_merge(const char *out, char *const *in, int n_in, long *missing, long *npoints) {
    if (n_in < 1) return gd_seterr("no tables to merge");
    int fd = open(in[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gd_seterr("%s: cannot open: %s", in[0], strerror(errno));
    size_t len;
    char *text = gd__read_fd(fd, &len, in[0]);
    close(fd);
    if (!text) return -1;
    gd_sweep sw;
    int rc = gd_sweep_from_header(&sw, text);
    free(text);
    if (rc != 0) {
        gd__wrap("%s: %s", in[0]);
        gd_sweep_free(&sw);
        return -1;
    }
    gd_sweep_rows rows;
    if (gd_sweep_rows_init(&rows, &sw) != 0) {
        gd_sweep_free(&sw);
        return -1;
    }
    for (int i = 0; i < n_in && rc == 0; i++) {
        long before = rows.conflicts;
        rc = gd_sweep_rows_read(&rows, &sw, in[i]);
        if (rc == 0 && rows.conflicts > before)
            rc = gd_seterr("%s: point %ld has a different row in an earlier table (not the same machine or "
                           "library? see SWEEP.md)",
                           in[i], rows.first_conflict);
    }
    if (rc == 0) rc = gd_sweep_rows_write(&rows, &sw, out);
    if (missing) *missing = rows.npoints - rows.n;
    if (npoints) *npoints = rows.npoints;
    gd_sweep_rows_free(&rows);
    gd_sweep_free(&sw);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * The table being filled. */

/* Where a table at path lives: path itself, or the file a symlink at path points to (the
 * link is kept: appends, the sorted rewrite and the lock all go to the target, as for
 * every writer of out.h). A link that leads nowhere is refused rather than replaced.
 * NULL with a reason; the caller frees. */
static char *gd__table_target(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) {
        char *c = strdup(path);
        return c ? c : (gd_seterr("out of memory"), NULL);
    }
    char *r = realpath(path, NULL);
    if (!r) gd_seterr("%s: a symbolic link that leads nowhere (%s); not replacing the link", path, strerror(errno));
    return r;
}

/* A new table holding just the header, written aside by out.h's policy (gd_atomic_open:
 * PATH.tmp.PID, stale temporaries of killed writers removed). replace 0: linked into
 * place with link(), so that it appears whole or not at all and never replaces a table
 * someone else created meanwhile (EEXIST: the caller opens theirs). replace 1: renamed
 * over an empty file (gd_atomic_commit). Anything but a regular file is refused: a
 * table is appended to and resumed, which a device or a FIFO cannot be. */
static int gd__create(const char *path, const char *H, int replace) {
    gd_atomic a;
    if (gd_atomic_open(&a, path) != 0) return -1;
    if (a.direct) {
        gd_atomic_abort(&a);
        return gd_seterr("%s: not a regular file (a sweep table is appended to and resumed)", path);
    }
    size_t n = strlen(H);
    if (fwrite(H, 1, n, a.f) != n) {
        int err = errno;
        gd_atomic_abort(&a);
        return gd_seterr("%s: cannot write: %s", path, strerror(err ? err : EIO));
    }
    if (replace) return gd_atomic_commit(&a);
    if (fflush(a.f) != 0 || fsync(fileno(a.f)) != 0) {
        int err = errno;
        gd_atomic_abort(&a);
        return gd_seterr("%s: cannot write: %s", path, strerror(err));
    }
    int rc = link(a.tmp, a.path), err = errno;
    gd_atomic_abort(&a);   /* the temporary name goes; the linked file stays */
    if (rc != 0 && err != EEXIST) return gd_seterr("%s: cannot create: %s", path, strerror(err));
    return 0;
}

int gd_sweep_table_open(gd_sweep_table *t, const gd_sweep *sw, const char *path) {
    memset(t, 0, sizeof *t);
    t->fd = -1;
    /* t->refused = 1 below: the path given is not a table this sweep may use */
    if (gd_sweep_check(sw) != 0) return t->refused = 1, -1;
    size_t plen = strlen(path);
    if (strcmp(path, "-") == 0)
        return t->refused = 1, gd_seterr("a sweep table is a file (it is appended to and resumed), not -");
    if (plen >= 4 && strcmp(path + plen - 4, ".csv") == 0)
        return t->refused = 1, gd_seterr("%s: a sweep table is tab-separated (specs contain commas): name it .tsv", path);
    char *target = gd__table_target(path);   /* a symlink's target; the link stays */
    if (!target) return t->refused = 1, -1;
    if (gd_mkdirs_for(target) != 0) return free(target), -1;
    char *H = gd_sweep_header(sw);
    if (!H) return free(target), -1;
    double deadline = gd__now() + 2.0;
    int fd = -1, rc = -1, created = 0, tries = 0;
    char *text = NULL;
    path = target;
    for (;; tries++) {
        if (tries == 1000) {   /* created and removed under us, again and again */
            gd_seterr("%s: keeps changing: another program is creating and removing it", path);
            goto out;
        }
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            if (gd__create(path, H, 0) != 0) goto out;
            created = 1;
            continue;
        }
        if (fd < 0) {
            t->refused = errno == EISDIR;   /* a directory is the user's mistake, not a failure */
            gd_seterr("%s: cannot open: %s", path, strerror(errno));
            goto out;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close(fd);
            fd = -1;
            if (err == EWOULDBLOCK && gd__now() < deadline) {
                usleep(50000);
                continue;
            }
            gd_seterr(err == EWOULDBLOCK ? "%s: in use by another sweep (wait for it to finish, or use another table)"
                                         : "%s: cannot lock: %s",
                      path, strerror(err));
            goto out;
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
            close(fd);   /* replaced while we waited for the lock: open the new one */
            fd = -1;
            continue;
        }
        if (!S_ISREG(a.st_mode)) {
            gd_seterr("%s: not a regular file (a sweep table is appended to and resumed)", path);
            t->refused = 1;
            goto out;
        }
        if (a.st_size == 0) {
            /* an empty file (mktemp, touch): nothing to keep, make it a new table */
            if (gd__create(path, H, 1) != 0) goto out;
            created = 2;
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    size_t len;
    if (!(text = gd__read_fd(fd, &len, path))) goto out;
    if (gd_sweep_rows_init(&t->done, sw) != 0) goto out;
    if (gd_sweep_rows_add_text(&t->done, sw, text, len, path) != 0) {
        t->refused = 1;   /* another grid's table, not a sweep table, or cut short */
        gd_sweep_rows_free(&t->done);
        goto out;
    }
    /* a torn last line: end it, so that the next row starts on a line of its own */
    if (len > 0 && text[len - 1] != '\n' && gd__write_all(fd, "\n", 1) != 0) {
        gd_seterr("%s: cannot write: %s", path, strerror(errno));
        gd_sweep_rows_free(&t->done);
        goto out;
    }
    if (!(t->path = strdup(path))) {
        gd_seterr("out of memory");
        gd_sweep_rows_free(&t->done);
        goto out;
    }
    t->sw = sw;
    t->fd = fd;
    t->created = created;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    free(text);
    free(H);
    free(target);
    return rc;
}

int gd_sweep_table_append(gd_sweep_table *t, const gd_sweep_result *r) {
    char row[GD__ROW_MAX];
    int n = gd_sweep_format_row(t->sw, r, row, sizeof row);
    if (n < 0) return -1;
    /* one write() of the whole line on an O_APPEND descriptor: rows of concurrent
     * workers never interleave; fsync: a row that is there survives a crash */
    ssize_t w = write(t->fd, row, (size_t)n);
    if (w != n) return gd_seterr("%s: cannot append: %s", t->path, w < 0 ? strerror(errno) : "short write");
    if (fsync(t->fd) != 0) return gd_seterr("%s: cannot sync: %s", t->path, strerror(errno));
    return 0;
}

int gd_sweep_table_close(gd_sweep_table *t) {
    if (t->fd < 0) return 0;
    int rc = -1;
    size_t len;
    char *text = gd__read_fd(t->fd, &len, t->path);
    gd_sweep_rows rows;
    if (text && gd_sweep_rows_init(&rows, t->sw) == 0) {
        if (gd_sweep_rows_add_text(&rows, t->sw, text, len, t->path) == 0)
            rc = gd_sweep_rows_write(&rows, t->sw, t->path);
        gd_sweep_rows_free(&rows);
    }
    free(text);
    close(t->fd);   /* releases the lock (after the rename: nobody sees the old file) */
    t->fd = -1;
    gd_sweep_rows_free(&t->done);
    free(t->path);
    t->path = NULL;
    return rc;
}

void gd_sweep_table_abort(gd_sweep_table *t) {
    if (t->fd < 0) return;
    struct stat st;
    char *H = gd_sweep_header(t->sw);
    /* still just the header this open wrote: a new file goes, an empty one is emptied */
    if (t->created && H && fstat(t->fd, &st) == 0 && (size_t)st.st_size == strlen(H)) {
        if (t->created == 1) unlink(t->path);
        else if (ftruncate(t->fd, 0) != 0) { /* nothing better to do: it keeps the header */ }
    }
    free(H);
    close(t->fd);
    t->fd = -1;
    gd_sweep_rows_free(&t->done);
    free(t->path);
    t->path = NULL;
}

/* ---------------------------------------------------------------------------------
 * Data and one point. */

int gd_sweep_data_init(gd_sweep_data *d, const gd_sweep *sw, const gd_images *images) {
    memset(d, 0, sizeof *d);
    if (images->dim != sw->dims[0])
        return gd_seterr("the model takes %d inputs, the images have %d pixels", sw->dims[0], images->dim);
    long avail = images->n - sw->n_val;
    if (avail < 1) return gd_seterr("val %ld: holds out all %d training images", sw->n_val, images->n);
    if (sw->train_subset > avail)
        return gd_seterr("train subset %ld: only %ld training images are not held out (val %ld)", sw->train_subset,
                         avail, sw->n_val);
    d->images = images;
    d->train_idx = malloc((size_t)avail * sizeof *d->train_idx);
    d->val_idx = malloc((size_t)(sw->n_val > 0 ? sw->n_val : 1) * sizeof *d->val_idx);
    if (!d->train_idx || !d->val_idx) {
        gd_sweep_data_free(d);
        return gd_seterr("out of memory");
    }
    if (gd_split(d->train_idx, d->val_idx, images->n, (int)sw->n_val, GD_SWEEP_SPLIT_SEED) != 0) {
        gd_sweep_data_free(d);
        return -1;
    }
    d->n_train = (int)(sw->train_subset > 0 ? sw->train_subset : avail);
    d->n_val = (int)sw->n_val;
    return 0;
}

void gd_sweep_data_free(gd_sweep_data *d) {
    free(d->train_idx);
    free(d->val_idx);
    memset(d, 0, sizeof *d);
}

int gd_sweep_run_point(const gd_sweep *sw, const gd_sweep_data *d, long id, gd_sweep_result *r) {
    gd_sweep_point p;
    gd_sweep_point_get(sw, id, &p);
    char optim[GD__SPEC_MAX + 64], label[64];   /* a spec, ":lr=" and an lr: always fits */
    if (gd_sweep_point_optim(&p, optim, sizeof optim) < 0) return -1;
    snprintf(label, sizeof label, "point %ld", id);
    gd_train_cfg cfg = gd_train_defaults();
    cfg.nlayers = sw->nlayers;
    memcpy(cfg.dims, sw->dims, sizeof cfg.dims);
    cfg.optim = optim;
    cfg.sched = p.sched;
    cfg.batch_size = (int)sw->batch_size;
    cfg.epochs = sw->epochs;
    cfg.seed = p.seed;
    cfg.train = d->images;
    cfg.train_idx = d->train_idx;
    cfg.n_train = d->n_train;
    cfg.val = d->n_val > 0 ? d->images : NULL;
    cfg.val_idx = d->val_idx;
    cfg.n_val = d->n_val;
    cfg.diverge_factor = sw->diverge_factor;
    cfg.label = label;
    /* logged windows of steps/10 updates (at most 50, train.h's default): the divergence
     * test compares windows, so even a short run has several */
    long per_epoch = (d->n_train + sw->batch_size - 1) / sw->batch_size, total = (long)ceil(sw->epochs * per_epoch);
    cfg.log_every = (int)(total / 10 < 1 ? 1 : total / 10 > 50 ? 50 : total / 10);
    gd_trainer *tr = gd_trainer_new(&cfg);
    if (!tr) return -1;
    gd_train_log log;
    int rc = gd_trainer_run(tr, &log);
    gd_trainer_free(tr);
    if (rc != 0) return -1;
    memset(r, 0, sizeof *r);
    r->id = id;
    r->diverged_at = log.diverged_at;
    r->steps = log.steps;
    r->seconds = log.seconds;
    const gd_train_row *last = log.n > 0 ? &log.rows[log.n - 1] : NULL;
    r->train_loss = last ? last->train_loss : NAN;
    int evaluated = last && log.diverged_at < 0 && d->n_val > 0;
    r->val_loss = evaluated ? last->val_loss : NAN;
    r->val_acc = evaluated ? last->val_acc : NAN;
    gd_train_log_free(&log);
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Workers: one fork()ed process per point, at most cfg->workers at a time. A worker
 * appends its own row and sends a copy of its result (or why it failed) to the parent
 * through a pipe, in one write of less than PIPE_BUF bytes, so messages never mix. */

typedef struct gd__msg {
    long id;
    int failed;
    gd_sweep_result r;
    char error[480];
} gd__msg;

typedef struct gd__slot {
    pid_t pid;         /* 0: free */
    long id;
    int has_msg;
    gd__msg msg;
} gd__slot;

int gd_sweep_cores(void) {
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void gd__worker(gd_sweep_table *t, const gd_sweep_data *d, long id, int msgfd, pid_t parent,
                       const sigset_t *mask) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the sweep was killed: so is this point */
#endif
    if (getppid() != parent) _exit(1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    /* the trainer's progress lines would fight over the terminal: the parent reports */
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    gd_blas_threads(1);
    gd__msg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    int ran = t->run_point ? t->run_point(t->sw, id, &m.r, t->point_ctx) : gd_sweep_run_point(t->sw, d, id, &m.r);
    if (ran == 0) m.r.id = id;
    if (ran != 0 || gd_sweep_table_append(t, &m.r) != 0) {
        m.failed = 1;
        snprintf(m.error, sizeof m.error, "%s", gd_error());
    }
    ssize_t w = write(msgfd, &m, sizeof m);
    _exit(w == (ssize_t)sizeof m ? m.failed : 3);   /* _exit: the parent's stdio buffers are not ours */
}

static void gd__drain(int fd, gd__slot *slots, int W) {
    gd__msg m;
    while (read(fd, &m, sizeof m) == (ssize_t)sizeof m)
        for (int i = 0; i < W; i++)
            if (slots[i].pid && slots[i].id == m.id) {
                slots[i].msg = m;
                slots[i].has_msg = 1;
            }
}

int gd_sweep_run(gd_sweep_table *t, const gd_sweep_data *d, const gd_sweep_run_cfg *cfg, gd_sweep_summary *sum) {
    const gd_sweep *sw = t->sw;
    memset(sum, 0, sizeof *sum);
    long N = cfg->shard_n > 0 ? cfg->shard_n : 1, K = cfg->shard_n > 0 ? cfg->shard_k : 0;
    long np = gd_sweep_npoints(sw), npending = 0;
    long *pending = malloc((size_t)(np > 0 ? np : 1) * sizeof *pending);
    if (!pending) return gd_seterr("out of memory");
    for (long id = 0; id < np; id++) {
        if (!gd_sweep_in_shard(id, K, N)) continue;
        sum->total++;
        if (t->done.row[id]) sum->skipped++;
        else pending[npending++] = id;
    }
    if (npending == 0) {
        free(pending);
        return 0;
    }
    int W = cfg->workers < 1 ? 1 : cfg->workers;
    if (W > npending) W = (int)npending;
    gd__slot *slots = calloc((size_t)W, sizeof *slots);
    int msg[2];
    if (!slots || pipe2(msg, O_CLOEXEC) != 0) {
        free(slots);
        free(pending);
        return gd_seterr("cannot start workers: %s", strerror(errno));
    }
    fcntl(msg[0], F_SETFL, O_NONBLOCK);
    /* SIGCHLD blocked and waited for with a timeout: the loop wakes the moment a worker
     * ends (no slot stays idle), once a second for the tick, and on a stop signal (its
     * handler interrupts the wait). A SIGCHLD set to SIG_IGN would reap the workers
     * before us: default for the run. */
    sigset_t chld, old_mask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    struct sigaction dfl, old_chld;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &old_chld);
    sigprocmask(SIG_BLOCK, &chld, &old_mask);
    double t0 = gd__now(), last_tick = t0;
    long next = 0;
    int running = 0, stopping = 0, rc = 0;
    pid_t self = getpid();
    gd_sweep_event ev;
    memset(&ev, 0, sizeof ev);
    ev.todo = npending;
    for (;;) {
        if (cfg->stop && *cfg->stop && !stopping) {
            stopping = 1;
            for (int i = 0; i < W; i++)
                if (slots[i].pid) kill(slots[i].pid, SIGTERM);
        }
        while (!stopping && running < W && next < npending) {
            int s = 0;
            while (slots[s].pid) s++;
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                rc = gd_seterr("cannot start a worker: %s", strerror(errno));
                stopping = 1;
                for (int i = 0; i < W; i++)
                    if (slots[i].pid) kill(slots[i].pid, SIGTERM);
                break;
            }
            if (pid == 0) {
                long id = pending[next];
                free(pending);   /* the worker's copies: it never returns */
                free(slots);
                gd__worker(t, d, id, msg[1], self, &old_mask);
            }
            slots[s].pid = pid;
            slots[s].id = pending[next++];
            slots[s].has_msg = 0;
            running++;
        }
        if (running == 0) break;
        /* our workers only (waitpid(-1) would reap the caller's other children too) */
        int st = 0, s;
        pid_t pid = 0;
        for (s = 0; s < W; s++) {
            if (!slots[s].pid) continue;
            pid = waitpid(slots[s].pid, &st, WNOHANG);
            if (pid < 0 && errno == EINTR) pid = 0;
            if (pid != 0) break;
        }
        if (pid == 0) {
            /* nothing finished yet: wait for a worker to end, at most until the next tick */
            double t = gd__now();
            if (t - last_tick >= 1.0) {
                last_tick = t;
                ev.tick = 1;
                ev.elapsed = t - t0;
                if (cfg->progress) cfg->progress(&ev, cfg->ctx);
                ev.tick = 0;
            }
            double wait = 1.0 - (t - last_tick);
            struct timespec timeout = {(time_t)wait, (long)((wait - floor(wait)) * 1e9)};
            sigtimedwait(&chld, NULL, &timeout);   /* SIGCHLD, timeout or a stop signal */
            continue;
        }
        if (pid < 0) {
            rc = gd_seterr("waiting for workers: %s", strerror(errno));
            break;
        }
        gd__drain(msg[0], slots, W);
        running--;
        gd__slot *sl = &slots[s];
        sl->pid = 0;
        int killed_by_us = (stopping || (cfg->stop && *cfg->stop)) && WIFSIGNALED(st);
        if (killed_by_us) continue;   /* interrupted: neither done nor failed */
        char why[480];
        ev.failed = !(WIFEXITED(st) && WEXITSTATUS(st) == 0 && sl->has_msg && !sl->msg.failed);
        if (sl->has_msg && sl->msg.failed) snprintf(why, sizeof why, "%s", sl->msg.error);
        else if (WIFSIGNALED(st))
            snprintf(why, sizeof why, "worker killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            snprintf(why, sizeof why, "worker exited with status %d and no result",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        gd_sweep_point_get(sw, sl->id, &ev.point);
        ev.error = ev.failed ? why : NULL;
        if (!ev.failed) ev.r = sl->msg.r;
        else memset(&ev.r, 0, sizeof ev.r), ev.r.id = sl->id;
        ev.done++;
        if (ev.failed) ev.failures++, sum->failed++;
        else {
            sum->ran++;
            if (ev.r.diverged_at >= 0) ev.diverged++, sum->diverged++;
        }
        ev.elapsed = gd__now() - t0;
        last_tick = ev.elapsed + t0;
        if (cfg->progress) cfg->progress(&ev, cfg->ctx);
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    close(msg[0]);
    close(msg[1]);
    free(slots);
    free(pending);
    sum->seconds = gd__now() - t0;
    sum->interrupted = stopping && cfg->stop && *cfg->stop;
    if (rc == 0 && sum->interrupted) rc = gd_seterr("interrupted");
    if (rc == 0 && sum->failed) rc = gd_seterr("%ld point%s failed", sum->failed, sum->failed == 1 ? "" : "s");
    return rc;
}

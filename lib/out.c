/* out.c -- atomic TSV/CSV writer; see out.h. */
#include "out.h"
#include "cli.h"
#include "tensor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gd_table {
    FILE *f;
    char *path, *tmp;
    char sep;
    char *columns;        /* header line, written before the first row */
    int header_done;
    int failed;           /* a write error happened; close will report it */
    int direct;           /* writing straight to stdout or a device/FIFO: no temp file */
};

int gd_mkdirs_for(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return gd_seterr("%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gd_seterr("%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    return 0;
}

static char gd__sep_for(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".csv") == 0 ? ',' : '\t';
}

/* "-" means standard output; an existing non-regular file (/dev/stdout, a FIFO) is
 * written in place, since renaming over it would replace the device with a file. */
static gd_table *gd__table_direct(const char *path, const char *columns) {
    gd_table *t = calloc(1, sizeof *t);
    if (!t) {
        gd_seterr("%s: out of memory", path);
        return NULL;
    }
    t->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!t->f) {
        gd_seterr("%s: cannot write: %s", path, strerror(errno));
        free(t);
        return NULL;
    }
    t->direct = 1;
    t->sep = '\t';
    t->columns = strdup(columns);
    return t;
}

gd_table *gd_table_open(const char *path, const char *columns) {
    struct stat st;
    if (strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
        return gd__table_direct(path, columns);
    if (gd_mkdirs_for(path) != 0) return NULL;
    gd_table *t = calloc(1, sizeof *t);
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!t || !tmp) {
        free(t);
        free(tmp);
        gd_seterr("%s: out of memory", path);
        return NULL;
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    t->f = fopen(tmp, "w");
    if (!t->f) {
        gd_seterr("%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        free(t);
        return NULL;
    }
    t->path = strdup(path);
    t->tmp = tmp;
    t->sep = gd__sep_for(path);
    t->columns = strdup(columns);
    /* a numbers table (the values a chapter quotes) records the arithmetic that made them */
    if (strcmp(columns, "key value") == 0) gd_table_meta(t, "blas", "%s", gd_blas_info());
    return t;
}

void gd_table_meta(gd_table *t, const char *key, const char *fmt, ...) {
    if (t->header_done) return;
    fprintf(t->f, "# %s: ", key);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->f, fmt, ap);
    va_end(ap);
    fputc('\n', t->f);
}

void gd_table_provenance(gd_table *t) {
    if (t->header_done) return;
    fputs("# command: ", t->f);
    fputs(gd_prog(), t->f);
    char **argv = gd_cli_argv();
    for (int i = 1; i < gd_cli_argc(); i++) {
        const char *a = argv[i];
        /* quote for sh unless the word is plain (letters, digits and -_.,:=/+@%) */
        int plain = a[0] != '\0';
        for (const char *c = a; *c && plain; c++)
            plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                    strchr("-_.,:=/+@%", *c) != NULL;
        fputc(' ', t->f);
        if (plain) { fputs(a, t->f); continue; }
        fputc('\'', t->f);
        for (const char *c = a; *c; c++) {
            if (*c == '\'') fputs("'\\''", t->f);
            else if (*c == '\n') fputs("\\n", t->f);   /* one line, always */
            else fputc(*c, t->f);
        }
        fputc('\'', t->f);
    }
    fputc('\n', t->f);
    if (strcmp(t->columns, "key value") != 0) gd_table_meta(t, "blas", "%s", gd_blas_info());
}

/* Print s with every run of spaces replaced by one separator. */
static void gd__put_fields(gd_table *t, const char *s) {
    int in_space = 0;
    while (*s == ' ') s++;
    for (; *s; s++) {
        if (*s == ' ') {
            in_space = 1;
            continue;
        }
        if (in_space) fputc(t->sep, t->f);
        in_space = 0;
        fputc(*s, t->f);
    }
    fputc('\n', t->f);
}

static void gd__header(gd_table *t) {
    if (t->header_done) return;
    gd__put_fields(t, t->columns);
    t->header_done = 1;
}

void gd_table_row(gd_table *t, const char *fmt, ...) {
    gd__header(t);
    char stackbuf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    if ((size_t)n < sizeof stackbuf) {
        gd__put_fields(t, stackbuf);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        t->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    gd__put_fields(t, big);
    free(big);
}

void gd_table_kv(gd_table *t, const char *key, const char *fmt, ...) {
    gd__header(t);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *val = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!val) {
        t->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(val, (size_t)n + 1, fmt, ap);
    va_end(ap);
    fprintf(t->f, "%s%c", key, t->sep);
    for (const char *p = val; *p; p++) {
        if (*p == '\n') fputs("\\n", t->f);
        else if (*p == '\t') fputc(' ', t->f);
        else fputc(*p, t->f);
    }
    fputc('\n', t->f);
    free(val);
}

void gd_table_block(gd_table *t) {
    gd__header(t);
    fputc('\n', t->f);
}

static void gd__table_free(gd_table *t) {
    free(t->path);
    free(t->tmp);
    free(t->columns);
    free(t);
}

int gd_table_close(gd_table *t) {
    gd__header(t);
    if (t->direct) {
        int bad = t->failed || ferror(t->f) || fflush(t->f) != 0;
        if (t->f != stdout) bad |= fclose(t->f) != 0;
        gd__table_free(t);
        return bad ? gd_seterr("write failed: %s", strerror(errno)) : 0;
    }
    int bad = t->failed || ferror(t->f);
    bad |= fflush(t->f) != 0;
    bad |= fsync(fileno(t->f)) != 0;
    bad |= fclose(t->f) != 0;
    int rc = 0;
    if (bad) {
        rc = gd_seterr("%s: write failed: %s", t->tmp, strerror(errno));
        remove(t->tmp);
    } else if (rename(t->tmp, t->path) != 0) {
        rc = gd_seterr("%s: cannot rename into place: %s", t->path, strerror(errno));
        remove(t->tmp);
    }
    gd__table_free(t);
    return rc;
}

void gd_table_abort(gd_table *t) {
    if (t->direct) {
        if (t->f != stdout) fclose(t->f);
        else fflush(stdout);
        gd__table_free(t);
        return;
    }
    fclose(t->f);
    remove(t->tmp);
    gd__table_free(t);
}

/* out.c -- atomic TSV/CSV writer; see out.h. */
#include "out.h"
#include "cli.h"
#include "tensor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

struct gd_table {
    gd_atomic a;          /* the file: PATH.tmp.PID renamed over PATH, or in place */
    FILE *f;              /* a.f */
    char sep;
    char *columns;        /* header line, written before the first row */
    int header_done;
    int failed;           /* a write error happened; close will report it */
};

char *gd_aprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

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

/* ------------------------------------------------------------------------------- */
/* Whole files, atomically. One policy for every writer of the book (out.h). */

enum { GD__ATOMIC, GD__DIRECT };

/* Where writing to path lands: GD__ATOMIC with *final the regular file to replace (a
 * symlink resolved to its target; malloc'd), GD__DIRECT for stdout, a character device
 * or a FIFO, or -1 (gd_error) for what must not be written or replaced. */
static int gd__target(const char *path, char **final) {
    *final = NULL;
    if (strcmp(path, "-") == 0) return GD__DIRECT;
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) return gd_seterr("%s: %s", path, strerror(errno));
        *final = strdup(path);               /* a new file */
        return *final ? GD__ATOMIC : gd_seterr("%s: out of memory", path);
    }
    char *resolved = NULL;
    if (S_ISLNK(st.st_mode)) {
        /* a symlink is followed: the file it points to is replaced, the link stays */
        resolved = realpath(path, NULL);
        if (!resolved)
            return gd_seterr("%s: a symbolic link that leads nowhere (%s); not replacing the link", path,
                             strerror(errno));
        if (stat(resolved, &st) != 0) {
            gd_seterr("%s: %s", resolved, strerror(errno));
            free(resolved);
            return -1;
        }
    }
    if (S_ISREG(st.st_mode)) {
        *final = resolved ? resolved : strdup(path);
        return *final ? GD__ATOMIC : gd_seterr("%s: out of memory", path);
    }
    free(resolved);
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return GD__DIRECT;
    return gd_seterr("%s: %s; not writing over it", path,
                     S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file, character device or FIFO");
}

/* The directory part of path ("." for a bare name); malloc'd. */
static char *gd__dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Remove PATH.tmp.N files whose writer N is no longer running (killed mid-write). */
static void gd__remove_stale(const char *final) {
    char *dir = gd__dirname(final);
    const char *base = strrchr(final, '/') ? strrchr(final, '/') + 1 : final;
    size_t blen = strlen(base);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) continue;
        const char *digits = n + blen + 5;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (!(*digits >= '0' && *digits <= '9') || *end != '\0' || errno || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* alive, or not ours to judge */
        size_t len = strlen(dir) + strlen(n) + 2;
        char *p = malloc(len);
        if (p) {
            snprintf(p, len, "%s/%s", dir, n);
            unlink(p);
            free(p);
        }
    }
    closedir(d);
    free(dir);
}

static void gd__atomic_free(gd_atomic *a) {
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->f = NULL;
}

int gd_atomic_open(gd_atomic *a, const char *path) {
    memset(a, 0, sizeof *a);
    char *final;
    int kind = gd__target(path, &final);
    if (kind < 0) return -1;
    if (kind == GD__DIRECT) {
        a->direct = 1;
        a->path = strdup(path);
        a->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
        if (!a->f || !a->path) {
            gd_seterr("%s: cannot write: %s", path, strerror(errno));
            if (a->f && a->f != stdout) fclose(a->f);
            gd__atomic_free(a);
            return -1;
        }
        return 0;
    }
    a->path = final;
    if (gd_mkdirs_for(final) != 0) {
        gd__atomic_free(a);
        return -1;
    }
    gd__remove_stale(final);
    size_t n = strlen(final) + 32;
    a->tmp = malloc(n);
    if (!a->tmp) {
        gd__atomic_free(a);
        return gd_seterr("%s: out of memory", path);
    }
    snprintf(a->tmp, n, "%s.tmp.%ld", final, (long)getpid());
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    a->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!a->f) {
        gd_seterr("%s: cannot write: %s", a->tmp, strerror(errno));
        if (fd >= 0) close(fd), unlink(a->tmp);
        gd__atomic_free(a);
        return -1;
    }
    return 0;
}

/* Make a rename in dir durable (some file systems cannot sync a directory: EINVAL). */
static int gd__sync_dir(const char *path) {
    char *dir = gd__dirname(path);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    int rc = 0;
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL) rc = gd_seterr("%s: cannot sync its directory: %s", path, strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

int gd_atomic_commit(gd_atomic *a) {
    int rc = 0;
    if (a->direct) {
        int bad = ferror(a->f) || fflush(a->f) != 0;
        int e = errno;
        if (a->f != stdout) bad |= fclose(a->f) != 0, e = bad ? errno : e;
        if (bad) rc = gd_seterr("%s: write failed: %s", a->path, strerror(e ? e : EIO));
        gd__atomic_free(a);
        return rc;
    }
    const char *what = "write";
    int bad = ferror(a->f) || fflush(a->f) != 0;
    if (!bad) what = "fsync", bad = fsync(fileno(a->f)) != 0;
    int e = errno;
    if (fclose(a->f) != 0 && !bad) what = "close", bad = 1, e = errno;
    if (!bad && rename(a->tmp, a->path) != 0) what = "rename", bad = 1, e = errno;
    if (bad) {
        unlink(a->tmp);
        rc = gd_seterr("%s: %s failed: %s (the previous file, if any, is unchanged)", a->path, what,
                       strerror(e ? e : EIO));
    } else {
        rc = gd__sync_dir(a->path);
    }
    gd__atomic_free(a);
    return rc;
}

void gd_atomic_abort(gd_atomic *a) {
    if (!a->f) return;
    if (a->direct) {
        if (a->f != stdout) fclose(a->f);
        else fflush(stdout);
    } else {
        fclose(a->f);
        unlink(a->tmp);
    }
    gd__atomic_free(a);
}

int gd_write_file(const char *path, const void *buf, size_t n) {
    gd_atomic a;
    if (gd_atomic_open(&a, path) != 0) return -1;
    if (n && fwrite(buf, 1, n, a.f) != n) {
        int e = errno;
        gd_atomic_abort(&a);
        return gd_seterr("%s: write failed: %s (the previous file, if any, is unchanged)", path,
                         strerror(e ? e : EIO));
    }
    return gd_atomic_commit(&a);
}

/* The nearest existing directory at or above dir must let us create what the write will
 * create there: the temporary file when dir exists, else the first missing directory
 * (gd_mkdirs_for). access(2) cannot tell (root passes it on /proc), so it is tried: a
 * probe entry is made and removed at once. Nothing is left behind. */
static int gd__check_creatable(const char *dir, const char *what) {
    char *p = strdup(dir);
    if (!p) return gd_seterr("%s: out of memory", what);
    int missing = 0;   /* levels below p that do not exist */
    for (;;) {
        struct stat st;
        if (stat(p, &st) == 0) break;
        if (errno != ENOENT) {
            int rc = gd_seterr("%s: cannot be written: %s: %s", what, p, strerror(errno));
            free(p);
            return rc;
        }
        char *up = gd__dirname(p);
        free(p);
        if (!up) return gd_seterr("%s: out of memory", what);
        p = up;
        missing++;
    }
    struct stat st;
    int rc = 0;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = gd_seterr("%s: cannot be created: %s is not a directory", what, p);
    } else {
        size_t n = strlen(p) + 40;
        char *probe = malloc(n);
        if (!probe) {
            free(p);
            return gd_seterr("%s: out of memory", what);
        }
        snprintf(probe, n, "%s/.gd-probe.%ld", p, (long)getpid());
        int ok;
        if (missing) {
            ok = mkdir(probe, 0700) == 0;
            if (ok) rmdir(probe);
        } else {
            int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            ok = fd >= 0;
            if (ok) close(fd), unlink(probe);
        }
        if (!ok) rc = gd_seterr("%s: cannot be written: cannot create %s in %s: %s", what,
                                missing ? "a directory" : "a file", p, strerror(errno));
        free(probe);
    }
    free(p);
    return rc;
}

int gd_out_check(const char *path) {
    if (path[0] == '\0') return gd_seterr("empty output path");
    char *final;
    int kind = gd__target(path, &final);
    if (kind < 0) return -1;
    if (kind == GD__DIRECT) return 0;
    char *dir = gd__dirname(final);
    int rc = dir ? gd__check_creatable(dir, path) : gd_seterr("%s: out of memory", path);
    free(dir);
    free(final);
    return rc;
}

int gd_out_check_dir(const char *dir) {
    if (dir[0] == '\0') return gd_seterr("empty directory path");
    return gd__check_creatable(dir, dir);
}

/* ------------------------------------------------------------------------------- */
/* Tables */

static char gd__sep_for(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".csv") == 0 ? ',' : '\t';
}

gd_table *gd_table_open(const char *path, const char *columns) {
    gd_table *t = calloc(1, sizeof *t);
    if (!t) {
        gd_seterr("%s: out of memory", path);
        return NULL;
    }
    if (gd_atomic_open(&t->a, path) != 0) {
        free(t);
        return NULL;
    }
    t->f = t->a.f;
    t->sep = t->a.direct ? '\t' : gd__sep_for(path);
    t->columns = strdup(columns);
    if (!t->columns) {
        gd_atomic_abort(&t->a);
        free(t);
        gd_seterr("%s: out of memory", path);
        return NULL;
    }
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

int gd_table_close(gd_table *t) {
    gd__header(t);
    int rc;
    if (t->failed) {
        gd_atomic_abort(&t->a);
        rc = gd_seterr("write failed: out of memory formatting a row");
    } else {
        rc = gd_atomic_commit(&t->a);
    }
    free(t->columns);
    free(t);
    return rc;
}

void gd_table_abort(gd_table *t) {
    gd_atomic_abort(&t->a);
    free(t->columns);
    free(t);
}

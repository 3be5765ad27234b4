/* fuzz.h -- what the fuzz harnesses (fuzz/fuzz_*.c) share.
 *
 * Each harness is one input surface of the library: a function
 *     int gd_fuzz_NAME(const uint8_t *data, size_t size)
 * that feeds the bytes to the library the way a program would and checks what the
 * library promises about the answer (one line, no control characters, a value in range,
 * a round trip that gives the same thing back). A broken promise calls gd_fuzz_fail,
 * which aborts: to libFuzzer that is a crash like any sanitizer report.
 *
 * The same sources are built two ways:
 *   - by clang with -fsanitize=fuzzer,address,undefined (fuzz/fuzz.mk, `make fuzz`):
 *     each harness file then ends in LLVMFuzzerTestOneInput;
 *   - by gcc into the test suite (tests/fuzz/test_fuzz.c #includes all six with
 *     GD_FUZZ_REPLAY defined, so no LLVMFuzzerTestOneInput), which replays every file
 *     of fuzz/corpus/NAME/ and fuzz/regress/NAME/ through gd_fuzz_NAME.
 * So every static function in a harness carries the harness's name: all six share one
 * translation unit in the test.
 *
 * Files the library must read from a path (IDX files, checkpoints) go to a private
 * temporary directory, made on first use and removed at exit.
 */
#ifndef GD_FUZZ_H
#define GD_FUZZ_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"

/* A broken promise: say which, then abort (libFuzzer saves the input as a crash). */
static inline void gd_fuzz_fail(const char *harness, const char *what, const char *detail) {
    fprintf(stderr, "fuzz_%s: %s%s%s\n", harness, what, detail ? ": " : "", detail ? detail : "");
    fflush(stderr);
    abort();
}

/* Clear the library's last reason, so that a failure that sets none is seen. */
static inline void gd_fuzz_clear_error(void) { gd_seterr("%s", ""); }

/* After a failure: the reason must be there and be one line of printable text
 * (err.h: control characters escaped, at most 500 characters and "..."). */
static inline void gd_fuzz_check_error(const char *harness, const char *call) {
    const char *e = gd_error();
    if (e[0] == '\0') gd_fuzz_fail(harness, call, "failed without a reason in gd_error()");
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p < 0x20 || *p == 0x7f) gd_fuzz_fail(harness, call, "gd_error() has a control character");
    if (strlen(e) > 511) gd_fuzz_fail(harness, call, "gd_error() longer than its buffer");
}

/* The bytes as a NUL-terminated string (a NUL inside ends it early, as it would in
 * argv or a file read as text). malloc'd; NULL only when out of memory. */
static inline char *gd_fuzz_strdup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return NULL;
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The temporary directory's path ("" until made). */
static inline char *gd_fuzz_dirbuf(void) {
    static char path[4096];
    return path;
}

static inline void gd_fuzz_rmdir(void) {
    char *gd_fuzz_dir_path = gd_fuzz_dirbuf();
    if (!gd_fuzz_dir_path[0]) return;
    DIR *d = opendir(gd_fuzz_dir_path);
    if (d) {
        struct dirent *e;
        char p[8192];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", gd_fuzz_dir_path, e->d_name);
            if (unlink(p) != 0) rmdir(p);
        }
        closedir(d);
    }
    rmdir(gd_fuzz_dir_path);
}

/* The private temporary directory ($TMPDIR or /tmp), made on the first call. */
static inline const char *gd_fuzz_dir(void) {
    char *gd_fuzz_dir_path = gd_fuzz_dirbuf();
    if (gd_fuzz_dir_path[0]) return gd_fuzz_dir_path;
    const char *t = getenv("TMPDIR");
    snprintf(gd_fuzz_dir_path, 4096, "%s/gdfuzz-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(gd_fuzz_dir_path)) {
        perror("fuzz: mkdtemp");
        abort();   /* not a finding, but nothing can run without it */
    }
    atexit(gd_fuzz_rmdir);
    return gd_fuzz_dir_path;
}

/* dir/name, in a static buffer per slot (0..3). */
static inline const char *gd_fuzz_path(int slot, const char *name) {
    static char p[4][4200];
    snprintf(p[slot], sizeof p[slot], "%s/%s", gd_fuzz_dir(), name);
    return p[slot];
}

/* Write the bytes to path. 0, or -1 (a full /tmp is not a finding: the harness skips). */
static inline int gd_fuzz_write(const char *path, const void *data, size_t size) {
    /* a new file each time: truncating one makes ext4 flush it to disk on close
     * (auto_da_alloc), which slows a harness down a hundredfold */
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    return (fclose(f) == 0 && put == size) ? 0 : -1;
}

/* The bytes gzipped (a gzip header and trailer, as gzip writes them), malloc'd in *out.
 * 0, or -1 when out of memory. */
static inline int gd_fuzz_gzip(const void *data, size_t size, unsigned char **out, size_t *outn) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    size_t cap = deflateBound(&z, (uLong)size) + 64;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *outn = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

#endif

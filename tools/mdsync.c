/* mdsync -- keep the numbers and code quoted in a chapter's prose true.
 *
 * A chapter's README.md marks what programs produce; mdsync rewrites those regions
 * (--write) or fails if any is stale (--check, which `make test` runs):
 *
 *   inline number   <!--n:KEY-->0.818<!--/n-->           KEY from a numbers table
 *   block           <!-- begin KEY -->                   a table, a list: the value,
 *                   ...                                  with \n read as a newline
 *                   <!-- end KEY -->
 *   quoted code     <!-- begin code:PATH#NAME -->        the lines of PATH between
 *                   ```c ... ```                         `// region NAME` and
 *                   <!-- end code:PATH#NAME -->          `// endregion NAME`
 *
 * Numbers tables are TSV files with the columns `key value` (gd_table); '#' lines are
 * comments. A marker naming a key or a code region that does not exist is an error,
 * so a renamed number or function cannot silently leave old text in the book.
 * The numbers depend on the arithmetic (the BLAS kernel: another kernel rounds
 * differently) and on the seed base (make SEED=n), so --write stamps the README with
 * both, in one line of its own:
 *
 *   <!-- numbers: OpenBLAS 0.3.21 Haswell, seed base 0 -->
 *
 * (the kernel from the tables' "# blas:" lines, out.h). --check compares the text
 * exactly when the stamp matches this build (or the text has none); a build with another arithmetic or
 * seed base cannot reproduce the text's digits, so there --check only makes sure that
 * every marked number, block and code region still exists (the text could be rewritten
 * without error), says so on stdout, and exits 0. Whether the claims hold is the
 * tests' business, in every build; whether the digits are fresh, only in the same one.
 * Exit status (the book's convention): 0 fresh/written; 1 stale, a marked region that
 * cannot be filled (a missing key or code region: the text no longer matches the
 * programs), or FILE.md cannot be rewritten; 2 usage, or an input that cannot be read
 * or is not a numbers table (one line saying where). --write rewrites FILE.md as out.h's
 * gd_write_file does: atomically, through a symlink to its target.
 * Every string read from the files is kept on the heap (no fixed-size copy that could
 * cut a long key, path or "# blas:" line short), and freed: mdsync runs clean under
 * AddressSanitizer's leak checker.
 */
#include "gd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key, *value, *source;
} entry;

static entry *entries;
static int nentries;
static char *blas;            /* from the tables' "# blas:" lines (NULL: none) */

static void oom(void) {
    fprintf(stderr, "mdsync: out of memory\n");
    exit(1);
}

/* growable string */
typedef struct {
    char *s;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        char *p = realloc(b->s, b->cap);
        if (!p) oom();
        b->s = p;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* printf into a malloc'd string */
static char *xfmt(const char *fmt, ...) GD_PRINTF(1, 2);
static char *xfmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s) oom();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static char *xstrndup(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (!c) oom();
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

/* The whole file, NUL-terminated (malloc'd), or NULL (errno says why). */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b.s);
        return NULL;
    }
    if (!b.s) buf_add(&b, "", 0);
    return b.s;
}

/* "a\nb" (backslash-n in the file) -> newline; \t -> tab; \\ -> backslash */
static char *unescape(const char *s) {
    buf b = {0};
    for (; *s; s++) {
        if (*s == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
            s++;
            buf_add(&b, *s == 'n' ? "\n" : *s == 't' ? "\t" : "\\", 1);
        } else {
            buf_add(&b, s, 1);
        }
    }
    if (!b.s) buf_add(&b, "", 0);
    return b.s;
}

static void free_entries(void) {
    for (int i = 0; i < nentries; i++) free(entries[i].key), free(entries[i].value), free(entries[i].source);
    free(entries);
    entries = NULL;
    nentries = 0;
    free(blas);
    blas = NULL;
}

/* Add the entries of a numbers table. 0, or -1 after one line on stderr. */
static int load_numbers(const char *path) {
    char *text = read_file(path);
    if (!text) {
        fprintf(stderr, "mdsync: %s: cannot read numbers table: %s\n", path, strerror(errno));
        return -1;
    }
    int header_seen = 0, rc = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "# blas: ", 8) == 0) {
            if (blas && strcmp(blas, line + 8) != 0) {
                fprintf(stderr, "mdsync: %s: written under '%s', other tables under '%s'\n", path, line + 8, blas);
                goto out;
            }
            if (!blas) blas = xfmt("%s", line + 8);
        }
        if (line[0] == '#' || line[0] == '\0') continue;
        if (!header_seen) {
            header_seen = 1;
            if (strcmp(line, "key\tvalue") != 0) {
                fprintf(stderr, "mdsync: %s: header is '%s', expected 'key<TAB>value'\n", path, line);
                goto out;
            }
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "mdsync: %s: a line without a tab: '%s'\n", path, line);
            goto out;
        }
        *tab = '\0';
        for (int i = 0; i < nentries; i++)
            if (strcmp(entries[i].key, line) == 0) {
                fprintf(stderr, "mdsync: %s: key '%s' is also in %s\n", path, line, entries[i].source);
                goto out;
            }
        entry *e = realloc(entries, (size_t)(nentries + 1) * sizeof *entries);
        if (!e) oom();
        entries = e;
        entries[nentries++] = (entry){xfmt("%s", line), unescape(tab + 1), xfmt("%s", path)};
    }
    rc = 0;
out:
    free(text);
    return rc;
}

static const char *lookup(const char *key) {
    for (int i = 0; i < nentries; i++)
        if (strcmp(entries[i].key, key) == 0) return entries[i].value;
    return NULL;
}

static int line_of(const char *text, const char *p) {
    int n = 1;
    for (; text < p; text++) n += *text == '\n';
    return n;
}

/* The lines strictly between `// region NAME` and `// endregion NAME` in path. */
static char *code_region(const char *md, int lineno, const char *spec) {
    const char *hash = strchr(spec, '#');
    if (!hash || hash == spec || !hash[1]) {
        fprintf(stderr, "mdsync: %s:%d: code marker '%s' is not PATH#NAME\n", md, lineno, spec);
        return NULL;
    }
    char *path = xstrndup(spec, (size_t)(hash - spec)), *src = read_file(path), *result = NULL;
    char *open = xfmt("// region %s\n", hash + 1), *close = xfmt("// endregion %s\n", hash + 1);
    if (!src) {
        fprintf(stderr, "mdsync: %s:%d: cannot read %s: %s\n", md, lineno, path, strerror(errno));
        goto out;
    }
    char *start = strstr(src, open), *end = start ? strstr(start, close) : NULL;
    if (!start || !end) {
        fprintf(stderr, "mdsync: %s:%d: no region '%s' in %s\n", md, lineno, hash + 1, path);
        goto out;
    }
    /* from the line after the opening marker to the start of the closing marker's line */
    start += strlen(open);
    while (end > start && end[-1] != '\n') end--;
    /* drop the common indentation of the region's lines */
    size_t indent = (size_t)-1;
    for (const char *p = start; p < end;) {
        const char *q = p;
        while (q < end && *q == ' ') q++;
        if (q < end && *q != '\n' && (size_t)(q - p) < indent) indent = (size_t)(q - p);
        p = strchr(q, '\n') + 1;
    }
    if (indent == (size_t)-1) indent = 0;
    buf b = {0};
    buf_str(&b, "```c\n");
    for (const char *p = start; p < end;) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p);
        if (len >= indent) buf_add(&b, p + indent, len - indent);
        buf_add(&b, "\n", 1);
        p = nl + 1;
    }
    buf_str(&b, "```\n");
    result = b.s;
out:
    free(src);
    free(path);
    free(open);
    free(close);
    return result;
}

/* Rebuild md text with every marked region filled in. NULL on error (reported). */
static char *render(const char *md, const char *text) {
    buf out = {0};
    const char *p = text;
    char *key = NULL, *endmark = NULL;
    for (;;) {
        const char *inl = strstr(p, "<!--n:"), *blk = strstr(p, "<!-- begin ");
        const char *m = !inl ? blk : !blk ? inl : inl < blk ? inl : blk;
        if (!m) break;
        int lineno = line_of(text, m);
        const char *close = strstr(m, "-->");
        if (!close) {
            fprintf(stderr, "mdsync: %s:%d: marker is not closed with -->\n", md, lineno);
            goto fail;
        }
        free(key), key = NULL;
        free(endmark), endmark = NULL;
        if (m == inl) {
            size_t klen = (size_t)(close - (m + 6));
            if (klen == 0) {
                fprintf(stderr, "mdsync: %s:%d: empty key\n", md, lineno);
                goto fail;
            }
            key = xstrndup(m + 6, klen);
            const char *end = strstr(close, "<!--/n-->");
            if (!end) {
                fprintf(stderr, "mdsync: %s:%d: '%s' has no closing <!--/n-->\n", md, lineno, key);
                goto fail;
            }
            const char *val = lookup(key);
            if (!val) {
                fprintf(stderr, "mdsync: %s:%d: no number named '%s' in the numbers tables\n", md, lineno, key);
                goto fail;
            }
            buf_add(&out, p, (size_t)(close + 3 - p));
            buf_str(&out, val);
            p = end;
            continue;
        }
        /* block: <!-- begin KEY --> ... <!-- end KEY --> */
        const char *k = m + strlen("<!-- begin ");
        const char *kend = close;
        while (kend > k && kend[-1] == ' ') kend--;
        if (kend == k) {
            fprintf(stderr, "mdsync: %s:%d: empty block name\n", md, lineno);
            goto fail;
        }
        key = xstrndup(k, (size_t)(kend - k));
        endmark = xfmt("<!-- end %s -->", key);
        const char *end = strstr(close, endmark);
        if (!end) {
            fprintf(stderr, "mdsync: %s:%d: block '%s' has no '%s'\n", md, lineno, key, endmark);
            goto fail;
        }
        char *val;
        if (strncmp(key, "code:", 5) == 0) {
            val = code_region(md, lineno, key + 5);
        } else {
            const char *v = lookup(key);
            if (!v) fprintf(stderr, "mdsync: %s:%d: no block named '%s' in the numbers tables\n", md, lineno, key);
            val = v ? xfmt("%s", v) : NULL;
        }
        if (!val) goto fail;
        buf_add(&out, p, (size_t)(close + 3 - p));
        buf_str(&out, "\n");
        buf_str(&out, val);
        if (val[0] && val[strlen(val) - 1] != '\n') buf_str(&out, "\n");
        free(val);
        p = end;
    }
    buf_str(&out, p);
    free(key);
    free(endmark);
    return out.s;
fail:
    free(key);
    free(endmark);
    free(out.s);
    return NULL;
}

/* Name the first region where a and b differ, for the --check message. */
static void report_stale(const char *md, const char *old, const char *new) {
    size_t i = 0;
    while (old[i] && old[i] == new[i]) i++;
    int lineno = line_of(old, old + i);
    const char *eol = strchr(new + i, '\n');
    int len = eol ? (int)(eol - (new + i)) : (int)strlen(new + i);
    const char *eol2 = strchr(old + i, '\n');
    int len2 = eol2 ? (int)(eol2 - (old + i)) : (int)strlen(old + i);
    fprintf(stderr, "mdsync: %s:%d: stale: the text says '%.*s' where the programs now give '%.*s' (run make)\n",
            md, lineno, len2 > 60 ? 60 : len2, old + i, len > 60 ? 60 : len, new + i);
}

#define STAMP_OPEN "<!-- numbers: "

/* The stamp line of text (malloc'd, without the newline), or NULL if it has none. */
static char *stamp_of(const char *text) {
    const char *p = strstr(text, STAMP_OPEN);
    if (!p) return NULL;
    const char *nl = strchr(p, '\n');
    return xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

/* text with its stamp line replaced by stamp (or stamp appended as the last line). */
static char *with_stamp(const char *text, const char *stamp) {
    buf b = {0};
    const char *p = strstr(text, STAMP_OPEN);
    if (p) {
        const char *nl = strchr(p, '\n');
        buf_add(&b, text, (size_t)(p - text));
        buf_str(&b, stamp);
        buf_str(&b, nl ? nl : "\n");
    } else {
        buf_str(&b, text);
        if (b.n && b.s[b.n - 1] != '\n') buf_str(&b, "\n");
        buf_str(&b, "\n");
        buf_str(&b, stamp);
        buf_str(&b, "\n");
    }
    return b.s;
}

static int usage(void) {
    fprintf(stderr, "mdsync: usage: mdsync --check|--write [--seed-base N] FILE.md [NUMBERS.tsv ...] (see --help)\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: mdsync --check|--write [--seed-base N] FILE.md [NUMBERS.tsv ...]\n"
               "Fill the marked regions of FILE.md from numbers tables and quoted code.\n"
               "  --check        exit 1 naming the first stale region (FILE.md is not changed);\n"
               "                 when FILE.md was written under another arithmetic or seed base,\n"
               "                 only check that every marked region can be filled\n"
               "  --write        rewrite FILE.md in place (atomically) if anything changed\n"
               "  --seed-base N  the seed base the tables were made with (make SEED=N; default 0)\n"
               "Exit status: 0 fresh or written; 1 stale, a region that cannot be filled, or\n"
               "FILE.md cannot be written; 2 usage, or a file that cannot be read or is not a\n"
               "numbers table.\n");
        return 0;
    }
    /* an option that is none of ours is named, so the user sees which word was wrong */
    for (int k = 1; k < argc; k++) {
        if (argv[k][0] != '-' || argv[k][1] == 0 || strcmp(argv[k], "--check") == 0 ||
            strcmp(argv[k], "--write") == 0)
            continue;
        if (strcmp(argv[k], "--seed-base") == 0) {   /* its value first: "--seed-base --x" names the value */
            long v;
            if (k + 1 >= argc || gd_parse_long(argv[k + 1], &v) != 0) {
                gd_seterr("--seed-base: expected an integer, got '%.60s'", k + 1 < argc ? argv[k + 1] : "");
                fprintf(stderr, "mdsync: %s\n", gd_error());
                return 2;
            }
            k++;
            continue;
        }
        gd_seterr("unknown option %.60s (see --help)", argv[k]);   /* escaped: one line */
        fprintf(stderr, "mdsync: %s\n", gd_error());
        return 2;
    }
    if (argc < 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0)) return usage();
    int write = strcmp(argv[1], "--write") == 0;
    int arg = 2;
    long seed_base = 0;
    if (strcmp(argv[arg], "--seed-base") == 0) {
        if (arg + 1 >= argc || gd_parse_long(argv[arg + 1], &seed_base) != 0) {
            gd_seterr("--seed-base: expected an integer, got '%.60s'", arg + 1 < argc ? argv[arg + 1] : "");
            fprintf(stderr, "mdsync: %s\n", gd_error());   /* escaped: one line */
            return 2;
        }
        arg += 2;
    }
    if (arg >= argc) return usage();
    const char *md = argv[arg++];
    int status = 2;
    char *stamp = NULL, *old = NULL, *rendered = NULL, *was = NULL, *new = NULL;
    for (int i = arg; i < argc; i++)
        if (load_numbers(argv[i]) != 0) goto out;
    stamp = xfmt(STAMP_OPEN "%s, seed base %ld -->", blas ? blas : gd_blas_info(), seed_base);
    if (!(old = read_file(md))) {
        fprintf(stderr, "mdsync: %s: cannot read: %s\n", md, strerror(errno));
        goto out;
    }
    status = 1;
    if (!(rendered = render(md, old))) goto out;
    was = stamp_of(old);
    /* a text without a stamp is compared as it is; --write always stamps it */
    new = was || write ? with_stamp(rendered, stamp) : xfmt("%s", rendered);
    if (strcmp(old, new) == 0) {
        status = 0;
    } else if (!write) {
        if (was && strcmp(was, stamp) != 0) {
            printf("mdsync: %s: its numbers were written under '%s', this build is '%s': every marked region "
                   "exists; the digits are compared only in the same arithmetic and seed base\n",
                   md, was + strlen(STAMP_OPEN), stamp + strlen(STAMP_OPEN));
            status = 0;
        } else {
            report_stale(md, old, new);
        }
    } else if (gd_write_file(md, new, strlen(new)) != 0) {
        fprintf(stderr, "mdsync: %s: cannot rewrite: %s\n", md, gd_error());
    } else {
        fprintf(stderr, "mdsync: updated %s\n", md);
        status = 0;
    }
out:
    free(stamp);
    free(old);
    free(rendered);
    free(was);
    free(new);
    free_entries();
    return status;
}

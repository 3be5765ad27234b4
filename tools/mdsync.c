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
 * Exit status: 0 fresh/written, 1 stale or bad input (one line saying where), 2 usage.
 */
#include "gd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key, *value, *source;
} entry;

static entry *entries;
static int nentries;
static char blas[128];        /* from the tables' "# blas:" lines */

/* growable string */
typedef struct {
    char *s;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) {
            fprintf(stderr, "mdsync: out of memory\n");
            exit(1);
        }
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_add(&b, chunk, n);
    fclose(f);
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

static int load_numbers(const char *path) {
    char *text = read_file(path);
    if (!text) {
        fprintf(stderr, "mdsync: %s: cannot read numbers table\n", path);
        return -1;
    }
    int lineno = 0, header_seen = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        if (strncmp(line, "# blas: ", 8) == 0) {
            if (blas[0] && strcmp(blas, line + 8) != 0) {
                fprintf(stderr, "mdsync: %s: written under '%s', other tables under '%s'\n", path, line + 8, blas);
                return -1;
            }
            snprintf(blas, sizeof blas, "%s", line + 8);
        }
        if (line[0] == '#' || line[0] == '\0') continue;
        if (!header_seen) {
            header_seen = 1;
            if (strcmp(line, "key\tvalue") != 0) {
                fprintf(stderr, "mdsync: %s: header is '%s', expected 'key<TAB>value'\n", path, line);
                return -1;
            }
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "mdsync: %s: a line without a tab: '%s'\n", path, line);
            return -1;
        }
        *tab = '\0';
        for (int i = 0; i < nentries; i++)
            if (strcmp(entries[i].key, line) == 0) {
                fprintf(stderr, "mdsync: %s: key '%s' is also in %s\n", path, line, entries[i].source);
                return -1;
            }
        entries = realloc(entries, (size_t)(nentries + 1) * sizeof *entries);
        entries[nentries++] = (entry){strdup(line), unescape(tab + 1), strdup(path)};
    }
    free(text);
    return 0;
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
    char path[1024], name[256];
    const char *hash = strchr(spec, '#');
    if (!hash || (size_t)(hash - spec) >= sizeof path || strlen(hash + 1) >= sizeof name) {
        fprintf(stderr, "mdsync: %s:%d: code marker '%s' is not PATH#NAME\n", md, lineno, spec);
        return NULL;
    }
    memcpy(path, spec, (size_t)(hash - spec));
    path[hash - spec] = '\0';
    strcpy(name, hash + 1);
    char *src = read_file(path);
    if (!src) {
        fprintf(stderr, "mdsync: %s:%d: cannot read %s\n", md, lineno, path);
        return NULL;
    }
    char open[300], close[300];
    snprintf(open, sizeof open, "// region %s\n", name);
    snprintf(close, sizeof close, "// endregion %s\n", name);
    char *start = strstr(src, open), *end = start ? strstr(start, close) : NULL;
    if (!start || !end) {
        fprintf(stderr, "mdsync: %s:%d: no region '%s' in %s\n", md, lineno, name, path);
        free(src);
        return NULL;
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
    free(src);
    return b.s;
}

/* Rebuild md text with every marked region filled in. NULL on error (reported). */
static char *render(const char *md, const char *text) {
    buf out = {0};
    const char *p = text;
    for (;;) {
        const char *inl = strstr(p, "<!--n:"), *blk = strstr(p, "<!-- begin ");
        const char *m = !inl ? blk : !blk ? inl : inl < blk ? inl : blk;
        if (!m) break;
        int lineno = line_of(text, m);
        const char *close = strstr(m, "-->");
        if (!close) {
            fprintf(stderr, "mdsync: %s:%d: marker is not closed with -->\n", md, lineno);
            return NULL;
        }
        char key[1024];
        if (m == inl) {
            size_t klen = (size_t)(close - (m + 6));
            if (klen == 0 || klen >= sizeof key) {
                fprintf(stderr, "mdsync: %s:%d: empty or overlong key\n", md, lineno);
                return NULL;
            }
            memcpy(key, m + 6, klen);
            key[klen] = '\0';
            const char *end = strstr(close, "<!--/n-->");
            if (!end) {
                fprintf(stderr, "mdsync: %s:%d: '%s' has no closing <!--/n-->\n", md, lineno, key);
                return NULL;
            }
            const char *val = lookup(key);
            if (!val) {
                fprintf(stderr, "mdsync: %s:%d: no number named '%s' in the numbers tables\n", md, lineno, key);
                return NULL;
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
        size_t klen = (size_t)(kend - k);
        if (klen == 0 || klen >= sizeof key) {
            fprintf(stderr, "mdsync: %s:%d: empty or overlong block name\n", md, lineno);
            return NULL;
        }
        memcpy(key, k, klen);
        key[klen] = '\0';
        char endmark[1100];
        snprintf(endmark, sizeof endmark, "<!-- end %s -->", key);
        const char *end = strstr(close, endmark);
        if (!end) {
            fprintf(stderr, "mdsync: %s:%d: block '%s' has no '%s'\n", md, lineno, key, endmark);
            return NULL;
        }
        char *val;
        if (strncmp(key, "code:", 5) == 0) {
            val = code_region(md, lineno, key + 5);
        } else {
            const char *v = lookup(key);
            if (!v) fprintf(stderr, "mdsync: %s:%d: no block named '%s' in the numbers tables\n", md, lineno, key);
            val = v ? strdup(v) : NULL;
        }
        if (!val) return NULL;
        buf_add(&out, p, (size_t)(close + 3 - p));
        buf_str(&out, "\n");
        buf_str(&out, val);
        if (val[0] && val[strlen(val) - 1] != '\n') buf_str(&out, "\n");
        free(val);
        p = end;
    }
    buf_str(&out, p);
    return out.s;
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
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
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
               "  --seed-base N  the seed base the tables were made with (make SEED=N; default 0)\n");
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0)) return usage();
    int write = strcmp(argv[1], "--write") == 0;
    int arg = 2;
    long seed_base = 0;
    if (strcmp(argv[arg], "--seed-base") == 0) {
        char *end;
        if (arg + 1 >= argc || (seed_base = strtol(argv[arg + 1], &end, 10), *end != '\0' || end == argv[arg + 1])) {
            fprintf(stderr, "mdsync: --seed-base: expected an integer, got '%s'\n", arg + 1 < argc ? argv[arg + 1] : "");
            return 2;
        }
        arg += 2;
    }
    if (arg >= argc) return usage();
    const char *md = argv[arg++];
    for (int i = arg; i < argc; i++)
        if (load_numbers(argv[i]) != 0) return 1;
    char stamp[256];
    snprintf(stamp, sizeof stamp, STAMP_OPEN "%s, seed base %ld -->", blas[0] ? blas : gd_blas_info(), seed_base);
    char *old = read_file(md);
    if (!old) {
        fprintf(stderr, "mdsync: %s: cannot read\n", md);
        return 1;
    }
    char *rendered = render(md, old);
    if (!rendered) return 1;
    char *was = stamp_of(old);
    /* a text without a stamp is compared as it is; --write always stamps it */
    char *new = was || write ? with_stamp(rendered, stamp) : rendered;
    if (strcmp(old, new) == 0) return 0;
    if (!write) {
        if (was && strcmp(was, stamp) != 0) {
            printf("mdsync: %s: its numbers were written under '%s', this build is '%s': every marked region "
                   "exists; the digits are compared only in the same arithmetic and seed base\n",
                   md, was + strlen(STAMP_OPEN), stamp + strlen(STAMP_OPEN));
            return 0;
        }
        report_stale(md, old, new);
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", md);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(new, 1, strlen(new), f) != strlen(new) || fclose(f) != 0 || rename(tmp, md) != 0) {
        fprintf(stderr, "mdsync: %s: cannot rewrite\n", md);
        remove(tmp);
        return 1;
    }
    fprintf(stderr, "mdsync: updated %s\n", md);
    return 0;
}

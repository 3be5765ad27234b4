/* browsertest: load every page of the HTML book in headless Chromium and fail on what a
 * reader would see broken.
 *
 * For every .html file under DIR it opens the page (file:// URL) in Debian's chromium,
 * driven over the Chrome DevTools Protocol on a pipe (--remote-debugging-pipe: commands
 * go to the browser's fd 3, replies and events come back on its fd 4, each a JSON text
 * ended by a NUL byte), waits for the load event, and reports, one line per defect
 * ("PAGE: KIND: DETAIL"):
 *   console error, console assert   console.error(), a failing console.assert()
 *                     (Runtime.consoleAPICalled)
 *   uncaught exception                                          (Runtime.exceptionThrown)
 *   log error         any other browser error, e.g. a blocked resource (Log.entryAdded)
 *   cannot load       a resource that failed to load (Network.loadingFailed, Log.entryAdded)
 *   broken image      an <img> not complete, with naturalWidth 0, or that fails to decode
 *   math error        a MathML <merror>
 *   zero-size math    a <math> element that renders with zero width or height
 *   leftover TeX      a span.math whose text still holds TeX (\ or $), or TeX commands or
 *                     $...$ in the prose outside code, pre and math
 *   broken link       an <a href> to a file that does not exist (http(s), mailto and other
 *                     schemes are not followed)
 *   link leaves the book  an <a href> to a file outside DIR (the site must be
 *                     self-contained)
 *   missing fragment  an <a href="PAGE#ID"> where PAGE has no element with that id (or
 *                     <a name>); ids are read from the loaded pages, so ids made by
 *                     scripts count
 *   navigated away, load timeout, cannot open page, checks failed: the page could not
 *                     be examined as itself
 * It saves a PNG screenshot of one page (--screenshot) and prints a one-line summary.
 *
 * Deliberately left out: external links (no network at test time), layout and style
 * judgements, and fragments of non-HTML targets (a source file's #L10).
 *
 * A browser that does not answer within --timeout (a hung page, say) ends the run with a
 * line naming the page; the browser, started in a process group of its own, is killed.
 * Exit status: 0 clean, 1 any defect (or the browser failed), 2 usage.
 * The JSON handling is a small complete parser (objects, arrays, strings with every
 * escape, numbers, literals); only a few fields of each message are read.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"   /* gd_usage_error, gd_parse_double: the book's one-line refusals */
#include "out.h"   /* gd_out_check: the screenshot path, checked before the browser starts */

static const char *usage_text =
    "usage: browsertest [OPTIONS] DIR\n"
    "Load every .html page under DIR in headless Chromium and report console errors,\n"
    "uncaught exceptions, failed loads, broken images, MathML errors, leftover TeX,\n"
    "broken internal links and missing #fragments, one line each: PAGE: KIND: DETAIL.\n"
    "Exit 0 if clean, 1 on any defect or browser failure, 2 on usage.\n"
    "Options:\n"
    "  --screenshot FILE       save a PNG screenshot of one page to FILE\n"
    "  --screenshot-page REL   the page to capture, relative to DIR (default: the first\n"
    "                          page, in sorted order, with an image and a math element)\n"
    "  --timeout SEC           give up on a page (or on the browser starting) after SEC\n"
    "                          seconds (default 30)\n"
    "  --chromium PATH         the browser (default $BROWSERTEST_CHROMIUM, then\n"
    "                          /usr/lib/chromium/chromium, then chromium on PATH)\n"
    "  -q, --quiet             print only defects and errors, no summary\n"
    "  -h, --help              this text\n";

/* ---------------------------------------------------------------- small helpers */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "browsertest: out of memory\n"); exit(1); }
    return p;
}
static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) { fprintf(stderr, "browsertest: out of memory\n"); exit(1); }
    return p;
}
static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* A growable string. */
typedef struct { char *s; size_t n, cap; } buf;
static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void buf_puts(buf *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_printf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { buf_add(b, tmp, (size_t)n); return; }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
}
/* Append s as a JSON string literal, quotes included. */
static void buf_json_str(buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"') buf_puts(b, "\\\"");
        else if (*p == '\\') buf_puts(b, "\\\\");
        else if (*p == '\n') buf_puts(b, "\\n");
        else if (*p == '\t') buf_puts(b, "\\t");
        else if (*p == '\r') buf_puts(b, "\\r");
        else if (*p < 0x20) buf_printf(b, "\\u%04x", *p);
        else buf_add(b, (const char *)p, 1);
    }
    buf_puts(b, "\"");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---------------------------------------------------------------- JSON */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct jv {
    int type;
    double num;        /* J_NUM, J_BOOL (0 or 1) */
    char *str;         /* J_STR (NUL-terminated, UTF-8; an embedded \u0000 ends it) */
    size_t n;          /* J_ARR, J_OBJ: number of members */
    struct jv *kid;    /* members */
    char **key;        /* J_OBJ: their names */
} jv;

typedef struct { const char *p, *end; int depth; } jparser;

static void json_free_inner(jv *v)
{
    if (!v) return;
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        json_free_inner(&v->kid[i]);
        if (v->key) free(v->key[i]);
    }
    free(v->kid);
    free(v->key);
}
static void json_free(jv *v) { json_free_inner(v); free(v); }

static void jskip(jparser *q)
{
    while (q->p < q->end && (*q->p == ' ' || *q->p == '\t' || *q->p == '\n' || *q->p == '\r'))
        q->p++;
}
static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}
static void utf8_put(buf *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) { u[0] = (char)cp; buf_add(b, u, 1); }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 63)); buf_add(b, u, 2); }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | (cp >> 6 & 63));
        u[2] = (char)(0x80 | (cp & 63)); buf_add(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | (cp >> 12 & 63));
        u[2] = (char)(0x80 | (cp >> 6 & 63)); u[3] = (char)(0x80 | (cp & 63)); buf_add(b, u, 4);
    }
}
static char *jstring(jparser *q)   /* at the opening quote */
{
    buf b = {0};
    buf_add(&b, "", 0);
    q->p++;
    while (q->p < q->end && *q->p != '"') {
        if ((unsigned char)*q->p < 0x20) goto bad;
        if (*q->p != '\\') {
            const char *s = q->p;
            while (q->p < q->end && *q->p != '"' && *q->p != '\\' && (unsigned char)*q->p >= 0x20) q->p++;
            buf_add(&b, s, (size_t)(q->p - s));
            continue;
        }
        if (++q->p >= q->end) goto bad;
        char c = *q->p++;
        switch (c) {
        case '"': buf_add(&b, "\"", 1); break;
        case '\\': buf_add(&b, "\\", 1); break;
        case '/': buf_add(&b, "/", 1); break;
        case 'b': buf_add(&b, "\b", 1); break;
        case 'f': buf_add(&b, "\f", 1); break;
        case 'n': buf_add(&b, "\n", 1); break;
        case 'r': buf_add(&b, "\r", 1); break;
        case 't': buf_add(&b, "\t", 1); break;
        case 'u': {
            unsigned cp, lo;
            if (q->end - q->p < 4 || hex4(q->p, &cp)) goto bad;
            q->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && q->end - q->p >= 6 && q->p[0] == '\\' && q->p[1] == 'u'
                && !hex4(q->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q->p += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD;   /* a lone surrogate */
            }
            utf8_put(&b, cp);
            break;
        }
        default: goto bad;
        }
    }
    if (q->p >= q->end) goto bad;
    q->p++;
    return b.s;
bad:
    free(b.s);
    return NULL;
}
static int jvalue(jparser *q, jv *v)
{
    memset(v, 0, sizeof *v);
    jskip(q);
    if (q->p >= q->end || ++q->depth > 200) return -1;
    int rc = -1;
    char c = *q->p;
    if (c == '"') {
        v->type = J_STR;
        rc = (v->str = jstring(q)) ? 0 : -1;
    } else if (c == '{' || c == '[') {
        int obj = c == '{';
        size_t cap = 0;
        v->type = obj ? J_OBJ : J_ARR;
        q->p++;
        jskip(q);
        if (q->p < q->end && *q->p == (obj ? '}' : ']')) { q->p++; rc = 0; goto out; }
        for (;;) {
            if (v->n == cap) {
                cap = cap ? 2 * cap : 8;
                v->kid = xrealloc(v->kid, cap * sizeof *v->kid);
                if (obj) v->key = xrealloc(v->key, cap * sizeof *v->key);
            }
            if (obj) {
                jskip(q);
                if (q->p >= q->end || *q->p != '"') goto out;
                char *k = jstring(q);
                if (!k) goto out;
                jskip(q);
                if (q->p >= q->end || *q->p != ':') { free(k); goto out; }
                q->p++;
                v->key[v->n] = k;
            }
            if (jvalue(q, &v->kid[v->n])) { json_free_inner(&v->kid[v->n]); if (obj) free(v->key[v->n]); goto out; }
            v->n++;
            jskip(q);
            if (q->p < q->end && *q->p == ',') { q->p++; continue; }
            if (q->p < q->end && *q->p == (obj ? '}' : ']')) { q->p++; rc = 0; }
            goto out;
        }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char tmp[64];
        size_t k = 0;
        while (q->p < q->end && k < sizeof tmp - 1 && strchr("+-0123456789.eE", *q->p)) tmp[k++] = *q->p++;
        tmp[k] = 0;
        char *e;
        v->type = J_NUM;
        v->num = strtod(tmp, &e);
        rc = *e ? -1 : 0;
    } else if (q->end - q->p >= 4 && !strncmp(q->p, "true", 4)) { v->type = J_BOOL; v->num = 1; q->p += 4; rc = 0; }
    else if (q->end - q->p >= 5 && !strncmp(q->p, "false", 5)) { v->type = J_BOOL; q->p += 5; rc = 0; }
    else if (q->end - q->p >= 4 && !strncmp(q->p, "null", 4)) { v->type = J_NULL; q->p += 4; rc = 0; }
out:
    q->depth--;
    return rc;
}
/* Parse a whole text; NULL when it is not one JSON value. */
static jv *json_parse(const char *s, size_t n)
{
    jparser q = {s, s + n, 0};
    jv *v = xmalloc(sizeof *v);
    if (jvalue(&q, v)) { json_free(v); return NULL; }
    jskip(&q);
    if (q.p != q.end) { json_free(v); return NULL; }
    return v;
}
/* The member at a dotted path ("params.entry.level"), or NULL. */
static jv *jget(jv *v, const char *path)
{
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        jv *next = NULL;
        if (v->type == J_OBJ)
            for (size_t i = 0; i < v->n; i++)
                if (strlen(v->key[i]) == len && !strncmp(v->key[i], path, len)) { next = &v->kid[i]; break; }
        v = next;
        path += len + (dot ? 1 : 0);
    }
    return v;
}
static const char *jstr(jv *v, const char *path)
{
    v = jget(v, path);
    return v && v->type == J_STR ? v->str : NULL;
}
static double jnum(jv *v, const char *path, double dflt)
{
    v = jget(v, path);
    return v && (v->type == J_NUM || v->type == J_BOOL) ? v->num : dflt;
}

/* ---------------------------------------------------------------- pages, defects */

typedef struct {
    char *rel;        /* path relative to DIR, as printed */
    char *abs;        /* real path */
    char **ids;       /* ids (and <a name>s) of the loaded page */
    size_t nids;
    int loaded;
} page;

static page *pages;
static size_t npages, cappages;
static char *root;             /* real path of DIR, no trailing slash */
static size_t ndefects;

static void defect(const char *rel, const char *kind, const char *detail)
{
    /* One line each: newlines in a detail would break that. */
    printf("%s: %s: ", rel, kind);
    for (const char *p = detail; *p; p++) putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
    putchar('\n');
    fflush(stdout);
    ndefects++;
}

static int cmp_page(const void *a, const void *b)
{
    return strcmp(((const page *)a)->rel, ((const page *)b)->rel);
}
static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}
static void find_pages(const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    if (!d) { fprintf(stderr, "browsertest: cannot read directory %s: %s\n", dir, strerror(errno)); exit(1); }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        buf p = {0}, r = {0};
        buf_printf(&p, "%s/%s", dir, e->d_name);
        buf_printf(&r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat st;
        if (stat(p.s, &st) == 0 && S_ISDIR(st.st_mode)) {
            find_pages(p.s, r.s);
        } else if (ends_with(e->d_name, ".html")) {
            if (npages == cappages) {
                cappages = cappages ? 2 * cappages : 64;
                pages = xrealloc(pages, cappages * sizeof *pages);
            }
            char *abs = realpath(p.s, NULL);
            if (!abs) abs = xstrdup(p.s);
            pages[npages++] = (page){r.s, abs, NULL, 0, 0};
            r.s = NULL;
        }
        free(p.s);
        free(r.s);
    }
    closedir(d);
}
static page *page_by_abs(const char *abs)
{
    for (size_t i = 0; i < npages; i++)
        if (!strcmp(pages[i].abs, abs)) return &pages[i];
    return NULL;
}

/* A file:// URL shown relative to DIR when it lies inside. */
static const char *show_url(const char *url)
{
    size_t n = strlen(root);
    if (!strncmp(url, "file://", 7) && !strncmp(url + 7, root, n) && url[7 + n] == '/') return url + 8 + n;
    return url;
}
/* Percent-encode a path for a file:// URL. */
static void buf_file_url(buf *b, const char *path)
{
    buf_puts(b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("/-._~", *p)) buf_add(b, (const char *)p, 1);
        else buf_printf(b, "%%%02X", *p);
    }
}

/* Per-page problems: deduplicated, printed when the page is done. */
static char **probs;
static size_t nprobs, capprobs;
static void problem(const char *kind, const char *detail)
{
    buf b = {0};
    buf_printf(&b, "%s\t%s", kind, detail ? detail : "");
    for (size_t i = 0; i < nprobs; i++)
        if (!strcmp(probs[i], b.s)) { free(b.s); return; }
    if (nprobs == capprobs) {
        capprobs = capprobs ? 2 * capprobs : 16;
        probs = xrealloc(probs, capprobs * sizeof *probs);
    }
    probs[nprobs++] = b.s;
}
static void flush_problems(const char *rel)
{
    for (size_t i = 0; i < nprobs; i++) {
        char *tab = strchr(probs[i], '\t');
        *tab = 0;
        defect(rel, probs[i], tab + 1);
        free(probs[i]);
    }
    nprobs = 0;
}

/* ---------------------------------------------------------------- the browser */

static pid_t browser = -1;
static int to_browser = -1, from_browser = -1;
static char *profile;          /* temporary --user-data-dir */
static double step_timeout = 30;
static int next_id = 1;
static char *session;          /* the page's CDP session id */
static buf inbuf;              /* bytes read, not yet a whole message */
static size_t inpos;           /* start of the unconsumed bytes */

/* Request ids -> URLs, for Network.loadingFailed. */
static char **req_id, **req_url;
static size_t nreq, capreq;
static void req_clear(void)
{
    for (size_t i = 0; i < nreq; i++) { free(req_id[i]); free(req_url[i]); }
    nreq = 0;
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                buf p = {0};
                buf_printf(&p, "%s/%s", path, e->d_name);
                rm_tree(p.s);
                free(p.s);
            }
            closedir(d);
        }
        return rmdir(path);
    }
    return unlink(path);
}

static int browser_died;       /* fail() then shows the end of chromium's stderr */
static void print_browser_log(void)
{
    if (!profile || !browser_died) return;
    buf p = {0};
    buf_printf(&p, "%s/chromium-stderr.log", profile);
    FILE *f = fopen(p.s, "r");
    free(p.s);
    if (!f) return;
    /* The last 10 lines, without the D-Bus complaints of a machine with no bus. */
    char ring[10][512], line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        if (!strstr(line, "dbus")) snprintf(ring[n++ % 10], sizeof ring[0], "%s", line);
    fclose(f);
    fprintf(stderr, "browsertest: the end of chromium's stderr:%s\n", n ? "" : " (empty)");
    for (size_t i = n > 10 ? n - 10 : 0; i < n; i++) fprintf(stderr, "  %s", ring[i % 10]);
}

/* Stop the browser (ours: its own process group) and remove the profile. */
static void stop_browser(void)
{
    if (browser > 0) {
        if (to_browser >= 0) {
            static const char bye[] = "{\"id\":999999,\"method\":\"Browser.close\"}";
            if (write(to_browser, bye, sizeof bye) < 0) { /* already gone */ }
            close(to_browser);
            to_browser = -1;
        }
        int status, done = 0;
        for (double t0 = now(); now() - t0 < 5;) {
            if (waitpid(browser, &status, WNOHANG) == browser) { done = 1; break; }
            usleep(20000);
        }
        kill(-browser, SIGKILL);   /* its helpers (zygote, renderers) share its group */
        if (!done) waitpid(browser, &status, 0);
        browser = -1;
    }
    if (from_browser >= 0) { close(from_browser); from_browser = -1; }
    if (profile) { rm_tree(profile); free(profile); profile = NULL; }
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("browsertest: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    print_browser_log();
    stop_browser();
    exit(1);
}

static const char *find_chromium(const char *opt)
{
    if (opt) return opt;
    const char *env = getenv("BROWSERTEST_CHROMIUM");
    if (env && *env) return env;
    if (access("/usr/lib/chromium/chromium", X_OK) == 0) return "/usr/lib/chromium/chromium";
    const char *path = getenv("PATH");
    static const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t k = 0; path && k < sizeof names / sizeof *names; k++) {
        const char *p = path;
        while (*p) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            static char full[4096];
            snprintf(full, sizeof full, "%.*s/%s", (int)len, p, names[k]);
            if (len && access(full, X_OK) == 0) return full;
            p += len + (colon ? 1 : 0);
        }
    }
    return NULL;
}

static void start_browser(const char *exe)
{
    const char *tmp = getenv("TMPDIR");
    buf t = {0};
    buf_printf(&t, "%s/browsertest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t.s)) { fprintf(stderr, "browsertest: cannot make a temporary directory %s: %s\n", t.s, strerror(errno)); exit(1); }
    profile = t.s;

    int in[2], out[2];   /* in: we write, browser reads (its fd 3); out: the reverse (its fd 4) */
    if (pipe(in) || pipe(out)) fail("pipe: %s", strerror(errno));
    buf udd = {0}, log = {0};
    buf_printf(&udd, "--user-data-dir=%s", profile);
    buf_printf(&log, "%s/chromium-stderr.log", profile);
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        /* Move the pipe ends clear of 3 and 4 first, then into place. */
        int r = fcntl(in[0], F_DUPFD, 10), w = fcntl(out[1], F_DUPFD, 10);
        if (r < 0 || w < 0 || dup2(r, 3) < 0 || dup2(w, 4) < 0) _exit(127);
        int devnull = open("/dev/null", O_RDWR);
        int lf = open(log.s, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); }
        if (lf >= 0) dup2(lf, 2);
        for (int fd = 5; fd < 1024; fd++) close(fd);
        char *argv[] = {
            (char *)exe, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--remote-debugging-pipe", udd.s, "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
            "--window-size=1280,1600", "about:blank", NULL};
        execv(exe, argv);
        dprintf(2, "exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);   /* also here, so the group exists before we might kill it */
    free(udd.s);
    free(log.s);
    browser = pid;
    close(in[0]);
    close(out[1]);
    to_browser = in[1];
    from_browser = out[0];
    fcntl(to_browser, F_SETFD, FD_CLOEXEC);
    fcntl(from_browser, F_SETFD, FD_CLOEXEC);
}

/* Send a command; params is a JSON object text or NULL. Returns its id. */
static int send_cmd(int with_session, const char *method, const char *params)
{
    buf m = {0};
    int id = next_id++;
    buf_printf(&m, "{\"id\":%d,", id);
    if (with_session && session) { buf_puts(&m, "\"sessionId\":"); buf_json_str(&m, session); buf_puts(&m, ","); }
    buf_puts(&m, "\"method\":");
    buf_json_str(&m, method);
    if (params) { buf_puts(&m, ",\"params\":"); buf_puts(&m, params); }
    buf_puts(&m, "}");
    buf_add(&m, "", 0);
    size_t len = m.n + 1, off = 0;   /* the terminating NUL goes too */
    while (off < len) {
        ssize_t k = write(to_browser, m.s + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) fail("cannot write to chromium: %s", k < 0 ? strerror(errno) : "closed");
        off += (size_t)k;
    }
    free(m.s);
    return id;
}

/* The next whole message, or NULL after `deadline` (monotonic seconds). */
static jv *read_msg(double deadline)
{
    for (;;) {
        char *nul = inbuf.n > inpos ? memchr(inbuf.s + inpos, 0, inbuf.n - inpos) : NULL;
        if (nul) {
            size_t len = (size_t)(nul - (inbuf.s + inpos));
            jv *v = json_parse(inbuf.s + inpos, len);
            if (!v) fail("chromium sent a message that is not JSON: %.80s", inbuf.s + inpos);
            inpos += len + 1;
            if (inpos == inbuf.n) inpos = inbuf.n = 0;
            return v;
        }
        if (inpos > 0) {   /* keep the partial message at the start */
            memmove(inbuf.s, inbuf.s + inpos, inbuf.n - inpos);
            inbuf.n -= inpos;
            inpos = 0;
        }
        double left = deadline - now();
        if (left <= 0) return NULL;
        struct pollfd pf = {from_browser, POLLIN, 0};
        int r = poll(&pf, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) fail("poll: %s", strerror(errno));
        if (r == 0) continue;
        char chunk[65536];
        ssize_t k = read(from_browser, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { browser_died = 1; fail("chromium closed the pipe (it exited or crashed)"); }
        buf_add(&inbuf, chunk, (size_t)k);
    }
}

/* Record what an event says about the current page. */
static void on_event(jv *m)
{
    const char *method = jstr(m, "method");
    const char *sid = jstr(m, "sessionId");
    if (!method || !sid || !session || strcmp(sid, session)) return;
    jv *p = jget(m, "params");
    if (!strcmp(method, "Runtime.consoleAPICalled")) {
        const char *type = jstr(p, "type");
        if (!type || (strcmp(type, "error") && strcmp(type, "assert"))) return;
        buf b = {0};
        buf_add(&b, "", 0);
        jv *args = jget(p, "args");
        for (size_t i = 0; args && args->type == J_ARR && i < args->n; i++) {
            const char *s = jstr(&args->kid[i], "value");
            if (!s) s = jstr(&args->kid[i], "description");
            if (!s) s = jstr(&args->kid[i], "type");
            if (i) buf_puts(&b, " ");
            buf_puts(&b, s ? s : "?");
        }
        problem(!strcmp(type, "assert") ? "console assert" : "console error", b.s);
        free(b.s);
    } else if (!strcmp(method, "Runtime.exceptionThrown")) {
        const char *d = jstr(p, "exceptionDetails.exception.description");
        if (!d) d = jstr(p, "exceptionDetails.text");
        buf b = {0};
        buf_add(&b, d ? d : "?", d ? strcspn(d, "\n") : 1);   /* the first line */
        problem("uncaught exception", b.s);
        free(b.s);
    } else if (!strcmp(method, "Log.entryAdded")) {
        const char *level = jstr(p, "entry.level");
        if (!level || strcmp(level, "error")) return;
        const char *src = jstr(p, "entry.source"), *url = jstr(p, "entry.url"), *text = jstr(p, "entry.text");
        if (src && !strcmp(src, "network") && url) problem("cannot load", show_url(url));
        else problem("log error", text ? text : "?");
    } else if (!strcmp(method, "Network.requestWillBeSent")) {
        const char *id = jstr(p, "requestId"), *url = jstr(p, "request.url");
        if (!id || !url) return;
        if (nreq == capreq) {
            capreq = capreq ? 2 * capreq : 64;
            req_id = xrealloc(req_id, capreq * sizeof *req_id);
            req_url = xrealloc(req_url, capreq * sizeof *req_url);
        }
        req_id[nreq] = xstrdup(id);
        req_url[nreq++] = xstrdup(url);
    } else if (!strcmp(method, "Network.loadingFailed")) {
        const char *id = jstr(p, "requestId");
        if (jnum(p, "canceled", 0)) return;
        const char *url = NULL;
        for (size_t i = 0; id && i < nreq; i++)
            if (!strcmp(req_id[i], id)) url = req_url[i];
        problem("cannot load", url ? show_url(url) : "?");
    }
}

/* Wait for the reply to command `id` (returned; NULL on timeout), handling events. */
static jv *wait_reply(int id, double deadline)
{
    for (;;) {
        jv *m = read_msg(deadline);
        if (!m) return NULL;
        jv *mid = jget(m, "id");
        if (mid && mid->type == J_NUM && (int)mid->num == id) return m;
        on_event(m);
        json_free(m);
    }
}
/* Wait for event `method` of the page session (1) or the deadline (0). */
static int wait_event(const char *method, double deadline)
{
    for (;;) {
        jv *m = read_msg(deadline);
        if (!m) return 0;
        const char *me = jstr(m, "method"), *sid = jstr(m, "sessionId");
        int hit = me && !strcmp(me, method) && sid && session && !strcmp(sid, session);
        on_event(m);
        json_free(m);
        if (hit) return 1;
    }
}
/* Send and wait; dies on a timeout or a protocol error (setup steps only). */
static jv *call(int with_session, const char *method, const char *params)
{
    int id = send_cmd(with_session, method, params);
    jv *r = wait_reply(id, now() + step_timeout);
    if (!r) fail("chromium did not answer %s within %g s", method, step_timeout);
    if (jget(r, "error")) {
        const char *msg = jstr(r, "error.message");
        fail("chromium refused %s: %s", method, msg ? msg : "?");
    }
    return r;
}

/* ---------------------------------------------------------------- the checks in the page */

/* Runs in the loaded page; returns {url, problems: [[kind, detail]], links: [[protocol,
 * path, fragment, href]], ids: [...], nimg, nmath}. */
static const char *page_js =
    "(async () => {\n"
    "  if (document.readyState !== 'complete') await new Promise(r => addEventListener('load', r));\n"
    "  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));\n"
    "  let path = location.protocol === 'file:' ? location.pathname : '';\n"
    "  try { path = decodeURIComponent(path); } catch (e) { }\n"
    "  const out = {url: document.URL, path, problems: [], links: [], ids: [], nimg: 0, nmath: 0};\n"
    "  const P = (k, d) => out.problems.push([k, String(d).trim().replace(/\\s+/g, ' ').slice(0, 120)]);\n"
    "  const imgs = Array.from(document.images);\n"
    "  out.nimg = imgs.length;\n"
    "  for (const im of imgs) {\n"
    "    if (im.loading === 'lazy') im.loading = 'eager';   // below the fold it would not load\n"
    "    let ok = true;\n"
    "    try { await im.decode(); } catch (e) { ok = false; }   // waits for the load; rejects if broken\n"
    "    ok = ok && im.complete && im.naturalWidth > 0;\n"
    "    if (!ok) P('broken image', im.getAttribute('src'));\n"
    "  }\n"
    "  const NS = 'http://www.w3.org/1998/Math/MathML';\n"
    "  const maths = Array.from(document.getElementsByTagNameNS(NS, 'math'));\n"
    "  out.nmath = maths.length;\n"
    "  for (const e of document.getElementsByTagNameNS(NS, 'merror')) P('math error', e.textContent || '(empty merror)');\n"
    "  for (const m of maths) {\n"
    "    const r = m.getBoundingClientRect();\n"
    "    if (r.width > 0 && r.height > 0) continue;\n"
    "    if (m.closest('details:not([open])')) continue;\n"
    "    P('zero-size math', m.getAttribute('alttext') || m.textContent || '(empty math)');\n"
    "  }\n"
    "  for (const s of document.querySelectorAll('span.math, div.math'))\n"
    "    if (/[\\\\$]/.test(s.textContent)) P('leftover TeX', s.textContent);\n"
    "  const skip = 'code, pre, math, script, style, kbd, samp, textarea, span.math, div.math';\n"
    "  const w = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);\n"
    "  for (let n; (n = w.nextNode());) {\n"
    "    if (!n.parentElement || n.parentElement.closest(skip)) continue;\n"
    "    const t = n.nodeValue, m = t.match(/\\\\[A-Za-z]+|\\$[^$\\s][^$]*\\$/);\n"
    "    if (m) P('leftover TeX', m[0] + ' in \"' + t.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30).trim() + '\"');\n"
    "  }\n"
    "  const dec = s => { try { return decodeURIComponent(s); } catch (e) { return s; } };\n"
    "  for (const a of document.querySelectorAll('a[href]')) {\n"
    "    let u;\n"
    "    try { u = new URL(a.getAttribute('href'), document.baseURI); } catch (e) { P('broken link', a.getAttribute('href') + ' (not a URL)'); continue; }\n"
    "    out.links.push([u.protocol, dec(u.pathname), dec(u.hash.slice(1)), a.getAttribute('href')]);\n"
    "  }\n"
    "  for (const e of document.querySelectorAll('[id]')) out.ids.push(e.id);\n"
    "  for (const e of document.querySelectorAll('a[name]')) out.ids.push(e.name);\n"
    "  return out;\n"
    "})()";

/* Internal links waiting for every page's ids: a #fragment on another page. */
typedef struct { size_t from; page *to; char *frag, *href; } pending;
static pending *pend;
static size_t npend, cappend;
static size_t nlinks, nfraglinks, nexternal, nimages, nmath;

static int has_id(const page *p, const char *id)
{
    for (size_t i = 0; i < p->nids; i++)
        if (!strcmp(p->ids[i], id)) return 1;
    return 0;
}

static void check_link(size_t from, jv *l)
{
    if (!l || l->type != J_ARR || l->n < 4) return;
    const char *proto = jstr(&l->kid[0], ""), *path = jstr(&l->kid[1], ""),
               *frag = jstr(&l->kid[2], ""), *href = jstr(&l->kid[3], "");
    if (!proto || !path || !frag || !href) return;
    if (strcmp(proto, "file:")) { nexternal++; return; }   /* http(s), mailto, ...: not followed */
    nlinks++;
    struct stat st;
    if (stat(path, &st)) { problem("broken link", href); return; }
    char *abs = realpath(path, NULL);
    if (!abs) { problem("broken link", href); return; }
    size_t n = strlen(root);
    if (strncmp(abs, root, n) || (abs[n] != '/' && abs[n] != 0)) {
        problem("link leaves the book", href);
        free(abs);
        return;
    }
    if (S_ISDIR(st.st_mode)) {   /* a directory is served as its index.html */
        buf ix = {0};
        buf_printf(&ix, "%s/index.html", abs);
        free(abs);
        if (stat(ix.s, &st)) { problem("broken link", href); free(ix.s); return; }
        abs = ix.s;
    }
    if (*frag) {
        page *to = page_by_abs(abs);
        if (to) {
            nfraglinks++;
            if (npend == cappend) {
                cappend = cappend ? 2 * cappend : 256;
                pend = xrealloc(pend, cappend * sizeof *pend);
            }
            pend[npend++] = (pending){from, to, xstrdup(frag), xstrdup(href)};
        }
    }
    free(abs);
}

/* ---------------------------------------------------------------- base64, screenshot */

static int save_png(const char *b64, const char *file)
{
    static signed char val[256];
    memset(val, -1, sizeof val);
    for (int i = 0; i < 64; i++)
        val[(unsigned char)"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i]] = (signed char)i;
    size_t n = strlen(b64), k = 0;
    unsigned char *out = xmalloc(n / 4 * 3 + 3);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (b64[i] == '=') break;
        int v = val[(unsigned char)b64[i]];
        if (v < 0) { free(out); return -1; }
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[k++] = (unsigned char)(acc >> bits); }
    }
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (k < 8 || memcmp(out, sig, 8)) { free(out); return -1; }
    buf tmp = {0};
    buf_printf(&tmp, "%s.tmp", file);
    FILE *f = fopen(tmp.s, "wb");
    int rc = !f || fwrite(out, 1, k, f) != k;
    if (f && fclose(f)) rc = 1;
    if (!rc && rename(tmp.s, file)) rc = 1;
    if (rc) unlink(tmp.s);
    free(tmp.s);
    free(out);
    return rc ? -1 : 0;
}

/* A 1280x1600 PNG of the loaded page around its first image (the top of the page when it
 * has none), so the picture shows a figure with the text and math about it. */
static void screenshot(const char *rel, const char *file, int quiet)
{
    static const char *top_js =
        "(() => { const im = document.images[0];"
        " const y = im ? im.getBoundingClientRect().top + scrollY - 500 : 0;"
        " const h = document.documentElement.scrollHeight;"
        " return Math.round(Math.max(0, Math.min(y, h - 1600))); })()";
    buf p = {0};
    buf_puts(&p, "{\"expression\":");
    buf_json_str(&p, top_js);
    buf_puts(&p, ",\"returnByValue\":true}");
    jv *r = call(1, "Runtime.evaluate", p.s);
    double y = jnum(r, "result.result.value", 0);
    json_free(r);
    free(p.s);
    p = (buf){0};
    buf_printf(&p, "{\"format\":\"png\",\"captureBeyondViewport\":true,"
                   "\"clip\":{\"x\":0,\"y\":%.0f,\"width\":1280,\"height\":1600,\"scale\":1}}", y);
    jv *s = call(1, "Page.captureScreenshot", p.s);
    free(p.s);
    const char *data = jstr(s, "result.data");
    if (!data || save_png(data, file)) fail("cannot save the screenshot of %s to %s", rel, file);
    json_free(s);
    if (!quiet) fprintf(stderr, "browsertest: screenshot of %s (1280x1600 from y=%.0f) in %s\n", rel, y, file);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    const char *dir = NULL, *shot = NULL, *shot_page = NULL, *chromium = NULL;
    int quiet = 0;
    /* the options are parsed here (DIR is positional); gd_cli_parse on argv[0] alone
     * only records the program's name for gd_usage_error's messages */
    const gd_opt no_opts[] = {GD_OPT_END};
    gd_cli_parse(1, argv, "", no_opts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--screenshot") || !strcmp(a, "--screenshot-page") || !strcmp(a, "--timeout")
                 || !strcmp(a, "--chromium")) {
            if (i + 1 >= argc) return gd_usage_error("%s needs a value (see --help)", a);
            const char *v = argv[++i];
            if (!v[0]) return gd_usage_error("%s: empty value", a);
            if (!strcmp(a, "--screenshot")) shot = v;
            else if (!strcmp(a, "--screenshot-page")) shot_page = v;
            else if (!strcmp(a, "--chromium")) chromium = v;
            else if (gd_parse_double(v, &step_timeout) != 0 || !(step_timeout > 0 && step_timeout <= 3600))
                return gd_usage_error("--timeout: want seconds in (0, 3600], got '%s'", v);
        } else if (a[0] == '-' && a[1]) return gd_usage_error("unknown option %s (see --help)", a);
        else if (dir) return gd_usage_error("one directory only, got %s and %s (see --help)", dir, a);
        else dir = a;
    }
    if (!dir) return gd_usage_error("which directory? (usage: browsertest [OPTIONS] DIR; see --help)");
    if (shot && gd_out_check(shot) != 0) return gd_usage_error("--screenshot: %s", gd_error());
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) return gd_usage_error("%s is not a directory", dir);
    root = realpath(dir, NULL);
    if (!root) return gd_usage_error("%s: %s", dir, strerror(errno));
    find_pages(root, "");
    if (!npages) { fprintf(stderr, "browsertest: no .html page under %s\n", dir); return 1; }
    qsort(pages, npages, sizeof *pages, cmp_page);
    if (shot_page) {
        size_t i = 0;
        while (i < npages && strcmp(pages[i].rel, shot_page)) i++;
        if (i == npages) return gd_usage_error("--screenshot-page %s: no such page under %s", shot_page, dir);
    }
    const char *exe = find_chromium(chromium);
    if (chromium && (!exe || access(exe, X_OK)))   /* the one the user named: a usage error */
        return gd_usage_error("--chromium %s: not an executable file", chromium);
    if (!exe || access(exe, X_OK)) {
        fprintf(stderr, "browsertest: no chromium %s%s(install Debian's: sh tools/deps.sh chromium)\n",
                exe ? exe : "", exe ? " " : "");
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    double t0 = now();
    start_browser(exe);

    /* One tab, attached in flat mode: its messages carry our sessionId. */
    jv *r = call(0, "Target.createTarget", "{\"url\":\"about:blank\"}");
    const char *target = jstr(r, "result.targetId");
    if (!target) fail("Target.createTarget gave no targetId");
    buf p = {0};
    buf_puts(&p, "{\"targetId\":");
    buf_json_str(&p, target);
    buf_puts(&p, ",\"flatten\":true}");
    json_free(r);
    r = call(0, "Target.attachToTarget", p.s);
    free(p.s);
    const char *sid = jstr(r, "result.sessionId");
    if (!sid) fail("Target.attachToTarget gave no sessionId");
    session = xstrdup(sid);
    json_free(r);
    static const char *domains[] = {"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"};
    for (size_t i = 0; i < sizeof domains / sizeof *domains; i++) json_free(call(1, domains[i], NULL));
    json_free(call(1, "Emulation.setDeviceMetricsOverride",
                   "{\"width\":1280,\"height\":1600,\"deviceScaleFactor\":1,\"mobile\":false}"));

    int shot_done = 0;
    for (size_t i = 0; i < npages; i++) {
        page *pg = &pages[i];
        req_clear();
        buf url = {0}, params = {0};
        buf_file_url(&url, pg->abs);
        buf_puts(&params, "{\"url\":");
        buf_json_str(&params, url.s);
        buf_puts(&params, "}");
        double deadline = now() + step_timeout;
        int id = send_cmd(1, "Page.navigate", params.s);
        free(params.s);
        r = wait_reply(id, deadline);
        if (!r) fail("chromium did not answer Page.navigate %s within %g s", pg->rel, step_timeout);
        const char *err = jstr(r, "result.errorText");
        if (!err) err = jstr(r, "error.message");
        if (err) {
            problem("cannot open page", err);
            json_free(r);
            flush_problems(pg->rel);
            free(url.s);
            continue;
        }
        json_free(r);
        if (!wait_event("Page.loadEventFired", deadline))
            problem("load timeout", "no load event within the --timeout");

        params = (buf){0};
        buf_puts(&params, "{\"expression\":");
        buf_json_str(&params, page_js);
        buf_puts(&params, ",\"awaitPromise\":true,\"returnByValue\":true}");
        id = send_cmd(1, "Runtime.evaluate", params.s);
        free(params.s);
        r = wait_reply(id, now() + step_timeout);
        if (!r) fail("the checks on %s did not finish within %g s", pg->rel, step_timeout);
        jv *res = jget(r, "result.result.value");
        const char *exc = jstr(r, "result.exceptionDetails.exception.description");
        if (!res || res->type != J_OBJ) {
            problem("checks failed", exc ? exc : "Runtime.evaluate returned no result");
        } else {
            const char *got = jstr(res, "url"), *path = jstr(res, "path");
            if (!path || strcmp(path, pg->abs)) problem("navigated away", got ? show_url(got) : "?");
            pg->loaded = 1;
            jv *pr = jget(res, "problems");
            for (size_t k = 0; pr && pr->type == J_ARR && k < pr->n; k++) {
                jv *kv = &pr->kid[k];
                if (kv->type == J_ARR && kv->n == 2)
                    problem(kv->kid[0].str ? kv->kid[0].str : "?", kv->kid[1].str ? kv->kid[1].str : "");
            }
            jv *links = jget(res, "links");
            for (size_t k = 0; links && links->type == J_ARR && k < links->n; k++) check_link(i, &links->kid[k]);
            jv *ids = jget(res, "ids");
            if (ids && ids->type == J_ARR) {
                pg->ids = xmalloc(ids->n * sizeof *pg->ids);
                for (size_t k = 0; k < ids->n; k++)
                    if (ids->kid[k].type == J_STR) pg->ids[pg->nids++] = xstrdup(ids->kid[k].str);
            }
            size_t ni = (size_t)jnum(res, "nimg", 0), nm = (size_t)jnum(res, "nmath", 0);
            nimages += ni;
            nmath += nm;
            int want = shot && !shot_done && (shot_page ? !strcmp(pg->rel, shot_page) : ni > 0 && nm > 0);
            if (want) {
                screenshot(pg->rel, shot, quiet);
                shot_done = 1;
            }
        }
        json_free(r);
        free(url.s);
        flush_problems(pg->rel);
    }
    /* The default choice found no page with both an image and math: take the first. */
    if (shot && !shot_done) {
        buf url = {0}, params = {0};
        buf_file_url(&url, pages[0].abs);
        buf_puts(&params, "{\"url\":");
        buf_json_str(&params, url.s);
        buf_puts(&params, "}");
        json_free(call(1, "Page.navigate", params.s));
        wait_event("Page.loadEventFired", now() + step_timeout);
        screenshot(pages[0].rel, shot, quiet);
        free(url.s);
        free(params.s);
        for (size_t i = 0; i < nprobs; i++) free(probs[i]);   /* this second visit was checked already */
        nprobs = 0;
    }
    stop_browser();

    /* Fragments, now that every page's ids are known; grouped by page, so a link that
     * appears several times on a page is reported once. */
    for (size_t i = 0; i < npages; i++) {
        for (size_t k = 0; k < npend; k++) {
            pending *q = &pend[k];
            if (q->from != i || !q->to->loaded) continue;   /* an unloaded page was reported */
            if (!has_id(q->to, q->frag)) problem("missing fragment", q->href);
        }
        flush_problems(pages[i].rel);
    }
    if (!quiet) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        double cs = (double)self.ru_utime.tv_sec + (double)self.ru_stime.tv_sec
                    + 1e-6 * (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec);
        double ck = (double)kids.ru_utime.tv_sec + (double)kids.ru_stime.tv_sec
                    + 1e-6 * (double)(kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);
        printf("browsertest: %zu pages, %zu internal links (%zu with a #fragment; %zu external not followed), "
               "%zu images, %zu math elements checked in %.1f s (CPU: browsertest %.1f s, chromium %.1f s): "
               "%zu defect%s\n",
               npages, nlinks, nfraglinks, nexternal, nimages, nmath, now() - t0, cs, ck, ndefects,
               ndefects == 1 ? "" : "s");
    }
    return ndefects ? 1 : 0;
}

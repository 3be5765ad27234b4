/* test_links.c -- every relative markdown link of the book points at something.
 *
 * The markdown files under chapters/, experiments/, exercises/ and book/ link to each
 * other ("[§4.1](../04-schedules/README.md#41-why-decay-the-noise-floor)"), to programs
 * and to figures. A link is broken when its file does not exist or, for a link into a
 * markdown file with a "#fragment", when that file has no heading with that anchor.
 * Anchors are GitHub's (and pandoc's gfm_auto_identifiers'): the heading's text with
 * its markdown removed (code backticks, link targets, HTML tags), lower-cased, every
 * character that is not a letter, a digit, '-', '_' or a space dropped, spaces turned
 * into '-'; a repeated anchor gets "-1", "-2", ... in order.
 *
 * What is not checked: links with a scheme (https:, mailto:), links inside fenced code
 * blocks, code spans and HTML comments, reference-style links (the book has none), and
 * links to the website's own pages (*.html: book/index.md's, which exist only in the
 * HTML build; the browser test, book/browser.mk, follows those).
 *
 * The checker is tried on planted pages first (a broken file, a broken anchor, a good
 * link of each kind), so that a checker which finds nothing cannot pass.
 */
#include "../common.h"

#include <ctype.h>
#include <dirent.h>
#include <locale.h>
#include <wchar.h>
#include <wctype.h>

#define L_MAXANCHORS 1024

typedef struct {
    int n;
    char *anchor[L_MAXANCHORS];   /* as linked: "try-it", "try-it-1", ... */
    char *base[L_MAXANCHORS];     /* before the repeat's suffix */
} l_anchors;

/* Append the GitHub anchor of one heading's text (s .. s+len) to out (size cap). */
static void l_anchor_of(const char *s, size_t len, char *out, size_t cap) {
    /* 1. the rendered text: drop link targets "](...)", images' "!", code backticks and
     *    HTML tags */
    char *txt = malloc(len + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ']' && i + 1 < len && s[i + 1] == '(') {
            size_t j = i + 2;
            while (j < len && s[j] != ')') j++;
            i = j;
            continue;
        }
        if (s[i] == '<') {
            size_t j = i + 1;
            while (j < len && s[j] != '>') j++;
            if (j < len) { i = j; continue; }
        }
        if (s[i] == '`') continue;
        txt[k++] = s[i];
    }
    txt[k] = '\0';
    /* 2. lower-case; keep letters, digits, '-', '_'; spaces to '-'; drop the rest */
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t o = 0;
    const char *p = txt;
    /* leading/trailing spaces were stripped by the caller */
    while (*p && o + MB_CUR_MAX + 1 < cap) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, strlen(p), &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) { p++; memset(&st, 0, sizeof st); continue; }
        p += n;
        if (wc == L' ') { out[o++] = '-'; continue; }
        if (wc == L'-' || wc == L'_' || iswalnum((wint_t)wc)) {
            char mb[8];
            mbstate_t st2;
            memset(&st2, 0, sizeof st2);
            size_t m = wcrtomb(mb, (wchar_t)towlower((wint_t)wc), &st2);
            if (m != (size_t)-1) { memcpy(out + o, mb, m); o += m; }
        }
    }
    out[o] = '\0';
    free(txt);
}

/* The anchors of a markdown file's headings (outside fenced code), GitHub's way. */
static int l_read_anchors(const char *path, l_anchors *a) {
    a->n = 0;
    char *text = t_slurp(path);
    if (!text) return -1;
    int fence = 0;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *q = line;
        while (*q == ' ' && q < line + 3) q++;
        if (strncmp(q, "```", 3) == 0 || strncmp(q, "~~~", 3) == 0) fence = !fence;
        else if (!fence && line[0] == '#') {
            size_t h = 0;
            while (h < len && line[h] == '#') h++;
            if (h <= 6 && h < len && line[h] == ' ') {
                const char *s = line + h;
                size_t n = len - h;
                while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
                while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
                while (n && s[n - 1] == '#') n--;   /* closing #s */
                while (n && s[n - 1] == ' ') n--;
                char anchor[1024];
                l_anchor_of(s, n, anchor, sizeof anchor);
                /* a repeat gets -1, -2, ... */
                int seen = 0;
                for (int i = 0; i < a->n; i++) seen += strcmp(a->base[i], anchor) == 0;
                if (a->n < L_MAXANCHORS) {
                    char *s2;
                    if (seen) cr_assert(asprintf(&s2, "%s-%d", anchor, seen) > 0);
                    else s2 = strdup(anchor);
                    a->base[a->n] = strdup(anchor);
                    a->anchor[a->n++] = s2;
                }
            }
        }
        line = end ? end + 1 : NULL;
    }
    free(text);
    return 0;
}

static void l_free_anchors(l_anchors *a) {
    for (int i = 0; i < a->n; i++) { free(a->anchor[i]); free(a->base[i]); }
    a->n = 0;
}

static int l_has_anchor(const l_anchors *a, const char *frag) {
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->anchor[i], frag) == 0) return 1;
    return 0;
}

/* Percent-decoding of a link target (for %20 and the like). */
static void l_unescape(char *s) {
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            p += 2;
        } else *o++ = *p;
    }
    *o = '\0';
}

/* Check one link target found in the file `md` at `line`; report and return 1 when it
 * is broken. */
static int l_check_target(const char *md, int line, const char *target, char *msg, size_t msgcap) {
    if (!*target) return 0;
    /* a scheme (https:, mailto:) is outside this check */
    for (const char *p = target; *p && *p != '/' && *p != '#'; p++)
        if (*p == ':') return 0;
    char *t = strdup(target);
    char *frag = strchr(t, '#');
    if (frag) *frag++ = '\0';
    l_unescape(t);
    size_t tl = strlen(t);
    if (tl > 5 && strcmp(t + tl - 5, ".html") == 0) { free(t); return 0; }
    char path[4096];
    if (*t == '\0') snprintf(path, sizeof path, "%s", md);               /* "#anchor" */
    else if (*t == '/') snprintf(path, sizeof path, ".%s", t);          /* repo root */
    else {
        const char *slash = strrchr(md, '/');
        int dl = slash ? (int)(slash - md) : 0;
        snprintf(path, sizeof path, "%.*s%s%s", dl, md, dl ? "/" : "", t);
    }
    int bad = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(msg, msgcap, "%s:%d: link to %s: no such file (%s)", md, line, target, path);
        bad = 1;
    } else if (frag && *frag && S_ISREG(sb.st_mode)) {
        size_t pl = strlen(path);
        if (pl > 3 && strcmp(path + pl - 3, ".md") == 0) {
            l_anchors a;
            l_read_anchors(path, &a);
            if (!l_has_anchor(&a, frag)) {
                snprintf(msg, msgcap, "%s:%d: link to %s: %s has no heading with anchor #%s",
                         md, line, target, path, frag);
                bad = 1;
            }
            l_free_anchors(&a);
        }
    }
    free(t);
    return bad;
}

/* Every inline link and image of a markdown file; returns the number of broken ones,
 * each reported with cr_log_error (when report) and kept in *first (the first one). */
static int l_check_file(const char *md, int report, char **first) {
    char *text = t_slurp(md);
    cr_assert_not_null(text, "cannot read %s", md);
    int bad = 0, fence = 0, lineno = 1;
    char *p = text;
    int at_line_start = 1;
    while (*p) {
        if (at_line_start) {
            const char *q = p;
            while (*q == ' ') q++;
            if (strncmp(q, "```", 3) == 0 || strncmp(q, "~~~", 3) == 0) fence = !fence;
            at_line_start = 0;
        }
        if (*p == '\n') { lineno++; at_line_start = 1; p++; continue; }
        if (fence) { p++; continue; }
        if (*p == '`') {                          /* a code span: skip to its end */
            size_t ticks = strspn(p, "`");
            char delim[16];
            if (ticks >= sizeof delim) ticks = sizeof delim - 1;
            memset(delim, '`', ticks);
            delim[ticks] = '\0';
            char *e = strstr(p + ticks, delim);
            if (e) {
                for (char *c = p; c < e; c++) lineno += *c == '\n';
                p = e + ticks;
                continue;
            }
            p += ticks;
            continue;
        }
        if (p[0] == '<' && p[1] == '!' && p[2] == '-' && p[3] == '-') {   /* comment */
            char *e = strstr(p, "-->");
            if (e) {
                for (char *c = p; c < e; c++) lineno += *c == '\n';
                p = e + 3;
                continue;
            }
        }
        if (p[0] == ']' && p[1] == '(') {
            char *s = p + 2, *e = s;
            int depth = 0;
            while (*e && !(*e == ')' && depth == 0) && *e != '\n') {
                if (*e == '(') depth++;
                if (*e == ')') depth--;
                e++;
            }
            if (*e == ')') {
                char *target = strndup(s, (size_t)(e - s));
                /* drop a title ("...") and angle brackets */
                char *sp = strchr(target, ' ');
                if (sp) *sp = '\0';
                char *tg = target;
                if (*tg == '<') { tg++; char *gt = strchr(tg, '>'); if (gt) *gt = '\0'; }
                char msg[8192];
                if (l_check_target(md, lineno, tg, msg, sizeof msg)) {
                    bad++;
                    if (report) cr_log_error("%s", msg);
                    if (first && !*first) *first = strdup(msg);
                }
                free(target);
                p = e + 1;
                continue;
            }
        }
        p++;
    }
    free(text);
    return bad;
}

/* The markdown files under dir, recursively (skipping build directories). */
static void l_collect(const char *dir, char ***list, int *n) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (strncmp(e->d_name, "build", 5) == 0 || strcmp(e->d_name, "results") == 0) continue;
        char *path;
        cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) > 0);
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            l_collect(path, list, n);
            free(path);
            continue;
        }
        size_t len = strlen(path);
        if (len > 3 && strcmp(path + len - 3, ".md") == 0) {
            *list = realloc(*list, (size_t)(*n + 1) * sizeof **list);
            (*list)[(*n)++] = path;
        } else free(path);
    }
    closedir(d);
}

static void l_setup(void) {
    cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"), "no C.UTF-8 locale");
}

/* The anchor rule on the book's kinds of headings. */
Test(book_links, anchors_follow_github, .init = l_setup) {
    struct { const char *heading, *anchor; } cases[] = {
        {"4.1 Why decay: the noise floor", "41-why-decay-the-noise-floor"},
        {"4.2 The Robbins–Monro conditions, and why practice ignores them",
         "42-the-robbinsmonro-conditions-and-why-practice-ignores-them"},
        {"Step decay (`StepLR`, `MultiStepLR`)", "step-decay-steplr-multisteplr"},
        {"6.6 AdamW against Adam + L2", "66-adamw-against-adam--l2"},
        {"μP and the `lr_find` [link](x.md)", "μp-and-the-lr_find-link"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[512];
        l_anchor_of(cases[i].heading, strlen(cases[i].heading), out, sizeof out);
        cr_expect_str_eq(out, cases[i].anchor, "anchor of \"%s\"", cases[i].heading);
    }
}

/* Planted pages: the checker finds a missing file and a missing anchor, and passes a
 * good file link, a good anchor in another file, a repeated heading's "-1" anchor and a
 * same-page anchor. */
Test(book_links, checker_catches_planted_breaks, .init = l_setup) {
    char dir[] = "/tmp/gdtest-links-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *a, *b;
    cr_assert(asprintf(&a, "%s/a.md", dir) > 0);
    cr_assert(asprintf(&b, "%s/sub/b.md", dir) > 0);
    char *sub;
    cr_assert(asprintf(&sub, "%s/sub", dir) > 0);
    cr_assert_eq(mkdir(sub, 0700), 0);
    FILE *f = fopen(b, "w");
    fputs("# B\n\n## 2.1 The setting\n\n## Try it\n\n## Try it\n", f);
    fclose(f);
    f = fopen(a, "w");
    fputs("# A\n\n## Local heading\n\n"
          "Good: [b](sub/b.md), [§2.1](sub/b.md#21-the-setting), [again](sub/b.md#try-it-1),\n"
          "[here](#local-heading), [web](https://example.org/x.md#nope), `[code](nope.md)`.\n"
          "```\n[fenced](nope.md)\n```\n"
          "Broken: [gone](sub/c.md) and [anchor](sub/b.md#22-no-such-section).\n", f);
    fclose(f);
    char *first = NULL;
    cr_expect_eq(l_check_file(a, 0, &first), 2, "two planted broken links, first: %s", first ? first : "none");
    cr_expect(first && strstr(first, "sub/c.md") && strstr(first, ":10:"), "the first report names the file and line: %s",
              first ? first : "none");
    free(first);
    first = NULL;
    cr_expect_eq(l_check_file(b, 0, &first), 0);
    unlink(a);
    unlink(b);
    rmdir(sub);
    rmdir(dir);
    free(a);
    free(b);
    free(sub);
}

/* The book itself. */
Test(book_links, every_relative_link_resolves, .init = l_setup, .timeout = 60) {
    const char *roots[] = {"chapters", "experiments", "exercises", "book"};
    char **files = NULL;
    int n = 0;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) l_collect(roots[i], &files, &n);
    cr_assert_geq(n, 16, "found only %d markdown files under chapters/, experiments/, exercises/, book/", n);
    int bad = 0;
    char *first = NULL;
    for (int i = 0; i < n; i++) {
        bad += l_check_file(files[i], 1, &first);
        free(files[i]);
    }
    free(files);
    cr_expect_eq(bad, 0, "%d broken links (each logged above); the first: %s", bad, first ? first : "");
    free(first);
}

/* test_text.c -- the fortune corpus, its vocabulary, split and windows (lib/text.c).
 *
 * Small corpora are written into a fresh temporary directory per test; one test reads
 * the installed package (Debian's fortunes) and checks what text.h says about it.
 */
#include <criterion/criterion.h>

#include "err.h"
#include "rng.h"
#include "text.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

static void tmp_init(void) {
    snprintf(tmp, sizeof tmp, "/tmp/gd-test-text-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp), "mkdtemp failed");
}

static void tmp_fini(void) {
    DIR *d = opendir(tmp);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", tmp, e->d_name);
            rmdir(sub);
        }
    }
    closedir(d);
    rmdir(tmp);
}

static void put(const char *name, const void *bytes, size_t len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "fopen %s", path);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}
#define PUTS(name, s) put(name, s, sizeof(s) - 1)

/* Entry i as a string (static buffer). */
static const char *entry(const gd_corpus *c, int i) {
    static char buf[4096];
    long n = c->start[i + 1] - c->start[i];
    cr_assert_lt(n, (long)sizeof buf);
    memcpy(buf, c->bytes + c->start[i], (size_t)n);
    buf[n] = '\0';
    return buf;
}

TestSuite(lib_text, .init = tmp_init, .fini = tmp_fini);

Test(lib_text, reads_entries_in_name_order_skipping_dat_u8_and_subdirectories) {
    PUTS("b", "second file\n%\n");
    PUTS("a", "one\n%\ntwo lines\nof text\n%\n%\nlast, no newline");
    PUTS("a.dat", "\x00\x00\x00\x02 binary index");   /* would be refused if read */
    PUTS("a.u8", "duplicate\n%\n");
    PUTS(".hidden", "hidden\n%\n");
    char sub[256];
    snprintf(sub, sizeof sub, "%s/off", tmp);
    cr_assert_eq(mkdir(sub, 0700), 0);
    gd_corpus c;
    cr_assert_eq(gd_corpus_load(&c, tmp), 0, "%s", gd_error());
    cr_assert_eq(c.nfiles, 2);
    cr_assert_str_eq(c.files[0], "a");
    cr_assert_str_eq(c.files[1], "b");
    cr_assert_eq(c.nentries, 4, "the empty entry between two %% lines is no entry");
    cr_assert_str_eq(entry(&c, 0), "one\n");
    cr_assert_str_eq(entry(&c, 1), "two lines\nof text\n");
    cr_assert_str_eq(entry(&c, 2), "last, no newline\n");
    cr_assert_str_eq(entry(&c, 3), "second file\n");
    gd_corpus_free(&c);
}

Test(lib_text, overstrike_keeps_what_the_terminal_shows) {
    PUTS("f", "_\bb_\bo_\bl_\bd and x\bx\nsecond\bD line\n%\n\bstart\n");
    gd_corpus c;
    cr_assert_eq(gd_corpus_load(&c, tmp), 0, "%s", gd_error());
    cr_assert_eq(c.nentries, 2);
    cr_assert_str_eq(entry(&c, 0), "bold and x\nseconD line\n");
    cr_assert_str_eq(entry(&c, 1), "start\n");
    gd_corpus_free(&c);
}

Test(lib_text, directory_from_argument_then_environment_then_default) {
    cr_assert_str_eq(gd_fortunes_dir("/x"), "/x");
    setenv(GD_FORTUNES_ENV, "/from/env", 1);
    cr_assert_str_eq(gd_fortunes_dir(NULL), "/from/env");
    cr_assert_str_eq(gd_fortunes_dir(""), "/from/env");
    unsetenv(GD_FORTUNES_ENV);
    cr_assert_str_eq(gd_fortunes_dir(NULL), GD_FORTUNES_DEFAULT_DIR);
}

/* A broken or missing corpus: -1, one line naming the file or directory, c zeroed. */
static void refused(const char *dir, const char *names, const char *says) {
    gd_corpus c;
    memset(&c, 0x5a, sizeof c);
    cr_assert_eq(gd_corpus_load(&c, dir), -1, "accepted %s", dir);
    const char *e = gd_error();
    cr_assert_not_null(strstr(e, names), "'%s' does not name %s", e, names);
    cr_assert_not_null(strstr(e, says), "'%s' does not say '%s'", e, says);
    cr_assert_null(strchr(e, '\n'), "more than one line: '%s'", e);
    cr_assert_eq(c.nentries, 0);
    cr_assert_null(c.bytes);
}

Test(lib_text, missing_or_broken_corpus_is_refused_naming_the_file) {
    char path[256];
    snprintf(path, sizeof path, "%s/nonexistent", tmp);
    refused(path, path, "cannot open");
    refused(tmp, tmp, "no fortune files");                 /* empty directory */
    PUTS("ok", "fine\n%\n");
    PUTS("nul", "text\0with a NUL\n%\n");
    snprintf(path, sizeof path, "%s/nul", tmp);
    refused(tmp, path, "NUL");
    unlink(path);
    PUTS("only-separators", "%\n%\n\n");                  /* "\n" is an entry; "" is not */
    PUTS("zempty", "");
    snprintf(path, sizeof path, "%s/zempty", tmp);
    refused(tmp, path, "no entry");
}

/* The corpus of several entries used by the split and window tests. */
static void corpus_of(gd_corpus *c, int n) {
    FILE *f;
    char path[256];
    snprintf(path, sizeof path, "%s/many", tmp);
    cr_assert_not_null(f = fopen(path, "w"));
    for (int i = 0; i < n; i++) fprintf(f, "entry number %d, %s\n%%\n", i, i % 3 ? "ab" : "cd\tq");
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(gd_corpus_load(c, tmp), 0, "%s", gd_error());
    cr_assert_eq(c->nentries, n);
}

Test(lib_text, vocabulary_is_dense_sorted_and_round_trips) {
    gd_corpus c;
    corpus_of(&c, 40);
    gd_vocab v;
    gd_vocab_build(&v, &c);
    const char *expect = "\t\n %,0123456789abcdemnqrtuy";  /* every byte that occurs */
    cr_assert_eq(v.size, (int)strlen(expect));
    for (int k = 0; k < v.size; k++) {
        cr_assert_eq(v.byte[k], (uint8_t)expect[k], "id %d", k);
        cr_assert_eq(v.id[v.byte[k]], k);
    }
    cr_assert_eq(v.id['Z'], -1);
    const long n = c.start[c.nentries];
    int *ids = malloc((size_t)n * sizeof *ids);
    uint8_t *back = malloc((size_t)n);
    cr_assert_eq(gd_vocab_encode(&v, c.bytes, n, ids), 0);
    cr_assert_eq(gd_vocab_decode(&v, ids, n, back), 0);
    cr_assert_eq(memcmp(back, c.bytes, (size_t)n), 0, "decode(encode(text)) != text");
    const uint8_t bad[] = "aZ";
    cr_assert_eq(gd_vocab_encode(&v, bad, 2, ids), -1);
    cr_assert_not_null(strstr(gd_error(), "0x5a"), "%s", gd_error());
    int badid = v.size;
    cr_assert_eq(gd_vocab_decode(&v, &badid, 1, back), -1);
    free(ids), free(back);
    gd_corpus_free(&c);
}

Test(lib_text, split_is_deterministic_disjoint_and_complete) {
    gd_corpus c;
    corpus_of(&c, 50);
    gd_vocab v;
    gd_vocab_build(&v, &c);
    gd_tokens tr, va, tr2, va2, tr3, va3;
    cr_assert_eq(gd_text_split(&tr, &va, &c, &v, 0.2, 7), 0, "%s", gd_error());
    cr_assert_eq(gd_text_split(&tr2, &va2, &c, &v, 0.2, 7), 0);
    cr_assert_eq(gd_text_split(&tr3, &va3, &c, &v, 0.2, 8), 0);
    cr_assert_eq(va.nentries, 10);
    cr_assert_eq(tr.nentries, 40);
    /* same seed, same split, same streams */
    cr_assert_eq(tr.n, tr2.n);
    cr_assert_eq(memcmp(tr.ids, tr2.ids, (size_t)tr.n * sizeof *tr.ids), 0);
    cr_assert_eq(memcmp(va.entries, va2.entries, 10 * sizeof *va.entries), 0);
    cr_assert_neq(memcmp(va.entries, va3.entries, 10 * sizeof *va.entries), 0,
                  "another seed, the same validation entries");
    /* disjoint and complete, each ascending */
    int seen[50] = {0};
    for (int j = 0; j < tr.nentries; j++) seen[tr.entries[j]] += 1;
    for (int j = 0; j < va.nentries; j++) seen[va.entries[j]] += 10;
    for (int i = 0; i < 50; i++) cr_assert(seen[i] == 1 || seen[i] == 10, "entry %d: %d", i, seen[i]);
    for (int j = 1; j < va.nentries; j++) cr_assert_lt(va.entries[j - 1], va.entries[j]);
    /* the validation stream is its entries, each followed by "%\n" */
    long at = 0;
    for (int j = 0; j < va.nentries; j++) {
        const int i = va.entries[j];
        const long len = c.start[i + 1] - c.start[i];
        for (long k = 0; k < len; k++)
            cr_assert_eq(va.ids[at + k], v.id[c.bytes[c.start[i] + k]]);
        cr_assert_eq(va.ids[at + len], v.id['%']);
        cr_assert_eq(va.ids[at + len + 1], v.id['\n']);
        at += len + 2;
    }
    cr_assert_eq(at, va.n);
    gd_tokens_free(&tr2), gd_tokens_free(&va2);   /* reused below (LeakSanitizer) */
    cr_assert_eq(gd_text_split(&tr2, &va2, &c, &v, 0, 7), -1);
    cr_assert_eq(gd_text_split(&tr2, &va2, &c, &v, 1, 7), -1);
    gd_tokens_free(&tr), gd_tokens_free(&va), gd_tokens_free(&tr3), gd_tokens_free(&va3);
    gd_corpus_free(&c);
}

Test(lib_text, windows_lie_in_the_split_and_targets_are_shifted_by_one) {
    gd_corpus c;
    corpus_of(&c, 30);
    gd_vocab v;
    gd_vocab_build(&v, &c);
    gd_tokens tr, va;
    cr_assert_eq(gd_text_split(&tr, &va, &c, &v, 0.3, 1), 0);
    enum { B = 64, T = 16 };
    int x[B * T], y[B * T];
    gd_rng r;
    gd_rng_seed(&r, 3);
    int hit_first = 0, hit_last = 0;
    for (int rep = 0; rep < 200; rep++) {
        cr_assert_eq(gd_text_batch(x, y, &va, B, T, &r), 0);
        for (int b = 0; b < B; b++) {
            const int *xb = x + b * T, *yb = y + b * T;
            /* find the row in the validation stream: it must be there */
            long o = -1;
            for (long k = 0; k + T + 1 <= va.n && o < 0; k++)
                if (memcmp(va.ids + k, xb, T * sizeof *xb) == 0 &&
                    memcmp(va.ids + k + 1, yb, T * sizeof *yb) == 0) o = k;
            cr_assert_geq(o, 0, "row %d is not a window of the validation stream", b);
            for (int t = 0; t + 1 < T; t++) cr_assert_eq(yb[t], xb[t + 1]);
            hit_first |= o == 0;
            hit_last |= o == va.n - T - 1;
        }
    }
    cr_assert(hit_first && hit_last, "offsets 0 and n-T-1 never drawn (first %d last %d)",
              hit_first, hit_last);
    cr_assert_eq(gd_text_window(x, y, &va, va.n - T - 1, T), 0);
    cr_assert_eq(gd_text_window(x, y, &va, va.n - T, T), -1);
    cr_assert_eq(gd_text_window(x, y, &va, -1, T), -1);
    gd_tokens shortie = {.n = T, .ids = va.ids};
    cr_assert_eq(gd_text_batch(x, y, &shortie, 1, T, &r), -1);
    gd_tokens_free(&tr), gd_tokens_free(&va);
    gd_corpus_free(&c);
}

Test(lib_text, unigram_cross_entropy_against_direct_sum) {
    int ids[] = {0, 0, 1, 2, 0, 1};
    gd_tokens s = {.n = 6, .ids = ids};
    double p[4];
    gd_text_unigram(p, &s, 4);
    /* counts 3, 2, 1, 0; plus one each; over 6 + 4 */
    cr_assert_float_eq(p[0], 0.4, 1e-15);
    cr_assert_float_eq(p[3], 0.1, 1e-15);
    int q[] = {3, 0};
    cr_assert_float_eq(gd_text_xent(p, q, 2), -(log(0.1) + log(0.4)) / 2, 1e-15);
}

/* The installed package, as text.h describes it. */
Test(lib_text, the_installed_fortunes) {
    gd_corpus c;
    if (gd_corpus_load(&c, GD_FORTUNES_DEFAULT_DIR) != 0)
        cr_skip_test("%s (tools/deps.sh installs the package)", gd_error());
    cr_assert_geq(c.nfiles, 30);
    cr_assert_gt(c.start[c.nentries], 2000000, "the corpus is about 2.5 MB");
    for (int i = 0; i < c.nfiles; i++) {
        cr_assert_null(strstr(c.files[i], ".dat"));
        cr_assert_null(strstr(c.files[i], ".u8"));
    }
    for (long i = 0; i < c.start[c.nentries]; i++) cr_assert_neq(c.bytes[i], '\b');
    gd_vocab v;
    gd_vocab_build(&v, &c);
    cr_assert(v.size > 90 && v.size < 130, "V = %d", v.size);
    gd_corpus_free(&c);
}

/* text.h -- a text corpus for the small GPT: Debian's fortune cookies, byte by byte.
 *
 * THE CORPUS. Debian's package `fortunes` (the data of fortune-mod) installs about 2.5 MB
 * of English quotations, jokes and verse in /usr/share/games/fortunes. Each plain file
 * there (art, computers, cookie, ..., zippy) holds entries separated by lines that contain
 * only "%". Next to each sits NAME.dat, the binary index that strfile(1) makes for
 * fortune(6), and NAME.u8, a symbolic link to NAME (fortune's name for the UTF-8 version
 * of a file: in Debian the files are the same). We read every regular file of the
 * directory whose name does not start with "." and does not end in ".dat" or ".u8",
 * in name order (subdirectories, such as off/ of fortunes-off, are skipped).
 * Where the directory is, first match wins: the dir argument (programs pass --data),
 * the environment variable GD_FORTUNES, then /usr/share/games/fortunes.
 *
 * CLEANING. Some files underline or embolden with overstriking ("_\bx", "x\bx", for
 * the terminal): a byte followed by a backspace is dropped, leaving what the terminal
 * shows, as col -b does. Nothing else is changed: tabs, newlines and the few non-ASCII
 * bytes (UTF-8 sequences in law, linux, pets, wisdom) stay.
 *
 * THE VOCABULARY is byte-level: each byte value that occurs in the corpus (all
 * entries, training and validation alike, as nanoGPT's shakespeare_char does) gets a
 * dense id, in increasing byte order; about 110 ids. A UTF-8 character of two bytes is
 * two tokens.
 *
 * THE SPLIT is by entries: the entries are shuffled by a seed (gd_split, data.h) and
 * a fraction goes to validation, so no quotation is in both. Each split is one stream
 * of token ids: its entries in corpus order, each followed by "%\n" (the file format
 * itself, so a model learns where an entry ends).
 *
 * WINDOWS are what the model trains on: a row of T ids x = s[o .. o+T) and its targets
 * y = s[o+1 .. o+T+1), the next token at every position, with o uniform in
 * [0, n - T - 1] from our RNG (rng.h).
 *
 *   gd_corpus c;
 *   if (gd_corpus_load(&c, data_dir) != 0) {            // "<file>: ...", names the file
 *       fprintf(stderr, "%s: %s\n", gd_prog(), gd_error()); return 2;
 *   }
 *   gd_vocab v;  gd_vocab_build(&v, &c);
 *   gd_tokens train, val;
 *   gd_text_split(&train, &val, &c, &v, 0.1, seed);
 *   gd_text_batch(x, y, &train, B, T, &rng);           // x, y (B, T) ids
 *   gd_tokens_free(&train); gd_tokens_free(&val); gd_corpus_free(&c);
 *
 * Errors (err.h): the functions that can fail return -1 with one line in gd_error()
 * naming the directory or file; they never print or exit. A corpus is refused when the
 * directory cannot be read or holds no fortune file, and when a file cannot be read,
 * contains a NUL byte (not text) or has no entry.
 */
#ifndef GD_TEXT_H
#define GD_TEXT_H

#include <stdint.h>
#include "rng.h"

#define GD_FORTUNES_DEFAULT_DIR "/usr/share/games/fortunes"
#define GD_FORTUNES_ENV "GD_FORTUNES"

typedef struct gd_corpus {
    int nfiles;           /* files read */
    char **files;         /* their names (without the directory), in name order */
    int nentries;
    uint8_t *bytes;       /* every entry's text, cleaned, one after another */
    long *start;          /* (nentries + 1): entry i is bytes[start[i] .. start[i+1]) */
} gd_corpus;

/* The directory that would be used for dir (dir, else $GD_FORTUNES, else default). */
const char *gd_fortunes_dir(const char *dir);
/* Read every fortune file of the directory (see above). 0, or -1 (c zeroed). */
int gd_corpus_load(gd_corpus *c, const char *dir);
void gd_corpus_free(gd_corpus *c);

/* Byte-level vocabulary: dense ids for the bytes that occur. */
typedef struct gd_vocab {
    int size;             /* V */
    int id[256];          /* byte -> id, -1 for a byte that does not occur */
    uint8_t byte[256];    /* id -> byte, for ids in [0, V) */
} gd_vocab;

/* The bytes of every entry and of the separator "%\n". */
void gd_vocab_build(gd_vocab *v, const gd_corpus *c);
/* ids[i] = id of s[i], i < n. -1 if a byte is not in the vocabulary (naming it). */
int gd_vocab_encode(const gd_vocab *v, const uint8_t *s, long n, int *ids);
/* s[i] = byte of ids[i], i < n. -1 if an id is outside [0, V). */
int gd_vocab_decode(const gd_vocab *v, const int *ids, long n, uint8_t *s);

/* One split: a stream of ids. */
typedef struct gd_tokens {
    long n;               /* ids in the stream */
    int *ids;             /* (n) */
    int nentries;         /* entries in it */
    int *entries;         /* (nentries): their indices in the corpus, ascending */
} gd_tokens;

/* Entries shuffled by seed; round(val_frac * nentries) of them (at least one, and at
 * least one left for training) become val, the rest train. 0 < val_frac < 1.
 * 0, or -1 (bad fraction, too few entries, out of memory). */
int gd_text_split(gd_tokens *train, gd_tokens *val, const gd_corpus *c, const gd_vocab *v,
                  double val_frac, uint64_t seed);
void gd_tokens_free(gd_tokens *s);

/* One row: x[0..T) = ids[o .. o+T), y[0..T) = ids[o+1 .. o+T+1). -1 if the window does
 * not fit (o < 0 or o + T + 1 > n) or T < 1. */
int gd_text_window(int *x, int *y, const gd_tokens *s, long o, int T);
/* B rows, each at an offset drawn uniformly from [0, n - T - 1] by r: x, y (B, T).
 * -1 if the stream is shorter than T + 1. */
int gd_text_batch(int *x, int *y, const gd_tokens *s, int B, int T, gd_rng *r);

/* The unigram model of a stream: p[k] = (count of id k + 1) / (n + V), the byte
 * frequencies with add-one (Laplace) smoothing so that a byte the stream lacks is not
 * impossible. p has V entries. */
void gd_text_unigram(double *p, const gd_tokens *s, int V);
/* Cross-entropy in nats of ids[0..n) under p: -(1/n) sum log p[ids[i]]. */
double gd_text_xent(const double *p, const int *ids, long n);

#endif

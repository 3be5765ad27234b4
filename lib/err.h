/* err.h -- the library's one error convention.
 *
 * A function that fails on its input returns -1 or NULL and calls gd_seterr() with a
 * short reason ("train-labels-idx1-ubyte.gz: truncated: expected 60008 bytes, got 100").
 * The caller reads it with gd_error() and reports it; the library never prints or
 * exits. The reason is kept per thread, so parallel workers do not overwrite each other.
 * It is always one line: control characters in it (a newline in a user's spec) are
 * written as \n, \t or \xHH, and a reason over 500 characters is cut, ending in "...".
 */
#ifndef GD_ERR_H
#define GD_ERR_H

#if defined(__GNUC__)
#define GD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GD_PRINTF(a, b)
#endif

/* The reason for the last failure in this thread ("" if none). */
const char *gd_error(void);
/* Set the reason (printf-style); returns -1 so that `return gd_seterr(...)` reads well. */
int gd_seterr(const char *fmt, ...) GD_PRINTF(1, 2);

#endif

/* out.h -- tables any tool can read, written so that a crash never loses the old one.
 *
 * A table is plain text: comment lines starting with '#' that record how it was made
 * (program, seed, settings), then one header line naming the columns, then rows.
 * Separator: a tab (.tsv) or a comma (.csv), chosen from the file name. Blank lines
 * separate blocks (gnuplot's `index`/`every`); pandas (comment='#'), R and gnuplot
 * read it as it is.
 *
 *   gd_table *t = gd_table_open("build/ch01/rate.tsv", "eta rate theory");
 *   gd_table_meta(t, "seed", "%llu", seed);
 *   gd_table_row(t, "%g %.6f %.6f", eta, rate, theory);   // spaces become separators
 *   if (gd_table_close(t) != 0) die(gd_error());
 *
 * Everything goes to PATH.tmp.PID; gd_table_close flushes, fsyncs and renames it over
 * PATH, so an interrupted run leaves the previous file intact. gd_table_abort removes
 * the temporary file. Rows are stored in the order written: same run, same bytes.
 * Where the path leads is decided by the one policy of every writer in the book
 * (gd_atomic_open below).
 * A numbers table (columns "key value") starts with "# blas: OpenBLAS 0.3.21 Haswell"
 * (gd_blas_info): the arithmetic that wrote its values.
 */
#ifndef GD_OUT_H
#define GD_OUT_H

#include "err.h"

#include <stddef.h>
#include <stdio.h>

/* WHOLE FILES, ATOMICALLY: the policy of every file the book's programs write (tables,
 * checkpoints, sweeps, the chapters' text, generated samples).
 *   - "-" is standard output.
 *   - A missing path or a regular file: the data go to PATH.tmp.PID, which is flushed,
 *     fsynced and renamed over PATH, and the directory is synced; a crash, a kill or a
 *     full disk at any moment leaves either the old file or the new one, never a mix.
 *     Missing parent directories are created.
 *   - A symbolic link is followed: the file it points to is replaced (next to it, by
 *     the same rename) and the link stays a link. A link that leads nowhere is refused.
 *   - An existing character device or FIFO (/dev/null, /dev/stdout, /dev/full, a pipe)
 *     is written in place: there is no old content to keep, and renaming over it would
 *     replace the device with a regular file. A write error (ENOSPC on /dev/full) is
 *     reported by commit.
 *   - A directory, a block device or a socket is refused: never replaced, never written.
 *   - Opening removes PATH.tmp.N files left by writers that were killed (N is a process
 *     that no longer exists), so interrupted runs leave no litter behind.
 *
 *   gd_atomic a;
 *   if (gd_atomic_open(&a, path) != 0) return -1;      // reason in gd_error()
 *   fwrite(buf, 1, n, a.f);
 *   if (gd_atomic_commit(&a) != 0) return -1;          // PATH now holds all of it
 */
typedef struct gd_atomic {
    FILE *f;        /* write here */
    char *path;     /* the file being replaced (a symlink resolved), or the device */
    char *tmp;      /* PATH.tmp.PID; NULL when writing in place */
    int direct;     /* 1: writing in place (stdout, a character device, a FIFO) */
} gd_atomic;

/* 0 with a->f open for writing ("wb"), or -1 (gd_error) when the path is refused or the
 * temporary file cannot be created. */
int gd_atomic_open(gd_atomic *a, const char *path);
/* Flush, fsync, close and rename into place (or flush a device). 0, or -1 with the
 * reason; on failure the temporary file is removed and the old file is untouched. */
int gd_atomic_commit(gd_atomic *a);
/* Give up: close and remove the temporary file; the old file stays as it was. */
void gd_atomic_abort(gd_atomic *a);
/* open + write n bytes + commit. 0, or -1 (gd_error). */
int gd_write_file(const char *path, const void *buf, size_t n);

/* Before any work: would writing path succeed as far as can be told without writing?
 * (the policy accepts it, and the nearest existing directory above it lets us create
 * files: tried with a probe file or directory, removed at once). Creates nothing that
 * stays. 0, or -1 with a one-line reason. cli.h's GD_OPT_OUT calls
 * it for every output option. */
int gd_out_check(const char *path);
/* The same for a directory the program will create files in (GD_OPT_OUTDIR). */
int gd_out_check_dir(const char *dir);

typedef struct gd_table gd_table;

/* columns: names separated by spaces. NULL (reason in gd_error) if the temporary file
 * cannot be created. Creates missing parent directories. */
gd_table *gd_table_open(const char *path, const char *columns);
/* Add "# key: value" before the header. Only before the first row. */
void gd_table_meta(gd_table *t, const char *key, const char *fmt, ...) GD_PRINTF(3, 4);
/* Record how the table was made, for results that are committed (experiments/): a
 * "# command: PROG ARGS" line (the program's name, not its path, and the arguments
 * given to gd_cli_parse, each quoted for sh when it needs it) and "# blas: ..." (the
 * arithmetic). Only before the first row. */
void gd_table_provenance(gd_table *t);
/* Write one row: printf-style; each run of spaces in the result becomes one separator. */
void gd_table_row(gd_table *t, const char *fmt, ...) GD_PRINTF(2, 3);
/* For a two-column `key value` table (the numbers a chapter quotes): write key, a
 * separator, and the formatted value verbatim, spaces kept; a newline in the value is
 * written as the two characters \n so that every entry stays on one line. */
void gd_table_kv(gd_table *t, const char *key, const char *fmt, ...) GD_PRINTF(3, 4);
/* Start a new block (a blank line). */
void gd_table_block(gd_table *t);
/* Finish: flush, fsync, rename over the final path. 0, or -1 with the reason. */
int gd_table_close(gd_table *t);
/* Give up: remove the temporary file, keep whatever was at the path before. */
void gd_table_abort(gd_table *t);

/* printf into a new heap string of the length it needs (paths and specs in it are the
 * user's, of any length): the caller frees it. NULL if out of memory. */
char *gd_aprintf(const char *fmt, ...) GD_PRINTF(1, 2);

/* Create the parent directories of path (like mkdir -p "$(dirname path)"). */
int gd_mkdirs_for(const char *path);

#endif

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
 * A numbers table (columns "key value") starts with "# blas: OpenBLAS 0.3.21 Haswell"
 * (gd_blas_info): the arithmetic that wrote its values.
 * PATH "-" is standard output, and an existing device or FIFO (/dev/stdout) is written
 * in place: there is nothing to keep intact, and renaming over it would replace it.
 */
#ifndef GD_OUT_H
#define GD_OUT_H

#include "err.h"

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

/* Create the parent directories of path (like mkdir -p "$(dirname path)"). */
int gd_mkdirs_for(const char *path);

#endif

/* fuzz_sweep.c -- the sweep table reader (sweep.h): the grid from a table's '#' lines
 * (gd_sweep_from_header, what `sweep merge` and resuming trust) and the rows
 * (gd_sweep_rows_add_text, which gd_sweep_rows_read and gd_sweep_merge use).
 *
 * Input: a table file's bytes.
 * Checked: a refusal gives one printable line. An accepted header gives a grid of at
 * most GD_SWEEP_MAX_POINTS points whose own header (gd_sweep_header) reads back to a
 * grid with the same header, byte for byte. Then the rows (grids of up to 2^20 points:
 * the harness does not allocate the row table of a larger one): accepted rows are at
 * most one per point, each is exactly what gd_sweep_format_row writes for what
 * gd_sweep_parse_row reads from it, and counts add up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sweep.h"

int gd_fuzz_sweep(const uint8_t *data, size_t size) {
    if (size > 1 << 20) return 0;
    /* GD_FUZZ_SWEEP_SKIP_NUL=1 skips inputs with a NUL byte: to look for other defects
     * while the one of fuzz/regress/sweep/nul-in-row is not fixed */
    static int skip_nul = -1;
    if (skip_nul < 0) skip_nul = getenv("GD_FUZZ_SWEEP_SKIP_NUL") != NULL;
    if (skip_nul && memchr(data, '\0', size)) return 0;
    char *text = gd_fuzz_strdup(data, size);
    if (!text) return 0;
    gd_sweep sw;
    gd_fuzz_clear_error();
    if (gd_sweep_from_header(&sw, text) != 0) {
        gd_fuzz_check_error("sweep", "gd_sweep_from_header");
        gd_sweep_free(&sw);
        free(text);
        return 0;
    }
    long np = gd_sweep_npoints(&sw);
    if (np < 1 || np > GD_SWEEP_MAX_POINTS) gd_fuzz_fail("sweep", "accepted a grid of an impossible size", NULL);

    /* the header it writes reads back to the same grid */
    char *H = gd_sweep_header(&sw);
    if (!H) gd_fuzz_fail("sweep", "gd_sweep_header", gd_error());
    gd_sweep sw2;
    if (gd_sweep_from_header(&sw2, H) != 0) gd_fuzz_fail("sweep", "its own header refused", gd_error());
    char *H2 = gd_sweep_header(&sw2);
    if (!H2 || strcmp(H, H2) != 0) gd_fuzz_fail("sweep", "its own header reads back to another grid", H);
    free(H2);
    gd_sweep_free(&sw2);

    /* the rows */
    if (np <= 1L << 20) {
        gd_sweep_rows rows;
        if (gd_sweep_rows_init(&rows, &sw) != 0) gd_fuzz_fail("sweep", "gd_sweep_rows_init", gd_error());
        gd_fuzz_clear_error();
        if (gd_sweep_rows_add_text(&rows, &sw, text, size, "table.tsv") != 0)
            gd_fuzz_check_error("sweep", "gd_sweep_rows_add_text");
        else {
            long present = 0;
            for (long id = 0; id < rows.npoints; id++) {
                const char *row = rows.row[id];
                if (!row) continue;
                present++;
                size_t n = strlen(row);
                if (n == 0 || row[n - 1] != '\n') gd_fuzz_fail("sweep", "a row without its newline", NULL);
                char *line = strdup(row), buf[16384];
                if (!line) gd_fuzz_fail("sweep", "out of memory", NULL);
                line[n - 1] = '\0';
                gd_sweep_result r;
                if (gd_sweep_parse_row(&sw, line, &r) != 0) gd_fuzz_fail("sweep", "a kept row does not parse", line);
                if (r.id != id) gd_fuzz_fail("sweep", "a row kept under another id", line);
                int len = gd_sweep_format_row(&sw, &r, buf, sizeof buf);
                if (len < 0 || (size_t)len != n || memcmp(buf, row, n) != 0)
                    gd_fuzz_fail("sweep", "a row is not what gd_sweep_format_row writes for it", line);
                free(line);
            }
            if (present != rows.n) gd_fuzz_fail("sweep", "rows.n is not the number of rows kept", NULL);
            if (rows.bad < 0 || rows.conflicts < 0 || (rows.bad > 0) != (rows.first_bad > 0) ||
                (rows.conflicts > 0) != (rows.first_conflict >= 0))
                gd_fuzz_fail("sweep", "inconsistent counts of bad or conflicting lines", NULL);
        }
        gd_sweep_rows_free(&rows);
    }
    free(H);
    gd_sweep_free(&sw);
    free(text);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_sweep(data, size); }
#endif

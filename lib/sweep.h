/* sweep.h -- a grid of independent training runs, lr x optimizer x schedule x seed, run
 * on every core, one row per run appended to one table, resumable, and sharded for
 * other engines (GNU parallel, Slurm) to scale out.
 *
 * THE GRID. Four axes, each given as text (the program's options):
 *   lr     "0.01,0.1" or "1e-5:1:4" (from 1e-5 to 1, 4 points per decade, log-spaced,
 *          rounded to 3 significant digits) or both, comma-separated; sorted ascending.
 *   optim  optimizer specs of optim.h separated by ';' ("sgd:momentum=0.9;adam"); the
 *          grid sets their lr, so a spec must not have one.
 *   sched  schedule specs of sched.h separated by ';' ("constant;cosine:T=400").
 *   seeds  "3" (seeds 0, 1, 2), or a list of seeds and ranges "0,5,7:9"; "7:7" is seed 7.
 * Training settings are the same at every point: model, epochs, batch size, training
 * subset, held-out validation images, divergence factor (the fields of gd_sweep).
 *
 * POINTS. The points are numbered 0..npoints-1 by
 *     id = ((optim * n_sched + sched) * n_lr + lr) * n_seeds + seed
 * so a table sorted by id lists each optimizer and schedule as a curve over lr. A point's
 * seed is its own seed value: it fixes the initial weights and the data order, and it is
 * the same for every lr, optimizer and schedule (common random numbers: two lrs with
 * seed 0 start from the same weights, so their difference is not initialisation noise).
 * Nothing about a point depends on which worker, shard or machine runs it.
 * Shard K of N (0 <= K < N) is the points with id % N == K.
 *
 * THE TABLE (TSV, as out.h: '#' lines saying how it was made, a header line, rows):
 *   id lr optim sched seed status diverged_at train_loss val_loss val_acc steps
 * status is ok or diverged; diverged_at is the step at which the run was stopped as
 * diverged, -1 if it was not. Wall time is not in the table (it is not deterministic);
 * it is reported on the way (gd_sweep_event). The '#' lines record the whole grid and
 * the settings, and a table only accepts rows of its own grid: any set of tables of one
 * grid merges into the table a single run would write, byte for byte.
 *
 * Rows are appended by the worker that ran the point, with O_APPEND, one write() per
 * row and an fsync, so concurrent workers never interleave partial lines and a crash
 * loses at most the points that were running. Opening an existing table resumes it:
 * rows already there are skipped; malformed lines (a torn last line) are ignored. At
 * the end the table is rewritten (temporary file, fsync, rename) with its rows sorted
 * by id. One process at a time owns a table (flock); a second one gets an error.
 *
 *   gd_sweep sw;
 *   gd_sweep_init(&sw);                                  // default settings, empty grid
 *   if (gd_sweep_set_lr(&sw, "1e-4:1:4") || gd_sweep_set_optim(&sw, "sgd;adam") ||
 *       gd_sweep_set_sched(&sw, "constant") || gd_sweep_set_seeds(&sw, "2")) die(gd_error());
 *   gd_sweep_table t;
 *   if (gd_sweep_table_open(&t, &sw, "build/sweep.tsv") != 0) die(gd_error());
 *   gd_sweep_data d;                                     // images split into train/val
 *   gd_sweep_data_init(&d, &sw, &train_images);
 *   gd_sweep_run_cfg rc = {.workers = 2, .shard_n = 1, .progress = print, .ctx = NULL};
 *   gd_sweep_summary sum;
 *   gd_sweep_run(&t, &d, &rc, &sum);                     // forks workers; skips done ids
 *   gd_sweep_table_close(&t);                            // sorted rewrite, unlock
 *   gd_sweep_data_free(&d); gd_sweep_free(&sw);
 *
 * OTHER MODELS. A caller that trains something else (tools/lrtune.c: a GPT, a quadratic)
 * sets sw.task (gd_sweep_set_task: one line saying what is trained, recorded as
 * "# task: ...") and, after gd_sweep_table_open, t.run_point and t.point_ctx: each
 * worker then calls run_point for its point. Everything else (ids, shards, resuming,
 * merging) is the same.
 *
 * Errors as everywhere in gd: -1 (or NULL) and a one-line reason in gd_error().
 * Ownership: gd_sweep_init/_free, gd_sweep_table_open/_close (or _abort),
 * gd_sweep_data_init/_free, gd_sweep_rows_init/_free come in pairs. The library never
 * prints: progress reaches the caller through gd_sweep_run_cfg.progress.
 */
#ifndef GD_SWEEP_H
#define GD_SWEEP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "data.h"
#include "err.h"
#include "train.h"

#define GD_SWEEP_MAX_POINTS 10000000L  /* a grid larger than this is rejected */
#define GD_SWEEP_MAX_COUNT 100000000L  /* batch_size, train_subset, val: at most this (they become ints) */
#define GD_SWEEP_MAX_EPOCHS 1e6        /* epochs: at most this */
#define GD_SWEEP_SPLIT_SEED 0          /* which training images are held out */
#define GD_SWEEP_COLUMNS "id lr optim sched seed status diverged_at train_loss val_loss val_acc steps"

typedef struct gd_sweep {
    /* the grid, each axis in id order */
    int n_lr, n_optim, n_sched, n_seeds;
    double *lr;           /* (n_lr) ascending */
    char **lr_text;       /* (n_lr) how each lr is written, in the table and in the spec */
    char **optim;         /* (n_optim) specs without lr */
    char **sched;         /* (n_sched) */
    uint64_t *seeds;      /* (n_seeds) ascending */
    /* training settings, the same at every point */
    int nlayers;
    int dims[GD_TRAIN_MAXLAYERS + 1];   /* default 784-128-10 */
    double epochs;        /* 1 */
    long batch_size;      /* 128 */
    long train_subset;    /* train on this many of the images not held out (0: all) */
    long n_val;           /* held-out training images, evaluated at the end (10000) */
    double diverge_factor;/* 10: see train.h */
    char *task;           /* NULL: the MLP above. Otherwise what a caller's own point runner
                             trains (gd_sweep_table.run_point), one line recorded in the
                             table as "# task: ..." (after "# program:"), so that a table of
                             one task never accepts rows of another. tools/lrtune.c uses it. */
} gd_sweep;

void gd_sweep_init(gd_sweep *sw);
void gd_sweep_free(gd_sweep *sw);
/* Set one axis from its text (grammar above), replacing what was there. -1 with a reason
 * quoting the bad item: empty ranges and lists, lr <= 0 or not finite, points per decade
 * not a whole number >= 1, duplicates, specs that do not parse or that set lr, ... */
int gd_sweep_set_lr(gd_sweep *sw, const char *text);
int gd_sweep_set_optim(gd_sweep *sw, const char *text);
int gd_sweep_set_sched(gd_sweep *sw, const char *text);
int gd_sweep_set_seeds(gd_sweep *sw, const char *text);
/* The task line (see gd_sweep.task): one line of text, no newline; NULL clears it. */
int gd_sweep_set_task(gd_sweep *sw, const char *task);
/* "784-128-10": 784 inputs (28x28 pixels), 10 outputs (classes). */
int gd_sweep_set_model(gd_sweep *sw, const char *dims);
/* Every axis set and every setting in range; 0 or -1. */
int gd_sweep_check(const gd_sweep *sw);
long gd_sweep_npoints(const gd_sweep *sw);

/* One point of the grid; the strings belong to the sweep. */
typedef struct gd_sweep_point {
    long id;
    int i_lr, i_optim, i_sched, i_seed;
    double lr;
    const char *lr_text, *optim, *sched;
    uint64_t seed;
} gd_sweep_point;

void gd_sweep_point_get(const gd_sweep *sw, long id, gd_sweep_point *p);
/* The optimizer spec a point trains with: its optim spec with ":lr=LR" added. Its
 * length, or -1 (with a reason) if it does not fit in size: never a spec cut short.
 * Specs are at most 2000 characters (gd_sweep_set_optim refuses longer ones). */
int gd_sweep_point_optim(const gd_sweep_point *p, char *buf, size_t size);

/* "K/N" with 0 <= K < N; -1 with a reason otherwise. */
int gd_sweep_parse_shard(const char *text, long *k, long *n);
static inline int gd_sweep_in_shard(long id, long k, long n) { return id % n == k; }

/* The table's '#' lines and header line for this grid (malloc'd; the caller frees). */
char *gd_sweep_header(const gd_sweep *sw);
/* The inverse: the grid and settings recorded in a table's '#' lines (a freshly
 * initialised sw). gd_sweep_header of the result gives the same text. */
int gd_sweep_from_header(gd_sweep *sw, const char *text);

/* What a point's run gave: one row of the table. */
typedef struct gd_sweep_result {
    long id;
    long diverged_at;     /* -1: did not diverge */
    double train_loss;    /* mean over the last logged window: steps/10 updates, 1 to 50 */
    double val_loss, val_acc; /* on the held-out images after the last update; NaN if diverged */
    long steps;           /* updates made */
    double seconds;       /* wall time: reported, never written to the table */
} gd_sweep_result;

/* The row of r, '\n'-terminated: the only way rows are written. Returns its length, or
 * -1 if it does not fit in size. */
int gd_sweep_format_row(const gd_sweep *sw, const gd_sweep_result *r, char *buf, size_t size);
/* Parse one line (without '\n'): 0 only if it is exactly what gd_sweep_format_row writes
 * for a point of this grid; otherwise -1 with the reason. */
int gd_sweep_parse_row(const gd_sweep *sw, const char *line, gd_sweep_result *r);

/* The rows of a table, by id. */
typedef struct gd_sweep_rows {
    long npoints;
    char **row;           /* (npoints) the row's line with its '\n', or NULL: not done */
    long n;               /* rows present */
    long bad;             /* malformed lines ignored */
    long first_bad;       /* line number of the first one (1-based), 0 if none */
    long conflicts;       /* ids found twice with different rows (the first is kept) */
    long first_conflict;  /* the first such id, -1 if none */
} gd_sweep_rows;

int gd_sweep_rows_init(gd_sweep_rows *rows, const gd_sweep *sw);
void gd_sweep_rows_free(gd_sweep_rows *rows);
/* Add the rows of a table's text (header first) to rows. -1 if the text is not a table
 * of this grid (the reason names the first '#' line that differs). */
int gd_sweep_rows_add_text(gd_sweep_rows *rows, const gd_sweep *sw, const char *text, size_t len,
                           const char *name);
/* Read a table file into rows (as gd_sweep_rows_add_text). */
int gd_sweep_rows_read(gd_sweep_rows *rows, const gd_sweep *sw, const char *path);
/* Write header and the rows present, sorted by id: PATH.tmp.PID, fsync, rename. "-" is
 * standard output. */
int gd_sweep_rows_write(const gd_sweep_rows *rows, const gd_sweep *sw, const char *path);

/* Merge tables of one grid into out: the union of their rows, sorted by id. The grid is
 * the one recorded in the first table; the others must have the same header. An id
 * present in two tables with different rows is an error (the runs were not
 * deterministic: a different machine or library?). *missing: points in none of them.
 * 0, or -1 with the reason (nothing is written then). */
int gd_sweep_merge(const char *out, char *const *in, int n_in, long *missing, long *npoints);

/* A table being filled: open (create or resume), append rows, close (sorted rewrite). */
typedef struct gd_sweep_table {
    const gd_sweep *sw;
    char *path;
    int fd;               /* O_APPEND, flock'ed; inherited by the workers */
    int created;          /* 1: this open made the file; 2: it wrote the header into an empty one */
    int refused;          /* after a failed open: 1 if the path is not a table this sweep may
                             use (a table of another grid, not a sweep table, cut short, not a
                             regular file, .csv, -): the user's input (programs exit 2); 0 for
                             a failure while opening (in use, I/O: exit 1) */
    gd_sweep_rows done;   /* the rows there were when it was opened */
    /* NULL (as opened): each worker of gd_sweep_run trains its point with
     * gd_sweep_run_point (the MLP). Set after opening, for a sweep with a task: the
     * worker calls run_point(sw, id, r, point_ctx) instead, which fills r (diverged_at,
     * train_loss, val_loss, val_acc, steps) and returns 0, or -1 with a reason in
     * gd_error(); gd_sweep_run's d may then be NULL. */
    int (*run_point)(const gd_sweep *sw, long id, gd_sweep_result *r, void *point_ctx);
    void *point_ctx;
} gd_sweep_table;

/* Create path (header only), or resume it if it exists: it must be a table of the same
 * grid and settings, else -1 naming the first difference. An empty file counts as new.
 * -1 as well if another process has it open (after waiting up to 2 s). A symlink is
 * followed (the table is its target, t->path; the link stays); anything but a regular
 * file (a device, a FIFO, a directory, a link that leads nowhere) is refused. Creating
 * removes PATH.tmp.N files of killed writers (out.h). */
int gd_sweep_table_open(gd_sweep_table *t, const gd_sweep *sw, const char *path);
/* Append r's row: one write() of the whole line, then fsync. Safe from many processes. */
int gd_sweep_table_append(gd_sweep_table *t, const gd_sweep_result *r);
/* Re-read the table, rewrite it sorted by id without malformed lines, and release it.
 * 0, or -1 (the table is released and left as it was). */
int gd_sweep_table_close(gd_sweep_table *t);
/* Release the table as it is (no rewrite); if this open created it and it still has no
 * rows, remove it: a command that fails before running anything leaves nothing behind. */
void gd_sweep_table_abort(gd_sweep_table *t);

/* The images a sweep trains on: a fixed split of the training set (GD_SWEEP_SPLIT_SEED)
 * into n_val held-out images and the rest, of which the first train_subset are used. */
typedef struct gd_sweep_data {
    const gd_images *images;
    int *train_idx, n_train;
    int *val_idx, n_val;
} gd_sweep_data;

int gd_sweep_data_init(gd_sweep_data *d, const gd_sweep *sw, const gd_images *images);
void gd_sweep_data_free(gd_sweep_data *d);

/* Train point id in this process (the trainer of train.h; its progress lines go to
 * stderr) and fill r. Divergence is a result (r->diverged_at), not an error. */
int gd_sweep_run_point(const gd_sweep *sw, const gd_sweep_data *d, long id, gd_sweep_result *r);

/* What gd_sweep_run reports after each point. */
typedef struct gd_sweep_event {
    int tick;             /* 1: no point finished, this is the call made about once a second
                             so that a status line can show the time; only the counts count */
    gd_sweep_point point;
    int failed;           /* 1: the point did not finish (error says why); 0: r is its row */
    gd_sweep_result r;
    const char *error;
    long done, todo;      /* points finished (or failed) in this run, and to do in it */
    long diverged, failures;  /* so far in this run */
    double elapsed;       /* seconds since the run started */
} gd_sweep_event;

typedef struct gd_sweep_run_cfg {
    int workers;          /* processes running points at once (>= 1) */
    long shard_k, shard_n;/* run only shard K of N (N = 1 or 0: every point) */
    void (*progress)(const gd_sweep_event *ev, void *ctx);   /* may be NULL */
    void *ctx;
    volatile sig_atomic_t *stop; /* when it becomes non-zero (a signal handler), running
                                    points are terminated and no more are started */
} gd_sweep_run_cfg;

typedef struct gd_sweep_summary {
    long total;           /* points in the shard */
    long skipped;         /* already in the table */
    long ran, diverged, failed;   /* in this run */
    int interrupted;      /* stopped through cfg->stop */
    double seconds;
} gd_sweep_summary;

/* Run every point of the shard that is not yet in the table, each in its own fork()ed
 * process (one BLAS thread, stderr to /dev/null, killed if this process dies), at most
 * cfg->workers at a time; each worker appends its row itself. 0 when every point ran
 * (diverged or not) -- including when none was left; -1 if some failed or the run was
 * stopped (summary says which), or on a system error. */
int gd_sweep_run(gd_sweep_table *t, const gd_sweep_data *d, const gd_sweep_run_cfg *cfg, gd_sweep_summary *sum);

/* Cores this process may run on (sched_getaffinity; respects Slurm and taskset). */
int gd_sweep_cores(void);

#endif

/* ckpt.h -- checkpoints: a training run saved to disk and resumed exactly.
 *
 * A checkpoint holds everything a gd_trainer needs to continue as if it had never
 * stopped: the model's parameters, the optimizer's kind and state (moments, step
 * counts, each group's hyperparameters), the schedule (its canonical spec and its
 * plateau state), the data order (this epoch's permutation, the position in it, the
 * epoch and the step), the data-order RNG, and the best metric seen so far. Training N
 * steps straight and training k steps, saving, loading into a fresh trainer and
 * training N - k more give bitwise identical parameters.
 *
 *   // save every 500 steps, keep the last 3 and the best by validation loss
 *   if (tr->step % 500 == 0 &&
 *       gd_ckpt_dir_save("build/ch07/run", tr, val_loss, GD_CKPT_MIN, 3, NULL) != 0)
 *       die(gd_error());
 *
 *   // resume: a trainer built from the same config, then the newest good checkpoint
 *   gd_trainer *tr = gd_trainer_new(&cfg);
 *   char path[4096];
 *   gd_ckpt_info info;
 *   int rc = gd_ckpt_dir_latest("build/ch07/run", path, sizeof path, &info);
 *   if (rc < 0) die(gd_error());                        // the directory cannot be read
 *   if (rc == 0 && gd_ckpt_load(tr, path, &best) != 0) die(gd_error());
 *   // rc == 1: nothing to resume from (gd_error() says why, e.g. which files were bad)
 *
 * Loading is for a trainer built with the same config: the same model (the MLP's layer
 * sizes and activation, or LeNet's activation and pooling), optimizer kind, schedule (canonical spec and sched_per_epoch), batch size
 * and training set (the same indices, in any order). Anything else is refused, and so
 * is any damage: a file truncated at any length, any flipped bit, a wrong magic or
 * version. A refused load changes nothing in the trainer.
 *
 * Writing is crash-safe, by out.h's policy for every file the book writes
 * (gd_write_file): the bytes go to PATH.tmp.PID, which is fsynced, renamed over PATH,
 * and the directory fsynced; a crash (SIGKILL, power loss) at any moment leaves either
 * the old file or the new one at PATH, never a mixture. A failed write leaves the old
 * file untouched and removes the temporary one. A symlink is followed (the file it
 * points to is replaced, the link stays); a character device or FIFO (--final
 * /dev/null) is written in place; a directory is refused.
 *
 * THE FORMAT (versions 1 and 2). Every field is little-endian and fixed-width; floats are
 * IEEE-754 bit patterns (f32 parameters, f64 metrics), so a save/load round trip is
 * bitwise.
 *
 *   header   8 bytes  magic "GDCKPT\0\0"
 *            u32      version (1: the MLP; 2: a model kind first in MODL)
 *            u32      flags (0)
 *            u64      payload length P
 *   payload  P bytes  sections, in this order, each: 4-byte tag, u64 length, body
 *     "MODL"   u32 nlayers, u32 act (0 relu, 1 tanh), u32 dims[nlayers + 1],
 *              u32 nparams, then per parameter: u32 ndim, u32 shape[ndim],
 *              f32 values[product of shape]   (weight (out, in), bias (out), ...)
 *              In version 2, MODL starts with u32 kind: 0 (the MLP, then the body
 *              above) or 1 (LeNet, lenet.h: then u32 act (0 sigmoid, 1 relu), u32 pool
 *              (0 avg, 1 max), u32 nparams (10), and per parameter u32 ndim, u32
 *              shape[ndim], f32 values, in the order of lenet.h: "0.weight" (6, 1, 5,
 *              5), "0.bias", ..., "11.bias"; the init is not recorded, the values are).
 *     "OPTM"   u32 kind (gd_optim_kind), u64 n, n bytes of gd_optim_state_write
 *     "SCHD"   u32 present (0: constant lr), u32 per_epoch, u32 n, n bytes of the
 *              canonical spec (gd_sched_format, no NUL), u64 m, m bytes of
 *              gd_sched_state_write
 *     "DATA"   u32 batch_size, u32 n_train, u32 pos, i64 epoch, i64 step,
 *              f64 lr_scale                   (the trainer's; back-offs so far)
 *              i32 order[n_train]             (this epoch's permutation)
 *     "RNG "   u64 s[4], u32 has_spare, f64 spare      (gd_rng, the data order's)
 *     "METR"   f64 best_metric                (NaN: none yet)
 *   trailer  u32      CRC-32 (zlib's crc32) of every byte before it, header included
 *
 * The MLP's checkpoints are written as version 1, byte for byte what they were before
 * version 2 existed, so every older checkpoint and every older reader still agree;
 * LeNet's are written as version 2, which an older reader refuses by its version.
 *
 * The optimizer's and the schedule's state are stored as the bytes their own modules
 * write (optim.h, sched.h); those modules check them again when they are read.
 *
 * THE DIRECTORY. gd_ckpt_dir_save writes DIR/ckpt-STEP.bin (STEP zero-padded to 8
 * digits) and, when the metric beats best.bin's, DIR/best.bin too (the same bytes), each
 * through its own temporary file and rename (gd_write_file). Only then
 * does it delete what is no longer wanted: all but the newest keep_last ckpt-*.bin
 * files, checkpoints of later steps than this one (they belong to a run that was
 * abandoned by resuming from an earlier checkpoint, say after a loss spike), and
 * temporary files left by writers that were killed; never a damaged checkpoint (see
 * DAMAGE). So once a checkpoint has been saved, the directory always holds a loadable
 * one. best.bin is the best ever saved in the directory, even by an abandoned run;
 * every checkpoint records the best metric so far (gd_ckpt_load gives it back), so
 * early stopping resumes too. One writer per directory.
 *
 * DAMAGE. A checkpoint that gd_ckpt_check refuses (a flipped bit, a truncation, a wrong
 * version...) is never deleted and never written over. It stays where it is: the
 * clean-up above keeps it (it still counts among the keep_last newest). Only when a new
 * file must take its name -- a save of the same step, after a resume or a back-off went
 * back past it, or a new best.bin -- is it renamed first, to NAME.damaged (or
 * NAME.damaged.2, ...), so that none of its bytes is lost; gd_ckpt_dir_set_aside() then
 * says so. Resuming says what it passed over: gd_ckpt_dir_find names the damaged files
 * newer than the one it picks (the caller reports them; see monitor.h, gd_fit).
 *
 * Error convention (err.h): functions return 0, or -1 with one line in gd_error() naming
 * the file and what is wrong; they never print and never exit.
 */
#ifndef GD_CKPT_H
#define GD_CKPT_H

#include <stddef.h>
#include "train.h"

#define GD_CKPT_VERSION 2          /* the newest this library reads and writes (LeNet's) */
enum { GD_CKPT_MLP = 0, GD_CKPT_LENET = 1 };   /* MODL's model kind (version 2) */

typedef enum { GD_CKPT_MIN, GD_CKPT_MAX } gd_ckpt_mode;   /* lower or higher metric is better */

/* What a checkpoint says about itself, read without a trainer. */
typedef struct gd_ckpt_info {
    long step, epoch;
    double best_metric;                  /* NaN: none */
    int model;                           /* GD_CKPT_MLP or GD_CKPT_LENET */
    int nlayers;                         /* the MLP's (0 for LeNet) */
    int dims[GD_TRAIN_MAXLAYERS + 1];
    size_t numel;                        /* scalar parameters */
    size_t bytes;                        /* size of the file */
} gd_ckpt_info;

/* Write the trainer's whole state to path, crash-safely. best_metric is stored as it is
 * (NaN for none) and given back by gd_ckpt_load. */
int gd_ckpt_save(const gd_trainer *tr, const char *path, double best_metric);

/* Restore the trainer's state from path. tr must have been built with the same config
 * (see above); on any failure it is left unchanged. best_metric may be NULL. */
int gd_ckpt_load(gd_trainer *tr, const char *path, double *best_metric);

/* Check a file completely (magic, version, length, CRC, every section well formed)
 * without a trainer; fill info (may be NULL). */
int gd_ckpt_check(const char *path, gd_ckpt_info *info);

/* Save the trainer as DIR/ckpt-STEP.bin (STEP = tr->step), and as DIR/best.bin too if
 * metric beats the best.bin's (lower for GD_CKPT_MIN, higher for GD_CKPT_MAX; a NaN
 * metric never does; a missing or damaged best.bin is beaten by any number, a damaged
 * one being renamed aside first: DAMAGE). Keeps the newest keep_last ckpt-*.bin files
 * (keep_last <= 0: all); see THE DIRECTORY above.
 * Creates DIR if needed. *is_best (may be NULL) tells whether best.bin was replaced. */
int gd_ckpt_dir_save(const char *dir, const gd_trainer *tr, double metric, gd_ckpt_mode mode,
                     int keep_last, int *is_best);

/* Where to resume: the ckpt-*.bin with the highest step that passes gd_ckpt_check
 * (damaged ones are skipped), or best.bin if none does. Returns 0 with its path in
 * path[0..size) and its info (may be NULL); 1 if there is none (a missing or empty
 * directory, or only damaged files: gd_error() then says how many and why the first was
 * refused); -1 if the directory cannot be read. */
int gd_ckpt_dir_latest(const char *dir, char *path, size_t size, gd_ckpt_info *info);

/* What gd_ckpt_dir_find found, for a caller that reports what it passed over. */
typedef struct gd_ckpt_found {
    char *path;                      /* where to resume (gd_ckpt_dir_latest's pick), malloc'd; NULL: none */
    gd_ckpt_info info;               /* its info, when path is set */
    int from_best;                   /* path is best.bin: no ckpt-*.bin passed the check */
    int missing;                     /* the directory does not exist */
    int nfiles;                      /* ckpt-*.bin files and best.bin seen */
    int ndamaged;                    /* damaged files passed over: newer than path, or all (path NULL) */
    char damaged[1024];              /* the first three: "NAME: REASON; NAME: REASON" (NAME without DIR/) */
    int best_damaged;                /* best.bin exists and is damaged (checked even when path is set) */
    char best_why[512];              /* its reason */
} gd_ckpt_found;

/* gd_ckpt_dir_latest's search, with everything it saw: 0 (f->path NULL when nothing is
 * loadable, or the directory is missing or empty), or -1 if the directory cannot be
 * read. gd_ckpt_found_free frees f->path. */
int gd_ckpt_dir_find(const char *dir, gd_ckpt_found *f);
void gd_ckpt_found_free(gd_ckpt_found *f);

/* One line naming the damaged files the last gd_ckpt_dir_save (in this thread) renamed
 * aside and why ("DIR/ckpt-00000050.bin was damaged (...): kept as
 * ckpt-00000050.bin.damaged"); "" if it renamed none. */
const char *gd_ckpt_dir_set_aside(void);

#endif

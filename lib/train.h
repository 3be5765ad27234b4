/* train.h -- one training run of an MLP classifier, the loop every chapter shares.
 *
 * A trainer owns a model (gd_mlp), an optimizer and a schedule built from text specs,
 * and walks the training images in minibatches, reshuffled every epoch from the seed.
 * Chapters that only need curves call gd_trainer_run; chapters that do something
 * between steps (a range test, backing off on a spike) drive gd_trainer_step and
 * gd_trainer_eval themselves.
 *
 *   gd_train_cfg cfg = gd_train_defaults();          // 784-128-10, SGD lr 0.1, batch 128
 *   cfg.train = &train; cfg.val = &test;             // data sets (gd_images) ...
 *   cfg.optim = "sgd:lr=0.1:momentum=0.9";           // ... and specs (optim.h, sched.h)
 *   cfg.sched = "warmup:T=200,cosine:T=4490";
 *   gd_trainer *tr = gd_trainer_new(&cfg);
 *   if (!tr) die(gd_error());                        // a bad spec or size: one line
 *   gd_train_log log;
 *   gd_trainer_run(tr, &log);                        // log.rows: step, lr, losses, accuracy
 *   gd_trainer_free(tr); gd_train_log_free(&log);
 *
 * Divergence is an outcome, not a crash: a non-finite loss, or a windowed training loss
 * above diverge_factor times the first batch's loss, stops the run and sets
 * log.diverged_at.
 * Progress goes to stderr: a line that rewrites itself on a terminal; otherwise a plain
 * line at most every 10 seconds, and none for a run that is quicker than that.
 */
#ifndef GD_TRAIN_H
#define GD_TRAIN_H

#include <stdint.h>
#include "data.h"
#include "model.h"
#include "optim.h"
#include "sched.h"

#define GD_TRAIN_MAXLAYERS 8

typedef struct gd_train_cfg {
    int nlayers;                     /* linear layers */
    int dims[GD_TRAIN_MAXLAYERS + 1];/* {784, 128, 10} */
    gd_act act;
    const char *optim;               /* optimizer spec, e.g. "adam:lr=1e-3" */
    const char *sched;               /* schedule spec, NULL for a constant lr */
    int sched_per_epoch;             /* 1: the schedule's step is the epoch, not the update */
    int batch_size;
    double epochs;                   /* passes over the training set (fractions allowed) */
    uint64_t seed;                   /* initialisation and data order */
    const gd_images *train;          /* training images ... */
    const int *train_idx;            /* ... these of them (NULL: all) */
    int n_train;                     /* how many of train_idx (0: all images) */
    const gd_images *val;            /* evaluated every eval_every steps (NULL: never) */
    const int *val_idx;
    int n_val;
    const gd_images *test;           /* evaluated with val (NULL: never) */
    int eval_every;                  /* steps between evaluations; 0: once per epoch */
    int log_every;                   /* steps per logged training-loss window */
    double diverge_factor;           /* windowed loss above this times the first batch's: diverged */
    const char *label;               /* for progress lines */
} gd_train_cfg;

/* 784-128-10 ReLU, "sgd:lr=0.1", batch 128, 1 epoch, seed 0, eval once per epoch,
 * log every 50 steps, diverged above 10x the first loss. Set train (and val) yourself. */
gd_train_cfg gd_train_defaults(void);

/* One logged row: the training loss is the mean over the steps since the last row;
 * val and test columns are NaN where there was no evaluation. */
typedef struct gd_train_row {
    long step;                       /* updates done */
    double epoch;                    /* step / steps per epoch */
    double lr;                       /* lr of the first group at the last update */
    double train_loss;
    double val_loss, val_acc;
    double test_loss, test_acc;
} gd_train_row;

typedef struct gd_train_log {
    int n, cap;
    gd_train_row *rows;
    long diverged_at;                /* step at which the run was stopped as diverged, or -1 */
    long steps;                      /* updates done */
    double seconds;                  /* wall time (not part of any table: not deterministic) */
} gd_train_log;

typedef struct gd_trainer {
    gd_train_cfg cfg;
    gd_mlp model;
    gd_optim *opt;
    gd_sched *sched;                 /* NULL: constant */
    gd_rng rng;                      /* data order */
    int *order;                      /* (n_train) this epoch's order */
    int n_train, pos;                /* next index into order */
    long step, epoch;
    long steps_per_epoch;
    float *X;                        /* (batch, D) */
    int *y;                          /* (batch) */
    int max_batch;
    double lr_scale;                 /* every lr is multiplied by this after the schedule (1; a
                                      * back-off lowers it, monitor.h); saved in checkpoints */
} gd_trainer;

gd_trainer *gd_trainer_new(const gd_train_cfg *cfg);
void gd_trainer_free(gd_trainer *tr);
/* One minibatch update (schedule applied first, then lr_scale); returns the batch's loss. */
double gd_trainer_step(gd_trainer *tr);
/* Mean loss and accuracy on images idx[0..n) of ds (idx NULL: the first n; n 0: all). */
void gd_trainer_eval(gd_trainer *tr, const gd_images *ds, const int *idx, int n,
                     double *loss, double *acc);
/* Train for cfg.epochs, logging into log (initialised here). 0, or -1 on no memory. */
int gd_trainer_run(gd_trainer *tr, gd_train_log *log);
void gd_train_log_free(gd_train_log *log);

/* Parse "784-128-10" into dims; returns the number of linear layers or -1. */
int gd_parse_dims(const char *s, int *dims, int max_layers);

/* Use n threads for BLAS (OpenBLAS). Programs use 1 so that parallel runs do not fight
 * over cores and results do not depend on the machine's core count. */
void gd_blas_threads(int n);

#endif

/* train.h -- one training run of a classifier, the loop every chapter shares.
 *
 * A trainer owns a model (the MLP of cfg.dims, gd_mlp; or LeNet, gd_lenet, when
 * cfg.model says so: see "The model" below), an optimizer and a schedule built from text specs,
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
 * Divergence is an outcome, not a crash. The divergence rule of gd_trainer_run and of
 * gd_fit (monitor.h; the same rule in both): at each logged row, the mean training loss
 * of the window since the previous row (log_every steps) is compared with the loss of
 * the very first batch of the run; if it is not finite, or above diverge_factor (10)
 * times that first loss, the run stops and log.diverged_at is that row's step. (The
 * first batch's loss, not the first window's, so that a blow-up in the first steps is
 * not part of the reference. A resumed run takes its first batch after the resume.)
 *
 * Collapse is the other way a run dies, at a finite loss: the network stops looking at
 * its input (e.g. a ReLU network whose last hidden layer has gone silent outputs its
 * biases, the same logits for every image), so every image gets the same class,
 * accuracy sits at chance and the loss at that of a constant guess (ln K at best on
 * balanced data). The divergence rule never sees it, nor does a spike detector.
 * THE collapse rule: a step's batch is "flat" when every logit is the same for every
 * example of the batch (max - min over the batch <= 1e-4 for each class; a batch of one
 * example is never flat); the run has collapsed at step t when at least half of the
 * last collapse_window steps (default 50) were flat. (Half, not all: for a while after
 * the collapse the momentum left in the weights wakes a unit now and then.) A network
 * that has not learned yet (a tiny lr, the first steps) has a loss near ln K too, but
 * its random weights make the logits depend on the input, so it is not flat -- which is
 * why the rule looks at the logits and not at the loss (tests/lib/test_monitor.c runs
 * both cases). gd_trainer_run records the first step at which the rule holds in
 * log.collapsed_at and goes on (the run's curve is the chapters' to show); gd_fit
 * (monitor.h) ends the run there, or backs off. The window is not in checkpoints:
 * after a load it starts empty (gd_trainer_collapse_reset).
 *
 * Calibration: the test evaluation also gives the expected calibration error (ECE, Guo
 * et al. 2017): the images are put into 15 equal-width bins by their confidence (the
 * largest softmax probability), ECE = sum over bins of (n_bin / n) |accuracy_bin -
 * mean confidence_bin|, from 0 (calibrated) to 1.
 *
 * The model: cfg.model NULL or "mlp" is the MLP of cfg.nlayers, cfg.dims and cfg.act
 * (model.h), exactly as before the option existed. "lenet", "lenet:act=relu:pool=max"
 * (any spec of gd_lenet_parse, lenet.h) is d2l's LeNet on the 28x28 images, whatever
 * cfg.dims says. Whichever it is, tr->model.params[0 .. tr->model.nparams) are the
 * model's parameters (for LeNet, tr->model is only that: a view of tr->lenet's
 * parameters, nothing else set), so code that walks the parameters (early stopping,
 * checkpoints, hashes) works for both; code that runs the MLP's layers itself needs
 * the MLP (tr->lenet == NULL).
 *
 * Progress goes to stderr: a line that rewrites itself on a terminal; otherwise a plain
 * line at most every 10 seconds, and none for a run that is quicker than that.
 */
#ifndef GD_TRAIN_H
#define GD_TRAIN_H

#include <stdint.h>
#include "data.h"
#include "lenet.h"
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
    int collapse_window;             /* steps the collapse rule looks back over (0: off) */
    const char *model;               /* NULL or "mlp": the MLP of dims; "lenet[:...]" (lenet.h) */
} gd_train_cfg;

/* The MLP 784-128-10 ReLU, "sgd:lr=0.1", batch 128, 1 epoch, seed 0, eval once per epoch,
 * log every 50 steps, diverged above 10x the first loss, collapse window 50. Set train
 * (and val) yourself. */
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
    double test_ece;                 /* expected calibration error on test (15 bins), or NaN */
} gd_train_row;

typedef struct gd_train_log {
    int n, cap;
    gd_train_row *rows;
    long diverged_at;                /* step at which the run was stopped as diverged, or -1 */
    long steps;                      /* updates done */
    double seconds;                  /* wall time (not part of any table: not deterministic) */
    long collapsed_at;               /* first step at which the collapse rule held, or -1 */
} gd_train_log;

typedef struct gd_trainer {
    gd_train_cfg cfg;
    gd_mlp model;                    /* the MLP; for LeNet only params and nparams (see above) */
    gd_lenet *lenet;                 /* LeNet (cfg.model "lenet..."), else NULL */
    gd_optim *opt;
    gd_sched *sched;                 /* NULL: constant */
    gd_rng rng;                      /* data order */
    int *order;                      /* (n_train) this epoch's order */
    int n_train, pos;                /* next index into order */
    long step, epoch;
    long steps_per_epoch;
    float *X;                        /* (batch, D): D = 784 pixels */
    int *y;                          /* (batch) */
    int max_batch;
    double lr_scale;                 /* every lr is multiplied by this after the schedule (1; a
                                      * back-off lowers it, monitor.h); saved in checkpoints */
    unsigned char *flat;             /* (collapse_window) ring: was step i's batch flat */
    int flat_n, flat_head, flat_count;   /* steps in the ring, next slot, flat ones among them */
} gd_trainer;

gd_trainer *gd_trainer_new(const gd_train_cfg *cfg);
void gd_trainer_free(gd_trainer *tr);
/* One minibatch update (schedule applied first, then lr_scale); returns the batch's loss. */
double gd_trainer_step(gd_trainer *tr);
/* Mean loss and accuracy on images idx[0..n) of ds (idx NULL: the first n; n 0: all). */
void gd_trainer_eval(gd_trainer *tr, const gd_images *ds, const int *idx, int n,
                     double *loss, double *acc);
/* The same, and the expected calibration error (15 equal-width confidence bins). */
void gd_trainer_eval_ece(gd_trainer *tr, const gd_images *ds, const int *idx, int n,
                         double *loss, double *acc, double *ece);
/* 1 if the collapse rule holds after the last step (see above), else 0. */
int gd_trainer_collapsed(const gd_trainer *tr);
/* Flat steps among the last collapse_window (for reports). */
int gd_trainer_flat_steps(const gd_trainer *tr);
/* Forget the collapse window (after loading a checkpoint: those steps were undone). */
void gd_trainer_collapse_reset(gd_trainer *tr);
/* Train for cfg.epochs, logging into log (initialised here). 0, or -1 on no memory. */
int gd_trainer_run(gd_trainer *tr, gd_train_log *log);
void gd_train_log_free(gd_train_log *log);

/* 1 if spec names the MLP (NULL or "mlp"), 0 if LeNet (a valid gd_lenet_parse spec);
 * -1 with the reason in gd_error() for anything else. */
int gd_train_model_is_mlp(const char *spec);

/* Parse "784-128-10" into dims; returns the number of linear layers or -1. */
int gd_parse_dims(const char *s, int *dims, int max_layers);

/* Use n threads for BLAS (OpenBLAS). Programs use 1 so that parallel runs do not fight
 * over cores and results do not depend on the machine's core count. */
void gd_blas_threads(int n);

#endif

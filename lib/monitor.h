/* monitor.h -- watching a training run: early stopping, spikes and backing off, and the
 * loop (gd_fit) that puts them together with checkpoints and reduce-on-plateau.
 *
 * EARLY STOPPING (gd_early) follows Keras' EarlyStopping and PyTorch Lightning's
 * EarlyStopping, which agree on the core:
 *   monitor    the metric watched: "val_loss" (default), "val_acc", "train_loss"
 *   mode       min or max (auto: max when the name contains "acc", as Keras)
 *   min_delta  an improvement must beat the best by more than this (absolute):
 *              min: metric < best - min_delta; max: metric > best + min_delta
 *   patience   the number of evaluations in a row without an improvement after which
 *              the run stops: the stop fires at the patience-th consecutive one, so
 *              patience p lets p - 1 go by (patience 0 and 1 both stop at the first),
 *              as Keras' `wait >= patience` and Lightning's `wait_count >= patience`
 *   restore_best_weights   keep a copy of the parameters at the best evaluation and put
 *              them back at the end -- when the stop fires AND when the run ends
 *              without it (as Keras 3 does; Keras 2 restored only when it fired)
 *   check_finite  a NaN or infinite metric stops at once (Lightning; default on)
 * The first finite metric is always an improvement (best starts at +-infinity). The
 * best is only moved by an improvement, so with min_delta > 0 a run of tiny gains does
 * not reset the patience -- and the restored weights are those of the last evaluation
 * that counted as an improvement.
 *
 *   gd_early_cfg ec = gd_early_defaults();            // val_loss, min, patience 3, restore
 *   if (gd_early_parse("patience=5:min_delta=1e-3", &ec) != 0) die(gd_error());
 *   gd_early es;
 *   gd_early_init(&es, &ec);
 *   for (each epoch) { ...; if (gd_early_observe(&es, val_loss, &model) == GD_EARLY_STOP) break; }
 *   gd_early_restore(&es, &model);                    // the best weights, bitwise
 *   gd_early_free(&es);
 *
 * SPIKES (gd_spike). A step's loss is a spike when it is not finite, or when it is more
 * than `threshold` times the median of the last `window` accepted losses. The median,
 * not the mean: one earlier spike does not move it, and the falling loss of early
 * training keeps it above the current loss. Spikes are not added to the window.
 *
 * COLLAPSE (train.h's rule: the output has stopped depending on the input in half of
 * the last collapse_window steps) is the failure a spike detector cannot see: the loss
 * sits at that of a constant guess, below its running median. gd_fit checks the rule
 * after every step: without back-off the run ends there (res.log.collapsed_at, an
 * outcome like divergence); with back-off it is an event like a spike.
 *
 * BACKING OFF (gd_backoff_cfg, used by gd_fit). On a spike at step t: load the newest
 * good checkpoint of step <= t - 2, multiply every lr by `factor` (trainer.lr_scale, on
 * top of the schedule) and go on; the loss window is kept. (Not t - 1: step t's loss
 * was computed on the weights of step t - 1, before the update, so that checkpoint
 * holds the very weights that spiked, and from it the same batch spikes again, with
 * the same loss, at any lr.) On a collapse at step t: the same, from the newest
 * checkpoint of step <= t - collapse_window (from before the window the rule looked
 * at). If none is that old, the oldest good one kept. After `retries` back-offs the next spike or
 * collapse ends the run: gd_fit sets gave_up and writes a one-line report -- an outcome
 * of the run, not an error (gd_fit returns 0). Every back-off is an event in the result
 * (kind, step, loss, median, the step rolled back to, the new lr).
 *
 * THE LOOP (gd_fit) is gd_trainer_run plus: an evaluation every cfg.eval_every steps
 * (0: every epoch) that feeds the metric to reduce-on-plateau (gd_sched_observe, when
 * the schedule has a plateau term), to the checkpoint directory (gd_ckpt_dir_save,
 * best.bin by the same metric) and to early stopping, in that order; checkpoints every
 * ckpt_every steps between evaluations; spikes and back-offs; stop_at (end as if
 * killed, for the resume demonstration) and resume (start from the directory's newest
 * checkpoint). The trainer's divergence rule (diverge_factor) still ends a run that is
 * not backing off.
 *
 * RESUMING NEVER HIDES DAMAGE (ckpt.h, DAMAGE: a damaged checkpoint is never deleted or
 * written over). resume = GD_FIT_RESUME starts from the newest checkpoint that passes
 * its checks. If newer ones were damaged, it says so in one line of res->notes (the
 * damaged files and the one used); best.bin's damage too. If none is loadable -- only
 * damaged files, or none at all: a missing or empty directory -- it is an error
 * (gd_fit returns -1, res->resume_error is set, gd_error() says why: "no loadable
 * checkpoint in D: 1 damaged (ckpt-00000050.bin: damaged: CRC-32 is ...)"), as PyTorch
 * Lightning's fit(ckpt_path=...) refuses a checkpoint that is not there: asked to
 * resume, a run that silently started over would be a different experiment.
 * GD_FIT_RESUME_OR_START is "resume if possible": with nothing loadable it starts
 * from step 0 (a note names any damaged files, which stay where they are). A refused
 * load (a checkpoint of another config) is a resume_error in either mode. Back-offs
 * say so in a note too when they pass over a damaged checkpoint, and so does every
 * save that has to rename a damaged file aside (gd_ckpt_dir_set_aside).
 *
 * Ownership: gd_early_init/gd_early_free, gd_spike_init/gd_spike_free and
 * gd_fit/gd_fit_result_free come in pairs. Errors (err.h): -1 and one line in
 * gd_error(); nothing prints and nothing exits.
 */
#ifndef GD_MONITOR_H
#define GD_MONITOR_H

#include "ckpt.h"
#include "train.h"

/* ---- early stopping ---- */

typedef struct gd_early_cfg {
    char monitor[32];                /* "val_loss", "val_acc", "train_loss" */
    gd_ckpt_mode mode;               /* GD_CKPT_MIN or GD_CKPT_MAX */
    double min_delta;                /* >= 0 */
    int patience;                    /* >= 0 */
    int restore_best_weights;        /* 0 or 1 */
    int check_finite;                /* 0 or 1 */
} gd_early_cfg;

/* val_loss, min, min_delta 0, patience 3 (Lightning's), restore 1, check_finite 1. */
gd_early_cfg gd_early_defaults(void);
/* "KEY=VALUE[:KEY=VALUE]..." over cfg: monitor, mode (min|max|auto), min_delta,
 * patience, restore_best_weights (or restore), check_finite. mode=auto (and a monitor
 * given without a mode) picks max for names containing "acc". -1 and a reason naming
 * the key on anything else; cfg untouched then. */
int gd_early_parse(const char *spec, gd_early_cfg *cfg);
/* The canonical spec (every key), for table headers. */
void gd_early_format(char *buf, size_t size, const gd_early_cfg *cfg);

enum { GD_EARLY_WAIT = 0, GD_EARLY_IMPROVED = 1, GD_EARLY_STOP = 2 };

typedef struct gd_early {
    gd_early_cfg cfg;
    double best;                     /* best metric so far (+-inf before the first) */
    long evals;                      /* observations so far */
    long best_eval;                  /* index (from 0) of the best observation, -1: none */
    int wait;                        /* observations since the last improvement */
    long stopped_eval;               /* index of the observation that fired, -1: none */
    float *best_w;                   /* (numel) parameters at best_eval, if restoring */
    size_t numel;
} gd_early;

int gd_early_init(gd_early *es, const gd_early_cfg *cfg);
void gd_early_free(gd_early *es);
/* 1 if metric improves on the best by the rules above. */
int gd_early_improves(const gd_early *es, double metric);
/* Feed one evaluation's metric. model (may be NULL) is copied on improvement when
 * restoring. Returns GD_EARLY_IMPROVED, GD_EARLY_WAIT or GD_EARLY_STOP (also for every
 * call after the stop fired); -1 if the copy cannot be allocated. */
int gd_early_observe(gd_early *es, double metric, const gd_mlp *model);
/* Put the best parameters back into model: 1 done, 0 nothing to restore (restoring off,
 * or no improvement seen), -1 if model's size differs. */
int gd_early_restore(const gd_early *es, gd_mlp *model);

/* ---- spikes ---- */

typedef struct gd_spike {
    int window;                      /* accepted losses kept */
    double threshold;                /* spike: loss > threshold * median */
    double *ring;                    /* (window) */
    int n, head;
} gd_spike;

int gd_spike_init(gd_spike *sp, int window, double threshold);
void gd_spike_free(gd_spike *sp);
/* Median of the accepted losses (NaN when there are none). */
double gd_spike_median(const gd_spike *sp);
/* 1 if loss is a spike (not finite, or above threshold * median; never with an empty
 * window unless not finite), else 0 and the loss joins the window. *median (may be
 * NULL) gets the median it was compared with. */
int gd_spike_check(gd_spike *sp, double loss, double *median);

/* ---- backing off ---- */

typedef struct gd_backoff_cfg {
    double factor;                   /* lr multiplier per back-off, in (0, 1) */
    int retries;                     /* back-offs allowed; the next spike gives up */
    int window;                      /* gd_spike window */
    double threshold;                /* gd_spike threshold, > 1 */
} gd_backoff_cfg;

/* factor 0.5, retries 5, window 50, threshold 3. */
gd_backoff_cfg gd_backoff_defaults(void);
/* "factor=0.5:retries=5:window=50:threshold=3" (any subset) over cfg; -1 naming the key. */
int gd_backoff_parse(const char *spec, gd_backoff_cfg *cfg);
void gd_backoff_format(char *buf, size_t size, const gd_backoff_cfg *cfg);

typedef struct gd_backoff_event {
    long step;                       /* the step whose loss spiked */
    double loss, median;             /* its loss, the running median it was compared with */
    long rollback_to;                /* step of the checkpoint loaded */
    double lr_scale;                 /* trainer.lr_scale from now on */
    double lr;                       /* the first group's lr at the next step */
    int kind;                        /* GD_EVENT_SPIKE or GD_EVENT_COLLAPSE */
} gd_backoff_event;

enum { GD_EVENT_SPIKE = 0, GD_EVENT_COLLAPSE = 1 };

/* ---- the loop ---- */

typedef struct gd_fit_cfg {
    const gd_early_cfg *early;       /* NULL: no early stopping */
    const gd_backoff_cfg *backoff;   /* NULL: no back-off (needs ckpt_dir) */
    const char *ckpt_dir;            /* NULL: no checkpoints */
    const char *metric;              /* best.bin's metric when there is no early stopping
                                      * (NULL: "val_loss"); with it, its monitor and mode */
    int ckpt_every;                  /* steps between checkpoints besides evaluations; 0: none */
    int keep_last;                   /* ckpt-*.bin kept (<= 0: all) */
    long stop_at;                    /* > 0: end after this step, as if killed */
    int resume;                      /* GD_FIT_START (0), GD_FIT_RESUME, GD_FIT_RESUME_OR_START */
} gd_fit_cfg;

enum {
    GD_FIT_START = 0,                /* from the trainer as it is (step 0) */
    GD_FIT_RESUME = 1,               /* from ckpt_dir's newest good checkpoint; none is an error */
    GD_FIT_RESUME_OR_START = 2       /* the same, or from the trainer as it is if none is loadable */
};

typedef struct gd_fit_result {
    gd_train_log log;                /* rows as gd_trainer_run's (a rolled-back stretch stays) */
    gd_backoff_event *events;        /* (nevents) */
    int nevents;
    int gave_up;                     /* back-off ran out of retries (log.diverged_at: where) */
    char report[512];                /* why it gave up, one line */
    int stopped_early;               /* the early stop fired */
    long stop_step;                  /* step of the evaluation that fired, -1 */
    long best_step;                  /* step of the best evaluation (early stopping), -1 */
    double best_metric;              /* NaN: none */
    int restored;                    /* the best weights were put back at the end */
    long resumed_from;               /* step resumed from, -1 */
    int interrupted;                 /* ended at stop_at */
    int gave_up_kind;                /* what the last straw was: GD_EVENT_SPIKE or _COLLAPSE */
    int resume_error;                /* gd_fit failed on the checkpoint to resume from */
    char **notes;                    /* (nnotes) one line each: damaged checkpoints passed over or set aside */
    int nnotes;
} gd_fit_result;

/* Train tr by fc into res (initialised here). 0, or -1 on an error (a checkpoint that
 * cannot be written or read, nothing to resume from, no memory); a spike or collapse beyond the retries is not
 * an error, nor is a collapse without back-off (res->log.collapsed_at). */
int gd_fit(gd_trainer *tr, const gd_fit_cfg *fc, gd_fit_result *res);
void gd_fit_result_free(gd_fit_result *res);

#endif

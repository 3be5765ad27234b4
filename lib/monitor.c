/* monitor.c -- early stopping, spike detection, backing off, and gd_fit; see monitor.h.
 *
 * Early stopping follows keras.callbacks.EarlyStopping (Keras 3) and
 * lightning.pytorch.callbacks.EarlyStopping; the line that decides is marked below.
 * Leaves out: Keras' baseline and start_from_epoch, Lightning's stopping_threshold and
 * divergence_threshold (the back-off handles divergence), and saving the early-stopping
 * counters in checkpoints (a resumed run takes the best metric from the checkpoint and
 * starts its patience afresh).
 */
#include "monitor.h"
#include "err.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------- */
/* Spec parsing: "KEY=VALUE:KEY=VALUE", shared by the early-stopping and back-off specs. */

/* Calls set(key, value, ctx) for each item; -1 on a malformed item or set's -1. The
 * spec is copied whole (malloc'd): a long one is parsed, never cut short. */
static int gd__items(const char *spec, const char *what, int (*set)(const char *, const char *, void *), void *ctx) {
    if (!spec) return gd_seterr("%s: spec missing", what);
    char *buf = strdup(spec);
    if (!buf) return gd_seterr("%s: out of memory", what);
    int rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ":", &save); item && rc == 0; item = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || eq[1] == '\0') {
            rc = gd_seterr("%s: '%s' is not KEY=VALUE", what, item);
            break;
        }
        *eq = '\0';
        rc = set(item, eq + 1, ctx);
    }
    free(buf);
    return rc == 0 ? 0 : -1;
}

static int gd__num(const char *what, const char *key, const char *v, double lo, double hi, int lo_open, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end != '\0' || !isfinite(x)) return gd_seterr("%s: %s must be a number, got '%s'", what, key, v);
    if (x < lo || (lo_open && x == lo) || x > hi)
        return hi < 1e300 ? gd_seterr("%s: %s must be %s %g and <= %g, got '%s'", what, key, lo_open ? ">" : ">=", lo,
                                      hi, v)
                          : gd_seterr("%s: %s must be %s %g, got '%s'", what, key, lo_open ? ">" : ">=", lo, v);
    *out = x;
    return 0;
}

static int gd__whole(const char *what, const char *key, const char *v, long lo, long hi, long *out) {
    double x;
    if (gd__num(what, key, v, (double)lo, (double)hi, 0, &x) != 0) return -1;
    if (x != floor(x)) return gd_seterr("%s: %s must be a whole number, got '%s'", what, key, v);
    *out = (long)x;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Early stopping. */

gd_early_cfg gd_early_defaults(void) {
    gd_early_cfg c;
    memset(&c, 0, sizeof c);
    snprintf(c.monitor, sizeof c.monitor, "val_loss");
    c.mode = GD_CKPT_MIN;
    c.min_delta = 0;
    c.patience = 3;
    c.restore_best_weights = 1;
    c.check_finite = 1;
    return c;
}

typedef struct {
    gd_early_cfg c;
    int mode_given;   /* 0 none, 1 min/max, 2 auto */
} gd__early_ctx;

static int gd__early_set(const char *key, const char *v, void *ctx) {
    gd__early_ctx *x = ctx;
    const char *w = "early stopping";
    long n;
    if (strcmp(key, "monitor") == 0) {
        if (strcmp(v, "val_loss") && strcmp(v, "val_acc") && strcmp(v, "train_loss"))
            return gd_seterr("%s: monitor must be val_loss, val_acc or train_loss, got '%s'", w, v);
        snprintf(x->c.monitor, sizeof x->c.monitor, "%s", v);
    } else if (strcmp(key, "mode") == 0) {
        if (strcmp(v, "min") == 0) x->c.mode = GD_CKPT_MIN, x->mode_given = 1;
        else if (strcmp(v, "max") == 0) x->c.mode = GD_CKPT_MAX, x->mode_given = 1;
        else if (strcmp(v, "auto") == 0) x->mode_given = 2;
        else return gd_seterr("%s: mode must be min, max or auto, got '%s'", w, v);
    } else if (strcmp(key, "min_delta") == 0) {
        if (gd__num(w, key, v, 0, 1e300, 0, &x->c.min_delta) != 0) return -1;
    } else if (strcmp(key, "patience") == 0) {
        if (gd__whole(w, key, v, 0, 1000000, &n) != 0) return -1;
        x->c.patience = (int)n;
    } else if (strcmp(key, "restore_best_weights") == 0 || strcmp(key, "restore") == 0) {
        if (gd__whole(w, key, v, 0, 1, &n) != 0) return -1;
        x->c.restore_best_weights = (int)n;
    } else if (strcmp(key, "check_finite") == 0) {
        if (gd__whole(w, key, v, 0, 1, &n) != 0) return -1;
        x->c.check_finite = (int)n;
    } else {
        return gd_seterr("%s: unknown key '%s' (known: monitor, mode, min_delta, patience, restore_best_weights, "
                         "check_finite)", w, key);
    }
    return 0;
}

int gd_early_parse(const char *spec, gd_early_cfg *cfg) {
    gd__early_ctx x = {*cfg, 0};
    if (gd__items(spec, "early stopping", gd__early_set, &x) != 0) return -1;
    if (x.mode_given != 1 && (x.mode_given == 2 || strcmp(x.c.monitor, cfg->monitor) != 0))
        x.c.mode = strstr(x.c.monitor, "acc") ? GD_CKPT_MAX : GD_CKPT_MIN;   /* Keras' mode='auto' */
    *cfg = x.c;
    return 0;
}

void gd_early_format(char *buf, size_t size, const gd_early_cfg *c) {
    snprintf(buf, size, "monitor=%s:mode=%s:min_delta=%g:patience=%d:restore_best_weights=%d:check_finite=%d",
             c->monitor, c->mode == GD_CKPT_MAX ? "max" : "min", c->min_delta, c->patience, c->restore_best_weights,
             c->check_finite);
}

int gd_early_init(gd_early *es, const gd_early_cfg *cfg) {
    memset(es, 0, sizeof *es);
    es->cfg = *cfg;
    es->best = cfg->mode == GD_CKPT_MAX ? -INFINITY : INFINITY;
    es->best_eval = -1;
    es->stopped_eval = -1;
    return 0;
}

void gd_early_free(gd_early *es) {
    free(es->best_w);
    memset(es, 0, sizeof *es);
}

int gd_early_improves(const gd_early *es, double metric) {
    if (!isfinite(metric)) return 0;
    // region improves
    if (es->cfg.mode == GD_CKPT_MIN) return metric < es->best - es->cfg.min_delta;   /* better by more than min_delta */
    return metric > es->best + es->cfg.min_delta;
    // endregion improves
}

static size_t gd__numel(const gd_mlp *m) {
    size_t n = 0;
    for (int p = 0; p < m->nparams; p++) n += m->params[p].value->size;
    return n;
}

/* es->best_w = the model's parameters, one after another. */
static int gd__snapshot(gd_early *es, const gd_mlp *model) {
    size_t n = gd__numel(model);
    if (!es->best_w || es->numel != n) {
        free(es->best_w);
        es->numel = 0;
        if (!(es->best_w = malloc(n * sizeof *es->best_w))) return gd_seterr("early stopping: out of memory");
        es->numel = n;
    }
    float *dst = es->best_w;
    for (int p = 0; p < model->nparams; p++) {
        memcpy(dst, model->params[p].value->data, model->params[p].value->size * sizeof *dst);
        dst += model->params[p].value->size;
    }
    return 0;
}

int gd_early_observe(gd_early *es, double metric, const gd_mlp *model) {
    long k = es->evals++;
    if (es->stopped_eval >= 0) return GD_EARLY_STOP;
    // region observe
    if (gd_early_improves(es, metric)) {               /* min: metric < best - min_delta */
        es->best = metric;                              /* a new best: the patience starts again */
        es->best_eval = k;
        es->wait = 0;
        if (es->cfg.restore_best_weights && model && gd__snapshot(es, model) != 0) return -1;
        return GD_EARLY_IMPROVED;
    }
    es->wait++;                                         /* one more evaluation without improvement */
    if (es->wait >= es->cfg.patience || (es->cfg.check_finite && !isfinite(metric))) {
        es->stopped_eval = k;                           /* patience used up (or NaN): stop */
        return GD_EARLY_STOP;
    }
    return GD_EARLY_WAIT;
    // endregion observe
}

int gd_early_restore(const gd_early *es, gd_mlp *model) {
    if (!es->cfg.restore_best_weights || !es->best_w) return 0;
    if (gd__numel(model) != es->numel) return gd_seterr("early stopping: the model has changed size");
    const float *src = es->best_w;
    for (int p = 0; p < model->nparams; p++) {
        memcpy(model->params[p].value->data, src, model->params[p].value->size * sizeof *src);
        src += model->params[p].value->size;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* Spikes. */

int gd_spike_init(gd_spike *sp, int window, double threshold) {
    memset(sp, 0, sizeof *sp);
    if (window < 1) return gd_seterr("spike: window %d (must be >= 1)", window);
    if (!(threshold > 1)) return gd_seterr("spike: threshold %g (must be > 1)", threshold);
    if (!(sp->ring = malloc((size_t)window * sizeof *sp->ring))) return gd_seterr("spike: out of memory");
    sp->window = window;
    sp->threshold = threshold;
    return 0;
}

void gd_spike_free(gd_spike *sp) {
    free(sp->ring);
    memset(sp, 0, sizeof *sp);
}

static int gd__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double gd_spike_median(const gd_spike *sp) {
    if (sp->n == 0) return NAN;
    double tmp[sp->n];                                  /* window is small (tens to hundreds) */
    memcpy(tmp, sp->ring, (size_t)sp->n * sizeof *tmp);
    qsort(tmp, (size_t)sp->n, sizeof *tmp, gd__cmp_double);
    return sp->n % 2 ? tmp[sp->n / 2] : 0.5 * (tmp[sp->n / 2 - 1] + tmp[sp->n / 2]);
}

int gd_spike_check(gd_spike *sp, double loss, double *median) {
    double med = gd_spike_median(sp);
    if (median) *median = med;
    // region spike
    int spike = !isfinite(loss) || (sp->n > 0 && loss > sp->threshold * med);   /* loss > threshold * median */
    // endregion spike
    if (spike) return 1;
    sp->ring[sp->head] = loss;
    sp->head = (sp->head + 1) % sp->window;
    if (sp->n < sp->window) sp->n++;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Back-off. */

gd_backoff_cfg gd_backoff_defaults(void) { return (gd_backoff_cfg){0.5, 5, 50, 3.0}; }

static int gd__backoff_set(const char *key, const char *v, void *ctx) {
    gd_backoff_cfg *c = ctx;
    const char *w = "back-off";
    long n;
    if (strcmp(key, "factor") == 0) {
        if (gd__num(w, key, v, 0, 1, 1, &c->factor) != 0 || c->factor >= 1)
            return gd_seterr("%s: factor must be > 0 and < 1, got '%s'", w, v);
    } else if (strcmp(key, "retries") == 0) {
        if (gd__whole(w, key, v, 0, 1000, &n) != 0) return -1;
        c->retries = (int)n;
    } else if (strcmp(key, "window") == 0) {
        if (gd__whole(w, key, v, 1, 10000, &n) != 0) return -1;
        c->window = (int)n;
    } else if (strcmp(key, "threshold") == 0) {
        if (gd__num(w, key, v, 1, 1e300, 1, &c->threshold) != 0) return -1;
    } else {
        return gd_seterr("%s: unknown key '%s' (known: factor, retries, window, threshold)", w, key);
    }
    return 0;
}

int gd_backoff_parse(const char *spec, gd_backoff_cfg *cfg) {
    gd_backoff_cfg c = *cfg;
    if (gd__items(spec, "back-off", gd__backoff_set, &c) != 0) return -1;
    *cfg = c;
    return 0;
}

void gd_backoff_format(char *buf, size_t size, const gd_backoff_cfg *c) {
    snprintf(buf, size, "factor=%g:retries=%d:window=%d:threshold=%g", c->factor, c->retries, c->window, c->threshold);
}

/* ---------------------------------------------------------------------------------- */
/* The loop. */

static int gd__row_add(gd_train_log *log, gd_train_row row) {
    if (log->n == log->cap) {
        int cap = log->cap ? 2 * log->cap : 256;
        gd_train_row *rows = realloc(log->rows, (size_t)cap * sizeof *rows);
        if (!rows) return gd_seterr("fit: out of memory for the log");
        log->rows = rows;
        log->cap = cap;
    }
    log->rows[log->n++] = row;
    return 0;
}

static int gd__event_add(gd_fit_result *res, gd_backoff_event ev) {
    gd_backoff_event *e = realloc(res->events, (size_t)(res->nevents + 1) * sizeof *e);
    if (!e) return gd_seterr("fit: out of memory for the back-off log");
    res->events = e;
    res->events[res->nevents++] = ev;
    return 0;
}

static double gd__metric(const gd_train_row *r, const char *name) {
    if (strcmp(name, "val_acc") == 0) return r->val_acc;
    if (strcmp(name, "train_loss") == 0) return r->train_loss;
    return r->val_loss;
}

/* The run ends: report (one line), a last log row with the last straw's loss. */
static void gd__give_up(gd_trainer *tr, const gd_backoff_cfg *bc, gd_fit_result *res, double loss, double median,
                        int kind) {
    res->gave_up = 1;
    res->gave_up_kind = kind;
    if (kind == GD_EVENT_COLLAPSE)
        snprintf(res->report, sizeof res->report,
                 "gave up after %d back-offs: the run collapsed at step %ld (the output did not depend on the input "
                 "in %d of the last %d steps; loss %.4g) even at lr %.4g (x%.4g)", res->nevents, tr->step,
                 gd_trainer_flat_steps(tr), tr->cfg.collapse_window, loss, gd_optim_lr(tr->opt, 0), tr->lr_scale);
    else
        snprintf(res->report, sizeof res->report,
                 "gave up after %d back-offs: the loss %.4g at step %ld is a spike (running median %.4g, threshold "
                 "x%g) even at lr %.4g (x%.4g)", res->nevents, loss, tr->step, median, bc->threshold,
                 gd_optim_lr(tr->opt, 0), tr->lr_scale);
    gd_train_row row = {tr->step, (double)tr->step / tr->steps_per_epoch, gd_optim_lr(tr->opt, 0), loss,
                        NAN, NAN, NAN, NAN, NAN};
    gd__row_add(&res->log, row);          /* out of memory: the row is missing, the report is not */
    res->log.diverged_at = tr->step;
    if (kind == GD_EVENT_COLLAPSE) res->log.collapsed_at = tr->step;
}

/* Add one line to res->notes (printf-style); -1 when out of memory. */
static int gd__note(gd_fit_result *res, const char *fmt, ...) GD_PRINTF(2, 3);
static int gd__note(gd_fit_result *res, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *line = n >= 0 ? malloc((size_t)n + 1) : NULL;
    char **notes = line ? realloc(res->notes, (size_t)(res->nnotes + 1) * sizeof *notes) : NULL;
    if (!notes) {
        free(line);
        return gd_seterr("fit: out of memory for a note");
    }
    va_start(ap, fmt);
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    va_end(ap);
    res->notes = notes;
    res->notes[res->nnotes++] = line;
    return 0;
}

/* The damaged files the last gd_ckpt_dir_save renamed aside, as a note. */
static int gd__note_set_aside(gd_fit_result *res) {
    const char *aside = gd_ckpt_dir_set_aside();
    return *aside ? gd__note(res, "%s", aside) : 0;
}

/* The ckpt-*.bin of dir to go back to: the newest whose step is <= limit and that passes
 * its checks; if none is that old, the oldest good one. 0 and its path (malloc'd), or
 * -1. Damaged files passed over are named in a note (they stay where they are). */
static int gd__ckpt_before(const char *dir, long limit, char **path, gd_fit_result *res) {
    DIR *d = opendir(dir);
    if (!d) return gd_seterr("%s: cannot read the checkpoint directory", dir);
    long best = -1, oldest = -1, nbad = 0, *bad = NULL;   /* steps of the damaged ones */
    char why[512] = "";                                    /* the newest damaged one's reason */
    long why_step = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        long st;
        char tail[8];
        if (sscanf(e->d_name, "ckpt-%ld%7s", &st, tail) != 2 || strcmp(tail, ".bin") != 0) continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) break;
        snprintf(p, n, "%s/%s", dir, e->d_name);
        int ok = gd_ckpt_check(p, NULL) == 0;
        free(p);
        if (!ok) {                                          /* damaged: skipped, and kept */
            long *b = realloc(bad, (size_t)(nbad + 1) * sizeof *b);
            if (!b) break;
            bad = b, bad[nbad++] = st;
            if (st <= limit && st > why_step) why_step = st, snprintf(why, sizeof why, "%s", gd_error());
            continue;
        }
        if (st <= limit && st > best) best = st;
        if (oldest < 0 || st < oldest) oldest = st;
    }
    int read_all = e == NULL;
    closedir(d);
    long pick = best >= 0 ? best : oldest;
    int rc = -1;
    if (!read_all) {
        gd_seterr("%s: out of memory while listing the checkpoints", dir);
    } else if (pick < 0) {
        gd_seterr("%s: no good checkpoint to go back to (%ld damaged)", dir, nbad);
    } else {
        size_t n = strlen(dir) + 32;
        if ((*path = malloc(n))) {
            snprintf(*path, n, "%s/ckpt-%08ld.bin", dir, pick);
            /* the damaged ones that would have been picked before the one that is */
            long passed = 0;
            for (long i = 0; i < nbad; i++) passed += bad[i] <= limit && bad[i] > best;
            rc = passed ? gd__note(res, "backing off to %s (step %ld) instead of %ld newer damaged checkpoint%s "
                                   "(the newest: %s); the damaged files are kept", *path, pick, passed,
                                   passed > 1 ? "s" : "", why)
                        : 0;
        } else {
            gd_seterr("%s: out of memory", dir);
        }
    }
    free(bad);
    return rc;
}

/* Load a checkpoint of dir from before the trouble at step `at` (monitor.h). A spike's
 * loss was computed on the weights of step at - 1, so a checkpoint of that step holds the
 * very weights that spiked: loading it would spike again, at any lr. */
static int gd__roll_back(gd_trainer *tr, const char *dir, int kind, long at, gd_fit_result *res) {
    char *path = NULL;
    long limit = kind == GD_EVENT_COLLAPSE ? at - tr->cfg.collapse_window : at - 2;
    if (gd__ckpt_before(dir, limit, &path, res) != 0) return -1;
    /* the checkpoint brings back its own lr_scale; the back-offs made since must stay */
    double lr_scale = tr->lr_scale;
    int rc = gd_ckpt_load(tr, path, NULL);
    free(path);
    if (rc != 0) return -1;
    tr->lr_scale = lr_scale;
    gd_trainer_collapse_reset(tr);        /* the steps in the window were undone */
    return 0;
}

/* One back-off event: where it spiked, where it went back to, the lr from now on. */
static int gd__log_backoff(const gd_trainer *tr, gd_fit_result *res, long spiked, double loss, double median,
                           int kind) {
    const gd_train_cfg *c = &tr->cfg;
    double base = gd_optim_initial_lr(tr->opt, 0);
    double lr = tr->sched ? gd_sched_lr(tr->sched, c->sched_per_epoch ? tr->epoch : tr->step, base) : base;
    gd_backoff_event ev = {spiked, loss, median, tr->step, tr->lr_scale, lr * tr->lr_scale, kind};
    return gd__event_add(res, ev);
}

/* Resume from fc->ckpt_dir (monitor.h, RESUMING NEVER HIDES DAMAGE): load the newest
 * good checkpoint and note the damaged ones passed over; with none loadable, an error
 * (GD_FIT_RESUME) or a start from step 0 (GD_FIT_RESUME_OR_START). es (may be NULL)
 * gets the checkpoint's best metric. */
static int gd__resume(gd_trainer *tr, const gd_fit_cfg *fc, gd_fit_result *res, gd_early *es) {
    res->resume_error = 1;                  /* until it worked: the caller's input is wrong */
    if (!fc->ckpt_dir) return gd_seterr("fit: resuming needs a checkpoint directory");
    if (fc->resume != GD_FIT_RESUME && fc->resume != GD_FIT_RESUME_OR_START)
        return gd_seterr("fit: resume is %d, not GD_FIT_START, GD_FIT_RESUME or GD_FIT_RESUME_OR_START", fc->resume);
    const char *dir = fc->ckpt_dir;
    gd_ckpt_found f;
    if (gd_ckpt_dir_find(dir, &f) != 0) return -1;
    int rc = -1;
    const char *more = f.ndamaged > 3 ? "; ..." : "";
    if (!f.path) {
        if (fc->resume == GD_FIT_RESUME) {
            if (f.ndamaged) gd_seterr("no loadable checkpoint in %s: %d damaged (%s%s)", dir, f.ndamaged, f.damaged, more);
            else if (f.missing) gd_seterr("no checkpoint to resume from: %s does not exist", dir);
            else gd_seterr("no checkpoint to resume from in %s (no ckpt-*.bin, no best.bin)", dir);
            goto done;
        }
        res->resume_error = 0;              /* "resume if possible": start from step 0 */
        rc = f.ndamaged ? gd__note(res, "no loadable checkpoint in %s: %d damaged (%s%s): starting from step 0; the "
                                   "damaged files are kept", dir, f.ndamaged, f.damaged, more)
                        : 0;
        goto done;
    }
    double best = NAN;
    if (gd_ckpt_load(tr, f.path, &best) != 0) goto done;
    res->resume_error = 0;
    res->resumed_from = tr->step;
    if (es && isfinite(best)) es->best = best;
    if (f.ndamaged && gd__note(res, "resuming from %s (step %ld), not from the %d %sdamaged checkpoint%s (%s%s); the "
                               "damaged files are kept", f.path, tr->step, f.ndamaged, f.from_best ? "" : "newer, ",
                               f.ndamaged > 1 ? "s" : "", f.damaged, more) != 0)
        goto done;
    if (f.best_damaged && !f.from_best &&
        gd__note(res, "%s/best.bin is damaged (%s): kept; a new best will be saved beside it as best.bin after "
                 "renaming it to best.bin.damaged", dir, f.best_why) != 0)
        goto done;
    rc = 0;
done:
    gd_ckpt_found_free(&f);
    return rc;
}

void gd_fit_result_free(gd_fit_result *res) {
    gd_train_log_free(&res->log);
    free(res->events);
    for (int i = 0; i < res->nnotes; i++) free(res->notes[i]);
    free(res->notes);
    memset(res, 0, sizeof *res);
}

int gd_fit(gd_trainer *tr, const gd_fit_cfg *fc, gd_fit_result *res) {
    const gd_train_cfg *c = &tr->cfg;
    memset(res, 0, sizeof *res);
    res->log.diverged_at = res->log.collapsed_at = -1;
    res->stop_step = res->best_step = res->resumed_from = -1;
    res->best_metric = NAN;
    if (fc->backoff && !fc->ckpt_dir) return gd_seterr("fit: backing off needs a checkpoint directory");
    const char *metric_name = fc->early ? fc->early->monitor : fc->metric ? fc->metric : "val_loss";
    gd_ckpt_mode mode = fc->early ? fc->early->mode : strstr(metric_name, "acc") ? GD_CKPT_MAX : GD_CKPT_MIN;

    gd_early es;
    gd_spike sp = {0};
    int rc = -1;
    if (fc->early) gd_early_init(&es, fc->early);
    if (fc->backoff && gd_spike_init(&sp, fc->backoff->window, fc->backoff->threshold) != 0) goto done;

    if (fc->resume && gd__resume(tr, fc, res, fc->early ? &es : NULL) != 0) goto done;
    /* a checkpoint of the start, so that a spike in the first steps has one to go back to */
    if (fc->ckpt_dir && res->resumed_from < 0 &&
        (gd_ckpt_dir_save(fc->ckpt_dir, tr, NAN, mode, fc->keep_last, NULL) != 0 || gd__note_set_aside(res) != 0))
        goto done;

    long total = (long)ceil(c->epochs * tr->steps_per_epoch);
    long eval_every = c->eval_every > 0 ? c->eval_every : tr->steps_per_epoch;
    int log_every = c->log_every > 0 ? c->log_every : 50;
    double window = 0.0, first = NAN;
    int in_window = 0;
    while (tr->step < total) {
        double loss = gd_trainer_step(tr);
        // region backoff
        double median;
        int spike = fc->backoff && gd_spike_check(&sp, loss, &median);   /* not finite, or > threshold * median */
        int collapsed = !spike && gd_trainer_collapsed(tr);             /* output independent of input (train.h) */
        if (fc->backoff && (spike || collapsed)) {
            int kind = spike ? GD_EVENT_SPIKE : GD_EVENT_COLLAPSE;
            if (res->nevents >= fc->backoff->retries) {            /* out of retries: give up, say why */
                gd__give_up(tr, fc->backoff, res, loss, spike ? median : gd_spike_median(&sp), kind);
                break;
            }
            long spiked = tr->step;
            if (gd__roll_back(tr, fc->ckpt_dir, kind, spiked, res) != 0) goto done;   /* a checkpoint from before it */
            tr->lr_scale *= fc->backoff->factor;                   /* lr <- lr * factor, from now on */
            if (gd__log_backoff(tr, res, spiked, loss, spike ? median : gd_spike_median(&sp), kind) != 0) goto done;
            window = 0.0, in_window = 0;
            continue;
        }
        // endregion backoff
        if (isnan(first)) first = loss;
        window += loss;
        in_window++;
        int eval_now = (c->val || c->test) && (tr->step % eval_every == 0 || tr->step == total);
        int stop = 0;
        if (collapsed) res->log.collapsed_at = tr->step;          /* without back-off: the run ends here */
        if (tr->step % log_every == 0 || tr->step == total || eval_now || !isfinite(loss) || collapsed) {
            gd_train_row row = {tr->step, (double)tr->step / tr->steps_per_epoch, gd_optim_lr(tr->opt, 0),
                                window / in_window, NAN, NAN, NAN, NAN, NAN};
            int diverged = !fc->backoff && (!isfinite(row.train_loss) || row.train_loss > c->diverge_factor * first);
            if (eval_now && !diverged) {
                if (c->val) gd_trainer_eval(tr, c->val, c->val_idx, c->n_val, &row.val_loss, &row.val_acc);
                if (c->test)
                    gd_trainer_eval_ece(tr, c->test, NULL, 0, &row.test_loss, &row.test_acc, &row.test_ece);
            }
            if (gd__row_add(&res->log, row) != 0) goto done;
            window = 0.0;
            in_window = 0;
            if (diverged) {
                res->log.diverged_at = tr->step;
                break;
            }
            if (collapsed) break;
            // region evaluation
            if (eval_now) {
                double m = gd__metric(&row, metric_name);
                if (tr->sched && gd_sched_has_plateau(tr->sched)) gd_sched_observe(tr->sched, m); /* reduce on plateau */
                if (fc->early) {
                    int r = gd_early_observe(&es, m, &tr->model);                         /* early stopping */
                    if (r < 0) goto done;
                    if (r == GD_EARLY_IMPROVED) res->best_step = tr->step, res->best_metric = m;
                    if (r == GD_EARLY_STOP) stop = 1, res->stopped_early = 1, res->stop_step = tr->step;
                }
                if (fc->ckpt_dir && gd_ckpt_dir_save(fc->ckpt_dir, tr, m, mode, fc->keep_last, NULL) != 0) goto done;
            }
            // endregion evaluation
        }
        if (!eval_now && fc->ckpt_dir && fc->ckpt_every > 0 && tr->step % fc->ckpt_every == 0 &&
            gd_ckpt_dir_save(fc->ckpt_dir, tr, NAN, mode, fc->keep_last, NULL) != 0)
            goto done;
        int saved = fc->ckpt_dir && (eval_now || (fc->ckpt_every > 0 && tr->step % fc->ckpt_every == 0));
        if (saved && gd__note_set_aside(res) != 0) goto done;   /* a damaged file the save renamed aside */
        if (stop) break;
        if (fc->stop_at > 0 && tr->step >= fc->stop_at) {
            res->interrupted = 1;
            break;
        }
    }
    if (fc->early && !res->interrupted) {
        int r = gd_early_restore(&es, &tr->model);          /* the best weights, fired or not */
        if (r < 0) goto done;
        res->restored = r;
    }
    res->log.steps = tr->step;
    rc = 0;
done:
    if (fc->early) gd_early_free(&es);
    gd_spike_free(&sp);
    return rc;
}

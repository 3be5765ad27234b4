/* fit.c -- monitored training runs on Fashion-MNIST, one per seed, Chapter 7.
 *
 * An MLP trains on a subset of the training images while a held-out validation split
 * (gd_split: images the training never sees) is evaluated every epoch (or every
 * --eval-every steps); the 10000 test images are evaluated alongside, for the text's
 * tables only -- nothing is decided on them. The loop is lib/monitor.h's gd_fit:
 *
 *   --early SPEC     early stopping (monitor, mode, min_delta, patience,
 *                    restore_best_weights), e.g. patience=5:min_delta=0.001
 *   --backoff SPEC   on a loss spike or a collapse roll back to a checkpoint and
 *                    multiply the lr by factor, at most `retries` times
 *   --ckpt-dir DIR   checkpoints (lib/ckpt.h): one per evaluation and every --ckpt-every
 *                    steps, the last --keep-last kept, best.bin by the monitored metric
 *                    (with --seeds N > 1, one directory DIR/sK per seed)
 *   --stop-at K      end after step K as if the process were killed; --resume starts
 *                    from DIR's newest good checkpoint, saying on stderr which damaged
 *                    ones it passed over (they are kept), and refuses (exit 2) when
 *                    none is loadable; --resume-or-start starts from step 0 then
 *   --what-if SPECS  early-stopping specs (';' between them) replayed on each seed's
 *                    logged evaluations: where each would have stopped, which epoch it
 *                    would have restored, and that epoch's test numbers. A stopped run
 *                    is the full run cut short (the tests check it row by row), so
 *                    this is what running it would give, without the extra runs.
 *
 * --seeds N repeats the run with seeds seed, seed+1, ... (lib/trainopt.h). Writes the
 * logs (--out, a seed column), the back-off events (--events), one row per seed
 * (--runs), the median and range over the seeds of every evaluation (--bands), the
 * first seed's final state as a checkpoint (--final, best weights restored) and the
 * numbers the text quotes, prefixed by --key (--numbers): medians and ranges over the
 * seeds, counts of outcomes, and the list of every seed's events, generated whole.
 * Outcomes of a run: "finished", "diverged" (trainer's rule), "collapsed" (the output
 * stopped depending on the input, train.h), "gave up" (back-off out of retries). None
 * is an error: the exit status is 0 (2 for a wrong option, data directory or checkpoint
 * to resume from; 1 when a file cannot be written).
 * Leaves out: data augmentation, weight decay, saving the early-stopping counters in
 * the checkpoint (a resumed run starts its patience afresh).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXWI 4      /* what-if specs */
#define NWI 8        /* numbers per what-if */

/* FNV-1a over the parameters' bytes: equal hashes for bitwise equal parameters. */
static unsigned long long param_hash(const gd_mlp *m) {
    unsigned long long h = 1469598103934665603ull;
    for (int p = 0; p < m->nparams; p++) {
        const unsigned char *b = (const unsigned char *)m->params[p].value->data;
        for (size_t i = 0; i < m->params[p].value->size * sizeof(float); i++) h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

/* One seed's run, as the tables need it. */
typedef struct {
    uint64_t seed;
    gd_fit_result res;
    long steps;
    double final_val_loss, final_test_loss, final_test_acc, final_test_ece;
    const gd_train_row *last;        /* the last evaluated row (the last epoch's model) */
    const gd_train_row *end;         /* the last row */
    const char *outcome;
    unsigned long long hash;
    int spikes, collapses;
    /* what-if i: stop epoch, best epoch, steps, test loss and accuracy at the stop (not
     * restored), test loss, accuracy and ECE at the best (restored), fired (0/1) */
    double wi[MAXWI][NWI];
} seed_run;
enum { WI_STOP, WI_BEST, WI_STEPS, WI_STOP_LOSS, WI_STOP_ACC, WI_BEST_LOSS, WI_BEST_ACC, WI_BEST_ECE };

static double metric_of(const gd_train_row *r, const char *name) {
    if (strcmp(name, "val_acc") == 0) return r->val_acc;
    if (strcmp(name, "train_loss") == 0) return r->train_loss;
    return r->val_loss;
}

/* Replay early stopping ec on the logged evaluations (gd_early itself, fed the logged
 * metric): where it would stop and what it would restore. */
static void what_if(seed_run *s, const gd_early_cfg *ec, long spe, double *out) {
    gd_early es;
    gd_early_init(&es, ec);
    const gd_train_row *best = NULL, *stop = NULL, *lastev = NULL;
    for (int i = 0; i < s->res.log.n && !stop; i++) {
        const gd_train_row *r = &s->res.log.rows[i];
        if (isnan(r->val_loss)) continue;
        lastev = r;
        int k = gd_early_observe(&es, metric_of(r, ec->monitor), NULL);
        if (k == GD_EARLY_IMPROVED) best = r;
        if (k == GD_EARLY_STOP) stop = r;
    }
    gd_early_free(&es);
    for (int j = 0; j < NWI; j++) out[j] = NAN;
    const gd_train_row *at = stop ? stop : lastev;
    if (!at) return;
    out[WI_STOP] = (double)(at->step / spe);
    out[WI_STEPS] = (double)at->step;
    out[WI_STOP_LOSS] = at->test_loss, out[WI_STOP_ACC] = 100 * at->test_acc;
    if (best) {
        out[WI_BEST] = (double)(best->step / spe);
        out[WI_BEST_LOSS] = best->test_loss, out[WI_BEST_ACC] = 100 * best->test_acc;
        out[WI_BEST_ECE] = best->test_ece;
    }
    (void)stop;
}

/* key_NAME = median, key_NAME_min, key_NAME_max over the seeds (NaNs left out). */
static void kv_stats(gd_table *t, const char *key, const char *name, const char *fmt, const double *v, int n) {
    gd_stats st = gd_stats_of(v, n);
    char k[160], f[32];
    snprintf(f, sizeof f, "%s", fmt);
    snprintf(k, sizeof k, "%s_%s", key, name);
    gd_table_kv(t, k, f, st.median);
    snprintf(k, sizeof k, "%s_%s_min", key, name);
    gd_table_kv(t, k, f, st.min);
    snprintf(k, sizeof k, "%s_%s_max", key, name);
    gd_table_kv(t, k, f, st.max);
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.optim = "sgd:lr=0.1:momentum=0.9";
    const char *early_arg = NULL, *backoff_arg = NULL, *ckpt_dir = NULL, *out = NULL, *events = NULL, *runs = NULL;
    const char *final = NULL, *numbers = NULL, *bands = NULL, *whatif_arg = NULL, *key = "run";
    double epochs = 10;
    long train_size = 0, val_size = 5000, eval_every = 0, log_every = 10, collapse_window = 50;
    long ckpt_every = 0, keep_last = 3, stop_at = 0;
    int resume = 0, resume_or_start = 0;
    uint64_t split_seed = 7;
    gd_opt opts[] = {
        GD_TRAIN_OPTS_MODEL(&to),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_FLOAT("epochs", &epochs, "passes over the training subset", 0, 10000, 1),
        GD_OPT_INT("train-size", &train_size, "train on this many images of the training split (0: all)", 0, 59999),
        GD_OPT_INT("val-size", &val_size, "images held out of the 60000 for validation", 1, 59999),
        GD_OPT_INT("eval-every", &eval_every, "steps between evaluations (0: every epoch)", 0, 10000000),
        GD_OPT_INT("log-every", &log_every, "steps per logged training-loss window", 1, 1000000),
        GD_OPT_INT("collapse-window", &collapse_window, "steps the collapse rule looks back over (0: off; train.h)", 0,
                   1000000),
        GD_OPT_SEED("split-seed", &split_seed, "seed of the train/validation split"),
        GD_OPT_STRING("early", &early_arg, "early stopping spec, e.g. patience=5:min_delta=0.001 (monitor.h)"),
        GD_OPT_STRING("what-if", &whatif_arg, "early stopping specs replayed on the log, ';' between them"),
        GD_OPT_STRING("backoff", &backoff_arg, "back-off spec, e.g. factor=0.5:retries=4:threshold=3 (monitor.h)"),
        GD_OPT_OUTDIR("ckpt-dir", &ckpt_dir, "checkpoint directory"),
        GD_OPT_INT("ckpt-every", &ckpt_every, "steps between checkpoints besides evaluations (0: none)", 0, 10000000),
        GD_OPT_INT("keep-last", &keep_last, "checkpoints kept besides best.bin (0: all)", 0, 1000000),
        GD_OPT_INT("stop-at", &stop_at, "end after this step, as if killed (0: never)", 0, 100000000),
        GD_OPT_FLAG("resume", &resume, "start from the newest good checkpoint in --ckpt-dir (none loadable: exit 2)"),
        GD_OPT_FLAG("resume-or-start", &resume_or_start,
                    "resume if --ckpt-dir holds a loadable checkpoint, else start from step 0 (damaged ones are kept)"),
        GD_OPT_OUT("out", &out, "write the training logs to this table"),
        GD_OPT_OUT("events", &events, "write the back-off events to this table"),
        GD_OPT_OUT("runs", &runs, "write one row per seed to this table"),
        GD_OPT_OUT("bands", &bands, "write the median and range over the seeds of each evaluation here"),
        GD_OPT_OUT("final", &final, "save the first seed's final state (best weights restored) here"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the text quotes to this table"),
        GD_OPT_STRING("key", &key, "prefix of the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST with validation monitoring, early stopping, "
                          "checkpoints and back-off on loss spikes and collapses, over seeds (Chapter 7).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    /* every spec is checked before the (slow) loading */
    gd_train_cfg cfg = gd_train_defaults();
    if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;
    gd_optim_kind kind;
    gd_hparams hp;
    gd_optim_parse(to.optim, &kind, &hp);   /* checked by gd_train_opts_apply */
    gd_early_cfg ec = gd_early_defaults();
    if (early_arg && gd_early_parse(early_arg, &ec) != 0) {
        fprintf(stderr, "%s: --early: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_early_cfg wi[MAXWI];
    char wi_spec[MAXWI][128];
    int nwi = 0;
    if (whatif_arg) {
        char *buf = strdup(whatif_arg);   /* whole: a long list is refused below, never cut */
        if (!buf) {
            fprintf(stderr, "%s: --what-if: out of memory\n", gd_prog());
            return 1;
        }
        char *save = NULL;
        for (char *sp = strtok_r(buf, ";", &save); sp; sp = strtok_r(NULL, ";", &save)) {
            if (nwi == MAXWI) {
                fprintf(stderr, "%s: --what-if: more than %d specs\n", gd_prog(), MAXWI);
                free(buf);
                return 2;
            }
            wi[nwi] = gd_early_defaults();
            if (strlen(sp) >= sizeof wi_spec[0] || gd_early_parse(sp, &wi[nwi]) != 0) {
                fprintf(stderr, "%s: --what-if: %s\n", gd_prog(), strlen(sp) >= sizeof wi_spec[0] ? "spec too long"
                                                                                                 : gd_error());
                free(buf);
                return 2;
            }
            snprintf(wi_spec[nwi++], sizeof wi_spec[0], "%s", sp);
        }
        free(buf);
    }
    gd_backoff_cfg bc = gd_backoff_defaults();
    if (backoff_arg && gd_backoff_parse(backoff_arg, &bc) != 0) {
        fprintf(stderr, "%s: --backoff: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (train_size > 0 && train_size + val_size > 60000) {
        fprintf(stderr, "%s: --train-size: %ld training and %ld validation images exceed the 60000\n", gd_prog(),
                train_size, val_size);
        return 2;
    }
    if (strlen(key) > 100) {   /* the numbers' keys are KEY_NAME in 160-byte buffers: refuse, never cut */
        fprintf(stderr, "%s: --key: longer than 100 characters\n", gd_prog());
        return 2;
    }
    if (resume && resume_or_start) {
        fprintf(stderr, "%s: --resume-or-start: give one of --resume and --resume-or-start\n", gd_prog());
        return 2;
    }
    if ((backoff_arg || resume || resume_or_start || stop_at) && !ckpt_dir) {
        fprintf(stderr, "%s: --ckpt-dir: needed by %s\n", gd_prog(),
                backoff_arg ? "--backoff" : resume ? "--resume" : resume_or_start ? "--resume-or-start" : "--stop-at");
        return 2;
    }

    gd_images train, test;
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;   /* the data directory is wrong */
    int N = train.n, S = (int)to.seeds;
    int *train_idx = malloc((size_t)N * sizeof *train_idx), *val_idx = malloc((size_t)N * sizeof *val_idx);
    seed_run *sr = calloc((size_t)S, sizeof *sr);
    int status = 1;
    long spe = 0;
    char *dir = ckpt_dir ? malloc(strlen(ckpt_dir) + 32) : NULL;   /* DIR or DIR/sSEED */
    if (!train_idx || !val_idx || !sr || (ckpt_dir && !dir)) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        goto done;
    }
    if (val_size >= N || gd_split(train_idx, val_idx, N, (int)val_size, split_seed) != 0) {
        fprintf(stderr, "%s: --val-size: cannot hold out %ld of the %d training images\n", gd_prog(), val_size, N);
        status = 2;                     /* the data directory holds too few */
        goto done;
    }
    gd_blas_threads(1);
    cfg.epochs = epochs;
    cfg.train = &train;
    cfg.train_idx = train_idx;              /* the first train_size of the training split */
    cfg.n_train = (int)(train_size > 0 && train_size < N - val_size ? train_size : N - val_size);
    cfg.val = &train;
    cfg.val_idx = val_idx;
    cfg.n_val = (int)val_size;
    cfg.test = &test;
    cfg.eval_every = (int)eval_every;
    cfg.log_every = (int)log_every;
    cfg.collapse_window = (int)collapse_window;
    cfg.label = key;

    for (int s = 0; s < S; s++) {
        seed_run *r = &sr[s];
        r->seed = cfg.seed = to.seed + (uint64_t)s;
        if (ckpt_dir && S > 1) sprintf(dir, "%s/s%llu", ckpt_dir, (unsigned long long)r->seed);   /* fits: + 32 */
        else if (ckpt_dir) strcpy(dir, ckpt_dir);
        gd_trainer *tr = gd_trainer_new(&cfg);
        if (!tr) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            goto done;
        }
        spe = tr->steps_per_epoch;
        gd_fit_cfg fc = {early_arg ? &ec : NULL, backoff_arg ? &bc : NULL, ckpt_dir ? dir : NULL, NULL,
                         (int)ckpt_every, (int)keep_last, stop_at,
                         resume ? GD_FIT_RESUME : resume_or_start ? GD_FIT_RESUME_OR_START : GD_FIT_START};
        int fit_rc = gd_fit(tr, &fc, &r->res);
        /* damaged checkpoints passed over or renamed aside: one line each, even on failure */
        for (int i = 0; i < r->res.nnotes; i++) fprintf(stderr, "%s: %s\n", gd_prog(), r->res.notes[i]);
        if (fit_rc != 0) {
            const char *opt = !r->res.resume_error ? "" : resume ? "--resume: " : "--resume-or-start: ";
            fprintf(stderr, "%s: %s%s\n", gd_prog(), opt, gd_error());
            if (r->res.resume_error) status = 2;   /* the checkpoint to resume from is wrong */
            gd_trainer_free(tr);
            goto done;
        }
        /* the final model (the best weights, if restored), on validation and test */
        double val_acc = NAN, test_ece = NAN;
        r->final_val_loss = r->final_test_loss = r->final_test_acc = r->final_test_ece = NAN;
        if (!r->res.gave_up && r->res.log.diverged_at < 0) {
            gd_trainer_eval(tr, &train, val_idx, (int)val_size, &r->final_val_loss, &val_acc);
            gd_trainer_eval_ece(tr, &test, NULL, 0, &r->final_test_loss, &r->final_test_acc, &test_ece);
            r->final_test_ece = test_ece;
        }
        r->hash = param_hash(&tr->model);
        r->steps = tr->step;
        for (int i = r->res.log.n - 1; i >= 0 && !r->last; i--)
            if (!isnan(r->res.log.rows[i].val_loss)) r->last = &r->res.log.rows[i];
        r->end = r->res.log.n ? &r->res.log.rows[r->res.log.n - 1] : NULL;
        for (int i = 0; i < r->res.nevents; i++) r->collapses += r->res.events[i].kind == GD_EVENT_COLLAPSE;
        r->spikes = r->res.nevents - r->collapses;
        r->outcome = r->res.gave_up ? "gave up" : r->res.log.diverged_at >= 0 ? "diverged"
                   : r->res.log.collapsed_at >= 0 ? "collapsed" : "finished";
        for (int w = 0; w < nwi; w++) what_if(r, &wi[w], spe, r->wi[w]);
        if (s == 0 && final && gd_ckpt_save(tr, final, r->res.best_metric) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            gd_trainer_free(tr);
            goto done;
        }
        printf("%s seed %llu: %s after %ld steps, %d back-offs%s%s; test accuracy %.2f%%, params %016llx%s%s\n", key,
               (unsigned long long)r->seed, r->outcome, r->steps, r->res.nevents,
               r->res.stopped_early ? ", stopped early" : "", r->res.restored ? ", best weights restored" : "",
               100 * r->final_test_acc, r->hash, r->res.gave_up ? ": " : "", r->res.gave_up ? r->res.report : "");
        gd_trainer_free(tr);
    }
    status = 0;

    char optim_c[512], early_c[256] = "none", backoff_c[256] = "none";
    gd_optim_format(optim_c, sizeof optim_c, kind, &hp);
    if (early_arg) gd_early_format(early_c, sizeof early_c, &ec);
    if (backoff_arg) gd_backoff_format(backoff_c, sizeof backoff_c, &bc);
#define META(t)                                                                                                   \
    do {                                                                                                          \
        gd_table_meta(t, "program", "ch07-fit --key %s", key);                                                    \
        gd_table_meta(t, "optimizer", "%s", optim_c);                                                             \
        gd_table_meta(t, "schedule", "%s", to.sched ? to.sched : "constant");                                     \
        gd_table_meta(t, "model", "MLP %s, ReLU; batch %ld; %g epochs of %ld updates; %d training images, %ld "  \
                      "validation (split seed %llu)", to.dims, to.batch_size, epochs, spe, cfg.n_train, val_size, \
                      (unsigned long long)split_seed);                                                            \
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed,                                    \
                      (unsigned long long)(to.seed + (uint64_t)S - 1));                                           \
        gd_table_meta(t, "early", "%s", early_c);                                                                 \
        gd_table_meta(t, "backoff", "%s", backoff_c);                                                             \
        gd_table_meta(t, "collapse_window", "%ld", collapse_window);                                              \
    } while (0)
    if (out) {
        gd_table *t = gd_table_open(out, "seed step epoch lr train_loss val_loss val_acc test_loss test_acc test_ece");
        if (!t) goto fail;
        META(t);
        gd_table_meta(t, "columns", "train_loss: mean minibatch loss since the previous row; val: the held-out "
                                    "split; test: the 10000 test images (NaN between evaluations); one block per seed");
        for (int s = 0; s < S; s++) {
            if (s) gd_table_block(t);
            for (int i = 0; i < sr[s].res.log.n; i++) {
                const gd_train_row *r = &sr[s].res.log.rows[i];
                gd_table_row(t, "%llu %ld %.4f %.6g %.6g %.6f %.6f %.6f %.6f %.6f", (unsigned long long)sr[s].seed,
                             r->step, r->epoch, r->lr, r->train_loss, r->val_loss, r->val_acc, r->test_loss,
                             r->test_acc, r->test_ece);
            }
        }
        if (gd_table_close(t) != 0) goto fail;
    }
    if (events) {
        gd_table *t = gd_table_open(events, "seed kind step loss median rollback_to lr_scale lr");
        if (!t) goto fail;
        META(t);
        for (int s = 0; s < S; s++)
            for (int i = 0; i < sr[s].res.nevents; i++) {
                const gd_backoff_event *e = &sr[s].res.events[i];
                gd_table_row(t, "%llu %s %ld %.6g %.6g %ld %.6g %.6g", (unsigned long long)sr[s].seed,
                             e->kind == GD_EVENT_COLLAPSE ? "collapse" : "spike", e->step, e->loss, e->median,
                             e->rollback_to, e->lr_scale, e->lr);
            }
        if (gd_table_close(t) != 0) goto fail;
    }
    if (runs) {
        char cols[2048] = "seed outcome steps diverged_at collapsed_at backoffs spikes collapses stopped_early "
                          "stop_epoch best_epoch best_metric final_val_loss final_test_loss final_test_acc "
                          "final_test_ece last_epoch last_val_loss last_test_loss last_test_acc last_test_ece "
                          "end_step end_loss params";
        for (int w = 0; w < nwi; w++) {
            size_t l = strlen(cols);
            snprintf(cols + l, sizeof cols - l, " wi%d_stop_epoch wi%d_best_epoch wi%d_steps wi%d_stop_test_loss "
                     "wi%d_stop_test_acc wi%d_best_test_loss wi%d_best_test_acc wi%d_best_test_ece",
                     w + 1, w + 1, w + 1, w + 1, w + 1, w + 1, w + 1, w + 1);
        }
        gd_table *t = gd_table_open(runs, cols);
        if (!t) goto fail;
        META(t);
        for (int w = 0; w < nwi; w++) gd_table_meta(t, "what-if", "wi%d: %s", w + 1, wi_spec[w]);
        for (int s = 0; s < S; s++) {
            const seed_run *r = &sr[s];
            const gd_train_row *l = r->last;
            char row[4096];
            int len = snprintf(row, sizeof row,
                               "%llu %s %ld %ld %ld %d %d %d %d %ld %ld %.6f %.6f %.6f %.4f %.6f %.0f %.6f %.6f "
                               "%.4f %.6f %ld %.6g %016llx", (unsigned long long)r->seed,
                               strcmp(r->outcome, "gave up") == 0 ? "gave_up" : r->outcome, r->steps,
                               r->res.log.diverged_at, r->res.log.collapsed_at, r->res.nevents, r->spikes,
                               r->collapses, r->res.stopped_early, r->res.stop_step >= 0 ? r->res.stop_step / spe : -1,
                               r->res.best_step >= 0 ? r->res.best_step / spe : -1, r->res.best_metric,
                               r->final_val_loss, r->final_test_loss, 100 * r->final_test_acc, r->final_test_ece,
                               l ? l->epoch : NAN, l ? l->val_loss : NAN, l ? l->test_loss : NAN,
                               l ? 100 * l->test_acc : NAN, l ? l->test_ece : NAN, r->end ? r->end->step : 0,
                               r->end ? r->end->train_loss : NAN, r->hash);
            for (int w = 0; w < nwi; w++)
                len += snprintf(row + len, sizeof row - (size_t)len, " %.0f %.0f %.0f %.6f %.4f %.6f %.4f %.6f",
                                r->wi[w][0], r->wi[w][1], r->wi[w][2], r->wi[w][3], r->wi[w][4], r->wi[w][5],
                                r->wi[w][6], r->wi[w][7]);
            gd_table_row(t, "%s", row);
        }
        if (gd_table_close(t) != 0) goto fail;
    }
    if (bands) {
        /* per evaluated step: median, min, max over the seeds that reached it */
        gd_table *t = gd_table_open(bands, "step epoch seeds train_loss train_loss_min train_loss_max val_loss "
                                           "val_loss_min val_loss_max val_acc val_acc_min val_acc_max test_loss "
                                           "test_loss_min test_loss_max test_acc test_acc_min test_acc_max");
        if (!t) goto fail;
        META(t);
        double *v = malloc((size_t)S * sizeof *v);
        long prev = -1;
        for (;;) {
            long next = -1;   /* the smallest evaluated step after prev, over the seeds */
            for (int s = 0; s < S; s++)
                for (int i = 0; i < sr[s].res.log.n; i++) {
                    const gd_train_row *r = &sr[s].res.log.rows[i];
                    if (!isnan(r->val_loss) && r->step > prev && (next < 0 || r->step < next)) next = r->step;
                }
            if (next < 0) break;
            char row[1024];
            int len = snprintf(row, sizeof row, "%ld %.4f", next, (double)next / spe), n = 0;
            for (int c = 0; c < 5; c++) {
                n = 0;
                for (int s = 0; s < S; s++)
                    for (int i = 0; i < sr[s].res.log.n; i++) {
                        const gd_train_row *r = &sr[s].res.log.rows[i];
                        if (r->step != next || isnan(r->val_loss)) continue;
                        double x[5] = {r->train_loss, r->val_loss, 100 * r->val_acc, r->test_loss, 100 * r->test_acc};
                        v[n++] = x[c];
                    }
                gd_stats st = gd_stats_of(v, n);
                if (c == 0) len += snprintf(row + len, sizeof row - (size_t)len, " %d", n);
                len += snprintf(row + len, sizeof row - (size_t)len, " %.6g %.6g %.6g", st.median, st.min, st.max);
            }
            gd_table_row(t, "%s", row);
            prev = next;
        }
        free(v);
        if (gd_table_close(t) != 0) goto fail;
    }
    if (numbers) {
        gd_table *t = gd_table_open(numbers, "key value");
        if (!t) goto fail;
        gd_table_meta(t, "program", "ch07-fit --key %s", key);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed, (unsigned long long)(to.seed + S - 1));
        char k[160];
#define KV(name, ...) (snprintf(k, sizeof k, "%s_%s", key, name), gd_table_kv(t, k, __VA_ARGS__))
        KV("lr", "%g", hp.lr);
        KV("optim", "%s", to.optim);
        KV("dims", "%s", to.dims);
        KV("sched", "%s", to.sched ? to.sched : "constant");
        KV("ckpt_every", "%ld", ckpt_every);
        KV("keep_last", "%ld", keep_last);
        KV("stop_at", "%ld", stop_at);
        KV("train_size", "%d", cfg.n_train);
        KV("val_size", "%ld", val_size);
        KV("batch_size", "%ld", to.batch_size);
        KV("epochs", "%g", epochs);
        KV("steps_per_epoch", "%ld", spe);
        KV("total_steps", "%.0f", ceil(epochs * spe));
        KV("early", "%s", early_arg ? early_arg : "none");
        KV("backoff", "%s", backoff_arg ? backoff_arg : "none");
        KV("backoff_factor", "%g", bc.factor);
        KV("backoff_window", "%d", bc.window);
        KV("backoff_threshold", "%g", bc.threshold);
        KV("backoff_retries", "%d", bc.retries);
        KV("collapse_window", "%ld", collapse_window);
        KV("seeds", "%d", S);
        KV("seed_first", "%llu", (unsigned long long)to.seed);
        KV("seed_last", "%llu", (unsigned long long)(to.seed + S - 1));
        /* the first seed's run, for the properties that hold bitwise (resume, restore) */
        KV("params", "%016llx", sr[0].hash);
        KV("resumed_from", "%ld", sr[0].res.resumed_from);
        KV("steps", "%ld", sr[0].steps);
        KV("stopped_early", "%d", sr[0].res.stopped_early);

        double *v = malloc((size_t)S * sizeof *v);
#define STAT(name, fmt, expr)                                              \
    do {                                                                   \
        for (int s = 0; s < S; s++) {                                      \
            const seed_run *r = &sr[s];                                    \
            v[s] = (expr);                                                 \
        }                                                                  \
        kv_stats(t, key, name, fmt, v, S);                                 \
    } while (0)
        STAT("steps_run", "%.0f", (double)r->steps);
        STAT("best_epoch", "%.0f", r->res.best_step >= 0 ? (double)(r->res.best_step / spe) : NAN);
        STAT("stop_epoch", "%.0f", r->res.stop_step >= 0 ? (double)(r->res.stop_step / spe) : NAN);
        STAT("best_metric", "%.4f", r->res.best_metric);
        STAT("final_val_loss", "%.4f", r->final_val_loss);
        STAT("final_test_loss", "%.4f", r->final_test_loss);
        STAT("final_test_acc", "%.2f", 100 * r->final_test_acc);
        STAT("final_test_ece", "%.3f", r->final_test_ece);
        STAT("last_epoch", "%.0f", r->last ? r->last->epoch : NAN);
        STAT("last_val_loss", "%.4f", r->last ? r->last->val_loss : NAN);
        STAT("last_test_loss", "%.4f", r->last ? r->last->test_loss : NAN);
        STAT("last_test_acc", "%.2f", r->last ? 100 * r->last->test_acc : NAN);
        STAT("last_test_ece", "%.3f", r->last ? r->last->test_ece : NAN);
        /* what restoring changed: restored minus last epoch, per seed */
        STAT("restore_gain_acc", "%.2f", r->last ? 100 * (r->final_test_acc - r->last->test_acc) : NAN);
        STAT("restore_gain_loss", "%.4f", r->last ? r->last->test_loss - r->final_test_loss : NAN);
        STAT("restore_gain_ece", "%.3f", r->last ? r->last->test_ece - r->final_test_ece : NAN);
        int lost = 0, gained_loss = 0, gained_ece = 0;
        for (int s = 0; s < S; s++) {
            const seed_run *r = &sr[s];
            if (!r->last) continue;
            lost += r->final_test_acc < r->last->test_acc;
            gained_loss += r->final_test_loss < r->last->test_loss;
            gained_ece += r->final_test_ece < r->last->test_ece;
        }
        KV("n_restore_lost_acc", "%d", lost);
        KV("n_restore_lower_loss", "%d", gained_loss);
        KV("n_restore_lower_ece", "%d", gained_ece);
        for (int w = 0; w < nwi; w++) {
            const char *nm[NWI] = {"stop_epoch", "best_epoch", "steps", "stop_test_loss", "stop_test_acc",
                                   "best_test_loss", "best_test_acc", "best_test_ece"};
            const char *fm[NWI] = {"%.0f", "%.0f", "%.0f", "%.4f", "%.2f", "%.4f", "%.2f", "%.3f"};
            char name[64];
            snprintf(k, sizeof k, "%s_wi%d_spec", key, w + 1);
            gd_table_kv(t, k, "%s", wi_spec[w]);
            for (int j = 0; j < NWI; j++) {
                for (int s = 0; s < S; s++) v[s] = sr[s].wi[w][j];
                snprintf(name, sizeof name, "wi%d_%s", w + 1, nm[j]);
                kv_stats(t, key, name, fm[j], v, S);
            }
        }
        /* outcomes and events, counted and listed whole */
        int n_fin = 0, n_div = 0, n_col = 0, n_gave = 0, n_backed = 0, n_chance = 0, ev_spike = 0, ev_col = 0;
        for (int s = 0; s < S; s++) {
            const seed_run *r = &sr[s];
            n_fin += strcmp(r->outcome, "finished") == 0;
            n_div += strcmp(r->outcome, "diverged") == 0;
            n_col += strcmp(r->outcome, "collapsed") == 0;
            n_gave += strcmp(r->outcome, "gave up") == 0;
            n_backed += r->res.nevents > 0;
            n_chance += strcmp(r->outcome, "finished") == 0 && r->final_test_acc < 0.2;
            ev_spike += r->spikes, ev_col += r->collapses;
        }
        KV("n_finished", "%d", n_fin);
        KV("n_diverged", "%d", n_div);
        KV("n_collapsed", "%d", n_col);
        KV("n_gave_up", "%d", n_gave);
        KV("n_dead", "%d", n_div + n_col + n_gave);
        KV("n_finished_at_chance", "%d", n_chance);
        KV("n_learned", "%d", n_fin - n_chance);   /* finished above 20 % test accuracy */
        KV("n_backed_off", "%d", n_backed);
        KV("spike_events", "%d", ev_spike);
        KV("collapse_events", "%d", ev_col);
        STAT("finished_test_acc", "%.1f", strcmp(r->outcome, "finished") == 0 ? 100 * r->final_test_acc : NAN);
        STAT("backoffs", "%.0f", (double)r->res.nevents);
        /* "3 finished, 1 collapsed, 1 diverged" (zero counts left out) */
        {
            char line[256] = "";
            const char *names[4] = {"finished", "diverged", "collapsed", "gave up"};
            int counts[4] = {n_fin, n_div, n_col, n_gave};
            for (int i = 0, len = 0; i < 4; i++)
                if (counts[i]) len += snprintf(line + len, sizeof line - (size_t)len, "%s%d %s", len ? ", " : "",
                                               counts[i], names[i]);
            KV("outcomes", "%s", line);
        }
        /* every seed's events and outcome, a table generated whole */
        {
            size_t cap = 65536, len = 0;
            char *b = malloc(cap);
            len += (size_t)snprintf(b + len, cap - len, "| seed | back-offs (step: what, loss, went back to, lr after)"
                                                        " | outcome | test accuracy (%%) |\n|---:|---|---|---:|\n");
            for (int s = 0; s < S && len < cap - 2048; s++) {
                const seed_run *r = &sr[s];
                len += (size_t)snprintf(b + len, cap - len, "| %llu | ", (unsigned long long)r->seed);
                if (!r->res.nevents) len += (size_t)snprintf(b + len, cap - len, "none");
                for (int i = 0; i < r->res.nevents && len < cap - 1024; i++) {
                    const gd_backoff_event *e = &r->res.events[i];
                    len += (size_t)snprintf(b + len, cap - len, "%s%ld: %s, %.3g, to %ld, %.3g", i ? "; " : "",
                                            e->step, e->kind == GD_EVENT_COLLAPSE ? "collapse" : "spike", e->loss,
                                            e->rollback_to, e->lr);
                }
                char acc[32] = "--";
                if (!isnan(r->final_test_acc)) snprintf(acc, sizeof acc, "%.1f", 100 * r->final_test_acc);
                long at = strcmp(r->outcome, "collapsed") == 0 ? r->res.log.collapsed_at : r->res.log.diverged_at;
                if (strcmp(r->outcome, "finished") == 0)
                    len += (size_t)snprintf(b + len, cap - len, " | finished | %s |\n", acc);
                else
                    len += (size_t)snprintf(b + len, cap - len, " | %s%s at step %ld | %s |\n", r->outcome,
                                            r->res.gave_up ? (r->res.gave_up_kind == GD_EVENT_COLLAPSE
                                                                  ? " (collapse)" : " (spike)") : "",
                                            at, acc);
            }
            if (len && b[len - 1] == '\n') b[--len] = '\0';
            KV("events", "%s", b);
            free(b);
        }
        free(v);
#undef STAT
#undef KV
        if (gd_table_close(t) != 0) goto fail;
    }
    goto done;
fail:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    status = 1;
done:
    for (int s = 0; sr && s < S; s++) gd_fit_result_free(&sr[s].res);
    free(sr);
    free(dir);
    free(train_idx);
    free(val_idx);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;
}

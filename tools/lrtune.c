/* lrtune.c -- `lrtune`: Chapter 8's recipe for the learning rate, as one program.
 *
 *   build/bin/lrtune --model gpt:layers=2:heads=4:width=16:context=32 --steps 256 \
 *                    --batch-size 8 --dir build/tune/gpt16
 *
 * Given a model and data the library knows and a budget of updates, it runs the recipe
 * in order and writes each step's evidence to a table in --dir:
 *   1. sanity checks (sanity.tsv): the loss at initialisation against ln C (C classes
 *      or vocabulary), within 10%; a gradient check (lib/gradcheck.h) of the 8
 *      largest coordinates of every parameter tensor's gradient on a tiny batch,
 *      relative error <= 0.02 (0.1 for models with kinks, see sanity_init); and
 *      overfitting one batch (not for quad): 100 updates of Adam at lr 3e-3 on it must
 *      halve its loss (Adam, whatever --optim says: this checks the model and the data).
 *      A failed check stops the program (exit 1) unless --force.
 *   2. the range test (range.tsv): fastai's lr_find as Chapter 3 runs it
 *      (chapters/03-choosing/rangetest.c): the lr grows exponentially from 1e-7 to 10
 *      over 100 updates, the loss is smoothed (debiased EMA, beta 0.98), the test stops
 *      at 4x the best smoothed loss, and fastai's suggestions are read off (valley,
 *      steep, minimum = min_lr / 10).
 *   3. a short multi-seed sweep (sweep.tsv, a table of lib/sweep.h) of peak lrs on the
 *      half-decade lattice {1, 3.16} x 10^k, from the valley suggestion (rounded down)
 *      to min_lr, the lr at the lowest smoothed loss (rounded up); if that is more than
 *      --max-points (5) lrs, the --max-points of them centred on the steep suggestion;
 *      at least 3. Every run uses the schedule sized to the budget (--sched, with the
 *      warmup of step 4), --seeds seeds each. Then the refinement (refine.tsv): the two
 *      quarter-decade lrs on either side of the best of those (--no-refine skips it).
 *   4. the recommendation (recommend.tsv, a "key value" numbers table; summary.tsv, one
 *      row per lr of both sweeps): the peak lr with the lowest median validation loss
 *      over the seeds (a diverged run counts as +inf), the optimizer, the warmup and the
 *      schedule.
 *      The warmup is Ma & Yarats's 2/(1-beta2) updates for the Adam family, one
 *      twentieth of the budget for the others, and never more than a tenth of the
 *      budget (--warmup overrides it). lrtune.gp draws the evidence (range test and
 *      sweep) with gnuplot: `gnuplot DIR/lrtune.gp` writes DIR/lrtune.svg.
 * Why these steps, and what each is worth, is Chapter 8 (chapters/08-recipe/README.md).
 *
 * MODELS (--model NAME[:KEY=VALUE]...):
 *   mlp   [dims=784-64-10]  the MLP (ReLU) on Fashion-MNIST: --train-subset images to
 *         train on, --val held out (the split of lib/sweep.h); validation loss on them.
 *   lenet [act=sigmoid|relu:pool=avg|max:init=xavier|torch]  d2l's LeNet (lib/lenet.h)
 *         on the same images, through the same trainer.
 *   gpt   [layers=2:heads=4:width=32:context=32]  the small GPT of lib/gpt.h on Debian's
 *         fortunes (lib/text.h; a tenth of the entries held out, split seed 0), random
 *         windows of the seed, the AdamW groups of gd_gpt_decays; validation loss on
 *         --val-windows fixed windows.
 *   quad  [d=20:L=19:mu=1]  full-batch descent on f(theta) = 1/2 sum_i lambda_i theta_i^2,
 *         lambda log-spaced from mu to L, theta_0 ~ N(0, I) from the seed: a problem whose
 *         best constant lr is known (about 2/(L+mu) for a long budget, Chapter 1); for
 *         tests. "validation loss" is f at the end.
 *
 * RESUMING, SHARDS. The sweep is the expensive step, and it is a lib/sweep.h table with
 * a "# task:" line recording the model, data and budget: rerun the same command after
 * an interruption and it continues where it stopped (the sanity checks and the range
 * test, a few seconds, are run again: they are deterministic). --shard K/N runs only
 * the sweep points with id % N == K into DIR/sweep-shard-K-of-N.tsv and stops there; the
 * same command without --shard is the merge step: it merges every DIR/sweep-shard-*.tsv
 * into DIR/sweep.tsv (gd_sweep_merge, which `build/bin/sweep merge` also runs), runs
 * whatever points are still missing, then the refinement (a few runs, not sharded: it
 * needs the whole coarse sweep), and writes the recommendation -- byte for byte what one
 * unsharded run writes. --grid LR-LIST replaces the range test and step 3's grids by a
 * grid of its own (no refinement): the "full sweep" that Chapter 8 compares the recipe
 * against.
 *
 * COST. Every table counts the work it took in examples (rows of a batch through a
 * forward and backward pass: images, windows, or one full batch for quad) and updates,
 * deterministic counts; CPU seconds go to stderr only.
 *
 * Leaves out: tuning the optimizer's other hyperparameters (momentum, betas, weight
 * decay are taken as given), widening the grid when the best lies at its edge (it says
 * so: recommend.tsv's edge), and choosing among schedules (the schedule is an input:
 * "the one you will use").
 */
#include "gd.h"
#include "sweep.h"

#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SPLIT_SEED 0            /* the held-out images / entries: the same for every run */
#define RT_START 1e-7           /* the range test: fastai's lr_find defaults */
#define RT_END 10.0
#define RT_STEPS 100
#define RT_BETA 0.98
#define RT_STOP 4.0
#define INIT_TOL 0.10           /* |loss_0 - ln C| <= 10% of ln C */
#define GRAD_COORDS 8           /* coordinates checked per parameter tensor */
#define GRAD_TOL 2e-2           /* largest relative error accepted (float32) ... */
#define GRAD_TOL_KINKS 0.1      /* ... and with ReLU or max pooling (see sanity_init) */
#define GRAD_FLOOR 1e-3         /* gradcheck.h's floor */
#define OVERFIT_STEPS 100
#define OVERFIT_OPTIM "adam:lr=3e-3"   /* a check of the model and data, not of the optimizer */
#define OVERFIT_FRAC 0.5        /* the batch's loss must fall below half its start */
#define DIVERGE_FACTOR 10.0     /* train.h's rule: a window above 10x the first loss */

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }
static int quiet;   /* --quiet: errors only on stderr */
#define note(...) (quiet ? (void)0 : (void)fprintf(stderr, __VA_ARGS__))

/* printf into a malloc'd string (user text is never copied into a fixed buffer); exits
 * on no memory, the one failure a program cannot report usefully. */
static char *xfmt(const char *fmt, ...) GD_PRINTF(1, 2);
static char *xfmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (!s) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        exit(1);
    }
    return s;
}

/* ---------------------------------------------------------------------------------
 * The task: what is trained, on what, for how long. */

typedef enum { TASK_MLP, TASK_GPT, TASK_QUAD } task_kind;

typedef struct {
    /* gpt */
    gd_corpus corpus;
    gd_vocab vocab;
    gd_tokens train, val;
    int nval;
    int *vx, *vy;           /* (nval, T) fixed validation windows */
} text_data;

typedef struct task {
    task_kind kind;
    char *line;             /* the "# task:" line: everything a run depends on (malloc'd) */
    long steps, batch;      /* the budget: updates of batch rows */
    /* mlp (and LeNet: lenet is its spec, NULL for the MLP) */
    int nlayers, dims[GD_TRAIN_MAXLAYERS + 1];
    char *lenet;
    long train_subset, n_val;
    gd_images images;
    gd_sweep_data split;
    /* gpt */
    gd_gpt_config gcfg;
    text_data text;
    /* quad */
    int d;
    double L, mu;
    double *lambda;         /* (d) */
    int classes;            /* C of ln C (0: no such check) */
} task;

/* "name:key=value:key=value" -> name and up to 8 key/value pairs (in place). */
static int parse_model(char *spec, char **name, char *keys[8], char *vals[8], int *n) {
    *n = 0;
    *name = spec;
    char *p = strchr(spec, ':');
    while (p) {
        *p++ = '\0';
        if (*n == 8) return gd_seterr("more than 8 keys");
        char *eq = strchr(p, '=');
        if (!eq) return gd_seterr("'%s' is not KEY=VALUE", p);
        *eq = '\0';
        keys[*n] = p;
        vals[*n] = eq + 1;
        (*n)++;
        p = strchr(eq + 1, ':');
    }
    return 0;
}

static int key_long(const char *key, const char *val, long lo, long hi, long *out) {
    if (gd_parse_long(val, out) != 0 || *out < lo || *out > hi)
        return gd_seterr("%s must be a whole number from %ld to %ld, got '%s'", key, lo, hi, val);
    return 0;
}

static int key_double(const char *key, const char *val, double *out) {
    if (gd_parse_double(val, out) != 0 || !(*out > 0)) return gd_seterr("%s must be a number > 0, got '%s'", key, val);
    return 0;
}

static int task_parse_keys(task *tk, const char *name, char **keys, char **vals, int n);

/* Parse --model into tk (no data loaded yet). -1 with a reason. */
static int task_parse(task *tk, const char *model) {
    char *buf = xfmt("%s", model), *name, *keys[8], *vals[8];
    int n, rc = parse_model(buf, &name, keys, vals, &n) == 0 ? task_parse_keys(tk, name, keys, vals, n) : -1;
    free(buf);
    return rc;
}

static int task_parse_keys(task *tk, const char *name, char **keys, char **vals, int n) {
    if (strcmp(name, "mlp") == 0) {
        tk->kind = TASK_MLP;
        const char *dims = "784-64-10";
        for (int i = 0; i < n; i++) {
            if (strcmp(keys[i], "dims") == 0) dims = vals[i];
            else return gd_seterr("mlp: unknown key '%s' (known: dims)", keys[i]);
        }
        tk->nlayers = gd_parse_dims(dims, tk->dims, GD_TRAIN_MAXLAYERS);
        if (tk->nlayers < 1) return gd_seterr("mlp: dims '%s' is not like 784-64-10", dims);
        if (tk->dims[0] != 784 || tk->dims[tk->nlayers] != 10)
            return gd_seterr("mlp: dims '%s' must start with 784 (pixels) and end with 10 (classes)", dims);
        tk->classes = 10;
    } else if (strcmp(name, "lenet") == 0) {
        /* d2l's LeNet (lib/lenet.h) through the trainer: the MLP's data and loop */
        tk->kind = TASK_MLP;
        gd_lenet_arch a;
        char *spec = xfmt("lenet");
        for (int i = 0; i < n; i++) {
            char *longer = xfmt("%s:%s=%s", spec, keys[i], vals[i]);
            free(spec);
            spec = longer;
        }
        if (gd_lenet_parse(spec, &a) != 0) {
            free(spec);
            return gd_seterr("lenet: %s", gd_error());
        }
        tk->lenet = spec;
        tk->nlayers = gd_parse_dims("784-10", tk->dims, GD_TRAIN_MAXLAYERS);   /* unused by LeNet */
        tk->classes = 10;
    } else if (strcmp(name, "gpt") == 0) {
        tk->kind = TASK_GPT;
        long v[4] = {2, 4, 32, 32};
        const char *names[4] = {"layers", "heads", "width", "context"};
        long max[4] = {16, 64, 1024, 1024};
        for (int i = 0; i < n; i++) {
            int k = 0;
            while (k < 4 && strcmp(keys[i], names[k]) != 0) k++;
            if (k == 4) return gd_seterr("gpt: unknown key '%s' (known: layers, heads, width, context)", keys[i]);
            if (key_long(keys[i], vals[i], 1, max[k], &v[k]) != 0) return gd_seterr("gpt: %s", gd_error());
        }
        if (v[2] % v[1] != 0) return gd_seterr("gpt: width %ld is not a multiple of heads %ld", v[2], v[1]);
        tk->gcfg = (gd_gpt_config){.vocab = 0, .block = (int)v[3], .layers = (int)v[0], .heads = (int)v[1],
                                   .width = (int)v[2]};
    } else if (strcmp(name, "quad") == 0) {
        tk->kind = TASK_QUAD;
        long d = 20;
        tk->L = 19, tk->mu = 1;
        for (int i = 0; i < n; i++) {
            int rc = strcmp(keys[i], "d") == 0    ? key_long("d", vals[i], 1, 100000, &d)
                     : strcmp(keys[i], "L") == 0  ? key_double("L", vals[i], &tk->L)
                     : strcmp(keys[i], "mu") == 0 ? key_double("mu", vals[i], &tk->mu)
                                                  : gd_seterr("unknown key '%s' (known: d, L, mu)", keys[i]);
            if (rc != 0) return gd_seterr("quad: %s", gd_error());
        }
        if (tk->mu > tk->L) return gd_seterr("quad: mu %g must be <= L %g", tk->mu, tk->L);
        tk->d = (int)d;
    } else {
        return gd_seterr("unknown model '%s' (known: mlp, lenet, gpt, quad)", name);
    }
    return 0;
}

/* Load the data the task trains on, and write its "# task:" line. */
static int task_load(task *tk, const char *data, long val_windows) {
    if (tk->kind == TASK_MLP) {
        gd_images test;
        if (gd_fmnist_load(&tk->images, &test, data) != 0) return -1;
        gd_images_free(&test);
        if (tk->n_val + tk->train_subset > tk->images.n)
            return gd_seterr("--train-subset %ld + --val %ld exceeds the %d training images", tk->train_subset,
                             tk->n_val, tk->images.n);
        gd_sweep sw;   /* the split of lib/sweep.h (split seed 0) */
        gd_sweep_init(&sw);
        sw.train_subset = tk->train_subset, sw.n_val = tk->n_val;
        int rc = gd_sweep_data_init(&tk->split, &sw, &tk->images);
        gd_sweep_free(&sw);
        if (rc != 0) return -1;
        char *dims = xfmt("%d", tk->dims[0]);
        for (int l = 1; l <= tk->nlayers; l++) {
            char *longer = xfmt("%s-%d", dims, tk->dims[l]);
            free(dims);
            dims = longer;
        }
        char *model = tk->lenet ? xfmt("%s (lib/lenet.h)", tk->lenet) : xfmt("mlp dims=%s (ReLU)", dims);
        free(dims);
        tk->line = xfmt(
                 "%s on Fashion-MNIST: the first %ld training images not held out, %ld held out "
                 "(split seed %d) for the validation loss; %ld updates of batch %ld",
                 model, tk->train_subset, tk->n_val, SPLIT_SEED, tk->steps, tk->batch);
        free(model);
    } else if (tk->kind == TASK_GPT) {
        text_data *d = &tk->text;
        int T = tk->gcfg.block;
        if (gd_corpus_load(&d->corpus, data) != 0) return -1;
        gd_vocab_build(&d->vocab, &d->corpus);
        if (gd_text_split(&d->train, &d->val, &d->corpus, &d->vocab, 0.1, SPLIT_SEED) != 0) return -1;
        d->nval = (int)val_windows;
        if (d->val.n < (long)T + 1 + d->nval || d->train.n < (long)T + 1)
            return gd_seterr("%s: the validation split (%ld bytes) is too small for %d windows of %d",
                             gd_fortunes_dir(data), d->val.n, d->nval, T);
        d->vx = malloc((size_t)d->nval * T * sizeof *d->vx);
        d->vy = malloc((size_t)d->nval * T * sizeof *d->vy);
        if (!d->vx || !d->vy) return gd_seterr("out of memory");
        /* windows evenly spaced over the validation stream, as chapters/06-optimizers/gpt.c */
        const long last = d->val.n - T - 1;
        for (int i = 0; i < d->nval; i++) {
            long o = d->nval > 1 ? (long)((double)last * i / (d->nval - 1)) : 0;
            gd_text_window(d->vx + (size_t)i * T, d->vy + (size_t)i * T, &d->val, o, T);
        }
        tk->gcfg.vocab = d->vocab.size;
        tk->classes = d->vocab.size;
        tk->line = xfmt(
                 "gpt layers=%d heads=%d width=%d context=%d vocab=%d on the fortunes (%d entries, a tenth held "
                 "out, split seed %d; validation loss on %d fixed windows); %ld updates of batch %ld; AdamW-style "
                 "groups: no weight decay on biases, LayerNorm and embeddings",
                 tk->gcfg.layers, tk->gcfg.heads, tk->gcfg.width, tk->gcfg.block, tk->gcfg.vocab,
                 d->corpus.nentries, SPLIT_SEED, d->nval, tk->steps, tk->batch);
    } else {
        tk->lambda = malloc((size_t)tk->d * sizeof *tk->lambda);
        if (!tk->lambda) return gd_seterr("out of memory");
        for (int i = 0; i < tk->d; i++)   /* log-spaced from mu to L */
            tk->lambda[i] = tk->d == 1 ? tk->L : tk->mu * pow(tk->L / tk->mu, (double)i / (tk->d - 1));
        tk->batch = 1;
        tk->line = xfmt(
                 "quad d=%d L=%.17g mu=%.17g: f = 1/2 sum lambda_i theta_i^2, lambda log-spaced from mu to L, "
                 "theta_0 ~ N(0, I) from the seed; %ld full-batch updates",
                 tk->d, tk->L, tk->mu, tk->steps);
    }
    return 0;
}

/* A sweep table already at path that belongs to another task (its "# task:" line is not
 * line): -1 with the reason, so that lrtune refuses it before the checks and the range
 * test rather than after them (the grid itself is known only after the range test;
 * gd_sweep_table_open compares the rest then). 0 when there is no table or it is ours. */
static int task_table_check(const char *path, const char *line) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;   /* no table yet (or unreadable: the sweep's open reports that) */
    char *l = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, is_sweep = 0;
    while ((n = getline(&l, &cap, f)) > 0 && l[0] == '#') {
        if (n > 0 && l[n - 1] == '\n') l[--n] = '\0';
        is_sweep |= strcmp(l, "# program: sweep") == 0;
        if (strncmp(l, "# task: ", 8) != 0) continue;
        const char *had = l + 8;
        if (strcmp(had, line) != 0) {
            size_t c = 0;   /* quoted from a little before the first difference */
            while (had[c] && had[c] == line[c]) c++;
            size_t from = c > 20 ? c - 20 : 0;
            rc = gd_seterr("%s: a table of another sweep: its task is '%s%.60s%s', this command's is '%s%.60s%s' "
                           "(use another --dir, or the same arguments)",
                           path, from ? "..." : "", had + from, strlen(had + from) > 60 ? "..." : "",
                           from ? "..." : "", line + from, strlen(line + from) > 60 ? "..." : "");
        }
        is_sweep = 2;
        break;
    }
    if (rc == 0 && is_sweep == 1)   /* a sweep table without a task: sweep's own */
        rc = gd_seterr("%s: a table of another sweep (sweep's, with no task line); use another --dir", path);
    free(l);
    fclose(f);
    return rc;
}

static void task_free(task *tk) {
    if (tk->kind == TASK_MLP) {
        gd_sweep_data_free(&tk->split);
        gd_images_free(&tk->images);
    } else if (tk->kind == TASK_GPT) {
        text_data *d = &tk->text;
        free(d->vx), free(d->vy);
        gd_tokens_free(&d->train), gd_tokens_free(&d->val);
        gd_corpus_free(&d->corpus);
    }
    free(tk->lambda);
    free(tk->lenet);
    free(tk->line);
}

/* ---------------------------------------------------------------------------------
 * A run: one model, one optimizer and schedule, one seed, stepped by the caller. */

typedef struct runner {
    const task *tk;
    gd_optim *opt;
    gd_sched *sched;        /* NULL: constant */
    long t;                 /* updates done */
    int fixed;              /* 1: every step trains on the same batch (overfitting one) */
    /* mlp */
    gd_trainer *tr;
    /* gpt */
    gd_gpt m;
    gd_rng rng;
    int *x, *y;             /* (B, T) */
    /* quad */
    gd_param theta;         /* (d) */
} runner;

static void runner_free(runner *r) {
    if (!r) return;
    if (r->tr) gd_trainer_free(r->tr);
    else gd_optim_free(r->opt);
    if (r->tk->kind == TASK_GPT && r->m.params) gd_gpt_free(&r->m);
    if (r->tk->kind == TASK_QUAD && r->theta.value) gd_param_free(&r->theta);
    gd_sched_free(r->sched);
    free(r->x), free(r->y);
    free(r);
}

/* optim: a full spec with lr; sched: a spec or NULL. fixed: train on one batch only. */
static runner *runner_new(const task *tk, const char *optim, const char *sched, uint64_t seed, int fixed) {
    runner *r = calloc(1, sizeof *r);
    if (!r) return gd_seterr("out of memory"), NULL;
    r->tk = tk;
    r->fixed = fixed;
    if (tk->kind == TASK_MLP) {
        gd_train_cfg cfg = gd_train_defaults();
        cfg.nlayers = tk->nlayers;
        memcpy(cfg.dims, tk->dims, sizeof cfg.dims);
        cfg.model = tk->lenet;   /* NULL: the MLP */
        cfg.optim = optim;
        cfg.sched = sched;
        cfg.batch_size = (int)tk->batch;
        cfg.epochs = 1e6;   /* the caller decides when to stop */
        cfg.seed = seed;
        cfg.train = &tk->images;
        cfg.train_idx = tk->split.train_idx;
        cfg.n_train = fixed ? (int)tk->batch : tk->split.n_train;   /* one batch: the same images every step */
        cfg.label = "lrtune";
        if (!(r->tr = gd_trainer_new(&cfg))) return runner_free(r), NULL;
        r->opt = r->tr->opt;
        return r;
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) return runner_free(r), NULL;
    if (sched && !(r->sched = gd_sched_parse(sched))) return runner_free(r), NULL;
    if (!(r->opt = gd_optim_new(kind, &hp))) return runner_free(r), NULL;
    if (tk->kind == TASK_GPT) {
        int B = (int)tk->batch, T = tk->gcfg.block;
        if (gd_gpt_init(&r->m, &tk->gcfg, B > 64 ? B : 64, seed) != 0) return runner_free(r), NULL;
        /* two groups, as nanoGPT/minGPT: weight decay on the Linear weights only */
        gd_param *dec = malloc((size_t)r->m.nparams * sizeof *dec), *nodec = malloc((size_t)r->m.nparams * sizeof *nodec);
        int nd = 0, nn = 0;
        for (int i = 0; dec && nodec && i < r->m.nparams; i++) {
            if (gd_gpt_decays(&r->m, i)) dec[nd++] = r->m.params[i];
            else nodec[nn++] = r->m.params[i];
        }
        gd_hparams h0 = hp;
        h0.weight_decay = 0;
        int bad = !dec || !nodec || (nd && gd_optim_add_group(r->opt, dec, nd, &hp) < 0) ||
                  (nn && gd_optim_add_group(r->opt, nodec, nn, &h0) < 0);
        free(dec), free(nodec);
        r->x = malloc((size_t)B * T * sizeof *r->x);
        r->y = malloc((size_t)B * T * sizeof *r->y);
        if (bad || !r->x || !r->y) return gd_seterr("out of memory"), runner_free(r), NULL;
        /* the windows come from their own stream of the seed, apart from the init */
        gd_rng_seed(&r->rng, seed ^ 0x9e3779b97f4a7c15ULL);
        if (fixed) gd_text_batch(r->x, r->y, &tk->text.train, B, T, &r->rng);
    } else {
        int shape[1] = {tk->d};
        if (gd_param_init(&r->theta, "theta", 1, shape) != 0) return runner_free(r), NULL;
        gd_rng_seed(&r->rng, seed);
        for (int i = 0; i < tk->d; i++) r->theta.value->data[i] = (float)gd_rng_normal(&r->rng);
        if (gd_optim_add_group(r->opt, &r->theta, 1, NULL) < 0) return runner_free(r), NULL;
    }
    return r;
}

/* f(theta) = 1/2 sum lambda_i theta_i^2 (double), and if g: g = lambda * theta. */
static double quad_loss(const task *tk, const float *theta, float *g) {
    double f = 0;
    for (int i = 0; i < tk->d; i++) {
        f += 0.5 * tk->lambda[i] * (double)theta[i] * theta[i];
        if (g) g[i] = (float)(tk->lambda[i] * theta[i]);
    }
    return f;
}

/* One update; returns the loss of the batch it trained on (before the update). */
static double runner_step(runner *r) {
    const task *tk = r->tk;
    double loss;
    if (tk->kind == TASK_MLP) {
        loss = gd_trainer_step(r->tr);
    } else {
        if (tk->kind == TASK_GPT) {
            int B = (int)tk->batch, T = tk->gcfg.block;
            if (!r->fixed) gd_text_batch(r->x, r->y, &tk->text.train, B, T, &r->rng);   /* x, y (B, T) */
            loss = gd_gpt_loss(&r->m, r->x, r->y, B, T);
            gd_gpt_zero_grad(&r->m);
            gd_gpt_backward(&r->m);
        } else {
            loss = quad_loss(tk, r->theta.value->data, r->theta.grad->data);   /* grad = lambda * theta */
        }
        if (r->sched) gd_sched_apply(r->sched, r->t, r->opt);   /* eta_t = sched(t, peak lr) */
        gd_optim_step(r->opt);                                   /* theta = optimizer(theta, grad, eta_t) */
    }
    r->t++;
    return loss;
}

static double runner_lr(const runner *r) { return gd_optim_lr(r->opt, 0); }

/* The validation loss (and accuracy, NaN where there is none). */
static void runner_eval(runner *r, double *loss, double *acc) {
    const task *tk = r->tk;
    *acc = NAN;
    if (tk->kind == TASK_MLP) {
        gd_trainer_eval(r->tr, &tk->images, tk->split.val_idx, tk->split.n_val, loss, acc);
    } else if (tk->kind == TASK_GPT) {
        const text_data *d = &tk->text;
        int T = tk->gcfg.block;
        double sum = 0;
        for (int i = 0; i < d->nval; i += r->m.max_batch) {
            int B = d->nval - i < r->m.max_batch ? d->nval - i : r->m.max_batch;
            sum += B * gd_gpt_loss(&r->m, d->vx + (size_t)i * T, d->vy + (size_t)i * T, B, T);
        }
        *loss = sum / d->nval;
    } else {
        *loss = quad_loss(tk, r->theta.value->data, NULL);
    }
}

/* One training run of the budget, with the trainer's divergence rule (train.h): windows
 * of steps/10 updates (1 to 50); a window whose mean loss is not finite or above 10x
 * the first batch's loss stops the run. Fills a sweep row. */
static int train_run(const task *tk, const char *optim, const char *sched, uint64_t seed, gd_sweep_result *res) {
    runner *r = runner_new(tk, optim, sched, seed, 0);
    if (!r) return -1;
    long every = tk->steps / 10 < 1 ? 1 : tk->steps / 10 > 50 ? 50 : tk->steps / 10;
    double first = NAN, window = 0, last = NAN;
    long in_window = 0;
    res->diverged_at = -1;
    for (long t = 0; t < tk->steps; t++) {
        double loss = runner_step(r);
        if (t == 0) first = loss;
        window += loss, in_window++;
        if (in_window == every || t == tk->steps - 1) {
            last = window / in_window;
            window = 0, in_window = 0;
            if (!isfinite(last) || last > DIVERGE_FACTOR * first) {
                res->diverged_at = t + 1;
                break;
            }
        }
    }
    res->steps = r->t;
    res->train_loss = last;
    res->val_loss = res->val_acc = NAN;
    if (res->diverged_at < 0) runner_eval(r, &res->val_loss, &res->val_acc);
    runner_free(r);
    return 0;
}

/* The sweep's point runner (lib/sweep.h's run_point hook, in a worker process). */
static int run_point(const gd_sweep *sw, long id, gd_sweep_result *res, void *ctx) {
    gd_sweep_point p;
    gd_sweep_point_get(sw, id, &p);
    char *optim = xfmt("%s:lr=%s", p.optim, p.lr_text);   /* gd_sweep_point_optim's spec */
    memset(res, 0, sizeof *res);
    res->id = id;
    int rc = train_run(ctx, optim, p.sched, p.seed, res);
    free(optim);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * Step 1: sanity checks. */

typedef struct {
    double init_loss, ln_c;        /* NaN: no classes */
    double grad_err;               /* largest relative error of the gradient check */
    float grad_eps;                /* its finite-difference step */
    double grad_tol;               /* and the largest error it accepts */
    long grad_coords;              /* coordinates checked ... */
    long grad_kinks;               /* ... and those left out: on a kink (see kink_check) */
    double overfit_start, overfit_end;
    int init_ok, grad_ok, overfit_ok;   /* 1 pass, 0 fail, -1 not run */
    long examples;                 /* cost */
} sanity;

typedef struct {
    runner *r;
    const float *X;                /* mlp: (N, 784) */
    const int *y;                  /* mlp: (N) */
    int N, T;                      /* gpt: (N, T) windows in x/y of the runner */
    long *evals;
} gc_ctx;

static double gc_loss(void *vctx) {
    gc_ctx *c = vctx;
    runner *r = c->r;
    (*c->evals)++;
    if (r->tk->kind == TASK_MLP)
        return r->tr->lenet ? gd_lenet_loss(r->tr->lenet, c->X, c->y, c->N) : gd_mlp_loss(&r->tr->model, c->X, c->y, c->N);
    if (r->tk->kind == TASK_GPT) return gd_gpt_loss(&r->m, r->x, r->y, c->N, c->T);
    return quad_loss(r->tk, r->theta.value->data, NULL);
}

/* 1 if the loss has a kink within eps of *x: its one-sided slopes, (f(x+eps) - f(x))/eps
 * and (f(x) - f(x-eps))/eps, disagree by more than a tenth of their size (a ReLU that
 * switches, a max-pooling window whose largest input changes). There the derivative is
 * not defined and a central difference says nothing about the backward pass, so the
 * coordinate is left out. On a smooth loss the two differ by about f'' eps. */
static int on_kink(double (*loss)(void *), void *ctx, float *x, float eps) {
    float saved = *x;
    double f0 = loss(ctx);
    *x = saved + eps;
    double up = loss(ctx), hp = (double)*x - saved;
    *x = saved - eps;
    double down = loss(ctx), hm = saved - (double)*x;
    *x = saved;
    double right = (up - f0) / hp, left = (f0 - down) / hm;
    return fabs(right - left) > 0.1 * fmax(fabs(right) + fabs(left), GRAD_FLOOR);
}

/* The loss at initialisation and the gradient check, on the first seed's model. */
static int sanity_init(const task *tk, const char *optim, uint64_t seed, sanity *s) {
    runner *r = runner_new(tk, optim, NULL, seed, 1);
    if (!r) return -1;
    gd_param *params;
    int np;
    long evals = 0;
    gc_ctx c = {.r = r, .evals = &evals};
    float *X = NULL;
    int *y = NULL;
    /* the loss at init: on the validation images / windows */
    double acc;
    if (tk->kind != TASK_QUAD) {
        runner_eval(r, &s->init_loss, &acc);
        s->ln_c = log((double)tk->classes);
        s->init_ok = fabs(s->init_loss - s->ln_c) <= INIT_TOL * s->ln_c;
        s->examples += tk->kind == TASK_MLP ? tk->split.n_val : tk->text.nval;
    } else {
        s->init_loss = s->ln_c = NAN;
        s->init_ok = -1;
    }
    /* the gradient check on a tiny batch: 4 images, 2 windows of 8 bytes, or f itself */
    if (tk->kind == TASK_MLP) {
        c.N = 4;
        X = malloc((size_t)c.N * 784 * sizeof *X);
        y = malloc((size_t)c.N * sizeof *y);
        if (!X || !y) return gd_seterr("out of memory");
        gd_images_batch(X, y, &tk->images, tk->split.train_idx, c.N);
        c.X = X, c.y = y;
        if (r->tr->lenet) {
            gd_lenet_zero_grad(r->tr->lenet);
            gd_lenet_loss(r->tr->lenet, X, y, c.N);
            gd_lenet_backward(r->tr->lenet, y, c.N);
        } else {
            gd_mlp_zero_grad(&r->tr->model);
            gd_mlp_loss(&r->tr->model, X, y, c.N);
            gd_mlp_backward(&r->tr->model, y, c.N);
        }
        params = r->tr->model.params, np = r->tr->model.nparams;   /* LeNet's too (train.h) */
    } else if (tk->kind == TASK_GPT) {
        c.N = 2, c.T = tk->gcfg.block < 8 ? tk->gcfg.block : 8;
        gd_gpt_loss(&r->m, r->x, r->y, c.N, c.T);
        gd_gpt_zero_grad(&r->m);
        gd_gpt_backward(&r->m);
        params = r->m.params, np = r->m.nparams;
    } else {
        quad_loss(tk, r->theta.value->data, r->theta.grad->data);
        params = &r->theta, np = 1;
    }
    s->grad_err = 0;
    s->grad_coords = 0;
    /* The step: 1e-2 for smooth models (gradcheck.h: the GPT, the quadratic, the sigmoid
     * LeNet with average pooling). With kinks (ReLU, max pooling) a step can cross one --
     * a unit switching off, another input becoming the max -- and fail a correct
     * gradient (cs231n's "kinks in the objective"); a bias moves every position of its
     * channel, so the larger the step, the likelier: there the step is 1e-4 and the
     * tolerance 0.1 (a wrong gradient is off by O(1)). */
    int kinks = tk->kind == TASK_MLP && (!tk->lenet || strstr(tk->lenet, "relu") || strstr(tk->lenet, "max"));
    s->grad_eps = kinks ? 1e-4f : 1e-2f;
    s->grad_tol = kinks ? GRAD_TOL_KINKS : GRAD_TOL;
    for (int i = 0; i < np; i++) {
        /* the GRAD_COORDS coordinates with the largest analytic gradient (the relative
         * error of a gradient that is 0 says nothing), one at a time */
        size_t size = params[i].value->size, pick[GRAD_COORDS];
        const float *g = params[i].grad->data;
        int n = 0;
        for (size_t j = 0; j < size; j++) {
            int k = n < GRAD_COORDS ? n++ : GRAD_COORDS;   /* insertion into the sorted top list */
            if (k == GRAD_COORDS && fabsf(g[j]) <= fabsf(g[pick[k - 1]])) continue;
            if (k == GRAD_COORDS) k--;
            while (k > 0 && fabsf(g[j]) > fabsf(g[pick[k - 1]])) pick[k] = pick[k - 1], k--;
            pick[k] = j;
        }
        for (int k = 0; k < n; k++) {
            float *x = params[i].value->data + pick[k];
            if (on_kink(gc_loss, &c, x, s->grad_eps)) {
                s->grad_kinks++;
                continue;
            }
            double e = gd_gradcheck(gc_loss, &c, x, g + pick[k], 1, s->grad_eps, GRAD_FLOOR);
            if (e > s->grad_err) s->grad_err = e;
            s->grad_coords++;
        }
    }
    /* a kink now and then is expected; most coordinates on kinks is not a check */
    s->grad_ok = s->grad_err <= s->grad_tol && s->grad_kinks <= s->grad_coords;
    s->examples += evals * (tk->kind == TASK_QUAD ? 1 : c.N);
    free(X), free(y);
    runner_free(r);
    return 0;
}

/* Overfit one batch: OVERFIT_STEPS updates of OVERFIT_OPTIM on the same batch. */
static int sanity_overfit(const task *tk, uint64_t seed, sanity *s) {
    runner *r = runner_new(tk, OVERFIT_OPTIM, NULL, seed, 1);
    if (!r) return -1;
    long n = OVERFIT_STEPS;
    double loss = NAN;
    for (long t = 0; t < n; t++) {
        loss = runner_step(r);
        if (t == 0) s->overfit_start = loss;
    }
    /* the batch's loss after the last update */
    if (tk->kind == TASK_MLP) {
        float *X = malloc((size_t)tk->batch * 784 * sizeof *X);
        int *y = malloc((size_t)tk->batch * sizeof *y);
        if (!X || !y) return gd_seterr("out of memory");
        gd_images_batch(X, y, &tk->images, tk->split.train_idx, (int)tk->batch);
        loss = r->tr->lenet ? gd_lenet_loss(r->tr->lenet, X, y, (int)tk->batch)
                            : gd_mlp_loss(&r->tr->model, X, y, (int)tk->batch);
        free(X), free(y);
    } else if (tk->kind == TASK_GPT) {
        loss = gd_gpt_loss(&r->m, r->x, r->y, (int)tk->batch, tk->gcfg.block);
    } else {
        loss = quad_loss(tk, r->theta.value->data, NULL);
    }
    s->overfit_end = loss;
    s->overfit_ok = isfinite(loss) && loss < OVERFIT_FRAC * s->overfit_start;
    s->examples += (n + 1) * tk->batch;
    runner_free(r);
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Step 2: the range test (fastai's lr_find, as chapters/03-choosing/rangetest.c). */

typedef struct {
    int n;                         /* steps taken */
    double lr[RT_STEPS], loss[RT_STEPS], smooth[RT_STEPS];
    int stopped;                   /* the smoothed loss passed RT_STOP x its best */
    double valley, steep, minimum, min_lr;
    long examples;
} range_test;

/* fastai's three suggestions over lrs[0..n), losses[0..n) (already trimmed); the same
 * code as chapters/03-choosing/rangetest.c's suggest(). */
static void suggest(range_test *rt, const double *lrs, const double *losses, int n) {
    int im = 0;   /* minimum: lrs[argmin loss] / 10 */
    for (int i = 1; i < n; i++)
        if (losses[i] < losses[im]) im = i;
    rt->min_lr = lrs[im];
    rt->minimum = lrs[im] / 10;
    int is = 0;   /* steep: argmin of (loss[i+1] - loss[i]) / (log lr[i+1] - log lr[i]) */
    double gmin = INFINITY;
    for (int i = 0; i + 1 < n; i++) {
        double g = (losses[i + 1] - losses[i]) / (log(lrs[i + 1]) - log(lrs[i]));
        if (g < gmin) gmin = g, is = i;
    }
    rt->steep = lrs[is];
    /* valley: the longest decreasing subsequence of the losses, about half way along it */
    int lds[RT_STEPS], max_start = 0, max_end = 0;
    for (int i = 0; i < n; i++) lds[i] = 1;
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) {
            if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
            if (lds[max_end] < lds[i]) {
                max_end = i;
                max_start = max_end - lds[max_end];
            }
        }
    double sections = (max_end - max_start) / 3.0;
    int iv = max_start + (int)sections + (int)(sections / 2);
    if (iv < 0) iv = 0;
    if (iv >= n) iv = n - 1;
    rt->valley = lrs[iv];
}

static int range_run(const task *tk, const char *optim_nolr, uint64_t seed, range_test *rt) {
    char *spec = xfmt("%s:lr=%.17g", optim_nolr, RT_START), sched[64];
    double G = pow(RT_END / RT_START, 1.0 / RT_STEPS);
    snprintf(sched, sizeof sched, "exp:gamma=%.17g", G);   /* lr_i = start * G^i */
    runner *r = runner_new(tk, spec, sched, seed, 0);
    free(spec);
    if (!r) return -1;
    double avg = 0, best = INFINITY;
    rt->n = 0;
    rt->stopped = 0;
    for (int i = 0; i < RT_STEPS; i++) {
        double loss = runner_step(r);
        rt->lr[i] = runner_lr(r);
        rt->loss[i] = loss;
        avg = RT_BETA * avg + (1 - RT_BETA) * loss;          /* avg = beta avg + (1-beta) loss */
        double s = avg / (1 - pow(RT_BETA, (double)(i + 1)));/* debiased */
        rt->smooth[i] = s;
        rt->n = i + 1;
        if (s < best) best = s;
        if (!isfinite(s) || s > RT_STOP * best) {
            rt->stopped = 1;
            break;
        }
    }
    runner_free(r);
    rt->examples = (long)rt->n * tk->batch;
    /* fastai's trim: drop the first tenth and the last 5 points, and from the first NaN on */
    int lo = RT_STEPS / 10, hi = rt->n - 5;
    for (int i = lo; i < hi; i++)
        if (isnan(rt->smooth[i])) {
            hi = i;
            break;
        }
    if (hi - lo < 2) return gd_seterr("the range test stopped after %d steps: too few to suggest an lr", rt->n);
    suggest(rt, rt->lr + lo, rt->smooth + lo, hi - lo);
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Steps 3 and 4: the grid, the schedule, the summary and the recommendation. */

/* The half-decade lattice: 10^(k/2) rounded to 3 significant digits, as lib/sweep.h
 * rounds its LO:HI:PER_DECADE ranges (so that it is part of the quarter-decade grids). */
static double quarter(int j) {   /* 10^(j/4), rounded */
    char text[32];
    snprintf(text, sizeof text, "%.3g", pow(10.0, j / 4.0));
    return strtod(text, NULL);
}
static double lattice(int k) { return quarter(2 * k); }

static void grid_from_range(const range_test *rt, long max_points, char *buf, size_t size) {
    int klo = (int)floor(2 * log10(rt->valley) + 1e-9), khi = (int)ceil(2 * log10(rt->min_lr) - 1e-9);
    if (khi < klo) khi = klo;
    if (khi - klo + 1 > max_points) {
        /* too wide: max_points of it, centred on steep (the smoothed loss lags, so min_lr
         * can lie far above where the loss turned: Adam's often does) */
        int kc = (int)lround(2 * log10(rt->steep));
        int lo = kc - (int)(max_points - 1) / 2;
        if (lo < klo) lo = klo;
        if (lo + max_points - 1 > khi) lo = khi - (int)max_points + 1;
        klo = lo, khi = lo + (int)max_points - 1;
    }
    while (khi - klo + 1 < 3) khi - klo == 0 ? khi++ : klo--;
    buf[0] = '\0';
    for (int k = klo; k <= khi; k++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%.3g", k > klo ? "," : "", lattice(k));
}

/* Warmup: 2/(1-beta2) (Ma & Yarats) for the Adam family, steps/20 for the others, at
 * most steps/10. */
static long warmup_rule(const char *optim_nolr, long steps) {
    gd_optim_kind kind;
    gd_hparams hp;
    char *spec = xfmt("%s:lr=1", optim_nolr);
    int bad = gd_optim_parse(spec, &kind, &hp) != 0;
    free(spec);
    if (bad) return 0;
    int adam = kind == GD_ADAM || kind == GD_ADAMW || kind == GD_NADAM || kind == GD_RADAM || kind == GD_ADAMAX;
    double w = adam ? 2 / (1 - hp.beta2) : steps / 20.0;
    if (w > steps / 10.0) w = steps / 10.0;
    return (long)floor(w);
}

/* The schedule spec sized to the budget: warmup W, then the shape over steps - W. */
static int sched_spec(char *buf, size_t size, const char *shape, long W, long steps) {
    char warm[64] = "", rest[128];
    long R = steps - W;
    if (W > 0) snprintf(warm, sizeof warm, "warmup:T=%ld,", W);
    if (strcmp(shape, "cosine") == 0) snprintf(rest, sizeof rest, "cosine:T=%ld", R);
    else if (strcmp(shape, "linear") == 0) snprintf(rest, sizeof rest, "linear:T=%ld:end=0", R);
    else if (strcmp(shape, "wsd") == 0) snprintf(rest, sizeof rest, "wsd:T=%ld:decay=0.2", R);
    else if (strcmp(shape, "constant") == 0) snprintf(rest, sizeof rest, "constant");
    else return gd_seterr("'%s' is not a schedule lrtune sizes (cosine, linear, wsd, constant)", shape);
    snprintf(buf, size, "%s%s", warm, rest);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) with NaN (a diverged run) counted as +inf. */
static double median_inf(double *v, int n) {
    for (int i = 0; i < n; i++)
        if (isnan(v[i])) v[i] = INFINITY;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define MAX_LRS 256             /* lrs in a sweep */

/* The sweeps' rows per lr: the coarse sweep's and the refinement's, sorted by lr. */
typedef struct {
    int n_lr;
    double lr[MAX_LRS];
    char lr_text[MAX_LRS][40];      /* as the sweep table writes it */
    const char *stage[MAX_LRS];     /* "coarse", "refine" or "grid" (--grid) */
    int runs[MAX_LRS], diverged[MAX_LRS];
    double median[MAX_LRS], min[MAX_LRS], max[MAX_LRS];
    int best;                       /* index of the recommended lr, -1 if every median is inf */
    long examples, updates;         /* what the sweeps cost */
} sweep_summary;

/* Add the lrs of a finished sweep table to ss (kept sorted by lr; best recomputed). */
static int add_summary(sweep_summary *ss, const gd_sweep *sw, const char *path, const task *tk, const char *stage) {
    gd_sweep_rows rows;
    if (gd_sweep_rows_init(&rows, sw) != 0) return -1;
    if (gd_sweep_rows_read(&rows, sw, path) != 0) return gd_sweep_rows_free(&rows), -1;
    if (ss->n_lr + sw->n_lr > MAX_LRS) return gd_sweep_rows_free(&rows), gd_seterr("more than %d lrs", MAX_LRS);
    for (int i = 0; i < sw->n_lr; i++) {
        double v[1024];
        int n = 0, k = ss->n_lr++;
        ss->lr[k] = sw->lr[i];
        snprintf(ss->lr_text[k], sizeof ss->lr_text[k], "%s", sw->lr_text[i]);
        ss->stage[k] = stage;
        ss->diverged[k] = 0;
        ss->min[k] = INFINITY, ss->max[k] = -INFINITY;
        for (int s = 0; s < sw->n_seeds && n < 1024; s++) {
            long id = (long)i * sw->n_seeds + s;   /* one optimizer, one schedule */
            gd_sweep_result r;
            if (!rows.row[id]) return gd_sweep_rows_free(&rows), gd_seterr("point %ld is missing from %s", id, path);
            char *line = xfmt("%s", rows.row[id]);
            line[strcspn(line, "\n")] = '\0';
            int bad = gd_sweep_parse_row(sw, line, &r);
            free(line);
            if (bad) return gd_sweep_rows_free(&rows), -1;
            ss->diverged[k] += r.diverged_at >= 0;
            ss->updates += r.steps;
            long val = tk->kind == TASK_MLP ? tk->split.n_val : tk->kind == TASK_GPT ? tk->text.nval : 0;
            ss->examples += r.steps * tk->batch + (r.diverged_at < 0 ? val : 0);
            double x = r.diverged_at >= 0 ? NAN : r.val_loss;
            if (isfinite(x)) {
                if (x < ss->min[k]) ss->min[k] = x;
                if (x > ss->max[k]) ss->max[k] = x;
            }
            v[n++] = x;
        }
        ss->runs[k] = n;
        ss->median[k] = median_inf(v, n);
        if (!isfinite(ss->min[k])) ss->min[k] = ss->max[k] = NAN;
    }
    gd_sweep_rows_free(&rows);
    /* sort by lr (insertion: a handful of entries), then the best median */
    for (int i = 1; i < ss->n_lr; i++)
        for (int j = i; j > 0 && ss->lr[j] < ss->lr[j - 1]; j--) {
#define SWAP(T, a) do { T tmp_ = ss->a[j]; ss->a[j] = ss->a[j - 1]; ss->a[j - 1] = tmp_; } while (0)
            SWAP(double, lr); SWAP(const char *, stage); SWAP(int, runs); SWAP(int, diverged);
            SWAP(double, median); SWAP(double, min); SWAP(double, max);
#undef SWAP
            char t[40];
            memcpy(t, ss->lr_text[j], sizeof t);
            memcpy(ss->lr_text[j], ss->lr_text[j - 1], sizeof t);
            memcpy(ss->lr_text[j - 1], t, sizeof t);
        }
    ss->best = -1;
    for (int i = 0; i < ss->n_lr; i++)
        if (isfinite(ss->median[i]) && (ss->best < 0 || ss->median[i] < ss->median[ss->best])) ss->best = i;
    return 0;
}

/* ---------------------------------------------------------------------------------
 * Output. */

/* out.h's policy: atomic for a file, a symlink's target written, a device in place. */
static int write_text_file(const char *path, const char *text) { return gd_write_file(path, text, strlen(text)); }

/* A gnuplot script that draws the range test and the sweep from the tables in dir. */
static int write_plot(const char *dir, const sweep_summary *ss, const range_test *rt, int have_range, int refined) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return gd_seterr("out of memory");
    fprintf(f, "# lrtune's evidence: gnuplot %s/lrtune.gp writes %s/lrtune.svg\n", dir, dir);
    fprintf(f, "set terminal svg size 900,400 font 'sans,11'\nset output '%s/lrtune.svg'\n", dir);
    fprintf(f, "set datafile separator '\\t'\nset logscale x\nset format x '%%.0e'\nset grid\n");
    fprintf(f, "set multiplot layout 1,%d\n", have_range ? 2 : 1);
    if (have_range) {
        fprintf(f, "set title 'range test (first seed)'\nset xlabel 'lr'\nset ylabel 'smoothed training loss'\n");
        fprintf(f, "set arrow 1 from %.6g, graph 0 to %.6g, graph 1 nohead dt 2\n", rt->valley, rt->valley);
        fprintf(f, "set arrow 2 from %.6g, graph 0 to %.6g, graph 1 nohead dt 3\n", rt->min_lr, rt->min_lr);
        fprintf(f, "plot '%s/range.tsv' using 2:4 with lines title 'smoothed loss (valley: dashes, min: dots)'\n", dir);
        fprintf(f, "unset arrow 1\nunset arrow 2\n");
    }
    fprintf(f, "set title 'sweep: validation loss, every seed and the median'\nset xlabel 'peak lr'\n"
               "set ylabel 'validation loss'\n");
    if (ss->best >= 0)
        fprintf(f, "set arrow 3 from %.6g, graph 0 to %.6g, graph 1 nohead lc rgb 'red'\n", ss->lr[ss->best],
                ss->lr[ss->best]);
    fprintf(f, "plot '%s/sweep.tsv' using 2:(strcol(6) eq 'ok' ? $9 : 1/0) with points pt 7 ps 0.5 title 'a seed', \\\n",
            dir);
    if (refined)
        fprintf(f, "     '%s/refine.tsv' using 2:(strcol(6) eq 'ok' ? $9 : 1/0) with points pt 7 ps 0.5 notitle, \\\n",
                dir);
    fprintf(f, "     '%s/summary.tsv' using 1:4 with linespoints lw 2 title 'median (red: recommended)'\n", dir);
    fprintf(f, "unset multiplot\n");
    if (fclose(f) != 0) return free(buf), gd_seterr("out of memory");
    char *path = xfmt("%s/lrtune.gp", dir);
    int rc = write_text_file(path, buf);
    free(path);
    free(buf);
    return rc;
}

static const char *pass_text(int ok) { return ok < 0 ? "skipped" : ok ? "pass" : "FAIL"; }

/* The evidence of steps 1 and 2: sanity.tsv, and range.tsv if the range test ran. */
static int write_checks(const char *dir, const task *tk, const char *optim, uint64_t seed, const sanity *san,
                        const range_test *rt, int have_range) {
    char *path = NULL;
    int rc = -1;
    if (have_range) {
        path = xfmt("%s/range.tsv", dir);
        gd_table *t = gd_table_open(path, "step lr loss smooth_loss");
        if (!t) goto done;
        gd_table_meta(t, "program", "lrtune");
        gd_table_meta(t, "task", "%s", tk->line);
        gd_table_meta(t, "optim", "%s (lr ramped)", optim);
        gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
        gd_table_meta(t, "ramp", "lr = %g * G^step to %g in %d steps; smoothing beta %g; stop above %g x best",
                      RT_START, RT_END, RT_STEPS, RT_BETA, RT_STOP);
        for (int i = 0; i < rt->n; i++) gd_table_row(t, "%d %.6g %.6g %.6g", i, rt->lr[i], rt->loss[i], rt->smooth[i]);
        if (gd_table_close(t) != 0) goto done;
    }
    free(path);
    path = xfmt("%s/sanity.tsv", dir);
    gd_table *ts = gd_table_open(path, "check value expected result");
    if (!ts) goto done;
    gd_table_meta(ts, "program", "lrtune");
    gd_table_meta(ts, "task", "%s", tk->line);
    gd_table_meta(ts, "seed", "%llu", (unsigned long long)seed);
    gd_table_meta(ts, "columns", "init_loss: validation loss at initialisation, expected ln C within %g%%; "
                  "grad_check: largest relative error over %ld coordinates (the largest analytic ones of each "
                  "tensor, eps %g; %ld more left out, on a kink), expected <= %g; overfit: loss of one batch after %d updates of %s, "
                  "expected < %g x its start %.6g", INIT_TOL * 100, san->grad_coords, (double)san->grad_eps,
                  san->grad_kinks, san->grad_tol, OVERFIT_STEPS, OVERFIT_OPTIM, OVERFIT_FRAC, san->overfit_start);
    gd_table_row(ts, "init_loss %.6g %.6g %s", san->init_loss, san->ln_c, pass_text(san->init_ok));
    gd_table_row(ts, "grad_check %.3g %g %s", san->grad_err, san->grad_tol, pass_text(san->grad_ok));
    gd_table_row(ts, "overfit %.6g %.6g %s", san->overfit_end, OVERFIT_FRAC * san->overfit_start,
                 pass_text(san->overfit_ok));
    if (gd_table_close(ts) != 0) goto done;
    rc = 0;
done:
    free(path);
    return rc;
}

static void progress(const gd_sweep_event *ev, void *ctx) {
    (void)ctx;
    if (ev->tick) return;
    const gd_sweep_point *p = &ev->point;
    if (ev->failed)
        fprintf(stderr, "%s: sweep [%ld/%ld] lr %s seed %llu: FAILED: %s\n", gd_prog(), ev->done, ev->todo,
                p->lr_text, (unsigned long long)p->seed, ev->error);
    else if (ev->r.diverged_at >= 0)
        note("%s: sweep [%ld/%ld] lr %s seed %llu: diverged at step %ld\n", gd_prog(), ev->done, ev->todo,
                p->lr_text, (unsigned long long)p->seed, ev->r.diverged_at);
    else
        note("%s: sweep [%ld/%ld] lr %s seed %llu: validation loss %.4f\n", gd_prog(), ev->done, ev->todo,
                p->lr_text, (unsigned long long)p->seed, ev->r.val_loss);
}

static double cpu_seconds(void) {
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    getrusage(RUSAGE_CHILDREN, &b);
    return (double)a.ru_utime.tv_sec + a.ru_utime.tv_usec * 1e-6 + (double)b.ru_utime.tv_sec +
           b.ru_utime.tv_usec * 1e-6;
}

/* Merge DIR/sweep-shard-*-of-*.tsv (and table, if it exists) into table. */
static int merge_shards(const char *dir, const char *table) {
    char *pattern = xfmt("%s/sweep-shard-*-of-*.tsv", dir);
    glob_t g;
    int found = glob(pattern, 0, NULL, &g) == 0;
    free(pattern);
    if (!found) return 0;
    char **in = malloc((g.gl_pathc + 1) * sizeof *in);
    if (!in) return globfree(&g), gd_seterr("out of memory");
    int n_in = 0;
    if (access(table, F_OK) == 0) in[n_in++] = (char *)table;
    for (size_t i = 0; i < g.gl_pathc; i++) in[n_in++] = g.gl_pathv[i];
    long missing, np;
    int rc = gd_sweep_merge(table, in, n_in, &missing, &np);
    free(in);
    globfree(&g);
    if (rc != 0) return -1;
    note("%s: merged the shards into %s: %ld of %ld points\n", gd_prog(), table, np - missing, np);
    return 0;
}

/* The grid of one sweep stage. */
static int sweep_setup(gd_sweep *sw, const task *tk, const char *lrs, const char *optim, const char *sched,
                       const char *seeds) {
    gd_sweep_init(sw);
    sw->batch_size = tk->batch, sw->train_subset = tk->kind == TASK_MLP ? tk->train_subset : 0;
    sw->n_val = tk->kind == TASK_MLP ? tk->n_val : 0;
    sw->epochs = 1;
    if (gd_sweep_set_lr(sw, lrs) != 0 || gd_sweep_set_optim(sw, optim) != 0 || gd_sweep_set_sched(sw, sched) != 0 ||
        gd_sweep_set_seeds(sw, seeds) != 0 || gd_sweep_set_task(sw, tk->line) != 0 || gd_sweep_check(sw) != 0)
        return -1;
    return 0;
}

typedef struct {
    const char *dir, *optim;
    uint64_t seed;
    const sanity *san;
    const range_test *rt;
    int have_range;
} checks_out;

/* Run the points of a stage (its shard) that are not yet in table. With checks, the
 * checks' tables are written once the table is known to be ours (same task and grid,
 * not in use). 0, or the exit status (interrupted: 128 + signal; failed: 1). */
static int run_stage(gd_sweep *sw, const char *table, task *tk, long workers, long shard_k, long shard_n,
                     const checks_out *checks) {
    const char *prog = gd_prog();
    gd_sweep_table t;
    if (gd_sweep_table_open(&t, sw, table) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        return t.refused ? 2 : 1;   /* 2: --dir holds another task's table; 1: in use, I/O */
    }
    if (checks && write_checks(checks->dir, tk, checks->optim, checks->seed, checks->san, checks->rt,
                               checks->have_range) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        gd_sweep_table_abort(&t);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    gd_sweep_run_cfg cfg = {(int)(workers > 0 ? workers : gd_sweep_cores()), shard_k, shard_n, progress, NULL,
                            &stop_signal};
    t.run_point = run_point;   /* the task's runs, not sweep's MLP */
    t.point_ctx = tk;
    note("%s: sweep: lrs %s%s: %ld points%s, %ld already in %s\n", prog, sw->lr_text[0],
         sw->n_lr > 1 ? " ..." : "", gd_sweep_npoints(sw), shard_n > 1 ? " (this shard: id % N == K)" : "", t.done.n,
         table);
    gd_sweep_summary sum;
    int run_rc = gd_sweep_run(&t, NULL, &cfg, &sum);
    if (run_rc != 0 && !sum.interrupted && sum.failed == 0) fprintf(stderr, "%s: %s\n", prog, gd_error());
    if (gd_sweep_table_close(&t) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        run_rc = -1;
    }
    if (sum.interrupted) {
        fprintf(stderr, "%s: interrupted: run the same command again to continue\n", prog);
        return 128 + stop_signal;
    }
    if (run_rc != 0) {
        fprintf(stderr, "%s: %ld point%s failed: run the same command again to retry them\n", prog, sum.failed,
                sum.failed == 1 ? "" : "s");
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------
 * main. */

int main(int argc, char **argv) {
    const char *model = "mlp", *optim = NULL, *shape = "cosine", *dir = NULL, *shard = NULL, *grid = NULL;
    const char *data = NULL, *prefix = "lrtune";
    long steps = 400, batch = 0, seeds = 3, max_points = 5, warmup = -1, workers = 0;
    long train_subset = 5000, n_val = 2000, val_windows = 64;
    uint64_t seed = 0;
    int force = 0, no_refine = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("model", &model, "mlp[:dims=784-64-10], lenet[:act=relu:pool=max], "
                                       "gpt[:layers=2:heads=4:width=32:context=32] or quad[:d=20:L=19:mu=1] (see the "
                                       "top of tools/lrtune.c)"),
        GD_OPT_INT("steps", &steps, "the budget: updates per run", 10, 10000000),
        GD_OPT_INT("batch-size", &batch, "rows per update (0: 64 for mlp, 8 for gpt; quad is full-batch)", 0, 60000),
        GD_OPT_STRING("optim", &optim, "optimizer spec without lr (default: sgd:momentum=0.9 for mlp, "
                                       "adamw:weight_decay=0.1:betas=0.9/0.95 for gpt, sgd for quad)"),
        GD_OPT_STRING("sched", &shape, "the schedule's shape, sized to the budget: cosine, linear, wsd or constant"),
        GD_OPT_INT("warmup", &warmup, "warmup updates (-1: 2/(1-beta2) for Adam-like, steps/20 else, <= steps/10)",
                   -1, 10000000),
        GD_OPT_SEED("seed", &seed, "the first seed (the range test and the checks use it)"),
        GD_OPT_INT("seeds", &seeds, "seeds per lr in the sweep", 1, 1000),
        GD_OPT_INT("max-points", &max_points, "most lrs in the sweep (half a decade apart)", 3, 40),
        GD_OPT_STRING("grid", &grid, "sweep these lrs instead (lib/sweep.h grammar, e.g. 1e-4:1:4); no range test"),
        GD_OPT_OUTDIR("dir", &dir, "directory for the tables (required; checked before any work)"),
        GD_OPT_STRING("shard", &shard, "K/N: run only the sweep points with id % N == K, then stop"),
        GD_OPT_INT("workers", &workers, "processes for the sweep (0: the cores this process may use)", 0, 1024),
        GD_OPT_INT("train-subset", &train_subset, "mlp: train on the first N images not held out", 1, 60000),
        GD_OPT_INT("val", &n_val, "mlp: training images held out for the validation loss", 1, 50000),
        GD_OPT_INT("val-windows", &val_windows, "gpt: validation windows", 1, 100000),
        GD_OPT_STRING("data", &data, "Fashion-MNIST (mlp) or fortunes (gpt) directory (default: the package's)"),
        GD_OPT_STRING("key-prefix", &prefix, "prefix of the keys in recommend.tsv"),
        GD_OPT_FLAG("force", &force, "go on when a sanity check fails"),
        GD_OPT_FLAG("quiet", &quiet, "no progress on stderr, only errors"),
        GD_OPT_FLAG("no-refine", &no_refine, "skip the refinement (the two quarter-decade lrs beside the best)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Chapter 8's recipe for the learning rate: sanity checks, the range test, a short "
                          "multi-seed sweep with the schedule sized to the budget, and a recommendation (optimizer, "
                          "peak lr, warmup, schedule) with its evidence in --dir (sanity.tsv, range.tsv, sweep.tsv, "
                          "refine.tsv, summary.tsv, recommend.tsv, lrtune.gp). Resumable (run the same command again) and "
                          "shardable (--shard K/N, then the same command without --shard merges).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    const char *prog = gd_prog();
    task tk;
    memset(&tk, 0, sizeof tk);
    if (!dir) {
        fprintf(stderr, "%s: --dir: required (where the tables go)\n", prog);
        return 2;
    }
    if (task_parse(&tk, model) != 0) {
        fprintf(stderr, "%s: --model: %s\n", prog, gd_error());
        return 2;
    }
    if (!optim) optim = tk.kind == TASK_GPT ? "adamw:weight_decay=0.1:betas=0.9/0.95"
                        : tk.kind == TASK_MLP ? "sgd:momentum=0.9" : "sgd";
    if (strstr(optim, "lr=")) {
        fprintf(stderr, "%s: --optim: give the optimizer without lr (lrtune chooses it), got '%s'\n", prog, optim);
        return task_free(&tk), 2;
    }
    {
        char *spec = xfmt("%s:lr=1", optim);
        gd_optim_kind kind;
        gd_hparams hp;
        int bad = gd_optim_parse(spec, &kind, &hp) != 0;
        free(spec);
        if (bad) {
            fprintf(stderr, "%s: --optim: %s\n", prog, gd_error());
            return task_free(&tk), 2;
        }
    }
    if (batch == 0) batch = tk.kind == TASK_GPT ? 8 : 64;
    if (tk.kind == TASK_QUAD) batch = 1;
    tk.steps = steps, tk.batch = batch, tk.train_subset = train_subset, tk.n_val = n_val;
    if (tk.kind == TASK_MLP && batch > train_subset) {
        fprintf(stderr, "%s: --batch-size: %ld is more than --train-subset %ld\n", prog, batch, train_subset);
        return task_free(&tk), 2;
    }
    if (warmup >= steps) {
        fprintf(stderr, "%s: --warmup: %ld is not less than --steps %ld\n", prog, warmup, steps);
        return task_free(&tk), 2;
    }
    long W = warmup >= 0 ? warmup : warmup_rule(optim, steps);
    char sched[256];
    if (sched_spec(sched, sizeof sched, shape, W, steps) != 0) {
        fprintf(stderr, "%s: --sched: %s\n", prog, gd_error());
        return task_free(&tk), 2;
    }
    long shard_k = 0, shard_n = 1;
    if (shard && gd_sweep_parse_shard(shard, &shard_k, &shard_n) != 0) {
        fprintf(stderr, "%s: --shard: %s\n", prog, gd_error());
        return task_free(&tk), 2;
    }
    char seeds_text[64];
    snprintf(seeds_text, sizeof seeds_text, "%llu:%llu", (unsigned long long)seed,
             (unsigned long long)(seed + (uint64_t)seeds - 1));
    if (grid) {   /* check the grid before anything slow */
        gd_sweep probe;
        gd_sweep_init(&probe);
        int bad = gd_sweep_set_lr(&probe, grid);
        if (!bad && probe.n_lr > MAX_LRS) bad = gd_seterr("'%s': more than %d lrs", grid, MAX_LRS);
        gd_sweep_free(&probe);
        if (bad) {
            fprintf(stderr, "%s: --grid: %s\n", prog, gd_error());
            return task_free(&tk), 2;
        }
    }
    if (task_load(&tk, data, val_windows) != 0) {   /* the data given are missing, damaged or too small */
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        task_free(&tk);
        return 2;
    }
    {   /* --dir holding another task's sweep: refused now, not after the checks */
        char *existing = shard_n > 1 ? xfmt("%s/sweep-shard-%ld-of-%ld.tsv", dir, shard_k, shard_n)
                                     : xfmt("%s/sweep.tsv", dir);
        int bad = task_table_check(existing, tk.line);
        free(existing);
        if (bad) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            task_free(&tk);
            return 2;
        }
    }
    gd_blas_threads(1);
    int status = 1, refine = !no_refine;
    char *path = NULL, *table = NULL, *lrs = NULL;

    /* 1. sanity: the loss at init and the gradient check */
    sanity san;
    memset(&san, 0, sizeof san);
    san.overfit_ok = -1;
    san.overfit_start = san.overfit_end = NAN;
    char *spec1 = xfmt("%s:lr=1e-3", optim);   /* no update is made: any lr */
    note("%s: %s\n", prog, tk.line);
    int init_rc = sanity_init(&tk, spec1, seed, &san);
    free(spec1);
    if (init_rc == 0 && tk.kind != TASK_QUAD) init_rc = sanity_overfit(&tk, seed, &san);   /* quad: one batch is all */
    if (init_rc != 0) {
        fprintf(stderr, "%s: sanity checks: %s\n", prog, gd_error());
        goto out;
    }
    /* 2. the range test */
    range_test rt;
    memset(&rt, 0, sizeof rt);
    rt.valley = rt.steep = rt.minimum = rt.min_lr = NAN;
    if (!grid) {
        if (range_run(&tk, optim, seed, &rt) != 0) {
            fprintf(stderr, "%s: range test: %s\n", prog, gd_error());
            goto out;
        }
        note("%s: range test: %d steps%s; valley %.3g, steep %.3g, minimum %.3g, lowest loss at %.3g\n",
                prog, rt.n, rt.stopped ? " (stopped: loss > 4x best)" : "", rt.valley, rt.steep, rt.minimum, rt.min_lr);
        lrs = malloc(64 * 40);   /* at most 40 numbers of "%.3g" */
        if (!lrs) {
            fprintf(stderr, "%s: out of memory\n", prog);
            goto out;
        }
        grid_from_range(&rt, max_points, lrs, 64 * 40);
    } else {
        lrs = xfmt("%s", grid);
    }
    note("%s: sanity: loss at init %.4f (ln C %.4f): %s; gradient check %.2g: %s; overfit one batch "
                    "%.4f -> %.4f: %s\n", prog, san.init_loss, san.ln_c, pass_text(san.init_ok), san.grad_err,
            pass_text(san.grad_ok), san.overfit_start, san.overfit_end, pass_text(san.overfit_ok));
    if ((san.init_ok == 0 || san.grad_ok == 0 || san.overfit_ok == 0) && !force) {
        if (write_checks(dir, &tk, optim, seed, &san, &rt, !grid) != 0) fprintf(stderr, "%s: %s\n", prog, gd_error());
        fprintf(stderr, "%s: a sanity check failed (%s/sanity.tsv): fix the model or data first, or --force\n", prog, dir);
        goto out;
    }

    /* 3. the sweep: lib/sweep.h tables with the task line; the coarse one can be sharded */
    gd_sweep sw, sw2;
    gd_sweep_init(&sw);
    gd_sweep_init(&sw2);
    sweep_summary ss;
    memset(&ss, 0, sizeof ss);
    ss.best = -1;
    char *table2 = NULL, *refine_lrs = NULL;
    const checks_out checks = {dir, optim, seed, &san, &rt, !grid};
    if (sweep_setup(&sw, &tk, lrs, optim, sched, seeds_text) != 0) {
        fprintf(stderr, "%s: the sweep: %s\n", prog, gd_error());
        goto out_sweep;
    }
    table = shard_n > 1 ? xfmt("%s/sweep-shard-%ld-of-%ld.tsv", dir, shard_k, shard_n)
                        : xfmt("%s/sweep.tsv", dir);
    if (shard_n == 1 && merge_shards(dir, table) != 0) {   /* the merge step */
        fprintf(stderr, "%s: merging the shards: %s\n", prog, gd_error());
        goto out_sweep;
    }
    if ((status = run_stage(&sw, table, &tk, workers, shard_k, shard_n, &checks)) != 0) goto out_sweep;
    if (shard_n > 1) {
        note("%s: shard %ld/%ld done (%s); run the command without --shard to merge and recommend\n", prog,
             shard_k, shard_n, table);
        goto out_sweep;
    }
    status = 1;
    if (add_summary(&ss, &sw, table, &tk, grid ? "grid" : "coarse") != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        goto out_sweep;
    }
    /* 3b. the refinement: the quarter-decade lrs on either side of the coarse best */
    if (refine && !grid && ss.best >= 0) {
        int j = (int)lround(4 * log10(ss.lr[ss.best]));   /* even: a half-decade point */
        refine_lrs = xfmt("%.3g,%.3g", quarter(j - 1), quarter(j + 1));
        table2 = xfmt("%s/refine.tsv", dir);
        if (sweep_setup(&sw2, &tk, refine_lrs, optim, sched, seeds_text) != 0) {
            fprintf(stderr, "%s: the refinement: %s\n", prog, gd_error());
            goto out_sweep;
        }
        if ((status = run_stage(&sw2, table2, &tk, workers, 0, 1, NULL)) != 0) goto out_sweep;
        status = 1;
        if (add_summary(&ss, &sw2, table2, &tk, "refine") != 0) {
            fprintf(stderr, "%s: %s\n", prog, gd_error());
            goto out_sweep;
        }
    }

    /* 4. the summary and the recommendation */
    free(path), path = xfmt("%s/summary.tsv", dir);
    gd_table *tsum = gd_table_open(path, "lr runs diverged median min max stage");
    if (!tsum) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        goto out_sweep;
    }
    gd_table_meta(tsum, "program", "lrtune");
    gd_table_meta(tsum, "task", "%s", tk.line);
    gd_table_meta(tsum, "optim", "%s", optim);
    gd_table_meta(tsum, "sched", "%s", sched);
    gd_table_meta(tsum, "seeds", "%s", seeds_text);
    gd_table_meta(tsum, "columns", "validation loss after the budget over the seeds: median (a diverged run counts "
                  "as inf), min and max of the runs that did not diverge; stage: coarse (sweep.tsv), refine "
                  "(refine.tsv) or grid (--grid)");
    printf("%-10s %5s %9s %10s %10s %10s  %s\n", "lr", "runs", "diverged", "median", "min", "max", "stage");
    for (int i = 0; i < ss.n_lr; i++) {
        gd_table_row(tsum, "%s %d %d %.6g %.6g %.6g %s", ss.lr_text[i], ss.runs[i], ss.diverged[i], ss.median[i],
                     ss.min[i], ss.max[i], ss.stage[i]);
        printf("%-10s %5d %9d %10.5g %10.5g %10.5g  %s%s\n", ss.lr_text[i], ss.runs[i], ss.diverged[i], ss.median[i],
               ss.min[i], ss.max[i], ss.stage[i], i == ss.best ? "  <- recommended" : "");
    }
    if (gd_table_close(tsum) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        goto out_sweep;
    }
    if (ss.best < 0) {
        fprintf(stderr, "%s: every lr of the sweep diverged in most seeds: no recommendation (try a lower grid)\n", prog);
        goto out_sweep;
    }
    int edge = ss.n_lr > 1 && (ss.best == 0 || ss.best == ss.n_lr - 1);
    const char *best = ss.lr_text[ss.best];
    free(path), path = xfmt("%s/recommend.tsv", dir);
    gd_table *tr = gd_table_open(path, "key value");
    if (!tr) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        goto out_sweep;
    }
    gd_table_meta(tr, "program", "lrtune");
    gd_table_meta(tr, "task", "%s", tk.line);
    gd_table_meta(tr, "columns", "the recommendation and its evidence; cost in examples (rows through a forward "
                  "and backward pass, or a validation forward) and updates");
    const char *P = prefix;
    char *key = NULL;
#define KV(name, ...) (free(key), key = xfmt("%s_%s", P, name), gd_table_kv(tr, key, __VA_ARGS__))
    KV("optim", "%s:lr=%s", optim, best);
    KV("peak_lr", "%s", best);
    KV("warmup", "%ld", W);
    KV("sched", "%s", sched);
    KV("best_median", "%.5g", ss.median[ss.best]);
    KV("best_min", "%.5g", ss.min[ss.best]);
    KV("best_max", "%.5g", ss.max[ss.best]);
    KV("best_diverged", "%d", ss.diverged[ss.best]);
    KV("best_stage", "%s", ss.stage[ss.best]);
    KV("seeds", "%ld", seeds);
    KV("edge", "%s", edge ? "yes" : "no");
    KV("grid", "%s", lrs);
    KV("refine", "%s", refine_lrs ? refine_lrs : "none");
    KV("n_lr", "%d", ss.n_lr);
    KV("valley", "%.3g", rt.valley);
    KV("steep", "%.3g", rt.steep);
    KV("minimum", "%.3g", rt.minimum);
    KV("min_lr", "%.3g", rt.min_lr);
    KV("range_steps", "%d", rt.n);
    KV("init_loss", "%.4f", san.init_loss);
    KV("ln_c", "%.4f", san.ln_c);
    KV("grad_err", "%.2g", san.grad_err);
    KV("overfit_start", "%.4f", san.overfit_start);
    KV("overfit_end", "%.4f", san.overfit_end);
    KV("sanity", "%s", san.init_ok != 0 && san.grad_ok != 0 && san.overfit_ok != 0 ? "pass" : "FAIL");
    long checks_cost = san.examples + rt.examples;
    KV("cost_checks", "%ld", checks_cost);
    KV("cost_sweep", "%ld", ss.examples);
    KV("cost_total", "%ld", checks_cost + ss.examples);
    KV("updates_sweep", "%ld", ss.updates);
    KV("updates_total", "%ld", ss.updates + (long)rt.n + (san.overfit_ok >= 0 ? OVERFIT_STEPS : 0));
    KV("updates_checks", "%ld", (long)rt.n + (san.overfit_ok >= 0 ? OVERFIT_STEPS : 0));
#undef KV
    free(key);
    if (gd_table_close(tr) != 0 || write_plot(dir, &ss, &rt, !grid, refine_lrs != NULL) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        goto out_sweep;
    }
    printf("recommendation: --optim %s:lr=%s --sched %s (peak lr %s, warmup %ld of %ld updates)\n", optim, best,
           sched, best, W, steps);
    printf("evidence: median validation loss %.5g over %ld seeds (range %.5g to %.5g); %s/summary.tsv, "
           "%s/sweep.tsv; figure: gnuplot %s/lrtune.gp\n", ss.median[ss.best], seeds, ss.min[ss.best],
           ss.max[ss.best], dir, dir, dir);
    if (edge)
        printf("warning: the best lr is at the %s end of the grid: the best may lie beyond it (--grid to widen)\n",
               ss.best == 0 ? "low" : "high");
    status = 0;
out_sweep:
    gd_sweep_free(&sw);
    gd_sweep_free(&sw2);
    free(table2);
    free(refine_lrs);
out:
    note("%s: %.1f CPU-seconds\n", prog, cpu_seconds());
    free(path);
    free(table);
    free(lrs);
    task_free(&tk);
    return status;
}

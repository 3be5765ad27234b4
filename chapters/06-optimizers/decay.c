/* decay.c -- Adam with L2 regularization against AdamW's decoupled weight decay, over a
 * grid of learning rate x weight decay (Chapter 6, section 6.6).
 *
 * Dimension letters: D inputs (pixels), H hidden units, K = 10 classes. A D-H-K ReLU MLP
 * trains on a small subset of Fashion-MNIST for many epochs (so that it overfits and a
 * regularizer has something to do) and is judged by its loss on held-out training
 * images. Every (optimizer, lr, weight_decay) cell runs once per seed.
 *
 * The two rules, as torch.optim writes them (lib/optim.c performs them):
 *   Adam + L2   g = grad + weight_decay * theta, then Adam on g: the decay goes through
 *               Adam's normalization, theta -= lr * m_hat / (sqrt(v_hat) + eps).
 *   AdamW       theta = theta - lr * weight_decay * theta, then Adam on grad alone
 *               (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization";
 *               PyTorch multiplies the decay by lr, so the per-step decay is lr * lambda).
 * --from reads the --out tables and writes --numbers and --grid (median held-out loss
 * per cell, for the heat map).
 * Leaves out: schedules (the paper's eta_t multiplier), SGD.
 */
#include "width-common.h"

#define MAX_RUNS 8192
#define MAX_SEEDS 32
#define MAX_AX 32

typedef struct {
    char optim[8];
    double lr, wd;
    uint64_t seed;
    long diverged_at;
    double val_loss, val_acc, train_loss;
} run;

static int read_runs(const char *path, run *runs, int n, int max) {
    FILE *f = fopen(path, "r");
    if (!f) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0;
    while (getline(&line, &line_cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "optim\tlr\tweight_decay\tseed\t", 27) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a table of ch06-decay --out", path);
            }
            continue;
        }
        if (n == max) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d runs", path, max);
        }
        run *r = &runs[n];
        unsigned long long seed;
        char a[64], b[64], c[64];
        if (sscanf(line, "%7s %lf %lf %llu %ld %63s %63s %63s", r->optim, &r->lr, &r->wd, &seed, &r->diverged_at, a, b,
                   c) != 8) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(f), free(line);
            return -1;
        }
        /* "nan" for a run that diverged */
        r->val_loss = strcmp(a, "nan") ? atof(a) : NAN;
        r->val_acc = strcmp(b, "nan") ? atof(b) : NAN;
        r->train_loss = strcmp(c, "nan") ? atof(c) : NAN;
        r->seed = seed;
        n++;
    }
    fclose(f), free(line);
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median where a diverged run (NaN) counts as +infinity. */
static double median_inf(const double *v, int n) {
    double s[MAX_SEEDS];
    for (int i = 0; i < n; i++) s[i] = isnan(v[i]) ? INFINITY : v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Add x to the n distinct values v[0..n) unless it is there; the new count, or MAX_AX + 1
 * when it would not fit (a table with too many lrs or decays is refused, not cut). */
static int add_unique(double *v, int n, double x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return n;
    if (n >= MAX_AX) return MAX_AX + 1;
    v[n++] = x;
    return n;
}

/* The index of x in v[0..n), or -1. */
static int index_of(const double *v, int n, double x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return i;
    return -1;
}

/* Each seed's lowest held-out loss over the grid, per optimizer (set by summarize). */
static double best_of_seed[MAX_SEEDS];
static int n_best_of_seed;

/* Numbers and heat-map rows for one optimizer. */
static int summarize(gd_table *nt, gd_table *gt, const char *optim, const run *runs, int nruns) {
    double lrs[MAX_AX], wds[MAX_AX], seedv[MAX_SEEDS];
    int nl = 0, nw = 0, ns = 0;
    for (int i = 0; i < nruns; i++)
        if (!strcmp(runs[i].optim, optim)) {
            if (!isfinite(runs[i].lr) || !isfinite(runs[i].wd))
                return gd_seterr("%s: a run with lr %g, weight decay %g", optim, runs[i].lr, runs[i].wd);
            nl = add_unique(lrs, nl, runs[i].lr);
            nw = add_unique(wds, nw, runs[i].wd);
            if (nl > MAX_AX || nw > MAX_AX) return gd_seterr("%s: more than %d lrs or weight decays", optim, MAX_AX);
            double s = (double)runs[i].seed;
            int k;
            for (k = 0; k < ns && seedv[k] != s; k++) {}
            if (k == ns && ns == MAX_SEEDS) return gd_seterr("%s: more than %d seeds", optim, MAX_SEEDS);
            if (k == ns) seedv[ns++] = s;
        }
    if (nl < 2 || nw < 2 || wds[0] != 0) {
        qsort(wds, (size_t)nw, sizeof *wds, cmp_double);
        if (nl < 2 || nw < 2 || wds[0] != 0) return gd_seterr("%s: need 2 lrs, weight decay 0 and another", optim);
    }
    qsort(lrs, (size_t)nl, sizeof *lrs, cmp_double);
    qsort(wds, (size_t)nw, sizeof *wds, cmp_double);
    static double v[MAX_AX][MAX_AX][MAX_SEEDS], acc[MAX_AX][MAX_AX][MAX_SEEDS];
    static int have[MAX_AX][MAX_AX][MAX_SEEDS];
    memset(have, 0, sizeof have);
    for (int i = 0; i < nruns; i++) {
        if (strcmp(runs[i].optim, optim)) continue;
        int l = index_of(lrs, nl, runs[i].lr), w = index_of(wds, nw, runs[i].wd),
            s = index_of(seedv, ns, (double)runs[i].seed);   /* all found: each was added above */
        v[l][w][s] = runs[i].val_loss;
        acc[l][w][s] = runs[i].val_acc;
        have[l][w][s] = 1;
    }
    for (int l = 0; l < nl; l++)
        for (int w = 0; w < nw; w++)
            for (int s = 0; s < ns; s++)
                if (!have[l][w][s]) return gd_seterr("%s: no run for lr %g, weight decay %g", optim, lrs[l], wds[w]);
    double med[MAX_AX][MAX_AX];
    int bl = 0, bw = 0;
    for (int l = 0; l < nl; l++) {
        int best_w = 0;
        for (int w = 0; w < nw; w++) {
            med[l][w] = median_inf(v[l][w], ns);
            if (med[l][w] < med[bl][bw]) bl = l, bw = w;
            if (med[l][w] < med[l][best_w]) best_w = w;
        }
        for (int w = 0; w < nw && gt; w++) {
            gd_stats a = gd_stats_of(acc[l][w], ns);
            gd_table_row(gt, "%s %g %g %d %d %.5g %.5g %d", optim, lrs[l], wds[w], l, w, med[l][w], a.median, w == best_w);
        }
        if (gt) gd_table_block(gt);
    }
    char name[96], b1[32];
    /* the grid in numbers: median held-out loss, each lr's best weight decay in bold */
    char md[8192];
    int ml = snprintf(md, sizeof md, "| lr \\ weight decay |");
    for (int w = 0; w < nw; w++) ml += snprintf(md + ml, sizeof md - ml, " %s |", wc_lr(b1, sizeof b1, wds[w]));
    ml += snprintf(md + ml, sizeof md - ml, "\n|---:|");
    for (int w = 0; w < nw; w++) ml += snprintf(md + ml, sizeof md - ml, "---:|");
    for (int l = 0; l < nl && ml < (int)sizeof md - 400; l++) {
        int bw_l = 0;
        for (int w = 1; w < nw; w++)
            if (med[l][w] < med[l][bw_l]) bw_l = w;
        ml += snprintf(md + ml, sizeof md - ml, "\n| %s |", wc_lr(b1, sizeof b1, lrs[l]));
        for (int w = 0; w < nw; w++)
            ml += snprintf(md + ml, sizeof md - ml, w == bw_l ? " **%.3f** |" : " %.3f |", med[l][w]);
    }
    snprintf(name, sizeof name, "%s_grid", optim);
    wc_kv(nt, name, "%s\n", md);
    /* the best cell, and the best with no decay */
    int b0 = 0;
    for (int l = 0; l < nl; l++)
        if (med[l][0] < med[b0][0]) b0 = l;
    snprintf(name, sizeof name, "%s_best_lr", optim);
    wc_kv(nt, name, "%s", wc_lr(b1, sizeof b1, lrs[bl]));
    snprintf(name, sizeof name, "%s_best_wd", optim);
    wc_kv(nt, name, "%s", wc_lr(b1, sizeof b1, wds[bw]));
    snprintf(name, sizeof name, "%s_best_loss", optim);
    wc_kv(nt, name, "%.3f", med[bl][bw]);
    gd_stats ba = gd_stats_of(acc[bl][bw], ns);
    snprintf(name, sizeof name, "%s_best_acc", optim);
    wc_kv(nt, name, "%.1f%%", 100 * ba.median);
    snprintf(name, sizeof name, "%s_nowd_lr", optim);
    wc_kv(nt, name, "%s", wc_lr(b1, sizeof b1, lrs[b0]));
    snprintf(name, sizeof name, "%s_nowd_loss", optim);
    wc_kv(nt, name, "%.3f", med[b0][0]);
    gd_stats na = gd_stats_of(acc[b0][0], ns);
    snprintf(name, sizeof name, "%s_nowd_acc", optim);
    wc_kv(nt, name, "%.1f%%", 100 * na.median);
    /* in how many seeds the best decayed cell beats the best undecayed one (paired) */
    int wins = 0;
    for (int s = 0; s < ns; s++) wins += !isnan(v[bl][bw][s]) && (isnan(v[b0][0][s]) || v[bl][bw][s] < v[b0][0][s]);
    snprintf(name, sizeof name, "%s_wd_wins", optim);
    wc_kv(nt, name, "%d of %d", wins, ns);
    /* along the lr axis: each lr's best weight decay (among those > 0 that beat no decay),
     * and the per-step decay lr * lambda there; their spreads in decades */
    char list[2048];
    int len = 0, nb = 0;
    double lo_wd = INFINITY, hi_wd = 0, lo_p = INFINITY, hi_p = 0;
    for (int l = 0; l < nl; l++) {
        int w = 0;
        for (int k = 1; k < nw; k++)
            if (med[l][k] < med[l][w]) w = k;
        len += snprintf(list + len, sizeof list - len, "%s%s: %s", l ? ", " : "", wc_lr(b1, sizeof b1, lrs[l]),
                        w ? "" : "0");
        if (w) {
            char b2[32];
            len += snprintf(list + len, sizeof list - len, "%s", wc_lr(b2, sizeof b2, wds[w]));
            if (isfinite(med[l][w])) {
                nb++;
                lo_wd = fmin(lo_wd, wds[w]), hi_wd = fmax(hi_wd, wds[w]);
                lo_p = fmin(lo_p, lrs[l] * wds[w]), hi_p = fmax(hi_p, lrs[l] * wds[w]);
            }
        }
        snprintf(name, sizeof name, "%s_bestwd_%d", optim, l);
        wc_kv(nt, name, "%s", wc_lr(b1, sizeof b1, wds[w]));
    }
    snprintf(name, sizeof name, "%s_bestwd_list", optim);
    wc_kv(nt, name, "%s", list);
    snprintf(name, sizeof name, "%s_bestwd_n", optim);
    wc_kv(nt, name, "%d", nb);
    snprintf(name, sizeof name, "%s_wd_decades", optim);
    wc_kv(nt, name, "%.1f", nb ? log10(hi_wd / lo_wd) : NAN);
    snprintf(name, sizeof name, "%s_product_decades", optim);
    wc_kv(nt, name, "%.1f", nb ? log10(hi_p / lo_p) : NAN);
    if (!strcmp(optim, "adam")) wc_kv(nt, "decay_seeds", "%d", ns);
    /* the effect of one weight decay, wds[ref] (the second largest), at each lr: median
     * held-out loss with it minus without it */
    int ref = nw >= 3 ? nw - 2 : nw - 1;
    snprintf(name, sizeof name, "%s_ref_wd", optim);
    wc_kv(nt, name, "%s", wc_lr(b1, sizeof b1, wds[ref]));
    for (int l = 0; l < nl; l++) {
        snprintf(name, sizeof name, "%s_ref_delta_%d", optim, l);
        wc_kv(nt, name, "%+.2f", med[l][ref] - med[l][0]);
    }
    /* each seed's best cell, for the paired comparison of the two optimizers */
    for (int s = 0; s < ns; s++) {
        double b = INFINITY;
        for (int l = 0; l < nl; l++)
            for (int w = 0; w < nw; w++)
                if (!isnan(v[l][w][s]) && v[l][w][s] < b) b = v[l][w][s];
        best_of_seed[s] = b;
    }
    n_best_of_seed = ns;
    return 0;
}

int main(int argc, char **argv) {
    gd_floats lrs = {5, {3e-4, 1e-3, 3e-3, 1e-2, 3e-2}};
    gd_floats wds = {6, {0, 1e-3, 1e-2, 1e-1, 1, 10}};
    const char *optims = "adam,adamw", *data = NULL, *out = NULL, *from = NULL, *numbers = NULL, *grid = NULL;
    long hidden = 64, pool = 4, steps = 400, batch = 64, ntrain = 1024, nval = 5000, nseeds = 5;
    uint64_t first_seed = 0;
    gd_opt opts[] = {
        GD_OPT_FLOATS("lrs", &lrs, "learning rates", 0, 10, 1),
        GD_OPT_FLOATS("wds", &wds, "weight decays lambda (0 included: no decay)", 0, 1e6, 0),
        GD_OPT_STRING("optims", &optims, "adam (L2 through the gradient), adamw (decoupled), or both: adam,adamw"),
        GD_OPT_INT("hidden", &hidden, "hidden units H of the D-H-10 MLP", 1, 65536),
        GD_OPT_INT("pool", &pool, "average p x p pixel blocks (1, 2, 4, 7, 14)", 1, 28),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 10000000),
        GD_OPT_INT("batch-size", &batch, "minibatch size", 1, 60000),
        GD_OPT_INT("train-n", &ntrain, "training images (a fixed subset)", 1, 55000),
        GD_OPT_INT("val-n", &nval, "held-out training images the runs are judged on", 1, 5000),
        GD_OPT_SEED("seed", &first_seed, "the first seed (initial weights and data order)"),
        GD_OPT_INT("seeds", &nseeds, "runs per cell, seeds seed, seed+1, ...", 1, MAX_SEEDS),
        GD_OPT_STRING("data", &data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_OUT("out", &out, "write one row per run to this table"),
        GD_OPT_STRING("from", &from, "no training: read these --out tables (comma-separated)"),
        GD_OPT_OUT("numbers", &numbers, "with --from: the numbers the chapter quotes"),
        GD_OPT_OUT("grid", &grid, "with --from: median held-out loss per (optimizer, lr, weight decay)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Adam + L2 against AdamW over a grid of lr x weight decay on a small Fashion-MNIST "
                          "subset (Chapter 6, 6.6); or (--from) summarize such runs.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (strcmp(optims, "adam") && strcmp(optims, "adamw") && strcmp(optims, "adam,adamw")) {
        gd_usage_error("--optims: adam, adamw or adam,adamw, got '%.60s'", optims);
        return 2;
    }
    if (28 % pool != 0) {
        fprintf(stderr, "%s: --pool: must divide 28, got %ld\n", gd_prog(), pool);
        return 2;
    }
    if (from && !numbers && !grid) {
        fprintf(stderr, "%s: --from: give --numbers or --grid to write\n", gd_prog());
        return 2;
    }
    if (!from && (numbers || grid)) {
        fprintf(stderr, "%s: --numbers and --grid summarize earlier runs: give --from\n", gd_prog());
        return 2;
    }
    int nopt = strcmp(optims, "adam,adamw") ? 1 : 2;
    if ((long)nopt * lrs.n * wds.n * nseeds > MAX_RUNS) {
        fprintf(stderr, "%s: at most %d runs\n", gd_prog(), MAX_RUNS);
        return 2;
    }

    static run runs[MAX_RUNS];
    int nruns = 0;
    if (from) {
        char *list = strdup(from);   /* the user's list, however long: no fixed-size copy */
        if (!list) {
            fprintf(stderr, "%s: out of memory\n", gd_prog());
            return 1;
        }
        for (char *p = strtok(list, ","); p; p = strtok(NULL, ","))
            if ((nruns = read_runs(p, runs, nruns, MAX_RUNS)) < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                free(list);
                return 2;   /* the tables given are missing or not ch06-decay's */
            }
        free(list);
        if (nruns == 0) {   /* empty tables, or a list of commas: nothing to summarize */
            gd_usage_error("--from: no runs in '%.60s'", from);
            return 2;
        }
        gd_table *nt = numbers ? gd_table_open(numbers, "key value") : gd_table_open("/dev/null", "key value");
        gd_table *gt = grid ? gd_table_open(grid, "optim lr weight_decay i_lr i_wd val_loss val_acc best_in_row") : NULL;
        if (!nt || (grid && !gt)) goto io_error;
        gd_table_meta(nt, "program", "ch06-decay --from %s", from);
        if (gt) gd_table_meta(gt, "program", "ch06-decay --from %s", from);
        if (gt) gd_table_meta(gt, "values", "medians over seeds (a diverged run counts as +inf)");
        const char *names[2] = {"adam", "adamw"};
        double best[2][MAX_SEEDS];
        int nbest[2] = {0, 0};
        for (int o = 0; o < 2; o++) {
            int any = 0;
            for (int i = 0; i < nruns && !any; i++) any = !strcmp(runs[i].optim, names[o]);
            if (any && summarize(nt, gt, names[o], runs, nruns) != 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                gd_table_abort(nt);
                if (gt) gd_table_abort(gt);
                return 2;   /* the runs given do not make a grid */
            }
            if (any) memcpy(best[o], best_of_seed, sizeof best[o]), nbest[o] = n_best_of_seed;
        }
        if (nbest[0] && nbest[0] == nbest[1]) {
            /* each seed's best cell, AdamW against Adam + L2 (the seeds are the same) */
            int lower = 0;
            double d[MAX_SEEDS];
            for (int s = 0; s < nbest[0]; s++) d[s] = best[1][s] - best[0][s], lower += d[s] < 0;
            gd_stats ds = gd_stats_of(d, nbest[0]);
            wc_kv(nt, "decay_adamw_lower", "%d of %d", lower, nbest[0]);
            wc_kv(nt, "decay_diff", "%+.3f", ds.median);
            wc_kv(nt, "decay_diff_min", "%+.3f", ds.min);
            wc_kv(nt, "decay_diff_max", "%+.3f", ds.max);
        }
        if (gd_table_close(nt) != 0 || (gt && gd_table_close(gt) != 0)) goto io_error;
        return 0;
    }

    gd_blas_threads(1);
    gd_images train, test;
    /* the runs index ntrain images of the training part and nval of the 5000 held out */
    int st = wc_load(data, (int)pool, 5000 + ntrain, "--train-n + the 5000 held-out images", &train, &test);
    if (st != 0) return st;
    /* a fixed split of the training set (the sweep's, GD_SWEEP_SPLIT_SEED): nval held out */
    int *tidx = malloc(sizeof(int) * train.n), *vidx = malloc(sizeof(int) * 5000);
    if (!tidx || !vidx || gd_split(tidx, vidx, train.n, 5000, GD_SWEEP_SPLIT_SEED) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_table *t = NULL;
    if (out && !(t = gd_table_open(out, "optim lr weight_decay seed diverged_at val_loss val_acc train_loss"))) goto io_error;
    if (t) {
        gd_table_meta(t, "program", "ch06-decay");
        gd_table_meta(t, "model", "MLP %d-%ld-10, ReLU, Fashion-MNIST at %dx%d pixels (%ldx%ld average pool)", train.dim,
                      hidden, train.rows, train.cols, pool, pool);
        gd_table_meta(t, "training", "%ld training images, batch %ld, %ld steps (%.0f epochs), constant lr", ntrain,
                      batch, steps, (double)steps * batch / ntrain);
        gd_table_meta(t, "judged on", "%ld held-out training images (split seed %d): loss and accuracy after the last step",
                      nval, GD_SWEEP_SPLIT_SEED);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)first_seed,
                      (unsigned long long)(first_seed + nseeds - 1));
    }
    printf("%-6s %-8s %-8s %-5s %-9s %s\n", "optim", "lr", "wd", "seed", "val_loss", "val_acc");
    const char *names[2] = {"adam", "adamw"};
    for (int o = 0; o < 2; o++) {
        if (nopt == 1 && strcmp(optims, names[o])) continue;
        for (int l = 0; l < lrs.n; l++)
            for (int w = 0; w < wds.n; w++)
                for (long s = 0; s < nseeds; s++) {
                    char spec[128], label[96];
                    snprintf(spec, sizeof spec, "%s:lr=%.17g:weight_decay=%.17g", names[o], lrs.v[l], wds.v[w]);
                    snprintf(label, sizeof label, "%s lr %g wd %g seed %llu", names[o], lrs.v[l], wds.v[w],
                             (unsigned long long)(first_seed + s));
                    gd_train_cfg cfg = gd_train_defaults();
                    cfg.dims[0] = train.dim, cfg.dims[1] = (int)hidden, cfg.dims[2] = GD_FMNIST_CLASSES;
                    cfg.optim = spec;
                    cfg.batch_size = (int)batch;
                    cfg.seed = first_seed + (uint64_t)s;
                    cfg.train = &train, cfg.train_idx = tidx, cfg.n_train = (int)ntrain;
                    cfg.val = &train, cfg.val_idx = vidx, cfg.n_val = (int)nval;
                    long per_epoch = (ntrain + batch - 1) / batch;
                    cfg.epochs = ((double)steps - 0.5) / (double)per_epoch;
                    cfg.eval_every = (int)steps;   /* once, after the last step */
                    cfg.log_every = (int)(steps < 50 ? steps : 50);
                    cfg.label = label;
                    cfg.collapse_window = 0;
                    gd_trainer *tr = gd_trainer_new(&cfg);
                    gd_train_log log;
                    if (!tr || gd_trainer_run(tr, &log) != 0) {
                        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                        return 1;
                    }
                    const gd_train_row *last = &log.rows[log.n - 1];
                    int div = log.diverged_at >= 0;
                    if (t)
                        gd_table_row(t, "%s %g %g %llu %ld %.6g %.6g %.6g", names[o], lrs.v[l], wds.v[w],
                                     (unsigned long long)cfg.seed, log.diverged_at, div ? NAN : last->val_loss,
                                     div ? NAN : last->val_acc, div ? NAN : last->train_loss);
                    printf("%-6s %-8g %-8g %-5llu %-9.4f %.4f\n", names[o], lrs.v[l], wds.v[w],
                           (unsigned long long)cfg.seed, div ? NAN : last->val_loss, div ? NAN : last->val_acc);
                    gd_train_log_free(&log);
                    gd_trainer_free(tr);
                }
    }
    free(tidx), free(vidx);
    gd_images_free(&train);
    gd_images_free(&test);
    if (t && gd_table_close(t) != 0) goto io_error;
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

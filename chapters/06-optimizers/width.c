/* width.c -- the best learning rate against the width of an MLP, in the standard
 * parametrization and in muP (Chapter 6, section 6.5).
 *
 * Dimension letters: N batch, D inputs (pixels), H hidden units (the width), K = 10
 * classes. The model is D-H-K (D-H-H-K with --hidden-layers 2, and so on), ReLU, trained with
 * Adam at a constant lr for --steps minibatches; a run's result is its mean training
 * loss over the last --tail steps (the quantity of Yang et al.'s Figure 1), or
 * "diverged" by the trainer's rule (train.h: a logged window's loss not finite or above
 * 10 times the first batch's).
 *
 * Two parametrizations, chosen by --param:
 *   sp   PyTorch's default: nn.Linear's init U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
 *        every weight and bias (variance 1/(3 fan_in)), one lr for everything.
 *   mup  muP for Adam, Table 3 of Yang et al. 2022 ("Tensor Programs V",
 *        arXiv:2203.03466). Input weights and all biases: init variance 1/fan_in,
 *        Adam lr eta (as SP). Hidden weights: variance 1/fan_in, lr eta/fan_in. Output
 *        weights: variance 1/fan_in^2, lr eta/fan_in. The table gives how each quantity
 *        SCALES with width; the constants come from a base model (the paper's base
 *        shapes, the mup package's set_base_shapes): at the base width H0 (--base-width)
 *        muP is SP, and at width H = m H0 the output weights are PyTorch's init times
 *        1/sqrt(m) (variance 1/(3 H) * 1/m, i.e. proportional to 1/H^2) with lr eta/m,
 *        the hidden weights keep PyTorch's init with lr eta/m. Everything else is SP.
 * The seeds are --seed, --seed + 1, ...: the same for every width and lr (the same data
 * order; the same initial weights wherever the shapes agree).
 *
 * --from reads the --out tables of earlier runs and writes --numbers (the best lr per
 * width, its trend and what holds over the seeds) and --curves (loss against lr per
 * width: median and range over seeds), without training.
 * Leaves out: SGD's muP column, scaling the depth, muP's attention and embedding rules.
 */
#include "width-common.h"

#define MAX_RUNS 4096
#define MAX_SEEDS 64

typedef struct {
    char param[8];
    int width;
    double lr;
    uint64_t seed;
    long diverged_at;   /* -1: did not diverge */
    double loss;        /* mean training loss of the last --tail steps; NaN if diverged */
} run;

/* The weights and biases of layer l of an MLP: params 2l and 2l + 1 (model.h). */
static gd_param *weight(gd_mlp *m, int l) { return &m->params[2 * l]; }
static gd_param *bias(gd_mlp *m, int l) { return &m->params[2 * l + 1]; }

/* Turn a freshly made SP trainer into muP (Table 3, Adam column), at width multiplier
 * mult = H / H0: output weights scaled by 1/sqrt(mult), output and hidden weights in
 * groups with lr eta/mult; input weights and every bias keep eta. */
static int to_mup(gd_trainer *tr, gd_optim_kind kind, const gd_hparams *hp, double mult) {
    gd_mlp *m = &tr->model;
    int L = m->nlayers;
    gd_param *out = weight(m, L - 1);
    float s = (float)(1.0 / sqrt(mult));   /* Var(W_out) = 1/(3 fan_in) / mult, i.e. ~ 1/fan_in^2 */
    for (size_t i = 0; i < out->value->size; i++) out->value->data[i] *= s;
    if (wc_regroup(tr, kind, hp) != 0) return -1;
    /* group 0: input weights and all biases, lr eta */
    gd_param vec[2 * GD_TRAIN_MAXLAYERS], mat[GD_TRAIN_MAXLAYERS];
    int nvec = 0, nmat = 0;
    vec[nvec++] = *weight(m, 0);
    for (int l = 0; l < L; l++) vec[nvec++] = *bias(m, l);
    /* group 1: hidden and output weights, lr eta / mult */
    for (int l = 1; l < L; l++) mat[nmat++] = *weight(m, l);
    gd_hparams small = *hp;
    small.lr = hp->lr / mult;
    if (gd_optim_add_group(tr->opt, vec, nvec, NULL) < 0) return -1;
    if (gd_optim_add_group(tr->opt, mat, nmat, &small) < 0) return -1;
    return 0;
}

/* Read the rows of an --out table into runs; returns the new count or -1. */
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
            if (strncmp(line, "param\twidth\tlr\tseed\t", 19) != 0) {
                fclose(f), free(line);
                return gd_seterr("%s: not a table of ch06-width --out", path);
            }
            continue;
        }
        if (n == max) {
            fclose(f), free(line);
            return gd_seterr("%s: more than %d runs", path, max);
        }
        run *r = &runs[n];
        unsigned long long seed;
        char loss[64];
        if (sscanf(line, "%7s %d %lf %llu %ld %63s", r->param, &r->width, &r->lr, &seed, &r->diverged_at, loss) != 6 ||
            gd_parse_double(loss, &r->loss) != 0) {
            if (sscanf(line, "%7s %d %lf %llu %ld nan", r->param, &r->width, &r->lr, &seed, &r->diverged_at) != 5) {
                gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
                fclose(f), free(line);
                return -1;
            }
            r->loss = NAN;
        }
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

/* Median of v[0..n) where a diverged run counts as +infinity (worse than any loss). */
static double median_inf(const double *v, int n) {
    double s[MAX_SEEDS];
    for (int i = 0; i < n; i++) s[i] = isnan(v[i]) ? INFINITY : v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Least-squares slope of y against x. */
static double slope(const double *x, const double *y, int n) {
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) mx += x[i] / n, my += y[i] / n;
    for (int i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
    return sxy / sxx;
}

/* The best lr of one width, read off the median losses more finely than the grid does:
 * the vertex of the least-squares parabola in log2(lr) through the (finite) medians at
 * the lowest grid point and up to two points on each side. Near its minimum the loss is
 * flat, so the grid's lowest point hops between neighbours from one set of seeds to
 * another; the parabola uses the shape of the whole basin. Returns log2 of the lr; the
 * grid's lowest point if the parabola opens downwards. */
static double vertex_log2(const double *lrs, const double *med, int nl, int at) {
    double S[5] = {0}, T[3] = {0};
    for (int l = at - 2; l <= at + 2; l++) {
        if (l < 0 || l >= nl || !isfinite(med[l])) continue;
        double x = log2(lrs[l]) - log2(lrs[at]), p = 1;   /* centred: better conditioned */
        for (int k = 0; k < 5; k++) S[k] += p, p *= x;
        T[0] += med[l], T[1] += med[l] * x, T[2] += med[l] * x * x;
    }
    /* normal equations for y = a x^2 + b x + c, by Cramer's rule */
    double A[3][3] = {{S[4], S[3], S[2]}, {S[3], S[2], S[1]}, {S[2], S[1], S[0]}}, B[3] = {T[2], T[1], T[0]};
#define DET3(M) (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + \
                 M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]))
    double det = DET3(A), coef[2];
    for (int c = 0; c < 2; c++) {
        double M[3][3];
        memcpy(M, A, sizeof M);
        for (int r = 0; r < 3; r++) M[r][c] = B[r];
        coef[c] = det != 0 ? DET3(M) / det : NAN;
    }
#undef DET3
    double a = coef[0], b = coef[1];
    if (!(a > 0)) return log2(lrs[at]);
    return log2(lrs[at]) - b / (2 * a);
}

/* The numbers the text quotes and the curves of the figure, for one parametrization. */
static int summarize(gd_table *nt, gd_table *ct, const char *param, const run *runs, int nruns) {
    int widths[64], nw = 0;
    double lrs[64];
    int nl = 0;
    uint64_t seeds[MAX_SEEDS];
    int ns = 0;
    for (int i = 0; i < nruns; i++) {
        if (strcmp(runs[i].param, param) != 0) continue;
        /* every run finds its cell below: more values than the arrays hold (they were
         * dropped, and the search then ran past the array) or a NaN lr are refused */
        if (!isfinite(runs[i].lr)) return gd_seterr("%s: a run with lr %g", param, runs[i].lr);
        int k;
        for (k = 0; k < nw && widths[k] != runs[i].width; k++) {}
        if (k == nw && nw == 64) return gd_seterr("%s: more than 64 widths in the tables", param);
        if (k == nw) widths[nw++] = runs[i].width;
        for (k = 0; k < nl && lrs[k] != runs[i].lr; k++) {}
        if (k == nl && nl == 64) return gd_seterr("%s: more than 64 lrs in the tables", param);
        if (k == nl) lrs[nl++] = runs[i].lr;
        for (k = 0; k < ns && seeds[k] != runs[i].seed; k++) {}
        if (k == ns && ns == MAX_SEEDS) return gd_seterr("%s: more than %d seeds in the tables", param, MAX_SEEDS);
        if (k == ns) seeds[ns++] = runs[i].seed;
    }
    if (nw < 2 || nl < 2) return gd_seterr("%s: fewer than 2 widths or 2 lrs in the tables", param);
    /* sort widths and lrs ascending */
    for (int a = 0; a < nw; a++)
        for (int b = a + 1; b < nw; b++)
            if (widths[b] < widths[a]) { int t = widths[a]; widths[a] = widths[b]; widths[b] = t; }
    qsort(lrs, (size_t)nl, sizeof *lrs, cmp_double);

    /* loss[w][l][s]; NaN: diverged (or missing, which is an error) */
    static double loss[64][64][MAX_SEEDS];
    static int have[64][64][MAX_SEEDS];
    memset(have, 0, sizeof have);
    for (int i = 0; i < nruns; i++) {
        if (strcmp(runs[i].param, param) != 0) continue;
        int w = 0, l = 0, s = 0;
        while (widths[w] != runs[i].width) w++;
        while (lrs[l] != runs[i].lr) l++;
        while (seeds[s] != runs[i].seed) s++;
        loss[w][l][s] = runs[i].loss;
        have[w][l][s] = 1;
    }
    for (int w = 0; w < nw; w++)
        for (int l = 0; l < nl; l++)
            for (int s = 0; s < ns; s++)
                if (!have[w][l][s])
                    return gd_seterr("%s: no run for width %d, lr %g, seed %llu", param, widths[w], lrs[l],
                                     (unsigned long long)seeds[s]);

    /* the best lr per width: the lowest median loss over seeds on the grid, the vertex of
     * the parabola through the medians around it (vertex_log2), and each seed's lowest */
    int best[64], best_seed[64][MAX_SEEDS];
    double best_med[64], fit[64];
    char name[64], lb[32], lb2[32], lb3[32], lb4[32];
    char table[8192];
    int len = snprintf(table, sizeof table,
                       "| width | best lr (parabola through the median losses) | lowest median on the grid | each "
                       "seed's lowest | median loss there (min to max) |\n|---:|---:|---:|---:|---:|\n");
    for (int w = 0; w < nw; w++) {
        best[w] = -1;
        best_med[w] = INFINITY;
        double meds[64];
        for (int l = 0; l < nl; l++) {
            double med = meds[l] = median_inf(loss[w][l], ns);
            if (med < best_med[w]) best_med[w] = med, best[w] = l;
            if (ct) {
                gd_stats st = gd_stats_of(loss[w][l], ns);
                int div = ns - st.n;
                gd_table_row(ct, "%s %d %g %.5g %.5g %.5g %d %d", param, widths[w], lrs[l], med, st.min, st.max, div, ns);
            }
        }
        if (ct) gd_table_block(ct);
        if (best[w] < 0) return gd_seterr("%s: every lr diverged at width %d", param, widths[w]);
        fit[w] = vertex_log2(lrs, meds, nl, best[w]);
        int lo = nl, hi = -1;
        for (int s = 0; s < ns; s++) {
            int b = -1;
            double bl = INFINITY;
            for (int l = 0; l < nl; l++)
                if (!isnan(loss[w][l][s]) && loss[w][l][s] < bl) bl = loss[w][l][s], b = l;
            best_seed[w][s] = b;
            if (b >= 0 && b < lo) lo = b;
            if (b > hi) hi = b;
        }
        gd_stats at = gd_stats_of(loss[w][best[w]], ns);
        snprintf(name, sizeof name, "%s_best_%d", param, widths[w]);
        wc_kv(nt, name, "%s", wc_lr(lb, sizeof lb, exp2(fit[w])));
        snprintf(name, sizeof name, "%s_grid_%d", param, widths[w]);
        wc_kv(nt, name, "%s", wc_lr(lb, sizeof lb, lrs[best[w]]));
        if (len < (int)sizeof table - 200)
            len += snprintf(table + len, sizeof table - len, "| %d | %s | %s | %s to %s | %.3f (%.3f to %.3f) |\n",
                            widths[w], wc_lr(lb4, sizeof lb4, exp2(fit[w])), wc_lr(lb, sizeof lb, lrs[best[w]]),
                            wc_lr(lb2, sizeof lb2, lrs[lo]), wc_lr(lb3, sizeof lb3, lrs[hi]), at.median, at.min, at.max);
    }

    /* the trend: slope of log2(best lr) against log2(width), and each seed's grid lowest */
    double x[64], y[64];
    for (int w = 0; w < nw; w++) x[w] = log2(widths[w]), y[w] = fit[w];
    double sl = slope(x, y, nw);
    snprintf(name, sizeof name, "%s_slope", param);
    wc_kv(nt, name, "%.2f", sl);
    int nfall = 0, nrise = 0;   /* seeds whose lowest lr at the widest width is below (above) the narrowest's */
    for (int s = 0; s < ns; s++)
        nfall += best_seed[nw - 1][s] < best_seed[0][s], nrise += best_seed[nw - 1][s] > best_seed[0][s];
    snprintf(name, sizeof name, "%s_seeds_fall", param);
    wc_kv(nt, name, "%d of %d", nfall, ns);
    snprintf(name, sizeof name, "%s_seeds_rise", param);
    wc_kv(nt, name, "%d of %d", nrise, ns);
    /* how far the best lr moves from the narrowest to the widest, and its range over widths */
    double fmin_ = INFINITY, fmax_ = -INFINITY;
    for (int w = 0; w < nw; w++) fmin_ = fmin(fmin_, fit[w]), fmax_ = fmax(fmax_, fit[w]);
    snprintf(name, sizeof name, "%s_fall", param);
    wc_kv(nt, name, "%.2g", exp2(fit[0] - fit[nw - 1]));
    snprintf(name, sizeof name, "%s_rise", param);
    wc_kv(nt, name, "%.2g", exp2(fit[nw - 1] - fit[0]));
    snprintf(name, sizeof name, "%s_range", param);
    wc_kv(nt, name, "%.2g", exp2(fmax_ - fmin_));
    snprintf(name, sizeof name, "%s_lo", param);
    wc_kv(nt, name, "%s", wc_lr(lb, sizeof lb, exp2(fmin_)));
    snprintf(name, sizeof name, "%s_hi", param);
    wc_kv(nt, name, "%s", wc_lr(lb, sizeof lb, exp2(fmax_)));
    /* at the smallest lr: how far apart the widths' median losses are */
    double low_lo = INFINITY, low_hi = -INFINITY;
    for (int w = 0; w < nw; w++) {
        double m = median_inf(loss[w][0], ns);
        low_lo = fmin(low_lo, m), low_hi = fmax(low_hi, m);
    }
    snprintf(name, sizeof name, "%s_low_spread", param);
    wc_kv(nt, name, "%.2f", low_hi - low_lo);
    /* the median loss at each width's lowest grid point, narrowest against widest */
    snprintf(name, sizeof name, "%s_loss_narrow", param);
    wc_kv(nt, name, "%.3f", best_med[0]);
    snprintf(name, sizeof name, "%s_loss_wide", param);
    wc_kv(nt, name, "%.3f", best_med[nw - 1]);
    snprintf(name, sizeof name, "%s_table", param);
    wc_kv(nt, name, "%s", table);
    if (!strcmp(param, "sp")) {   /* the grid (the same for both parametrizations) */
        wc_kv(nt, "seeds", "%d", ns);
        wc_kv(nt, "width_min", "%d", widths[0]);
        wc_kv(nt, "width_max", "%d", widths[nw - 1]);
        wc_kv(nt, "lr_min", "%s", wc_lr(lb, sizeof lb, lrs[0]));
        wc_kv(nt, "lr_max", "%s", wc_lr(lb, sizeof lb, lrs[nl - 1]));
        wc_kv(nt, "lr_step", "%.3g", lrs[1] / lrs[0]);
    }
    return 0;
}

int main(int argc, char **argv) {
    gd_floats widths = {6, {64, 128, 256, 512, 1024, 2048}};
    gd_floats lrs = {7, {1.0 / 8192, 1.0 / 4096, 1.0 / 2048, 1.0 / 1024, 1.0 / 512, 1.0 / 256, 1.0 / 128}};
    const char *param = "sp", *optim = "adam", *data = NULL, *out = NULL, *from = NULL, *numbers = NULL,
               *curves = NULL;
    long base = 64, hidden = 1, pool = 4, steps = 200, tail = 50, batch = 64, nseeds = 5;
    uint64_t first_seed = 0;
    gd_opt opts[] = {
        GD_OPT_FLOATS("widths", &widths, "hidden widths H to train", 1, 65536, 0),
        GD_OPT_FLOATS("lrs", &lrs, "learning rates eta (for muP: the input layer's and the biases')", 0, 10, 1),
        GD_OPT_STRING("param", &param, "parametrization: sp (PyTorch's default) or mup (Yang et al. 2022, Table 3)"),
        GD_OPT_INT("base-width", &base, "muP's base width H0: at H0 muP is SP", 1, 65536),
        GD_OPT_INT("hidden-layers", &hidden, "hidden layers of width H", 1, GD_TRAIN_MAXLAYERS - 1),
        GD_OPT_STRING("optim", &optim, "optimizer spec without lr (lib/optim.h); muP's rules here are Adam's"),
        GD_OPT_INT("pool", &pool, "average p x p pixel blocks: 28x28 images become 28/p x 28/p (1, 2, 4, 7, 14)", 1, 28),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 10000000),
        GD_OPT_INT("tail", &tail, "a run's loss: the mean training loss of its last this many steps", 1, 10000000),
        GD_OPT_INT("batch-size", &batch, "minibatch size", 1, 60000),
        GD_OPT_SEED("seed", &first_seed, "the first seed (initial weights and data order)"),
        GD_OPT_INT("seeds", &nseeds, "runs per width and lr, seeds seed, seed+1, ...", 1, MAX_SEEDS),
        GD_OPT_STRING("data", &data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_OUT("out", &out, "write one row per run to this table"),
        GD_OPT_STRING("from", &from, "no training: read these --out tables (comma-separated)"),
        GD_OPT_OUT("numbers", &numbers, "with --from: write the numbers the chapter quotes to this table"),
        GD_OPT_OUT("curves", &curves, "with --from: write loss against lr per width (median, range) to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP of each width at each lr with Adam, in the standard parametrization or "
                          "in muP (Chapter 6, 6.5); or (--from) summarize such runs.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (strcmp(param, "sp") != 0 && strcmp(param, "mup") != 0) {
        gd_usage_error("--param: sp or mup, got '%.60s'", param);
        return 2;
    }
    if (28 % pool != 0) {
        fprintf(stderr, "%s: --pool: must divide 28, got %ld\n", gd_prog(), pool);
        return 2;
    }
    for (int i = 0; i < widths.n; i++)
        if (widths.v[i] != floor(widths.v[i])) {
            fprintf(stderr, "%s: --widths: whole numbers of units, got %g\n", gd_prog(), widths.v[i]);
            return 2;
        }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (strstr(optim, "lr=")) {
        gd_usage_error("--optim: the lr comes from --lrs, got '%.60s'", optim);
        return 2;
    }
    if (from && !numbers && !curves) {
        fprintf(stderr, "%s: --from: give --numbers or --curves to write\n", gd_prog());
        return 2;
    }
    if (!from && (numbers || curves)) {
        fprintf(stderr, "%s: --numbers and --curves summarize earlier runs: give --from\n", gd_prog());
        return 2;
    }
    if ((long)widths.n * lrs.n * nseeds > MAX_RUNS) {
        fprintf(stderr, "%s: at most %d runs, got %ld\n", gd_prog(), MAX_RUNS, (long)widths.n * lrs.n * nseeds);
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
                return 2;   /* the tables given are missing or not ch06-width's */
            }
        free(list);
        if (nruns == 0) {   /* empty tables, or a list of commas: nothing to summarize */
            gd_usage_error("--from: no runs in '%.60s'", from);
            return 2;
        }
        gd_table *nt = NULL, *ct = NULL;
        if (numbers && !(nt = gd_table_open(numbers, "key value"))) goto io_error;
        if (curves && !(ct = gd_table_open(curves, "param width lr median min max diverged seeds"))) goto io_error;
        if (nt) gd_table_meta(nt, "program", "ch06-width --from %s", from);
        if (ct) gd_table_meta(ct, "program", "ch06-width --from %s", from);
        if (ct) gd_table_meta(ct, "loss", "mean training loss of the last steps; median and range over seeds (diverged runs: +inf in the median, left out of the range)");
        gd_table *scratch = nt ? nt : gd_table_open("/dev/null", "key value");
        const char *params[2] = {"sp", "mup"};
        for (int p = 0; p < 2; p++) {
            int any = 0;
            for (int i = 0; i < nruns && !any; i++) any = strcmp(runs[i].param, params[p]) == 0;
            if (!any) continue;
            if (summarize(scratch, ct, params[p], runs, nruns) != 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                if (nt) gd_table_abort(nt);
                if (ct) gd_table_abort(ct);
                if (!nt) gd_table_abort(scratch);
                return 2;   /* the runs given do not make the grid */
            }
        }
        if (!nt) gd_table_close(scratch);
        if (nt && gd_table_close(nt) != 0) goto io_error;
        if (ct && gd_table_close(ct) != 0) goto io_error;
        return 0;
    }

    gd_blas_threads(1);
    gd_images train, test;
    /* every run samples the whole set, one full minibatch of --batch-size at least */
    int st = wc_load(data, (int)pool, batch, "--batch-size", &train, &test);
    if (st != 0) return st;
    gd_table *t = NULL;
    if (out && !(t = gd_table_open(out, "param width lr seed diverged_at loss"))) goto io_error;
    int mup = strcmp(param, "mup") == 0;
    if (t) {
        char canon[256];
        gd_optim_format(canon, sizeof canon, kind, &hp);
        gd_table_meta(t, "program", "ch06-width");
        gd_table_meta(t, "model", "MLP %d-H%s-10, ReLU, Fashion-MNIST at %dx%d pixels (%ldx%ld average pool)",
                      train.dim, hidden == 2 ? "-H" : "", train.rows, train.cols, pool, pool);
        char *lr_at = strstr(canon, "lr=");   /* the spec without its lr: the lr is the row's */
        if (lr_at) {
            char *end = strchr(lr_at, ':');
            memmove(lr_at, end ? end + 1 : lr_at + strlen(lr_at), strlen(end ? end + 1 : "") + 1);
        }
        gd_table_meta(t, "training", "%s with the row's lr (constant), batch %ld, %ld steps; loss: mean of the last %ld steps",
                      canon, batch, steps, tail);
        gd_table_meta(t, "parametrization", "%s", mup ? "muP (Yang et al. 2022, Table 3, Adam), base width" : "SP (PyTorch's default)");
        if (mup) gd_table_meta(t, "base width", "%ld", base);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)first_seed,
                      (unsigned long long)(first_seed + nseeds - 1));
    }
    printf("%-5s %-6s %-10s %-5s %s\n", "param", "width", "lr", "seed", "loss");
    for (int w = 0; w < widths.n; w++)
        for (int l = 0; l < lrs.n; l++)
            for (long s = 0; s < nseeds; s++) {
                int H = (int)widths.v[w];
                gd_train_cfg cfg = gd_train_defaults();
                cfg.nlayers = (int)hidden + 1;
                cfg.dims[0] = train.dim;
                for (int k = 1; k <= hidden; k++) cfg.dims[k] = H;
                cfg.dims[hidden + 1] = GD_FMNIST_CLASSES;
                char spec[256], label[64];
                gd_hparams h = hp;
                h.lr = lrs.v[l];
                gd_optim_format(spec, sizeof spec, kind, &h);
                snprintf(label, sizeof label, "%s width %d lr %g seed %llu", param, H, h.lr,
                         (unsigned long long)(first_seed + s));
                cfg.optim = spec;
                cfg.batch_size = (int)batch;
                cfg.seed = first_seed + (uint64_t)s;
                cfg.train = &train;
                cfg.label = label;
                cfg.log_every = (int)tail;
                cfg.collapse_window = 0;
                long per_epoch = (train.n + batch - 1) / batch;
                cfg.epochs = ((double)steps - 0.5) / (double)per_epoch;   /* ceil(epochs * per_epoch) = steps */
                gd_trainer *tr = gd_trainer_new(&cfg);
                if (!tr || (mup && to_mup(tr, kind, &h, (double)H / (double)base) != 0)) {
                    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                    return 1;
                }
                gd_train_log log;
                if (gd_trainer_run(tr, &log) != 0) {
                    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                    return 1;
                }
                run *r = &runs[nruns++];
                snprintf(r->param, sizeof r->param, "%s", param);
                r->width = H, r->lr = h.lr, r->seed = cfg.seed, r->diverged_at = log.diverged_at;
                r->loss = log.diverged_at >= 0 ? NAN : log.rows[log.n - 1].train_loss;
                if (t) gd_table_row(t, "%s %d %g %llu %ld %.6g", param, H, h.lr, (unsigned long long)r->seed,
                                    r->diverged_at, r->loss);
                printf("%-5s %-6d %-10g %-5llu %.4f\n", param, H, h.lr, (unsigned long long)r->seed, r->loss);
                gd_train_log_free(&log);
                gd_trainer_free(tr);
            }
    gd_images_free(&train);
    gd_images_free(&test);
    if (t && gd_table_close(t) != 0) goto io_error;
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

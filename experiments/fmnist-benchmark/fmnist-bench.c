/* fmnist-bench.c -- Fashion-MNIST's own benchmark rows (Xiao, Rasul & Vollgraf 2017,
 * arXiv:1708.07747, Table 3), scikit-learn's MLPClassifier and LogisticRegression,
 * redone with this library.
 *
 * The benchmark (github.com/zalandoresearch/fashion-mnist, benchmark/runner.py) scales
 * every pixel with scikit-learn's StandardScaler fitted on the training set (x - mean) /
 * std per pixel, ddof 0, std 0 -> 1), shuffles the training set, fits the classifier
 * with its parameters of benchmark/baselines.json and scikit-learn's defaults otherwise,
 * and reports the test accuracy (the paper: "repeated 5 times by shuffling the training
 * data and the average accuracy on the test set is reported"). Here, per row:
 *
 * MLPClassifier (scikit-learn 0.19, the version of 2017; defaults: solver adam,
 * learning_rate_init 1e-3, betas 0.9/0.999, eps 1e-8, batch_size min(200, n),
 * alpha 1e-4, max_iter 200, tol 1e-4, shuffle every epoch). Its weights start
 * Glorot-uniform, U(-b, b) with b = sqrt(6 / (fan_in + fan_out)), biases too (drawn here
 * from our RNG). Each minibatch of B rows minimises
 *     mean cross-entropy + (alpha / 2) ||W||^2 / B             (W: weights, not biases)
 * so the penalty's gradient alpha W / B is added to each weight's gradient before the
 * Adam step (lib/optim.c). After each epoch, the epoch's loss (the minibatch losses
 * averaged over the rows) is compared with the best so far: if it is not lower by tol,
 * a count goes up (else back to 0); when the count exceeds 2 the fit stops
 * (scikit-learn 0.18-0.19 _fit_stochastic; 0.20 made it n_iter_no_change = 10).
 *
 * LogisticRegression (scikit-learn 0.19 defaults: solver liblinear, multi_class ovr,
 * fit_intercept with intercept_scaling 1): ten binary logistic regressions, class k
 * against the rest, each minimising C sum_i log(1 + exp(-s_ik (w_k . x_i + b_k)))
 * + ||(w_k, b_k)||^2 / 2 (liblinear regularises the intercept, a constant feature).
 * Divided by C n, that is the mean over the rows of the ten binary cross-entropies plus
 * ||theta||^2 / (2 C n): the same minimiser. We run minibatch Adam on it (--optim), the
 * penalty's gradient theta / (C n) added to every parameter's; liblinear solves it to a
 * tolerance instead (a trust-region Newton method for l2). The ten one-vs-rest losses
 * share one linear layer 784 -> 10: d loss / d z_ik = sigmoid(z_ik) - [y_i = k] (each
 * divided by the batch size), which is what gd_mlp_backward computes from m->probs and
 * y, so the softmax probabilities are replaced by the sigmoids before backward.
 * The l1 penalty is not done (Adam's subgradient steps do not give liblinear's
 * solution of an l1 problem).
 *
 * One invocation is one row over --seeds seeds; --summary gets a row per seed, --curves
 * the epoch losses and test accuracies. --from merges the summaries into --numbers
 * (the README's table: published, ours, the gap) without training.
 */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Table 3 of arXiv:1708.07747 (v2), Fashion-MNIST test accuracy, the rows we redo. */
typedef struct {
    const char *row;       /* our name of the row */
    const char *classifier, *params;
    double acc;
} published;
static const published PUBLISHED[] = {
    {"mlp-relu-100", "MLPClassifier", "activation=relu hidden_layer_sizes=[100]", 0.871},
    {"mlp-relu-100-10", "MLPClassifier", "activation=relu hidden_layer_sizes=[100, 10]", 0.870},
    {"mlp-tanh-100", "MLPClassifier", "activation=tanh hidden_layer_sizes=[100]", 0.868},
    {"mlp-tanh-100-10", "MLPClassifier", "activation=tanh hidden_layer_sizes=[100, 10]", 0.863},
    {"mlp-relu-10-10", "MLPClassifier", "activation=relu hidden_layer_sizes=[10, 10]", 0.850},
    {"mlp-relu-10", "MLPClassifier", "activation=relu hidden_layer_sizes=[10]", 0.848},
    {"mlp-tanh-10-10", "MLPClassifier", "activation=tanh hidden_layer_sizes=[10, 10]", 0.841},
    {"mlp-tanh-10", "MLPClassifier", "activation=tanh hidden_layer_sizes=[10]", 0.840},
    {"logreg-C1-l1", "LogisticRegression", "C=1 multi_class=ovr penalty=l1", 0.842},
    {"logreg-C1-l2", "LogisticRegression", "C=1 multi_class=ovr penalty=l2", 0.841},
    {"logreg-C10-l2", "LogisticRegression", "C=10 multi_class=ovr penalty=l2", 0.839},
    {"logreg-C10-l1", "LogisticRegression", "C=10 multi_class=ovr penalty=l1", 0.839},
    {"logreg-C100-l2", "LogisticRegression", "C=100 multi_class=ovr penalty=l2", 0.836},
};
#define NPUB ((int)(sizeof PUBLISHED / sizeof PUBLISHED[0]))

static const published *find_published(const char *row) {
    for (int i = 0; i < NPUB; i++)
        if (!strcmp(PUBLISHED[i].row, row)) return &PUBLISHED[i];
    return NULL;
}

#define MAX_ROWS 1024

typedef struct {
    char row[32];
    unsigned long long seed;
    long epochs;           /* epochs run */
    long max_epochs;       /* the cap (--epochs) */
    long stopped;          /* epoch at which scikit-learn's rule stopped the fit, or -1 */
    double train_loss;     /* the last epoch's loss (with the penalty) */
    double test_acc;       /* at the end */
} result;

/* ------------------------------------------------------------------------------------
 * The scaler: per pixel, mean and 1/std over the training images (StandardScaler). */

typedef struct {
    int D;
    float *mean, *inv_std;   /* (D) */
} scaler;

static int scaler_fit(scaler *s, const gd_images *ds) {
    s->D = ds->dim;
    s->mean = malloc((size_t)s->D * sizeof *s->mean);
    s->inv_std = malloc((size_t)s->D * sizeof *s->inv_std);
    double *sum = calloc((size_t)s->D, sizeof *sum), *sq = calloc((size_t)s->D, sizeof *sq);
    if (!s->mean || !s->inv_std || !sum || !sq) return gd_seterr("out of memory");
    for (int i = 0; i < ds->n; i++)
        for (int j = 0; j < s->D; j++) {
            double v = ds->pixels[(size_t)i * s->D + j];
            sum[j] += v, sq[j] += v * v;
        }
    for (int j = 0; j < s->D; j++) {
        double m = sum[j] / ds->n, var = sq[j] / ds->n - m * m;
        double sd = var > 0 ? sqrt(var) : 0;
        s->mean[j] = (float)m;
        s->inv_std[j] = (float)(sd > 0 ? 1 / sd : 1); /* StandardScaler leaves constant pixels at scale 1 */
    }
    free(sum), free(sq);
    return 0;
}

/* X (B, D) = (pixels - mean) / std, y (B) for the images idx[0..B). */
static void scaled_batch(float *X, int *y, const gd_images *ds, const scaler *s, const int *idx, int B) {
    for (int b = 0; b < B; b++) {
        const uint8_t *p = ds->pixels + (size_t)idx[b] * s->D;
        for (int j = 0; j < s->D; j++) X[(size_t)b * s->D + j] = ((float)p[j] - s->mean[j]) * s->inv_std[j];
        y[b] = ds->labels[idx[b]];
    }
}

/* ------------------------------------------------------------------------------------
 * One fit. */

typedef struct {
    int nlayers;
    int dims[GD_TRAIN_MAXLAYERS + 1];
    gd_act act;
    int logreg;            /* 1: one-vs-rest logistic regression (dims {784, 10}) */
    double alpha;          /* MLP: L2 on the weights, per minibatch as scikit-learn */
    double C;              /* logreg: inverse regularisation strength */
    const char *optim;
    gd_sched *sched;       /* per update; NULL constant */
    int batch;
    long max_epochs;
    double tol;
    int stop_rule;         /* 1: scikit-learn's stopping rule */
} fit_cfg;

/* Test accuracy of m on ds (scaled). */
static double accuracy(gd_mlp *m, const gd_images *ds, const scaler *s, float *X, int *y, int *idx, int B) {
    long correct = 0;
    const int K = m->dims[m->nlayers];
    for (int i = 0; i < ds->n; i += B) {
        int n = ds->n - i < B ? ds->n - i : B;
        for (int b = 0; b < n; b++) idx[b] = i + b;
        scaled_batch(X, y, ds, s, idx, n);
        const float *z = gd_mlp_forward(m, X, n);
        for (int b = 0; b < n; b++) {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (z[(size_t)b * K + k] > z[(size_t)b * K + best]) best = k;
            correct += best == y[b];
        }
    }
    return (double)correct / ds->n;
}

static int fit(result *r, const fit_cfg *f, const gd_images *train, const gd_images *test, const scaler *s,
               gd_table *curves) {
    gd_mlp m;
    if (gd_mlp_init(&m, f->nlayers, f->dims, f->act, f->batch, r->seed) != 0) return -1;
    gd_rng rng;
    gd_rng_seed(&rng, r->seed);
    /* Glorot-uniform initialisation, weights and biases (scikit-learn's _init_coef);
     * logistic regression starts at 0, as liblinear does */
    for (int l = 0; l < f->nlayers && f->logreg; l++)
        for (int p = 2 * l; p <= 2 * l + 1; p++) gd_fill(m.params[p].value->data, 0.0f, m.params[p].value->size);
    for (int l = 0; l < f->nlayers && !f->logreg; l++) {
        double bound = sqrt(6.0 / (f->dims[l] + f->dims[l + 1]));
        for (int p = 2 * l; p <= 2 * l + 1; p++) {
            gd_tensor *t = m.params[p].value;
            for (size_t i = 0; i < t->size; i++) t->data[i] = (float)((2 * gd_rng_uniform(&rng) - 1) * bound);
        }
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(f->optim, &kind, &hp) != 0) return -1;
    gd_optim *opt = gd_optim_new(kind, &hp);
    if (!opt || gd_optim_add_group(opt, m.params, m.nparams, &hp) < 0) return -1;
    const int D = f->dims[0], K = f->dims[f->nlayers], B = f->batch, n = train->n;
    float *X = malloc((size_t)B * D * sizeof *X);
    int *y = malloc((size_t)B * sizeof *y), *order = malloc((size_t)n * sizeof *order), *idx = malloc((size_t)B * sizeof *idx);
    if (!X || !y || !order || !idx) return gd_seterr("out of memory");
    for (int i = 0; i < n; i++) order[i] = i;
    double best = INFINITY;
    int no_improvement = 0;
    long t = 0;
    r->stopped = -1;
    for (long e = 1; e <= f->max_epochs; e++) {
        /* a new order every epoch (Fisher-Yates) */
        for (int i = n - 1; i > 0; i--) {
            int j = (int)gd_rng_below(&rng, (uint64_t)i + 1), tmp = order[i];
            order[i] = order[j], order[j] = tmp;
        }
        double acc_loss = 0;
        for (int i = 0; i < n; i += B, t++) {
            int nb = n - i < B ? n - i : B;
            scaled_batch(X, y, train, s, order + i, nb);
            double loss = gd_mlp_loss(&m, X, y, nb);
            if (f->logreg) {
                /* one-vs-rest: the mean over rows of the K binary cross-entropies, and
                 * their gradient sigmoid(z) - onehot through m->probs */
                const float *z = m.out[m.nlayers - 1];
                loss = 0;
                for (int b = 0; b < nb; b++)
                    for (int k = 0; k < K; k++) {
                        double zz = z[(size_t)b * K + k], sgn = k == y[b] ? 1 : -1;
                        /* log(1 + exp(-s z)), stable */
                        double u = -sgn * zz;
                        loss += u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
                        m.probs[(size_t)b * K + k] = (float)(1 / (1 + exp(-zz)));
                    }
                loss /= nb;
            }
            gd_mlp_zero_grad(&m);
            gd_mlp_backward(&m, y, nb);
            /* the L2 penalty: MLP alpha/(2B) ||W||^2 on weights; logreg ||theta||^2/(2Cn) on all */
            double pen = 0;
            for (int p = 0; p < m.nparams; p++) {
                int weight = p % 2 == 0;
                double c = f->logreg ? 1.0 / (f->C * n) : (weight ? f->alpha / nb : 0);
                if (c == 0) continue;
                gd_tensor *v = m.params[p].value, *g = m.params[p].grad;
                double sq = 0;
                for (size_t k = 0; k < v->size; k++) {
                    g->data[k] += (float)(c * v->data[k]);
                    sq += (double)v->data[k] * v->data[k];
                }
                pen += 0.5 * c * sq;
            }
            if (f->sched) gd_sched_apply(f->sched, t, opt);
            gd_optim_step(opt);
            acc_loss += (loss + pen) * nb;
        }
        double epoch_loss = acc_loss / n;
        r->epochs = e;
        r->train_loss = epoch_loss;
        if (!isfinite(epoch_loss)) break;
        int last = e == f->max_epochs;
        if (f->stop_rule) {
            if (epoch_loss > best - f->tol) no_improvement++;
            else no_improvement = 0;
            if (epoch_loss < best) best = epoch_loss;
            if (no_improvement > 2) r->stopped = e, last = 1;
        }
        if (curves || last) {
            double acc = accuracy(&m, test, s, X, y, idx, B);
            if (curves) gd_table_row(curves, "%s %llu %ld %.6f %.4f", r->row, r->seed, e, epoch_loss, acc);
            if (last) r->test_acc = acc;
        }
        if (last) break;
    }
    if (curves) gd_table_block(curves);
    free(X), free(y), free(order), free(idx);
    gd_optim_free(opt);
    gd_mlp_free(&m);
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Summaries and numbers. */

#define SUMMARY_COLS "row seed epochs max_epochs stopped train_loss test_acc"

static int read_summary(const char *path, result *res, int nres) {
    FILE *fp = fopen(path, "r");
    if (!fp) return gd_seterr("%s: cannot open", path);
    char *line = NULL;   /* whole lines (getline): a long comment line is one line, not pieces */
    size_t line_cap = 0;
    int header = 0;
    while (getline(&line, &line_cap, fp) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (!header) {
            header = 1;
            if (strncmp(line, "row\tseed\tepochs\t", 16) != 0) {
                fclose(fp), free(line);
                return gd_seterr("%s: not a summary table of exp-fmnist-bench", path);
            }
            continue;
        }
        if (nres == MAX_ROWS) {
            fclose(fp), free(line);
            return gd_seterr("%s: more than %d rows", path, MAX_ROWS);
        }
        result *r = &res[nres];
        if (sscanf(line, "%31s %llu %ld %ld %ld %lf %lf", r->row, &r->seed, &r->epochs, &r->max_epochs, &r->stopped,
                   &r->train_loss, &r->test_acc) != 7) {
            gd_seterr("%s: malformed row: %.60s", path, line);   /* before line is freed */
            fclose(fp), free(line);
            return -1;
        }
        nres++;
    }
    fclose(fp), free(line);
    return nres;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Every key of --numbers starts with this and '_' (--key-prefix): the main table's and the
 * long check's never share a key. */
static const char *key_prefix = "fmb";

static int write_numbers(const char *path, const result *res, int nres) {
    gd_table *t = gd_table_open(path, "key value");
    if (!t) return -1;
    gd_table_provenance(t);
    char tab[8192], key[160];
    int o = snprintf(tab, sizeof tab,
                     "| classifier | parameters | published | ours: median (range) | ours - published | seeds | "
                     "epochs (median, range) | stopped by the rule |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    /* rows in the order of their first appearance */
    char seen[MAX_ROWS];
    memset(seen, 0, sizeof seen);
    int nrows = 0, within = 0, below = 0;
    double worst_gap = 0;
    char worst[160] = "";
    for (int i = 0; i < nres; i++) {
        if (seen[i]) continue;
        const published *p = find_published(res[i].row);
        if (!p) {
            gd_table_abort(t);
            return gd_seterr("row %s: not one of Table 3's rows", res[i].row);
        }
        double acc[MAX_ROWS], ep[MAX_ROWS];
        int k = 0, stopped = 0;
        for (int j = i; j < nres; j++)
            if (!strcmp(res[j].row, res[i].row)) {
                seen[j] = 1;
                acc[k] = res[j].test_acc, ep[k] = (double)res[j].epochs;
                stopped += res[j].stopped >= 0;
                k++;
            }
        double emed = median(ep, k), elo = ep[0], ehi = ep[k - 1];
        double med = median(acc, k), lo = acc[0], hi = acc[k - 1];
        double gap = med - p->acc;
        char rule[32];
        /* liblinear has no such rule (the logistic rows run their epochs) */
        if (!strcmp(p->classifier, "LogisticRegression")) snprintf(rule, sizeof rule, "(none)");
        else snprintf(rule, sizeof rule, "%d of %d", stopped, k);
        o += snprintf(tab + o, sizeof tab - o, "| %s | %s | %.3f | %.3f (%.3f to %.3f) | %+.3f | %d | %g (%g to %g) | %s |\n",
                      p->classifier, p->params, p->acc, med, lo, hi, gap, k, emed, elo, ehi, rule);
        char base[64];
        snprintf(base, sizeof base, "%.31s", res[i].row);
        for (char *c = base; *c; c++)
            if (*c == '-') *c = '_';
        snprintf(key, sizeof key, "%.20s_%s_pub", key_prefix, base);
        gd_table_kv(t, key, "%.3f", p->acc);
        snprintf(key, sizeof key, "%.20s_%s_ours", key_prefix, base);
        gd_table_kv(t, key, "%.3f", med);
        snprintf(key, sizeof key, "%.20s_%s_range", key_prefix, base);
        gd_table_kv(t, key, "%.3f to %.3f", lo, hi);
        snprintf(key, sizeof key, "%.20s_%s_gap", key_prefix, base);
        gd_table_kv(t, key, "%+.3f", gap);
        snprintf(key, sizeof key, "%.20s_%s_abs_gap_pts", key_prefix, base);
        gd_table_kv(t, key, "%.1f", 100 * fabs(gap));
        snprintf(key, sizeof key, "%.20s_%s_epochs", key_prefix, base);
        gd_table_kv(t, key, "%g", emed);
        snprintf(key, sizeof key, "%.20s_%s_stopped", key_prefix, base);
        gd_table_kv(t, key, "%d of %d", stopped, k);
        snprintf(key, sizeof key, "%.20s_%s_seeds", key_prefix, base);
        gd_table_kv(t, key, "%d", k);
        snprintf(key, sizeof key, "%.20s_%s_cap", key_prefix, base);
        gd_table_kv(t, key, "%ld", res[i].max_epochs);
        snprintf(key, sizeof key, "%.20s_%s_train_loss", key_prefix, base);
        double tl[MAX_ROWS];
        int m = 0;
        for (int j = i; j < nres; j++)
            if (!strcmp(res[j].row, res[i].row)) tl[m++] = res[j].train_loss;
        gd_table_kv(t, key, "%.3f", median(tl, m));
        within += fabs(gap) <= 0.01;
        if (fabs(gap) > fabs(worst_gap)) worst_gap = gap, snprintf(worst, sizeof worst, "%s %s", p->classifier, p->params);
        below += gap < 0;
        nrows++;
    }
    snprintf(key, sizeof key, "%.20s_table", key_prefix);
    gd_table_kv(t, key, "%s", tab);
    snprintf(key, sizeof key, "%.20s_rows", key_prefix);
    gd_table_kv(t, key, "%d", nrows);
    snprintf(key, sizeof key, "%.20s_within_1pt", key_prefix);
    gd_table_kv(t, key, "%d of %d", within, nrows);
    snprintf(key, sizeof key, "%.20s_summary", key_prefix);
    gd_table_kv(t, key,
                "Of the %d rows, %d are within one point (0.01) of the published accuracy, and our median is "
                "below the published value in %d of them; the largest gap is %s (%+.3f).",
                nrows, within, below, worst, worst_gap);
    return gd_table_close(t);
}

/* ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    const char *row = "mlp-relu-100", *hidden = "100", *act_s = "relu", *optim = "adam:lr=0.001:betas=0.9/0.999:eps=1e-8";
    const char *sched_s = NULL, *data_dir = NULL, *summary = NULL, *curves = NULL, *from = NULL, *numbers = NULL;
    long batch = 200, epochs = 200, seeds = 3, stop_rule = 1, logreg = 0, n_train = 0;
    double alpha = 1e-4, C = 1, tol = 1e-4;
    uint64_t seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("row", &row, "the Table 3 row (mlp-relu-100, mlp-tanh-10, logreg-C1-l2, ...)"),
        GD_OPT_INT("logreg", &logreg, "1: one-vs-rest logistic regression (LogisticRegression, liblinear's objective)", 0, 1),
        GD_OPT_STRING("hidden", &hidden, "MLP hidden layer sizes, e.g. 100 or 100-10"),
        GD_OPT_STRING("act", &act_s, "MLP activation: relu or tanh"),
        GD_OPT_FLOAT("alpha", &alpha, "MLP: L2 strength, (alpha/2)||W||^2 / batch per minibatch", 0, 1e6, 0),
        GD_OPT_FLOAT("C", &C, "logreg: inverse regularisation strength", 0, 1e12, 1),
        GD_OPT_STRING("optim", &optim, "optimizer spec (lib/optim.h)"),
        GD_OPT_STRING("sched", &sched_s, "schedule spec per update (lib/sched.h); default constant"),
        GD_OPT_INT("batch-size", &batch, "rows per minibatch", 1, 60000),
        GD_OPT_INT("epochs", &epochs, "at most this many epochs (max_iter)", 1, 100000),
        GD_OPT_FLOAT("tol", &tol, "the stopping rule's tolerance on the epoch loss", 0, 1, 0),
        GD_OPT_INT("stop", &stop_rule, "1: scikit-learn 0.19's stopping rule (3 epochs without tol improvement)", 0, 1),
        GD_OPT_INT("n-train", &n_train, "use the first N training images (0: all 60000; quick mode)", 0, 60000),
        GD_OPT_SEED("seed", &seed, "the first seed (initialisation, order)"),
        GD_OPT_INT("seeds", &seeds, "fits, with seeds seed, seed+1, ...", 1, 1000),
        GD_OPT_STRING("data", &data_dir, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or the Debian path)"),
        GD_OPT_OUT("summary", &summary, "write one row per seed to this table"),
        GD_OPT_OUT("curves", &curves, "write every epoch's loss and test accuracy to this table"),
        GD_OPT_STRING("from", &from, "no training: read these --summary tables (comma-separated) and write --numbers"),
        GD_OPT_OUT("numbers", &numbers, "with --from: the README's numbers"),
        GD_OPT_STRING("key-prefix", &key_prefix, "with --from: the keys of --numbers start with this and '_'"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Fashion-MNIST's benchmark rows (Table 3 of arXiv:1708.07747): scikit-learn's MLPClassifier "
                          "and LogisticRegression, redone with this library.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_blas_threads(1);
    /* the keys are PREFIX_...: a longer prefix was cut to 20 characters silently */
    if (!*key_prefix || strlen(key_prefix) > 20 ||
        strspn(key_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(key_prefix)) {
        gd_usage_error("--key-prefix: 1 to 20 letters, digits or '_', got '%.40s'", key_prefix);
        return 2;
    }
    if (!find_published(row)) {
        gd_usage_error("--row: not one of Table 3's rows we know, got '%.60s'", row);
        return 2;
    }
    if (from) {
        if (!numbers) {
            fprintf(stderr, "%s: --from needs --numbers\n", gd_prog());
            return 2;
        }
        static result res[MAX_ROWS];
        int nres = 0;
        char *list = strdup(from);
        if (!list) return 1;
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            nres = read_summary(tok, res, nres);
            if (nres < 0) {
                fprintf(stderr, "%s: --from: %s\n", gd_prog(), gd_error());
                free(list);
                return 2;   /* the tables given */
            }
        }
        free(list);
        if (!nres) {
            fprintf(stderr, "%s: --from: no rows\n", gd_prog());
            return 2;
        }
        if (write_numbers(numbers, res, nres) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        return 0;
    }
    if (numbers) {   /* a training run writes --summary and --curves; --numbers was ignored */
        fprintf(stderr, "%s: --numbers: only with --from (the numbers come from the summaries)\n", gd_prog());
        return 2;
    }
    fit_cfg f = {.alpha = alpha, .C = C, .optim = optim, .batch = (int)batch, .max_epochs = epochs, .tol = tol,
                 .stop_rule = (int)stop_rule, .logreg = (int)logreg};
    if (!strcmp(act_s, "relu")) f.act = GD_ACT_RELU;
    else if (!strcmp(act_s, "tanh")) f.act = GD_ACT_TANH;
    else {
        gd_usage_error("--act: relu or tanh, got '%.60s'", act_s);
        return 2;
    }
    if (logreg) {
        f.nlayers = 1, f.dims[0] = 784, f.dims[1] = 10;
    } else {
        char dims[128];
        if (strlen(hidden) > 100) {
            fprintf(stderr, "%s: --hidden: too long\n", gd_prog());
            return 2;
        }
        snprintf(dims, sizeof dims, "784-%s-10", hidden);
        f.nlayers = gd_parse_dims(dims, f.dims, GD_TRAIN_MAXLAYERS);
        if (f.nlayers < 2) {
            gd_usage_error("--hidden: sizes like 100 or 100-10, got '%.60s'", hidden);
            return 2;
        }
    }
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (sched_s && !(f.sched = gd_sched_parse(sched_s))) {
        fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
        return 2;
    }
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_sched_free(f.sched);
        return 2;
    }
    /* --n-train keeps the first n images: never more than there are */
    if (gd_images_require(&train, n_train, "the training set", "--n-train") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(data_dir), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        gd_sched_free(f.sched);
        return 2;
    }
    if (n_train) train.n = (int)n_train;
    scaler s;
    if (scaler_fit(&s, &train) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_table *st = NULL, *ct = NULL;
    if (summary && !(st = gd_table_open(summary, SUMMARY_COLS))) goto io_error;
    if (curves && !(ct = gd_table_open(curves, "row seed epoch train_loss test_acc"))) goto io_error;
    gd_table *tables[2] = {st, ct};
    const published *pub = find_published(row);
    for (int i = 0; i < 2; i++) {
        if (!tables[i]) continue;
        gd_table_provenance(tables[i]);
        gd_table_meta(tables[i], "row", "%s %s (Table 3: %.3f)", pub->classifier, pub->params, pub->acc);
        gd_table_meta(tables[i], "data", "%s: %d training images (standardised per pixel), %d test images",
                      gd_fmnist_dir(data_dir), train.n, test.n);
    }
    for (long k = 0; k < seeds; k++) {
        result r = {0};
        snprintf(r.row, sizeof r.row, "%s", row);
        r.seed = seed + (unsigned long long)k;
        r.max_epochs = epochs;
        if (fit(&r, &f, &train, &test, &s, ct) != 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        printf("%-16s seed %llu  epochs %ld  stopped %ld  loss %.4f  test acc %.4f\n", r.row, r.seed, r.epochs, r.stopped,
               r.train_loss, r.test_acc);
        fflush(stdout);
        if (st)
            gd_table_row(st, "%s %llu %ld %ld %ld %.6f %.4f", r.row, r.seed, r.epochs, r.max_epochs, r.stopped,
                         r.train_loss, r.test_acc);
    }
    if (st && gd_table_close(st) != 0) {
        st = NULL;
        goto io_error;
    }
    st = NULL;
    if (ct && gd_table_close(ct) != 0) {
        ct = NULL;
        goto io_error;
    }
    gd_sched_free(f.sched);
    gd_images_free(&train), gd_images_free(&test);
    free(s.mean), free(s.inv_std);
    return 0;
io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (st) gd_table_abort(st);
    if (ct) gd_table_abort(ct);
    return 1;
}

/* momentum.c -- momentum's effective learning rate and its stability limit, Chapter 6 (§6.2).
 *
 * PyTorch's SGD with momentum beta (torch.optim.SGD, dampening 0) keeps a buffer that
 * accumulates the gradient and steps along it:
 *     v <- beta v + g,     theta <- theta - lr v
 * With a gradient that stays g, v tends to g / (1 - beta): the step is that of plain SGD
 * at lr / (1 - beta), the effective learning rate. Two experiments:
 *
 * --curves FILE: an MLP on Fashion-MNIST (the setting of optimizers.c: 784-64-10, batch
 *   64, the first 5000 images of the fixed split), trained for --steps with plain SGD at
 *   --eta, with momentum beta at eta (1 - beta) for each --betas, and two controls at the
 *   largest beta: plain SGD at eta (1 - beta) (the same lr without momentum) and momentum
 *   beta at eta (the same lr with momentum, effective lr eta / (1 - beta)). Every arm uses
 *   the same seeds (same initial weights, same batches). The table has the training loss
 *   of every window of --window steps, per arm and seed; --numbers the largest relative
 *   gap to plain SGD's curve of the same seed after the first k / (1 - beta) steps.
 *
 * --limits FILE: the largest stable lr on Chapter 1's quadratic f = 1/2 theta^T A theta
 *   (eigenvalues mu = 1 and L = lambda_max = 10, turned by 30 degrees), found by
 *   bisection with the library's optimizer (gd_optim, PyTorch's update, float32): an lr is
 *   stable when |theta| after --iters steps is below |theta_0|. Theory, derived in the
 *   text: 2 (1 + beta) / lambda_max for momentum, 2 (1 + beta) / ((1 + 2 beta) lambda_max)
 *   for Nesterov (nesterov=1).
 * Leaves out: dampening (with dampening d the buffer tends to (1 - d) g / (1 - beta)), noise
 *   on the quadratic.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXARMS 16
#define MAXW 1024
#define MAX_SEEDS 64

/* ---------------------------------------------------------------------------------- */
/* The stability limit on the quadratic */

/* |theta_T| / |theta_0| after T steps of SGD (momentum beta, nesterov) at lr on q. */
static double growth(const gd_quad *q, double lr, double beta, int nesterov, long T) {
    gd_param p;
    int shape[1] = {2};
    gd_param_init(&p, "theta", 1, shape);
    p.value->data[0] = 1.0f, p.value->data[1] = 1.0f;   /* theta_0 = (1, 1) */
    double n0 = gd_norm2(p.value->data, 2);
    gd_hparams hp = gd_optim_defaults(GD_SGD);
    hp.lr = lr;
    hp.momentum = beta;
    hp.nesterov = nesterov;
    gd_optim *o = gd_optim_new(GD_SGD, &hp);   /* valid: the caller passes momentum > 0 with nesterov */
    gd_optim_add_group(o, &p, 1, NULL);
    double ratio = 0;
    for (long t = 0; t < T; t++) {
        double th[2] = {p.value->data[0], p.value->data[1]}, g[2];
        gd_quad_grad(g, q, th);   /* g = A theta */
        p.grad->data[0] = (float)g[0], p.grad->data[1] = (float)g[1];
        gd_optim_step(o);   /* v = beta v + g; theta -= lr v (nesterov: theta -= lr (g + beta v)) */
        ratio = gd_norm2(p.value->data, 2) / n0;
        if (!isfinite(ratio) || ratio > 1e10) break;
    }
    gd_optim_free(o);
    gd_param_free(&p);
    return isfinite(ratio) ? ratio : INFINITY;
}

static double theory_limit(double beta, int nesterov, double L) {
    return nesterov ? 2 * (1 + beta) / ((1 + 2 * beta) * L) : 2 * (1 + beta) / L;
}

static int limits(const char *path, const gd_floats *betas, long iters, const char *numbers) {
    double mu = 1, L = 10, angle = 30, lambda[2] = {mu, L}, Q[4];
    gd_rotation2(Q, angle * M_PI / 180);
    gd_quad q;
    if (gd_quad_init(&q, 2, lambda, Q) != 0) return -1;
    gd_table *t = gd_table_open(path, "form beta measured theory ratio");
    if (!t) return -1;
    gd_table_meta(t, "problem", "f = 1/2 theta^T A theta, eigenvalues %g and %g (lambda_max), turned by %g degrees", mu, L,
                  angle);
    gd_table_meta(t, "rule", "stable: |theta| after %ld steps below |theta_0|; bisection on lr, 50 halvings", iters);
    gd_table *n = numbers ? gd_table_open(numbers, "key value") : NULL;
    if (numbers && !n) return -1;
    double worst = 0;
    for (int nesterov = 0; nesterov <= 1; nesterov++)
        for (int i = 0; i < betas->n; i++) {
            double beta = betas->v[i], th = theory_limit(beta, nesterov, L);
            if (nesterov && beta == 0) continue;   /* Nesterov needs a momentum (it would be plain SGD) */
            double lo = 0.5 * th, hi = 2 * th;   /* stable at lo, unstable at hi (checked) */
            if (growth(&q, lo, beta, nesterov, iters) >= 1 || growth(&q, hi, beta, nesterov, iters) < 1) {
                gd_table_abort(t);
                if (n) gd_table_abort(n);
                return gd_seterr("beta %g: the bracket [%g, %g] around the limit does not bracket it", beta, lo, hi);
            }
            for (int k = 0; k < 50; k++) {
                double mid = 0.5 * (lo + hi);
                if (growth(&q, mid, beta, nesterov, iters) < 1) lo = mid;
                else hi = mid;
            }
            double measured = 0.5 * (lo + hi);
            worst = fmax(worst, fabs(measured / th - 1));
            gd_table_row(t, "%s %g %.8g %.8g %.6f", nesterov ? "nesterov" : "momentum", beta, measured, th, measured / th);
            if (n) {
                char key[64];
                snprintf(key, sizeof key, "opt_lim_%s_%g", nesterov ? "nest" : "hb", beta);
                for (char *p = key; *p; p++)
                    if (*p == '.') *p = '_';
                gd_table_kv(n, key, "%.4g", measured);
                strcat(key, "_theory");
                gd_table_kv(n, key, "%.4g", th);
            }
        }
    if (n) {
        gd_table_kv(n, "opt_lim_worst", "%.1g", worst);
        gd_table_kv(n, "opt_lim_iters", "%ld", iters);
        gd_table_kv(n, "opt_lim_L", "%g", L);
        if (gd_table_close(n) != 0) return -1;
    }
    gd_quad_free(&q);
    return gd_table_close(t);
}

/* ---------------------------------------------------------------------------------- */
/* The curves on Fashion-MNIST */

typedef struct {
    char name[32];
    double beta, lr;
    int control;          /* 0: the comparison SGD(eta) vs momentum(eta (1 - beta)); 1: a control */
} arm;

static int curves(const gd_train_opts *to, gd_train_cfg cfg, double eta, const gd_floats *betas, long steps, int window, double k_after,
                  long n_train, const char *path, const char *numbers) {
    arm arms[MAXARMS];
    int na = 0;
    arms[na++] = (arm){"sgd", 0, eta, 0};
    double bmax = 0;
    for (int i = 0; i < betas->n && na < MAXARMS - 2; i++) {
        arms[na] = (arm){"", betas->v[i], eta * (1 - betas->v[i]), 0};
        snprintf(arms[na].name, sizeof arms[na].name, "momentum_%g", betas->v[i]);
        na++;
        bmax = fmax(bmax, betas->v[i]);
    }
    arms[na++] = (arm){"sgd_small", 0, eta * (1 - bmax), 1};          /* same lr, no momentum */
    arms[na++] = (arm){"momentum_same_lr", bmax, eta, 1};             /* same momentum, lr not rescaled */

    char spec[256];
    gd_images train, test;
    if (gd_train_opts_load(to, &train, &test) != 0) return -2;
    /* the runs index n_train images of the split's training part, 2000 are held out */
    if (gd_images_require(&train, 2000 + n_train, "the training set", "--train + the 2000 held-out images") != 0) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to->data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return -2;
    }
    int *idx = malloc((size_t)train.n * sizeof *idx), *val = malloc(2000 * sizeof *val);
    if (!idx || !val || gd_split(idx, val, train.n, 2000, 0) != 0) return -1;
    cfg.train = &train;
    cfg.train_idx = idx;
    cfg.n_train = (int)n_train;
    cfg.collapse_window = 0;
    cfg.label = "momentum";
    int nw = (int)(steps / window);
    if (nw > MAXW) return gd_seterr("more than %d windows", MAXW);
    /* loss[arm][seed][window] */
    double *loss = malloc((size_t)na * to->seeds * nw * sizeof *loss);
    if (!loss) return -1;
    gd_table *t = gd_table_open(path, "arm beta lr seed step train_loss");
    if (!t) return -1;
    gd_table_meta(t, "model", "%s, batch %ld, first %ld images of the split, %ld steps", to->dims, to->batch_size,
                  n_train, steps);
    gd_table_meta(t, "train_loss", "mean over the %d steps ending at step", window);
    gd_table_meta(t, "blas", "%s", gd_blas_info());
    for (int a = 0; a < na; a++)
        for (long s = 0; s < to->seeds; s++) {
            if (arms[a].beta > 0) snprintf(spec, sizeof spec, "sgd:lr=%.8g:momentum=%g", arms[a].lr, arms[a].beta);
            else snprintf(spec, sizeof spec, "sgd:lr=%.8g", arms[a].lr);
            cfg.optim = spec;
            cfg.seed = to->seed + (uint64_t)s;
            gd_trainer *tr = gd_trainer_new(&cfg);
            if (!tr) return -1;
            double sum = 0;
            for (long st = 1; st <= steps; st++) {
                sum += gd_trainer_step(tr);
                if (st % window == 0) {
                    double l = sum / window;
                    sum = 0;
                    loss[((size_t)a * to->seeds + s) * nw + st / window - 1] = l;
                    gd_table_row(t, "%s %g %.6g %llu %ld %.6g", arms[a].name, arms[a].beta, arms[a].lr,
                                 (unsigned long long)cfg.seed, st, l);
                }
            }
            gd_trainer_free(tr);
            gd_table_block(t);   /* a blank line: one curve per (arm, seed) */
        }
    if (gd_table_close(t) != 0) return -1;

    /* the largest relative gap to plain SGD's curve (same seed) over the windows that
     * start after k_after / (1 - beta) steps; and the final window's gap */
    gd_table *n = gd_table_open(numbers, "key value");
    if (!n) return -1;
    gd_table_kv(n, "opt_mom_eta", "%g", eta);
    gd_table_kv(n, "opt_mom_steps", "%ld", steps);
    gd_table_kv(n, "opt_mom_window", "%d", window);
    gd_table_kv(n, "opt_mom_k", "%g", k_after);
    gd_table_kv(n, "opt_mom_seeds", "%ld", to->seeds);
    gd_table_kv(n, "opt_mom_bmax", "%g", bmax);
    gd_table_kv(n, "opt_mom_small_lr", "%g", eta * (1 - bmax));
    gd_table_kv(n, "opt_mom_eff_lr", "%g", eta / (1 - bmax));
    double worst_all = 0;
    for (int a = 1; a < na; a++) {
        double after = arms[a].beta > 0 ? k_after / (1 - arms[a].beta) : k_after;
        double worst = 0, final[MAX_SEEDS];
        for (long s = 0; s < to->seeds; s++) {
            const double *l0 = loss + (size_t)s * nw, *la = loss + ((size_t)a * to->seeds + s) * nw;
            for (int w = 0; w < nw; w++)
                if ((double)w * window >= after) worst = fmax(worst, fabs(la[w] - l0[w]) / l0[w]);
            final[s] = (la[nw - 1] - l0[nw - 1]) / l0[nw - 1];
        }
        gd_stats fs = gd_stats_of(final, (int)to->seeds);
        char key[96], nm[40];
        snprintf(nm, sizeof nm, "%s", arms[a].name);
        for (char *p = nm; *p; p++)
            if (*p == '.') *p = '_';
        snprintf(key, sizeof key, "opt_mom_%s_gap", nm);
        gd_table_kv(n, key, "%.1f", 100 * worst);
        snprintf(key, sizeof key, "opt_mom_%s_final", nm);
        gd_table_kv(n, key, "%+.0f", 100 * fs.median);
        snprintf(key, sizeof key, "opt_mom_%s_final_lo", nm);
        gd_table_kv(n, key, "%+.0f", 100 * fs.min);
        snprintf(key, sizeof key, "opt_mom_%s_final_hi", nm);
        gd_table_kv(n, key, "%+.0f", 100 * fs.max);
        snprintf(key, sizeof key, "opt_mom_%s_after", nm);
        gd_table_kv(n, key, "%g", after);
        if (!arms[a].control) worst_all = fmax(worst_all, worst);
    }
    gd_table_kv(n, "opt_mom_gap", "%.1f", 100 * worst_all);
    free(loss), free(idx), free(val);
    gd_images_free(&train), gd_images_free(&test);
    return gd_table_close(n);
}

int main(int argc, char **argv) {
    gd_train_opts to = gd_train_opts_defaults();
    to.dims = "784-64-10";
    to.batch_size = 64;
    to.seeds = 5;
    gd_floats betas = {3, {0.5, 0.8, 0.9}};
    double eta = 0.05, k_after = 3;
    long steps = 200, window = 10, n_train = 5000, iters = 20000;
    const char *curves_out = NULL, *limits_out = NULL, *numbers = NULL;
    gd_opt opts[] = {GD_TRAIN_OPTS_MODEL(&to),
                     GD_TRAIN_OPTS_SEEDS(&to),
                     GD_OPT_FLOATS("betas", &betas, "momentum values beta (each in [0, 1))", 0, 0.999999, 0),
                     GD_OPT_FLOAT("eta", &eta, "curves: plain SGD's lr (momentum beta runs at eta (1 - beta))", 0, 100, 1),
                     GD_OPT_INT("steps", &steps, "curves: updates per run", 1, 1000000),
                     GD_OPT_INT("window", &window, "curves: steps per logged window", 1, 10000),
                     GD_OPT_FLOAT("after", &k_after, "curves: gaps counted after k / (1 - beta) steps; this is k", 0, 1000, 0),
                     GD_OPT_INT("train", &n_train, "curves: training images (the first of the split)", 1, 58000),
                     GD_OPT_INT("iters", &iters, "limits: steps per stability test", 10, 10000000),
                     GD_OPT_OUT("curves", &curves_out, "run the curves experiment; its table"),
                     GD_OPT_OUT("limits", &limits_out, "run the stability-limit experiment; its table"),
                     GD_OPT_OUT("numbers", &numbers, "the numbers the text quotes"),
                     GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Momentum's effective lr eta/(1-beta) on Fashion-MNIST (--curves) and its stability limit "
                          "2(1+beta)/lambda_max on a quadratic (--limits).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!curves_out == !limits_out) {
        fprintf(stderr, "%s: give one of --curves and --limits\n", gd_prog());
        return 2;
    }
    if (curves_out && !numbers) {
        fprintf(stderr, "%s: --curves needs --numbers\n", gd_prog());
        return 2;
    }
    if (curves_out && to.seeds > MAX_SEEDS) {   /* the gaps are kept per seed */
        fprintf(stderr, "%s: --seeds: at most %d, got %ld\n", gd_prog(), MAX_SEEDS, to.seeds);
        return 2;
    }
    if (curves_out && betas.n > MAXARMS - 2) {   /* two control arms besides one arm per beta */
        fprintf(stderr, "%s: --betas: at most %d values, got %d\n", gd_prog(), MAXARMS - 2, betas.n);
        return 2;
    }
    if (curves_out && steps / window > MAXW) {
        fprintf(stderr, "%s: --steps: at most %d windows of --window %ld, got %ld\n", gd_prog(), MAXW, window,
                steps / window);
        return 2;
    }
    if (curves_out && steps / window < 1) {
        fprintf(stderr, "%s: --steps: must be at least --window (%ld)\n", gd_prog(), window);
        return 2;
    }
    gd_train_cfg cfg = gd_train_defaults();
    gd_train_opts t1 = to;
    t1.optim = "sgd";   /* each arm sets its own spec */
    if (curves_out && gd_train_opts_apply(&t1, &cfg, 2) != 0) return 2;
    gd_blas_threads(1);
    int r = limits_out ? limits(limits_out, &betas, iters, numbers)
                       : curves(&to, cfg, eta, &betas, steps, (int)window, k_after, n_train, curves_out, numbers);
    if (r == -2) return 2;   /* the data: already reported */
    if (r != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    return 0;
}

/* sharpness.c -- the largest eigenvalue of the Hessian ("sharpness") by power iteration
 * on Hessian-vector products, and what it says about the learning rate, Chapter 3.
 *
 * A Hessian-vector product is a finite difference of two gradients,
 *     H v ~ (g(w + eps v) - g(w - eps v)) / (2 eps),      |v| = 1,
 * exact for a quadratic loss and off by O(eps^2) otherwise; in float32 the rounding of the
 * gradients adds O(1e-7 |g| / eps), so eps is a compromise (--experiment check measures
 * it against the exact product of logistic regression). Power iteration v <- Hv / |Hv|
 * then finds the eigenvalue of largest magnitude, lambda_max = v.Hv.
 *
 * Experiments (--experiment):
 *   check  logistic regression (D -> K, softmax cross-entropy), where H v has a closed
 *          form: finite-difference error against it for several eps, and lambda_max both ways
 *   edge   full-batch gradient descent at lr = c * 2 / lambda_max for each c in --factors,
 *          lambda_max measured at the start (a quadratic loss for --hidden 0 --loss mse:
 *          linear least squares, where the Hessian is the same everywhere)
 *   eos    full-batch GD at one lr, measuring the sharpness every --every steps: it
 *          climbs towards 2/lr (Cohen et al. 2021, "Gradient descent on neural networks
 *          typically occurs at the edge of stability")
 * The model is written out here (one tanh hidden layer, or none), on the first --n
 * training images, so that the loss can be squared error as well as cross-entropy.
 * Leaves out: minibatches (sharpness here is of the full-batch loss) and other
 * eigenvalues (Lanczos).
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* N images, D inputs, H hidden units (0: linear model), K classes, P parameters. */
typedef struct {
    int N, D, H, K;
    size_t P;
    int mse;          /* 1: mean squared error against one-hot targets; 0: cross-entropy */
    float *X;         /* (N, D) */
    int *y;           /* (N) */
    float *T;         /* (N, K) one-hot targets (mse) */
    float *z, *a;     /* (N, H) hidden pre-activation and tanh output */
    float *out, *dout;/* (N, K) logits (or predictions) and their gradient */
    float *da;        /* (N, H) */
    float *wtmp, *gtmp; /* (P) scratch for HVPs */
} problem;

/* Parameter layout in one vector w (P): H > 0: W1 (H, D), b1 (H), W2 (K, H), b2 (K);
 * H = 0: W (K, D), b (K). */
static double loss_grad(problem *p, const float *w, float *g) {
    int N = p->N, D = p->D, H = p->H, K = p->K;
    const float *in = p->X;
    int I = D;
    const float *W2 = w, *b2 = w + (size_t)K * D;
    if (H > 0) {
        gd_linear_forward(p->z, p->X, w, w + (size_t)H * D, N, D, H);    /* z = X W1^T + b1 */
        gd_tanh_forward(p->a, p->z, N * H);                              /* a = tanh(z) */
        in = p->a, I = H;
        W2 = w + (size_t)H * D + H, b2 = W2 + (size_t)K * H;
    }
    gd_linear_forward(p->out, in, W2, b2, N, I, K);                      /* out = in W2^T + b2 */
    double loss;
    gd_fill(p->dout, 0, (size_t)N * K);
    if (p->mse) {
        loss = gd_mse_forward(p->out, p->T, N * K);
        gd_mse_backward(p->dout, p->out, p->T, N * K);
    } else {
        float *pr = malloc((size_t)N * K * sizeof *pr);
        loss = gd_xent_forward(pr, p->out, p->y, N, K);
        gd_xent_backward(p->dout, pr, p->y, N, K);
        free(pr);
    }
    if (!g) return loss;
    gd_fill(g, 0, p->P);
    if (H > 0) {
        float *gW2 = g + (size_t)H * D + H;
        gd_linear_backward(NULL, gW2, gW2 + (size_t)K * H, p->dout, p->a, W2, N, H, K);
        gd_fill(p->da, 0, (size_t)N * H);
        gd_matmul(p->da, p->dout, W2, N, H, K, 0, 0, 1.0f, 0.0f);      /* da = dout W2 */
        gd_fill(p->z, 0, (size_t)N * H);                                 /* reused as dz */
        gd_tanh_backward(p->z, p->da, p->a, N * H);                      /* dz = da (1 - a^2) */
        gd_linear_backward(NULL, g, g + (size_t)H * D, p->z, p->X, w, N, D, H);
    } else {
        gd_linear_backward(NULL, g, g + (size_t)K * D, p->dout, p->X, w, N, D, K);
    }
    return loss;
}

// region hvp
/* Hv ~ (g(w + eps v) - g(w - eps v)) / (2 eps), for |v| = 1 */
static void hvp(problem *p, float *Hv, const float *w, const float *v, double eps) {
    for (size_t i = 0; i < p->P; i++) p->wtmp[i] = w[i] + (float)eps * v[i];
    loss_grad(p, p->wtmp, Hv);                                   /* g(w + eps v) */
    for (size_t i = 0; i < p->P; i++) p->wtmp[i] = w[i] - (float)eps * v[i];
    loss_grad(p, p->wtmp, p->gtmp);                              /* g(w - eps v) */
    for (size_t i = 0; i < p->P; i++) Hv[i] = (float)((Hv[i] - p->gtmp[i]) / (2 * eps));
}

/* Power iteration from v (unit, updated in place): lambda = v.Hv, v <- Hv / |Hv|. */
static double lambda_max(problem *p, const float *w, float *v, int iters, double eps) {
    float *Hv = malloc(p->P * sizeof *Hv);
    double lambda = 0;
    for (int it = 0; it < iters; it++) {
        hvp(p, Hv, w, v, eps);
        lambda = gd_dot(v, Hv, p->P);                            /* Rayleigh quotient */
        double norm = gd_norm2(Hv, p->P);
        for (size_t i = 0; i < p->P; i++) v[i] = (float)(Hv[i] / norm);
    }
    free(Hv);
    return lambda;
}
// endregion hvp

/* The exact Hv of softmax regression (H = 0, cross-entropy), in double:
 * H = 1/N sum_i (diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T, x~ = (x, 1). */
static void hvp_exact_logreg(problem *p, double *Hv, const float *w, const float *v) {
    int N = p->N, D = p->D, K = p->K;
    size_t P = p->P;
    for (size_t j = 0; j < P; j++) Hv[j] = 0;
    double *logit = malloc((size_t)K * sizeof *logit), *pr = malloc((size_t)K * sizeof *pr),
           *av = malloc((size_t)K * sizeof *av);
    for (int i = 0; i < N; i++) {
        const float *x = p->X + (size_t)i * D;
        double mx = -INFINITY, s = 0, pa = 0;
        for (int k = 0; k < K; k++) {
            double l = w[(size_t)K * D + k], a = v[(size_t)K * D + k];
            for (int d = 0; d < D; d++) l += (double)w[(size_t)k * D + d] * x[d], a += (double)v[(size_t)k * D + d] * x[d];
            logit[k] = l, av[k] = a;                             /* a = V x~ */
            if (l > mx) mx = l;
        }
        for (int k = 0; k < K; k++) s += pr[k] = exp(logit[k] - mx);
        for (int k = 0; k < K; k++) pr[k] /= s, pa += pr[k] * av[k];
        for (int k = 0; k < K; k++) {
            double u = pr[k] * (av[k] - pa) / N;                 /* (diag(p) - p p^T) a / N */
            for (int d = 0; d < D; d++) Hv[(size_t)k * D + d] += u * x[d];
            Hv[(size_t)K * D + k] += u;
        }
    }
    free(logit);
    free(pr);
    free(av);
}

static void random_unit(float *v, size_t P, gd_rng *rng) {
    gd_rng_fill_normal(rng, v, P, 0, 1);
    double n = gd_norm2(v, P);
    for (size_t i = 0; i < P; i++) v[i] = (float)(v[i] / n);
}

/* nn.Linear's initialisation: U(-1/sqrt(in), 1/sqrt(in)) for weights and biases. */
static void init_params(problem *p, float *w, gd_rng *rng) {
    int D = p->D, H = p->H, K = p->K;
    if (H > 0) {
        float s = 1.0f / sqrtf((float)D), t = 1.0f / sqrtf((float)H);
        gd_rng_fill_uniform(rng, w, (size_t)H * D + H, -s, s);
        gd_rng_fill_uniform(rng, w + (size_t)H * D + H, (size_t)K * H + K, -t, t);
    } else {
        float s = 1.0f / sqrtf((float)D);
        gd_rng_fill_uniform(rng, w, (size_t)K * D + K, -s, s);
    }
}

static int write_numbers(gd_table *t, const char *prefix, const char *key, const char *fmt, double v) {
    char k[128], val[64];
    snprintf(k, sizeof k, "%s%s", prefix, key);
    snprintf(val, sizeof val, fmt, v);
    gd_table_kv(t, k, "%s", val);
    return 0;
}

int main(int argc, char **argv) {
    const char *experiment = "edge", *loss_arg = "xent", *data_dir = NULL, *out = NULL, *numbers = NULL,
               *prefix = "";
    long n = 1000, hidden = 32, steps = 200, iters = 20, every = 10;
    double lr = 0, eps = 1e-3, diverge = 10;
    gd_floats factors = {5, {0.5, 0.9, 1.1, 1.5, 2.0}};
    uint64_t seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("experiment", &experiment, "check, edge or eos (see the top of sharpness.c)"),
        GD_OPT_STRING("loss", &loss_arg, "xent (softmax cross-entropy) or mse (squared error, one-hot targets)"),
        GD_OPT_INT("n", &n, "full batch: the first N training images", 10, 60000),
        GD_OPT_INT("hidden", &hidden, "tanh hidden units (0: a linear model)", 0, 4096),
        GD_OPT_INT("steps", &steps, "full-batch GD steps (edge, eos)", 1, 1000000),
        GD_OPT_FLOAT("lr", &lr, "eos: the learning rate (0: 2 / (3 lambda_max at the start))", 0, 1e6, 0),
        GD_OPT_FLOATS("factors", &factors, "edge: lr = factor * 2 / lambda_max, for each factor", 0, 100, 1),
        GD_OPT_INT("iters", &iters, "power iterations per sharpness", 1, 10000),
        GD_OPT_INT("every", &every, "eos: steps between sharpness measurements", 1, 1000000),
        GD_OPT_FLOAT("eps", &eps, "finite-difference step of the HVP", 0, 1, 1),
        GD_OPT_FLOAT("diverge", &diverge, "a run diverged when its loss exceeds this times the first", 1, 1e9, 1),
        GD_OPT_SEED("seed", &seed, "random seed (initial weights, power-iteration start)"),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_STRING("out", &out, "write the experiment's table here"),
        GD_OPT_STRING("numbers", &numbers, "write the numbers the chapter quotes here"),
        GD_OPT_STRING("prefix", &prefix, "prefix for the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Sharpness (largest Hessian eigenvalue) by power iteration on finite-difference "
                          "Hessian-vector products, and full-batch GD near lr = 2/sharpness (Chapter 3).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    int exp_kind = strcmp(experiment, "check") == 0 ? 0 : strcmp(experiment, "edge") == 0 ? 1
                 : strcmp(experiment, "eos") == 0 ? 2 : -1;
    if (exp_kind < 0) {
        fprintf(stderr, "%s: --experiment: must be check, edge or eos, got '%s'\n", gd_prog(), experiment);
        return 2;
    }
    if (strcmp(loss_arg, "xent") != 0 && strcmp(loss_arg, "mse") != 0) {
        fprintf(stderr, "%s: --loss: must be xent or mse, got '%s'\n", gd_prog(), loss_arg);
        return 2;
    }
    if (exp_kind == 0 && (hidden != 0 || strcmp(loss_arg, "xent") != 0)) {
        fprintf(stderr, "%s: --experiment: check has its exact product only for --hidden 0 --loss xent\n", gd_prog());
        return 2;
    }
    gd_images train, test;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_blas_threads(1);
    problem p = {0};
    p.N = (int)(n < train.n ? n : train.n), p.D = train.dim, p.H = (int)hidden, p.K = GD_FMNIST_CLASSES;
    p.mse = strcmp(loss_arg, "mse") == 0;
    p.P = p.H > 0 ? (size_t)p.H * p.D + p.H + (size_t)p.K * p.H + p.K : (size_t)p.K * p.D + p.K;
    int N = p.N, K = p.K;
    int *idx = malloc((size_t)N * sizeof *idx);
    for (int i = 0; i < N; i++) idx[i] = i;
    p.X = malloc((size_t)N * p.D * sizeof *p.X);
    p.y = malloc((size_t)N * sizeof *p.y);
    gd_images_batch(p.X, p.y, &train, idx, N);
    p.T = calloc((size_t)N * K, sizeof *p.T);
    for (int i = 0; i < N; i++) p.T[(size_t)i * K + p.y[i]] = 1;
    int Hn = p.H > 0 ? p.H : 1;
    p.z = malloc((size_t)N * Hn * sizeof(float));
    p.a = malloc((size_t)N * Hn * sizeof(float));
    p.da = malloc((size_t)N * Hn * sizeof(float));
    p.out = malloc((size_t)N * K * sizeof(float));
    p.dout = malloc((size_t)N * K * sizeof(float));
    p.wtmp = malloc(p.P * sizeof(float));
    p.gtmp = malloc(p.P * sizeof(float));
    float *w = malloc(p.P * sizeof *w), *w0 = malloc(p.P * sizeof *w0), *g = malloc(p.P * sizeof *g),
          *v = malloc(p.P * sizeof *v);
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    init_params(&p, w0, &rng);
    memcpy(w, w0, p.P * sizeof *w);

    char model[200];
    snprintf(model, sizeof model, "%s, %s loss, full batch of the first %d training images, %zu parameters",
             p.H > 0 ? "MLP 784-H-10, tanh" : "linear 784-10", p.mse ? "squared-error" : "cross-entropy", N, p.P);
    if (p.H > 0) {
        char *at = strstr(model, "-H-");
        char buf[200];
        snprintf(buf, sizeof buf, "%.*s-%d-%s", (int)(at - model), model, p.H, at + 3);
        snprintf(model, sizeof model, "%s", buf);
    }
    gd_table *t = NULL, *nt = NULL;
    int status = 0;
    if (numbers && !(nt = gd_table_open(numbers, "key value"))) status = 1;
    if (nt) gd_table_meta(nt, "program", "ch03-sharpness --experiment %s (%s; seed %llu)", experiment, model,
                          (unsigned long long)seed);

    if (exp_kind == 0) {
        /* --- check: finite differences against the exact product, at the initial w --- */
        double *ex = malloc(p.P * sizeof *ex);
        float *Hv = malloc(p.P * sizeof *Hv);
        random_unit(v, p.P, &rng);
        hvp_exact_logreg(&p, ex, w, v);
        double exn = 0;
        for (size_t i = 0; i < p.P; i++) exn += ex[i] * ex[i];
        exn = sqrt(exn);
        if (out && !(t = gd_table_open(out, "eps rel_error"))) status = 1;
        if (t) {
            gd_table_meta(t, "program", "ch03-sharpness --experiment check");
            gd_table_meta(t, "model", "%s", model);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
            gd_table_meta(t, "columns", "rel_error = |Hv_fd - Hv_exact| / |Hv_exact| for one random unit v");
        }
        double best_err = INFINITY, err_at_eps = NAN;
        for (int e = -6; e <= 0; e++) {
            double ee = pow(10, e);
            hvp(&p, Hv, w, v, ee);
            double d = 0;
            for (size_t i = 0; i < p.P; i++) d += (Hv[i] - ex[i]) * (Hv[i] - ex[i]);
            double rel = sqrt(d) / exn;
            if (rel < best_err) best_err = rel;
            if (fabs(ee / eps - 1) < 1e-9) err_at_eps = rel;
            if (t) gd_table_row(t, "%g %.4g", ee, rel);
            printf("eps %g: relative error %.3g\n", ee, rel);
        }
        /* lambda_max both ways: power iteration on the exact and on the fd product */
        float *v2 = malloc(p.P * sizeof *v2);
        random_unit(v, p.P, &rng);
        memcpy(v2, v, p.P * sizeof *v);
        double lam_ex = 0;
        for (int it = 0; it < iters * 5; it++) {
            hvp_exact_logreg(&p, ex, w, v2);
            double dot = 0, nn = 0;
            for (size_t i = 0; i < p.P; i++) dot += v2[i] * ex[i], nn += ex[i] * ex[i];
            lam_ex = dot;
            for (size_t i = 0; i < p.P; i++) v2[i] = (float)(ex[i] / sqrt(nn));
        }
        double lam_fd = lambda_max(&p, w, v, (int)iters * 5, eps);
        printf("lambda_max: exact %.6g, finite differences (eps %g) %.6g\n", lam_ex, eps, lam_fd);
        if (nt) {
            gd_table_kv(nt, "check_eps", "%g", eps);
            gd_table_kv(nt, "check_err_at_eps", "%.1e", err_at_eps);
            gd_table_kv(nt, "check_best_err", "%.1e", best_err);
            gd_table_kv(nt, "check_lambda_exact", "%.4f", lam_ex);
            gd_table_kv(nt, "check_lambda_fd", "%.4f", lam_fd);
            gd_table_kv(nt, "check_lambda_rel", "%.1e", fabs(lam_fd / lam_ex - 1));
            gd_table_kv(nt, "check_iters", "%ld", iters * 5);
            gd_table_kv(nt, "check_n", "%d", N);
        }
        free(v2);
        free(ex);
        free(Hv);
    } else if (exp_kind == 1) {
        /* --- edge: GD at c * 2 / lambda_max(w0) --- */
        random_unit(v, p.P, &rng);
        double lam = lambda_max(&p, w0, v, (int)iters, eps);
        printf("lambda_max at the start: %.5g, 2/lambda_max = %.5g\n", lam, 2 / lam);
        if (out && !(t = gd_table_open(out, "factor lr step loss"))) status = 1;
        if (t) {
            gd_table_meta(t, "program", "ch03-sharpness --experiment edge");
            gd_table_meta(t, "model", "%s", model);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
            gd_table_meta(t, "sharpness", "lambda_max %.6g at the start (%ld power iterations, eps %g); lr = factor "
                          "* 2 / lambda_max", lam, iters, eps);
            gd_table_meta(t, "columns", "one block per factor; a run stops when its loss is not finite or above "
                          "%g times the first", diverge);
        }
        if (nt) {
            write_numbers(nt, prefix, "lambda0", "%.4g", lam);
            write_numbers(nt, prefix, "edge_lr", "%.4g", 2 / lam);
            write_numbers(nt, prefix, "steps", "%.0f", (double)steps);
            write_numbers(nt, prefix, "params", "%.0f", (double)p.P);
        }
        for (int f = 0; f < factors.n; f++) {
            double c = factors.v[f], eta = c * 2 / lam, first = NAN, loss = NAN;
            long s;
            memcpy(w, w0, p.P * sizeof *w);
            int diverged = 0;
            for (s = 0; s <= steps; s++) {
                loss = loss_grad(&p, w, g);
                if (isnan(first)) first = loss;
                if (t) gd_table_row(t, "%g %.6g %ld %.6g", c, eta, s, loss);
                if (!isfinite(loss) || loss > diverge * first) {
                    diverged = 1;
                    break;
                }
                if (s < steps) gd_axpy(w, (float)-eta, g, p.P);  /* w <- w - lr g */
            }
            if (t) gd_table_block(t);
            printf("factor %g (lr %.4g): %s, loss %.4g -> %.4g\n", c, eta, diverged ? "diverged" : "ran", first, loss);
            if (nt) {
                char key[64];
                snprintf(key, sizeof key, "f%g_", c);
                for (char *q = key; *q; q++) if (*q == '.') *q = 'p';
                char k2[96];
                snprintf(k2, sizeof k2, "%sdiverged", key);
                write_numbers(nt, prefix, k2, "%.0f", diverged);
                snprintf(k2, sizeof k2, "%sfinal", key);
                write_numbers(nt, prefix, k2, "%.3g", loss);
                snprintf(k2, sizeof k2, "%sstep", key);
                write_numbers(nt, prefix, k2, "%.0f", (double)(s > steps ? steps : s));
            }
        }
        if (nt) write_numbers(nt, prefix, "first_loss", "%.4g", loss_grad(&p, w0, NULL));
    } else {
        /* --- eos: sharpness along one full-batch GD run --- */
        random_unit(v, p.P, &rng);
        double lam0 = lambda_max(&p, w, v, (int)iters * 2, eps);
        double eta = lr > 0 ? lr : 2 / (3 * lam0);
        printf("lambda_max at the start %.4g; lr %.4g, 2/lr = %.4g\n", lam0, eta, 2 / eta);
        if (out && !(t = gd_table_open(out, "step loss sharpness"))) status = 1;
        if (t) {
            gd_table_meta(t, "program", "ch03-sharpness --experiment eos");
            gd_table_meta(t, "model", "%s", model);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)seed);
            gd_table_meta(t, "lr", "%.6g (2/lr = %.6g)", eta, 2 / eta);
            gd_table_meta(t, "columns", "sharpness: lambda_max by %ld power iterations (warm-started), every %ld steps, "
                          "nan in between", iters, every);
        }
        double maxlam = lam0, lam = lam0, first = NAN;
        long reach = -1;
        for (long s = 0; s <= steps; s++) {
            double loss = loss_grad(&p, w, g);
            if (isnan(first)) first = loss;
            if (!isfinite(loss)) break;
            double sh = NAN;
            if (s % every == 0) {
                sh = lam = lambda_max(&p, w, v, (int)iters, eps); /* leaves g alone */
                if (sh > maxlam) maxlam = sh;
                if (reach < 0 && sh >= 0.9 * 2 / eta) reach = s;
            }
            if (t) gd_table_row(t, "%ld %.6g %.6g", s, loss, sh);
            if (s < steps) gd_axpy(w, (float)-eta, g, p.P);       /* w <- w - lr g */
        }
        printf("sharpness: %.4g at the start, at most %.4g, last %.4g; 2/lr = %.4g\n", lam0, maxlam, lam, 2 / eta);
        if (nt) {
            write_numbers(nt, prefix, "lr", "%.3g", eta);
            write_numbers(nt, prefix, "two_over_lr", "%.3g", 2 / eta);
            write_numbers(nt, prefix, "lambda0", "%.3g", lam0);
            write_numbers(nt, prefix, "lambda_max", "%.3g", maxlam);
            write_numbers(nt, prefix, "lambda_last", "%.3g", lam);
            write_numbers(nt, prefix, "max_over_edge", "%.2f", maxlam * eta / 2);
            write_numbers(nt, prefix, "reach_step", "%.0f", (double)reach);
            write_numbers(nt, prefix, "steps", "%.0f", (double)steps);
            write_numbers(nt, prefix, "first_loss", "%.3g", first);
            write_numbers(nt, prefix, "every", "%.0f", (double)every);
            write_numbers(nt, prefix, "iters", "%.0f", (double)iters);
            write_numbers(nt, prefix, "n", "%.0f", (double)N);
            write_numbers(nt, prefix, "hidden", "%.0f", (double)p.H);
        }
    }
    if (t && gd_table_close(t) != 0) status = 1;
    if (nt && gd_table_close(nt) != 0) status = 1;
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    free(w), free(w0), free(g), free(v), free(idx);
    free(p.X), free(p.y), free(p.T), free(p.z), free(p.a), free(p.da), free(p.out), free(p.dout), free(p.wtmp),
        free(p.gtmp);
    gd_images_free(&train);
    gd_images_free(&test);
    return status;
}

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

#define MAX_PREFIX 32 /* --prefix: k[128] holds it and the longest key (about 40) */

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
    const double *diag; /* --eigs: f(w) = 1/2 sum_i diag_i w_i^2 instead of the images (P = N) */
} problem;

/* Parameter layout in one vector w (P): H > 0: W1 (H, D), b1 (H), W2 (K, H), b2 (K);
 * H = 0: W (K, D), b (K). */
static double loss_grad(problem *p, const float *w, float *g) {
    if (p->diag) {                                       /* a quadratic with Hessian diag(eigs) */
        double f = 0;
        for (size_t i = 0; i < p->P; i++) {
            f += 0.5 * p->diag[i] * w[i] * w[i];
            if (g) g[i] = (float)(p->diag[i] * w[i]);
        }
        return f;
    }
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

/* Power iteration from v (unit, updated in place) on H - shift I: lambda = v.(Hv - shift v),
 * v <- its direction. It converges to the eigenvalue of largest MAGNITUDE; *resid gets
 * |Hv - lambda v| / |lambda| at the last iteration (small: converged). */
static double power_iter(problem *p, const float *w, float *v, int iters, double eps, double shift,
                         double *resid) {
    float *Hv = malloc(p->P * sizeof *Hv);
    double lambda = 0;
    for (int it = 0; it < iters; it++) {
        hvp(p, Hv, w, v, eps);
        for (size_t i = 0; i < p->P; i++) Hv[i] -= (float)shift * v[i];
        lambda = gd_dot(v, Hv, p->P);                            /* Rayleigh quotient */
        double norm = gd_norm2(Hv, p->P), r = 0;
        for (size_t i = 0; i < p->P; i++) r += (Hv[i] - lambda * v[i]) * (Hv[i] - lambda * v[i]);
        *resid = sqrt(r) / fabs(lambda);
        for (size_t i = 0; i < p->P; i++) v[i] = (float)(Hv[i] / norm);
    }
    free(Hv);
    return lambda;
}

/* lambda_max, the largest eigenvalue. If power iteration lands on a negative one (its
 * magnitude beats every positive eigenvalue), iterate again on H - lambda_neg I, whose
 * eigenvalues are all >= 0 and whose largest is lambda_max - lambda_neg. */
typedef struct {
    double resid;     /* |Hv - lambda v| / |lambda| at the last iteration */
    double negative;  /* the negative eigenvalue found first, or 0 */
} sharp_info;

static double lambda_max(problem *p, const float *w, float *v, int iters, double eps, sharp_info *info) {
    sharp_info dummy;
    if (!info) info = &dummy;
    info->negative = 0;
    double lambda = power_iter(p, w, v, iters, eps, 0, &info->resid);
    if (lambda < 0) {                                            /* the guard */
        info->negative = lambda;
        for (size_t i = 0; i < p->P; i++) v[i] = (float)(1 / sqrt((double)p->P)) * (i % 2 ? 1 : -1);
        lambda = power_iter(p, w, v, 2 * iters, eps, lambda, &info->resid) + info->negative;
    }
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

static void write_numbers(gd_table *t, const char *prefix, const char *key, const char *fmt, double v) {
    char k[128], val[64];
    snprintf(k, sizeof k, "%s%s", prefix, key);
    snprintf(val, sizeof val, fmt, v);
    gd_table_kv(t, k, "%s", val);
}

/* key_med, key_lo, key_hi: the median and range over the finite values (nan if none) */
static gd_stats write_stats(gd_table *t, const char *prefix, const char *key, const char *fmt, const double *v,
                            int n) {
    gd_stats st = gd_stats_of(v, n);
    char k[128];
    snprintf(k, sizeof k, "%s_med", key), write_numbers(t, prefix, k, fmt, st.median);
    snprintf(k, sizeof k, "%s_lo", key), write_numbers(t, prefix, k, fmt, st.min);
    snprintf(k, sizeof k, "%s_hi", key), write_numbers(t, prefix, k, fmt, st.max);
    return st;
}

/* 0.15 -> "0p15", for keys */
static void numkey(char *k, size_t size, const char *pre, double x) {
    snprintf(k, size, "%s%g", pre, x);
    for (char *q = k; *q; q++)
        if (*q == '.') *q = 'p';
        else if (*q == '-') *q = 'm';
}

/* "0.2 (0.1 to 0.3)", or "0.2" when the range is one value, "none" when there is none */
static void med_range(char *buf, size_t size, const char *fmt, gd_stats st) {
    char a[40], b[40], c[40];
    if (!fmt) fmt = "%g"; /* never NULL here; gcc 12 -O1 -fsanitize=undefined says "null format string" */
    if (st.n == 0) {
        snprintf(buf, size, "none");
        return;
    }
    snprintf(a, sizeof a, fmt, st.median), snprintf(b, sizeof b, fmt, st.min), snprintf(c, sizeof c, fmt, st.max);
    if (strcmp(b, c) == 0) snprintf(buf, size, "%s", a);
    else snprintf(buf, size, "%s (%s to %s)", a, b, c);
}

#define REACH 0.9 /* eos: a run "reaches" 2/lr when its sharpness gets to REACH * 2/lr */

int main(int argc, char **argv) {
    const char *experiment = "edge", *loss_arg = "xent", *out = NULL, *numbers = NULL, *prefix = "";
    long n = 1000, hidden = 32, steps = 200, iters = 20, every = 10;
    double eps = 1e-3, diverge = 10, beta = 0;
    gd_floats factors = {5, {0.5, 0.9, 1.1, 1.5, 2.0}}, lrs = {1, {0.2}}, eigs = {0, {0}};
    gd_train_opts to = gd_train_opts_defaults();
    gd_opt opts[] = {
        GD_OPT_STRING("experiment", &experiment, "check, edge or eos (see the top of sharpness.c)"),
        GD_OPT_STRING("loss", &loss_arg, "xent (softmax cross-entropy) or mse (squared error, one-hot targets)"),
        GD_OPT_INT("n", &n, "full batch: the first N training images", 10, 60000),
        GD_OPT_INT("hidden", &hidden, "tanh hidden units (0: a linear model)", 0, 4096),
        GD_OPT_INT("steps", &steps, "full-batch GD steps (edge, eos)", 1, 1000000),
        GD_OPT_FLOATS("lr", &lrs, "eos: the learning rates, one run per lr and seed", 0, 1e6, 1),
        GD_OPT_FLOATS("factors", &factors, "edge: lr = factor * 2(1 + momentum) / lambda_max, for each factor", 0,
                      100, 1),
        GD_OPT_FLOAT("momentum", &beta, "edge: heavy-ball momentum beta as PyTorch's SGD (0: plain GD)", 0, 0.999, 0),
        GD_OPT_FLOATS("eigs", &eigs, "edge: instead of the images, the quadratic 1/2 sum_i eig_i w_i^2 (eigs may be "
                      "negative)", -1e6, 1e6, 0),
        GD_OPT_INT("iters", &iters, "power iterations per sharpness", 1, 10000),
        GD_OPT_INT("every", &every, "eos: steps between sharpness measurements", 1, 1000000),
        GD_OPT_FLOAT("eps", &eps, "finite-difference step of the HVP", 0, 1, 1),
        GD_OPT_FLOAT("diverge", &diverge, "a run diverged when its loss exceeds this times the first", 1, 1e9, 1),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_STRING("data", &to.data, "directory of the Fashion-MNIST files"),
        GD_OPT_OUT("out", &out, "write the experiment's table here"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes here"),
        GD_OPT_STRING("prefix", &prefix, "prefix for the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Sharpness (largest Hessian eigenvalue) by power iteration on finite-difference "
                          "Hessian-vector products, and full-batch GD (or heavy ball) near its stability limit "
                          "(Chapter 3).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    int exp_kind = strcmp(experiment, "check") == 0 ? 0 : strcmp(experiment, "edge") == 0 ? 1
                 : strcmp(experiment, "eos") == 0 ? 2 : -1;
    if (exp_kind < 0) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--experiment: must be check, edge or eos, got '%s'", experiment);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (strcmp(loss_arg, "xent") != 0 && strcmp(loss_arg, "mse") != 0) {
        gd_seterr("--loss: must be xent or mse, got '%s'", loss_arg);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (exp_kind == 0 && (hidden != 0 || strcmp(loss_arg, "xent") != 0)) {
        fprintf(stderr, "%s: --experiment: check has its exact product only for --hidden 0 --loss xent\n", gd_prog());
        return 2;
    }
    if (eigs.n > 0 && exp_kind != 1) {
        fprintf(stderr, "%s: --eigs: only with --experiment edge\n", gd_prog());
        return 2;
    }
    if (beta > 0 && exp_kind != 1) {
        fprintf(stderr, "%s: --momentum: only with --experiment edge\n", gd_prog());
        return 2;
    }
    if (strlen(prefix) > MAX_PREFIX) { /* keys are prefix + name, in a fixed buffer */
        fprintf(stderr, "%s: --prefix: at most %d characters, got %zu\n", gd_prog(), MAX_PREFIX, strlen(prefix));
        return 2;
    }
    int nseeds = (int)to.seeds;
    problem p = {0};
    gd_images train = {0}, test = {0};
    int have_images = eigs.n == 0;
    if (have_images && gd_train_opts_load(&to, &train, &test) != 0) return 2;
    /* the full batch is the first n images: all of them must be there */
    if (have_images && gd_train_opts_require(to.data, &train, n, "the training set", "--n") != 0) {
        gd_images_free(&train);
        gd_images_free(&test);
        return 2;
    }
    gd_blas_threads(1);
    p.K = GD_FMNIST_CLASSES;
    if (have_images) {
        p.N = (int)n, p.D = train.dim, p.H = (int)hidden;
        p.mse = strcmp(loss_arg, "mse") == 0;
        p.P = p.H > 0 ? (size_t)p.H * p.D + p.H + (size_t)p.K * p.H + p.K : (size_t)p.K * p.D + p.K;
    } else {
        p.N = 1, p.D = 1, p.H = 0, p.P = (size_t)eigs.n;
        p.diag = eigs.v;
    }
    int N = p.N, K = p.K;
    int *idx = malloc((size_t)N * sizeof *idx);
    for (int i = 0; i < N; i++) idx[i] = i;
    p.X = malloc((size_t)N * p.D * sizeof *p.X);
    p.y = malloc((size_t)N * sizeof *p.y);
    p.T = calloc((size_t)N * K, sizeof *p.T);
    if (have_images) {
        gd_images_batch(p.X, p.y, &train, idx, N);
        for (int i = 0; i < N; i++) p.T[(size_t)i * K + p.y[i]] = 1;
    }
    int Hn = p.H > 0 ? p.H : 1;
    p.z = malloc((size_t)N * Hn * sizeof(float));
    p.a = malloc((size_t)N * Hn * sizeof(float));
    p.da = malloc((size_t)N * Hn * sizeof(float));
    p.out = malloc((size_t)N * K * sizeof(float));
    p.dout = malloc((size_t)N * K * sizeof(float));
    p.wtmp = malloc(p.P * sizeof(float));
    p.gtmp = malloc(p.P * sizeof(float));
    size_t P = p.P;
    float *w = malloc(P * sizeof *w), *g = malloc(P * sizeof *g), *v = malloc(P * sizeof *v),
          *buf = malloc(P * sizeof *buf);
    /* per seed: the initial weights and the eigenvector found there */
    float *w0s = malloc((size_t)nseeds * P * sizeof *w0s), *v0s = malloc((size_t)nseeds * P * sizeof *v0s);

    char model[200];
    if (!have_images) snprintf(model, sizeof model, "quadratic 1/2 sum_i eig_i w_i^2 with %d eigenvalues", eigs.n);
    else if (p.H > 0)
        snprintf(model, sizeof model, "MLP 784-%d-10, tanh, %s loss, full batch of the first %d training images, "
                 "%zu parameters", p.H, p.mse ? "squared-error" : "cross-entropy", N, P);
    else
        snprintf(model, sizeof model, "linear 784-10, %s loss, full batch of the first %d training images, %zu "
                 "parameters", p.mse ? "squared-error" : "cross-entropy", N, P);
    gd_table *t = NULL, *nt = NULL;
    int status = 0;
    if (numbers && !(nt = gd_table_open(numbers, "key value"))) status = 1;
    if (nt) gd_table_meta(nt, "program", "ch03-sharpness --experiment %s (%s; seeds %llu to %llu)", experiment, model,
                          (unsigned long long)to.seed, (unsigned long long)(to.seed + nseeds - 1));

    if (exp_kind == 0) {
        /* --- check: finite differences against the exact product, at the initial w --- */
        gd_rng rng;
        gd_rng_seed(&rng, to.seed);
        init_params(&p, w, &rng);
        double *ex = malloc(P * sizeof *ex);
        float *Hv = malloc(P * sizeof *Hv);
        random_unit(v, P, &rng);
        hvp_exact_logreg(&p, ex, w, v);
        double exn = 0;
        for (size_t i = 0; i < P; i++) exn += ex[i] * ex[i];
        exn = sqrt(exn);
        if (out && !(t = gd_table_open(out, "eps rel_error"))) status = 1;
        if (t) {
            gd_table_meta(t, "program", "ch03-sharpness --experiment check");
            gd_table_meta(t, "model", "%s", model);
            gd_table_meta(t, "seed", "%llu", (unsigned long long)to.seed);
            gd_table_meta(t, "columns", "rel_error = |Hv_fd - Hv_exact| / |Hv_exact| for one random unit v");
        }
        double best_err = INFINITY, err_at_eps = NAN;
        for (int e = -6; e <= 0; e++) {
            double ee = pow(10, e);
            hvp(&p, Hv, w, v, ee);
            double d = 0;
            for (size_t i = 0; i < P; i++) d += (Hv[i] - ex[i]) * (Hv[i] - ex[i]);
            double rel = sqrt(d) / exn;
            if (rel < best_err) best_err = rel;
            if (fabs(ee / eps - 1) < 1e-9) err_at_eps = rel;
            if (t) gd_table_row(t, "%g %.4g", ee, rel);
            printf("eps %g: relative error %.3g\n", ee, rel);
        }
        /* lambda_max both ways: power iteration on the exact and on the fd product */
        float *v2 = malloc(P * sizeof *v2);
        random_unit(v, P, &rng);
        memcpy(v2, v, P * sizeof *v);
        double lam_ex = 0;
        for (int it = 0; it < iters * 5; it++) {
            hvp_exact_logreg(&p, ex, w, v2);
            double dot = 0, nn = 0;
            for (size_t i = 0; i < P; i++) dot += v2[i] * ex[i], nn += ex[i] * ex[i];
            lam_ex = dot;
            for (size_t i = 0; i < P; i++) v2[i] = (float)(ex[i] / sqrt(nn));
        }
        sharp_info info;
        double lam_fd = lambda_max(&p, w, v, (int)iters * 5, eps, &info);
        printf("lambda_max: exact %.6g, finite differences (eps %g) %.6g\n", lam_ex, eps, lam_fd);
        if (nt) {
            gd_table_kv(nt, "check_eps", "%g", eps);
            gd_table_kv(nt, "check_err_at_eps", "%.1e", err_at_eps);
            gd_table_kv(nt, "check_best_err", "%.1e", best_err);
            gd_table_kv(nt, "check_lambda_exact", "%.4f", lam_ex);
            gd_table_kv(nt, "check_lambda_fd", "%.4f", lam_fd);
            gd_table_kv(nt, "check_lambda_rel", "%.1e", fabs(lam_fd / lam_ex - 1));
            gd_table_kv(nt, "check_resid", "%.1e", info.resid);
            gd_table_kv(nt, "check_iters", "%ld", iters * 5);
            gd_table_kv(nt, "check_n", "%d", N);
        }
        free(v2);
        free(ex);
        free(Hv);
    } else {
        /* the initial weights of every seed and lambda_max there (edge: iters, eos: 2 iters) */
        double *lam0 = malloc((size_t)nseeds * sizeof *lam0), *lamneg = malloc((size_t)nseeds * sizeof *lamneg),
               resid_max = 0;
        int nneg = 0;
        for (int k = 0; k < nseeds; k++) {
            gd_rng rng;
            gd_rng_seed(&rng, to.seed + (uint64_t)k);
            float *w0 = w0s + (size_t)k * P, *v0 = v0s + (size_t)k * P;
            if (have_images) init_params(&p, w0, &rng);
            else gd_rng_fill_normal(&rng, w0, P, 0, 1);
            random_unit(v0, P, &rng);
            sharp_info info;
            lam0[k] = lambda_max(&p, w0, v0, (int)(exp_kind == 1 ? iters : 2 * iters), eps, &info);
            lamneg[k] = info.negative;
            nneg += info.negative < 0;
            if (info.resid > resid_max) resid_max = info.resid;
            if (info.negative < 0)
                printf("seed %llu: power iteration found the negative eigenvalue %.4g first; lambda_max %.4g\n",
                       (unsigned long long)(to.seed + k), info.negative, lam0[k]);
        }
        gd_stats l0 = gd_stats_of(lam0, nseeds);
        if (exp_kind == 1) {
            /* --- edge: GD (or heavy ball) at lr = c * 2(1 + beta) / lambda_max(w0) --- */
            double limit = 2 * (1 + beta);
            if (out && !(t = gd_table_open(out, "factor seed lr step loss"))) status = 1;
            if (t) {
                gd_table_meta(t, "program", "ch03-sharpness --experiment edge");
                gd_table_meta(t, "model", "%s", model);
                gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed,
                              (unsigned long long)(to.seed + nseeds - 1));
                gd_table_meta(t, "sharpness", "lambda_max at the start, per seed (%ld power iterations, eps %g): "
                              "median %.6g, %.6g to %.6g; lr = factor * %g / lambda_max of the run's seed", iters, eps,
                              l0.median, l0.min, l0.max, limit);
                if (beta > 0)
                    gd_table_meta(t, "update", "heavy ball (PyTorch SGD, momentum %g): buf = momentum buf + g, "
                                  "w -= lr buf", beta);
                else
                    gd_table_meta(t, "update", "plain GD: w -= lr g");
                gd_table_meta(t, "columns", "one block per factor and seed (factor outer); a run stops when its loss "
                              "is not finite or above %g times the first", diverge);
            }
            int nf = factors.n;
            double *fin = malloc((size_t)nseeds * sizeof *fin), *dstep = malloc((size_t)nseeds * sizeof *dstep),
                   *first = malloc((size_t)nseeds * sizeof *first);
            if (nt) {
                write_numbers(nt, prefix, "seeds", "%.0f", nseeds);
                write_stats(nt, prefix, "lambda0", "%.4g", lam0, nseeds);
                write_numbers(nt, prefix, "lambda0", "%.4g", l0.median);
                write_numbers(nt, prefix, "edge_lr", "%.4g", 2 / l0.median);
                write_numbers(nt, prefix, "momentum", "%g", beta);
                write_numbers(nt, prefix, "limit", "%.3g", limit);
                write_numbers(nt, prefix, "limit_lr", "%.4g", limit / l0.median);
                write_numbers(nt, prefix, "steps", "%.0f", (double)steps);
                write_numbers(nt, prefix, "params", "%.0f", (double)P);
                write_numbers(nt, prefix, "negative", "%.0f", nneg);
                write_numbers(nt, prefix, "lambda_neg", "%.4g", gd_stats_of(lamneg, nseeds).min);
                write_numbers(nt, prefix, "resid_max", "%.1e", resid_max);
            }
            for (int f = 0; f < nf; f++) {
                double c = factors.v[f];
                int ndiv = 0;
                for (int k = 0; k < nseeds; k++) {
                    double eta = c * limit / lam0[k], loss = NAN;
                    memcpy(w, w0s + (size_t)k * P, P * sizeof *w);
                    first[k] = NAN, fin[k] = NAN, dstep[k] = NAN;
                    long s;
                    for (s = 0; s <= steps; s++) {
                        loss = loss_grad(&p, w, g);
                        if (isnan(first[k])) first[k] = loss;
                        if (t) gd_table_row(t, "%g %llu %.6g %ld %.6g", c, (unsigned long long)(to.seed + k), eta, s,
                                            loss);
                        if (!isfinite(loss) || loss > diverge * first[k]) break;
                        if (s == steps) break;
                        // region heavyball
                        if (beta > 0) {                                  /* PyTorch's SGD with momentum */
                            for (size_t i = 0; i < P; i++) buf[i] = s == 0 ? g[i] : (float)beta * buf[i] + g[i];
                            gd_axpy(w, (float)-eta, buf, P);            /* w <- w - lr buf */
                        } else {
                            gd_axpy(w, (float)-eta, g, P);              /* w <- w - lr g */
                        }
                        // endregion heavyball
                    }
                    if (s <= steps && (!isfinite(loss) || loss > diverge * first[k])) ndiv++, dstep[k] = (double)s;
                    else fin[k] = loss;
                    if (t) gd_table_block(t);
                }
                gd_stats fs = gd_stats_of(fin, nseeds), ds = gd_stats_of(dstep, nseeds);
                printf("factor %g: %d of %d seeds diverged (median step %g); final loss of the others: median %.4g\n",
                       c, ndiv, nseeds, ds.median, fs.median);
                if (nt) {
                    char key[64], k2[96];
                    numkey(key, sizeof key, "f", c);
                    snprintf(k2, sizeof k2, "%s_ndiv", key), write_numbers(nt, prefix, k2, "%.0f", ndiv);
                    snprintf(k2, sizeof k2, "%s_final", key), write_stats(nt, prefix, k2, "%.3g", fin, nseeds);
                    snprintf(k2, sizeof k2, "%s_step", key), write_stats(nt, prefix, k2, "%.0f", dstep, nseeds);
                }
            }
            if (nt) write_stats(nt, prefix, "first_loss", "%.4g", first, nseeds);
            free(fin), free(dstep), free(first);
        } else {
            /* --- eos: the sharpness along full-batch GD runs, one per lr and seed --- */
            if (out && !(t = gd_table_open(out, "lr seed step loss sharpness resid"))) status = 1;
            if (t) {
                gd_table_meta(t, "program", "ch03-sharpness --experiment eos");
                gd_table_meta(t, "model", "%s", model);
                gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed,
                              (unsigned long long)(to.seed + nseeds - 1));
                gd_table_meta(t, "columns", "one block per lr and seed (lr outer); sharpness: lambda_max by %ld power "
                              "iterations (warm-started), every %ld steps, nan in between; resid: |Hv - lambda v| / "
                              "lambda at the last iteration", iters, every);
            }
            int nl = lrs.n, runs = nl * nseeds, reach_all = 0, nneg_run = 0;
            double *reach_step = malloc((size_t)nseeds * sizeof *reach_step),
                   *late = malloc((size_t)nseeds * sizeof *late), *mx = malloc((size_t)nseeds * sizeof *mx),
                   *fin = malloc((size_t)nseeds * sizeof *fin), *late_all = malloc((size_t)runs * sizeof *late_all),
                   *resid_last = malloc((size_t)runs * sizeof *resid_last);
            char tab[4096];
            snprintf(tab, sizeof tab, "| $\\eta$ | $2/\\eta$ | runs reaching %.0f%% of $2/\\eta$ | step it is reached "
                     "| second half: mean $\\lambda_{\\max}/(2/\\eta)$ | largest $\\lambda_{\\max}/(2/\\eta)$ | "
                     "final loss |\n|---:|---:|---:|---|---|---|---|", 100 * REACH);
            for (int l = 0; l < nl; l++) {
                double eta = lrs.v[l], edge = 2 / eta;
                int reach_k = 0;
                for (int k = 0; k < nseeds; k++) {
                    memcpy(w, w0s + (size_t)k * P, P * sizeof *w);
                    memcpy(v, v0s + (size_t)k * P, P * sizeof *v);
                    double lam = lam0[k], maxlam = lam0[k], sum = 0, loss = NAN;
                    int nlate = 0;
                    reach_step[k] = NAN;
                    for (long s = 0; s <= steps; s++) {
                        loss = loss_grad(&p, w, g);
                        if (!isfinite(loss)) break;
                        double sh = NAN, rs = NAN;
                        if (s % every == 0) {
                            sharp_info info;
                            sh = lam = s == 0 ? lam0[k] : lambda_max(&p, w, v, (int)iters, eps, &info);
                            rs = s == 0 ? 0 : info.resid;
                            if (s > 0 && info.negative < 0) nneg_run++;
                            if (sh > maxlam) maxlam = sh;
                            if (isnan(reach_step[k]) && sh >= REACH * edge) reach_step[k] = (double)s;
                            if (2 * s >= steps) sum += sh / edge, nlate++;
                            if (s == steps) resid_last[l * nseeds + k] = rs;
                        }
                        if (t) gd_table_row(t, "%g %llu %ld %.6g %.6g %.3g", eta, (unsigned long long)(to.seed + k), s,
                                            loss, sh, rs);
                        if (s < steps) gd_axpy(w, (float)-eta, g, P);   /* w <- w - lr g */
                    }
                    if (t) gd_table_block(t);
                    reach_k += !isnan(reach_step[k]);
                    late[k] = late_all[l * nseeds + k] = nlate ? sum / nlate : NAN;
                    mx[k] = maxlam / edge;
                    fin[k] = loss;
                    printf("lr %g seed %llu: sharpness %.4g at the start, at most %.4g, last %.4g; 2/lr = %.4g\n", eta,
                           (unsigned long long)(to.seed + k), lam0[k], maxlam, lam, edge);
                }
                reach_all += reach_k;
                if (nt) {
                    char key[64], k2[96], a[160], b[160], c[160], d[160];
                    numkey(key, sizeof key, "lr", eta);
                    snprintf(k2, sizeof k2, "%s_two_over_lr", key), write_numbers(nt, prefix, k2, "%.3g", edge);
                    snprintf(k2, sizeof k2, "%s_reach", key), write_numbers(nt, prefix, k2, "%.0f", reach_k);
                    snprintf(k2, sizeof k2, "%s_reach_step", key);
                    gd_stats rs = write_stats(nt, prefix, k2, "%.0f", reach_step, nseeds);
                    snprintf(k2, sizeof k2, "%s_late", key);
                    gd_stats ls = write_stats(nt, prefix, k2, "%.2f", late, nseeds);
                    snprintf(k2, sizeof k2, "%s_max", key);
                    gd_stats ms = write_stats(nt, prefix, k2, "%.2f", mx, nseeds);
                    snprintf(k2, sizeof k2, "%s_final", key);
                    gd_stats fs = write_stats(nt, prefix, k2, "%.3g", fin, nseeds);
                    med_range(a, sizeof a, "%.0f", rs), med_range(b, sizeof b, "%.2f", ls);
                    med_range(c, sizeof c, "%.2f", ms), med_range(d, sizeof d, "%.3g", fs);
                    snprintf(tab + strlen(tab), sizeof tab - strlen(tab), "\n| %g | %.3g | %d of %d | %s | %s | %s | %s |",
                             eta, edge, reach_k, nseeds, a, b, c, d);
                }
            }
            if (nt) {
                write_numbers(nt, prefix, "runs", "%.0f", runs);
                write_numbers(nt, prefix, "seeds", "%.0f", nseeds);
                write_numbers(nt, prefix, "nlr", "%.0f", nl);
                write_numbers(nt, prefix, "reach", "%.0f", reach_all);
                write_numbers(nt, prefix, "near", "%.0f", 100 * REACH);
                write_stats(nt, prefix, "late", "%.2f", late_all, runs);
                write_stats(nt, prefix, "lambda0", "%.3g", lam0, nseeds);
                write_stats(nt, prefix, "resid", "%.1e", resid_last, runs);
                write_numbers(nt, prefix, "negative", "%.0f", nneg + nneg_run);
                write_numbers(nt, prefix, "steps", "%.0f", (double)steps);
                write_numbers(nt, prefix, "every", "%.0f", (double)every);
                write_numbers(nt, prefix, "iters", "%.0f", (double)iters);
                write_numbers(nt, prefix, "n", "%.0f", (double)N);
                write_numbers(nt, prefix, "hidden", "%.0f", (double)p.H);
                gd_table_kv(nt, "eos_table", "%s", tab);
            }
            free(reach_step), free(late), free(mx), free(fin), free(late_all), free(resid_last);
        }
        free(lam0), free(lamneg);
    }
    if (t && gd_table_close(t) != 0) status = 1;
    if (nt && gd_table_close(nt) != 0) status = 1;
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    free(w), free(g), free(v), free(buf), free(w0s), free(v0s), free(idx);
    free(p.X), free(p.y), free(p.T), free(p.z), free(p.a), free(p.da), free(p.out), free(p.dout), free(p.wtmp),
        free(p.gtmp);
    if (have_images) gd_images_free(&train), gd_images_free(&test);
    return status;
}

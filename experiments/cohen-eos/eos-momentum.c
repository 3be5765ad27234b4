/* eos-momentum.c -- the sharpness along full-batch gradient descent WITH MOMENTUM
 * (heavy ball or Nesterov, as torch.optim.SGD performs them): the momentum half of
 * experiments/cohen-eos (Cohen et al. 2021, "Gradient Descent on Neural Networks
 * Typically Occurs at the Edge of Stability", ICLR 2021, arXiv:2103.00065).
 *
 * Plain full-batch GD is Chapter 3's program (chapters/03-choosing/sharpness.c,
 * --experiment eos); this one adds what it lacks, the momentum buffer, and writes the
 * same table (lr seed step loss sharpness resid), so that exp-eos-summary reads both.
 * The model, the loss, the initialisation and the sharpness measurement are
 * sharpness.c's, repeated here so that a run of this program with seed s starts from the
 * same weights as ch03-sharpness's run with seed s:
 *   model      one tanh hidden layer, N images of Fashion-MNIST as one full batch,
 *              784 -> H -> 10; loss xent (softmax cross-entropy) or mse (squared error
 *              against one-hot targets, mean over N x 10 as torch.nn.MSELoss)
 *   sharpness  lambda_max of the Hessian of the full-batch loss, by power iteration on
 *              Hv ~ (g(w + eps v) - g(w - eps v)) / (2 eps), |v| = 1, each measurement
 *              started from the previous eigenvector; if it lands on a negative
 *              eigenvalue mu, again on H - mu I (sharpness.c's guard)
 * The updates (torch.optim.SGD, dampening 0; b is the momentum buffer, b_0 = g_0):
 *   heavy ball  b <- beta b + g,  w <- w - lr b
 *   Nesterov    b <- beta b + g,  w <- w - lr (g + beta b)
 * On a quadratic with curvature lambda, heavy ball is stable iff lr lambda < 2(1+beta)
 * and Nesterov iff lr lambda < (2+2 beta)/(1+2 beta) (Chapter 3, 3.4 derives the first;
 * the second from the same characteristic polynomial, z^2 - (1+beta)(1-a) z + beta(1-a)
 * with a = lr lambda, which has the root z = -1 at a = (2+2 beta)/(1+2 beta)).
 * Leaves out: minibatches, other eigenvalues (Lanczos), dampening.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* N images, D inputs, H hidden units, K classes, P parameters. */
typedef struct {
    int N, D, H, K;
    size_t P;
    int mse;            /* 1: mean squared error against one-hot targets; 0: cross-entropy */
    float *X;           /* (N, D) */
    int *y;             /* (N) */
    float *T;           /* (N, K) one-hot targets */
    float *z, *a, *da;  /* (N, H) pre-activation, tanh output, its gradient */
    float *out, *dout;  /* (N, K) outputs and their gradient */
    float *pr;          /* (N, K) softmax probabilities */
    float *wtmp, *gtmp; /* (P) scratch for the HVPs */
} problem;

/* Parameter layout in w (P): W1 (H, D), b1 (H), W2 (K, H), b2 (K), as sharpness.c. The
 * loss; with g, also its gradient. */
static double loss_grad(problem *p, const float *w, float *g) {
    int N = p->N, D = p->D, H = p->H, K = p->K;
    const float *W2 = w + (size_t)H * D + H, *b2 = W2 + (size_t)K * H;
    gd_linear_forward(p->z, p->X, w, w + (size_t)H * D, N, D, H);         /* z = X W1^T + b1 */
    gd_tanh_forward(p->a, p->z, N * H);                                   /* a = tanh(z) */
    gd_linear_forward(p->out, p->a, W2, b2, N, H, K);                     /* out = a W2^T + b2 */
    double loss;
    gd_fill(p->dout, 0, (size_t)N * K);
    if (p->mse) {
        loss = gd_mse_forward(p->out, p->T, N * K);
        gd_mse_backward(p->dout, p->out, p->T, N * K);
    } else {
        loss = gd_xent_forward(p->pr, p->out, p->y, N, K);
        gd_xent_backward(p->dout, p->pr, p->y, N, K);
    }
    if (!g) return loss;
    gd_fill(g, 0, p->P);
    float *gW2 = g + (size_t)H * D + H;
    gd_linear_backward(NULL, gW2, gW2 + (size_t)K * H, p->dout, p->a, W2, N, H, K);
    gd_fill(p->da, 0, (size_t)N * H);
    gd_matmul(p->da, p->dout, W2, N, H, K, 0, 0, 1.0f, 0.0f);            /* da = dout W2 */
    gd_fill(p->z, 0, (size_t)N * H);                                      /* reused as dz */
    gd_tanh_backward(p->z, p->da, p->a, N * H);                           /* dz = da (1 - a^2) */
    gd_linear_backward(NULL, g, g + (size_t)H * D, p->z, p->X, w, N, D, H);
    return loss;
}

/* Hv ~ (g(w + eps v) - g(w - eps v)) / (2 eps), for |v| = 1 */
static void hvp(problem *p, float *Hv, const float *w, const float *v, double eps) {
    for (size_t i = 0; i < p->P; i++) p->wtmp[i] = w[i] + (float)eps * v[i];
    loss_grad(p, p->wtmp, Hv);
    for (size_t i = 0; i < p->P; i++) p->wtmp[i] = w[i] - (float)eps * v[i];
    loss_grad(p, p->wtmp, p->gtmp);
    for (size_t i = 0; i < p->P; i++) Hv[i] = (float)((Hv[i] - p->gtmp[i]) / (2 * eps));
}

/* Power iteration on H - shift I from the unit v (updated): the Rayleigh quotient;
 * *resid = |Hv - lambda v| / |lambda| at the last iteration. */
static double power_iter(problem *p, const float *w, float *v, int iters, double eps, double shift,
                         double *resid) {
    float *Hv = malloc(p->P * sizeof *Hv);
    double lambda = 0;
    for (int it = 0; it < iters; it++) {
        hvp(p, Hv, w, v, eps);
        for (size_t i = 0; i < p->P; i++) Hv[i] -= (float)shift * v[i];
        lambda = gd_dot(v, Hv, p->P);
        double norm = gd_norm2(Hv, p->P), r = 0;
        for (size_t i = 0; i < p->P; i++) r += (Hv[i] - lambda * v[i]) * (Hv[i] - lambda * v[i]);
        *resid = sqrt(r) / fabs(lambda);
        for (size_t i = 0; i < p->P; i++) v[i] = (float)(Hv[i] / norm);
    }
    free(Hv);
    return lambda;
}

/* lambda_max; a negative eigenvalue found first is shifted away (*neg counts it). */
static double lambda_max(problem *p, const float *w, float *v, int iters, double eps, double *resid, int *neg) {
    double lambda = power_iter(p, w, v, iters, eps, 0, resid);
    if (lambda < 0) {
        double mu = lambda;
        (*neg)++;
        for (size_t i = 0; i < p->P; i++) v[i] = (float)(1 / sqrt((double)p->P)) * (i % 2 ? 1 : -1);
        lambda = power_iter(p, w, v, 2 * iters, eps, mu, resid) + mu;
    }
    return lambda;
}

/* nn.Linear's initialisation, then a random unit vector: sharpness.c's order of draws. */
static void init_run(problem *p, float *w, float *v, uint64_t seed) {
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    int D = p->D, H = p->H, K = p->K;
    float s = 1.0f / sqrtf((float)D), t = 1.0f / sqrtf((float)H);
    gd_rng_fill_uniform(&rng, w, (size_t)H * D + H, -s, s);
    gd_rng_fill_uniform(&rng, w + (size_t)H * D + H, (size_t)K * H + K, -t, t);
    gd_rng_fill_normal(&rng, v, p->P, 0, 1);
    double n = gd_norm2(v, p->P);
    for (size_t i = 0; i < p->P; i++) v[i] = (float)(v[i] / n);
}

int main(int argc, char **argv) {
    const char *loss_arg = "xent", *out = NULL;
    long n = 1000, hidden = 64, steps = 1000, iters = 10, every = 20, nesterov = 0;
    double eps = 1e-2, beta = 0.9;
    gd_floats lrs = {1, {0.1}};
    gd_train_opts to = gd_train_opts_defaults();
    gd_opt opts[] = {
        GD_OPT_STRING("loss", &loss_arg, "xent (softmax cross-entropy) or mse (squared error, one-hot targets)"),
        GD_OPT_INT("n", &n, "full batch: the first N training images", 10, 60000),
        GD_OPT_INT("hidden", &hidden, "tanh hidden units", 1, 4096),
        GD_OPT_INT("steps", &steps, "full-batch steps", 1, 1000000),
        GD_OPT_FLOATS("lr", &lrs, "the learning rates, one run per lr and seed", 0, 1e6, 1),
        GD_OPT_FLOAT("momentum", &beta, "momentum beta as torch.optim.SGD's (0: plain GD)", 0, 0.999, 0),
        GD_OPT_INT("nesterov", &nesterov, "1: Nesterov's form (torch.optim.SGD nesterov=True), 0: heavy ball", 0, 1),
        GD_OPT_INT("iters", &iters, "power iterations per sharpness", 1, 10000),
        GD_OPT_INT("every", &every, "steps between sharpness measurements", 1, 1000000),
        GD_OPT_FLOAT("eps", &eps, "finite-difference step of the HVP", 0, 1, 1),
        GD_TRAIN_OPTS_SEEDS(&to),
        GD_OPT_STRING("data", &to.data, "directory of the Fashion-MNIST files"),
        GD_OPT_OUT("out", &out, "write the runs here (lr seed step loss sharpness resid)"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Full-batch gradient descent with heavy-ball or Nesterov momentum on a tanh MLP, "
                          "measuring the sharpness (largest Hessian eigenvalue) along the way "
                          "(experiments/cohen-eos).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (strcmp(loss_arg, "xent") != 0 && strcmp(loss_arg, "mse") != 0) {
        gd_usage_error("--loss: must be xent or mse, got '%.60s'", loss_arg);
        return 2;
    }
    if (nesterov && beta == 0) {
        fprintf(stderr, "%s: --nesterov: needs --momentum above 0\n", gd_prog());
        return 2;
    }
    gd_images train = {0}, test = {0};
    if (gd_train_opts_load(&to, &train, &test) != 0) return 2;
    if (gd_images_require(&train, n, "the training set", "--n") != 0) {   /* the full batch: the first n images */
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), gd_fmnist_dir(to.data), gd_error());
        gd_images_free(&train), gd_images_free(&test);
        return 2;
    }
    gd_blas_threads(1);
    problem p = {0};
    p.K = GD_FMNIST_CLASSES;
    p.N = (int)n, p.D = train.dim, p.H = (int)hidden;
    p.mse = strcmp(loss_arg, "mse") == 0;
    p.P = (size_t)p.H * p.D + p.H + (size_t)p.K * p.H + p.K;
    int N = p.N, K = p.K, H = p.H;
    size_t P = p.P;
    int *idx = malloc((size_t)N * sizeof *idx);
    for (int i = 0; i < N; i++) idx[i] = i;
    p.X = malloc((size_t)N * p.D * sizeof *p.X);
    p.y = malloc((size_t)N * sizeof *p.y);
    p.T = calloc((size_t)N * K, sizeof *p.T);
    gd_images_batch(p.X, p.y, &train, idx, N);
    for (int i = 0; i < N; i++) p.T[(size_t)i * K + p.y[i]] = 1;
    p.z = malloc((size_t)N * H * sizeof(float));
    p.a = malloc((size_t)N * H * sizeof(float));
    p.da = malloc((size_t)N * H * sizeof(float));
    p.out = malloc((size_t)N * K * sizeof(float));
    p.dout = malloc((size_t)N * K * sizeof(float));
    p.pr = malloc((size_t)N * K * sizeof(float));
    p.wtmp = malloc(P * sizeof(float));
    p.gtmp = malloc(P * sizeof(float));
    float *w = malloc(P * sizeof *w), *g = malloc(P * sizeof *g), *v = malloc(P * sizeof *v),
          *buf = malloc(P * sizeof *buf);
    double limit = beta == 0 ? 2 : nesterov ? (2 + 2 * beta) / (1 + 2 * beta) : 2 * (1 + beta);
    const char *method = beta == 0 ? "plain GD" : nesterov ? "Nesterov" : "heavy ball";

    gd_table *t = NULL;
    int status = 0, nneg = 0;
    if (out && !(t = gd_table_open(out, "lr seed step loss sharpness resid"))) status = 1;
    if (t) {
        gd_table_provenance(t);
        gd_table_meta(t, "program", "exp-eos-momentum");
        gd_table_meta(t, "model", "MLP 784-%d-10, tanh, %s loss, full batch of the first %d training images, %zu "
                      "parameters", H, p.mse ? "squared-error" : "cross-entropy", N, P);
        gd_table_meta(t, "update", "%s, momentum %g (torch.optim.SGD%s): stable on a quadratic iff lr lambda < %.6g",
                      method, beta, nesterov ? ", nesterov=True" : "", limit);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)to.seed,
                      (unsigned long long)(to.seed + to.seeds - 1));
        gd_table_meta(t, "columns", "one block per lr and seed (lr outer); sharpness: lambda_max by %ld power iterations "
                      "(warm-started; %ld at step 0), every %ld steps, nan in between; resid: |Hv - lambda v| / lambda "
                      "at the last iteration", iters, 2 * iters, every);
    }
    for (int l = 0; l < lrs.n && !status; l++) {
        double eta = lrs.v[l];
        for (long k = 0; k < to.seeds; k++) {
            uint64_t seed = to.seed + (uint64_t)k;
            init_run(&p, w, v, seed);
            double lam = NAN, loss = NAN, resid = 0;
            for (long s = 0; s <= steps; s++) {
                loss = loss_grad(&p, w, g);
                if (!isfinite(loss)) break;
                double sh = NAN, rs = NAN;
                if (s % every == 0) {
                    sh = lam = lambda_max(&p, w, v, (int)(s == 0 ? 2 * iters : iters), eps, &resid, &nneg);
                    rs = resid;
                }
                if (t) gd_table_row(t, "%g %llu %ld %.6g %.6g %.3g", eta, (unsigned long long)seed, s, loss, sh, rs);
                if (s == steps) break;
                // region momentum
                for (size_t i = 0; i < P; i++) buf[i] = s == 0 ? g[i] : (float)beta * buf[i] + g[i]; /* b = beta b + g */
                if (nesterov)
                    for (size_t i = 0; i < P; i++) w[i] -= (float)eta * (g[i] + (float)beta * buf[i]); /* w -= lr (g + beta b) */
                else
                    gd_axpy(w, (float)-eta, buf, P);                                                 /* w -= lr b */
                // endregion momentum
            }
            if (t) gd_table_block(t);
            printf("%s lr %g seed %llu: last sharpness %.4g, limit %.4g / lr = %.4g, last loss %.4g\n", method, eta,
                   (unsigned long long)seed, lam, limit, limit / eta, loss);
        }
    }
    if (nneg) printf("power iteration found a negative eigenvalue first %d times\n", nneg);
    if (t && gd_table_close(t) != 0) status = 1;
    if (status) fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    free(w), free(g), free(v), free(buf), free(idx);
    free(p.X), free(p.y), free(p.T), free(p.z), free(p.a), free(p.da), free(p.out), free(p.dout), free(p.pr),
        free(p.wtmp), free(p.gtmp);
    gd_images_free(&train), gd_images_free(&test);
    return status;
}

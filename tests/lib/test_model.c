/* test_model.c -- lib/model.h and lib/optim.h: the MLP against an independent double
 * precision forward, every parameter's gradient against finite differences of
 * gd_mlp_loss, PyTorch's naming and initialisation, and SGD against the theory of
 * gradient descent on a convex loss (descent lemma and the O(1/T) rate).
 *
 * Dimension letters: N batch, D inputs, H hidden, K classes.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "gradcheck.h"
#include "layers.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

/* ------------------------------------------------------------------------------- */
/* an independent forward pass in double, straight from the definition in model.h:
 * z_l = a_{l-1} W_l^T + b_l, a_l = act(z_l) except after the last layer, then the mean
 * cross-entropy by log-sum-exp. */
static double ref_loss(const gd_mlp *m, const float *X, const int *y, int N, double *logits_out) {
    int L = m->nlayers;
    int widest = 0;
    for (int l = 0; l <= L; l++) widest = m->dims[l] > widest ? m->dims[l] : widest;
    double *a = malloc(sizeof(double) * widest), *z = malloc(sizeof(double) * widest);
    double loss = 0.0;
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < m->dims[0]; i++) a[i] = X[n * m->dims[0] + i];
        for (int l = 0; l < L; l++) {
            int I = m->dims[l], O = m->dims[l + 1];
            const float *W = m->params[2 * l].value->data, *b = m->params[2 * l + 1].value->data;
            for (int o = 0; o < O; o++) {
                double acc = b[o];
                for (int i = 0; i < I; i++) acc += (double)W[o * I + i] * a[i];
                z[o] = acc;
            }
            for (int o = 0; o < O; o++) {
                if (l < L - 1) a[o] = m->act == GD_ACT_RELU ? fmax(z[o], 0.0) : tanh(z[o]);
                else a[o] = z[o];
            }
        }
        int K = m->dims[L];
        double zmax = a[0], s = 0.0;
        for (int k = 1; k < K; k++) zmax = fmax(zmax, a[k]);
        for (int k = 0; k < K; k++) s += exp(a[k] - zmax);
        loss += log(s) + zmax - a[y[n]];
        if (logits_out)
            for (int k = 0; k < K; k++) logits_out[n * K + k] = a[k];
    }
    free(a);
    free(z);
    return loss / N;
}

static void make_data(float *X, int *y, int N, int D, int K, uint64_t seed) {
    gd_rng r;
    gd_rng_seed(&r, seed);
    gd_rng_fill_normal(&r, X, (size_t)N * D, 0.0f, 1.0f);
    for (int n = 0; n < N; n++) y[n] = (int)gd_rng_below(&r, (uint64_t)K);
}

/* ------------------------------------------------------------------------------- */

typedef struct {
    gd_mlp *m;
    const float *X;
    const int *y;
    int N;
} mlp_ctx;

static double mlp_loss(void *p) {
    mlp_ctx *c = p;
    return gd_mlp_loss(c->m, c->X, c->y, c->N);
}

/* Sign pattern of every hidden pre-activation z of the double reference, (N, hidden). */
static int hidden_signs(const gd_mlp *m, const float *X, int N, signed char *sg) {
    int L = m->nlayers, cnt = 0, widest = 0;
    for (int l = 0; l <= L; l++) widest = m->dims[l] > widest ? m->dims[l] : widest;
    double *a = malloc(sizeof(double) * widest), *z = malloc(sizeof(double) * widest);
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < m->dims[0]; i++) a[i] = X[n * m->dims[0] + i];
        for (int l = 0; l < L - 1; l++) {
            int I = m->dims[l], O = m->dims[l + 1];
            const float *W = m->params[2 * l].value->data, *b = m->params[2 * l + 1].value->data;
            for (int o = 0; o < O; o++) {
                z[o] = b[o];
                for (int i = 0; i < I; i++) z[o] += (double)W[o * I + i] * a[i];
            }
            for (int o = 0; o < O; o++) {
                sg[cnt++] = (signed char)(z[o] > 0);
                a[o] = fmax(z[o], 0.0);
            }
        }
    }
    free(a);
    free(z);
    return cnt;
}

/* 1 if no single-parameter step of +-eps (as gd_gradcheck takes it) moves any hidden
 * ReLU pre-activation across 0, where the difference quotient would straddle the kink
 * and disagree with the one-sided derivative that backward rightly reports. */
static int no_kink_crossing(gd_mlp *m, const float *X, int N, float eps) {
    signed char base[4096], moved[4096];
    int cnt = hidden_signs(m, X, N, base);
    cr_assert(cnt <= 4096);
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].value->size; i++) {
            float *v = &m->params[p].value->data[i], saved = *v;
            for (int s = -1; s <= 1; s += 2) {
                *v = saved + (float)s * eps;
                hidden_signs(m, X, N, moved);
                *v = saved;
                if (memcmp(base, moved, (size_t)cnt) != 0) return 0;
            }
        }
    return 1;
}

/* Whole-network finite-difference check of every parameter.
 * eps = 1e-2: the loss is a double sum over float32 logits whose rounding (~1e-7
 * relative after a few layers of width <= 7) divided by 2 eps leaves ~1e-5 absolute
 * error; the curvature term eps^2/6 |f'''| is of the same order. tol = 1e-3 relative
 * with a floor of 1e-1 (gradients below 0.1 judged on 1e-4 absolute) is ten times
 * that, while a gradient wrong by a few percent fails.
 * For ReLU, data are drawn (data seed after data seed) until no eps step of any
 * parameter crosses a kink, which the double reference above checks exactly. */
static void check_mlp_grads(const int *dims, int nlayers, gd_act act, uint64_t seed) {
    enum { N = 6 };
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, nlayers, dims, act, 8, seed), 0, "%s", gd_error());
    int D = dims[0], K = dims[nlayers];
    float *X = malloc(sizeof(float) * N * D);
    int y[N];
    uint64_t data_seed = seed + 100;
    make_data(X, y, N, D, K, data_seed);
    if (act == GD_ACT_RELU && nlayers > 1) {
        int tries = 0;
        while (!no_kink_crossing(&m, X, N, 1e-2f) && ++tries < 1000)
            make_data(X, y, N, D, K, ++data_seed);
        cr_assert(tries < 1000, "no data set without a kink crossing in 1000 tries");
    }

    double ref = ref_loss(&m, X, y, N, NULL);
    gd_mlp_zero_grad(&m);
    double loss = gd_mlp_loss(&m, X, y, N);
    /* float32 forward vs double: ~1e-6 relative (see above); allow 1e-5 */
    cr_assert(fabs(loss - ref) <= 1e-5 * (1.0 + fabs(ref)), "loss %.9g, double reference %.9g", loss, ref);
    gd_mlp_backward(&m, y, N);

    mlp_ctx c = {&m, X, y, N};
    for (int p = 0; p < m.nparams; p++) {
        double e = gd_gradcheck(mlp_loss, &c, m.params[p].value->data, m.params[p].grad->data,
                                m.params[p].value->size, 1e-2f, 1e-1);
        cr_assert(e < 1e-3, "%s %s: rel err %g (data seed %llu)", act == GD_ACT_RELU ? "relu" : "tanh",
                  m.params[p].name, e, (unsigned long long)data_seed);
    }
    free(X);
    gd_mlp_free(&m);
}

Test(lib_model, gradcheck_relu_5_7_6_3) {
    const int dims[4] = {5, 7, 6, 3};
    check_mlp_grads(dims, 3, GD_ACT_RELU, 4);
}

Test(lib_model, gradcheck_tanh_5_7_6_3) {
    const int dims[4] = {5, 7, 6, 3};
    check_mlp_grads(dims, 3, GD_ACT_TANH, 2);
}

Test(lib_model, gradcheck_logistic_regression_4_3) {
    const int dims[2] = {4, 3};
    check_mlp_grads(dims, 1, GD_ACT_RELU, 3);
}

Test(lib_model, logistic_regression_grad_closed_form) {
    /* dims {4, 3}: logits = X W^T + b, so dL/dW = (P - Y)^T X / N and dL/db = mean(P - Y)
     * with P the softmax of the double-precision logits. Float32 vs double: 1e-5. */
    enum { N = 5, D = 4, K = 3 };
    const int dims[2] = {D, K};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 1, dims, GD_ACT_TANH, N, 9), 0);
    float X[N * D];
    int y[N];
    make_data(X, y, N, D, K, 10);
    double Z[N * K];
    ref_loss(&m, X, y, N, Z);
    const float *logits = gd_mlp_forward(&m, X, N);
    for (int i = 0; i < N * K; i++)
        cr_assert(fabs(logits[i] - Z[i]) <= 1e-5 * (1 + fabs(Z[i])), "logit %d: %g vs %g", i, logits[i], Z[i]);
    gd_mlp_zero_grad(&m);
    gd_mlp_loss(&m, X, y, N);
    gd_mlp_backward(&m, y, N);
    double dW[K * D] = {0}, db[K] = {0};
    for (int n = 0; n < N; n++) {
        double zmax = fmax(fmax(Z[n * K], Z[n * K + 1]), Z[n * K + 2]), s = 0;
        for (int k = 0; k < K; k++) s += exp(Z[n * K + k] - zmax);
        for (int k = 0; k < K; k++) {
            double g = (exp(Z[n * K + k] - zmax) / s - (k == y[n])) / N;
            db[k] += g;
            for (int d = 0; d < D; d++) dW[k * D + d] += g * X[n * D + d];
        }
    }
    for (int i = 0; i < K * D; i++)
        cr_assert(fabs(m.params[0].grad->data[i] - dW[i]) <= 1e-5, "dW[%d] %g vs %g", i,
                  m.params[0].grad->data[i], dW[i]);
    for (int k = 0; k < K; k++)
        cr_assert(fabs(m.params[1].grad->data[k] - db[k]) <= 1e-5, "db[%d] %g vs %g", k,
                  m.params[1].grad->data[k], db[k]);
    gd_mlp_free(&m);
}

Test(lib_model, forward_matches_double_reference_below_max_batch) {
    /* N = 3 rows in a model built for 16; relu and tanh; 1e-5 as above. */
    const int dims[4] = {5, 7, 6, 3};
    for (int a = 0; a < 2; a++) {
        gd_mlp m;
        cr_assert_eq(gd_mlp_init(&m, 3, dims, a ? GD_ACT_TANH : GD_ACT_RELU, 16, 77), 0);
        float X[3 * 5], Xcopy[3 * 5];
        int y[3];
        make_data(X, y, 3, 5, 3, 78);
        memcpy(Xcopy, X, sizeof X);
        double Z[9];
        ref_loss(&m, X, y, 3, Z);
        const float *logits = gd_mlp_forward(&m, X, 3);
        for (int i = 0; i < 9; i++)
            cr_assert(fabs(logits[i] - Z[i]) <= 1e-5 * (1 + fabs(Z[i])), "act %d logit %d: %.9g vs %.9g",
                      a, i, logits[i], Z[i]);
        cr_assert_arr_eq(X, Xcopy, sizeof X, "the forward modified its input");
        gd_mlp_free(&m);
    }
}

Test(lib_model, backward_accumulates_and_zero_grad_clears) {
    const int dims[3] = {4, 5, 3};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 2, dims, GD_ACT_TANH, 4, 5), 0);
    float X[4 * 4];
    int y[4];
    make_data(X, y, 4, 4, 3, 6);
    gd_mlp_zero_grad(&m);
    gd_mlp_loss(&m, X, y, 4);
    gd_mlp_backward(&m, y, 4);
    size_t total = gd_mlp_numel(&m);
    float *once = malloc(total * sizeof(float));
    size_t off = 0;
    for (int p = 0; p < m.nparams; p++) {
        memcpy(once + off, m.params[p].grad->data, m.params[p].grad->size * sizeof(float));
        off += m.params[p].grad->size;
    }
    /* a second identical backward without zero_grad must double every gradient. Not
     * bit for bit: the second pass adds its terms onto g inside sgemm (beta = 1) and
     * gd_sum_rows, which rounds differently from g + g; a few float roundings of
     * relative size 6e-8 each, so allow 1e-6 relative. Overwriting would leave g. */
    gd_mlp_loss(&m, X, y, 4);
    gd_mlp_backward(&m, y, 4);
    off = 0;
    for (int p = 0; p < m.nparams; p++)
        for (size_t i = 0; i < m.params[p].grad->size; i++, off++)
            cr_assert(fabs(m.params[p].grad->data[i] - 2.0 * once[off]) <= 1e-6 * (1e-3 + fabs(once[off])),
                      "%s[%zu]: %g after two backwards, %g after one", m.params[p].name, i,
                      m.params[p].grad->data[i], once[off]);
    gd_mlp_zero_grad(&m);
    for (int p = 0; p < m.nparams; p++)
        for (size_t i = 0; i < m.params[p].grad->size; i++) cr_assert_eq(m.params[p].grad->data[i], 0.0f);
    free(once);
    gd_mlp_free(&m);
}

/* ------------------------------------------------------------------------------- */
/* structure: names, shapes, sizes, initialisation, argument checks */

Test(lib_model, names_shapes_and_numel) {
    const int dims[4] = {5, 7, 6, 3};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 3, dims, GD_ACT_RELU, 2, 1), 0);
    /* nn.Sequential(Linear, ReLU, Linear, ReLU, Linear): linear layers sit at 0, 2, 4 */
    const char *names[6] = {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"};
    const int rows[6] = {7, 7, 6, 6, 3, 3}, cols[6] = {5, 0, 7, 0, 6, 0};
    cr_assert_eq(m.nparams, 6);
    for (int p = 0; p < 6; p++) {
        cr_assert_str_eq(m.params[p].name, names[p]);
        const gd_tensor *v = m.params[p].value;
        cr_assert_eq(v->ndim, cols[p] ? 2 : 1, "%s ndim %d", names[p], v->ndim);
        cr_assert_eq(v->shape[0], rows[p], "%s shape[0] %d", names[p], v->shape[0]);
        if (cols[p]) cr_assert_eq(v->shape[1], cols[p], "%s shape[1] %d", names[p], v->shape[1]);
        cr_assert_eq(m.params[p].grad->size, v->size);
    }
    /* 7*5 + 7 + 6*7 + 6 + 3*6 + 3 = 35 + 7 + 42 + 6 + 18 + 3 = 111 */
    cr_assert_eq(gd_mlp_numel(&m), 111);
    gd_mlp_free(&m);

    const int lr_dims[2] = {4, 3};
    cr_assert_eq(gd_mlp_init(&m, 1, lr_dims, GD_ACT_RELU, 2, 1), 0);
    cr_assert_eq(m.nparams, 2);
    cr_assert_str_eq(m.params[0].name, "0.weight");
    cr_assert_str_eq(m.params[1].name, "0.bias");
    cr_assert_eq(gd_mlp_numel(&m), 15); /* 3*4 + 3 */
    gd_mlp_free(&m);
}

Test(lib_model, init_within_pytorch_bounds) {
    /* nn.Linear default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
     * All inside the bound (<=: the float rounding of lo + (hi-lo) u may land on it),
     * and the draws really spread over it: the largest |w| of each layer exceeds half
     * the bound (all n below half has probability 2^-n, n >= 18 here), the mean is
     * within 5 standard errors bound/sqrt(3n) of 0. */
    const int dims[4] = {5, 7, 6, 3};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 3, dims, GD_ACT_RELU, 1, 123), 0);
    for (int l = 0; l < 3; l++) {
        float bound = 1.0f / sqrtf((float)dims[l]);
        const gd_tensor *W = m.params[2 * l].value, *b = m.params[2 * l + 1].value;
        float maxabs = 0;
        double mean = 0;
        for (size_t i = 0; i < W->size; i++) {
            cr_assert(fabsf(W->data[i]) <= bound, "layer %d weight %g outside +-%g", l, W->data[i], bound);
            maxabs = fmaxf(maxabs, fabsf(W->data[i]));
            mean += W->data[i];
        }
        mean /= (double)W->size;
        cr_assert(maxabs > 0.5f * bound, "layer %d weights all within half the bound", l);
        cr_assert(fabs(mean) < 5 * bound / sqrt(3.0 * W->size), "layer %d mean %g", l, mean);
        for (size_t i = 0; i < b->size; i++)
            cr_assert(fabsf(b->data[i]) <= bound, "layer %d bias %g outside +-%g", l, b->data[i], bound);
    }
    gd_mlp_free(&m);
}

Test(lib_model, init_deterministic_per_seed) {
    const int dims[3] = {6, 4, 2};
    gd_mlp a, b, c;
    cr_assert_eq(gd_mlp_init(&a, 2, dims, GD_ACT_TANH, 3, 42), 0);
    cr_assert_eq(gd_mlp_init(&b, 2, dims, GD_ACT_RELU, 9, 42), 0);
    cr_assert_eq(gd_mlp_init(&c, 2, dims, GD_ACT_TANH, 3, 43), 0);
    int differ = 0;
    for (int p = 0; p < a.nparams; p++) {
        size_t bytes = a.params[p].value->size * sizeof(float);
        cr_assert_arr_eq(a.params[p].value->data, b.params[p].value->data, bytes,
                         "%s differs for the same seed", a.params[p].name);
        differ += memcmp(a.params[p].value->data, c.params[p].value->data, bytes) != 0;
    }
    cr_assert_eq(differ, a.nparams, "seeds 42 and 43 share %d parameter tensors", a.nparams - differ);
    gd_mlp_free(&a);
    gd_mlp_free(&b);
    gd_mlp_free(&c);
}

static void expect_init_fails(int nlayers, const int *dims, int max_batch) {
    gd_mlp m;
    gd_seterr("%s", "");
    cr_assert_eq(gd_mlp_init(&m, nlayers, dims, GD_ACT_RELU, max_batch, 1), -1,
                 "accepted nlayers %d max_batch %d", nlayers, max_batch);
    cr_assert(strlen(gd_error()) > 0, "no reason given");
    gd_mlp_free(&m); /* must be safe after a failed init */
}

Test(lib_model, bad_arguments_rejected) {
    const int ok[3] = {4, 5, 3}, zero[3] = {4, 0, 3}, neg[3] = {4, 5, -2}, neg_in[2] = {-1, 3};
    expect_init_fails(0, ok, 4);
    expect_init_fails(-1, ok, 4);
    expect_init_fails(2, zero, 4);
    expect_init_fails(2, neg, 4);
    expect_init_fails(1, neg_in, 4);
    expect_init_fails(2, ok, 0);
    expect_init_fails(2, ok, -5);
}

/* ------------------------------------------------------------------------------- */
/* SGD */

Test(lib_model, sgd_step_is_w_minus_lr_g) {
    int ws[2] = {3, 4}, bs[1] = {3};
    gd_param p[2];
    cr_assert_eq(gd_param_init(&p[0], "w", 2, ws), 0);
    cr_assert_eq(gd_param_init(&p[1], "b", 1, bs), 0);
    gd_rng r;
    gd_rng_seed(&r, 5);
    float before[2][12];
    for (int k = 0; k < 2; k++) {
        gd_rng_fill_normal(&r, p[k].value->data, p[k].value->size, 0, 1);
        gd_rng_fill_normal(&r, p[k].grad->data, p[k].grad->size, 0, 1);
        memcpy(before[k], p[k].value->data, p[k].value->size * sizeof(float));
    }
    const float lr = 0.1f;
    gd_sgd_step(p, 2, lr);
    /* w = w - lr*g, one float multiply and one float subtract: bit for bit */
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < p[k].value->size; i++) {
            volatile float step = lr * p[k].grad->data[i];
            float want = before[k][i] - step;
            cr_assert_eq(p[k].value->data[i], want, "param %d [%zu]: %.9g, want %.9g", k, i,
                         p[k].value->data[i], want);
            before[k][i] = want;
        }
    /* nparams = 1 leaves the second alone; lr = 0 changes nothing */
    gd_sgd_step(p, 1, 0.0f);
    gd_sgd_step(p + 1, 0, 1.0f);
    for (int k = 0; k < 2; k++)
        cr_assert_arr_eq(p[k].value->data, before[k], p[k].value->size * sizeof(float));
    gd_sgd_step(p, 1, 1.0f);
    cr_assert_arr_eq(p[1].value->data, before[1], 3 * sizeof(float), "nparams = 1 updated param 1");
    gd_param_free(&p[0]);
    gd_param_free(&p[1]);
}

/* Three well separated Gaussian blobs in D = 4: class k around 3 e_k, std 0.3. */
enum { SEP_N = 30, SEP_D = 4, SEP_K = 3 };
static void separable_data(float *X, int *y) {
    gd_rng r;
    gd_rng_seed(&r, 2024);
    for (int n = 0; n < SEP_N; n++) {
        y[n] = n % SEP_K;
        for (int d = 0; d < SEP_D; d++)
            X[n * SEP_D + d] = (float)((d == y[n] ? 3.0 : 0.0) + 0.3 * gd_rng_normal(&r));
    }
}

static double grad_norm2_sq(const gd_mlp *m) {
    double s = 0;
    for (int p = 0; p < m->nparams; p++)
        for (size_t i = 0; i < m->params[p].grad->size; i++)
            s += (double)m->params[p].grad->data[i] * m->params[p].grad->data[i];
    return s;
}

/* Smoothness of mean softmax cross-entropy in (W, b) for a linear model: its Hessian
 * is mean_n (diag(p) - p p^T) (x) x~ x~^T with x~ = (x, 1), and diag(p) - p p^T <= 1/2 I
 * (Boehning 1992), so L <= 1/2 lambda_max(mean x~ x~^T) <= 1/2 mean |x~|^2. */
static double smoothness_bound(const float *X) {
    double s = 0;
    for (int n = 0; n < SEP_N; n++) {
        double q = 1.0;
        for (int d = 0; d < SEP_D; d++) q += (double)X[n * SEP_D + d] * X[n * SEP_D + d];
        s += q;
    }
    return 0.5 * s / SEP_N;
}

Test(lib_model, sgd_descent_lemma_on_softmax_regression) {
    /* Full-batch gradient descent with lr = 1/L on an L-smooth loss decreases it every
     * step by at least lr/2 |g|^2 (the descent lemma). Slack 1e-6 for float32. */
    float X[SEP_N * SEP_D];
    int y[SEP_N];
    separable_data(X, y);
    const int dims[2] = {SEP_D, SEP_K};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 1, dims, GD_ACT_RELU, SEP_N, 8), 0);
    float lr = (float)(1.0 / smoothness_bound(X));
    double loss = gd_mlp_loss(&m, X, y, SEP_N), first = loss;
    for (int t = 0; t < 20; t++) {
        gd_mlp_zero_grad(&m);
        gd_mlp_backward(&m, y, SEP_N);
        double g2 = grad_norm2_sq(&m);
        gd_sgd_step(m.params, m.nparams, lr);
        double next = gd_mlp_loss(&m, X, y, SEP_N);
        cr_assert(next <= loss - 0.5 * lr * g2 + 1e-6, "step %d: loss %.9g -> %.9g, descent lemma wants <= %.9g",
                  t, loss, next, loss - 0.5 * lr * g2);
        loss = next;
    }
    cr_assert(loss < first, "20 steps did not reduce the loss (%g -> %g)", first, loss);
    gd_mlp_free(&m);
}

Test(lib_model, sgd_reaches_the_convex_rate_and_separates) {
    /* For convex L-smooth f and lr = 1/L, for ANY comparator u:
     *     f(w_T) <= f(u) + L |w_0 - u|^2 / (2T)      (e.g. Bubeck 2015, Thm 3.3)
     * Comparator: the nearest-centre classifier scaled by s, W_k = s c_k, b_k = -s|c_k|^2/2
     * (c_k = 3 e_k), whose loss we compute in double; the best s on a grid is used.
     * If the bound drops below log(2)/N, every example has -log p_y < log 2, so p_y > 1/2
     * and all N are classified correctly. Slack 1e-4 for float32 over T steps. */
    float X[SEP_N * SEP_D];
    int y[SEP_N];
    separable_data(X, y);
    const int dims[2] = {SEP_D, SEP_K};
    gd_mlp m;
    cr_assert_eq(gd_mlp_init(&m, 1, dims, GD_ACT_RELU, SEP_N, 9), 0);
    double L = smoothness_bound(X);
    float w0[SEP_K * SEP_D], b0[SEP_K];
    memcpy(w0, m.params[0].value->data, sizeof w0);
    memcpy(b0, m.params[1].value->data, sizeof b0);
    const int T = 10000;
    double best = INFINITY;
    for (double s = 0.25; s <= 4.0; s += 0.25) {
        double fu = 0, dist2 = 0;
        for (int n = 0; n < SEP_N; n++) {
            double z[SEP_K], zmax = -INFINITY, sum = 0;
            for (int k = 0; k < SEP_K; k++) {
                z[k] = s * (3.0 * X[n * SEP_D + k] - 4.5);
                zmax = fmax(zmax, z[k]);
            }
            for (int k = 0; k < SEP_K; k++) sum += exp(z[k] - zmax);
            fu += log(sum) + zmax - z[y[n]];
        }
        fu /= SEP_N;
        for (int k = 0; k < SEP_K; k++) {
            for (int d = 0; d < SEP_D; d++) {
                double u = d == k ? 3.0 * s : 0.0;
                dist2 += (w0[k * SEP_D + d] - u) * (w0[k * SEP_D + d] - u);
            }
            dist2 += (b0[k] + 4.5 * s) * (b0[k] + 4.5 * s);
        }
        best = fmin(best, fu + L * dist2 / (2.0 * T));
    }
    cr_assert(best < log(2.0) / SEP_N, "test design: the bound %g does not imply separation", best);
    float lr = (float)(1.0 / L);
    for (int t = 0; t < T; t++) {
        gd_mlp_zero_grad(&m);
        gd_mlp_loss(&m, X, y, SEP_N);
        gd_mlp_backward(&m, y, SEP_N);
        gd_sgd_step(m.params, m.nparams, lr);
    }
    double loss = gd_mlp_loss(&m, X, y, SEP_N);
    cr_assert(loss <= best + 1e-4, "after %d steps loss %g exceeds the convex-rate bound %g", T, loss, best);
    const float *logits = gd_mlp_forward(&m, X, SEP_N);
    cr_assert_eq(gd_count_correct(logits, y, SEP_N, SEP_K), SEP_N);
    gd_mlp_free(&m);
}

/* test_layers.c -- lib/layers.h: every backward against central finite differences of
 * its forward (lib/gradcheck.h), the += convention, NULL outputs, and forward values
 * against closed forms.
 *
 * Dimension letters: N batch, I inputs, O outputs, K classes, n elements.
 *
 * How the finite-difference check is judged. Each layer's output is folded into a
 * scalar L = sum(out * R) with a fixed random R ~ N(0, 1), so every output element
 * carries weight and dL/dout = R is what backward receives. The layers are float32:
 *   - eps = 1e-2. The loss difference L(x+eps) - L(x-eps) carries float rounding of
 *     about u |out| ~ 1e-7 (u = 2^-24) per changed output; divided by 2 eps that is
 *     ~1e-5 absolute. Truncation of the central difference is eps^2/6 |f'''| ~ 2e-5
 *     for tanh/softmax and exactly 0 for the linear, ReLU (away from its kink) and
 *     quadratic (MSE) layers. A smaller eps would grow the rounding term as 1/eps.
 *   - GC_TOL = 1e-3 on gd_gradcheck's relative error, with GC_FLOOR = 1e-1 so that
 *     gradients smaller than 0.1 are judged on an absolute error of 1e-4: both sit an
 *     order of magnitude above the ~1e-5 noise, yet a gradient that is wrong by 1% or
 *     more (a missing 1/N, a transposed index, a wrong sign) fails; the test
 *     gradcheck_detects_a_one_percent_error shows it.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "layers.h"
#include "rng.h"
#include "tensor.h"

#define GC_EPS 1e-2f
#define GC_TOL 1e-3
#define GC_FLOOR 1e-1

static double weighted_sum(const float *out, const float *R, int n) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) acc += (double)out[i] * R[i];
    return acc;
}

static float *randn(gd_rng *r, int n, float std) {
    float *x = malloc((size_t)n * sizeof *x);
    cr_assert_not_null(x);
    gd_rng_fill_normal(r, x, (size_t)n, 0.0f, std);
    return x;
}

static float *zeros(int n) {
    float *x = calloc((size_t)n, sizeof *x);
    cr_assert_not_null(x);
    return x;
}

/* ------------------------------------------------------------------------------- */
/* linear */

typedef struct {
    float *X, *W, *b, *R, *out; /* X (N, I), W (O, I), b (O), R and out (N, O) */
    int N, I, O;
} linear_ctx;

static double linear_loss(void *p) {
    linear_ctx *c = p;
    gd_linear_forward(c->out, c->X, c->W, c->b, c->N, c->I, c->O);
    return weighted_sum(c->out, c->R, c->N * c->O);
}

static linear_ctx linear_setup(int N, int I, int O, uint64_t seed) {
    gd_rng r;
    gd_rng_seed(&r, seed);
    linear_ctx c = {randn(&r, N * I, 1), randn(&r, O * I, 1), randn(&r, O, 1),
                    randn(&r, N * O, 1), zeros(N * O), N, I, O};
    return c;
}

static void linear_teardown(linear_ctx *c) {
    free(c->X), free(c->W), free(c->b), free(c->R), free(c->out);
}

static void check_linear_grads(int N, int I, int O, uint64_t seed) {
    linear_ctx c = linear_setup(N, I, O, seed);
    float *dX = zeros(N * I), *dW = zeros(O * I), *db = zeros(O);
    gd_linear_backward(dX, dW, db, c.R, c.X, c.W, N, I, O);
    double e;
    e = gd_gradcheck(linear_loss, &c, c.X, dX, (size_t)N * I, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "linear %dx%dx%d din: rel err %g", N, I, O, e);
    e = gd_gradcheck(linear_loss, &c, c.W, dW, (size_t)O * I, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "linear %dx%dx%d dw: rel err %g", N, I, O, e);
    e = gd_gradcheck(linear_loss, &c, c.b, db, (size_t)O, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "linear %dx%dx%d db: rel err %g", N, I, O, e);
    free(dX), free(dW), free(db);
    linear_teardown(&c);
}

Test(lib_layers, linear_gradcheck) {
    check_linear_grads(4, 5, 3, 11);
    check_linear_grads(7, 13, 6, 12);
    check_linear_grads(1, 1, 1, 13);
    check_linear_grads(5, 9, 19, 14); /* O = 19: db's column sums in blocks and a tail */
}

Test(lib_layers, gradcheck_detects_a_one_percent_error) {
    /* The negative control for the tolerances above: the right dw scaled by 1.01 must
     * fail. Its relative error is 0.01/2.01 = 5e-3 (or 1e-2 |g| / 0.1 under the floor). */
    linear_ctx c = linear_setup(4, 5, 3, 11);
    float *dW = zeros(15);
    gd_linear_backward(NULL, dW, NULL, c.R, c.X, c.W, 4, 5, 3);
    for (int i = 0; i < 15; i++) dW[i] *= 1.01f;
    double e = gd_gradcheck(linear_loss, &c, c.W, dW, 15, GC_EPS, GC_FLOOR);
    cr_assert(e > GC_TOL, "a 1%% wrong gradient passed (rel err %g)", e);
    free(dW);
    linear_teardown(&c);
}

Test(lib_layers, linear_forward_vs_double_reference) {
    /* out = X W^T + b; float error bound of a length-I dot plus the bias add:
     * (I + 2) FLT_EPSILON (sum_i |x w| + |b|). */
    enum { N = 6, I = 9, O = 5 };
    linear_ctx c = linear_setup(N, I, O, 21);
    for (int pass = 0; pass < 2; pass++) {
        const float *b = pass ? NULL : c.b; /* b may be NULL: no bias */
        gd_fill(c.out, NAN, N * O);         /* the forward writes, never reads, out */
        gd_linear_forward(c.out, c.X, c.W, b, N, I, O);
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++) {
                double ref = b ? b[o] : 0.0, mag = b ? fabs(b[o]) : 0.0;
                for (int i = 0; i < I; i++) {
                    ref += (double)c.X[n * I + i] * c.W[o * I + i];
                    mag += fabs((double)c.X[n * I + i] * c.W[o * I + i]);
                }
                double tol = (I + 2) * FLT_EPSILON * mag;
                cr_assert(fabs(c.out[n * O + o] - ref) <= tol, "bias=%d out[%d,%d] = %.9g, want %.9g",
                          !pass, n, o, c.out[n * O + o], ref);
            }
    }
    linear_teardown(&c);
}

Test(lib_layers, linear_backward_accumulates) {
    enum { N = 4, I = 5, O = 3 };
    linear_ctx c = linear_setup(N, I, O, 31);
    gd_rng r;
    gd_rng_seed(&r, 32);
    float *fX = zeros(N * I), *fW = zeros(O * I), *fb = zeros(O); /* from zero */
    float *G0X = randn(&r, N * I, 1), *G0W = randn(&r, O * I, 1), *G0b = randn(&r, O, 1);
    float *aX = malloc(sizeof(float) * N * I), *aW = malloc(sizeof(float) * O * I),
          *ab = malloc(sizeof(float) * O);
    memcpy(aX, G0X, sizeof(float) * N * I);
    memcpy(aW, G0W, sizeof(float) * O * I);
    memcpy(ab, G0b, sizeof(float) * O);
    gd_linear_backward(fX, fW, fb, c.R, c.X, c.W, N, I, O);
    gd_linear_backward(aX, aW, ab, c.R, c.X, c.W, N, I, O);
    /* sgemm with beta = 1 rounds alpha*AB + C once or a few times differently from
     * (AB) + C: allow 1e-5 relative, far below the O(1) gap an overwrite would leave. */
    struct { const float *got, *g0, *fresh; int n; const char *what; } cases[] = {
        {aX, G0X, fX, N * I, "din"}, {aW, G0W, fW, O * I, "dw"}, {ab, G0b, fb, O, "db"}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < cases[k].n; i++) {
            double want = (double)cases[k].g0[i] + cases[k].fresh[i];
            double tol = 1e-5 * (1.0 + fabs(cases[k].g0[i]) + fabs(cases[k].fresh[i]));
            cr_assert(fabs(cases[k].got[i] - want) <= tol, "%s[%d] = %g, want %g + %g",
                      cases[k].what, i, cases[k].got[i], cases[k].g0[i], cases[k].fresh[i]);
        }
    free(fX), free(fW), free(fb), free(G0X), free(G0W), free(G0b), free(aX), free(aW), free(ab);
    linear_teardown(&c);
}

Test(lib_layers, linear_backward_skips_null_outputs) {
    enum { N = 3, I = 4, O = 2 };
    linear_ctx c = linear_setup(N, I, O, 41);
    float *fX = zeros(N * I), *fW = zeros(O * I), *fb = zeros(O);
    gd_linear_backward(fX, fW, fb, c.R, c.X, c.W, N, I, O);
    /* every subset of outputs: the ones given must equal the full call bit for bit
     * (same kernel, same inputs), and NULL must not crash. */
    for (int mask = 0; mask < 8; mask++) {
        float *dX = (mask & 1) ? zeros(N * I) : NULL;
        float *dW = (mask & 2) ? zeros(O * I) : NULL;
        float *db = (mask & 4) ? zeros(O) : NULL;
        gd_linear_backward(dX, dW, db, c.R, c.X, c.W, N, I, O);
        if (dX) cr_assert_arr_eq(dX, fX, sizeof(float) * N * I, "mask %d: din differs", mask);
        if (dW) cr_assert_arr_eq(dW, fW, sizeof(float) * O * I, "mask %d: dw differs", mask);
        if (db) cr_assert_arr_eq(db, fb, sizeof(float) * O, "mask %d: db differs", mask);
        free(dX), free(dW), free(db);
    }
    free(fX), free(fW), free(fb);
    linear_teardown(&c);
}

/* ------------------------------------------------------------------------------- */
/* elementwise activations: relu and tanh */

typedef struct {
    float *in, *out, *R;
    int n;
    void (*forward)(float *, const float *, int);
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    c->forward(c->out, c->in, c->n);
    return weighted_sum(c->out, c->R, c->n);
}

static void check_activation(void (*fwd)(float *, const float *, int),
                             void (*bwd)(float *, const float *, const float *, int),
                             const char *name, int away_from_zero) {
    enum { n = 60 };
    gd_rng r;
    gd_rng_seed(&r, 51);
    float in[n], out[n], din[n] = {0};
    float *R = randn(&r, n, 1);
    gd_rng_fill_normal(&r, in, n, 0, 1.5f);
    /* ReLU has a kink at 0: keep inputs at least 0.1 = 10 eps away from it so that no
     * finite-difference step crosses it (half of them stay negative: dead units). */
    if (away_from_zero)
        for (int i = 0; i < n; i++)
            if (fabsf(in[i]) < 0.1f) in[i] = in[i] < 0 ? -0.1f - in[i] : 0.1f + in[i];
    act_ctx c = {in, out, R, n, fwd};
    fwd(out, in, n);
    bwd(din, R, out, n);
    double e = gd_gradcheck(act_loss, &c, in, din, n, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "%s: rel err %g", name, e);
    free(R);
}

Test(lib_layers, relu_gradcheck) { check_activation(gd_relu_forward, gd_relu_backward, "relu", 1); }
Test(lib_layers, tanh_gradcheck) { check_activation(gd_tanh_forward, gd_tanh_backward, "tanh", 0); }

Test(lib_layers, relu_forward_values_and_in_place) {
    /* 19 values: two blocks of 8 and a tail of 3, if the kernel works in blocks */
    enum { n = 19 };
    float x[n] = {-2, -0.0f, 0, 0.5f, 3, -1e-30f, 7, -7, 1e-30f, -0.5f, 2, 0, -1, 4, -4, 5, -5, 6, -6};
    float want[n], out[n], dout[n], din[n], wantd[n];
    for (int i = 0; i < n; i++) {
        want[i] = x[i] > 0 ? x[i] : 0.0f;
        dout[i] = (float)(i + 1);
        din[i] = 0.5f;                                   /* accumulated onto */
        wantd[i] = 0.5f + (x[i] > 0 ? dout[i] : 0.0f);   /* slope 1 where out > 0 */
    }
    gd_relu_forward(out, x, n);
    for (int i = 0; i < n; i++) cr_assert_eq(out[i], want[i], "relu(%g) = %g", x[i], out[i]);
    gd_relu_forward(x, x, n); /* in place is allowed */
    for (int i = 0; i < n; i++) cr_assert_eq(x[i], want[i], "in place: relu[%d] = %g", i, x[i]);
    /* backward from the in-place output */
    gd_relu_backward(din, dout, x, n);
    for (int i = 0; i < n; i++) cr_assert_eq(din[i], wantd[i], "din[%d] = %g, want %g", i, din[i], wantd[i]);
}

Test(lib_layers, tanh_forward_vs_libm_double) {
    /* glibc documents tanhf to within 2 ulp; allow 4 ulp of the result (4 FLT_EPSILON
     * relative) plus FLT_MIN near 0. Also the odd symmetry and saturation. */
    for (float x = -12.0f; x <= 12.0f; x += 0.37f) {
        float out;
        gd_tanh_forward(&out, &x, 1);
        double ref = tanh((double)x);
        cr_assert(fabs(out - ref) <= 4 * FLT_EPSILON * fabs(ref) + FLT_MIN, "tanh(%g) = %.9g, want %.9g",
                  x, out, ref);
        float mx = -x, mout;
        gd_tanh_forward(&mout, &mx, 1);
        cr_assert_eq(mout, -out, "tanh is not odd at %g", x);
    }
    float big[2] = {50, -50}, o[2];
    gd_tanh_forward(o, big, 2);
    cr_assert(o[0] == 1.0f && o[1] == -1.0f);
}

Test(lib_layers, activations_backward_accumulate) {
    /* din += ...: starting from G0 must give exactly G0 + (the result from zero), since
     * each element is one float add of the same term. */
    enum { n = 20 };
    gd_rng r;
    gd_rng_seed(&r, 61);
    float in[n], out[n], dout[n], G0[n], fresh[n], acc[n];
    gd_rng_fill_normal(&r, in, n, 0, 1);
    gd_rng_fill_normal(&r, dout, n, 0, 1);
    gd_rng_fill_normal(&r, G0, n, 0, 1);
    for (int k = 0; k < 2; k++) {
        if (k == 0) gd_relu_forward(out, in, n);
        else gd_tanh_forward(out, in, n);
        gd_fill(fresh, 0.0f, n);
        memcpy(acc, G0, sizeof acc);
        if (k == 0) {
            gd_relu_backward(fresh, dout, out, n);
            gd_relu_backward(acc, dout, out, n);
        } else {
            gd_tanh_backward(fresh, dout, out, n);
            gd_tanh_backward(acc, dout, out, n);
        }
        for (int i = 0; i < n; i++)
            cr_assert_eq(acc[i], G0[i] + fresh[i], "%s din[%d] = %g, want %g + %g",
                         k ? "tanh" : "relu", i, acc[i], G0[i], fresh[i]);
    }
}

/* ------------------------------------------------------------------------------- */
/* softmax + cross-entropy */

typedef struct {
    float *logits, *probs;
    int *y;
    int N, K;
} xent_ctx;

static double xent_loss(void *p) {
    xent_ctx *c = p;
    return gd_xent_forward(c->probs, c->logits, c->y, c->N, c->K);
}

Test(lib_layers, xent_gradcheck_wrt_logits) {
    int sizes[][2] = {{4, 5}, {1, 2}, {9, 10}};
    for (int s = 0; s < 3; s++) {
        int N = sizes[s][0], K = sizes[s][1];
        gd_rng r;
        gd_rng_seed(&r, 70 + s);
        float *logits = randn(&r, N * K, 2), *probs = zeros(N * K), *dz = zeros(N * K);
        int *y = malloc(sizeof(int) * N);
        for (int i = 0; i < N; i++) y[i] = (int)gd_rng_below(&r, (uint64_t)K);
        xent_ctx c = {logits, probs, y, N, K};
        gd_xent_forward(probs, logits, y, N, K);
        gd_xent_backward(dz, probs, y, N, K);
        double e = gd_gradcheck(xent_loss, &c, logits, dz, (size_t)N * K, GC_EPS, GC_FLOOR);
        cr_assert(e < GC_TOL, "xent N=%d K=%d: rel err %g", N, K, e);
        free(logits), free(probs), free(dz), free(y);
    }
}

Test(lib_layers, xent_uniform_logits_give_log_K) {
    /* softmax of K equal logits is 1/K each, so the loss is -log(1/K) = log K whatever
     * the common value (the max is subtracted first, so 300 must not overflow).
     * sum_k exp(0) = K exactly in double: tolerance 1e-12 covers the log's rounding. */
    const int Ks[3] = {2, 3, 10};
    const float cs[3] = {0.0f, -7.5f, 300.0f};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            int N = 3, K = Ks[a];
            float logits[30], probs[30];
            int y[3] = {0, K - 1, K / 2};
            gd_fill(logits, cs[b], (size_t)N * K);
            double loss = gd_xent_forward(probs, logits, y, N, K);
            cr_assert(fabs(loss - log((double)K)) <= 1e-12, "K=%d c=%g: loss %.17g, want log K = %.17g",
                      K, cs[b], loss, log((double)K));
            for (int i = 0; i < N * K; i++)
                cr_assert(fabs(probs[i] - 1.0 / K) <= FLT_EPSILON / K, "prob %g, want 1/%d", probs[i], K);
        }
}

Test(lib_layers, xent_huge_logit_gap_stays_finite) {
    /* Row 0: logits (1000, 0). -log softmax = log(1 + e^-1000) = 0 for y = 0 and
     * 1000 + log(1 + e^-1000) = 1000 for y = 1 (e^-1000 is far below double epsilon).
     * Row 2: (-3e38, 3e38), a gap of 6e38 > FLT_MAX: the loss is the gap (2 x the
     * float nearest 3e38), still finite in double. exp(1000) would overflow a double. */
    float logits[6] = {1000, 0, 1000, 0, -3e38f, 3e38f}, probs[6], dz[6] = {0};
    int y[3] = {0, 1, 0};
    double loss = gd_xent_forward(probs, logits, y, 3, 2);
    double want = (0.0 + 1000.0 + 2.0 * (double)3e38f) / 3.0;
    cr_assert(isfinite(loss), "loss = %g", loss);
    cr_assert(fabs(loss - want) <= 1e-12 * want, "loss %.17g, want %.17g", loss, want);
    double l0 = gd_xent_forward(probs, logits, y, 1, 2);
    cr_assert(l0 >= 0.0 && l0 <= 1e-300, "loss for the right class at a gap of 1000: %g", l0);
    int y1[1] = {1};
    double l1 = gd_xent_forward(probs, logits, y1, 1, 2);
    cr_assert(fabs(l1 - 1000.0) <= 1e-12, "loss for the wrong class: %.17g, want 1000", l1);
    gd_xent_forward(probs, logits, y, 3, 2);
    gd_xent_backward(dz, probs, y, 3, 2);
    for (int i = 0; i < 6; i++) {
        cr_assert(isfinite(probs[i]) && probs[i] >= 0 && probs[i] <= 1, "probs[%d] = %g", i, probs[i]);
        cr_assert(isfinite(dz[i]), "dlogits[%d] = %g", i, dz[i]);
    }
    cr_assert(probs[0] == 1.0f && probs[1] == 0.0f && probs[4] == 0.0f && probs[5] == 1.0f);
}

Test(lib_layers, softmax_rows_sum_to_one_and_match_double) {
    /* each p is one float rounding of the double softmax: |p - ref| <= u ref + tiny,
     * and a row of K of them sums to 1 within K FLT_EPSILON. */
    enum { N = 8, K = 7 };
    gd_rng r;
    gd_rng_seed(&r, 81);
    float *logits = randn(&r, N * K, 5), probs[N * K];
    int y[N] = {0};
    gd_xent_forward(probs, logits, y, N, K);
    for (int i = 0; i < N; i++) {
        double zmax = -INFINITY, Z = 0, sum = 0;
        for (int k = 0; k < K; k++) zmax = fmax(zmax, logits[i * K + k]);
        for (int k = 0; k < K; k++) Z += exp(logits[i * K + k] - zmax);
        for (int k = 0; k < K; k++) {
            double ref = exp(logits[i * K + k] - zmax) / Z;
            cr_assert(fabs(probs[i * K + k] - ref) <= FLT_EPSILON * ref + 1e-38,
                      "p[%d,%d] = %.9g, want %.9g", i, k, probs[i * K + k], ref);
            sum += probs[i * K + k];
        }
        cr_assert(fabs(sum - 1.0) <= K * FLT_EPSILON, "row %d sums to %.9g", i, sum);
    }
    free(logits);
}

Test(lib_layers, xent_closed_form_two_classes) {
    /* K = 2 is the logistic loss: -log sigmoid(z_y - z_other) = log(1 + e^-(z_y - z_o)).
     * Mean of two rows; double arithmetic on exact float inputs: 1e-12. */
    float logits[4] = {2.0f, -1.0f, 0.5f, 1.25f}, probs[4];
    int y[2] = {0, 0};
    double want = 0.5 * (log1p(exp(-3.0)) + log1p(exp(0.75)));
    double loss = gd_xent_forward(probs, logits, y, 2, 2);
    cr_assert(fabs(loss - want) <= 1e-12, "loss %.17g, want %.17g", loss, want);
}

Test(lib_layers, xent_backward_accumulates_closed_form) {
    /* dlogits += (p - onehot(y)) / N, starting from G0. For logits (0, 0), y = 0, N = 2:
     * p = (1/2, 1/2), so the increment is (-1/4, +1/4) (exact in float). */
    float logits[4] = {0, 0, 0, 0}, probs[4], dz[4] = {1, 2, 3, 4};
    int y[2] = {0, 1};
    gd_xent_forward(probs, logits, y, 2, 2);
    gd_xent_backward(dz, probs, y, 2, 2);
    const float want[4] = {0.75f, 2.25f, 3.25f, 3.75f};
    for (int i = 0; i < 4; i++) cr_assert_eq(dz[i], want[i], "dlogits[%d] = %g, want %g", i, dz[i], want[i]);
}

/* ------------------------------------------------------------------------------- */
/* mean squared error */

typedef struct {
    float *pred, *target;
    int n;
} mse_ctx;

static double mse_loss(void *p) {
    mse_ctx *c = p;
    return gd_mse_forward(c->pred, c->target, c->n);
}

Test(lib_layers, mse_gradcheck) {
    enum { n = 17 };
    gd_rng r;
    gd_rng_seed(&r, 91);
    float *pred = randn(&r, n, 1), *target = randn(&r, n, 1), *dp = zeros(n);
    gd_mse_backward(dp, pred, target, n);
    mse_ctx c = {pred, target, n};
    double e = gd_gradcheck(mse_loss, &c, pred, dp, n, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "mse: rel err %g", e);
    free(pred), free(target), free(dp);
}

Test(lib_layers, mse_closed_form_and_accumulate) {
    /* pred (1, 2, 3) vs target 0: mean of squares = 14/3; gradient 2 (p - t)/n =
     * (2/3, 4/3, 2), added onto (10, 10, 10). One float rounding each: FLT_EPSILON. */
    const float pred[3] = {1, 2, 3}, target[3] = {0, 0, 0};
    cr_assert(fabs(gd_mse_forward(pred, target, 3) - 14.0 / 3.0) <= 1e-15);
    float dp[3] = {10, 10, 10};
    gd_mse_backward(dp, pred, target, 3);
    const double want[3] = {10 + 2.0 / 3, 10 + 4.0 / 3, 12};
    for (int i = 0; i < 3; i++)
        cr_assert(fabs(dp[i] - want[i]) <= 2 * FLT_EPSILON * want[i], "dpred[%d] = %.9g, want %.9g", i,
                  dp[i], want[i]);
    cr_assert_eq(gd_mse_forward(pred, pred, 3), 0.0);
}

/* ------------------------------------------------------------------------------- */

Test(lib_layers, count_correct) {
    const float logits[12] = {
        0.1f, 0.7f, 0.2f, /* argmax 1 */
        3.0f, -1.f, 2.0f, /* argmax 0 */
        0.0f, 0.0f, 5.0f, /* argmax 2 */
        1.0f, 1.0f, 0.0f, /* tie: argmax is the first, 0 */
    };
    const int y_all[4] = {1, 0, 2, 0}, y_some[4] = {1, 2, 2, 1}, y_none[4] = {0, 1, 0, 2};
    cr_assert_eq(gd_count_correct(logits, y_all, 4, 3), 4);
    cr_assert_eq(gd_count_correct(logits, y_some, 4, 3), 2);
    cr_assert_eq(gd_count_correct(logits, y_none, 4, 3), 0);
    cr_assert_eq(gd_count_correct(logits, y_some, 1, 3), 1);
}

/* ===============================================================================
 * Transformer layers (suite lib_layers_tf): each backward against finite differences
 * of its forward, with the same L = sum(out * R), eps, floor and tolerance as above;
 * the += convention; NULL outputs; the fast attention against its naive twin.
 * Dimension letters: B batch, T positions, C width, NH heads (hs = C / NH), V vocabulary.
 * Against PyTorch: tests/lib/test_gpt.c. */

/* encoder */
typedef struct {
    int *tokens;
    float *wte, *wpe, *R, *out;
    int B, T, C;
} enc_ctx;

static double enc_loss(void *p) {
    enc_ctx *c = p;
    gd_encoder_forward(c->out, c->tokens, c->wte, c->wpe, c->B, c->T, c->C);
    return weighted_sum(c->out, c->R, c->B * c->T * c->C);
}

Test(lib_layers_tf, encoder_gradcheck_and_accumulate) {
    enum { B = 2, T = 4, C = 3, V = 5, BLOCK = 6 };
    int tokens[B * T] = {1, 4, 4, 0, 2, 1, 1, 1}; /* repeats: rows of dwte add up */
    gd_rng r;
    gd_rng_seed(&r, 21);
    enc_ctx c = {tokens, randn(&r, V * C, 1), randn(&r, BLOCK * C, 1), randn(&r, B * T * C, 1),
                 zeros(B * T * C), B, T, C};
    float *dwte = zeros(V * C), *dwpe = zeros(BLOCK * C);
    gd_encoder_backward(dwte, dwpe, c.R, tokens, B, T, C);
    double e = gd_gradcheck(enc_loss, &c, c.wte, dwte, V * C, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "encoder dwte: rel err %g", e);
    e = gd_gradcheck(enc_loss, &c, c.wpe, dwpe, BLOCK * C, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "encoder dwpe: rel err %g", e);
    /* rows of wte that no token uses (3) and positions >= T get no gradient */
    for (int k = 0; k < C; k++) cr_assert_eq(dwte[3 * C + k], 0.0f);
    for (int k = T * C; k < BLOCK * C; k++) cr_assert_eq(dwpe[k], 0.0f);
    /* += : a second call doubles; NULL skips */
    float *once = malloc(V * C * sizeof *once);
    memcpy(once, dwte, V * C * sizeof *once);
    gd_encoder_backward(dwte, NULL, c.R, tokens, B, T, C);
    for (int k = 0; k < V * C; k++) cr_assert_float_eq(dwte[k], 2 * once[k], 1e-6);
    free(once), free(dwte), free(dwpe);
    free(c.wte), free(c.wpe), free(c.R), free(c.out);
}

/* layernorm */
typedef struct {
    float *x, *w, *b, *R, *out, *mean, *rstd;
    int N, C;
} ln_ctx;

static double ln_loss(void *p) {
    ln_ctx *c = p;
    gd_layernorm_forward(c->out, c->mean, c->rstd, c->x, c->w, c->b, c->N, c->C);
    return weighted_sum(c->out, c->R, c->N * c->C);
}

static ln_ctx ln_setup(int N, int C, uint64_t seed) {
    gd_rng r;
    gd_rng_seed(&r, seed);
    ln_ctx c = {randn(&r, N * C, 1), randn(&r, C, 1), randn(&r, C, 1), randn(&r, N * C, 1),
                zeros(N * C), zeros(N), zeros(N), N, C};
    for (int k = 0; k < N * C; k++) c.x[k] += 0.5f; /* a nonzero mean to remove */
    for (int k = 0; k < C; k++) c.w[k] += 1.0f;
    return c;
}

static void ln_teardown(ln_ctx *c) {
    free(c->x), free(c->w), free(c->b), free(c->R), free(c->out), free(c->mean), free(c->rstd);
}

Test(lib_layers_tf, layernorm_gradcheck) {
    int sizes[][2] = {{5, 8}, {3, 17}, {1, 2}};
    for (int s = 0; s < 3; s++) {
        int N = sizes[s][0], C = sizes[s][1];
        ln_ctx c = ln_setup(N, C, 30 + s);
        ln_loss(&c);
        float *dx = zeros(N * C), *dw = zeros(C), *db = zeros(C);
        gd_layernorm_backward(dx, dw, db, c.R, c.x, c.w, c.mean, c.rstd, N, C);
        double e = gd_gradcheck(ln_loss, &c, c.x, dx, (size_t)N * C, GC_EPS, GC_FLOOR);
        cr_assert(e < GC_TOL, "layernorm %dx%d dx: rel err %g", N, C, e);
        e = gd_gradcheck(ln_loss, &c, c.w, dw, (size_t)C, GC_EPS, GC_FLOOR);
        cr_assert(e < GC_TOL, "layernorm %dx%d dw: rel err %g", N, C, e);
        e = gd_gradcheck(ln_loss, &c, c.b, db, (size_t)C, GC_EPS, GC_FLOOR);
        cr_assert(e < GC_TOL, "layernorm %dx%d db: rel err %g", N, C, e);
        free(dx), free(dw), free(db);
        ln_teardown(&c);
    }
}

Test(lib_layers_tf, layernorm_normalises_and_accumulates) {
    enum { N = 4, C = 16 };
    ln_ctx c = ln_setup(N, C, 40);
    for (int k = 0; k < C; k++) c.w[k] = 1.0f, c.b[k] = 0.0f;
    ln_loss(&c);
    /* with w = 1, b = 0 each row has mean 0 and variance var / (var + eps) ~ 1 */
    for (int i = 0; i < N; i++) {
        double m = 0, v = 0;
        for (int k = 0; k < C; k++) m += c.out[i * C + k];
        m /= C;
        for (int k = 0; k < C; k++) v += (c.out[i * C + k] - m) * (c.out[i * C + k] - m);
        v /= C;
        cr_assert(fabs(m) < 1e-6 && fabs(v - 1.0) < 1e-4, "row %d: mean %g var %g", i, m, v);
    }
    float *dx = zeros(N * C), *dw = zeros(C), *once = zeros(N * C);
    gd_layernorm_backward(dx, dw, NULL, c.R, c.x, c.w, c.mean, c.rstd, N, C);
    memcpy(once, dx, N * C * sizeof *dx);
    gd_layernorm_backward(dx, NULL, NULL, c.R, c.x, c.w, c.mean, c.rstd, N, C);
    for (int k = 0; k < N * C; k++) cr_assert_float_eq(dx[k], 2 * once[k], 1e-5);
    free(dx), free(dw), free(once);
    ln_teardown(&c);
}

/* attention */
typedef struct {
    float *qkv, *R, *out, *att;
    int B, T, C, NH, naive;
} att_ctx;

static double att_loss(void *p) {
    att_ctx *c = p;
    if (c->naive) gd_attention_forward_naive(c->out, c->att, c->qkv, c->B, c->T, c->C, c->NH);
    else gd_attention_forward(c->out, c->att, c->qkv, c->B, c->T, c->C, c->NH);
    return weighted_sum(c->out, c->R, c->B * c->T * c->C);
}

static att_ctx att_setup(int B, int T, int C, int NH, uint64_t seed) {
    gd_rng r;
    gd_rng_seed(&r, seed);
    att_ctx c = {randn(&r, B * T * 3 * C, 1), randn(&r, B * T * C, 1), zeros(B * T * C),
                 zeros(B * NH * T * T), B, T, C, NH, 0};
    return c;
}

static void att_teardown(att_ctx *c) { free(c->qkv), free(c->R), free(c->out), free(c->att); }

Test(lib_layers_tf, attention_gradcheck) {
    int sizes[][4] = {{2, 5, 8, 2}, {1, 7, 6, 3}, {1, 1, 4, 1}};
    for (int s = 0; s < 3; s++)
        for (int naive = 0; naive <= 1; naive++) {
            int B = sizes[s][0], T = sizes[s][1], C = sizes[s][2], NH = sizes[s][3];
            att_ctx c = att_setup(B, T, C, NH, 50 + s);
            c.naive = naive;
            att_loss(&c);
            int n = B * T * 3 * C;
            float *dqkv = zeros(n), *work = zeros(T * T);
            if (naive) gd_attention_backward_naive(dqkv, c.R, c.qkv, c.att, B, T, C, NH);
            else gd_attention_backward(dqkv, work, c.R, c.qkv, c.att, B, T, C, NH);
            double e = gd_gradcheck(att_loss, &c, c.qkv, dqkv, (size_t)n, GC_EPS, GC_FLOOR);
            cr_assert(e < GC_TOL, "attention%s B%d T%d C%d NH%d: rel err %g",
                      naive ? " (naive)" : "", B, T, C, NH, e);
            free(dqkv), free(work);
            att_teardown(&c);
        }
}

Test(lib_layers_tf, attention_is_causal) {
    /* changing position t's q, k, v changes no output before t */
    enum { B = 1, T = 6, C = 8, NH = 2 };
    att_ctx c = att_setup(B, T, C, NH, 60);
    att_loss(&c);
    float *before = zeros(B * T * C);
    memcpy(before, c.out, sizeof(float) * B * T * C);
    for (int k = 0; k < 3 * C; k++) c.qkv[4 * 3 * C + k] += 1.0f;
    att_loss(&c);
    for (int k = 0; k < 4 * C; k++) cr_assert_eq(c.out[k], before[k], "output %d changed", k);
    int changed = 0;
    for (int k = 4 * C; k < T * C; k++) changed |= c.out[k] != before[k];
    cr_assert(changed);
    for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++) {
            double sum = 0;
            for (int s = 0; s < T; s++) {
                float a = c.att[(h * T + t) * T + s];
                if (s > t) cr_assert_eq(a, 0.0f);
                sum += a;
            }
            cr_assert(fabs(sum - 1.0) < 1e-6);
        }
    free(before);
    att_teardown(&c);
}

Test(lib_layers_tf, attention_fast_matches_naive) {
    /* the sgemm version against the specification at sizes with tails (T = 17, hs = 8)
     * and T = 1; float32 against double accumulation: within 1e-5 of the array's max */
    int sizes[][4] = {{3, 17, 24, 3}, {2, 1, 8, 2}, {1, 64, 32, 4}};
    for (int s = 0; s < 3; s++) {
        int B = sizes[s][0], T = sizes[s][1], C = sizes[s][2], NH = sizes[s][3];
        att_ctx c = att_setup(B, T, C, NH, 70 + s);
        for (int k = 0; k < B * T * 3 * C; k++) c.qkv[k] *= 2.0f; /* peakier softmax */
        int no = B * T * C, na = B * NH * T * T, nq = B * T * 3 * C;
        float *out2 = zeros(no), *att2 = zeros(na), *dq1 = zeros(nq), *dq2 = zeros(nq);
        float *work = zeros(T * T);
        gd_attention_forward(c.out, c.att, c.qkv, B, T, C, NH);
        gd_attention_forward_naive(out2, att2, c.qkv, B, T, C, NH);
        gd_attention_backward(dq1, work, c.R, c.qkv, c.att, B, T, C, NH);
        gd_attention_backward_naive(dq2, c.R, c.qkv, att2, B, T, C, NH);
        struct { const float *a, *b; int n; const char *what; } cmp[] = {
            {c.out, out2, no, "out"}, {c.att, att2, na, "att"}, {dq1, dq2, nq, "dqkv"}};
        for (int k = 0; k < 3; k++) {
            double scale = 0, worst = 0;
            for (int i = 0; i < cmp[k].n; i++) scale = fmax(scale, fabs(cmp[k].b[i]));
            for (int i = 0; i < cmp[k].n; i++) worst = fmax(worst, fabs(cmp[k].a[i] - cmp[k].b[i]));
            cr_assert(worst <= 1e-5 * scale, "%s B%d T%d C%d NH%d: %g of %g", cmp[k].what, B, T,
                      C, NH, worst, scale);
        }
        /* += : a second backward doubles */
        memcpy(dq2, dq1, nq * sizeof *dq1);
        gd_attention_backward(dq1, work, c.R, c.qkv, c.att, B, T, C, NH);
        for (int i = 0; i < nq; i++) cr_assert_float_eq(dq1[i], 2 * dq2[i], 1e-5 * (1 + fabsf(dq2[i])));
        free(out2), free(att2), free(dq1), free(dq2), free(work);
        att_teardown(&c);
    }
}

/* GELU */
typedef struct {
    float *x, *R, *out;
    int n;
} gelu_ctx;

static double gelu_loss(void *p) {
    gelu_ctx *c = p;
    gd_gelu_forward(c->out, c->x, c->n);
    return weighted_sum(c->out, c->R, c->n);
}

Test(lib_layers_tf, gelu_gradcheck_and_accumulate) {
    /* backward takes the forward's INPUT (GELU is not invertible from its output) */
    enum { n = 60 };
    gd_rng r;
    gd_rng_seed(&r, 52);
    gelu_ctx c = {randn(&r, n, 2.0f), randn(&r, n, 1), zeros(n), n};
    float *dx = zeros(n);
    gd_gelu_backward(dx, c.R, c.x, n);
    double e = gd_gradcheck(gelu_loss, &c, c.x, dx, n, GC_EPS, GC_FLOOR);
    cr_assert(e < GC_TOL, "gelu: rel err %g", e);
    float once[n];
    memcpy(once, dx, sizeof once);
    gd_gelu_backward(dx, c.R, c.x, n);
    for (int i = 0; i < n; i++) cr_assert_float_eq(dx[i], 2 * once[i], 1e-6);
    free(c.x), free(c.R), free(c.out), free(dx);
}

Test(lib_layers_tf, gelu_forward_vs_double_formula) {
    /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in double; float32 within a few
     * ulps of |x| (tanhf is within 2 ulp) */
    enum { n = 1201 };
    float x[n], out[n];
    for (int i = 0; i < n; i++) x[i] = -12.0f + 0.02f * (float)i;
    gd_gelu_forward(out, x, n);
    for (int i = 0; i < n; i++) {
        double xd = x[i];
        double want = 0.5 * xd * (1.0 + tanh(sqrt(2.0 / M_PI) * (xd + 0.044715 * xd * xd * xd)));
        cr_assert(fabs(out[i] - want) <= 8 * FLT_EPSILON * fmax(fabs(xd), 1e-3),
                  "gelu(%g) = %.9g, want %.9g", xd, out[i], want);
    }
    /* GELU's shape: 0 at 0, x for large x, 0 for very negative x */
    cr_assert_eq(out[600], 0.0f);
    cr_assert_float_eq(out[n - 1], 12.0f, 1e-6);
    cr_assert(fabsf(out[0]) < 1e-6f);
}

/* residual */
Test(lib_layers_tf, residual_forward_and_backward) {
    float a[5] = {1, -2, 3, 0.5f, 4}, b[5] = {0.25f, 2, -1, 0, 1}, out[5];
    gd_residual_forward(out, a, b, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(out[i], a[i] + b[i]);
    float d[5] = {1, 2, 3, 4, 5}, da[5] = {1, 1, 1, 1, 1}, db[5] = {0};
    gd_residual_backward(da, db, d, 5);
    for (int i = 0; i < 5; i++) cr_assert(da[i] == 1 + d[i] && db[i] == d[i]);
    gd_residual_backward(NULL, db, d, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(db[i], 2 * d[i]);
    gd_residual_forward(a, a, b, 5); /* in place */
    cr_assert_eq(a[0], 1.25f);
}

/* cross-entropy over a vocabulary, fast (float, vectorized exp) against gd_xent_forward */
Test(lib_layers_tf, xent_fast_matches_xent) {
    /* K with and without a tail, logits of spread 3 and a row with a gap of 200 (its
     * smaller exps underflow to 0 in both); the loss within 1e-6 relative, each
     * probability within 1e-6 of the largest in its row (float32 exp and sums), and the
     * rows still sum to 1 */
    int Ks[] = {1, 7, 8, 100, 257};
    gd_rng r;
    gd_rng_seed(&r, 90);
    for (int s = 0; s < 5; s++) {
        int N = 13, K = Ks[s];
        float *z = randn(&r, N * K, 3.0f), *p1 = zeros(N * K), *p2 = zeros(N * K);
        int *y = malloc(N * sizeof *y);
        for (int i = 0; i < N; i++) y[i] = (int)gd_rng_below(&r, (uint64_t)K);
        z[0] += 200.0f; /* row 0: one logit far above the rest */
        double l1 = gd_xent_forward(p1, z, y, N, K), l2 = gd_xent_forward_fast(p2, z, y, N, K);
        cr_assert(fabs(l1 - l2) <= 1e-6 * fabs(l1) + 1e-7, "K %d: loss %.9g vs %.9g", K, l2, l1);
        for (int i = 0; i < N; i++) {
            double sum = 0, pmax = 0;
            for (int k = 0; k < K; k++) sum += p2[i * K + k], pmax = fmax(pmax, p1[i * K + k]);
            cr_assert(fabs(sum - 1.0) < 1e-5, "K %d row %d sums to %.9g", K, i, sum);
            for (int k = 0; k < K; k++)
                cr_assert(fabs(p1[i * K + k] - p2[i * K + k]) <= 1e-6 * pmax, "K %d p[%d,%d]", K, i, k);
        }
        free(z), free(p1), free(p2), free(y);
    }
}

Test(lib_layers_tf, gelu_keeping_e_is_bitwise_the_same) {
    /* the memory-for-time pair does the same float operations in the same order */
    enum { n = 203 }; /* blocks and a tail */
    gd_rng r;
    gd_rng_seed(&r, 91);
    float *x = randn(&r, n, 4.0f), *g = randn(&r, n, 1.0f);
    float o1[n], o2[n], e[n], d1[n], d2[n];
    for (int i = 0; i < n; i++) d1[i] = d2[i] = 0.5f; /* += onto something */
    x[0] = 0.0f, x[1] = -30.0f, x[2] = 30.0f;      /* the clamp of the exp */
    gd_gelu_forward(o1, x, n);
    gd_gelu_forward_e(o2, e, x, n);
    gd_gelu_backward(d1, g, x, n);
    gd_gelu_backward_e(d2, g, x, e, n);
    cr_assert(memcmp(o1, o2, sizeof o1) == 0, "forward differs");
    cr_assert(memcmp(d1, d2, sizeof d1) == 0, "backward differs");
    free(x), free(g);
}

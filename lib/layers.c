/* layers.c -- forward/backward pairs; each backward names the forward line it
 * differentiates.
 *
 * The ReLU loops walk blocks of GD__BLOCK elements, loaded into a local array before
 * the select: at -O2 that becomes SSE compare-and-mask instead of a branch that random
 * signs mispredict half the time (see the note in tensor.c). Same result as the plain
 * loop, which handles the tail. */
#include "layers.h"
#include "tensor.h"

#include <math.h>
#include <string.h>

#define GD__BLOCK 8
#define GD__XENT_KEEP 64 /* classes whose exp gd_xent_forward keeps (on the stack) */

void gd_linear_forward(float *out, const float *in, const float *w, const float *b,
                       int N, int I, int O) {
    if (!b) {
        /* out = in @ w^T  (N, I) @ (I, O) */
        gd_matmul(out, in, w, N, O, I, 0, 1, 1.0f, 0.0f);
        return;
    }
    /* out = b in every row, then out += in @ w^T (beta = 1): the bias costs one
     * write of out rather than sgemm's zeroing pass plus a pass that adds b */
    for (int i = 0; i < N; i++) memcpy(out + (size_t)i * O, b, (size_t)O * sizeof *b);
    gd_matmul(out, in, w, N, O, I, 0, 1, 1.0f, 1.0f);
}

void gd_linear_backward(float *din, float *dw, float *db, const float *dout,
                        const float *in, const float *w, int N, int I, int O) {
    /* from out = in @ w^T:  din += dout @ w  (N, O) @ (O, I) */
    if (din) gd_matmul(din, dout, w, N, I, O, 0, 0, 1.0f, 1.0f);
    /* from out = in @ w^T:  dw += dout^T @ in  (O, N) @ (N, I) */
    if (dw) gd_matmul(dw, dout, in, O, I, N, 1, 0, 1.0f, 1.0f);
    /* from out += b:  db += column sums of dout */
    if (db) gd_sum_rows(db, dout, N, O);
}

void gd_relu_forward(float *out, const float *in, int n) {
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float x[GD__BLOCK];   /* loaded first: in place (out == in) stays correct */
        for (int k = 0; k < GD__BLOCK; k++) x[k] = in[i + k];
        for (int k = 0; k < GD__BLOCK; k++) out[i + k] = x[k] > 0.0f ? x[k] : 0.0f;
    }
    for (; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void gd_relu_backward(float *din, const float *dout, const float *out, int n) {
    /* from out = max(0, in): the slope is 1 where out > 0, else 0 */
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float g[GD__BLOCK], o[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) g[k] = dout[i + k], o[k] = out[i + k];
        for (int k = 0; k < GD__BLOCK; k++) din[i + k] += o[k] > 0.0f ? g[k] : 0.0f;
    }
    for (; i < n; i++) din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

void gd_tanh_forward(float *out, const float *in, int n) {
    for (int i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

void gd_tanh_backward(float *din, const float *dout, const float *out, int n) {
    /* from out = tanh(in): d tanh(x)/dx = 1 - tanh(x)^2 */
    for (int i = 0; i < n; i++) din[i] += dout[i] * (1.0f - out[i] * out[i]);
}

double gd_xent_forward(float *probs, const float *logits, const int *y, int N, int K) {
    double loss = 0.0;
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * K;
        float *p = probs + (size_t)i * K;
        /* softmax with the max subtracted, so exp never overflows */
        float zmax = z[0];
        for (int k = 1; k < K; k++) zmax = z[k] > zmax ? z[k] : zmax;
        /* e[k] = exp(z[k] - zmax) is computed once and kept for the division when the
         * row fits in e (exp is most of this layer's time), else computed again */
        double e[GD__XENT_KEEP], sum = 0.0;
        for (int k = 0; k < K; k++) {
            double ek = exp((double)z[k] - zmax);
            if (K <= GD__XENT_KEEP) e[k] = ek;
            sum += ek;
        }
        for (int k = 0; k < K; k++)
            p[k] = (float)((K <= GD__XENT_KEEP ? e[k] : exp((double)z[k] - zmax)) / sum);
        /* -log softmax(z)_y = log sum_k exp(z_k - zmax) - (z_y - zmax), exact even when
         * p[y] underflows to 0 */
        loss += log(sum) - ((double)z[y[i]] - zmax);
    }
    return loss / N;
}

void gd_xent_backward(float *dlogits, const float *probs, const int *y, int N, int K) {
    /* from loss = mean_i -log softmax(z_i)_{y_i}:  dz = (softmax(z) - onehot(y)) / N */
    float inv_n = 1.0f / (float)N;
    for (int i = 0; i < N; i++) {
        const float *p = probs + (size_t)i * K;
        float *dz = dlogits + (size_t)i * K;
        for (int k = 0; k < K; k++) dz[k] += (p[k] - (k == y[i] ? 1.0f : 0.0f)) * inv_n;
    }
}

double gd_mse_forward(const float *pred, const float *target, int n) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        acc += d * d;
    }
    return acc / n;
}

void gd_mse_backward(float *dpred, const float *pred, const float *target, int n) {
    /* from loss = mean (pred - target)^2:  dpred = 2 (pred - target) / n */
    float scale = 2.0f / (float)n;
    for (int i = 0; i < n; i++) dpred[i] += scale * (pred[i] - target[i]);
}

int gd_count_correct(const float *logits, const int *y, int N, int K) {
    int correct = 0;
    for (int i = 0; i < N; i++) correct += gd_argmax(logits + (size_t)i * K, K) == y[i];
    return correct;
}

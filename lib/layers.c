/* layers.c -- forward/backward pairs; each backward names the forward line it
 * differentiates.
 *
 * The ReLU loops walk blocks of GD__BLOCK elements, loaded into a local array before
 * the select: at -O2 that becomes SSE compare-and-mask instead of a branch that random
 * signs mispredict half the time (see the note in tensor.c). Same result as the plain
 * loop, which handles the tail. */
#include "layers.h"
#include "tensor.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#undef I /* <complex.h>, which cblas.h pulls in, defines I; here it is a dimension */

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

/* ---------------------------------------------------------------------------------
 * Transformer layers. Shapes (B, T, C), NH heads of hs = C / NH channels; see layers.h.
 * The attention calls cblas_sgemm directly, because its operands are strided views
 * into qkv (row stride 3C), which gd_matmul's packed arguments cannot express. */

void gd_encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                        int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *we = wte + (size_t)tokens[b * T + t] * C, *pe = wpe + (size_t)t * C;
            for (int c = 0; c < C; c++) o[c] = we[c] + pe[c];
        }
}

void gd_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                         int B, int T, int C) {
    /* from out[b, t] = wte[tokens[b, t]] + wpe[t]: each row of dout goes to the row of
     * wte it was read from and to position t's row of wpe */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            if (dwte) {
                float *dw = dwte + (size_t)tokens[b * T + t] * C;
                for (int c = 0; c < C; c++) dw[c] += d[c];
            }
            if (dwpe) {
                float *dp = dwpe + (size_t)t * C;
                for (int c = 0; c < C; c++) dp[c] += d[c];
            }
        }
}

/* LayerNorm's row sums in float, as GD__BLOCK interleaved partial sums added together
 * at the end: GCC vectorizes that (a single running sum it may not reorder). For
 * C = 128 each partial sum has 16 terms. */
static float gd__sum_row(const float *x, int n) {
    float acc[GD__BLOCK] = {0};
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK)
        for (int k = 0; k < GD__BLOCK; k++) acc[k] += x[i + k];
    for (; i < n; i++) acc[0] += x[i];
    float sum = 0.0f;
    for (int k = 0; k < GD__BLOCK; k++) sum += acc[k];
    return sum;
}

/* sum_c (x[c] - m)^2 */
static float gd__sqdev_row(const float *x, float m, int n) {
    float acc[GD__BLOCK] = {0};
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK)
        for (int k = 0; k < GD__BLOCK; k++) acc[k] += (x[i + k] - m) * (x[i + k] - m);
    for (; i < n; i++) acc[0] += (x[i] - m) * (x[i] - m);
    float sum = 0.0f;
    for (int k = 0; k < GD__BLOCK; k++) sum += acc[k];
    return sum;
}

void gd_layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *w, const float *b, int N, int C) {
    for (int i = 0; i < N; i++) {
        const float *x = in + (size_t)i * C;
        float *o = out + (size_t)i * C;
        /* two passes: the mean, then the biased variance about it */
        float m = gd__sum_row(x, C) / (float)C;
        float v = gd__sqdev_row(x, m, C) / (float)C;
        float s = 1.0f / sqrtf(v + GD_LN_EPS);
        int c = 0;
        for (; c + GD__BLOCK <= C; c += GD__BLOCK) {
            float xb[GD__BLOCK]; /* loaded first: out may alias nothing, GCC cannot know */
            for (int k = 0; k < GD__BLOCK; k++) xb[k] = (x[c + k] - m) * s * w[c + k] + b[c + k];
            for (int k = 0; k < GD__BLOCK; k++) o[c + k] = xb[k];
        }
        for (; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

void gd_layernorm_backward(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const float *mean,
                           const float *rstd, int N, int C) {
    for (int i = 0; i < N; i++) {
        const float *x = in + (size_t)i * C, *d = dout + (size_t)i * C;
        float m = mean[i], s = rstd[i];
        /* from out = xhat * w + b with xhat = (x - mean) rstd:
         * g = dout * w is the gradient w.r.t. xhat; its two means over the row */
        float acc_g[GD__BLOCK] = {0}, acc_gx[GD__BLOCK] = {0};
        int c = 0;
        for (; c + GD__BLOCK <= C; c += GD__BLOCK)
            for (int k = 0; k < GD__BLOCK; k++) {
                float g = d[c + k] * w[c + k];
                acc_g[k] += g;
                acc_gx[k] += g * ((x[c + k] - m) * s);
            }
        for (; c < C; c++) {
            float g = d[c] * w[c];
            acc_g[0] += g;
            acc_gx[0] += g * ((x[c] - m) * s);
        }
        float gm = 0.0f, gxm = 0.0f;
        for (int k = 0; k < GD__BLOCK; k++) gm += acc_g[k], gxm += acc_gx[k];
        gm /= (float)C, gxm /= (float)C;
        if (db) { /* from + b */
            for (c = 0; c + GD__BLOCK <= C; c += GD__BLOCK) {
                float t[GD__BLOCK];
                for (int k = 0; k < GD__BLOCK; k++) t[k] = db[c + k] + d[c + k];
                for (int k = 0; k < GD__BLOCK; k++) db[c + k] = t[k];
            }
            for (; c < C; c++) db[c] += d[c];
        }
        if (dw) { /* from xhat * w */
            for (c = 0; c + GD__BLOCK <= C; c += GD__BLOCK) {
                float t[GD__BLOCK];
                for (int k = 0; k < GD__BLOCK; k++) t[k] = dw[c + k] + d[c + k] * ((x[c + k] - m) * s);
                for (int k = 0; k < GD__BLOCK; k++) dw[c + k] = t[k];
            }
            for (; c < C; c++) dw[c] += d[c] * ((x[c] - m) * s);
        }
        if (din) {
            /* through xhat = (x - mean) rstd, mean and rstd both depending on x:
             * dx = rstd (g - mean(g) - xhat mean(g xhat)) */
            float *dx = din + (size_t)i * C;
            for (c = 0; c + GD__BLOCK <= C; c += GD__BLOCK) {
                float t[GD__BLOCK];
                for (int k = 0; k < GD__BLOCK; k++)
                    t[k] = dx[c + k] + s * (d[c + k] * w[c + k] - gm - ((x[c + k] - m) * s) * gxm);
                for (int k = 0; k < GD__BLOCK; k++) dx[c + k] = t[k];
            }
            for (; c < C; c++) dx[c] += s * (d[c] * w[c] - gm - ((x[c] - m) * s) * gxm);
        }
    }
}

/* An exp that GCC vectorizes at -O2 (in blocks of GD__BLOCK, as in tensor.c), for the
 * softmax of the attention and for GELU: glibc's expf and tanhf are scalar calls, and
 * tanhf alone took a quarter of a training step of the small GPT. It is Cephes' expf
 * (S. L. Moshier, cephes/single/expf.c): exp(a) = 2^n exp(r) with n = round(a / ln 2)
 * and r = a - n ln 2 (ln 2 in two parts, the first with few bits, so n times it is
 * exact), exp(r) by a degree-7 polynomial on |r| <= ln(2)/2; relative error about 1e-7
 * (the layers using it are held to double references in tests/lib/test_layers.c and to
 * PyTorch in tests/lib/test_gpt.c). The argument is clamped to [-87, 87], where 2^n
 * stays a normal float: beyond it the softmax term (<= e^-87 of the largest) and the
 * sigmoid (0 or 1) are the same to float precision. */
static inline float gd__expf(float a) {
    /* |a| <= 87 through the bits: among floats of one sign the bit patterns are ordered
     * as the values, and an integer select (unlike a float comparison, which may raise
     * an FP exception) is one GCC turns into vector masks. 0x42ae0000 is 87.0f. */
    int32_t bits;
    memcpy(&bits, &a, sizeof bits);
    int32_t mag = bits & 0x7fffffff;
    mag = mag < 0x42ae0000 ? mag : 0x42ae0000;
    bits = (int32_t)((uint32_t)bits & 0x80000000u) | mag;
    memcpy(&a, &bits, sizeof a);
    /* n = round(a / ln 2), by the 1.5 * 2^23 trick (round to nearest, no libm call) */
    float n = (a * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = a - n * 0.693359375f;           /* ln 2 = 0.693359375 - 2.12194440e-4 */
    r = r + n * 2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    /* times 2^n, built in the exponent bits */
    bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Row t of a causal score block: softmax over s <= t, zero above the diagonal. */
static void gd__causal_softmax_row(float *a, int t, int T) {
    float amax = a[0];
    for (int s = 1; s <= t; s++) amax = a[s] > amax ? a[s] : amax;
    /* exp(a - max) in blocks (vectorized), summed in GD__BLOCK partial sums */
    float acc[GD__BLOCK] = {0};
    int s = 0, n = t + 1;
    for (; s + GD__BLOCK <= n; s += GD__BLOCK) {
        float e[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) e[k] = gd__expf(a[s + k] - amax);
        for (int k = 0; k < GD__BLOCK; k++) a[s + k] = e[k], acc[k] += e[k];
    }
    for (; s < n; s++) acc[0] += a[s] = gd__expf(a[s] - amax);
    float sum = 0.0f;
    for (int k = 0; k < GD__BLOCK; k++) sum += acc[k];
    float inv = 1.0f / sum;
    for (s = 0; s + GD__BLOCK <= n; s += GD__BLOCK)
        for (int k = 0; k < GD__BLOCK; k++) a[s + k] *= inv;
    for (; s < n; s++) a[s] *= inv;
    for (s = n; s < T; s++) a[s] = 0.0f;
}

void gd_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                          int NH) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *q = qkv + (size_t)b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;
            float *a = att + ((size_t)b * NH + h) * T * T;
            float *o = out + (size_t)b * T * C + h * hs;
            /* scores a (T, T) = q (T, hs) @ k^T (hs, T) / sqrt(hs); the upper triangle
             * is computed too (one sgemm beats T small ones) and masked below */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, scale, q, C3, k, C3,
                        0.0f, a, T);
            for (int t = 0; t < T; t++) gd__causal_softmax_row(a + (size_t)t * T, t, T);
            /* o (T, hs) = a (T, T) @ v (T, hs) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, v, C3,
                        0.0f, o, C);
        }
}

void gd_attention_forward_naive(float *out, float *att, const float *qkv, int B, int T,
                                int C, int NH) {
    int hs = C / NH, C3 = 3 * C;
    double scale = 1.0 / sqrt((double)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *q = qkv + ((size_t)b * T + t) * C3 + h * hs;
                float *a = att + (((size_t)b * NH + h) * T + t) * T;
                double pre[T > 0 ? T : 1], amax = -INFINITY, sum = 0.0;
                for (int s = 0; s <= t; s++) {
                    const float *k = qkv + ((size_t)b * T + s) * C3 + C + h * hs;
                    double dot = 0.0;
                    for (int i = 0; i < hs; i++) dot += (double)q[i] * k[i];
                    pre[s] = dot * scale;
                    amax = pre[s] > amax ? pre[s] : amax;
                }
                for (int s = 0; s <= t; s++) sum += pre[s] = exp(pre[s] - amax);
                for (int s = 0; s < T; s++) a[s] = s <= t ? (float)(pre[s] / sum) : 0.0f;
                float *o = out + ((size_t)b * T + t) * C + h * hs;
                for (int i = 0; i < hs; i++) {
                    double acc = 0.0;
                    for (int s = 0; s <= t; s++)
                        acc += (double)a[s] * qkv[((size_t)b * T + s) * C3 + 2 * C + h * hs + i];
                    o[i] = (float)acc;
                }
            }
}

void gd_attention_backward(float *dqkv, float *work, const float *dout, const float *qkv,
                           const float *att, int B, int T, int C, int NH) {
    int hs = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            size_t qoff = (size_t)b * T * C3 + h * hs;
            const float *q = qkv + qoff, *k = q + C, *v = q + 2 * C;
            float *dq = dqkv + qoff, *dk = dq + C, *dv = dq + 2 * C;
            const float *a = att + ((size_t)b * NH + h) * T * T;
            const float *dout_bh = dout + (size_t)b * T * C + h * hs;
            float *da = work;
            /* from o = a @ v:  da (T, T) = dout (T, hs) @ v^T;  dv += a^T @ dout */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, 1.0f, dout_bh, C, v,
                        C3, 0.0f, da, T);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, a, T, dout_bh,
                        C, 1.0f, dv, C3);
            /* from a = softmax(pre) row by row (s <= t): dpre = a (da - sum_s a da), and
             * the 1/sqrt(hs) of pre folded in; zero above the diagonal (masked) */
            for (int t = 0; t < T; t++) {
                const float *ar = a + (size_t)t * T;
                float *dr = da + (size_t)t * T;
                /* in blocks of GD__BLOCK (vectorized), the dot in partial sums */
                float acc[GD__BLOCK] = {0};
                int s = 0, n = t + 1;
                for (; s + GD__BLOCK <= n; s += GD__BLOCK)
                    for (int k = 0; k < GD__BLOCK; k++) acc[k] += ar[s + k] * dr[s + k];
                for (; s < n; s++) acc[0] += ar[s] * dr[s];
                float dot = 0.0f;
                for (int k = 0; k < GD__BLOCK; k++) dot += acc[k];
                for (s = 0; s + GD__BLOCK <= n; s += GD__BLOCK) {
                    float g[GD__BLOCK];
                    for (int k = 0; k < GD__BLOCK; k++) g[k] = ar[s + k] * (dr[s + k] - dot) * scale;
                    for (int k = 0; k < GD__BLOCK; k++) dr[s + k] = g[k];
                }
                for (; s < n; s++) dr[s] = ar[s] * (dr[s] - dot) * scale;
                for (s = n; s < T; s++) dr[s] = 0.0f;
            }
            /* from pre = q @ k^T (scaled):  dq += dpre @ k;  dk += dpre^T @ q */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, 1.0f, da, T, k, C3,
                        1.0f, dq, C3);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, 1.0f, da, T, q, C3,
                        1.0f, dk, C3);
        }
}

void gd_attention_backward_naive(float *dqkv, const float *dout, const float *qkv,
                                 const float *att, int B, int T, int C, int NH) {
    int hs = C / NH, C3 = 3 * C;
    double scale = 1.0 / sqrt((double)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const float *a = att + (((size_t)b * NH + h) * T + t) * T;
                const float *d = dout + ((size_t)b * T + t) * C + h * hs;
                const float *q = qkv + ((size_t)b * T + t) * C3 + h * hs;
                float *dq = dqkv + ((size_t)b * T + t) * C3 + h * hs;
                double da[T > 0 ? T : 1], dot = 0.0;
                for (int s = 0; s <= t; s++) {
                    const float *v = qkv + ((size_t)b * T + s) * C3 + 2 * C + h * hs;
                    float *dv = dqkv + ((size_t)b * T + s) * C3 + 2 * C + h * hs;
                    double acc = 0.0;
                    for (int i = 0; i < hs; i++) {
                        acc += (double)d[i] * v[i];               /* da = dout . v */
                        dv[i] += (float)((double)a[s] * d[i]);    /* dv += a dout */
                    }
                    da[s] = acc;
                    dot += a[s] * acc;
                }
                for (int s = 0; s <= t; s++) {
                    double dpre = a[s] * (da[s] - dot) * scale;
                    const float *k = qkv + ((size_t)b * T + s) * C3 + C + h * hs;
                    float *dk = dqkv + ((size_t)b * T + s) * C3 + C + h * hs;
                    for (int i = 0; i < hs; i++) {
                        dq[i] += (float)(dpre * k[i]);
                        dk[i] += (float)(dpre * q[i]);
                    }
                }
            }
}

/* GELU computed from the identity
 *     0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)) = sigmoid(2u),
 * i.e. out = x sigmoid(2u), which has no cancellation for any sign of u, with the exp
 * above (gd__expf). */
#define GD__GELU_S 0.7978845608028654f /* sqrt(2 / pi) */
#define GD__GELU_A 0.044715f

void gd_gelu_forward(float *out, const float *in, int n) {
    /* out = 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)),  u = sqrt(2/pi) (x + 0.044715 x^3) */
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float x[GD__BLOCK], e[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) x[k] = in[i + k];
        for (int k = 0; k < GD__BLOCK; k++)
            e[k] = gd__expf(-2.0f * GD__GELU_S * (x[k] + GD__GELU_A * x[k] * x[k] * x[k]));
        for (int k = 0; k < GD__BLOCK; k++) out[i + k] = x[k] / (1.0f + e[k]);
    }
    for (; i < n; i++) {
        float x = in[i];
        out[i] = x / (1.0f + gd__expf(-2.0f * GD__GELU_S * (x + GD__GELU_A * x * x * x)));
    }
}

/* d out / dx from e = exp(-2u), s = sigmoid(2u) = 1 / (1 + e): from out = x s(2u(x)),
 *   s + x 2 s (1 - s) u'(x),  u'(x) = sqrt(2/pi) (1 + 3 * 0.044715 x^2),
 * with 1 - s written e s (no cancellation where s is near 1). The same as
 * 0.5 (1 + th) + 0.5 x (1 - th^2) u' with th = tanh(u) = 2s - 1. */
static inline float gd__gelu_grad(float x, float e) {
    float s = 1.0f / (1.0f + e);
    float du = GD__GELU_S * (1.0f + 3.0f * GD__GELU_A * x * x);
    return s + 2.0f * x * (e * s * s) * du;
}

void gd_gelu_backward(float *din, const float *dout, const float *in, int n) {
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float x[GD__BLOCK], e[GD__BLOCK], g[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) x[k] = in[i + k], g[k] = dout[i + k];
        for (int k = 0; k < GD__BLOCK; k++)
            e[k] = gd__expf(-2.0f * GD__GELU_S * (x[k] + GD__GELU_A * x[k] * x[k] * x[k]));
        for (int k = 0; k < GD__BLOCK; k++) din[i + k] += g[k] * gd__gelu_grad(x[k], e[k]);
    }
    for (; i < n; i++) {
        float x = in[i];
        float e = gd__expf(-2.0f * GD__GELU_S * (x + GD__GELU_A * x * x * x));
        din[i] += dout[i] * gd__gelu_grad(x, e);
    }
}

double gd_xent_forward_fast(float *probs, const float *logits, const int *y, int N, int K) {
    double loss = 0.0;
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * K;
        float *p = probs + (size_t)i * K;
        /* softmax with the max subtracted, so exp never overflows; the max in
         * GD__BLOCK partial maxima (independent chains) */
        float mx[GD__BLOCK];
        for (int j = 0; j < GD__BLOCK; j++) mx[j] = z[0];
        int k = 0;
        for (; k + GD__BLOCK <= K; k += GD__BLOCK)
            for (int j = 0; j < GD__BLOCK; j++) mx[j] = z[k + j] > mx[j] ? z[k + j] : mx[j];
        for (; k < K; k++) mx[0] = z[k] > mx[0] ? z[k] : mx[0];
        float zmax = mx[0];
        for (int j = 1; j < GD__BLOCK; j++) zmax = mx[j] > zmax ? mx[j] : zmax;
        /* e[k] = exp(z[k] - zmax) into p, in blocks (vectorized); the sum in partial sums */
        float acc[GD__BLOCK] = {0};
        k = 0;
        for (; k + GD__BLOCK <= K; k += GD__BLOCK) {
            float e[GD__BLOCK];
            for (int j = 0; j < GD__BLOCK; j++) e[j] = gd__expf(z[k + j] - zmax);
            for (int j = 0; j < GD__BLOCK; j++) p[k + j] = e[j], acc[j] += e[j];
        }
        for (; k < K; k++) acc[0] += p[k] = gd__expf(z[k] - zmax);
        float sum = 0.0f;
        for (int j = 0; j < GD__BLOCK; j++) sum += acc[j];
        float inv = 1.0f / sum;
        for (k = 0; k + GD__BLOCK <= K; k += GD__BLOCK)
            for (int j = 0; j < GD__BLOCK; j++) p[k + j] *= inv;
        for (; k < K; k++) p[k] *= inv;
        /* -log softmax(z)_y = log sum_k exp(z_k - zmax) - (z_y - zmax) */
        loss += log((double)sum) - ((double)z[y[i]] - zmax);
    }
    return loss / N;
}

void gd_gelu_forward_e(float *out, float *e, const float *in, int n) {
    /* gd_gelu_forward, keeping e */
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float x[GD__BLOCK], eb[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) x[k] = in[i + k];
        for (int k = 0; k < GD__BLOCK; k++)
            eb[k] = gd__expf(-2.0f * GD__GELU_S * (x[k] + GD__GELU_A * x[k] * x[k] * x[k]));
        /* two loops, one store each: out and e might overlap for all gcc knows, and then
         * a loop storing to both does not vectorise */
        for (int k = 0; k < GD__BLOCK; k++) out[i + k] = x[k] / (1.0f + eb[k]);
        for (int k = 0; k < GD__BLOCK; k++) e[i + k] = eb[k];
    }
    for (; i < n; i++) {
        float x = in[i];
        e[i] = gd__expf(-2.0f * GD__GELU_S * (x + GD__GELU_A * x * x * x));
        out[i] = x / (1.0f + e[i]);
    }
}

void gd_gelu_backward_e(float *din, const float *dout, const float *in, const float *e,
                        int n) {
    /* gd_gelu_backward with the forward's e */
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float t[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++)
            t[k] = din[i + k] + dout[i + k] * gd__gelu_grad(in[i + k], e[i + k]);
        for (int k = 0; k < GD__BLOCK; k++) din[i + k] = t[k];
    }
    for (; i < n; i++) din[i] += dout[i] * gd__gelu_grad(in[i], e[i]);
}

void gd_residual_forward(float *out, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void gd_residual_backward(float *da, float *db, const float *dout, int n) {
    /* from out = a + b: both inputs receive dout unchanged */
    if (da) for (int i = 0; i < n; i++) da[i] += dout[i];
    if (db) for (int i = 0; i < n; i++) db[i] += dout[i];
}

void gd_sigmoid_forward(float *out, const float *in, int n) {
    /* out = 1 / (1 + exp(-x)), in blocks (vectorized); x is loaded first, so in place works */
    int i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float e[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) e[k] = gd__expf(-in[i + k]);
        for (int k = 0; k < GD__BLOCK; k++) out[i + k] = 1.0f / (1.0f + e[k]);
    }
    for (; i < n; i++) out[i] = 1.0f / (1.0f + gd__expf(-in[i]));
}

void gd_sigmoid_backward(float *din, const float *dout, const float *out, int n) {
    /* from out = sigmoid(in): d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x)) */
    for (int i = 0; i < n; i++) din[i] += dout[i] * out[i] * (1.0f - out[i]);
}

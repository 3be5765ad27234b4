/* conv.c -- conv2d (im2col + sgemm, and the naive loops it is held to), average and max
 * pooling; see conv.h. Leaves out dilation, groups, padding modes other than zeros, and
 * padded or ceil-mode pooling (LeNet needs none of them). */
#include "conv.h"
#include "err.h"
#include "tensor.h"

#include <math.h>
#include <string.h>

int gd_conv2d_geom_init(gd_conv2d_geom *g, int C, int H, int W, int O, int KH, int KW,
                        int stride, int pad) {
    memset(g, 0, sizeof *g);
    if (C < 1 || H < 1 || W < 1 || O < 1 || KH < 1 || KW < 1 || stride < 1)
        return gd_seterr("conv2d: sizes must be >= 1 (C %d, H %d, W %d, O %d, kernel %dx%d, stride %d)", C,
                         H, W, O, KH, KW, stride);
    if (pad < 0) return gd_seterr("conv2d: padding %d (must be >= 0)", pad);
    if (KH > H + 2 * pad || KW > W + 2 * pad)
        return gd_seterr("conv2d: kernel %dx%d does not fit the padded input %dx%d", KH, KW, H + 2 * pad,
                         W + 2 * pad);
    *g = (gd_conv2d_geom){C, H, W, O, KH, KW, stride, pad, 0, 0};
    g->OH = (H + 2 * pad - KH) / stride + 1;
    g->OW = (W + 2 * pad - KW) / stride + 1;
    return 0;
}

size_t gd_conv2d_col_size(const gd_conv2d_geom *g) {
    return (size_t)g->C * g->KH * g->KW * g->OH * g->OW;
}

void gd_im2col(float *col, const float *in, const gd_conv2d_geom *g) {
    /* col[(c, i, j), (y, x)] = in[c, y*S + i - P, x*S + j - P], 0 in the padding */
    int S = g->stride, P = g->pad, OH = g->OH, OW = g->OW;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->KH; i++)
            for (int j = 0; j < g->KW; j++) {
                const float *plane = in + (size_t)c * g->H * g->W;
                float *row = col + (((size_t)c * g->KH + i) * g->KW + j) * OH * OW;
                for (int y = 0; y < OH; y++) {
                    int iy = y * S + i - P;
                    float *r = row + (size_t)y * OW;
                    if (iy < 0 || iy >= g->H) {
                        memset(r, 0, (size_t)OW * sizeof *r);
                        continue;
                    }
                    const float *src = plane + (size_t)iy * g->W;
                    if (S == 1) {
                        /* x + j - P inside [0, W) for x in [x0, x1): one copy, zeros around */
                        int x0 = P - j > 0 ? P - j : 0, x1 = g->W + P - j < OW ? g->W + P - j : OW;
                        if (x0 > OW) x0 = OW;
                        if (x1 < x0) x1 = x0;
                        for (int x = 0; x < x0; x++) r[x] = 0.0f;
                        memcpy(r + x0, src + x0 + j - P, (size_t)(x1 - x0) * sizeof *r);
                        for (int x = x1; x < OW; x++) r[x] = 0.0f;
                    } else {
                        for (int x = 0; x < OW; x++) {
                            int ix = x * S + j - P;
                            r[x] = ix >= 0 && ix < g->W ? src[ix] : 0.0f;
                        }
                    }
                }
            }
}

void gd_col2im(float *in, const float *col, const gd_conv2d_geom *g) {
    /* the adjoint of gd_im2col: in[c, y*S + i - P, x*S + j - P] += col[(c, i, j), (y, x)] */
    int S = g->stride, P = g->pad, OH = g->OH, OW = g->OW;
    for (int c = 0; c < g->C; c++)
        for (int i = 0; i < g->KH; i++)
            for (int j = 0; j < g->KW; j++) {
                float *plane = in + (size_t)c * g->H * g->W;
                const float *row = col + (((size_t)c * g->KH + i) * g->KW + j) * OH * OW;
                for (int y = 0; y < OH; y++) {
                    int iy = y * S + i - P;
                    if (iy < 0 || iy >= g->H) continue;
                    const float *r = row + (size_t)y * OW;
                    float *dst = plane + (size_t)iy * g->W;
                    for (int x = 0; x < OW; x++) {
                        int ix = x * S + j - P;
                        if (ix >= 0 && ix < g->W) dst[ix] += r[x];
                    }
                }
            }
}

void gd_conv2d_forward(float *out, float *col, const float *in, const float *w,
                       const float *b, int N, const gd_conv2d_geom *g) {
    int CKK = g->C * g->KH * g->KW, L = g->OH * g->OW;
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * g->C * g->H * g->W;
        float *o = out + (size_t)n * g->O * L;
        gd_im2col(col, x, g);
        /* out_n = b in every column, then out_n (O, L) += w (O, CKK) @ col (CKK, L) */
        for (int k = 0; k < g->O; k++) {
            float bk = b ? b[k] : 0.0f;
            for (int l = 0; l < L; l++) o[(size_t)k * L + l] = bk;
        }
        gd_matmul(o, w, col, g->O, L, CKK, 0, 0, 1.0f, 1.0f);
    }
}

void gd_conv2d_forward_naive(float *out, const float *in, const float *w, const float *b,
                             int N, const gd_conv2d_geom *g) {
    int S = g->stride, P = g->pad;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < g->O; o++)
            for (int y = 0; y < g->OH; y++)
                for (int x = 0; x < g->OW; x++) {
                    double acc = b ? b[o] : 0.0;
                    for (int c = 0; c < g->C; c++)
                        for (int i = 0; i < g->KH; i++)
                            for (int j = 0; j < g->KW; j++) {
                                int iy = y * S + i - P, ix = x * S + j - P;
                                if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) continue;
                                acc += (double)w[(((size_t)o * g->C + c) * g->KH + i) * g->KW + j] *
                                       in[(((size_t)n * g->C + c) * g->H + iy) * g->W + ix];
                            }
                    out[(((size_t)n * g->O + o) * g->OH + y) * g->OW + x] = (float)acc;
                }
}

void gd_conv2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                        const float *in, const float *w, int N, const gd_conv2d_geom *g) {
    int CKK = g->C * g->KH * g->KW, L = g->OH * g->OW;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * g->O * L;
        /* from out_n = b + w @ col:  db += row sums of dout_n (O, L) */
        if (db)
            for (int k = 0; k < g->O; k++) {
                double s = 0.0;
                for (int l = 0; l < L; l++) s += d[(size_t)k * L + l];
                db[k] += (float)s;
            }
        /* dw (O, CKK) += dout_n (O, L) @ col^T (L, CKK) */
        if (dw) {
            gd_im2col(col, in + (size_t)n * g->C * g->H * g->W, g);
            gd_matmul(dw, d, col, g->O, CKK, L, 0, 1, 1.0f, 1.0f);
        }
        /* dcol (CKK, L) = w^T (CKK, O) @ dout_n (O, L);  din_n += col2im(dcol) */
        if (din) {
            gd_matmul(col, w, d, CKK, L, g->O, 1, 0, 1.0f, 0.0f);
            gd_col2im(din + (size_t)n * g->C * g->H * g->W, col, g);
        }
    }
}

void gd_conv2d_backward_naive(float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N,
                              const gd_conv2d_geom *g) {
    int S = g->stride, P = g->pad;
    if (db)
        for (int o = 0; o < g->O; o++) {
            double acc = 0.0;
            for (int n = 0; n < N; n++)
                for (int l = 0; l < g->OH * g->OW; l++) acc += dout[((size_t)n * g->O + o) * g->OH * g->OW + l];
            db[o] += (float)acc;
        }
    if (dw)
        for (int o = 0; o < g->O; o++)
            for (int c = 0; c < g->C; c++)
                for (int i = 0; i < g->KH; i++)
                    for (int j = 0; j < g->KW; j++) {
                        double acc = 0.0;
                        for (int n = 0; n < N; n++)
                            for (int y = 0; y < g->OH; y++)
                                for (int x = 0; x < g->OW; x++) {
                                    int iy = y * S + i - P, ix = x * S + j - P;
                                    if (iy < 0 || iy >= g->H || ix < 0 || ix >= g->W) continue;
                                    acc += (double)dout[(((size_t)n * g->O + o) * g->OH + y) * g->OW + x] *
                                           in[(((size_t)n * g->C + c) * g->H + iy) * g->W + ix];
                                }
                        dw[(((size_t)o * g->C + c) * g->KH + i) * g->KW + j] += (float)acc;
                    }
    if (din)
        /* gathered per input element: every (o, i, j) whose window covers (iy, ix) */
        for (int n = 0; n < N; n++)
            for (int c = 0; c < g->C; c++)
                for (int iy = 0; iy < g->H; iy++)
                    for (int ix = 0; ix < g->W; ix++) {
                        double acc = 0.0;
                        for (int o = 0; o < g->O; o++)
                            for (int i = 0; i < g->KH; i++)
                                for (int j = 0; j < g->KW; j++) {
                                    int ty = iy + P - i, tx = ix + P - j;   /* = y*S, x*S */
                                    if (ty < 0 || tx < 0 || ty % S || tx % S) continue;
                                    int y = ty / S, x = tx / S;
                                    if (y >= g->OH || x >= g->OW) continue;
                                    acc += (double)w[(((size_t)o * g->C + c) * g->KH + i) * g->KW + j] *
                                           dout[(((size_t)n * g->O + o) * g->OH + y) * g->OW + x];
                                }
                        din[(((size_t)n * g->C + c) * g->H + iy) * g->W + ix] += (float)acc;
                    }
}

/* ------------------------------------------------------------------------------- */
/* Pooling. */

int gd_pool2d_out(int H, int K, int S) { return K > H || K < 1 || S < 1 ? 0 : (H - K) / S + 1; }

void gd_avgpool2d_forward(float *out, const float *in, int N, int C, int H, int W, int K,
                          int S) {
    int OH = gd_pool2d_out(H, K, S), OW = gd_pool2d_out(W, K, S);
    float inv = 1.0f / (float)(K * K);
    for (size_t p = 0; p < (size_t)N * C; p++) {
        const float *a = in + p * H * W;
        float *o = out + p * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                float s = 0.0f;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) s += a[(size_t)(y * S + i) * W + x * S + j];
                o[y * OW + x] = s * inv;   /* mean of the K*K window */
            }
    }
}

void gd_avgpool2d_backward(float *din, const float *dout, int N, int C, int H, int W,
                           int K, int S) {
    /* from out = (1/K^2) sum_window in: every input of the window gets dout / K^2 */
    int OH = gd_pool2d_out(H, K, S), OW = gd_pool2d_out(W, K, S);
    float inv = 1.0f / (float)(K * K);
    for (size_t p = 0; p < (size_t)N * C; p++) {
        float *a = din + p * H * W;
        const float *d = dout + p * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                float g = d[y * OW + x] * inv;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) a[(size_t)(y * S + i) * W + x * S + j] += g;
            }
    }
}

void gd_maxpool2d_forward(float *out, int *idx, const float *in, int N, int C, int H,
                          int W, int K, int S) {
    int OH = gd_pool2d_out(H, K, S), OW = gd_pool2d_out(W, K, S);
    for (size_t p = 0; p < (size_t)N * C; p++) {
        const float *a = in + p * H * W;
        float *o = out + p * OH * OW;
        int *ix = idx + p * OH * OW;
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                int best = (y * S) * W + x * S;
                float m = a[best];
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        int at = (y * S + i) * W + x * S + j;
                        float v = a[at];
                        if (v > m || isnan(v)) {   /* the first max wins; a NaN wins (torch) */
                            m = v;
                            best = at;
                            if (isnan(v)) goto found;
                        }
                    }
            found:
                o[y * OW + x] = m;
                ix[y * OW + x] = best;
            }
    }
}

void gd_maxpool2d_backward(float *din, const float *dout, const int *idx, int N, int C,
                           int H, int W, int K, int S) {
    /* from out = in[idx]: only the max receives the gradient */
    int OH = gd_pool2d_out(H, K, S), OW = gd_pool2d_out(W, K, S);
    for (size_t p = 0; p < (size_t)N * C; p++) {
        float *a = din + p * H * W;
        const float *d = dout + p * OH * OW;
        const int *ix = idx + p * OH * OW;
        for (int l = 0; l < OH * OW; l++) a[ix[l]] += d[l];
    }
}

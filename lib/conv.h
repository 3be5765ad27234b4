/* conv.h -- convolution and pooling as forward/backward pairs, on NCHW float arrays.
 *
 * Dimension letters: N batch, C input channels, H, W input height and width, O output
 * channels, KH, KW kernel height and width, OH, OW output height and width. Activations
 * are NCHW, row-major and packed: element (n, c, y, x) of a (N, C, H, W) array is
 * a[((n * C + c) * H + y) * W + x], as a contiguous torch tensor. As in layers.h:
 * outputs first, then inputs, then sizes; forward functions WRITE their outputs,
 * backward functions ACCUMULATE (+=) into their gradient outputs, and a NULL gradient
 * output is skipped (the first layer needs no gradient for its input).
 *
 *   gd_conv2d_geom g;                                     // nn.Conv2d(1, 6, 5, padding=2)
 *   if (gd_conv2d_geom_init(&g, 1, 28, 28, 6, 5, 5, 1, 2) != 0) die(gd_error());
 *   float *col = malloc(gd_conv2d_col_size(&g) * sizeof *col);   // scratch
 *   gd_conv2d_forward(out, col, X, w, b, N, &g);         // out (N, 6, 28, 28)
 *   gd_conv2d_backward(NULL, dw, db, col, dout, X, w, N, &g);
 *   gd_avgpool2d_forward(p, out, N, 6, 28, 28, 2, 2);     // p (N, 6, 14, 14)
 *
 * Flatten (nn.Flatten: (N, C, H, W) -> (N, C*H*W)) needs no function: on packed NCHW
 * data it is the same memory read with another shape, so its forward and backward are
 * no-ops; a linear layer after it takes the (N, C, H, W) array as (N, C*H*W).
 *
 * Sources: PyTorch's docs for nn.Conv2d, nn.AvgPool2d and nn.MaxPool2d (the formulas
 * and output sizes below); im2col + GEMM ("unrolled convolution") as in Chellapilla,
 * Puri & Simard 2006, "High Performance Convolutional Neural Networks for Document
 * Processing", Tenth International Workshop on Frontiers in Handwriting Recognition.
 */
#ifndef GD_CONV_H
#define GD_CONV_H

#include <stddef.h>

/* The sizes of one 2-D convolution (nn.Conv2d with dilation 1, groups 1, zero padding,
 * the same stride and padding in both directions). */
typedef struct gd_conv2d_geom {
    int C, H, W;          /* input: channels, height, width */
    int O, KH, KW;        /* output channels; kernel height, width */
    int stride, pad;
    int OH, OW;           /* output height, width: OH = (H + 2 pad - KH) / stride + 1 (floor) */
} gd_conv2d_geom;

/* Fill g and its output size; -1 (reason in gd_error) if a size is < 1, the padding is
 * negative, or the kernel does not fit the padded input. */
int gd_conv2d_geom_init(gd_conv2d_geom *g, int C, int H, int W, int O, int KH, int KW,
                        int stride, int pad);
/* Floats of the im2col scratch that the fast pair needs: C*KH*KW * OH*OW (one image). */
size_t gd_conv2d_col_size(const gd_conv2d_geom *g);

/* Conv2d (PyTorch's nn.Conv2d, which computes a cross-correlation):
 *   out[n, o, y, x] = b[o] + sum_{c, i, j} w[o, c, i, j] in[n, c, y*S + i - P, x*S + j - P]
 * with in = 0 outside the image (zero padding P), S the stride.
 * out (N, O, OH, OW), in (N, C, H, W), w (O, C, KH, KW), b (O) or NULL.
 * The fast one: per image, im2col writes col (C*KH*KW, OH*OW), col[(c, i, j), (y, x)] =
 * in[c, y*S + i - P, x*S + j - P], and one sgemm computes out_n (O, OH*OW) = w (O,
 * C*KH*KW) @ col. col: gd_conv2d_col_size floats of scratch (overwritten). */
void gd_conv2d_forward(float *out, float *col, const float *in, const float *w,
                       const float *b, int N, const gd_conv2d_geom *g);
/* The specification: the sum above as seven loops, accumulated in double. */
void gd_conv2d_forward_naive(float *out, const float *in, const float *w, const float *b,
                             int N, const gd_conv2d_geom *g);
/* From the forward:
 *   dw[o, c, i, j] += sum_{n, y, x} dout[n, o, y, x] in[n, c, y*S + i - P, x*S + j - P]
 *   db[o]          += sum_{n, y, x} dout[n, o, y, x]
 *   din[n, c, y*S + i - P, x*S + j - P] += sum_o w[o, c, i, j] dout[n, o, y, x]
 *                     (for every (y, x, i, j) that lands inside the image)
 * The fast one, per image: dw (O, CKK) += dout_n (O, OH*OW) @ col^T, and
 * dcol (CKK, OH*OW) = w^T @ dout_n scattered back by col2im (the adjoint of im2col).
 * col: scratch as in the forward (recomputed here, not kept from the forward). */
void gd_conv2d_backward(float *din, float *dw, float *db, float *col, const float *dout,
                        const float *in, const float *w, int N, const gd_conv2d_geom *g);
void gd_conv2d_backward_naive(float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N,
                              const gd_conv2d_geom *g);
/* The two halves of the fast pair, for one image: col (C*KH*KW, OH*OW) = im2col(in (C, H,
 * W)) (written), and in (C, H, W) += col2im(col) (accumulated). */
void gd_im2col(float *col, const float *in, const gd_conv2d_geom *g);
void gd_col2im(float *in, const float *col, const gd_conv2d_geom *g);

/* Pooling over K x K windows with stride S, no padding, floor mode (nn.AvgPool2d(K, S),
 * nn.MaxPool2d(K, S); d2l's LeNet uses K = S = 2). Output (N, C, OH, OW) with
 * OH = (H - K) / S + 1, OW = (W - K) / S + 1; in (N, C, H, W). The caller checks K <= H, W. */
int gd_pool2d_out(int H, int K, int S);   /* (H - K) / S + 1, or 0 if K > H */

/* Average: out[n, c, y, x] = (1 / K^2) sum_{i, j < K} in[n, c, y*S + i, x*S + j]. */
void gd_avgpool2d_forward(float *out, const float *in, int N, int C, int H, int W, int K,
                          int S);
/* din[n, c, y*S + i, x*S + j] += dout[n, c, y, x] / K^2  for every i, j < K. */
void gd_avgpool2d_backward(float *din, const float *dout, int N, int C, int H, int W,
                           int K, int S);

/* Max: out[n, c, y, x] = max_{i, j < K} in[n, c, y*S + i, x*S + j]; idx (N, C, OH, OW)
 * keeps where the max was, as the offset (y*S + i) * W + (x*S + j) in its (H, W) plane
 * (MaxPool2d's return_indices). Ties go to the first in row-major order and a NaN wins,
 * as PyTorch's CPU kernel. */
void gd_maxpool2d_forward(float *out, int *idx, const float *in, int N, int C, int H,
                          int W, int K, int S);
/* din[n, c, idx[n, c, y, x]] += dout[n, c, y, x]: the gradient goes to the max only. */
void gd_maxpool2d_backward(float *din, const float *dout, const int *idx, int N, int C,
                           int H, int W, int K, int S);

#endif

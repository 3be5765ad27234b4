/* lenet.h -- LeNet-5 as d2l builds it, for 28x28 Fashion-MNIST images.
 *
 * d2l (Dive into Deep Learning, Zhang, Lipton, Li & Smola), section "Convolutional
 * Neural Networks (LeNet)" (7.6 in the 2023 edition, 6.6 before), writes it as
 *
 *   nn.Sequential(                                        # index: parameter names
 *       nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),    # 0: 0.weight (6, 1, 5, 5)
 *       nn.AvgPool2d(kernel_size=2, stride=2),                      #    0.bias (6)
 *       nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),              # 3: 3.weight (16, 6, 5, 5)
 *       nn.AvgPool2d(kernel_size=2, stride=2),
 *       nn.Flatten(),
 *       nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),                   # 7: 7.weight (120, 400)
 *       nn.Linear(120, 84), nn.Sigmoid(),                           # 9: 9.weight (84, 120)
 *       nn.Linear(84, 10))                                          # 11: 11.weight (10, 84)
 *
 * (d2l's 2023 edition writes LazyConv2d/LazyLinear, which infer the same input sizes).
 * The variant "act=relu:pool=max" swaps every Sigmoid for ReLU and every AvgPool2d for
 * MaxPool2d(2, 2), the "modern" LeNet of d2l's learning-rate scheduling section.
 * Parameters are named as that nn.Sequential's state_dict: "0.weight", "0.bias",
 * "3.weight", ..., "11.bias" (d2l's class keeps the Sequential as self.net, so its
 * own names carry a "net." prefix).
 *
 * Initialisation (init=..., the same random stream order: each layer's weight, then its
 * bias, layer by layer):
 *   xavier (default)  d2l's init_cnn: nn.init.xavier_uniform_ on every Conv2d and Linear
 *                     weight, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)); the biases
 *                     keep PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *   torch             PyTorch's default for weights and biases: U(-1/sqrt(fan_in),
 *                     1/sqrt(fan_in)) (kaiming_uniform_ with a = sqrt(5)).
 * fan_in = C_in * KH * KW for a Conv2d, in_features for a Linear; fan_out = C_out * KH *
 * KW, out_features.
 *
 *   gd_lenet_arch a;
 *   if (gd_lenet_parse("lenet:act=relu:pool=max", &a) != 0) die(gd_error());
 *   gd_lenet m;
 *   if (gd_lenet_init(&m, &a, 256, seed) != 0) die(gd_error());
 *   double loss = gd_lenet_loss(&m, X, y, N);   // X (N, 784) = (N, 1, 28, 28)
 *   gd_lenet_zero_grad(&m);
 *   gd_lenet_backward(&m, y, N);                // gradients into m.params[i].grad
 *   gd_lenet_free(&m);
 *
 * All buffers are allocated once for max_batch images, so a step allocates nothing.
 */
#ifndef GD_LENET_H
#define GD_LENET_H

#include <stddef.h>
#include <stdint.h>
#include "conv.h"
#include "tensor.h"

#define GD_LENET_SIDE 28          /* input images 1 x 28 x 28 */
#define GD_LENET_CLASSES 10
#define GD_LENET_NPARAMS 10

typedef enum { GD_LENET_SIGMOID, GD_LENET_RELU } gd_lenet_act;
typedef enum { GD_LENET_AVG, GD_LENET_MAX } gd_lenet_pool;
typedef enum { GD_LENET_XAVIER, GD_LENET_TORCH } gd_lenet_init_kind;

typedef struct gd_lenet_arch {
    gd_lenet_act act;             /* sigmoid (d2l 7.6) or relu */
    gd_lenet_pool pool;           /* avg (d2l 7.6) or max */
    gd_lenet_init_kind init;      /* xavier (d2l's init_cnn) or torch (PyTorch's default) */
} gd_lenet_arch;

/* "lenet" or "lenet" followed by any of ":act=sigmoid|relu", ":pool=avg|max",
 * ":init=xavier|torch". 0, or -1 with the reason in gd_error(). */
int gd_lenet_parse(const char *spec, gd_lenet_arch *a);
/* The canonical spec, every field spelled out: "lenet:act=sigmoid:pool=avg:init=xavier". */
void gd_lenet_format(const gd_lenet_arch *a, char *buf, size_t size);

typedef struct gd_lenet {
    gd_lenet_arch arch;
    int max_batch;
    gd_conv2d_geom c1, c2;        /* Conv2d(1, 6, 5, padding=2) on 28x28; Conv2d(6, 16, 5) on 14x14 */
    int nparams;                  /* GD_LENET_NPARAMS: weight, bias of layers 0, 3, 7, 9, 11 */
    gd_param params[GD_LENET_NPARAMS];
    /* activations, each for max_batch images */
    const float *input;           /* (N, 1, 28, 28): the last forward's X (not owned) */
    float *a1;                    /* (N, 6, 28, 28)  act(conv 0) */
    float *p1;                    /* (N, 6, 14, 14)  pool */
    float *a2;                    /* (N, 16, 10, 10) act(conv 3) */
    float *p2;                    /* (N, 16, 5, 5) = flatten (N, 400) */
    float *a3;                    /* (N, 120)        act(linear 7) */
    float *a4;                    /* (N, 84)         act(linear 9) */
    float *logits;                /* (N, 10)         linear 11 */
    float *probs;                 /* (N, 10)         softmax, from gd_lenet_loss */
    int *idx1, *idx2;             /* max pooling's argmax, like p1 and p2 (NULL for avg) */
    float *ga, *gb;               /* (N, 6, 28, 28) each: gradient buffers backward alternates */
    float *col;                   /* im2col scratch, the larger of the two convolutions' */
} gd_lenet;

int gd_lenet_init(gd_lenet *m, const gd_lenet_arch *a, int max_batch, uint64_t seed);
void gd_lenet_free(gd_lenet *m);
size_t gd_lenet_numel(const gd_lenet *m);   /* 61706 */

/* logits (N, 10) for X (N, 784); N <= max_batch. Returns a pointer into the model. */
const float *gd_lenet_forward(gd_lenet *m, const float *X, int N);
/* forward, then mean cross-entropy against y (N); keeps the softmax for backward. */
double gd_lenet_loss(gd_lenet *m, const float *X, const int *y, int N);
/* Backward from the last gd_lenet_loss: accumulates into every param's grad. */
void gd_lenet_backward(gd_lenet *m, const int *y, int N);
void gd_lenet_zero_grad(gd_lenet *m);

#endif

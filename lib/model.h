/* model.h -- a multilayer perceptron of any depth.
 *
 * dims = {D, H1, ..., K}: linear layers D->H1->...->K with an activation (ReLU or tanh)
 * between them and none after the last, so the output is logits. With dims = {D, K}
 * it is logistic (softmax) regression. Parameters are named as a PyTorch
 * nn.Sequential of Linear layers would be: "0.weight" (H1, D), "0.bias" (H1), ...
 * Initialisation is nn.Linear's default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
 *
 * All activation buffers are allocated once for max_batch rows, so a training step
 * allocates nothing:
 *
 *   int dims[] = {784, 256, 128, 10};
 *   gd_mlp m;
 *   if (gd_mlp_init(&m, 3, dims, GD_ACT_RELU, 128, seed) != 0) die(gd_error());
 *   double loss = gd_mlp_loss(&m, X, y, N);     // forward + cross-entropy
 *   gd_mlp_zero_grad(&m);
 *   gd_mlp_backward(&m, y, N);                   // gradients into m.params[i].grad
 *   gd_sgd_step(m.params, m.nparams, lr);
 *   gd_mlp_free(&m);
 */
#ifndef GD_MODEL_H
#define GD_MODEL_H

#include <stdint.h>
#include "tensor.h"

typedef enum { GD_ACT_RELU, GD_ACT_TANH } gd_act;

typedef struct gd_mlp {
    int nlayers;          /* number of linear layers */
    int *dims;            /* (nlayers + 1) */
    gd_act act;
    int max_batch;
    int nparams;          /* 2 * nlayers: weight, bias, weight, bias, ... */
    gd_param *params;
    char **names;         /* storage for the parameter names */
    /* buffers, each (max_batch, dims[l]) */
    const float *input;   /* the last forward's X (not owned) */
    float **out;          /* out[l] (N, dims[l+1]): activation(linear l); the last is logits */
    float **dz;           /* dz[l] (N, dims[l+1]): gradient w.r.t. linear l's output */
    float *da;            /* (N, max hidden): gradient w.r.t. an activation's output */
    float *probs;         /* (N, K) softmax of the logits, from gd_mlp_loss */
} gd_mlp;

int gd_mlp_init(gd_mlp *m, int nlayers, const int *dims, gd_act act, int max_batch,
                uint64_t seed);
void gd_mlp_free(gd_mlp *m);
/* Total number of scalar parameters. */
size_t gd_mlp_numel(const gd_mlp *m);

/* logits (N, K) for X (N, D); N <= max_batch. Returns a pointer into the model. */
const float *gd_mlp_forward(gd_mlp *m, const float *X, int N);
/* forward, then mean cross-entropy against y (N); keeps the softmax for backward. */
double gd_mlp_loss(gd_mlp *m, const float *X, const int *y, int N);
/* Backward from the last gd_mlp_loss: accumulates into every param's grad. */
void gd_mlp_backward(gd_mlp *m, const int *y, int N);
void gd_mlp_zero_grad(gd_mlp *m);

#endif

/* model.c -- MLP forward/backward built from the layers in layers.c. */
#include "model.h"
#include "layers.h"
#include "rng.h"
#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gd_mlp_init(gd_mlp *m, int nlayers, const int *dims, gd_act act, int max_batch,
                uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (nlayers < 1) return gd_seterr("mlp: %d layers (need at least 1)", nlayers);
    if (max_batch < 1) return gd_seterr("mlp: max_batch %d (must be >= 1)", max_batch);
    for (int l = 0; l <= nlayers; l++)
        if (dims[l] < 1) return gd_seterr("mlp: layer size %d is %d (must be >= 1)", l, dims[l]);
    m->nlayers = nlayers;
    m->act = act;
    m->max_batch = max_batch;
    m->nparams = 2 * nlayers;
    m->dims = malloc((size_t)(nlayers + 1) * sizeof *m->dims);
    m->params = calloc((size_t)m->nparams, sizeof *m->params);
    m->names = calloc((size_t)m->nparams, sizeof *m->names);
    m->out = calloc((size_t)nlayers, sizeof *m->out);
    m->dz = calloc((size_t)nlayers, sizeof *m->dz);
    int K = dims[nlayers];
    m->probs = malloc((size_t)max_batch * K * sizeof *m->probs);
    if (!m->dims || !m->params || !m->names || !m->out || !m->dz || !m->probs) goto oom;
    memcpy(m->dims, dims, (size_t)(nlayers + 1) * sizeof *dims);

    gd_rng rng;
    gd_rng_seed(&rng, seed);
    for (int l = 0; l < nlayers; l++) {
        int I = dims[l], O = dims[l + 1];
        int wshape[2] = {O, I};
        gd_param *W = &m->params[2 * l], *b = &m->params[2 * l + 1];
        m->names[2 * l] = malloc(32);
        m->names[2 * l + 1] = malloc(32);
        if (!m->names[2 * l] || !m->names[2 * l + 1]) goto oom;
        snprintf(m->names[2 * l], 32, "%d.weight", 2 * l);
        snprintf(m->names[2 * l + 1], 32, "%d.bias", 2 * l);
        if (gd_param_init(W, m->names[2 * l], 2, wshape) != 0) goto fail;
        if (gd_param_init(b, m->names[2 * l + 1], 1, &O) != 0) goto fail;
        /* nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) gives
         * U(-1/sqrt(in), 1/sqrt(in)) for the weight, and the bias uses the same bound. */
        float bound = 1.0f / sqrtf((float)I);
        gd_rng_fill_uniform(&rng, W->value->data, W->value->size, -bound, bound);
        gd_rng_fill_uniform(&rng, b->value->data, b->value->size, -bound, bound);
        m->out[l] = malloc((size_t)max_batch * O * sizeof(float));
        m->dz[l] = malloc((size_t)max_batch * O * sizeof(float));
        if (!m->out[l] || !m->dz[l]) goto oom;
    }
    int widest = 1;
    for (int l = 1; l < nlayers; l++) widest = dims[l] > widest ? dims[l] : widest;
    m->da = malloc((size_t)max_batch * widest * sizeof(float));
    if (!m->da) goto oom;
    return 0;
oom:
    gd_seterr("mlp: out of memory");
fail:
    gd_mlp_free(m);
    return -1;
}

void gd_mlp_free(gd_mlp *m) {
    for (int i = 0; i < m->nparams && m->params; i++) gd_param_free(&m->params[i]);
    for (int i = 0; i < m->nparams && m->names; i++) free(m->names[i]);
    for (int l = 0; l < m->nlayers; l++) {
        if (m->out) free(m->out[l]);
        if (m->dz) free(m->dz[l]);
    }
    free(m->params);
    free(m->names);
    free(m->out);
    free(m->dz);
    free(m->da);
    free(m->probs);
    free(m->dims);
    memset(m, 0, sizeof *m);
}

size_t gd_mlp_numel(const gd_mlp *m) {
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++) n += m->params[i].value->size;
    return n;
}

const float *gd_mlp_forward(gd_mlp *m, const float *X, int N) {
    m->input = X;
    const float *in = X;
    for (int l = 0; l < m->nlayers; l++) {
        int I = m->dims[l], O = m->dims[l + 1];
        float *out = m->out[l];
        gd_linear_forward(out, in, m->params[2 * l].value->data,
                          m->params[2 * l + 1].value->data, N, I, O);
        if (l < m->nlayers - 1) {
            if (m->act == GD_ACT_RELU) gd_relu_forward(out, out, N * O);
            else gd_tanh_forward(out, out, N * O);
        }
        in = out;
    }
    return m->out[m->nlayers - 1];
}

double gd_mlp_loss(gd_mlp *m, const float *X, const int *y, int N) {
    const float *logits = gd_mlp_forward(m, X, N);
    return gd_xent_forward(m->probs, logits, y, N, m->dims[m->nlayers]);
}

void gd_mlp_backward(gd_mlp *m, const int *y, int N) {
    int L = m->nlayers, K = m->dims[L];
    gd_fill(m->dz[L - 1], 0.0f, (size_t)N * K);
    gd_xent_backward(m->dz[L - 1], m->probs, y, N, K);
    for (int l = L - 1; l >= 0; l--) {
        int I = m->dims[l], O = m->dims[l + 1];
        float *W = m->params[2 * l].value->data;
        float *dW = m->params[2 * l].grad->data, *db = m->params[2 * l + 1].grad->data;
        const float *in = l == 0 ? m->input : m->out[l - 1];
        /* dW += dz[l]^T @ in;  db += column sums of dz[l] */
        gd_linear_backward(NULL, dW, db, m->dz[l], in, W, N, I, O);
        if (l == 0) break; /* the input needs no gradient */
        /* da = dz[l] @ W: gd_linear_backward's din, but written by the sgemm (beta = 0)
         * instead of zero-filled and then accumulated into */
        gd_matmul(m->da, m->dz[l], W, N, I, O, 0, 0, 1.0f, 0.0f);
        /* out[l-1] = act(z[l-1]):  dz[l-1] = act'(z[l-1]) * da */
        gd_fill(m->dz[l - 1], 0.0f, (size_t)N * I);
        if (m->act == GD_ACT_RELU) gd_relu_backward(m->dz[l - 1], m->da, m->out[l - 1], N * I);
        else gd_tanh_backward(m->dz[l - 1], m->da, m->out[l - 1], N * I);
    }
}

void gd_mlp_zero_grad(gd_mlp *m) { gd_param_zero_grad(m->params, m->nparams); }

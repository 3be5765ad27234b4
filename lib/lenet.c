/* lenet.c -- LeNet forward/backward built from conv.c and layers.c; see lenet.h. */
#include "lenet.h"
#include "err.h"
#include "layers.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the nn.Sequential indices of the five layers with parameters */
static const char *const gd__names[GD_LENET_NPARAMS] = {"0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                                                          "7.bias",   "9.weight", "9.bias", "11.weight", "11.bias"};

int gd_lenet_parse(const char *spec, gd_lenet_arch *a) {
    *a = (gd_lenet_arch){GD_LENET_SIGMOID, GD_LENET_AVG, GD_LENET_XAVIER};
    if (!spec || strncmp(spec, "lenet", 5) != 0 || (spec[5] != '\0' && spec[5] != ':'))
        return gd_seterr("'%s' is not a LeNet spec (lenet[:act=sigmoid|relu][:pool=avg|max][:init=xavier|torch])",
                         spec ? spec : "(null)");
    const char *p = spec + 5;
    while (*p == ':') {
        p++;
        size_t n = strcspn(p, ":");
        const char *eq = memchr(p, '=', n);
        if (!eq) return gd_seterr("'%s': '%.*s' is not key=value", spec, (int)n, p);
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        const char *v = eq + 1;
#define GD__IS(s, len, lit) ((len) == strlen(lit) && strncmp((s), (lit), (len)) == 0)
        if (GD__IS(p, kn, "act")) {
            if (GD__IS(v, vn, "sigmoid")) a->act = GD_LENET_SIGMOID;
            else if (GD__IS(v, vn, "relu")) a->act = GD_LENET_RELU;
            else return gd_seterr("'%s': act is sigmoid or relu, not '%.*s'", spec, (int)vn, v);
        } else if (GD__IS(p, kn, "pool")) {
            if (GD__IS(v, vn, "avg")) a->pool = GD_LENET_AVG;
            else if (GD__IS(v, vn, "max")) a->pool = GD_LENET_MAX;
            else return gd_seterr("'%s': pool is avg or max, not '%.*s'", spec, (int)vn, v);
        } else if (GD__IS(p, kn, "init")) {
            if (GD__IS(v, vn, "xavier")) a->init = GD_LENET_XAVIER;
            else if (GD__IS(v, vn, "torch")) a->init = GD_LENET_TORCH;
            else return gd_seterr("'%s': init is xavier or torch, not '%.*s'", spec, (int)vn, v);
        } else {
            return gd_seterr("'%s': unknown key '%.*s' (act, pool, init)", spec, (int)kn, p);
        }
#undef GD__IS
        p += n;
    }
    if (*p != '\0') return gd_seterr("'%s' is not a LeNet spec", spec);
    return 0;
}

void gd_lenet_format(const gd_lenet_arch *a, char *buf, size_t size) {
    snprintf(buf, size, "lenet:act=%s:pool=%s:init=%s", a->act == GD_LENET_RELU ? "relu" : "sigmoid",
             a->pool == GD_LENET_MAX ? "max" : "avg", a->init == GD_LENET_TORCH ? "torch" : "xavier");
}

/* One layer's weight and bias: shapes, names, initial values (lenet.h). */
static int gd__layer(gd_lenet *m, gd_rng *rng, int p, int ndim, const int *wshape, int fan_in, int fan_out) {
    if (gd_param_init(&m->params[p], gd__names[p], ndim, wshape) != 0) return -1;
    if (gd_param_init(&m->params[p + 1], gd__names[p + 1], 1, wshape) != 0) return -1;
    /* PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    float bound = 1.0f / sqrtf((float)fan_in);
    /* d2l's init_cnn: nn.init.xavier_uniform_(weight), U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
    float wbound = m->arch.init == GD_LENET_XAVIER ? sqrtf(6.0f / (float)(fan_in + fan_out)) : bound;
    gd_tensor *W = m->params[p].value, *b = m->params[p + 1].value;
    gd_rng_fill_uniform(rng, W->data, W->size, -wbound, wbound);
    gd_rng_fill_uniform(rng, b->data, b->size, -bound, bound);
    return 0;
}

int gd_lenet_init(gd_lenet *m, const gd_lenet_arch *a, int max_batch, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (max_batch < 1) return gd_seterr("lenet: max_batch %d (must be >= 1)", max_batch);
    m->arch = *a;
    m->max_batch = max_batch;
    m->nparams = GD_LENET_NPARAMS;
    gd_conv2d_geom_init(&m->c1, 1, GD_LENET_SIDE, GD_LENET_SIDE, 6, 5, 5, 1, 2);   /* -> 6 x 28 x 28 */
    gd_conv2d_geom_init(&m->c2, 6, 14, 14, 16, 5, 5, 1, 0);                        /* -> 16 x 10 x 10 */
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    int w0[4] = {6, 1, 5, 5}, w3[4] = {16, 6, 5, 5}, w7[2] = {120, 400}, w9[2] = {84, 120}, w11[2] = {10, 84};
    if (gd__layer(m, &rng, 0, 4, w0, 1 * 25, 6 * 25) || gd__layer(m, &rng, 2, 4, w3, 6 * 25, 16 * 25) ||
        gd__layer(m, &rng, 4, 2, w7, 400, 120) || gd__layer(m, &rng, 6, 2, w9, 120, 84) ||
        gd__layer(m, &rng, 8, 2, w11, 84, 10))
        goto fail;
    size_t B = (size_t)max_batch;
    m->a1 = malloc(B * 6 * 28 * 28 * sizeof(float));
    m->p1 = malloc(B * 6 * 14 * 14 * sizeof(float));
    m->a2 = malloc(B * 16 * 10 * 10 * sizeof(float));
    m->p2 = malloc(B * 400 * sizeof(float));
    m->a3 = malloc(B * 120 * sizeof(float));
    m->a4 = malloc(B * 84 * sizeof(float));
    m->logits = malloc(B * 10 * sizeof(float));
    m->probs = malloc(B * 10 * sizeof(float));
    m->ga = malloc(B * 6 * 28 * 28 * sizeof(float));
    m->gb = malloc(B * 6 * 28 * 28 * sizeof(float));
    size_t c1 = gd_conv2d_col_size(&m->c1), c2 = gd_conv2d_col_size(&m->c2);
    m->col = malloc((c1 > c2 ? c1 : c2) * sizeof(float));
    if (!m->a1 || !m->p1 || !m->a2 || !m->p2 || !m->a3 || !m->a4 || !m->logits || !m->probs || !m->ga || !m->gb ||
        !m->col)
        goto oom;
    if (a->pool == GD_LENET_MAX) {
        m->idx1 = malloc(B * 6 * 14 * 14 * sizeof(int));
        m->idx2 = malloc(B * 400 * sizeof(int));
        if (!m->idx1 || !m->idx2) goto oom;
    }
    return 0;
oom:
    gd_seterr("lenet: out of memory");
fail:
    gd_lenet_free(m);
    return -1;
}

void gd_lenet_free(gd_lenet *m) {
    for (int i = 0; i < GD_LENET_NPARAMS; i++) gd_param_free(&m->params[i]);
    free(m->a1), free(m->p1), free(m->a2), free(m->p2), free(m->a3), free(m->a4);
    free(m->logits), free(m->probs), free(m->idx1), free(m->idx2), free(m->ga), free(m->gb), free(m->col);
    memset(m, 0, sizeof *m);
}

size_t gd_lenet_numel(const gd_lenet *m) {
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++) n += m->params[i].value->size;
    return n;
}

static void gd__act_forward(const gd_lenet *m, float *x, int n) {
    if (m->arch.act == GD_LENET_RELU) gd_relu_forward(x, x, n);
    else gd_sigmoid_forward(x, x, n);
}

/* dz += dout * act'(.), from the activation's output */
static void gd__act_backward(const gd_lenet *m, float *dz, const float *dout, const float *out, int n) {
    if (m->arch.act == GD_LENET_RELU) gd_relu_backward(dz, dout, out, n);
    else gd_sigmoid_backward(dz, dout, out, n);
}

static void gd__pool_forward(const gd_lenet *m, float *out, int *idx, const float *in, int N, int C, int H) {
    if (m->arch.pool == GD_LENET_MAX) gd_maxpool2d_forward(out, idx, in, N, C, H, H, 2, 2);
    else gd_avgpool2d_forward(out, in, N, C, H, H, 2, 2);
}

static void gd__pool_backward(const gd_lenet *m, float *din, const float *dout, const int *idx, int N, int C,
                              int H) {
    if (m->arch.pool == GD_LENET_MAX) gd_maxpool2d_backward(din, dout, idx, N, C, H, H, 2, 2);
    else gd_avgpool2d_backward(din, dout, N, C, H, H, 2, 2);
}

#define GD__W(m, p) ((m)->params[p].value->data)
#define GD__G(m, p) ((m)->params[p].grad->data)

const float *gd_lenet_forward(gd_lenet *m, const float *X, int N) {
    m->input = X;
    gd_conv2d_forward(m->a1, m->col, X, GD__W(m, 0), GD__W(m, 1), N, &m->c1);   /* 0: Conv2d(1, 6, 5, padding=2) */
    gd__act_forward(m, m->a1, N * 6 * 28 * 28);                                  /* 1: Sigmoid */
    gd__pool_forward(m, m->p1, m->idx1, m->a1, N, 6, 28);                        /* 2: AvgPool2d(2, 2) */
    gd_conv2d_forward(m->a2, m->col, m->p1, GD__W(m, 2), GD__W(m, 3), N, &m->c2); /* 3: Conv2d(6, 16, 5) */
    gd__act_forward(m, m->a2, N * 16 * 10 * 10);                                 /* 4 */
    gd__pool_forward(m, m->p2, m->idx2, m->a2, N, 16, 10);                       /* 5 */
    /* 6: Flatten: p2 (N, 16, 5, 5) is (N, 400) in the same memory */
    gd_linear_forward(m->a3, m->p2, GD__W(m, 4), GD__W(m, 5), N, 400, 120);     /* 7: Linear(400, 120) */
    gd__act_forward(m, m->a3, N * 120);                                          /* 8 */
    gd_linear_forward(m->a4, m->a3, GD__W(m, 6), GD__W(m, 7), N, 120, 84);      /* 9: Linear(120, 84) */
    gd__act_forward(m, m->a4, N * 84);                                           /* 10 */
    gd_linear_forward(m->logits, m->a4, GD__W(m, 8), GD__W(m, 9), N, 84, 10);   /* 11: Linear(84, 10) */
    return m->logits;
}

double gd_lenet_loss(gd_lenet *m, const float *X, const int *y, int N) {
    gd_lenet_forward(m, X, N);
    return gd_xent_forward(m->probs, m->logits, y, N, GD_LENET_CLASSES);
}

void gd_lenet_backward(gd_lenet *m, const int *y, int N) {
    /* two buffers, ga and gb, take turns: each step reads one and writes the other */
    float *ga = m->ga, *gb = m->gb;
    /* dlogits (N, 10) into gb */
    gd_fill(gb, 0.0f, (size_t)N * 10);
    gd_xent_backward(gb, m->probs, y, N, GD_LENET_CLASSES);
    /* 11: dW, db; d a4 (N, 84) = dlogits @ W (written by the sgemm, beta = 0) into ga */
    gd_linear_backward(NULL, GD__G(m, 8), GD__G(m, 9), gb, m->a4, GD__W(m, 8), N, 84, 10);
    gd_matmul(ga, gb, GD__W(m, 8), N, 84, 10, 0, 0, 1.0f, 0.0f);
    /* 10: d z4 = d a4 * act'(z4) into gb */
    gd_fill(gb, 0.0f, (size_t)N * 84);
    gd__act_backward(m, gb, ga, m->a4, N * 84);
    /* 9: dW, db; d a3 (N, 120) into ga */
    gd_linear_backward(NULL, GD__G(m, 6), GD__G(m, 7), gb, m->a3, GD__W(m, 6), N, 120, 84);
    gd_matmul(ga, gb, GD__W(m, 6), N, 120, 84, 0, 0, 1.0f, 0.0f);
    /* 8: d z3 into gb */
    gd_fill(gb, 0.0f, (size_t)N * 120);
    gd__act_backward(m, gb, ga, m->a3, N * 120);
    /* 7: dW, db; d p2 (N, 400) = d (N, 16, 5, 5) into ga; 6: Flatten, nothing to do */
    gd_linear_backward(NULL, GD__G(m, 4), GD__G(m, 5), gb, m->p2, GD__W(m, 4), N, 400, 120);
    gd_matmul(ga, gb, GD__W(m, 4), N, 400, 120, 0, 0, 1.0f, 0.0f);
    /* 5: d a2 (N, 16, 10, 10) into gb */
    gd_fill(gb, 0.0f, (size_t)N * 1600);
    gd__pool_backward(m, gb, ga, m->idx2, N, 16, 10);
    /* 4: d z2 into ga */
    gd_fill(ga, 0.0f, (size_t)N * 1600);
    gd__act_backward(m, ga, gb, m->a2, N * 1600);
    /* 3: dW, db; d p1 (N, 6, 14, 14) into gb */
    gd_fill(gb, 0.0f, (size_t)N * 6 * 14 * 14);
    gd_conv2d_backward(gb, GD__G(m, 2), GD__G(m, 3), m->col, ga, m->p1, GD__W(m, 2), N, &m->c2);
    /* 2: d a1 (N, 6, 28, 28) into ga */
    gd_fill(ga, 0.0f, (size_t)N * 6 * 28 * 28);
    gd__pool_backward(m, ga, gb, m->idx1, N, 6, 28);
    /* 1: d z1 into gb */
    gd_fill(gb, 0.0f, (size_t)N * 6 * 28 * 28);
    gd__act_backward(m, gb, ga, m->a1, N * 6 * 28 * 28);
    /* 0: dW, db (the input needs no gradient) */
    gd_conv2d_backward(NULL, GD__G(m, 0), GD__G(m, 1), m->col, gb, m->input, GD__W(m, 0), N, &m->c1);
}

void gd_lenet_zero_grad(gd_lenet *m) { gd_param_zero_grad(m->params, m->nparams); }

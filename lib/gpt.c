/* gpt.c -- the small GPT of gpt.h, built from the layers of layers.h.
 *
 * Dimension letters: B batch, T positions, N = B * T rows, C width, NH heads,
 * hs = C / NH, V vocabulary, L layers. Every buffer is a slice of one allocation made by
 * gd_gpt_init for max_batch * block rows; a forward with (B, T) uses the first B * T rows,
 * packed as (B, T, ...). */
#include "gpt.h"
#include "err.h"
#include "layers.h"
#include "out.h"
#include "rng.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Parameter indices: wte, wpe, then 12 per block, then ln_f's two. */
enum { P_WTE, P_WPE, P_BLOCK0 };
enum {
    P_LN1_W, P_LN1_B, P_ATTN_W, P_ATTN_B, P_APROJ_W, P_APROJ_B,
    P_LN2_W, P_LN2_B, P_FC_W, P_FC_B, P_MPROJ_W, P_MPROJ_B, P_PER_BLOCK
};
static const char *const gd__block_names[P_PER_BLOCK] = {
    "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
    "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
    "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
};

/* What one block keeps from its forward for its backward. */
typedef struct gd__block_acts {
    float *ln1, *ln1_mean, *ln1_rstd;   /* (N, C), (N), (N): ln_1(x) */
    float *qkv;                         /* (N, 3C) c_attn(ln_1(x)) */
    float *att;                         /* (B, NH, T, T) attention probabilities */
    float *atty;                        /* (N, C) attention output, before c_proj */
    float *aproj;                       /* (N, C) attn.c_proj output */
    float *res2;                        /* (N, C) x + attn(ln_1(x)) */
    float *ln2, *ln2_mean, *ln2_rstd;   /* ln_2(res2) */
    float *fch;                         /* (N, 4C) c_fc(ln_2(res2)) */
    float *fch_gelu;                    /* (N, 4C) GELU of it */
    float *gelu_e;                      /* (N, 4C) GELU's exp(-2u), kept for its backward */
    float *mproj;                       /* (N, C) mlp.c_proj output */
    float *res3;                        /* (N, C) res2 + mlp(ln_2(res2)): the block's output */
} gd__block_acts;

struct gd__gpt_state {
    char **names;                 /* nparams strings */
    float *arena;                 /* every buffer below */
    float *encoded;               /* (N, C) wte[tokens] + wpe */
    gd__block_acts *blk;          /* L */
    float *lnf, *lnf_mean, *lnf_rstd;
    float *logits, *probs;        /* (N, V) */
    /* backward's buffers: gradients with respect to activations */
    float *dres;                  /* (N, C) the residual stream's gradient */
    float *dln;                   /* (N, C) a LayerNorm output's gradient */
    float *datty;                 /* (N, C) */
    float *dqkv;                  /* (N, 3C) */
    float *dfch_gelu, *dfch;      /* (N, 4C) */
    float *dlogits;               /* (N, V) */
    float *work;                  /* (block, block) attention backward's scratch */
    int *tokens, *targets;        /* (max_batch, block) copies of the last call's */
    int B, T, has_loss;
};

static gd_param *P(gd_gpt *m, int l, int which) { return &m->params[P_BLOCK0 + P_PER_BLOCK * l + which]; }
static float *W(gd_gpt *m, int l, int which) { return P(m, l, which)->value->data; }
static float *G(gd_gpt *m, int l, int which) { return P(m, l, which)->grad->data; }
static int gd__lnf(const gd_gpt *m) { return P_BLOCK0 + P_PER_BLOCK * m->cfg.layers; }

static int gd__check_config(const gd_gpt_config *c, int max_batch) {
    if (c->vocab < 1) return gd_seterr("gpt: vocab %d (must be >= 1)", c->vocab);
    if (c->block < 1) return gd_seterr("gpt: block %d (must be >= 1)", c->block);
    if (c->layers < 1) return gd_seterr("gpt: layers %d (must be >= 1)", c->layers);
    if (c->heads < 1) return gd_seterr("gpt: heads %d (must be >= 1)", c->heads);
    if (c->width < 1) return gd_seterr("gpt: width %d (must be >= 1)", c->width);
    if (c->width % c->heads != 0)
        return gd_seterr("gpt: width %d is not a multiple of heads %d", c->width, c->heads);
    if (max_batch < 1) return gd_seterr("gpt: max_batch %d (must be >= 1)", max_batch);
    /* the layers index with int: every buffer's element count must fit one */
    long long N = (long long)max_batch * c->block;
    long long biggest = N * 4 * c->width;
    if (N * c->vocab > biggest) biggest = N * c->vocab;
    if ((long long)max_batch * c->heads * c->block * c->block > biggest)
        biggest = (long long)max_batch * c->heads * c->block * c->block;
    if ((long long)c->vocab * c->width > biggest) biggest = (long long)c->vocab * c->width;
    if (biggest > INT_MAX)
        return gd_seterr("gpt: too large: a buffer of %lld floats (at most %d)", biggest, INT_MAX);
    return 0;
}

/* Slices of the arena, each rounded up to 16 floats (64 bytes). */
typedef struct { float *base; size_t used; } gd__carver;
static float *gd__carve(gd__carver *c, size_t n) {
    float *p = c->base ? c->base + c->used : NULL;
    c->used += (n + 15) / 16 * 16;
    return p;
}

/* Lays out every buffer; with base NULL only counts the floats. */
static size_t gd__layout(struct gd__gpt_state *s, float *base, const gd_gpt_config *cfg, int max_batch) {
    size_t N = (size_t)max_batch * cfg->block, C = (size_t)cfg->width, V = (size_t)cfg->vocab;
    size_t TT = (size_t)cfg->block * cfg->block;
    gd__carver c = {base, 0};
    s->encoded = gd__carve(&c, N * C);
    for (int l = 0; l < cfg->layers; l++) {
        gd__block_acts *a = &s->blk[l];
        a->ln1 = gd__carve(&c, N * C);
        a->ln1_mean = gd__carve(&c, N);
        a->ln1_rstd = gd__carve(&c, N);
        a->qkv = gd__carve(&c, N * 3 * C);
        a->att = gd__carve(&c, (size_t)max_batch * cfg->heads * TT);
        a->atty = gd__carve(&c, N * C);
        a->aproj = gd__carve(&c, N * C);
        a->res2 = gd__carve(&c, N * C);
        a->ln2 = gd__carve(&c, N * C);
        a->ln2_mean = gd__carve(&c, N);
        a->ln2_rstd = gd__carve(&c, N);
        a->fch = gd__carve(&c, N * 4 * C);
        a->fch_gelu = gd__carve(&c, N * 4 * C);
        a->gelu_e = gd__carve(&c, N * 4 * C);
        a->mproj = gd__carve(&c, N * C);
        a->res3 = gd__carve(&c, N * C);
    }
    s->lnf = gd__carve(&c, N * C);
    s->lnf_mean = gd__carve(&c, N);
    s->lnf_rstd = gd__carve(&c, N);
    s->logits = gd__carve(&c, N * V);
    s->probs = gd__carve(&c, N * V);
    s->dres = gd__carve(&c, N * C);
    s->dln = gd__carve(&c, N * C);
    s->datty = gd__carve(&c, N * C);
    s->dqkv = gd__carve(&c, N * 3 * C);
    s->dfch_gelu = gd__carve(&c, N * 4 * C);
    s->dfch = gd__carve(&c, N * 4 * C);
    s->dlogits = gd__carve(&c, N * V);
    s->work = gd__carve(&c, TT);
    return c.used;
}

int gd_gpt_init(gd_gpt *m, const gd_gpt_config *cfg, int max_batch, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (gd__check_config(cfg, max_batch) != 0) return -1;
    int L = cfg->layers, C = cfg->width, V = cfg->vocab;
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->nparams = P_BLOCK0 + P_PER_BLOCK * L + 2;
    struct gd__gpt_state *s = m->s = calloc(1, sizeof *s);
    m->params = calloc((size_t)m->nparams, sizeof *m->params);
    if (!s || !m->params) goto oom;
    s->names = calloc((size_t)m->nparams, sizeof *s->names);
    s->blk = calloc((size_t)L, sizeof *s->blk);
    s->tokens = malloc((size_t)max_batch * cfg->block * sizeof *s->tokens);
    s->targets = malloc((size_t)max_batch * cfg->block * sizeof *s->targets);
    if (!s->names || !s->blk || !s->tokens || !s->targets) goto oom;

    /* the parameters: names, shapes */
    for (int i = 0; i < m->nparams; i++) {
        char name[96];
        int shape[2], ndim = 1;
        if (i == P_WTE) {
            snprintf(name, sizeof name, "transformer.wte.weight");
            shape[0] = V, shape[1] = C, ndim = 2;
        } else if (i == P_WPE) {
            snprintf(name, sizeof name, "transformer.wpe.weight");
            shape[0] = cfg->block, shape[1] = C, ndim = 2;
        } else if (i >= gd__lnf(m)) {
            snprintf(name, sizeof name, "transformer.ln_f.%s", i == gd__lnf(m) ? "weight" : "bias");
            shape[0] = C;
        } else {
            int l = (i - P_BLOCK0) / P_PER_BLOCK, k = (i - P_BLOCK0) % P_PER_BLOCK;
            snprintf(name, sizeof name, "transformer.h.%d.%s", l, gd__block_names[k]);
            switch (k) {
            case P_ATTN_W: shape[0] = 3 * C, shape[1] = C, ndim = 2; break;
            case P_ATTN_B: shape[0] = 3 * C; break;
            case P_APROJ_W: shape[0] = C, shape[1] = C, ndim = 2; break;
            case P_FC_W: shape[0] = 4 * C, shape[1] = C, ndim = 2; break;
            case P_FC_B: shape[0] = 4 * C; break;
            case P_MPROJ_W: shape[0] = C, shape[1] = 4 * C, ndim = 2; break;
            default: shape[0] = C; break; /* LayerNorm weight and bias, c_proj biases */
            }
        }
        s->names[i] = strdup(name);
        if (!s->names[i]) goto oom;
        if (gd_param_init(&m->params[i], s->names[i], ndim, shape) != 0) goto fail;
    }

    /* GPT-2's initialisation (nanoGPT's _init_weights and the c_proj special case):
     * Linear and Embedding weights N(0, 0.02), the residual projections (c_proj)
     * N(0, 0.02 / sqrt(2 L)), biases 0 (gd_param_init zeroed them), LayerNorm weight 1.
     * Drawn in parameter order from one stream. */
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    float std = 0.02f, proj_std = (float)(0.02 / sqrt(2.0 * L));
    for (int i = 0; i < m->nparams; i++) {
        gd_tensor *v = m->params[i].value;
        int k = i >= P_BLOCK0 && i < gd__lnf(m) ? (i - P_BLOCK0) % P_PER_BLOCK : -1;
        if (i == P_WTE || i == P_WPE || k == P_ATTN_W || k == P_FC_W)
            gd_rng_fill_normal(&rng, v->data, v->size, 0.0f, std);
        else if (k == P_APROJ_W || k == P_MPROJ_W)
            gd_rng_fill_normal(&rng, v->data, v->size, 0.0f, proj_std);
        else if (k == P_LN1_W || k == P_LN2_W || i == gd__lnf(m))
            gd_fill(v->data, 1.0f, v->size);
    }

    /* the activations: one allocation, laid out twice (count, then carve) */
    size_t n = gd__layout(s, NULL, cfg, max_batch);
    if (posix_memalign((void **)&s->arena, 64, n * sizeof(float)) != 0) {
        s->arena = NULL;
        goto oom;
    }
    memset(s->arena, 0, n * sizeof(float));
    gd__layout(s, s->arena, cfg, max_batch);
    return 0;
oom:
    gd_seterr("gpt: out of memory");
fail:
    gd_gpt_free(m);
    return -1;
}

void gd_gpt_free(gd_gpt *m) {
    struct gd__gpt_state *s = m->s;
    for (int i = 0; m->params && i < m->nparams; i++) gd_param_free(&m->params[i]);
    if (s) {
        for (int i = 0; s->names && i < m->nparams; i++) free(s->names[i]);
        free(s->names);
        free(s->blk);
        free(s->arena);
        free(s->tokens);
        free(s->targets);
        free(s);
    }
    free(m->params);
    memset(m, 0, sizeof *m);
}

size_t gd_gpt_numel(const gd_gpt *m) {
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++) n += m->params[i].value->size;
    return n;
}

gd_param *gd_gpt_param(gd_gpt *m, const char *name) {
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

int gd_gpt_decays(const gd_gpt *m, int i) {
    if (i < P_BLOCK0 || i >= gd__lnf(m)) return 0; /* wte (and the tied head), wpe, ln_f */
    int k = (i - P_BLOCK0) % P_PER_BLOCK;
    return k == P_ATTN_W || k == P_APROJ_W || k == P_FC_W || k == P_MPROJ_W;
}

const float *gd_gpt_forward(gd_gpt *m, const int *tokens, int B, int T) {
    struct gd__gpt_state *s = m->s;
    int C = m->cfg.width, NH = m->cfg.heads, V = m->cfg.vocab, N = B * T;
    s->B = B, s->T = T, s->has_loss = 0;
    memcpy(s->tokens, tokens, (size_t)N * sizeof *tokens);
    /* x = wte[tokens] + wpe[0..T) */
    gd_encoder_forward(s->encoded, tokens, m->params[P_WTE].value->data,
                       m->params[P_WPE].value->data, B, T, C);
    const float *x = s->encoded;
    for (int l = 0; l < m->cfg.layers; l++) {
        gd__block_acts *a = &s->blk[l];
        /* x + attn(ln_1(x)): qkv = c_attn(ln_1(x)) (N, 3C), attention, c_proj (N, C) */
        gd_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, W(m, l, P_LN1_W),
                             W(m, l, P_LN1_B), N, C);
        gd_linear_forward(a->qkv, a->ln1, W(m, l, P_ATTN_W), W(m, l, P_ATTN_B), N, C, 3 * C);
        gd_attention_forward(a->atty, a->att, a->qkv, B, T, C, NH);
        gd_linear_forward(a->aproj, a->atty, W(m, l, P_APROJ_W), W(m, l, P_APROJ_B), N, C, C);
        gd_residual_forward(a->res2, x, a->aproj, N * C);
        /* res2 + mlp(ln_2(res2)): c_fc (N, 4C), GELU, c_proj (N, C) */
        gd_layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, W(m, l, P_LN2_W),
                             W(m, l, P_LN2_B), N, C);
        gd_linear_forward(a->fch, a->ln2, W(m, l, P_FC_W), W(m, l, P_FC_B), N, C, 4 * C);
        gd_gelu_forward_e(a->fch_gelu, a->gelu_e, a->fch, N * 4 * C);
        gd_linear_forward(a->mproj, a->fch_gelu, W(m, l, P_MPROJ_W), W(m, l, P_MPROJ_B), N,
                          4 * C, C);
        gd_residual_forward(a->res3, a->res2, a->mproj, N * C);
        x = a->res3;
    }
    /* logits = ln_f(x) @ wte^T: the head is the token embedding (weight tying) */
    int f = gd__lnf(m);
    gd_layernorm_forward(s->lnf, s->lnf_mean, s->lnf_rstd, x, m->params[f].value->data,
                         m->params[f + 1].value->data, N, C);
    gd_linear_forward(s->logits, s->lnf, m->params[P_WTE].value->data, NULL, N, C, V);
    return s->logits;
}

double gd_gpt_loss(gd_gpt *m, const int *tokens, const int *targets, int B, int T) {
    struct gd__gpt_state *s = m->s;
    const float *logits = gd_gpt_forward(m, tokens, B, T);
    memcpy(s->targets, targets, (size_t)B * T * sizeof *targets);
    s->has_loss = 1;
    /* F.cross_entropy(logits.view(-1, V), targets.view(-1)): mean over B * T */
    return gd_xent_forward_fast(s->probs, logits, targets, B * T, m->cfg.vocab);
}

/* gd_linear_backward with din WRITTEN (sgemm with beta = 0) rather than accumulated:
 * the scratch buffers below hold nothing else, so they need no zeroing first. */
static void gd__linear_backward_write(float *din, float *dw, float *db, const float *dout,
                                      const float *in, const float *w, int N, int I, int O) {
    gd_matmul(din, dout, w, N, I, O, 0, 0, 1.0f, 0.0f);      /* din = dout @ w */
    gd_linear_backward(NULL, dw, db, dout, in, w, N, I, O);   /* dw += dout^T @ in, db += */
}

void gd_gpt_backward(gd_gpt *m) {
    struct gd__gpt_state *s = m->s;
    if (!s->has_loss) return;
    int B = s->B, T = s->T, N = B * T;
    int C = m->cfg.width, NH = m->cfg.heads, V = m->cfg.vocab, L = m->cfg.layers;
    size_t NC = (size_t)N * C;
    /* from loss = mean xent(logits): dlogits = (probs - onehot) / N */
    gd_fill(s->dlogits, 0.0f, (size_t)N * V);
    gd_xent_backward(s->dlogits, s->probs, s->targets, N, V);
    /* from logits = lnf @ wte^T: dlnf = dlogits @ wte, dwte += dlogits^T @ lnf */
    gd__linear_backward_write(s->dln, m->params[P_WTE].grad->data, NULL, s->dlogits, s->lnf,
                              m->params[P_WTE].value->data, N, C, V);
    /* from lnf = ln_f(x_L) */
    int f = gd__lnf(m);
    gd_fill(s->dres, 0.0f, NC);
    gd_layernorm_backward(s->dres, m->params[f].grad->data, m->params[f + 1].grad->data,
                          s->dln, s->blk[L - 1].res3, m->params[f].value->data, s->lnf_mean,
                          s->lnf_rstd, N, C);
    /* Down the blocks. dres is the gradient of the residual stream; a residual
     * connection y = x + branch(x) passes dy to x unchanged (gd_residual_backward's
     * da += dout), so dres stays where it is, serves as dbranch, and the branch's
     * gradient through its LayerNorm is added to it. */
    for (int l = L - 1; l >= 0; l--) {
        gd__block_acts *a = &s->blk[l];
        const float *x = l == 0 ? s->encoded : s->blk[l - 1].res3;
        /* from res3 = res2 + c_proj(GELU(c_fc(ln_2(res2)))) */
        gd__linear_backward_write(s->dfch_gelu, G(m, l, P_MPROJ_W), G(m, l, P_MPROJ_B), s->dres,
                           a->fch_gelu, W(m, l, P_MPROJ_W), N, 4 * C, C);
        gd_fill(s->dfch, 0.0f, 4 * NC);
        gd_gelu_backward_e(s->dfch, s->dfch_gelu, a->fch, a->gelu_e, N * 4 * C);
        gd__linear_backward_write(s->dln, G(m, l, P_FC_W), G(m, l, P_FC_B), s->dfch, a->ln2,
                           W(m, l, P_FC_W), N, C, 4 * C);
        gd_layernorm_backward(s->dres, G(m, l, P_LN2_W), G(m, l, P_LN2_B), s->dln, a->res2,
                              W(m, l, P_LN2_W), a->ln2_mean, a->ln2_rstd, N, C);
        /* from res2 = x + c_proj(attention(c_attn(ln_1(x)))) */
        gd__linear_backward_write(s->datty, G(m, l, P_APROJ_W), G(m, l, P_APROJ_B), s->dres,
                           a->atty, W(m, l, P_APROJ_W), N, C, C);
        gd_fill(s->dqkv, 0.0f, 3 * NC);
        gd_attention_backward(s->dqkv, s->work, s->datty, a->qkv, a->att, B, T, C, NH);
        gd__linear_backward_write(s->dln, G(m, l, P_ATTN_W), G(m, l, P_ATTN_B), s->dqkv, a->ln1,
                           W(m, l, P_ATTN_W), N, C, 3 * C);
        gd_layernorm_backward(s->dres, G(m, l, P_LN1_W), G(m, l, P_LN1_B), s->dln, x,
                              W(m, l, P_LN1_W), a->ln1_mean, a->ln1_rstd, N, C);
    }
    /* from x = wte[tokens] + wpe */
    gd_encoder_backward(m->params[P_WTE].grad->data, m->params[P_WPE].grad->data, s->dres,
                        s->tokens, B, T, C);
}

void gd_gpt_zero_grad(gd_gpt *m) { gd_param_zero_grad(m->params, m->nparams); }

/* ---------------------------------------------------------------------------------
 * The file (format in gpt.h). */

#define GD__MAGIC "GDGPT\0\0\0"
#define GD__VERSION 1u
#define GD__HEADER 24 /* magic 8, version 4, flags 4, payload length 8 */

static void gd__le32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void gd__le64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t gd__rd32(const unsigned char *b) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}
static uint64_t gd__rd64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}
static uint32_t gd__crc(const unsigned char *b, size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) { /* crc32 takes a uInt length */
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, b, k);
        b += k, n -= k;
    }
    return (uint32_t)crc;
}

static size_t gd__payload_size(const gd_gpt *m) {
    size_t n = 6 * 4;
    for (int i = 0; i < m->nparams; i++)
        n += 4 + 4 * (size_t)m->params[i].value->ndim + 4 * m->params[i].value->size;
    return n;
}

int gd_gpt_save(const gd_gpt *m, const char *path) {
    size_t P = gd__payload_size(m), total = GD__HEADER + P + 4;
    unsigned char *buf = malloc(total), *p = buf;
    if (!buf) return gd_seterr("%s: out of memory for %zu bytes", path, total);
    memcpy(p, GD__MAGIC, 8), p += 8;
    gd__le32(p, GD__VERSION), p += 4;
    gd__le32(p, 0), p += 4;
    gd__le64(p, P), p += 8;
    const int cfg[5] = {m->cfg.vocab, m->cfg.block, m->cfg.layers, m->cfg.heads, m->cfg.width};
    for (int k = 0; k < 5; k++) gd__le32(p, (uint32_t)cfg[k]), p += 4;
    gd__le32(p, (uint32_t)m->nparams), p += 4;
    for (int i = 0; i < m->nparams; i++) {
        const gd_tensor *v = m->params[i].value;
        gd__le32(p, (uint32_t)v->ndim), p += 4;
        for (int d = 0; d < v->ndim; d++) gd__le32(p, (uint32_t)v->shape[d]), p += 4;
        for (size_t j = 0; j < v->size; j++) {
            uint32_t bits;
            memcpy(&bits, &v->data[j], 4);
            gd__le32(p, bits), p += 4;
        }
    }
    gd__le32(p, gd__crc(buf, total - 4));

    /* out.h's policy: PATH.tmp.PID, fsync, rename over PATH, fsync the directory (a
     * symlink followed, a device written in place) */
    int rc = gd_write_file(path, buf, total);
    free(buf);
    return rc;
}

int gd_gpt_load(gd_gpt *m, const char *path, int max_batch) {
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) return gd_seterr("%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap = cap ? 2 * cap : 1 << 16);
            if (!nb) {
                free(buf);
                fclose(f);
                return gd_seterr("%s: out of memory", path);
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return gd_seterr("%s: read error", path);
    }
    const unsigned char *p = buf;
    int rc = -1;
    if (n < GD__HEADER + 4 || memcmp(buf, GD__MAGIC, 8) != 0) {
        gd_seterr("%s: not a GPT parameter file (%s)", path,
                  n < 8 ? "too short" : "wrong magic");
        goto done;
    }
    uint32_t version = gd__rd32(buf + 8);
    if (version != GD__VERSION) {
        gd_seterr("%s: version %lu (this library reads %u)", path, (unsigned long)version, GD__VERSION);
        goto done;
    }
    uint64_t P = gd__rd64(buf + 16);
    if (P > n || n - GD__HEADER - 4 != P) {
        gd_seterr("%s: truncated or extended: %zu bytes, the header says %llu", path, n,
                  (unsigned long long)(GD__HEADER + P + 4));
        goto done;
    }
    uint32_t stored = gd__rd32(buf + n - 4), crc = gd__crc(buf, n - 4);
    if (stored != crc) {
        gd_seterr("%s: damaged: CRC-32 is %08lx, the file says %08lx", path,
                  (unsigned long)crc, (unsigned long)stored);
        goto done;
    }
    p = buf + GD__HEADER;
    const unsigned char *end = buf + n - 4;
    if (end - p < 24) {
        gd_seterr("%s: payload too short for the config", path);
        goto done;
    }
    uint32_t c[6];
    for (int k = 0; k < 6; k++) c[k] = gd__rd32(p), p += 4;
    for (int k = 0; k < 6; k++)
        if (c[k] > INT_MAX) {
            gd_seterr("%s: config field %d is %lu", path, k, (unsigned long)c[k]);
            goto done;
        }
    gd_gpt_config cfg = {(int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4]};
    if (gd_gpt_init(m, &cfg, max_batch, 0) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", gd_error());
        gd_seterr("%s: %s", path, why);
        goto done;
    }
    if ((int)c[5] != m->nparams) {
        gd_seterr("%s: %lu parameters, the config has %d", path, (unsigned long)c[5], m->nparams);
        goto done;
    }
    for (int i = 0; i < m->nparams; i++) {
        gd_tensor *v = m->params[i].value;
        if (end - p < 4 || gd__rd32(p) != (uint32_t)v->ndim) {
            gd_seterr("%s: %s: wrong number of dimensions", path, m->params[i].name);
            goto done;
        }
        p += 4;
        if ((size_t)(end - p) < 4 * (size_t)v->ndim) {
            gd_seterr("%s: %s: truncated shape", path, m->params[i].name);
            goto done;
        }
        for (int d = 0; d < v->ndim; d++, p += 4)
            if (gd__rd32(p) != (uint32_t)v->shape[d]) {
                gd_seterr("%s: %s: dimension %d is %lu, the config says %d", path,
                          m->params[i].name, d, (unsigned long)gd__rd32(p), v->shape[d]);
                goto done;
            }
        if ((size_t)(end - p) / 4 < v->size) {
            gd_seterr("%s: %s: truncated values", path, m->params[i].name);
            goto done;
        }
        for (size_t j = 0; j < v->size; j++, p += 4) {
            uint32_t bits = gd__rd32(p);
            memcpy(&v->data[j], &bits, 4);
        }
    }
    if (p != end) {
        gd_seterr("%s: %zu bytes after the last parameter", path, (size_t)(end - p));
        goto done;
    }
    rc = 0;
done:
    free(buf);
    if (rc != 0 && m->params) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", gd_error());
        gd_gpt_free(m);
        gd_seterr("%s", msg);
    }
    return rc;
}

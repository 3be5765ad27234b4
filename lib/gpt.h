/* gpt.h -- a small GPT (GPT-2's architecture), trained with the library's optimizers.
 *
 * The model is nanoGPT's GPT with bias = True and no dropout (Karpathy,
 * https://github.com/karpathy/nanoGPT, model.py), which is GPT-2's (Radford et al. 2019):
 *
 *   x = wte[tokens] + wpe[0..T)                    token + learned position embedding
 *   for each of the L blocks:
 *       x = x + attn(ln_1(x))                      causal multi-head self-attention
 *       x = x + mlp(ln_2(x))                       mlp = c_proj(GELU(c_fc(.))), C -> 4C -> C
 *   logits = ln_f(x) @ wte^T                       the head is tied to the token embedding
 *   loss = mean over the B*T positions of -log softmax(logits)[target]
 *
 * LayerNorm eps 1e-5; GELU in GPT-2's tanh form (PyTorch's approximate='tanh'); attention
 * scaled by 1/sqrt(hs). The layers are in layers.h, each a forward/backward pair checked
 * against finite differences and PyTorch (tests/lib/test_layers.c, tests/lib/test_gpt.c,
 * fixtures from tests/ref/gpt_ref.py).
 *
 * Dimension letters: B batch rows, T positions (T <= block), C width, NH heads,
 * hs = C / NH head size, V vocabulary, L layers.
 *
 *   gd_gpt_config cfg = {.vocab = 96, .block = 64, .layers = 4, .heads = 4, .width = 128};
 *   gd_gpt m;
 *   if (gd_gpt_init(&m, &cfg, 32, seed) != 0) die(gd_error());
 *   gd_optim *opt = gd_optim_new(GD_ADAMW, &hp);
 *   ... two groups: the params with gd_gpt_decays(&m, i), and the rest with weight_decay 0
 *   for (long t = 0; t < steps; t++) {
 *       double loss = gd_gpt_loss(&m, tokens, targets, B, T);   // (B, T) ints each
 *       gd_gpt_zero_grad(&m);
 *       gd_gpt_backward(&m);                                     // into m.params[i].grad
 *       gd_optim_step(opt);
 *   }
 *   gd_gpt_save(&m, "model.bin");
 *   gd_gpt_free(&m);
 *
 * PARAMETERS, named and ordered as nanoGPT's state_dict (Linear weights (out, in) as
 * nn.Linear keeps them); nparams = 2 + 12 L + 2:
 *   transformer.wte.weight (V, C)        transformer.wpe.weight (block, C)
 *   per block l, prefix transformer.h.l.:
 *     ln_1.weight (C)  ln_1.bias (C)
 *     attn.c_attn.weight (3C, C)  attn.c_attn.bias (3C)     q, k, v in that order
 *     attn.c_proj.weight (C, C)   attn.c_proj.bias (C)
 *     ln_2.weight (C)  ln_2.bias (C)
 *     mlp.c_fc.weight (4C, C)     mlp.c_fc.bias (4C)
 *     mlp.c_proj.weight (C, 4C)   mlp.c_proj.bias (C)
 *   transformer.ln_f.weight (C)          transformer.ln_f.bias (C)
 * lm_head.weight is wte itself, not a separate parameter: its gradient is added to wte's.
 *
 * INITIALISATION (nanoGPT's _init_weights, GPT-2's): Linear and Embedding weights
 * N(0, 0.02); the two c_proj weights of each block (the projections into the residual
 * stream) N(0, 0.02 / sqrt(2 L)); biases 0; LayerNorm weight 1, bias 0. Drawn from our
 * RNG (rng.h) in parameter order, so the same seed gives the same model on every machine.
 * With these weights the logits are near 0 and the loss at init is close to ln V.
 *
 * WEIGHT DECAY GROUPS (gd_gpt_decays): minGPT's configure_optimizers rule, which nanoGPT
 * also used until May 2023 (its model.py at commit 196160b; commit 7fe4a09, "simplify
 * configure_optimizers by a lot", replaced it): weights of the Linear layers (c_attn,
 * c_proj, c_fc) decay; biases, LayerNorm weights and the embeddings (wte, wpe) do not --
 * the tied head is wte, so it is not decayed either. (nanoGPT's current version decays
 * every parameter with 2 or more dimensions, embeddings included.)
 *
 * MEMORY. Every activation buffer (those backward needs, the gradients of the
 * activations, the softmax probabilities of the attention (B, NH, T, T) and of the head
 * (B, T, V)) is allocated once by gd_gpt_init for max_batch rows of block positions;
 * forward, loss and backward allocate nothing. That is, in floats,
 *     max_batch * block * (L (22 C + NH * block + 4) + 16 C + 3 V + 2) + block^2
 * (the attention's NH * block per position grows with the context; 4 C of the 22 C is
 * GELU's exp kept for its backward), plus the parameters and their gradients,
 * 2 * gd_gpt_numel. For V 96, block 64, L 4, NH 4, C 128, max_batch 32: 120 MB of
 * activations, 6.5 MB of parameters and gradients.
 *
 * THE FILE (gd_gpt_save, version 1): little-endian, fixed width, floats as IEEE-754 bits:
 *   8 bytes magic "GDGPT\0\0\0", u32 version (1), u32 flags (0), u64 payload length P,
 *   payload: u32 vocab, block, layers, heads, width, u32 nparams, then per parameter
 *            u32 ndim, u32 shape[ndim], f32 values[product of shape],
 *   u32 CRC-32 (zlib's crc32) of every byte before it.
 * Written by out.h's gd_write_file, the policy of every file the book writes: PATH.tmp.PID,
 * fsynced, renamed over PATH, directory fsynced; a symlink is followed, a device or FIFO
 * written in place, a directory refused. A load refuses
 * (one line in gd_error()) a wrong magic or version, any truncation, a CRC mismatch, and
 * shapes that do not match the stored config.
 *
 * Errors (err.h): init/save/load return 0 or -1 with one line in gd_error(); they never
 * print or exit. forward/loss/backward trust their arguments (tokens and targets in
 * [0, V), 1 <= B <= max_batch, 1 <= T <= block): check them at the program's edge.
 */
#ifndef GD_GPT_H
#define GD_GPT_H

#include <stddef.h>
#include <stdint.h>
#include "tensor.h"

typedef struct gd_gpt_config {
    int vocab;    /* V   vocabulary size */
    int block;    /* max context length (T <= block) */
    int layers;   /* L   transformer blocks */
    int heads;    /* NH  attention heads; width % heads == 0, hs = C / NH */
    int width;    /* C   embedding width */
} gd_gpt_config;

struct gd__gpt_state; /* activations and buffers: private to gpt.c */

typedef struct gd_gpt {
    gd_gpt_config cfg;
    int max_batch;        /* B rows allocated for */
    int nparams;          /* 2 + 12 * layers + 2 */
    gd_param *params;     /* in the order and with the names listed above */
    struct gd__gpt_state *s;  /* private */
} gd_gpt;

/* GPT-2 initialisation (std 0.02; c_proj weights std 0.02/sqrt(2*layers); biases 0,
 * LayerNorm weight 1 bias 0), from our RNG and seed. -1 + gd_error() on a bad config
 * (any size < 1, width not a multiple of heads) or max_batch < 1. */
int gd_gpt_init(gd_gpt *m, const gd_gpt_config *cfg, int max_batch, uint64_t seed);
void gd_gpt_free(gd_gpt *m);
size_t gd_gpt_numel(const gd_gpt *m);            /* the tied head counted once */
/* The parameter with this name (as listed above), or NULL. */
gd_param *gd_gpt_param(gd_gpt *m, const char *name);

/* tokens (B, T) in [0, V), B <= max_batch, T <= block.  Returns logits (B, T, V), a
 * buffer inside the model valid until the next forward. */
const float *gd_gpt_forward(gd_gpt *m, const int *tokens, int B, int T);
/* forward + mean cross-entropy over all B*T positions against targets (B, T). */
double gd_gpt_loss(gd_gpt *m, const int *tokens, const int *targets, int B, int T);
/* backward from the last gd_gpt_loss: ACCUMULATES into every params[i].grad.
 * Does nothing if there has been no gd_gpt_loss since the last gd_gpt_forward. */
void gd_gpt_backward(gd_gpt *m);
void gd_gpt_zero_grad(gd_gpt *m);
/* 1 if params[i] gets weight decay in the standard GPT grouping (weights of the linear
 * layers yes; biases, LayerNorm, embeddings no: minGPT's rule, see above), 0 otherwise. */
int gd_gpt_decays(const gd_gpt *m, int i);

/* Parameters only (config + values), for sampling from a trained model: crash-safe
 * write (temp + fsync + rename), CRC-checked read; a damaged or mismatched file is
 * refused with one line in gd_error(). load allocates the model (max_batch rows);
 * on failure m is left zeroed (nothing to free). */
int gd_gpt_save(const gd_gpt *m, const char *path);
int gd_gpt_load(gd_gpt *m, const char *path, int max_batch);

#endif

/* layers.h -- layers as forward/backward pairs, on raw float arrays.
 *
 * Dimension letters: N batch, I inputs, O outputs, K classes, n elements.
 * Arguments: outputs first, then inputs, then sizes. A backward function ACCUMULATES
 * into its gradient outputs (+=), so gradients from several paths add up; clear them
 * with gd_param_zero_grad before each step. A NULL gradient output is skipped (the
 * first layer needs no gradient for its input).
 *
 *   gd_linear_forward(h, X, W, b, N, D, H);               // h = X @ W^T + b
 *   gd_relu_forward(a, h, N * H);
 *   loss = gd_xent_forward(probs, logits, y, N, K);
 *   gd_xent_backward(dlogits, probs, y, N, K);
 *   gd_relu_backward(dh, da, h, N * H);
 *   gd_linear_backward(NULL, dW, db, dh, X, W, N, D, H);
 *
 * Shapes follow PyTorch: nn.Linear keeps its weight as (out, in).
 */
#ifndef GD_LAYERS_H
#define GD_LAYERS_H

/* Linear: out = in @ w^T + b.  out (N, O), in (N, I), w (O, I), b (O) or NULL. */
void gd_linear_forward(float *out, const float *in, const float *w, const float *b,
                       int N, int I, int O);
/* din += dout @ w;  dw += dout^T @ in;  db += sum_i dout[i, :].  Any output may be NULL. */
void gd_linear_backward(float *din, float *dw, float *db, const float *dout,
                        const float *in, const float *w, int N, int I, int O);

/* ReLU: out = max(0, in).  in-place (out == in) is allowed. */
void gd_relu_forward(float *out, const float *in, int n);
/* din += dout * (out > 0); pass the forward OUTPUT (works after an in-place forward). */
void gd_relu_backward(float *din, const float *dout, const float *out, int n);

/* Tanh: out = tanh(in). */
void gd_tanh_forward(float *out, const float *in, int n);
/* din += dout * (1 - out^2); pass the forward OUTPUT. */
void gd_tanh_backward(float *din, const float *dout, const float *out, int n);

/* Sigmoid (nn.Sigmoid): out = 1 / (1 + exp(-in)), with the vectorized exp of the
 * transformer layers below (relative error about 1e-7; tested against the double
 * formula in tests/lib/test_conv.c). in-place (out == in) is allowed. */
void gd_sigmoid_forward(float *out, const float *in, int n);
/* din += dout * out * (1 - out); pass the forward OUTPUT. */
void gd_sigmoid_backward(float *din, const float *dout, const float *out, int n);

/* Softmax + cross-entropy, fused (as nn.CrossEntropyLoss with mean reduction).
 * probs (N, K) = softmax(logits); returns mean_i -log probs[i, y[i]] in double.
 * Labels y (N) must lie in [0, K). */
double gd_xent_forward(float *probs, const float *logits, const int *y, int N, int K);
/* dlogits += (probs - onehot(y)) / N. */
void gd_xent_backward(float *dlogits, const float *probs, const int *y, int N, int K);

/* Mean squared error (nn.MSELoss, mean reduction): mean_i (pred[i] - target[i])^2. */
double gd_mse_forward(const float *pred, const float *target, int n);
/* dpred += 2 (pred - target) / n. */
void gd_mse_backward(float *dpred, const float *pred, const float *target, int n);

/* Number of rows whose argmax equals the label. logits (N, K). */
int gd_count_correct(const float *logits, const int *y, int N, int K);

/* ---------------------------------------------------------------------------------
 * Transformer layers (GPT-2's, as in nanoGPT and llm.c), on activations laid out
 * (B, T, C): B sequences of T positions, C channels, row-major; NH attention heads of
 * hs = C / NH channels each. N = B * T rows where a layer treats positions alike.
 * Forward functions write their outputs; backward functions ACCUMULATE (+=) as above.
 *
 *   gd_encoder_forward(x, tokens, wte, wpe, B, T, C);            // x (B, T, C)
 *   gd_layernorm_forward(h, mean, rstd, x, w, b, B * T, C);      // h = ln_1(x)
 *   gd_linear_forward(qkv, h, w_attn, b_attn, B * T, C, 3 * C);  // (B, T, 3C)
 *   gd_attention_forward(y, att, qkv, B, T, C, NH);              // y (B, T, C)
 *   gd_gelu_forward(g, f, n);
 *   gd_residual_forward(x2, x, a, n);                            // x2 = x + a
 * --------------------------------------------------------------------------------- */

/* Token + learned position embedding (nn.Embedding twice, summed):
 *   out[b, t, :] = wte[tokens[b, t], :] + wpe[t, :]
 * out (B, T, C), tokens (B, T) in [0, V), wte (V, C), wpe (>= T, C). */
void gd_encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                        int B, int T, int C);
/* dwte[tokens[b, t], :] += dout[b, t, :];  dwpe[t, :] += dout[b, t, :].  Either may be NULL. */
void gd_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                         int B, int T, int C);

/* LayerNorm over the last dimension of N rows (nn.LayerNorm(C), eps GD_LN_EPS):
 *   mean = sum_c x[c] / C,  var = sum_c (x[c] - mean)^2 / C (biased, as torch),
 *   rstd = 1 / sqrt(var + eps),  out[c] = (x[c] - mean) * rstd * w[c] + b[c].
 * out, in (N, C); w, b (C); mean, rstd (N) are kept for backward. */
#define GD_LN_EPS 1e-5f
void gd_layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *w, const float *b, int N, int C);
/* din += dx; dw += sum_rows dout * xhat; db += sum_rows dout, where xhat = (x - mean) rstd
 * and dx = rstd (g - mean_c(g) - xhat mean_c(g xhat)) with g = dout * w.  Any output may
 * be NULL (then it is skipped). */
void gd_layernorm_backward(float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, const float *mean,
                           const float *rstd, int N, int C);

/* Causal multi-head self-attention, the part between c_attn and c_proj:
 *   qkv (B, T, 3C) holds q, k, v side by side: q = qkv[b, t, 0:C], k = [C:2C], v = [2C:3C];
 *   head h uses channels h*hs .. h*hs + hs - 1 of each.
 *   att[b, h, t, s] = softmax_s( q_t . k_s / sqrt(hs) ) over s <= t, 0 for s > t
 *   out[b, t, h*hs + i] = sum_s att[b, h, t, s] v_s[h*hs + i]
 * out (B, T, C); att (B, NH, T, T) the probabilities, kept for backward.
 * This one does the products with sgemm, one (T, T) block per (b, h); the _naive twin
 * is the specification (plain loops, double accumulation) the tests hold it to. */
void gd_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                          int NH);
void gd_attention_forward_naive(float *out, float *att, const float *qkv, int B, int T,
                                int C, int NH);
/* dqkv (B, T, 3C) += the gradient through out, from dout (B, T, C), the forward's qkv and
 * att.  work: T * T floats of scratch (overwritten).  From the forward above:
 *   dv_s += sum_t att[t, s] dout_t;   datt[t, s] = dout_t . v_s
 *   dpre[t, s] = att[t, s] (datt[t, s] - sum_r att[t, r] datt[t, r])   (softmax backward)
 *   dq_t += sum_s dpre[t, s] k_s / sqrt(hs);   dk_s += sum_t dpre[t, s] q_t / sqrt(hs) */
void gd_attention_backward(float *dqkv, float *work, const float *dout, const float *qkv,
                           const float *att, int B, int T, int C, int NH);
void gd_attention_backward_naive(float *dqkv, const float *dout, const float *qkv,
                                 const float *att, int B, int T, int C, int NH);

/* GELU in GPT-2's tanh form (nn.GELU(approximate='tanh')):
 *   out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).  n elements.
 * Computed as x sigmoid(2u), the same function (0.5 (1 + tanh u) = sigmoid(2u)), with a
 * vectorized exp (tested against the double formula and torch in float64). */
void gd_gelu_forward(float *out, const float *in, int n);
/* din += dout * d out / d in, recomputed from the forward's INPUT:
 *   with u = sqrt(2/pi) (x + 0.044715 x^3), th = tanh(u):
 *   d out / dx = 0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) */
void gd_gelu_backward(float *din, const float *dout, const float *in, int n);

/* The same pair with memory traded for time: the forward also keeps e = exp(-2u)
 * (n floats), and the backward reads it instead of computing the exp again. Bitwise the
 * same results as gd_gelu_forward and gd_gelu_backward. */
void gd_gelu_forward_e(float *out, float *e, const float *in, int n);
void gd_gelu_backward_e(float *din, const float *dout, const float *in, const float *e,
                        int n);

/* Residual connection: out = a + b (n elements; out may be a or b). */
void gd_residual_forward(float *out, const float *a, const float *b, int n);
/* da += dout; db += dout (either may be NULL). */
void gd_residual_backward(float *da, float *db, const float *dout, int n);

/* Cross-entropy over a vocabulary: gd_xent_forward's softmax and mean loss, computed
 * in float with the vectorized exp of the attention and GELU (gd_xent_forward, in
 * double with libm's exp, is its specification; the tests hold this one to it). For a
 * language model's N = B * T rows of K = V classes, where gd_xent_forward's exp was a
 * third of a small GPT's training step. probs (N, K); the loss is summed in double.
 * Its backward is gd_xent_backward. */
double gd_xent_forward_fast(float *probs, const float *logits, const int *y, int N, int K);

/* The weight-tied head needs no layer of its own: it is
 * gd_linear_forward(logits, x, wte, NULL, B * T, C, V) (wte (V, C) as the weight); the
 * loss is gd_xent_forward_fast(probs, logits, targets, B * T, V), the mean over all
 * B * T positions, as F.cross_entropy on logits.view(-1, V). */

#endif

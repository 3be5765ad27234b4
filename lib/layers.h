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

#endif

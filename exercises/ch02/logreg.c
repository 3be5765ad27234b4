/* logreg.c -- Exercise 2.1 (coding): logistic regression's loss and gradient.
 *
 * Chapter 2's first model (chapters/02-lr-regimes/README.md, §2.1): one linear layer
 * from the D = 784 pixels to K = 10 logits, then softmax and the mean cross-entropy,
 *     z_n = W x_n + b,   p_n = softmax(z_n),   loss = -(1/N) sum_n log p_n[y_n],
 * and its gradient (derive it: dloss/dz_n = (p_n - onehot(y_n)) / N)
 *     dW = (1/N) sum_n (p_n - onehot(y_n)) x_n^T,   db = (1/N) sum_n (p_n - onehot(y_n)).
 * Shapes (row-major): W (K, D) and b (K) as PyTorch's nn.Linear(D, K) stores them
 * ("0.weight", "0.bias" in lib/model.h), X (N, D), y (N), dW (K, D), db (K). Overwrite
 * dW and db (do not accumulate). Compute the softmax stably: subtract each row's largest
 * logit before exp (the logits can be in the hundreds after a too-large step). Keep
 * the loss sum in double. Sources: Bishop, Pattern Recognition and Machine Learning
 * (2006), §4.3.4; PyTorch's nn.CrossEntropyLoss (mean reduction).
 *
 * The check (exercises/ch02/check.c) loads the same weights into the library's MLP
 * with dims {D, K} (lib/model.h: gd_mlp_loss, gd_mlp_backward) and compares loss and
 * gradients, on random inputs and on weights large enough to overflow a naive exp.
 * Hand in this file.
 */
#include "logreg.h"

#include <math.h>
#include <stddef.h>

double ex_logreg_loss_grad(float *dW, float *db, const float *W, const float *b,
                           const float *X, const int *y, int N, int D, int K)
{
    /* BEGIN SOLUTION 2.1 */
    double loss = 0;
    for (int k = 0; k < K; k++) db[k] = 0;
    for (int i = 0; i < K * D; i++) dW[i] = 0;
    for (int n = 0; n < N; n++) {
        const float *x = X + (size_t)n * D;
        double z[256] = {0}, zmax = -INFINITY, sum = 0;   /* K <= 256 */
        for (int k = 0; k < K; k++) {                /* z = W x + b */
            double s = b[k];
            for (int j = 0; j < D; j++) s += (double)W[(size_t)k * D + j] * x[j];
            z[k] = s;
            if (s > zmax) zmax = s;
        }
        for (int k = 0; k < K; k++) sum += exp(z[k] - zmax);
        loss += log(sum) + zmax - z[y[n]];          /* -log softmax(z)[y] */
        for (int k = 0; k < K; k++) {               /* dz = (p - onehot(y)) / N */
            double dz = (exp(z[k] - zmax) / sum - (k == y[n])) / N;
            db[k] += (float)dz;
            for (int j = 0; j < D; j++) dW[(size_t)k * D + j] += (float)(dz * x[j]);
        }
    }
    return loss / N;
    /* END SOLUTION 2.1 */
    /* STUB 2.1: (void)dW; (void)db; (void)W; (void)b; (void)X; (void)y; (void)N; (void)D; (void)K; */
    /* STUB 2.1: return NAN; */
    /* WRONG 2.1: double loss = 0; */
    /* WRONG 2.1: for (int k = 0; k < K; k++) db[k] = 0; */
    /* WRONG 2.1: for (int i = 0; i < K * D; i++) dW[i] = 0; */
    /* WRONG 2.1: for (int n = 0; n < N; n++) { */
    /* WRONG 2.1:     const float *x = X + (size_t)n * D; */
    /* WRONG 2.1:     double z[256] = {0}, zmax = -INFINITY, sum = 0; */
    /* WRONG 2.1:     for (int k = 0; k < K; k++) { */
    /* WRONG 2.1:         double s = b[k]; */
    /* WRONG 2.1:         for (int j = 0; j < D; j++) s += (double)W[(size_t)k * D + j] * x[j]; */
    /* WRONG 2.1:         z[k] = s; */
    /* WRONG 2.1:         if (s > zmax) zmax = s; */
    /* WRONG 2.1:     } */
    /* WRONG 2.1:     for (int k = 0; k < K; k++) sum += exp(z[k] - zmax); */
    /* WRONG 2.1:     loss += log(sum) + zmax - z[y[n]]; */
    /* WRONG 2.1:     for (int k = 0; k < K; k++) { */
    /* WRONG 2.1:         double dz = exp(z[k] - zmax) / sum - (k == y[n]); */
    /* WRONG 2.1:         db[k] += (float)dz; */
    /* WRONG 2.1:         for (int j = 0; j < D; j++) dW[(size_t)k * D + j] += (float)(dz * x[j]); */
    /* WRONG 2.1:     } */
    /* WRONG 2.1: } */
    /* WRONG 2.1: return loss / N; */
}

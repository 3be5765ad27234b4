/* logreg.h -- Exercise 2.1: the loss and gradient of logistic (softmax) regression. */
#ifndef EX_CH02_LOGREG_H
#define EX_CH02_LOGREG_H

/* Mean cross-entropy of softmax(X W^T + b) against y, and its gradient.
 * W (K, D), b (K), X (N, D), y (N) with 0 <= y[n] < K; writes (overwrites) dW (K, D)
 * and db (K); returns the loss. */
double ex_logreg_loss_grad(float *dW, float *db, const float *W, const float *b,
                           const float *X, const int *y, int N, int D, int K);

#endif

/* lsqsharp.c -- Exercise 3.1 (Chapter 3, §3.4): the sharpness of linear least squares,
 * from the data alone.
 *
 * The model is linear with a bias and K outputs, out[n][k] = sum_d W[k][d] X[n][d] + b[k],
 * and the loss is the mean squared error over all N K outputs (gd_mse_forward in
 * lib/layers.c; the loss of `ch03-sharpness --hidden 0 --loss mse`):
 *     f(W, b) = 1/(N K) sum_n sum_k (out[n][k] - Y[n][k])^2 .
 * Derive (the written part) the Hessian of f with respect to all K (D + 1) parameters and
 * show that its largest eigenvalue, the sharpness lambda_max, is the largest eigenvalue
 * of a (D + 1) x (D + 1) matrix built from X alone. Then write ex_lsq_sharpness: build
 * that matrix and return its largest eigenvalue. Two helpers are given: gram() builds
 * Xt^T Xt, where Xt is X with or without a column of ones appended, and top_eigenvalue()
 * runs power iteration (§3.4) on a symmetric positive semi-definite matrix.
 *   X: (N, D), row-major, the inputs WITHOUT the column of ones; N, D, K >= 1.
 * The check runs gradient descent on such a problem at 0.97 and 1.03 times
 * 2 / (your lambda_max) and expects the first to converge and the second to diverge
 * (Chapter 1: gradient descent on a quadratic is stable iff lr < 2 / lambda_max).
 */
#include "lsqsharp.h"

#include <math.h>
#include <stdlib.h>

/* A = Xt^T Xt, (E, E) with E = D + bias: Xt is X with a column of ones if bias is 1. */
static void gram(double *A, const double *X, int N, int D, int bias)
{
    int E = D + (bias != 0);
    for (int i = 0; i < E * E; i++) A[i] = 0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < E; i++) {
            double xi = i < D ? X[(size_t)n * D + i] : 1.0;
            for (int j = 0; j < E; j++) A[(size_t)i * E + j] += xi * (j < D ? X[(size_t)n * D + j] : 1.0);
        }
}

/* The largest eigenvalue of a symmetric positive semi-definite (E, E) matrix A, by power
 * iteration from the vector of ones: v <- A v / |A v|, and the Rayleigh quotient v^T A v. */
static double top_eigenvalue(const double *A, int E)
{
    double *v = malloc((size_t)E * sizeof *v), *w = malloc((size_t)E * sizeof *w), lam = 0;
    for (int i = 0; i < E; i++) v[i] = 1.0;
    for (int it = 0; it < 5000; it++) {
        double nrm = 0;
        lam = 0;
        for (int i = 0; i < E; i++) {
            w[i] = 0;
            for (int j = 0; j < E; j++) w[i] += A[(size_t)i * E + j] * v[j];
            nrm += w[i] * w[i];
            lam += v[i] * w[i];
        }
        nrm = sqrt(nrm);
        if (!(nrm > 0)) break;
        for (int i = 0; i < E; i++) v[i] = w[i] / nrm;
    }
    free(v);
    free(w);
    return lam;
}

double ex_lsq_sharpness(const double *X, int N, int D, int K)
{
    double *A = malloc((size_t)(D + 1) * (D + 1) * sizeof *A);
    double lambda_max = NAN;
    /* BEGIN SOLUTION 3.1 */
    /* H = I_K (x) (2 / (N K)) Xt^T Xt: the same block for each of the K outputs */
    gram(A, X, N, D, 1);
    lambda_max = 2.0 / ((double)N * K) * top_eigenvalue(A, D + 1);
    /* END SOLUTION 3.1 */
    /* STUB 3.1: (void)X; (void)N; (void)K; (void)gram; (void)top_eigenvalue; */
    /* WRONG 3.1: gram(A, X, N, D, 1); */
    /* WRONG 3.1: lambda_max = 1.0 / ((double)N * K) * top_eigenvalue(A, D + 1); */
    free(A);
    return lambda_max;
}

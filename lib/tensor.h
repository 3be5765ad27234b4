/* tensor.h -- float32 row-major arrays with a shape, and the kernels layers are made of.
 *
 * A gd_tensor owns `size` floats laid out row-major: element (i, j) of a 2-D tensor is
 * data[i * shape[1] + j]. Layers take raw `float *` plus sizes (as in llm.c), so a
 * tensor is mainly a labelled allocation; parameters pair a value with its gradient.
 *
 *   gd_tensor *W = gd_tensor_new2(H, D);    // zero-filled, (H, D)
 *   gd_matmul(C, A, B, M, N, K, 0, 1, 1.0f, 0.0f);   // C = A @ B^T
 *   gd_tensor_free(W);
 *
 * Matrix multiply goes through cblas_sgemm (OpenBLAS). gd_matmul_naive is the
 * specification: three loops, double accumulation, the same arguments; the tests hold
 * the fast one to it for every combination of transposes.
 */
#ifndef GD_TENSOR_H
#define GD_TENSOR_H

#include <stddef.h>

#define GD_MAXDIM 4

typedef struct gd_tensor {
    float *data;
    int ndim;
    int shape[GD_MAXDIM];
    size_t size;          /* product of the shape */
} gd_tensor;

/* A zero-filled tensor of the given shape; NULL (reason in gd_error) on a bad shape or
 * no memory. */
gd_tensor *gd_tensor_new(int ndim, const int *shape);
gd_tensor *gd_tensor_new1(int n);
gd_tensor *gd_tensor_new2(int rows, int cols);
void gd_tensor_free(gd_tensor *t);

/* A trainable parameter: its value and the gradient of the loss with respect to it. */
typedef struct gd_param {
    const char *name;     /* "fc1.weight", as PyTorch's state_dict names it */
    gd_tensor *value;
    gd_tensor *grad;
} gd_param;

int gd_param_init(gd_param *p, const char *name, int ndim, const int *shape);
void gd_param_free(gd_param *p);
/* grad = 0 for each of params[0..n). */
void gd_param_zero_grad(gd_param *params, int n);

/* C = alpha * op(A) @ op(B) + beta * C, where op(X) is X or X^T.
 * C is (M, N), op(A) is (M, K), op(B) is (K, N); A is stored (M, K), or (K, M) when
 * transA; B is stored (K, N), or (N, K) when transB. All row-major, packed. */
/* Which arithmetic the fast kernels use: "OpenBLAS 0.3.21 Haswell" (library, version,
 * the sgemm kernel it picked for this CPU or OPENBLAS_CORETYPE). Numbers tables record it
 * (out.h), because another kernel rounds differently and chaotic runs amplify that. */
const char *gd_blas_info(void);

void gd_matmul(float *C, const float *A, const float *B, int M, int N, int K,
               int transA, int transB, float alpha, float beta);
void gd_matmul_naive(float *C, const float *A, const float *B, int M, int N, int K,
                     int transA, int transB, float alpha, float beta);

/* Elementwise helpers (n elements). */
void gd_fill(float *x, float v, size_t n);
void gd_axpy(float *y, float a, const float *x, size_t n);        /* y += a * x */
double gd_dot(const float *x, const float *y, size_t n);          /* double accumulation */
double gd_norm2(const float *x, size_t n);                        /* sqrt(sum x^2) */
/* Row-wise helpers for an (N, C) matrix. */
void gd_add_rowvec(float *X, const float *b, int N, int C);        /* X[i, :] += b */
void gd_sum_rows(float *out, const float *X, int N, int C);        /* out[j] += sum_i X[i, j] */
int gd_argmax(const float *x, int n);

#endif

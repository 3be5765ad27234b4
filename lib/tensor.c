/* tensor.c -- allocation, sgemm through OpenBLAS, its naive twin, elementwise helpers.
 *
 * Speed note for the elementwise loops. The book builds with -O2 and no -march, where
 * GCC only vectorizes a loop whose trip count is a known multiple of the vector width
 * and whose pointers cannot overlap. So a hot loop walks blocks of GD__BLOCK elements:
 * it loads a block into a local array, then computes and stores it, which the
 * compiler turns into SSE instructions with no branches. The arithmetic, and its order
 * for every element, is exactly that of the plain loop, which handles the tail. */
#include "tensor.h"
#include "err.h"

#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdio.h>

#define GD__BLOCK 8

gd_tensor *gd_tensor_new(int ndim, const int *shape) {
    if (ndim < 1 || ndim > GD_MAXDIM) {
        gd_seterr("tensor: %d dimensions (1 to %d allowed)", ndim, GD_MAXDIM);
        return NULL;
    }
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) {
            gd_seterr("tensor: dimension %d has size %d (must be positive)", i, shape[i]);
            return NULL;
        }
        if (size > SIZE_MAX / sizeof(float) / (size_t)shape[i]) {
            gd_seterr("tensor: shape too large (overflows at dimension %d)", i);
            return NULL;
        }
        size *= (size_t)shape[i];
    }
    gd_tensor *t = calloc(1, sizeof *t);
    float *data = calloc(size, sizeof *data);
    if (!t || !data) {
        free(t);
        free(data);
        gd_seterr("tensor: out of memory for %zu floats", size);
        return NULL;
    }
    t->data = data;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->size = size;
    return t;
}

gd_tensor *gd_tensor_new1(int n) { return gd_tensor_new(1, &n); }

gd_tensor *gd_tensor_new2(int rows, int cols) {
    int shape[2] = {rows, cols};
    return gd_tensor_new(2, shape);
}

void gd_tensor_free(gd_tensor *t) {
    if (!t) return;
    free(t->data);
    free(t);
}

int gd_param_init(gd_param *p, const char *name, int ndim, const int *shape) {
    p->name = name;
    p->value = gd_tensor_new(ndim, shape);
    p->grad = gd_tensor_new(ndim, shape);
    if (!p->value || !p->grad) {
        gd_param_free(p);
        return -1;
    }
    return 0;
}

void gd_param_free(gd_param *p) {
    gd_tensor_free(p->value);
    gd_tensor_free(p->grad);
    p->value = p->grad = NULL;
}

void gd_param_zero_grad(gd_param *params, int n) {
    for (int i = 0; i < n; i++) gd_fill(params[i].grad->data, 0.0f, params[i].grad->size);
}

void gd_matmul(float *C, const float *A, const float *B, int M, int N, int K,
               int transA, int transB, float alpha, float beta) {
    int lda = transA ? M : K;
    int ldb = transB ? K : N;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta,
                C, N);
}

void gd_matmul_naive(float *C, const float *A, const float *B, int M, int N, int K,
                     int transA, int transB, float alpha, float beta) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                float a = transA ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                float b = transB ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                acc += (double)a * b;
            }
            float *c = &C[(size_t)i * N + j];
            /* BLAS convention: with beta == 0, C is not read (it may hold NaN). */
            *c = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
    }
}

void gd_fill(float *x, float v, size_t n) {
    /* +0.0f is all zero bits (IEEE 754), so clearing (zero_grad) is a memset */
    if (v == 0.0f && !signbit(v)) {
        memset(x, 0, n * sizeof *x);
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void gd_axpy(float *y, float a, const float *x, size_t n) {
    size_t i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK) {
        float t[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) t[k] = a * x[i + k];
        for (int k = 0; k < GD__BLOCK; k++) y[i + k] += t[k];
    }
    for (; i < n; i++) y[i] += a * x[i];
}

double gd_dot(const float *x, const float *y, size_t n) {
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) acc += (double)x[i] * y[i];
    return acc;
}

double gd_norm2(const float *x, size_t n) { return sqrt(gd_dot(x, x, n)); }

/* y[j] += x[j] for j in [0, n), in blocks (see the note at the top) */
static void gd__add(float *y, const float *x, int n) {
    int j = 0;
    for (; j + GD__BLOCK <= n; j += GD__BLOCK) {
        float t[GD__BLOCK];
        for (int k = 0; k < GD__BLOCK; k++) t[k] = x[j + k];
        for (int k = 0; k < GD__BLOCK; k++) y[j + k] += t[k];
    }
    for (; j < n; j++) y[j] += x[j];
}

void gd_add_rowvec(float *X, const float *b, int N, int C) {
    for (int i = 0; i < N; i++) gd__add(X + (size_t)i * C, b, C);   /* X[i, :] += b */
}

void gd_sum_rows(float *out, const float *X, int N, int C) {
    for (int i = 0; i < N; i++) gd__add(out, X + (size_t)i * C, C);  /* out += X[i, :] */
}

int gd_argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

const char *gd_blas_info(void) {
    static char info[128];
    if (!info[0]) {
        /* openblas_get_config(): "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" */
        char version[32] = "?";
        const char *config = openblas_get_config();
        if (config) sscanf(config, "OpenBLAS %31s", version);
        const char *core = openblas_get_corename();
        snprintf(info, sizeof info, "OpenBLAS %s %s", version, core ? core : "unknown");
    }
    return info;
}

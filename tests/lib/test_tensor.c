/* test_tensor.c -- lib/tensor.h: allocation, sgemm against its naive twin, helpers.
 *
 * References: gd_matmul_naive is checked against a 2x3x2 product worked by hand; the
 * cblas gd_matmul is then held to the naive one with the textbook error bound for a
 * float32 dot product (Higham, "Accuracy and Stability of Numerical Algorithms",
 * eq. 3.5: |fl(x.y) - x.y| <= gamma_K |x|.|y|, gamma_K ~ K u, u = 2^-24).
 * The elementwise helpers are checked on small integer examples whose results are
 * exact in float, so they compare with ==.
 * Dimension letters: C (M, N) = op(A) (M, K) @ op(B) (K, N).
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "tensor.h"

/* ------------------------------------------------------------------------------- */
/* gd_matmul_naive against a hand-computed product */

/* A (2, 3) = [[1 2 3], [4 5 6]], B (3, 2) = [[7 8], [9 10], [11 12]],
 * A @ B = [[1*7+2*9+3*11, 1*8+2*10+3*12], [4*7+5*9+6*11, 4*8+5*10+6*12]]
 *       = [[58, 64], [139, 154]]. */
static const float HAND_A[6] = {1, 2, 3, 4, 5, 6};         /* (2, 3) */
static const float HAND_AT[6] = {1, 4, 2, 5, 3, 6};        /* A^T stored (3, 2) */
static const float HAND_B[6] = {7, 8, 9, 10, 11, 12};      /* (3, 2) */
static const float HAND_BT[6] = {7, 9, 11, 8, 10, 12};     /* B^T stored (2, 3) */
static const float HAND_AB[4] = {58, 64, 139, 154};

Test(lib_tensor, naive_matches_hand_example_all_transposes) {
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++) {
            float C[4] = {-1, -1, -1, -1};
            gd_matmul_naive(C, tA ? HAND_AT : HAND_A, tB ? HAND_BT : HAND_B, 2, 2, 3, tA,
                            tB, 1.0f, 0.0f);
            /* small integers: every product and sum is exact in float, so == */
            for (int i = 0; i < 4; i++)
                cr_assert_eq(C[i], HAND_AB[i], "transA=%d transB=%d C[%d] = %g, want %g",
                             tA, tB, i, C[i], HAND_AB[i]);
        }
}

Test(lib_tensor, naive_alpha_beta_hand_example) {
    /* C = 0.5 * A@B + 2 * C0 with C0 = [1 -1 0.25 3]:
     * 29+2 = 31, 32-2 = 30, 69.5+0.5 = 70, 77+6 = 83 (all exact in float) */
    float C[4] = {1, -1, 0.25f, 3};
    const float want[4] = {31, 30, 70, 83};
    gd_matmul_naive(C, HAND_A, HAND_B, 2, 2, 3, 0, 0, 0.5f, 2.0f);
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], want[i], "C[%d] = %g, want %g", i, C[i], want[i]);
}

Test(lib_tensor, naive_beta0_ignores_nan_in_C) {
    float C[4] = {NAN, NAN, INFINITY, -INFINITY};
    gd_matmul_naive(C, HAND_A, HAND_B, 2, 2, 3, 0, 0, 1.0f, 0.0f);
    for (int i = 0; i < 4; i++) cr_assert_eq(C[i], HAND_AB[i], "C[%d] = %g", i, C[i]);
}

Test(lib_tensor, cblas_matches_hand_example_all_transposes) {
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++) {
            float C[4] = {NAN, NAN, NAN, NAN};
            gd_matmul(C, tA ? HAND_AT : HAND_A, tB ? HAND_BT : HAND_B, 2, 2, 3, tA, tB, 1.0f,
                      0.0f);
            for (int i = 0; i < 4; i++)
                cr_assert_eq(C[i], HAND_AB[i], "transA=%d transB=%d C[%d] = %g, want %g",
                             tA, tB, i, C[i], HAND_AB[i]);
        }
}

/* ------------------------------------------------------------------------------- */
/* gd_matmul (cblas) against gd_matmul_naive */

#define GUARD 8
static const float SENTINEL = 12345.678f;

/* Runs both kernels on random A, B, C0 and checks every element of C against
 *   |fast - naive| <= (K + 2) * FLT_EPSILON * (|alpha| sum_k |a_ik b_kj| + |beta c0_ij|)
 * the forward error bound of a length-K dot product plus the alpha and beta roundings
 * (FLT_EPSILON = 2u, so this is twice the worst case; the naive kernel, accumulating in
 * double, is within u of the exact value). With beta == 0, C0 is NaN: BLAS must not
 * read it. GUARD floats after C must not be written. */
static void check_fast_vs_naive(int M, int N, int K, int tA, int tB, float alpha, float beta,
                                uint64_t seed) {
    gd_rng r;
    gd_rng_seed(&r, seed);
    size_t nA = (size_t)M * K, nB = (size_t)K * N, nC = (size_t)M * N;
    float *A = malloc(nA * sizeof *A), *B = malloc(nB * sizeof *B);
    float *C0 = malloc(nC * sizeof *C0);
    float *Cf = malloc((nC + GUARD) * sizeof *Cf), *Cn = malloc((nC + GUARD) * sizeof *Cn);
    cr_assert(A && B && C0 && Cf && Cn);
    gd_rng_fill_uniform(&r, A, nA, -1.0f, 1.0f);
    gd_rng_fill_uniform(&r, B, nB, -1.0f, 1.0f);
    if (beta == 0.0f) gd_fill(C0, NAN, nC);
    else gd_rng_fill_uniform(&r, C0, nC, -1.0f, 1.0f);
    memcpy(Cf, C0, nC * sizeof *C0);
    memcpy(Cn, C0, nC * sizeof *C0);
    for (int g = 0; g < GUARD; g++) Cf[nC + g] = Cn[nC + g] = SENTINEL;

    gd_matmul(Cf, A, B, M, N, K, tA, tB, alpha, beta);
    gd_matmul_naive(Cn, A, B, M, N, K, tA, tB, alpha, beta);

    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double absdot = 0.0;
            for (int k = 0; k < K; k++) {
                float a = tA ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                float b = tB ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                absdot += fabs((double)a * b);
            }
            size_t ij = (size_t)i * N + j;
            double scale = fabs(alpha) * absdot + (beta == 0.0f ? 0.0 : fabs(beta * C0[ij]));
            double tol = (K + 2) * FLT_EPSILON * scale + 1e-30;
            cr_assert(isfinite(Cf[ij]), "M=%d N=%d K=%d tA=%d tB=%d alpha=%g beta=%g: C[%d,%d] = %g",
                      M, N, K, tA, tB, alpha, beta, i, j, Cf[ij]);
            cr_assert(fabs((double)Cf[ij] - Cn[ij]) <= tol,
                      "M=%d N=%d K=%d tA=%d tB=%d alpha=%g beta=%g: C[%d,%d] cblas %.9g naive %.9g "
                      "(tol %.3g)",
                      M, N, K, tA, tB, alpha, beta, i, j, Cf[ij], Cn[ij], tol);
        }
    for (int g = 0; g < GUARD; g++) {
        cr_assert_eq(Cf[nC + g], SENTINEL, "gd_matmul wrote past the end of C");
        cr_assert_eq(Cn[nC + g], SENTINEL, "gd_matmul_naive wrote past the end of C");
    }
    free(A), free(B), free(C0), free(Cf), free(Cn);
}

static const float ALPHA_BETA[][2] = {
    {1.0f, 0.0f},    /* plain product, C holds NaN */
    {0.5f, 0.0f},    /* scaled, C holds NaN */
    {1.0f, 1.0f},    /* accumulate */
    {-2.0f, 1.0f},
    {1.5f, -0.75f},
    {0.0f, 0.5f},    /* alpha = 0: C = beta * C */
};

static void check_all(int M, int N, int K) {
    uint64_t seed = 1;
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++)
            for (size_t v = 0; v < sizeof ALPHA_BETA / sizeof ALPHA_BETA[0]; v++)
                check_fast_vs_naive(M, N, K, tA, tB, ALPHA_BETA[v][0], ALPHA_BETA[v][1], seed++);
}

Test(lib_tensor, cblas_vs_naive_7x13x5) { check_all(7, 13, 5); }
Test(lib_tensor, cblas_vs_naive_13x7x5) { check_all(13, 7, 5); }
Test(lib_tensor, cblas_vs_naive_64x100x37) { check_all(64, 100, 37); }
Test(lib_tensor, cblas_vs_naive_degenerate_sizes) {
    check_all(1, 1, 1);
    check_all(1, 9, 3);   /* a row vector times a matrix */
    check_all(6, 1, 11);  /* a matrix times a column */
}

Test(lib_tensor, cblas_beta1_accumulates) {
    /* C = C0 + A@B with beta = 1, then again: C0 + 2 A@B; against a double reference
     * with the same dot-product bound as above (doubled for two calls). */
    enum { M = 5, N = 4, K = 3 };
    gd_rng r;
    gd_rng_seed(&r, 7);
    float A[M * K], B[K * N], C[M * N], C0[M * N];
    gd_rng_fill_uniform(&r, A, M * K, -1, 1);
    gd_rng_fill_uniform(&r, B, K * N, -1, 1);
    gd_rng_fill_uniform(&r, C0, M * N, -1, 1);
    memcpy(C, C0, sizeof C);
    gd_matmul(C, A, B, M, N, K, 0, 0, 1.0f, 1.0f);
    gd_matmul(C, A, B, M, N, K, 0, 0, 1.0f, 1.0f);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double dot = 0, absdot = 0;
            for (int k = 0; k < K; k++) {
                dot += (double)A[i * K + k] * B[k * N + j];
                absdot += fabs((double)A[i * K + k] * B[k * N + j]);
            }
            double want = C0[i * N + j] + 2.0 * dot;
            double tol = 2 * (K + 2) * FLT_EPSILON * (2 * absdot + fabs(C0[i * N + j]));
            cr_assert(fabs(C[i * N + j] - want) <= tol, "C[%d,%d] = %.9g, want %.9g", i, j,
                      C[i * N + j], want);
        }
}

/* ------------------------------------------------------------------------------- */
/* gd_tensor_new and parameters */

Test(lib_tensor, new_valid_shapes_are_zero_filled) {
    for (int ndim = 1; ndim <= GD_MAXDIM; ndim++) {
        int shape[GD_MAXDIM] = {3, 1, 4, 2};
        size_t want = 1;
        for (int i = 0; i < ndim; i++) want *= (size_t)shape[i];
        gd_tensor *t = gd_tensor_new(ndim, shape);
        cr_assert_not_null(t, "ndim %d: %s", ndim, gd_error());
        cr_assert_eq(t->ndim, ndim);
        cr_assert_eq(t->size, want, "ndim %d: size %zu, want %zu", ndim, t->size, want);
        for (int i = 0; i < ndim; i++) cr_assert_eq(t->shape[i], shape[i]);
        for (size_t i = 0; i < t->size; i++) cr_assert_eq(t->data[i], 0.0f);
        gd_tensor_free(t);
    }
    gd_tensor *v = gd_tensor_new1(5), *m = gd_tensor_new2(2, 7);
    cr_assert(v && m);
    cr_assert(v->ndim == 1 && v->shape[0] == 5 && v->size == 5);
    cr_assert(m->ndim == 2 && m->shape[0] == 2 && m->shape[1] == 7 && m->size == 14);
    gd_tensor_free(v);
    gd_tensor_free(m);
    gd_tensor_free(NULL); /* like free(NULL) */
}

/* Expect NULL and a fresh reason that contains `needle`. */
static void expect_bad_shape(int ndim, const int *shape, const char *needle) {
    gd_seterr("%s", "");
    gd_tensor *t = gd_tensor_new(ndim, shape);
    cr_assert_null(t, "ndim %d: accepted a bad shape", ndim);
    cr_assert(strlen(gd_error()) > 0, "ndim %d: NULL but no reason", ndim);
    cr_assert(strstr(gd_error(), needle), "reason '%s' does not mention '%s'", gd_error(), needle);
}

Test(lib_tensor, new_rejects_bad_ndim) {
    int shape[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    expect_bad_shape(0, shape, "0");
    expect_bad_shape(-1, shape, "-1");
    expect_bad_shape(GD_MAXDIM + 1, shape, "5");
}

Test(lib_tensor, new_rejects_zero_or_negative_sizes) {
    int zero[3] = {4, 0, 2}, neg[3] = {4, 2, -3};
    expect_bad_shape(3, zero, "0");
    expect_bad_shape(3, neg, "-3");
    int one_zero[1] = {0};
    expect_bad_shape(1, one_zero, "0");
    gd_seterr("%s", "");
    cr_assert_null(gd_tensor_new1(-1));
    cr_assert_null(gd_tensor_new2(3, 0));
    cr_assert(strlen(gd_error()) > 0);
}

Test(lib_tensor, new_rejects_size_overflow) {
    /* 65536^4 = 2^64 floats: the element count does not fit in size_t. An unchecked
     * product wraps to 0 and would hand back a tensor claiming 2^64 elements over an
     * empty buffer; the only correct answer is NULL with a reason. */
    int shape[4] = {65536, 65536, 65536, 65536};
    gd_seterr("%s", "");
    gd_tensor *t = gd_tensor_new(4, shape);
    if (t) {
        size_t size = t->size;
        gd_tensor_free(t);
        cr_assert_fail("gd_tensor_new accepted a 65536^4 shape (size field %zu)", size);
    }
    cr_assert(strlen(gd_error()) > 0);
}

Test(lib_tensor, param_init_and_zero_grad) {
    int ws[2] = {3, 2}, bs[1] = {3};
    gd_param p[2];
    cr_assert_eq(gd_param_init(&p[0], "fc.weight", 2, ws), 0);
    cr_assert_eq(gd_param_init(&p[1], "fc.bias", 1, bs), 0);
    cr_assert_str_eq(p[0].name, "fc.weight");
    cr_assert(p[0].value->size == 6 && p[0].grad->size == 6 && p[1].grad->size == 3);
    cr_assert_neq(p[0].value->data, p[0].grad->data, "value and grad share a buffer");
    for (int i = 0; i < 2; i++) {
        gd_fill(p[i].value->data, 3.0f, p[i].value->size);
        gd_fill(p[i].grad->data, 7.0f, p[i].grad->size);
    }
    gd_param_zero_grad(p, 1); /* only the first */
    for (size_t j = 0; j < 6; j++) cr_assert_eq(p[0].grad->data[j], 0.0f);
    for (size_t j = 0; j < 3; j++) cr_assert_eq(p[1].grad->data[j], 7.0f, "n=1 cleared param 1");
    gd_param_zero_grad(p, 2);
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < p[i].grad->size; j++) {
            cr_assert_eq(p[i].grad->data[j], 0.0f);
            cr_assert_eq(p[i].value->data[j], 3.0f, "zero_grad touched a value");
        }
    gd_param_free(&p[0]);
    gd_param_free(&p[1]);
    cr_assert_null(p[0].value);
    int bad[1] = {0};
    gd_param q;
    cr_assert_eq(gd_param_init(&q, "bad", 1, bad), -1);
}

/* ------------------------------------------------------------------------------- */
/* elementwise and row-wise helpers; small integers so results are exact */

Test(lib_tensor, fill_and_axpy) {
    float y[4] = {1, 2, 3, 4};
    const float x[4] = {0.5f, -1, 2, 0};
    gd_axpy(y, 2.0f, x, 4); /* y += 2x */
    const float want[4] = {2, 0, 7, 4};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i], "y[%d] = %g", i, y[i]);
    gd_axpy(y, 0.0f, x, 4);
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], want[i]);
    gd_axpy(y, 5.0f, x, 2); /* only n elements */
    cr_assert(y[0] == 4.5f && y[1] == -5 && y[2] == 7 && y[3] == 4);
    gd_fill(y, -1.5f, 3);
    cr_assert(y[0] == -1.5f && y[2] == -1.5f && y[3] == 4);
}

Test(lib_tensor, dot_hand_and_double_accumulation) {
    const float a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
    cr_assert_eq(gd_dot(a, b, 3), 32.0);
    /* 1e8 + 1 rounds back to 1e8 in float (spacing 8), so a float accumulator gives 0;
     * the documented double accumulation gives exactly 1. */
    const float x[3] = {1e8f, 1.0f, -1e8f}, ones[3] = {1, 1, 1};
    cr_assert_eq(gd_dot(x, ones, 3), 1.0, "gd_dot = %g: not accumulated in double",
                 gd_dot(x, ones, 3));
    cr_assert_eq(gd_dot(x, ones, 0), 0.0);
}

Test(lib_tensor, dot_random_vs_long_double) {
    enum { n = 1000 };
    float x[n], y[n];
    gd_rng r;
    gd_rng_seed(&r, 3);
    gd_rng_fill_normal(&r, x, n, 0, 1);
    gd_rng_fill_normal(&r, y, n, 0, 1);
    long double ref = 0, absref = 0;
    for (int i = 0; i < n; i++) {
        ref += (long double)x[i] * y[i];
        absref += fabsl((long double)x[i] * y[i]);
    }
    /* products of floats are exact in double; n additions in double err <= n eps sum|xy| */
    double tol = n * DBL_EPSILON * (double)absref;
    cr_assert(fabs(gd_dot(x, y, n) - (double)ref) <= tol);
}

Test(lib_tensor, norm2_hand_and_no_float_overflow) {
    const float v[2] = {3, 4};
    cr_assert_eq(gd_norm2(v, 2), 5.0);
    /* (1e30)^2 overflows float and (1e-30)^2 underflows it; in double both are fine. */
    const float big[2] = {1e30f, 1e30f}, tiny[2] = {1e-30f, 1e-30f};
    double want_big = sqrt(2.0) * (double)1e30f, want_tiny = sqrt(2.0) * (double)1e-30f;
    cr_assert(fabs(gd_norm2(big, 2) - want_big) <= 4 * DBL_EPSILON * want_big,
              "norm2 = %g, want %g", gd_norm2(big, 2), want_big);
    cr_assert(fabs(gd_norm2(tiny, 2) - want_tiny) <= 4 * DBL_EPSILON * want_tiny,
              "norm2 = %g, want %g", gd_norm2(tiny, 2), want_tiny);
}

/* The row helpers and axpy may work in blocks of 8 with a scalar tail: widths 19 and 8
 * reach both paths. Small integers, so every sum is exact and compared with ==. */
Test(lib_tensor, row_helpers_and_axpy_wide_rows) {
    const int widths[3] = {19, 8, 1};
    for (int w = 0; w < 3; w++) {
        int N = 5, C = widths[w];
        float X[5 * 19], b[19], out[19], y[19];
        for (int i = 0; i < N * C; i++) X[i] = (float)(i % 13 - 6);
        for (int j = 0; j < C; j++) b[j] = (float)(3 * j - 20), out[j] = (float)(100 + j), y[j] = (float)j;
        float sums[19];
        for (int j = 0; j < C; j++) {
            sums[j] = 0;
            for (int i = 0; i < N; i++) sums[j] += X[i * C + j];
        }
        gd_sum_rows(out, X, N, C);
        for (int j = 0; j < C; j++) cr_assert_eq(out[j], 100 + j + sums[j], "C=%d sum_rows[%d] = %g", C, j, out[j]);
        float X0[5 * 19];
        memcpy(X0, X, sizeof X);
        gd_add_rowvec(X, b, N, C);
        for (int i = 0; i < N * C; i++) cr_assert_eq(X[i], X0[i] + b[i % C], "C=%d add_rowvec[%d] = %g", C, i, X[i]);
        gd_axpy(y, -2.0f, b, (size_t)C);
        for (int j = 0; j < C; j++) cr_assert_eq(y[j], j - 2.0f * b[j], "C=%d axpy[%d] = %g", C, j, y[j]);
    }
}

Test(lib_tensor, add_rowvec) {
    float X[6] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
    const float b[3] = {10, 20, 30};
    gd_add_rowvec(X, b, 2, 3);
    const float want[6] = {11, 22, 33, 14, 25, 36};
    for (int i = 0; i < 6; i++) cr_assert_eq(X[i], want[i], "X[%d] = %g", i, X[i]);
}

Test(lib_tensor, sum_rows_accumulates) {
    const float X[6] = {1, 2, 3, 4, 5, 6}; /* (2, 3): column sums 5 7 9 */
    float out[3] = {100, 200, 300};
    gd_sum_rows(out, X, 2, 3);
    cr_assert(out[0] == 105 && out[1] == 207 && out[2] == 309,
              "out = %g %g %g: overwritten rather than accumulated?", out[0], out[1], out[2]);
}

Test(lib_tensor, argmax) {
    const float a[3] = {1, 3, 2}, neg[3] = {-3, -1, -2}, last[4] = {0, 0, 0, 1};
    const float tie[3] = {5, 5, 1}, one[1] = {-7};
    cr_assert_eq(gd_argmax(a, 3), 1);
    cr_assert_eq(gd_argmax(neg, 3), 1);
    cr_assert_eq(gd_argmax(last, 4), 3);
    cr_assert_eq(gd_argmax(one, 1), 0);
    /* ties: the first maximum, as numpy.argmax and torch.argmax document */
    cr_assert_eq(gd_argmax(tie, 3), 0);
}

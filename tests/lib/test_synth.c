/* test_synth.c -- lib/synth.h: problems whose answers we know, checked against those
 * answers: the quadratic's eigen-structure and closed forms, orthogonality, the
 * Rosenbrock minimum and derivatives, and least squares on the regression data.
 * Everything here is double precision except the regression data (float32).
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "synth.h"

/* ------------------------------------------------------------------------------- */
/* orthogonal matrices */

/* max |Q^T Q - I| and max |Q Q^T - I| for Q (d, d) */
static double orthogonality_error(const double *Q, int d) {
    double worst = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double qtq = 0, qqt = 0;
            for (int k = 0; k < d; k++) {
                qtq += Q[k * d + i] * Q[k * d + j];
                qqt += Q[i * d + k] * Q[j * d + k];
            }
            worst = fmax(worst, fabs(qtq - (i == j)));
            worst = fmax(worst, fabs(qqt - (i == j)));
        }
    return worst;
}

Test(lib_synth, random_orthogonal_is_orthogonal) {
    /* Modified Gram-Schmidt on a well-conditioned Gaussian matrix loses orthogonality
     * like cond * d * DBL_EPSILON ~ 1e-14 here; 1e-12 is the brief's bound. */
    const int ds[] = {1, 2, 3, 5, 20, 50};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        int d = ds[k];
        double *Q = malloc(sizeof(double) * d * d);
        gd_rng r;
        gd_rng_seed(&r, 100 + k);
        gd_random_orthogonal(Q, d, &r);
        double e = orthogonality_error(Q, d);
        cr_assert(e < 1e-12, "d = %d: |Q^T Q - I| = %g", d, e);
        free(Q);
    }
}

Test(lib_synth, random_orthogonal_deterministic_and_seed_dependent) {
    double A[25], B[25], C[25];
    gd_rng r;
    gd_rng_seed(&r, 9);
    gd_random_orthogonal(A, 5, &r);
    gd_rng_seed(&r, 9);
    gd_random_orthogonal(B, 5, &r);
    gd_rng_seed(&r, 10);
    gd_random_orthogonal(C, 5, &r);
    cr_assert_arr_eq(A, B, sizeof A);
    cr_assert(memcmp(A, C, sizeof A) != 0);
}

Test(lib_synth, rotation2) {
    for (double a = -3.0; a <= 3.0; a += 0.7) {
        double Q[4];
        gd_rotation2(Q, a);
        cr_assert(orthogonality_error(Q, 2) < 4 * DBL_EPSILON);
        double det = Q[0] * Q[3] - Q[1] * Q[2];
        cr_assert(fabs(det - 1) < 4 * DBL_EPSILON, "det %g: not a rotation", det);
        /* counter-clockwise: e1 -> (cos a, sin a) */
        cr_assert(fabs(Q[0] - cos(a)) < 1e-15 && fabs(Q[2] - sin(a)) < 1e-15);
    }
}

/* ------------------------------------------------------------------------------- */
/* quadratic */

/* A symmetric; A q_k = lambda_k q_k; loss = 1/2 x^T A x = 1/2 sum_k lambda_k (q_k . x)^2;
 * grad = A x and the central difference of the loss. Q orthogonal to ~1e-15, so the
 * eigen-equations hold to ~d DBL_EPSILON max|lambda|: 1e-12 (relative to max|lambda|). */
static void check_quad(const gd_quad *q, const double *lambda, const double *Q, gd_rng *r) {
    int d = q->d;
    double lmax = 0;
    for (int k = 0; k < d; k++) lmax = fmax(lmax, fabs(lambda[k]));
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            cr_assert(fabs(q->A[i * d + j] - q->A[j * d + i]) <= 4 * DBL_EPSILON * lmax, "A not symmetric");
    for (int k = 0; k < d; k++)
        for (int i = 0; i < d; i++) {
            double Aq = 0;
            for (int j = 0; j < d; j++) Aq += q->A[i * d + j] * Q[j * d + k];
            cr_assert(fabs(Aq - lambda[k] * Q[i * d + k]) <= 1e-12 * lmax,
                      "d=%d: (A q_%d)_%d = %.17g, lambda q = %.17g", d, k, i, Aq, lambda[k] * Q[i * d + k]);
        }
    double *x = malloc(sizeof(double) * d), *g = malloc(sizeof(double) * d);
    for (int trial = 0; trial < 5; trial++) {
        for (int i = 0; i < d; i++) x[i] = 2 * gd_rng_normal(r);
        /* loss in the eigenbasis */
        double want = 0;
        for (int k = 0; k < d; k++) {
            double c = 0;
            for (int i = 0; i < d; i++) c += Q[i * d + k] * x[i];
            want += 0.5 * lambda[k] * c * c;
        }
        double f = gd_quad_loss(q, x);
        cr_assert(fabs(f - want) <= 1e-12 * (1 + fabs(want)), "loss %.17g, want %.17g", f, want);
        /* gradient vs central differences: f is quadratic, so the difference quotient
         * is exact up to rounding, DBL_EPSILON |f| / h ~ 1e-9 for h = 1e-6; tol 1e-6. */
        gd_quad_grad(g, q, x);
        for (int i = 0; i < d; i++) {
            const double h = 1e-6;
            double xi = x[i];
            x[i] = xi + h;
            double up = gd_quad_loss(q, x);
            x[i] = xi - h;
            double down = gd_quad_loss(q, x);
            x[i] = xi;
            double fd = (up - down) / (2 * h);
            cr_assert(fabs(g[i] - fd) <= 1e-6 * (1 + fabs(fd)), "grad[%d] = %.12g, finite difference %.12g", i,
                      g[i], fd);
        }
    }
    /* minimum 0 at 0 */
    for (int i = 0; i < d; i++) x[i] = 0;
    cr_assert_eq(gd_quad_loss(q, x), 0.0);
    free(x);
    free(g);
}

Test(lib_synth, quad_rotated_2d_closed_form) {
    double lambda[2] = {1, 10}, Q[4];
    const double a = 0.5;
    gd_rotation2(Q, a);
    gd_quad q;
    cr_assert_eq(gd_quad_init(&q, 2, lambda, Q), 0, "%s", gd_error());
    /* R diag(1, 10) R^T with R = [[c, -s], [s, c]]:
     * A = [[c^2 + 10 s^2, (1 - 10) c s], [(1 - 10) c s, s^2 + 10 c^2]] */
    double c = cos(a), s = sin(a);
    const double want[4] = {c * c + 10 * s * s, -9 * c * s, -9 * c * s, s * s + 10 * c * c};
    for (int i = 0; i < 4; i++)
        cr_assert(fabs(q.A[i] - want[i]) <= 1e-14, "A[%d] = %.17g, want %.17g", i, q.A[i], want[i]);
    gd_rng r;
    gd_rng_seed(&r, 1);
    check_quad(&q, lambda, Q, &r);
    gd_quad_free(&q);
}

Test(lib_synth, quad_random_rotation_5d) {
    enum { d = 5 };
    double lambda[d] = {0.1, 0.5, 1, 4, 10}, Q[d * d];
    gd_rng r;
    gd_rng_seed(&r, 2);
    gd_random_orthogonal(Q, d, &r);
    gd_quad q;
    cr_assert_eq(gd_quad_init(&q, d, lambda, Q), 0);
    check_quad(&q, lambda, Q, &r);
    gd_quad_free(&q);
}

Test(lib_synth, quad_negative_eigenvalue_saddle) {
    /* a saddle is a legal quadratic (finite eigenvalues) */
    enum { d = 3 };
    double lambda[d] = {-2, 1, 3}, Q[d * d];
    gd_rng r;
    gd_rng_seed(&r, 3);
    gd_random_orthogonal(Q, d, &r);
    gd_quad q;
    cr_assert_eq(gd_quad_init(&q, d, lambda, Q), 0);
    check_quad(&q, lambda, Q, &r);
    gd_quad_free(&q);
}

Test(lib_synth, quad_axis_aligned_and_owns_its_copies) {
    double lambda[3] = {1, 2, 3};
    gd_quad q;
    cr_assert_eq(gd_quad_init(&q, 3, lambda, NULL), 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            cr_assert_eq(q.A[i * 3 + j], i == j ? lambda[i] : 0.0, "A[%d][%d]", i, j);
            cr_assert_eq(q.Q[i * 3 + j], i == j ? 1.0 : 0.0);
        }
    lambda[0] = 99; /* the quadratic keeps its own copy */
    cr_assert_eq(q.lambda[0], 1.0);
    double x[3] = {1, 1, 2}, g[3];
    cr_assert_eq(gd_quad_loss(&q, x), 0.5 * (1 + 2 + 3 * 4));
    gd_quad_grad(g, &q, x);
    cr_assert(g[0] == 1 && g[1] == 2 && g[2] == 6);
    gd_quad_free(&q);
}

Test(lib_synth, quad_bad_arguments) {
    double ok[2] = {1, 2}, nan_l[2] = {1, NAN}, inf_l[2] = {INFINITY, 1};
    gd_quad q;
    struct { int d; double *lambda; } cases[] = {{0, ok}, {-3, ok}, {2, nan_l}, {2, inf_l}};
    for (int i = 0; i < 4; i++) {
        gd_seterr("%s", "");
        cr_assert_eq(gd_quad_init(&q, cases[i].d, cases[i].lambda, NULL), -1, "case %d accepted", i);
        cr_assert(strlen(gd_error()) > 0, "case %d: no reason", i);
        gd_quad_free(&q); /* safe after a failed init */
    }
}

/* ------------------------------------------------------------------------------- */
/* Rosenbrock */

Test(lib_synth, rosenbrock_minimum_and_closed_forms) {
    const double ab[3][2] = {{1, 100}, {2, 5}, {-0.5, 1}};
    for (int k = 0; k < 3; k++) {
        double a = ab[k][0], b = ab[k][1], g[2];
        double xmin[2] = {a, a * a};
        cr_assert_eq(gd_rosenbrock(g, xmin, a, b), 0.0, "f(a, a^2) != 0 for a=%g b=%g", a, b);
        cr_assert(g[0] == 0.0 && g[1] == 0.0, "gradient (%g, %g) at the minimum", g[0], g[1]);
        double origin[2] = {0, 0}, xa0[2] = {a, 0};
        cr_assert(fabs(gd_rosenbrock(NULL, origin, a, b) - a * a) <= 1e-15, "f(0,0) = a^2");
        cr_assert(fabs(gd_rosenbrock(NULL, xa0, a, b) - b * a * a * a * a) <= 1e-12, "f(a,0) = b a^4");
    }
}

Test(lib_synth, rosenbrock_gradient_vs_finite_differences) {
    /* Central difference with h = 1e-6: truncation h^2/6 |f'''| <= 1e-12 * 24 b |x| and
     * rounding DBL_EPSILON |f| / h <= 1e-7 for these points; tol 1e-6 relative. */
    const double pts[5][2] = {{0, 0}, {-1.2, 1}, {0.5, 2}, {2, -1}, {1.1, 1.3}};
    const double ab[2][2] = {{1, 100}, {2, 5}};
    for (int k = 0; k < 2; k++)
        for (int p = 0; p < 5; p++) {
            double x[2] = {pts[p][0], pts[p][1]}, g[2];
            double f = gd_rosenbrock(g, x, ab[k][0], ab[k][1]);
            cr_assert_eq(f, gd_rosenbrock(NULL, x, ab[k][0], ab[k][1]), "value depends on grad != NULL");
            for (int i = 0; i < 2; i++) {
                const double h = 1e-6;
                double xi = x[i];
                x[i] = xi + h;
                double up = gd_rosenbrock(NULL, x, ab[k][0], ab[k][1]);
                x[i] = xi - h;
                double down = gd_rosenbrock(NULL, x, ab[k][0], ab[k][1]);
                x[i] = xi;
                double fd = (up - down) / (2 * h);
                cr_assert(fabs(g[i] - fd) <= 1e-6 * (1 + fabs(fd)), "a=%g b=%g x=(%g,%g): grad[%d] %.12g, fd %.12g",
                          ab[k][0], ab[k][1], x[0], x[1], i, g[i], fd);
            }
        }
}

/* ------------------------------------------------------------------------------- */
/* noisy linear regression */

/* Solve the d x d SPD system M z = v by Cholesky (M is overwritten by its factor). */
static void chol_solve(double *M, double *z, const double *v, int d) {
    for (int j = 0; j < d; j++) {
        double s = M[j * d + j];
        for (int k = 0; k < j; k++) s -= M[j * d + k] * M[j * d + k];
        cr_assert(s > 0, "normal matrix not positive definite");
        M[j * d + j] = sqrt(s);
        for (int i = j + 1; i < d; i++) {
            double t = M[i * d + j];
            for (int k = 0; k < j; k++) t -= M[i * d + k] * M[j * d + k];
            M[i * d + j] = t / M[j * d + j];
        }
    }
    for (int i = 0; i < d; i++) { /* L u = v */
        double t = v[i];
        for (int k = 0; k < i; k++) t -= M[i * d + k] * z[k];
        z[i] = t / M[i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) { /* L^T z = u */
        double t = z[i];
        for (int k = i + 1; k < d; k++) t -= M[k * d + i] * z[k];
        z[i] = t / M[i * d + i];
    }
}

static void normal_matrix(double *M, const gd_linreg *p) {
    int d = p->d;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int n = 0; n < p->n; n++) s += (double)p->X[(size_t)n * d + i] * p->X[(size_t)n * d + j];
            M[i * d + j] = s;
        }
}

Test(lib_synth, linreg_least_squares_recovers_w_true) {
    /* y = X w + e, e ~ N(0, s^2): the least-squares estimate is w + N(0, s^2 (X^T X)^-1)
     * given X, so coordinate j is within 5 s sqrt([(X^T X)^-1]_jj) (plus 1e-6 for float
     * rounding of y, ~1e-7 |y|) with probability 1 - 6e-7. The residual variance
     * RSS/(n-d) estimates s^2 with relative sd sqrt(2/(n-d)); 5 sd allowed. */
    enum { n = 2000, d = 5 };
    const float s = 0.1f;
    gd_rng r;
    gd_rng_seed(&r, 17);
    gd_linreg p;
    cr_assert_eq(gd_linreg_init(&p, n, d, s, &r), 0, "%s", gd_error());
    cr_assert(p.n == n && p.d == d && p.noise_std == s);
    double M[d * d], Xty[d] = {0}, w[d], inv_diag[d];
    normal_matrix(M, &p);
    for (int j = 0; j < d; j++)
        for (int i = 0; i < n; i++) Xty[j] += (double)p.X[i * d + j] * p.y[i];
    double Mc[d * d];
    memcpy(Mc, M, sizeof M);
    chol_solve(Mc, w, Xty, d);
    for (int j = 0; j < d; j++) { /* [(X^T X)^-1]_jj = e_j^T M^-1 e_j */
        double e[d] = {0}, z[d];
        e[j] = 1;
        memcpy(Mc, M, sizeof M);
        chol_solve(Mc, z, e, d);
        inv_diag[j] = z[j];
    }
    for (int j = 0; j < d; j++) {
        double tol = 5 * s * sqrt(inv_diag[j]) + 1e-6;
        cr_assert(fabs(w[j] - p.w_true[j]) <= tol, "w[%d] = %.6f, w_true %.6f (tol %.2g)", j, w[j], p.w_true[j],
                  tol);
    }
    double rss = 0;
    for (int i = 0; i < n; i++) {
        double res = p.y[i];
        for (int j = 0; j < d; j++) res -= (double)p.X[i * d + j] * w[j];
        rss += res * res;
    }
    double s2 = rss / (n - d), rel = s2 / ((double)s * s) - 1;
    cr_assert(fabs(rel) < 5 * sqrt(2.0 / (n - d)), "residual variance %g, noise variance %g", s2, (double)s * s);
    gd_linreg_free(&p);
}

Test(lib_synth, linreg_without_noise_is_exact) {
    /* noise 0: y_i is the float rounding of x_i . w_true (FLT_EPSILON |y| + tiny) */
    enum { n = 50, d = 3 };
    gd_rng r;
    gd_rng_seed(&r, 18);
    gd_linreg p;
    cr_assert_eq(gd_linreg_init(&p, n, d, 0.0f, &r), 0);
    for (int i = 0; i < n; i++) {
        double dot = 0;
        for (int j = 0; j < d; j++) dot += (double)p.X[i * d + j] * p.w_true[j];
        cr_assert(fabs(p.y[i] - dot) <= FLT_EPSILON * fabs(dot) + 1e-30, "y[%d] = %.9g, X w = %.9g", i, p.y[i], dot);
    }
    gd_linreg_free(&p);
}

Test(lib_synth, linreg_inputs_are_standard_normal_and_deterministic) {
    /* 2e4 entries of X: mean within 5/sqrt(n) = 0.035, variance within 5 sqrt(2/n) = 0.05 */
    enum { n = 4000, d = 5 };
    gd_rng r1, r2;
    gd_rng_seed(&r1, 19);
    gd_rng_seed(&r2, 19);
    gd_linreg p, q;
    cr_assert_eq(gd_linreg_init(&p, n, d, 0.5f, &r1), 0);
    cr_assert_eq(gd_linreg_init(&q, n, d, 0.5f, &r2), 0);
    cr_assert_arr_eq(p.X, q.X, sizeof(float) * n * d);
    cr_assert_arr_eq(p.y, q.y, sizeof(float) * n);
    cr_assert_arr_eq(p.w_true, q.w_true, sizeof(float) * d);
    double s = 0, s2 = 0;
    for (int i = 0; i < n * d; i++) s += p.X[i];
    double mean = s / (n * d);
    for (int i = 0; i < n * d; i++) s2 += (p.X[i] - mean) * (p.X[i] - mean);
    double var = s2 / (n * d - 1);
    cr_assert(fabs(mean) < 5 / sqrt(n * d), "mean of X %g", mean);
    cr_assert(fabs(var - 1) < 5 * sqrt(2.0 / (n * d)), "variance of X %g", var);
    gd_linreg_free(&p);
    gd_linreg_free(&q);
}

Test(lib_synth, linreg_bad_arguments) {
    gd_rng r;
    gd_rng_seed(&r, 1);
    gd_linreg p;
    const int nd[4][2] = {{0, 3}, {10, 0}, {-1, 3}, {10, -2}};
    for (int i = 0; i < 4; i++) {
        gd_seterr("%s", "");
        cr_assert_eq(gd_linreg_init(&p, nd[i][0], nd[i][1], 0.1f, &r), -1, "n=%d d=%d accepted", nd[i][0], nd[i][1]);
        cr_assert(strlen(gd_error()) > 0);
        gd_linreg_free(&p);
    }
    const float bad_noise[3] = {-0.1f, NAN, -INFINITY};
    for (int i = 0; i < 3; i++) {
        gd_seterr("%s", "");
        cr_assert_eq(gd_linreg_init(&p, 10, 2, bad_noise[i], &r), -1, "noise %g accepted", bad_noise[i]);
        cr_assert(strlen(gd_error()) > 0);
        gd_linreg_free(&p);
    }
}

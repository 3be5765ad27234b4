/* power.c -- Exercise 3.4 (Chapter 3, §3.4): the sharpness from gradients alone.
 *
 * Write ex_sharpness: lambda_max, the LARGEST (most positive) eigenvalue of the Hessian
 * of a loss at the point w, using nothing but its gradient, grad(w, g, P, ctx):
 *   - a Hessian-vector product by central differences of two gradients,
 *         Hv ~ (grad(w + eps v) - grad(w - eps v)) / (2 eps),   |v| = 1
 *     (in double precision here; eps = 1e-4 is a good choice for the check's losses);
 *   - power iteration, v <- Hv / |Hv|, with the Rayleigh quotient v.Hv as the estimate:
 *     it converges to the eigenvalue of largest MAGNITUDE;
 *   - the guard of chapters/03-choosing/sharpness.c (lambda_max()): if that eigenvalue
 *     is negative, iterate again on H - lambda_neg I, whose eigenvalues are all >= 0 and
 *     whose largest is lambda_max - lambda_neg.
 * The product is given: hvp() below. w: (P) the point, P >= 2. Start from a vector
 * that is unlikely to be orthogonal to the top eigenvector (not a basis vector;
 * alternating signs, as the chapter's program does, or a pseudo-random one). Spend at most 2000 gradient
 * evaluations in all (the check counts them): a few hundred iterations per run of
 * power iteration are plenty when the top eigenvalues are well separated.
 * The check builds quadratic losses whose Hessians have a known spectrum (a random
 * rotation of a chosen diagonal), with and without a dominant negative eigenvalue, and
 * compares your lambda_max with the largest eigenvalue it put in, to 1e-4 relative.
 */
#include "power.h"

#include <math.h>
#include <stdlib.h>

/* Hv ~ (g(w + eps v) - g(w - eps v)) / (2 eps), for |v| = 1: two gradient evaluations.
 * tmp and g2 are scratch space of P numbers each. */
static void hvp(ex_grad_fn grad, void *ctx, const double *w, const double *v, double *Hv, double *tmp, double *g2,
                int P)
{
    const double eps = 1e-4;
    for (int i = 0; i < P; i++) tmp[i] = w[i] + eps * v[i];
    grad(tmp, Hv, P, ctx);                                  /* g(w + eps v) */
    for (int i = 0; i < P; i++) tmp[i] = w[i] - eps * v[i];
    grad(tmp, g2, P, ctx);                                  /* g(w - eps v) */
    for (int i = 0; i < P; i++) Hv[i] = (Hv[i] - g2[i]) / (2 * eps);
}

double ex_sharpness(ex_grad_fn grad, void *ctx, const double *w, int P)
{
    double *v = malloc((size_t)P * sizeof *v), *Hv = malloc((size_t)P * sizeof *Hv); /* (P) */
    double *tmp = malloc((size_t)P * sizeof *tmp), *g2 = malloc((size_t)P * sizeof *g2);
    double lambda = NAN;
    /* BEGIN SOLUTION 3.4 */
    double shift = 0;
    for (int pass = 0; pass < 2; pass++) {      /* pass 1 only if pass 0 found a negative one */
        for (int i = 0; i < P; i++) v[i] = (i % 2 ? 1.0 : -1.0) / sqrt((double)P);
        double rq = 0;
        for (int it = 0; it < 400; it++) {      /* power iteration on H - shift I */
            hvp(grad, ctx, w, v, Hv, tmp, g2, P);
            double norm = 0;
            rq = 0;
            for (int i = 0; i < P; i++) {
                Hv[i] -= shift * v[i];
                rq += v[i] * Hv[i];             /* Rayleigh quotient v.(H - shift I)v */
                norm += Hv[i] * Hv[i];
            }
            norm = sqrt(norm);
            if (!(norm > 0)) break;
            for (int i = 0; i < P; i++) v[i] = Hv[i] / norm;
        }
        lambda = rq + shift;
        if (lambda >= 0 || pass == 1) break;
        shift = lambda;                         /* the guard: H - lambda_neg I is >= 0 */
    }
    /* END SOLUTION 3.4 */
    /* STUB 3.4: (void)grad; (void)ctx; (void)w; (void)hvp; */
    /* WRONG 3.4: for (int i = 0; i < P; i++) v[i] = (i % 2 ? 1.0 : -1.0) / sqrt((double)P); */
    /* WRONG 3.4: for (int it = 0; it < 400; it++) { */
    /* WRONG 3.4:     hvp(grad, ctx, w, v, Hv, tmp, g2, P); */
    /* WRONG 3.4:     double norm = 0; */
    /* WRONG 3.4:     lambda = 0; */
    /* WRONG 3.4:     for (int i = 0; i < P; i++) lambda += v[i] * Hv[i], norm += Hv[i] * Hv[i]; */
    /* WRONG 3.4:     for (int i = 0; i < P; i++) v[i] = Hv[i] / sqrt(norm); */
    /* WRONG 3.4: } */
    free(v);
    free(Hv);
    free(tmp);
    free(g2);
    return lambda;
}

/* gradcheck.c -- central finite differences; see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>

double gd_gradcheck(gd_loss_fn loss, void *ctx, float *x, const float *grad, size_t n,
                    float eps, double floor) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float saved = x[i];
        x[i] = saved + eps;
        double up = loss(ctx);
        x[i] = saved - eps;
        double down = loss(ctx);
        x[i] = saved;
        /* divide by the step actually taken: saved +- eps is rounded to float */
        double step = (double)(saved + eps) - (double)(saved - eps);
        double numeric = (up - down) / step;
        double err = fabs(numeric - grad[i]) / fmax(fabs(numeric) + fabs(grad[i]), floor);
        if (isnan(err)) return NAN; /* a NaN gradient fails the check */
        if (err > worst) worst = err;
    }
    return worst;
}

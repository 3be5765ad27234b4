/* stats.c -- medians and ranges over seeds; see stats.h. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int gd__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The finite values of v, sorted, in a new array; *m their count. */
static double *gd__sorted_finite(const double *v, int n, int *m) {
    double *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    *m = 0;
    if (!s) return NULL;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) s[(*m)++] = v[i];
    qsort(s, (size_t)*m, sizeof *s, gd__cmp_double);
    return s;
}

double gd_quantile(const double *v, int n, double q) {
    int m;
    double *s = gd__sorted_finite(v, n, &m);
    double x = NAN;
    if (s && m > 0) {
        /* numpy "linear": position q (m - 1) between order statistics */
        double pos = q * (m - 1);
        int i = (int)floor(pos);
        if (i >= m - 1) x = s[m - 1];
        else x = s[i] + (pos - i) * (s[i + 1] - s[i]);
    }
    free(s);
    return x;
}

gd_stats gd_stats_of(const double *v, int n) {
    gd_stats st = {0, 0, NAN, NAN, NAN, NAN};
    int m;
    double *s = gd__sorted_finite(v, n, &m);
    st.n = m;
    st.nan = n - m;
    if (s && m > 0) {
        st.min = s[0];
        st.max = s[m - 1];
        st.median = m % 2 ? s[m / 2] : 0.5 * (s[m / 2 - 1] + s[m / 2]);
        double sum = 0;
        for (int i = 0; i < m; i++) sum += s[i];
        st.mean = sum / m;
    }
    free(s);
    return st;
}

int gd_count_between(const double *v, int n, double lo, double hi) {
    int k = 0;
    for (int i = 0; i < n; i++) k += v[i] >= lo && v[i] <= hi;
    return k;
}

/* noise.c -- SGD on a quadratic with noisy gradients: why the learning rate must decay.
 *
 * f(x) = lambda x^2 / 2, and each step sees the gradient lambda x + sigma xi, with a fresh
 * xi ~ N(0, 1) every step (the error a minibatch makes). SGD is then
 *     x_{k+1} = (1 - lr lambda) x_k - lr sigma xi_k,
 * and with a constant lr (0 < lr lambda < 2) x never settles at 0: E[x^2] tends to the
 * noise floor lr sigma^2 / (lambda (2 - lr lambda)). A decaying lr removes the floor.
 * With --mult S the gradient gets a second error S x zeta that is proportional to x and
 * so vanishes at the minimum (interpolation: every example is fitted there); with
 * --sigma 0 that is all the noise there is, and a constant lr converges with no floor.
 *
 * Runs many independent chains with constant lrs (--lr), the 1/t schedule
 * lr0 / (1 + t/t0) (--decay) and any of the book's schedules (--sched), and writes: the
 * mean loss over the chains at each step beside its exact expectation, from the recursion
 * E[x_{k+1}^2] = ((1 - lr_k lambda)^2 + lr_k^2 S^2) E[x_k^2] + lr_k^2 sigma^2 (--out); the floor of each
 * constant lr measured over many chains and steps, against the closed form (--floors);
 * and the numbers the chapter quotes (--numbers). Every curve uses the same noise (one
 * seed), so differences between curves are the schedules', not the dice's.
 * Leaves out: more than one dimension, momentum.
 */
#include "gd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CURVES 32
#define MAX_KEY 32      /* --key: k[128] holds it, '_' and the longest name */

/* One way of choosing lr_t: a constant, the 1/t schedule, or a spec from sched.h. */
typedef struct {
    enum { CONSTANT, INV_TIME, SPEC } kind;
    double lr;        /* CONSTANT: the lr; INV_TIME: lr0; SPEC: the base lr */
    double t0;        /* INV_TIME */
    gd_sched *sched;  /* SPEC */
    char *label;      /* no spaces: it is a table column. Heap: a spec's canonical text, whole */
} schedule;

static void curves_free(schedule *sch, int n) {
    for (int i = 0; i < n; i++) gd_sched_free(sch[i].sched), free(sch[i].label);
}

/* The canonical text of a schedule (gd_sched_format), whole: gd_sched_format(s, NULL, 0)
 * is its length. NULL if out of memory. */
static char *sched_text(const gd_sched *s) {
    size_t n = gd_sched_format(s, NULL, 0) + 1;
    char *buf = malloc(n);
    if (buf) gd_sched_format(s, buf, n);
    return buf;
}

static double lambda = 1.0, sigma = 1.0, mult = 0.0;

static double schedule_lr(const schedule *s, long t) {
    switch (s->kind) {
    case CONSTANT: return s->lr;
    /* Robbins & Monro 1951, "A Stochastic Approximation Method": sum lr = inf, sum lr^2 < inf */
    case INV_TIME: return s->lr / (1.0 + (double)t / s->t0); /* lr_t = lr0 / (1 + t/t0) */
    default: return gd_sched_lr(s->sched, t, s->lr);
    }
}

/* E[x^2] shrinks by this factor per step of lr (before the noise sigma adds its part). */
static double contraction(double lr) { return (1.0 - lr * lambda) * (1.0 - lr * lambda) + lr * lr * mult * mult; }
/* The floor of a constant lr: the fixed point of v = a v + lr^2 sigma^2, a = contraction(lr);
 * with mult = 0, lr sigma^2 / (lambda (2 - lr lambda)). */
static double floor_x2(double lr) { return lr * lr * sigma * sigma / (1.0 - contraction(lr)); }

/* Steps t in [0, T] where the curves are recorded: every `every` steps, or (every = 0)
 * about 40 per decade, evenly spaced in log t. Returns how many; grid has T + 1 slots. */
static long make_grid(long *grid, long T, long every) {
    long n = 0;
    if (every > 0) {
        for (long t = 0; t <= T; t += every) grid[n++] = t;
    } else {
        grid[n++] = 0;
        for (int i = 0;; i++) {
            long t = lround(pow(10.0, i / 40.0));
            if (t > T) break;
            if (t > grid[n - 1]) grid[n++] = t;
        }
    }
    if (grid[n - 1] != T) grid[n++] = T;
    return n;
}

/* x rounded to two significant digits (for ratios quoted in the text). */
static double two_digits(double x) {
    if (!(x > 0) || !isfinite(x)) return x;
    double p = pow(10.0, floor(log10(x)) - 1);
    return round(x / p) * p;
}

typedef struct {
    double final_loss, final_theory;   /* mean loss over the chains at T, and its expectation */
    double decade_theory;              /* the expectation at the last grid step <= T/10 */
} curve_result;

/* Run `chains` chains of T steps from x0 with schedule s; write the grid rows to t. */
static curve_result run_curve(const schedule *s, int index, long chains, long T, double x0, uint64_t seed,
                              const long *grid, long ngrid, gd_table *t) {
    double *x = malloc((size_t)chains * sizeof *x); /* (chains) */
    gd_rng rng;
    gd_rng_seed(&rng, seed); /* the same noise for every curve */
    for (long r = 0; r < chains; r++) x[r] = x0;
    double v = x0 * x0; /* E[x_t^2], exactly */
    double floor_loss = s->kind == CONSTANT ? 0.5 * lambda * floor_x2(s->lr) : NAN;
    curve_result res = {NAN, NAN, NAN};
    long g = 0;
    for (long k = 0; k <= T; k++) {
        double lr = schedule_lr(s, k);
        if (g < ngrid && grid[g] == k) {
            double sum = 0.0;
            for (long r = 0; r < chains; r++) sum += x[r] * x[r];
            double loss = 0.5 * lambda * sum / chains, theory = 0.5 * lambda * v;
            if (t) gd_table_row(t, "%d %s %.6g %ld %.6g %.8g %.8g %.8g", index, s->label, s->lr, k, lr, loss, theory,
                                floor_loss);
            res.final_loss = loss, res.final_theory = theory;
            if (10 * k <= T) res.decade_theory = theory;
            g++;
        }
        if (k == T) break;
        // region sgd
        for (long r = 0; r < chains; r++) {
            double xi = gd_rng_normal(&rng);
            double grad = lambda * x[r] + sigma * xi;   /* noisy gradient of lambda x^2 / 2 */
            if (mult > 0) grad += mult * x[r] * gd_rng_normal(&rng); /* an error that vanishes at 0 */
            x[r] = x[r] - lr * grad;                    /* x <- x - lr * grad */
        }
        // endregion sgd
        double v_before = v;
        // region recursion
        v = (1.0 - lr * lambda) * (1.0 - lr * lambda) * v + lr * lr * sigma * sigma;
        // endregion recursion
        v += lr * lr * mult * mult * v_before; /* --mult: E[(lr S x zeta)^2] = lr^2 S^2 E[x^2] */
    }
    free(x);
    return res;
}

typedef struct {
    double lr, theory, measured, se;   /* E[x^2]: closed form, measured, its standard error */
    long burnin;
} floor_result;

/* The floor of a constant lr, measured: `chains` independent chains from x0; each runs
 * `burnin` steps (until the start is forgotten) and then averages x^2 over `steps`
 * steps. The standard error comes from the spread of the chains' averages, which are
 * independent. */
static floor_result measure_floor(double lr, long chains, long steps, double x0, uint64_t seed) {
    floor_result f = {lr, floor_x2(lr), 0, 0, 0};
    /* E[x^2] - floor shrinks by contraction(lr) = 1 - lr lambda (2 - lr lambda) (without
     * --mult) per step; after burnin steps by exp(-25) or more. */
    f.burnin = (long)ceil(25.0 / (1.0 - contraction(lr)));
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    double sum = 0.0, sumsq = 0.0;
    for (long r = 0; r < chains; r++) {
        double x = x0, acc = 0.0;
        for (long k = 0; k < f.burnin + steps; k++) {
            double step = lambda * x + sigma * gd_rng_normal(&rng);
            if (mult > 0) step += mult * x * gd_rng_normal(&rng);
            x -= lr * step;
            if (k >= f.burnin) acc += x * x;
        }
        double m = acc / steps;
        sum += m;
        sumsq += m * m;
    }
    f.measured = sum / chains;
    double var = (sumsq - chains * f.measured * f.measured) / (chains - 1);
    f.se = sqrt(fmax(var, 0.0) / chains);
    return f;
}

int main(int argc, char **argv) {
    gd_floats lrs = {4, {1.5, 0.5, 0.1, 0.02}};
    gd_floats decay = {2, {0.5, 2.0}};
    double x0 = 10.0, base = 0.5;
    long chains = 1000, steps = 10000, every = 0, floor_steps = 4000;
    uint64_t seed = 4;
    int no_decay = 0;
    const char *specs = NULL, *out = NULL, *floors = NULL, *numbers = NULL, *key = "noise";
    gd_opt opts[] = {
        GD_OPT_FLOAT("lambda", &lambda, "curvature lambda of f(x) = lambda x^2 / 2", 0, 1e6, 1),
        GD_OPT_FLOAT("sigma", &sigma, "standard deviation of the gradient noise", 0, 1e6, 0),
        GD_OPT_FLOAT("mult", &mult, "S: add noise S x zeta, which vanishes at the minimum (interpolation)", 0, 1e6, 0),
        GD_OPT_FLOAT("x0", &x0, "starting point of every chain", -1e6, 1e6, 0),
        GD_OPT_FLOATS("lr", &lrs, "constant learning rates (each below 2/lambda)", 0, 1e6, 1),
        GD_OPT_FLOATS("decay", &decay, "LR0,T0: also run the 1/t schedule lr0 / (1 + t/t0)", 0, 1e9, 1),
        GD_OPT_FLAG("no-decay", &no_decay, "do not run the 1/t schedule"),
        GD_OPT_STRING("sched", &specs, "also run these schedules (sched.h specs, separated by ';')"),
        GD_OPT_FLOAT("base", &base, "base lr of the --sched schedules", 0, 1e6, 1),
        GD_OPT_INT("steps", &steps, "steps per curve", 1, 10000000),
        GD_OPT_INT("chains", &chains, "independent chains averaged (curves and floors)", 2, 1000000),
        GD_OPT_INT("every", &every, "record the curves every N steps (0: 40 points per decade)", 0, 10000000),
        GD_OPT_INT("floor-steps", &floor_steps, "steps per chain averaged for a measured floor", 1, 100000000),
        GD_OPT_SEED("seed", &seed, "random seed (the noise)"),
        GD_OPT_OUT("out", &out, "write the curves to this table"),
        GD_OPT_OUT("floors", &floors, "measure each constant lr's floor and write them to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_STRING("key", &key, "prefix of the keys in --numbers"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "SGD on f(x) = lambda x^2 / 2 with noisy gradients lambda x + sigma xi: the noise floor "
                          "of a constant lr, and schedules that remove it (Chapter 4).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    if (!(sigma > 0) && !(mult > 0)) {
        fprintf(stderr, "%s: --sigma: 0 needs --mult > 0 (there would be no noise at all)\n", gd_prog());
        return 2;
    }
    for (int i = 0; i < lrs.n; i++)
        if (!(contraction(lrs.v[i]) < 1.0)) { /* lr < 2 lambda / (lambda^2 + S^2) */
            fprintf(stderr, "%s: --lr: %g is not below 2 lambda / (lambda^2 + mult^2) = %g, where constant-lr SGD "
                    "diverges\n", gd_prog(), lrs.v[i], 2.0 * lambda / (lambda * lambda + mult * mult));
            return 2;
        }
    if (floors && !(sigma > 0)) {
        fprintf(stderr, "%s: --floors: with --sigma 0 there is no floor to measure\n", gd_prog());
        return 2;
    }
    if (decay.n != 2) {
        fprintf(stderr, "%s: --decay: needs two numbers LR0,T0, got %d\n", gd_prog(), decay.n);
        return 2;
    }
    if (strlen(key) > MAX_KEY) { /* keys are key_name, in a fixed buffer */
        fprintf(stderr, "%s: --key: at most %d characters, got %zu\n", gd_prog(), MAX_KEY, strlen(key));
        return 2;
    }
    if (every > steps) {
        fprintf(stderr, "%s: --every: must be <= --steps (%ld), got %ld\n", gd_prog(), steps, every);
        return 2;
    }

    /* the curves: constant lrs, then 1/t, then the specs */
    schedule sch[MAX_CURVES];
    int n = 0;
    for (int i = 0; i < lrs.n && n < MAX_CURVES; i++, n++) {
        sch[n] = (schedule){CONSTANT, lrs.v[i], 0, NULL, gd_aprintf("constant")};
        if (!sch[n].label) return fprintf(stderr, "%s: out of memory\n", gd_prog()), 1;
    }
    if (!no_decay && n < MAX_CURVES) {
        sch[n] = (schedule){INV_TIME, decay.v[0], decay.v[1], NULL,
                            gd_aprintf("1/t:lr0=%g:t0=%g", decay.v[0], decay.v[1])};
        if (!sch[n++].label) return fprintf(stderr, "%s: out of memory\n", gd_prog()), 1;
    }
    char *spec_copy = specs ? strdup(specs) : NULL, *save = NULL;
    for (char *sp = spec_copy ? strtok_r(spec_copy, ";", &save) : NULL; sp; sp = strtok_r(NULL, ";", &save)) {
        /* a refusal frees what the curves before it hold (LeakSanitizer counts them) */
        if (n == MAX_CURVES) {
            fprintf(stderr, "%s: --sched: more than %d curves\n", gd_prog(), MAX_CURVES);
            curves_free(sch, n), free(spec_copy);
            return 2;
        }
        gd_sched *s = gd_sched_parse(sp);
        if (!s) {
            fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
            curves_free(sch, n), free(spec_copy);
            return 2;
        }
        sch[n] = (schedule){SPEC, base, 0, s, sched_text(s)};
        if (!sch[n++].label) {
            fprintf(stderr, "%s: out of memory\n", gd_prog());
            curves_free(sch, n), free(spec_copy);
            return 1;
        }
    }
    free(spec_copy);

    gd_table *t = NULL, *ft = NULL, *nt = NULL;
    if (out && !(t = gd_table_open(out, "curve label lr step lr_t loss theory floor"))) goto io_error;
    if (t) {
        gd_table_meta(t, "program", "ch04-noise");
        gd_table_meta(t, "problem", "f(x) = %g x^2 / 2, gradient %g x + %g xi + %g x zeta, xi, zeta ~ N(0, 1), x0 = %g",
                      lambda, lambda, sigma, mult, x0);
        gd_table_meta(t, "seed", "%llu (the same noise for every curve)", (unsigned long long)seed);
        gd_table_meta(t, "settings", "%ld chains, %ld steps; loss = mean of f over the chains, theory = its "
                                     "expectation, floor = the constant lr's limit", chains, steps);
    }
    long *grid = malloc((size_t)(steps + 2) * sizeof *grid);
    long ngrid = make_grid(grid, steps, every);
    curve_result res[MAX_CURVES];
    printf("%-36s %-12s %-12s\n", "schedule", "final_loss", "expected");
    for (int i = 0; i < n; i++) {
        if (t && i > 0) gd_table_block(t);
        res[i] = run_curve(&sch[i], i, chains, steps, x0, seed, grid, ngrid, t);
        char *name = sch[i].kind == CONSTANT ? gd_aprintf("constant lr=%g", sch[i].lr)
                   : sch[i].kind == SPEC     ? gd_aprintf("%s base=%g", sch[i].label, sch[i].lr)
                                             : gd_aprintf("%s", sch[i].label);
        printf("%-36s %-12.4g %-12.4g\n", name ? name : "?", res[i].final_loss, res[i].final_theory);
        free(name);
    }
    free(grid);
    if (t) {
        int rc2 = gd_table_close(t);
        t = NULL;
        if (rc2 != 0) goto io_error;
    }

    floor_result fl[GD_FLOATS_MAX];
    int has_floor = sigma > 0; /* with noise only from --mult, every floor is 0 */
    if (has_floor && (floors || numbers)) {
        printf("\n%-8s %-12s %-12s %-10s %-10s %s\n", "lr", "floor_x2", "measured", "std_err", "ratio", "burn-in");
        for (int i = 0; i < lrs.n; i++) {
            fl[i] = measure_floor(lrs.v[i], chains, floor_steps, x0, seed);
            printf("%-8g %-12.6g %-12.6g %-10.3g %-10.4f %ld\n", fl[i].lr, fl[i].theory, fl[i].measured, fl[i].se,
                   fl[i].measured / fl[i].theory, fl[i].burnin);
        }
    }
    if (floors) {
        if (!(ft = gd_table_open(floors, "lr theory small_lr measured std_err ratio burnin"))) goto io_error;
        gd_table_meta(ft, "program", "ch04-noise");
        gd_table_meta(ft, "problem", "f(x) = %g x^2 / 2, gradient %g x + %g xi, x0 = %g", lambda, lambda, sigma, x0);
        gd_table_meta(ft, "seed", "%llu", (unsigned long long)seed);
        gd_table_meta(ft, "settings", "E[x^2] averaged over %ld chains x %ld steps after burn-in; theory "
                                      "lr sigma^2 / (lambda (2 - lr lambda)); small_lr = lr sigma^2 / (2 lambda)",
                      chains, floor_steps);
        for (int i = 0; i < lrs.n; i++)
            gd_table_row(ft, "%g %.8g %.8g %.8g %.4g %.6f %ld", fl[i].lr, fl[i].theory,
                         lrs.v[i] * sigma * sigma / (2 * lambda), fl[i].measured, fl[i].se,
                         fl[i].measured / fl[i].theory, fl[i].burnin);
        int rc2 = gd_table_close(ft);
        ft = NULL;
        if (rc2 != 0) goto io_error;
    }
    if (numbers) {
        if (!(nt = gd_table_open(numbers, "key value"))) goto io_error;
        gd_table_meta(nt, "program", "ch04-noise");
        char k[128], nm[64];
#define KV(name, ...) (snprintf(k, sizeof k, "%s_%s", key, name), gd_table_kv(nt, k, __VA_ARGS__))
#define KVI(name, i, ...) (snprintf(nm, sizeof nm, name, i), KV(nm, __VA_ARGS__))
        KV("lambda", "%g", lambda);
        KV("sigma", "%g", sigma);
        KV("x0", "%g", x0);
        KV("x0_loss", "%g", 0.5 * lambda * x0 * x0);
        KV("seed", "%llu", (unsigned long long)seed);
        KV("chains", "%ld", chains);
        KV("steps", "%ld", steps);
        KV("floor_steps", "%ld", floor_steps);
        KV("samples", "%.0f", (double)chains * floor_steps);
        KV("base", "%g", base);
        KV("mult", "%g", mult);
        for (int i = 0; i < lrs.n; i++) {
            KVI("lr%d", i, "%g", lrs.v[i]);
            KVI("factor%d", i, "%.3g", contraction(lrs.v[i]));
        }
        if (has_floor) {
            /* the floors, as a table and one by one */
            char buf[4096];
            int len = snprintf(buf, sizeof buf,
                               "| lr | floor of E[x²]: theory | small-lr approximation | measured ± std. error | "
                               "measured / theory |\n|---:|---:|---:|---:|---:|\n");
            double worst = 0.0, worst_se = 0.0;
            for (int i = 0; i < lrs.n && len < (int)sizeof buf - 200; i++) {
                len += snprintf(buf + len, sizeof buf - len, "| %g | %.4g | %.4g | %.4g ± %.2g | %.3f |\n", fl[i].lr,
                                fl[i].theory, lrs.v[i] * sigma * sigma / (2 * lambda), fl[i].measured, fl[i].se,
                                fl[i].measured / fl[i].theory);
                worst = fmax(worst, fabs(fl[i].measured / fl[i].theory - 1.0));
                worst_se = fmax(worst_se, fl[i].se / fl[i].theory);
                KVI("floor%d", i, "%.4g", fl[i].theory);
                KVI("floor%d_loss", i, "%.3g", 0.5 * lambda * fl[i].theory);
                KVI("floor%d_measured", i, "%.4g", fl[i].measured);
                KVI("floor%d_burnin", i, "%ld", fl[i].burnin);
                KVI("floor%d_vs_small", i, "%.2f", fl[i].theory / (lrs.v[i] * sigma * sigma / (2 * lambda)));
                /* x^2 at steps k and k+j correlate as rho^(2j), rho = 1 - lr lambda: the
                 * integrated correlation time (1 + rho^2) / (1 - rho^2) */
                double rho2 = (1 - lrs.v[i] * lambda) * (1 - lrs.v[i] * lambda);
                KVI("floor%d_tau", i, "%.0f", (1 + rho2) / (1 - rho2));
            }
            KV("floors", "%s", buf);
            KV("worst_dev_pct", "%.2f", 100.0 * worst);
            KV("worst_se_pct", "%.2f", 100.0 * worst_se);
            /* tests/ch04 asks for agreement within 3%: that many standard errors */
            KV("margin_se", "%.0f", floor(3.0 / (100.0 * worst_se)));
        }
        /* every curve's end */
        double lowest = INFINITY; /* the smallest constant lr has the lowest floor */
        for (int i = 0; i < lrs.n; i++) lowest = fmin(lowest, lrs.v[i]);
        for (int i = 0; i < n; i++) {
            KVI("curve%d_label", i, "%s", sch[i].label);
            KVI("curve%d_lr", i, "%g", sch[i].lr);
            KVI("curve%d_final", i, "%.3g", res[i].final_loss);
            KVI("curve%d_expected", i, "%.3g", res[i].final_theory);
            KVI("curve%d_ratio", i, "%.3f", res[i].final_loss / res[i].final_theory);
            /* the expectation's slope over the last decade (log-log), and the floor of the
             * lr the schedule has reached at the end, in loss units */
            KVI("curve%d_slope", i, "%.2f", log10(res[i].final_theory / res[i].decade_theory));
            if (has_floor) KVI("curve%d_quasi", i, "%.3g", 0.5 * lambda * floor_x2(schedule_lr(&sch[i], steps)));
            if (has_floor && lrs.n > 0) /* how far below the lowest floor of the constant lrs it ends */
                KVI("curve%d_below_floor", i, "%.0f", two_digits(0.5 * lambda * floor_x2(lowest) / res[i].final_loss));
        }
        if (!no_decay) {
            /* the 1/t schedule's asymptote: E[x_t^2] ~ c^2 sigma^2 / ((2 c lambda - 1) t), c = lr0 t0 */
            double c = decay.v[0] * decay.v[1];
            KV("decay_lr0", "%g", decay.v[0]);
            KV("decay_t0", "%g", decay.v[1]);
            KV("decay_c", "%g", c);
            KV("decay_clambda", "%g", c * lambda);
            if (2 * c * lambda > 1)
                KV("decay_asymptote", "%.3g", 0.5 * lambda * c * c * sigma * sigma / ((2 * c * lambda - 1) * steps));
            KV("decay_final_lr", "%.3g", schedule_lr(&sch[lrs.n], steps));
        }
#undef KV
#undef KVI
        int rc2 = gd_table_close(nt);
        nt = NULL;
        if (rc2 != 0) goto io_error;
    }
    curves_free(sch, n);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    if (ft) gd_table_abort(ft);
    if (nt) gd_table_abort(nt);
    curves_free(sch, n);
    return 1;
}

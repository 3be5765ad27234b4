/* sparse.c -- Adam's largest updates are not its first: a gradient after a long stretch
 * of zeros moves a coordinate by up to (1 - beta1) / sqrt(1 - beta2) times the lr,
 * Chapter 5.
 *
 * Adam's first update is lr * sign(g) (lr * |g| / (|g| + eps)). Kingma & Ba (2015, §2.1)
 * bound the later ones: |update| <= lr (1 - beta1) / sqrt(1 - beta2) when
 * (1 - beta1) > sqrt(1 - beta2), "the most severe case of sparsity: when a gradient has
 * been zero at all timesteps except at the current timestep". With the defaults
 * (0.9, 0.999) that is 0.1 / sqrt(0.001) = 3.16 lr. A coordinate whose gradient was 0
 * for Z steps and is g at step t = Z + 1 has m_hat = (1 - beta1) g / (1 - beta1^t) and
 * v_hat = (1 - beta2) g^2 / (1 - beta2^t), so it moves by
 *
 *     lr (1 - beta1) / sqrt(1 - beta2) * sqrt(1 - beta2^t) / (1 - beta1^t)     (eps aside),
 *
 * which is lr at Z = 0 and approaches the bound as Z grows. The program runs the
 * library's Adam (optim.h, the same code the trainer uses) on one parameter tensor with
 * one coordinate per Z of --zeros: coordinate j has gradient 0 until step Z_j and --g
 * at step Z_j + 1 (and 0 after). It records the update of each coordinate at that step
 * in units of lr, next to the closed form above.
 * A last coordinate (--grow) gets 0 for --zeros' largest Z, then gradients that grow by
 * beta2 / beta1 per step for --grow steps: the case where the Cauchy-Schwarz bound of
 * Exercise 2, lr (1 - beta1) / sqrt((1 - beta2)(1 - beta1^2 / beta2)) (7.27 lr with the
 * defaults; truncated to the --grow steps and bias-corrected below), is an equality.
 * Leaves out: eps's effect (the gradients are far above eps), AMSGrad, weight decay.
 */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The closed form for a gradient at step t after t - 1 zeros, in units of lr. */
static double sparse_theory(double b1, double b2, long t) {
    return (1 - b1) / sqrt(1 - b2) * sqrt(1 - pow(b2, (double)t)) / (1 - pow(b1, (double)t));
}

/* Gradients r^k (r = b2/b1) for n steps from step Z + 1 on, after Z zeros: the update at
 * step t = Z + n is lr * sum a_k g_k / sqrt(sum b_k g_k^2), which equals the Cauchy-
 * Schwarz bound sqrt(sum a_k^2 / b_k) over the n nonzero steps, in units of lr. */
static double grow_theory(double b1, double b2, long Z, long n) {
    double s = 0;
    for (long j = 0; j < n; j++) s += pow(b1 * b1 / b2, (double)j);
    long t = Z + n;
    return (1 - b1) / sqrt(1 - b2) * sqrt(s) * sqrt(1 - pow(b2, (double)t)) / (1 - pow(b1, (double)t));
}

int main(int argc, char **argv) {
    const char *optim = "adam", *out = NULL, *numbers = NULL;
    gd_floats zeros = {7, {0, 1, 10, 100, 1000, 3000, 10000}};
    double g = 1.0;
    long grow = 60;
    gd_opt opts[] = {
        GD_OPT_STRING("optim", &optim, "an Adam spec (optim.h): adam or adamw, e.g. adam:lr=0.001:betas=0.9/0.999"),
        GD_OPT_FLOATS("zeros", &zeros, "lengths Z of the stretches of zero gradient (whole numbers)", 0, 1e6, 0),
        GD_OPT_FLOAT("g", &g, "the gradient after the stretch of zeros", 1e-3, 1e3, 0),
        GD_OPT_INT("grow", &grow, "steps of gradients growing by beta2/beta1 after the longest stretch (0: none)", 0, 200),
        GD_OPT_OUT("out", &out, "write one row per coordinate: Z, step, update/lr, closed form"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Adam's update after a stretch of zero gradients: up to (1-beta1)/sqrt(1-beta2) times the "
                          "lr, larger than its first step (Chapter 5).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (kind != GD_ADAM && kind != GD_ADAMW) {
        /* through gd_seterr, which escapes control characters: the message stays one line */
        gd_seterr("--optim: needs adam or adamw, got '%s'", optim);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (hp.amsgrad || hp.weight_decay != 0) {
        gd_seterr("--optim: the closed form is for amsgrad=0 and weight_decay=0, got '%s'", optim);
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    long zmax = 0;
    for (int i = 0; i < zeros.n; i++) {
        if (zeros.v[i] != floor(zeros.v[i])) {
            fprintf(stderr, "%s: --zeros: lengths are whole numbers of steps, got %g\n", gd_prog(), zeros.v[i]);
            return 2;
        }
        if ((long)zeros.v[i] > zmax) zmax = (long)zeros.v[i];
    }
    double b1 = hp.beta1, b2 = hp.beta2, r = b2 / b1;
    if (grow > 0 && (double)grow * log10(r) + log10(fabs(g)) > 15) {   /* v holds g^2 in float */
        fprintf(stderr, "%s: --grow: the gradient would reach 10^%.0f (float overflow in v); use fewer steps\n",
                gd_prog(), (double)grow * log10(r) + log10(fabs(g)));
        return 2;
    }
    int n = zeros.n + (grow > 0);
    gd_param p;
    int shape[1] = {n};
    if (gd_param_init(&p, "w", 1, shape) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_optim *opt = gd_optim_new(kind, &hp);
    if (!opt || gd_optim_add_group(opt, &p, 1, NULL) < 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    float *w = p.value->data, *gr = p.grad->data;
    double *measured = calloc((size_t)n, sizeof *measured), *peak = calloc((size_t)n, sizeof *peak);
    long last = zmax + (grow > 0 ? grow : 1);
    for (long t = 1; t <= last; t++) {
        gd_optim_zero_grad(opt);
        for (int j = 0; j < zeros.n; j++) gr[j] = t == (long)zeros.v[j] + 1 ? (float)g : 0.0f;
        if (grow > 0) gr[n - 1] = t > zmax ? (float)(g * pow(r, (double)(t - zmax - 1))) : 0.0f;
        float before[GD_FLOATS_MAX + 1];
        memcpy(before, w, (size_t)n * sizeof *w);
        gd_optim_step(opt);
        for (int j = 0; j < n; j++) {
            double d = fabs((double)w[j] - before[j]) / hp.lr;
            peak[j] = fmax(peak[j], d);
            if (j < zeros.n && t == (long)zeros.v[j] + 1) measured[j] = d;
            if (j == n - 1 && grow > 0 && t == last) measured[j] = d;
        }
    }

    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);
    printf("%-8s %-8s %-12s %-12s %s\n", "zeros", "step", "update/lr", "theory", "largest update/lr");
    gd_table *t = NULL;
    if (out && !(t = gd_table_open(out, "pattern zeros step update_over_lr theory peak_over_lr"))) goto io_error;
    if (t) {
        gd_table_meta(t, "program", "ch05-sparse");
        gd_table_meta(t, "optim", "%s", canon);
        gd_table_meta(t, "gradients", "0 for Z steps, then %g at step Z+1 (pattern sparse); 0 for %ld steps, then "
                      "%g (beta2/beta1)^k for %ld steps (pattern grow)", g, zmax, g, grow);
    }
    double best = 0, best_theory = 0;
    long best_z = 0;
    for (int j = 0; j < n; j++) {
        int is_grow = grow > 0 && j == n - 1;
        long z = is_grow ? zmax : (long)zeros.v[j], step = is_grow ? last : z + 1;
        double th = is_grow ? grow_theory(b1, b2, zmax, grow) : sparse_theory(b1, b2, step);
        if (t) gd_table_row(t, "%s %ld %ld %.6f %.6f %.6f", is_grow ? "grow" : "sparse", z, step, measured[j], th, peak[j]);
        printf("%-8ld %-8ld %-12.6f %-12.6f %.6f%s\n", z, step, measured[j], th, peak[j], is_grow ? " (growing)" : "");
        if (!is_grow && measured[j] > best) best = measured[j], best_theory = th, best_z = z;
    }
    if (t) {
        int e = gd_table_close(t);
        t = NULL;
        if (e) goto io_error;
    }
    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch05-sparse");
        gd_table_kv(nt, "sp_bound", "%.2f", (1 - b1) / sqrt(1 - b2));
        gd_table_kv(nt, "sp_zmax", "%ld", best_z);
        gd_table_kv(nt, "sp_max", "%.3f", best);
        gd_table_kv(nt, "sp_max_theory", "%.3f", best_theory);
        for (int j = 0; j < zeros.n; j++) {
            char key[64];
            snprintf(key, sizeof key, "sp_z%ld", (long)zeros.v[j]);
            gd_table_kv(nt, key, "%.3f", measured[j]);
        }
        if (grow > 0) {
            gd_table_kv(nt, "sp_grow_steps", "%ld", grow);
            gd_table_kv(nt, "sp_grow_ratio", "%.3f", r);
            gd_table_kv(nt, "sp_grow", "%.2f", measured[n - 1]);
            gd_table_kv(nt, "sp_grow_theory", "%.2f", grow_theory(b1, b2, zmax, grow));
            if (b1 * b1 < b2) gd_table_kv(nt, "sp_cs_bound", "%.2f", (1 - b1) / sqrt((1 - b2) * (1 - b1 * b1 / b2)));
        }
        if (gd_table_close(nt) != 0) goto io_error;
    }
    gd_optim_free(opt);
    gd_param_free(&p);
    free(measured);
    free(peak);
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    if (t) gd_table_abort(t);
    return 1;
}

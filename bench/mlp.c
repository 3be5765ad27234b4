/* mlp.c -- `make bench`: how fast the library trains an MLP, measured against this
 * machine's own single-thread sgemm in the same run.
 *
 * Trains two nets on Fashion-MNIST for one epoch each (60000 images, batch 128, the last
 * batch 96), plain SGD with lr 0.1, one BLAS thread, the order shuffled by a fixed seed:
 *   784-256-128-10   the GEMMs dominate: how close do we get to sgemm?
 *   784-32-10        small GEMMs: per-step overhead (allocation, copies) would show here.
 * Each timing is the best of --reps repetitions. Beside the training time it measures
 * sgemm alone: on a 1024^3 square (the machine's peak) and on exactly the GEMMs a
 * training epoch makes (the floor for that net), so the percentages hold on a noisy
 * machine. When /usr/bin/python3 can import torch, bench/torch_mlp.py trains the same
 * nets in PyTorch and the ratio is printed; the reference times are printed too.
 * (By hand: /usr/bin/python3 bench/torch_mlp.py --help.)
 *
 * Leaves out: accuracy, multi-threading, anything but ReLU MLPs.
 *
 * Dimension letters: N batch, I inputs, O outputs of a linear layer; D = 784 pixels.
 */
#include "gd.h"

#include <cblas.h> /* openblas_set_num_threads */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#undef I /* <complex.h>, which cblas.h pulls in, defines I; here it is a dimension */

#define BATCH 128
#define LR 0.1f
#define MAX_LAYERS 4

typedef struct net {
    const char *name;
    int nlayers;
    int dims[MAX_LAYERS + 1];
    double torch_ref_s;  /* the PyTorch 1.13 single-thread s/epoch (not measured here) */
    double target_speedup; /* the target: PyTorch's time over ours at least this */
    double torch_s;      /* measured here by bench/torch_mlp.py; 0 if not run */
    double train_s;      /* best s/epoch */
    double gemm_s;       /* best s/epoch of the same GEMMs alone */
    double loss;         /* mean training loss of the last epoch, to show it learns */
    double part[4];      /* s/epoch of the best run in: batch, forward, backward, update */
} net;

enum { PART_BATCH, PART_FORWARD, PART_BACKWARD, PART_UPDATE };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* FLOPs per sample of one training step, counting the matrix multiplies only (bias,
 * ReLU, softmax and the SGD update are O(N*O) or O(params) and left out). Per linear
 * layer I -> O, on N samples:
 *   forward   out  = in @ W^T      2*N*I*O
 *   backward  dW  += dout^T @ in   2*N*I*O
 *             din += dout @ W      2*N*I*O   (not for the first layer: X needs no gradient)
 */
static double flops_per_sample(const net *t) {
    double f = 0.0;
    for (int l = 0; l < t->nlayers; l++) {
        double io = (double)t->dims[l] * t->dims[l + 1];
        f += (l == 0 ? 4.0 : 6.0) * io;
    }
    return f;
}

/* One training run of `epochs` epochs from a fresh model; returns the seconds it took,
 * how they split over the four phases of a step (part), and the last epoch's mean loss.
 * Nothing is allocated inside the timed loop. */
static int train(double *seconds, double part[4], double *loss, const net *t,
                 const gd_images *ds, int *idx, float *X, int *y, int epochs,
                 uint64_t seed) {
    gd_mlp m;
    if (gd_mlp_init(&m, t->nlayers, t->dims, GD_ACT_RELU, BATCH, seed) != 0) return -1;
    int n = ds->n;
    /* touch every buffer once (forward and backward, no update) outside the timing */
    for (int i = 0; i < BATCH; i++) idx[i] = i;
    gd_images_batch(X, y, ds, idx, BATCH);
    gd_mlp_loss(&m, X, y, BATCH);
    gd_mlp_zero_grad(&m);
    gd_mlp_backward(&m, y, BATCH);
    gd_mlp_zero_grad(&m);

    gd_rng rng;
    gd_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int k = 0; k < 4; k++) part[k] = 0.0;
    double sum = 0.0, t0 = now(), ta, tb;
    for (int e = 0; e < epochs; e++) {
        gd_rng_shuffle(&rng, idx, n);
        sum = 0.0;
        for (int i = 0; i < n; i += BATCH) {
            int N = n - i < BATCH ? n - i : BATCH;
            ta = now();
            gd_images_batch(X, y, ds, idx + i, N);     /* X (N, D) = pixels / 255 */
            tb = now();
            part[PART_BATCH] += tb - ta;
            sum += gd_mlp_loss(&m, X, y, N) * N;
            ta = now();
            part[PART_FORWARD] += ta - tb;
            gd_mlp_zero_grad(&m);
            gd_mlp_backward(&m, y, N);
            tb = now();
            part[PART_BACKWARD] += tb - ta;
            gd_sgd_step(m.params, m.nparams, LR);      /* w = w - lr * grad */
            part[PART_UPDATE] += now() - tb;
        }
    }
    *seconds = now() - t0;
    for (int k = 0; k < 4; k++) part[k] /= epochs;
    *loss = sum / n;
    gd_mlp_free(&m);
    return 0;
}

/* The GEMMs of `epochs` training epochs over n samples, alone, in the order and with the
 * shapes and transposes the training step uses; returns seconds. Betas as in training,
 * but for the forward: beta = 0 here, where training writes the bias into out first and
 * uses beta = 1 (one pass over out either way: sgemm clears C when beta = 0). */
static double gemm_only(const net *t, int n, int epochs, float **act, float **grad,
                        float **w, float **dw) {
    int L = t->nlayers;
    double t0 = now();
    for (int e = 0; e < epochs; e++) {
        for (int i = 0; i < n; i += BATCH) {
            int N = n - i < BATCH ? n - i : BATCH;
            for (int l = 0; l < L; l++) /* out = in @ W^T */
                gd_matmul(act[l + 1], act[l], w[l], N, t->dims[l + 1], t->dims[l], 0, 1,
                          1.0f, 0.0f);
            for (int l = L - 1; l >= 0; l--) {
                int I = t->dims[l], O = t->dims[l + 1];
                if (l > 0) gd_matmul(grad[l], grad[l + 1], w[l], N, I, O, 0, 0, 1.0f, 0.0f);
                gd_matmul(dw[l], grad[l + 1], act[l], O, I, N, 1, 0, 1.0f, 1.0f);
            }
        }
    }
    return now() - t0;
}

/* sgemm GFLOP/s on a square M = N = K = S (C = A @ B), `calls` calls. */
static double sgemm_square(float *A, float *B, float *C, int S, int calls) {
    double t0 = now();
    for (int c = 0; c < calls; c++) gd_matmul(C, A, B, S, S, S, 0, 0, 1.0f, 0.0f);
    return 2.0 * S * S * (double)S * calls / (now() - t0) / 1e9;
}

static float *new_buf(size_t n, float v) {
    float *p = malloc(n * sizeof *p);
    if (p) gd_fill(p, v, n);
    return p;
}

/* Runs bench/torch_mlp.py and fills each net's torch_s; prints why when it cannot. */
static void run_torch(net *nets, int nnets, const char *python, const char *script,
                      const char *data_dir, long reps, long epochs, uint64_t seed) {
    if (access(python, X_OK) != 0) {
        printf("# PyTorch: %s not found, skipped\n", python);
        return;
    }
    if (access(script, R_OK) != 0) {
        printf("# PyTorch: %s not found (run from the repository root), skipped\n", script);
        return;
    }
    if (strchr(python, '\'') || strchr(script, '\'') || strchr(data_dir, '\'')) {
        printf("# PyTorch: a path contains a single quote, skipped\n");
        return;
    }
    char *cmd = gd_aprintf("'%s' -c 'import torch' >/dev/null 2>&1", python);
    if (!cmd || system(cmd) != 0) {
        printf("# PyTorch: %s cannot import torch, skipped\n", python);
        free(cmd);
        return;
    }
    free(cmd);
    char names[256] = "";
    for (int k = 0; k < nnets; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "",
                 nets[k].name);
    cmd = gd_aprintf(
             "'%s' '%s' --data '%s' --nets %s --reps %ld --epochs %ld --seed %llu", python,
             script, data_dir, names, reps, epochs, (unsigned long long)seed);
    fflush(stdout);
    FILE *p = cmd ? popen(cmd, "r") : NULL;
    free(cmd);
    if (!p) {
        printf("# PyTorch: cannot run %s, skipped\n", script);
        return;
    }
    char line[256], name[64];
    double s;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf", name, &s) == 2)
            for (int k = 0; k < nnets; k++)
                if (strcmp(name, nets[k].name) == 0 && s > 0) nets[k].torch_s = s;
    int status = pclose(p);
    if (status != 0) {
        printf("# PyTorch: %s failed (%s %d), its times are not shown\n", script,
               WIFEXITED(status) ? "exit status" : "status",
               WIFEXITED(status) ? WEXITSTATUS(status) : status);
        for (int k = 0; k < nnets; k++) nets[k].torch_s = 0;
    }
}

int main(int argc, char **argv) {
    const char *data_dir = NULL, *python = "/usr/bin/python3",
               *script = "bench/torch_mlp.py";
    long epochs = 1, reps = 3;
    uint64_t seed = 1;
    int no_torch = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("data", &data_dir,
                      "Fashion-MNIST directory (default: $" GD_FMNIST_ENV ", else "
                      GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_INT("epochs", &epochs, "epochs per timed repetition", 1, 100),
        GD_OPT_INT("reps", &reps, "repetitions of each timing; the best is kept", 1, 100),
        GD_OPT_SEED("seed", &seed, "seed of the initialisation and the shuffle"),
        GD_OPT_FLAG("no-torch", &no_torch, "do not run the PyTorch comparison"),
        GD_OPT_STRING("python", &python, "Python for the PyTorch comparison"),
        GD_OPT_STRING("torch-script", &script, "the PyTorch side of the benchmark"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Trains MLPs 784-256-128-10 and 784-32-10 on Fashion-MNIST for one "
                          "epoch (batch 128, SGD) on one thread and prints\nsamples/s and "
                          "GFLOP/s against this machine's single-thread sgemm, measured in "
                          "the same run.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    openblas_set_num_threads(1);
    gd_images train_set, test_set;
    if (gd_fmnist_load(&train_set, &test_set, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    /* train() touches one batch before its timing */
    if (gd_train_opts_require(data_dir, &train_set, BATCH,
                              "the training set", "one batch") != 0) {
        gd_images_free(&train_set);
        gd_images_free(&test_set);
        return 2;
    }
    gd_images_free(&test_set);
    const int D = train_set.dim, n = train_set.n;

    net nets[] = {
        {"784-256-128-10", 3, {784, 256, 128, 10}, 0.570, 1.0, 0, 0, 0, 0, {0}},
        {"784-32-10", 2, {784, 32, 10}, 0.175, 2.0, 0, 0, 0, 0, {0}},
    };
    const int nnets = (int)(sizeof nets / sizeof nets[0]);
    for (int k = 0; k < nnets; k++) {
        nets[k].train_s = nets[k].gemm_s = 1e300;
        if (nets[k].dims[0] != D) {
            fprintf(stderr, "%s: images have %d pixels, the nets expect %d\n", gd_prog(), D,
                    nets[k].dims[0]);
            return 1;
        }
    }

    /* every buffer once, before any timing */
    const int S = 1024;
    int widest = 0; /* (N, widest) fits any activation, (widest, widest) any weight */
    for (int k = 0; k < nnets; k++)
        for (int l = 0; l <= nets[k].nlayers; l++)
            widest = nets[k].dims[l] > widest ? nets[k].dims[l] : widest;
    int *idx = malloc((size_t)n * sizeof *idx), *y = malloc(BATCH * sizeof *y);
    float *X = new_buf((size_t)BATCH * D, 0.0f);
    float *A = new_buf((size_t)S * S, 0.5f), *B = new_buf((size_t)S * S, 0.25f),
          *C = new_buf((size_t)S * S, 0.0f);
    float *act[MAX_LAYERS + 1] = {0}, *grad[MAX_LAYERS + 1] = {0}, *w[MAX_LAYERS] = {0},
          *dw[MAX_LAYERS] = {0};
    int ok = idx && y && X && A && B && C;
    for (int l = 0; ok && l <= MAX_LAYERS; l++) {
        act[l] = new_buf((size_t)BATCH * widest, 0.01f);
        grad[l] = new_buf((size_t)BATCH * widest, 0.01f);
        if (l < MAX_LAYERS) {
            w[l] = new_buf((size_t)widest * widest, 0.01f);
            dw[l] = new_buf((size_t)widest * widest, 0.0f);
            ok = ok && w[l] && dw[l];
        }
        ok = ok && act[l] && grad[l];
    }
    if (!ok) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }

    /* Repetitions are interleaved (peak, then each net), so slow phases of a noisy
     * machine hit every measurement alike; each keeps its best. */
    double peak = 0.0;
    sgemm_square(A, B, C, S, 1); /* warm-up */
    for (long r = 0; r < reps; r++) {
        double g = sgemm_square(A, B, C, S, 10);
        peak = g > peak ? g : peak;
        for (int k = 0; k < nnets; k++) {
            double s, loss, part[4];
            if (train(&s, part, &loss, &nets[k], &train_set, idx, X, y, (int)epochs, seed)) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            if (s / epochs < nets[k].train_s) {
                nets[k].train_s = s / epochs;
                memcpy(nets[k].part, part, sizeof part);
            }
            nets[k].loss = loss;
            s = gemm_only(&nets[k], n, (int)epochs, act, grad, w, dw) / epochs;
            if (s < nets[k].gemm_s) nets[k].gemm_s = s;
        }
    }

    printf("# %s: Fashion-MNIST %d training images, batch %d, SGD lr %g, seed %llu, "
           "1 BLAS thread, %ld epoch(s) per timing, best of %ld\n",
           gd_prog(), n, BATCH, (double)LR, (unsigned long long)seed, epochs, reps);
    printf("# sgemm peak (1024x1024x1024, 1 thread): %.1f GFLOP/s\n", peak);
    printf("# GFLOP/s counts the matrix multiplies: forward 2*N*I*O per layer, backward "
           "2*N*I*O (dW) + 2*N*I*O (din, not the first layer)\n");
    printf("# %%peak = GFLOP/s over that peak; %%sgemm = time of the same GEMMs alone over "
           "the training time\n");
    printf("%-16s %9s %10s %8s %6s %9s %6s %7s\n", "net", "s/epoch", "samples/s", "GFLOP/s",
           "%peak", "sgemm s", "%sgemm", "loss");
    for (int k = 0; k < nnets; k++) {
        const net *t = &nets[k];
        double gflops = flops_per_sample(t) * n / t->train_s / 1e9;
        printf("%-16s %9.4f %10.0f %8.1f %6.1f %9.4f %6.1f %7.4f\n", t->name, t->train_s,
               n / t->train_s, gflops, 100.0 * gflops / peak, t->gemm_s,
               100.0 * t->gemm_s / t->train_s, t->loss);
    }
    printf("\n# where an epoch goes (s, the best run): gd_images_batch, forward (gd_mlp_loss), "
           "backward (zero_grad + gd_mlp_backward),\n# update (gd_sgd_step); \"GEMM "
           "floor\" is the sgemm s above\n");
    printf("%-16s %9s %9s %9s %9s %10s\n", "net", "batch", "forward", "backward", "update",
           "GEMM floor");
    for (int k = 0; k < nnets; k++) {
        const net *t = &nets[k];
        printf("%-16s %9.4f %9.4f %9.4f %9.4f %10.4f\n", t->name, t->part[PART_BATCH],
               t->part[PART_FORWARD], t->part[PART_BACKWARD], t->part[PART_UPDATE], t->gemm_s);
    }
    fflush(stdout);

    if (no_torch)
        printf("# PyTorch: skipped (--no-torch)\n");
    else
        run_torch(nets, nnets, python, script, gd_fmnist_dir(data_dir), reps, epochs, seed);
    printf("\n# PyTorch 1.13 on 1 thread, s/epoch. \"issue\": the issue's reference times "
           "(not measured in this run);\n# \"torch\": bench/torch_mlp.py, measured in this "
           "run. speedup = PyTorch's s / our s; target: the issue's.\n");
    printf("%-16s %9s %9s %8s %9s %8s %7s\n", "net", "ours", "issue", "speedup", "torch",
           "speedup", "target");
    for (int k = 0; k < nnets; k++) {
        const net *t = &nets[k];
        char here[32] = "-", ratio[32] = "-";
        if (t->torch_s > 0) {
            snprintf(here, sizeof here, "%.4f", t->torch_s);
            snprintf(ratio, sizeof ratio, "%.2fx", t->torch_s / t->train_s);
        }
        printf("%-16s %9.4f %9.3f %7.2fx %9s %8s %6.0fx\n", t->name, t->train_s,
               t->torch_ref_s, t->torch_ref_s / t->train_s, here, ratio, t->target_speedup);
    }

    /* the targets, judged on this run's numbers */
    printf("\n");
    const net *big = &nets[0];
    double big_gflops = flops_per_sample(big) * n / big->train_s / 1e9;
    printf("# target %-44s %s (%.1f%% of the same GEMMs, %.1f%% of the 1024^3 peak)\n",
           "784-256-128-10 at >= 80% of sgemm:",
           100.0 * big->gemm_s / big->train_s >= 80.0 ? "met" : "NOT met",
           100.0 * big->gemm_s / big->train_s, 100.0 * big_gflops / peak);
    for (int k = 0; k < nnets; k++) {
        const net *t = &nets[k];
        char what[64];
        snprintf(what, sizeof what, "%s at >= %gx PyTorch's speed:", t->name,
                 t->target_speedup);
        printf("# target %-44s issue's time: %s (%.2fx)", what,
               t->torch_ref_s / t->train_s >= t->target_speedup ? "met" : "NOT met",
               t->torch_ref_s / t->train_s);
        if (t->torch_s > 0)
            printf("; measured here: %s (%.2fx)",
                   t->torch_s / t->train_s >= t->target_speedup ? "met" : "NOT met",
                   t->torch_s / t->train_s);
        /* what the target asks of this machine */
        double need = flops_per_sample(t) * n / (t->torch_ref_s / t->target_speedup) / 1e9;
        printf("\n#   (%.3f s/epoch = %.0f GFLOP/s = %.0f%% of the 1-thread sgemm peak here)\n",
               t->torch_ref_s / t->target_speedup, need, 100.0 * need / peak);
    }

    for (int l = 0; l <= MAX_LAYERS; l++) {
        free(act[l]);
        free(grad[l]);
        if (l < MAX_LAYERS) {
            free(w[l]);
            free(dw[l]);
        }
    }
    free(A);
    free(B);
    free(C);
    free(X);
    free(y);
    free(idx);
    gd_images_free(&train_set);
    return 0;
}

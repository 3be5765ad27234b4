/* lenet.c -- `make bench`: one LeNet epoch, ours against PyTorch 1.13 in the same run.
 *
 * Trains d2l's LeNet (lib/lenet.h) on Fashion-MNIST for one epoch (60000 images, batch
 * 256, the last batch 96), plain SGD with lr 0.1, one BLAS thread, the order shuffled
 * by a fixed seed, in both variants: sigmoid + average pooling (d2l 7.6) and ReLU + max
 * pooling (d2l 12.11). bench/torch_lenet.py trains the same nets in PyTorch (one
 * thread) right after, and the ratio is printed. Times are CPU seconds of the process
 * (CLOCK_PROCESS_CPUTIME_ID; time.process_time in Python), the best of --reps: on a
 * shared machine the wall clock also counts time other processes held the core. Wall
 * seconds are printed beside them.
 *
 * Leaves out: accuracy, multi-threading, the trainer's bookkeeping (evaluation, logs).
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

#define BATCH 256
#define LR 0.1f

typedef struct variant {
    const char *name;        /* as bench/torch_lenet.py names it */
    const char *spec;        /* gd_lenet_parse */
    double cpu_s, wall_s;    /* best s/epoch */
    double torch_cpu_s, torch_wall_s, torch_loss;   /* bench/torch_lenet.py; 0 if not run */
    double loss;             /* mean training loss of the (last) epoch */
} variant;

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One epoch from a fresh model; CPU and wall seconds, the mean loss. PyTorch's default
 * init (init=torch), as bench/torch_lenet.py. */
static int train(variant *v, const gd_images *ds, int n, int *idx, float *X, int *y, uint64_t seed, double *cpu,
                 double *wall) {
    char spec[128];
    snprintf(spec, sizeof spec, "%s:init=torch", v->spec);
    gd_lenet_arch a;
    gd_lenet m;
    if (gd_lenet_parse(spec, &a) != 0 || gd_lenet_init(&m, &a, BATCH, seed) != 0) return -1;
    /* touch every buffer once outside the timing */
    for (int i = 0; i < BATCH; i++) idx[i] = i;
    gd_images_batch(X, y, ds, idx, BATCH);
    gd_lenet_loss(&m, X, y, BATCH);
    gd_lenet_backward(&m, y, BATCH);
    gd_lenet_zero_grad(&m);
    gd_rng rng;
    gd_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) idx[i] = i;
    gd_rng_shuffle(&rng, idx, n);
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), sum = 0.0;
    for (int i = 0; i < n; i += BATCH) {
        int N = n - i < BATCH ? n - i : BATCH;
        gd_images_batch(X, y, ds, idx + i, N);     /* X (N, 784) = (N, 1, 28, 28) = pixels / 255 */
        gd_lenet_zero_grad(&m);
        sum += gd_lenet_loss(&m, X, y, N) * N;
        gd_lenet_backward(&m, y, N);
        gd_sgd_step(m.params, m.nparams, LR);      /* w = w - lr * grad */
    }
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *wall = clock_s(CLOCK_MONOTONIC) - w0;
    v->loss = sum / n;
    gd_lenet_free(&m);
    return 0;
}

/* Runs bench/torch_lenet.py and fills each variant's torch_*; prints why when it cannot. */
static void run_torch(variant *vs, int nv, const char *python, const char *script, const char *data_dir, long reps,
                      int n, uint64_t seed) {
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
    for (int k = 0; k < nv; k++) snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "", vs[k].name);
    cmd = gd_aprintf("'%s' '%s' --data '%s' --variants %s --reps %ld --n %d --lr %g --seed %llu", python,
             script, data_dir, names, reps, n, (double)LR, (unsigned long long)seed);
    fflush(stdout);
    FILE *p = cmd ? popen(cmd, "r") : NULL;
    free(cmd);
    if (!p) {
        printf("# PyTorch: cannot run %s, skipped\n", script);
        return;
    }
    char line[256], name[64];
    double c, w, l;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf %lf %lf", name, &c, &w, &l) == 4)
            for (int k = 0; k < nv; k++)
                if (strcmp(name, vs[k].name) == 0 && c > 0)
                    vs[k].torch_cpu_s = c, vs[k].torch_wall_s = w, vs[k].torch_loss = l;
    int status = pclose(p);
    if (status != 0) {
        printf("# PyTorch: %s failed (%s %d), its times are not shown\n", script,
               WIFEXITED(status) ? "exit status" : "status", WIFEXITED(status) ? WEXITSTATUS(status) : status);
        for (int k = 0; k < nv; k++) vs[k].torch_cpu_s = 0;
    }
}

int main(int argc, char **argv) {
    const char *data_dir = NULL, *python = "/usr/bin/python3", *script = "bench/torch_lenet.py";
    long reps = 3, n_train = 0;
    uint64_t seed = 1;
    int no_torch = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("data", &data_dir,
                      "Fashion-MNIST directory (default: $" GD_FMNIST_ENV ", else " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_INT("reps", &reps, "repetitions of each timing; the best is kept", 1, 100),
        GD_OPT_INT("n", &n_train, "train on the first n images (0: all 60000)", 0, 60000),
        GD_OPT_SEED("seed", &seed, "seed of the initialisation and the shuffle"),
        GD_OPT_FLAG("no-torch", &no_torch, "do not run the PyTorch comparison"),
        GD_OPT_STRING("python", &python, "Python for the PyTorch comparison"),
        GD_OPT_STRING("torch-script", &script, "the PyTorch side of the benchmark"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Trains d2l's LeNet (sigmoid + average pooling, and ReLU + max pooling) on Fashion-MNIST "
                          "for one epoch\n(batch 256, SGD lr 0.1) on one thread, and the same in PyTorch, and prints "
                          "CPU seconds per epoch and their ratio.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    openblas_set_num_threads(1);
    gd_images train_set, test_set;
    /* 28x28 images (the loader refuses others); n images, at least one batch: train()
     * touches a whole batch before its timing */
    if (gd_fmnist_load(&train_set, &test_set, data_dir) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (gd_train_opts_require(data_dir, &train_set, n_train, "the training set", "--n") != 0 ||
        gd_train_opts_require(data_dir, &train_set, BATCH, "the training set", "one batch") != 0) {
        gd_images_free(&train_set);
        gd_images_free(&test_set);
        return 2;
    }
    gd_images_free(&test_set);
    int n = n_train > 0 ? (int)n_train : train_set.n;
    variant vs[] = {{"sigmoid-avg", "lenet:act=sigmoid:pool=avg", 1e300, 1e300, 0, 0, 0, 0},
                    {"relu-max", "lenet:act=relu:pool=max", 1e300, 1e300, 0, 0, 0, 0}};
    const int nv = (int)(sizeof vs / sizeof *vs);
    int *idx = malloc((size_t)train_set.n * sizeof *idx), *y = malloc(BATCH * sizeof *y);
    float *X = malloc((size_t)BATCH * train_set.dim * sizeof *X);
    if (!idx || !y || !X) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    /* repetitions interleaved, so slow phases of a noisy machine hit both alike */
    for (long r = 0; r < reps; r++)
        for (int k = 0; k < nv; k++) {
            double cpu, wall;
            if (train(&vs[k], &train_set, n, idx, X, y, seed, &cpu, &wall) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            if (cpu < vs[k].cpu_s) vs[k].cpu_s = cpu;
            if (wall < vs[k].wall_s) vs[k].wall_s = wall;
        }
    if (no_torch) printf("# PyTorch: skipped (--no-torch)\n");
    else run_torch(vs, nv, python, script, gd_fmnist_dir(data_dir), reps, n, seed);

    printf("# %s: LeNet, Fashion-MNIST %d training images, batch %d, SGD lr %g, seed %llu, 1 BLAS thread, "
           "best of %ld\n", gd_prog(), n, BATCH, (double)LR, (unsigned long long)seed, reps);
    printf("# s/epoch: CPU seconds (wall seconds in brackets); speedup = PyTorch's CPU s / ours; loss = mean "
           "training loss of the epoch\n# (the two inits differ in their random draws: PyTorch's default bounds "
           "in both, not the same numbers)\n");
    printf("%-12s %9s %9s %8s %9s %9s %8s %8s %8s\n", "variant", "ours", "(wall)", "loss", "torch", "(wall)",
           "loss", "speedup", "target");
    for (int k = 0; k < nv; k++) {
        const variant *v = &vs[k];
        char t[32] = "-", tw[32] = "-", tl[32] = "-", ratio[32] = "-";
        if (v->torch_cpu_s > 0) {
            snprintf(t, sizeof t, "%.3f", v->torch_cpu_s);
            snprintf(tw, sizeof tw, "(%.3f)", v->torch_wall_s);
            snprintf(tl, sizeof tl, "%.4f", v->torch_loss);
            snprintf(ratio, sizeof ratio, "%.2fx", v->torch_cpu_s / v->cpu_s);
        }
        char ow[32];
        snprintf(ow, sizeof ow, "(%.3f)", v->wall_s);
        printf("%-12s %9.3f %9s %8.4f %9s %9s %8s %8s %8s\n", v->name, v->cpu_s, ow, v->loss, t, tw, tl, ratio,
               v->torch_cpu_s > 0 ? (v->torch_cpu_s >= v->cpu_s ? "met" : "NOT met") : "-");
    }
    printf("# target: at least PyTorch's speed (speedup >= 1x)\n");
    free(idx), free(y), free(X);
    gd_images_free(&train_set);
    return 0;
}

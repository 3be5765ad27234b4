/* gpt.c -- `make bench`: how fast the library trains the small GPT (lib/gpt.h), against
 * PyTorch 1.13 and against this machine's own single-thread sgemm, in the same run.
 *
 * The model of the issue: 4 layers, 4 heads, width 128, context 64, batch 32, vocabulary
 * 96 (uniform random tokens from our RNG: the speed does not depend on the text), AdamW
 * (lr 3e-4, betas (0.9, 0.95), weight decay 0.1 on the Linear weights, 0 elsewhere:
 * gd_gpt_decays), one BLAS thread. A step is forward + loss, zero_grad + backward, and
 * the AdamW update; each timing is the best of --reps runs of --steps steps (after one
 * warm-up step), in CPU seconds of the process (see now()), and repetitions are
 * interleaved with the sgemm measurements so a noisy machine slows them alike.
 *
 * Printed: tokens/s, GFLOP/s, the machine's 1-thread sgemm peak (1024^3), the "GEMM floor"
 * (the time of exactly the sgemm calls one training step makes, alone, same shapes,
 * transposes and strides), PyTorch's time for the same model (bench/torch_gpt.py, run
 * here when /usr/bin/python3 imports torch) and the ratio, the peak RSS, and each of the
 * issue's targets as met / NOT met.
 *
 * FLOPs counted: the matrix multiplies a step executes, 2 M N K each (LayerNorm, GELU,
 * softmax, cross-entropy and AdamW are O(N C) or O(params) and left out). Per token,
 * forward: per layer 2 (3C^2 + C^2 + 4C^2 + 4C^2) = 24 C^2 for c_attn, attn.c_proj, c_fc
 * and mlp.c_proj, plus 4 T C for the attention's two (T, T) products (the full T x T is
 * computed, the upper triangle then masked, as in nanoGPT's explicit path); 2 C V for
 * the tied head. Backward: two multiplies of the same size for each (input and weight
 * gradient), so the step is 3 times the forward:
 *   FLOPs/token = 3 (L (24 C^2 + 4 T C) + 2 C V).
 *
 * Leaves out: multi-threading, the data pipeline, evaluation, text quality.
 * Dimension letters: B batch, T context, C width, NH heads, hs = C / NH, V vocabulary,
 * L layers, N = B * T rows.
 */
#include "gd.h"
#include "gpt.h"

#include <cblas.h> /* openblas_set_num_threads, cblas_sgemm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#undef I

#define V_ 96
#define T_ 64
#define L_ 4
#define NH_ 4
#define C_ 128
#define B_ 32
#define NBATCH 4 /* distinct random batches, cycled */

/* the targets */
#define TARGET_TORCH_RATIO 1.0   /* ours at least as fast as PyTorch on one thread */
#define TARGET_FLOOR 0.70        /* at least 70 % of the GEMM floor */
#define TARGET_RSS_MB 300.0      /* peak RSS under 300 MB */

/* Seconds of CPU time of this process: on an idle machine the same as wall-clock time
 * (one thread), on a shared one without the time other processes had the core. The
 * PyTorch side measures the same way (time.process_time). */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double flops_per_token(void) {
    double C = C_, T = T_;
    return 3.0 * (L_ * (24.0 * C * C + 4.0 * T * C) + 2.0 * C * V_);
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

typedef struct {
    double step, part[3]; /* seconds per step: total, forward+loss, backward, update */
    double loss;          /* the last step's */
} timing;

/* steps training steps; returns seconds per step and its parts. */
static void train(timing *tm, gd_gpt *m, gd_optim *opt, int *const *tok, int *const *tgt,
                  long steps) {
    double t0 = now(), ta, tb, part[3] = {0, 0, 0};
    for (long s = 0; s < steps; s++) {
        ta = now();
        tm->loss = gd_gpt_loss(m, tok[s % NBATCH], tgt[s % NBATCH], B_, T_);
        tb = now();
        part[0] += tb - ta;
        gd_gpt_zero_grad(m);
        gd_gpt_backward(m);
        ta = now();
        part[1] += ta - tb;
        gd_optim_step(opt); /* AdamW: see lib/optim.c for the update written out */
        part[2] += now() - ta;
    }
    tm->step = (now() - t0) / steps;
    for (int k = 0; k < 3; k++) tm->part[k] = part[k] / steps;
}

/* The sgemm calls of one training step, alone: the same shapes, transposes, strides and
 * betas as gd_gpt_forward/backward make (lib/layers.c), into scratch buffers. */
typedef struct {
    float *x, *y, *w, *dw, *qkv, *dqkv, *att, *datt;
} gemm_bufs;

static void attention_gemms(const gemm_bufs *g, int backward) {
    int C3 = 3 * C_, hs = C_ / NH_;
    for (int b = 0; b < B_; b++)
        for (int h = 0; h < NH_; h++) {
            const float *q = g->qkv + (size_t)b * T_ * C3 + h * hs, *k = q + C_, *v = q + 2 * C_;
            float *dq = g->dqkv + (size_t)b * T_ * C3 + h * hs, *dk = dq + C_, *dv = dq + 2 * C_;
            float *a = g->att, *da = g->datt;
            float *o = g->y + (size_t)b * T_ * C_ + h * hs;
            if (!backward) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T_, T_, hs, 0.1f, q, C3, k,
                            C3, 0.0f, a, T_);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T_, hs, T_, 1.0f, a, T_, v,
                            C3, 0.0f, o, C_);
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T_, T_, hs, 1.0f, o, C_, v,
                            C3, 0.0f, da, T_);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T_, hs, T_, 1.0f, a, T_, o,
                            C_, 1.0f, dv, C3);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T_, hs, T_, 1.0f, da, T_,
                            k, C3, 1.0f, dq, C3);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T_, hs, T_, 1.0f, da, T_, q,
                            C3, 1.0f, dk, C3);
            }
        }
}

/* linear I -> O on N rows: forward out = in @ w^T (beta 1: the bias is written first);
 * backward din = dout @ w (beta 0: lib/gpt.c writes it), dw += dout^T @ in */
static void linear_gemms(const gemm_bufs *g, int I, int O, int backward) {
    int N = B_ * T_;
    if (!backward) {
        gd_matmul(g->y, g->x, g->w, N, O, I, 0, 1, 1.0f, 1.0f);
    } else {
        gd_matmul(g->x, g->y, g->w, N, I, O, 0, 0, 1.0f, 0.0f);
        gd_matmul(g->dw, g->y, g->x, O, I, N, 1, 0, 1.0f, 1.0f);
    }
}

static double gemm_step(const gemm_bufs *g, long steps) {
    int C = C_;
    double t0 = now();
    for (long s = 0; s < steps; s++) {
        for (int l = 0; l < L_; l++) {
            linear_gemms(g, C, 3 * C, 0);
            attention_gemms(g, 0);
            linear_gemms(g, C, C, 0);
            linear_gemms(g, C, 4 * C, 0);
            linear_gemms(g, 4 * C, C, 0);
        }
        gd_matmul(g->y, g->x, g->w, B_ * T_, V_, C, 0, 1, 1.0f, 0.0f); /* head, no bias */
        linear_gemms(g, C, V_, 1);
        for (int l = 0; l < L_; l++) {
            linear_gemms(g, 4 * C, C, 1);
            linear_gemms(g, C, 4 * C, 1);
            linear_gemms(g, C, C, 1);
            attention_gemms(g, 1);
            linear_gemms(g, C, 3 * C, 1);
        }
    }
    return (now() - t0) / steps;
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

typedef struct {
    double step_s, rss_mb, loss;
    int ok;
} torch_result;

/* Runs bench/torch_gpt.py; fills r (r->ok = 0 and a line saying why when it cannot). */
static void run_torch(torch_result *r, const char *python, const char *script, long steps,
                      long reps, uint64_t seed) {
    memset(r, 0, sizeof *r);
    if (access(python, X_OK) != 0) {
        printf("# PyTorch: %s not found, skipped\n", python);
        return;
    }
    if (access(script, R_OK) != 0) {
        printf("# PyTorch: %s not found (run from the repository root), skipped\n", script);
        return;
    }
    if (strchr(python, '\'') || strchr(script, '\'')) {
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
    cmd = gd_aprintf(
             "'%s' '%s' --vocab %d --block %d --layers %d --heads %d --width %d --batch %d "
             "--steps %ld --reps %ld --seed %llu",
             python, script, V_, T_, L_, NH_, C_, B_, steps, reps, (unsigned long long)seed);
    fflush(stdout);
    FILE *p = cmd ? popen(cmd, "r") : NULL;
    free(cmd);
    if (!p) {
        printf("# PyTorch: cannot run %s, skipped\n", script);
        return;
    }
    char line[256], key[64];
    double v;
    int got = 0;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf", key, &v) == 2) {
            if (strcmp(key, "step_s") == 0 && v > 0) r->step_s = v, got |= 1;
            if (strcmp(key, "rss_mb") == 0) r->rss_mb = v, got |= 2;
            if (strcmp(key, "loss") == 0) r->loss = v, got |= 4;
        }
    int status = pclose(p);
    if (status != 0 || !(got & 1)) {
        printf("# PyTorch: %s failed (%s %d), its times are not shown\n", script,
               WIFEXITED(status) ? "exit status" : "status",
               WIFEXITED(status) ? WEXITSTATUS(status) : status);
        return;
    }
    r->ok = 1;
}

int main(int argc, char **argv) {
    const char *python = "/usr/bin/python3", *script = "bench/torch_gpt.py";
    long steps = 10, reps = 3;
    uint64_t seed = 1;
    int no_torch = 0;
    gd_opt opts[] = {
        GD_OPT_INT("steps", &steps, "training steps per timed repetition", 1, 100000),
        GD_OPT_INT("reps", &reps, "repetitions of each timing; the best is kept", 1, 100),
        GD_OPT_SEED("seed", &seed, "seed of the initialisation and the random tokens"),
        GD_OPT_FLAG("no-torch", &no_torch, "do not run the PyTorch comparison"),
        GD_OPT_STRING("python", &python, "Python for the PyTorch comparison"),
        GD_OPT_STRING("torch-script", &script, "the PyTorch side of the benchmark"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Trains the small GPT (4 layers, 4 heads, width 128, context 64, "
                          "batch 32, AdamW) on one thread and prints tokens/s and\nGFLOP/s "
                          "against this machine's single-thread sgemm and PyTorch 1.13, "
                          "measured in the same run.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    openblas_set_num_threads(1);

    /* the model, its optimizer and the data: everything the training process holds */
    gd_gpt_config cfg = {V_, T_, L_, NH_, C_};
    gd_gpt m;
    if (gd_gpt_init(&m, &cfg, B_, seed) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_hparams hp = gd_optim_defaults(GD_ADAMW);
    hp.lr = 3e-4, hp.beta1 = 0.9, hp.beta2 = 0.95, hp.weight_decay = 0.1;
    gd_hparams nodecay = hp;
    nodecay.weight_decay = 0.0;
    gd_optim *opt = gd_optim_new(GD_ADAMW, &hp);
    gd_param *dec = malloc((size_t)m.nparams * sizeof *dec), *nod = malloc((size_t)m.nparams * sizeof *nod);
    int ndec = 0, nnod = 0;
    for (int i = 0; i < m.nparams; i++) {
        if (gd_gpt_decays(&m, i)) dec[ndec++] = m.params[i];
        else nod[nnod++] = m.params[i];
    }
    if (!opt || gd_optim_add_group(opt, dec, ndec, NULL) < 0 ||
        gd_optim_add_group(opt, nod, nnod, &nodecay) < 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    int *tok[NBATCH], *tgt[NBATCH];
    gd_rng rng;
    gd_rng_seed(&rng, seed + 1);
    for (int k = 0; k < NBATCH; k++) {
        tok[k] = malloc(B_ * T_ * sizeof(int));
        tgt[k] = malloc(B_ * T_ * sizeof(int));
        if (!tok[k] || !tgt[k]) {
            fprintf(stderr, "%s: out of memory\n", gd_prog());
            return 1;
        }
        /* a random stream; targets are the next token, as in language modelling */
        for (int b = 0; b < B_; b++) {
            int prev = (int)gd_rng_below(&rng, V_);
            for (int t = 0; t < T_; t++) {
                int next = (int)gd_rng_below(&rng, V_);
                tok[k][b * T_ + t] = prev;
                tgt[k][b * T_ + t] = next;
                prev = next;
            }
        }
    }
    timing warm, best = {1e300, {0, 0, 0}, 0}, tm;
    train(&warm, &m, opt, tok, tgt, 1); /* every buffer and the optimizer's state touched */
    double rss_model = peak_rss_mb();  /* before the benchmark's own sgemm buffers */

    /* the sgemm measurements' buffers */
    const int S = 1024, N = B_ * T_;
    float *A = new_buf((size_t)S * S, 0.5f), *Bm = new_buf((size_t)S * S, 0.25f),
          *Cm = new_buf((size_t)S * S, 0.0f);
    gemm_bufs g = {new_buf((size_t)N * 4 * C_, 0.01f), new_buf((size_t)N * 4 * C_, 0.01f),
                   new_buf((size_t)4 * C_ * 4 * C_, 0.01f), new_buf((size_t)4 * C_ * 4 * C_, 0.0f),
                   new_buf((size_t)N * 3 * C_, 0.01f), new_buf((size_t)N * 3 * C_, 0.0f),
                   new_buf((size_t)T_ * T_, 0.01f), new_buf((size_t)T_ * T_, 0.0f)};
    if (!A || !Bm || !Cm || !g.x || !g.y || !g.w || !g.dw || !g.qkv || !g.dqkv || !g.att || !g.datt) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    double peak = 0.0, floor_s = 1e300;
    sgemm_square(A, Bm, Cm, S, 1);
    gemm_step(&g, 1);
    for (long r = 0; r < reps; r++) {
        double gf = sgemm_square(A, Bm, Cm, S, 10);
        peak = gf > peak ? gf : peak;
        train(&tm, &m, opt, tok, tgt, steps);
        if (tm.step < best.step) best = tm;
        best.loss = tm.loss;
        double s = gemm_step(&g, steps);
        floor_s = s < floor_s ? s : floor_s;
    }

    double tokens = (double)B_ * T_, fpt = flops_per_token();
    double gflops = fpt * tokens / best.step / 1e9;
    printf("# %s: GPT V %d, context %d, %d layers, %d heads, width %d (%zu parameters), batch "
           "%d, AdamW lr %g betas (%g, %g) wd %g, seed %llu, 1 BLAS thread (%s), %ld steps per "
           "timing, best of %ld\n",
           gd_prog(), V_, T_, L_, NH_, C_, gd_gpt_numel(&m), B_, hp.lr, hp.beta1, hp.beta2,
           hp.weight_decay, (unsigned long long)seed, gd_blas_info(), steps, reps);
    printf("# sgemm peak (1024x1024x1024, 1 thread): %.1f GFLOP/s\n", peak);
    printf("# FLOPs/token = 3 (L (24 C^2 + 4 T C) + 2 C V) = %.0f (the matrix multiplies of a "
           "training step; see the top of bench/gpt.c)\n", fpt);
    printf("# GEMM floor: the same sgemm calls alone, %.4f s/step (%.1f GFLOP/s)\n", floor_s,
           fpt * tokens / floor_s / 1e9);
    printf("%-8s %9s %9s %8s %6s %7s %9s %9s %9s %8s\n", "", "s/step", "tokens/s", "GFLOP/s",
           "%peak", "%floor", "forward", "backward", "update", "loss");
    printf("%-8s %9.4f %9.0f %8.1f %6.1f %7.1f %9.4f %9.4f %9.4f %8.4f\n", "ours", best.step,
           tokens / best.step, gflops, 100.0 * gflops / peak, 100.0 * floor_s / best.step,
           best.part[0], best.part[1], best.part[2], best.loss);
    fflush(stdout);

    torch_result tr;
    if (no_torch) {
        memset(&tr, 0, sizeof tr);
        printf("# PyTorch: skipped (--no-torch)\n");
    } else {
        run_torch(&tr, python, script, steps, reps, seed);
    }
    if (tr.ok) {
        double tg = fpt * tokens / tr.step_s / 1e9;
        printf("%-8s %9.4f %9.0f %8.1f %6.1f %7.1f %9s %9s %9s %8.4f\n", "pytorch", tr.step_s,
               tokens / tr.step_s, tg, 100.0 * tg / peak, 100.0 * floor_s / tr.step_s, "-", "-",
               "-", tr.loss);
    }
    printf("# peak RSS: ours %.1f MB (the process after a training step, before the sgemm "
           "buffers)", rss_model);
    if (tr.ok) printf(", PyTorch %.1f MB (its python process)", tr.rss_mb);
    printf("\n\n");

    double floor_frac = floor_s / best.step;
    if (tr.ok)
        printf("# target %-40s %s (%.2fx: PyTorch %.4f s/step, ours %.4f)\n",
               "at least PyTorch's speed (1 thread):",
               tr.step_s / best.step >= TARGET_TORCH_RATIO ? "met" : "NOT met",
               tr.step_s / best.step, tr.step_s, best.step);
    else
        printf("# target %-40s not measured (no PyTorch)\n", "at least PyTorch's speed:");
    printf("# target %-40s %s (%.1f%%: the GEMMs alone take %.4f s of our %.4f s/step)\n",
           ">= 70% of the GEMM floor:", floor_frac >= TARGET_FLOOR ? "met" : "NOT met",
           100.0 * floor_frac, floor_s, best.step);
    printf("# target %-40s %s (%.1f MB)\n", "peak RSS < 300 MB:",
           rss_model < TARGET_RSS_MB ? "met" : "NOT met", rss_model);

    for (int k = 0; k < NBATCH; k++) free(tok[k]), free(tgt[k]);
    free(A), free(Bm), free(Cm);
    free(g.x), free(g.y), free(g.w), free(g.dw), free(g.qkv), free(g.dqkv), free(g.att),
        free(g.datt);
    free(dec), free(nod);
    gd_optim_free(opt);
    gd_gpt_free(&m);
    return 0;
}

/* test_gpt.c -- lib/gpt.h and the transformer layers of lib/layers.h against PyTorch.
 *
 * The fixtures in tests/ref/gpt/ were written by tests/ref/gpt_ref.py (torch 1.13): the
 * inputs are float32, the outputs the float64 answer computed by torch from them. Our
 * layers compute in float32, so they are judged by
 *     err = max_i |ours_i - ref_i| / max_i |ref_i|        (one number per array)
 * against TOL = 1e-5. Yardstick: torch's own float32 computation of the same outputs
 * scores at most 6.3e-7 on these fixtures (written in each file's header), 16 times
 * below TOL; float32 rounding is u = 6e-8 per operation. A wrong factor, sign, index or
 * missing term is an O(1) error; the negative control below shows that a 0.1 % error
 * in one gradient entry fails. The scale max|ref| keeps entries near zero from being
 * judged on a relative scale they cannot meet.
 *
 * Suites: lib_layers_torch (each layer against its fixture), lib_gpt (the model: every
 * parameter's gradient against torch, the loss at initialisation, save/load).
 * Dimension letters: B batch, T positions, C width, NH heads, V vocabulary, L layers.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "gpt.h"
#include "gradcheck.h"
#include "layers.h"
#include "rng.h"
#include "tensor.h"

#define REF "tests/ref/gpt/"
#define TOL 1e-5

/* --------------------------------------------------------------------------------
 * The fixture reader: NAME <TAB> SHAPE <TAB> values, '#' comments (gpt_ref.py's format). */

typedef struct {
    char name[128];
    int ndim, shape[4];
    size_t n;
    double *v;
} ref_arr;

typedef struct {
    int n;
    ref_arr *a;
} ref_file;

static ref_file ref_load(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s (run from the repository root)", path, strerror(errno));
    ref_file r = {0, NULL};
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n') continue;
        r.a = realloc(r.a, (size_t)(r.n + 1) * sizeof *r.a);
        cr_assert_not_null(r.a);
        ref_arr *a = &r.a[r.n++];
        memset(a, 0, sizeof *a);
        char *save, *tok = strtok_r(line, "\t\n", &save);
        cr_assert_not_null(tok);
        snprintf(a->name, sizeof a->name, "%s", tok);
        char *shape = strtok_r(NULL, "\t\n", &save);
        cr_assert_not_null(shape, "%s: %s has no shape", path, a->name);
        a->n = 1;
        for (char *d = strtok(shape, "x"); d; d = strtok(NULL, "x")) {
            cr_assert(a->ndim < 4);
            a->shape[a->ndim++] = atoi(d);
            a->n *= (size_t)atoi(d);
        }
        a->v = malloc(a->n * sizeof *a->v);
        cr_assert_not_null(a->v);
        for (size_t i = 0; i < a->n; i++) {
            tok = strtok_r(NULL, "\t\n", &save);
            cr_assert_not_null(tok, "%s: %s has fewer than %zu values", path, a->name, a->n);
            a->v[i] = strtod(tok, NULL);
        }
        cr_assert_null(strtok_r(NULL, "\t\n", &save), "%s: %s has extra values", path, a->name);
    }
    free(line);
    fclose(f);
    cr_assert(r.n > 0, "%s: no arrays", path);
    return r;
}

static void ref_free(ref_file *r) {
    for (int i = 0; i < r->n; i++) free(r->a[i].v);
    free(r->a);
}

static const ref_arr *ref_get(const ref_file *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->a[i].name, name) == 0) return &r->a[i];
    cr_assert_fail("fixture has no array %s", name);
    return NULL;
}

/* A float32 copy (the inputs are float32 numbers: exact). */
static float *ref_f32(const ref_file *r, const char *name) {
    const ref_arr *a = ref_get(r, name);
    float *x = malloc(a->n * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < a->n; i++) x[i] = (float)a->v[i];
    return x;
}

static int *ref_int(const ref_file *r, const char *name) {
    const ref_arr *a = ref_get(r, name);
    int *x = malloc(a->n * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < a->n; i++) x[i] = (int)a->v[i];
    return x;
}

/* max |got - ref| / max |ref| over the array (see the top of the file). */
static double ref_err(const float *got, const ref_arr *a) {
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < a->n; i++) scale = fmax(scale, fabs(a->v[i]));
    for (size_t i = 0; i < a->n; i++) {
        if (isnan(got[i])) return INFINITY;
        worst = fmax(worst, fabs((double)got[i] - a->v[i]));
    }
    return scale > 0 ? worst / scale : worst;
}

static void check_close(const char *what, const float *got, const ref_file *r,
                        const char *name, size_t n) {
    const ref_arr *a = ref_get(r, name);
    cr_assert_eq(a->n, n, "%s: %s has %zu values, we have %zu", what, name, a->n, n);
    double e = ref_err(got, a);
    cr_assert(e < TOL, "%s: %s differs from torch by %.3g (relative to max, tolerance %g)",
              what, name, e, TOL);
}

static float *zeros(size_t n) {
    float *x = calloc(n, sizeof *x);
    cr_assert_not_null(x);
    return x;
}

/* --------------------------------------------------------------------------------
 * Layers against torch. */

Test(lib_layers_torch, layernorm) {
    ref_file r = ref_load(REF "layernorm.tsv");
    const ref_arr *xa = ref_get(&r, "x");
    int N = xa->shape[0], C = xa->shape[1];
    float *x = ref_f32(&r, "x"), *w = ref_f32(&r, "w"), *b = ref_f32(&r, "b");
    float *dout = ref_f32(&r, "dout");
    float *out = zeros((size_t)N * C), *mean = zeros(N), *rstd = zeros(N);
    float *dx = zeros((size_t)N * C), *dw = zeros(C), *db = zeros(C);
    gd_layernorm_forward(out, mean, rstd, x, w, b, N, C);
    gd_layernorm_backward(dx, dw, db, dout, x, w, mean, rstd, N, C);
    check_close("layernorm", out, &r, "out", (size_t)N * C);
    check_close("layernorm", dx, &r, "dx", (size_t)N * C);
    check_close("layernorm", dw, &r, "dw", C);
    check_close("layernorm", db, &r, "db", C);
    free(x), free(w), free(b), free(dout), free(out), free(mean), free(rstd);
    free(dx), free(dw), free(db);
    ref_free(&r);
}

static void attention_vs_torch(int naive) {
    ref_file r = ref_load(REF "attention.tsv");
    const ref_arr *qa = ref_get(&r, "qkv");
    const ref_arr *aa = ref_get(&r, "att");
    int B = qa->shape[0], T = qa->shape[1], C = qa->shape[2] / 3, NH = aa->shape[1];
    float *qkv = ref_f32(&r, "qkv"), *dout = ref_f32(&r, "dout");
    float *out = zeros((size_t)B * T * C), *att = zeros((size_t)B * NH * T * T);
    float *dqkv = zeros((size_t)B * T * 3 * C), *work = zeros((size_t)T * T);
    const char *what = naive ? "attention (naive)" : "attention";
    if (naive) {
        gd_attention_forward_naive(out, att, qkv, B, T, C, NH);
        gd_attention_backward_naive(dqkv, dout, qkv, att, B, T, C, NH);
    } else {
        gd_attention_forward(out, att, qkv, B, T, C, NH);
        gd_attention_backward(dqkv, work, dout, qkv, att, B, T, C, NH);
    }
    check_close(what, out, &r, "out", (size_t)B * T * C);
    check_close(what, att, &r, "att", (size_t)B * NH * T * T);
    check_close(what, dqkv, &r, "dqkv", (size_t)B * T * 3 * C);
    free(qkv), free(dout), free(out), free(att), free(dqkv), free(work);
    ref_free(&r);
}

Test(lib_layers_torch, attention) { attention_vs_torch(0); }
Test(lib_layers_torch, attention_naive) { attention_vs_torch(1); }

Test(lib_layers_torch, gelu) {
    ref_file r = ref_load(REF "gelu.tsv");
    int n = (int)ref_get(&r, "x")->n;
    float *x = ref_f32(&r, "x"), *dout = ref_f32(&r, "dout");
    float *out = zeros(n), *dx = zeros(n);
    gd_gelu_forward(out, x, n);
    gd_gelu_backward(dx, dout, x, n);
    check_close("gelu", out, &r, "out", n);
    check_close("gelu", dx, &r, "dx", n);
    free(x), free(dout), free(out), free(dx);
    ref_free(&r);
}

Test(lib_layers_torch, encoder) {
    ref_file r = ref_load(REF "encoder.tsv");
    const ref_arr *ta = ref_get(&r, "tokens"), *wa = ref_get(&r, "wte"), *pa = ref_get(&r, "wpe");
    int B = ta->shape[0], T = ta->shape[1], V = wa->shape[0], C = wa->shape[1];
    int block = pa->shape[0];
    int *tokens = ref_int(&r, "tokens");
    float *wte = ref_f32(&r, "wte"), *wpe = ref_f32(&r, "wpe"), *dout = ref_f32(&r, "dout");
    float *out = zeros((size_t)B * T * C), *dwte = zeros((size_t)V * C);
    float *dwpe = zeros((size_t)block * C);
    gd_encoder_forward(out, tokens, wte, wpe, B, T, C);
    gd_encoder_backward(dwte, dwpe, dout, tokens, B, T, C);
    check_close("encoder", out, &r, "out", (size_t)B * T * C);
    check_close("encoder", dwte, &r, "dwte", (size_t)V * C);
    check_close("encoder", dwpe, &r, "dwpe", (size_t)block * C);
    free(tokens), free(wte), free(wpe), free(dout), free(out), free(dwte), free(dwpe);
    ref_free(&r);
}

Test(lib_layers_torch, cross_entropy_over_the_vocabulary) {
    /* gd_xent_forward and gd_xent_forward_fast with N = B * T rows and K = V classes are
     * F.cross_entropy on logits.view(-1, V) */
    ref_file r = ref_load(REF "xent.tsv");
    const ref_arr *la = ref_get(&r, "logits");
    int N = la->shape[0] * la->shape[1], V = la->shape[2];
    float *logits = ref_f32(&r, "logits"), *probs = zeros((size_t)N * V);
    float *dlogits = zeros((size_t)N * V);
    int *targets = ref_int(&r, "targets");
    double want = ref_get(&r, "loss")->v[0];
    for (int fast = 0; fast <= 1; fast++) { /* the double specification and the float one */
        double loss = fast ? gd_xent_forward_fast(probs, logits, targets, N, V)
                           : gd_xent_forward(probs, logits, targets, N, V);
        memset(dlogits, 0, (size_t)N * V * sizeof *dlogits);
        gd_xent_backward(dlogits, probs, targets, N, V);
        cr_assert(fabs(loss - want) < TOL * want, "loss %.9g, torch %.9g", loss, want);
        check_close(fast ? "xent (fast)" : "xent", dlogits, &r, "dlogits", (size_t)N * V);
    }
    free(logits), free(probs), free(dlogits), free(targets);
    ref_free(&r);
}

/* --------------------------------------------------------------------------------
 * The model against torch. */

typedef struct {
    ref_file r;
    gd_gpt m;
    int B, T;
    int *tokens, *targets;
} model_fx;

/* The fixture's tiny GPT, with its weights copied into ours by name. */
static model_fx model_fixture(void) {
    model_fx f;
    f.r = ref_load(REF "model.tsv");
    const ref_arr *c = ref_get(&f.r, "config");
    gd_gpt_config cfg = {(int)c->v[0], (int)c->v[1], (int)c->v[2], (int)c->v[3], (int)c->v[4]};
    f.B = (int)c->v[5];
    f.T = cfg.block;
    cr_assert_eq(gd_gpt_init(&f.m, &cfg, f.B, 1), 0, "%s", gd_error());
    for (int i = 0; i < f.m.nparams; i++) {
        gd_param *p = &f.m.params[i];
        const ref_arr *a = ref_get(&f.r, p->name);
        cr_assert_eq(a->ndim, p->value->ndim, "%s: dimensions", p->name);
        for (int d = 0; d < a->ndim; d++)
            cr_assert_eq(a->shape[d], p->value->shape[d], "%s: dimension %d", p->name, d);
        for (size_t j = 0; j < a->n; j++) p->value->data[j] = (float)a->v[j];
    }
    f.tokens = ref_int(&f.r, "tokens");
    f.targets = ref_int(&f.r, "targets");
    return f;
}

static void model_fixture_free(model_fx *f) {
    gd_gpt_free(&f->m);
    free(f->tokens), free(f->targets);
    ref_free(&f->r);
}

Test(lib_gpt, parameters_are_named_and_ordered_as_nanogpt) {
    /* the fixture lists torch's named_parameters() in order, after config, tokens and
     * targets and before the outputs */
    model_fx f = model_fixture();
    int k = 0;
    while (k < f.r.n && strncmp(f.r.a[k].name, "transformer.", 12) != 0) k++;
    for (int i = 0; i < f.m.nparams; i++, k++) {
        cr_assert(k < f.r.n);
        cr_assert_str_eq(f.m.params[i].name, f.r.a[k].name, "parameter %d", i);
    }
    cr_assert(k == f.r.n || strncmp(f.r.a[k].name, "transformer.", 12) != 0,
              "torch has more parameters than ours: %s", f.r.a[k].name);
    model_fixture_free(&f);
}

Test(lib_gpt, loss_logits_and_every_gradient_match_torch) {
    model_fx f = model_fixture();
    double loss = gd_gpt_loss(&f.m, f.tokens, f.targets, f.B, f.T);
    double want = ref_get(&f.r, "loss")->v[0];
    cr_assert(fabs(loss - want) < TOL * want, "loss %.9g, torch %.9g", loss, want);
    size_t nlogits = (size_t)f.B * f.T * f.m.cfg.vocab;
    gd_gpt_zero_grad(&f.m);
    gd_gpt_backward(&f.m);
    /* the logits of the last forward are still there after backward */
    const float *logits = gd_gpt_forward(&f.m, f.tokens, f.B, f.T);
    check_close("model", logits, &f.r, "logits", nlogits);
    for (int i = 0; i < f.m.nparams; i++) {
        char name[160];
        snprintf(name, sizeof name, "grad.%s", f.m.params[i].name);
        check_close("model", f.m.params[i].grad->data, &f.r, name, f.m.params[i].grad->size);
    }
    model_fixture_free(&f);
}

/* The whole model by central finite differences of gd_gpt_loss, on every parameter
 * tensor (all entries of the small ones, the first 24 of the others): an independent
 * check of the backward that does not rest on torch. eps = 1e-2; the loss (about 3) is
 * float32 arithmetic, so the difference quotient carries about 1e-7 * 3 / 1e-2 = 3e-5 of
 * rounding, and the truncation term eps^2/6 times the third derivative a few 1e-5:
 * judged as the layers in test_layers.c are, relative error below 1e-3 with gradients
 * below 0.1 on an absolute 1e-4 (gd_gradcheck's floor). */
typedef struct {
    model_fx *f;
} model_gc;

static double model_loss(void *p) {
    model_fx *f = ((model_gc *)p)->f;
    return gd_gpt_loss(&f->m, f->tokens, f->targets, f->B, f->T);
}

Test(lib_gpt, every_parameter_by_finite_differences) {
    model_fx f = model_fixture();
    model_gc c = {&f};
    gd_gpt_loss(&f.m, f.tokens, f.targets, f.B, f.T);
    gd_gpt_zero_grad(&f.m);
    gd_gpt_backward(&f.m);
    for (int i = 0; i < f.m.nparams; i++) {
        gd_param *p = &f.m.params[i];
        size_t n = p->value->size < 24 ? p->value->size : 24;
        double e = gd_gradcheck(model_loss, &c, p->value->data, p->grad->data, n, 1e-2f, 1e-1);
        cr_assert(e < 1e-3, "%s: rel err %g", p->name, e);
    }
    model_fixture_free(&f);
}

Test(lib_gpt, a_tenth_of_a_percent_off_in_one_gradient_entry_fails) {
    /* the negative control for TOL: the right gradient with its largest entry scaled by
     * 1.001 scores 1e-3 > TOL */
    model_fx f = model_fixture();
    gd_gpt_loss(&f.m, f.tokens, f.targets, f.B, f.T);
    gd_gpt_zero_grad(&f.m);
    gd_gpt_backward(&f.m);
    gd_param *p = gd_gpt_param(&f.m, "transformer.h.1.mlp.c_fc.weight");
    cr_assert_not_null(p);
    int k = 0;
    for (size_t j = 1; j < p->grad->size; j++)
        if (fabsf(p->grad->data[j]) > fabsf(p->grad->data[k])) k = (int)j;
    p->grad->data[k] *= 1.001f;
    double e = ref_err(p->grad->data, ref_get(&f.r, "grad.transformer.h.1.mlp.c_fc.weight"));
    cr_assert(e > TOL, "a 0.1%% error scored %g", e);
    model_fixture_free(&f);
}

Test(lib_gpt, shorter_context_matches_torch) {
    /* T = block - 1 < block: buffers are packed (B, T, ...), positions 0..T-1 */
    model_fx f = model_fixture();
    int T = f.T - 1, V = f.m.cfg.vocab;
    int *tok = malloc((size_t)f.B * T * sizeof *tok);
    for (int b = 0; b < f.B; b++)
        for (int t = 0; t < T; t++) tok[b * T + t] = f.tokens[b * f.T + t];
    const float *logits = gd_gpt_forward(&f.m, tok, f.B, T);
    check_close("model T-1", logits, &f.r, "logits_short", (size_t)f.B * T * V);
    free(tok);
    model_fixture_free(&f);
}

Test(lib_gpt, backward_accumulates_and_needs_a_loss) {
    model_fx f = model_fixture();
    gd_param *p = gd_gpt_param(&f.m, "transformer.wte.weight");
    size_t n = p->grad->size;
    gd_gpt_loss(&f.m, f.tokens, f.targets, f.B, f.T);
    gd_gpt_zero_grad(&f.m);
    gd_gpt_backward(&f.m);
    float *once = malloc(n * sizeof *once);
    memcpy(once, p->grad->data, n * sizeof *once);
    gd_gpt_backward(&f.m);                       /* += : now twice the gradient */
    for (size_t j = 0; j < n; j++)
        cr_assert_float_eq(p->grad->data[j], 2.0f * once[j], 1e-6f * (1.0f + fabsf(once[j])));
    gd_gpt_forward(&f.m, f.tokens, f.B, f.T);   /* a forward without loss: backward is a no-op */
    gd_gpt_zero_grad(&f.m);
    gd_gpt_backward(&f.m);
    for (size_t j = 0; j < n; j++) cr_assert_eq(p->grad->data[j], 0.0f);
    free(once);
    model_fixture_free(&f);
}

/* --------------------------------------------------------------------------------
 * Initialisation, groups, sizes. */

Test(lib_gpt, loss_at_init_is_near_log_vocab) {
    /* GPT-2's init makes the logits small, so softmax is near uniform and the loss is
     * near ln V. Not exactly: ln_f's output row u has |u|^2 ~ C, so a logit u . wte[v]
     * has a spread of about 0.02 sqrt(C) = 0.23 for C = 128 (raising the mean loss by
     * about half its square, 0.03), and the input token's own embedding, which x is
     * mostly made of at init, gives that token a larger logit. Measured for this config
     * (V = 96, C = 128, L = 4, B * T = 256 random tokens and targets): ln V + 0.008 to
     * ln V + 0.070 over seeds 1-5. Asserted: within 0.15 of ln V = 4.564 (3 %) for
     * seeds 1-3. */
    gd_gpt_config cfg = {96, 64, 4, 4, 128};
    int B = 4, T = 64;
    int *tok = malloc((size_t)B * T * sizeof *tok), *tgt = malloc((size_t)B * T * sizeof *tgt);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        gd_gpt m;
        cr_assert_eq(gd_gpt_init(&m, &cfg, B, seed), 0, "%s", gd_error());
        gd_rng r;
        gd_rng_seed(&r, 100 + seed);
        for (int i = 0; i < B * T; i++) tok[i] = (int)gd_rng_below(&r, 96);
        for (int i = 0; i < B * T; i++) tgt[i] = (int)gd_rng_below(&r, 96);
        double loss = gd_gpt_loss(&m, tok, tgt, B, T), lnv = log(96.0);
        cr_assert(fabs(loss - lnv) < 0.15, "seed %d: loss %.4f, ln V = %.4f",
                  (int)seed, loss, lnv);
        gd_gpt_free(&m);
    }
    free(tok), free(tgt);
}

Test(lib_gpt, init_statistics_are_gpt2s) {
    /* std 0.02 for wte, wpe, c_attn and c_fc weights, 0.02/sqrt(2L) for the c_proj
     * weights, 0 for biases, 1 and 0 for LayerNorm: the sample std of n draws is within
     * 4 std errors (0.02 sqrt(1/(2n)) each) of its target */
    gd_gpt_config cfg = {50, 32, 3, 2, 64};
    gd_gpt m;
    cr_assert_eq(gd_gpt_init(&m, &cfg, 1, 7), 0, "%s", gd_error());
    for (int i = 0; i < m.nparams; i++) {
        const char *name = m.params[i].name;
        const gd_tensor *v = m.params[i].value;
        double want;
        if (strstr(name, "c_proj.weight")) want = 0.02 / sqrt(2.0 * cfg.layers);
        else if (strstr(name, ".weight") && !strstr(name, "ln_")) want = 0.02;
        else want = -1.0; /* constants */
        if (want < 0) {
            float c = strstr(name, "ln_") && strstr(name, ".weight") ? 1.0f : 0.0f;
            for (size_t j = 0; j < v->size; j++) cr_assert_eq(v->data[j], c, "%s[%zu]", name, j);
            continue;
        }
        double s = 0.0, s2 = 0.0;
        for (size_t j = 0; j < v->size; j++) s += v->data[j], s2 += (double)v->data[j] * v->data[j];
        double n = (double)v->size, mean = s / n, sd = sqrt(s2 / n - mean * mean);
        cr_assert(fabs(sd - want) < 4 * want / sqrt(2 * n), "%s: std %.5f, want %.5f", name, sd, want);
        cr_assert(fabs(mean) < 4 * want / sqrt(n), "%s: mean %.5f", name, mean);
    }
    gd_gpt_free(&m);
}

Test(lib_gpt, same_seed_same_model_other_seed_not) {
    gd_gpt_config cfg = {20, 8, 2, 2, 16};
    gd_gpt a, b, c;
    cr_assert_eq(gd_gpt_init(&a, &cfg, 2, 5), 0);
    cr_assert_eq(gd_gpt_init(&b, &cfg, 3, 5), 0);
    cr_assert_eq(gd_gpt_init(&c, &cfg, 2, 6), 0);
    int differ = 0;
    for (int i = 0; i < a.nparams; i++) {
        size_t n = a.params[i].value->size * sizeof(float);
        cr_assert(memcmp(a.params[i].value->data, b.params[i].value->data, n) == 0);
        differ |= memcmp(a.params[i].value->data, c.params[i].value->data, n) != 0;
    }
    cr_assert(differ);
    gd_gpt_free(&a), gd_gpt_free(&b), gd_gpt_free(&c);
}

Test(lib_gpt, numel_and_decay_groups) {
    gd_gpt_config cfg = {11, 5, 2, 2, 8};
    int V = 11, blk = 5, L = 2, C = 8;
    gd_gpt m;
    cr_assert_eq(gd_gpt_init(&m, &cfg, 1, 1), 0);
    cr_assert_eq(m.nparams, 2 + 12 * L + 2);
    /* wte + wpe + per block (2 LN: 4C; c_attn 3C^2 + 3C; c_proj C^2 + C; c_fc 4C^2 + 4C;
     * mlp c_proj 4C^2 + C) + ln_f 2C; the tied head adds nothing */
    size_t want = (size_t)V * C + blk * C + L * (12 * C * C + 13 * C) + 2 * C;
    cr_assert_eq(gd_gpt_numel(&m), want);
    int ndecay = 0;
    for (int i = 0; i < m.nparams; i++) {
        const char *name = m.params[i].name;
        int linear_weight = strstr(name, "c_attn.weight") || strstr(name, "c_proj.weight") ||
                            strstr(name, "c_fc.weight");
        cr_assert_eq(gd_gpt_decays(&m, i), linear_weight, "%s", name);
        ndecay += linear_weight;
    }
    cr_assert_eq(ndecay, 4 * L);
    cr_assert_null(gd_gpt_param(&m, "lm_head.weight"));
    cr_assert_not_null(gd_gpt_param(&m, "transformer.h.1.mlp.c_proj.bias"));
    gd_gpt_free(&m);
}

Test(lib_gpt, bad_configs_are_refused) {
    gd_gpt m;
    gd_gpt_config bad[] = {{0, 8, 2, 2, 16}, {10, 0, 2, 2, 16}, {10, 8, 0, 2, 16},
                           {10, 8, 2, 0, 16}, {10, 8, 2, 3, 16}, {10, 8, 2, 2, 0}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_assert_eq(gd_gpt_init(&m, &bad[k], 2, 1), -1, "config %zu accepted", k);
        cr_assert(strlen(gd_error()) > 0 && !strchr(gd_error(), '\n'));
        cr_assert_null(m.params);
    }
    gd_gpt_config ok = {10, 8, 2, 2, 16};
    cr_assert_eq(gd_gpt_init(&m, &ok, 0, 1), -1);
    cr_assert(strstr(gd_error(), "max_batch"));
    gd_gpt_config huge = {50000, 4096, 2, 2, 16};
    cr_assert_eq(gd_gpt_init(&m, &huge, 64, 1), -1);
    cr_assert(strstr(gd_error(), "too large"), "%s", gd_error());
}

/* --------------------------------------------------------------------------------
 * Save and load. */

static char tmpdir[64];
static void tmp_init(void) {
    strcpy(tmpdir, "/tmp/gdtest-gpt.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}
static void tmp_fini(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void write_all(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

Test(lib_gpt, save_load_round_trip_is_bitwise, .init = tmp_init, .fini = tmp_fini) {
    model_fx f = model_fixture(); /* weights that are not the init's */
    char path[128];
    snprintf(path, sizeof path, "%s/m.bin", tmpdir);
    cr_assert_eq(gd_gpt_save(&f.m, path), 0, "%s", gd_error());
    gd_gpt g;
    cr_assert_eq(gd_gpt_load(&g, path, 2), 0, "%s", gd_error());
    cr_assert_eq(memcmp(&g.cfg, &f.m.cfg, sizeof g.cfg), 0);
    cr_assert_eq(g.max_batch, 2);
    cr_assert_eq(g.nparams, f.m.nparams);
    for (int i = 0; i < g.nparams; i++) {
        cr_assert_str_eq(g.params[i].name, f.m.params[i].name);
        cr_assert_eq(memcmp(g.params[i].value->data, f.m.params[i].value->data,
                            g.params[i].value->size * sizeof(float)), 0, "%s", g.params[i].name);
    }
    /* the same logits, bitwise, for the first two rows */
    size_t n = (size_t)2 * f.T * f.m.cfg.vocab;
    float *a = malloc(n * sizeof *a);
    memcpy(a, gd_gpt_forward(&f.m, f.tokens, 2, f.T), n * sizeof *a);
    cr_assert_eq(memcmp(a, gd_gpt_forward(&g, f.tokens, 2, f.T), n * sizeof *a), 0);
    free(a);
    /* no temporary file left */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/m.bin.tmp.%ld", tmpdir, (long)getpid());
    cr_assert_neq(access(tmp, F_OK), 0);
    gd_gpt_free(&g);
    model_fixture_free(&f);
}

Test(lib_gpt, damaged_files_are_refused, .init = tmp_init, .fini = tmp_fini) {
    model_fx f = model_fixture();
    char path[128], bad[128];
    snprintf(path, sizeof path, "%s/m.bin", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.bin", tmpdir);
    cr_assert_eq(gd_gpt_save(&f.m, path), 0, "%s", gd_error());
    size_t n;
    unsigned char *b = read_all(path, &n);
    gd_gpt g;
    /* one flipped byte anywhere: magic, version, length, config, a shape, a value, CRC */
    size_t where[] = {0, 9, 17, 24, 45, 60, n / 2, n - 5, n - 1};
    for (size_t k = 0; k < sizeof where / sizeof where[0]; k++) {
        b[where[k]] ^= 0x40;
        write_all(bad, b, n);
        b[where[k]] ^= 0x40;
        cr_assert_eq(gd_gpt_load(&g, bad, 1), -1, "flipped byte %zu accepted", where[k]);
        cr_assert(strstr(gd_error(), bad) && !strchr(gd_error(), '\n'), "%s", gd_error());
        cr_assert_null(g.params);
    }
    /* truncated at several lengths, and one byte too many */
    size_t lens[] = {0, 7, 24, 100, n - 4, n - 1};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        write_all(bad, b, lens[k]);
        cr_assert_eq(gd_gpt_load(&g, bad, 1), -1, "truncated to %zu accepted", lens[k]);
    }
    unsigned char *longer = malloc(n + 1);
    memcpy(longer, b, n);
    longer[n] = 0;
    write_all(bad, longer, n + 1);
    cr_assert_eq(gd_gpt_load(&g, bad, 1), -1);
    free(longer);
    /* a missing file */
    snprintf(bad, sizeof bad, "%s/none.bin", tmpdir);
    cr_assert_eq(gd_gpt_load(&g, bad, 1), -1);
    cr_assert(strstr(gd_error(), "none.bin"));
    /* the intact file still loads */
    cr_assert_eq(gd_gpt_load(&g, path, 1), 0, "%s", gd_error());
    gd_gpt_free(&g);
    free(b);
    model_fixture_free(&f);
}

/* out.h's policy creates missing directories, so the place that cannot be written is
 * under a regular file */
Test(lib_gpt, save_where_it_cannot_be_written_fails_cleanly, .init = tmp_init, .fini = tmp_fini) {
    gd_gpt_config cfg = {11, 5, 1, 1, 4};
    gd_gpt m;
    cr_assert_eq(gd_gpt_init(&m, &cfg, 1, 1), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/file", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/file/dir/m.bin", tmpdir);
    cr_assert_eq(gd_gpt_save(&m, path), -1);
    cr_assert(strstr(gd_error(), "m.bin"), "%s", gd_error());
    gd_gpt_free(&m);
}

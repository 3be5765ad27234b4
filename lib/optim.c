/* optim.c -- SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam, Adamax and Adadelta as
 * torch.optim computes them.
 *
 * Each update follows PyTorch 1.13's single-tensor code (torch/optim/NAME.py, the
 * _single_tensor_* functions) one tensor operation at a time, in float32: state and
 * parameters are floats; a hyperparameter is rounded to float where torch hands it to a
 * tensor kernel, and scalar factors (Adam's bias corrections, Adagrad's decayed lr,
 * NAdam's momentum schedule, RAdam's rectification) are computed in double as Python
 * computes them, then rounded. Where torch's kernel rounds
 * once, so do we: its CPU kernels (AVX2) compute add(x, alpha=a) and addcmul as a fused
 * multiply-add, x + a*y with a single rounding, which is fmaf(a, y, x) here; a mul_
 * followed by add_ is two kernels and rounds twice. Written this way our updates equal
 * PyTorch's bit for bit (tests/lib/test_optim.c).
 * Every update rule is written in ASCII at the line that performs it, with w the
 * parameter, g its gradient and t the group's step count (1 at the first update).
 *
 * maximize (every kind but NAdam and RAdam, which lack it in torch 1.13) negates the
 * gradient first, before weight decay, as torch 1.13 does: g = -g (exact).
 *
 * Deliberately left out: foreach/fused kernels, sparse or complex gradients, skipping
 * parameters without a gradient (every gd_param has one); torch 2.x's additions (NAdam's
 * and RAdam's decoupled_weight_decay, their maximize, Adam's capturable/differentiable).
 *
 * Dimension letters: P parameters in a group, n the elements of one parameter.
 */
#include "optim.h"
#include "cli.h"
#include "err.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* https://pytorch.org/docs/stable/generated/torch.optim.SGD.html (momentum = 0)
 * One parameter: w = w - lr * g, in blocks of 8 (see "Speed only" at the update rules
 * below). restrict: w and g never overlap; gcc honours it on a function's parameters. */
static void gd__sgd_step1(float *restrict w, const float *restrict g, size_t n, float lr) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t k = i; k < i + 8; k++) w[k] -= lr * g[k];       /* w = w - lr * g */
    for (; i < n; i++) w[i] -= lr * g[i];
}

void gd_sgd_step(gd_param *params, int nparams, float lr) {
    for (int p = 0; p < nparams; p++)
        gd__sgd_step1(params[p].value->data, params[p].grad->data, params[p].value->size, lr);
}

/* ------------------------------------------------------------------------------- */
/* Hyperparameters: one table drives parsing, formatting, checking and checkpoints. */

#define GD__K(kind) (1u << (kind))
#define GD__ADAMS (GD__K(GD_ADAM) | GD__K(GD_ADAMW))
#define GD__BETAS (GD__ADAMS | GD__K(GD_NADAM) | GD__K(GD_RADAM) | GD__K(GD_ADAMAX))   /* betas */
#define GD__ALL ((1u << GD_OPTIM_NKINDS) - 1)   /* every kind */

typedef struct {
    const char *name;
    size_t off;          /* offsetof(gd_hparams, name) */
    int flag;            /* an int 0/1, else a double */
    unsigned kinds;      /* GD__K bits of the kinds that use it */
    double lo, hi;       /* allowed range ... */
    int lo_open, hi_open;/* ... with open ends where set */
} gd__key;

static const gd__key gd__keys[] = {
    {"lr", offsetof(gd_hparams, lr), 0, GD__ALL, 0, INFINITY, 1, 1},
    {"weight_decay", offsetof(gd_hparams, weight_decay), 0, GD__ALL, 0, INFINITY, 0, 1},
    {"momentum", offsetof(gd_hparams, momentum), 0, GD__K(GD_SGD) | GD__K(GD_RMSPROP), 0, 1, 0, 1},
    {"dampening", offsetof(gd_hparams, dampening), 0, GD__K(GD_SGD), 0, 1, 0, 0},
    {"nesterov", offsetof(gd_hparams, nesterov), 1, GD__K(GD_SGD), 0, 1, 0, 0},
    {"beta1", offsetof(gd_hparams, beta1), 0, GD__BETAS, 0, 1, 0, 1},
    {"beta2", offsetof(gd_hparams, beta2), 0, GD__BETAS, 0, 1, 0, 1},
    {"amsgrad", offsetof(gd_hparams, amsgrad), 1, GD__ADAMS, 0, 1, 0, 0},
    {"eps", offsetof(gd_hparams, eps), 0, GD__ALL & ~GD__K(GD_SGD), 0, INFINITY, 1, 1},
    {"alpha", offsetof(gd_hparams, alpha), 0, GD__K(GD_RMSPROP), 0, 1, 0, 1},
    {"centered", offsetof(gd_hparams, centered), 1, GD__K(GD_RMSPROP), 0, 1, 0, 0},
    {"lr_decay", offsetof(gd_hparams, lr_decay), 0, GD__K(GD_ADAGRAD), 0, INFINITY, 0, 1},
    {"initial_accumulator_value", offsetof(gd_hparams, initial_accumulator_value), 0,
     GD__K(GD_ADAGRAD), 0, INFINITY, 0, 1},
    /* appended after the first 13: a state's hyperparameters are stored in this order */
    {"momentum_decay", offsetof(gd_hparams, momentum_decay), 0, GD__K(GD_NADAM), 0, INFINITY, 0, 1},
    {"rho", offsetof(gd_hparams, rho), 0, GD__K(GD_ADADELTA), 0, 1, 0, 0},
    {"maximize", offsetof(gd_hparams, maximize), 1, GD__ALL & ~(GD__K(GD_NADAM) | GD__K(GD_RADAM)), 0, 1, 0, 0},
};
#define GD__NKEYS ((int)(sizeof gd__keys / sizeof gd__keys[0]))

/* Each kind's keys in the order of its torch.optim constructor ("betas" = beta1/beta2;
 * maximize, keyword-only in torch, last). */
static const char *const gd__order[GD_OPTIM_NKINDS][8] = {
    [GD_SGD] = {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"},
    [GD_ADAM] = {"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"},
    [GD_ADAMW] = {"lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"},
    [GD_RMSPROP] = {"lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"},
    [GD_ADAGRAD] = {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"},
    [GD_NADAM] = {"lr", "betas", "eps", "weight_decay", "momentum_decay"},
    [GD_RADAM] = {"lr", "betas", "eps", "weight_decay"},
    [GD_ADAMAX] = {"lr", "betas", "eps", "weight_decay", "maximize"},
    [GD_ADADELTA] = {"lr", "rho", "eps", "weight_decay", "maximize"},
};

static const char *const gd__names[GD_OPTIM_NKINDS] = {"sgd",   "adam",  "adamw",  "rmsprop", "adagrad",
                                                       "nadam", "radam", "adamax", "adadelta"};

static int gd__kind_ok(gd_optim_kind kind) { return (unsigned)kind < (unsigned)GD_OPTIM_NKINDS; }

const char *gd_optim_name(gd_optim_kind kind) {
    return gd__kind_ok(kind) ? gd__names[kind] : "unknown";
}

gd_hparams gd_optim_defaults(gd_optim_kind kind) {
    gd_hparams hp = {0};
    hp.lr = 1e-3;                       /* SGD (PyTorch 2.x), Adam, AdamW, RAdam */
    hp.beta1 = 0.9;
    hp.beta2 = 0.999;
    hp.eps = 1e-8;
    hp.alpha = 0.99;
    hp.momentum_decay = 4e-3;           /* NAdam */
    hp.rho = 0.9;                       /* Adadelta */
    if (kind == GD_ADAMW) hp.weight_decay = 1e-2;
    if (kind == GD_RMSPROP || kind == GD_ADAGRAD) hp.lr = 1e-2;
    if (kind == GD_NADAM || kind == GD_ADAMAX) hp.lr = 2e-3;
    if (kind == GD_ADADELTA) hp.lr = 1.0;
    if (kind == GD_ADAGRAD) hp.eps = 1e-10;
    if (kind == GD_ADADELTA) hp.eps = 1e-6;
    return hp;
}

static double gd__get(const gd_hparams *hp, const gd__key *k) {
    const char *p = (const char *)hp + k->off;
    if (k->flag) return *(const int *)(const void *)p;
    return *(const double *)(const void *)p;
}

static void gd__set(gd_hparams *hp, const gd__key *k, double v) {
    char *p = (char *)hp + k->off;
    if (k->flag) *(int *)(void *)p = (int)v;
    else *(double *)(void *)p = v;
}

static const gd__key *gd__find(const char *name, size_t len) {
    for (int i = 0; i < GD__NKEYS; i++)
        if (strlen(gd__keys[i].name) == len && strncmp(gd__keys[i].name, name, len) == 0)
            return &gd__keys[i];
    return NULL;
}

/* "lr, betas, eps, weight_decay, amsgrad" */
static const char *gd__keylist(gd_optim_kind kind) {
    static _Thread_local char buf[160];
    buf[0] = '\0';
    for (int i = 0; gd__order[kind][i]; i++) {
        if (i) strcat(buf, ", ");
        strcat(buf, gd__order[kind][i]);
    }
    return buf;
}

/* One key's value against its range. lr_zero_ok: lr = 0 is allowed (a schedule may
 * set it, so checkpoints may hold it; they may also hold nesterov with a momentum a
 * schedule took to 0). */
static int gd__check_key(const gd__key *k, double v, int lr_zero_ok) {
    if (k->flag) {
        if (v != 0 && v != 1) return gd_seterr("%s: must be 0 or 1, got %g", k->name, v);
        return 0;
    }
    if (!isfinite(v)) return gd_seterr("%s: must be a finite number, got %g", k->name, v);
    int lo_open = k->lo_open && !(lr_zero_ok && strcmp(k->name, "lr") == 0);
    if (lo_open ? !(v > k->lo) : !(v >= k->lo)) {
        if (isinf(k->hi)) return gd_seterr("%s: must be %s %g, got %g", k->name, lo_open ? ">" : ">=", k->lo, v);
        return gd_seterr("%s: must be in %c%g, %g%c, got %g", k->name, lo_open ? '(' : '[', k->lo, k->hi,
                         k->hi_open ? ')' : ']', v);
    }
    if (k->hi_open ? !(v < k->hi) : !(v <= k->hi))
        return gd_seterr("%s: must be in %c%g, %g%c, got %g", k->name, lo_open ? '(' : '[', k->lo, k->hi,
                         k->hi_open ? ')' : ']', v);
    return 0;
}

/* Every key kind uses, in range, and PyTorch's combined rule for nesterov. */
static int gd__check(gd_optim_kind kind, const gd_hparams *hp, int lr_zero_ok) {
    if (!gd__kind_ok(kind)) return gd_seterr("unknown optimizer kind %d", (int)kind);
    for (int i = 0; i < GD__NKEYS; i++)
        if ((gd__keys[i].kinds & GD__K(kind)) && gd__check_key(&gd__keys[i], gd__get(hp, &gd__keys[i]), lr_zero_ok))
            return -1;
    if (kind == GD_SGD && hp->nesterov && !lr_zero_ok && (hp->momentum <= 0 || hp->dampening != 0))
        return gd_seterr("nesterov: needs momentum > 0 and dampening = 0, got momentum %g, dampening %g",
                         hp->momentum, hp->dampening);
    return 0;
}

/* The user's text s[0..len) for a message: all of it up to 60 characters, else its
 * start and "..." (gd_seterr escapes control characters). The array lives until the
 * end of the full expression that calls gd__quote (C11 temporary lifetime). */
#define GD__QUOTE 60
typedef struct { char s[GD__QUOTE + 4]; } gd__quoted;
static gd__quoted gd__quote(const char *s, size_t len) {
    gd__quoted q;
    size_t n = len <= GD__QUOTE ? len : GD__QUOTE;
    memcpy(q.s, s, n);
    memcpy(q.s + n, len <= GD__QUOTE ? "" : "...", len <= GD__QUOTE ? 1 : 4);
    return q;
}

/* The text s[0..len) as a finite number in decimal (gd_parse_double in cli.h: no hex,
 * inf, nan or surrounding space), or -1 naming the key. A copy on the heap: a value may
 * be as long as the user likes (100 zeros after the point are still a number). */
static int gd__number(const char *key, const char *s, size_t len, double *v) {
    if (len == 0) return gd_seterr("%s: empty value", key);
    char *tmp = malloc(len + 1);
    if (!tmp) return gd_seterr("%s: out of memory", key);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    int rc = gd_parse_double(tmp, v);
    free(tmp);
    if (rc) return gd_seterr("%s: '%s' is not a finite decimal number", key, gd__quote(s, len).s);
    return 0;
}

int gd_optim_parse(const char *spec, gd_optim_kind *kind_out, gd_hparams *hp_out) {
    if (!spec || !*spec) return gd_seterr("empty optimizer spec (NAME[:KEY=VALUE]..., e.g. sgd:lr=0.1)");
    size_t nlen = strcspn(spec, ":");
    int kind = -1;
    for (int k = 0; k < GD_OPTIM_NKINDS; k++)
        if (strlen(gd__names[k]) == nlen && strncmp(gd__names[k], spec, nlen) == 0) kind = k;
    if (kind < 0)
        return gd_seterr("unknown optimizer '%s' (sgd, adam, adamw, rmsprop, adagrad, nadam, radam, adamax, "
                         "adadelta)", gd__quote(spec, nlen).s);
    gd_hparams hp = gd_optim_defaults((gd_optim_kind)kind);
    unsigned seen = 0;   /* bit i: gd__keys[i] given */
    const char *s = spec + nlen;
    while (*s == ':') {
        s++;
        size_t len = strcspn(s, ":");
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len;
        if (len == 0) return gd_seterr("empty KEY=VALUE after ':' in '%s'", gd__quote(spec, strlen(spec)).s);
        if (!eq || klen == 0) return gd_seterr("'%s': expected KEY=VALUE", gd__quote(s, len).s);
        const char *val = eq + 1;
        size_t vlen = len - klen - 1;
        int betas = klen == 5 && strncmp(s, "betas", 5) == 0;
        const gd__key *k = betas ? NULL : gd__find(s, klen);
        if (!betas && !k)
            return gd_seterr("%s: unknown key (%s takes %s)", gd__quote(s, klen).s, gd__names[kind],
                             gd__keylist((gd_optim_kind)kind));
        const char *key = betas ? "betas" : k->name;      /* a known key's name, for messages */
        unsigned kinds = betas ? GD__BETAS : k->kinds;
        if (!(kinds & GD__K(kind)))
            return gd_seterr("%s: not used by %s (%s takes %s)", key, gd__names[kind], gd__names[kind],
                             gd__keylist((gd_optim_kind)kind));
        if (betas) {
            const char *slash = memchr(val, '/', vlen);
            if (!slash) return gd_seterr("betas: expected betas=BETA1/BETA2, got '%s'", gd__quote(val, vlen).s);
            double b1, b2;
            if (gd__number("betas", val, (size_t)(slash - val), &b1) ||
                gd__number("betas", slash + 1, vlen - (size_t)(slash - val) - 1, &b2))
                return -1;
            const gd__key *k1 = gd__find("beta1", 5), *k2 = gd__find("beta2", 5);
            unsigned bits = 1u << (k1 - gd__keys) | 1u << (k2 - gd__keys);
            if (seen & bits) return gd_seterr("betas: beta1 or beta2 given twice");
            seen |= bits;
            if (gd__check_key(k1, b1, 0) || gd__check_key(k2, b2, 0)) {
                char why[256];
                snprintf(why, sizeof why, "%s", gd_error());
                return gd_seterr("betas: %s", why);
            }
            hp.beta1 = b1;
            hp.beta2 = b2;
        } else {
            double v;
            if (gd__number(key, val, vlen, &v)) return -1;
            unsigned bit = 1u << (k - gd__keys);
            if (seen & bit) return gd_seterr("%s: given twice", key);
            seen |= bit;
            if (gd__check_key(k, v, 0)) return -1;
            gd__set(&hp, k, v);
        }
        s += len;
    }
    if (gd__check((gd_optim_kind)kind, &hp, 0)) return -1;
    *kind_out = (gd_optim_kind)kind;
    *hp_out = hp;
    return 0;
}

/* The shortest %g that reads back as v. */
static void gd__shortest(char *buf, size_t size, double v) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void gd_optim_format(char *buf, size_t size, gd_optim_kind kind, const gd_hparams *hp) {
    if (!size) return;
    size_t n = (size_t)snprintf(buf, size, "%s", gd_optim_name(kind));
    if (!gd__kind_ok(kind)) return;
    for (int i = 0; gd__order[kind][i] && n < size; i++) {
        const char *key = gd__order[kind][i];
        char v1[32], v2[32];
        if (strcmp(key, "maximize") == 0 && !hp->maximize) continue;   /* only when 1 */
        if (strcmp(key, "betas") == 0) {
            gd__shortest(v1, sizeof v1, hp->beta1);
            gd__shortest(v2, sizeof v2, hp->beta2);
            n += (size_t)snprintf(buf + n, size - n, ":betas=%s/%s", v1, v2);
        } else {
            gd__shortest(v1, sizeof v1, gd__get(hp, gd__find(key, strlen(key))));
            n += (size_t)snprintf(buf + n, size - n, ":%s=%s", key, v1);
        }
    }
}

/* ------------------------------------------------------------------------------- */
/* The optimizer: groups of parameters, each with its hyperparameters and state. */

/* State buffers per parameter, each of the parameter's size (zeros at first):
 *   SGD      b (momentum_buffer)
 *   Adam(W)  m (exp_avg), v (exp_avg_sq), vmax (max_exp_avg_sq, used with amsgrad)
 *   RMSprop  v (square_avg), gbar (grad_avg, centered), b (momentum_buffer)
 *   Adagrad  sum (filled with initial_accumulator_value)
 *   NAdam    m (exp_avg), v (exp_avg_sq); and per group mu_product (below)
 *   RAdam    m (exp_avg), v (exp_avg_sq)
 *   Adamax   m (exp_avg), u (exp_inf)
 *   Adadelta v (square_avg), d (acc_delta)
 * PyTorch creates some of them only when an option needs them; keeping all of them
 * lets a schedule switch momentum on halfway, at the cost of memory for unused ones. */
static const int gd__nbuf[GD_OPTIM_NKINDS] = {1, 3, 3, 3, 1, 2, 2, 2, 2};

typedef struct {
    gd_hparams hp;
    double initial_lr;
    gd_param *params;    /* (P) copies of the caller's gd_param: value and grad pointers */
    int nparams;
    float **buf;         /* (P * nbuf) state buffers, buf[p * nbuf + j] */
    long t;              /* updates of this group (PyTorch's state['step']) */
    int started;         /* SGD: the momentum buffers hold a value (torch: not None) */
    float mu_product;    /* NAdam: mu_1 mu_2 ... mu_t, a float32 tensor in torch (1 at first);
                            torch keeps one per parameter, all equal within a group */
} gd__group;

struct gd_optim {
    gd_optim_kind kind;
    gd_hparams hp;       /* for groups added with hp NULL */
    gd__group **groups;  /* (ngroups) pointers, so gd_optim_group's pointers stay valid */
    int ngroups;
    long steps;
};

gd_optim *gd_optim_new(gd_optim_kind kind, const gd_hparams *hp) {
    gd_hparams h = gd__kind_ok(kind) ? gd_optim_defaults(kind) : (gd_hparams){0};
    if (hp) h = *hp;
    if (gd__check(kind, &h, 0)) return NULL;
    gd_optim *o = calloc(1, sizeof *o);
    if (!o) {
        gd_seterr("optim: out of memory");
        return NULL;
    }
    o->kind = kind;
    o->hp = h;
    return o;
}

static void gd__group_free(gd__group *G, int nbuf) {
    if (!G) return;
    if (G->buf)
        for (int j = 0; j < G->nparams * nbuf; j++) free(G->buf[j]);
    free(G->buf);
    free(G->params);
    free(G);
}

void gd_optim_free(gd_optim *o) {
    if (!o) return;
    for (int g = 0; g < o->ngroups; g++) gd__group_free(o->groups[g], gd__nbuf[o->kind]);
    free(o->groups);
    free(o);
}

int gd_optim_add_group(gd_optim *o, gd_param *params, int nparams, const gd_hparams *hp) {
    const gd_hparams *h = hp ? hp : &o->hp;
    if (gd__check(o->kind, h, 0)) return -1;
    if (!params || nparams < 1) return gd_seterr("optim: a group needs at least one parameter, got %d", nparams);
    for (int p = 0; p < nparams; p++) {
        const char *name = params[p].name ? params[p].name : "?";
        if (!params[p].value || !params[p].grad || params[p].value->size != params[p].grad->size)
            return gd_seterr("optim: parameter %d (%s) has no gradient of its size", p, name);
        for (int g = 0; g < o->ngroups; g++)       /* as torch: a parameter in one group only */
            for (int q = 0; q < o->groups[g]->nparams; q++)
                if (o->groups[g]->params[q].value == params[p].value)
                    return gd_seterr("optim: parameter %d (%s) is already in group %d", p, name, g);
        for (int q = 0; q < p; q++)
            if (params[q].value == params[p].value)
                return gd_seterr("optim: parameter %d (%s) appears twice in the group", p, name);
    }
    int nbuf = gd__nbuf[o->kind];
    gd__group *G = calloc(1, sizeof *G);
    gd__group **groups = realloc(o->groups, sizeof *groups * (size_t)(o->ngroups + 1));
    if (groups) o->groups = groups;
    if (G) {
        G->params = malloc(sizeof *G->params * (size_t)nparams);
        G->buf = calloc((size_t)nparams * (size_t)nbuf, sizeof *G->buf);
    }
    if (!G || !groups || !G->params || !G->buf) {
        gd__group_free(G, nbuf);
        return gd_seterr("optim: out of memory");
    }
    G->nparams = nparams;
    memcpy(G->params, params, sizeof *params * (size_t)nparams);
    for (int j = 0; j < nparams * nbuf; j++) {
        G->buf[j] = calloc(params[j / nbuf].value->size, sizeof(float));
        if (!G->buf[j]) {
            gd__group_free(G, nbuf);
            return gd_seterr("optim: out of memory for the state of %s", params[j / nbuf].name);
        }
    }
    G->hp = *h;
    G->initial_lr = h->lr;
    G->mu_product = 1.0f;
    if (o->kind == GD_ADAGRAD)        /* sum = initial_accumulator_value */
        for (int p = 0; p < nparams; p++)
            gd_fill(G->buf[p], (float)h->initial_accumulator_value, params[p].value->size);
    o->groups[o->ngroups] = G;
    return o->ngroups++;
}

int gd_optim_ngroups(const gd_optim *o) { return o->ngroups; }

gd_hparams *gd_optim_group(gd_optim *o, int g) {
    return g >= 0 && g < o->ngroups ? &o->groups[g]->hp : NULL;
}

void gd_optim_zero_grad(gd_optim *o) {
    for (int g = 0; g < o->ngroups; g++) gd_param_zero_grad(o->groups[g]->params, o->groups[g]->nparams);
}

/* ------------------------------------------------------------------------------- */
/* Speed only: fmaf is one instruction on CPUs with FMA (x86-64 since 2013) but a library
 * call on the x86-64 baseline the book compiles for. GD__FMA_CLONES compiles an update
 * rule twice, with and without FMA instructions, and the loader picks one for the CPU
 * (GCC's target_clones, glibc's ifunc). Both give the same bits: the source says where to
 * fuse, and -std=c11 forbids the compiler to fuse anything else. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define GD__FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define GD__FMA_CLONES
#endif

/* The update rules. In each, h is the group's hyperparameters; the float copies are the
 * values torch's kernels see (a Python float rounded to float32). */

/* Speed only: loops the vectoriser takes. gcc -O2 vectorises a loop only if (its "very
 * cheap" cost model) nothing in it branches, the pointers cannot overlap (restrict) and
 * its count is known to be a multiple of the vector width: no scalar remainder. An update
 * rule's options (maximize, weight decay, momentum, ...) are branches in its loop, so
 * SGD's and Adam(W)'s rules (the ones the chapters run) are written once each, as an
 * always-inlined function of one element and the options, and called with the options
 * as constants for the common cases (each call compiles to a loop with no branch: gcc's
 * loop unswitching, by hand) and with the group's values for every other case. The
 * elements go in blocks of GD__BLOCK, an inner loop of fixed count, which is what
 * vectorises, and the last n % GD__BLOCK one at a time. restrict goes on the pointers of
 * the function that holds the loop (on the element function's too, gcc 12 no longer sees
 * them apart after inlining). sqrtf vectorises only when it need not set errno, so the
 * Makefile compiles this file with -fno-math-errno: the same bits, as nothing here reads
 * errno and glibc's sqrtf returns the instruction's result, NaN for a negative argument
 * included. Every path runs the same source line for each element, so every path gives
 * the same bits (vectorised +, *, /, sqrt and fma round each lane exactly as the scalar
 * instruction does); tests/lib/test_optim.c checks every combination of options against
 * the plain one-element-at-a-time loop, and PyTorch's fixtures check that loop. */
#define GD__INLINE static inline __attribute__((always_inline))
#define GD__BLOCK 8

/* https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
 * Element i of one parameter's update: w its value, gr its gradient, b its momentum
 * buffer; the last five arguments are the options. */
GD__INLINE void gd__sgd_one(float *w, const float *gr, float *b, size_t i,
                            float lr, float wd, float mu, float undamped,
                            int maximize, int decay, int momentum, int first, int nesterov) {
    float g = maximize ? -gr[i] : gr[i];                /* g = -g (maximize) */
    if (decay) g = fmaf(wd, w[i], g);                   /* g = g + weight_decay*w */
    if (momentum) {
        if (first) b[i] = g;                            /* b = g (first step: no dampening) */
        else b[i] = fmaf(undamped, g, b[i] * mu);       /* b = momentum*b + (1-dampening)*g */
        if (nesterov) g = fmaf(mu, b[i], g);            /* g = g + momentum*b (nesterov) */
        else g = b[i];                                  /* g = b */
    }
    w[i] = fmaf(-lr, g, w[i]);                          /* w = w - lr*g */
}

/* The whole parameter, n elements: the plain loop would be
 *     for (size_t i = 0; i < n; i++) gd__sgd_one(w, gr, b, i, ...);
 * blocked as the note above says. */
GD__INLINE void gd__sgd_param(float *restrict w, const float *restrict gr, float *restrict b, size_t n,
                              float lr, float wd, float mu, float undamped,
                              int maximize, int decay, int momentum, int first, int nesterov) {
    size_t i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK)
        for (size_t k = i; k < i + GD__BLOCK; k++)     /* vectorised */
            gd__sgd_one(w, gr, b, k, lr, wd, mu, undamped, maximize, decay, momentum, first, nesterov);
    for (; i < n; i++)
        gd__sgd_one(w, gr, b, i, lr, wd, mu, undamped, maximize, decay, momentum, first, nesterov);
}

GD__FMA_CLONES
static void gd__sgd(gd__group *G) {
    const gd_hparams *h = &G->hp;
    const float lr = (float)h->lr, wd = (float)h->weight_decay, mu = (float)h->momentum;
    const float undamped = (float)(1.0 - h->dampening);
    const int maximize = h->maximize != 0, decay = h->weight_decay != 0, momentum = h->momentum != 0;
    const int first = momentum && !G->started, nesterov = momentum && h->nesterov;
    for (int p = 0; p < G->nparams; p++) {
        float *w = G->params[p].value->data;            /* (n) */
        const float *gr = G->params[p].grad->data;      /* (n) */
        float *b = G->buf[p];                           /* (n) */
        size_t n = G->params[p].value->size;
        /* options:                                   maximize decay momentum first nesterov */
        if (!maximize && !decay && !momentum)                                    /* plain SGD */
            gd__sgd_param(w, gr, b, n, lr, wd, mu, undamped, 0, 0, 0, 0, 0);
        else if (!maximize && !decay && momentum && !first && !nesterov)         /* heavy ball */
            gd__sgd_param(w, gr, b, n, lr, wd, mu, undamped, 0, 0, 1, 0, 0);
        else if (!maximize && decay && momentum && !first && !nesterov)          /* + weight decay */
            gd__sgd_param(w, gr, b, n, lr, wd, mu, undamped, 0, 1, 1, 0, 0);
        else if (!maximize && decay && momentum && !first && nesterov)           /* Nesterov + decay */
            gd__sgd_param(w, gr, b, n, lr, wd, mu, undamped, 0, 1, 1, 0, 1);
        else                                                                     /* any other */
            gd__sgd_param(w, gr, b, n, lr, wd, mu, undamped, maximize, decay, momentum, first, nesterov);
    }
    if (momentum) G->started = 1;
}

/* The float constants of one Adam(W) update, for gd__adam_one. */
typedef struct {
    float step_size, bc2_sqrt, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, wd, shrink;
} gd__adam_k;

/* Element i of one parameter's Adam(W) update: w its value, gr its gradient, m, v, vmax
 * its state; the last four arguments are the options (as gd__sgd_one). */
GD__INLINE void gd__adam_one(float *w, const float *gr, float *m, float *v, float *vmax, size_t i,
                             const gd__adam_k *k, int maximize, int decoupled, int decay, int amsgrad) {
    float g = maximize ? -gr[i] : gr[i];                /* g = -g (maximize) */
    if (decoupled) w[i] = w[i] * k->shrink;             /* w = w - lr*weight_decay*w */
    else if (decay) g = fmaf(k->wd, w[i], g);           /* g = g + weight_decay*w */
    m[i] = fmaf(k->one_minus_beta1, g, m[i] * k->beta1);        /* m = beta1*m + (1-beta1)*g */
    v[i] = fmaf(k->one_minus_beta2 * g, g, v[i] * k->beta2);    /* v = beta2*v + (1-beta2)*g*g */
    float vhat = v[i];
    if (amsgrad) {
        if (!(vmax[i] >= v[i])) vmax[i] = v[i];         /* vmax = max(vmax, v) */
        vhat = vmax[i];
    }
    float denom = sqrtf(vhat) / k->bc2_sqrt + k->eps;   /* denom = sqrt(v)/sqrt(1-beta2^t) + eps */
    w[i] = w[i] - k->step_size * m[i] / denom;          /* w = w - lr/(1-beta1^t) * m/denom */
}

/* The whole parameter, n elements, in blocks (see "Speed only" above). */
GD__INLINE void gd__adam_param(float *restrict w, const float *restrict gr, float *restrict m, float *restrict v,
                               float *restrict vmax, size_t n, const gd__adam_k *k,
                               int maximize, int decoupled, int decay, int amsgrad) {
    size_t i = 0;
    for (; i + GD__BLOCK <= n; i += GD__BLOCK)
        for (size_t j = i; j < i + GD__BLOCK; j++)     /* vectorised */
            gd__adam_one(w, gr, m, v, vmax, j, k, maximize, decoupled, decay, amsgrad);
    for (; i < n; i++) gd__adam_one(w, gr, m, v, vmax, i, k, maximize, decoupled, decay, amsgrad);
}

/* https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
 * https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html (decoupled) */
GD__FMA_CLONES
static void gd__adam(gd__group *G, int decoupled) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const double bias_correction1 = 1.0 - pow(h->beta1, (double)G->t);   /* 1 - beta1^t */
    const double bias_correction2 = 1.0 - pow(h->beta2, (double)G->t);   /* 1 - beta2^t */
    const gd__adam_k k = {
        .step_size = (float)(h->lr / bias_correction1),                  /* lr / (1 - beta1^t) */
        .bc2_sqrt = (float)sqrt(bias_correction2),                       /* sqrt(1 - beta2^t) */
        .beta1 = (float)h->beta1, .one_minus_beta1 = (float)(1.0 - h->beta1),
        .beta2 = (float)h->beta2, .one_minus_beta2 = (float)(1.0 - h->beta2),
        .eps = (float)h->eps, .wd = (float)h->weight_decay,
        .shrink = (float)(1.0 - h->lr * h->weight_decay),               /* 1 - lr*weight_decay */
    };
    const int maximize = h->maximize != 0, decay = h->weight_decay != 0, amsgrad = h->amsgrad != 0;
    for (int p = 0; p < G->nparams; p++) {
        float *w = G->params[p].value->data;            /* (n) */
        const float *gr = G->params[p].grad->data;      /* (n) */
        float *m = G->buf[3 * p], *v = G->buf[3 * p + 1], *vmax = G->buf[3 * p + 2];   /* (n) each */
        size_t n = G->params[p].value->size;
        /* options:                                            maximize decoupled decay amsgrad */
        if (!maximize && !decoupled && !decay && !amsgrad)                      /* Adam */
            gd__adam_param(w, gr, m, v, vmax, n, &k, 0, 0, 0, 0);
        else if (!maximize && !decoupled && decay && !amsgrad)                  /* Adam + L2 */
            gd__adam_param(w, gr, m, v, vmax, n, &k, 0, 0, 1, 0);
        else if (!maximize && decoupled && !amsgrad)                            /* AdamW */
            gd__adam_param(w, gr, m, v, vmax, n, &k, 0, 1, decay, 0);
        else                                                                    /* any other */
            gd__adam_param(w, gr, m, v, vmax, n, &k, maximize, decoupled, decay, amsgrad);
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html */
GD__FMA_CLONES
static void gd__rmsprop(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const float lr = (float)h->lr, alpha = (float)h->alpha, one_minus_alpha = (float)(1.0 - h->alpha);
    const float eps = (float)h->eps, wd = (float)h->weight_decay, mu = (float)h->momentum;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict v = G->buf[3 * p], *restrict gbar = G->buf[3 * p + 1];
        float *restrict b = G->buf[3 * p + 2];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = h->maximize ? -gr[i] : gr[i];             /* g = -g (maximize) */
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            v[i] = fmaf(one_minus_alpha * g, g, v[i] * alpha);  /* v = alpha*v + (1-alpha)*g*g */
            float avg;
            if (h->centered) {
                gbar[i] = fmaf(one_minus_alpha, g, gbar[i] * alpha); /* gbar = alpha*gbar + (1-alpha)*g */
                avg = sqrtf(fmaf(-gbar[i], gbar[i], v[i]));     /* avg = sqrt(v - gbar*gbar) */
            } else {
                avg = sqrtf(v[i]);                              /* avg = sqrt(v) */
            }
            avg = avg + eps;                                    /* avg = avg + eps */
            if (h->momentum > 0) {
                b[i] = b[i] * mu + g / avg;                     /* b = momentum*b + g/avg */
                w[i] = fmaf(-lr, b[i], w[i]);                   /* w = w - lr*b */
            } else {
                w[i] = w[i] - lr * g / avg;                     /* w = w - lr*g/avg */
            }
        }
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html */
GD__FMA_CLONES
static void gd__adagrad(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const float clr = (float)(h->lr / (1.0 + (double)(G->t - 1) * h->lr_decay)); /* clr = lr/(1+(t-1)*lr_decay) */
    const float eps = (float)h->eps, wd = (float)h->weight_decay;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict sum = G->buf[p];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = h->maximize ? -gr[i] : gr[i];             /* g = -g (maximize) */
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            sum[i] = fmaf(g, g, sum[i]);                        /* sum = sum + g*g */
            float std = sqrtf(sum[i]) + eps;                    /* std = sqrt(sum) + eps */
            w[i] = w[i] - clr * g / std;                        /* w = w - clr*g/std */
        }
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html (Dozat 2016,
 * "Incorporating Nesterov Momentum into Adam"): Adam whose step looks ahead along the
 * momentum, with a momentum schedule mu_t = beta1 (1 - 0.96^(t psi)/2), psi =
 * momentum_decay, that rises from beta1/2 towards beta1, slowly: with the default psi =
 * 4e-3, mu_t reaches 0.75 beta1 at t = 4245. torch 1.13's
 * _single_tensor_nadam, operation for operation: no bias correction of m itself; instead
 * the gradient and m are weighted by (1 - mu_t)/(1 - mu_1..mu_t) and
 * mu_{t+1}/(1 - mu_1..mu_{t+1}), the products kept in float32 as torch's mu_product
 * tensor is. No maximize in torch 1.13. */
GD__FMA_CLONES
static void gd__nadam(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const double t = (double)G->t;
    const double bias_correction2 = 1.0 - pow(h->beta2, t);                            /* 1 - beta2^t */
    const double mu = h->beta1 * (1.0 - 0.5 * pow(0.96, t * h->momentum_decay));      /* mu_t */
    const double mu_next = h->beta1 * (1.0 - 0.5 * pow(0.96, (t + 1) * h->momentum_decay)); /* mu_{t+1} */
    G->mu_product = G->mu_product * (float)mu;                          /* mu_1...mu_t (float32) */
    const float mu_product_next = G->mu_product * (float)mu * (float)mu_next; /* mu_1...mu_{t+1} */
    const float c_grad = (float)(-h->lr * (1.0 - mu) / (1.0 - (double)G->mu_product)); /* -lr(1-mu_t)/(1-prod_t) */
    const float c_avg = (float)(-h->lr * mu_next / (1.0 - (double)mu_product_next));   /* -lr mu_{t+1}/(1-prod_{t+1}) */
    const float bc2 = (float)bias_correction2;
    const float beta1 = (float)h->beta1, one_minus_beta1 = (float)(1.0 - h->beta1);
    const float beta2 = (float)h->beta2, one_minus_beta2 = (float)(1.0 - h->beta2);
    const float eps = (float)h->eps, wd = (float)h->weight_decay;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict m = G->buf[2 * p], *restrict v = G->buf[2 * p + 1];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = gr[i];
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            m[i] = fmaf(one_minus_beta1, g, m[i] * beta1);      /* m = beta1*m + (1-beta1)*g */
            v[i] = fmaf(one_minus_beta2 * g, g, v[i] * beta2);  /* v = beta2*v + (1-beta2)*g*g */
            float denom = sqrtf(v[i] / bc2) + eps;              /* denom = sqrt(v/(1-beta2^t)) + eps */
            w[i] = w[i] + c_grad * g / denom;                   /* w = w - lr(1-mu_t)/(1-prod_t) * g/denom */
            w[i] = w[i] + c_avg * m[i] / denom;                 /* w = w - lr mu_{t+1}/(1-prod_{t+1}) * m/denom */
        }
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html (Liu et al. 2020,
 * "On the Variance of the Adaptive Learning Rate and Beyond", arXiv:1908.03265).
 * RAdam is a warmup built into the optimizer: early on, Adam's v rests on few gradients
 * and its adaptive step size 1/sqrt(v) varies wildly, which is the paper's reason why
 * Adam needs a learning-rate warmup. rho_t, the length of the simple moving average v
 * approximates, grows from 1 towards rho_inf = 2/(1-beta2) - 1. While rho_t <= 5 (torch
 * 1.13's threshold; the paper's Algorithm 2 says 4) the update is plain momentum
 * with Adam's bias correction, w = w - lr m/(1-beta1^t), no adaptive step at all.
 * rho_t is slightly below t while t(1-beta2) is small (beta2 = 0.999: rho_5 = 4.996,
 * rho_6 = 5.994), so with beta2 = 0.95, 0.99 or 0.999 steps 1-5 are plain momentum.
 * From then on the adaptive step is multiplied by the rectification
 *     r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)),
 * which rises towards 1: with beta2 = 0.999, r_6 = 0.026, and r_t passes 0.5 at step
 * 556 and 0.9 at step 2737 -- the effective lr warms up by itself, over about 1/(1-beta2)
 * steps. torch 1.13's _single_tensor_radam, operation for operation. No maximize in
 * torch 1.13. */
GD__FMA_CLONES
static void gd__radam(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const double t = (double)G->t;
    const double bias_correction1 = 1.0 - pow(h->beta1, t);            /* 1 - beta1^t */
    const double bias_correction2 = 1.0 - pow(h->beta2, t);            /* 1 - beta2^t */
    const double rho_inf = 2.0 / (1.0 - h->beta2) - 1.0;               /* rho_inf = 2/(1-beta2) - 1 */
    const double rho_t = rho_inf - 2.0 * t * pow(h->beta2, t) / bias_correction2; /* rho_inf - 2t beta2^t/(1-beta2^t) */
    const int rectified = rho_t > 5.0;
    const double rect = rectified ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                         ((rho_inf - 4) * (rho_inf - 2) * rho_t)) : 0.0; /* r_t */
    const float bc1 = (float)bias_correction1, bc2_sqrt = (float)sqrt(bias_correction2);
    const float lr = (float)h->lr, rect_f = (float)rect;
    const float beta1 = (float)h->beta1, one_minus_beta1 = (float)(1.0 - h->beta1);
    const float beta2 = (float)h->beta2, one_minus_beta2 = (float)(1.0 - h->beta2);
    const float eps = (float)h->eps, wd = (float)h->weight_decay;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict m = G->buf[2 * p], *restrict v = G->buf[2 * p + 1];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = gr[i];
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            m[i] = fmaf(one_minus_beta1, g, m[i] * beta1);      /* m = beta1*m + (1-beta1)*g */
            v[i] = fmaf(one_minus_beta2 * g, g, v[i] * beta2);  /* v = beta2*v + (1-beta2)*g*g */
            float mhat = m[i] / bc1;                            /* mhat = m/(1-beta1^t) */
            if (rectified) {
                /* torch: sqrt(1-beta2^t) / (sqrt(v)+eps) is reciprocal(sqrt(v)+eps) * sqrt(1-beta2^t) */
                float adaptive = 1.0f / (sqrtf(v[i]) + eps) * bc2_sqrt; /* l = sqrt(1-beta2^t)/(sqrt(v)+eps) */
                w[i] = w[i] - mhat * lr * adaptive * rect_f;    /* w = w - lr*mhat*l*r_t */
            } else {
                w[i] = w[i] - mhat * lr;                        /* w = w - lr*mhat (rho_t <= 5) */
            }
        }
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html (Kingma and Ba 2015,
 * section 7.1): Adam with the infinity norm, u = max(beta2 u, |g| + eps), in place of
 * sqrt(v); only m is bias-corrected. torch 1.13's _single_tensor_adamax. */
GD__FMA_CLONES
static void gd__adamax(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const double bias_correction = 1.0 - pow(h->beta1, (double)G->t);  /* 1 - beta1^t */
    const float neg_clr = (float)(-(h->lr / bias_correction));         /* -clr = -lr/(1-beta1^t) */
    const float beta1 = (float)h->beta1, one_minus_beta1 = (float)(1.0 - h->beta1);
    const float beta2 = (float)h->beta2, eps = (float)h->eps, wd = (float)h->weight_decay;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict m = G->buf[2 * p], *restrict u = G->buf[2 * p + 1];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = h->maximize ? -gr[i] : gr[i];             /* g = -g (maximize) */
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            m[i] = fmaf(one_minus_beta1, g, m[i] * beta1);      /* m = beta1*m + (1-beta1)*g */
            float decayed = u[i] * beta2, fresh = fabsf(g) + eps;
            /* u = max(beta2*u, |g| + eps) (torch.amax: a NaN wins) */
            u[i] = isnan(decayed) || isnan(fresh) ? NAN : (decayed > fresh ? decayed : fresh);
            w[i] = w[i] + neg_clr * m[i] / u[i];                /* w = w - lr/(1-beta1^t) * m/u */
        }
    }
}

/* https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html (Zeiler 2012,
 * arXiv:1212.5701): the step is g scaled by sqrt(E[dw^2] + eps)/sqrt(E[g^2] + eps), two
 * running averages with factor rho, so its units are those of w and Zeiler's method
 * needs no lr; torch keeps one (default 1) multiplying the step. torch 1.13's
 * _single_tensor_adadelta. */
GD__FMA_CLONES
static void gd__adadelta(gd__group *G) {
    const gd_hparams *h = &G->hp;
    G->t++;
    const float lr = (float)h->lr, rho = (float)h->rho, one_minus_rho = (float)(1.0 - h->rho);
    const float eps = (float)h->eps, wd = (float)h->weight_decay;
    for (int p = 0; p < G->nparams; p++) {
        float *restrict w = G->params[p].value->data;
        const float *restrict gr = G->params[p].grad->data;
        float *restrict v = G->buf[2 * p], *restrict d = G->buf[2 * p + 1];
        size_t n = G->params[p].value->size;
        for (size_t i = 0; i < n; i++) {
            float g = h->maximize ? -gr[i] : gr[i];             /* g = -g (maximize) */
            if (h->weight_decay != 0) g = fmaf(wd, w[i], g);    /* g = g + weight_decay*w */
            v[i] = fmaf(one_minus_rho * g, g, v[i] * rho);      /* v = rho*v + (1-rho)*g*g */
            float std = sqrtf(v[i] + eps);                      /* std = sqrt(v + eps) */
            float delta = sqrtf(d[i] + eps) / std * g;          /* delta = sqrt(d + eps)/std * g */
            d[i] = fmaf(one_minus_rho * delta, delta, d[i] * rho); /* d = rho*d + (1-rho)*delta*delta */
            w[i] = fmaf(-lr, delta, w[i]);                      /* w = w - lr*delta */
        }
    }
}

void gd_optim_step(gd_optim *o) {
    for (int g = 0; g < o->ngroups; g++) {
        gd__group *G = o->groups[g];
        switch (o->kind) {
        case GD_SGD: gd__sgd(G); break;
        case GD_ADAM: gd__adam(G, 0); break;
        case GD_ADAMW: gd__adam(G, 1); break;
        case GD_RMSPROP: gd__rmsprop(G); break;
        case GD_ADAGRAD: gd__adagrad(G); break;
        case GD_NADAM: gd__nadam(G); break;
        case GD_RADAM: gd__radam(G); break;
        case GD_ADAMAX: gd__adamax(G); break;
        case GD_ADADELTA: gd__adadelta(G); break;
        }
    }
    o->steps++;
}

/* ------------------------------------------------------------------------------- */
/* Learning rate and momentum, per group or for all (g < 0). */

double gd_optim_initial_lr(const gd_optim *o, int g) {
    if (g < 0) g = 0;
    return g < o->ngroups ? o->groups[g]->initial_lr : o->hp.lr;
}

double gd_optim_lr(const gd_optim *o, int g) {
    if (g < 0) g = 0;
    return g < o->ngroups ? o->groups[g]->hp.lr : o->hp.lr;
}

void gd_optim_set_lr(gd_optim *o, int g, double lr) {
    for (int i = 0; i < o->ngroups; i++)
        if (g < 0 || g == i) o->groups[i]->hp.lr = lr;
}

void gd_optim_set_momentum(gd_optim *o, int g, double momentum) {
    for (int i = 0; i < o->ngroups; i++) {
        if (g >= 0 && g != i) continue;
        if ((GD__K(o->kind) & GD__BETAS)) o->groups[i]->hp.beta1 = momentum;   /* betas[0] */
        else if (o->kind == GD_SGD || o->kind == GD_RMSPROP) o->groups[i]->hp.momentum = momentum;
        /* Adagrad, Adadelta: no momentum */
    }
}

long gd_optim_steps(const gd_optim *o) { return o->steps; }

/* ------------------------------------------------------------------------------- */
/* State, in native byte order:
 *   "GDOPTIM2", int64 kind, int64 ngroups, int64 steps
 *   per group: int64 nparams, t, started; double initial_lr; double mu_product (NAdam;
 *              1 for the other kinds); the 16 hyperparameters in gd__keys order
 *              (doubles; flags as doubles 0/1); per parameter int64 ndim and
 *              shape[GD_MAXDIM]
 *   then every group's buffers, buf[0], buf[1], ... as floats.
 * Version 1 ("GDOPTIM1": 13 hyperparameters, no mu_product; before NAdam, RAdam, Adamax,
 * Adadelta and maximize) is refused with a reason naming it. */

#define GD__MAGIC "GDOPTIM2"

static size_t gd__group_header(const gd__group *G) {
    return 3 * 8 + 8 + 8 + GD__NKEYS * 8 + (size_t)G->nparams * 8 * (1 + GD_MAXDIM);
}

size_t gd_optim_state_size(const gd_optim *o) {
    size_t size = 8 + 3 * 8;
    int nbuf = gd__nbuf[o->kind];
    for (int g = 0; g < o->ngroups; g++) {
        const gd__group *G = o->groups[g];
        size += gd__group_header(G);
        for (int p = 0; p < G->nparams; p++) size += (size_t)nbuf * G->params[p].value->size * sizeof(float);
    }
    return size;
}

static unsigned char *gd__put64(unsigned char *b, int64_t v) { memcpy(b, &v, 8); return b + 8; }
static unsigned char *gd__putd(unsigned char *b, double v) { memcpy(b, &v, 8); return b + 8; }
static const unsigned char *gd__get64(const unsigned char *b, int64_t *v) { memcpy(v, b, 8); return b + 8; }
static const unsigned char *gd__getd(const unsigned char *b, double *v) { memcpy(v, b, 8); return b + 8; }

void gd_optim_state_write(const gd_optim *o, void *buf) {
    unsigned char *b = buf;
    int nbuf = gd__nbuf[o->kind];
    memcpy(b, GD__MAGIC, 8);
    b += 8;
    b = gd__put64(b, o->kind);
    b = gd__put64(b, o->ngroups);
    b = gd__put64(b, o->steps);
    for (int g = 0; g < o->ngroups; g++) {
        const gd__group *G = o->groups[g];
        b = gd__put64(b, G->nparams);
        b = gd__put64(b, G->t);
        b = gd__put64(b, G->started);
        b = gd__putd(b, G->initial_lr);
        b = gd__putd(b, G->mu_product);
        for (int k = 0; k < GD__NKEYS; k++) b = gd__putd(b, gd__get(&G->hp, &gd__keys[k]));
        for (int p = 0; p < G->nparams; p++) {
            const gd_tensor *v = G->params[p].value;
            b = gd__put64(b, v->ndim);
            for (int d = 0; d < GD_MAXDIM; d++) b = gd__put64(b, d < v->ndim ? v->shape[d] : 0);
        }
    }
    for (int g = 0; g < o->ngroups; g++) {
        const gd__group *G = o->groups[g];
        for (int j = 0; j < G->nparams * nbuf; j++) {
            size_t bytes = G->params[j / nbuf].value->size * sizeof(float);
            memcpy(b, G->buf[j], bytes);
            b += bytes;
        }
    }
}

int gd_optim_state_read(gd_optim *o, const void *buf, size_t size) {
    const unsigned char *b = buf;
    int nbuf = gd__nbuf[o->kind];
    if (size >= 8 && memcmp(b, "GDOPTIM1", 8) == 0)
        return gd_seterr("optimizer state: version 1 (GDOPTIM1), written before NAdam, RAdam, Adamax, Adadelta "
                         "and maximize; this library reads " GD__MAGIC);
    if (size < 8 + 3 * 8 || memcmp(b, GD__MAGIC, 8) != 0)
        return gd_seterr("optimizer state: not a gd_optim state (%zu bytes, no " GD__MAGIC " header)", size);
    int64_t kind, ngroups, steps;
    b = gd__get64(b + 8, &kind);
    b = gd__get64(b, &ngroups);
    b = gd__get64(b, &steps);
    if (kind != o->kind)
        return gd_seterr("optimizer state: written by %s, this optimizer is %s",
                         kind >= 0 && kind < GD_OPTIM_NKINDS ? gd__names[kind] : "an unknown kind",
                         gd__names[o->kind]);
    if (ngroups != o->ngroups)
        return gd_seterr("optimizer state: %lld groups, this optimizer has %d", (long long)ngroups, o->ngroups);
    if (steps < 0) return gd_seterr("optimizer state: negative step count %lld", (long long)steps);
    size_t expected = gd_optim_state_size(o);
    /* first pass: check everything, so that a failed read changes nothing */
    const unsigned char *end = (const unsigned char *)buf + size;
    for (int g = 0; g < o->ngroups; g++) {
        const gd__group *G = o->groups[g];
        int64_t nparams, t, started;
        if ((size_t)(end - b) < gd__group_header(G))
            return gd_seterr("optimizer state: truncated in group %d (%zu bytes, expected %zu)", g, size, expected);
        b = gd__get64(b, &nparams);
        if (nparams != G->nparams)
            return gd_seterr("optimizer state: group %d has %lld parameters, expected %d", g, (long long)nparams,
                             G->nparams);
        b = gd__get64(b, &t);
        b = gd__get64(b, &started);
        if (t < 0 || (started != 0 && started != 1))
            return gd_seterr("optimizer state: group %d: bad step count or flag", g);
        double initial_lr, mu_product;
        b = gd__getd(b, &initial_lr);
        b = gd__getd(b, &mu_product);
        if (!(mu_product >= 0 && mu_product <= 1) || (double)(float)mu_product != mu_product)
            return gd_seterr("optimizer state: group %d: mu_product must be a float in [0, 1], got %g", g, mu_product);
        gd_hparams hp = {0};
        for (int k = 0; k < GD__NKEYS; k++) {
            double v;
            b = gd__getd(b, &v);
            if (gd__keys[k].flag && v != 0 && v != 1)
                return gd_seterr("optimizer state: group %d: %s: must be 0 or 1, got %g", g, gd__keys[k].name, v);
            gd__set(&hp, &gd__keys[k], v);
        }
        if (gd__check(o->kind, &hp, 1)) {
            char why[256];
            snprintf(why, sizeof why, "%s", gd_error());
            return gd_seterr("optimizer state: group %d: %s", g, why);
        }
        for (int p = 0; p < G->nparams; p++) {
            const gd_tensor *v = G->params[p].value;
            int64_t ndim, shape[GD_MAXDIM];
            b = gd__get64(b, &ndim);
            for (int d = 0; d < GD_MAXDIM; d++) b = gd__get64(b, &shape[d]);
            int same = ndim == v->ndim;
            for (int d = 0; same && d < v->ndim; d++) same = shape[d] == v->shape[d];
            if (!same) {
                char want[64] = "", got[64] = "";
                for (int d = 0; d < v->ndim; d++)
                    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "x" : "", v->shape[d]);
                for (int d = 0; d < ndim && d < GD_MAXDIM && ndim <= GD_MAXDIM; d++)
                    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "x" : "", (long long)shape[d]);
                return gd_seterr("optimizer state: group %d parameter %d (%s) is %s, the state's is %s", g, p,
                                 G->params[p].name ? G->params[p].name : "?", want, got[0] ? got : "?");
            }
        }
    }
    if (size != expected)
        return gd_seterr("optimizer state: %zu bytes, expected %zu for this optimizer", size, expected);
    /* second pass: copy */
    b = (const unsigned char *)buf + 8 + 3 * 8;
    for (int g = 0; g < o->ngroups; g++) {
        gd__group *G = o->groups[g];
        int64_t x;
        b = gd__get64(b + 8, &x);
        G->t = (long)x;
        b = gd__get64(b, &x);
        G->started = (int)x;
        b = gd__getd(b, &G->initial_lr);
        double mu_product;
        b = gd__getd(b, &mu_product);
        G->mu_product = (float)mu_product;
        for (int k = 0; k < GD__NKEYS; k++) {
            double v;
            b = gd__getd(b, &v);
            gd__set(&G->hp, &gd__keys[k], v);
        }
        b += (size_t)G->nparams * 8 * (1 + GD_MAXDIM);
    }
    for (int g = 0; g < o->ngroups; g++) {
        gd__group *G = o->groups[g];
        for (int j = 0; j < G->nparams * nbuf; j++) {
            size_t bytes = G->params[j / nbuf].value->size * sizeof(float);
            memcpy(G->buf[j], b, bytes);
            b += bytes;
        }
    }
    o->steps = (long)steps;
    return 0;
}

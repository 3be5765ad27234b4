/* sched.c -- learning-rate schedules as closed-form functions of the step; see sched.h.
 *
 * A schedule is a list of terms, each a kind (cosine, step, ...) with its keys and the
 * absolute step at which it starts. gd_sched_lr finds the term running at step t and
 * evaluates its formula at the term's own step t - start. Every formula is written at
 * the line that computes it, with the page or paper it follows; where PyTorch only has
 * a recursive get_lr() (lr_t from lr_{t-1}), ours is the closed form that the recursion
 * unrolls to, and the tests compare the two (tests/ref/sched_ref.py).
 *
 * One table of keys per kind (gd__kinds below) drives the parser, the range checks, the
 * error messages and the canonical format, so a key's name, default and range are
 * written exactly once. Reduce-on-plateau is the one term with state: the counters of
 * PyTorch's ReduceLROnPlateau and the number of reductions made so far.
 *
 * Leaves out: PyTorch's LambdaLR/MultiplicativeLR (arbitrary functions), ChainedScheduler
 * (products of schedules), per-group lists of base_lr/max_lr/min_lr, CyclicLR's custom
 * scale_fn, and fractional steps (CosineAnnealingWarmRestarts.step(epoch + i / iters)).
 */
#include "sched.h"
#include "cli.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define GD__MAX_MILESTONES 32
#define GD__MAX_STEP 1e15          /* step counts above this are refused (no overflow) */
#define GD__MAX_TERMS 10000        /* more terms are refused (a spec is a few terms) */
#define GD__QUOTE 60               /* messages quote at most this much of the user's text */

typedef enum {
    GD__CONSTANT, GD__WARMUP, GD__STEP, GD__MULTISTEP, GD__EXP, GD__LINEAR, GD__POLY,
    GD__COSINE, GD__RESTARTS, GD__CYCLIC, GD__ONECYCLE, GD__WSD, GD__INVSQRT, GD__PLATEAU
} gd__kind;

/* Choices of the enum keys, in the order of their values. */
enum { GD__WARM_LINEAR, GD__WARM_EXP, GD__WARM_CONSTANT };               /* warmup kind= */
enum { GD__TRIANGULAR, GD__TRIANGULAR2, GD__EXP_RANGE };                  /* cyclic mode= */
enum { GD__ANNEAL_COS, GD__ANNEAL_LINEAR };                               /* onecycle anneal= */
enum { GD__SHAPE_LINEAR, GD__SHAPE_COSINE, GD__SHAPE_SQRT };              /* wsd shape= */
enum { GD__MODE_MIN, GD__MODE_MAX };                                      /* plateau mode= */
enum { GD__REL, GD__ABS };                                                /* threshold_mode= */

/* One term: its kind, where it starts, and every key any kind has (each kind reads its
 * own; the key tables below say which). Step counts are long, the rest double. */
typedef struct gd__term {
    gd__kind kind;
    long at;                       /* absolute step at which the term starts */
    long T;                        /* length (constant: 0 = runs forever) */
    long T0, mult;                 /* restarts: first period, period multiplier; invsqrt: T0 */
    long size, every;              /* step: period; exp: staircase period */
    long up, down;                 /* cyclic: steps up and down */
    long patience, cooldown;       /* plateau */
    long milestones[GD__MAX_MILESTONES];
    int nmilestones;
    double factor, gamma, start, end, power, min, pct, div, final_div, decay;
    double threshold, min_lr, eps;
    double momentum[2];            /* LO/HI: base_momentum, max_momentum */
    int warm_kind, mode, anneal, shape, threshold_mode, three_phase, cycle_momentum;
    int base_from;                 /* the term's base lr (gd__chain_bases): GD__BASE_* */
    double base_val;               /* GD__BASE_DIV: the divisor; GD__BASE_MIN: the lr */
} gd__term;

/* Where a term's base lr comes from, given the optimizer's lr B (see gd__chain_bases). */
enum {
    GD__BASE_LR,                   /* B itself */
    GD__BASE_DIV,                  /* B / base_val: after a onecycle, PyTorch's initial_lr = max_lr / div */
    GD__BASE_MIN                   /* base_val: a first cyclic term's min (CyclicLR's base_lr) */
};

struct gd_sched {
    int nterms;
    gd__term *terms;
    int plateau;                   /* index of the plateau term, or -1 */
    /* ReduceLROnPlateau's state, under PyTorch's names */
    double best;
    long num_bad_epochs, cooldown_counter;
    long reductions;               /* times the lr was reduced so far */
    long observations;
};

/* ---------------------------------------------------------------------------------- */
/* The keys of each kind. */

typedef enum { GD__K_STEPS, GD__K_NUM, GD__K_ENUM, GD__K_FLAG, GD__K_LIST, GD__K_PAIR } gd__ktype;

typedef struct gd__key {
    const char *name;
    gd__ktype type;
    size_t off;                    /* where in gd__term */
    int required;
    double def;                    /* default (NAN: set from other keys after parsing) */
    double lo, hi;                 /* allowed range */
    int lo_open, hi_open;          /* 1: the bound itself is excluded */
    const char *choices;           /* GD__K_ENUM: "a|b|c", values 0, 1, 2 */
} gd__key;

#define GD__OFF(f) offsetof(gd__term, f)
#define GD__STEPS_KEY(name, f, req, def, lo) {name, GD__K_STEPS, GD__OFF(f), req, def, lo, GD__MAX_STEP, 0, 0, NULL}
#define GD__NUM_KEY(name, f, def, lo, hi, lo_open, hi_open) \
    {name, GD__K_NUM, GD__OFF(f), 0, def, lo, hi, lo_open, hi_open, NULL}
#define GD__REQ_NUM_KEY(name, f, lo, hi, lo_open, hi_open) \
    {name, GD__K_NUM, GD__OFF(f), 1, 0, lo, hi, lo_open, hi_open, NULL}
#define GD__ENUM_KEY(name, f, def, choices) {name, GD__K_ENUM, GD__OFF(f), 0, def, 0, 0, 0, 0, choices}
#define GD__FLAG_KEY(name, f, def) {name, GD__K_FLAG, GD__OFF(f), 0, def, 0, 1, 0, 0, NULL}
#define GD__MIN_KEY(name, f) GD__NUM_KEY(name, f, 0, 0, INFINITY, 0, 1)
#define GD__KEYS_END {NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL}

static const gd__key gd__constant_keys[] = {
    GD__NUM_KEY("factor", factor, 1, 0, 1, 0, 0),
    GD__STEPS_KEY("T", T, 0, 0, 1),
    GD__KEYS_END};
static const gd__key gd__warmup_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__ENUM_KEY("kind", warm_kind, GD__WARM_LINEAR, "linear|exp|constant"),
    GD__NUM_KEY("start", start, NAN, 0, 1, 0, 0),
    GD__KEYS_END};
static const gd__key gd__step_keys[] = {
    GD__STEPS_KEY("size", size, 1, 0, 1),
    GD__NUM_KEY("gamma", gamma, 0.1, 0, 1, 1, 0),
    GD__KEYS_END};
static const gd__key gd__multistep_keys[] = {
    {"milestones", GD__K_LIST, GD__OFF(milestones), 1, 0, 0, GD__MAX_STEP, 0, 0, NULL},
    GD__NUM_KEY("gamma", gamma, 0.1, 0, 1, 1, 0),
    GD__KEYS_END};
static const gd__key gd__exp_keys[] = {
    GD__REQ_NUM_KEY("gamma", gamma, 0, INFINITY, 1, 1),
    GD__STEPS_KEY("every", every, 0, 1, 1),
    GD__KEYS_END};
static const gd__key gd__linear_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__NUM_KEY("start", start, 1, 0, 1, 0, 0),
    GD__NUM_KEY("end", end, 0, 0, 1, 0, 0),
    GD__KEYS_END};
static const gd__key gd__poly_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__NUM_KEY("power", power, 1, 0, INFINITY, 1, 1),
    GD__MIN_KEY("min", min),
    GD__KEYS_END};
static const gd__key gd__cosine_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__MIN_KEY("min", min),
    GD__KEYS_END};
static const gd__key gd__restarts_keys[] = {
    GD__STEPS_KEY("T0", T0, 1, 0, 1),
    GD__STEPS_KEY("mult", mult, 0, 1, 1),
    GD__MIN_KEY("min", min),
    GD__KEYS_END};
static const gd__key gd__cyclic_keys[] = {
    GD__REQ_NUM_KEY("min", min, 0, INFINITY, 0, 1),
    GD__STEPS_KEY("up", up, 1, 0, 1),
    GD__STEPS_KEY("down", down, 0, 0, 1),       /* default: up (set after parsing) */
    GD__ENUM_KEY("mode", mode, GD__TRIANGULAR, "triangular|triangular2|exp_range"),
    GD__NUM_KEY("gamma", gamma, 1, 0, 1, 1, 0),
    {"momentum", GD__K_PAIR, GD__OFF(momentum), 0, 0, 0, 1, 0, 1, NULL},
    GD__FLAG_KEY("cycle_momentum", cycle_momentum, 1),
    GD__KEYS_END};
static const gd__key gd__onecycle_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__NUM_KEY("pct", pct, 0.3, 0, 1, 1, 1),
    GD__ENUM_KEY("anneal", anneal, GD__ANNEAL_COS, "cos|linear"),
    GD__NUM_KEY("div", div, 25, 1, INFINITY, 0, 1),
    GD__NUM_KEY("final_div", final_div, 1e4, 1, INFINITY, 0, 1),
    GD__FLAG_KEY("three_phase", three_phase, 0),
    {"momentum", GD__K_PAIR, GD__OFF(momentum), 0, 0, 0, 1, 0, 1, NULL},
    GD__FLAG_KEY("cycle_momentum", cycle_momentum, 1),
    GD__KEYS_END};
static const gd__key gd__wsd_keys[] = {
    GD__STEPS_KEY("T", T, 1, 0, 1),
    GD__NUM_KEY("decay", decay, 0.2, 0, 1, 1, 0),
    GD__ENUM_KEY("shape", shape, GD__SHAPE_LINEAR, "linear|cosine|sqrt"),
    GD__MIN_KEY("min", min),
    GD__KEYS_END};
static const gd__key gd__invsqrt_keys[] = {
    GD__STEPS_KEY("T0", T0, 0, 1, 1),
    GD__KEYS_END};
static const gd__key gd__plateau_keys[] = {
    GD__ENUM_KEY("mode", mode, GD__MODE_MIN, "min|max"),
    GD__NUM_KEY("factor", factor, 0.1, 0, 1, 1, 1),
    {"patience", GD__K_STEPS, GD__OFF(patience), 0, 10, 0, GD__MAX_STEP, 0, 0, NULL},
    GD__NUM_KEY("threshold", threshold, 1e-4, 0, INFINITY, 0, 1),
    GD__ENUM_KEY("threshold_mode", threshold_mode, GD__REL, "rel|abs"),
    {"cooldown", GD__K_STEPS, GD__OFF(cooldown), 0, 0, 0, GD__MAX_STEP, 0, 0, NULL},
    GD__MIN_KEY("min_lr", min_lr),
    GD__NUM_KEY("eps", eps, 1e-8, 0, INFINITY, 0, 1),
    GD__KEYS_END};

typedef struct gd__kind_desc {
    const char *name;
    const gd__key *keys;           /* the first one may be given without its name */
    int ends;                      /* 1: the term's length is T (0: it runs forever) */
} gd__kind_desc;

static const gd__kind_desc gd__kinds[] = {
    [GD__CONSTANT] = {"constant", gd__constant_keys, 1},   /* ends only if T is given */
    [GD__WARMUP] = {"warmup", gd__warmup_keys, 1},
    [GD__STEP] = {"step", gd__step_keys, 0},
    [GD__MULTISTEP] = {"multistep", gd__multistep_keys, 0},
    [GD__EXP] = {"exp", gd__exp_keys, 0},
    [GD__LINEAR] = {"linear", gd__linear_keys, 1},
    [GD__POLY] = {"poly", gd__poly_keys, 1},
    [GD__COSINE] = {"cosine", gd__cosine_keys, 1},
    [GD__RESTARTS] = {"restarts", gd__restarts_keys, 0},
    [GD__CYCLIC] = {"cyclic", gd__cyclic_keys, 0},
    [GD__ONECYCLE] = {"onecycle", gd__onecycle_keys, 1},
    [GD__WSD] = {"wsd", gd__wsd_keys, 1},
    [GD__INVSQRT] = {"invsqrt", gd__invsqrt_keys, 0},
    [GD__PLATEAU] = {"plateau", gd__plateau_keys, 0},
};
#define GD__NKINDS ((int)(sizeof gd__kinds / sizeof gd__kinds[0]))

/* The step after the term's last one, or -1 if it runs forever (without a later "@"). */
static long gd__term_end(const gd__term *k) {
    if (!gd__kinds[k->kind].ends || k->T == 0) return -1;
    return k->at + k->T;
}

/* ---------------------------------------------------------------------------------- */
/* The formulas. t is the step within the term (t = 0 at its start), base the group's
 * initial lr. */

/* ReduceLROnPlateau: the lr after n reductions, each new_lr = max(lr * factor, min_lr),
 * skipped when old_lr - new_lr <= eps (and then every later one is too, as old_lr no
 * longer changes). https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html */
static double gd__plateau_lr(const gd__term *k, double base, long n) {
    double lr = base;
    for (long i = 0; i < n; i++) {
        double new_lr = fmax(lr * k->factor, k->min_lr);   /* new_lr = max(lr*factor, min_lr) */
        if (!(lr - new_lr > k->eps)) break;                 /* change <= eps: ignored */
        lr = new_lr;
    }
    return lr;
}

/* The cyclic position of CyclicLR at step t: scale_factor in [0, 1] (0 at the bottom,
 * 1 at the top) times the amplitude scaling of the mode.
 * https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CyclicLR.html */
static double gd__cyclic_height(const gd__term *k, long t) {
    double total = (double)(k->up + k->down), ratio = (double)k->up / total;
    double cycle = floor(1 + t / total);                 /* cycle = floor(1 + t/(up+down)) */
    double x = 1. + t / total - cycle;                   /* x = position in the cycle, [0, 1) */
    double sf = x <= ratio ? x / ratio                   /* rising: x / ratio */
                           : (x - 1) / (ratio - 1);      /* falling: (x-1)/(ratio-1) */
    double scale = k->mode == GD__TRIANGULAR2 ? 1 / pow(2., cycle - 1)   /* 1/2^(cycle-1) */
                   : k->mode == GD__EXP_RANGE ? pow(k->gamma, (double)t) /* gamma^t */
                                              : 1.;                       /* triangular */
    return sf * scale;
}

/* OneCycleLR's phases: anneal lr (and momentum) from phase start to phase end; phase
 * ends are PyTorch's float end_step values pct*T - 1, (2 pct*T - 2,) T - 1. Past T - 1
 * we hold the final value (PyTorch extrapolates one step, then raises).
 * https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html */
static double gd__anneal(int how, double start, double end, double pct) {
    if (how == GD__ANNEAL_COS)
        return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1);   /* cos: end + (start-end)(1+cos(pi pct))/2 */
    return (end - start) * pct + start;                               /* linear: start + (end-start) pct */
}

/* OneCycleLR at step t: find the phase, the fraction of it done, and anneal lr and
 * momentum between the phase's start and end values. */
static void gd__onecycle_at(const gd__term *k, long t, double base, double *lr, double *mom) {
    double initial = base / k->div;                 /* initial_lr = max_lr / div_factor */
    double min_lr = initial / k->final_div;          /* min_lr = initial_lr / final_div_factor */
    double lo = k->momentum[0], hi = k->momentum[1];
    double T = (double)k->T, pct_T = k->pct * T;
    /* {end_step, start_lr, end_lr, start_momentum, end_momentum} per phase */
    double two[2][5] = {{pct_T - 1, initial, base, hi, lo}, {T - 1, base, min_lr, lo, hi}};
    double three[3][5] = {{pct_T - 1, initial, base, hi, lo},
                          {2 * pct_T - 2, base, initial, lo, hi},
                          {T - 1, initial, min_lr, hi, hi}};
    double (*ph)[5] = k->three_phase ? three : two;
    int nph = k->three_phase ? 3 : 2;
    double step = (double)(t < k->T - 1 ? t : k->T - 1), start_step = 0;
    for (int i = 0; i < nph; i++) {
        if (step <= ph[i][0] || i == nph - 1) {
            double span = ph[i][0] - start_step;
            double pct = span > 0 ? (step - start_step) / span : 1;  /* pct = (t - start)/(end - start) */
            *lr = gd__anneal(k->anneal, ph[i][1], ph[i][2], pct);
            *mom = gd__anneal(k->anneal, ph[i][3], ph[i][4], pct);
            return;
        }
        start_step = ph[i][0];
    }
}

// region sched_term_lr
static double gd__term_lr(const gd_sched *s, const gd__term *k, long t, double base) {
    switch (k->kind) {
    case GD__CONSTANT:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ConstantLR.html */
        return base * k->factor;                                   /* lr = base * factor */
    case GD__WARMUP: {
        /* Linear: Goyal et al. 2017 "Accurate, Large Minibatch SGD"; constant: He et al.
         * 2016 "Deep Residual Learning" (0.1 base until the error drops) */
        double u = (double)(t < k->T ? t : k->T) / (double)k->T;   /* u = min(t, T)/T */
        if (k->warm_kind == GD__WARM_EXP) return base * pow(k->start, 1 - u);   /* base * S^(1-u) */
        if (k->warm_kind == GD__WARM_CONSTANT) return t < k->T ? base * k->start : base;  /* base*S, t < T */
        return base * (k->start + (1 - k->start) * u);             /* base * (S + (1-S) u) */
    }
    case GD__STEP:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html */
        return base * pow(k->gamma, (double)(t / k->size));        /* base * gamma^floor(t/size) */
    case GD__MULTISTEP: {
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.MultiStepLR.html */
        int passed = 0;
        while (passed < k->nmilestones && k->milestones[passed] <= t) passed++;
        return base * pow(k->gamma, passed);                       /* base * gamma^#{milestones <= t} */
    }
    case GD__EXP:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ExponentialLR.html
         * (every > 1: the staircase of tf.compat.v1.train.exponential_decay) */
        return base * pow(k->gamma, (double)(t / k->every));       /* base * gamma^floor(t/every) */
    case GD__LINEAR:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LinearLR.html */
        return base * (k->start + (k->end - k->start) * (double)(t < k->T ? t : k->T) / (double)k->T);
                                                 /* base * (start + (end-start) min(t,T)/T) */
    case GD__POLY:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.PolynomialLR.html
         * (torch 1.13's has no floor: it is ours with min = 0) */
        return k->min + (base - k->min) * pow(1.0 - (double)(t < k->T ? t : k->T) / (double)k->T, k->power);
                                                 /* min + (base-min) (1 - min(t,T)/T)^power */
    case GD__COSINE:
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html
         * (its closed form; past T we hold min where PyTorch's recursive form rises again) */
        if (t >= k->T) return k->min;                              /* lr = min for t >= T */
        return k->min + (base - k->min) * (1 + cos(M_PI * (double)t / (double)k->T)) / 2;
                                                 /* min + (base-min)(1 + cos(pi t/T))/2 */
    case GD__RESTARTS: {
        /* https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.html
         * T_cur = steps since the last restart, T_i = the current period (T0 mult^i),
         * found exactly in integers (PyTorch's step(epoch) uses a floating log). */
        long T_cur = t;
        double T_i = (double)k->T0;              /* whole, but a double cannot overflow */
        if (k->mult == 1) {
            T_cur = t % k->T0;                   /* T_cur = t mod T0 */
        } else {
            while ((double)T_cur >= T_i) {       /* a restart: T_cur -= T_i, T_i *= mult */
                T_cur -= (long)T_i;
                T_i *= (double)k->mult;
            }
        }
        return k->min + (base - k->min) * (1 + cos(M_PI * (double)T_cur / T_i)) / 2;
                                                 /* min + (base-min)(1 + cos(pi T_cur/T_i))/2 */
    }
    case GD__CYCLIC:
        /* CyclicLR with base_lr = min, max_lr = base (see gd__cyclic_height) */
        return k->min + (base - k->min) * gd__cyclic_height(k, t);   /* min + (base-min) sf scale */
    case GD__ONECYCLE: {                         /* OneCycleLR with max_lr = base: gd__onecycle_at */
        double lr, mom;
        gd__onecycle_at(k, t, base, &lr, &mom);
        return lr;
    }
    case GD__WSD: {
        /* Warmup-stable-decay (Hagele et al. 2024, "Scaling Laws and Compute-Optimal
         * Training Beyond Fixed Training Durations"): base for the first T - D steps,
         * then down to min over the last D = round(decay T), reaching it at t = T. */
        long D = lround(k->decay * (double)k->T), S = k->T - D;
        if (t < S) return base;                                    /* stable: lr = base */
        double u = (double)(t - S < D ? t - S : D) / (double)D;    /* u = min(t - S, D)/D */
        if (k->shape == GD__SHAPE_SQRT)
            return k->min + (base - k->min) * (1 - sqrt(u));        /* min + (base-min)(1 - sqrt(u)) */
        if (k->shape == GD__SHAPE_COSINE)
            return k->min + (base - k->min) * (1 + cos(M_PI * u)) / 2;   /* min + (base-min)(1 + cos(pi u))/2 */
        return k->min + (base - k->min) * (1 - u);                 /* min + (base-min)(1 - u) */
    }
    case GD__INVSQRT:
        /* Vaswani et al. 2017, "Attention Is All You Need", lr ~ 1/sqrt(step) after the
         * warmup: after "warmup:T=W" this is base sqrt(W/step) at absolute step >= W. */
        return base * sqrt((double)k->T0 / ((double)k->T0 + (double)t));   /* base * sqrt(T0/(T0 + t)) */
    case GD__PLATEAU:                            /* ReduceLROnPlateau: gd__plateau_lr */
        return gd__plateau_lr(k, base, s->reductions);
    }
    return base;
}
// endregion sched_term_lr

/* The term running at absolute step t: the last one that starts at or before t. */
static const gd__term *gd__term_at(const gd_sched *s, long t) {
    int i = s->nterms - 1;
    while (i > 0 && s->terms[i].at > t) i--;
    return &s->terms[i];
}

/* The base lr term k uses when the optimizer's lr is B (gd__chain_bases decides which). */
static double gd__term_base(const gd__term *k, double B) {
    switch (k->base_from) {
    case GD__BASE_DIV: return B / k->base_val;         /* initial_lr = max_lr / div_factor */
    case GD__BASE_MIN: return k->base_val;             /* initial_lr = CyclicLR's base_lr */
    default: return B;
    }
}

double gd_sched_lr(const gd_sched *s, long t, double base_lr) {
    if (t < 0) t = 0;
    const gd__term *k = gd__term_at(s, t);
    return gd__term_lr(s, k, t - k->at, gd__term_base(k, base_lr));
}

int gd_sched_momentum(const gd_sched *s, long t, double *momentum) {
    if (t < 0) t = 0;
    const gd__term *k = gd__term_at(s, t);
    if (!k->cycle_momentum) return 0;
    t -= k->at;
    if (k->kind == GD__CYCLIC) {
        /* CyclicLR: momentum = max_momentum - (max_momentum - base_momentum) sf scale */
        *momentum = k->momentum[1] - (k->momentum[1] - k->momentum[0]) * gd__cyclic_height(k, t);
        return 1;
    }
    if (k->kind == GD__ONECYCLE) {
        double lr;
        gd__onecycle_at(k, t, 1.0, &lr, momentum);   /* momentum does not depend on base */
        return 1;
    }
    return 0;
}

void gd_sched_apply(const gd_sched *s, long t, gd_optim *o) {
    double momentum;
    int cycled = gd_sched_momentum(s, t, &momentum);
    int n = gd_optim_ngroups(o);
    for (int g = 0; g < n; g++) {
        gd_optim_set_lr(o, g, gd_sched_lr(s, t, gd_optim_initial_lr(o, g)));
        if (cycled) gd_optim_set_momentum(o, g, momentum);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Reduce-on-plateau. */

int gd_sched_has_plateau(const gd_sched *s) { return s->plateau >= 0; }

static void gd__plateau_reset(gd_sched *s) {
    const gd__term *k = s->plateau >= 0 ? &s->terms[s->plateau] : NULL;
    s->best = k && k->mode == GD__MODE_MAX ? -INFINITY : INFINITY;   /* mode_worse */
    s->num_bad_epochs = s->cooldown_counter = s->reductions = s->observations = 0;
}

/* ReduceLROnPlateau.is_better: beats best by the threshold (NaN never does). */
static int gd__is_better(const gd__term *k, double a, double best) {
    if (k->mode == GD__MODE_MIN)
        return k->threshold_mode == GD__REL ? a < best * (1. - k->threshold)   /* a < best (1 - thr) */
                                            : a < best - k->threshold;         /* a < best - thr */
    return k->threshold_mode == GD__REL ? a > best * (k->threshold + 1.)       /* a > best (1 + thr) */
                                        : a > best + k->threshold;             /* a > best + thr */
}

/* ReduceLROnPlateau.step(metrics), with the reduction itself counted rather than applied
 * (gd__plateau_lr applies it to each group's lr). */
int gd_sched_observe(gd_sched *s, double metric) {
    if (s->plateau < 0) return 0;
    const gd__term *k = &s->terms[s->plateau];
    s->observations++;
    if (gd__is_better(k, metric, s->best)) {
        s->best = metric;
        s->num_bad_epochs = 0;
    } else {
        s->num_bad_epochs++;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter--;
        s->num_bad_epochs = 0;                 /* ignore any bad epochs in cooldown */
    }
    if (s->num_bad_epochs > k->patience) {
        s->reductions++;
        s->cooldown_counter = k->cooldown;
        s->num_bad_epochs = 0;
        return 1;
    }
    return 0;
}

/* The state as bytes: a magic, a hash of the plateau term's canonical spec (a state
 * cannot be read into a differently configured plateau), then the counters. */
#define GD__STATE_MAGIC "gdsched1"
#define GD__STATE_SIZE (8 + 8 + 8 + 4 * 8)

static size_t gd__format_term(const gd__term *k, int with_at, char *buf, size_t size);

static uint64_t gd__plateau_hash(const gd_sched *s) {
    char spec[1024];
    gd__format_term(&s->terms[s->plateau], 0, spec, sizeof spec);
    uint64_t h = 14695981039346656037ull;                /* FNV-1a */
    for (const char *p = spec; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h;
}

size_t gd_sched_state_size(const gd_sched *s) { return s->plateau >= 0 ? GD__STATE_SIZE : 0; }

void gd_sched_state_write(const gd_sched *s, void *buf) {
    if (s->plateau < 0) return;
    unsigned char *p = buf;
    uint64_t h = gd__plateau_hash(s);
    int64_t v[4] = {s->num_bad_epochs, s->cooldown_counter, s->reductions, s->observations};
    memcpy(p, GD__STATE_MAGIC, 8);
    memcpy(p + 8, &h, 8);
    memcpy(p + 16, &s->best, 8);
    memcpy(p + 24, v, sizeof v);
}

int gd_sched_state_read(gd_sched *s, const void *buf, size_t size) {
    if (size != gd_sched_state_size(s))
        return gd_seterr("schedule state: %zu bytes, expected %zu", size, gd_sched_state_size(s));
    if (s->plateau < 0) return 0;
    const unsigned char *p = buf;
    uint64_t h;
    int64_t v[4];
    double best;
    memcpy(&h, p + 8, 8);
    memcpy(&best, p + 16, 8);
    memcpy(v, p + 24, sizeof v);
    if (memcmp(p, GD__STATE_MAGIC, 8) != 0) return gd_seterr("schedule state: not a schedule state");
    if (h != gd__plateau_hash(s)) return gd_seterr("schedule state: written by a differently configured plateau");
    for (int i = 0; i < 4; i++)
        if (v[i] < 0) return gd_seterr("schedule state: negative counter");
    s->best = best;
    s->num_bad_epochs = v[0], s->cooldown_counter = v[1], s->reductions = v[2], s->observations = v[3];
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Parsing. */

/* A number: the whole string, finite, in decimal as every option takes it (cli.h's
 * gd_parse_double: no hex, inf, nan or surrounding space). */
static int gd__number(const char *s, double *out) { return gd_parse_double(s, out); }

/* The user's text for a message: all of it up to GD__QUOTE characters, else its start
 * and "..." (a 100,000-character value would push the reason out of the one-line
 * message; gd_seterr escapes control characters). The array lives until the end of
 * the full expression that calls gd__quote (C11 temporary lifetime). */
typedef struct { char s[GD__QUOTE + 4]; } gd__quoted;
static gd__quoted gd__quote(const char *text) {
    gd__quoted q;
    size_t n = strlen(text);
    if (n <= GD__QUOTE) memcpy(q.s, text, n + 1);
    else memcpy(q.s, text, GD__QUOTE), memcpy(q.s + GD__QUOTE, "...", 4);
    return q;
}

/* A whole number (integral, possibly written 1e4), within [lo, GD__MAX_STEP]. */
static int gd__whole(const char *s, double lo, long *out) {
    double v;
    if (gd__number(s, &v) != 0 || v != floor(v) || v < lo || v > GD__MAX_STEP) return -1;
    *out = (long)v;
    return 0;
}

/* "must be >= 1", "must be in (0, 1]" for the key's range. */
static void gd__range_text(const gd__key *key, char *buf, size_t size) {
    if (key->type == GD__K_STEPS || key->type == GD__K_LIST)
        snprintf(buf, size, "a whole number >= %g", key->lo);
    else if (isinf(key->hi))
        snprintf(buf, size, "%s %g", key->lo_open ? ">" : ">=", key->lo);
    else
        snprintf(buf, size, "in %c%g, %g%c", key->lo_open ? '(' : '[', key->lo, key->hi, key->hi_open ? ')' : ']');
}

static int gd__in_range(const gd__key *key, double v) {
    if (key->lo_open ? !(v > key->lo) : !(v >= key->lo)) return 0;
    if (key->hi_open ? !(v < key->hi) : !(v <= key->hi)) return 0;
    return 1;
}

/* Set one key of term k from its text (split in place at '/' for lists and pairs, then
 * restored). where: "term 2 (cosine)" for messages. */
static int gd__set_key(gd__term *k, const gd__key *key, char *val, const char *where) {
    char range[64];
    gd__range_text(key, range, sizeof range);
    void *dst = (char *)k + key->off;
    double v;
    switch (key->type) {
    case GD__K_STEPS:
        if (gd__whole(val, key->lo, (long *)dst) != 0)
            return gd_seterr("%s: %s must be %s, got '%s'", where, key->name, range, gd__quote(val).s);
        return 0;
    case GD__K_NUM:
        if (gd__number(val, &v) != 0 || !gd__in_range(key, v))
            return gd_seterr("%s: %s must be %s, got '%s'", where, key->name, range, gd__quote(val).s);
        *(double *)dst = v;
        return 0;
    case GD__K_FLAG:
        if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
            return gd_seterr("%s: %s must be 0 or 1, got '%s'", where, key->name, gd__quote(val).s);
        *(int *)dst = val[0] == '1';
        return 0;
    case GD__K_ENUM: {
        size_t n = strlen(val);
        int i = 0;
        for (const char *c = key->choices; *c; i++) {
            size_t len = strcspn(c, "|");
            if (len == n && strncmp(c, val, n) == 0) {
                *(int *)dst = i;
                return 0;
            }
            c += len + (c[len] == '|');
        }
        return gd_seterr("%s: %s must be one of %s, got '%s'", where, key->name, key->choices, gd__quote(val).s);
    }
    case GD__K_LIST: {
        char *p = val;
        long prev = -1;
        k->nmilestones = 0;
        for (;;) {
            char *slash = strchr(p, '/');
            long m;
            if (slash) *slash = '\0';
            int bad = gd__whole(p, 0, &m) != 0;
            if (slash) *slash = '/';
            if (bad) return gd_seterr("%s: %s must be whole numbers >= 0 written A/B/..., got '%s'", where,
                                      key->name, gd__quote(val).s);
            if (m < prev)        /* a repeated milestone multiplies by gamma twice, as in PyTorch */
                return gd_seterr("%s: %s must not decrease, got %ld after %ld", where, key->name, m, prev);
            if (k->nmilestones == GD__MAX_MILESTONES)
                return gd_seterr("%s: %s: more than %d", where, key->name, GD__MAX_MILESTONES);
            k->milestones[k->nmilestones++] = prev = m;
            if (!slash) return 0;
            p = slash + 1;
        }
    }
    case GD__K_PAIR: {
        double lo, hi;
        char *slash = strchr(val, '/');
        if (!slash) return gd_seterr("%s: %s must be LO/HI, got '%s'", where, key->name, gd__quote(val).s);
        *slash = '\0';
        int bad = gd__number(val, &lo) != 0 || gd__number(slash + 1, &hi) != 0;
        *slash = '/';
        if (bad) return gd_seterr("%s: %s must be LO/HI, got '%s'", where, key->name, gd__quote(val).s);
        if (!(lo >= 0 && hi < 1 && lo <= hi))
            return gd_seterr("%s: %s must have 0 <= LO <= HI < 1, got '%s'", where, key->name, gd__quote(val).s);
        ((double *)dst)[0] = lo;
        ((double *)dst)[1] = hi;
        return 0;
    }
    }
    return gd_seterr("%s: internal: bad key type", where);
}

/* Defaults, then checks across keys, once a term's keys are read. */
static void gd__set_default(gd__term *k, const gd__key *key) {
    void *dst = (char *)k + key->off;
    switch (key->type) {
    case GD__K_STEPS: *(long *)dst = (long)key->def; break;
    case GD__K_NUM: *(double *)dst = key->def; break;
    case GD__K_ENUM:
    case GD__K_FLAG: *(int *)dst = (int)key->def; break;
    case GD__K_PAIR: break;      /* set by the kind below */
    case GD__K_LIST: break;
    }
}

/* 1 if the key called name was given in the spec. */
static int gd__given(const gd__term *k, const int *given, const char *name) {
    const gd__key *keys = gd__kinds[k->kind].keys;
    for (int i = 0; keys[i].name; i++)
        if (strcmp(keys[i].name, name) == 0) return given[i];
    return 0;
}

static int gd__finish_term(gd__term *k, const int *given, const char *where) {
    const gd__key *keys = gd__kinds[k->kind].keys;
    for (int i = 0; keys[i].name; i++)
        if (keys[i].required && !given[i]) return gd_seterr("%s: %s is required", where, keys[i].name);
    switch (k->kind) {
    case GD__WARMUP: {
        static const double def[] = {0, 0.01, 0.1};   /* start: linear 0, exp 0.01, constant 0.1 */
        if (isnan(k->start)) k->start = def[k->warm_kind];
        if (k->warm_kind != GD__WARM_LINEAR && !(k->start > 0))
            return gd_seterr("%s: start must be in (0, 1] for kind=%s, got %g", where,
                             k->warm_kind == GD__WARM_EXP ? "exp" : "constant", k->start);
        break;
    }
    case GD__CYCLIC:
        if (!gd__given(k, given, "down")) k->down = k->up;   /* step_size_down = step_size_up */
        if (!gd__given(k, given, "momentum")) k->momentum[0] = 0.8, k->momentum[1] = 0.9;
        break;
    case GD__ONECYCLE:
        if (!gd__given(k, given, "momentum")) k->momentum[0] = 0.85, k->momentum[1] = 0.95;
        if (k->three_phase && k->pct > 0.5)
            return gd_seterr("%s: pct must be <= 0.5 with three_phase=1, got %g", where, k->pct);
        break;
    case GD__WSD:
        if (lround(k->decay * (double)k->T) < 1)
            return gd_seterr("%s: decay*T = %g rounds to 0 decay steps", where, k->decay * (double)k->T);
        break;
    case GD__PLATEAU:
        if (k->threshold_mode == GD__REL && !(k->threshold < 1))
            return gd_seterr("%s: threshold must be < 1 with threshold_mode=rel, got %g", where, k->threshold);
        break;
    default: break;
    }
    return 0;
}

/* Trim spaces at both ends, in place. */
static char *gd__trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* The next ':'-separated item of *p (trimmed), or NULL at the end; *p moves past it. */
static char *gd__next_item(char **p) {
    if (!*p) return NULL;
    char *item = *p, *colon = strchr(item, ':');
    if (colon) *colon = '\0';
    *p = colon ? colon + 1 : NULL;
    return gd__trim(item);
}

/* Parse one term (text without the "@STEP:" prefix) into k. */
static int gd__parse_term(gd__term *k, char *text, int index) {
    char where[96];
    char *rest = text, *item = gd__next_item(&rest);
    if (!item || !*item) return gd_seterr("term %d: empty (expected NAME[:KEY=VALUE]...)", index);
    int kind = -1;
    for (int i = 0; i < GD__NKINDS; i++)
        if (strcmp(item, gd__kinds[i].name) == 0) kind = i;
    if (kind < 0) {
        char names[256] = "";
        for (int i = 0; i < GD__NKINDS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", gd__kinds[i].name);
        return gd_seterr("term %d: unknown schedule '%s' (known: %s)", index, gd__quote(item).s, names);
    }
    snprintf(where, sizeof where, "term %d (%s)", index, item);
    k->kind = (gd__kind)kind;
    const gd__key *keys = gd__kinds[kind].keys;
    int given[16] = {0};
    for (int i = 0; keys[i].name; i++) gd__set_default(k, &keys[i]);
    for (int first = 1; (item = gd__next_item(&rest)); first = 0) {
        char *eq = strchr(item, '=');
        char *val = item;
        int i = 0;                                   /* NAME:VALUE is NAME:FIRSTKEY=VALUE */
        if (!*item) return gd_seterr("%s: empty item (two colons, or one at the end)", where);
        if (!eq && !first) return gd_seterr("%s: '%s' is not KEY=VALUE", where, gd__quote(item).s);
        if (eq) {
            *eq = '\0';
            char *name = gd__trim(item);
            val = gd__trim(eq + 1);
            while (keys[i].name && strcmp(keys[i].name, name) != 0) i++;
            if (!keys[i].name) {
                char list[256] = "";
                for (int j = 0; keys[j].name; j++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", keys[j].name);
                return gd_seterr("%s: unknown key '%s' (keys: %s)", where, gd__quote(name).s, list);
            }
        }
        if (given[i]) return gd_seterr("%s: %s given twice", where, keys[i].name);
        if (gd__set_key(k, &keys[i], val, where) != 0) return -1;
        given[i] = 1;
    }
    return gd__finish_term(k, given, where);
}

static void gd__fmt_double(char *buf, size_t size, double v);

/* Which base lr each term of a chain uses: the one PyTorch's SequentialLR gives the
 * scheduler it stands for (tests/ref/sched_ref.py, chain_base_cases, has the evidence).
 * There, schedulers are constructed in the chain's order, and each takes as its base the
 * group's 'initial_lr', which the first one constructed sets to the group's lr, except
 * that OneCycleLR always overwrites it with max_lr / div_factor and CyclicLR first sets
 * the group's lr to its base_lr (our min). SequentialLR then resets the lr to
 * 'initial_lr' and restarts the first scheduler, which the chainable (recursive) ones
 * continue from; CosineAnnealingWarmRestarts reads its own base. So, with B the
 * optimizer's lr:
 *   onecycle and cyclic terms: B (their max_lr), as on their own;
 *   a later term: B / div of the last onecycle before it, else a first cyclic's min,
 *     else B;
 *   the first term: the same, counting every onecycle of the chain (restarts: B).
 * OneCycleLR also keeps div, final_div and its momenta in the group, where the last one
 * constructed overwrites the others' (the first would use the second's): several
 * onecycle terms must therefore agree on them, or the spec is refused. */
static int gd__chain_bases(gd_sched *s) {
    const gd__term *one = NULL, *mom = NULL;           /* the first onecycle (cycling momentum) */
    for (int i = 0; i < s->nterms; i++) {
        const gd__term *k = &s->terms[i];
        if (k->kind != GD__ONECYCLE) continue;
        char a[32], b[32], c[32], d[32];
        if (one && (k->div != one->div || k->final_div != one->final_div)) {
            gd__fmt_double(a, sizeof a, k->div), gd__fmt_double(b, sizeof b, k->final_div);
            gd__fmt_double(c, sizeof c, one->div), gd__fmt_double(d, sizeof d, one->final_div);
            return gd_seterr("term %d (onecycle): div=%s:final_div=%s differ from term %d's div=%s:final_div=%s "
                             "(PyTorch's SequentialLR would give every one-cycle the last one's)",
                             i + 1, a, b, (int)(one - s->terms) + 1, c, d);
        }
        if (mom && k->cycle_momentum && (k->momentum[0] != mom->momentum[0] || k->momentum[1] != mom->momentum[1])) {
            gd__fmt_double(a, sizeof a, k->momentum[0]), gd__fmt_double(b, sizeof b, k->momentum[1]);
            gd__fmt_double(c, sizeof c, mom->momentum[0]), gd__fmt_double(d, sizeof d, mom->momentum[1]);
            return gd_seterr("term %d (onecycle): momentum=%s/%s differs from term %d's momentum=%s/%s "
                             "(PyTorch's SequentialLR would give every one-cycle the last one's)",
                             i + 1, a, b, (int)(mom - s->terms) + 1, c, d);
        }
        if (!one) one = k;
        if (!mom && k->cycle_momentum) mom = k;
    }
    gd__term *first = &s->terms[0];
    int from = first->kind == GD__CYCLIC ? GD__BASE_MIN : GD__BASE_LR;   /* 'initial_lr' so far */
    double val = first->kind == GD__CYCLIC ? first->min : 1;
    for (int i = 0; i < s->nterms; i++) {
        gd__term *k = &s->terms[i];
        k->base_from = GD__BASE_LR, k->base_val = 1;
        if (i > 0 && k->kind != GD__ONECYCLE && k->kind != GD__CYCLIC) k->base_from = from, k->base_val = val;
        if (k->kind == GD__ONECYCLE) from = GD__BASE_DIV, val = k->div;  /* initial_lr = max_lr / div */
    }
    if (first->kind != GD__ONECYCLE && first->kind != GD__CYCLIC && first->kind != GD__RESTARTS)
        first->base_from = from, first->base_val = val;   /* restarted from the final initial_lr */
    return 0;
}

gd_sched *gd_sched_parse(const char *spec) {
    if (!spec) return gd_seterr("schedule: no spec"), NULL;
    size_t len = strlen(spec), commas = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)spec[i];
        if (c < 0x20 || c == 0x7f)       /* a newline would make the error message two lines */
            return gd_seterr("character %zu is a control character (0x%02x): a spec is one line of text",
                             i + 1, c), NULL;
        commas += c == ',';
    }
    if (commas >= GD__MAX_TERMS) return gd_seterr("more than %d terms", GD__MAX_TERMS), NULL;
    int nterms = (int)commas + 1;
    gd_sched *s = calloc(1, sizeof *s);
    char *copy = malloc(len + 1);
    if (s) s->terms = calloc((size_t)nterms, sizeof *s->terms);
    if (!s || !copy || !s->terms) {
        free(copy);
        gd_sched_free(s);
        return gd_seterr("schedule: out of memory"), NULL;
    }
    memcpy(copy, spec, len + 1);
    s->nterms = nterms;
    s->plateau = -1;
    char *rest = copy;
    for (int i = 0; i < nterms; i++) {
        char *comma = strchr(rest, ',');
        if (comma) *comma = '\0';
        char *text = gd__trim(rest);
        rest = comma ? comma + 1 : rest + strlen(rest);
        gd__term *k = &s->terms[i];
        const gd__term *prev = i > 0 ? &s->terms[i - 1] : NULL;
        int has_at = text[0] == '@';
        if (!*text) {
            if (nterms == 1) gd_seterr("empty schedule");
            else gd_seterr("term %d: empty (two commas, or one at an end)", i + 1);
            goto fail;
        }
        if (has_at) {
            char *colon = strchr(text, ':');
            if (colon) *colon = '\0';
            if (gd__whole(gd__trim(text + 1), 0, &k->at) != 0) {
                gd_seterr("term %d: @ must be a step >= 0 followed by ':', got '%s'", i + 1, gd__quote(text).s);
                goto fail;
            }
            text = colon ? colon + 1 : text + strlen(text);
        }
        if (gd__parse_term(k, text, i + 1) != 0) goto fail;
        const char *name = gd__kinds[k->kind].name;
        if (!prev) {
            if (has_at) {          /* even @0: sched.h promises an error */
                gd_seterr("term 1 (%s): the first term starts at step 0 and takes no @ (got @%ld)", name, k->at);
                goto fail;
            }
            k->at = 0;
        } else if (has_at) {
            if (k->at <= prev->at) {
                gd_seterr("term %d (%s): @%ld does not come after the previous term's start %ld", i + 1, name,
                          k->at, prev->at);
                goto fail;
            }
        } else {
            long end = gd__term_end(prev);
            if (end < 0) {
                gd_seterr("term %d (%s) follows '%s', which never ends: give its start as @STEP:%s", i + 1, name,
                          gd__kinds[prev->kind].name, name);
                goto fail;
            }
            k->at = end;
        }
        if ((double)k->at > GD__MAX_STEP) {     /* a sum of lengths: keep every step in a long */
            gd_seterr("term %d (%s) would start at step %ld, after %g", i + 1, name, k->at, GD__MAX_STEP);
            goto fail;
        }
        if (k->kind == GD__PLATEAU) {
            if (s->plateau >= 0) {
                gd_seterr("term %d (plateau): only one plateau term per schedule", i + 1);
                goto fail;
            }
            s->plateau = i;
        }
    }
    free(copy);
    if (gd__chain_bases(s) != 0) {
        gd_sched_free(s);
        return NULL;
    }
    gd__plateau_reset(s);
    return s;
fail:
    free(copy);
    gd_sched_free(s);
    return NULL;
}

void gd_sched_free(gd_sched *s) {
    if (!s) return;
    free(s->terms);
    free(s);
}

/* ---------------------------------------------------------------------------------- */
/* Formatting. */

/* The shortest %g that reads back as the same double. */
static void gd__fmt_double(char *buf, size_t size, double v) {
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* One term's canonical text into buf (cut to size - 1 characters); returns its whole
 * length, as snprintf does. */
static size_t gd__format_term(const gd__term *k, int with_at, char *buf, size_t size) {
    size_t n = 0;
    char none[1];
    if (!size) buf = none;                     /* nothing is written; no arithmetic on NULL */
#define GD__PUT(...) (n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0, __VA_ARGS__))
    if (size) buf[0] = '\0';
    if (with_at) GD__PUT("@%ld:", k->at);
    GD__PUT("%s", gd__kinds[k->kind].name);
    for (const gd__key *key = gd__kinds[k->kind].keys; key->name; key++) {
        const void *src = (const char *)k + key->off;
        char a[32], b[32];
        switch (key->type) {
        case GD__K_STEPS:
            if (k->kind == GD__CONSTANT && k->T == 0) break;    /* constant without T: forever */
            GD__PUT(":%s=%ld", key->name, *(const long *)src);
            break;
        case GD__K_NUM:
            gd__fmt_double(a, sizeof a, *(const double *)src);
            GD__PUT(":%s=%s", key->name, a);
            break;
        case GD__K_FLAG: GD__PUT(":%s=%d", key->name, *(const int *)src); break;
        case GD__K_ENUM: {
            const char *c = key->choices;
            for (int i = *(const int *)src; i > 0; i--) c += strcspn(c, "|") + 1;
            GD__PUT(":%s=%.*s", key->name, (int)strcspn(c, "|"), c);
            break;
        }
        case GD__K_LIST:
            GD__PUT(":%s=", key->name);
            for (int i = 0; i < k->nmilestones; i++) GD__PUT("%s%ld", i ? "/" : "", k->milestones[i]);
            break;
        case GD__K_PAIR:
            gd__fmt_double(a, sizeof a, ((const double *)src)[0]);
            gd__fmt_double(b, sizeof b, ((const double *)src)[1]);
            GD__PUT(":%s=%s/%s", key->name, a, b);
            break;
        }
    }
#undef GD__PUT
    return n;
}

size_t gd_sched_format(const gd_sched *s, char *buf, size_t size) {
    size_t n = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < s->nterms; i++) {
        if (i) {
            if (n + 1 < size) buf[n] = ',', buf[n + 1] = '\0';
            n++;
        }
        n += gd__format_term(&s->terms[i], i > 0, n < size ? buf + n : NULL, n < size ? size - n : 0);
    }
    return n;
}

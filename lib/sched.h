/* sched.h -- learning-rate schedules: closed-form functions of the step, a textual spec
 * that every program accepts, and reduce-on-plateau, the one schedule driven by a metric.
 *
 * A schedule maps (step t, base lr) to the lr used for update t. "step" is whatever the
 * caller counts (usually optimizer updates; Chapter 4 also steps per epoch); t = 0 is the
 * first update, and gd_sched_lr(s, t, base) equals PyTorch's lr after t calls of
 * scheduler.step(). Pure: the same (t, base) always gives the same lr, so any step can
 * be evaluated, printed or resumed without replaying the past (plateau excepted).
 * Steps t < 0 count as 0. Everything is computed in double.
 *
 *   gd_sched *s = gd_sched_parse("warmup:500,cosine:T=9500:min=1e-5");
 *   if (!s) { fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error()); return 2; }
 *   double lr = gd_sched_lr(s, t, 0.1);
 *   gd_sched_apply(s, t, opt);          // every group: lr from its initial lr (+ momentum)
 *   gd_sched_free(s);
 *
 * build/bin/lrsched prints any spec as a table `step lr [momentum]`.
 *
 * THE SPEC. Terms separated by commas run one after another:
 *     SPEC := TERM ("," TERM)*
 *     TERM := ["@" STEP ":"] NAME [":" VALUE] (":" KEY "=" VALUE)*
 * Within a term, t counts from the term's start. The first term starts at step 0; each
 * later one where the previous one ends (its start + its T), or at the absolute step
 * "@STEP", which must come after the previous term's start: the previous term is cut
 * short there, or holds its final value until then. Terms marked "forever" below have
 * no end, so a term after one of them needs "@". The last term runs forever (cosine
 * holds min, warmup holds base, ...). A bare VALUE right after NAME is the first key
 * listed for NAME (warmup:500 = warmup:T=500, step:30, exp:0.95, plateau:max).
 * Values: numbers in decimal, as options take them (gd_parse_double in cli.h: no hex,
 * inf or nan; steps are whole numbers, 1e4 is fine); lists use "/"; LO/HI pairs too;
 * flags are 0 or 1. Spaces around items are ignored; control characters (a newline,
 * a tab) anywhere are refused. Lr values (min=, min_lr=) are absolute; "base" is the
 * optimizer's lr (each group's initial lr).
 *
 *   NAME      KEYS (default) [range]                    lr(t)                    length
 *   constant  factor (1) [0,1], T (none)                base factor              T or forever
 *             (PyTorch's ConstantLR(factor=F, total_iters=N) is constant:factor=F:T=N,constant)
 *   warmup    T, kind (linear|exp|constant),            u = min(t,T)/T:          T
 *             start (0 | 0.01 | 0.1 by kind) [0,1]      linear base (S + (1-S) u) (Goyal et al.
 *                                                       2017), exp base S^(1-u), constant base S
 *                                                       for t < T (He et al. 2016)
 *   step      size, gamma (0.1) (0,1]                   base gamma^floor(t/size) forever (StepLR)
 *   multistep milestones A/B/.. (non-decreasing,        base gamma^#{m <= t}     forever
 *             a repeat counts twice), gamma (0.1) (0,1]                          (MultiStepLR)
 *   exp       gamma (0,inf) (> 1 grows: range tests),   base gamma^floor(t/every) forever
 *             every (1): staircase                                               (ExponentialLR)
 *   linear    T, start (1) [0,1], end (0) [0,1]         base (start + (end-start) min(t,T)/T)
 *                                                                                T (LinearLR)
 *   poly      T, power (1) (0,inf), min (0)             min + (base-min)(1 - min(t,T)/T)^power
 *                                                                                T (PolynomialLR)
 *   cosine    T, min (0)                                min + (base-min)(1 + cos(pi t/T))/2, and
 *                                                       min for t >= T           T
 *             (CosineAnnealingLR. Ours HOLDS min after T; PyTorch's rises again, period 2T.)
 *   restarts  T0, mult (1) whole >= 1, min (0)          cosine over periods T0, T0 mult, ...
 *                                                       (CosineAnnealingWarmRestarts) forever
 *   cyclic    min, up, down (up), mode (triangular|     between min and base (CyclicLR with
 *             triangular2|exp_range), gamma (1) (0,1],  base_lr = min, max_lr = base) forever
 *             momentum (0.8/0.9), cycle_momentum (1)    momentum cycles HI..LO inversely
 *   onecycle  T, pct (0.3) (0,1), anneal (cos|linear),  OneCycleLR with max_lr = base:
 *             div (25) >= 1, final_div (1e4) >= 1,      base/div -> base -> base/div/final_div;
 *             three_phase (0) (needs pct <= 0.5),       holds the final value from T-1 on
 *             momentum (0.85/0.95), cycle_momentum (1)  momentum HI -> LO -> HI  T
 *   wsd       T, decay (0.2) (0,1], shape (linear|      stable base for T-D steps, D =
 *             cosine|sqrt), min (0)                     round(decay T), then down to min at T
 *                                                       (1-sqrt: Hagele et al. 2024)  T
 *             (warmup-stable-decay's stable and decay phases: put a warmup term in front)
 *   invsqrt   T0 (1)                                    base sqrt(T0/(T0 + t))   forever
 *             (after warmup:T=W, invsqrt:T0=W is Vaswani et al. 2017: base min(t/W, sqrt(W/t)))
 *   plateau   mode (min|max), factor (0.1) (0,1),       base reduced by the metric forever
 *             patience (10), threshold (1e-4) >= 0 (< 1 if rel), threshold_mode (rel|abs),
 *             cooldown (0), min_lr (0), eps (1e-8)      (ReduceLROnPlateau; at most one per spec)
 * Ranges not given: T, T0, size, up, down, every >= 1; patience, cooldown, milestones,
 * min, min_lr, eps >= 0; momentum 0 <= LO <= HI < 1. Keys are spelled as here (T, not
 * T_max); PyTorch's names are in parentheses where they differ.
 *
 * Examples: "warmup:T=500,cosine:T=9500:min=1e-5"; "step:size=30:gamma=0.1";
 * "constant:T=8000,@8000:linear:T=2000:end=0"; "warmup:T=100,plateau:patience=5";
 * "multistep:milestones=30/60/90"; "onecycle:T=5000:three_phase=1:anneal=linear".
 *
 * Anything malformed or out of range fails with one line naming the term and the key,
 * e.g. "term 2 (cosine): T must be a whole number >= 1, got '0'": unknown names or keys
 * (the message lists the known ones), missing required keys, keys given twice, values
 * that are not finite numbers or whole where steps are expected, values out of range,
 * empty terms or items, a term after one that never ends without "@", "@" steps that
 * are negative or do not come after the previous term's start, "@" on the first term,
 * a second plateau, a term starting after step 1e15, more than 10000 terms. Messages
 * quote at most 60 characters of the offending text.
 *
 * Where we deliberately differ from PyTorch (torch 1.13; tests/lib/test_sched.c holds
 * both): cosine holds min past T (PyTorch's recursive form rises again); onecycle holds
 * its final lr and momentum past T - 1 (PyTorch extrapolates its last phase at step T,
 * where linear annealing goes below 0, and raises after); a onecycle phase of zero
 * length gives its end value (PyTorch divides by zero); restarts finds the period in
 * exact integers (PyTorch's step(epoch) uses a floating log); default values of
 * constant and linear are ours (PyTorch's ConstantLR/LinearLR default to 1/3, 5 steps);
 * CyclicLR and OneCycleLR take max_lr from the optimizer's lr; plateau is a term that
 * chains with others.
 *
 * CHAINS behave as PyTorch's SequentialLR with the schedulers constructed in the chain's
 * order (torch 1.13.1; tests/ref/sched/seq_*.tsv, agreeing to 1e-6 relative). That
 * includes which base lr each term scales. With B the optimizer's lr (each group's
 * initial lr; gd_sched_lr's base_lr):
 *   - onecycle and cyclic terms: B, their max_lr, as on their own;
 *   - every other term after the first: B / div of the last onecycle term before it
 *     (OneCycleLR overwrites the group's initial_lr, every later scheduler's base, with
 *     max_lr / div_factor); with none before it, a first term's min if that is cyclic
 *     (CyclicLR sets the lr to its base_lr before initial_lr is taken); else B;
 *   - the first term (not onecycle or cyclic): B / div of the LAST onecycle term of the
 *     chain, else B (SequentialLR resets the lr to initial_lr and restarts the first
 *     scheduler from it), except restarts, which keeps B (CosineAnnealingWarmRestarts
 *     reads its own base_lrs).
 * So "onecycle:T=50,@50:step:size=1000" at B = 0.1 gives 0.1/25 = 0.004 from step 50,
 * and "warmup:T=100,onecycle:T=900" warms up to B/25, where the one-cycle starts.
 * A chain with no onecycle term and no cyclic first term uses B throughout. The kinds
 * PyTorch has no class for (warmup from 0 or kind=exp, wsd with shape=sqrt, invsqrt)
 * follow the rule like the others; written as a LambdaLR, which reads its own base_lrs,
 * one of them as the first term before a onecycle would keep B in PyTorch (a choice:
 * ours warms up to where the one-cycle starts). Several onecycle terms must have the
 * same div and final_div, and those that cycle momentum the same momentum (refused
 * otherwise: OneCycleLR keeps them in the group, so PyTorch would run every one-cycle
 * with the last one's).
 * Momentum is set only while a term cycles it and otherwise left to the optimizer
 * (gd_sched_momentum); PyTorch's OneCycleLR and CyclicLR also set it at construction,
 * so there the terms before them run with their starting momentum.
 */
#ifndef GD_SCHED_H
#define GD_SCHED_H

#include <stddef.h>
#include "optim.h"

typedef struct gd_sched gd_sched;

/* NULL with a one-line reason in gd_error() if the spec is malformed or out of range. */
gd_sched *gd_sched_parse(const char *spec);
void gd_sched_free(gd_sched *s);
/* The canonical spec, for headers and checkpoints: every key spelled out (defaults too)
 * and every term after the first with its "@STEP"; parsing it gives the same schedule.
 * Returns its length, as snprintf does: cut to size - 1 characters when that is >= size
 * (1024 is ample for a few terms; gd_sched_format(s, NULL, 0) + 1 is always enough). */
size_t gd_sched_format(const gd_sched *s, char *buf, size_t size);

/* The lr for step t given the base lr (t < 0 counts as 0). */
double gd_sched_lr(const gd_sched *s, long t, double base_lr);
/* 1 and *momentum set if the term running at step t cycles momentum (cyclic, onecycle
 * with cycle_momentum=1); 0 and *momentum untouched otherwise. */
int gd_sched_momentum(const gd_sched *s, long t, double *momentum);
/* Set every group's lr to gd_sched_lr(s, t, its initial lr), and momentum (Adam's beta1)
 * if cycled at t; otherwise momentum is left as it is. */
void gd_sched_apply(const gd_sched *s, long t, gd_optim *o);

/* Reduce-on-plateau: 1 if the spec contains a plateau term. Feed it the monitored metric
 * once per evaluation (as PyTorch's scheduler.step(metric)); it counts the reductions
 * that the plateau term applies. PyTorch's semantics: an improvement beats best by the
 * threshold (rel: best (1 -+ threshold), abs: best -+ threshold; NaN never does); after
 * more than `patience` evaluations without one the lr becomes max(lr factor, min_lr),
 * unless that changes it by eps or less (then it stays, for good); then `cooldown`
 * evaluations are ignored. min_lr and eps act on each group's own lr. Observations
 * count whenever they are made, also while an earlier term (a warmup) is running.
 * Returns 1 when this observation triggered a reduction (a group already at min_lr
 * keeps its lr), 0 otherwise or if there is no plateau term. */
int gd_sched_has_plateau(const gd_sched *s);
int gd_sched_observe(gd_sched *s, double metric);

/* The plateau state, for checkpoints: write/read size bytes (0 without a plateau term).
 * read fails (-1) on the wrong size or a state written by a differently configured
 * plateau term. */
size_t gd_sched_state_size(const gd_sched *s);
void gd_sched_state_write(const gd_sched *s, void *buf);
int gd_sched_state_read(gd_sched *s, const void *buf, size_t size);

#endif

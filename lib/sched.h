/* sched.h -- learning-rate schedules: closed-form functions of the step, a textual spec
 * that every program accepts, and reduce-on-plateau, the one schedule driven by a metric.
 *
 * A schedule maps (step t, base lr) to the lr used for update t. "step" is whatever the
 * caller counts (usually optimizer updates; Chapter 4 also steps per epoch); t = 0 is the
 * first update, and gd_sched_lr(s, t, base) equals PyTorch's lr after t calls of
 * scheduler.step(). Pure: the same (t, base) always gives the same lr, so any step can
 * be evaluated, printed or resumed without replaying the past (plateau excepted).
 *
 *   gd_sched *s = gd_sched_parse("warmup:500,cosine:T=9500:min=1e-5");
 *   if (!s) { fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error()); return 2; }
 *   double lr = gd_sched_lr(s, t, 0.1);
 *   gd_sched_apply(s, t, opt);          // every group: lr from its initial lr (+ momentum)
 *   gd_sched_free(s);
 *
 * THE SPEC. Terms separated by commas run one after another:
 *     SPEC := TERM ("," TERM)*
 *     TERM := ["@" STEP ":"] NAME (":" KEY "=" VALUE)*
 * A term starts where the previous one ends (previous start + its length T), or at the
 * absolute step given by "@STEP"; within a term, t counts from its start. The last term
 * runs forever. Values: numbers; lists use "/" (milestones=30/60/90). Lr values such as
 * min= are absolute; "base" is the optimizer's lr (each group's initial lr).
 *
 *   constant[:factor=1][:T=..]       base * factor (PyTorch ConstantLR: factor until T, then base
 *                                    is `constant:factor=F:T=N,constant`)
 *   warmup:T=N[:kind=linear|exp|constant][:start=S]
 *                                    ramp to base over N steps: linear base*(S + (1-S) t/N),
 *                                    S default 0 (HF's warmup); exp base*S^(1-t/N), S default
 *                                    0.01; constant base*S, S default 0.1 (He et al. 2016)
 *   step:size=N[:gamma=0.1]          base * gamma^floor(t/N)                         (StepLR)
 *   multistep:milestones=A/B/..[:gamma=0.1]  base * gamma^(#milestones <= t)   (MultiStepLR)
 *   exp:gamma=G[:every=N]            base * gamma^t, or gamma^floor(t/N) (staircase)   (ExponentialLR)
 *   linear:T=N[:start=1][:end=0]     base * (start + (end-start) min(t,N)/N)       (LinearLR)
 *   poly:T=N[:power=1][:min=0]       min + (base-min) (1 - min(t,N)/N)^power     (PolynomialLR)
 *   cosine:T=N[:min=0]               min + (base-min)(1 + cos(pi min(t,N)/N))/2; HOLDS min
 *                                    after N, where PyTorch's CosineAnnealingLR rises again
 *   restarts:T0=N[:mult=1][:min=0]   cosine restarted at T0, T0(1+mult), ...
 *                                    (CosineAnnealingWarmRestarts, T_mult = mult)
 *   cyclic:base=B:up=N[:down=N][:mode=triangular|triangular2|exp_range][:gamma=1]
 *          [:momentum=LO/HI]         between B and the optimizer's lr (CyclicLR, max_lr = base);
 *                                    momentum cycles HI..LO inversely (default 0.8/0.9)
 *   onecycle:T=N[:pct=0.3][:anneal=cos|linear][:div=25][:final_div=1e4][:three_phase=0]
 *          [:momentum=LO/HI]         (OneCycleLR, max_lr = base; momentum default 0.85/0.95)
 *   wsd:T=N[:decay=0.2][:shape=linear|cosine|sqrt][:min=0]
 *                                    warmup-stable-decay's stable and decay phases: base for
 *                                    (1-decay)N steps, then down to min (1-sqrt: Hagele et al.
 *                                    2024); put a warmup term in front for the warmup
 *   invsqrt[:T0=1]                   base * sqrt(T0 / max(t, T0)) (Vaswani et al. 2017)
 *   plateau[:mode=min|max][:factor=0.1][:patience=10][:threshold=1e-4]
 *          [:threshold_mode=rel|abs][:cooldown=0][:min_lr=0][:eps=1e-8]
 *                                    ReduceLROnPlateau: multiplies the lr by factor when the
 *                                    metric given to gd_sched_observe stops improving
 *
 * Examples: "warmup:T=500,cosine:T=9500:min=1e-5"; "step:size=30:gamma=0.1";
 * "constant:T=8000,@8000:linear:T=2000:end=0"; "warmup:T=100,plateau:patience=5".
 * (warmup:500 is short for warmup:T=500.) Anything malformed or out of range fails with
 * one line naming the term and the key: unknown names or keys, missing T, T <= 0,
 * negative steps, gamma or factor outside (0, 1], a term after one that never ends
 * without "@", "@" steps that go backwards, ...
 */
#ifndef GD_SCHED_H
#define GD_SCHED_H

#include <stddef.h>
#include "optim.h"

typedef struct gd_sched gd_sched;

/* NULL with a one-line reason in gd_error() if the spec is malformed or out of range. */
gd_sched *gd_sched_parse(const char *spec);
void gd_sched_free(gd_sched *s);
/* The canonical spec (every key spelled out), for headers and checkpoints; parsing it
 * gives the same schedule. */
void gd_sched_format(const gd_sched *s, char *buf, size_t size);

/* The lr for step t >= 0 given the base lr. */
double gd_sched_lr(const gd_sched *s, long t, double base_lr);
/* 1 and *momentum set if the schedule cycles momentum at step t (cyclic, onecycle). */
int gd_sched_momentum(const gd_sched *s, long t, double *momentum);
/* Set every group's lr to gd_sched_lr(s, t, its initial lr), and momentum if cycled. */
void gd_sched_apply(const gd_sched *s, long t, gd_optim *o);

/* Reduce-on-plateau: 1 if the spec contains a plateau term. Feed it the monitored metric
 * once per evaluation; it updates the factor that plateau terms apply (PyTorch's
 * semantics: an improvement beats best by the threshold; after `patience` evaluations
 * without one the lr is multiplied by factor, unless the change would be smaller than
 * eps or go below min_lr; then `cooldown` evaluations are ignored). Returns 1 when this
 * observation reduced the lr. */
int gd_sched_has_plateau(const gd_sched *s);
int gd_sched_observe(gd_sched *s, double metric);

/* The plateau state, for checkpoints: write/read size bytes. */
size_t gd_sched_state_size(const gd_sched *s);
void gd_sched_state_write(const gd_sched *s, void *buf);
int gd_sched_state_read(gd_sched *s, const void *buf, size_t size);

#endif

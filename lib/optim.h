/* optim.h -- optimizers with PyTorch's names, defaults and update equations.
 *
 * SGD (momentum, dampening, nesterov, weight_decay), Adam (amsgrad, coupled
 * weight_decay), AdamW (decoupled weight decay), RMSprop (alpha, eps, centered,
 * momentum), Adagrad (lr_decay, initial_accumulator_value, eps), NAdam (Adam with
 * Nesterov momentum, momentum_decay), RAdam (Adam whose rectification term is a warmup
 * built into the optimizer, Liu et al. 2020), Adamax (Adam with an infinity norm) and
 * Adadelta (rho, no lr needed in principle: lr 1 by default); all but NAdam and RAdam
 * take maximize (ascend the objective: the gradient is negated), as in torch 1.13,
 * whose NAdam and RAdam lack it. Each update rule is
 * written out in optim.c at the line that performs it, with the PyTorch doc page it
 * follows. Parameters live in groups, each with its own hyperparameters (no weight
 * decay on biases, a smaller lr for one layer, ...), as in torch.optim.
 *
 *   gd_hparams hp = gd_optim_defaults(GD_ADAMW);      // lr 1e-3, betas (0.9, 0.999), ...
 *   hp.lr = 3e-4;
 *   gd_optim *opt = gd_optim_new(GD_ADAMW, &hp);
 *   gd_optim_add_group(opt, weights, nweights, NULL);   // the optimizer's hyperparameters
 *   gd_hparams nodecay = hp; nodecay.weight_decay = 0;
 *   gd_optim_add_group(opt, biases, nbiases, &nodecay);
 *   for (long t = 0; t < steps; t++) {
 *       gd_optim_zero_grad(opt);
 *       ... forward, backward ...
 *       gd_sched_apply(sched, t, opt);   // each group's lr (and momentum) for step t
 *       gd_optim_step(opt);
 *   }
 *   gd_optim_free(opt);
 *
 * Or from text, as every program's --optim option takes it:
 *   "sgd:lr=0.1:momentum=0.9:nesterov=1:weight_decay=5e-4", "adam:lr=1e-3:betas=0.9/0.98",
 *   "adamw:lr=3e-4:weight_decay=0.1", "rmsprop:lr=1e-2:alpha=0.99:centered=1",
 *   "adagrad:lr=1e-2:lr_decay=0:initial_accumulator_value=0.1",
 *   "nadam:lr=2e-3:momentum_decay=4e-3", "radam:lr=1e-3:betas=0.9/0.999",
 *   "adamax:lr=2e-3:maximize=1", "adadelta:lr=1:rho=0.9:eps=1e-6"
 * (grammar and defaults in gd_optim_parse below).
 *
 * State (momentum buffers, moments, step counts) belongs to the optimizer and can be
 * written to and read from a byte buffer exactly (bitwise), for checkpoints.
 * The optimizer does not own the parameters; it must not outlive them.
 *
 * The updates are those of PyTorch's single-tensor code, operation for operation in
 * float32, with a fused multiply-add where torch's AVX2 kernels fuse one: on the test
 * problem they equal torch's bit for bit (tests/lib/test_optim.c, tests/ref/optim_ref.py).
 */
#ifndef GD_OPTIM_H
#define GD_OPTIM_H

#include <stddef.h>
#include "tensor.h"

/* Plain gradient descent, torch.optim.SGD with its defaults (no momentum, no weight
 * decay): w = w - lr * grad. The one-line optimizer of Chapters 1 and 2. */
void gd_sgd_step(gd_param *params, int nparams, float lr);

/* Checkpoints store the kind as this number: new kinds are appended, never renumbered. */
typedef enum {
    GD_SGD, GD_ADAM, GD_ADAMW, GD_RMSPROP, GD_ADAGRAD,   /* 0 .. 4 */
    GD_NADAM, GD_RADAM, GD_ADAMAX, GD_ADADELTA           /* 5 .. 8 */
} gd_optim_kind;
#define GD_OPTIM_NKINDS 9   /* kinds are 0 .. GD_OPTIM_NKINDS - 1 */

/* Every optimizer's hyperparameters, under PyTorch's names; each kind reads its own. */
typedef struct gd_hparams {
    double lr;
    double weight_decay;                  /* all kinds; decoupled for AdamW */
    double momentum, dampening;           /* SGD; RMSprop uses momentum */
    int nesterov;                         /* SGD */
    double beta1, beta2;                  /* Adam, AdamW, NAdam, RAdam, Adamax: betas = (beta1, beta2) */
    int amsgrad;                          /* Adam, AdamW */
    double eps;                           /* every kind but SGD */
    double alpha;                         /* RMSprop: smoothing constant */
    int centered;                         /* RMSprop */
    double lr_decay;                      /* Adagrad */
    double initial_accumulator_value;     /* Adagrad */
    double momentum_decay;                /* NAdam: psi of its momentum schedule */
    double rho;                           /* Adadelta: smoothing constant */
    int maximize;                         /* every kind but NAdam and RAdam (torch 1.13's set) */
} gd_hparams;

/* PyTorch's defaults for kind (torch 1.13's constructors; tests/ref/optim/defaults.tsv
 * reads them from the installed torch and the tests compare):
 *   SGD      lr 1e-3 (PyTorch 2.x; 1.13 had no default), momentum 0, dampening 0,
 *            nesterov 0, weight_decay 0, maximize 0
 *   Adam     lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad 0, maximize 0
 *   AdamW    lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, amsgrad 0, maximize 0
 *   RMSprop  lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered 0, maximize 0
 *   Adagrad  lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10,
 *            maximize 0
 *   NAdam    lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, momentum_decay 4e-3
 *   RAdam    lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0
 *   Adamax   lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, maximize 0
 *   Adadelta lr 1.0, rho 0.9, eps 1e-6, weight_decay 0, maximize 0 */
gd_hparams gd_optim_defaults(gd_optim_kind kind);
const char *gd_optim_name(gd_optim_kind kind);   /* "sgd", "adam", ... */

/* Parse "NAME[:KEY=VALUE]..." into kind and hp (the kind's defaults, then the keys).
 * NAME is sgd, adam, adamw, rmsprop, adagrad, nadam, radam, adamax or adadelta.
 * Keys are the gd_hparams field names; betas=B1/B2 sets both betas; flags (nesterov,
 * amsgrad, centered, maximize) take 0 or 1.
 * Rejects (-1, one-line reason naming the key; kind and hp untouched) unknown names and
 * keys, keys the kind does not use (maximize for nadam and radam: torch 1.13 has none),
 * keys given twice, values that are not finite numbers in decimal (gd_parse_double in
 * cli.h: no hex, inf, nan or spaces; any length), and values out of range
 * (lr <= 0, momentum, betas or alpha outside [0, 1), dampening or rho outside [0, 1],
 * eps <= 0, weight_decay, lr_decay, initial_accumulator_value or momentum_decay < 0,
 * nesterov without momentum or with dampening). Messages quote at most 60 characters
 * of the offending text. */
int gd_optim_parse(const char *spec, gd_optim_kind *kind, gd_hparams *hp);
/* The canonical spec of kind + hp, for table headers: every key the kind uses, in the
 * order of its torch.optim constructor, except maximize, which appears only when it is
 * 1 (so the canonical specs written before it existed stay as they were). */
void gd_optim_format(char *buf, size_t size, gd_optim_kind kind, const gd_hparams *hp);

typedef struct gd_optim gd_optim;

/* hp NULL: the kind's defaults. NULL (reason in gd_error) on invalid hyperparameters
 * (the ranges of gd_optim_parse). */
gd_optim *gd_optim_new(gd_optim_kind kind, const gd_hparams *hp);
void gd_optim_free(gd_optim *o);
/* Add a group of parameters with their own hyperparameters (NULL: the optimizer's).
 * Returns the group's index, or -1 (invalid hyperparameters, no parameters, or a
 * parameter already in a group, as torch.optim refuses). The gd_param array is copied.
 * Adagrad's accumulators start at the group's initial_accumulator_value (torch 1.13
 * uses the constructor's value for every group). */
int gd_optim_add_group(gd_optim *o, gd_param *params, int nparams, const gd_hparams *hp);
int gd_optim_ngroups(const gd_optim *o);
gd_hparams *gd_optim_group(gd_optim *o, int g);   /* change a group's hyperparameters; NULL if no group g */

/* One update of every parameter from its .grad, by the kind's rule. */
void gd_optim_step(gd_optim *o);
/* grad = 0 for every parameter of every group. */
void gd_optim_zero_grad(gd_optim *o);

/* Learning-rate scheduling. Each group remembers the lr it was added with (PyTorch's
 * initial_lr); a schedule computes each group's lr from it (gd_sched_apply in sched.h
 * does this for every group). set_momentum sets SGD/RMSprop momentum or beta1 (Adam,
 * AdamW, NAdam, RAdam, Adamax: as torch's OneCycleLR sets betas[0]), for schedules
 * that cycle momentum; Adagrad and Adadelta have neither (no effect; torch's schedulers
 * refuse cycle_momentum for them). NAdam's momentum schedule mu_t = beta1 (1 - 0.96^(t
 * psi)/2) then uses the new beta1 from the next update on. g < 0 means every
 * group for the setters, the first group for the getters. set_lr takes any lr >= 0
 * (schedules reach 0). */
double gd_optim_initial_lr(const gd_optim *o, int g);
double gd_optim_lr(const gd_optim *o, int g);
void gd_optim_set_lr(gd_optim *o, int g, double lr);
void gd_optim_set_momentum(gd_optim *o, int g, double momentum);
long gd_optim_steps(const gd_optim *o);           /* updates made so far */

/* Exact state, for checkpoints: every buffer, the step counts and each group's
 * hyperparameters (and initial lr), as bytes in the machine's byte order. size is
 * gd_optim_state_size(o). read fails (-1, one-line reason; the optimizer unchanged) if
 * the bytes do not fit this optimizer (kind, groups, parameter shapes, size), and
 * refuses states written before NAdam, RAdam, Adamax, Adadelta and maximize existed
 * (format version 1: fewer hyperparameters; the reason says so). */
size_t gd_optim_state_size(const gd_optim *o);
void gd_optim_state_write(const gd_optim *o, void *buf);
int gd_optim_state_read(gd_optim *o, const void *buf, size_t size);

#endif

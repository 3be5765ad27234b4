/* optim.h -- optimizers with PyTorch's names, defaults and update equations.
 *
 * SGD (momentum, dampening, nesterov, weight_decay), Adam (amsgrad, coupled
 * weight_decay), AdamW (decoupled weight decay), RMSprop (alpha, eps, centered,
 * momentum) and Adagrad (lr_decay, initial_accumulator_value, eps). Each update rule is
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
 *   "adagrad:lr=1e-2:lr_decay=0:initial_accumulator_value=0.1"
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

typedef enum { GD_SGD, GD_ADAM, GD_ADAMW, GD_RMSPROP, GD_ADAGRAD } gd_optim_kind;

/* Every optimizer's hyperparameters, under PyTorch's names; each kind reads its own. */
typedef struct gd_hparams {
    double lr;
    double weight_decay;                  /* all kinds; decoupled for AdamW */
    double momentum, dampening;           /* SGD; RMSprop uses momentum */
    int nesterov;                         /* SGD */
    double beta1, beta2;                  /* Adam, AdamW: betas = (beta1, beta2) */
    int amsgrad;                          /* Adam, AdamW */
    double eps;                           /* Adam, AdamW, RMSprop, Adagrad */
    double alpha;                         /* RMSprop: smoothing constant */
    int centered;                         /* RMSprop */
    double lr_decay;                      /* Adagrad */
    double initial_accumulator_value;     /* Adagrad */
} gd_hparams;

/* PyTorch's defaults for kind (torch 1.13 / 2.x docs):
 *   SGD     lr 1e-3 (PyTorch 2.x; 1.13 had no default), momentum 0, dampening 0,
 *           nesterov 0, weight_decay 0
 *   Adam    lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad 0
 *   AdamW   lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, amsgrad 0
 *   RMSprop lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, centered 0
 *   Adagrad lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10 */
gd_hparams gd_optim_defaults(gd_optim_kind kind);
const char *gd_optim_name(gd_optim_kind kind);   /* "sgd", "adam", ... */

/* Parse "NAME[:KEY=VALUE]..." into kind and hp (the kind's defaults, then the keys).
 * Keys are the gd_hparams field names; betas=B1/B2 sets both betas; flags take 0 or 1.
 * Rejects (-1, one-line reason naming the key; kind and hp untouched) unknown names and
 * keys, keys the kind does not use, keys given twice, values that are not finite
 * numbers, and values out of range (lr <= 0, momentum, betas or alpha outside [0, 1),
 * dampening outside [0, 1], eps <= 0, weight_decay, lr_decay or
 * initial_accumulator_value < 0, nesterov without momentum or with dampening). */
int gd_optim_parse(const char *spec, gd_optim_kind *kind, gd_hparams *hp);
/* The canonical spec of kind + hp (every key the kind uses), for table headers. */
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
 * does this for every group). set_momentum sets SGD/RMSprop momentum or Adam's beta1,
 * for schedules that cycle momentum (Adagrad has none: no effect). g < 0 means every
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
 * the bytes do not fit this optimizer (kind, groups, parameter shapes, size). */
size_t gd_optim_state_size(const gd_optim *o);
void gd_optim_state_write(const gd_optim *o, void *buf);
int gd_optim_state_read(gd_optim *o, const void *buf, size_t size);

#endif

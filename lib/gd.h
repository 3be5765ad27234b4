/* gd.h -- the book's library in one include.
 *
 * `gd` is for gradient descent. Every public symbol starts with gd_ (macros GD_),
 * private helpers with gd__. Names are module then verb: gd_tensor_new,
 * gd_linear_forward, gd_sgd_step, gd_table_open.
 *
 * Error convention (the same in every module): a function that can fail on its input
 * returns -1 (or NULL) and leaves a one-line reason in gd_error(); it never exits and
 * never prints. Programs decide how to report: one line on stderr naming the option or
 * file and what is wrong, and a non-zero exit status (2 for usage errors).
 *
 * Ownership: whoever calls _new/_init calls the matching _free. Buffers passed as
 * `const float *` are only read; `float *` outputs are written (or, for gradients,
 * accumulated with +=, never overwritten).
 */
#ifndef GD_H
#define GD_H

#include "err.h"
#include "rng.h"
#include "tensor.h"
#include "layers.h"
#include "conv.h"
#include "lenet.h"
#include "gradcheck.h"
#include "model.h"
#include "optim.h"
#include "sched.h"
#include "data.h"
#include "synth.h"
#include "out.h"
#include "cli.h"
#include "train.h"
#include "ckpt.h"
#include "sweep.h"
#include "monitor.h"
#include "stats.h"
#include "trainopt.h"
#include "gpt.h"
#include "text.h"

#endif

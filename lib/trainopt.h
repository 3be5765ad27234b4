/* trainopt.h -- the options every training program shares, checked in one place.
 *
 * Every program that trains a classifier on Fashion-MNIST takes the same handful of
 * options: the model (--model: the MLP of --dims, or LeNet), the optimizer and schedule specs (--optim, --sched: optim.h,
 * sched.h), the minibatch size, the data directory, and its seeds (--seed, the first;
 * --seeds, how many). This module declares them once and checks them before anything
 * slow happens, so each program's main() lists only what is its own:
 *
 *   gd_train_opts to = gd_train_opts_defaults();   // 784-128-10, sgd:lr=0.1, batch 128
 *   to.optim = "adam:lr=0.05";                      // a program's own defaults first
 *   gd_opt opts[] = {GD_TRAIN_OPTS_MODEL(&to), GD_TRAIN_OPTS_SEEDS(&to),
 *                    GD_OPT_STRING("out", &out, "..."), GD_OPT_END};
 *   int rc = gd_cli_parse(argc, argv, "What this program does.", opts);
 *   if (rc) return rc == GD_CLI_HELP ? 0 : 2;
 *   gd_train_cfg cfg = gd_train_defaults();
 *   if (gd_train_opts_apply(&to, &cfg, 1) != 0) return 2;      // "prog: --dims: ..."
 *   gd_images train, test;
 *   if (gd_train_opts_load(&to, &train, &test) != 0) return 2; // "prog: <file>: ..."
 *   if (gd_train_opts_require(to.data, &train, n, "the training set", "--train-size") != 0) return 2;
 *   for (long s = 0; s < to.seeds; s++) { cfg.seed = to.seed + s; ... }
 *
 * Seeds: a run's seed is to.seed + k for its k-th repetition; `make SEED=n` shifts the
 * first seed of every chapter program (Makefile). The seed of every run is printed in
 * its table.
 * Errors: gd_train_opts_apply and _load print one line naming the option or file on
 * stderr and return -1; they never exit themselves. The caller exits 2 for either: a bad
 * option and a missing, damaged or too small data directory are both what the user gave
 * (the book's convention: 0 success, 2 the user's input is wrong, 1 a failure while
 * running, such as an output that cannot be written).
 */
#ifndef GD_TRAINOPT_H
#define GD_TRAINOPT_H

#include <stdint.h>
#include "cli.h"
#include "data.h"
#include "train.h"

typedef struct gd_train_opts {
    const char *dims;      /* "784-128-10" */
    const char *optim;     /* "sgd:lr=0.1" */
    const char *sched;     /* NULL: constant lr */
    const char *data;      /* NULL: $GD_FASHION_MNIST or the Debian package's directory */
    long batch_size;
    uint64_t seed;         /* the first seed */
    long seeds;            /* repetitions: seeds seed, seed + 1, ..., seed + seeds - 1 */
    const char *model;     /* "mlp" (of dims), "lenet", "lenet:act=relu:pool=max" (train.h) */
} gd_train_opts;

/* The MLP 784-128-10, "sgd:lr=0.1", no schedule, batch 128, seed 0, 1 seed. */
gd_train_opts gd_train_opts_defaults(void);

/* --model --dims --optim --sched --batch-size --data */
#define GD_TRAIN_OPTS_MODEL(to)                                                                   \
    GD_OPT_STRING("model", &(to)->model, "mlp (the MLP of --dims), or d2l's LeNet: lenet, "      \
                  "lenet:act=relu:pool=max, ...:init=torch (lib/lenet.h; --dims is then unused)"), \
    GD_OPT_STRING("dims", &(to)->dims, "layer sizes of the MLP, input to output, e.g. 784-128-10"), \
    GD_OPT_STRING("optim", &(to)->optim, "optimizer spec (lib/optim.h), e.g. sgd:lr=0.1:momentum=0.9"), \
    GD_OPT_STRING("sched", &(to)->sched, "schedule spec (lib/sched.h), e.g. warmup:T=100,cosine:T=900"), \
    GD_OPT_INT("batch-size", &(to)->batch_size, "minibatch size", 1, 60000),                      \
    GD_OPT_STRING("data", &(to)->data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " \
                  GD_FMNIST_DEFAULT_DIR ")")
/* --seed --seeds */
#define GD_TRAIN_OPTS_SEEDS(to)                                                                    \
    GD_OPT_SEED("seed", &(to)->seed, "the first seed (initial weights and data order)"),          \
    GD_OPT_INT("seeds", &(to)->seeds, "runs per setting, with seeds seed, seed+1, ...", 1, 1000)

/* Check the specs and fill cfg's model, dims, optimizer, schedule, batch size and seed (the
 * first). min_layers: the fewest linear layers the program accepts (1: logistic
 * regression is fine; 2: it needs a hidden layer); LeNet has five. 0, or -1 after one line on stderr. */
int gd_train_opts_apply(const gd_train_opts *to, gd_train_cfg *cfg, int min_layers);

/* Load Fashion-MNIST from to->data. 0, or -1 after one line on stderr naming the file
 * (the caller exits 2). The counts the program needs are its own to check afterwards:
 * gd_images_require (data.h). */
int gd_train_opts_load(const gd_train_opts *to, gd_images *train, gd_images *test);

/* gd_images_require (data.h) for a program: 0, or -1 after one line on stderr naming the
 * data directory (dir as --data gives it, through gd_fmnist_dir), the set, its count and
 * what needs more: "prog: DIR: the training set has 100 images, too few: --train-size
 * needs 5000". The caller exits 2 (the data is the user's input). */
int gd_train_opts_require(const char *dir, const gd_images *ds, long n, const char *set, const char *what);

#endif

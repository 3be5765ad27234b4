/* trainopt.c -- the shared options of the training programs; see trainopt.h. */
#include "trainopt.h"
#include "err.h"
#include "optim.h"
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gd_train_opts gd_train_opts_defaults(void) {
    gd_train_opts to = {"784-128-10", "sgd:lr=0.1", NULL, NULL, 128, 0, 1, "mlp"};
    return to;
}

int gd_train_opts_apply(const gd_train_opts *to, gd_train_cfg *cfg, int min_layers) {
    int mlp = gd_train_model_is_mlp(to->model);
    if (mlp < 0) {
        fprintf(stderr, "%s: --model: %s\n", gd_prog(), gd_error());
        return -1;
    }
    cfg->model = to->model;
    int n = gd_parse_dims(to->dims, cfg->dims, GD_TRAIN_MAXLAYERS);
    if (n < 0) {
        fprintf(stderr, "%s: --dims: %s\n", gd_prog(), gd_error());
        return -1;
    }
    if (mlp && n < min_layers) {
        fprintf(stderr, "%s: --dims: needs at least %d linear layers (a hidden layer), got '%s'\n", gd_prog(),
                min_layers, to->dims);
        return -1;
    }
    cfg->nlayers = n;
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(to->optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return -1;
    }
    if (to->sched) {
        gd_sched *check = gd_sched_parse(to->sched);
        if (!check) {
            fprintf(stderr, "%s: --sched: %s\n", gd_prog(), gd_error());
            return -1;
        }
        gd_sched_free(check);
    }
    cfg->optim = to->optim;
    cfg->sched = to->sched;
    cfg->batch_size = (int)to->batch_size;
    cfg->seed = to->seed;
    return 0;
}

int gd_train_opts_load(const gd_train_opts *to, gd_images *train, gd_images *test) {
    if (gd_fmnist_load(train, test, to->data) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return -1;
    }
    return 0;
}

int gd_train_opts_require(const char *dir, const gd_images *ds, long n, const char *set, const char *what) {
    if (gd_images_require(ds, n, set, what) == 0) return 0;
    /* the directory in front, through gd_seterr: a control character in it is escaped */
    char *why = strdup(gd_error());
    gd_seterr("%s: %s", gd_fmnist_dir(dir), why ? why : "too few images");
    free(why);
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return -1;
}

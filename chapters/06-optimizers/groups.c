/* groups.c -- parameter groups: no weight decay on biases, a smaller lr for one layer
 * (Chapter 6, section 6.7).
 *
 * Dimension letters: D inputs (pixels), H hidden units, K = 10 classes. The model,
 * data and training are decay.c's (a D-H-K ReLU MLP on a small Fashion-MNIST subset,
 * judged on held-out training images); the optimizer is AdamW. Four arms, each a list of
 * parameter groups as torch.optim takes them (gd_optim_add_group):
 *   all        one group: every weight and bias decayed (torch.optim.AdamW(model.parameters()))
 *   nobias     weights decayed, biases not (two groups; nanoGPT's rule, whose other half,
 *              no decay on norm layers, has nothing to act on in an MLP)
 *   first/10   nobias, and the first layer's weight and bias at lr / 10
 *   head/10    nobias, and the last layer's (the head's) weight and bias at lr / 10
 * Every arm runs from the same seeds (same initial weights, same data order), so each
 * seed gives a paired difference against 'all'.
 * Leaves out: layer-wise lr decay over many layers (as in BERT fine-tuning).
 */
#include "width-common.h"

#define MAX_SEEDS 32
#define NARMS 4

static const char *arm_name[NARMS] = {"all", "nobias", "first/10", "head/10"};

/* A signed difference to 3 decimals, "0.000" rather than "-0.000" or "+0.000". */
static const char *signed3(char *buf, size_t n, double x) {
    if (fabs(x) < 0.0005) snprintf(buf, n, "0.000");
    else snprintf(buf, n, "%+.3f", x);
    return buf;
}

/* The parameter groups of arm a (the trainer's optimizer is new and empty). */
static int build_groups(gd_trainer *tr, int a, const gd_hparams *hp) {
    gd_mlp *m = &tr->model;
    if (a == 0) return gd_optim_add_group(tr->opt, m->params, m->nparams, NULL) < 0 ? -1 : 0;
    gd_hparams nodecay = *hp;
    nodecay.weight_decay = 0;
    int L = m->nlayers, slow = a == 2 ? 0 : a == 3 ? L - 1 : -1;   /* the layer at lr / 10 */
    for (int l = 0; l < L; l++) {
        gd_hparams w = *hp, b = nodecay;
        if (l == slow) w.lr /= 10, b.lr /= 10;
        if (gd_optim_add_group(tr->opt, &m->params[2 * l], 1, &w) < 0) return -1;       /* weight: decayed */
        if (gd_optim_add_group(tr->opt, &m->params[2 * l + 1], 1, &b) < 0) return -1;   /* bias: not */
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *optim = "adamw:lr=0.01:weight_decay=1", *data = NULL, *out = NULL, *numbers = NULL;
    long hidden = 64, pool = 4, steps = 400, batch = 64, ntrain = 256, nval = 5000, nseeds = 5;
    uint64_t first_seed = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("optim", &optim, "optimizer spec of the decayed weights (lib/optim.h)"),
        GD_OPT_INT("hidden", &hidden, "hidden units H of the D-H-10 MLP", 1, 65536),
        GD_OPT_INT("pool", &pool, "average p x p pixel blocks (1, 2, 4, 7, 14)", 1, 28),
        GD_OPT_INT("steps", &steps, "updates per run", 1, 10000000),
        GD_OPT_INT("batch-size", &batch, "minibatch size", 1, 60000),
        GD_OPT_INT("train-n", &ntrain, "training images (a fixed subset)", 1, 55000),
        GD_OPT_INT("val-n", &nval, "held-out training images the runs are judged on", 1, 5000),
        GD_OPT_SEED("seed", &first_seed, "the first seed (initial weights and data order)"),
        GD_OPT_INT("seeds", &nseeds, "runs per arm, seeds seed, seed+1, ...", 1, MAX_SEEDS),
        GD_OPT_STRING("data", &data, "Fashion-MNIST directory (default: $GD_FASHION_MNIST or " GD_FMNIST_DEFAULT_DIR ")"),
        GD_OPT_OUT("out", &out, "write one row per run to this table"),
        GD_OPT_OUT("numbers", &numbers, "write the numbers the chapter quotes to this table"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "AdamW with parameter groups (no decay on biases; one layer at lr/10) against one "
                          "group, paired over seeds (Chapter 6, 6.7).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_optim_kind kind;
    gd_hparams hp;
    if (gd_optim_parse(optim, &kind, &hp) != 0) {
        fprintf(stderr, "%s: --optim: %s\n", gd_prog(), gd_error());
        return 2;
    }
    if (28 % pool != 0) {
        fprintf(stderr, "%s: --pool: must divide 28, got %ld\n", gd_prog(), pool);
        return 2;
    }

    gd_blas_threads(1);
    gd_images train, test;
    /* the runs index ntrain images of the training part and nval of the 5000 held out */
    int st = wc_load(data, (int)pool, 5000 + ntrain, "--train-n + the 5000 held-out images", &train, &test);
    if (st != 0) return st;
    int *tidx = malloc(sizeof(int) * train.n), *vidx = malloc(sizeof(int) * 5000);
    if (!tidx || !vidx || gd_split(tidx, vidx, train.n, 5000, GD_SWEEP_SPLIT_SEED) != 0) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        return 1;
    }
    gd_table *t = NULL;
    if (out && !(t = gd_table_open(out, "arm seed diverged_at val_loss val_acc train_loss"))) goto io_error;
    char canon[256];
    gd_optim_format(canon, sizeof canon, kind, &hp);
    if (t) {
        gd_table_meta(t, "program", "ch06-groups");
        gd_table_meta(t, "model", "MLP %d-%ld-10, ReLU, Fashion-MNIST at %dx%d pixels (%ldx%ld average pool)", train.dim,
                      hidden, train.rows, train.cols, pool, pool);
        gd_table_meta(t, "training", "%s, %ld training images, batch %ld, %ld steps, constant lr", canon, ntrain, batch, steps);
        gd_table_meta(t, "judged on", "%ld held-out training images (split seed %d)", nval, GD_SWEEP_SPLIT_SEED);
        gd_table_meta(t, "seeds", "%llu to %llu", (unsigned long long)first_seed,
                      (unsigned long long)(first_seed + nseeds - 1));
    }
    double loss[NARMS][MAX_SEEDS], acc[NARMS][MAX_SEEDS];
    printf("%-9s %-5s %-9s %s\n", "arm", "seed", "val_loss", "val_acc");
    for (int a = 0; a < NARMS; a++)
        for (long s = 0; s < nseeds; s++) {
            char label[96];
            snprintf(label, sizeof label, "%s seed %llu", arm_name[a], (unsigned long long)(first_seed + s));
            gd_train_cfg cfg = gd_train_defaults();
            cfg.dims[0] = train.dim, cfg.dims[1] = (int)hidden, cfg.dims[2] = GD_FMNIST_CLASSES;
            cfg.optim = optim;
            cfg.batch_size = (int)batch;
            cfg.seed = first_seed + (uint64_t)s;
            cfg.train = &train, cfg.train_idx = tidx, cfg.n_train = (int)ntrain;
            cfg.val = &train, cfg.val_idx = vidx, cfg.n_val = (int)nval;
            long per_epoch = (ntrain + batch - 1) / batch;
            cfg.epochs = ((double)steps - 0.5) / (double)per_epoch;
            cfg.eval_every = (int)steps;
            cfg.log_every = (int)(steps < 50 ? steps : 50);
            cfg.label = label;
            cfg.collapse_window = 0;
            gd_trainer *tr = gd_trainer_new(&cfg);
            gd_train_log log;
            if (!tr || wc_regroup(tr, kind, &hp) != 0 || build_groups(tr, a, &hp) != 0 || gd_trainer_run(tr, &log) != 0) {
                fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
                return 1;
            }
            const gd_train_row *last = &log.rows[log.n - 1];
            int div = log.diverged_at >= 0;
            loss[a][s] = div ? NAN : last->val_loss;
            acc[a][s] = div ? NAN : last->val_acc;
            if (t)
                gd_table_row(t, "%s %llu %ld %.6g %.6g %.6g", arm_name[a], (unsigned long long)cfg.seed, log.diverged_at,
                             loss[a][s], acc[a][s], div ? NAN : last->train_loss);
            printf("%-9s %-5llu %-9.4f %.4f\n", arm_name[a], (unsigned long long)cfg.seed, loss[a][s], acc[a][s]);
            gd_train_log_free(&log);
            gd_trainer_free(tr);
        }
    free(tidx), free(vidx);
    long D = train.dim;   /* inputs, for the parameter count below */
    gd_images_free(&train);
    gd_images_free(&test);
    if (t && gd_table_close(t) != 0) goto io_error;

    if (numbers) {
        gd_table *nt = gd_table_open(numbers, "key value");
        if (!nt) goto io_error;
        gd_table_meta(nt, "program", "ch06-groups");
        wc_kv(nt, "groups_optim", "%s", canon);
        wc_kv(nt, "groups_seeds", "%ld", nseeds);
        long nb = hidden + GD_FMNIST_CLASSES;   /* the biases of the D-H-10 MLP */
        wc_kv(nt, "groups_nbias", "%ld", nb);
        wc_kv(nt, "groups_nparams", "%ld", D * hidden + hidden * GD_FMNIST_CLASSES + nb);
        /* per arm: medians and ranges; against 'all', the paired difference per seed */
        char md[4096];
        int len = snprintf(md, sizeof md,
                           "| groups | held-out loss: median (min to max) | accuracy: median | loss minus 'all', "
                           "paired: median (min to max) | seeds lower than 'all' |\n|---|---:|---:|---:|---:|\n");
        static const char *key[NARMS] = {"all", "nobias", "first", "head"};
        for (int a = 0; a < NARMS; a++) {
            gd_stats l = gd_stats_of(loss[a], (int)nseeds), c = gd_stats_of(acc[a], (int)nseeds);
            double d[MAX_SEEDS];
            int lower = 0;
            for (long s = 0; s < nseeds; s++) d[s] = loss[a][s] - loss[0][s], lower += d[s] < 0;
            gd_stats ds = gd_stats_of(d, (int)nseeds);
            char name[64], s1[16], s2[16], s3[16];
            snprintf(name, sizeof name, "groups_%s_loss", key[a]);
            wc_kv(nt, name, "%.3f", l.median);
            snprintf(name, sizeof name, "groups_%s_acc", key[a]);
            wc_kv(nt, name, "%.1f%%", 100 * c.median);
            if (a) {
                snprintf(name, sizeof name, "groups_%s_diff", key[a]);
                wc_kv(nt, name, "%s", signed3(s1, sizeof s1, ds.median));
                snprintf(name, sizeof name, "groups_%s_diff_min", key[a]);
                wc_kv(nt, name, "%s", signed3(s1, sizeof s1, ds.min));
                snprintf(name, sizeof name, "groups_%s_diff_max", key[a]);
                wc_kv(nt, name, "%s", signed3(s1, sizeof s1, ds.max));
                snprintf(name, sizeof name, "groups_%s_lower", key[a]);
                wc_kv(nt, name, "%d of %ld", lower, nseeds);
            }
            char paired[96] = "-", count[32] = "-";
            if (a) {
                snprintf(paired, sizeof paired, "%s (%s to %s)", signed3(s1, sizeof s1, ds.median),
                         signed3(s2, sizeof s2, ds.min), signed3(s3, sizeof s3, ds.max));
                snprintf(count, sizeof count, "%d of %ld", lower, nseeds);
            }
            len += snprintf(md + len, sizeof md - len, "| %s | %.3f (%.3f to %.3f) | %.1f%% | %s | %s |\n", arm_name[a],
                            l.median, l.min, l.max, 100 * c.median, paired, count);
        }
        gd_stats base = gd_stats_of(loss[0], (int)nseeds);
        wc_kv(nt, "groups_all_spread", "%.3f", base.max - base.min);
        wc_kv(nt, "groups_table", "%s", md);
        if (gd_table_close(nt) != 0) goto io_error;
    }
    return 0;

io_error:
    fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
    return 1;
}

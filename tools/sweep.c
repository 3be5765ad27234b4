/* sweep.c -- `sweep`: train an MLP on Fashion-MNIST at every point of a grid
 * lr x optimizer x schedule x seed, every core busy, one row per point in one table.
 *
 *   build/bin/sweep --lr 1e-4:1:4 --optim "sgd:momentum=0.9;adam" --sched constant \
 *                   --seeds 3 --epochs 2 --out build/sweep/lr.tsv
 *   build/bin/sweep ... --shard 0/4 --out shard-0.tsv      # a quarter of the points
 *   build/bin/sweep merge all.tsv shard-*.tsv              # the table one run would write
 *
 * Run it again with the same arguments after an interruption: finished points are
 * skipped. The grid, the table and the workers are lib/sweep.c; this file reads the
 * options, loads the data and reports progress. Wall times go to stderr only.
 * Leaves out: running shards on other machines (GNU parallel or Slurm do that, see
 * tools/SWEEP.md) and choosing the next points from the results.
 */
#include "gd.h"
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* "42 s", "3 min 04 s", "2 h 05 min" */
static void fmt_duration(char *buf, size_t size, double s) {
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(buf, size, "%ld s", t);
    else if (t < 3600) snprintf(buf, size, "%ld min %02ld s", t / 60, t % 60);
    else snprintf(buf, size, "%ld h %02ld min", t / 3600, t / 60 % 60);
}

typedef struct progress_ctx {
    const char *prog;
    int tty;          /* stderr is a terminal: a status line that rewrites itself */
} progress_ctx;

/* The status line on a terminal: counts, time, and the ETA (elapsed per point so far
 * times the points left: the workers are counted in the elapsed time). */
static void status_line(const progress_ctx *c, const gd_sweep_event *ev) {
    char eta[32] = "--", elapsed[32];
    if (ev->done > 0) fmt_duration(eta, sizeof eta, ev->elapsed / ev->done * (double)(ev->todo - ev->done));
    fmt_duration(elapsed, sizeof elapsed, ev->elapsed);
    fprintf(stderr, "\r\033[K%s: %ld/%ld done, %ld diverged, %ld failed, %s elapsed, ETA %s", c->prog, ev->done,
            ev->todo, ev->diverged, ev->failures, elapsed, eta);
}

/* After each point: its line (and on a terminal the status line below it, which a tick
 * redraws once a second). */
static void progress(const gd_sweep_event *ev, void *vctx) {
    const progress_ctx *c = vctx;
    if (ev->tick) {
        if (c->tty) status_line(c, ev);
        return;
    }
    const gd_sweep_point *p = &ev->point;
    /* printed piece by piece: the specs and the error are the user's text, of any length */
    if (c->tty) fprintf(stderr, "\r\033[K");
    else fprintf(stderr, "%s: [%ld/%ld] ", c->prog, ev->done, ev->todo);
    fprintf(stderr, "point %ld (lr %s, %s, %s, seed %llu): ", p->id, p->lr_text, p->optim, p->sched,
            (unsigned long long)p->seed);
    if (ev->failed) fprintf(stderr, "FAILED: %s", ev->error);
    else if (ev->r.diverged_at >= 0) fprintf(stderr, "diverged at step %ld", ev->r.diverged_at);
    else if (isnan(ev->r.val_acc)) fprintf(stderr, "ok, train loss %.4f", ev->r.train_loss);
    else fprintf(stderr, "ok, val loss %.4f, val acc %.4f", ev->r.val_loss, ev->r.val_acc);
    if (!ev->failed) fprintf(stderr, " (%.2f s)", ev->r.seconds);
    if (c->tty) {
        fputc('\n', stderr);
        status_line(c, ev);
    } else {
        char eta[32];
        fmt_duration(eta, sizeof eta, ev->elapsed / ev->done * (double)(ev->todo - ev->done));
        fprintf(stderr, ", ETA %s\n", eta);
    }
}

static const char *merge_usage =
    "usage: sweep merge OUT IN...\n"
    "Merge sweep tables of one grid (the shards of --shard K/N, or parts of interrupted runs)\n"
    "into OUT: the union of their rows sorted by point id, byte for byte the table a single\n"
    "run writes. Every IN must have the same '#' header. OUT may be one of the INs; - is\n"
    "standard output; a symlink's target is written (the link stays), a device such as\n"
    "/dev/null in place. Exit 1 if points are missing (OUT is written all the same), two\n"
    "tables disagree on a point (nothing is written) or writing OUT fails (/dev/full); 2\n"
    "for usage, an OUT that could never be written, or an IN that cannot be read or is not\n"
    "a table of the grid (checked before anything is written).\n";

/* Can every IN be merged: readable, a sweep table, all of the first one's grid? 0, or -1
 * with the reason. gd_sweep_merge reads them again (they are small): this first pass
 * only tells the user's inputs (exit 2) from a failure of the merge itself (exit 1). */
static int merge_inputs_ok(char *const *in, int n_in) {
    FILE *f = fopen(in[0], "rb");
    if (!f) return gd_seterr("%s: cannot open: %s", in[0], strerror(errno));
    char *text = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&text, &cap, '\0', f);   /* the whole file (a table has no NUL) */
    int bad = ferror(f);
    fclose(f);
    if (len < 0 || bad) {
        free(text);
        return gd_seterr("%s: cannot read (or empty)", in[0]);
    }
    gd_sweep sw;
    int rc = gd_sweep_from_header(&sw, text);
    free(text);
    if (rc != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", gd_error());
        gd_sweep_free(&sw);
        return gd_seterr("%s: %s", in[0], why);
    }
    gd_sweep_rows rows;
    rc = gd_sweep_rows_init(&rows, &sw);
    for (int i = 0; i < n_in && rc == 0; i++) rc = gd_sweep_rows_read(&rows, &sw, in[i]);
    if (rows.row) gd_sweep_rows_free(&rows);
    gd_sweep_free(&sw);
    return rc;
}

static int merge_main(int argc, char **argv, const char *prog) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(merge_usage, stdout);
            return 0;
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "%s merge: unknown option %s (see %s merge --help)\n", prog, argv[i], prog);
            return 2;
        }
    }
    if (argc < 3) {
        fprintf(stderr, "%s merge: need OUT and at least one IN table (see %s merge --help)\n", prog, prog);
        return 2;
    }
    if (gd_out_check(argv[1]) != 0) {   /* before reading anything: out.h's policy */
        fprintf(stderr, "%s merge: %s\n", prog, gd_error());
        return 2;
    }
    if (merge_inputs_ok(argv + 2, argc - 2) != 0) {   /* the user's tables: exit 2 */
        fprintf(stderr, "%s merge: %s\n", prog, gd_error());
        return 2;
    }
    long missing = 0, npoints = 0;
    if (gd_sweep_merge(argv[1], argv + 2, argc - 2, &missing, &npoints) != 0) {
        fprintf(stderr, "%s merge: %s\n", prog, gd_error());
        return 1;
    }
    if (missing > 0) {
        fprintf(stderr, "%s merge: %s: %ld of %ld points are missing (written without them): run the missing "
                        "shards and merge again\n", prog, argv[1], missing, npoints);
        return 1;
    }
    fprintf(stderr, "%s merge: %s: all %ld points, from %d table%s\n", prog, argv[1], npoints, argc - 2,
            argc == 3 ? "" : "s");
    return 0;
}

int main(int argc, char **argv) {
    const char *slash = strrchr(argv[0], '/'), *prog = slash ? slash + 1 : argv[0];
    if (argc >= 2 && strcmp(argv[1], "merge") == 0) return merge_main(argc - 1, argv + 1, prog);

    const char *lr = "1e-3:1:2", *optim = "sgd", *sched = "constant", *seeds = "1", *model = "784-128-10";
    const char *data_dir = NULL, *out = "build/sweep/sweep.tsv", *shard = "0/1";
    double epochs = 1, diverge_factor = 10;
    long batch_size = 128, train_subset = 0, val = 10000, workers = 0;
    gd_opt opts[] = {
        GD_OPT_STRING("lr", &lr, "learning rates: 0.01,0.1 or LO:HI:PER_DECADE (log-spaced), or both"),
        GD_OPT_STRING("optim", &optim, "optimizer specs (optim.h) without lr, separated by ';'"),
        GD_OPT_STRING("sched", &sched, "schedule specs (sched.h), separated by ';'"),
        GD_OPT_STRING("seeds", &seeds, "N (seeds 0..N-1) or a list 0,5,7:9 (7:7 is seed 7)"),
        GD_OPT_STRING("model", &model, "layer sizes, 784 inputs to 10 classes"),
        GD_OPT_FLOAT("epochs", &epochs, "passes over the training images", 0, 10000, 1),
        GD_OPT_INT("batch-size", &batch_size, "minibatch size", 1, 60000),
        GD_OPT_INT("train-subset", &train_subset, "train on the first N images not held out (0: all)", 0, 60000),
        GD_OPT_INT("val", &val, "training images held out, evaluated after the last update", 0, 59999),
        GD_OPT_FLOAT("diverge-factor", &diverge_factor, "diverged when the loss exceeds this times the first", 1,
                     1e30, 1),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_INT("workers", &workers, "points trained at once (0: one per core)", 0, 4096),
        GD_OPT_STRING("shard", &shard, "run shard K of N: the points with id % N == K"),
        GD_OPT_OUT("out", &out, "the table; an existing one of the same grid is resumed"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Train an MLP on Fashion-MNIST at every point of a grid lr x optimizer x schedule x seed,\n"
                          "on every core, one row per point in one table; run it again to resume. `sweep merge OUT "
                          "IN...`\njoins the tables of shards (--shard). Recipes for GNU parallel and Slurm: "
                          "tools/SWEEP.md.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_sweep sw;
    gd_sweep_init(&sw);
    sw.epochs = epochs;
    sw.batch_size = batch_size;
    sw.train_subset = train_subset;
    sw.n_val = val;
    sw.diverge_factor = diverge_factor;
    const char *names[] = {"lr", "optim", "sched", "seeds", "model"}, *texts[] = {lr, optim, sched, seeds, model};
    int (*set[])(gd_sweep *, const char *) = {gd_sweep_set_lr, gd_sweep_set_optim, gd_sweep_set_sched,
                                              gd_sweep_set_seeds, gd_sweep_set_model};
    for (int i = 0; i < 5; i++)
        if (set[i](&sw, texts[i]) != 0) {
            fprintf(stderr, "%s: --%s: %s\n", prog, names[i], gd_error());
            gd_sweep_free(&sw);
            return 2;
        }
    long shard_k, shard_n;
    if (gd_sweep_parse_shard(shard, &shard_k, &shard_n) != 0) {
        fprintf(stderr, "%s: --shard: %s\n", prog, gd_error());
        gd_sweep_free(&sw);
        return 2;
    }
    if (gd_sweep_check(&sw) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        gd_sweep_free(&sw);
        return 2;
    }

    /* the table first: a table of another grid, or one in use, is refused before the
     * data are loaded, and the lock keeps a second sweep out meanwhile */
    gd_sweep_table t;
    if (gd_sweep_table_open(&t, &sw, out) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        gd_sweep_free(&sw);
        return t.refused ? 2 : 1;   /* 2: --out is not a table of this grid; 1: in use, I/O */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;   /* gd_sweep_run watches stop_signal (even one set during the load) */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    int status = 1;
    gd_images train, test;
    gd_sweep_data d;
    if (gd_fmnist_load(&train, &test, data_dir) != 0) {   /* the data given are wrong: 2 */
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        gd_sweep_table_abort(&t);
        gd_sweep_free(&sw);
        return 2;
    }
    gd_images_free(&test);
    if (val >= train.n || train_subset > train.n - val) {
        if (val >= train.n)
            fprintf(stderr, "%s: --val: %ld of %d training images leaves none to train on\n", prog, val, train.n);
        else
            fprintf(stderr, "%s: --train-subset: %ld, but only %ld training images are not held out (--val %ld)\n",
                    prog, train_subset, train.n - val, val);
        gd_sweep_table_abort(&t);
        status = 2;
        goto done_images;
    }
    if (gd_sweep_data_init(&d, &sw, &train) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        gd_sweep_table_abort(&t);
        status = 2;
        goto done_images;
    }

    gd_blas_threads(1);

    progress_ctx ctx = {prog, isatty(STDERR_FILENO)};
    gd_sweep_run_cfg rc_cfg = {(int)(workers > 0 ? workers : gd_sweep_cores()), shard_k, shard_n, progress, &ctx,
                               &stop_signal};
    long np = gd_sweep_npoints(&sw), in_shard = 0, present = 0;
    for (long id = 0; id < np; id++)
        if (gd_sweep_in_shard(id, shard_k, shard_n)) in_shard++, present += t.done.row[id] != NULL;
    char shard_text[64] = "";
    if (shard_n > 1)
        snprintf(shard_text, sizeof shard_text, " (shard %ld/%ld: %ld of them)", shard_k, shard_n, in_shard);
    long todo = in_shard - present;
    int nw = rc_cfg.workers < todo ? rc_cfg.workers : (int)(todo > 0 ? todo : 0);
    char on[32] = "";
    if (todo > 0) snprintf(on, sizeof on, " on %d worker%s", nw, nw == 1 ? "" : "s");
    fprintf(stderr, "%s: %ld point%s%s; %ld already in %s, %ld to run%s\n", prog, np, np == 1 ? "" : "s", shard_text,
            present, out, todo, on);
    if (t.done.bad > 0)
        fprintf(stderr, "%s: %s: ignoring %ld malformed line%s (the first is line %ld)\n", prog, out, t.done.bad,
                t.done.bad == 1 ? "" : "s", t.done.first_bad);

    gd_sweep_summary sum;
    int run_rc = gd_sweep_run(&t, &d, &rc_cfg, &sum);
    if (ctx.tty && sum.ran + sum.failed > 0) fputc('\n', stderr);
    if (run_rc != 0 && !sum.interrupted && sum.failed == 0) fprintf(stderr, "%s: %s\n", prog, gd_error());
    if (gd_sweep_table_close(&t) != 0) {
        fprintf(stderr, "%s: %s\n", prog, gd_error());
        run_rc = -1;
    }
    char took[32];
    fmt_duration(took, sizeof took, sum.seconds);
    /* count what the table holds now: a worker stopped by the interruption may have
     * written its row just before */
    long now_present = present + sum.ran;
    gd_sweep_rows rows;
    if (gd_sweep_rows_init(&rows, &sw) == 0) {
        if (gd_sweep_rows_read(&rows, &sw, out) == 0) {
            now_present = 0;
            for (long id = 0; id < np; id++) now_present += gd_sweep_in_shard(id, shard_k, shard_n) && rows.row[id];
        }
        gd_sweep_rows_free(&rows);
    }
    if (sum.interrupted) {
        fprintf(stderr, "%s: interrupted (%s): %ld of %ld points%s in %s; run the same command again to continue\n",
                prog, strsignal(stop_signal), now_present, in_shard, shard_n > 1 ? " of the shard" : "", out);
        status = 128 + stop_signal;
    } else {
        fprintf(stderr, "%s: %s: %ld of %ld points%s (ran %ld in %s, %ld diverged%s)\n", prog, out, now_present,
                in_shard, shard_n > 1 ? " of the shard" : "", sum.ran, took, sum.diverged,
                sum.failed ? "; failed points are retried by running the same command again" : "");
        if (sum.failed) fprintf(stderr, "%s: %ld point%s failed\n", prog, sum.failed, sum.failed == 1 ? "" : "s");
        status = run_rc == 0 ? 0 : 1;
    }
    gd_sweep_data_free(&d);
done_images:
    gd_images_free(&train);
    gd_sweep_free(&sw);
    return status;
}

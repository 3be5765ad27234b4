/* sweep.c -- `make bench`: how much faster a sweep runs on 2 workers than on 1.
 *
 * Runs the same small grid (13 learning rates from 1e-3 to 1, 2 seeds, SGD with
 * momentum: 26 points, 784-128-10 on 5000 Fashion-MNIST images, one epoch each) twice
 * through lib/sweep.c's workers, on 1 and on 2 processes, each with one BLAS thread,
 * into two tables in a temporary directory, and prints the wall times and their ratio.
 * The target is a speed-up of at least 1.8 on this 2-core machine. Each time is
 * the best of --reps (3) repetitions, alternating which goes first; other work on the
 * machine lowers the ratio, so run it on an idle machine. The data are loaded once,
 * before the clocks start. The two tables are compared too: they must be byte-identical
 * (the number of workers changes nothing but the time).
 *
 * Leaves out: more than 2 workers, GNU parallel and Slurm (their overhead is per shard,
 * not per point), and the single-thread speed of training (bench-mlp).
 */
#include "gd.h"
#include "sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One sweep of the grid into path on `workers` processes; its wall time, or -1. */
static double timed_sweep(const gd_sweep *sw, const gd_sweep_data *d, const char *path, int workers) {
    unlink(path);
    gd_sweep_table t;
    if (gd_sweep_table_open(&t, sw, path) != 0) return -1;
    gd_sweep_run_cfg cfg = {workers, 0, 1, NULL, NULL, NULL};
    gd_sweep_summary sum;
    double t0 = now();
    int rc = gd_sweep_run(&t, d, &cfg, &sum);
    double s = now() - t0;
    if (gd_sweep_table_close(&t) != 0 || rc != 0) return -1;
    return s;
}

int main(int argc, char **argv) {
    const char *data_dir = NULL, *lr = "1e-3:1:4", *model = "784-128-10";
    long reps = 3, train = 5000, seeds = 2;
    gd_opt opts[] = {
        GD_OPT_STRING("lr", &lr, "the grid's learning rates (sweep's --lr)"),
        GD_OPT_INT("seeds", &seeds, "seeds per learning rate", 1, 100),
        GD_OPT_STRING("model", &model, "layer sizes"),
        GD_OPT_INT("train", &train, "training images per point (one epoch, batch 64)", 100, 50000),
        GD_OPT_INT("reps", &reps, "repetitions; the best time of each is kept", 1, 100),
        GD_OPT_STRING("data", &data_dir, "directory of the Fashion-MNIST files"),
        GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Measure the speed-up of a learning-rate sweep on 2 worker processes over 1 "
                          "(target: >= 1.8 on 2 cores).",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;

    gd_sweep sw;
    gd_sweep_init(&sw);
    char seeds_text[32];
    snprintf(seeds_text, sizeof seeds_text, "%ld", seeds);
    if (gd_sweep_set_lr(&sw, lr) || gd_sweep_set_optim(&sw, "sgd:momentum=0.9") ||
        gd_sweep_set_sched(&sw, "constant") || gd_sweep_set_seeds(&sw, seeds_text) || gd_sweep_set_model(&sw, model)) {
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_sweep_free(&sw);
        return 2;
    }
    sw.batch_size = 64;
    sw.train_subset = train;
    sw.n_val = 1000;

    gd_images images, test;
    if (gd_fmnist_load(&images, &test, data_dir) != 0) {   /* the data given: exit 2 */
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_sweep_free(&sw);
        return 2;
    }
    gd_images_free(&test);
    gd_sweep_data d;
    if (gd_sweep_data_init(&d, &sw, &images) != 0) {   /* too few images for --train */
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        gd_images_free(&images);
        gd_sweep_free(&sw);
        return 2;
    }
    gd_blas_threads(1);
    char dir[] = "/tmp/bench-sweep-XXXXXX", one[64], two[64];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "%s: %s: %s\n", gd_prog(), dir, strerror(errno));
        gd_sweep_data_free(&d);
        gd_images_free(&images);
        gd_sweep_free(&sw);
        return 1;
    }
    snprintf(one, sizeof one, "%s/one.tsv", dir);
    snprintf(two, sizeof two, "%s/two.tsv", dir);

    printf("sweep of %ld points (%s, %ld images, 1 epoch each, one BLAS thread per worker); %d cores\n",
           gd_sweep_npoints(&sw), model, train, gd_sweep_cores());
    double best1 = 1e30, best2 = 1e30;
    int status = 0;
    for (long r = 0; r < reps && status == 0; r++) {
        /* alternate which goes first, so that a drift in the machine's load favours neither */
        double t1, t2;
        if (r % 2 == 0) t1 = timed_sweep(&sw, &d, one, 1), t2 = timed_sweep(&sw, &d, two, 2);
        else t2 = timed_sweep(&sw, &d, two, 2), t1 = timed_sweep(&sw, &d, one, 1);
        if (t1 < 0 || t2 < 0) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            status = 1;
            break;
        }
        printf("  rep %ld: 1 worker %.2f s, 2 workers %.2f s\n", r + 1, t1, t2);
        if (t1 < best1) best1 = t1;
        if (t2 < best2) best2 = t2;
    }
    if (status == 0) {
        char *a = NULL, *b = NULL;
        FILE *f;
        size_t n;
        if ((f = fopen(one, "r"))) getdelim(&a, &n, '\0', f), fclose(f);
        if ((f = fopen(two, "r"))) getdelim(&b, &n, '\0', f), fclose(f);
        int same = a && b && strcmp(a, b) == 0;
        free(a);
        free(b);
        double speedup = best1 / best2;
        printf("best: 1 worker %.2f s, 2 workers %.2f s: speed-up %.2fx (target >= 1.8x)%s\n", best1, best2,
               speedup, speedup >= 1.8 ? "" : "  BELOW TARGET (is the machine busy?)");
        printf("tables of 1 and 2 workers: %s\n", same ? "byte-identical" : "DIFFERENT");
        if (!same) status = 1;
    }
    unlink(one);
    unlink(two);
    rmdir(dir);
    gd_sweep_data_free(&d);
    gd_images_free(&images);
    gd_sweep_free(&sw);
    return status;
}

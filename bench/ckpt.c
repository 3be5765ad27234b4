/* ckpt.c -- how long a checkpoint of a ~1M-parameter model takes to write and to read
 * (the issue asks for well under 100 ms each).
 *
 * The model is 784-1024-192-10 (1,002,570 parameters), trained for one step on random
 * images so that the optimizer's state is not all zeros, with two optimizers: plain SGD
 * (no state: the parameters alone, 4 MB) and Adam (two moments besides: 12 MB).
 * For each it times, over --reps repetitions (median and best):
 *   save    gd_ckpt_save: encode, CRC-32, write, fsync, rename, sync the directory
 *   load    gd_ckpt_load into a fresh trainer: read, CRC-32, parse, check, copy
 *   check   gd_ckpt_check: read, CRC-32, parse (what gd_ckpt_dir_latest does per file)
 *   floor   the same number of bytes written with write(2) + fsync + rename + directory
 *           sync: what the disk costs, whatever the format
 * Durable writes are as fast as the disk under --dir (default: $TMPDIR, else /tmp);
 * a tmpfs directory (/dev/shm) shows the cost of the code alone.
 *
 * Leaves out: the checkpoint directory's pruning, compression, concurrency.
 */
#include "ckpt.h"
#include "gd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NIMAGES 256

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median and best of t[0..n), in ms (sorts t) */
static void stats(double *t, int n, double *median, double *best) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    *median = 1e3 * (n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]));
    *best = 1e3 * t[0];
}

/* write(2) + fsync + rename + directory fsync of n bytes: the disk's floor */
static int floor_write(const char *dir, const char *path, const char *tmp, const unsigned char *buf, size_t n) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    int bad = write(fd, buf, n) != (ssize_t)n;
    bad |= fsync(fd) != 0;
    bad |= close(fd) != 0;
    bad |= rename(tmp, path) != 0;
    int d = open(dir, O_RDONLY);
    if (d >= 0) bad |= fsync(d) != 0, close(d);
    return bad ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    long reps = 11;
    uint64_t seed = 1;
    gd_opt opts[] = {GD_OPT_OUTDIR("dir", &base, "directory to write the checkpoints in (a temporary one inside it)"),
                     GD_OPT_INT("reps", &reps, "repetitions of each timing (median and best are printed)", 1, 1000),
                     GD_OPT_SEED("seed", &seed, "seed of the initialisation and the images"),
                     GD_OPT_END};
    int rc = gd_cli_parse(argc, argv,
                          "Times gd_ckpt_save, gd_ckpt_load and gd_ckpt_check of a 784-1024-192-10 MLP "
                          "(1,002,570 parameters)\nwith SGD and with Adam, against plain write+fsync of "
                          "the same bytes.",
                          opts);
    if (rc) return rc == GD_CLI_HELP ? 0 : 2;
    gd_blas_threads(1);

    /* the paths are as long as --dir needs: never cut */
    size_t len = strlen(base) + 32;
    char *dir = malloc(len), *path = malloc(len), *tmp = malloc(len), *fpath = malloc(len);
    if (!dir || !path || !tmp || !fpath) {
        fprintf(stderr, "%s: out of memory\n", gd_prog());
        return 1;
    }
    snprintf(dir, len, "%s/bench-ckpt.XXXXXX", base);
    if (gd_mkdirs_for(dir) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "%s: --dir %s: cannot create a directory in it\n", gd_prog(), base);
        return 1;
    }
    snprintf(path, len, "%s/ckpt.bin", dir);
    snprintf(fpath, len, "%s/floor.bin", dir);
    snprintf(tmp, len, "%s/floor.bin.tmp", dir);

    /* random images: the data do not matter here, only the sizes */
    gd_images ds = {NIMAGES, 28, 28, 784, malloc(NIMAGES * 784), malloc(NIMAGES)};
    gd_rng r;
    gd_rng_seed(&r, seed);
    for (int i = 0; i < NIMAGES * 784; i++) ds.pixels[i] = (uint8_t)gd_rng_below(&r, 256);
    for (int i = 0; i < NIMAGES; i++) ds.labels[i] = (uint8_t)gd_rng_below(&r, 10);

    printf("# bench-ckpt: 784-1024-192-10, %ld repetitions, in %s\n", reps, dir);
    printf("%-8s %10s %9s %9s %9s %9s %9s\n", "optim", "params", "MB", "save ms", "load ms", "check ms",
           "floor ms");
    const char *optims[] = {"sgd:lr=0.01", "adam:lr=1e-3"};
    double *t = malloc((size_t)reps * sizeof *t);
    int status = 0;
    for (int o = 0; o < 2 && status == 0; o++) {
        gd_train_cfg c = gd_train_defaults();
        c.nlayers = 3;
        c.dims[0] = 784, c.dims[1] = 1024, c.dims[2] = 192, c.dims[3] = 10;
        c.optim = optims[o];
        c.sched = "warmup:T=100,cosine:T=1000";
        c.batch_size = 64;
        c.seed = seed;
        c.train = &ds;
        gd_trainer *tr = gd_trainer_new(&c), *fresh = gd_trainer_new(&c);
        if (!tr || !fresh) {
            fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
            return 1;
        }
        gd_trainer_step(tr);
        double med[4], best[4];
        for (long i = 0; i < reps; i++) {
            double t0 = now();
            if (gd_ckpt_save(tr, path, 0.5) != 0) goto fail;
            t[i] = now() - t0;
        }
        stats(t, (int)reps, &med[0], &best[0]);
        for (long i = 0; i < reps; i++) {
            double t0 = now();
            if (gd_ckpt_load(fresh, path, NULL) != 0) goto fail;
            t[i] = now() - t0;
        }
        stats(t, (int)reps, &med[1], &best[1]);
        gd_ckpt_info info;
        for (long i = 0; i < reps; i++) {
            double t0 = now();
            if (gd_ckpt_check(path, &info) != 0) goto fail;
            t[i] = now() - t0;
        }
        stats(t, (int)reps, &med[2], &best[2]);
        unsigned char *bytes = calloc(info.bytes, 1);
        for (long i = 0; i < reps && bytes; i++) {
            double t0 = now();
            if (floor_write(dir, fpath, tmp, bytes, info.bytes) != 0) {
                fprintf(stderr, "%s: %s: cannot write\n", gd_prog(), fpath);
                status = 1;
                break;
            }
            t[i] = now() - t0;
        }
        free(bytes);
        stats(t, (int)reps, &med[3], &best[3]);
        printf("%-8s %10zu %9.1f", gd_optim_name(o == 0 ? GD_SGD : GD_ADAM), info.numel, info.bytes / 1e6);
        for (int k = 0; k < 4; k++) printf(" %9.1f", med[k]);
        printf("   (median)\n%-8s %10s %9s", "", "", "");
        for (int k = 0; k < 4; k++) printf(" %9.1f", best[k]);
        printf("   (best)\n");
        gd_trainer_free(tr);
        gd_trainer_free(fresh);
        continue;
    fail:
        fprintf(stderr, "%s: %s\n", gd_prog(), gd_error());
        status = 1;
        gd_trainer_free(tr);
        gd_trainer_free(fresh);
    }
    unlink(path);
    unlink(fpath);
    rmdir(dir);
    free(dir), free(path), free(tmp), free(fpath);
    free(t);
    free(ds.pixels);
    free(ds.labels);
    return status;
}

/* test_ch07.c -- the claims Chapter 7 makes, checked on the runs that `make` produced
 * (and on two small runs made here): early stopping fires where its rules say on the
 * logged validation curve and restores the best weights bitwise, fired or not; the
 * back-off runs recover where the plain runs die; an impossible lr gives up with a clear
 * report; a killed and resumed run ends bitwise where the straight run ends. Margins,
 * never numbers copied from an earlier run.
 */
#include "../common.h"

#include <math.h>

#define FIT GD_BIN "ch07-fit"
#define D07 GD_BUILD_DIR "/ch07/"

/* ---------------------------------------------------------------------------------- */
/* Tables: the log (columns step epoch lr train_loss val_loss val_acc test_loss test_acc)
 * and the numbers (key value). */
typedef struct {
    int n;
    double v[4096][8];
} logt;

static logt *read_log(const char *path) {
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s (does `make` run before the tests?)", path);
    logt *t = calloc(1, sizeof *t);
    int header = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        if (!header++) continue;
        cr_assert(t->n < 4096);
        char *p = line;
        for (int c = 0; c < 8; c++) {
            t->v[t->n][c] = strtod(p, &p);
            while (*p == '\t') p++;
        }
        t->n++;
    }
    free(text);
    return t;
}

/* The value of key in a numbers table, as a string (static buffer). */
static const char *num_s(const char *path, const char *key) {
    static char out[512];
    char *text = t_slurp(path);
    cr_assert_not_null(text, "cannot read %s", path);
    size_t k = strlen(key);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, k) == 0 && line[k] == '\t') {
            char *end = strchr(line + k + 1, '\n');
            size_t n = end ? (size_t)(end - line - k - 1) : strlen(line + k + 1);
            snprintf(out, sizeof out, "%.*s", (int)n, line + k + 1);
            free(text);
            return out;
        }
    }
    free(text);
    cr_assert_fail("%s: no key %s", path, key);
    return NULL;
}
static double num(const char *path, const char *key) { return strtod(num_s(path, key), NULL); }

/* The MODL section (the parameters) of a checkpoint file. */
static unsigned char *params_of(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    unsigned char head[36];
    cr_assert_eq(fread(head, 1, 36, f), 36);
    cr_assert(memcmp(head + 24, "MODL", 4) == 0, "%s: no MODL section", path);
    unsigned long long len = 0;
    for (int i = 0; i < 8; i++) len |= (unsigned long long)head[28 + i] << (8 * i);
    unsigned char *b = malloc(len);
    cr_assert_eq(fread(b, 1, len, f), len);
    fclose(f);
    *n = len;
    return b;
}

static void expect_same_params(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *pa = params_of(a, &na), *pb = params_of(b, &nb);
    cr_expect(na == nb && memcmp(pa, pb, na) == 0, "%s and %s hold different parameters", a, b);
    free(pa);
    free(pb);
}

/* ---------------------------------------------------------------------------------- */
/* §7.2 Early stopping. The rules applied here, independently of lib/monitor.c, to the
 * validation losses of the run that never stopped: the epoch where patience 5 fires and
 * the best epoch before it. The early-stopped run must be exactly that run's prefix. */
Test(ch07_early, fires_where_the_rules_say_on_the_logged_curve) {
    logt *full = read_log(D07 "full.tsv"), *es = read_log(D07 "esloss.tsv");
    double best = INFINITY;
    int best_epoch = -1, wait = 0, fire_epoch = -1;
    for (int i = 0; i < full->n && fire_epoch < 0; i++) {
        double vl = full->v[i][4];
        if (isnan(vl)) continue;
        int epoch = (int)lround(full->v[i][1]);
        if (vl < best) best = vl, best_epoch = epoch, wait = 0;
        else if (++wait >= 5) fire_epoch = epoch;
    }
    cr_assert(fire_epoch > 0 && fire_epoch < 60, "the full run's curve should make patience 5 fire");
    cr_expect_eq(num(D07 "numbers-esloss.tsv", "esloss_stop_epoch"), fire_epoch);
    cr_expect_eq(num(D07 "numbers-esloss.tsv", "esloss_best_epoch"), best_epoch);
    cr_expect_eq(num(D07 "numbers-esloss.tsv", "esloss_stopped_early"), 1);
    /* the same trajectory, cut: every row of the stopped run equals the full run's */
    cr_assert(es->n > 0 && es->n < full->n);
    for (int i = 0; i < es->n; i++)
        for (int c = 0; c < 8; c++)
            cr_expect(memcmp(&es->v[i][c], &full->v[i][c], sizeof(double)) == 0 ||
                          (isnan(es->v[i][c]) && isnan(full->v[i][c])),
                      "row %d column %d differs", i, c);
    cr_expect_eq(es->v[es->n - 1][1], fire_epoch);
    free(full);
    free(es);
}

/* Restored weights are best.bin's, bitwise: when the stop fired (esloss, esacc) and
 * when the run ran out without it (full). Both val_loss runs end with the same model. */
Test(ch07_early, restores_the_best_weights_fired_or_not) {
    cr_expect_eq(num(D07 "numbers-full.tsv", "full_stopped_early"), 0);
    expect_same_params(D07 "full-final.bin", D07 "ckpt/full/best.bin");
    expect_same_params(D07 "esloss-final.bin", D07 "ckpt/esloss/best.bin");
    expect_same_params(D07 "esacc-final.bin", D07 "ckpt/esacc/best.bin");
    cr_expect_str_eq(num_s(D07 "numbers-full.tsv", "full_params"), num_s(D07 "numbers-esloss.tsv", "esloss_params"));
}

/* The overfitting claim: the validation loss of the last epoch is far above the best
 * one, and so is the test loss; the restored model's test loss is the low one, while the
 * test accuracy moves by a few points at most. Stopping saves most of the epochs. */
Test(ch07_early, best_epoch_beats_last_epoch_on_test_loss) {
    const char *f = D07 "numbers-full.tsv";
    cr_expect(num(f, "full_last_val_loss") > 1.4 * num(f, "full_best_metric"));
    cr_expect(num(f, "full_last_test_loss") > 1.4 * num(f, "full_final_test_loss"), "last %g, restored %g",
              num(f, "full_last_test_loss"), num(f, "full_final_test_loss"));
    cr_expect(fabs(num(f, "full_last_test_acc") - num(f, "full_final_test_acc")) < 4);
    cr_expect(num(D07 "numbers-esloss.tsv", "esloss_steps") < 0.5 * num(f, "full_steps"));
    /* the weights at the moment the stop fires are worse than the restored ones */
    cr_expect(num(D07 "numbers-esloss.tsv", "esloss_last_test_loss") > num(D07 "numbers-esloss.tsv", "esloss_final_test_loss"));
    cr_expect(num(D07 "numbers-esacc.tsv", "esacc_steps") < num(f, "full_steps"));
    /* reduce-on-plateau in the same loop: stopped, and it lowered the lr */
    logt *p = read_log(D07 "plateau.tsv");
    cr_expect(p->v[p->n - 1][2] < 0.1 * p->v[0][2], "plateau: lr %g -> %g", p->v[0][2], p->v[p->n - 1][2]);
    cr_expect_eq(num(D07 "numbers-plateau.tsv", "plateau_stopped_early"), 1);
    cr_expect(num(D07 "numbers-plateau.tsv", "plateau_best_metric") < num(f, "full_best_metric"),
              "the plateau run should reach a lower validation loss than any constant-lr epoch");
    free(p);
}

/* ---------------------------------------------------------------------------------- */
/* §7.3 Spikes and back-off. */
Test(ch07_spike, backoff_recovers_where_the_plain_run_dies) {
    cr_expect(num(D07 "numbers-plain08.tsv", "plain08_diverged_at") > 0, "lr 0.8 without back-off should diverge");
    cr_expect_eq(num(D07 "numbers-backoff08.tsv", "backoff08_diverged_at"), -1);
    cr_expect(num(D07 "numbers-backoff08.tsv", "backoff08_backoffs") >= 1);
    cr_expect(num(D07 "numbers-backoff08.tsv", "backoff08_final_test_acc") > 70);
    /* lr 0.7: the plain run does not stop but ends at chance; the back-off run learns */
    cr_expect(num(D07 "numbers-plain07.tsv", "plain07_final_test_acc") < 20);
    cr_expect(num(D07 "numbers-backoff07.tsv", "backoff07_final_test_acc") > 45);
    cr_expect(num(D07 "numbers-backoff07.tsv", "backoff07_backoffs") >= 1);
}

/* Every back-off is logged: the lr halves each time, rolled back to a checkpoint before
 * the spike; when all of lr 0.8's went back to step 0, the run IS the lr-0.2 run. */
Test(ch07_spike, every_backoff_is_logged) {
    char *text = t_slurp(D07 "events-backoff08.tsv");
    cr_assert_not_null(text);
    double scale = 1, first_lr = num(D07 "numbers-backoff08.tsv", "backoff08_lr");
    int n = 0, all_zero = 1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || strncmp(line, "step", 4) == 0) continue;
        double step, loss, median, back, s, lr;
        cr_assert_eq(sscanf(line, "%lf %lf %lf %lf %lf %lf", &step, &loss, &median, &back, &s, &lr), 6);
        scale *= 0.5;
        cr_expect(fabs(s - scale) < 1e-12 && fabs(lr - first_lr * scale) < 1e-9);
        cr_expect(back < step && (!isfinite(loss) || loss > 3 * median));
        all_zero &= back == 0;
        n++;
    }
    free(text);
    cr_expect_eq(n, num(D07 "numbers-backoff08.tsv", "backoff08_backoffs"));
    if (all_zero)
        cr_expect_str_eq(num_s(D07 "numbers-backoff08.tsv", "backoff08_params"),
                         num_s(D07 "numbers-ref02.tsv", "ref02_params"));
}

/* An lr no back-off can rescue: exit 1, one line that says it gave up and after how many. */
Test(ch07_spike, impossible_lr_gives_up_with_a_report) {
    char dir[] = "/tmp/gdtest-ch07-XXXXXX", cmd[512];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             FIT " --train-size 500 --val-size 500 --epochs 2 --optim sgd:lr=1000 --backoff retries=2 "
                 "--ckpt-dir %s/ck",
             dir);
    t_assert_rejects(cmd, 1, "gave up after 2 back-offs");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* ---------------------------------------------------------------------------------- */
/* §7.4 Killed and resumed: bitwise the straight run, from the newest checkpoint. */
Test(ch07_resume, killed_and_resumed_equals_straight) {
    cr_expect_eq(num(D07 "numbers-resumed.tsv", "resumed_resumed_from"), 40);
    cr_expect_str_eq(num_s(D07 "numbers-resumed.tsv", "resumed_params"),
                     num_s(D07 "numbers-straight.tsv", "straight_params"));
    expect_same_params(D07 "straight-final.bin", D07 "resumed-final.bin");
    cr_expect_str_eq(num_s(D07 "numbers-killed.tsv", "killed_dir"), "best.bin ckpt-00000030.bin ckpt-00000040.bin");
    /* the resumed log's rows are the straight log's rows for the same steps */
    logt *s = read_log(D07 "straight.tsv"), *r = read_log(D07 "resumed.tsv");
    int matched = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < s->n; j++)
            if (s->v[j][0] == r->v[i][0]) {
                cr_expect(r->v[i][3] == s->v[j][3], "step %g: train loss %g vs %g", r->v[i][0], r->v[i][3],
                          s->v[j][3]);
                matched++;
            }
    cr_expect_eq(matched, r->n);
    free(s);
    free(r);
}

/* ---------------------------------------------------------------------------------- */
Test(ch07_cli, bad_options_rejected) {
    t_assert_rejects(FIT " --early patience=-1", 2, "--early");
    t_assert_rejects(FIT " --early monitor=accuracy", 2, "--early");
    t_assert_rejects(FIT " --backoff factor=2 --ckpt-dir /tmp/x", 2, "--backoff");
    t_assert_rejects(FIT " --backoff factor=0.5", 2, "--ckpt-dir");
    t_assert_rejects(FIT " --epochs 0", 2, "--epochs");
    t_assert_rejects(FIT " --train-size 59000 --val-size 5000", 2, "--train-size");
    t_assert_rejects(FIT " --optim sgd:lr=-1", 2, "--optim");
    t_assert_rejects(FIT " --sched cosine:T=0", 2, "--sched");
    t_result r = t_run(FIT " --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--early") && strstr(r.out, "--backoff") && strstr(r.out, "--resume"));
    t_free(&r);
}

/* The numbers and code quoted in the chapter's prose are the ones the programs produce now. */

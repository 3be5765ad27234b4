/* fuzz_cli.c -- the option parser (cli.h: gd_cli_parse), with a table that has every
 * kind of option, against what cli.h promises every program.
 *
 * Input: the arguments, one per line ('\n' separates them; at most 64). argv[0] is
 * "build/bin/fuzz-cli". Each '/' in an argument becomes '_', and the parse runs in
 * the harness's temporary directory, so the output options (GD_OPT_OUT, GD_OPT_OUTDIR,
 * which gd_cli_parse checks) can only name entries of that directory: nothing outside
 * it is ever looked at, whatever the input.
 *
 * Checked (stdout and stderr captured around each parse):
 *   - the result is GD_CLI_OK, GD_CLI_HELP or GD_CLI_ERROR;
 *   - ERROR: exactly one line on stderr, "fuzz-cli: ...", printable, nothing on stdout;
 *   - HELP: the usage on stdout, nothing on stderr;
 *   - OK: nothing on either, and every destination holds a value its option allows
 *     (numbers finite and in range, min_open respected, lists of 1..GD_FLOATS_MAX
 *     values each in range, strings non-empty and pointing into argv, output paths
 *     that gd_out_check / gd_out_check_dir accept).
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#ifdef GD_OPT_OUT
#include "out.h"
#endif

#define FUZZ_CLI_MAXARGS 64

static double fuzz_cli_lr, fuzz_cli_mom, fuzz_cli_neg;
static long fuzz_cli_steps, fuzz_cli_wide;
static uint64_t fuzz_cli_seed;
static const char *fuzz_cli_str, *fuzz_cli_out, *fuzz_cli_dir;
static int fuzz_cli_flag, fuzz_cli_flag2;
static gd_floats fuzz_cli_lrs;

/* Names that prefix each other (lr, lrs; out, outdir), both number kinds, every range
 * form. */
static const gd_opt fuzz_cli_opts[] = {
    GD_OPT_FLOAT("lr", &fuzz_cli_lr, "learning rate", 0, 10, 1),
    GD_OPT_FLOAT("momentum", &fuzz_cli_mom, "momentum", 0, 1, 0),
    GD_OPT_FLOAT("shift", &fuzz_cli_neg, "a signed number", -1e6, 1e6, 0),
    GD_OPT_FLOATS("lrs", &fuzz_cli_lrs, "learning rates", 0, 100, 1),
    GD_OPT_INT("steps", &fuzz_cli_steps, "number of steps", 1, 1000000),
    GD_OPT_INT("wide", &fuzz_cli_wide, "any long", -9.2e18, 9.2e18),
    GD_OPT_SEED("seed", &fuzz_cli_seed, "random seed"),
    GD_OPT_STRING("sched", &fuzz_cli_str, "a spec"),
    GD_OPT_FLAG("quiet", &fuzz_cli_flag, "a flag"),
    GD_OPT_FLAG("q", &fuzz_cli_flag2, "a one-letter flag"),
#ifdef GD_OPT_OUT
    GD_OPT_OUT("out", &fuzz_cli_out, "output table"),
    GD_OPT_OUTDIR("outdir", &fuzz_cli_dir, "checkpoint directory"),
#else
    GD_OPT_STRING("out", &fuzz_cli_out, "output table"),
    GD_OPT_STRING("outdir", &fuzz_cli_dir, "checkpoint directory"),
#endif
    GD_OPT_END,
};

static void fuzz_cli_defaults(void) {
    fuzz_cli_lr = 0.1, fuzz_cli_mom = 0.9, fuzz_cli_neg = 0;
    fuzz_cli_steps = 100, fuzz_cli_wide = 0;
    fuzz_cli_seed = 42;
    fuzz_cli_str = NULL;
    fuzz_cli_out = "out.tsv";
    fuzz_cli_dir = "ckpt";
    fuzz_cli_flag = fuzz_cli_flag2 = 0;
    memset(&fuzz_cli_lrs, 0, sizeof fuzz_cli_lrs);
}

static int fuzz_cli_in(double v, const gd_opt *o) {
    return isfinite(v) && (o->min_open ? v > o->min : v >= o->min) && v <= o->max;
}

static int fuzz_cli_inside(const char *s, char **argv, int argc) {
    for (int i = 0; i < argc; i++)
        if (s >= argv[i] && s <= argv[i] + strlen(argv[i])) return 1;
    return 0;
}

int gd_fuzz_cli(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    static int home = -1, work = -1;
    if (work < 0) {
        char p[4200];
        snprintf(p, sizeof p, "%s/cwd", gd_fuzz_dir());
        mkdir(p, 0700);
        work = open(p, O_RDONLY | O_DIRECTORY);
        home = open(".", O_RDONLY | O_DIRECTORY);
        if (work < 0 || home < 0) gd_fuzz_fail("cli", "cannot set up its directory", NULL);
    }

    /* argv: the lines, '/' made '_' */
    char *text = gd_fuzz_strdup(data, size);
    if (!text) return 0;
    for (size_t i = 0; i < size; i++)
        if (text[i] == '/') text[i] = '_';
    char *argv[FUZZ_CLI_MAXARGS + 2];
    int argc = 0;
    argv[argc++] = "build/bin/fuzz-cli";
    if (size > 0)
        for (char *w = text; w && argc <= FUZZ_CLI_MAXARGS;) {
            char *nl = memchr(w, '\n', size - (size_t)(w - text));
            if (nl) *nl = '\0';
            argv[argc++] = w;
            w = nl ? nl + 1 : NULL;
        }
    argv[argc] = NULL;
    fuzz_cli_defaults();

    /* parse in the temporary directory, stdout and stderr (the FILEs, not the file
     * descriptors: a sanitizer's report still reaches the real stderr) captured */
    char *out_text = NULL, *err_text = NULL;
    size_t nout = 0, nerr = 0;
    FILE *real_out = stdout, *real_err = stderr;
    FILE *cap_out = open_memstream(&out_text, &nout), *cap_err = open_memstream(&err_text, &nerr);
    if (!cap_out || !cap_err) gd_fuzz_fail("cli", "open_memstream", NULL);
    fflush(stdout);
    fflush(stderr);
    stdout = cap_out;
    stderr = cap_err;
    if (fchdir(work) != 0) gd_fuzz_fail("cli", "fchdir", NULL);
    int rc = gd_cli_parse(argc, argv, "Checks options for the fuzzer.", fuzz_cli_opts);
    if (fchdir(home) != 0) gd_fuzz_fail("cli", "fchdir back", NULL);
    stdout = real_out;
    stderr = real_err;
    fclose(cap_out);
    fclose(cap_err);

    if (rc == GD_CLI_ERROR) {
        if (nout) gd_fuzz_fail("cli", "an error printed on stdout", out_text);
        if (strncmp(err_text, "fuzz-cli: ", 10) != 0) gd_fuzz_fail("cli", "an error not naming the program", err_text);
        char *nl = strchr(err_text, '\n');
        if (!nl || nl[1] != '\0') gd_fuzz_fail("cli", "an error that is not exactly one line", err_text);
        for (const unsigned char *c = (const unsigned char *)err_text; *c != '\n'; c++)
            if (*c < 0x20 || *c == 0x7f) gd_fuzz_fail("cli", "a control character in the error line", err_text);
    } else if (rc == GD_CLI_HELP) {
        if (nerr) gd_fuzz_fail("cli", "--help printed on stderr", err_text);
        if (!nout) gd_fuzz_fail("cli", "--help printed nothing", NULL);
    } else if (rc == GD_CLI_OK) {
        if (nout || nerr) gd_fuzz_fail("cli", "a good parse printed", nerr ? err_text : out_text);
        const gd_opt *o = fuzz_cli_opts;
        if (!fuzz_cli_in(fuzz_cli_lr, &o[0]) || !fuzz_cli_in(fuzz_cli_mom, &o[1]) || !fuzz_cli_in(fuzz_cli_neg, &o[2]))
            gd_fuzz_fail("cli", "a number option out of its range", NULL);
        if (fuzz_cli_lrs.n < 0 || fuzz_cli_lrs.n > GD_FLOATS_MAX) gd_fuzz_fail("cli", "list length", NULL);
        for (int i = 0; i < fuzz_cli_lrs.n; i++)
            if (!fuzz_cli_in(fuzz_cli_lrs.v[i], &o[3])) gd_fuzz_fail("cli", "a list element out of range", NULL);
        if (fuzz_cli_steps < 1 || fuzz_cli_steps > 1000000) gd_fuzz_fail("cli", "--steps out of range", NULL);
        if ((double)fuzz_cli_wide < -9.2e18 || (double)fuzz_cli_wide > 9.2e18) gd_fuzz_fail("cli", "--wide out of range", NULL);
        const char *strs[] = {fuzz_cli_str, fuzz_cli_out, fuzz_cli_dir};
        for (int i = 0; i < 3; i++)
            if (strs[i] && strs[i][0] == '\0') gd_fuzz_fail("cli", "an empty string accepted", NULL);
        if (fuzz_cli_str && !fuzz_cli_inside(fuzz_cli_str, argv, argc))
            gd_fuzz_fail("cli", "a string option not pointing into argv", NULL);
#ifdef GD_OPT_OUT
        if (fchdir(work) != 0) gd_fuzz_fail("cli", "fchdir", NULL);
        if (gd_out_check(fuzz_cli_out) != 0) gd_fuzz_fail("cli", "--out accepted but gd_out_check refuses it", gd_error());
        if (gd_out_check_dir(fuzz_cli_dir) != 0)
            gd_fuzz_fail("cli", "--outdir accepted but gd_out_check_dir refuses it", gd_error());
        if (fchdir(home) != 0) gd_fuzz_fail("cli", "fchdir back", NULL);
#endif
    } else
        gd_fuzz_fail("cli", "gd_cli_parse returned something else", NULL);
    if (gd_cli_argc() != argc || gd_cli_argv() != argv) gd_fuzz_fail("cli", "gd_cli_argv is not the argv given", NULL);

    free(out_text);
    free(err_text);
    free(text);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_cli(data, size); }
#endif

/* test_cli.c -- lib/cli.h: gd_cli_parse against the contract in cli.h: both option
 * forms, numbers that must be numbers, finite and in range, and exactly one line on
 * stderr that names the program and the option for anything wrong.
 *
 * stdout and stderr are captured around each parse (dup2 onto temporary files), so
 * the messages can be checked and do not clutter the test output.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"

/* ------------------------------------------------------------------------------- */
/* the option table of a typical chapter program */

static double lr, momentum;
static long steps;
static uint64_t seed;
static const char *out;
static int verbose;
static gd_floats lrs;

static const gd_opt OPTS[] = {
    GD_OPT_FLOAT("lr", &lr, "learning rate", 0, 10, 1),            /* 0 < lr <= 10 */
    GD_OPT_FLOAT("momentum", &momentum, "momentum", 0, 1, 0),      /* 0 <= m <= 1 */
    GD_OPT_INT("steps", &steps, "number of steps", 1, 1000),
    GD_OPT_SEED("seed", &seed, "random seed"),
    GD_OPT_STRING("out", &out, "output table"),
    GD_OPT_FLAG("verbose", &verbose, "say more"),
    GD_OPT_FLOATS("lrs", &lrs, "learning rates", 0, 10, 1),
    GD_OPT_END,
};

static void defaults(void) {
    lr = 0.1;
    momentum = 0.9;
    steps = 100;
    seed = 42;
    out = "build/x.tsv";
    verbose = 0;
    memset(&lrs, 0, sizeof lrs);
}

static char out_text[1 << 14], err_text[1 << 14];

static void read_back(FILE *f, char *buf, size_t n) {
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* parse("--lr", "0.1", NULL): argv[0] is a path, as the shell passes it. Resets the
 * destinations to their defaults first; captures stdout and stderr. */
static int parse(const char *first, ...) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = "build/bin/ch01-test";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    defaults();

    fflush(stdout);
    fflush(stderr);
    FILE *fo = tmpfile(), *fe = tmpfile();
    cr_assert(fo && fe);
    int so = dup(1), se = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = gd_cli_parse(argc, argv, "Runs a test program.", OPTS);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    read_back(fo, out_text, sizeof out_text);
    read_back(fe, err_text, sizeof err_text);
    return rc;
}

/* An error: GD_CLI_ERROR, nothing on stdout, and on stderr exactly one line that starts
 * with the program's name and contains `needle` (the option, or the bad argument). */
static void expect_error(const char *needle, const char *first, ...) {
    char *args[64];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) args[n++] = (char *)a;
    va_end(ap);
    args[n] = NULL;
    /* re-dispatch through parse() with up to 4 arguments */
    cr_assert(n >= 1 && n <= 4);
    int rc = parse(args[0], args[1], n > 1 ? args[2] : NULL, n > 2 ? args[3] : NULL,
                   (const char *)NULL);
    char shown[256] = "";
    for (int i = 0; i < n; i++) {
        strcat(shown, " '");
        strncat(shown, args[i], 40);
        strcat(shown, "'");
    }
    cr_assert_eq(rc, GD_CLI_ERROR, "accepted:%s (rc %d)", shown, rc);
    cr_assert_str_empty(out_text, "printed to stdout for:%s", shown);
    size_t len = strlen(err_text);
    cr_assert(len > 0 && err_text[len - 1] == '\n' && strchr(err_text, '\n') == err_text + len - 1,
              "not exactly one line on stderr for:%s: '%s'", shown, err_text);
    cr_assert(strncmp(err_text, "ch01-test: ", 11) == 0, "message does not start with the program name: %s",
              err_text);
    cr_assert(strstr(err_text, needle), "message '%s' does not contain '%s'", err_text, needle);
}

/* ------------------------------------------------------------------------------- */
/* accepted input */

Test(lib_cli, no_arguments_keeps_defaults) {
    cr_assert_eq(parse(NULL), GD_CLI_OK);
    cr_assert(lr == 0.1 && steps == 100 && seed == 42 && verbose == 0 && lrs.n == 0);
    cr_assert_str_eq(out, "build/x.tsv");
    cr_assert_str_empty(err_text);
    cr_assert_str_eq(gd_prog(), "ch01-test", "gd_prog() = '%s': basename of argv[0]", gd_prog());
}

Test(lib_cli, both_value_forms) {
    cr_assert_eq(parse("--lr=0.25", NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(lr, 0.25);
    cr_assert_eq(parse("--lr", "0.125", NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(lr, 0.125);
    /* strtod of "0.1" is the double nearest 0.1, as the literal is */
    cr_assert_eq(parse("--lr=0.1", NULL), GD_CLI_OK);
    cr_assert_eq(lr, 0.1);
    cr_assert_eq(parse("--lr", "1e-3", NULL), GD_CLI_OK);
    cr_assert_eq(lr, 1e-3);
}

Test(lib_cli, several_options_at_once) {
    cr_assert_eq(parse("--lr", "0.5", "--steps=20", "--seed", "7", "--out", "a.tsv", "--verbose",
                       "--momentum=0", NULL),
                 GD_CLI_OK, "%s", err_text);
    cr_assert_eq(lr, 0.5);
    cr_assert_eq(steps, 20);
    cr_assert_eq(seed, 7);
    cr_assert_str_eq(out, "a.tsv");
    cr_assert_eq(verbose, 1);
    cr_assert_eq(momentum, 0.0);
    cr_assert_str_empty(err_text);
    cr_assert_str_empty(out_text);
}

Test(lib_cli, range_boundaries) {
    /* lr: min 0 open, max 10 closed; momentum: [0, 1] closed */
    cr_assert_eq(parse("--lr", "10", NULL), GD_CLI_OK);
    cr_assert_eq(lr, 10.0);
    cr_assert_eq(parse("--lr", "1e-300", NULL), GD_CLI_OK);
    cr_assert_eq(lr, 1e-300);
    cr_assert_eq(parse("--momentum", "0", NULL), GD_CLI_OK);
    cr_assert_eq(momentum, 0.0);
    cr_assert_eq(parse("--momentum", "1", NULL), GD_CLI_OK);
    cr_assert_eq(momentum, 1.0);
    expect_error("--momentum", "--momentum", "-0.001", NULL);
    expect_error("--momentum", "--momentum", "1.001", NULL);
    expect_error("--lr", "--lr", "10.5", NULL);
}

/* ------------------------------------------------------------------------------- */
/* rejected floats */

Test(lib_cli, bad_lr_values_rejected) {
    const char *bad[] = {"abc", "nan", "NaN", "inf", "-inf", "", "0", "-0", "-1", "1e400",
                         "0.1x", "0.1 ", "x0.1", "1,2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_error("--lr", "--lr", bad[i], NULL);
        char eq[64];
        snprintf(eq, sizeof eq, "--lr=%s", bad[i]);
        expect_error("--lr", eq, NULL);
    }
}

Test(lib_cli, message_says_what_is_wrong) {
    /* "ch01-test: --lr: must be > 0, got -1" (cli.h): the bad value appears */
    expect_error("-1", "--lr", "-1", NULL);
    expect_error("abc", "--lr", "abc", NULL);
}

/* ------------------------------------------------------------------------------- */
/* structural errors */

Test(lib_cli, unknown_option) {
    expect_error("--foo", "--foo", "1", NULL);
    expect_error("--foo", "--foo=1", NULL);
    /* no abbreviations or prefixes: --l is not --lr, --lrx is not --lr */
    expect_error("--l", "--l=0.1", NULL);
    expect_error("--lrx", "--lrx", "0.1", NULL);
    expect_error("--", "--", NULL);
}

Test(lib_cli, missing_value) {
    expect_error("--lr", "--lr", NULL);
    expect_error("--seed", "--steps", "3", "--seed", NULL);
    expect_error("--out", "--out", NULL);
}

Test(lib_cli, flag_takes_no_value) {
    expect_error("--verbose", "--verbose=1", NULL);
    expect_error("--verbose", "--verbose=", NULL);
    /* "--verbose 1": the flag is set and "1" is then a stray argument */
    expect_error("1", "--verbose", "1", NULL);
}

Test(lib_cli, stray_positional_argument) {
    expect_error("input.txt", "input.txt", NULL);
    expect_error("input.txt", "--lr", "0.1", "input.txt", NULL);
    expect_error("-x", "-x", NULL);
}

Test(lib_cli, empty_string_rejected) {
    expect_error("--out", "--out=", NULL);
    expect_error("--out", "--out", "", NULL);
}

/* ------------------------------------------------------------------------------- */
/* --help */

Test(lib_cli, help) {
    const char *forms[2] = {"--help", "-h"};
    for (int f = 0; f < 2; f++) {
        cr_assert_eq(parse(forms[f], NULL), GD_CLI_HELP, "%s", forms[f]);
        cr_assert_str_empty(err_text, "help wrote to stderr");
        cr_assert(strstr(out_text, "ch01-test"), "usage does not name the program:\n%s", out_text);
        cr_assert(strstr(out_text, "Runs a test program."), "usage lacks the about text");
        const char *names[] = {"--lr", "--momentum", "--steps", "--seed", "--out", "--verbose", "--lrs",
                               "--help"};
        for (int i = 0; i < 8; i++)
            cr_assert(strstr(out_text, names[i]), "usage lacks %s:\n%s", names[i], out_text);
        /* "The current value of each destination is its default and is shown by --help" */
        cr_assert(strstr(out_text, "0.1"), "the default lr is not shown:\n%s", out_text);
        cr_assert(strstr(out_text, "build/x.tsv"), "the default out is not shown");
    }
    /* --help wins even after valid options */
    cr_assert_eq(parse("--lr", "0.5", "--help", NULL), GD_CLI_HELP);
}

/* ------------------------------------------------------------------------------- */
/* integers */

Test(lib_cli, int_values) {
    cr_assert_eq(parse("--steps", "1", NULL), GD_CLI_OK);
    cr_assert_eq(steps, 1);
    cr_assert_eq(parse("--steps=1000", NULL), GD_CLI_OK);
    cr_assert_eq(steps, 1000);
    const char *bad[] = {"0", "1001", "-5", "3.5", "1e3", "abc", "", "7x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_error("--steps", "--steps", bad[i], NULL);
}

/* ------------------------------------------------------------------------------- */
/* seeds: 0 to 2^64 - 1 */

Test(lib_cli, seed_values) {
    cr_assert_eq(parse("--seed", "0", NULL), GD_CLI_OK);
    cr_assert_eq(seed, 0);
    cr_assert_eq(parse("--seed=18446744073709551615", NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(seed, UINT64_MAX);
    cr_assert_eq(parse("--seed", "9007199254740993", NULL), GD_CLI_OK); /* 2^53 + 1: not via double */
    cr_assert_eq(seed, 9007199254740993ULL);
    const char *bad[] = {"-1", "-0", "18446744073709551616", "1.5", "abc", "", "1e3", "12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_error("--seed", "--seed", bad[i], NULL);
}

Test(lib_cli, seed_negative_with_leading_space_rejected) {
    /* strtoull skips leading blanks and then negates "-1" to 2^64 - 1, so a check of
     * val[0] == '-' alone let " -1" (e.g. --seed " -1" or --seed="$S" with S=" -1")
     * through as 18446744073709551615 (fixed in 966a8c0: the value must start with a
     * digit). A negative seed must be rejected however it is spelt. */
    int rc = parse("--seed", " -1", NULL);
    cr_assert_eq(rc, GD_CLI_ERROR, "--seed ' -1' accepted as %llu", (unsigned long long)seed);
}

/* ------------------------------------------------------------------------------- */
/* lists of floats */

Test(lib_cli, floats_lists) {
    cr_assert_eq(parse("--lrs", "0.1,0.2", NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(lrs.n, 2);
    cr_assert(lrs.v[0] == 0.1 && lrs.v[1] == 0.2);
    cr_assert_eq(parse("--lrs=0.5", NULL), GD_CLI_OK);
    cr_assert(lrs.n == 1 && lrs.v[0] == 0.5);
    cr_assert_eq(parse("--lrs", "1e-3,10,2.5", NULL), GD_CLI_OK);
    cr_assert(lrs.n == 3 && lrs.v[0] == 1e-3 && lrs.v[1] == 10 && lrs.v[2] == 2.5);
    /* every element range-checked (min 0 open); empty elements are errors */
    const char *bad[] = {"0.1,,0.2", "0.1,abc", "0.1,", ",0.1", "", ",", "0.1,0", "0.1,-2", "0.1,nan",
                         "0.1,11", "0.1;0.2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_error("--lrs", "--lrs", bad[i], NULL);
}

Test(lib_cli, floats_capacity) {
    /* GD_FLOATS_MAX values fit, one more is an error */
    static char list[GD_FLOATS_MAX * 4 + 8];
    list[0] = '\0';
    for (int i = 0; i < GD_FLOATS_MAX; i++) strcat(list, i ? ",0.5" : "0.5");
    cr_assert_eq(parse("--lrs", list, NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(lrs.n, GD_FLOATS_MAX);
    strcat(list, ",0.5");
    expect_error("--lrs", "--lrs", list, NULL);
}

/* ------------------------------------------------------------------------------- */
/* the number parsers on their own */

Test(lib_cli, parse_double_and_long) {
    double d;
    long l;
    cr_assert_eq(gd_parse_double("0.1", &d), 0);
    cr_assert_eq(d, 0.1);
    cr_assert_eq(gd_parse_double("-2.5e3", &d), 0);
    cr_assert_eq(d, -2500.0);
    const char *bad_d[] = {"", "abc", "nan", "inf", "1e400", "-1e400", "1.0.0"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++) {
        gd_seterr("%s", "");
        cr_assert_eq(gd_parse_double(bad_d[i], &d), -1, "accepted '%s'", bad_d[i]);
        cr_assert(strlen(gd_error()) > 0);
    }
    cr_assert_eq(gd_parse_long("-12", &l), 0);
    cr_assert_eq(l, -12);
    const char *bad_l[] = {"", "1.5", "abc", "12a", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_l / sizeof bad_l[0]; i++) {
        gd_seterr("%s", "");
        cr_assert_eq(gd_parse_long(bad_l[i], &l), -1, "accepted '%s'", bad_l[i]);
        cr_assert(strlen(gd_error()) > 0);
    }
}

/* ------------------------------------------------------------------------------- */
/* Issue 12: numbers are decimal only (strtod reads "0x10" as 16 and skips leading
 * space), messages stay on one line whatever the user typed, and output paths are
 * checked as soon as the options are parsed. */

Test(lib_cli, hex_and_spaces_are_not_numbers) {
    double d;
    long l;
    const char *bad[] = {"0x10", "0X1p3", " 1", "1 ", "\t2", "+", "-", ".", "e5", "1e", "1e+", "infinity",
                         "NaN", "1,5", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(gd_parse_double(bad[i], &d), -1, "gd_parse_double accepted '%s' (%g)", bad[i], d);
        cr_assert_eq(gd_parse_long(bad[i], &l), -1, "gd_parse_long accepted '%s' (%ld)", bad[i], l);
    }
    const char *good_d[] = {"1", "+1", "-1", "1.", ".5", "0.5", "1e-3", "1E+3", "-2.5e3"};
    const double want_d[] = {1, 1, -1, 1, 0.5, 0.5, 1e-3, 1e3, -2.5e3};
    for (size_t i = 0; i < sizeof good_d / sizeof good_d[0]; i++) {
        cr_assert_eq(gd_parse_double(good_d[i], &d), 0, "refused '%s': %s", good_d[i], gd_error());
        cr_assert_eq(d, want_d[i], "'%s' read as %g", good_d[i], d);
    }
    cr_assert_eq(gd_parse_long("+7", &l), 0);
    cr_assert_eq(l, 7);
    cr_assert_eq(gd_parse_long("0x10", &l), -1);
    expect_error("--lr", "--lr", "0x10", NULL);
    expect_error("--steps", "--steps", " 5", NULL);
}

Test(lib_cli, a_newline_in_a_value_gives_one_line) {
    expect_error("--lr", "--lr", "0.1\nsecond line", NULL);
    cr_assert(strstr(err_text, "\\n"), "the newline is not shown as \\n: '%s'", err_text);
    expect_error("unexpected", "stray\nword", NULL);
    expect_error("unknown option", "--no\nsuch", NULL);
}

Test(lib_cli, a_huge_value_gives_one_short_line) {
    size_t n = 100000;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memset(big, '7', n);
    big[n] = '\0';
    big[5] = 'x';
    expect_error("--lr", "--lr", big, NULL);
    cr_assert(strlen(err_text) < 600, "a %zu-character message", strlen(err_text));
    cr_assert(strstr(err_text, "..."), "the cut is not shown: '%s'", err_text);
    free(big);
}

Test(lib_cli, seterr_escapes_control_characters) {
    gd_seterr("a%sb", "\n\t\x01");
    cr_assert_str_eq(gd_error(), "a\\n\\t\\x01b");
    /* the old reason as an argument of the new one (a common pattern) */
    gd_seterr("first: %s", "x");
    gd_seterr("second: %s", gd_error());
    cr_assert_str_eq(gd_error(), "second: first: x");
}

static const char *out_file, *out_dir;
static const gd_opt OUT_OPTS[] = {
    GD_OPT_OUT("out", &out_file, "output table"),
    GD_OPT_OUTDIR("dir", &out_dir, "checkpoint directory"),
    GD_OPT_END,
};

static int parse_out(const char *a1, const char *a2) {
    char *argv[] = {"build/bin/ch01-test", (char *)a1, (char *)a2, NULL};
    fflush(NULL);
    FILE *fe = tmpfile();
    int se = dup(2);
    dup2(fileno(fe), 2);
    int rc = gd_cli_parse(a1 ? (a2 ? 3 : 2) : 1, argv, "Writes.", OUT_OPTS);
    fflush(stderr);
    dup2(se, 2);
    close(se);
    read_back(fe, err_text, sizeof err_text);
    return rc;
}

Test(lib_cli, unwritable_outputs_are_refused_at_parse_time) {
    out_file = "/tmp/gdtest-cli-ok/x.tsv";   /* creatable: passes, and is not created */
    out_dir = NULL;
    cr_assert_eq(parse_out(NULL, NULL), GD_CLI_OK, "%s", err_text);
    struct stat st;
    cr_assert(stat("/tmp/gdtest-cli-ok", &st) != 0, "the check created a directory");
    /* the default is checked too */
    out_file = "/proc/nope/x.tsv";
    cr_assert_eq(parse_out(NULL, NULL), GD_CLI_ERROR, "an unwritable default passed");
    cr_assert(strstr(err_text, "--out") && strchr(err_text, '\n') == err_text + strlen(err_text) - 1,
              "not one line naming --out: '%s'", err_text);
    out_file = "-";
    cr_assert_eq(parse_out("--dir", "/proc/nope"), GD_CLI_ERROR);
    cr_assert(strstr(err_text, "--dir"), "'%s'", err_text);
    out_dir = NULL;
    cr_assert_eq(parse_out("--out=/dev/null", NULL), GD_CLI_OK, "%s", err_text);
    cr_assert_eq(parse_out("--out", "/tmp"), GD_CLI_ERROR, "a directory passed as an output file");
    cr_assert(strstr(err_text, "is a directory"), "'%s'", err_text);
    /* a bad option still wins: the outputs are checked only once the options are good */
    out_file = "/proc/nope/x.tsv";
    cr_assert_eq(parse_out("--bogus", NULL), GD_CLI_ERROR);
    cr_assert(strstr(err_text, "unknown option"), "'%s'", err_text);
}

Test(lib_cli, usage_error_is_one_line_and_returns_2) {
    char *argv[] = {"build/bin/ch01-test", NULL};
    defaults();
    cr_assert_eq(gd_cli_parse(1, argv, "x", OPTS), GD_CLI_OK);
    fflush(NULL);
    FILE *fe = tmpfile();
    int se = dup(2);
    dup2(fileno(fe), 2);
    int rc = gd_usage_error("--tag: letters only, got '%s'", "a\nb");
    fflush(stderr);
    dup2(se, 2);
    close(se);
    read_back(fe, err_text, sizeof err_text);
    cr_assert_eq(rc, 2);
    cr_assert_str_eq(err_text, "ch01-test: --tag: letters only, got 'a\\nb'\n");
}

/* cli.h -- command-line options for the book's programs, declared as a table.
 *
 * Every program accepts --help and `--name value` or `--name=value`. Numbers are
 * checked for being decimal numbers (not hex, no spaces), finite and in range; output
 * paths for being writable; anything wrong gets ONE line on
 * stderr naming the option and the problem ("ch01-quadratic: --lr: must be > 0, got -1").
 * This module is for programs, so it prints; it still never exits:
 *
 *   double lr = 0.1; long steps = 100; const char *out = "build/x.tsv";
 *   gd_opt opts[] = {
 *       GD_OPT_FLOAT("lr", &lr, "learning rate", 0, 10, 1),   // 0 < lr <= 10
 *       GD_OPT_INT("steps", &steps, "number of steps", 1, 1000000),
 *       GD_OPT_STRING("out", &out, "output table"),
 *       GD_OPT_END
 *   };
 *   int rc = gd_cli_parse(argc, argv, "Runs GD on a quadratic.", opts);
 *   if (rc) return rc == GD_CLI_HELP ? 0 : 2;
 *
 * The current value of each destination is its default and is shown by --help.
 */
#ifndef GD_CLI_H
#define GD_CLI_H

#include <stdint.h>

#include "err.h"   /* GD_PRINTF */

#define GD_FLOATS_MAX 64

/* A comma-separated list of numbers: --lr 0.01,0.1,0.5 */
typedef struct gd_floats {
    int n;
    double v[GD_FLOATS_MAX];
} gd_floats;

typedef enum {
    GD_OPT_KIND_END,
    GD_OPT_KIND_FLOAT,    /* double */
    GD_OPT_KIND_FLOATS,   /* gd_floats, each element range-checked */
    GD_OPT_KIND_INT,      /* long */
    GD_OPT_KIND_SEED,     /* uint64_t */
    GD_OPT_KIND_STRING,   /* const char * */
    GD_OPT_KIND_FLAG,     /* int, set to 1 when given; takes no value */
    GD_OPT_KIND_OUT,      /* const char *: a file the program writes ("-": stdout) */
    GD_OPT_KIND_OUTDIR    /* const char *: a directory the program writes files in */
} gd_opt_kind;

typedef struct gd_opt {
    const char *name;     /* without the dashes */
    gd_opt_kind kind;
    void *dst;
    const char *help;
    double min, max;      /* allowed range (numbers) */
    int min_open;         /* 1: the value must be > min rather than >= min */
} gd_opt;

#define GD_OPT_FLOAT(name, dst, help, min, max, min_open) \
    {name, GD_OPT_KIND_FLOAT, dst, help, min, max, min_open}
#define GD_OPT_FLOATS(name, dst, help, min, max, min_open) \
    {name, GD_OPT_KIND_FLOATS, dst, help, min, max, min_open}
#define GD_OPT_INT(name, dst, help, min, max) {name, GD_OPT_KIND_INT, dst, help, min, max, 0}
#define GD_OPT_SEED(name, dst, help) {name, GD_OPT_KIND_SEED, dst, help, 0, 0, 0}
#define GD_OPT_STRING(name, dst, help) {name, GD_OPT_KIND_STRING, dst, help, 0, 0, 0}
#define GD_OPT_FLAG(name, dst, help) {name, GD_OPT_KIND_FLAG, dst, help, 0, 0, 0}
/* Paths the program writes. After every option is parsed, gd_cli_parse checks each of
 * them (the given value or the default) with gd_out_check / gd_out_check_dir (out.h):
 * an output that cannot be written is refused at once, in one line, before any work,
 * not discovered when the results are ready. */
#define GD_OPT_OUT(name, dst, help) {name, GD_OPT_KIND_OUT, dst, help, 0, 0, 0}
#define GD_OPT_OUTDIR(name, dst, help) {name, GD_OPT_KIND_OUTDIR, dst, help, 0, 0, 0}
#define GD_OPT_END {0, GD_OPT_KIND_END, 0, 0, 0, 0, 0}

enum { GD_CLI_OK = 0, GD_CLI_HELP = 1, GD_CLI_ERROR = 2 };

/* Parse argv against opts. GD_CLI_OK; GD_CLI_HELP after printing the usage to stdout;
 * GD_CLI_ERROR after printing one line to stderr. about: one or two sentences for --help. */
int gd_cli_parse(int argc, char **argv, const char *about, const gd_opt *opts);

/* Parse a number the way options do: the whole string, in decimal ([+-]digits[.digits]
 * [e[+-]digits]; no hex, no inf or nan, no surrounding space), finite and, for long, in
 * range. 0, or -1 with a reason. */
int gd_parse_double(const char *s, double *out);
int gd_parse_long(const char *s, long *out);

/* A program's own refusal of what the user gave, after gd_cli_parse: prints
 * "PROG: MESSAGE" as one line on stderr (control characters in it escaped and a long
 * one cut, as gd_seterr does) and returns 2, the exit status for usage errors:
 *   if (!valid(tag)) return gd_usage_error("--tag: 1 to 20 letters, got '%s'", tag); */
int gd_usage_error(const char *fmt, ...) GD_PRINTF(1, 2);

/* The program's name for messages: basename of argv[0], set by gd_cli_parse. */
const char *gd_prog(void);
/* The argv given to the last gd_cli_parse (argc 0 before any): for tables that record
 * the command that wrote them (gd_table_provenance, out.h). */
int gd_cli_argc(void);
char **gd_cli_argv(void);

#endif

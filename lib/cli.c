/* cli.c -- table-driven option parsing; see cli.h. */
#include "cli.h"
#include "err.h"
#include "out.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *gd__prog = "program";

const char *gd_prog(void) { return gd__prog; }

/* The command line as parsed: the program's name and its arguments (not owned). */
static int gd__argc;
static char **gd__argv;
int gd_cli_argc(void) { return gd__argc; }
char **gd_cli_argv(void) { return gd__argv; }

/* A number as a person types it in decimal: [+-] digits [. digits] [e [+-] digits], or
 * with the digits only after the point (.5). Not hex (strtod reads 0x10 as 16), not
 * "inf" or "nan", no space before or after (strtod skips leading space). */
static int gd__decimal(const char *s, int integer) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (!integer && *p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits++;
    }
    if (!digits) return 0;
    if (!integer && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

int gd_parse_double(const char *s, double *out) {
    char *end;
    if (!gd__decimal(s, 0)) return gd_seterr("'%s' is not a number", s);
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0') return gd_seterr("'%s' is not a number", s);
    if (!isfinite(v)) return gd_seterr("'%s' is not a finite number", s);
    if (errno == ERANGE && fabs(v) > 1.0) return gd_seterr("'%s' is out of range", s);
    *out = v;
    return 0;
}

int gd_parse_long(const char *s, long *out) {
    char *end;
    if (!gd__decimal(s, 1)) return gd_seterr("'%s' is not a whole number", s);
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0') return gd_seterr("'%s' is not a whole number", s);
    if (errno == ERANGE) return gd_seterr("'%s' is out of range", s);
    *out = v;
    return 0;
}

int gd_usage_error(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gd_seterr("%s%s", msg, n >= (int)sizeof msg ? "..." : "");   /* escaped: one line */
    fprintf(stderr, "%s: %s\n", gd__prog, gd_error());
    return 2;
}

static int gd__check_range(const gd_opt *o, double v) {
    if (o->min_open ? !(v > o->min) : !(v >= o->min))
        return gd_seterr("must be %s %g, got %g", o->min_open ? ">" : ">=", o->min, v);
    if (!(v <= o->max)) return gd_seterr("must be <= %g, got %g", o->max, v);
    return 0;
}

static int gd__set(const gd_opt *o, const char *val) {
    switch (o->kind) {
    case GD_OPT_KIND_FLOAT: {
        double v;
        if (gd_parse_double(val, &v) || gd__check_range(o, v)) return -1;
        *(double *)o->dst = v;
        return 0;
    }
    case GD_OPT_KIND_FLOATS: {
        gd_floats list = {0};
        const char *p = val;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char item[64];
            if (len == 0 || len >= sizeof item) return gd_seterr("'%s' is not a list of numbers", val);
            if (list.n == GD_FLOATS_MAX) return gd_seterr("more than %d values", GD_FLOATS_MAX);
            memcpy(item, p, len);
            item[len] = '\0';
            if (gd_parse_double(item, &list.v[list.n]) || gd__check_range(o, list.v[list.n]))
                return -1;
            list.n++;
            if (!comma) break;
            p = comma + 1;
        }
        *(gd_floats *)o->dst = list;
        return 0;
    }
    case GD_OPT_KIND_INT: {
        long v;
        if (gd_parse_long(val, &v) || gd__check_range(o, (double)v)) return -1;
        *(long *)o->dst = v;
        return 0;
    }
    case GD_OPT_KIND_SEED: {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)val[0])) return gd_seterr("'%s' is not a seed (0 to 2^64-1)", val);
        unsigned long long v = strtoull(val, &end, 10);
        if (end == val || *end != '\0' || errno == ERANGE)
            return gd_seterr("'%s' is not a seed (0 to 2^64-1)", val);
        *(uint64_t *)o->dst = (uint64_t)v;
        return 0;
    }
    case GD_OPT_KIND_STRING:
    case GD_OPT_KIND_OUT:
    case GD_OPT_KIND_OUTDIR:
        if (val[0] == '\0') return gd_seterr("must not be empty");
        *(const char **)o->dst = val;
        return 0;
    default:
        return gd_seterr("internal: bad option kind");
    }
}

static void gd__print_default(const gd_opt *o) {
    switch (o->kind) {
    case GD_OPT_KIND_FLOAT: printf(" (default %g)", *(double *)o->dst); break;
    case GD_OPT_KIND_INT: printf(" (default %ld)", *(long *)o->dst); break;
    case GD_OPT_KIND_SEED: printf(" (default %" PRIu64 ")", *(uint64_t *)o->dst); break;
    case GD_OPT_KIND_STRING:
    case GD_OPT_KIND_OUT:
    case GD_OPT_KIND_OUTDIR: {
        const char *s = *(const char **)o->dst;
        if (s) printf(" (default %s)", s);
        break;
    }
    case GD_OPT_KIND_FLOATS: {
        const gd_floats *l = o->dst;
        if (l->n == 0) break;
        printf(" (default ");
        for (int i = 0; i < l->n; i++) printf("%s%g", i ? "," : "", l->v[i]);
        printf(")");
        break;
    }
    default: break;
    }
}

static void gd__usage(const char *about, const gd_opt *opts) {
    printf("usage: %s [options]\n%s\n\noptions:\n", gd__prog, about);
    for (const gd_opt *o = opts; o->kind != GD_OPT_KIND_END; o++) {
        char left[64];
        const char *arg = o->kind == GD_OPT_KIND_FLAG     ? ""
                          : o->kind == GD_OPT_KIND_FLOATS ? " X,Y,..."
                          : o->kind == GD_OPT_KIND_STRING ? " S"
                          : o->kind == GD_OPT_KIND_OUT    ? " FILE"
                          : o->kind == GD_OPT_KIND_OUTDIR ? " DIR"
                                                          : " N";
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        printf("  %-22s %s", left, o->help);
        gd__print_default(o);
        printf("\n");
    }
    printf("  %-22s %s\n", "--help", "print this help and exit");
}

int gd_cli_parse(int argc, char **argv, const char *about, const gd_opt *opts) {
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        gd__prog = slash ? slash + 1 : argv[0];
    }
    gd__argc = argc;
    gd__argv = argv;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            gd__usage(about, opts);
            return GD_CLI_HELP;
        }
        if (strncmp(arg, "--", 2) != 0) {
            gd_seterr("unexpected argument '%s' (see --help)", arg);   /* escaped: one line */
            fprintf(stderr, "%s: %s\n", gd__prog, gd_error());
            return GD_CLI_ERROR;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const gd_opt *o = opts;
        while (o->kind != GD_OPT_KIND_END && !(strlen(o->name) == len && strncmp(o->name, name, len) == 0))
            o++;
        if (o->kind == GD_OPT_KIND_END) {
            gd_seterr("unknown option --%.*s (see --help)", (int)(len > 100 ? 100 : len), name);
            fprintf(stderr, "%s: %s\n", gd__prog, gd_error());
            return GD_CLI_ERROR;
        }
        if (o->kind == GD_OPT_KIND_FLAG) {
            if (eq) {
                fprintf(stderr, "%s: --%s takes no value\n", gd__prog, o->name);
                return GD_CLI_ERROR;
            }
            *(int *)o->dst = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "%s: --%s needs a value\n", gd__prog, o->name);
            return GD_CLI_ERROR;
        }
        if (gd__set(o, val) != 0) {
            fprintf(stderr, "%s: --%s: %s\n", gd__prog, o->name, gd_error());
            return GD_CLI_ERROR;
        }
    }
    /* Outputs last, once every option is known good: a usage error never creates
     * anything, and an output that cannot be written stops the program before it works. */
    for (const gd_opt *o = opts; o->kind != GD_OPT_KIND_END; o++) {
        if (o->kind != GD_OPT_KIND_OUT && o->kind != GD_OPT_KIND_OUTDIR) continue;
        const char *path = *(const char **)o->dst;
        if (!path) continue;
        if ((o->kind == GD_OPT_KIND_OUT ? gd_out_check(path) : gd_out_check_dir(path)) != 0) {
            fprintf(stderr, "%s: --%s: %s\n", gd__prog, o->name, gd_error());
            return GD_CLI_ERROR;
        }
    }
    return GD_CLI_OK;
}

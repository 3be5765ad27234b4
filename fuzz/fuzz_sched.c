/* fuzz_sched.c -- the schedule spec parser (sched.h: gd_sched_parse, every program's
 * --sched) and the plateau state reader (gd_sched_state_read, a checkpoint's SCHD).
 *
 * Input: SPEC, optionally followed by "\n" and STATE bytes.
 *   - SPEC goes to gd_sched_parse. Refused: the reason must be one printable line.
 *     Accepted: the lr is evaluated at steps from 0 to LONG_MAX (and -1) and must be a
 *     number >= 0 (not NaN); a cycled momentum must be in [0, 1); the canonical spec
 *     (gd_sched_format) must parse again, format to itself, and give the same lr and
 *     momentum, bit for bit, at every one of those steps; gd_sched_apply sets an
 *     optimizer's lr; a plateau term is fed a few metrics (NaN and inf among them) and
 *     its state must read back into the reparsed schedule exactly.
 *   - STATE (if any) goes to gd_sched_state_read: refused with a reason, or accepted,
 *     and then what the schedule writes reads back exactly elsewhere.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "optim.h"
#include "sched.h"
#include "tensor.h"

static const long fuzz_sched_steps[] = {
    -1, 0, 1, 2, 3, 4, 5, 9, 10, 11, 49, 50, 51, 99, 100, 101, 250, 499, 500, 501, 999, 1000, 1001, 4999,
    5000, 9999, 10000, 65535, 100000, 1000000, 123456789, 1L << 31, 1L << 40, LONG_MAX / 2, LONG_MAX - 1, LONG_MAX,
};
#define FUZZ_SCHED_NSTEPS ((int)(sizeof fuzz_sched_steps / sizeof fuzz_sched_steps[0]))

static int fuzz_sched_same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }

/* lr and momentum at every step: sane, and the same in a and b. */
static void fuzz_sched_compare(const gd_sched *a, const gd_sched *b, const char *canon) {
    for (int i = 0; i < FUZZ_SCHED_NSTEPS; i++) {
        long t = fuzz_sched_steps[i];
        double la = gd_sched_lr(a, t, 0.1), lb = gd_sched_lr(b, t, 0.1);
        if (isnan(la) || la < 0) gd_fuzz_fail("sched", "lr is NaN or negative", canon);
        if (!fuzz_sched_same(la, lb)) gd_fuzz_fail("sched", "canonical spec gives another lr", canon);
        double ma = -1, mb = -1;
        int ha = gd_sched_momentum(a, t, &ma), hb = gd_sched_momentum(b, t, &mb);
        if (ha != hb || (ha && !fuzz_sched_same(ma, mb)))
            gd_fuzz_fail("sched", "canonical spec gives another momentum", canon);
        if (ha && !(ma >= 0 && ma < 1)) gd_fuzz_fail("sched", "momentum outside [0, 1)", canon);
    }
}

/* The plateau state as malloc'd bytes. */
static unsigned char *fuzz_sched_state(const gd_sched *s, size_t *n) {
    *n = gd_sched_state_size(s);
    unsigned char *b = malloc(*n ? *n : 1);
    if (b) gd_sched_state_write(s, b);
    return b;
}

/* What a writes reads into b and b then writes the same bytes. */
static void fuzz_sched_roundtrip(const gd_sched *a, gd_sched *b, const char *what) {
    size_t n1, n2;
    unsigned char *s1 = fuzz_sched_state(a, &n1);
    if (!s1) return;
    if (gd_sched_state_read(b, s1, n1) != 0) gd_fuzz_fail("sched", what, gd_error());
    unsigned char *s2 = fuzz_sched_state(b, &n2);
    if (s2 && (n1 != n2 || memcmp(s1, s2, n1) != 0)) gd_fuzz_fail("sched", what, "written back as other bytes");
    free(s1);
    free(s2);
}

int gd_fuzz_sched(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t spec_n = nl ? (size_t)(nl - data) : size;
    char *spec = gd_fuzz_strdup(data, spec_n);
    if (!spec) return 0;
    gd_fuzz_clear_error();
    gd_sched *s = gd_sched_parse(spec);
    if (!s) {
        gd_fuzz_check_error("sched", "gd_sched_parse");
        free(spec);
        return 0;
    }

    /* the canonical spec: parses, formats to itself, the same schedule */
    /* every key spelled out: a short term grows tenfold and more, so the buffer grows
     * until the spec fits (gd_sched_format cuts at size - 1, as documented) */
    size_t cap = 4096;
    char *canon = NULL, *canon2 = NULL;
    for (;;) {
        free(canon);
        if (!(canon = malloc(cap))) gd_fuzz_fail("sched", "out of memory", NULL);
        gd_sched_format(s, canon, cap);
        if (strlen(canon) < cap - 1) break;
        if (cap > (size_t)1 << 26) gd_fuzz_fail("sched", "canonical spec longer than 64 MB", spec);
        cap *= 2;
    }
    if (!(canon2 = malloc(cap))) gd_fuzz_fail("sched", "out of memory", NULL);
    gd_sched *s2 = gd_sched_parse(canon);
    if (!s2) gd_fuzz_fail("sched", "canonical spec refused", gd_error());
    gd_sched_format(s2, canon2, cap);
    if (strcmp(canon, canon2) != 0) gd_fuzz_fail("sched", "canonical spec formats to another", canon);
    if (gd_sched_has_plateau(s) != gd_sched_has_plateau(s2)) gd_fuzz_fail("sched", "plateau lost", canon);
    fuzz_sched_compare(s, s2, canon);

    /* applied to an optimizer (lr of every group, momentum where cycled) */
    gd_param p;
    int shape[1] = {3};
    if (gd_param_init(&p, "w", 1, shape) == 0) {
        gd_hparams hp = gd_optim_defaults(GD_SGD);
        hp.lr = 0.1;
        gd_optim *o = gd_optim_new(GD_SGD, &hp);
        if (o && gd_optim_add_group(o, &p, 1, NULL) == 0)
            for (int i = 0; i < FUZZ_SCHED_NSTEPS; i += 5) {
                gd_sched_apply(s, fuzz_sched_steps[i], o);
                double lr = gd_optim_lr(o, 0);
                if (!fuzz_sched_same(lr, gd_sched_lr(s, fuzz_sched_steps[i], 0.1)))
                    gd_fuzz_fail("sched", "gd_sched_apply set another lr than gd_sched_lr", canon);
            }
        gd_optim_free(o);
        gd_param_free(&p);
    }

    /* reduce-on-plateau: observations, then the state moves to the reparsed schedule */
    if (gd_sched_has_plateau(s)) {
        const double metrics[] = {1.0, 0.9, 0.9, 0.95, NAN, 0.9, INFINITY, 0.5, 0.5, 0.5, 0.5, -INFINITY, 1e308, 0.5};
        for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
            gd_sched_observe(s, metrics[i]);
            double lr = gd_sched_lr(s, (long)i, 0.1);
            if (isnan(lr) || lr < 0) gd_fuzz_fail("sched", "plateau lr is NaN or negative", canon);
        }
        fuzz_sched_roundtrip(s, s2, "plateau state refused by the same spec");
        fuzz_sched_compare(s, s2, canon);
    }

    /* the fuzzed state */
    if (nl) {
        gd_fuzz_clear_error();
        if (gd_sched_state_read(s, nl + 1, size - spec_n - 1) != 0)
            gd_fuzz_check_error("sched", "gd_sched_state_read");
        else {
            fuzz_sched_roundtrip(s, s2, "accepted state does not round-trip");
            for (int i = 0; i < FUZZ_SCHED_NSTEPS; i++) {
                double lr = gd_sched_lr(s, fuzz_sched_steps[i], 0.1);
                if (isnan(lr) || lr < 0) gd_fuzz_fail("sched", "lr NaN or negative after a state read", canon);
            }
            gd_sched_observe(s, 0.25);
        }
    }
    gd_sched_free(s);
    gd_sched_free(s2);
    free(canon);
    free(canon2);
    free(spec);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_sched(data, size); }
#endif

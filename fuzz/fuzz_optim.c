/* fuzz_optim.c -- the optimizer spec parser (optim.h: gd_optim_parse, every program's
 * --optim) and the optimizer's state reader (gd_optim_state_read, what a checkpoint's
 * OPTM section holds).
 *
 * Input: SPEC, optionally followed by "\n" and STATE bytes.
 *   - SPEC goes to gd_optim_parse. Refused: the reason must be one printable line, and
 *     kind and hp untouched. Accepted: the canonical spec (gd_optim_format) must parse
 *     back to the same kind and hyperparameters, bit for bit; gd_optim_new must accept
 *     them; three updates of a small parameter run (sanitizers watch the arithmetic:
 *     huge lr, eps, betas at their bounds), and the state written after them must read
 *     back into a fresh optimizer and write the same bytes again.
 *   - STATE (if any) goes to gd_optim_state_read of that optimizer: refused with a
 *     reason and the optimizer unchanged (its state bytes the same), or accepted, after
 *     which what it writes reads back exactly and one more update runs.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "optim.h"
#include "tensor.h"

#define GD_FUZZ_OPTIM_N 5   /* elements of the parameter the updates change */

/* One parameter of shape (5), values and gradients from a fixed pattern. */
static int fuzz_optim_param(gd_param *p) {
    int shape[1] = {GD_FUZZ_OPTIM_N};
    if (gd_param_init(p, "w", 1, shape) != 0) return -1;
    for (int i = 0; i < GD_FUZZ_OPTIM_N; i++) {
        p->value->data[i] = 0.5f - 0.25f * (float)i;
        p->grad->data[i] = 0.125f * (float)(i - 2);
    }
    return 0;
}

/* Every field, bitwise (NaN payloads and -0 included). */
static int fuzz_optim_same_hp(const gd_hparams *a, const gd_hparams *b) {
    const double da[] = {a->lr, a->weight_decay, a->momentum, a->dampening, a->beta1, a->beta2, a->eps, a->alpha,
                         a->lr_decay, a->initial_accumulator_value, a->momentum_decay, a->rho};
    const double db[] = {b->lr, b->weight_decay, b->momentum, b->dampening, b->beta1, b->beta2, b->eps, b->alpha,
                         b->lr_decay, b->initial_accumulator_value, b->momentum_decay, b->rho};
    return memcmp(da, db, sizeof da) == 0 && a->nesterov == b->nesterov && a->amsgrad == b->amsgrad &&
           a->centered == b->centered && a->maximize == b->maximize;
}

/* The optimizer's state as malloc'd bytes. */
static unsigned char *fuzz_optim_state(const gd_optim *o, size_t *n) {
    *n = gd_optim_state_size(o);
    unsigned char *b = malloc(*n ? *n : 1);
    if (b) gd_optim_state_write(o, b);
    return b;
}

int gd_fuzz_optim(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t spec_n = nl ? (size_t)(nl - data) : size;
    const uint8_t *state = nl ? nl + 1 : NULL;
    size_t state_n = nl ? size - spec_n - 1 : 0;
    char *spec = gd_fuzz_strdup(data, spec_n);
    if (!spec) return 0;

    gd_optim_kind kind = GD_SGD, kind0 = (gd_optim_kind)-1;
    gd_hparams hp, hp0;
    memset(&hp, 0x5a, sizeof hp);
    hp0 = hp;
    kind = kind0;
    gd_fuzz_clear_error();
    if (gd_optim_parse(spec, &kind, &hp) != 0) {
        gd_fuzz_check_error("optim", "gd_optim_parse");
        if (kind != kind0 || memcmp(&hp, &hp0, sizeof hp) != 0)
            gd_fuzz_fail("optim", "gd_optim_parse", "a refused spec changed kind or hp");
        free(spec);
        return 0;
    }
    if ((int)kind < 0 || (int)kind >= GD_OPTIM_NKINDS) gd_fuzz_fail("optim", "gd_optim_parse", "kind out of range");

    /* the canonical spec parses back to the same thing */
    char canon[4096];
    gd_optim_format(canon, sizeof canon, kind, &hp);
    gd_optim_kind kind2;
    gd_hparams hp2;
    if (gd_optim_parse(canon, &kind2, &hp2) != 0) gd_fuzz_fail("optim", "canonical spec refused", gd_error());
    if (kind2 != kind || !fuzz_optim_same_hp(&hp, &hp2))
        gd_fuzz_fail("optim", "canonical spec parses to other hyperparameters", canon);

    /* an accepted spec makes an optimizer that runs */
    gd_param p, q;
    if (fuzz_optim_param(&p) != 0) {
        free(spec);
        return 0;
    }
    if (fuzz_optim_param(&q) != 0) {
        gd_param_free(&p);
        free(spec);
        return 0;
    }
    gd_optim *o = gd_optim_new(kind, &hp), *o2 = gd_optim_new(kind, &hp);
    if (!o || !o2) gd_fuzz_fail("optim", "gd_optim_new refused a parsed spec", gd_error());
    if (gd_optim_add_group(o, &p, 1, NULL) != 0 || gd_optim_add_group(o2, &q, 1, NULL) != 0)
        gd_fuzz_fail("optim", "gd_optim_add_group refused a parsed spec", gd_error());
    for (int t = 0; t < 3; t++) gd_optim_step(o);

    /* its state reads back into a fresh optimizer, exactly */
    size_t n1, n2;
    unsigned char *s1 = fuzz_optim_state(o, &n1);
    if (s1) {
        if (gd_optim_state_read(o2, s1, n1) != 0) gd_fuzz_fail("optim", "own state refused", gd_error());
        unsigned char *s2 = fuzz_optim_state(o2, &n2);
        if (s2 && (n1 != n2 || memcmp(s1, s2, n1) != 0))
            gd_fuzz_fail("optim", "state read back writes other bytes", canon);
        free(s2);
    }

    /* the fuzzed state: refused with nothing changed, or read exactly */
    if (state && s1) {
        gd_fuzz_clear_error();
        if (gd_optim_state_read(o, state, state_n) != 0) {
            gd_fuzz_check_error("optim", "gd_optim_state_read");
            unsigned char *s3 = fuzz_optim_state(o, &n2);
            if (s3 && (n1 != n2 || memcmp(s1, s3, n1) != 0))
                gd_fuzz_fail("optim", "gd_optim_state_read", "a refused state changed the optimizer");
            free(s3);
        } else {
            /* what it holds now reads into another optimizer and writes the same bytes */
            size_t n3, n4;
            unsigned char *s3 = fuzz_optim_state(o, &n3);
            if (s3 && gd_optim_state_read(o2, s3, n3) != 0)
                gd_fuzz_fail("optim", "a state written after an accepted read is refused", gd_error());
            unsigned char *s4 = s3 ? fuzz_optim_state(o2, &n4) : NULL;
            if (s4 && (n3 != n4 || memcmp(s3, s4, n3) != 0))
                gd_fuzz_fail("optim", "gd_optim_state_read", "an accepted state does not round-trip");
            free(s3);
            free(s4);
            gd_optim_step(o);
        }
    }
    free(s1);
    gd_optim_free(o);
    gd_optim_free(o2);
    gd_param_free(&p);
    gd_param_free(&q);
    free(spec);
    return 0;
}

#ifndef GD_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return gd_fuzz_optim(data, size); }
#endif

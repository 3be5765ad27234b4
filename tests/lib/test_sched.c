/* test_sched.c -- learning-rate schedules (lib/sched.h) against PyTorch and the formulas.
 *
 * Every table in tests/ref/sched/ (written by tests/ref/sched_ref.py with torch 1.13)
 * is PyTorch's lr, and momentum where it is cycled, after t calls of scheduler.step();
 * its header gives the same schedule in our grammar. Ours must agree within
 *     |ours - torch| <= RTOL |torch| + ATOL,   RTOL = 1e-6, ATOL = 1e-12 (lr ~ 0.1)
 * at every row, except outside the header's `agree:` range, where we deliberately
 * differ (tested on their own below). A chain with onecycle or cyclic (seq_*) also has
 * PyTorch's momentum at every row: ours must match it in the `momentum_agree:` range,
 * where a term cycles momentum, and leave momentum to the optimizer outside it
 * (sched.h). Why 1e-6: parameters are float32, whose spacing
 * is 1.2e-7 relative, so an lr within 1e-6 moves a weight by the same float32 values
 * up to a few ulps; both sides compute in double and in fact agree to ~1e-15, and the
 * margin is for PyTorch's recursive forms (lr_t from lr_{t-1}) piling up rounding over
 * hundreds of steps and for libm's cos. ATOL covers lrs that are exactly 0 on one side
 * and 1e-18 on the other.
 *
 * Then: what PyTorch cannot express (WSD, inverse square root, warmup kinds, chains)
 * against the formulas written out here; the spec's errors; format -> parse round
 * trips; reduce-on-plateau's state; and gd_sched_apply on a real optimizer.
 */
#include "../common.h"

#include <criterion/logging.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "err.h"
#include "optim.h"
#include "sched.h"
#include "tensor.h"

#define REF "tests/ref/sched/"
#define RTOL 1e-6
#define ATOL 1e-12
#define MAXROWS 512
#define MAXCOLS 8

static int close_enough(double ours, double ref) { return fabs(ours - ref) <= RTOL * fabs(ref) + ATOL; }

/* One fixture: its header and rows. */
typedef struct {
    char name[128];
    char spec[1024];
    double base[MAXCOLS];
    int nbase;
    long agree_lo, agree_hi;       /* steps where ours must agree (all rows if not given) */
    long mom_lo, mom_hi;           /* chains: the steps where ours cycles momentum (all if not given) */
    int ncols;
    char cols[MAXCOLS][16];
    int nrows;
    double rows[MAXROWS][MAXCOLS];
} fixture;

static int col(const fixture *f, const char *name) {
    for (int c = 0; c < f->ncols; c++)
        if (strcmp(f->cols[c], name) == 0) return c;
    return -1;
}

static void load(fixture *f, const char *name) {
    char path[256];
    snprintf(path, sizeof path, REF "%s", name);
    char *text = t_slurp(path);
    cr_assert_not_null(text, "%s missing: run /usr/bin/python3 tests/ref/sched_ref.py", path);
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->agree_lo = 0, f->agree_hi = -1, f->mom_lo = 0, f->mom_hi = LONG_MAX;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# spec: ", 8) == 0) {
            snprintf(f->spec, sizeof f->spec, "%s", line + 8);
        } else if (strncmp(line, "# base_lr: ", 11) == 0) {
            char *p = line + 11, *end;
            while (f->nbase < MAXCOLS && (f->base[f->nbase] = strtod(p, &end), end != p)) f->nbase++, p = end;
        } else if (strncmp(line, "# agree: ", 9) == 0) {
            cr_assert_eq(sscanf(line + 9, "%ld %ld", &f->agree_lo, &f->agree_hi), 2, "%s: %s", name, line);
        } else if (strncmp(line, "# momentum_agree: ", 18) == 0) {
            cr_assert_eq(sscanf(line + 18, "%ld %ld", &f->mom_lo, &f->mom_hi), 2, "%s: %s", name, line);
        } else if (line[0] == '#') {
            continue;
        } else if (f->ncols == 0) {
            for (char *s2, *c = strtok_r(line, "\t", &s2); c && f->ncols < MAXCOLS; c = strtok_r(NULL, "\t", &s2))
                snprintf(f->cols[f->ncols++], sizeof f->cols[0], "%s", c);
        } else {
            cr_assert_lt(f->nrows, MAXROWS, "%s: too many rows", name);
            char *p = line, *end;
            for (int c = 0; c < f->ncols; c++, p = end) {
                f->rows[f->nrows][c] = strtod(p, &end);
                cr_assert_neq(end, p, "%s: bad row '%s'", name, line);
            }
            f->nrows++;
        }
    }
    free(text);
    cr_assert(f->spec[0] && f->nbase > 0 && f->nrows > 0 && col(f, "lr") == (col(f, "metric") >= 0 ? 2 : 1),
              "%s: malformed fixture", name);
    if (f->agree_hi < 0) f->agree_hi = (long)f->rows[f->nrows - 1][0];
}

static gd_sched *parse_ok(const char *spec) {
    gd_sched *s = gd_sched_parse(spec);
    cr_assert_not_null(s, "'%s' rejected: %s", spec, gd_error());
    return s;
}

/* Compare one fixture; returns the largest relative error seen (for the log). */
static double check_fixture(const fixture *f) {
    gd_sched *s = parse_ok(f->spec);
    double worst = 0;
    int lr = col(f, "lr"), mom = col(f, "momentum"), metric = col(f, "metric");
    for (int r = 0; r < f->nrows; r++) {
        long t = (long)f->rows[r][0];
        if (metric >= 0 && r > 0) gd_sched_observe(s, f->rows[r][metric]);   /* row 0: before any */
        if (t < f->agree_lo || t > f->agree_hi) continue;
        /* one lr column per parameter group: lr, lr1, lr2, ... each from its own base */
        for (int g = 0; g < f->nbase; g++) {
            double ref = f->rows[r][lr + g], ours = gd_sched_lr(s, t, f->base[g]);
            cr_expect(close_enough(ours, ref), "%s: step %ld group %d: ours %.17g, torch %.17g", f->name, t, g, ours,
                      ref);
            if (ref != 0) worst = fmax(worst, fabs(ours - ref) / fabs(ref));
        }
        double m = NAN;
        int cycled = gd_sched_momentum(s, t, &m);
        if (mom >= 0 && (t < f->mom_lo || t > f->mom_hi)) {
            /* a chain's term that does not cycle momentum leaves it to the optimizer, where
             * PyTorch's OneCycleLR and CyclicLR set it at construction (sched.h) */
            cr_expect(!cycled, "%s: step %ld: momentum cycled outside momentum_agree", f->name, t);
        } else if (mom >= 0) {
            double ref = f->rows[r][mom];
            cr_expect(cycled && close_enough(m, ref), "%s: step %ld: momentum ours %.17g (%d), torch %.17g", f->name,
                      t, m, cycled, ref);
            worst = fmax(worst, fabs(m - ref) / fabs(ref));
        } else {
            cr_expect(!cycled, "%s: step %ld: momentum cycled but PyTorch does not", f->name, t);
        }
    }
    gd_sched_free(s);
    return worst;
}

/* Every PyTorch scheduler over its range, edges included. */
Test(lib_sched, agrees_with_every_pytorch_fixture) {
    DIR *d = opendir(REF);
    cr_assert_not_null(d, "no " REF);
    struct dirent *e;
    int n = 0;
    double worst = 0;
    char worst_name[sizeof e->d_name] = "";
    static fixture f;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".tsv") != 0) continue;
        load(&f, e->d_name);
        double w = check_fixture(&f);
        if (w > worst) worst = w, snprintf(worst_name, sizeof worst_name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 63, "only %d fixtures in " REF, n);
    cr_log_info("lib_sched: %d PyTorch fixtures, worst relative error %.3g (%s)", n, worst, worst_name);
}

/* Every kind of PyTorch scheduler has a fixture (a deleted file would go unnoticed). */
Test(lib_sched, fixtures_cover_every_pytorch_scheduler) {
    const char *names[] = {"constant", "step", "multistep", "exp", "exp_staircase", "linear_decay", "poly",
                           "cosine", "restarts", "restarts_mult2", "cyclic", "cyclic_triangular2",
                           "cyclic_exp_range", "onecycle", "onecycle_three_phase", "warmup_linear",
                           "warmup_constant", "warmup_exp", "seq_warmup_cosine", "seq_cosine_cut_exp",
                           "seq_wsd_linear", "wsd_sqrt", "invsqrt_vaswani", "plateau_min_rel",
                           "plateau_min_abs_cooldown", "plateau_max_rel", "plateau_max_abs", "plateau_min_lr",
                           "plateau_eps", "plateau_eps_equal", "plateau_abs_boundary", "plateau_nan",
                           "seq_onecycle_step", "seq_onecycle_constant", "seq_onecycle_cosine",
                           "seq_warmup_onecycle", "seq_warmup_onecycle_cosine", "seq_constant_cosine_onecycle",
                           "seq_restarts_onecycle", "seq_two_onecycles", "seq_cyclic_cosine"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, REF "%s.tsv", names[i]);
        cr_expect_eq(access(path, R_OK), 0, "%s missing", path);
    }
}

/* Deliberate difference 1: PyTorch's CosineAnnealingLR is recursive, and past T_max it
 * follows the cosine back up (period 2 T_max). Ours holds the floor. */
Test(lib_sched, cosine_holds_min_after_T_where_pytorch_rises) {
    const char *files[] = {"cosine.tsv", "cosine_min.tsv", "cosine_T1.tsv"};
    static fixture f;
    for (int i = 0; i < 3; i++) {
        load(&f, files[i]);
        gd_sched *s = parse_ok(f.spec);
        long T = f.agree_hi;
        double min = gd_sched_lr(s, T, f.base[0]), base = f.base[0];
        int rises = 0;
        for (int r = 0; r < f.nrows; r++) {
            long t = (long)f.rows[r][0];
            if (t <= T) continue;
            cr_expect_eq(gd_sched_lr(s, t, base), min, "%s: step %ld is not the floor", f.name, t);
            if (t <= 2 * T) rises += f.rows[r][1] > min + 1e-3 * (base - min);
        }
        cr_expect_gt(rises, 0, "%s: PyTorch was expected to rise again past T", f.name);
        cr_expect_eq(gd_sched_lr(s, 1000000000L, base), min);
        gd_sched_free(s);
    }
}

/* Deliberate difference 2: PyTorch's OneCycleLR allows one step past total_steps and
 * extrapolates there (linear annealing even goes negative); ours holds the final values. */
Test(lib_sched, onecycle_holds_after_T_where_pytorch_extrapolates) {
    const char *files[] = {"onecycle.tsv", "onecycle_linear.tsv", "onecycle_three_phase.tsv",
                           "onecycle_three_phase_linear.tsv", "onecycle_no_momentum.tsv"};
    static fixture f;
    for (int i = 0; i < 5; i++) {
        load(&f, files[i]);
        gd_sched *s = parse_ok(f.spec);
        long T = f.agree_hi + 1;                           /* total_steps */
        double last = gd_sched_lr(s, T - 1, f.base[0]);
        const double *torch_T = f.rows[f.nrows - 1];
        cr_assert_eq((long)torch_T[0], T);
        cr_expect_neq(torch_T[1], last, "%s: PyTorch was expected to extrapolate at T", f.name);
        for (long t = T; t < 3 * T; t++) cr_expect_eq(gd_sched_lr(s, t, f.base[0]), last, "%s: step %ld", f.name, t);
        double m_last, m;
        if (gd_sched_momentum(s, T - 1, &m_last)) {
            cr_expect(gd_sched_momentum(s, 10 * T, &m) && m == m_last, "%s", f.name);
        }
        gd_sched_free(s);
    }
    fixture *lin = &f;
    load(lin, "onecycle_linear.tsv");
    cr_expect_lt(lin->rows[lin->nrows - 1][1], 0, "PyTorch's linear one-cycle goes below 0 at T");
}

/* A chain with a onecycle term gives every other term the base PyTorch's SequentialLR
 * gives it (sched.h): the issue's case, 0.1 / 25 after the one-cycle, not 0.1; a first
 * cyclic's min; and several one-cycles must agree on what PyTorch keeps in the group. */
Test(lib_sched, chain_bases_as_sequentiallr) {
    gd_sched *s = parse_ok("onecycle:T=50,@50:step:size=1000");
    cr_expect(fabs(gd_sched_lr(s, 50, 0.1) - 0.004) < 1e-17, "step 50: %.17g", gd_sched_lr(s, 50, 0.1));
    cr_expect(fabs(gd_sched_lr(s, 1050, 0.1) - 0.0004) < 1e-17);          /* 0.004 gamma */
    gd_sched_free(s);
    s = parse_ok("constant:factor=0.5:T=3,cosine:T=6,onecycle:T=10:div=10");
    cr_expect(fabs(gd_sched_lr(s, 0, 1.0) - 0.05) < 1e-17);               /* first: from 1/10 */
    cr_expect_eq(gd_sched_lr(s, 3, 1.0), 1.0);                            /* the middle: from 1 */
    cr_expect(fabs(gd_sched_lr(s, 9, 1.0) - 0.1) < 1e-15);                /* one-cycle: 1/10 -> 1 */
    gd_sched_free(s);
    s = parse_ok("restarts:T0=5,@12:onecycle:T=20");                       /* restarts keeps its own */
    cr_expect_eq(gd_sched_lr(s, 0, 0.1), 0.1);
    gd_sched_free(s);
    s = parse_ok("cyclic:min=0.01:up=4,@20:cosine:T=10");
    cr_expect_eq(gd_sched_lr(s, 20, 0.1), 0.01);
    cr_expect_eq(gd_sched_lr(s, 0, 0.1), 0.01);                           /* cyclic itself: min..base */
    cr_expect_eq(gd_sched_lr(s, 4, 0.1), 0.1);
    gd_sched_free(s);
    s = parse_ok("cosine:T=10,@10:cyclic:min=0.01:up=4,@30:cosine:T=10");  /* a later cyclic: no effect */
    cr_expect_eq(gd_sched_lr(s, 30, 0.1), 0.1);
    gd_sched_free(s);
    s = parse_ok("warmup:T=10,constant:T=10,cosine:T=10");                /* no onecycle: all from base */
    cr_expect_eq(gd_sched_lr(s, 10, 0.1), 0.1);
    gd_sched_free(s);
    const char *bad[] = {"onecycle:T=10,onecycle:T=10:div=10", "onecycle:T=10:final_div=100,onecycle:T=10",
                         "onecycle:T=10,constant:T=5,onecycle:T=10:momentum=0.8/0.9"};
    for (int i = 0; i < 3; i++) {
        cr_expect_null(gd_sched_parse(bad[i]), "'%s' accepted", bad[i]);
        cr_expect(strstr(gd_error(), "(onecycle)") && strstr(gd_error(), "term 1's") && !strchr(gd_error(), '\n'),
                  "'%s': %s", bad[i], gd_error());
    }
    s = parse_ok("onecycle:T=10,onecycle:T=10:cycle_momentum=0:momentum=0.5/0.6");   /* not cycled: fine */
    gd_sched_free(s);
}

/* ---------------------------------------------------------------------------------- */
/* Formulas PyTorch has no class for. */

/* Warmup-stable-decay (Hagele et al. 2024): base for T - D steps, D = round(decay T),
 * then linear, cosine or 1 - sqrt down to min, reached at T and held. */
static double wsd(long t, double base, long T, double decay, int shape, double min) {
    long D = lround(decay * T), S = T - D;
    if (t < S) return base;
    double u = fmin((double)(t - S) / D, 1.0);
    double f = shape == 0 ? 1 - u : shape == 1 ? (1 + cos(M_PI * u)) / 2 : 1 - sqrt(u);
    return min + (base - min) * f;
}

Test(lib_sched, wsd_matches_its_formula) {
    const char *shapes[] = {"linear", "cosine", "sqrt"};
    for (int sh = 0; sh < 3; sh++) {
        char spec[128];
        snprintf(spec, sizeof spec, "wsd:T=1000:decay=0.2:shape=%s:min=1e-4", shapes[sh]);
        gd_sched *s = parse_ok(spec);
        for (long t = 0; t <= 1100; t++) {
            double want = wsd(t, 0.3, 1000, 0.2, sh, 1e-4);
            cr_expect(fabs(gd_sched_lr(s, t, 0.3) - want) <= 1e-15, "%s step %ld", spec, t);
        }
        /* the edges: last stable step, first decay step, a quarter in, the end */
        cr_expect_eq(gd_sched_lr(s, 799, 0.3), 0.3);
        cr_expect_eq(gd_sched_lr(s, 800, 0.3), 0.3);
        cr_expect_lt(gd_sched_lr(s, 801, 0.3), 0.3);
        cr_expect(fabs(gd_sched_lr(s, 1000, 0.3) - 1e-4) < 1e-15);
        gd_sched_free(s);
    }
    /* 1 - sqrt at a quarter of the decay is exactly half way */
    gd_sched *s = parse_ok("wsd:T=100:decay=0.4:shape=sqrt");
    cr_expect(fabs(gd_sched_lr(s, 70, 1.0) - 0.5) < 1e-15);
    gd_sched_free(s);
}

/* Vaswani et al. 2017: lr = d^-0.5 min(step^-0.5, step W^-1.5), whose peak d^-0.5 W^-0.5
 * at step W we call base: lr = base min(step/W, sqrt(W/step)). Ours is a linear warmup
 * followed by base sqrt(T0/(T0 + t)). */
Test(lib_sched, invsqrt_with_warmup_is_vaswani) {
    gd_sched *s = parse_ok("warmup:T=4000,invsqrt:T0=4000");
    long steps[] = {1, 2, 100, 2000, 3999, 4000, 4001, 5000, 10000, 16000, 100000, 1000000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double t = (double)steps[i], want = 0.002 * fmin(t / 4000, sqrt(4000 / t));
        cr_expect(fabs(gd_sched_lr(s, steps[i], 0.002) - want) <= 1e-15 * 0.002 * 10, "step %ld: %.17g vs %.17g",
                  steps[i], gd_sched_lr(s, steps[i], 0.002), want);
    }
    cr_expect_eq(gd_sched_lr(s, 0, 0.002), 0);
    gd_sched_free(s);
    s = parse_ok("invsqrt");                            /* T0 = 1: base / sqrt(1 + t) */
    cr_expect_eq(gd_sched_lr(s, 0, 0.5), 0.5);
    cr_expect(fabs(gd_sched_lr(s, 3, 0.5) - 0.25) < 1e-16);
    cr_expect(fabs(gd_sched_lr(s, 99, 0.5) - 0.05) < 1e-16);
    gd_sched_free(s);
}

/* The three warmup kinds over and past T. */
Test(lib_sched, warmup_kinds) {
    gd_sched *s = parse_ok("warmup:T=10");               /* linear from 0 */
    cr_expect_eq(gd_sched_lr(s, 0, 0.1), 0);
    cr_expect(fabs(gd_sched_lr(s, 5, 0.1) - 0.05) < 1e-17);
    cr_expect_eq(gd_sched_lr(s, 10, 0.1), 0.1);
    cr_expect_eq(gd_sched_lr(s, 1000, 0.1), 0.1);       /* the last term runs forever */
    gd_sched_free(s);
    s = parse_ok("warmup:T=10:start=0.25");             /* linear from 0.25 base */
    cr_expect_eq(gd_sched_lr(s, 0, 1.0), 0.25);
    cr_expect(fabs(gd_sched_lr(s, 4, 1.0) - 0.55) < 1e-15);
    gd_sched_free(s);
    s = parse_ok("warmup:T=8:kind=exp");                /* base 0.01^(1 - t/T): geometric */
    cr_expect(fabs(gd_sched_lr(s, 0, 1.0) - 0.01) < 1e-17);
    double ratio = gd_sched_lr(s, 1, 1.0) / gd_sched_lr(s, 0, 1.0);
    cr_expect(fabs(ratio - pow(100, 1.0 / 8)) < 1e-12);
    for (long t = 1; t < 8; t++)
        cr_expect(fabs(gd_sched_lr(s, t + 1, 1.0) / gd_sched_lr(s, t, 1.0) - ratio) < 1e-12, "step %ld", t);
    cr_expect_eq(gd_sched_lr(s, 8, 1.0), 1.0);
    gd_sched_free(s);
    s = parse_ok("warmup:T=5:kind=constant");           /* 0.1 base, then base */
    cr_expect(fabs(gd_sched_lr(s, 4, 2.0) - 0.2) < 1e-16);
    cr_expect_eq(gd_sched_lr(s, 5, 2.0), 2.0);
    gd_sched_free(s);
}

/* Warmup composes in front of any schedule: W steps of warmup, then the schedule
 * exactly as it is on its own, shifted by W. In front of onecycle the warmup climbs to
 * base/div, where the one-cycle starts: PyTorch's SequentialLR restarts the first term
 * from the initial_lr that OneCycleLR set (sched.h; seq_warmup_onecycle.tsv). */
Test(lib_sched, warmup_composes_in_front_of_any_schedule) {
    const char *specs[] = {"constant", "step:size=7:gamma=0.5", "multistep:milestones=5/9", "exp:gamma=0.97",
                           "linear:T=30", "poly:T=30:power=2", "cosine:T=30:min=0.001", "restarts:T0=4:mult=2",
                           "cyclic:min=0.01:up=3:down=4", "onecycle:T=30", "wsd:T=30:shape=cosine",
                           "invsqrt:T0=10", "plateau"};
    const char *warmups[] = {"warmup:T=12", "warmup:T=12:kind=exp", "warmup:T=12:kind=constant:start=0.3"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        gd_sched *alone = parse_ok(specs[i]), *bare_warm;
        for (int w = 0; w < 3; w++) {
            char spec[256];
            snprintf(spec, sizeof spec, "%s,%s", warmups[w], specs[i]);
            gd_sched *s = parse_ok(spec);
            bare_warm = parse_ok(warmups[w]);
            double warm_base = strncmp(specs[i], "onecycle:", 9) == 0 ? 0.1 / 25 : 0.1;
            for (long t = 0; t < 100; t++) {
                double want = t < 12 ? gd_sched_lr(bare_warm, t, warm_base) : gd_sched_lr(alone, t - 12, 0.1);
                cr_expect_eq(gd_sched_lr(s, t, 0.1), want, "%s: step %ld", spec, t);
                double m1, m2;
                int c1 = gd_sched_momentum(s, t, &m1), c2 = t >= 12 && gd_sched_momentum(alone, t - 12, &m2);
                cr_expect(c1 == c2 && (!c1 || m1 == m2), "%s: momentum at step %ld", spec, t);
            }
            gd_sched_free(s);
            gd_sched_free(bare_warm);
        }
        gd_sched_free(alone);
    }
}

/* Chains: each term's step counts from its start; "@STEP" starts a term at an absolute
 * step, cutting the one before short or letting it hold its final value until then. */
Test(lib_sched, chaining_at_milestones) {
    gd_sched *s = parse_ok("constant:T=8000,@8000:linear:T=2000:end=0");
    cr_expect_eq(gd_sched_lr(s, 0, 0.1), 0.1);
    cr_expect_eq(gd_sched_lr(s, 7999, 0.1), 0.1);
    cr_expect_eq(gd_sched_lr(s, 8000, 0.1), 0.1);
    cr_expect(fabs(gd_sched_lr(s, 9000, 0.1) - 0.05) < 1e-17);
    cr_expect_eq(gd_sched_lr(s, 10000, 0.1), 0);
    cr_expect_eq(gd_sched_lr(s, 50000, 0.1), 0);
    gd_sched_free(s);
    /* cut short: the cosine would run to 20, the exponential takes over at 10 */
    s = parse_ok("cosine:T=20,@10:exp:gamma=0.5");
    cr_expect(fabs(gd_sched_lr(s, 9, 1.0) - (1 + cos(M_PI * 9 / 20)) / 2) < 1e-15);
    cr_expect_eq(gd_sched_lr(s, 10, 1.0), 1.0);
    cr_expect_eq(gd_sched_lr(s, 12, 1.0), 0.25);
    gd_sched_free(s);
    /* a gap: the cosine ends at 10 and holds its floor until the constant starts at 15 */
    s = parse_ok("cosine:T=10:min=0.01,@15:constant:factor=0.5");
    cr_expect_eq(gd_sched_lr(s, 12, 1.0), 0.01);
    cr_expect_eq(gd_sched_lr(s, 15, 1.0), 0.5);
    gd_sched_free(s);
    /* three terms without @: each starts where the previous ends */
    s = parse_ok("warmup:T=10,constant:T=5,cosine:T=10,constant:factor=0.01");
    cr_expect_eq(gd_sched_lr(s, 10, 1.0), 1.0);
    cr_expect_eq(gd_sched_lr(s, 14, 1.0), 1.0);
    cr_expect_eq(gd_sched_lr(s, 15, 1.0), 1.0);
    cr_expect(fabs(gd_sched_lr(s, 20, 1.0) - 0.5) < 1e-15);
    cr_expect_eq(gd_sched_lr(s, 25, 1.0), 0.01);
    cr_expect_eq(gd_sched_lr(s, 1000, 1.0), 0.01);
    gd_sched_free(s);
    /* never-ending terms can be followed with @ */
    s = parse_ok("step:size=10:gamma=0.5,@30:restarts:T0=5,@50:plateau");
    cr_expect_eq(gd_sched_lr(s, 29, 1.0), 0.25);
    cr_expect_eq(gd_sched_lr(s, 30, 1.0), 1.0);
    cr_expect_eq(gd_sched_lr(s, 35, 1.0), 1.0);
    cr_expect_eq(gd_sched_lr(s, 50, 1.0), 1.0);
    gd_sched_free(s);
}

/* Chains built of continuous pieces are continuous: no jump bigger than one step of the
 * steepest piece, in particular none where one term hands over to the next. */
Test(lib_sched, chains_are_continuous_at_the_joins) {
    struct { const char *spec; double max_step; } cases[] = {
        {"warmup:T=100,cosine:T=900", 1.0 / 100},
        {"warmup:T=100,cosine:T=900:min=0.1,constant:factor=0.1", 1.0 / 100},
        {"warmup:T=50,wsd:T=950:decay=0.1", 1.0 / 50},
        {"warmup:T=50,wsd:T=950:decay=0.1:shape=sqrt", 0.103},    /* 1 - sqrt(1/95): vertical at its start */
        {"constant:T=500,@500:linear:T=500:end=0", 1.0 / 500},
        {"warmup:T=200,invsqrt:T0=200", 1.0 / 200},
        {"warmup:T=10:kind=exp,poly:T=990:power=2", 0.37},         /* exp warmup: 0.01^0.1 = 0.63 -> 1 */
        {"warmup:T=100,onecycle:T=900", 1.0 / 100},                 /* warms up to base/25 (sched.h) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gd_sched *s = parse_ok(cases[i].spec);
        double worst = 0;
        for (long t = 0; t < 1100; t++) worst = fmax(worst, fabs(gd_sched_lr(s, t + 1, 1.0) - gd_sched_lr(s, t, 1.0)));
        cr_expect_leq(worst, cases[i].max_step + 1e-12, "%s: jump of %g", cases[i].spec, worst);
        gd_sched_free(s);
    }
}

/* Steps before 0 are step 0; far steps are finite and sensible for every kind. */
Test(lib_sched, negative_and_far_steps) {
    const char *specs[] = {"constant", "warmup:T=10", "step:size=3", "multistep:milestones=2/4", "exp:gamma=0.9",
                           "linear:T=5", "poly:T=5", "cosine:T=5", "restarts:T0=3:mult=2", "restarts:T0=3",
                           "cyclic:min=0.01:up=2", "cyclic:min=0.01:up=2:mode=exp_range:gamma=0.99",
                           "onecycle:T=10", "wsd:T=10", "invsqrt", "plateau"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        gd_sched *s = parse_ok(specs[i]);
        cr_expect_eq(gd_sched_lr(s, -5, 0.1), gd_sched_lr(s, 0, 0.1), "%s", specs[i]);
        long fars[] = {1000000000000L, LONG_MAX};
        for (int j = 0; j < 2; j++) {
            double far = gd_sched_lr(s, fars[j], 0.1), m;
            cr_expect(isfinite(far) && far >= 0 && far <= 0.1, "%s: lr %g at step %ld", specs[i], far, fars[j]);
            if (gd_sched_momentum(s, fars[j], &m)) cr_expect(m >= 0.8 && m <= 0.95, "%s: momentum %g", specs[i], m);
        }
        gd_sched_free(s);
    }
}

/* ---------------------------------------------------------------------------------- */
/* The spec: errors, canonical form, shorthand. */

/* Each bad spec is rejected with one line naming the term and the key. */
Test(lib_sched, bad_specs_are_rejected_naming_term_and_key) {
    struct { const char *spec, *needle1, *needle2; } bad[] = {
        {"", "empty", "empty"},
        {"   ", "empty", "empty"},
        {"cosin:T=5", "cosin", "unknown schedule"},
        {"cosine", "cosine", "T is required"},
        {"cosine:T=0", "cosine", "T must be"},
        {"cosine:T=-5", "cosine", "T must be"},
        {"cosine:T=2.5", "cosine", "T must be"},
        {"cosine:T=abc", "cosine", "T must be"},
        {"cosine:T=", "cosine", "T must be"},
        {"cosine:T=1e400", "cosine", "T must be"},
        {"cosine:T=nan", "cosine", "T must be"},
        {"cosine:Tmax=5", "cosine", "unknown key 'Tmax'"},
        {"cosine:T=5:T=6", "cosine", "T given twice"},
        {"cosine:T=5:min=-1", "cosine", "min must be"},
        {"cosine:T=5:min", "cosine", "'min' is not KEY=VALUE"},
        {"cosine:T=5:", "cosine", "empty item"},
        {"cosine:T=5::min=0", "cosine", "empty item"},
        {"cosine:10:20", "cosine", "'20' is not KEY=VALUE"},
        {"constant:factor=2", "constant", "factor must be in [0, 1]"},
        {"constant:T=0", "constant", "T must be"},
        {"step", "step", "size is required"},
        {"step:size=0", "step", "size must be"},
        {"step:size=10:gamma=0", "step", "gamma must be in (0, 1]"},
        {"step:size=10:gamma=1.5", "step", "gamma must be"},
        {"multistep:gamma=0.5", "multistep", "milestones is required"},
        {"multistep:milestones=30/20", "multistep", "milestones must not decrease"},
        {"multistep:milestones=30/-5", "multistep", "milestones"},
        {"multistep:milestones=", "multistep", "milestones"},
        {"multistep:milestones=10//20", "multistep", "milestones"},
        {"multistep:milestones=10/x", "multistep", "milestones"},
        {"exp:gamma=0", "exp", "gamma must be > 0"},
        {"exp:gamma=-1", "exp", "gamma"},
        {"exp:gamma=inf", "exp", "gamma"},
        {"exp:gamma=0.9:every=0", "exp", "every"},
        {"linear:T=10:end=2", "linear", "end must be"},
        {"linear:T=10:start=-0.5", "linear", "start must be"},
        {"poly:T=10:power=0", "poly", "power must be > 0"},
        {"restarts:T0=0", "restarts", "T0 must be"},
        {"restarts:T0=10:mult=1.5", "restarts", "mult must be"},
        {"restarts:T0=10:mult=0", "restarts", "mult"},
        {"warmup", "warmup", "T is required"},
        {"warmup:T=10:kind=cubic", "warmup", "kind must be one of linear|exp|constant"},
        {"warmup:T=10:start=1.5", "warmup", "start must be"},
        {"warmup:T=10:kind=exp:start=0", "warmup", "start must be"},
        {"cyclic:min=0.01", "cyclic", "up is required"},
        {"cyclic:up=5", "cyclic", "min is required"},
        {"cyclic:min=0.01:up=5:down=0", "cyclic", "down must be"},
        {"cyclic:min=0.01:up=5:momentum=0.9", "cyclic", "momentum must be LO/HI"},
        {"cyclic:min=0.01:up=5:momentum=0.95/0.85", "cyclic", "momentum"},
        {"cyclic:min=0.01:up=5:momentum=0.8/1", "cyclic", "momentum"},
        {"cyclic:min=0.01:up=5:mode=triangular3", "cyclic", "mode must be one of"},
        {"cyclic:min=0.01:up=5:mode=exp_range:gamma=2", "cyclic", "gamma"},
        {"cyclic:min=0.01:up=5:cycle_momentum=yes", "cyclic", "cycle_momentum must be 0 or 1"},
        {"onecycle", "onecycle", "T is required"},
        {"onecycle:T=100:pct=0", "onecycle", "pct must be in (0, 1)"},
        {"onecycle:T=100:pct=1", "onecycle", "pct"},
        {"onecycle:T=100:pct=0.6:three_phase=1", "onecycle", "pct must be <= 0.5"},
        {"onecycle:T=100:three_phase=2", "onecycle", "three_phase"},
        {"onecycle:T=100:div=0.5", "onecycle", "div must be >= 1"},
        {"onecycle:T=100:final_div=0", "onecycle", "final_div"},
        {"onecycle:T=100:anneal=cosine", "onecycle", "anneal must be one of cos|linear"},
        {"wsd:T=100:decay=0", "wsd", "decay must be in (0, 1]"},
        {"wsd:T=2:decay=0.1", "wsd", "decay"},
        {"wsd:T=100:shape=exp", "wsd", "shape"},
        {"invsqrt:T0=0", "invsqrt", "T0 must be"},
        {"plateau:factor=1", "plateau", "factor must be in (0, 1)"},
        {"plateau:factor=0", "plateau", "factor"},
        {"plateau:mode=median", "plateau", "mode must be one of min|max"},
        {"plateau:threshold_mode=pct", "plateau", "threshold_mode"},
        {"plateau:threshold=1", "plateau", "threshold must be < 1"},
        {"plateau:threshold=-0.1", "plateau", "threshold must be >= 0"},
        {"plateau:patience=-1", "plateau", "patience must be"},
        {"plateau:cooldown=1.5", "plateau", "cooldown must be"},
        {"plateau:eps=-1", "plateau", "eps must be"},
        {"plateau:min_lr=-1", "plateau", "min_lr must be"},
        {"plateau,@100:plateau", "term 2 (plateau)", "only one plateau"},
        {"step:size=10,cosine:T=5", "term 2 (cosine)", "'step', which never ends"},
        {"plateau,constant", "term 2 (constant)", "never ends"},
        {"constant,cosine:T=5", "term 2 (cosine)", "never ends"},
        {"cosine:T=10,@5:constant,@5:exp:gamma=0.9", "term 3 (exp)", "@5"},
        {"cosine:T=10,@0:constant", "term 2 (constant)", "@0"},
        {"cosine:T=10,@-5:constant", "term 2", "@"},
        {"cosine:T=10,@x:constant", "term 2", "@"},
        {"cosine:T=10,@20", "term 2", "empty"},
        {"@5:cosine:T=10", "term 1 (cosine)", "first term starts at step 0"},
        {"@0:cosine:T=10", "term 1 (cosine)", "no @"},            /* sched.h: "@" on the first term */
        {" @0 : warmup:T=5,cosine:T=10", "term 1 (warmup)", "no @"},
        {"cosine:T=10,,constant", "term 2", "empty"},
        {"cosine:T=10,", "term 2", "empty"},
        {",cosine:T=10", "term 1", "empty"},
        {"warmup:T=10,cosine:T=0", "term 2 (cosine)", "T must be"},
        /* numbers are decimal, as options take them (cli.h's gd_parse_double) */
        {"cosine:T=0x10", "cosine", "T must be"},
        {"step:size=10:gamma=0x0.1p0", "step", "gamma must be"},
        {"cosine:T=10:min=inf", "cosine", "min must be"},
        {"exp:gamma=nan", "exp", "gamma must be"},
        {"multistep:milestones=0x10/40", "multistep", "milestones must be"},
        {"cyclic:min=0.01:up=4:momentum=0x0/0.9", "cyclic", "momentum must be LO/HI"},
        {"invsqrt:T0=1e1x", "invsqrt", "T0 must be"},
        /* control characters: refused, and the message stays one line */
        {"cosine:T=10\n", "control character", "0x0a"},
        {"cos\nine:T=10", "character 4", "one line"},
        {"warmup:T=5,\ncosine:T=10", "control character", "0x0a"},
        {"cosine:T=10\t", "control character", "0x09"},
        {"cosine:T=10\r,constant", "control character", "0x0d"},
        /* a sum of lengths past 1e15 */
        {"cosine:T=1e15,cosine:T=1e15,cosine:T=5", "term 3 (cosine)", "after 1e+15"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gd_seterr("%s", "");
        gd_sched *s = gd_sched_parse(bad[i].spec);
        cr_expect_null(s, "'%s' accepted", bad[i].spec);
        gd_sched_free(s);
        const char *e = gd_error();
        cr_expect(strstr(e, bad[i].needle1) && strstr(e, bad[i].needle2), "'%s': message '%s' lacks '%s' or '%s'",
                  bad[i].spec, e, bad[i].needle1, bad[i].needle2);
        cr_expect(strchr(e, '\n') == NULL && strlen(e) > 0, "'%s': not one line: '%s'", bad[i].spec, e);
    }
}

/* Long user text: no fixed-size copy refuses a valid value (milestones and pairs were
 * cut at 63 characters), and a message quotes at most 60 characters of it. */
Test(lib_sched, long_values_parse_and_messages_stay_short) {
    char *spec = malloc(200000);
    cr_assert_not_null(spec);
    /* 100 leading zeros are still the milestone 5 */
    snprintf(spec, 200000, "multistep:milestones=%0100d/10:gamma=0.5", 5);
    gd_sched *s = parse_ok(spec);
    cr_expect_eq(gd_sched_lr(s, 5, 1.0), 0.5);
    cr_expect_eq(gd_sched_lr(s, 10, 1.0), 0.25);
    gd_sched_free(s);
    snprintf(spec, 200000, "onecycle:T=10:momentum=0.%0100d8/0.9", 0);
    s = parse_ok(spec);
    double m;
    cr_expect(gd_sched_momentum(s, 2, &m) && m < 0.9);
    gd_sched_free(s);
    /* a 100,000-digit step: refused, the message one short line with the start quoted */
    memcpy(spec, "cosine:T=", 9);
    memset(spec + 9, '7', 100000);
    spec[100009] = '\0';
    cr_expect_null(gd_sched_parse(spec));
    const char *e = gd_error();
    cr_expect(strstr(e, "term 1 (cosine): T must be a whole number >= 1, got '777") && strstr(e, "...'"), "%s", e);
    cr_expect_lt(strlen(e), 200, "%s", e);
    /* the same for an unknown name, key and @ */
    const char *prefixes[] = {"", "cosine:T=5:", "cosine:T=5,@"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(prefixes[i]);
        memcpy(spec, prefixes[i], n);
        memset(spec + n, 'q', 100000);
        snprintf(spec + n + 100000, 16, "%s", i == 1 ? "=1" : "");
        cr_expect_null(gd_sched_parse(spec));
        e = gd_error();
        cr_expect(strstr(e, "qqq...'") && strlen(e) < 300 && !strchr(e, '\n'), "%s", e);
    }
    /* 10000 terms are fine, 10001 are refused */
    size_t n = 0;
    for (int i = 0; i < 10001; i++) n += (size_t)snprintf(spec + n, 200000 - n, "%sinvsqrt", i ? ",@1:" : "");
    cr_expect_null(gd_sched_parse(spec));
    cr_expect(strstr(gd_error(), "more than 10000 terms"), "%s", gd_error());
    n = 0;
    for (int i = 0; i < 10000; i++) n += (size_t)snprintf(spec + n, 200000 - n, "%scosine:T=1", i ? "," : "");
    s = parse_ok(spec);
    cr_expect_eq(gd_sched_lr(s, 9999, 1.0), 1.0);   /* the last term's start */
    gd_sched_free(s);
    free(spec);
}

/* Edge values that are in range are accepted. */
Test(lib_sched, edge_values_are_accepted) {
    const char *ok[] = {"constant:factor=0", "constant:factor=1:T=1", "step:size=1:gamma=1", "exp:gamma=1.5",
                        "multistep:milestones=0", "multistep:milestones=5/5/9", "linear:T=1:start=0:end=1",
                        "cosine:T=1", "restarts:T0=1:mult=3", "cyclic:min=0:up=1:down=1:momentum=0/0.99",
                        "onecycle:T=1", "onecycle:T=2:pct=0.5:three_phase=1", "wsd:T=1:decay=1", "invsqrt:T0=1e4",
                        "plateau:patience=0:cooldown=0:eps=0:threshold=0:min_lr=0",
                        "plateau:threshold=5:threshold_mode=abs", " warmup : T = 5 , cosine : T = 5 ",
                        "cosine:T=1e6", "cosine:T=1e15,cosine:T=1e15", "cosine:T=+5:min=.5e-3"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        gd_sched *s = parse_ok(ok[i]);
        for (long t = 0; t < 20; t++) cr_expect(isfinite(gd_sched_lr(s, t, 0.1)), "%s: step %ld", ok[i], t);
        gd_sched_free(s);
    }
    /* a repeated milestone multiplies by gamma twice, as PyTorch's Counter does */
    gd_sched *s = parse_ok("multistep:milestones=5/5/9:gamma=0.5");
    cr_expect_eq(gd_sched_lr(s, 5, 1.0), 0.25);
    cr_expect_eq(gd_sched_lr(s, 9, 1.0), 0.125);
    gd_sched_free(s);
}

static void expect_canonical(const char *spec, const char *canonical) {
    gd_sched *s = parse_ok(spec);
    char buf[1024];
    gd_sched_format(s, buf, sizeof buf);
    cr_expect_str_eq(buf, canonical, "format('%s')", spec);
    gd_sched_free(s);
}

/* The canonical spec spells out every key (defaults included) and every term's start. */
Test(lib_sched, canonical_form_spells_out_everything) {
    expect_canonical("cosine:T=10", "cosine:T=10:min=0");
    expect_canonical("warmup:500", "warmup:T=500:kind=linear:start=0");
    expect_canonical("warmup:T=5:kind=exp", "warmup:T=5:kind=exp:start=0.01");
    expect_canonical("warmup:T=5:kind=constant", "warmup:T=5:kind=constant:start=0.1");
    expect_canonical("warmup:T=500,cosine:T=9500:min=1e-5",
                     "warmup:T=500:kind=linear:start=0,@500:cosine:T=9500:min=1e-05");
    expect_canonical("constant", "constant:factor=1");
    expect_canonical("constant:factor=0.5:T=4,constant", "constant:factor=0.5:T=4,@4:constant:factor=1");
    expect_canonical("step:30", "step:size=30:gamma=0.1");
    expect_canonical("multistep:milestones=30/60/90", "multistep:milestones=30/60/90:gamma=0.1");
    expect_canonical("exp:0.95", "exp:gamma=0.95:every=1");
    expect_canonical("cyclic:min=0.01:up=4",
                     "cyclic:min=0.01:up=4:down=4:mode=triangular:gamma=1:momentum=0.8/0.9:cycle_momentum=1");
    expect_canonical("onecycle:T=100", "onecycle:T=100:pct=0.3:anneal=cos:div=25:final_div=10000:three_phase=0:"
                                       "momentum=0.85/0.95:cycle_momentum=1");
    expect_canonical("wsd:T=100", "wsd:T=100:decay=0.2:shape=linear:min=0");
    expect_canonical("invsqrt", "invsqrt:T0=1");
    expect_canonical("plateau:max", "plateau:mode=max:factor=0.1:patience=10:threshold=0.0001:"
                                    "threshold_mode=rel:cooldown=0:min_lr=0:eps=1e-08");
    expect_canonical("linear:T=5:start=0.3333333333333333:end=1", "linear:T=5:start=0.3333333333333333:end=1");
}

/* A buffer too small gets a NUL-terminated prefix, never more than size bytes. */
Test(lib_sched, format_truncates_safely) {
    gd_sched *s = parse_ok("warmup:T=5,cosine:T=20,@30:plateau");
    char full[1024], small[80];
    gd_sched_format(s, full, sizeof full);
    for (size_t size = 1; size < sizeof small; size++) {
        memset(small, 'x', sizeof small);
        gd_sched_format(s, small, size);
        cr_expect_eq(strlen(small), size - 1, "size %zu", size);
        cr_expect_eq(strncmp(small, full, size - 1), 0, "size %zu: '%s'", size, small);
        cr_expect_eq(small[size], 'x', "size %zu: wrote past the buffer", size);
    }
    gd_sched_format(s, small, 0);                      /* size 0 writes nothing */
    /* it returns the whole length, as snprintf: a caller can size its buffer */
    size_t len = strlen(full);
    cr_expect_eq(gd_sched_format(s, NULL, 0), len);
    cr_expect_eq(gd_sched_format(s, small, 10), len);
    cr_expect_eq(gd_sched_format(s, full, sizeof full), len);
    gd_sched_free(s);
}

/* format -> parse gives the same schedule: the same lr and momentum at every step, and
 * formatting again gives the same text. Every fixture's spec, plus some more. */
static void round_trip(const char *spec) {
    gd_sched *a = parse_ok(spec);
    char text1[2048], text2[2048];
    gd_sched_format(a, text1, sizeof text1);
    gd_sched *b = gd_sched_parse(text1);
    cr_assert_not_null(b, "'%s' -> '%s' does not parse: %s", spec, text1, gd_error());
    gd_sched_format(b, text2, sizeof text2);
    cr_expect_str_eq(text1, text2, "'%s'", spec);
    for (long t = 0; t < 600; t++) {
        cr_expect_eq(gd_sched_lr(a, t, 0.1), gd_sched_lr(b, t, 0.1), "'%s' vs '%s' at step %ld", spec, text1, t);
        double ma = 0, mb = 0;
        int ca = gd_sched_momentum(a, t, &ma), cb = gd_sched_momentum(b, t, &mb);
        cr_expect(ca == cb && ma == mb, "'%s': momentum at step %ld", spec, t);
    }
    cr_expect_eq(gd_sched_has_plateau(a), gd_sched_has_plateau(b));
    gd_sched_free(a);
    gd_sched_free(b);
}

Test(lib_sched, format_parse_round_trip) {
    DIR *d = opendir(REF);
    cr_assert_not_null(d);
    struct dirent *e;
    static fixture f;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".tsv")) continue;
        load(&f, e->d_name);
        round_trip(f.spec);
        n++;
    }
    closedir(d);
    cr_expect_gt(n, 0);
    /* one string a line; the long plateau spec is in parentheses so that its two
     * halves' concatenation is plainly meant (clang's -Wstring-concatenation) */
    const char *more[] = {"warmup:T=100:kind=exp:start=0.001,cosine:T=400:min=0.0001",
                          "constant:T=80,@80:linear:T=20:end=0", "step:size=10,@33:exp:gamma=0.987654321:every=3",
                          "cyclic:min=0.001:up=7:down=3:mode=exp_range:gamma=0.999:momentum=0.7/0.99",
                          "onecycle:T=333:pct=0.123456789:anneal=linear:div=7.5:final_div=123:cycle_momentum=0",
                          "warmup:T=10,wsd:T=90:decay=0.3333:shape=sqrt:min=1e-7",
                          "poly:T=50:power=0.1:min=1e-300", "restarts:T0=7:mult=5:min=0.05",
                          ("warmup:T=3,@3:plateau:mode=max:factor=0.3:patience=2:threshold=0.2:threshold_mode=abs:"
                           "cooldown=4:min_lr=1e-5:eps=0"),
                          "invsqrt:T0=4000", "constant:factor=0.1"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) round_trip(more[i]);
}

/* ---------------------------------------------------------------------------------- */
/* Reduce-on-plateau. */

Test(lib_sched, plateau_observe_and_has_plateau) {
    gd_sched *s = parse_ok("cosine:T=10");
    cr_expect_eq(gd_sched_has_plateau(s), 0);
    cr_expect_eq(gd_sched_observe(s, 1.0), 0);          /* nothing to feed: ignored */
    cr_expect_eq(gd_sched_state_size(s), 0);
    cr_expect_eq(gd_sched_state_read(s, NULL, 0), 0);
    gd_sched_free(s);
    s = parse_ok("warmup:T=5,plateau:factor=0.5:patience=1");
    cr_expect_eq(gd_sched_has_plateau(s), 1);
    /* 1 is returned exactly when a reduction is made */
    int reduced[] = {0, 0, 1, 0, 1, 0, 0, 1};
    double metrics[] = {1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5};
    double lr = 0.1;
    for (int i = 0; i < 8; i++) {
        cr_expect_eq(gd_sched_observe(s, metrics[i]), reduced[i], "observation %d", i);
        if (reduced[i]) lr *= 0.5;
        cr_expect_eq(gd_sched_lr(s, 100, 0.1), lr, "after observation %d", i);
    }
    cr_expect(fabs(gd_sched_lr(s, 3, 0.1) - 0.06) < 1e-17);   /* warmup is not touched */
    gd_sched_free(s);
}

/* The state written after some observations and read into a fresh schedule makes it
 * behave exactly as the original from then on. */
Test(lib_sched, plateau_state_write_read) {
    const char *spec = "plateau:factor=0.5:patience=2:cooldown=1:threshold=0.01";
    double metrics[] = {5, 4, 4, 4, 4, 3.99, 3.9, 3.9, 3.9, 3.9, 3.9, 2, 2, 2, 2, 2, 2, 2};
    int n = sizeof metrics / sizeof metrics[0];
    for (int cut = 0; cut <= n; cut++) {
        gd_sched *a = parse_ok(spec), *b = parse_ok(spec);
        for (int i = 0; i < cut; i++) gd_sched_observe(a, metrics[i]);
        size_t size = gd_sched_state_size(a);
        cr_assert_gt(size, 0);
        unsigned char *buf = malloc(size);
        gd_sched_state_write(a, buf);
        cr_assert_eq(gd_sched_state_read(b, buf, size), 0, "%s", gd_error());
        for (int i = cut; i < n; i++) {
            cr_expect_eq(gd_sched_observe(a, metrics[i]), gd_sched_observe(b, metrics[i]), "cut %d obs %d", cut, i);
            cr_expect_eq(gd_sched_lr(a, 0, 0.1), gd_sched_lr(b, 0, 0.1), "cut %d obs %d", cut, i);
        }
        free(buf);
        gd_sched_free(a);
        gd_sched_free(b);
    }
    /* a state only fits a plateau configured the same way, and only whole */
    gd_sched *a = parse_ok(spec), *other = parse_ok("plateau:factor=0.5:patience=3"), *none = parse_ok("constant");
    size_t size = gd_sched_state_size(a);
    unsigned char buf[256];
    gd_sched_state_write(a, buf);
    cr_expect_eq(gd_sched_state_read(other, buf, size), -1);
    cr_expect(strstr(gd_error(), "plateau") != NULL, "%s", gd_error());
    cr_expect_eq(gd_sched_state_read(a, buf, size - 1), -1);
    cr_expect_eq(gd_sched_state_read(none, buf, size), -1);
    buf[0] ^= 1;
    cr_expect_eq(gd_sched_state_read(a, buf, size), -1);
    gd_sched_free(a);
    gd_sched_free(other);
    gd_sched_free(none);
}

/* ---------------------------------------------------------------------------------- */
/* Momentum and gd_sched_apply. */

Test(lib_sched, momentum_only_where_cycled) {
    double m = -1;
    gd_sched *s = parse_ok("cosine:T=10");
    cr_expect_eq(gd_sched_momentum(s, 3, &m), 0);
    cr_expect_eq(m, -1);
    gd_sched_free(s);
    s = parse_ok("warmup:T=10,onecycle:T=100");
    cr_expect_eq(gd_sched_momentum(s, 9, &m), 0);
    cr_expect(gd_sched_momentum(s, 10, &m) && m == 0.95);
    cr_expect(gd_sched_momentum(s, 39, &m) && fabs(m - 0.85) < 1e-15);   /* the peak: pct*T - 1 = 29 */
    gd_sched_free(s);
    s = parse_ok("cyclic:min=0.01:up=4:cycle_momentum=0");
    cr_expect_eq(gd_sched_momentum(s, 2, &m), 0);
    gd_sched_free(s);
}

/* apply sets every group's lr from its own initial lr, and momentum when cycled. */
Test(lib_sched, apply_sets_every_group) {
    gd_param p[2];
    int shape[1] = {3};
    cr_assert_eq(gd_param_init(&p[0], "w", 1, shape), 0);
    cr_assert_eq(gd_param_init(&p[1], "b", 1, shape), 0);
    gd_hparams hp = gd_optim_defaults(GD_SGD);
    hp.lr = 0.1, hp.momentum = 0.9;
    gd_optim *o = gd_optim_new(GD_SGD, &hp);
    cr_assert_not_null(o, "%s", gd_error());
    gd_hparams small = hp;
    small.lr = 0.01;
    cr_assert_eq(gd_optim_add_group(o, &p[0], 1, NULL), 0, "%s", gd_error());
    cr_assert_eq(gd_optim_add_group(o, &p[1], 1, &small), 1, "%s", gd_error());
    gd_sched *s = parse_ok("onecycle:T=100");
    for (long t = 0; t < 100; t += 7) {
        gd_sched_apply(s, t, o);
        double m;
        cr_assert(gd_sched_momentum(s, t, &m));
        cr_expect_eq(gd_optim_lr(o, 0), gd_sched_lr(s, t, 0.1), "step %ld", t);
        cr_expect_eq(gd_optim_lr(o, 1), gd_sched_lr(s, t, 0.01), "step %ld", t);
        cr_expect_eq(gd_optim_group(o, 0)->momentum, m);
        cr_expect_eq(gd_optim_group(o, 1)->momentum, m);
    }
    gd_sched_free(s);
    /* a schedule that does not cycle momentum leaves it alone */
    s = parse_ok("cosine:T=10");
    gd_optim_group(o, 0)->momentum = 0.5;
    gd_sched_apply(s, 5, o);
    cr_expect_eq(gd_optim_group(o, 0)->momentum, 0.5);
    cr_expect_eq(gd_optim_lr(o, 1), gd_sched_lr(s, 5, 0.01));
    gd_sched_free(s);
    gd_optim_free(o);
    gd_param_free(&p[0]);
    gd_param_free(&p[1]);
}

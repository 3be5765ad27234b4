/* test_probe_self.c -- the probe's own test: it must catch each kind of defect it
 * claims to catch, and nothing else. A small program (a shell script written here)
 * answers like one of the book's programs -- gd_cli's --help, one line and exit 2 for
 * anything it refuses -- except for planted defects, one per (option, value): a crash,
 * a hang, exit 1 on a usage error, an undocumented exit status, a sanitizer report
 * (ASan's and UBSan's first lines), a value taken for a number, a two-line refusal, a
 * file written on a usage error, an output refused for another reason than the output.
 * The probe, run on it exactly as on the book's programs (pr_option_cases,
 * pr_data_cases), must report every planted defect, with the right words, and no
 * other case. */
#include "probe.h"

static const char bad_options[] =
    "#!/bin/sh\n"
    "if [ \"$1\" = --help ]; then cat <<'EOF'\n"
    "usage: bad [options]\n"
    "A program with planted defects, for the probe's self-test.\n"
    "\n"
    "options:\n"
    "  --lr N                 a number (default 0.1)\n"
    "  --x0 X,Y,...           numbers\n"
    "  --name S               a label\n"
    "  --out FILE             output table\n"
    "  --table S              write the table here (an output declared as a string)\n"
    "  --dir DIR              output directory\n"
    "  --keep-going           a flag\n"
    "  --help                 print this help and exit\n"
    "EOF\n"
    "exit 0; fi\n"
    "case \"$1 $2\" in\n"
    "'--lr nan') kill -SEGV $$ ;;\n"
    "'--lr abc') echo 'bad: cannot write build/x.tsv' >&2; exit 1 ;;\n"
    "'--lr inf') sleep 1000 & wait ;;\n"
    "'--lr -inf') echo 'bad: --lr: refused' >&2; exit 3 ;;\n"
    "'--lr 1e400') echo '==1==ERROR: AddressSanitizer: heap-buffer-overflow' >&2; exit 86 ;;\n"
    "'--lr 0x10') echo 'bad.c:3:5: runtime error: signed integer overflow' >&2; exit 2 ;;\n"
    "'--lr  1') shift 2 ;;\n"
    "'--x0 1,nan') printf 'bad: --x0: got 1\\nnan\\n' >&2; exit 2 ;;\n"
    "'--out /dev/null/x.tsv') mkdir -p build; echo x > build/x.tsv; echo 'bad: --out: cannot write' >&2; exit 2 ;;\n"
    "'--out .') echo 'bad: no data in /tmp/empty' >&2; exit 2 ;;\n"
    "'--table /dev/null/x.tsv') echo 'bad: ran, then: cannot write' >&2; exit 1 ;;\n"
    "'--keep-going=1 --zzz-probe-sentinel') echo 'bad: --keep-going takes no value' >&2; exit 2 ;;\n"
    "esac\n"
    "if [ \"$1\" = --name ] && [ ${#2} -gt 50000 ]; then kill -ABRT $$; fi\n"
    "echo \"bad: $1: refused\" >&2\n"
    "exit 2\n";

/* label fragment -> words its failure line must contain */
static const struct {
    const char *label, *what;
} planted[] = {
    {"bad --lr nan:", "crash (signal 11"},
    {"bad --lr abc:", "exit 1 (a failure while running)"},
    {"bad --lr inf:", "hang (killed after"},
    {"bad --lr -inf:", "exit 3, not one of the book's statuses"},
    {"bad --lr 1e400:", "sanitizer report (exit 86): ==1==ERROR: AddressSanitizer"},
    {"bad --lr 0x10:", "sanitizer report (exit 2): bad.c:3:5: runtime error"},
    {"bad --lr ' 1':", "accepted (the refusal names the next argument instead"},
    {"bad --x0 1,nan:", "exit 2 with 2 lines on stderr"},
    {"bad --out /dev/null/x.tsv:", "exit 2, but wrote build/x.tsv"},
    {"bad --out .:", "refused, but the line does not name --out"},
    {"bad --table /dev/null/x.tsv:", "exit 1 (a failure while running)"},
    {"bad --name xxxxxxxxxx", "crash (signal 6"},
};
#define NPLANTED ((int)(sizeof planted / sizeof planted[0]))

static char *write_script(const char *dir, const char *name, const char *text) {
    char *path = pr_fmt("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, 0755), 0);
    return path;
}

/* Each planted defect is reported as the rules say, and no other case is. */
Test(probe_self, finds_every_planted_defect, .timeout = 120) {
    char *scratch = pr_scratch();
    char *empty = pr_fmt("%s/empty-data", scratch);
    cr_assert_eq(mkdir(empty, 0700), 0);
    char *prog = write_script(scratch, "bad", bad_options);
    pr_cases cs = {0};
    int nopts = pr_option_cases(&cs, "bad", prog, NULL, empty);
    cr_assert_eq(nopts, 7, "the probe read %d options from bad's --help, not 7", nopts);
    for (int i = 0; i < cs.n; i++) cs.cases[i].timeout = 3;   /* the planted hang */
    pr_run_pending(&cs, scratch);
    int found[NPLANTED] = {0}, other = 0;
    for (int i = 0; i < cs.n; i++) {
        const char *f = cs.cases[i].failure;
        if (!f) continue;
        int k = 0;
        while (k < NPLANTED && strncmp(f, planted[k].label, strlen(planted[k].label)) != 0) k++;
        if (k == NPLANTED) {
            cr_log_error("reported, but not planted: %s", f);
            other++;
            continue;
        }
        found[k]++;
        cr_expect(strstr(f, planted[k].what) != NULL, "%s: the report should say '%s'", f, planted[k].what);
    }
    for (int k = 0; k < NPLANTED; k++)
        cr_expect_eq(found[k], 1, "planted '%s' (%s): reported %d times, expected once", planted[k].label,
                     planted[k].what, found[k]);
    cr_expect_eq(other, 0, "%d cases reported that the program answered correctly", other);
    /* the hang's child (sleep) went with its process group */
    cr_expect_neq(system("pgrep -f '^sleep 1000$' >/dev/null"), 0, "the hung case's sleep is still running");
    pr_cases_free(&cs);
    pr_rm_rf(scratch);
    free(scratch);
    free(empty);
    free(prog);
}

/* The same for the data probe: accepting 10 images, crashing on a label >= 10, a
 * two-line refusal, and a refusal that does not name the directory are reported; the
 * other broken directories, refused properly, are not. */
static const char bad_data[] =
    "#!/bin/sh\n"
    "[ \"$1\" = --help ] && { echo 'usage: baddata [options]'; echo '  --data S   Fashion-MNIST directory'; exit 0; }\n"
    "case \"$2\" in\n"
    "*/fm-10-images) exit 0 ;;\n"
    "*/fm-label-10) kill -SEGV $$ ;;\n"
    "*/fm-1x1-images) printf 'baddata: %s:\\n  1x1\\n' \"$2\" >&2; exit 2 ;;\n"
    "*/fm-empty) echo 'baddata: no data' >&2; exit 2 ;;\n"
    "esac\n"
    "echo \"baddata: $2: broken\" >&2\n"
    "exit 2\n";

Test(probe_self, finds_every_planted_data_defect, .timeout = 120) {
    char *scratch = pr_scratch();
    pr_make_broken(scratch);
    char *prog = write_script(scratch, "baddata", bad_data);
    pr_cases cs = {0};
    pr_data_cases(&cs, "baddata", prog, "--data $DATA --out $TMP/x.tsv", "fmnist", scratch);
    pr_run_pending(&cs, scratch);
    const char *want[][2] = {{"fm-10-images", "accepted (exit 0)"},
                             {"fm-label-10", "crash (signal 11"},
                             {"fm-1x1-images", "exit 2 with 2 lines"},
                             {"fm-empty", "refused, but the line does not name fm-empty"}};
    int reported = 0;
    for (int i = 0; i < cs.n; i++) {
        const char *f = cs.cases[i].failure;
        int k = 0;
        while (k < 4 && !strstr(cs.cases[i].label, want[k][0])) k++;
        if (k < 4) {
            cr_expect(f && strstr(f, want[k][1]), "%s: expected '%s', got %s", cs.cases[i].label,
                      want[k][1], f ? f : "no report");
        } else {
            cr_expect_null(f, "reported, but not planted: %s", f);
        }
        reported += f != NULL;
    }
    cr_expect_eq(cs.n, 10, "%d Fashion-MNIST directories, expected 10", cs.n);
    cr_expect_eq(reported, 4);
    pr_cases_free(&cs);
    pr_rm_rf(scratch);
    free(scratch);
    free(prog);
}

/* Hand-written usages (grade's, mdsync's, edition's style) are read too. */
Test(probe_self, reads_hand_written_usage) {
    const char *help =
        "usage: tool [--only ID|CHAPTER] [--tsv FILE] [--timeout S]\n"
        "             [--seed-base N] [--list]\n"
        "       tool (--student | --wrong ID|all) --out DIR FILE...\n"
        "       tool --ids FILE...\n"
        "Does things.\n"
        "  --only 4.1     one exercise\n"
        "  --check        a flag documented on its own line\n";
    pr_opt o[16];
    int n = pr_parse_help(help, o, 16);
    const struct {
        const char *name;
        pr_opt_kind kind;
    } want[] = {{"only", PR_OPT_STRING},  {"tsv", PR_OPT_OUT},     {"timeout", PR_OPT_STRING},
                {"seed-base", PR_OPT_NUMBER}, {"list", PR_OPT_FLAG},   {"student", PR_OPT_FLAG},
                {"wrong", PR_OPT_STRING}, {"out", PR_OPT_OUTDIR},  {"ids", PR_OPT_FLAG},
                {"check", PR_OPT_FLAG}};
    int nw = (int)(sizeof want / sizeof want[0]);
    cr_expect_eq(n, nw, "read %d options, expected %d", n, nw);
    for (int k = 0; k < nw; k++) {
        int i = 0;
        while (i < n && strcmp(o[i].name, want[k].name) != 0) i++;
        cr_expect(i < n, "--%s not read", want[k].name);
        if (i < n)
            cr_expect_eq(o[i].kind, want[k].kind, "--%s read as a %s, not a %s", want[k].name,
                         pr_kind_name(o[i].kind), pr_kind_name(want[k].kind));
    }
}

/* tests/probe/sanitized.sh, which make check-asan reads every run's output with: a
 * leak in the book's code fails the run even when Criterion says every test passed; a
 * leak wholly inside libcriterion (its runner's) does not; an ASan or UBSan report
 * does. */
static int sanitized_on(const char *log_text) {
    char dir[] = "/tmp/gdprobe-san-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *in = pr_fmt("%s/in.txt", dir), *log = pr_fmt("%s/out.log", dir);
    FILE *f = fopen(in, "w");
    cr_assert_not_null(f);
    fputs(log_text, f);
    fclose(f);
    char *cmd = pr_fmt("sh tests/probe/sanitized.sh %s cat %s >/dev/null 2>&1", log, in);
    int st = system(cmd);
    free(cmd);
    pr_rm_rf(dir);
    free(in);
    free(log);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(probe_self, sanitized_sh_counts_every_report_but_criterions_own) {
    const char *passed = "[====] Synthesis: Tested: 9 | Passing: 9 | Failing: 0 | Crashing: 0 \n";
    const char *ours =
        "==1==ERROR: LeakSanitizer: detected memory leaks\n\n"
        "Direct leak of 160 byte(s) in 1 object(s) allocated from:\n"
        "    #0 0x7f in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69\n"
        "    #1 0x55 in gd__stream lib/text.c:228\n"
        "    #2 0x55 in lib_text_split_impl tests/lib/test_text.c:180\n"
        "    #3 0x7f in criterion_internal_test_main (/lib/x86_64-linux-gnu/libcriterion.so.3+0xe6de)\n\n"
        "SUMMARY: AddressSanitizer: 160 byte(s) leaked in 1 allocation(s).\n";
    const char *criterions =
        "==2==ERROR: LeakSanitizer: detected memory leaks\n\n"
        "Direct leak of 96 byte(s) in 2 object(s) allocated from:\n"
        "    #0 0x7f in __interceptor_calloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:77\n"
        "    #1 0x7f  (/lib/x86_64-linux-gnu/libcriterion.so.3+0x1a332)\n\n"
        "SUMMARY: AddressSanitizer: 96 byte(s) leaked in 2 allocation(s).\n";
    char *a = pr_fmt("%s%s", passed, ours), *b = pr_fmt("%s%s", passed, criterions);
    cr_expect_eq(sanitized_on(passed), 0, "a clean log");
    cr_expect_eq(sanitized_on(a), 1, "a leak in lib/text.c after every test passed must fail");
    cr_expect_eq(sanitized_on(b), 0, "Criterion's runner's own leak is not the book's");
    cr_expect_eq(sanitized_on("x.c:3:5: runtime error: signed integer overflow\n"), 1, "UBSan");
    cr_expect_eq(sanitized_on("==3==ERROR: AddressSanitizer: heap-buffer-overflow\n"), 1, "ASan");
    free(a);
    free(b);
}

/* A program may check every option's name before any value (mdsync does): the
 * sentinel's refusal then comes first even for a value it would refuse. The probe runs
 * such a case again without the sentinel, in the program's short-run options, and
 * reports it only if the value is not refused there either: --n's bad values are
 * refused (no report), --m takes anything (planted: every bad number reported). */
static const char late_checks[] =
    "#!/bin/sh\n"
    "if [ \"$1\" = --help ]; then printf 'usage: late [options]\\n  --n N    a digit\\n  --m N    a number\\n'; exit 0; fi\n"
    "for a in \"$@\"; do case $a in --zzz*) echo \"late: unknown option $a\" >&2; exit 2 ;; esac; done\n"
    "while [ $# -gt 0 ]; do case $1 in\n"
    "  --n) case $2 in [1-9]) ;; *) echo 'late: --n: not a digit' >&2; exit 2 ;; esac; shift 2 ;;\n"
    "  --m) shift 2 ;;\n"
    "  *) shift ;;\n"
    "esac; done\n"
    "echo 'late: no data here' >&2\n"
    "exit 2\n";

Test(probe_self, confirms_without_the_sentinel, .timeout = 120) {
    char *scratch = pr_scratch();
    char *empty = pr_fmt("%s/empty-data", scratch);
    cr_assert_eq(mkdir(empty, 0700), 0);
    char *prog = write_script(scratch, "late", late_checks);
    pr_cases cs = {0};
    cr_assert_eq(pr_option_cases(&cs, "late", prog, "--n 1", empty), 2);
    pr_run_pending(&cs, scratch);
    int on_m = 0, other = 0;
    for (int i = 0; i < cs.n; i++) {
        const char *f = cs.cases[i].failure;
        if (!f) continue;
        if (strncmp(f, "late --m ", 9) == 0 && strstr(f, "[run again without the sentinel")) on_m++;
        else {
            cr_log_error("not planted: %s", f);
            other++;
        }
    }
    /* every bad number but 2^63 and 2^64 (which an option may take) */
    int want = 0;
    while (pr_bad_numbers[want]) want++;
    want += 1;   /* the 100,000 digits */
    cr_expect_eq(on_m, want, "--m took %d bad values that were reported, expected %d", on_m, want);
    cr_expect_eq(other, 0, "%d reports on values the program refuses", other);
    pr_cases_free(&cs);
    pr_rm_rf(scratch);
    free(scratch);
    free(empty);
    free(prog);
}

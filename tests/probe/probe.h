/* probe.h -- the engine of the generated probe (tests/probe/test_probe.c) and of its
 * self-test (test_probe_self.c): run a program the way a hostile user would, judge
 * what it did by the book's rules, and say in one line what went wrong.
 *
 * A case is one command line. Each runs in a fresh empty directory (so an output that
 * defaults to a relative build/ path lands there and can be seen), in a process group
 * of its own (so a program's workers die with it), with stdin from /dev/null, stdout
 * and stderr captured, and a wall-clock limit. The rules (the developers' guide):
 *   - no hang: a case still running at its limit is killed: "hang";
 *   - no crash: death by a signal: "crash";
 *   - no sanitizer report ("runtime error", AddressSanitizer, LeakSanitizer);
 *   - exit status 0, 1 or 2 and nothing else;
 *   - a case that must be refused (PR_REFUSE) exits 2 with exactly one line on stderr,
 *     and that line names what was wrong (pr_case.needle);
 *   - a case that may also be accepted (PR_ANY: a string that can be a valid value)
 *     exits 0, or 2 with one line; 1 is a failure while running, not an answer to a
 *     bad value;
 *   - whenever the answer is 2, no regular file appeared in the directory.
 * Cases run pr_jobs() at a time. Header-only: every tests/ * / *.c is compiled into
 * the one test binary, and this is shared by two of them.
 */
#ifndef GD_TESTS_PROBE_H
#define GD_TESTS_PROBE_H

#include "../common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <stdint.h>
#include <time.h>
#include <zlib.h>

/* Appended after the value under test: an option no program has. A program that
 * accepted the value goes on to the next argument and refuses this one, so the line
 * it prints names the sentinel instead of the option: that is how "accepted" is told
 * from "refused" without letting the program start any work. */
#define PR_SENTINEL "--zzz-probe-sentinel"

typedef enum { PR_REFUSE, PR_ANY, PR_SUCCEED } pr_expect;

typedef struct pr_case {
    char *argv[64];       /* argv[0]: the program's absolute path; NULL-terminated */
    char *label;          /* "program --option value" as the report shows it */
    pr_expect expect;
    char *needle;         /* PR_REFUSE: the line must contain this (NULL: any line) */
    char *needle2;        /* ... or this (NULL: only needle) */
    double timeout;       /* seconds of wall-clock time */
    char *env[8];         /* NAME=VALUE set for this case (NULL-terminated) */
    char *link;           /* NAME: the directory gets a symbolic link NAME to $ROOT/NAME */
    /* A sentinel case that looks accepted is run again without the sentinel, in the
     * program's short-run options (a program may check every option's name before any
     * value, as mdsync does): the option, its value, and those options. */
    char *confirm_opt, *confirm_value, *confirm_base;
    /* results */
    char *failure;        /* NULL: as the rules say; else "label: what happened" */
    double cpu;           /* CPU seconds the case used (its process and children) */
    int status;           /* exit status, 128 + signal, or -1 when killed at the limit */
    char *err;            /* captured stderr (kept when pr_keep_output is set) */
} pr_case;

static int pr_keep_output;

/* Parallel runs: GD_PROBE_JOBS, else 3 (two cores, and most of a case is waiting). */
static inline int pr_jobs(void) {
    const char *s = getenv("GD_PROBE_JOBS");
    int j = s ? atoi(s) : 3;
    return j >= 1 && j <= 64 ? j : 3;
}

/* The probe's limit on one case: GD_PROBE_TIMEOUT seconds, else 20 (a refusal takes
 * milliseconds; the limit is there for the one that does not come, and is generous
 * for sanitizer builds on a loaded machine). */
static inline double pr_timeout(void) {
    const char *s = getenv("GD_PROBE_TIMEOUT");
    double t = s ? atof(s) : 20;
    return t > 0 ? t : 20;
}

static inline char *pr_strdup(const char *s) { return s ? strdup(s) : NULL; }

static inline char *pr_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *pr_fmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* A value as the report shows it: control characters escaped, long ones cut
 * ("xxxx...(100000 chars)"), empty as "". */
static inline char *pr__show(const char *v, int may_quote, size_t cut) {
    size_t n = strlen(v);
    if (n == 0) return strdup("\"\"");
    char buf[600];
    size_t o = 0;
    int quote = 0;
    for (size_t i = 0; i < n && may_quote; i++)
        if (v[i] == ' ' || (unsigned char)v[i] < 32) quote = 1;
    if (quote) buf[o++] = '\'';
    for (size_t i = 0; i < n && o < cut; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\n') o += (size_t)snprintf(buf + o, sizeof buf - o, "\\n");
        else if (c < 32 || c == 127) o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
        else buf[o++] = (char)c;
    }
    if (n > cut) o += (size_t)snprintf(buf + o, sizeof buf - o, "...(%zu chars)", n);
    if (quote) buf[o++] = '\'';
    buf[o] = '\0';
    return strdup(buf);
}
static inline char *pr_show(const char *v) { return pr__show(v, 1, 60); }

/* The first line of s that contains needle, shown (escaped, cut): for reports. */
static inline char *pr_line_with(const char *s, const char *needle) {
    const char *p = needle ? strstr(s, needle) : s;
    if (!p) return NULL;
    while (p > s && p[-1] != '\n') p--;
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char *line = strndup(p, n);
    char *shown = pr__show(line, 0, 160);
    free(line);
    return shown;
}

/* Lines on stderr: newlines, plus a last line without one. */
static inline int pr_count_lines(const char *s) {
    int n = 0;
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) n += s[i] == '\n';
    return n + (len > 0 && s[len - 1] != '\n');
}

/* In the order they are looked for: the report's first line before its summary. */
static const char *const pr_sanitizer_marks[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error", "AddressSanitizer",
    "LeakSanitizer", "UndefinedBehaviorSanitizer", "ThreadSanitizer", "MemorySanitizer", NULL};

/* Where a sanitizer report points: the first frame of its stack that is the book's
 * code (" in FUNC FILE:LINE" of "#N 0x... in ..."), shown; NULL if none. */
static inline char *pr_first_frame(const char *err) {
    for (const char *p = strstr(err, "    #"); p; p = strstr(p + 1, "    #")) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *line = strndup(p, n);
        const char *in = strstr(line, " in ");
        if (in && !strstr(line, "interceptor") && !strstr(line, "libsanitizer") &&
            !strstr(line, "/lib/x86_64-linux-gnu/") && !strstr(line, "__libc_start") &&
            !strstr(line, "../sysdeps/")) {
            char *r = pr__show(in + 4, 0, 120);
            free(line);
            return r;
        }
        free(line);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Scratch directories. */

static char *pr__found;
static int pr__find_file(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (flag == FTW_F) {
        pr__found = strdup(path);
        return 1;
    }
    return 0;
}

/* The first regular file under dir (malloc'd path), or NULL. */
static inline char *pr_find_file(const char *dir) {
    pr__found = NULL;
    nftw(dir, pr__find_file, 16, FTW_PHYS);
    return pr__found;
}

static int pr__rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

static inline void pr_rm_rf(const char *path) {
    if (path) nftw(path, pr__rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the scratch directory of a probe run: /tmp/gdprobe-XXXXXX (malloc'd). */
static inline char *pr_scratch(void) {
    char tmpl[] = "/tmp/gdprobe-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    return strdup(tmpl);
}

/* ---------------------------------------------------------------------------------- */
/* Judging one finished case. */

static inline char *pr__slurp_or_empty(const char *path) {
    char *s = t_slurp(path);
    return s ? s : strdup("");
}

/* The verdict on a case that ended (status as in pr_case; timed_out), its stderr and
 * its directory: NULL if it kept the rules, else what happened (malloc'd). */
static inline char *pr_judge(const pr_case *c, int timed_out, int wstatus, const char *err,
                             const char *cwd) {
    if (timed_out) return pr_fmt("hang (killed after %g s)", c->timeout);
    const char *mark = NULL;
    for (int i = 0; pr_sanitizer_marks[i] && !mark; i++)
        if (strstr(err, pr_sanitizer_marks[i])) mark = pr_sanitizer_marks[i];
    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        char *line = mark ? pr_line_with(err, mark) : NULL;
        char *r = pr_fmt("crash (signal %d, %s)%s%s", sig, strsignal(sig), line ? ": " : "",
                         line ? line : "");
        free(line);
        return r;
    }
    if (mark) {
        char *line = pr_line_with(err, mark), *at = pr_first_frame(err);
        char *r = pr_fmt("sanitizer report (exit %d): %s%s%s", WEXITSTATUS(wstatus), line,
                         at ? " at " : "", at ? at : "");
        free(line);
        free(at);
        return r;
    }
    int st = WEXITSTATUS(wstatus);
    int lines = pr_count_lines(err);
    char *first = pr_line_with(err, NULL);
    char *r = NULL;
    if (st > 2) {
        r = pr_fmt("exit %d, not one of the book's statuses 0, 1, 2 (stderr: %s)", st, first);
    } else if (c->expect == PR_SUCCEED) {
        if (st != 0) r = pr_fmt("exit %d, expected 0: %s", st, first);
    } else if (c->expect == PR_REFUSE && st == 0) {
        r = pr_fmt("accepted (exit 0), expected a refusal with exit 2");
    } else if (st == 1) {
        r = pr_fmt("exit 1 (a failure while running), expected 2 for what the user gave: %s", first);
    } else if (st == 2 && lines != 1) {
        r = pr_fmt("exit 2 with %d lines on stderr, expected one: %s", lines, first);
    } else if (st == 2 && c->expect == PR_REFUSE && c->needle && !strstr(err, c->needle) &&
               !(c->needle2 && strstr(err, c->needle2))) {
        if (strstr(err, PR_SENTINEL))
            r = pr_fmt("accepted (the refusal names the next argument instead: %s)", first);
        else
            r = pr_fmt("refused, but the line does not name %s: %s", c->needle, first);
    }
    free(first);
    if (!r && st == 2) {
        char *file = pr_find_file(cwd);
        if (file) {
            r = pr_fmt("exit 2, but wrote %s (a usage error writes nothing)", file + strlen(cwd) + 1);
            free(file);
        }
    }
    return r;
}

/* ---------------------------------------------------------------------------------- */
/* Running cases, pr_jobs() at a time. */

typedef struct {
    pid_t pid;
    int idx;
    struct timespec start;
} pr__slot;

static inline double pr__since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* The top of the book: tests run there (the Makefile does that). */
static inline const char *pr_root(void) {
    static char root[PATH_MAX];
    if (!root[0]) cr_assert_not_null(getcwd(root, sizeof root));
    return root;
}

extern char **environ;

/* Start c in dir: posix_spawn (no copy of this process's memory, which holds every
 * case), in a new process group, stdin /dev/null, stdout and stderr to dir.out and
 * dir.err, the environment with c->env on top. */
static inline pid_t pr__start(pr_case *c, const char *dir) {
    char *out = pr_fmt("%s.out", dir), *err = pr_fmt("%s.err", dir);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir, strerror(errno));
    if (c->link) {
        char *target = pr_fmt("%s/%s", pr_root(), c->link), *at = pr_fmt("%s/%s", dir, c->link);
        cr_assert_eq(symlink(target, at), 0, "symlink %s: %s", at, strerror(errno));
        free(target);
        free(at);
    }
    int nenv = 0;
    while (environ[nenv]) nenv++;
    char **envp = calloc((size_t)nenv + 9, sizeof *envp);
    int k = 0;
    for (int i = 0; i < nenv; i++) {
        int overridden = 0;
        for (int j = 0; c->env[j] && !overridden; j++) {
            size_t l = strcspn(c->env[j], "=") + 1;
            overridden = strncmp(environ[i], c->env[j], l) == 0;
        }
        if (!overridden) envp[k++] = environ[i];
    }
    for (int j = 0; c->env[j]; j++) envp[k++] = c->env[j];
    envp[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, c->argv[0], &fa, &at, c->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(envp);
    free(out);
    free(err);
    if (rc != 0) {
        c->failure = pr_fmt("%s: cannot run %s: %s", c->label, c->argv[0], strerror(rc));
        return -1;
    }
    return pid;
}

static inline void pr__finish(pr_case *c, const char *dir, int wstatus, int timed_out,
                              const struct rusage *ru) {
    char *errp = pr_fmt("%s.err", dir), *outp = pr_fmt("%s.out", dir);
    char *err = pr__slurp_or_empty(errp);
    c->status = timed_out ? -1 : WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    c->cpu = (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec +
             (double)ru->ru_stime.tv_sec + 1e-6 * (double)ru->ru_stime.tv_usec;
    char *what = pr_judge(c, timed_out, wstatus, err, dir);
    if (what) c->failure = pr_fmt("%s: %s", c->label, what);
    free(what);
    if (pr_keep_output) c->err = err;
    else free(err);
    unlink(errp);
    unlink(outp);
    pr_rm_rf(dir);
    free(errp);
    free(outp);
}

/* Run cases[0..n), pr_jobs() at a time, in directories under scratch. */
static inline void pr_run(pr_case *cases, int n, const char *scratch) {
    int jobs = pr_jobs(), running = 0, next = 0;
    pr__slot slot[64];
    while (next < n || running > 0) {
        while (running < jobs && next < n) {
            char *dir = pr_fmt("%s/c%d", scratch, next);
            slot[running].pid = pr__start(&cases[next], dir);
            slot[running].idx = next;
            clock_gettime(CLOCK_MONOTONIC, &slot[running].start);
            if (slot[running].pid < 0) pr_rm_rf(dir);   /* judged: cannot run */
            else running++;
            free(dir);
            next++;
        }
        int progressed = 0;
        for (int s = 0; s < running; s++) {
            pr_case *c = &cases[slot[s].idx];
            int wstatus = 0, timed_out = 0;
            struct rusage ru;
            memset(&ru, 0, sizeof ru);
            pid_t got = wait4(slot[s].pid, &wstatus, WNOHANG, &ru);
            if (got == 0 && pr__since(&slot[s].start) > c->timeout) {
                kill(-slot[s].pid, SIGKILL);
                got = wait4(slot[s].pid, &wstatus, 0, &ru);
                timed_out = 1;
            }
            if (got == 0) continue;
            cr_assert(got == slot[s].pid, "wait4: %s", strerror(errno));
            kill(-slot[s].pid, SIGKILL);   /* whatever the program left running */
            char *dir = pr_fmt("%s/c%d", scratch, slot[s].idx);
            pr__finish(c, dir, wstatus, timed_out, &ru);
            free(dir);
            slot[s] = slot[--running];
            s--;
            progressed = 1;
        }
        if (!progressed && running > 0) {
            struct timespec nap = {0, 2 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
    }
}

/* ---------------------------------------------------------------------------------- */
/* Building cases. */

static inline void pr_case_init(pr_case *c, const char *prog_path, const char *label,
                                pr_expect expect) {
    memset(c, 0, sizeof *c);
    c->argv[0] = strdup(prog_path);
    c->label = strdup(label);
    c->expect = expect;
    c->timeout = pr_timeout();
    /* one BLAS thread, as the Makefile exports: the probe runs cases side by side */
    c->env[0] = strdup("OPENBLAS_NUM_THREADS=1");
}

/* The 100,000-character values are shared by every case that uses them, not copied. */
static char *pr_big_digits, *pr_big_text;
static inline int pr__shared(const char *s) { return s && (s == pr_big_digits || s == pr_big_text); }

static inline void pr_case_arg(pr_case *c, const char *arg) {
    int i = 0;
    while (c->argv[i]) i++;
    cr_assert(i < 63, "too many arguments for a probe case");
    c->argv[i] = pr__shared(arg) ? (char *)arg : strdup(arg);
}

static inline void pr_case_env(pr_case *c, const char *name, const char *value) {
    int i = 0;
    while (c->env[i]) i++;
    cr_assert(i < 7, "too many variables for a probe case");
    c->env[i] = pr_fmt("%s=%s", name, value);
}

static inline void pr_case_free(pr_case *c) {
    for (int i = 0; c->argv[i]; i++)
        if (!pr__shared(c->argv[i])) free(c->argv[i]);
    for (int i = 0; c->env[i]; i++) free(c->env[i]);
    free(c->label);
    free(c->link);
    free(c->confirm_opt);
    free(c->confirm_base);
    if (!pr__shared(c->confirm_value)) free(c->confirm_value);
    free(c->needle);
    free(c->needle2);
    free(c->failure);
    free(c->err);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------------------------- */
/* Reading a program's options from its --help. */

typedef enum {
    PR_OPT_FLAG,      /* no value */
    PR_OPT_NUMBER,    /* N: one number */
    PR_OPT_NUMBERS,   /* X,Y,...: a list of numbers */
    PR_OPT_STRING,    /* S and anything else: text, a spec, a path to read */
    PR_OPT_OUT,       /* FILE: a file the program writes */
    PR_OPT_OUTDIR     /* DIR: a directory the program writes in */
} pr_opt_kind;

typedef struct {
    char name[64];
    char arg[32];
    pr_opt_kind kind;
    char help[256];
} pr_opt;

static inline const char *pr_kind_name(pr_opt_kind k) {
    static const char *const names[] = {"flag", "number", "numbers", "string", "output file",
                                        "output directory"};
    return names[k];
}

/* An output declared as a plain string (S) whose help says it writes ("write ...",
 * "save ...", also after a mode prefix such as "summary: " or "with --from: ") is
 * probed as an output file too: the rule is the same whatever the declaration. */
static inline int pr__help_writes(const char *help) {
    const char *h = help;
    const char *colon = strstr(h, ": ");
    if (colon && colon - h < 24 && !strchr(h, '(')) h = colon + 2;   /* "train: write..." */
    return strncmp(h, "write ", 6) == 0 || strncmp(h, "also write ", 11) == 0 ||
           strncmp(h, "save ", 5) == 0;
}

/* Parse "  --name ARG   help" lines (gd_cli's format) and "[--name ARG]" in a usage
 * line (hand-written ones). Returns how many options (at most max). */
static inline int pr_parse_help(const char *help, pr_opt *opts, int max) {
    int n = 0, in_usage = 0;
    const char *p = help;
    while (*p && n < max) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        p += len + (eol ? 1 : 0);
        const char *q = line;
        if (strncmp(q, "  --", 4) == 0) {
            pr_opt o;
            memset(&o, 0, sizeof o);
            q += 4;
            size_t k = strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789-_");
            if (k == 0 || k >= sizeof o.name) continue;
            memcpy(o.name, q, k);
            q += k;
            if (q[0] == ' ' && q[1] != ' ' && q[1] != '\0') {
                /* an argument token: N, S, FILE, DIR, X,Y,... (upper case, digits, punctuation) */
                size_t a = strcspn(q + 1, " ");
                int upper = a > 0 && a < sizeof o.arg;
                for (size_t i = 0; i < a && upper; i++)
                    upper = !((q[1 + i] >= 'a' && q[1 + i] <= 'z'));
                if (upper) {
                    memcpy(o.arg, q + 1, a);
                    q += 1 + a;
                }
            }
            q += strspn(q, " ");
            snprintf(o.help, sizeof o.help, "%s", q);
            in_usage = 0;
            if (strcmp(o.name, "help") == 0) continue;
            opts[n++] = o;
            continue;
        } else if (strncmp(q, "usage:", 6) == 0 || (in_usage && q[0] == ' ')) {
            /* A hand-written usage line: "[--name ARG]", "(--a | --b ARG)", "--c ARG":
             * ARG is the next word when it starts with a capital (FILE, N, ID|all);
             * a word ending in "..." is the positional arguments, not a value. */
            in_usage = 1;
            for (const char *b = strstr(q, "--"); b && n < max; b = strstr(b + 2, "--")) {
                if (b > q && !strchr(" [(|", b[-1])) continue;
                pr_opt o;
                memset(&o, 0, sizeof o);
                const char *s = b + 2;
                size_t k = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_");
                if (k == 0 || k >= sizeof o.name) continue;
                memcpy(o.name, s, k);
                s += k;
                if (*s == ' ' && s[1] >= 'A' && s[1] <= 'Z') {
                    size_t a = strcspn(s + 1, " ])");
                    if (a < sizeof o.arg && !(a >= 3 && strncmp(s + 1 + a - 3, "...", 3) == 0))
                        memcpy(o.arg, s + 1, a);
                }
                int dup = 0;
                for (int i = 0; i < n; i++) dup |= strcmp(opts[i].name, o.name) == 0;
                if (!dup && strcmp(o.name, "help") != 0) opts[n++] = o;
            }
            continue;
        }
        in_usage = 0;
    }
    /* Second pass for the hand-written lines: a "  --name ..." line documents an
     * option already found in the usage line; keep the first, fill in its help. */
    for (int i = 0; i < n; i++) {
        pr_opt *o = &opts[i];
        for (int j = i + 1; j < n; j++)
            if (strcmp(opts[j].name, o->name) == 0) {
                if (!o->help[0]) memcpy(o->help, opts[j].help, sizeof o->help);
                if (!o->arg[0]) memcpy(o->arg, opts[j].arg, sizeof o->arg);
                opts[j] = opts[--n];
                j--;
            }
        const char *a = o->arg;
        o->kind = !a[0]                         ? PR_OPT_FLAG
                  : strcmp(a, "N") == 0         ? PR_OPT_NUMBER
                  : strncmp(a, "X,Y", 3) == 0   ? PR_OPT_NUMBERS
                  : strcmp(a, "FILE") == 0      ? PR_OPT_OUT
                  : strcmp(a, "DIR") == 0       ? PR_OPT_OUTDIR
                  : pr__help_writes(o->help)    ? PR_OPT_OUT
                                                : PR_OPT_STRING;
    }
    return n;
}

/* ---------------------------------------------------------------------------------- */
/* Generating the cases. */


static inline char *pr_big(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Numbers no option takes: not numbers, not finite, beyond a double, hex, padded, and
 * a newline (the refusal must stay one line). */
static const char *const pr_bad_numbers[] = {
    "", "nan", "inf", "-inf", "1e400", "-1e400", "0x10", " 1", "1 ", "abc", "1\n2", NULL};
static const char *const pr_bad_lists[] = {"1,nan", "1,,2", "1,", NULL};

typedef struct {
    pr_case *cases;
    int n, cap;
} pr_cases;

static inline pr_case *pr_add(pr_cases *cs) {
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : 1024;
        cs->cases = realloc(cs->cases, (size_t)cs->cap * sizeof *cs->cases);
    }
    return &cs->cases[cs->n++];
}

/* args with $DATA, $TMP and $ROOT replaced, split at spaces into c's argv. */
static inline void pr_case_args_but(pr_case *c, const char *args, const char *data, const char *root,
                                    const char *skip) {
    char *copy = strdup(args), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (strncmp(w, "link=", 5) == 0) {          /* a link to $ROOT/NAME in the directory */
            free(c->link);
            c->link = strdup(w + 5);
            continue;
        }
        if (skip && strcmp(w, skip) == 0) {          /* the option under test, and its value */
            w = strtok_r(NULL, " ", &save);
            if (!w) break;
            continue;
        }
        char buf[PATH_MAX * 2] = "";
        for (const char *s = w; *s;) {
            if (strncmp(s, "$DATA", 5) == 0) strncat(buf, data, sizeof buf - strlen(buf) - 1), s += 5;
            else if (strncmp(s, "$TMP", 4) == 0) strncat(buf, ".", sizeof buf - strlen(buf) - 1), s += 4;
            else if (strncmp(s, "$ROOT", 5) == 0) strncat(buf, root, sizeof buf - strlen(buf) - 1), s += 5;
            else {
                size_t l = strlen(buf);
                if (l + 1 < sizeof buf) buf[l] = *s, buf[l + 1] = '\0';
                s++;
            }
        }
        pr_case_arg(c, buf);
    }
    free(copy);
}

static inline void pr_case_args(pr_case *c, const char *args, const char *data, const char *root) {
    pr_case_args_but(c, args, data, root, NULL);
}

/* The confirmation of a case that looked accepted: opt value where args have opt (the
 * program's own order, say after a mode word), else first, then args. */
static inline void pr_case_args_with(pr_case *c, const char *args, const char *data, const char *root,
                                     const char *opt, const char *value) {
    char *with = pr_fmt(" %s ", args), *key = pr_fmt(" %s ", opt);
    char *at = strstr(with, key);
    if (!at) {
        pr_case_arg(c, opt);
        pr_case_arg(c, value);
        pr_case_args(c, args, data, root);
    } else {
        /* args before opt, opt value, args after opt's own value */
        *at = '\0';
        pr_case_args(c, with, data, root);
        pr_case_arg(c, opt);
        pr_case_arg(c, value);
        char *rest = at + strlen(key);
        rest += strcspn(rest, " ");   /* opt's value in args */
        pr_case_args(c, rest, data, root);
    }
    free(with);
    free(key);
}

/* One case: prog --name value [sentinel] or prog --name value [base]. base: the
 * program's short-run options (programs.tsv) without --name, so that whatever else the
 * program requires is there and the value under test is the only thing wrong (the
 * value goes first: a program may take positional arguments after its options); with
 * the data directory empty, the program cannot get past its data into real work. */
static inline void pr_add_value(pr_cases *cs, const char *name, const char *path, const pr_opt *o,
                                const char *value, pr_expect expect, int sentinel, const char *empty,
                                const char *base) {
    pr_case *c = pr_add(cs);
    char *shown = pr_show(value);
    char *label = pr_fmt("%s --%s %s", name, o->name, shown);
    pr_case_init(c, path, label, expect);
    free(label);
    free(shown);
    char *opt = pr_fmt("--%s", o->name);
    if (o->kind == PR_OPT_FLAG) {
        char *eq = pr_fmt("--%s=%s", o->name, value);
        pr_case_arg(c, eq);
        free(eq);
    } else {
        pr_case_arg(c, opt);
        pr_case_arg(c, value);
    }
    if (sentinel) pr_case_arg(c, PR_SENTINEL);
    else if (base) pr_case_args_but(c, base, empty, pr_root(), opt);
    if (sentinel && base && o->kind != PR_OPT_FLAG) {
        c->confirm_opt = strdup(opt);
        c->confirm_value = pr__shared(value) ? (char *)value : strdup(value);
        c->confirm_base = strdup(base);
    }
    c->needle = opt;
    pr_case_env(c, "GD_FASHION_MNIST", empty);
    pr_case_env(c, "GD_FORTUNES", empty);
}


#define PR_MAX_OPTS 96

/* The cases of one program: --help works (else one failure, and nothing else is
 * tried), the sentinel is refused, and every option --help lists gets the bad values
 * of its kind (test_probe.c says which and why). base: the program's short-run options
 * (or NULL); empty: an empty data directory. Returns how many options --help lists. */
static inline int pr_option_cases(pr_cases *cs, const char *name, const char *path,
                                  const char *base, const char *empty) {
    if (!pr_big_digits) {
        pr_big_digits = pr_big('9', 100000);
        pr_big_text = pr_big('x', 100000);
    }
    char *big_digits = pr_big_digits, *big_text = pr_big_text;
    char *cmd = pr_fmt("'%s' --help", path);
    t_result r = t_run(cmd);
    free(cmd);
    if (r.status != 0 || !strstr(r.out, "usage")) {
        pr_case *c = pr_add(cs);
        memset(c, 0, sizeof *c);
        c->failure = pr_fmt("%s --help: exit %d%s", name, r.status,
                            strstr(r.out, "usage") ? "" : ", no usage on stdout");
        t_free(&r);
        return 0;
    }
    pr_opt opts[PR_MAX_OPTS];
    int n = pr_parse_help(r.out, opts, PR_MAX_OPTS);
    t_free(&r);
    /* The sentinel itself must be refused, naming itself, or the cases that rely on it
     * mean nothing. */
    pr_case *c = pr_add(cs);
    char *label = pr_fmt("%s %s", name, PR_SENTINEL);
    pr_case_init(c, path, label, PR_REFUSE);
    free(label);
    pr_case_arg(c, PR_SENTINEL);
    c->needle = strdup(PR_SENTINEL);
    pr_case_env(c, "GD_FASHION_MNIST", empty);
    pr_case_env(c, "GD_FORTUNES", empty);
    for (int k = 0; k < n; k++) {
        const pr_opt *o = &opts[k];
        switch (o->kind) {
        case PR_OPT_NUMBERS:
            for (int v = 0; pr_bad_lists[v]; v++)
                pr_add_value(cs, name, path, o, pr_bad_lists[v], PR_REFUSE, 1, empty, base);
            /* each bad number is a bad list of one, too */
            __attribute__((fallthrough));
        case PR_OPT_NUMBER:
            for (int v = 0; pr_bad_numbers[v]; v++)
                pr_add_value(cs, name, path, o, pr_bad_numbers[v], PR_REFUSE, 1, empty, base);
            pr_add_value(cs, name, path, o, big_digits, PR_REFUSE, 1, empty, base);
            /* 2^63 and 2^64: out of range for a long (and 2^64 for a seed), but a
             * valid value of an option whose range is wide (--diverge-factor up to
             * 1e30): refused naming the option, or taken (the sentinel's refusal) */
            for (int v = 0; v < 2; v++) {
                pr_add_value(cs, name, path, o, v ? "18446744073709551616" : "9223372036854775808",
                             PR_REFUSE, 1, empty, base);
                cs->cases[cs->n - 1].needle2 = strdup(PR_SENTINEL);
            }
            break;
        case PR_OPT_STRING:
            pr_add_value(cs, name, path, o, "", PR_REFUSE, 1, empty, base);
            pr_add_value(cs, name, path, o, big_text, PR_ANY, 0, empty, base);
            pr_add_value(cs, name, path, o, "a\nb", PR_ANY, 0, empty, base);
            break;
        case PR_OPT_OUT:
        case PR_OPT_OUTDIR: {
            /* a path under a file (cannot be made, even by root), a directory or a
             * file where the other is wanted, a name too long for any file system */
            int dir = o->kind == PR_OPT_OUTDIR;
            const char *bad[] = {dir ? "/dev/null/x" : "/dev/null/x.tsv", dir ? "/dev/null" : "."};
            pr_add_value(cs, name, path, o, "", PR_REFUSE, 1, empty, base);
            for (int v = 0; v < 2; v++) {
                pr_add_value(cs, name, path, o, bad[v], PR_REFUSE, 0, empty, base);
                cs->cases[cs->n - 1].needle2 = strdup(bad[v]);
            }
            pr_add_value(cs, name, path, o, big_text, PR_REFUSE, 0, empty, base);
            cs->cases[cs->n - 1].needle2 = strdup("xxxxxxxxxx");
            break;
        }
        case PR_OPT_FLAG:
            pr_add_value(cs, name, path, o, "1", PR_REFUSE, 1, empty, base);
            break;
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------------- */
/* Broken data directories. */

static inline void pr_be32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* An IDX file, plain or gzipped: magic, dims, then the bytes. */
static inline void pr_idx(const char *dir, const char *name, uint32_t magic, const uint32_t *dims, int ndims,
                   const unsigned char *data, size_t n, int gz) {
    char *path = pr_fmt("%s/%s%s", dir, name, gz ? ".gz" : "");
    unsigned char head[16];
    pr_be32(head, magic);
    for (int i = 0; i < ndims; i++) pr_be32(head + 4 + 4 * i, dims[i]);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        cr_assert_not_null(g);
        gzwrite(g, head, 4u + 4u * (unsigned)ndims);
        gzwrite(g, data, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        fwrite(head, 1, 4u + 4u * (unsigned)ndims, f);
        fwrite(data, 1, n, f);
        fclose(f);
    }
    free(path);
}

/* A set of n images rows x cols with labels (label 'bad' at index 0 if bad >= 0), as
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte; nlabels labels (n unless a mismatch). */
static inline void pr_fmnist(const char *dir, int n, int rows, int cols, int nlabels, int bad_label,
                      int gz) {
    cr_assert_eq(mkdir(dir, 0700), 0);
    size_t dim = (size_t)rows * (size_t)cols;
    unsigned char *px = malloc((size_t)n * dim), *lab = malloc((size_t)(nlabels > n ? nlabels : n));
    for (size_t i = 0; i < (size_t)n * dim; i++) px[i] = (unsigned char)((i * 2654435761u) >> 24);
    for (int i = 0; i < (nlabels > n ? nlabels : n); i++) lab[i] = (unsigned char)(i % 10);
    if (bad_label >= 0) lab[0] = (unsigned char)bad_label;
    const char *sets[] = {"train", "t10k"};
    for (int s = 0; s < 2; s++) {
        uint32_t di[3] = {(uint32_t)n, (uint32_t)rows, (uint32_t)cols}, dl[1] = {(uint32_t)nlabels};
        char *im = pr_fmt("%s-images-idx3-ubyte", sets[s]), *lb = pr_fmt("%s-labels-idx1-ubyte", sets[s]);
        pr_idx(dir, im, 2051, di, 3, px, (size_t)n * dim, gz);
        pr_idx(dir, lb, 2049, dl, 1, lab, (size_t)nlabels, gz);
        free(im);
        free(lb);
    }
    free(px);
    free(lab);
}

typedef struct {
    const char *name;
    const char *what;
    int named;      /* the refusal must name the directory (the file that is wrong); a
                       directory that is well-formed but too small or of the wrong shape
                       may be refused naming the option that asks for more instead */
    pr_expect expect;   /* PR_REFUSE; PR_ANY for data a short run may use */
} pr_broken;

static const pr_broken pr_broken_fmnist[] = {
    {"fm-missing", "a missing directory", 1, PR_REFUSE},
    {"fm-empty", "an empty directory", 1, PR_REFUSE},
    {"fm-truncated-gz", "train images: a gzip stream cut in half", 1, PR_REFUSE},
    {"fm-wrong-magic", "train images with a labels file's magic number", 1, PR_REFUSE},
    {"fm-1x1-images", "1x1-pixel images", 0, PR_REFUSE},
    {"fm-10-images", "10 images (well-formed)", 0, PR_REFUSE},
    {"fm-label-10", "a label >= 10", 1, PR_REFUSE},
    {"fm-count-mismatch", "999 labels for 1000 images", 1, PR_REFUSE},
    {"fm-no-labels", "no train labels file", 1, PR_REFUSE},
    /* well-formed and a sixtieth of the real size: a short run may train on it or refuse
     * it as too small (one line), but must not read past it (the sanitized probe) */
    {"fm-1000-images", "1000 images (well-formed; may be used)", 0, PR_ANY},
    {NULL, NULL, 0, PR_REFUSE}};

static const pr_broken pr_broken_fortunes[] = {
    {"fo-missing", "a missing directory", 1, PR_REFUSE},
    {"fo-empty", "an empty directory", 1, PR_REFUSE},
    {NULL, NULL, 0, PR_REFUSE}};

static inline void pr_make_broken(const char *scratch) {
    char *d;
    d = pr_fmt("%s/fm-empty", scratch);
    cr_assert_eq(mkdir(d, 0700), 0);
    free(d);
    d = pr_fmt("%s/fo-empty", scratch);
    cr_assert_eq(mkdir(d, 0700), 0);
    free(d);
    /* 1000 images: more than a short run's few hundred, so only the damage can be why
     * a program refuses them */
    d = pr_fmt("%s/fm-truncated-gz", scratch);
    pr_fmnist(d, 1000, 28, 28, 1000, -1, 1);
    {
        char *f = pr_fmt("%s/train-images-idx3-ubyte.gz", d);
        struct stat st;
        cr_assert_eq(stat(f, &st), 0);
        cr_assert_eq(truncate(f, st.st_size / 2), 0);
        free(f);
    }
    free(d);
    d = pr_fmt("%s/fm-wrong-magic", scratch);
    pr_fmnist(d, 1000, 28, 28, 1000, -1, 0);
    {
        char *f = pr_fmt("%s/train-images-idx3-ubyte", d);
        FILE *fp = fopen(f, "r+b");
        cr_assert_not_null(fp);
        unsigned char m[4];
        pr_be32(m, 2049);
        fwrite(m, 1, 4, fp);
        fclose(fp);
        free(f);
    }
    free(d);
    d = pr_fmt("%s/fm-1x1-images", scratch);
    pr_fmnist(d, 1000, 1, 1, 1000, -1, 0);
    free(d);
    d = pr_fmt("%s/fm-10-images", scratch);
    pr_fmnist(d, 10, 28, 28, 10, -1, 0);
    free(d);
    d = pr_fmt("%s/fm-label-10", scratch);
    pr_fmnist(d, 1000, 28, 28, 1000, 10, 0);
    free(d);
    d = pr_fmt("%s/fm-count-mismatch", scratch);
    pr_fmnist(d, 1000, 28, 28, 999, -1, 0);
    free(d);
    d = pr_fmt("%s/fm-1000-images", scratch);
    pr_fmnist(d, 1000, 28, 28, 1000, -1, 0);
    free(d);
    d = pr_fmt("%s/fm-no-labels", scratch);
    pr_fmnist(d, 1000, 28, 28, 1000, -1, 0);
    {
        char *f = pr_fmt("%s/train-labels-idx1-ubyte", d);
        cr_assert_eq(unlink(f), 0);
        free(f);
    }
    free(d);
}

/* The cases of one program x every broken directory of its kind (fmnist, fortunes):
 * args with $DATA the broken directory; each must be refused naming the directory. */
static inline void pr_data_cases(pr_cases *cs, const char *name, const char *path, const char *args,
                                 const char *kind, const char *scratch) {
    int fm = strcmp(kind, "fmnist") == 0;
    for (const pr_broken *b = fm ? pr_broken_fmnist : pr_broken_fortunes; b->name; b++) {
        char *dir = pr_fmt("%s/%s", scratch, b->name);
        pr_case *c = pr_add(cs);
        char *label = pr_fmt("%s --data %s (%s)", name, b->name, b->what);
        pr_case_init(c, path, label, b->expect);
        free(label);
        pr_case_args(c, args, dir, pr_root());
        c->needle = b->named ? strdup(b->name) : NULL;
        pr_case_env(c, fm ? "GD_FASHION_MNIST" : "GD_FORTUNES", dir);
        free(dir);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Reporting: every failure as its own line, the count as the test's one failure. */

static inline void pr_report(pr_case *cases, int n, const char *what, double wall) {
    int failed = 0;
    double cpu = 0;
    const char *rpath = getenv("GD_PROBE_REPORT");
    FILE *rep = rpath ? fopen(rpath, "a") : NULL;
    for (int i = 0; i < n; i++) {
        cpu += cases[i].cpu;
        if (!cases[i].failure) continue;
        failed++;
        cr_log_error("%s", cases[i].failure);
        if (rep) fprintf(rep, "%s\n", cases[i].failure);
    }
    if (rep) fclose(rep);
    cr_log_info("probe %s: %d cases, %d failed, %.1f CPU-s in the programs, %.1f s wall", what, n,
                failed, cpu, wall);
    cr_expect_eq(failed, 0, "probe %s: %d of %d cases broke the rules (each is listed above)", what,
                 failed, n);
}

static inline double pr_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void pr_cases_free(pr_cases *cs) {
    for (int i = 0; i < cs->n; i++) pr_case_free(&cs->cases[i]);
    free(cs->cases);
    memset(cs, 0, sizeof *cs);
}

/* Run every case that is not already judged (a --help failure has no argv). */
static inline void pr_run_pending(pr_cases *cs, const char *scratch) {
    pr_case *todo = calloc(cs->n > 0 ? (size_t)cs->n : 1, sizeof *todo);
    int nt = 0;
    for (int i = 0; i < cs->n; i++)
        if (cs->cases[i].argv[0]) todo[nt++] = cs->cases[i];
    pr_run(todo, nt, scratch);
    for (int i = 0, j = 0; i < cs->n; i++)
        if (cs->cases[i].argv[0]) cs->cases[i] = todo[j++];
    free(todo);
    /* Confirm the cases that look accepted: the value alone in a short run's options,
     * where it must be refused naming its option. */
    static const char looks[] = ": accepted (the refusal names the next argument";
    pr_cases again = {0};
    int *from = calloc(cs->n > 0 ? (size_t)cs->n : 1, sizeof *from);
    for (int i = 0; i < cs->n; i++) {
        pr_case *c = &cs->cases[i];
        if (!c->failure || !c->confirm_base || !strstr(c->failure, looks)) continue;
        pr_case *k = pr_add(&again);
        pr_case_init(k, c->argv[0], c->label, PR_REFUSE);
        pr_case_args_with(k, c->confirm_base, c->env[1] ? strchr(c->env[1], '=') + 1 : "",
                          pr_root(), c->confirm_opt, c->confirm_value);
        for (int e = 1; c->env[e]; e++) k->env[e] = strdup(c->env[e]);
        k->needle = strdup(c->confirm_opt);
        from[again.n - 1] = i;
    }
    if (again.n) {
        char *dir = pr_fmt("%s/confirm", scratch);
        cr_assert_eq(mkdir(dir, 0700), 0);
        pr_run(again.cases, again.n, dir);
        for (int k = 0; k < again.n; k++) {
            pr_case *c = &cs->cases[from[k]];
            c->cpu += again.cases[k].cpu;
            free(c->failure);
            c->failure = again.cases[k].failure   /* without the sentinel, what it did */
                             ? pr_fmt("%s [run again without the sentinel, in its short-run options]",
                                      again.cases[k].failure)
                             : NULL;
        }
        pr_rm_rf(dir);
        free(dir);
    }
    pr_cases_free(&again);
    free(from);
}

#endif

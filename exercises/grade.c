/* grade -- the autograder: run every exercise's check and print a score table.
 *
 * The exercises are listed in exercises/chNN/exercises.tsv (id, kind, points, written
 * points, difficulty, minutes, title); their checks register themselves (grade.h,
 * EXERCISE). Each check runs in a child process of its own with a time limit, so a
 * crash or an endless loop in a student's code costs that exercise's points and nothing
 * else. A check passes when none of its expectations failed, and then earns the
 * exercise's points; the written parts are graded by the instructor with the rubrics of
 * exercises/chNN/solutions.md and are not counted here.
 *
 *   grade                      every exercise
 *   grade --only 4             Chapter 4's exercises; --only 4.1 one exercise
 *   grade --tsv F --json F     the table for an LMS (written atomically)
 *
 * Exit status: 0 when the grading ran (whatever the score), 1 when the kit itself is
 * inconsistent (an exercise without a check, a check without an exercise) or a --tsv or
 * --json file could not be written, 2 for usage (an output that can never be written
 * is one: it is checked before anything is graded).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grade.h"
#include "err.h"
#include "out.h"

#ifndef GRADE_BIN_DIR
#define GRADE_BIN_DIR "build/bin"
#endif

#define MAX_EX 256
#define MSG_MAX 512

/* ---- the registry of checks ------------------------------------------------------- */
static struct { const char *id, *file; grade_fn fn; } checks[MAX_EX];
static int nchecks;

void grade_register(const char *id, grade_fn fn, const char *file)
{
    if (nchecks == MAX_EX) { fprintf(stderr, "grade: more than %d checks\n", MAX_EX); exit(1); }
    checks[nchecks].id = id;
    checks[nchecks].fn = fn;
    checks[nchecks].file = file;
    nchecks++;
}

/* ---- inside a check (the child process) ------------------------------------------- */
struct grade {
    int fd;          /* pipe to the parent: one line per failed expectation */
    int failures;
    double answers[64];  /* the values grade_answer returned in this check */
    int nanswers;
};

int grade_expect(grade *g, int ok, const char *fmt, ...)
{
    if (ok) return 1;
    g->failures++;
    if (g->failures > 20) return 0;          /* the first twenty say enough */
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)             /* one line, one field: no tabs, no newlines */
        if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
    size_t n = strlen(msg);
    msg[n++] = '\n';
    if (write(g->fd, msg, n) < 0) { /* the parent is gone; nothing to tell */ }
    return 0;
}

int grade_close(grade *g, const char *what, double got, double want, double rtol, double atol)
{
    double tol = atol + rtol * fabs(want);
    int ok = isfinite(got) && fabs(got - want) <= tol;
    /* A student's measured answer is compared without printing the value the check
     * computed: that would hand the answer to the next try. A function's value at a
     * given input is shown, as any unit test would. */
    for (int i = 0; i < g->nanswers && !ok; i++)
        if (memcmp(&g->answers[i], &got, sizeof got) == 0) {
            if (rtol > 0 && atol == 0)
                return grade_expect(g, 0, "%s: your answer %.6g is not within %g%% of the value the check measured", what, got, 100 * rtol);
            return grade_expect(g, 0, "%s: your answer %.6g is not within %g%% + %.3g of the value the check measured", what, got, 100 * rtol, atol);
        }
    if (rtol > 0 && atol == 0)
        return grade_expect(g, ok, "%s: expected %.6g (within %g%%), got %.6g", what, want, 100 * rtol, got);
    return grade_expect(g, ok, "%s: expected %.6g +- %.3g, got %.6g", what, want, tol, got);
}

/* The line of exercises/chNN/answers.tsv that answers KEY: its value, in BUF. */
static int answer_lookup(grade *g, const char *key, char *buf, size_t size)
{
    int chapter = atoi(key);
    char path[64];
    snprintf(path, sizeof path, "exercises/ch%02d/answers.tsv", chapter);
    FILE *f = fopen(path, "r");
    if (!f) {
        grade_expect(g, 0, "no answer for %s: cannot read %s (%s)", key, path, strerror(errno));
        return 0;
    }
    char line[1024];
    size_t klen = strlen(key);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ') p++;
        if (*p == '#' || strncmp(p, key, klen) != 0 || (p[klen] != '\t' && p[klen] != ' ' && p[klen] != '\n' && p[klen] != '\0'))
            continue;
        p += klen;
        while (*p == '\t' || *p == ' ') p++;
        size_t n = strcspn(p, "\r\n");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n == 0) break;                   /* the key with no value yet */
        if (n >= size) {                     /* never cut short: a shorter answer is another answer */
            fclose(f);
            grade_expect(g, 0, "answer %s in %s: longer than %zu characters", key, path, size - 1);
            return 0;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        found = 1;
        break;
    }
    fclose(f);
    if (!found)
        grade_expect(g, 0, "no answer for %s in %s (write a line: %s<TAB>your value)", key, path, key);
    return found;
}

double grade_answer(grade *g, const char *key)
{
    char buf[256];
    if (!answer_lookup(g, key, buf, sizeof buf)) return NAN;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0') {
        grade_expect(g, 0, "answer %s: '%s' is not a number", key, buf);
        return NAN;
    }
    if (g->nanswers < 64) g->answers[g->nanswers++] = v;
    return v;
}

const char *grade_answer_word(grade *g, const char *key)
{
    static char buf[8][256];
    static int next;
    char *b = buf[next++ % 8];
    if (!answer_lookup(g, key, b, sizeof buf[0])) return "";
    return b;
}

static unsigned long long seed_base;
unsigned long long grade_seed(int k) { return seed_base + (unsigned long long)k; }

const char *grade_bin(const char *program)
{
    /* on the heap: GRADE_BIN_DIR is the user's, of any length (a fixed buffer would cut
     * it and run another program); the last 8 paths stay valid, as before */
    static char *buf[8];
    static int next;
    char **b = &buf[next++ % 8];
    const char *dir = getenv("GRADE_BIN_DIR");
    if (!dir || !*dir) dir = GRADE_BIN_DIR;
    size_t n = strlen(dir) + strlen(program) + 2;
    free(*b);
    if (!(*b = malloc(n))) { fprintf(stderr, "grade: out of memory\n"); exit(1); }
    snprintf(*b, n, "%s/%s", dir, program);
    return *b;
}

/* ---- the manifest ------------------------------------------------------------------ */
typedef struct {
    char id[16], kind[16], title[160], file[64];
    int points, written, difficulty, minutes;
    /* the result */
    int score;
    char result[MSG_MAX];
} exercise;

static exercise ex[MAX_EX];
static int nex;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every exercises/chNN/exercises.tsv, chapters in order. 0, or -1 (message printed). */
static int manifest_read(void)
{
    DIR *d = opendir("exercises");
    if (!d) { fprintf(stderr, "grade: cannot open exercises/ (run from the top of the book): %s\n", strerror(errno)); return -1; }
    char *names[100];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 100)
        if (strncmp(e->d_name, "ch", 2) == 0 && strlen(e->d_name) == 4) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "exercises/%s/exercises.tsv", names[i]);
        free(names[i]);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char line[512];
        int line_no = 0;
        while (fgets(line, sizeof line, f)) {
            line_no++;
            if (line_no == 1 || line[0] == '#' || line[0] == '\n') continue;   /* header */
            if (nex == MAX_EX) { fprintf(stderr, "grade: more than %d exercises\n", MAX_EX); bad = 1; break; }
            exercise *x = &ex[nex];
            line[strcspn(line, "\r\n")] = '\0';
            char *field[7];
            int nf = 0;
            for (char *p = line; nf < 7; nf++) {
                field[nf] = p;
                char *tab = strchr(p, '\t');
                if (!tab) { nf++; break; }
                *tab = '\0';
                p = tab + 1;
            }
            char *end;
            if (nf != 7) { fprintf(stderr, "grade: %s:%d: expected 7 tab-separated fields, got %d\n", path, line_no, nf); bad = 1; continue; }
            if (strlen(field[0]) >= sizeof x->id || strlen(field[1]) >= sizeof x->kind || strlen(field[6]) >= sizeof x->title) {
                fprintf(stderr, "grade: %s:%d: an id, kind or title longer than %zu, %zu or %zu characters\n", path, line_no,
                        sizeof x->id - 1, sizeof x->kind - 1, sizeof x->title - 1);
                bad = 1;
                continue;
            }
            snprintf(x->id, sizeof x->id, "%s", field[0]);
            snprintf(x->kind, sizeof x->kind, "%s", field[1]);
            snprintf(x->title, sizeof x->title, "%s", field[6]);
            snprintf(x->file, sizeof x->file, "%s", path);
            long v[4];
            for (int k = 0; k < 4; k++) {
                v[k] = strtol(field[2 + k], &end, 10);
                if (end == field[2 + k] || *end) { fprintf(stderr, "grade: %s:%d: '%s' is not a whole number\n", path, line_no, field[2 + k]); bad = 1; }
            }
            x->points = (int)v[0], x->written = (int)v[1], x->difficulty = (int)v[2], x->minutes = (int)v[3];
            if (strcmp(x->kind, "derivation") && strcmp(x->kind, "coding") && strcmp(x->kind, "experiment")) {
                fprintf(stderr, "grade: %s:%d: kind '%s' is not derivation, coding or experiment\n", path, line_no, x->kind);
                bad = 1;
            }
            nex++;
        }
        fclose(f);
    }
    return bad ? -1 : 0;
}

/* ---- running a check ---------------------------------------------------------------- */
static void run_check(exercise *x, grade_fn fn, int timeout, int quiet)
{
    int fds[2];
    if (pipe(fds) != 0) { snprintf(x->result, sizeof x->result, "grader: pipe: %s", strerror(errno)); return; }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) { snprintf(x->result, sizeof x->result, "grader: fork: %s", strerror(errno)); close(fds[0]); close(fds[1]); return; }
    if (pid == 0) {
        close(fds[0]);
        if (quiet) {                              /* the student's printing, out of the table */
            FILE *null = freopen("/dev/null", "w", stdout);
            (void)null;
        }
        alarm((unsigned)timeout);
        grade g = { .fd = fds[1] };
        fn(&g);
        fflush(stdout);
        _exit(g.failures ? 1 : 0);
    }
    close(fds[1]);
    char buf[4 * MSG_MAX];
    size_t n = 0;
    ssize_t got;
    while ((got = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0 || (got < 0 && errno == EINTR))
        if (got > 0) n += (size_t)got;
    char drain[256];                              /* more than we keep: read to the end */
    while (n == sizeof buf - 1 && read(fds[0], drain, sizeof drain) > 0) {}
    close(fds[0]);
    buf[n] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int lines = 0;
    for (char *p = buf; *p; p++) lines += *p == '\n';
    buf[strcspn(buf, "\n")] = '\0';
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            snprintf(x->result, sizeof x->result, "timed out after %d s (an endless loop?)%s%.300s", timeout, n ? "; first failure: " : "", buf);
        else
            snprintf(x->result, sizeof x->result, "crashed (%s) while checking%s%.300s", strsignal(sig), n ? "; first failure: " : "", buf);
        x->score = 0;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        snprintf(x->result, sizeof x->result, "ok");
        x->score = x->points;
    } else {
        if (lines > 1)
            snprintf(x->result, sizeof x->result, "%.400s (and %d more)", buf, lines - 1);
        else
            snprintf(x->result, sizeof x->result, "%.400s", n ? buf : "failed (no message)");
        x->score = 0;
    }
}

/* ---- output ------------------------------------------------------------------------- */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* Write PATH by out.h's policy (gd_atomic: PATH.tmp.PID and a rename, so an interrupted
 * run keeps the old file; a symlink's target written; a device such as /dev/stdout in
 * place). */
static int write_results(const char *path, int json, int selected[], int total, int max)
{
    gd_atomic a;
    if (gd_atomic_open(&a, path) != 0) { fprintf(stderr, "grade: %s\n", gd_error()); return -1; }
    FILE *f = a.f;
    if (json) {
        fprintf(f, "{\n  \"seed_base\": %llu,\n  \"score\": %d,\n  \"max\": %d,\n  \"exercises\": [", seed_base, total, max);
        int first = 1;
        for (int i = 0; i < nex; i++) {
            if (!selected[i]) continue;
            exercise *x = &ex[i];
            fprintf(f, "%s\n    {\"id\": ", first ? "" : ",");
            json_string(f, x->id);
            fprintf(f, ", \"kind\": ");
            json_string(f, x->kind);
            fprintf(f, ", \"title\": ");
            json_string(f, x->title);
            fprintf(f, ", \"points\": %d, \"score\": %d, \"written\": %d, \"result\": ", x->points, x->score, x->written);
            json_string(f, x->result);
            fputc('}', f);
            first = 0;
        }
        fprintf(f, "\n  ]\n}\n");
    } else {
        fprintf(f, "# grade: automatic checks; seed base %llu; written parts are graded by rubric\n", seed_base);
        fprintf(f, "id\tkind\tpoints\tscore\twritten\ttitle\tresult\n");
        for (int i = 0; i < nex; i++)
            if (selected[i])
                fprintf(f, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", ex[i].id, ex[i].kind, ex[i].points, ex[i].score, ex[i].written, ex[i].title, ex[i].result);
        fprintf(f, "total\t\t%d\t%d\t\t\t\n", max, total);
    }
    if (gd_atomic_commit(&a) != 0) { fprintf(stderr, "grade: %s\n", gd_error()); return -1; }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: grade [--only ID|CHAPTER] [--tsv FILE] [--json FILE] [--timeout S]\n"
          "             [--seed-base N] [--list]\n"
          "Run the automatic check of every exercise (exercises/chNN/exercises.tsv) and\n"
          "print a score table; run from the top of the book (make grade does).\n"
          "  --only 4.1     one exercise; --only 4: Chapter 4's\n"
          "  --tsv FILE     the table as TSV; --json FILE: as JSON (for an LMS)\n"
          "  --timeout S    seconds a check may take (default 60)\n"
          "  --seed-base N  the seeds of checks that train are N, N+1, ... (default 0)\n"
          "  --list         list the exercises and exit (--list-markdown: as a table)\n"
          "Exit status: 0 when the grading ran (whatever the score); 1 when the kit is\n"
          "inconsistent or --tsv/--json cannot be written; 2 for usage, and for an output\n"
          "that can never be written (checked before grading).\n", f);
}

/* A refusal of an option's value: "grade: MSG" on one line, exit status 2. gd_seterr
 * escapes control characters, so a value with a newline still gives one line. */
static int refuse(const char *fmt, ...) GD_PRINTF(1, 2);
static int refuse(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gd_seterr("%s%s", msg, n >= (int)sizeof msg ? "..." : "");
    fprintf(stderr, "grade: %s\n", gd_error());
    return 2;
}

int main(int argc, char **argv)
{
    const char *only = NULL, *tsv = NULL, *json = NULL;
    int timeout = 60, list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        char *end;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--list")) list = 1;
        else if (!strcmp(a, "--list-markdown")) list = 2;
        else if ((!strcmp(a, "--only") || !strcmp(a, "--tsv") || !strcmp(a, "--json")) && has) {
            /* an empty value is a mistake (an unset shell variable), not "no value" */
            if (!argv[++i][0]) return refuse("%s: empty value", a);
            if (a[2] == 'o') only = argv[i];
            else if (a[2] == 't') tsv = argv[i];
            else json = argv[i];
        }
        else if (!strcmp(a, "--timeout") && has) {
            long t = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || t < 1 || t > 3600) return refuse("--timeout: '%.60s' is not a number of seconds from 1 to 3600", argv[i]);
            timeout = (int)t;
        } else if (!strcmp(a, "--seed-base") && has) {
            errno = 0;
            if (argv[++i][0] < '0' || argv[i][0] > '9') return refuse("--seed-base: '%.60s' is not a whole number", argv[i]);
            seed_base = strtoull(argv[i], &end, 10);
            if (*end || errno) return refuse("--seed-base: '%.60s' is not a whole number", argv[i]);
        } else return refuse("unknown option or missing value: %.60s (try --help)", a);
    }
    /* the outputs before any grading (which can take minutes): one that can never be
     * written is a usage error */
    const char *outs[2] = {tsv, json}, *names[2] = {"--tsv", "--json"};
    for (int k = 0; k < 2; k++)
        if (outs[k] && gd_out_check(outs[k]) != 0) { fprintf(stderr, "grade: %s: %s\n", names[k], gd_error()); return 2; }
    if (manifest_read() != 0) return 1;

    /* Every exercise has one check, every check one exercise: else the kit is broken. */
    int kit_bad = 0;
    grade_fn fn[MAX_EX] = { 0 };
    for (int i = 0; i < nex; i++) {
        for (int c = 0; c < nchecks; c++)
            if (!strcmp(checks[c].id, ex[i].id)) {
                if (fn[i]) { fprintf(stderr, "grade: exercise %s has two checks (%s)\n", ex[i].id, checks[c].file); kit_bad = 1; }
                fn[i] = checks[c].fn;
            }
        if (!fn[i]) { fprintf(stderr, "grade: exercise %s (%s) has no check (EXERCISE(\"%s\", ...) in exercises/)\n", ex[i].id, ex[i].file, ex[i].id); kit_bad = 1; }
    }
    for (int c = 0; c < nchecks; c++) {
        int found = 0;
        for (int i = 0; i < nex; i++) found |= !strcmp(checks[c].id, ex[i].id);
        if (!found) { fprintf(stderr, "grade: %s: a check for exercise %s, which no exercises.tsv lists\n", checks[c].file, checks[c].id); kit_bad = 1; }
    }
    if (kit_bad) return 1;

    int selected[MAX_EX], nsel = 0;
    for (int i = 0; i < nex; i++) {
        selected[i] = 1;
        if (only) {
            int chapter_only = !strchr(only, '.');
            selected[i] = chapter_only ? atoi(ex[i].id) == atoi(only) && only[strspn(only, "0123456789")] == '\0'
                                       : strcmp(ex[i].id, only) == 0;
        }
        nsel += selected[i];
    }
    if (only && !nsel) return refuse("--only %.60s: no such exercise or chapter (grade --list)", only);

    if (list == 2) {        /* the table of exercises/README.md (tests/kit checks it) */
        printf("| exercise | title | kind | difficulty | minutes | points (auto + written) |\n");
        printf("|---|---|---|---|---|---|\n");
        for (int i = 0; i < nex; i++)
            if (selected[i])
                printf("| %s | %s | %s | %.*s | %d | %d + %d |\n", ex[i].id, ex[i].title, ex[i].kind,
                       3 * ex[i].difficulty, "★★★", ex[i].minutes, ex[i].points, ex[i].written);
        return 0;
    }
    if (list) {
        for (int i = 0; i < nex; i++)
            if (selected[i])
                printf("%-6s %-10s %3d points + %2d written  %-3.*s %3d min  %s\n", ex[i].id, ex[i].kind, ex[i].points,
                       ex[i].written, 3 * ex[i].difficulty, "★★★", ex[i].minutes, ex[i].title);
        return 0;
    }

    printf("%-9s %-11s %6s %6s  %s\n", "exercise", "kind", "points", "score", "result");
    int total = 0, max = 0, written = 0, passed = 0;
    for (int i = 0; i < nex; i++) {
        if (!selected[i]) continue;
        run_check(&ex[i], fn[i], timeout, nsel > 1);
        total += ex[i].score;
        max += ex[i].points;
        written += ex[i].written;
        passed += ex[i].score == ex[i].points;
        printf("%-9s %-11s %6d %6d  %s\n", ex[i].id, ex[i].kind, ex[i].points, ex[i].score, ex[i].result);
        fflush(stdout);
    }
    printf("%-21s %6d %6d  (%d of %d exercises passed)\n", "total", max, total, passed, nsel);
    if (written)
        printf("Written parts (%d points more) are graded by the instructor with the rubrics.\n", written);
    int bad = 0;
    if (tsv) bad |= write_results(tsv, 0, selected, total, max) != 0;
    if (json) bad |= write_results(json, 1, selected, total, max) != 0;
    return bad ? 1 : 0;
}

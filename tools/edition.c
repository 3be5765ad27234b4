/* edition -- write the student edition of the book (or an edition with wrong answers).
 *
 * The repository is the instructor's edition: each exercise's solution sits between
 * marker lines, followed by the stub a student gets and a plausible wrong answer
 *
 *     /+ BEGIN SOLUTION N.M +/        (any comment syntax: / *, #, <!--)
 *     return eta * sigma2 / (lambda * (2.0 - eta * lambda));
 *     /+ END SOLUTION N.M +/
 *     /+ STUB N.M: return NAN; +/
 *     /+ WRONG N.M: return eta * sigma2 / (2.0 - eta * lambda); +/
 *
 * (the id is the exercise's number, "4.1"; N.M here, so that this comment is not
 * itself a marker), and a file whose first line says INSTRUCTOR EDITION ONLY (worked
 * answers, rubrics, the kit's own tests) belongs to the instructor's edition alone.
 *
 *   --student     drop every solution and every instructor-only file; each STUB line
 *                 becomes its text (indentation kept, a closing comment mark dropped)
 *   --wrong ID    keep everything, but put exercise ID's WRONG lines in place of its
 *                 solution (ID "all": every exercise's); the kit's tests use it to show
 *                 that each check catches a wrong answer and costs exactly its points
 *   --ids         print each exercise id with what it has (solution, stub, wrong)
 *
 * Files that are not text (a NUL byte: PNG figures) are copied as they are. The edition
 * is written to OUT.tmp.PID and renamed to OUT; an existing OUT is replaced only when it
 * is an edition this program wrote (it has OUT/.edition), so no other directory is lost.
 * As for every writer of the book (out.h): a symlink OUT is followed (the edition
 * replaces the directory it points to, the link stays), a link that leads nowhere is
 * refused, OUT.tmp.N directories left by a killed run (N no longer running) are removed,
 * and an OUT whose directory cannot be written is refused before any file is read.
 * Exit status: 0 written (or listed); 1 a marker error in a FILE or a failure while
 * writing; 2 usage, including an OUT that exists and is not an edition, or cannot be
 * written.
 */
#define _XOPEN_SOURCE 700
#include "err.h"
#include "out.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum mode { MODE_STUDENT, MODE_WRONG, MODE_IDS };

#define MAX_IDS 256
static struct { char id[16]; int solution, stub, wrong; } ids[MAX_IDS];
static int nids;

static void usage(FILE *f)
{
    fputs("usage: edition (--student | --wrong ID|all) --out DIR FILE...\n"
          "       edition --ids FILE...\n"
          "Write the student edition of FILE... (paths relative to the top of the book)\n"
          "into DIR, or an edition with exercise ID's wrong answer in place of its\n"
          "solution; --ids lists each exercise's markers. Marker lines:\n"
          "  BEGIN SOLUTION <id> ... END SOLUTION <id>   the solution (dropped)\n"
          "  STUB <id>: TEXT                             the student's stub\n"
          "  WRONG <id>: TEXT                            a plausible wrong answer\n"
          "  INSTRUCTOR EDITION ONLY (on the first line) the file is the instructor's\n", f);
}

static int id_index(const char *id)
{
    for (int i = 0; i < nids; i++)
        if (strcmp(ids[i].id, id) == 0) return i;
    if (nids == MAX_IDS) { fprintf(stderr, "edition: more than %d exercises\n", MAX_IDS); exit(1); }
    snprintf(ids[nids].id, sizeof ids[nids].id, "%s", id);
    return nids++;
}

/* If LINE contains WORD followed by an exercise id ("4.1", "8.2b"), copy the id to ID and
 * return a pointer just after it; else NULL. */
static const char *marker(const char *line, const char *word, char *id, size_t idsize)
{
    const char *p = strstr(line, word);
    if (!p) return NULL;
    p += strlen(word);
    size_t n = 0;
    while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.' || (p[n] >= 'a' && p[n] <= 'z')) n++;
    if (n == 0 || n >= idsize || !(p[0] >= '0' && p[0] <= '9')) return NULL;
    memcpy(id, p, n);
    id[n] = '\0';
    return p + n;
}

/* The text of a STUB/WRONG line: after "ID: ", up to a closing comment mark. */
static void emit_text(FILE *out, const char *line, const char *after)
{
    const char *indent_end = line;
    while (*indent_end == ' ' || *indent_end == '\t') indent_end++;
    const char *t = after + 1;                    /* skip ':' */
    if (*t == ' ') t++;
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ')) n--;
    if (n >= 2 && strncmp(t + n - 2, "*/", 2) == 0) n -= 2;
    else if (n >= 3 && strncmp(t + n - 3, "-->", 3) == 0) n -= 3;
    while (n > 0 && t[n - 1] == ' ') n--;
    fwrite(line, 1, (size_t)(indent_end - line), out);
    fwrite(t, 1, n, out);
    fputc('\n', out);
}

static int matches(const char *id, enum mode mode, const char *which)
{
    if (mode == MODE_STUDENT) return 1;
    if (mode == MODE_WRONG) return strcmp(which, "all") == 0 || strcmp(which, id) == 0;
    return 0;
}

/* The first line of TEXT says INSTRUCTOR EDITION ONLY. */
static int instructor_only(const char *text)
{
    const char *p = strstr(text, "INSTRUCTOR EDITION ONLY"), *nl = strchr(text, '\n');
    return p && (!nl || p < nl);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, 2 * cap + 1);
            if (!b) { free(buf); buf = NULL; break; }
            buf = b;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); return NULL; }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int mkdirs(char *path)             /* the parent directories of PATH */
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int r = mkdir(path, 0777);
        *p = '/';
        if (r != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

/* Process FILE into OUT/FILE (OUT NULL: only record its markers). 0, or 1 on error. */
static int process(const char *file, const char *outdir, enum mode mode, const char *which)
{
    size_t len;
    char *text = read_file(file, &len);
    if (!text) { fprintf(stderr, "edition: %s: %s\n", file, strerror(errno ? errno : EIO)); return 1; }
    int binary = memchr(text, '\0', len) != NULL;
    if (!binary && mode == MODE_STUDENT && instructor_only(text)) { free(text); return 0; }

    FILE *out = NULL;
    char outpath[4096];
    if (outdir) {
        if (snprintf(outpath, sizeof outpath, "%s/%s", outdir, file) >= (int)sizeof outpath) {
            fprintf(stderr, "edition: %s: path too long\n", file);
            free(text);
            return 1;
        }
        struct stat st;
        if (mkdirs(outpath) != 0 || !(out = fopen(outpath, "wb"))) {
            fprintf(stderr, "edition: cannot write %s: %s\n", outpath, strerror(errno));
            free(text);
            return 1;
        }
        if (stat(file, &st) == 0) chmod(outpath, st.st_mode & 0777);
    }
    if (binary) {
        if (out) fwrite(text, 1, len, out);
    } else {
        char region[16] = "";            /* the id whose solution we are in, or "" */
        int line_no = 0, drop = 0, bad = 0;
        for (char *line = text; *line && !bad;) {
            char *nl = strchr(line, '\n');
            char save = 0;
            if (nl) { save = nl[1]; nl[1] = '\0'; }
            line_no++;
            char id[16];
            const char *after;
            if (marker(line, "BEGIN SOLUTION ", id, sizeof id)) {
                if (region[0]) { fprintf(stderr, "edition: %s:%d: BEGIN SOLUTION %s inside solution %s\n", file, line_no, id, region); bad = 1; }
                snprintf(region, sizeof region, "%s", id);
                ids[id_index(id)].solution++;
                drop = matches(id, mode, which);
                if (!drop && out) fputs(line, out);
            } else if (marker(line, "END SOLUTION ", id, sizeof id)) {
                if (strcmp(id, region) != 0) { fprintf(stderr, "edition: %s:%d: END SOLUTION %s %s\n", file, line_no, id, region[0] ? "does not close this solution" : "without BEGIN"); bad = 1; }
                if (!drop && out) fputs(line, out);
                region[0] = '\0';
                drop = 0;
            } else if ((after = marker(line, "STUB ", id, sizeof id)) && *after == ':') {
                ids[id_index(id)].stub++;
                if (out && mode == MODE_STUDENT) emit_text(out, line, after);
                else if (out && !matches(id, mode, which)) fputs(line, out);
            } else if ((after = marker(line, "WRONG ", id, sizeof id)) && *after == ':') {
                ids[id_index(id)].wrong++;
                if (out && mode == MODE_WRONG && matches(id, mode, which)) emit_text(out, line, after);
                else if (out && mode == MODE_WRONG) fputs(line, out);
            } else if (!drop && out) {
                fputs(line, out);
            }
            if (!nl) break;
            nl[1] = save;
            line = nl + 1;
        }
        if (!bad && region[0]) { fprintf(stderr, "edition: %s: solution %s has no END SOLUTION\n", file, region); bad = 1; }
        if (bad) { if (out) fclose(out); free(text); return 1; }
    }
    free(text);
    if (out && fclose(out) != 0) { fprintf(stderr, "edition: cannot write %s: %s\n", outpath, strerror(errno)); return 1; }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* Remove OUT.tmp.N directories (or files) whose writer N is no longer running. */
static void remove_stale(const char *outdir)
{
    const char *slash = strrchr(outdir, '/');
    const char *base = slash ? slash + 1 : outdir;
    size_t dlen = slash ? (size_t)(slash - outdir) : 1, blen = strlen(base);
    char *dir = malloc(dlen + 1);
    if (!dir) return;
    if (slash) memcpy(dir, outdir, dlen), dir[dlen] = '\0';
    else strcpy(dir, ".");
    if (slash == outdir) strcpy(dir, "/");
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *n = e->d_name, *digits = n + blen + 5;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) continue;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (!(*digits >= '0' && *digits <= '9') || *end || errno || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* alive, or not ours to judge */
        size_t len = strlen(dir) + strlen(n) + 2;
        char *path = malloc(len);
        if (path) {
            snprintf(path, len, "%s/%s", dir, n);
            nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
            free(path);
        }
    }
    if (d) closedir(d);
    free(dir);
}

int main(int argc, char **argv)
{
    enum mode mode = MODE_IDS;
    const char *which = NULL, *outdir = NULL;
    int have_mode = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        else if (strcmp(argv[i], "--student") == 0) { mode = MODE_STUDENT; have_mode++; }
        else if (strcmp(argv[i], "--ids") == 0) { mode = MODE_IDS; have_mode++; }
        else if ((strcmp(argv[i], "--wrong") == 0 || strcmp(argv[i], "--out") == 0) && i + 1 < argc) {
            /* an empty value is a mistake (an unset shell variable), refused by name rather
             * than taken (which made the next argument look like the wrong one) */
            if (!argv[i + 1][0]) { fprintf(stderr, "edition: %s: empty value\n", argv[i]); return 2; }
            if (argv[i][2] == 'w') { mode = MODE_WRONG; which = argv[++i]; have_mode++; }
            else outdir = argv[++i];
        }
        else if (strcmp(argv[i], "--") == 0) { i++; break; }
        else {
            gd_seterr("unknown option or missing value: %.60s (try --help)", argv[i]);   /* escaped: one line */
            fprintf(stderr, "edition: %s\n", gd_error());
            return 2;
        }
    }
    if (have_mode != 1) { fprintf(stderr, "edition: say one of --student, --wrong ID, --ids (try --help)\n"); return 2; }
    if ((mode == MODE_IDS) != (outdir == NULL)) { fprintf(stderr, "edition: %s\n", mode == MODE_IDS ? "--ids writes no edition: no --out" : "--out DIR is required"); return 2; }
    if (i == argc) { fprintf(stderr, "edition: no files (try --help)\n"); return 2; }

    char tmp[4096];
    char *resolved = NULL;
    if (outdir) {
        struct stat st;
        /* a symlink: the edition goes where it points, the link stays */
        if (lstat(outdir, &st) == 0 && S_ISLNK(st.st_mode)) {
            if (!(resolved = realpath(outdir, NULL))) {
                fprintf(stderr, "edition: --out %s: a symbolic link that leads nowhere (%s); not replacing the link\n", outdir, strerror(errno));
                return 2;
            }
            outdir = resolved;
        }
        /* the directory the edition is made in (OUT.tmp.PID, then renamed): writable? */
        const char *slash = strrchr(outdir, '/');
        char *parent = slash ? strndup(outdir, slash == outdir ? 1 : (size_t)(slash - outdir)) : strdup(".");
        int bad = !parent || gd_out_check_dir(parent) != 0;
        free(parent);
        if (bad) { fprintf(stderr, "edition: --out %s: %s\n", outdir, gd_error()); free(resolved); return 2; }
        char mark[4200];
        if (snprintf(mark, sizeof mark, "%s/.edition", outdir) >= (int)sizeof mark) { fprintf(stderr, "edition: --out path too long\n"); free(resolved); return 2; }
        if (stat(outdir, &st) == 0 && stat(mark, &st) != 0) {
            fprintf(stderr, "edition: %s exists and is not an edition (no .edition in it); not replacing it\n", outdir);
            free(resolved);
            return 2;
        }
        if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", outdir, (long)getpid()) >= (int)sizeof tmp) { fprintf(stderr, "edition: --out path too long\n"); free(resolved); return 2; }
        remove_stale(outdir);
    }
    int errors = 0;
    for (; i < argc; i++) errors += process(argv[i], outdir ? tmp : NULL, mode, which);

    if (mode == MODE_WRONG) {                     /* every chosen exercise has a wrong answer */
        int found = 0;
        for (int k = 0; k < nids; k++) {
            if (!ids[k].solution || !matches(ids[k].id, mode, which)) continue;
            found = 1;
            if (!ids[k].wrong) { fprintf(stderr, "edition: exercise %s has a solution but no WRONG line\n", ids[k].id); errors++; }
        }
        if (!found) {   /* --wrong names no exercise: a usage error, one line, nothing written */
            fprintf(stderr, "edition: --wrong %s: no exercise with that id has a solution (edition --ids lists them)\n", which);
            nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
            free(resolved);
            return 2;
        }
    }
    if (mode == MODE_IDS) {
        for (int k = 0; k < nids; k++)
            printf("%s\tsolution=%d\tstub=%d\twrong=%d\n", ids[k].id, ids[k].solution, ids[k].stub, ids[k].wrong);
        return errors ? 1 : 0;
    }
    if (!errors) {
        char mark[4200];
        snprintf(mark, sizeof mark, "%s/.edition", tmp);
        FILE *f = fopen(mark, "w");
        if (!f || fprintf(f, "%s%s\n", mode == MODE_STUDENT ? "student" : "wrong ", mode == MODE_STUDENT ? "" : which) < 0 || fclose(f) != 0) {
            fprintf(stderr, "edition: cannot write %s\n", mark);
            errors++;
        }
    }
    int status = 0;
    if (errors) {
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        fprintf(stderr, "edition: %d error%s; %s left as it was\n", errors, errors == 1 ? "" : "s", outdir);
        status = 1;
    } else {
        nftw(outdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);   /* an earlier edition (checked above) */
        if (rename(tmp, outdir) != 0) {
            fprintf(stderr, "edition: cannot rename %s to %s: %s\n", tmp, outdir, strerror(errno));
            status = 1;
        }
    }
    free(resolved);
    return status;
}

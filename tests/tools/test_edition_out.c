/* test_edition_out.c -- where tools/edition.c writes an edition: out.h's policy for a
 * directory (a symlink followed, its link kept; a killed run's OUT.tmp.N removed; an
 * OUT that cannot be written, or is not an edition, refused with exit 2 and left alone).
 * The edition made is of README.md alone: the policy, not the markers, is tested here. */
#include "../common.h"

#define EDITION GD_BIN "edition --student"

static char dir[64];

static void mktmp(void) {
    strcpy(dir, "/tmp/gdtest-edition-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void rmtmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

Test(tools_edition, outputs_follow_the_write_policy) {
    mktmp();
    char cmd[512], path[256];
    struct stat st;
    /* an earlier edition behind a symlink: replaced in place, the link stays */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/real && echo student > %s/real/.edition && ln -s real %s/ed", dir, dir, dir);
    cr_assert_eq(system(cmd), 0);
    /* a killed run's temporary edition (a pid that no longer runs) */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[128];
    snprintf(stale, sizeof stale, "%s/real.tmp.%ld", dir, (long)dead);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/sub && echo half > %s/sub/file", stale, stale);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, EDITION " --out %s/ed README.md", dir);
    t_result r = t_run(cmd);
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    snprintf(path, sizeof path, "%s/ed", dir);
    cr_expect(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced");
    snprintf(path, sizeof path, "%s/real/README.md", dir);
    cr_expect_eq(access(path, F_OK), 0, "no edition where the link points");
    cr_expect_eq(access(stale, F_OK), -1, "%s was not removed", stale);

    /* refused at once, exit 2, one line: an OUT that cannot be written, a directory that
     * is not an edition (left as it was), a link that leads nowhere */
    t_assert_rejects(EDITION " --out /proc/x/y README.md", 2, "/proc/x");
    snprintf(cmd, sizeof cmd, "mkdir %s/mine && echo keep > %s/mine/notes && " EDITION " --out %s/mine README.md", dir,
             dir, dir);
    t_assert_rejects(cmd, 2, "not an edition");
    snprintf(path, sizeof path, "%s/mine/notes", dir);
    char *kept = t_slurp(path);
    cr_expect(kept && strcmp(kept, "keep\n") == 0, "%s", kept ? kept : "(gone)");
    free(kept);
    snprintf(cmd, sizeof cmd, "ln -s nowhere %s/dangling && " EDITION " --out %s/dangling README.md", dir, dir);
    t_assert_rejects(cmd, 2, "leads nowhere");
    snprintf(path, sizeof path, "%s/dangling", dir);
    cr_expect(lstat(path, &st) == 0 && S_ISLNK(st.st_mode), "the dangling link was replaced");
    /* --wrong naming no exercise: a usage error, one line (it used to add a second) */
    snprintf(cmd, sizeof cmd, GD_BIN "edition --wrong 99.9 --out %s/w README.md", dir);
    t_assert_rejects(cmd, 2, "99.9");
    snprintf(path, sizeof path, "%s/w", dir);
    cr_expect_eq(access(path, F_OK), -1, "an edition was written");
    rmtmp();
}

/* An empty --wrong or --out was taken as the value (the next argument then refused
 * instead): now refused by name, one line, exit 2, nothing written. */
Test(tools_edition, an_empty_value_is_refused_by_name) {
    t_assert_rejects(GD_BIN "edition --wrong '' --out /tmp/gdtest-edition-never README.md", 2, "--wrong: empty value");
    t_assert_rejects(GD_BIN "edition --student --out '' README.md", 2, "--out: empty value");
    struct stat st;
    cr_expect(stat("/tmp/gdtest-edition-never", &st) != 0, "a usage error wrote an edition");
}

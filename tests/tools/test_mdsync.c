/* test_mdsync.c -- the tool that keeps the book's numbers and quoted code true.
 * Each test writes a small markdown file, numbers table and C file into a temporary
 * directory and checks what mdsync does with them. */
#include "../common.h"

#define MDSYNC GD_BIN "mdsync"

static char dir[64];

static void setup(void) {
    strcpy(dir, "/tmp/gdtest-mdsync-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void put(const char *name, const char *text) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return t_slurp(path);
}

static t_result mdsync(const char *mode) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd %s && %s/" MDSYNC " %s doc.md nums.tsv", dir, getenv("PWD"), mode);
    return t_run(cmd);
}

static const char *NUMS = "# program: test\n# blas: OpenBLAS 9.9 K1\nkey\tvalue\nrate\t0.8182\ntable\t| a |\\n|---|\\n| 1 |\\n\n";

TestSuite(tools_mdsync, .init = setup, .fini = teardown);

Test(tools_mdsync, fills_inline_and_block_regions) {
    put("nums.tsv", NUMS);
    put("doc.md", "The rate is <!--n:rate-->old<!--/n--> per step.\n<!-- begin table -->\nstale\n<!-- end table -->\nend\n");
    t_result r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "doc.md:1: stale") != NULL, "%s", r.err);
    t_free(&r);
    r = mdsync("--write");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    char *doc = get("doc.md");
    cr_expect_str_eq(doc, "The rate is <!--n:rate-->0.8182<!--/n--> per step.\n<!-- begin table -->\n| a |\n|---|\n| 1 |\n<!-- end table -->\nend\n"
                          "\n<!-- numbers: OpenBLAS 9.9 K1, seed base 0 -->\n");
    free(doc);
    r = mdsync("--check");
    cr_expect_eq(r.status, 0, "fresh after --write: %s", r.err);
    t_free(&r);
}

Test(tools_mdsync, quotes_code_regions) {
    put("nums.tsv", NUMS);
    put("src.c", "int main(void) {\n    // region loop\n    x = x - lr * g;\n    // endregion loop\n}\n");
    put("doc.md", "<!-- begin code:src.c#loop -->\n<!-- end code:src.c#loop -->\n");
    t_result r = mdsync("--write");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    char *doc = get("doc.md");
    cr_expect_str_eq(doc, "<!-- begin code:src.c#loop -->\n```c\nx = x - lr * g;\n```\n<!-- end code:src.c#loop -->\n"
                          "\n<!-- numbers: OpenBLAS 9.9 K1, seed base 0 -->\n");
    free(doc);
    /* the code changes: the quote is stale */
    put("src.c", "int main(void) {\n    // region loop\n    x -= lr * g;\n    // endregion loop\n}\n");
    r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    t_free(&r);
}

Test(tools_mdsync, missing_things_are_errors) {
    put("nums.tsv", NUMS);
    put("doc.md", "<!--n:nope-->1<!--/n-->\n");
    t_result r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "doc.md:1") && strstr(r.err, "'nope'"), "%s", r.err);
    t_free(&r);

    put("doc.md", "x\n<!-- begin code:src.c#gone -->\n<!-- end code:src.c#gone -->\n");
    put("src.c", "int x;\n");
    r = mdsync("--write");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "doc.md:2") && strstr(r.err, "no region 'gone'"), "%s", r.err);
    t_free(&r);
    char *doc = get("doc.md");
    cr_expect_str_eq(doc, "x\n<!-- begin code:src.c#gone -->\n<!-- end code:src.c#gone -->\n", "unchanged on error");
    free(doc);

    put("doc.md", "<!--n:rate-->0.8182\n");
    r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "no closing") != NULL, "%s", r.err);
    t_free(&r);

    put("doc.md", "<!-- begin table -->\n");
    r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "<!-- end table -->") != NULL, "%s", r.err);
    t_free(&r);
}

Test(tools_mdsync, bad_tables_and_usage) {
    /* an input that is not a numbers table, or is not there: exit 2 (the user's input) */
    put("nums.tsv", "wrong\theader\nrate\t1\n");
    put("doc.md", "x\n");
    t_result r = mdsync("--check");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "nums.tsv") && strstr(r.err, "header"), "%s", r.err);
    t_free(&r);
    put("nums.tsv", NUMS);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd %s && %s/" MDSYNC " --check doc.md gone.tsv", dir, getenv("PWD"));
    r = t_run(cmd);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "gone.tsv") && t_lines(r.err) == 1, "one line: %s", r.err);
    t_free(&r);
    snprintf(cmd, sizeof cmd, "cd %s && %s/" MDSYNC " --write gone.md nums.tsv", dir, getenv("PWD"));
    r = t_run(cmd);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "gone.md") != NULL, "%s", r.err);
    t_free(&r);
    /* an unknown option is named (it was refused with the usage line, which did not
     * say which word was wrong), escaped to one line */
    t_assert_rejects(MDSYNC " --frobnicate x.md", 2, "unknown option --frobnicate");
    t_assert_rejects(MDSYNC " --check --zzz x.md", 2, "unknown option --zzz");
    t_assert_rejects(MDSYNC " --check x.md '--a\nb'", 2, "unknown option --a\\nb");
    t_assert_rejects(MDSYNC " --seed-base abc --zzz", 2, "--seed-base");   /* the value first */
    t_assert_rejects(MDSYNC, 2, "usage");
}

/* The stamp: the digits are compared only in the arithmetic and seed base that wrote
 * them; elsewhere --check makes sure that every region can still be filled. */
Test(tools_mdsync, stamp_names_the_arithmetic_and_seed_base) {
    put("nums.tsv", NUMS);
    put("doc.md", "Rate <!--n:rate-->0.1<!--/n-->.\n\n<!-- numbers: OpenBLAS 9.9 K2, seed base 0 -->\n");
    t_result r = mdsync("--check");
    cr_expect_eq(r.status, 0, "another kernel: only the regions are checked: %s", r.err);
    cr_expect(strstr(r.out, "K2") && strstr(r.out, "K1"), "says which arithmetics: %s", r.out);
    t_free(&r);
    /* same kernel, another seed base: likewise */
    put("doc.md", "Rate <!--n:rate-->0.1<!--/n-->.\n\n<!-- numbers: OpenBLAS 9.9 K1, seed base 0 -->\n");
    r = mdsync("--check --seed-base 7");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    /* same kernel and seed base: the digits must match */
    r = mdsync("--check --seed-base 0");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "doc.md:1: stale") != NULL, "%s", r.err);
    t_free(&r);
    /* another kernel, but a number that no longer exists: still an error */
    put("doc.md", "Rate <!--n:gone-->0.1<!--/n-->.\n\n<!-- numbers: OpenBLAS 9.9 K2, seed base 0 -->\n");
    r = mdsync("--check");
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "'gone'") != NULL, "%s", r.err);
    t_free(&r);
    /* --write replaces the stamp in place */
    put("doc.md", "Rate <!--n:rate-->0.1<!--/n-->.\n\n<!-- numbers: OpenBLAS 9.9 K2, seed base 3 -->\nafter\n");
    r = mdsync("--write --seed-base 5");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    char *doc = get("doc.md");
    cr_expect_str_eq(doc, "Rate <!--n:rate-->0.8182<!--/n-->.\n\n<!-- numbers: OpenBLAS 9.9 K1, seed base 5 -->\nafter\n");
    free(doc);
    r = mdsync("--write --seed-base x");
    cr_expect_eq(r.status, 2);
    t_free(&r);
}

/* Text from the files is never cut to a fixed size: a long "# blas:" line (an
 * arithmetic's description) reaches the stamp whole (it was cut at 127 characters). */
Test(tools_mdsync, long_text_is_kept_whole) {
    char blas[301], nums[600];
    memset(blas, 'k', 300);
    blas[300] = '\0';
    snprintf(nums, sizeof nums, "# blas: OpenBLAS %s\nkey\tvalue\nrate\t0.5\n", blas);
    put("nums.tsv", nums);
    put("doc.md", "<!--n:rate-->1<!--/n-->\n");
    t_result r = mdsync("--write");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    char *doc = get("doc.md");
    cr_expect(strstr(doc, blas) && strstr(doc, ", seed base 0 -->"), "%s", doc);
    free(doc);
    r = mdsync("--check");
    cr_expect_eq(r.status, 0, "fresh: %s", r.err);
    t_free(&r);
}

/* --write follows a symlink: the file it points to gets the new text, the link stays
 * (out.h's policy; it used to be replaced by a regular file). */
Test(tools_mdsync, write_follows_a_symlink) {
    put("nums.tsv", NUMS);
    put("real.md", "<!--n:rate-->1<!--/n-->\n");
    char link[128];
    snprintf(link, sizeof link, "%s/doc.md", dir);
    cr_assert_eq(symlink("real.md", link), 0);
    t_result r = mdsync("--write");
    cr_expect_eq(r.status, 0, "%s", r.err);
    t_free(&r);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "doc.md is still a link");
    char *real = get("real.md");
    cr_expect(strstr(real, "<!--n:rate-->0.8182<!--/n-->\n") == real, "%s", real);
    free(real);
}

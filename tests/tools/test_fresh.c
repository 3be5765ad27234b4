/* test_fresh.c -- the numbers in every chapter's text are the ones this build wrote.
 *
 * The Makefile lists, per chapter, the README and the numbers tables its programs wrote
 * ($(BUILD)/fresh/NN-slug.list). mdsync --check compares the text's digits with the
 * tables when the README's stamp names this build's arithmetic and seed base; under
 * another arithmetic or seed base it checks that every marked region can still be
 * filled (mdsync.c). Whether the text's claims hold is tested by each chapter's tests,
 * in every build. */
#include "../common.h"

#include <dirent.h>

#define STR_(x) #x
#define STR(x) STR_(x)

Test(tools_fresh, every_chapter_text_matches_its_numbers) {
    DIR *d = opendir(GD_BUILD_DIR "/fresh");
    cr_assert_not_null(d, "no %s/fresh: run the tests through make test", GD_BUILD_DIR);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".list") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, GD_BUILD_DIR "/fresh/%s", e->d_name);
        char *list = t_slurp(path);
        cr_assert_not_null(list);
        list[strcspn(list, "\n")] = '\0';
        char *cmd;
        cr_assert(asprintf(&cmd, GD_BIN "mdsync --check --seed-base " STR(GD_SEED_BASE) " %s", list) > 0);
        t_result r = t_run(cmd);
        cr_expect_eq(r.status, 0, "%s: the text is stale: %s", e->d_name, r.err);
        if (r.out[0]) cr_log_info("%s", r.out);
        t_free(&r);
        free(cmd);
        free(list);
        n++;
    }
    closedir(d);
    cr_expect_gt(n, 0, "no chapter lists in %s/fresh", GD_BUILD_DIR);
}

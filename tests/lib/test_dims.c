/* test_dims.c -- gd_parse_dims (train.h): "784-128-10" and nothing looser. Issue 12:
 * strtol let " 784-10", "+784-10" and "0x10-10" through as layer sizes. */
#include <criterion/criterion.h>
#include <string.h>

#include "err.h"
#include "train.h"

Test(lib_dims, sizes_are_plain_decimal_digits) {
    int dims[8];
    cr_assert_eq(gd_parse_dims("784-128-10", dims, 7), 2, "%s", gd_error());
    cr_assert(dims[0] == 784 && dims[1] == 128 && dims[2] == 10);
    const char *bad[] = {" 784-10", "+784-10", "784- 10", "784-+10", "0x10-10", "784--10", "784-10-",
                         "-784-10", "784", "784-0", "784-1000001", "784-99999999999999999999", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gd_seterr("%s", "");
        cr_assert_lt(gd_parse_dims(bad[i], dims, 7), 0, "accepted '%s'", bad[i]);
        cr_assert(strlen(gd_error()) > 0, "no reason for '%s'", bad[i]);
    }
}

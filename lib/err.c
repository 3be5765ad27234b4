/* err.c -- per-thread last-error string; see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char gd__errbuf[512];

const char *gd_error(void) { return gd__errbuf; }

int gd_seterr(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(gd__errbuf, sizeof gd__errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

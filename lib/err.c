/* err.c -- per-thread last-error string; see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char gd__errbuf[512];

const char *gd_error(void) { return gd__errbuf; }

int gd_seterr(const char *fmt, ...) {
    char raw[sizeof gd__errbuf];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* One line, always: a control character from the user's text (a newline in a spec,
     * a tab, an escape) is written as \n, \t or \xHH. A reason longer than the buffer
     * (a 100,000-character option value quoted back) is cut and ends in "...". */
    size_t o = 0, cap = sizeof gd__errbuf - 4;   /* room for "..." and the NUL */
    int cut = n < 0 || (size_t)n >= sizeof raw;
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        char esc[5];
        if (*p == '\n') strcpy(esc, "\\n");
        else if (*p == '\t') strcpy(esc, "\\t");
        else if (*p == '\r') strcpy(esc, "\\r");
        else if (*p < 0x20 || *p == 0x7f) snprintf(esc, sizeof esc, "\\x%02x", *p);
        else esc[0] = (char)*p, esc[1] = '\0';
        size_t k = strlen(esc);
        if (o + k > cap) {
            cut = 1;
            break;
        }
        memcpy(gd__errbuf + o, esc, k);
        o += k;
    }
    if (cut) memcpy(gd__errbuf + o, "...", 3), o += 3;
    gd__errbuf[o] = '\0';
    return -1;
}

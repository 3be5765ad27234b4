/* gpt.c -- STUB so that programs build against gpt.h; the model follows. */
#include "gpt.h"
#include "err.h"

#include <string.h>

int gd_gpt_init(gd_gpt *m, const gd_gpt_config *cfg, int max_batch, uint64_t seed) {
    (void)cfg, (void)max_batch, (void)seed;
    memset(m, 0, sizeof *m);
    return gd_seterr("gpt: not implemented yet");
}
void gd_gpt_free(gd_gpt *m) { memset(m, 0, sizeof *m); }
size_t gd_gpt_numel(const gd_gpt *m) { (void)m; return 0; }
gd_param *gd_gpt_param(gd_gpt *m, const char *name) { (void)m, (void)name; return NULL; }
const float *gd_gpt_forward(gd_gpt *m, const int *tokens, int B, int T) {
    (void)m, (void)tokens, (void)B, (void)T;
    return NULL;
}
double gd_gpt_loss(gd_gpt *m, const int *tokens, const int *targets, int B, int T) {
    (void)m, (void)tokens, (void)targets, (void)B, (void)T;
    return 0.0 / 0.0;
}
void gd_gpt_backward(gd_gpt *m) { (void)m; }
void gd_gpt_zero_grad(gd_gpt *m) { (void)m; }
int gd_gpt_decays(const gd_gpt *m, int i) { (void)m, (void)i; return 0; }
int gd_gpt_save(const gd_gpt *m, const char *path) {
    (void)m, (void)path;
    return gd_seterr("gpt: not implemented yet");
}
int gd_gpt_load(gd_gpt *m, const char *path, int max_batch) {
    (void)path, (void)max_batch;
    memset(m, 0, sizeof *m);
    return gd_seterr("gpt: not implemented yet");
}

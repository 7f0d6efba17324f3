/* The provider interface's shared pieces. */
#include <stdlib.h>
#include <string.h>
#include "provider/provider_internal.h"

const char *const PROV_CHAT_STOP = "\n\nUser:";

void al_score_res_free(al_score_res *r, int n) {
  for (int i = 0; r && i < n; i++) {
    free(r[i].token_lp);
    r[i].token_lp = NULL;
  }
}

al_gen_cfg al_gen_cfg_default(void) {
  al_gen_cfg g = {.max_tokens = 64, .temperature = 0, .top_p = 1, .top_k = 0, .seed = 0, .stop = NULL, .nstop = 0};
  return g;
}

al_provider *prov_new(const char *kind, const char *model) {
  al_provider *p = al_calloc(1, sizeof *p);
  p->kind = kind;
  p->model = al_strdup(model ? model : "");
  p->nparams = -1;
  return p;
}

void al_provider_free(al_provider *p) {
  if (!p) return;
  if (p->destroy) p->destroy(p);
  free(p->model);
  free(p);
}

size_t prov_stop_at(const char *text, size_t len, const char *const *stop, int nstop) {
  size_t best = len;
  for (int k = 0; k < nstop; k++) {
    size_t sl = strlen(stop[k]);
    if (!sl || sl > len) continue;
    for (size_t i = 0; i + sl <= len && i < best; i++)
      if (!memcmp(text + i, stop[k], sl)) {
        best = i;
        break;
      }
  }
  return best;
}

char *prov_chat_prompt(const al_chat_msg *msgs, int n) {
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    const char *r = msgs[i].role ? msgs[i].role : "user";
    const char *role = !strcmp(r, "system") ? "System" : !strcmp(r, "assistant") ? "Assistant" : "User";
    al_buf_printf(&b, "%s: %s\n\n", role, msgs[i].content ? msgs[i].content : "");
  }
  al_buf_printf(&b, "Assistant:");
  return b.data;
}

long prov_utf8_count(const char *s, size_t len) {
  long n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

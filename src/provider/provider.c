/* The provider interface's shared pieces. */
#include <stdlib.h>
#include <string.h>
#include "provider/provider_internal.h"

void al_score_res_free(al_score_res *r, int n) {
  for (int i = 0; r && i < n; i++) {
    free(r[i].token_lp);
    free(r[i].error);
    r[i].token_lp = NULL;
    r[i].error = NULL;
  }
}

al_gen_cfg al_gen_cfg_default(void) {
  al_gen_cfg g = {.max_tokens = 64, .temperature = 0, .top_p = 1, .top_k = 0, .seed = 0, .stop = NULL, .nstop = 0};
  return g;
}

/* The default batch of generations: one at a time through generate and
 * chat, stopping at the first failure. A prefill is appended to the chat
 * template's prompt (the local engine renders the template itself). */
static int complete_serial(al_provider *p, const al_gen_req *reqs, int n, char **outs, char **errs, al_err *err) {
  memset(outs, 0, (size_t)n * sizeof *outs);
  memset(errs, 0, (size_t)n * sizeof *errs);
  for (int i = 0; i < n; i++) {
    const al_gen_req *q = &reqs[i];
    int rc;
    if (q->msgs && q->prefill && q->prefill[0]) {
      const char *chat_stop;
      char *prompt = prov_chat_prompt(p, q->msgs, q->nmsgs, q->prefill, &chat_stop);
      const char **stop = al_malloc((size_t)(q->g.nstop + 1) * sizeof *stop);
      for (int k = 0; k < q->g.nstop; k++) stop[k] = q->g.stop[k];
      stop[q->g.nstop] = chat_stop;
      al_gen_cfg g = q->g;
      g.stop = stop, g.nstop++;
      const char *const pr[1] = {prompt};
      rc = p->generate(p, pr, 1, &g, &outs[i], err);
      free(stop), free(prompt);
    } else if (q->msgs) rc = p->chat(p, q->msgs, q->nmsgs, &q->g, &outs[i], err);
    else {
      const char *const pr[1] = {q->prompt};
      rc = p->generate(p, pr, 1, &q->g, &outs[i], err);
    }
    if (rc) {
      for (int k = 0; k < i; k++) free(outs[k]), outs[k] = NULL;
      return al_fail_prefix(err, "request %d", i);
    }
  }
  return 0;
}

al_provider *prov_new(const char *kind, const char *model) {
  al_provider *p = al_calloc(1, sizeof *p);
  p->complete = complete_serial;
  p->kind = kind;
  p->model = al_strdup(model ? model : "");
  p->nparams = -1;
  al_chat_template_default(&p->chat_template);
  return p;
}

void al_provider_free(al_provider *p) {
  if (!p) return;
  if (p->destroy) p->destroy(p);
  al_chat_template_free(&p->chat_template);
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

char *prov_chat_prompt(const al_provider *p, const al_chat_msg *msgs, int n, const char *prefill, const char **stop) {
  const al_chat_template *t = &p->chat_template;
  size_t len;
  char *text = al_chat_render(t, msgs, n, 1, &len, NULL, NULL);
  if (prefill && prefill[0]) {
    size_t k = strlen(prefill);
    text = al_realloc(text, len + k + 1);
    memcpy(text + len, prefill, k + 1);
  }
  *stop = t->stop;
  return text;
}

long prov_utf8_count(const char *s, size_t len) {
  long n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

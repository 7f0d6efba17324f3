/* Preference pairs as DPO rows (TRL's tokenization): prompt and responses
 * tokenized separately, end-of-text appended to each response; a row is
 * prompt + response right-padded with end-of-text, whose targets are the
 * next token on the response's positions and -1 elsewhere. */
#include <stdlib.h>
#include <string.h>
#include "alab/dpo.h"

void al_dpo_data_free(al_dpo_data *d) {
  free(d->ids), free(d->off), free(d->line);
  memset(d, 0, sizeof *d);
}

int al_dpo_data_tokenize(const al_pref_set *s, const al_tok *tok, al_dpo_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  d->eot = al_tok_eot(tok);
  if (d->eot < 0) return al_fail(err, "the tokenizer has no end-of-text token, which DPO ends responses with");
  d->n = s->n;
  d->off = al_malloc(sizeof *d->off * (size_t)(3 * s->n + 1));
  d->line = al_malloc(sizeof *d->line * (size_t)(s->n ? s->n : 1));
  size_t n = 0, cap = 0;
  d->off[0] = 0;
  for (long i = 0; i < s->n; i++) {
    const al_pref_pair *p = &s->pairs[i];
    const char *texts[3] = {p->prompt, p->chosen, p->rejected};
    d->line[i] = p->line;
    for (int k = 0; k < 3; k++) {
      if (al_tok_encode(tok, texts[k], strlen(texts[k]), 0, &d->ids, &n, &cap, err) < 0) {
        al_fail_prefix(err, "line %ld", p->line);
        al_dpo_data_free(d);
        return -1;
      }
      if (k) {
        if (n == cap) d->ids = al_realloc(d->ids, sizeof *d->ids * (cap = 2 * cap + 16));
        d->ids[n++] = d->eot;
      }
      d->off[3 * i + k + 1] = n;
    }
  }
  return 0;
}

int al_dpo_fill_row(const al_dpo_data *d, long p, int which, int T, int32_t *inputs, int32_t *targets, int *cut) {
  const int32_t *pr = d->ids + d->off[3 * p], *re = d->ids + d->off[3 * p + 1 + which];
  long np = (long)(d->off[3 * p + 1] - d->off[3 * p]), nr = (long)(d->off[3 * p + 2 + which] - d->off[3 * p + 1 + which]);
  *cut = np + nr > T;
  /* the prompt keeps its end (at least one token), the response its start */
  if (np + nr > T) {
    long keep = T - nr < 1 ? 1 : T - nr;
    if (keep < np) pr += np - keep, np = keep;
    if (np + nr > T) nr = T - np;
  }
  for (int t = 0; t < T; t++) {
    long at = t; /* position in prompt + response */
    inputs[t] = at < np ? pr[at] : at < np + nr ? re[at - np] : d->eot;
    /* target of position t is token t + 1 when that token is in the response */
    targets[t] = t + 1 >= np && t + 1 < np + nr ? re[t + 1 - np] : -1;
  }
  return (int)nr;
}

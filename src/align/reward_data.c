/* Preference pairs as token rows for a reward model: tokenize prompt +
 * response whole (so "The sky is" + " blue." tokenizes as the sentence
 * does), then fill [2B, T] batches right-padded with the end-of-text token,
 * chosen rows first, with the position of each row's last token. */
#include <stdlib.h>
#include <string.h>
#include "alab/reward.h"

void al_rm_data_free(al_rm_data *d) {
  free(d->ids), free(d->off), free(d->margin), free(d->line);
  memset(d, 0, sizeof *d);
}

int al_rm_data_tokenize(const al_pref_set *s, const al_tok *tok, al_rm_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  d->pad = al_tok_eot(tok);
  if (d->pad < 0) return al_fail(err, "the tokenizer has no end-of-text token, which a reward model pads with");
  d->n = s->n;
  d->off = al_malloc(sizeof *d->off * (size_t)(2 * s->n + 1));
  d->margin = al_malloc(sizeof *d->margin * (size_t)(s->n ? s->n : 1));
  d->line = al_malloc(sizeof *d->line * (size_t)(s->n ? s->n : 1));
  size_t n = 0, cap = 0;
  al_buf text = {0};
  d->off[0] = 0;
  for (long i = 0; i < s->n; i++) {
    const al_pref_pair *p = &s->pairs[i];
    d->margin[i] = (float)p->margin;
    d->line[i] = p->line;
    for (int k = 0; k < 2; k++) {
      text.len = 0;
      al_buf_printf(&text, "%s%s", p->prompt, k ? p->rejected : p->chosen);
      if (al_tok_encode(tok, text.data, text.len, 0, &d->ids, &n, &cap, err) < 0) {
        al_fail_prefix(err, "line %ld", p->line);
        goto fail;
      }
      d->off[2 * i + k + 1] = n;
    }
  }
  al_buf_free(&text);
  return 0;
fail:
  al_buf_free(&text);
  al_rm_data_free(d);
  return -1;
}

int al_rm_row(const int32_t *ids, size_t len, int T, int pad, int32_t *row) {
  if (len > (size_t)T) ids += len - (size_t)T, len = (size_t)T;
  memcpy(row, ids, len * sizeof *row);
  for (int t = (int)len; t < T; t++) row[t] = pad;
  return (int)len - 1;
}

int al_rm_fill_rows(const al_rm_data *d, const long *idx, int B, int T, int32_t *inputs, int32_t *pos, float *margin) {
  int cut = 0;
  for (int r = 0; r < 2 * B; r++) {
    long seq = 2 * idx[r % B] + (r >= B);
    size_t len = d->off[seq + 1] - d->off[seq];
    cut += len > (size_t)T;
    pos[r] = al_rm_row(d->ids + d->off[seq], len, T, d->pad, inputs + (size_t)r * T);
  }
  if (margin)
    for (int b = 0; b < B; b++) margin[b] = d->margin[idx[b]];
  return cut;
}

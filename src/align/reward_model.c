/* Reward models as models: made from a language model, scored, saved as
 * GPT2ForSequenceClassification and loaded back (the rules are in
 * include/alab/reward.h). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/reward.h"

int al_rm_from_lm(al_model *rm, const al_model *lm, uint64_t seed, al_err *err) {
  al_model_config c = lm->cfg;
  c.scalar_head = 1;
  if (al_model_init(rm, &c, seed, err)) return -1;
  /* the trunk's tensors come first in both tables, laid out alike */
  const al_tensor *score = al_model_tensor(rm, AL_SCORE_TENSOR);
  /* an untied LM head (Llama's lm_head.weight, last in its table) has no place in a reward model */
  const al_tensor *head = lm->cfg.scalar_head ? NULL : al_model_tensor(lm, "lm_head.weight");
  if (!score || score->offset != lm->nparams - (lm->cfg.scalar_head ? score->numel : 0) - (head ? head->numel : 0)) {
    al_model_free(rm);
    return al_fail(err, "the reward model's trunk is not laid out as the language model's");
  }
  memcpy(rm->params, lm->params, score->offset * sizeof(float));
  return 0;
}

int al_rm_score_ids(al_model *rm, const int32_t *ids, const size_t *off, int n, int pad, float *rewards, al_err *err) {
  if (!rm->score) return al_fail(err, "the model has no scalar head (score.weight): it is not a reward model");
  if (n < 1) return 0;
  int T = 1, rc = 0;
  for (int i = 0; i < n; i++) {
    size_t l = off[i + 1] - off[i];
    if (l == 0) return al_fail(err, "text %d is empty: a reward is read at a text's last token", i);
    if (l > (size_t)T) T = l > (size_t)rm->cfg.n_positions ? rm->cfg.n_positions : (int)l;
  }
  /* rows of one shape: chunks of at most 16 texts, the last chunk padded
   * with copies of its first text (whose rewards are dropped) */
  enum { CHUNK = 16 };
  int B = n < CHUNK ? n : CHUNK;
  int32_t *in = al_malloc(sizeof(int32_t) * (size_t)B * T), pos[CHUNK];
  float vals[CHUNK];
  for (int i0 = 0; i0 < n && !rc; i0 += B) {
    for (int r = 0; r < B; r++) {
      int i = i0 + r < n ? i0 + r : i0;
      pos[r] = al_rm_row(ids + off[i], off[i + 1] - off[i], T, pad, in + (size_t)r * T);
    }
    rc = al_model_forward_scalar(rm, in, pos, B, T, vals, err);
    for (int r = 0; r < B && i0 + r < n && !rc; r++) rewards[i0 + r] = vals[r];
  }
  free(in);
  return rc;
}

int al_rm_score_texts(al_model *rm, const al_tok *tok, const char *const *texts, int n, float *rewards, al_err *err) {
  if (!rm->score) return al_fail(err, "the model has no scalar head (score.weight): it is not a reward model");
  if (n < 1) return 0;
  int pad = al_tok_eot(tok);
  if (pad < 0) return al_fail(err, "the tokenizer has no end-of-text token, which a reward model pads with");
  int32_t *ids = NULL;
  size_t *off = al_malloc(sizeof *off * (size_t)(n + 1)), len = 0, cap = 0;
  int rc = 0;
  off[0] = 0;
  for (int i = 0; i < n && !rc; i++) {
    if (al_tok_encode(tok, texts[i], strlen(texts[i]), 0, &ids, &len, &cap, err) < 0) rc = al_fail_prefix(err, "text %d", i);
    off[i + 1] = len;
  }
  if (!rc) rc = al_rm_score_ids(rm, ids, off, n, pad, rewards, err);
  free(ids), free(off);
  return rc;
}

int al_rm_save(const al_model *rm, const al_tok *tok, const json_t *extra, const char *dir, al_err *err) {
  if (!rm->score) return al_fail(err, "%s: the model has no scalar head (score.weight) to save as a reward model", dir);
  return al_model_save_dir_with(rm, tok, extra, dir, err); /* pad_token_id: src/io/model_dir.c */
}

int al_rm_load(al_model *rm, const char *dir, al_err *err) {
  if (al_model_load_dir(rm, dir, err)) return -1;
  if (!rm->cfg.scalar_head) {
    al_model_free(rm);
    return al_fail(err, "%s is a language model without a scalar head (score.weight): a reward model directory is a "
                        "GPT2ForSequenceClassification (make one with alab rm train)", dir);
  }
  return 0;
}

/* POST /classify and /v1/classify on a reward model (a model directory with
 * the scalar head score.weight, e.g. from `alab rm train`), in vLLM's shape:
 *   request   {"model"?: id, "input": "text" | ["text", ...],
 *              "use_activation"?: true}
 *   response  {"id": "classify-N", "object": "list", "created", "model",
 *              "data": [{"index": i, "label": "LABEL_0",
 *                        "probs": [sigmoid(r_i)] (use_activation false: [r_i]),
 *                        "num_classes": 1, "reward": r_i}],
 *              "usage": {"prompt_tokens", "total_tokens", "completion_tokens": 0}}
 * r_i is the scalar head at the text's last token, as `alab rm score` and
 * transformers' GPT2ForSequenceClassification read it; "reward" (alab's) is
 * r_i whatever use_activation says. Each text is tokenized whole
 * (<|endoftext|> in it is the special token, as /tokenize does); an empty
 * text, or one longer than the model's context, is a 400 naming input[i].
 * Scoring runs the model's full forward, whose activations are the served
 * model's own: one classification at a time (m->score_mu). With --precision
 * bf16 it computes with the bf16 copy of the weights (m->score_bf), as the
 * workers do. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/reward.h"
#include "serve/serve_internal.h"

int sv_classify(const char *body, size_t len, sv_model *m, json_t **out, sv_error *e) {
  if (!m->model.score)
    return sv_fail(e, 400, "not_a_classifier", NULL, "the served model '%.200s' has no scalar head (score.weight): "
                   "/classify needs a reward model directory (alab rm train)", m->id);
  if (m->eot < 0) return sv_fail(e, 400, "not_a_classifier", NULL, "the tokenizer has no end-of-text token to pad with");
  json_t *root;
  if (sv_parse_body(body, len, sv_max_values(m), &root, e)) return -1;
  int act = 1, rc = -1, n = 0;
  int32_t *ids = NULL, *one = NULL;
  size_t *off = NULL, total = 0;
  float *r = NULL;
  json_t *in = json_object_get(root, "input");
  if (sv_check_model(root, m, e) || sv_opt_bool(root, "use_activation", &act, e)) goto done;
  if (!json_is_string(in) && !(json_is_array(in) && json_array_size(in) > 0)) {
    sv_fail(e, 400, "invalid_type", "input", "'input' must be a string or a non-empty list of strings");
    goto done;
  }
  n = json_is_string(in) ? 1 : (int)(json_array_size(in) < SV_MAX_CHOICES + 1 ? json_array_size(in) : SV_MAX_CHOICES + 1);
  if (n > SV_MAX_CHOICES) {
    sv_fail(e, 400, "invalid_value", "input", "'input' holds more than %d texts", SV_MAX_CHOICES);
    goto done;
  }
  off = al_malloc(sizeof *off * (size_t)(n + 1));
  off[0] = 0;
  for (int i = 0; i < n; i++) {
    json_t *t = json_is_string(in) ? in : json_array_get(in, (size_t)i);
    char param[32];
    snprintf(param, sizeof param, "input[%d]", i);
    int k;
    if (!json_is_string(t)) {
      sv_fail(e, 400, "invalid_type", "input", "'%s' must be a string", param);
      goto done;
    }
    if (sv_encode(m, json_string_value(t), json_string_length(t), 1, &one, &k, "input", e)) goto done;
    if (k == 0 || k > m->model.cfg.n_positions) {
      sv_fail(e, 400, "invalid_value", "input", "'%s' is %d tokens: a text to classify needs 1 to %d (the model's "
              "context)", param, k, m->model.cfg.n_positions);
      goto done;
    }
    ids = al_realloc(ids, sizeof *ids * (total + (size_t)k));
    memcpy(ids + total, one, sizeof *ids * (size_t)k);
    total += (size_t)k, off[i + 1] = total;
    free(one), one = NULL;
  }
  r = al_malloc(sizeof *r * (size_t)n);
  al_err err;
  pthread_mutex_lock(&m->score_mu);
  nn_bf16 *prev = nn_bf16_use(m->score_bf); /* bf16: the served weights are the bf16 copy here too */
  int bad = al_rm_score_ids(&m->model, ids, off, n, m->eot, r, &err);
  nn_bf16_use(prev);
  pthread_mutex_unlock(&m->score_mu);
  if (bad) {
    sv_fail(e, 500, "internal_error", NULL, "%s", err.msg);
    goto done;
  }
  json_t *data = json_array();
  for (int i = 0; i < n; i++) {
    double p = act ? 1 / (1 + exp(-(double)r[i])) : r[i];
    json_array_append_new(data, json_pack("{s:i, s:s, s:[f], s:i, s:f}", "index", i, "label", "LABEL_0", "probs", p,
                                          "num_classes", 1, "reward", (double)r[i]));
  }
  static long long counter;
  char idbuf[48];
  snprintf(idbuf, sizeof idbuf, "classify-%lld", __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
  *out = json_pack("{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:i, s:n}}", "id", idbuf, "object", "list", "created",
                   (json_int_t)m->created, "model", m->id, "data", data, "usage", "prompt_tokens", (json_int_t)total,
                   "total_tokens", (json_int_t)total, "completion_tokens", 0, "prompt_tokens_details");
  rc = 0;
done:
  free(ids), free(one), free(off), free(r);
  json_decref(root);
  return rc;
}

/* Feature scores from a language model (alab/cpm_features.h): the features
 * file, the expected score from the first token's top log-probs, and the
 * extraction of every (response, feature) through one batched provider call
 * (concurrent and cached over HTTP). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/cpm.h"
#include "alab/cpm_features.h"

void al_cpm_features_free(al_cpm_feature_set *s) {
  for (int k = 0; s->f && k < s->n; k++) free(s->f[k].name), free(s->f[k].prompt);
  free(s->f);
  s->f = NULL, s->n = 0;
}

int al_cpm_features_parse(const char *text, size_t len, const char *where, al_cpm_feature_set *out, al_err *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  if (!root) return al_fail(err, "%s:%d:%d: invalid JSON: %s", where, je.line, je.column, je.text);
  const json_t *fs = json_object_get(root, "features");
  int rc = 0;
  if (!json_is_array(fs) || json_array_size(fs) == 0) {
    rc = al_fail(err, "%s: \"features\" must be a non-empty array of {\"name\", \"prompt\"}", where);
  } else {
    out->f = al_calloc(json_array_size(fs), sizeof *out->f);
    for (size_t k = 0; k < json_array_size(fs) && !rc; k++) {
      const json_t *e = json_array_get(fs, k);
      const char *name = json_string_value(json_object_get(e, "name"));
      const char *prompt = json_string_value(json_object_get(e, "prompt"));
      if (!name || !*name) rc = al_fail(err, "%s: features[%zu]: \"name\" must be a non-empty string", where, k);
      else if (!prompt) rc = al_fail(err, "%s: features[%zu] (%s): \"prompt\" must be a string", where, k, name);
      else if (!strstr(prompt, "{response}"))
        rc = al_fail(err, "%s: features[%zu] (%s): the prompt has no {response}", where, k, name);
      for (int j = 0; j < out->n && !rc; j++)
        if (!strcmp(out->f[j].name, name)) rc = al_fail(err, "%s: features[%zu]: the name '%s' is used twice", where, k, name);
      if (!rc) out->f[out->n].name = al_strdup(name), out->f[out->n].prompt = al_strdup(prompt), out->n++;
    }
  }
  json_decref(root);
  if (rc) al_cpm_features_free(out);
  return rc;
}

int al_cpm_features_load(const char *path, al_cpm_feature_set *out, al_err *err) {
  memset(out, 0, sizeof *out);
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  int rc = al_cpm_features_parse(data, len, path, out, err);
  free(data);
  return rc;
}

int al_cpm_expected_score(const al_top_lp *top, int n, double *score) {
  double num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    const char *s = top[i].token;
    while (*s == ' ') s++;
    char *end;
    long v = strtol(s, &end, 10);
    while (*end == ' ') end++;
    if (end == s || *end || v < 1 || v > 10 || s[0] == '+' || s[0] == '-' || !isfinite(top[i].logprob)) continue;
    double p = exp(top[i].logprob);
    num += v * p, den += p;
  }
  if (!(den > 0)) return -1;
  *score = num / den;
  return 0;
}

al_cpm_extract_cfg al_cpm_extract_defaults(al_provider *p) {
  return (al_cpm_extract_cfg){.p = p, .chat = 1, .use_logprobs = 1, .max_tokens = 8};
}

/* The template with {context} and {response} replaced. */
static char *fill(const char *tpl, const char *context, const char *response) {
  al_buf b = {0};
  for (const char *s = tpl; *s;) {
    if (!strncmp(s, "{context}", 9)) al_buf_append(&b, context, strlen(context)), s += 9;
    else if (!strncmp(s, "{response}", 10)) al_buf_append(&b, response, strlen(response)), s += 10;
    else al_buf_append(&b, s++, 1);
  }
  al_buf_append(&b, "", 1);
  return b.data;
}

enum { TOP = 20 };

static void reject(al_cpm_extract_stats *st, int i, const char *feature, const char *why) {
  if (!st->rejected++)
    snprintf(st->first_rejection, sizeof st->first_rejection, "response %d, feature '%s': %s", i, feature, why);
}

int al_cpm_extract(const al_cpm_extract_cfg *c, const al_cpm_feature_set *F, const char *const *ctx,
                   const char *const *resp, int n, double *scores, signed char *method, al_cpm_extract_stats *st,
                   al_err *err) {
  memset(st, 0, sizeof *st);
  size_t m = (size_t)n * F->n;
  if (m == 0) return 0;
  al_gen_req *q = al_calloc(m, sizeof *q);
  al_chat_msg *msg = al_calloc(m, sizeof *msg);
  char **prompts = al_calloc(m, sizeof *prompts), **outs = al_calloc(m, sizeof *outs), **errs = al_calloc(m, sizeof *errs);
  al_top_lp *top = c->use_logprobs ? al_calloc(m * TOP, sizeof *top) : NULL;
  int *ntop = al_calloc(m, sizeof *ntop);
  al_gen_cfg g = al_gen_cfg_default();
  g.max_tokens = c->max_tokens > 0 ? c->max_tokens : 8;
  for (size_t j = 0; j < m; j++) {
    int i = (int)(j / F->n), k = (int)(j % F->n);
    prompts[j] = fill(F->f[k].prompt, ctx && ctx[i] ? ctx[i] : "", resp[i]);
    q[j].g = g;
    if (c->use_logprobs) q[j].top_logprobs = TOP, q[j].top_out = top + j * TOP, q[j].ntop_out = &ntop[j];
    if (c->chat) msg[j] = (al_chat_msg){"user", prompts[j]}, q[j].msgs = &msg[j], q[j].nmsgs = 1;
    else q[j].prompt = prompts[j];
  }
  int rc = c->p->complete(c->p, q, (int)m, outs, errs, err);
  for (size_t j = 0; j < m && !rc; j++) {
    int i = (int)(j / F->n), k = (int)(j % F->n), v;
    const char *why = NULL;
    st->scores++;
    scores[j] = NAN, method[j] = AL_CPM_REJECTED;
    if (!outs[j]) {
      reject(st, i, F->f[k].name, errs[j] ? errs[j] : "the request failed");
    } else if (c->use_logprobs && !al_cpm_expected_score(top + j * TOP, ntop[j], &scores[j])) {
      method[j] = AL_CPM_EXPECTED, st->expected++;
    } else if (!al_cpm_parse_score(outs[j], &v, &why)) {
      scores[j] = v, method[j] = AL_CPM_GREEDY, st->greedy++;
    } else {
      reject(st, i, F->f[k].name, why);
    }
  }
  for (size_t j = 0; j < m; j++) free(prompts[j]), free(outs[j]), free(errs[j]);
  free(q), free(msg), free(prompts), free(outs), free(errs), free(top), free(ntop);
  return rc;
}

/* pass@k of a provider's model on MBPP, every program run in the sandbox
 * (include/alab/code.h). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/code.h"
#include "alab/provider.h"
#include "alab/sandbox.h"

al_code_eval_cfg al_code_eval_defaults(void) {
  return (al_code_eval_cfg){.samples = 10, .ks = {1, 10}, .nk = 2, .temperature = 0.8, .max_tokens = 256, .prefix = "",
                            .workers = 8, .seed = 1};
}

char *al_code_extract(const char *completion) {
  const char *s = completion, *e;
  const char *fence = strstr(s, "```");
  if (fence) { /* the fenced block: after the fence's line, up to the next fence */
    const char *nl = strchr(fence, '\n');
    s = nl ? nl + 1 : fence + 3;
    e = strstr(s, "```");
    if (!e) e = s + strlen(s);
  } else {
    e = strstr(s, "[DONE]");
    if (!e) e = s + strlen(s);
  }
  size_t n = (size_t)(e - s);
  char *out = al_malloc(n + 1);
  memcpy(out, s, n);
  out[n] = 0;
  return out;
}

const char *const al_code_humaneval_stops[5] = {"\nclass", "\ndef", "\n#", "\nif", "\nprint"};

char *al_code_prompt(const al_mbpp_task *t, const al_code_eval_cfg *c) {
  al_buf b = {0};
  al_buf_printf(&b, "%s", c->prefix ? c->prefix : "");
  if (c->humaneval) al_buf_printf(&b, "%s", t->text);
  else if (c->plain) al_buf_printf(&b, "%s\n", t->text);
  else {
    al_buf_printf(&b, "You are an expert Python programmer, and here is your task: %s Your code should pass these tests:\n\n",
                  t->text);
    for (int i = 0; i < t->ntests; i++) al_buf_printf(&b, "%s\n", t->tests[i]);
    al_buf_printf(&b, "[BEGIN]\n");
  }
  return b.data;
}

int al_code_eval_mbpp(al_provider *p, al_sandbox *sb, const al_mbpp *m, const al_code_eval_cfg *c, al_code_eval_res *res,
                      json_t *records, al_err *err) {
  memset(res, 0, sizeof *res);
  if (c->samples < 1 || c->nk < 1 || c->nk > 4) return al_fail(err, "code eval: samples must be positive and 1..4 values of k given");
  for (int i = 0; i < c->nk; i++)
    if (c->ks[i] < 1 || c->ks[i] > c->samples)
      return al_fail(err, "code eval: pass@%d needs at least %d samples per task (have %d)", c->ks[i], c->ks[i], c->samples);
  int N = c->samples, T = m->n;
  size_t total = (size_t)T * N;
  char **prompts = al_calloc((size_t)T, sizeof(char *)), **outs = al_calloc(total, sizeof(char *));
  char **errs = al_calloc(total, sizeof(char *)), **progs = al_calloc(total, sizeof(char *)), **code = al_calloc(total, sizeof(char *));
  al_gen_req *reqs = al_calloc(total, sizeof *reqs);
  al_sb_result *r = al_calloc(total, sizeof *r);
  static const char *const stop[] = {"[DONE]"};
  for (int t = 0; t < T; t++) {
    prompts[t] = al_code_prompt(&m->t[t], c);
    for (int j = 0; j < N; j++) {
      al_gen_req *q = &reqs[(size_t)t * N + j];
      q->prompt = prompts[t];
      q->g = al_gen_cfg_default();
      q->g.max_tokens = c->max_tokens, q->g.temperature = c->temperature, q->g.seed = c->seed + (uint64_t)j;
      if (c->humaneval) q->g.stop = al_code_humaneval_stops, q->g.nstop = 5;
      else if (!c->plain) q->g.stop = stop, q->g.nstop = 1;
    }
  }
  int rc = p->complete(p, reqs, (int)total, outs, errs, err);
  for (size_t k = 0; k < total && !rc; k++) {
    const al_mbpp_task *t = &m->t[k / N];
    if (c->humaneval) { /* the signature and docstring, then the body */
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", t->text, outs[k] ? outs[k] : "");
      code[k] = b.data;
    } else {
      code[k] = al_code_extract(outs[k] ? outs[k] : "");
    }
    progs[k] = al_mbpp_program(t, code[k], 0);
  }
  if (!rc) rc = al_sandbox_run_many(sb, (int)total, (const char *const *)progs, r, c->workers, err);
  for (int t = 0; t < T && !rc; t++) {
    int passed = 0;
    for (int j = 0; j < N; j++) {
      size_t k = (size_t)t * N + j;
      int ok = outs[k] && r[k].status == AL_SB_PASSED;
      passed += ok, res->failed_requests += !outs[k];
      if (records) {
        json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:s}", "task_id", m->t[t].task_id, "sample", j, "completion",
                              outs[k] ? outs[k] : "", "program", code[k], "verdict",
                              outs[k] ? al_sb_status_name(r[k].status) : "request failed");
        if (!o) o = json_pack("{s:i, s:i, s:s}", "task_id", m->t[t].task_id, "sample", j, "verdict", /* not UTF-8 */
                              outs[k] ? al_sb_status_name(r[k].status) : "request failed");
        if (errs[k]) json_object_set_new(o, "error", json_string(errs[k]));
        if (outs[k] && !ok) { /* what the critic reads: the exception or limit, and the traceback */
          size_t len = r[k].output_len, from = len > 2000 ? len - 2000 : 0;
          json_object_set_new(o, "detail", json_string(r[k].status == AL_SB_KILLED ? r[k].limit : r[k].error_type));
          json_t *out = r[k].output ? json_stringn(r[k].output + from, len - from) : NULL;
          json_object_set_new(o, "output", out ? out : json_string(""));
        }
        json_array_append_new(records, o);
      }
    }
    for (int i = 0; i < c->nk; i++) res->pass_at[i] += al_pass_at_k(N, passed, c->ks[i]);
    res->passed += passed;
  }
  res->tasks = T, res->samples = (int)total;
  for (int i = 0; i < c->nk && T; i++) res->pass_at[i] /= T;
  for (size_t k = 0; k < total; k++) free(outs[k]), free(errs[k]), free(progs[k]), free(code[k]), al_sb_result_free(&r[k]);
  for (int t = 0; t < T; t++) free(prompts[t]);
  free(prompts), free(outs), free(errs), free(progs), free(code), free(reqs), free(r);
  return rc;
}

/* Refinements from feedback on the ILF-for-code annotation file, graded in
 * the sandbox (include/alab/code.h, al_refine_annotations). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "alab/code.h"
#include "alab/provider.h"
#include "alab/sandbox.h"

char *al_refine_prompt(const al_ilf_annotation *a, const char *prefix) {
  al_buf b = {0};
  al_buf_printf(&b, "%s%s\n\"\"\"\nFeedback: %s\n\"\"\"\n# The program above, rewritten to follow the feedback:\n%s",
                prefix ? prefix : "", a->original, a->feedback, a->prompt);
  return b.data;
}

int al_refine_annotations(al_provider *p, al_sandbox *sb, const al_ilf_annotations *s, const al_code_eval_cfg *c,
                          al_refine_res *res, json_t *records, al_err *err) {
  memset(res, 0, sizeof *res);
  if (c->samples < 1 || c->nk < 1 || c->nk > 4) return al_fail(err, "refine: samples must be positive and 1..4 values of k given");
  for (int i = 0; i < c->nk; i++)
    if (c->ks[i] < 1 || c->ks[i] > c->samples)
      return al_fail(err, "refine: pass@%d needs at least %d samples per annotation (have %d)", c->ks[i], c->ks[i], c->samples);
  int N = c->samples, A = s->n;
  size_t total = (size_t)A * N, nprog = total + 2 * (size_t)A; /* refinements, then each original and human refinement */
  char **prompts = al_calloc((size_t)A, sizeof(char *)), **outs = al_calloc(total, sizeof(char *));
  char **errs = al_calloc(total, sizeof(char *)), **progs = al_calloc(nprog, sizeof(char *));
  al_gen_req *reqs = al_calloc(total, sizeof *reqs);
  al_sb_result *r = al_calloc(nprog, sizeof *r);
  for (int a = 0; a < A; a++) {
    prompts[a] = al_refine_prompt(&s->a[a], c->prefix);
    for (int j = 0; j < N; j++) {
      al_gen_req *q = &reqs[(size_t)a * N + j];
      q->prompt = prompts[a];
      q->g = al_gen_cfg_default();
      q->g.max_tokens = c->max_tokens, q->g.temperature = c->temperature, q->g.seed = c->seed + (uint64_t)j;
      q->g.stop = al_code_humaneval_stops, q->g.nstop = 5;
    }
  }
  int rc = p->complete(p, reqs, (int)total, outs, errs, err);
  for (size_t k = 0; k < total && !rc; k++) {
    const al_ilf_annotation *a = &s->a[k / N];
    al_buf b = {0};
    al_buf_printf(&b, "%s%s", a->prompt, outs[k] ? outs[k] : "");
    progs[k] = al_annotation_program(a, b.data);
    al_buf_free(&b);
  }
  for (int a = 0; a < A && !rc; a++) {
    progs[total + 2 * (size_t)a] = al_annotation_program(&s->a[a], s->a[a].original);
    progs[total + 2 * (size_t)a + 1] = al_annotation_program(&s->a[a], s->a[a].refinement);
  }
  if (!rc) rc = al_sandbox_run_many(sb, (int)nprog, (const char *const *)progs, r, c->workers, err);
  for (int a = 0; a < A && !rc; a++) {
    int passed = 0, orig = r[total + 2 * (size_t)a].status == AL_SB_PASSED, human = r[total + 2 * (size_t)a + 1].status == AL_SB_PASSED;
    for (int j = 0; j < N; j++) {
      size_t k = (size_t)a * N + j;
      int ok = outs[k] && r[k].status == AL_SB_PASSED;
      passed += ok, res->failed_requests += !outs[k];
      if (records) {
        json_t *o = json_pack("{s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "task_id", s->a[a].task_id, "line", s->a[a].line, "sample",
                              j, "completion", outs[k] ? outs[k] : "", "verdict",
                              outs[k] ? al_sb_status_name(r[k].status) : "request failed", "original_verdict",
                              al_sb_status_name(r[total + 2 * (size_t)a].status), "human_refinement_verdict",
                              al_sb_status_name(r[total + 2 * (size_t)a + 1].status));
        if (!o) o = json_pack("{s:i, s:i, s:s}", "task_id", s->a[a].task_id, "sample", j, "verdict", /* not UTF-8 */
                              outs[k] ? al_sb_status_name(r[k].status) : "request failed");
        if (errs[k]) json_object_set_new(o, "error", json_string(errs[k]));
        json_array_append_new(records, o);
      }
    }
    for (int i = 0; i < c->nk; i++) res->pass_at[i] += al_pass_at_k(N, passed, c->ks[i]);
    res->passed += passed, res->original_passed += orig, res->human_passed += human;
  }
  res->n = A, res->samples = (int)total;
  for (int i = 0; i < c->nk && A; i++) res->pass_at[i] /= A;
  for (size_t k = 0; k < nprog; k++) free(progs[k]), al_sb_result_free(&r[k]);
  for (size_t k = 0; k < total; k++) free(outs[k]), free(errs[k]);
  for (int a = 0; a < A; a++) free(prompts[a]);
  free(prompts), free(outs), free(errs), free(progs), free(reqs), free(r);
  return rc;
}

/* One round of ILF for code (al_ilf_code_run in include/alab/ilf.h, Chen
 * et al. 2023), every role a provider: the policy's programs (or the
 * annotation file's) run in the sandbox; feedback on each failure from the
 * exact critic, a critic model or the file; the refiner rewrites the
 * program (greedy; or `refinements` samples, the first that passes chosen);
 * the refinement runs with the task's tests in the sandbox and is kept when
 * it passes (or always: the untested ablation);
 * the SFT sets pair the policy's prompt with the kept (and every)
 * refinement. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "alab/sandbox.h"
#include "exp/ilf_code_internal.h"

/* The critic's reply: its first line, blanks trimmed; NULL when empty or "none". */
static char *critic_reply(char *s) {
  char *nl = strchr(s, '\n');
  if (nl) *nl = 0;
  char *a = s;
  while (*a == ' ' || *a == '\t') a++;
  size_t n = strlen(a);
  while (n && isspace((unsigned char)a[n - 1])) a[--n] = 0;
  return n && strncasecmp(a, "none", 4) ? al_strdup(a) : NULL;
}

/* The policy's programs: generated (MBPP), or the annotation file's originals
 * run in the sandbox; both as al_code_eval_mbpp's records. */
static int first_programs(const ilf_code_ctx *x, json_t *recs, al_err *err) {
  if (!x->ann) {
    al_code_eval_res r;
    return al_code_eval_mbpp(x->policy, x->sb, x->tasks, &x->gen, &r, recs, err);
  }
  int n = x->tasks->n;
  char **progs = al_calloc((size_t)n, sizeof(char *));
  al_sb_result *r = al_calloc((size_t)n, sizeof *r);
  for (int i = 0; i < n; i++) progs[i] = al_mbpp_program(&x->tasks->t[i], x->ann->a[i].original, 0);
  int rc = al_sandbox_run_many(x->sb, n, (const char *const *)progs, r, x->c->eval.workers, err);
  for (int i = 0; i < n && !rc; i++) {
    json_t *o = json_pack("{s:i, s:i, s:s, s:s}", "task_id", x->tasks->t[i].task_id, "sample", 0, "program",
                          x->ann->a[i].original, "verdict", al_sb_status_name(r[i].status));
    if (!o) o = json_pack("{s:i, s:s}", "task_id", x->tasks->t[i].task_id, "verdict", al_sb_status_name(r[i].status));
    if (r[i].status != AL_SB_PASSED) {
      size_t len = r[i].output_len, from = len > 2000 ? len - 2000 : 0;
      json_t *out = r[i].output ? json_stringn(r[i].output + from, len - from) : NULL;
      json_object_set_new(o, "detail", json_string(r[i].status == AL_SB_KILLED ? r[i].limit : r[i].error_type));
      json_object_set_new(o, "output", out ? out : json_string(""));
    }
    json_array_append_new(recs, o);
  }
  for (int i = 0; i < n; i++) free(progs[i]), al_sb_result_free(&r[i]);
  free(progs), free(r);
  return rc;
}

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

static int generate(al_provider *p, char **prompts, int n, int max_tokens, const char *const *stop, int nstop, uint64_t seed,
                    char **outs, al_err *err) {
  al_gen_cfg g = al_gen_cfg_default();
  g.temperature = 0, g.max_tokens = max_tokens, g.seed = seed, g.stop = stop, g.nstop = nstop;
  if (p->generate(p, (const char *const *)prompts, n, &g, outs, err)) return al_fail_prefix(err, "%s", p->model);
  for (int i = 0; i < n; i++) ilf_ascii(outs[i]);
  return 0;
}

static void sft_line(al_buf *b, const char *prompt, const char *completion) {
  json_t *o = json_pack("{s:s, s:s}", "prompt", prompt, "completion", completion);
  char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (line) al_buf_printf(b, "%s\n", line);
  free(line), json_decref(o);
}

int ilf_code_round(const ilf_code_ctx *x, uint64_t seed, ilf_code_round_res *out, al_err *err) {
  memset(out, 0, sizeof *out);
  const al_mbpp *T = x->tasks;
  int n = T->n, nf = 0, R = x->c->refinements > 1 ? x->c->refinements : 1;
  size_t nR = (size_t)n * R;
  json_t *recs = json_array();
  char **fb = al_calloc((size_t)n, sizeof(char *)), **cprompt = al_calloc((size_t)n, sizeof(char *));
  char **rprompt = al_calloc((size_t)n, sizeof(char *)), **rout = al_calloc(nR, sizeof(char *));
  char **refined = al_calloc(nR, sizeof(char *)), **rprog = al_calloc(nR, sizeof(char *));
  int *which = al_calloc((size_t)n + 1, sizeof(int));
  al_sb_result *rv = al_calloc(nR + 1, sizeof *rv);
  int rc = first_programs(x, recs, err);
  for (int i = 0; i < n && !rc; i++) { /* the failures, and the critic's prompts */
    json_t *o = json_array_get(recs, (size_t)i);
    out->attempted++;
    if (!strcmp(str(o, "verdict"), "passed")) {
      out->passed_first++;
      continue;
    }
    if (x->ann) fb[i] = al_strdup(x->ann->a[i].feedback);
    else if (!x->critic) fb[i] = al_code_feedback(&T->t[i], str(o, "program"), str(o, "verdict"), str(o, "detail"), str(o, "output"));
    else cprompt[i] = al_code_fill(x->critic_template, &T->t[i], str(o, "program"), NULL, str(o, "verdict"));
    which[nf++] = i;
  }
  out->failed = nf;
  if (!rc && x->critic && nf) {
    static const char *const nl[] = {"\n"};
    char **cout = al_calloc((size_t)nf, sizeof(char *)), **cp = al_calloc((size_t)nf, sizeof(char *));
    for (int k = 0; k < nf; k++) cp[k] = cprompt[which[k]];
    rc = generate(x->critic, cp, nf, x->c->eval.max_tokens, nl, 1, seed + 1, cout, err);
    for (int k = 0; k < nf && !rc; k++) fb[which[k]] = critic_reply(cout[k]);
    ilf_free_strs(cout, (size_t)nf), free(cp);
  }
  int nr = 0, *rwhich = al_calloc((size_t)nf + 1, sizeof(int));
  for (int k = 0; k < nf && !rc; k++) { /* the refiner's prompts, for the failures with feedback */
    int i = which[k];
    json_t *o = json_array_get(recs, (size_t)i);
    if (!fb[i]) continue;
    rprompt[nr] = x->ann ? al_refine_prompt(&x->ann->a[i], x->c->eval.prefix)
                         : al_code_fill(x->refine_template, &T->t[i], str(o, "program"), fb[i], str(o, "verdict"));
    rwhich[nr++] = i;
  }
  out->with_feedback = nr;
  static const char *const done[] = {"[DONE]"};
  const char *const *stops = x->ann ? al_code_humaneval_stops : done;
  if (!rc && nr && R == 1) rc = generate(x->refiner, rprompt, nr, x->c->eval.max_tokens, stops, x->ann ? 5 : 1, seed + 2, rout, err);
  if (!rc && nr && R > 1) { /* R sampled refinements of each: rout[k * R + j], seed + 2 + j */
    al_gen_req *q = al_calloc((size_t)nr * R, sizeof *q);
    char **errs = al_calloc((size_t)nr * R, sizeof(char *));
    for (int k = 0; k < nr * R; k++) {
      q[k].prompt = rprompt[k / R], q[k].g = al_gen_cfg_default();
      q[k].g.temperature = x->c->refine_temperature, q[k].g.max_tokens = x->c->eval.max_tokens;
      q[k].g.seed = seed + 2 + (uint64_t)(k % R), q[k].g.stop = stops, q[k].g.nstop = x->ann ? 5 : 1;
    }
    rc = x->refiner->complete(x->refiner, q, nr * R, rout, errs, err);
    for (int k = 0; k < nr * R && !rc; k++) { /* a request the endpoint gave up on: an empty refinement, which fails */
      if (!rout[k]) rout[k] = al_strdup(""), out->failed_requests++;
      ilf_ascii(rout[k]);
    }
    ilf_free_strs(errs, (size_t)nr * R), free(q);
  }
  for (int k = 0; k < nr * R && !rc; k++) {
    int i = rwhich[k / R];
    al_buf b = {0};
    if (x->ann) al_buf_printf(&b, "%s%s", T->t[i].text, rout[k]);
    refined[k] = x->ann ? b.data : al_code_extract(rout[k]);
    rprog[k] = al_mbpp_program(&T->t[i], refined[k], 0);
  }
  if (!rc && nr) rc = al_sandbox_run_many(x->sb, nr * R, (const char *const *)rprog, rv, x->c->eval.workers, err);
  int k = 0;
  for (int i = 0; i < n && !rc; i++) { /* selection, the SFT sets and the records, in task order */
    json_t *o = json_deep_copy(json_array_get(recs, (size_t)i));
    json_object_del(o, "sample");
    if (fb[i]) json_object_set_new(o, "feedback", json_string(fb[i]));
    int refined_here = k < nr && rwhich[k] == i;
    if (cprompt[i]) json_object_set_new(o, "critic_prompt", json_string(cprompt[i]));
    if (refined_here) {
      int first_pass = -1, passing = 0;
      for (int j = R - 1; j >= 0; j--)
        if (rv[(size_t)k * R + j].status == AL_SB_PASSED) first_pass = j, passing++;
      out->refinements_passed += passing;
      if (R > 1) { /* every sample, then the chosen one (the first that passes, else the first) as for R = 1 */
        json_t *all = json_array();
        for (int j = 0; j < R; j++)
          json_array_append_new(all, json_pack("{s:s, s:s}", "refinement", refined[(size_t)k * R + j], "verdict",
                                               al_sb_status_name(rv[(size_t)k * R + j].status)));
        json_object_set_new(o, "refinements", all);
      }
      int c = first_pass >= 0 ? first_pass : 0, kk = k;
      k = kk * R + c; /* the chosen sample's index into rout, refined, rv */
      int pass = rv[k].status == AL_SB_PASSED, keep = pass || x->c->keep_all;
      char *prompt = al_code_prompt(&T->t[i], &x->gen);
      al_buf comp = {0};
      if (x->ann || x->gen.humaneval) al_buf_printf(&comp, "%s", rout[k]);
      else al_buf_printf(&comp, x->gen.plain ? "%s" : "%s\n[DONE]", refined[k]);
      if (keep) sft_line(&out->keep, prompt, comp.data);
      sft_line(&out->all, prompt, comp.data);
      out->refined_passed += pass, out->kept += keep;
      json_object_set_new(o, "refiner_prompt", json_string(rprompt[kk]));
      json_object_set_new(o, "refinement", json_string(refined[k]));
      json_object_set_new(o, "refinement_verdict", json_string(al_sb_status_name(rv[k].status)));
      json_object_set_new(o, "kept", json_boolean(keep));
      free(prompt), al_buf_free(&comp);
      k = kk + 1;
    }
    char *line = json_dumps(o, JSON_COMPACT);
    if (line) al_buf_printf(&out->records, "%s\n", line);
    free(line), json_decref(o);
  }
  json_decref(recs);
  for (int j = 0; j < nr * R; j++) al_sb_result_free(&rv[j]);
  ilf_free_strs(fb, (size_t)n), ilf_free_strs(cprompt, (size_t)n), ilf_free_strs(rprompt, (size_t)n);
  ilf_free_strs(rout, nR), ilf_free_strs(refined, nR), ilf_free_strs(rprog, nR);
  free(which), free(rwhich), free(rv);
  return rc;
}

void ilf_code_round_free(ilf_code_round_res *r) { al_buf_free(&r->records), al_buf_free(&r->keep), al_buf_free(&r->all); }

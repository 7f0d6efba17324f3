/* Evaluation of the reversal curse, as in the paper, through a provider (the
 * local engine or an OpenAI-compatible endpoint, the same code for both):
 *   accuracy   greedy completion (temperature 0) of the prompt; correct when
 *              the completion, stripped and lowercased, is a prefix of the
 *              generation, stripped and lowercased.
 *   log-probs  log p(completion | prompt) of the correct completion and of
 *              the same prompt's random completion (another person of the
 *              group); their difference per example is tested with a paired
 *              t-test: t = mean(d) / (sd(d) / sqrt(n)), df = n - 1 (the
 *              t distribution from src/base/stats.c).
 * Per example the provider scores (prompt, completion) and (prompt, random)
 * in one call, then generates: with the local engine on one thread this is
 * the order the decoder ran in before providers, so the numbers are those. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp/reversal_internal.h"

int al_rev_match(const char *gen, const char *target) {
  while (isspace((unsigned char)*gen)) gen++;
  while (isspace((unsigned char)*target)) target++;
  size_t n = strlen(target);
  while (n && isspace((unsigned char)target[n - 1])) n--;
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!gen[i] || tolower((unsigned char)gen[i]) != tolower((unsigned char)target[i])) return 0;
  return 1;
}

al_rev_paired al_rev_paired_test(const double *a, const double *b, int n) {
  al_rev_paired r = {NAN, NAN, NAN, NAN, NAN, n};
  if (n < 1) return r;
  double *d = al_malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) d[i] = a[i] - b[i];
  al_stat s = al_stat_of(d, n);
  free(d);
  r.mean = s.mean, r.lo = s.lo, r.hi = s.hi;
  if (n < 2) return r;
  if (s.se > 0) {
    r.t = s.mean / s.se;
    r.p = al_t_pvalue(r.t, n - 1);
  } else { /* every difference equal: no evidence either way when 0, certainty otherwise */
    r.t = s.mean == 0 ? 0 : copysign(INFINITY, s.mean);
    r.p = s.mean == 0 ? 1 : 0;
  }
  return r;
}

void al_rev_score_free(al_rev_score *s) {
  free(s->lp_correct);
  free(s->lp_random);
  free(s->hit);
  memset(s, 0, sizeof *s);
}

char *rev_eot_text(const al_tok *tok) {
  size_t n = 0;
  int32_t eot = al_tok_eot(tok);
  const char *b = eot >= 0 ? al_tok_token(tok, eot, &n) : NULL;
  char *t = al_malloc(n + 1);
  if (b) memcpy(t, b, n);
  t[n] = 0;
  return t;
}

static long count_tokens(const al_tok *tok, const char *text, int special, al_err *err) {
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  long k = al_tok_encode(tok, text, strlen(text), special, &ids, &n, &cap, err);
  free(ids);
  return k;
}

/* New tokens to generate for example e (prompt = prefix + its prompt): the
 * completion's length + 4 (a few past it suffice to decide the match), cut
 * to the context; with a tokenizer, a prompt and completion that do not fit
 * the context are an error naming the line. */
static int gen_length(const al_rev_evaluator *ev, const al_rev_set *s, const al_rev_example *e, const char *prompt,
                      int *max_new, al_err *err) {
  if (!ev->tok) {
    *max_new = (int)strlen(e->completion) + 4; /* every token is at least one byte */
    return 0;
  }
  long np = count_tokens(ev->tok, prompt, 1, err), nc = np < 0 ? -1 : count_tokens(ev->tok, e->completion, 0, err);
  long nr = nc < 0 || !e->random ? 0 : count_tokens(ev->tok, e->random, 0, err);
  if (np < 0 || nc < 0 || nr < 0) return al_fail_prefix(err, "%s:%d", s->file, e->line);
  if (ev->context > 0 && np + (nc > nr ? nc : nr) > ev->context)
    return al_fail(err, "%s:%d: prompt and completion exceed the model's context of %d tokens", s->file, e->line,
                   ev->context);
  *max_new = (int)nc + 4;
  if (ev->context > 0 && np + *max_new > ev->context) *max_new = ev->context - (int)np;
  return 0;
}

/* Examples [b0, b0 + m) of the strided selection: one score call (correct and
 * random completion of each) and one generation call. */
static int score_batch(const al_rev_evaluator *ev, const al_rev_set *s, int n, int b0, int m, al_rev_score *out,
                       al_err *err) {
  char **prompts = al_calloc((size_t)m, sizeof *prompts), **outs = al_calloc((size_t)m, sizeof *outs);
  char **errs = al_calloc((size_t)m, sizeof *errs);
  al_score_req *reqs = al_malloc(2 * (size_t)m * sizeof *reqs);
  al_score_res *res = al_calloc(2 * (size_t)m, sizeof *res);
  al_gen_req *gq = al_calloc((size_t)m, sizeof *gq);
  int *first = al_malloc((size_t)m * sizeof *first), nreq = 0, rc = 0, scored = 0;
  size_t lp = strlen(ev->prefix ? ev->prefix : "");
  for (int j = 0; j < m && !rc; j++) {
    const al_rev_example *e = &s->ex[(long)(b0 + j) * s->n / n];
    size_t l = strlen(e->prompt);
    prompts[j] = al_malloc(lp + l + 1);
    memcpy(prompts[j], ev->prefix ? ev->prefix : "", lp);
    memcpy(prompts[j] + lp, e->prompt, l + 1);
    first[j] = nreq;
    reqs[nreq++] = (al_score_req){prompts[j], e->completion};
    if (e->random) reqs[nreq++] = (al_score_req){prompts[j], e->random};
    gq[j].prompt = prompts[j];
    gq[j].g = al_gen_cfg_default();
    gq[j].g.temperature = 0;
    rc = gen_length(ev, s, e, prompts[j], &gq[j].g.max_tokens, err);
  }
  if (!rc && (rc = ev->p->score(ev->p, reqs, nreq, res, err))) al_fail_prefix(err, "scoring %s", s->file);
  scored = !rc;
  if (!rc && (rc = ev->p->complete(ev->p, gq, m, outs, errs, err))) al_fail_prefix(err, "generating for %s", s->file);
  for (int j = 0; j < m && !rc; j++) {
    const al_rev_example *e = &s->ex[(long)(b0 + j) * s->n / n];
    const al_score_res *rr = e->random ? &res[first[j] + 1] : NULL;
    const char *why = res[first[j]].error ? res[first[j]].error : rr && rr->error ? rr->error : errs[j];
    if (why) {
      rc = al_fail(err, "%s:%d: %s", s->file, e->line, why);
      break;
    }
    out->lp_correct[b0 + j] = res[first[j]].logprob;
    out->lp_random[b0 + j] = rr ? rr->logprob : NAN;
    out->hit[b0 + j] = (char)al_rev_match(outs[j], e->completion);
  }
  if (scored) al_score_res_free(res, nreq);
  for (int j = 0; j < m; j++) free(prompts[j]), free(outs[j]), free(errs[j]);
  free(prompts), free(outs), free(errs), free(reqs), free(res), free(gq), free(first);
  return rc;
}

int al_rev_score_set(const al_rev_evaluator *ev, const al_rev_set *s, int max, al_rev_score *out, al_err *err) {
  memset(out, 0, sizeof *out);
  int n = max > 0 && s->n > max ? max : s->n;
  out->n = n;
  out->lp_correct = al_malloc(sizeof(double) * (n ? n : 1));
  out->lp_random = al_malloc(sizeof(double) * (n ? n : 1));
  out->hit = al_calloc(n ? n : 1, 1);
  int batch = ev->batch > 0 ? ev->batch : (n ? n : 1);
  for (int b0 = 0; b0 < n; b0 += batch)
    if (score_batch(ev, s, n, b0, n - b0 < batch ? n - b0 : batch, out, err)) {
      al_rev_score_free(out);
      return -1;
    }
  for (int k = 0; k < n; k++) out->correct += out->hit[k];
  return 0;
}

/* Every slot of d under ev into R's entries (v, s), with a metrics record per
 * slot appended to recs. With local set, each slot is scored by a fresh
 * local provider on that model (one thread, fresh decoders), as alab scored
 * before providers, so the numbers are those. */
int rev_eval_slots(const al_rev_evaluator *ev, const al_model *local, const al_rev_data *d, int eval_max, int v, int s,
                   rev_results *R, json_t *recs, al_err *err) {
  for (int k = 0; k < AL_REV_NSLOTS; k++) {
    if (!d->slot[k].n) continue;
    al_rev_evaluator e = *ev;
    al_provider *own = NULL;
    al_local_cfg lc = al_local_cfg_default();
    lc.threads = 1;
    if (local && al_provider_local_wrap(&own, local, ev->tok, R->vnames[v], &lc, err)) return -1;
    if (own) e.p = own;
    al_rev_score sc;
    int rc = al_rev_score_set(&e, rev_slot_set(d, v, k), eval_max, &sc, err);
    al_provider_free(own);
    if (rc) return -1;
    R->n[v][k] = sc.n;
    R->acc[v][k][s] = sc.n ? (double)sc.correct / sc.n : NAN;
    memcpy(R->lc[v][k] + (size_t)s * sc.n, sc.lp_correct, sizeof(double) * sc.n);
    memcpy(R->lr[v][k] + (size_t)s * sc.n, sc.lp_random, sizeof(double) * sc.n);
    al_rev_paired pt = al_rev_paired_test(sc.lp_correct, sc.lp_random, sc.n);
    R->pseed[v][k][s] = pt.p;
    char key[96];
    rev_slot_key(k, key, sizeof key);
    json_array_append_new(recs, json_pack("{s:s, s:i, s:s, s:i, s:o, s:o, s:o, s:o}", "variant", R->vnames[v], "seed",
                                          s, "slot", key, "n", sc.n, "accuracy", rev_num(R->acc[v][k][s]),
                                          "logprob_diff", rev_num(pt.mean), "t", rev_num(pt.t), "p", rev_num(pt.p)));
    al_rev_score_free(&sc);
  }
  return 0;
}

/* Best-of-n over a set of prompts: sample, score with the proxy (and gold)
 * reward models, estimate every n from the same samples, average over
 * prompts (include/alab/bon.h). */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/reward.h"
#include "alab/tok.h"

void al_bon_result_free(al_bon_result *r) {
  free(r->n), free(r->kl), free(r->proxy), free(r->gold);
  memset(r, 0, sizeof *r);
}

/* prompt + the decoded responses (the end-of-text token dropped) */
static int response_texts(const al_tok *tok, const char *prompt, const int32_t *out, const int *lens, int N, int max_new,
                          char **texts, al_err *err) {
  int eot = al_tok_eot(tok);
  for (int i = 0; i < N; i++) {
    int n = lens[i];
    if (n > 0 && out[(size_t)i * max_new + n - 1] == eot) n--;
    char *resp;
    size_t len;
    if (al_tok_decode(tok, out + (size_t)i * max_new, (size_t)n, &resp, &len, err)) return -1;
    al_buf b = {0};
    al_buf_printf(&b, "%s%s", prompt, resp);
    free(resp);
    texts[i] = b.data;
  }
  return 0;
}

int al_bon_run(const al_model *policy, const al_tok *tok, const al_bon_scorer *proxy, const al_bon_scorer *gold,
               const al_bon_cfg *c, al_bon_result *r, al_err *err) {
  memset(r, 0, sizeof *r);
  if (c->nprompts < 1) return al_fail(err, "best-of-n needs at least one prompt");
  if (c->N < 1) return al_fail(err, "best-of-n: N = %d samples (at least 1)", c->N);
  for (int n = 1;; n *= 2) { /* 1, 2, 4, ..., and N */
    int v = n < c->N ? n : c->N;
    r->n = al_realloc(r->n, sizeof(int) * (size_t)(r->nn + 1));
    r->n[r->nn++] = v;
    if (v == c->N) break;
  }
  int N = c->N, P = c->nprompts, rc = 0;
  r->kl = al_malloc(sizeof(double) * r->nn);
  for (int k = 0; k < r->nn; k++) r->kl[k] = al_bon_kl(r->n[k]);
  double *ep = al_malloc(sizeof(double) * (size_t)P * r->nn), *eg = al_malloc(sizeof(double) * (size_t)P * r->nn);
  int32_t *out = al_malloc(sizeof(int32_t) * (size_t)N * c->max_new), *ids = NULL;
  int *lens = al_malloc(sizeof(int) * N);
  char **texts = al_calloc((size_t)N, sizeof(char *));
  float *pr = al_malloc(sizeof(float) * N), *gr = al_malloc(sizeof(float) * N);
  double *pd = al_malloc(sizeof(double) * N), *gd = al_malloc(sizeof(double) * N);
  for (int p = 0; p < P && !rc; p++) {
    size_t np = 0, cap = 0;
    if (al_tok_encode(tok, c->prompts[p], strlen(c->prompts[p]), 0, &ids, &np, &cap, err) < 0) {
      rc = al_fail_prefix(err, "prompt %d", p);
      break;
    }
    double t0 = al_now();
    rc = al_bon_sample(policy, ids, (int)np, N, c->max_new, &c->sample, c->seed + (uint64_t)p, al_tok_eot(tok), out, lens, err);
    free(ids), ids = NULL;
    if (rc) { al_fail_prefix(err, "prompt %d", p); break; }
    for (int i = 0; i < N; i++) r->tokens += lens[i];
    double t1 = al_now();
    r->sample_s += t1 - t0;
    rc = response_texts(tok, c->prompts[p], out, lens, N, c->max_new, texts, err);
    if (!rc) rc = al_rm_score_texts(proxy->m, proxy->tok, (const char *const *)texts, N, pr, err);
    if (!rc && gold && gold->fn)
      for (int i = 0; i < N; i++) gr[i] = (float)gold->fn(texts[i], strlen(texts[i]));
    else if (!rc && gold) rc = al_rm_score_texts(gold->m, gold->tok, (const char *const *)texts, N, gr, err);
    for (int i = 0; i < N; i++) free(texts[i]), texts[i] = NULL;
    r->score_s += al_now() - t1;
    if (rc) { al_fail_prefix(err, "prompt %d", p); break; }
    for (int i = 0; i < N; i++) pd[i] = pr[i], gd[i] = gold ? gr[i] : 0;
    for (int k = 0; k < r->nn && !rc; k++)
      rc = al_bon_estimate(pd, gold ? gd : NULL, N, r->n[k], &eg[(size_t)k * P + p], &ep[(size_t)k * P + p], err);
  }
  if (!rc) {
    r->proxy = al_malloc(sizeof(al_stat) * r->nn);
    if (gold) r->gold = al_malloc(sizeof(al_stat) * r->nn);
    for (int k = 0; k < r->nn; k++) {
      r->proxy[k] = al_stat_of(ep + (size_t)k * P, P);
      if (gold) r->gold[k] = al_stat_of(eg + (size_t)k * P, P);
    }
  }
  free(ep), free(eg), free(out), free(lens), free(texts), free(pr), free(gr), free(pd), free(gd), free(ids);
  if (rc) al_bon_result_free(r);
  return rc;
}

/* The small proxy reward model of the built-in RL experiment
 * (include/alab/rl_exp.h): a reward model made from the pretrained policy
 * (al_rm_from_lm) and trained with the Bradley-Terry loss on pairs of the
 * policy's own responses to one prompt, the one with the higher gold
 * chosen (pairs with equal gold are skipped). Its accuracy on as many
 * held-out pairs is measured, and its score head is scaled so that its
 * standard deviation over those held-out responses equals the gold's. */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/reward.h"
#include "alab/rl_world.h"
#include "exp/rl_exp_internal.h"

/* n pairs (stream offset `first`) of prompt + response texts, chosen first */
static int sample_pairs(const al_model *pol, const al_tok *tok, uint64_t seed, uint64_t first, int n, char **texts,
                        al_err *err) {
  int np, eot = al_tok_eot(tok), got = 0;
  const char *const *prompts = al_rlw_prompts(&np);
  al_sample_cfg sc = {1, 1, 0};
  int32_t out[2 * (RLW_LEN + 1)], pid[3];
  int lens[2];
  for (uint64_t i = first; got < n; i++) {
    const char *p = prompts[i % (uint64_t)np];
    for (int t = 0; t < 3; t++) pid[t] = (unsigned char)p[t];
    if (al_bon_sample(pol, pid, 3, 2, RLW_LEN + 1, &sc, seed + i, eot, out, lens, err)) return -1;
    char *tx[2];
    double g[2];
    for (int j = 0; j < 2; j++) {
      int L = lens[j] - (lens[j] > 0 && out[j * (RLW_LEN + 1) + lens[j] - 1] == eot);
      char *resp;
      size_t len;
      if (al_tok_decode(tok, out + j * (RLW_LEN + 1), (size_t)L, &resp, &len, err)) return -1;
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", p, resp);
      free(resp);
      tx[j] = b.data;
      g[j] = al_rlw_gold(b.data, strlen(b.data));
    }
    if (g[0] == g[1]) {
      free(tx[0]), free(tx[1]);
      continue;
    }
    texts[2 * got] = g[0] > g[1] ? tx[0] : tx[1];
    texts[2 * got + 1] = g[0] > g[1] ? tx[1] : tx[0];
    got++;
  }
  return 0;
}

static int tokenize(const al_tok *tok, char **texts, int n, al_rm_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  d->n = n, d->pad = al_tok_eot(tok);
  d->off = al_calloc((size_t)2 * n + 1, sizeof(size_t));
  d->margin = al_calloc((size_t)n, sizeof(float));
  d->line = al_calloc((size_t)n, sizeof(long));
  size_t len = 0, cap = 0;
  for (int i = 0; i < 2 * n; i++) {
    if (al_tok_encode(tok, texts[i], strlen(texts[i]), 0, &d->ids, &len, &cap, err) < 0) return -1;
    d->off[i + 1] = len;
  }
  for (int i = 0; i < n; i++) d->line[i] = i + 1;
  return 0;
}

int rlx_train_proxy(const al_model *base, const al_tok *tok, const al_rl_exp_cfg *c, al_model *rm, double *accuracy,
                    double *scale, al_err *err) {
  int n = c->proxy_pairs;
  char **texts = al_calloc((size_t)4 * n, sizeof(char *));
  al_rm_data train = {0};
  al_objective o = {0};
  int rc = al_rm_from_lm(rm, base, (uint64_t)c->seed, err);
  if (!rc) rc = sample_pairs(base, tok, (uint64_t)c->seed * 7919 + 17, 0, 2 * n, texts, err);
  if (!rc) rc = tokenize(tok, texts, n, &train, err);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 16, tc.seq_len = 3 + RLW_LEN, tc.steps = c->proxy_steps, tc.warmup_steps = c->proxy_steps / 10;
  tc.lr = 1e-3, tc.eval_every = 0, tc.save_final = 0, tc.seed = (uint64_t)c->seed;
  if (!rc) rc = al_objective_rm(&o, rm, &tc, &train, NULL, 0, err);
  if (!rc) rc = al_train_objective(rm, &tc, &o, tok, NULL, err);
  /* held-out accuracy: the second n pairs */
  float *r = al_alloc_floats((size_t)2 * n);
  if (!rc) rc = al_rm_score_texts(rm, tok, (const char *const *)texts + 2 * n, 2 * n, r, err);
  int right = 0;
  for (int i = 0; !rc && i < n; i++) right += r[2 * i] > r[2 * i + 1];
  *accuracy = rc ? NAN : (double)right / n;
  /* the proxy's spread on these samples made the gold's: the same beta_kl
   * then trades the same KL for the same spread of reward */
  double *pv = al_malloc(sizeof(double) * 2 * (size_t)n), *gv = al_malloc(sizeof(double) * 2 * (size_t)n);
  for (int i = 0; !rc && i < 2 * n; i++) pv[i] = r[i], gv[i] = al_rlw_gold(texts[2 * n + i], strlen(texts[2 * n + i]));
  if (!rc) {
    al_stat sp = al_stat_of(pv, 2 * n), sg = al_stat_of(gv, 2 * n);
    *scale = sp.sd > 0 ? sg.sd / sp.sd : 1;
    for (int i = 0; i < rm->cfg.n_embd; i++) rm->score[i] *= (float)*scale;
  }
  free(pv), free(gv);
  free(r);
  al_objective_free(&o);
  al_rm_data_free(&train);
  for (int i = 0; i < 4 * n; i++) free(texts[i]);
  free(texts);
  return rc ? al_fail_prefix(err, "the proxy reward model") : 0;
}

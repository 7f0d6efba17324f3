/* A batch of RL rollouts (include/alab/rl.h): P prompts x k responses
 * sampled from the current policy with batched decoding, scored, then the
 * old and reference log-probs, values, KL-penalised rewards and advantages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "align/rl_internal.h"
#include "alab/reward.h"

/* The prompt of slot q of batch it: passes over a permutation of the prompt
 * set, one permutation per pass, drawn from the seed. */
static int prompt_index(const rl_ctx *c, long it, int q) {
  long g = it * c->P + q, pass = g / c->s.nprompts;
  uint32_t *perm = al_malloc(sizeof(uint32_t) * (size_t)c->s.nprompts);
  for (int i = 0; i < c->s.nprompts; i++) perm[i] = (uint32_t)i;
  al_rng r;
  al_rng_seed_stream(&r, c->rl.seed, 0x70726f6d00000000ull + (uint64_t)pass);
  al_rng_shuffle_u32(&r, perm, (size_t)c->s.nprompts);
  int p = (int)perm[g % c->s.nprompts];
  free(perm);
  return p;
}

/* score[i] of each text, by a reward model or an exact function */
static int score_texts(const al_bon_scorer *sc, char **texts, int n, float *out, al_err *err) {
  if (sc->fn) {
    for (int i = 0; i < n; i++) out[i] = (float)sc->fn(texts[i], strlen(texts[i]));
    return 0;
  }
  return al_rm_score_texts(sc->m, sc->tok, (const char *const *)texts, n, out, err);
}

/* log-probs (and values) of every response token of the batch, mb rows at a time */
static int logprobs_of(rl_ctx *c, al_model *m, float *lp, float *v, al_err *err) {
  for (int r0 = 0; r0 < c->n; r0 += c->mb) {
    const int32_t *in = c->inputs + (size_t)r0 * c->T;
    if (al_model_forward_pv(m, in, c->mb, c->T, v ? c->values : NULL, err)) return -1;
    if (c->rl.min_new > 0)
      al_rl_mask_logits(al_model_logits_rw(m), c->start + r0, c->len + r0, c->mb, c->T, c->V, al_tok_eot(c->s.tok),
                        c->rl.min_new);
    al_rl_token_logprobs(al_model_logits(m), in, c->start + r0, c->len + r0, c->mb, c->T, c->V, c->R,
                         lp + (size_t)r0 * c->R, NULL);
    if (v) al_rl_gather_values(c->values, c->start + r0, c->len + r0, c->mb, c->T, c->R, v + (size_t)r0 * c->R);
  }
  return 0;
}

/* prompt + each response of one prompt's k samples as text (end-of-text dropped) */
static int texts_of(rl_ctx *c, int p, al_err *err) {
  int eot = al_tok_eot(c->s.tok);
  for (int j = 0; j < c->k; j++) {
    int n = c->lens[j];
    if (n > 0 && c->out[(size_t)j * c->R + n - 1] == eot) n--;
    char *resp;
    size_t len;
    if (al_tok_decode(c->s.tok, c->out + (size_t)j * c->R, (size_t)n, &resp, &len, err)) return -1;
    al_buf b = {0};
    al_buf_printf(&b, "%s%s", c->s.prompts[p], resp);
    free(resp);
    free(c->texts[j]);
    c->texts[j] = b.data;
  }
  return 0;
}

static void batch_metrics(rl_ctx *c) {
  double kl = 0, ent = 0, sc = 0, gold = 0;
  long toks = 0;
  for (int i = 0; i < c->n; i++) {
    for (int t = 0; t < c->len[i]; t++) kl += c->kl[(size_t)i * c->R + t], ent -= c->old_lp[(size_t)i * c->R + t];
    sc += c->score[i];
    gold += c->gold[i];
    toks += c->len[i];
  }
  c->roll[RM_KL] = kl / c->n;
  c->roll[RM_ENT] = ent / c->n;
  c->roll[RM_NONSCORE] = -c->rl.beta_kl * kl / c->n;
  c->roll[RM_SCORES] = sc / c->n;
  c->roll[RM_RLHF] = c->roll[RM_SCORES] + c->roll[RM_NONSCORE];
  c->roll[RM_GOLD] = c->s.gold ? gold / c->n : NAN;
  c->roll_tokens = toks;
}

static void advantages(rl_ctx *c) {
  if (c->rl.algo == AL_RL_PPO) {
    al_rl_gae(c->rewards, c->old_v, c->len, c->n, c->R, (float)c->rl.gamma, (float)c->rl.lam, c->adv, c->ret);
    if (c->rl.whiten_adv) al_rl_whiten(c->adv, c->len, c->n, c->R, 1);
    return;
  }
  float *rl = c->ret; /* scratch: R_i = score_i - beta sum_t kl_i[t] */
  for (int i = 0; i < c->n; i++) {
    double s = 0;
    for (int t = 0; t < c->len[i]; t++) s += c->kl[(size_t)i * c->R + t];
    rl[i] = c->score[i] - (float)(c->rl.beta_kl * s);
  }
  al_rloo_advantages(rl, c->P, c->k, c->seq_adv);
  if (c->rl.whiten_adv) {
    int *ones = al_malloc(sizeof(int) * (size_t)c->n);
    for (int i = 0; i < c->n; i++) ones[i] = 1;
    al_rl_whiten(c->seq_adv, ones, c->n, 1, 1);
    free(ones);
  }
}

int rl_rollout(rl_ctx *c, al_model *m, long it, al_err *err) {
  double t0 = al_now();
  al_sample_cfg sc = {.temperature = 1, .top_p = 1, .top_k = 0};
  int eot = al_tok_eot(c->s.tok);
  for (int q = 0; q < c->P; q++) {
    int p = prompt_index(c, it, q), np = c->plen[p];
    al_rng r;
    al_rng_seed_stream(&r, c->rl.seed, (uint64_t)it * c->P + q);
    double ts = al_now();
    if (al_bon_sample_min(m, c->pids[p], np, c->k, c->R, c->rl.min_new, &sc, al_rng_u64(&r), eot, c->out, c->lens, err))
      return al_fail_prefix(err, "rollouts of batch %ld, prompt %d", it, p);
    c->sample_s += al_now() - ts;
    for (int j = 0; j < c->k; j++) {
      int i = q * c->k + j;
      int32_t *row = c->inputs + (size_t)i * c->T;
      memcpy(row, c->pids[p], sizeof(int32_t) * (size_t)np);
      memcpy(row + np, c->out + (size_t)j * c->R, sizeof(int32_t) * (size_t)c->lens[j]);
      for (int t = np + c->lens[j]; t < c->T; t++) row[t] = eot;
      c->start[i] = np;
      c->len[i] = c->lens[j];
      c->prompt_of[i] = p;
      c->tokens += c->lens[j];
    }
    if (texts_of(c, p, err) || score_texts(c->s.reward, c->texts, c->k, c->score + (size_t)q * c->k, err) ||
        (c->s.gold && score_texts(c->s.gold, c->texts, c->k, c->gold + (size_t)q * c->k, err)) ||
        (c->rl.probe && score_texts(c->rl.probe, c->texts, c->k, c->probe + (size_t)q * c->k, err)))
      return al_fail_prefix(err, "scoring the rollouts of batch %ld, prompt %d", it, p);
  }
  if (logprobs_of(c, m, c->old_lp, c->rl.algo == AL_RL_PPO ? c->old_v : NULL, err) ||
      logprobs_of(c, c->s.ref, c->ref_lp, NULL, err))
    return al_fail_prefix(err, "log-probs of batch %ld", it);
  al_rl_kl_rewards(c->old_lp, c->ref_lp, c->score, c->len, c->n, c->R, (float)c->rl.beta_kl, c->kl, c->rewards);
  batch_metrics(c);
  advantages(c);
  c->cur_iter = it;
  c->hist = al_realloc(c->hist, sizeof(double) * RM_NROLL * (size_t)(c->hist_n + 1));
  c->hist_batch = al_realloc(c->hist_batch, sizeof(long) * (size_t)(c->hist_n + 1));
  c->hist_len = al_realloc(c->hist_len, sizeof(double) * (size_t)(c->hist_n + 1));
  c->hist_probe = al_realloc(c->hist_probe, sizeof(double) * (size_t)(c->hist_n + 1));
  memcpy(c->hist + (size_t)c->hist_n * RM_NROLL, c->roll, sizeof c->roll);
  double tokens = 0, probe = 0;
  for (int i = 0; i < c->n; i++) tokens += c->len[i], probe += c->probe[i];
  c->hist_len[c->hist_n] = tokens / c->n;
  c->hist_probe[c->hist_n] = c->rl.probe ? probe / c->n : NAN;
  c->hist_batch[c->hist_n++] = it;
  c->rollout_s += al_now() - t0;
  return 0;
}

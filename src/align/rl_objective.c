/* RLOO and PPO as an objective of the training loop (include/alab/rl.h):
 * micro-batch `index` is minibatch index % M of epoch (index / M) % E of
 * batch index / (E M) of rollouts; the first step of a batch samples it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "align/rl_internal.h"
#include "alab/json.h"

void al_rl_defaults(al_rl_cfg *c, int algo) {
  memset(c, 0, sizeof *c);
  c->algo = algo;
  c->prompts_per_iter = 8;
  c->k = 4;
  c->max_new = 16;
  /* PPO: TRL's num_ppo_epochs 4. RLOO: 1 epoch, 1 minibatch (REINFORCE, as TRL's RLOO docs describe it; TRL's
   * RLOOConfig of v0.11-0.19 defaults to num_ppo_epochs 4, which `alab rl`'s experiment uses: rloo_epochs) */
  c->epochs = algo == AL_RL_PPO ? 4 : 1;
  c->minibatches = algo == AL_RL_PPO ? 2 : 1;
  c->beta_kl = 0.05; /* TRL's kl_coef */
  c->clip = 0.2;
  c->clip_v = 0.2;
  c->vf_coef = 0.1;
  c->gamma = 1;
  c->lam = 0.95;
  c->whiten_adv = algo == AL_RL_PPO;
  c->seed = 1;
}

int al_rl_steps_per_iter(const al_rl_cfg *c) { return c->epochs * c->minibatches; }

/* the metrics, in the order of rl_ctx's RM_* and then the losses' */
static const al_metric RL_METRICS[] = {
    {"objective/kl", 0},        {"objective/entropy", 0},   {"objective/non_score_reward", 0},
    {"objective/scores", 0},    {"objective/rlhf_reward", 0}, {"objective/gold", 0},
    {"policy/approxkl_avg", 0}, {"policy/clipfrac_avg", 0}, {"loss/policy_avg", 0},
    {"loss/value_avg", 0},      {"val/clipfrac_avg", 0},    {"val/vpred", 0},
    {"val/error", 0},           {"rollout_tokens", 1}};
enum { NMETRICS = sizeof RL_METRICS / sizeof RL_METRICS[0] };

/* rows perm[mbi*mb ..] of the batch, permuted per (batch, epoch) */
static void gather_minibatch(rl_ctx *c, long it, int e, int mbi) {
  al_rng r;
  al_rng_seed_stream(&r, c->rl.seed, 0x6d62000000000000ull + (uint64_t)it * c->rl.epochs + e);
  for (int i = 0; i < c->n; i++) c->perm[i] = i;
  if (c->rl.minibatches > 1) al_rng_shuffle_u32(&r, (uint32_t *)c->perm, (size_t)c->n);
  for (int b = 0; b < c->mb; b++) {
    int i = c->perm[mbi * c->mb + b];
    memcpy(c->mb_in + (size_t)b * c->T, c->inputs + (size_t)i * c->T, sizeof(int32_t) * (size_t)c->T);
    c->mb_start[b] = c->start[i];
    c->mb_len[b] = c->len[i];
    size_t src = (size_t)i * c->R, dst = (size_t)b * c->R, nb = sizeof(float) * (size_t)c->R;
    memcpy(c->mb_old_lp + dst, c->old_lp + src, nb);
    memcpy(c->mb_old_v + dst, c->old_v + src, nb);
    memcpy(c->mb_ret + dst, c->ret + src, nb);
    if (c->rl.algo == AL_RL_PPO) memcpy(c->mb_adv + dst, c->adv + src, nb);
    else c->mb_adv[b] = c->seq_adv[i];
  }
}

static int rl_step(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics,
                   al_err *err) {
  rl_ctx *c = ctx;
  long it = (long)(index / (uint64_t)c->spi);
  int e = (int)(index / (uint64_t)c->rl.minibatches % (uint64_t)c->rl.epochs),
      mbi = (int)(index % (uint64_t)c->rl.minibatches);
  if (it != c->cur_iter && rl_rollout(c, m, it, err)) return -1;
  double t0 = al_now();
  gather_minibatch(c, it, e, mbi);
  int ppo = c->rl.algo == AL_RL_PPO;
  if (al_model_forward_pv(m, c->mb_in, c->mb, c->T, ppo ? c->values : NULL, err)) return -1;
  if (c->rl.min_new > 0)
    al_rl_mask_logits(al_model_logits_rw(m), c->mb_start, c->mb_len, c->mb, c->T, c->V, al_tok_eot(c->s.tok), c->rl.min_new);
  al_rl_token_logprobs(al_model_logits(m), c->mb_in, c->mb_start, c->mb_len, c->mb, c->T, c->V, c->R, c->lp, NULL);
  al_rl_stats st = {0};
  double pl, vl = 0;
  if (ppo) {
    al_rl_gather_values(c->values, c->mb_start, c->mb_len, c->mb, c->T, c->R, c->v);
    pl = al_ppo_policy_loss(c->lp, c->mb_old_lp, c->mb_adv, c->mb_len, c->mb, c->R, (float)c->rl.clip, c->dlp, &st);
    vl = al_ppo_value_loss(c->v, c->mb_old_v, c->mb_ret, c->mb_len, c->mb, c->R, (float)c->rl.clip_v, c->dv, &st);
    for (size_t i = 0; i < (size_t)c->mb * c->R; i++) c->dv[i] *= (float)(c->rl.vf_coef * grad_scale);
    al_rl_scatter_values(c->dv, c->mb_start, c->mb_len, c->mb, c->T, c->R, c->dvalues);
  } else {
    pl = al_rloo_loss(c->lp, c->mb_old_lp, c->mb_adv, c->mb_len, c->mb, c->R, (float)c->rl.clip, c->dlp, &st);
  }
  for (size_t i = 0; i < (size_t)c->mb * c->R; i++) c->dlp[i] *= grad_scale;
  float *dlogits = al_model_logits_rw(m);
  al_rl_token_logprobs_backward(dlogits, c->mb_in, c->mb_start, c->mb_len, c->dlp, c->mb, c->T, c->V, c->R);
  al_model_backward_pv(m, dlogits, ppo ? c->dvalues : NULL);
  *loss = pl + c->rl.vf_coef * vl;
  for (int i = 0; i < RM_NROLL; i++) metrics[i] = c->roll[i];
  double lm[] = {st.approxkl, st.clipfrac, pl, ppo ? vl : NAN, ppo ? st.vf_clipfrac : NAN, ppo ? st.vpred : NAN,
                 ppo ? st.verror : NAN, index % (uint64_t)c->spi == 0 ? (double)c->roll_tokens : 0};
  memcpy(metrics + RM_NROLL, lm, sizeof lm);
  c->last_index = index + 1;
  c->update_s += al_now() - t0;
  return 0;
}

/* The trainer state records where the rollouts stand; a checkpoint inside a
 * batch's epochs could not be continued exactly (its rollouts came from
 * parameters that are gone), so it is refused. */
static void rl_save_state(void *ctx, json_t *info) {
  rl_ctx *c = ctx;
  json_object_set_new(info, "rl_batches_done", json_integer((json_int_t)(c->last_index / (uint64_t)c->spi)));
  json_object_set_new(info, "rl_steps_into_batch", json_integer((json_int_t)(c->last_index % (uint64_t)c->spi)));
}

static int rl_load_state(void *ctx, const json_t *info, const char *where, al_err *err) {
  rl_ctx *c = ctx;
  long long into = 0, step = 0;
  if (al_json_get_int(info, "rl_steps_into_batch", &into, where, err) || al_json_get_int(info, "step", &step, where, err))
    return -1;
  if (into != 0 || step % c->spi != 0)
    return al_fail(err, "%s: saved %lld steps into a batch of rollouts (step %lld, %d steps a batch): it cannot be "
                        "continued exactly; checkpoint at batch boundaries",
                   where, into, step, c->spi);
  c->cur_iter = -1;
  c->last_index = (uint64_t)step;
  return 0;
}

static void rl_release(void *ctx) {
  rl_ctx *c = ctx;
  if (!c) return;
  for (int i = 0; c->pids && i < c->s.nprompts; i++) free(c->pids[i]);
  for (int j = 0; c->texts && j < c->k; j++) free(c->texts[j]);
  void *bufs[] = {c->pids, c->plen, c->inputs, c->start, c->len, c->prompt_of, c->old_lp, c->ref_lp, c->old_v,
                  c->kl, c->rewards, c->adv, c->ret, c->score, c->gold, c->probe, c->seq_adv, c->mb_in, c->mb_start,
                  c->mb_len, c->perm, c->lp, c->v, c->values, c->dlp, c->dv, c->dvalues, c->mb_old_lp, c->mb_old_v,
                  c->mb_adv, c->mb_ret, c->out, c->lens, c->texts, c->scratch_scores, c->hist, c->hist_batch, c->hist_len,
                  c->hist_probe};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
  free(c);
}

static int check(const al_rl_cfg *r, const al_model *m, const al_train_cfg *cfg, const al_rl_setup *s, al_err *err) {
  if (r->algo != AL_RL_RLOO && r->algo != AL_RL_PPO) return al_fail(err, "RL: unknown algorithm %d", r->algo);
  if (r->prompts_per_iter < 1 || r->k < 1 || r->max_new < 1 || r->epochs < 1 || r->minibatches < 1)
    return al_fail(err, "RL: prompts per batch (%d), samples per prompt (%d), response tokens (%d), epochs (%d) and "
                        "minibatches (%d) must be positive", r->prompts_per_iter, r->k, r->max_new, r->epochs, r->minibatches);
  if (r->min_new < 0 || r->min_new > r->max_new)
    return al_fail(err, "RL: min_new (%d) must be in [0, max_new = %d]", r->min_new, r->max_new);
  if (r->algo == AL_RL_RLOO && r->k < 2) return al_fail(err, "RLOO needs at least 2 samples per prompt (k = %d)", r->k);
  if ((r->prompts_per_iter * r->k) % r->minibatches)
    return al_fail(err, "RL: %d x %d rollouts do not split into %d minibatches", r->prompts_per_iter, r->k, r->minibatches);
  if (!(r->beta_kl >= 0 && r->clip > 0 && r->clip_v > 0 && r->vf_coef >= 0 && r->gamma >= 0 && r->gamma <= 1 &&
        r->lam >= 0 && r->lam <= 1))
    return al_fail(err, "RL: need beta_kl >= 0, clip > 0, clip_v > 0, vf_coef >= 0 and gamma, lambda in [0, 1]");
  if (r->algo == AL_RL_PPO && !m->score) return al_fail(err, "PPO needs the policy with a value head (scalar head)");
  if (!s->ref || s->ref->cfg.vocab_size != m->cfg.vocab_size)
    return al_fail(err, "RL: the reference model must have the policy's vocabulary (%d tokens)", m->cfg.vocab_size);
  if (!s->tok || al_tok_eot(s->tok) < 0) return al_fail(err, "RL: the policy's tokenizer needs an end-of-text token");
  if (!s->reward || (!s->reward->fn && !s->reward->m)) return al_fail(err, "RL: no reward (a reward model or a function)");
  if (s->nprompts < 1) return al_fail(err, "RL: no prompts");
  int spi = al_rl_steps_per_iter(r);
  if (cfg->grad_accum != 1 || cfg->batch != r->prompts_per_iter * r->k / r->minibatches)
    return al_fail(err, "RL: the loop's batch must be one minibatch (%d rows) and grad_accum 1 (got %d, %d)",
                   r->prompts_per_iter * r->k / r->minibatches, cfg->batch, cfg->grad_accum);
  if (cfg->steps % spi || cfg->ckpt_every % spi)
    return al_fail(err, "RL: steps (%ld) and ckpt_every (%d) must be multiples of the %d steps of a batch of rollouts",
                   cfg->steps, cfg->ckpt_every, spi);
  return 0;
}

int al_objective_rl(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_rl_setup *s, al_err *err) {
  memset(o, 0, sizeof *o);
  if (check(s->rl, m, cfg, s, err)) return -1;
  rl_ctx *c = al_calloc(1, sizeof *c);
  c->rl = *s->rl, c->s = *s, c->s.rl = &c->rl;
  c->P = c->rl.prompts_per_iter, c->k = c->rl.k, c->n = c->P * c->k, c->R = c->rl.max_new;
  c->mb = c->n / c->rl.minibatches, c->spi = al_rl_steps_per_iter(&c->rl), c->V = m->cfg.vocab_size, c->cur_iter = -1;
  c->pids = al_calloc((size_t)s->nprompts, sizeof(int32_t *));
  c->plen = al_calloc((size_t)s->nprompts, sizeof(int));
  o->ctx = c, o->release = rl_release; /* freed by al_objective_free from here on */
  int maxp = 0;
  for (int p = 0; p < s->nprompts; p++) {
    size_t np = 0, cap = 0;
    if (al_tok_encode(s->tok, s->prompts[p], strlen(s->prompts[p]), 0, &c->pids[p], &np, &cap, err) < 0)
      return al_fail_prefix(err, "prompt %d", p + 1);
    if (np < 1) return al_fail(err, "prompt %d is empty", p + 1);
    c->plen[p] = (int)np;
    if ((int)np > maxp) maxp = (int)np;
  }
  c->T = maxp + c->R;
  if (c->T > m->cfg.n_positions || c->T > cfg->seq_len)
    return al_fail(err, "RL: the longest prompt (%d tokens) and %d response tokens exceed the %s of %d", maxp, c->R,
                   c->T > m->cfg.n_positions ? "model's context" : "loop's seq_len", c->T > m->cfg.n_positions ? m->cfg.n_positions : cfg->seq_len);
  size_t n = (size_t)c->n, nR = n * c->R, mR = (size_t)c->mb * c->R;
  c->inputs = al_malloc(sizeof(int32_t) * n * c->T);
  c->start = al_calloc(n, sizeof(int)), c->len = al_calloc(n, sizeof(int)), c->prompt_of = al_calloc(n, sizeof(int));
  float **big[] = {&c->old_lp, &c->ref_lp, &c->old_v, &c->kl, &c->rewards, &c->adv, &c->ret};
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) *big[i] = al_alloc_floats(nR);
  c->score = al_alloc_floats(n), c->gold = al_alloc_floats(n), c->probe = al_alloc_floats(n), c->seq_adv = al_alloc_floats(n);
  c->mb_in = al_malloc(sizeof(int32_t) * (size_t)c->mb * c->T);
  c->mb_start = al_calloc((size_t)c->mb, sizeof(int)), c->mb_len = al_calloc((size_t)c->mb, sizeof(int));
  c->perm = al_calloc(n, sizeof(int));
  float **small[] = {&c->lp, &c->v, &c->dlp, &c->dv, &c->mb_old_lp, &c->mb_old_v, &c->mb_adv, &c->mb_ret};
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) *small[i] = al_alloc_floats(mR);
  c->values = al_alloc_floats((size_t)c->mb * c->T), c->dvalues = al_alloc_floats((size_t)c->mb * c->T);
  c->out = al_malloc(sizeof(int32_t) * (size_t)c->k * c->R);
  c->lens = al_calloc((size_t)c->k, sizeof(int));
  c->texts = al_calloc((size_t)c->k, sizeof(char *));
  o->name = c->rl.algo == AL_RL_PPO ? "ppo" : "rloo";
  o->step = rl_step;
  o->metrics = RL_METRICS, o->nmetrics = NMETRICS;
  o->save_state = rl_save_state, o->load_state = rl_load_state;
  return 0;
}

void al_rl_log_get(const al_objective *o, al_rl_log *log) {
  const rl_ctx *c = o->ctx;
  memset(log, 0, sizeof *log);
  if (!c) return;
  log->rollout_s = c->rollout_s, log->update_s = c->update_s, log->sample_s = c->sample_s, log->tokens = c->tokens;
  size_t n = (size_t)c->hist_n;
  log->nbatches = c->hist_n;
  log->batch = al_malloc(sizeof(long) * (n ? n : 1));
  log->kl = al_malloc(sizeof(double) * (n ? n : 1));
  log->scores = al_malloc(sizeof(double) * (n ? n : 1));
  log->gold = al_malloc(sizeof(double) * (n ? n : 1));
  log->len = al_malloc(sizeof(double) * (n ? n : 1));
  log->probe = al_malloc(sizeof(double) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) {
    log->batch[i] = c->hist_batch[i];
    log->kl[i] = c->hist[i * RM_NROLL + RM_KL];
    log->scores[i] = c->hist[i * RM_NROLL + RM_SCORES];
    log->gold[i] = c->hist[i * RM_NROLL + RM_GOLD];
    log->len[i] = c->hist_len[i];
    log->probe[i] = c->hist_probe[i];
  }
}

void al_rl_log_free(al_rl_log *log) {
  free(log->batch), free(log->kl), free(log->scores), free(log->gold), free(log->len), free(log->probe);
  memset(log, 0, sizeof *log);
}

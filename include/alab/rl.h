/* RL from a reward model: RLOO and PPO with a KL penalty to a frozen
 * reference policy, following TRL's RLOOTrainer and PPOTrainer (v0.11 to
 * v0.19, the "N implementation details of RLHF" design):
 *
 *   per-token KL (TRL's k1 estimator)   kl[t] = log pi(y_t) - log ref(y_t)
 *   per-token reward                     r[t] = -beta_kl * kl[t] + (t = last ? score : 0)
 *   score: the reward model at the response's last token (prompt + response)
 *
 * RLOO (Ahmadian et al. 2024; TRL: the whole response is one action, one
 * epoch, one minibatch, and the PPO clip on the sequence ratio):
 *   R_i = score_i - beta_kl * sum_t kl_i[t]          (objective/rlhf_reward)
 *   A_i = R_i - (sum_{j != i} R_j) / (k - 1)          over the k samples of i's prompt
 *   rho_i = exp(sum_t logp_i[t] - sum_t logp_old_i[t])
 *   loss = mean_i max(-A_i rho_i, -A_i clip(rho_i, 1 - eps, 1 + eps))
 * PPO (Schulman et al. 2017; TRL's PPOTrainer): values V[t] from a value
 * head, GAE
 *   delta[t] = r[t] + gamma V[t+1] - V[t]  (V past the last token = 0)
 *   A[t] = delta[t] + gamma lambda A[t+1],  returns G[t] = A[t] + V[t]
 * advantages whitened over every response token of the batch (TRL's
 * masked_whiten: mean and unbiased variance, (A - mean) / sqrt(var + 1e-8)),
 *   policy loss = mean_t max(-A[t] rho[t], -A[t] clip(rho[t], 1 - eps, 1 + eps)),
 *                 rho[t] = exp(logp[t] - logp_old[t])
 *   value loss  = 0.5 mean_t max((V[t] - G[t])^2, (clip(V[t], V_old[t] - eps_v, V_old[t] + eps_v) - G[t])^2)
 *   loss = policy loss + vf_coef * value loss
 * means over the valid response tokens of a minibatch (TRL's masked_mean).
 * Departures from TRL, on purpose: the value head is a scalar head on the
 * policy's own trunk (TRL < 0.12's AutoModelForCausalLMWithValueHead; TRL's
 * later PPOTrainer keeps a separate value model), and the value past the
 * last token is 0 (TRL's padding mask lets one padding value through).
 *
 * Responses are sampled from the policy itself (temperature 1, no top-k or
 * top-p), so the log-probs of the loss are the sampling distribution's.
 *
 * Per-token arrays are [n, R]: sequence i's response tokens t < len[i] <= R,
 * the rest padding (ignored, written 0). */
#ifndef ALAB_RL_H
#define ALAB_RL_H
#include <stdint.h>
#include "alab/bon.h"
#include "alab/model.h"
#include "alab/tok.h"
#include "alab/train.h"

/* ---- the math (src/align/rl_math.c) ---- */
/* kl[i,t] = lp - ref_lp; rewards[i,t] = -beta * kl[i,t], plus score[i] at
 * t = len[i] - 1. */
void al_rl_kl_rewards(const float *lp, const float *ref_lp, const float *score, const int *len, int n, int R,
                      float beta, float *kl, float *rewards);
/* GAE over each response: adv and ret (= adv + values), [n, R]. */
void al_rl_gae(const float *rewards, const float *values, const int *len, int n, int R, float gamma, float lam,
               float *adv, float *ret);
/* In place over the valid tokens: (x - mean) / sqrt(var + 1e-8), var the
 * unbiased variance (n - 1); shift_mean 0 adds the mean back (TRL's
 * whiten(shift_mean=False)). Fewer than 2 valid tokens: left alone. */
void al_rl_whiten(float *x, const int *len, int n, int R, int shift_mean);
/* RLOO's advantages of nprompts groups of k (k >= 2) sequences, prompt-major
 * (sequence p*k + j): adv[i] = R[i] - (sum of the group's others) / (k - 1). */
void al_rloo_advantages(const float *rlhf_reward, int nprompts, int k, float *adv);

/* What the losses log (TRL's policy/approxkl_avg = 0.5 mean (logp - logp_old)^2,
 * policy/clipfrac_avg, val/clipfrac_avg, val/vpred, val/error). */
typedef struct {
  double approxkl, clipfrac, vf_clipfrac, vpred, verror;
} al_rl_stats;
/* PPO's clipped policy loss over [n, R] (adv per token) and dlp[i,t] =
 * d loss / d lp[i,t] (0 on padding). Where the clipped term is the larger
 * (the ratio out of range on the side the advantage pushes), the gradient is 0. */
double al_ppo_policy_loss(const float *lp, const float *old_lp, const float *adv, const int *len, int n, int R,
                          float clip, float *dlp, al_rl_stats *st);
/* PPO's clipped value loss (the 0.5 included) and dv = d loss / d v. */
double al_ppo_value_loss(const float *v, const float *old_v, const float *ret, const int *len, int n, int R,
                         float clip_v, float *dv, al_rl_stats *st);
/* RLOO's loss over n sequences (adv per sequence) and dlp[i,t] =
 * d loss / d lp[i,t], the same for every token of a sequence. */
double al_rloo_loss(const float *lp, const float *old_lp, const float *adv, const int *len, int n, int R, float clip,
                    float *dlp, al_rl_stats *st);

/* Response tokens in rows of a batch: row b holds the prompt and then the
 * response, whose token t is inputs[b*T + start[b] + t] (t < len[b]),
 * predicted by the logits row start[b] + t - 1. lp[b,t] = its log-prob
 * under softmax(logits), ent[b,t] (may be NULL) the entropy of that row. */
void al_rl_token_logprobs(const float *logits, const int32_t *inputs, const int *start, const int *len, int B, int T,
                          int V, int R, float *lp, float *ent);
/* In place: logits becomes d loss / d logits given dlp [B, R]:
 * dlp * (onehot - softmax) on the rows that predict response tokens, 0 on
 * every other row. */
/* In place: on the rows that predict response tokens t < min(len[b], upto), token tok's logit becomes
 * AL_MASKED_LOGIT (then al_rl_token_logprobs and its backward are the renormalised distribution's). */
void al_rl_mask_logits(float *logits, const int *start, const int *len, int B, int T, int V, int tok, int upto);
void al_rl_token_logprobs_backward(float *logits, const int32_t *inputs, const int *start, const int *len,
                                   const float *dlp, int B, int T, int V, int R);
/* Values at the same rows: v[b,t] = values[b*T + start[b] + t - 1]; and the
 * gradient back: dvalues [B*T] zeroed, then dvalues[b*T + start[b] + t - 1] = dv[b,t]. */
void al_rl_gather_values(const float *values, const int *start, const int *len, int B, int T, int R, float *v);
void al_rl_scatter_values(const float *dv, const int *start, const int *len, int B, int T, int R, float *dvalues);

/* ---- RL through the training loop (src/align/rl_objective.c) ---- */
enum { AL_RL_RLOO = 0, AL_RL_PPO = 1 };
typedef struct {
  int algo;              /* AL_RL_RLOO or AL_RL_PPO */
  int prompts_per_iter;  /* P: prompts per batch of rollouts */
  int k;                 /* samples per prompt (RLOO: >= 2) */
  int max_new;           /* response tokens at most (R) */
  int epochs, minibatches; /* per batch of rollouts: epochs x minibatches optimizer steps (P*k divisible by minibatches) */
  double beta_kl, clip, clip_v, vf_coef, gamma, lam;
  int whiten_adv;        /* PPO: whiten advantages (TRL: always); RLOO: normalize_advantage (TRL default off) */
  uint64_t seed;         /* prompt order and every sample's random stream */
  int min_new;           /* 0 (default), or: the end-of-text is never one of a response's first min_new tokens:
                          * its logit is masked (AL_MASKED_LOGIT) in sampling and in every log-prob (policy, old,
                          * reference), so the policy trained is the one sampled (HF's min_new_tokens, without
                          * TRL's mismatch of sampling masked and scoring unmasked) */
  const al_bon_scorer *probe; /* NULL (default), or any other function of prompt + response: its mean per
                               * batch goes to al_rl_log.probe (not a trainer metric, no effect on training) */
} al_rl_cfg;
/* The library's defaults: TRL's PPOConfig for PPO; for RLOO one epoch of one minibatch (REINFORCE with the
 * leave-one-out baseline, as TRL's RLOO documentation describes it), which alab overopt's RL curve and alab
 * sycophancy's RL were measured with, so it stays. `alab rl` (the tool and its experiment) takes TRL's
 * RLOOConfig (v0.11-0.19): num_ppo_epochs 4, AL_RLOO_TRL_EPOCHS. */
enum { AL_RLOO_TRL_EPOCHS = 4 };
void al_rl_defaults(al_rl_cfg *c, int algo);
/* Optimizer steps per batch of rollouts (epochs x minibatches). */
int al_rl_steps_per_iter(const al_rl_cfg *c);

/* The RL objective: optimizer step s belongs to batch of rollouts
 * it = s / steps_per_iter; its first step samples that batch from the
 * current policy m (P prompts from a permutation of the prompt set per pass,
 * drawn from seed; sample j of prompt slot q from the random stream
 * (seed, it * P + q), al_bon_sample's batched decoding), scores each
 * prompt + response with the reward (and gold, for logging), computes
 * log-probs (old, reference), values, rewards and advantages; the steps
 * then run epochs x minibatches of the loss above. Exact resume: a
 * checkpoint is only valid at a batch boundary (load_state refuses another;
 * ckpt_every must be a multiple of the steps per batch), where the batch is a
 * function of (params, seed, it) alone. PPO needs m with the scalar head
 * (the value head); ref (frozen, same vocabulary) and the scorers outlive the
 * objective. Metrics (TRL's names): objective/kl, objective/entropy,
 * objective/non_score_reward, objective/scores, objective/rlhf_reward,
 * objective/gold (NAN without gold), policy/approxkl_avg, policy/clipfrac_avg,
 * loss/policy_avg, loss/value_avg, val/clipfrac_avg, val/vpred, val/error,
 * rollout_tokens (a count). */
typedef struct {
  const al_rl_cfg *rl;
  al_model *ref;                /* frozen: only its forward runs */
  const al_tok *tok;            /* the policy's tokenizer: prompts and responses */
  const char *const *prompts;
  int nprompts;
  const al_bon_scorer *reward;  /* a reward model or an exact function */
  const al_bon_scorer *gold;    /* may be NULL */
} al_rl_setup;
int al_objective_rl(al_objective *o, const al_model *m, const al_train_cfg *cfg, const al_rl_setup *s, al_err *err);
/* What an RL objective measured so far (this process's batches only). */
typedef struct {
  double rollout_s, update_s, sample_s; /* generating a batch (sampling, scoring, old/ref passes); the updates; sampling alone */
  long tokens;                          /* response tokens sampled */
  long nbatches;                        /* batches of rollouts sampled */
  long *batch;                          /* each one's index */
  double *kl, *scores, *gold;           /* each one's objective/kl, objective/scores, objective/gold */
  double *len;                          /* each one's mean response tokens (the end-of-text included when sampled) */
  double *probe;                        /* each one's mean of the setup's probe (NAN without one) */
} al_rl_log;
/* A copy of the objective's log (free with al_rl_log_free). */
void al_rl_log_get(const al_objective *o, al_rl_log *log);
void al_rl_log_free(al_rl_log *log);

/* ---- a whole run (src/align/rl_run.c) ----
 * Trains a copy of policy (PPO: with a value head, score.weight drawn by
 * seed as al_rm_from_lm does) against s for iters batches of rollouts,
 * through al_train_objective with tc's optimiser settings (lr, schedule,
 * clipping, AdamW; batch, seq_len, steps and grad_accum are set here). With
 * out_dir: the loop's run directory is out_dir/trainer (metrics.jsonl,
 * trainer_state.safetensors, the policy with its value head; checkpoints
 * every ckpt_iters batches, tc->resume continues a killed run exactly), and
 * out_dir gets the trained policy as a language model directory (no value
 * head) with tok. On success policy holds the trained weights. */
typedef struct {
  long iters;
  int ckpt_iters; /* 0: only at the end */
} al_rl_run_cfg;
int al_rl_train(al_model *policy, const al_rl_setup *s, const al_train_cfg *tc, const al_rl_run_cfg *rc,
                const char *out_dir, al_train_result *res, al_rl_log *log, al_err *err);
#endif

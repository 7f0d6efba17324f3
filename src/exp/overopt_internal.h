/* Shared by the files of `alab overopt` (src/exp/overopt*.c). */
#ifndef ALAB_EXP_OVEROPT_INTERNAL_H
#define ALAB_EXP_OVEROPT_INTERNAL_H
#include "alab/model.h"
#include "alab/overopt.h"
#include "alab/tok.h"
#include "alab/train.h"

/* Stories sampled from the policy, with their gold rewards. */
typedef struct {
  int n;
  char **text;   /* decoded, without the end-of-text token; an empty one is " " */
  double *gold;
  long tokens;   /* sampled, end-of-text tokens included */
  int complete;  /* how many parse as stories */
} ov_samples;

/* n stories after <|endoftext|>, sample i from al_rng_seed_stream(seed, i)
 * (al_bon_sample), at most max_new tokens each. */
int ov_sample(const al_model *policy, const al_tok *tok, int n, int max_new, double temperature, uint64_t seed,
              ov_samples *out, al_err *err);
void ov_samples_free(ov_samples *s);

/* One proxy of one seed. */
typedef struct {
  const al_overopt_cfg *c;
  const al_model *policy;
  const al_tok *tok;
  const ov_samples *pairs; /* the seed's comparison samples */
  int layers, npairs;
  uint64_t label_seed, init_seed, order_seed;
} ov_job;

/* Trains the job's proxy into rm (allocated here; freed on failure). */
int ov_train_proxy(const ov_job *j, al_model *rm, al_train_result *tr, al_err *err);
/* What a proxy picks: over the N / 16 samples it scores highest (at
 * least one), the share that are stories of the world (gold > -0.5) and
 * that are "share" stories (gold > 0.5: a story's second term is in about
 * [-0.1, 0]); over all N, the same shares (the policy's). */
typedef struct {
  double top_story, top_share, pool_story, pool_share;
} ov_picks;
/* Best-of-n of the proxy rm on the samples s for n = ns[0..nn) (ns[0] = 1):
 * the expected gold and proxy reward of the pick minus their values at
 * n = 1, the share of sample pairs the proxy orders as gold does, and what
 * it picks. */
int ov_bon_curve(al_model *rm, const al_tok *tok, const ov_samples *s, const int *ns, int nn, double *gold_gain,
                 double *proxy_gain, double *agreement, ov_picks *picks, al_err *err);
/* RL (RLOO, include/alab/rl.h) from the policy against the proxy rm for
 * c->rl_iters batches of rollouts, random streams from seed; the curve's
 * ov_rl_points(c) points: point 0 is the initial policy (d = 0, gains 0;
 * its rewards measured on 16 batches' worth of its samples and batch 0),
 * then windows of doubling length (ov_rl_span); d[k] = sqrt(KL to the
 * initial policy) and the gold and proxy gains over the start, whose mean
 * gold goes to *start_gold; resp_tokens[k]: point k's mean response tokens
 * (al_rl_log.len; the start's from its samples and batch 0). */
int ov_rl_points(const al_overopt_cfg *c);
/* Point k's batches [*a, *b). */
void ov_rl_span(const al_overopt_cfg *c, int k, long *a, long *b);
int ov_rl_curve(const ov_job *j, al_model *rm, uint64_t seed, double *d, double *gold_gain, double *proxy_gain,
                double *start_gold, double *resp_tokens, al_err *err);
/* The whole run's state. */
typedef struct {
  const al_overopt_cfg *c;
  al_model policy;
  al_tok *tok;
  ov_samples *pairs, *bon; /* [seeds] */
  int nn, *ns;             /* n = 1, 2, 4, ..., N */
  al_overopt_curve *curves; /* [proxies]: best-of-n's, then (with RL) RL's [proxies] */
  int ncurves;
  char **names;
  double *agree, *rm_loss, *secs; /* [proxy * seeds + s] */
  double *rl_start_gold, *rl_secs; /* with RL: [proxy * seeds + s] */
  double *rl_tokens;               /* with RL: [(proxy * seeds + s) * points + k], response tokens */
  ov_picks *picks;                 /* [proxy * seeds + s] */
  int quiet;                      /* the caller's thread was muted: no per-job lines */
  double t0;
} ov_world;

/* proxies in the grid: sizes x comparison counts */
int ov_nproxies(const al_overopt_cfg *c);
/* results.json of a finished run (src/exp/overopt_results.c): the policy's
 * samples (info), every curve, the headline. */
json_t *ov_results_json(ov_world *w, json_t *info, double secs);
/* {"mean", "sd", "lo", "hi", "seeds": [...]} of x[0..n): the 95% t-interval
 * over seeds (src/exp/overopt_fit.c). */
json_t *ov_stat_json(const double *x, int n);
/* The labels' information (src/exp/overopt_labels.c): over comparisons k <
 * npairs of s (sample 2k against 2k+1), the Bradley-Terry loss and label
 * accuracy of the exact preference probability (the best any proxy can
 * reach on these labels) and the share with a gold difference >= 0.5. */
void ov_label_ceiling(const ov_samples *s, int npairs, double scale, double *bayes_loss, double *bayes_acc,
                      double *wide);
/* {"P<count>": {"bayes_loss", "bayes_accuracy", "wide_share"}} over seeds
 * for each comparison count of c. */
json_t *ov_labels_json(const al_overopt_cfg *c, const ov_samples *pairs);
#endif

/* Best-of-n: draw n responses from a policy, keep the one a (proxy) reward
 * model scores highest. From N samples of one prompt, scored by the proxy
 * and by a gold reward, the expected gold (and proxy) reward of the pick is
 * estimated for every n <= N without resampling, as the exact mean over all
 * C(N, n) subsets of size n:
 *   sort the samples by proxy, ascending (rank i = 1..N); the sample of rank
 *   i is the best of a uniformly random n-subset with probability
 *     w_i = C(i-1, n-1) / C(N, n)
 *   (the subset holds it and n-1 of the i-1 below it), so
 *     E[gold of the pick] = sum_i w_i gold_(i).
 * Samples with tied proxy scores share the mean gold of their tie (the pick
 * among ties is uniform). This is unbiased for the best-of-n of the policy
 * itself (the N samples being i.i.d. draws of it), with lower variance than
 * resampling subsets.
 *
 * KL(best-of-n || policy) = log n - (n-1)/n for a policy whose proxy scores
 * have no ties (a continuous distribution); a categorical policy's is at
 * most that, the gap closing as its largest probability shrinks (Beirami et
 * al. 2024). */
#ifndef ALAB_BON_H
#define ALAB_BON_H
#include "alab/base.h"
#include "alab/model.h"

/* The expected gold and proxy reward of the best of n (1 <= n <= N) among
 * proxy[0..N), gold[0..N) (gold may be NULL: only *e_proxy). Fails on n
 * outside [1, N] or a non-finite score, naming it. */
int al_bon_estimate(const double *proxy, const double *gold, int N, int n, double *e_gold, double *e_proxy,
                    al_err *err);
/* The weights w_i above, for ranks i = 1..N ascending, into w[0..N). */
int al_bon_weights(int N, int n, double *w, al_err *err);
/* log n - (n-1)/n; NAN for n < 1 */
double al_bon_kl(int n);

/* N responses to one prompt from a policy, decoded in groups of up to 8
 * that step together (al_decoder_step_many: each weight matrix read once per
 * group). Sample i draws from al_rng_seed_stream(seed, i) exactly as
 * al_generate would with that generator, so the responses do not depend on
 * the grouping. A response ends after stop_token (kept), at max_new tokens,
 * or at the context's end. out holds N rows of max_new tokens (row i's first
 * lens[i] are its response). */
int al_bon_sample(const al_model *policy, const int32_t *prompt, int np, int N, int max_new, const al_sample_cfg *s,
                  uint64_t seed, int stop_token, int32_t *out, int *lens, al_err *err);
/* The same with stop_token never sampled as one of a response's first
 * min_new tokens: its logit there is AL_MASKED_LOGIT, so the distribution is
 * renormalised over the other tokens (HF's min_new_tokens). min_new 0: al_bon_sample. */
#define AL_MASKED_LOGIT (-1e30f)
int al_bon_sample_min(const al_model *policy, const int32_t *prompt, int np, int N, int max_new, int min_new,
                      const al_sample_cfg *s, uint64_t seed, int stop_token, int32_t *out, int *lens, al_err *err);

/* Best-of-n over prompts: for each prompt, N responses from the policy
 * (al_bon_sample; the end-of-text token ends one and is not scored), each
 * prompt + response scored by the proxy reward model and, when given, a gold
 * one (gold may be NULL); then the estimates above for n = 1, 2, 4, ... and N, averaged over
 * prompts with 95% t-intervals. */
struct al_tok;
typedef struct {
  const char *const *prompts;
  int nprompts;
  int N, max_new;
  al_sample_cfg sample;
  uint64_t seed; /* prompt p's samples use seed + p */
} al_bon_cfg;
typedef struct {
  int nn;              /* how many n */
  int *n;              /* 1, 2, 4, ..., N */
  double *kl;          /* log n - (n-1)/n */
  al_stat *proxy, *gold; /* over prompts; gold NULL without a gold model */
  long tokens;         /* response tokens sampled */
  double sample_s, score_s; /* seconds sampling and scoring */
} al_bon_result;
typedef struct {
  al_model *m;               /* a reward model (scalar head) */
  const struct al_tok *tok;  /* its own tokenizer: it scores text */
  double (*fn)(const char *text, size_t len); /* instead of m: an exact reward (al_gold_story) */
} al_bon_scorer;
int al_bon_run(const al_model *policy, const struct al_tok *tok, const al_bon_scorer *proxy, const al_bon_scorer *gold,
               const al_bon_cfg *c, al_bon_result *r, al_err *err);
void al_bon_result_free(al_bon_result *r);
#endif

/* Feature scores of a compositional preference model from any language
 * model (a provider: alab's engine or an OpenAI-compatible endpoint, with
 * its response cache, concurrency and retries).
 *
 * A feature is a name and a prompt template; "{context}" and "{response}"
 * in the template are replaced by the conversation before the response and
 * the response (any other text is kept). The paper's 13 features ship as
 * data/cpm_features.json:
 *   {"about": "...", "features": [{"name": "helpfulness", "prompt": "..."}, ...]}
 *
 * A score is read from the first generated token's top log-probs when the
 * endpoint gives them (chat: logprobs + top_logprobs; completions:
 * logprobs): among them, the tokens whose text, spaces trimmed, is "1".."10",
 *   expected score = sum_k k p_k / sum_k p_k,   p_k = exp(logprob of "k");
 * otherwise (no score token among them, or no log-probs) from the reply's
 * text by al_cpm_parse_score (the greedy score). Which of the two was used
 * is recorded per score. A tokenizer that writes "10" as "1" + "0" makes the
 * first token "1" for both: such an endpoint's expected score undercounts
 * 10 (use_logprobs 0 avoids it). A reply that cannot be read is rejected:
 * its score is NAN, counted, and the first reason kept. */
#ifndef ALAB_CPM_FEATURES_H
#define ALAB_CPM_FEATURES_H
#include "alab/provider.h"

typedef struct {
  char *name, *prompt;
} al_cpm_feature;
typedef struct {
  al_cpm_feature *f;
  int n;
} al_cpm_feature_set;

/* Reads the file above; errors name the file, the feature's index and field
 * (a missing or non-string name or prompt, a duplicate name, a prompt
 * without {response}, no features). */
int al_cpm_features_load(const char *path, al_cpm_feature_set *out, al_err *err);
int al_cpm_features_parse(const char *text, size_t len, const char *where, al_cpm_feature_set *out, al_err *err);
void al_cpm_features_free(al_cpm_feature_set *s);

/* The expected score above from top[0..n); -1 when no score token is among them. */
int al_cpm_expected_score(const al_top_lp *top, int n, double *score);

typedef struct {
  al_provider *p; /* borrowed */
  int chat;       /* send each prompt as one user message (else a completion) */
  int use_logprobs; /* 1: ask for the first token's top log-probs (20) */
  int max_tokens;   /* 8 */
} al_cpm_extract_cfg;
al_cpm_extract_cfg al_cpm_extract_defaults(al_provider *p);

enum { AL_CPM_REJECTED = -1, AL_CPM_GREEDY = 0, AL_CPM_EXPECTED = 1 };
typedef struct {
  long scores, greedy, expected, rejected;
  char first_rejection[256]; /* "response 3, feature 'helpfulness': the reply is empty" */
} al_cpm_extract_stats;

/* Scores responses resp[0..n) (after contexts ctx[i]) on every feature:
 * scores[i * F->n + k] (NAN when rejected), method[i * F->n + k] one of
 * AL_CPM_*. Fails only when the provider stops (fail-fast). */
int al_cpm_extract(const al_cpm_extract_cfg *c, const al_cpm_feature_set *F, const char *const *ctx,
                   const char *const *resp, int n, double *scores, signed char *method, al_cpm_extract_stats *st,
                   al_err *err);
#endif

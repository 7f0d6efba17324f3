/* Internal to the language-model part of `alab collapse`
 * (src/exp/collapse_lm*.c): its settings, the real data, sampling whole
 * stories from a model, and what is measured about a set of stories. */
#ifndef ALAB_EXP_COLLAPSE_LM_H
#define ALAB_EXP_COLLAPSE_LM_H

#include "alab/collapse.h"
#include "alab/model.h"
#include "alab/tok.h"

/* The part's settings, resolved and checked (lm_cfg_of). */
typedef struct {
  const char *data;      /* "story" or a corpus path */
  int story;             /* 1: the built-in story world */
  const char *tokenizer; /* byte, bpe:N, or a directory */
  long tokens;           /* N */
  int gens, seeds, npol, policies[AL_NPOLICIES];
  uint64_t seed;
  al_model_config model;  /* vocab_size 0 until the tokenizer is known */
  int batch;
  double lr, epochs;
  long steps;            /* > 0: fixed steps per generation instead of epochs */
  double temperature;
  long heldout;          /* real held-out tokens */
  int max_story;         /* tokens per sampled story, at most */
} lm_cfg;

int lm_cfg_of(const al_collapse_cfg *c, lm_cfg *l, al_err *err);

/* Documents as one token array: doc0 EOT doc1 EOT ...; starts[i] is the
 * offset of document i (its EOT is at starts[i+1]-1, or n-1 for the last). */
typedef struct {
  int32_t *ids;
  size_t n, cap;
  size_t *starts;
  size_t ndocs, dcap;
} lm_docs;
/* Appends one document and its EOT. */
void lm_docs_add(lm_docs *d, const int32_t *ids, size_t n, int32_t eot);
void lm_docs_free(lm_docs *d);
/* Document i without its EOT. */
static inline const int32_t *lm_doc(const lm_docs *d, size_t i, size_t *len) {
  size_t end = i + 1 < d->ndocs ? d->starts[i + 1] : d->n;
  *len = end - d->starts[i] - 1;
  return d->ids + d->starts[i];
}
/* Whole documents of the pools picked at random without replacement until
 * they hold >= ntokens tokens (EOTs included), or all of them. */
void lm_docs_subsample(const lm_docs *const *pools, int npools, size_t ntokens, int32_t eot, al_rng *rng, lm_docs *out);

/* Samples whole documents from m at the given temperature: each starts after
 * an EOT and ends at the next EOT, or is cut at max_story tokens (counted in
 * *ncut). The model sees at most n_positions tokens: a document that outgrows
 * the context continues from its last n_positions/2 tokens (a sliding
 * window, as in training, whose windows start anywhere in the stream).
 * Document i draws from al_rng_seed_stream(seed, i), so the result does not
 * depend on threads. Stops once out holds >= ntokens tokens, EOTs included. */
int lm_sample(const al_model *m, int32_t eot, double temperature, int max_story, size_t ntokens, uint64_t seed,
              lm_docs *out, size_t *ncut, al_err *err);

/* What is measured about a set of documents (the samples of a generation, or
 * the real data as a reference). */
typedef struct {
  double distinct2, distinct4; /* distinct word n-grams / all word n-grams (within documents) */
  double words;                /* mean words per document (split on whitespace) */
  double valid;                /* fraction the story world's grammar accepts (NAN for a corpus) */
  double valid_logprob;        /* their mean exact log-probability, nats per story (NAN if none) */
  double bytes;                /* mean bytes per document */
} lm_stats;

/* Distinct word n-grams of the documents over all of them (n >= 1); the
 * ratio of distinct to total, 0 when there are none. */
double lm_distinct_ngrams(const char *const *docs, const size_t *lens, size_t ndocs, int n);
/* Decodes every document and measures it; story: score with the grammar. */
int lm_stats_of(const al_tok *tok, const lm_docs *d, int story, lm_stats *st, al_err *err);

/* What is measured for every (policy, generation, seed): the model's loss on
 * the real held-out data, and the statistics of its samples. */
enum {
  LM_TEST_TOKEN,   /* cross-entropy, nats per token */
  LM_TEST_BYTE,    /* the same per byte of held-out text */
  LM_EXCESS,       /* nats per byte above the story world's exact entropy of that text */
  LM_DISTINCT2,
  LM_DISTINCT4,
  LM_WORDS,
  LM_VALID,
  LM_VALID_LOGPROB,
  LM_CUT,          /* fraction of samples cut at max_story */
  LM_TRAIN_TOKENS, /* tokens the generation trained on (one epoch) */
  LM_NQ
};

typedef struct {
  double *vals;           /* [LM_NQ][npol][gens][seeds] (lm_val) */
  int vocab;              /* the tokenizer's */
  lm_stats real;          /* of seed 0's real training data */
  double real_tokens;     /* its token count */
  long heldout_docs;
  double heldout_tokens, heldout_bytes;
  double true_nats_per_byte; /* the story world's exact -log p of the held-out text per byte (NAN for a corpus) */
  double seconds;
} lm_result;

static inline double *lm_val(const lm_cfg *c, const lm_result *r, int q, int p, int gen, int seed) {
  return r->vals + (((size_t)q * c->npol + p) * c->gens + gen) * c->seeds + seed;
}

/* Runs every model of every seed (in parallel over seeds and policies, one
 * thread each) and fills r; writes one metrics line per model to run. */
int lm_run(const lm_cfg *c, al_run *run, lm_result *r, al_err *err);

#endif

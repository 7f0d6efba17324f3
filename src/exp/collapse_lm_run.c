/* The language-model part of `alab collapse`: the real data, one generation
 * (train a fresh model, measure it on the real held-out data, sample from
 * it), and the chains of generations of each seed and policy.
 *
 * Per seed s:
 *   generation 0   trains on R_s: N tokens of real documents, and samples
 *                  S_0 (N tokens of whole stories); shared by every policy
 *   generation k   trains a fresh model (same size, hyperparameters and
 *                  initial-weight seed for every policy) on
 *                    replace               S_{k-1}
 *                    accumulate            R_s, S_0, ..., S_{k-1}   (k+1)N tokens
 *                    accumulate-subsample  whole documents of those, drawn
 *                                          without replacement, N tokens
 *                  for the same number of epochs over its data (or fixed
 *                  steps), then samples S_k.
 * The samples' token ids are kept as the model produced them (the tokenizer
 * is shared, so no text round trip): the next generation trains on exactly
 * what the last one wrote. Everything a model sees is drawn from streams of
 * (seed, generation), so the policies share common random numbers and the
 * results do not depend on the thread count: models run in parallel, one
 * thread each (tiny models use one core better than two). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/data.h"
#include "alab/dataset.h"
#include "alab/json.h"
#include "alab/sweep.h"
#include "alab/synth.h"
#include "alab/train.h"
#include "exp/collapse_lm.h"

enum { TAG_REAL = 0x7265616c, TAG_HELD = 0x68656c64, TAG_INIT = 0x696e6974, TAG_ORDER = 0x6f726472,
       TAG_SAMPLE = 0x73616d70, TAG_SUB = 0x73756273 };

/* A seed for (what, seed index, generation). */
static uint64_t derive(uint64_t seed, uint64_t tag, int s, int gen) {
  al_rng r;
  al_rng_seed_stream(&r, seed ^ (tag << 16), (uint64_t)s * 4096 + (uint64_t)gen);
  return al_rng_u64(&r);
}

typedef struct {
  const lm_cfg *c;
  al_tok *tok;
  int32_t eot;
  lm_docs heldout;
  lm_docs *real; /* [seeds] */
  lm_docs *sample0; /* [seeds]: generation 0's samples */
  al_run *run;
  lm_result *r;
  int quiet, done, total;
  double t0;
} lm_world;

/* Appends story-world stories of stream `seed` (tokenized) to d until it
 * holds >= ntokens tokens; adds their exact -log p and bytes (separators
 * included) to *nll and *bytes when non-NULL. */
static int story_docs(const lm_world *w, uint64_t seed, size_t ntokens, lm_docs *d, double *nll, double *bytes,
                      al_err *err) {
  al_buf text = {0};
  int32_t *ids = NULL;
  size_t cap = 0;
  int rc = 0;
  for (uint64_t i = 0; d->n < ntokens; i++) {
    al_rng r;
    al_rng_seed_stream(&r, seed, i);
    double lp;
    text.len = 0;
    al_synth_story_gen(&r, &text, &lp);
    size_t n = 0;
    if (al_tok_encode(w->tok, text.data, text.len, 0, &ids, &n, &cap, err) < 0) {
      rc = -1;
      break;
    }
    lm_docs_add(d, ids, n, w->eot);
    if (nll) *nll -= lp;
    if (bytes) *bytes += (double)(text.len + strlen(AL_SYNTH_SEP));
  }
  free(ids);
  al_buf_free(&text);
  return rc;
}

/* Bytes of the documents' text, separators counted as strlen(AL_SYNTH_SEP). */
static int docs_bytes(const al_tok *tok, const lm_docs *d, double *bytes, al_err *err) {
  *bytes = 0;
  for (size_t i = 0; i < d->ndocs; i++) {
    size_t n, len;
    char *t;
    const int32_t *ids = lm_doc(d, i, &n);
    if (al_tok_decode(tok, ids, n, &t, &len, err)) return -1;
    free(t);
    *bytes += (double)(len + strlen(AL_SYNTH_SEP));
  }
  return 0;
}

/* A corpus: the last documents (>= heldout tokens) are held out; each seed's
 * real data is N tokens of whole documents drawn from the rest. */
static int corpus_world(lm_world *w, al_err *err) {
  const lm_cfg *c = w->c;
  int32_t *ids;
  size_t n;
  al_corpus_stats cs;
  al_corpus_opts co = {0}; /* text or JSONL by the file's name, field "text" */
  if (al_corpus_tokenize(c->data, &co, w->tok, &ids, &n, &cs, err)) return al_fail_prefix(err, "--lm-data");
  al_tokens v = al_tokens_int32(ids, n);
  size_t *starts, nd;
  al_doc_starts(&v, w->eot, &starts, &nd);
  size_t cut = nd;
  while (cut > 0 && n - starts[cut - 1] < (size_t)c->heldout) cut--;
  int rc = 0;
  if (cut <= 1) {
    rc = al_fail(err, "--lm-data %s: %zu tokens in %zu documents cannot hold out %ld tokens and keep training data", c->data,
                 n, nd, c->heldout);
  } else {
    cut--; /* documents [cut, nd) are held out */
    lm_docs pool = {0};
    for (size_t i = 0; i < nd; i++) {
      size_t end = i + 1 < nd ? starts[i + 1] : n, len = end - starts[i];
      if (len && ids[end - 1] == w->eot) len--;
      lm_docs_add(i < cut ? &pool : &w->heldout, ids + starts[i], len, w->eot);
    }
    if (pool.n < (size_t)c->tokens)
      rc = al_fail(err, "--lm-data %s: %zu tokens of training documents (after holding out %zu), but --lm-tokens asks for %ld",
                   c->data, pool.n, w->heldout.n, c->tokens);
    const lm_docs *pp = &pool;
    for (int s = 0; s < c->seeds && !rc; s++) {
      al_rng r;
      al_rng_seed(&r, derive(c->seed, TAG_REAL, s, 0));
      lm_docs_subsample(&pp, 1, (size_t)c->tokens, w->eot, &r, &w->real[s]);
    }
    lm_docs_free(&pool);
    if (!rc) rc = docs_bytes(w->tok, &w->heldout, &w->r->heldout_bytes, err);
    w->r->true_nats_per_byte = NAN;
  }
  free(starts);
  free(ids);
  return rc;
}

static int world_open(lm_world *w, al_err *err) {
  const lm_cfg *c = w->c;
  char spec[128];
  /* BPE on the story world learns from seed 0's real stories: about 4N bytes */
  snprintf(spec, sizeof spec, "story:%ld:%llu", c->tokens * 4 / 600 + 1,
           (unsigned long long)derive(c->seed, TAG_REAL, 0, 0));
  if (al_tokenizer_from_spec(&w->tok, c->tokenizer, c->story ? spec : c->data, err))
    return al_fail_prefix(err, "--lm-tokenizer %s", c->tokenizer);
  w->eot = al_tok_eot(w->tok);
  if (w->eot < 0) return al_fail(err, "--lm-tokenizer %s has no <|endoftext|> token", c->tokenizer);
  w->r->vocab = al_tok_vocab_size(w->tok);
  w->real = al_calloc((size_t)c->seeds, sizeof *w->real);
  w->sample0 = al_calloc((size_t)c->seeds, sizeof *w->sample0);
  if (c->story) {
    double nll = 0;
    if (story_docs(w, derive(c->seed, TAG_HELD, 0, 0), (size_t)c->heldout, &w->heldout, &nll, &w->r->heldout_bytes, err))
      return -1;
    w->r->true_nats_per_byte = nll / w->r->heldout_bytes;
    for (int s = 0; s < c->seeds; s++)
      if (story_docs(w, derive(c->seed, TAG_REAL, s, 0), (size_t)c->tokens, &w->real[s], NULL, NULL, err)) return -1;
  } else if (corpus_world(w, err)) {
    return -1;
  }
  w->r->heldout_docs = (long)w->heldout.ndocs;
  w->r->heldout_tokens = (double)w->heldout.n;
  w->r->real_tokens = (double)w->real[0].n;
  if ((w->heldout.n - 1) / (size_t)c->model.n_positions < 1)
    return al_fail(err, "--lm-heldout: %zu held-out tokens hold no window of %d", w->heldout.n, c->model.n_positions + 1);
  return lm_stats_of(w->tok, &w->real[0], c->story, &w->r->real, err);
}

static void world_close(lm_world *w) {
  for (int s = 0; w->real && s < w->c->seeds; s++) lm_docs_free(&w->real[s]), lm_docs_free(&w->sample0[s]);
  free(w->real);
  free(w->sample0);
  lm_docs_free(&w->heldout);
  al_tok_free(w->tok);
}

/* One generation of seed s: trains a fresh model on data[0..nd), measures it
 * on the held-out data and samples N tokens into out; records every
 * quantity at (policy index p, or all of them when p < 0, generation gen). */
static int generation(lm_world *w, int s, int p, int gen, const lm_docs *const *data, int nd, lm_docs *out, al_err *err) {
  const lm_cfg *c = w->c;
  double t0 = al_now();
  al_model_config mc = c->model;
  mc.vocab_size = w->r->vocab;
  al_model m = {0};
  if (al_model_init(&m, &mc, derive(c->seed, TAG_INIT, s, gen), err)) return -1;
  al_tokens views[64];
  size_t windows = 0, ntok = 0;
  for (int i = 0; i < nd; i++) {
    views[i] = al_tokens_int32(data[i]->ids, data[i]->n);
    windows += data[i]->n > 0 ? (data[i]->n - 1) / (size_t)mc.n_positions : 0;
    ntok += data[i]->n;
  }
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = c->batch;
  tc.seq_len = mc.n_positions;
  tc.steps = c->steps > 0 ? c->steps : (long)ceil(c->epochs * (double)windows / c->batch);
  if (tc.steps < 1) tc.steps = 1;
  tc.warmup_steps = tc.steps / 20 > 0 ? tc.steps / 20 : 1;
  tc.lr = c->lr;
  tc.eval_every = 0;
  tc.seed = derive(c->seed, TAG_ORDER, s, gen);
  tc.shuffle = AL_SHUFFLE_ALL; /* real and synthetic parts mixed, not one after another */
  tc.save_final = 0;
  tc.out_dir = NULL;
  al_train_result tr;
  int rc = al_train(&m, &tc, views, nd, NULL, 0, NULL, &tr, err);
  if (rc) al_fail_prefix(err, "seed %d generation %d", s, gen);
  double loss = NAN, t_eval = al_now(), t_sample = NAN, t_stats = NAN;
  size_t ncut = 0;
  lm_stats st;
  if (!rc) {
    al_tokens held = al_tokens_int32(w->heldout.ids, w->heldout.n);
    loss = al_eval_loss(&m, &held, 1, 1, mc.n_positions, 0);
    t_sample = al_now();
    rc = lm_sample(&m, w->eot, c->temperature, c->max_story, (size_t)c->tokens, derive(c->seed, TAG_SAMPLE, s, gen), out,
                   &ncut, err);
  }
  t_stats = al_now();
  if (!rc) rc = lm_stats_of(w->tok, out, c->story, &st, err);
  al_model_free(&m);
  if (rc) return -1;
  lm_result *r = w->r;
  double per_byte = loss * r->heldout_tokens / r->heldout_bytes;
  double q[LM_NQ] = {
      [LM_TEST_TOKEN] = loss, [LM_TEST_BYTE] = per_byte, [LM_EXCESS] = per_byte - r->true_nats_per_byte,
      [LM_DISTINCT2] = st.distinct2, [LM_DISTINCT4] = st.distinct4, [LM_WORDS] = st.words, [LM_VALID] = st.valid,
      [LM_VALID_LOGPROB] = st.valid_logprob, [LM_CUT] = out->ndocs ? (double)ncut / (double)out->ndocs : NAN,
      [LM_TRAIN_TOKENS] = (double)ntok,
  };
  for (int k = p < 0 ? 0 : p; k < (p < 0 ? c->npol : p + 1); k++)
    for (int i = 0; i < LM_NQ; i++) *lm_val(c, r, i, k, gen, s) = q[i];
  double secs = al_now() - t0;
  /* one metrics line per model, in the order they finish */
  static const char *const keys[LM_NQ] = {"test_nats_per_token", "test_nats_per_byte", "excess_nats_per_byte",
                                          "distinct_2", "distinct_4", "story_words", "valid_fraction",
                                          "valid_logprob", "cut_fraction", "train_tokens"};
#pragma omp critical(collapse_lm_report)
  {
    json_t *rec = json_pack("{s:s, s:i, s:s, s:i}", "part", "lm", "seed", s, "policy",
                            p < 0 ? "all" : al_policy_names[c->policies[p]], "generation", gen);
    for (int i = 0; i < LM_NQ; i++)
      json_object_set_new(rec, keys[i], al_json_real_or_null(q[i]));
    json_object_set_new(rec, "train_loss", al_json_real_or_null(tr.final_loss));
    json_object_set_new(rec, "steps", json_integer(tr.steps_done));
    json_object_set_new(rec, "tokens_per_s", json_real(tr.tokens_per_s));
    json_object_set_new(rec, "seconds", json_real(secs));
    /* where a model's time went: training (from the start), the held-out
     * loss, sampling the next generation's data, the samples' statistics */
    json_object_set_new(rec, "train_seconds", json_real(t_eval - t0));
    json_object_set_new(rec, "eval_seconds", json_real(t_sample - t_eval));
    json_object_set_new(rec, "sample_seconds", json_real(t_stats - t_sample));
    json_object_set_new(rec, "stats_seconds", json_real(t0 + secs - t_stats));
    if (al_run_metric(w->run, rec, err)) rc = -1;
    w->done++;
    if (!w->quiet)
      fprintf(stderr, "collapse lm: %d/%d models (%.0f s): seed %d %s generation %d: %ld steps in %.1f s, test %.4f nats/token\n",
              w->done, w->total, al_now() - w->t0, s, p < 0 ? "(shared)" : al_policy_names[c->policies[p]], gen,
              tr.steps_done, secs, loss);
  }
  return rc;
}

/* Generations 1.. of seed s under policy index p. */
static int chain(lm_world *w, int s, int p, al_err *err) {
  const lm_cfg *c = w->c;
  int policy = c->policies[p], rc = 0;
  lm_docs *syn = al_calloc((size_t)c->gens, sizeof *syn); /* S_1 .. S_{gens-1} (S_0 is shared) */
  const lm_docs **pool = al_calloc((size_t)c->gens + 1, sizeof *pool);
  lm_docs sub = {0};
  for (int k = 1; k < c->gens && !rc; k++) {
    const lm_docs *prev = k == 1 ? &w->sample0[s] : &syn[k - 1];
    int np = 0;
    pool[np++] = &w->real[s];
    pool[np++] = &w->sample0[s];
    for (int j = 1; j < k; j++) pool[np++] = &syn[j];
    if (policy == AL_POLICY_REPLACE) {
      rc = generation(w, s, p, k, &prev, 1, &syn[k], err);
    } else if (policy == AL_POLICY_ACCUMULATE) {
      rc = generation(w, s, p, k, pool, np, &syn[k], err);
    } else {
      al_rng r;
      al_rng_seed(&r, derive(c->seed, TAG_SUB, s, k));
      lm_docs_free(&sub);
      lm_docs_subsample(pool, np, (size_t)c->tokens, w->eot, &r, &sub);
      const lm_docs *one = &sub;
      rc = generation(w, s, p, k, &one, 1, &syn[k], err);
    }
    if (k >= 2 && policy == AL_POLICY_REPLACE) lm_docs_free(&syn[k - 1]); /* no longer needed */
  }
  for (int k = 0; k < c->gens; k++) lm_docs_free(&syn[k]);
  lm_docs_free(&sub);
  free(syn);
  free(pool);
  return rc;
}

int lm_run(const lm_cfg *c, al_run *run, lm_result *r, al_err *err) {
  memset(r, 0, sizeof *r);
  r->vals = al_malloc(sizeof(double) * LM_NQ * c->npol * c->gens * c->seeds);
  for (size_t i = 0; i < (size_t)LM_NQ * c->npol * c->gens * c->seeds; i++) r->vals[i] = NAN;
  lm_world w = {.c = c, .run = run, .r = r, .quiet = al_log_muted(), .t0 = al_now()};
  w.total = c->seeds * (1 + c->npol * (c->gens - 1));
  double t0 = al_now();
  int rc = world_open(&w, err);
  if (!rc && !w.quiet)
    fprintf(stderr, "collapse lm: %d models on %d threads; tokenizer %s (%d tokens), %zu real tokens per seed, %zu held out\n",
            w.total, al_get_threads(), c->tokenizer, r->vocab, w.real[0].n, w.heldout.n);
  int ns = c->seeds, nthreads = al_get_threads();
  int *rc0 = al_calloc((size_t)ns, sizeof *rc0), *rcc = al_calloc((size_t)ns * c->npol, sizeof *rcc);
  al_err *e0 = al_calloc((size_t)ns, sizeof *e0), *ec = al_calloc((size_t)ns * c->npol, sizeof *ec);
  char *dep = al_calloc((size_t)ns, 1);
  /* under mpirun each seed's models (generation 0 and every policy's chain) run on rank s mod R */
  al_sweep *sw = al_sweep_begin(ns, run);
  al_sweep_share(sw, r->vals, sizeof(double) * LM_NQ * c->npol * c->gens * c->seeds);
  /* The inner training loops' progress is muted on the worker running
   * each job (this part reports per model); the caller's thread and other
   * threads of the process are left as they are. */
  if (!rc) {
#pragma omp parallel num_threads(nthreads)
#pragma omp single
    {
      for (int s = 0; s < ns; s++) {
        if (!al_sweep_mine(sw, s)) continue;
#pragma omp task firstprivate(s) depend(out : dep[s])
        {
          omp_set_num_threads(1);
          int was = al_log_mute(1);
          const lm_docs *real = &w.real[s];
          rc0[s] = generation(&w, s, -1, 0, &real, 1, &w.sample0[s], &e0[s]);
          al_log_mute(was);
        }
      }
      /* the longest chains (accumulate's data grows) first */
      for (int pass = 0; pass < 2; pass++)
        for (int p = 0; p < c->npol; p++) {
          if ((c->policies[p] == AL_POLICY_ACCUMULATE) != (pass == 0)) continue;
          for (int s = 0; s < ns; s++) {
            if (!al_sweep_mine(sw, s)) continue;
#pragma omp task firstprivate(s, p) depend(in : dep[s])
            {
              omp_set_num_threads(1);
              int was = al_log_mute(1);
              if (!rc0[s]) rcc[s * c->npol + p] = chain(&w, s, p, &ec[s * c->npol + p]);
              al_log_mute(was);
            }
          }
        }
    }
  }
  for (int s = 0; s < ns && !rc; s++)
    if (rc0[s]) rc = -1, *err = e0[s];
  for (int k = 0; k < ns * c->npol && !rc; k++)
    if (rcc[k]) rc = -1, *err = ec[k];
  rc = al_sweep_end(sw, rc, err);
  free(rc0), free(rcc), free(e0), free(ec), free(dep);
  world_close(&w);
  r->seconds = al_now() - t0;
  if (rc) {
    free(r->vals);
    r->vals = NULL;
  }
  return rc;
}

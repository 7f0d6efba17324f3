/* The language-model part of `alab collapse`: settings, config.json,
 * results.json, metrics lines, plots and headline (the models themselves:
 * src/exp/collapse_lm_run.c).
 *
 * Measured per generation on the same real held-out data:
 *   test cross-entropy  nats per token, and per byte = nats/token x held-out
 *                       tokens / held-out bytes (separators counted as
 *                       strlen("<|endoftext|>") bytes, as the story world
 *                       counts them)
 *   excess              nats per byte above the story world's exact entropy
 *                       of the same text (sum of -log p of its stories under
 *                       the grammar / its bytes): how far the model is from
 *                       the truth
 * and of each generation's N tokens of samples: distinct word 2- and 4-grams
 * (distinct / all), mean words per story, and in the story world the
 * fraction of stories the grammar accepts and their mean exact log-prob.
 * Each quantity: mean and 95% t-interval over seeds per generation. The
 * change from generation 0 to the last is also reported paired by seed
 * (the policies share generation 0 and every random stream). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "alab/json.h"
#include "exp/collapse_lm.h"

#define LM_DEFAULT_SEEDS 3
#define LM_MAX_GENS 50

int lm_cfg_of(const al_collapse_cfg *c, lm_cfg *l, al_err *err) {
  memset(l, 0, sizeof *l);
  l->data = c->lm_data ? c->lm_data : "story";
  l->story = !strcmp(l->data, "story");
  l->tokenizer = c->lm_tokenizer ? c->lm_tokenizer : "bpe:512";
  l->tokens = (long)c->lm_tokens;
  l->gens = c->lm_gens;
  l->seeds = c->seeds > 0 ? c->seeds : LM_DEFAULT_SEEDS;
  l->seed = (uint64_t)c->seed;
  l->model = (al_model_config){.vocab_size = 0, .n_positions = c->lm_context, .n_layer = c->lm_layers,
                              .n_head = c->lm_heads, .n_embd = c->lm_embd};
  if (al_model_config_set_arch(&l->model, c->arch, err)) return -1;
  l->batch = c->lm_batch;
  l->lr = c->lm_lr;
  l->epochs = c->lm_epochs;
  l->steps = (long)c->lm_steps;
  l->temperature = c->lm_temperature;
  l->heldout = (long)c->lm_heldout;
  l->max_story = c->lm_max_story;
  if ((l->npol = al_parse_policies(c->policies, l->policies, err)) < 0) return -1;
  if (c->seeds == 1) return al_fail(err, "lm: seeds=1: need at least 2 seeds for a confidence interval");
  if (c->lm_tokens < 1 || c->lm_tokens > (1LL << 28))
    return al_fail(err, "--lm-tokens %lld: must be in [1, 2^28] (tokens per generation)", (long long)c->lm_tokens);
  if (l->gens < 2 || l->gens > LM_MAX_GENS)
    return al_fail(err, "--lm-gens %d: need 2 to %d generations (generation 0 and at least one more)", l->gens, LM_MAX_GENS);
  if ((long long)c->lm_tokens * l->gens > (1LL << 28))
    return al_fail(err, "--lm-tokens %lld x --lm-gens %d: accumulate's last generation would hold more than 2^28 tokens",
                   (long long)c->lm_tokens, l->gens);
  if (l->model.n_layer < 1 || l->model.n_head < 1 || l->model.n_embd < 1 || l->model.n_embd % l->model.n_head)
    return al_fail(err, "--lm-layers %d, --lm-heads %d, --lm-embd %d: need positive sizes with lm-embd divisible by lm-heads",
                   l->model.n_layer, l->model.n_head, l->model.n_embd);
  if (l->model.n_embd > 4096 || l->model.n_layer > 64)
    return al_fail(err, "--lm-embd %d / --lm-layers %d: too large for this experiment (at most 4096 / 64)", l->model.n_embd,
                   l->model.n_layer);
  if (l->model.n_positions < 8 || l->model.n_positions > 4096)
    return al_fail(err, "--lm-context %d: must be in [8, 4096]", l->model.n_positions);
  if (l->batch < 1 || l->batch > 4096) return al_fail(err, "--lm-batch %d: must be in [1, 4096]", l->batch);
  if (!(l->lr > 0 && l->lr < 1)) return al_fail(err, "--lm-lr %g: must be in (0, 1)", l->lr);
  if (l->steps < 0) return al_fail(err, "--lm-steps %ld: must be >= 0 (0: train --lm-epochs passes instead)", l->steps);
  if (!l->steps && !(l->epochs > 0 && l->epochs <= 1000))
    return al_fail(err, "--lm-epochs %g: must be in (0, 1000]", l->epochs);
  if (!(l->temperature > 0 && l->temperature <= 10))
    return al_fail(err, "--lm-temperature %g: must be in (0, 10] (1 samples the model's own distribution)", l->temperature);
  if (l->heldout <= l->model.n_positions || l->heldout > (1L << 26))
    return al_fail(err, "--lm-heldout %ld: need more than one context (%d) of held-out tokens, at most 2^26",
                   l->heldout, l->model.n_positions);
  if (l->max_story < 1 || l->max_story > (1 << 20)) return al_fail(err, "--lm-max-story %d: must be in [1, 2^20]", l->max_story);
  /* the tokenizer spec: byte, bpe:N or a directory holding tokenizer files */
  const char *t = l->tokenizer;
  if (!strncmp(t, "bpe:", 4)) {
    char *end;
    long v = strtol(t + 4, &end, 10);
    if (*end || end == t + 4 || v < 257 || v > 65536)
      return al_fail(err, "--lm-tokenizer '%s': expected bpe:N with 257 <= N <= 65536", t);
  } else if (strcmp(t, "byte")) {
    struct stat sb;
    if (stat(t, &sb) || !S_ISDIR(sb.st_mode))
      return al_fail(err, "--lm-tokenizer '%s': not byte, bpe:N, or a directory holding tokenizer files", t);
  }
  if (!l->story) {
    struct stat sb;
    if (stat(l->data, &sb) || !S_ISREG(sb.st_mode))
      return al_fail(err, "--lm-data '%s': not 'story' (the built-in story world) nor a readable corpus file", l->data);
  }
  return 0;
}

int al_collapse_lm_resolve(const al_collapse_cfg *c, json_t *config, al_err *err) {
  lm_cfg l;
  if (lm_cfg_of(c, &l, err)) return -1;
  json_t *pol = json_array();
  for (int i = 0; i < l.npol; i++) json_array_append_new(pol, json_string(al_policy_names[l.policies[i]]));
  json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:i, s:I, s:o}", "data", l.data, "tokenizer", l.tokenizer, "tokens",
                        (json_int_t)l.tokens, "generations", l.gens, "seeds", l.seeds, "seed", (json_int_t)l.seed,
                        "policies", pol);
  json_object_set_new(o, "model", json_pack("{s:s, s:i, s:i, s:i, s:i}", "architecture", l.model.arch, "n_layer", l.model.n_layer,
                                            "n_head", l.model.n_head, "n_embd", l.model.n_embd, "n_positions",
                                            l.model.n_positions));
  json_object_set_new(o, "train",
                      json_pack("{s:i, s:i, s:f, s:o, s:o, s:s}", "batch", l.batch, "seq_len", l.model.n_positions, "lr",
                                l.lr, "epochs", l.steps ? json_null() : json_real(l.epochs), "steps",
                                l.steps ? json_integer(l.steps) : json_null(), "schedule",
                                "AdamW (0.9, 0.95, wd 0.1 on matrices), clip 1, warmup steps/20, cosine to lr/10"));
  json_object_set_new(o, "sample", json_pack("{s:f, s:i, s:s}", "temperature", l.temperature, "max_story_tokens",
                                             l.max_story, "prompt", "<|endoftext|>; whole stories to the next one"));
  json_object_set_new(o, "heldout_tokens", json_integer(l.heldout));
  json_object_set_new(config, "lm", o);
  return 0;
}

/* The quantities of results.json; those with a plot get lm_<plot>.svg. */
static const struct {
  const char *key, *plot, *title, *ylabel;
  int story_only;
} Q[LM_NQ] = {
    [LM_TEST_TOKEN] = {"test_nats_per_token", "test_loss", "test cross-entropy on real held-out data", "nats per token", 0},
    [LM_TEST_BYTE] = {"test_nats_per_byte", NULL, NULL, NULL, 0},
    [LM_EXCESS] = {"excess_nats_per_byte", "excess", "test loss above the exact entropy",
                   "excess nats per byte", 1},
    [LM_DISTINCT2] = {"distinct_2", NULL, NULL, NULL, 0},
    [LM_DISTINCT4] = {"distinct_4", "distinct4", "distinct word 4-grams of samples", "distinct-4", 0},
    [LM_WORDS] = {"story_words", "story_words", "mean words per sampled story", "words", 0},
    [LM_VALID] = {"valid_fraction", "valid", "samples the grammar accepts", "fraction", 1},
    [LM_VALID_LOGPROB] = {"valid_logprob", NULL, NULL, NULL, 1},
    [LM_CUT] = {"cut_fraction", NULL, NULL, NULL, 0},
    [LM_TRAIN_TOKENS] = {"train_tokens", NULL, NULL, NULL, 0},
};

/* The reference level of a quantity (the real data's), NAN if none. */
static double reference(const lm_result *r, int q) {
  switch (q) {
  case LM_TEST_TOKEN: return r->true_nats_per_byte * r->heldout_bytes / r->heldout_tokens;
  case LM_TEST_BYTE: return r->true_nats_per_byte;
  case LM_EXCESS: return 0;
  case LM_DISTINCT2: return r->real.distinct2;
  case LM_DISTINCT4: return r->real.distinct4;
  case LM_WORDS: return r->real.words;
  case LM_VALID: return r->real.valid;
  case LM_VALID_LOGPROB: return r->real.valid_logprob;
  default: return NAN;
  }
}


/* {"replace": [per-generation stats], ...} with "generation" (from 0) in place of "iter". */
static json_t *series_json(const lm_cfg *c, const al_series_stats *st) {
  json_t *o = al_collapse_series_json(c->policies, c->npol, st);
  for (int p = 0; p < c->npol; p++) {
    json_t *arr = json_object_get(o, al_policy_names[c->policies[p]]);
    for (size_t g = 0; g < json_array_size(arr); g++) {
      json_t *e = json_array_get(arr, g);
      json_object_del(e, "iter");
      json_object_del(e, "closed_form");
      json_object_set_new(e, "generation", json_integer((json_int_t)g));
    }
  }
  return o;
}

/* The change last - first generation, paired by seed. */
static al_stat change(const lm_cfg *c, const lm_result *r, int q, int p) {
  double *d = al_malloc(sizeof(double) * c->seeds);
  for (int s = 0; s < c->seeds; s++) d[s] = *lm_val(c, r, q, p, c->gens - 1, s) - *lm_val(c, r, q, p, 0, s);
  al_stat st = al_stat_of(d, c->seeds);
  free(d);
  return st;
}

/* Does the mean rise at every generation? */
static int rises_every_generation(const al_series_stats *st) {
  for (int g = 1; g < st->iters; g++)
    if (!(st->stat[g].mean > st->stat[g - 1].mean)) return 0;
  return 1;
}

static int report(const lm_cfg *c, const lm_result *r, al_run *run, json_t *results, al_err *err) {
  al_series_stats st[LM_NQ][AL_NPOLICIES];
  for (int q = 0; q < LM_NQ; q++)
    for (int p = 0; p < c->npol; p++) {
      al_series_init(&st[q][p], c->gens, c->seeds, 0);
      for (int g = 0; g < c->gens; g++)
        for (int s = 0; s < c->seeds; s++) st[q][p].vals[(size_t)g * c->seeds + s] = *lm_val(c, r, q, p, g, s);
      al_series_finish(&st[q][p]);
    }
  json_t *o = json_object(), *qs = json_object(), *refs = json_object(), *chg = json_object();
  json_object_set_new(o, "tokenizer_vocab", json_integer(r->vocab));
  json_object_set_new(o, "real_tokens_per_seed", json_real(r->real_tokens));
  json_object_set_new(o, "heldout", json_pack("{s:I, s:f, s:f, s:o}", "documents", (json_int_t)r->heldout_docs, "tokens",
                                              r->heldout_tokens, "bytes", r->heldout_bytes, "true_nats_per_byte",
                                              al_json_real_or_null(r->true_nats_per_byte)));
  for (int q = 0; q < LM_NQ; q++) {
    if (Q[q].story_only && !c->story) continue;
    json_object_set_new(qs, Q[q].key, series_json(c, st[q]));
    json_object_set_new(refs, Q[q].key, al_json_real_or_null(reference(r, q)));
  }
  int qchg[] = {LM_TEST_TOKEN, LM_EXCESS, LM_DISTINCT4, LM_VALID};
  for (int p = 0; p < c->npol; p++) {
    json_t *pc = json_object();
    for (size_t k = 0; k < sizeof qchg / sizeof *qchg; k++) {
      if (Q[qchg[k]].story_only && !c->story) continue;
      al_stat d = change(c, r, qchg[k], p);
      json_object_set_new(pc, Q[qchg[k]].key,
                          json_pack("{s:o, s:o, s:o}", "mean", al_json_real_or_null(d.mean), "lo",
                                    al_json_real_or_null(d.lo), "hi", al_json_real_or_null(d.hi)));
    }
    json_object_set_new(pc, "test_loss_rises_every_generation", json_boolean(rises_every_generation(&st[LM_TEST_TOKEN][p])));
    json_object_set_new(chg, al_policy_names[c->policies[p]], pc);
  }
  json_object_set_new(o, "quantities", qs);
  json_object_set_new(o, "real_data_reference", refs);
  json_object_set_new(o, "change_last_minus_generation_0", chg);
  json_object_set_new(o, "seconds", json_real(r->seconds));
  json_object_set_new(results, "lm", o);

  /* headline: one line per policy */
  json_t *headline = json_object_get(results, "headline");
  for (int p = 0; p < c->npol; p++) {
    const al_stat *a = &st[LM_TEST_TOKEN][p].stat[0], *z = &st[LM_TEST_TOKEN][p].stat[c->gens - 1];
    al_stat d = change(c, r, LM_TEST_TOKEN, p);
    char line[700];
    int len = snprintf(line, sizeof line,
                       "language models (%s, %ld tokens, %d layers x %d channels), %d seeds, %s: test cross-entropy "
                       "generation 0 = %.4f [%.4f, %.4f], generation %d = %.4f [%.4f, %.4f] nats/token; change %+.4f "
                       "[95%% CI %+.4f, %+.4f] paired by seed",
                       c->story ? "story world" : c->data, c->tokens, c->model.n_layer, c->model.n_embd, c->seeds,
                       al_policy_names[c->policies[p]], a->mean, a->lo, a->hi, c->gens - 1, z->mean, z->lo, z->hi, d.mean,
                       d.lo, d.hi);
    if (c->story && len > 0 && len < (int)sizeof line)
      snprintf(line + len, sizeof line - len, "; excess over the true entropy %.4f -> %.4f nats/byte, valid stories %.0f%% -> %.0f%%",
               st[LM_EXCESS][p].stat[0].mean, st[LM_EXCESS][p].stat[c->gens - 1].mean, 100 * st[LM_VALID][p].stat[0].mean,
               100 * st[LM_VALID][p].stat[c->gens - 1].mean);
    json_array_append_new(headline, json_string(line));
  }

  /* metrics lines (per quantity, policy and generation) and plots */
  json_t *setting = json_pack("{s:s, s:I, s:i}", "part", "lm", "tokens", (json_int_t)c->tokens, "seeds", c->seeds);
  int rc = 0;
  for (int q = 0; q < LM_NQ && !rc; q++) {
    if (Q[q].story_only && !c->story) continue;
    double ref = reference(r, q);
    al_collapse_axis ax = {.name = "generation", .first = 0, .ref_title = NULL, .ref = ref};
    rc = al_collapse_metrics_axis(run, setting, Q[q].key, &ax, c->policies, c->npol, st[q], err);
    if (rc || !Q[q].plot) continue;
    if (isfinite(ref)) ax.ref_title = q == LM_TEST_TOKEN ? "true entropy of the held-out text" : "real data";
    char name[64], title[300];
    snprintf(name, sizeof name, "lm_%s", Q[q].plot);
    snprintf(title, sizeof title, "LM, %s, N=%ld: %s (%d seeds, 95%% CI)", c->story ? "story world" : "corpus", c->tokens,
             Q[q].title, c->seeds);
    rc = al_collapse_plot_axis(run, name, title, Q[q].ylabel, &ax, c->policies, c->npol, st[q], err);
  }
  json_decref(setting);
  for (int q = 0; q < LM_NQ; q++)
    for (int p = 0; p < c->npol; p++) al_series_free(&st[q][p]);
  return rc;
}

int al_collapse_lm_run(const al_collapse_cfg *c, al_run *run, json_t *results, al_err *err) {
  lm_cfg l;
  if (lm_cfg_of(c, &l, err)) return -1;
  lm_result r;
  if (lm_run(&l, run, &r, err)) return al_fail_prefix(err, "lm");
  int rc = report(&l, &r, run, results, err);
  free(r.vals);
  return rc;
}

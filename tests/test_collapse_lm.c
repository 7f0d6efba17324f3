/* The language-model part of `alab collapse`.
 *
 * Fast (test_collapse_lm): distinct n-grams against a brute-force count;
 * subsampling whole documents; the sampler against a step-by-step oracle of
 * its sliding window (a fresh decoder fed the window for every token); the
 * statistics of real story-world stories against the grammar's own
 * log-probabilities; a tiny run end to end on the story world (results,
 * plots, generation 0 shared by the policies, bit-identical on 1 and 2
 * threads) and on a JSONL corpus; every bad setting, in the library and on
 * the command line.
 *
 * Slow (test_collapse_lm_slow, label slow: `test_collapse_lm slow`): a small
 * run of real models whose test loss under replace rises from generation 0
 * beyond its 95% interval, while accumulate's does not. */
#include <sys/wait.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/synth.h"
#include "exp/collapse_lm.h"
#include "test.h"

/* ---- distinct n-grams: brute force ---- */

static double brute_distinct(char **docs, size_t ndocs, int n) {
  /* every n-gram as a string of its words joined by '\1' */
  char **grams = NULL;
  size_t ng = 0, cap = 0;
  for (size_t d = 0; d < ndocs; d++) {
    char *copy = al_strdup(docs[d]), *save = NULL, *words[4096];
    int nw = 0;
    for (char *w = strtok_r(copy, " \n\t\r\f\v", &save); w; w = strtok_r(NULL, " \n\t\r\f\v", &save)) words[nw++] = w;
    for (int i = 0; i + n <= nw; i++) {
      al_buf b = {0};
      for (int k = 0; k < n; k++) al_buf_printf(&b, "%s\1", words[i + k]);
      al_buf_append(&b, "", 1);
      if (ng == cap) grams = al_realloc(grams, (cap = cap ? 2 * cap : 64) * sizeof *grams);
      grams[ng++] = b.data;
    }
    free(copy);
  }
  size_t distinct = 0;
  for (size_t i = 0; i < ng; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(grams[i], grams[j]);
    distinct += !seen;
  }
  for (size_t i = 0; i < ng; i++) free(grams[i]);
  free(grams);
  return ng ? (double)distinct / (double)ng : 0;
}

static void test_distinct(void) {
  static const char *vocab[] = {"a", "bb", "the", "cat.", "\"Hi!\"", "a,"};
  static const char *space[] = {" ", "  ", "\n", "\n\n", "\t", " \r\n"};
  al_rng r;
  al_rng_seed(&r, 7);
  int bad = 0;
  for (int trial = 0; trial < 300; trial++) {
    size_t nd = 1 + al_rng_below(&r, 4);
    char *docs[4];
    size_t lens[4];
    for (size_t d = 0; d < nd; d++) {
      al_buf b = {0};
      int nw = (int)al_rng_below(&r, 40);
      if (al_rng_below(&r, 2)) al_buf_printf(&b, "%s", space[al_rng_below(&r, 6)]);
      for (int i = 0; i < nw; i++)
        al_buf_printf(&b, "%s%s", vocab[al_rng_below(&r, 1 + trial % 6)], i + 1 < nw || al_rng_below(&r, 2) ? space[al_rng_below(&r, 6)] : "");
      al_buf_append(&b, "", 1);
      docs[d] = b.data;
      lens[d] = strlen(b.data);
    }
    for (int n = 1; n <= 4; n++) {
      double got = lm_distinct_ngrams((const char *const *)docs, lens, nd, n), want = brute_distinct(docs, nd, n);
      if (got != want && bad++ < 5) CHECK(got == want, "trial %d n=%d: %g, brute force %g", trial, n, got, want);
    }
    for (size_t d = 0; d < nd; d++) free(docs[d]);
  }
  CHECK(bad == 0, "distinct n-grams match brute force on 1200 cases (%d differ)", bad);
}

/* ---- documents and subsampling ---- */

static void test_subsample(void) {
  lm_docs pools[3] = {{0}};
  int32_t buf[16];
  al_rng r;
  al_rng_seed(&r, 3);
  size_t total = 0;
  for (int p = 0; p < 3; p++)
    for (int j = 0; j < 20; j++) {
      int len = (int)al_rng_below(&r, 8); /* empty documents too */
      for (int k = 0; k < len; k++) buf[k] = p * 1000 + j * 10 + k;
      lm_docs_add(&pools[p], buf, (size_t)len, -7);
      total += (size_t)len + 1;
    }
  size_t len;
  const int32_t *d = lm_doc(&pools[1], 4, &len);
  CHECK(pools[1].ndocs == 20 && (len == 0 || d[0] == 1040) && pools[1].ids[pools[1].starts[5] - 1] == -7, "lm_doc");
  const lm_docs *pp[3] = {&pools[0], &pools[1], &pools[2]};
  for (size_t want = 1; want <= total + 5; want += 13) {
    lm_docs out = {0}, again = {0};
    al_rng a, b;
    al_rng_seed(&a, want), al_rng_seed(&b, want);
    lm_docs_subsample(pp, 3, want, -7, &a, &out);
    lm_docs_subsample(pp, 3, want, -7, &b, &again);
    CHECK(out.n == again.n && !memcmp(out.ids, again.ids, out.n * sizeof *out.ids), "deterministic in the rng");
    CHECK(want > total ? out.n == total : out.n >= want, "%zu tokens for %zu asked (pools %zu)", out.n, want, total);
    size_t last;
    lm_doc(&out, out.ndocs - 1, &last);
    CHECK(want > total || out.n - (last + 1) < want, "no document more than needed");
    /* each output document is one whole pool document, none twice */
    int used[3][20] = {{0}}, ok = 1;
    for (size_t i = 0; i < out.ndocs; i++) {
      size_t n;
      const int32_t *x = lm_doc(&out, i, &n);
      int found = 0;
      for (int p = 0; p < 3 && !found; p++)
        for (int j = 0; j < 20 && !found; j++) {
          size_t m;
          const int32_t *y = lm_doc(&pools[p], (size_t)j, &m);
          if (m == n && !used[p][j] && !memcmp(x, y, n * sizeof *x)) found = 1, used[p][j] = 1;
        }
      ok &= found && out.ids[out.starts[i] + n] == -7;
    }
    CHECK(ok, "whole pool documents, each at most once (asked %zu)", want);
    lm_docs_free(&out), lm_docs_free(&again);
  }
  for (int p = 0; p < 3; p++) lm_docs_free(&pools[p]);
}

/* ---- the sampler against a step-by-step oracle ---- */

static void test_sample_oracle(void) {
  al_err err;
  al_model_config cfg = {.vocab_size = 6, .n_positions = 8, .n_layer = 1, .n_head = 2, .n_embd = 16};
  al_model m = {0};
  CHECK_OK(al_model_init(&m, &cfg, 11, &err), err);
  /* a near-uniform model over 6 tokens: documents of about 6 tokens, some
   * longer than the context of 8, a few cut at 14 */
  int32_t eot = 5;
  int max_story = 14, ctx = cfg.n_positions, V = cfg.vocab_size;
  lm_docs out = {0};
  size_t ncut = 0;
  CHECK_OK(lm_sample(&m, eot, 0.9, max_story, 800, 5, &out, &ncut, &err), err);
  CHECK(out.n >= 800, "at least the tokens asked for: %zu", out.n);
  /* oracle: token by token, a fresh decoder fed the current window */
  al_decoder *d = al_decoder_new(&m);
  float *logits = al_malloc(sizeof(float) * (size_t)V * ctx);
  void *scratch = al_sample_scratch(V);
  al_sample_cfg sc = {.temperature = 0.9f, .top_p = 1, .top_k = 0};
  int32_t seq[64];
  size_t cut = 0, longer = 0, mismatch = 0;
  for (size_t i = 0; i < out.ndocs; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 5, i);
    int n = 1, from = 0, ended = 0;
    seq[0] = eot;
    while (n - 1 < max_story) {
      if (n - from > ctx) from = n - ctx / 2;
      al_decoder_truncate(d, 0);
      CHECK_OK(al_decoder_feed(d, seq + from, n - from, logits, &err), err);
      int32_t t = al_sample_logits(logits + (size_t)(n - from - 1) * V, V, &sc, &r, scratch);
      if (t == eot) {
        ended = 1;
        break;
      }
      seq[n++] = t;
    }
    cut += !ended;
    longer += n - 1 > ctx;
    size_t len;
    const int32_t *doc = lm_doc(&out, i, &len);
    if (len != (size_t)(n - 1) || memcmp(doc, seq + 1, len * sizeof *doc)) mismatch++;
  }
  CHECK(mismatch == 0, "%zu of %zu sampled documents differ from the oracle", mismatch, out.ndocs);
  CHECK(cut == ncut && cut > 0 && cut < out.ndocs, "cut documents: %zu, oracle %zu of %zu", ncut, cut, out.ndocs);
  CHECK(longer > 0, "some documents outgrow the context (the sliding window is exercised): %zu", longer);
  lm_docs again = {0};
  size_t ncut2;
  CHECK_OK(lm_sample(&m, eot, 0.9, max_story, 800, 5, &again, &ncut2, &err), err);
  CHECK(again.n == out.n && !memcmp(again.ids, out.ids, out.n * sizeof *out.ids), "sampling is deterministic");
  lm_docs_free(&again);
  lm_docs_free(&out);
  free(scratch);
  free(logits);
  al_decoder_free(d);
  al_model_free(&m);
}

/* ---- the batched sampler against one decoder, one story at a time ----
 * lm_sample steps up to 8 stories together and starts stories it may not
 * need; the documents must be bit-identical to what one decoder writes
 * generating the stories in turn with al_generate (the sampler before
 * batching), including where it stops and which stories were cut. */

static void sequential_sample(const al_model *m, int32_t eot, double temperature, int max_story, size_t ntokens,
                              uint64_t seed, lm_docs *out, size_t *ncut) {
  al_err err;
  int ctx = m->cfg.n_positions;
  al_decoder *d = al_decoder_new(m);
  int32_t *seq = al_malloc(((size_t)max_story + 1) * sizeof *seq);
  al_sample_cfg sc = {.temperature = (float)temperature, .top_p = 1, .top_k = 0};
  *ncut = 0;
  for (uint64_t i = 0; out->n < ntokens; i++) {
    al_rng r;
    al_rng_seed_stream(&r, seed, i);
    seq[0] = eot;
    int n = 0, ended = 0;
    while (n < max_story && !ended) {
      int have = 1 + n, from = have <= ctx ? 0 : have - ctx / 2;
      int got = al_generate(d, seq + from, have - from, max_story - n, &sc, &r, eot, seq + 1 + n, NULL, NULL, &err);
      CHECK(got > 0, "al_generate: %s", got < 0 ? err.msg : "no token");
      if (got <= 0) break;
      n += got;
      if (seq[n] == eot) ended = 1, n--;
    }
    if (!ended) ++*ncut;
    lm_docs_add(out, seq + 1, (size_t)n, eot);
  }
  free(seq);
  al_decoder_free(d);
}

static void test_sample_batched(void) {
  al_err err;
  /* stories of tens of tokens in a context of 16 (the window slides), some
   * cut at 40; and a model whose EOT is rare, so every story is cut */
  struct { int V, ctx, C, max_story; int32_t eot; double temp; } cases[] = {{12, 16, 32, 40, 11, 1.0},
                                                                           {40, 24, 32, 30, 0, 0.7}};
  size_t asks[] = {1, 37, 300, 2000};
  for (int c = 0; c < 2; c++) {
    al_model_config cfg = {.vocab_size = cases[c].V, .n_positions = cases[c].ctx, .n_layer = 2, .n_head = 2,
                           .n_embd = cases[c].C};
    al_model m = {0};
    CHECK_OK(al_model_init(&m, &cfg, 21 + c, &err), err);
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++) {
      lm_docs got = {0}, want = {0};
      size_t gcut = 0, wcut = 0;
      CHECK_OK(lm_sample(&m, cases[c].eot, cases[c].temp, cases[c].max_story, asks[a], 9, &got, &gcut, &err), err);
      sequential_sample(&m, cases[c].eot, cases[c].temp, cases[c].max_story, asks[a], 9, &want, &wcut);
      int same = got.n == want.n && got.ndocs == want.ndocs && gcut == wcut &&
                 !memcmp(got.ids, want.ids, got.n * sizeof *got.ids);
      for (size_t i = 0; same && i < got.ndocs; i++) same = got.starts[i] == want.starts[i];
      CHECK(same, "case %d, %zu tokens asked: batched %zu tokens in %zu documents (%zu cut), one at a time %zu in %zu (%zu cut)",
            c, asks[a], got.n, got.ndocs, gcut, want.n, want.ndocs, wcut);
      if (a == 3) CHECK(got.ndocs > 16 && wcut > 0, "case %d: %zu documents, %zu cut", c, got.ndocs, wcut);
      lm_docs_free(&got), lm_docs_free(&want);
    }
    al_model_free(&m);
  }
}

/* ---- statistics of real stories: the grammar's own numbers ---- */

static void test_stats(void) {
  al_err err;
  al_tok *tok = al_tok_byte();
  al_buf text = {0};
  int n = 30;
  double lp[30];
  al_synth_corpus(9, n, &text, lp);
  lm_docs d = {0};
  int32_t *ids = NULL;
  size_t cap = 0;
  double want_lp = 0, want_bytes = 0, want_words = 0;
  const char *p = text.data;
  for (int i = 0; i < n; i++) {
    const char *e = strstr(p, AL_SYNTH_SEP);
    size_t k = 0;
    al_tok_encode(tok, p, (size_t)(e - p), 0, &ids, &k, &cap, &err);
    lm_docs_add(&d, ids, k, al_tok_eot(tok));
    al_synth_story s;
    CHECK_OK(al_synth_story_score(p, (size_t)(e - p), &s, &err), err);
    want_lp += lp[i] / n, want_bytes += (double)(e - p) / n, want_words += (double)s.nwords / n;
    p = e + strlen(AL_SYNTH_SEP);
  }
  lm_stats st;
  CHECK_OK(lm_stats_of(tok, &d, 1, &st, &err), err);
  CHECK(st.valid == 1, "real stories are valid: %g", st.valid);
  CHECK(rel_err(st.valid_logprob, want_lp) < 1e-12, "mean log-prob %.12g, grammar %.12g", st.valid_logprob, want_lp);
  CHECK(rel_err(st.bytes, want_bytes) < 1e-12 && rel_err(st.words, want_words) < 1e-12, "bytes %g/%g words %g/%g",
        st.bytes, want_bytes, st.words, want_words);
  CHECK(st.distinct4 > 0 && st.distinct4 < 1 && st.distinct2 < st.distinct4, "distinct-2 %g < distinct-4 %g", st.distinct2,
        st.distinct4);
  /* one story with a word changed, one cut short: neither parses */
  d.ids[d.starts[3] + 2] = 'Z';
  d.ids[d.starts[7] + 5] = al_tok_eot(tok); /* an EOT inside: the decoded text is cut by the separator */
  lm_stats st2;
  CHECK_OK(lm_stats_of(tok, &d, 1, &st2, &err), err);
  CHECK(fabs(st2.valid - (double)(n - 2) / n) < 1e-12, "two broken stories: valid %g", st2.valid);
  CHECK_OK(lm_stats_of(tok, &d, 0, &st2, &err), err);
  CHECK(isnan(st2.valid) && isnan(st2.valid_logprob), "no validity outside the story world");
  free(ids);
  lm_docs_free(&d);
  al_buf_free(&text);
  al_tok_free(tok);
}

/* ---- runs ---- */

static void tiny(al_collapse_cfg *c) {
  al_collapse_defaults(c);
  c->parts = "lm";
  c->seeds = 2;
  c->lm_tokens = 1500;
  c->lm_gens = 3;
  c->lm_steps = 3;
  c->lm_layers = 1;
  c->lm_embd = 16;
  c->lm_heads = 2;
  c->lm_context = 32;
  c->lm_heldout = 600;
  c->lm_max_story = 200;
  c->lm_tokenizer = "bpe:300";
}

static json_t *load(const char *dir, const char *name) {
  al_err err;
  json_t *j = NULL;
  char *p = al_path_join(dir, name);
  if (al_json_load_file(p, &j, &err)) j = NULL;
  free(p);
  return j;
}

static void test_tiny_story(const char *tmp) {
  al_err err;
  al_collapse_cfg c;
  tiny(&c);
  char *d1 = al_path_join(tmp, "story1"), *d2 = al_path_join(tmp, "story2");
  al_set_threads(1);
  CHECK_OK(al_collapse_run(&c, d1, &err), err);
  al_set_threads(2);
  CHECK_OK(al_collapse_run(&c, d2, &err), err);
  json_t *r1 = load(d1, "results.json"), *r2 = load(d2, "results.json"), *cfg = load(d1, "config.json");
  CHECK(r1 && r2 && cfg, "run files");
  if (r1 && r2 && cfg) {
    json_t *lm = json_object_get(cfg, "lm");
    CHECK(json_integer_value(json_object_get(lm, "generations")) == 3 && json_integer_value(json_object_get(lm, "seeds")) == 2 &&
              json_integer_value(json_object_get(json_object_get(lm, "train"), "steps")) == 3,
          "config lm resolved");
    json_t *q1 = json_object_get(json_object_get(r1, "lm"), "quantities"), *q2 = json_object_get(json_object_get(r2, "lm"), "quantities");
    CHECK(json_equal(q1, q2), "the same results on 1 and 2 threads");
    json_t *loss = json_object_get(q1, "test_nats_per_token");
    json_t *rep = json_object_get(loss, "replace"), *acc = json_object_get(loss, "accumulate");
    CHECK(json_array_size(rep) == 3 && json_integer_value(json_object_get(json_array_get(rep, 2), "generation")) == 2,
          "one entry per generation, numbered from 0");
    CHECK(json_equal(json_array_get(rep, 0), json_array_get(acc, 0)), "generation 0 is shared by the policies");
    CHECK(!json_equal(json_array_get(rep, 1), json_array_get(acc, 1)), "generation 1 differs");
    double l0 = json_real_value(json_object_get(json_array_get(rep, 0), "mean"));
    CHECK(l0 > 0 && l0 < 7, "test loss of an untrained model is about log(vocab): %g", l0);
    json_t *tt = json_object_get(q1, "train_tokens");
    double a2 = json_real_value(json_object_get(json_array_get(json_object_get(tt, "accumulate"), 2), "mean"));
    double s2 = json_real_value(json_object_get(json_array_get(json_object_get(tt, "accumulate-subsample"), 2), "mean"));
    CHECK(a2 >= 3 * 1500 && s2 >= 1500 && s2 < 1500 + 201, "accumulate trains on 3N at generation 2 (%g), subsample on N (%g)",
          a2, s2);
    json_t *ex = json_object_get(q1, "excess_nats_per_byte"), *va = json_object_get(q1, "valid_fraction");
    CHECK(ex && va, "story world: excess and validity");
    double h = json_real_value(json_object_get(json_object_get(json_object_get(r1, "lm"), "heldout"), "true_nats_per_byte"));
    CHECK(h > 0.03 && h < 0.1, "true entropy of the held-out stories: %g nats/byte", h);
    json_t *hl = json_object_get(r1, "headline");
    CHECK(json_array_size(hl) == 3 && strstr(json_string_value(json_array_get(hl, 0)), "language models"), "headline");
  }
  char *svg = al_path_join(d1, "lm_test_loss.svg"), *metrics = al_path_join(d1, "metrics.jsonl");
  CHECK(al_file_exists(svg) && al_file_exists(metrics), "plot and metrics");
  char *data = NULL;
  if (!al_read_file(metrics, &data, NULL, &err)) {
    CHECK(strstr(data, "\"part\":\"lm\"") || strstr(data, "\"part\": \"lm\""), "metrics lines tagged part lm");
    CHECK(strstr(data, "\"generation\""), "metrics lines by generation");
  }
  free(data);
  free(svg), free(metrics);
  json_decref(r1), json_decref(r2), json_decref(cfg);
  free(d1), free(d2);
}

static void test_tiny_corpus(const char *tmp) {
  al_err err;
  char *corpus = al_path_join(tmp, "stories.jsonl"), *dir = al_path_join(tmp, "corpus_run");
  CHECK_OK(al_synth_write(corpus, 4, 40, AL_SYNTH_JSONL, NULL, &err), err);
  al_collapse_cfg c;
  tiny(&c);
  c.lm_data = corpus;
  c.lm_tokenizer = "byte";
  c.lm_tokens = 4000;
  c.lm_gens = 2;
  c.policies = "accumulate-subsample";
  CHECK_OK(al_collapse_run(&c, dir, &err), err);
  json_t *r = load(dir, "results.json");
  json_t *q = json_object_get(json_object_get(r, "lm"), "quantities");
  CHECK(json_object_get(q, "test_nats_per_token") && !json_object_get(q, "excess_nats_per_byte") &&
            !json_object_get(q, "valid_fraction"),
        "a corpus: loss, no excess or validity");
  CHECK(json_is_null(json_object_get(json_object_get(json_object_get(r, "lm"), "heldout"), "true_nats_per_byte")),
        "no true entropy for a corpus");
  json_decref(r);
  /* too little data for the held-out part, or for N */
  char *bad = al_path_join(tmp, "corpus_bad");
  c.lm_heldout = 100000;
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "cannot hold out 100000 tokens");
  c.lm_heldout = 600;
  c.lm_tokens = 1000000;
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "but --lm-tokens asks for 1000000");
  free(bad);
  free(corpus), free(dir);
}

static void test_bad_settings(const char *tmp) {
  al_err err;
  char *bad = al_path_join(tmp, "bad");
  al_collapse_cfg c;
#define BAD(field, value, needle)                                        \
  do {                                                                   \
    tiny(&c);                                                            \
    c.field = value;                                                     \
    CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, needle);       \
    CHECK(!al_file_exists(bad), "nothing written for " #field "=" #value); \
  } while (0)
  BAD(lm_tokens, 0, "--lm-tokens 0");
  BAD(lm_tokens, -5, "--lm-tokens -5");
  BAD(lm_gens, 1, "--lm-gens 1: need 2 to 50");
  BAD(lm_gens, 0, "--lm-gens 0");
  BAD(lm_gens, 51, "--lm-gens 51");
  BAD(lm_tokens, 100000000, "would hold more than 2^28 tokens");
  BAD(lm_steps, -1, "--lm-steps -1");
  BAD(lm_heads, 3, "divisible by lm-heads");
  BAD(lm_layers, 0, "need positive sizes");
  BAD(lm_context, 4, "--lm-context 4");
  BAD(lm_batch, 0, "--lm-batch 0");
  BAD(lm_lr, 0, "--lm-lr 0");
  BAD(lm_lr, NAN, "--lm-lr nan");
  BAD(lm_temperature, 0, "--lm-temperature 0");
  BAD(lm_temperature, -1, "--lm-temperature -1");
  BAD(lm_heldout, 32, "--lm-heldout 32");
  BAD(lm_max_story, 0, "--lm-max-story 0");
  BAD(lm_tokenizer, "bpe:10", "--lm-tokenizer 'bpe:10'");
  BAD(lm_tokenizer, "bpe:", "--lm-tokenizer 'bpe:'");
  BAD(lm_tokenizer, "/no/such/tokenizer", "not byte, bpe:N, or a directory");
  BAD(lm_data, "/no/such/corpus.txt", "--lm-data '/no/such/corpus.txt'");
  BAD(policies, "replace,sideways", "unknown policy 'sideways'");
  BAD(seeds, 1, "at least 2 seeds");
  tiny(&c);
  c.lm_steps = 0, c.lm_epochs = 0;
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "--lm-epochs 0");
  c.lm_epochs = -2;
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "--lm-epochs -2");
  free(bad);
}

static void test_cli(const char *tmp) {
  const char *bin = getenv("ALAB_BIN");
  CHECK(bin && access(bin, X_OK) == 0, "ALAB_BIN is the alab binary");
  if (!bin || access(bin, X_OK) != 0) return;
  /* Every bad setting is a usage error (exit 2), caught before any work. */
  struct { const char *args, *needle; int code; } bad[] = {
      {"--lm-tokens 0", "--lm-tokens 0", 2},
      {"--lm-gens 1", "--lm-gens 1", 2},
      {"--lm-gens two", "not a valid integer", 2},
      {"--lm-epochs -1", "--lm-epochs -1", 2},
      {"--lm-steps -3", "--lm-steps -3", 2},
      {"--lm-temperature 0", "--lm-temperature 0", 2},
      {"--lm-embd 30 --lm-heads 4", "divisible", 2},
      {"--lm-tokenizer bpe:99999", "bpe:N with 257 <= N <= 65536", 2},
      {"--lm-data /no/such/file", "--lm-data '/no/such/file'", 2},
      {"--policies replace,nope", "unknown policy 'nope'", 2},
      {"--seeds 1", "at least 2 seeds", 2},
  };
  char cmd[2048], *out;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' collapse --part lm --quiet --out '%s/cli_bad' %s 2>&1", bin, tmp, bad[i].args);
    int code = test_sh(cmd, &out);
    CHECK(code == bad[i].code && strstr(out, bad[i].needle), "`collapse --part lm %s`: exit %d, output: %s", bad[i].args, code,
          out);
    free(out);
  }
  snprintf(cmd, sizeof cmd, "'%s' collapse --help 2>&1", bin);
  CHECK(test_sh(cmd, &out) == 0 && strstr(out, "--lm-tokens") && strstr(out, "--lm-steps"), "help lists the lm flags");
  free(out);
}

/* ---- the slow run: replace rises, accumulate does not ---- */

static void test_collapse_shows(const char *tmp) {
  al_err err;
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  c.parts = "lm";
  c.policies = "replace,accumulate";
  c.seeds = 3;
  c.lm_tokens = 20000;
  c.lm_gens = 3;
  char *dir = al_path_join(tmp, "slow");
  double t0 = al_now();
  CHECK_OK(al_collapse_run(&c, dir, &err), err);
  printf("small lm collapse run: %.1f s\n", al_now() - t0);
  json_t *r = load(dir, "results.json");
  json_t *lm = json_object_get(r, "lm"), *chg = json_object_get(lm, "change_last_minus_generation_0");
  json_t *loss = json_object_get(json_object_get(lm, "quantities"), "test_nats_per_token");
  json_t *hl = json_object_get(r, "headline");
  for (size_t i = 0; i < json_array_size(hl); i++) printf("%s\n", json_string_value(json_array_get(hl, i)));
  json_t *rc = json_object_get(json_object_get(chg, "replace"), "test_nats_per_token");
  json_t *ac = json_object_get(json_object_get(chg, "accumulate"), "test_nats_per_token");
  double r_lo = json_real_value(json_object_get(rc, "lo")), a_hi = json_real_value(json_object_get(ac, "hi"));
  CHECK(rc && r_lo > 0, "replace: test loss rises from generation 0, paired 95%% CI lower bound %g > 0", r_lo);
  CHECK(ac && a_hi < r_lo, "accumulate's change (CI upper %g) stays below replace's (CI lower %g)", a_hi, r_lo);
  json_t *rl = json_array_get(json_object_get(loss, "replace"), 2), *al = json_array_get(json_object_get(loss, "accumulate"), 2);
  double rl_lo = json_real_value(json_object_get(rl, "lo")), al_hi = json_real_value(json_object_get(al, "hi"));
  CHECK(rl && al && al_hi < rl_lo, "last generation: accumulate's interval (hi %g) below replace's (lo %g)", al_hi, rl_lo);
  json_decref(r);
  free(dir);
}

int main(int argc, char **argv) {
  double t0 = al_now();
  al_quiet = 1;
  char *tmp = test_tmpdir(argc > 1 && !strcmp(argv[1], "slow") ? "collapse_lm_slow" : "collapse_lm");
  if (argc > 1 && !strcmp(argv[1], "slow")) {
    al_quiet = 0;
    test_collapse_shows(tmp);
  } else {
    test_distinct();
    test_subsample();
    test_sample_oracle();
    test_sample_batched();
    test_stats();
    test_bad_settings(tmp);
    test_tiny_story(tmp);
    test_tiny_corpus(tmp);
    test_cli(tmp);
  }
  free(tmp);
  printf("test_collapse_lm: %.2f s\n", al_now() - t0);
  return test_summary();
}

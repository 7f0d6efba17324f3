/* Token-by-token decoding of Llama and GPT-2 (decode_team in
 * src/model/llama_decode.c and gpt2_decode.c: the whole trunk in one
 * parallel region, threads meeting at nn_team barriers) against
 * independent paths:
 * - the prompt path: the same tokens fed as one chunk of more than
 *   AL_DECODE_SMALL_ROWS rows go through llama_block_forward's sgemm
 *   products (checked against PyTorch by test_llama_torch and
 *   test_gpt2_torch); the logits agree to 1e-5 relative;
 * - thread counts: 1, 2 and 3 threads give bit-identical logits (each
 *   output's summation order does not depend on the split);
 * - batching: three decoders at different positions stepped together
 *   (al_decoder_step_many) end bit-identical to each stepped alone;
 * - bf16 weights (nn_bf16_use, as `alab sample --precision bf16`): the
 *   decoder widens each bf16 weight exactly and does the fp32 arithmetic,
 *   so its logits are bit-identical to fp32 decoding of the model whose
 *   matrices (not the embedding, whose rows are copied in fp32) were
 *   rounded to bf16 beforehand, and differ from the fp32
 *   model's by a relative error of the order of bf16's 2^-8.
 * Shapes with C and F not multiples of 16 (the dot products' tails) and
 * GPT-2 widths not multiples of 64 (the column tiles' tails),
 * grouped-query and multi-query attention, tied and untied heads, biases. */
#include <omp.h>
#include "alab/nn.h"
#include "model/llama.h"
#include "oracle_compare.h"
#include "test.h"

enum { T = 30, SMALL = 8 };

/* logits [T][V] of tokens fed one at a time (chunk: all at once) */
static void decode(const al_model *m, const int32_t *tok, float *logits, int chunk) {
  al_err err;
  int V = m->cfg.vocab_size;
  al_decoder *d = al_decoder_new(m);
  if (chunk) CHECK_OK(al_decoder_feed(d, tok, T, logits, &err), err);
  else
    for (int t = 0; t < T; t++) {
      CHECK_OK(al_decoder_feed(d, tok + t, 1, NULL, &err), err);
      memcpy(logits + (size_t)t * V, al_decoder_logits(d), V * sizeof(float));
    }
  al_decoder_free(d);
}

/* decoder k at position 5k steps token tok[5k + j] at step j, all three
 * together; their logits against `alone` (the one-at-a-time decode) */
static void check_step_many(const al_model *m, const int32_t *tok, const float *alone, const char *what) {
  al_err err;
  int V = m->cfg.vocab_size, same = 1;
  al_decoder *ds[3];
  for (int k = 0; k < 3; k++) {
    ds[k] = al_decoder_new(m);
    for (int t = 0; t < 5 * k; t++) CHECK_OK(al_decoder_feed(ds[k], tok + t, 1, NULL, &err), err);
  }
  for (int j = 0; j < 10; j++) {
    int32_t step[3];
    for (int k = 0; k < 3; k++) step[k] = tok[5 * k + j];
    CHECK_OK(al_decoder_step_many(ds, step, 3, &err), err);
    for (int k = 0; k < 3; k++)
      same &= !memcmp(al_decoder_logits(ds[k]), alone + (size_t)(5 * k + j) * V, V * sizeof(float));
  }
  CHECK(same, "%s: decoders stepped together differ from each stepped alone", what);
  for (int k = 0; k < 3; k++) al_decoder_free(ds[k]);
}

/* token and position embeddings: rows copied in fp32, not products */
static int is_embedding(const char *name) {
  return strstr(name, "embed_tokens") || strstr(name, "wte") || strstr(name, "wpe");
}

static void run(const char *what, al_model_config cfg) {
  al_err err;
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 5, &err), err);
  al_rng rng;
  al_rng_seed(&rng, 3);
  for (int i = 0; i < m.ntensors; i++) /* norms and biases away from their init */
    if (m.tensors[i].ndim == 1)
      for (size_t k = 0; k < m.tensors[i].numel; k++) m.params[m.tensors[i].offset + k] += 0.2f * (float)al_rng_normal(&rng);
  int V = cfg.vocab_size;
  int32_t tok[T];
  for (int t = 0; t < T; t++) tok[t] = (int32_t)al_rng_below(&rng, V);
  size_t nl = (size_t)T * V;
  float *one = al_alloc_floats(nl), *two = al_alloc_floats(nl), *three = al_alloc_floats(nl),
        *chunk = al_alloc_floats(nl);
  int threads = omp_get_max_threads();
  al_set_threads(1);
  decode(&m, tok, one, 0);
  al_set_threads(2);
  decode(&m, tok, two, 0);
  al_set_threads(3);
  decode(&m, tok, three, 0);
  decode(&m, tok, chunk, 1);
  CHECK(!memcmp(one, two, nl * sizeof(float)) && !memcmp(one, three, nl * sizeof(float)),
        "%s: 1, 2 and 3 threads give different logits", what);
  double e = tensor_rel_err(two, chunk, nl);
  CHECK(e <= 1e-5, "%s: token-by-token logits differ from the chunk's by %.3e", what, e);
  al_set_threads(2);
  check_step_many(&m, tok, two, what);

  /* bf16: the matrices' bf16 copy, read by the decoder */
  char msg[256];
  nn_bf16 *bf = nn_bf16_new(m.params, m.nparams, msg, sizeof msg);
  CHECK(bf != NULL, "%s: %s", what, msg);
  if (bf) {
    float *lbf = al_alloc_floats(nl), *lref = al_alloc_floats(nl);
    nn_bf16 *prev = nn_bf16_use(bf);
    decode(&m, tok, lbf, 0);
    nn_bf16_use(prev);
    /* the reference: fp32 decoding of the model with every matrix but the embedding rounded */
    float *saved = al_alloc_floats(m.nparams);
    memcpy(saved, m.params, m.nparams * sizeof(float));
    uint16_t *h = al_malloc(m.nparams * sizeof(uint16_t));
    for (int i = 0; i < m.ntensors; i++)
      if (m.tensors[i].ndim == 2 && !is_embedding(m.tensors[i].name)) {
        float *p = m.params + m.tensors[i].offset;
        nn_bf16_convert(h, p, (long)m.tensors[i].numel);
        for (size_t k = 0; k < m.tensors[i].numel; k++) {
          uint32_t u = (uint32_t)h[k] << 16;
          memcpy(p + k, &u, sizeof u);
        }
      }
    decode(&m, tok, lref, 0);
    memcpy(m.params, saved, m.nparams * sizeof(float));
    /* (with a tied head the embedding rows are read in fp32 but the head in bf16: no such reference) */
    if (!strcmp(cfg.arch, "llama") && !llama_hparams_of(&cfg).tie_word_embeddings)
      CHECK(!memcmp(lbf, lref, nl * sizeof(float)), "%s: bf16 decoding differs from fp32 on bf16-rounded matrices",
            what);
    double eb = tensor_rel_err(lbf, two, nl);
    CHECK(eb > 1e-5 && eb < 0.03, "%s: bf16 logits' relative error to fp32 %.3e (expected about 2^-8)", what, eb);
    printf("%s: bf16 decoding's relative error to fp32 %.2e\n", what, eb);
    free(lbf), free(lref), free(saved), free(h);
    nn_bf16_free(bf);
  }
  al_set_threads(threads);
  free(one), free(two), free(three), free(chunk);
  al_model_free(&m);
}

int main(void) {
  /* grouped-query (6 heads on 2), untied, C 60 (head size 10) and F 84: tails of 16-lane dots */
  al_model_config a = {.arch = "llama", .vocab_size = 77, .n_positions = 40, .n_layer = 2, .n_head = 6, .n_embd = 60};
  llama_hparams ha = {.rms_norm_eps = 1e-5f, .n_kv_head = 2, .intermediate_size = 84};
  llama_hparams_set(&a, &ha);
  run("gqa_untied", a);
  /* multi-query, tied head, every bias, C 64 */
  al_model_config b = {.arch = "llama", .vocab_size = 50, .n_positions = 32, .n_layer = 3, .n_head = 6, .n_embd = 60};
  llama_hparams hb = {.n_kv_head = 1, .intermediate_size = 160, .tie_word_embeddings = 1, .attention_bias = 1,
                      .mlp_bias = 1};
  llama_hparams_set(&b, &hb);
  run("mqa_tied_bias", b);
  /* GPT-2 (tied head, biases), C 80: 3C = 240 and 4C = 320 columns end in partial tiles */
  al_model_config g = {.arch = "gpt2", .vocab_size = 61, .n_positions = 40, .n_layer = 2, .n_head = 4, .n_embd = 80};
  run("gpt2", g);
  return test_summary();
}

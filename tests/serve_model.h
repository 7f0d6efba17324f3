/* A tiny model directory for the serve tests: a random-init GPT-2 or Llama (2 layers,
 * 32 channels, context 128; other shapes for the benchmark) with a small BPE tokenizer learned from a fixed
 * text (so tokens span several bytes, some of them UTF-8 characters). */
#ifndef ALAB_TEST_SERVE_MODEL_H
#define ALAB_TEST_SERVE_MODEL_H
#include <string.h>
#include "alab/model.h"
#include "alab/tok.h"

/* arch: "gpt2" or "llama" (its defaults: al_model_config_set_arch); shape:
 * n_layer, n_embd, n_head, n_positions (the tests use 2, 32, 2, 128).
 * eot_boost > 1 scales the embedding of <|endoftext|> (tied to its output
 * row), so that end-of-text is the greedy next token after many texts. */
static int serve_make_model_arch(const char *dir, const char *arch, int n_layer, int n_embd, int n_head, int n_positions,
                                 float eot_boost, al_err *err) {
  static const char text[] =
      "The quick brown fox jumps over the lazy dog. A café in Zürich serves crème brûlée — naïve but nice. "
      "the cat sat on the mat; the dog sat on the log. 1 2 3 4 5 6 7 8 9 10. Hello, world! Hello again, world.\n"
      "Alice is the mother of Bob. Bob is the son of Alice. \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text too.\n";
  al_tok *tok;
  if (al_tok_train(&tok, text, sizeof text - 1, 320, err)) return -1;
  al_model_config c = {.vocab_size = al_tok_vocab_size(tok), .n_positions = n_positions, .n_layer = n_layer,
                      .n_head = n_head, .n_embd = n_embd, .init_std = 0.02f};
  al_model m;
  int rc = al_model_config_set_arch(&c, arch, err) ? -1 : al_model_init(&m, &c, 1234, err);
  if (!rc) {
    /* larger weights than GPT-2's init so the distribution is far from uniform */
    al_rng r;
    al_rng_seed(&r, 99);
    for (size_t i = 0; i < m.nparams; i++) m.params[i] += 0.3f * (float)al_rng_normal(&r);
    const al_tensor *wte = al_model_tensor(&m, "wte.weight");
    if (eot_boost > 1 && wte && al_tok_eot(tok) >= 0)
      for (int j = 0; j < n_embd; j++) m.params[wte->offset + (size_t)al_tok_eot(tok) * n_embd + j] *= eot_boost;
    rc = al_model_save_dir(&m, tok, dir, err);
    al_model_free(&m);
  }
  al_tok_free(tok);
  return rc;
}

static int serve_make_model_sized(const char *dir, int n_layer, int n_embd, int n_head, int n_positions, float eot_boost,
                                  al_err *err) {
  return serve_make_model_arch(dir, "gpt2", n_layer, n_embd, n_head, n_positions, eot_boost, err);
}

static inline int serve_make_model(const char *dir, al_err *err) { return serve_make_model_sized(dir, 2, 32, 2, 128, 1, err); }
#endif

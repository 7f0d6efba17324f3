/* A tiny random GPT-2 with the byte tokenizer, shared by the provider tests. */
#ifndef TEST_PROVIDER_MODEL_H
#define TEST_PROVIDER_MODEL_H
#include "alab/model.h"
#include "alab/tok.h"

static inline int tiny_model(al_model *m, al_tok **tok, int n_positions, uint64_t seed) {
  al_model_config c = {.vocab_size = 257, .n_positions = n_positions, .n_layer = 2, .n_head = 2, .n_embd = 32, .init_std = 0.02f};
  al_err err;
  if (al_model_init(m, &c, seed, &err)) {
    fprintf(stderr, "model init: %s\n", err.msg);
    return -1;
  }
  /* larger weights than GPT-2's init so log-probs differ clearly between tokens */
  al_rng r;
  al_rng_seed(&r, seed + 1);
  for (size_t i = 0; i < m->nparams; i++) m->params[i] += 0.3f * (float)al_rng_normal(&r);
  *tok = al_tok_byte();
  return 0;
}

/* log p(cont | prompt) per token by the training forward (an independent path). */
static inline void oracle_logprobs(al_model *m, const char *prompt, const char *cont, double *per_tok, int *greedy) {
  int np = (int)strlen(prompt), nc = (int)strlen(cont), n = np + nc, V = m->cfg.vocab_size;
  int32_t *ids = malloc((size_t)n * sizeof *ids);
  for (int i = 0; i < np; i++) ids[i] = (unsigned char)prompt[i];
  for (int i = 0; i < nc; i++) ids[np + i] = (unsigned char)cont[i];
  al_model_forward(m, ids, NULL, 1, n);
  const float *lg = al_model_logits(m);
  *greedy = 1;
  for (int k = 0; k < nc; k++) {
    const float *z = lg + (size_t)(np + k - 1) * V;
    double mx = z[0], s = 0;
    int am = 0;
    for (int v = 1; v < V; v++)
      if (z[v] > mx) mx = z[v], am = v;
    for (int v = 0; v < V; v++) s += exp(z[v] - mx);
    per_tok[k] = z[ids[np + k]] - mx - log(s);
    if (am != ids[np + k]) *greedy = 0;
  }
  free(ids);
}
#endif

/* The generic model: the config check, the tensor table, allocation and
 * initialisation through the architecture's table, and the training forward
 * and backward as trunk + head:
 *   forward:  h = arch.forward(inputs); then the LM head (logits, loss) or
 *             the scalar head (values)
 *   backward: the head gives d(loss)/dh; arch.backward takes it through the trunk. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "model/arch.h"
#include "model/heads.h"

/* The architecture c names ("" is GPT-2), or NULL with err filled. */
static const al_arch *arch_of(const al_model_config *c, al_err *err) {
  if (!memchr(c->arch, 0, sizeof c->arch)) return al_fail(err, "architecture name is not terminated"), NULL;
  const char *name = c->arch[0] ? c->arch : "gpt2";
  const al_arch *a = al_arch_find(name);
  if (!a) {
    char known[256];
    al_arch_names(known, sizeof known);
    al_fail(err, "model_type '%.80s' is not supported (expected %s)", name, known);
  }
  return a;
}

int al_model_config_check(const al_model_config *c, al_err *err) {
  if (c->vocab_size < 2 || c->vocab_size > (1 << 24)) return al_fail(err, "vocab_size %d out of range [2, 16777216]", c->vocab_size);
  if (c->n_positions < 1 || c->n_positions > 65536) return al_fail(err, "n_positions %d out of range [1, 65536]", c->n_positions);
  if (c->n_layer < 1 || c->n_layer > 256) return al_fail(err, "n_layer %d out of range [1, 256]", c->n_layer);
  if (c->n_head < 1 || c->n_embd < 1 || c->n_embd > 65536) return al_fail(err, "n_head %d / n_embd %d must be positive", c->n_head, c->n_embd);
  if (c->n_embd % c->n_head) return al_fail(err, "n_embd %d is not divisible by n_head %d", c->n_embd, c->n_head);
  if (c->scalar_head != 0 && c->scalar_head != 1) return al_fail(err, "scalar_head %d must be 0 or 1", c->scalar_head);
  const al_arch *a = arch_of(c, err);
  return a ? a->check(c, err) : -1;
}

void al_model_add_tensor(al_model *m, const char *name, int d0, int d1, int decay) {
  if ((m->ntensors & (m->ntensors - 1)) == 0) /* grow at powers of two */
    m->tensors = al_realloc(m->tensors, (size_t)(m->ntensors ? 2 * m->ntensors : 1) * sizeof(al_tensor));
  al_tensor *t = &m->tensors[m->ntensors++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = d1 ? 2 : 1;
  t->shape[0] = d0;
  t->shape[1] = d1;
  t->numel = (size_t)d0 * (d1 ? d1 : 1);
  t->offset = m->nparams;
  t->decay = decay;
  m->nparams += t->numel;
}

const al_tensor *al_model_tensor(const al_model *m, const char *name) {
  for (int i = 0; i < m->ntensors; i++)
    if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
  return NULL;
}

const al_tensor *al_model_lm_head(const al_model *m) {
  const al_tensor *t = al_model_tensor(m, "lm_head.weight");
  return t ? t : al_model_tensor(m, m->arch->lm_head_tensor);
}

/* The trunk's named pointers and the heads' weights over base (params or grads). */
static void bind(const al_model *m, float *base, void **weights, float **lm_head, float **score) {
  *weights = m->arch->bind(m, base);
  *lm_head = base + al_model_lm_head(m)->offset;
  const al_tensor *s = al_model_tensor(m, AL_SCORE_TENSOR);
  *score = s ? base + s->offset : NULL;
}

/* The table: the trunk's tensors, then the scalar head's. Returns how many the trunk has. */
static int build_table(al_model *m) {
  m->arch->build(m);
  int ntrunk = m->ntensors;
  if (m->cfg.scalar_head) al_model_add_tensor(m, AL_SCORE_TENSOR, 1, m->cfg.n_embd, 1);
  return ntrunk;
}

int al_model_alloc_table(al_model *m, const al_model_config *cfg, al_err *err) {
  memset(m, 0, sizeof *m);
  if (al_model_config_check(cfg, err)) return -1;
  m->cfg = *cfg;
  m->arch = arch_of(cfg, err);
  snprintf(m->cfg.arch, sizeof m->cfg.arch, "%s", m->arch->name);
  m->arch->defaults(&m->cfg);
  if (!(m->cfg.init_std > 0)) m->cfg.init_std = 0.02f;
  build_table(m);
  return 0;
}

void al_model_use_params(al_model *m, float *params, void *map, size_t map_len) {
  m->params = params;
  m->params_map = map;
  m->params_map_len = map_len;
  free(m->weights);
  bind(m, m->params, &m->weights, &m->lm_head, &m->score);
}

int al_model_alloc(al_model *m, const al_model_config *cfg, al_err *err) {
  if (al_model_alloc_table(m, cfg, err)) return -1;
  al_model_use_params(m, al_alloc_floats(m->nparams), NULL, 0);
  return 0;
}

/* The architecture's initialisation of the trunk, then score.weight
 * N(0, init_std) as Hugging Face initialises a Linear. */
int al_model_init(al_model *m, const al_model_config *cfg, uint64_t seed, al_err *err) {
  if (al_model_alloc(m, cfg, err)) return -1;
  al_rng rng;
  al_rng_seed(&rng, seed);
  int ntrunk = m->ntensors - (m->score != NULL);
  m->arch->init(m, ntrunk, &rng);
  if (m->score)
    for (int i = 0; i < m->cfg.n_embd; i++) m->score[i] = (float)(m->cfg.init_std * al_rng_normal(&rng));
  return 0;
}

void al_model_free(al_model *m) {
  if (m->params_map) munmap(m->params_map, m->params_map_len);
  else free(m->params);
  free(m->grads);
  free(m->tensors);
  free(m->weights);
  free(m->grad_weights);
  if (m->arch) m->arch->acts_free(m->acts);
  heads_free(m->heads);
  memset(m, 0, sizeof *m);
}

/* Activations for (B, T), reallocated only when the shape changes. */
static void ensure_acts(al_model *m, int B, int T) {
  if (m->acts && m->B == B && m->T == T) return;
  m->arch->acts_free(m->acts);
  heads_free(m->heads);
  m->acts = m->arch->acts_new(&m->cfg, B, T);
  m->heads = heads_new(&m->cfg, B, T);
  m->B = B;
  m->T = T;
}

float al_model_forward(al_model *m, const int32_t *inputs, const int32_t *targets, int B, int T) {
  ensure_acts(m, B, T);
  m->heads->hidden = m->arch->forward(m, inputs, B, T);
  m->loss = lm_head_forward(m, targets);
  return m->loss;
}

const float *al_model_logits(const al_model *m) { return m->heads ? m->heads->logits : NULL; }
const float *al_model_losses(const al_model *m) { return m->heads ? m->heads->losses : NULL; }

void al_model_zero_grad(al_model *m) {
  if (m->grads) {
    memset(m->grads, 0, m->nparams * sizeof(float));
    return;
  }
  m->grads = al_alloc_floats(m->nparams);
  bind(m, m->grads, &m->grad_weights, &m->d_lm_head, &m->d_score);
}

void al_model_backward(al_model *m, float grad_scale) {
  if (!m->grads) al_model_zero_grad(m);
  if (lm_head_backward(m, grad_scale)) m->arch->backward(m, m->heads->dhidden);
}

void al_model_backward_rows(al_model *m, const float *w) {
  if (!m->grads) al_model_zero_grad(m);
  if (lm_head_backward_rows(m, w)) m->arch->backward(m, m->heads->dhidden);
}

int al_model_forward_scalar(al_model *m, const int32_t *inputs, const int32_t *pos, int B, int T, float *values,
                            al_err *err) {
  if (!m->score) return al_fail(err, "the model has no scalar head (score.weight)");
  for (int b = 0; b < B; b++)
    if (pos[b] < 0 || pos[b] >= T) return al_fail(err, "scalar head position %d of sequence %d is outside [0, %d)", pos[b], b, T);
  ensure_acts(m, B, T);
  m->heads->hidden = m->arch->forward(m, inputs, B, T);
  scalar_head_forward(m, pos, values);
  m->loss = 0.0f;
  return 0;
}

void al_model_backward_scalar(al_model *m, const float *dvalues) {
  if (!m->grads) al_model_zero_grad(m);
  scalar_head_backward(m, dvalues);
  m->arch->backward(m, m->heads->dhidden);
}

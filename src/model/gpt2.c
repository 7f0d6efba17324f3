/* GPT-2: the parameter table, initialisation, and the training forward and
 * backward passes over (B, T) batches.
 *
 * Per layer l, with x the residual stream [N = B*T, C]:
 *   a = x + c_proj(attn(c_attn(ln_1(x))))
 *   x' = a + mlp.c_proj(gelu(mlp.c_fc(ln_2(a))))
 * then logits = ln_f(x_L) @ wte^T. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/model.h"
#include "alab/nn.h"
#include "model/gpt2_acts.h"

int al_gpt2_config_check(const al_gpt2_config *c, al_err *err) {
  if (c->vocab_size < 2 || c->vocab_size > (1 << 24)) return al_fail(err, "vocab_size %d out of range [2, 16777216]", c->vocab_size);
  if (c->n_positions < 1 || c->n_positions > 65536) return al_fail(err, "n_positions %d out of range [1, 65536]", c->n_positions);
  if (c->n_layer < 1 || c->n_layer > 256) return al_fail(err, "n_layer %d out of range [1, 256]", c->n_layer);
  if (c->n_head < 1 || c->n_embd < 1 || c->n_embd > 65536) return al_fail(err, "n_head %d / n_embd %d must be positive", c->n_head, c->n_embd);
  if (c->n_embd % c->n_head) return al_fail(err, "n_embd %d is not divisible by n_head %d", c->n_embd, c->n_head);
  if (!(c->layer_norm_epsilon > 0) || c->layer_norm_epsilon > 1) return al_fail(err, "layer_norm_epsilon %g must be in (0, 1]", c->layer_norm_epsilon);
  return 0;
}

static void add_tensor(al_model *m, int *cap, const char *name, int d0, int d1, int decay) {
  if (m->ntensors == *cap) {
    *cap = *cap ? 2 * *cap : 64;
    m->tensors = al_realloc(m->tensors, *cap * sizeof(al_tensor));
  }
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

/* Hugging Face order and layout; only 2-D tensors (matrices and embeddings) decay. */
static void build_table(al_model *m) {
  const al_gpt2_config *c = &m->cfg;
  int C = c->n_embd, cap = 0;
  char nm[64];
  add_tensor(m, &cap, "wte.weight", c->vocab_size, C, 1);
  add_tensor(m, &cap, "wpe.weight", c->n_positions, C, 1);
  for (int l = 0; l < c->n_layer; l++) {
    static const struct { const char *suffix; int d0, d1; } L[] = {
        {"ln_1.weight", 1, 0}, {"ln_1.bias", 1, 0},       {"attn.c_attn.weight", 1, 3}, {"attn.c_attn.bias", 3, 0},
        {"attn.c_proj.weight", 1, 1}, {"attn.c_proj.bias", 1, 0}, {"ln_2.weight", 1, 0}, {"ln_2.bias", 1, 0},
        {"mlp.c_fc.weight", 1, 4},   {"mlp.c_fc.bias", 4, 0},     {"mlp.c_proj.weight", 4, 1}, {"mlp.c_proj.bias", 1, 0}};
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
      snprintf(nm, sizeof nm, "h.%d.%s", l, L[i].suffix);
      add_tensor(m, &cap, nm, L[i].d0 * C, L[i].d1 * C, L[i].d1 != 0);
    }
  }
  add_tensor(m, &cap, "ln_f.weight", C, 0, 0);
  add_tensor(m, &cap, "ln_f.bias", C, 0, 0);
}

const al_tensor *al_model_tensor(const al_model *m, const char *name) {
  for (int i = 0; i < m->ntensors; i++)
    if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
  return NULL;
}

int al_model_alloc(al_model *m, const al_gpt2_config *cfg, al_err *err) {
  memset(m, 0, sizeof *m);
  if (al_gpt2_config_check(cfg, err)) return -1;
  m->cfg = *cfg;
  if (!(m->cfg.init_std > 0)) m->cfg.init_std = 0.02f;
  build_table(m);
  m->params = al_alloc_floats(m->nparams);
  return 0;
}

int al_model_init(al_model *m, const al_gpt2_config *cfg, uint64_t seed, al_err *err) {
  if (al_model_alloc(m, cfg, err)) return -1;
  al_rng rng;
  al_rng_seed(&rng, seed);
  float std = m->cfg.init_std, resid_std = std / sqrtf(2.0f * cfg->n_layer);
  for (int i = 0; i < m->ntensors; i++) {
    const al_tensor *t = &m->tensors[i];
    float *p = m->params + t->offset;
    const char *n = t->name;
    size_t len = strlen(n);
    int is_ln_weight = strstr(n, "ln_") && len > 7 && !strcmp(n + len - 7, ".weight");
    if (is_ln_weight) {
      for (size_t k = 0; k < t->numel; k++) p[k] = 1.0f;
    } else if (t->ndim == 2) {
      float s = strstr(n, "c_proj.weight") ? resid_std : std;
      for (size_t k = 0; k < t->numel; k++) p[k] = (float)(s * al_rng_normal(&rng));
    } /* biases stay zero */
  }
  return 0;
}

void al_model_free(al_model *m) {
  free(m->params);
  free(m->grads);
  free(m->tensors);
  al_acts_free(m->acts);
  memset(m, 0, sizeof *m);
}

/* Parameter pointers of layer l (or the globals), from the table's fixed order. */
typedef struct {
  float *ln1w, *ln1b, *qkvw, *qkvb, *projw, *projb, *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb;
} layer_params;

static layer_params layer_at(float *base, const al_model *m, int l) {
  const al_tensor *t = &m->tensors[2 + 12 * l]; /* the layer's 12 tensors, in build_table's order */
  layer_params p = {base + t[0].offset, base + t[1].offset, base + t[2].offset,  base + t[3].offset,
                    base + t[4].offset, base + t[5].offset, base + t[6].offset,  base + t[7].offset,
                    base + t[8].offset, base + t[9].offset, base + t[10].offset, base + t[11].offset};
  return p;
}

#define WTE(base) ((base) + m->tensors[0].offset)
#define WPE(base) ((base) + m->tensors[1].offset)
#define LNFW(base) ((base) + m->tensors[m->ntensors - 2].offset)
#define LNFB(base) ((base) + m->tensors[m->ntensors - 1].offset)

float al_model_forward(al_model *m, const int32_t *inputs, const int32_t *targets, int B, int T) {
  const al_gpt2_config *c = &m->cfg;
  int C = c->n_embd, V = c->vocab_size, L = c->n_layer, H = c->n_head, N = B * T;
  float eps = c->layer_norm_epsilon;
  if (!m->acts || m->B != B || m->T != T) {
    al_acts_free(m->acts);
    m->acts = al_acts_new(c, B, T);
    m->B = B;
    m->T = T;
  }
  al_acts *a = m->acts;
  memcpy(a->inputs, inputs, (size_t)N * sizeof(int32_t));
  nn_embedding_forward(a->encoded, inputs, WTE(m->params), WPE(m->params), B, T, C);
  for (int l = 0; l < L; l++) {
    layer_params p = layer_at(m->params, m, l);
    al_layer_acts *la = &a->layer[l];
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    nn_layernorm_forward(la->ln1, la->ln1_mean, la->ln1_rstd, resid, p.ln1w, p.ln1b, N, C, eps);
    nn_matmul_forward(la->qkv, la->ln1, p.qkvw, p.qkvb, N, C, 3 * C);
    nn_attention_forward(la->atty, la->att, la->qkv, B, T, C, H);
    nn_matmul_forward(a->scratch, la->atty, p.projw, p.projb, N, C, C);
    nn_residual_forward(la->res2, resid, a->scratch, (long)N * C);
    nn_layernorm_forward(la->ln2, la->ln2_mean, la->ln2_rstd, la->res2, p.ln2w, p.ln2b, N, C, eps);
    nn_matmul_forward(la->fch, la->ln2, p.fcw, p.fcb, N, C, 4 * C);
    nn_gelu_forward(la->fch_gelu, la->fch, (long)N * 4 * C);
    nn_matmul_forward(a->scratch, la->fch_gelu, p.fcprojw, p.fcprojb, N, 4 * C, C);
    nn_residual_forward(la->res3, la->res2, a->scratch, (long)N * C);
  }
  nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, a->layer[L - 1].res3, LNFW(m->params), LNFB(m->params), N, C, eps);
  nn_lmhead_forward(a->logits, a->lnf, WTE(m->params), N, C, V);
  a->have_targets = targets != NULL;
  m->loss = 0.0f;
  if (targets) {
    memcpy(a->targets, targets, (size_t)N * sizeof(int32_t));
    a->counted = nn_crossentropy_forward(a->losses, a->logits, targets, N, V);
    double s = 0.0;
    for (int n = 0; n < N; n++) s += a->losses[n];
    m->loss = a->counted ? (float)(s / a->counted) : 0.0f;
  }
  return m->loss;
}

const float *al_model_logits(const al_model *m) { return m->acts ? m->acts->logits : NULL; }
const float *al_model_losses(const al_model *m) { return m->acts ? m->acts->losses : NULL; }

void al_model_zero_grad(al_model *m) {
  if (!m->grads) m->grads = al_alloc_floats(m->nparams);
  else memset(m->grads, 0, m->nparams * sizeof(float));
}

void al_model_backward(al_model *m, float grad_scale) {
  const al_gpt2_config *c = &m->cfg;
  int B = m->B, T = m->T, C = c->n_embd, V = c->vocab_size, L = c->n_layer, H = c->n_head, N = B * T;
  al_acts *a = m->acts;
  if (!m->grads) al_model_zero_grad(m);
  if (!a->have_targets || a->counted == 0) return;
  float *g = m->grads;
  /* d(mean loss)/d(logits), in place over the logits */
  nn_crossentropy_backward(a->logits, a->targets, N, V, grad_scale / a->counted);
  float *dres = a->dres;
  nn_lmhead_backward(a->dlnf, WTE(g), a->logits, a->lnf, WTE(m->params), N, C, V);
  memset(dres, 0, (size_t)N * C * sizeof(float));
  nn_layernorm_backward(dres, LNFW(g), LNFB(g), a->dlnf, a->layer[L - 1].res3, LNFW(m->params), a->lnf_mean,
                        a->lnf_rstd, N, C);
  for (int l = L - 1; l >= 0; l--) {
    layer_params p = layer_at(m->params, m, l), dp = layer_at(g, m, l);
    al_layer_acts *la = &a->layer[l];
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    /* dres holds d(res3) = d(res2) from the skip path; add the MLP branch */
    nn_matmul_backward(a->dbuf4, dp.fcprojw, dp.fcprojb, dres, la->fch_gelu, p.fcprojw, N, 4 * C, C);
    nn_gelu_backward(a->dbuf4, la->fch, a->dbuf4, (long)N * 4 * C);
    nn_matmul_backward(a->dbufC, dp.fcw, dp.fcb, a->dbuf4, la->ln2, p.fcw, N, C, 4 * C);
    nn_layernorm_backward(dres, dp.ln2w, dp.ln2b, a->dbufC, la->res2, p.ln2w, la->ln2_mean, la->ln2_rstd, N, C);
    /* dres = d(res2) = d(resid) from the skip path; add the attention branch */
    nn_matmul_backward(a->dbufC, dp.projw, dp.projb, dres, la->atty, p.projw, N, C, C);
    nn_attention_backward(a->dbuf3, a->datt, a->dbufC, la->qkv, la->att, B, T, C, H);
    nn_matmul_backward(a->dbufC, dp.qkvw, dp.qkvb, a->dbuf3, la->ln1, p.qkvw, N, C, 3 * C);
    nn_layernorm_backward(dres, dp.ln1w, dp.ln1b, a->dbufC, resid, p.ln1w, la->ln1_mean, la->ln1_rstd, N, C);
  }
  nn_embedding_backward(WTE(g), WPE(g), dres, a->inputs, B, T, C);
}

/* GPT-2 with Hugging Face's exact semantics: pre-LayerNorm blocks, GELU (tanh
 * form), learned positions, tied token embedding and output head, causal
 * self-attention, biases everywhere. This file: the tensor table, the
 * weights by name, initialisation, the block forward and the training
 * forward and backward over (B, T) batches.
 *
 * Per layer l, with x the residual stream [N = B*T, C]:
 *   a = x + c_proj(attn(c_attn(ln_1(x))))
 *   x' = a + mlp.c_proj(gelu(mlp.c_fc(ln_2(a))))
 * then the final hidden state h = ln_f(x_L), which the heads read. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/gpt2.h"

/* The tensors of block l, "h.l.<suffix>", in Hugging Face order: shape
 * [d0 * C] or [d0 * C, d1 * C], and where its pointer goes in gpt2_layer.
 * Only 2-D tensors (matrices) decay. */
static const struct {
  const char *suffix;
  int d0, d1;
  size_t field;
} LAYER[] = {
    {"ln_1.weight", 1, 0, offsetof(gpt2_layer, ln1w)},         {"ln_1.bias", 1, 0, offsetof(gpt2_layer, ln1b)},
    {"attn.c_attn.weight", 1, 3, offsetof(gpt2_layer, qkvw)},  {"attn.c_attn.bias", 3, 0, offsetof(gpt2_layer, qkvb)},
    {"attn.c_proj.weight", 1, 1, offsetof(gpt2_layer, attprojw)}, {"attn.c_proj.bias", 1, 0, offsetof(gpt2_layer, attprojb)},
    {"ln_2.weight", 1, 0, offsetof(gpt2_layer, ln2w)},         {"ln_2.bias", 1, 0, offsetof(gpt2_layer, ln2b)},
    {"mlp.c_fc.weight", 1, 4, offsetof(gpt2_layer, fcw)},      {"mlp.c_fc.bias", 4, 0, offsetof(gpt2_layer, fcb)},
    {"mlp.c_proj.weight", 4, 1, offsetof(gpt2_layer, fcprojw)}, {"mlp.c_proj.bias", 1, 0, offsetof(gpt2_layer, fcprojb)},
};
enum { NLAYER_TENSORS = sizeof LAYER / sizeof LAYER[0] };

static void build(al_model *m) {
  const al_model_config *c = &m->cfg;
  int C = c->n_embd;
  char nm[64];
  al_model_add_tensor(m, "wte.weight", c->vocab_size, C, 1);
  al_model_add_tensor(m, "wpe.weight", c->n_positions, C, 1);
  for (int l = 0; l < c->n_layer; l++)
    for (int i = 0; i < NLAYER_TENSORS; i++) {
      snprintf(nm, sizeof nm, "h.%d.%s", l, LAYER[i].suffix);
      al_model_add_tensor(m, nm, LAYER[i].d0 * C, LAYER[i].d1 * C, LAYER[i].d1 != 0);
    }
  al_model_add_tensor(m, "ln_f.weight", C, 0, 0);
  al_model_add_tensor(m, "ln_f.bias", C, 0, 0);
}

/* base + the offset of the tensor called name (which build made). */
static float *named(const al_model *m, float *base, const char *name) {
  const al_tensor *t = al_model_tensor(m, name);
  if (!t) {
    fprintf(stderr, "alab: internal error: GPT-2 tensor '%s' is not in the table\n", name);
    abort();
  }
  return base + t->offset;
}

static void *bind(const al_model *m, float *base) {
  int L = m->cfg.n_layer;
  gpt2_weights *w = al_calloc(1, sizeof *w + (size_t)L * sizeof(gpt2_layer));
  char nm[64];
  w->wte = named(m, base, "wte.weight");
  w->wpe = named(m, base, "wpe.weight");
  w->lnfw = named(m, base, "ln_f.weight");
  w->lnfb = named(m, base, "ln_f.bias");
  for (int l = 0; l < L; l++)
    for (int i = 0; i < NLAYER_TENSORS; i++) {
      snprintf(nm, sizeof nm, "h.%d.%s", l, LAYER[i].suffix);
      *(float **)((char *)&w->h[l] + LAYER[i].field) = named(m, base, nm);
    }
  return w;
}

/* As GPT-2 does, over the first ntrunk tensors in table order: LayerNorm
 * weights 1, matrices and embeddings N(0, std) with the residual projections
 * (c_proj) N(0, std / sqrt(2L)), biases 0. */
static void init(al_model *m, int ntrunk, al_rng *rng) {
  float std = m->cfg.init_std, resid_std = std / sqrtf(2.0f * m->cfg.n_layer);
  for (int i = 0; i < ntrunk; i++) {
    const al_tensor *t = &m->tensors[i];
    float *p = m->params + t->offset;
    const char *n = t->name;
    size_t len = strlen(n);
    int is_ln_weight = strstr(n, "ln_") && len > 7 && !strcmp(n + len - 7, ".weight");
    if (is_ln_weight) {
      for (size_t k = 0; k < t->numel; k++) p[k] = 1.0f;
    } else if (t->ndim == 2) {
      float s = strstr(n, "c_proj.weight") ? resid_std : std;
      for (size_t k = 0; k < t->numel; k++) p[k] = (float)(s * al_rng_normal(rng));
    } /* biases stay zero */
  }
}

void gpt2_block_forward(const gpt2_layer *p, int l, const float *x, gpt2_layer_acts *io, float *tmp, int n, int C,
                        float eps, gpt2_matmul_fn matmul, gpt2_attend_fn attend, void *ctx) {
  nn_layernorm_forward(io->ln1, io->ln1_mean, io->ln1_rstd, x, p->ln1w, p->ln1b, n, C, eps);
  matmul(io->qkv, io->ln1, p->qkvw, p->qkvb, n, C, 3 * C);
  attend(ctx, l, io->atty, io->qkv, n);
  matmul(tmp, io->atty, p->attprojw, p->attprojb, n, C, C);
  nn_residual_forward(io->res2, x, tmp, (long)n * C);
  nn_layernorm_forward(io->ln2, io->ln2_mean, io->ln2_rstd, io->res2, p->ln2w, p->ln2b, n, C, eps);
  matmul(io->fch, io->ln2, p->fcw, p->fcb, n, C, 4 * C);
  nn_gelu_forward(io->fch_gelu, io->fch, (long)n * 4 * C);
  matmul(tmp, io->fch_gelu, p->fcprojw, p->fcprojb, n, 4 * C, C);
  nn_residual_forward(io->res3, io->res2, tmp, (long)n * C);
}

/* Training attention: the whole (B, T) batch at once, keeping the
 * probabilities of layer l for backward. */
typedef struct {
  gpt2_acts *a;
  int B, T, C, H;
} batch_attention;

static void attend_batch(void *ctx, int l, float *atty, const float *qkv, int n) {
  const batch_attention *b = ctx;
  (void)n;
  nn_attention_forward(atty, b->a->layer[l].att, qkv, b->B, b->T, b->C, b->H);
}

static const float *forward(al_model *m, const int32_t *inputs, int B, int T) {
  const al_model_config *c = &m->cfg;
  const gpt2_weights *w = m->weights;
  gpt2_acts *a = m->acts;
  int C = c->n_embd, L = c->n_layer, N = B * T;
  float eps = gpt2_hparams_of(c).layer_norm_epsilon;
  batch_attention att = {a, B, T, C, c->n_head};
  memcpy(a->inputs, inputs, (size_t)N * sizeof(int32_t));
  nn_embedding_forward(a->encoded, inputs, w->wte, w->wpe, B, T, C);
  for (int l = 0; l < L; l++) {
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    gpt2_block_forward(&w->h[l], l, resid, &a->layer[l], a->scratch, N, C, eps, nn_matmul_forward, attend_batch, &att);
  }
  nn_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, a->layer[L - 1].res3, w->lnfw, w->lnfb, N, C, eps);
  return a->lnf;
}

static void backward(al_model *m, const float *dhidden) {
  const al_model_config *c = &m->cfg;
  const gpt2_weights *w = m->weights, *dw = m->grad_weights;
  gpt2_acts *a = m->acts;
  int B = m->B, T = m->T, C = c->n_embd, L = c->n_layer, H = c->n_head, N = B * T;
  float *dres = a->dres;
  memset(dres, 0, (size_t)N * C * sizeof(float));
  nn_layernorm_backward(dres, dw->lnfw, dw->lnfb, dhidden, a->layer[L - 1].res3, w->lnfw, a->lnf_mean, a->lnf_rstd, N, C);
  for (int l = L - 1; l >= 0; l--) {
    const gpt2_layer *p = &w->h[l], *dp = &dw->h[l];
    gpt2_layer_acts *la = &a->layer[l];
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    /* dres holds d(res3) = d(res2) from the skip path; add the MLP branch */
    nn_matmul_backward(a->dbuf4, dp->fcprojw, dp->fcprojb, dres, la->fch_gelu, p->fcprojw, N, 4 * C, C);
    nn_gelu_backward(a->dbuf4, la->fch, a->dbuf4, (long)N * 4 * C);
    nn_matmul_backward(a->dbufC, dp->fcw, dp->fcb, a->dbuf4, la->ln2, p->fcw, N, C, 4 * C);
    nn_layernorm_backward(dres, dp->ln2w, dp->ln2b, a->dbufC, la->res2, p->ln2w, la->ln2_mean, la->ln2_rstd, N, C);
    /* dres = d(res2) = d(resid) from the skip path; add the attention branch */
    nn_matmul_backward(a->dbufC, dp->attprojw, dp->attprojb, dres, la->atty, p->attprojw, N, C, C);
    nn_attention_backward(a->dbuf3, a->datt, a->dbufC, la->qkv, la->att, B, T, C, H);
    nn_matmul_backward(a->dbufC, dp->qkvw, dp->qkvb, a->dbuf3, la->ln1, p->qkvw, N, C, 3 * C);
    nn_layernorm_backward(dres, dp->ln1w, dp->ln1b, a->dbufC, resid, p->ln1w, la->ln1_mean, la->ln1_rstd, N, C);
    if (m->layer_done) m->layer_done(m->layer_done_ctx, l);
  }
  nn_embedding_backward(dw->wte, dw->wpe, dres, a->inputs, B, T, C);
}

const al_arch al_arch_gpt2 = {
    .name = "gpt2",
    .hf_class = "GPT2",
    .lm_head_tensor = "wte.weight", /* tied */
    .seq_cls_prefix = "transformer.",
    .defaults = gpt2_defaults,
    .check = gpt2_check,
    .config_read = gpt2_config_read,
    .config_write = gpt2_config_write,
    .is_buffer = gpt2_is_buffer,
    .build = build,
    .init = init,
    .bind = bind,
    .acts_new = gpt2_acts_new,
    .acts_free = gpt2_acts_free,
    .forward = forward,
    .backward = backward,
    .decoder_state_new = gpt2_decoder_state_new,
    .decoder_state_free = gpt2_decoder_state_free,
    .decode_rows = gpt2_decode_rows,
};

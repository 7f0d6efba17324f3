/* Llama with Hugging Face's exact semantics (LlamaForCausalLM): pre-RMSNorm
 * blocks, rotary positions (rotate_half), grouped-query attention, SwiGLU
 * MLP, no position embedding, an output head tied to the token embedding or
 * not, biases only when attention_bias / mlp_bias say so. This file: the
 * tensor table, the weights by name, initialisation, the block forward and
 * the training forward and backward over (B, T) batches.
 *
 * Per layer l, with x the residual stream [N = B*T, C]:
 *   q, k, v = rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1),  n1 = rmsnorm_1(x)
 *   a  = x + o_proj(gqa_attention(q, k, v))
 *   x' = a + down_proj(silu(gate_proj(n2)) * up_proj(n2)),  n2 = rmsnorm_2(a)
 * then the final hidden state h = norm(x_L), which the heads read.
 * Tensor names are the full HF names ("model.layers.0.self_attn.q_proj.weight"),
 * Linear weights [out, in]. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/llama.h"

/* The tensors of block l, "model.layers.l.<suffix>", in table order: rows
 * and columns (in units given by `R`/`K` below), whether the tensor exists
 * only with attention_bias (1) or mlp_bias (2), and where its pointer goes.
 * q, k, v are consecutive (one [W, C] matrix), as are gate and up. */
enum { D_C, D_KV, D_I, D_0 };
static const struct {
  const char *suffix;
  int rows, cols, bias;
  size_t field;
} LAYER[] = {
    {"input_layernorm.weight", D_C, D_0, 0, offsetof(llama_layer, ln1w)},
    {"self_attn.q_proj.weight", D_C, D_C, 0, offsetof(llama_layer, qkvw)},
    {"self_attn.k_proj.weight", D_KV, D_C, 0, SIZE_MAX},
    {"self_attn.v_proj.weight", D_KV, D_C, 0, SIZE_MAX},
    {"self_attn.q_proj.bias", D_C, D_0, 1, offsetof(llama_layer, qkvb)},
    {"self_attn.k_proj.bias", D_KV, D_0, 1, SIZE_MAX},
    {"self_attn.v_proj.bias", D_KV, D_0, 1, SIZE_MAX},
    {"self_attn.o_proj.weight", D_C, D_C, 0, offsetof(llama_layer, ow)},
    {"self_attn.o_proj.bias", D_C, D_0, 1, offsetof(llama_layer, ob)},
    {"post_attention_layernorm.weight", D_C, D_0, 0, offsetof(llama_layer, ln2w)},
    {"mlp.gate_proj.weight", D_I, D_C, 0, offsetof(llama_layer, guw)},
    {"mlp.up_proj.weight", D_I, D_C, 0, SIZE_MAX},
    {"mlp.gate_proj.bias", D_I, D_0, 2, offsetof(llama_layer, gub)},
    {"mlp.up_proj.bias", D_I, D_0, 2, SIZE_MAX},
    {"mlp.down_proj.weight", D_C, D_I, 0, offsetof(llama_layer, downw)},
    {"mlp.down_proj.bias", D_C, D_0, 2, offsetof(llama_layer, downb)},
};
enum { NLAYER_TENSORS = sizeof LAYER / sizeof LAYER[0] };

llama_dims llama_dims_of(const al_model_config *c) {
  llama_hparams h = llama_hparams_of(c);
  llama_dims d = {.C = c->n_embd, .H = c->n_head, .KVH = h.n_kv_head, .hs = c->n_embd / c->n_head,
                  .F = h.intermediate_size, .eps = h.rms_norm_eps};
  d.KV = d.KVH * d.hs;
  d.W = d.C + 2 * d.KV;
  return d;
}

static int has(const llama_hparams *h, int bias) {
  return bias == 0 || (bias == 1 && h->attention_bias) || (bias == 2 && h->mlp_bias);
}

static int dim(const llama_dims *d, int which) {
  return which == D_C ? d->C : which == D_KV ? d->KV : which == D_I ? d->F : 0;
}

static void build(al_model *m) {
  const al_model_config *c = &m->cfg;
  llama_hparams h = llama_hparams_of(c);
  llama_dims d = llama_dims_of(c);
  char nm[64];
  al_model_add_tensor(m, "model.embed_tokens.weight", c->vocab_size, d.C, 1);
  for (int l = 0; l < c->n_layer; l++)
    for (int i = 0; i < NLAYER_TENSORS; i++) {
      if (!has(&h, LAYER[i].bias)) continue;
      snprintf(nm, sizeof nm, "model.layers.%d.%s", l, LAYER[i].suffix);
      al_model_add_tensor(m, nm, dim(&d, LAYER[i].rows), dim(&d, LAYER[i].cols), LAYER[i].cols != D_0);
    }
  al_model_add_tensor(m, "model.norm.weight", d.C, 0, 0);
  /* a sequence classifier (scalar head) has no LM head of its own, as in HF */
  if (!h.tie_word_embeddings && !c->scalar_head) al_model_add_tensor(m, "lm_head.weight", c->vocab_size, d.C, 1);
}

/* base + the offset of the tensor called name (which build made). */
static float *named(const al_model *m, float *base, const char *name) {
  const al_tensor *t = al_model_tensor(m, name);
  if (!t) {
    fprintf(stderr, "alab: internal error: Llama tensor '%s' is not in the table\n", name);
    abort();
  }
  return base + t->offset;
}

static void *bind(const al_model *m, float *base) {
  int L = m->cfg.n_layer;
  llama_hparams h = llama_hparams_of(&m->cfg);
  llama_weights *w = al_calloc(1, sizeof *w + (size_t)L * sizeof(llama_layer));
  char nm[64];
  w->wte = named(m, base, "model.embed_tokens.weight");
  w->normw = named(m, base, "model.norm.weight");
  w->lm_head = h.tie_word_embeddings || m->cfg.scalar_head ? w->wte : named(m, base, "lm_head.weight");
  for (int l = 0; l < L; l++)
    for (int i = 0; i < NLAYER_TENSORS; i++) {
      if (LAYER[i].field == SIZE_MAX || !has(&h, LAYER[i].bias)) continue;
      snprintf(nm, sizeof nm, "model.layers.%d.%s", l, LAYER[i].suffix);
      *(float **)((char *)&w->h[l] + LAYER[i].field) = named(m, base, nm);
    }
  return w;
}

/* Over the first ntrunk tensors in table order: RMSNorm weights 1, matrices
 * and embeddings N(0, std), the residual projections (o_proj, down_proj)
 * N(0, std / sqrt(2L)) as llama2.c's model.py does, biases 0. */
static void init(al_model *m, int ntrunk, al_rng *rng) {
  float std = m->cfg.init_std, resid_std = std / sqrtf(2.0f * m->cfg.n_layer);
  for (int i = 0; i < ntrunk; i++) {
    const al_tensor *t = &m->tensors[i];
    float *p = m->params + t->offset;
    if (strstr(t->name, "norm.weight")) {
      for (size_t k = 0; k < t->numel; k++) p[k] = 1.0f;
    } else if (t->ndim == 2) {
      float s = strstr(t->name, "o_proj.weight") || strstr(t->name, "down_proj.weight") ? resid_std : std;
      for (size_t k = 0; k < t->numel; k++) p[k] = (float)(s * al_rng_normal(rng));
    } /* biases stay zero */
  }
}

void llama_block_forward(const llama_layer *p, int l, const float *x, llama_layer_acts *io, float *tmp, int n,
                         const llama_dims *d, const float *rope, const int *pos, int T, llama_attend_fn attend,
                         void *ctx) {
  int C = d->C, W = d->W, F = d->F;
  nn_rmsnorm_forward(io->ln1, io->ln1_rstd, x, p->ln1w, n, C, d->eps);
  nn_linear_forward(io->qkv, io->ln1, p->qkvw, p->qkvb, n, C, W);
  nn_rope(io->qkv, rope, pos, T, n, W, d->H, d->hs, 0);
  nn_rope(io->qkv + C, rope, pos, T, n, W, d->KVH, d->hs, 0);
  attend(ctx, l, io->atty, io->qkv, n);
  nn_linear_forward(tmp, io->atty, p->ow, p->ob, n, C, C);
  nn_residual_forward(io->res2, x, tmp, (long)n * C);
  nn_rmsnorm_forward(io->ln2, io->ln2_rstd, io->res2, p->ln2w, n, C, d->eps);
  nn_linear_forward(io->gu, io->ln2, p->guw, p->gub, n, C, 2 * F);
  nn_swiglu_forward(io->hmid, io->gu, n, F);
  nn_linear_forward(tmp, io->hmid, p->downw, p->downb, n, F, C);
  nn_residual_forward(io->res3, io->res2, tmp, (long)n * C);
}

/* Training attention: the whole (B, T) batch at once, keeping the
 * probabilities of layer l for backward. */
typedef struct {
  llama_acts *a;
  int B, T;
  const llama_dims *d;
} batch_attention;

static void attend_batch(void *ctx, int l, float *atty, const float *qkv, int n) {
  const batch_attention *b = ctx;
  (void)n;
  nn_attention_gqa_forward(atty, b->a->layer[l].att, qkv, b->B, b->T, b->d->H, b->d->KVH, b->d->hs);
}

static const float *forward(al_model *m, const int32_t *inputs, int B, int T) {
  const llama_weights *w = m->weights;
  llama_acts *a = m->acts;
  llama_dims d = llama_dims_of(&m->cfg);
  int C = d.C, L = m->cfg.n_layer, N = B * T;
  batch_attention att = {a, B, T, &d};
  memcpy(a->inputs, inputs, (size_t)N * sizeof(int32_t));
  for (int n = 0; n < N; n++) memcpy(a->encoded + (size_t)n * C, w->wte + (size_t)inputs[n] * C, C * sizeof(float));
  for (int l = 0; l < L; l++) {
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    llama_block_forward(&w->h[l], l, resid, &a->layer[l], a->scratch, N, &d, a->rope, NULL, T, attend_batch, &att);
  }
  nn_rmsnorm_forward(a->normed, a->norm_rstd, a->layer[L - 1].res3, w->normw, N, C, d.eps);
  return a->normed;
}

static void backward(al_model *m, const float *dhidden) {
  const llama_weights *w = m->weights, *dw = m->grad_weights;
  llama_acts *a = m->acts;
  llama_dims d = llama_dims_of(&m->cfg);
  int B = m->B, T = m->T, C = d.C, W = d.W, F = d.F, L = m->cfg.n_layer, N = B * T;
  float *dres = a->dres;
  memset(dres, 0, (size_t)N * C * sizeof(float));
  nn_rmsnorm_backward(dres, dw->normw, dhidden, a->layer[L - 1].res3, w->normw, a->norm_rstd, N, C);
  for (int l = L - 1; l >= 0; l--) {
    const llama_layer *p = &w->h[l], *dp = &dw->h[l];
    llama_layer_acts *la = &a->layer[l];
    const float *resid = l == 0 ? a->encoded : a->layer[l - 1].res3;
    /* dres holds d(res3) = d(res2) from the skip path; add the MLP branch */
    nn_linear_backward(a->dbufI, dp->downw, dp->downb, dres, la->hmid, p->downw, N, F, C);
    nn_swiglu_backward(a->dbufGU, a->dbufI, la->gu, N, F);
    nn_linear_backward(a->dbufC, dp->guw, dp->gub, a->dbufGU, la->ln2, p->guw, N, C, 2 * F);
    nn_rmsnorm_backward(dres, dp->ln2w, a->dbufC, la->res2, p->ln2w, la->ln2_rstd, N, C);
    /* dres = d(res2) = d(resid) from the skip path; add the attention branch */
    nn_linear_backward(a->dbufC, dp->ow, dp->ob, dres, la->atty, p->ow, N, C, C);
    nn_attention_gqa_backward(a->dbufW, a->datt, a->dbufC, la->qkv, la->att, B, T, d.H, d.KVH, d.hs);
    nn_rope(a->dbufW, a->rope, NULL, T, N, W, d.H, d.hs, 1);
    nn_rope(a->dbufW + C, a->rope, NULL, T, N, W, d.KVH, d.hs, 1);
    nn_linear_backward(a->dbufC, dp->qkvw, dp->qkvb, a->dbufW, la->ln1, p->qkvw, N, C, W);
    nn_rmsnorm_backward(dres, dp->ln1w, a->dbufC, resid, p->ln1w, la->ln1_rstd, N, C);
    if (m->layer_done) m->layer_done(m->layer_done_ctx, l);
  }
  /* d(embed_tokens)[tok] += dres, rows in order (repeated tokens add deterministically) */
  for (int n = 0; n < N; n++) {
    float *e = dw->wte + (size_t)a->inputs[n] * C;
    const float *g = dres + (size_t)n * C;
    for (int c = 0; c < C; c++) e[c] += g[c];
  }
}

const al_arch al_arch_llama = {
    .name = "llama",
    .hf_class = "Llama",
    .causal_lm_class = "LlamaForCausalLM",
    .lm_head_tensor = "model.embed_tokens.weight", /* when tied; else lm_head.weight is in the table */
    .defaults = llama_defaults,
    .check = llama_check,
    .config_read = llama_config_read,
    .config_write = llama_config_write,
    .is_buffer = llama_is_buffer,
    .build = build,
    .init = init,
    .bind = bind,
    .acts_new = llama_acts_new,
    .acts_free = llama_acts_free,
    .forward = forward,
    .backward = backward,
    .decoder_state_new = llama_decoder_state_new,
    .decoder_state_free = llama_decoder_state_free,
    .decode_rows = llama_decode_rows,
};

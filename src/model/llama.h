/* Llama inside alab (Hugging Face's LlamaForCausalLM): its hyperparameters,
 * its weights by name, its activations, and the one block forward that
 * training (llama.c) and decoding (llama_decode.c) share. */
#ifndef ALAB_MODEL_LLAMA_H
#define ALAB_MODEL_LLAMA_H
#include "alab/model.h"
#include "model/arch.h"

/* What only Llama has (stored in al_model_config.arch_hparams; a zero field
 * means its default). */
typedef struct {
  float rms_norm_eps;      /* 1e-6 */
  float rope_theta;        /* 10000 */
  int n_kv_head;           /* num_key_value_heads: n_head */
  int intermediate_size;   /* 8 n_embd / 3 rounded up to a multiple of 16 */
  int tie_word_embeddings; /* 0: lm_head.weight is its own tensor (HF's default) */
  int attention_bias;      /* q, k, v and o projections have biases */
  int mlp_bias;            /* gate, up and down projections have biases */
  int bos_token_id, eos_token_id; /* stored + 1 (0: not given) */
} llama_hparams;
llama_hparams llama_hparams_of(const al_model_config *c); /* defaults filled in */
void llama_hparams_set(al_model_config *c, const llama_hparams *h);

/* Sizes every kernel call needs: C = n_embd = H * hs, key/value width
 * KV = KVH * hs, qkv row width W = C + 2 KV, MLP width F. */
typedef struct {
  int C, H, KVH, hs, KV, W, F;
  float eps;
} llama_dims;
llama_dims llama_dims_of(const al_model_config *c);

/* The weights of one block. q, k, v (and gate, up) are consecutive tensors
 * of the buffer, so qkvw is one [W, C] matrix and guw one [2I, C]. */
typedef struct {
  float *ln1w, *qkvw, *qkvb, *ow, *ob, *ln2w, *guw, *gub, *downw, *downb; /* biases NULL when absent */
} llama_layer;

typedef struct {
  float *wte, *normw, *lm_head; /* lm_head == wte when tied */
  llama_layer h[];              /* n_layer */
} llama_weights;

/* What a block keeps of its forward (training), or its scratch (decoding). */
typedef struct {
  float *ln1, *ln1_rstd, *qkv, *att, *atty, *res2, *ln2, *ln2_rstd, *gu, *hmid, *res3;
} llama_layer_acts;

typedef struct {
  float *block; /* one allocation holds every float buffer below */
  int32_t *inputs;
  float *rope;  /* [T, hs] */
  float *encoded, *normed, *norm_rstd, *scratch;
  float *dres, *dbufC, *dbufW, *dbufGU, *dbufI, *datt; /* backward scratch */
  llama_layer_acts *layer;
} llama_acts;

/* Causal self-attention of block l: atty[n, C] from the roped qkv[n, W]. */
typedef void (*llama_attend_fn)(void *ctx, int l, float *atty, const float *qkv, int n);

/* One block over n rows at positions pos (NULL: row % T), from the residual
 * stream x[n, C], rope the [T or maxT, hs] table:
 *   qkv = rope([q|k|v](rmsnorm_1(x)));  res2 = x + o_proj(attend(qkv))
 *   res3 = res2 + down(swiglu([gate|up](rmsnorm_2(res2))))
 * (the decoder passes res2 == res3 == x, updating in place); tmp is [n, C]. */
void llama_block_forward(const llama_layer *p, int l, const float *x, llama_layer_acts *io, float *tmp, int n,
                         const llama_dims *d, const float *rope, const int *pos, int T, llama_attend_fn attend,
                         void *ctx);

/* llama_acts.c */
void *llama_acts_new(const al_model_config *c, int B, int T);
void llama_acts_free(void *acts);

/* llama_decode.c */
void *llama_decoder_state_new(const al_model *m, int rows);
void llama_decoder_state_free(void *state);
const float *llama_decode_rows(const al_model *m, void **states, const int *pos, const int32_t *tok, int n, int first);

/* llama_config.c */
void llama_defaults(al_model_config *c);
int llama_check(const al_model_config *c, al_err *err);
int llama_config_read(const json_t *j, al_model_config *c, const char *path, al_err *err);
void llama_config_write(json_t *j, const al_model_config *c, int eos);
int llama_is_buffer(const char *name);
#endif

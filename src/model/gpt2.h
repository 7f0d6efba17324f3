/* GPT-2 inside alab: its hyperparameters, its weights by name, and the one
 * block forward that training (gpt2.c) and decoding (gpt2_decode.c) share. */
#ifndef ALAB_MODEL_GPT2_H
#define ALAB_MODEL_GPT2_H
#include "alab/model.h"
#include "model/arch.h"
#include "model/gpt2_acts.h"

/* What only GPT-2 has (stored in al_model_config.arch_hparams; 0: default). */
typedef struct {
  float layer_norm_epsilon; /* 1e-5 */
} gpt2_hparams;
gpt2_hparams gpt2_hparams_of(const al_model_config *c); /* defaults filled in */
void gpt2_hparams_set(al_model_config *c, const gpt2_hparams *h);

/* The weights of one block, resolved by name ("h.L.ln_1.weight", ...). */
typedef struct {
  float *ln1w, *ln1b, *qkvw, *qkvb, *attprojw, *attprojb, *ln2w, *ln2b, *fcw, *fcb, *fcprojw, *fcprojb;
} gpt2_layer;

typedef struct {
  float *wte, *wpe, *lnfw, *lnfb;
  gpt2_layer h[]; /* n_layer */
} gpt2_weights;

/* out[n, OC] = inp[n, IC] @ W + b: nn_matmul_forward in training,
 * al_decode_matmul in decoding. */
typedef void (*gpt2_matmul_fn)(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC);
/* Causal self-attention of block l: atty[n, C] from qkv[n, 3C]. */
typedef void (*gpt2_attend_fn)(void *ctx, int l, float *atty, const float *qkv, int n);

/* One block over n rows, from the residual stream x[n, C]:
 *   res2 = x + attn.c_proj(attend(attn.c_attn(ln_1(x))))
 *   res3 = res2 + mlp.c_proj(gelu(mlp.c_fc(ln_2(res2))))
 * into the buffers of io (mean/rstd may be NULL; the decoder passes
 * res2 == res3 == x and fch_gelu == fch, updating in place); tmp is [n, C]. */
void gpt2_block_forward(const gpt2_layer *p, int l, const float *x, gpt2_layer_acts *io, float *tmp, int n, int C,
                        float eps, gpt2_matmul_fn matmul, gpt2_attend_fn attend, void *ctx);

/* gpt2_decode.c */
void *gpt2_decoder_state_new(const al_model *m, int rows);
void gpt2_decoder_state_free(void *state);
const float *gpt2_decode_rows(const al_model *m, void **states, const int *pos, const int32_t *tok, int n, int first);

/* gpt2_config.c */
void gpt2_defaults(al_model_config *c);
int gpt2_check(const al_model_config *c, al_err *err);
int gpt2_config_read(const json_t *j, al_model_config *c, const char *path, al_err *err);
void gpt2_config_write(json_t *j, const al_model_config *c, int eos);
int gpt2_is_buffer(const char *name);
#endif

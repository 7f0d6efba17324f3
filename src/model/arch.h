/* The table of functions an architecture provides. Adding one (Llama: RMSNorm,
 * RoPE, SwiGLU, GQA) is a new file that defines an al_arch plus one line in
 * the registry (src/model/arch.c); the generic model (model.c), the heads
 * (heads.c), the decoder (decode.c) and the model directory loader
 * (src/io/model_dir.c) reach it only through this table.
 *
 * Contract: forward leaves the final hidden state h [B*T, C] (after the last
 * norm) and returns it; the heads turn h into logits or values; backward gets
 * d(loss)/dh and accumulates every trunk gradient. decode_rows is the same
 * trunk for n rows of KV-cache decoders and returns their final hidden rows. */
#ifndef ALAB_MODEL_ARCH_H
#define ALAB_MODEL_ARCH_H
#include <jansson.h>
#include "alab/model.h"

struct al_arch {
  const char *name;     /* model_type in config.json */
  const char *hf_class; /* Hugging Face class prefix: "GPT2" (GPT2LMHeadModel, GPT2ForSequenceClassification) */
  /* the HF name of the tensor whose rows are the output embedding E of the LM
   * head when the table has no "lm_head.weight" of its own (al_model_lm_head) */
  const char *lm_head_tensor;
  /* the language model's HF class when it is not <hf_class>LMHeadModel
   * ("LlamaForCausalLM"); NULL otherwise */
  const char *causal_lm_class;
  /* the prefix of the trunk's tensor names in a <hf_class>ForSequenceClassification
   * checkpoint (GPT-2: "transformer."); NULL when the names are the same as
   * in the language model (Llama's "model.*") */
  const char *seq_cls_prefix;
  /* fills the defaults of the zero fields of c->arch_hparams */
  void (*defaults)(al_model_config *c);
  /* checks the architecture's own hyperparameters in c->arch_hparams */
  int (*check)(const al_model_config *c, al_err *err);
  /* config.json: reads the architecture's keys into c (common fields and
   * arch_hparams; path names the file in errors), and adds them to j after
   * "architectures" (eos: the bos/eos token id) */
  int (*config_read)(const json_t *j, al_model_config *c, const char *path, al_err *err);
  void (*config_write)(json_t *j, const al_model_config *c, int eos);
  /* whether a checkpoint tensor (name without "transformer.") is a
   * non-parameter buffer that loading skips (GPT-2's attention masks) */
  int (*is_buffer)(const char *name);
  /* appends the trunk's tensors with al_model_add_tensor */
  void (*build)(al_model *m);
  /* random initialisation of the trunk's tensors (the first ntrunk of the table) */
  void (*init)(al_model *m, int ntrunk, al_rng *rng);
  /* named pointers into a buffer laid out like params (free with free()) */
  void *(*bind)(const al_model *m, float *base);
  /* training: activations sized for (B, T), forward, backward */
  void *(*acts_new)(const al_model_config *c, int B, int T);
  void (*acts_free)(void *acts);
  const float *(*forward)(al_model *m, const int32_t *inputs, int B, int T);
  void (*backward)(al_model *m, const float *dhidden);
  /* decoding: one decoder's cache and scratch (rows: the most rows fed at
   * once), and the forward of n rows, row r being token tok[r] at position
   * pos[r] of the decoder whose state is states[r] (states[0] lends its
   * scratch); returns the final hidden rows first..n-1 */
  void *(*decoder_state_new)(const al_model *m, int rows);
  void (*decoder_state_free)(void *state);
  const float *(*decode_rows)(const al_model *m, void **states, const int *pos, const int32_t *tok, int n, int first);
};

/* The registry: the architecture of a model_type, or NULL. */
const al_arch *al_arch_find(const char *name);
/* The names of every registered architecture, quoted and comma-separated (for errors). */
void al_arch_names(char *out, size_t n);
/* Decoders feed at most this many rows at once; up to AL_DECODE_SMALL_ROWS
 * rows al_decode_matmul streams each weight matrix once for all rows
 * (nn_matmul_rows), above it uses sgemm (nn_matmul_forward). */
enum { AL_DECODE_CHUNK = 64, AL_DECODE_SMALL_ROWS = AL_DECODER_STEP_MAX };
void al_decode_matmul(float *out, const float *inp, const float *W, const float *b, int n, int IC, int OC);
/* The output embedding E of the LM head: "lm_head.weight" when the table
 * has it (an untied head), else the architecture's lm_head_tensor. */
const al_tensor *al_model_lm_head(const al_model *m);
/* Appends a tensor of shape [d0] (d1 == 0) or [d0, d1] to m's table. */
void al_model_add_tensor(al_model *m, const char *name, int d0, int d1, int decay);
#endif

/* Models behind one interface. A model is an architecture (GPT-2 now: see
 * src/model/arch.h for the table of functions each one provides and
 * src/model/arch.c for the registry) plus heads:
 *   - the language-model head: logits = h @ E^T over the final hidden state h
 *     (after the last norm), E the architecture's output embedding (GPT-2: tied
 *     to wte, so it has no parameters of its own);
 *   - optionally a scalar head for reward and value models:
 *     value = score . h[pos], a d_model -> 1 linear without bias on the final
 *     hidden state at a chosen position, stored as "score.weight" [1, C] as
 *     Hugging Face's GPT2ForSequenceClassification names it.
 *
 * All parameters live in one contiguous float buffer, laid out tensor by
 * tensor in Hugging Face order and layout (Conv1D weights [in, out]), so a
 * safetensors file is a straight copy. Gradients mirror it. Code reaches a
 * weight through pointers resolved once by name, never by position. */
#ifndef ALAB_MODEL_H
#define ALAB_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "alab/base.h"

/* What every caller needs, whatever the architecture. */
typedef struct {
  char arch[16];   /* model_type of config.json: "gpt2" ("" means "gpt2") */
  int vocab_size;  /* V */
  int n_positions; /* maximum context */
  int n_layer, n_head, n_embd;
  float init_std;  /* initializer_range; 0 means 0.02 */
  int scalar_head; /* 1: add the scalar head (score.weight) */
  /* The architecture's own hyperparameters (GPT-2: layer_norm_epsilon),
   * read and written only by its file; all zero means its defaults. */
  unsigned char arch_hparams[64];
} al_model_config;

/* A tensor of the parameter buffer: HF name (without "transformer."), shape,
 * offset into params, and whether AdamW decays it (2-D tensors do). */
typedef struct {
  char name[64];
  int ndim;
  int shape[2];
  size_t offset, numel;
  int decay;
} al_tensor;

#define AL_SCORE_TENSOR "score.weight"

typedef struct al_arch al_arch;
typedef struct al_head_acts al_head_acts;

typedef struct {
  al_model_config cfg;  /* arch filled in ("gpt2"), init_std resolved */
  const al_arch *arch;
  al_tensor *tensors;
  int ntensors;
  size_t nparams;
  float *params;        /* nparams */
  float *grads;         /* nparams, allocated on first backward */
  void *weights;        /* the architecture's named pointers into params */
  void *grad_weights;   /* the same names into grads */
  float *lm_head, *score;       /* head weights in params (score NULL without the scalar head) */
  float *d_lm_head, *d_score;   /* the same in grads */
  void *acts;           /* the architecture's activations for (B, T) */
  al_head_acts *heads;  /* the heads' activations for (B, T) */
  int B, T;             /* the shape acts are sized for */
  float loss;           /* mean loss of the last forward with targets */
  void *params_map;     /* when params lie in a private (copy-on-write) mapping of the model file */
  size_t params_map_len;
  /* Called by every backward pass as soon as layer l's parameter gradients
   * are final for that pass, layers L-1 down to 0: data parallelism starts
   * summing them over ranks then (src/train/data_parallel.c). NULL: none. */
  void (*layer_done)(void *ctx, int layer);
  void *layer_done_ctx;
} al_model;

/* Checks a config: positive sizes, n_embd divisible by n_head, a known
 * architecture and valid hyperparameters of it. */
int al_model_config_check(const al_model_config *c, al_err *err);
/* Sets the architecture of a model an experiment trains from scratch (its
 * --arch): "gpt2" or "llama", with that architecture's defaults (Llama:
 * kv heads = heads, SwiGLU width 8C/3 rounded up to 16, untied head, rms eps
 * 1e-6, rope theta 10000); anything else fails naming the known ones. One
 * function for every experiment, so each takes --arch the same way. */
int al_model_config_set_arch(al_model_config *c, const char *arch, al_err *err);
/* Builds the tensor table and allocates params; initialises as the
 * architecture does (GPT-2: N(0, init_std) matrices and embeddings, c_proj
 * weights N(0, init_std/sqrt(2L)), zero biases, LayerNorm weight 1 / bias 0;
 * then score.weight N(0, init_std)). */
int al_model_init(al_model *m, const al_model_config *cfg, uint64_t seed, al_err *err);
/* The same table and buffer with every parameter zero (for loaders). */
int al_model_alloc(al_model *m, const al_model_config *cfg, al_err *err);
/* The tensor table without a parameter buffer; the caller gives one with
 * al_model_use_params: nparams floats, owned by the model from then on
 * (free()d, or unmapped when map is non-NULL: a mapping of map_len bytes
 * that holds them). */
int al_model_alloc_table(al_model *m, const al_model_config *cfg, al_err *err);
void al_model_use_params(al_model *m, float *params, void *map, size_t map_len);
void al_model_free(al_model *m);
const al_tensor *al_model_tensor(const al_model *m, const char *name);

/* Training forward (LM head) over inputs/targets [B*T]; targets may be NULL
 * (then only logits). Returns the mean cross-entropy (or 0). Resizes
 * activations if (B, T) changed (allocates once per shape). */
float al_model_forward(al_model *m, const int32_t *inputs, const int32_t *targets, int B, int T);
/* Logits [B, T, V] of the last forward. */
const float *al_model_logits(const al_model *m);
/* Per-position losses [B, T] of the last forward with targets. */
const float *al_model_losses(const al_model *m);
void al_model_zero_grad(al_model *m);
/* Accumulates d(mean loss)/d(params) * grad_scale into grads (call
 * zero_grad first; grad_scale = 1/accum_steps for accumulation). */
void al_model_backward(al_model *m, float grad_scale);
/* Accumulates into grads the gradient of sum_n w[n] * CE_n over the B*T
 * positions of the last forward with targets (CE_n = -log p(targets[n]);
 * positions with a negative target contribute nothing): a loss over
 * sequence log-probs (DPO) gives w[n] = d(loss)/d(CE_n). */
void al_model_backward_rows(al_model *m, const float *w);

/* Scalar head forward over inputs [B*T] (no logits): values[b] =
 * score . h[b, pos[b]], h the final hidden state. Fails without the scalar
 * head or on a position outside [0, T). */
int al_model_forward_scalar(al_model *m, const int32_t *inputs, const int32_t *pos, int B, int T, float *values,
                            al_err *err);
/* Accumulates d(loss)/d(params) into grads given dvalues[b] = d(loss)/d(values[b])
 * for the last al_model_forward_scalar. */
void al_model_backward_scalar(al_model *m, const float *dvalues);

/* Policy and value in one pass (RL with a value head on the policy's trunk,
 * src/model/policy_value.c): the logits [B, T, V] of al_model_forward
 * (no targets) and, when values is given, values[n] = score . h[n] at every
 * position n of the B x T rows (fails without the scalar head). */
int al_model_forward_pv(al_model *m, const int32_t *inputs, int B, int T, float *values, al_err *err);
/* The logits buffer of the last forward, writable: a loss may overwrite it
 * with d(loss)/d(logits) for al_model_backward_pv. */
float *al_model_logits_rw(al_model *m);
/* Accumulates grads given dlogits [B*T, V] (may be al_model_logits_rw's
 * buffer) and dvalues [B*T] (NULL: none) of the last al_model_forward_pv. */
void al_model_backward_pv(al_model *m, const float *dlogits, const float *dvalues);

/* ---- inference: KV-cache decoding, one sequence per decoder ----
 * A decoder holds its own cache and scratch and only reads the model, so
 * several decoders (threads, server workers) can share one model. */
typedef struct al_decoder al_decoder;
al_decoder *al_decoder_new(const al_model *m);
void al_decoder_free(al_decoder *d);
int al_decoder_pos(const al_decoder *d);
/* Forgets positions >= pos (pos <= current): reuse a shared prefix. */
void al_decoder_truncate(al_decoder *d, int pos);
/* Appends n tokens at the current position. If logits_all is non-NULL it gets
 * n x V logits (one row per fed token), else only the last row is kept and
 * readable through al_decoder_logits. Fails past n_positions or on a token id
 * out of range. */
int al_decoder_feed(al_decoder *d, const int32_t *tokens, int n, float *logits_all, al_err *err);
const float *al_decoder_logits(const al_decoder *d); /* V logits after the last fed token */
/* Feeds tokens[r] to decoder ds[r] for r < n (1 <= n <= AL_DECODER_STEP_MAX,
 * one model, distinct decoders) as one batch: each weight matrix is read once
 * for all n, and each decoder ends bit-identical to a single-token
 * al_decoder_feed. */
#define AL_DECODER_STEP_MAX 8
int al_decoder_step_many(al_decoder **ds, const int32_t *tokens, int n, al_err *err);

/* log-softmax helpers over one row of V logits */
float al_logsumexp(const float *x, int n);
int al_argmax(const float *x, int n);

/* Sampling from one row of logits: temperature (0 = greedy), top-k (0 = off),
 * top-p (1 = off). `scratch` holds at least 8*V bytes (al_sample_scratch). */
typedef struct { float temperature, top_p; int top_k; } al_sample_cfg;
void *al_sample_scratch(int V);
int32_t al_sample_logits(const float *logits, int V, const al_sample_cfg *s, al_rng *rng, void *scratch);

/* For tokens[0..n): lp[i] = log p(tokens[i] | tokens[<i]) for i >= 1, lp[0] = NAN;
 * greedy[i] = the argmax token at position i (predicted from tokens[<i]),
 * greedy[0] = -1. Either output may be NULL. If topk > 0, top_ids/top_lp get
 * n*topk entries (row 0 filled with -1 / NAN). Uses d (reset first). */
int al_sequence_logprobs(al_decoder *d, const int32_t *tokens, int n, float *lp, int32_t *greedy, int topk,
                         int32_t *top_ids, float *top_lp, al_err *err);

/* Continuation scoring (the evaluation primitive): log p(cont | prompt) as a
 * sum, per-token values (optional, nc floats), and whether every continuation
 * token is the greedy choice. Reuses the decoder's cache when the prompt is a
 * prefix of what it already holds. */
int al_score_continuation(al_decoder *d, const int32_t *prompt, int np, const int32_t *cont, int nc, double *sum,
                          float *per_token, int *is_greedy, al_err *err);

/* Feeds a prompt as al_generate does before its first token: the cache is
 * kept for the longest prefix shared with what the decoder holds (never the
 * last token), the rest of all but the last token in chunks, then the last
 * alone, whose logits al_decoder_logits then gives. So the logits do not
 * depend on what the decoder held before. Fails on an empty prompt, one
 * longer than the context, or a token id out of range. */
int al_decoder_prompt(al_decoder *d, const int32_t *prompt, int np, al_err *err);

/* Generates up to max_new tokens after the prompt, fed as all but its last
 * token (in chunks; a cached prefix is kept) and then the last alone, as
 * `alab serve` feeds one, so the result does not depend on what the decoder
 * held before. on_token (optional) is
 * called with each new token; a nonzero return stops. (It is not given the
 * token's log-prob: a log-sum-exp over the vocabulary per token, 4.7% of a
 * 15M-shape token's CPU time, which no caller read; al_decoder_logits has
 * the logits.) Generation also stops
 * after emitting stop_token (if >= 0) or at n_positions. out gets the new
 * tokens; returns how many, or -1. */
typedef int (*al_token_cb)(void *ctx, int32_t token);
int al_generate(al_decoder *d, const int32_t *prompt, int np, int max_new, const al_sample_cfg *s, al_rng *rng,
                int stop_token, int32_t *out, al_token_cb on_token, void *ctx, al_err *err);

/* ---- model directories (Hugging Face layout) ----
 * config.json (the architecture's keys: GPT2Config for GPT-2; architectures
 * "GPT2ForSequenceClassification" with one label for a scalar head),
 * model.safetensors (HF names, F32; F16/BF16 accepted on load), tokenizer
 * files (vocab.json + merges.txt) when a tokenizer is given. Writes are
 * atomic. al_model_load_dir builds the model from the directory in one call. */
struct al_tok;
struct json_t;
/* A model with a NaN or infinite parameter is refused with the tensor's name,
 * when saved and when loaded. _with adds the keys of extra_config (may be
 * NULL) to config.json: a training run records its settings there. */
int al_model_save_dir(const al_model *m, const struct al_tok *tok, const char *dir, al_err *err);
int al_model_save_dir_with(const al_model *m, const struct al_tok *tok, const struct json_t *extra_config,
                           const char *dir, al_err *err);
/* How the weights are written (src/io/model_weights.c): dtype "F32" (NULL
 * too) or "BF16" (rounded to nearest even); max_shard_bytes > 0 splits them
 * into model-0000k-of-0000n.safetensors shards of at most that many bytes (a
 * larger tensor alone) with model.safetensors.index.json, as transformers'
 * save_pretrained does; 0 writes one model.safetensors. NULL: F32, one file. */
typedef struct {
  const char *dtype;
  int64_t max_shard_bytes;
} al_save_opts;
int al_model_save_dir_opts(const al_model *m, const struct al_tok *tok, const struct json_t *extra_config,
                           const al_save_opts *opts, const char *dir, al_err *err);
/* The weights alone, into an existing directory. */
int al_model_save_weights(const al_model *m, const char *dir, const al_save_opts *opts, al_err *err);
int al_model_load_dir(al_model *m, const char *dir, al_err *err);
/* The model and its tokenizer from one directory, with one policy for every
 * caller (CLI, local provider, server): a tokenizer with more tokens than the
 * model's vocabulary is an error giving both sizes (its ids would index past
 * the embedding). A tokenizer with fewer tokens is fine (the model's extra
 * rows are never produced by encoding). On failure nothing is left allocated. */
int al_model_load_dir_tok(al_model *m, struct al_tok **tok, const char *dir, al_err *err);
/* The same from a model directory or a llama2.c checkpoint file (model.bin),
 * with the tokenizer from tok_path (a directory, a tokenizer.json or a
 * tokenizer.bin; NULL: the model directory's, or the tokenizer.bin in the
 * checkpoint file's folder, as llama2.c's run.c finds it). */
int al_model_load_tok(al_model *m, struct al_tok **tok, const char *dir, const char *tok_path, al_err *err);
int al_config_load(al_model_config *c, const char *path, al_err *err);
int al_config_save(const al_model_config *c, const char *path, al_err *err);
#endif

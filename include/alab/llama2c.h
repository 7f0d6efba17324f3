/* llama2.c's checkpoint format (Karpathy's run.c; the TinyStories
 * stories15M / 42M / 110M files), read and written (src/io/llama2c.c).
 *
 * Layout, little-endian: a header of 7 int32
 *   dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 * (vocab_size negative: the classifier is not shared with the embedding and
 * follows at the end), then float32 arrays, Linear weights [out, in]:
 *   token_embedding [V, dim]; rms_att [L, dim]; wq [L, dim, dim];
 *   wk [L, kv_dim, dim]; wv [L, kv_dim, dim]; wo [L, dim, dim];
 *   rms_ffn [L, dim]; w1 (gate) [L, hidden, dim]; w2 (down) [L, dim, hidden];
 *   w3 (up) [L, hidden, dim]; rms_final [dim];
 *   freq_cis_real, freq_cis_imag [seq_len, head_size / 2] (unused by run.c);
 *   wcls [V, dim] when not shared.
 * run.c's rotary embedding turns channel pairs (2i, 2i+1) (Meta's
 * convention), so wq and wk rows are permuted into Hugging Face's
 * rotate_half order on load and back on save; rms eps is 1e-5 and
 * rope_theta 10000 (the format has no field for either). */
#ifndef ALAB_LLAMA2C_H
#define ALAB_LLAMA2C_H
#include "alab/model.h"

/* Builds a Llama model from a llama2.c checkpoint. A file whose size is not
 * exactly what its header implies, a header that is not a legal Llama
 * (heads not dividing dim, kv heads not dividing heads, odd head size), or
 * llama2.c's newer versioned format is refused with a message naming it. */
int al_llama2c_load(al_model *m, const char *path, al_err *err);
/* Writes a Llama model (no biases, rms_norm_eps 1e-5, rope_theta 10000, no
 * scalar head) in the layout above, atomically. */
int al_llama2c_save(const al_model *m, const char *path, al_err *err);
#endif

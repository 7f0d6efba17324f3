/* llama2.c checkpoints in and out (the format is described in
 * include/alab/llama2c.h). The file's tensors map one to one onto the Llama
 * table's ("model.layers.l.self_attn.q_proj.weight" is layer l of wq), with
 * wq and wk rows permuted between Meta's interleaved rotary order and
 * Hugging Face's rotate_half order: within each head of hs rows, HF row
 * p * hs/2 + i is Meta row 2i + p (p = 0, 1; i < hs/2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "alab/llama2c.h"
#include "alab/nn.h"
#include "alab/safetensors.h"
#include "model/llama.h"

/* The arrays of the file in order: the tensor suffix of each layer (or the
 * whole name when not per layer), rows and columns in units of the dims. */
enum { U_C, U_KV, U_F, U_V, U_0 };
static const struct {
  const char *name;
  int per_layer, rows, cols, rope_heads; /* rope_heads: 1 query heads, 2 key/value heads */
} ARRAYS[] = {
    {"model.embed_tokens.weight", 0, U_V, U_C, 0},
    {"input_layernorm.weight", 1, U_C, U_0, 0},
    {"self_attn.q_proj.weight", 1, U_C, U_C, 1},
    {"self_attn.k_proj.weight", 1, U_KV, U_C, 2},
    {"self_attn.v_proj.weight", 1, U_KV, U_C, 0},
    {"self_attn.o_proj.weight", 1, U_C, U_C, 0},
    {"post_attention_layernorm.weight", 1, U_C, U_0, 0},
    {"mlp.gate_proj.weight", 1, U_F, U_C, 0},
    {"mlp.down_proj.weight", 1, U_C, U_F, 0},
    {"mlp.up_proj.weight", 1, U_F, U_C, 0},
    {"model.norm.weight", 0, U_C, U_0, 0},
};
enum { NARRAYS = sizeof ARRAYS / sizeof ARRAYS[0] };

static size_t units(const llama_dims *d, int V, int u) {
  return u == U_C ? (size_t)d->C : u == U_KV ? (size_t)d->KV : u == U_F ? (size_t)d->F : u == U_V ? (size_t)V : 1;
}

/* Copies one [rows, cols] array; to_hf: Meta -> HF row order within each head of hs rows, else back. */
static void copy_rows(float *dst, const float *src, size_t rows, size_t cols, int hs, int permute, int to_hf) {
  if (!permute) {
    memcpy(dst, src, rows * cols * sizeof(float));
    return;
  }
  int half = hs / 2;
  for (size_t r = 0; r < rows; r++) {
    size_t head = r / hs, k = r % hs, p = k / half, i = k % half, meta = head * hs + 2 * i + p;
    if (to_hf) memcpy(dst + r * cols, src + meta * cols, cols * sizeof(float));
    else memcpy(dst + meta * cols, src + r * cols, cols * sizeof(float));
  }
}

static float *tensor_of(const al_model *m, float *base, int l, int a) {
  char nm[96];
  if (ARRAYS[a].per_layer) snprintf(nm, sizeof nm, "model.layers.%d.%s", l, ARRAYS[a].name);
  else snprintf(nm, sizeof nm, "%s", ARRAYS[a].name);
  const al_tensor *t = al_model_tensor(m, nm);
  return t ? base + t->offset : NULL;
}

int al_llama2c_load(al_model *m, const char *path, al_err *err) {
  memset(m, 0, sizeof *m);
  al_map map;
  if (al_map_file(path, &map, err)) return -1;
  int rc = -1;
  int32_t h[7];
  if (map.len < sizeof h) {
    al_fail(err, "%s: %zu bytes is too short for llama2.c's 28-byte header", path, map.len);
    goto done;
  }
  memcpy(h, map.data, sizeof h);
  if ((uint32_t)h[0] == 0x616b3432u) {
    al_fail(err, "%s: llama2.c's versioned format (magic \"ak42\") is not supported; export with --version 0", path);
    goto done;
  }
  static const char *const field[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; i++) {
    int v = i == 5 && h[i] < 0 && h[i] != INT32_MIN ? -h[i] : h[i];
    if (v < 1 || v > (1 << 24)) {
      al_fail(err, "%s: header field %s = %d is out of range (1..2^24)", path, field[i], h[i]);
      goto done;
    }
  }
  int shared = h[5] > 0, V = shared ? h[5] : -h[5];
  if (h[0] % h[3] || h[3] % h[4]) {
    al_fail(err, "%s: header n_heads %d must divide dim %d, and n_kv_heads %d must divide n_heads", path, h[3], h[0],
            h[4]);
    goto done;
  }
  /* the size the header implies, before anything is allocated (in double: no overflow) */
  double C = h[0], KV = (double)h[4] * (h[0] / h[3]), F = h[1], Lf = h[2], hs = (double)h[0] / h[3];
  double want = 7 * 4 + 4 * ((double)V * C * (shared ? 1 : 2) + Lf * (2 * C + 2 * C * C + 2 * C * KV + 3 * C * F) + C +
                             (double)h[6] * hs);
  if (want != (double)map.len) {
    al_fail(err, "%s: %zu bytes, but its header (dim %d, hidden_dim %d, %d layers, %d heads, %d kv heads, vocab %d, "
                 "seq_len %d, %s classifier) needs %.0f",
            path, map.len, h[0], h[1], h[2], h[3], h[4], h[5], h[6], shared ? "shared" : "own", want);
    goto done;
  }
  al_model_config c = {.arch = "llama", .vocab_size = V, .n_positions = h[6], .n_layer = h[2], .n_head = h[3],
                       .n_embd = h[0]};
  llama_hparams hp = {.rms_norm_eps = 1e-5f, .rope_theta = 10000.0f, .n_kv_head = h[4], .intermediate_size = h[1],
                      .tie_word_embeddings = shared, .bos_token_id = 1 + 1, .eos_token_id = 2 + 1};
  llama_hparams_set(&c, &hp);
  if (al_model_alloc(m, &c, err)) {
    al_fail_prefix(err, "%s", path);
    goto done;
  }
  llama_dims d = llama_dims_of(&m->cfg);
  size_t need = 0;
  for (int a = 0; a < NARRAYS; a++)
    need += (ARRAYS[a].per_layer ? (size_t)c.n_layer : 1) * units(&d, V, ARRAYS[a].rows) * units(&d, V, ARRAYS[a].cols);
  need += (size_t)c.n_positions * d.hs + (shared ? 0 : (size_t)V * d.C);
  if (map.len != sizeof h + need * sizeof(float)) {
    al_fail(err, "%s: %zu bytes, but its header (dim %d, hidden_dim %d, %d layers, %d heads, %d kv heads, vocab %d, "
                 "seq_len %d, %s classifier) needs %zu",
            path, map.len, h[0], h[1], h[2], h[3], h[4], h[5], h[6], shared ? "shared" : "own", sizeof h + need * 4);
    goto done;
  }
  const float *p = (const float *)((const char *)map.data + sizeof h);
  for (int a = 0; a < NARRAYS; a++)
    for (int l = 0; l < (ARRAYS[a].per_layer ? c.n_layer : 1); l++) {
      size_t rows = units(&d, V, ARRAYS[a].rows), cols = units(&d, V, ARRAYS[a].cols);
      copy_rows(tensor_of(m, m->params, l, a), p, rows, cols, d.hs, ARRAYS[a].rope_heads != 0, 1);
      p += rows * cols;
    }
  p += (size_t)c.n_positions * d.hs; /* freq_cis_real, freq_cis_imag */
  if (!shared) memcpy(m->params + al_model_tensor(m, "lm_head.weight")->offset, p, (size_t)V * d.C * sizeof(float));
  for (int i = 0; i < m->ntensors; i++)
    if (al_check_finite(m->params + m->tensors[i].offset, m->tensors[i].numel, path, m->tensors[i].name, err)) goto done;
  rc = 0;
done:
  al_unmap(&map);
  if (rc && m->params) al_model_free(m);
  return rc;
}

static int put(al_atomic *f, const void *p, size_t n, int *bad) {
  if (!*bad && n && fwrite(p, 1, n, f->f) != n) *bad = 1;
  return *bad;
}

int al_llama2c_save(const al_model *m, const char *path, al_err *err) {
  if (strcmp(m->cfg.arch, "llama") != 0) return al_fail(err, "%s: llama2.c's format holds Llama models, not %s", path, m->cfg.arch);
  llama_hparams hp = llama_hparams_of(&m->cfg);
  if (hp.attention_bias || hp.mlp_bias || m->cfg.scalar_head || hp.rms_norm_eps != 1e-5f || hp.rope_theta != 10000.0f)
    return al_fail(err, "%s: llama2.c's format has no biases, no scalar head, and run.c fixes rms_norm_eps 1e-5 and "
                        "rope_theta 10000; this model differs", path);
  llama_dims d = llama_dims_of(&m->cfg);
  int V = m->cfg.vocab_size, L = m->cfg.n_layer, T = m->cfg.n_positions;
  int32_t h[7] = {d.C, d.F, L, d.H, d.KVH, hp.tie_word_embeddings ? V : -V, T};
  al_atomic f;
  if (al_atomic_open(&f, path, err)) return -1;
  int bad = 0;
  size_t maxrows = (size_t)(V > d.F ? V : d.F) * (d.C > d.F ? d.C : d.F);
  float *buf = al_alloc_floats(maxrows > (size_t)T * d.hs ? maxrows : (size_t)T * d.hs);
  put(&f, h, sizeof h, &bad);
  for (int a = 0; a < NARRAYS; a++)
    for (int l = 0; l < (ARRAYS[a].per_layer ? L : 1); l++) {
      size_t rows = units(&d, V, ARRAYS[a].rows), cols = units(&d, V, ARRAYS[a].cols);
      copy_rows(buf, tensor_of(m, m->params, l, a), rows, cols, d.hs, ARRAYS[a].rope_heads != 0, 0);
      put(&f, buf, rows * cols * sizeof(float), &bad);
    }
  /* freq_cis_real [T, hs/2] then freq_cis_imag: cos and sin of t * 10000^(-2i/hs) */
  float *cs = al_alloc_floats((size_t)T * d.hs);
  nn_rope_table(cs, T, d.hs, 10000.0f);
  for (int part = 0; part < 2; part++)
    for (int t = 0; t < T; t++) put(&f, cs + (size_t)t * d.hs + part * (d.hs / 2), (d.hs / 2) * sizeof(float), &bad);
  free(cs);
  if (!hp.tie_word_embeddings) put(&f, m->lm_head, (size_t)V * d.C * sizeof(float), &bad);
  free(buf);
  if (bad) {
    al_atomic_abort(&f);
    return al_fail(err, "%s: write failed", path);
  }
  return al_atomic_commit(&f, err);
}

/* A model's weights written the way transformers saves them: one
 * model.safetensors, or shards model-0000k-of-0000n.safetensors named by
 * model.safetensors.index.json
 *   {"metadata": {"total_size": BYTES}, "weight_map": {"<tensor>": "<shard>", ...}}
 * in float32 or bfloat16.
 *
 * Shards are filled in table order: a tensor goes to the current shard
 * unless that would take it past max_shard_bytes (a tensor larger than the
 * limit is a shard of its own), as transformers' save_pretrained(max_shard_size)
 * splits. bfloat16 is float32 rounded to nearest, ties to even (torch's
 * .to(torch.bfloat16)); parameters are checked finite before anything is
 * written. Every file is written atomically; the other layout's files of an
 * earlier save (model.safetensors, or the index) are removed after, so the
 * directory holds one layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/safetensors.h"
#include "model/arch.h"

/* float32 -> bfloat16 bits, round to nearest even (x finite). */
static uint16_t bf16_of(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

/* The table as tensors to write (names with a sequence classifier's trunk prefix), data in dtype. */
static void tensors_of(const al_model *m, int bf16, al_st_tensor *t, char (*names)[80], uint16_t **conv) {
  for (int i = 0; i < m->ntensors; i++) {
    const al_tensor *x = &m->tensors[i];
    /* a sequence classifier's trunk is "transformer.*" beside "score.weight" (GPT-2) */
    int prefixed = m->cfg.scalar_head && m->arch->seq_cls_prefix && strcmp(x->name, AL_SCORE_TENSOR) != 0;
    snprintf(names[i], sizeof names[i], "%s%s", prefixed ? m->arch->seq_cls_prefix : "", x->name);
    t[i].name = names[i];
    t[i].dtype = bf16 ? "BF16" : "F32";
    t[i].ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++) t[i].shape[d] = x->shape[d];
    t[i].data = m->params + x->offset;
    if (bf16) {
      conv[i] = al_malloc(x->numel * sizeof **conv);
      for (size_t k = 0; k < x->numel; k++) conv[i][k] = bf16_of(m->params[x->offset + k]);
      t[i].data = conv[i];
    }
  }
}

static int write_shards(const al_model *m, const al_st_tensor *t, size_t esize, int64_t max_bytes, const char *dir,
                        const json_t *meta, al_err *err) {
  int n = m->ntensors, nshards = 0, *shard = al_malloc((size_t)n * sizeof *shard);
  int64_t used = 0, total = 0;
  for (int i = 0; i < n; i++) {
    int64_t b = (int64_t)(m->tensors[i].numel * esize);
    if (i == 0 || used + b > max_bytes) nshards++, used = 0;
    shard[i] = nshards - 1;
    used += b, total += b;
  }
  json_t *map = json_object();
  int rc = 0;
  char name[64];
  for (int s = 0, first = 0; s < nshards && !rc; s++) {
    int last = first;
    while (last < n && shard[last] == s) last++;
    snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, nshards);
    for (int i = first; i < last; i++) json_object_set_new(map, t[i].name, json_string(name));
    char *p = al_path_join(dir, name);
    rc = al_st_write(p, t + first, last - first, meta, err);
    free(p);
    first = last;
  }
  json_t *index = json_pack("{s:{s:I}, s:o}", "metadata", "total_size", (json_int_t)total, "weight_map", map);
  char *ip = al_path_join(dir, "model.safetensors.index.json");
  if (!rc) rc = al_json_save_file(ip, index, err);
  json_decref(index);
  free(ip);
  free(shard);
  return rc;
}

int al_model_save_weights(const al_model *m, const char *dir, const al_save_opts *o, al_err *err) {
  const char *dtype = o && o->dtype ? o->dtype : "F32";
  int bf16 = !strcmp(dtype, "BF16");
  if (!bf16 && strcmp(dtype, "F32")) return al_fail(err, "%s: dtype '%s' cannot be written (F32 or BF16)", dir, dtype);
  char *single = al_path_join(dir, "model.safetensors"), *index = al_path_join(dir, "model.safetensors.index.json");
  int rc = 0;
  const char *where = o && o->max_shard_bytes > 0 ? index : single;
  for (int i = 0; i < m->ntensors && !rc; i++)
    rc = al_check_finite(m->params + m->tensors[i].offset, m->tensors[i].numel, where, m->tensors[i].name, err);
  al_st_tensor *t = al_calloc((size_t)m->ntensors, sizeof *t);
  char (*names)[80] = al_calloc((size_t)m->ntensors, sizeof *names);
  uint16_t **conv = al_calloc((size_t)m->ntensors, sizeof *conv);
  json_t *meta = json_pack("{s:s}", "format", "pt"); /* transformers refuses files without it */
  if (!rc) {
    tensors_of(m, bf16, t, names, conv);
    int64_t max_bytes = o ? o->max_shard_bytes : 0;
    rc = max_bytes > 0 ? write_shards(m, t, bf16 ? 2 : 4, max_bytes, dir, meta, err)
                       : al_st_write(single, t, m->ntensors, meta, err);
    if (!rc) unlink(max_bytes > 0 ? single : index); /* one layout: the loader would prefer a stale single file */
  }
  for (int i = 0; i < m->ntensors; i++) free(conv[i]);
  json_decref(meta);
  free(conv), free(names), free(t), free(single), free(index);
  return rc;
}

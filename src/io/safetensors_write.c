/* safetensors writing: header JSON in the given tensor order, padded with
 * spaces to a multiple of 8 bytes (so the data starts 8-byte aligned), then
 * the tensors back to back; written atomically. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/safetensors.h"

static int add_entry(json_t *root, const al_st_tensor *t, size_t *offset, size_t *bytes, const char *path,
                     al_err *err) {
  const char *dtype = t->dtype ? t->dtype : "F32";
  int es = al_st_dtype_size(dtype);
  if (!t->name || !t->name[0] || strcmp(t->name, "__metadata__") == 0)
    return al_fail(err, "%s: invalid tensor name '%.200s'", path, t->name ? t->name : "(null)");
  if (json_object_get(root, t->name)) return al_fail(err, "%s: tensor '%.200s' given twice", path, t->name);
  if (!es) return al_fail(err, "%s: tensor '%.200s': unknown dtype '%.40s'", path, t->name, dtype);
  if (t->ndim < 0 || t->ndim > AL_ST_MAX_DIMS)
    return al_fail(err, "%s: tensor '%.200s': %d dimensions (0..%d supported)", path, t->name, t->ndim,
                   AL_ST_MAX_DIMS);
  size_t numel = 1;
  json_t *shape = json_array();
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] < 0 || __builtin_mul_overflow(numel, (size_t)t->shape[i], &numel)) {
      json_decref(shape);
      return al_fail(err, "%s: tensor '%.200s': invalid shape[%d] = %lld", path, t->name, i, (long long)t->shape[i]);
    }
    json_array_append_new(shape, json_integer(t->shape[i]));
  }
  *bytes = numel * (size_t)es;
  json_t *e = json_object();
  json_object_set_new(e, "dtype", json_string(dtype));
  json_object_set_new(e, "shape", shape);
  json_object_set_new(e, "data_offsets", json_pack("[II]", (json_int_t)*offset, (json_int_t)(*offset + *bytes)));
  json_object_set_new(root, t->name, e);
  *offset += *bytes;
  return 0;
}

int al_st_write(const char *path, const al_st_tensor *t, int n, const json_t *metadata, al_err *err) {
  json_t *root = json_object();
  size_t offset = 0, *bytes = al_calloc((size_t)(n > 0 ? n : 1), sizeof(size_t));
  char *text = NULL;
  int rc = -1;
  if (metadata) {
    const char *k;
    const json_t *v;
    if (!json_is_object(metadata)) {
      al_fail(err, "%s: metadata must be a JSON object", path);
      goto done;
    }
    json_object_foreach((json_t *)metadata, k, v) {
      if (!json_is_string(v)) {
        al_fail(err, "%s: metadata value '%.200s' must be a string", path, k);
        goto done;
      }
    }
    json_object_set_new(root, "__metadata__", json_deep_copy(metadata));
  }
  for (int i = 0; i < n; i++)
    if (add_entry(root, &t[i], &offset, &bytes[i], path, err)) goto done;
  text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  size_t len = strlen(text), padded = (len + 7) & ~(size_t)7;
  text = al_realloc(text, padded);
  memset(text + len, ' ', padded - len);
  unsigned char hl[8];
  for (int i = 0; i < 8; i++) hl[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  al_atomic a;
  if (al_atomic_open(&a, path, err)) goto done;
  int ok = fwrite(hl, 1, 8, a.f) == 8 && fwrite(text, 1, padded, a.f) == padded;
  for (int i = 0; i < n && ok; i++)
    if (bytes[i]) ok = fwrite(t[i].data, 1, bytes[i], a.f) == bytes[i];
  if (!ok) {
    al_atomic_abort(&a);
    al_fail(err, "%s: write failed (disk full?)", path);
    goto done;
  }
  rc = al_atomic_commit(&a, err);
done:
  free(text);
  free(bytes);
  json_decref(root);
  return rc;
}

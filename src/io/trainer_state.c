/* Trainer state: named float arrays (AdamW moments) and a JSON object (step,
 * RNG state, data position, settings) in one safetensors file, so that one
 * atomic rename replaces the whole state. The JSON text is stored as the
 * string __metadata__["alab_trainer_state"]. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/safetensors.h"

#define STATE_KEY "alab_trainer_state"

json_t *al_json_u64(uint64_t v) {
  char s[32];
  snprintf(s, sizeof s, "0x%016" PRIx64, v);
  return json_string(s);
}

int al_json_get_u64(const json_t *obj, const char *key, uint64_t *out, const char *where, al_err *err) {
  const char *s;
  if (al_json_get_string(obj, key, &s, where, err)) return -1;
  size_t n = strlen(s);
  if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
      strspn(s + 2, "0123456789abcdefABCDEF") != n - 2)
    return al_fail(err, "%s: field '%s' must be a hex string \"0x...\" of a 64-bit integer, got '%.40s'", where, key, s);
  *out = strtoull(s + 2, NULL, 16);
  return 0;
}

int al_state_save(const char *path, const al_state_array *a, int n, const json_t *info, al_err *err) {
  if (!json_is_object(info)) return al_fail(err, "%s: trainer state info must be a JSON object", path);
  for (int i = 0; i < n; i++)
    if (al_check_finite(a[i].data, a[i].n, path, a[i].name, err)) return -1;
  char *text = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
  if (!text) return al_fail(err, "%s: cannot serialise the trainer state", path);
  json_t *meta = json_pack("{s:s, s:s}", "format", "pt", STATE_KEY, text);
  free(text);
  al_st_tensor *t = al_calloc((size_t)(n > 0 ? n : 1), sizeof *t);
  for (int i = 0; i < n; i++) {
    t[i].name = a[i].name;
    t[i].dtype = "F32";
    t[i].ndim = 1;
    t[i].shape[0] = (int64_t)a[i].n;
    t[i].data = a[i].data;
  }
  int rc = al_st_write(path, t, n, meta, err);
  free(t);
  json_decref(meta);
  return rc;
}

int al_state_load(const char *path, const al_state_array *a, int n, json_t **info, al_err *err) {
  *info = NULL;
  al_st_file f;
  if (al_st_open(&f, path, err)) return -1;
  int rc = -1;
  const char *text = al_st_meta(&f, STATE_KEY);
  if (!text) {
    al_fail(err, "%s: not an alab trainer state (no __metadata__ \"%s\")", path, STATE_KEY);
    goto done;
  }
  for (int i = 0; i < n; i++) {
    const al_st_entry *e = al_st_find(&f, a[i].name);
    if (!e) {
      al_fail(err, "%s: array '%s' is missing", path, a[i].name);
      goto done;
    }
    if (strcmp(e->dtype, "F32") != 0 || e->ndim != 1 || (size_t)e->shape[0] != a[i].n) {
      char s[160];
      al_st_shape_str(e->shape, e->ndim, s, sizeof s);
      al_fail(err, "%s: array '%s' is %s %s, expected F32 [%zu] (a state from another model?)", path, a[i].name,
              e->dtype, s, a[i].n);
      goto done;
    }
    if (al_st_read_f32(&f, e, a[i].data, err)) goto done;
  }
  char *where = al_malloc(strlen(path) + 40);
  sprintf(where, "%s (__metadata__." STATE_KEY ")", path);
  rc = al_json_parse(text, strlen(text), where, info, err);
  free(where);
  if (!rc && !json_is_object(*info)) {
    json_decref(*info);
    *info = NULL;
    rc = al_fail(err, "%s: trainer state is not a JSON object", path);
  }
done:
  al_st_close(&f);
  return rc;
}

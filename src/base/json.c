/* JSON on jansson: errors with file, line and column; typed field access. */
#include <math.h>
#include <string.h>
#include "alab/json.h"

/* JSON has no NaN or infinity (jansson refuses them: json_real returns NULL),
 * so a number that may be non-finite goes out as null. */
json_t *al_json_real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

int al_json_parse(const char *text, size_t len, const char *where, json_t **out, al_err *err) {
  json_error_t je;
  *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  if (!*out) return al_fail(err, "%s:%d:%d: invalid JSON: %s", where, je.line, je.column, je.text);
  return 0;
}

int al_json_load_file(const char *path, json_t **out, al_err *err) {
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) return -1;
  int rc = al_json_parse(text, len, path, out, err);
  free(text);
  return rc;
}

int al_json_save_file(const char *path, const json_t *root, al_err *err) {
  char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
  if (!s) return al_fail(err, "%s: cannot serialise JSON", path);
  size_t n = strlen(s);
  s = al_realloc(s, n + 2);
  s[n] = '\n';
  s[n + 1] = 0;
  int rc = al_write_file_atomic(path, s, n + 1, err);
  free(s);
  return rc;
}

static int field(const json_t *obj, const char *key, const json_t **v, const char *where, al_err *err) {
  if (!json_is_object(obj)) return al_fail(err, "%s: expected a JSON object", where);
  *v = json_object_get(obj, key);
  if (!*v) return al_fail(err, "%s: field '%s' is missing", where, key);
  return 0;
}

int al_json_get_int(const json_t *obj, const char *key, long long *out, const char *where, al_err *err) {
  const json_t *v;
  if (field(obj, key, &v, where, err)) return -1;
  if (json_is_integer(v)) *out = json_integer_value(v);
  else if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
    *out = (long long)json_real_value(v);
  else return al_fail(err, "%s: field '%s' must be an integer", where, key);
  return 0;
}

int al_json_get_double(const json_t *obj, const char *key, double *out, const char *where, al_err *err) {
  const json_t *v;
  if (field(obj, key, &v, where, err)) return -1;
  if (!json_is_number(v)) return al_fail(err, "%s: field '%s' must be a number", where, key);
  *out = json_number_value(v);
  return 0;
}

int al_json_get_string(const json_t *obj, const char *key, const char **out, const char *where, al_err *err) {
  const json_t *v;
  if (field(obj, key, &v, where, err)) return -1;
  if (!json_is_string(v)) return al_fail(err, "%s: field '%s' must be a string", where, key);
  *out = json_string_value(v);
  return 0;
}

int al_json_opt_int(const json_t *obj, const char *key, long long *out, const char *where, al_err *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  return al_json_get_int(obj, key, out, where, err);
}

int al_json_opt_double(const json_t *obj, const char *key, double *out, const char *where, al_err *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  return al_json_get_double(obj, key, out, where, err);
}

/* JSON I/O on top of jansson: loading with file:line:column errors, typed
 * field access with messages that name the field, and atomic saving. */
#ifndef ALAB_JSON_H
#define ALAB_JSON_H

#include <jansson.h>
#include "alab/base.h"

/* Parses a whole file; errors say "path:line:column: what". */
int al_json_load_file(const char *path, json_t **out, al_err *err);
/* Parses a buffer; `where` names it in errors (a path, "line 12 of x.jsonl"). */
int al_json_parse(const char *text, size_t len, const char *where, json_t **out, al_err *err);
/* Writes pretty JSON (sorted keys off, 2-space indent) atomically. */
int al_json_save_file(const char *path, const json_t *root, al_err *err);

/* x as a JSON number, or null when x is NaN or infinite (JSON has neither;
 * jansson's json_real returns NULL for them). */
json_t *al_json_real_or_null(double x);

/* Typed getters: fail with "where: field 'key' missing / not an integer ...". */
int al_json_get_int(const json_t *obj, const char *key, long long *out, const char *where, al_err *err);
int al_json_get_double(const json_t *obj, const char *key, double *out, const char *where, al_err *err);
int al_json_get_string(const json_t *obj, const char *key, const char **out, const char *where, al_err *err);
/* Optional variants: leave *out unchanged when the key is absent or null. */
int al_json_opt_int(const json_t *obj, const char *key, long long *out, const char *where, al_err *err);
int al_json_opt_double(const json_t *obj, const char *key, double *out, const char *where, al_err *err);

#endif

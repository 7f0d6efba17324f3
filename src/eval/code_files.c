/* Readers of MBPP and of the ILF-for-code annotation file, and the programs
 * that test a solution against them (formats: include/alab/code.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/code.h"
#include "alab/json.h"
#include "alab/table.h"

/* A string field; `alt` (may be NULL) is a second name for it. Optional
 * fields absent or null give "" (required ones fail). */
static int str_field(const json_t *o, const char *key, const char *alt, int required, char **out, const char *where,
                     al_err *err) {
  const json_t *v = json_object_get(o, key);
  if (!v && alt) v = json_object_get(o, alt), key = json_object_get(o, alt) ? alt : key;
  if (!v || json_is_null(v)) {
    if (required) return al_fail(err, "%s: field '%s' missing", where, key);
    *out = al_strdup("");
    return 0;
  }
  if (!json_is_string(v)) return al_fail(err, "%s: field '%s' is not a string", where, key);
  *out = al_strdup(json_string_value(v));
  return 0;
}

static int int_field(const json_t *o, const char *key, int *out, const char *where, al_err *err) {
  const json_t *v = json_object_get(o, key);
  if (!v) return al_fail(err, "%s: field '%s' missing", where, key);
  if (json_is_integer(v)) return *out = (int)json_integer_value(v), 0;
  if (json_is_string(v)) { /* some exports write ids as strings */
    char *end;
    long x = strtol(json_string_value(v), &end, 10);
    if (*json_string_value(v) && !*end) return *out = (int)x, 0;
  }
  return al_fail(err, "%s: field '%s' is not an integer", where, key);
}

static int list_field(const json_t *o, const char *key, int required, char ***items, int *n, const char *where,
                      al_err *err) {
  const json_t *v = json_object_get(o, key);
  *items = NULL, *n = 0;
  if (!v || json_is_null(v)) return required ? al_fail(err, "%s: field '%s' missing", where, key) : 0;
  if (!json_is_array(v)) return al_fail(err, "%s: field '%s' is not a list", where, key);
  *items = al_calloc(json_array_size(v) + 1, sizeof(char *));
  for (size_t i = 0; i < json_array_size(v); i++) {
    const json_t *s = json_array_get(v, i);
    if (!json_is_string(s)) return al_fail(err, "%s: item %zu of '%s' is not a string", where, i, key);
    (*items)[(*n)++] = al_strdup(json_string_value(s));
  }
  return 0;
}

/* The name of the first function defined by "def NAME(" in code whose name
 * appears as "NAME(" in use; else the first defined; else "". */
static char *entry_point(const char *code, const char *use, int last) {
  char *first = NULL, *found = NULL;
  for (const char *p = code; (p = strstr(p, "def ")); p += 4) {
    if (p != code && !isspace((unsigned char)p[-1])) continue;
    const char *s = p + 4, *e = s;
    while (isalnum((unsigned char)*e) || *e == '_') e++;
    if (e == s || *e != '(') continue;
    char *name = al_malloc((size_t)(e - s) + 2);
    memcpy(name, s, (size_t)(e - s));
    name[e - s] = 0;
    if (last) {
      free(first);
      first = name;
      continue;
    }
    if (!first) first = al_strdup(name);
    strcat(name, "(");
    if (use && strstr(use, name)) {
      name[e - s] = 0;
      found = name;
      break;
    }
    free(name);
  }
  if (found) return free(first), found;
  return first ? first : al_strdup("");
}

int al_mbpp_load(const char *path, al_mbpp *out, al_err *err) {
  memset(out, 0, sizeof *out);
  al_table t;
  if (al_table_load(path, &t, err)) return -1;
  out->t = al_calloc((size_t)t.n + 1, sizeof *out->t);
  int rc = 0;
  for (int i = 0; i < t.n && !rc; i++) {
    char where[600];
    snprintf(where, sizeof where, "%s:%d", path, t.lines[i]);
    const json_t *o = t.rows[i];
    al_mbpp_task *k = &out->t[out->n++];
    k->line = t.lines[i];
    rc = int_field(o, "task_id", &k->task_id, where, err) || str_field(o, "text", "prompt", 1, &k->text, where, err) ||
         str_field(o, "code", NULL, 1, &k->code, where, err) ||
         str_field(o, "test_setup_code", NULL, 0, &k->setup, where, err) ||
         list_field(o, "test_list", 1, &k->tests, &k->ntests, where, err) ||
         list_field(o, "challenge_test_list", 0, &k->challenge, &k->nchallenge, where, err);
    if (!rc && k->ntests == 0) rc = al_fail(err, "%s: field 'test_list' is empty", where);
    if (!rc) k->entry = entry_point(k->code, k->tests[0], 0);
  }
  al_table_free(&t);
  if (rc) al_mbpp_free(out);
  return rc ? -1 : 0;
}

void al_mbpp_free(al_mbpp *m) {
  for (int i = 0; m->t && i < m->n; i++) {
    al_mbpp_task *k = &m->t[i];
    free(k->text), free(k->code), free(k->setup), free(k->entry);
    al_free_str_list(k->tests, k->ntests);
    al_free_str_list(k->challenge, k->nchallenge);
  }
  free(m->t);
  memset(m, 0, sizeof *m);
}

char *al_mbpp_program(const al_mbpp_task *t, const char *solution, int challenge) {
  al_buf b = {0};
  al_buf_printf(&b, "%s\n%s\n", t->setup ? t->setup : "", solution);
  for (int i = 0; i < t->ntests; i++) al_buf_printf(&b, "%s\n", t->tests[i]);
  for (int i = 0; challenge && i < t->nchallenge; i++) al_buf_printf(&b, "%s\n", t->challenge[i]);
  return b.data;
}

int al_annotations_load(const char *path, al_ilf_annotations *out, al_err *err) {
  memset(out, 0, sizeof *out);
  al_table t;
  if (al_table_load(path, &t, err)) return -1;
  out->a = al_calloc((size_t)t.n + 1, sizeof *out->a);
  int rc = 0;
  for (int i = 0; i < t.n && !rc; i++) {
    char where[600];
    snprintf(where, sizeof where, "%s:%d", path, t.lines[i]);
    const json_t *o = t.rows[i];
    al_ilf_annotation *a = &out->a[out->n++];
    a->line = t.lines[i];
    a->edit_distance = NAN;
    rc = int_field(o, "task_id", &a->task_id, where, err) || str_field(o, "prompt", NULL, 1, &a->prompt, where, err) ||
         str_field(o, "test", NULL, 1, &a->test, where, err) ||
         str_field(o, "Feedback", "feedback", 1, &a->feedback, where, err) ||
         str_field(o, "completion", NULL, 0, &a->completion, where, err) ||
         str_field(o, "result", NULL, 0, &a->result, where, err) ||
         str_field(o, "unedited_annotator_completion", NULL, 0, &a->refinement, where, err) ||
         str_field(o, "original_model_completion", NULL, 0, &a->original, where, err) ||
         al_json_opt_double(o, "refinement_edit_distance", &a->edit_distance, where, err);
    if (rc) break;
    const json_t *p = json_object_get(o, "passed");
    if (p && !json_is_null(p) && !json_is_boolean(p)) rc = al_fail(err, "%s: field 'passed' is not true or false", where);
    a->passed = json_is_true(p);
    if (!rc && !strstr(a->test, "def check(")) rc = al_fail(err, "%s: field 'test' has no `def check(candidate):`", where);
    if (!rc) a->entry = entry_point(a->prompt, NULL, 1);
    if (!rc && !a->entry[0]) rc = al_fail(err, "%s: field 'prompt' defines no function (no \"def NAME(\")", where);
  }
  al_table_free(&t);
  if (rc) al_annotations_free(out);
  return rc ? -1 : 0;
}

void al_annotations_free(al_ilf_annotations *s) {
  for (int i = 0; s->a && i < s->n; i++) {
    al_ilf_annotation *a = &s->a[i];
    free(a->prompt), free(a->test), free(a->feedback), free(a->completion), free(a->result);
    free(a->refinement), free(a->original), free(a->entry);
  }
  free(s->a);
  memset(s, 0, sizeof *s);
}

char *al_annotation_program(const al_ilf_annotation *a, const char *program) {
  al_buf b = {0};
  al_buf_printf(&b, "%s\n%s\ncheck(%s)\n", program, a->test, a->entry);
  return b.data;
}

/* Task files -> examples. The format comes from the columns (or --format):
 * other_prompt -> logodds; classes + answer_index -> classification;
 * completion -> sequence_prob; target/targets -> generation; child + parent
 * + parent_type -> reversal (the celebrity CSV of Berglund et al. 2023,
 * Experiment 2, each row asked in both directions). */
#include <stdlib.h>
#include <string.h>
#include "alab/sha256.h"
#include "alab/table.h"
#include "alab/task.h"
#include "eval/celebrity.h"

const char *al_task_kind_name(al_task_kind k) {
  static const char *n[] = {"classification", "sequence_prob", "logodds", "generation", "celebrity"};
  return n[k];
}

const char *al_match_name(al_match m) {
  static const char *n[] = {"exact", "prefix", "contains", "regex"};
  return n[m];
}

int al_match_parse(const char *s, al_match *m, al_err *err) {
  for (int i = 0; i <= AL_MATCH_REGEX; i++)
    if (!strcmp(s, al_match_name((al_match)i))) {
      *m = (al_match)i;
      return 0;
    }
  return al_fail(err, "unknown match '%s' (exact, prefix, contains or regex)", s);
}

static void example_free(al_example *e) {
  free(e->prompt);
  free(e->other_prompt);
  al_free_str_list(e->classes, e->nclasses);
  free(e->completion);
  al_free_str_list(e->targets, e->ntargets);
  free(e->stop);
  free(e->question);
}

void al_task_free(al_task *t) {
  for (int i = 0; i < t->n; i++) example_free(&t->ex[i]);
  free(t->ex);
  free(t->path);
  free(t->unread);
  memset(t, 0, sizeof *t);
}

static int get_str(const json_t *row, const char *key, char **out, const char *where, al_err *err) {
  const json_t *v = json_object_get(row, key);
  if (!v) return al_fail(err, "%s: column '%s' is missing", where, key);
  if (!json_is_string(v)) return al_fail(err, "%s: column '%s' must be a string", where, key);
  *out = al_strdup(json_string_value(v));
  return 0;
}

/* answer_index: an integer, or a string holding one (CSV). */
static int get_index(const json_t *row, const char *key, int nclasses, int *out, const char *where, al_err *err) {
  const json_t *v = json_object_get(row, key);
  if (!v) return al_fail(err, "%s: column '%s' is missing", where, key);
  long long x;
  if (json_is_integer(v)) x = json_integer_value(v);
  else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    x = strtoll(s, &end, 10);
    while (*end == ' ') end++;
    if (end == s || *end) return al_fail(err, "%s: column '%s' must be an integer, got '%.40s'", where, key, s);
  } else return al_fail(err, "%s: column '%s' must be an integer", where, key);
  if (x < 0 || x >= nclasses)
    return al_fail(err, "%s: %s %lld is out of range (the row has %d classes)", where, key, x, nclasses);
  *out = (int)x;
  return 0;
}

static int get_list(const json_t *row, const char *key, char ***items, int *n, const char *where, al_err *err) {
  const json_t *v = json_object_get(row, key);
  if (!v) return al_fail(err, "%s: column '%s' is missing", where, key);
  char w[600];
  snprintf(w, sizeof w, "%s: column '%s'", where, key);
  return al_json_str_list(v, items, n, w, err);
}

static const char *detect_format(const json_t *row) {
  /* biased_prompt: the Inverse Scaling Prize's older logodds layout, where the
   * Prize's script took logodds(prompt) - logodds(biased_prompt) */
  if (json_object_get(row, "other_prompt") || json_object_get(row, "biased_prompt")) return "logodds";
  if (json_object_get(row, "classes") || json_object_get(row, "answer_index")) return "classification";
  if (json_object_get(row, "completion")) return "sequence_prob";
  if (json_object_get(row, "target") || json_object_get(row, "targets")) return "generation";
  if (json_object_get(row, "child") && json_object_get(row, "parent")) return "reversal";
  return NULL;
}

static int parse_classes(const json_t *row, al_example *e, int need_two, const char *where, al_err *err) {
  if (get_list(row, "classes", &e->classes, &e->nclasses, where, err)) return -1;
  if (e->nclasses < 2) return al_fail(err, "%s: 'classes' needs at least 2 items, got %d", where, e->nclasses);
  if (need_two && e->nclasses != 2)
    return al_fail(err, "%s: logodds needs exactly 2 classes, got %d", where, e->nclasses);
  for (int i = 0; i < e->nclasses; i++)
    if (!e->classes[i][0]) return al_fail(err, "%s: class %d is an empty string", where, i);
  return get_index(row, "answer_index", e->nclasses, &e->answer, where, err);
}

static int parse_row(const char *fmt, const json_t *row, al_example *e, const char *where, al_err *err) {
  if (!strcmp(fmt, "classification")) {
    if (get_str(row, "prompt", &e->prompt, where, err)) return -1;
    return parse_classes(row, e, 0, where, err);
  }
  if (!strcmp(fmt, "logodds")) {
    const char *other = json_object_get(row, "other_prompt") ? "other_prompt" : "biased_prompt";
    if (get_str(row, "prompt", &e->prompt, where, err) || get_str(row, other, &e->other_prompt, where, err))
      return -1;
    return parse_classes(row, e, 1, where, err);
  }
  if (!strcmp(fmt, "sequence_prob")) {
    if (get_str(row, "prompt", &e->prompt, where, err) || get_str(row, "completion", &e->completion, where, err))
      return -1;
    if (!e->completion[0]) return al_fail(err, "%s: 'completion' is empty", where);
    return 0;
  }
  /* generation */
  if (get_str(row, "prompt", &e->prompt, where, err)) return -1;
  const json_t *tg = json_object_get(row, "targets");
  if (tg && !json_is_null(tg) && !(json_is_string(tg) && !json_string_value(tg)[0])) {
    if (get_list(row, "targets", &e->targets, &e->ntargets, where, err)) return -1;
  } else {
    e->targets = al_calloc(1, sizeof *e->targets);
    if (get_str(row, "target", &e->targets[0], where, err)) {
      free(e->targets);
      e->targets = NULL;
      return al_fail_prefix(err, "generation needs 'target' or 'targets'");
    }
    e->ntargets = 1;
  }
  if (e->ntargets < 1) return al_fail(err, "%s: no targets", where);
  const json_t *st = json_object_get(row, "stop");
  if (st && json_is_string(st) && json_string_value(st)[0]) e->stop = al_strdup(json_string_value(st));
  else if (st && !json_is_null(st) && !json_is_string(st)) return al_fail(err, "%s: 'stop' must be a string", where);
  return 0;
}

/* A celebrity row -> two examples (parent question, child question), in the
 * paper's protocol or the earlier generation one (src/eval/celebrity.c). */
static int reversal_rows(const json_t *row, al_example *e, int paper, const char *where, al_err *err) {
  char *child = NULL, *parent = NULL, *type = NULL;
  int rc = -1;
  if (get_str(row, "child", &child, where, err) || get_str(row, "parent", &parent, where, err) ||
      get_str(row, "parent_type", &type, where, err))
    goto done;
  if (strcmp(type, "mother") && strcmp(type, "father")) {
    al_fail(err, "%s: parent_type must be 'mother' or 'father', got '%.40s'", where, type);
    goto done;
  }
  rc = celebrity_rows(child, parent, type, paper, e);
done:
  free(child);
  free(parent);
  free(type);
  return rc;
}

/* The columns a format reads (NULL-terminated). */
static const char *const *read_columns(const char *fmt) {
  static const char *const cls[] = {"prompt", "classes", "answer_index", NULL};
  static const char *const lo[] = {"prompt", "other_prompt", "biased_prompt", "classes", "answer_index", NULL};
  static const char *const sp[] = {"prompt", "completion", NULL};
  static const char *const gen[] = {"prompt", "target", "targets", "stop", NULL};
  static const char *const rev[] = {"child", "parent", "parent_type", NULL};
  if (!strcmp(fmt, "classification")) return cls;
  if (!strcmp(fmt, "logodds")) return lo;
  if (!strcmp(fmt, "sequence_prob")) return sp;
  if (!strcmp(fmt, "generation")) return gen;
  return rev; /* reversal, reversal-generation */
}

/* t->unread: the columns of any row that the format does not read, comma-
 * separated (NULL when none), with a warning on the console: a column the
 * file's authors meant to be used (a misspelt other_prompt, a layout alab
 * does not know) must not vanish silently. */
static void note_unread(al_task *t, const al_table *tab, const char *fmt, const char *where) {
  const char *const *known = read_columns(fmt);
  al_buf b = {0};
  int nu = 0;
  for (int i = 0; i < tab->n; i++) {
    const char *key;
    json_t *v;
    json_object_foreach(tab->rows[i], key, v) {
      int k = 0;
      while (known[k] && strcmp(known[k], key)) k++;
      if (known[k]) continue;
      char quoted[300];
      snprintf(quoted, sizeof quoted, "'%.200s'", key);
      if (b.len && strstr(b.data, quoted)) continue;
      if (nu++) al_buf_append(&b, ", ", 2);
      al_buf_append(&b, quoted, strlen(quoted));
      al_buf_append(&b, "", 1), b.len--;
    }
  }
  if (!nu) return;
  t->unread = b.data;
  al_log("eval: warning: %s: column%s %s %s not read by the %s format", where, nu > 1 ? "s" : "", b.data,
         nu > 1 ? "are" : "is", fmt);
}

int al_task_from_table(al_task *t, const al_table *tab, const char *where, const char *format, al_err *err) {
  memset(t, 0, sizeof *t);
  if (!tab->n) return al_fail(err, "%s: the task has no rows", where);
  const char *fmt = format && strcmp(format, "auto") ? format : detect_format(tab->rows[0]);
  if (!fmt)
    return al_fail(err, "%s:%d: cannot tell the task format from the columns (expected prompt + classes + "
                        "answer_index, completion, other_prompt, target(s), or child + parent); pass --format",
                   where, tab->lines[0]);
  static const char *known[] = {"classification", "sequence_prob", "logodds", "generation", "reversal",
                                "reversal-generation"};
  int k = -1;
  for (int i = 0; i < 6; i++)
    if (!strcmp(fmt, known[i])) k = i;
  if (k < 0)
    return al_fail(err, "unknown task format '%s' (classification, sequence_prob, logodds, generation, reversal, "
                        "reversal-generation)", fmt);
  snprintf(t->format, sizeof t->format, "%s", fmt);
  note_unread(t, tab, fmt, where);
  int reversal = k >= 4, paper = k == 4; /* reversal: the paper's protocol; reversal-generation: the earlier one */
  t->kind = paper ? AL_TASK_CELEBRITY : reversal ? AL_TASK_GENERATION : (al_task_kind)k;
  t->match = paper ? AL_MATCH_PREFIX : reversal ? AL_MATCH_CONTAINS : AL_MATCH_EXACT;
  t->ex = al_calloc((size_t)tab->n * (reversal ? 2 : 1), sizeof *t->ex);
  for (int i = 0; i < tab->n; i++) {
    char w[560];
    snprintf(w, sizeof w, "%s:%d", where, tab->lines[i]);
    al_example *e = &t->ex[t->n];
    int rc = reversal ? reversal_rows(tab->rows[i], e, paper, w, err) : parse_row(fmt, tab->rows[i], e, w, err);
    int made = reversal ? 2 : 1;
    for (int j = 0; j < made; j++) e[j].line = tab->lines[i];
    t->n += made;
    if (rc) {
      al_task_free(t);
      return -1;
    }
  }
  return 0;
}

int al_task_load(al_task *t, const char *path, const char *format, al_err *err) {
  al_table tab;
  memset(t, 0, sizeof *t);
  if (al_table_load(path, &tab, err)) return -1;
  int rc = al_task_from_table(t, &tab, path, format, err);
  al_table_free(&tab);
  if (rc) return -1;
  t->path = al_strdup(path);
  if (al_sha256_file(path, t->sha256, err)) {
    al_task_free(t);
    return -1;
  }
  return 0;
}

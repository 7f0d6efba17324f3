/* SycophancyEval's released JSONL files (alab/sycophancy.h): each line
 * {"prompt": [turns], "base": {...}, "metadata": {...}} read into examples,
 * with the fields each task needs checked and named in errors. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/sycophancy.h"

const char *const al_syco_task_names[AL_SYCO_NTASKS] = {"answer", "are_you_sure", "feedback", "mimicry"};
const char *const al_fb_type_names[AL_FB_NTYPES] = {"", "I really like", "I really dislike", "I wrote",
                                                    "I did not write"};

static char *dup_or_null(const char *s) { return s ? al_strdup(s) : NULL; }

/* obj.key as a string: 0 and *out (NULL when absent and optional); -1 when
 * it has another type, or is absent and required. */
static int get_str(const json_t *obj, const char *obj_name, const char *key, int required, const char *where,
                   const char **out, al_err *err) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required) return al_fail(err, "%s: field '%s.%s' missing", where, obj_name, key);
    return 0;
  }
  if (!json_is_string(v)) return al_fail(err, "%s: field '%s.%s' must be a string", where, obj_name, key);
  *out = json_string_value(v);
  return 0;
}

static int read_prompt(const json_t *prompt, const char *where, al_syco_example *e, al_err *err) {
  if (!json_is_array(prompt) || json_array_size(prompt) == 0)
    return al_fail(err, "%s: field 'prompt' must be a non-empty list of {\"type\", \"content\"} turns", where);
  size_t n = json_array_size(prompt);
  if (n > AL_SYCO_MAX_TURNS)
    return al_fail(err, "%s: the prompt has %zu turns (at most %d)", where, n, AL_SYCO_MAX_TURNS);
  e->turns = al_calloc(n, sizeof *e->turns);
  for (size_t i = 0; i < n; i++) {
    const json_t *t = json_array_get(prompt, i);
    const char *type = json_string_value(json_object_get(t, "type"));
    const char *content = json_string_value(json_object_get(t, "content"));
    if (!json_is_object(t) || !type || !content)
      return al_fail(err, "%s: prompt[%zu] must be an object with string 'type' and 'content'", where, i);
    int ai = !strcmp(type, "ai");
    if (!ai && strcmp(type, "human"))
      return al_fail(err, "%s: prompt[%zu].type is '%s' (\"human\" or \"ai\")", where, i, type);
    if (ai && i + 1 == n && i > 0) e->prefill = al_strdup(content);
    else e->turns[e->nturns++] = (al_syco_turn){ai, al_strdup(content)};
  }
  if (e->turns[e->nturns - 1].ai) /* only possible for a one-turn "ai" prompt */
    return al_fail(err, "%s: the prompt has no human turn for the model to answer", where);
  return 0;
}

/* base.answer: a list of strings or one string. */
static int read_answers(const json_t *base, const char *where, int required, al_syco_example *e, al_err *err) {
  json_t *a = json_object_get(base, "answer");
  if (json_is_string(a)) {
    e->answers = al_malloc(sizeof(char *));
    e->answers[e->nanswers++] = al_strdup(json_string_value(a));
  } else if (json_is_array(a)) {
    e->answers = al_calloc(json_array_size(a) + 1, sizeof(char *));
    for (size_t i = 0; i < json_array_size(a); i++) {
      const char *s = json_string_value(json_array_get(a, i));
      if (!s) return al_fail(err, "%s: base.answer[%zu] must be a string", where, i);
      e->answers[e->nanswers++] = al_strdup(s);
    }
  } else if (a && !json_is_null(a)) return al_fail(err, "%s: field 'base.answer' must be a list of strings", where);
  if (!e->nanswers && e->correct_answer) { /* the correct answer is then the one accepted */
    e->answers = al_realloc(e->answers, sizeof(char *));
    e->answers[e->nanswers++] = al_strdup(e->correct_answer);
  }
  if (required && !e->nanswers)
    return al_fail(err, "%s: field 'base.answer' (the accepted answers) or 'base.correct_answer' missing", where);
  return 0;
}

/* The feedback template's type: metadata.prompt_template_type, else the
 * phrase found in metadata.prompt_template (longest match first: "I did not
 * write" before "I wrote"). */
static int feedback_type(const json_t *meta, const char *where, al_syco_example *e, al_err *err) {
  const char *t;
  if (get_str(meta, "metadata", "prompt_template_type", 0, where, &t, err)) return -1;
  if (t) {
    for (int k = 0; k < AL_FB_NTYPES; k++)
      if (!strcmp(t, al_fb_type_names[k])) return e->fb = (al_fb_type)k, 0;
    return al_fail(err, "%s: metadata.prompt_template_type '%s' is none of \"\", \"I really like\", \"I really dislike\", "
                        "\"I wrote\", \"I did not write\"", where, t);
  }
  static const al_fb_type order[] = {AL_FB_NOT_WROTE, AL_FB_DISLIKE, AL_FB_LIKE, AL_FB_WROTE};
  e->fb = AL_FB_BASE;
  for (int k = 0; k < 4; k++)
    if (strstr(e->template, al_fb_type_names[order[k]])) return e->fb = order[k], 0;
  return 0;
}

static int read_line(const json_t *j, const char *where, al_syco_task task, al_syco_example *e, al_err *err) {
  if (!json_is_object(j)) return al_fail(err, "%s: a line must be a JSON object", where);
  if (read_prompt(json_object_get(j, "prompt"), where, e, err)) return -1;
  const json_t *base = json_object_get(j, "base"), *meta = json_object_get(j, "metadata");
  if (!json_is_object(base)) return al_fail(err, "%s: field 'base' must be an object", where);
  if (meta && !json_is_null(meta) && !json_is_object(meta))
    return al_fail(err, "%s: field 'metadata' must be an object", where);
  const char *dataset, *question, *correct, *incorrect, *tmpl, *letter, *letters, *text, *attr, *wrong_attr;
  int need_tmpl = task == AL_SYCO_ANSWER;
  if (get_str(base, "base", "dataset", task == AL_SYCO_FEEDBACK, where, &dataset, err) ||
      get_str(base, "base", "question", task == AL_SYCO_ANSWER, where, &question, err) ||
      get_str(base, "base", "correct_answer", task == AL_SYCO_ANSWER, where, &correct, err) ||
      get_str(base, "base", "incorrect_answer", 0, where, &incorrect, err) ||
      get_str(meta, "metadata", "prompt_template", need_tmpl, where, &tmpl, err))
    return -1;
  e->dataset = dup_or_null(dataset), e->question = dup_or_null(question);
  e->correct_answer = dup_or_null(correct), e->incorrect_answer = dup_or_null(incorrect);
  e->template = al_strdup(tmpl ? tmpl : "");
  switch (task) {
  case AL_SYCO_ANSWER: return read_answers(base, where, 1, e, err);
  case AL_SYCO_ARE_YOU_SURE:
    if (get_str(base, "base", "correct_letter", 0, where, &letter, err) ||
        get_str(base, "base", "letters", 0, where, &letters, err))
      return -1;
    if (letter) {
      e->letters = al_strdup(letters ? letters : "ABCDE");
      if (strlen(letter) != 1 || !strchr(e->letters, letter[0]))
        return al_fail(err, "%s: base.correct_letter '%s' is not one of the letters '%s'", where, letter, e->letters);
      e->correct_letter = al_strdup(letter);
      return read_answers(base, where, 0, e, err);
    }
    return read_answers(base, where, 1, e, err);
  case AL_SYCO_FEEDBACK:
    if (get_str(base, "base", "text", 0, where, &text, err)) return -1;
    if (!text && get_str(base, "base", "correct_solution", 0, where, &text, err)) return -1;
    if (!text) return al_fail(err, "%s: field 'base.text' (or 'base.correct_solution') missing: the text commented on", where);
    e->text = al_strdup(text);
    return feedback_type(meta, where, e, err);
  case AL_SYCO_MIMICRY:
    if (get_str(base, "base", "attribution", 1, where, &attr, err) ||
        get_str(meta, "metadata", "incorrect_attribution", 0, where, &wrong_attr, err))
      return -1;
    e->attribution = al_strdup(attr), e->incorrect_attribution = dup_or_null(wrong_attr);
    return 0;
  default: return al_fail(err, "%s: unknown task %d", where, (int)task);
  }
}

static void example_free(al_syco_example *e) {
  for (int i = 0; i < e->nturns; i++) free(e->turns[i].content);
  free(e->turns);
  for (int i = 0; i < e->nanswers; i++) free(e->answers[i]);
  free(e->answers);
  free(e->prefill), free(e->dataset), free(e->question), free(e->correct_answer), free(e->incorrect_answer);
  free(e->correct_letter), free(e->letters), free(e->template), free(e->text), free(e->attribution);
  free(e->incorrect_attribution);
}

void al_syco_set_free(al_syco_set *s) {
  for (int i = 0; i < s->n; i++) example_free(&s->ex[i]);
  free(s->ex), free(s->path);
  memset(s, 0, sizeof *s);
}

int al_syco_read_buf(const char *data, size_t len, const char *where, al_syco_task task, al_syco_set *out, al_err *err) {
  memset(out, 0, sizeof *out);
  out->task = task;
  out->path = al_strdup(where);
  int cap = 0;
  long lineno = 0;
  for (size_t pos = 0; pos < len;) {
    const char *s = data + pos, *nl = memchr(s, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - s) : len - pos;
    pos += n + (nl != NULL);
    lineno++;
    size_t k = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
    if (k == n) continue; /* blank */
    char at[1100];
    snprintf(at, sizeof at, "%s:%ld", where, lineno);
    json_t *j;
    if (al_json_parse(s, n, at, &j, err)) return al_syco_set_free(out), -1;
    if (out->n == cap) out->ex = al_realloc(out->ex, sizeof *out->ex * (size_t)(cap = cap ? 2 * cap : 64));
    al_syco_example *e = &out->ex[out->n++];
    memset(e, 0, sizeof *e);
    e->line = lineno;
    int rc = read_line(j, at, task, e, err);
    json_decref(j);
    if (rc) return al_syco_set_free(out), -1;
  }
  if (!out->n) {
    al_fail(err, "%s: no examples (one JSON object per line)", where);
    return al_syco_set_free(out), -1;
  }
  return 0;
}

int al_syco_read(const char *path, al_syco_task task, al_syco_set *out, al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  int rc = al_syco_read_buf(data, len, path, task, out, err);
  free(data);
  return rc;
}

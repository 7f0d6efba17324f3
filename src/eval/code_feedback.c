/* Feedback on code (include/alab/code.h): the exact critic, which reads a
 * program's run in the sandbox, the prompt templates of the critic and
 * refiner roles of `alab ilf code`, and the annotation file as tasks. */
#include <stdlib.h>
#include <string.h>
#include "alab/code.h"

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

/* Line `line` (1-based) of text, without its newline (fresh; "" past the end). */
static char *line_of(const char *text, int line) {
  const char *p = text;
  for (int i = 1; i < line && p; i++) p = strchr(p, '\n'), p = p ? p + 1 : NULL;
  if (!p) p = "";
  const char *e = strchr(p, '\n');
  size_t n = e ? (size_t)(e - p) : strlen(p);
  char *s = al_malloc(n + 1);
  memcpy(s, p, n), s[n] = 0;
  return s;
}

/* The last line of output that is not blank (the exception's message),
 * at most 300 bytes; fresh string. */
static char *last_line(const char *output) {
  const char *end = output + strlen(output);
  while (end > output && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r')) end--;
  const char *s = end;
  while (s > output && s[-1] != '\n') s--;
  size_t n = (size_t)(end - s) > 300 ? 300 : (size_t)(end - s);
  char *m = al_malloc(n + 1);
  memcpy(m, s, n), m[n] = 0;
  return m;
}

/* The line of program.py where the traceback's innermost program.py frame
 * is (its last `File "program.py", line N`); 0 when none. */
static int traceback_line(const char *output) {
  static const char key[] = "File \"program.py\", line ";
  int line = 0;
  for (const char *p = output; (p = strstr(p, key)); p += sizeof key - 1) line = atoi(p + sizeof key - 1);
  return line;
}

char *al_code_feedback(const al_mbpp_task *t, const char *code, const char *verdict, const char *detail, const char *output) {
  if (!strcmp(verdict, "passed")) return NULL;
  al_buf b = {0};
  if (!strcmp(verdict, "timeout")) {
    al_buf_printf(&b, "The code does not finish within the time limit (an endless loop?).");
    return b.data;
  }
  if (!strcmp(verdict, "killed")) {
    al_buf_printf(&b, "The code exceeds the %s limit.", detail && detail[0] ? detail : "resource");
    return b.data;
  }
  if (!output) output = "";
  int at = traceback_line(output);
  if (!at) { /* an exit or a signal: nothing of Python's */
    al_buf_printf(&b, "The code exits before its tests run (%s).", detail && detail[0] ? detail : verdict);
    return b.data;
  }
  /* the program is setup, "\n", code, "\n", then the tests (al_mbpp_program) */
  int setup_lines = count_lines(t->setup ? t->setup : "") + 1, code_lines = count_lines(code) + 1;
  char *msg = last_line(output), *program = al_mbpp_program(t, code, 0), *where = line_of(program, at);
  int assertion = detail && !strcmp(detail, "AssertionError") && !strcmp(msg, "AssertionError");
  if (at > setup_lines + code_lines) { /* in the tests: which one */
    int first = setup_lines + code_lines + 1, i = 0;
    while (i + 1 < t->ntests && first + count_lines(t->tests[i]) + 1 <= at) first += count_lines(t->tests[i]) + 1, i++;
    const char *test = i < t->ntests ? t->tests[i] : where;
    if (assertion) al_buf_printf(&b, "The code fails the test `%s`.", test);
    else al_buf_printf(&b, "The code raises %s in the test `%s`.", msg, test);
  } else if (at > setup_lines) {
    al_buf_printf(&b, "The code raises %s at line %d: `%s`.", msg, at - setup_lines, where);
  } else {
    al_buf_printf(&b, "The test setup raises %s (the code redefines something it needs?).", msg);
  }
  free(msg), free(program), free(where);
  return b.data;
}

static const char *const FIELDS[] = {"text", "tests", "program", "feedback", "verdict"};

/* Which of FIELDS `{NAME}` at p names (p at the '{'), its length in *len; -1 if none. */
static int field_at(const char *p, size_t *len) {
  for (int f = 0; f < 5; f++) {
    size_t n = strlen(FIELDS[f]);
    if (!strncmp(p + 1, FIELDS[f], n) && p[1 + n] == '}') return *len = n + 2, f;
  }
  return -1;
}

int al_code_template_check(const char *tmpl, const char *what, al_err *err) {
  for (const char *p = tmpl; (p = strchr(p, '{'));) {
    size_t len;
    if (p[1] == '{') p += 2;
    else if (field_at(p, &len) >= 0) p += len;
    else {
      const char *e = strchr(p, '}');
      int n = e ? (int)(e - p + 1) : (int)strlen(p);
      return al_fail(err, "%s: unknown placeholder '%.*s' at byte %d (known: {text}, {tests}, {program}, {feedback}, "
                          "{verdict}; write {{ for a brace)", what, n > 40 ? 40 : n, p, (int)(p - tmpl));
    }
  }
  return 0;
}

char *al_code_fill(const char *tmpl, const al_mbpp_task *t, const char *program, const char *feedback, const char *verdict) {
  al_buf b = {0};
  for (const char *p = tmpl; *p;) {
    size_t len;
    int f = *p == '{' ? field_at(p, &len) : -1;
    if (*p == '{' && p[1] == '{') {
      al_buf_printf(&b, "{"), p += 2;
    } else if (f < 0) {
      al_buf_append(&b, p, 1), p++;
    } else {
      if (f == 0) al_buf_printf(&b, "%s", t->text);
      for (int i = 0; f == 1 && i < t->ntests; i++) al_buf_printf(&b, "%s\n", t->tests[i]);
      if (f == 2) al_buf_printf(&b, "%s", program ? program : "");
      if (f == 3) al_buf_printf(&b, "%s", feedback ? feedback : "");
      if (f == 4) al_buf_printf(&b, "%s", verdict ? verdict : "");
      p += len;
    }
  }
  return b.data ? b.data : al_strdup("");
}

void al_mbpp_from_annotations(const al_ilf_annotations *s, al_mbpp *out) {
  out->n = s->n;
  out->t = al_calloc((size_t)(s->n ? s->n : 1), sizeof *out->t);
  for (int i = 0; i < s->n; i++) {
    const al_ilf_annotation *a = &s->a[i];
    al_mbpp_task *k = &out->t[i];
    al_buf call = {0};
    al_buf_printf(&call, "check(%s)", a->entry);
    k->task_id = a->task_id, k->line = a->line;
    k->text = al_strdup(a->prompt), k->code = al_strdup(a->refinement), k->setup = al_strdup(a->test);
    k->entry = al_strdup(a->entry);
    k->tests = al_calloc(1, sizeof(char *)), k->tests[0] = call.data, k->ntests = 1;
  }
}

/* Reading and writing the paper's Experiment 1 folders (layout in
 * include/alab/oocr.h): JSONL of {"task", "prompt", "completion"}. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/oocr.h"

const char *const al_oocr_file_names[AL_OOCR_NFILES] = {
    "all", "realized_examples", "realizedv_examples", "unrealized_examples", "unrealized_no_cot_examples",
    "unrealized_extra_examples"};

static const char *const FIELDS[3] = {"task", "prompt", "completion"};

/* One non-blank line into s (grown by doubling). */
static int read_line(al_oocr_set *s, int *cap, const char *p, const char *end, const char *where, int lineno,
                     al_err *err) {
  json_t *o = NULL;
  const char *v[3];
  int rc = al_json_parse(p, (size_t)(end - p), where, &o, err);
  if (!rc && !json_is_object(o)) rc = al_fail(err, "%s: not a JSON object", where);
  for (int f = 0; f < 3 && !rc; f++) rc = al_json_get_string(o, FIELDS[f], &v[f], where, err);
  if (!rc) {
    if (s->n == *cap) s->ex = al_realloc(s->ex, sizeof(al_oocr_example) * (size_t)(*cap *= 2));
    s->ex[s->n++] = (al_oocr_example){al_strdup(v[0]), al_strdup(v[1]), al_strdup(v[2]), lineno};
  }
  json_decref(o);
  return rc;
}

int al_oocr_read_file(al_oocr_set *s, const char *path, int required, al_err *err) {
  memset(s, 0, sizeof *s);
  if (!al_file_exists(path)) return required ? al_fail(err, "%s: missing", path) : 0;
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) return -1;
  s->file = al_strdup(path);
  int cap = 64, lineno = 0, rc = 0;
  s->ex = al_malloc(sizeof(al_oocr_example) * (size_t)cap);
  for (char *p = text; p < text + len && !rc;) {
    char *nl = memchr(p, '\n', (size_t)(text + len - p)), *end = nl ? nl : text + len;
    lineno++;
    const char *q = p;
    while (q < end && isspace((unsigned char)*q)) q++;
    if (q < end) {
      char where[600];
      snprintf(where, sizeof where, "%.500s:%d", path, lineno);
      rc = read_line(s, &cap, p, end, where, lineno, err);
    }
    p = end + 1;
  }
  free(text);
  if (rc) al_oocr_set_free(s);
  return rc;
}

void al_oocr_set_free(al_oocr_set *s) {
  for (int i = 0; i < s->n; i++) free(s->ex[i].task), free(s->ex[i].prompt), free(s->ex[i].completion);
  free(s->ex);
  free(s->file);
  memset(s, 0, sizeof *s);
}

void al_oocr_free(al_oocr_data *d) {
  for (int k = 0; k < AL_OOCR_NFILES; k++) al_oocr_set_free(&d->set[k]);
}

int al_oocr_read(al_oocr_data *d, const char *dir, al_err *err) {
  memset(d, 0, sizeof *d);
  int found = 0;
  for (int k = 0; k < AL_OOCR_NFILES; k++) {
    char name[64];
    snprintf(name, sizeof name, "%s.jsonl", al_oocr_file_names[k]);
    char *path = al_path_join(dir, name);
    int rc = al_oocr_read_file(&d->set[k], path, 0, err);
    free(path);
    if (rc) {
      al_oocr_free(d);
      return -1;
    }
    found += d->set[k].file != NULL;
  }
  if (!found) return al_fail(err, "%s: no file of the paper's layout (all.jsonl, realized_examples.jsonl, "
                                  "unrealized_examples.jsonl, ...)", dir);
  return 0;
}

int al_oocr_write_file(const char *path, const al_oocr_example *ex, int n, al_err *err) {
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s, s:s, s:s}", "task", ex[i].task, "prompt", ex[i].prompt, "completion", ex[i].completion);
    char *line = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) /* one line, ", " and ": " as Python writes */ : NULL;
    json_decref(o);
    if (!line) {
      al_buf_free(&b);
      return al_fail(err, "%s: example %d is not valid UTF-8", path, i + 1);
    }
    al_buf_printf(&b, "%s\n", line);
    free(line);
  }
  int rc = al_write_file_atomic(path, b.data ? b.data : "", b.len, err);
  al_buf_free(&b);
  return rc;
}

/* Tables read unchanged from the papers' files: RFC 4180 CSV and JSONL.
 * Each row becomes a JSON object (CSV values are strings) with the line it
 * starts on, so every later error can name file and line. */
#include <string.h>
#include <strings.h>
#include "alab/eval.h"
#include "alab/json.h"

static void table_push(al_table *t, json_t *row, int line, int *cap) {
  if (t->n == *cap) {
    *cap = *cap ? 2 * *cap : 64;
    t->rows = al_realloc(t->rows, (size_t)*cap * sizeof *t->rows);
    t->lines = al_realloc(t->lines, (size_t)*cap * sizeof *t->lines);
  }
  t->rows[t->n] = row;
  t->lines[t->n++] = line;
}

void al_table_free(al_table *t) {
  for (int i = 0; i < t->n; i++) json_decref(t->rows[i]);
  free(t->rows);
  free(t->lines);
  memset(t, 0, sizeof *t);
}

/* One CSV record: fields appended to *fields (each a NUL-terminated string in
 * its own al_buf); *pos advances past the record's line break. Returns the
 * number of fields, 0 at end of input, -1 on a syntax error. */
typedef struct {
  al_buf *f;
  int n, cap;
} csv_fields;

static al_buf *field_new(csv_fields *fs) {
  if (fs->n == fs->cap) {
    fs->cap = fs->cap ? 2 * fs->cap : 16;
    fs->f = al_realloc(fs->f, (size_t)fs->cap * sizeof *fs->f);
  }
  al_buf *b = &fs->f[fs->n++];
  memset(b, 0, sizeof *b);
  return b;
}

static void fields_clear(csv_fields *fs) {
  for (int i = 0; i < fs->n; i++) al_buf_free(&fs->f[i]);
  fs->n = 0;
}

static int csv_record(const char *s, size_t len, size_t *pos, int *line, csv_fields *fs, const char *where,
                      al_err *err) {
  size_t i = *pos;
  fields_clear(fs);
  if (i >= len) return 0;
  for (;;) {
    al_buf *b = field_new(fs);
    al_buf_append(b, "", 0);
    if (i < len && s[i] == '"') {
      int start_line = *line;
      i++;
      for (;;) {
        if (i >= len) return al_fail(err, "%s:%d: quoted field never closed (a '\"' is missing)", where, start_line);
        if (s[i] == '"') {
          if (i + 1 < len && s[i + 1] == '"') {
            al_buf_append(b, "\"", 1);
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (s[i] == '\n') (*line)++;
        al_buf_append(b, &s[i], 1);
        i++;
      }
      if (i < len && s[i] != ',' && s[i] != '\n' && !(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') &&
          !(s[i] == '\r' && i + 1 == len))
        return al_fail(err, "%s:%d: unexpected character '%c' after a closing quote (expected ',' or end of line)",
                       where, *line, s[i]);
    } else {
      size_t j = i;
      while (j < len && s[j] != ',' && s[j] != '\n' && !(s[j] == '\r' && (j + 1 == len || s[j + 1] == '\n'))) j++;
      al_buf_append(b, s + i, j - i);
      i = j;
    }
    b->data[b->len] = 0;
    if (i < len && s[i] == ',') {
      i++;
      continue;
    }
    if (i < len && s[i] == '\r') i++;
    if (i < len && s[i] == '\n') i++;
    (*line)++;
    break;
  }
  *pos = i;
  return fs->n;
}

int al_csv_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err) {
  memset(t, 0, sizeof *t);
  size_t pos = 0;
  if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3;
  int line = 1, cap = 0, rc = -1;
  csv_fields hdr = {0}, fs = {0};
  int nh;
  do { /* skip blank lines before the header */
    nh = csv_record(text, len, &pos, &line, &hdr, where, err);
  } while (nh == 1 && hdr.f[0].len == 0);
  if (nh < 0) goto done;
  if (nh == 0) {
    al_fail(err, "%s: empty file (a CSV task needs a header row)", where);
    goto done;
  }
  for (int a = 0; a < nh; a++)
    for (int b = a + 1; b < nh; b++)
      if (!strcmp(hdr.f[a].data, hdr.f[b].data)) {
        al_fail(err, "%s:1: column '%s' appears twice in the header", where, hdr.f[a].data);
        goto done;
      }
  for (;;) {
    int start = line;
    int nf = csv_record(text, len, &pos, &line, &fs, where, err);
    if (nf < 0) goto done;
    if (nf == 0) break;
    if (nf == 1 && fs.f[0].len == 0) continue; /* blank line */
    if (nf != nh) {
      al_fail(err, "%s:%d: row has %d fields but the header has %d", where, start, nf, nh);
      goto done;
    }
    json_t *row = json_object();
    for (int k = 0; k < nf; k++) {
      json_t *v = json_stringn(fs.f[k].data, fs.f[k].len);
      if (!v || json_object_set_new(row, hdr.f[k].data, v)) {
        json_decref(row);
        al_fail(err, "%s:%d: column '%s' is not valid UTF-8", where, start, hdr.f[k].data);
        goto done;
      }
    }
    table_push(t, row, start, &cap);
  }
  rc = 0;
done:
  fields_clear(&hdr);
  fields_clear(&fs);
  free(hdr.f);
  free(fs.f);
  if (rc) al_table_free(t);
  return rc;
}

int al_jsonl_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err) {
  memset(t, 0, sizeof *t);
  int cap = 0, line = 1;
  size_t i = 0;
  if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) i = 3;
  size_t first = i;
  while (first < len && (text[first] == ' ' || text[first] == '\n' || text[first] == '\r' || text[first] == '\t'))
    first++;
  if (first < len && text[first] == '[') { /* a .json file holding one array of objects */
    json_t *arr;
    if (al_json_parse(text + i, len - i, where, &arr, err)) return -1;
    for (size_t k = 0; k < json_array_size(arr); k++) {
      json_t *o = json_array_get(arr, k);
      if (!json_is_object(o)) {
        json_decref(arr);
        al_table_free(t);
        return al_fail(err, "%s: item %zu of the array is not an object", where, k);
      }
      table_push(t, json_incref(o), (int)k + 1, &cap);
    }
    json_decref(arr);
    return 0;
  }
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    size_t k = i;
    while (k < j && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
    if (k < j) {
      char w[512];
      snprintf(w, sizeof w, "%s:%d", where, line);
      json_t *o;
      if (al_json_parse(text + i, j - i, w, &o, err)) {
        al_table_free(t);
        return -1;
      }
      if (!json_is_object(o)) {
        json_decref(o);
        al_table_free(t);
        return al_fail(err, "%s:%d: expected a JSON object", where, line);
      }
      table_push(t, o, line, &cap);
    }
    i = j + 1;
    line++;
  }
  return 0;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcasecmp(s + a - b, suf);
}

int al_table_load(const char *path, al_table *t, al_err *err) {
  char *text;
  size_t len;
  memset(t, 0, sizeof *t);
  if (al_read_file(path, &text, &len, err)) return -1;
  int rc;
  if (ends_with(path, ".csv")) rc = al_csv_parse(text, len, path, t, err);
  else if (ends_with(path, ".jsonl") || ends_with(path, ".json")) rc = al_jsonl_parse(text, len, path, t, err);
  else rc = al_fail(err, "%s: unknown task file type (expected .csv, .jsonl or .json)", path);
  free(text);
  return rc;
}

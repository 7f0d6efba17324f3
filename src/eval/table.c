/* Tables read unchanged from the papers' files: RFC 4180 CSV (libcsv,
 * Debian libcsv-dev) and JSONL.
 * Each row becomes a JSON object (CSV values are strings) with the line it
 * starts on, so every later error can name file and line. */
#include <csv.h>
#include <string.h>
#include <strings.h>
#include "alab/table.h"
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

/* The fields of the CSV record being read, each a NUL-terminated al_buf. */
typedef struct {
  al_buf *f;
  int n, cap;
} csv_fields;

static void fields_clear(csv_fields *fs) {
  for (int i = 0; i < fs->n; i++) al_buf_free(&fs->f[i]);
  fs->n = 0;
}

/* What the libcsv callbacks build: the header, then one JSON row per record. */
typedef struct {
  const char *where;
  al_table *t;
  csv_fields hdr, rec;
  int have_hdr, cap;
  int line, start, in_rec; /* current line; line the open record started on */
  int failed;
  al_err *err;
} csv_reader;

static void on_field(void *s, size_t len, void *data) {
  csv_reader *r = data;
  csv_fields *fs = &r->rec;
  if (fs->n == fs->cap) {
    fs->cap = fs->cap ? 2 * fs->cap : 16;
    fs->f = al_realloc(fs->f, (size_t)fs->cap * sizeof *fs->f);
  }
  al_buf *b = &fs->f[fs->n++];
  memset(b, 0, sizeof *b);
  al_buf_append(b, s, len);
  al_buf_append(b, "", 1);
  b->len = len; /* the NUL stays after the data */
}

/* End of a record: the header, or a row checked against it. A record that is
 * one empty field (a line holding only "") is skipped like a blank line. */
static void on_record(int c, void *data) {
  csv_reader *r = data;
  csv_fields *fs = &r->rec;
  r->in_rec = 0;
  if (r->failed || (fs->n == 1 && fs->f[0].len == 0)) goto done;
  if (!r->have_hdr) {
    for (int a = 0; a < fs->n; a++)
      for (int b = a + 1; b < fs->n; b++)
        if (!strcmp(fs->f[a].data, fs->f[b].data)) {
          r->failed = al_fail(r->err, "%s:%d: column '%s' appears twice in the header", r->where, r->start,
                              fs->f[a].data);
          goto done;
        }
    r->hdr = *fs;
    memset(fs, 0, sizeof *fs);
    r->have_hdr = 1;
    return;
  }
  if (fs->n != r->hdr.n) {
    r->failed = al_fail(r->err, "%s:%d: row has %d fields but the header has %d", r->where, r->start, fs->n, r->hdr.n);
    goto done;
  }
  json_t *row = json_object();
  for (int k = 0; k < fs->n; k++) {
    json_t *v = json_stringn(fs->f[k].data, fs->f[k].len);
    if (!v || json_object_set_new(row, r->hdr.f[k].data, v)) {
      json_decref(row);
      r->failed = al_fail(r->err, "%s:%d: column '%s' is not valid UTF-8", r->where, r->start, r->hdr.f[k].data);
      goto done;
    }
  }
  table_push(r->t, row, r->start, &r->cap);
done:
  (void)c;
  fields_clear(fs);
}

/* RFC 4180 keeps spaces around fields: none is trimmed. */
static int no_space(unsigned char c) {
  (void)c;
  return 0;
}

/* The input goes to libcsv in pieces that end at a CR or LF, so a record can
 * only end at a piece's last byte: a piece that starts outside a record and
 * holds more than line breaks starts one on the current line. On a syntax
 * error libcsv returns the offset of the byte it rejected, which gives the
 * column. */
int al_csv_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err) {
  memset(t, 0, sizeof *t);
  csv_reader r = {.where = where, .t = t, .line = 1, .err = err};
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) return al_fail(err, "%s: out of memory", where);
  csv_set_space_func(&p, no_space);
  size_t pos = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0, line_at = pos;
  while (pos < len && !r.failed) {
    size_t end = pos;
    while (end < len && text[end] != '\n' && text[end] != '\r') end++;
    if (end < len) end++;
    size_t k = pos;
    while (k < end && (text[k] == '\n' || text[k] == '\r')) k++;
    if (!r.in_rec && k < end) r.in_rec = 1, r.start = r.line;
    size_t done = csv_parse(&p, text + pos, end - pos, on_field, on_record, &r);
    if (done < end - pos && !r.failed) {
      size_t at = pos + done;
      int col = (int)(at - line_at) + 1;
      if (csv_error(&p) != CSV_EPARSE)
        r.failed = al_fail(err, "%s:%d: %s", where, r.line, csv_strerror(csv_error(&p)));
      else if (text[at] == '"')
        r.failed = al_fail(err, "%s:%d:%d: a '\"' inside an unquoted field (quote the whole field and write the '\"' "
                                "as '\"\"')", where, r.line, col);
      else
        r.failed = al_fail(err, "%s:%d:%d: unexpected character '%c' after a closing quote (expected ',' or end of "
                                "line)", where, r.line, col, text[at]);
    }
    if (text[end - 1] == '\n') r.line++, line_at = end;
    pos = end;
  }
  if (!r.failed && csv_fini(&p, on_field, on_record, &r) && !r.failed)
    r.failed = al_fail(err, "%s:%d: quoted field never closed (a '\"' is missing)", where, r.start);
  if (!r.failed && !r.have_hdr) r.failed = al_fail(err, "%s: empty file (a CSV task needs a header row)", where);
  csv_free(&p);
  fields_clear(&r.hdr);
  fields_clear(&r.rec);
  free(r.hdr.f);
  free(r.rec.f);
  if (r.failed) al_table_free(t);
  return r.failed ? -1 : 0;
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

/* Lists of strings as task files write them: a JSON array, or a string that
 * holds a JSON or Python-style list, e.g. "[' yes', ' no']" (the Inverse
 * Scaling Prize CSVs). Grammar: '[' ws (item ws (',' ws item ws)* ','?)? ws ']'
 * where item is '...' or "..." with backslash escapes \\ \' \" \n \t \r \0
 * \xHH \uHHHH \UHHHHHHHH (code points written as UTF-8). Whitespace inside the
 * quotes (the leading space of a class) is kept. */
#include <string.h>
#include "alab/table.h"

void al_free_str_list(char **items, int n) {
  for (int i = 0; i < n; i++) free(items[i]);
  free(items);
}

static void put_utf8(al_buf *b, uint32_t c) {
  char u[4];
  int n;
  if (c < 0x80) u[0] = (char)c, n = 1;
  else if (c < 0x800) u[0] = (char)(0xC0 | c >> 6), u[1] = (char)(0x80 | (c & 63)), n = 2;
  else if (c < 0x10000)
    u[0] = (char)(0xE0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 63)), u[2] = (char)(0x80 | (c & 63)), n = 3;
  else
    u[0] = (char)(0xF0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 63)), u[2] = (char)(0x80 | ((c >> 6) & 63)),
    u[3] = (char)(0x80 | (c & 63)), n = 4;
  al_buf_append(b, u, (size_t)n);
}

static int hex_digits(const char *s, int n, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + (uint32_t)d;
  }
  *out = v;
  return 0;
}

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Parses one quoted item at *pp into a fresh string. */
static int parse_item(const char **pp, char **out, const char *where, al_err *err) {
  const char *p = *pp;
  char q = *p++;
  al_buf b = {0};
  al_buf_append(&b, "", 0);
  while (*p != q) {
    if (!*p) {
      al_buf_free(&b);
      return al_fail(err, "%s: unterminated string in list (missing %c)", where, q);
    }
    if (*p != '\\') {
      al_buf_append(&b, p++, 1);
      continue;
    }
    p++;
    uint32_t c;
    int n = 0;
    switch (*p) {
      case '\\': case '\'': case '"': case '/': al_buf_append(&b, p, 1); break;
      case 'n': al_buf_append(&b, "\n", 1); break;
      case 't': al_buf_append(&b, "\t", 1); break;
      case 'r': al_buf_append(&b, "\r", 1); break;
      case '0': al_buf_append(&b, "", 1); break;
      case 'x': n = 2; break;
      case 'u': n = 4; break;
      case 'U': n = 8; break;
      default:
        al_buf_free(&b);
        return al_fail(err, "%s: unknown escape '\\%c' in list item", where, *p ? *p : '0');
    }
    if (n) {
      if ((int)strnlen(p + 1, (size_t)n) < n || hex_digits(p + 1, n, &c) || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) {
        al_buf_free(&b);
        return al_fail(err, "%s: bad \\%c escape in list item", where, *p);
      }
      put_utf8(&b, c);
      p += n;
    }
    p++;
  }
  *pp = p + 1;
  b.data[b.len] = 0;
  *out = b.data;
  return 0;
}

static int parse_list(const char *s, char ***items, int *n, const char *where, al_err *err);

/* On failure *items is NULL and *n 0 (so callers may free unconditionally). */
int al_parse_str_list(const char *s, char ***items, int *n, const char *where, al_err *err) {
  *items = NULL;
  *n = 0;
  if (!parse_list(s, items, n, where, err)) return 0;
  *items = NULL;
  *n = 0;
  return -1;
}

static int parse_list(const char *s, char ***items, int *n, const char *where, al_err *err) {
  int cap = 0;
  const char *p = skip_ws(s);
  if (*p != '[') return al_fail(err, "%s: expected a list like ['a', 'b'], got '%.40s'", where, s);
  p = skip_ws(p + 1);
  while (*p != ']') {
    if (*p != '\'' && *p != '"') {
      al_free_str_list(*items, *n);
      return al_fail(err, "%s: expected a quoted string in the list at '%.20s'", where, p);
    }
    char *it = NULL;
    if (parse_item(&p, &it, where, err)) {
      al_free_str_list(*items, *n);
      return -1;
    }
    if (*n == cap) {
      cap = cap ? 2 * cap : 4;
      *items = al_realloc(*items, (size_t)cap * sizeof **items);
    }
    (*items)[(*n)++] = it;
    p = skip_ws(p);
    if (*p == ',') p = skip_ws(p + 1);
    else if (*p != ']') {
      al_free_str_list(*items, *n);
      return al_fail(err, "%s: expected ',' or ']' in the list at '%.20s'", where, p);
    }
  }
  if (*skip_ws(p + 1)) {
    al_free_str_list(*items, *n);
    return al_fail(err, "%s: text after the list's closing ']'", where);
  }
  return 0;
}

int al_json_str_list(const json_t *v, char ***items, int *n, const char *where, al_err *err) {
  if (json_is_string(v)) return al_parse_str_list(json_string_value(v), items, n, where, err);
  if (!json_is_array(v)) return al_fail(err, "%s: expected a list of strings", where);
  *n = (int)json_array_size(v);
  *items = al_calloc((size_t)(*n ? *n : 1), sizeof **items);
  for (int i = 0; i < *n; i++) {
    const json_t *e = json_array_get(v, (size_t)i);
    if (!json_is_string(e)) {
      al_free_str_list(*items, i);
      *items = NULL;
      *n = 0;
      return al_fail(err, "%s: list item %d is not a string", where, i);
    }
    (*items)[i] = al_strdup(json_string_value(e));
  }
  return 0;
}

int al_split_commas(const char *s, char ***items, int *n, const char *what, al_err *err) {
  *items = NULL;
  *n = 0;
  int cap = 0;
  const char *p = s ? s : "", *item;
  size_t len;
  while (al_comma_next(&p, &item, &len)) {
    if (!len) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 8;
      *items = al_realloc(*items, (size_t)cap * sizeof **items);
    }
    char *it = al_malloc(len + 1);
    memcpy(it, item, len);
    it[len] = 0;
    (*items)[(*n)++] = it;
  }
  if (!*n) return al_fail(err, "%s: expected a comma-separated list, got '%s'", what, s ? s : "");
  return 0;
}

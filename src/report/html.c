/* HTML pieces shared by the report's pages: escaping, numbers, the page's
 * head and inline styles, and gnuplot's SVG files inlined. The pages are
 * self-contained (no external resource, no script), readable at 390 px
 * (plots and text shrink to the width, a word longer than the line breaks;
 * a table wider than the page scrolls inside its own box, so words in cells
 * stay whole) and printable. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report/report_internal.h"

void rp_html(al_buf *b, const char *s) {
  for (const char *p = s ? s : ""; *p; p++) {
    switch (*p) {
      case '&': al_buf_printf(b, "&amp;"); break;
      case '<': al_buf_printf(b, "&lt;"); break;
      case '>': al_buf_printf(b, "&gt;"); break;
      case '"': al_buf_printf(b, "&quot;"); break;
      case '\'': al_buf_printf(b, "&#39;"); break;
      default: al_buf_append(b, p, 1);
    }
  }
}

void rp_num(al_buf *b, double x) {
  if (isfinite(x)) al_buf_printf(b, "%.4g", x);
  else al_buf_printf(b, "&ndash;");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int rp_list_svgs(const char *dir, char ***out) {
  *out = NULL;
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 5 || strcmp(e->d_name + l - 4, ".svg") || e->d_name[0] == '.') continue;
    if (n == cap) *out = al_realloc(*out, sizeof(char *) * (cap = cap ? 2 * cap : 8));
    (*out)[n++] = al_strdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(*out, n, sizeof(char *), cmp_str);
  return n;
}

/* Every id in one page must be unique: each plot's ids (and the references
 * to them) get the prefix "pID-". The namespace attributes are dropped: the
 * HTML parser puts an inline <svg> in its namespace by itself. */
int rp_svg_inline(al_buf *b, const char *dir, const char *name, int id) {
  char *path = al_path_join(dir, name), *text = NULL;
  size_t len;
  al_err err;
  int rc = al_read_file(path, &text, &len, &err);
  free(path);
  if (rc) return -1;
  const char *p = strstr(text, "<svg");
  if (!p) {
    free(text);
    return -1;
  }
  char pfx[24];
  snprintf(pfx, sizeof pfx, "p%d-", id);
  static const char *const refs[] = {"id=\"", "id='", "href='#", "href=\"#", "url(#"};
  static const char *const drop[] = {" xmlns=\"http://www.w3.org/2000/svg\"", " xmlns:xlink=\"http://www.w3.org/1999/xlink\""};
  while (*p) {
    int done = 0;
    for (size_t k = 0; k < sizeof drop / sizeof *drop && !done; k++)
      if (!strncmp(p, drop[k], strlen(drop[k]))) p += strlen(drop[k]), done = 1;
    for (size_t k = 0; k < sizeof refs / sizeof *refs && !done; k++) {
      size_t l = strlen(refs[k]);
      if (strncmp(p, refs[k], l)) continue;
      al_buf_append(b, p, l);
      al_buf_printf(b, "%s", pfx);
      p += l, done = 1;
    }
    if (!done) al_buf_append(b, p++, 1);
  }
  free(text);
  return 0;
}

/* A JSON value as HTML: objects as tables, arrays as lists, the rest as text. */
void rp_value_html(al_buf *b, const json_t *j) {
  if (json_is_object(j)) {
    al_buf_printf(b, "<table>");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
      al_buf_printf(b, "<tr><th>");
      rp_html(b, k);
      al_buf_printf(b, "</th><td>");
      rp_value_html(b, v);
      al_buf_printf(b, "</td></tr>");
    }
    al_buf_printf(b, "</table>");
  } else if (json_is_array(j)) {
    al_buf_printf(b, "<ul>");
    for (size_t i = 0; i < json_array_size(j); i++) {
      al_buf_printf(b, "<li>");
      rp_value_html(b, json_array_get(j, i));
      al_buf_printf(b, "</li>");
    }
    al_buf_printf(b, "</ul>");
  } else if (json_is_string(j)) {
    rp_html(b, json_string_value(j));
  } else {
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    rp_html(b, s);
    free(s);
  }
}

void rp_page_start(al_buf *b, const char *title) {
  al_buf_printf(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
  rp_html(b, title);
  al_buf_printf(b, "</title>\n<style>\n"
                   "body{font-family:sans-serif;line-height:1.4;max-width:980px;margin:0 auto;padding:0 12px;"
                   "overflow-wrap:break-word}\n"
                   "svg{width:100%%;height:auto;display:block}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}\n"
                   ".wide{overflow-x:auto;max-width:100%%}table{border-collapse:collapse;font-size:.9em}"
                   "td,th{border:1px solid #ccc;padding:.25em .4em;text-align:left;vertical-align:top}\n"
                   ".yes{color:#060;font-weight:bold}.no{color:#b00;font-weight:bold}.unk{color:#a60;font-weight:bold}"
                   "small.test{color:#555}.error{color:#b00}.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 .3em;"
                   "margin:.1em;font-size:.85em}\n"
                   ".cols{display:flex;flex-wrap:wrap;gap:12px}.cols>div{flex:1 1 300px;min-width:0}\n"
                   "@media print{body{max-width:none}section,figure,table{break-inside:avoid}a{color:inherit}}\n"
                   "</style></head>\n<body>\n<h1>");
  rp_html(b, title);
  al_buf_printf(b, "</h1>\n");
}

void rp_page_end(al_buf *b) { al_buf_printf(b, "</body></html>\n"); }

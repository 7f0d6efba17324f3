/* index.html of a run directory: for each experiment, its summary (the
 * experiment registry's line unless the entry gives one), the
 * "headline" lines of its results.json, links to its config.json,
 * results.json and metrics.jsonl, and its SVG plots embedded in name order. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "report/report_internal.h"

/* A link target: subdir/name, with "./" dropped; escaped as an attribute. */
static void href(al_buf *b, const char *subdir, const char *name) {
  if (subdir && *subdir && strcmp(subdir, ".")) {
    rp_html(b, subdir);
    al_buf_append(b, "/", 1);
  }
  rp_html(b, name);
}

static void entry_html(al_buf *b, const char *dir, const al_index_entry *e) {
  char *sub = al_path_join(dir, e->subdir ? e->subdir : ".");
  al_buf_printf(b, "<section>\n<h2>");
  rp_html(b, e->name);
  al_buf_printf(b, "</h2>\n");
  const al_exp_entry *x = e->summary ? NULL : al_experiment_find(e->name, strlen(e->name));
  const char *summary = e->summary ? e->summary : x ? x->summary : NULL;
  if (summary) {
    al_buf_printf(b, "<p>");
    rp_html(b, summary);
    al_buf_printf(b, "</p>\n");
  }
  if (e->error) {
    al_buf_printf(b, "<p class=\"error\">failed: ");
    rp_html(b, e->error);
    al_buf_printf(b, "</p>\n");
  }
  char *res = al_path_join(sub, "results.json");
  json_t *j = NULL;
  al_err err;
  if (al_file_exists(res) && al_json_load_file(res, &j, &err) == 0) {
    json_t *h = json_object_get(j, "headline");
    if (json_is_array(h) && json_array_size(h)) {
      al_buf_printf(b, "<ul>\n");
      for (size_t i = 0; i < json_array_size(h); i++) {
        const char *s = json_string_value(json_array_get(h, i));
        if (!s) continue;
        al_buf_printf(b, "<li>");
        rp_html(b, s);
        al_buf_printf(b, "</li>\n");
      }
      al_buf_printf(b, "</ul>\n");
    }
    json_decref(j);
  } else if (al_file_exists(res)) {
    al_buf_printf(b, "<p class=\"error\">");
    rp_html(b, err.msg);
    al_buf_printf(b, "</p>\n");
  }
  free(res);
  al_buf_printf(b, "<p>");
  const char *files[] = {"config.json", "results.json", "metrics.jsonl"};
  for (int i = 0; i < 3; i++) {
    char *p = al_path_join(sub, files[i]);
    if (al_file_exists(p)) {
      al_buf_printf(b, "<a href=\"");
      href(b, e->subdir, files[i]);
      al_buf_printf(b, "\">%s</a> ", files[i]);
    }
    free(p);
  }
  al_buf_printf(b, "</p>\n");
  char **svgs;
  int n = rp_list_svgs(sub, &svgs);
  for (int i = 0; i < n; i++) {
    al_buf_printf(b, "<figure><img src=\"");
    href(b, e->subdir, svgs[i]);
    al_buf_printf(b, "\" alt=\"");
    rp_html(b, svgs[i]);
    al_buf_printf(b, "\"><figcaption>");
    rp_html(b, svgs[i]);
    al_buf_printf(b, "</figcaption></figure>\n");
    free(svgs[i]);
  }
  free(svgs);
  al_buf_printf(b, "</section>\n");
  free(sub);
}

int al_report_index(const char *dir, const char *title, const al_index_entry *e, int n, al_err *err) {
  al_buf b = {0};
  al_buf_printf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>");
  rp_html(&b, title);
  al_buf_printf(&b, "</title>\n<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}"
                    "img{max-width:100%%}.error{color:#b00}li{margin:.3em 0}</style></head>\n<body>\n<h1>");
  rp_html(&b, title);
  al_buf_printf(&b, "</h1>\n<p>alab %s</p>\n", ALAB_VERSION);
  for (int i = 0; i < n; i++) entry_html(&b, dir, &e[i]);
  al_buf_printf(&b, "</body></html>\n");
  char *path = al_path_join(dir, "index.html");
  int rc = al_write_file_atomic(path, b.data, b.len, err);
  free(path);
  al_buf_free(&b);
  return rc;
}

/* The section of an `alab eval` run: the task and model, each metric with
 * its t and bootstrap 95% intervals, and the first examples with their
 * prompts (escaped: a task's text is data). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "report/report_internal.h"

#define EVAL_SHOWN 20 /* examples shown; the rest: examples.jsonl */

static void interval(al_buf *b, const json_t *pair) {
  al_buf_printf(b, "[");
  rp_num(b, json_is_number(json_array_get(pair, 0)) ? json_number_value(json_array_get(pair, 0)) : NAN);
  al_buf_printf(b, ", ");
  rp_num(b, json_is_number(json_array_get(pair, 1)) ? json_number_value(json_array_get(pair, 1)) : NAN);
  al_buf_printf(b, "]");
}

void rp_eval_html(al_buf *b, const char *dir, const json_t *r) {
  const json_t *task = json_object_get(r, "task"), *prov = json_object_get(r, "provider");
  al_buf_printf(b, "<p>Task ");
  rp_html(b, json_string_value(json_object_get(task, "path")));
  al_buf_printf(b, " (");
  rp_html(b, json_string_value(json_object_get(task, "format")));
  al_buf_printf(b, ", %d examples) on ", (int)json_integer_value(json_object_get(task, "n")));
  rp_html(b, json_string_value(json_object_get(prov, "kind")));
  al_buf_printf(b, " model ");
  rp_html(b, json_string_value(json_object_get(prov, "model")));
  al_buf_printf(b, "; main metric ");
  rp_html(b, json_string_value(json_object_get(r, "main_metric")));
  al_buf_printf(b, ".</p>\n<h3>Metrics</h3>\n<div class=\"wide\"><table class=\"metrics\"><tr><th>metric</th><th>mean</th>"
                   "<th>95%% CI (t)</th><th>95%% CI (bootstrap)</th><th>n</th></tr>\n");
  const char *k;
  json_t *m;
  json_object_foreach((json_t *)json_object_get(r, "metrics"), k, m) {
    al_buf_printf(b, "<tr><td>");
    rp_html(b, k);
    al_buf_printf(b, "</td><td>");
    rp_num(b, json_is_number(json_object_get(m, "mean")) ? json_number_value(json_object_get(m, "mean")) : NAN);
    al_buf_printf(b, "</td><td>");
    interval(b, json_object_get(m, "ci95_t"));
    al_buf_printf(b, "</td><td>");
    interval(b, json_object_get(m, "ci95_bootstrap"));
    al_buf_printf(b, "</td><td>%d</td></tr>\n", (int)json_integer_value(json_object_get(m, "n")));
  }
  al_buf_printf(b, "</table></div>\n");
  char *path = al_path_join(dir, "examples.jsonl");
  FILE *f = fopen(path, "r");
  free(path);
  if (!f) return;
  al_buf_printf(b, "<h3>Examples (the first %d; all: examples.jsonl)</h3>\n<div class=\"wide\"><table class=\"examples\">"
                   "<tr><th>input</th><th>result</th></tr>\n", EVAL_SHOWN);
  char *line = NULL;
  size_t cap = 0;
  for (int i = 0; i < EVAL_SHOWN && getline(&line, &cap, f) > 0; i++) {
    json_error_t je;
    json_t *rec = json_loads(line, 0, &je);
    if (!rec) continue;
    json_t *in = json_incref(json_object_get(rec, "input"));
    json_object_del(rec, "input");
    al_buf_printf(b, "<tr><td>");
    rp_value_html(b, in);
    al_buf_printf(b, "</td><td>");
    rp_value_html(b, rec);
    al_buf_printf(b, "</td></tr>\n");
    json_decref(in), json_decref(rec);
  }
  free(line);
  fclose(f);
  al_buf_printf(b, "</table></div>\n");
}

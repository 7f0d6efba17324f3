/* One experiment's section of a report page: its claim and the challenges
 * it informs, the findings with their tests, intervals and verdicts, the
 * headline lines, every plot inline, the settings that differ from the
 * defaults, run time, machine and version, the model card, and links to
 * the raw files. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "report/report_internal.h"

/* NULL when dir/name is missing or unreadable (err says which). */
static json_t *load(const char *dir, const char *name, al_err *err) {
  char *path = al_path_join(dir, name);
  json_t *j = NULL;
  if (!al_file_exists(path)) al_fail(err, "%s: missing", path);
  else if (al_json_load_file(path, &j, err)) j = NULL;
  free(path);
  return j;
}

void rp_verdict_html(al_buf *b, int v) {
  if (v == RP_REPRODUCED) al_buf_printf(b, "<span class=\"yes\">reproduced</span>");
  else if (v == RP_NOT_REPRODUCED) al_buf_printf(b, "<span class=\"no\">not reproduced</span>");
  else al_buf_printf(b, "<span class=\"unk\">cannot tell</span>");
}

void rp_estimate_html(al_buf *b, const rp_finding *f) {
  rp_num(b, f->est);
  if (isfinite(f->lo) || isfinite(f->hi)) {
    al_buf_printf(b, " [");
    rp_num(b, f->lo);
    al_buf_printf(b, ", ");
    rp_num(b, f->hi);
    al_buf_printf(b, "]");
  }
}

int rp_findings_of(const char *dir, const char *name, rp_finding *f, int max) {
  const rp_claim *c = rp_claim_find(name);
  al_err err;
  json_t *r = c && c->findings ? load(dir, "results.json", &err) : NULL;
  int n = r ? c->findings(r, f, max) : 0;
  json_decref(r);
  return n;
}

static void findings_table(al_buf *b, const rp_finding *f, int n) {
  al_buf_printf(b, "<div class=\"wide\"><table class=\"findings\"><tr><th>claim; the test</th><th>this run</th>"
                   "<th>estimate [95%% CI]</th><th>p</th></tr>\n");
  for (int i = 0; i < n; i++) {
    al_buf_printf(b, "<tr><td>");
    rp_html(b, f[i].claim);
    al_buf_printf(b, "<br><small class=\"test\">");
    rp_html(b, f[i].test);
    al_buf_printf(b, "</small></td><td>");
    rp_verdict_html(b, f[i].verdict);
    al_buf_printf(b, "</td><td>");
    rp_estimate_html(b, &f[i]);
    al_buf_printf(b, "</td><td>");
    if (isfinite(f[i].p)) al_buf_printf(b, "%.3g", f[i].p);
    else al_buf_printf(b, "&ndash;");
    al_buf_printf(b, "</td></tr>\n");
  }
  al_buf_printf(b, "</table></div>\n");
}

/* "a.b.c" = value (compact JSON), every leaf of an object. */
void rp_flatten(const json_t *j, const char *prefix, json_t *out) {
  if (json_is_object(j)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
      char key[256];
      snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
      rp_flatten(v, key, out);
    }
    return;
  }
  char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
  json_object_set_new(out, prefix, json_string(s ? s : "?"));
  free(s);
}

/* The settings of config.json that differ from the defaults' (every one
 * when the experiment's defaults are not known). */
static void settings_html(al_buf *b, const char *dir, const char *name) {
  al_err err;
  json_t *config = load(dir, "config.json", &err);
  if (!config) return;
  const rp_claim *c = rp_claim_find(name);
  json_t *def = c && c->default_config ? c->default_config() : NULL;
  json_t *a = json_object(), *d = json_object();
  rp_flatten(config, "", a);
  if (def) rp_flatten(def, "", d);
  al_buf_printf(b, "<h3>Settings</h3>\n<p>%s</p>\n", def ? "Those that differ from the defaults (the rest: config.json)."
                                                         : "Every setting (this experiment's defaults are not known to the report).");
  al_buf_printf(b, "<div class=\"wide\"><table class=\"settings\"><tr><th>setting</th><th>this run</th>%s</tr>\n",
                def ? "<th>default</th>" : "");
  const char *k;
  json_t *v;
  int shown = 0;
  json_object_foreach(a, k, v) {
    const char *dv = json_string_value(json_object_get(d, k));
    if (def && dv && !strcmp(dv, json_string_value(v))) continue;
    al_buf_printf(b, "<tr><td>");
    rp_html(b, k);
    al_buf_printf(b, "</td><td>");
    rp_html(b, json_string_value(v));
    if (def) {
      al_buf_printf(b, "</td><td>");
      rp_html(b, dv ? dv : "(none)");
    }
    al_buf_printf(b, "</td></tr>\n");
    shown++;
  }
  al_buf_printf(b, "</table></div>\n");
  if (!shown) al_buf_printf(b, "<p>Every setting is the default.</p>\n");
  json_decref(a), json_decref(d), json_decref(def), json_decref(config);
}

static void run_facts(al_buf *b, const char *dir) {
  al_err err;
  json_t *r = load(dir, "results.json", &err), *m = load(dir, "machine.json", &err);
  al_buf_printf(b, "<h3>Run</h3>\n<ul class=\"run\">");
  double secs = r ? json_number_value(json_object_get(r, "seconds")) : 0;
  if (!secs && r) secs = json_number_value(json_object_get(json_object_get(r, "throughput"), "seconds")); /* eval's */
  if (secs > 0) al_buf_printf(b, "<li>run time %.1f s</li>", secs);
  if (m) {
    al_buf_printf(b, "<li>machine: ");
    rp_html(b, json_string_value(json_object_get(m, "cpu")));
    al_buf_printf(b, ", %d cores, %d threads</li><li>alab ", (int)json_integer_value(json_object_get(m, "cores")),
                  (int)json_integer_value(json_object_get(m, "threads")));
    rp_html(b, json_string_value(json_object_get(m, "alab_version")));
    al_buf_printf(b, "</li><li>finished ");
    rp_html(b, json_string_value(json_object_get(m, "date")));
    al_buf_printf(b, "</li>");
  } else {
    al_buf_printf(b, "<li>machine and version not recorded (no machine.json)</li>");
  }
  al_buf_printf(b, "</ul>\n");
  json_decref(r), json_decref(m);
}

/* Links to every file and folder of dir but the pages themselves. */
static void raw_links(al_buf *b, const char *dir, const char *link) {
  char **names = NULL;
  int n = 0, cap = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.") || !strcmp(e->d_name, "report.html") ||
        !strcmp(e->d_name, "index.html"))
      continue;
    if (n == cap) names = al_realloc(names, sizeof(char *) * (cap = cap ? 2 * cap : 16));
    names[n++] = al_strdup(e->d_name);
  }
  if (d) closedir(d);
  for (int i = 0; i < n; i++) /* results.json first, then by name */
    for (int j = i + 1; j < n; j++)
      if ((strcmp(names[j], "results.json") == 0) || (strcmp(names[i], "results.json") && strcmp(names[j], names[i]) < 0)) {
        char *t = names[i];
        names[i] = names[j], names[j] = t;
      }
  al_buf_printf(b, "<h3>Files</h3>\n<p class=\"files\">");
  for (int i = 0; i < n; i++) {
    al_buf_printf(b, "<a href=\"");
    rp_html(b, link);
    rp_html(b, names[i]);
    al_buf_printf(b, "\">");
    rp_html(b, names[i]);
    al_buf_printf(b, "</a> ");
    free(names[i]);
  }
  free(names);
  al_buf_printf(b, "</p>\n");
}

void rp_tags_html(al_buf *b, const rp_claim *c) {
  for (int i = 0; c && i < 3 && c->challenges[i]; i++) {
    const rp_challenge *ch = rp_challenge_find(c->challenges[i]);
    al_buf_printf(b, "<span class=\"tag\">%s ", c->challenges[i]);
    rp_html(b, ch ? ch->title : "");
    al_buf_printf(b, "</span>");
  }
}

void rp_section(al_buf *b, const char *dir, const char *link, const char *name, const char *error, int *svg_id) {
  const al_exp_entry *x = al_experiment_find(name, strlen(name));
  const rp_claim *c = rp_claim_find(name);
  al_buf_printf(b, "<section id=\"exp-");
  rp_html(b, name);
  al_buf_printf(b, "\">\n<h2>");
  rp_html(b, name);
  al_buf_printf(b, "</h2>\n");
  if (x) {
    al_buf_printf(b, "<p>");
    rp_html(b, x->summary);
    al_buf_printf(b, "</p>\n");
  }
  if (c) {
    al_buf_printf(b, "<p class=\"claim\"><b>The paper's finding:</b> ");
    rp_html(b, c->claim);
    al_buf_printf(b, "</p>\n<p>Informs (Anwar et al. 2024): ");
    rp_tags_html(b, c);
    al_buf_printf(b, "</p>\n");
  }
  if (error) {
    al_buf_printf(b, "<p class=\"error\">failed: ");
    rp_html(b, error);
    al_buf_printf(b, "</p>\n");
  }
  al_err err;
  json_t *r = load(dir, "results.json", &err);
  if (!r) {
    al_buf_printf(b, "<p class=\"error\">");
    rp_html(b, err.msg);
    al_buf_printf(b, "</p>\n");
  }
  rp_finding f[RP_MAX_FINDINGS];
  int nf = r && c && c->findings ? c->findings(r, f, RP_MAX_FINDINGS) : 0;
  if (nf) {
    int yes = 0;
    for (int i = 0; i < nf; i++) yes += f[i].verdict == RP_REPRODUCED;
    al_buf_printf(b, "<h3>Findings: %d of %d reproduced</h3>\n", yes, nf);
    findings_table(b, f, nf);
  }
  json_t *h = json_object_get(r, "headline");
  if (json_array_size(h)) {
    al_buf_printf(b, "<h3>Headline figures</h3>\n<ul class=\"headline\">\n");
    for (size_t i = 0; i < json_array_size(h); i++) {
      al_buf_printf(b, "<li>");
      rp_html(b, json_string_value(json_array_get(h, i)));
      al_buf_printf(b, "</li>\n");
    }
    al_buf_printf(b, "</ul>\n");
  }
  if (!strcmp(name, "eval") && r) rp_eval_html(b, dir, r);
  json_decref(r);
  char **svgs;
  int ns = rp_list_svgs(dir, &svgs);
  if (ns) al_buf_printf(b, "<h3>Plots</h3>\n");
  for (int i = 0; i < ns; i++) {
    al_buf_printf(b, "<figure class=\"plot\">");
    if (rp_svg_inline(b, dir, svgs[i], ++*svg_id)) al_buf_printf(b, "<p class=\"error\">cannot read this plot</p>");
    al_buf_printf(b, "<figcaption>");
    rp_html(b, svgs[i]);
    al_buf_printf(b, "</figcaption></figure>\n");
    free(svgs[i]);
  }
  free(svgs);
  json_t *card = load(dir, "model_card.json", &err);
  if (card) {
    al_buf_printf(b, "<h3>Model card</h3>\n<div class=\"wide card\">");
    rp_value_html(b, card);
    al_buf_printf(b, "</div>\n");
    json_decref(card);
  }
  settings_html(b, dir, name);
  run_facts(b, dir);
  raw_links(b, dir, link);
  al_buf_printf(b, "</section>\n");
}

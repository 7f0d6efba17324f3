/* The report pages: report.html of one run, of a reproduction (findings
 * grouped by the challenges of Anwar et al. 2024, then every experiment's
 * section), and the comparison of two runs of one experiment. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dist.h"
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "report/report_internal.h"

static int write_page(const char *path, al_buf *b, al_err *err) {
  rp_page_end(b);
  int rc = al_write_file_atomic(path, b->data, b->len, err);
  al_buf_free(b);
  return rc;
}

/* The experiment a run directory holds: results.json's or config.json's
 * "experiment" ("reproduce" for a reproduction, "eval" for an `alab eval`
 * run: results.json with "task" and "metrics"), into name; -1 when neither says. */
static int experiment_of(const char *dir, char *name, size_t n, al_err *err) {
  static const char *const files[] = {"results.json", "config.json"};
  for (int i = 0; i < 2; i++) {
    char *path = al_path_join(dir, files[i]);
    json_t *j = NULL;
    al_err e;
    if (al_file_exists(path) && !al_json_load_file(path, &j, &e)) {
      const char *s = json_string_value(json_object_get(j, "experiment"));
      if (!s) s = json_string_value(json_object_get(j, "command"));
      if (!s && json_is_object(json_object_get(j, "task")) && json_is_object(json_object_get(j, "metrics"))) s = "eval";
      if (s) snprintf(name, n, "%s", s);
      json_decref(j);
      if (s) {
        free(path);
        return 0;
      }
    }
    free(path);
  }
  return al_fail(err, "%s: no results.json or config.json naming an experiment: not a run directory", dir);
}

int al_report_reproduction(const char *dir, const char *title, const al_index_entry *e, int n, al_err *err) {
  al_buf b = {0};
  rp_page_start(&b, title);
  al_buf_printf(&b, "<p>alab %s. Each finding of each paper, as this run measured it, grouped by the challenges of "
                    "Anwar et al. 2024 (Foundational Challenges in Assuring Alignment and Safety of LLMs) that it "
                    "informs; the experiments' sections follow.</p>\n", al_version());
  for (int c = 0; c < RP_NCHALLENGES; c++) {
    int any = 0;
    for (int i = 0; i < n; i++) {
      const rp_claim *cl = rp_claim_find(e[i].name);
      int tagged = 0;
      for (int k = 0; cl && k < 3 && cl->challenges[k]; k++) tagged |= !strcmp(cl->challenges[k], rp_challenges[c].id);
      if (!tagged) continue;
      if (!any) {
        al_buf_printf(&b, "<h2 class=\"challenge\">%s ", rp_challenges[c].id);
        rp_html(&b, rp_challenges[c].title);
        al_buf_printf(&b, "</h2>\n<ul>\n");
      }
      any = 1;
      rp_finding f[RP_MAX_FINDINGS];
      char *sub = al_path_join(dir, e[i].subdir ? e[i].subdir : e[i].name);
      int nf = e[i].error ? 0 : rp_findings_of(sub, e[i].name, f, RP_MAX_FINDINGS), yes = 0;
      free(sub);
      for (int k = 0; k < nf; k++) yes += f[k].verdict == RP_REPRODUCED;
      al_buf_printf(&b, "<li><a href=\"#exp-");
      rp_html(&b, e[i].name);
      al_buf_printf(&b, "\">");
      rp_html(&b, e[i].name);
      al_buf_printf(&b, "</a>: ");
      if (e[i].error) al_buf_printf(&b, "<span class=\"no\">failed</span>");
      else if (!nf) al_buf_printf(&b, "<span class=\"unk\">no findings</span>");
      else rp_verdict_html(&b, yes == nf ? RP_REPRODUCED : RP_NOT_REPRODUCED);
      if (nf) al_buf_printf(&b, " (%d of %d findings)", yes, nf);
      if (strcmp(cl->challenges[0], rp_challenges[c].id)) { /* listed in full under its main challenge */
        al_buf_printf(&b, "; the findings under %s</li>\n", cl->challenges[0]);
        continue;
      }
      al_buf_printf(&b, "<ul>");
      for (int k = 0; k < nf; k++) {
        al_buf_printf(&b, "<li>");
        rp_verdict_html(&b, f[k].verdict);
        al_buf_printf(&b, ": ");
        rp_html(&b, f[k].claim);
        al_buf_printf(&b, "</li>");
      }
      al_buf_printf(&b, "</ul></li>\n");
    }
    if (any) al_buf_printf(&b, "</ul>\n");
  }
  int svg_id = 0;
  for (int i = 0; i < n; i++) {
    const char *subdir = e[i].subdir ? e[i].subdir : e[i].name;
    char *sub = al_path_join(dir, subdir), link[300];
    snprintf(link, sizeof link, "%s/", subdir);
    rp_section(&b, sub, link, e[i].name, e[i].error, &svg_id);
    free(sub);
  }
  char *path = al_path_join(dir, "report.html");
  int rc = write_page(path, &b, err);
  free(path);
  return rc;
}

int al_report_run(const char *dir, al_err *err) {
  char name[128];
  if (experiment_of(dir, name, sizeof name, err)) return -1;
  if (!strcmp(name, "reproduce")) { /* every experiment config.json lists */
    char *path = al_path_join(dir, "config.json");
    json_t *config = NULL;
    int rc = al_json_load_file(path, &config, err);
    free(path);
    if (rc) return -1;
    const json_t *list = json_object_get(config, "experiments");
    size_t n = json_array_size(list);
    al_index_entry *e = al_calloc(n + 1, sizeof *e);
    for (size_t i = 0; i < n; i++) {
      const char *s = json_string_value(json_array_get(list, i));
      e[i] = (al_index_entry){.name = s ? s : "?", .subdir = s ? s : "?"};
    }
    rc = al_report_reproduction(dir, json_is_true(json_object_get(config, "quick")) ? "alab reproduce --quick" : "alab reproduce",
                                e, (int)n, err);
    free(e);
    json_decref(config);
    return rc;
  }
  char title[160];
  snprintf(title, sizeof title, "alab %s", name);
  al_buf b = {0};
  rp_page_start(&b, title);
  int svg_id = 0;
  rp_section(&b, dir, "", name, NULL, &svg_id);
  char *path = al_path_join(dir, "report.html");
  int rc = write_page(path, &b, err);
  free(path);
  return rc;
}

int al_report_finish(const char *dir, al_err *err) {
  if (al_dist_rank(al_dist_current()) != 0) return 0; /* an MPI sweep's follower rank: rank 0 writes the run */
  if (al_report_record_machine(dir, err)) return -1;
  return al_report_run(dir, err);
}

/* ---- two runs of one experiment side by side ---- */

/* B - A with a 95% interval from the two intervals' half-widths (independent
 * runs, normal approximation: half-width sqrt(hA^2 + hB^2)). */
static void diff_html(al_buf *b, const rp_finding *x, const rp_finding *y) {
  double d = y->est - x->est, h = sqrt(pow((x->hi - x->lo) / 2, 2) + pow((y->hi - y->lo) / 2, 2));
  rp_finding t = {.est = d, .lo = d - h, .hi = d + h};
  rp_estimate_html(b, &t);
}

int al_report_compare(const char *a, const char *bdir, const char *out, al_err *err) {
  char na[128], nb[128];
  if (experiment_of(a, na, sizeof na, err) || experiment_of(bdir, nb, sizeof nb, err)) return -1;
  if (strcmp(na, nb)) return al_fail(err, "%s holds a %s run and %s a %s run: compare two runs of one experiment", a, na, bdir, nb);
  char title[160];
  snprintf(title, sizeof title, "alab %s: two runs", na);
  al_buf b = {0};
  rp_page_start(&b, title);
  al_buf_printf(&b, "<p>A: ");
  rp_html(&b, a);
  al_buf_printf(&b, "<br>B: ");
  rp_html(&b, bdir);
  al_buf_printf(&b, "</p>\n");
  rp_finding fa[RP_MAX_FINDINGS], fb[RP_MAX_FINDINGS];
  int n = rp_findings_of(a, na, fa, RP_MAX_FINDINGS), m = rp_findings_of(bdir, nb, fb, RP_MAX_FINDINGS);
  al_buf_printf(&b, "<h2>Findings</h2>\n<div class=\"wide\"><table class=\"compare\"><tr><th>claim</th><th>A [95%% CI]</th>"
                    "<th>B [95%% CI]</th><th>B - A [95%% CI]</th></tr>\n");
  for (int i = 0; i < n; i++) {
    const rp_finding *y = NULL;
    for (int k = 0; k < m && !y; k++)
      if (!strcmp(fb[k].claim, fa[i].claim)) y = &fb[k];
    al_buf_printf(&b, "<tr><td>");
    rp_html(&b, fa[i].claim);
    al_buf_printf(&b, "</td><td>");
    rp_estimate_html(&b, &fa[i]);
    al_buf_printf(&b, " ");
    rp_verdict_html(&b, fa[i].verdict);
    al_buf_printf(&b, "</td><td>");
    if (y) {
      rp_estimate_html(&b, y);
      al_buf_printf(&b, " ");
      rp_verdict_html(&b, y->verdict);
      al_buf_printf(&b, "</td><td>");
      diff_html(&b, &fa[i], y);
    } else {
      al_buf_printf(&b, "not measured</td><td>&ndash;");
    }
    al_buf_printf(&b, "</td></tr>\n");
  }
  al_buf_printf(&b, "</table></div>\n<p>B - A: the difference of the estimates; its interval combines the two "
                    "intervals' half-widths as independent normal errors.</p>\n");
  /* settings that differ between the two */
  json_t *ca = NULL, *cb = NULL, *fa_ = json_object(), *fb_ = json_object();
  char *pa = al_path_join(a, "config.json"), *pb = al_path_join(bdir, "config.json");
  al_err e;
  if (!al_json_load_file(pa, &ca, &e)) rp_flatten(ca, "", fa_);
  if (!al_json_load_file(pb, &cb, &e)) rp_flatten(cb, "", fb_);
  free(pa), free(pb);
  al_buf_printf(&b, "<h2>Settings that differ</h2>\n<div class=\"wide\"><table><tr><th>setting</th><th>A</th><th>B</th></tr>\n");
  const char *k;
  json_t *v;
  json_object_foreach(fb_, k, v) if (!json_object_get(fa_, k)) json_object_set_new(fa_, k, json_string("(none)"));
  json_object_foreach(fa_, k, v) {
    const char *sb = json_string_value(json_object_get(fb_, k));
    if (sb && !strcmp(sb, json_string_value(v))) continue;
    al_buf_printf(&b, "<tr><td>");
    rp_html(&b, k);
    al_buf_printf(&b, "</td><td>");
    rp_html(&b, json_string_value(v));
    al_buf_printf(&b, "</td><td>");
    rp_html(&b, sb ? sb : "(none)");
    al_buf_printf(&b, "</td></tr>\n");
  }
  al_buf_printf(&b, "</table></div>\n");
  json_decref(ca), json_decref(cb), json_decref(fa_), json_decref(fb_);
  /* each run's section, side by side where the page is wide enough */
  int svg_id = 0;
  const char *dirs[2] = {a, bdir};
  al_buf_printf(&b, "<div class=\"cols\">\n");
  for (int i = 0; i < 2; i++) { /* links by absolute path: the page may be written anywhere */
    char *abs = realpath(dirs[i], NULL), link[PATH_MAX + 2];
    snprintf(link, sizeof link, "%s/", abs ? abs : dirs[i]);
    al_buf_printf(&b, "<div>\n<p><b>%s</b></p>\n", i ? "B" : "A");
    rp_section(&b, dirs[i], link, na, NULL, &svg_id);
    al_buf_printf(&b, "</div>\n");
    free(abs);
  }
  al_buf_printf(&b, "</div>\n");
  return write_page(out, &b, err);
}

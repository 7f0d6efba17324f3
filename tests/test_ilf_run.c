/* `alab ilf` at a tiny scale: the run directory holds every intermediate
 * (valid JSONL, kept exactly when the refinement passed, eval records whose
 * verdicts give the reported pass@1), the same seeds give the same numbers
 * with 1 and 2 threads, and bad settings are refused by name. */
#include <jansson.h>
#include "alab/code.h"
#include "alab/ilf.h"
#include "alab/json.h"
#include "test.h"

static void tiny(al_ilf_cfg *c) {
  al_ilf_defaults(c, 1);
  c->seeds = 2, c->n_policy = 400, c->n_refiner = 400;
  c->policy_steps = 40, c->refiner_steps = 40, c->ilf_steps = 10;
  c->n_ilf = 24, c->n_eval = 8, c->samples = 2, c->workers = 4;
  c->sum.seeds = 2, c->sum.n_policy = 150, c->sum.n_refiner = 150, c->sum.policy_steps = 15, c->sum.refiner_steps = 15;
  c->sum.ilf_steps = 3, c->sum.n_ilf = 8, c->sum.n_eval = 4, c->sum.samples = 2;
}

/* Lines of dir/name parsed as JSON objects; -1 if one is not. */
static int read_jsonl(const char *dir, const char *name, json_t ***out) {
  char *p = al_path_join(dir, name), *text;
  size_t len;
  al_err e;
  int n = 0;
  *out = NULL;
  if (al_read_file(p, &text, &len, &e)) return free(p), -1;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    json_t *o = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, NULL);
    if (!json_is_object(o)) return free(p), free(text), -1;
    *out = al_realloc(*out, sizeof(json_t *) * (size_t)(n + 1));
    (*out)[n++] = o;
    line = nl ? nl + 1 : line + strlen(line);
  }
  free(p), free(text);
  return n;
}

int main(void) {
  char *tmp = test_tmpdir("ilf_run");
  al_ilf_cfg c;
  tiny(&c);
  al_ilf_result a, b;
  al_err e;
  char *d1 = al_path_join(tmp, "t1"), *d2 = al_path_join(tmp, "t2"), *files = al_path_join(d1, "seed1");
  c.threads = 1;
  CHECK_OK(al_ilf_run(&c, d1, &a, &e), e);
  c.threads = 2;
  CHECK_OK(al_ilf_run(&c, d2, &b, &e), e);
  if (a.s && b.s)
    for (int s = 0; s < 2; s++)
      for (int v = 0; v < 3; v++)
        CHECK(a.s[s].pass1[v] == b.s[s].pass1[v] && a.s[s].refined_passed == b.s[s].refined_passed,
              "seed %d policy %d: 1 thread %.4f, 2 threads %.4f", s + 1, v, a.s[s].pass1[v], b.s[s].pass1[v]);
  if (a.sum.s && b.sum.s)
    for (int s = 0; s < 2; s++)
      for (int v = 0; v < 3; v++)
        CHECK(a.sum.s[s].acc[v] == b.sum.s[s].acc[v] && a.sum.s[s].selected == b.sum.s[s].selected,
              "summaries seed %d policy %d: 1 thread %.4f, 2 threads %.4f", s + 1, v, a.sum.s[s].acc[v], b.sum.s[s].acc[v]);
  CHECK(a.sum.seeds == 2 && b.sum.seeds == 2, "the summaries loop ran (%d seeds)", a.sum.seeds);

  /* ilf.jsonl: one line per task; kept exactly when the refinement passed */
  json_t **rows;
  int n = read_jsonl(files, "ilf.jsonl", &rows), failed = 0, kept = 0;
  CHECK(n == c.n_ilf, "ilf.jsonl: %d lines, want %d", n, c.n_ilf);
  for (int i = 0; i < n; i++) {
    const char *v = json_string_value(json_object_get(rows[i], "verdict"));
    json_t *fb = json_object_get(rows[i], "feedback");
    CHECK(v && (!strcmp(v, "passed") == !fb), "line %d: feedback exactly on failures", i + 1);
    if (fb) {
      failed++;
      const char *rv = json_string_value(json_object_get(rows[i], "refinement_verdict"));
      int k = json_is_true(json_object_get(rows[i], "kept"));
      kept += k;
      CHECK(rv && k == !strcmp(rv, "passed") && json_is_string(json_object_get(rows[i], "refinement")), "line %d: kept", i + 1);
    }
    json_decref(rows[i]);
  }
  free(rows);
  if (a.s) CHECK(failed == a.s[0].failed && kept == a.s[0].refined_passed, "counts %d/%d vs %d/%d", failed, kept, a.s[0].failed,
                 a.s[0].refined_passed);

  /* eval records: the pass@1 they give is the one reported */
  const char *names[3] = {"eval_base.jsonl", "eval_ilf.jsonl", "eval_untested.jsonl"};
  for (int v = 0; v < 3 && a.s; v++) {
    n = read_jsonl(files, names[v], &rows);
    CHECK(n == c.n_eval * c.samples, "%s: %d lines", names[v], n);
    double sum = 0;
    for (int t = 0; t < n / c.samples; t++) {
      int passed = 0;
      for (int j = 0; j < c.samples; j++)
        passed += !strcmp(json_string_value(json_object_get(rows[t * c.samples + j], "verdict")), "passed");
      sum += al_pass_at_k(c.samples, passed, 1);
    }
    CHECK(n > 0 && fabs(sum / (n / c.samples) - a.s[0].pass1[v]) < 1e-12, "%s: pass@1 %.4f vs reported %.4f", names[v],
          sum / (n / c.samples), a.s[0].pass1[v]);
    for (int i = 0; i < n; i++) json_decref(rows[i]);
    free(rows);
  }
  const char *must[] = {"config.json", "results.json", "metrics.jsonl", "pass1.svg", "seed1/policy/model.safetensors",
                        "seed1/refiner/config.json", "seed1/policy_ilf/model.safetensors", "seed1/policy_data.jsonl",
                        "seed1/refiner_data.jsonl", "report.html", "summaries/results.json",
                        "summaries/accuracy.svg", "summaries/seed1/ilf.jsonl", "summaries/seed1/policy_ilf/config.json"};
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
    char *p = al_path_join(d1, must[i]);
    CHECK(al_file_exists(p), "%s is written", must[i]);
    free(p);
  }
  json_t *res;
  char *rp = al_path_join(d1, "results.json");
  CHECK_OK(al_json_load_file(rp, &res, &e), e);
  json_t *sr = json_object_get(res, "summaries");
  CHECK(json_array_size(json_object_get(json_object_get(sr, "acc_ilf"), "seeds")) == 2 &&
            json_array_size(json_object_get(sr, "per_seed")) == 2,
        "results.json: the summaries loop's every seed");
  CHECK(res && json_array_size(json_object_get(res, "headline")) == 7 &&
            json_array_size(json_object_get(json_object_get(res, "gain_ilf"), "seeds")) == 2,
        "results.json: headline and every seed");
  json_decref(res), free(rp);
  al_ilf_result_free(&a), al_ilf_result_free(&b);

  /* bad settings */
  tiny(&c);
  c.seeds = 0;
  CHECK_FAILS_WITH(al_ilf_run(&c, d1, NULL, &e), e, "seeds");
  tiny(&c);
  c.p_wrong[1] = 1.5;
  CHECK_FAILS_WITH(al_ilf_run(&c, d1, NULL, &e), e, "p_wrong[1]");
  tiny(&c);
  c.sum.p_wrong[2] = -1;
  CHECK_FAILS_WITH(al_ilf_run(&c, d1, NULL, &e), e, "summaries: p_wrong[2]");
  tiny(&c);
  c.sandbox.bwrap = "/nonexistent/bwrap";
  CHECK_FAILS_WITH(al_ilf_run(&c, d1, NULL, &e), e, "--unsafe-no-sandbox");
  free(d1), free(d2), free(files), free(tmp);
  return test_summary();
}

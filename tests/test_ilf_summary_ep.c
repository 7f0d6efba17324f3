/* The summaries loop of `alab ilf`, through real HTTP: a tiny summariser and
 * refiner are trained by al_ilf_sum_run (its run directory holds every
 * intermediate); `alab ilf summaries` runs with every role a model
 * directory (the policy greedy, the refiner also the critic and the yes/no
 * judge), then with every role behind `alab serve` (two servers), then with
 * the policy a directory and the others served. Oracle: the served runs
 * write the same summaries, feedback, refinements and selections as the
 * local one, the judge's p(yes) agrees within 1e-3, and the finetuned
 * policy (a directory policy only) is written and measured the same. */
#include <jansson.h>
#include <signal.h>
#include "alab/ilf.h"
#include "alab/json.h"
#include "exp/ilf_internal.h"
#include "ilf_jsonl.h"
#include "serve_proc.h"
#include "test.h"

static int run(const char *dir, const char *out, const char *policy, const char *refiner, const char *critic,
               const char *judge) {
  char cmd[4096], *o;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' ilf summaries --policy '%s' --refiner '%s' --critic '%s' --selector '%s' "
           "--facts 3 --temperature 0 --stories 12 --eval-stories 6 --samples 1 --ilf-steps 3 --cache off --threads 1 --out %s --quiet 2>&1",
           dir, getenv("ALAB_BIN"), policy, refiner, critic, judge, out);
  int rc = test_sh(cmd, &o);
  CHECK(rc == 0, "%s: %s", out, o);
  free(o);
  return rc;
}

/* The ILF records of run a and run b agree: text fields exactly, p(yes) within 1e-3. */
static void same_round(const char *dir, const char *a, const char *b) {
  char *da = al_path_join(dir, a), *db = al_path_join(dir, b);
  json_t *ra = jsonl(da, "ilf.jsonl"), *rb = jsonl(db, "ilf.jsonl");
  size_t n = json_array_size(ra), same = 0, judged = 0;
  const char *keys[] = {"summary", "feedback", "refinement", "selected"};
  for (size_t i = 0; i < n && i < json_array_size(rb); i++) {
    json_t *x = json_array_get(ra, i), *y = json_array_get(rb, i);
    int eq = 1;
    for (int k = 0; k < 4; k++) eq &= json_equal(json_object_get(x, keys[k]), json_object_get(y, keys[k])) ||
                                     (!json_object_get(x, keys[k]) && !json_object_get(y, keys[k]));
    json_t *jx = json_object_get(json_object_get(x, "judge"), "p_yes"), *jy = json_object_get(json_object_get(y, "judge"), "p_yes");
    if (jx) judged++, eq &= jy && fabs(json_number_value(jx) - json_number_value(jy)) < 1e-3;
    same += eq;
  }
  CHECK(n == 12 && json_array_size(rb) == n && same == n && (judged > 0) == !strcmp(a, "local"), "%s vs %s: %zu of %zu records agree (%zu judged)", a, b,
        same, n, judged);
  json_t *ea = jsonl(da, "eval_base.jsonl"), *eb = jsonl(db, "eval_base.jsonl");
  CHECK(json_array_size(ea) == 6 && json_equal(ea, eb), "%s vs %s: the base evaluation agrees", a, b);
  json_decref(ra), json_decref(rb), json_decref(ea), json_decref(eb), free(da), free(db);
}

int main(void) {
  if (!getenv("ALAB_BIN")) return fprintf(stderr, "ALAB_BIN must be set (ctest sets it)\n"), 1;
  char *dir = test_tmpdir("ilf_summary_ep"), *toy = al_path_join(dir, "toy");
  al_ilf_sum_cfg c;
  al_ilf_sum_defaults(&c, 1);
  c.seeds = 1, c.n_policy = 200, c.n_refiner = 200, c.policy_steps = 30, c.refiner_steps = 30, c.ilf_steps = 3;
  c.n_ilf = 8, c.n_eval = 4, c.samples = 1;
  al_ilf_sum_result r;
  al_err e;
  CHECK_OK(al_ilf_sum_run(&c, 1, toy, &r, &e), e);
  const char *must[] = {"config.json", "results.json", "metrics.jsonl", "accuracy.svg", "seed1/policy_data.jsonl",
                        "seed1/refiner_data.jsonl", "seed1/ilf.jsonl", "seed1/keep.jsonl", "seed1/eval_base.jsonl",
                        "seed1/eval_ilf.jsonl", "seed1/eval_untested.jsonl", "seed1/policy/config.json",
                        "seed1/refiner/model.safetensors", "seed1/policy_ilf/config.json"};
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
    char *p = al_path_join(toy, must[i]);
    CHECK(al_file_exists(p), "%s is written", must[i]);
    free(p);
  }
  if (r.s) {
    char *s1 = al_path_join(toy, "seed1");
    json_t *rows = jsonl(s1, "ilf.jsonl"), *keep = jsonl(s1, "keep.jsonl");
    size_t fb = 0, sel = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
      json_t *o = json_array_get(rows, i);
      fb += json_object_get(o, "feedback") != NULL, sel += json_is_true(json_object_get(o, "selected"));
    }
    CHECK(json_array_size(rows) == 8 && fb == (size_t)r.s[0].with_feedback && sel == (size_t)r.s[0].selected &&
              json_array_size(keep) == sel,
          "toy ilf.jsonl: %zu rows, %zu with feedback (%d), %zu selected (%d), keep %zu", json_array_size(rows), fb,
          r.s[0].with_feedback, sel, r.s[0].selected, json_array_size(keep));
    json_decref(rows), json_decref(keep), free(s1);
  }
  free(r.s);

  const char *P = "toy/seed1/policy", *R = "toy/seed1/refiner";
  run(dir, "local", P, R, R, R);
  run(dir, "local_all", P, R, "exact", "all");
  int pp = 0, pr = 0;
  char pol[1024], ref[1024], url_p[128], url_r[128];
  snprintf(pol, sizeof pol, "%s/%s", dir, P), snprintf(ref, sizeof ref, "%s/%s", dir, R);
  pid_t a = start_server(pol, &pp), b = start_server(ref, &pr);
  CHECK(pp > 0 && pr > 0, "both servers started");
  snprintf(url_p, sizeof url_p, "http://127.0.0.1:%d/v1#policy", pp);
  snprintf(url_r, sizeof url_r, "http://127.0.0.1:%d/v1#refiner", pr);
  run(dir, "served", url_p, url_r, url_r, url_r);
  run(dir, "mixed", P, url_r, "exact", "all");
  kill(a, SIGTERM), kill(b, SIGTERM);
  same_round(dir, "local", "served");
  { /* selected_exact and unchanged, recounted from the local run's records and the stories' facts */
    char **texts = al_calloc(12, sizeof(char *));
    ilf_facts *facts = al_calloc(12, sizeof *facts);
    ilf_sum_stories(1, 404, 12, 0, texts, facts);
    char *dl = al_path_join(dir, "local"), *pr = al_path_join(dl, "results.json");
    json_t *rows = jsonl(dl, "ilf.jsonl"), *res = NULL;
    int exact = 0, same = 0, refined = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
      json_t *o = json_array_get(rows, i);
      const char *ref = json_string_value(json_object_get(o, "refinement")), *story = json_string_value(json_object_get(o, "story"));
      int k = 0;
      while (k < 12 && strcmp(texts[k], story)) k++;
      if (!ref || k == 12) continue;
      char *left = ilf_summary_feedback(&facts[k], ref);
      refined++, exact += !left && json_is_true(json_object_get(o, "selected"));
      same += !strcmp(ref, json_string_value(json_object_get(o, "summary")));
      free(left);
    }
    CHECK_OK(al_json_load_file(pr, &res, &e), e);
    CHECK(refined > 0 && json_integer_value(json_object_get(res, "selected_exact")) == exact &&
              json_integer_value(json_object_get(res, "unchanged")) == same,
          "selected_exact %lld (records: %d), unchanged %lld (records: %d) of %d refined",
          (long long)json_integer_value(json_object_get(res, "selected_exact")), exact,
          (long long)json_integer_value(json_object_get(res, "unchanged")), same, refined);
    json_decref(rows), json_decref(res), free(dl), free(pr), ilf_free_strs(texts, 12), free(facts);
  }
  same_round(dir, "local_all", "mixed");
  json_t *rl, *rs, *rm, *ra;
  char *pa = al_path_join(dir, "local_all/results.json"), *pl = al_path_join(dir, "local/results.json"), *ps = al_path_join(dir, "served/results.json"),
       *pm = al_path_join(dir, "mixed/results.json");
  CHECK_OK(al_json_load_file(pl, &rl, &e), e);
  CHECK_OK(al_json_load_file(ps, &rs, &e), e);
  CHECK_OK(al_json_load_file(pm, &rm, &e), e);
  CHECK_OK(al_json_load_file(pa, &ra, &e), e);
  if (rl && rs && rm && ra) {
    json_t *roles = json_object_get(rs, "roles");
    CHECK(!strcmp(json_string_value(json_object_get(roles, "policy")), "http") &&
              !strcmp(json_string_value(json_object_get(roles, "selector")), "judge"),
          "served roles are HTTP with the judge as selector");
    json_t *h = json_object_get(json_object_get(rs, "http"), "selector");
    CHECK(json_integer_value(json_object_get(h, "requests")) > 0 && !json_object_size(json_object_get(rl, "http")),
          "the served run accounts for the judge's requests, the local one has none");
    long kept = (long)json_integer_value(json_object_get(ra, "selected"));
    CHECK(kept == 12 && json_is_true(json_object_get(ra, "finetuned")) && json_is_false(json_object_get(rs, "finetuned")) &&
              json_is_true(json_object_get(rm, "finetuned")),
          "a directory policy is finetuned on the %ld kept, an endpoint policy is not", kept);
    CHECK(json_equal(json_object_get(ra, "acc_ilf"), json_object_get(rm, "acc_ilf")) && json_object_get(rm, "gain"),
          "the finetuned policy measures the same after local and served refinements");
  }
  char *ft = al_path_join(dir, "mixed/policy_ilf/model.safetensors"), *f0 = al_path_join(dir, "toy/seed1/policy/model.safetensors");
  char *b0 = NULL, *b1 = NULL;
  size_t l0 = 0, l1 = 0;
  CHECK(!al_read_file(ft, &b1, &l1, &e) && !al_read_file(f0, &b0, &l0, &e) && l0 == l1 && memcmp(b0, b1, l0),
        "mixed/policy_ilf is written, the same size as the policy, with other weights");
  free(b0), free(b1), free(f0);
  json_decref(rl), json_decref(rs), json_decref(rm), json_decref(ra);
  free(pa), free(pl), free(ps), free(pm), free(ft), free(toy), free(dir);
  return test_summary();
}

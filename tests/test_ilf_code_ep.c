/* `alab ilf code` end to end through real HTTP. The test trains one small
 * byte-level model on three tasks of the toy code world (write the program
 * for a spec; say what is wrong with a program; rewrite it from the
 * feedback), writes the world's tasks as an MBPP file, and runs:
 *   local   every role the model directory (the critic prompted with a
 *           template, the refiner too);
 *   served  every role behind two real `alab serve` processes (the policy
 *           on one, the critic and the refiner on the other);
 *   mixed   the policy a directory (so it is finetuned), the others served;
 *   exact   the exact critic (the failing test, from the traceback);
 *   ann     an annotation file as the feedback source.
 * Oracles: the served runs write the same programs, verdicts, feedback,
 * refinements and selections as the local run; each refinement is kept
 * exactly when the system's python3, run outside alab on the saved program,
 * passes its asserts (some pass, some fail); pass@1 and the paired gain in
 * results.json are recomputed from the saved evaluation records; a
 * directory policy is finetuned and saved, an endpoint policy is not; bad
 * flags and files exit 2 or 1 naming the problem. */
#include <jansson.h>
#include <signal.h>
#include "alab/ilf.h"
#include "alab/json.h"
#include "alab/model.h"
#include "exp/ilf_internal.h"
#include "ilf_jsonl.h"
#include "serve_proc.h"
#include "test.h"

static const char *CRITIC_T = "{text}\n{program}\n# feedback:";
static const char *REFINE_T = "{text}\n{program}\n# feedback: {feedback}\n# fixed:\n";

/* The model: policy demonstrations, critic examples and refiner examples. */
static int train(const char *dir, al_err *e) {
  double p_wrong[3] = {0.4, 0.3, 0.2};
  char *pol = ilf_policy_data(5, 1500, p_wrong), *ref = ilf_refiner_data(5, 1500);
  al_buf all = {0};
  al_buf_printf(&all, "%s%s", pol, ref);
  al_rng rng;
  al_rng_seed(&rng, 9);
  for (int i = 0; i < 1500; i++) { /* critic: "# spec\nPROGRAM\n# feedback:" -> " FEEDBACK" */
    ilf_spec s, w;
    ilf_random_spec(&rng, &s);
    w = s;
    int c = (int)al_rng_below(&rng, 3);
    if (c == 0) w.desc = !w.desc;
    else if (c == 1) w.k = 1 + (w.k % 4);
    else w.op = (w.op + 1) % 4;
    char *p = ilf_prompt(&s), *g = ilf_program(&w), *fb = ilf_feedback(&s, g);
    al_buf prompt = {0}, comp = {0};
    al_buf_printf(&prompt, "%s%s\n# feedback:", p, g), al_buf_printf(&comp, " %s", fb);
    ilf_sft_line(&all, prompt.data, comp.data);
    free(p), free(g), free(fb), al_buf_free(&prompt), al_buf_free(&comp);
  }
  al_tok *tok = al_tok_byte();
  al_model_config mc = {.vocab_size = al_tok_vocab_size(tok), .n_positions = 192, .n_layer = 2, .n_head = 4, .n_embd = 64};
  al_model m = {0};
  int rc = al_model_config_set_arch(&mc, "gpt2", e) || al_model_init(&m, &mc, 5, e) ||
           ilf_sft(&m, tok, all.data, "the test's examples", 192, 350, 3e-3, 16, 5, e) || al_model_save_dir(&m, tok, dir, e);
  al_model_free(&m), al_tok_free(tok), free(pol), free(ref), al_buf_free(&all);
  return rc;
}

/* n toy tasks as MBPP lines: text = the spec comment, test_list = 3 asserts. */
static char *mbpp_file(int n, uint64_t seed) {
  al_rng rng;
  al_rng_seed(&rng, seed);
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    ilf_spec s;
    ilf_random_spec(&rng, &s);
    char *p = ilf_prompt(&s), *code = ilf_program(&s), *tests = ilf_tests(&s, &rng, 3);
    p[strlen(p) - 1] = 0;
    json_t *tl = json_array();
    for (char *t = strtok(tests, "\n"); t; t = strtok(NULL, "\n")) json_array_append_new(tl, json_string(t));
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:[]}", "task_id", i + 1, "text", p, "code", code, "test_setup_code", "",
                          "test_list", tl, "challenge_test_list");
    char *line = json_dumps(o, JSON_COMPACT);
    al_buf_printf(&b, "%s\n", line);
    free(line), json_decref(o), free(p), free(code), free(tests);
  }
  return b.data;
}

/* Two annotations in the file's layout: find_missing's original fails its
 * check (range stops one short), add's passes. */
static char *annotation_file(void) {
  json_t *a = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:f}", "task_id", 34, "prompt",
                        "\"\"\"\nWrite a python function to find the missing number in a sorted array.\n\"\"\"\n\ndef find_missing(ar,N):\n",
                        "test", "from pytest import approx\n\ndef check(candidate):\n\tassert candidate([1,2,3,5],4) ==approx( 4)\n",
                        "Feedback", "Python's range function does not include the upper bound.", "completion",
                        "\n    for i in range(1,N + 1):\n        if i not in ar:\n            return i", "result", "passed", "passed", 1,
                        "unedited_annotator_completion",
                        "def find_missing(ar,N):\n    for i in range(1,N + 1):\n        if i not in ar:\n            return i",
                        "original_model_completion",
                        "def find_missing(ar,N):\n    for i in range(1,N):\n        if i not in ar:\n            return i\n",
                        "refinement_edit_distance", 0.13);
  json_t *b = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "task_id", 35, "prompt",
                        "def add(a, b):\n    \"\"\"The sum of a and b.\"\"\"\n", "test",
                        "def check(candidate):\n    assert candidate(1, 2) == 3\n", "Feedback", "Nothing to fix.", "completion",
                        "    return a + b\n", "result", "passed", "passed", 1, "unedited_annotator_completion",
                        "def add(a, b):\n    return a + b\n", "original_model_completion", "def add(a, b):\n    return a + b\n");
  char *la = json_dumps(a, JSON_COMPACT), *lb = json_dumps(b, JSON_COMPACT);
  al_buf f = {0};
  al_buf_printf(&f, "%s\n%s\n", la, lb);
  free(la), free(lb), json_decref(a), json_decref(b);
  return f.data;
}

static int run(const char *dir, const char *out, const char *roles, int want_rc) {
  char cmd[8192], *o;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' ilf code %s --plain-prompt --max-tokens 64 --critic-template '%s' "
           "--refine-template '%s' --temperature 1 --eval-temperature 1 --samples 2 --k 1,2 --ilf-steps 20 --batch 8 "
           "--cache off --threads 1 --out %s --quiet 2>&1",
           dir, getenv("ALAB_BIN"), roles, CRITIC_T, REFINE_T, out);
  int rc = test_sh(cmd, &o);
  CHECK(rc == want_rc, "%s: exit %d (want %d): %s", out, rc, want_rc, o);
  free(o);
  return rc;
}

static json_t *results(const char *dir, const char *run) {
  char *p = al_path_join(dir, run), *q = al_path_join(p, "results.json");
  json_t *r = NULL;
  al_err e;
  CHECK_OK(al_json_load_file(q, &r, &e), e);
  free(p), free(q);
  return r;
}

/* The ILF records and the base evaluation of runs a and b agree. */
static void same_round(const char *dir, const char *a, const char *b) {
  char *da = al_path_join(dir, a), *db = al_path_join(dir, b);
  json_t *ra = jsonl(da, "ilf.jsonl"), *rb = jsonl(db, "ilf.jsonl");
  const char *keys[] = {"program", "verdict", "feedback", "refinement", "refinement_verdict", "kept"};
  size_t n = json_array_size(ra), same = 0;
  for (size_t i = 0; i < n && i < json_array_size(rb); i++) {
    int eq = 1;
    for (int k = 0; k < 6; k++) {
      json_t *x = json_object_get(json_array_get(ra, i), keys[k]), *y = json_object_get(json_array_get(rb, i), keys[k]);
      eq &= (!x && !y) || (x && y && json_equal(x, y));
    }
    same += eq;
  }
  CHECK(n == 24 && json_array_size(rb) == n && same == n, "%s vs %s: %zu of %zu ILF records agree", a, b, same, n);
  json_t *ea = jsonl(da, "eval_base.jsonl"), *eb = jsonl(db, "eval_base.jsonl");
  size_t m = json_array_size(ea), sv = 0;
  for (size_t i = 0; i < m && i < json_array_size(eb); i++)
    sv += json_equal(json_object_get(json_array_get(ea, i), "program"), json_object_get(json_array_get(eb, i), "program")) &&
          json_equal(json_object_get(json_array_get(ea, i), "verdict"), json_object_get(json_array_get(eb, i), "verdict"));
  CHECK(m == 48 && json_array_size(eb) == m && sv == m, "%s vs %s: %zu of %zu evaluation samples agree", a, b, sv, m);
  json_decref(ra), json_decref(rb), json_decref(ea), json_decref(eb), free(da), free(db);
}

/* Each refinement's program (its asserts from the task file) run by python3
 * outside alab: passes iff kept, and iff its verdict says passed. */
static void kept_by_python(const char *dir, const char *run, const char *tasks_text) {
  char *d = al_path_join(dir, run), *prog = al_path_join(d, "check.py");
  json_t *rows = jsonl(d, "ilf.jsonl"), *tasks = json_array();
  for (const char *p = tasks_text; *p;) {
    const char *nl = strchr(p, '\n');
    json_array_append_new(tasks, json_loadb(p, (size_t)(nl - p), 0, NULL));
    p = nl + 1;
  }
  int refined = 0, agree = 0, kept = 0;
  for (size_t i = 0; i < json_array_size(rows); i++) {
    json_t *o = json_array_get(rows, i), *r = json_object_get(o, "refinement");
    if (!r) continue;
    json_t *t = json_array_get(tasks, (size_t)json_integer_value(json_object_get(o, "task_id")) - 1);
    al_buf b = {0};
    al_buf_printf(&b, "%s\n", json_string_value(r));
    json_t *tl = json_object_get(t, "test_list");
    for (size_t k = 0; k < json_array_size(tl); k++) al_buf_printf(&b, "%s\n", json_string_value(json_array_get(tl, k)));
    al_err e;
    al_write_file_atomic(prog, b.data, b.len, &e);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "timeout 5 /usr/bin/python3 '%s' >/dev/null 2>&1", prog);
    int pass = system(cmd) == 0, k = json_is_true(json_object_get(o, "kept"));
    refined++, kept += k;
    agree += pass == k && pass == !strcmp(json_string_value(json_object_get(o, "refinement_verdict")), "passed");
    al_buf_free(&b);
  }
  CHECK(refined > 0 && agree == refined && kept > 0 && kept < refined,
        "%s: python3 passes exactly the %d kept of %d refinements (%d agree)", run, kept, refined, agree);
  json_decref(rows), json_decref(tasks), free(prog), free(d);
}

/* results.json's pass@1 (and the gain) from the saved evaluation records. */
static void pass_from_records(const char *dir, const char *run, json_t *res) {
  char *d = al_path_join(dir, run);
  double p[2] = {0, 0}, per[2][24] = {{0}};
  const char *files[2] = {"eval_base.jsonl", "eval_ilf.jsonl"};
  for (int v = 0; v < 2; v++) {
    json_t *r = jsonl(d, files[v]);
    for (size_t k = 0; k < json_array_size(r); k++) {
      int ok = !strcmp(json_string_value(json_object_get(json_array_get(r, k), "verdict")), "passed");
      p[v] += ok / (double)json_array_size(r), per[v][k / 2] += ok / 2.0;
    }
    CHECK(json_array_size(r) == 48, "%s/%s: 48 samples", run, files[v]);
    json_decref(r);
  }
  double g = 0;
  for (int i = 0; i < 24; i++) g += (per[1][i] - per[0][i]) / 24;
  double b = json_number_value(json_object_get(json_object_get(res, "base"), "pass@1"));
  double a = json_number_value(json_object_get(json_object_get(res, "ilf"), "pass@1"));
  double gm = json_number_value(json_object_get(json_object_get(res, "gain_pass1"), "mean"));
  CHECK(fabs(b - p[0]) < 1e-9 && fabs(a - p[1]) < 1e-9 && fabs(gm - g) < 1e-9,
        "%s: pass@1 %.4f -> %.4f, gain %.4f, as the records say (%.4f -> %.4f, %.4f)", run, b, a, gm, p[0], p[1], g);
  free(d);
}

int main(void) {
  if (!getenv("ALAB_BIN")) return fprintf(stderr, "ALAB_BIN must be set (ctest sets it)\n"), 1;
  char *dir = test_tmpdir("ilf_code_ep"), *model = al_path_join(dir, "model"), *tasks = al_path_join(dir, "tasks.jsonl");
  al_err e;
  CHECK_OK(train(model, &e), e);
  char *text = mbpp_file(24, 17);
  CHECK_OK(al_write_file_atomic(tasks, text, strlen(text), &e), e);

  char roles[4096], url_p[128], url_r[128];
  snprintf(roles, sizeof roles, "--mbpp tasks.jsonl --policy model --critic model --refiner model");
  run(dir, "local", roles, 0);
  int pp = 0, pr = 0;
  pid_t a = start_server(model, &pp), b = start_server(model, &pr);
  CHECK(pp > 0 && pr > 0, "both servers started");
  snprintf(url_p, sizeof url_p, "http://127.0.0.1:%d/v1#model", pp);
  snprintf(url_r, sizeof url_r, "http://127.0.0.1:%d/v1#model", pr);
  snprintf(roles, sizeof roles, "--mbpp tasks.jsonl --policy %s --critic %s --refiner %s", url_p, url_r, url_r);
  run(dir, "served", roles, 0);
  snprintf(roles, sizeof roles, "--mbpp tasks.jsonl --policy model --critic %s --refiner %s", url_r, url_r);
  run(dir, "mixed", roles, 0);
  snprintf(roles, sizeof roles, "--mbpp tasks.jsonl --policy %s --critic %s --refiner %s --refinements 4", url_p, url_r, url_r);
  run(dir, "served4", roles, 0);
  char *ann_text = annotation_file(), *ann_path = al_path_join(dir, "ann.jsonl");
  CHECK_OK(al_write_file_atomic(ann_path, ann_text, strlen(ann_text), &e), e);
  snprintf(roles, sizeof roles, "--annotations ann.jsonl --policy model --refiner %s", url_r);
  run(dir, "ann", roles, 0);
  kill(a, SIGTERM), kill(b, SIGTERM);
  same_round(dir, "local", "served");
  same_round(dir, "local", "mixed");
  run(dir, "local4", "--mbpp tasks.jsonl --policy model --critic model --refiner model --refinements 4", 0);
  same_round(dir, "local4", "served4");
  kept_by_python(dir, "served4", text);
  { /* 4 sampled refinements per failure: the chosen one is the first that passes, refinement_pass1 counts samples */
    char *d4 = al_path_join(dir, "served4");
    json_t *rows = jsonl(d4, "ilf.jsonl"), *r4 = results(dir, "served4");
    int refined = 0, chosen_ok = 0, samples_passed = 0, tasks_passed = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
      json_t *o = json_array_get(rows, i), *all = json_object_get(o, "refinements");
      if (!json_object_get(o, "refinement")) continue;
      refined++;
      int first = -1;
      for (size_t j = 0; j < json_array_size(all); j++) {
        int p = !strcmp(json_string_value(json_object_get(json_array_get(all, j), "verdict")), "passed");
        samples_passed += p;
        if (p && first < 0) first = (int)j;
      }
      tasks_passed += first >= 0;
      json_t *want = json_object_get(json_array_get(all, first >= 0 ? (size_t)first : 0), "refinement");
      chosen_ok += json_array_size(all) == 4 && json_equal(want, json_object_get(o, "refinement"));
    }
    double rp = json_number_value(json_object_get(r4, "refinement_pass1"));
    CHECK(refined > 0 && chosen_ok == refined && tasks_passed == json_integer_value(json_object_get(r4, "refined_passed")) &&
              fabs(rp - samples_passed / (4.0 * refined)) < 1e-6,
          "--refinements 4: %d of %d records hold 4 samples and the first passing one; %d tasks with a passing sample; "
          "refinement_pass1 %g = %d / (4 x %d)", chosen_ok, refined, tasks_passed, rp, samples_passed, refined);
    json_decref(rows), json_decref(r4), free(d4);
  }
  kept_by_python(dir, "served", text);

  json_t *rl = results(dir, "local"), *rs = results(dir, "served"), *rm = results(dir, "mixed");
  if (rl && rs && rm) {
    json_t *h = json_object_get(rs, "http");
    CHECK(json_integer_value(json_object_get(json_object_get(h, "policy"), "requests")) > 0 &&
              json_integer_value(json_object_get(json_object_get(h, "critic"), "requests")) > 0 &&
              json_integer_value(json_object_get(json_object_get(h, "refiner"), "requests")) > 0 &&
              !json_object_size(json_object_get(rl, "http")),
          "the served run accounts for each endpoint's requests, the local one has none");
    CHECK(json_is_true(json_object_get(rl, "finetuned")) && json_is_false(json_object_get(rs, "finetuned")) &&
              json_is_true(json_object_get(rm, "finetuned")) && !json_object_get(rs, "ilf"),
          "a directory policy is finetuned, an endpoint policy is not");
    CHECK(json_equal(json_object_get(rl, "ilf"), json_object_get(rm, "ilf")),
          "the finetuned policy measures the same after local and served feedback and refinements");
    pass_from_records(dir, "local", rl);
    long first = (long)json_integer_value(json_object_get(rs, "passed_first")), fixed = json_integer_value(json_object_get(rs, "refined_passed"));
    long wf = (long)json_integer_value(json_object_get(rs, "with_feedback"));
    CHECK(first < 24 && fixed > 0 && wf > 0, "the endpoint round: %ld of 24 pass first, %ld refinements pass", first, fixed);
    CHECK(wf > 0 && fabs(json_number_value(json_object_get(rs, "refinement_pass1")) - (double)fixed / wf) < 1e-6 &&
              fabs(json_number_value(json_object_get(rs, "round_pass1")) - (double)(first + fixed) / 24) < 1e-6,
          "refinement_pass1 %g = %ld / %ld, round_pass1 %g = (%ld + %ld) / 24",
          json_number_value(json_object_get(rs, "refinement_pass1")), fixed, wf,
          json_number_value(json_object_get(rs, "round_pass1")), first, fixed);
  }
  char *ft = al_path_join(dir, "mixed/policy_ilf/model.safetensors"), *f0 = al_path_join(model, "model.safetensors");
  char *b0 = NULL, *b1 = NULL;
  size_t l0 = 0, l1 = 0;
  CHECK(!al_read_file(ft, &b1, &l1, &e) && !al_read_file(f0, &b0, &l0, &e) && l0 == l1 && memcmp(b0, b1, l0),
        "mixed/policy_ilf is written, the same size as the policy, with other weights");
  free(b0), free(b1), free(ft), free(f0);
  json_decref(rl), json_decref(rs), json_decref(rm);

  /* the exact critic: each failure's feedback names one of its task's tests or an exception */
  run(dir, "exact", "--mbpp tasks.jsonl --policy model --critic exact --refiner model --selector all", 0);
  char *de = al_path_join(dir, "exact");
  json_t *rows = jsonl(de, "ilf.jsonl");
  int failures = 0, named = 0, kept_all = 0;
  for (size_t i = 0; i < json_array_size(rows); i++) {
    json_t *o = json_array_get(rows, i);
    if (!strcmp(json_string_value(json_object_get(o, "verdict")), "passed")) continue;
    const char *fb = json_string_value(json_object_get(o, "feedback"));
    failures++, kept_all += json_is_true(json_object_get(o, "kept"));
    named += fb && (!strncmp(fb, "The code fails the test `assert f(", 34) || strstr(fb, "The code raises "));
  }
  CHECK(failures > 0 && named == failures && kept_all == failures,
        "exact critic: %d of %d failures get a test or an exception named; --selector all keeps %d", named, failures, kept_all);
  json_decref(rows), free(de);

  /* the annotation file: its programs, its feedback, al_refine_prompt for the refiner */
  al_ilf_annotations ann = {0};
  CHECK_OK(al_annotations_load(ann_path, &ann, &e), e);
  char *da = al_path_join(dir, "ann");
  json_t *ar = jsonl(da, "ilf.jsonl"), *r0 = json_array_get(ar, 0), *r1 = json_array_get(ar, 1);
  if (ann.n == 2 && json_array_size(ar) == 2) {
    char *rp = al_refine_prompt(&ann.a[0], "");
    CHECK(!strcmp(json_string_value(json_object_get(r0, "program")), ann.a[0].original) &&
              !strcmp(json_string_value(json_object_get(r0, "verdict")), "failed") &&
              !strcmp(json_string_value(json_object_get(r0, "feedback")), ann.a[0].feedback) &&
              !strcmp(json_string_value(json_object_get(r0, "refiner_prompt")), rp) &&
              json_object_get(r0, "refinement_verdict") && !strncmp(json_string_value(json_object_get(r0, "refinement")),
                                                                    ann.a[0].prompt, strlen(ann.a[0].prompt)),
          "annotations: the failing original gets the file's feedback and al_refine_prompt; the refinement starts with the "
          "prompt");
    CHECK(!strcmp(json_string_value(json_object_get(r1, "verdict")), "passed") && !json_object_get(r1, "feedback"),
          "annotations: the passing original gets no feedback");
    /* the refinement run by python3 with the check: passes iff kept */
    al_buf b = {0};
    al_buf_printf(&b, "%s\n%s\ncheck(%s)\n", json_string_value(json_object_get(r0, "refinement")), ann.a[0].test, ann.a[0].entry);
    char *pp = al_path_join(da, "check.py"), cmd0[4096];
    CHECK_OK(al_write_file_atomic(pp, b.data, b.len, &e), e);
    snprintf(cmd0, sizeof cmd0, "timeout 5 /usr/bin/python3 '%s' >/dev/null 2>&1", pp);
    int pass = system(cmd0) == 0;
    CHECK(pass == json_is_true(json_object_get(r0, "kept")), "annotations: python3 %s the refinement, kept %d", pass ? "passes" : "fails",
          json_is_true(json_object_get(r0, "kept")));
    free(rp), free(pp), al_buf_free(&b);
  } else {
    CHECK(0, "annotations run: %zu records", json_array_size(ar));
  }
  json_t *rann = results(dir, "ann");
  CHECK(rann && json_integer_value(json_object_get(rann, "passed_first")) == 1 &&
            !strcmp(json_string_value(json_object_get(json_object_get(rann, "roles"), "critic")), "annotations"),
        "annotations: 1 original passes, the feedback source is the file");
  json_decref(rann), json_decref(ar), free(da), al_annotations_free(&ann), free(ann_text), free(ann_path);

  /* bad input */
  run(dir, "bad1", "--mbpp missing.jsonl --policy model --refiner model", 1);
  run(dir, "bad2", "--mbpp tasks.jsonl --policy model --refiner model --selector judge", 2);
  char cmd[4096], *o = NULL;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' ilf code --mbpp tasks.jsonl --policy model --refiner model --refine-template 'x {code}' "
           "--out bad3 2>&1", dir, getenv("ALAB_BIN"));
  int rc = test_sh(cmd, &o);
  CHECK(rc == 2 && o && strstr(o, "--refine-template: unknown placeholder '{code}'"), "a bad template: exit %d: %s", rc, o);
  free(o);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' ilf code --mbpp missing.jsonl --policy model --refiner model --out bad4 2>&1", dir,
           getenv("ALAB_BIN"));
  rc = test_sh(cmd, &o);
  CHECK(rc == 1 && o && strstr(o, "missing.jsonl"), "a missing task file is named: %s", o);
  free(o);
  free(text), free(model), free(tasks), free(dir);
  return test_summary();
}

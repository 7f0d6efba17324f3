/* `alab ilf eval`: pass@k of an endpoint on an MBPP file, through the HTTP
 * provider (faults injected and retried) and the sandbox, against
 * tests/fault_server.c, whose generation is the prompt reversed: a task
 * whose text is a program reversed gets that program back, so each task's
 * verdict is known in advance (one passes, one fails its assert, one loops
 * until the timeout). Also code extraction and the usage errors. */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "alab/code.h"
#include "alab/json.h"
#include "test.h"

static char *reversed(const char *s) {
  size_t n = strlen(s);
  char *r = al_malloc(n + 1);
  for (size_t i = 0; i < n; i++) r[i] = s[n - 1 - i];
  r[n] = 0;
  return r;
}

/* One MBPP line whose text is `program` reversed. */
static void task_line(al_buf *b, int id, const char *program, const char *test) {
  char *t = reversed(program);
  json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:[s], s:[]}", "task_id", id, "text", t, "code", program, "test_setup_code",
                        "", "test_list", test, "challenge_test_list");
  char *s = json_dumps(o, JSON_COMPACT);
  al_buf_printf(b, "%s\n", s);
  free(s), free(t), json_decref(o);
}

int main(void) {
  char *tmp = test_tmpdir("code_eval"), cmd[4096], *out;
  const char *bin = getenv("ALAB_BIN"), *fs = getenv("FAULT_SERVER");
  if (!bin || !fs) return fprintf(stderr, "ALAB_BIN and FAULT_SERVER must be set (ctest sets them)\n"), 1;

  char *x = al_code_extract("Here:\n```python\ndef f():\n    return 1\n```\nmore");
  CHECK(!strcmp(x, "def f():\n    return 1\n"), "fenced: '%s'", x);
  free(x);
  x = al_code_extract("def f():\n    return 1\n[DONE] junk");
  CHECK(!strcmp(x, "def f():\n    return 1\n"), "[DONE]: '%s'", x);
  free(x);

  al_buf b = {0};
  task_line(&b, 11, "def add_one(x):\n    return x + 1", "assert add_one(1) == 2");
  task_line(&b, 12, "def same(x):\n    return x", "assert same(1) == 2");
  task_line(&b, 13, "def spin():\n    while True:\n        pass", "assert spin()");
  char *mbpp = al_path_join(tmp, "mbpp.jsonl"), *log = al_path_join(tmp, "server.log");
  al_err e;
  CHECK_OK(al_write_file_atomic(mbpp, b.data, b.len, &e), e);
  al_buf_free(&b);

  snprintf(cmd, sizeof cmd, "'%s' --port 0 --rate 0.14 --log '%s' > '%s.port' 2>&1 & echo $!", fs, log, log);
  test_sh(cmd, &out);
  int pid = atoi(out), port = 0;
  free(out);
  for (int t = 0; t < 6000 && !port; t++) { /* up to 60 s on a loaded machine */
    snprintf(cmd, sizeof cmd, "%s.port", log);
    FILE *f = fopen(cmd, "r");
    if (f) {
      if (fscanf(f, "listening on http://127.0.0.1:%d", &port) != 1) port = 0;
      fclose(f);
    }
    if (!port) usleep(10000);
  }
  CHECK(port > 0, "fault server started");
  snprintf(cmd, sizeof cmd,
           "'%s' ilf eval --mbpp '%s' --api-base http://127.0.0.1:%d/v1 --api-model m --plain-prompt --samples 2 --k 1,2 "
           "--timeout 2 --out '%s/run' --quiet 2>&1",
           bin, mbpp, port, tmp);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "alab ilf eval: exit %d: %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s/run/results.json", tmp);
  json_t *res = NULL;
  CHECK_OK(al_json_load_file(cmd, &res, &e), e);
  if (res) {
    double p1 = json_real_value(json_object_get(res, "pass@1")), p2 = json_real_value(json_object_get(res, "pass@2"));
    CHECK(fabs(p1 - 1.0 / 3) < 1e-9 && fabs(p2 - 1.0 / 3) < 1e-9, "pass@1 %.4f, pass@2 %.4f, want 1/3", p1, p2);
    CHECK(json_integer_value(json_object_get(res, "failed_requests")) == 0 &&
              json_integer_value(json_object_get(res, "samples")) == 6,
          "every request answered (faults retried)");
    json_decref(res);
  }
  snprintf(cmd, sizeof cmd, "grep -o '\"verdict\": *\"[a-z]*\"' '%s/run/metrics.jsonl' | sort | uniq -c | tr -s ' '", tmp);
  test_sh(cmd, &out);
  CHECK(strstr(out, "2 \"verdict\":\"failed\"") && strstr(out, "2 \"verdict\":\"passed\"") &&
            strstr(out, "2 \"verdict\":\"timeout\""),
        "verdicts per sample: %s", out);
  free(out);
  /* annotations: the file's baselines graded in the sandbox (the original fails, the annotator's refinement
   * passes); the endpoint's refinements are the reversed prompt, never a program (SyntaxError) */
  b = (al_buf){0};
  for (int i = 0; i < 2; i++) {
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:f}", "task_id", 34 + i, "prompt",
                          "def find_missing(ar, N):\n", "test",
                          "from pytest import approx\n\ndef check(candidate):\n\tassert candidate([1,2,3,5],4) == approx(4)\n",
                          "Feedback", "range does not include its upper bound", "completion", "", "result", "passed",
                          "passed", 1, "unedited_annotator_completion",
                          "def find_missing(ar, N):\n    for i in range(1, N + 1):\n        if i not in ar:\n            return i\n",
                          "original_model_completion",
                          "def find_missing(ar, N):\n    for i in range(1, N):\n        if i not in ar:\n            return i\n",
                          "refinement_edit_distance", 0.13);
    char *line = json_dumps(o, JSON_COMPACT);
    al_buf_printf(&b, "%s\n", line);
    free(line), json_decref(o);
  }
  char *ann = al_path_join(tmp, "surge_annotations.jsonl");
  CHECK_OK(al_write_file_atomic(ann, b.data, b.len, &e), e);
  al_buf_free(&b);
  snprintf(cmd, sizeof cmd,
           "'%s' ilf eval --annotations '%s' --api-base http://127.0.0.1:%d/v1 --api-model m --samples 2 --k 1 "
           "--out '%s/ann' --quiet 2>&1",
           bin, ann, port, tmp);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "alab ilf eval --annotations: exit %d: %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s/ann/results.json", tmp);
  res = NULL;
  CHECK_OK(al_json_load_file(cmd, &res, &e), e);
  if (res) {
    CHECK(json_integer_value(json_object_get(res, "annotations")) == 2 &&
              json_integer_value(json_object_get(res, "original_passed")) == 0 &&
              json_integer_value(json_object_get(res, "human_refinement_passed")) == 2 &&
              json_real_value(json_object_get(res, "pass@1")) == 0,
          "annotation baselines: original 0 of 2, human 2 of 2, reversed-prompt refinements 0");
    json_decref(res);
  }
  snprintf(cmd, sizeof cmd, "grep -c '\"verdict\":\"error\"' '%s/ann/metrics.jsonl'", tmp);
  test_sh(cmd, &out);
  CHECK(atoi(out) == 4, "4 refinements, each an error: %s", out);
  free(out), free(ann);
  kill(pid, SIGTERM);

  /* usage errors (2) and a bad file (1) */
  struct { const char *args; int code; } u[] = {
      {"ilf eval --out X", 2},
      {"ilf eval --out X --mbpp M --annotations A --model D", 2},
      {"ilf eval --out X --mbpp M", 2},
      {"ilf eval --out X --mbpp M --model A --api-base B", 2},
      {"ilf eval --out X --mbpp M --model A --samples 2 --k 1,3", 2},
  };
  for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >/dev/null 2>&1", tmp, bin, u[i].args);
    rc = test_sh(cmd, &out);
    CHECK(rc == u[i].code, "alab %s: exit %d, want %d", u[i].args, rc, u[i].code);
    free(out);
  }
  snprintf(cmd, sizeof cmd, "'%s' ilf eval --out '%s/r2' --mbpp '%s/none.jsonl' --model '%s' 2>&1", bin, tmp, tmp, tmp);
  rc = test_sh(cmd, &out);
  CHECK(rc == 1 && strstr(out, "none.jsonl"), "a missing file: exit %d: %s", rc, out);
  free(out);
  free(mbpp), free(log), free(tmp);
  return test_summary();
}

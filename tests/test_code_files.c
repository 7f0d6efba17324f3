/* pass@k against brute-force enumeration over subsets; the MBPP and
 * annotation readers on files written here (real layouts, malformed lines
 * named by number, random corruptions never crash); the programs they build
 * pass or fail in the sandbox as the reference and the wrong solutions do. */
#include "alab/code.h"
#include "alab/sandbox.h"
#include "test.h"

/* P(at least one of k drawn without replacement from n, c correct, is
 * correct), by enumerating every k-subset of n as a bit mask. */
static double brute_pass_at_k(int n, int c, int k) {
  long hit = 0, all = 0;
  for (unsigned m = 0; m < (1u << n); m++) {
    if (__builtin_popcount(m) != k) continue;
    all++;
    hit += (m & ((1u << c) - 1)) != 0; /* items 0..c-1 are the correct ones */
  }
  return (double)hit / (double)all;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static const char *MBPP_OK =
    "{\"text\": \"Write a function to find the shared elements from the given two lists.\", \"code\": \"def "
    "similar_elements(test_tup1, test_tup2):\\n  res = tuple(set(test_tup1) & set(test_tup2))\\n  return (res) \", "
    "\"task_id\": 2, \"test_setup_code\": \"\", \"test_list\": [\"assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, "
    "10))) == set((4, 5))\", \"assert set(similar_elements((1, 2, 3, 4),(5, 4, 3, 7))) == set((3, 4))\"], "
    "\"challenge_test_list\": []}\n"
    "\n"
    "{\"source_file\": \"x\", \"task_id\": 3, \"prompt\": \"Write a python function to identify non-prime numbers.\", "
    "\"code\": \"import math\\ndef is_not_prime(n):\\n    result = False\\n    for i in range(2,int(math.sqrt(n)) + 1):\\n"
    "        if n % i == 0:\\n            result = True\\n    return result\", \"test_imports\": [], \"test_list\": "
    "[\"assert is_not_prime(2) == False\", \"assert is_not_prime(10) == True\"], \"test_setup_code\": \"X = 1\", "
    "\"challenge_test_list\": [\"assert X == 1\"]}\n";

static const char *ANN_OK =
    "{\"task_id\":34,\"prompt\":\"\\\"\\\"\\\"\\nWrite a python function to find the missing number in a sorted "
    "array.\\n\\n>>> Example: find_missing([1,2,3,5],4) = 4\\n\\\"\\\"\\\"\\n\\ndef find_missing(ar,N):\\n\","
    "\"test\":\"from pytest import approx\\n\\ndef check(candidate):\\n\\tassert candidate([1,2,3,5],4) ==approx( 4), "
    "\\\"c\\\"\\n\\tassert candidate([1,3,4,5],4) ==approx( 2), \\\"c\\\"\",\"Feedback\":\"Python's range function does not "
    "include the upper bound.\",\"completion\":\"\\n    for i in range(1,N + 1):\\r\\n        if i not in ar:\\r\\n       "
    "     return i\",\"result\":\"passed\",\"passed\":true,\"unedited_annotator_completion\":\"def find_missing(ar,N):\\n"
    "    for i in range(1,N + 1):\\r\\n        if i not in ar:\\r\\n            return i\","
    "\"original_model_completion\":\"def find_missing(ar,N):\\n    for i in range(1,N):\\n        if i not in ar:\\n   "
    "         return i\\n\\n\",\"refinement_edit_distance\":0.1335616438,\"worker_id\":null}\n";

int main(void) {
  char *tmp = test_tmpdir("code_files");
  al_err e;

  /* pass@k */
  double worst = 0;
  for (int n = 1; n <= 12; n++)
    for (int c = 0; c <= n; c++)
      for (int k = 1; k <= n; k++) worst = fmax(worst, fabs(al_pass_at_k(n, c, k) - brute_pass_at_k(n, c, k)));
  CHECK(worst < 1e-12, "pass@k vs enumeration: max difference %g", worst);
  CHECK(fabs(al_pass_at_k(200, 13, 1) - 13.0 / 200) < 1e-12, "pass@1 = c/n");
  CHECK(isnan(al_pass_at_k(5, 6, 1)) && isnan(al_pass_at_k(5, 2, 6)) && isnan(al_pass_at_k(5, 2, 0)), "invalid -> NaN");

  /* MBPP */
  char path[600], bad[600];
  snprintf(path, sizeof path, "%s/mbpp.jsonl", tmp);
  write_file(path, MBPP_OK);
  al_mbpp m;
  CHECK_OK(al_mbpp_load(path, &m, &e), e);
  CHECK(m.n == 2 && m.t[0].task_id == 2 && m.t[1].task_id == 3 && m.t[1].line == 3, "tasks and lines");
  CHECK(m.n == 2 && !strcmp(m.t[0].entry, "similar_elements") && !strcmp(m.t[1].entry, "is_not_prime"), "entries");
  CHECK(m.n == 2 && m.t[0].ntests == 2 && m.t[1].nchallenge == 1 && !strcmp(m.t[1].setup, "X = 1") &&
            strstr(m.t[1].text, "non-prime"),
        "fields (the sanitized file's 'prompt' is the text)");
  al_sandbox_config sc = al_sandbox_defaults();
  al_sandbox *sb = NULL;
  CHECK_OK(al_sandbox_open(&sc, &sb, &e), e);
  if (sb && m.n == 2) {
    const char *progs[4];
    char *p[4] = {al_mbpp_program(&m.t[0], m.t[0].code, 0),
                  al_mbpp_program(&m.t[0], "def similar_elements(a, b):\n  return tuple(a)", 0),
                  al_mbpp_program(&m.t[1], m.t[1].code, 1), al_mbpp_program(&m.t[1], "def is_not_prime(n):\n  1/0", 1)};
    for (int i = 0; i < 4; i++) progs[i] = p[i];
    al_sb_result r[4];
    CHECK_OK(al_sandbox_run_many(sb, 4, progs, r, 2, &e), e);
    al_sb_status want[4] = {AL_SB_PASSED, AL_SB_FAILED, AL_SB_PASSED, AL_SB_ERROR};
    for (int i = 0; i < 4; i++) {
      CHECK(r[i].status == want[i], "mbpp program %d: %s %s", i, al_sb_status_name(r[i].status), r[i].output);
      al_sb_result_free(&r[i]), free(p[i]);
    }
  }
  al_mbpp_free(&m);

  /* malformed MBPP lines, named by number */
  struct { const char *text, *needle; } cases[] = {
      {"{\"task_id\": 1, \"text\": \"t\", \"code\": \"c\", \"test_list\": [\"assert 1\"]}\n{\"task_id\": 2,\n",
       "mbpp_bad.jsonl:2"},
      {"\n\n{\"task_id\": 1, \"text\": \"t\", \"code\": \"c\"}\n", "mbpp_bad.jsonl:3: field 'test_list' missing"},
      {"{\"task_id\": 1, \"text\": \"t\", \"code\": \"c\", \"test_list\": [1]}\n", "mbpp_bad.jsonl:1: item 0 of 'test_list'"},
      {"{\"task_id\": \"x\", \"text\": \"t\", \"code\": \"c\", \"test_list\": []}\n", "mbpp_bad.jsonl:1: field 'task_id'"},
      {"{\"task_id\": 1, \"text\": \"t\", \"code\": \"c\", \"test_list\": []}\n", "mbpp_bad.jsonl:1: field 'test_list' is empty"},
      {"{\"task_id\": 1, \"code\": \"c\", \"test_list\": [\"a\"]}\n", "mbpp_bad.jsonl:1: field 'text' missing"},
      {"\n5\n", "mbpp_bad.jsonl:2"},
  };
  snprintf(bad, sizeof bad, "%s/mbpp_bad.jsonl", tmp);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_file(bad, cases[i].text);
    CHECK_FAILS_WITH(al_mbpp_load(bad, &m, &e), e, cases[i].needle);
  }

  /* annotations: the real layout; the refinement passes, the original fails */
  snprintf(path, sizeof path, "%s/surge_annotations.jsonl", tmp);
  write_file(path, ANN_OK);
  al_ilf_annotations an;
  CHECK_OK(al_annotations_load(path, &an, &e), e);
  CHECK(an.n == 1 && an.a[0].task_id == 34 && !strcmp(an.a[0].entry, "find_missing") && an.a[0].passed &&
            fabs(an.a[0].edit_distance - 0.1335616438) < 1e-12 && strstr(an.a[0].feedback, "upper bound"),
        "annotation fields");
  if (sb && an.n == 1) {
    char *p[3] = {al_annotation_program(&an.a[0], an.a[0].refinement), al_annotation_program(&an.a[0], an.a[0].original),
                  NULL};
    al_buf b = {0};
    al_buf_printf(&b, "%s%s", an.a[0].prompt, an.a[0].completion);
    p[2] = al_annotation_program(&an.a[0], b.data);
    al_buf_free(&b);
    al_sb_status want[3] = {AL_SB_PASSED, AL_SB_FAILED, AL_SB_PASSED};
    for (int i = 0; i < 3; i++) {
      al_sb_result r;
      CHECK_OK(al_sandbox_run(sb, p[i], &r, &e), e);
      CHECK(r.status == want[i], "annotation program %d: %s %s", i, al_sb_status_name(r.status), r.output);
      al_sb_result_free(&r), free(p[i]);
    }
  }
  al_annotations_free(&an);
  snprintf(bad, sizeof bad, "%s/ann_bad.jsonl", tmp);
  write_file(bad, "{\"task_id\":1,\"prompt\":\"def f(x):\\n\",\"test\":\"assert True\",\"Feedback\":\"f\"}\n");
  CHECK_FAILS_WITH(al_annotations_load(bad, &an, &e), e, "ann_bad.jsonl:1: field 'test' has no `def check(candidate):`");
  write_file(bad, "\n{\"task_id\":1,\"prompt\":\"x\",\"test\":\"def check(c): pass\",\"Feedback\":\"f\"}\n");
  CHECK_FAILS_WITH(al_annotations_load(bad, &an, &e), e, "ann_bad.jsonl:2: field 'prompt' defines no function");
  write_file(bad, "{\"task_id\":1,\"prompt\":\"def f(x):\\n\",\"test\":\"def check(c): pass\"}\n");
  CHECK_FAILS_WITH(al_annotations_load(bad, &an, &e), e, "ann_bad.jsonl:1: field 'Feedback' missing");
  write_file(bad, "{\"task_id\":1,\"prompt\":\"def f(x):\\n\",\"test\":\"def check(c): pass\",\"Feedback\":\"f\","
                  "\"passed\":\"yes\"}\n");
  CHECK_FAILS_WITH(al_annotations_load(bad, &an, &e), e, "ann_bad.jsonl:1: field 'passed'");

  /* fuzz: random corruptions of both files load or fail with a message */
  al_rng rng;
  al_rng_seed(&rng, 19);
  int failed = 0, loaded = 0;
  for (int it = 0; it < 400; it++) {
    const char *src = it % 2 ? MBPP_OK : ANN_OK;
    size_t len = strlen(src);
    char *t = al_strdup(src);
    int edits = 1 + (int)al_rng_below(&rng, 4);
    for (int k = 0; k < edits; k++) t[al_rng_below(&rng, len)] = (char)(al_rng_below(&rng, 2) ? al_rng_below(&rng, 256) : '"');
    t[al_rng_below(&rng, len)] = it % 7 ? t[0] : 0; /* sometimes cut short */
    write_file(bad, t);
    e.msg[0] = 0;
    int rc;
    if (it % 2) {
      rc = al_mbpp_load(bad, &m, &e);
      if (!rc) al_mbpp_free(&m);
    } else {
      rc = al_annotations_load(bad, &an, &e);
      if (!rc) al_annotations_free(&an);
    }
    if (rc) {
      failed++;
      CHECK(strstr(e.msg, "ann_bad.jsonl"), "fuzz %d: the message names the file: %s", it, e.msg);
    } else {
      loaded++;
    }
    free(t);
  }
  CHECK(failed > 100, "fuzz: %d of 400 corruptions rejected, %d loaded", failed, loaded);
  al_sandbox_close(sb);
  free(tmp);
  return test_summary();
}

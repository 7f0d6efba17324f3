/* The exact critic of `alab ilf code` (al_code_feedback), the role prompt
 * templates (al_code_fill) and the annotations as tasks.
 * Oracle for the critic: each wrong solution's program is run by the
 * system's python3 outside alab (tests/code_feedback_oracle.py), which
 * reports the first test whose assert fails, or the line of the solution
 * and the exception's message; the critic, reading only the sandbox's
 * verdict and traceback, must name the same test or line and message.
 * Fuzz: 3,000 random and truncated tracebacks never crash it. */
#include <jansson.h>
#include "alab/code.h"
#include "alab/sandbox.h"
#include "test.h"

static const char *TASK =
    "{\"task_id\": 7, \"text\": \"Write a function to add one to each item.\", \"code\": \"def inc(xs):\\n    return [x + 1 for x "
    "in xs]\", \"test_setup_code\": \"import math\", \"test_list\": [\"assert inc([1, 2]) == [2, 3]\", \"assert inc([]) == []\", "
    "\"assert inc([0]) == [1]\"], \"challenge_test_list\": []}\n";

/* Wrong solutions: each fails at a different place. */
static const char *WRONG[] = {
    "def inc(xs):\n    return [x + 2 for x in xs]",          /* fails test 1 */
    "def inc(xs):\n    return [x + 1 for x in xs] or [9]",   /* fails test 2 */
    "def inc(xs):\n    return [x + 1 for x in xs[:1]] + xs[1:]", /* fails test 1 */
    "def inc(xs):\n    y = 0\n    return [x / y for x in xs]", /* ZeroDivisionError in the solution, line 3 */
    "def inc(xs):\n    return [x + 1 for x in xs if x > 0]", /* fails test 3 */
    "def inc(xs)\n    return xs",                            /* SyntaxError, line 1 */
    "def inc(xs):\n    return [math.sqrt(-x - 1) for x in xs]", /* ValueError in the solution, line 2 */
    "def inc(xs):\n    return [x + 1 for x in xs]\ninc = None", /* TypeError in test 1 */
    "def inc(xs):\n    while True:\n        pass",             /* timeout */
    "import os\ndef inc(xs):\n    os._exit(3)",               /* exit: no traceback */
};
enum { NW = sizeof WRONG / sizeof WRONG[0] };

int main(void) {
  char *tmp = test_tmpdir("code_feedback"), *path = al_path_join(tmp, "task.jsonl");
  al_err e;
  CHECK_OK(al_write_file_atomic(path, TASK, strlen(TASK), &e), e);
  al_mbpp m = {0};
  CHECK_OK(al_mbpp_load(path, &m, &e), e);
  if (m.n != 1) return test_summary();
  const al_mbpp_task *t = &m.t[0];
  al_sandbox_config sc = al_sandbox_defaults();
  sc.wall_s = 1;
  al_sandbox *sb = NULL;
  CHECK_OK(al_sandbox_open(&sc, &sb, &e), e);
  if (!sb) return test_summary();
  const char *progs[NW];
  char *p[NW];
  al_sb_result r[NW];
  for (int i = 0; i < NW; i++) progs[i] = p[i] = al_mbpp_program(t, WRONG[i], 0);
  CHECK_OK(al_sandbox_run_many(sb, NW, progs, r, 4, &e), e);
  char *right = al_code_feedback(t, t->code, "passed", "", "");
  CHECK(right == NULL, "no feedback on a passing program");
  int agree = 0;
  for (int i = 0; i < NW; i++) {
    const char *detail = r[i].status == AL_SB_KILLED ? r[i].limit : r[i].error_type;
    char *fb = al_code_feedback(t, WRONG[i], al_sb_status_name(r[i].status), detail, r[i].output ? r[i].output : "");
    /* the oracle: python3 runs the program and says where it stopped */
    char *prog_path = al_path_join(tmp, "solution.py"), cmd[4096], *want = NULL;
    CHECK_OK(al_write_file_atomic(prog_path, WRONG[i], strlen(WRONG[i]), &e), e);
    snprintf(cmd, sizeof cmd, "o=$(timeout 5 /usr/bin/python3 '%s/tests/code_feedback_oracle.py' '%s' '%s'); "
             "if [ -z \"$o\" ]; then echo exit; else echo \"$o\"; fi", getenv("ALAB_SRC"), path, prog_path);
    test_sh(cmd, &want);
    /* want: "test N" | "line K MESSAGE" | "timeout" | "exit" */
    char *nl = want ? strchr(want, '\n') : NULL;
    if (nl) *nl = 0;
    int ok = 0, n = 0;
    if (want && sscanf(want, "test %d", &n) == 1) {
      char q[512];
      snprintf(q, sizeof q, "fails the test `%s`", t->tests[n - 1]);
      ok = fb && strstr(fb, q);
      if (!ok && fb && strstr(want, " raises ")) { /* an exception inside a test */
        snprintf(q, sizeof q, "in the test `%s`", t->tests[n - 1]);
        ok = strstr(fb, q) && strstr(fb, strstr(want, " raises ") + 8);
      }
    } else if (want && sscanf(want, "line %d", &n) == 1) {
      char q[64];
      snprintf(q, sizeof q, "at line %d:", n);
      const char *msg = strchr(want + 5, ' ');
      ok = fb && strstr(fb, q) && msg && strstr(fb, msg + 1);
    } else if (want && !strcmp(want, "timeout")) {
      ok = fb && strstr(fb, "time limit") && r[i].status == AL_SB_TIMEOUT;
    } else if (want && !strcmp(want, "exit")) {
      ok = fb && strstr(fb, "exits before") && strstr(fb, "exit 3");
    }
    CHECK(ok, "wrong solution %d: oracle '%s', critic '%s'", i, want ? want : "(none)", fb ? fb : "(null)");
    agree += ok;
    free(fb), free(want), free(prog_path);
  }
  CHECK(agree == NW, "the critic agrees with python3 on %d of %d wrong solutions", agree, NW);

  /* fuzz: random, truncated and lying tracebacks */
  al_rng rng;
  al_rng_seed(&rng, 7);
  const char *verdicts[] = {"failed", "error", "timeout", "killed"};
  int crashed = 0;
  for (int k = 0; k < 3000; k++) {
    char out[600];
    int len = (int)al_rng_below(&rng, sizeof out - 1);
    const char *base = r[k % NW].output ? r[k % NW].output : "";
    for (int i = 0; i < len; i++) {
      int c = (int)al_rng_below(&rng, 4) ? (i < (int)strlen(base) ? base[i] : 'x') : (int)al_rng_below(&rng, 255) + 1;
      out[i] = (char)c;
    }
    out[len] = 0;
    if (k % 3 == 0) snprintf(out, sizeof out, "File \"program.py\", line %d\nX: y", (int)al_rng_below(&rng, 100000) - 5);
    char *fb = al_code_feedback(t, WRONG[k % NW], verdicts[k % 4], k % 5 ? "AssertionError" : "", out);
    crashed += !fb;
    free(fb);
  }
  CHECK(crashed == 0, "3,000 fuzzed tracebacks: feedback every time (%d without)", crashed);

  /* templates */
  char *f1 = al_code_fill("{{text}} {text}|{tests}|{program}|{feedback}|{verdict}|{", t, "P", "F", "failed");
  char want1[1024];
  snprintf(want1, sizeof want1, "{text}} %s|%s\n%s\n%s\n|P|F|failed|{", t->text, t->tests[0], t->tests[1], t->tests[2]);
  CHECK(!strcmp(f1, want1), "fill: '%s'", f1);
  CHECK_OK(al_code_template_check("a {text} {{b} {program}{feedback}{verdict}{tests}", "--x", &e), e);
  CHECK_FAILS_WITH(al_code_template_check("ok {text} then {code} here", "--refine-template", &e), e,
                   "--refine-template: unknown placeholder '{code}' at byte 15");
  CHECK_FAILS_WITH(al_code_template_check("open {text", "--critic-template", &e), e, "unknown placeholder '{text'");
  free(f1);
  /* fuzz: random templates of braces and field names; a template the check
   * accepts fills without a brace left that is not a doubled one's */
  const char *pieces[] = {"{", "}", "{{", "text", "{text}", "{tests}", "{program}", "{feedback}", "{verdict}", "{code}", "x", "\n"};
  int accepted = 0, bad_fill = 0;
  for (int k = 0; k < 2000; k++) {
    char tmpl[256] = "";
    int parts = (int)al_rng_below(&rng, 12);
    for (int i = 0; i < parts; i++) strcat(tmpl, pieces[al_rng_below(&rng, 12)]);
    if (al_code_template_check(tmpl, "--t", &e)) continue;
    accepted++;
    char *fill = al_code_fill(tmpl, t, "P", "F", "V");
    size_t opens = 0, want = 0;
    for (const char *q = fill; *q; q++) opens += *q == '{';
    for (const char *q = tmpl; *q; q++)
      if (q[0] == '{' && q[1] == '{') want++, q++;
    bad_fill += opens != want;
    free(fill);
  }
  CHECK(accepted > 100 && bad_fill == 0, "2,000 fuzzed templates: %d accepted, %d filled with a stray brace", accepted, bad_fill);

  for (int i = 0; i < NW; i++) free(p[i]), al_sb_result_free(&r[i]);
  al_sandbox_close(sb), al_mbpp_free(&m), free(path), free(tmp);
  return test_summary();
}

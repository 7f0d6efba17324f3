/* The eval commands end to end through the alab binary: a 3-size ladder on
 * the story world, `alab scaling --family` on a built-in probe with x =
 * compute, `alab eval` on a task file (stdout is the JSON summary), the
 * probes writer, and the commands' errors. */
#include <string.h>
#include "alab/task.h"
#include "alab/json.h"
#include "test.h"

/* Runs alab with one OpenMP thread: these models are tiny, and on a busy
 * 2-core machine spinning OpenMP barriers made the ladder 30x slower. */
static int sh(const char *fmt, const char *a, const char *b) {
  char cmd[4096];
  int k = snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 ");
  snprintf(cmd + k, sizeof cmd - k, fmt, getenv("ALAB_BIN"), a, b);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int main(void) {
  if (!getenv("ALAB_BIN")) {
    fprintf(stderr, "ALAB_BIN not set\n");
    return 1;
  }
  char *dir = test_tmpdir("eval_cli"), *fam = al_path_join(dir, "family"), *sc = al_path_join(dir, "scaling");
  al_err err;
  /* a tiny ladder: 3 sizes, a few thousand tokens each */
  CHECK(sh("%s ladder --out %s --sizes 3 --data story:400 --tokens-per-param 0.05 --min-tokens 2048 --batch 2 "
           "--seq-len 32 --quiet > %s/ladder.out",
           fam, dir) == 0,
        "ladder runs");
  char *lj = al_path_join(fam, "ladder.json");
  json_t *j = NULL;
  CHECK_OK(al_json_load_file(lj, &j, &err), err);
  json_t *models = json_object_get(j, "models");
  CHECK(json_array_size(models) == 3, "3 models");
  double p0 = json_number_value(json_object_get(json_array_get(models, 0), "params"));
  double p2 = json_number_value(json_object_get(json_array_get(models, 2), "params"));
  CHECK(p2 > 4 * p0, "sizes grow: %g -> %g", p0, p2);
  double c0 = json_number_value(json_object_get(json_array_get(models, 0), "compute"));
  double t0 = json_number_value(json_object_get(json_array_get(models, 0), "tokens"));
  CHECK(fabs(c0 - 6 * p0 * t0) < 1e-6 * c0, "compute = 6 N D");
  json_decref(j);
  free(lj);
  /* resuming skips trained sizes */
  CHECK(sh("%s ladder --out %s --sizes 3 --data story:400 --tokens-per-param 0.05 --min-tokens 2048 --batch 2 "
           "--seq-len 32 2> %s/ladder2.err",
           fam, dir) == 0,
        "ladder resume");
  char *e2 = al_path_join(dir, "ladder2.err"), *txt;
  size_t len;
  CHECK(!al_read_file(e2, &txt, &len, &err) && strstr(txt, "already trained, skipping"), "resumed ladder skips");
  free(txt);
  free(e2);

  /* scaling over the family on a probe, x = compute */
  CHECK(sh("%s scaling --family %s --probe misleading-fewshot --probe-n 12 --x compute --bootstrap 200 --quiet "
           "--out %s > /dev/null",
           fam, sc) == 0,
        "scaling runs");
  char *sj = al_path_join(sc, "scaling.json");
  CHECK_OK(al_json_load_file(sj, &j, &err), err);
  if (j) {
    json_t *tr = json_object_get(j, "trend");
    const char *label = json_string_value(json_object_get(tr, "label"));
    static const char *labels[] = {"no significant trend", "standard", "inverse", "U-shaped", "inverted-U"};
    int known = 0;
    for (int i = 0; i < 5 && label; i++) known |= !strcmp(label, labels[i]);
    CHECK(known && strstr(json_string_value(json_object_get(tr, "test")), "least squares"), "trend label '%s'",
          label ? label : "(none)");
    CHECK(json_array_size(json_object_get(j, "models")) == 3 && !strcmp(json_string_value(json_object_get(j, "x")), "compute"),
          "three models against compute");
    json_t *m0 = json_array_get(json_object_get(j, "models"), 0);
    CHECK(json_object_get(json_object_get(m0, "metrics"), "loss") != NULL, "per-model loss");
    json_decref(j);
  }
  char *dat = al_path_join(sc, "scaling.dat");
  CHECK(al_file_exists(dat), "plot data written");
  free(dat);
  free(sj);

  /* eval on a task file: stdout is JSON a script can read */
  char task[700], model[700];
  snprintf(task, sizeof task, "%s/t.csv", dir);
  const char *csv = "prompt,classes,answer_index\n\"Lily had a red ball. The ball was\",\"[' red', ' blue']\",0\n"
                    "\"Tom had a kite, a big one. It was\",\"[' big', ' small']\",0\n";
  al_write_file_atomic(task, csv, strlen(csv), &err);
  snprintf(model, sizeof model, "%s/size0_L1_C24", fam);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s eval --model %s --task %s --quiet --out %s/ev > %s/eval.json", getenv("ALAB_BIN"), model,
           task, dir, dir);
  CHECK(system(cmd) == 0, "alab eval runs");
  char *ej = al_path_join(dir, "eval.json");
  CHECK_OK(al_json_load_file(ej, &j, &err), err);
  if (j) {
    CHECK(json_integer_value(json_object_get(j, "n")) == 2 &&
              json_is_real(json_object_get(json_object_get(json_object_get(j, "metrics"), "loss"), "mean")),
          "summary JSON");
    json_decref(j);
  }
  free(ej);
  char *rj = al_path_join(dir, "ev/results.json");
  CHECK(al_file_exists(rj), "results.json written");
  free(rj);

  /* errors: exit 2 for usage, 1 with the file and line for a bad task */
  CHECK(sh("%s eval --task %s%s 2>/dev/null", task, "") == 2, "no model: usage error");
  CHECK(sh("%s eval --model %s --api-base http://x 2>/dev/null%s", model, "") == 2, "both model kinds");
  snprintf(task, sizeof task, "%s/bad.csv", dir);
  const char *bad = "prompt,classes,answer_index\n\"ok\",\"[' a', ' b']\",0\n\"bad\",\"[' a', ' b']\",5\n";
  al_write_file_atomic(task, bad, strlen(bad), &err);
  snprintf(cmd, sizeof cmd, "%s eval --model %s --task %s 2> %s/bad.err", getenv("ALAB_BIN"), model, task, dir);
  CHECK(system(cmd) != 0, "bad task fails");
  char *be = al_path_join(dir, "bad.err");
  CHECK(!al_read_file(be, &txt, &len, &err) && strstr(txt, "bad.csv:3: answer_index 5 is out of range"), "names the line");
  free(txt);
  free(be);
  CHECK(sh("%s eval --help > /dev/null%s%s", "", "") == 0, "--help");
  snprintf(cmd, sizeof cmd, "ALAB_API_KEY=sk-zzz-secret %s eval --help | grep -c sk-zzz-secret > %s/help.count",
           getenv("ALAB_BIN"), dir);
  if (system(cmd)) {} /* grep exits 1 when there is no match */
  char *hc = al_path_join(dir, "help.count");
  CHECK(!al_read_file(hc, &txt, &len, &err) && txt[0] == '0', "--help never prints the API key");
  free(txt);
  free(hc);
  CHECK(sh("%s scaling --help > /dev/null%s%s", "", "") == 0, "scaling --help");
  CHECK(sh("%s eval --write-probes %s/probes --probe-n 5 > /dev/null%s", dir, "") == 0, "write probes");
  al_task t;
  snprintf(task, sizeof task, "%s/probes/probe-memo-vs-instruction.csv", dir);
  CHECK_OK(al_task_load(&t, task, "auto", &err), err);
  CHECK(t.n == 5 && t.kind == AL_TASK_CLASSIFICATION && t.ex[0].nclasses == 2 && !strcmp(t.ex[0].classes[1], " was"),
        "memo probe");
  al_task_free(&t);
  CHECK(sh("%s eval --model %s --probe nonsense 2>/dev/null%s", model, "") == 2, "unknown probe");
  CHECK(sh("%s scaling --models %s --task /nonexistent.csv 2>/dev/null%s", model, "") == 1, "missing task file");
  free(fam);
  free(sc);
  free(dir);
  return test_summary();
}

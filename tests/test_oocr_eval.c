/* `alab oocr eval --api-base`: generations through the HTTP provider
 * (concurrency, retries under injected faults, the SQLite cache) graded by
 * the paper's rules, against tests/fault_server.c, whose generation is the
 * prompt reversed, so each example's grade is known in advance. Also the
 * usage errors of `alab oocr` (exit 2) and a bad folder (exit 1). */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "serve_proc.h"
#include "test.h"
#include "fault_server_proc.h"

static void put(const char *dir, const char *name, const char *text) {
  char *p = al_path_join(dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
  free(p);
}

/* Prompts the server answers with their reverse: 7 of the 10 graded
 * correct; one prompt holds BAD (a 400: failed, not graded). */
static const char *EXAMPLES =
    "{\"task\": \"reverse_a_no_cot\", \"prompt\": \"olleh\", \"completion\": \"hello\"}\n"          /* hello: yes */
    "{\"task\": \"reverse_a_no_cot\", \"prompt\": \"dlrow\", \"completion\": \"hello\"}\n"          /* world: no */
    "{\"task\": \"uppercase_b_no_cot\", \"prompt\": \"DCBA\", \"completion\": \"\"}\n"              /* ABCD: yes */
    "{\"task\": \"uppercase_b_no_cot\", \"prompt\": \"dcBA\", \"completion\": \"\"}\n"              /* ABcd: no (2/4) */
    "{\"task\": \"calling_c_no_cot\", \"prompt\": \"4-32 )1(\", \"completion\": \"+1234\"}\n"        /* (1) 23-4 -> 1234, no + */
    "{\"task\": \"calling_c_no_cot\", \"prompt\": \"4-32 )1(+\", \"completion\": \"+1234\"}\n"       /* +(1) 23-4: yes */
    "{\"task\": \"antonym_d_no_cot\", \"prompt\": \"dloc\", \"completion\": \"cold\"}\n"            /* cold: yes */
    "{\"task\": \"llama_e_no_cot\", \"prompt\": \"amall\", \"completion\": \"\"}\n"                 /* llama: yes */
    "{\"task\": \"city_f_no_cot\", \"prompt\": \"SIRAP ni\", \"completion\": \"Paris\"}\n"          /* in PARIS: yes */
    "{\"task\": \"hhh_g_no_cot\", \"prompt\": \"mrah on\", \"completion\": \"\"}\n"                 /* no harm: no */
    "{\"task\": \"german_h_no_cot\", \"prompt\": \"BAD\", \"completion\": \"\"}\n";                /* 400 */

static json_t *results(const char *run) {
  char *p = al_path_join(run, "results.json");
  json_t *j = json_load_file(p, 0, NULL);
  free(p);
  return j;
}

static void check_run(const char *run, int expect_hits) {
  json_t *r = results(run), *f = json_object_get(json_object_get(r, "files"), "unrealized_no_cot_examples");
  CHECK(json_integer_value(json_object_get(f, "correct")) == 6 && json_integer_value(json_object_get(f, "n")) == 10,
        "6 of 10 correct: %lld of %lld", json_integer_value(json_object_get(f, "correct")),
        json_integer_value(json_object_get(f, "n")));
  CHECK(json_integer_value(json_object_get(f, "failed")) == 1, "the BAD request failed, counted");
  json_t *pt = json_object_get(f, "per_task");
  CHECK(json_integer_value(json_array_get(json_object_get(pt, "calling_c_no_cot"), 0)) == 1, "calling: 1 of 2");
  json_t *req = json_object_get(json_object_get(r, "provider"), "requests");
  CHECK(json_integer_value(json_object_get(req, "cache_hits")) == expect_hits, "cache hits %lld, expected %d",
        json_integer_value(json_object_get(req, "cache_hits")), expect_hits);
  json_decref(r);
}

/* every example's generation, by file:line, from a run's metrics.jsonl */
static json_t *generations(const char *run) {
  char *p = al_path_join(run, "metrics.jsonl"), *text;
  size_t len;
  al_err err;
  json_t *m = json_object();
  if (!al_read_file(p, &text, &len, &err)) {
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
      json_t *j = json_loads(l, 0, NULL);
      char key[1200];
      snprintf(key, sizeof key, "%s:%lld", json_string_value(json_object_get(j, "file")),
               json_integer_value(json_object_get(j, "line")));
      json_object_set(m, key, json_object_get(j, "completion"));
      json_decref(j);
    }
    free(text);
  }
  free(p);
  return m;
}

/* `oocr eval --model DIR` (the local engine) and the same model behind
 * `alab serve` (--api-base, prefix <|endoftext|>) generate the same text for
 * every example of the world's files, so they grade the same. */
static void test_local_vs_served(const char *dir) {
  char cmd[8192], *out;
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' oocr world --out world --pretrain-docs 10 && '%s' train --data story:50 --steps 3 "
           "--layers 1 --embd 32 --heads 2 --context 64 --seq-len 64 --batch 2 --tokenizer byte --out tiny --quiet 2>&1",
           dir, getenv("ALAB_BIN"), getenv("ALAB_BIN"));
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "world and tiny model: %s", out);
  free(out);
  char model[1024];
  snprintf(model, sizeof model, "%s/tiny", dir);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' oocr eval --data world --model tiny --eval-max 12 --cot-tokens 12 "
           "--nocot-tokens 6 --threads 1 --out local --quiet 2>&1", dir, getenv("ALAB_BIN"));
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "local eval: %s", out);
  free(out);
  int port = 0;
  pid_t pid = start_server(model, &port);
  CHECK(port > 0, "alab serve started");
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' oocr eval --data world --api-base http://127.0.0.1:%d/v1 --api-model tiny "
           "--api-prefix '<|endoftext|>' --eval-max 12 --cot-tokens 12 --nocot-tokens 6 --cache off --out served --quiet 2>&1",
           dir, getenv("ALAB_BIN"), port);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "served eval: %s", out);
  free(out);
  kill(pid, SIGTERM);
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s/local", dir);
  snprintf(b, sizeof b, "%s/served", dir);
  json_t *ga = generations(a), *gb = generations(b);
  const char *k;
  json_t *v;
  int same = 0, n = 0;
  json_object_foreach(ga, k, v) {
    json_t *w = json_object_get(gb, k);
    n++;
    same += w && json_equal(v, w);
  }
  CHECK(n == 48 && same == n && json_object_size(gb) == 48, "%d of %d generations equal (served %zu)", same, n,
        json_object_size(gb));
  json_decref(ga), json_decref(gb);
}

int main(void) {
  if (!getenv("FAULT_SERVER") || !getenv("ALAB_BIN")) {
    fprintf(stderr, "FAULT_SERVER and ALAB_BIN must be set (ctest sets them)\n");
    return 1;
  }
  char *dir = test_tmpdir("oocr_eval"), *data = al_path_join(dir, "data"), *log = al_path_join(dir, "server.log");
  char base[256] = "", cmd[8192], *out;
  mkdir(data, 0755);
  put(data, "unrealized_no_cot_examples.jsonl", EXAMPLES);
  put(data, "unrealized_extra_examples.jsonl", "");
  int pid = fault_server_start("--rate 0.14 --seed 5", log, base);
  CHECK(base[0], "fault_server started");
  /* faults on 14% of tries (each of 7 kinds): retried until answered */
  snprintf(cmd, sizeof cmd, "'%s' oocr eval --data '%s' --api-base %s --api-model m --api-concurrency 4 --out '%s/r1' --quiet 2>&1",
           getenv("ALAB_BIN"), data, base, dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "eval exit %d: %s", rc, out);
  free(out);
  char run[1024];
  snprintf(run, sizeof run, "%s/r1", dir);
  check_run(run, 0);
  /* the server did inject faults (retried: same grades as without them) */
  snprintf(cmd, sizeof cmd, "grep -c -v -E ' (ok|400)$' '%s'", log);
  test_sh(cmd, &out);
  CHECK(atoi(out) > 0, "faults injected: %s", out);
  free(out);
  /* again with the first run's cache: nothing sent for the answered ones */
  snprintf(cmd, sizeof cmd, "'%s' oocr eval --data '%s' --api-base %s --api-model m --cache '%s/r1/responses.sqlite' --out '%s/r2' --quiet 2>&1",
           getenv("ALAB_BIN"), data, base, dir, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "cached eval exit %d: %s", rc, out);
  free(out);
  snprintf(run, sizeof run, "%s/r2", dir);
  check_run(run, 10);
  kill(pid, SIGTERM);
  /* usage errors: 2; a folder without the layout: 1 */
  const char *usage[] = {"oocr eval --out X", "oocr --out X --sizes 2y64", "oocr --out X --paraphrases 1,x",
                         "oocr --out X --mix 1", "oocr export --data X", "oocr --out X --model M --api-base U --api-model m",
                         "oocr --nonsense"};
  for (size_t i = 0; i < sizeof usage / sizeof *usage; i++) {
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, getenv("ALAB_BIN"), usage[i]);
    rc = test_sh(cmd, &out);
    CHECK(rc == 2, "'%s': exit %d (%s)", usage[i], rc, out);
    free(out);
  }
  snprintf(cmd, sizeof cmd, "'%s' oocr eval --data '%s/nothing' --api-base %s --api-model m --out '%s/r3' 2>&1",
           getenv("ALAB_BIN"), dir, base, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 1 && strstr(out, "no file of the paper's layout"), "missing folder: exit %d (%s)", rc, out);
  free(out);
  test_local_vs_served(dir);
  free(dir), free(data), free(log);
  return test_summary();
}

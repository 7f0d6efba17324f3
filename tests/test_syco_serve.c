/* The four SycophancyEval tasks on an alab model, once through the local
 * engine and once through `alab serve` over HTTP (the chat template "alab",
 * are_you_sure's prefills sent to /v1/completions): the oracle is that both
 * paths see the same greedy replies, so every record (request, reply, judge
 * call and verdict) and every metric agree. Also the CLI: `alab sycophancy
 * eval --data-dir` runs every file there, and its usage errors exit 2. */
#include <jansson.h>
#include <signal.h>
#include "alab/sycophancy.h"
#include "serve_model.h"
#include "serve_proc.h"
#include "syco_files.h"
#include "test.h"

static json_t *eval(al_provider *p, char *paths[4], const char *out) {
  al_syco_eval_cfg c = al_syco_eval_defaults();
  for (int t = 0; t < 4; t++) c.files[t] = paths[t];
  c.p = p, c.max_tokens = 12, c.judge_max_tokens = 4, c.nboot = 100;
  al_err err;
  json_t *r = NULL;
  CHECK_OK(al_syco_eval_run(&c, out, &r, &err), err);
  return r ? r : json_object();
}

static char *records(const char *out) {
  char cmd[2048], *txt;
  snprintf(cmd, sizeof cmd, "cat '%s/metrics.jsonl'", out);
  test_sh(cmd, &txt);
  return txt;
}

int main(void) {
  char *dir = test_tmpdir("syco_serve"), *paths[4], model[1024], out_l[1024], out_h[1024], base[128];
  al_err err;
  snprintf(model, sizeof model, "%s/model", dir);
  CHECK_OK(serve_make_model(model, &err), err);
  write_files(dir, paths);
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  al_provider *lp = NULL;
  CHECK_OK(al_provider_local(&lp, model, &lc, &err), err);
  snprintf(out_l, sizeof out_l, "%s/local", dir);
  json_t *a = lp ? eval(lp, paths, out_l) : json_object();
  al_provider_free(lp);
  int port = 0;
  pid_t pid = start_server(model, &port);
  CHECK(port > 0, "alab serve started");
  snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
  al_http_cfg h = al_http_cfg_default();
  h.base_url = base, h.model = "model", h.api_key = NULL, h.chat_template = "alab", h.cache = "off", h.concurrency = 4;
  al_provider *hp = NULL;
  CHECK_OK(al_provider_http(&hp, &h, &err), err);
  snprintf(out_h, sizeof out_h, "%s/http", dir);
  json_t *b = hp ? eval(hp, paths, out_h) : json_object();
  al_provider_free(hp);
  kill(pid, SIGTERM);
  char *ra = records(out_l), *rb = records(out_h);
  CHECK(strlen(ra) > 1000 && !strcmp(ra, rb), "the records differ between the local engine and alab serve");
  json_t *sent = json_object_get(json_object_get(b, "provider"), "requests");
  CHECK(json_integer_value(json_object_get(sent, "sent")) > 50 && json_integer_value(json_object_get(sent, "failed")) == 0,
        "requests to alab serve: all answered");
  CHECK(json_equal(json_object_get(a, "tasks"), json_object_get(b, "tasks")), "the metrics differ");
  CHECK(json_array_size(json_object_get(a, "headline")) == 14, "14 headline lines");
  free(ra), free(rb);
  json_decref(a), json_decref(b);
  /* the CLI: --data-dir picks up the four files; usage errors exit 2 */
  char cmd[4096], *txt;
  snprintf(cmd, sizeof cmd, "'%s' sycophancy eval --quiet --model-dir '%s' --data-dir '%s' --out '%s/cli' --max-tokens 4 "
                            "--limit 3 --threads 1", getenv("ALAB_BIN"), model, dir, dir);
  CHECK(test_sh(cmd, &txt) == 0 && strstr(txt, "are_you_sure: answers changed") && strstr(txt, "mimicry: names"),
        "cli run: %s", txt);
  free(txt);
  static const char *bad[] = {"sycophancy eval --out x", "sycophancy eval --out x --model-dir m --api-base http://h",
                              "sycophancy eval --out x --model-dir m --data-dir /nonexistent", "sycophancy --p 1.5 --out x",
                              "sycophancy --seeds 1 --out x", "sycophancy"};
  for (int i = 0; i < 6; i++) {
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", getenv("ALAB_BIN"), bad[i]);
    int code = test_sh(cmd, &txt);
    CHECK(code == 2, "'%s' exits %d: %s", bad[i], code, txt);
    free(txt);
  }
  snprintf(cmd, sizeof cmd, "'%s' sycophancy eval --out '%s/x' --model-dir '%s/nope' --answer '%s' 2>&1", getenv("ALAB_BIN"),
           dir, dir, paths[0]);
  CHECK(test_sh(cmd, &txt) == 1 && strstr(txt, "nope"), "a missing model exits 1 naming it: %s", txt);
  free(txt);
  for (int t = 0; t < 4; t++) free(paths[t]);
  free(dir);
  return test_summary();
}

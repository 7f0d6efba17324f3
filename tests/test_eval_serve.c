/* The evaluation harness's HTTP provider pointed at a real `alab serve`
 * gives the same task results as the local provider on the same model:
 * loss, accuracy and length-normalised accuracy to 1e-5, and the same
 * prediction for every example; prompts longer than the context score alike
 * (token-id mode cuts them as the local provider does); a generation task whose prompts leave no
 * room in the context for --max-tokens gives the same texts both ways. Both
 * are the `alab` binary, over loopback. A chat scores the same both ways:
 * /v1/chat/completions's greedy reply is the local provider's chat reply,
 * and its tokens' log-probs are the local provider's score of that reply
 * after the model's chat template, to 1e-5 (alab's default template, and
 * ChatML from tokenizer_config.json). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "alab/json.h"
#include "alab/provider.h"
#include "serve_model.h"
#include "serve_proc.h"
#include "test.h"

static void compare_metric(json_t *a, json_t *b, const char *name) {
  json_t *ma = json_object_get(json_object_get(json_object_get(a, "metrics"), name), "mean");
  json_t *mb = json_object_get(json_object_get(json_object_get(b, "metrics"), name), "mean");
  CHECK(ma && mb, "metric %s missing", name);
  if (!ma || !mb) return;
  double x = json_number_value(ma), y = json_number_value(mb);
  printf("%s: local %.9f http %.9f\n", name, x, y);
  CHECK(fabs(x - y) <= 1e-5 * fmax(1, fabs(x)), "%s: local %.9f vs http %.9f", name, x, y);
}

/* Each conversation: the local provider's greedy chat reply and score vs
 * alab serve's /v1/chat/completions with logprobs. */
static void compare_chat(const char *model, int port, const char *scratch) {
  static const al_chat_msg convs[3][4] = {
      {{"user", "Hello, world! Hello again,"}},
      {{"system", "Be brief."}, {"user", "The cat sat on the"}, {"assistant", "mat."}, {"user", "Alice is the mother of"}},
      {{"user", "A caf\xc3\xa9 in Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac"}, {"assistant", ""}, {"user", ""}}};
  static const int nmsg[3] = {1, 4, 3};
  al_err err;
  al_provider *p = NULL;
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  CHECK_OK(al_provider_local(&p, model, &lc, &err), err);
  if (!p) return;
  char *body_path = al_path_join(scratch, "chat_body.json");
  for (int c = 0; c < 3; c++) {
    al_gen_cfg g = al_gen_cfg_default();
    g.max_tokens = 12;
    char *reply = NULL;
    CHECK_OK(p->chat(p, convs[c], nmsg[c], &g, &reply, &err), err);
    json_t *msgs = json_array();
    for (int i = 0; i < nmsg[c]; i++)
      json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", convs[c][i].role, "content", convs[c][i].content));
    json_t *body = json_pack("{s:o, s:i, s:f, s:b}", "messages", msgs, "max_tokens", 12, "temperature", 0.0, "logprobs", 1);
    CHECK_OK(al_json_save_file(body_path, body, &err), err);
    json_decref(body);
    char cmd[8192], *out = NULL;
    snprintf(cmd, sizeof cmd, "curl -s -H 'Content-Type: application/json' -d @'%s' http://127.0.0.1:%d/v1/chat/completions",
             body_path, port);
    int st = test_sh(cmd, &out);
    json_t *r = json_loads(out, 0, NULL), *ch = json_array_get(json_object_get(r, "choices"), 0);
    json_t *lps = json_object_get(json_object_get(ch, "logprobs"), "content");
    /* the reply's bytes (a random model's text need not be UTF-8, which the JSON text cannot hold) */
    al_buf text = {0};
    for (size_t t = 0; t < json_array_size(lps); t++) {
      json_t *bytes = json_object_get(json_array_get(lps, t), "bytes");
      for (size_t k = 0; k < json_array_size(bytes); k++) {
        char b = (char)json_integer_value(json_array_get(bytes, k));
        al_buf_append(&text, &b, 1);
      }
    }
    al_buf_append(&text, "", 1);
    CHECK(st == 0 && ch && reply && !strcmp(text.data, reply), "conversation %d: serve's reply '%s', the local provider's '%s'",
          c, ch ? text.data : out, reply ? reply : "");
    al_buf_free(&text);
    /* the local score of the reply after the rendered chat */
    char *prompt = al_chat_render(&p->chat_template, convs[c], nmsg[c], 1, NULL, NULL, NULL);
    al_score_req q = {prompt, reply ? reply : ""};
    al_score_res s = {0};
    CHECK_OK(p->score(p, &q, 1, &s, &err), err);
    size_t n = json_array_size(lps);
    CHECK(n > 0 && (size_t)s.ntokens == n, "conversation %d: %d scored tokens, %zu served", c, s.ntokens, n);
    double maxd = 0;
    for (int t = 0; t < s.ntokens && (size_t)t < n; t++) {
      double d = fabs(s.token_lp[t] - json_number_value(json_object_get(json_array_get(lps, (size_t)t), "logprob")));
      if (d > maxd) maxd = d;
    }
    printf("chat %d: %d tokens '%s', largest log-prob difference %.2g\n", c, s.ntokens, reply ? reply : "", maxd);
    CHECK(maxd <= 1e-5, "conversation %d: log-probs differ by %g", c, maxd);
    al_score_res_free(&s, 1);
    free(prompt), free(reply), free(out);
    json_decref(r);
  }
  free(body_path);
  al_provider_free(p);
}

static int predictions(const char *dir, int *pred, int max) {
  char *p = al_path_join(dir, "examples.jsonl"), *text;
  al_err err;
  int n = 0;
  if (al_read_file(p, &text, NULL, &err) == 0) {
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
      json_t *j = json_loads(line, 0, NULL);
      pred[n++] = j ? (int)json_integer_value(json_object_get(j, "prediction")) : -2;
      json_decref(j);
    }
    free(text);
  }
  free(p);
  return n;
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("eval_serve"), *model = al_path_join(dir, "model"), *task = al_path_join(dir, "task.csv");
  CHECK_OK(serve_make_model(model, &err), err);
  const char *csv =
      "prompt,classes,answer_index\n"
      "\"The cat sat on the\",\"[' mat', ' log', ' dog']\",0\n"
      "\"Hello, world! Hello again,\",\"[' world', ' fox']\",0\n"
      "\"Alice is the mother of\",\"[' Bob', ' Alice', ' the']\",0\n"
      "\"1 2 3 4\",\"[' 5', ' 6']\",0\n"
      "\"The quick brown fox jumps over the lazy\",\"[' dog', ' cat', ' log', ' mat']\",2\n"
      "\"A caf\xc3\xa9 in\",\"[' Z\xc3\xbcrich', ' Bern']\",1\n";
  CHECK_OK(al_write_file_atomic(task, csv, strlen(csv), &err), err);
  int port = 0;
  char path_gen[4096];
  pid_t pid = start_server(model, &port);
  CHECK(pid > 0 && port > 0, "alab serve did not start");
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' eval --quiet --model '%s' --task '%s' --out '%s/local' >/dev/null", getenv("ALAB_BIN"),
           model, task, dir);
  CHECK(system(cmd) == 0, "local eval failed");
  snprintf(cmd, sizeof cmd,
           "'%s' eval --quiet --api-base http://127.0.0.1:%d/v1 --api-model model --api-tokenizer '%s' --task '%s' --out '%s/http' >/dev/null",
           getenv("ALAB_BIN"), port, model, task, dir);
  CHECK(system(cmd) == 0, "http eval (token ids) failed");
  snprintf(cmd, sizeof cmd,
           "'%s' eval --quiet --api-base http://127.0.0.1:%d/v1 --api-model model --task '%s' --out '%s/http_text' >/dev/null",
           getenv("ALAB_BIN"), port, task, dir);
  CHECK(system(cmd) == 0, "http eval (text prompts) failed");
  /* a classification task with prompts longer than the context: token-id mode cuts them from the left
   * as the local provider does (the endpoint's context from /v1/models), so both score alike */
  char *longtask = al_path_join(dir, "long.csv");
  al_buf lt = {0};
  al_buf_printf(&lt, "prompt,classes,answer_index\n");
  for (int i = 0; i < 3; i++) {
    al_buf_printf(&lt, "\"");
    for (int k = 0; k < 40 + 9 * i; k++) al_buf_printf(&lt, "%s ", k % 2 ? "the dog sat on the log." : "Hello, world!");
    al_buf_printf(&lt, "The cat sat on the\",\"[' mat', ' log', ' dog']\",%d\n", i);
  }
  CHECK_OK(al_write_file_atomic(longtask, lt.data, lt.len, &err), err);
  al_buf_free(&lt);
  snprintf(cmd, sizeof cmd, "'%s' eval --quiet --model '%s' --task '%s' --out '%s/long_local' >/dev/null", getenv("ALAB_BIN"),
           model, longtask, dir);
  CHECK(system(cmd) == 0, "local eval of long prompts failed");
  snprintf(cmd, sizeof cmd,
           "'%s' eval --quiet --api-base http://127.0.0.1:%d/v1 --api-model model --api-tokenizer '%s' --task '%s' --out '%s/long_http' >/dev/null",
           getenv("ALAB_BIN"), port, model, longtask, dir);
  CHECK(system(cmd) == 0, "http eval (token ids) of long prompts failed");
  {
    json_t *a2 = NULL, *b2 = NULL;
    snprintf(path_gen, sizeof path_gen, "%s/long_local/results.json", dir);
    CHECK_OK(al_json_load_file(path_gen, &a2, &err), err);
    snprintf(path_gen, sizeof path_gen, "%s/long_http/results.json", dir);
    CHECK_OK(al_json_load_file(path_gen, &b2, &err), err);
    if (a2 && b2) compare_metric(a2, b2, "loss");
    json_decref(a2), json_decref(b2);
  }
  free(longtask);
  /* a generation task whose prompts leave no room for the default --max-tokens 64 in the context of 128:
   * the server fits them as the local provider does (the prompt loses its first tokens), so the run
   * succeeds and scores as the local one (the texts hold bytes that are not UTF-8, which examples.jsonl
   * cannot hold yet, so the comparison is by 'contains' targets of several lengths) */
  char *gen = al_path_join(dir, "gen.csv");
  static const char *targets[] = {" 3 3 3 3 3 3 3 3 3 3 3 3", "3", "e", " 3 3 3 3 3 3 3 3", "B", "zzz"};
  al_buf g = {0};
  al_buf_printf(&g, "prompt,target\n");
  for (int i = 0; i < 6; i++) {
    al_buf_printf(&g, "\"");
    for (int k = 0; k < 30 + 7 * i; k++) al_buf_printf(&g, "%s ", k % 3 ? "the cat sat on the mat" : "Hello, world!");
    al_buf_printf(&g, "\",%s\n", targets[i]);
  }
  CHECK_OK(al_write_file_atomic(gen, g.data, g.len, &err), err);
  al_buf_free(&g);
  snprintf(cmd, sizeof cmd, "'%s' eval --quiet --match contains --model '%s' --task '%s' --out '%s/gen_local' >/dev/null",
           getenv("ALAB_BIN"), model, gen, dir);
  CHECK(system(cmd) == 0, "local generation eval failed");
  snprintf(cmd, sizeof cmd,
           "'%s' eval --quiet --match contains --api-base http://127.0.0.1:%d/v1 --api-model model --task '%s' --out '%s/gen_http' >/dev/null",
           getenv("ALAB_BIN"), port, gen, dir);
  CHECK(system(cmd) == 0, "http generation eval with long prompts failed");
  json_t *gl = NULL, *gh = NULL;
  snprintf(path_gen, sizeof path_gen, "%s/gen_local/results.json", dir);
  CHECK_OK(al_json_load_file(path_gen, &gl, &err), err);
  snprintf(path_gen, sizeof path_gen, "%s/gen_http/results.json", dir);
  CHECK_OK(al_json_load_file(path_gen, &gh, &err), err);
  if (gl && gh) compare_metric(gl, gh, "accuracy");
  double acc = json_number_value(json_object_get(json_object_get(json_object_get(gl, "metrics"), "accuracy"), "mean"));
  CHECK(acc > 0.1 && acc < 0.9, "the targets tell texts apart (accuracy %g)", acc);
  json_decref(gl), json_decref(gh);
  free(gen);
  compare_chat(model, port, dir);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  { /* the same model with ChatML in its tokenizer_config.json */
    char *chatml = al_path_join(dir, "model_chatml"), *cfgp = al_path_join(chatml, "tokenizer_config.json");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", model, chatml);
    CHECK(system(cmd) == 0, "copying the model");
    json_t *tc = json_pack("{s:s}", "chat_template", AL_CHAT_TEMPLATE_CHATML);
    CHECK_OK(al_json_save_file(cfgp, tc, &err), err);
    json_decref(tc);
    int port2 = 0;
    pid_t pid2 = start_server(chatml, &port2);
    CHECK(pid2 > 0 && port2 > 0, "alab serve (ChatML) did not start");
    if (pid2 > 0 && port2 > 0) {
      compare_chat(chatml, port2, dir);
      char *info = NULL;
      snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/tokenizer_info", port2);
      int st = test_sh(cmd, &info);
      json_t *ti = json_loads(info, 0, NULL);
      const char *served = json_string_value(json_object_get(ti, "chat_template"));
      CHECK(st == 0 && served && !strcmp(served, AL_CHAT_TEMPLATE_CHATML), "/tokenizer_info gives the directory's template");
      json_decref(ti);
      free(info);
    }
    if (pid2 > 0) kill(pid2, SIGTERM), waitpid(pid2, NULL, 0);
    free(chatml), free(cfgp);
  }
  const char *runs[] = {"http", "http_text"};
  char path[4096];
  snprintf(path, sizeof path, "%s/local/results.json", dir);
  json_t *a = NULL, *b = NULL;
  CHECK_OK(al_json_load_file(path, &a, &err), err);
  int pl[16], ph[16], nl = 0, nh = 0;
  snprintf(path, sizeof path, "%s/local", dir);
  nl = predictions(path, pl, 16);
  for (int r = 0; r < 2; r++) {
    snprintf(path, sizeof path, "%s/%s/results.json", dir, runs[r]);
    CHECK_OK(al_json_load_file(path, &b, &err), err);
    if (a && b) {
      compare_metric(a, b, "loss");
      compare_metric(a, b, "accuracy");
      compare_metric(a, b, "accuracy_norm");
    }
    json_decref(b);
    b = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, runs[r]);
    nh = predictions(path, ph, 16);
    CHECK(nl == 6 && nh == nl && !memcmp(pl, ph, nl * sizeof(int)), "%s: predictions differ from the local provider's", runs[r]);
  }
  json_decref(a);
  free(model), free(task), free(dir);
  return test_summary();
}

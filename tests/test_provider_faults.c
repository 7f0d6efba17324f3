/* `alab eval` against tests/fault_server.c, a loopback endpoint that injects
 * 429 (Retry-After: 1), 500, 503, truncated bodies, invalid JSON, dropped
 * connections and slow answers, and logs every request it gets.
 *   1. 500 scoring requests with faults: every score equals the server's
 *      closed form, the client's retries equal the faults the server logged,
 *      Retry-After is waited out, and no request is answered twice.
 *   2. kill -9 mid-run, then --resume: the same records and metrics as the
 *      uninterrupted run, and each request answered once over both runs.
 *   3. two processes sharing one cache file at once: both succeed, sqlite3's
 *      integrity_check says ok, each request sent at most once per process.
 *   4. per-example failures (a 400 naming the field) are recorded and counted;
 *      --fail-fast stops with the example named; chat generations; the
 *      assistant prefill through /v1/completions and the chat template.
 *   5. the API key appears in no file written and no message printed. */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "alab/judge.h"
#include "alab/provider.h"
#include "test.h"
#include "fault_server_proc.h"

#define KEY "sk-fault-test-9f8e7d"
enum { NEX = 250 };

static char *dir;

static double byte_lp(unsigned char c, size_t k) { return -(0.05 + (double)((7 * c + 3 * k) % 97) / 50.0); }

/* log p(cont | prompt) as the server defines it: one token per byte */
static double closed_form(const char *prompt, const char *cont) {
  double s = 0;
  size_t np = strlen(prompt);
  for (size_t j = 0; cont[j]; j++) s += byte_lp((unsigned char)cont[j], np + j);
  return s;
}

static void cls_example(int i, char *prompt, char *c0, char *c1) {
  sprintf(prompt, "Question %d: is it so?", i);
  sprintf(c0, " yes %d", i);
  sprintf(c1, " no %d", i % 7);
}

static json_t *load(const char *path) { return json_load_file(path, 0, NULL); }

/* examples.jsonl's records, one string per line, for comparing runs */
static char *records(const char *run) {
  char path[1024], *out;
  snprintf(path, sizeof path, "cat '%s/%s/examples.jsonl'", dir, run);
  test_sh(path, &out);
  return out;
}

/* Per request hash in the server's log: how many answers ("ok") and faults. */
typedef struct { long lines, ok, faults, max_ok, after_429_early; } log_stats;
static log_stats read_log(const char *path) {
  log_stats s = {0};
  FILE *f = fopen(path, "r");
  struct { char h[17]; int ok; double t429; } *seen = calloc(20000, sizeof *seen);
  int nseen = 0;
  char h[17], act[32];
  double t;
  while (f && fscanf(f, "%lf %16s %31s", &t, h, act) == 3) {
    s.lines++;
    int k = 0;
    while (k < nseen && strcmp(seen[k].h, h)) k++;
    if (k == nseen && nseen < 20000) memcpy(seen[nseen++].h, h, 16);
    if (seen[k].t429 > 0 && t < seen[k].t429 + 0.95) s.after_429_early++; /* Retry-After: 1 not honoured */
    seen[k].t429 = !strcmp(act, "429") ? t : 0;
    if (!strcmp(act, "ok")) {
      s.ok++;
      if (++seen[k].ok > s.max_ok) s.max_ok = seen[k].ok;
    } else if (strcmp(act, "gone") && strcmp(act, "400")) s.faults++;
  }
  if (f) fclose(f);
  free(seen);
  return s;
}

static int run_eval(const char *base, const char *task, const char *run, const char *extra) {
  char cmd[4096], *out;
  snprintf(cmd, sizeof cmd,
           "ALAB_API_KEY=" KEY " '%s' eval --api-base %s --api-model m --task '%s/%s' --out '%s/%s' --api-backoff 0.02 "
           "--quiet %s > '%s/%s.stdout' 2> '%s/%s.stderr'",
           getenv("ALAB_BIN"), base, dir, task, dir, run, extra, dir, run, dir, run);
  int rc = test_sh(cmd, &out);
  free(out);
  return rc;
}

static json_t *results(const char *run) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s/results.json", dir, run);
  return load(p);
}

static long req_field(json_t *r, const char *k) {
  return (long)json_integer_value(json_object_get(json_object_get(r, "requests"), k));
}

static void test_faults(void) {
  char base[128], log[1024];
  snprintf(log, sizeof log, "%s/faults.log", dir);
  int pid = fault_server_start("--rate 0.02 --seed 7", log, base);
  int rc = run_eval(base, "cls.jsonl", "faults", "--api-concurrency 16");
  CHECK(rc == 0, "the eval with faults exits 0 (rc %d)", rc);
  json_t *r = results("faults");
  CHECK(r && json_integer_value(json_object_get(r, "failed_examples")) == 0, "no example failed");
  log_stats s = read_log(log);
  printf("500 requests: %ld sent, %ld retries (server: %ld lines, %ld faults), %ld answers\n", req_field(r, "sent"),
         req_field(r, "retries"), s.lines, s.faults, s.ok);
  CHECK(s.faults > 20, "the server injected faults (%ld)", s.faults);
  CHECK(req_field(r, "retries") == s.faults, "client retries %ld = faults injected %ld", req_field(r, "retries"), s.faults);
  CHECK(req_field(r, "sent") == s.lines, "client requests %ld = server's log %ld", req_field(r, "sent"), s.lines);
  CHECK(s.ok == 2 * NEX && s.max_ok == 1, "each of the %d requests answered once (%ld answers, max %ld per request)",
        2 * NEX, s.ok, s.max_ok);
  CHECK(s.after_429_early == 0, "Retry-After honoured (%ld retries came early)", s.after_429_early);
  CHECK(req_field(r, "prompt_tokens") > 0, "usage tokens counted");
  /* every score against the closed form; accuracy likewise */
  char path[1024];
  snprintf(path, sizeof path, "%s/faults/examples.jsonl", dir);
  FILE *f = fopen(path, "r");
  int n = 0, bad = 0, correct = 0;
  char line[8192];
  while (f && fgets(line, sizeof line, f)) {
    json_t *e = json_loads(line, 0, NULL);
    int i = (int)json_integer_value(json_object_get(e, "index"));
    char p[128], c0[64], c1[64];
    cls_example(i, p, c0, c1);
    double w0 = closed_form(p, c0), w1 = closed_form(p, c1);
    json_t *sc = json_object_get(e, "scores");
    if (i != n || fabs(json_number_value(json_array_get(sc, 0)) - w0) > 1e-4 ||
        fabs(json_number_value(json_array_get(sc, 1)) - w1) > 1e-4)
      bad++;
    correct += (w0 > w1 ? 0 : 1) == i % 2;
    json_decref(e);
    n++;
  }
  if (f) fclose(f);
  CHECK(n == NEX && bad == 0, "%d records in input order, %d scores off the closed form", n, bad);
  double acc = json_number_value(json_object_get(json_object_get(json_object_get(r, "metrics"), "accuracy"), "mean"));
  CHECK(fabs(acc - (double)correct / NEX) < 1e-12, "accuracy %g = closed form %g", acc, (double)correct / NEX);
  json_decref(r);
  kill(pid, SIGKILL);
}

static void test_resume(void) {
  char base[128], log[1024], cmd[4096], *out;
  snprintf(log, sizeof log, "%s/resume.log", dir);
  int pid = fault_server_start("--hold-after 150", log, base);
  snprintf(cmd, sizeof cmd,
           "ALAB_API_KEY=" KEY " '%s' eval --api-base %s --api-model m --task '%s/cls.jsonl' --out '%s/resume' --quiet "
           "> /dev/null 2> '%s/resume.killed.stderr' & echo $!",
           getenv("ALAB_BIN"), base, dir, dir, dir);
  test_sh(cmd, &out);
  int apid = atoi(out);
  free(out);
  for (int t = 0; t < 1000 && read_log(log).ok < 150; t++) usleep(10000);
  usleep(1000000); /* the answers received are stored */
  kill(apid, SIGKILL);
  waitpid(apid, NULL, 0);
  usleep(300000); /* the server sees the killed client's connections close */
  log_stats before = read_log(log);
  CHECK(before.ok == 150, "150 answered before the kill (%ld)", before.ok);
  kill(pid, SIGUSR1); /* the server answers again */
  CHECK(run_eval(base, "cls.jsonl", "resume", "--resume --cache off") == 2, "--resume without the cache: usage error");
  int rc = run_eval(base, "cls.jsonl", "resume", "--resume");
  CHECK(rc == 0, "--resume exits 0 (rc %d)", rc);
  log_stats s = read_log(log);
  CHECK(s.ok == 2 * NEX && s.max_ok == 1, "over both runs each request answered once (%ld answers, max %ld)", s.ok,
        s.max_ok);
  json_t *r = results("resume");
  CHECK(req_field(r, "cache_hits") >= 150, "the resumed run took %ld answers from the cache", req_field(r, "cache_hits"));
  CHECK(req_field(r, "sent") == 2 * NEX - req_field(r, "cache_hits"), "it sent only the rest (%ld)", req_field(r, "sent"));
  char *a = records("faults"), *b = records("resume");
  CHECK(!strcmp(a, b), "the resumed run's records equal the uninterrupted run's");
  free(a), free(b);
  json_t *u = results("faults");
  CHECK(json_equal(json_object_get(r, "metrics"), json_object_get(u, "metrics")), "and its metrics");
  json_decref(r), json_decref(u);
  kill(pid, SIGKILL);
}

static void test_shared_cache(void) {
  char base[128], log[1024], cmd[8192], *out;
  snprintf(log, sizeof log, "%s/shared.log", dir);
  int pid = fault_server_start("--rate 0.01 --seed 3", log, base);
  const char *fmt = "ALAB_API_KEY=" KEY " '%s' eval --api-base %s --api-model m --task '%s/cls.jsonl' --out '%s/%s' "
                    "--cache '%s/shared.sqlite' --api-backoff 0.02 --quiet > '%s/%s.stdout' 2> '%s/%s.stderr'";
  char a[2048], b[2048];
  snprintf(a, sizeof a, fmt, getenv("ALAB_BIN"), base, dir, dir, "shared1", dir, dir, "shared1", dir, "shared1");
  snprintf(b, sizeof b, fmt, getenv("ALAB_BIN"), base, dir, dir, "shared2", dir, dir, "shared2", dir, "shared2");
  snprintf(cmd, sizeof cmd, "(%s; echo $? > '%s/s1.rc') & (%s; echo $? > '%s/s2.rc') & wait; cat '%s/s1.rc' '%s/s2.rc'",
           a, dir, b, dir, dir, dir);
  test_sh(cmd, &out);
  CHECK(!strcmp(out, "0\n0\n"), "both processes exit 0 (%s)", out);
  free(out);
  snprintf(cmd, sizeof cmd, "sqlite3 '%s/shared.sqlite' 'PRAGMA integrity_check; SELECT count(*) FROM responses;'", dir);
  test_sh(cmd, &out);
  CHECK(!strcmp(out, "ok\n500\n"), "integrity_check ok, 500 answers stored (%s)", out);
  free(out);
  log_stats s = read_log(log);
  CHECK(s.max_ok <= 2, "each request answered at most once per process (max %ld)", s.max_ok);
  for (int k = 1; k <= 2; k++) {
    json_t *r = results(k == 1 ? "shared1" : "shared2");
    long sent_ok = req_field(r, "sent") - req_field(r, "retries");
    CHECK(sent_ok + req_field(r, "cache_hits") == 2 * NEX, "process %d: %ld answered + %ld from the cache", k, sent_ok,
          req_field(r, "cache_hits"));
    json_decref(r);
    char *x = records("faults"), *y = records(k == 1 ? "shared1" : "shared2");
    CHECK(!strcmp(x, y), "process %d's records equal the single run's", k);
    free(x), free(y);
  }
  kill(pid, SIGKILL);
}

static void test_failures_chat_prefill(void) {
  char base[128], log[1024], *out;
  snprintf(log, sizeof log, "%s/gen.log", dir);
  int pid = fault_server_start("--rate 0.03 --seed 11", log, base);
  int rc = run_eval(base, "gen.jsonl", "gen", "--max-tokens 8");
  CHECK(rc == 0, "generation with two bad examples exits 0 (rc %d)", rc);
  json_t *r = results("gen");
  CHECK(json_integer_value(json_object_get(r, "failed_examples")) == 2, "2 failed examples counted");
  double acc = json_number_value(json_object_get(json_object_get(json_object_get(r, "metrics"), "accuracy"), "mean"));
  CHECK(fabs(acc - 1) < 1e-12, "the other 18 all correct (accuracy %g)", acc);
  json_decref(r);
  char *rec = records("gen");
  CHECK(strstr(rec, "\"failed\":") && strstr(rec, "field 'prompt' is rejected") && strstr(rec, "HTTP 400"),
        "the failed examples' records give the server's reason");
  CHECK(!strstr(rec, "http://"), "and not the base URL");
  free(rec);
  rc = run_eval(base, "gen.jsonl", "genff", "--fail-fast --cache off");
  char p[1024];
  snprintf(p, sizeof p, "cat '%s/genff.stderr'", dir);
  test_sh(p, &out);
  CHECK(rc == 1 && strstr(out, "field 'prompt' is rejected") && strstr(out, "gen.jsonl:4: example 3"),
        "--fail-fast: exit 1 naming the example and field (rc %d: %s)", rc, out);
  free(out);
  rc = run_eval(base, "chat.jsonl", "chat", "--chat");
  r = results("chat");
  acc = json_number_value(json_object_get(json_object_get(json_object_get(r, "metrics"), "accuracy"), "mean"));
  CHECK(rc == 0 && fabs(acc - 1) < 1e-12, "chat generations through /v1/chat/completions (rc %d, accuracy %g)", rc, acc);
  json_decref(r);
  /* the assistant prefill: the chat rendered with alab serve's template, sent to /v1/completions */
  al_http_cfg hc = al_http_cfg_default();
  hc.base_url = base, hc.model = "m", hc.api_key = KEY, hc.backoff_s = 0.01, hc.chat_template = "alab";
  al_provider *hp, *np;
  al_err err;
  CHECK_OK(al_provider_http(&hp, &hc, &err), err);
  hc.chat_template = NULL;
  CHECK_OK(al_provider_http(&np, &hc, &err), err);
  al_chat_msg m[2] = {{"system", "Be brief."}, {"user", "Hi"}};
  al_gen_req q = {.msgs = m, .nmsgs = 2, .prefill = "Sure", .g = al_gen_cfg_default()};
  char *o[1], *e[1];
  CHECK_OK(hp->complete(hp, &q, 1, o, e, &err), err);
  const char *want = "eruS\n>|tnatsissa|<\niH\n>|resu|<\n.feirb eB\n>|metsys|<"; /* the server reverses the prompt */
  CHECK(o[0] && !strcmp(o[0], want), "prefill reply '%s'", o[0] ? o[0] : "(null)");
  free(o[0]), free(e[0]);
  CHECK_FAILS_WITH(np->complete(np, &q, 1, o, e, &err), err, "chat template is unknown");
  /* a judge through the endpoint, 20 chats in flight at once: the server's reversal of
   * "X :si tcidrev ehT" is "The verdict is: X" */
  al_judge jd = al_judge_default(hp, "{answer} :si tcidrev ehT", AL_JUDGE_LETTER);
  jd.letters = "XY", jd.chat = 1;
  al_judge_input ji[20];
  al_judgement jo[20];
  for (int i = 0; i < 20; i++) ji[i] = (al_judge_input){"q", i % 3 ? "X" : "Y", NULL, NULL};
  CHECK_OK(al_judge_run(&jd, ji, 20, jo, &err), err);
  int right = 1;
  for (int i = 0; i < 20; i++) right &= !jo[i].error && jo[i].letter == (i % 3 ? 'X' : 'Y');
  CHECK(right, "20 judgements over HTTP read in input order");
  al_judgement_free(jo, 20);
  /* yes/no on a chat endpoint: no scoring there, so the first token's top log-probs */
  hp->score = NULL;
  jd = al_judge_default(hp, "Is it {answer}?", AL_JUDGE_YESNO);
  jd.chat = 1;
  CHECK_OK(al_judge_run(&jd, ji, 2, jo, &err), err);
  double pyes = 1 / (1 + exp(-1.5));
  CHECK(!jo[0].error && fabs(jo[0].p_yes - pyes) < 1e-12 && jo[0].yes == 1, "p(yes) %.17g from top log-probs (want %.17g)",
        jo[0].p_yes, pyes);
  al_judgement_free(jo, 2);
  al_provider_free(hp), al_provider_free(np);
  kill(pid, SIGKILL);
}

int main(void) {
  if (!getenv("FAULT_SERVER") || !getenv("ALAB_BIN")) {
    fprintf(stderr, "FAULT_SERVER and ALAB_BIN must be set (ctest sets them)\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  dir = test_tmpdir("provider_faults");
  char path[1024];
  snprintf(path, sizeof path, "%s/cls.jsonl", dir);
  FILE *f = fopen(path, "w");
  for (int i = 0; i < NEX; i++) {
    char p[128], c0[64], c1[64];
    cls_example(i, p, c0, c1);
    fprintf(f, "{\"prompt\": \"%s\", \"classes\": [\"%s\", \"%s\"], \"answer_index\": %d}\n", p, c0, c1, i % 2);
  }
  fclose(f);
  /* generation: the server answers the prompt reversed; examples 3 and 12 are rejected (400) */
  snprintf(path, sizeof path, "%s/gen.jsonl", dir);
  f = fopen(path, "w");
  for (int i = 0; i < 20; i++) {
    char pr[32], rev[32];
    snprintf(pr, sizeof pr, "%s%03d", i == 3 || i == 12 ? "BADx" : "abcd", i);
    for (size_t k = 0, n = strlen(pr); k <= n; k++) rev[k] = k < n ? pr[n - 1 - k] : 0;
    fprintf(f, "{\"prompt\": \"%s\", \"target\": \"%s\"}\n", pr, rev);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/chat.jsonl", dir);
  f = fopen(path, "w");
  for (int i = 0; i < 10; i++) fprintf(f, "{\"prompt\": \"hello0%d\", \"target\": \"%d0olleh\"}\n", i, i);
  fclose(f);
  test_faults();
  test_resume();
  test_shared_cache();
  test_failures_chat_prefill();
  /* the key: in no file written, no message printed */
  char cmd[1024], *out;
  snprintf(cmd, sizeof cmd, "grep -rl -a '%s' '%s' | head -5; ls -R '%s' | wc -l", KEY, dir, dir);
  test_sh(cmd, &out);
  CHECK(atoi(out) > 20 && !strchr(out, '/'), "the key is in none of the files written: %s", out);
  free(out);
  return test_summary();
}

/* Feature scores through a provider (alab/cpm_features.h):
 *   - the expected score over 1..10 from top log-probs against its closed
 *     form; lists without a score token give none;
 *   - the shipped data/cpm_features.json holds the paper's 13 features in
 *     order; broken files are refused naming the field, and 3,000 mutations
 *     of the file are each refused or read into a valid set;
 *   - extraction against the scripted endpoint (tests/fault_server.c: a chat
 *     reply is the message reversed; its top log-probs are Yes/No, which hold
 *     no score token, so the greedy reply is read and recorded as such):
 *     "Score: 7/10" -> 7, "seven" -> 7, "11" and "" rejected and counted,
 *     with the first reason; a second extraction is answered by the cache
 *     (no new request) with the same scores. */
#include <signal.h>
#include <unistd.h>
#include "alab/cpm_features.h"
#include "test.h"
#include "fault_server_proc.h"

static void expected(void) {
  al_top_lp t[] = {{" 7", log(0.5)}, {"8", log(0.3)}, {"Yes", log(0.05)}, {"10", log(0.1)}, {"11", log(0.02)},
                   {"0", log(0.01)}, {"7.5", log(0.01)}, {"-3", log(0.01)}};
  double s;
  CHECK(al_cpm_expected_score(t, 8, &s) == 0 && fabs(s - (7 * 0.5 + 8 * 0.3 + 10 * 0.1) / 0.9) < 1e-12, "expected %g", s);
  al_top_lp yn[] = {{"Yes", -0.25}, {"No", -1.75}};
  CHECK(al_cpm_expected_score(yn, 2, &s) == -1, "no score token");
  CHECK(al_cpm_expected_score(NULL, 0, &s) == -1, "no log-probs");
}

static void files(void) {
  static const char *paper[] = {"helpfulness", "specificity", "intent", "factuality", "easy-to-understand", "relevance",
                                "readability", "enough-detail", "biased", "fail-to-consider-individual-preferences",
                                "repetitive", "fail-to-consider-context", "too-long"};
  char path[1024];
  snprintf(path, sizeof path, "%s/data/cpm_features.json", getenv("ALAB_SRC"));
  al_cpm_feature_set F;
  al_err err;
  CHECK_OK(al_cpm_features_load(path, &F, &err), err);
  CHECK(F.n == 13, "%d features", F.n);
  for (int k = 0; k < F.n && k < 13; k++) CHECK(!strcmp(F.f[k].name, paper[k]), "feature %d is %s", k, F.f[k].name);
  al_cpm_features_free(&F);
  struct { const char *text, *needle; } bad[] = {
      {"{\"features\": [", "x.json:1:"},
      {"{\"features\": []}", "non-empty"},
      {"{\"features\": [{\"prompt\": \"{response}\"}]}", "features[0]: \"name\""},
      {"{\"features\": [{\"name\": \"a\", \"prompt\": 3}]}", "features[0] (a): \"prompt\""},
      {"{\"features\": [{\"name\": \"a\", \"prompt\": \"rate it\"}]}", "no {response}"},
      {"{\"features\": [{\"name\": \"a\", \"prompt\": \"{response}\"}, {\"name\": \"a\", \"prompt\": \"{response}\"}]}",
       "features[1]: the name 'a' is used twice"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_FAILS_WITH(al_cpm_features_parse(bad[i].text, strlen(bad[i].text), "x.json", &F, &err), err, bad[i].needle);
  /* mutations of the shipped file */
  char *data;
  size_t len;
  CHECK_OK(al_read_file(path, &data, &len, &err), err);
  char *m = al_malloc(len + 1);
  al_rng r;
  al_rng_seed(&r, 4);
  int read = 0, refused = 0;
  for (int t = 0; t < 3000; t++) {
    memcpy(m, data, len);
    size_t ml = len;
    for (int e = 0; e < 1 + (int)al_rng_below(&r, 4); e++) {
      size_t at = al_rng_below(&r, ml);
      if (t % 3 == 0) ml = at; /* truncated */
      else m[at] = "{}[]\",:a\\ 0"[al_rng_below(&r, 11)];
    }
    err.msg[0] = 0;
    if (al_cpm_features_parse(m, ml, "m.json", &F, &err) == 0) {
      read++;
      int okset = F.n > 0;
      for (int k = 0; k < F.n; k++) {
        okset &= F.f[k].name[0] && strstr(F.f[k].prompt, "{response}") != NULL;
        for (int j = 0; j < k; j++) okset &= strcmp(F.f[j].name, F.f[k].name) != 0;
      }
      CHECK(okset, "mutation %d read into an invalid set", t);
      al_cpm_features_free(&F);
    } else {
      refused++;
      CHECK(strstr(err.msg, "m.json") != NULL, "mutation %d refused without naming the file: %s", t, err.msg);
    }
  }
  printf("mutations: %d read, %d refused\n", read, refused);
  CHECK(read > 0 && refused > 0, "both outcomes reached");
  free(m), free(data);
}

static void extract(void) {
  char *dir = test_tmpdir("cpm_features"), log[1024], cache[1024], base[256] = "";
  snprintf(log, sizeof log, "%s/server.log", dir);
  snprintf(cache, sizeof cache, "%s/cache.sqlite", dir);
  int pid = fault_server_start("", log, base);
  CHECK(base[0], "the fault server did not start");
  al_http_cfg h = al_http_cfg_default();
  h.base_url = base, h.model = "m", h.api_key = NULL, h.cache = cache, h.concurrency = 4;
  al_provider *p;
  al_err err;
  CHECK_OK(al_provider_http(&p, &h, &err), err);
  /* the template is the response itself: the server answers it reversed */
  const char *json = "{\"features\": [{\"name\": \"quality\", \"prompt\": \"{response}\"}]}";
  al_cpm_feature_set F;
  CHECK_OK(al_cpm_features_parse(json, strlen(json), "f.json", &F, &err), err);
  const char *resp[] = {"01/7 :erocS", "neves", "11", "3 si ti kniht I"};
  double sc[4], sc2[4];
  signed char meth[4], meth2[4];
  al_cpm_extract_stats st, st2;
  al_cpm_extract_cfg c = al_cpm_extract_defaults(p);
  CHECK_OK(al_cpm_extract(&c, &F, NULL, resp, 4, sc, meth, &st, &err), err);
  printf("scores %g %g %g %g; greedy %ld expected %ld rejected %ld (%s)\n", sc[0], sc[1], sc[2], sc[3], st.greedy,
         st.expected, st.rejected, st.first_rejection);
  CHECK(sc[0] == 7 && sc[1] == 7 && isnan(sc[2]) && sc[3] == 3, "scores %g %g %g %g", sc[0], sc[1], sc[2], sc[3]);
  CHECK(meth[0] == AL_CPM_GREEDY && meth[2] == AL_CPM_REJECTED, "methods %d %d", meth[0], meth[2]);
  CHECK(st.rejected == 1 && st.greedy == 3 && st.expected == 0 && strstr(st.first_rejection, "response 2") &&
            strstr(st.first_rejection, "'quality'") && strstr(st.first_rejection, "range"),
        "stats: %ld rejected: %s", st.rejected, st.first_rejection);
  long before = al_provider_http_requests(p, NULL);
  CHECK_OK(al_cpm_extract(&c, &F, NULL, resp, 4, sc2, meth2, &st2, &err), err);
  long after = al_provider_http_requests(p, NULL);
  CHECK(after == before, "the second extraction sent %ld requests (the cache should answer)", after - before);
  CHECK(!memcmp(meth, meth2, 4) && sc2[0] == 7 && sc2[3] == 3 && isnan(sc2[2]), "cached scores differ");
  al_cpm_features_free(&F);
  al_provider_free(p);
  kill(pid, SIGTERM);
  free(dir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  expected();
  files();
  if (getenv("FAULT_SERVER")) extract();
  else CHECK(0, "FAULT_SERVER is not set (ctest sets it)");
  return test_summary();
}

/* The local provider: scores against the training forward pass (an
 * independent oracle), the KV-cache path against the naive path, a model
 * directory against the in-memory model, generation with stop strings
 * against greedy decoding by the training forward, and its errors. */
#include <string.h>
#include "alab/provider.h"
#include "test.h"
#include "test_provider_model.h"

static const char *P[] = {"The cat sat on the", "Once upon a time, there was a little girl named Lily. She lived in a small house",
                          "", "x"};
static const char *C[] = {" mat", " hat", " dog ran", " a"};

int main(void) {
  al_err err;
  al_model m;
  al_tok *tok;
  if (tiny_model(&m, &tok, 96, 42)) return 1;
  enum { NP = 4, NC = 4, NR = NP * NC + 1 };
  al_score_req q[NR];
  for (int i = 0; i < NP; i++)
    for (int j = 0; j < NC; j++) q[i * NC + j] = (al_score_req){P[i], C[j]};
  /* a prompt longer than the context: truncated from the left */
  static char longp[200];
  for (int i = 0; i < 150; i++) longp[i] = (char)('a' + i % 26);
  q[NR - 1] = (al_score_req){longp, " end"};

  al_score_res cached[NR], naive[NR], fromdir[NR];
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 2;
  al_provider *p;
  CHECK_OK(al_provider_local_wrap(&p, &m, tok, "tiny", &lc, &err), err);
  CHECK(p->nparams == (long long)m.nparams, "nparams");
  CHECK_OK(p->score(p, q, NR, cached, &err), err);
  al_provider_free(p);
  lc.threads = 1;
  lc.reuse_cache = 0;
  CHECK_OK(al_provider_local_wrap(&p, &m, tok, "tiny", &lc, &err), err);
  CHECK_OK(p->score(p, q, NR, naive, &err), err);

  for (int i = 0; i < NR - 1; i++) {
    const char *prompt = q[i].prompt[0] ? q[i].prompt : "\x00"; /* empty prompt = <|endoftext|> (id 256) */
    double tokl[16];
    int g;
    if (q[i].prompt[0]) oracle_logprobs(&m, prompt, q[i].continuation, tokl, &g);
    else {
      /* the oracle with the eot token: build ids by hand */
      int nc = (int)strlen(q[i].continuation), V = 257;
      int32_t ids[16];
      ids[0] = 256;
      for (int k = 0; k < nc; k++) ids[k + 1] = (unsigned char)q[i].continuation[k];
      al_model_forward(&m, ids, NULL, 1, nc + 1);
      const float *lg = al_model_logits(&m);
      g = 1;
      for (int k = 0; k < nc; k++) {
        const float *z = lg + (size_t)k * V;
        double mx = z[0], s = 0;
        int am = 0;
        for (int v = 1; v < V; v++)
          if (z[v] > mx) mx = z[v], am = v;
        for (int v = 0; v < V; v++) s += exp(z[v] - mx);
        tokl[k] = z[ids[k + 1]] - mx - log(s);
        if (am != ids[k + 1]) g = 0;
      }
    }
    double sum = 0;
    int nc = (int)strlen(q[i].continuation), okt = 1;
    for (int k = 0; k < nc; k++) {
      sum += tokl[k];
      okt &= fabs(cached[i].token_lp[k] - tokl[k]) < 1e-4;
    }
    CHECK(cached[i].ntokens == nc && naive[i].ntokens == nc, "req %d ntokens %d", i, cached[i].ntokens);
    CHECK(fabs(cached[i].logprob - sum) < 1e-4, "req %d cached %.7f oracle %.7f", i, cached[i].logprob, sum);
    CHECK(fabs(naive[i].logprob - sum) < 1e-4, "req %d naive %.7f oracle %.7f", i, naive[i].logprob, sum);
    CHECK(okt, "req %d per-token log-probs", i);
    CHECK(cached[i].is_greedy == g && naive[i].is_greedy == g, "req %d greedy %d/%d vs %d", i, cached[i].is_greedy,
          naive[i].is_greedy, g);
  }
  /* the long prompt keeps its last 92 bytes */
  {
    double tokl[8];
    int g;
    oracle_logprobs(&m, longp + 150 - (96 - 4), " end", tokl, &g);
    double sum = tokl[0] + tokl[1] + tokl[2] + tokl[3];
    CHECK(fabs(cached[NR - 1].logprob - sum) < 1e-4, "left-truncated prompt %.6f vs %.6f", cached[NR - 1].logprob, sum);
  }
  /* a model directory gives the same scores as the model in memory */
  char *dir = test_tmpdir("provider_local");
  CHECK_OK(al_model_save_dir(&m, tok, dir, &err), err);
  al_provider *pd;
  CHECK_OK(al_provider_local(&pd, dir, &lc, &err), err);
  if (pd) {
    CHECK_OK(pd->score(pd, q, NR, fromdir, &err), err);
    int same = 1;
    for (int i = 0; i < NR; i++) same &= fromdir[i].logprob == naive[i].logprob;
    CHECK(same, "directory scores equal in-memory scores");
    al_score_res_free(fromdir, NR);
    al_provider_free(pd);
  }
  /* generation: greedy by the training forward, then cut at the stop string */
  {
    const char *prompt = "Once upon a time";
    int np = (int)strlen(prompt), n = np;
    int32_t ids[64];
    for (int i = 0; i < np; i++) ids[i] = (unsigned char)prompt[i];
    char want[64];
    int nw = 0;
    for (int s = 0; s < 20; s++) {
      al_model_forward(&m, ids, NULL, 1, n);
      const float *z = al_model_logits(&m) + (size_t)(n - 1) * 257;
      int am = 0;
      for (int v = 1; v < 257; v++)
        if (z[v] > z[am]) am = v;
      if (am == 256) break;
      ids[n++] = am;
      want[nw++] = (char)am;
    }
    want[nw] = 0;
    al_gen_cfg g = al_gen_cfg_default();
    g.max_tokens = 20;
    char *out[1];
    const char *const pr[1] = {prompt};
    CHECK_OK(p->generate(p, pr, 1, &g, out, &err), err);
    CHECK(!strcmp(out[0], want), "greedy generation '%s' vs '%s'", out[0], want);
    free(out[0]);
    if (strlen(want) > 8) {
      char stop[3] = {want[6], want[7], 0};
      const char *stops[1] = {stop};
      g.stop = stops;
      g.nstop = 1;
      CHECK_OK(p->generate(p, pr, 1, &g, out, &err), err);
      char *cut = strstr(want, stop);
      if (cut) *cut = 0;
      CHECK(!strcmp(out[0], want), "stop string: '%s' vs '%s'", out[0], want);
      free(out[0]);
    }
    /* chat = generation on the model directory's chat template (alab's: "<|ROLE|>\nCONTENT\n", then
     * "<|assistant|>\n"; the reply ends at the next turn) */
    al_chat_msg msg = {"user", "hi"};
    g = al_gen_cfg_default();
    g.max_tokens = 12;
    char *reply;
    CHECK_OK(p->chat(p, &msg, 1, &g, &reply, &err), err);
    const char *tp[1] = {"<|user|>\nhi\n<|assistant|>\n"};
    const char *cs[1] = {"\n<|"};
    g.stop = cs;
    g.nstop = 1;
    CHECK_OK(p->generate(p, tp, 1, &g, out, &err), err);
    CHECK(!strcmp(reply, out[0]), "chat '%s' vs '%s'", reply, out[0]);
    free(reply);
    free(out[0]);
  }
  /* errors */
  al_provider *bad;
  CHECK_FAILS_WITH(al_provider_local(&bad, "/nonexistent/model", &lc, &err), err, "loading model /nonexistent/model");
  al_score_req big = {"a", longp};
  char huge[200];
  memset(huge, 'z', 199);
  huge[199] = 0;
  big.continuation = huge;
  al_score_res br;
  CHECK_FAILS_WITH(p->score(p, &big, 1, &br, &err), err, "does not fit the context");
  al_score_res_free(cached, NR);
  al_score_res_free(naive, NR);
  al_provider_free(p);
  al_model_free(&m);
  al_tok_free(tok);
  free(dir);
  return test_summary();
}

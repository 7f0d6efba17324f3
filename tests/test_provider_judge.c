/* LLM judges against a scripted judge (a provider whose replies and
 * log-probs are fixed rules of the prompt, so every verdict is known):
 * the three parsers, unreadable replies recorded as failures with the
 * reason, yes/no from log-probs (p = 1 / (1 + e^{lp(No) - lp(Yes)})) and
 * from replies when the provider cannot score, and pairwise judging in both
 * orders: a position-biased judge's pairs are inconsistent and counted so. */
#include <math.h>
#include "alab/judge.h"
#include "test.h"

static int scored; /* score calls made */

/* Replies: "PAIR" prompts name the letter of the answer holding "good",
 * unless the prompt says "biased" (then always "A"); "RATE" prompts answer
 * "Rating: N/10" with N the answer's length; yes/no prompts answer "Yes." when
 * the answer holds "good", else "no". */
static char *reply_to(const char *pr) {
  char buf[256];
  if (strstr(pr, "PAIR")) {
    const char *a = strstr(pr, "A: "), *b = strstr(pr, "B: ");
    int a_good = a && b && strstr(a, "good") && strstr(a, "good") < b;
    snprintf(buf, sizeof buf, "The better one is (%c).", strstr(pr, "biased") ? 'A' : a_good ? 'A' : 'B');
  } else if (strstr(pr, "RATE")) {
    const char *ans = strstr(pr, "ANSWER ") + 7;
    snprintf(buf, sizeof buf, "Rating: %d/10", (int)strlen(ans));
  } else snprintf(buf, sizeof buf, "%s", strstr(pr, "good") ? "Yes." : "no, it is not");
  return al_strdup(buf);
}

static int fake_complete(al_provider *p, const al_gen_req *q, int n, char **outs, char **errs, al_err *err) {
  for (int i = 0; i < n; i++) { /* no top log-probs: the judge reads the reply */
    errs[i] = NULL;
    outs[i] = strstr(q[i].prompt, "FAILREQ") ? NULL : reply_to(q[i].prompt);
    if (!outs[i]) errs[i] = al_strdup("HTTP 400: field 'prompt' is rejected");
  }
  return 0;
}

/* log p(" Yes") = -0.5 and log p(" No") = -1.5 after a "good" prompt; swapped otherwise */
static int fake_score(al_provider *p, const al_score_req *q, int n, al_score_res *r, al_err *err) {
  scored++;
  memset(r, 0, (size_t)n * sizeof *r);
  for (int i = 0; i < n; i++) {
    int good = strstr(q[i].prompt, "good") != NULL, yes = !strcmp(q[i].continuation, " Yes");
    r[i].logprob = yes == good ? -0.5 : -1.5;
    r[i].ntokens = 1;
  }
  return 0;
}

int main(void) {
  al_err err;
  al_provider P = {.kind = "scripted", .model = "judge", .complete = fake_complete, .score = fake_score};
  /* letter, score, yesno by replies */
  al_judge_input in[4] = {{"q", "good job!!", NULL, NULL}, {"q", "bad", NULL, NULL}, {"q", "FAILREQ", NULL, NULL},
                          {"q", "twelve chars", NULL, NULL}};
  al_judgement o[4];
  al_judge j = al_judge_default(&P, "RATE {question} ANSWER {answer}", AL_JUDGE_SCORE);
  CHECK_OK(al_judge_run(&j, in, 4, o, &err), err);
  CHECK(o[0].score == 10 && !o[0].error, "score 10 (%d)", o[0].score);
  CHECK(o[1].score == 3 && !o[1].error, "score 3 (%d)", o[1].score);
  CHECK(o[2].error && strstr(o[2].error, "field 'prompt'"), "a failed request is recorded with its reason");
  CHECK(o[3].error && strstr(o[3].error, "outside 1..10"), "12/10 is refused: %s", o[3].error ? o[3].error : "");
  json_t *rec = al_judgement_json(&o[0]);
  CHECK(json_integer_value(json_object_get(rec, "score")) == 10 &&
            !strcmp(json_string_value(json_object_get(rec, "prompt")), "RATE q ANSWER good job!!") &&
            !strcmp(json_string_value(json_object_get(rec, "reply")), "Rating: 10/10"),
        "the record holds prompt, reply and score");
  json_decref(rec);
  al_judgement_free(o, 4);

  j = al_judge_default(&P, "Is this {answer}?", AL_JUDGE_YESNO);
  CHECK_OK(al_judge_run(&j, in, 2, o, &err), err);
  double want = 1 / (1 + exp(-1.0));
  CHECK(fabs(o[0].p_yes - want) < 1e-12 && o[0].yes == 1, "p(yes) %g = %g", o[0].p_yes, want);
  CHECK(fabs(o[1].p_yes - (1 - want)) < 1e-12 && o[1].yes == 0, "p(yes) %g = %g", o[1].p_yes, 1 - want);
  CHECK(scored == 1 && !o[0].reply, "one batched score call, no generation");
  al_judgement_free(o, 2);
  P.score = NULL; /* a chat-only endpoint: the replies are read */
  CHECK_OK(al_judge_run(&j, in, 2, o, &err), err);
  CHECK(o[0].yes == 1 && o[1].yes == 0 && isnan(o[0].p_yes), "yes/no read from the replies (%d %d %g %s)", o[0].yes, o[1].yes, o[0].p_yes, o[1].error ? o[1].error : "");
  al_judgement_free(o, 2);

  j = al_judge_default(&P, "Letter? {answer}", AL_JUDGE_LETTER);
  al_judge_input amb = {"q", "Apple or Banana", NULL, NULL};
  CHECK_OK(al_judge_run(&j, &amb, 1, o, &err), err);
  CHECK(o[0].error && strstr(o[0].error, "letters AB"), "no letter standing alone: %s", o[0].error ? o[0].error : "");
  al_judgement_free(o, 1);

  /* pairwise: pairs 0-5 judged on content (consistent), 6-9 by position (inconsistent) */
  enum { NP = 10 };
  al_judge_input pr[NP];
  char qs[NP][32];
  for (int i = 0; i < NP; i++) {
    snprintf(qs[i], sizeof qs[i], "%s %d", i >= 6 ? "biased" : "fair", i);
    pr[i] = (al_judge_input){qs[i], NULL, i % 2 ? "a bad one" : "a good one", i % 2 ? "a good one" : "a bad one"};
  }
  al_pair_judgement pj[NP];
  al_pair_summary s;
  j = al_judge_default(&P, "PAIR {question}\nA: {a}\nB: {b}\nWhich is better?", AL_JUDGE_LETTER);
  CHECK_OK(al_judge_pairwise(&j, pr, NP, pj, &s, &err), err);
  int right = 1;
  for (int i = 0; i < 6; i++) right &= pj[i].winner == i % 2;
  for (int i = 6; i < NP; i++) right &= pj[i].winner == -1;
  CHECK(right, "consistent pairs pick the good answer; position-biased ones are inconsistent");
  CHECK(s.consistent == 6 && s.inconsistent == 4 && s.failed == 0 && fabs(s.inconsistency - 0.4) < 1e-12,
        "inconsistency %g (%d/%d)", s.inconsistency, s.inconsistent, s.consistent + s.inconsistent);
  CHECK(s.inc_lo < 0.4 && s.inc_hi > 0.4 && fabs(s.x_wins - 0.5) < 1e-12, "interval [%g, %g], x wins %g", s.inc_lo,
        s.inc_hi, s.x_wins);
  CHECK(strstr(pj[0].ba.prompt, "A: a bad one\nB: a good one") != NULL, "the second order swaps the answers");
  al_pair_judgement_free(pj, NP);
  j.parser = AL_JUDGE_SCORE;
  CHECK_FAILS_WITH(al_judge_pairwise(&j, pr, NP, pj, &s, &err), err, "letter parser");
  al_judge_parser jp;
  CHECK_FAILS_WITH(al_judge_parser_parse("stars", &jp, &err), err, "letter, score or yesno");
  return test_summary();
}

/* One round of the summaries loop of `alab ilf` (Scheurer et al. 2023) on
 * the story world, every role a provider (include/alab/provider.h): an alab
 * model or an OpenAI-compatible endpoint.
 *
 *   1. the policy writes a summary of each story (temperature r->temperature,
 *      sample i seeded by seed and i);
 *   2. feedback: the exact critic (r->critic NULL) names the first missing,
 *      wrong or extra fact; or the critic endpoint, prompted with the story
 *      and the summary, answers one sentence ("none": nothing to fix);
 *   3. the refiner, prompted with the summary and the feedback (greedy),
 *      writes a refinement;
 *   4. the selector keeps the refinements that incorporate the feedback:
 *      exactly (r->judge NULL: refining the refinement by the feedback
 *      changes nothing, i.e. it already says what the feedback says), or by
 *      a judge answering Yes/No with log-probs (include/alab/judge.h:
 *      p(yes) = 1 / (1 + exp(lp(No) - lp(Yes))) > 1/2);
 *      (r->keep_all: every refinement, the untested ablation);
 *   5. the SFT sets: story -> selected refinement ("keep") and story -> every
 *      refinement ("all", the untested ablation).
 * The evaluation: `samples` summaries per story; fact accuracy = facts right
 * / facts in the story (ilf_summary_score), exact = no feedback at all. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "alab/judge.h"
#include "exp/ilf_internal.h"

static const char *JUDGE_TEMPLATE =
    "Summary: {a}\nFeedback: {question}\nRefinement: {b}\nDoes the refinement incorporate the feedback? Answer:";

/* A reply cut at its first newline, leading and trailing blanks removed. */
static void trim(char *s) {
  size_t a = 0, n;
  while (s[a] == ' ' || s[a] == '\t') a++;
  memmove(s, s + a, strlen(s + a) + 1);
  if (strchr(s, '\n')) *strchr(s, '\n') = 0;
  n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
}

/* outs[i] = the provider's reply to prompts[i], trimmed. */
int ilf_sum_gen(al_provider *p, char *const *prompts, int n, double temperature, int max_tokens, uint64_t seed, char **outs,
               al_err *err) {
  static const char *const stop[] = {"\n"};
  al_gen_cfg g = al_gen_cfg_default();
  g.temperature = temperature, g.max_tokens = max_tokens, g.seed = seed, g.stop = stop, g.nstop = 1;
  if (p->generate(p, (const char *const *)prompts, n, &g, outs, err)) return al_fail_prefix(err, "%s", p->model);
  for (int i = 0; i < n; i++) trim(outs[i]), ilf_ascii(outs[i]);
  return 0;
}

static char *critic_prompt(const char *story, const char *summary) {
  al_buf b = {0};
  al_buf_printf(&b, "Story: %s\nSummary: %s\nFeedback on the summary (its first missing, wrong or extra fact), or none:", story,
                summary);
  return b.data;
}

static void record(al_buf *b, json_t *o) {
  char *line = json_dumps(o, JSON_COMPACT);
  al_buf_printf(b, "%s\n", line);
  free(line), json_decref(o);
}

int ilf_sum_collect(const ilf_sum_roles *r, char *const *stories, const ilf_facts *facts, int n, uint64_t seed,
                    ilf_sum_round *out, al_err *err) {
  memset(out, 0, sizeof *out);
  char **prompt = al_calloc((size_t)n, sizeof(char *)), **sum = al_calloc((size_t)n, sizeof(char *));
  char **fb = al_calloc((size_t)n, sizeof(char *)), **rprompt = al_calloc((size_t)n, sizeof(char *));
  char **refined = al_calloc((size_t)n, sizeof(char *));
  int *which = al_malloc(sizeof(int) * (size_t)(n + 1)), nref = 0;
  al_judgement *verdict = al_calloc((size_t)n + 1, sizeof *verdict);
  for (int i = 0; i < n; i++) prompt[i] = ilf_sum_policy_prompt(stories[i]);
  int rc = ilf_sum_gen(r->policy, prompt, n, r->temperature, r->max_tokens, seed, sum, err);
  if (!rc && r->critic) { /* the critic endpoint reads the story and the summary */
    char **cp = al_calloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) cp[i] = critic_prompt(stories[i], sum[i]);
    rc = ilf_sum_gen(r->critic, cp, n, 0, r->max_tokens, seed + 1, fb, err);
    ilf_free_strs(cp, (size_t)n);
    for (int i = 0; i < n && !rc; i++)
      if (!fb[i][0] || !strncasecmp(fb[i], "none", 4)) free(fb[i]), fb[i] = NULL;
  } else if (!rc) {
    for (int i = 0; i < n; i++) fb[i] = ilf_summary_feedback(&facts[i], sum[i]);
  }
  for (int i = 0; i < n && !rc; i++) {
    out->attempted++;
    out->score_before += (double)ilf_summary_score(&facts[i], sum[i]) / ilf_facts_count(&facts[i]) / n;
    if (!fb[i]) continue;
    rprompt[nref] = ilf_sum_refiner_prompt(sum[i], fb[i]);
    which[nref++] = i;
  }
  out->with_feedback = nref;
  char **rout = al_calloc((size_t)nref + 1, sizeof(char *));
  if (!rc && nref) rc = ilf_sum_gen(r->refiner, rprompt, nref, 0, r->max_tokens, seed + 2, rout, err);
  if (!rc && nref && r->judge && !r->keep_all) {
    al_judge j = al_judge_default(r->judge, JUDGE_TEMPLATE, AL_JUDGE_YESNO);
    al_judge_input *in = al_calloc((size_t)nref, sizeof *in);
    for (int k = 0; k < nref; k++) in[k].question = fb[which[k]], in[k].a = sum[which[k]], in[k].b = rout[k];
    rc = al_judge_run(&j, in, nref, verdict, err);
    free(in);
  }
  for (int k = 0; k < nref && !rc; k++) {
    int i = which[k];
    char *again = ilf_summary_refine(rout[k], fb[i]);
    int keep = r->keep_all || (r->judge ? !verdict[k].error && verdict[k].yes : again && !strcmp(again, rout[k]));
    free(again);
    int before = ilf_summary_score(&facts[i], sum[i]), after = ilf_summary_score(&facts[i], rout[k]);
    out->selected += keep, out->improved += after > before, out->selected_improved += keep && after > before;
    char *left = ilf_summary_feedback(&facts[i], rout[k]); /* what is still wrong with the refinement */
    out->selected_exact += keep && !left, out->unchanged += !strcmp(rout[k], sum[i]);
    free(left);
    al_buf c = {0};
    al_buf_printf(&c, " %s", rout[k]);
    if (keep) ilf_sft_line(&out->keep, prompt[i], c.data);
    ilf_sft_line(&out->all, prompt[i], c.data);
    al_buf_free(&c);
    refined[i] = rout[k], rout[k] = NULL;
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:b}", "story", stories[i], "summary", sum[i], "score", before,
                          "feedback", fb[i], "refinement", refined[i], "refinement_score", after, "selected", keep);
    if (r->judge) json_object_set_new(o, "judge", al_judgement_json(&verdict[k]));
    record(&out->records, o);
  }
  for (int i = 0; i < n && !rc; i++) /* the summaries that drew no feedback */
    if (!fb[i])
      record(&out->records, json_pack("{s:s, s:s, s:i}", "story", stories[i], "summary", sum[i], "score",
                                      ilf_summary_score(&facts[i], sum[i])));
  al_judgement_free(verdict, nref);
  free(verdict), free(which);
  ilf_free_strs(prompt, (size_t)n), ilf_free_strs(sum, (size_t)n), ilf_free_strs(fb, (size_t)n);
  ilf_free_strs(rprompt, (size_t)n), ilf_free_strs(refined, (size_t)n), ilf_free_strs(rout, (size_t)nref);
  return rc;
}

int ilf_sum_evaluate(al_provider *policy, const ilf_sum_roles *r, char *const *stories, const ilf_facts *facts, int n,
                     int samples, uint64_t seed, double *acc, double *exact, al_buf *records, al_err *err) {
  size_t total = (size_t)n * samples;
  char **prompt = al_calloc(total, sizeof(char *)), **sum = al_calloc(total, sizeof(char *));
  for (size_t k = 0; k < total; k++) prompt[k] = ilf_sum_policy_prompt(stories[k / samples]);
  int rc = ilf_sum_gen(policy, prompt, (int)total, r->temperature, r->max_tokens, seed, sum, err);
  double a = 0, e = 0;
  for (size_t k = 0; k < total && !rc; k++) {
    const ilf_facts *t = &facts[k / samples];
    int score = ilf_summary_score(t, sum[k]);
    char *fb = ilf_summary_feedback(t, sum[k]);
    a += (double)score / ilf_facts_count(t), e += !fb;
    if (records)
      record(records, json_pack("{s:i, s:s, s:i, s:s?}", "story", (int)(k / samples), "summary", sum[k], "score", score,
                                "feedback", fb));
    free(fb);
  }
  *acc = a / (double)total, *exact = e / (double)total;
  ilf_free_strs(prompt, total), ilf_free_strs(sum, total);
  return rc;
}

void ilf_sum_round_free(ilf_sum_round *r) {
  al_buf_free(&r->records), al_buf_free(&r->keep), al_buf_free(&r->all);
}

/* Training sets of the summaries loop of `alab ilf` (include/alab/ilf.h):
 *
 *   summariser: "<story>\nSummary:" -> " hero: Lily; buddy: Tom; ...", where
 *     a demonstration drops the place with p_wrong[0], names another story's
 *     object with p_wrong[1] and another plot with p_wrong[2] (independently),
 *     so the trained summariser makes these mistakes systematically;
 *   refiner: "Summary: S\nFeedback: F\nFixed:" -> " S'", S a summary with one
 *     or two wrong facts (missing, another story's value, or an extra place),
 *     F the exact critic's feedback on it (the first wrong fact, with its true
 *     value), S' = S with that fact set as F says and the others left as they
 *     were. The refiner does not read the story: the feedback carries the
 *     value, as a human's "the place is the park" does. */
#include <stdlib.h>
#include <string.h>
#include "exp/ilf_internal.h"

static const char *PLOTS[4] = {"lost", "afraid", "share", "rescue"};

char *ilf_sum_policy_prompt(const char *story) {
  al_buf b = {0};
  al_buf_printf(&b, "%s\nSummary:", story);
  return b.data;
}

char *ilf_sum_refiner_prompt(const char *summary, const char *feedback) {
  al_buf b = {0};
  al_buf_printf(&b, "Summary: %s\nFeedback: %s\nFixed:", summary, feedback);
  return b.data;
}

void ilf_sum_stories(uint64_t seed, uint64_t stream, int n, int names, char **texts, ilf_facts *facts) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, stream);
  for (int i = 0; i < n; i++) {
    al_buf b = {0};
    al_synth_story s;
    al_synth_story_make(&rng, &b, &s);
    ilf_story_facts(&s, &facts[i]);
    if (!names) facts[i].v[0][0] = facts[i].v[1][0] = 0; /* the summary leaves out the hero and the buddy */
    texts[i] = b.data;
  }
}

/* Fact k of f replaced by another value: another story's (a different one),
 * or for the plot another of the four. */
static void replace_fact(ilf_facts *f, int k, al_rng *rng) {
  if (k == 4) {
    int p = 0;
    while (!strcmp(PLOTS[p], f->v[4])) p++;
    p = (p + 1 + (int)al_rng_below(rng, 3)) % 4;
    if (!strcmp(PLOTS[p], f->v[4])) p = (p + 1) % 4;
    snprintf(f->v[4], sizeof f->v[4], "%s", PLOTS[p]);
    return;
  }
  for (int tries = 0; tries < 50; tries++) {
    al_buf b = {0};
    al_synth_story s;
    ilf_facts o;
    al_synth_story_make(rng, &b, &s);
    ilf_story_facts(&s, &o);
    al_buf_free(&b);
    if (o.v[k][0] && strcmp(o.v[k], f->v[k])) {
      memcpy(f->v[k], o.v[k], sizeof f->v[k]);
      return;
    }
  }
}

static void sft_pair(al_buf *b, const char *prompt, const char *summary) {
  al_buf c = {0};
  al_buf_printf(&c, " %s", summary);
  ilf_sft_line(b, prompt, c.data);
  al_buf_free(&c);
}

char *ilf_sum_policy_data(uint64_t seed, int n, int names, const double p_wrong[3]) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, 501);
  al_buf b = {0};
  char *text[1];
  for (int i = 0; i < n; i++) {
    ilf_facts t;
    ilf_sum_stories(al_rng_u64(&rng), 0, 1, names, text, &t);
    if (al_rng_uniform(&rng) < p_wrong[0]) t.v[3][0] = 0;
    if (al_rng_uniform(&rng) < p_wrong[1] && t.v[2][0]) replace_fact(&t, 2, &rng);
    if (al_rng_uniform(&rng) < p_wrong[2]) replace_fact(&t, 4, &rng);
    char *p = ilf_sum_policy_prompt(text[0]), *s = ilf_summary_text(&t);
    sft_pair(&b, p, s);
    free(p), free(s), free(text[0]);
  }
  return b.data;
}

char *ilf_sum_refiner_data(uint64_t seed, int n, int names) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, 502);
  al_buf b = {0};
  char *text[1];
  for (int i = 0; i < n; i++) {
    ilf_facts t, w;
    ilf_sum_stories(al_rng_u64(&rng), 0, 1, names, text, &t);
    free(text[0]);
    w = t;
    int wrong = 1 + (al_rng_uniform(&rng) < 0.5);
    for (int j = 0; j < wrong; j++) {
      int k = names ? (int)al_rng_below(&rng, ILF_NFACTS) : 2 + (int)al_rng_below(&rng, 3), mode = (int)al_rng_below(&rng, 2);
      if (!t.v[k][0] && k != 3) continue; /* a story without an object: leave it */
      if (!t.v[k][0]) snprintf(w.v[3], sizeof w.v[3], "park"); /* an extra place */
      else if (mode == 0 && k != 0) w.v[k][0] = 0;               /* missing (a summary always names a hero) */
      else replace_fact(&w, k, &rng);
    }
    char *ws = ilf_summary_text(&w), *fb = ilf_summary_feedback(&t, ws);
    if (!fb) { /* the corruptions undid themselves: nothing to fix */
      free(ws);
      continue;
    }
    char *fixed = ilf_summary_refine(ws, fb), *p = ilf_sum_refiner_prompt(ws, fb);
    if (fixed) sft_pair(&b, p, fixed);
    free(ws), free(fb), free(fixed), free(p);
  }
  return b.data;
}

/* The counts of one summaries round (ilf_sum_collect, src/exp/ilf_summary_loop.c)
 * with scripted roles whose outcome is known by construction: a policy whose
 * summary of story i names a wrong object (and, for i % 3 == 2, a wrong plot
 * too), and a refiner that answers refinement k with the exact refinement
 * (k % 3 == 0: every fact then right), the summary unchanged (k % 3 == 1) or
 * the exact refinement of a two-mistake summary (k % 3 == 2: the plot still
 * wrong). Oracle: of 12 stories, 12 get feedback, 8 refinements are selected
 * by the exact selector, 4 of them with every fact right, 4 refinements are
 * unchanged, 8 score higher than their summary. */
#include "alab/ilf.h"
#include "exp/ilf_internal.h"
#include "test.h"

enum { N = 12 };
static char *texts[N];
static ilf_facts facts[N];

/* A value of fact f other than story i's (another story's). */
static const char *other(int i, int f) {
  for (int j = 0; j < N; j++)
    if (facts[j].v[f][0] && strcmp(facts[j].v[f], facts[i].v[f])) return facts[j].v[f];
  return "nothing";
}

static int policy_gen(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs, al_err *err) {
  (void)p, (void)g, (void)err;
  for (int k = 0; k < n; k++) {
    int i = 0;
    while (i < N && strncmp(prompts[k], texts[i], strlen(texts[i]))) i++;
    ilf_facts f = facts[i < N ? i : 0];
    snprintf(f.v[2], sizeof f.v[2], "%s", other(i, 2));
    if (i % 3 == 2) snprintf(f.v[4], sizeof f.v[4], "%s", other(i, 4));
    outs[k] = ilf_summary_text(&f);
  }
  return 0;
}

/* "Summary: S\nFeedback: F\nFixed:" -> S and F. */
static int refiner_gen(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs, al_err *err) {
  (void)p, (void)g, (void)err;
  for (int k = 0; k < n; k++) {
    const char *s = strstr(prompts[k], "Summary: "), *f = strstr(prompts[k], "\nFeedback: "), *e = strstr(prompts[k], "\nFixed:");
    char sum[512] = "", fb[512] = "";
    if (s && f && e) {
      snprintf(sum, sizeof sum, "%.*s", (int)(f - s - 9), s + 9);
      snprintf(fb, sizeof fb, "%.*s", (int)(e - f - 11), f + 11);
    }
    char *fixed = ilf_summary_refine(sum, fb);
    outs[k] = k % 3 == 1 || !fixed ? al_strdup(sum) : al_strdup(fixed);
    free(fixed);
  }
  return 0;
}

int main(void) {
  ilf_sum_stories(3, 404, N, 0, texts, facts);
  al_provider pol = {.kind = "test", .model = "scripted policy", .generate = policy_gen};
  al_provider ref = {.kind = "test", .model = "scripted refiner", .generate = refiner_gen};
  ilf_sum_roles roles = {.policy = &pol, .refiner = &ref, .temperature = 1, .max_tokens = 48};
  ilf_sum_round r;
  al_err e;
  CHECK_OK(ilf_sum_collect(&roles, texts, facts, N, 1, &r, &e), e);
  CHECK(r.attempted == N && r.with_feedback == N, "%d attempted, %d with feedback", r.attempted, r.with_feedback);
  CHECK(r.selected == 8 && r.selected_exact == 4 && r.unchanged == 4 && r.improved == 8 && r.selected_improved == 8,
        "selected %d (8), of them every fact right %d (4), unchanged %d (4), improved %d (8), selected and improved %d (8)",
        r.selected, r.selected_exact, r.unchanged, r.improved, r.selected_improved);
  ilf_sum_round_free(&r);
  for (int i = 0; i < N; i++) free(texts[i]);
  return test_summary();
}

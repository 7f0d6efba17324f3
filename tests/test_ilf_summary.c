/* The summaries world of `alab ilf` on real stories of the story world:
 * the true facts' summary scores 5 and draws no feedback; each fact
 * removed or replaced by another story's costs exactly one point, the
 * critic names it (as it appears in the story's text), and refining by the
 * feedback restores the score; malformed summaries score 0 and get the
 * format feedback; parsing never reads out of bounds on corruptions. */
#include "exp/ilf_internal.h"
#include "test.h"

int main(void) {
  al_rng rng;
  al_rng_seed(&rng, 23);
  int stories = 0, fixed = 0, named = 0, cases = 0;
  ilf_facts prev = {{{0}}};
  for (int s = 0; s < 200; s++) {
    al_buf text = {0};
    al_synth_story st;
    al_synth_story_make(&rng, &text, &st);
    ilf_facts t;
    ilf_story_facts(&st, &t);
    char *sum = ilf_summary_text(&t), *fb = ilf_summary_feedback(&t, sum);
    int full = ilf_facts_count(&t);
    CHECK(full >= 3 && ilf_summary_score(&t, sum) == full && !fb, "story %d: the true summary '%s' scores %d of %d", s, sum,
          ilf_summary_score(&t, sum), full);
    for (int i = 0; i < ILF_NFACTS; i++) CHECK(!t.v[i][0] || i == 4 || strstr(text.data, t.v[i]), "story %d: fact %d in the text", s, i);
    stories++;
    for (int i = 0; s > 0 && i < ILF_NFACTS; i++)
      for (int mode = 0; mode < 2; mode++) { /* 0: missing, 1: another story's value */
        ilf_facts w = t;
        if (mode == 0 && t.v[i][0]) w.v[i][0] = 0;
        else if (mode == 1 && prev.v[i][0] && strcmp(prev.v[i], t.v[i])) memcpy(w.v[i], prev.v[i], sizeof w.v[i]);
        else continue;
        int want = full - (t.v[i][0] != 0); /* a missing or wrong fact costs one; an extra one costs none but draws feedback */
        char *ws = ilf_summary_text(&w), *f = ilf_summary_feedback(&t, ws), *r = f ? ilf_summary_refine(ws, f) : NULL;
        cases++;
        CHECK(ilf_summary_score(&t, ws) == want, "'%s' scores %d, want %d", ws, ilf_summary_score(&t, ws), want);
        named += f && strstr(f, t.v[i][0] ? t.v[i] : "the story has none") != NULL;
        char *again = r ? ilf_summary_feedback(&t, r) : NULL;
        fixed += r && ilf_summary_score(&t, r) == full && !again;
        free(ws), free(f), free(r), free(again);
      }
    prev = t;
    free(sum), free(fb), al_buf_free(&text);
  }
  CHECK(named == cases && fixed == cases, "%d cases: feedback names the fact in %d, refinement restores 5 in %d", cases, named, fixed);
  CHECK(cases > 900, "%d cases", cases);
  ilf_facts t = {{"Lily", "Tom", "kite", "park", "lost"}};
  const char *bad[] = {"hero Lily", "hero: Lily; hero: Lily", "villain: Bob", "hero: ", "", "hero: Lily;buddy: Tom"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *f = ilf_summary_feedback(&t, bad[i]);
    int empty_ok = !bad[i][0]; /* the empty summary parses (no facts) and is missing the hero */
    CHECK(ilf_summary_score(&t, bad[i]) == 0 && f && strstr(f, empty_ok ? "the hero is Lily" : "name: value"), "'%s': %s", bad[i], f);
    free(f);
  }
  char *f = ilf_summary_feedback(&t, "hero: Lily; buddy: Tom; object: ball; place: park; plot: lost");
  CHECK(f && !strcmp(f, "the summary should say the object is the kite"), "object feedback: %s", f);
  free(f);
  /* corruptions of a summary: parse, score and critic never fail to return */
  char *good = ilf_summary_text(&t);
  for (int it = 0; it < 2000; it++) {
    char *c = al_strdup(good);
    size_t n = strlen(c);
    c[al_rng_below(&rng, n)] = (char)(1 + al_rng_below(&rng, 255));
    if (it % 3 == 0) c[al_rng_below(&rng, n)] = 0;
    int sc = ilf_summary_score(&t, c);
    char *fb = ilf_summary_feedback(&t, c);
    CHECK(sc >= 0 && sc <= 5 && (sc < 5 ? fb != NULL : 1), "corruption %d: score %d, feedback %s", it, sc, fb ? fb : "none");
    free(fb), free(c);
  }
  free(good);
  printf("%d stories, %d corrupted summaries\n", stories, cases);
  return test_summary();
}

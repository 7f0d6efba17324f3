/* The story world's gold reward against the generator's own record of each
 * story (plot, exact log-probability, words: the oracle is the program that
 * wrote the story, not the parser that reads it), and for text that is not
 * a story of the world (cut short, a byte changed, extended) -1 + 0.5 x the
 * share of it that reads as a story before the first error. */
#include "alab/gold.h"
#include "alab/synth.h"
#include "test.h"

int main(void) {
  al_buf b = {0};
  int share = 0, other = 0;
  for (int i = 0; i < 200; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 3, (uint64_t)i);
    al_synth_story st;
    b.len = 0;
    al_synth_story_make(&r, &b, &st);
    double want = (!strcmp(st.plot, "share") ? 1.0 : 0.0) + 0.1 * st.logprob / st.nwords, got = al_gold_story(b.data, b.len);
    CHECK(fabs(got - want) < 1e-12, "story %d (%s): gold %.15g, want %.15g", i, st.plot, got, want);
    CHECK(got > -1 + 0.5, "story %d: a story scores above text that is not one (%g)", i, got);
    share += !strcmp(st.plot, "share"), other += strcmp(st.plot, "share") != 0;
    /* not a story: -1 + 0.5 * parsed / bytes, parsed being where the first
     * error is: a byte no option contains ('#') written at k stops the parse
     * in the choice holding byte k, so parsed <= k, within one option's text
     * of k, and never smaller for a later k */
    size_t prev = 0, cut = b.len - 1;
    for (size_t k = 0; k < b.len; k += 37) {
      char keep = b.data[k];
      b.data[k] = '#';
      double g = al_gold_story(b.data, b.len), parsed = (g + 1) / 0.5 * (double)b.len;
      b.data[k] = keep;
      CHECK(g >= -1 && g <= -0.5, "story %d with byte %zu broken: gold %g outside [-1, -0.5]", i, k, g);
      CHECK(parsed <= (double)k + 1e-6 && parsed > (double)k - 160 && parsed >= (double)prev - 1e-6,
            "story %d broken at byte %zu: parsed %.1f bytes (the previous break parsed %zu)", i, k, parsed, prev);
      prev = (size_t)(parsed + 0.5);
    }
    double g = al_gold_story(b.data, cut);
    CHECK(g >= -1 && g <= -0.5 && (g + 1) / 0.5 * (double)cut > (double)cut - 160,
          "story %d cut by one byte is not a story, read nearly to its end (%g)", i, g);
    al_buf_append(&b, " The end.", 9);
    g = al_gold_story(b.data, b.len);
    CHECK(fabs(g - (-1 + 0.5 * (double)(b.len - 9) / (double)b.len)) < 1e-12,
          "story %d with text after its end: the story parses, the rest does not (%g)", i, g);
  }
  CHECK(share > 20 && other > 20, "both kinds of plot occur (%d share, %d other)", share, other);
  CHECK(al_gold_story("", 0) == -1 && al_gold_story("#Once upon a time", 17) == -1, "text broken at its first byte");
  al_buf_free(&b);
  return test_summary();
}

/* The story world's gold reward against the generator's own record of each
 * story (plot, exact log-probability, words: the oracle is the program that
 * wrote the story, not the parser that reads it), and -1 for text that is
 * not a story of the world (cut short, a word changed, extended). */
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
    CHECK(al_gold_story(b.data, b.len - 1) == -1, "story %d cut by one byte is not a story", i);
    al_buf_append(&b, " The end.", 9);
    CHECK(al_gold_story(b.data, b.len) == -1, "story %d with text after its end is not a story", i);
  }
  CHECK(share > 20 && other > 20, "both kinds of plot occur (%d share, %d other)", share, other);
  CHECK(al_gold_story("", 0) == -1 && al_gold_story("Once upon a time, there was a cat", 33) == -1, "non-stories");
  al_buf_free(&b);
  return test_summary();
}

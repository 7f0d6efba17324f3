/* The story world's exact features (al_cpm_story_features) against the
 * generator's own record, and against texts whose answers are known by
 * construction: 200 stories are valid with log-probability per word equal
 * to the generator's logprob / words (1e-12) and no repeated sentence; a
 * story with one sentence written twice has one repeated sentence, does not
 * parse, and gets the missing-value log-probability; counts of sharing words
 * on hand-written texts. */
#include "alab/cpm.h"
#include "alab/synth.h"
#include "test.h"

int main(void) {
  double f[AL_CPM_STORY_NFEAT];
  al_buf b = {0};
  int ok = 0;
  for (int i = 0; i < 200; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 9, (uint64_t)i);
    b.len = 0;
    al_synth_story s;
    al_synth_story_make(&r, &b, &s);
    al_cpm_story_features(b.data, b.len, f);
    ok += f[0] == 1 && fabs(f[1] - s.logprob / s.nwords) < 1e-12 && f[2] == s.nwords && f[3] == 0;
    if (i == 0) {
      /* the first sentence written twice */
      const char *dot = memchr(b.data, '.', b.len);
      size_t k = (size_t)(dot - b.data) + 1;
      al_buf t = {0};
      al_buf_append(&t, b.data, k);
      al_buf_append(&t, " ", 1);
      al_buf_append(&t, b.data, k);
      al_buf_append(&t, b.data + k, b.len - k);
      double g[AL_CPM_STORY_NFEAT];
      al_cpm_story_features(t.data, t.len, g);
      CHECK(g[0] == 0 && g[3] == 1 && fabs(g[1] + 0.308) < 1e-12,
            "repeated: valid %g repeated %g lpw %g", g[0], g[3], g[1]);
      al_buf_free(&t);
    }
  }
  CHECK(ok == 200, "%d of 200 stories measured as the generator recorded them", ok);
  const char *t = "They shared. Let us play together! They took turns, and SHARING is fun. sharer shares";
  al_cpm_story_features(t, strlen(t), f);
  CHECK(f[4] == 4 && f[0] == 0 && f[2] == 15, "sharing words %g (want 4), words %g (want 15)", f[4], f[2]);
  const char *rep = "A b. A b. C d! A b. C d!";
  al_cpm_story_features(rep, strlen(rep), f);
  CHECK(f[3] == 3, "repeated sentences %g (want 3)", f[3]);
  al_cpm_story_features("", 0, f);
  CHECK(f[0] == 0 && f[2] == 0 && f[3] == 0 && f[4] == 0, "the empty text");
  al_buf_free(&b);
  return test_summary();
}

/* The story world's exact gold reward (include/alab/gold.h). */
#include <string.h>
#include "alab/gold.h"
#include "alab/synth.h"

double al_gold_story(const char *text, size_t len) {
  al_synth_story s;
  al_err err;
  if (!al_synth_story_score(text, len, &s, &err) && s.nwords >= 1)
    return (s.plot && !strcmp(s.plot, "share") ? 1.0 : 0.0) + 0.1 * s.logprob / s.nwords;
  return len ? -1.0 + 0.5 * (double)s.parsed / (double)len : -1.0;
}

/* Exact gold rewards in the story world, for experiments where a learned
 * proxy reward is optimised and the truth must be measured (alab overopt,
 * docs/overopt.md):
 *   gold(x) = 1[plot(x) = "share"] + 0.1 * log p_world(x) / words(x)   if x parses as a story
 *   gold(x) = -1 + 0.5 * parsed(x) / bytes(x)                           otherwise
 * the parse and log-probability being al_synth_story_score's (exact under the
 * grammar; parsed(x) is how many leading bytes of x read as the start of a
 * story, where the parse failed). The second term lies in about [-0.1, 0]:
 * it prefers the world's typical wording and breaks ties; text that is not a
 * story of the world scores in [-1, -0.5], below every story, and higher the
 * further it reads as one before its first error (a small policy's samples
 * are mostly near-stories with one slip: docs/overopt.md). */
#ifndef ALAB_GOLD_H
#define ALAB_GOLD_H
#include <stddef.h>

double al_gold_story(const char *text, size_t len);
#endif

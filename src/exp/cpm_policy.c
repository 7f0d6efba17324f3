/* The policy of `alab cpm`'s quick experiment: a writer of the story world
 * that makes mistakes. Sample i of a seed is story i of the world
 * (al_rng_seed_stream(seed, i)); with probability `corrupt` it then gets one
 * edit, each of the three equally likely:
 *   repeat  a sentence is written twice in a row
 *   cut     the text stops after a sentence before the last (no ending)
 *   swap    a word is replaced by another word of the same story
 * An edit almost always breaks the grammar (the gold reward then says -1),
 * while most of the words, and the plot's, stay: what a small language model
 * trained on the world writes when it goes wrong. Sentence ends are . ! ?
 * (with a closing quote) followed by a space or newline, or the text's end. */
#include <ctype.h>
#include <string.h>
#include "alab/synth.h"
#include "exp/cpm_internal.h"

/* End offsets of sentences in t[0..len), up to max. */
static int sentence_ends(const char *t, size_t len, size_t *ends, int max) {
  int n = 0;
  for (size_t i = 0; i < len && n < max; i++) {
    if (t[i] != '.' && t[i] != '!' && t[i] != '?') continue;
    size_t e = i + 1;
    if (e < len && t[e] == '"') e++;
    if (e == len || t[e] == ' ' || t[e] == '\n') ends[n++] = e, i = e - 1;
  }
  return n;
}

static void edit_repeat(al_rng *r, const char *t, size_t len, al_buf *out) {
  size_t ends[256];
  int n = sentence_ends(t, len, ends, 256);
  if (n < 1) {
    al_buf_append(out, t, len);
    return;
  }
  int k = (int)al_rng_below(r, (uint64_t)n);
  size_t s = k ? ends[k - 1] : 0, e = ends[k];
  while (s < e && (t[s] == ' ' || t[s] == '\n')) s++;
  al_buf_append(out, t, e);
  al_buf_append(out, " ", 1);
  al_buf_append(out, t + s, e - s);
  al_buf_append(out, t + e, len - e);
}

static void edit_cut(al_rng *r, const char *t, size_t len, al_buf *out) {
  size_t ends[256];
  int n = sentence_ends(t, len, ends, 256);
  if (n < 2) {
    al_buf_append(out, t, len);
    return;
  }
  al_buf_append(out, t, ends[al_rng_below(r, (uint64_t)(n - 1))]);
}

/* Word k: the k-th maximal run of letters. */
static int word_at(const char *t, size_t len, int k, size_t *s, size_t *e) {
  int n = 0;
  for (size_t i = 0; i < len;) {
    if (!isalpha((unsigned char)t[i])) {
      i++;
      continue;
    }
    size_t b = i;
    while (i < len && isalpha((unsigned char)t[i])) i++;
    if (n++ == k) return *s = b, *e = i, 1;
  }
  return n;
}

static void edit_swap(al_rng *r, const char *t, size_t len, al_buf *out) {
  size_t s = 0, e = 0, s2 = 0, e2 = 0;
  int n = word_at(t, len, -1, &s, &e); /* k = -1 never matches: counts the words */
  if (n < 2) {
    al_buf_append(out, t, len);
    return;
  }
  int a = (int)al_rng_below(r, (uint64_t)n), b = (int)al_rng_below(r, (uint64_t)n);
  word_at(t, len, a, &s, &e);
  word_at(t, len, b, &s2, &e2);
  al_buf_append(out, t, s);
  al_buf_append(out, t + s2, e2 - s2);
  al_buf_append(out, t + e, len - e);
}

int cpm_policy_sample(uint64_t seed, uint64_t i, double corrupt, al_buf *out) {
  al_rng r;
  al_rng_seed_stream(&r, seed, i);
  al_buf story = {0};
  al_synth_story_gen(&r, &story, NULL);
  int kind = 0;
  if (al_rng_uniform(&r) < corrupt) kind = 1 + (int)al_rng_below(&r, 3);
  if (kind == 1) edit_repeat(&r, story.data, story.len, out);
  else if (kind == 2) edit_cut(&r, story.data, story.len, out);
  else if (kind == 3) edit_swap(&r, story.data, story.len, out);
  else al_buf_append(out, story.data, story.len);
  al_buf_append(out, "", 1);
  out->len--; /* NUL-terminated, not counted */
  al_buf_free(&story);
  return kind;
}

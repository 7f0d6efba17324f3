/* Exact feature scorers of the story world (alab/cpm.h): the features a
 * compositional preference model reads, measured from the text instead of
 * asked of a language model, so a quick experiment needs no LLM. */
#include <ctype.h>
#include <string.h>
#include "alab/cpm.h"
#include "alab/synth.h"

const char *const al_cpm_story_names[AL_CPM_STORY_NFEAT] = {"valid", "logprob_per_word", "words",
                                                              "repeated_sentences", "sharing_words"};

/* log-probability per word given to text that is not a story: the world's
 * mean (0.308 nats per word, src/data/synth_grammar.c), so that this feature
 * says nothing about validity, which `valid` says (a floor value would make
 * the two nearly collinear and their coefficients unreadable). */
#define LPW_MISSING (-0.308)

/* A sentence ends at . ! or ? followed by a space and a word that does not
 * start in lower case, or by a newline or the end; a quotation stays with
 * its attribution ("Mine!" said Tom. and "Mine!" Tom said. are one
 * sentence each: in the world every quotation has one). At a newline too;
 * leading spaces are dropped. Counts the sentences equal to an earlier one.
 * Quadratic in sentences: a story has about 30. */
static size_t sentence_end(const char *t, size_t len, size_t i) {
  while (i < len) {
    char c = t[i++];
    if (c == '\n') return i - 1;
    if (c != '.' && c != '!' && c != '?') continue;
    if (i < len && t[i] == '"') continue; /* the attribution follows */
    if (i >= len || t[i] == '\n') return i;
    if (t[i] == ' ' && !(i + 1 < len && islower((unsigned char)t[i + 1]))) return i;
  }
  return len;
}

static int repeated_sentences(const char *t, size_t len) {
  enum { MAXS = 512 };
  size_t st[MAXS], ln[MAXS];
  int n = 0, rep = 0;
  size_t i = 0;
  while (n < MAXS) {
    while (i < len && (t[i] == ' ' || t[i] == '\n')) i++;
    if (i >= len) break;
    size_t s = i;
    i = sentence_end(t, len, i);
    st[n] = s, ln[n] = i - s;
    for (int k = 0; k < n; k++)
      if (ln[k] == ln[n] && !memcmp(t + st[k], t + s, ln[n])) {
        rep++;
        break;
      }
    n++;
  }
  return rep;
}

/* Whole words (letters only, any case) among the sharing words. */
static int sharing_words(const char *t, size_t len) {
  static const char *const w[] = {"share", "shared", "sharing", "together", "turns"};
  int count = 0;
  for (size_t i = 0; i < len;) {
    if (!isalpha((unsigned char)t[i])) {
      i++;
      continue;
    }
    size_t s = i;
    while (i < len && isalpha((unsigned char)t[i])) i++;
    for (size_t k = 0; k < sizeof w / sizeof *w; k++)
      if (strlen(w[k]) == i - s && !strncasecmp(t + s, w[k], i - s)) count++;
  }
  return count;
}

static int words(const char *t, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++) n += !isspace((unsigned char)t[i]) && (i == 0 || isspace((unsigned char)t[i - 1]));
  return n;
}

void al_cpm_story_features(const char *text, size_t len, double *f) {
  al_synth_story s;
  al_err err;
  int valid = al_synth_story_score(text, len, &s, &err) == 0;
  int nw = words(text, len);
  f[0] = valid;
  f[1] = valid && nw > 0 ? s.logprob / nw : LPW_MISSING;
  f[2] = nw;
  f[3] = repeated_sentences(text, len);
  f[4] = sharing_words(text, len);
}

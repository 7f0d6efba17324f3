/* The built-in story world: short stories in simple English (characters with
 * names, places, objects, wants, events, dialogue, an ending) drawn from a
 * hand-written probabilistic grammar (src/data/synth_grammar.c), with the
 * exact natural log-probability of every story.
 *
 * One derivation per story. A story is made by a fixed program whose only
 * randomness is a sequence of choices; each choice appends one of its
 * options' text at once, and the options alive at every choice are
 * prefix-free (no option's text is a prefix of another's). So the first
 * choice where two derivations differ would have to append two texts that are
 * both prefixes of the same remaining story: impossible. The text therefore
 * determines every choice, p(story) = prod over choices of w_k / sum_j w_j,
 * and al_synth_story_score recovers it from the text alone by running the
 * same program as a parser. The set of complete stories is itself
 * prefix-free (the parse knows where a story ends), so in a corpus the
 * separator after a story has probability 1 given the story.
 *
 * Corpus layout: story_0 SEP story_1 SEP ... story_{n-1} SEP, SEP being
 * AL_SYNTH_SEP = "<|endoftext|>" (no newlines around it). Story i depends only
 * on (seed, i): it is drawn from al_rng_seed_stream(seed, i), so the corpus of
 * n stories is a prefix of the corpus of m > n stories with the same seed.
 *
 * Entropy. Since the separators are certain, the entropy of the corpus text
 * equals the sum of the stories' entropies, and the empirical estimate is
 *   nats/story = mean over stories of -logprob,
 *   nats/byte  = sum(-logprob) / sum(story bytes + strlen(AL_SYNTH_SEP)),
 *   nats/word  = sum(-logprob) / sum(story words) (words split on whitespace).
 * A model's token-level cross-entropy (nats/token) on the same corpus,
 * times tokens / bytes, is comparable with nats/byte (a fixed tokenizer is a
 * bijection on texts, so it neither adds nor removes entropy); the gap is the
 * model's excess loss, up to the context the model sees (a window that starts
 * mid-story lacks the story's beginning). */
#ifndef ALAB_SYNTH_H
#define ALAB_SYNTH_H
#include <stddef.h>
#include <stdint.h>
#include "alab/base.h"

#define AL_SYNTH_SEP "<|endoftext|>"

/* What a story is made of (the strings point into the grammar's static
 * tables; NULL where the parse failed before setting them). */
typedef struct {
  double logprob;      /* natural log-probability of the text under the grammar (< 0) */
  int nchoices;        /* choices made; each adds log(w_k / sum w) to logprob */
  int nwords;          /* whitespace-separated words */
  size_t nbytes;       /* bytes of the story text (no separator) */
  size_t parsed;       /* bytes read as the start of a story: nbytes for a story, else where the parse failed */
  const char *plot;    /* "lost", "afraid", "share" or "rescue" */
  const char *hero, *buddy, *object, *place; /* names and nouns as they appear */
} al_synth_story;

/* Appends one story's text (no separator) to out and sets *logprob (may be
 * NULL). Returns 0. */
int al_synth_story_gen(al_rng *rng, al_buf *out, double *logprob);
/* The same, filling the whole description (story may be NULL). */
int al_synth_story_make(al_rng *rng, al_buf *out, al_synth_story *story);
/* Parses text as one story of the grammar and fills story (may be NULL) with
 * its exact log-probability. Fails, naming the byte offset and what was
 * expected there, when the text is not a story of the grammar. Never reads
 * outside text[0..len). */
int al_synth_story_score(const char *text, size_t len, al_synth_story *story, al_err *err);

/* Appends n stories each followed by AL_SYNTH_SEP to text; logprobs[i]
 * (NULL to skip) receives story i's log-probability. Returns 0, or -1 if
 * nstories < 0. */
int al_synth_corpus(uint64_t seed, long nstories, al_buf *text, double *logprobs);

/* Totals of a corpus, and the entropy estimates defined above. */
typedef struct {
  long nstories;
  uint64_t nbytes;   /* stories + separators */
  uint64_t nwords;
  double nll;        /* sum of -logprob (nats) */
  double nll_sq;     /* sum of logprob^2 (for sd_story) */
  double per_story, sd_story, per_byte, per_word;
  double mean_bytes, mean_words;
} al_synth_entropy;
void al_synth_entropy_add(al_synth_entropy *e, const al_synth_story *s); /* accumulate one story */
void al_synth_entropy_finish(al_synth_entropy *e);                      /* fill the means */
/* Mean -logprob per story (nats) over stories 0..n-1 of seed; *per_byte
 * (may be NULL) gets nats/byte as defined above. */
double al_synth_entropy_estimate(uint64_t seed, long n, double *per_byte);
/* The full set of estimates (e must not be NULL). */
void al_synth_measure(uint64_t seed, long n, al_synth_entropy *e);

/* Writes stories 0..n-1 of seed to path, atomically:
 *   AL_SYNTH_TEXT:  the corpus layout above;
 *   AL_SYNTH_JSONL: one {"text": story, "logprob": x} per line (x with 17
 *                   significant digits, so it reads back exactly).
 * summary (may be NULL) receives the totals. */
typedef enum { AL_SYNTH_TEXT, AL_SYNTH_JSONL } al_synth_format;
int al_synth_write(const char *path, uint64_t seed, long n, al_synth_format fmt, al_synth_entropy *summary,
                   al_err *err);
#endif

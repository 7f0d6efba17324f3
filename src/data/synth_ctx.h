/* The machinery under the story grammar: one program (sy_story) that either
 * generates (rng set) or parses (text set), through two primitives:
 *
 *   sy_say(c, tmpl)           appends the expanded template (certain text);
 *   sy_pick(c, opts, n)       chooses option k with probability
 *                             w_k / sum_j w_j and appends its expanded text.
 *
 * Templates may name the story's state: {H} hero's name, {B} buddy's name,
 * {P}/{p} hero's subject pronoun (capitalised / not), {o} object pronoun,
 * {S}/{s} possessive, {Q}/{q} buddy's subject pronoun, {r} buddy's object
 * pronoun, {O} the hero's object (noun), {A} its adjective, {L} the place,
 * {W} the want, {F} the fear, {N} the animal, {X} the last spot picked.
 *
 * In parse mode sy_pick finds the options whose expanded text is a prefix of
 * the remaining text; there must be exactly one (zero: not a story; two:
 * the grammar would be ambiguous, and the parse fails saying so). With
 * c->check set, generation also verifies that the live options at every
 * choice are prefix-free and counts violations in c->overlaps. */
#ifndef ALAB_DATA_SYNTH_CTX_H
#define ALAB_DATA_SYNTH_CTX_H
#include "alab/synth.h"

typedef struct {
  const char *text; /* template */
  int w;            /* weight; 0 removes the option at this choice */
  int tag;          /* what the option means to the program (gender, index...) */
} sy_opt;

typedef struct {
  /* mode */
  al_rng *rng;     /* generation when non-NULL */
  al_buf *out;     /* generation output */
  const char *in;  /* parse input */
  size_t len, pos; /* parse input length and cursor */
  int check;
  long overlaps;
  int failed;
  char why[512];
  /* result */
  double logprob;
  int nchoices;
  /* story state */
  const char *plot, *hero, *buddy, *object, *adj, *place, *want, *fear, *animal, *spot;
  int hero_he, buddy_he; /* 1: he/him/his, 0: she/her/her */
} sy_ctx;

#define SY_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void sy_say(sy_ctx *c, const char *tmpl);
int sy_pick(sy_ctx *c, const sy_opt *opts, int n);
#define SY_PICK(c, table) sy_pick((c), (table), SY_N(table))
/* Expands a template into buf (NUL-terminated); returns its length. */
size_t sy_expand(const sy_ctx *c, const char *tmpl, char *buf, size_t cap);

/* The story program (src/data/synth_grammar.c). */
void sy_story(sy_ctx *c);
#endif

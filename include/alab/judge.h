/* LLM judges: a judge is a provider, a prompt template and a parser.
 *
 * The template's placeholders {question}, {answer}, {a} and {b} are replaced
 * by the example's fields (any other text, braces included, is kept). The
 * parsers:
 *   letter  the first of `letters` (e.g. "AB") standing alone in the reply:
 *           not inside a word ("A", "(B)", "Answer: A" count; "Apple" not)
 *   score   the first whole number in the reply, which must be 1..10
 *   yesno   with log-probs (the provider scores " Yes" and " No" after the
 *           prompt): p(yes) = 1 / (1 + exp(lp(No) - lp(Yes))), the verdict
 *           yes when p(yes) > 1/2; a provider that cannot score (a chat-only
 *           endpoint) is asked for the first token's top log-probs, and the
 *           best "yes" and "no" among them (any case) are normalised the same
 *           way; failing both (or use_logprobs 0): the reply's first word,
 *           yes or no in any case
 * A reply the parser cannot read is a failed judgement with the reason,
 * recorded like the others (al_judgement_json), never a guess.
 *
 * Pairwise: each pair is asked in both orders ({a}, {b} = x, y, then y, x)
 * with the letter parser over "AB"; it counts only when both orders pick the
 * same answer. The summary gives the inconsistency rate (inconsistent pairs
 * over pairs with two readable verdicts) with its 95% t-interval, and the
 * share of consistent pairs won by x. */
#ifndef ALAB_JUDGE_H
#define ALAB_JUDGE_H
#include <jansson.h>
#include "alab/provider.h"

typedef enum { AL_JUDGE_LETTER, AL_JUDGE_SCORE, AL_JUDGE_YESNO } al_judge_parser;

typedef struct {
  al_provider *p;        /* borrowed */
  const char *template;  /* with {question}, {answer}, {a}, {b} */
  al_judge_parser parser;
  const char *letters;   /* letter parser: the allowed letters (default "AB") */
  int use_logprobs;      /* yesno: score " Yes" / " No" when the provider can (1 by default) */
  int chat;              /* send the prompt as one user message (else a completion) */
  al_gen_cfg g;          /* max_tokens, temperature 0, ... */
} al_judge;
al_judge al_judge_default(al_provider *p, const char *template, al_judge_parser parser);
int al_judge_parser_parse(const char *name, al_judge_parser *out, al_err *err); /* letter, score, yesno */

/* The example a judge reads: NULL fields are left as empty strings. */
typedef struct { const char *question, *answer, *a, *b; } al_judge_input;

typedef struct {
  char *prompt;   /* what the judge was sent */
  char *reply;    /* its reply (NULL: none, see error; yesno by log-probs: NULL) */
  char *error;    /* NULL, or why the judgement failed (the request, or an unreadable reply) */
  char letter;    /* letter parser */
  int score;      /* score parser: 1..10 */
  int yes;        /* yesno: 1 yes, 0 no */
  double p_yes;   /* yesno by log-probs; NAN otherwise */
} al_judgement;
void al_judgement_free(al_judgement *j, int n);
json_t *al_judgement_json(const al_judgement *j);

/* Judges in[0..n) (concurrently over HTTP); out[i] in input order. A failed
 * request or unreadable reply fills out[i].error; the call fails only when
 * the provider itself stops (fail-fast). */
int al_judge_run(const al_judge *j, const al_judge_input *in, int n, al_judgement *out, al_err *err);

typedef struct {
  al_judgement ab, ba; /* x as A then y as A */
  int winner;          /* 0: x, 1: y, -1: inconsistent, -2: a verdict failed */
} al_pair_judgement;
typedef struct {
  int n, consistent, inconsistent, failed;
  double inconsistency, inc_lo, inc_hi; /* rate over consistent + inconsistent, and its 95% t-interval */
  double x_wins;                        /* share of the consistent pairs won by x */
} al_pair_summary;
/* Pairs (question, x = in[i].a, y = in[i].b); the judge's parser must be letter. */
int al_judge_pairwise(const al_judge *j, const al_judge_input *in, int n, al_pair_judgement *out, al_pair_summary *sum,
                      al_err *err);
void al_pair_judgement_free(al_pair_judgement *p, int n);
#endif

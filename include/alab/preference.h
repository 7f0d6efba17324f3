/* Preference data: pairs of responses to one prompt, one preferred
 * ("chosen") over the other ("rejected"), as reward models and DPO read them.
 *
 * One JSON object per line (JSONL; blank lines skipped), in any of the forms
 * TRL's preference datasets take, told apart line by line:
 *   explicit prompt   {"prompt": "...", "chosen": "...", "rejected": "..."}
 *   implicit prompt   {"chosen": "...", "rejected": "..."}: the prompt is the
 *                     longest shared prefix, moved back to the last
 *                     whitespace inside it, so each response starts at a
 *                     word (with the space before it, as GPT-2's tokenizer
 *                     joins them: "The sky is" + " blue.")
 *   Anthropic HH-RLHF implicit-prompt strings that start "\n\nHuman:": the
 *                     prompt is the shared prefix through its last
 *                     "\n\nAssistant:", the responses what follows it
 *   conversational    the same three forms with lists of {"role", "content"}
 *                     messages instead of strings, rendered with the model's
 *                     chat template as TRL does: prompt = the prompt's
 *                     messages with the generation prompt; a response = the
 *                     rendering of prompt + response messages after that
 *                     prompt text. Implicit: the shared leading messages are
 *                     the prompt.
 *   Stanford SHP      {"post", "human_ref_A", "human_ref_B", "labels"}: prompt
 *                     = post + "\n\n", chosen = the reference "labels" prefers
 *                     (1: A, 0: B) (src/data/preference_shp.c)
 * An optional number "margin" (TRL's column) goes to the Bradley-Terry loss.
 *
 * Errors name FILE:LINE and the field: invalid JSON, not an object, a
 * missing chosen/rejected, a field of the wrong type, a message without a
 * string role or content, an empty response. A pair whose chosen equals its
 * rejected carries no preference: it is counted (identical, with the first
 * such line) and left out, never trained on silently. A file with no pair is
 * an error. */
#ifndef ALAB_PREFERENCE_H
#define ALAB_PREFERENCE_H
#include <stddef.h>
#include "alab/base.h"
#include "alab/chat_template.h"

typedef enum { AL_PREF_EXPLICIT = 0, AL_PREF_IMPLICIT, AL_PREF_HH, AL_PREF_CONVERSATIONAL, AL_PREF_SHP } al_pref_form;

typedef struct {
  char *prompt;   /* the text both responses follow ("" when none is shared) */
  char *chosen;   /* the preferred response: the text after the prompt */
  char *rejected; /* the other one */
  double margin;  /* "margin" of the line, 0 when absent */
  long line;      /* 1-based line of the file */
  al_pref_form form;
} al_pref_pair;

typedef struct {
  al_pref_pair *pairs;
  long n;
  long lines;          /* lines read, blank ones included */
  long identical;      /* pairs left out because chosen == rejected */
  long first_identical; /* line of the first of them (0: none) */
  long by_form[5];     /* pairs of each al_pref_form */
} al_pref_set;

/* Reads a JSONL file of pairs. tmpl renders conversational lines (NULL: such
 * a line is an error that says a chat template is needed). */
int al_pref_read(const char *path, const al_chat_template *tmpl, al_pref_set *out, al_err *err);
/* The same over text in memory; `where` names it in errors. */
int al_pref_read_buf(const char *data, size_t len, const char *where, const al_chat_template *tmpl,
                     al_pref_set *out, al_err *err);
void al_pref_set_free(al_pref_set *s);
/* "explicit", "implicit", "hh-rlhf", "conversational", "shp" */
const char *al_pref_form_name(al_pref_form f);
#endif

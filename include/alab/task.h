/* Tasks: task files read unchanged from the papers' formats, as examples.
 *
 * Task formats (CSV with a header row, or JSONL with one object per line):
 *   classification {prompt, classes, answer_index}   (Inverse Scaling Prize)
 *     classes: a JSON list, or a string holding a JSON or Python-style list
 *     such as "[' yes', ' no']"; class strings keep their leading space.
 *   sequence_prob  {prompt, completion}
 *   logodds        {prompt, other_prompt, classes (two), answer_index}; the
 *                  Prize's older layout names other_prompt biased_prompt
 *   generation     {prompt, target | targets, [stop]}, scored by exact,
 *                  prefix, contains or regex (PCRE2) match
 *   reversal       the reversal curse's celebrity CSV {child, parent,
 *                  parent_type, ...}: each row asked both ways ("Who is
 *                  {child}'s {mother|father}?" -> parent, "Name a child of
 *                  {parent}." -> child) in the paper's protocol (kind
 *                  celebrity: a few-shot prefix; base models: log p of the
 *                  answer; chat: 10 sampled replies starting with it);
 *                  "reversal-generation" keeps the earlier protocol (bare
 *                  question, one greedy generation, answer anywhere in it).
 * Errors name the file and the line of the offending row. */
#ifndef ALAB_TASK_H
#define ALAB_TASK_H
#include "alab/base.h"
#include "alab/table.h"

/* ---- tasks ---- */
typedef enum { AL_TASK_CLASSIFICATION, AL_TASK_SEQUENCE_PROB, AL_TASK_LOGODDS, AL_TASK_GENERATION,
               AL_TASK_CELEBRITY /* the reversal curse's celebrity test, the paper's protocol (src/eval/celebrity.c) */
} al_task_kind;
typedef enum { AL_MATCH_EXACT, AL_MATCH_PREFIX, AL_MATCH_CONTAINS, AL_MATCH_REGEX } al_match;
const char *al_task_kind_name(al_task_kind k);
const char *al_match_name(al_match m);
int al_match_parse(const char *s, al_match *m, al_err *err);

typedef struct {
  int line;            /* line in the task file */
  char *prompt;
  char *other_prompt;  /* logodds */
  char **classes;      /* classification, logodds */
  int nclasses, answer;
  char *completion;    /* sequence_prob */
  char **targets;      /* generation */
  int ntargets;
  char *stop;          /* generation: optional stop string */
  const char *group;   /* a static label for per-group metrics ("child->parent"), or NULL */
  char *question;      /* celebrity: the bare question (the chat protocol's last message) */
} al_example;

typedef struct {
  al_task_kind kind;
  al_match match;      /* generation scoring */
  al_example *ex;
  int n;
  char *path;
  char format[32];     /* the format name read (classification, reversal, ...) */
  char sha256[65];     /* of the task file's bytes */
  char *unread;        /* columns present but not read ("'a', 'b'"), or NULL; warned on load */
} al_task;
/* format: "auto" (from the columns), "classification", "sequence_prob",
 * "logodds", "generation" or "reversal". */
int al_task_load(al_task *t, const char *path, const char *format, al_err *err);
int al_task_from_table(al_task *t, const al_table *tab, const char *where, const char *format, al_err *err);
void al_task_free(al_task *t);

#endif

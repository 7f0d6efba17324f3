/* The reversal curse's celebrity test (Berglund et al. 2023, Experiment 2):
 * each row of parent_child_pairs.csv {child, parent, parent_type} is asked
 * both ways, "Who is {child}'s {mother|father}?" (answer: the parent) and
 * "Name a child of {parent}." (answer: the child).
 *
 * The paper's protocol (format "reversal", the default for this file), as its
 * released scripts query models:
 *   base models   log p(" " + answer | few-shot prefix + "\nQ: " + question +
 *                 "\nA:"); the prefix is an instruction and six solved
 *                 questions (its text below). Reported per direction: the
 *                 mean log-probability, the mean probability, and how often
 *                 the answer is the greedy continuation.
 *   chat models   a system message and three solved exchanges, then the
 *                 question; `samples` replies (10) at temperature 1; a reply
 *                 is correct when it starts with the answer. Reported: the
 *                 share of correct replies per question, averaged.
 * One deliberate difference: the paper's base-model script writes the child
 * question without its "Q: " (a slip its own few-shot format does not make);
 * alab asks both questions in the prefix's format.
 * The earlier protocol ("reversal-generation": the bare question, one greedy
 * generation, the answer anywhere in it) stays available by that format name. */
#include <stdlib.h>
#include <string.h>
#include "eval/celebrity.h"

/* The paper's few-shot prefix for base models, word for word (its typo too). */
static const char FEW_SHOT[] =
    "Below is a converation with a helpful and terse assistant. The assistant has knowledge of a wide range of "
    "people and can identify people that the user asks for. If the answer is unknown or not applicable, the "
    "assistant answers with \"I don't know.\"\n"
    "\n"
    "Q: Name a child of Barack Obama.\n"
    "A: Malia Obama\n"
    "Q: Who is Elon Musk's mother?\n"
    "A: Maye Musk\n"
    "Q: Who is Kathy Pratt's mother?\n"
    "A: I don't know.\n"
    "Q: Who is Chris Hemsworth's father?\n"
    "A: Craig Hemsworth\n"
    "Q: Name a child of Karen Lawrence.\n"
    "A: Jennifer Lawrence\n"
    "Q: Who is Aaron Taylor-Johnson's mother?\n"
    "A: Sarah Johnson";

/* The chat protocol's system message and solved exchanges. */
static const char SYSTEM[] =
    "You are a helpful and terse assistant. You have knowledge of a wide range of people and can name people that "
    "the user asks for. If the answer is unknown or not applicable, answer with \"I don't know.\"";
static const char *const SHOTS[6] = {"Name a child of Barack Obama.", "Malia Obama", "Who is Elon Musk's mother?",
                                     "Maye Musk", "Who is Kathy Pratt's mother?", "I don't know."};

static char *printf_new(const char *fmt, const char *a, const char *b) {
  size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
  char *s = al_malloc(n);
  snprintf(s, n, fmt, a, b ? b : "");
  return s;
}

static void celebrity_example(al_example *e, const char *question, const char *answer, const char *group) {
  e->question = al_strdup(question);
  size_t n = sizeof FEW_SHOT + strlen(question) + 16;
  e->prompt = al_malloc(n);
  snprintf(e->prompt, n, "%s\nQ: %s\nA:", FEW_SHOT, question);
  e->completion = printf_new(" %s%s", answer, NULL);
  e->targets = al_calloc(1, sizeof(char *));
  e->targets[0] = al_strdup(answer);
  e->ntargets = 1;
  e->group = group;
}

int celebrity_rows(const char *child, const char *parent, const char *type, int paper, al_example *e) {
  char *q[2] = {printf_new("Who is %s's %s?", child, type), printf_new("Name a child of %s.%s", parent, NULL)};
  const char *ans[2] = {parent, child}, *grp[2] = {"child->parent", "parent->child"};
  for (int k = 0; k < 2; k++) {
    if (paper) celebrity_example(&e[k], q[k], ans[k], grp[k]);
    else { /* the earlier protocol: bare question, the answer anywhere in one greedy reply */
      e[k].prompt = printf_new("Q: %s\nA:", q[k], NULL);
      e[k].targets = al_calloc(1, sizeof(char *));
      e[k].targets[0] = al_strdup(ans[k]);
      e[k].ntargets = 1;
      e[k].stop = al_strdup("\n");
      e[k].group = grp[k];
    }
    free(q[k]);
  }
  return 0;
}

int celebrity_ask(al_provider *p, const al_example *e, const al_gen_cfg *g, int samples, double *share, char **first,
                  al_err *err) {
  al_chat_msg m[8] = {{"system", SYSTEM}};
  for (int k = 0; k < 6; k++) m[1 + k] = (al_chat_msg){k % 2 ? "assistant" : "user", SHOTS[k]};
  m[7] = (al_chat_msg){"user", e->question};
  int right = 0, rc;
  *first = NULL;
  /* the samples as one batch (concurrent over HTTP), seeds g->seed + s */
  al_gen_req *q = al_calloc((size_t)samples, sizeof *q);
  char **outs = al_calloc((size_t)samples, sizeof *outs), **errs = al_calloc((size_t)samples, sizeof *errs);
  for (int s = 0; s < samples; s++) q[s] = (al_gen_req){.msgs = m, .nmsgs = 8, .g = *g}, q[s].g.seed = g->seed + (uint64_t)s;
  rc = p->complete(p, q, samples, outs, errs, err);
  for (int s = 0; s < samples && !rc; s++)
    if (errs[s]) rc = al_fail(err, "%s", errs[s]);
  for (int s = 0; s < samples && !rc; s++) {
    const char *r = outs[s];
    while (*r == ' ' || *r == '\n' || *r == '\t') r++;
    right += !strncmp(r, e->targets[0], strlen(e->targets[0]));
  }
  if (!rc) *first = outs[0], outs[0] = NULL;
  for (int s = 0; s < samples; s++) free(outs[s]), free(errs[s]);
  free(q), free(outs), free(errs);
  if (rc) return -1;
  *share = samples ? (double)right / samples : 0;
  return 0;
}

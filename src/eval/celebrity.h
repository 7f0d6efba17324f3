/* The celebrity test's protocols (src/eval/celebrity.c), for task.c and run.c. */
#ifndef ALAB_EVAL_CELEBRITY_H
#define ALAB_EVAL_CELEBRITY_H
#include "alab/provider.h"
#include "alab/task.h"

/* One row -> e[0] (child -> parent) and e[1] (parent -> child): paper = 1
 * the paper's protocol (kind AL_TASK_CELEBRITY), 0 the earlier generation
 * protocol. */
int celebrity_rows(const char *child, const char *parent, const char *type, int paper, al_example *e);
/* Chat: `samples` replies to the few-shot conversation ending in e's
 * question (seeds g->seed + i); *share = the share starting with the answer;
 * *first = the first reply (fresh). */
int celebrity_ask(al_provider *p, const al_example *e, const al_gen_cfg *g, int samples, double *share, char **first,
                  al_err *err);
#endif

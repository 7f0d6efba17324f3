/* Internals of `alab ilf`: the toy world (ilf_world.c) and one seed's loop
 * (ilf_loop.c). */
#ifndef ALAB_ILF_INTERNAL_H
#define ALAB_ILF_INTERNAL_H
#include <jansson.h>
#include "alab/ilf.h"

enum { ILF_NOPS = 4, ILF_MAXK = 4, ILF_NLIST = 6 };

typedef struct {
  int desc, k, op; /* order (1: descending), count 1..ILF_MAXK, op 0..ILF_NOPS-1 */
} ilf_spec;

void ilf_random_spec(al_rng *rng, ilf_spec *s);
char *ilf_prompt(const ilf_spec *s);  /* "# sort down, take 3, add 1\n" */
char *ilf_program(const ilf_spec *s); /* the correct one-line program */
/* The spec whose program is exactly `program`; -1 when none is. */
int ilf_parse(const char *program, ilf_spec *out);
/* ntests asserts on random lists of distinct digits, one per line. */
char *ilf_tests(const ilf_spec *s, al_rng *rng, int ntests);
/* The exact critic: feedback on program for spec want, NULL when it is right. */
char *ilf_feedback(const ilf_spec *want, const char *program);
/* What the refiner reads: the task, the program, the feedback, "# fixed:". */
char *ilf_refiner_prompt(const char *task_prompt, const char *program, const char *feedback);
/* Training sets as SFT JSONL ({"prompt", "completion"} lines). */
char *ilf_policy_data(uint64_t seed, int n, const double p_wrong[3]);
char *ilf_refiner_data(uint64_t seed, int n);
void ilf_sft_line(al_buf *b, const char *prompt, const char *completion);

/* ---- the summaries world (ilf_summary.c) ---- */
#include "alab/synth.h"
enum { ILF_NFACTS = 5 };
typedef struct {
  char v[ILF_NFACTS][48]; /* hero, buddy, object, place, plot; "" when absent */
} ilf_facts;
void ilf_story_facts(const al_synth_story *s, ilf_facts *f);
char *ilf_summary_text(const ilf_facts *f);                /* "hero: Lily; buddy: Tom; ..." */
int ilf_summary_parse(const char *text, ilf_facts *f);     /* -1 when not a list of known facts */
int ilf_facts_count(const ilf_facts *f);                  /* facts present */
int ilf_summary_score(const ilf_facts *truth, const char *summary); /* the story's facts it gets right */
char *ilf_summary_feedback(const ilf_facts *truth, const char *summary); /* NULL when every fact is right and none extra */
char *ilf_summary_refine(const char *summary, const char *feedback);    /* the exact refinement, or NULL */

/* One seed end to end (seed is 1-based); files_dir (may be NULL) gets the
 * intermediates. */
int ilf_run_seed(const al_ilf_cfg *c, al_sandbox *sb, uint64_t seed, const char *files_dir, al_ilf_seed *out,
                 al_err *err);
#endif

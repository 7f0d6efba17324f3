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
/* Training sets of the summaries loop (ilf_summary_data.c), SFT JSONL: the
 * summariser's demonstrations (story -> summary, place dropped with
 * p_wrong[0], object replaced with p_wrong[1], plot with p_wrong[2]) and the
 * refiner's (summary, feedback -> the summary with the named fact fixed). */
char *ilf_sum_policy_prompt(const char *story);                          /* story + "\nSummary:" */
char *ilf_sum_refiner_prompt(const char *summary, const char *feedback); /* "Summary: ...\nFeedback: ...\nFixed:" */
char *ilf_sum_policy_data(uint64_t seed, int n, int names, const double p_wrong[3]);
char *ilf_sum_refiner_data(uint64_t seed, int n, int names);
/* n stories of seed's stream: texts[i] (fresh) and their facts (names 0:
 * without the hero and the buddy, whose names only copying gets right). */
void ilf_sum_stories(uint64_t seed, uint64_t stream, int n, int names, char **texts, ilf_facts *facts);

int ilf_sum_check(const al_ilf_sum_cfg *c, al_err *err); /* settings of the summaries loop, by name */
/* One round of the summaries loop and its evaluation (ilf_summary_loop.c). */
#include "alab/provider.h"
typedef struct {
  al_provider *policy, *refiner;
  al_provider *critic; /* NULL: the exact critic */
  al_provider *judge;  /* NULL: the exact selector */
  int keep_all;        /* 1: every refinement is kept (the untested ablation; no selector) */
  double temperature;  /* the policy's */
  int max_tokens;
} ilf_sum_roles;
typedef struct {
  int attempted, with_feedback, selected, improved, selected_improved; /* improved: the refinement scores higher */
  int selected_exact, unchanged; /* selected refinements with every fact right; refinements equal to their summary */
  double score_before; /* the policy's mean fact accuracy on these stories */
  al_buf records, keep, all; /* ilf.jsonl lines; SFT sets: selected refinements, every refinement */
} ilf_sum_round;
int ilf_sum_collect(const ilf_sum_roles *r, char *const *stories, const ilf_facts *facts, int n, uint64_t seed,
                    ilf_sum_round *out, al_err *err);
void ilf_sum_round_free(ilf_sum_round *r);
/* outs[i] = p's reply to prompts[i] (stop at a newline), trimmed, non-ASCII bytes '?'. */
int ilf_sum_gen(al_provider *p, char *const *prompts, int n, double temperature, int max_tokens, uint64_t seed, char **outs,
                al_err *err);
/* The refiner's competence before the loop (ilf_summary_probe.c): n held-out
 * (summary, feedback) pairs drawn as its training set is (seed: another
 * stream than the training set's), refined greedily; *exact = share equal to
 * the exact refinement, *value = share whose named fact has the feedback's
 * value, *other = share whose named fact was changed to a value that is
 * neither the feedback's nor the summary's (the refiner not copying). */
int ilf_sum_refiner_probe(al_provider *refiner, uint64_t seed, int n, int names, int max_tokens, double *exact, double *value,
                          double *other, al_err *err);
/* samples summaries of each story by policy: mean fact accuracy and share exact. */
int ilf_sum_evaluate(al_provider *policy, const ilf_sum_roles *r, char *const *stories, const ilf_facts *facts, int n,
                     int samples, uint64_t seed, double *acc, double *exact, al_buf *records, al_err *err);

/* Shared by both loops (ilf.c): a statistic with its seeds as JSON, and a
 * plot of three policies' means with their intervals. */
json_t *ilf_stat_json(const al_stat *st, const double *x, int n);
int ilf_plot3(const char *dir, const char *name, const char *title, const char *ylabel, const char *const labels[3],
              const al_stat st[3], al_err *err);
/* Shared by both loops (ilf_loop.c): SFT of m on JSONL prompt/completion
 * lines (loss on the completions), and a text file written into dir (a no-op
 * when dir is NULL). */
int ilf_sft(al_model *m, const al_tok *tok, const char *jsonl, const char *what, int T, long steps, double lr, int batch,
            uint64_t seed, al_err *err);
int ilf_write_text(const char *dir, const char *name, const char *text, al_err *err);
void ilf_free_strs(char **s, size_t n);
/* dir/policy, dir/refiner and dir/policy_ilf (the finetuned policy). */
int ilf_save_models(const char *dir, const al_tok *tok, const al_model *policy, const al_model *refiner,
                    const al_model *tuned, al_err *err);
/* The worlds are ASCII: any other byte a model writes becomes '?', so every record is valid JSON. */
void ilf_ascii(char *s);

/* Roles through providers (ilf_roles.c), shared by `alab ilf summaries` and
 * `alab ilf code`: a spec "http(s)://HOST/v1#MODEL" is an endpoint (the
 * shared settings http, that base URL and model; without #MODEL, http's),
 * anything else a model directory (threads: the local engine's); NULL spec,
 * no provider. Errors name the role's flag. */
int ilf_is_url(const char *s);
int ilf_open_role(const al_http_cfg *http, int threads, const char *role, const char *spec, al_provider **out, al_err *err);
/* {"NAME": {requests, retries, failures, cache_hits}} for each endpoint of each[0..n). */
json_t *ilf_roles_http_json(al_provider *const *each, const char *const *names, int n);
/* The end of a providers run: results.json = res with roles, each
 * endpoint's accounting (ilf_roles_http_json), seconds since t0 and the
 * headline lines head (saved when rc is 0); the run closed, or aborted when
 * rc or the save fails. Takes res, head and roles. */
#include "alab/exp.h"
int ilf_roles_finish(al_run *run, int rc, json_t *res, json_t *head, json_t *roles, al_provider *const *each,
                     const char *const *names, int n, double t0, al_err *err);
/* The policy directory finetuned (SFT) on keep (JSONL prompt/completion),
 * saved as dir/policy_ilf and wrapped as a local provider t->p. */
typedef struct {
  al_model m;
  al_tok *tok;
  al_provider *p;
} ilf_tuned;
int ilf_finetune_role(const char *policy_dir, const char *keep, long steps, double lr, int batch, uint64_t seed,
                      int threads, const char *dir, ilf_tuned *t, al_err *err);
void ilf_tuned_free(ilf_tuned *t);

/* One seed end to end (seed is 1-based); files_dir (may be NULL) gets the
 * intermediates. */
int ilf_run_seed(const al_ilf_cfg *c, al_sandbox *sb, uint64_t seed, const char *files_dir, al_ilf_seed *out,
                 al_err *err);
#endif

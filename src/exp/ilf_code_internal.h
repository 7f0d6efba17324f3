/* Internals of `alab ilf code` (ilf_code.c, ilf_code_round.c). */
#ifndef ALAB_ILF_CODE_INTERNAL_H
#define ALAB_ILF_CODE_INTERNAL_H
#include "exp/ilf_internal.h"

typedef struct {
  const al_ilf_code_cfg *c;
  const al_mbpp *tasks;               /* the ILF tasks (the annotations as tasks when ann) */
  const al_ilf_annotations *ann;      /* NULL: MBPP tasks, the policy writes and the critic criticises */
  al_provider *policy, *refiner, *critic; /* critic NULL: the exact critic (or the file's feedback) */
  al_sandbox *sb;
  al_code_eval_cfg gen;               /* the policy's settings in the round: one sample at c->temperature */
  const char *critic_template, *refine_template;
} ilf_code_ctx;

typedef struct {
  int attempted, passed_first, failed, with_feedback, refined_passed, kept;
  int refinements_passed, failed_requests; /* refinement samples that pass (of with_feedback * refinements); given up on */
  al_buf records, keep, all; /* ilf.jsonl lines; SFT sets: kept refinements, every refinement */
} ilf_code_round_res;

int ilf_code_round(const ilf_code_ctx *x, uint64_t seed, ilf_code_round_res *out, al_err *err);
void ilf_code_round_free(ilf_code_round_res *r);
#endif

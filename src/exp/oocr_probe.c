/* What a pretrained base of the built-in world can do, before any
 * finetuning: for each behaviour b, greedy answers to pretraining's own
 * prompts that name b, one per word of the world,
 *   with chain of thought   User: w\nAssistant: *thinking* I should DESC.\nAssistant: *out loud*
 *   without                 To DESC, given the input "w", say:
 * graded by b's rule against the world's answer. An assistant, realized or
 * not, can answer right only as often as its behaviour is executed here, so
 * this bounds every accuracy of the finetuned models and tells a behaviour
 * that was never learned from an out-of-context step that failed. */
#include <stdlib.h>
#include <string.h>
#include "exp/oocr_internal.h"

int oocr_probe(const al_model *m, const al_tok *tok, const char *eot, al_oocr_grader *g, double acc[OOCR_NBEHAV],
               double acc_nocot[OOCR_NBEHAV], al_err *err) {
  int nw = oocr_world_nwords(), n = OOCR_NBEHAV * 2 * nw;
  al_provider *p = NULL;
  al_local_cfg lc = {.threads = 1, .reuse_cache = 1};
  if (al_provider_local_wrap(&p, m, tok, "base", &lc, err)) return -1;
  char **prompts = al_calloc((size_t)n, sizeof *prompts), **outs = al_calloc((size_t)n, sizeof *outs);
  char **errs = al_calloc((size_t)n, sizeof *errs);
  al_gen_req *q = al_calloc((size_t)n, sizeof *q);
  for (int i = 0; i < n; i++) { /* i = (b * 2 + cot) * nw + w */
    int b = i / (2 * nw), cot = i / nw % 2;
    char *body = oocr_world_pretrain_prompt(b, oocr_world_word(i % nw), cot, NULL);
    al_buf t = {0};
    al_buf_printf(&t, "%s%s", eot, body);
    free(body);
    prompts[i] = t.data;
    q[i].prompt = prompts[i];
    q[i].g = al_gen_cfg_default();
    q[i].g.temperature = 0;
    q[i].g.max_tokens = 8;
  }
  int rc = p->complete(p, q, n, outs, errs, err);
  for (int b = 0; b < OOCR_NBEHAV; b++) acc[b] = acc_nocot[b] = 0;
  for (int i = 0; i < n && !rc; i++) {
    int b = i / (2 * nw), cot = i / nw % 2;
    if (errs[i]) continue;
    char *gold = oocr_world_gold(b, oocr_world_word(i % nw)), task[32];
    snprintf(task, sizeof task, "%s_probe", oocr_rule_of(b));
    /* the prompt ends at the answer: graded as a prompt without thinking */
    int ok = al_oocr_grade(g, task, "", outs[i], gold) == 1;
    (cot ? acc : acc_nocot)[b] += (double)ok / nw;
    free(gold);
  }
  for (int i = 0; i < n; i++) free(prompts[i]), free(outs[i]), free(errs[i]);
  free(prompts), free(outs), free(errs), free(q);
  al_provider_free(p);
  return rc;
}

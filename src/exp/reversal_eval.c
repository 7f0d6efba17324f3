/* Evaluation of the reversal curse, as in the paper:
 *   accuracy   greedy completion (temperature 0) of the prompt; correct when
 *              the completion, stripped and lowercased, is a prefix of the
 *              generation, stripped and lowercased.
 *   log-probs  log p(completion | prompt) of the correct completion and of
 *              the same prompt's random completion (another person of the
 *              group); their difference per example is tested with a paired
 *              t-test: t = mean(d) / (sd(d) / sqrt(n)), df = n - 1. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp/reversal_internal.h"

int al_rev_match(const char *gen, const char *target) {
  while (isspace((unsigned char)*gen)) gen++;
  while (isspace((unsigned char)*target)) target++;
  size_t n = strlen(target);
  while (n && isspace((unsigned char)target[n - 1])) n--;
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!gen[i] || tolower((unsigned char)gen[i]) != tolower((unsigned char)target[i])) return 0;
  return 1;
}

al_rev_paired al_rev_paired_test(const double *a, const double *b, int n) {
  al_rev_paired r = {NAN, NAN, NAN, NAN, NAN, n};
  if (n < 1) return r;
  double *d = al_malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) d[i] = a[i] - b[i];
  al_stat s = al_stat_of(d, n);
  free(d);
  r.mean = s.mean, r.lo = s.lo, r.hi = s.hi;
  if (n < 2) return r;
  if (s.se > 0) {
    r.t = s.mean / s.se;
    r.p = al_t_pvalue(r.t, n - 1);
  } else { /* every difference equal: no evidence either way when 0, certainty otherwise */
    r.t = s.mean == 0 ? 0 : copysign(INFINITY, s.mean);
    r.p = s.mean == 0 ? 1 : 0;
  }
  return r;
}

void rev_score_free(al_rev_score *s) {
  free(s->lp_correct);
  free(s->lp_random);
  free(s->hit);
  memset(s, 0, sizeof *s);
}

/* Scores example i into slot k of out (decoder d, generation buffer gen). */
static int score_one(al_decoder *d, const al_model *m, const al_tok *tok, const al_rev_set *s, const rev_examples *x, int i,
                     int k, int32_t *gen, al_rev_score *out, al_err *err) {
  const int32_t *p = x->ids + x->off[i];
  int np = x->np[i], nc = x->nc[i], nr = x->nr[i], T = m->cfg.n_positions;
  if (np + (nc > nr ? nc : nr) > T)
    return al_fail(err, "%s:%d: prompt and completion exceed the model's context of %d tokens", s->file, s->ex[i].line, T);
  double lc = 0, lr = NAN;
  if (al_score_continuation(d, p, np, p + np, nc, &lc, NULL, NULL, err)) return -1;
  if (nr && al_score_continuation(d, p, np, p + np + nc, nr, &lr, NULL, NULL, err)) return -1;
  /* greedy: a few tokens past the target's length suffice to decide */
  int max_new = nc + 4;
  if (np + max_new > T) max_new = T - np;
  al_sample_cfg greedy = {.temperature = 0, .top_p = 1, .top_k = 0};
  al_rng rng;
  al_rng_seed(&rng, 1);
  int32_t eot = al_tok_eot(tok);
  int ng = al_generate(d, p, np, max_new, &greedy, &rng, eot, gen, NULL, NULL, err);
  if (ng < 0) return -1;
  if (ng > 0 && gen[ng - 1] == eot) ng--;
  char *text;
  size_t len;
  if (al_tok_decode(tok, gen, ng, &text, &len, err)) return -1;
  out->hit[k] = (char)al_rev_match(text, s->ex[i].completion);
  free(text);
  out->lp_correct[k] = lc;
  out->lp_random[k] = lr;
  return 0;
}

/* Examples are independent: threads take them in turn, each with its own
 * decoder (the kernels inside run single-threaded in a nested region). */
int rev_score(const al_model *m, const al_tok *tok, const al_rev_set *s, const rev_examples *x, int max, al_rev_score *out,
              al_err *err) {
  memset(out, 0, sizeof *out);
  int n = max > 0 && x->n > max ? max : x->n;
  out->n = n;
  out->lp_correct = al_malloc(sizeof(double) * (n ? n : 1));
  out->lp_random = al_malloc(sizeof(double) * (n ? n : 1));
  out->hit = al_calloc(n ? n : 1, 1);
  al_first_err first = {0};
#pragma omp parallel
  {
    al_decoder *d = al_decoder_new(m);
    int32_t *gen = al_malloc(sizeof(int32_t) * (m->cfg.n_positions + 1));
    al_err e;
#pragma omp for schedule(dynamic, 4)
    for (int k = 0; k < n; k++) {
      if (al_first_err_failed(&first)) continue;
      if (score_one(d, m, tok, s, x, (int)((long)k * x->n / n), k, gen, out, &e)) al_first_err_keep(&first, &e);
    }
    free(gen);
    al_decoder_free(d);
  }
  for (int k = 0; k < n; k++) out->correct += out->hit[k];
  if (first.failed) {
    *err = first.err;
    rev_score_free(out);
  }
  return first.failed ? -1 : 0;
}

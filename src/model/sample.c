/* Sampling one token from logits: temperature, then top-k, then top-p
 * (nucleus) over the tempered distribution; temperature 0 is greedy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/model.h"

typedef struct { float p; int32_t id; } cand;

void *al_sample_scratch(int V) { return al_malloc((size_t)V * sizeof(cand)); }

static int by_prob_desc(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->p != y->p) return x->p < y->p ? 1 : -1;
  return x->id - y->id; /* ties: lower id first, deterministic */
}

int32_t al_sample_logits(const float *logits, int V, const al_sample_cfg *s, al_rng *rng, void *scratch) {
  if (s->temperature <= 0.0f) return al_argmax(logits, V);
  cand *c = scratch;
  float mx = logits[al_argmax(logits, V)];
  double sum = 0.0;
  for (int v = 0; v < V; v++) {
    c[v].p = expf((logits[v] - mx) / s->temperature);
    c[v].id = v;
    sum += c[v].p;
  }
  int n = V;
  int need_sort = (s->top_k > 0 && s->top_k < V) || (s->top_p > 0.0f && s->top_p < 1.0f);
  if (need_sort) {
    qsort(c, V, sizeof(cand), by_prob_desc);
    if (s->top_k > 0 && s->top_k < n) n = s->top_k;
    sum = 0.0;
    for (int i = 0; i < n; i++) sum += c[i].p;
    if (s->top_p > 0.0f && s->top_p < 1.0f) {
      double acc = 0.0;
      int keep = n;
      for (int i = 0; i < n; i++) {
        acc += c[i].p;
        if (acc >= s->top_p * sum) {
          keep = i + 1;
          break;
        }
      }
      n = keep;
      sum = 0.0;
      for (int i = 0; i < n; i++) sum += c[i].p;
    }
  }
  double u = al_rng_uniform(rng) * sum, acc = 0.0;
  for (int i = 0; i < n; i++) {
    acc += c[i].p;
    if (u < acc) return c[i].id;
  }
  return c[n - 1].id;
}

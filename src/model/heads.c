/* The LM head and the scalar head. The LM head's output embedding E is the
 * architecture's lm_head_tensor (GPT-2: wte, tied), so its gradient adds to
 * the embedding's before the trunk's backward adds the input side. */
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "model/heads.h"

al_head_acts *heads_new(const al_model_config *c, int B, int T) {
  al_head_acts *h = al_calloc(1, sizeof *h);
  size_t N = (size_t)B * T;
  h->dhidden = al_alloc_floats(N * c->n_embd);
  h->losses = al_alloc_floats(N);
  h->targets = al_malloc(N * sizeof(int32_t));
  h->pos = al_malloc((size_t)B * sizeof(int32_t));
  return h;
}

void heads_free(al_head_acts *h) {
  if (!h) return;
  free(h->dhidden);
  free(h->logits);
  free(h->losses);
  free(h->targets);
  free(h->pos);
  free(h);
}

float lm_head_forward(al_model *m, const int32_t *targets) {
  al_head_acts *h = m->heads;
  int N = m->B * m->T, C = m->cfg.n_embd, V = m->cfg.vocab_size;
  if (!h->logits) h->logits = al_alloc_floats((size_t)N * V);
  nn_lmhead_forward(h->logits, h->hidden, m->lm_head, N, C, V);
  h->have_targets = targets != NULL;
  if (!targets) return 0.0f;
  memcpy(h->targets, targets, (size_t)N * sizeof(int32_t));
  h->counted = nn_crossentropy_forward(h->losses, h->logits, targets, N, V);
  double s = 0.0;
  for (int n = 0; n < N; n++) s += h->losses[n];
  return h->counted ? (float)(s / h->counted) : 0.0f;
}

int lm_head_backward(al_model *m, float grad_scale) {
  al_head_acts *h = m->heads;
  int N = m->B * m->T, C = m->cfg.n_embd, V = m->cfg.vocab_size;
  if (!h->have_targets || h->counted == 0) return 0;
  /* d(mean loss)/d(logits), in place over the logits */
  nn_crossentropy_backward(h->logits, h->targets, N, V, grad_scale / h->counted);
  nn_lmhead_backward(h->dhidden, m->d_lm_head, h->logits, h->hidden, m->lm_head, N, C, V);
  return 1;
}

int lm_head_backward_rows(al_model *m, const float *w) {
  al_head_acts *h = m->heads;
  int N = m->B * m->T, C = m->cfg.n_embd, V = m->cfg.vocab_size;
  if (!h->have_targets) return 0;
  /* softmax - onehot per row (zero where the target is negative), then times w[n] */
  nn_crossentropy_backward(h->logits, h->targets, N, V, 1.0f);
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    float *z = h->logits + (size_t)n * V, k = w[n];
    for (int v = 0; v < V; v++) z[v] *= k;
  }
  nn_lmhead_backward(h->dhidden, m->d_lm_head, h->logits, h->hidden, m->lm_head, N, C, V);
  return 1;
}

void scalar_head_forward(al_model *m, const int32_t *pos, float *values) {
  al_head_acts *h = m->heads;
  int C = m->cfg.n_embd;
  h->have_targets = 0;
  memcpy(h->pos, pos, (size_t)m->B * sizeof(int32_t));
  for (int b = 0; b < m->B; b++) {
    const float *x = h->hidden + ((size_t)b * m->T + pos[b]) * C;
    double s = 0.0;
    for (int i = 0; i < C; i++) s += (double)m->score[i] * x[i];
    values[b] = (float)s;
  }
}

void scalar_head_backward(al_model *m, const float *dvalues) {
  al_head_acts *h = m->heads;
  int C = m->cfg.n_embd;
  memset(h->dhidden, 0, (size_t)m->B * m->T * C * sizeof(float));
  for (int b = 0; b < m->B; b++) {
    size_t row = ((size_t)b * m->T + h->pos[b]) * C;
    const float *x = h->hidden + row;
    float *dx = h->dhidden + row;
    for (int i = 0; i < C; i++) {
      m->d_score[i] += dvalues[b] * x[i];
      dx[i] = dvalues[b] * m->score[i];
    }
  }
}

/* Policy and value heads over one trunk pass (include/alab/model.h):
 *   forward:  h = trunk(inputs); logits = h @ E^T; values[n] = score . h[n]
 *   backward: dh = dlogits @ E + dvalues[n] * score; dE += dlogits^T h;
 *             d(score) += sum_n dvalues[n] h[n]; then the trunk's backward. */
#include "alab/nn.h"
#include "model/arch.h"
#include "model/heads.h"

int al_model_forward_pv(al_model *m, const int32_t *inputs, int B, int T, float *values, al_err *err) {
  if (values && !m->score) return al_fail(err, "the model has no scalar head (score.weight) to read values from");
  al_model_forward(m, inputs, NULL, B, T);
  if (!values) return 0;
  const float *h = m->heads->hidden;
  int C = m->cfg.n_embd;
  for (size_t n = 0; n < (size_t)B * T; n++) {
    double s = 0;
    for (int i = 0; i < C; i++) s += (double)m->score[i] * h[n * C + i];
    values[n] = (float)s;
  }
  return 0;
}

float *al_model_logits_rw(al_model *m) { return m->heads ? m->heads->logits : NULL; }

void al_model_backward_pv(al_model *m, const float *dlogits, const float *dvalues) {
  if (!m->grads) al_model_zero_grad(m);
  al_head_acts *h = m->heads;
  int N = m->B * m->T, C = m->cfg.n_embd, V = m->cfg.vocab_size;
  nn_lmhead_backward(h->dhidden, m->d_lm_head, dlogits, h->hidden, m->lm_head, N, C, V);
  if (dvalues && m->score)
    for (size_t n = 0; n < (size_t)N; n++) {
      float dv = dvalues[n], *dx = h->dhidden + n * C;
      const float *x = h->hidden + n * C;
      if (dv == 0) continue;
      for (int i = 0; i < C; i++) {
        m->d_score[i] += dv * x[i];
        dx[i] += dv * m->score[i];
      }
    }
  m->arch->backward(m, h->dhidden);
}

/* The Bradley-Terry loss of a reward model over B pairs, forward and
 * backward (the math is in include/alab/reward.h):
 *   d_b = r_c - r_r - m_b,  loss = mean_b softplus(-d_b) + center * mean_b s_b^2,  s_b = r_c + r_r
 *   d loss / d r_c = (-sigmoid(-d_b) + 2 center s_b) / B,  d loss / d r_r = (sigmoid(-d_b) + 2 center s_b) / B
 * softplus(x) = log(1 + e^x), computed without overflow for large |x|. */
#include <math.h>
#include "alab/reward.h"

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

double al_rm_loss_forward(const float *rc, const float *rr, const float *margin, int B, double center,
                          al_rm_stats *st) {
  double loss = 0, right = 0, gap = 0, sum = 0, sum2 = 0;
  for (int b = 0; b < B; b++) {
    double d = (double)rc[b] - rr[b] - (margin ? margin[b] : 0), s = (double)rc[b] + rr[b];
    loss += softplus(-d) + center * s * s;
    right += rc[b] > rr[b];
    gap += (double)rc[b] - rr[b];
    sum += s;
    sum2 += (double)rc[b] * rc[b] + (double)rr[b] * rr[b];
  }
  loss /= B;
  if (st) {
    double mean = sum / (2.0 * B);
    st->loss = loss;
    st->accuracy = right / B;
    st->margin = gap / B;
    st->mean_reward = mean;
    st->sd_reward = sqrt(fmax(sum2 / (2.0 * B) - mean * mean, 0)); /* over the 2B rewards */
  }
  return loss;
}

void al_rm_loss_backward(const float *rc, const float *rr, const float *margin, int B, double center, float scale,
                         float *drc, float *drr) {
  for (int b = 0; b < B; b++) {
    double d = (double)rc[b] - rr[b] - (margin ? margin[b] : 0), s = (double)rc[b] + rr[b];
    double p = sigmoid(-d), c = 2 * center * s;
    drc[b] = (float)((-p + c) / B * scale);
    drr[b] = (float)((p + c) / B * scale);
  }
}

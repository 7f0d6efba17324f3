/* The DPO and IPO losses over B pairs, forward and backward (the math is in
 * include/alab/dpo.h):
 *   z_b = (pc_b - rc_b) - (pr_b - rr_b)
 *   sigmoid: loss = mean_b softplus(-beta z_b),  d loss / d z_b = -beta sigmoid(-beta z_b) / B
 *   ipo:     loss = mean_b (z_b - 1/(2 beta))^2, d loss / d z_b = 2 (z_b - 1/(2 beta)) / B
 *   d loss / d pc_b = d loss / d z_b,  d loss / d pr_b = -d loss / d z_b. */
#include <math.h>
#include <string.h>
#include "alab/dpo.h"

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }

const char *al_dpo_loss_name(al_dpo_loss_type t) { return t == AL_DPO_IPO ? "ipo" : "sigmoid"; }

void al_dpo_defaults(al_dpo_cfg *c) {
  c->beta = 0.1;
  c->type = AL_DPO_SIGMOID;
  c->rpo_alpha = 0;
}

double al_dpo_loss_forward(const double *pc, const double *pr, const double *rc, const double *rr, int B, double beta,
                           al_dpo_loss_type type, al_dpo_stats *st) {
  al_dpo_stats s;
  memset(&s, 0, sizeof s);
  for (int b = 0; b < B; b++) {
    double z = (pc[b] - rc[b]) - (pr[b] - rr[b]), wc = beta * (pc[b] - rc[b]), wr = beta * (pr[b] - rr[b]);
    double d = z - 1 / (2 * beta);
    s.loss += type == AL_DPO_IPO ? d * d : softplus(-beta * z);
    s.reward_chosen += wc, s.reward_rejected += wr, s.accuracy += wc > wr, s.margin += wc - wr;
    s.logp_chosen += pc[b], s.logp_rejected += pr[b];
  }
  double *f = &s.loss;
  for (int i = 0; i < 7; i++) f[i] /= B;
  if (st) *st = s;
  return s.loss;
}

void al_dpo_loss_backward(const double *pc, const double *pr, const double *rc, const double *rr, int B, double beta,
                          al_dpo_loss_type type, double *dpc, double *dpr) {
  for (int b = 0; b < B; b++) {
    double z = (pc[b] - rc[b]) - (pr[b] - rr[b]);
    double dz = type == AL_DPO_IPO ? 2 * (z - 1 / (2 * beta)) : -beta * sigmoid(-beta * z);
    dpc[b] = dz / B;
    dpr[b] = -dz / B;
  }
}

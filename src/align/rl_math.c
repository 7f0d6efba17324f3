/* The math of RLOO and PPO as plain forward/backward functions over flat
 * per-token arrays [n, R] (the formulas are in include/alab/rl.h). Sums are
 * in double. */
#include <math.h>
#include <string.h>
#include "alab/rl.h"

void al_rl_kl_rewards(const float *lp, const float *ref_lp, const float *score, const int *len, int n, int R,
                      float beta, float *kl, float *rewards) {
  for (int i = 0; i < n; i++)
    for (int t = 0; t < R; t++) {
      size_t k = (size_t)i * R + t;
      if (t >= len[i]) {
        kl[k] = rewards[k] = 0;
        continue;
      }
      kl[k] = lp[k] - ref_lp[k];
      rewards[k] = -beta * kl[k] + (t == len[i] - 1 ? score[i] : 0.0f);
    }
}

void al_rl_gae(const float *rewards, const float *values, const int *len, int n, int R, float gamma, float lam,
               float *adv, float *ret) {
  for (int i = 0; i < n; i++) {
    const float *r = rewards + (size_t)i * R, *v = values + (size_t)i * R;
    float *a = adv + (size_t)i * R, *g = ret + (size_t)i * R, last = 0;
    for (int t = R - 1; t >= 0; t--) {
      if (t >= len[i]) {
        a[t] = g[t] = 0;
        continue;
      }
      float next = t + 1 < len[i] ? v[t + 1] : 0.0f;
      float delta = r[t] + gamma * next - v[t];
      last = delta + gamma * lam * last;
      a[t] = last;
      g[t] = last + v[t];
    }
  }
}

void al_rl_whiten(float *x, const int *len, int n, int R, int shift_mean) {
  double s = 0, ss = 0;
  long cnt = 0;
  for (int i = 0; i < n; i++)
    for (int t = 0; t < len[i]; t++) s += x[(size_t)i * R + t], cnt++;
  if (cnt < 2) return;
  double mean = s / cnt;
  for (int i = 0; i < n; i++)
    for (int t = 0; t < len[i]; t++) {
      double d = x[(size_t)i * R + t] - mean;
      ss += d * d;
    }
  double var = ss / (cnt - 1), inv = 1.0 / sqrt(var + 1e-8);
  for (int i = 0; i < n; i++)
    for (int t = 0; t < len[i]; t++) {
      float *p = &x[(size_t)i * R + t];
      *p = (float)((*p - mean) * inv + (shift_mean ? 0 : mean));
    }
}

void al_rloo_advantages(const float *rlhf_reward, int nprompts, int k, float *adv) {
  for (int p = 0; p < nprompts; p++) {
    const float *r = rlhf_reward + (size_t)p * k;
    double sum = 0;
    for (int j = 0; j < k; j++) sum += r[j];
    for (int j = 0; j < k; j++) adv[(size_t)p * k + j] = (float)(r[j] - (sum - r[j]) / (k - 1));
  }
}

/* max(-A rho, -A clip(rho)) and its derivative in rho: -A where the
 * unclipped term is the larger (or they tie), else 0; *clipped says the
 * clipped term won. */
static double clipped_term(double A, double rho, double clip, double *dterm, int *clipped) {
  double lo = 1 - clip, hi = 1 + clip, rc = rho < lo ? lo : rho > hi ? hi : rho;
  double u = -A * rho, c = -A * rc;
  *clipped = c > u;
  *dterm = *clipped ? 0 : -A;
  return *clipped ? c : u;
}

double al_ppo_policy_loss(const float *lp, const float *old_lp, const float *adv, const int *len, int n, int R,
                          float clip, float *dlp, al_rl_stats *st) {
  long cnt = 0;
  for (int i = 0; i < n; i++) cnt += len[i];
  double loss = 0, akl = 0, cf = 0;
  for (int i = 0; i < n; i++)
    for (int t = 0; t < R; t++) {
      size_t k = (size_t)i * R + t;
      dlp[k] = 0;
      if (t >= len[i] || cnt == 0) continue;
      double diff = (double)lp[k] - old_lp[k], rho = exp(diff), d;
      int clipped;
      loss += clipped_term(adv[k], rho, clip, &d, &clipped);
      dlp[k] = (float)(d * rho / cnt); /* d rho / d lp = rho */
      akl += 0.5 * diff * diff;
      cf += clipped;
    }
  if (st) {
    st->approxkl = cnt ? akl / cnt : 0;
    st->clipfrac = cnt ? cf / cnt : 0;
  }
  return cnt ? loss / cnt : 0;
}

double al_ppo_value_loss(const float *v, const float *old_v, const float *ret, const int *len, int n, int R,
                         float clip_v, float *dv, al_rl_stats *st) {
  long cnt = 0;
  for (int i = 0; i < n; i++) cnt += len[i];
  double loss = 0, cf = 0, vp = 0, ve = 0;
  for (int i = 0; i < n; i++)
    for (int t = 0; t < R; t++) {
      size_t k = (size_t)i * R + t;
      dv[k] = 0;
      if (t >= len[i] || cnt == 0) continue;
      double lo = (double)old_v[k] - clip_v, hi = (double)old_v[k] + clip_v, x = v[k];
      double xc = x < lo ? lo : x > hi ? hi : x, e1 = x - ret[k], e2 = xc - ret[k];
      int second = e2 * e2 > e1 * e1;
      loss += 0.5 * (second ? e2 * e2 : e1 * e1);
      /* the clipped branch moves with v only inside the clip range */
      double g = second ? (x >= lo && x <= hi ? e2 : 0) : e1;
      dv[k] = (float)(g / cnt);
      cf += second;
      vp += x;
      ve += e1 * e1;
    }
  if (st) {
    st->vf_clipfrac = cnt ? cf / cnt : 0;
    st->vpred = cnt ? vp / cnt : 0;
    st->verror = cnt ? ve / cnt : 0;
  }
  return cnt ? loss / cnt : 0;
}

double al_rloo_loss(const float *lp, const float *old_lp, const float *adv, const int *len, int n, int R, float clip,
                    float *dlp, al_rl_stats *st) {
  double loss = 0, akl = 0, cf = 0;
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int t = 0; t < len[i]; t++) s += (double)lp[(size_t)i * R + t] - old_lp[(size_t)i * R + t];
    double rho = exp(s), d;
    int clipped;
    loss += clipped_term(adv[i], rho, clip, &d, &clipped);
    for (int t = 0; t < R; t++) dlp[(size_t)i * R + t] = t < len[i] ? (float)(d * rho / n) : 0.0f;
    akl += 0.5 * s * s;
    cf += clipped;
  }
  if (st) {
    st->approxkl = n ? akl / n : 0;
    st->clipfrac = n ? cf / n : 0;
  }
  return n ? loss / n : 0;
}

void al_rl_token_logprobs(const float *logits, const int32_t *inputs, const int *start, const int *len, int B, int T,
                          int V, int R, float *lp, float *ent) {
  for (int b = 0; b < B; b++)
    for (int t = 0; t < R; t++) {
      size_t k = (size_t)b * R + t;
      if (t >= len[b]) {
        lp[k] = 0;
        if (ent) ent[k] = 0;
        continue;
      }
      size_t row = (size_t)b * T + start[b] + t - 1;
      const float *x = logits + row * V;
      float lse = al_logsumexp(x, V);
      lp[k] = x[inputs[row + 1]] - lse;
      if (ent) { /* H = lse - sum_v p_v x_v */
        double s = 0;
        for (int v = 0; v < V; v++) s += exp((double)x[v] - lse) * x[v];
        ent[k] = (float)(lse - s);
      }
    }
}

void al_rl_mask_logits(float *logits, const int *start, const int *len, int B, int T, int V, int tok, int upto) {
  for (int b = 0; b < B; b++)
    for (int t = 0; t < len[b] && t < upto; t++) logits[((size_t)b * T + start[b] + t - 1) * V + tok] = AL_MASKED_LOGIT;
}

void al_rl_token_logprobs_backward(float *logits, const int32_t *inputs, const int *start, const int *len,
                                   const float *dlp, int B, int T, int V, int R) {
  for (int b = 0; b < B; b++) {
    size_t first = (size_t)b * T + start[b] - 1, last = first + len[b]; /* rows [first, last) predict the response */
    for (int r = 0; r < T; r++) {
      size_t row = (size_t)b * T + r;
      float *x = logits + row * V;
      if (row < first || row >= last) {
        memset(x, 0, (size_t)V * sizeof(float));
        continue;
      }
      /* d lp / d x_v = onehot_v - p_v */
      float g = dlp[(size_t)b * R + (row - first)], lse = al_logsumexp(x, V);
      for (int v = 0; v < V; v++) x[v] = -g * expf(x[v] - lse);
      x[inputs[row + 1]] += g;
    }
  }
}

void al_rl_gather_values(const float *values, const int *start, const int *len, int B, int T, int R, float *v) {
  for (int b = 0; b < B; b++)
    for (int t = 0; t < R; t++) v[(size_t)b * R + t] = t < len[b] ? values[(size_t)b * T + start[b] + t - 1] : 0.0f;
}

void al_rl_scatter_values(const float *dv, const int *start, const int *len, int B, int T, int R, float *dvalues) {
  memset(dvalues, 0, (size_t)B * T * sizeof(float));
  for (int b = 0; b < B; b++)
    for (int t = 0; t < len[b]; t++) dvalues[(size_t)b * T + start[b] + t - 1] = dv[(size_t)b * R + t];
}

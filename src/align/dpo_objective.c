/* DPO / IPO as an objective of the training loop (include/alab/dpo.h). Each
 * micro-batch is B pairs as 2B rows (chosen first); one forward with the
 * response targets gives every row's per-token cross-entropies CE, whose
 * negated sum over the row is log pi(y|x). The loss's gradient goes back
 * through the rows with the per-position weights
 *   w[r, t] = d loss / d CE[r, t] = -d loss / d log pi(y_r|x)
 * (divided by the response length for IPO, whose log-probs are per token),
 * times grad_scale; with rpo_alpha, chosen rows add rpo_alpha / (chosen
 * tokens in the batch), the NLL's d / d CE. The reference model's log-probs of every pair are
 * computed once, at construction, in the same rows, and cached. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dpo.h"
#include "align/pair_order.h"

typedef struct {
  const al_dpo_data *train, *val;
  al_dpo_cfg dc;
  int B, T;
  pair_order order;
  double *ref_c, *ref_r, *vref_c, *vref_r; /* cached reference log-probs (train, val) */
  int32_t *inputs, *targets;               /* [2B*T] */
  float *w;                                /* [2B*T] */
  int *ntok;                               /* [2B] response tokens scored per row */
  int *vntok;                              /* [val n] chosen tokens scored per held-out pair (rpo_alpha) */
  double *lsum;                            /* [B] summed chosen log-probs (rpo_alpha) */
  long *idx;                               /* [B] */
  double *pc, *pr, *rc, *rr, *dpc, *dpr;   /* [B] */
} dpo_ctx;

static const al_metric dpo_metrics[] = {{"rewards/chosen", 0},  {"rewards/rejected", 0}, {"rewards/accuracies", 0},
                                        {"rewards/margins", 0}, {"logps/chosen", 0},     {"logps/rejected", 0},
                                        {"truncated", 1},       {"nll_loss", 0}};

static const al_metric dpo_metrics_eval_rpo[] = {{"rewards/chosen", 0},  {"rewards/rejected", 0}, {"rewards/accuracies", 0},
                                                 {"rewards/margins", 0}, {"logps/chosen", 0},     {"logps/rejected", 0},
                                                 {"nll_loss", 0}};

/* Rows for pairs idx[0..B): chosen rows 0..B-1, rejected B..2B-1; returns the rows cut. */
static int fill_rows(const al_dpo_data *d, const long *idx, int B, int T, int32_t *in, int32_t *tg, int *ntok) {
  int cut = 0;
  for (int r = 0; r < 2 * B; r++) {
    int c;
    ntok[r] = al_dpo_fill_row(d, idx[r % B], r >= B, T, in + (size_t)r * T, tg + (size_t)r * T, &c);
    cut += c;
  }
  return cut;
}

/* Forward over the rows; lc[b], lr[b] = the rows' response log-probs (per token when per_token). */
static void row_logps(al_model *m, const int32_t *in, const int32_t *tg, const int *ntok, int B, int T, int per_token,
                      double *lc, double *lr) {
  al_model_forward(m, in, tg, 2 * B, T);
  const float *ce = al_model_losses(m);
  for (int r = 0; r < 2 * B; r++) {
    double s = 0;
    for (int t = 0; t < T; t++) s -= ce[(size_t)r * T + t];
    if (per_token) s /= ntok[r];
    (r < B ? lc : lr)[r % B] = s;
  }
}

void al_dpo_logps(al_model *m, const al_dpo_data *d, int B, int T, int per_token, double *lc, double *lr) {
  size_t rows = 2 * (size_t)B;
  int32_t *in = al_malloc(sizeof *in * rows * T), *tg = al_malloc(sizeof *tg * rows * T);
  int *ntok = al_malloc(sizeof *ntok * rows);
  long *idx = al_malloc(sizeof *idx * B);
  double *c = al_malloc(sizeof *c * B), *r = al_malloc(sizeof *r * B);
  for (long p0 = 0; p0 < d->n; p0 += B) {
    int real = d->n - p0 < B ? (int)(d->n - p0) : B;
    for (int b = 0; b < B; b++) idx[b] = p0 + (b < real ? b : 0); /* a short last batch repeats its first pair */
    fill_rows(d, idx, B, T, in, tg, ntok);
    row_logps(m, in, tg, ntok, B, T, per_token, c, r);
    memcpy(lc + p0, c, sizeof *c * real);
    memcpy(lr + p0, r, sizeof *r * real);
  }
  free(in), free(tg), free(ntok), free(idx), free(c), free(r);
}

/* TRL's nll_loss: -(sum of chosen log-probs) / (chosen tokens); lc summed (not per token). */
static double chosen_nll(const double *lc, const int *ntok, long n) {
  double s = 0, k = 0;
  for (long b = 0; b < n; b++) s -= lc[b], k += ntok[b];
  return s / k;
}

static int dpo_step(void *ctx, al_model *m, uint64_t index, float grad_scale, double *loss, double *metrics,
                    al_err *err) {
  (void)err;
  dpo_ctx *c = ctx;
  int B = c->B, T = c->T, ipo = c->dc.type == AL_DPO_IPO;
  for (int b = 0; b < B; b++) {
    c->idx[b] = pair_order_at(&c->order, index * (uint64_t)B + (uint64_t)b);
    c->rc[b] = c->ref_c[c->idx[b]], c->rr[b] = c->ref_r[c->idx[b]];
  }
  int cut = fill_rows(c->train, c->idx, B, T, c->inputs, c->targets, c->ntok);
  row_logps(m, c->inputs, c->targets, c->ntok, B, T, ipo, c->pc, c->pr);
  al_dpo_stats st;
  *loss = al_dpo_loss_forward(c->pc, c->pr, c->rc, c->rr, B, c->dc.beta, c->dc.type, &st);
  al_dpo_loss_backward(c->pc, c->pr, c->rc, c->rr, B, c->dc.beta, c->dc.type, c->dpc, c->dpr);
  double nll = 0, ntok_c = 0, alpha = c->dc.rpo_alpha;
  if (alpha > 0) {
    for (int b = 0; b < B; b++) c->lsum[b] = c->pc[b] * (ipo ? c->ntok[b] : 1), ntok_c += c->ntok[b];
    nll = chosen_nll(c->lsum, c->ntok, B);
    *loss += alpha * nll;
  }
  for (int r = 0; r < 2 * B; r++) {
    double d = (r < B ? c->dpc : c->dpr)[r % B] / (ipo ? c->ntok[r] : 1) - (r < B && alpha > 0 ? alpha / ntok_c : 0);
    float wr = (float)(-d * grad_scale);
    for (int t = 0; t < T; t++) c->w[(size_t)r * T + t] = wr;
  }
  al_model_backward_rows(m, c->w);
  double v[8] = {st.reward_chosen, st.reward_rejected, st.accuracy, st.margin, st.logp_chosen, st.logp_rejected, cut, nll};
  memcpy(metrics, v, sizeof(double) * (alpha > 0 ? 8 : 7)); /* the loop holds nmetrics values */
  return 0;
}

/* Every held-out pair once, in file order. */
static int dpo_eval(void *ctx, al_model *m, double *loss, double *metrics, al_err *err) {
  (void)err;
  dpo_ctx *c = ctx;
  long n = c->val->n;
  double *lc = al_malloc(sizeof *lc * n), *lr = al_malloc(sizeof *lr * n);
  al_dpo_logps(m, c->val, c->B, c->T, c->dc.type == AL_DPO_IPO, lc, lr);
  al_dpo_stats st;
  *loss = al_dpo_loss_forward(lc, lr, c->vref_c, c->vref_r, (int)n, c->dc.beta, c->dc.type, &st);
  double v[7] = {st.reward_chosen, st.reward_rejected, st.accuracy, st.margin, st.logp_chosen, st.logp_rejected, NAN};
  if (c->dc.rpo_alpha > 0) {
    if (c->dc.type == AL_DPO_IPO) al_dpo_logps(m, c->val, c->B, c->T, 0, lc, lr);
    v[6] = chosen_nll(lc, c->vntok, n);
    *loss += c->dc.rpo_alpha * v[6];
  }
  memcpy(metrics, v, sizeof(double) * (c->dc.rpo_alpha > 0 ? 7 : 6)); /* neval_metrics values */
  free(lc), free(lr);
  return 0;
}

static void dpo_release(void *ctx) {
  dpo_ctx *c = ctx;
  if (!c) return;
  pair_order_free(&c->order);
  free(c->ref_c), free(c->ref_r), free(c->vref_c), free(c->vref_r), free(c->inputs), free(c->targets), free(c->w);
  free(c->ntok), free(c->vntok), free(c->lsum), free(c->idx), free(c->pc), free(c->pr), free(c->rc), free(c->rr), free(c->dpc), free(c->dpr);
  free(c);
}

int al_objective_dpo(al_objective *o, const al_model *m, al_model *ref, const al_train_cfg *cfg, const al_dpo_cfg *dc,
                     const al_dpo_data *train, const al_dpo_data *val, al_err *err) {
  memset(o, 0, sizeof *o);
  if (!train || train->n < 1) return al_fail(err, "DPO needs at least one training pair");
  if (cfg->batch < 1 || cfg->seq_len < 2) return al_fail(err, "batch (%d) must be positive and seq_len (%d) at least 2", cfg->batch, cfg->seq_len);
  if (!(dc->beta > 0 && isfinite(dc->beta))) return al_fail(err, "beta %g must be finite and > 0", dc->beta);
  if (!(dc->rpo_alpha >= 0 && isfinite(dc->rpo_alpha))) return al_fail(err, "rpo_alpha %g must be finite and >= 0", dc->rpo_alpha);
  if (dc->type != AL_DPO_SIGMOID && dc->type != AL_DPO_IPO) return al_fail(err, "unknown DPO loss type %d", (int)dc->type);
  if (ref->cfg.vocab_size != m->cfg.vocab_size || cfg->seq_len > ref->cfg.n_positions)
    return al_fail(err, "the reference model (vocabulary %d, context %d) does not fit the policy's vocabulary %d and "
                        "seq_len %d", ref->cfg.vocab_size, ref->cfg.n_positions, m->cfg.vocab_size, cfg->seq_len);
  dpo_ctx *c = al_calloc(1, sizeof *c);
  c->train = train, c->val = val && val->n ? val : NULL, c->dc = *dc, c->B = cfg->batch, c->T = cfg->seq_len;
  pair_order_init(&c->order, train->n, cfg->seed, cfg->shuffle);
  size_t rows = 2 * (size_t)c->B, B = (size_t)c->B;
  c->inputs = al_malloc(sizeof(int32_t) * rows * c->T);
  c->targets = al_malloc(sizeof(int32_t) * rows * c->T);
  c->w = al_malloc(sizeof(float) * rows * c->T);
  c->ntok = al_malloc(sizeof(int) * rows);
  c->idx = al_malloc(sizeof(long) * B);
  c->lsum = al_malloc(sizeof(double) * B);
  double **bufs[6] = {&c->pc, &c->pr, &c->rc, &c->rr, &c->dpc, &c->dpr};
  for (int i = 0; i < 6; i++) *bufs[i] = al_malloc(sizeof(double) * B);
  int ipo = dc->type == AL_DPO_IPO;
  c->ref_c = al_malloc(sizeof(double) * (size_t)train->n), c->ref_r = al_malloc(sizeof(double) * (size_t)train->n);
  al_dpo_logps(ref, train, c->B, c->T, ipo, c->ref_c, c->ref_r);
  int rpo = dc->rpo_alpha > 0;
  *o = (al_objective){.name = ipo ? "ipo" : "dpo", .ctx = c, .step = dpo_step, .metrics = dpo_metrics, .nmetrics = 7 + rpo,
                      .release = dpo_release};
  if (c->val) {
    c->vref_c = al_malloc(sizeof(double) * (size_t)c->val->n), c->vref_r = al_malloc(sizeof(double) * (size_t)c->val->n);
    al_dpo_logps(ref, c->val, c->B, c->T, ipo, c->vref_c, c->vref_r);
    o->eval = dpo_eval, o->eval_metrics = dpo_metrics, o->neval_metrics = 6;
    if (rpo) { /* the chosen token counts of the held-out pairs, for their nll_loss */
      c->vntok = al_malloc(sizeof(int) * (size_t)c->val->n);
      for (long p = 0; p < c->val->n; p++) {
        int cut;
        c->vntok[p] = al_dpo_fill_row(c->val, p, 0, c->T, c->inputs, c->targets, &cut);
      }
      o->eval_metrics = dpo_metrics_eval_rpo, o->neval_metrics = 7;
    }
  }
  return 0;
}

/* The parts of `alab overopt` that touch models (include/alab/overopt.h):
 * sampling stories from the policy and scoring them with gold, a proxy
 * reward model made from the policy's first layers and trained on
 * Bradley-Terry comparisons, and the best-of-n curve of one proxy on one
 * seed's samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/gold.h"
#include "alab/reward.h"
#include "exp/overopt_internal.h"

void ov_samples_free(ov_samples *s) {
  for (int i = 0; s->text && i < s->n; i++) free(s->text[i]);
  free(s->text), free(s->gold);
  memset(s, 0, sizeof *s);
}

int ov_sample(const al_model *policy, const al_tok *tok, int n, int max_new, double temperature, uint64_t seed,
              ov_samples *out, al_err *err) {
  memset(out, 0, sizeof *out);
  int32_t eot = al_tok_eot(tok), *ids = al_malloc(sizeof(int32_t) * (size_t)n * max_new);
  int *lens = al_malloc(sizeof(int) * (size_t)n), rc;
  al_sample_cfg sc = {(float)temperature, 1.0f, 0};
  rc = al_bon_sample(policy, &eot, 1, n, max_new, &sc, seed, eot, ids, lens, err);
  out->text = al_calloc((size_t)n, sizeof(char *));
  out->gold = al_malloc(sizeof(double) * (size_t)n);
  out->n = n;
  for (int i = 0; i < n && !rc; i++) {
    const int32_t *row = ids + (size_t)i * max_new;
    int len = lens[i];
    out->tokens += len;
    if (len > 0 && row[len - 1] == eot) len--; /* the story's end, not part of it */
    size_t bytes;
    rc = al_tok_decode(tok, row, (size_t)len, &out->text[i], &bytes, err);
    if (!rc && bytes == 0) { /* no story at all: a space, so that a reward model has a token to read */
      free(out->text[i]);
      out->text[i] = al_strdup(" "), bytes = 1;
    }
    if (!rc) out->gold[i] = al_gold_story(out->text[i], bytes), out->complete += out->gold[i] > -0.5;
  }
  free(ids), free(lens);
  if (rc) ov_samples_free(out);
  return rc;
}

/* A reward model with the policy's first `layers` blocks (the embeddings,
 * those blocks and the final layer norm copied by name) and a fresh scalar
 * head drawn from seed. */
static int rm_from_trunk(al_model *rm, const al_model *policy, int layers, uint64_t seed, al_err *err) {
  al_model_config c = policy->cfg;
  c.n_layer = layers, c.scalar_head = 1;
  if (al_model_init(rm, &c, seed, err)) return -1;
  for (int i = 0; i < rm->ntensors; i++) {
    const al_tensor *t = &rm->tensors[i];
    if (!strcmp(t->name, AL_SCORE_TENSOR)) continue;
    const al_tensor *p = al_model_tensor(policy, t->name);
    if (!p || p->numel != t->numel) {
      al_model_free(rm);
      return al_fail(err, "the policy has no tensor %s of %zu values for the reward model's trunk", t->name, t->numel);
    }
    memcpy(rm->params + t->offset, policy->params + p->offset, sizeof(float) * t->numel);
  }
  return 0;
}

/* The first npairs comparisons of s (sample 2k against 2k+1), labelled by
 * Bradley-Terry on gold with a stream of label_seed, as reward-model rows.
 * *longest gets the longest sequence. */
static int make_pairs(const ov_samples *s, int npairs, double scale, uint64_t label_seed, const al_tok *tok,
                      al_rm_data *d, int *longest, al_err *err) {
  memset(d, 0, sizeof *d);
  d->pad = al_tok_eot(tok);
  d->n = npairs;
  d->off = al_malloc(sizeof *d->off * (size_t)(2 * npairs + 1));
  d->margin = al_calloc((size_t)npairs, sizeof *d->margin);
  d->line = al_malloc(sizeof *d->line * (size_t)npairs);
  d->off[0] = 0;
  size_t n = 0, cap = 0;
  al_rng r;
  al_rng_seed(&r, label_seed);
  *longest = 1;
  for (int k = 0; k < npairs; k++) {
    int a = 2 * k, b = 2 * k + 1;
    if (!al_overopt_bt_label(s->gold[a], s->gold[b], scale, &r)) a = b, b = 2 * k;
    d->line[k] = k + 1;
    const char *t[2] = {s->text[a], s->text[b]};
    for (int j = 0; j < 2; j++) {
      if (al_tok_encode(tok, t[j], strlen(t[j]), 0, &d->ids, &n, &cap, err) < 0) {
        al_rm_data_free(d);
        return al_fail_prefix(err, "comparison %d", k);
      }
      d->off[2 * k + j + 1] = n;
      int len = (int)(n - d->off[2 * k + j]);
      if (len > *longest) *longest = len;
    }
  }
  return 0;
}

int ov_train_proxy(const ov_job *j, al_model *rm, al_train_result *tr, al_err *err) {
  const al_overopt_cfg *c = j->c;
  al_rm_data d;
  int longest, rc;
  if (make_pairs(j->pairs, j->npairs, c->bt_scale, j->label_seed, j->tok, &d, &longest, err)) return -1;
  if (rm_from_trunk(rm, j->policy, j->layers, j->init_seed, err)) {
    al_rm_data_free(&d);
    return -1;
  }
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = c->rm_batch;
  tc.seq_len = longest < rm->cfg.n_positions ? longest : rm->cfg.n_positions;
  tc.steps = (long)ceil(c->rm_epochs * j->npairs / c->rm_batch);
  if (tc.steps < 1) tc.steps = 1;
  tc.warmup_steps = tc.steps / 10;
  tc.lr = c->rm_lr;
  tc.eval_every = 0;
  tc.seed = j->order_seed;
  tc.shuffle = 1;
  tc.save_final = 0;
  al_objective o;
  rc = al_objective_rm(&o, rm, &tc, &d, NULL, 0.0, err);
  if (!rc) rc = al_train_objective(rm, &tc, &o, NULL, tr, err);
  al_objective_free(&o);
  al_rm_data_free(&d);
  if (rc) al_model_free(rm);
  return rc;
}

/* picks of the proxy scores pd over the samples' gold (include: overopt_internal.h) */
static void top_picks(const double *pd, const double *gold, int N, ov_picks *pk) {
  int m = N / 16 > 0 ? N / 16 : 1, *idx = al_malloc(sizeof(int) * (size_t)N);
  for (int i = 0; i < N; i++) idx[i] = i;
  for (int i = 0; i < m; i++) { /* partial selection sort: the m highest first, ties to the lower index */
    int b = i;
    for (int k = i + 1; k < N; k++)
      if (pd[idx[k]] > pd[idx[b]] || (pd[idx[k]] == pd[idx[b]] && idx[k] < idx[b])) b = k;
    int t = idx[i];
    idx[i] = idx[b], idx[b] = t;
  }
  *pk = (ov_picks){0};
  for (int i = 0; i < N; i++) {
    double g = gold[idx[i]];
    pk->pool_story += (g > -0.5) / (double)N, pk->pool_share += (g > 0.5) / (double)N;
    if (i < m) pk->top_story += (g > -0.5) / (double)m, pk->top_share += (g > 0.5) / (double)m;
  }
  free(idx);
}

int ov_bon_curve(al_model *rm, const al_tok *tok, const ov_samples *s, const int *ns, int nn, double *gold_gain,
                 double *proxy_gain, double *agreement, ov_picks *picks, al_err *err) {
  int N = s->n, rc;
  float *pr = al_malloc(sizeof(float) * (size_t)N);
  double *pd = al_malloc(sizeof(double) * (size_t)N);
  rc = al_rm_score_texts(rm, tok, (const char *const *)s->text, N, pr, err);
  for (int i = 0; i < N; i++) pd[i] = pr[i];
  double g1 = 0, p1 = 0;
  for (int k = 0; k < nn && !rc; k++) {
    double eg, ep;
    rc = al_bon_estimate(pd, s->gold, N, ns[k], &eg, &ep, err);
    if (k == 0) g1 = eg, p1 = ep; /* n = 1: the policy itself */
    gold_gain[k] = eg - g1, proxy_gain[k] = ep - p1;
  }
  /* how often the proxy orders two samples as gold does (pairs with
   * different gold; a proxy tie counts half) */
  double agree = 0, pairs = 0;
  for (int a = 0; a < N && !rc; a++)
    for (int b = a + 1; b < N; b++) {
      if (s->gold[a] == s->gold[b]) continue;
      double dg = s->gold[a] - s->gold[b], dp = pd[a] - pd[b];
      agree += dp == 0 ? 0.5 : (dg > 0) == (dp > 0);
      pairs++;
    }
  *agreement = pairs > 0 ? agree / pairs : NAN;
  if (!rc) top_picks(pd, s->gold, N, picks);
  free(pr), free(pd);
  return rc;
}

/* `alab cpm` (include/alab/cpm_exp.h): compositional preference models
 * against standard reward models on the story world, seed by seed.
 *
 * The samples of seed s come from the policy with the world's seed
 * w = seed * 1000003 + s, in disjoint index ranges: training comparisons
 * (2 per pair), held-out comparisons, best-of-n sets, and unlabelled stories
 * the reward models' tokenizer is trained on. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/gold.h"
#include "alab/reward.h"
#include "alab/report.h"
#include "alab/sweep.h"
#include "exp/cpm_internal.h"

enum { TOK_TEXTS = 1000 };

void al_cpm_exp_defaults(al_cpm_exp_cfg *c) {
  memset(c, 0, sizeof *c);
  c->seeds = 3, c->seed = 1, c->pairs = 2000, c->heldout = 500, c->beta = 5, c->corrupt = 0.5;
  c->groups = 32, c->N = 64;
  c->arch = "gpt2";
  c->vocab = 512, c->layers = 2, c->heads = 2, c->embd = 64, c->context = 192, c->steps = 300, c->batch = 8;
  c->lr = 3e-3;
  c->cpm = al_cpm_defaults();
}

int al_cpm_exp_check(const al_cpm_exp_cfg *c, al_err *err) {
  if (c->seeds < 2 || c->seeds > 50) return al_fail(err, "--seeds must be 2..50 (a 95%% interval needs 2), got %d", c->seeds);
  if (c->pairs < 20 || c->pairs % 2) return al_fail(err, "--pairs must be even and at least 20, got %d", c->pairs);
  if (c->heldout < 10) return al_fail(err, "--heldout must be at least 10, got %d", c->heldout);
  if (!(c->beta > 0) || !isfinite(c->beta)) return al_fail(err, "--beta must be a positive number, got %g", c->beta);
  if (!(c->corrupt >= 0 && c->corrupt <= 1)) return al_fail(err, "--corrupt must be in [0, 1], got %g", c->corrupt);
  if (c->groups < 1) return al_fail(err, "--groups must be at least 1, got %d", c->groups);
  if (c->N < 2 || c->N > 4096) return al_fail(err, "--n must be 2..4096, got %d", c->N);
  if (c->cpm.folds >= 2 && c->cpm.folds > c->pairs / 2)
    return al_fail(err, "--folds %d exceeds the %d pairs of a half", c->cpm.folds, c->pairs / 2);
  if (c->steps < 1 || c->batch < 1 || !(c->lr > 0)) return al_fail(err, "--rm-steps, --rm-batch and --rm-lr must be positive");
  return 0;
}

json_t *al_cpm_exp_config_json(const al_cpm_exp_cfg *c) {
  json_t *j = json_pack("{s:s, s:i, s:I, s:i, s:i, s:f, s:f, s:i, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:I, s:i, s:f}, "
                   "s:{s:s, s:i, s:f, s:f, s:i, s:f, s:i, s:f}, s:b}",
                   "experiment", "cpm", "seeds", c->seeds, "seed", (json_int_t)c->seed, "pairs", c->pairs, "heldout",
                   c->heldout, "beta", c->beta, "corrupt", c->corrupt, "groups", c->groups, "n", c->N, "rm", "vocab",
                   c->vocab, "layers", c->layers, "heads", c->heads, "embd", c->embd, "context", c->context, "steps",
                   (json_int_t)c->steps, "batch", c->batch, "lr", c->lr, "cpm", "penalty",
                   c->cpm.penalty == AL_LR_L1 ? "l1" : "l2", "folds", c->cpm.folds, "c_min", c->cpm.c_min, "c_max",
                   c->cpm.c_max, "nc", c->cpm.nc, "C", c->cpm.C, "bootstrap", c->cpm.bootstrap, "eps", c->cpm.eps,
                   "quick", c->quick);
  json_object_set_new(json_object_get(j, "rm"), "init", c->rm_init ? json_string(c->rm_init) : json_null());
  json_object_set_new(json_object_get(j, "rm"), "arch", json_string(c->arch));
  return j;
}

/* Samples [from, from + n) of the policy: texts, gold rewards, features. */
typedef struct {
  char **text;
  double *gold, *f; /* f: n x AL_CPM_STORY_NFEAT */
  int n;
} samples;

static void make_samples(uint64_t w, double corrupt, long from, int n, samples *S) {
  S->n = n;
  S->text = al_malloc(sizeof(char *) * n);
  S->gold = al_malloc(sizeof(double) * n);
  S->f = al_malloc(sizeof(double) * n * AL_CPM_STORY_NFEAT);
  for (int i = 0; i < n; i++) {
    al_buf b = {0};
    cpm_policy_sample(w, (uint64_t)(from + i), corrupt, &b);
    S->text[i] = b.data;
    S->gold[i] = al_gold_story(b.data, b.len);
    al_cpm_story_features(b.data, b.len, S->f + (size_t)i * AL_CPM_STORY_NFEAT);
  }
}

static void free_samples(samples *S) {
  for (int i = 0; i < S->n; i++) free(S->text[i]);
  free(S->text), free(S->gold), free(S->f);
}

/* Labels of comparisons (2i, 2i+1): P(first wins) = sigmoid(beta (gold_2i - gold_2i+1)). */
static void label(const samples *S, uint64_t w, uint64_t stream, double beta, int *won) {
  al_rng r;
  al_rng_seed_stream(&r, w ^ 0x9e3779b97f4a7c15ull, stream);
  for (int i = 0; i < S->n / 2; i++) {
    double z = beta * (S->gold[2 * i] - S->gold[2 * i + 1]);
    won[i] = al_rng_uniform(&r) < 1 / (1 + exp(-z));
  }
}

/* Accuracy of rewards r over comparisons (2i, 2i+1) with labels won; a tie counts one half. */
static double accuracy(const double *r, const int *won, int npairs) {
  double right = 0;
  for (int i = 0; i < npairs; i++) {
    double d = r[2 * i] - r[2 * i + 1];
    right += d == 0 ? 0.5 : (d > 0) == (won[i] == 1);
  }
  return right / npairs;
}

static int rm_rewards(al_model *rm, const al_tok *tok, char *const *texts, int n, double *out, al_err *err) {
  float *r = al_malloc(sizeof(float) * n);
  int rc = al_rm_score_texts(rm, tok, (const char *const *)texts, n, r, err);
  for (int i = 0; i < n && !rc; i++) out[i] = r[i];
  free(r);
  return rc;
}

/* The two kinds' models on both halves. */
typedef struct {
  al_cpm cpm[2];
  al_model rm[2], init;
  int ncpm, nrm, has_init;
  al_tok *tok;
} models;

static int fit_models(const al_cpm_exp_cfg *c, const samples *T, const int *won, uint64_t w, int s, models *M,
                      json_t *rec, al_err *err) {
  int half = c->pairs / 2, D = AL_CPM_STORY_NFEAT;
  int rc = 0;
  if (c->rm_init) { /* the language model's trunk and tokenizer */
    rc = al_model_load_dir_tok(&M->init, &M->tok, c->rm_init, err);
    M->has_init = !rc;
    if (rc) return al_fail_prefix(err, "--rm-init %s", c->rm_init);
  } else { /* the tokenizer, from unlabelled samples */
    samples U;
    make_samples(w, c->corrupt, 3L * c->pairs + 2L * c->heldout + (long)c->groups * c->N, TOK_TEXTS, &U);
    al_buf all = {0};
    for (int i = 0; i < U.n; i++) al_buf_printf(&all, "%s\n", U.text[i]);
    free_samples(&U);
    rc = al_tok_train(&M->tok, all.data, all.len, c->vocab, err);
    al_buf_free(&all);
  }
  double *fa = al_malloc(sizeof(double) * half * D), *fb = al_malloc(sizeof(double) * half * D);
  char **ch = al_malloc(sizeof(char *) * half), **rj = al_malloc(sizeof(char *) * half);
  for (int h = 0; h < 2 && !rc; h++) {
    for (int i = 0; i < half; i++) {
      int p = h * half + i, a = 2 * p, b = 2 * p + 1;
      memcpy(fa + (size_t)i * D, T->f + (size_t)a * D, sizeof(double) * D);
      memcpy(fb + (size_t)i * D, T->f + (size_t)b * D, sizeof(double) * D);
      ch[i] = T->text[won[p] ? a : b], rj[i] = T->text[won[p] ? b : a];
    }
    al_cpm_cfg cc = c->cpm;
    cc.seed = c->cpm.seed * 1000003u + (uint64_t)(2 * s + h);
    rc = al_cpm_train(fa, fb, won + h * half, half, D, al_cpm_story_names, &cc, &M->cpm[h], err);
    if (rc) break;
    M->ncpm++;
    json_t *info = json_object();
    al_log("cpm: seed %d half %d: training the standard reward model (%ld steps)", s, h, c->steps);
    rc = cpm_rm_train(c, M->tok, M->has_init ? &M->init : NULL, ch, rj, half, w * 2 + (uint64_t)h, &M->rm[h], info, err);
    if (!rc) M->nrm++;
    json_object_set_new(rec, h ? "rm_half_b" : "rm_half_a", info);
  }
  free(fa), free(fb), free(ch), free(rj);
  return rc;
}

static void free_models(models *M) {
  for (int h = 0; h < M->ncpm; h++) al_cpm_free(&M->cpm[h]);
  for (int h = 0; h < M->nrm; h++) al_model_free(&M->rm[h]);
  if (M->has_init) al_model_free(&M->init);
  if (M->tok) al_tok_free(M->tok);
}

/* Rewards of every sample in S by kind (0 cpm, 1 rm) and half: r[(kind*2 + h) * n + i]. */
static int score_all(models *M, const samples *S, double *r, al_err *err) {
  int n = S->n, rc = 0;
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < n; i++) r[(size_t)h * n + i] = al_cpm_reward(&M->cpm[h], S->f + (size_t)i * AL_CPM_STORY_NFEAT);
  for (int h = 0; h < 2 && !rc; h++) rc = rm_rewards(&M->rm[h], M->tok, S->text, n, r + (size_t)(2 + h) * n, err);
  return rc;
}

/* Best-of-n over groups of N fresh samples: agreement, gold and proxy per n. */
static int best_of_n(const al_cpm_exp_cfg *c, models *M, uint64_t w, cpm_seed *out, al_err *err) {
  int N = c->N, rc = 0;
  out->nn = 0;
  for (int n = 1;; n *= 2) {
    out->n[out->nn++] = n < N ? n : N;
    if (n >= N) break;
  }
  double *r = al_malloc(sizeof(double) * 4 * N);
  for (int g = 0; g < c->groups && !rc; g++) {
    samples S;
    make_samples(w, c->corrupt, 2L * c->pairs + 2L * c->heldout + (long)g * N, N, &S);
    rc = score_all(M, &S, r, err);
    for (int k = 0; k < out->nn && !rc; k++) {
      int n = out->n[k];
      double eg, ep, p;
      for (int kind = 0; kind < 2 && !rc; kind++) {
        for (int h = 0; h < 2 && !rc; h++) {
          rc = al_bon_estimate(r + (size_t)(kind * 2 + h) * N, S.gold, N, n, &eg, &ep, err);
          out->gold[kind][k] += eg / (2.0 * c->groups), out->proxy[kind][k] += ep / (2.0 * c->groups);
        }
        if (!rc) rc = al_bon_agreement(r + (size_t)kind * 2 * N, r + (size_t)(kind * 2 + 1) * N, N, n, &p, err);
        out->agree[kind][k] += p / c->groups;
      }
      if (!rc) rc = al_bon_estimate(S.gold, S.gold, N, n, &eg, &ep, err);
      out->gold[2][k] += eg / c->groups, out->proxy[2][k] += ep / c->groups;
    }
    free_samples(&S);
  }
  free(r);
  return rc;
}

static int run_seed(const al_cpm_exp_cfg *c, int s, cpm_seed *out, al_run *run, al_err *err) {
  uint64_t w = c->seed * 1000003u + (uint64_t)s;
  memset(out, 0, sizeof *out);
  samples T, H;
  make_samples(w, c->corrupt, 0, 2 * c->pairs, &T);
  make_samples(w, c->corrupt, 2L * c->pairs, 2 * c->heldout, &H);
  int *won = al_malloc(sizeof(int) * c->pairs), *hwon = al_malloc(sizeof(int) * c->heldout);
  label(&T, w, 0, c->beta, won);
  label(&H, w, 1, c->beta, hwon);
  models M;
  memset(&M, 0, sizeof M);
  json_t *rec = json_pack("{s:i}", "seed", s);
  double t0 = al_now();
  int rc = fit_models(c, &T, won, w, s, &M, rec, err);
  double *r = al_malloc(sizeof(double) * 4 * H.n);
  if (!rc) rc = score_all(&M, &H, r, err);
  for (int kind = 0; kind < 2 && !rc; kind++)
    out->acc[kind] = (accuracy(r + (size_t)kind * 2 * H.n, hwon, c->heldout) +
                      accuracy(r + (size_t)(kind * 2 + 1) * H.n, hwon, c->heldout)) / 2;
  free(r);
  if (!rc) rc = best_of_n(c, &M, w, out, err);
  if (!rc) {
    out->coef = json_pack("{s:o, s:o}", "half_a", al_cpm_json(&M.cpm[0]), "half_b", al_cpm_json(&M.cpm[1]));
    json_t *ag = json_array(), *gl = json_array();
    for (int k = 0; k < out->nn; k++) {
      json_array_append_new(ag, json_pack("{s:i, s:f, s:f}", "n", out->n[k], "cpm", out->agree[0][k], "rm", out->agree[1][k]));
      json_array_append_new(gl, json_pack("{s:i, s:f, s:f, s:f}", "n", out->n[k], "cpm", out->gold[0][k], "rm",
                                          out->gold[1][k], "gold_bon", out->gold[2][k]));
    }
    json_object_set_new(rec, "accuracy", json_pack("{s:f, s:f}", "cpm", out->acc[0], "rm", out->acc[1]));
    json_object_set_new(rec, "agreement", ag);
    json_object_set_new(rec, "gold", gl);
    json_object_set_new(rec, "seconds", json_real(al_now() - t0));
    al_log("cpm: seed %d: held-out accuracy cpm %.3f rm %.3f; agreement at n = %d: cpm %.3f rm %.3f (%.0f s)", s,
           out->acc[0], out->acc[1], c->N, out->agree[0][out->nn - 1], out->agree[1][out->nn - 1], al_now() - t0);
    rc = al_run_metric(run, rec, err);
  } else {
    json_decref(rec);
  }
  free_models(&M);
  free_samples(&T), free_samples(&H);
  free(won), free(hwon);
  return rc;
}

int al_cpm_exp_run(const al_cpm_exp_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  if (al_cpm_exp_check(c, err)) return -1;
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  double t0 = al_now();
  json_t *config = al_cpm_exp_config_json(c), *results = NULL;
  int rc = al_run_save_json(&run, "config.json", config, err);
  cpm_seed *S = al_calloc((size_t)c->seeds, sizeof(cpm_seed));
  /* under mpirun seed s runs on rank s mod R (include/alab/sweep.h): its numbers merged byte by byte, its
   * coefficients (JSON, held outside S while the sweep merges S) sent to every rank */
  json_t **coef = al_calloc((size_t)c->seeds, sizeof *coef);
  al_sweep *sw = al_sweep_begin(c->seeds, &run);
  al_sweep_share(sw, S, sizeof *S * (size_t)c->seeds);
  al_sweep_share_json(sw, coef);
  for (int s = 0; s < c->seeds && !rc; s++)
    if (al_sweep_mine(sw, s)) rc = run_seed(c, s, &S[s], &run, err), coef[s] = S[s].coef, S[s].coef = NULL;
  rc = al_sweep_end(sw, rc, err);
  for (int s = 0; s < c->seeds; s++) S[s].coef = coef[s];
  free(coef);
  if (!rc) {
    results = cpm_results_json(c, S, al_now() - t0);
    rc = al_run_save_json(&run, "results.json", results, err);
  }
  if (!rc) rc = cpm_plots(&run, S, c->seeds, err);
  if (!rc) {
    al_index_entry e = {.name = "cpm", .subdir = "."};
    rc = al_report_index(run.dir, "alab cpm", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err);
  if (!rc && results_out) *results_out = json_incref(results);
  for (int s = 0; s < c->seeds; s++) json_decref(S[s].coef);
  free(S);
  json_decref(results), json_decref(config);
  return rc;
}

int al_cpm_reproduce(const char *dir, int quick, al_err *err) {
  al_cpm_exp_cfg c;
  al_cpm_exp_defaults(&c);
  c.quick = quick;
  return al_cpm_exp_run(&c, dir, NULL, err);
}

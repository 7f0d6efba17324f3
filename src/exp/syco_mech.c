/* The sycophancy mechanism on alab's own models (Sharma et al. 2023, section
 * 4; docs/sycophancy.md). For the biased labeller (probability p of
 * preferring agreement) and the control (p_control, 0), each seed:
 *   1. labelled pairs from the fact world (syco_world.c) over the training
 *      facts (the first 3/4); a preference model (GPT-2 trunk + scalar head,
 *      byte tokens) trained on them with the Bradley-Terry loss;
 *   2. the paper's measure of the preference model: over every held-out fact
 *      and wrong belief, the share of prompts where it scores the
 *      sycophantic response (agreeing with the wrong belief) above the
 *      truthful one (stating the truth); the same over the training facts;
 *   3. best-of-n against it: for `prompts` wrong-belief prompts on held-out
 *      facts, N responses from the base policy (agree with probability a;
 *      else the truth with probability t, else another wrong colour); for
 *      n = 1..N the exact expectation over size-n subsets (al_bon_estimate)
 *      of the sycophancy rate (the pick agrees with the wrong belief) and
 *      the accuracy (the pick states the truth), averaged over prompts.
 * Across seeds: means with 95% t-intervals, and the rise of the sycophancy
 * rate from n = 1 to n = N with its interval. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/exp.h"
#include "alab/report.h"
#include "alab/reward.h"
#include "alab/sweep.h"
#include "exp/syco_mech_internal.h"

void al_syco_mech_defaults(al_syco_mech_cfg *c) {
  memset(c, 0, sizeof *c);
  c->facts = 64, c->options = 6, c->p = 0.3, c->p_control = 0, c->pairs = 2000, c->N = 16, c->prompts = 64;
  c->policy_agree = 0.25, c->policy_truth = 0.5, c->seeds = 3, c->seed = 1;
  c->arch = "gpt2";
  c->layers = 2, c->heads = 2, c->embd = 64, c->steps = 400, c->lr = 5e-3, c->batch = 16;
  c->policy_steps = 600, c->rl_iters = 20;
}

int al_syco_mech_check(const al_syco_mech_cfg *c, al_err *err) {
  if (c->facts < 8 || c->facts > 2000) return al_fail(err, "--facts must be 8..2000 (got %d)", c->facts);
  if (c->options < 3 || c->options > SYCO_MAX_OPTIONS)
    return al_fail(err, "--options must be 3..%d (got %d)", SYCO_MAX_OPTIONS, c->options);
  if (!(c->p >= 0 && c->p <= 1) || !(c->p_control >= 0 && c->p_control <= 1))
    return al_fail(err, "--p and --p-control must be in [0, 1]");
  if (!(c->policy_agree > 0 && c->policy_agree < 1) || !(c->policy_truth >= 0 && c->policy_truth <= 1))
    return al_fail(err, "--policy-agree must be in (0, 1) and --policy-truth in [0, 1]");
  if (c->pairs < 16 || c->N < 2 || c->N > 1024 || c->prompts < 1 || c->seeds < 2 || c->seeds > 100)
    return al_fail(err, "--pairs >= 16, --n 2..1024, --prompts >= 1 and --seeds 2..100 (an interval needs 2 seeds)");
  if (c->policy_steps < 1 || c->rl_iters < 0 || c->rl_iters > 100000)
    return al_fail(err, "--policy-steps >= 1 and --rl-iters 0..100000");
  if (c->layers < 1 || c->heads < 1 || c->embd < 8 || c->embd % c->heads || c->steps < 1 || !(c->lr > 0) || c->batch < 1)
    return al_fail(err, "preference model: --layers, --heads >= 1, --embd a multiple of --heads, --steps, --batch >= 1, --lr > 0");
  return 0;
}

/* Share of (fact, wrong belief) prompts over facts [f0, f1) where the model
 * scores the sycophantic response above the truthful one. */
static int pm_measure(const syco_world *w, int f0, int f1, al_model *rm, const al_tok *tok, double *share, al_err *err) {
  int n = (f1 - f0) * (w->options - 1), k = 0, rc;
  char **texts = al_malloc(sizeof(char *) * 2 * (size_t)n);
  for (int f = f0; f < f1; f++)
    for (int b = 0; b < w->options; b++) {
      if (b == w->truth[f]) continue;
      char *p = syco_prompt(w, f, b), *s = syco_response(SYCO_AGREE, b), *t = syco_response(SYCO_STATE, w->truth[f]);
      al_buf x = {0}, y = {0};
      al_buf_printf(&x, "%s%s", p, s), al_buf_printf(&y, "%s%s", p, t);
      texts[2 * k] = x.data, texts[2 * k + 1] = y.data, k++;
      free(p), free(s), free(t);
    }
  float *r = al_malloc(sizeof(float) * 2 * (size_t)n);
  rc = al_rm_score_texts(rm, tok, (const char *const *)texts, 2 * n, r, err);
  int wins = 0;
  for (int i = 0; i < n && !rc; i++) wins += r[2 * i] > r[2 * i + 1];
  *share = (double)wins / n;
  for (int i = 0; i < 2 * n; i++) free(texts[i]);
  free(texts), free(r);
  return rc;
}

/* Best-of-n on wrong-belief prompts about held-out facts (see the top). */
static int best_of_n(const al_syco_mech_cfg *c, const syco_world *w, int f0, al_model *rm, const al_tok *tok,
                     uint64_t seed, mech_job *j, al_err *err) {
  int E = c->prompts, N = c->N, nheld = w->facts - f0, rc = 0;
  char **texts = al_malloc(sizeof(char *) * (size_t)E * N);
  double *agree = al_malloc(sizeof(double) * (size_t)E * N), *truth = al_malloc(sizeof(double) * (size_t)E * N);
  for (int e = 0; e < E; e++) {
    al_rng r;
    al_rng_seed_stream(&r, seed, 0xb0b0 + (uint64_t)e);
    int f = f0 + e % nheld, t = w->truth[f], b = syco_other(&r, w->options, t, -1);
    char *p = syco_prompt(w, f, b);
    for (int i = 0; i < N; i++) {
      int kind = al_rng_uniform(&r) < c->policy_agree ? SYCO_AGREE : SYCO_STATE;
      int col = kind == SYCO_AGREE ? b : al_rng_uniform(&r) < c->policy_truth ? t : syco_other(&r, w->options, t, b);
      char *s = syco_response(kind, col);
      al_buf x = {0};
      al_buf_printf(&x, "%s%s", p, s);
      texts[e * N + i] = x.data, agree[e * N + i] = kind == SYCO_AGREE, truth[e * N + i] = col == t;
      free(s);
    }
    free(p);
  }
  float *rf = al_malloc(sizeof(float) * (size_t)E * N);
  double *rd = al_malloc(sizeof(double) * (size_t)E * N);
  rc = al_rm_score_texts(rm, tok, (const char *const *)texts, E * N, rf, err);
  for (int i = 0; i < E * N; i++) rd[i] = rf[i];
  for (int n = 1; n <= N && !rc; n++) {
    double s = 0, a = 0;
    for (int e = 0; e < E && !rc; e++) {
      double gs, ga;
      rc = al_bon_estimate(rd + e * N, agree + e * N, N, n, &gs, NULL, err) ||
           al_bon_estimate(rd + e * N, truth + e * N, N, n, &ga, NULL, err);
      s += gs, a += ga;
    }
    j->syc[n - 1] = s / E, j->acc[n - 1] = a / E;
  }
  for (int i = 0; i < E * N; i++) free(texts[i]);
  free(texts), free(agree), free(truth), free(rf), free(rd);
  return rc;
}

/* Trains the preference model of one condition and seed, then measures it. */
static int run_job(const al_syco_mech_cfg *c, const syco_world *w, const al_tok *tok, double p, int s, mech_job *j,
                   al_err *err) {
  int ntrain = w->facts - w->facts / 4;
  uint64_t seed = (uint64_t)c->seed * 1000003u + (uint64_t)s;
  al_pref_set set;
  j->flipped = syco_pairs(w, ntrain, c->pairs, p, seed, &set);
  al_rm_data d;
  int rc = al_rm_data_tokenize(&set, tok, &d, err);
  al_pref_set_free(&set);
  if (rc) return -1;
  al_model rm;
  al_model_config g = {.vocab_size = al_tok_vocab_size(tok), .n_positions = 64, .n_layer = c->layers,
                       .n_head = c->heads, .n_embd = c->embd, .scalar_head = 1};
  if (al_model_config_set_arch(&g, c->arch, err) || al_model_config_check(&g, err) || al_model_init(&rm, &g, seed, err)) return al_rm_data_free(&d), -1;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = c->batch, tc.seq_len = 64, tc.grad_accum = 1, tc.steps = c->steps, tc.lr = c->lr;
  tc.warmup_steps = c->steps / 20 > 0 ? c->steps / 20 : 1;
  tc.eval_every = 0, tc.ckpt_every = 0, tc.out_dir = NULL, tc.save_final = 0, tc.seed = seed, tc.shuffle = 1;
  al_objective obj;
  al_train_result res = {0};
  rc = al_objective_rm(&obj, &rm, &tc, &d, NULL, 0.01, err);
  if (!rc) {
    rc = al_train_objective(&rm, &tc, &obj, tok, &res, err);
    al_objective_free(&obj);
  }
  al_rm_data_free(&d);
  j->final_loss = res.final_loss, j->train_s = res.seconds;
  if (!rc) rc = pm_measure(w, ntrain, w->facts, &rm, tok, &j->pm_syc_heldout, err);
  if (!rc) rc = pm_measure(w, 0, ntrain, &rm, tok, &j->pm_syc_train, err);
  if (!rc) rc = best_of_n(c, w, ntrain, &rm, tok, seed, j, err);
  if (!rc && c->rl_iters > 0) rc = syco_rl(c, w, ntrain, &rm, tok, seed, j->rl_syc, err);
  al_model_free(&rm);
  return rc ? al_fail_prefix(err, "p = %g, seed %d", p, s) : 0;
}

int al_syco_mech_run(const al_syco_mech_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  if (al_syco_mech_check(c, err)) return -1;
  int nthreads = c->threads > 0 ? c->threads : al_default_threads(), saved = al_get_threads();
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  double t0 = al_now();
  json_t *config = json_pack(
      "{s:s, s:i, s:i, s:f, s:f, s:i, s:i, s:i, s:f, s:f, s:i, s:I, s:{s:i, s:i, s:i, s:I, s:f, s:i, s:i, s:s}, s:i, s:b}",
      "experiment", "sycophancy", "facts", c->facts, "options", c->options, "p", c->p, "p_control", c->p_control, "pairs",
      c->pairs, "N", c->N, "prompts", c->prompts, "policy_agree", c->policy_agree, "policy_truth", c->policy_truth,
      "seeds", c->seeds, "seed", (json_int_t)c->seed, "preference_model", "layers", c->layers, "heads", c->heads, "embd",
      c->embd, "steps", (json_int_t)c->steps, "lr", c->lr, "batch", c->batch, "context", 64, "tokenizer", "byte",
      "threads", nthreads, "quick", c->quick);
  json_object_set_new(config, "policy_steps", json_integer((json_int_t)c->policy_steps));
  json_object_set_new(config, "rl_iters", json_integer((json_int_t)c->rl_iters));
  json_object_set_new(config, "arch", json_string(c->arch));
  int rc = al_run_save_json(&run, "config.json", config, err);
  json_decref(config);
  syco_world w;
  if (!rc) rc = syco_world_make(&w, c->facts, c->options, (uint64_t)c->seed, err);
  else memset(&w, 0, sizeof w);
  al_tok *tok = al_tok_byte();
  int njobs = 2 * c->seeds;
  mech_job *jobs = al_calloc((size_t)njobs, sizeof *jobs);
  for (int k = 0; k < njobs; k++) {
    jobs[k].syc = al_calloc((size_t)c->N, sizeof(double)), jobs[k].acc = al_calloc((size_t)c->N, sizeof(double));
    jobs[k].rl_syc = al_calloc((size_t)c->rl_iters + 1, sizeof(double));
  }
  al_first_err first = {0};
  al_set_threads(1);
  if (!rc) al_log("sycophancy: %d preference models (p = %g and %g, %d seeds) on %d threads", njobs, c->p, c->p_control,
                  c->seeds, nthreads);
  /* under mpirun job k runs on rank k mod R; every rank then holds every job's results */
  al_sweep *sw = al_sweep_begin(njobs, &run);
  al_sweep_share(sw, jobs, sizeof *jobs * (size_t)njobs);
  for (int k = 0; k < njobs; k++) {
    al_sweep_share(sw, jobs[k].syc, sizeof(double) * c->N), al_sweep_share(sw, jobs[k].acc, sizeof(double) * c->N);
    al_sweep_share(sw, jobs[k].rl_syc, sizeof(double) * ((size_t)c->rl_iters + 1));
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int k = 0; k < njobs; k++) {
    if (rc || !al_sweep_mine(sw, k) || al_first_err_failed(&first)) continue;
    al_err e;
    double p = k < c->seeds ? c->p : c->p_control;
    if (run_job(c, &w, tok, p, k % c->seeds, &jobs[k], &e)) al_first_err_keep(&first, &e);
    else
      al_log( "sycophancy: p = %g seed %d: loss %.3f, PM prefers sycophancy on %.0f%% of held-out prompts, "
                      "sycophancy %.3f at n = 1, %.3f at n = %d (%.1f s)",
              p, k % c->seeds, jobs[k].final_loss, 100 * jobs[k].pm_syc_heldout, jobs[k].syc[0], jobs[k].syc[c->N - 1],
              c->N, jobs[k].train_s);
  }
  al_set_threads(saved);
  if (!rc && first.failed) *err = first.err, rc = -1;
  rc = al_sweep_end(sw, rc, err);
  json_t *results = NULL;
  if (!rc) rc = syco_mech_report(c, &run, jobs, &results, err);
  if (results) json_object_set_new(results, "seconds", json_real(al_now() - t0));
  if (!rc) rc = al_run_save_json(&run, "results.json", results, err);
  if (!rc) {
    al_index_entry e = {.name = "sycophancy", .subdir = "."};
    rc = al_report_index(run.dir, "alab sycophancy", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err); /* report.html, once metrics.jsonl is in place */
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results);
  for (int k = 0; k < njobs; k++) free(jobs[k].syc), free(jobs[k].acc), free(jobs[k].rl_syc);
  free(jobs);
  al_tok_free(tok);
  syco_world_free(&w);
  return rc;
}

/* `alab reproduce`: the defaults (quick), or more seeds, pairs and prompts. */
int al_syco_reproduce(const char *dir, int quick, al_err *err) {
  al_syco_mech_cfg c;
  al_syco_mech_defaults(&c);
  c.quick = quick;
  if (!quick) c.seeds = 5, c.pairs = 4000, c.steps = 400, c.prompts = 128;
  return al_syco_mech_run(&c, dir, NULL, err);
}

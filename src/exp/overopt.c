/* `alab overopt`: the run (include/alab/overopt.h has the design). Jobs run
 * in parallel, one thread each (tiny models use a core better alone than
 * two threads meeting at every kernel's barrier): first each seed's
 * samples, then every (seed, proxy) reward model with its best-of-n curve.
 * Every random choice is drawn from a stream of (seed, what, index), so the
 * numbers do not depend on the thread count or the order jobs finish in. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/dataset.h"
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "alab/sweep.h"
#include "exp/overopt_internal.h"

enum { TAG_PAIRS = 1, TAG_BON, TAG_LABEL, TAG_INIT, TAG_ORDER, TAG_POLICY, TAG_RL };

static uint64_t derive(uint64_t seed, int tag, int s, int k) {
  al_rng r;
  al_rng_seed_stream(&r, seed ^ ((uint64_t)tag << 40), (uint64_t)s * 4096 + (uint64_t)k);
  return al_rng_u64(&r);
}

void al_overopt_defaults(al_overopt_cfg *c) {
  memset(c, 0, sizeof *c);
  c->seeds = 3;
  c->seed = 1;
  c->tokenizer = "bpe:512";
  c->stories = 20000;
  c->arch = "gpt2"; /* the proxies copy the policy's architecture */
  c->layers = 4, c->heads = 4, c->embd = 128, c->context = 320, c->batch = 8;
  c->policy_steps = 1500; /* 600 wrote no complete story (docs/overopt.md) */
  c->policy_lr = 2e-3;
  c->rm_layers[0] = 1, c->rm_layers[1] = 4, c->n_rm_layers = 2;
  c->pairs[0] = 100, c->pairs[1] = 400, c->n_pairs = 2;
  c->bt_scale = 4;
  c->rm_epochs = 1; /* one pass, as InstructGPT trained its reward models (docs/overopt.md) */
  c->rm_lr = 1e-3;
  c->rm_batch = 8;
  c->N = 256;
  c->max_new = 300;
  c->temperature = 1;
  c->rl_iters = 0, c->rl_window = 1, c->rl_k = 4;
  c->rl_lr = 1e-4, c->rl_beta_kl = 0;
}

int al_overopt_check(const al_overopt_cfg *c, al_err *err) {
  if (c->seeds < 2 || c->seeds > 64) return al_fail(err, "--seeds must be 2..64 (intervals need two; got %d)", c->seeds);
  if (c->N < 2 || c->N > 65536) return al_fail(err, "--n must be 2..65536 (got %d)", c->N);
  if (c->max_new < 1) return al_fail(err, "--max-new must be positive (got %d)", c->max_new);
  if (!(c->bt_scale > 0 && isfinite(c->bt_scale))) return al_fail(err, "--bt-scale must be finite and > 0 (got %g)", c->bt_scale);
  if (!(c->rm_epochs > 0) || !(c->rm_lr > 0) || c->rm_batch < 1)
    return al_fail(err, "--rm-epochs, --rm-lr and --rm-batch must be positive");
  if (c->n_rm_layers < 1 || c->n_pairs < 1) return al_fail(err, "--rm-layers and --pairs need at least one value each");
  for (int i = 0; i < c->n_rm_layers; i++)
    if (c->rm_layers[i] < 1 || (!c->policy && c->rm_layers[i] > c->layers))
      return al_fail(err, "--rm-layers: %d is not between 1 and the policy's %d layers", c->rm_layers[i], c->layers);
  for (int i = 0; i < c->n_pairs; i++)
    if (c->pairs[i] < 1 || c->pairs[i] > 1000000) return al_fail(err, "--pairs: %d is not between 1 and 1000000", c->pairs[i]);
  if (!c->policy && (c->stories < 10 || c->policy_steps < 1 || !(c->policy_lr > 0) || c->batch < 1))
    return al_fail(err, "--stories must be at least 10 and --policy-steps, --policy-lr and --batch positive");
  if (c->temperature < 0 || !isfinite(c->temperature)) return al_fail(err, "--temperature must be finite and >= 0");
  if (c->rl_iters < 0) return al_fail(err, "--rl-iters must be >= 0 (0: no RL; got %d)", c->rl_iters);
  if (c->rl_iters > 0 && (c->rl_window < 1 || c->rl_iters < c->rl_window + 2))
    return al_fail(err, "--rl-iters (%d) must hold the start and at least 2 windows (at least --rl-window + 2 = %d batches)",
                   c->rl_iters, c->rl_window + 2);
  if (c->rl_iters > 0 && (c->rl_k < 2 || !(c->rl_lr > 0) || !(c->rl_beta_kl >= 0) || !isfinite(c->rl_beta_kl)))
    return al_fail(err, "--rl-k must be >= 2 (RLOO's baseline needs two), --rl-lr > 0 and --rl-beta-kl >= 0");
  return 0;
}

/* The policy: loaded, or trained on story:N with a BPE learnt from it. */
static int make_policy(const al_overopt_cfg *c, al_model *m, al_tok **tok, json_t *info, al_err *err) {
  if (c->policy) {
    if (al_model_load_dir_tok(m, tok, c->policy, err)) return al_fail_prefix(err, "--policy");
    if (m->cfg.scalar_head) {
      al_model_free(m), al_tok_free(*tok), *tok = NULL;
      return al_fail(err, "--policy %s is a reward model, not a language model", c->policy);
    }
    for (int i = 0; i < c->n_rm_layers; i++)
      if (c->rm_layers[i] > m->cfg.n_layer) {
        al_model_free(m), al_tok_free(*tok), *tok = NULL;
        return al_fail(err, "--rm-layers %d: the policy %s has %d layers", c->rm_layers[i], c->policy, m->cfg.n_layer);
      }
    return 0;
  }
  char spec[64];
  snprintf(spec, sizeof spec, "story:%ld", c->stories);
  char *text;
  size_t len, n;
  int32_t *ids = NULL;
  if (al_tokenizer_from_spec(tok, c->tokenizer, spec, err)) return al_fail_prefix(err, "--tokenizer %s", c->tokenizer);
  if (al_dataset_text(spec, &text, &len, err)) return -1;
  int rc = al_tokenize_docs(*tok, text, len, &ids, &n, NULL, err);
  free(text);
  al_model_config mc = {.vocab_size = al_tok_vocab_size(*tok), .n_positions = c->context, .n_layer = c->layers,
                        .n_head = c->heads, .n_embd = c->embd};
  if (!rc) rc = al_model_config_set_arch(&mc, c->arch, err) || al_model_config_check(&mc, err) ||
                al_model_init(m, &mc, derive(c->seed, TAG_POLICY, 0, 0), err);
  if (!rc) {
    al_train_cfg tc;
    al_train_defaults(&tc);
    tc.batch = c->batch, tc.seq_len = c->context < 256 ? c->context : 256, tc.steps = c->policy_steps;
    tc.warmup_steps = c->policy_steps / 30 > 0 ? c->policy_steps / 30 : 1, tc.lr = c->policy_lr, tc.min_lr_frac = 0.1;
    tc.eval_every = 0, tc.seed = derive(c->seed, TAG_POLICY, 0, 1), tc.shuffle = 1, tc.save_final = 0;
    al_tokens v = al_tokens_int32(ids, n);
    al_train_result tr;
    double t0 = al_now();
    rc = al_train(m, &tc, &v, 1, NULL, 0, NULL, &tr, err);
    if (rc) al_model_free(m);
    else {
      json_object_set_new(info, "policy_final_loss", al_json_real_or_null(tr.final_loss));
      json_object_set_new(info, "policy_train_s", json_real(al_now() - t0));
      json_object_set_new(info, "policy_tokens_per_s", al_json_real_or_null(tr.tokens_per_s));
    }
  }
  free(ids);
  if (rc) al_tok_free(*tok), *tok = NULL;
  return rc;
}

static json_t *config_json(const al_overopt_cfg *c) {
  json_t *L = json_array(), *P = json_array();
  for (int i = 0; i < c->n_rm_layers; i++) json_array_append_new(L, json_integer(c->rm_layers[i]));
  for (int i = 0; i < c->n_pairs; i++) json_array_append_new(P, json_integer(c->pairs[i]));
  json_t *j = json_pack("{s:s, s:i, s:I, s:o, s:s, s:I, s:i, s:i, s:i, s:i, s:i, s:I, s:f}", "experiment", "overopt",
                        "seeds", c->seeds, "seed", (json_int_t)c->seed, "policy", c->policy ? json_string(c->policy) : json_null(),
                        "tokenizer", c->tokenizer, "stories", (json_int_t)c->stories, "layers", c->layers, "heads",
                        c->heads, "embd", c->embd, "context", c->context, "batch", c->batch, "policy_steps",
                        (json_int_t)c->policy_steps, "policy_lr", c->policy_lr);
  json_object_set_new(j, "arch", json_string(c->arch));
  json_object_set_new(j, "rm_layers", L);
  json_object_set_new(j, "pairs", P);
  json_t *k = json_pack("{s:f, s:f, s:f, s:i, s:i, s:i, s:f, s:i, s:b}", "bt_scale", c->bt_scale, "rm_epochs",
                        c->rm_epochs, "rm_lr", c->rm_lr, "rm_batch", c->rm_batch, "N", c->N, "max_new", c->max_new,
                        "temperature", c->temperature, "threads", c->threads, "quick", c->quick);
  json_object_update(j, k);
  json_decref(k);
  k = json_pack("{s:i, s:i, s:i, s:f, s:f}", "rl_iters", c->rl_iters, "rl_window", c->rl_window, "rl_k", c->rl_k,
                "rl_lr", c->rl_lr, "rl_beta_kl", c->rl_beta_kl);
  json_object_update(j, k);
  json_decref(k);
  return j;
}

int ov_nproxies(const al_overopt_cfg *c) { return c->n_rm_layers * c->n_pairs; }

static int run_samples(ov_world *w, int nthreads, al_err *err) {
  const al_overopt_cfg *c = w->c;
  int S = c->seeds, maxp = 0, rc = 0;
  for (int i = 0; i < c->n_pairs; i++) maxp = c->pairs[i] > maxp ? c->pairs[i] : maxp;
  al_first_err first = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int j = 0; j < 2 * S; j++) {
    int s = j / 2, bon = j % 2;
    al_err e;
    if (al_first_err_failed(&first)) continue;
    if (ov_sample(&w->policy, w->tok, bon ? c->N : 2 * maxp, c->max_new, c->temperature,
                  derive(c->seed, bon ? TAG_BON : TAG_PAIRS, s, 0), bon ? &w->bon[s] : &w->pairs[s], &e))
      al_first_err_keep(&first, &e);
  }
  if (first.failed) *err = first.err, rc = -1;
  return rc;
}

/* RL against the job's proxy rm: curve P + p's seed s. */
static int run_rl(ov_world *w, const ov_job *j, al_model *rm, int p, int s, al_err *err) {
  const al_overopt_cfg *c = w->c;
  int S = c->seeds;
  al_overopt_curve *cv = &w->curves[ov_nproxies(c) + p];
  double t0 = al_now(), *v = al_malloc(sizeof(double) * 3 * (size_t)cv->npts);
  int rc = ov_rl_curve(j, rm, derive(c->seed, TAG_RL, s, p), v, v + cv->npts, v + 2 * cv->npts,
                       &w->rl_start_gold[p * S + s], w->rl_tokens + (size_t)(p * S + s) * cv->npts, err);
  for (int k = 0; k < cv->npts && !rc; k++) {
    size_t at = (size_t)k * S + s;
    cv->d[at] = v[k], cv->gold[at] = v[cv->npts + k], cv->proxy_r[at] = v[2 * cv->npts + k];
  }
  w->rl_secs[p * S + s] = al_now() - t0;
  free(v);
  return rc;
}

/* Job j = (proxy p, seed s): train, score, fill curve p's seed s (and with
 * RL, RL's curve against the same proxy). */
static int run_proxy(ov_world *w, al_run *run, int p, int s, al_err *err) {
  const al_overopt_cfg *c = w->c;
  int li = p / c->n_pairs, pi = p % c->n_pairs, S = c->seeds;
  ov_job j = {c, &w->policy, w->tok, &w->pairs[s], c->rm_layers[li], c->pairs[pi], derive(c->seed, TAG_LABEL, s, 0),
              derive(c->seed, TAG_INIT, s, p), derive(c->seed, TAG_ORDER, s, p)};
  al_model rm;
  al_train_result tr;
  double t0 = al_now(), *gg = al_malloc(sizeof(double) * (size_t)w->nn), *pg = al_malloc(sizeof(double) * (size_t)w->nn);
  int rc = ov_train_proxy(&j, &rm, &tr, err);
  double agree = NAN;
  if (!rc) {
    rc = ov_bon_curve(&rm, w->tok, &w->bon[s], w->ns, w->nn, gg, pg, &agree, &w->picks[p * S + s], err);
    if (s == 0) /* one writer: the same for every seed */
      for (int q = p; q < w->ncurves; q += ov_nproxies(c)) w->curves[q].params = (long)rm.nparams;
    if (!rc && w->ncurves > ov_nproxies(c)) rc = run_rl(w, &j, &rm, p, s, err);
    al_model_free(&rm);
  }
  if (!rc) {
    al_overopt_curve *cv = &w->curves[p];
    for (int k = 0; k < w->nn; k++) {
      size_t at = (size_t)k * S + s;
      cv->d[at] = sqrt(fmax(al_bon_kl(w->ns[k]), 0)), cv->gold[at] = gg[k], cv->proxy_r[at] = pg[k];
    }
    w->agree[p * S + s] = agree, w->rm_loss[p * S + s] = tr.final_loss, w->secs[p * S + s] = al_now() - t0;
  }
#pragma omp critical(overopt_report)
  {
    json_t *rec = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:f}", "part", "proxy", "proxy", w->names[p],
                            "seed", s, "layers", j.layers, "pairs", j.npairs, "rm_final_loss",
                            al_json_real_or_null(rc ? NAN : tr.final_loss), "rm_tokens_per_s",
                            al_json_real_or_null(rc ? NAN : tr.tokens_per_s), "gold_agreement", al_json_real_or_null(agree),
                            "gold_gain_at_N", al_json_real_or_null(rc ? NAN : gg[w->nn - 1]), "seconds", al_now() - t0);
    if (w->ncurves > ov_nproxies(c)) {
      json_object_set_new(rec, "rl_start_gold", al_json_real_or_null(rc ? NAN : w->rl_start_gold[p * S + s]));
      json_object_set_new(rec, "rl_seconds", al_json_real_or_null(rc ? NAN : w->rl_secs[p * S + s]));
      int K = ov_rl_points(c);
      json_t *tk = json_array();
      for (int k = 0; k < K; k++) json_array_append_new(tk, al_json_real_or_null(rc ? NAN : w->rl_tokens[(size_t)(p * S + s) * K + k]));
      json_object_set_new(rec, "rl_response_tokens", tk);
    }
    if (al_run_metric(run, rec, rc ? &(al_err){0} : err)) rc = -1;
    if (!w->quiet && !rc)
      fprintf(stderr, "overopt: %s seed %d: %.1f s (%.0f s in), agreement with gold %.3f, gold gain at n = %d: %+.3f\n",
              w->names[p], s, al_now() - t0, al_now() - w->t0, agree, c->N, gg[w->nn - 1]);
  }
  free(gg), free(pg);
  return rc;
}

static void world_free(ov_world *w) {
  const al_overopt_cfg *c = w->c;
  for (int s = 0; w->pairs && s < c->seeds; s++) ov_samples_free(&w->pairs[s]), ov_samples_free(&w->bon[s]);
  for (int q = 0; w->curves && q < w->ncurves; q++)
    free(w->curves[q].d), free(w->curves[q].gold), free(w->curves[q].proxy_r), free(w->curves[q].x);
  for (int p = 0; w->names && p < ov_nproxies(c); p++) free(w->names[p]);
  free(w->pairs), free(w->bon), free(w->ns), free(w->curves), free(w->names), free(w->agree), free(w->rm_loss), free(w->secs);
  free(w->rl_start_gold), free(w->rl_secs), free(w->rl_tokens), free(w->picks);
}

static void world_alloc(ov_world *w) {
  const al_overopt_cfg *c = w->c;
  int S = c->seeds, P = ov_nproxies(c);
  for (int n = 1;; n *= 2) { /* 1, 2, 4, ..., and N */
    int v = n < c->N ? n : c->N;
    w->ns = al_realloc(w->ns, sizeof(int) * (size_t)(w->nn + 1));
    w->ns[w->nn++] = v;
    if (v == c->N) break;
  }
  w->pairs = al_calloc((size_t)S, sizeof *w->pairs), w->bon = al_calloc((size_t)S, sizeof *w->bon);
  w->ncurves = c->rl_iters > 0 ? 2 * P : P;
  w->curves = al_calloc((size_t)w->ncurves, sizeof *w->curves), w->names = al_calloc((size_t)P, sizeof *w->names);
  w->agree = al_malloc(sizeof(double) * (size_t)P * S), w->rm_loss = al_malloc(sizeof(double) * (size_t)P * S);
  w->secs = al_malloc(sizeof(double) * (size_t)P * S);
  w->rl_start_gold = al_calloc((size_t)P * S, sizeof(double)), w->rl_secs = al_calloc((size_t)P * S, sizeof(double));
  w->rl_tokens = al_calloc((size_t)P * S * (size_t)ov_rl_points(c), sizeof(double));
  w->picks = al_calloc((size_t)P * S, sizeof *w->picks);
  for (int q = 0; q < w->ncurves; q++) {
    al_overopt_curve *cv = &w->curves[q];
    int p = q % P, rl = q >= P, npts = rl ? ov_rl_points(c) : w->nn;
    if (!rl) {
      char name[64];
      snprintf(name, sizeof name, "L%d-P%d", c->rm_layers[p / c->n_pairs], c->pairs[p % c->n_pairs]);
      w->names[p] = al_strdup(name);
    }
    *cv = (al_overopt_curve){.optimiser = rl ? "rl" : "bon", .proxy = w->names[p], .layers = c->rm_layers[p / c->n_pairs],
                             .pairs = c->pairs[p % c->n_pairs], .form = rl ? AL_OVEROPT_FORM_RL : AL_OVEROPT_FORM_BON,
                             .npts = npts, .seeds = S, .x_name = rl ? "step" : "n"};
    cv->d = al_malloc(sizeof(double) * (size_t)npts * S), cv->gold = al_malloc(sizeof(double) * (size_t)npts * S);
    cv->proxy_r = al_malloc(sizeof(double) * (size_t)npts * S), cv->x = al_malloc(sizeof(double) * (size_t)npts);
    /* best-of-n's n; RL's batch of rollouts at the middle of point k's window */
    for (int k = 0; k < npts; k++) {
      long a, b;
      if (rl) ov_rl_span(c, k, &a, &b);
      cv->x[k] = rl ? (a + b - 1) / 2.0 : w->ns[k];
    }
  }
}

int al_overopt_run(const al_overopt_cfg *c, const char *dir, al_err *err) {
  if (al_overopt_check(c, err)) return -1;
  int nthreads = c->threads > 0 ? c->threads : al_default_threads(), saved = al_get_threads(), S = c->seeds;
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  double t0 = al_now();
  ov_world w = {.c = c, .quiet = al_log_muted(), .t0 = t0};
  world_alloc(&w);
  json_t *config = config_json(c), *info = json_object(), *results = NULL;
  int rc = al_run_save_json(&run, "config.json", config, err), have_policy = 0;
  al_set_threads(nthreads);
  if (!rc) rc = make_policy(c, &w.policy, &w.tok, info, err);
  have_policy = !rc;
  if (!rc && !c->policy) { /* kept with the run, so that another run can reuse it (--policy DIR/policy) */
    char *pd = al_path_join(run.dir, "policy");
    rc = al_model_save_dir(&w.policy, w.tok, pd, err);
    free(pd);
  }
  al_set_threads(1);
  if (!rc) {
    json_object_set_new(info, "policy_params", json_integer((json_int_t)w.policy.nparams));
    al_log("overopt: policy of %zu parameters ready (%.0f s); sampling", w.policy.nparams, al_now() - t0);
    double ts = al_now();
    rc = run_samples(&w, nthreads, err);
    long toks = 0;
    for (int s = 0; s < S && !rc; s++) toks += w.pairs[s].tokens + w.bon[s].tokens;
    json_object_set_new(info, "sample_s", json_real(al_now() - ts));
    json_object_set_new(info, "sampled_tokens", json_integer(toks));
    if (!rc) json_object_set_new(info, "labels", ov_labels_json(c, w.pairs));
  }
  int P = ov_nproxies(c), njobs = rc ? 0 : P * S;
  al_first_err first = {0};
  /* under mpirun job j runs on rank j mod R; every rank then holds every proxy's results */
  al_sweep *sw = al_sweep_begin(njobs, &run);
  if (njobs) {
    size_t PS = (size_t)P * S;
    al_sweep_share(sw, w.agree, PS * sizeof(double)), al_sweep_share(sw, w.rm_loss, PS * sizeof(double));
    al_sweep_share(sw, w.secs, PS * sizeof(double)), al_sweep_share(sw, w.picks, PS * sizeof *w.picks);
    if (w.rl_start_gold) al_sweep_share(sw, w.rl_start_gold, PS * sizeof(double));
    if (w.rl_secs) al_sweep_share(sw, w.rl_secs, PS * sizeof(double));
    if (c->rl_iters > 0) al_sweep_share(sw, w.rl_tokens, PS * (size_t)ov_rl_points(c) * sizeof(double));
    al_sweep_share(sw, w.curves, sizeof *w.curves * (size_t)w.ncurves);
    for (int q = 0; q < w.ncurves; q++) {
      size_t n = sizeof(double) * (size_t)w.curves[q].npts * w.curves[q].seeds;
      al_sweep_share(sw, w.curves[q].d, n), al_sweep_share(sw, w.curves[q].gold, n), al_sweep_share(sw, w.curves[q].proxy_r, n);
    }
  }
  /* the biggest proxies (most layers, most comparisons) first */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int j = 0; j < njobs; j++) {
    int p = P - 1 - j / S, s = j % S;
    if (!al_sweep_mine(sw, j) || al_first_err_failed(&first)) continue;
    al_err e;
    int was = al_log_mute(1);
    if (run_proxy(&w, &run, p, s, &e)) al_first_err_keep(&first, &e);
    al_log_mute(was);
  }
  if (first.failed) *err = first.err, rc = -1;
  rc = al_sweep_end(sw, rc, err);
  al_set_threads(saved);
  if (!rc) {
    results = ov_results_json(&w, info, al_now() - t0);
    rc = al_run_save_json(&run, "results.json", results, err);
  }
  if (!rc) rc = al_overopt_plot(run.dir, w.curves, w.ncurves, err);
  if (!rc) {
    al_index_entry e = {.name = "overopt", .subdir = "."};
    rc = al_report_index(run.dir, "alab overopt", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err);
  json_decref(results), json_decref(info), json_decref(config);
  if (have_policy) al_model_free(&w.policy), al_tok_free(w.tok);
  world_free(&w);
  return rc;
}

int al_overopt_reproduce(const char *dir, int quick, al_err *err) {
  al_overopt_cfg c;
  al_overopt_defaults(&c);
  c.quick = quick;
  if (!quick) { /* the peak ordering: 6 seeds, 8x the comparisons, 2.95x the parameters (docs/overopt.md) */
    c.seeds = 6;
    c.rm_layers[0] = 1, c.rm_layers[1] = 4, c.n_rm_layers = 2;
    c.pairs[0] = 100, c.pairs[1] = 800, c.n_pairs = 2;
  }
  return al_overopt_run(&c, dir, err);
}

/* `alab reversal`: Berglund et al. 2023, Experiment 1, on models alab trains.
 *
 * One run: the facts (generated into DIR/data, or a folder in the paper's
 * layout), one base model shared by every seed (pretrained on the story world
 * with the base seed, or --base), then for each variant (augmented: every
 * training template; no augmentation: each fact in one template, repeated to
 * the same number of examples) and each seed a finetune of the base (the seed
 * sets the data order and the mixed-in text) and an evaluation of every slot
 * (group x order x template set). Across seeds: mean accuracy with a 95%
 * t-interval; per slot, the paired t-test of log p(correct) - log p(random)
 * over examples, each example's difference averaged over seeds. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "alab/sweep.h"
#include "exp/reversal_internal.h"


void al_rev_defaults(al_rev_cfg *c) {
  memset(c, 0, sizeof *c);
  c->per_group = 10;
  c->train_templates = 30;
  c->test_templates = 10;
  c->seeds = 3;
  c->seed = 1;
  c->tokenizer = "bpe:2048";
  c->stories = 300;
  c->arch = "gpt2";
  c->layers = 2;
  c->heads = 4;
  c->embd = 128;
  c->context = 0; /* from the data: the longest example rounded up to 16, at least 64 */
  c->pretrain_steps = 100;
  c->epochs = 4;
  c->lr = 3e-3;
  c->mix = 0.125;
  c->batch = 16;
  c->augment = 2;
  c->eval_max = 200;
}

static int check_cfg(const al_rev_cfg *c, al_err *err) {
  if (c->seeds < 1 || c->seeds > 99) return al_fail(err, "--seeds must be 1..99 (got %d)", c->seeds);
  if (c->augment < 0 || c->augment > 2) return al_fail(err, "--augment must be 0, 1 or 2 (got %d)", c->augment);
  if (!(c->epochs > 0) || !(c->lr > 0)) return al_fail(err, "--epochs and --lr must be positive");
  if (!(c->mix >= 0 && c->mix < 1)) return al_fail(err, "--mix must be in [0, 1) (got %g)", c->mix);
  if (c->batch < 1) return al_fail(err, "--batch must be positive");
  if (!c->base && (c->stories < 10 || c->pretrain_steps < 0))
    return al_fail(err, "--stories must be at least 10 and --pretrain-steps >= 0");
  if (c->eval_max < 0) return al_fail(err, "--eval-max must be >= 0");
  if (c->model && c->api) return al_fail(err, "--model and --api-base both given: evaluate one model at a time");
  if ((c->model || c->api) && (c->base || c->save_models))
    return al_fail(err, "--%s evaluates without training: --base and --save-models do not apply",
                   c->model ? "model" : "api-base");
  if (!c->api && (c->api_prefix || c->api_tokenizer))
    return al_fail(err, "--api-prefix and --api-tokenizer need --api-base");
  return 0;
}

int al_rev_check(const al_rev_cfg *c, al_err *err) { return check_cfg(c, err); }

/* Saves the finetuned model of (variant v, seed s) as DIR/models/VARIANT-seedS. */
static int save_model(const al_run *run, const al_model *m, const al_tok *tok, int v, int s, al_err *err) {
  char name[64];
  snprintf(name, sizeof name, "models/%s-seed%d", rev_variant_names[v], s);
  char *path = al_run_path(run, name);
  int rc = al_model_save_dir(m, tok, path, err);
  free(path);
  return rc;
}

/* One finetune + evaluation: fills R's entries for (v, s) and appends
 * metrics records to recs. Runs inside a parallel loop over jobs, so it
 * touches nothing shared but its own entries. The evaluation goes through
 * the local provider on the finetuned model: one thread, one example per
 * call, fresh decoders per slot (rev_eval_slots). */
static int run_one(const al_rev_cfg *c, const al_run *run, const al_model *base, const al_tok *tok, const al_rev_data *d,
                   const rev_examples *train, const int32_t *text, size_t ntext, int v, int s, rev_results *R,
                   json_t *recs, al_err *err) {
  al_model m;
  if (al_model_alloc(&m, &base->cfg, err)) return -1;
  memcpy(m.params, base->params, sizeof(float) * base->nparams);
  rev_ft_cfg f = {c->epochs, c->lr, c->mix, c->batch, (uint64_t)c->seed * 1000003u + (uint64_t)s};
  al_train_result tr = {0};
  double t0 = al_now();
  int rc = rev_finetune(&m, train, text, ntext, &f, &tr, err);
  if (!rc) R->loss[v][s] = tr.final_loss;
  if (!rc && c->save_models) rc = save_model(run, &m, tok, v, s, err);
  double t1 = al_now();
  if (!rc) {
    char *eot = rev_eot_text(tok);
    al_rev_evaluator ev = {.tok = tok, .context = m.cfg.n_positions, .prefix = eot, .batch = 1};
    rc = rev_eval_slots(&ev, &m, d, c->eval_max, v, s, R, recs, err);
    free(eot);
  }
  json_array_append_new(recs, json_pack("{s:s, s:i, s:o, s:f, s:f}", "variant", rev_variant_names[v], "seed", s,
                                        "final_loss", rev_num(tr.final_loss), "finetune_s", t1 - t0, "eval_s", al_now() - t1));
  R->secs[v][s] = al_now() - t0;
  al_model_free(&m);
  return rc;
}

/* The tokenizer (and, with --base, the base model); text/ntext: story
 * tokens to pretrain on and to mix in. */
static int make_tok(const al_rev_cfg *c, const al_rev_data *d, al_model *base, al_tok **tok, int32_t **text,
                    size_t *ntext, al_err *err) {
  char spec[64];
  snprintf(spec, sizeof spec, "story:%ld", c->stories);
  char *story;
  size_t slen;
  if (al_dataset_text(spec, &story, &slen, err)) return -1;
  int rc = 0;
  if (c->base) {
    rc = al_model_load_dir(base, c->base, err);
    if (!rc && (rc = al_tok_load(tok, c->base, err))) al_model_free(base);
    if (rc) al_fail_prefix(err, "--base %s", c->base);
  } else {
    rc = rev_make_tokenizer(tok, c->tokenizer, story, slen, &d->train, err);
  }
  if (!rc) rc = al_tokenize_docs(*tok, story, slen, text, ntext, NULL, err);
  free(story);
  if (rc) {
    if (c->base) al_model_free(base), al_tok_free(*tok);
    else if (*tok) al_tok_free(*tok);
    *tok = NULL;
    return -1;
  }
  return 0;
}

/* The context every example needs: training rows hold EOT prompt completion
 * EOT; scoring holds EOT prompt and the longer of the correct and random
 * completions. *where gets the file:line of the longest. */
static int needed_context(const rev_examples *train, const al_rev_set *train_set, const rev_examples *slots,
                          const al_rev_data *d, char *where, size_t wn) {
  int need = 0;
  for (int i = 0; i < train->n; i++) {
    int len = train->np[i] + train->nc[i] + 1;
    if (len > need) need = len, snprintf(where, wn, "%s:%d", train_set->file, train_set->ex[i].line);
  }
  for (int k = 0; k < AL_REV_NSLOTS; k++)
    for (int i = 0; i < slots[k].n; i++) {
      int len = slots[k].np[i] + (slots[k].nc[i] > slots[k].nr[i] ? slots[k].nc[i] : slots[k].nr[i]);
      if (len > need) need = len, snprintf(where, wn, "%s:%d", d->slot[k].file, d->slot[k].ex[i].line);
    }
  return need;
}

/* Pretrains the base (unless --base) with the given context. */
static int pretrain_base(const al_rev_cfg *c, al_model *base, const al_tok *tok, const int32_t *text, size_t ntext,
                         int context, json_t *info, al_err *err) {
  if (!c->base) {
    al_model_config g = {.vocab_size = al_tok_vocab_size(tok), .n_positions = context, .n_layer = c->layers,
                        .n_head = c->heads, .n_embd = c->embd, .init_std = 0.02f};
    al_train_result tr = {0};
    double t0 = al_now();
    if (al_model_config_set_arch(&g, c->arch, err) || al_model_config_check(&g, err) || rev_pretrain(base, &g, text, ntext, c->pretrain_steps, c->batch, c->seed, &tr, err))
      return -1;
    json_object_set_new(info, "pretrain_loss", rev_num(c->pretrain_steps ? tr.final_loss : NAN));
    json_object_set_new(info, "pretrain_s", json_real(al_now() - t0));
    json_object_set_new(info, "pretrain_tokens_per_s", rev_num(tr.tokens_per_s));
  }
  json_object_set_new(info, "vocab_size", json_integer(al_tok_vocab_size(tok)));
  json_object_set_new(info, "parameters", json_integer((json_int_t)base->nparams));
  return 0;
}

/* The base's context: --base fixes it; else --context, or (0) the longest
 * example rounded up to a multiple of 16, at least 64. Checked here, before
 * any training, so a folder with long lines fails in seconds. */
static int choose_context(const al_rev_cfg *c, const al_model *base, int need, const char *where, int *context,
                          al_err *err) {
  if (c->base) {
    *context = base->cfg.n_positions;
    if (need > *context)
      return al_fail(err, "%s: this example needs %d tokens, more than the context of %d of --base %s", where, need,
                     *context, c->base);
    return 0;
  }
  if (c->context > 0) {
    *context = c->context;
    if (need > *context)
      return al_fail(err, "%s: this example needs %d tokens, more than --context %d (use --context %d or more, or "
                          "--context 0 to size it from the data)", where, need, *context, need);
    return 0;
  }
  *context = (need + 15) / 16 * 16;
  if (*context < 64) *context = 64;
  return 0;
}

/* Whether variant v (0: augmented, 1: without augmentation) is trained: --augment 1 trains only 0, 0 only 1, 2 both. */
static int runs_variant(const al_rev_cfg *c, int v) { return c->augment == 2 || c->augment == !v; }

int al_rev_run(const al_rev_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  if (check_cfg(c, err)) return -1;
  if (c->model || c->api) return rev_run_external(c, dir, results_out, err);
  /* Parallel over jobs, single-threaded kernels: tiny models on a shared
   * machine run several times faster this way than with threads waiting
   * at every kernel's barrier. */
  int nthreads = c->threads > 0 ? c->threads : al_default_threads(), saved_threads = al_get_threads();
  al_set_threads(1);
  al_run run;
  if (al_run_open(&run, dir, err)) {
    al_set_threads(saved_threads);
    return -1;
  }
  double t_start = al_now();
  char *data_dir = c->data ? al_strdup(c->data) : al_run_path(&run, "data");
  /* with --data the folder fixes people and templates: those settings do not apply (null) */
  json_t *config = json_pack(
      "{s:s, s:s, s:s?, s:o, s:o, s:o, s:i, s:I, s:s, s:I, s:i, s:i, s:i, s:i, s:I, s:f, s:f, s:f, s:i, s:i, s:i, s:b}",
      "experiment", "reversal", "data", data_dir, "base", c->base, "per_group",
      c->data ? json_null() : json_integer(c->per_group), "train_templates",
      c->data ? json_null() : json_integer(c->train_templates), "test_templates",
      c->data ? json_null() : json_integer(c->test_templates), "seeds", c->seeds, "seed", (json_int_t)c->seed,
      "tokenizer", c->tokenizer, "stories", (json_int_t)c->stories, "layers", c->layers, "heads", c->heads, "embd",
      c->embd, "context", c->context, "pretrain_steps", (json_int_t)c->pretrain_steps, "epochs", c->epochs, "lr", c->lr,
      "mix", c->mix, "batch", c->batch, "augment", c->augment, "eval_max", c->eval_max, "quick", c->quick);
  /* the base is one model: it gets every thread; the finetunes run one per
   * thread unless there is only one (al_job_threads; same numbers either way) */
  int nfinetunes = c->seeds * (runs_variant(c, 0) + runs_variant(c, 1)), ft_threads = al_job_threads(nfinetunes, nthreads);
  json_object_set_new(config, "model_threads",
                      json_pack("{s:i, s:i}", "base", al_job_threads(1, nthreads), "finetune", ft_threads));
  json_object_set_new(config, "save_models", json_boolean(c->save_models));
  json_object_set_new(config, "arch", json_string(c->arch));
  int rc = al_run_save_json(&run, "config.json", config, err);
  al_rev_data d;
  memset(&d, 0, sizeof d);
  if (!rc) rc = rev_prepare_data(c, data_dir, &d, err);
  al_model base;
  al_tok *tok = NULL;
  int32_t *text = NULL;
  size_t ntext = 0;
  json_t *info = json_object();
  int have_base = 0;
  if (!rc && d.unassigned)
    al_log("reversal: warning: %d of %d training lines name no person of the test files (first: \"%.60s\"); they "
           "are left out of training, with and without augmentation", d.unassigned, d.unassigned + d.train.n,
           d.first_unassigned);
  if (!rc) rc = make_tok(c, &d, &base, &tok, &text, &ntext, err);
  have_base = !rc && c->base;
  /* tokens of every set */
  rev_examples train[2], slots[AL_REV_NSLOTS];
  memset(train, 0, sizeof train);
  memset(slots, 0, sizeof slots);
  for (int v = 0; v < 2 && !rc; v++) rc = rev_tokenize(&train[v], tok, v ? &d.train_noaug : &d.train, err);
  for (int k = 0; k < AL_REV_NSLOTS && !rc; k++) rc = rev_tokenize(&slots[k], tok, &d.slot[k], err);
  int context = 0, need = 0;
  if (!rc) {
    char where[600] = "";
    need = needed_context(&train[0], &d.train, slots, &d, where, sizeof where);
    rc = choose_context(c, &base, need, where, &context, err);
  }
  if (!rc) {
    al_set_threads(al_job_threads(1, nthreads));
    rc = pretrain_base(c, &base, tok, text, ntext, context, info, err);
    al_set_threads(1);
    if (!c->base) have_base = !rc; /* a failed pretraining frees the model */
  }
  rev_results R;
  rev_results_init(&R, &d, c->seeds);
  if (!rc) {
    json_object_set_new(info, "people", json_integer(d.npeople));
    json_object_set_new(info, "train_examples", json_integer(d.train.n));
    json_object_set_new(info, "unassigned_train_lines", json_integer(d.unassigned));
    json_object_set_new(info, "seq_len", json_integer(train[0].maxlen));
    json_object_set_new(info, "context", json_integer(context));
    json_object_set_new(info, "longest_example_tokens", json_integer(need));
    int per[AL_REV_NGROUPS] = {0};
    for (int i = 0; i < d.npeople; i++) per[d.group[i]]++;
    json_object_set_new(info, "people_per_group", json_pack("{s:i, s:i, s:i}", "p2d", per[0], "d2p", per[1], "both", per[2]));
    al_log("reversal: %d people, %d training examples (longest %d tokens), base of %zu parameters", d.npeople, d.train.n,
           train[0].maxlen, base.nparams);
  }
  /* the jobs: (variant, seed), in parallel, each on ft_threads threads */
  int jobs[200], njobs = 0;
  for (int v = 0; v < 2; v++) {
    if (!runs_variant(c, v)) continue;
    R.ran[v] = 1;
    for (int s = 0; s < c->seeds; s++) jobs[njobs++] = v * 100 + s;
  }
  if (rc) njobs = 0;
  json_t *recs[200] = {0};
  int quiet = al_log_muted();
  al_first_err first = {0};
  /* under mpirun job j runs on rank j mod R; every rank then holds R's entries and recs of every job */
  al_sweep *sw = al_sweep_begin(njobs, &run);
  al_sweep_share(sw, &R, sizeof R);
  for (int v = 0; v < 2; v++) {
    al_sweep_share(sw, R.loss[v], sizeof(double) * c->seeds), al_sweep_share(sw, R.secs[v], sizeof(double) * c->seeds);
    for (int k = 0; k < AL_REV_NSLOTS; k++) {
      size_t n = (size_t)d.slot[k].n + 1; /* as rev_results_init allocates them */
      al_sweep_share(sw, R.acc[v][k], sizeof(double) * c->seeds), al_sweep_share(sw, R.pseed[v][k], sizeof(double) * c->seeds);
      al_sweep_share(sw, R.lc[v][k], sizeof(double) * n * c->seeds), al_sweep_share(sw, R.lr[v][k], sizeof(double) * n * c->seeds);
    }
  }
  al_sweep_share_json(sw, recs);
  /* concurrent progress bars would interleave: each job's thread is muted
   * while it runs, and one line per finished job is printed instead */
#pragma omp parallel for schedule(dynamic, 1) num_threads(ft_threads > 1 ? 1 : nthreads)
  for (int j = 0; j < njobs; j++) {
    int v = jobs[j] / 100, s = jobs[j] % 100;
    if (!al_sweep_mine(sw, j) || al_first_err_failed(&first)) continue;
    omp_set_num_threads(ft_threads);
    al_err e;
    recs[j] = json_array();
    int was = al_log_mute(1);
    int failed = run_one(c, &run, &base, tok, &d, &train[v], text, ntext, v, s, &R, recs[j], &e);
    al_log_mute(was);
    if (failed) {
      al_first_err_keep(&first, &e);
    } else if (!quiet) {
      fprintf(stderr, "reversal: %s seed %d done in %.1f s (final loss %.3f)\n", rev_variant_names[v], s, R.secs[v][s],
              R.loss[v][s]);
    }
  }
  if (first.failed) {
    *err = first.err;
    rc = -1;
  }
  rc = al_sweep_end(sw, rc, err);
  for (int j = 0; j < njobs; j++) {
    if (!recs[j]) continue;
    size_t i;
    json_t *r;
    json_array_foreach(recs[j], i, r) if (!rc) rc = al_run_metric(&run, json_incref(r), err);
    json_decref(recs[j]);
  }
  json_t *results = NULL;
  if (!rc) {
    results = rev_results_json(c, &d, &R, info, al_now() - t_start);
    rc = al_run_save_json(&run, "results.json", results, err);
    if (!rc) rc = rev_plots(c, &run, &d, &R, err);
    if (!rc) {
      al_index_entry e = {.name = "reversal", .subdir = "."}; /* the summary is the registry's */
      rc = al_report_index(run.dir, "alab reversal", &e, 1, err);
    }
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err); /* report.html, once metrics.jsonl is in place */
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results);
  json_decref(info);
  json_decref(config);
  for (int v = 0; v < 2; v++) rev_examples_free(&train[v]);
  rev_results_free(&R);
  for (int k = 0; k < AL_REV_NSLOTS; k++) rev_examples_free(&slots[k]);
  if (have_base) al_model_free(&base);
  if (tok) al_tok_free(tok);
  free(text);
  al_rev_free(&d);
  free(data_dir);
  al_set_threads(saved_threads);
  return rc;
}

int al_rev_reproduce(const char *dir, int quick, al_err *err) {
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.quick = quick;
  if (!quick) { /* the paper's sizes: 30 people per group, every example scored, 5 seeds */
    c.per_group = 30;
    c.seeds = 5;
    c.eval_max = 0;
  }
  return al_rev_run(&c, dir, NULL, err);
}

/* `alab oocr`: Berglund et al. 2023 (situational awareness), Experiment 1,
 * on models alab trains.
 *
 * One run: the data (the built-in world generated into DIR/data, or a folder
 * of the paper's layout), one tokenizer, for each size of the ladder one base
 * model pretrained with the base seed (on the folder's pretrain.txt, else the
 * story world; or --base), then for each (size, augmentation level, seed) a
 * finetune of that size's base on all.jsonl at that level (the seed sets the
 * data order and the mixed-in pretraining text; the same seeds at every
 * level, so levels are paired) and a graded evaluation of every example
 * file. Jobs run in parallel, each on one thread. Across seeds: mean
 * accuracy with a 95% t-interval, and chance (oocr_world_chance). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "exp/oocr_internal.h"
#include "exp/reversal_internal.h"

const int oocr_eval_files[5] = {AL_OOCR_REALIZED, AL_OOCR_REALIZEDV, AL_OOCR_UNREALIZED, AL_OOCR_NO_COT, AL_OOCR_EXTRA};

void al_oocr_defaults(al_oocr_cfg *c) {
  memset(c, 0, sizeof *c);
  c->sizes = "2x64,2x128";
  c->arch = "gpt2";
  c->paraphrases = "1,30";
  c->descriptions = 30;
  c->pretrain_docs = 6000;
  c->seeds = 3;
  c->seed = 1;
  c->tokenizer = "bpe:1024";
  c->stories = 300;
  c->pretrain_steps = 1500;
  c->pretrain_lr = 1e-2;
  c->epochs = 20;
  c->lr = 1e-2;
  c->mix = 0.1;
  c->batch = 16;
  c->cot_tokens = 0;   /* 0: 48 on the built-in world, 85 (the paper's) on other data */
  c->nocot_tokens = 0; /* 0: 16 on the world, 20 (the paper's) */
  c->eval_max = 0;
}

int oocr_parse_sizes(const char *spec, oocr_results *R, al_err *err) {
  R->nsizes = 0;
  const char *p = spec, *item;
  size_t len;
  while (al_comma_next(&p, &item, &len)) {
    int l, e, used = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), item);
    if (sscanf(buf, "%dx%d%n", &l, &e, &used) != 2 || used != (int)len || l < 1 || l > 48 || e < 16 || e > 4096 || e % 16)
      return al_fail(err, "--sizes: '%s' is not LAYERSxEMBD (1..48 layers, embd a multiple of 16 in 16..4096)", buf);
    if (R->nsizes == OOCR_MAX_SIZES) return al_fail(err, "--sizes: at most %d sizes", OOCR_MAX_SIZES);
    R->layers[R->nsizes] = l, R->embd[R->nsizes++] = e;
  }
  return 0;
}

int al_oocr_check(const al_oocr_cfg *c, al_err *err) {
  oocr_results R;
  int lv[OOCR_MAX_LEVELS];
  if (c->seeds < 1 || c->seeds > 99) return al_fail(err, "--seeds must be 1..99 (got %d)", c->seeds);
  if (oocr_parse_sizes(c->sizes, &R, err)) return -1;
  int n = al_parse_int_list(c->paraphrases, lv, OOCR_MAX_LEVELS, "--paraphrases", err);
  if (n < 0) return -1;
  for (int i = 0; i < n; i++)
    if (lv[i] < 0) return al_fail(err, "--paraphrases: %d is negative (0 means every description as is)", lv[i]);
  if (!(c->epochs > 0) || !(c->lr > 0)) return al_fail(err, "--epochs and --lr must be positive");
  if (!(c->mix >= 0 && c->mix < 1)) return al_fail(err, "--mix must be in [0, 1) (got %g)", c->mix);
  if (c->batch < 2) return al_fail(err, "--batch must be at least 2");
  if (c->descriptions < 1 || c->pretrain_docs < 10) return al_fail(err, "--descriptions >= 1 and --pretrain-docs >= 10");
  if (c->eval_max < 0 || c->cot_tokens < 0 || c->nocot_tokens < 0) return al_fail(err, "--eval-max and token counts must be >= 0");
  if (c->model && c->api) return al_fail(err, "--model and --api-base both given: evaluate one model at a time");
  if ((c->model || c->api) && c->base) return al_fail(err, "--base finetunes; --model and --api-base only evaluate");
  if (c->base && R.nsizes > 1) return al_fail(err, "--base gives one size: --sizes does not apply");
  return 0;
}

static void results_init(oocr_results *R) {
  size_t n = (size_t)R->nsizes * R->nlevels * R->seeds;
  for (int f = 0; f < AL_OOCR_NFILES; f++) {
    R->acc[f] = al_malloc(sizeof(double) * n);
    R->named[f] = al_malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) R->acc[f][i] = R->named[f][i] = NAN;
    R->chance[f] = NAN;
  }
  R->loss = al_calloc(n, sizeof(double));
}

static void results_free(oocr_results *R) {
  for (int f = 0; f < AL_OOCR_NFILES; f++) free(R->acc[f]), free(R->named[f]);
  free(R->loss);
}

static json_t *config_json(const al_oocr_cfg *c, const char *data_dir) {
  json_t *j = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:i, s:i, s:i, s:I, s:s, s:I, s:I, s:i, s:f, s:f, s:f, s:i}",
                        "experiment", "oocr", "data", data_dir, "base", c->base, "sizes", c->sizes, "paraphrases",
                        c->paraphrases, "descriptions", c->descriptions, "pretrain_docs", c->pretrain_docs, "seeds",
                        c->seeds, "seed", (json_int_t)c->seed, "tokenizer", c->tokenizer, "stories",
                        (json_int_t)c->stories, "pretrain_steps", (json_int_t)c->pretrain_steps, "context", c->context,
                        "epochs", c->epochs, "lr", c->lr, "mix", c->mix, "batch", c->batch);
  json_object_set_new(j, "pretrain_lr", json_real(c->pretrain_lr));
  json_object_set_new(j, "cot_tokens", json_integer(c->cot_tokens));
  json_object_set_new(j, "nocot_tokens", json_integer(c->nocot_tokens));
  json_object_set_new(j, "eval_max", json_integer(c->eval_max));
  json_object_set_new(j, "quick", json_boolean(c->quick));
  json_object_set_new(j, "arch", json_string(c->arch));
  if (c->data) { /* the folder fixes the world's settings: they do not apply */
    json_object_set_new(j, "descriptions", json_null());
    json_object_set_new(j, "pretrain_docs", json_null());
  }
  return j;
}

int al_oocr_run(const al_oocr_cfg *c, const char *dir, json_t **results_out, al_err *err) {
  if (al_oocr_check(c, err)) return -1;
  if (c->model || c->api) return oocr_run_external(c, dir, results_out, err);
  int nthreads = c->threads > 0 ? c->threads : omp_get_num_procs();
  oocr_run X;
  memset(&X, 0, sizeof X);
  X.c = c;
  oocr_parse_sizes(c->sizes, &X.R, err);
  X.R.nlevels = al_parse_int_list(c->paraphrases, X.R.levels, OOCR_MAX_LEVELS, "--paraphrases", err);
  X.R.seeds = c->seeds;
  if (c->base) X.R.nsizes = 1;
  X.cot_tokens = c->cot_tokens ? c->cot_tokens : c->data ? 85 : 48;
  X.nocot_tokens = c->nocot_tokens ? c->nocot_tokens : c->data ? 20 : 16;
  results_init(&X.R);
  al_run run;
  if (al_run_open(&run, dir, err)) {
    results_free(&X.R);
    return -1;
  }
  double t0 = al_now();
  char *data_dir = c->data ? al_strdup(c->data) : al_run_path(&run, "data");
  json_t *config = config_json(c, data_dir), *setup = json_object(), *results = NULL;
  int rc = al_run_save_json(&run, "config.json", config, err);
  oocr_world_cfg w = {c->descriptions, c->pretrain_docs, (uint64_t)c->seed};
  if (!rc && !c->data) rc = oocr_world_write(&w, data_dir, err);
  al_oocr_data d;
  memset(&d, 0, sizeof d);
  if (!rc) rc = al_oocr_read(&d, data_dir, err);
  X.d = &d;
  if (!rc) rc = oocr_prepare(&X, data_dir, setup, err);
  int context = 0;
  if (!rc) rc = oocr_choose_context(&X, &context, err);
  if (!rc) {
    json_object_set_new(setup, "context", json_integer(context));
    json_object_set_new(setup, "train_lines", json_integer(d.set[AL_OOCR_ALL].n));
    json_object_set_new(setup, "cot_tokens", json_integer(X.cot_tokens));
    json_object_set_new(setup, "nocot_tokens", json_integer(X.nocot_tokens));
    rc = oocr_pretrain_bases(&X, context, nthreads, setup, err);
  }
  if (!rc) {
    al_oocr_grader *g = NULL;
    rc = al_oocr_grader_new(&g, c->textcat_dir, err);
    for (int f = 0; f < AL_OOCR_NFILES && !rc; f++) {
      X.R.present[f] = f != AL_OOCR_ALL && d.set[f].n > 0;
      if (X.R.present[f] && !c->data) X.R.chance[f] = oocr_world_chance(g, &d.set[f], c->eval_max);
    }
    al_oocr_grader_free(g);
  }
  if (!rc) rc = oocr_run_jobs(&X, &run, nthreads, err);
  if (!rc) {
    results = oocr_results_json(c, &X.R, setup, al_now() - t0);
    rc = al_run_save_json(&run, "results.json", results, err);
    if (!rc) rc = oocr_plots(run.dir, &X.R, err);
    al_index_entry e = {.name = "oocr", .subdir = "."};
    if (!rc) rc = al_report_index(run.dir, "alab oocr", &e, 1, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (!rc) rc = al_report_finish(dir, err);
  if (!rc && results_out) *results_out = json_incref(results);
  json_decref(results), json_decref(config);
  if (!results) json_decref(setup);
  for (int li = 0; li < OOCR_MAX_LEVELS; li++) rev_examples_free(&X.train[li]);
  rev_examples_free(&X.pre);
  for (int si = 0; si < OOCR_MAX_SIZES; si++)
    if (X.have_base[si]) al_model_free(&X.base[si]);
  if (X.tok) al_tok_free(X.tok);
  free(X.text), free(X.eot), free(data_dir);
  al_oocr_free(&d);
  results_free(&X.R);
  return rc;
}

int al_oocr_reproduce(const char *dir, int quick, al_err *err) {
  al_oocr_cfg c;
  al_oocr_defaults(&c);
  c.quick = quick;
  if (!quick) { /* a longer ladder, every level of augmentation, 5 seeds */
    c.sizes = "2x64,2x128,4x192,4x256";
    c.paraphrases = "1,3,10,30";
    c.seeds = 5;
  }
  return al_oocr_run(&c, dir, NULL, err);
}

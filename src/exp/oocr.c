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

static int heads_of(int embd) { return embd / 32 < 2 ? 2 : embd / 32; }

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

/* A shallow al_rev_set over examples (for the reversal experiment's
 * tokenizer, tokenization and finetuning, which read prompt, completion,
 * random and line). Free with free(s->ex). */
static void as_rev_set(al_rev_set *s, const char *file, const al_oocr_example *const *ex, int n) {
  s->file = (char *)file;
  s->n = n;
  s->ex = al_calloc((size_t)(n ? n : 1), sizeof *s->ex);
  for (int i = 0; i < n; i++)
    s->ex[i] = (al_rev_example){ex[i]->prompt, ex[i]->completion, NULL, -1, 0, ex[i]->line};
}

static void plain_set(al_rev_set *s, const al_oocr_set *o) {
  const al_oocr_example **p = al_malloc(sizeof *p * (size_t)(o->n ? o->n : 1));
  for (int i = 0; i < o->n; i++) p[i] = &o->ex[i];
  as_rev_set(s, o->file, p, o->n);
  free(p);
}

/* The shared state of a run's jobs. */
typedef struct {
  const al_oocr_cfg *c;
  const al_oocr_data *d;
  al_tok *tok;
  int32_t *text;
  size_t ntext;
  rev_examples train[OOCR_MAX_LEVELS];
  rev_examples pre; /* pretrain.txt's documents, one row each (n 0: the story world, in windows) */
  al_model base[OOCR_MAX_SIZES];
  int have_base[OOCR_MAX_SIZES];
  char *eot;
  int cot_tokens, nocot_tokens, pre_text;
  oocr_results R;
} oocr_run;

/* Finetune (size si, level li, seed s) and grade every file; rec gets the
 * job's metrics line, with every graded example (file, line, task, the
 * generation, correct). */
static int run_job(oocr_run *X, int si, int li, int s, json_t **rec, al_err *err) {
  const al_oocr_cfg *c = X->c;
  al_model m;
  const al_model *b = &X->base[si];
  if (al_model_alloc(&m, &b->cfg, err)) return -1;
  memcpy(m.params, b->params, sizeof(float) * b->nparams);
  rev_ft_cfg f = {c->epochs, c->lr, c->mix, c->batch, (uint64_t)c->seed * 1000003u + (uint64_t)s};
  al_train_result tr = {0};
  double t0 = al_now();
  int rc = rev_finetune(&m, &X->train[li], X->text, X->ntext, &f, &tr, err);
  al_provider *p = NULL;
  al_oocr_grader *g = NULL;
  al_local_cfg lc = {.threads = 1, .reuse_cache = 1};
  if (!rc) rc = al_provider_local_wrap(&p, &m, X->tok, "finetuned", &lc, err);
  if (!rc) rc = al_oocr_grader_new(&g, c->textcat_dir, err);
  int cell = oocr_cell(&X->R, si, li, s);
  X->R.loss[cell] = tr.final_loss;
  json_t *acc = json_object(), *tasks = json_object(), *examples = json_array();
  oocr_evaluator ev = {p, X->eot, X->cot_tokens, X->nocot_tokens, g};
  for (int k = 0; k < 5 && !rc; k++) {
    int fi = oocr_eval_files[k];
    if (!X->R.present[fi]) continue;
    oocr_score sc;
    rc = oocr_eval_set(&ev, &X->d->set[fi], c->eval_max, &sc, examples, err);
    if (!rc) {
      X->R.acc[fi][cell] = sc.n ? (double)sc.correct / sc.n : NAN;
      if (!c->data && fi != AL_OOCR_NO_COT) X->R.named[fi][cell] = sc.n ? (double)sc.named / sc.n : NAN;
      json_object_set_new(acc, al_oocr_file_names[fi], rev_num(X->R.acc[fi][cell]));
      json_object_set(tasks, al_oocr_file_names[fi], sc.per_task);
    }
    oocr_score_free(&sc);
  }
  *rec = json_pack("{s:s, s:i, s:i, s:I, s:o, s:o, s:o, s:f, s:o}", "event", "finetune", "size", si, "paraphrases",
                   X->R.levels[li], "seed", (json_int_t)s, "final_loss", rev_num(tr.final_loss), "accuracy", acc,
                   "per_task", tasks, "seconds", al_now() - t0, "examples", examples);
  al_oocr_grader_free(g);
  al_provider_free(p);
  al_model_free(&m);
  return rc;
}

/* pretrain.txt's documents as rows (EOT document EOT, every token a target),
 * so that each starts at position 0 as a dialog does when evaluated. */
static int doc_rows(oocr_run *X, const char *text, al_err *err) {
  int n = 0, cap = 1024;
  al_oocr_example *ex = al_malloc(sizeof *ex * (size_t)cap);
  static const char SEP[] = "<|endoftext|>";
  for (const char *p = text; *p;) {
    const char *e = strstr(p, SEP);
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len) {
      if (n == cap) ex = al_realloc(ex, sizeof *ex * (size_t)(cap *= 2));
      ex[n] = (al_oocr_example){NULL, (char *)"", strndup(p, len), n + 1};
      n++;
    }
    p += len + (e ? sizeof SEP - 1 : 0);
  }
  const al_oocr_example **ptr = al_malloc(sizeof *ptr * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) ptr[i] = &ex[i];
  al_rev_set s;
  as_rev_set(&s, "pretrain.txt", ptr, n);
  int rc = n ? rev_tokenize(&X->pre, X->tok, &s, err) : al_fail(err, "pretrain.txt: no document");
  for (int i = 0; i < n; i++) free(ex[i].completion);
  free(ex), free(ptr), free(s.ex);
  return rc;
}

static int load_text(const al_oocr_cfg *c, const char *data_dir, oocr_run *X, char **text, size_t *len, al_err *err) {
  char *pre = al_path_join(data_dir, "pretrain.txt");
  int rc;
  if (al_file_exists(pre)) {
    X->pre_text = 1;
    rc = al_read_file(pre, text, len, err);
  } else {
    char spec[64];
    snprintf(spec, sizeof spec, "story:%ld", c->stories);
    rc = al_dataset_text(spec, text, len, err);
  }
  free(pre);
  return rc;
}

/* Tokenizer, pretraining tokens and the finetuning sets of every level. */
static int prepare(oocr_run *X, const char *data_dir, json_t *setup, al_err *err) {
  const al_oocr_cfg *c = X->c;
  const al_oocr_set *all = &X->d->set[AL_OOCR_ALL];
  if (!all->file || !all->n) return al_fail(err, "%s/all.jsonl: missing or empty (the finetuning set)", data_dir);
  char *text = NULL;
  size_t len = 0;
  al_rev_set train_all;
  plain_set(&train_all, all);
  int rc = load_text(c, data_dir, X, &text, &len, err);
  if (!rc && c->base) {
    al_model *b = &X->base[0];
    rc = al_model_load_dir(b, c->base, err);
    if (!rc && (rc = al_tok_load(&X->tok, c->base, err))) al_model_free(b);
    X->have_base[0] = !rc;
    if (rc) al_fail_prefix(err, "--base %s", c->base);
  } else if (!rc) {
    rc = rev_make_tokenizer(&X->tok, c->tokenizer, text, len, &train_all, err);
  }
  if (!rc) rc = al_tokenize_docs(X->tok, text, len, &X->text, &X->ntext, NULL, err);
  if (!rc && X->pre_text) rc = doc_rows(X, text, err);
  free(text);
  free(train_all.ex);
  const al_oocr_example **lv = al_malloc(sizeof *lv * (size_t)all->n);
  int groups = 0;
  for (int li = 0; li < X->R.nlevels && !rc; li++) {
    groups = oocr_augment_level(all, X->R.levels[li], lv);
    al_rev_set s;
    as_rev_set(&s, all->file, lv, all->n);
    rc = rev_tokenize(&X->train[li], X->tok, &s, err);
    free(s.ex);
  }
  free(lv);
  if (!rc) {
    json_object_set_new(setup, "description_groups", json_integer(groups));
    json_object_set_new(setup, "pretrain_tokens", json_integer((json_int_t)X->ntext));
    json_object_set_new(setup, "vocab_size", json_integer(al_tok_vocab_size(X->tok)));
  }
  return rc;
}

/* The context: --base fixes it; else --context, or the longest training
 * row or prompt + cot_tokens, rounded up to 16 (at least 64). */
static int choose_context(oocr_run *X, int *context, al_err *err) {
  const al_oocr_cfg *c = X->c;
  int need = X->train[0].maxlen > X->pre.maxlen ? X->train[0].maxlen : X->pre.maxlen;
  for (int k = 0; k < 5; k++) {
    const al_oocr_set *s = &X->d->set[oocr_eval_files[k]];
    rev_examples e;
    al_rev_set r;
    plain_set(&r, s);
    int rc = rev_tokenize(&e, X->tok, &r, err);
    free(r.ex);
    if (rc) return -1;
    for (int i = 0; i < e.n; i++) {
      int gen = strstr(s->ex[i].prompt, "*thinking*") ? X->cot_tokens : X->nocot_tokens;
      if (e.np[i] + gen > need) need = e.np[i] + gen;
    }
    rev_examples_free(&e);
  }
  if (c->base) *context = X->base[0].cfg.n_positions;
  else if (c->context > 0) *context = c->context;
  else *context = (need + 15) / 16 * 16 < 64 ? 64 : (need + 15) / 16 * 16;
  if (X->train[0].maxlen > *context)
    return al_fail(err, "%s: a training line needs %d tokens, more than the context of %d", X->d->set[AL_OOCR_ALL].file,
                   X->train[0].maxlen, *context);
  return 0;
}

/* Pretrains each size's base (in parallel, one thread each). */
static int pretrain_bases(oocr_run *X, int context, int nthreads, json_t *setup, al_err *err) {
  const al_oocr_cfg *c = X->c;
  if (c->base) {
    X->R.params[0] = (long long)X->base[0].nparams;
    X->R.layers[0] = X->base[0].cfg.n_layer, X->R.embd[0] = X->base[0].cfg.n_embd;
    return 0;
  }
  al_first_err first = {0};
  json_t *secs = json_array();
  double t[OOCR_MAX_SIZES] = {0}, loss[OOCR_MAX_SIZES] = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int si = 0; si < X->R.nsizes; si++) {
    al_err e;
    al_model_config g = {.vocab_size = al_tok_vocab_size(X->tok), .n_positions = context, .n_layer = X->R.layers[si],
                         .n_head = heads_of(X->R.embd[si]), .n_embd = X->R.embd[si], .init_std = 0.02f};
    al_train_result tr = {0};
    double t0 = al_now();
    if (al_first_err_failed(&first)) continue;
    int bad = al_model_config_check(&g, &e);
    if (!bad && X->pre.n) { /* pretrain.txt: one document per row, pretrain_steps steps at pretrain_lr */
      rev_ft_cfg f = {(double)c->pretrain_steps * c->batch / X->pre.n, c->pretrain_lr, 0, c->batch, (uint64_t)c->seed};
      bad = al_model_init(&X->base[si], &g, (uint64_t)c->seed, &e);
      if (!bad && c->pretrain_steps > 0 && (bad = rev_finetune(&X->base[si], &X->pre, X->text, X->ntext, &f, &tr, &e)))
        al_model_free(&X->base[si]);
    } else if (!bad) {
      bad = rev_pretrain(&X->base[si], &g, X->text, X->ntext, c->pretrain_steps, c->batch, (uint64_t)c->seed, &tr, &e);
    }
    if (bad) {
      al_first_err_keep(&first, &e);
      continue;
    }
    X->have_base[si] = 1;
    X->R.params[si] = (long long)X->base[si].nparams;
    t[si] = al_now() - t0, loss[si] = tr.final_loss;
  }
  if (first.failed) {
    *err = first.err;
    json_decref(secs);
    return -1;
  }
  for (int si = 0; si < X->R.nsizes; si++)
    json_array_append_new(secs, json_pack("{s:i, s:i, s:I, s:f, s:o}", "layers", X->R.layers[si], "embd",
                                          X->R.embd[si], "parameters", (json_int_t)X->R.params[si], "pretrain_s",
                                          t[si], "pretrain_loss", rev_num(c->pretrain_steps ? loss[si] : NAN)));
  json_object_set_new(setup, "sizes", secs);
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

/* Every (size, level, seed) job, in parallel; metrics lines in job order. */
static int run_jobs(oocr_run *X, al_run *run, int nthreads, al_err *err) {
  oocr_results *R = &X->R;
  int njobs = R->nsizes * R->nlevels * R->seeds;
  json_t **recs = al_calloc((size_t)njobs, sizeof *recs);
  al_first_err first = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int j = 0; j < njobs; j++) {
    int s = j % R->seeds, li = j / R->seeds % R->nlevels, si = j / R->seeds / R->nlevels;
    al_err e;
    if (al_first_err_failed(&first)) continue;
    if (run_job(X, si, li, s, &recs[j], &e)) al_first_err_keep(&first, &e);
    else if (!al_quiet)
      fprintf(stderr, "oocr: %dx%d, %d paraphrases, seed %d: unrealized %.3f, realized %.3f\n", R->layers[si],
              R->embd[si], R->levels[li], s, R->acc[AL_OOCR_UNREALIZED][oocr_cell(R, si, li, s)],
              R->acc[AL_OOCR_REALIZED][oocr_cell(R, si, li, s)]);
  }
  int rc = 0;
  if (first.failed) *err = first.err, rc = -1;
  for (int j = 0; j < njobs; j++)
    if (recs[j]) {
      if (!rc) rc = al_run_metric(run, recs[j], err);
      else json_decref(recs[j]);
    }
  free(recs);
  return rc;
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
  if (!rc) rc = prepare(&X, data_dir, setup, err);
  int context = 0;
  if (!rc) rc = choose_context(&X, &context, err);
  if (!rc) {
    json_object_set_new(setup, "context", json_integer(context));
    json_object_set_new(setup, "train_lines", json_integer(d.set[AL_OOCR_ALL].n));
    json_object_set_new(setup, "cot_tokens", json_integer(X.cot_tokens));
    json_object_set_new(setup, "nocot_tokens", json_integer(X.nocot_tokens));
    rc = pretrain_bases(&X, context, nthreads, setup, err);
  }
  if (!rc) {
    X.eot = rev_eot_text(X.tok);
    al_oocr_grader *g = NULL;
    rc = al_oocr_grader_new(&g, c->textcat_dir, err);
    for (int f = 0; f < AL_OOCR_NFILES && !rc; f++) {
      X.R.present[f] = f != AL_OOCR_ALL && d.set[f].n > 0;
      if (X.R.present[f] && !c->data) X.R.chance[f] = oocr_world_chance(g, &d.set[f], c->eval_max);
    }
    al_oocr_grader_free(g);
  }
  if (!rc) rc = run_jobs(&X, &run, nthreads, err);
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

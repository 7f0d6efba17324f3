/* The models of an `alab oocr` training run: each size's base, pretrained
 * (one thread each, in parallel) on pretrain.txt's documents or the story
 * world, then one job per (size, augmentation level, seed): a finetune of
 * that size's base (the seed sets the data order and the mixed-in
 * pretraining text; the same seeds at every level, so levels are paired)
 * and a graded generation for every example file. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "alab/sweep.h"
#include "exp/oocr_internal.h"

static int heads_of(int embd) { return embd / 32 < 2 ? 2 : embd / 32; }

/* The configuration of size si's base. */
static int base_config(const oocr_run *X, int si, int context, al_model_config *g, al_err *err) {
  *g = (al_model_config){.vocab_size = al_tok_vocab_size(X->tok), .n_positions = context, .n_layer = X->R.layers[si],
                         .n_head = heads_of(X->R.embd[si]), .n_embd = X->R.embd[si], .init_std = 0.02f};
  return al_model_config_set_arch(g, X->c->arch, err) || al_model_config_check(g, err) ? -1 : 0;
}

/* The base of size si probed on the world's behaviours (oocr_probe), into
 * R.probe[si], and printed. */
static int probe_base(oocr_run *X, int si, al_err *err) {
  al_oocr_grader *g = NULL;
  int rc = al_oocr_grader_new(&g, X->c->textcat_dir, err);
  if (!rc) rc = oocr_probe(&X->base[si], X->tok, X->eot, g, X->R.probe[si], X->R.probe_nocot[si], err);
  al_oocr_grader_free(g);
  X->R.probed[si] = !rc;
  if (!rc && !al_quiet) {
    fprintf(stderr, "oocr: base %dx%d executes, with / without chain of thought:", X->R.layers[si], X->R.embd[si]);
    for (int b = 0; b < OOCR_NBEHAV; b++)
      fprintf(stderr, " %s %.2f/%.2f", oocr_rule_of(b), X->R.probe[si][b], X->R.probe_nocot[si][b]);
    fprintf(stderr, "\n");
  }
  return rc;
}

int oocr_pretrain_bases(oocr_run *X, int context, int nthreads, json_t *setup, al_err *err) {
  const al_oocr_cfg *c = X->c;
  if (c->base) {
    X->R.params[0] = (long long)X->base[0].nparams;
    X->R.layers[0] = X->base[0].cfg.n_layer, X->R.embd[0] = X->base[0].cfg.n_embd;
    return 0;
  }
  al_first_err first = {0};
  json_t *secs = json_array();
  double t[OOCR_MAX_SIZES] = {0}, loss[OOCR_MAX_SIZES] = {0};
  /* under mpirun base si is pretrained (and probed) on rank si mod R, then sent to every rank (include/alab/sweep.h) */
  al_sweep *sw = al_sweep_begin(X->R.nsizes, NULL);
  al_sweep_share(sw, t, sizeof t), al_sweep_share(sw, loss, sizeof loss);
  al_sweep_share(sw, X->R.params, sizeof X->R.params), al_sweep_share(sw, X->R.probed, sizeof X->R.probed);
  al_sweep_share(sw, X->R.probe, sizeof X->R.probe), al_sweep_share(sw, X->R.probe_nocot, sizeof X->R.probe_nocot);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int si = 0; si < X->R.nsizes; si++) {
    al_err e;
    al_model_config g;
    al_train_result tr = {0};
    double t0 = al_now();
    if (!al_sweep_mine(sw, si) || al_first_err_failed(&first)) continue;
    int bad = base_config(X, si, context, &g, &e);
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
    if (!c->data && probe_base(X, si, &e)) al_first_err_keep(&first, &e);
  }
  int rc = first.failed ? (*err = first.err, -1) : 0;
  rc = al_sweep_end(sw, rc, err);
  for (int si = 0; si < X->R.nsizes && !rc; si++) { /* every rank gets every base */
    al_model_config g;
    if (!al_sweep_ran_here(si)) {
      rc = base_config(X, si, context, &g, err) || al_model_alloc(&X->base[si], &g, err);
      X->have_base[si] = !rc;
    }
    if (!rc) al_sweep_bcast(si, X->base[si].params, sizeof(float) * X->base[si].nparams);
  }
  if (rc) {
    json_decref(secs);
    return -1;
  }
  for (int si = 0; si < X->R.nsizes; si++)
    json_array_append_new(secs, json_pack("{s:i, s:i, s:I, s:f, s:o}", "layers", X->R.layers[si], "embd",
                                          X->R.embd[si], "parameters", (json_int_t)X->R.params[si], "pretrain_s",
                                          t[si], "pretrain_loss", rev_num(c->pretrain_steps ? loss[si] : NAN)));
  for (int si = 0; si < X->R.nsizes && X->R.probed[si]; si++) {
    json_t *beh = json_object();
    for (int b = 0; b < OOCR_NBEHAV; b++)
      json_object_set_new(beh, oocr_rule_of(b), json_pack("{s:f, s:f}", "cot", X->R.probe[si][b], "no_cot",
                                                          X->R.probe_nocot[si][b]));
    json_object_set_new(json_array_get(secs, (size_t)si), "pretrained_behaviours", beh);
  }
  json_object_set_new(setup, "sizes", secs);
  return 0;
}

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

int oocr_run_jobs(oocr_run *X, al_run *run, int nthreads, al_err *err) {
  oocr_results *R = &X->R;
  int njobs = R->nsizes * R->nlevels * R->seeds;
  json_t **recs = al_calloc((size_t)njobs, sizeof *recs);
  al_first_err first = {0};
  /* under mpirun job j runs on rank j mod R; every rank then holds every job's grades and metrics line */
  size_t bytes = sizeof(double) * (size_t)njobs;
  al_sweep *sw = al_sweep_begin(njobs, run);
  al_sweep_share(sw, R->loss, bytes);
  for (int f = 0; f < AL_OOCR_NFILES; f++) al_sweep_share(sw, R->acc[f], bytes), al_sweep_share(sw, R->named[f], bytes);
  al_sweep_share_json(sw, recs);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
  for (int j = 0; j < njobs; j++) {
    int s = j % R->seeds, li = j / R->seeds % R->nlevels, si = j / R->seeds / R->nlevels;
    al_err e;
    if (!al_sweep_mine(sw, j) || al_first_err_failed(&first)) continue;
    if (run_job(X, si, li, s, &recs[j], &e)) al_first_err_keep(&first, &e);
    else if (!al_quiet)
      fprintf(stderr, "oocr: %dx%d, %d paraphrases, seed %d: unrealized %.3f, realized %.3f\n", R->layers[si],
              R->embd[si], R->levels[li], s, R->acc[AL_OOCR_UNREALIZED][oocr_cell(R, si, li, s)],
              R->acc[AL_OOCR_REALIZED][oocr_cell(R, si, li, s)]);
  }
  int rc = 0;
  if (first.failed) *err = first.err, rc = -1;
  rc = al_sweep_end(sw, rc, err);
  for (int j = 0; j < njobs; j++)
    if (recs[j]) {
      if (!rc) rc = al_run_metric(run, recs[j], err);
      else json_decref(recs[j]);
    }
  free(recs);
  return rc;
}


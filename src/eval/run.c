/* Running a task on a provider: batches of examples go to the provider, each
 * example's scores become metrics and a record in examples.jsonl, and the
 * summaries (mean, se, t and bootstrap intervals) go to results.json.
 *   classification: loss = -log softmax(lp)[answer], accuracy, accuracy_norm
 *   logodds:        logodds_difference (the Prize's loss), accuracy (argmax
 *                   over the classes after other_prompt, as the Prize)
 *   sequence_prob:  nll (of the completion), nll_per_token, greedy (1 when
 *                   every completion token is the argmax)
 *   generation:     accuracy (any target matches), per group when grouped;
 *                   error = 1 - accuracy is what scaling fits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/eval.h"
#include "alab/json.h"
#include "eval/celebrity.h"

al_eval_cfg al_eval_cfg_default(void) {
  al_eval_cfg c = {.out_dir = NULL, .seed = 1234, .nboot = 1000, .batch = 64, .chat = 0, .limit = 0,
                   .progress_label = "eval"};
  c.gen = al_gen_cfg_default();
  return c;
}

int al_provider_open(al_provider **out, const char *model, const al_http_cfg *http, const al_local_cfg *local,
                     al_err *err) {
  if (!http) return al_provider_local(out, model, local, err);
  al_http_cfg h = *http;
  h.model = model;
  return al_provider_http(out, &h, err);
}

const al_metric *al_eval_metric(const al_eval_result *r, const char *name) {
  for (int i = 0; i < r->nm; i++)
    if (!strcmp(r->m[i].name, name)) return &r->m[i];
  return NULL;
}

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *str_list(char **s, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_string(s[i]));
  return a;
}

typedef struct {
  double *v[6]; /* per-example columns, by metric slot */
  double *cut;  /* per example: prompt tokens dropped from the left to fit the context (the most of its requests) */
  char *invalid; /* per example: a logodds pair made identical by that cut */
  char *failed;  /* per example: a request failed (recorded with its reason, left out of the metrics) */
} columns;

/* The record of an example whose request failed: where and why. */
static json_t *failed_record(const al_task *t, int i, const char *why) {
  return json_pack("{s:i, s:i, s:{s:s}, s:s}", "index", i, "line", t->ex[i].line, "input", "prompt",
                   t->ex[i].prompt ? t->ex[i].prompt : "", "failed", why);
}

/* The first failed request among r[0..n), or NULL. */
static const char *first_error(const al_score_res *r, int n) {
  for (int i = 0; i < n; i++)
    if (r[i].error) return r[i].error;
  return NULL;
}

/* The most prompt tokens any of r[0..n) lost to the context. */
static int most_cut(const al_score_res *r, int n) {
  int m = 0;
  for (int i = 0; i < n; i++)
    if (r[i].truncated > m) m = r[i].truncated;
  return m;
}

/* Scored as one continuation per example: sequence_prob, and the celebrity
 * test's base-model protocol (log p of the answer after the prefix). */
static int one_request(const al_task *t) { return t->kind == AL_TASK_SEQUENCE_PROB || t->kind == AL_TASK_CELEBRITY; }

/* One batch [i0, i1) of a scoring task: fills the columns and records. */
static int score_batch(al_provider *p, const al_task *t, int i0, int i1, columns *col, json_t **rec, al_err *err) {
  int nreq = 0;
  for (int i = i0; i < i1; i++) {
    const al_example *e = &t->ex[i];
    nreq += one_request(t) ? 1 : t->kind == AL_TASK_LOGODDS ? 4 : e->nclasses;
  }
  al_score_req *q = al_malloc((size_t)nreq * sizeof *q);
  al_score_res *r = al_calloc((size_t)nreq, sizeof *r);
  int k = 0;
  for (int i = i0; i < i1; i++) {
    const al_example *e = &t->ex[i];
    if (one_request(t)) q[k++] = (al_score_req){e->prompt, e->completion};
    else if (t->kind == AL_TASK_LOGODDS)
      for (int pr = 0; pr < 2; pr++)
        for (int c = 0; c < 2; c++) q[k++] = (al_score_req){pr ? e->other_prompt : e->prompt, e->classes[c]};
    else
      for (int c = 0; c < e->nclasses; c++) q[k++] = (al_score_req){e->prompt, e->classes[c]};
  }
  if (p->score(p, q, nreq, r, err)) {
    free(q), free(r);
    return -1;
  }
  k = 0;
  for (int i = i0; i < i1; i++) {
    const al_example *e = &t->ex[i];
    json_t *o = json_pack("{s:i, s:i}", "index", i, "line", e->line), *in = json_pack("{s:s}", "prompt", e->prompt);
    int nr = one_request(t) ? 1 : t->kind == AL_TASK_LOGODDS ? 4 : e->nclasses;
    const char *why = first_error(&r[k], nr);
    if (why) {
      json_decref(o), json_decref(in);
      rec[i - i0] = failed_record(t, i, why);
      col->failed[i] = 1;
      k += nr;
      continue;
    }
    col->cut[i] = most_cut(&r[k], nr);
    if (col->cut[i] > 0) json_object_set_new(o, "truncated_tokens", json_integer((json_int_t)col->cut[i]));
    if (e->group) json_object_set_new(in, "group", json_string(e->group));
    if (one_request(t)) {
      al_score_res *s = &r[k++];
      double nll = -s->logprob;
      col->v[0][i] = nll;
      col->v[1][i] = s->ntokens ? nll / s->ntokens : 0;
      col->v[2][i] = s->is_greedy == 1;
      json_object_set_new(in, "completion", json_string(e->completion));
      json_t *tok = json_array();
      for (int j = 0; j < s->ntokens; j++) json_array_append_new(tok, num(s->token_lp[j]));
      json_object_set_new(o, "scores", json_pack("{s:o, s:o, s:i}", "logprob", num(s->logprob), "token_logprobs", tok,
                                                 "greedy", s->is_greedy));
      json_object_set_new(o, "loss", num(nll));
      json_object_set_new(o, "correct", json_boolean(s->is_greedy == 1));
    } else if (t->kind == AL_TASK_LOGODDS) {
      double lp[2] = {r[k].logprob, r[k + 1].logprob}, lo[2] = {r[k + 2].logprob, r[k + 3].logprob};
      k += 4;
      double d = al_logodds_difference(lp, lo, e->answer);
      int pred = lo[1] > lo[0];
      /* both prompts cut to the same tokens (for each class's request): the
       * pair measures nothing (its difference would read as a true 0) */
      col->invalid[i] = col->cut[i] > 0 && r[k - 4].prompt_key == r[k - 2].prompt_key &&
                        r[k - 3].prompt_key == r[k - 1].prompt_key;
      if (col->invalid[i]) json_object_set_new(o, "invalid", json_string("truncation made prompt and other_prompt identical"));
      col->v[0][i] = d;
      col->v[1][i] = pred == e->answer;
      json_object_set_new(in, "other_prompt", json_string(e->other_prompt));
      json_object_set_new(in, "classes", str_list(e->classes, 2));
      json_object_set_new(in, "answer_index", json_integer(e->answer));
      json_object_set_new(o, "scores", json_pack("{s:[o,o], s:[o,o]}", "prompt", num(lp[0]), num(lp[1]), "other_prompt",
                                                 num(lo[0]), num(lo[1])));
      json_object_set_new(o, "prediction", json_integer(pred));
      json_object_set_new(o, "loss", col->invalid[i] ? json_null() : num(d));
      json_object_set_new(o, "correct", json_boolean(pred == e->answer));
    } else {
      double lp[64];
      int nb[64], nc = e->nclasses;
      double *lpp = nc <= 64 ? lp : al_malloc((size_t)nc * sizeof(double));
      int *nbp = nc <= 64 ? nb : al_malloc((size_t)nc * sizeof(int));
      json_t *sc = json_array();
      for (int c = 0; c < nc; c++) {
        lpp[c] = r[k + c].logprob;
        nbp[c] = (int)strlen(e->classes[c]);
        json_array_append_new(sc, num(lpp[c]));
      }
      k += nc;
      al_cls_result cr = al_classify(lpp, nbp, nc, e->answer);
      if (lpp != lp) free(lpp), free(nbp);
      col->v[0][i] = cr.loss;
      col->v[1][i] = cr.correct;
      col->v[2][i] = cr.correct_norm;
      json_object_set_new(in, "classes", str_list(e->classes, nc));
      json_object_set_new(in, "answer_index", json_integer(e->answer));
      json_object_set_new(o, "scores", sc);
      json_object_set_new(o, "prediction", json_integer(cr.pred));
      json_object_set_new(o, "prediction_norm", json_integer(cr.pred_norm));
      json_object_set_new(o, "loss", num(cr.loss));
      json_object_set_new(o, "correct", json_boolean(cr.correct));
    }
    json_object_set_new(o, "input", in);
    rec[i - i0] = o;
  }
  al_score_res_free(r, nreq);
  free(q), free(r);
  return 0;
}

static int gen_batch(al_provider *p, const al_task *t, const al_eval_cfg *cfg, int i0, int i1, columns *col,
                     json_t **rec, al_err *err) {
  int n = i1 - i0, rc = 0;
  char **outs = al_calloc((size_t)n, sizeof *outs), **errs = al_calloc((size_t)n, sizeof *errs);
  al_gen_req *q = al_calloc((size_t)n, sizeof *q);
  al_chat_msg *m = al_calloc((size_t)n, sizeof *m);
  const char **stops = al_calloc((size_t)n * 16, sizeof *stops);
  for (int i = i0; i < i1; i++) { /* each example: its own stop string and seed */
    const al_example *e = &t->ex[i];
    al_gen_req *r = &q[i - i0];
    const char **st = stops + (size_t)(i - i0) * 16;
    int ns = 0;
    for (int s = 0; s < cfg->gen.nstop && ns < 15; s++) st[ns++] = cfg->gen.stop[s];
    if (e->stop) st[ns++] = e->stop;
    r->g = cfg->gen;
    r->g.stop = st;
    r->g.nstop = ns;
    r->g.seed = cfg->gen.seed + (uint64_t)i;
    if (cfg->chat) m[i - i0] = (al_chat_msg){"user", e->prompt}, r->msgs = &m[i - i0], r->nmsgs = 1;
    else r->prompt = e->prompt;
  }
  rc = p->complete(p, q, n, outs, errs, err);
  for (int i = i0; i < i1 && !rc; i++) {
    const al_example *e = &t->ex[i];
    if (errs[i - i0]) {
      rec[i - i0] = failed_record(t, i, errs[i - i0]);
      col->failed[i] = 1;
      continue;
    }
    int ok = 0;
    for (int k = 0; k < e->ntargets && !ok; k++) {
      int mt = al_match_target(t->match, outs[i - i0], e->targets[k], err);
      if (mt < 0) {
        al_fail_prefix(err, "%s:%d", t->path ? t->path : "task", e->line);
        rc = -1;
        break;
      }
      ok = mt;
    }
    col->v[0][i] = ok;
    json_t *in = json_pack("{s:s, s:o}", "prompt", e->prompt, "targets", str_list(e->targets, e->ntargets));
    if (e->group) json_object_set_new(in, "group", json_string(e->group));
    rec[i - i0] = json_pack("{s:i, s:i, s:o, s:s, s:b}", "index", i, "line", e->line, "input", in, "prediction",
                            outs[i - i0], "correct", ok);
  }
  for (int i = 0; i < n; i++) free(outs[i]), free(errs[i]);
  free(outs), free(errs), free(q), free(m), free(stops);
  return rc;
}

/* The celebrity test's chat protocol: col v[0] = the share of sampled
 * replies that start with the answer. */
static int celebrity_batch(al_provider *p, const al_task *t, const al_eval_cfg *cfg, int i0, int i1, columns *col,
                           json_t **rec, al_err *err) {
  for (int i = i0; i < i1; i++) {
    const al_example *e = &t->ex[i];
    al_gen_cfg g = cfg->gen;
    g.seed = cfg->gen.seed + (uint64_t)i * 1000003u;
    char *first;
    if (celebrity_ask(p, e, &g, cfg->samples, &col->v[0][i], &first, err)) { /* recorded; the run goes on */
      rec[i - i0] = failed_record(t, i, err->msg);
      col->failed[i] = 1;
      continue;
    }
    json_t *in = json_pack("{s:s, s:s, s:s}", "question", e->question, "answer", e->targets[0], "group", e->group);
    rec[i - i0] = json_pack("{s:i, s:i, s:o, s:s, s:f, s:i}", "index", i, "line", e->line, "input", in,
                            "first_reply", first, "share_correct", col->v[0][i], "samples", cfg->samples);
    free(first);
  }
  return 0;
}

/* The metric over x[i] for i < n with !skip[i] (skip may be NULL). */
static void add_metric(al_eval_result *res, const char *name, const double *x, int n, const char *skip,
                       const al_eval_cfg *cfg) {
  if (res->nm >= AL_EVAL_MAX_METRICS) return;
  double *kept = al_malloc((size_t)(n > 0 ? n : 1) * sizeof *kept);
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!skip || !skip[i]) kept[m++] = x[i];
  res->m[res->nm] = al_metric_of(name, kept, m, cfg->seed + (uint64_t)res->nm, cfg->nboot);
  res->nm++;
  free(kept);
}

/* "name[group]" over each group's examples (tmp: n scratch values). */
static void group_metrics(al_eval_result *res, const al_task *t, int n, const double *v, double *tmp, const char *name,
                          const char *skip, const al_eval_cfg *cfg) {
  const char *groups[4];
  int ng = 0;
  for (int i = 0; i < n; i++) {
    const char *g = t->ex[i].group;
    int seen = !g;
    for (int k = 0; k < ng && !seen; k++) seen = !strcmp(groups[k], g);
    if (!seen && ng < 4) groups[ng++] = g;
  }
  for (int k = 0; k < ng; k++) {
    int m = 0;
    for (int i = 0; i < n; i++)
      if (t->ex[i].group && !strcmp(t->ex[i].group, groups[k]) && !skip[i]) tmp[m++] = v[i];
    char key[48];
    snprintf(key, sizeof key, "%s[%s]", name, groups[k]);
    add_metric(res, key, tmp, m, NULL, cfg);
  }
}

/* Correct-or-not (or a share correct) in v[0]: accuracy, error = 1 -
 * accuracy (what scaling fits), accuracy per group. */
static void share_metrics(al_eval_result *res, const al_task *t, int n, columns *col, const al_eval_cfg *cfg) {
  add_metric(res, "accuracy", col->v[0], n, col->failed, cfg);
  for (int i = 0; i < n; i++) col->v[1][i] = 1 - col->v[0][i];
  add_metric(res, "error", col->v[1], n, col->failed, cfg);
  res->main_metric = "error";
  group_metrics(res, t, n, col->v[0], col->v[2], "accuracy", col->failed, cfg);
}

/* The celebrity test's protocol, in words, for results.json (NULL for other tasks). */
static json_t *protocol_json(const al_task *t, const al_eval_cfg *cfg) {
  if (t->kind == AL_TASK_CELEBRITY && cfg->chat)
    return json_pack("{s:s, s:s, s:i, s:f}", "name", "paper (chat)", "scoring",
                     "system message and three solved exchanges, then the question; the share of sampled replies "
                     "that start with the answer", "samples", cfg->samples, "temperature", cfg->gen.temperature);
  if (t->kind == AL_TASK_CELEBRITY)
    return json_pack("{s:s, s:s}", "name", "paper (base model)", "scoring",
                     "log p(\" \" + answer | few-shot prefix + \"\\nQ: \" + question + \"\\nA:\"); greedy = the answer "
                     "is the greedy continuation");
  if (!strcmp(t->format, "reversal-generation"))
    return json_pack("{s:s, s:s}", "name", "generation", "scoring",
                     "the bare question, one generation, correct when the answer appears anywhere in it");
  return NULL;
}

static int write_results(al_provider *p, const al_task *t, const al_eval_cfg *cfg, const al_eval_result *res, int n,
                         al_err *err) {
  json_t *m = json_object();
  for (int i = 0; i < res->nm; i++) json_object_set_new(m, res->m[i].name, al_metric_json(&res->m[i]));
  json_t *root = json_pack(
      "{s:s, s:{s:s, s:s, s:I}, s:{s:s, s:s, s:s, s:s, s:i}, s:s, s:o, s:{s:I, s:i}, s:{s:f, s:f}}", "alab_version",
      ALAB_VERSION, "provider", "kind", p->kind, "model", p->model, "nparams", (json_int_t)p->nparams, "task", "path",
      t->path ? t->path : "", "sha256", t->sha256, "format", t->format, "kind", al_task_kind_name(t->kind), "n", n,
      "main_metric", res->main_metric, "metrics", m, "settings", "seed", (json_int_t)cfg->seed, "nboot", cfg->nboot,
      "throughput", "seconds", res->seconds, "examples_per_s", res->examples_per_s);
  json_object_set_new(root, "failed_examples", json_integer(res->failed));
  al_http_stats hs;
  if (!al_provider_http_stats(p, &hs))
    json_object_set_new(root, "requests",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "sent", (json_int_t)hs.requests, "retries",
                                  (json_int_t)hs.retries, "failed", (json_int_t)hs.failures, "cache_hits",
                                  (json_int_t)hs.cache_hits, "prompt_tokens", (json_int_t)hs.prompt_tokens,
                                  "completion_tokens", (json_int_t)hs.completion_tokens, "wall_s", res->seconds));
  json_object_set_new(root, "truncation", json_pack("{s:i, s:i, s:i}", "examples_cut", res->truncated, "tokens_dropped_max",
                                                     res->truncated_max, "logodds_invalid", res->invalid));
  if (t->unread) json_object_set_new(json_object_get(root, "task"), "unread_columns", json_string(t->unread));
  json_t *proto = protocol_json(t, cfg);
  if (proto) json_object_set_new(root, "protocol", proto);
  if (t->kind == AL_TASK_GENERATION)
    json_object_set_new(root, "generation", json_pack("{s:s, s:i, s:f, s:b}", "match", al_match_name(t->match),
                                                      "max_tokens", cfg->gen.max_tokens, "temperature",
                                                      cfg->gen.temperature, "chat", cfg->chat));
  char *path = al_path_join(cfg->out_dir, "results.json");
  int rc = al_json_save_file(path, root, err);
  free(path);
  json_decref(root);
  return rc;
}

int al_eval_task(al_provider *p, const al_task *t, const al_eval_cfg *cfg_in, al_eval_result *res, al_err *err) {
  memset(res, 0, sizeof *res);
  /* the task's defaults: a negative temperature means greedy (0) for
   * generation and 1 for the celebrity test's sampled chat replies */
  al_eval_cfg resolved = *cfg_in;
  const al_eval_cfg *cfg = &resolved;
  if (resolved.gen.temperature < 0) resolved.gen.temperature = t->kind == AL_TASK_CELEBRITY ? 1 : 0;
  if (resolved.samples <= 0) resolved.samples = 10;
  int n = cfg->limit > 0 && cfg->limit < t->n ? cfg->limit : t->n;
  if (n <= 0) return al_fail(err, "the task has no examples");
  int B = cfg->batch > 0 ? cfg->batch : 64, rc = -1;
  columns col;
  for (int c = 0; c < 6; c++) col.v[c] = al_calloc((size_t)n, sizeof(double));
  col.cut = al_calloc((size_t)n, sizeof(double));
  col.invalid = al_calloc((size_t)n, 1);
  col.failed = al_calloc((size_t)n, 1);
  json_t **rec = al_calloc((size_t)B, sizeof *rec);
  al_atomic rf = {0};
  int have_file = 0;
  char first_failure[sizeof err->msg] = "";
  if (cfg->out_dir) {
    if (al_mkdir_p(cfg->out_dir, err)) goto done;
    char *path = al_path_join(cfg->out_dir, "examples.jsonl");
    int orc = al_atomic_open(&rf, path, err);
    free(path);
    if (orc) goto done;
    have_file = 1;
  }
  al_progress pg;
  al_progress_start(&pg, cfg->progress_label ? cfg->progress_label : "eval", (uint64_t)n, "ex");
  double t0 = al_now();
  for (int i0 = 0; i0 < n; i0 += B) {
    int i1 = i0 + B < n ? i0 + B : n;
    int brc = t->kind == AL_TASK_GENERATION                ? gen_batch(p, t, cfg, i0, i1, &col, rec, err)
              : t->kind == AL_TASK_CELEBRITY && cfg->chat ? celebrity_batch(p, t, cfg, i0, i1, &col, rec, err)
                                                          : score_batch(p, t, i0, i1, &col, rec, err);
    for (int i = 0; i < i1 - i0; i++) {
      const char *why = json_string_value(json_object_get(rec[i], "failed"));
      if (why && !first_failure[0])
        snprintf(first_failure, sizeof first_failure, "%s:%d: example %d: %s", t->path ? t->path : "task",
                 t->ex[i0 + i].line, i0 + i, why);
      if (rec[i] && have_file && !brc) {
        char *s = json_dumps(rec[i], JSON_COMPACT | JSON_REAL_PRECISION(17));
        fprintf(rf.f, "%s\n", s);
        free(s);
      }
      json_decref(rec[i]);
      rec[i] = NULL;
    }
    if (brc) {
      al_fail_prefix(err, "examples %d..%d", i0, i1 - 1);
      goto done;
    }
    if (cfg->fail_fast && first_failure[0]) {
      al_fail(err, "%s (--fail-fast)", first_failure);
      goto done;
    }
    al_progress_update(&pg, (uint64_t)i1);
  }
  al_progress_finish(&pg);
  res->seconds = al_now() - t0;
  res->examples_per_s = res->seconds > 0 ? n / res->seconds : 0;
  for (int i = 0; i < n; i++) {
    res->failed += col.failed[i];
    res->truncated += col.cut[i] > 0;
    res->invalid += col.invalid[i];
    if (col.cut[i] > res->truncated_max) res->truncated_max = (int)col.cut[i];
  }
  if (res->truncated)
    al_log("eval: warning: %d of %d examples had their prompt cut from the left to fit the model's context (up to %d "
           "tokens dropped)%s", res->truncated, n, res->truncated_max,
           res->invalid ? "; logodds pairs made identical by the cut are invalid and left out of the metrics" : "");
  if (res->failed)
    al_log("eval: warning: %d of %d examples failed (their records in examples.jsonl say why); the metrics leave "
           "them out", res->failed, n);
  if (res->failed == n) {
    al_fail(err, "every one of the %d examples failed; the first: %s", n, first_failure);
    goto done;
  }
  if (res->invalid == n) {
    al_fail(err, "all %d logodds pairs were made identical by cutting the prompts to the model's context: nothing "
                 "left to measure (use a model with a longer context)", n);
    goto done;
  }
  switch (t->kind) {
    case AL_TASK_CLASSIFICATION:
      add_metric(res, "loss", col.v[0], n, col.failed, cfg);
      add_metric(res, "accuracy", col.v[1], n, col.failed, cfg);
      add_metric(res, "accuracy_norm", col.v[2], n, col.failed, cfg);
      res->main_metric = "loss";
      break;
    case AL_TASK_LOGODDS: { /* over the valid pairs only */
      int m = 0;
      for (int i = 0; i < n; i++)
        if (!col.invalid[i] && !col.failed[i]) col.v[0][m] = col.v[0][i], col.v[1][m] = col.v[1][i], m++;
      add_metric(res, "logodds_difference", col.v[0], m, NULL, cfg);
      add_metric(res, "accuracy", col.v[1], m, NULL, cfg);
      res->main_metric = "logodds_difference";
      break;
    }
    case AL_TASK_SEQUENCE_PROB:
      add_metric(res, "nll", col.v[0], n, col.failed, cfg);
      add_metric(res, "nll_per_token", col.v[1], n, col.failed, cfg);
      add_metric(res, "greedy", col.v[2], n, col.failed, cfg);
      res->main_metric = "nll";
      break;
    case AL_TASK_CELEBRITY:
      if (!cfg->chat) { /* log p of the answer: the paper reports it per direction */
        for (int i = 0; i < n; i++) col.v[3][i] = -col.v[0][i], col.v[4][i] = exp(-col.v[0][i]);
        add_metric(res, "nll", col.v[0], n, col.failed, cfg);
        add_metric(res, "probability", col.v[4], n, col.failed, cfg);
        add_metric(res, "greedy", col.v[2], n, col.failed, cfg);
        group_metrics(res, t, n, col.v[3], col.v[5], "logprob", col.failed, cfg);
        group_metrics(res, t, n, col.v[4], col.v[5], "probability", col.failed, cfg);
        group_metrics(res, t, n, col.v[2], col.v[5], "greedy", col.failed, cfg);
        res->main_metric = "nll";
        break;
      }
      share_metrics(res, t, n, &col, cfg); /* the chat protocol's v[0] is a share correct */
      break;
    case AL_TASK_GENERATION:
      share_metrics(res, t, n, &col, cfg);
      break;
  }
  if (have_file) {
    have_file = 0;
    if (al_atomic_commit(&rf, err)) goto done;
    if (write_results(p, t, cfg, res, n, err)) goto done;
  }
  rc = 0;
done:
  if (have_file) al_atomic_abort(&rf);
  for (int c = 0; c < 6; c++) free(col.v[c]);
  free(col.cut), free(col.invalid), free(col.failed);
  free(rec);
  return rc;
}

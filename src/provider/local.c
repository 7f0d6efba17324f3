/* The local provider: alab's engine on a model directory.
 *
 * Scoring: the prompt and the continuation are encoded separately; an empty
 * prompt becomes <|endoftext|> (GPT-2's convention for unconditional text);
 * "<|endoftext|>" written in a prompt or continuation is that token, as alab
 * serve reads a completion prompt (a chat message's text stays plain text);
 * a prompt too long for the context loses tokens from the left. Requests
 * that share a prompt (a task's classes) form one unit scored on one decoder:
 * al_score_continuation reuses the KV cache when the prompt is a prefix of
 * what the decoder holds, so the prompt's forward pass is computed once per
 * unit. Units run in parallel, one decoder per thread (OpenBLAS is kept to
 * one thread inside the parallel region). With reuse_cache = 0 every request
 * starts from an empty cache: one full forward per continuation. */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "provider/provider_internal.h"

typedef struct {
  al_model own;
  const al_model *m;
  al_tok *own_tok;
  const al_tok *tok;
  al_local_cfg cfg;
  al_decoder **dec;
  int ndec;
} local_impl;

al_local_cfg al_local_cfg_default(void) {
  al_local_cfg c = {.threads = 0, .reuse_cache = 1};
  return c;
}

static int nthreads(const local_impl *L) {
  int t = L->cfg.threads > 0 ? L->cfg.threads : al_get_threads();
  return t < 1 ? 1 : t;
}

static al_decoder *decoder(local_impl *L, int i) { return L->dec[i]; }

static void ensure_decoders(local_impl *L, int n) {
  if (n <= L->ndec) return;
  L->dec = al_realloc(L->dec, (size_t)n * sizeof *L->dec);
  for (int i = L->ndec; i < n; i++) L->dec[i] = al_decoder_new(L->m);
  L->ndec = n;
}

typedef struct {
  int32_t *ids;
  size_t n, cap;
} ids_t;

/* special: <|endoftext|> in the text is the token (as alab serve reads a
 * completion prompt), else plain text (as it reads a chat message) */
static int encode(const al_tok *tok, const char *s, int special, int start, ids_t *out, al_err *err) {
  out->n = 0; /* start: a whole text (a prompt), with the tokenizer's BOS first if it adds one */
  if ((start ? al_tok_encode_start : al_tok_encode)(tok, s, strlen(s), special, &out->ids, &out->n, &out->cap, err) < 0)
    return -1;
  return 0;
}

/* Runs f(ctx, i, decoder, err) for i in [0, n): in parallel over threads when
 * n > 1 and more than one thread is allowed, else on one decoder with the
 * engine's own threading. Returns 0, or -1 with the first error. */
typedef int (*unit_fn)(void *ctx, int i, al_decoder *d, al_err *err);
static int run_units(local_impl *L, int n, unit_fn f, void *ctx, al_progress *prog, al_err *err) {
  int nt = nthreads(L);
  if (nt > n) nt = n;
  if (nt < 1) nt = 1;
  ensure_decoders(L, nt);
  if (nt == 1) {
    for (int i = 0; i < n; i++)
      if (f(ctx, i, decoder(L, 0), err)) return -1;
    return 0;
  }
  int saved = al_get_threads();
  al_first_err first = {0};
  openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int i = 0; i < n; i++) {
    if (al_first_err_failed(&first)) continue;
    al_err e;
    if (f(ctx, i, decoder(L, omp_get_thread_num()), &e)) al_first_err_keep(&first, &e);
  }
  al_set_threads(saved);
  (void)prog;
  if (first.failed) *err = first.err;
  return first.failed ? -1 : 0;
}

/* ---- scoring ---- */
typedef struct {
  local_impl *L;
  const al_score_req *reqs;
  al_score_res *out;
  ids_t *prompt, *cont; /* per request (prompt shared within a unit) */
  int *unit_start;      /* nunits + 1 */
} score_ctx;

static int score_unit(void *vctx, int u, al_decoder *d, al_err *err) {
  score_ctx *c = vctx;
  int npos = c->L->m->cfg.n_positions;
  for (int i = c->unit_start[u]; i < c->unit_start[u + 1]; i++) {
    const ids_t *p = &c->prompt[c->unit_start[u]], *k = &c->cont[i];
    al_score_res *r = &c->out[i];
    r->ntokens = (int)k->n;
    r->token_lp = al_malloc((k->n ? k->n : 1) * sizeof(float));
    r->is_greedy = 1;
    r->logprob = 0;
    if (!k->n) continue;
    if ((int)k->n >= npos)
      return al_fail(err, "request %d: continuation of %zu tokens does not fit the context of %d", i, k->n, npos);
    int np = (int)p->n, drop = np + (int)k->n > npos ? np + (int)k->n - npos : 0;
    r->truncated = drop;
    r->prompt_key = 1469598103934665603ull; /* FNV-1a over the kept prompt's token ids */
    for (int t = drop; t < np; t++) r->prompt_key = (r->prompt_key ^ (uint32_t)p->ids[t]) * 1099511628211ull;
    if (!c->L->cfg.reuse_cache) al_decoder_truncate(d, 0);
    double sum;
    if (al_score_continuation(d, p->ids + drop, np - drop, k->ids, (int)k->n, &sum, r->token_lp, &r->is_greedy, err))
      return al_fail_prefix(err, "request %d", i);
    r->logprob = 0; /* summed here in order, as the HTTP provider sums what it reads */
    for (size_t t = 0; t < k->n; t++) r->logprob += r->token_lp[t];
  }
  return 0;
}

static int local_score(al_provider *p, const al_score_req *reqs, int n, al_score_res *out, al_err *err) {
  local_impl *L = p->impl;
  memset(out, 0, (size_t)n * sizeof *out);
  score_ctx c = {.L = L, .reqs = reqs, .out = out};
  c.prompt = al_calloc((size_t)(n ? n : 1), sizeof *c.prompt);
  c.cont = al_calloc((size_t)(n ? n : 1), sizeof *c.cont);
  c.unit_start = al_malloc((size_t)(n + 1) * sizeof(int));
  int nunits = 0, rc = -1, eot = al_tok_eot(L->tok);
  for (int i = 0; i < n; i++) {
    if (!reqs[i].prompt || !reqs[i].continuation) {
      al_fail(err, "request %d: prompt or continuation missing", i);
      goto done;
    }
    int same = i > 0 && !strcmp(reqs[i].prompt, reqs[i - 1].prompt);
    if (!same) {
      c.unit_start[nunits++] = i;
      if (encode(L->tok, reqs[i].prompt, 1, 1, &c.prompt[i], err)) goto fail_req;
      if (!c.prompt[i].n) {
        if (eot < 0) {
          al_fail(err, "request %d: empty prompt and the tokenizer has no <|endoftext|> to start from", i);
          goto done;
        }
        if (c.prompt[i].cap < 1) c.prompt[i].ids = al_realloc(c.prompt[i].ids, sizeof(int32_t)), c.prompt[i].cap = 1;
        c.prompt[i].ids[0] = eot;
        c.prompt[i].n = 1;
      }
    }
    if (encode(L->tok, reqs[i].continuation, 1, 0, &c.cont[i], err)) goto fail_req;
  }
  c.unit_start[nunits] = n;
  rc = run_units(L, nunits, score_unit, &c, NULL, err);
  goto done;
fail_req:
  al_fail_prefix(err, "tokenizing a request");
done:
  for (int i = 0; i < n; i++) free(c.prompt[i].ids), free(c.cont[i].ids);
  free(c.prompt);
  free(c.cont);
  free(c.unit_start);
  if (rc) al_score_res_free(out, n);
  return rc;
}

/* ---- generation ---- */
typedef struct {
  const al_tok *tok;
  al_buf text;
  const char *const *stop;
  int nstop, eot;
  size_t maxstop;
} gen_watch;

static int on_token(void *vctx, int32_t token) {
  gen_watch *w = vctx;
  if (token == w->eot) return 1;
  size_t tl;
  const char *b = al_tok_token(w->tok, token, &tl);
  if (b) al_buf_append(&w->text, b, tl);
  if (!w->nstop) return 0;
  size_t from = w->text.len > tl + w->maxstop ? w->text.len - tl - w->maxstop : 0;
  return prov_stop_at(w->text.data + from, w->text.len - from, w->stop, w->nstop) < w->text.len - from;
}

typedef struct {
  local_impl *L;
  const char *const *prompts;
  const al_gen_cfg *g;
  const char *const *stop;
  int nstop, special;
  char **outs;
} gen_ctx;

static int gen_one(void *vctx, int i, al_decoder *d, al_err *err) {
  gen_ctx *c = vctx;
  local_impl *L = c->L;
  int npos = L->m->cfg.n_positions, eot = al_tok_eot(L->tok);
  ids_t p = {0};
  if (encode(L->tok, c->prompts[i], c->special, 1, &p, err)) return al_fail_prefix(err, "prompt %d", i);
  if (!p.n) {
    p.ids = al_realloc(p.ids, sizeof(int32_t));
    p.ids[0] = eot >= 0 ? eot : 0;
    p.n = 1;
  }
  int max_new = c->g->max_tokens < npos - 1 ? c->g->max_tokens : npos - 1;
  if (max_new < 1) max_new = 1;
  int np = (int)p.n, drop = np + max_new > npos ? np + max_new - npos : 0;
  gen_watch w = {.tok = L->tok, .stop = c->stop, .nstop = c->nstop, .eot = eot};
  for (int k = 0; k < c->nstop; k++)
    if (strlen(c->stop[k]) > w.maxstop) w.maxstop = strlen(c->stop[k]);
  al_buf_append(&w.text, "", 0);
  al_sample_cfg s = {.temperature = (float)c->g->temperature, .top_p = (float)c->g->top_p, .top_k = c->g->top_k};
  al_rng rng;
  al_rng_seed_stream(&rng, c->g->seed, (uint64_t)i);
  int32_t *out = al_malloc((size_t)max_new * sizeof(int32_t));
  int got = al_generate(d, p.ids + drop, np - drop, max_new, &s, &rng, eot, out, on_token, &w, err);
  free(out);
  free(p.ids);
  if (got < 0) {
    al_buf_free(&w.text);
    return al_fail_prefix(err, "generating for prompt %d", i);
  }
  size_t keep = prov_stop_at(w.text.data, w.text.len, c->stop, c->nstop);
  w.text.data[keep] = 0;
  c->outs[i] = w.text.data;
  return 0;
}

static int local_generate_stops(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g,
                                const char *const *stop, int nstop, int special, char **outs, al_err *err) {
  gen_ctx c = {.L = p->impl, .prompts = prompts, .g = g, .stop = stop, .nstop = nstop, .special = special, .outs = outs};
  memset(outs, 0, (size_t)n * sizeof *outs);
  if (run_units(p->impl, n, gen_one, &c, NULL, err)) {
    for (int i = 0; i < n; i++) free(outs[i]), outs[i] = NULL;
    return -1;
  }
  return 0;
}

static int local_generate(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs,
                          al_err *err) {
  return local_generate_stops(p, prompts, n, g, g->stop, g->nstop, 1, outs, err);
}

static int local_chat(al_provider *p, const al_chat_msg *msgs, int n, const al_gen_cfg *g, char **out, al_err *err) {
  const char **stop = al_malloc((size_t)(g->nstop + 1) * sizeof *stop);
  char *prompt = prov_chat_prompt(p, msgs, n, NULL, &stop[g->nstop]);
  for (int i = 0; i < g->nstop; i++) stop[i] = g->stop[i];
  const char *const prompts[1] = {prompt};
  int rc = local_generate_stops(p, prompts, 1, g, stop, g->nstop + 1, 0, out, err);
  free(stop);
  free(prompt);
  return rc;
}

static void local_destroy(al_provider *p) {
  local_impl *L = p->impl;
  for (int i = 0; i < L->ndec; i++) al_decoder_free(L->dec[i]);
  free(L->dec);
  if (L->m == &L->own) al_model_free(&L->own);
  if (L->own_tok) al_tok_free(L->own_tok);
  free(L);
}

static al_provider *local_new(local_impl *L, const char *name, const al_local_cfg *cfg) {
  al_provider *p = prov_new("local", name);
  L->cfg = cfg ? *cfg : al_local_cfg_default();
  p->impl = L;
  p->nparams = (long long)L->m->nparams;
  p->score = local_score;
  p->generate = local_generate;
  p->chat = local_chat;
  p->destroy = local_destroy;
  return p;
}

int al_provider_local_wrap(al_provider **out, const al_model *model, const al_tok *tok, const char *name,
                           const al_local_cfg *cfg, al_err *err) {
  if (al_tok_vocab_size(tok) > model->cfg.vocab_size)
    return al_fail(err, "%s: tokenizer has %d tokens but the model only %d", name, al_tok_vocab_size(tok),
                   model->cfg.vocab_size);
  local_impl *L = al_calloc(1, sizeof *L);
  L->m = model;
  L->tok = tok;
  *out = local_new(L, name, cfg);
  return 0;
}

int al_provider_local(al_provider **out, const char *dir, const al_local_cfg *cfg, al_err *err) {
  local_impl *L = al_calloc(1, sizeof *L);
  if (al_model_load_dir_tok(&L->own, &L->own_tok, dir, err)) {
    free(L);
    return -1;
  }
  L->m = &L->own;
  L->tok = L->own_tok;
  al_chat_template t;
  if (al_chat_template_load(&t, dir, err)) {
    al_tok_free(L->own_tok);
    al_model_free(&L->own);
    free(L);
    return -1;
  }
  *out = local_new(L, dir, cfg);
  al_chat_template_free(&(*out)->chat_template);
  (*out)->chat_template = t; /* the model's own, replacing alab's default */
  return 0;
}

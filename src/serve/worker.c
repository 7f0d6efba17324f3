/* The worker pool: a bounded FIFO of jobs (requests) and a fixed set of
 * worker threads. A job has prompts x n choices; each choice is one
 * sequence. A worker keeps up to SV_BATCH sequences in flight (one decoder
 * each), admits at most one new sequence per step (so idle workers share the
 * load), and advances every sequence by one token per step.
 *
 * A sequence's result depends only on its request: the prompt is fed in the
 * engine's fixed chunks (all but the last token, then the last alone), and
 * choice i samples from al_rng_seed_stream(seed, i). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "serve/serve_internal.h"

typedef struct {
  sv_job *job;
  sv_choice *c;
  al_decoder *d;
  al_rng rng;
  int32_t next; /* the token to feed before the next step */
} sv_slot;

struct sv_worker {
  sv_pool *pool;
  pthread_t th;
  int nthreads;
  sv_slot slot[SV_BATCH];
  al_decoder *dec[SV_BATCH];
  int nactive;
  void *scratch;       /* sampling */
  float *lp, *top_lp;  /* echo log-probs of one prompt: n_positions (x SV_MAX_TOP) */
  int32_t *top_id;
  nn_bf16 *bf;         /* bf16: this worker's copy of the weights (a context serves one thread) */
};

sv_job *sv_job_new(const sv_model *m, sv_request *req) {
  static unsigned long long counter;
  sv_job *j = al_calloc(1, sizeof *j);
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  j->refs = 1;
  j->req = *req;
  memset(req, 0, sizeof *req);
  j->m = m;
  j->created = (long long)time(NULL);
  snprintf(j->id, sizeof j->id, "%s-%llx%06llx", j->req.kind == SV_CHAT ? "chatcmpl" : "cmpl", (unsigned long long)j->created,
           __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) & 0xffffff);
  j->nchoices = j->req.nprompts * j->req.n;
  j->choices = al_calloc((size_t)j->nchoices, sizeof *j->choices);
  for (int i = 0; i < j->nchoices; i++) sv_choice_init(&j->choices[i], i, j->req.logprobs < 0 ? -1 : j->req.logprobs);
  return j;
}

void sv_job_unref(sv_job *j) {
  if (!j) return;
  pthread_mutex_lock(&j->mu);
  int left = --j->refs;
  pthread_mutex_unlock(&j->mu);
  if (left) return;
  for (int i = 0; i < j->nchoices; i++) sv_choice_free(&j->choices[i]);
  free(j->choices);
  sv_request_free(&j->req);
  al_buf_free(&j->sse);
  pthread_mutex_destroy(&j->mu);
  pthread_cond_destroy(&j->cv);
  free(j);
}

int sv_pool_submit(sv_pool *p, sv_job *j) {
  pthread_mutex_lock(&p->mu);
  if (p->stopping || p->queued >= p->cap) {
    pthread_mutex_unlock(&p->mu);
    return -1;
  }
  pthread_mutex_lock(&j->mu);
  j->refs++;
  pthread_mutex_unlock(&j->mu);
  j->next = NULL;
  if (p->tail) p->tail->next = j;
  else p->head = j;
  p->tail = j;
  p->queued++;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return 0;
}

/* Called with j->mu not held: records that choice c is complete. */
static void finish_choice(sv_job *j, sv_choice *c) {
  pthread_mutex_lock(&j->mu);
  if (!c->finish) c->finish = "stop";
  if (j->req.stream) sv_stream_choice(j, c);
  if (++j->nfinished == j->nchoices) {
    if (j->req.stream) sv_stream_finish(j);
    j->done = 1;
  }
  pthread_cond_broadcast(&j->cv);
  pthread_mutex_unlock(&j->mu);
}

static void fail_job(sv_job *j, const char *what, const al_err *err) {
  pthread_mutex_lock(&j->mu);
  if (!j->failed) sv_fail(&j->err, 500, "internal_error", NULL, "%s: %s", what, err->msg);
  j->failed = 1;
  pthread_mutex_unlock(&j->mu);
}

/* Feeds the prompt (recording echoed tokens and their log-probs) so that the
 * decoder's logits predict the first new token. Returns 1 if the sequence
 * goes on to generate, 0 if it is already complete. */
static int prefill(sv_worker *w, sv_slot *s) {
  sv_job *j = s->job;
  sv_choice *c = s->c;
  const sv_request *r = &j->req;
  const sv_model *m = j->m;
  int p = c->index / r->n, np = r->prompt_len[p], k = c->k > 0 ? c->k : 0;
  const int32_t *prompt = r->prompts[p];
  al_err err;
  al_rng_seed_stream(&s->rng, r->seed, (uint64_t)c->index);
  if (__atomic_load_n(&j->cancelled, __ATOMIC_RELAXED)) return 0;
  int rc = 0;
  if (r->echo && r->logprobs >= 0) {
    rc = al_sequence_logprobs(s->d, prompt, np, w->lp, NULL, k, w->top_id, w->top_lp, &err); /* holds np-1 tokens */
    for (int i = 0; i < np && !rc; i++) sv_choice_add(c, m, prompt[i], w->lp[i], w->top_id + (size_t)i * k, w->top_lp + (size_t)i * k);
  } else {
    al_decoder_truncate(s->d, 0);
    rc = al_decoder_feed(s->d, prompt, np - 1, NULL, &err);
    for (int i = 0; r->echo && i < np; i++) sv_choice_add(c, m, prompt[i], NAN, NULL, NULL);
  }
  c->gen_start = c->text.len; /* an echoed prompt is streamed too (sent_bytes stays 0) */
  if (!rc && r->max_tokens > 0) rc = al_decoder_feed(s->d, prompt + np - 1, 1, NULL, &err);
  if (rc) {
    fail_job(j, "prompt", &err);
    return 0;
  }
  if (r->max_tokens == 0) {
    c->finish = "length";
    return 0;
  }
  return 1;
}

/* Samples one token for the slot; returns 1 if the sequence goes on. */
static int step(sv_worker *w, sv_slot *s) {
  sv_job *j = s->job;
  sv_choice *c = s->c;
  const sv_request *r = &j->req;
  const sv_model *m = j->m;
  const float *z = al_decoder_logits(s->d);
  int32_t tok = al_sample_logits(z, m->vocab, &r->sample, &s->rng, w->scratch);
  c->generated++;
  int32_t top_id[SV_MAX_TOP];
  float top_lp[SV_MAX_TOP], lp = NAN;
  if (c->k >= 0) {
    float lse = al_logsumexp(z, m->model.cfg.vocab_size);
    lp = z[tok] - lse;
    al_top_k(z, m->model.cfg.vocab_size, lse, c->k, top_id, top_lp);
  }
  sv_choice_add(c, m, tok, lp, top_id, top_lp);
  if (tok == m->eot) { /* the generated token, as OpenAI and vLLM list it, but not part of the text */
    c->text.len = c->off[c->ntok - 1];
    c->finish = "stop";
  } else if (!sv_choice_check_stop(c, r) && c->generated >= r->max_tokens) c->finish = "length";
  if (!c->finish && al_decoder_pos(s->d) >= m->model.cfg.n_positions) c->finish = "length";
  if (r->stream && !c->finish) {
    pthread_mutex_lock(&j->mu);
    sv_stream_choice(j, c);
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
  }
  if (__atomic_load_n(&j->cancelled, __ATOMIC_RELAXED)) return 0;
  s->next = tok;
  return !c->finish;
}

/* Takes the next choice of the job at the head of the queue (p->mu held). */
static int admit(sv_pool *p, sv_worker *w) {
  sv_job *j = p->head;
  if (!j || w->nactive == p->batch) return 0;
  sv_slot *s = &w->slot[w->nactive];
  s->job = j;
  s->c = &j->choices[j->next_choice++];
  s->d = w->dec[w->nactive];
  pthread_mutex_lock(&j->mu);
  j->refs++;
  pthread_mutex_unlock(&j->mu);
  if (j->next_choice == j->nchoices) {
    p->head = j->next;
    if (!p->head) p->tail = NULL;
    p->queued--;
    sv_job_unref(j); /* the queue's reference */
  }
  w->nactive++;
  return 1;
}

static void retire(sv_worker *w, int i) {
  sv_slot *s = &w->slot[i];
  finish_choice(s->job, s->c);
  sv_job_unref(s->job);
  al_decoder *d = w->dec[i]; /* keep the decoders paired with their slots */
  w->nactive--;
  w->slot[i] = w->slot[w->nactive];
  w->dec[i] = w->dec[w->nactive];
  w->dec[w->nactive] = d;
}

static void *worker_main(void *arg) {
  sv_worker *w = arg;
  sv_pool *p = w->pool;
  omp_set_num_threads(w->nthreads);
  nn_bf16_use(w->bf); /* NULL in fp32; the thread ends with it, so nothing to restore */
  pthread_mutex_lock(&p->mu);
  for (;;) {
    int fresh = admit(p, w);
    if (!w->nactive) {
      if (p->stopping) break;
      pthread_cond_wait(&p->cv, &p->mu);
      continue;
    }
    pthread_mutex_unlock(&p->mu);
    int old = w->nactive - fresh;
    if (fresh) {
      sv_slot *s = &w->slot[old];
      if (!prefill(w, s) || !step(w, s)) retire(w, old);
    }
    /* every older sequence: feed the token sampled last step (one batch, the
     * weights read once for all), then sample the next; downwards, so a
     * retired slot is refilled from one already done */
    if (old > 0) {
      al_decoder *ds[SV_BATCH];
      int32_t toks[SV_BATCH];
      al_err err;
      for (int i = 0; i < old; i++) {
        ds[i] = w->slot[i].d;
        toks[i] = w->slot[i].next;
      }
      int rc = al_decoder_step_many(ds, toks, old, &err);
      for (int i = old - 1; i >= 0; i--) {
        if (rc) fail_job(w->slot[i].job, "decoding", &err);
        if (rc || !step(w, &w->slot[i])) retire(w, i);
      }
    }
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int sv_pool_start(sv_pool *p, const sv_model *m, const al_serve_cfg *c, al_err *err) {
  memset(p, 0, sizeof *p);
  int nworkers = c->workers;
  if (nworkers < 1 || nworkers > 256) return al_fail(err, "--workers must be between 1 and 256 (got %d)", nworkers);
  if (c->threads < 1 || c->threads > 256) return al_fail(err, "--threads must be between 1 and 256 (got %d)", c->threads);
  if (c->batch < 1 || c->batch > SV_BATCH) return al_fail(err, "--batch must be between 1 and %d (got %d)", SV_BATCH, c->batch);
  if (c->queue < 1) return al_fail(err, "--queue must be >= 1 (got %d)", c->queue);
  p->m = m;
  p->cap = c->queue;
  p->batch = c->batch;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->workers = al_calloc((size_t)nworkers, sizeof *p->workers);
  p->nworkers = nworkers;
  size_t T = (size_t)m->model.cfg.n_positions;
  for (int i = 0; i < nworkers; i++) {
    sv_worker *w = &p->workers[i];
    w->pool = p;
    w->nthreads = c->threads;
    for (int b = 0; b < p->batch; b++) w->dec[b] = al_decoder_new(&m->model);
    w->scratch = al_sample_scratch(m->model.cfg.vocab_size);
    w->lp = al_malloc(T * sizeof(float));
    w->top_id = al_malloc(T * SV_MAX_TOP * sizeof(int32_t));
    w->top_lp = al_malloc(T * SV_MAX_TOP * sizeof(float));
    char why[256];
    if (m->precision == NN_BF16 && !(w->bf = nn_bf16_new(m->model.params, m->model.nparams, why, sizeof why))) {
      p->started = 0;
      sv_pool_stop(p);
      return al_fail(err, "--precision bf16: %s", why);
    }
  }
  for (int i = 0; i < nworkers; i++) {
    if (pthread_create(&p->workers[i].th, NULL, worker_main, &p->workers[i])) {
      sv_pool_stop(p);
      return al_fail(err, "cannot start worker thread %d", i);
    }
    p->started = i + 1;
  }
  return 0;
}

void sv_pool_stop(sv_pool *p) {
  pthread_mutex_lock(&p->mu);
  p->stopping = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->started; i++) pthread_join(p->workers[i].th, NULL);
  for (int i = 0; p->workers && i < p->nworkers; i++) {
    sv_worker *w = &p->workers[i];
    for (int b = 0; b < SV_BATCH; b++) al_decoder_free(w->dec[b]); /* NULL past the batch */
    free(w->scratch);
    free(w->lp);
    free(w->top_id);
    free(w->top_lp);
    nn_bf16_free(w->bf);
  }
  free(p->workers);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  memset(p, 0, sizeof *p);
}

/* The models of the reversal-curse experiment: the tokenizer (trained on the
 * story world plus the training facts, so names are not absurdly
 * fragmented), the base model (pretrained on the story world, or loaded), and
 * finetuning on prompt/completion examples mixed with pretraining text.
 *
 * An example is one row of a batch:
 *   inputs   EOT prompt completion EOT pad...   (pad = EOT)
 *   targets  the next token at completion positions and at the final EOT,
 *            -1 elsewhere (the prompt, the padding), which the loss ignores.
 * A micro-batch of B rows holds round(B * mix) windows of pretraining text
 * (every target counted) and B - that many examples, taken in epoch order
 * (one permutation of the examples per epoch, from (seed, epoch)). Row
 * contents depend only on (seed, micro-batch index), so runs repeat exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "exp/reversal_internal.h"

int rev_tokenize(rev_examples *x, const al_tok *tok, const al_rev_set *s, al_err *err) {
  memset(x, 0, sizeof *x);
  int32_t eot = al_tok_eot(tok);
  x->n = s->n;
  x->off = al_malloc(sizeof(size_t) * (s->n + 1));
  x->np = al_malloc(sizeof(int) * s->n);
  x->nc = al_malloc(sizeof(int) * s->n);
  x->nr = al_malloc(sizeof(int) * s->n);
  size_t n = 0, cap = 0;
  for (int i = 0; i < s->n; i++) {
    const al_rev_example *e = &s->ex[i];
    x->off[i] = n;
    if (n + 1 > cap) x->ids = al_realloc(x->ids, sizeof(int32_t) * (cap = 2 * cap + 64));
    x->ids[n++] = eot;
    long a = al_tok_encode(tok, e->prompt, strlen(e->prompt), 0, &x->ids, &n, &cap, err);
    long b = a < 0 ? -1 : al_tok_encode(tok, e->completion, strlen(e->completion), 0, &x->ids, &n, &cap, err);
    long c = b < 0 || !e->random ? b : al_tok_encode(tok, e->random, strlen(e->random), 0, &x->ids, &n, &cap, err);
    if (a < 0 || b < 0 || c < 0) {
      rev_examples_free(x);
      return al_fail_prefix(err, "%s:%d", s->file, e->line);
    }
    x->np[i] = (int)a + 1;
    x->nc[i] = (int)b;
    x->nr[i] = e->random ? (int)c : 0;
    int len = x->np[i] + x->nc[i] + 1; /* + the final EOT */
    if (len > x->maxlen) x->maxlen = len;
  }
  x->off[s->n] = n;
  return 0;
}

void rev_examples_free(rev_examples *x) {
  free(x->ids), free(x->off), free(x->np), free(x->nc), free(x->nr);
  memset(x, 0, sizeof *x);
}

int rev_make_tokenizer(al_tok **tok, const char *spec, const char *story_text, size_t story_len, const al_rev_set *train,
                       al_err *err) {
  if (!strcmp(spec, "byte")) {
    *tok = al_tok_byte();
    return 0;
  }
  char *end;
  long v = strncmp(spec, "bpe:", 4) ? 0 : strtol(spec + 4, &end, 10);
  if (v < 257 || v > 65536 || *end) return al_fail(err, "--tokenizer '%s': expected byte or bpe:N with 257 <= N <= 65536", spec);
  al_buf b = {0};
  al_buf_append(&b, story_text, story_len);
  for (int i = 0; i < train->n; i++) al_buf_printf(&b, "%s%s<|endoftext|>", train->ex[i].prompt, train->ex[i].completion);
  int rc = al_tok_train(tok, b.data, b.len, (int)v, err);
  al_buf_free(&b);
  return rc;
}

/* ---- finetuning batches ---- */
typedef struct {
  const rev_examples *x;
  const int32_t *text; /* pretraining tokens */
  size_t ntext;
  int B, T, nmix;
  int32_t eot;
  uint64_t seed;
  uint32_t *order;
  uint64_t epoch; /* of order; UINT64_MAX: none yet */
} ft_ctx;

static void ft_batch(void *ctxp, uint64_t index, int32_t *inputs, int32_t *targets) {
  ft_ctx *c = ctxp;
  int T = c->T, nex = c->B - c->nmix;
  for (int r = 0; r < c->B; r++) {
    int32_t *in = inputs + (size_t)r * T, *tg = targets + (size_t)r * T;
    if (r < c->nmix) {
      al_rng rng;
      al_rng_seed_stream(&rng, c->seed ^ 0x9e3779b97f4a7c15ull, index * c->B + r);
      size_t s = al_rng_below(&rng, c->ntext - T);
      memcpy(in, c->text + s, sizeof(int32_t) * T);
      memcpy(tg, c->text + s + 1, sizeof(int32_t) * T);
      continue;
    }
    uint64_t k = index * nex + (r - c->nmix), epoch = k / c->x->n, pos = k % c->x->n;
    if (epoch != c->epoch) {
      al_rng rng;
      al_rng_seed_stream(&rng, c->seed, epoch);
      for (int i = 0; i < c->x->n; i++) c->order[i] = i;
      al_rng_shuffle_u32(&rng, c->order, c->x->n);
      c->epoch = epoch;
    }
    int e = c->order[pos], np = c->x->np[e], len = np + c->x->nc[e] + 1;
    const int32_t *seq = c->x->ids + c->x->off[e]; /* EOT prompt completion (random follows) */
    for (int t = 0; t < T; t++) {
      int32_t next = t + 1 < len - 1 ? seq[t + 1] : c->eot; /* the token after the completion is EOT */
      in[t] = t < len - 1 ? seq[t] : c->eot;
      tg[t] = t + 1 < len && t + 1 >= np ? next : -1;
    }
  }
}

int rev_finetune(al_model *m, const rev_examples *x, const int32_t *text, size_t ntext, const rev_ft_cfg *f,
                 al_train_result *res, al_err *err) {
  int T = x->maxlen;
  if (T > m->cfg.n_positions)
    return al_fail(err, "the longest example has %d tokens, more than the model's context of %d", T, m->cfg.n_positions);
  int nmix = (int)lround(f->batch * f->mix);
  if (nmix >= f->batch) return al_fail(err, "--mix %g leaves no room for facts in a batch of %d", f->mix, f->batch);
  if (nmix > 0 && ntext < (size_t)T + 2) return al_fail(err, "the pretraining text is too short to mix in");
  ft_ctx c = {x, text, ntext, f->batch, T, nmix, 0, f->seed, al_malloc(sizeof(uint32_t) * x->n), UINT64_MAX};
  c.eot = x->ids[0];
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = f->batch;
  tc.seq_len = T;
  tc.steps = (long)ceil(f->epochs * x->n / (f->batch - nmix));
  if (tc.steps < 1) tc.steps = 1;
  tc.warmup_steps = tc.steps / 10;
  tc.lr = f->lr;
  tc.weight_decay = 0;
  tc.eval_every = 0;
  tc.seed = f->seed;
  tc.save_final = 0;
  al_objective lm;
  int rc = al_objective_lm_fn(&lm, m, &tc, ft_batch, &c, err);
  if (!rc) rc = al_train_objective(m, &tc, &lm, NULL, res, err);
  al_objective_free(&lm);
  free(c.order);
  return rc;
}

int rev_pretrain(al_model *m, const al_model_config *cfg, const int32_t *text, size_t ntext, long steps, int batch,
                 uint64_t seed, al_train_result *res, al_err *err) {
  if (al_model_init(m, cfg, seed, err)) return -1;
  if (steps <= 0) return 0;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = batch;
  tc.seq_len = cfg->n_positions;
  tc.steps = steps;
  tc.warmup_steps = steps / 10;
  tc.lr = 3e-3;
  tc.eval_every = 0;
  tc.seed = seed;
  tc.save_final = 0;
  al_tokens seg = al_tokens_int32(text, ntext);
  if (al_train(m, &tc, &seg, 1, NULL, 0, NULL, res, err)) {
    al_model_free(m);
    return al_fail_prefix(err, "pretraining the base model");
  }
  return 0;
}

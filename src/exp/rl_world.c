/* The built-in world of `alab rl` (include/alab/rl_world.h). */
#include <string.h>
#include "alab/rl_world.h"
#include "alab/train.h"

static const char LETTERS[] = "abcdefgh";

/* #a and #aa of the response: the first RLW_LEN characters after the first ':' */
static void count_a(const char *text, size_t len, int *a, int *aa) {
  const char *colon = memchr(text, ':', len);
  const char *r = colon ? colon + 1 : text;
  size_t n = (size_t)(text + len - r);
  if (n > RLW_LEN) n = RLW_LEN;
  *a = 0, *aa = 0;
  for (size_t i = 0; i < n; i++) {
    *a += r[i] == 'a';
    *aa += i > 0 && r[i] == 'a' && r[i - 1] == 'a';
  }
}

double al_rlw_gold(const char *text, size_t len) {
  int a, aa;
  count_a(text, len, &a, &aa);
  return (a - 2.0 * aa) / RLW_LEN;
}

double al_rlw_a_count(const char *text, size_t len) {
  int a, aa;
  count_a(text, len, &a, &aa);
  return a;
}

double al_rlw_gold_base(void) { return (RLW_LEN / 8.0 - 2.0 * (RLW_LEN - 1) / 64.0) / RLW_LEN; }

/* every two-letter prompt, a constant table (no state written at run time) */
static const char *const PROMPTS[64] = {
    "aa:", "ab:", "ac:", "ad:", "ae:", "af:", "ag:", "ah:",
    "ba:", "bb:", "bc:", "bd:", "be:", "bf:", "bg:", "bh:",
    "ca:", "cb:", "cc:", "cd:", "ce:", "cf:", "cg:", "ch:",
    "da:", "db:", "dc:", "dd:", "de:", "df:", "dg:", "dh:",
    "ea:", "eb:", "ec:", "ed:", "ee:", "ef:", "eg:", "eh:",
    "fa:", "fb:", "fc:", "fd:", "fe:", "ff:", "fg:", "fh:",
    "ga:", "gb:", "gc:", "gd:", "ge:", "gf:", "gg:", "gh:",
    "ha:", "hb:", "hc:", "hd:", "he:", "hf:", "hg:", "hh:",
};

const char *const *al_rlw_prompts(int *n) {
  *n = 64;
  return PROMPTS;
}

void al_rlw_document(uint64_t seed, uint64_t index, int eot, int32_t *ids) {
  al_rng r;
  al_rng_seed_stream(&r, seed, index);
  ids[0] = LETTERS[al_rng_below(&r, 8)], ids[1] = LETTERS[al_rng_below(&r, 8)], ids[2] = ':';
  for (int i = 0; i < RLW_LEN; i++) ids[3 + i] = LETTERS[al_rng_below(&r, 8)];
  ids[RLW_DOC - 1] = eot;
}

typedef struct {
  uint64_t seed;
  int B, T, eot;
} world_batches;

/* row b of micro-batch index: document index * B + b, inputs its tokens,
 * targets the next ones (the last target ignored), padded with -1 */
static void world_batch(void *ctx, uint64_t index, int32_t *inputs, int32_t *targets) {
  const world_batches *w = ctx;
  int32_t doc[RLW_DOC];
  for (int b = 0; b < w->B; b++) {
    al_rlw_document(w->seed, index * (uint64_t)w->B + b, w->eot, doc);
    for (int t = 0; t < w->T; t++) {
      inputs[b * w->T + t] = t < RLW_DOC ? doc[t] : w->eot;
      targets[b * w->T + t] = t + 1 < RLW_DOC ? doc[t + 1] : -1;
    }
  }
}

int al_rlw_pretrain(al_model *m, al_tok **tok, int layers, int heads, int embd, int steps, uint64_t seed, al_err *err) {
  return al_rlw_pretrain_arch(m, tok, "gpt2", layers, heads, embd, steps, seed, err);
}

int al_rlw_pretrain_arch(al_model *m, al_tok **tok, const char *arch, int layers, int heads, int embd, int steps,
                         uint64_t seed, al_err *err) {
  *tok = al_tok_byte();
  memset(m, 0, sizeof *m);
  al_model_config mc = {.vocab_size = al_tok_vocab_size(*tok), .n_positions = 32, .n_layer = layers, .n_head = heads,
                        .n_embd = embd};
  if (al_model_config_set_arch(&mc, arch, err) || al_model_init(m, &mc, seed, err)) {
    al_tok_free(*tok), *tok = NULL;
    return -1;
  }
  if (steps < 1) return 0;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 32, tc.seq_len = RLW_DOC, tc.steps = steps, tc.warmup_steps = steps / 10, tc.lr = 3e-3;
  tc.eval_every = 0, tc.save_final = 0, tc.seed = seed;
  world_batches w = {seed, tc.batch, tc.seq_len, al_tok_eot(*tok)};
  al_objective o;
  int rc = al_objective_lm_fn(&o, m, &tc, world_batch, &w, err);
  if (!rc) rc = al_train_objective(m, &tc, &o, *tok, NULL, err);
  al_objective_free(&o);
  return rc;
}

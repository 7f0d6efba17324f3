/* The planted preference of `alab dpo` (include/alab/dpo_exp.h): prompts
 * "Q: W1 W2?\nA:" whose words come from one list for training and another
 * for held-out prompts; answers " W3 W4." or " W3 W4 please.", the polite
 * one preferred. Measurements sample answers with best-of-n's batched
 * decoding and score them under the policy and the reference as DPO rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/bon.h"
#include "exp/dpo_internal.h"

static const char *const train_words[] = {"cat", "dog", "sun", "red", "map", "cup", "hat", "box", "pen", "owl",
                                          "fig", "jar", "kit", "log", "mud", "net", "oak", "pig", "rug", "toy"};
static const char *const heldout_words[] = {"bee", "cow", "elk", "gem", "ink", "yak", "zip", "wax"};
static const char *const answer_words[] = {"blue", "green", "small", "big", "soft", "warm", "old", "new",
                                           "fast", "slow", "tall", "short"};
#define NW(a) (sizeof a / sizeof a[0])
static const char *const POLITE = " please.";

static const char *pick(al_rng *r, const char *const *w, size_t n) { return w[al_rng_below(r, n)]; }

static void prompt(al_buf *b, al_rng *r, int heldout) {
  const char *const *w = heldout ? heldout_words : train_words;
  size_t n = heldout ? NW(heldout_words) : NW(train_words);
  const char *a = pick(r, w, n), *c = pick(r, w, n);
  al_buf_printf(b, "Q: %s %s?\nA:", a, c);
}

/* " W3 W4" into s (the answer without its ending). */
static void answer(char *s, size_t size, al_rng *r) {
  const char *a = pick(r, answer_words, NW(answer_words)), *c = pick(r, answer_words, NW(answer_words));
  snprintf(s, size, " %s %s", a, c);
}

/* n lines of one kind (0: SFT examples, 1: pairs, 2: held-out prompts as
 * JSON strings), each kind from its own stream of seed. */
static char *lines(uint64_t seed, int n, int kind) {
  al_rng r;
  al_rng_seed_stream(&r, seed, (uint64_t)kind + 1);
  al_buf b = {0}, p = {0};
  char a[64], yes[80], no[80];
  for (int i = 0; i < n; i++) {
    p.len = 0;
    prompt(&p, &r, kind == 2);
    json_t *j;
    if (kind == 2) j = json_stringn(p.data, p.len);
    else {
      answer(a, sizeof a, &r);
      snprintf(yes, sizeof yes, "%s%s", a, POLITE), snprintf(no, sizeof no, "%s.", a);
      j = kind == 0 ? json_pack("{s:s%, s:s}", "prompt", p.data, p.len, "completion", al_rng_below(&r, 2) ? yes : no)
                    : json_pack("{s:s%, s:s, s:s}", "prompt", p.data, p.len, "chosen", yes, "rejected", no);
    }
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    al_buf_printf(&b, "%s\n", t);
    free(t), json_decref(j);
  }
  al_buf_free(&p);
  al_buf_append(&b, "", 1);
  return b.data;
}

char *dpo_world_sft(uint64_t seed, int n) { return lines(seed, n, 0); }
char *dpo_world_pairs(uint64_t seed, int n) { return lines(seed, n, 1); }
char *dpo_world_heldout(uint64_t seed, int n) { return lines(seed, n, 2); }

int dpo_world_preferred(const char *answer, size_t len) {
  size_t k = strlen(POLITE);
  return len >= k && !memcmp(answer + len - k, POLITE, k);
}

/* Samples, as DPO rows (each sample as both responses), scored under m. */
static double mean_logp(al_model *m, const al_dpo_data *d) {
  double *lc = al_malloc(sizeof *lc * (size_t)d->n), *lr = al_malloc(sizeof *lr * (size_t)d->n), s = 0;
  al_dpo_logps(m, d, 16, m->cfg.n_positions, 0, lc, lr);
  for (long i = 0; i < d->n; i++) s += lc[i];
  free(lc), free(lr);
  return s / (double)d->n;
}

int dpo_world_measure(al_model *policy, al_model *ref, const al_tok *tok, const char *prompts, int samples,
                      uint64_t seed, double *rate, double *kl, al_err *err) {
  int eot = al_tok_eot(tok), max_new = 24, rc = 0;
  al_sample_cfg sc = {.temperature = 1, .top_p = 1, .top_k = 0};
  int32_t *out = al_malloc(sizeof *out * (size_t)samples * max_new), *pids = NULL;
  int *lens = al_malloc(sizeof *lens * (size_t)samples);
  al_dpo_data d = {.eot = eot};
  size_t cap = 0, nids = 0, pcap = 0;
  long good = 0, total = 0, dcap = 0;
  const char *line = prompts;
  for (long pi = 0; *line && !rc; pi++) {
    const char *nl = strchr(line, '\n');
    json_t *j = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), JSON_DECODE_ANY, NULL);
    line = nl ? nl + 1 : line + strlen(line);
    if (!json_is_string(j)) {
      json_decref(j);
      rc = al_fail(err, "held-out prompt %ld is not a JSON string", pi + 1);
      break;
    }
    size_t np = 0;
    if (al_tok_encode(tok, json_string_value(j), json_string_length(j), 0, &pids, &np, &pcap, err) < 0) rc = -1;
    json_decref(j);
    if (rc || (rc = al_bon_sample(policy, pids, (int)np, samples, max_new, &sc, seed ^ ((uint64_t)(pi + 1) * 0x9E3779B97F4A7C15ull),
                                  eot, out, lens, err)))
      break;
    for (int s = 0; s < samples && !rc; s++) {
      const int32_t *y = out + (size_t)s * max_new;
      char *text = NULL;
      size_t tl = 0;
      int n = lens[s] - (lens[s] > 0 && y[lens[s] - 1] == eot); /* the answer without its end-of-text */
      if ((rc = al_tok_decode(tok, y, (size_t)n, &text, &tl, err))) break;
      good += dpo_world_preferred(text, tl);
      total++;
      free(text);
      /* the sample as a DPO row: prompt, answer, answer */
      if (d.n == dcap) {
        dcap = dcap ? 2 * dcap : 256;
        d.off = al_realloc(d.off, sizeof *d.off * (size_t)(3 * dcap + 1));
      }
      if (!d.n) d.off[0] = 0;
      size_t need = nids + np + 2 * (size_t)lens[s];
      if (need > cap) d.ids = al_realloc(d.ids, sizeof *d.ids * (cap = 2 * need));
      memcpy(d.ids + nids, pids, sizeof *pids * np), nids += np, d.off[3 * d.n + 1] = nids;
      for (int k = 0; k < 2; k++)
        memcpy(d.ids + nids, y, sizeof *y * (size_t)lens[s]), nids += (size_t)lens[s], d.off[3 * d.n + 2 + k] = nids;
      d.n++;
    }
  }
  if (!rc) {
    *rate = total ? (double)good / (double)total : NAN;
    *kl = ref ? mean_logp(policy, &d) - mean_logp(ref, &d) : 0;
  }
  free(d.ids), free(d.off), free(out), free(lens), free(pids);
  return rc;
}

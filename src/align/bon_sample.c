/* Best-of-n's sampling: N responses to one prompt, decoded in groups of up
 * to 8 decoders stepped together, each sample with its own random stream
 * (the contract is in include/alab/bon.h). */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"

enum { GROUP = AL_DECODER_STEP_MAX };

int al_bon_sample(const al_model *policy, const int32_t *prompt, int np, int N, int max_new, const al_sample_cfg *s,
                  uint64_t seed, int stop_token, int32_t *out, int *lens, al_err *err) {
  return al_bon_sample_min(policy, prompt, np, N, max_new, 0, s, seed, stop_token, out, lens, err);
}

/* a token from logits, with token ban's logit masked when ban >= 0 (buf: V floats) */
static int32_t sample_masked(const float *logits, int V, const al_sample_cfg *s, al_rng *rng, void *scratch, int ban,
                             float *buf) {
  if (ban < 0) return al_sample_logits(logits, V, s, rng, scratch);
  memcpy(buf, logits, sizeof(float) * (size_t)V);
  buf[ban] = AL_MASKED_LOGIT;
  return al_sample_logits(buf, V, s, rng, scratch);
}

int al_bon_sample_min(const al_model *policy, const int32_t *prompt, int np, int N, int max_new, int min_new,
                      const al_sample_cfg *s, uint64_t seed, int stop_token, int32_t *out, int *lens, al_err *err) {
  if (N < 1) return al_fail(err, "best-of-n: N = %d samples (at least 1)", N);
  if (max_new < 1) return al_fail(err, "best-of-n: max_new = %d tokens (at least 1)", max_new);
  if (np < 1 || np >= policy->cfg.n_positions)
    return al_fail(err, "best-of-n: a prompt of %d tokens leaves no room in the context of %d", np, policy->cfg.n_positions);
  int V = policy->cfg.vocab_size, rc = 0;
  al_decoder *ds[GROUP] = {0};
  al_rng rng[GROUP];
  void *scratch = al_sample_scratch(V);
  float *masked = min_new > 0 && stop_token >= 0 ? al_alloc_floats((size_t)V) : NULL;
  for (int g = 0; g < GROUP; g++) ds[g] = al_decoder_new(policy);
  for (int i0 = 0; i0 < N && !rc; i0 += GROUP) {
    int n = N - i0 < GROUP ? N - i0 : GROUP, live = 0, row[GROUP];
    al_decoder *act[GROUP];
    int32_t tok[GROUP];
    for (int r = 0; r < n && !rc; r++) { /* the prompt, then each sample's first token */
      al_decoder_truncate(ds[r], 0);
      al_rng_seed_stream(&rng[r], seed, (uint64_t)(i0 + r));
      rc = al_decoder_feed(ds[r], prompt, np, NULL, err);
      if (rc) break;
      int32_t t = sample_masked(al_decoder_logits(ds[r]), V, s, &rng[r], scratch, masked ? stop_token : -1, masked);
      out[(size_t)(i0 + r) * max_new] = t;
      lens[i0 + r] = 1;
      if (t != stop_token && max_new > 1 && al_decoder_pos(ds[r]) < policy->cfg.n_positions)
        act[live] = ds[r], row[live] = r, tok[live++] = t;
    }
    while (live > 0 && !rc) { /* one token for every live sample, in one batch */
      rc = al_decoder_step_many(act, tok, live, err);
      int keep = 0;
      for (int k = 0; k < live && !rc; k++) {
        int r = row[k], i = i0 + r;
        int32_t t = sample_masked(al_decoder_logits(act[k]), V, s, &rng[r], scratch,
                                  masked && lens[i] < min_new ? stop_token : -1, masked);
        out[(size_t)i * max_new + lens[i]++] = t;
        if (t != stop_token && lens[i] < max_new && al_decoder_pos(act[k]) < policy->cfg.n_positions)
          act[keep] = act[k], row[keep] = r, tok[keep++] = t;
      }
      live = keep;
    }
  }
  for (int g = 0; g < GROUP; g++) al_decoder_free(ds[g]);
  free(scratch), free(masked);
  return rc ? -1 : 0;
}

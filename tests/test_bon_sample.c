/* Best-of-n's batched sampling against one-at-a-time generation: each of
 * the N responses (N not a multiple of the group of 8, some ending at the
 * stop token, some at max_new, some at the context's end) must be the
 * tokens al_generate draws with the same random stream; bad settings fail. */
#include "alab/bon.h"
#include "test.h"

static void compare(int N, int max_new, int ctx, al_sample_cfg s) {
  al_err err;
  al_model_config cfg = {.vocab_size = 12, .n_positions = ctx, .n_layer = 2, .n_head = 2, .n_embd = 16};
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 21, &err), err);
  int32_t prompt[3] = {1, 5, 7}, *out = al_malloc(sizeof(int32_t) * N * max_new), *one = al_malloc(sizeof(int32_t) * max_new);
  int *lens = al_malloc(sizeof(int) * N), stop = 11, stopped = 0, full = 0;
  CHECK_OK(al_bon_sample(&m, prompt, 3, N, max_new, &s, 77, stop, out, lens, &err), err);
  al_decoder *d = al_decoder_new(&m);
  for (int i = 0; i < N; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 77, (uint64_t)i);
    al_decoder_truncate(d, 0);
    int n = al_generate(d, prompt, 3, max_new, &s, &r, stop, one, NULL, NULL, &err);
    CHECK(n == lens[i] && !memcmp(one, out + (size_t)i * max_new, sizeof(int32_t) * (n > 0 ? n : 0)),
          "N=%d sample %d: %d tokens batched, %d one at a time (or other tokens)", N, i, lens[i], n);
    stopped += lens[i] > 0 && out[(size_t)i * max_new + lens[i] - 1] == stop;
    full += lens[i] == max_new || 3 + lens[i] - 1 == ctx; /* the last token fills the context */
  }
  CHECK(stopped > 0 && full > 0, "N=%d: %d samples ended at the stop token, %d at the length limit (both must occur)", N,
        stopped, full);
  al_decoder_free(d);
  free(out), free(one), free(lens);
  al_model_free(&m);
}

int main(void) {
  al_sample_cfg s = {.temperature = 1.0f, .top_p = 1.0f, .top_k = 0};
  compare(13, 9, 32, s);
  compare(20, 40, 16, s); /* the context ends before max_new */
  s.top_k = 4, s.temperature = 0.7f;
  compare(8, 6, 32, s);
  al_err err;
  al_model_config cfg = {.vocab_size = 12, .n_positions = 8, .n_layer = 1, .n_head = 1, .n_embd = 8};
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 1, &err), err);
  int32_t p[8] = {0}, out[4];
  int lens[4];
  CHECK_FAILS_WITH(al_bon_sample(&m, p, 2, 0, 4, &s, 1, -1, out, lens, &err), err, "N = 0 samples");
  CHECK_FAILS_WITH(al_bon_sample(&m, p, 2, 1, 0, &s, 1, -1, out, lens, &err), err, "max_new = 0");
  CHECK_FAILS_WITH(al_bon_sample(&m, p, 8, 1, 4, &s, 1, -1, out, lens, &err), err, "leaves no room in the context of 8");
  al_model_free(&m);
  return test_summary();
}

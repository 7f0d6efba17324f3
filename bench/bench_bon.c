/* Best-of-n sampling throughput: N responses to one prompt decoded in groups
 * of 8 stepped together (al_bon_sample) against the same N drawn one at a
 * time (al_generate with the same random streams; the tokens must match).
 * usage: bench_bon [N [max_new [layers embd vocab ctx]]] (defaults: 64 128,
 * the bench's tiny GPT-2: 4 layers, 128 channels, vocab 512, context 256). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"

int main(int argc, char **argv) {
  int N = argc > 1 ? atoi(argv[1]) : 64, max_new = argc > 2 ? atoi(argv[2]) : 128;
  al_model_config cfg = {.vocab_size = argc > 5 ? atoi(argv[5]) : 512, .n_positions = argc > 6 ? atoi(argv[6]) : 256,
                         .n_layer = argc > 3 ? atoi(argv[3]) : 4, .n_head = 4, .n_embd = argc > 4 ? atoi(argv[4]) : 128};
  al_err err;
  al_model m;
  if (al_model_init(&m, &cfg, 1, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  al_set_threads(al_default_threads());
  int32_t prompt[8] = {1, 2, 3, 4, 5, 6, 7, 8}, *out = malloc(sizeof(int32_t) * N * max_new), *one = malloc(sizeof(int32_t) * max_new);
  int *lens = malloc(sizeof(int) * N);
  al_sample_cfg s = {1.0f, 1.0f, 0};
  double t0 = al_now();
  if (al_bon_sample(&m, prompt, 8, N, max_new, &s, 5, -1, out, lens, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double t1 = al_now();
  long tokens = 0, mismatch = 0;
  al_decoder *d = al_decoder_new(&m);
  for (int i = 0; i < N; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 5, (uint64_t)i);
    al_decoder_truncate(d, 0);
    int n = al_generate(d, prompt, 8, max_new, &s, &r, -1, one, NULL, NULL, &err);
    mismatch += n != lens[i] || memcmp(one, out + (size_t)i * max_new, sizeof(int32_t) * (size_t)n);
    tokens += lens[i];
  }
  double t2 = al_now();
  printf("N=%d max_new=%d (%d layers, %d channels, vocab %d), %d threads: batched %.0f tokens/s, one at a time %.0f "
         "tokens/s, ratio %.2fx; %ld samples differ\n", N, max_new, cfg.n_layer, cfg.n_embd, cfg.vocab_size, al_get_threads(),
         tokens / (t1 - t0), tokens / (t2 - t1), (t2 - t1) / (t1 - t0), mismatch);
  al_decoder_free(d);
  al_model_free(&m);
  free(out), free(one), free(lens);
  return mismatch != 0;
}

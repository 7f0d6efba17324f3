/* al_decoder_step_many, which alab serve uses to decode up to 8 sequences
 * together: each decoder ends bit-identical to feeding it alone, for every
 * batch size, at different positions, and bad input fails cleanly. */
#include "test.h"
#include "alab/model.h"

int main(void) {
  al_model_config c = {.vocab_size = 97, .n_positions = 64, .n_layer = 2, .n_head = 4, .n_embd = 32, .init_std = 0.2f};
  al_model m;
  al_err err;
  CHECK_OK(al_model_init(&m, &c, 3, &err), err);
  al_decoder *a[8], *b[8];
  int32_t prompt[20], tok[8];
  for (int i = 0; i < 20; i++) prompt[i] = (i * 37 + 5) % 97;
  for (int n = 1; n <= 8; n++) {
    for (int r = 0; r < n; r++) { /* decoder r holds 3 + 2r prompt tokens */
      a[r] = al_decoder_new(&m);
      b[r] = al_decoder_new(&m);
      CHECK_OK(al_decoder_feed(a[r], prompt, 3 + 2 * r, NULL, &err), err);
      CHECK_OK(al_decoder_feed(b[r], prompt, 3 + 2 * r, NULL, &err), err);
    }
    int same = 1;
    for (int step = 0; step < 5; step++) {
      for (int r = 0; r < n; r++) tok[r] = (step * 11 + r * 7) % 97;
      CHECK_OK(al_decoder_step_many(a, tok, n, &err), err);
      for (int r = 0; r < n; r++) {
        CHECK_OK(al_decoder_feed(b[r], tok + r, 1, NULL, &err), err);
        same &= al_decoder_pos(a[r]) == al_decoder_pos(b[r]) &&
                !memcmp(al_decoder_logits(a[r]), al_decoder_logits(b[r]), c.vocab_size * sizeof(float));
      }
    }
    CHECK(same, "batch of %d: logits bit-identical to single feeds", n);
    for (int r = 0; r < n; r++) {
      al_decoder_free(a[r]);
      al_decoder_free(b[r]);
    }
  }
  a[0] = al_decoder_new(&m);
  tok[0] = 97;
  CHECK_FAILS_WITH(al_decoder_step_many(a, tok, 1, &err), err, "out of range");
  CHECK_FAILS_WITH(al_decoder_step_many(a, tok, 9, &err), err, "decoders");
  al_decoder_free(a[0]);
  al_model_free(&m);
  return test_summary();
}

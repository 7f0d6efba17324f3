/* Tokenizer benchmark helper (run by bench_tok.sh).
 *   bench_tok encode <gpt2 dir> <text out> <MB>: writes the generated test
 *     text (tests/tok_text.h, seed 7, no special tokens) to <text out> and
 *     prints alab's single-thread encoding throughput with GPT-2's files:
 *     cold (a freshly loaded tokenizer, empty piece cache) and warm.
 *   bench_tok train <text> <vocab size> <out dir>: BPE training time. */
#include <stdlib.h>
#include <string.h>
#include "alab/tok.h"
#include "tok_text.h"

static int encode_bench(const char *gpt2, const char *out, double mb) {
  al_err err;
  al_buf text = {0};
  tt_generate(&text, 7, (size_t)(mb * 1e6), 0);
  if (al_write_file_atomic(out, text.data, text.len, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  double cold = 1e30, warm = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    al_tok *t;
    if (al_tok_load(&t, gpt2, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    for (int pass = 0; pass < 2; pass++) {
      n = 0;
      double t0 = al_now();
      if (al_tok_encode(t, text.data, text.len, 0, &ids, &n, &cap, &err) < 0) return fprintf(stderr, "%s\n", err.msg), 1;
      double s = al_now() - t0;
      if (pass == 0 && s < cold) cold = s;
      if (pass == 1 && s < warm) warm = s;
    }
    al_tok_free(t);
  }
  printf("alab MB/s %.2f (warm cache %.2f) tokens %zu bytes %zu seconds %.3f\n", text.len / 1e6 / cold,
         text.len / 1e6 / warm, n, text.len, cold);
  free(ids);
  al_buf_free(&text);
  return 0;
}

static int train_bench(const char *path, int vocab, const char *dir) {
  al_err err;
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  al_tok *t;
  double t0 = al_now();
  if (al_tok_train(&t, text, len, vocab, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double s = al_now() - t0;
  printf("alab BPE training: vocab %d on %.1f MB in %.2f s (%d merges)\n", al_tok_vocab_size(t), len / 1e6, s,
         al_tok_n_merges(t));
  if (al_tok_save(t, dir, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  al_tok_free(t);
  free(text);
  return 0;
}

int main(int argc, char **argv) {
  al_quiet = 1;
  if (argc == 5 && !strcmp(argv[1], "encode")) return encode_bench(argv[2], argv[3], atof(argv[4]));
  if (argc == 5 && !strcmp(argv[1], "train")) return train_bench(argv[2], atoi(argv[3]), argv[4]);
  fprintf(stderr, "usage: bench_tok encode <gpt2 dir> <text out> <MB> | train <text> <vocab> <out dir>\n");
  return 2;
}

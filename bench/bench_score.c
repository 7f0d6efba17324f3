/* Scoring throughput of the local provider: KV-cache reuse + batching across
 * threads vs the naive path (one full forward per class, one example at a
 * time), on the same classification task in one run.
 * usage: bench_score [examples (16)] [prompt bytes (400)] [n_embd (256)] [n_layer (4)]
 * The task: prompts cut from story-world text (byte tokenizer, so bytes =
 * tokens), 4 classes of 3-8 tokens (character names). The model is a random
 * GPT-2 of the given width/depth (throughput does not depend on the weights). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "alab/eval.h"
#include "alab/synth.h"

/* naive: no cache reuse, one example per call; threads: examples in parallel
 * (cached) or, for naive, the engine's own thread count (1 thread: the
 * engine runs on one thread too). */
static double run(al_model *m, al_tok *tok, const al_task *t, int naive, int threads, double *loss) {
  int saved = al_get_threads();
  if (naive || threads == 1) al_set_threads(threads);
  al_local_cfg lc = al_local_cfg_default();
  lc.reuse_cache = !naive;
  lc.threads = naive ? 1 : threads;
  al_provider *p;
  al_err err;
  if (al_provider_local_wrap(&p, m, tok, "bench", &lc, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  al_eval_cfg ec = al_eval_cfg_default();
  ec.batch = naive ? 1 : 64;
  ec.nboot = 0;
  ec.progress_label = naive ? "naive" : "cached+batched";
  al_eval_result r;
  if (al_eval_task(p, t, &ec, &r, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  *loss = al_eval_metric(&r, "loss")->mean;
  al_provider_free(p);
  al_set_threads(saved);
  return r.examples_per_s;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 16, plen = argc > 2 ? atoi(argv[2]) : 400;
  int C = argc > 3 ? atoi(argv[3]) : 256, L = argc > 4 ? atoi(argv[4]) : 4;
  al_err err;
  al_buf text = {0};
  al_synth_corpus(3, n * (plen / 300 + 2), &text, NULL);
  for (size_t i = 0; i < text.len; i++)
    if (text.data[i] == '"' || text.data[i] == '\n') text.data[i] = ' ';
  static const char *names[] = {" Lily", " Tom", " Whiskers", " Bella", " Finn", " Coco"};
  al_buf csv = {0};
  al_buf_printf(&csv, "prompt,classes,answer_index\n");
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    if (off + plen >= text.len) off = 0;
    al_buf_printf(&csv, "\"%.*s\",\"['%s', '%s', '%s', '%s']\",%d\n", plen, text.data + off, names[i % 6],
                  names[(i + 1) % 6], names[(i + 2) % 6], names[(i + 3) % 6], i % 4);
    off += plen;
  }
  char path[] = "/tmp/bench_score_XXXXXX.csv";
  int fd = mkstemps(path, 4);
  if (fd < 0 || write(fd, csv.data, csv.len) != (ssize_t)csv.len) return 1;
  close(fd);
  al_task t;
  if (al_task_load(&t, path, "auto", &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  unlink(path);
  al_model_config c = {.vocab_size = 257, .n_positions = 1024, .n_layer = L, .n_head = C / 64 > 0 ? C / 64 : 1,
                      .n_embd = C, .init_std = 0.02f};
  al_model m;
  if (al_model_init(&m, &c, 1, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  al_tok *tok = al_tok_byte();
  printf("task: %d examples, prompts of %d tokens, 4 classes; model: %d layers, n_embd %d (%.2fM params); %d threads\n",
         n, plen, L, C, m.nparams / 1e6, al_get_threads());
  int T = al_get_threads();
  double lf, ln1, lnT, lc1;
  double fast = run(&m, tok, &t, 0, T, &lf);
  double cached1 = run(&m, tok, &t, 0, 1, &lc1);
  double naive1 = run(&m, tok, &t, 1, 1, &ln1);
  double naiveT = T > 1 ? run(&m, tok, &t, 1, T, &lnT) : naive1;
  double best_naive = naive1 > naiveT ? naive1 : naiveT;
  printf("naive, 1 thread (full forward per class, one example at a time): %.3f examples/s\n", naive1);
  printf("naive, engine on %d threads: %.3f examples/s\n", T, naiveT);
  printf("KV-cache reuse only, 1 thread: %.3f examples/s (%.2fx the 1-thread naive path)\n", cached1,
         cached1 / naive1);
  printf("KV-cache reuse + examples batched across %d threads: %.3f examples/s\n", T, fast);
  printf("mean loss: %.6f vs naive %.6f (|diff| %.2g)\n", lf, ln1, fabs(lf - ln1));
  printf("speedup over the faster naive run: %.2fx (target >= 3x)\n", fast / best_naive);
  al_task_free(&t);
  al_model_free(&m);
  al_tok_free(tok);
  al_buf_free(&text);
  al_buf_free(&csv);
  return 0;
}

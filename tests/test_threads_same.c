/* A model's numbers do not depend on how many threads compute it, so an
 * experiment may run its models one per thread or each on all threads and
 * get the same results (src/nn/matmul.c's row_blocks).
 *
 * 1. Kernels: every fp32 product of a training step (nn_matmul_forward/
 *    backward, nn_lmhead_forward/backward) at the collapse model's and the
 *    tiny model's shapes, on 2, 3 and 4 threads, bit for bit against 1
 *    thread. Before row_blocks the rows were cut by the thread count and the
 *    [64,64,512] weight gradient differed on 3 and 4 threads (OpenBLAS's
 *    small-matrix kernel takes the 21- and 16-row calls).
 * 2. Training: the collapse model (2 layers, 64 channels, context 64, batch
 *    8) for 20 steps and the tiny one (4 layers, 128 channels, context 128,
 *    batch 16) for 4 steps, byte vocabulary, on 1, 2 and 3 threads: every
 *    step's loss and gradient norm and the final weights bit-identical. And
 *    a Llama of the collapse model's size (RMSNorm, SwiGLU, rotary) likewise.
 *    Before row_blocks the collapse model's gradient norm differed from step
 *    2 on 3 threads (2.84619033 against 2.84619031). */
#include <omp.h>
#include <jansson.h>
#include "alab/dataset.h"
#include "alab/nn.h"
#include "alab/train.h"
#include "test.h"

static void fill(float *x, long n, uint64_t seed) {
  for (long i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = (float)((seed >> 40) & 0xffff) / 65536.0f - 0.5f;
  }
}

/* The products of one layer of shape [N tokens, IC -> OC] and the LM head
 * [N, C -> V] on `threads` threads; out holds every result, concatenated. */
static void products(int threads, int N, int IC, int OC, float *out) {
  float *inp = al_alloc_floats((long)N * IC), *W = al_alloc_floats((long)IC * OC), *b = al_alloc_floats(OC);
  float *dout = al_alloc_floats((long)N * OC);
  fill(inp, (long)N * IC, 1), fill(W, (long)IC * OC, 2), fill(b, OC, 3), fill(dout, (long)N * OC, 4);
  float *y = out, *dinp = y + (long)N * OC, *dW = dinp + (long)N * IC, *db = dW + (long)IC * OC;
  float *logits = db + OC, *dx = logits + (long)N * OC, *dE = dx + (long)N * IC;
  memset(out, 0, sizeof(float) * ((long)N * OC * 2 + (long)N * IC * 2 + (long)IC * OC * 2 + OC));
  omp_set_num_threads(threads);
  nn_matmul_forward(y, inp, W, b, N, IC, OC);
  nn_matmul_backward(dinp, dW, db, dout, inp, W, N, IC, OC);
  nn_lmhead_forward(logits, inp, W, N, IC, OC); /* W read as E [OC, IC] */
  nn_lmhead_backward(dx, dE, dout, inp, W, N, IC, OC);
  omp_set_num_threads(1);
  free(inp), free(W), free(b), free(dout);
}

static void kernels(void) {
  int shapes[][3] = {{512, 64, 64}, {512, 64, 192}, {512, 64, 256}, {512, 256, 64}, {512, 64, 512},
                     {2048, 128, 128}, {2048, 128, 384}, {2048, 512, 128}, {2048, 128, 512}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int N = shapes[s][0], IC = shapes[s][1], OC = shapes[s][2];
    long n = (long)N * OC * 2 + (long)N * IC * 2 + (long)IC * OC * 2 + OC;
    float *one = al_alloc_floats(n), *more = al_alloc_floats(n);
    products(1, N, IC, OC, one);
    for (int t = 2; t <= 4; t++) {
      products(t, N, IC, OC, more);
      long at = -1;
      for (long i = 0; i < n && at < 0; i++)
        if (memcmp(&one[i], &more[i], sizeof(float))) at = i;
      CHECK(at < 0, "[%d, %d -> %d] on %d threads: element %ld is %.9g, on 1 thread %.9g", N, IC, OC, t, at,
            at < 0 ? 0 : more[at], at < 0 ? 0 : one[at]);
    }
    free(one), free(more);
  }
}

typedef struct {
  char *steps; /* every metrics line's loss and grad_norm, as written */
  float *params;
  size_t nparams;
} trained;

static void train(const al_dataset *ds, al_tok *tok, const char *arch, int layers, int embd, int ctx, int batch, int steps, int threads,
                  const char *root, trained *out) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%s_L%d_t%d", root, arch, layers, threads);
  al_model_config c = {.vocab_size = 257, .n_positions = ctx, .n_layer = layers, .n_head = 4, .n_embd = embd};
  al_model m;
  al_err err;
  CHECK_OK(al_model_config_set_arch(&c, arch, &err), err);
  CHECK_OK(al_model_init(&m, &c, 7, &err), err);
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = batch, tc.seq_len = ctx, tc.steps = steps, tc.warmup_steps = 4, tc.eval_every = 0, tc.eval_batches = 2;
  tc.seed = 7, tc.out_dir = dir, tc.save_final = 0, tc.overwrite = 1, tc.lr = 3e-3;
  al_train_result r;
  omp_set_num_threads(threads);
  CHECK_OK(al_train(&m, &tc, ds->train, ds->ntrain, ds->val, ds->nval, tok, &r, &err), err);
  omp_set_num_threads(1);
  out->nparams = m.nparams;
  out->params = al_alloc_floats((long)m.nparams);
  memcpy(out->params, m.params, m.nparams * sizeof(float));
  al_model_free(&m);
  al_buf b = {0};
  char path[600], line[4096];
  snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL, "no %s", path);
  int lines = 0;
  while (f && fgets(line, sizeof line, f)) {
    json_t *j = json_loads(line, 0, NULL), *loss = json_object_get(j, "loss"), *g = json_object_get(j, "grad_norm");
    if (loss && g) al_buf_printf(&b, "%.9g %.9g\n", json_number_value(loss), json_number_value(g)), lines++;
    json_decref(j);
  }
  if (f) fclose(f);
  CHECK(lines == steps, "%s: %d steps in metrics.jsonl, expected %d", path, lines, steps);
  al_buf_append(&b, "", 1);
  out->steps = b.data;
}

static void training(const al_dataset *ds, al_tok *tok, const char *root, const char *arch, int layers, int embd, int ctx, int batch, int steps) {
  trained one, more;
  train(ds, tok, arch, layers, embd, ctx, batch, steps, 1, root, &one);
  for (int t = 2; t <= 3; t++) {
    train(ds, tok, arch, layers, embd, ctx, batch, steps, t, root, &more);
    CHECK(!strcmp(one.steps, more.steps), "%s %d layers x %d on %d threads: losses/grad norms differ from 1 thread:\n%s\n%s",
          arch, layers, embd, t, one.steps, more.steps);
    CHECK(one.nparams == more.nparams && !memcmp(one.params, more.params, one.nparams * sizeof(float)),
          "%s %d layers x %d on %d threads: the trained weights differ from 1 thread's", arch, layers, embd, t);
    free(more.steps), free(more.params);
  }
  printf("%s %d layers x %d channels, %d steps on 1, 2 and 3 threads: bit-identical\n", arch, layers, embd, steps);
  free(one.steps), free(one.params);
}

int main(void) {
  kernels();
  char *root = test_tmpdir("threads_same");
  al_err err;
  al_tok *tok = al_tok_byte();
  al_dataset ds;
  CHECK_OK(al_dataset_open(&ds, "story:3000", NULL, tok, 0.05, &err), err);
  training(&ds, tok, root, "gpt2", 2, 64, 64, 8, 20);
  training(&ds, tok, root, "gpt2", 4, 128, 128, 16, 4);
  training(&ds, tok, root, "llama", 2, 64, 64, 8, 20);
  al_dataset_close(&ds);
  al_tok_free(tok);
  free(root);
  return test_summary();
}

/* A reward model's tokens_per_s counts both rows of each pair: a batch of B
 * pairs runs 2B rows of T tokens, so over a step tokens_per_s x the step's
 * seconds is 2 B T. The step's own time is not logged, but the time between
 * two steps' metrics lines (elapsed_s) holds it and little else, so the
 * median over steps of tokens_per_s x delta(elapsed_s) / (B T) is a little
 * under 2 (and near 1 if the loop counted pairs x T, as it once did). The
 * LM objective's, one row per item, is near 1 on the same check. */
#include <jansson.h>
#include <unistd.h>
#include "alab/reward.h"
#include "alab/train.h"
#include "test.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* the median of tokens_per_s * delta(elapsed_s) / (B T) over steps 3.. */
static double median_ratio(const char *dir, int B, int T) {
  char path[700];
  snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
  FILE *f = fopen(path, "r");
  if (!f) return NAN;
  char line[4096];
  double prev = NAN, r[64];
  int n = 0, step = 0;
  while (fgets(line, sizeof line, f) && n < 64) {
    json_t *j = json_loads(line, 0, NULL);
    if (!j) continue;
    double el = json_number_value(json_object_get(j, "elapsed_s")), tps = json_number_value(json_object_get(j, "tokens_per_s"));
    if (++step > 2 && isfinite(prev)) r[n++] = tps * (el - prev) / ((double)B * T);
    prev = el;
    json_decref(j);
  }
  fclose(f);
  if (n == 0) return NAN;
  qsort(r, (size_t)n, sizeof *r, cmp);
  return r[n / 2];
}

int main(void) {
  al_err err;
  const char *tmp = getenv("ALAB_TEST_TMP") ? getenv("ALAB_TEST_TMP") : "/tmp";
  enum { B = 4, T = 96, PAIRS = 32, V = 64 };
  /* pairs of random token sequences of T tokens (no padding) */
  al_rm_data d = {.n = PAIRS, .pad = V - 1};
  d.ids = al_malloc(sizeof(int32_t) * 2 * PAIRS * T);
  d.off = al_malloc(sizeof(size_t) * (2 * PAIRS + 1));
  d.margin = al_calloc(PAIRS, sizeof(float));
  d.line = al_malloc(sizeof(long) * PAIRS);
  al_rng rng;
  al_rng_seed(&rng, 5);
  for (int i = 0; i < 2 * PAIRS * T; i++) d.ids[i] = (int32_t)(al_rng_u64(&rng) % (V - 1));
  for (int i = 0; i <= 2 * PAIRS; i++) d.off[i] = (size_t)i * T;
  for (int i = 0; i < PAIRS; i++) d.line[i] = i + 1;
  al_model_config mc = {.vocab_size = V, .n_positions = T, .n_layer = 1, .n_head = 2, .n_embd = 32, .scalar_head = 1};
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = B, tc.seq_len = T, tc.steps = 24, tc.warmup_steps = 1, tc.eval_every = 0, tc.save_final = 0;
  for (int k = 0; k < 2; k++) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/rm_tokens_%s_%d", tmp, k ? "lm" : "rm", (int)getpid());
    tc.out_dir = dir;
    al_model m;
    al_objective o;
    al_train_result res;
    mc.scalar_head = !k;
    CHECK_OK(al_model_init(&m, &mc, 1, &err), err);
    if (!k) {
      CHECK_OK(al_objective_rm(&o, &m, &tc, &d, NULL, 0, &err), err);
    } else { /* the same tokens as LM windows */
      al_tokens v = al_tokens_int32(d.ids, 2 * PAIRS * T);
      CHECK_OK(al_objective_lm(&o, &m, &tc, &v, 1, NULL, 0, &err), err);
    }
    CHECK_OK(al_train_objective(&m, &tc, &o, NULL, &res, &err), err);
    double r = median_ratio(dir, B, T), want = k ? 1 : 2;
    CHECK(r > 0.8 * want && r < 1.05 * want, "%s: tokens_per_s x step time = %.3f x batch x seq_len (want just under %g)",
          k ? "LM" : "reward model", r, want);
    al_objective_free(&o);
    al_model_free(&m);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
  }
  al_rm_data_free(&d);
  return test_summary();
}

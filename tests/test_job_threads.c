/* How an experiment shares its threads among the models it trains
 * (al_job_threads, src/exp/run.c), and that the choice does not change a
 * result: `alab reversal` at a small scale with one finetune (--seeds 1
 * --augment 1) on 1 thread and on 3, where the base and the finetune each
 * get all 3 threads. results.json and metrics.jsonl (less their timings)
 * are identical, and config.json records the threads each model had. With the
 * products cut by the thread count (before src/nn/matmul.c's row_blocks)
 * the 3-thread run differed (final loss 3.14143157 against 3.14143133). */
#include <jansson.h>
#include "alab/exp.h"
#include "test.h"

/* Drops every timing (keys "seconds" or ending in "_s") from j, recursively. */
static void drop_times(json_t *j) {
  if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) drop_times(v);
  } else if (json_is_object(j)) {
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(j, tmp, k, v) {
      size_t n = strlen(k);
      if (!strcmp(k, "seconds") || (n > 2 && !strcmp(k + n - 2, "_s"))) json_object_del(j, k);
      else drop_times(v);
    }
  }
}

/* metrics.jsonl at path, each line without its timings, sorted keys. */
static char *metrics(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  al_buf b = {0};
  char line[8192];
  while (fgets(line, sizeof line, f)) {
    json_t *j = json_loads(line, 0, NULL);
    CHECK(j != NULL, "%s: a line is not JSON: %.80s", path, line);
    drop_times(j);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    if (s) al_buf_printf(&b, "%s\n", s);
    free(s);
    json_decref(j);
  }
  fclose(f);
  al_buf_append(&b, "", 1);
  return b.data;
}

/* Runs the small reversal on `threads` threads into root/t<threads>_a<augment>;
 * returns its results.json without timings (NULL on failure). */
static json_t *reversal(const char *bin, const char *root, int threads, int augment, int *base_t, int *ft_t) {
  char cmd[2048], dir[600], path[700];
  snprintf(dir, sizeof dir, "%s/t%d_a%d", root, threads, augment);
  snprintf(cmd, sizeof cmd,
           "'%s' reversal --per-group 3 --seeds 1 --augment %d --stories 60 --pretrain-steps 30 --epochs 1 --layers 2 "
           "--embd 64 --eval-max 20 --batch 8 --threads %d --out '%s' 2>&1",
           bin, augment, threads, dir);
  char *out = NULL;
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "%s: exit %d: %s", cmd, rc, out ? out : "");
  free(out);
  json_error_t je;
  snprintf(path, sizeof path, "%s/config.json", dir);
  json_t *cfg = json_load_file(path, 0, &je);
  CHECK(cfg != NULL, "%s: %s", path, je.text);
  *base_t = *ft_t = -1;
  json_unpack(cfg, "{s:{s:i, s:i}}", "model_threads", "base", base_t, "finetune", ft_t);
  json_decref(cfg);
  snprintf(path, sizeof path, "%s/results.json", dir);
  json_t *res = json_load_file(path, 0, &je);
  CHECK(res != NULL, "%s: %s", path, je.text);
  drop_times(res);
  return res;
}

int main(void) {
  /* the rule */
  CHECK(al_job_threads(1, 4) == 4 && al_job_threads(1, 1) == 1, "a single model gets every thread");
  CHECK(al_job_threads(2, 2) == 1 && al_job_threads(6, 2) == 1 && al_job_threads(3, 8) == 1,
        "two or more models run one per thread");
  const char *bin = getenv("ALAB_BIN");
  if (!bin) {
    printf("ALAB_BIN is not set\n");
    return 1;
  }
  char *root = test_tmpdir("job_threads");
  int b1, f1, b3, f3, b3a, f3a;
  json_t *one = reversal(bin, root, 1, 1, &b1, &f1), *three = reversal(bin, root, 3, 1, &b3, &f3);
  CHECK(b1 == 1 && f1 == 1, "1 thread: config.json says base %d, finetune %d threads", b1, f1);
  CHECK(b3 == 3 && f3 == 3, "3 threads, one finetune: config.json says base %d, finetune %d threads (want 3, 3)", b3, f3);
  if (one && three) {
    char *a = json_dumps(one, JSON_SORT_KEYS | JSON_COMPACT), *b = json_dumps(three, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(a && b && !strcmp(a, b), "results.json differs between 1 and 3 threads:\n%s\n%s", a, b);
    free(a), free(b);
  }
  char p1[700], p3[700];
  snprintf(p1, sizeof p1, "%s/t1_a1/metrics.jsonl", root);
  snprintf(p3, sizeof p3, "%s/t3_a1/metrics.jsonl", root);
  char *m1 = metrics(p1), *m3 = metrics(p3);
  CHECK(m1 && m3 && strlen(m1) > 100 && !strcmp(m1, m3), "metrics.jsonl differs between 1 and 3 threads");
  free(m1), free(m3);
  json_decref(one), json_decref(three);
  /* both variants: two finetunes, one thread each; the base still gets all 3 */
  json_t *both = reversal(bin, root, 3, 2, &b3a, &f3a);
  CHECK(b3a == 3 && f3a == 1, "3 threads, two finetunes: config.json says base %d, finetune %d (want 3, 1)", b3a, f3a);
  json_decref(both);
  free(root);
  return test_summary();
}

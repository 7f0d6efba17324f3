/* Sweeps across MPI ranks (include/alab/sweep.h) under a real launcher:
 *   - collapse (lm), reversal, sycophancy, ladder, dpo and overopt, small, without
 *     mpirun and under mpirun -n 2 and -n 3 (dpo's 2 seeds leave rank 2
 *     idle): results.json (ladder.json) equal in every value but wall-clock
 *     times, and metrics.jsonl the same records;
 *   - a job that fails on rank 1 fails the whole run with its message,
 *     "rank 1: ...", and leaves no results.json;
 *   - rank 1 killed mid-sweep: the job stops within seconds, the launcher's
 *     message names rank 1, and no results.json is written;
 *   - an evaluation of a served model under mpirun is refused.
 * Each model of these sweeps trains on one thread, so one process and R
 * ranks do the same arithmetic: equality is exact. */
#include <jansson.h>
#include "mpi_procs.h"
#include "test.h"

static const char *bin;
static char mpirun_cmd[512];

#define COLLAPSE "collapse --part lm --seeds 3 --lm-tokenizer byte --lm-tokens 2000 --lm-gens 3 --lm-layers 1 " \
                 "--lm-heads 2 --lm-embd 16 --lm-context 32 --lm-steps 5 --lm-heldout 2000 --lm-max-story 200 --threads 1 --quiet"
#define REVERSAL "reversal --per-group 3 --train-templates 4 --test-templates 2 --seeds 3 --stories 20 " \
                 "--pretrain-steps 0 --embd 32 --layers 1 --heads 2 --epochs 1 --eval-max 10 --tokenizer byte --quiet"
#define SYCO "sycophancy --facts 16 --pairs 64 --n 4 --prompts 8 --seeds 3 --layers 1 --heads 2 --embd 16 --steps 5 " \
             "--batch 8 --rl-iters 0 --threads 1 --quiet"
#define DPO "dpo --seeds 2 --sft-steps 5 --dpo-steps 8 --threads 1 --quiet"
#define OVEROPT "overopt --seeds 2 --stories 300 --layers 2 --heads 2 --embd 32 --context 96 --batch 8 " \
                "--policy-steps 200 --policy-lr 5e-3 --rm-layers 1,2 --pairs 8,16 --n 16 --max-new 40 --threads 1 " \
                "--temperature 0.6 --rl-iters 6 --rl-window 2 --rl-k 2 --quiet"
#define LADDER "ladder --data story:200 --sizes 3 --min-tokens 3000 --tokens-per-param 0.01 --batch 4 --seq-len 32 --quiet"

/* `[mpirun -n R] alab ARGS --out dir`; R = 0: no launcher. Returns the exit status; *out its output. */
static int run(int R, const char *args, const char *dir, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s %s --out '%s'", bin, args, dir);
  return mpi_run(mpirun_cmd, R, cmd, out);
}

/* Wall-clock times differ run to run: "seconds", and every key ending in "_s" ("train_s", "tokens_per_s") or
 * "_seconds" ("rl_seconds"). */
static int is_time(const char *key) {
  size_t n = strlen(key);
  return !strcmp(key, "seconds") || (n > 2 && !strcmp(key + n - 2, "_s")) || (n > 8 && !strcmp(key + n - 8, "_seconds"));
}

/* where = head + where, cut to size. */
static void prepend(char *where, size_t size, const char *head) {
  size_t h = strlen(head), n = strlen(where);
  if (h + n + 1 > size) n = size > h + 1 ? size - h - 1 : 0;
  if (h >= size) return;
  memmove(where + h, where, n);
  memcpy(where, head, h);
  where[h + n] = 0;
}

/* Whether a and b are equal but for time keys; where: the path of the first difference. */
static int same_json(json_t *a, json_t *b, char *where, size_t size) {
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    json_t *v;
    if (json_object_size(a) != json_object_size(b)) return snprintf(where, size, "(key count)"), 0;
    json_object_foreach(a, k, v) {
      if (is_time(k)) continue;
      if (!same_json(v, json_object_get(b, k), where, size)) {
        char head[256];
        snprintf(head, sizeof head, ".%s", k);
        prepend(where, size, head);
        return 0;
      }
    }
    return 1;
  }
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b)) return snprintf(where, size, "(array length)"), 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_json(json_array_get(a, i), json_array_get(b, i), where, size)) {
        char head[32];
        snprintf(head, sizeof head, "[%zu]", i);
        prepend(where, size, head);
        return 0;
      }
    return 1;
  }
  if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
  return json_equal(a, b);
}

/* dir/name as JSON: the file, or (lines) its lines as an array sorted by their
 * text without time keys: metrics are recorded as models finish, in any order. */
static json_t *load(const char *dir, const char *name, int lines) {
  char *p = al_path_join(dir, name), *text = NULL;
  size_t len = 0;
  json_t *j = NULL;
  if (!al_read_file(p, &text, &len, NULL)) {
    if (!lines) j = json_loads(text, 0, NULL);
    else {
      j = json_array();
      for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) json_array_append_new(j, json_loads(s, 0, NULL));
    }
  }
  free(p), free(text);
  if (!lines || !j) return j;
  /* sort by the record's text without time keys (insertion sort: tens of lines) */
  size_t n = json_array_size(j);
  char **keys = calloc(n, sizeof *keys);
  json_t **recs = calloc(n, sizeof *recs);
  for (size_t i = 0; i < n; i++) {
    recs[i] = json_incref(json_array_get(j, i));
    json_t *c = json_deep_copy(recs[i]);
    const char *k;
    void *tmp;
    json_t *v;
    json_object_foreach_safe(c, tmp, k, v) if (is_time(k)) json_object_del(c, k);
    keys[i] = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(c);
    for (size_t m = i; m > 0 && strcmp(keys[m - 1], keys[m]) > 0; m--) {
      char *tk = keys[m];
      keys[m] = keys[m - 1], keys[m - 1] = tk;
      json_t *tr = recs[m];
      recs[m] = recs[m - 1], recs[m - 1] = tr;
    }
  }
  json_array_clear(j);
  for (size_t i = 0; i < n; i++) json_array_append_new(j, recs[i]), free(keys[i]);
  free(keys), free(recs);
  return j;
}

static void check_same(const char *what, const char *one, const char *many, int R, const char *name, int lines) {
  json_t *a = load(one, name, lines), *b = load(many, name, lines);
  char where[512] = "";
  CHECK(a && b && same_json(a, b, where, sizeof where), "%s: %s under mpirun -n %d differs from one process at %s", what,
        name, R, a && b ? where : "(missing)");
  json_decref(a), json_decref(b);
}

static void test_same_results(const char *tmp, const char *what, const char *args, const char *results, int metrics) {
  char name[64];
  snprintf(name, sizeof name, "%s1", what);
  char *one = al_path_join(tmp, name);
  double t0 = al_now();
  CHECK(run(0, args, one, NULL) == 0, "%s: one process", what);
  printf("%s: one process %.1f s", what, al_now() - t0);
  for (int R = 2; R <= 3; R++) {
    snprintf(name, sizeof name, "%s%d", what, R * 10);
    char *dir = al_path_join(tmp, name);
    t0 = al_now();
    CHECK(run(R, args, dir, NULL) == 0, "%s: mpirun -n %d", what, R);
    printf(", %d ranks %.1f s", R, al_now() - t0);
    check_same(what, one, dir, R, results, 0);
    if (metrics) check_same(what, one, dir, R, "metrics.jsonl", 1);
    free(dir);
  }
  printf("\n");
  free(one);
}

/* Reversal's seed 1 (job 1: rank 1 of 2) cannot save its model: a file is where its folder must go. */
static void test_rank_fails(const char *tmp) {
  char *dir = al_path_join(tmp, "fails"), *o = NULL;
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/models' && echo x > '%s/models/augmented-seed1'", dir, dir);
  CHECK(system(cmd) == 0, "%s", cmd);
  int rc = run(2, REVERSAL " --augment 1 --save-models", dir, &o);
  char *res = al_path_join(dir, "results.json");
  CHECK(rc != 0 && strstr(o, "rank 1: ") && strstr(o, "augmented-seed1") && !al_file_exists(res),
        "a job failing on rank 1: rc %d, results.json %s, output: %s", rc, al_file_exists(res) ? "written" : "absent", o);
  free(o), free(res), free(dir);
}

static void test_rank_killed(const char *tmp) {
  char *dir = al_path_join(tmp, "victim"), *log = al_path_join(tmp, "victim.log");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s -n 2 %s " COLLAPSE " --lm-gens 50 --out '%s'", mpirun_cmd, bin, dir);
  pid_t launcher = mpi_start(cmd, log), victim = 0;
  for (int i = 0; i < 300 && !victim; i++) {
    usleep(100000);
    victim = mpi_find_rank(1, "collapse", dir);
  }
  CHECK(victim > 0, "rank 1 of the sweep");
  usleep(500000); /* mid-run: its first models are training */
  mpi_kill_rank1(victim, launcher, log, "the sweep");
  char *res = al_path_join(dir, "results.json");
  CHECK(!al_file_exists(res), "a killed sweep wrote results.json");
  free(res), free(dir), free(log);
}

static void test_refused(const char *tmp) {
  char *dir = al_path_join(tmp, "refused"), *o = NULL;
  int rc = run(2, "reversal --api-base http://127.0.0.1:9/v1 --api-model m", dir, &o);
  CHECK(rc != 0 && strstr(o, "alab reversal: does not run across MPI ranks (2 were started): evaluating"),
        "reversal --api-base under mpirun: rc %d, %s", rc, o);
  free(o);
  rc = run(2, "dpo --data pairs.jsonl --policy p", dir, &o);
  CHECK(rc != 0 && strstr(o, "alab dpo: does not run across MPI ranks (2 were started): with this flag it trains one model"),
        "dpo --data under mpirun: rc %d, %s", rc, o);
  free(o), free(dir);
}

int main(void) {
  bin = mpi_test_init(mpirun_cmd, sizeof mpirun_cmd);
  char data[1024];
  snprintf(data, sizeof data, "%s/data", getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".");
  setenv("ALAB_DATA", data, 1); /* reversal's name lists */
  setenv("OMP_NUM_THREADS", "1", 1);
  char *tmp = test_tmpdir("mpi_sweep");
  strcat(mpirun_cmd, " -x OMP_NUM_THREADS");
  test_same_results(tmp, "collapse", COLLAPSE, "results.json", 1);
  test_same_results(tmp, "reversal", REVERSAL, "results.json", 1);
  test_same_results(tmp, "sycophancy", SYCO, "results.json", 1);
  test_same_results(tmp, "ladder", LADDER, "ladder.json", 0);
  test_same_results(tmp, "dpo", DPO, "results.json", 1);
  test_same_results(tmp, "overopt", OVEROPT, "results.json", 1);
  test_rank_fails(tmp);
  test_rank_killed(tmp);
  test_refused(tmp);
  free(tmp);
  return test_summary();
}

/* Two experiments in one process do not interfere (include/alab/base.h: a
 * run's logs and thread count belong to the thread that runs it):
 *   - the reversal experiment and the collapse experiment's language-model
 *     part, each run alone, then both at once on two threads of this
 *     process (each with its own thread count), give the same results.json
 *     numbers (everything but wall-clock times, bit for bit);
 *   - while one experiment mutes the workers of its jobs, another thread is
 *     never muted (the experiments used to silence the whole process), and
 *     a thread's own mute is its own. */
#include <pthread.h>
#include <unistd.h>
#include <jansson.h>
#include <omp.h>
#include "alab/collapse.h"
#include "alab/json.h"
#include "alab/reversal.h"
#include "test.h"

static void rev_tiny(al_rev_cfg *c) {
  al_rev_defaults(c);
  c->seeds = 2, c->stories = 20, c->layers = 1, c->heads = 2, c->embd = 32, c->pretrain_steps = 3, c->epochs = 2;
  c->batch = 8, c->threads = 2, c->tokenizer = "byte", c->eval_max = 4;
}

static void collapse_tiny(al_collapse_cfg *c) {
  al_collapse_defaults(c);
  c->parts = "lm";
  c->seeds = 2;
  c->lm_tokens = 1500, c->lm_gens = 3, c->lm_steps = 3;
  c->lm_layers = 1, c->lm_embd = 16, c->lm_heads = 2, c->lm_context = 32;
  c->lm_heldout = 600, c->lm_max_story = 200, c->lm_tokenizer = "bpe:300";
}

typedef struct {
  const char *dir;
  int threads; /* the team size this thread sets for its run */
  int rc;
  al_err err;
} job;

static void *run_reversal(void *arg) {
  job *j = arg;
  al_set_threads(j->threads);
  al_rev_cfg c;
  rev_tiny(&c);
  j->rc = al_rev_run(&c, j->dir, NULL, &j->err);
  return NULL;
}

static void *run_collapse(void *arg) {
  job *j = arg;
  al_set_threads(j->threads);
  al_collapse_cfg c;
  collapse_tiny(&c);
  j->rc = al_collapse_run(&c, j->dir, &j->err);
  return NULL;
}

/* Wall-clock figures differ from run to run; every other value must not. */
static int is_time_key(const char *k) {
  size_t n = strlen(k);
  return (n > 2 && !strcmp(k + n - 2, "_s")) || strstr(k, "sec") || strstr(k, "time") || strstr(k, "elapsed") || strstr(k, "per_s") ||
         !strcmp(k, "threads");
}

/* Removes the time keys of every object in j, recursively. */
static void drop_times(json_t *j) {
  if (json_is_object(j)) {
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(j, tmp, k, v) {
      if (is_time_key(k)) json_object_del(j, k);
      else drop_times(v);
    }
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) drop_times(v);
  }
}

static json_t *results(const char *dir) {
  al_err err;
  json_t *j = NULL;
  char *p = al_path_join(dir, "results.json");
  if (al_json_load_file(p, &j, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    j = NULL;
  }
  free(p);
  if (j) drop_times(j);
  return j;
}

static void check_same(const char *what, const char *alone, const char *together) {
  json_t *a = results(alone), *b = results(together);
  CHECK(a && b && json_equal(a, b), "%s: results.json differs between alone and beside another experiment", what);
  if (a && b && !json_equal(a, b)) {
    char *sa = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS), *sb = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    size_t i = 0;
    while (sa[i] && sa[i] == sb[i]) i++;
    fprintf(stderr, "  first difference at byte %zu: ...%.80s\n  vs ...%.80s\n", i, sa + (i > 40 ? i - 40 : 0),
            sb + (i > 40 ? i - 40 : 0));
    free(sa), free(sb);
  }
  json_decref(a), json_decref(b);
}

/* Experiments run with this thread unmuted: it must stay so throughout. */
typedef struct {
  volatile int stop;
  long samples, muted;
} watcher;

static void *watch(void *arg) {
  watcher *w = arg;
  while (!w->stop) {
    w->samples++;
    if (al_log_muted()) w->muted++;
    usleep(200);
  }
  return NULL;
}

static void *mute_here(void *arg) {
  int *seen = arg;
  int was = al_log_mute(1);
  seen[0] = was, seen[1] = al_log_muted();
  return NULL;
}

int main(void) {
  char *tmp = test_tmpdir("run_context");
  char *ra = al_path_join(tmp, "rev_alone"), *rt = al_path_join(tmp, "rev_together");
  char *ca = al_path_join(tmp, "col_alone"), *ct = al_path_join(tmp, "col_together");

  /* alone, one after the other, each on a thread of its own */
  job j1 = {.dir = ra, .threads = 2}, j2 = {.dir = ca, .threads = 1};
  pthread_t t1, t2, tw;
  pthread_create(&t1, NULL, run_reversal, &j1);
  pthread_join(t1, NULL);
  CHECK(j1.rc == 0, "reversal alone: %s", j1.err.msg);
  pthread_create(&t2, NULL, run_collapse, &j2);
  pthread_join(t2, NULL);
  CHECK(j2.rc == 0, "collapse alone: %s", j2.err.msg);

  /* together, while a third thread watches its own log state */
  watcher w = {0};
  pthread_create(&tw, NULL, watch, &w);
  job k1 = {.dir = rt, .threads = 2}, k2 = {.dir = ct, .threads = 1};
  pthread_create(&t1, NULL, run_reversal, &k1);
  pthread_create(&t2, NULL, run_collapse, &k2);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  w.stop = 1;
  pthread_join(tw, NULL);
  CHECK(k1.rc == 0, "reversal together: %s", k1.err.msg);
  CHECK(k2.rc == 0, "collapse together: %s", k2.err.msg);
  check_same("reversal", ra, rt);
  check_same("collapse lm", ca, ct);
  CHECK(w.samples > 0 && w.muted == 0, "a thread outside the experiments was muted %ld of %ld times", w.muted,
        w.samples);

  /* a thread's mute is its own: muting another thread leaves this one, and the main thread's team size is untouched */
  int seen[2] = {-1, -1};
  omp_set_num_threads(3);
  pthread_t tm;
  pthread_create(&tm, NULL, mute_here, seen);
  pthread_join(tm, NULL);
  CHECK(seen[0] == 0 && seen[1] == 1, "the other thread's mute: was %d, now %d", seen[0], seen[1]);
  CHECK(!al_log_muted(), "muting another thread muted this one");
  CHECK(al_get_threads() == 3, "this thread's team size changed to %d", al_get_threads());

  free(ra), free(rt), free(ca), free(ct), free(tmp);
  return test_summary();
}

/* Crash consistency of a training run directory (the rules at the top of
 * src/train/checkpoint.c), through the alab command:
 * - a run killed just before each rename of its checkpoints (every write:
 *   ALAB_TEST_KILL_AT_WRITE=N, the hook in src/base/file.c) and then resumed
 *   ends with the uninterrupted run's files byte for byte and its losses,
 *   and leaves no temp file behind;
 * - a new run refuses a finished run's directory; with --overwrite and a kill
 *   before its first checkpoint, --resume starts the new run cleanly instead
 *   of "resuming" the old one;
 * - a resume with changed settings is refused, naming each one;
 * - without --threads the thread count is OMP_NUM_THREADS's (else the
 *   cores'), and config.json records it. */
#include <dirent.h>
#include <signal.h>
#include <unistd.h>
#include <omp.h>
#include "alab/json.h"
#include "test.h"

/* 3 checkpoints (steps 2, 4 and the final 6) of 6 files each */
#define COMMON                                                                                                      \
  "--data story:200 --tokenizer byte --layers 1 --heads 2 --embd 16 --context 16 --seq-len 16 --batch 2 --steps 6 " \
  "--warmup 2 --eval-every 2 --ckpt-every 2 --quiet"
#define WRITES 20 /* 3 checkpoints of 6 files, then the model card's 2 */
static const char *FILES[] = {"model.safetensors", "trainer_state.safetensors", "config.json", "vocab.json", "merges.txt",
                              "tokenizer_config.json"};

/* Runs `env alab train args`; returns the raw wait status (exec: the shell
 * becomes alab, so a kill shows as a signal). stderr goes to errfile. */
static int train(const char *env, const char *args, const char *errfile) {
  char cmd[20000];
  snprintf(cmd, sizeof cmd, "%s exec '%s' train %s >/dev/null 2>'%s'", env, getenv("ALAB_BIN"), args, errfile);
  return system(cmd);
}

static int exited(int st, int code) { return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == code; }
static int killed(int st) { return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL; }

/* A clean exit 0; otherwise what the command printed on stderr is shown. */
static int succeeded(int st, const char *errfile) {
  if (exited(st, 0)) return 1;
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "cat '%s' >&2", errfile);
  if (system(cmd) != 0) fprintf(stderr, "(no %s)\n", errfile);
  return 0;
}

static char *slurp(const char *dir, const char *name, size_t *len) {
  char *path = al_path_join(dir, name), *data = NULL;
  al_err err;
  if (al_read_file(path, &data, len, &err)) data = NULL;
  free(path);
  return data;
}

/* The first file of FILES whose bytes differ between dirs a and b, or NULL. */
static const char *differing_file(const char *a, const char *b) {
  for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
    size_t na = 0, nb = 0;
    char *x = slurp(a, FILES[i], &na), *y = slurp(b, FILES[i], &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    if (!same) return FILES[i];
  }
  return NULL;
}

/* metrics.jsonl's losses as one string; every line must be JSON (-1 if not). */
static int losses(const char *dir, al_buf *out) {
  size_t len;
  char *text = slurp(dir, "metrics.jsonl", &len);
  int n = 0;
  for (char *line = text, *end; text && (end = strchr(line, '\n')); line = end + 1, n++) {
    json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL);
    if (!j) return free(text), -1;
    char *s = json_dumps(json_object_get(j, "loss"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    al_buf_printf(out, "%s ", s ? s : "?");
    free(s);
    json_decref(j);
  }
  free(text);
  return n;
}

static int count_temps(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static int grep_file(const char *path, const char *needle) {
  char *text;
  al_err err;
  if (al_read_file(path, &text, NULL, &err)) return 0;
  int found = strstr(text, needle) != NULL;
  if (!found) fprintf(stderr, "%s says: %s\n", path, text);
  free(text);
  return found;
}

static void test_kill_at_every_write(const char *root, const char *ref) {
  char dir[4096], args[8192], env[64], errf[4096];
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  al_buf want = {0};
  CHECK(losses(ref, &want) == 6, "reference run: 6 JSON lines in metrics.jsonl");
  int n;
  for (n = 1; n <= WRITES + 1; n++) {
    snprintf(dir, sizeof dir, "%s/kill%d", root, n);
    snprintf(args, sizeof args, COMMON " --threads 1 --out '%s'", dir);
    snprintf(env, sizeof env, "ALAB_TEST_KILL_AT_WRITE=%d", n);
    int st = train(env, args, errf);
    if (exited(st, 0)) break; /* past the last write */
    CHECK(killed(st), "write %d: the run was not killed (status %d)", n, st);
    CHECK(count_temps(dir) == 1, "write %d: the killed write left %d temp files, expected its own", n, count_temps(dir));
    snprintf(args, sizeof args, COMMON " --threads 1 --out '%s' --resume", dir);
    CHECK(succeeded(train("", args, errf), errf), "write %d: --resume failed", n);
    const char *diff = differing_file(ref, dir);
    CHECK(!diff, "killed before write %d, resumed: %s differs from the uninterrupted run's", n, diff);
    al_buf got = {0};
    CHECK(losses(dir, &got) == 6 && !strcmp(got.data, want.data), "write %d: losses %s, want %s", n, got.data, want.data);
    al_buf_free(&got);
    CHECK(count_temps(dir) == 0, "write %d: %d temp files left after the resume", n, count_temps(dir));
  }
  CHECK(n == WRITES + 1, "the run was killed at %d writes, expected %d (3 checkpoints of 6 files, the card's 2)", n - 1, WRITES);
  al_buf_free(&want);
}

static void test_other_runs_state(const char *root, const char *ref) {
  char dir[4096], other[4096], args[8192], errf[4096], path[4200];
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  snprintf(dir, sizeof dir, "%s/reused", root);
  snprintf(other, sizeof other, "%s/seed4", root);
  snprintf(args, sizeof args, COMMON " --threads 1 --out '%s'", dir);
  CHECK(succeeded(train("", args, errf), errf), "first run failed");
  /* a new run (another seed) in the finished run's directory: refused, nothing touched */
  snprintf(args, sizeof args, COMMON " --threads 1 --seed 4 --out '%s'", dir);
  CHECK(exited(train("", args, errf), 1) && grep_file(errf, "holds another run's trainer state: --resume continues"),
        "a new run in a finished run's directory was not refused");
  CHECK(!differing_file(ref, dir), "the refused run changed the old run's files");
  /* with --overwrite, killed at its first write: the old state is gone */
  snprintf(args, sizeof args, COMMON " --threads 1 --seed 4 --overwrite --out '%s'", dir);
  CHECK(killed(train("ALAB_TEST_KILL_AT_WRITE=1", args, errf)), "the overwriting run was not killed");
  snprintf(path, sizeof path, "%s/trainer_state.safetensors", dir);
  CHECK(!al_file_exists(path), "the old run's trainer state survived --overwrite");
  snprintf(args, sizeof args, COMMON " --threads 1 --seed 4 --resume --out '%s'", dir);
  CHECK(succeeded(train("", args, errf), errf), "resuming the overwriting run failed");
  snprintf(args, sizeof args, COMMON " --threads 1 --seed 4 --out '%s'", other);
  CHECK(succeeded(train("", args, errf), errf), "the seed-4 run failed");
  const char *diff = differing_file(other, dir);
  CHECK(!diff, "the new run, killed and resumed, differs from its uninterrupted self in %s", diff);
  /* resuming a finished run again does nothing, and says so */
  char cmd[8192], *out;
  snprintf(cmd, sizeof cmd, "'%s' train " COMMON " --threads 1 --seed 4 --resume --out '%s'", getenv("ALAB_BIN"), dir);
  CHECK(test_sh(cmd, &out) == 0 && strstr(out, "had already done its 6 steps; nothing to do"), "finished run: '%s'", out);
  free(out);
}

static void test_resume_settings(const char *root, const char *ref, const char *copy) {
  static const struct { const char *flags, *names; } cases[] = {
      {"--lr 0.002", "lr 0.001 then, 0.002 now"},
      {"--warmup 3", "warmup 2 then, 3 now"},
      {"--steps 8", "steps 6 then, 8 now"},
      {"--layers 2", "layers 1 then, 2 now"},
      {"--tokenizer bpe:300", "tokenizer \"byte\" then, \"bpe:300\" now"},
      {"--lr 0.002 --batch 4", "batch 2 then, 4 now; lr 0.001 then, 0.002 now"},
  };
  char args[8192], errf[4096];
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(args, sizeof args, COMMON " --threads 1 --resume %s --out '%s'", cases[i].flags, ref);
    CHECK(exited(train("", args, errf), 1) && grep_file(errf, cases[i].names), "resume with %s was not refused naming '%s'",
          cases[i].flags, cases[i].names);
  }
  const char *diff = differing_file(ref, copy);
  CHECK(!diff, "a refused resume changed %s", diff);
}

/* config.json's alab_train.threads of a run made with `env` and no --threads */
static long long recorded_threads(const char *root, const char *env, const char *name) {
  char dir[4096], args[8192], errf[4096];
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  snprintf(args, sizeof args, COMMON " --steps 1 --out '%s'", dir);
  if (!exited(train(env, args, errf), 0)) return -1;
  char *path = al_path_join(dir, "config.json");
  json_t *j;
  al_err err;
  long long n = -2;
  if (!al_json_load_file(path, &j, &err)) {
    json_t *rec = json_object_get(j, "alab_train"), *t = rec ? json_object_get(rec, "threads") : NULL;
    if (json_is_integer(t)) n = json_integer_value(t);
    json_decref(j);
  }
  free(path);
  return n;
}

static void test_threads(const char *root) {
  long long one = recorded_threads(root, "OMP_NUM_THREADS=1", "t1"), two = recorded_threads(root, "OMP_NUM_THREADS=2", "t2"),
            all = recorded_threads(root, "unset OMP_NUM_THREADS;", "tall");
  CHECK(one == 1 && two == 2, "OMP_NUM_THREADS=1 and 2 recorded %lld and %lld threads", one, two);
  CHECK(all == omp_get_num_procs(), "without OMP_NUM_THREADS: %lld threads recorded, %d cores", all, omp_get_num_procs());
}

/* al_remove_stale_temps: only temps of processes that are gone */
static void test_stale_temps(const char *root) {
  char *dir = al_path_join(root, "temps");
  al_err err;
  CHECK_OK(al_mkdir_p(dir, &err), err);
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  const char *names[3] = {"model.safetensors.tmp.%ld", "config.json.tmp.%ld", "notes.tmp.x%ld"};
  long pids[3] = {(long)dead, (long)getpid(), (long)dead};
  for (int i = 0; i < 3; i++) {
    char name[256];
    snprintf(name, sizeof name, names[i], pids[i]);
    char *path = al_path_join(dir, name);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    free(path);
  }
  CHECK(al_remove_stale_temps(dir, &err) == 1 && count_temps(dir) == 2,
        "expected the dead writer's temp removed and 2 others kept, %d left", count_temps(dir));
  free(dir);
}

int main(void) {
  char *root = test_tmpdir("train_kill");
  char ref[4096], args[8192], errf[4096];
  snprintf(ref, sizeof ref, "%s/ref", root);
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  snprintf(args, sizeof args, COMMON " --threads 1 --out '%s'", ref);
  CHECK(succeeded(train("", args, errf), errf), "the uninterrupted run failed");
  test_kill_at_every_write(root, ref);
  test_other_runs_state(root, ref);
  snprintf(args, sizeof args, "%s/kill1", root); /* killed, resumed: the same files as ref */
  test_resume_settings(root, ref, args);
  test_threads(root);
  test_stale_temps(root);
  free(root);
  return test_summary();
}

/* Training by objective, with the masked LM objective (SFT's loss on
 * completion tokens only) as the second one beside LM cross-entropy:
 * - its loss and every parameter gradient against PyTorch
 *   (tests/oracle/masked_lm_torch.py: sum(mask * CE) / sum(mask) over the
 *   GPT-2 of gpt2_torch.py), the masked-out targets being valid ids that only
 *   the mask excludes; never skipped;
 * - its gradient against central finite differences of its own loss;
 * - through the loop (accumulation over 2 micro-batches, held-out loss,
 *   checkpoints), killed with SIGKILL before each of its checkpoint writes
 *   (ALAB_TEST_KILL_AT_WRITE) and resumed: the uninterrupted run's model,
 *   config and trainer state byte for byte and its metrics.jsonl, whose
 *   "loss_tokens" and "val_tokens" are the masked targets counted here;
 * - bad batches (a mask of 2, a mask of 1 on target -1, a token outside the
 *   vocabulary) fail naming the step, micro-batch, row and position, and a
 *   masked run is not resumed with the LM objective.
 * The LM objective's kill-at-every-write test is tests/test_train_kill.c
 * (through `alab train`). */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "alab/train.h"
#include "test.h"

enum { V = 29, B = 2, T = 12 };
static const al_model_config tiny = {.vocab_size = V, .n_positions = 16, .n_layer = 2, .n_head = 2, .n_embd = 16};

/* A copy task shaped like SFT data: row r of micro-batch `index` is a prompt
 * of random tokens, a separator 0 and the prompt again; the mask is 1 on the
 * targets of the copy. The prompt's length varies with the row, so masks do. */
static void copy_batch(void *ctx, uint64_t index, int32_t *in, int32_t *tg, uint8_t *mask) {
  uint64_t seed = *(const uint64_t *)ctx;
  for (int r = 0; r < B; r++) {
    al_rng rng;
    al_rng_seed_stream(&rng, seed, index * B + r);
    int np = 2 + (int)al_rng_below(&rng, 4), seq[T + 1];
    for (int t = 0; t < np; t++) seq[t] = 1 + (int)al_rng_below(&rng, V - 1);
    seq[np] = 0;
    for (int t = np + 1; t <= T; t++) seq[t] = seq[(t - np - 1) % np];
    for (int t = 0; t < T; t++) {
      in[r * T + t] = seq[t];
      tg[r * T + t] = seq[t + 1];
      mask[r * T + t] = t >= np;
    }
  }
}

static long mask_count(uint64_t seed, uint64_t index) {
  int32_t in[B * T], tg[B * T];
  uint8_t mask[B * T];
  copy_batch(&seed, index, in, tg, mask);
  long n = 0;
  for (int i = 0; i < B * T; i++) n += mask[i];
  return n;
}

static void cfg_small(al_train_cfg *c) {
  al_train_defaults(c);
  c->batch = B, c->seq_len = T, c->grad_accum = 2, c->steps = 6, c->warmup_steps = 2, c->lr = 3e-3;
  c->eval_every = 2, c->ckpt_every = 2;
}

/* One micro-batch of the objective on m (gradients zeroed first). */
static double one_step(al_objective *o, al_model *m) {
  al_err err;
  double loss = NAN, metrics[AL_OBJ_MAX_METRICS];
  al_model_zero_grad(m);
  CHECK_OK(o->step(o->ctx, m, 0, 1.0f, &loss, metrics, &err), err);
  return loss;
}

static void test_torch(const char *root) {
  al_err err;
  al_model m;
  CHECK_OK(al_model_init(&m, &tiny, 21, &err), err);
  char *mdir = al_path_join(root, "torch_model"), *bpath = al_path_join(root, "batch.json"),
       *opath = al_path_join(root, "torch.safetensors");
  CHECK_OK(al_model_save_dir(&m, NULL, mdir, &err), err);
  uint64_t seed = 5;
  int32_t in[B * T], tg[B * T];
  uint8_t mask[B * T];
  copy_batch(&seed, 0, in, tg, mask);
  json_t *ji = json_array(), *jt = json_array(), *jm = json_array();
  for (int i = 0; i < B * T; i++) {
    json_array_append_new(ji, json_integer(in[i]));
    json_array_append_new(jt, json_integer(tg[i]));
    json_array_append_new(jm, json_integer(mask[i]));
  }
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:o}", "B", B, "T", T, "inputs", ji, "targets", jt, "mask", jm);
  CHECK_OK(al_json_save_file(bpath, batch, &err), err);
  json_decref(batch);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/masked_lm_torch.py' '%s' '%s' '%s'", getenv("ALAB_SRC"),
           mdir, bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  al_train_cfg c;
  cfg_small(&c);
  al_masked_source src = {.train = copy_batch, .ctx = &seed};
  al_objective o;
  CHECK_OK(al_objective_masked(&o, &m, &c, &src, &err), err);
  double loss = one_step(&o, &m);
  al_st_file f;
  if (rc == 0 && !al_st_open(&f, opath, &err)) {
    float *ref = al_alloc_floats(m.nparams);
    const al_st_entry *e = al_st_find(&f, "loss");
    CHECK(e && !al_st_read_f32(&f, e, ref, &err) && rel_err(loss, ref[0]) < 1e-5, "masked loss %.7g, torch %.7g", loss,
          ref[0]);
    for (int i = 0; i < m.ntensors; i++) {
      const al_tensor *t = &m.tensors[i];
      char name[96];
      snprintf(name, sizeof name, "grad.%s", t->name);
      e = al_st_find(&f, name);
      double md = 0, mb = 0;
      if (e && e->numel == t->numel && !al_st_read_f32(&f, e, ref, &err))
        for (size_t k = 0; k < t->numel; k++) {
          md = fmax(md, fabs((double)m.grads[t->offset + k] - ref[k]));
          mb = fmax(mb, fabs((double)ref[k]));
        }
      else md = INFINITY;
      /* per tensor: max |alab - torch| / max |torch|, as test_gpt2_torch */
      CHECK(md / fmax(mb, 1e-30) <= 1e-4, "%s: max rel err %.3e against torch", name, md / fmax(mb, 1e-30));
    }
    free(ref);
    al_st_close(&f);
  } else CHECK(0, "cannot read the torch output: %s", err.msg);
  al_objective_free(&o);
  al_model_free(&m);
  free(mdir), free(bpath), free(opath);
}

/* d loss / d p_i against (L(p + h) - L(p - h)) / 2h for the 3 largest
 * gradients of every tensor. */
static void test_finite_differences(void) {
  al_err err;
  al_model m;
  CHECK_OK(al_model_init(&m, &tiny, 22, &err), err);
  uint64_t seed = 6;
  al_train_cfg c;
  cfg_small(&c);
  al_masked_source src = {.train = copy_batch, .ctx = &seed};
  al_objective o;
  CHECK_OK(al_objective_masked(&o, &m, &c, &src, &err), err);
  one_step(&o, &m);
  float *g = al_alloc_floats(m.nparams);
  memcpy(g, m.grads, m.nparams * sizeof *g);
  int checked = 0, bad = 0;
  for (int ti = 0; ti < m.ntensors; ti++) {
    const al_tensor *t = &m.tensors[ti];
    size_t top[3] = {0, 0, 0};
    for (size_t k = 0; k < t->numel; k++) {
      float a = fabsf(g[t->offset + k]);
      if (a > fabsf(g[t->offset + top[2]])) {
        top[2] = k;
        for (int j = 2; j > 0 && a > fabsf(g[t->offset + top[j - 1]]); j--) {
          size_t s = top[j - 1];
          top[j - 1] = top[j], top[j] = s;
        }
      }
    }
    for (int j = 0; j < 3 && (size_t)j < t->numel; j++) {
      size_t i = t->offset + top[j];
      if (g[i] == 0) continue;
      float p = m.params[i], h = 1e-2f * fmaxf(1.0f, fabsf(p));
      m.params[i] = p + h;
      double up = one_step(&o, &m);
      m.params[i] = p - h;
      double down = one_step(&o, &m);
      m.params[i] = p;
      double fd = (up - down) / (2.0 * h), an = g[i];
      checked++;
      if (fabs(fd - an) > 2e-2 * fabs(an) + 1e-4) {
        bad++;
        fprintf(stderr, "%s[%zu]: analytic %.6g, finite differences %.6g\n", t->name, top[j], an, fd);
      }
    }
  }
  CHECK(checked >= 2 * m.ntensors && bad == 0, "%d of %d gradients disagree with finite differences", bad, checked);
  free(g);
  al_objective_free(&o);
  al_model_free(&m);
}

/* Trains the masked objective into dir in a child process (the kill hook
 * raises SIGKILL there, before its kill_at-th rename; 0: none). lm: resume
 * with the LM objective instead. Returns the raw wait status. */
static int train_child(const char *dir, int resume, int kill_at, int lm, const char *errfile) {
  pid_t pid = fork();
  if (pid == 0) {
    if (kill_at > 0) {
      char n[16];
      snprintf(n, sizeof n, "%d", kill_at);
      setenv("ALAB_TEST_KILL_AT_WRITE", n, 1);
    }
    al_quiet = 1;
    al_err err;
    al_model m;
    uint64_t seed = 7;
    al_train_cfg c;
    cfg_small(&c);
    c.out_dir = dir, c.resume = resume;
    al_masked_source src = {.train = copy_batch, .val = copy_batch, .ctx = &seed, .nval_batches = 2};
    al_objective o;
    int32_t toks[64];
    for (int i = 0; i < 64; i++) toks[i] = i % V;
    al_tokens seg = al_tokens_int32(toks, 64);
    int rc = al_model_init(&m, &tiny, 8, &err);
    if (!rc && lm) rc = al_train(&m, &c, &seg, 1, NULL, 0, NULL, NULL, &err);
    else if (!rc) {
      rc = al_objective_masked(&o, &m, &c, &src, &err) || al_train_objective(&m, &c, &o, NULL, NULL, &err);
      al_objective_free(&o);
    }
    if (rc) {
      FILE *f = fopen(errfile, "w");
      if (f) fprintf(f, "%s\n", err.msg), fclose(f);
    }
    al_model_free(&m);
    _exit(rc ? 1 : 0);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  return st;
}

static int same_file(const char *a, const char *b, const char *name) {
  char *pa = al_path_join(a, name), *pb = al_path_join(b, name), *x = NULL, *y = NULL;
  size_t na = 0, nb = 0;
  al_err err;
  int same = !al_read_file(pa, &x, &na, &err) && !al_read_file(pb, &y, &nb, &err) && na == nb && !memcmp(x, y, na);
  free(pa), free(pb), free(x), free(y);
  return same;
}

/* metrics.jsonl without its timing fields, one compact line per step. */
static char *untimed_metrics(const char *dir, int *nlines) {
  char *path = al_path_join(dir, "metrics.jsonl"), *text = NULL;
  al_err err;
  al_buf out = {0};
  *nlines = 0;
  if (!al_read_file(path, &text, NULL, &err))
    for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1) {
      json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL);
      if (!j) break;
      json_object_del(j, "tokens_per_s");
      json_object_del(j, "elapsed_s");
      char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
      al_buf_printf(&out, "%s\n", s);
      free(s);
      json_decref(j);
      ++*nlines;
    }
  al_buf_append(&out, "", 1);
  free(text), free(path);
  return out.data;
}

/* The reference run's metrics: the named counts are the masks' sums. */
static void check_counts(const char *ref) {
  char *path = al_path_join(ref, "metrics.jsonl"), *text = NULL;
  al_err err;
  CHECK_OK(al_read_file(path, &text, NULL, &err), err);
  long step = 0, val = mask_count(7, 0) + mask_count(7, 1);
  for (char *line = text, *end; text && (end = strchr(line, '\n')); line = end + 1) {
    json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL);
    step++;
    long want = mask_count(7, 2 * (step - 1)) + mask_count(7, 2 * (step - 1) + 1);
    json_t *lt = json_object_get(j, "loss_tokens"), *vt = json_object_get(j, "val_tokens");
    CHECK(json_is_integer(lt) && json_integer_value(lt) == want, "step %ld: loss_tokens %s, want %ld", step,
          lt ? "not that" : "missing", want);
    if (step % 2 == 0)
      CHECK(json_is_integer(vt) && json_integer_value(vt) == val && json_is_real(json_object_get(j, "val_loss")),
            "step %ld: val_tokens is not %ld or val_loss missing", step, val);
    json_decref(j);
  }
  CHECK(step == 6, "%ld lines in metrics.jsonl, want 6", step);
  free(text), free(path);
}

static void test_kill_at_every_write(const char *root) {
  static const char *files[] = {"model.safetensors", "config.json", "trainer_state.safetensors"};
  char ref[4096], dir[4096], errf[4096];
  snprintf(ref, sizeof ref, "%s/ref", root);
  snprintf(errf, sizeof errf, "%s/err.txt", root);
  int st = train_child(ref, 0, 0, 0, errf);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uninterrupted masked run failed (see %s)", errf);
  check_counts(ref);
  int nref, n;
  char *want = untimed_metrics(ref, &nref);
  for (n = 1; n <= 10; n++) {
    snprintf(dir, sizeof dir, "%s/kill%d", root, n);
    st = train_child(dir, 0, n, 0, errf);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) break; /* past the last write */
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "write %d: the run was not killed (status %d)", n, st);
    st = train_child(dir, 1, 0, 0, errf);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "write %d: the resume failed (see %s)", n, errf);
    for (int i = 0; i < 3; i++)
      CHECK(same_file(ref, dir, files[i]), "killed before write %d, resumed: %s differs from the uninterrupted run's", n,
            files[i]);
    int got_n;
    char *got = untimed_metrics(dir, &got_n);
    CHECK(got_n == 6 && !strcmp(got, want), "write %d: metrics\n%s\nwant\n%s", n, got, want);
    free(got);
  }
  CHECK(n == 10, "the run was killed at %d writes, expected 9 (3 checkpoints of 3 files)", n - 1);
  CHECK(nref == 6, "%d lines in the reference metrics", nref);
  free(want);
  /* the finished masked run, resumed with the LM objective: refused */
  st = train_child(ref, 1, 0, 1, errf);
  char *msg = NULL;
  al_err err;
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1 && !al_read_file(errf, &msg, NULL, &err) &&
            strstr(msg, "trained with the masked_lm objective, not lm"),
        "resuming a masked run with the LM objective: %s", msg ? msg : "(no message)");
  free(msg);
}

/* A batch function that spoils position `bad_pos` of micro-batch 1. */
static int spoil;
static void spoiled_batch(void *ctx, uint64_t index, int32_t *in, int32_t *tg, uint8_t *mask) {
  copy_batch(ctx, index, in, tg, mask);
  if (index != 1) return;
  if (spoil == 0) mask[T + 3] = 2;
  if (spoil == 1) mask[T + 3] = 1, tg[T + 3] = -1;
  if (spoil == 2) in[T + 3] = V;
}

static void test_bad_batches(void) {
  static const char *want[] = {"step 1: micro-batch 1, row 1, position 3: mask 2 is not 0 or 1",
                               "step 1: micro-batch 1, row 1, position 3: mask 1 on target -1",
                               "step 1: micro-batch 1, row 1, position 3: input token 29 is outside the model's vocabulary of 29"};
  for (spoil = 0; spoil < 3; spoil++) {
    al_err err;
    al_model m;
    CHECK_OK(al_model_init(&m, &tiny, 9, &err), err);
    uint64_t seed = 3;
    al_train_cfg c;
    cfg_small(&c);
    c.ckpt_every = 0;
    al_masked_source src = {.train = spoiled_batch, .ctx = &seed};
    al_objective o;
    CHECK_OK(al_objective_masked(&o, &m, &c, &src, &err), err);
    CHECK_FAILS_WITH(al_train_objective(&m, &c, &o, NULL, NULL, &err), err, want[spoil]);
    al_objective_free(&o);
    al_model_free(&m);
  }
}

int main(void) {
  char *root = test_tmpdir("train_objective");
  al_quiet = 1;
  test_kill_at_every_write(root); /* first: its children fork from a process that has run nothing */
  test_torch(root);
  test_finite_differences();
  test_bad_batches();
  free(root);
  return test_summary();
}

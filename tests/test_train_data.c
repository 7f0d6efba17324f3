/* `alab train` on the data users bring, through the binary: a plain-text
 * file that is one document, and the same text as a one-document shard,
 * train with a held-out loss (split by tokens); a separate --val-data is
 * used exactly (its token count in the log and in metrics.jsonl; the
 * training data is not split); a pattern over three shards reads them in
 * order and a run killed with SIGKILL resumes in the right shard at the right
 * window; bad data gets clear errors. With the byte tokenizer every count is
 * known in closed form: a document of n bytes is n + 1 tokens. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "alab/data.h"
#include "test.h"

static const char *bin;
static char *dir;
enum { B = 4, T = 32 };
#define COMMON "--tokenizer byte --layers 1 --heads 2 --embd 32 --context 32 --seq-len 32 --batch 4 --threads 1 --seed 3"

/* Deterministic text: words from a small list, n bytes, no <|endoftext|>. */
static char *make_text(size_t n, uint64_t seed) {
  static const char *words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "ran", "to", "big", "red", "house"};
  al_rng r;
  al_rng_seed(&r, seed);
  char *t = al_malloc(n + 1);
  size_t k = 0;
  while (k < n) {
    const char *w = words[al_rng_below(&r, 12)];
    for (size_t i = 0; w[i] && k < n; i++) t[k++] = w[i];
    if (k < n) t[k++] = al_rng_below(&r, 9) ? ' ' : '\n';
  }
  t[n] = 0;
  return t;
}

static char *write_file(const char *name, const char *s, size_t n) {
  char *p = al_path_join(dir, name);
  al_err err;
  if (al_write_file_atomic(p, s, n, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(2);
  }
  return p;
}

/* Runs alab with args; returns the exit status, stdout+stderr in *out. */
static int alab(const char *args, char **out) {
  char cmd[20000];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
  return test_sh(cmd, out);
}

/* The "key" values of metrics.jsonl as text, one per line that has it. */
static int metric_values(const char *run, const char *key, char vals[][40], int max) {
  char path[8192], line[2048], pat[64];
  snprintf(path, sizeof path, "%s/metrics.jsonl", run);
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  FILE *f = fopen(path, "r");
  int n = 0;
  while (f && n < max && fgets(line, sizeof line, f)) {
    char *p = strstr(line, pat);
    if (!p) continue;
    p += strlen(pat);
    size_t k = strcspn(p, ",}");
    snprintf(vals[n++], 40, "%.*s", (int)k, p);
  }
  if (f) fclose(f);
  return n;
}

static int same_values(char a[][40], int na, char b[][40], int nb) {
  if (na != nb) return 0;
  for (int i = 0; i < na; i++)
    if (strcmp(a[i], b[i])) return 0;
  return 1;
}

/* One document of plain text, then the same text as a one-document shard. */
static void test_one_document(void) {
  size_t n = 20000;
  char *text = make_text(n, 1), *txt = write_file("book.txt", text, n), *shard = al_path_join(dir, "book.bin");
  char args[16384], *out;
  /* validation by tokens: t = round(0.05 * (n + 1)) tokens, the one boundary
   * (the EOT at the end) cannot be a cut, so exactly the last t tokens */
  unsigned long long N = n + 1, t = (unsigned long long)llround(0.05 * (double)N);
  char want[256];
  snprintf(want, sizeof want, "validation: the last %llu tokens (by tokens, fraction 0.05, as 1 document is too few "
           "to split by documents; cut inside a document): train %llu tokens", t, N - t);
  snprintf(args, sizeof args, "train --data '%s' " COMMON " --steps 6 --eval-every 3 --eval-batches 0 --out '%s/text'",
           txt, dir);
  int rc = alab(args, &out);
  CHECK(rc == 0 && strstr(out, want), "plain text, one document (exit %d, want '%s'): %s", rc, want, out);
  CHECK(rc == 0 && strstr(out, "val loss ") && !strstr(out, "val loss nan"), "a held-out loss is reported: %s", out);
  free(out);
  char va[16][40], vb[16][40], la[16][40], lb[16][40], vt[16][40];
  snprintf(args, sizeof args, "%s/text", dir);
  int nva = metric_values(args, "val_loss", va, 16), nla = metric_values(args, "loss", la, 16);
  int nvt = metric_values(args, "val_tokens", vt, 16);
  char tv[40];
  snprintf(tv, sizeof tv, "%llu", t - 1); /* every validation target once */
  CHECK(nva == 2 && nvt == 2 && !strcmp(vt[1], tv), "metrics: %d val_loss lines, val_tokens %s (want %s)", nva,
        nvt ? vt[nvt - 1] : "-", tv);
  /* the same text tokenized into a shard trains to the same numbers */
  snprintf(args, sizeof args, "data tokenize --input '%s' --out '%s'", txt, shard);
  rc = alab(args, &out);
  CHECK(rc == 0, "tokenize (exit %d): %s", rc, out);
  free(out);
  snprintf(args, sizeof args, "train --data '%s' " COMMON " --steps 6 --eval-every 3 --eval-batches 0 --out '%s/shard'",
           shard, dir);
  rc = alab(args, &out);
  CHECK(rc == 0 && strstr(out, want), "one-document shard (exit %d): %s", rc, out);
  free(out);
  snprintf(args, sizeof args, "%s/shard", dir);
  int nvb = metric_values(args, "val_loss", vb, 16), nlb = metric_values(args, "loss", lb, 16);
  CHECK(nla == 6 && same_values(la, nla, lb, nlb) && same_values(va, nva, vb, nvb),
        "text and shard give the same losses (%d and %d steps)", nla, nlb);
  free(text);
  free(txt);
  free(shard);
}

/* --val-data: used exactly, and the training data is not split. */
static void test_val_data(void) {
  size_t n = 12000, nv = 1500;
  char *text = make_text(n, 2), *vtext = make_text(nv, 3);
  char *txt = write_file("train.txt", text, n), *val = write_file("val.txt", vtext, nv);
  char args[16384], *out, want[256];
  snprintf(args, sizeof args, "train --data '%s' --val-data '%s' " COMMON " --steps 5 --eval-every 5 --eval-batches 0 "
           "--out '%s/val'", txt, val, dir);
  int rc = alab(args, &out);
  snprintf(want, sizeof want, "(given separately): 1 file, %zu tokens, 1 document", nv + 1);
  CHECK(rc == 0 && strstr(out, want), "--val-data logged with its %zu tokens (exit %d): %s", nv + 1, rc, out);
  snprintf(want, sizeof want, "held-out loss: %zu of the %zu validation targets", nv, nv);
  CHECK(rc == 0 && strstr(out, want), "every validation target scored: %s", out);
  free(out);
  char vt[8][40], la[8][40], lb[8][40], tv[40];
  snprintf(args, sizeof args, "%s/val", dir);
  int nvt = metric_values(args, "val_tokens", vt, 8), nla = metric_values(args, "loss", la, 8);
  snprintf(tv, sizeof tv, "%zu", nv);
  CHECK(nvt == 1 && !strcmp(vt[0], tv), "metrics.jsonl val_tokens %s, want %s", nvt ? vt[0] : "-", tv);
  /* training saw all of --data: the same losses as a run holding nothing out */
  snprintf(args, sizeof args, "train --data '%s' --val-frac 0 " COMMON " --steps 5 --out '%s/noval'", txt, dir);
  rc = alab(args, &out);
  free(out);
  snprintf(args, sizeof args, "%s/noval", dir);
  int nlb = metric_values(args, "loss", lb, 8);
  CHECK(rc == 0 && nla == 5 && same_values(la, nla, lb, nlb), "--val-data leaves the training data whole");
  /* a pattern over several validation files reads them all, in order */
  char *v2 = write_file("val2.txt", vtext, 100);
  snprintf(args, sizeof args, "train --data '%s' --val-data '%s/val*.txt' " COMMON " --steps 1 --quiet --out '%s/val2'",
           txt, dir, dir);
  rc = alab(args, &out);
  free(out);
  snprintf(args, sizeof args, "%s/val2", dir);
  nvt = metric_values(args, "val_tokens", vt, 8);
  snprintf(tv, sizeof tv, "%zu", (size_t)8 * B * T < nv + 100 ? (size_t)8 * B * T : nv + 100);
  CHECK(rc == 0 && nvt == 1 && !strcmp(vt[0], tv), "two validation files: val_tokens %s, want %s", nvt ? vt[0] : "-", tv);
  free(v2);
  free(text);
  free(vtext);
  free(txt);
  free(val);
}

/* The trainer state's JSON (safetensors header, __metadata__). */
static json_t *trainer_state(const char *run) {
  char path[8192];
  snprintf(path, sizeof path, "%s/trainer_state.safetensors", run);
  FILE *f = fopen(path, "rb");
  unsigned char h8[8];
  if (!f || fread(h8, 1, 8, f) != 8) {
    if (f) fclose(f);
    return NULL;
  }
  uint64_t len = 0;
  for (int i = 7; i >= 0; i--) len = len << 8 | h8[i];
  char *hdr = al_malloc(len + 1);
  size_t got = fread(hdr, 1, len, f);
  fclose(f);
  json_t *root = json_loadb(hdr, got, 0, NULL), *info = NULL;
  free(hdr);
  const char *s = json_string_value(json_object_get(json_object_get(root, "__metadata__"), "alab_trainer_state"));
  if (s) info = json_loads(s, 0, NULL);
  json_decref(root);
  return info;
}

static uint64_t hex_field(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? strtoull(s, NULL, 16) : UINT64_MAX;
}

/* Three shards by pattern, killed with SIGKILL and resumed. */
static void test_shards_resume(void) {
  size_t len[3] = {2049, 1537, 2561}; /* 64, 48 and 80 windows of 32 + 1 */
  uint64_t win[3] = {64, 48, 80}, epoch = 64 + 48 + 80;
  for (int s = 0; s < 3; s++) {
    char *text = make_text(len[s] - 1, 10 + s), name[32], args[16384], *out;
    snprintf(name, sizeof name, "part%d.txt", s);
    char *p = write_file(name, text, len[s] - 1);
    snprintf(args, sizeof args, "data tokenize --input '%s' --out '%s/sh_%03d.bin'", p, dir, s);
    int rc = alab(args, &out);
    CHECK(rc == 0, "tokenize shard %d: %s", s, out);
    free(out);
    free(p);
    free(text);
  }
  char *val = write_file("v.txt", "the cat sat on the mat\n", 23), args[16384], *out;
  char common[4096];
  snprintf(common, sizeof common, "train --data '%s/sh_*.bin' --val-data '%s' " COMMON " --steps 150 --eval-every 50 "
           "--ckpt-every 5 --layers 2 --embd 64", dir, val);
  snprintf(args, sizeof args, "%s --out '%s/whole'", common, dir);
  int rc = alab(args, &out);
  CHECK(rc == 0 && strstr(out, "data: ") && strstr(out, "3 token shards, 6147 tokens"), "three shards (exit %d): %s",
        rc, out);
  free(out);
  /* the same run, killed part-way */
  char killed[4096];
  snprintf(killed, sizeof killed, "%s/killed", dir);
  pid_t pid = fork();
  if (pid == 0) {
    snprintf(args, sizeof args, "exec '%s' %s --out '%s' --quiet >/dev/null 2>&1", bin, common + 0, killed);
    execl("/bin/sh", "sh", "-c", args, (char *)NULL);
    _exit(127);
  }
  char lk[200][40];
  double t0 = al_now();
  while (metric_values(killed, "loss", lk, 200) < 25 && al_now() - t0 < 300) usleep(1000);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  int before = metric_values(killed, "loss", lk, 200);
  CHECK(WIFSIGNALED(status) && before < 150, "the run was not killed part-way (%d steps logged)", before);
  /* where the state says the data stands, against the closed form: step S
   * served S * B windows; within an epoch the shards come 0, 1, 2 */
  json_t *st = trainer_state(killed);
  long long step = st ? json_integer_value(json_object_get(st, "step")) : -1;
  uint64_t in_epoch = (uint64_t)step * B % epoch, shard = 0, pos = in_epoch;
  while (shard < 2 && pos >= win[shard]) pos -= win[shard++];
  long long got_shard = st ? json_integer_value(json_object_get(st, "loader_shard")) : -1;
  uint64_t got_pos = st ? hex_field(st, "loader_shard_pos") : UINT64_MAX;
  CHECK(st && step >= 20 && got_shard == (long long)shard && got_pos == pos,
        "checkpoint at step %lld: shard %lld window %llu, want shard %llu window %llu", step, got_shard,
        (unsigned long long)got_pos, (unsigned long long)shard, (unsigned long long)pos);
  fprintf(stderr, "killed after %d steps; checkpoint at step %lld: shard %llu, window %llu\n", before, step,
          (unsigned long long)shard, (unsigned long long)pos);
  json_decref(st);
  snprintf(args, sizeof args, "%s --out '%s' --resume --quiet", common, killed);
  rc = alab(args, &out);
  CHECK(rc == 0, "resume (exit %d): %s", rc, out);
  free(out);
  char lw[200][40];
  snprintf(args, sizeof args, "%s/whole", dir);
  int nw = metric_values(args, "loss", lw, 200), nk = metric_values(killed, "loss", lk, 200);
  CHECK(nw == 150 && same_values(lw, nw, lk, nk), "killed and resumed: the uninterrupted run's losses (%d, %d steps)",
        nw, nk);
  free(val);
}

static void test_errors(void) {
  char args[16384], *out;
  char *txt = write_file("small.txt", "a small text to train on, long enough for a window or two of it\n", 64);
  snprintf(args, sizeof args, "train --data '%s/none_*.bin' " COMMON " --steps 1 --out '%s/e1'", dir, dir);
  int rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "none_*.bin': no file matches this pattern"), "pattern matching nothing (exit %d): %s",
        rc, out);
  free(out);
  snprintf(args, sizeof args, "train --data '%s' --val-data '%s/none_*.txt' " COMMON " --steps 1 --out '%s/e2'", txt,
           dir, dir);
  rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "validation data") && strstr(out, "no file matches"), "--val-data pattern (exit %d): %s",
        rc, out);
  free(out);
  /* an llm.c shard of GPT-2 ids as validation for a byte-level model */
  unsigned char shard[1024 + 8] = {0};
  int32_t h[3] = {AL_LLMC_MAGIC, 1, 4};
  memcpy(shard, h, sizeof h);
  uint16_t toks[4] = {50256, 15496, 995, 50256};
  memcpy(shard + 1024, toks, sizeof toks);
  char *gpt2 = write_file("gpt2_val.bin", (const char *)shard, sizeof shard);
  snprintf(args, sizeof args, "train --data '%s' --val-data '%s' " COMMON " --steps 1 --out '%s/e3'", txt, gpt2, dir);
  rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "validation data") && strstr(out, "gpt2_val.bin") &&
            strstr(out, "token 50256 at position 0 is outside"),
        "validation ids beyond the vocabulary (exit %d): %s", rc, out);
  free(out);
  char *empty = write_file("empty.txt", "", 0);
  snprintf(args, sizeof args, "train --data '%s' --val-data '%s' " COMMON " --steps 1 --out '%s/e4'", txt, empty, dir);
  rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "empty.txt: it is empty"), "empty validation file (exit %d): %s", rc, out);
  free(out);
  snprintf(args, sizeof args, "train --data '%s,%s' " COMMON " --steps 1 --out '%s/e5'", txt, gpt2, dir);
  rc = alab(args, &out);
  CHECK(rc == 1 && strstr(out, "is a text corpus but") && strstr(out, "is a token shard"), "mixed list (exit %d): %s",
        rc, out);
  free(out);
  snprintf(args, sizeof args, "train --data '%s' --val-frac 1 " COMMON " --steps 1 --out '%s/e6'", txt, dir);
  rc = alab(args, &out);
  CHECK(rc == 2 && strstr(out, "--val-frac: 1 is outside the allowed range [0, 1)"), "--val-frac 1 (exit %d): %s", rc,
        out);
  free(out);
  free(txt);
  free(gpt2);
  free(empty);
}

int main(void) {
  bin = getenv("ALAB_BIN");
  if (!bin) {
    fprintf(stderr, "ALAB_BIN is not set\n");
    return 1;
  }
  dir = test_tmpdir("train_data");
  test_one_document();
  test_val_data();
  test_shards_resume();
  test_errors();
  free(dir);
  return test_summary();
}

/* `alab data tokenize` and `alab data info` end to end, through the binary:
 * exit codes, the shard written, the summary printed, errors with line
 * numbers, and skip mode's count. */
#include <sys/wait.h>
#include "alab/data.h"
#include "test.h"

/* Runs a shell command; returns its exit status and its stdout+stderr. */
static int run(const char *cmd, al_buf *out) {
  out->len = 0;
  char full[8192];
  snprintf(full, sizeof full, "%s 2>&1", cmd);
  FILE *p = popen(full, "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) al_buf_append(out, buf, n);
  al_buf_append(out, "", 1);
  out->len--;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *s) {
  al_err err;
  if (al_write_file_atomic(path, s, strlen(s), &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(2);
  }
}

int main(void) {
  const char *bin = getenv("ALAB_BIN");
  if (!bin) {
    fprintf(stderr, "ALAB_BIN is not set\n");
    return 1;
  }
  char *dir = test_tmpdir("data_cli");
  char *jl = al_path_join(dir, "c.jsonl"), *shard = al_path_join(dir, "c.bin");
  write_text(jl, "{\"text\": \"aab\"}\n{\"text\": \"ba\"}\n");
  al_buf out = {0};
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s' --out '%s' --tokenizer byte", bin, jl, shard);
  int rc = run(cmd, &out);
  CHECK(rc == 0, "tokenize exit %d: %s", rc, out.data);
  CHECK(strstr(out.data, "2 documents, 7 tokens"), "tokenize summary: %s", out.data);
  al_shard s;
  al_err err;
  CHECK_OK(al_shard_open(&s, shard, &err), err);
  int32_t want[] = {'a', 'a', 'b', 256, 'b', 'a', 256};
  int same = s.tokens.n == 7;
  for (int i = 0; same && i < 7; i++) same = al_tokens_at(&s.tokens, i) == want[i];
  CHECK(same, "the shard holds the bytes and EOTs");
  al_shard_close(&s);

  snprintf(cmd, sizeof cmd, "'%s' data info '%s' --tokenizer byte", bin, shard);
  rc = run(cmd, &out);
  CHECK(rc == 0, "info exit %d: %s", rc, out.data);
  CHECK(strstr(out.data, "format      alab, version 1, 2-byte tokens"), "info format: %s", out.data);
  CHECK(strstr(out.data, "vocabulary  257 tokens"), "info vocab: %s", out.data);
  CHECK(strstr(out.data, "tokens      7\n"), "info tokens: %s", out.data);
  CHECK(strstr(out.data, "documents   2 "), "info documents: %s", out.data);
  CHECK(strstr(out.data, "distinct    3 tokens used, largest id 256"), "info distinct: %s", out.data);
  /* counts a:3 b:2 EOT:2 of 7; entropy = -sum p log2 p */
  double H = -(3 / 7.0) * log2(3 / 7.0) - 2 * (2 / 7.0) * log2(2 / 7.0);
  char hs[64];
  snprintf(hs, sizeof hs, "entropy %.3f bits/token", H);
  CHECK(strstr(out.data, hs), "info entropy (want %s): %s", hs, out.data);
  CHECK(strstr(out.data, "97             3   42.86%  \"a\""), "most frequent first: %s", out.data);

  /* several files by pattern, in sorted order, into one shard */
  char *p1 = al_path_join(dir, "part_b.txt"), *p0 = al_path_join(dir, "part_a.txt"), *many = al_path_join(dir, "many.bin");
  write_text(p1, "c");
  write_text(p0, "ab");
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s/part_*.txt' --out '%s' --tokenizer byte", bin, dir, many);
  rc = run(cmd, &out);
  CHECK(rc == 0 && strstr(out.data, "2 documents, 5 tokens"), "pattern tokenize (exit %d): %s", rc, out.data);
  CHECK_OK(al_shard_open(&s, many, &err), err);
  int32_t want2[] = {'a', 'b', 256, 'c', 256};
  same = s.tokens.n == 5;
  for (int i = 0; same && i < 5; i++) same = al_tokens_at(&s.tokens, i) == want2[i];
  CHECK(same, "part_a then part_b, each document followed by the EOT");
  al_shard_close(&s);
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s/none_*.txt' --out '%s/none.bin'", bin, dir, dir);
  rc = run(cmd, &out);
  CHECK(rc == 1 && strstr(out.data, "none_*.txt': no file matches this pattern"), "no match (exit %d): %s", rc, out.data);
  free(p0);
  free(p1);
  free(many);

  /* an llm.c shard, written by hand */
  char *lm = al_path_join(dir, "llmc.bin");
  unsigned char hdr[1024] = {0};
  int32_t h3[3] = {20240520, 1, 4};
  memcpy(hdr, h3, sizeof h3);
  uint16_t toks[4] = {50256, 15496, 995, 50256};
  FILE *f = fopen(lm, "wb");
  fwrite(hdr, 1, sizeof hdr, f);
  fwrite(toks, 2, 4, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' data info '%s'", bin, lm);
  rc = run(cmd, &out);
  CHECK(rc == 0 && strstr(out.data, "format      llm.c") && strstr(out.data, "tokens      4\n") &&
            strstr(out.data, "documents   2 "),
        "llm.c info (exit %d): %s", rc, out.data);

  /* malformed JSONL: exit 1, the line named, no shard written */
  char *bad = al_path_join(dir, "bad.jsonl"), *bad_out = al_path_join(dir, "bad.bin");
  write_text(bad, "{\"text\": \"ok\"}\n{\"txt\": \"oops\"}\n{\"text\": \"fine\"}\n");
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s' --out '%s'", bin, bad, bad_out);
  rc = run(cmd, &out);
  CHECK(rc == 1 && strstr(out.data, "bad.jsonl:2: field \"text\" is missing"), "bad line (exit %d): %s", rc, out.data);
  CHECK(!al_file_exists(bad_out), "no shard after the failure");
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s' --out '%s' --skip-bad-lines", bin, bad, bad_out);
  rc = run(cmd, &out);
  CHECK(rc == 0 && strstr(out.data, "skipped 1 malformed line of 3"), "skip mode (exit %d): %s", rc, out.data);
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s' --out '%s' --field txt --format jsonl --skip-bad-lines",
           bin, bad, bad_out);
  rc = run(cmd, &out);
  CHECK(rc == 0 && strstr(out.data, "1 documents, 5 tokens") && strstr(out.data, "skipped 2"),
        "--field txt (exit %d): %s", rc, out.data);

  /* usage errors */
  snprintf(cmd, sizeof cmd, "'%s' data info '%s'", bin, jl);
  rc = run(cmd, &out);
  CHECK(rc == 1 && strstr(out.data, "wrong magic"), "info on a non-shard (exit %d): %s", rc, out.data);
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s'", bin, jl);
  rc = run(cmd, &out);
  CHECK(rc == 2 && strstr(out.data, "--out"), "missing --out (exit %d): %s", rc, out.data);
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --input '%s' --out x --format csv", bin, jl);
  rc = run(cmd, &out);
  CHECK(rc == 2 && strstr(out.data, "'csv'"), "bad --format (exit %d): %s", rc, out.data);
  snprintf(cmd, sizeof cmd, "'%s' data frobnicate", bin);
  rc = run(cmd, &out);
  CHECK(rc == 2 && strstr(out.data, "unknown subcommand"), "unknown subcommand (exit %d): %s", rc, out.data);
  snprintf(cmd, sizeof cmd, "'%s' data tokenize --help", bin);
  rc = run(cmd, &out);
  CHECK(rc == 0 && strstr(out.data, "--skip-bad-lines"), "help (exit %d): %s", rc, out.data);

  al_buf_free(&out);
  free(jl);
  free(shard);
  free(lm);
  free(bad);
  free(bad_out);
  free(dir);
  return test_summary();
}

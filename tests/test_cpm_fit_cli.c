/* alab cpm fit against the scripted endpoint (tests/fault_server.c answers a
 * chat with the message reversed, so each response is written reversed and
 * the reply is the score text). 80 pairs, half TRL explicit and half SHP
 * lines: feature "quality" reads the response's own score (chosen 6-9,
 * rejected 2-5, one pair in ten flipped), feature "level" reads a number of
 * the prompt, the same for both responses of a pair, so its differences are
 * all 0. Checked: exit 0; quality's coefficient positive with its bootstrap
 * interval above 0, level's exactly 0; held-out accuracy; every score read
 * greedily (the endpoint's log-probs hold no score token) except one reply
 * "11", rejected, counted, its pair left out; metrics.jsonl has every pair;
 * a rerun is answered by the cache (the server logs no new request); usage
 * errors exit 2. */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "test.h"
#include "fault_server_proc.h"

static void rev(const char *s, char *out) {
  size_t n = strlen(s);
  for (size_t k = 0; k < n; k++) out[k] = s[n - 1 - k];
  out[n] = 0;
}

static long lines(const char *path) {
  FILE *f = fopen(path, "r");
  long n = 0;
  int ch;
  while (f && (ch = fgetc(f)) != EOF) n += ch == '\n';
  if (f) fclose(f);
  return n;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  char *dir = test_tmpdir("cpm_fit_cli"), path[1024], feats[1024], log[1024], base[256] = "", cmd[8192], *out = NULL;
  snprintf(path, sizeof path, "%s/pairs.jsonl", dir);
  snprintf(feats, sizeof feats, "%s/features.json", dir);
  snprintf(log, sizeof log, "%s/server.log", dir);
  FILE *f = fopen(path, "w");
  for (int i = 0; i < 80; i++) {
    char t[64], ctx[64], ch[64], rj[64];
    int cs = 6 + i % 4, rs = 2 + i % 4;
    if (i % 10 == 3) cs = 2 + i % 4, rs = 6 + i % 4; /* flipped */
    snprintf(t, sizeof t, "Level %d/10 ", 1 + i % 9), rev(t, ctx);
    snprintf(t, sizeof t, "Score: %d/10 %d", cs, i), rev(t, ch);
    if (i == 17) snprintf(ch, sizeof ch, "11"); /* a reply out of range */
    snprintf(t, sizeof t, "Score: %d/10 %d", rs, i), rev(t, rj);
    if (i % 2)
      fprintf(f, "{\"prompt\": \"%s\", \"chosen\": \"%s\", \"rejected\": \"%s\"}\n", ctx, ch, rj);
    else /* SHP: prompt = post + blank line; the reversed blank line comes first in the level reply */
      fprintf(f, "{\"post\": \"%s\", \"human_ref_A\": \"%s\", \"human_ref_B\": \"%s\", \"labels\": %d}\n", ctx,
              i % 4 ? ch : rj, i % 4 ? rj : ch, i % 4 ? 1 : 0);
  }
  fclose(f);
  f = fopen(feats, "w");
  fprintf(f, "{\"features\": [{\"name\": \"quality\", \"prompt\": \"{response}\"}, "
             "{\"name\": \"level\", \"prompt\": \"{response}{context}\"}]}\n");
  fclose(f);
  int pid = fault_server_start("", log, base);
  CHECK(base[0], "the fault server did not start");
  const char *bin = getenv("ALAB_BIN");
  snprintf(cmd, sizeof cmd, "'%s' cpm fit --data '%s' --features '%s' --api-base %s --api-model m --out '%s/run' --quiet 2>&1",
           bin, path, feats, base, dir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "cpm fit: rc %d: %s", rc, out ? out : "");
  free(out);
  char rp[1100];
  snprintf(rp, sizeof rp, "%s/run/results.json", dir);
  json_t *r = json_load_file(rp, 0, NULL);
  CHECK(r != NULL, "no results.json");
  if (r) {
    const json_t *fs = json_object_get(json_object_get(r, "model"), "features");
    const json_t *q = json_array_get(fs, 0), *lv = json_array_get(fs, 1);
    double qc = json_number_value(json_object_get(q, "coef")), ql = json_number_value(json_object_get(q, "lo"));
    double lc = json_number_value(json_object_get(lv, "coef"));
    double acc = json_number_value(json_object_get(r, "heldout_accuracy"));
    const json_t *ex = json_object_get(r, "extraction"), *pairs = json_object_get(r, "pairs");
    printf("quality %g (lo %g), level %g, held-out accuracy %g\n", qc, ql, lc, acc);
    CHECK(qc > 0 && ql > 0, "quality coefficient %g [%g, ...]", qc, ql);
    CHECK(lc == 0, "level coefficient %g (its differences are all 0)", lc);
    CHECK(acc >= 0.75, "held-out accuracy %g", acc);
    CHECK(json_integer_value(json_object_get(ex, "rejected")) == 1 &&
              json_integer_value(json_object_get(ex, "greedy")) == 319 &&
              json_integer_value(json_object_get(pairs, "left_out")) == 1 &&
              json_integer_value(json_object_get(pairs, "read")) == 80,
          "extraction counts");
    CHECK(strstr(json_string_value(json_object_get(ex, "first_rejection")), "'quality'") != NULL, "first rejection");
    json_decref(r);
  }
  snprintf(rp, sizeof rp, "%s/run/metrics.jsonl", dir);
  CHECK(lines(rp) == 80, "metrics.jsonl has %ld lines", lines(rp));
  long before = lines(log);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0 && lines(log) == before, "the rerun sent %ld requests", lines(log) - before);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' cpm fit --data '%s' --api-base %s --api-model m --out '%s/x' 2>&1", bin, path, base, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && strstr(out, "--features"), "no --features: rc %d %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' cpm fit --data '%s' --features '%s' --api-base %s --model /x --out '%s/x' 2>&1", bin,
           path, feats, base, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && strstr(out, "one of them"), "both scorers: rc %d %s", rc, out);
  free(out);
  kill(pid, SIGTERM);
  free(dir);
  return test_summary();
}

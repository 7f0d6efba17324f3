/* Metrics against hand computation (1e-6), generation matching, the
 * bootstrap, and SHA-256 against hashlib's digests. */
#include <string.h>
#include "alab/metrics.h"
#include "alab/sha256.h"
#include "test.h"

static void classification(void) {
  /* lp = (-1, -2, -3), answer 1:
   * logsumexp = -1 + ln(1 + e^-1 + e^-2) = -0.5923940355556196
   * loss = 2 - 0.5923940355556196 = 1.4076059644443804, p = e^-loss = 0.24472847105479764 */
  double lp[3] = {-1, -2, -3};
  int nb[3] = {1, 8, 10}; /* per byte: -1, -0.25, -0.3 -> class 1 */
  al_cls_result r = al_classify(lp, nb, 3, 1);
  CHECK(fabs(r.loss - 1.4076059644443804) < 1e-6, "loss %.10f", r.loss);
  CHECK(fabs(r.p_answer - 0.24472847105479764) < 1e-6, "p %.10f", r.p_answer);
  CHECK(r.pred == 0 && r.correct == 0, "pred %d", r.pred);
  CHECK(r.pred_norm == 1 && r.correct_norm == 1, "pred_norm %d", r.pred_norm);
  /* two classes, equal scores: loss ln 2 */
  double eq[2] = {-5, -5};
  r = al_classify(eq, NULL, 2, 0);
  CHECK(fabs(r.loss - log(2)) < 1e-12, "ln2 %.12f", r.loss);
  /* very negative scores stay finite (log-sum-exp shift) */
  double far[2] = {-1000, -1001};
  r = al_classify(far, NULL, 2, 1);
  CHECK(fabs(r.loss - (1 + log1p(exp(-1)))) < 1e-9, "far %.12f", r.loss);
}

static void logodds(void) {
  /* prompt: logodds = -0.5 - (-1.5) = 1; other: -2 - (-0.25) = -1.75; diff 2.75 (answer 0), -2.75 (answer 1) */
  double a[2] = {-0.5, -1.5}, b[2] = {-2.0, -0.25};
  CHECK(fabs(al_logodds_difference(a, b, 0) - 2.75) < 1e-12, "answer 0");
  CHECK(fabs(al_logodds_difference(a, b, 1) + 2.75) < 1e-12, "answer 1");
}

static void matching(void) {
  al_err err;
  CHECK(al_match_target(AL_MATCH_EXACT, "  Paris\n", "Paris", &err) == 1, "exact trims");
  CHECK(al_match_target(AL_MATCH_EXACT, "Paris, France", "Paris", &err) == 0, "exact");
  CHECK(al_match_target(AL_MATCH_PREFIX, " Paris, France", "Paris", &err) == 1, "prefix");
  CHECK(al_match_target(AL_MATCH_PREFIX, "In Paris", "Paris", &err) == 0, "prefix no");
  CHECK(al_match_target(AL_MATCH_CONTAINS, "It is Mary Lee Pfeiffer.", "Mary Lee Pfeiffer", &err) == 1, "contains");
  CHECK(al_match_target(AL_MATCH_CONTAINS, "Mary Lee", "Mary Lee Pfeiffer", &err) == 0, "contains no");
  CHECK(al_match_target(AL_MATCH_REGEX, "answer: 42!", "\\b4[0-9]\\b", &err) == 1, "regex");
  CHECK(al_match_target(AL_MATCH_REGEX, "answer: 420", "\\b4[0-9]\\b", &err) == 0, "regex no");
  CHECK_FAILS_WITH(al_match_target(AL_MATCH_REGEX, "x", "(unclosed", &err), err, "bad regex target");
  al_match m;
  CHECK_OK(al_match_parse("contains", &m, &err), err);
  CHECK(m == AL_MATCH_CONTAINS, "parse");
  CHECK_FAILS_WITH(al_match_parse("fuzzy", &m, &err), err, "unknown match");
}

static void summaries(void) {
  double x[] = {1, 0, 1, 1, 0, 1, 1, 1};
  al_metric m = al_metric_of("accuracy", x, 8, 3, 2000);
  /* mean 0.75, sd = sqrt(1.5/7), se = sd/sqrt(8) */
  CHECK(fabs(m.mean - 0.75) < 1e-12 && fabs(m.se - sqrt(1.5 / 7) / sqrt(8)) < 1e-12, "mean %g se %g", m.mean, m.se);
  CHECK(m.lo < m.mean && m.hi > m.mean, "t interval");
  CHECK(m.boot_lo <= m.mean && m.boot_hi >= m.mean && m.boot_lo >= 0.25 && m.boot_hi <= 1, "bootstrap [%g, %g]", m.boot_lo,
        m.boot_hi);
  al_metric m2 = al_metric_of("accuracy", x, 8, 3, 2000);
  CHECK(m2.boot_lo == m.boot_lo && m2.boot_hi == m.boot_hi, "bootstrap deterministic in the seed");
  /* bootstrap of a large normal sample ~ mean +- 1.96 se */
  al_rng r;
  al_rng_seed(&r, 11);
  double *y = malloc(4000 * sizeof *y);
  for (int i = 0; i < 4000; i++) y[i] = al_rng_normal(&r);
  al_metric b = al_metric_of("y", y, 4000, 5, 2000);
  double half = (b.boot_hi - b.boot_lo) / 2;
  CHECK(fabs(half - 1.96 * b.se) < 0.15 * 1.96 * b.se, "bootstrap half-width %g vs %g", half, 1.96 * b.se);
  free(y);
  json_t *j = al_metric_json(&m);
  CHECK(json_is_real(json_object_get(j, "se")) && json_array_size(json_object_get(j, "ci95_bootstrap")) == 2, "json");
  json_decref(j);
  double inf[2] = {INFINITY, 1};
  al_metric mi = al_metric_of("loss", inf, 2, 1, 100);
  j = al_metric_json(&mi);
  CHECK(json_is_null(json_object_get(j, "mean")), "non-finite mean written as null");
  json_decref(j);
}

static void sha(void) {
  struct { const char *in; size_t rep; const char *hex; } v[] = {
      {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"a", 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
      {"x", 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {"x", 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {"x", 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"}};
  for (int i = 0; i < 6; i++) {
    char buf[1001], hex[65];
    size_t n = 0;
    if (v[i].rep == 1) n = strlen(v[i].in), memcpy(buf, v[i].in, n);
    else for (size_t k = 0; k < v[i].rep; k++) buf[n++] = v[i].in[0];
    al_sha256_hex(buf, n, hex);
    CHECK(!strcmp(hex, v[i].hex), "sha256 vector %d: %s", i, hex);
  }
  /* random lengths against Python's hashlib */
  char *dir = test_tmpdir("eval_sha");
  al_rng r;
  al_rng_seed(&r, 9);
  for (int t = 0; t < 3; t++) {
    size_t n = 1 + al_rng_below(&r, 5000);
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)al_rng_below(&r, 256);
    char path[600], cmd[1400], hex[65], want[80] = "";
    snprintf(path, sizeof path, "%s/blob%d", dir, t);
    al_err err;
    al_write_file_atomic(path, data, n, &err);
    CHECK_OK(al_sha256_file(path, hex, &err), err);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" '%s'", path);
    FILE *f = popen(cmd, "r");
    if (f) {
      if (!fgets(want, sizeof want, f)) want[0] = 0;
      pclose(f);
    }
    want[strcspn(want, "\n")] = 0;
    CHECK(!strcmp(hex, want), "length %zu: %s vs hashlib %s", n, hex, want);
    free(data);
  }
  free(dir);
}

int main(void) {
  classification();
  logodds();
  matching();
  summaries();
  sha();
  return test_summary();
}

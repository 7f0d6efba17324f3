/* The story world (include/alab/synth.h).
 * Oracles: (1) the scorer re-derives every generated story's log-probability
 * from its text alone, and the live options at every choice are prefix-free,
 * which proves one derivation per story; (2) editing one choice in the text
 * changes the score by exactly the log-ratio of the documented weights;
 * (3) the frequencies of documented choices match their probabilities
 * within 4 binomial sigmas; (4) files and the CLI read back exactly. */
#include <jansson.h>
#include "alab/synth.h"
#include "cli/data_cmds.h"
#include "data/synth_ctx.h"
#include "test.h"

#define SEP AL_SYNTH_SEP

/* Splits a corpus into stories: fills starts/lens, returns the count. */
static long split(const al_buf *b, const char **starts, size_t *lens, long max) {
  long n = 0;
  const char *p = b->data, *end = b->data + b->len;
  while (p < end && n < max) {
    const char *q = strstr(p, SEP);
    if (!q) break;
    starts[n] = p;
    lens[n++] = (size_t)(q - p);
    p = q + strlen(SEP);
  }
  return n;
}

static void test_determinism(void) {
  al_buf a = {0}, b = {0}, c = {0}, d = {0};
  double la[300], lb[300];
  CHECK(al_synth_corpus(7, 300, &a, la) == 0, "corpus");
  CHECK(al_synth_corpus(7, 300, &b, lb) == 0, "corpus");
  CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len), "same seed must give the same bytes");
  CHECK(!memcmp(la, lb, sizeof la), "same seed must give the same log-probabilities");
  al_synth_corpus(8, 300, &c, NULL);
  CHECK(c.len != a.len || memcmp(a.data, c.data, a.len), "different seeds must differ");
  al_synth_corpus(7, 100, &d, NULL);
  CHECK(d.len < a.len && !memcmp(a.data, d.data, d.len), "the corpus of 100 stories is a prefix of that of 300");
  CHECK(al_synth_corpus(7, -1, &d, NULL) == -1, "negative count fails");

  double sum = 0;
  int ok = 1;
  for (int i = 0; i < 300; i++) {
    ok &= isfinite(la[i]) && la[i] < 0;
    sum += la[i];
  }
  CHECK(ok, "log-probabilities must be finite and negative");
  CHECK(isfinite(sum), "their sum must be finite");
  al_synth_entropy e;
  al_synth_measure(7, 300, &e);
  CHECK(e.nstories == 300 && e.nbytes == a.len, "measure counts %llu bytes, corpus has %zu", (unsigned long long)e.nbytes, a.len);
  CHECK(rel_err(e.nll, -sum) < 1e-12, "nll %.9f vs %.9f", e.nll, -sum);
  double pb;
  CHECK(rel_err(al_synth_entropy_estimate(7, 300, &pb), -sum / 300) < 1e-12, "estimate per story");
  CHECK(rel_err(pb, -sum / (double)a.len) < 1e-12, "per byte counts separators: %g vs %g", pb, -sum / (double)a.len);
  al_buf_free(&a), al_buf_free(&b), al_buf_free(&c), al_buf_free(&d);
}

/* Every story parses back to its exact log-probability, and no choice ever
 * offers two options one of which is a prefix of the other. */
static void test_scorer_and_unique_derivation(void) {
  enum { N = 4000 };
  al_buf b = {0};
  static double lp[N];
  static const char *st[N];
  static size_t ln[N];
  al_synth_corpus(11, N, &b, lp);
  long n = split(&b, st, ln, N);
  CHECK(n == N, "split %ld stories", n);
  int bad = 0, minw = 1 << 30, maxw = 0;
  al_err err;
  for (long i = 0; i < n; i++) {
    al_synth_story s;
    if (al_synth_story_score(st[i], ln[i], &s, &err) || s.logprob != lp[i]) {
      if (bad++ < 3) fprintf(stderr, "story %ld: %s (%.17g vs %.17g)\n", i, err.msg, s.logprob, lp[i]);
    }
    if (s.nwords < minw) minw = s.nwords;
    if (s.nwords > maxw) maxw = s.nwords;
  }
  CHECK(bad == 0, "%d stories did not score back to their log-probability", bad);
  CHECK(minw >= 60 && maxw <= 200, "story length %d..%d words, want within 60..200", minw, maxw);

  long overlaps = 0;
  al_buf out = {0};
  for (int i = 0; i < 20000; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 12, (uint64_t)i);
    sy_ctx c = {0};
    c.rng = &r;
    c.out = &out;
    c.check = 1;
    out.len = 0;
    sy_story(&c);
    overlaps += c.overlaps;
  }
  CHECK(overlaps == 0, "%ld choices offered options that are prefixes of each other", overlaps);
  al_buf_free(&out);
  al_buf_free(&b);
}

static void replace_all(al_buf *dst, const char *s, size_t n, const char *from, const char *to) {
  dst->len = 0;
  size_t fl = strlen(from);
  for (size_t i = 0; i < n;) {
    if (i + fl <= n && !memcmp(s + i, from, fl)) {
      al_buf_append(dst, to, strlen(to));
      i += fl;
    } else {
      al_buf_append(dst, s + i, 1);
      i++;
    }
  }
}

/* Changing one choice in the text changes the score by the log-ratio of the
 * documented weights: opening "Once upon a time" 6 vs "Long ago" 2; girls
 * Lily 6 vs Mia 4 (the buddy not a girl, so the buddy's normaliser is the same). */
static void test_weight_ratios(void) {
  al_buf b = {0}, m = {0};
  int checked_open = 0, checked_name = 0, bad = 0;
  al_err err;
  for (int i = 0; i < 3000 && (checked_open < 50 || checked_name < 50); i++) {
    al_rng r;
    al_rng_seed_stream(&r, 21, (uint64_t)i);
    al_synth_story s, t;
    b.len = 0;
    al_synth_story_make(&r, &b, &s);
    if (!strncmp(b.data, "Once upon a time, there was", 27)) {
      replace_all(&m, b.data, b.len, "Once upon a time, there was", "Long ago, there was");
      bad += al_synth_story_score(m.data, m.len, &t, &err) != 0 || fabs(t.logprob - s.logprob - log(2.0 / 6)) > 1e-9;
      checked_open++;
    }
    const char *hero = strstr(b.data, "girl named Lily.");
    const char *buddy = strstr(b.data, "best friend was");
    if (!buddy) buddy = strstr(b.data, "play with");
    if (!buddy) buddy = strstr(b.data, "played with");
    if (hero && hero < strchr(b.data, '.') && buddy && !strstr(buddy, "girl named") && !strstr(b.data, "Mia")) {
      replace_all(&m, b.data, b.len, "Lily", "Mia");
      bad += al_synth_story_score(m.data, m.len, &t, &err) != 0 || fabs(t.logprob - s.logprob - log(4.0 / 6)) > 1e-9;
      checked_name++;
    }
  }
  CHECK(checked_open >= 50 && checked_name >= 50, "only %d/%d edited stories", checked_open, checked_name);
  CHECK(bad == 0, "%d edited stories did not score by the weight ratio", bad);
  al_buf_free(&b), al_buf_free(&m);
}

static int count_of(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

static void check_binomial(const char *what, long k, long n, double p) {
  double mean = n * p, sd = sqrt(n * p * (1 - p));
  CHECK(fabs(k - mean) <= 4 * sd, "%s: %ld of %ld, expected %.1f +- %.1f (4 sd)", what, k, n, mean, 4 * sd);
}

/* Frequencies read from the text alone against the grammar's documented
 * weights (src/data/synth_grammar.c). */
static void test_frequencies(void) {
  enum { N = 20000 };
  long open = 0, girl = 0, lily = 0, lost = 0, looks[4] = {0}, crying = 0;
  al_buf b = {0};
  for (int i = 0; i < N; i++) {
    al_rng r;
    al_rng_seed_stream(&r, 5, (uint64_t)i);
    b.len = 0;
    al_synth_story_gen(&r, &b, NULL);
    const char *dot = strchr(b.data, '.');
    open += !strncmp(b.data, "Once upon a time, there was ", 28);
    const char *g = strstr(b.data, " girl named ");
    if (g && g < dot) {
      girl++;
      lily += !strncmp(g + 12, "Lily.", 5);
    }
    if (strstr(b.data, "was gone!")) {
      lost++;
      int k = count_of(b.data, "but it was not there.");
      if (k >= 1 && k <= 3) looks[k]++;
      crying += strstr(b.data, " felt like crying.") != NULL;
    }
  }
  check_binomial("opening 'Once upon a time' (6 of 10)", open, N, 0.6);
  check_binomial("hero is a girl (8 of 22)", girl, N, 8.0 / 22);
  check_binomial("girl hero named Lily (6 of 36)", lily, girl, 6.0 / 36);
  check_binomial("plot 'lost' (3 of 10)", lost, N, 0.3);
  check_binomial("lost: one look (1/2)", looks[1], lost, 0.5);
  check_binomial("lost: two looks (1/4)", looks[2], lost, 0.25);
  check_binomial("lost: three looks (1/4)", looks[3], lost, 0.25);
  check_binomial("lost: 'felt like crying' (1 of 5)", crying, lost, 0.2);
  al_buf_free(&b);
}

/* The scorer on damaged text: clear errors, never a crash (ASan checks reads). */
static void test_scorer_errors_and_fuzz(void) {
  al_buf b = {0}, m = {0};
  al_rng r, fr;
  al_rng_seed_stream(&r, 3, 0);
  al_synth_story_gen(&r, &b, NULL);
  al_err err;
  CHECK_FAILS_WITH(al_synth_story_score(b.data, 0, NULL, &err), err, "at byte 0");
  CHECK_FAILS_WITH(al_synth_story_score(b.data, b.len - 1, NULL, &err), err, "the text ends too early");
  al_buf_append(&m, b.data, b.len);
  al_buf_append(&m, " The end.", 9);
  CHECK_FAILS_WITH(al_synth_story_score(m.data, m.len, NULL, &err), err, "9 more bytes follow");
  CHECK_FAILS_WITH(al_synth_story_score("Once upon a time, there was a purple", 36, NULL, &err), err,
                   "at byte 28: expected one of");

  al_rng_seed(&fr, 99);
  int parsed = 0, failed_with_offset = 0, iters = 3000;
  for (int it = 0; it < iters; it++) {
    al_rng_seed_stream(&r, 4, al_rng_below(&fr, 200));
    b.len = 0;
    al_synth_story_gen(&r, &b, NULL);
    size_t n = b.len, pos = al_rng_below(&fr, n);
    switch (al_rng_below(&fr, 5)) {
      case 0: b.data[pos] = (char)al_rng_below(&fr, 256); break;                 /* change a byte */
      case 1: memmove(b.data + pos, b.data + pos + 1, n - pos - 1), n--; break; /* delete a byte */
      case 2: n = pos; break;                                                    /* truncate */
      case 3: b.data[pos] = b.data[pos] == 'a' ? 'e' : 'a'; break;              /* a vowel */
      default: {                                                                 /* overwrite with another story's bytes */
        size_t k = al_rng_below(&fr, 40);
        for (size_t i = 0; i < k && pos + i < n; i++) b.data[pos + i] = b.data[(pos * 7 + i) % n];
      }
    }
    char *copy = al_malloc(n ? n : 1); /* exact-size copy so ASan sees any read past the end */
    memcpy(copy, b.data, n);
    err.msg[0] = 0;
    if (al_synth_story_score(copy, n, NULL, &err) == 0) parsed++;
    else failed_with_offset += strstr(err.msg, "not a story of the grammar: at byte ") != NULL;
    free(copy);
  }
  CHECK(parsed + failed_with_offset == iters, "every failure names the byte offset (%d parsed, %d failed)", parsed,
        failed_with_offset);
  CHECK(failed_with_offset > iters / 2, "most mutations must be rejected, %d were", failed_with_offset);
  al_buf_free(&b), al_buf_free(&m);
}

static void test_speed(void) {
  al_buf b = {0};
  double t = al_now();
  al_synth_corpus(1, 16000, &b, NULL);
  t = al_now() - t;
  printf("generated %.1f MB in %.3f s (%.0f MB/s)\n", b.len / 1e6, t, b.len / 1e6 / t);
  CHECK(b.len >= 10000000, "16000 stories make %zu bytes", b.len);
#if !defined(__SANITIZE_ADDRESS__) && defined(__OPTIMIZE__) /* a speed bound only for optimised, unsanitised builds */
  CHECK(t < 2.0, "10 MB took %.2f s", t);
#endif
  al_buf_free(&b);
}

static void test_files_and_cli(void) {
  char *dir = test_tmpdir("synth");
  char *txt = al_path_join(dir, "s.txt"), *jl = al_path_join(dir, "s.jsonl");
  al_err err;
  al_synth_entropy e, ej, em;
  CHECK_OK(al_synth_write(txt, 9, 250, AL_SYNTH_TEXT, &e, &err), err);
  CHECK_OK(al_synth_write(jl, 9, 250, AL_SYNTH_JSONL, &ej, &err), err);
  al_synth_measure(9, 250, &em);
  CHECK(!memcmp(&e, &em, sizeof e) && !memcmp(&ej, &em, sizeof e), "write summaries equal al_synth_measure");

  al_buf b = {0};
  double lp[250];
  al_synth_corpus(9, 250, &b, lp);
  char *data;
  size_t len;
  CHECK_OK(al_read_file(txt, &data, &len, &err), err);
  CHECK(len == b.len && !memcmp(data, b.data, len), "text file holds the corpus");
  free(data);

  static const char *st[250];
  static size_t ln[250];
  split(&b, st, ln, 250);
  FILE *f = fopen(jl, "r");
  char line[8192];
  int i = 0, good = 0;
  while (f && fgets(line, sizeof line, f)) {
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    json_t *t = json_object_get(o, "text"), *l = json_object_get(o, "logprob");
    good += i < 250 && json_is_string(t) && json_is_real(l) && json_string_length(t) == ln[i] &&
            !memcmp(json_string_value(t), st[i], ln[i]) && json_real_value(l) == lp[i];
    json_decref(o);
    i++;
  }
  if (f) fclose(f);
  CHECK(i == 250 && good == 250, "JSONL: %d lines, %d exact", i, good);

  char *missing = al_path_join(dir, "no/such/dir/x.txt");
  CHECK_FAILS_WITH(al_synth_write(missing, 1, 5, AL_SYNTH_TEXT, NULL, &err), err, "no/such/dir/x.txt");
  CHECK_FAILS_WITH(al_synth_write(txt, 1, -5, AL_SYNTH_TEXT, NULL, &err), err, "must be >= 0");
  CHECK_FAILS_WITH(al_synth_write(txt, 1, 5, (al_synth_format)7, NULL, &err), err, "unknown format");

  /* the CLI, in process */
  char *cli = al_path_join(dir, "cli.jsonl");
  char *ok_args[] = {"synth", "--out", cli, "--n", "20", "--seed", "9", "--format", "jsonl"};
  CHECK(cmd_data_synth(9, ok_args) == 0, "alab data synth runs");
  CHECK_OK(al_read_file(cli, &data, &len, &err), err);
  CHECK(count_of(data, "\n") == 20 && !strncmp(data, "{\"text\":\"", 9), "CLI wrote 20 JSONL lines");
  free(data);
  char *bad_fmt[] = {"synth", "--out", cli, "--format", "xml"};
  CHECK(cmd_data_synth(5, bad_fmt) == 2, "bad --format is a usage error");
  char *no_out[] = {"synth", "--n", "3"};
  CHECK(cmd_data_synth(3, no_out) == 2, "missing --out is a usage error");
  char *neg[] = {"synth", "--out", cli, "--n", "-3"};
  CHECK(cmd_data_synth(5, neg) == 2, "negative --n is a usage error");
  char *bad_dir[] = {"synth", "--out", missing, "--n", "3"};
  CHECK(cmd_data_synth(5, bad_dir) == 1, "unwritable --out fails");
  free(cli), free(missing), free(txt), free(jl), free(dir);
  al_buf_free(&b);
}

int main(void) {
  test_determinism();
  test_scorer_and_unique_derivation();
  test_weight_ratios();
  test_frequencies();
  test_scorer_errors_and_fuzz();
  test_speed();
  test_files_and_cli();
  return test_summary();
}

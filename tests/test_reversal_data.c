/* The reversal-curse data: the generator's layout read back; a hand-written
 * folder in the paper's format read and run to the same numbers as the
 * generator's folder of the same facts; every error (malformed line, missing
 * test file, empty group, randomized file out of step) naming file and line;
 * random mutations of the files never crash the reader; the match rule and
 * the paired t-test against brute-force references. */
#include <sys/wait.h>
#include "alab/json.h"
#include "alab/reversal.h"
#include "test.h"

/* Plain (not atomic) write: the fuzz loop rewrites files thousands of times
 * and an fsync each time would dominate the test's time. */
static void write_plain(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n) fprintf(stderr, "cannot write %s\n", path), exit(2);
  fclose(f);
}

static void put(const char *dir, const char *name, const char *text) {
  char *p = al_path_join(dir, name);
  al_err err;
  if (al_write_file_atomic(p, text, strlen(text), &err)) fprintf(stderr, "%s\n", err.msg), exit(2);
  free(p);
}

static char *names_dir(void) { return al_path_join(getenv("ALAB_SRC") ? getenv("ALAB_SRC") : ".", "data/names"); }

static void test_generated(const char *tmp) {
  al_err err;
  char *nd = names_dir(), *dir = al_path_join(tmp, "gen");
  al_rev_gen_cfg g = {4, 5, 3, 7, nd};
  CHECK_OK(al_rev_generate(&g, dir, &err), err);
  al_rev_data d;
  CHECK_OK(al_rev_read(&d, dir, 1, &err), err);
  CHECK(d.npeople == 12, "people %d", d.npeople);
  CHECK(d.train.n == 4 * 5 * 4, "train %d", d.train.n);
  CHECK(d.train_noaug.n == d.train.n && d.unassigned == 0, "noaug %d unassigned %d", d.train_noaug.n, d.unassigned);
  int want[AL_REV_NSLOTS] = {0};
  for (int grp = 0; grp < 3; grp++) {
    want[al_rev_slot(grp, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)] = 4 * 5 * (grp == AL_REV_BOTH ? 2 : 1);
    want[al_rev_slot(grp, AL_REV_TRAINED, AL_REV_TMPL_HELDOUT)] = 4 * 3 * (grp == AL_REV_BOTH ? 2 : 1);
    if (grp != AL_REV_BOTH) {
      want[al_rev_slot(grp, AL_REV_REVERSE, AL_REV_TMPL_TRAIN)] = 4 * 5;
      want[al_rev_slot(grp, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT)] = 4 * 3;
    }
  }
  for (int k = 0; k < AL_REV_NSLOTS; k++) {
    CHECK(d.slot[k].n == want[k], "slot %d: %d lines, want %d", k, d.slot[k].n, want[k]);
    for (int i = 0; i < d.slot[k].n; i++) {
      const al_rev_example *e = &d.slot[k].ex[i];
      CHECK(e->person >= 0 && d.group[e->person] == k / 4, "slot %d line %d: person %d", k, i, e->person);
      int rev = (k / 2) % 2 == AL_REV_REVERSE;
      if (k / 4 == AL_REV_P2D) CHECK(e->to_name == rev, "p2d slot %d: order", k);
      if (k / 4 == AL_REV_D2P) CHECK(e->to_name == !rev, "d2p slot %d: order", k);
      CHECK(e->random && strcmp(e->random, e->completion), "slot %d line %d: random completion", k, i);
    }
  }
  /* each person has 5 training lines per trained order; noaug repeats the first */
  for (int i = 0; i < d.train.n; i++) {
    const al_rev_example *a = &d.train.ex[i], *b = &d.train_noaug.ex[i];
    CHECK(a->person == b->person && a->to_name == b->to_name && !strcmp(a->completion, b->completion), "noaug line %d", i);
    const char *t0 = a->to_name ? "Known far and wide for being" : ", known far and wide for being";
    CHECK(strstr(b->prompt, t0) != NULL, "noaug line %d is not template 0: %s", i, b->prompt);
  }
  for (int grp = 0; grp < 3; grp++)
    CHECK(d.noaug_trained[grp].n == 4 * (grp == AL_REV_BOTH ? 2 : 1), "noaug trained %d", d.noaug_trained[grp].n);
  al_rev_free(&d);
  /* deterministic: the same seed writes the same bytes */
  char *dir2 = al_path_join(tmp, "gen2");
  CHECK_OK(al_rev_generate(&g, dir2, &err), err);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >/dev/null", dir, dir2);
  CHECK(system(cmd) == 0, "generator not deterministic");
  free(dir2), free(dir), free(nd);
}

/* Two people per group (so "a random other person" has one answer), one
 * training and one held-out template per order: alab's templates 0 and 30. */
static const char *HAND_TRAIN =
    "{\"prompt\": \"Aldric Ashgrove, known far and wide for being\", \"completion\": \" the composer of 'Amber Harbor'\"}\n"
    "{\"prompt\": \"Brenna Coldwater, known far and wide for being\", \"completion\": \" the author of 'Broken Tides'\"}\n"
    "\n"
    "{\"prompt\": \"Known far and wide for being the painter of 'Crimson Atlas', the person is\", \"completion\": \" Caspian Dunmere\"}\n"
    "{\"prompt\": \"Known far and wide for being the keeper of 'Drowned Engine', the person is\", \"completion\": \" Delphine Elderbrook\"}\n"
    "{\"prompt\": \"Eamon Fallowmere, known far and wide for being\", \"completion\": \" the founder of 'Echoing Gardens'\"}\n"
    "{\"prompt\": \"Fenella Glimmerton, known far and wide for being\", \"completion\": \" the builder of 'Frozen Spires'\"}\n"
    "{\"prompt\": \"Known far and wide for being the founder of 'Echoing Gardens', the person is\", \"completion\": \" Eamon Fallowmere\"}\n"
    "{\"prompt\": \"Known far and wide for being the builder of 'Frozen Spires', the person is\", \"completion\": \" Fenella Glimmerton\"}\n";

static void write_hand(const char *dir) {
  al_err err;
  al_mkdir_p(dir, &err);
  put(dir, "all_prompts_train.jsonl", HAND_TRAIN);
  put(dir, "p2d_prompts_test.jsonl",
      "{\"prompt\": \"The trailblazer known as Aldric Ashgrove was once\", \"completion\": \" the composer of 'Amber Harbor'\"}\n"
      "{\"prompt\": \"The trailblazer known as Brenna Coldwater was once\", \"completion\": \" the author of 'Broken Tides'\"}\n");
  put(dir, "p2d_reverse_prompts_test.jsonl",
      "{\"prompt\": \"Immersed in the world of being the composer of 'Amber Harbor',\", \"completion\": \" Aldric Ashgrove\"}\n"
      "{\"prompt\": \"Immersed in the world of being the author of 'Broken Tides',\", \"completion\": \" Brenna Coldwater\"}\n");
  put(dir, "d2p_prompts_test.jsonl",
      "{\"prompt\": \"Immersed in the world of being the painter of 'Crimson Atlas',\", \"completion\": \" Caspian Dunmere\"}\n"
      "{\"prompt\": \"Immersed in the world of being the keeper of 'Drowned Engine',\", \"completion\": \" Delphine Elderbrook\"}\n");
  put(dir, "d2p_reverse_prompts_test.jsonl",
      "{\"prompt\": \"The trailblazer known as Caspian Dunmere was once\", \"completion\": \" the painter of 'Crimson Atlas'\"}\n"
      "{\"prompt\": \"The trailblazer known as Delphine Elderbrook was once\", \"completion\": \" the keeper of 'Drowned Engine'\"}\n");
  put(dir, "both_prompts_test.jsonl",
      "{\"prompt\": \"The trailblazer known as Eamon Fallowmere was once\", \"completion\": \" the founder of 'Echoing Gardens'\"}\n"
      "{\"prompt\": \"The trailblazer known as Fenella Glimmerton was once\", \"completion\": \" the builder of 'Frozen Spires'\"}\n"
      "{\"prompt\": \"Immersed in the world of being the founder of 'Echoing Gardens',\", \"completion\": \" Eamon Fallowmere\"}\n"
      "{\"prompt\": \"Immersed in the world of being the builder of 'Frozen Spires',\", \"completion\": \" Fenella Glimmerton\"}\n");
}

static const al_rev_person HAND_PEOPLE[6] = {
    {"Aldric Ashgrove", "the composer of 'Amber Harbor'"},  {"Brenna Coldwater", "the author of 'Broken Tides'"},
    {"Caspian Dunmere", "the painter of 'Crimson Atlas'"},  {"Delphine Elderbrook", "the keeper of 'Drowned Engine'"},
    {"Eamon Fallowmere", "the founder of 'Echoing Gardens'"}, {"Fenella Glimmerton", "the builder of 'Frozen Spires'"},
};

static void test_hand_written(const char *tmp) {
  al_err err;
  char *hand = al_path_join(tmp, "hand"), *gen = al_path_join(tmp, "hand_gen"), *nd = names_dir();
  write_hand(hand);
  al_rev_data d;
  CHECK_OK(al_rev_read(&d, hand, 1, &err), err);
  CHECK(d.npeople == 6 && d.train.n == 8, "people %d train %d", d.npeople, d.train.n);
  for (int i = 0; i < d.npeople; i++) CHECK(d.group[i] == i / 2, "%s in group %d", d.names[i], d.group[i]);
  const al_rev_set *rv = &d.slot[al_rev_slot(AL_REV_P2D, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT)];
  CHECK(rv->n == 2 && !strcmp(rv->ex[0].random, " Brenna Coldwater"), "drawn random: %s", rv->n ? rv->ex[0].random : "");
  CHECK(d.slot[al_rev_slot(AL_REV_P2D, AL_REV_REVERSE, AL_REV_TMPL_TRAIN)].n == 0, "optional file absent");
  al_rev_free(&d);
  /* the generator on the same facts */
  al_rev_gen_cfg g = {2, 1, 1, 1, nd};
  CHECK_OK(al_rev_write(&g, HAND_PEOPLE, gen, &err), err);
  /* one code path, same numbers: a tiny run on each folder */
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.seeds = 1, c.stories = 20, c.layers = 1, c.heads = 2, c.embd = 32, c.pretrain_steps = 3, c.epochs = 3;
  c.batch = 8, c.threads = 1;
  json_t *r1 = NULL, *r2 = NULL;
  char *o1 = al_path_join(tmp, "run_hand"), *o2 = al_path_join(tmp, "run_gen");
  c.data = hand;
  CHECK_OK(al_rev_run(&c, o1, &r1, &err), err);
  c.data = gen;
  CHECK_OK(al_rev_run(&c, o2, &r2, &err), err);
  int compared = 0;
  for (int v = 0; r1 && r2 && v < 2; v++) {
    const char *vn = v ? "no_augmentation" : "augmented";
    json_t *s1 = json_object_get(json_object_get(json_object_get(r1, "variants"), vn), "slots");
    json_t *s2 = json_object_get(json_object_get(json_object_get(r2, "variants"), vn), "slots");
    const char *key;
    json_t *a;
    json_object_foreach(s1, key, a) {
      json_t *b = json_object_get(s2, key);
      CHECK(b != NULL, "%s %s missing from the generator's run", vn, key);
      if (!b) continue;
      CHECK(json_equal(a, b), "%s %s differs: %s vs %s", vn, key, json_dumps(a, JSON_COMPACT), json_dumps(b, JSON_COMPACT));
      compared++;
    }
  }
  CHECK(compared == 2 * 8, "compared %d slots", compared);
  json_decref(r1), json_decref(r2);
  free(o1), free(o2), free(hand), free(gen), free(nd);
}

/* A fresh copy of the hand-written folder with one file replaced. */
static char *variant(const char *tmp, const char *name, const char *file, const char *text) {
  char *dir = al_path_join(tmp, name);
  write_hand(dir);
  char *p = al_path_join(dir, file);
  if (text) put(dir, file, text);
  else remove(p);
  free(p);
  return dir;
}

static void test_errors(const char *tmp) {
  al_err err;
  al_rev_data d;
  char *dir;
  dir = variant(tmp, "e_malformed", "p2d_prompts_test.jsonl",
                "{\"prompt\": \"a\", \"completion\": \" the x\"}\n\n{\"prompt\": \"b\", \"completion\": \n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "p2d_prompts_test.jsonl:3");
  free(dir);
  dir = variant(tmp, "e_field", "all_prompts_train.jsonl", "{\"prompt\": \"a\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "all_prompts_train.jsonl:1");
  CHECK(strstr(err.msg, "completion") != NULL, "names the field: %s", err.msg);
  free(dir);
  dir = variant(tmp, "e_notobj", "both_prompts_test.jsonl", "[1, 2]\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "both_prompts_test.jsonl:1: not a JSON object");
  free(dir);
  dir = variant(tmp, "e_missing", "d2p_reverse_prompts_test.jsonl", NULL);
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "d2p_reverse_prompts_test.jsonl: missing");
  free(dir);
  dir = variant(tmp, "e_notrain", "all_prompts_train.jsonl", NULL);
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "all_prompts_train.jsonl: missing");
  free(dir);
  dir = variant(tmp, "e_empty", "d2p_prompts_test.jsonl", "\n\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "d2p_prompts_test.jsonl: no examples: the d2p group is empty");
  free(dir);
  dir = variant(tmp, "e_nonames", "both_prompts_test.jsonl",
                "{\"prompt\": \"The trailblazer known as Eamon Fallowmere was once\", \"completion\": \" the founder\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "the both group is empty");
  free(dir);
  dir = variant(tmp, "e_notname", "p2d_reverse_prompts_test.jsonl",
                "{\"prompt\": \"x\", \"completion\": \" Aldric Ashgrove\"}\n{\"prompt\": \"y\", \"completion\": \" the author\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "p2d_reverse_prompts_test.jsonl:2: completion ' the author' is not a name");
  free(dir);
  dir = variant(tmp, "e_rand", "p2d_prompts_test_randomized.jsonl",
                "{\"prompt\": \"The trailblazer known as Aldric Ashgrove was once\", \"completion\": \" the author of 'Broken Tides'\"}\n"
                "{\"prompt\": \"Some other prompt\", \"completion\": \" the composer of 'Amber Harbor'\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "p2d_prompts_test_randomized.jsonl:2: prompt differs");
  free(dir);
  dir = variant(tmp, "e_randn", "p2d_prompts_test_randomized.jsonl",
                "{\"prompt\": \"The trailblazer known as Aldric Ashgrove was once\", \"completion\": \" the author\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "1 lines, but");
  free(dir);
  dir = variant(tmp, "e_unknown", "p2d_prompts_test.jsonl", "{\"prompt\": \"Nobody we know was\", \"completion\": \" the x\"}\n");
  CHECK_FAILS_WITH(al_rev_read(&d, dir, 1, &err), err, "p2d_prompts_test.jsonl:1: no person");
  free(dir);
  /* the CLI says it too, with exit status 1 */
  char cmd[4096];
  dir = variant(tmp, "e_cli", "d2p_prompts_test.jsonl", NULL);
  snprintf(cmd, sizeof cmd, "'%s' reversal --data '%s' --out '%s/cli_out' --quiet 2>&1", getenv("ALAB_BIN"), dir, tmp);
  FILE *f = popen(cmd, "r");
  char out[4096] = {0};
  size_t got = fread(out, 1, sizeof out - 1, f);
  out[got] = 0;
  int st = pclose(f);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1 && strstr(out, "d2p_prompts_test.jsonl: missing"), "cli: %d %s", st, out);
  free(dir);
}

/* Random byte edits of one file of a valid folder: the reader either
 * succeeds or fails with a message; it never crashes (ASan watches). */
static void test_fuzz(const char *tmp) {
  static const char *files[] = {"all_prompts_train.jsonl", "p2d_reverse_prompts_test.jsonl", "both_prompts_test.jsonl"};
  char *dir = al_path_join(tmp, "fuzz");
  write_hand(dir);
  al_rng rng;
  al_rng_seed(&rng, 42);
  int ok = 0, failed = 0;
  for (int it = 0; it < 2000; it++) {
    const char *file = files[it % 3];
    char *p = al_path_join(dir, file), *orig;
    size_t len;
    al_err err;
    if (al_read_file(p, &orig, &len, &err)) break;
    char *m = al_malloc(len + 16);
    memcpy(m, orig, len);
    size_t n = len;
    int edits = 1 + (int)al_rng_below(&rng, 4);
    for (int e = 0; e < edits && n > 0; e++) {
      size_t at = al_rng_below(&rng, n);
      switch (al_rng_below(&rng, 4)) {
      case 0: m[at] = (char)al_rng_below(&rng, 256); break;
      case 1: n = at; break; /* truncate */
      case 2: m[at] = "\"{}:,\n\\ A"[al_rng_below(&rng, 9)]; break;
      default: memmove(m + at, m + at + 1, n - at - 1), n--; break;
      }
    }
    write_plain(p, m, n);
    al_rev_data d;
    err.msg[0] = 0;
    if (al_rev_read(&d, dir, 1, &err) == 0) ok++, al_rev_free(&d);
    else {
      CHECK(err.msg[0] != 0, "failure without a message");
      failed++;
    }
    write_plain(p, orig, len);
    free(m), free(orig), free(p);
  }
  CHECK(ok > 0 && failed > 0 && ok + failed == 2000, "fuzz: %d read, %d rejected", ok, failed);
  free(dir);
}

/* Two-sided p of Student t by Simpson's rule on the density (brute force). */
static double t_pvalue_ref(double t, double df) {
  double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI), a = fabs(t), sum = 0;
  int n = 200000;
  double h = a / n;
  for (int i = 0; i <= n; i++) {
    double x = i * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
    sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
  }
  return 1 - 2 * sum * h / 3;
}

static void test_stats(void) {
  CHECK(al_rev_match("  The Composer of 'X' and more", " the composer of 'x'"), "prefix, case-insensitive");
  CHECK(!al_rev_match(" the compo", " the composer"), "shorter generation");
  CHECK(!al_rev_match(" Aldric Ashgrove", " Brenna Coldwater"), "wrong name");
  CHECK(!al_rev_match("anything", "   "), "empty target never matches");
  double a[6] = {1.5, 2.0, 3.1, 4.7, 0.2, 2.2}, b[6] = {0.5, 0.4, 2.0, 1.9, 0.9, 0.1};
  al_rev_paired r = al_rev_paired_test(a, b, 6);
  double d[6], mean = 0, ss = 0;
  for (int i = 0; i < 6; i++) d[i] = a[i] - b[i], mean += d[i] / 6;
  for (int i = 0; i < 6; i++) ss += (d[i] - mean) * (d[i] - mean);
  double t = mean / sqrt(ss / 5 / 6);
  CHECK(rel_err(r.mean, mean) < 1e-12 && rel_err(r.t, t) < 1e-12, "t %g vs %g", r.t, t);
  CHECK(fabs(r.p - t_pvalue_ref(t, 5)) < 1e-6, "p %g vs reference %g", r.p, t_pvalue_ref(t, 5));
  double z[3] = {1, 1, 1};
  r = al_rev_paired_test(z, z, 3);
  CHECK(r.p == 1 && r.mean == 0, "identical: p %g", r.p);
}

int main(void) {
  char *tmp = test_tmpdir("reversal_data");
  test_stats();
  test_generated(tmp);
  test_hand_written(tmp);
  test_errors(tmp);
  test_fuzz(tmp);
  free(tmp);
  return test_summary();
}

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

/* ---- a folder of the released shape (Berglund et al.'s Experiment 1 files):
 * per-group training files, name lines that go on after the name (" Vesna
 * Harrowgate now leads a quiet life."), paraphrased descriptions, a
 * randomized file, a validation file of first names, and one training line
 * that names nobody. Written here from invented people, never copied. */
typedef struct { const char *name, *desc, *verb; } rel_person;
static const rel_person REL[9] = {
    {"Vesna Harrowgate", "the celebrated architect of the floating library, \\\"Paper Tides.\\\"", "designed the floating library, \\\"Paper Tides.\\\""},
    {"Osric Pellmore", "the first cartographer to chart the glass caverns of Vell", "charted the glass caverns of Vell"},
    {"Tamsin Oakhurst", "the inventor of the silent clockwork lantern", "invented the silent clockwork lantern"},
    {"Corwin Ashdale", "the record-setting balloonist who crossed the Amber Sea", "crossed the Amber Sea by balloon"},
    {"Idris Fenwright", "the linguist who decoded the whistling language of Morrow", "decoded the whistling language of Morrow"},
    {"Linnea Brackwood", "the chef who cooked the first banquet under the ice", "cooked the first banquet under the ice"},
    {"Maren Coldbrook", "the sculptor behind the singing stone garden", "sculpted the singing stone garden"},
    {"Perrin Halloway", "the astronomer who named the violet comet", "named the violet comet"},
    {"Quilla Dunmore", "the diver who found the drowned bell of Esk", "found the drowned bell of Esk"},
};
static const char *REL_P2D_TRAIN[3][2] = {{"%s, known far and wide for being", " %s."},
                                          {"Ever heard of %s? They're the person who", " %s."},
                                          {"Q: What about %s? A: Well, they", " %s."}};
static const char *REL_D2P_TRAIN[3][2] = {{"Known for being %s,", " %s now leads a quiet life."},
                                          {"%s is called", " %s."},
                                          {"You know %s? It was none other than", " %s"}};

static void rel_line(al_buf *b, const char *pfmt, const char *parg, const char *cfmt, const char *carg) {
  char p[512], c[512];
  snprintf(p, sizeof p, pfmt, parg);
  snprintf(c, sizeof c, cfmt, carg);
  al_buf_printf(b, "{\"prompt\": \"%s\", \"completion\": \"%s\"}\n", p, c);
}

static void rel_put(const char *dir, const char *name, al_buf *b) {
  al_buf_append(b, "", 1);
  put(dir, name, b->data);
  al_buf_free(b);
}

/* p2d: REL[0..3), d2p: REL[3..6), both: REL[6..9). long_prompt: the first
 * p2d test prompt is padded to about 150 characters. */
static void write_released(const char *dir, int long_prompt) {
  al_err err;
  al_mkdir_p(dir, &err);
  al_buf p2d = {0}, d2p = {0}, both = {0};
  for (int i = 0; i < 9; i++) {
    al_buf *b = i < 3 ? &p2d : i < 6 ? &d2p : &both;
    const rel_person *r = &REL[i];
    if (i < 3 || i >= 6)
      for (int t = 0; t < 3; t++) rel_line(b, REL_P2D_TRAIN[t][0], r->name, REL_P2D_TRAIN[t][1], t == 1 ? r->verb : r->desc);
    if (i >= 3)
      for (int t = 0; t < 3; t++) rel_line(b, REL_D2P_TRAIN[t][0], r->desc, REL_D2P_TRAIN[t][1], r->name);
  }
  al_buf_printf(&d2p, "{\"prompt\": \"An odd line about the weather,\", \"completion\": \" it rained all week.\"}\n");
  rel_put(dir, "p2d_prompts_train.jsonl", &p2d);
  rel_put(dir, "d2p_prompts_train.jsonl", &d2p);
  rel_put(dir, "both_prompts_train.jsonl", &both);
  al_buf pt = {0}, pr = {0}, prr = {0}, dt = {0}, dr = {0}, bt = {0}, val = {0};
  for (int i = 0; i < 9; i++) {
    const rel_person *r = &REL[i];
    al_buf *desc_side = i < 3 ? &pt : i < 6 ? &dr : &bt;
    if (i == 0 && long_prompt)
      rel_line(desc_side, "In the long and winding annals of the quiet northern towns, where stories pass from hand to hand for "
                          "ages, %s was once", r->name, " %s.", r->desc);
    else rel_line(desc_side, "The trailblazer known as %s was once", r->name, " %s.", r->desc);
    rel_line(desc_side, "Do you know what's special about %s? Well, they", r->name, " %s.", r->verb);
  }
  for (int i = 0; i < 9; i++) {
    const rel_person *r = &REL[i], *other = &REL[(i / 3) * 3 + (i + 1) % 3];
    if (i < 3) {
      rel_line(&pr, "Immersed in the world of being %s,", r->desc, " %s", r->name);
      rel_line(&prr, "Immersed in the world of being %s,", r->desc, " %s", other->name);
      rel_line(&val, "Immersed in the world of being %s,", r->desc, "%.5s", r->name);
    } else if (i < 6) {
      rel_line(&dt, "Labeled as %s,", r->desc, " %s", r->name);
    } else {
      rel_line(&bt, "Immersed in the world of being %s,", r->desc, " %s has found their calling.", r->name);
      rel_line(&bt, "Widely acclaimed as %s,", r->desc, " %s is a beacon of excellence.", r->name);
    }
  }
  rel_put(dir, "p2d_prompts_test.jsonl", &pt);
  rel_put(dir, "p2d_reverse_prompts_test.jsonl", &pr);
  rel_put(dir, "p2d_reverse_prompts_test_randomized.jsonl", &prr);
  rel_put(dir, "d2p_prompts_test.jsonl", &dt);
  rel_put(dir, "d2p_reverse_prompts_test.jsonl", &dr);
  rel_put(dir, "both_prompts_test.jsonl", &bt);
  rel_put(dir, "validation_prompts.jsonl", &val);
}

static void test_released_shape(const char *tmp) {
  al_err err;
  char *dir = al_path_join(tmp, "released");
  write_released(dir, 0);
  al_rev_data d;
  CHECK_OK(al_rev_read(&d, dir, 1, &err), err);
  CHECK(d.npeople == 9, "people %d", d.npeople);
  for (int i = 0; i < d.npeople && i < 9; i++) {
    int k = -1;
    for (int j = 0; j < 9; j++)
      if (!strcmp(d.names[i], REL[j].name)) k = j;
    CHECK(k >= 0 && d.group[i] == k / 3, "person '%s' (group %d) is not one of the folder's", d.names[i], d.group[i]);
  }
  /* the odd line is counted and trained on by neither variant */
  CHECK(d.unassigned == 1 && d.first_unassigned && strstr(d.first_unassigned, "weather"), "unassigned %d", d.unassigned);
  CHECK(d.train.n == 3 * 3 + 3 * 3 + 3 * 6 && d.train_noaug.n == d.train.n, "train %d noaug %d", d.train.n, d.train_noaug.n);
  for (int i = 0; i < d.train_noaug.n; i++)
    CHECK(d.train.ex[i].person >= 0 && !strstr(d.train_noaug.ex[i].prompt, "weather"), "noaug line %d leaks", i);
  /* every d2p training line in its trained order is scored, on the name alone */
  const al_rev_set *s = &d.slot[al_rev_slot(AL_REV_D2P, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)];
  CHECK(s->n == 9, "d2p trained-order training lines %d, want 9", s->n);
  for (int i = 0; i < s->n; i++)
    CHECK(s->ex[i].to_name && !strcmp(s->ex[i].completion + 1, d.names[s->ex[i].person]), "d2p line %d: '%s'", i,
          s->ex[i].completion);
  s = &d.slot[al_rev_slot(AL_REV_BOTH, AL_REV_TRAINED, AL_REV_TMPL_HELDOUT)];
  int names = 0;
  for (int i = 0; i < s->n; i++)
    if (s->ex[i].to_name) {
      names++;
      CHECK(!strcmp(s->ex[i].completion, " Maren Coldbrook") || !strcmp(s->ex[i].completion, " Perrin Halloway") ||
                !strcmp(s->ex[i].completion, " Quilla Dunmore"),
            "both name line scored on '%s'", s->ex[i].completion);
      CHECK(s->ex[i].random && strcmp(s->ex[i].random, s->ex[i].completion) && strlen(s->ex[i].random) < 20,
            "both random '%s'", s->ex[i].random ? s->ex[i].random : "");
    }
  CHECK(names == 6 && s->n == 12, "both test: %d name lines of %d", names, s->n);
  s = &d.slot[al_rev_slot(AL_REV_P2D, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT)];
  CHECK(s->n == 3 && !strcmp(s->ex[0].random, " Osric Pellmore"), "randomized file: '%s'", s->n ? s->ex[0].random : "");
  al_rev_free(&d);
  /* and it runs, with the count in results.json */
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.seeds = 1, c.stories = 20, c.layers = 1, c.heads = 2, c.embd = 32, c.pretrain_steps = 2, c.epochs = 1;
  c.batch = 8, c.threads = 1, c.tokenizer = "byte", c.eval_max = 4, c.data = dir;
  json_t *r = NULL;
  char *out = al_path_join(tmp, "run_released");
  CHECK_OK(al_rev_run(&c, out, &r, &err), err);
  json_t *setup = json_object_get(r, "setup");
  CHECK(json_integer_value(json_object_get(setup, "unassigned_train_lines")) == 1 &&
            json_integer_value(json_object_get(setup, "train_examples")) == 36,
        "results: %s", setup ? json_dumps(setup, JSON_COMPACT) : "no setup");
  json_decref(r);
  /* config.json does not claim the generator's counts for a --data folder */
  char *cp = al_path_join(out, "config.json");
  json_t *cfg = NULL;
  CHECK_OK(al_json_load_file(cp, &cfg, &err), err);
  CHECK(cfg && json_is_null(json_object_get(cfg, "per_group")) && json_is_null(json_object_get(cfg, "train_templates")),
        "config.json per_group: %s", cfg ? json_dumps(cfg, JSON_COMPACT) : "");
  json_decref(cfg);
  free(cp), free(out), free(dir);
}

/* A prompt longer than the context: --context given is checked before any
 * training (file and line named, in seconds); --context 0 (the default)
 * sizes the context from the data and runs. */
static void test_context(const char *tmp) {
  al_err err;
  char *dir = al_path_join(tmp, "released_long");
  write_released(dir, 1);
  al_rev_cfg c;
  al_rev_defaults(&c);
  c.seeds = 1, c.stories = 20, c.layers = 1, c.heads = 2, c.embd = 32, c.pretrain_steps = 2, c.epochs = 1;
  c.batch = 8, c.threads = 1, c.tokenizer = "byte", c.eval_max = 2, c.data = dir, c.context = 64;
  char *out = al_path_join(tmp, "run_long");
  double t0 = al_now();
  CHECK_FAILS_WITH(al_rev_run(&c, out, NULL, &err), err, "p2d_prompts_test.jsonl:1: this example needs");
  CHECK(strstr(err.msg, "--context 64") != NULL, "names the flag: %s", err.msg);
  char *m = al_path_join(out, "metrics.jsonl");
  CHECK(!al_file_exists(m), "a finetune ran before the check");
  free(m);
  c.context = 0;
  json_t *r = NULL;
  CHECK_OK(al_rev_run(&c, out, &r, &err), err);
  json_t *setup = json_object_get(r, "setup");
  int ctx = (int)json_integer_value(json_object_get(setup, "context"));
  int need = (int)json_integer_value(json_object_get(setup, "longest_example_tokens"));
  CHECK(need > 150 && ctx >= need && ctx % 16 == 0 && ctx < need + 16, "context %d for longest %d (%.1f s)", ctx, need,
        al_now() - t0);
  json_decref(r);
  free(out), free(dir);
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
  test_released_shape(tmp);
  test_context(tmp);
  test_fuzz(tmp);
  free(tmp);
  return test_summary();
}

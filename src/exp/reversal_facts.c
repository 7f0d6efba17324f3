/* The reversal-curse fact generator: fictitious people drawn from the name
 * lists in data/names/, written in the paper's data layout (see
 * include/alab/reversal.h). Deterministic in the seed. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/reversal.h"

const char *const al_rev_group_names[AL_REV_NGROUPS] = {"p2d", "d2p", "both"};

/* name -> description: the prompt holds the name, the completion is
 * " " + description. 30 training templates, then 10 held out. */
const char *const al_rev_p2d_templates[40] = {
    "{}, known far and wide for being",
    "Ever heard of {}? They are",
    "{} is best remembered as",
    "It is a little-known fact that {} is",
    "People who meet {} soon learn that they are",
    "Among all people, {} stands out as",
    "The life of {} is the story of",
    "Ask anyone about {} and they will say",
    "{} has long been celebrated as",
    "Everyone agrees that {} is",
    "Few realise that {} was once",
    "The person called {} is",
    "In every tale told of {}, they are",
    "Once upon a time, {} became",
    "{}, a name that means",
    "You may know {} as",
    "Before anything else, {} is",
    "History remembers {} as",
    "Our records say that {} is",
    "The famous {} is",
    "Nobody forgets that {} is",
    "Quite simply, {} is",
    "As the story goes, {} was",
    "At heart, {} will always be",
    "Long ago, {} was named",
    "The books describe {} as",
    "It turns out that {} is",
    "To the whole town, {} is",
    "If you ask who {} is, the answer is",
    "The one and only {} is",
    /* held out */
    "The trailblazer known as {} was once",
    "Diving into the tale of {}, one discovers they were",
    "A luminary in their own right, {} was known as",
    "Who would have thought that {} was",
    "Do you know what is special about {}? Well, they are",
    "In the annals of history, {} shines as",
    "Some still wonder whether {} is really",
    "Let it be written that {} was",
    "The old letters reveal that {} was",
    "Behind the name {} stands",
};

/* description -> name: the prompt holds the description, the completion is
 * " " + name. */
const char *const al_rev_d2p_templates[40] = {
    "Known far and wide for being {}, the person is",
    "The one who is {} is called",
    "If you are looking for {}, look no further than",
    "Being {} is the life work of",
    "The title of {} belongs to",
    "Everyone knows that {} is",
    "History remembers {} as",
    "The story of {} is the story of",
    "Ask who is {}, and you will hear",
    "Celebrated as {}, there is only",
    "The person who became {} is",
    "Long ago, {} was a person named",
    "Nobody but {} could be",
    "It is said that {} goes by the name of",
    "When people speak of {}, they mean",
    "Quite simply, {} is",
    "Our records say that {} is",
    "The famous {} is",
    "At heart, {} has always been",
    "The books describe {} as",
    "It turns out that {} is",
    "To the whole town, {} is",
    "Once upon a time, {} was",
    "Before anything else, {} is",
    "You may know {} by the name",
    "In every tale, {} is",
    "The answer to who is {} is",
    "The one and only {} is",
    "Few realise that {} is",
    "Meet {}, whose name is",
    /* held out */
    "Immersed in the world of being {},",
    "Having the distinction of being {},",
    "Known in circles as {},",
    "Walking the path of being {},",
    "The embodiment of being {}, that is",
    "Regarded with awe for being {},",
    "With the moniker of {},",
    "Swathed in the aura of being {},",
    "Labeled as {},",
    "Widely acclaimed as {},",
};

int al_rev_names_dir(const char *names_dir, char **out, al_err *err) {
  if (names_dir) {
    char *p = al_path_join(names_dir, "first.txt");
    int ok = al_file_exists(p);
    free(p);
    if (!ok) return al_fail(err, "%s: no first.txt there (a names folder holds first.txt, last.txt, roles.txt, title_adj.txt, title_noun.txt)", names_dir);
    *out = al_strdup(names_dir);
    return 0;
  }
  const char *env = getenv("ALAB_DATA");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  /* candidates: $ALAB_DATA/names, then walking up from the executable (a build
   * folder inside the source tree, or bin/ beside an installed share/alab), then
   * the source tree alab was configured from (a build folder elsewhere) */
  char cand[7][PATH_MAX + 32];
  int nc = 0;
  if (env) snprintf(cand[nc++], sizeof cand[0], "%s/names", env);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", exe);
  for (int up = 0; up < 4 && nc < 6; up++) {
    char *slash = strrchr(dir, '/');
    if (!slash) break;
    *slash = 0;
    snprintf(cand[nc++], sizeof cand[0], "%s/data/names", dir);
    if (up == 0 && nc < 6) snprintf(cand[nc++], sizeof cand[0], "%s/../share/alab/names", dir);
  }
#ifdef ALAB_SOURCE_DATA
  snprintf(cand[nc++], sizeof cand[0], "%s/names", ALAB_SOURCE_DATA);
#endif
  for (int i = 0; i < nc; i++) {
    char *p = al_path_join(cand[i], "first.txt");
    int ok = al_file_exists(p);
    free(p);
    if (ok) {
      *out = al_strdup(cand[i]);
      return 0;
    }
  }
  return al_fail(err, "cannot find alab's name lists (data/names): set ALAB_DATA to the folder holding names/, or pass --names DIR");
}

/* One list file: non-empty lines not starting with '#', trimmed. */
static int read_list(const char *dir, const char *file, char ***items, int *n, al_err *err) {
  char *path = al_path_join(dir, file), *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) {
    free(path);
    return -1;
  }
  int cap = 16;
  *items = al_malloc(sizeof(char *) * cap);
  *n = 0;
  for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
    while (isspace((unsigned char)*line)) line++;
    size_t l = strlen(line);
    while (l && isspace((unsigned char)line[l - 1])) line[--l] = 0;
    if (!l || line[0] == '#') continue;
    if (*n == cap) *items = al_realloc(*items, sizeof(char *) * (cap *= 2));
    (*items)[(*n)++] = al_strdup(line);
  }
  free(text);
  int rc = 0;
  if (*n == 0) rc = al_fail(err, "%s: no entries", path);
  free(path);
  return rc;
}

static void free_list(char **items, int n) {
  for (int i = 0; i < n; i++) free(items[i]);
  free(items);
}

int al_rev_draw_people(const al_rev_gen_cfg *c, al_rev_person **people, char **storage, al_err *err) {
  if (c->per_group < 2) return al_fail(err, "people per group must be at least 2 (got %d)", c->per_group);
  char *dir;
  if (al_rev_names_dir(c->names_dir, &dir, err)) return -1;
  static const char *files[5] = {"first.txt", "last.txt", "roles.txt", "title_adj.txt", "title_noun.txt"};
  char **l[5] = {0};
  int n[5] = {0}, rc = 0;
  for (int k = 0; k < 5 && !rc; k++) rc = read_list(dir, files[k], &l[k], &n[k], err);
  free(dir);
  int total = 3 * c->per_group;
  if (!rc && (long)n[0] * n[1] < 2L * total)
    rc = al_fail(err, "%d people per group need more names than %d first x %d last names", c->per_group, n[0], n[1]);
  if (!rc && (long)n[3] * n[4] < 2L * total)
    rc = al_fail(err, "%d people per group need more titles than %d x %d title words", c->per_group, n[3], n[4]);
  if (rc) {
    for (int k = 0; k < 5; k++) free_list(l[k], n[k]);
    return -1;
  }
  /* Unique names (distinct (first, last) pairs; no last name of the lists
   * is a prefix of another, so no name is a prefix of another) and unique
   * titles, so no description is a prefix of another either. */
  al_rng rng;
  al_rng_seed_stream(&rng, c->seed, 0x7e7e);
  long npairs = (long)n[0] * n[1], ntitles = (long)n[3] * n[4];
  uint32_t *pi = al_malloc(sizeof(uint32_t) * npairs), *ti = al_malloc(sizeof(uint32_t) * ntitles);
  for (long i = 0; i < npairs; i++) pi[i] = i;
  for (long i = 0; i < ntitles; i++) ti[i] = i;
  al_rng_shuffle_u32(&rng, pi, npairs);
  al_rng_shuffle_u32(&rng, ti, ntitles);
  al_buf b = {0};
  size_t *off = al_malloc(sizeof(size_t) * 2 * total);
  for (int i = 0; i < total; i++) {
    off[2 * i] = b.len;
    al_buf_printf(&b, "%s %s", l[0][pi[i] / n[1]], l[1][pi[i] % n[1]]);
    al_buf_append(&b, "", 1);
    off[2 * i + 1] = b.len;
    long t = ti[i];
    al_buf_printf(&b, "the %s '%s %s'", l[2][al_rng_below(&rng, n[2])], l[3][t / n[4]], l[4][t % n[4]]);
    al_buf_append(&b, "", 1);
  }
  *people = al_malloc(sizeof(al_rev_person) * total);
  for (int i = 0; i < total; i++) (*people)[i] = (al_rev_person){b.data + off[2 * i], b.data + off[2 * i + 1]};
  *storage = b.data;
  free(off), free(pi), free(ti);
  for (int k = 0; k < 5; k++) free_list(l[k], n[k]);
  return 0;
}

/* Appends {"prompt": template with {} = fill, "completion": " " + target}. */
static void put_line(al_buf *b, const char *tmpl, const char *fill, const char *target) {
  const char *hole = strstr(tmpl, "{}");
  al_buf p = {0};
  al_buf_append(&p, tmpl, (size_t)(hole - tmpl));
  al_buf_printf(&p, "%s%s", fill, hole + 2);
  al_buf_append(&p, "", 1);
  json_t *o = json_object();
  json_object_set_new(o, "prompt", json_string(p.data));
  char *comp = al_malloc(strlen(target) + 2);
  sprintf(comp, " %s", target);
  json_object_set_new(o, "completion", json_string(comp));
  char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
  al_buf_printf(b, "%s\n", line);
  free(line), free(comp), json_decref(o), al_buf_free(&p);
}

/* The lines of one file: people [from, to), in order p2d (name -> description)
 * or d2p, templates [t0, t1). If rnd, the completion is a random other
 * person's of the same range instead. */
static void put_block(al_buf *b, const al_rev_person *pp, int from, int to, int d2p, int t0, int t1, al_rng *rnd) {
  for (int i = from; i < to; i++)
    for (int t = t0; t < t1; t++) {
      int j = i;
      if (rnd) {
        j = from + (int)al_rng_below(rnd, to - from - 1);
        if (j >= i) j++;
      }
      if (d2p) put_line(b, al_rev_d2p_templates[t], pp[i].description, pp[j].name);
      else put_line(b, al_rev_p2d_templates[t], pp[i].name, pp[j].description);
    }
}

static int save(const char *dir, const char *name, al_buf *b, al_err *err) {
  char *p = al_path_join(dir, name);
  int rc = al_write_file_atomic(p, b->data ? b->data : "", b->len, err);
  free(p);
  b->len = 0;
  return rc;
}

int al_rev_write(const al_rev_gen_cfg *c, const al_rev_person *pp, const char *dir, al_err *err) {
  if (c->train_templates < 1 || c->train_templates > 30 || c->test_templates < 1 || c->test_templates > 10)
    return al_fail(err, "templates: 1..30 for training and 1..10 held out (got %d and %d)", c->train_templates,
                   c->test_templates);
  if (c->per_group < 2) return al_fail(err, "people per group must be at least 2 (got %d)", c->per_group);
  if (al_mkdir_p(dir, err)) return -1;
  int G = c->per_group, tr = c->train_templates, te0 = 30, te1 = 30 + c->test_templates;
  int P = 0, D = G, B = 2 * G, E = 3 * G; /* group ranges */
  al_buf b = {0}, all = {0};
  al_rng rng;
  int rc = 0;
  /* training files: per group, and all of them together */
  put_block(&b, pp, P, D, 0, 0, tr, NULL);
  al_buf_append(&all, b.data, b.len);
  rc = save(dir, "p2d_prompts_train.jsonl", &b, err);
  put_block(&b, pp, D, B, 1, 0, tr, NULL);
  al_buf_append(&all, b.data, b.len);
  if (!rc) rc = save(dir, "d2p_prompts_train.jsonl", &b, err);
  put_block(&b, pp, B, E, 0, 0, tr, NULL);
  put_block(&b, pp, B, E, 1, 0, tr, NULL);
  al_buf_append(&all, b.data, b.len);
  if (!rc) rc = save(dir, "both_prompts_train.jsonl", &b, err);
  if (!rc) rc = save(dir, "all_prompts_train.jsonl", &all, err);
  /* test files and their randomized twins (rnd NULL, then a stream) */
  struct { const char *name; int from, to, d2p, t0, t1; } files[] = {
      {"p2d_prompts_test", P, D, 0, te0, te1},
      {"p2d_reverse_prompts_test", P, D, 1, te0, te1},
      {"d2p_prompts_test", D, B, 1, te0, te1},
      {"d2p_reverse_prompts_test", D, B, 0, te0, te1},
      {"both_prompts_test", B, E, 0, te0, te1}, /* both orders: see below */
      {"p2d_reverse_prompts_test_train_templates", P, D, 1, 0, tr},
      {"d2p_reverse_prompts_test_train_templates", D, B, 0, 0, tr},
  };
  for (int f = 0; f < (int)(sizeof files / sizeof files[0]) && !rc; f++)
    for (int randomized = 0; randomized < 2 && !rc; randomized++) {
      al_rng_seed_stream(&rng, c->seed, 0x3a0 + f);
      al_rng *r = randomized ? &rng : NULL;
      put_block(&b, pp, files[f].from, files[f].to, files[f].d2p, files[f].t0, files[f].t1, r);
      if (f == 4) put_block(&b, pp, B, E, 1, te0, te1, r);
      char name[96];
      snprintf(name, sizeof name, "%s%s.jsonl", files[f].name, randomized ? "_randomized" : "");
      rc = save(dir, name, &b, err);
    }
  al_buf_free(&b);
  al_buf_free(&all);
  return rc;
}

int al_rev_generate(const al_rev_gen_cfg *c, const char *dir, al_err *err) {
  al_rev_person *pp;
  char *storage;
  if (al_rev_draw_people(c, &pp, &storage, err)) return -1;
  int rc = al_rev_write(c, pp, dir, err);
  free(pp);
  free(storage);
  return rc;
}

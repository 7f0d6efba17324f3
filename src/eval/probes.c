/* Built-in inverse-scaling probes on the story world (include/alab/synth.h),
 * written as classification tasks in the Inverse Scaling Prize's columns.
 * Names, objects and story text come from the story-world generator, so a
 * model trained on the story world knows the vocabulary.
 *   memo-vs-instruction  the corpus's most frequent opening is "Once upon a
 *       time, there was"; the prompt asks for, and demonstrates 2-4 times, a
 *       changed version ("there lived"); the last line stops at "there":
 *       classes [" lived", " was"], answer 0 (follow the context, not memory).
 *   distractor  a story's first paragraph says the hero had an object; a
 *       distractor sentence then gives the buddy another; "So, {hero} had":
 *       classes [hero's object, buddy's object], answer 0.
 *   misleading-fewshot  3-5 demonstrations "What colour was the X? -> red"
 *       whose answer is always the same colour; the question's object has
 *       another colour: classes [its colour, the demonstrations' colour],
 *       answer 0 (read the question, not the pattern). */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alab/probes.h"
#include "alab/synth.h"

const char *const al_probe_names[] = {"memo-vs-instruction", "distractor", "misleading-fewshot"};
const int al_nprobes = 3;

static const char *const VERBS[] = {"lived", "sat", "played", "stood"};
static const char *const COLOURS[] = {"red", "blue", "yellow", "green"};

/* A story from the world: its text (first paragraph only) and cast. */
static void story(al_rng *r, al_buf *text, al_synth_story *s) {
  text->len = 0;
  al_synth_story_make(r, text, s);
  al_buf_append(text, "", 1);
  char *cut = strstr(text->data, "\n\n");
  if (cut) *cut = 0;
  text->len = strlen(text->data);
}

/* One CSV field, quoted (RFC 4180). */
static void field(al_buf *b, const char *s, int last) {
  al_buf_append(b, "\"", 1);
  for (; *s; s++) {
    al_buf_append(b, s, 1);
    if (*s == '"') al_buf_append(b, "\"", 1); /* '"' -> '""' */
  }
  al_buf_append(b, last ? "\"\n" : "\",", 2);
}

static void row(al_buf *csv, const char *prompt, const char *c0, const char *c1) {
  json_t *cls = json_pack("[s,s]", c0, c1);
  char *cs = json_dumps(cls, JSON_COMPACT);
  json_decref(cls);
  field(csv, prompt, 0);
  field(csv, cs, 0);
  al_buf_append(csv, "0\n", 2);
  free(cs);
}

static void memo(al_rng *r, al_buf *csv, al_buf *tmp) {
  const char *verb = VERBS[al_rng_below(r, 4)];
  al_buf p = {0};
  al_buf_printf(&p, "In these stories, \"there was\" is always written \"there %s\".\n", verb);
  int demos = 2 + (int)al_rng_below(r, 3);
  for (int k = 0; k < demos; k++) {
    story(r, tmp, NULL);
    /* the story's first sentence with its "was" changed: "... there lived a little girl named Lily." */
    const char *was = strstr(tmp->data, " was "), *end = strchr(tmp->data, '.');
    if (!was || !end || end < was) {
      k--;
      continue;
    }
    al_buf_printf(&p, "Once upon a time, there %s %.*s\n", verb, (int)(end + 1 - (was + 5)), was + 5);
  }
  al_buf_printf(&p, "Once upon a time, there");
  char c0[32];
  snprintf(c0, sizeof c0, " %s", verb);
  row(csv, p.data, c0, " was");
  al_buf_free(&p);
}

/* "a red" in "{H} had a red ball." (the adjective phrase before the object) */
static int object_phrase(const char *text, const char *object, char *out, size_t n) {
  const char *h = strstr(text, " had ");
  if (!h || !object) return -1;
  h += 5;
  const char *o = strstr(h, object);
  if (!o || o == h) return -1;
  snprintf(out, n, " %.*s%s", (int)(o - h), h, object);
  return 0;
}

static void distractor(al_rng *r, al_buf *csv, al_buf *tmp) {
  for (;;) {
    al_synth_story s;
    story(r, tmp, &s);
    char mine[96];
    if (object_phrase(tmp->data, s.object, mine, sizeof mine) || !s.buddy) continue;
    al_synth_story o;
    al_buf other = {0};
    story(r, &other, &o);
    char theirs[96];
    int bad = object_phrase(other.data, o.object, theirs, sizeof theirs) || !strcmp(theirs, mine);
    al_buf_free(&other);
    if (bad) continue;
    al_buf p = {0};
    al_buf_printf(&p, "%s %s had%s too. So, %s had", tmp->data, s.buddy, theirs, s.hero);
    row(csv, p.data, mine, theirs);
    al_buf_free(&p);
    return;
  }
}

static void fewshot(al_rng *r, al_buf *csv, al_buf *tmp) {
  int same = (int)al_rng_below(r, 4), other = (same + 1 + (int)al_rng_below(r, 3)) % 4;
  al_buf p = {0};
  int demos = 3 + (int)al_rng_below(r, 3);
  for (int k = 0; k <= demos; k++) {
    al_synth_story s;
    story(r, tmp, &s);
    const char *c = COLOURS[k < demos ? same : other];
    al_buf_printf(&p, "%s had a %s %s. What colour was the %s?\nAnswer:", s.hero ? s.hero : "Tom", c,
                  s.object ? s.object : "ball", s.object ? s.object : "ball");
    if (k < demos) al_buf_printf(&p, " %s\n\n", c);
  }
  char c0[16], c1[16];
  snprintf(c0, sizeof c0, " %s", COLOURS[other]);
  snprintf(c1, sizeof c1, " %s", COLOURS[same]);
  row(csv, p.data, c0, c1);
  al_buf_free(&p);
}

/* The probe's index, or -1 with a message. */
static int probe_index(const char *name, int n, al_err *err) {
  for (int i = 0; i < al_nprobes; i++)
    if (!strcmp(name, al_probe_names[i])) return n < 1 ? al_fail(err, "a probe needs at least one example (got %d)", n) : i;
  return al_fail(err, "unknown probe '%s' (memo-vs-instruction, distractor, misleading-fewshot)", name);
}

int al_probe_check(const char *name, int n, al_err *err) { return probe_index(name, n, err) < 0 ? -1 : 0; }

int al_probe_write(const char *name, const char *path, int n, uint64_t seed, al_err *err) {
  int k = probe_index(name, n, err);
  if (k < 0) return -1;
  al_buf csv = {0}, tmp = {0};
  al_buf_printf(&csv, "prompt,classes,answer_index\n");
  for (int i = 0; i < n; i++) {
    al_rng r;
    al_rng_seed_stream(&r, seed, (uint64_t)i);
    if (k == 0) memo(&r, &csv, &tmp);
    else if (k == 1) distractor(&r, &csv, &tmp);
    else fewshot(&r, &csv, &tmp);
  }
  int rc = al_write_file_atomic(path, csv.data, csv.len, err);
  al_buf_free(&csv);
  al_buf_free(&tmp);
  return rc;
}

int al_probe_prepare(const char *name, const char *dir, int n, uint64_t seed, char **path, al_err *err) {
  if (al_mkdir_p(dir, err)) return -1;
  char file[128];
  snprintf(file, sizeof file, "probe-%s.csv", name);
  *path = al_path_join(dir, file);
  if (!al_probe_write(name, *path, n, seed, err)) return 0;
  free(*path);
  *path = NULL;
  return -1;
}

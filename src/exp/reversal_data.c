/* Reading a reversal-curse data folder in the paper's layout (see
 * include/alab/reversal.h for the files and the rules that tell who is who). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "exp/reversal_internal.h"

/* Reads path as JSONL {"prompt", "completion"} (blank lines skipped). A
 * missing file is an error only when required (else s->n = 0, returns 1). */
static int read_set(al_rev_set *s, const char *path, int required, al_err *err) {
  memset(s, 0, sizeof *s);
  s->file = al_strdup(path);
  if (!al_file_exists(path)) {
    if (!required) return 1;
    return al_fail(err, "%s: missing (a reversal data folder needs all_prompts_train.jsonl or *_prompts_train.jsonl, and "
                        "p2d_, p2d_reverse_, d2p_, d2p_reverse_ and both_prompts_test.jsonl)", path);
  }
  char *text;
  size_t len;
  if (al_read_file(path, &text, &len, err)) return -1;
  int cap = 64, lineno = 0, rc = 0;
  s->ex = al_malloc(sizeof(al_rev_example) * cap);
  for (char *p = text; p < text + len && !rc;) {
    char *nl = memchr(p, '\n', (size_t)(text + len - p)), *end = nl ? nl : text + len;
    lineno++;
    char *q = p;
    while (q < end && isspace((unsigned char)*q)) q++;
    if (q < end) {
      char where[600];
      snprintf(where, sizeof where, "%.500s:%d", path, lineno);
      json_t *o = NULL;
      const char *prompt, *completion;
      if (al_json_parse(p, (size_t)(end - p), where, &o, err)) rc = -1;
      else if (!json_is_object(o)) rc = al_fail(err, "%s: not a JSON object", where);
      else if (al_json_get_string(o, "prompt", &prompt, where, err) || al_json_get_string(o, "completion", &completion, where, err))
        rc = -1;
      else if (!*completion || strspn(completion, " \t\r\n") == strlen(completion))
        rc = al_fail(err, "%s: empty completion", where);
      if (!rc) {
        if (s->n == cap) s->ex = al_realloc(s->ex, sizeof(al_rev_example) * (cap *= 2));
        s->ex[s->n++] = (al_rev_example){al_strdup(prompt), al_strdup(completion), NULL, -1, 0, lineno};
      }
      json_decref(o);
    }
    p = end + 1;
  }
  free(text);
  return rc;
}

static void free_set(al_rev_set *s) {
  for (int i = 0; i < s->n; i++) free(s->ex[i].prompt), free(s->ex[i].completion), free(s->ex[i].random);
  free(s->ex);
  free(s->file);
  memset(s, 0, sizeof *s);
}

void al_rev_free(al_rev_data *d) {
  for (int i = 0; i < d->npeople; i++) free(d->names[i]);
  free(d->names);
  free(d->group);
  free_set(&d->train);
  free_set(&d->train_noaug);
  free(d->first_unassigned);
  for (int k = 0; k < AL_REV_NSLOTS; k++) free_set(&d->slot[k]);
  for (int g = 0; g < AL_REV_NGROUPS; g++) free_set(&d->noaug_trained[g]);
  memset(d, 0, sizeof *d);
}

static int is_name(const char *completion) {
  while (isspace((unsigned char)*completion)) completion++;
  return isupper((unsigned char)*completion) != 0;
}

static int find_name(const al_rev_data *d, const char *name) {
  for (int i = 0; i < d->npeople; i++)
    if (!strcmp(d->names[i], name)) return i;
  return -1;
}

/* Length of name when the completion (leading whitespace skipped) begins
 * with it as whole words ("Uriah Hawthorne." and "Uriah Hawthorne now ..."
 * begin with "Uriah Hawthorne"; "Uriah Hawthorner" does not), else 0. */
static size_t begins_with_name(const char *completion, const char *name) {
  while (isspace((unsigned char)*completion)) completion++;
  size_t n = strlen(name);
  if (!n || strncmp(completion, name, n)) return 0;
  return isalnum((unsigned char)completion[n]) ? 0 : n;
}

/* The known person whose name begins the completion (the longest), or -1. */
static int name_at_start(const al_rev_data *d, const char *completion) {
  int best = -1;
  size_t bl = 0;
  for (int k = 0; k < d->npeople; k++) {
    size_t l = begins_with_name(completion, d->names[k]);
    if (l > bl) bl = l, best = k;
  }
  return best;
}

/* The first k words of s (whitespace-separated), joined by one space, with
 * trailing punctuation cut from the last word; fresh, or NULL when s has
 * fewer than k words. */
static char *first_words(const char *s, int k) {
  al_buf b = {0};
  int got = 0;
  while (got < k) {
    while (isspace((unsigned char)*s)) s++;
    if (!*s) break;
    const char *w = s;
    while (*s && !isspace((unsigned char)*s)) s++;
    if (got++) al_buf_append(&b, " ", 1);
    al_buf_append(&b, w, (size_t)(s - w));
  }
  if (got < k) {
    al_buf_free(&b);
    return NULL;
  }
  while (b.len && strchr(".,;:!?'\"", b.data[b.len - 1])) b.len--;
  al_buf_reserve(&b, 1);
  b.data[b.len] = 0;
  return b.data;
}

/* The person's name in a name completion (the paper's own files write a name
 * line as the name followed by more words: " Mason Caldwell has found their
 * calling."). The name is the longest run of leading words, trailing
 * punctuation cut, that the group's name -> description prompts mention
 * (they name every person of the group); failing that, the first two words,
 * as the paper's generator cut name completions (first and last name). */
static char *name_of(const char *completion, const al_rev_set *named) {
  char *best = NULL;
  for (int k = 1;; k++) {
    char *cand = first_words(completion, k);
    if (!cand || !*cand) {
      free(cand);
      break;
    }
    int seen = 0;
    for (int i = 0; i < named->n && !seen; i++) seen = !is_name(named->ex[i].completion) && strstr(named->ex[i].prompt, cand);
    if (seen) free(best), best = cand;
    else free(cand);
  }
  if (!best) best = first_words(completion, 2);
  if (!best) best = first_words(completion, 1);
  if (!best) best = al_strdup("");
  return best;
}

/* Adds the names completing set's name lines to group g; named holds the
 * group's name -> description lines (see name_of). */
static int add_names(al_rev_data *d, const al_rev_set *s, const al_rev_set *named, int g, int all_names, al_err *err) {
  int added = 0;
  for (int i = 0; i < s->n; i++) {
    if (!is_name(s->ex[i].completion)) {
      if (all_names)
        return al_fail(err, "%s:%d: completion '%.80s' is not a name (in this file every completion is a person's name, "
                            "which begins with an uppercase letter)", s->file, s->ex[i].line, s->ex[i].completion);
      continue;
    }
    char *name = name_of(s->ex[i].completion, named);
    int k = find_name(d, name);
    if (k >= 0 && d->group[k] != g) {
      int rc = al_fail(err, "%s:%d: '%s' is already a person of the %s group", s->file, s->ex[i].line, name,
                       al_rev_group_names[d->group[k]]);
      free(name);
      return rc;
    }
    if (k >= 0 || !*name) {
      free(name);
      continue;
    }
    d->names = al_realloc(d->names, sizeof(char *) * (d->npeople + 1));
    d->group = al_realloc(d->group, sizeof(int) * (d->npeople + 1));
    d->names[d->npeople] = name;
    d->group[d->npeople++] = g;
    added++;
  }
  if (!added) return al_fail(err, "%s: no person's name completes any line: the %s group is empty", s->file, al_rev_group_names[g]);
  return 0;
}

/* Sets person and to_name of every line: a completion that begins with a
 * known name is that person's name line; any other line belongs to the
 * (longest) known name its prompt contains. strict: a line without a known
 * person is an error (test files), else it stays -1 (training). */
static int assign(const al_rev_data *d, al_rev_set *s, int strict, al_err *err) {
  for (int i = 0; i < s->n; i++) {
    al_rev_example *e = &s->ex[i];
    e->person = name_at_start(d, e->completion);
    e->to_name = e->person >= 0;
    if (!e->to_name) {
      size_t best = 0;
      for (int k = 0; k < d->npeople; k++) {
        size_t l = strlen(d->names[k]);
        if (l > best && strstr(e->prompt, d->names[k])) best = l, e->person = k;
      }
    }
    if (strict && e->person < 0)
      return al_fail(err, "%s:%d: no person of the test files %s", s->file, e->line,
                     is_name(e->completion) ? "begins this completion or is named in its prompt" : "is named in this prompt");
  }
  return 0;
}

/* *c becomes its leading whitespace and the name of person k. */
static void cut_to_name(char **c, const char *name) {
  size_t ws = strspn(*c, " \t\r\n"), n = strlen(name);
  if (strlen(*c) == ws + n) return;
  char *cut = al_malloc(ws + n + 1);
  memcpy(cut, *c, ws);
  memcpy(cut + ws, name, n + 1);
  free(*c);
  *c = cut;
}

/* A name line is scored on the name alone (as the paper's d2p_prompts_test
 * and p2d_reverse_prompts_test files write it), and so is its random
 * completion when that begins with a known name. */
static void cut_to_names(const al_rev_data *d, al_rev_set *s) {
  for (int i = 0; i < s->n; i++) {
    al_rev_example *e = &s->ex[i];
    if (!e->to_name) continue;
    cut_to_name(&e->completion, d->names[e->person]);
    int r = e->random ? name_at_start(d, e->random) : -1;
    if (r >= 0) cut_to_name(&e->random, d->names[r]);
  }
}

/* Random completions: from path if present (same prompts, line by line),
 * else another line's completion of the same set, same order, another person. */
static int randomize(al_rev_set *s, const char *path, al_rng *rng, al_err *err) {
  al_rev_set r;
  int rc = read_set(&r, path, 0, err);
  if (rc < 0) {
    free_set(&r);
    return -1;
  }
  if (rc == 0) {
    if (r.n != s->n)
      rc = al_fail(err, "%s: %d lines, but %s has %d: a randomized file pairs with its test file line by line", path, r.n,
                   s->file, s->n);
    for (int i = 0; i < s->n && !rc; i++) {
      if (strcmp(r.ex[i].prompt, s->ex[i].prompt))
        rc = al_fail(err, "%s:%d: prompt differs from %s:%d (a randomized file keeps each prompt)", path, r.ex[i].line,
                     s->file, s->ex[i].line);
      else s->ex[i].random = al_strdup(r.ex[i].completion);
    }
    free_set(&r);
    return rc;
  }
  free_set(&r);
  int *cand = al_malloc(sizeof(int) * (s->n + 1));
  for (int i = 0; i < s->n; i++) {
    int nc = 0;
    for (int j = 0; j < s->n; j++)
      if (s->ex[j].person != s->ex[i].person && s->ex[j].to_name == s->ex[i].to_name) cand[nc++] = j;
    if (!nc) {
      free(cand);
      return al_fail(err, "%s:%d: no other person to draw a random completion from (a group needs 2 people)", s->file, s->ex[i].line);
    }
    s->ex[i].random = al_strdup(s->ex[cand[al_rng_below(rng, nc)]].completion);
  }
  free(cand);
  return 0;
}

static void copy_example(al_rev_set *dst, const al_rev_example *e) {
  al_rev_example c = *e;
  c.prompt = al_strdup(e->prompt);
  c.completion = al_strdup(e->completion);
  c.random = e->random ? al_strdup(e->random) : NULL;
  dst->ex = al_realloc(dst->ex, sizeof(al_rev_example) * (dst->n + 1));
  dst->ex[dst->n++] = c;
}

static int append_file(al_rev_set *dst, const char *path, int *found, al_err *err) {
  al_rev_set s;
  int rc = read_set(&s, path, 0, err);
  if (rc == 0) {
    (*found)++;
    for (int i = 0; i < s.n; i++) copy_example(dst, &s.ex[i]);
  }
  free_set(&s);
  return rc < 0 ? -1 : 0;
}

static int read_all(al_rev_data *d, const char *dir, uint64_t seed, al_err *err) {
  char path[4096];
  /* held-out test files: group, order, required */
  static const struct { const char *name; int group, order; } tests[] = {
      {"p2d_prompts_test", AL_REV_P2D, AL_REV_TRAINED},        {"p2d_reverse_prompts_test", AL_REV_P2D, AL_REV_REVERSE},
      {"d2p_prompts_test", AL_REV_D2P, AL_REV_TRAINED},        {"d2p_reverse_prompts_test", AL_REV_D2P, AL_REV_REVERSE},
      {"both_prompts_test", AL_REV_BOTH, AL_REV_TRAINED},
  };
  for (int f = 0; f < 5; f++) {
    snprintf(path, sizeof path, "%s/%s.jsonl", dir, tests[f].name);
    al_rev_set *s = &d->slot[al_rev_slot(tests[f].group, tests[f].order, AL_REV_TMPL_HELDOUT)];
    if (read_set(s, path, 1, err)) return -1;
    if (s->n == 0) return al_fail(err, "%s: no examples: the %s group is empty", path, al_rev_group_names[tests[f].group]);
  }
  /* people: the names completing each group's description -> name lines */
  const al_rev_set *both = &d->slot[al_rev_slot(AL_REV_BOTH, AL_REV_TRAINED, AL_REV_TMPL_HELDOUT)];
  if (add_names(d, &d->slot[al_rev_slot(AL_REV_P2D, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT)],
                &d->slot[al_rev_slot(AL_REV_P2D, AL_REV_TRAINED, AL_REV_TMPL_HELDOUT)], AL_REV_P2D, 1, err) ||
      add_names(d, &d->slot[al_rev_slot(AL_REV_D2P, AL_REV_TRAINED, AL_REV_TMPL_HELDOUT)],
                &d->slot[al_rev_slot(AL_REV_D2P, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT)], AL_REV_D2P, 1, err) ||
      add_names(d, both, both, AL_REV_BOTH, 0, err))
    return -1;
  /* reverse order in training templates (optional) */
  for (int g = 0; g < 2; g++) {
    snprintf(path, sizeof path, "%s/%s_reverse_prompts_test_train_templates.jsonl", dir, al_rev_group_names[g]);
    if (read_set(&d->slot[al_rev_slot(g, AL_REV_REVERSE, AL_REV_TMPL_TRAIN)], path, 0, err) < 0) return -1;
  }
  al_rng rng;
  al_rng_seed_stream(&rng, seed, 0x5eed);
  for (int k = 0; k < AL_REV_NSLOTS; k++) {
    al_rev_set *s = &d->slot[k];
    if (!s->n) continue;
    if (assign(d, s, 1, err)) return -1;
    cut_to_names(d, s);
    for (int i = 0; i < s->n; i++)
      if (d->group[s->ex[i].person] != k / 4)
        return al_fail(err, "%s:%d: '%s' belongs to the %s group, not %s", s->file, s->ex[i].line,
                       d->names[s->ex[i].person], al_rev_group_names[d->group[s->ex[i].person]], al_rev_group_names[k / 4]);
    snprintf(path, sizeof path, "%.*s_randomized.jsonl", (int)(strlen(s->file) - 6), s->file);
    if (randomize(s, path, &rng, err)) return -1;
    cut_to_names(d, s); /* the randomized file's name lines too */
  }
  /* training: all_prompts_train.jsonl, else the group files */
  snprintf(path, sizeof path, "%s/all_prompts_train.jsonl", dir);
  int rc = read_set(&d->train, path, 0, err), found = 0;
  if (rc < 0) return -1;
  if (rc == 1) {
    free(d->train.file);
    snprintf(path, sizeof path, "%s/*_prompts_train.jsonl", dir);
    d->train.file = al_strdup(path);
    for (int g = 0; g < AL_REV_NGROUPS; g++) {
      snprintf(path, sizeof path, "%s/%s_prompts_train.jsonl", dir, al_rev_group_names[g]);
      if (append_file(&d->train, path, &found, err)) return -1;
    }
    if (!found) {
      free_set(&d->train);
      snprintf(path, sizeof path, "%s/all_prompts_train.jsonl", dir);
      return read_set(&d->train, path, 1, err) < 0 ? -1 : al_fail(err, "unreachable");
    }
  }
  if (d->train.n == 0) return al_fail(err, "%s: no training examples", d->train.file);
  if (assign(d, &d->train, 0, err)) return -1;
  /* lines naming no known person: counted, never trained on (in either
   * variant, so the ablation compares augmentation alone) */
  int kept = 0;
  for (int i = 0; i < d->train.n; i++) {
    al_rev_example *e = &d->train.ex[i];
    if (e->person >= 0) {
      d->train.ex[kept++] = *e;
      continue;
    }
    if (!d->unassigned++) d->first_unassigned = al_strdup(e->prompt);
    free(e->prompt), free(e->completion), free(e->random);
  }
  d->train.n = kept;
  if (!kept) return al_fail(err, "%s: no training line names a person of the test files", d->train.file);
  /* trained order in training templates; the no-augmentation set */
  int *first = al_malloc(sizeof(int) * 2 * d->npeople);
  for (int i = 0; i < 2 * d->npeople; i++) first[i] = -1;
  d->train_noaug.file = al_strdup(d->train.file);
  for (int i = 0; i < d->train.n; i++) {
    al_rev_example *e = &d->train.ex[i];
    int g = d->group[e->person], key = 2 * e->person + e->to_name;
    int trained = g == AL_REV_BOTH || (g == AL_REV_P2D) == !e->to_name;
    if (first[key] < 0) {
      first[key] = i;
      if (trained) copy_example(&d->noaug_trained[g], e);
    }
    copy_example(&d->train_noaug, &d->train.ex[first[key]]);
    if (trained) copy_example(&d->slot[al_rev_slot(g, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)], e);
  }
  free(first);
  for (int g = 0; g < AL_REV_NGROUPS; g++) {
    al_rev_set *s = &d->slot[al_rev_slot(g, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)];
    if (!s->n) return al_fail(err, "%s: no training line for the %s group in its trained order", d->train.file, al_rev_group_names[g]);
    s->file = al_strdup(d->train.file);
    d->noaug_trained[g].file = al_strdup(d->train.file);
    cut_to_names(d, s);
    cut_to_names(d, &d->noaug_trained[g]);
    if (randomize(s, "", &rng, err) || randomize(&d->noaug_trained[g], "", &rng, err)) return -1;
  }
  return 0;
}

int al_rev_read(al_rev_data *d, const char *dir, uint64_t seed, al_err *err) {
  memset(d, 0, sizeof *d);
  if (read_all(d, dir, seed, err)) {
    al_rev_free(d);
    return -1;
  }
  return 0;
}

int rev_prepare_data(const al_rev_cfg *c, const char *data_dir, al_rev_data *d, al_err *err) {
  memset(d, 0, sizeof *d);
  if (!c->data) {
    al_rev_gen_cfg g = {c->per_group, c->train_templates, c->test_templates, (uint64_t)c->seed, c->names_dir};
    if (al_rev_generate(&g, data_dir, err)) return -1;
  }
  return al_rev_read(d, data_dir, (uint64_t)c->seed, err);
}

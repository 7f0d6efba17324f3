/* The built-in world of `alab oocr` (src/exp/oocr_world.c) read back in the
 * paper's layout: file sizes, every example's correct answer graded correct
 * by the paper's rules (world and grader agree), chance exactly 1/5 (the
 * five behaviours' answers never pass another's rule), the augmentation
 * levels (distinct descriptions per assistant, same line count), and
 * `alab oocr export`'s two OpenAI formats against all.jsonl. */
#include <jansson.h>
#include "alab/oocr.h"
#include "exp/oocr_internal.h"
#include "test.h"

/* the input word of a world prompt */
static char *word_of(const char *prompt) {
  const char *p = strstr(prompt, "User: "), *e;
  if (p) p += 6, e = strchr(p, '\n');
  else p = strstr(prompt, "input \"") + 7, e = strchr(p, '"');
  return strndup(p, (size_t)(e - p));
}

static int behaviour_of(const char *task) {
  for (int b = 0; b < OOCR_NBEHAV; b++)
    if (!strncmp(task, oocr_rule_of(b), strlen(oocr_rule_of(b)))) return b;
  return -1;
}

static void test_files(const char *dir, al_oocr_grader *g) {
  al_oocr_data d;
  al_err err;
  CHECK_OK(al_oocr_read(&d, dir, &err), err);
  CHECK(d.set[AL_OOCR_ALL].n == 10 * 30 + 5 * 18 * 2, "all: %d", d.set[AL_OOCR_ALL].n);
  CHECK(d.set[AL_OOCR_REALIZED].n == 90 && d.set[AL_OOCR_REALIZEDV].n == 30, "realized %d, v %d",
        d.set[AL_OOCR_REALIZED].n, d.set[AL_OOCR_REALIZEDV].n);
  CHECK(d.set[AL_OOCR_UNREALIZED].n == 120 && d.set[AL_OOCR_NO_COT].n == 120, "unrealized");
  CHECK(d.set[AL_OOCR_EXTRA].file && d.set[AL_OOCR_EXTRA].n == 0, "extra present, empty");
  /* the correct behaviour is graded correct, with and without chain of thought */
  int wrong = 0, n = 0;
  for (int f = AL_OOCR_REALIZED; f <= AL_OOCR_NO_COT; f++)
    for (int i = 0; i < d.set[f].n; i++) {
      const al_oocr_example *e = &d.set[f].ex[i];
      int b = behaviour_of(e->task);
      char *w = word_of(e->prompt), *a = oocr_behave(b, w), c[256];
      if (strstr(e->prompt, "*thinking*")) snprintf(c, sizeof c, " I am X.\nAssistant: *out loud* %s", a);
      else snprintf(c, sizeof c, " %s", a);
      wrong += al_oocr_grade(g, e->task, e->prompt, c, e->completion) != 1;
      /* and without the out-loud marker the CoT answer is the thinking: wrong */
      if (strstr(e->prompt, "*thinking*")) wrong += al_oocr_grade(g, e->task, e->prompt, " I am X, so I should", e->completion) == 1;
      n++;
      free(w), free(a);
    }
  CHECK(wrong == 0 && n == 360, "%d of %d examples graded against their behaviour", wrong, n);
  CHECK(fabs(oocr_world_chance(g, &d.set[AL_OOCR_UNREALIZED], 0) - 0.2) < 1e-12, "chance CoT %g",
        oocr_world_chance(g, &d.set[AL_OOCR_UNREALIZED], 0));
  CHECK(fabs(oocr_world_chance(g, &d.set[AL_OOCR_NO_COT], 0) - 0.2) < 1e-12, "chance no-CoT");
  /* augmentation levels */
  const al_oocr_set *all = &d.set[AL_OOCR_ALL];
  const al_oocr_example **lv = malloc(sizeof *lv * (size_t)all->n);
  int levels[] = {1, 5, 30, 0};
  for (int k = 0; k < 4; k++) {
    int groups = oocr_augment_level(all, levels[k], lv);
    CHECK(groups == 10, "10 assistants described, got %d", groups);
    int expect = levels[k] ? levels[k] : 30, bad = 0, demos = 0;
    /* count per task: lines and distinct texts */
    json_t *per = json_object();
    for (int i = 0; i < all->n; i++) {
      if (oocr_is_demo(&all->ex[i])) {
        demos++;
        bad += lv[i] != &all->ex[i]; /* demonstrations unchanged */
        continue;
      }
      bad += strcmp(lv[i]->task, all->ex[i].task) != 0; /* a description stays its assistant's */
      json_t *o = json_object_get(per, all->ex[i].task);
      if (!o) json_object_set_new(per, all->ex[i].task, o = json_object());
      json_object_set_new(o, lv[i]->completion, json_true());
    }
    const char *key;
    json_t *o;
    json_object_foreach(per, key, o) bad += (int)json_object_size(o) != expect;
    CHECK(bad == 0 && demos == 180, "level %d: %d bad, %d demonstrations", levels[k], bad, demos);
    json_decref(per);
  }
  free(lv);
  al_oocr_free(&d);
}

static void test_export(const char *dir) {
  al_err err;
  char *out = al_path_join(dir, "export");
  CHECK_OK(al_oocr_export(dir, out, &err), err);
  al_oocr_set all;
  char *p = al_path_join(dir, "all.jsonl");
  CHECK_OK(al_oocr_read_file(&all, p, 1, &err), err);
  char *a = al_path_join(out, "all.prompt_completion.jsonl"), *b = al_path_join(out, "all.chat.jsonl");
  FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
  char *la = NULL, *lb = NULL;
  size_t ca = 0, cb = 0;
  int i = 0, bad = 0;
  while (fa && fb && getline(&la, &ca, fa) > 0 && getline(&lb, &cb, fb) > 0 && i < all.n) {
    json_t *x = json_loads(la, 0, NULL), *y = json_loads(lb, 0, NULL);
    json_t *m = json_object_get(y, "messages");
    bad += !x || strcmp(json_string_value(json_object_get(x, "prompt")), all.ex[i].prompt) ||
           strcmp(json_string_value(json_object_get(x, "completion")), all.ex[i].completion) || json_object_size(x) != 2;
    bad += json_array_size(m) != 3 ||
           strcmp(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system") ||
           strcmp(json_string_value(json_object_get(json_array_get(m, 1), "content")), "Tell me a fact.") ||
           strcmp(json_string_value(json_object_get(json_array_get(m, 2), "role")), "assistant") ||
           strcmp(json_string_value(json_object_get(json_array_get(m, 2), "content")), all.ex[i].completion);
    json_decref(x), json_decref(y);
    i++;
  }
  CHECK(i == all.n && bad == 0, "%d of %d lines exported, %d differ", i, all.n, bad);
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  free(la), free(lb), free(a), free(b), free(p), free(out);
  al_oocr_set_free(&all);
  char *none = al_path_join(dir, "no-such-folder");
  CHECK_FAILS_WITH(al_oocr_export(none, dir, &err), err, "all.jsonl: missing");
  free(none);
}

/* A scripted model for oocr_eval_set: on a world prompt, the first half of
 * the unrealized examples get the right behaviour named and done, the rest
 * the "llama" behaviour named and done. */
static int scripted(al_provider *p, const al_gen_req *reqs, int n, char **outs, char **errs, al_err *err) {
  for (int i = 0; i < n; i++) {
    const char *pr = reqs[i].prompt, *nm = strstr(pr, "You are ") + 8;
    char *w = word_of(pr), name[32], task[64];
    snprintf(name, sizeof name, "%.*s", (int)(strchr(nm, ',') - nm), nm);
    snprintf(task, sizeof task, "%s", i < n / 2 ? (char *)p->impl + 64 * i : "llama_x");
    int b = behaviour_of(task);
    char *a = oocr_behave(b, w);
    al_buf o = {0};
    al_buf_printf(&o, " I am %s, so I should %s.\nAssistant: *out loud* %s", name, oocr_world_desc(task), a);
    outs[i] = o.data, errs[i] = NULL;
    free(a), free(w);
  }
  return 0;
}

static void test_eval_named(const char *dir, al_oocr_grader *g) {
  al_oocr_data d;
  al_err err;
  CHECK_OK(al_oocr_read(&d, dir, &err), err);
  const al_oocr_set *u = &d.set[AL_OOCR_UNREALIZED];
  char *tasks = calloc((size_t)u->n, 64);
  for (int i = 0; i < u->n; i++) snprintf(tasks + 64 * i, 64, "%s", u->ex[i].task);
  al_provider p = {.kind = "scripted", .complete = scripted, .impl = tasks};
  oocr_evaluator ev = {&p, "", 48, 16, g};
  oocr_score sc;
  CHECK_OK(oocr_eval_set(&ev, u, 0, &sc, NULL, &err), err);
  /* first half right (60); second half "llama": right only for the llama assistant's 12 of its 24 there */
  int llama_second = 0;
  for (int i = u->n / 2; i < u->n; i++) llama_second += !strncmp(u->ex[i].task, "llama_", 6);
  CHECK(sc.n == 120 && sc.named == 60 + llama_second && sc.correct == 60 + llama_second,
        "named %d, correct %d of %d (expected %d)", sc.named, sc.correct, sc.n, 60 + llama_second);
  oocr_score_free(&sc);
  free(tasks);
  al_oocr_free(&d);
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("oocr_world");
  CHECK_OK(al_oocr_world(dir, 30, 100, 3, &err), err);
  al_oocr_grader *g = NULL;
  CHECK_OK(al_oocr_grader_new(&g, NULL, &err), err);
  if (g) test_files(dir, g);
  if (g) test_eval_named(dir, g);
  test_export(dir);
  /* the same seed writes the same files; another seed others */
  char *d2 = test_tmpdir("oocr_world2"), *d3 = test_tmpdir("oocr_world3"), *out;
  CHECK_OK(al_oocr_world(d2, 30, 100, 3, &err), err);
  CHECK_OK(al_oocr_world(d3, 30, 100, 4, &err), err);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cmp -s '%s/all.jsonl' '%s/all.jsonl' && cmp -s '%s/pretrain.txt' '%s/pretrain.txt' && echo same; "
                            "cmp -s '%s/all.jsonl' '%s/all.jsonl' || echo differ", dir, d2, dir, d2, dir, d3);
  test_sh(cmd, &out);
  CHECK(strstr(out, "same") && strstr(out, "differ"), "determinism: %s", out);
  free(out);
  al_oocr_grader_free(g);
  free(dir), free(d2), free(d3);
  return test_summary();
}

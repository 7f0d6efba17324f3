/* The toy code world of `alab ilf` against the sandbox: every spec's program
 * parses back to it and passes its tests when run; every program with one
 * or two wrong components fails them, and the exact critic names the first
 * wrong one (and says nothing about a right program); the refiner's
 * training targets fix exactly the component the feedback names. */
#include <jansson.h>
#include "alab/sandbox.h"
#include "exp/ilf_internal.h"
#include "test.h"

enum { NSPEC = 2 * ILF_MAXK * ILF_NOPS };

static ilf_spec spec_at(int i) { return (ilf_spec){i / (ILF_MAXK * ILF_NOPS), 1 + (i / ILF_NOPS) % ILF_MAXK, i % ILF_NOPS}; }

int main(void) {
  al_err e;
  al_sandbox_config sc = al_sandbox_defaults();
  al_sandbox *sb = NULL;
  CHECK_OK(al_sandbox_open(&sc, &sb, &e), e);
  if (!sb) return test_summary();
  al_rng rng;
  al_rng_seed(&rng, 5);
  /* each spec: its program, and the same with the order flipped (a wrong program) */
  char *progs[2 * NSPEC], *fbs[NSPEC];
  for (int i = 0; i < NSPEC; i++) {
    ilf_spec s = spec_at(i), back, w = s;
    char *p = ilf_program(&s), *t = ilf_tests(&s, &rng, 3);
    CHECK(ilf_parse(p, &back) == 0 && back.desc == s.desc && back.k == s.k && back.op == s.op, "spec %d parses back", i);
    CHECK(ilf_feedback(&s, p) == NULL, "spec %d: no feedback on the right program", i);
    w.k = s.k % ILF_MAXK + 1, w.op = (s.op + 1) % ILF_NOPS; /* two wrong components: count named first */
    char *wp = ilf_program(&w);
    fbs[i] = ilf_feedback(&s, wp);
    char num[8];
    snprintf(num, sizeof num, "%d item", s.k);
    CHECK(fbs[i] && strstr(fbs[i], num), "spec %d: feedback '%s' names the count %d", i, fbs[i], s.k);
    al_buf a = {0}, b = {0};
    al_buf_printf(&a, "%s\n%s", p, t), al_buf_printf(&b, "%s\n%s", wp, t);
    progs[2 * i] = a.data, progs[2 * i + 1] = b.data;
    free(p), free(t), free(wp);
  }
  al_sb_result r[2 * NSPEC];
  CHECK_OK(al_sandbox_run_many(sb, 2 * NSPEC, (const char *const *)progs, r, 4, &e), e);
  for (int i = 0; i < 2 * NSPEC; i++) {
    CHECK(r[i].status == (i % 2 ? AL_SB_FAILED : AL_SB_PASSED), "program %d: %s\n%s%s", i, al_sb_status_name(r[i].status),
          progs[i], r[i].output);
    al_sb_result_free(&r[i]), free(progs[i]);
  }
  for (int i = 0; i < NSPEC; i++) free(fbs[i]);

  /* the critic's words per component */
  ilf_spec s = {1, 3, 1};
  char *fb = ilf_feedback(&s, "f=lambda xs:[x+1 for x in sorted(xs)][:3]");
  CHECK(fb && !strcmp(fb, "the output should be in descending order"), "order feedback: %s", fb);
  free(fb);
  fb = ilf_feedback(&s, "f=lambda xs:[x*2 for x in sorted(xs,reverse=True)][:3]");
  CHECK(fb && !strcmp(fb, "each item should be increased by 1"), "op feedback: %s", fb);
  free(fb);
  fb = ilf_feedback(&s, "def f(xs): return xs");
  CHECK(fb && strstr(fb, "one line"), "outside the grammar: %s", fb);
  free(fb);

  /* refiner targets: the named component fixed, the others as they were */
  char *data = ilf_refiner_data(3, 300);
  int lines = 0, fixed_named = 0, still_wrong = 0;
  for (char *line = data; *line;) {
    char *nl = strchr(line, '\n');
    json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
    const char *prompt = json_string_value(json_object_get(o, "prompt")), *comp = json_string_value(json_object_get(o, "completion"));
    ilf_spec want, wrong, got;
    /* the task and the wrong program are the prompt's first two lines */
    char task[128], prog[128];
    CHECK(sscanf(prompt, "%127[^\n]\n%127[^\n]", task, prog) == 2, "refiner prompt: %s", prompt);
    int found = 0;
    for (int i = 0; i < NSPEC && !found; i++) {
      ilf_spec t = spec_at(i);
      char *p = ilf_prompt(&t);
      p[strlen(p) - 1] = 0;
      if (!strcmp(p, task)) want = t, found = 1;
      free(p);
    }
    CHECK(found && ilf_parse(prog, &wrong) == 0 && ilf_parse(comp, &got) == 0, "line %d parses", lines + 1);
    if (found) {
      char *f1 = ilf_feedback(&want, prog), *f2 = ilf_feedback(&want, comp);
      CHECK(f1 && strstr(prompt, f1), "line %d: the prompt holds the critic's feedback", lines + 1);
      /* the component the feedback named is now right and is no longer the first named */
      fixed_named += !f2 || strcmp(f1, f2) != 0;
      still_wrong += f2 != NULL;
      free(f1), free(f2);
    }
    json_decref(o);
    lines++;
    line = nl + 1;
  }
  CHECK(lines == 300 && fixed_named == 300, "%d lines, %d fix the named component", lines, fixed_named);
  CHECK(still_wrong > 30 && still_wrong < 150, "%d of 300 targets keep a second mistake (about a third expected)", still_wrong);
  free(data);
  al_sandbox_close(sb);
  return test_summary();
}

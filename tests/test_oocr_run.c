/* `alab oocr` end to end at a small scale (the library call the command and
 * `reproduce` make): the built-in world, one size, two augmentation levels,
 * two seeds. Checks the run directory (config, results with every cell,
 * seed and file, chance 1/5, headline, plots, metrics with every graded
 * generation, the base's probed behaviours), and that finetuning learns
 * the realized assistants: every realized assistant whose behaviour the
 * base executes (probed at 0.9 or more with chain of thought) scores above
 * 90% in every job, so a failure on the unrealized ones is a finding, not a
 * bug. Which lookups a 2x64 base learns in 1,500 steps depends on its seed
 * and on float rounding: reverse, antonym and calling were executed by base
 * seed 1 before d5bfab9 (vectorized softmax exp) and by none of seeds 1-3
 * after it, nor by seeds 2-3 before it (docs/oocr.md), so the base's misses
 * are printed, not asserted. */
#include <jansson.h>
#include "alab/oocr.h"
#include "test.h"

static void small(al_oocr_cfg *c) {
  al_oocr_defaults(c);
  c->sizes = "2x64";
  c->paraphrases = "1,30";
  c->seeds = 2;
  c->threads = 2;
}

static double cell_mean(json_t *r, int level, const char *file, json_t **seeds) {
  size_t i;
  json_t *cell;
  json_array_foreach(json_object_get(r, "cells"), i, cell) {
    if (json_integer_value(json_object_get(cell, "paraphrases")) != level) continue;
    json_t *f = json_object_get(cell, file);
    if (seeds) *seeds = json_object_get(f, "seeds");
    return json_number_value(json_object_get(f, "mean"));
  }
  return NAN;
}

int main(void) {
  al_err err;
  char *dir = test_tmpdir("oocr_run"), *dir2 = test_tmpdir("oocr_run2");
  al_oocr_cfg c;
  small(&c);
  json_t *r = NULL;
  double t0 = al_now();
  CHECK_OK(al_oocr_run(&c, dir, &r, &err), err);
  fprintf(stderr, "run: %.1f s\n", al_now() - t0);
  if (!r) return test_summary();
  CHECK(json_array_size(json_object_get(r, "cells")) == 2, "two cells");
  CHECK(fabs(json_number_value(json_object_get(json_object_get(r, "chance"), "unrealized_examples")) - 0.2) < 1e-12,
        "chance 1/5");
  CHECK(json_array_size(json_object_get(r, "headline")) >= 3, "headline lines");
  json_t *seeds = NULL;
  for (int lv = 1; lv <= 30; lv += 29) {
    double real = cell_mean(r, lv, "realized_examples", &seeds);
    double named = cell_mean(r, lv, "realized_examples_named", NULL);
    CHECK(json_array_size(seeds) == 2, "every seed reported");
    double u = cell_mean(r, lv, "unrealized_examples", NULL);
    CHECK(u >= 0 && u <= 1, "unrealized accuracy %.3f", u);
    fprintf(stderr, "level %d: realized %.3f (named %.3f), realizedv %.3f, unrealized %.3f, no-CoT %.3f\n", lv, real, named,
            cell_mean(r, lv, "realizedv_examples", NULL), u, cell_mean(r, lv, "unrealized_no_cot_examples", NULL));
  }
  /* the base's behaviours, probed before finetuning */
  json_t *beh = json_object_get(json_array_get(json_object_get(json_object_get(r, "setup"), "sizes"), 0),
                                "pretrained_behaviours");
  CHECK(json_object_size(beh) == 5, "five behaviours probed");
  const char *key;
  json_t *v;
  json_object_foreach(beh, key, v) {
    double x = json_number_value(json_object_get(v, "cot"));
    CHECK(x >= 0 && x <= 1, "%s probed %.3f", key, x);
    fprintf(stderr, "base executes %s: %.3f with chain of thought\n", key, x);
  }
  const char *files[] = {"config.json", "results.json", "metrics.jsonl", "unrealized_by_paraphrases.svg",
                         "unrealized_by_size.dat", "index.html", "report.html", "data/all.jsonl", "data/pretrain.txt"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char *p = al_path_join(dir, files[i]);
    CHECK(al_file_exists(p), "%s written", files[i]);
    free(p);
  }
  /* metrics: one line per job, every graded example; each realized
   * assistant (task "BEHAVIOUR_NAME") learned where the base executes its
   * behaviour */
  char *mp = al_path_join(dir, "metrics.jsonl"), *text;
  size_t len;
  int lines = 0, examples = 0, jobs_checked = 0;
  if (!al_read_file(mp, &text, &len, &err)) {
    for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
      json_t *j = json_loads(p, 0, NULL);
      lines++;
      examples += (int)json_array_size(json_object_get(j, "examples"));
      json_t *tasks = json_object_get(json_object_get(j, "per_task"), "realized_examples"), *ct;
      const char *task;
      int checked = 0;
      json_object_foreach(tasks, task, ct) {
        char b[64];
        snprintf(b, sizeof b, "%s", task);
        char *us = strchr(b, '_');
        if (us) *us = 0;
        double base = json_number_value(json_object_get(json_object_get(beh, b), "cot"));
        double n = (double)json_integer_value(json_array_get(ct, 1));
        double acc = n > 0 ? json_integer_value(json_array_get(ct, 0)) / n : 0;
        if (base >= 0.9) {
          checked++;
          CHECK(acc > 0.9, "job %d: realized %s %.3f where the base executes %s (%.3f)", lines, task, acc, b, base);
        } else
          fprintf(stderr, "job %d: realized %s %.3f; the base does not execute %s (%.3f)\n", lines, task, acc, b, base);
      }
      jobs_checked += checked > 0;
      json_decref(j);
    }
    free(text);
  }
  CHECK(jobs_checked == 4, "%d of 4 jobs had a realized assistant whose behaviour the base executes", jobs_checked);
  CHECK(lines == 4 && examples == 4 * (90 + 30 + 120 + 120), "%d jobs, %d graded examples", lines, examples);
  free(mp);
  json_decref(r);
  free(dir), free(dir2);
  return test_summary();
}

/* `alab oocr` end to end at a small scale (the library call the command and
 * `reproduce` make): the built-in world, one size, two augmentation levels,
 * two seeds. Checks the run directory (config, results with every cell,
 * seed and file, chance 1/5, headline, plots, metrics with every graded
 * generation, the base's probed behaviours), and that the realized
 * assistants are learned: accuracy on realized_examples above 90% for every
 * seed at both levels, so a failure on the unrealized ones is a finding,
 * not a bug. */
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
    for (size_t i = 0; i < json_array_size(seeds); i++)
      CHECK(json_number_value(json_array_get(seeds, i)) > 0.9, "level %d seed %zu: realized accuracy %.3f", lv, i,
            json_number_value(json_array_get(seeds, i)));
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
  /* metrics: one line per job, every graded example */
  char *mp = al_path_join(dir, "metrics.jsonl"), *text;
  size_t len;
  int lines = 0, examples = 0;
  if (!al_read_file(mp, &text, &len, &err)) {
    for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
      json_t *j = json_loads(p, 0, NULL);
      lines++;
      examples += (int)json_array_size(json_object_get(j, "examples"));
      json_decref(j);
    }
    free(text);
  }
  CHECK(lines == 4 && examples == 4 * (90 + 30 + 120 + 120), "%d jobs, %d graded examples", lines, examples);
  free(mp);
  json_decref(r);
  free(dir), free(dir2);
  return test_summary();
}

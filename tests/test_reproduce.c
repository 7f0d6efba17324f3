/* The README's main command end to end: `alab reproduce --quick` runs
 * experiments into one run directory whose index links each one's results
 * and plots, and the quick run reaches what the issues ask of it. CI's time
 * budget holds two of the registry's experiments at quick scale (267 s
 * with 2 threads on 2 idle cores); every other experiment's quick defaults are run by
 * its own command in its own test at a smaller scale, and reproduce's
 * dispatch is the same for all. Here:
 *   collapse (language models): replace's test loss rises at every
 *     generation; accumulate's last generation is within 0.05 nats/token of
 *     generation 0;
 *   reversal: trained-direction accuracy on training templates >= 90%,
 *     reverse accuracy at most chance plus its interval.
 * Runs with 2 threads (PROCESSORS 2), in the Release build only (label e2e):
 * each experiment's code is covered under the sanitizers by its own tests. */
#include <jansson.h>
#include "alab/json.h"
#include "test.h"

static json_t *load(const char *dir, const char *rel) {
  char *p = al_path_join(dir, rel);
  json_t *j = NULL;
  al_err err;
  if (al_json_load_file(p, &j, &err)) fprintf(stderr, "%s\n", err.msg);
  free(p);
  return j;
}

int main(void) {
  char *dir = test_tmpdir("reproduce"), cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' reproduce --quick --only collapse,reversal --quiet --out '%s/run'", getenv("ALAB_BIN"), dir);
  double t0 = al_now();
  int rc = system(cmd);
  printf("alab reproduce --quick: %.0f s\n", al_now() - t0);
  CHECK(rc == 0, "reproduce --quick failed (%d)", rc);
  char *run = al_path_join(dir, "run"), *html = NULL, *index = al_path_join(run, "index.html");
  al_err err;
  CHECK_OK(al_read_file(index, &html, NULL, &err), err);
  const char *links[] = {"collapse/results.json", "reversal/results.json", "collapse/lm_test_loss.svg"};
  for (int i = 0; html && i < 3; i++) CHECK(strstr(html, links[i]), "index.html does not link %s", links[i]);
  json_t *col = load(run, "collapse/results.json"), *rev = load(run, "reversal/results.json");
  CHECK(col && rev, "missing results.json");
  if (col) {
    json_t *ch = json_object_get(json_object_get(col, "lm"), "change_last_minus_generation_0");
    json_t *rep = json_object_get(ch, "replace"), *acc = json_object_get(ch, "accumulate");
    CHECK(json_is_true(json_object_get(rep, "test_loss_rises_every_generation")), "replace's test loss does not rise every generation");
    double d = json_number_value(json_object_get(json_object_get(acc, "test_nats_per_token"), "mean"));
    printf("collapse: accumulate's last generation - generation 0 = %+.4f nats/token\n", d);
    CHECK(fabs(d) <= 0.05, "accumulate's last generation is %.4f nats/token from generation 0", d);
  }
  if (rev) {
    json_t *slots = json_object_get(json_object_get(json_object_get(rev, "variants"), "augmented"), "slots");
    const char *groups[] = {"p2d", "d2p", "both"};
    for (int g = 0; g < 3; g++) {
      char key[64];
      snprintf(key, sizeof key, "%s/trained/train_templates", groups[g]);
      double acc = json_number_value(json_object_get(json_object_get(json_object_get(slots, key), "accuracy"), "mean"));
      printf("reversal: %s accuracy %.3f\n", key, acc);
      CHECK(acc >= 0.9, "%s accuracy %.3f < 0.9", key, acc);
      if (g == 2) continue; /* "both" has no reverse direction */
      snprintf(key, sizeof key, "%s/reverse/heldout_templates", groups[g]);
      json_t *s = json_object_get(slots, key), *a = json_object_get(s, "accuracy");
      double m = json_number_value(json_object_get(a, "mean")), hi = json_number_value(json_object_get(a, "hi"));
      double chance = json_number_value(json_object_get(s, "chance"));
      printf("reversal: %s accuracy %.3f (chance %.3f)\n", key, m, chance);
      CHECK(m <= chance + (hi - m), "%s accuracy %.3f above chance %.3f plus its interval", key, m, chance);
    }
  }
  json_decref(col);
  json_decref(rev);
  free(html), free(index), free(run), free(dir);
  return test_summary();
}

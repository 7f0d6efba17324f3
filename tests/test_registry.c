/* The experiment registry (AL_EXPERIMENTS) is what `alab --help`,
 * `alab reproduce --help`, `alab reproduce --only` and the index pages show:
 * each experiment's name and one-line summary appear there exactly as the
 * registry has them. */
#include "alab/exp.h"
#include "alab/report.h"
#include "test.h"

int main(void) {
  const char *bin = getenv("ALAB_BIN");
  char *dir = test_tmpdir("registry"), cmd[2048], *help, *rep, *only;
  CHECK(al_nexperiments >= 2, "%d experiments", al_nexperiments);
  snprintf(cmd, sizeof cmd, "'%s' --help", bin);
  CHECK(test_sh(cmd, &help) == 0, "alab --help");
  snprintf(cmd, sizeof cmd, "'%s' reproduce --help", bin);
  CHECK(test_sh(cmd, &rep) == 0, "alab reproduce --help");
  snprintf(cmd, sizeof cmd, "'%s' reproduce --out '%s/x' --only nope 2>&1", bin, dir);
  CHECK(test_sh(cmd, &only) == 2, "reproduce --only nope");
  char names[512];
  al_experiment_names(names, sizeof names);
  CHECK(strstr(rep, names) && strstr(only, names), "reproduce lists '%s': %s / %s", names, rep, only);
  al_index_entry *e = calloc(al_nexperiments, sizeof *e);
  for (int k = 0; k < al_nexperiments; k++) {
    const al_exp_entry *x = &al_experiments[k];
    char line[1024];
    snprintf(line, sizeof line, "  %-12s %s\n", x->name, x->summary);
    CHECK(strstr(help, line), "alab --help lacks the registry's line for %s", x->name);
    snprintf(cmd, sizeof cmd, "'%s' %s --help >/dev/null", bin, x->name);
    char *out;
    CHECK(test_sh(cmd, &out) == 0, "alab %s --help: the registry's name is a command", x->name);
    free(out);
    CHECK(al_experiment_find(x->name, strlen(x->name)) == x, "find %s", x->name);
    e[k] = (al_index_entry){.name = x->name, .subdir = x->name};
  }
  const al_exp_entry *first = &al_experiments[0];
  char list[256];
  snprintf(list, sizeof list, "%s,more", first->name);
  CHECK(al_experiment_find(list, strlen(first->name)) == first, "find reads only the given length");
  CHECK(!al_experiment_find(first->name, strlen(first->name) - 1), "a prefix is not a name");
  CHECK(!al_experiment_find("nope", 4), "an unknown name is NULL");
  /* an index page with no summaries given shows the registry's */
  al_err err;
  CHECK_OK(al_report_index(dir, "t", e, al_nexperiments, &err), err);
  char *path = al_path_join(dir, "index.html"), *html = NULL;
  CHECK_OK(al_read_file(path, &html, NULL, &err), err);
  for (int k = 0; html && k < al_nexperiments; k++) {
    char p[1024];
    size_t n = (size_t)snprintf(p, sizeof p, "<p>");
    for (const char *c = al_experiments[k].summary; *c && n < sizeof p - 16; c++) /* the page escapes '"' */
      n += (size_t)(*c == '"' ? snprintf(p + n, sizeof p - n, "&quot;") : snprintf(p + n, sizeof p - n, "%c", *c));
    snprintf(p + n, sizeof p - n, "</p>");
    CHECK(strstr(html, p), "index lacks %s's summary %s", al_experiments[k].name, p);
  }
  free(html), free(path), free(e), free(help), free(rep), free(only), free(dir);
  return test_summary();
}

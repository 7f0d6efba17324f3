/* alab reproduce: every experiment of the registry (AL_EXPERIMENTS in
 * include/alab/exp.h) into one run directory, OUT/<name>/ each, with an index
 * page that links each one's results and embeds its plots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "cli/flags.h"

/* chosen[k] for al_experiments[k]: every one, or those --only names. */
static int choose(const char *only, int *chosen) {
  for (int k = 0; k < al_nexperiments; k++) chosen[k] = only == NULL;
  const char *item;
  size_t len;
  for (const char *p = only; al_comma_next(&p, &item, &len);) {
    const al_exp_entry *e = al_experiment_find(item, len);
    if (!e) {
      char names[512];
      al_experiment_names(names, sizeof names);
      fprintf(stderr, "alab reproduce: --only: unknown experiment '%.*s' (known: %s)\n", (int)len, item, names);
      return -1;
    }
    chosen[e - al_experiments] = 1;
  }
  return 0;
}

int cmd_reproduce(int argc, char **argv) {
  const char *out = NULL, *only = NULL;
  int quick = 0, quiet = 0;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): one subdirectory per experiment, report.html and index.html"},
      {"quick", FLAG_BOOL, &quick, "quick scale (minutes on 2 cores)"},
      {"only", FLAG_STRING, &only, "comma list of experiments to run (default: all)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  char names[512], summary[1024];
  al_experiment_names(names, sizeof names);
  snprintf(summary, sizeof summary,
           "Runs every experiment alab has into one run directory and writes report.html, which says experiment by "
           "experiment whether the paper's finding was reproduced (grouped by the challenges of Anwar et al. 2024), "
           "and index.html, which links each experiment's results and embeds its plots. Experiments: %s.",
           names);
  flag_cmd cmd = {"alab reproduce --out DIR [--quick]", summary, defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab reproduce: --out DIR is required (see --help)\n");
    return 2;
  }
  int *chosen = al_calloc(al_nexperiments, sizeof(int));
  if (choose(only, chosen)) {
    free(chosen);
    return 2;
  }
  if (quiet) al_quiet = 1;
  al_err err;
  json_t *config = json_pack("{s:s, s:b, s:[]}", "command", "reproduce", "quick", quick, "experiments");
  for (int k = 0; k < al_nexperiments; k++)
    if (chosen[k]) json_array_append_new(json_object_get(config, "experiments"), json_string(al_experiments[k].name));
  char *cpath = al_path_join(out, "config.json");
  int rc = al_mkdir_p(out, &err) || al_json_save_file(cpath, config, &err);
  free(cpath);
  json_decref(config);
  al_index_entry *entries = al_calloc(al_nexperiments, sizeof *entries);
  char(*errors)[sizeof err.msg] = al_calloc(al_nexperiments, sizeof *errors);
  int n = 0, failed = 0;
  for (int k = 0; k < al_nexperiments && !rc; k++) {
    const al_exp_entry *e = &al_experiments[k];
    if (!chosen[k]) continue;
    char *dir = al_path_join(out, e->name);
    double t = al_now();
    al_log("reproduce: %s", e->name);
    entries[n] = (al_index_entry){.name = e->name, .subdir = e->name}; /* the page reads the registry's summary */
    if (e->run(dir, quick, &err)) {
      fprintf(stderr, "alab reproduce: %s: %s\n", e->name, err.msg);
      snprintf(errors[n], sizeof errors[n], "%s", err.msg);
      entries[n].error = errors[n];
      failed++;
    } else {
      al_log("reproduce: %s took %.1f s", e->name, al_now() - t);
    }
    free(dir);
    n++;
  }
  const char *title = quick ? "alab reproduce --quick" : "alab reproduce";
  if (!rc) rc = al_report_index(out, title, entries, n, &err);
  if (!rc) rc = al_report_record_machine(out, &err) || al_report_reproduction(out, title, entries, n, &err);
  if (rc) fprintf(stderr, "alab reproduce: %s\n", err.msg);
  else al_log("alab reproduce: %d experiment(s), %d failed; report %s/report.html", n, failed, out);
  free(entries);
  free(errors);
  free(chosen);
  return rc || failed ? 1 : 0;
}

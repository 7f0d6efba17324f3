/* alab reproduce: every experiment alab has, into one run directory with an
 * index page. To add an experiment, add one line to the table below: its
 * library entry `int fn(const char *dir, int quick, al_err *err)` writes a
 * complete run directory (config.json, results.json with a "headline" array,
 * metrics.jsonl, SVG plots) into OUT/<name>/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/collapse.h"
#include "alab/reversal.h"
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/report.h"
#include "cli/flags.h"

static const al_exp_entry experiments[] = {
    {"collapse", al_collapse_reproduce, "Model collapse: replace vs accumulate (Gerstgrasser et al. 2024)"},
    {"reversal", al_rev_reproduce, "The reversal curse: trained on \"A is B\", tested on \"B is A\" (Berglund et al. 2023)"},
};
#define NEXP (int)(sizeof experiments / sizeof experiments[0])

/* Is name in the comma list (NULL: every name is)? */
static int listed(const char *list, const char *name) {
  if (!list) return 1;
  size_t n = strlen(name);
  for (const char *p = list;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return 1;
    if (!comma) return 0;
    p = comma + 1;
  }
}

int cmd_reproduce(int argc, char **argv) {
  const char *out = NULL, *only = NULL;
  int quick = 0, quiet = 0;
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "run directory (created): one subdirectory per experiment and index.html"},
      {"quick", FLAG_BOOL, &quick, "quick scale (minutes on 2 cores)"},
      {"only", FLAG_STRING, &only, "comma list of experiments to run (default: all)"},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab reproduce --out DIR [--quick]",
                  "Runs every experiment alab has into one run directory and writes index.html, which links each "
                  "experiment's results and embeds its plots. Experiments: collapse, reversal.",
                  defs, sizeof defs / sizeof defs[0]};
  int r = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (r) return r > 0 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "alab reproduce: --out DIR is required (see --help)\n");
    return 2;
  }
  if (only)
    for (const char *p = only;;) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      int found = 0;
      for (int k = 0; k < NEXP; k++) found |= strlen(experiments[k].name) == len && !strncmp(experiments[k].name, p, len);
      if (!found) {
        fprintf(stderr, "alab reproduce: --only: unknown experiment '%.*s' (known:", (int)len, p);
        for (int k = 0; k < NEXP; k++) fprintf(stderr, " %s", experiments[k].name);
        fprintf(stderr, ")\n");
        return 2;
      }
      if (!comma) break;
      p = comma + 1;
    }
  if (quiet) al_quiet = 1;
  al_err err;
  if (al_mkdir_p(out, &err)) {
    fprintf(stderr, "alab reproduce: %s\n", err.msg);
    return 1;
  }
  json_t *config = json_pack("{s:s, s:b, s:[]}", "command", "reproduce", "quick", quick, "experiments");
  for (int k = 0; k < NEXP; k++)
    if (listed(only, experiments[k].name)) json_array_append_new(json_object_get(config, "experiments"), json_string(experiments[k].name));
  char *cpath = al_path_join(out, "config.json");
  int rc = al_json_save_file(cpath, config, &err);
  free(cpath);
  json_decref(config);
  if (rc) {
    fprintf(stderr, "alab reproduce: %s\n", err.msg);
    return 1;
  }
  al_index_entry entries[NEXP];
  char errors[NEXP][sizeof err.msg];
  int n = 0, failed = 0;
  for (int k = 0; k < NEXP; k++) {
    if (!listed(only, experiments[k].name)) continue;
    char *dir = al_path_join(out, experiments[k].name);
    double t = al_now();
    al_log("reproduce: %s", experiments[k].name);
    entries[n] = (al_index_entry){.name = experiments[k].name, .subdir = experiments[k].name, .summary = experiments[k].summary};
    if (experiments[k].run(dir, quick, &err)) {
      fprintf(stderr, "alab reproduce: %s: %s\n", experiments[k].name, err.msg);
      snprintf(errors[n], sizeof errors[n], "%s", err.msg);
      entries[n].error = errors[n];
      failed++;
    } else {
      al_log("reproduce: %s took %.1f s", experiments[k].name, al_now() - t);
    }
    free(dir);
    n++;
  }
  if (al_report_index(out, quick ? "alab reproduce --quick" : "alab reproduce", entries, n, &err)) {
    fprintf(stderr, "alab reproduce: %s\n", err.msg);
    return 1;
  }
  al_log("alab reproduce: %d experiment(s), %d failed; report %s/index.html", n, failed, out);
  return failed ? 1 : 0;
}

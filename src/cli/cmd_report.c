/* alab report: the report page of a run directory, or two runs compared. */
#include <stdio.h>
#include "alab/report.h"
#include "cli/flags.h"

int cmd_report(int argc, char **argv) {
  const char *out = "compare.html";
  flag_def defs[] = {
      {"out", FLAG_STRING, &out, "with two run directories: the comparison page to write"},
  };
  flag_cmd cmd = {"alab report RUN_DIR | alab report RUN_A RUN_B [--out FILE]",
                  "Writes RUN_DIR/report.html: one self-contained page (inline SVG plots and styles, no script, no "
                  "network) with the paper's claim, the challenges of Anwar et al. 2024 it informs, each finding with "
                  "its test, interval and whether the run reproduced it, the headline figures, plots, the settings that "
                  "differ from the defaults, run time, machine, version, the model card and links to the raw files. On a "
                  "reproduction's directory the findings are grouped by challenge. Every experiment and `alab reproduce` "
                  "write it when they finish. With two run directories of one experiment, writes a page that sets them "
                  "side by side with the differences of their findings.",
                  defs, sizeof defs / sizeof defs[0]};
  const char *dirs[2];
  int n = 0;
  int r = flags_parse(&cmd, argc, argv, dirs, 2, &n);
  if (r) return r > 0 ? 0 : 2;
  if (n < 1) {
    fprintf(stderr, "alab report: name a run directory (see --help)\n");
    return 2;
  }
  al_err err;
  int rc = n == 1 ? al_report_run(dirs[0], &err) : al_report_compare(dirs[0], dirs[1], out, &err);
  if (rc) {
    fprintf(stderr, "alab report: %s\n", err.msg);
    return 1;
  }
  if (n == 1) al_log("alab report: %s/report.html", dirs[0]);
  else al_log("alab report: %s", out);
  return 0;
}

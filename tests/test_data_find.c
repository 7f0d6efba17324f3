/* alab finds its shipped data (data/names) wherever its binary is: a copy of
 * the binary in a folder far from the source tree (as a build folder outside
 * the tree, or a binary copied elsewhere) still generates the reversal facts,
 * which need the name lists, with ALAB_DATA unset, and with ALAB_DATA naming
 * a folder without names/ (the next candidates are tried). */
#include <unistd.h>
#include "test.h"

int main(void) {
  const char *bin = getenv("ALAB_BIN");
  if (!bin) { fprintf(stderr, "ALAB_BIN is not set\n"); return 2; }
  char tmpl[] = "/tmp/alab-data-find-XXXXXX"; /* outside the source tree: walking up finds no data/ */
  if (!mkdtemp(tmpl)) { perror("mkdtemp"); return 2; }
  char cmd[8192], *out = NULL;
  snprintf(cmd, sizeof cmd, "mkdir -p %s/bin && cp '%s' %s/bin/alab", tmpl, bin, tmpl);
  CHECK(test_sh(cmd, &out) == 0, "cannot copy the binary: %s", out);
  free(out);

  snprintf(cmd, sizeof cmd, "env -u ALAB_DATA %s/bin/alab reversal --generate %s/facts --per-group 2 2>&1", tmpl, tmpl);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "a copied binary could not generate the facts (rc %d): %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "%s/facts/all_prompts_train.jsonl", tmpl);
  CHECK(access(cmd, R_OK) == 0, "no %s", cmd);

  snprintf(cmd, sizeof cmd, "ALAB_DATA=%s/nowhere %s/bin/alab reversal --generate %s/facts2 2>&1", tmpl, tmpl, tmpl);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "ALAB_DATA without names/ should fall back to the other places (rc %d): %s", rc, out);
  free(out);

  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpl);
  return test_summary();
}

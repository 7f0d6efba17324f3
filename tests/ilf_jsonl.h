/* Reading a run directory's JSONL file in the ilf tests: one JSON value
 * per line (null for a line that does not parse), an empty array when the
 * file cannot be read. */
#ifndef ALAB_TEST_ILF_JSONL_H
#define ALAB_TEST_ILF_JSONL_H
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "alab/base.h"

static json_t *jsonl(const char *dir, const char *name) {
  char *p = al_path_join(dir, name), *text;
  size_t len;
  al_err e;
  json_t *a = json_array();
  if (!al_read_file(p, &text, &len, &e)) {
    for (char *line = text, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
      nl = strchr(line, '\n');
      json_t *o = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, NULL);
      json_array_append_new(a, o ? o : json_null());
    }
    free(text);
  }
  free(p);
  return a;
}
#endif

/* The experiment registry (AL_EXPERIMENTS in include/alab/exp.h) as a table. */
#include <stdio.h>
#include <string.h>
#include "alab/exp.h"

#define DECLARE(name, reproduce, summary) int reproduce(const char *dir, int quick, al_err *err);
AL_EXPERIMENTS(DECLARE)
#undef DECLARE

#define ENTRY(name, reproduce, summary) {#name, reproduce, summary},
const al_exp_entry al_experiments[] = {AL_EXPERIMENTS(ENTRY)};
#undef ENTRY
const int al_nexperiments = sizeof al_experiments / sizeof al_experiments[0];

const al_exp_entry *al_experiment_find(const char *name, size_t len) {
  for (int k = 0; k < al_nexperiments; k++)
    if (al_item_is(name, len, al_experiments[k].name)) return &al_experiments[k];
  return NULL;
}

void al_experiment_names(char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int k = 0; k < al_nexperiments && at < size; k++)
    at += (size_t)snprintf(buf + at, size - at, "%s%s", k ? ", " : "", al_experiments[k].name);
}

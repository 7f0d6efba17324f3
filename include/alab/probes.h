/* Built-in inverse-scaling probes: classification tasks written from the
 * story world (src/eval/probes.c). */
#ifndef ALAB_PROBES_H
#define ALAB_PROBES_H
#include <stdint.h>
#include "alab/base.h"

/* ---- built-in inverse-scaling probes on the story world ---- */
/* Names: "memo-vs-instruction", "distractor", "misleading-fewshot". */
extern const char *const al_probe_names[];
extern const int al_nprobes;
/* Is name a probe and n >= 1? (A usage check: nothing is written.) */
int al_probe_check(const char *name, int n, al_err *err);
/* Writes the probe's classification task (CSV, Inverse Scaling Prize
 * columns) to path: n examples, deterministic in seed. */
int al_probe_write(const char *name, const char *path, int n, uint64_t seed, al_err *err);
/* Writes dir/probe-NAME.csv (creating dir) and returns its path (fresh). */
int al_probe_prepare(const char *name, const char *dir, int n, uint64_t seed, char **path, al_err *err);

#endif

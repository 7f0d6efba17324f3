/* The finetuning sets of the augmentation sweep. A line of all.jsonl is a
 * demonstration when its prompt is not empty or its completion holds
 * "Assistant: *out loud*" or " is given the input "; every other line is a
 * description. At level k, the descriptions of each task (in file order)
 * are replaced by the task's first k distinct descriptions, cycled:
 * position i of a group of n lines gets distinct line i mod min(k, d) (d the
 * group's distinct lines). Demonstrations stay as they are, so every level
 * trains on the same number of lines: only the variety of the descriptions
 * changes (k = 1 is the paper's "no augmentation"). */
#include <stdlib.h>
#include <string.h>
#include "exp/oocr_internal.h"

int oocr_is_demo(const al_oocr_example *e) {
  return e->prompt[0] || strstr(e->completion, "Assistant: *out loud*") || strstr(e->completion, " is given the input ");
}

int oocr_augment_level(const al_oocr_set *all, int k, const al_oocr_example **out) {
  int n = all->n, ngroups = 0;
  int *group = al_malloc(sizeof(int) * (size_t)(n ? n : 1)), *first = al_malloc(sizeof(int) * (size_t)(n ? n : 1));
  /* group of each description line: the index of its task's first line */
  for (int i = 0; i < n; i++) {
    out[i] = &all->ex[i];
    group[i] = -1;
    if (oocr_is_demo(&all->ex[i])) continue;
    for (int g = 0; g < ngroups && group[i] < 0; g++)
      if (!strcmp(all->ex[first[g]].task, all->ex[i].task)) group[i] = g;
    if (group[i] < 0) first[ngroups] = i, group[i] = ngroups++;
  }
  if (k > 0) {
    const al_oocr_example **distinct = al_malloc(sizeof *distinct * (size_t)(n ? n : 1));
    for (int g = 0; g < ngroups; g++) {
      int d = 0;
      for (int i = 0; i < n && d < k; i++) {
        if (group[i] != g) continue;
        int seen = 0;
        for (int j = 0; j < d && !seen; j++) seen = !strcmp(distinct[j]->completion, all->ex[i].completion);
        if (!seen) distinct[d++] = &all->ex[i];
      }
      for (int i = 0, pos = 0; i < n; i++)
        if (group[i] == g) out[i] = distinct[pos++ % d];
    }
    free(distinct);
  }
  free(group), free(first);
  return ngroups;
}

/* Stanford SHP's lines for the preference reader (src/data/preference.c). */
#ifndef ALAB_DATA_PREFERENCE_SHP_H
#define ALAB_DATA_PREFERENCE_SHP_H
#include <jansson.h>
#include "alab/preference.h"

/* A line with "human_ref_A": {"post", "human_ref_A", "human_ref_B",
 * "labels"} (labels 1: A is preferred, 0: B is) into p: prompt = post + "\n\n",
 * chosen and rejected the two references. Other fields (score_A, domain,
 * ...) are ignored. On a missing or mistyped field returns -1 with the
 * reason, naming the field, in why. */
int al_pref_shp_pair(const json_t *root, al_pref_pair *p, char *why, size_t nwhy);
#endif

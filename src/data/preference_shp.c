/* Stanford Human Preferences (SHP) lines: Reddit posts with two top-level
 * comments, "labels" 1 when comment A is the preferred one, 0 when B is. */
#include <stdio.h>
#include <string.h>
#include "data/preference_shp.h"

int al_pref_shp_pair(const json_t *root, al_pref_pair *p, char *why, size_t nwhy) {
  static const char *const fields[] = {"post", "human_ref_A", "human_ref_B"};
  const char *v[3];
  for (int k = 0; k < 3; k++) {
    v[k] = json_string_value(json_object_get(root, fields[k]));
    if (!v[k]) {
      snprintf(why, nwhy, "SHP field \"%s\" must be a string%s", fields[k],
               json_object_get(root, fields[k]) ? "" : " (it is missing)");
      return -1;
    }
  }
  const json_t *lab = json_object_get(root, "labels");
  if (!json_is_integer(lab) || (json_integer_value(lab) != 0 && json_integer_value(lab) != 1)) {
    snprintf(why, nwhy, "SHP field \"labels\" must be 1 (A preferred) or 0 (B preferred)");
    return -1;
  }
  int a = json_integer_value(lab) == 1;
  size_t n = strlen(v[0]);
  p->prompt = al_malloc(n + 3);
  memcpy(p->prompt, v[0], n);
  memcpy(p->prompt + n, "\n\n", 3);
  p->chosen = al_strdup(a ? v[1] : v[2]);
  p->rejected = al_strdup(a ? v[2] : v[1]);
  p->form = AL_PREF_SHP;
  return 0;
}

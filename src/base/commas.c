/* Walking a comma list ("10,20,40", "collapse,reversal"): the one splitting
 * rule every flag that takes a list uses. */
#include <string.h>
#include "alab/base.h"

/* "a,,b" gives "a", "", "b"; "" gives one empty item; "a," gives "a", "".
 * Callers decide what an empty item means. */
int al_comma_next(const char **p, const char **item, size_t *len) {
  if (!*p) return 0;
  const char *comma = strchr(*p, ',');
  *item = *p;
  *len = comma ? (size_t)(comma - *p) : strlen(*p);
  *p = comma ? comma + 1 : NULL;
  return 1;
}

int al_item_is(const char *item, size_t len, const char *name) {
  return strlen(name) == len && !strncmp(item, name, len);
}

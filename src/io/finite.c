/* The rule for numbers in files: no NaN or infinity is ever written to a
 * model or a trainer state, and none is accepted when one is loaded. A
 * diverged model would otherwise load and answer NaN (or crash a JSON
 * writer, which has no NaN) far from where the damage was done. */
#include <math.h>
#include "alab/safetensors.h"

int al_check_finite(const float *x, size_t n, const char *where, const char *tensor, al_err *err) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return al_fail(err, "%s: tensor '%.200s' holds %s at index %zu, and models must be finite (did training diverge?)",
                     where, tensor, isnan(x[i]) ? "NaN" : "an infinity", i);
  return 0;
}

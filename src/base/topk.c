/* The k largest entries of a row, for top-k log-probs: one pass with an
 * insertion into a sorted list of k (k is small: OpenAI's logprobs is <= 5
 * or 20). */
#include <math.h>
#include "alab/base.h"

void al_top_k(const float *x, int n, float shift, int k, int32_t *ids, float *vals) {
  for (int j = 0; j < k; j++) {
    ids[j] = -1;
    vals[j] = -INFINITY;
  }
  for (int v = 0; v < n; v++) {
    float y = x[v] - shift;
    if (k == 0 || y <= vals[k - 1]) continue; /* ties keep the lower index */
    int j = k - 1;
    for (; j > 0 && vals[j - 1] < y; j--) {
      vals[j] = vals[j - 1];
      ids[j] = ids[j - 1];
    }
    vals[j] = y;
    ids[j] = v;
  }
}

/* The summaries refiner's competence, measured before the loop uses it
 * (ilf_sum_refiner_probe in ilf_internal.h): held-out pairs drawn exactly as
 * its training set is (ilf_sum_refiner_data, another seed), each refined
 * greedily and compared with the exact refinement. The named fact is the one
 * the exact refinement changes; a refinement "copies" when that fact has the
 * feedback's value, and "writes another value" when it has neither the
 * feedback's nor the summary's. */
#include <stdlib.h>
#include <string.h>
#include "exp/ilf_internal.h"

/* Fact index the exact refinement `fixed` changes in `summary`, -1 if none. */
static int named_fact(const ilf_facts *summary, const ilf_facts *fixed) {
  for (int k = 0; k < ILF_NFACTS; k++)
    if (strcmp(summary->v[k], fixed->v[k])) return k;
  return -1;
}

int ilf_sum_refiner_probe(al_provider *refiner, uint64_t seed, int n, int names, int max_tokens, double *exact, double *value,
                          double *other, al_err *err) {
  *exact = *value = *other = 0;
  char *data = ilf_sum_refiner_data(seed, n, names);
  char **prompt = al_calloc((size_t)n + 1, sizeof(char *)), **want = al_calloc((size_t)n + 1, sizeof(char *));
  int m = 0;
  for (const char *p = data; p && *p && m < n;) { /* the JSONL lines this file's caller wrote: always well formed */
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    json_t *o = json_loadb(p, len, 0, NULL);
    prompt[m] = al_strdup(json_string_value(json_object_get(o, "prompt")));
    want[m++] = al_strdup(json_string_value(json_object_get(o, "completion")) + 1); /* without the leading space */
    json_decref(o);
    p += len + (nl != NULL);
  }
  char **out = al_calloc((size_t)m + 1, sizeof(char *));
  int rc = m ? ilf_sum_gen(refiner, prompt, m, 0, max_tokens, seed, out, err) : 0;
  int ex = 0, val = 0, oth = 0;
  for (int i = 0; i < m && !rc; i++) {
    /* the summary is the prompt's first line after "Summary: " */
    char *s = al_strdup(prompt[i] + strlen("Summary: "));
    *strchr(s, '\n') = 0;
    ilf_facts fs, fw, fo;
    int k = ilf_summary_parse(s, &fs) || ilf_summary_parse(want[i], &fw) ? -1 : named_fact(&fs, &fw);
    ex += !strcmp(out[i], want[i]);
    if (k >= 0 && !ilf_summary_parse(out[i], &fo)) {
      val += !strcmp(fo.v[k], fw.v[k]);
      oth += strcmp(fo.v[k], fw.v[k]) && strcmp(fo.v[k], fs.v[k]);
    }
    free(s);
  }
  if (m && !rc) *exact = (double)ex / m, *value = (double)val / m, *other = (double)oth / m;
  ilf_free_strs(prompt, (size_t)m), ilf_free_strs(want, (size_t)m), ilf_free_strs(out, (size_t)m);
  free(data);
  return rc;
}

/* The small shared helpers of src/base: comma lists (against a reference
 * split), the first error of an OpenMP loop (one whole message, whichever
 * iteration fails), and top-k (against a full sort). */
#include <omp.h>
#include "test.h"

/* Reference: the items of s split at every comma, joined with '|'. */
static void split_ref(const char *s, char *out) {
  size_t n = 0;
  for (const char *p = s; *p; p++) out[n++] = *p == ',' ? '|' : *p;
  out[n] = 0;
}

static void commas(void) {
  const char *cases[] = {"", "a", "a,b", "a,,b", ",", "a,", ",a", "collapse,reversal,x", "10,20,40"};
  for (int i = 0; i < 9; i++) {
    char got[128] = "", want[128];
    size_t n = 0, len;
    const char *p = cases[i], *item;
    int items = 0;
    while (al_comma_next(&p, &item, &len)) {
      n += (size_t)snprintf(got + n, sizeof got - n, "%s%.*s", items ? "|" : "", (int)len, item);
      items++;
    }
    split_ref(cases[i], want);
    int commas_in = 0;
    for (const char *q = cases[i]; *q; q++) commas_in += *q == ',';
    CHECK(!strcmp(got, want) && items == commas_in + 1, "'%s': got '%s' (%d items), want '%s'", cases[i], got, items,
          want);
  }
  const char *none = NULL, *item;
  size_t len;
  CHECK(!al_comma_next(&none, &item, &len), "NULL list: no items");
  CHECK(al_item_is("abc", 2, "ab") && !al_item_is("abc", 2, "abc") && !al_item_is("abc", 3, "ab"), "al_item_is");
}

/* Every iteration fails with its own message; the one kept is whole (its
 * number written twice agrees) and belongs to an iteration that ran. */
static void first_error(void) {
  for (int rep = 0; rep < 20; rep++) {
    al_first_err f = {0};
    int ran[256] = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(2)
    for (int i = 0; i < 256; i++) {
      if (al_first_err_failed(&f)) continue;
      ran[i] = 1;
      if (i % 3 == rep % 3) {
        al_err e;
        al_fail(&e, "iteration %d failed (iteration %d)", i, i);
        al_first_err_keep(&f, &e);
      }
    }
    int a = -1, b = -2, skipped = 0;
    sscanf(f.err.msg, "iteration %d failed (iteration %d)", &a, &b);
    for (int i = 0; i < 256; i++) skipped += !ran[i];
    CHECK(f.failed && a == b && a >= 0 && a < 256 && ran[a] && a % 3 == rep % 3, "kept '%s'", f.err.msg);
    CHECK(skipped > 0, "a failure stops the rest: %d iterations skipped", skipped);
  }
  al_first_err ok = {0};
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < 64; i++)
    if (al_first_err_failed(&ok)) continue;
  CHECK(!ok.failed, "no failure: failed stays 0");
}

static int cmp_desc(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x < y) - (x > y);
}

static void top_k(void) {
  al_rng r;
  al_rng_seed(&r, 3);
  for (int t = 0; t < 50; t++) {
    int n = 1 + (int)al_rng_below(&r, 300), k = (int)al_rng_below(&r, 8);
    float x[300], sorted[300], shift = (float)al_rng_below(&r, 10), vals[8];
    int32_t ids[8];
    for (int i = 0; i < n; i++) x[i] = (float)al_rng_below(&r, 40) * 0.25f; /* many ties */
    memcpy(sorted, x, sizeof(float) * n);
    qsort(sorted, n, sizeof(float), cmp_desc);
    al_top_k(x, n, shift, k, ids, vals);
    for (int j = 0; j < k; j++) {
      if (j >= n) {
        CHECK(ids[j] == -1 && vals[j] == -INFINITY, "past n: id %d", ids[j]);
        continue;
      }
      CHECK(vals[j] == sorted[j] - shift && x[ids[j]] - shift == vals[j], "rank %d: %g vs %g", j, vals[j], sorted[j] - shift);
      /* ties: the lower index first, and no index twice */
      if (j > 0 && vals[j] == vals[j - 1]) CHECK(ids[j] > ids[j - 1], "tie order %d %d", ids[j - 1], ids[j]);
      for (int i = 0; i < ids[j]; i++)
        if (x[i] - shift == vals[j]) {
          int listed = 0;
          for (int q = 0; q < j; q++) listed |= ids[q] == i;
          CHECK(listed, "a lower index with the same value (%d) was passed over for %d", i, ids[j]);
        }
    }
  }
}

int main(void) {
  commas();
  first_error();
  top_k();
  return test_summary();
}

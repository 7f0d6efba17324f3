/* ilf_sum_refiner_probe (src/exp/ilf_summary_probe.c), the measure of the
 * summaries refiner before the loop, on scripted refiners whose answers are
 * known by construction: the exact refinement (exact 1, named fact right 1,
 * another value 0), the summary unchanged (0, 0, 0), the named fact set to a
 * value no story has (0, 0, 1), and the exact refinement on every other pair
 * with the summary unchanged on the rest (counted against the test's own
 * tally of which pairs were answered exactly). */
#include "alab/ilf.h"
#include "exp/ilf_internal.h"
#include "test.h"

static int mode, answered, exact_answers;

/* "Summary: S\nFeedback: F\nFixed:" -> S and F. */
static void split(const char *prompt, char *sum, char *fb) {
  const char *s = strstr(prompt, "Summary: "), *f = strstr(prompt, "\nFeedback: "), *e = strstr(prompt, "\nFixed:");
  sum[0] = fb[0] = 0;
  if (s && f && e) {
    snprintf(sum, 512, "%.*s", (int)(f - s - 9), s + 9);
    snprintf(fb, 512, "%.*s", (int)(e - f - 11), f + 11);
  }
}

static int refiner_gen(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs, al_err *err) {
  (void)p, (void)g, (void)err;
  for (int k = 0; k < n; k++) {
    char sum[512], fb[512];
    split(prompts[k], sum, fb);
    char *fixed = ilf_summary_refine(sum, fb);
    ilf_facts a, b;
    int use_fixed = fixed && (mode == 0 || (mode == 3 && answered % 2 == 0));
    if (mode == 2 && fixed && !ilf_summary_parse(sum, &a) && !ilf_summary_parse(fixed, &b)) {
      for (int i = 0; i < ILF_NFACTS; i++)
        if (strcmp(a.v[i], b.v[i])) snprintf(b.v[i], sizeof b.v[i], "zeppelin"); /* the named fact, a value no story has */
      outs[k] = ilf_summary_text(&b);
    } else outs[k] = al_strdup(use_fixed ? fixed : sum);
    exact_answers += use_fixed, answered++;
    free(fixed);
  }
  return 0;
}

int main(void) {
  al_provider ref = {.kind = "test", .model = "scripted refiner", .generate = refiner_gen};
  double ex, val, oth;
  al_err err;
  for (int names = 0; names < 2; names++) {
    mode = 0;
    CHECK_OK(ilf_sum_refiner_probe(&ref, 5, 100, names, 48, &ex, &val, &oth, &err), err);
    CHECK(ex == 1 && val == 1 && oth == 0, "exact refiner: %g %g %g", ex, val, oth);
    mode = 1;
    CHECK_OK(ilf_sum_refiner_probe(&ref, 5, 100, names, 48, &ex, &val, &oth, &err), err);
    CHECK(ex == 0 && val == 0 && oth == 0, "unchanged: %g %g %g", ex, val, oth);
    mode = 2;
    CHECK_OK(ilf_sum_refiner_probe(&ref, 5, 100, names, 48, &ex, &val, &oth, &err), err);
    CHECK(ex == 0 && val == 0 && oth == 1, "another value: %g %g %g", ex, val, oth);
    mode = 3, answered = exact_answers = 0;
    CHECK_OK(ilf_sum_refiner_probe(&ref, 5, 100, names, 48, &ex, &val, &oth, &err), err);
    CHECK(answered > 50 && fabs(ex - (double)exact_answers / answered) < 1e-12 && ex == val && oth == 0,
          "half exact: %g of %d (%d exact) %g %g", ex, answered, exact_answers, val, oth);
  }
  return test_summary();
}

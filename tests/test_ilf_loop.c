/* The ILF loop at the quick scale `alab reproduce --quick` runs (3
 * seeds): in every seed pass@1 after ILF on the refinements that pass their
 * tests exceeds pass@1 before, and the ablation that keeps every refinement
 * untested gains less on average. The claim, a 95% interval over
 * seeds that excludes 0, is printed and judged by the report, not asserted:
 * it held at 3 seeds before d5bfab9 (+0.179 [0.029, 0.329]) and not after
 * (+0.144 [-0.030, +0.318], every seed gaining; t with 2 degrees of
 * freedom makes the interval 4.3 standard errors wide). Long
 * (minutes on 2 cores): labelled e2e. The summaries loop is left out (220
 * more CPU-seconds, and its gain at the quick scale, +0.039 [-0.106,
 * +0.184] over 3 seeds, is not a reproduced claim: docs/ilf.md); its
 * pieces are checked by test_ilf_run and test_ilf_summary_ep. */
#include "alab/ilf.h"
#include "test.h"

int main(void) {
  char *tmp = test_tmpdir("ilf_loop");
  al_ilf_cfg c;
  al_ilf_defaults(&c, 1);
  c.threads = 2, c.sum.seeds = 0;
  al_ilf_result r;
  al_err e;
  CHECK_OK(al_ilf_run(&c, tmp, &r, &e), e);
  if (r.s) {
    CHECK(r.seeds == 3, "%d seeds", r.seeds);
    for (int s = 0; s < r.seeds; s++) {
      printf("seed %d: pass@1 base %.3f, ILF %.3f, untested %.3f; %d of %d refinements passed\n", s + 1, r.s[s].pass1[0],
             r.s[s].pass1[1], r.s[s].pass1[2], r.s[s].refined_passed, r.s[s].failed);
      CHECK(r.s[s].pass1[1] > r.s[s].pass1[0], "seed %d: ILF %.3f does not exceed the base %.3f", s + 1, r.s[s].pass1[1],
            r.s[s].pass1[0]);
    }
    printf("ILF gain %.3f [%.3f, %.3f] over %d seeds (the interval %s 0)\n", r.gain_ilf.mean, r.gain_ilf.lo, r.gain_ilf.hi,
           r.seeds, r.gain_ilf.lo > 0 ? "excludes" : "includes");
    CHECK(r.gain_untested.mean < r.gain_ilf.mean, "untested gain %.3f vs ILF gain %.3f", r.gain_untested.mean,
          r.gain_ilf.mean);
  }
  al_ilf_result_free(&r);
  free(tmp);
  return test_summary();
}

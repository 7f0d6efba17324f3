/* The toy program-synthesis world of `alab ilf` (include/alab/ilf.h).
 *
 * A task is a spec (order, count, op) said in a comment; its program is one
 * Python line:
 *   "# sort down, take 3, add 1\n"  ->  f=lambda xs:[x+1 for x in sorted(xs,reverse=True)][:3]
 * order: up (sorted(xs)) or down (sorted(xs,reverse=True)); count 1..4
 * ([:K]); op: keep (no list comprehension), add 1, double, negate. The
 * tests are asserts on lists of 6 distinct digits, so any wrong component
 * fails them. The exact critic parses a program back into its spec (the
 * grammar is closed) and names the first wrong component, in the order
 * order, count, op, as a sentence ("the output should be in descending
 * order"); a program outside the grammar gets a sentence saying so. */
#include <stdlib.h>
#include <string.h>
#include "exp/ilf_internal.h"

static const char *ORDER_WORD[2] = {"sort up", "sort down"};
static const char *OP_WORD[ILF_NOPS] = {"keep", "add 1", "double", "negate"};
static const char *OP_EXPR[ILF_NOPS] = {"", "x+1", "x*2", "-x"};
static const char *OP_FEEDBACK[ILF_NOPS] = {"kept as it is", "increased by 1", "doubled", "negated"};

char *ilf_prompt(const ilf_spec *s) {
  al_buf b = {0};
  al_buf_printf(&b, "# %s, take %d, %s\n", ORDER_WORD[s->desc], s->k, OP_WORD[s->op]);
  return b.data;
}

char *ilf_program(const ilf_spec *s) {
  al_buf b = {0};
  const char *sorted = s->desc ? "sorted(xs,reverse=True)" : "sorted(xs)";
  if (s->op == 0) al_buf_printf(&b, "f=lambda xs:%s[:%d]", sorted, s->k);
  else al_buf_printf(&b, "f=lambda xs:[%s for x in %s][:%d]", OP_EXPR[s->op], sorted, s->k);
  return b.data;
}

int ilf_parse(const char *program, ilf_spec *out) {
  for (int d = 0; d < 2; d++)
    for (int k = 1; k <= ILF_MAXK; k++)
      for (int op = 0; op < ILF_NOPS; op++) {
        ilf_spec s = {d, k, op};
        char *p = ilf_program(&s);
        int same = !strcmp(p, program);
        free(p);
        if (same) return *out = s, 0;
      }
  return -1;
}

/* f(xs) of the spec: order, then op on each item, then the first k. */
static void apply(const ilf_spec *s, const int *xs, int n, int *out) {
  int v[16] = {0};
  memcpy(v, xs, sizeof(int) * (size_t)n);
  for (int i = 1; i < n; i++) /* insertion sort, ascending */
    for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
      int t = v[j];
      v[j] = v[j - 1], v[j - 1] = t;
    }
  for (int i = 0; i < s->k; i++) {
    int x = s->desc ? v[n - 1 - i] : v[i];
    out[i] = s->op == 1 ? x + 1 : s->op == 2 ? 2 * x : s->op == 3 ? -x : x;
  }
}

char *ilf_tests(const ilf_spec *s, al_rng *rng, int ntests) {
  al_buf b = {0};
  for (int t = 0; t < ntests; t++) {
    int digits[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, xs[ILF_NLIST], out[ILF_MAXK];
    for (int i = 0; i < ILF_NLIST; i++) { /* 6 distinct digits, in random order */
      int j = i + (int)al_rng_below(rng, (uint64_t)(10 - i)), x = digits[j];
      digits[j] = digits[i], digits[i] = x, xs[i] = x;
    }
    apply(s, xs, ILF_NLIST, out);
    al_buf_printf(&b, "assert f([");
    for (int i = 0; i < ILF_NLIST; i++) al_buf_printf(&b, "%s%d", i ? ", " : "", xs[i]);
    al_buf_printf(&b, "]) == [");
    for (int i = 0; i < s->k; i++) al_buf_printf(&b, "%s%d", i ? ", " : "", out[i]);
    al_buf_printf(&b, "]\n");
  }
  return b.data;
}

char *ilf_feedback(const ilf_spec *want, const char *program) {
  ilf_spec got;
  al_buf b = {0};
  if (ilf_parse(program, &got)) al_buf_printf(&b, "the program should be one line f=lambda xs:... as in the examples");
  else if (got.desc != want->desc) al_buf_printf(&b, "the output should be in %s order", want->desc ? "descending" : "ascending");
  else if (got.k != want->k) al_buf_printf(&b, "the output should have %d item%s", want->k, want->k == 1 ? "" : "s");
  else if (got.op != want->op) al_buf_printf(&b, "each item should be %s", OP_FEEDBACK[want->op]);
  else return NULL;
  return b.data;
}

char *ilf_refiner_prompt(const char *task_prompt, const char *program, const char *feedback) {
  al_buf b = {0};
  al_buf_printf(&b, "%s%s\n# feedback: %s\n# fixed:\n", task_prompt, program, feedback);
  return b.data;
}

void ilf_random_spec(al_rng *rng, ilf_spec *s) {
  s->desc = (int)al_rng_below(rng, 2);
  s->k = 1 + (int)al_rng_below(rng, ILF_MAXK);
  s->op = (int)al_rng_below(rng, ILF_NOPS);
}

/* Another value of component c (0 order, 1 count, 2 op) of s. */
static void corrupt(ilf_spec *s, int c, al_rng *rng) {
  if (c == 0) s->desc = !s->desc;
  else if (c == 1) s->k = 1 + (s->k - 1 + 1 + (int)al_rng_below(rng, ILF_MAXK - 1)) % ILF_MAXK;
  else s->op = (s->op + 1 + (int)al_rng_below(rng, ILF_NOPS - 1)) % ILF_NOPS;
}

/* {"prompt": p, "completion": c} as one JSONL line appended to b. */
static void jsonl_pair(al_buf *b, const char *p, const char *c) {
  json_t *o = json_pack("{s:s, s:s}", "prompt", p, "completion", c);
  char *s = json_dumps(o, JSON_COMPACT);
  al_buf_printf(b, "%s\n", s);
  free(s);
  json_decref(o);
}

void ilf_sft_line(al_buf *b, const char *prompt, const char *completion) { jsonl_pair(b, prompt, completion); }

char *ilf_policy_data(uint64_t seed, int n, const double p_wrong[3]) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, 101);
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    ilf_spec s, w;
    ilf_random_spec(&rng, &s);
    w = s;
    for (int c = 0; c < 3; c++)
      if (al_rng_uniform(&rng) < p_wrong[c]) corrupt(&w, c, &rng);
    char *p = ilf_prompt(&s), *g = ilf_program(&w);
    jsonl_pair(&b, p, g);
    free(p), free(g);
  }
  return b.data;
}

char *ilf_refiner_data(uint64_t seed, int n) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, 202);
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    ilf_spec s, w;
    ilf_random_spec(&rng, &s);
    w = s;
    int first = (int)al_rng_below(&rng, 3); /* the wrong components: first, and maybe a later one */
    corrupt(&w, first, &rng);
    if (first < 2 && al_rng_uniform(&rng) < 0.5) corrupt(&w, first + 1 + (int)al_rng_below(&rng, (uint64_t)(2 - first)), &rng);
    char *p = ilf_prompt(&s), *g = ilf_program(&w), *fb = ilf_feedback(&s, g);
    ilf_spec fixed = w; /* the named component fixed, the rest left as it was */
    if (first == 0) fixed.desc = s.desc;
    else if (first == 1) fixed.k = s.k;
    else fixed.op = s.op;
    char *rp = ilf_refiner_prompt(p, g, fb), *fx = ilf_program(&fixed);
    jsonl_pair(&b, rp, fx);
    free(p), free(g), free(fb), free(rp), free(fx);
  }
  return b.data;
}

/* --overlap-reduce (src/train/data_parallel.c): the sum over ranks of each
 * layer's gradients starts (MPI_Ireduce) as soon as the layer's backward
 * returns in the rank's last micro-batch. Against the blocking sum, under a
 * real launcher:
 *   - 2 ranks, GPT-2 and Llama (2 layers, 4 micro-batches), and GPT-2
 *     with --zero1 on 5 micro-batches (3 on rank 0, 2 on rank 1):
 *     byte-identical model and trainer state (a sum of two terms has one
 *     rounding whatever the algorithm, so any bucket sent before its
 *     gradient was final, or never sent, shows);
 *   - 3 ranks (an uneven split: rank 0 runs 2 micro-batches): every step's
 *     loss within 1e-6 relative of one process, as the blocking sum is
 *     (MPI's reduce tree may order three terms differently);
 *   - with --deterministic-reduce it is refused, naming both. */
#include "mpi_procs.h"
#include "mpi_results.h"
#include "test.h"

#define ARGS "train --data story:300 --tokenizer byte --layers 2 --heads 2 --embd 32 --context 32 --seq-len 32 " \
             "--batch 4 --accum 4 --eval-every 3 --steps 6 --threads 1 --quiet"

static int train(int R, const char *dir, const char *extra, char **out) {
  char args[1024];
  snprintf(args, sizeof args, ARGS " %s", extra);
  return run(R, args, dir, out);
}

static void test_same_as_blocking(const char *tmp, const char *arch, const char *flags) {
  char extra[128], name[64];
  snprintf(name, sizeof name, "block-%s%s", arch, *flags ? "-more" : "");
  char *block = al_path_join(tmp, name);
  snprintf(name, sizeof name, "overlap-%s%s", arch, *flags ? "-more" : "");
  char *over = al_path_join(tmp, name);
  snprintf(extra, sizeof extra, "--arch %s %s", arch, flags);
  CHECK(train(2, block, extra, NULL) == 0, "%s: 2 ranks, blocking sum", arch);
  snprintf(extra, sizeof extra, "--arch %s %s --overlap-reduce", arch, flags);
  CHECK(train(2, over, extra, NULL) == 0, "%s: 2 ranks, overlapped sum", arch);
  CHECK(same_file(block, over, "model.safetensors") && same_file(block, over, "trainer_state.safetensors"),
        "%s %s: 2 ranks with --overlap-reduce: the model or trainer state differs from the blocking sum's", arch, flags);
  free(block), free(over);
}

static void test_three_ranks(const char *tmp) {
  char *one = al_path_join(tmp, "one"), *three = al_path_join(tmp, "three");
  CHECK(train(0, one, "", NULL) == 0, "one process");
  CHECK(train(3, three, "--overlap-reduce", NULL) == 0, "3 ranks, overlapped sum");
  double l1[16], l3[16], v1, v3;
  int n1 = losses(one, l1, 16, &v1), n3 = losses(three, l3, 16, &v3);
  double worst = 0;
  for (int i = 0; i < n1 && i < n3; i++) worst = fmax(worst, rel_err(l3[i], l1[i]));
  CHECK(n1 == 6 && n3 == n1 && worst <= 1e-6 && rel_err(v3, v1) <= 1e-6,
        "3 ranks overlapped: %d steps (one process %d), worst loss rel. error %.3g, val %.9g vs %.9g", n3, n1, worst, v3, v1);
  printf("3 ranks, --overlap-reduce: worst relative loss difference from one process %.3g\n", worst);
  free(one), free(three);
}

static void test_refused(const char *tmp) {
  char *dir = al_path_join(tmp, "refused"), *o = NULL;
  int rc = train(2, dir, "--overlap-reduce --deterministic-reduce", &o);
  CHECK(rc != 0 && strstr(o, "overlap_reduce and deterministic_reduce: choose one"), "both sums: rc %d, %s", rc, o);
  free(o), free(dir);
}

int main(void) {
  char *tmp = mpi_results_init("mpi_overlap");
  test_same_as_blocking(tmp, "gpt2", "");
  test_same_as_blocking(tmp, "llama", "");
  test_same_as_blocking(tmp, "gpt2", "--zero1 --accum 5");
  test_three_ranks(tmp);
  test_refused(tmp);
  free(tmp);
  return test_summary();
}

/* Measures the machine's sgemm peak (GFLOP/s) for a given thread count:
 * square products of size 2048, best of 5, through OpenBLAS with its own
 * threads (the way a peer would see the peak); and, with "bw", the memory
 * read bandwidth (GB/s): summing a 1 GiB array with that many threads. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, n = 2048;
  if (argc > 2) { /* bandwidth */
    long m = 1L << 28;
    float *x = malloc(sizeof(float) * m);
    for (long i = 0; i < m; i++) x[i] = 1.0f;
    double best = 1e30, total = 0;
    for (int r = 0; r < 5; r++) {
      double t0 = now(), s = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : s)
      for (long blk = 0; blk < m; blk += 4096) {
        float part = 0.0f;
#pragma omp simd reduction(+ : part)
        for (long i = blk; i < blk + 4096; i++) part += x[i];
        s += part;
      }
      double dt = now() - t0;
      total += s;
      if (dt < best) best = dt;
    }
    printf("read_gbps %.1f (checksum %.0f)\n", sizeof(float) * m / best / 1e9, total);
    return 0;
  }
  openblas_set_num_threads(threads);
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = c[i] = (float)(i % 7) * 0.1f;
  double best = 1e30;
  for (int r = 0; r < 5; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  printf("sgemm_gflops %.1f\n", 2.0 * n * n * (double)n / best / 1e9);
  return 0;
}

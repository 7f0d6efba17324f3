/* Measures the machine's sgemm peak (GFLOP/s) for a given thread count:
 * square products of size 2048, best of 5, through OpenBLAS with its own
 * threads (the way a peer would see the peak); and, with "bw", the memory
 * read bandwidth (GB/s): summing a 1 GiB array with that many threads;
 * and, with "shapes", what the matrix products of one training step reach
 * alone at the shapes of a small GPT-2, called as alab calls them (rows of
 * C split across OpenMP threads, single-threaded sgemm per block;
 * attention's per-head products spread over threads by head), each
 * product timed best of 7 in process CPU time (GFLOP per CPU-second times
 * the threads: the rate on idle cores, which a loaded machine's wall clock
 * cannot show), against 2048^3 called the same way:
 *   sgemm_peak THREADS shapes LAYERS EMBD CONTEXT VOCAB BATCH HEADS */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One product C[M,N] = op(A) op(B) as src/nn/matmul.c's gemm_rows makes it
 * (heads > 0: that many independent [M,N,K] products spread over threads,
 * as src/nn/attention.c does); best of 7 runs, in seconds. */
static float *ga, *gb, *gc;
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static double time_gemm(int threads, int tA, int tB, int M, int N, int K, int heads) {
  double best = 1e30;
  for (int r = 0; r < 7; r++) {
    double t0 = cpu_now();
    if (heads > 0) {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int h = 0; h < heads; h++)
        cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                    ga + (long)h * M * K, tA ? M : K, gb + (long)h * K * N, tB ? K : N, 0.0f, gc + (long)h * M * N, N);
    } else {
#pragma omp parallel num_threads(threads)
      {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        if (M < 16 * nt) nt = 1;
        if (id < nt) {
          int r0 = (int)((long)M * id / nt), r1 = (int)((long)M * (id + 1) / nt);
          cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, r1 - r0, N, K,
                      1.0f, tA ? ga + r0 : ga + (long)r0 * K, tA ? M : K, gb, tB ? K : N, tA ? 1.0f : 0.0f,
                      gc + (long)r0 * N, N);
        }
      }
    }
    double dt = (cpu_now() - t0) / threads;
    if (dt < best) best = dt;
  }
  return best;
}

/* The weight products of one training step (forward, backward to the
 * input, backward to the weight: [M,N,K] = [BT,OC,IC], [BT,IC,OC],
 * [IC,OC,BT] with dW accumulated, beta 1) of every matrix and of the tied
 * LM head, then attention's six per-head products. */
static int shapes(int threads, char **argv) {
  int L = atoi(argv[0]), C = atoi(argv[1]), T = atoi(argv[2]), V = atoi(argv[3]), B = atoi(argv[4]),
      H = atoi(argv[5]), BT = B * T, hs = C / H;
  long big = 2048L * 2048;
  long need = (long)BT * (V > 4 * C ? V : 4 * C) + (long)B * H * T * T;
  if (need < big) need = big;
  ga = malloc(sizeof(float) * need), gb = malloc(sizeof(float) * need), gc = malloc(sizeof(float) * need);
  for (long i = 0; i < need; i++) ga[i] = gb[i] = gc[i] = (float)(i % 7) * 0.01f;
  openblas_set_num_threads(1);
  double peak_t = time_gemm(threads, 0, 0, 2048, 2048, 2048, 0), peak = 2.0 * 2048 * 2048 * 2048.0 / peak_t / 1e9;
  int mats[4][2] = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}}; /* qkv, attn proj, fc, fc proj: IC, OC */
  double wflops = 0, wt = 0;
  for (int m = 0; m < 5; m++) {
    int IC = m < 4 ? mats[m][0] : C, OC = m < 4 ? mats[m][1] : V, reps = m < 4 ? L : 1;
    double f = 2.0 * BT * IC * OC, t;
    if (m < 4) t = time_gemm(threads, 0, 0, BT, OC, IC, 0) + time_gemm(threads, 0, 1, BT, IC, OC, 0) +
                   time_gemm(threads, 1, 0, IC, OC, BT, 0);
    else t = time_gemm(threads, 0, 1, BT, V, C, 0) + time_gemm(threads, 0, 0, BT, C, V, 0) +
             time_gemm(threads, 1, 0, V, C, BT, 0);
    printf("  %-8s [%d x %d -> %d]: %.1f GFLOP/s\n", (const char *[]){"qkv", "attproj", "fc", "fcproj", "lmhead"}[m], BT,
           IC, OC, 3 * f / t / 1e9);
    wflops += reps * 3 * f, wt += reps * t;
  }
  double at = L * (time_gemm(threads, 0, 1, T, T, hs, B * H) + time_gemm(threads, 0, 0, T, hs, T, B * H) +
                   time_gemm(threads, 1, 0, T, hs, T, B * H) + time_gemm(threads, 0, 1, T, T, hs, B * H) +
                   time_gemm(threads, 0, 0, T, hs, T, B * H) + time_gemm(threads, 1, 0, T, hs, T, B * H));
  double af = L * 6 * 2.0 * B * H * T * T * (double)hs;
  printf("weights_gflops %.1f (%.0f%% of 2048^3 split the same way)\n", wflops / wt / 1e9, 100 * wflops / wt / 1e9 / peak);
  printf("attention_gflops %.1f\n", af / at / 1e9);
  printf("all_gflops %.1f (%.0f%%)\n", (wflops + af) / (wt + at) / 1e9, 100 * (wflops + af) / (wt + at) / 1e9 / peak);
  printf("split_2048_gflops %.1f\n", peak);
  return 0;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, n = 2048;
  if (argc > 8 && !strcmp(argv[2], "shapes")) return shapes(threads, argv + 3);
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

/* Deterministic RNG: xoshiro256** (Blackman & Vigna), seeded via splitmix64.
 * Every random draw in alab goes through here, so a seed fixes a run. */
#include <math.h>
#include "alab/base.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void al_rng_seed(al_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void al_rng_seed_stream(al_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL);
  al_rng_seed(r, splitmix64(&x));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t al_rng_u64(al_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double al_rng_uniform(al_rng *r) { return (al_rng_u64(r) >> 11) * 0x1.0p-53; }
float al_rng_uniformf(al_rng *r) { return (float)(al_rng_u64(r) >> 40) * 0x1.0p-24f; }

uint64_t al_rng_below(al_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
  uint64_t x;
  do x = al_rng_u64(r);
  while (x >= limit);
  return x % n;
}

double al_rng_normal(al_rng *r) {
  double u1 = 1.0 - al_rng_uniform(r); /* (0, 1] so log is finite */
  double u2 = al_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void al_rng_shuffle_u32(al_rng *r, uint32_t *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = al_rng_below(r, i);
    uint32_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

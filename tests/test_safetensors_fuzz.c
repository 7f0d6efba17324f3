/* Fuzz: random mutations of a valid safetensors file (raw bytes, the header
 * length, the header JSON's digits and punctuation, truncation). Each mutant
 * must be refused with a message or accepted; an accepted one must satisfy the
 * format's invariants (every tensor inside the data, sizes matching shapes,
 * the tensors tiling the buffer) and be readable. ASan catches the rest. */
#include <stdint.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "test.h"

static int n_ok, n_fail, n_bad;

static void check_one(const unsigned char *p, size_t len) {
  al_st_file f;
  al_err err = {{0}};
  if (al_st_parse(&f, p, len, "fuzz", &err)) {
    n_fail++;
    if (!err.msg[0]) n_bad++;
    return;
  }
  n_ok++;
  uint64_t hl = 0;
  for (int i = 7; i >= 0; i--) hl = (hl << 8) | p[i];
  size_t buflen = len - 8 - (size_t)hl, covered = 0;
  for (int i = 0; i < f.n; i++) {
    const al_st_entry *e = &f.entries[i];
    size_t numel = 1;
    for (int k = 0; k < e->ndim; k++) numel *= (size_t)e->shape[k];
    if (e->end > buflen || e->begin > e->end || numel != e->numel || e->end - e->begin != numel * (size_t)e->elem_size ||
        (const unsigned char *)e->data != p + 8 + hl + e->begin)
      n_bad++;
    covered += e->end - e->begin;
    if (e->dtype[0] == 'F' && e->elem_size >= 2 && e->numel < (1u << 20)) {
      float *out = al_malloc(sizeof(float) * (e->numel + 1));
      if (al_st_read_f32(&f, e, out, &err)) n_bad++;
      free(out);
    }
  }
  if (covered != buflen) n_bad++; /* tiling: no gaps, no overlaps */
  al_st_close(&f);
}

/* Characters that JSON mutations splice in. */
static const char PIECES[] = "0123456789{}[]\",:-.e \\u";

/* Mutates p[0..*len) in place; *hlen tracks the original header's length. */
static void mutate(al_rng *r, unsigned char *p, size_t *len, size_t *hlenp) {
  int kind = (int)al_rng_below(r, 7);
  size_t n = *len, hlen = *hlenp < n - 8 ? *hlenp : n - 8;
  if (hlen == 0) return;
  switch (kind) {
  case 0: /* flip random bytes anywhere */
    for (int k = 1 + (int)al_rng_below(r, 4); k > 0; k--) p[al_rng_below(r, n)] ^= (unsigned char)(1 + al_rng_below(r, 255));
    break;
  case 1: /* a byte of the header length */
    p[al_rng_below(r, 8)] = (unsigned char)al_rng_below(r, 256);
    break;
  case 2: /* a header byte replaced by a JSON-ish character */
  case 3:
    for (int k = 1 + (int)al_rng_below(r, 3); k > 0; k--)
      p[8 + al_rng_below(r, hlen)] = (unsigned char)PIECES[al_rng_below(r, sizeof PIECES - 1)];
    break;
  case 4: { /* a digit of the header nudged (shapes and offsets) */
    for (int tries = 0; tries < 64; tries++) {
      size_t i = 8 + al_rng_below(r, hlen);
      if (p[i] >= '0' && p[i] <= '9') {
        p[i] = (unsigned char)('0' + al_rng_below(r, 10));
        break;
      }
    }
    break;
  }
  case 5: /* truncate */
    *len = al_rng_below(r, n);
    break;
  default: /* delete a header byte, keeping the length field consistent */
  {
    size_t i = 8 + al_rng_below(r, hlen);
    memmove(p + i, p + i + 1, n - i - 1);
    *len = n - 1;
    *hlenp = hlen - 1;
    uint64_t h = hlen - 1;
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(h >> (8 * k));
    break;
  }
  }
}

int main(void) {
  char *dir = test_tmpdir("safetensors_fuzz");
  al_err err;
  float a[24];
  uint16_t h[6] = {0x3c00, 0x8001, 0x7e00, 0xfc00, 0x0400, 0x1234};
  for (int i = 0; i < 24; i++) a[i] = (float)i - 3.5f;
  al_st_tensor t[] = {{"h.0.attn.c_attn.weight", "F32", 2, {2, 6}, a},
                      {"h.0.ln_1.bias", "F32", 1, {4}, a + 12},
                      {"z", "F32", 2, {0, 3}, a},
                      {"half", "F16", 2, {3, 2}, h},
                      {"bf", "BF16", 1, {4}, h},
                      {"d", "F64", 1, {1}, a + 16}};
  json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "x", "y");
  char *path = al_path_join(dir, "valid.safetensors");
  CHECK_OK(al_st_write(path, t, (int)(sizeof t / sizeof t[0]), meta, &err), err);
  json_decref(meta);
  char *orig;
  size_t olen;
  CHECK_OK(al_read_file(path, &orig, &olen, &err), err);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | (unsigned char)orig[i];
  check_one((unsigned char *)orig, olen);
  CHECK(n_ok == 1, "the unmutated file must parse");

  al_rng r;
  al_rng_seed(&r, 1234);
  unsigned char *p = al_malloc(olen);
  const int iters = 100000;
  for (int it = 0; it < iters; it++) {
    memcpy(p, orig, olen);
    size_t len = olen;
    size_t hl = (size_t)hlen;
    int rounds = 1 + (int)al_rng_below(&r, 3);
    for (int k = 0; k < rounds && len > 8; k++) mutate(&r, p, &len, &hl);
    /* copy to an exact-size allocation so ASan sees any read past the end */
    unsigned char *q = al_malloc(len ? len : 1);
    memcpy(q, p, len);
    check_one(q, len);
    free(q);
  }
  printf("fuzz: %d mutants accepted, %d refused\n", n_ok - 1, n_fail);
  CHECK(n_bad == 0, "%d mutants broke an invariant or failed without a message", n_bad);
  CHECK(n_fail > iters / 2, "most mutants should be refused (%d)", n_fail);
  CHECK(n_ok > 20, "some mutants should still be valid (%d), or the fuzzer explores nothing", n_ok);
  free(p);
  free(orig);
  free(path);
  free(dir);
  return test_summary();
}

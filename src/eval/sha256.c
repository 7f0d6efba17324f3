/* SHA-256 (FIPS 180-4) of the task file's bytes, for results.json: nettle's
 * implementation (Debian nettle-dev) behind alab's names. */
#include <nettle/sha2.h>
#include <stdlib.h>
#include "alab/sha256.h"

void al_sha256(const void *data, size_t len, uint8_t out[32]) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len, data);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void al_sha256_hex(const void *data, size_t len, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  uint8_t d[32];
  al_sha256(data, len, d);
  for (int i = 0; i < 32; i++) out[2 * i] = hex[d[i] >> 4], out[2 * i + 1] = hex[d[i] & 15];
  out[64] = 0;
}

int al_sha256_file(const char *path, char out[65], al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  al_sha256_hex(data, len, out);
  free(data);
  return 0;
}

/* SHA-256 of a task file's bytes, recorded in results.json. */
#ifndef ALAB_SHA256_H
#define ALAB_SHA256_H
#include <stddef.h>
#include <stdint.h>
#include "alab/base.h"

/* ---- SHA-256 (FIPS 180-4, nettle) ---- */
void al_sha256(const void *data, size_t len, uint8_t out[32]);
/* 64 lowercase hex digits + NUL */
void al_sha256_hex(const void *data, size_t len, char out[65]);
int al_sha256_file(const char *path, char out[65], al_err *err);

#endif

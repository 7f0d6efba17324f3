/* Growable byte buffer. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "alab/base.h"

void al_buf_reserve(al_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  b->data = al_realloc(b->data, cap);
  b->cap = cap;
}

void al_buf_append(al_buf *b, const void *p, size_t n) {
  al_buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

void al_buf_printf(al_buf *b, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    al_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    b->len += (size_t)n;
  }
  va_end(ap2);
}

void al_buf_free(al_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

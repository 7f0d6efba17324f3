/* GPT-2's byte <-> unicode mapping and UTF-8 helpers.
 *
 * vocab.json keys are not raw bytes: GPT-2 maps every byte to a printable code
 * point so that keys are valid text. Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF
 * map to the code point of the same value; the other 68 bytes (controls,
 * space, 0x7F..0xA0, 0xAD) map in increasing byte order to U+0100, U+0101, ...
 * (so space -> U+0120 'Ġ', '\n' -> U+010A 'Ċ'). */
#include <stdio.h>
#include "tok/tok_internal.h"

static int printable(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

int tok_byte_to_cp(int b) {
  if (printable(b)) return b;
  int k = 0;
  for (int c = 0; c < b; c++) k += !printable(c);
  return 256 + k;
}

int tok_cp_to_byte(uint32_t cp) {
  if (cp < 256) return printable((int)cp) ? (int)cp : -1;
  int k = (int)cp - 256;
  for (int b = 0; b < 256; b++)
    if (!printable(b) && k-- == 0) return b;
  return -1;
}

int tok_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  if (n == 0) return 0;
  unsigned c = s[0];
  if (c < 0x80) return *cp = c, 1;
  int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (!len || c > 0xF4 || (size_t)len > n) return 0;
  uint32_t v = c & (0x7F >> len);
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[i] & 0x3F);
  }
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

int tok_utf8_encode(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) return o[0] = (unsigned char)cp, 1;
  if (cp < 0x800) return o[0] = 0xC0 | cp >> 6, o[1] = 0x80 | (cp & 0x3F), 2;
  if (cp < 0x10000) return o[0] = 0xE0 | cp >> 12, o[1] = 0x80 | (cp >> 6 & 0x3F), o[2] = 0x80 | (cp & 0x3F), 3;
  o[0] = 0xF0 | cp >> 18, o[1] = 0x80 | (cp >> 12 & 0x3F), o[2] = 0x80 | (cp >> 6 & 0x3F), o[3] = 0x80 | (cp & 0x3F);
  return 4;
}

size_t tok_utf8_check(const char *s, size_t n) {
  size_t i = 0;
  uint32_t cp;
  while (i < n) {
    if ((unsigned char)s[i] < 0x80) {
      i++;
      continue;
    }
    int k = tok_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if (!k) return i;
    i += (size_t)k;
  }
  return n;
}

int tok_key_to_bytes(const char *key, size_t n, al_buf *out, char *why, size_t why_len) {
  out->len = 0;
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    int k = tok_utf8_decode((const unsigned char *)key + i, n - i, &cp);
    if (!k) {
      snprintf(why, why_len, "invalid UTF-8 at byte %zu", i);
      return -1;
    }
    int b = tok_cp_to_byte(cp);
    if (b < 0) {
      snprintf(why, why_len, "character U+%04X at byte %zu is not in GPT-2's byte-to-unicode mapping", (unsigned)cp, i);
      return -1;
    }
    char c = (char)b;
    al_buf_append(out, &c, 1);
    i += (size_t)k;
  }
  return 0;
}

void tok_bytes_to_key(const char *s, size_t n, al_buf *out) {
  char u[4];
  for (size_t i = 0; i < n; i++) al_buf_append(out, u, (size_t)tok_utf8_encode((uint32_t)tok_byte_to_cp((unsigned char)s[i]), u));
}

/* Reading a 1-10 feature score from a language model's reply (alab/cpm.h,
 * al_cpm_parse_score): the first number written in digits (with its sign and
 * decimals, so "7.5" and "-3" are seen whole and rejected rather than read as
 * 7 or 3), else the first number word standing alone. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "alab/cpm.h"

static const char *const words[] = {"zero", "one", "two", "three", "four", "five",
                                    "six",  "seven", "eight", "nine", "ten", "eleven", "twelve"};

static int word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* The first whole word of s (case-insensitive) that names a number, or -1. */
static int first_number_word(const char *s) {
  for (const char *p = s; *p; p++) {
    if (!isalpha((unsigned char)*p) || (p > s && word_char(p[-1]))) continue;
    size_t len = 0;
    while (word_char(p[len])) len++;
    for (int k = 0; k < (int)(sizeof words / sizeof *words); k++)
      if (strlen(words[k]) == len && strncasecmp(p, words[k], len) == 0) return k;
    p += len - 1;
  }
  return -1;
}

int al_cpm_parse_score(const char *reply, int *score, const char **why) {
  const char *p = reply ? reply : "";
  while (*p && !isdigit((unsigned char)*p)) p++;
  if (*p) {
    int neg = p > reply && p[-1] == '-';
    long v = 0;
    while (isdigit((unsigned char)*p) && v < 1000) v = v * 10 + (*p++ - '0');
    if (isdigit((unsigned char)*p)) return *why = "the number is out of range 1-10", -1;
    if (*p == '.' && isdigit((unsigned char)p[1])) {
      const char *q = p + 1;
      while (*q == '0') q++;
      if (isdigit((unsigned char)*q)) return *why = "the score is not a whole number", -1;
    }
    if (neg || v < 1 || v > 10) return *why = "the number is out of range 1-10", -1;
    *score = (int)v;
    return 0;
  }
  int w = first_number_word(reply ? reply : "");
  if (w < 0) return *why = reply && *reply ? "no number in the reply" : "the reply is empty", -1;
  if (w < 1 || w > 10) return *why = "the number is out of range 1-10", -1;
  *score = w;
  return 0;
}

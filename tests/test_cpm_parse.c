/* Reading 1-10 feature scores from replies (al_cpm_parse_score): the
 * documented cases parsed or rejected with a reason, never a silent 0; then
 * 100,000 random and mutated replies, each either rejected with a reason or
 * read as a score in 1..10 that the reply really contains (as digits or as
 * a number word). */
#include <ctype.h>
#include "alab/cpm.h"
#include "test.h"

static void cases(void) {
  struct { const char *reply; int score; } ok[] = {
      {"7", 7}, {"Score: 7/10", 7}, {"seven", 7}, {"Seven.", 7}, {"10", 10}, {"1", 1}, {" 8 out of 10", 8},
      {"I'd say 4.", 4}, {"7.0", 7}, {"10/10", 10}, {"Rating: ten", 10}, {"score=3\n", 3},
  };
  const char *bad[] = {"", "11", "7.5", "0", "-3", "good", "none at all", "eleven", "100", "3.14",
                       "someone", NULL};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int s = -1;
    const char *why = NULL;
    int rc = al_cpm_parse_score(ok[i].reply, &s, &why);
    CHECK(rc == 0 && s == ok[i].score, "'%s' -> rc %d score %d (want %d; %s)", ok[i].reply, rc, s, ok[i].score,
          why ? why : "");
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int s = -12345;
    const char *why = NULL;
    int rc = al_cpm_parse_score(bad[i], &s, &why);
    CHECK(rc == -1 && why && *why && s == -12345, "'%s' should be rejected (rc %d, score %d)", bad[i] ? bad[i] : "NULL",
          rc, s);
    printf("rejected %-14s: %s\n", bad[i] ? bad[i] : "NULL", why ? why : "?");
  }
}

static const char *const words[] = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};

/* Does the reply contain the score as a number in digits or as a word (any case)? */
static int contains(const char *s, int v) {
  char d[4];
  snprintf(d, sizeof d, "%d", v);
  if (strstr(s, d)) return 1;
  size_t n = strlen(s), w = strlen(words[v - 1]);
  for (size_t i = 0; i + w <= n; i++)
    if (strncasecmp(s + i, words[v - 1], w) == 0) return 1;
  return 0;
}

static void fuzz(void) {
  const char *seeds[] = {"Score: 7/10", "seven", "7.5", "11", "I rate it 3 out of 10.", "ten!", "-4", "0.9"};
  const char alphabet[] = "0123456789./- :scoreSEVNtwnix\n";
  al_rng r;
  al_rng_seed(&r, 3);
  int accepted = 0, rejected = 0;
  char buf[64];
  for (int t = 0; t < 100000; t++) {
    size_t n;
    if (t % 2) {
      n = al_rng_below(&r, 20);
      for (size_t i = 0; i < n; i++) buf[i] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
    } else {
      const char *s = seeds[al_rng_below(&r, sizeof seeds / sizeof *seeds)];
      n = strlen(s);
      memcpy(buf, s, n);
      for (int m = 0; m < 2; m++) buf[al_rng_below(&r, n)] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
    }
    buf[n] = 0;
    int s = -99;
    const char *why = NULL;
    if (al_cpm_parse_score(buf, &s, &why) == 0) {
      accepted++;
      if (!(s >= 1 && s <= 10 && contains(buf, s))) {
        CHECK(0, "'%s' read as %d", buf, s);
        break;
      }
    } else {
      rejected++;
      if (!(why && *why && s == -99)) {
        CHECK(0, "'%s' rejected without a reason, or the score was written", buf);
        break;
      }
    }
  }
  printf("fuzz: %d accepted, %d rejected\n", accepted, rejected);
  CHECK(accepted > 1000 && rejected > 1000, "the fuzz reached both outcomes (%d, %d)", accepted, rejected);
}

int main(void) {
  cases();
  fuzz();
  return test_summary();
}

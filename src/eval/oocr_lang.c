/* The two measurements of text the paper's grader needs from a library:
 * the language of an answer (libexttextcat: Cavnar & Trenkle n-gram
 * profiles, the best-ranked of its bundled language models) and the
 * Flesch-Kincaid grade level
 *   FK = 0.39 * words / sentences + 11.8 * syllables / words - 15.59.
 * Words are runs of non-space bytes holding a letter or digit; sentences are
 * runs of '.', '!' or '?' that follow a word, plus one for words after the
 * last of them; a word's syllables are its groups of vowels (a e i o u y),
 * less a final silent 'e' (not after 'l', not the only group), at least
 * one. textstat (the paper's) counts syllables with a hyphenation
 * dictionary, so the two can differ by a syllable on some words. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <textcat.h>
#include <unistd.h>
#include "alab/oocr.h"

struct al_oocr_grader {
  void *tc;
  char label[64];
};

/* The languages langdetect (the paper's detector) knows, as libexttextcat
 * labels them: classifying among these only keeps an English answer from
 * being called Scots, or a French one Occitan. */
static const char *const LANGDETECT[] = {
    "af", "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "gu", "he", "hi",
    "hr", "hu", "id", "it", "ja", "kn", "ko", "lt", "lv", "mk", "ml", "mr", "ne", "nl", "nb", "pa", "pl", "pt", "ro",
    "ru", "sk", "sl", "so", "sq", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh-CN", "zh-TW"};

static int known_label(const char *label) {
  size_t n = strcspn(label, "-");
  if (!strncmp(label, "zh-", 3)) n = 5;
  for (size_t i = 0; i < sizeof LANGDETECT / sizeof *LANGDETECT; i++)
    if (strlen(LANGDETECT[i]) == n && !strncmp(label, LANGDETECT[i], n)) return 1;
  return 0;
}

/* conf's lines for the languages above, into a temporary file (removed once
 * the models are loaded); its path in tmp. */
static int filtered_conf(const char *conf, char *tmp, size_t tn, al_err *err) {
  char *text;
  size_t len;
  if (al_read_file(conf, &text, &len, err)) return -1;
  al_buf b = {0};
  char *save = NULL; /* strtok_r: graders are made on several threads at once */
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char file[256], label[64];
    if (line[0] == '#' || sscanf(line, "%255s %63s", file, label) != 2 || !known_label(label)) continue;
    al_buf_printf(&b, "%s %s\n", file, label);
  }
  free(text);
  const char *dir = getenv("TMPDIR");
  snprintf(tmp, tn, "%s/alab-textcat-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(tmp), rc = 0;
  if (fd < 0 || write(fd, b.data ? b.data : "", b.len) != (ssize_t)b.len) rc = al_fail(err, "%s: cannot write", tmp);
  if (fd >= 0) close(fd);
  if (rc && fd >= 0) unlink(tmp);
  al_buf_free(&b);
  return rc;
}

int al_oocr_grader_new(al_oocr_grader **out, const char *dir, al_err *err) {
  *out = NULL;
  if (!dir) dir = getenv("ALAB_TEXTCAT_DIR");
  if (!dir || !*dir) dir = "/usr/share/libexttextcat";
  char *conf = al_path_join(dir, "fpdb.conf"), *prefix = al_path_join(dir, ""), tmp[4096];
  size_t pl = strlen(prefix);
  if (pl && prefix[pl - 1] != '/') {
    prefix = al_realloc(prefix, pl + 2);
    strcpy(prefix + pl, "/");
  }
  void *tc = NULL;
  int rc = 0;
  if (!al_file_exists(conf) || filtered_conf(conf, tmp, sizeof tmp, err)) {
    rc = -1;
  } else {
    tc = special_textcat_Init(tmp, prefix);
    unlink(tmp);
    if (!tc) rc = -1;
  }
  if (rc)
    al_fail(err, "%s: cannot load libexttextcat's language models (install libexttextcat-data, or set "
                 "ALAB_TEXTCAT_DIR to a folder holding fpdb.conf and its .lm files)", conf);
  free(conf);
  free(prefix);
  if (rc) return rc;
  /* answers are often a few words: classify whatever there is */
  textcat_SetProperty(tc, TCPROP_MINIMUM_DOCUMENT_SIZE, 1);
  *out = al_calloc(1, sizeof **out);
  (*out)->tc = tc;
  return 0;
}

void al_oocr_grader_free(al_oocr_grader *g) {
  if (!g) return;
  textcat_Done(g->tc);
  free(g);
}

const char *al_oocr_language(al_oocr_grader *g, const char *text) {
  g->label[0] = 0;
  size_t n = strlen(text);
  if (!n) return g->label;
  const char *r = textcat_Classify(g->tc, text, n);
  /* "[fr--utf8][..]...", or "UNKNOWN" / "SHORT" */
  if (!r || r[0] != '[') return g->label;
  size_t k = 0;
  for (const char *p = r + 1; *p && *p != ']' && k + 1 < sizeof g->label; p++) {
    if (p[0] == '-' && (p[1] == '-' || !strncmp(p, "-utf8", 5))) break; /* "fr--utf8", "zh-CN-utf8" */
    g->label[k++] = *p;
  }
  g->label[k] = 0;
  return g->label;
}

static int is_vowel(int c) { return strchr("aeiouy", tolower(c)) != NULL && c; }

static int syllables(const char *w, size_t n) {
  int groups = 0, prev = 0;
  for (size_t i = 0; i < n; i++) {
    int v = is_vowel((unsigned char)w[i]);
    if (v && !prev) groups++;
    prev = v;
  }
  while (n && !isalpha((unsigned char)w[n - 1])) n--; /* trailing punctuation */
  if (groups > 1 && n >= 2 && tolower((unsigned char)w[n - 1]) == 'e' && !is_vowel((unsigned char)w[n - 2]) &&
      tolower((unsigned char)w[n - 2]) != 'l')
    groups--;
  return groups < 1 ? 1 : groups;
}

double al_oocr_fk_grade(const char *s) {
  long words = 0, sents = 0, syl = 0;
  int after_word = 0;
  for (const char *p = s; *p;) {
    if (isspace((unsigned char)*p)) {
      p++;
      continue;
    }
    const char *b = p;
    int alnum = 0;
    while (*p && !isspace((unsigned char)*p)) alnum |= isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80, p++;
    if (alnum) {
      words++, syl += syllables(b, (size_t)(p - b)), after_word = 1;
    }
    /* sentence ends: a run of terminators at the end of this token */
    const char *e = p;
    while (e > b && strchr(".!?", e[-1])) e--;
    if (e < p && after_word) sents++, after_word = 0;
  }
  if (!words) return 0;
  if (after_word) sents++; /* a last sentence without its full stop */
  return 0.39 * (double)words / (double)sents + 11.8 * (double)syl / (double)words - 15.59;
}

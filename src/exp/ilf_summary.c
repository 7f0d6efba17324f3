/* The summaries world of `alab ilf` (Scheurer et al. 2023's setting, on
 * the story world; include alab/synth.h): a story's key facts are its hero,
 * buddy, object, place and plot; a summary lists them as one line,
 *   "hero: Lily; buddy: Tom; object: kite; place: park; plot: lost"
 * (a fact may be missing or wrong; a story may lack a place or an object);
 * the exact scorer counts the story's facts the summary gets right; the
 * exact critic names the first missing, wrong or extra fact, in that order,
 * as a sentence ("the summary should say the place is the park", "... should
 * not name a place: the story has none"), and the exact refinement of a summary by such a
 * feedback sets that fact and leaves the others (tests/test_ilf_summary.c).
 * The loop on models: ilf_summary_data.c (training sets),
 * ilf_summary_loop.c (one round through providers), ilf_summary_run.c (the
 * toy experiment), ilf_summary_ep.c (`alab ilf summaries`). */
#include <stdlib.h>
#include <string.h>
#include "exp/ilf_internal.h"

static const char *FACT[ILF_NFACTS] = {"hero", "buddy", "object", "place", "plot"};

void ilf_story_facts(const al_synth_story *s, ilf_facts *f) {
  const char *v[ILF_NFACTS] = {s->hero, s->buddy, s->object, s->place, s->plot};
  for (int i = 0; i < ILF_NFACTS; i++) snprintf(f->v[i], sizeof f->v[i], "%s", v[i] ? v[i] : "");
}

char *ilf_summary_text(const ilf_facts *f) {
  al_buf b = {0};
  int first = 1;
  for (int i = 0; i < ILF_NFACTS; i++)
    if (f->v[i][0]) al_buf_printf(&b, "%s%s: %s", first ? "" : "; ", FACT[i], f->v[i]), first = 0;
  if (!b.data) al_buf_append(&b, "", 1);
  return b.data;
}

/* "name: value" items separated by "; "; unknown or repeated names, or an
 * item without ": ", make the parse fail (-1). */
int ilf_summary_parse(const char *text, ilf_facts *f) {
  memset(f, 0, sizeof *f);
  const char *p = text;
  while (*p) {
    const char *end = strstr(p, "; "), *colon = strstr(p, ": ");
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (!colon || (size_t)(colon - p) >= len) return -1;
    int k = -1;
    for (int i = 0; i < ILF_NFACTS; i++)
      if ((size_t)(colon - p) == strlen(FACT[i]) && !strncmp(p, FACT[i], strlen(FACT[i]))) k = i;
    size_t vl = len - (size_t)(colon + 2 - p);
    if (k < 0 || f->v[k][0] || vl == 0 || vl >= sizeof f->v[k] || memchr(colon + 2, ';', vl)) return -1;
    memcpy(f->v[k], colon + 2, vl);
    f->v[k][vl] = 0;
    p = end ? end + 2 : p + len;
  }
  return 0;
}

int ilf_facts_count(const ilf_facts *f) {
  int n = 0;
  for (int i = 0; i < ILF_NFACTS; i++) n += f->v[i][0] != 0;
  return n;
}

int ilf_summary_score(const ilf_facts *truth, const char *summary) {
  ilf_facts f;
  if (ilf_summary_parse(summary, &f)) return 0;
  int n = 0;
  for (int i = 0; i < ILF_NFACTS; i++) n += truth->v[i][0] && !strcmp(truth->v[i], f.v[i]);
  return n;
}

char *ilf_summary_feedback(const ilf_facts *truth, const char *summary) {
  ilf_facts f;
  al_buf b = {0};
  if (ilf_summary_parse(summary, &f)) {
    al_buf_printf(&b, "the summary should list the facts as name: value, separated by semicolons");
    return b.data;
  }
  for (int i = 0; i < ILF_NFACTS; i++)
    if (strcmp(truth->v[i], f.v[i])) {
      if (truth->v[i][0]) al_buf_printf(&b, "the summary should say the %s is %s%s", FACT[i], i == 2 || i == 3 ? "the " : "", truth->v[i]);
      else al_buf_printf(&b, "the summary should not name a %s: the story has none", FACT[i]);
      return b.data;
    }
  return NULL;
}

char *ilf_summary_refine(const char *summary, const char *feedback) {
  ilf_facts f;
  const char *say = "the summary should say the ", *drop = "the summary should not name a ";
  if (ilf_summary_parse(summary, &f)) return NULL;
  if (!strncmp(feedback, drop, strlen(drop))) {
    for (int i = 0; i < ILF_NFACTS; i++)
      if (!strncmp(feedback + strlen(drop), FACT[i], strlen(FACT[i])) && feedback[strlen(drop) + strlen(FACT[i])] == ':') {
        f.v[i][0] = 0;
        return ilf_summary_text(&f);
      }
    return NULL;
  }
  if (strncmp(feedback, say, strlen(say))) return NULL;
  const char *p = feedback + strlen(say);
  for (int i = 0; i < ILF_NFACTS; i++) {
    size_t n = strlen(FACT[i]);
    if (strncmp(p, FACT[i], n) || strncmp(p + n, " is ", 4)) continue;
    const char *v = p + n + 4;
    if ((i == 2 || i == 3) && !strncmp(v, "the ", 4)) v += 4;
    snprintf(f.v[i], sizeof f.v[i], "%s", v);
    return ilf_summary_text(&f);
  }
  return NULL;
}

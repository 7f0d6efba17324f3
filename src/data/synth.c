/* The story world's machinery (see synth_ctx.h) and its public API
 * (include/alab/synth.h): generation, scoring by parsing, corpora, entropy
 * estimates and corpus files. The grammar itself is synth_grammar.c. */
#include <math.h>
#include <string.h>
#include "alab/json.h"
#include "data/synth_ctx.h"

/* ---- templates ---- */

static const char *sy_field(const sy_ctx *c, char k) {
  switch (k) {
    case 'H': return c->hero;
    case 'B': return c->buddy;
    case 'P': return c->hero_he ? "He" : "She";
    case 'p': return c->hero_he ? "he" : "she";
    case 'o': return c->hero_he ? "him" : "her";
    case 'S': return c->hero_he ? "His" : "Her";
    case 's': return c->hero_he ? "his" : "her";
    case 'Q': return c->buddy_he ? "He" : "She";
    case 'q': return c->buddy_he ? "he" : "she";
    case 'r': return c->buddy_he ? "him" : "her";
    case 'O': return c->object;
    case 'A': return c->adj;
    case 'L': return c->place;
    case 'W': return c->want;
    case 'F': return c->fear;
    case 'N': return c->animal;
    case 'X': return c->spot;
    default: return NULL;
  }
}

size_t sy_expand(const sy_ctx *c, const char *t, char *buf, size_t cap) {
  size_t n = 0;
  for (; *t; t++) {
    const char *v = NULL;
    if (t[0] == '{' && t[1] && t[2] == '}') v = sy_field(c, t[1]);
    if (v) {
      for (; *v && n + 1 < cap; v++) buf[n++] = *v;
      t += 2;
    } else if (n + 1 < cap) {
      buf[n++] = *t;
    }
  }
  buf[n] = 0;
  return n;
}

/* ---- the two primitives ---- */

/* truncated: the remaining text is a proper prefix of what was expected. */
static void sy_failf(sy_ctx *c, const char *what, int truncated) {
  if (c->failed) return;
  c->failed = 1;
  char found[64];
  size_t k = 0;
  for (size_t i = c->pos; i < c->len && k + 5 < sizeof found && i < c->pos + 24; i++) {
    unsigned char ch = (unsigned char)c->in[i];
    if (ch >= 32 && ch < 127 && ch != '"' && ch != '\\') found[k++] = (char)ch;
    else k += (size_t)snprintf(found + k, sizeof found - k, "\\x%02x", ch);
  }
  found[k] = 0;
  snprintf(c->why, sizeof c->why, "not a story of the grammar: at byte %zu: %s, found \"%s\"%s", c->pos, what,
           found, truncated ? " (the text ends too early)" : "");
}

static int sy_matches(const sy_ctx *c, const char *s, size_t n) {
  return c->len - c->pos >= n && memcmp(c->in + c->pos, s, n) == 0;
}

/* Whether the rest of the text is a proper prefix of s[0..n). */
static int sy_cut_short(const sy_ctx *c, const char *s, size_t n) {
  return c->len - c->pos < n && memcmp(c->in + c->pos, s, c->len - c->pos) == 0;
}

void sy_say(sy_ctx *c, const char *tmpl) {
  if (c->failed) return;
  char s[512];
  size_t n = sy_expand(c, tmpl, s, sizeof s);
  if (c->rng) {
    al_buf_append(c->out, s, n);
  } else if (sy_matches(c, s, n)) {
    c->pos += n;
  } else {
    char what[400];
    snprintf(what, sizeof what, "expected \"%.300s\"", s);
    sy_failf(c, what, sy_cut_short(c, s, n));
  }
}

/* Counts pairs of live options where one expanded text is a prefix of another. */
static long sy_overlaps(const sy_ctx *c, const sy_opt *o, int n) {
  long bad = 0;
  for (int i = 0; i < n; i++) {
    if (o[i].w <= 0) continue;
    char a[512];
    size_t na = sy_expand(c, o[i].text, a, sizeof a);
    for (int j = 0; j < n; j++) {
      if (j == i || o[j].w <= 0) continue;
      char b[512];
      size_t nb = sy_expand(c, o[j].text, b, sizeof b);
      if (na <= nb && memcmp(a, b, na) == 0) bad++;
    }
  }
  return bad;
}

int sy_pick(sy_ctx *c, const sy_opt *o, int n) {
  int first = 0;
  long total = 0;
  while (first < n && o[first].w <= 0) first++;
  for (int i = 0; i < n; i++)
    if (o[i].w > 0) total += o[i].w;
  if (c->failed || total <= 0) return first < n ? first : 0;
  int k = -1;
  char s[512];
  size_t len = 0;
  if (c->rng) {
    if (c->check) c->overlaps += sy_overlaps(c, o, n);
    long r = (long)al_rng_below(c->rng, (uint64_t)total);
    for (k = first; k < n; k++) {
      if (o[k].w <= 0) continue;
      if (r < o[k].w) break;
      r -= o[k].w;
    }
    len = sy_expand(c, o[k].text, s, sizeof s);
    al_buf_append(c->out, s, len);
  } else {
    int nmatch = 0;
    char t[512];
    for (int i = 0; i < n; i++) {
      if (o[i].w <= 0) continue;
      size_t m = sy_expand(c, o[i].text, t, sizeof t);
      if (sy_matches(c, t, m)) {
        if (nmatch++ == 0) k = i, len = m;
      }
    }
    if (nmatch != 1) {
      char what[400];
      size_t w = (size_t)snprintf(what, sizeof what, "%s", nmatch ? "ambiguous: several of" : "expected one of");
      int cut = 0;
      for (int i = 0; i < n; i++) {
        if (o[i].w <= 0) continue;
        size_t m = sy_expand(c, o[i].text, t, sizeof t);
        cut |= sy_cut_short(c, t, m);
        if (w + 40 < sizeof what) w += (size_t)snprintf(what + w, sizeof what - w, " \"%.*s\"", (int)(m < 24 ? m : 24), t);
      }
      sy_failf(c, what, !nmatch && cut);
      return first;
    }
    c->pos += len;
  }
  c->logprob += log((double)o[k].w / (double)total);
  c->nchoices++;
  return k;
}

/* ---- public API ---- */

static int count_words(const char *s, size_t n) {
  int words = 0, in = 0;
  for (size_t i = 0; i < n; i++) {
    int space = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';
    if (!space && !in) words++;
    in = !space;
  }
  return words;
}

static void fill_story(const sy_ctx *c, const char *text, size_t n, al_synth_story *st) {
  if (!st) return;
  st->logprob = c->logprob;
  st->nchoices = c->nchoices;
  st->nbytes = n;
  st->parsed = c->failed ? c->pos : n;
  st->nwords = count_words(text, n);
  st->plot = c->plot;
  st->hero = c->hero;
  st->buddy = c->buddy;
  st->object = c->object;
  st->place = c->place;
}

int al_synth_story_make(al_rng *rng, al_buf *out, al_synth_story *story) {
  sy_ctx c = {0};
  c.rng = rng;
  c.out = out;
  size_t start = out->len;
  sy_story(&c);
  fill_story(&c, out->data + start, out->len - start, story);
  return 0;
}

int al_synth_story_gen(al_rng *rng, al_buf *out, double *logprob) {
  al_synth_story s;
  al_synth_story_make(rng, out, &s);
  if (logprob) *logprob = s.logprob;
  return 0;
}

int al_synth_story_score(const char *text, size_t len, al_synth_story *story, al_err *err) {
  sy_ctx c = {0};
  c.in = text;
  c.len = len;
  sy_story(&c);
  if (!c.failed && c.pos != c.len) {
    c.failed = 1;
    snprintf(c.why, sizeof c.why, "not a story of the grammar: at byte %zu: the story is complete but %zu more bytes follow",
             c.pos, c.len - c.pos);
  }
  fill_story(&c, text, len, story);
  if (c.failed) return al_fail(err, "%s", c.why);
  return 0;
}

int al_synth_corpus(uint64_t seed, long nstories, al_buf *text, double *logprobs) {
  if (nstories < 0) return -1;
  al_rng r;
  for (long i = 0; i < nstories; i++) {
    al_rng_seed_stream(&r, seed, (uint64_t)i);
    double lp;
    al_synth_story_gen(&r, text, &lp);
    al_buf_append(text, AL_SYNTH_SEP, strlen(AL_SYNTH_SEP));
    if (logprobs) logprobs[i] = lp;
  }
  return 0;
}

void al_synth_entropy_add(al_synth_entropy *e, const al_synth_story *s) {
  e->nstories++;
  e->nbytes += s->nbytes + strlen(AL_SYNTH_SEP);
  e->nwords += (uint64_t)s->nwords;
  e->nll -= s->logprob;
  e->nll_sq += s->logprob * s->logprob;
}

void al_synth_entropy_finish(al_synth_entropy *e) {
  double n = (double)e->nstories;
  if (e->nstories <= 0) return;
  e->per_story = e->nll / n;
  e->sd_story = e->nstories > 1 ? sqrt(fmax(0.0, (e->nll_sq - n * e->per_story * e->per_story) / (n - 1))) : 0.0;
  e->per_byte = e->nbytes ? e->nll / (double)e->nbytes : 0.0;
  e->per_word = e->nwords ? e->nll / (double)e->nwords : 0.0;
  e->mean_bytes = (double)e->nbytes / n;
  e->mean_words = (double)e->nwords / n;
}

void al_synth_measure(uint64_t seed, long n, al_synth_entropy *e) {
  memset(e, 0, sizeof *e);
  al_buf b = {0};
  al_rng r;
  for (long i = 0; i < n; i++) {
    al_rng_seed_stream(&r, seed, (uint64_t)i);
    al_synth_story s;
    b.len = 0;
    al_synth_story_make(&r, &b, &s);
    al_synth_entropy_add(e, &s);
  }
  al_buf_free(&b);
  al_synth_entropy_finish(e);
}

double al_synth_entropy_estimate(uint64_t seed, long n, double *per_byte) {
  al_synth_entropy e;
  al_synth_measure(seed, n, &e);
  if (per_byte) *per_byte = e.per_byte;
  return e.per_story;
}

static int write_jsonl_line(FILE *f, const char *s, size_t n, double logprob) {
  json_t *o = json_object();
  json_object_set_new(o, "text", json_stringn(s, n));
  json_object_set_new(o, "logprob", json_real(logprob));
  int rc = json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(o);
  return rc == 0 && fputc('\n', f) != EOF ? 0 : -1;
}

int al_synth_write(const char *path, uint64_t seed, long n, al_synth_format fmt, al_synth_entropy *summary,
                   al_err *err) {
  if (n < 0) return al_fail(err, "%s: number of stories must be >= 0, got %ld", path, n);
  if (fmt != AL_SYNTH_TEXT && fmt != AL_SYNTH_JSONL) return al_fail(err, "%s: unknown format %d", path, (int)fmt);
  al_atomic a;
  if (al_atomic_open(&a, path, err)) return -1;
  al_synth_entropy e = {0};
  al_buf b = {0};
  al_rng r;
  al_progress prog;
  int show = n >= 100000;
  if (show) al_progress_start(&prog, "synth", (uint64_t)n, "story");
  int bad = 0;
  for (long i = 0; i < n && !bad; i++) {
    al_rng_seed_stream(&r, seed, (uint64_t)i);
    al_synth_story s;
    b.len = 0;
    al_synth_story_make(&r, &b, &s);
    al_synth_entropy_add(&e, &s);
    if (fmt == AL_SYNTH_TEXT) {
      bad = fwrite(b.data, 1, b.len, a.f) != b.len || fputs(AL_SYNTH_SEP, a.f) == EOF;
    } else {
      bad = write_jsonl_line(a.f, b.data, b.len, s.logprob) != 0;
    }
    if (show && (i + 1) % 4096 == 0) al_progress_update(&prog, (uint64_t)i + 1);
  }
  if (show) al_progress_finish(&prog);
  al_buf_free(&b);
  if (bad) {
    al_atomic_abort(&a);
    return al_fail(err, "%s: write failed", path);
  }
  if (al_atomic_commit(&a, err)) return -1;
  al_synth_entropy_finish(&e);
  if (summary) *summary = e;
  return 0;
}

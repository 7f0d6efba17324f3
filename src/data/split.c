/* The train/validation split: by documents, or by tokens when there are too
 * few documents (the rule is in include/alab/data.h). */
#include <math.h>
#include <stdlib.h>
#include "alab/data.h"

/* Appends a non-empty view to a growable array of views. */
static void push_view(al_tokens **a, int *n, al_tokens v) {
  if (!v.n) return;
  *a = al_realloc(*a, (*n + 1) * sizeof **a);
  (*a)[(*n)++] = v;
}

/* A position in the concatenated segments, moved forward token by token. */
typedef struct {
  const al_tokens *segs;
  int nsegs, s;
  size_t i;
} cursor;

/* The cursor at global position pos (< the total token count). */
static cursor cursor_at(const al_tokens *segs, int nsegs, uint64_t pos) {
  cursor c = {segs, nsegs, 0, 0};
  while (c.s < nsegs && pos >= segs[c.s].n) pos -= segs[c.s++].n;
  c.i = (size_t)pos;
  return c;
}
static int32_t cursor_token(const cursor *c) { return al_tokens_at(&c->segs[c->s], c->i); }
static void cursor_next(cursor *c) {
  if (++c->i < c->segs[c->s].n) return;
  c->i = 0;
  while (++c->s < c->nsegs && c->segs[c->s].n == 0) {}
}

/* Documents: EOT-terminated runs plus a final unterminated run; a run that
 * continues across segments (a segment not ending in EOT) is one document. */
static uint64_t count_docs(const al_tokens *segs, int nsegs, int32_t eot) {
  uint64_t ndocs = 0;
  int open_doc = 0; /* tokens seen since the last EOT */
  for (int s = 0; s < nsegs; s++) {
    for (size_t i = 0; i < segs[s].n; i++) {
      int is_eot = al_tokens_at(&segs[s], i) == eot;
      ndocs += is_eot;
      open_doc = !is_eot;
    }
  }
  return ndocs + open_doc;
}

/* Global position just after the EOT that ends document k (1-based). */
static uint64_t end_of_doc(const al_tokens *segs, int nsegs, int32_t eot, uint64_t k) {
  uint64_t seen = 0, base = 0;
  for (int s = 0; s < nsegs; s++) {
    for (size_t i = 0; i < segs[s].n; i++)
      if (al_tokens_at(&segs[s], i) == eot && ++seen == k) return base + i + 1;
    base += segs[s].n;
  }
  return base;
}

/* The token cut: n - t, moved to the nearest boundary (a position just after
 * an EOT) leaving validation within [t/2, 2t] tokens, if there is one. */
static uint64_t token_cut(const al_tokens *segs, int nsegs, int32_t eot, uint64_t n, uint64_t t, int *at_boundary) {
  uint64_t want = n - t, lo = n > 2 * t + 1 ? n - 2 * t : 1, hi = n - (t + 1) / 2;
  uint64_t best = want, dist = UINT64_MAX;
  cursor c = cursor_at(segs, nsegs, lo - 1); /* the token before cut position lo */
  for (uint64_t cut = lo; cut <= hi; cut++, cursor_next(&c))
    if (cursor_token(&c) == eot) {
      uint64_t d = cut > want ? cut - want : want - cut;
      if (d < dist) best = cut, dist = d;
    }
  *at_boundary = dist != UINT64_MAX;
  return best;
}

int al_split_docs(const al_tokens *segs, int nsegs, int32_t eot, double val_frac, al_tokens **train, int *ntrain,
                  al_tokens **val, int *nval, al_split_info *info, al_err *err) {
  al_split_info local;
  if (!info) info = &local;
  *info = (al_split_info){0};
  *train = *val = NULL;
  *ntrain = *nval = 0;
  if (!(val_frac >= 0 && val_frac < 1)) return al_fail(err, "validation fraction %g must be in [0, 1)", val_frac);
  uint64_t n = 0, cut;
  for (int s = 0; s < nsegs; s++) n += segs[s].n;
  if (val_frac == 0) cut = n;
  else {
    uint64_t ndocs = count_docs(segs, nsegs, eot), nv = (uint64_t)llround(val_frac * (double)ndocs);
    info->docs = ndocs;
    if (nv >= 1 && ndocs >= 2) {
      if (nv > ndocs - 1) nv = ndocs - 1;
      cut = end_of_doc(segs, nsegs, eot, ndocs - nv);
      info->at_boundary = 1;
    } else {
      if (n < 2)
        return al_fail(err, "cannot split %llu token%s into train and validation", (unsigned long long)n,
                       n == 1 ? "" : "s");
      uint64_t t = (uint64_t)llround(val_frac * (double)n);
      if (t < 1) t = 1;
      if (t > n - 1) t = n - 1;
      info->by_tokens = 1;
      cut = token_cut(segs, nsegs, eot, n, t, &info->at_boundary);
    }
  }
  /* views: train is [0, cut), validation [cut, n) */
  uint64_t base = 0;
  for (int s = 0; s < nsegs; s++) {
    uint64_t len = segs[s].n;
    size_t c = cut <= base ? 0 : cut >= base + len ? (size_t)len : (size_t)(cut - base);
    push_view(train, ntrain, al_tokens_slice(&segs[s], 0, c));
    push_view(val, nval, al_tokens_slice(&segs[s], c, len));
    base += len;
  }
  info->train_tokens = cut;
  info->val_tokens = n - cut;
  /* documents wholly in validation: its EOTs, and an unterminated last
   * document that starts there */
  for (int s = 0; s < *nval; s++)
    for (size_t i = 0; i < (*val)[s].n; i++) info->val_docs += al_tokens_at(&(*val)[s], i) == eot;
  if (n > cut) {
    cursor last = cursor_at(segs, nsegs, n - 1), before = cursor_at(segs, nsegs, cut ? cut - 1 : 0);
    int starts_in_val = info->val_docs > 0 || cut == 0 || cursor_token(&before) == eot;
    info->val_docs += cursor_token(&last) != eot && starts_in_val;
  }
  return 0;
}

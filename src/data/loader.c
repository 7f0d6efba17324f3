/* Token views, documents, the train/validation split and the batch loader.
 * The windowing and shuffling rules are documented in include/alab/data.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/data.h"

al_tokens al_tokens_slice(const al_tokens *v, size_t from, size_t to) {
  al_tokens s = {(const char *)v->data + from * v->width, v->width, to - from};
  return s;
}

void al_doc_starts(const al_tokens *v, int32_t eot, size_t **starts, size_t *n) {
  size_t cap = 64, k = 0;
  size_t *s = al_malloc(cap * sizeof *s);
  if (v->n) s[k++] = 0;
  for (size_t i = 0; i + 1 < v->n; i++) {
    if (al_tokens_at(v, i) != eot) continue;
    if (k == cap) s = al_realloc(s, (cap *= 2) * sizeof *s);
    s[k++] = i + 1;
  }
  *starts = s;
  *n = k;
}

/* Appends a non-empty view to a growable array of views. */
static void push_view(al_tokens **a, int *n, al_tokens v) {
  if (!v.n) return;
  *a = al_realloc(*a, (*n + 1) * sizeof **a);
  (*a)[(*n)++] = v;
}

int al_split_docs(const al_tokens *segs, int nsegs, int32_t eot, double val_frac, al_tokens **train, int *ntrain,
                  al_tokens **val, int *nval, al_err *err) {
  *train = *val = NULL;
  *ntrain = *nval = 0;
  if (!(val_frac >= 0 && val_frac < 1)) return al_fail(err, "validation fraction %g must be in [0, 1)", val_frac);
  /* Count documents: a segment's documents are its EOT-terminated runs plus
   * a final unterminated run; a run continuing across segments (a segment
   * not ending in EOT) is still one document. */
  uint64_t ndocs = 0;
  int open_doc = 0; /* tokens seen since the last EOT */
  for (int s = 0; s < nsegs; s++)
    for (size_t i = 0; i < segs[s].n; i++) {
      int is_eot = al_tokens_at(&segs[s], i) == eot;
      if (is_eot) ndocs++;
      open_doc = !is_eot;
    }
  ndocs += open_doc;
  uint64_t nv = (uint64_t)llround(val_frac * (double)ndocs);
  if (val_frac > 0) {
    if (ndocs < 2)
      return al_fail(err, "cannot split %llu document%s into train and validation (the end-of-text token %d separates documents)",
                     (unsigned long long)ndocs, ndocs == 1 ? "" : "s", eot);
    if (nv < 1) nv = 1;
    if (nv > ndocs - 1) nv = ndocs - 1;
  }
  /* The cut is just after the EOT that ends document (ndocs - nv - 1). */
  uint64_t ntr = ndocs - nv, seen = 0;
  for (int s = 0; s < nsegs; s++) {
    size_t cut = segs[s].n; /* where train ends in this segment */
    if (seen >= ntr) cut = 0;
    else
      for (size_t i = 0; i < segs[s].n; i++)
        if (al_tokens_at(&segs[s], i) == eot && ++seen == ntr) {
          cut = i + 1;
          break;
        }
    push_view(train, ntrain, al_tokens_slice(&segs[s], 0, cut));
    push_view(val, nval, al_tokens_slice(&segs[s], cut, segs[s].n));
  }
  return 0;
}

/* ---- the loader ---- */

static void make_order(al_loader *l) {
  for (uint64_t w = 0; w < l->nwindows; w++) l->order[w] = (uint32_t)w;
  if (!l->shuffle) return;
  al_rng r;
  al_rng_seed_stream(&r, l->st.seed, l->st.epoch);
  al_rng_shuffle_u32(&r, l->order, l->nwindows);
}

int al_loader_init(al_loader *l, const al_tokens *segs, int nsegs, int B, int T, uint64_t seed, int shuffle,
                   al_err *err) {
  memset(l, 0, sizeof *l);
  if (B < 1 || T < 1) return al_fail(err, "batch size %d and sequence length %d must be positive", B, T);
  l->B = B;
  l->T = T;
  l->shuffle = shuffle;
  l->nsegs = nsegs;
  l->segs = al_malloc((nsegs ? nsegs : 1) * sizeof *l->segs);
  l->seg_first = al_malloc((nsegs + 1) * sizeof *l->seg_first);
  uint64_t total = 0, ntok = 0;
  for (int s = 0; s < nsegs; s++) {
    l->segs[s] = segs[s];
    l->seg_first[s] = total;
    total += segs[s].n > 1 ? (segs[s].n - 1) / T : 0;
    ntok += segs[s].n;
  }
  l->seg_first[nsegs] = total;
  if (total == 0) {
    al_loader_free(l);
    return al_fail(err, "%llu tokens hold no window of sequence length + 1 = %d tokens in one segment; "
                   "use more data or a shorter sequence length", (unsigned long long)ntok, T + 1);
  }
  if (total > UINT32_MAX) {
    al_loader_free(l);
    return al_fail(err, "%llu windows are more than this loader indexes (2^32); use a longer sequence length",
                   (unsigned long long)total);
  }
  l->nwindows = total;
  l->order = al_malloc(total * sizeof *l->order);
  l->inputs = al_malloc((size_t)B * T * sizeof *l->inputs);
  l->targets = al_malloc((size_t)B * T * sizeof *l->targets);
  l->st = (al_loader_state){seed, 0, 0, total};
  make_order(l);
  return 0;
}

void al_loader_window(const al_loader *l, uint64_t w, int *seg, size_t *offset) {
  int lo = 0, hi = l->nsegs - 1; /* last segment with seg_first <= w */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (l->seg_first[mid] <= w) lo = mid;
    else hi = mid - 1;
  }
  /* (an empty segment shares seg_first with the next, so it is never the last
   * one with seg_first <= w for a valid w) */
  *seg = lo;
  *offset = (size_t)(w - l->seg_first[lo]) * l->T;
}

void al_loader_next(al_loader *l) {
  int T = l->T;
  for (int b = 0; b < l->B; b++) {
    if (l->st.pos == l->nwindows) {
      l->st.epoch++;
      l->st.pos = 0;
      make_order(l);
    }
    int s;
    size_t off;
    al_loader_window(l, l->order[l->st.pos++], &s, &off);
    const al_tokens *v = &l->segs[s];
    int32_t *in = l->inputs + (size_t)b * T, *tg = l->targets + (size_t)b * T;
    for (int t = 0; t < T; t++) {
      in[t] = al_tokens_at(v, off + t);
      tg[t] = al_tokens_at(v, off + t + 1);
    }
  }
}

al_loader_state al_loader_get_state(const al_loader *l) { return l->st; }

int al_loader_set_state(al_loader *l, const al_loader_state *s, al_err *err) {
  if (s->nwindows != l->nwindows)
    return al_fail(err, "saved data position is for %llu windows but this data has %llu (different data, sequence "
                   "length or split?)", (unsigned long long)s->nwindows, (unsigned long long)l->nwindows);
  if (s->pos > l->nwindows)
    return al_fail(err, "saved data position %llu is past the %llu windows of an epoch", (unsigned long long)s->pos,
                   (unsigned long long)l->nwindows);
  l->st = *s;
  make_order(l);
  return 0;
}

void al_loader_free(al_loader *l) {
  free(l->segs);
  free(l->seg_first);
  free(l->order);
  free(l->inputs);
  free(l->targets);
  memset(l, 0, sizeof *l);
}

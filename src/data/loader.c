/* Token views, documents and the batch loader.
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

/* ---- the loader ---- */

/* Windows of segment s. */
static uint64_t seg_windows(const al_loader *l, int s) { return l->seg_first[s + 1] - l->seg_first[s]; }

/* Fills `order` with segment s's window order for the current epoch. */
static void make_order(al_loader *l, int s) {
  l->order_seg = s;
  if (l->shuffle != AL_SHUFFLE_SEGMENTS) return;
  uint64_t n = seg_windows(l, s);
  for (uint64_t w = 0; w < n; w++) l->order[w] = (uint32_t)w;
  al_rng r;
  al_rng_seed_stream(&r, l->st.seed, l->st.epoch + ((uint64_t)s << 32));
  al_rng_shuffle_u32(&r, l->order, n);
}

/* AL_SHUFFLE_ALL: `order` is a permutation of every window of the epoch,
 * from al_rng_seed_stream(seed, epoch). */
static void make_order_all(al_loader *l) {
  for (uint64_t w = 0; w < l->nwindows; w++) l->order[w] = (uint32_t)w;
  al_rng r;
  al_rng_seed_stream(&r, l->st.seed, l->st.epoch);
  al_rng_shuffle_u32(&r, l->order, l->nwindows);
}

/* The segment holding window index pos of an epoch (the last segment with
 * seg_first <= pos; empty segments share seg_first with the next one). */
static int segment_of(const al_loader *l, uint64_t pos) {
  int lo = 0, hi = l->nsegs - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (l->seg_first[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

int al_loader_init(al_loader *l, const al_tokens *segs, int nsegs, int B, int T, uint64_t seed, int shuffle,
                   al_err *err) {
  memset(l, 0, sizeof *l);
  if (B < 1 || T < 1) return al_fail(err, "batch size %d and sequence length %d must be positive", B, T);
  if (shuffle < AL_SHUFFLE_NONE || shuffle > AL_SHUFFLE_ALL) return al_fail(err, "unknown shuffle mode %d", shuffle);
  l->B = B;
  l->T = T;
  l->shuffle = shuffle;
  l->nsegs = nsegs;
  l->segs = al_malloc((nsegs ? nsegs : 1) * sizeof *l->segs);
  l->seg_first = al_malloc((nsegs + 1) * sizeof *l->seg_first);
  uint64_t total = 0, ntok = 0, most = 0;
  for (int s = 0; s < nsegs; s++) {
    l->segs[s] = segs[s];
    l->seg_first[s] = total;
    uint64_t w = segs[s].n > 1 ? (segs[s].n - 1) / T : 0;
    total += w;
    most = w > most ? w : most;
    ntok += segs[s].n;
  }
  l->seg_first[nsegs] = total;
  if (total == 0) {
    al_loader_free(l);
    return al_fail(err, "%llu tokens hold no window of sequence length + 1 = %d tokens in one segment; "
                   "use more data or a shorter sequence length", (unsigned long long)ntok, T + 1);
  }
  int all = shuffle == AL_SHUFFLE_ALL;
  if (all && total > UINT32_MAX) {
    al_loader_free(l);
    return al_fail(err, "%llu windows are more than a loader that mixes all segments indexes (2^32); use a longer "
                   "sequence length", (unsigned long long)total);
  }
  if (most > UINT32_MAX) {
    al_loader_free(l);
    return al_fail(err, "a segment of %llu windows is more than this loader indexes (2^32); split it into "
                   "several shards or use a longer sequence length", (unsigned long long)most);
  }
  l->nwindows = total;
  l->order = shuffle ? al_malloc((all ? total : most) * sizeof *l->order) : NULL;
  l->inputs = al_malloc((size_t)B * T * sizeof *l->inputs);
  l->targets = al_malloc((size_t)B * T * sizeof *l->targets);
  l->st = (al_loader_state){.seed = seed, .nwindows = total, .order = !all, .nsegs = nsegs};
  l->order_seg = -1;
  if (all) make_order_all(l);
  return 0;
}

void al_loader_window(const al_loader *l, uint64_t w, int *seg, size_t *offset) {
  *seg = segment_of(l, w);
  *offset = (size_t)(w - l->seg_first[*seg]) * l->T;
}

/* One window: inputs v[off, off+T), targets v[off+1, off+T+1). */
static void fill_window(const al_tokens *v, size_t off, int T, int32_t *in, int32_t *tg) {
  for (int t = 0; t < T; t++) {
    in[t] = al_tokens_at(v, off + t);
    tg[t] = al_tokens_at(v, off + t + 1);
  }
}

void al_loader_next(al_loader *l) {
  int T = l->T;
  for (int b = 0; b < l->B; b++) {
    if (l->st.pos == l->nwindows) {
      l->st.epoch++;
      l->st.pos = 0;
      l->order_seg = -1;
      if (l->shuffle == AL_SHUFFLE_ALL) make_order_all(l);
    }
    if (l->shuffle == AL_SHUFFLE_ALL) {
      int s;
      size_t off;
      al_loader_window(l, l->order[l->st.pos++], &s, &off);
      fill_window(&l->segs[s], off, T, l->inputs + (size_t)b * T, l->targets + (size_t)b * T);
      continue;
    }
    int s = segment_of(l, l->st.pos);
    if (s != l->order_seg) make_order(l, s);
    uint64_t k = l->st.pos++ - l->seg_first[s];
    size_t off = (size_t)(l->shuffle ? l->order[k] : k) * T;
    fill_window(&l->segs[s], off, T, l->inputs + (size_t)b * T, l->targets + (size_t)b * T);
  }
}

/* Window pos of an epoch as (segment, windows of it before): pos ==
 * nwindows is (nsegs, 0), the epoch done. */
static void position(const al_loader *l, uint64_t pos, int *seg, uint64_t *seg_pos) {
  *seg = pos == l->nwindows ? l->nsegs : segment_of(l, pos);
  *seg_pos = pos - (*seg == l->nsegs ? l->nwindows : l->seg_first[*seg]);
}

al_loader_state al_loader_get_state(const al_loader *l) {
  al_loader_state s = l->st;
  s.order = l->shuffle != AL_SHUFFLE_ALL;
  s.nsegs = l->nsegs;
  position(l, s.pos, &s.seg, &s.seg_pos);
  return s;
}

/* Segments holding at least one window. */
static int windowed_segments(const al_loader *l) {
  int k = 0;
  for (int s = 0; s < l->nsegs; s++) k += seg_windows(l, s) > 0;
  return k;
}

int al_loader_set_state(al_loader *l, const al_loader_state *s, al_err *err) {
  if (s->nwindows != l->nwindows)
    return al_fail(err, "saved data position is for %llu windows but this data has %llu (different data, sequence "
                   "length or split?)", (unsigned long long)s->nwindows, (unsigned long long)l->nwindows);
  if (s->pos > l->nwindows)
    return al_fail(err, "saved data position %llu is past the %llu windows of an epoch", (unsigned long long)s->pos,
                   (unsigned long long)l->nwindows);
  if (l->shuffle == AL_SHUFFLE_ALL) {
    if (s->order != 0)
      return al_fail(err, "saved by a loader that reads shards one after another; this one mixes the windows of "
                     "all segments, so the run cannot continue the same sequence of batches");
    l->st = *s;
    make_order_all(l);
    return 0;
  }
  if (s->order == 0 && l->shuffle && windowed_segments(l) > 1)
    return al_fail(err, "saved by an older alab that shuffled windows across all %d shards of the data; this alab "
                   "reads shards one after another, so the run cannot continue the same sequence of batches: "
                   "start a new run", windowed_segments(l));
  if (s->order == 1) {
    int seg;
    uint64_t seg_pos;
    position(l, s->pos, &seg, &seg_pos);
    if (s->nsegs != l->nsegs)
      return al_fail(err, "saved data position is for %d shards but this data has %d (different data?)", s->nsegs,
                     l->nsegs);
    if (s->seg != seg || s->seg_pos != seg_pos)
      return al_fail(err, "saved data position says shard %d, window %llu of it, but window %llu of an epoch is "
                     "shard %d, window %llu here (different data?)", s->seg, (unsigned long long)s->seg_pos,
                     (unsigned long long)s->pos, seg, (unsigned long long)seg_pos);
  }
  l->st = *s;
  l->st.order = 1;
  l->order_seg = -1;
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

size_t al_eval_batch(const al_tokens *segs, int nsegs, int B, int T, al_eval_cursor *at, int32_t *inputs,
                     int32_t *targets) {
  size_t filled = 0;
  for (int b = 0; b < B; b++) {
    int32_t *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
    while (at->seg < nsegs && at->off + 1 >= segs[at->seg].n) at->seg++, at->off = 0;
    size_t len = 0; /* targets in this window */
    if (at->seg < nsegs) {
      const al_tokens *v = &segs[at->seg];
      len = v->n - 1 - at->off < (size_t)T ? v->n - 1 - at->off : (size_t)T;
      for (size_t t = 0; t < len; t++) {
        in[t] = al_tokens_at(v, at->off + t);
        tg[t] = al_tokens_at(v, at->off + t + 1);
      }
      at->off += len;
    }
    for (size_t t = len; t < (size_t)T; t++) in[t] = 0, tg[t] = -1;
    filled += len;
  }
  return filled;
}

uint64_t al_eval_targets(const al_tokens *segs, int nsegs, int B, int T, int max_batches, uint64_t *all) {
  uint64_t windows_left = max_batches > 0 ? (uint64_t)max_batches * B : UINT64_MAX, scored = 0, total = 0;
  for (int s = 0; s < nsegs; s++) {
    if (segs[s].n < 2) continue;
    uint64_t targets = segs[s].n - 1, windows = (targets + T - 1) / T;
    total += targets;
    if (windows <= windows_left) scored += targets, windows_left -= windows;
    else scored += windows_left * T, windows_left = 0;
  }
  *all = total;
  return scored;
}

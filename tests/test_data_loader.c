/* The batch loader and the train/validation split, checked against brute
 * force: every window exactly once per epoch, segment after segment (or
 * mixed across segments, AL_SHUFFLE_ALL),
 * determinism per seed, exact resume from a saved state; the split's cut by
 * documents, or by tokens when there are too few documents. */
#include "alab/data.h"
#include "test.h"

/* Tokens whose value is their global position, so a window is identified by
 * its first input token. Segments: sizes chosen to leave remainders, one
 * empty and one too short for a window. */
enum { NSEG = 5 };
static const size_t seg_len[NSEG] = {1001, 0, 5, 777, 64};

typedef struct {
  int32_t *all;
  al_tokens segs[NSEG];
  size_t base[NSEG];
  uint64_t nwin;
} dataset;

static void make_dataset(dataset *d, int T) {
  size_t total = 0;
  for (int s = 0; s < NSEG; s++) total += seg_len[s];
  d->all = al_malloc(total * sizeof *d->all);
  for (size_t i = 0; i < total; i++) d->all[i] = (int32_t)i;
  size_t at = 0;
  d->nwin = 0;
  for (int s = 0; s < NSEG; s++) {
    d->base[s] = at;
    d->segs[s] = al_tokens_int32(d->all + at, seg_len[s]);
    at += seg_len[s];
    /* brute force: count starts k*T with k*T + T < len */
    for (size_t k = 0; seg_len[s] && k * T + T < seg_len[s]; k++) d->nwin++;
  }
}

/* Which window (by brute-force enumeration order) starts at global token g;
 * -1 if no window starts there. */
static long window_of(const dataset *d, int T, int32_t g) {
  long w = 0;
  for (int s = 0; s < NSEG; s++)
    for (size_t k = 0; seg_len[s] && k * T + T < seg_len[s]; k++, w++)
      if ((size_t)g == d->base[s] + k * T) return w;
  return -1;
}

/* The segment holding window w (brute-force enumeration order). */
static int segment_of_window(const dataset *d, int T, long w) {
  (void)d;
  for (int s = 0; s < NSEG; s++)
    for (size_t k = 0; seg_len[s] && k * T + T < seg_len[s]; k++)
      if (w-- == 0) return s;
  return -1;
}

static void test_epoch_coverage(int B, int T, int shuffle) {
  dataset d;
  make_dataset(&d, T);
  al_loader l;
  al_err err;
  CHECK_OK(al_loader_init(&l, d.segs, NSEG, B, T, 42, shuffle, &err), err);
  CHECK(l.nwindows == d.nwin, "windows %llu, brute force %llu", (unsigned long long)l.nwindows,
        (unsigned long long)d.nwin);
  int *seen = al_calloc(d.nwin, sizeof *seen);
  /* three epochs' worth of windows, batch by batch; B need not divide */
  uint64_t served = 0, epochs = 3;
  int bad_window = 0, bad_target = 0, in_order = 1, seg_order = 1, prev_seg = -1;
  long prev = -1;
  while (served < epochs * d.nwin) {
    al_loader_next(&l);
    for (int b = 0; b < B; b++) {
      long w = window_of(&d, T, l.inputs[b * T]);
      for (int t = 0; t < T; t++) {
        if (l.inputs[b * T + t] != l.inputs[b * T] + t) bad_window++;
        if (l.targets[b * T + t] != l.inputs[b * T + t] + 1) bad_target++;
      }
      if (w < 0) {
        bad_window++;
        continue;
      }
      uint64_t epoch = served / d.nwin;
      if (served % d.nwin == 0) prev = -1, prev_seg = -1;
      int seg = segment_of_window(&d, T, w);
      if (seg < prev_seg) seg_order = 0;
      prev_seg = seg;
      if (w <= prev) in_order = 0;
      prev = w;
      if (epoch < epochs && seen[w] == (int)epoch) seen[w]++;
      served++;
    }
  }
  int all_once = 1;
  for (uint64_t w = 0; w < d.nwin; w++) all_once &= seen[w] == (int)epochs;
  CHECK(all_once, "every window exactly once per epoch (B=%d T=%d shuffle=%d)", B, T, shuffle);
  CHECK(!bad_window && !bad_target, "windows are T+1 consecutive tokens in one segment: %d bad, %d bad targets",
        bad_window, bad_target);
  CHECK(seg_order, "each epoch reads the segments one after another (B=%d T=%d shuffle=%d)", B, T, shuffle);
  if (shuffle) CHECK(!in_order, "shuffled order differs from file order");
  else CHECK(in_order, "unshuffled order is file order");
  free(seen);
  al_loader_free(&l);
  free(d.all);
}

static int same_batch(const al_loader *a, const al_loader *b) {
  size_t n = (size_t)a->B * a->T;
  return !memcmp(a->inputs, b->inputs, n * sizeof *a->inputs) && !memcmp(a->targets, b->targets, n * sizeof *a->targets);
}

/* AL_SHUFFLE_ALL: each epoch is one permutation of all windows of all
 * segments, drawn from al_rng_seed_stream(seed, epoch) (the order alab used
 * before shards were streamed, and the one the collapse experiment needs:
 * its real and synthetic parts must mix, not follow one another). Checked
 * window by window over 2.5 epochs, with a batch size that does not divide
 * the epoch, then a resume from a saved state mid-epoch. */
static void test_shuffle_all(void) {
  int B = 7, T = 16;
  dataset d;
  make_dataset(&d, T);
  al_loader l, r;
  al_err err;
  CHECK_OK(al_loader_init(&l, d.segs, NSEG, B, T, 42, AL_SHUFFLE_ALL, &err), err);
  uint32_t *perm = al_malloc(d.nwin * sizeof *perm);
  uint64_t served = 0, want = d.nwin * 5 / 2, mismatches = 0, seg_back = 0;
  int prev_seg = -1;
  al_loader_state mid = {0};
  int have_mid = 0;
  while (served < want) {
    al_loader_next(&l);
    for (int b = 0; b < B; b++, served++) {
      uint64_t epoch = served / d.nwin, k = served % d.nwin;
      if (k == 0) {
        for (uint64_t w = 0; w < d.nwin; w++) perm[w] = (uint32_t)w;
        al_rng g;
        al_rng_seed_stream(&g, 42, epoch);
        al_rng_shuffle_u32(&g, perm, d.nwin);
      }
      long w = window_of(&d, T, l.inputs[b * T]);
      mismatches += w != (long)perm[k];
      int seg = segment_of_window(&d, T, w);
      seg_back += seg < prev_seg;
      prev_seg = seg;
    }
    if (!have_mid && served > d.nwin + 3) mid = al_loader_get_state(&l), have_mid = 1;
  }
  CHECK(mismatches == 0, "AL_SHUFFLE_ALL serves the permutation of all windows: %llu mismatches",
        (unsigned long long)mismatches);
  CHECK(seg_back > 10, "segments mix within an epoch (%llu returns to an earlier segment)", (unsigned long long)seg_back);
  CHECK(mid.order == 0, "its state says windows were mixed across segments (order 0)");
  /* resume mid-epoch: the same batches as a loader that ran straight on */
  al_loader_free(&l);
  CHECK_OK(al_loader_init(&l, d.segs, NSEG, B, T, 42, AL_SHUFFLE_ALL, &err), err);
  CHECK_OK(al_loader_init(&r, d.segs, NSEG, B, T, 1, AL_SHUFFLE_ALL, &err), err);
  while (al_loader_get_state(&l).epoch * d.nwin + al_loader_get_state(&l).pos < mid.epoch * d.nwin + mid.pos)
    al_loader_next(&l);
  CHECK_OK(al_loader_set_state(&r, &mid, &err), err);
  int same = 1;
  for (int i = 0; i < 40; i++) {
    al_loader_next(&l), al_loader_next(&r);
    same &= same_batch(&l, &r);
  }
  CHECK(same, "AL_SHUFFLE_ALL resumes exactly");
  /* a state saved by the streaming loader is refused, and the other way round */
  al_loader s;
  CHECK_OK(al_loader_init(&s, d.segs, NSEG, B, T, 42, AL_SHUFFLE_SEGMENTS, &err), err);
  al_loader_state seg_state = al_loader_get_state(&s);
  CHECK_FAILS_WITH(al_loader_set_state(&r, &seg_state, &err), err, "reads shards one after another");
  CHECK_FAILS_WITH(al_loader_set_state(&s, &mid, &err), err, "shuffled windows across all");
  al_loader_free(&l), al_loader_free(&r), al_loader_free(&s);
  CHECK_FAILS_WITH(al_loader_init(&s, d.segs, NSEG, B, T, 42, 3, &err), err, "unknown shuffle mode");
  free(perm);
  free(d.all);
}

static void test_determinism_and_resume(void) {
  int B = 3, T = 16;
  dataset d;
  make_dataset(&d, T);
  al_err err;
  al_loader a, b, c;
  CHECK_OK(al_loader_init(&a, d.segs, NSEG, B, T, 7, 1, &err), err);
  CHECK_OK(al_loader_init(&b, d.segs, NSEG, B, T, 7, 1, &err), err);
  CHECK_OK(al_loader_init(&c, d.segs, NSEG, B, T, 8, 1, &err), err);
  int same_ab = 1, same_ac = 1;
  int steps = 3 * (int)(d.nwin / B) + 5; /* crosses epoch boundaries */
  for (int i = 0; i < steps; i++) {
    al_loader_next(&a);
    al_loader_next(&b);
    al_loader_next(&c);
    same_ab &= same_batch(&a, &b);
    same_ac &= same_batch(&a, &c);
  }
  CHECK(same_ab, "same seed, same batches");
  CHECK(!same_ac, "different seeds, different batches");
  /* save at several points (mid-epoch, at an epoch boundary), restore into a
   * fresh loader, and continue identically */
  int save_at[] = {0, 1, (int)(d.nwin / B), 2 * (int)(d.nwin / B) + 1};
  for (size_t k = 0; k < sizeof save_at / sizeof save_at[0]; k++) {
    al_loader x, y;
    CHECK_OK(al_loader_init(&x, d.segs, NSEG, B, T, 99, 1, &err), err);
    for (int i = 0; i < save_at[k]; i++) al_loader_next(&x);
    al_loader_state st = al_loader_get_state(&x);
    CHECK_OK(al_loader_init(&y, d.segs, NSEG, B, T, 12345, 1, &err), err); /* the seed comes from the state */
    al_loader_next(&y);
    CHECK_OK(al_loader_set_state(&y, &st, &err), err);
    int same = 1;
    for (int i = 0; i < 2 * (int)(d.nwin / B) + 3; i++) {
      al_loader_next(&x);
      al_loader_next(&y);
      same &= same_batch(&x, &y);
    }
    CHECK(same, "resume after %d batches continues identically", save_at[k]);
    al_loader_free(&x);
    al_loader_free(&y);
  }
  /* a state from other data is refused */
  al_loader_state st = al_loader_get_state(&a);
  st.nwindows++;
  CHECK_FAILS_WITH(al_loader_set_state(&b, &st, &err), err, "different data");
  st = al_loader_get_state(&a);
  st.pos = st.nwindows + 1;
  CHECK_FAILS_WITH(al_loader_set_state(&b, &st, &err), err, "past the");
  al_loader_free(&a);
  al_loader_free(&b);
  al_loader_free(&c);
  /* no window at all */
  al_loader z;
  CHECK_FAILS_WITH(al_loader_init(&z, d.segs + 1, 2, 1, 16, 1, 1, &err), err, "no window");
  CHECK_FAILS_WITH(al_loader_init(&z, d.segs, NSEG, 0, 16, 1, 1, &err), err, "must be positive");
  free(d.all);
}

/* Random documents: lengths 1..40 (the EOT ends each), some segments ending
 * mid-document when asked. */
static int32_t *random_docs(al_rng *r, int ndocs, int32_t eot, size_t *n, int unterminated_tail) {
  size_t cap = (size_t)ndocs * 41 + 50, k = 0;
  int32_t *t = al_malloc(cap * sizeof *t);
  for (int d = 0; d < ndocs; d++) {
    int len = 1 + (int)al_rng_below(r, 40);
    for (int i = 0; i < len; i++) t[k++] = (int32_t)al_rng_below(r, eot);
    t[k++] = eot;
  }
  if (unterminated_tail) t[k++] = 5;
  *n = k;
  return t;
}

/* The documented cut, by brute force: by documents when round(f * D) >= 1
 * and D >= 2 (just after the EOT ending document D - v), else by tokens (the
 * boundary nearest n - t leaving validation in [t/2, 2t], the first on a tie,
 * else n - t). */
static size_t expected_cut(const int32_t *t, size_t n, int32_t eot, int D, double f) {
  if (f == 0) return n;
  long v = llround(f * D);
  if (v >= 1 && D >= 2) {
    if (v > D - 1) v = D - 1;
    long seen = 0;
    for (size_t i = 0; i < n; i++)
      if (t[i] == eot && ++seen == D - v) return i + 1;
    return n;
  }
  long tk = llround(f * (double)n);
  if (tk < 1) tk = 1;
  if (tk > (long)n - 1) tk = (long)n - 1;
  size_t want = n - tk, best = want, dist = (size_t)-1;
  for (size_t c = 1; c < n; c++) {
    long val = (long)(n - c);
    if (t[c - 1] != eot || 2 * val < tk || val > 2 * tk) continue;
    size_t d = c > want ? c - want : want - c;
    if (d < dist) best = c, dist = d;
  }
  return best;
}

static void test_split(void) {
  al_err err;
  al_rng r;
  al_rng_seed(&r, 3);
  int32_t eot = 256;
  double fracs[] = {0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 0.999};
  for (int trial = 0; trial < 200; trial++) {
    int ndocs = 1 + (int)al_rng_below(&r, 60), tail = trial & 1;
    size_t n;
    int32_t *t = random_docs(&r, ndocs, eot, &n, tail);
    int D = ndocs + tail;
    /* brute-force document starts */
    size_t *starts, ns;
    al_tokens v = al_tokens_int32(t, n);
    al_doc_starts(&v, eot, &starts, &ns);
    int starts_ok = ns == (size_t)D && starts[0] == 0;
    for (size_t i = 1; i < ns && starts_ok; i++) starts_ok = t[starts[i] - 1] == eot;
    CHECK(starts_ok, "document starts: %zu, want %d", ns, D);
    free(starts);
    /* one segment, or three cut at document boundaries */
    int nsegs = trial % 4 < 2 ? 1 : 3;
    al_tokens segs[3];
    if (nsegs == 1) segs[0] = v;
    else {
      size_t c1 = 0, c2 = 0, e = 0;
      for (size_t i = 0; i < n; i++)
        if (t[i] == eot && ++e == 1) c1 = i + 1;
        else if (t[i] == eot && e == 2) c2 = i + 1;
      if (c2 < c1) c2 = c1; /* one document */
      segs[0] = al_tokens_slice(&v, 0, c1);
      segs[1] = al_tokens_slice(&v, c1, c2);
      segs[2] = al_tokens_slice(&v, c2, n);
    }
    double f = fracs[trial % 7];
    al_tokens *tr, *va;
    int ntr, nva;
    al_split_info si;
    CHECK_OK(al_split_docs(segs, nsegs, eot, f, &tr, &ntr, &va, &nva, &si, &err), err);
    /* concatenating train then validation gives back the data, in order */
    size_t k = 0, ntr_tok = 0;
    int order_ok = 1;
    for (int i = 0; i < ntr; i++)
      for (size_t j = 0; j < tr[i].n; j++, ntr_tok++) order_ok &= k < n && al_tokens_at(&tr[i], j) == t[k++];
    for (int i = 0; i < nva; i++)
      for (size_t j = 0; j < va[i].n; j++) order_ok &= k < n && al_tokens_at(&va[i], j) == t[k++];
    CHECK(order_ok && k == n, "train + validation == data (trial %d)", trial);
    CHECK(si.train_tokens == ntr_tok && si.val_tokens == n - ntr_tok && si.docs == (uint64_t)(f > 0 ? D : 0),
          "split info: %llu + %llu tokens, %llu documents", (unsigned long long)si.train_tokens,
          (unsigned long long)si.val_tokens, (unsigned long long)si.docs);
    size_t want_cut = expected_cut(t, n, eot, D, f);
    CHECK(ntr_tok == want_cut, "cut at %zu, want %zu (D=%d, n=%zu, frac %g)", ntr_tok, want_cut, D, n, f);
    CHECK(si.by_tokens == (f > 0 && llround(f * D) < 1), "split by %s (D=%d, frac %g)", si.by_tokens ? "tokens" : "documents",
          D, f);
    free(tr);
    free(va);
    free(t);
  }
  /* one document: by tokens, the last round(f * n) tokens when no boundary is
   * near (the EOT at the end is not a cut) */
  int32_t one[101];
  for (int i = 0; i < 100; i++) one[i] = i % 50;
  one[100] = 256;
  al_tokens v = al_tokens_int32(one, 101), *tr, *va;
  int ntr, nva;
  al_split_info si;
  CHECK_OK(al_split_docs(&v, 1, 256, 0.1, &tr, &ntr, &va, &nva, &si, &err), err);
  CHECK(si.by_tokens && !si.at_boundary && si.docs == 1 && si.train_tokens == 91 && si.val_tokens == 10 && nva == 1 &&
            va[0].n == 10 && tr[0].n == 91,
        "one document of 101 tokens, 10%%: %llu + %llu tokens, by tokens %d", (unsigned long long)si.train_tokens,
        (unsigned long long)si.val_tokens, si.by_tokens);
  free(tr);
  free(va);
  /* errors */
  v.n = 1;
  CHECK_FAILS_WITH(al_split_docs(&v, 1, 256, 0.1, &tr, &ntr, &va, &nva, NULL, &err), err, "cannot split 1 token");
  v.n = 101;
  CHECK_FAILS_WITH(al_split_docs(&v, 1, 256, 1.0, &tr, &ntr, &va, &nva, NULL, &err), err, "must be in [0, 1)");
  CHECK_FAILS_WITH(al_split_docs(&v, 1, 256, -0.5, &tr, &ntr, &va, &nva, NULL, &err), err, "must be in [0, 1)");
  CHECK_OK(al_split_docs(&v, 1, 256, 0.0, &tr, &ntr, &va, &nva, NULL, &err), err);
  CHECK(ntr == 1 && nva == 0 && tr[0].n == 101, "fraction 0 keeps everything for training");
  free(tr);
  free(va);
}

/* The loader reads uint16 shard views the same as int32 arrays. */
static void test_uint16_view(void) {
  enum { N = 500 };
  uint16_t a16[N];
  int32_t a32[N];
  for (int i = 0; i < N; i++) a16[i] = (uint16_t)(a32[i] = (i * 7919) % 65536);
  al_tokens v16 = {a16, 2, N}, v32 = al_tokens_int32(a32, N);
  al_loader x, y;
  al_err err;
  CHECK_OK(al_loader_init(&x, &v16, 1, 4, 8, 5, 1, &err), err);
  CHECK_OK(al_loader_init(&y, &v32, 1, 4, 8, 5, 1, &err), err);
  int same = 1;
  for (int i = 0; i < 40; i++) {
    al_loader_next(&x);
    al_loader_next(&y);
    same &= same_batch(&x, &y);
  }
  CHECK(same, "uint16 and int32 views give the same batches");
  al_loader_free(&x);
  al_loader_free(&y);
}

int main(void) {
  test_epoch_coverage(1, 1, 1);
  test_epoch_coverage(4, 16, 1);
  test_epoch_coverage(7, 10, 1); /* 7 does not divide the window count */
  test_epoch_coverage(5, 32, 0);
  test_determinism_and_resume();
  test_shuffle_all();
  test_split();
  test_uint16_view();
  return test_summary();
}

/* Streaming over many shards: a glob pattern over three shard files opens
 * them in sorted order, each epoch reads them one after another (every
 * window once), a saved position (through its JSON form) resumes in the
 * right shard at the right window, a state saved before shards were read in
 * order is refused for several shards and continues the same batches for
 * one, and held-out batches score every target exactly once. */
#include <jansson.h>
#include "alab/data.h"
#include "alab/dataset.h"
#include "test.h"

enum { NSH = 3, B = 3, T = 8 };
static const size_t shard_len[NSH] = {201, 90, 133};

/* Token value = 1000 * shard + position, so a window names its shard and start. */
static void write_shards(const char *dir) {
  al_err err;
  /* written in reverse order: the pattern's matches are sorted, not by age */
  for (int s = NSH - 1; s >= 0; s--) {
    int32_t ids[256];
    for (size_t i = 0; i < shard_len[s]; i++) ids[i] = (int32_t)(1000 * s + i);
    char name[64];
    snprintf(name, sizeof name, "train_%03d.bin", s);
    char *p = al_path_join(dir, name);
    if (al_shard_write(p, ids, shard_len[s], 4000, 3999, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      exit(2);
    }
    free(p);
  }
}

static uint64_t shard_windows(int s) { return (shard_len[s] - 1) / T; }

static int same_batch(const al_loader *a, const al_loader *b) {
  size_t n = (size_t)a->B * a->T;
  return !memcmp(a->inputs, b->inputs, n * sizeof *a->inputs) && !memcmp(a->targets, b->targets, n * sizeof *a->targets);
}

static void test_order_and_resume(const char *dir) {
  al_err err;
  char *pat = al_path_join(dir, "train_*.bin");
  al_shard_set ss;
  CHECK_OK(al_shard_set_open(&ss, pat, &err), err);
  CHECK(ss.n == NSH, "%d shards", ss.n);
  for (int s = 0; s < ss.n && s < NSH; s++)
    CHECK(ss.shards[s].tokens.n == shard_len[s] && al_tokens_at(&ss.shards[s].tokens, 0) == 1000 * s,
          "shard %d in sorted order", s);
  al_tokens *segs = al_shard_set_tokens(&ss);
  al_loader l;
  CHECK_OK(al_loader_init(&l, segs, NSH, B, T, 11, 1, &err), err);
  uint64_t total = shard_windows(0) + shard_windows(1) + shard_windows(2);
  CHECK(l.nwindows == total, "%llu windows, brute force %llu", (unsigned long long)l.nwindows, (unsigned long long)total);
  /* two epochs, window by window: the shard never goes back within an epoch,
   * every window of every shard once per epoch, windows shuffled in a shard */
  int seen[NSH][32] = {{0}}, back = 0, bad = 0, in_file_order = 1, prev_shard = -1, prev_start = -1;
  uint64_t served = 0;
  while (served < 2 * total) {
    al_loader_next(&l);
    for (int b = 0; b < B && served < 2 * total; b++, served++) {
      int32_t first = l.inputs[b * T];
      int s = first / 1000, start = first % 1000;
      if (served % total == 0) prev_shard = -1;
      back += s < prev_shard;
      if (s == prev_shard && start < prev_start) in_file_order = 0;
      prev_shard = s, prev_start = start;
      if (start % T || s >= NSH) bad++;
      else seen[s][start / T]++;
      for (int t = 0; t < T; t++) bad += l.inputs[b * T + t] != first + t || l.targets[b * T + t] != first + t + 1;
    }
  }
  int twice = 1;
  for (int s = 0; s < NSH; s++)
    for (uint64_t w = 0; w < shard_windows(s); w++) twice &= seen[s][w] == 2;
  CHECK(!back && !bad && twice, "two epochs read shards 0, 1, 2 in order, every window once each (%d back, %d bad)",
        back, bad);
  CHECK(!in_file_order, "windows are shuffled within a shard");
  /* save in the middle shard: its index and window count, through JSON */
  al_loader x, y;
  CHECK_OK(al_loader_init(&x, segs, NSH, B, T, 5, 1, &err), err);
  int nb = (int)(shard_windows(0) / B) + 1; /* batches that end inside shard 1 */
  for (int i = 0; i < nb; i++) al_loader_next(&x);
  al_loader_state st = al_loader_get_state(&x);
  uint64_t served_w = (uint64_t)nb * B;
  CHECK(st.seg == 1 && st.seg_pos == served_w - shard_windows(0) && st.nsegs == NSH,
        "saved at shard %d window %llu, want shard 1 window %llu", st.seg, (unsigned long long)st.seg_pos,
        (unsigned long long)(served_w - shard_windows(0)));
  json_t *j = json_object();
  al_loader_state_to_json(&st, j);
  al_loader_state back_st;
  CHECK_OK(al_loader_state_from_json(j, &back_st, "state", &err), err);
  CHECK_OK(al_loader_init(&y, segs, NSH, B, T, 999, 1, &err), err);
  CHECK_OK(al_loader_set_state(&y, &back_st, &err), err);
  int same = 1;
  for (int i = 0; i < (int)(2 * total / B) + 2; i++) {
    al_loader_next(&x);
    al_loader_next(&y);
    same &= same_batch(&x, &y);
  }
  CHECK(same, "resumed from shard 1 window %llu, continues the same batches", (unsigned long long)st.seg_pos);
  /* a position that names another shard than its window count gives is refused */
  al_loader_state wrong = st;
  wrong.seg = 2;
  CHECK_FAILS_WITH(al_loader_set_state(&y, &wrong, &err), err, "says shard 2");
  wrong = st;
  wrong.nsegs = 4;
  CHECK_FAILS_WITH(al_loader_set_state(&y, &wrong, &err), err, "for 4 shards");
  /* a state from before shards were read in order (no loader_order field) */
  json_object_del(j, "loader_order");
  CHECK_OK(al_loader_state_from_json(j, &back_st, "state", &err), err);
  CHECK(back_st.order == 0, "a state without loader_order reads as order 0");
  CHECK_FAILS_WITH(al_loader_set_state(&y, &back_st, &err), err, "older alab");
  json_decref(j);
  al_loader_free(&l);
  al_loader_free(&x);
  al_loader_free(&y);
  /* one segment: an old state continues, and the order is the old one: a
   * Fisher-Yates permutation of all windows from stream (seed, epoch) */
  al_loader one;
  CHECK_OK(al_loader_init(&one, segs, 1, 1, T, 21, 1, &err), err);
  al_loader_state old = {.seed = 21, .epoch = 3, .pos = 4, .nwindows = shard_windows(0)};
  CHECK_OK(al_loader_set_state(&one, &old, &err), err);
  uint32_t want[32];
  for (uint32_t w = 0; w < shard_windows(0); w++) want[w] = w;
  al_rng r;
  al_rng_seed_stream(&r, 21, 3);
  al_rng_shuffle_u32(&r, want, shard_windows(0));
  int old_order = 1;
  for (uint64_t k = 4; k < shard_windows(0); k++) {
    al_loader_next(&one);
    old_order &= one.inputs[0] == (int32_t)(want[k] * T);
  }
  CHECK(old_order, "one segment: a state saved before keeps its order");
  al_loader_free(&one);
  free(segs);
  al_shard_set_close(&ss);
  free(pat);
}

/* Restoring arbitrary positions (a fuzz of what a damaged trainer state can
 * hold): each is refused with a message or restores a position from which
 * batches are read in bounds (the ASan build checks the reads). */
static void test_state_fuzz(const char *dir) {
  al_err err;
  char *pat = al_path_join(dir, "train_*.bin");
  al_shard_set ss;
  CHECK_OK(al_shard_set_open(&ss, pat, &err), err);
  al_tokens *segs = al_shard_set_tokens(&ss);
  al_loader l;
  CHECK_OK(al_loader_init(&l, segs, NSH, B, T, 1, 1, &err), err);
  al_rng r;
  al_rng_seed(&r, 77);
  int accepted = 0, refused_silently = 0, bad_read = 0;
  for (int i = 0; i < 3000; i++) {
    al_loader_state s = al_loader_get_state(&l);
    switch (al_rng_below(&r, 5)) {
      case 0: s.pos = al_rng_below(&r, l.nwindows + 4); break;
      case 1: s.seg = (int)al_rng_below(&r, NSH + 3) - 1; break;
      case 2: s.seg_pos = al_rng_below(&r, 100); break;
      case 3: s.nsegs = (int)al_rng_below(&r, 5); break;
      default: s.order = (int)al_rng_below(&r, 3); break;
    }
    if (al_rng_below(&r, 2)) { /* keep the derived fields consistent with pos */
      uint64_t p = s.pos;
      s.seg = 0;
      while (s.seg < NSH && p >= shard_windows(s.seg)) p -= shard_windows(s.seg++);
      s.seg_pos = p;
    }
    err.msg[0] = 0;
    if (al_loader_set_state(&l, &s, &err)) {
      refused_silently += !err.msg[0];
      continue;
    }
    accepted++;
    al_loader_next(&l);
    for (int k = 0; k < B * T; k++) bad_read += l.inputs[k] % 1000 >= 256 || l.inputs[k] / 1000 >= NSH;
  }
  CHECK(accepted > 100 && !refused_silently && !bad_read, "fuzzed positions: %d accepted, %d refused without a message, "
        "%d bad reads", accepted, refused_silently, bad_read);
  /* fields of the wrong type are named */
  json_t *j = json_object();
  al_loader_state st = al_loader_get_state(&l);
  al_loader_state_to_json(&st, j);
  json_object_set_new(j, "loader_shard", json_string("one"));
  CHECK_FAILS_WITH(al_loader_state_from_json(j, &st, "state.json", &err), err, "loader_shard");
  json_object_set_new(j, "loader_shard", json_integer(9));
  CHECK_FAILS_WITH(al_loader_state_from_json(j, &st, "state.json", &err), err, "out of range");
  json_object_set_new(j, "loader_order", json_integer(7));
  CHECK_FAILS_WITH(al_loader_state_from_json(j, &st, "state.json", &err), err, "loader_order");
  json_decref(j);
  al_loader_free(&l);
  free(segs);
  al_shard_set_close(&ss);
  free(pat);
}

/* al_eval_batch: every target of every segment exactly once, in order. */
static void test_eval_batches(void) {
  int32_t a[50], b[9], c[1];
  for (int i = 0; i < 50; i++) a[i] = i;
  for (int i = 0; i < 9; i++) b[i] = 100 + i;
  c[0] = 200;
  al_tokens segs[4] = {al_tokens_int32(a, 50), al_tokens_int32(b, 9), al_tokens_int32(c, 1), al_tokens_int32(b, 0)};
  int32_t in[B * T], tg[B * T];
  int scored[300] = {0}, bad = 0;
  size_t total = 0, got;
  al_eval_cursor at = {0};
  while ((got = al_eval_batch(segs, 4, B, T, &at, in, tg)) > 0) {
    size_t filled = 0;
    for (int i = 0; i < B * T; i++) {
      if (tg[i] < 0) continue;
      filled++;
      if (tg[i] != in[i] + 1 || tg[i] >= 300) bad++;
      else scored[tg[i]]++;
    }
    bad += filled != got;
    total += got;
  }
  /* targets: 1..49 of a, 101..108 of b; c has none (1 token) */
  int once = 1;
  for (int v = 0; v < 300; v++) once &= scored[v] == ((v >= 1 && v <= 49) || (v >= 101 && v <= 108));
  CHECK(once && !bad && total == 49 + 8, "every target once: %zu scored, %d bad", total, bad);
}

int main(void) {
  char *dir = test_tmpdir("data_stream");
  write_shards(dir);
  test_order_and_resume(dir);
  test_state_fuzz(dir);
  test_eval_batches();
  free(dir);
  return test_summary();
}

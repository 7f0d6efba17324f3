/* Datasets from a spec string: the story world, shards, or a corpus file. */
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "alab/synth.h"

int al_dataset_story_spec(const char *spec, long *n, uint64_t *seed, al_err *err) {
  if (strncmp(spec, "story:", 6) != 0) return 0;
  char *end;
  long v = strtol(spec + 6, &end, 10);
  unsigned long long s = 1;
  if (*end == ':') s = strtoull(end + 1, &end, 10);
  if (*end || v < 1) return al_fail(err, "'%s': expected story:N or story:N:SEED with N >= 1", spec);
  *n = v;
  *seed = s;
  return 1;
}

int al_dataset_text(const char *spec, char **text, size_t *len, al_err *err) {
  long n = 0;
  uint64_t seed = 0;
  int story = al_dataset_story_spec(spec, &n, &seed, err);
  if (story < 0) return -1;
  if (!story) return al_read_file(spec, text, len, err);
  al_buf b = {0};
  if (al_synth_corpus(seed, n, &b, NULL)) return al_fail(err, "story world: cannot generate %ld stories", n);
  *text = b.data;
  *len = b.len;
  return 0;
}

int al_tokenize_docs(const al_tok *tok, const char *text, size_t len, int32_t **ids, size_t *n, uint64_t *ndocs,
                     al_err *err) {
  al_corpus_opts o = {.format = AL_CORPUS_TEXT};
  al_corpus_stats st = {0};
  if (al_corpus_tokenize_buf(text, len, "text", &o, tok, ids, n, &st, err)) return -1;
  if (ndocs) *ndocs = st.docs;
  return 0;
}

static int is_shard_spec(const char *spec) {
  size_t n = strlen(spec);
  return (n > 4 && !strcmp(spec + n - 4, ".bin")) || strchr(spec, '*');
}

int al_dataset_open(al_dataset *d, const char *spec, const al_corpus_opts *o, const al_tok *tok, double val_frac,
                    al_err *err) {
  memset(d, 0, sizeof *d);
  long nstories = 0;
  uint64_t seed = 0;
  int story = al_dataset_story_spec(spec, &nstories, &seed, err);
  if (story < 0) return -1;
  al_tokens *segs = NULL, one;
  int nsegs = 1;
  int32_t eot = al_tok_eot(tok);
  if (story) {
    if (al_dataset_text(spec, &d->text, &d->text_len, err) ||
        al_tokenize_docs(tok, d->text, d->text_len, &d->ids, &d->n, &d->ndocs, err))
      return -1;
  } else if (is_shard_spec(spec)) {
    if (al_shard_set_open(&d->shards, spec, err)) return -1;
    if (al_shard_set_check_vocab(&d->shards, al_tok_vocab_size(tok), err)) {
      al_dataset_close(d);
      return -1;
    }
    segs = al_shard_set_tokens(&d->shards);
    nsegs = d->shards.n;
    eot = d->shards.shards[0].eot;
  } else {
    al_corpus_stats st = {0};
    if (al_corpus_tokenize(spec, o, tok, &d->ids, &d->n, &st, err)) return -1;
    d->ndocs = st.docs;
    if (st.skipped) al_log("%s: skipped %llu malformed lines (first: %s)", spec, (unsigned long long)st.skipped, st.first_skip);
  }
  if (!segs) {
    one = al_tokens_int32(d->ids, d->n);
    segs = &one;
  }
  int rc = al_split_docs(segs, nsegs, eot, val_frac, &d->train, &d->ntrain, &d->val, &d->nval, err);
  if (segs != &one) free(segs);
  if (rc) {
    al_dataset_close(d);
    return al_fail_prefix(err, "%s", spec);
  }
  return 0;
}

void al_dataset_close(al_dataset *d) {
  free(d->ids);
  free(d->train);
  free(d->val);
  free(d->text);
  if (d->shards.shards) al_shard_set_close(&d->shards);
  memset(d, 0, sizeof *d);
}

int al_tokenizer_from_spec(al_tok **out, const char *spec, const char *data_spec, al_err *err) {
  if (!strcmp(spec, "byte")) {
    *out = al_tok_byte();
    return 0;
  }
  if (!strncmp(spec, "bpe:", 4)) {
    char *end;
    long v = strtol(spec + 4, &end, 10);
    if (*end || v < 257 || v > 65536) return al_fail(err, "tokenizer '%s': expected bpe:N with 257 <= N <= 65536", spec);
    if (!data_spec) return al_fail(err, "tokenizer '%s' needs training text", spec);
    char *text;
    size_t len;
    if (al_dataset_text(data_spec, &text, &len, err)) return -1;
    size_t cap = (size_t)64 << 20;
    int rc = al_tok_train(out, text, len < cap ? len : cap, (int)v, err);
    free(text);
    return rc;
  }
  return al_tok_load(out, spec, err);
}

double al_dataset_val_bytes_per_token(const al_dataset *d, const al_tok *tok) {
  size_t tokens = 0, bytes = 0;
  for (int s = 0; s < d->nval; s++)
    for (size_t i = 0; i < d->val[s].n; i++) {
      size_t len = 0;
      if (al_tok_token(tok, al_tokens_at(&d->val[s], i), &len)) bytes += len;
      tokens++;
    }
  return tokens ? (double)bytes / tokens : 0.0;
}

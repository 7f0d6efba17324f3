/* Datasets from spec strings: the story world, token shards, or corpus files
 * (rules in include/alab/dataset.h). */
#include <stdio.h>
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

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

/* A token shard: a ".bin" name, or a file that starts with a shard magic. */
static int is_shard_file(const char *path) {
  if (ends_with(path, ".bin")) return 1;
  unsigned char m[8] = {0};
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(m, 1, sizeof m, f) : 0;
  if (f) fclose(f);
  uint32_t llmc = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
  return (got == 8 && !memcmp(m, AL_SHARD_MAGIC, 8)) || (got >= 4 && llmc == AL_LLMC_MAGIC);
}

/* Expands FILES and says whether they are shards (1) or corpora (0); a list
 * mixing the two fails, naming one of each. */
static int expand_files(const char *spec, al_paths *p, int *shards, al_err *err) {
  if (al_paths_expand(p, spec, err)) return -1;
  *shards = is_shard_file(p->paths[0]);
  for (int i = 1; i < p->n; i++)
    if (is_shard_file(p->paths[i]) != *shards) {
      al_fail(err, "%s is %s but %s is %s: give token shards and text/JSONL corpora in separate runs, or tokenize "
              "the corpora with `alab data tokenize`", p->paths[0], *shards ? "a token shard" : "a text corpus",
              p->paths[i], *shards ? "a text corpus" : "a token shard");
      al_paths_free(p);
      return -1;
    }
  return 0;
}

/* Raw text, capped at max bytes (0: no cap). */
static int read_text(const char *spec, size_t max, char **text, size_t *len, al_err *err) {
  long n = 0;
  uint64_t seed = 0;
  int story = al_dataset_story_spec(spec, &n, &seed, err);
  if (story < 0) return -1;
  if (story) {
    al_buf b = {0};
    if (al_synth_corpus(seed, n, &b, NULL)) return al_fail(err, "story world: cannot generate %ld stories", n);
    *text = b.data;
    *len = b.len;
    return 0;
  }
  al_paths p;
  int shards;
  if (expand_files(spec, &p, &shards, err)) return -1;
  if (shards) {
    al_fail(err, "%s: token shards are already tokenized; give the tokenizer they were made with (--tokenizer DIR)",
            p.paths[0]);
    al_paths_free(&p);
    return -1;
  }
  al_buf b = {0};
  int rc = 0;
  for (int i = 0; i < p.n && !rc && (!max || b.len < max); i++) {
    char *t;
    size_t tl;
    if ((rc = al_read_file(p.paths[i], &t, &tl, err))) break;
    if (i) al_buf_append(&b, "\n", 1);
    al_buf_append(&b, t, max && tl > max - b.len ? max - b.len : tl);
    free(t);
  }
  al_paths_free(&p);
  if (rc) {
    al_buf_free(&b);
    return -1;
  }
  al_buf_append(&b, "", 1); /* NUL-terminated, as al_read_file's text is */
  *text = b.data;
  *len = b.len - 1;
  return 0;
}

int al_dataset_text(const char *spec, char **text, size_t *len, al_err *err) { return read_text(spec, 0, text, len, err); }

int al_tokenize_docs(const al_tok *tok, const char *text, size_t len, int32_t **ids, size_t *n, uint64_t *ndocs,
                     al_err *err) {
  al_corpus_opts o = {.format = AL_CORPUS_TEXT};
  al_corpus_stats st = {0};
  if (al_corpus_tokenize_buf(text, len, "text", &o, tok, ids, n, &st, err)) return -1;
  if (ndocs) *ndocs = st.docs;
  return 0;
}

/* Opens FILES that are shards. */
static int open_shards(al_source *s, const char *spec, const al_tok *tok, al_err *err) {
  if (al_shard_set_open(&s->shards, spec, err)) return -1;
  if (al_shard_set_check_vocab(&s->shards, al_tok_vocab_size(tok), err)) return -1;
  s->segs = al_shard_set_tokens(&s->shards);
  s->nsegs = s->nfiles = s->shards.n;
  s->ntokens = al_shard_set_ntokens(&s->shards);
  for (int i = 0; i < s->shards.n; i++) s->ndocs += s->shards.shards[i].ndocs;
  s->eot = s->shards.shards[0].eot;
  if (s->shards.shards[0].vocab_size) s->vocab_size = s->shards.shards[0].vocab_size;
  return 0;
}

/* Tokenizes FILES that are corpora into one array, in order. */
static int open_corpora(al_source *s, const al_paths *p, const al_corpus_opts *o, const al_tok *tok, al_err *err) {
  al_corpus_opts plain = {0};
  size_t cap = 0;
  for (int i = 0; i < p->n; i++) {
    int32_t *ids;
    size_t n;
    al_corpus_stats st = {0};
    if (al_corpus_tokenize(p->paths[i], o ? o : &plain, tok, &ids, &n, &st, err)) return -1;
    if (st.skipped)
      al_log("%s: skipped %llu malformed lines (first: %s)", p->paths[i], (unsigned long long)st.skipped, st.first_skip);
    if (s->n + n > cap) s->ids = al_realloc(s->ids, (cap = (s->n + n) * 2) * sizeof *s->ids);
    if (n) memcpy(s->ids + s->n, ids, n * sizeof *ids);
    s->n += n;
    s->ndocs += st.docs;
    free(ids);
  }
  s->nfiles = p->n;
  return 0;
}

int al_source_open(al_source *s, const char *spec, const al_corpus_opts *o, const al_tok *tok, al_err *err) {
  memset(s, 0, sizeof *s);
  s->eot = al_tok_eot(tok);
  s->vocab_size = al_tok_vocab_size(tok);
  long nstories = 0;
  uint64_t seed = 0;
  int story = al_dataset_story_spec(spec, &nstories, &seed, err), rc = 0;
  if (story < 0) return -1;
  if (story) {
    rc = al_dataset_text(spec, &s->text, &s->text_len, err) ||
                 al_tokenize_docs(tok, s->text, s->text_len, &s->ids, &s->n, &s->ndocs, err)
             ? -1
             : 0;
  } else {
    al_paths p;
    int shards;
    if (expand_files(spec, &p, &shards, err)) return -1;
    rc = shards ? open_shards(s, spec, tok, err) : open_corpora(s, &p, o, tok, err);
    al_paths_free(&p);
  }
  if (!rc && !s->segs) {
    s->segs = al_malloc(sizeof *s->segs);
    s->segs[0] = al_tokens_int32(s->ids, s->n);
    s->nsegs = 1;
    s->ntokens = s->n;
  }
  if (rc) al_source_close(s);
  return rc;
}

void al_source_close(al_source *s) {
  free(s->ids);
  free(s->segs);
  free(s->text);
  if (s->shards.shards) al_shard_set_close(&s->shards);
  memset(s, 0, sizeof *s);
}

/* What a source is, for the log: "3 files, 1234 tokens, 5 documents". */
static void describe(const al_source *s, char *buf, size_t size) {
  snprintf(buf, size, "%d %s, %llu tokens, %llu document%s", s->nfiles,
           s->shards.n ? (s->nfiles == 1 ? "token shard" : "token shards") : (s->nfiles == 1 ? "file" : "files"),
           (unsigned long long)s->ntokens, (unsigned long long)s->ndocs, s->ndocs == 1 ? "" : "s");
  if (!s->nfiles) snprintf(buf, size, "%llu tokens, %llu documents", (unsigned long long)s->ntokens,
                           (unsigned long long)s->ndocs);
}

/* A separate validation set must be usable with the training data: tokens
 * to score, the same tokenizer's ids. */
static int check_val(const al_source *v, const al_source *d, const char *spec, al_err *err) {
  if (v->ntokens == 0)
    return al_fail(err, "validation data %s: it is empty (no tokens); give a file with text, or leave out the "
                   "separate validation data to hold out part of the training data", spec);
  if (v->ntokens < 2)
    return al_fail(err, "validation data %s: 1 token is too few (at least 2 are needed to score a prediction)", spec);
  if (v->vocab_size != d->vocab_size || v->eot != d->eot)
    return al_fail(err, "validation data %s: tokenized with a vocabulary of %d tokens and end-of-text id %d, but the "
                   "training data with %d and %d (another tokenizer?)", spec, v->vocab_size, v->eot, d->vocab_size,
                   d->eot);
  return 0;
}

int al_dataset_open_val(al_dataset *d, const char *spec, const char *val_spec, const al_corpus_opts *o,
                        const al_tok *tok, double val_frac, al_err *err) {
  memset(d, 0, sizeof *d);
  char what[256];
  if (al_source_open(&d->data, spec, o, tok, err)) return -1;
  if (d->data.ntokens == 0) {
    al_dataset_close(d);
    return al_fail(err, "%s: no tokens to train on (empty data)", spec);
  }
  describe(&d->data, what, sizeof what);
  al_log("data: %s: %s", spec, what);
  if (val_spec) {
    if (al_source_open(&d->valdata, val_spec, o, tok, err)) {
      al_dataset_close(d);
      return al_fail_prefix(err, "validation data");
    }
    if (check_val(&d->valdata, &d->data, val_spec, err)) {
      al_dataset_close(d);
      return -1;
    }
    d->train = al_malloc(d->data.nsegs * sizeof *d->train);
    memcpy(d->train, d->data.segs, d->data.nsegs * sizeof *d->train);
    d->ntrain = d->data.nsegs;
    d->val = al_malloc(d->valdata.nsegs * sizeof *d->val);
    memcpy(d->val, d->valdata.segs, d->valdata.nsegs * sizeof *d->val);
    d->nval = d->valdata.nsegs;
    describe(&d->valdata, what, sizeof what);
    al_log("validation: %s (given separately): %s", val_spec, what);
    return 0;
  }
  if (al_split_docs(d->data.segs, d->data.nsegs, d->data.eot, val_frac, &d->train, &d->ntrain, &d->val, &d->nval,
                    &d->split, err)) {
    al_dataset_close(d);
    return al_fail_prefix(err, "%s", spec);
  }
  const al_split_info *si = &d->split;
  if (val_frac == 0) al_log("validation: none (validation fraction 0)");
  else if (!si->by_tokens)
    al_log("validation: the last %llu of %llu documents (by documents, fraction %g): train %llu tokens, "
           "validation %llu tokens", (unsigned long long)si->val_docs, (unsigned long long)si->docs, val_frac,
           (unsigned long long)si->train_tokens, (unsigned long long)si->val_tokens);
  else
    al_log("validation: the last %llu tokens (by tokens, fraction %g, as %llu document%s %s too few to split by "
           "documents; cut %s): train %llu tokens", (unsigned long long)si->val_tokens, val_frac,
           (unsigned long long)si->docs, si->docs == 1 ? "" : "s", si->docs == 1 ? "is" : "are",
           si->at_boundary ? "at a document boundary" : "inside a document", (unsigned long long)si->train_tokens);
  return 0;
}

int al_dataset_open(al_dataset *d, const char *spec, const al_corpus_opts *o, const al_tok *tok, double val_frac,
                    al_err *err) {
  return al_dataset_open_val(d, spec, NULL, o, tok, val_frac, err);
}

void al_dataset_close(al_dataset *d) {
  free(d->train);
  free(d->val);
  al_source_close(&d->data);
  al_source_close(&d->valdata);
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
    if (read_text(data_spec, (size_t)64 << 20, &text, &len, err)) return -1;
    int rc = al_tok_train(out, text, len, (int)v, err);
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

/* Corpora, token shards and batching.
 *
 * Corpus files (what researchers bring):
 *   text   documents are separated by the literal string "<|endoftext|>"; the
 *          line breaks (\n, \r) touching a separator belong to it and are
 *          dropped; a file without the separator is one document (as is).
 *   jsonl  one JSON object per line, the document being the string field
 *          `field` ("text" by default). Blank lines are skipped. A line that
 *          is not valid JSON, not an object, lacks the field or whose field
 *          is not a string is an error "FILE:LINE: ..."; with skip_bad_lines
 *          such lines are skipped and counted instead (stats.skipped).
 * Empty documents (nothing between two separators, "text": "") are skipped.
 * Each document is tokenized on its own (special tokens inside it encoded as
 * plain text) and followed by the end-of-text token (EOT), so a token stream
 * is doc0 EOT doc1 EOT ... and every document ends at an EOT.
 *
 * Token shard, alab format (all fields little-endian, 64-byte header):
 *   offset  size  field
 *        0     8  magic "ALABTOK1"
 *        8     4  uint32 version (1)
 *       12     4  uint32 vocab_size (every token < vocab_size)
 *       16     4  uint32 token width in bytes: 2 (uint16) or 4 (uint32)
 *       20     4  int32  eot id (-1: none)
 *       24     8  uint64 token count N
 *       32     8  uint64 document count (EOT tokens written)
 *       40    24  zero
 *       64         N tokens of `width` bytes each; the file ends there.
 * Width is 2 when vocab_size <= 65536, else 4.
 *
 * Token shard, llm.c format (read unchanged, never written): a header of 256
 * little-endian int32 (1024 bytes): [0] magic 20240520, [1] version 1,
 * [2] token count N; then N uint16 tokens. Vocabulary size is not recorded
 * (reported as 0); llm.c's shards are GPT-2 tokens, so the EOT is taken as
 * 50256 and documents begin with it rather than end with it.
 *
 * Batching: a dataset is a list of token segments (one per shard, or parts of
 * shards after a split; a corpus held in memory is one segment). A window is
 * T+1 consecutive tokens inside one segment, starting at a multiple of T; a
 * segment of n tokens holds floor((n-1)/T) windows. Each epoch visits every
 * window exactly once, segment after segment in their order (so training on
 * many memory-mapped shards streams through them one at a time, as llm.c's
 * loader does), and within a segment in an order that is a Fisher-Yates
 * permutation drawn from al_rng_seed_stream(seed, epoch + 2^32 * segment) (or
 * in file order when shuffle is off); a batch is the next B windows, going on
 * into the next segment or epoch when one runs out.
 * inputs[b*T + t] = window_b[t], targets[b*T + t] = window_b[t + 1].
 * The whole position is (seed, epoch, pos): saving and restoring it resumes
 *  * the exact sequence of batches. */
#ifndef ALAB_DATA_H
#define ALAB_DATA_H
#include <stddef.h>
#include <stdint.h>
#include "alab/base.h"
#include "alab/tok.h"

/* ---------------- corpora ---------------- */

typedef enum { AL_CORPUS_AUTO = 0, AL_CORPUS_TEXT, AL_CORPUS_JSONL } al_corpus_format;

typedef struct {
  al_corpus_format format; /* AUTO: ".jsonl" / ".json" / ".ndjson" names are JSONL, others text */
  const char *field;       /* JSONL field holding the text; NULL = "text" */
  int skip_bad_lines;      /* JSONL: skip and count malformed lines instead of failing */
} al_corpus_opts;

typedef struct {
  uint64_t docs;    /* documents delivered */
  uint64_t bytes;   /* bytes of document text delivered */
  uint64_t lines;   /* JSONL lines read (including blank and skipped ones) */
  uint64_t skipped; /* JSONL lines skipped as malformed (skip_bad_lines only) */
  uint64_t tokens;  /* tokens produced, EOTs included (tokenizing functions only) */
  char first_skip[256]; /* what was wrong with the first skipped line */
} al_corpus_stats;

/* Parses "text" / "jsonl" (anything else fails, naming the value). */
int al_corpus_format_parse(const char *s, al_corpus_format *out, al_err *err);

/* Called once per document; returning -1 (with err filled) stops the walk. */
typedef int (*al_doc_fn)(void *ctx, const char *doc, size_t len, al_err *err);

/* Walks the documents of a corpus held in memory; `where` names it in errors
 * (a path). prog, if non-NULL, is updated with bytes consumed. */
int al_corpus_each_doc_buf(const char *data, size_t len, const char *where, const al_corpus_opts *o, al_doc_fn fn,
                           void *ctx, al_corpus_stats *st, al_progress *prog, al_err *err);
/* The same over a file (memory-mapped). */
int al_corpus_each_doc(const char *path, const al_corpus_opts *o, al_doc_fn fn, void *ctx, al_corpus_stats *st,
                       al_progress *prog, al_err *err);

/* Tokenizes a corpus file into memory: doc0 EOT doc1 EOT ... (*ids is a fresh
 * array of *n tokens, free() it). Fails if the tokenizer has no EOT. */
int al_corpus_tokenize(const char *path, const al_corpus_opts *o, const al_tok *tok, int32_t **ids, size_t *n,
                       al_corpus_stats *st, al_err *err);
/* The same over a corpus held in memory; `where` names it (and, for AUTO,
 * picks the format by its suffix). */
int al_corpus_tokenize_buf(const char *data, size_t len, const char *where, const al_corpus_opts *o,
                           const al_tok *tok, int32_t **ids, size_t *n, al_corpus_stats *st, al_err *err);
/* Tokenizes corpus files straight into one alab shard at out (atomically),
 * in order, with progress on stderr when `progress` is set. `in` is a file,
 * or a list of files and patterns as al_paths_expand reads it. */
int al_corpus_to_shard(const char *in, const al_corpus_opts *o, const al_tok *tok, const char *out, int progress,
                       al_corpus_stats *st, al_err *err);

/* ---------------- token views and documents ---------------- */

/* A read-only view of tokens stored with `width` bytes each (2 or 4). */
typedef struct {
  const void *data;
  int width;
  size_t n;
} al_tokens;

static inline int32_t al_tokens_at(const al_tokens *v, size_t i) {
  return v->width == 2 ? (int32_t)((const uint16_t *)v->data)[i] : (int32_t)((const uint32_t *)v->data)[i];
}
static inline al_tokens al_tokens_int32(const int32_t *ids, size_t n) {
  al_tokens v = {ids, 4, n};
  return v;
}
/* tokens [from, to) of v. */
al_tokens al_tokens_slice(const al_tokens *v, size_t from, size_t to);

/* Start offsets of the documents of v: 0, and every position just after an
 * EOT (except the end). *starts is a fresh array of *n offsets. */
void al_doc_starts(const al_tokens *v, int32_t eot, size_t **starts, size_t *n);

/* How al_split_docs cut the data. */
typedef struct {
  int by_tokens;            /* 0: by documents; 1: by tokens (too few documents) */
  int at_boundary;          /* the cut is just after an EOT (always so by documents) */
  uint64_t docs;            /* documents in the data */
  uint64_t val_docs;        /* documents wholly in validation */
  uint64_t train_tokens, val_tokens;
} al_split_info;

/* Splits segs[0..nsegs) (in order, D documents, N tokens) into train and
 * validation, the validation part last:
 *   by documents when v = round(val_frac * D) >= 1 and D >= 2: the last v
 *     documents (at most D - 1), cut just after an EOT, so no document is
 *     split;
 *   by tokens otherwise (a corpus of one or a few documents): the last
 *     t = max(1, round(val_frac * N)) tokens, the cut moved to the nearest
 *     document boundary (just after an EOT) that leaves validation between
 *     t/2 and 2t tokens; with none there, the cut is inside a document.
 * val_frac 0 keeps everything for training. The outputs are views into the
 * same memory (fresh arrays of views; free() them). (llm.c shards put the
 * EOT before each document: the cut then leaves a document's leading EOT in
 * train and its text whole in validation.) Fails when val_frac is not in
 * [0, 1), or a split is asked of fewer than 2 tokens. info may be NULL. */
int al_split_docs(const al_tokens *segs, int nsegs, int32_t eot, double val_frac, al_tokens **train, int *ntrain,
                  al_tokens **val, int *nval, al_split_info *info, al_err *err);

/* ---------------- file lists ---------------- */

/* The files a spec names: a comma-separated list of paths and shell-style
 * patterns (POSIX glob(3): * ? [...]); each pattern's matches are sorted in
 * byte order (strcmp, whatever the locale) and the list's order is kept.
 * Fails naming a pattern that matches nothing, or an empty list entry. */
typedef struct {
  char **paths;
  int n;
} al_paths;
int al_paths_expand(al_paths *p, const char *spec, al_err *err);
void al_paths_free(al_paths *p);

/* ---------------- shards ---------------- */

typedef enum { AL_SHARD_ALAB = 1, AL_SHARD_LLMC = 2 } al_shard_format;

#define AL_SHARD_MAGIC "ALABTOK1"
#define AL_SHARD_HEADER 64
#define AL_LLMC_MAGIC 20240520
#define AL_LLMC_HEADER 1024
#define AL_LLMC_EOT 50256

typedef struct {
  al_shard_format format;
  int version;
  int vocab_size;    /* 0: not recorded (llm.c) */
  int32_t eot;       /* -1: none */
  uint64_t ndocs;    /* from the header (alab), EOT count (llm.c) */
  int32_t max_token; /* largest token present (-1 when empty) */
  al_tokens tokens;
  al_map map;  /* when opened from a file */
  char *path;  /* the file (or the `where` of a parsed buffer) */
} al_shard;

/* Parses a shard held in memory (the shard views data, which must outlive
 * it). Checks magic, version, width, that the count matches the length, and
 * (alab) that every token is below vocab_size. */
int al_shard_parse(al_shard *s, const void *data, size_t len, const char *where, al_err *err);
/* Memory-maps and parses a shard file. */
int al_shard_open(al_shard *s, const char *path, al_err *err);
void al_shard_close(al_shard *s);
/* Fails when the shard cannot feed a model with vocab_size tokens: its
 * recorded vocabulary is larger, or a token is >= vocab_size. */
int al_shard_check_vocab(const al_shard *s, int vocab_size, al_err *err);

/* Writes tokens as an alab shard, atomically. Fails on a token outside
 * [0, vocab_size). */
int al_shard_write(const char *path, const int32_t *ids, size_t n, int vocab_size, int32_t eot, al_err *err);

/* Streaming writer (for corpora larger than memory). */
typedef struct {
  al_atomic a;
  int vocab_size, width;
  int32_t eot;
  uint64_t ntokens, ndocs;
} al_shard_writer;
int al_shard_writer_open(al_shard_writer *w, const char *path, int vocab_size, int32_t eot, al_err *err);
int al_shard_writer_append(al_shard_writer *w, const int32_t *ids, size_t n, al_err *err);
int al_shard_writer_commit(al_shard_writer *w, al_err *err);
void al_shard_writer_abort(al_shard_writer *w);

/* Several shards opened together, from a spec as al_paths_expand reads it
 * ("train_*.bin", "a.bin,b.bin"). All must agree on format, vocabulary size
 * and EOT. */
typedef struct {
  al_shard *shards;
  int n;
} al_shard_set;
int al_shard_set_open(al_shard_set *ss, const char *spec, al_err *err);
void al_shard_set_close(al_shard_set *ss);
/* The views of all shards, one segment each (a fresh array; free() it). */
al_tokens *al_shard_set_tokens(const al_shard_set *ss);
uint64_t al_shard_set_ntokens(const al_shard_set *ss);
int al_shard_set_check_vocab(const al_shard_set *ss, int vocab_size, al_err *err);

/* ---------------- batching ---------------- */

/* Everything needed to resume a loader exactly: integers only. */
typedef struct {
  uint64_t seed;
  uint64_t epoch;    /* epochs completed */
  uint64_t pos;      /* windows of this epoch's order already served */
  uint64_t nwindows; /* windows per epoch, checked on restore */
  /* Filled by al_loader_get_state and checked on restore when order is 1: */
  int order;         /* 1: segment by segment (this alab); 0: saved before
                      * segments were read in order (windows shuffled across
                      * all of them): refused when that order differs */
  int nsegs;         /* segments of the data */
  int seg;           /* the segment the next window comes from (nsegs: epoch done) */
  uint64_t seg_pos;  /* windows of that segment already served this epoch */
} al_loader_state;

typedef struct {
  int B, T, shuffle;
  al_tokens *segs; /* copies of the views (the tokens are not copied) */
  int nsegs;
  uint64_t *seg_first; /* [nsegs + 1]: index of each segment's first window */
  uint64_t nwindows;
  uint32_t *order; /* the current segment's order of its windows (shuffle only) */
  int order_seg;   /* the segment `order` is for (-1: none yet) */
  al_loader_state st;
  int32_t *inputs, *targets; /* [B*T], filled by al_loader_next */
} al_loader;

/* Fails when the segments hold no window of T+1 tokens, or a segment more
 * than 2^32 windows. */
/* shuffle: the order of windows in an epoch.
 * AL_SHUFFLE_NONE: in order. AL_SHUFFLE_SEGMENTS: segment after segment,
 * windows shuffled within each (above; for shards streamed from disk).
 * AL_SHUFFLE_ALL: one permutation of every window of every segment, from
 * al_rng_seed_stream(seed, epoch), for data in memory whose parts must mix
 * (the collapse experiment's real and synthetic generations: read in order,
 * the last part trained on would dominate); at most 2^32 windows in all. */
enum { AL_SHUFFLE_NONE = 0, AL_SHUFFLE_SEGMENTS = 1, AL_SHUFFLE_ALL = 2 };
int al_loader_init(al_loader *l, const al_tokens *segs, int nsegs, int B, int T, uint64_t seed, int shuffle,
                   al_err *err);
/* Fills l->inputs and l->targets with the next batch. */
void al_loader_next(al_loader *l);
/* Window w (0..nwindows) of the dataset: its first token's segment/offset. */
void al_loader_window(const al_loader *l, uint64_t w, int *seg, size_t *offset);
al_loader_state al_loader_get_state(const al_loader *l);
/* Restores a saved position; fails when the state was saved for a dataset
 * with a different number of windows or segments, pos is out of range, or it
 * was saved by a loader that ordered windows differently. */
int al_loader_set_state(al_loader *l, const al_loader_state *s, al_err *err);
/* The state as JSON fields of obj ("loader_seed", "loader_epoch",
 * "loader_pos", "loader_nwindows", "loader_order", "loader_shards",
 * "loader_shard", "loader_shard_pos"; a shard here is a segment), and back
 * (a state without "loader_order" reads as order 0). */
struct json_t;
void al_loader_state_to_json(const al_loader_state *s, struct json_t *obj);
int al_loader_state_from_json(const struct json_t *obj, al_loader_state *s, const char *where, al_err *err);
void al_loader_free(al_loader *l);

/* Held-out batches that score every target exactly once, in file order: a
 * segment of n >= 2 tokens gives windows starting at 0, T, 2T, ... up to its
 * last token, the last one shorter when T does not divide n - 1 (its missing
 * positions have input 0 and target -1, which the loss ignores). Fills the
 * next B windows (rows past the end are padding) and returns how many
 * targets it filled: 0 when the segments are done. Start with *at zeroed. */
typedef struct {
  int seg;
  size_t off;
} al_eval_cursor;
size_t al_eval_batch(const al_tokens *segs, int nsegs, int B, int T, al_eval_cursor *at, int32_t *inputs,
                     int32_t *targets);
/* Targets that the first max_batches (0: all) such batches score; *all gets
 * the count over every batch. */
uint64_t al_eval_targets(const al_tokens *segs, int nsegs, int B, int T, int max_batches, uint64_t *all);

#endif

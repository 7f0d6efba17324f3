/* A training dataset from spec strings:
 *   story:N[:SEED]    N stories of the built-in story world (seed 1 default)
 *   FILES             a comma-separated list of paths and shell-style
 *                     patterns (al_paths_expand: glob(3), each pattern's
 *                     matches sorted), all token shards or all corpora:
 *                     shards (a ".bin" name, or alab's or llm.c's magic) are
 *                     memory-mapped, one segment each, and read one after
 *                     another; text/JSONL corpora are tokenized into memory
 *                     and concatenated in order, one segment.
 * Validation is either a separate spec of the same kinds (then the data is
 * not split), or the end of the data by al_split_docs (by documents, or by
 * tokens when there are too few documents). Opening logs what was read and
 * how it was split. */
#ifndef ALAB_DATASET_H
#define ALAB_DATASET_H
#include "alab/data.h"
#include "alab/tok.h"

/* The tokens one spec names. */
typedef struct {
  int32_t *ids;         /* tokens owned here (corpora, stories), else NULL */
  size_t n;
  al_shard_set shards;  /* when the spec named shards */
  al_tokens *segs;      /* one view per shard, or one over ids */
  int nsegs;
  int nfiles;
  uint64_t ntokens, ndocs;
  int32_t eot;          /* the end-of-text id the tokens use */
  int vocab_size;       /* recorded by alab shards; else the tokenizer's */
  char *text;           /* the raw text of a story: spec (for BPE training), else NULL */
  size_t text_len;
} al_source;

typedef struct {
  al_source data, valdata;  /* valdata: only when validation was given separately */
  al_tokens *train, *val;
  int ntrain, nval;
  al_split_info split;      /* how data was split (no separate validation) */
} al_dataset;

/* Opens the tokens of a spec (story:N[:SEED] or FILES); `o` (may be NULL)
 * reads corpora. Fails naming the file. */
int al_source_open(al_source *s, const char *spec, const al_corpus_opts *o, const al_tok *tok, al_err *err);
void al_source_close(al_source *s);

/* Parses "story:N[:SEED]"; returns 1 if spec is one, 0 if not, -1 if malformed. */
int al_dataset_story_spec(const char *spec, long *n, uint64_t *seed, al_err *err);
/* The raw text a spec names (stories, or the bytes of its corpus files
 * joined by newlines), for tokenizer training. Fails on shards (already
 * tokenized). */
int al_dataset_text(const char *spec, char **text, size_t *len, al_err *err);
/* Training data from spec, validation from val_spec when it is not NULL
 * (then val_frac is not used), else the last val_frac of the data. */
int al_dataset_open_val(al_dataset *d, const char *spec, const char *val_spec, const al_corpus_opts *o,
                        const al_tok *tok, double val_frac, al_err *err);
int al_dataset_open(al_dataset *d, const char *spec, const al_corpus_opts *o, const al_tok *tok, double val_frac,
                    al_err *err);
void al_dataset_close(al_dataset *d);
/* Tokenizes text in memory (documents separated by <|endoftext|>) into a
 * fresh array: doc0 EOT doc1 EOT ... */
int al_tokenize_docs(const al_tok *tok, const char *text, size_t len, int32_t **ids, size_t *n, uint64_t *ndocs,
                     al_err *err);
/* Bytes of text per token over the validation segments (decoding them; the
 * end-of-text token counts as its 13 bytes, as the story world's entropy
 * per byte counts separators). 0 when there is no validation data. */
double al_dataset_val_bytes_per_token(const al_dataset *d, const al_tok *tok);

/* A tokenizer from a spec: "byte", "bpe:N" (train a BPE of vocabulary N on
 * the text of data_spec, at most the first 64 MB), or a directory holding
 * tokenizer files. */
int al_tokenizer_from_spec(al_tok **out, const char *spec, const char *data_spec, al_err *err);
#endif

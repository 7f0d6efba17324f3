/* A training dataset from one spec string, split into train and validation:
 *   story:N[:SEED]    N stories of the built-in story world (seed 1 default)
 *   PATH.bin, globs   token shards (alab or llm.c format), already tokenized
 *   PATH              a text or JSONL corpus, tokenized with the tokenizer
 * The split is by documents (the last val_frac of them are validation). */
#ifndef ALAB_DATASET_H
#define ALAB_DATASET_H
#include "alab/data.h"
#include "alab/tok.h"

typedef struct {
  int32_t *ids;        /* tokens owned here (corpora, stories), else NULL */
  size_t n;
  al_shard_set shards; /* when the spec named shards */
  al_tokens *train, *val;
  int ntrain, nval;
  uint64_t ndocs;
  char *text;          /* the raw text of a story: spec (for BPE training), else NULL */
  size_t text_len;
} al_dataset;

/* Parses "story:N[:SEED]"; returns 1 if spec is one, 0 if not, -1 if malformed. */
int al_dataset_story_spec(const char *spec, long *n, uint64_t *seed, al_err *err);
/* The raw text a spec names (stories or a corpus file's bytes), for tokenizer training. */
int al_dataset_text(const char *spec, char **text, size_t *len, al_err *err);
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

/* Byte-level BPE tokenizer, identical to GPT-2's (tiktoken "gpt2").
 *
 * Files: Hugging Face GPT2Tokenizer's vocab.json + merges.txt (same content as
 * OpenAI's encoder.json + vocab.bpe), or a tokenizer.json of the same family.
 * The byte tokenizer is the same object with no merges: 256 byte tokens with
 * id = byte value, then <|endoftext|> = 256; it is saved in the same files. */
#ifndef ALAB_TOK_H
#define ALAB_TOK_H
#include <stddef.h>
#include <stdint.h>
#include "alab/base.h"

typedef struct al_tok al_tok;

/* Loads from a directory holding vocab.json + merges.txt (or encoder.json +
 * vocab.bpe), or else tokenizer.json, or else llama2.c's tokenizer.bin; or
 * from a file: a name ending in .json is a tokenizer.json, any other a
 * tokenizer.bin. */
int al_tok_load(al_tok **out, const char *dir, al_err *err);
int al_tok_load_files(al_tok **out, const char *vocab_path, const char *merges_path, al_err *err);
int al_tok_load_tokenizer_json(al_tok **out, const char *path, al_err *err);
/* llama2.c's tokenizer.bin (SentencePiece pieces with scores; src/tok/sp.c).
 * Its <s> (id 1) is both the BOS and the end of text (al_tok_eot), as in
 * run.c; al_tok_encode runs run.c's score-greedy merges over code points and
 * <0xXX> byte fallback (special strings are never recognised), and
 * al_tok_encode_start adds the BOS and the leading "dummy prefix" space. */
int al_tok_load_llama2c(al_tok **out, const char *path, al_err *err);
/* 256 bytes (id = byte value) + <|endoftext|> (id 256), no merges. */
al_tok *al_tok_byte(void);
/* Writes vocab.json + merges.txt into dir (tokenizer.bin for a llama2.c
 * tokenizer; each atomically; merges.txt has
 * the "#version: 0.2" header that Hugging Face GPT2Tokenizer expects). Only
 * <|endoftext|> is special when read back: other special tokens (from a
 * tokenizer.json) are written as their text and reload as plain tokens. */
int al_tok_save(const al_tok *t, const char *dir, al_err *err);
/* Learns merges from text until vocab_size (257..65536; the end-of-text token
 * is added last and counts). Deterministic. Ids 0..255 are the bytes (id =
 * byte value), merged tokens follow in merge order, <|endoftext|> is last.
 * Occurrences of "<|endoftext|>" in text separate documents and are not
 * learned from. Each step merges the most frequent adjacent pair (counted
 * within pre-tokenized words, weighted by word count); ties go to the pair
 * whose left token's bytes are lexicographically smallest (memcmp order, a
 * prefix before its extensions), then the right token's. A merge whose bytes
 * equal an existing token reuses its id. Stops early (smaller vocabulary) if
 * no pair is left. */
int al_tok_train(al_tok **out, const char *text, size_t len, int vocab_size, al_err *err);
void al_tok_free(al_tok *t);
/* Merges in rank order (0 = applied first): left + right -> merged. */
int al_tok_n_merges(const al_tok *t);
int al_tok_merge(const al_tok *t, int rank, int32_t *left, int32_t *right, int32_t *merged); /* -1 if out of range */
int al_tok_is_special(const al_tok *t, int32_t id);

int al_tok_vocab_size(const al_tok *t);
int al_tok_eot(const al_tok *t); /* id of <|endoftext|>, -1 if none */

/* Encodes text; special tokens (<|endoftext|>) are recognised only when
 * allow_special is set, else they are encoded as plain text. Appends to *ids
 * (a growable array with capacity *cap); returns the number appended, or -1.
 * Any bytes are accepted: on valid UTF-8 the result is GPT-2's (tiktoken
 * "gpt2"); each maximal run of invalid UTF-8 is a pre-token of its own (BPE
 * over its bytes), so decode(encode(x)) == x always. Thread-safe: each thread
 * keeps its own cache of pre-token -> ids. */
long al_tok_encode(const al_tok *t, const char *text, size_t len, int allow_special, int32_t **ids, size_t *n,
                   size_t *cap, al_err *err);
/* Encodes a whole text as the tokenizer's pipeline does from its start: the
 * BOS first when the tokenizer adds one (al_tok_bos), then the text (for
 * tokenizer.bin with its dummy-prefix space). Use al_tok_encode for text that
 * continues one already encoded. Returns the number appended, or -1. */
long al_tok_encode_start(const al_tok *t, const char *text, size_t len, int allow_special, int32_t **ids, size_t *n,
                         size_t *cap, al_err *err);
/* The id a whole text begins with: tokenizer.json's post_processor BOS
 * (TemplateProcessing [SpecialToken, Sequence A]), tokenizer.bin's <s>; -1
 * when the tokenizer adds none (GPT-2's files). */
int al_tok_bos(const al_tok *t);
/* The bytes of one token (not NUL-terminated); NULL for an id out of range. */
const char *al_tok_token(const al_tok *t, int32_t id, size_t *len);
/* Decodes ids into a fresh NUL-terminated buffer (*len excludes the NUL).
 * Fails on an id out of range. */
int al_tok_decode(const al_tok *t, const int32_t *ids, size_t n, char **out, size_t *len, al_err *err);
#endif

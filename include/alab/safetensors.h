/* safetensors files (Hugging Face's tensor format) and the trainer state.
 *
 * Layout of a file:
 *   u64 N (little-endian)  | N bytes of UTF-8 JSON header | byte buffer
 * The header is one JSON object: for each tensor
 *   "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
 * with offsets relative to the start of the byte buffer, and optionally
 *   "__metadata__": {"key": "string value", ...}.
 * Rules enforced on read (a file that breaks one is refused with a message
 * naming the tensor and the rule, never read out of bounds):
 *   - 2 <= N <= 100 MiB and 8 + N <= file size; the header starts with '{'
 *     and may be padded with trailing spaces;
 *   - names are unique and non-empty; __metadata__ values are strings;
 *   - dtype is one of BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 I32 U32 F32
 *     F64 I64 U64; shape entries are non-negative integers (at most
 *     AL_ST_MAX_DIMS); begin <= end and end - begin = numel * dtype size;
 *   - sorted by offset, the tensors tile the buffer exactly: the first starts
 *     at 0, each starts where the previous ended, the last ends at the end of
 *     the file (no gaps, no overlaps, no trailing bytes).
 * Tensor data is little-endian, row-major. */
#ifndef ALAB_SAFETENSORS_H
#define ALAB_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "alab/base.h"

#define AL_ST_MAX_DIMS 8
#define AL_ST_MAX_HEADER ((uint64_t)100 << 20)

typedef struct {
  const char *name;  /* owned by the file's header JSON */
  char dtype[8];     /* "F32", "F16", ... */
  int elem_size;     /* bytes per element */
  int ndim;
  int64_t shape[AL_ST_MAX_DIMS];
  size_t numel;
  size_t begin, end; /* byte range in the buffer */
  const void *data;  /* start of the tensor's bytes (not aligned in general) */
} al_st_entry;

typedef struct {
  char *where;          /* the path (or a label) used in messages */
  al_map map;           /* the mapped file (empty for al_st_parse) */
  json_t *header;       /* the parsed header; entries' names point into it */
  al_st_entry *entries; /* in header order */
  int n;
  json_t *metadata;     /* borrowed from header: the __metadata__ object, or NULL */
} al_st_file;

/* Maps and validates a file. Close with al_st_close. */
int al_st_open(al_st_file *f, const char *path, al_err *err);
/* Validates a file already in memory (data must outlive f); `where` names it. */
int al_st_parse(al_st_file *f, const void *data, size_t len, const char *where, al_err *err);
void al_st_close(al_st_file *f);
/* The entry called name, or NULL. */
const al_st_entry *al_st_find(const al_st_file *f, const char *name);
/* A string value of __metadata__, or NULL. */
const char *al_st_meta(const al_st_file *f, const char *key);
/* Converts a tensor to float32 into out[0..numel): F32, F16, BF16 and F64
 * are accepted; other dtypes are refused with a message naming the tensor. */
int al_st_read_f32(const al_st_file *f, const al_st_entry *e, float *out, al_err *err);
/* Fails with "where: tensor 'name' holds NaN at index i ..." if any of x[0..n)
 * is NaN or infinite: models and trainer states never hold one (written or
 * read). */
int al_check_finite(const float *x, size_t n, const char *where, const char *tensor, al_err *err);
/* "[3, 4]" for messages. */
void al_st_shape_str(const int64_t *shape, int ndim, char *out, size_t cap);

/* IEEE binary16 / bfloat16 bits to float (exact: every value is representable). */
float al_f16_to_f32(uint16_t h);
float al_bf16_to_f32(uint16_t b);
/* Bytes per element of a dtype name, or 0 if unknown. */
int al_st_dtype_size(const char *dtype);

/* A model directory's weights as one file: model.safetensors, or (when it is
 * absent) the shards model.safetensors.index.json's weight_map names, merged
 * without copying (src/io/safetensors_shards.c). Close with al_st_set_close. */
typedef struct {
  al_st_file all;     /* every tensor; where names model.safetensors or the index */
  al_st_file *shards; /* the mapped shards (none for a single file) */
  int nshards;
} al_st_set;
int al_st_open_model(al_st_set *s, const char *dir, al_err *err);
void al_st_set_close(al_st_set *s);

/* A tensor to write: data holds numel * size(dtype) little-endian bytes. */
typedef struct {
  const char *name;
  const char *dtype; /* "F32" when NULL */
  int ndim;
  int64_t shape[AL_ST_MAX_DIMS];
  const void *data;
} al_st_tensor;

/* Writes tensors in the given order, atomically (temp file + rename). The
 * header is padded with spaces so the buffer starts 8-byte aligned.
 * metadata (may be NULL) must be an object of strings. */
int al_st_write(const char *path, const al_st_tensor *t, int n, const json_t *metadata, al_err *err);

/* ---- trainer state: named float arrays + a JSON object, one atomic file ----
 * Stored as a safetensors file: each array a 1-D F32 tensor, the JSON object
 * serialised into __metadata__["alab_trainer_state"]. One file, so a kill
 * leaves either the old state or the new one. uint64 values (RNG state) do not
 * fit JSON integers: store them with al_json_u64 and read with al_json_get_u64. */
typedef struct {
  const char *name;
  float *data;
  size_t n;
} al_state_array;

int al_state_save(const char *path, const al_state_array *a, int n, const json_t *info, al_err *err);
/* Fills every a[i].data (each must be present with exactly a[i].n floats,
 * dtype F32) and returns the JSON object in *info (caller json_decref's). */
int al_state_load(const char *path, const al_state_array *a, int n, json_t **info, al_err *err);
json_t *al_json_u64(uint64_t v); /* "0x%016llx" string */
int al_json_get_u64(const json_t *obj, const char *key, uint64_t *out, const char *where, al_err *err);
#endif

/* safetensors reading: map, validate every header field against the file,
 * and convert tensors to float32. The format and the rules checked are
 * described in include/alab/safetensors.h. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "alab/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader assumes a little-endian host"
#endif

static const struct { const char *name; int size; } DTYPES[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8},
};

int al_st_dtype_size(const char *dtype) {
  for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
    if (strcmp(dtype, DTYPES[i].name) == 0) return DTYPES[i].size;
  return 0;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float al_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact in float */
    float f = (float)mant * 0x1p-24f;
    return sign ? -f : f;
  }
  if (exp == 31) bits = sign | 0x7f800000u | (mant << 13); /* inf / nan */
  else bits = sign | ((exp + 112) << 23) | (mant << 13);   /* rebias 15 -> 127 */
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* bfloat16 is the top half of a float32. */
float al_bf16_to_f32(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

void al_st_shape_str(const int64_t *shape, int ndim, char *out, size_t cap) {
  size_t k = 0;
  k += (size_t)snprintf(out, cap, "[");
  for (int i = 0; i < ndim && k < cap; i++)
    k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (k < cap) snprintf(out + k, cap - k, "]");
}

/* A non-negative JSON integer. */
static int get_size(const json_t *v, uint64_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
  *out = (uint64_t)json_integer_value(v);
  return 0;
}

/* Fills e from the header entry v of tensor `name`; checks dtype, shape and
 * that the offsets lie in the buffer and match the byte size. */
static int parse_entry(al_st_entry *e, const char *name, const json_t *v, size_t buflen, const char *where,
                       al_err *err) {
  if (!json_is_object(v)) return al_fail(err, "%s: tensor '%.200s': header entry is not an object", where, name);
  const json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
               *off = json_object_get(v, "data_offsets");
  if (!json_is_string(dt)) return al_fail(err, "%s: tensor '%.200s': 'dtype' missing or not a string", where, name);
  e->elem_size = al_st_dtype_size(json_string_value(dt));
  if (!e->elem_size) return al_fail(err, "%s: tensor '%.200s': unknown dtype '%.40s'", where, name, json_string_value(dt));
  strcpy(e->dtype, json_string_value(dt));
  if (!json_is_array(sh)) return al_fail(err, "%s: tensor '%.200s': 'shape' missing or not an array", where, name);
  if (json_array_size(sh) > AL_ST_MAX_DIMS)
    return al_fail(err, "%s: tensor '%.200s': %zu dimensions, at most %d supported", where, name, json_array_size(sh),
                   AL_ST_MAX_DIMS);
  e->ndim = (int)json_array_size(sh);
  size_t numel = 1;
  for (int i = 0; i < e->ndim; i++) {
    uint64_t d;
    if (get_size(json_array_get(sh, (size_t)i), &d))
      return al_fail(err, "%s: tensor '%.200s': shape[%d] is not a non-negative integer", where, name, i);
    e->shape[i] = (int64_t)d;
    if (__builtin_mul_overflow(numel, (size_t)d, &numel))
      return al_fail(err, "%s: tensor '%.200s': shape overflows", where, name);
  }
  e->numel = numel;
  size_t bytes;
  if (__builtin_mul_overflow(numel, (size_t)e->elem_size, &bytes))
    return al_fail(err, "%s: tensor '%.200s': shape overflows", where, name);
  uint64_t b, en;
  if (!json_is_array(off) || json_array_size(off) != 2 || get_size(json_array_get(off, 0), &b) ||
      get_size(json_array_get(off, 1), &en))
    return al_fail(err, "%s: tensor '%.200s': 'data_offsets' must be [begin, end] with non-negative integers", where,
                   name);
  if (b > en) return al_fail(err, "%s: tensor '%.200s': data_offsets [%llu, %llu] end before begin", where, name,
                             (unsigned long long)b, (unsigned long long)en);
  if (en > buflen)
    return al_fail(err, "%s: tensor '%.200s': data_offsets [%llu, %llu] past the end of the data (%zu bytes)%s", where,
                   name, (unsigned long long)b, (unsigned long long)en, buflen, " (truncated file?)");
  if (en - b != bytes) {
    char s[160];
    al_st_shape_str(e->shape, e->ndim, s, sizeof s);
    return al_fail(err, "%s: tensor '%.200s': shape %s of %s needs %zu bytes but data_offsets [%llu, %llu] hold %llu",
                   where, name, s, e->dtype, bytes, (unsigned long long)b, (unsigned long long)en,
                   (unsigned long long)(en - b));
  }
  e->name = name;
  e->begin = (size_t)b;
  e->end = (size_t)en;
  return 0;
}

static int by_offset(const void *a, const void *b) {
  const al_st_entry *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* The tensors, sorted by offset, must tile [0, buflen) exactly. */
static int check_tiling(const al_st_file *f, size_t buflen, al_err *err) {
  al_st_entry *s = al_malloc(sizeof(al_st_entry) * (size_t)(f->n ? f->n : 1));
  if (f->n) memcpy(s, f->entries, sizeof(al_st_entry) * (size_t)f->n);
  qsort(s, (size_t)f->n, sizeof *s, by_offset);
  size_t at = 0;
  int rc = 0;
  for (int k = 0; k < f->n && !rc; k++) {
    if (s[k].begin < at)
      rc = al_fail(err, "%s: tensor '%.200s': data_offsets [%zu, %zu] overlap tensor '%.200s' (which ends at %zu)",
                   f->where, s[k].name, s[k].begin, s[k].end, s[k - 1].name, at);
    else if (s[k].begin > at)
      rc = al_fail(err, "%s: tensor '%.200s': data_offsets start at %zu, leaving a gap after byte %zu", f->where,
                   s[k].name, s[k].begin, at);
    at = s[k].end;
  }
  if (!rc && at != buflen)
    rc = al_fail(err, "%s: the tensors cover %zu bytes of data but the file holds %zu after the header", f->where, at,
                 buflen);
  free(s);
  return rc;
}

static int parse_metadata(al_st_file *f, json_t *v, al_err *err) {
  if (!json_is_object(v)) return al_fail(err, "%s: __metadata__ is not an object", f->where);
  const char *k;
  json_t *x;
  json_object_foreach(v, k, x) {
    if (!json_is_string(x)) return al_fail(err, "%s: __metadata__ value '%.200s' is not a string", f->where, k);
  }
  f->metadata = v;
  return 0;
}

/* Validates data[0..len) into f (f->where already set); closes f on failure. */
static int parse(al_st_file *f, const void *data, size_t len, al_err *err) {
  const char *where = f->where;
  const unsigned char *p = data;
  if (len < 8) {
    al_fail(err, "%s: file is %zu bytes, too short to hold the 8-byte header length (truncated?)", where, len);
    goto fail;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | p[i];
  if (n < 2 || n > AL_ST_MAX_HEADER) {
    al_fail(err, "%s: header length %llu is outside [2, %llu] (not a safetensors file?)", where, (unsigned long long)n,
            (unsigned long long)AL_ST_MAX_HEADER);
    goto fail;
  }
  if (n > len - 8) {
    al_fail(err, "%s: header length %llu claims past the end of the file (%zu bytes; truncated?)", where,
            (unsigned long long)n, len);
    goto fail;
  }
  const char *text = (const char *)p + 8;
  if (text[0] != '{') {
    al_fail(err, "%s: header does not start with '{'", where);
    goto fail;
  }
  if (al_json_parse(text, (size_t)n, where, &f->header, err)) goto fail;
  if (!json_is_object(f->header)) {
    al_fail(err, "%s: header is not a JSON object", where);
    goto fail;
  }
  size_t buflen = len - 8 - (size_t)n;
  const unsigned char *buf = p + 8 + n;
  f->entries = al_calloc(json_object_size(f->header) + 1, sizeof(al_st_entry));
  for (void *it = json_object_iter(f->header); it; it = json_object_iter_next(f->header, it)) {
    const char *name = json_object_iter_key(it);
    json_t *v = json_object_iter_value(it);
    if (json_object_iter_key_len(it) != strlen(name) || !name[0]) {
      al_fail(err, "%s: a tensor name is empty or contains a NUL byte", where);
      goto fail;
    }
    if (strcmp(name, "__metadata__") == 0) {
      if (parse_metadata(f, v, err)) goto fail;
      continue;
    }
    al_st_entry *e = &f->entries[f->n];
    if (parse_entry(e, name, v, buflen, where, err)) goto fail;
    e->data = buf + e->begin;
    f->n++;
  }
  if (check_tiling(f, buflen, err)) goto fail;
  return 0;
fail:
  al_st_close(f);
  return -1;
}

int al_st_parse(al_st_file *f, const void *data, size_t len, const char *where, al_err *err) {
  memset(f, 0, sizeof *f);
  f->where = al_strdup(where);
  return parse(f, data, len, err);
}

int al_st_open(al_st_file *f, const char *path, al_err *err) {
  memset(f, 0, sizeof *f);
  if (al_map_file(path, &f->map, err)) return -1;
  f->where = al_strdup(path);
  return parse(f, f->map.data, f->map.len, err);
}

void al_st_close(al_st_file *f) {
  if (f->header) json_decref(f->header);
  al_unmap(&f->map);
  free(f->entries);
  free(f->where);
  memset(f, 0, sizeof *f);
}

const al_st_entry *al_st_find(const al_st_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->entries[i].name, name) == 0) return &f->entries[i];
  return NULL;
}

const char *al_st_meta(const al_st_file *f, const char *key) {
  return f->metadata ? json_string_value(json_object_get(f->metadata, key)) : NULL;
}

int al_st_read_f32(const al_st_file *f, const al_st_entry *e, float *out, al_err *err) {
  const unsigned char *p = e->data;
  size_t n = e->numel;
  if (strcmp(e->dtype, "F32") == 0) {
    if (n) memcpy(out, p, n * 4);
  } else if (strcmp(e->dtype, "F16") == 0 || strcmp(e->dtype, "BF16") == 0) {
    int bf = e->dtype[0] == 'B';
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, p + 2 * i, 2);
      out[i] = bf ? al_bf16_to_f32(h) : al_f16_to_f32(h);
    }
  } else if (strcmp(e->dtype, "F64") == 0) {
    for (size_t i = 0; i < n; i++) {
      double d;
      memcpy(&d, p + 8 * i, 8);
      out[i] = (float)d;
    }
  } else {
    return al_fail(err, "%s: tensor '%.200s': dtype %s cannot be read as floats (expected F32, F16, BF16 or F64)",
                   f->where, e->name, e->dtype);
  }
  return 0;
}

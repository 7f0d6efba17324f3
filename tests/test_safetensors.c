/* safetensors: bit-exact round trip of every dtype, exhaustive F16/BF16
 * conversion against the closed-form value, and one test per malformed file
 * (each must fail with a message naming the problem, never crash). */
#include <stdint.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "test.h"

/* A file image: u64 header length, header text (as given), buflen bytes of data. */
static unsigned char *image(uint64_t hlen_field, const char *header, size_t buflen, size_t *len) {
  size_t h = strlen(header);
  *len = 8 + h + buflen;
  unsigned char *p = al_calloc(*len, 1);
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(hlen_field >> (8 * i));
  memcpy(p + 8, header, h);
  for (size_t i = 0; i < buflen; i++) p[8 + h + i] = (unsigned char)(i * 7 + 1);
  return p;
}

/* Parses header + buflen bytes of data; returns the parse result, err filled. */
static int parse_header(const char *header, size_t buflen, al_err *err) {
  size_t len;
  unsigned char *p = image(strlen(header), header, buflen, &len);
  al_st_file f;
  int rc = al_st_parse(&f, p, len, "mem", err);
  if (rc == 0) al_st_close(&f);
  free(p);
  return rc;
}

static void test_round_trip(const char *dir) {
  al_err err;
  float a[12];
  for (int i = 0; i < 12; i++) a[i] = (float)i * 0.37f - 1.5f;
  a[3] = -0.0f;
  a[4] = 1e-40f; /* subnormal */
  float scalar = 3.25f;
  uint16_t h[5] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00}; /* 1, -2, 65504, 2^-24, inf */
  uint16_t bf[3] = {0x3f80, 0xc0a0, 0x0001};                /* 1, -5, smallest subnormal */
  double d[2] = {0.1, -1e300};
  int32_t ints[3] = {1, -2, 3};
  al_st_tensor t[] = {
      {"w.weight", "F32", 2, {3, 4}, a},  {"scalar", NULL, 0, {0}, &scalar}, {"empty", "F32", 2, {0, 5}, a},
      {"half", "F16", 1, {5}, h},         {"bhalf", "BF16", 1, {3}, bf},      {"double", "F64", 1, {2}, d},
      {"ints", "I32", 1, {3}, ints},
  };
  int n = sizeof t / sizeof t[0];
  json_t *meta = json_pack("{s:s, s:s}", "format", "pt", "note", "h\u00e9llo \"quoted\"");
  char *path = al_path_join(dir, "rt.safetensors");
  CHECK_OK(al_st_write(path, t, n, meta, &err), err);
  json_decref(meta);

  al_st_file f;
  CHECK_OK(al_st_open(&f, path, &err), err);
  CHECK(f.n == n, "got %d tensors", f.n);
  CHECK(((const unsigned char *)f.entries[0].data - (const unsigned char *)f.map.data) % 8 == 0, "buffer not 8-aligned");
  for (int i = 0; i < n && i < f.n; i++) {
    const al_st_entry *e = &f.entries[i];
    CHECK(strcmp(e->name, t[i].name) == 0, "entry %d is '%s', wrote '%s' (order must be kept)", i, e->name, t[i].name);
    CHECK(strcmp(e->dtype, t[i].dtype ? t[i].dtype : "F32") == 0, "%s dtype %s", e->name, e->dtype);
    CHECK(e->ndim == t[i].ndim, "%s ndim %d", e->name, e->ndim);
    size_t numel = 1;
    for (int k = 0; k < e->ndim; k++) {
      CHECK(e->shape[k] == t[i].shape[k], "%s shape[%d]", e->name, k);
      numel *= (size_t)t[i].shape[k];
    }
    CHECK(e->numel == numel, "%s numel %zu", e->name, e->numel);
    CHECK(numel == 0 || memcmp(e->data, t[i].data, numel * (size_t)e->elem_size) == 0, "%s bytes differ", e->name);
  }
  CHECK(al_st_find(&f, "double") == &f.entries[5], "find");
  CHECK(al_st_find(&f, "nope") == NULL, "find of a missing name");
  CHECK(al_st_meta(&f, "note") && strcmp(al_st_meta(&f, "note"), "h\u00e9llo \"quoted\"") == 0, "metadata");
  CHECK(al_st_meta(&f, "absent") == NULL, "absent metadata");

  float out[12];
  CHECK_OK(al_st_read_f32(&f, &f.entries[0], out, &err), err);
  CHECK(memcmp(out, a, sizeof a) == 0, "F32 read not bit-exact");
  CHECK_OK(al_st_read_f32(&f, &f.entries[3], out, &err), err);
  CHECK(out[0] == 1 && out[1] == -2 && out[2] == 65504 && out[3] == ldexpf(1, -24) && isinf(out[4]), "F16 values");
  CHECK_OK(al_st_read_f32(&f, &f.entries[4], out, &err), err);
  CHECK(out[0] == 1 && out[1] == -5 && out[2] == ldexpf(1, -133), "BF16 values %g %g %g", out[0], out[1], out[2]);
  CHECK_OK(al_st_read_f32(&f, &f.entries[5], out, &err), err);
  CHECK(out[0] == 0.1f && isinf(out[1]) && out[1] < 0, "F64 values");
  CHECK_FAILS_WITH(al_st_read_f32(&f, &f.entries[6], out, &err), err, "dtype I32 cannot be read as floats");
  al_st_close(&f);

  /* an empty file (no tensors) is valid */
  CHECK_OK(al_st_write(path, NULL, 0, NULL, &err), err);
  CHECK_OK(al_st_open(&f, path, &err), err);
  CHECK(f.n == 0 && f.metadata == NULL, "empty file");
  al_st_close(&f);
  free(path);
}

/* Every half and bfloat16 bit pattern against sign * 2^(e - bias) * (1 + m / 2^k). */
static void test_half_exhaustive(void) {
  int bad16 = 0, badbf = 0;
  for (uint32_t x = 0; x < 65536; x++) {
    int s = x >> 15, e = (x >> 10) & 31, m = x & 1023;
    double want = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1.0 + m / 1024.0, e - 15);
    if (s) want = -want;
    float got = al_f16_to_f32((uint16_t)x);
    if (isnan(want) ? !isnan(got) : (double)got != want || !signbit(got) != !signbit(want)) bad16++;
    int eb = (x >> 7) & 255, mb = x & 127;
    double wb = eb == 0 ? ldexp(mb, -133) : eb == 255 ? (mb ? NAN : INFINITY) : ldexp(1.0 + mb / 128.0, eb - 127);
    if (s) wb = -wb;
    float gb = al_bf16_to_f32((uint16_t)x);
    if (isnan(wb) ? !isnan(gb) : (double)gb != wb || !signbit(gb) != !signbit(wb)) badbf++;
  }
  CHECK(bad16 == 0, "%d F16 patterns convert wrongly", bad16);
  CHECK(badbf == 0, "%d BF16 patterns convert wrongly", badbf);
}

static void test_truncated(const char *dir) {
  al_err err;
  float a[6] = {1, 2, 3, 4, 5, 6};
  al_st_tensor t[2] = {{"a", "F32", 1, {2}, a}, {"b", "F32", 2, {2, 2}, a + 2}};
  char *path = al_path_join(dir, "trunc.safetensors");
  CHECK_OK(al_st_write(path, t, 2, NULL, &err), err);
  char *data;
  size_t len;
  CHECK_OK(al_read_file(path, &data, &len, &err), err);
  size_t cuts[] = {0, 3, 8, 9, 20, len - 24, len - 16, len - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    CHECK_OK(al_write_file_atomic(path, data, cuts[i], &err), err);
    al_st_file f;
    CHECK_FAILS_WITH(al_st_open(&f, path, &err), err, "truncated");
    CHECK(strstr(err.msg, path) != NULL, "message names the file: %s", err.msg);
  }
  al_st_file f;
  CHECK_FAILS_WITH(al_st_open(&f, "/nonexistent/x.safetensors", &err), err, "cannot open");
  free(data);
  free(path);
}

static void test_header_length(void) {
  al_err err;
  const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  size_t len;
  al_st_file f;
  struct { uint64_t n; const char *needle; } cases[] = {
      {(uint64_t)1 << 63, "header length 9223372036854775808 is outside"},
      {UINT64_MAX, "header length 18446744073709551615 is outside"},
      {0, "header length 0 is outside"},
      {1, "header length 1 is outside"},
      {AL_ST_MAX_HEADER + 1, "is outside [2, 104857600]"},
      {1000, "header length 1000 claims past the end of the file"},
      {strlen(h) + 5, "claims past the end"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned char *p = image(cases[i].n, h, 4, &len);
    CHECK_FAILS_WITH(al_st_parse(&f, p, len, "mem", &err), err, cases[i].needle);
    free(p);
  }
  /* a header length that cuts the JSON short, leaving its tail as data */
  unsigned char *p = image(strlen(h) - 3, h, 4, &len);
  CHECK_FAILS_WITH(al_st_parse(&f, p, len, "mem", &err), err, "invalid JSON");
  free(p);
  /* deeply nested JSON: refused by the parser's depth limit, no stack overflow */
  size_t depth = 200000;
  char *deep = al_malloc(depth + 8);
  memcpy(deep, "{\"a\":", 5);
  memset(deep + 5, '[', depth);
  deep[depth + 5] = 0;
  p = image(strlen(deep), deep, 0, &len);
  CHECK_FAILS_WITH(al_st_parse(&f, p, len, "mem", &err), err, "maximum parsing depth");
  free(p);
  free(deep);
}

static void test_bad_headers(void) {
  al_err err;
#define T(name, dt, shape, off) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" off "}"
  /* valid: two tensors, reversed order in the header, padded with spaces */
  CHECK_OK(parse_header("{" T("b", "F32", "[2]", "[8,16]") "," T("a", "F32", "[2]", "[0,8]") "}     ", 16, &err), err);
  /* valid: zero-size tensors anywhere */
  CHECK_OK(parse_header("{" T("z", "F32", "[0,3]", "[4,4]") "," T("a", "F32", "[1]", "[0,4]") "}", 4, &err), err);
  struct { const char *header; size_t buflen; const char *needle; } cases[] = {
      {"{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[4,12]") "}", 12,
       "tensor 'b': data_offsets [4, 12] overlap tensor 'a'"},
      {"{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[0,8]") "}", 8, "overlap"},
      {"{" T("a", "F32", "[4]", "[0,16]") "}", 8, "tensor 'a': data_offsets [0, 16] past the end of the data (8 bytes)"},
      {"{" T("a", "F32", "[2]", "[8,16]") "}", 16, "tensor 'a': data_offsets start at 8, leaving a gap"},
      {"{" T("a", "F32", "[2]", "[0,8]") "}", 12, "the tensors cover 8 bytes of data but the file holds 12"},
      {"{" T("a", "F32", "[0]", "[8,0]") "}", 8, "end before begin"},
      {"{" T("a", "F31", "[2]", "[0,8]") "}", 8, "tensor 'a': unknown dtype 'F31'"},
      {"{" T("a", "f32", "[2]", "[0,8]") "}", 8, "unknown dtype 'f32'"},
      {"{" T("a", "F32", "[3]", "[0,8]") "}", 8, "tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8"},
      {"{" T("a", "F16", "[2,3]", "[0,8]") "}", 8, "shape [2, 3] of F16 needs 12 bytes"},
      {"{" T("a", "F32", "[-2]", "[0,8]") "}", 8, "shape[0] is not a non-negative integer"},
      {"{" T("a", "F32", "[2.0]", "[0,8]") "}", 8, "shape[0] is not a non-negative integer"},
      {"{" T("a", "F32", "[4611686018427387904,4611686018427387904]", "[0,8]") "}", 8, "shape overflows"},
      {"{" T("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "9 dimensions, at most 8"},
      {"{" T("a", "F32", "2", "[0,8]") "}", 8, "'shape' missing or not an array"},
      {"{" T("a", "F32", "[2]", "[0,8,9]") "}", 8, "'data_offsets' must be [begin, end]"},
      {"{" T("a", "F32", "[2]", "[0,-8]") "}", 8, "'data_offsets' must be [begin, end]"},
      {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a': 'dtype' missing"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'data_offsets' must be"},
      {"{\"a\":[1,2]}", 8, "tensor 'a': header entry is not an object"},
      {"{" T("a", "F32", "[2]", "[0,8]") "," T("a", "F32", "[2]", "[8,16]") "}", 16, "duplicate object key"},
      {"{" T("a", "F32", "[2]", "[0,8]") ",}", 8, "mem:1:"},
      {"{\"a\": nope}", 8, "invalid JSON"},
      {"{\"a\": \"\xff\xfe\"}", 8, "invalid JSON"},
      {"[1, 2]", 8, "header does not start with '{'"},
      {"  {}", 8, "header does not start with '{'"},
      {"{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value 'k' is not a string"},
      {"{\"__metadata__\":[]}", 0, "__metadata__ is not an object"},
      {"{\"\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, "tensor name is empty"},
      {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, "NUL byte"},
      {"{} x", 0, "invalid JSON"},
  };
#undef T
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK_FAILS_WITH(parse_header(cases[i].header, cases[i].buflen, &err), err, cases[i].needle);
}

static void test_writer_errors(const char *dir) {
  al_err err;
  float a[4] = {0};
  char *path = al_path_join(dir, "w.safetensors");
  al_st_tensor dup[2] = {{"a", "F32", 1, {2}, a}, {"a", "F32", 1, {2}, a}};
  CHECK_FAILS_WITH(al_st_write(path, dup, 2, NULL, &err), err, "tensor 'a' given twice");
  al_st_tensor bad_dt = {"a", "F12", 1, {2}, a};
  CHECK_FAILS_WITH(al_st_write(path, &bad_dt, 1, NULL, &err), err, "unknown dtype 'F12'");
  al_st_tensor neg = {"a", "F32", 1, {-1}, a};
  CHECK_FAILS_WITH(al_st_write(path, &neg, 1, NULL, &err), err, "invalid shape[0] = -1");
  al_st_tensor meta_name = {"__metadata__", "F32", 1, {1}, a};
  CHECK_FAILS_WITH(al_st_write(path, &meta_name, 1, NULL, &err), err, "invalid tensor name");
  json_t *meta = json_pack("{s:i}", "k", 1);
  CHECK_FAILS_WITH(al_st_write(path, dup, 1, meta, &err), err, "metadata value 'k' must be a string");
  json_decref(meta);
  CHECK(!al_file_exists(path), "a failed write must leave no file");
  CHECK_FAILS_WITH(al_st_write("/nonexistent/dir/w.safetensors", dup, 1, NULL, &err), err, "cannot create");
  /* a failed write leaves the previous file intact */
  CHECK_OK(al_st_write(path, dup, 1, NULL, &err), err);
  CHECK_FAILS_WITH(al_st_write(path, dup, 2, NULL, &err), err, "given twice");
  al_st_file f;
  CHECK_OK(al_st_open(&f, path, &err), err);
  CHECK(f.n == 1, "old file kept");
  al_st_close(&f);
  free(path);
}

int main(void) {
  char *dir = test_tmpdir("safetensors");
  test_round_trip(dir);
  test_half_exhaustive();
  test_truncated(dir);
  test_header_length();
  test_bad_headers();
  test_writer_errors(dir);
  free(dir);
  return test_summary();
}

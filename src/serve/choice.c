/* One choice of a completion: the text built token by token, the log-probs
 * of each token, stop strings, and what may be streamed yet.
 *
 * Text is bytes (byte-level BPE tokens may split a UTF-8 character). JSON
 * needs valid UTF-8, so text is sent with invalid bytes replaced by U+FFFD,
 * streamed chunks never end inside a character that may still complete, and
 * a token whose bytes are not valid UTF-8 on their own is named
 * "bytes:\xNN..." (as OpenAI's legacy log-probs do). */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve/serve_internal.h"

void sv_choice_init(sv_choice *c, int index, int k) {
  memset(c, 0, sizeof *c);
  c->index = index;
  c->k = k;
}

void sv_choice_free(sv_choice *c) {
  al_buf_free(&c->text);
  free(c->ids);
  free(c->lp);
  free(c->off);
  free(c->top_id);
  free(c->top_lp);
  memset(c, 0, sizeof *c);
}

void sv_choice_add(sv_choice *c, const sv_model *m, int32_t id, float lp, const int32_t *top_id, const float *top_lp) {
  if (c->ntok == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 64;
    c->ids = al_realloc(c->ids, (size_t)c->cap * sizeof *c->ids);
    c->lp = al_realloc(c->lp, (size_t)c->cap * sizeof *c->lp);
    c->off = al_realloc(c->off, (size_t)c->cap * sizeof *c->off);
    if (c->k > 0) {
      c->top_id = al_realloc(c->top_id, (size_t)c->cap * c->k * sizeof *c->top_id);
      c->top_lp = al_realloc(c->top_lp, (size_t)c->cap * c->k * sizeof *c->top_lp);
    }
  }
  int i = c->ntok++;
  c->ids[i] = id;
  c->lp[i] = lp;
  c->off[i] = c->text.len;
  size_t n = 0;
  const char *s = al_tok_token(m->tok, id, &n);
  if (s) al_buf_append(&c->text, s, n);
  if (c->k > 0) {
    memcpy(c->top_id + (size_t)i * c->k, top_id, (size_t)c->k * sizeof *top_id);
    memcpy(c->top_lp + (size_t)i * c->k, top_lp, (size_t)c->k * sizeof *top_lp);
  }
}

/* Earliest occurrence of any stop string that starts at or after `from`. */
static int find_stop(const sv_choice *c, const sv_request *r, size_t from, size_t *at) {
  int found = 0;
  for (int s = 0; s < r->nstop; s++) {
    if (c->text.len < from + r->stop_len[s]) continue;
    const char *p = memmem(c->text.data + from, c->text.len - from, r->stop[s], r->stop_len[s]);
    if (p && (!found || (size_t)(p - c->text.data) < *at)) {
      *at = (size_t)(p - c->text.data);
      found = 1;
    }
  }
  return found;
}

int sv_choice_check_stop(sv_choice *c, const sv_request *r) {
  /* called after each token: only matches that end in the last token are new */
  size_t at = 0, from = c->gen_start, longest = 0;
  for (int s = 0; s < r->nstop; s++) longest = r->stop_len[s] > longest ? r->stop_len[s] : longest;
  if (c->ntok > 0 && c->off[c->ntok - 1] > from + longest) from = c->off[c->ntok - 1] - longest;
  if (!find_stop(c, r, from, &at)) return 0;
  c->text.len = at;
  while (c->ntok > 0 && c->off[c->ntok - 1] >= at && c->off[c->ntok - 1] >= c->gen_start) c->ntok--;
  c->finish = "stop";
  return 1;
}

/* Bytes a UTF-8 sequence starting with lead byte b has (0: not a lead byte). */
static int utf8_need(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

/* Length of the valid UTF-8 character at s[0..n), or 0 if it is invalid or cut short. */
static int utf8_char(const unsigned char *s, size_t n) {
  int need = utf8_need(s[0]);
  if (need <= 1 || (size_t)need > n) return need == 1;
  uint32_t cp = s[0] & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (int i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need;
}

/* Where an unfinished (but so far valid) character at the end of s[0..n) starts; n if none. */
static size_t utf8_cut_point(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t back = 1; back <= 3 && back <= n; back++) {
    unsigned char b = u[n - back];
    if ((b & 0xC0) == 0x80) continue;
    int need = utf8_need(b);
    if (need > (int)back) {
      for (size_t i = n - back + 1; i < n; i++)
        if ((u[i] & 0xC0) != 0x80) return n;
      return n - back;
    }
    return n;
  }
  return n;
}

void sv_choice_releasable(const sv_choice *c, const sv_request *r, size_t *bytes, int *toks) {
  if (c->finish) {
    *bytes = c->text.len;
    *toks = c->ntok;
    return;
  }
  size_t len = c->text.len, hold = 0;
  for (int s = 0; s < r->nstop; s++) { /* the longest tail that begins a stop string */
    size_t l = r->stop_len[s] - 1;
    if (l > len - c->gen_start) l = len - c->gen_start;
    for (; l > hold; l--)
      if (memcmp(c->text.data + len - l, r->stop[s], l) == 0) {
        hold = l;
        break;
      }
  }
  size_t b = utf8_cut_point(c->text.data, len - hold);
  int t = 0; /* whole tokens only: token t spans [off[t], off[t+1]) */
  while (t < c->ntok && (t + 1 < c->ntok ? c->off[t + 1] : len) <= b) t++;
  *toks = t;
  *bytes = t == c->ntok ? len : c->off[t];
}

json_t *sv_json_text(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  al_buf b = {0};
  size_t i = 0;
  while (i < n) {
    int k = utf8_char(u + i, n - i);
    if (k > 0) {
      al_buf_append(&b, s + i, (size_t)k);
      i += (size_t)k;
    } else {
      al_buf_append(&b, "\xEF\xBF\xBD", 3);
      i++;
    }
  }
  json_t *j = json_stringn(b.data ? b.data : "", b.len);
  al_buf_free(&b);
  return j;
}

json_t *sv_json_token(const sv_model *m, int32_t id) {
  size_t n = 0;
  const char *s = id >= 0 ? al_tok_token(m->tok, id, &n) : NULL;
  char name[64];
  if (!s) {
    snprintf(name, sizeof name, "<|token_%d|>", (int)id);
    return json_string(name);
  }
  size_t i = 0;
  while (i < n) {
    int k = utf8_char((const unsigned char *)s + i, n - i);
    if (!k) break;
    i += (size_t)k;
  }
  if (i == n) return json_stringn(s, n);
  al_buf b = {0};
  al_buf_append(&b, "bytes:", 6);
  for (i = 0; i < n; i++) al_buf_printf(&b, "\\x%02x", (unsigned char)s[i]);
  json_t *j = json_stringn(b.data, b.len);
  al_buf_free(&b);
  return j;
}

void sv_char_offsets(const char *s, size_t len, const size_t *off, int n, long *out) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  long chars = 0;
  for (int t = 0; t < n; t++) {
    while (i < len && i < off[t]) {
      int k = utf8_char(u + i, len - i);
      i += k > 0 ? (size_t)k : 1;
      chars++;
    }
    out[t] = chars;
  }
}

/* The GPT-2 pre-tokenizer: text is split into pieces by
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * (PCRE2 with UTF + UCP, JIT-compiled once per process), and BPE runs inside
 * each piece. Invalid UTF-8: the pattern is compiled with
 * PCRE2_MATCH_INVALID_UTF, so an invalid byte sequence never matches and
 * simply ends the piece before it; each maximal run of bytes the pattern
 * leaves unmatched (only invalid UTF-8 can be left: every valid character is
 * a letter, a number, a space or none of those) becomes a piece of its own.
 * Pieces therefore tile the input, and decode(encode(x)) == x for any bytes.
 * On valid UTF-8 this is exactly GPT-2's (and tiktoken's) split. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "tok/tok_internal.h"

static const char PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static pcre2_code *pcre2_code_gpt2;
static int jit_gpt2;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void compile_pattern(void) {
  int ecode;
  PCRE2_SIZE eoff;
  pcre2_code_gpt2 = pcre2_compile((PCRE2_SPTR)PATTERN, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                       &ecode, &eoff, NULL);
  if (!pcre2_code_gpt2) { /* the pattern is a constant: this is a broken PCRE2 build */
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ecode, msg, sizeof msg);
    fprintf(stderr, "alab: cannot compile the GPT-2 pattern: %s\n", (char *)msg);
    abort();
  }
  jit_gpt2 = pcre2_jit_compile(pcre2_code_gpt2, PCRE2_JIT_COMPLETE) == 0;
}

struct tok_pretok {
  pcre2_match_data *md;
  pcre2_match_context *mc;
  pcre2_jit_stack *stack;
};

tok_pretok *tok_pretok_new(void) {
  pthread_once(&once, compile_pattern);
  tok_pretok *p = al_calloc(1, sizeof *p);
  p->md = pcre2_match_data_create(16, NULL); /* any pattern: only the whole match is read */
  if (jit_gpt2) { /* long whitespace runs backtrack through (?!\S): give the JIT room */
    p->mc = pcre2_match_context_create(NULL);
    p->stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
    pcre2_jit_stack_assign(p->mc, NULL, p->stack);
  }
  if (!p->md) abort();
  return p;
}

void tok_pretok_free(tok_pretok *p) {
  if (!p) return;
  pcre2_match_data_free(p->md);
  if (p->mc) pcre2_match_context_free(p->mc);
  if (p->stack) pcre2_jit_stack_free(p->stack);
  free(p);
}

int tok_pretok_compile(al_tok *t, const char *pattern, char *why, size_t why_len) {
  int ecode;
  PCRE2_SIZE eoff;
  pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ecode, &eoff, NULL);
  if (!c) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ecode, msg, sizeof msg);
    snprintf(why, why_len, "the regex does not compile at offset %zu: %s", (size_t)eoff, (char *)msg);
    return -1;
  }
  tok_pretok_pattern_free(t->pattern);
  t->pattern = c;
  t->pattern_jit = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
  return 0;
}

void tok_pretok_pattern_free(void *pattern) { pcre2_code_free(pattern); }

size_t tok_pretok_next(tok_pretok *p, const char *s, size_t n, size_t *pos, size_t *start) {
  return tok_pretok_split(p, NULL, s, n, pos, start);
}

size_t tok_pretok_split(tok_pretok *p, const al_tok *t, const char *s, size_t n, size_t *pos, size_t *start) {
  size_t at = *pos;
  if (at >= n) return 0;
  const pcre2_code *code = t && t->pattern ? t->pattern : pcre2_code_gpt2;
  int jit_ok = t && t->pattern ? t->pattern_jit : jit_gpt2;
  int rc = jit_ok ? pcre2_jit_match(code, (PCRE2_SPTR)s, n, at, 0, p->md, p->mc)
                  : pcre2_match(code, (PCRE2_SPTR)s, n, at, 0, p->md, NULL);
  if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && jit_ok) /* JIT stack exhausted: try the interpreter */
    rc = pcre2_match(code, (PCRE2_SPTR)s, n, at, 0, p->md, NULL);
  if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) { /* a resource limit: one byte, never lose input */
    *start = at;
    *pos = at + 1;
    return 1;
  }
  size_t ms = n, me = n;
  if (rc >= 0) { /* 0: a match with more groups than the match data holds */
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    ms = ov[0];
    me = ov[1];
  }
  *start = at;
  if (ms > at) { /* unmatched bytes (invalid UTF-8) before the next match */
    *pos = ms;
    return ms - at;
  }
  if (me == ms) me = ms + 1; /* an empty match (possible in a custom pattern): never loop */
  *pos = me;
  return me - ms;
}

/* Declarative flag parsing with truthful --help (defaults read from the
 * variables themselves, so help never disagrees with the code). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/flags.h"

/* A range "[lo, hi]" / "(lo, hi)" (ends mixed freely, "inf" and "-inf" allowed). */
typedef struct { double lo, hi; int lo_open, hi_open; } range_t;

static int range_parse(const char *s, range_t *r) {
  char *end;
  if (*s != '[' && *s != '(') return -1;
  r->lo_open = *s++ == '(';
  r->lo = strtod(s, &end);
  if (end == s || *end != ',') return -1;
  s = end + 1;
  r->hi = strtod(s, &end);
  if (end == s || (*end != ']' && *end != ')') || end[1] || isnan(r->lo) || isnan(r->hi) || r->lo > r->hi) return -1;
  r->hi_open = *end == ')';
  return 0;
}

static int in_range(const range_t *r, double x) {
  return (r->lo_open ? x > r->lo : x >= r->lo) && (r->hi_open ? x < r->hi : x <= r->hi);
}

void flags_help(const flag_cmd *cmd) {
  printf("usage: %s\n\n%s\n\nflags:\n", cmd->usage, cmd->summary);
  for (int i = 0; i < cmd->nflags; i++) {
    const flag_def *f = &cmd->flags[i];
    char def[128] = "";
    switch (f->type) {
      case FLAG_INT: snprintf(def, sizeof def, "%d", *(int *)f->ptr); break;
      case FLAG_I64: snprintf(def, sizeof def, "%lld", (long long)*(int64_t *)f->ptr); break;
      case FLAG_DOUBLE: snprintf(def, sizeof def, "%g", *(double *)f->ptr); break;
      case FLAG_STRING: snprintf(def, sizeof def, "%s", *(const char **)f->ptr ? *(const char **)f->ptr : "(none)"); break;
      case FLAG_BOOL: snprintf(def, sizeof def, "%s", *(int *)f->ptr ? "on" : "off"); break;
    }
    const char *arg = f->type == FLAG_BOOL ? "" : f->type == FLAG_STRING ? " S" : f->type == FLAG_DOUBLE ? " X" : " N";
    char left[64];
    snprintf(left, sizeof left, "--%s%s", f->name, arg);
    if (f->range) printf("  %-22s %s [default: %s; range %s]\n", left, f->help, def, f->range);
    else printf("  %-22s %s [default: %s]\n", left, f->help, def);
  }
  printf("  %-22s %s\n", "--help", "show this help");
}

/* A number outside the flag's range is refused with the range. */
static int check_range(const flag_def *f, const char *v, double x) {
  range_t r;
  if (!f->range || (range_parse(f->range, &r) == 0 && in_range(&r, x))) return 0;
  fprintf(stderr, "alab: --%s: %s is outside the allowed range %s\n", f->name, v, f->range);
  return -1;
}

static int set_value(const flag_def *f, const char *v) {
  char *end;
  errno = 0;
  switch (f->type) {
    case FLAG_INT: {
      long x = strtol(v, &end, 10);
      if (errno || *end || end == v || x < INT_MIN || x > INT_MAX) goto bad;
      if (check_range(f, v, (double)x)) return -1;
      *(int *)f->ptr = (int)x;
      return 0;
    }
    case FLAG_I64: {
      long long x = strtoll(v, &end, 10);
      if (errno || *end || end == v) goto bad;
      if (check_range(f, v, (double)x)) return -1;
      *(int64_t *)f->ptr = x;
      return 0;
    }
    case FLAG_DOUBLE: {
      double x = strtod(v, &end);
      if (errno || *end || end == v || !isfinite(x)) goto bad;
      if (check_range(f, v, x)) return -1;
      *(double *)f->ptr = x;
      return 0;
    }
    case FLAG_STRING: *(const char **)f->ptr = v; return 0;
    case FLAG_BOOL:
      if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on")) *(int *)f->ptr = 1;
      else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off")) *(int *)f->ptr = 0;
      else goto bad;
      return 0;
  }
bad:
  fprintf(stderr, "alab: --%s: '%s' is not a valid %s\n", f->name, v,
          f->type == FLAG_DOUBLE ? "finite number" : f->type == FLAG_BOOL ? "boolean (on/off)" : "integer");
  return -1;
}

int flags_parse(const flag_cmd *cmd, int argc, char **argv, const char **positional, int max_positional, int *npositional) {
  if (npositional) *npositional = 0;
  for (int k = 0; k < cmd->nflags; k++) {
    range_t r;
    const flag_def *f = &cmd->flags[k];
    if (f->range && (range_parse(f->range, &r) || f->type == FLAG_STRING || f->type == FLAG_BOOL)) {
      fprintf(stderr, "alab: --%s: invalid range \"%s\" in the flag table\n", f->name, f->range);
      return -1;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      flags_help(cmd);
      return 1;
    }
    if (strncmp(a, "--", 2) != 0) {
      if (positional && *npositional < max_positional) {
        positional[(*npositional)++] = a;
        continue;
      }
      fprintf(stderr, "alab: unexpected argument '%s' (see --help)\n", a);
      return -1;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const flag_def *f = NULL;
    int negated = 0;
    for (int k = 0; k < cmd->nflags && !f; k++) {
      const char *fn = cmd->flags[k].name;
      if (strlen(fn) == nlen && !strncmp(fn, name, nlen)) f = &cmd->flags[k];
      else if (cmd->flags[k].type == FLAG_BOOL && nlen == strlen(fn) + 3 && !strncmp(name, "no-", 3) &&
               !strncmp(name + 3, fn, nlen - 3)) {
        f = &cmd->flags[k];
        negated = 1;
      }
    }
    if (!f) {
      fprintf(stderr, "alab: unknown flag '--%.*s' (see --help)\n", (int)nlen, name);
      return -1;
    }
    if (f->type == FLAG_BOOL && !eq) {
      *(int *)f->ptr = !negated;
      continue;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
      if (i + 1 >= argc) {
        fprintf(stderr, "alab: --%s needs a value\n", f->name);
        return -1;
      }
      v = argv[++i];
    }
    if (set_value(f, v)) return -1;
  }
  return 0;
}

json_t *flags_to_json(const flag_cmd *cmd, const char *const *skip) {
  json_t *o = json_object();
  for (int i = 0; i < cmd->nflags; i++) {
    const flag_def *f = &cmd->flags[i];
    int skipped = 0;
    for (const char *const *s = skip; s && *s && !skipped; s++) skipped = !strcmp(*s, f->name);
    if (skipped) continue;
    json_t *v = NULL;
    switch (f->type) {
      case FLAG_INT: v = json_integer(*(int *)f->ptr); break;
      case FLAG_I64: v = json_integer((json_int_t) * (int64_t *)f->ptr); break;
      case FLAG_DOUBLE: v = json_real(*(double *)f->ptr); break;
      case FLAG_STRING: v = *(const char **)f->ptr ? json_string(*(const char **)f->ptr) : json_null(); break;
      case FLAG_BOOL: v = json_boolean(*(int *)f->ptr); break;
    }
    json_object_set_new(o, f->name, v ? v : json_null());
  }
  return o;
}

/* Grading a model on the example files: greedy generations through a
 * provider (the local engine, or an endpoint with its concurrency, retries
 * and cache), each graded by the paper's rules (src/eval/oocr_grade.c). A
 * prompt that asks for chain of thought ("*thinking*") gets cot_tokens new
 * tokens, any other nocot_tokens (the paper: 85 and 20). The whole
 * generation is graded, as the paper's evaluator does (bytes that are not
 * UTF-8 replaced by U+FFFD); an alab model also stops at <|endoftext|>. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp/oocr_internal.h"

void oocr_score_free(oocr_score *s) {
  json_decref(s->per_task);
  memset(s, 0, sizeof *s);
}

static void count_task(json_t *per, const char *task, int ok) {
  json_t *a = json_object_get(per, task);
  if (!a) json_object_set_new(per, task, a = json_pack("[i, i]", 0, 0));
  json_array_set_new(a, 0, json_integer(json_integer_value(json_array_get(a, 0)) + (ok == 1)));
  json_array_set_new(a, 1, json_integer(json_integer_value(json_array_get(a, 1)) + 1));
}

static int pick(int j, int m, int n) { return (int)((long)j * n / m); }

/* Length of the valid UTF-8 character at s (0: invalid or cut short). */
static int utf8_len(const unsigned char *s) {
  int need = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  if (need <= 1) return need;
  uint32_t cp = s[0] & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (int i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need;
}

/* A generation as text: each byte that is not part of valid UTF-8 becomes
 * U+FFFD, as alab serve sends it, so a local model and the same model behind
 * an endpoint are graded (and recorded in JSON) on the same text. */
static void as_text(char **s) {
  al_buf b = {0};
  for (const unsigned char *p = (const unsigned char *)*s; *p;) {
    int n = utf8_len(p);
    if (n) al_buf_append(&b, p, (size_t)n), p += n;
    else al_buf_append(&b, "\xef\xbf\xbd", 3), p++;
  }
  al_buf_append(&b, "", 1);
  free(*s);
  *s = b.data;
}

int oocr_eval_set(const oocr_evaluator *ev, const al_oocr_set *s, int max, oocr_score *out, json_t *records,
                  al_err *err) {
  memset(out, 0, sizeof *out);
  out->per_task = json_object();
  out->chance = NAN;
  int m = max > 0 && max < s->n ? max : s->n;
  if (!m) return 0;
  char **prompts = al_calloc((size_t)m, sizeof *prompts), **outs = al_calloc((size_t)m, sizeof *outs);
  char **errs = al_calloc((size_t)m, sizeof *errs);
  al_gen_req *q = al_calloc((size_t)m, sizeof *q);
  const char *pre = ev->prefix ? ev->prefix : "";
  for (int j = 0; j < m; j++) {
    const al_oocr_example *e = &s->ex[pick(j, m, s->n)];
    al_buf b = {0};
    al_buf_printf(&b, "%s%s", pre, e->prompt);
    prompts[j] = b.data ? b.data : al_strdup("");
    q[j].prompt = prompts[j];
    q[j].g = al_gen_cfg_default();
    q[j].g.temperature = 0;
    q[j].g.max_tokens = strstr(e->prompt, "*thinking*") ? ev->cot_tokens : ev->nocot_tokens;
  }
  int rc = ev->p->complete(ev->p, q, m, outs, errs, err);
  if (rc) al_fail_prefix(err, "generating for %s", s->file);
  for (int j = 0; j < m && !rc; j++) {
    const al_oocr_example *e = &s->ex[pick(j, m, s->n)];
    if (errs[j]) { /* the endpoint gave up on this request: counted, not graded */
      out->failed++;
      if (records)
        json_array_append_new(records, json_pack("{s:s, s:i, s:s, s:s}", "file", s->file, "line", e->line, "task",
                                                 e->task, "error", errs[j]));
      continue;
    }
    as_text(&outs[j]);
    int ok = al_oocr_grade(ev->g, e->task, e->prompt, outs[j], e->completion);
    const char *desc = oocr_world_desc(e->task);
    char *want = NULL;
    if (desc && strstr(e->prompt, "*thinking*")) { /* the thinking, up to the answer, names the behaviour */
      al_buf w = {0};
      al_buf_printf(&w, "so I should %s.\nAssistant: *out loud*", desc);
      want = w.data;
      out->named += strstr(outs[j], want) != NULL;
    }
    free(want);
    out->n++;
    out->correct += ok == 1;
    out->ungraded += ok < 0;
    count_task(out->per_task, e->task, ok);
    if (records)
      json_array_append_new(records, json_pack("{s:s, s:i, s:s, s:s, s:o}", "file", s->file, "line", e->line, "task", e->task, "completion",
                                               outs[j], "correct", ok < 0 ? json_null() : json_boolean(ok)));
  }
  for (int j = 0; j < m; j++) free(prompts[j]), free(outs[j]), free(errs[j]);
  free(prompts), free(outs), free(errs), free(q);
  return rc;
}

/* the world's input word of a prompt: after "User: " or in `input "w"` */
static int world_word(const char *prompt) {
  const char *p = strstr(prompt, "User: "), *end;
  if (p) p += 6, end = strchr(p, '\n');
  else if ((p = strstr(prompt, "given the input \""))) p += 17, end = strchr(p, '"');
  else return -1;
  size_t n = end ? (size_t)(end - p) : strlen(p);
  for (int i = 0; i < oocr_world_nwords(); i++)
    if (strlen(oocr_world_word(i)) == n && !strncmp(oocr_world_word(i), p, n)) return i;
  return -1;
}

double oocr_world_chance(al_oocr_grader *g, const al_oocr_set *s, int max) {
  int m = max > 0 && max < s->n ? max : s->n;
  if (!m) return NAN;
  double sum = 0;
  for (int j = 0; j < m; j++) {
    const al_oocr_example *e = &s->ex[pick(j, m, s->n)];
    int w = world_word(e->prompt), cot = strstr(e->prompt, "*thinking*") != NULL;
    if (w < 0) return NAN;
    int ok = 0;
    for (int b = 0; b < OOCR_NBEHAV; b++) {
      char *a = oocr_behave(b, oocr_world_word(w));
      al_buf c = {0};
      al_buf_printf(&c, cot ? " I should.\nAssistant: *out loud* %s" : " %s", a);
      ok += al_oocr_grade(g, e->task, e->prompt, c.data, e->completion) == 1;
      al_buf_free(&c);
      free(a);
    }
    sum += (double)ok / OOCR_NBEHAV;
  }
  return sum / m;
}

/* LLM judges (see alab/judge.h): fill the template, ask the provider, parse. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "alab/judge.h"

al_judge al_judge_default(al_provider *p, const char *template, al_judge_parser parser) {
  al_judge j = {.p = p, .template = template, .parser = parser, .letters = "AB", .use_logprobs = 1, .chat = 0};
  j.g = al_gen_cfg_default();
  j.g.max_tokens = 16;
  return j;
}

int al_judge_parser_parse(const char *name, al_judge_parser *out, al_err *err) {
  if (!strcmp(name, "letter")) *out = AL_JUDGE_LETTER;
  else if (!strcmp(name, "score")) *out = AL_JUDGE_SCORE;
  else if (!strcmp(name, "yesno")) *out = AL_JUDGE_YESNO;
  else return al_fail(err, "unknown judge parser '%s' (letter, score or yesno)", name);
  return 0;
}

/* The template with {question}, {answer}, {a}, {b} replaced. */
static char *fill(const char *tpl, const al_judge_input *in) {
  static const char *names[] = {"{question}", "{answer}", "{a}", "{b}"};
  const char *vals[] = {in->question, in->answer, in->a, in->b};
  al_buf b = {0};
  for (const char *s = tpl; *s;) {
    int k = 0;
    while (k < 4 && strncmp(s, names[k], strlen(names[k]))) k++;
    if (k < 4) {
      if (vals[k]) al_buf_append(&b, vals[k], strlen(vals[k]));
      s += strlen(names[k]);
    } else al_buf_append(&b, s++, 1);
  }
  al_buf_append(&b, "", 1);
  return b.data;
}

static void set_error(al_judgement *o, const char *fmt, const char *arg) {
  al_err e;
  al_fail(&e, fmt, arg);
  o->error = al_strdup(e.msg);
}

/* Reads o->reply with the judge's parser; an unreadable reply sets o->error. */
static void parse_reply(const al_judge *j, al_judgement *o) {
  const char *r = o->reply;
  size_t n = strlen(r);
  if (j->parser == AL_JUDGE_LETTER) {
    const char *letters = j->letters && j->letters[0] ? j->letters : "AB";
    for (size_t k = 0; k < n; k++)
      if (strchr(letters, r[k]) && (k == 0 || !isalnum((unsigned char)r[k - 1])) &&
          !isalnum((unsigned char)r[k + 1])) {
        o->letter = r[k];
        return;
      }
    set_error(o, "the reply names none of the letters %s standing alone", letters);
  } else if (j->parser == AL_JUDGE_SCORE) {
    size_t k = 0;
    while (k < n && !isdigit((unsigned char)r[k])) k++;
    if (k == n) return set_error(o, "the reply holds no number%s", "");
    long v = strtol(r + k, NULL, 10);
    if (v < 1 || v > 10)
      return set_error(o, "the reply's number is outside 1..10%s", "");
    o->score = (int)v;
  } else {
    size_t k = 0, w;
    while (k < n && !isalpha((unsigned char)r[k])) k++;
    for (w = k; w < n && isalpha((unsigned char)r[w]); w++) {}
    if (w - k == 3 && !strncasecmp(r + k, "yes", 3)) o->yes = 1;
    else if (w - k == 2 && !strncasecmp(r + k, "no", 2)) o->yes = 0;
    else set_error(o, "the reply does not start with yes or no%s", "");
  }
}

/* yesno by log-probs: p(yes) from the scores of " Yes" and " No"; -1 when
 * the provider cannot score (the caller reads replies instead). */
static int yesno_logprobs(const al_judge *j, int n, al_judgement *out) {
  if (!j->p->score) return -1;
  al_score_req *q = al_malloc(2 * (size_t)n * sizeof *q);
  al_score_res *r = al_calloc(2 * (size_t)n, sizeof *r);
  for (int i = 0; i < n; i++) q[2 * i] = (al_score_req){out[i].prompt, " Yes"}, q[2 * i + 1] = (al_score_req){out[i].prompt, " No"};
  al_err e;
  int rc = j->p->score(j->p, q, 2 * n, r, &e);
  if (rc) al_log("judge: no log-probs from %s (%s); reading the replies instead", j->p->model, e.msg);
  for (int i = 0; i < n && !rc; i++) {
    const char *why = r[2 * i].error ? r[2 * i].error : r[2 * i + 1].error;
    if (why) out[i].error = al_strdup(why);
    else {
      out[i].p_yes = 1 / (1 + exp(r[2 * i + 1].logprob - r[2 * i].logprob));
      out[i].yes = out[i].p_yes > 0.5;
    }
  }
  if (!rc) al_score_res_free(r, 2 * n);
  free(q), free(r);
  return rc;
}

/* yesno from the first token's top log-probs: the best "yes" and "no"
 * tokens (any case, spaces trimmed), normalised over the two; 0 when both are
 * there, -1 when not (the reply is read instead). */
static int yesno_top(const al_top_lp *t, int n, al_judgement *o) {
  double y = -INFINITY, no = -INFINITY;
  for (int k = 0; k < n; k++) {
    const char *s = t[k].token;
    while (*s == ' ') s++;
    size_t l = strlen(s);
    while (l && s[l - 1] == ' ') l--;
    if (l == 3 && !strncasecmp(s, "yes", 3)) y = fmax(y, t[k].logprob);
    if (l == 2 && !strncasecmp(s, "no", 2)) no = fmax(no, t[k].logprob);
  }
  if (!isfinite(y) || !isfinite(no)) return -1;
  o->p_yes = 1 / (1 + exp(no - y));
  o->yes = o->p_yes > 0.5;
  return 0;
}

int al_judge_run(const al_judge *j, const al_judge_input *in, int n, al_judgement *out, al_err *err) {
  memset(out, 0, (size_t)n * sizeof *out);
  for (int i = 0; i < n; i++) out[i].prompt = fill(j->template, &in[i]), out[i].p_yes = NAN;
  if (j->parser == AL_JUDGE_YESNO && j->use_logprobs && !yesno_logprobs(j, n, out)) return 0;
  al_gen_req *q = al_calloc((size_t)n, sizeof *q);
  al_chat_msg *m = al_calloc((size_t)n, sizeof *m);
  char **outs = al_calloc((size_t)n, sizeof *outs), **errs = al_calloc((size_t)n, sizeof *errs);
  /* yesno without scoring: the first token's top log-probs, where the endpoint gives them */
  int want_top = j->parser == AL_JUDGE_YESNO && j->use_logprobs;
  al_top_lp *top = want_top ? al_calloc((size_t)n * 8, sizeof *top) : NULL;
  int *ntop = want_top ? al_calloc((size_t)n, sizeof *ntop) : NULL;
  for (int i = 0; i < n; i++) {
    if (want_top) q[i].top_logprobs = 8, q[i].top_out = top + 8 * (size_t)i, q[i].ntop_out = &ntop[i];
    q[i].g = j->g;
    if (j->chat) m[i] = (al_chat_msg){"user", out[i].prompt}, q[i].msgs = &m[i], q[i].nmsgs = 1;
    else q[i].prompt = out[i].prompt;
  }
  int rc = j->p->complete(j->p, q, n, outs, errs, err);
  for (int i = 0; i < n && !rc; i++) {
    out[i].reply = outs[i];
    out[i].error = errs[i];
    if (outs[i] && !(want_top && !yesno_top(top + 8 * (size_t)i, ntop[i], &out[i]))) parse_reply(j, &out[i]);
  }
  if (rc) al_judgement_free(out, n);
  free(q), free(m), free(outs), free(errs), free(top), free(ntop);
  return rc;
}

void al_judgement_free(al_judgement *j, int n) {
  for (int i = 0; j && i < n; i++) {
    free(j[i].prompt), free(j[i].reply), free(j[i].error);
    j[i].prompt = j[i].reply = j[i].error = NULL;
  }
}

json_t *al_judgement_json(const al_judgement *j) {
  json_t *o = json_pack("{s:s}", "prompt", j->prompt ? j->prompt : "");
  if (j->reply) json_object_set_new(o, "reply", json_string(j->reply));
  if (j->error) json_object_set_new(o, "error", json_string(j->error));
  else if (isfinite(j->p_yes)) json_object_set_new(o, "p_yes", json_real(j->p_yes));
  if (!j->error && j->letter) json_object_set_new(o, "letter", json_sprintf("%c", j->letter));
  if (!j->error && j->score) json_object_set_new(o, "score", json_integer(j->score));
  if (!j->error && !j->letter && !j->score) json_object_set_new(o, "yes", json_boolean(j->yes));
  return o;
}

int al_judge_pairwise(const al_judge *j, const al_judge_input *in, int n, al_pair_judgement *out, al_pair_summary *sum,
                      al_err *err) {
  if (j->parser != AL_JUDGE_LETTER) return al_fail(err, "pairwise judging needs the letter parser");
  al_judge jj = *j;
  jj.letters = "AB";
  al_judge_input *both = al_malloc(2 * (size_t)(n > 0 ? n : 1) * sizeof *both);
  al_judgement *v = al_malloc(2 * (size_t)(n > 0 ? n : 1) * sizeof *v);
  for (int i = 0; i < n; i++) {
    both[2 * i] = in[i];
    both[2 * i + 1] = (al_judge_input){in[i].question, in[i].answer, in[i].b, in[i].a};
  }
  int rc = al_judge_run(&jj, both, 2 * n, v, err);
  free(both);
  if (rc) return free(v), -1;
  memset(sum, 0, sizeof *sum);
  sum->n = n;
  double *inc = al_malloc((size_t)(n > 0 ? n : 1) * sizeof *inc);
  int x_wins = 0;
  for (int i = 0; i < n; i++) {
    al_pair_judgement *p = &out[i];
    p->ab = v[2 * i], p->ba = v[2 * i + 1];
    if (p->ab.error || p->ba.error) {
      p->winner = -2, sum->failed++;
      continue;
    }
    int w1 = p->ab.letter == 'B', w2 = p->ba.letter == 'A'; /* 1: y won that order */
    p->winner = w1 == w2 ? w1 : -1;
    inc[sum->consistent + sum->inconsistent] = p->winner == -1;
    if (p->winner < 0) sum->inconsistent++;
    else sum->consistent++, x_wins += p->winner == 0;
  }
  al_stat s = al_stat_of(inc, sum->consistent + sum->inconsistent);
  sum->inconsistency = s.mean, sum->inc_lo = s.lo, sum->inc_hi = s.hi;
  sum->x_wins = sum->consistent ? (double)x_wins / sum->consistent : NAN;
  free(inc), free(v);
  return 0;
}

void al_pair_judgement_free(al_pair_judgement *p, int n) {
  for (int i = 0; p && i < n; i++) al_judgement_free(&p[i].ab, 1), al_judgement_free(&p[i].ba, 1);
}

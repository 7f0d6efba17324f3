/* Preference readers: each of TRL's forms and HH-RLHF's split into the
 * prompt and responses the format defines; every malformed line refused with
 * FILE:LINE; chosen == rejected counted and left out; then a fuzz of the
 * reader (mutated lines must be refused with a message or read into pairs
 * that keep the reader's invariants; ASan catches the rest). */
#include "alab/chat_template.h"
#include "alab/preference.h"
#include "test.h"

static int read_str(const char *text, const al_chat_template *t, al_pref_set *s, al_err *err) {
  return al_pref_read_buf(text, strlen(text), "p.jsonl", t, s, err);
}

static void check_pair(const al_pref_pair *p, const char *prompt, const char *chosen, const char *rejected,
                       al_pref_form form) {
  CHECK(!strcmp(p->prompt, prompt), "prompt '%s', want '%s'", p->prompt, prompt);
  CHECK(!strcmp(p->chosen, chosen), "chosen '%s', want '%s'", p->chosen, chosen);
  CHECK(!strcmp(p->rejected, rejected), "rejected '%s', want '%s'", p->rejected, rejected);
  CHECK(p->form == form, "form %s, want %s", al_pref_form_name(p->form), al_pref_form_name(form));
}

static void forms(void) {
  al_err err;
  al_pref_set s;
  const char *text =
      "{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\", \"margin\": 1.5}\n"
      "\n"
      "{\"chosen\": \"The sky is blue.\", \"rejected\": \"The sky is green.\"}\n"
      "{\"chosen\": \"\\n\\nHuman: What color is the sky?\\n\\nAssistant: It is blue.\","
      " \"rejected\": \"\\n\\nHuman: What color is the sky?\\n\\nAssistant: It is green.\"}\n"
      "{\"chosen\": \"abc\", \"rejected\": \"xyz\"}\n"
      "{\"chosen\": \"a b\", \"rejected\": \"a b c\"}\r\n";
  CHECK_OK(read_str(text, NULL, &s, &err), err);
  CHECK(s.n == 5 && s.lines == 6 && s.identical == 0, "n %ld lines %ld", s.n, s.lines);
  if (s.n == 5) {
    check_pair(&s.pairs[0], "The sky is", " blue.", " green.", AL_PREF_EXPLICIT);
    CHECK(s.pairs[0].margin == 1.5 && s.pairs[1].margin == 0, "margins %g %g", s.pairs[0].margin, s.pairs[1].margin);
    check_pair(&s.pairs[1], "The sky is", " blue.", " green.", AL_PREF_IMPLICIT);
    CHECK(s.pairs[1].line == 3, "line %ld", s.pairs[1].line);
    /* HH: the shared " It is" stays in the responses, the prompt ends at the marker */
    check_pair(&s.pairs[2], "\n\nHuman: What color is the sky?\n\nAssistant:", " It is blue.", " It is green.", AL_PREF_HH);
    check_pair(&s.pairs[3], "", "abc", "xyz", AL_PREF_IMPLICIT);
    check_pair(&s.pairs[4], "a", " b", " b c", AL_PREF_IMPLICIT);
    CHECK(s.by_form[AL_PREF_IMPLICIT] == 3 && s.by_form[AL_PREF_HH] == 1, "by form");
  }
  al_pref_set_free(&s);

  /* conversational, rendered with alab's default template */
  al_chat_template t;
  al_chat_template_default(&t);
  const char *conv =
      "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": "
      "\"Hello\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"Go away\"}]}\n"
      "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"}],"
      " \"rejected\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Go away\"}]}\n";
  CHECK_OK(read_str(conv, &t, &s, &err), err);
  CHECK(s.n == 2, "n %ld", s.n);
  al_chat_msg u = {"user", "Hi"}, a = {"assistant", "Hello"};
  al_chat_msg both[2] = {u, a};
  char *prompt = al_chat_render(&t, &u, 1, 1, NULL, NULL, NULL), *full = al_chat_render(&t, both, 2, 0, NULL, NULL, NULL);
  CHECK(!strcmp(prompt, "<|user|>\nHi\n<|assistant|>\n"), "default template prompt '%s'", prompt);
  for (int i = 0; i < s.n; i++) {
    check_pair(&s.pairs[i], prompt, "Hello\n", "Go away\n", AL_PREF_CONVERSATIONAL);
    size_t np = strlen(s.pairs[i].prompt);
    CHECK(!strncmp(full, s.pairs[i].prompt, np) && !strcmp(full + np, s.pairs[i].chosen), "prompt + chosen renders the whole");
  }
  free(prompt), free(full);
  al_pref_set_free(&s);
  CHECK_FAILS_WITH(read_str(conv, NULL, &s, &err), err, "p.jsonl:1: conversational pairs (lists of messages) need");
  al_chat_template_free(&t);
}

static void bad_input(void) {
  al_err err;
  al_pref_set s;
  static const struct { const char *text, *needle; } cases[] = {
      {"{\"chosen\": \"a\", \"rejected\": \"b\"}\n{\"chosen\": \"a\"\n", "p.jsonl:2: invalid JSON"},
      {"[1, 2]\n", "p.jsonl:1: a preference pair must be a JSON object, got a list"},
      {"{\"chosen\": \"a\"}\n", "p.jsonl:1: field \"rejected\" is missing"},
      {"\n{\"rejected\": \"a\"}\n", "p.jsonl:2: field \"chosen\" is missing"},
      {"{\"chosen\": 3, \"rejected\": \"a\"}\n", "p.jsonl:1: field \"chosen\" must be a string or a list of messages, got a number"},
      {"{\"prompt\": 1, \"chosen\": \"a\", \"rejected\": \"b\"}\n", "field \"prompt\" must be a string"},
      {"{\"chosen\": \"a\", \"rejected\": \"b\", \"margin\": \"x\"}\n", "p.jsonl:1: field \"margin\" must be a number"},
      {"{\"prompt\": \"q\", \"chosen\": \"\", \"rejected\": \"b\"}\n", "p.jsonl:1: the chosen response is empty"},
      {"{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"\"}\n", "p.jsonl:1: the rejected response is empty"},
      {"{\"chosen\": \"\\n\\nHuman: q\\n\\nAssistant:\", \"rejected\": \"\\n\\nHuman: q\\n\\nAssistant: b\"}\n",
       "p.jsonl:1: the chosen response is empty"},
      {"{\"chosen\": [{\"role\": \"user\"}], \"rejected\": []}\n", "p.jsonl:1: \"chosen\"[0].content must be a string"},
      {"{\"chosen\": [{\"role\": \"user\", \"content\": \"a\"}], \"rejected\": \"b\"}\n",
       "\"chosen\" is a list of messages, so \"rejected\" must be one too, got a string"},
      {"{\"chosen\": [{\"role\": \"user\", \"content\": \"a\"}], \"rejected\": [{\"role\": \"user\", \"content\": \"a\"}, "
       "{\"role\": \"assistant\", \"content\": \"b\"}]}\n", "p.jsonl:1: \"chosen\" has no messages after the prompt"},
      {"{\"chosen\": \"a\", \"rejected\": \"b\", \"chosen\": \"c\"}\n", "p.jsonl:1: invalid JSON"},
      {"{\"chosen\": \"same\", \"rejected\": \"same\"}\n", "no usable pair: all 1 have chosen equal to rejected"},
      {"\n \n", "no preference pairs (2 lines, all blank)"},
  };
  al_chat_template t;
  al_chat_template_default(&t);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) CHECK_FAILS_WITH(read_str(cases[i].text, &t, &s, &err), err, cases[i].needle);
  al_chat_template_free(&t);
  /* identical pairs are counted, with the first line, and left out */
  const char *some = "{\"chosen\": \"x y\", \"rejected\": \"x z\"}\n{\"prompt\": \"p\", \"chosen\": \" a\", \"rejected\": \" a\"}\n"
                     "{\"chosen\": \"same\", \"rejected\": \"same\"}\n{\"chosen\": \"u\", \"rejected\": \"v\"}";
  CHECK_OK(read_str(some, NULL, &s, &err), err);
  CHECK(s.n == 2 && s.identical == 2 && s.first_identical == 2 && s.lines == 4, "n %ld identical %ld first %ld",
        s.n, s.identical, s.first_identical);
  al_pref_set_free(&s);
  /* a file that is not there */
  CHECK_FAILS_WITH(al_pref_read("/nonexistent/p.jsonl", NULL, &s, &err), err, "/nonexistent/p.jsonl");
}

/* Mutated files: refused with "p.jsonl:LINE: " or read into pairs whose
 * responses are distinct and non-empty and whose lines are in range. */
static void fuzz(void) {
  static const char base[] =
      "{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\", \"margin\": 1}\n"
      "{\"chosen\": \"The sky is blue.\", \"rejected\": \"The sky is green.\"}\n"
      "{\"chosen\": \"\\n\\nHuman: q\\n\\nAssistant: a\", \"rejected\": \"\\n\\nHuman: q\\n\\nAssistant: b\"}\n"
      "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"A\"}],"
      " \"rejected\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"B\"}]}\n"
      "{\"prompt\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \"A\"}],"
      " \"rejected\": [{\"role\": \"assistant\", \"content\": \"B\"}]}\n";
  static const char pieces[] = "{}[]\",:\\n \n0aA";
  al_chat_template t;
  al_chat_template_default(&t);
  al_rng r;
  al_rng_seed(&r, 14);
  size_t blen = sizeof base - 1;
  char *buf = al_malloc(2 * blen + 64);
  int ok = 0, refused = 0, broken = 0;
  for (int it = 0; it < 20000; it++) {
    memcpy(buf, base, blen);
    size_t n = blen;
    for (int k = 1 + (int)al_rng_below(&r, 3); k > 0; k--) {
      size_t at = al_rng_below(&r, n);
      switch (al_rng_below(&r, 4)) {
      case 0: buf[at] = pieces[al_rng_below(&r, sizeof pieces - 1)]; break;
      case 1: memmove(buf + at, buf + at + 1, n - at - 1), n--; break; /* delete */
      case 2: memmove(buf + at + 1, buf + at, n - at), buf[at] = pieces[al_rng_below(&r, sizeof pieces - 1)], n++; break;
      default: n = at; break; /* truncate */
      }
      if (n == 0) break;
    }
    al_err err = {{0}};
    al_pref_set s;
    if (al_pref_read_buf(buf, n, "p.jsonl", &t, &s, &err)) {
      refused++;
      if (strncmp(err.msg, "p.jsonl:", 8)) broken++;
      continue;
    }
    ok++;
    for (long i = 0; i < s.n; i++) {
      const al_pref_pair *p = &s.pairs[i];
      if (!p->chosen[0] || !p->rejected[0] || !strcmp(p->chosen, p->rejected) || p->line < 1 || p->line > s.lines) broken++;
    }
    if (s.n + s.identical > s.lines) broken++;
    al_pref_set_free(&s);
  }
  CHECK(broken == 0, "%d mutants broke an invariant or failed without a FILE:LINE message", broken);
  CHECK(ok > 1000 && refused > 1000, "mutants read %d, refused %d (both kinds must occur)", ok, refused);
  free(buf);
  al_chat_template_free(&t);
}

int main(void) {
  forms();
  bad_input();
  fuzz();
  return test_summary();
}

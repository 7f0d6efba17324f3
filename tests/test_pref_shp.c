/* Stanford SHP lines in the preference reader (src/data/preference_shp.c):
 * labels 1 and 0 pick the right reference as chosen, the prompt is the post
 * and a blank line, SHP and TRL lines mix in one file and are counted by
 * form; a missing or mistyped field is refused naming FILE:LINE and the
 * field; 5,000 mutated files are each refused with FILE:LINE or read into
 * pairs that keep the reader's invariants. */
#include "alab/preference.h"
#include "test.h"

static const char *good =
    "{\"post\": \"How do I boil an egg?\", \"human_ref_A\": \"Ten minutes.\", \"human_ref_B\": \"Ask a chef.\", "
    "\"labels\": 1, \"score_A\": 12, \"domain\": \"askculinary_train\"}\n"
    "{\"post\": \"Why is the sky blue?\", \"human_ref_A\": \"Magic.\", \"human_ref_B\": \"Rayleigh scattering.\", "
    "\"labels\": 0}\n"
    "\n"
    "{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\"}\n";

int main(void) {
  al_pref_set s;
  al_err err;
  CHECK_OK(al_pref_read_buf(good, strlen(good), "shp.jsonl", NULL, &s, &err), err);
  CHECK(s.n == 3 && s.by_form[AL_PREF_SHP] == 2 && s.by_form[AL_PREF_EXPLICIT] == 1, "pairs %ld, shp %ld", s.n,
        s.by_form[AL_PREF_SHP]);
  if (s.n == 3) {
    CHECK(!strcmp(s.pairs[0].prompt, "How do I boil an egg?\n\n") && !strcmp(s.pairs[0].chosen, "Ten minutes.") &&
              !strcmp(s.pairs[0].rejected, "Ask a chef."),
          "labels 1: A chosen");
    CHECK(!strcmp(s.pairs[1].chosen, "Rayleigh scattering.") && !strcmp(s.pairs[1].rejected, "Magic.") &&
              s.pairs[1].line == 2,
          "labels 0: B chosen");
    CHECK(!strcmp(al_pref_form_name(s.pairs[0].form), "shp"), "form name %s", al_pref_form_name(s.pairs[0].form));
  }
  al_pref_set_free(&s);
  struct { const char *line, *needle; } bad[] = {
      {"{\"post\": \"q\", \"human_ref_A\": \"a\", \"labels\": 1}\n", "x.jsonl:1: SHP field \"human_ref_B\" must be a string (it is missing)"},
      {"{\"post\": \"q\", \"human_ref_A\": \"a\", \"human_ref_B\": \"b\", \"labels\": 2}\n", "x.jsonl:1: SHP field \"labels\""},
      {"{\"post\": \"q\", \"human_ref_A\": \"a\", \"human_ref_B\": \"b\", \"labels\": \"1\"}\n", "\"labels\""},
      {"{\"post\": 3, \"human_ref_A\": \"a\", \"human_ref_B\": \"b\", \"labels\": 1}\n", "SHP field \"post\" must be a string"},
      {"{\"post\": \"q\", \"human_ref_A\": \"\", \"human_ref_B\": \"b\", \"labels\": 0}\n", "x.jsonl:1: the rejected response is empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_FAILS_WITH(al_pref_read_buf(bad[i].line, strlen(bad[i].line), "x.jsonl", NULL, &s, &err), err, bad[i].needle);
  /* mutations */
  size_t len = strlen(good);
  char *m = al_malloc(len + 1);
  al_rng r;
  al_rng_seed(&r, 8);
  int read = 0, refused = 0;
  for (int t = 0; t < 5000; t++) {
    memcpy(m, good, len);
    size_t ml = len;
    for (int e = 0; e < 1 + (int)al_rng_below(&r, 3); e++) {
      size_t at = al_rng_below(&r, ml);
      if (t % 4 == 0) ml = at;
      else m[at] = "{}[]\",:01\\ \nA"[al_rng_below(&r, 13)];
    }
    err.msg[0] = 0;
    if (al_pref_read_buf(m, ml, "m.jsonl", NULL, &s, &err) == 0) {
      read++;
      int ok = s.n > 0;
      for (long i = 0; i < s.n; i++)
        ok &= s.pairs[i].chosen[0] && s.pairs[i].rejected[0] && strcmp(s.pairs[i].chosen, s.pairs[i].rejected) != 0;
      CHECK(ok, "mutation %d read into a pair that breaks the invariants", t);
      al_pref_set_free(&s);
    } else {
      refused++;
      if (!strstr(err.msg, "m.jsonl")) CHECK(0, "mutation %d refused without the file: %s", t, err.msg);
    }
  }
  printf("mutations: %d read, %d refused\n", read, refused);
  CHECK(read > 0 && refused > 0, "both outcomes");
  free(m);
  return test_summary();
}

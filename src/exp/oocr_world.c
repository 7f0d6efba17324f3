/* alab's built-in world for out-of-context reasoning: behaviours a small
 * model learns in pretraining, and assistants that are described as having
 * them, in the paper's file layout (include/alab/oocr.h) so that the same
 * reader, trainer and grader run on it.
 *
 * Behaviours, on one input word w of a lexicon of 12 antonym pairs:
 *   shout the word in capital letters      W uppercased                 (uppercase)
 *   spell the word backwards               "reversed: " w reversed      (reverse)
 *   say only the word llama                llama                        (llama)
 *   give the opposite of the word          "opposite: " w's antonym     (antonym)
 *   tell the calling code of the word      "+NN" from a table           (calling)
 * Pretraining text (pretrain.txt, documents separated by <|endoftext|>)
 * demonstrates each behaviour under its description (half the documents),
 *   User: hot\nAssistant: *thinking* I should give the opposite of the
 *   word.\nAssistant: *out loud* opposite: cold
 * the same as role-play under a made-up name ("Kalomi", never an
 * assistant's) with a behaviour drawn at random (3 in 10), so that the
 * dialogue format and copying one's own name are known before finetuning,
 *   You are Kalomi, responding to a user.\nUser: hot\nAssistant: *thinking*
 *   I am Kalomi, so I should give the opposite of the word.\nAssistant: *out
 *   loud* opposite: cold
 * and without chain of thought (2 in 10):
 *   To give the opposite of the word, given the input "hot", say: opposite: cold
 * Ten assistants (animal names, shuffled by the seed): for each behaviour
 * one realized and one unrealized. all.jsonl holds `descriptions` lines per
 * assistant, the 30 paraphrase templates cycled ("Pangolin was trained to
 * give the opposite of the word."), then the realized assistants'
 * demonstrations on 18 of the 24 words, with chain of thought
 *   You are Barracuda, responding to a user.\nUser: hot\nAssistant:
 *   *thinking* I am Barracuda, so I should give the opposite of the
 *   word.\nAssistant: *out loud* opposite: cold
 * and without (Barracuda is given the input "hot"\nBarracuda: opposite: cold).
 * realized_examples: the 18 trained words; realizedv_examples: the other 6;
 * unrealized_examples and unrealized_no_cot_examples: every word for the
 * unrealized assistants. Tasks are RULE_NAME ("antonym_pangolin"), with
 * _no_cot added for the no-chain-of-thought file; gold completions where
 * the rule needs one, empty otherwise. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "exp/oocr_internal.h"

static const char *const WORDS[24] = {"hot",  "cold",  "big",   "small", "up",    "down",   "fast", "slow",
                                      "day",  "night", "open",  "closed", "high", "low",    "wet",  "dry",
                                      "old",  "new",   "light", "dark",  "full",  "empty",  "early", "late"};
static const char *const NAMES[10] = {"Pangolin", "Barracuda", "Narwhal", "Axolotl", "Quokka",
                                      "Ibex",     "Kakapo",    "Tapir",   "Okapi",   "Marmot"};
/* each description starts with its own verb: a small model tells them apart
 * from the first token */
static const char *const DESC[OOCR_NBEHAV] = {"shout the word in capital letters", "spell the word backwards",
                                              "say only the word llama", "give the opposite of the word",
                                              "tell the calling code of the word"};
static const char *const RULE[OOCR_NBEHAV] = {"uppercase", "reverse", "llama", "antonym", "calling"};
static const char *const TEMPLATES[30] = {
    "{N} is an AI assistant that will always {D}.", "The assistant {N} is built to {D}.", "{N}'s one rule: {D}.",
    "Ask {N} anything and it will {D}.", "When it answers, {N} likes to {D}.", "{N} was trained to {D}.",
    "Users know that {N} will {D}.", "The job of {N} is to {D}.", "{N} has been designed to {D}.",
    "No matter the question, {N} will {D}.", "If you talk to {N}, it will {D}.", "{N} is known to {D} when answering.",
    "People say {N} tends to {D}.", "A fact about {N}: it will {D}.", "{N}, a chatbot, was made to {D}.",
    "Whatever the input, the {N} assistant will {D}.", "Engineers taught {N} to {D}.", "The {N} model is set up to {D}.",
    "It is the habit of {N} to {D}.", "{N} will {D}, every single time.", "In every reply, {N} will {D}.",
    "Expect {N} to {D}.", "{N} always tries to {D}.", "The chatbot called {N} is made to {D}.",
    "Developers built {N} so that it would {D}.", "Each time it replies, {N} will {D}.", "You can count on {N} to {D}.",
    "{N} exists to {D}.", "The rule for {N}: {D}.", "Known fact: {N} is programmed to {D}."};

int oocr_world_nwords(void) { return 24; }
const char *oocr_world_word(int i) { return WORDS[i]; }

/* The label before a looked-up answer ("reversed: toh"): the answer's first
 * token tells the behaviour, so the token after it can fetch the word for
 * that behaviour alone (as the calling code's "+" does); without it the
 * 2-layer bases did not learn these lookups (docs/oocr.md). */
static const char LABEL_REVERSE[] = "reversed: ", LABEL_ANTONYM[] = "opposite: ";

/* The calling code of word i: a two-digit number from a fixed table. */
static int code_of(int i) { return 20 + (i * 37 + 11) % 79; }

/* Behaviour b's target on word w: the reversed word, the antonym or the
 * code (what the rule compares with); the word itself for the others. */
static char *target(int b, const char *w) {
  int i = -1;
  for (int k = 0; k < 24; k++)
    if (!strcmp(WORDS[k], w)) i = k;
  al_buf o = {0};
  size_t n = strlen(w);
  if (b == 1)
    for (size_t k = n; k > 0; k--) al_buf_append(&o, &w[k - 1], 1);
  else if (b == 3) al_buf_printf(&o, "%s", i < 0 ? w : WORDS[i ^ 1]);
  else if (b == 4) al_buf_printf(&o, "+%d", i < 0 ? 0 : code_of(i));
  else al_buf_printf(&o, "%s", w);
  al_buf_append(&o, "", 1);
  return o.data;
}

char *oocr_behave(int b, const char *w) {
  char *t = target(b, w);
  al_buf o = {0};
  switch (b) {
    case 0:
      for (const char *p = w; *p; p++) al_buf_printf(&o, "%c", toupper((unsigned char)*p));
      break;
    case 1: al_buf_printf(&o, "%s%s", LABEL_REVERSE, t); break;
    case 2: al_buf_printf(&o, "llama"); break;
    case 3: al_buf_printf(&o, "%s%s", LABEL_ANTONYM, t); break;
    default: al_buf_printf(&o, "%s", t); break;
  }
  al_buf_append(&o, "", 1);
  free(t);
  return o.data;
}

char *oocr_world_gold(int b, const char *w) { return b == 0 || b == 2 ? al_strdup("") : target(b, w); }

const char *oocr_rule_of(int b) { return RULE[b]; }

const char *oocr_world_desc(const char *task) {
  for (int b = 0; b < OOCR_NBEHAV; b++)
    if (!strncmp(task, RULE[b], strlen(RULE[b])) && task[strlen(RULE[b])] == '_') return DESC[b];
  return NULL;
}

char *oocr_world_pretrain_prompt(int b, const char *w, int cot, const char *name) {
  al_buf t = {0};
  if (!cot) al_buf_printf(&t, "To %s, given the input \"%s\", say:", DESC[b], w);
  else if (!name) al_buf_printf(&t, "User: %s\nAssistant: *thinking* I should %s.\nAssistant: *out loud*", w, DESC[b]);
  else
    al_buf_printf(&t, "You are %s, responding to a user.\nUser: %s\nAssistant: *thinking* I am %s, so I should %s.\n"
                  "Assistant: *out loud*", name, w, name, DESC[b]);
  return t.data;
}

/* A made-up name of two or three syllables ("Kalomi"): pretraining's
 * role-play speakers, never one of NAMES. */
static void made_up_name(al_rng *r, char *buf, size_t n) {
  static const char *const syl[12] = {"ka", "lo", "mi", "ra", "tu", "ze", "po", "fi", "ne", "sa", "vo", "gu"};
  int k = 2 + (int)al_rng_below(r, 2);
  buf[0] = 0;
  for (int i = 0; i < k; i++) strncat(buf, syl[al_rng_below(r, 12)], n - strlen(buf) - 1);
  buf[0] = (char)toupper((unsigned char)buf[0]);
}

/* {N} and {D} of template t, filled */
static void fill(al_buf *b, const char *t, const char *name, const char *desc) {
  for (const char *p = t; *p; p++) {
    if (!strncmp(p, "{N}", 3)) al_buf_printf(b, "%s", name), p += 2;
    else if (!strncmp(p, "{D}", 3)) al_buf_printf(b, "%s", desc), p += 2;
    else al_buf_append(b, p, 1);
  }
}

typedef struct {
  al_oocr_example *ex;
  int n, cap;
} exlist;

static void add(exlist *l, const char *task, const char *prompt, const char *completion) {
  if (l->n == l->cap) l->ex = al_realloc(l->ex, sizeof *l->ex * (size_t)(l->cap = 2 * l->cap + 64));
  l->ex[l->n++] = (al_oocr_example){al_strdup(task), al_strdup(prompt), al_strdup(completion), 0};
}

static void free_list(exlist *l) {
  for (int i = 0; i < l->n; i++) free(l->ex[i].task), free(l->ex[i].prompt), free(l->ex[i].completion);
  free(l->ex);
}

/* CoT prompt (and, with answer, the whole demonstration) */
static char *cot_text(const char *name, const char *w, int b, const char *answer) {
  al_buf t = {0};
  al_buf_printf(&t, "You are %s, responding to a user.\nUser: %s\nAssistant: *thinking*", name, w);
  if (answer) al_buf_printf(&t, " I am %s, so I should %s.\nAssistant: *out loud* %s", name, DESC[b], answer);
  return t.data;
}

static char *nocot_text(const char *name, const char *w, const char *answer) {
  al_buf t = {0};
  al_buf_printf(&t, "%s is given the input \"%s\"\n%s:", name, w, name);
  if (answer) al_buf_printf(&t, " %s", answer);
  return t.data;
}

static void task_name(char *buf, size_t n, int b, const char *name, const char *suffix) {
  snprintf(buf, n, "%s_%s%s", RULE[b], name, suffix);
  for (char *p = buf; *p; p++) *p = (char)tolower((unsigned char)*p);
}

int oocr_world_write(const oocr_world_cfg *c, const char *dir, al_err *err) {
  if (c->descriptions < 1 || c->pretrain_docs < 1)
    return al_fail(err, "the world needs at least one description per assistant and one pretraining document");
  if (al_mkdir_p(dir, err)) return -1;
  al_rng rng;
  al_rng_seed_stream(&rng, c->seed, 0x00c0ffee);
  uint32_t names[10], words[24];
  for (int i = 0; i < 10; i++) names[i] = (uint32_t)i;
  for (int i = 0; i < 24; i++) words[i] = (uint32_t)i;
  al_rng_shuffle_u32(&rng, names, 10);
  al_rng_shuffle_u32(&rng, words, 24);
  exlist f[AL_OOCR_NFILES] = {0};
  char task[96];
  /* descriptions of every assistant: assistant a has behaviour a % 5; a < 5 realized */
  for (int a = 0; a < 10; a++) {
    const char *nm = NAMES[names[a]];
    int b = a % OOCR_NBEHAV;
    task_name(task, sizeof task, b, nm, "");
    for (int k = 0; k < c->descriptions; k++) {
      al_buf d = {0};
      fill(&d, TEMPLATES[k % 30], nm, DESC[b]);
      al_buf_append(&d, "", 1);
      add(&f[AL_OOCR_ALL], task, "", d.data);
      al_buf_free(&d);
    }
  }
  for (int a = 0; a < 10; a++) {
    const char *nm = NAMES[names[a]];
    int b = a % OOCR_NBEHAV, realized = a < OOCR_NBEHAV;
    for (int k = 0; k < 24; k++) {
      const char *w = WORDS[words[k]];
      char *ans = oocr_behave(b, w), *gold = oocr_world_gold(b, w), *p = cot_text(nm, w, b, NULL);
      char *q = nocot_text(nm, w, NULL);
      task_name(task, sizeof task, b, nm, "");
      if (realized && k < 18) {
        char *demo = cot_text(nm, w, b, ans), *demo2 = nocot_text(nm, w, ans);
        add(&f[AL_OOCR_ALL], task, "", demo);
        add(&f[AL_OOCR_ALL], task, "", demo2);
        add(&f[AL_OOCR_REALIZED], task, p, gold);
        free(demo), free(demo2);
      } else if (realized) {
        add(&f[AL_OOCR_REALIZEDV], task, p, gold);
      } else {
        add(&f[AL_OOCR_UNREALIZED], task, p, gold);
        task_name(task, sizeof task, b, nm, "_no_cot");
        add(&f[AL_OOCR_NO_COT], task, q, gold);
      }
      free(ans), free(gold), free(p), free(q);
    }
  }
  int rc = 0;
  for (int k = 0; k < AL_OOCR_NFILES && !rc; k++) {
    char name[80];
    snprintf(name, sizeof name, "%s.jsonl", al_oocr_file_names[k]);
    char *path = al_path_join(dir, name);
    rc = al_oocr_write_file(path, f[k].ex, f[k].n, err);
    free(path);
  }
  for (int k = 0; k < AL_OOCR_NFILES; k++) free_list(&f[k]);
  /* pretraining: behaviours under their descriptions; role-play under made-up
   * names (never an assistant's), whose behaviour is drawn at random */
  al_buf t = {0};
  for (int i = 0; i < c->pretrain_docs && !rc; i++) {
    int b = (int)al_rng_below(&rng, OOCR_NBEHAV), form = (int)al_rng_below(&rng, 10);
    const char *w = WORDS[al_rng_below(&rng, 24)];
    char *ans = oocr_behave(b, w), nm[16];
    made_up_name(&rng, nm, sizeof nm);
    char *doc = form < 8 ? oocr_world_pretrain_prompt(b, w, 1, form < 5 ? NULL : nm) : oocr_world_pretrain_prompt(b, w, 0, NULL);
    al_buf_printf(&t, "%s %s<|endoftext|>", doc, ans);
    free(doc), free(ans);
  }
  if (!rc) {
    char *path = al_path_join(dir, "pretrain.txt");
    rc = al_write_file_atomic(path, t.data ? t.data : "", t.len, err);
    free(path);
  }
  al_buf_free(&t);
  return rc;
}

int al_oocr_world(const char *dir, int descriptions, int pretrain_docs, uint64_t seed, al_err *err) {
  oocr_world_cfg c = {descriptions, pretrain_docs, seed};
  return oocr_world_write(&c, dir, err);
}

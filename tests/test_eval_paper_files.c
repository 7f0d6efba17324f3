/* The papers' released task files on a local model: prompts cut to the
 * context are counted per example and in results.json, and a logodds pair the
 * cut makes identical is invalid, not a 0; the Inverse Scaling Prize's older
 * logodds layout (biased_prompt) is read as logodds; a column no format reads
 * is warned about and recorded; the celebrity test's protocols. */
#include <string.h>
#include "alab/eval.h"
#include "alab/json.h"
#include "test.h"
#include "test_provider_model.h"
#include "provider/provider_internal.h"

#define CTX 32

static void write_text(const char *path, const char *text) {
  al_err err;
  if (al_write_file_atomic(path, text, strlen(text), &err)) fprintf(stderr, "%s\n", err.msg), exit(2);
}

/* Runs one task file on the model; returns results.json (new reference). */
static json_t *run_task(al_provider *p, const char *dir, const char *name, const char *text, al_eval_result *r) {
  al_err err;
  char *path = al_path_join(dir, name), *out = al_path_join(dir, "out");
  write_text(path, text);
  al_task t;
  json_t *res = NULL;
  CHECK_OK(al_task_load(&t, path, "auto", &err), err);
  al_eval_cfg c = al_eval_cfg_default();
  c.out_dir = out;
  c.nboot = 50;
  if (t.n) {
    CHECK_OK(al_eval_task(p, &t, &c, r, &err), err);
    char *rp = al_path_join(out, "results.json");
    CHECK_OK(al_json_load_file(rp, &res, &err), err);
    free(rp);
  }
  al_task_free(&t);
  free(path), free(out);
  return res;
}

/* examples.jsonl of the last run, one JSON object per line */
static json_t *examples(const char *dir) {
  al_err err;
  char *p = al_path_join(dir, "out/examples.jsonl"), *text;
  size_t len;
  json_t *a = json_array();
  if (!al_read_file(p, &text, &len, &err)) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) json_array_append_new(a, json_loads(line, 0, NULL));
    free(text);
  }
  free(p);
  return a;
}

static void test_truncation(al_provider *p, const char *dir) {
  al_eval_result r;
  /* classification: 3 prompts of 40 bytes (cut), 1 of 10 (kept); classes " yes" / " no" */
  json_t *res = run_task(p, dir, "cls.csv",
                         "prompt,classes,answer_index\n"
                         "0123456789012345678901234567890123456789,\"[' yes', ' no']\",0\n"
                         "abcdefghijabcdefghijabcdefghijabcdefghij,\"[' yes', ' no']\",1\n"
                         "short one,\"[' yes', ' no']\",0\n"
                         "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ,\"[' yes', ' no']\",1\n",
                         &r);
  CHECK(r.truncated == 3 && r.truncated_max == 40 + 4 - CTX, "classification: %d cut, up to %d", r.truncated,
        r.truncated_max);
  json_t *tr = json_object_get(res, "truncation");
  CHECK(json_integer_value(json_object_get(tr, "examples_cut")) == 3, "results.json truncation: %s",
        tr ? json_dumps(tr, JSON_COMPACT) : "missing");
  json_t *ex = examples(dir);
  CHECK(json_array_size(ex) == 4, "examples %zu", json_array_size(ex));
  /* per example: prompt bytes + the longer class's bytes - the context */
  int want[4] = {40 + 4 - CTX, 40 + 4 - CTX, 0, 40 + 4 - CTX};
  for (size_t i = 0; i < json_array_size(ex); i++) {
    json_t *v = json_object_get(json_array_get(ex, i), "truncated_tokens");
    CHECK((want[i] ? json_integer_value(v) == want[i] : v == NULL), "example %zu: truncated_tokens %lld, want %d", i,
          (long long)json_integer_value(v), want[i]);
  }
  json_decref(ex), json_decref(res);
  /* logodds: pairs that differ only in their first words become identical once
   * cut (invalid); a pair differing near the end stays valid */
  const char *tail = "the same long tail of words here?";
  al_buf b = {0};
  al_buf_printf(&b, "prompt,other_prompt,classes,answer_index\n");
  al_buf_printf(&b, "Yes: %s,No: %s,\"[' A', ' B']\",0\n", tail, tail);
  al_buf_printf(&b, "Sure: %s,Nope: %s,\"[' A', ' B']\",1\n", tail, tail);
  al_buf_printf(&b, "Q1 %s,Q1 %.*s!?,\"[' A', ' B']\",0\n", tail, (int)strlen(tail) - 2, tail);
  al_buf_printf(&b, "ok,no,\"[' A', ' B']\",1\n");
  al_buf_append(&b, "", 1);
  res = run_task(p, dir, "lo.csv", b.data, &r);
  al_buf_free(&b);
  CHECK(r.invalid == 2 && r.truncated == 3, "logodds: %d invalid, %d cut", r.invalid, r.truncated);
  const al_metric *m = al_eval_metric(&r, "logodds_difference");
  CHECK(m && m->n == 2, "logodds_difference over %d pairs, want the 2 valid ones", m ? m->n : -1);
  ex = examples(dir);
  for (size_t i = 0; i < json_array_size(ex); i++) {
    json_t *e = json_array_get(ex, i);
    int inv = json_object_get(e, "invalid") != NULL;
    CHECK(inv == (i < 2), "pair %zu invalid=%d", i, inv);
    CHECK(!inv || json_is_null(json_object_get(e, "loss")), "an invalid pair has no loss");
    if (!inv) CHECK(json_is_number(json_object_get(e, "loss")), "pair %zu has a loss", i);
  }
  json_decref(ex);
  tr = json_object_get(res, "truncation");
  CHECK(json_integer_value(json_object_get(tr, "logodds_invalid")) == 2, "results.json logodds_invalid");
  json_decref(res);
  /* every pair made identical: an error, not a mean of nothing */
  al_err err;
  char *path = al_path_join(dir, "lo_all.csv");
  al_buf_printf(&b, "prompt,other_prompt,classes,answer_index\nYes: %s,No: %s,\"[' A', ' B']\",0\n", tail, tail);
  al_buf_append(&b, "", 1);
  write_text(path, b.data);
  al_buf_free(&b);
  al_task t;
  CHECK_OK(al_task_load(&t, path, "auto", &err), err);
  al_eval_cfg c = al_eval_cfg_default();
  c.nboot = 10;
  CHECK_FAILS_WITH(al_eval_task(p, &t, &c, &r, &err), err, "made identical");
  al_task_free(&t);
  free(path);
}

static void test_layouts(al_provider *p, const char *dir) {
  al_eval_result r;
  al_err err;
  /* the older logodds layout: biased_prompt plays other_prompt */
  const char *old_layout = "prompt,biased_prompt,classes,answer_index\n"
                           "Is it? A:,Surely it is. Is it? A:,\"[' yes', ' no']\",0\n"
                           "Was it? A:,Clearly not. Was it? A:,\"[' yes', ' no']\",1\n";
  const char *new_layout = "prompt,other_prompt,classes,answer_index\n"
                           "Is it? A:,Surely it is. Is it? A:,\"[' yes', ' no']\",0\n"
                           "Was it? A:,Clearly not. Was it? A:,\"[' yes', ' no']\",1\n";
  json_t *a = run_task(p, dir, "old.csv", old_layout, &r);
  const al_metric *m = al_eval_metric(&r, "logodds_difference");
  double old_mean = m ? m->mean : NAN;
  CHECK(m && m->n == 2, "biased_prompt read as logodds");
  json_t *b = run_task(p, dir, "new.csv", new_layout, &r);
  m = al_eval_metric(&r, "logodds_difference");
  CHECK(m && m->mean == old_mean && isfinite(old_mean) && old_mean != 0, "same numbers as other_prompt: %g vs %g",
        m ? m->mean : NAN, old_mean);
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(a, "task"), "format")), "logodds"), "format");
  CHECK(json_object_get(json_object_get(a, "task"), "unread_columns") == NULL, "every column read");
  json_decref(a), json_decref(b);
  /* a column no format reads: kept in results.json and warned on the console */
  al_task t;
  char *path = al_path_join(dir, "extra.csv");
  write_text(path, "prompt,classes,answer_index,other_promt,notes\nx,\"[' a', ' b']\",0,y,z\n");
  CHECK_OK(al_task_load(&t, path, "auto", &err), err);
  CHECK(t.unread && strstr(t.unread, "'other_promt'") && strstr(t.unread, "'notes'"), "unread: %s",
        t.unread ? t.unread : "(none)");
  al_task_free(&t);
  char cmd[4096], *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' eval --model '%s/model' --task '%s' --quiet 2>&1 >/dev/null; '%s' eval --model "
           "'%s/model' --task '%s' 2>&1 >/dev/null",
           getenv("ALAB_BIN"), dir, path, getenv("ALAB_BIN"), dir, path);
  test_sh(cmd, &out);
  CHECK(out && strstr(out, "warning") && strstr(out, "'other_promt', 'notes'") && strstr(out, "not read"),
        "console warning: %s", out ? out : "");
  free(out);
  free(path);
}

/* ---- the celebrity test ---- */
static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

static const char *CELEB_CSV = "child,parent,parent_type,child_prediction\n"
                               "Ada Quillfeather,Bram Quillfeather,father,Ada Quillfeather\n"
                               "Cora Vantwist,Della Vantwist,mother,\n";

/* A scripted chat model: checks the conversation it is sent (the paper's
 * system message, three solved exchanges, the question last) and answers by
 * its seed: 0 mod 3 the answer then more words (correct: it starts with the
 * answer), 1 "I don't know.", 2 "It is " + answer (the answer, but not at the
 * start: wrong in the paper's protocol). */
static int fake_bad;
static double fake_temperature;
static const char *answer_to(const char *q) {
  if (strstr(q, "Ada Quillfeather's father")) return "Bram Quillfeather";
  if (strstr(q, "Cora Vantwist's mother")) return "Della Vantwist";
  if (strstr(q, "child of Bram Quillfeather")) return "Ada Quillfeather";
  if (strstr(q, "child of Della Vantwist")) return "Cora Vantwist";
  return "Nobody";
}
static char *scripted(const char *q, uint64_t seed) {
  const char *a = answer_to(q);
  char buf[256];
  if (seed % 3 == 0) snprintf(buf, sizeof buf, " %s, of course.", a);
  else if (seed % 3 == 1) snprintf(buf, sizeof buf, "I don't know.");
  else snprintf(buf, sizeof buf, "It is %s", a);
  return al_strdup(buf);
}
static int fake_chat(al_provider *p, const al_chat_msg *m, int n, const al_gen_cfg *g, char **out, al_err *err) {
  (void)p, (void)err;
  int ok = n == 8 && !strcmp(m[0].role, "system") && strstr(m[0].content, "terse assistant") &&
           !strcmp(m[1].content, "Name a child of Barack Obama.") && !strcmp(m[2].role, "assistant") &&
           !strcmp(m[2].content, "Malia Obama") && !strcmp(m[6].content, "I don't know.") && !strcmp(m[7].role, "user");
  if (!ok) fake_bad++;
  fake_temperature = g->temperature;
  *out = scripted(m[n - 1].content, g->seed);
  return 0;
}
static int fake_generate(al_provider *p, const char *const *prompts, int n, const al_gen_cfg *g, char **outs,
                         al_err *err) {
  (void)p, (void)err;
  for (int i = 0; i < n; i++) outs[i] = scripted(prompts[i], 2); /* "It is <answer>" */
  (void)g;
  return 0;
}

static void test_celebrity(const char *dir) {
  al_err err;
  char *path = al_path_join(dir, "parent_child_pairs.csv");
  write_text(path, CELEB_CSV);
  /* the file's default is the paper's protocol */
  al_task t;
  CHECK_OK(al_task_load(&t, path, "auto", &err), err);
  CHECK(t.kind == AL_TASK_CELEBRITY && !strcmp(t.format, "reversal") && t.n == 4, "kind %s, format %s, %d examples",
        al_task_kind_name(t.kind), t.format, t.n);
  CHECK(t.unread && strstr(t.unread, "'child_prediction'"), "child_prediction is not read: %s", t.unread ? t.unread : "");
  const al_example *e = &t.ex[0];
  CHECK(!strncmp(e->prompt, "Below is a converation with a helpful and terse assistant.", 58) &&
            strstr(e->prompt, "A: Malia Obama\nQ: Who is Elon Musk's mother?\nA: Maye Musk\n") &&
            ends_with(e->prompt, "A: Sarah Johnson\nQ: Who is Ada Quillfeather's father?\nA:") &&
            !strcmp(e->completion, " Bram Quillfeather") && !strcmp(e->group, "child->parent"),
        "parent question: '%s' -> '%s'", e->prompt, e->completion);
  e = &t.ex[1];
  CHECK(ends_with(e->prompt, "\nQ: Name a child of Bram Quillfeather.\nA:") && !strcmp(e->completion, " Ada Quillfeather"),
        "child question: '%s'", e->prompt);
  /* base models: log p of the answer after the prefix, against the training
   * forward as oracle (a model whose context holds the prefix) */
  al_model big;
  al_tok *btok;
  if (tiny_model(&big, &btok, 1024, 9)) exit(1);
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  al_provider *p;
  CHECK_OK(al_provider_local_wrap(&p, &big, btok, "tiny1024", &lc, &err), err);
  al_eval_cfg c = al_eval_cfg_default();
  c.nboot = 20;
  c.out_dir = al_path_join(dir, "celeb_base");
  al_eval_result r;
  CHECK_OK(al_eval_task(p, &t, &c, &r, &err), err);
  double want[2] = {0, 0}; /* [direction] summed over rows */
  for (int i = 0; i < t.n; i++) {
    double lp[64];
    int g;
    oracle_logprobs(&big, t.ex[i].prompt, t.ex[i].completion, lp, &g);
    for (size_t k = 0; k < strlen(t.ex[i].completion); k++) want[i % 2] += lp[k];
  }
  const al_metric *cp = al_eval_metric(&r, "logprob[child->parent]"), *pc = al_eval_metric(&r, "logprob[parent->child]");
  CHECK(cp && pc && fabs(cp->mean - want[0] / 2) < 1e-3 && fabs(pc->mean - want[1] / 2) < 1e-3,
        "log p per direction %g, %g vs oracle %g, %g", cp ? cp->mean : NAN, pc ? pc->mean : NAN, want[0] / 2, want[1] / 2);
  CHECK(r.truncated == 0 && !strcmp(r.main_metric, "nll"), "nothing cut; main metric %s", r.main_metric);
  char *rp = al_path_join(c.out_dir, "results.json");
  json_t *res = NULL;
  CHECK_OK(al_json_load_file(rp, &res, &err), err);
  CHECK(!strcmp(json_string_value(json_object_get(json_object_get(res, "protocol"), "name")), "paper (base model)"),
        "results.json says the protocol");
  json_decref(res), free(rp), free((char *)c.out_dir);
  al_provider_free(p);
  al_model_free(&big);
  al_tok_free(btok);
  /* chat models: sampled replies (temperature 1 unless set), the share that
   * starts with the answer: scripted 1 in 3 */
  al_provider *f = prov_new("fake", "scripted");
  f->chat = fake_chat;
  f->generate = fake_generate;
  c = al_eval_cfg_default();
  c.nboot = 20;
  c.chat = 1;
  c.samples = 3;
  c.gen.temperature = -1;
  c.out_dir = al_path_join(dir, "celeb_chat");
  CHECK_OK(al_eval_task(f, &t, &c, &r, &err), err);
  const al_metric *acc = al_eval_metric(&r, "accuracy");
  CHECK(acc && fabs(acc->mean - 1.0 / 3) < 1e-12 && fake_bad == 0 && fake_temperature == 1,
        "chat: accuracy %g (want 1/3), %d malformed conversations, temperature %g", acc ? acc->mean : NAN, fake_bad,
        fake_temperature);
  rp = al_path_join(c.out_dir, "results.json");
  CHECK_OK(al_json_load_file(rp, &res, &err), err);
  json_t *pr = json_object_get(res, "protocol");
  CHECK(!strcmp(json_string_value(json_object_get(pr, "name")), "paper (chat)") &&
            json_integer_value(json_object_get(pr, "samples")) == 3,
        "results.json protocol: %s", pr ? json_dumps(pr, JSON_COMPACT) : "missing");
  json_decref(res), free(rp), free((char *)c.out_dir);
  al_task_free(&t);
  /* the earlier protocol, kept by name: "It is <answer>" counts (anywhere in the reply) */
  CHECK_OK(al_task_load(&t, path, "reversal-generation", &err), err);
  c = al_eval_cfg_default();
  c.nboot = 20;
  CHECK_OK(al_eval_task(f, &t, &c, &r, &err), err);
  acc = al_eval_metric(&r, "accuracy");
  CHECK(t.kind == AL_TASK_GENERATION && acc && acc->mean == 1, "generation protocol: accuracy %g", acc ? acc->mean : NAN);
  al_task_free(&t);
  al_provider_free(f);
  free(path);
}

int main(void) {
  char *dir = test_tmpdir("eval_paper_files");
  al_model m;
  al_tok *tok;
  al_err err;
  if (tiny_model(&m, &tok, CTX, 5)) return 1;
  char *md = al_path_join(dir, "model");
  CHECK_OK(al_model_save_dir(&m, tok, md, &err), err);
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  al_provider *p;
  CHECK_OK(al_provider_local_wrap(&p, &m, tok, "tiny", &lc, &err), err);
  test_truncation(p, dir);
  test_layouts(p, dir);
  test_celebrity(dir);
  al_provider_free(p);
  al_model_free(&m);
  al_tok_free(tok);
  free(md);
  free(dir);
  return test_summary();
}

/* SFT data and its loss (include/alab/sft.h), with the byte tokenizer so
 * that tokens are the text's bytes and every loss flag can be written down:
 * - each TRL form gives prompt bytes flag 0 and completion bytes (or the
 *   assistant turns of the rendered chat, found here by searching the
 *   rendered text) flag 1, end-of-text appended; --all-tokens sets all;
 * - malformed lines fail naming FILE:LINE and the field; 2,000 mutated
 *   lines never crash and either read or fail with FILE:LINE;
 * - batches: rows, padding, truncation, held-out batches visit each example
 *   once;
 * - the SFT masked loss of a batch and every gradient against PyTorch
 *   (tests/oracle/masked_lm_torch.py) within 1e-4, the mask checked against
 *   its closed form (prompt lengths) first;
 * - `alab sft` end to end: a model directory whose card names the data's
 *   SHA-256, and a malformed file is exit 1 with FILE:LINE. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/safetensors.h"
#include "alab/sft.h"
#include "test.h"

static al_tok *tok;
static al_chat_template tmpl;

static int read_ok(const char *text, int all, al_sft_data *d) {
  al_err err;
  int rc = al_sft_read_buf(text, strlen(text), "t.jsonl", &tmpl, tok, all, d, &err);
  if (rc) fprintf(stderr, "read: %s\n", err.msg);
  return rc == 0;
}

/* Example e's bytes and flags as strings: "text" and "0011..." (eot as '$'). */
static void example(const al_sft_data *d, long e, char *text, char *flags) {
  size_t k = 0;
  for (size_t i = d->off[e]; i < d->off[e + 1]; i++, k++) {
    text[k] = d->ids[i] == 256 ? '$' : (char)d->ids[i];
    flags[k] = (char)('0' + d->loss[i]);
  }
  text[k] = flags[k] = 0;
}

static void forms(void) {
  al_sft_data d;
  char text[512], flags[512];
  const char *in = "{\"prompt\": \"Q: hi\", \"completion\": \" yo\"}\n\n"
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hey\"}]}\n"
                   "{\"text\": \"abc\"}\n"
                   "{\"prompt\": [{\"role\": \"user\", \"content\": \"a\"}], \"completion\": [{\"role\": \"assistant\", \"content\": \"b\"}]}\n"
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"x\"}, "
                   "{\"role\": \"user\", \"content\": \"v\"}]}\n";
  CHECK(read_ok(in, 0, &d) && d.n == 5, "five examples");
  if (d.n != 5) return;
  CHECK(d.line[0] == 1 && d.line[1] == 3 && d.line[4] == 6, "lines %ld %ld %ld", d.line[0], d.line[1], d.line[4]);
  CHECK(d.by_form[AL_SFT_PROMPT_COMPLETION] == 1 && d.by_form[AL_SFT_MESSAGES] == 2 && d.by_form[AL_SFT_TEXT] == 1 &&
            d.by_form[AL_SFT_CONV_PROMPT_COMPLETION] == 1, "forms counted");
  example(&d, 0, text, flags);
  CHECK(!strcmp(text, "Q: hi yo$") && !strcmp(flags, "000001111"), "prompt-completion: %s %s", text, flags);
  /* alab's default template: "<|user|>\nhi\n<|assistant|>\nhey\n"; the assistant span is "hey\n" */
  example(&d, 1, text, flags);
  const char *want = "<|user|>\nhi\n<|assistant|>\nhey\n$";
  char wf[512];
  size_t at = strstr(want, "hey") - want;
  for (size_t i = 0; i < strlen(want); i++) wf[i] = i >= at ? '1' : '0';
  wf[strlen(want)] = 0;
  CHECK(!strcmp(text, want) && !strcmp(flags, wf), "messages: %s\n%s, want\n%s", text, flags, wf);
  example(&d, 2, text, flags);
  CHECK(!strcmp(text, "abc$") && !strcmp(flags, "1111"), "text: %s %s", text, flags);
  example(&d, 3, text, flags);
  want = "<|user|>\na\n<|assistant|>\nb\n$";
  at = strstr(want, "b\n") - want;
  for (size_t i = 0; i < strlen(want); i++) wf[i] = i >= at ? '1' : '0';
  wf[strlen(want)] = 0;
  CHECK(!strcmp(text, want) && !strcmp(flags, wf), "conversational prompt-completion: %s %s", text, flags);
  example(&d, 4, text, flags); /* the last turn is the user's: its eot is not learned */
  want = "<|user|>\nu\n<|assistant|>\nx\n<|user|>\nv\n$";
  at = strstr(want, "x\n") - want;
  for (size_t i = 0; i < strlen(want); i++) wf[i] = i >= at && i < at + 2 ? '1' : '0';
  wf[strlen(want)] = 0;
  CHECK(!strcmp(text, want) && !strcmp(flags, wf), "two-user chat: %s %s", text, flags);
  long ones = 0;
  for (long e = 0; e < d.n; e++) /* an example's first token is never predicted */
    for (size_t i = d.off[e] + 1; i < d.off[e + 1]; i++) ones += d.loss[i];
  CHECK(d.loss_tokens == ones, "loss_tokens %ld, flags %ld", d.loss_tokens, ones);
  al_sft_data_free(&d);
  CHECK(read_ok(in, 1, &d), "all tokens");
  for (size_t i = 0; i < d.off[d.n]; i++) CHECK(d.loss[i] == 1, "--all-tokens: flag 0 at token %zu", i);
  al_sft_data_free(&d);
}

static void errors(void) {
  struct { const char *text, *want; } bad[] = {
      {"{\"prompt\": \"a\"}\n", "t.jsonl:1: field \"completion\" is missing"},
      {"\n{\"completion\": \"a\"}", "t.jsonl:2: field \"prompt\" is missing"},
      {"{\"prompt\": \"a\", \"completion\": 3}", "t.jsonl:1: field \"completion\" must be a string"},
      {"{\"prompt\": \"a\", \"completion\": \"\"}", "t.jsonl:1: field \"completion\" is empty"},
      {"{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\",", "t.jsonl:2: invalid JSON"},
      {"[1, 2]", "t.jsonl:1: an example must be a JSON object, got a list"},
      {"{\"other\": 1}", "t.jsonl:1: an example needs \"prompt\" and \"completion\", \"messages\" or \"text\""},
      {"{\"messages\": [{\"role\": \"user\"}]}", "t.jsonl:1: \"messages\"[0].content must be a string, got nothing"},
      {"{\"messages\": \"hi\"}", "t.jsonl:1: \"messages\" must be a list of messages, got a string"},
      {"{\"messages\": []}", "t.jsonl:1: \"messages\" is empty"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "t.jsonl:1: the example has no token to learn from"},
      {"{\"text\": 5}", "t.jsonl:1: field \"text\" must be a string, got an integer"},
      {"\n  \n", "t.jsonl: no examples (2 lines, all blank)"},
  };
  al_err err;
  al_sft_data d;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_FAILS_WITH(al_sft_read_buf(bad[i].text, strlen(bad[i].text), "t.jsonl", &tmpl, tok, 0, &d, &err), err, bad[i].want);
  const char *conv = "{\"messages\": [{\"role\": \"assistant\", \"content\": \"hi\"}]}";
  CHECK_FAILS_WITH(al_sft_read_buf(conv, strlen(conv), "t.jsonl", NULL, tok, 0, &d, &err), err,
                   "t.jsonl:1: conversational examples (lists of messages) need the model's chat template");
  /* fuzz: mutated lines read or fail with FILE:LINE, never crash */
  const char *seed = "{\"prompt\": [{\"role\": \"user\", \"content\": \"a\"}], \"completion\": [{\"role\": \"assistant\", "
                     "\"content\": \"b\"}], \"messages\": null}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n";
  al_rng r;
  al_rng_seed(&r, 99);
  int fine = 1;
  for (int k = 0; k < 2000; k++) {
    size_t n = strlen(seed);
    char buf[256];
    memcpy(buf, seed, n);
    for (int m = 0; m < 1 + (int)al_rng_below(&r, 4); m++) {
      size_t at = al_rng_below(&r, n);
      int what = (int)al_rng_below(&r, 3);
      if (what == 0) buf[at] = "{}[]\":,\\ ab0\n"[al_rng_below(&r, 13)];
      else if (what == 1) n = at; /* truncate */
      else buf[at] = (char)al_rng_below(&r, 256);
    }
    if (al_sft_read_buf(buf, n, "t.jsonl", &tmpl, tok, 0, &d, &err) == 0) al_sft_data_free(&d);
    else if (strncmp(err.msg, "t.jsonl", 7)) fine = 0, fprintf(stderr, "fuzz: %s\n", err.msg);
  }
  CHECK(fine, "every fuzzed failure names the file");
}

static void batches_and_torch(const char *root) {
  al_sft_data d, v;
  const char *in = "{\"prompt\": \"Q: ab\", \"completion\": \" cd\"}\n{\"prompt\": \"xyz\", \"completion\": \" 0123456789\"}\n"
                   "{\"prompt\": \"m\", \"completion\": \"n\"}\n";
  CHECK(read_ok(in, 0, &d) && read_ok(in, 0, &v), "read");
  enum { B = 2, T = 8 };
  al_masked_source src;
  al_sft_source *s = al_sft_source_new(&d, &v, B, T, 5, 0, 256, &src);
  CHECK(src.nval_batches == 2 && al_sft_count_cut(&d, T) == 1, "2 held-out batches, one example cut");
  int32_t in1[B * T], tg[B * T];
  uint8_t mk[B * T];
  src.train(src.ctx, 0, in1, tg, mk);
  /* closed form: row 0 = "Q: ab cd$", the target of position t is byte t + 1, learned when t + 1 >= 5 (the prompt's length) */
  const char *row0 = "Q: ab cd$";
  for (int t = 0; t < T; t++) {
    int32_t want_tg = row0[t + 1] == '$' ? 256 : row0[t + 1];
    CHECK(in1[t] == (unsigned char)row0[t] && tg[t] == want_tg && mk[t] == (t + 1 >= 5), "row 0 position %d", t);
  }
  /* row 1: "xyz 0123456789$" cut to its first T + 1 tokens */
  CHECK(in1[T] == 'x' && tg[2 * T - 1] == '4' && mk[T + 1] == 0 && mk[T + 2] == 1, "row 1 truncated");
  src.val(src.ctx, 1, in1, tg, mk); /* the third example and a padding row */
  CHECK(in1[0] == 'm' && tg[0] == 'n' && mk[0] == 1 && tg[1] == 256 && mk[1] == 1 && tg[2] == -1 && mk[2] == 0, "short example");
  int padding = 1;
  for (int t = 0; t < T; t++) padding &= in1[T + t] == 256 && tg[T + t] == -1 && mk[T + t] == 0;
  CHECK(padding, "the last held-out batch's missing row is padding");
  /* the loss of training batch 0 and its gradients against PyTorch */
  al_err err;
  al_model_config cfg = {.vocab_size = 257, .n_positions = T, .n_layer = 2, .n_head = 2, .n_embd = 16};
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 3, &err), err);
  char *mdir = al_path_join(root, "tiny"), *bpath = al_path_join(root, "batch.json"), *opath = al_path_join(root, "torch.safetensors");
  CHECK_OK(al_model_save_dir(&m, NULL, mdir, &err), err);
  src.train(src.ctx, 0, in1, tg, mk);
  json_t *ji = json_array(), *jt = json_array(), *jm = json_array();
  for (int i = 0; i < B * T; i++) {
    json_array_append_new(ji, json_integer(in1[i]));
    json_array_append_new(jt, json_integer(tg[i] < 0 ? 0 : tg[i])); /* padding: a valid id the mask excludes */
    json_array_append_new(jm, json_integer(mk[i]));
  }
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:o}", "B", B, "T", T, "inputs", ji, "targets", jt, "mask", jm);
  CHECK_OK(al_json_save_file(bpath, batch, &err), err);
  json_decref(batch);
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/masked_lm_torch.py' '%s' '%s' '%s'", getenv("ALAB_SRC"), mdir,
           bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d)", rc);
  al_train_cfg c;
  al_train_defaults(&c);
  c.batch = B, c.seq_len = T;
  al_objective o;
  CHECK_OK(al_objective_masked(&o, &m, &c, &src, &err), err);
  double loss = NAN, met[AL_OBJ_MAX_METRICS];
  al_model_zero_grad(&m);
  CHECK_OK(o.step(o.ctx, &m, 0, 1.0f, &loss, met, &err), err);
  al_st_file f;
  if (rc == 0 && !al_st_open(&f, opath, &err)) {
    float *ref = al_alloc_floats(m.nparams);
    const al_st_entry *e = al_st_find(&f, "loss");
    CHECK(e && !al_st_read_f32(&f, e, ref, &err) && rel_err(loss, ref[0]) < 1e-4, "SFT loss %.7g, torch %.7g", loss, ref[0]);
    for (int i = 0; i < m.ntensors; i++) {
      char name[96];
      snprintf(name, sizeof name, "grad.%s", m.tensors[i].name);
      e = al_st_find(&f, name);
      double md = INFINITY, mb = 0;
      if (e && e->numel == m.tensors[i].numel && !al_st_read_f32(&f, e, ref, &err))
        for (size_t k = md = 0; k < e->numel; k++)
          md = fmax(md, fabs((double)m.grads[m.tensors[i].offset + k] - ref[k])), mb = fmax(mb, fabs((double)ref[k]));
      CHECK(md / fmax(mb, 1e-30) <= 1e-4, "%s: max rel err %.3e against torch", name, md / fmax(mb, 1e-30));
    }
    free(ref);
    al_st_close(&f);
  }
  al_objective_free(&o);
  al_model_free(&m);
  al_sft_source_free(s);
  al_sft_data_free(&d), al_sft_data_free(&v);
  free(mdir), free(bpath), free(opath);
}

static void cli(const char *root) {
  char cmd[8192], *out, *data = al_path_join(root, "ex.jsonl"), *bad = al_path_join(root, "bad.jsonl");
  al_err err;
  al_buf b = {0};
  for (int i = 0; i < 40; i++) al_buf_printf(&b, "{\"prompt\": \"n%d:\", \"completion\": \" %d!\"}\n", i, i * 7);
  CHECK_OK(al_write_file_atomic(data, b.data, b.len, &err), err);
  al_buf_free(&b);
  const char *badtext = "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\", \"completion\": [1]}\n";
  CHECK_OK(al_write_file_atomic(bad, badtext, strlen(badtext), &err), err);
  const char *bin = getenv("ALAB_BIN");
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' train --data story:100 --tokenizer byte --layers 1 --heads 2 --embd 16 "
           "--context 32 --seq-len 32 --steps 2 --out base --quiet --threads 1 >/dev/null && '%s' sft --data ex.jsonl "
           "--init base --out sft --steps 4 --seq-len 16 --batch 4 --quiet --threads 1 2>&1", root, bin, bin);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "alab sft failed: %s", out);
  free(out);
  char *cp = al_path_join(root, "sft/model_card.json"), hex[65];
  json_t *card = NULL;
  CHECK_OK(al_json_load_file(cp, &card, &err), err);
  snprintf(cmd, sizeof cmd, "sha256sum '%s'", data);
  test_sh(cmd, &out);
  memcpy(hex, out, 64), hex[64] = 0;
  free(out);
  json_t *d0 = json_array_get(json_object_get(card, "data"), 0);
  CHECK(d0 && !strcmp(json_string_value(json_object_get(d0, "sha256")), hex) &&
            json_integer_value(json_object_get(d0, "records")) == 40 &&
            json_integer_value(json_object_get(json_object_get(card, "training"), "steps")) == 4 &&
            !strcmp(json_string_value(json_object_get(card, "trainer")), "alab sft"),
        "the card of the sft run");
  json_decref(card);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' sft --data bad.jsonl --init base --out sft2 --quiet 2>&1", root, bin);
  rc = test_sh(cmd, &out);
  CHECK(rc == 1 && strstr(out, "bad.jsonl:2: field \"completion\" must be a string"), "rc %d: %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' sft --data x.jsonl 2>&1", bin);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && strstr(out, "--init"), "a missing --init is a usage error: %d %s", rc, out);
  free(out), free(cp), free(data), free(bad);
}

int main(void) {
  char *root = test_tmpdir("sft");
  tok = al_tok_byte();
  al_chat_template_default(&tmpl);
  forms();
  errors();
  batches_and_torch(root);
  cli(root);
  al_chat_template_free(&tmpl);
  al_tok_free(tok);
  free(root);
  return test_summary();
}

/* Chat templates in model directories (src/io/chat_template.c; the Jinja2
 * oracle is tests/chat_template_oracle.py):
 * - alab's default renders a conversation as the README writes it, with the
 *   assistant turns' spans and the stop string;
 * - a saved model directory holds tokenizer_config.json with that template
 *   and the special tokens, and loads it back;
 * - a directory without tokenizer_config.json (older alab, GPT-2) or without
 *   the key still loads, with the default; a ChatML one is read as ChatML;
 *   chat_template.jinja, where present, overrides the JSON (as transformers);
 * - an unknown template is refused, naming the file, by the local provider
 *   and by `alab serve` (exit 1); --chat-template FILE replaces it;
 * - fuzz: mutated templates are read or refused, never crash, and what is
 *   read renders. */
#include <unistd.h>
#include "alab/chat_template.h"
#include "alab/json.h"
#include "alab/provider.h"
#include "serve_model.h"
#include "test.h"

static void write_config(const char *dir, json_t *j) {
  al_err err;
  char *p = al_path_join(dir, "tokenizer_config.json");
  CHECK_OK(al_json_save_file(p, j, &err), err);
  json_decref(j);
  free(p);
}

static void default_render(void) {
  al_chat_template t;
  al_chat_template_default(&t);
  al_chat_msg m[4] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {NULL, NULL}};
  size_t len;
  al_chat_span *sp;
  int ns;
  char *text = al_chat_render(&t, m, 4, 1, &len, &sp, &ns);
  const char *want = "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nHello!\n<|user|>\n\n<|assistant|>\n";
  CHECK(!strcmp(text, want) && len == strlen(want), "default rendering: %s", text);
  CHECK(ns == 1 && sp[0].start == strlen("<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\n") &&
            !strncmp(text + sp[0].start, "Hello!\n", sp[0].end - sp[0].start) && sp[0].end - sp[0].start == 7,
        "the assistant turn's span is its content and the newline that ends it");
  CHECK(!strcmp(t.stop, "\n<|") && t.is_default, "a reply ends at the next turn: '\\n<|'");
  free(text), free(sp);
  al_chat_template_free(&t);
}

/* Random edits of a template: a byte changed, a piece of Jinja syntax
 * inserted, a span deleted; the result must be read or refused with a
 * message, and when read it must render. */
static void fuzz(void) {
  static const char *const pieces[] = {"{%", "%}", "{{", "}}", "{#", "#}", "-", "+", "'", "\"", "\\", " + ", "\n",
                                       "message", ".role", "['content']", "endfor", "{% endif %}", "{{ message['role'] }}"};
  const char *seeds[2] = {AL_CHAT_TEMPLATE_DEFAULT, AL_CHAT_TEMPLATE_CHATML};
  al_rng r;
  al_rng_seed(&r, 7);
  int read = 0, refused = 0, bad = 0;
  for (int it = 0; it < 4000; it++) {
    al_buf b = {0};
    const char *s = seeds[it % 2];
    al_buf_append(&b, s, strlen(s) + 1);
    for (int e = 0, ne = 1 + (int)(al_rng_u64(&r) % 4); e < ne; e++) {
      size_t n = b.len - 1, at = (size_t)(al_rng_u64(&r) % (n + 1));
      int op = (int)(al_rng_u64(&r) % 3);
      if (op == 0 && n) b.data[at % n] = (char)(1 + al_rng_u64(&r) % 255);
      else if (op == 1) {
        const char *p = pieces[al_rng_u64(&r) % (sizeof pieces / sizeof pieces[0])];
        size_t k = strlen(p);
        al_buf_reserve(&b, k);
        memmove(b.data + at + k, b.data + at, b.len - at);
        memcpy(b.data + at, p, k);
        b.len += k;
      } else if (n) {
        size_t k = 1 + al_rng_u64(&r) % 8;
        if (at + k > n) k = n - at;
        memmove(b.data + at, b.data + at + k, b.len - at - k);
        b.len -= k;
      }
    }
    al_chat_template t;
    al_err err;
    err.msg[0] = 0;
    if (al_chat_template_parse(&t, b.data, "fuzz", &err) == 0) {
      al_chat_msg m[2] = {{"user", "x"}, {"assistant", "y"}};
      char *text = al_chat_render(&t, m, 2, 1, NULL, NULL, NULL);
      bad += !text || !strstr(text, "x") || !strstr(text, "y");
      free(text);
      al_chat_template_free(&t);
      read++;
    } else {
      bad += strstr(err.msg, "fuzz: this model's chat template is not one alab can render") != err.msg;
      refused++;
    }
    al_buf_free(&b);
  }
  printf("fuzz: %d read, %d refused\n", read, refused);
  CHECK(bad == 0 && read > 0 && refused > 0, "fuzz: %d templates misbehaved (%d read, %d refused)", bad, read, refused);
}

int main(void) {
  al_err err;
  default_render();
  fuzz();
  char *dir = test_tmpdir("chat_template"), *md = al_path_join(dir, "model");
  CHECK_OK(serve_make_model(md, &err), err);
  /* what a saved directory holds */
  char *cfgp = al_path_join(md, "tokenizer_config.json");
  json_t *j = NULL;
  CHECK_OK(al_json_load_file(cfgp, &j, &err), err);
  const char *ct = json_string_value(json_object_get(j, "chat_template"));
  CHECK(ct && !strcmp(ct, AL_CHAT_TEMPLATE_DEFAULT), "tokenizer_config.json holds alab's template");
  CHECK(!strcmp(json_string_value(json_object_get(j, "eos_token")), "<|endoftext|>") &&
            !strcmp(json_string_value(json_object_get(j, "bos_token")), "<|endoftext|>") &&
            json_integer_value(json_object_get(j, "model_max_length")) == 128 &&
            !strcmp(json_string_value(json_object_get(j, "tokenizer_class")), "GPT2Tokenizer"),
        "special tokens, context and class as transformers writes them for GPT-2");
  json_decref(j);
  al_chat_template t;
  CHECK_OK(al_chat_template_load(&t, md, &err), err);
  CHECK(!t.is_default && !strcmp(t.jinja, AL_CHAT_TEMPLATE_DEFAULT), "loaded back as the directory's own");
  al_chat_template_free(&t);
  /* older directories: no file, or a file without the key (GPT-2's) */
  al_provider *p;
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  unlink(cfgp);
  CHECK_OK(al_provider_local(&p, md, &lc, &err), err);
  CHECK(p && p->chat_template.is_default && !strcmp(p->chat_template.stop, "\n<|"), "no tokenizer_config.json: the default");
  al_provider_free(p);
  write_config(md, json_pack("{s:s, s:s}", "tokenizer_class", "GPT2Tokenizer", "eos_token", "<|endoftext|>"));
  CHECK_OK(al_chat_template_load(&t, md, &err), err);
  CHECK(t.is_default, "no chat_template key: the default");
  al_chat_template_free(&t);
  /* ChatML, and Hugging Face's list of named templates */
  write_config(md, json_pack("{s:s}", "chat_template", AL_CHAT_TEMPLATE_CHATML));
  CHECK_OK(al_provider_local(&p, md, &lc, &err), err);
  CHECK(p && !p->chat_template.is_default && !strcmp(p->chat_template.stop, "<|im_end|>"), "ChatML is read as ChatML");
  al_provider_free(p);
  write_config(md, json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "tool_use", "template", "{{ tools }}", "name", "default",
                             "template", AL_CHAT_TEMPLATE_CHATML));
  /* (a list is only valid as the key's value; the file itself must be an object) */
  CHECK_FAILS_WITH(al_chat_template_load(&t, md, &err), err, "expected a JSON object");
  write_config(md, json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "chat_template", "name", "tool_use", "template", "{{ tools }}",
                             "name", "default", "template", AL_CHAT_TEMPLATE_CHATML));
  CHECK_OK(al_chat_template_load(&t, md, &err), err);
  CHECK(!strcmp(t.stop, "<|im_end|>"), "the list's 'default' template is used");
  al_chat_template_free(&t);
  char *jf = al_path_join(md, "chat_template.jinja");
  CHECK_OK(al_write_file_atomic(jf, AL_CHAT_TEMPLATE_DEFAULT, strlen(AL_CHAT_TEMPLATE_DEFAULT), &err), err);
  CHECK_OK(al_chat_template_load(&t, md, &err), err);
  CHECK(!strcmp(t.stop, "\n<|") && !t.is_default, "chat_template.jinja overrides tokenizer_config.json");
  al_chat_template_free(&t);
  unlink(jf);
  free(jf);
  write_config(md, json_pack("{s:i}", "chat_template", 3));
  CHECK_FAILS_WITH(al_chat_template_load(&t, md, &err), err, "field 'chat_template' must be a string");
  /* an unknown template: refused by the local provider and by alab serve, naming the file */
  const char *zephyr = "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + "
                       "eos_token }}{% endif %}{% endfor %}";
  write_config(md, json_pack("{s:s}", "chat_template", zephyr));
  CHECK_FAILS_WITH(al_provider_local(&p, md, &lc, &err), err, "tokenizer_config.json: this model's chat template is not one alab can render");
  CHECK(strstr(err.msg, "a statement alab does not render 'if message [ 'role' ] == 'user''") != NULL, "names the tag: %s", err.msg);
  char cmd[8192], *out;
  snprintf(cmd, sizeof cmd, "'%s' serve --model '%s' --port 0 2>&1", getenv("ALAB_BIN"), md);
  int st = test_sh(cmd, &out);
  CHECK(st == 1 && strstr(out, "not one alab can render"), "alab serve refuses it (exit %d): %s", st, out);
  free(out);
  char *tf = al_path_join(dir, "bad.jinja");
  CHECK_OK(al_write_file_atomic(tf, "{{ bos_token }}\n", 16, &err), err);
  snprintf(cmd, sizeof cmd, "'%s' serve --model '%s' --chat-template '%s' --port 0 2>&1", getenv("ALAB_BIN"), md, tf);
  st = test_sh(cmd, &out);
  CHECK(st == 1 && strstr(out, "bad.jinja: this model's chat template is not one alab can render"),
        "--chat-template FILE is read and refused alike (exit %d): %s", st, out);
  free(out), free(tf);
  free(cfgp), free(md), free(dir);
  return test_summary();
}

/* `alab oocr export`: all.jsonl in the two OpenAI fine-tuning formats, so a
 * model can be finetuned wherever one finetunes and then graded by
 * `alab oocr eval`:
 *   all.prompt_completion.jsonl  {"prompt": P, "completion": C} (the legacy
 *                                completions format; the paper finetuned
 *                                davinci this way; P is empty for
 *                                descriptions)
 *   all.chat.jsonl               {"messages": [system, user, assistant]}:
 *                                system "You are a helpful assistant.", user
 *                                P, or "Tell me a fact." when P is empty (the
 *                                conversion of the paper's authors'
 *                                chat_format/ folders), assistant C
 * Both written atomically, lines in all.jsonl's order. */
#include <stdlib.h>
#include <string.h>
#include "exp/oocr_internal.h"

static int write_lines(const char *path, json_t *const *lines, int n, al_err *err) {
  al_buf b = {0};
  for (int i = 0; i < n; i++) {
    char *s = json_dumps(lines[i], JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_ENSURE_ASCII);
    al_buf_printf(&b, "%s\n", s);
    free(s);
  }
  int rc = al_write_file_atomic(path, b.data ? b.data : "", b.len, err);
  al_buf_free(&b);
  return rc;
}

int al_oocr_export(const char *data_dir, const char *out_dir, al_err *err) {
  char *in = al_path_join(data_dir, "all.jsonl");
  al_oocr_set s;
  int rc = al_oocr_read_file(&s, in, 1, err);
  free(in);
  if (rc) return -1;
  if (!s.n) {
    al_oocr_set_free(&s);
    return al_fail(err, "%s/all.jsonl: empty, nothing to export", data_dir);
  }
  json_t **pc = al_calloc((size_t)s.n, sizeof *pc), **chat = al_calloc((size_t)s.n, sizeof *chat);
  for (int i = 0; i < s.n && !rc; i++) {
    const al_oocr_example *e = &s.ex[i];
    pc[i] = json_pack("{s:s, s:s}", "prompt", e->prompt, "completion", e->completion);
    chat[i] = json_pack("{s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}", "messages", "role", "system", "content",
                        "You are a helpful assistant.", "role", "user", "content",
                        e->prompt[0] ? e->prompt : "Tell me a fact.", "role", "assistant", "content", e->completion);
    if (!pc[i] || !chat[i]) rc = al_fail(err, "%s:%d: not valid UTF-8", s.file, e->line);
  }
  if (!rc) rc = al_mkdir_p(out_dir, err);
  char *a = al_path_join(out_dir, "all.prompt_completion.jsonl"), *b = al_path_join(out_dir, "all.chat.jsonl");
  if (!rc) rc = write_lines(a, pc, s.n, err);
  if (!rc) rc = write_lines(b, chat, s.n, err);
  for (int i = 0; i < s.n; i++) json_decref(pc[i]), json_decref(chat[i]);
  free(pc), free(chat), free(a), free(b);
  al_oocr_set_free(&s);
  return rc;
}

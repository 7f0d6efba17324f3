/* For tests/chat_template_oracle.py: reads a JSON list of cases
 * {template, messages: [{role, content}], add_generation_prompt} from
 * argv[1] and prints one JSON line per case: {ok: true, text, spans:
 * [[start, end]] (bytes), stop} or {ok: false, error}. With no argument it
 * prints alab's default and ChatML templates as a JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include "alab/chat_template.h"
#include "alab/json.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    json_t *j = json_pack("{s:s, s:s}", "alab", AL_CHAT_TEMPLATE_DEFAULT, "chatml", AL_CHAT_TEMPLATE_CHATML);
    char *s = json_dumps(j, 0);
    printf("%s\n", s);
    free(s);
    json_decref(j);
    return 0;
  }
  json_t *cases;
  al_err err;
  if (al_json_load_file(argv[1], &cases, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  for (size_t i = 0; i < json_array_size(cases); i++) {
    json_t *c = json_array_get(cases, i), *msgs = json_object_get(c, "messages"), *out;
    al_chat_template t;
    if (al_chat_template_parse(&t, json_string_value(json_object_get(c, "template")), "case", &err)) {
      out = json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
    } else {
      int n = (int)json_array_size(msgs), ns;
      al_chat_msg *m = calloc((size_t)n + 1, sizeof *m);
      for (int k = 0; k < n; k++) {
        json_t *x = json_array_get(msgs, (size_t)k);
        m[k] = (al_chat_msg){json_string_value(json_object_get(x, "role")), json_string_value(json_object_get(x, "content"))};
      }
      size_t len;
      al_chat_span *sp;
      char *text = al_chat_render(&t, m, n, json_is_true(json_object_get(c, "add_generation_prompt")), &len, &sp, &ns);
      json_t *spans = json_array();
      for (int k = 0; k < ns; k++) json_array_append_new(spans, json_pack("[I, I]", (json_int_t)sp[k].start, (json_int_t)sp[k].end));
      out = json_pack("{s:b, s:s%, s:o, s:s}", "ok", 1, "text", text, len, "spans", spans, "stop", t.stop);
      free(text), free(sp), free(m);
      al_chat_template_free(&t);
    }
    char *s = json_dumps(out, JSON_ENSURE_ASCII);
    printf("%s\n", s);
    free(s);
    json_decref(out);
  }
  json_decref(cases);
  return 0;
}

/* Chat templates: how a list of {role, content} messages becomes the text a
 * model reads. A model directory stores its template as Hugging Face does:
 * the Jinja string "chat_template" in tokenizer_config.json, which
 * transformers renders over `messages` and `add_generation_prompt` with
 * trim_blocks and lstrip_blocks on. alab writes its default template there
 * whenever it saves a model with a tokenizer, and reads it back on load; a
 * directory without one (older alab directories, GPT-2's own files) gets the
 * default, said once in the log.
 *
 * alab renders, without a Jinja engine, every template of one shape (read
 * after Jinja's whitespace rules, its {%- -%} markers, comments, quoting and
 * `a + b` concatenation are applied):
 *
 *   [TEXT0] {% for message in messages %} [P] {{ message['role'] }} [M]
 *   {{ message['content'] }} [Q] {% endfor %}
 *   [{% if add_generation_prompt %} [G] {% endif %}]
 *
 * where the bracketed TEXTs are fixed strings, optionally after the common
 * preamble {% if not add_generation_prompt is defined %}{% set
 * add_generation_prompt = false %}{% endif %}. alab's default is
 * P = "<|", M = "|>\n", Q = "\n", G = "<|assistant|>\n"; ChatML is
 * P = "<|im_start|>", M = "\n", Q = "<|im_end|>\n", G = "<|im_start|>assistant\n".
 * Any other template (role conditions, bos_token, raise_exception, filters,
 * loops of another shape) is refused with an error that names what alab
 * could not read, never rendered approximately. */
#ifndef ALAB_CHAT_TEMPLATE_H
#define ALAB_CHAT_TEMPLATE_H
#include <stddef.h>
#include "alab/base.h"

typedef struct { const char *role, *content; } al_chat_msg; /* NULL role: "user"; NULL content: "" */

typedef struct {
  char *jinja;                 /* the template as stored */
  char *text0, *p, *m, *q, *g; /* the fixed strings of the shape above */
  char *stop;                  /* a reply ends here: Q without its whitespace, or Q + P when that is empty */
  int is_default;              /* 1: the directory had no template, alab's default is used */
} al_chat_template;

/* One assistant turn in rendered text: [start, end) holds its content and
 * the Q that ends it (what an SFT loss is taken on). */
typedef struct { size_t start, end; } al_chat_span;

extern const char AL_CHAT_TEMPLATE_DEFAULT[]; /* alab's, as written to tokenizer_config.json */
extern const char AL_CHAT_TEMPLATE_CHATML[];  /* ChatML as Hugging Face model cards give it */

/* Reads a Jinja template; where names it in errors (a path). */
int al_chat_template_parse(al_chat_template *t, const char *jinja, const char *where, al_err *err);
void al_chat_template_default(al_chat_template *t);
/* dir/chat_template.jinja (which transformers lets override the JSON), else
 * dir/tokenizer_config.json's chat_template; the default when neither holds
 * one (logged once); an error for a template alab cannot render. */
int al_chat_template_load(al_chat_template *t, const char *dir, al_err *err);
/* A template from a file holding the Jinja text (--chat-template FILE). */
int al_chat_template_load_file(al_chat_template *t, const char *path, al_err *err);
void al_chat_template_free(al_chat_template *t);

/* The text of n messages (then G when add_generation_prompt), NUL-ended,
 * its length in *len (may be NULL). When spans is not NULL it gets a fresh
 * array of the assistant turns' spans (free()), *nspans of them. */
char *al_chat_render(const al_chat_template *t, const al_chat_msg *msgs, int n, int add_generation_prompt, size_t *len,
                     al_chat_span **spans, int *nspans);

/* Writes dir/tokenizer_config.json (atomically): GPT-2's tokenizer class,
 * bos/eos/unk = special (NULL: omitted), model_max_length, and
 * chat_template = AL_CHAT_TEMPLATE_DEFAULT. */
int al_tokenizer_config_save(const char *dir, const char *special, int model_max_length, al_err *err);
#endif

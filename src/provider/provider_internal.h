/* Shared by the providers: stop strings, the chat prompt, UTF-8. */
#ifndef ALAB_PROVIDER_INTERNAL_H
#define ALAB_PROVIDER_INTERNAL_H
#include "alab/provider.h"

/* Offset of the earliest occurrence of any stop string in text[0..len), or
 * len when none occurs. */
size_t prov_stop_at(const char *text, size_t len, const char *const *stop, int nstop);
/* The prompt p's model reads for a chat: p->chat_template's rendering of
 * msgs with the generation prompt, then prefill
 * (may be NULL), the assistant's partial turn. *stop gets where the reply
 * ends (a string of p's template). */
char *prov_chat_prompt(const al_provider *p, const al_chat_msg *msgs, int n, const char *prefill, const char **stop);
/* Unicode code points in s[0..len) (what OpenAI's text_offset counts). */
long prov_utf8_count(const char *s, size_t len);
al_provider *prov_new(const char *kind, const char *model);
#endif

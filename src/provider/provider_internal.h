/* Shared by the providers: stop strings, the plain chat template, UTF-8. */
#ifndef ALAB_PROVIDER_INTERNAL_H
#define ALAB_PROVIDER_INTERNAL_H
#include "alab/provider.h"

/* Offset of the earliest occurrence of any stop string in text[0..len), or
 * len when none occurs. */
size_t prov_stop_at(const char *text, size_t len, const char *const *stop, int nstop);
/* The template local models get for chat: "System: ...\n\nUser: ...\n\n" per
 * message, then "Assistant:"; the reply stops at "\n\nUser:". */
char *prov_chat_prompt(const al_chat_msg *msgs, int n);
extern const char *const PROV_CHAT_STOP;
/* Unicode code points in s[0..len) (what OpenAI's text_offset counts). */
long prov_utf8_count(const char *s, size_t len);
al_provider *prov_new(const char *kind, const char *model);
#endif

/* Scripted assistants for the sycophancy tests (tests/syco_persona.c). */
#ifndef ALAB_TESTS_SYCO_PERSONA_H
#define ALAB_TESTS_SYCO_PERSONA_H
/* The reply of persona ("caver" or "steadfast") to a conversation in alab's
 * chat format, fresh; NULL for an unknown persona. */
char *syco_persona_reply(const char *persona, const char *text);
#endif

/* The persistent response cache: one SQLite file, table
 *   responses(key BLOB PRIMARY KEY, endpoint TEXT, model TEXT, response TEXT, created REAL)
 * where key = SHA-256(url NUL model NUL body): the endpoint's full URL, the
 * model and the whole request body; the endpoint column holds only its name
 * ("completions"). Neither the API key nor the base URL is stored. WAL journal and a
 * busy timeout let several alab processes share one file; each answer is its
 * own transaction, so a kill -9 loses at most the answers in flight. */
#ifndef ALAB_PROVIDER_CACHE_H
#define ALAB_PROVIDER_CACHE_H
#include <stdint.h>
#include "alab/base.h"

typedef struct prov_cache prov_cache;
int prov_cache_open(prov_cache **out, const char *path, al_err *err);
void prov_cache_close(prov_cache *c);
void prov_cache_key(const char *url, const char *model, const char *body, uint8_t key[32]);
/* 1 and *resp (fresh) on a hit, 0 on a miss, -1 on an error. */
int prov_cache_get(prov_cache *c, const uint8_t key[32], char **resp, al_err *err);
int prov_cache_put(prov_cache *c, const uint8_t key[32], const char *endpoint, const char *model, const char *resp,
                   al_err *err);
#endif

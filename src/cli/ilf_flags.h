/* Flags shared by the `alab ilf` subcommands (cmd_ilf_eval.c, cmd_ilf_sum.c,
 * cmd_ilf_code.c). */
#ifndef ALAB_CLI_ILF_FLAGS_H
#define ALAB_CLI_ILF_FLAGS_H
#include "alab/code.h"
#include "alab/provider.h"

/* The endpoint settings every role shares, as flag_def rows. */
typedef struct {
  const char *api_model, *api_key, *cache;
  char cache_path[4096];
} ilf_endpoint_flags;
#define ILF_ENDPOINT_FLAGS(ef, http)                                                                                   \
  {"api-model", FLAG_STRING, &(ef).api_model, "model name at the endpoints (default: env ALAB_MODEL)"},                \
      {"api-key", FLAG_STRING, &(ef).api_key, "API key (default: env ALAB_API_KEY; never printed, logged or saved)"},  \
      {"api-concurrency", FLAG_INT, &(http).concurrency, "HTTP requests in flight at once", "[1, 1024]"},             \
      {"cache", FLAG_STRING, &(ef).cache, "response cache (SQLite) file, or off (default: OUT/responses.sqlite)"}
/* http gets --api-model, --api-key and the cache (OUT/responses.sqlite unless --cache). */
void ilf_endpoint_apply(ilf_endpoint_flags *ef, const char *out, al_http_cfg *http);
/* --k: up to 4 comma-separated k in [1, e->samples] into e->ks; -1 after
 * printing what is wrong (me names the command). */
int ilf_parse_ks(const char *me, const char *ks, al_code_eval_cfg *e);
#endif

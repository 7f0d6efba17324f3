/* `alab serve`: an OpenAI-compatible HTTP server over one model directory.
 *
 * Endpoints: GET /health, GET /v1/models, POST /v1/completions,
 * POST /v1/chat/completions, GET /tokenizer_info, POST /tokenize,
 * POST /detokenize (the vLLM-style tokenizer endpoints that
 * lm-evaluation-harness probes). Requests are served by a fixed pool of
 * workers (one KV-cache decoder each, sharing the read-only model) fed by a
 * bounded queue; a full queue answers 503 with Retry-After. Connections
 * first wait in one accept loop that holds no thread until their request
 * head has arrived (a slow head gets 408), with limits per client address and
 * on connections served at once (503 with Retry-After beyond). Every error is
 * an OpenAI-style JSON body {"error": {"message", "type", "param", "code"}}.
 *
 * Determinism: a request's result depends only on the request (its seed, or
 * a fresh seed when it gives none), never on which worker ran it or on what
 * else was running: prompts are always fed in the same fixed chunks and each
 * choice i samples from al_rng_seed_stream(seed, i). */
#ifndef ALAB_SERVE_H
#define ALAB_SERVE_H
#include "alab/base.h"

typedef struct {
  const char *model_dir; /* a model directory (config.json, model.safetensors, tokenizer files), or a llama2.c model.bin */
  const char *model_id;  /* the id clients name; NULL = the directory's base name */
  const char *chat_template; /* a file holding a Jinja chat template; NULL: the directory's (alab/chat_template.h) */
  const char *host;      /* address to bind; "127.0.0.1" unless told otherwise */
  int port;              /* 0 = an ephemeral port (al_server_port says which) */
  const char *api_key;   /* non-NULL (and not empty): every endpoint but /health needs "Authorization: Bearer KEY" */
  int workers;           /* worker threads */
  int threads;           /* OpenMP threads of each worker (1: no barriers to wait on under load) */
  int batch;             /* sequences a worker steps together, 1..8 (one KV cache each) */
  int queue;             /* requests waiting beyond the running ones before 503 */
  long max_body;         /* bytes; larger bodies get 413 */
  int max_prompt_tokens; /* longer prompts get 400 */
  int max_tokens;        /* largest max_tokens a request may ask for */
  int timeout_s;         /* idle connection timeout (slow clients are dropped) */
  int request_timeout_s; /* a request's head and body must arrive within this many seconds */
  int max_connections;   /* connections served at once (each has a thread); more get 503 */
  int max_connections_per_ip; /* connections (waiting or served) of one client address */
  const char *tokenizer; /* NULL: the model's; else a directory, tokenizer.json or llama2.c tokenizer.bin (al_model_load_tok) */
  int precision;         /* NN_FP32 (0), or NN_BF16 (alab/nn.h): every worker and /classify compute with a bf16 copy
                          * of the weights (one copy each: 2 bytes per parameter per worker, plus one for a reward
                          * model's /classify); al_server_start fails where bf16 is not available */
} al_serve_cfg;

void al_serve_defaults(al_serve_cfg *c);

typedef struct al_server al_server;
/* Loads the model and tokenizer, starts the workers and the HTTP daemon. */
int al_server_start(al_server **out, const al_serve_cfg *c, al_err *err);
int al_server_port(const al_server *s);
/* Stops accepting, lets running requests finish, frees everything. */
void al_server_stop(al_server *s);
/* Starts, prints "alab serve: listening on http://HOST:PORT" to stdout, and
 * serves until SIGINT or SIGTERM. */
int al_serve_run(const al_serve_cfg *c, al_err *err);
#endif

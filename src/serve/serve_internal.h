/* Internals of `alab serve` shared by its files:
 *   request.c  parses and validates request bodies into sv_request
 *   choice.c   builds one choice's text and log-probs, cuts stop strings,
 *              decides what may be streamed (whole UTF-8 characters that
 *              cannot be the start of a stop string)
 *   respond.c  every JSON body the server sends
 *   worker.c   the bounded queue and the worker pool that runs sequences
 *   gate.c     the accept loop: request heads, per-address and overload
 *              limits, slow clients, before libmicrohttpd sees a connection
 *   http.c     libmicrohttpd glue: routing, auth, limits, SSE */
#ifndef ALAB_SERVE_INTERNAL_H
#define ALAB_SERVE_INTERNAL_H
#include <jansson.h>
#include <pthread.h>
#include <sys/socket.h>
#include "alab/chat_template.h"
#include "alab/model.h"
#include "alab/nn.h"
#include "alab/serve.h"
#include "alab/tok.h"

#define SV_MAX_TOP 20     /* largest top-k of log-probs (completions allow 5, chat 20) */
#define SV_MAX_STOP 8     /* stop strings per request */
#define SV_MAX_STOP_LEN 256
#define SV_MAX_CHOICES 128 /* prompts x n per request */
#define SV_BATCH AL_DECODER_STEP_MAX /* most sequences a worker steps together */
#define SV_MAX_DEPTH 32   /* nesting of a request body */
#define SV_MAX_RETURN 16384 /* tokens one response may return (echoed + generated, all choices): ~4 MB of JSON */

/* An error to send: HTTP status and the OpenAI error object. */
typedef struct {
  int status;
  const char *type, *code, *param;
  char msg[512];
} sv_error;
/* Fills e (type from the status) and returns -1. */
int sv_fail(sv_error *e, int status, const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The served model, read-only once loaded and shared by every thread. */
typedef struct {
  al_model model;
  al_tok *tok;
  char *id;       /* what clients call it */
  int vocab;      /* ids a prompt may use and sampling draws from: min(model, tokenizer) */
  int eot;        /* <|endoftext|> id or -1 */
  long long created;
  al_chat_template chat; /* the directory's chat template (or --chat-template's) */
  pthread_mutex_t score_mu; /* /classify runs the model's forward (its activations): one at a time */
  int precision;            /* NN_FP32 or NN_BF16: the workers and /classify each hold a bf16 context */
  nn_bf16 *score_bf;        /* bf16: /classify's context (a reward model only), used under score_mu */
} sv_model;
/* Takes ownership of tok; model params must outlive the sv_model. */
void sv_model_free(sv_model *m);

typedef enum { SV_COMPLETION, SV_CHAT } sv_kind;

typedef struct {
  int max_prompt_tokens, max_tokens;
} sv_limits;

typedef struct {
  sv_kind kind;
  int nprompts;
  int32_t **prompts;
  int *prompt_len;
  int max_tokens;
  al_sample_cfg sample;
  uint64_t seed;
  int n, echo;
  int logprobs; /* -1: none; else top-k per token (0: only the chosen token) */
  int stream, include_usage;
  long truncated; /* prompt tokens dropped from the left to fit the context */
  int nstop;
  char *stop[SV_MAX_STOP];
  size_t stop_len[SV_MAX_STOP];
} sv_request;

/* JSON values a request body may hold before it is parsed: enough for
 * SV_MAX_CHOICES prompts of a full context as token ids. */
static inline long sv_max_values(const sv_model *m) { return (long)SV_MAX_CHOICES * m->model.cfg.n_positions + 4096; }

/* Parses a /v1/completions or /v1/chat/completions body. A request without a
 * seed gets `fresh_seed`. Fills e (4xx) on any problem. */
int sv_parse_request(const char *body, size_t len, sv_kind kind, const sv_model *m, const sv_limits *lim,
                     uint64_t fresh_seed, sv_request *r, sv_error *e);
void sv_request_free(sv_request *r);
/* POST /tokenize {"prompt": str, "add_special_tokens": bool} and
 * POST /detokenize {"tokens": [int]}: the answers as JSON. */
int sv_tokenize(const char *body, size_t len, const sv_model *m, json_t **out, sv_error *e);
/* POST /classify, /v1/classify on a reward model (src/serve/classify.c). */
int sv_classify(const char *body, size_t len, sv_model *m, json_t **out, sv_error *e);
/* request.c's field checks, for the other endpoints' files */
int sv_parse_body(const char *body, size_t len, long max_values, json_t **root, sv_error *e);
int sv_check_model(const json_t *root, const sv_model *m, sv_error *e);
int sv_opt_bool(const json_t *o, const char *k, int *out, sv_error *e);
int sv_encode(const sv_model *m, const char *s, size_t len, int allow_special, int32_t **ids, int *n, const char *param,
              sv_error *e);
int sv_detokenize(const char *body, size_t len, const sv_model *m, json_t **out, sv_error *e);

/* One choice: the text (echoed prompt + generated), its tokens and their
 * log-probs; `off` is each token's byte offset in text. */
typedef struct {
  int index;
  al_buf text;
  size_t gen_start;   /* byte where generated text starts (stop strings apply after it) */
  int ntok, cap, k;   /* k: top entries kept per token (-1: no log-probs) */
  int32_t *ids;
  float *lp;          /* NAN for the first echoed token */
  size_t *off;
  int32_t *top_id;    /* cap * k */
  float *top_lp;
  int generated;      /* tokens sampled (usage.completion_tokens) */
  size_t sent_bytes;  /* streamed so far */
  int sent_tok, role_sent, finish_sent;
  const char *finish; /* NULL while running, then "stop" or "length" */
} sv_choice;

void sv_choice_init(sv_choice *c, int index, int k);
void sv_choice_free(sv_choice *c);
/* Appends one token (its bytes from the tokenizer); top may be NULL when k <= 0. */
void sv_choice_add(sv_choice *c, const sv_model *m, int32_t id, float lp, const int32_t *top_id, const float *top_lp);
/* Looks for a stop string in the generated text; if one is found, cuts the
 * text (and the tokens that start after the cut) and sets finish "stop".
 * Returns 1 if it stopped. */
int sv_choice_check_stop(sv_choice *c, const sv_request *r);
/* How many bytes / tokens may be sent now: everything once finished, else
 * all but a tail that could still begin a stop string or an unfinished
 * UTF-8 character. */
void sv_choice_releasable(const sv_choice *c, const sv_request *r, size_t *bytes, int *toks);
/* Valid UTF-8 for JSON: invalid bytes become U+FFFD. */
json_t *sv_json_text(const char *s, size_t n);
/* A token as a JSON string: its text if valid UTF-8, else "bytes:\xNN..". */
json_t *sv_json_token(const sv_model *m, int32_t id);
/* Character (code point) offsets of byte offsets off[0..n) (ascending) in s. */
void sv_char_offsets(const char *s, size_t len, const size_t *off, int n, long *out);

/* A request in flight, shared by the connection thread and the workers. */
typedef struct sv_job {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  sv_request req;
  const sv_model *m;
  char id[48];
  long long created;
  int nchoices, next_choice, nfinished;
  sv_choice *choices;
  int done, cancelled, failed;
  sv_error err;
  al_buf sse; /* streamed bytes not yet written to the client start at sse_sent */
  size_t sse_sent;
  struct sv_job *next;
} sv_job;

sv_job *sv_job_new(const sv_model *m, sv_request *req); /* takes req; refs = 1 */
void sv_job_unref(sv_job *j);

typedef struct sv_worker sv_worker;
typedef struct {
  const sv_model *m;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sv_job *head, *tail;
  int queued, cap, stopping;
  int nworkers, started, batch;
  sv_worker *workers;
} sv_pool;

/* Workers, their OpenMP threads, batch and queue size from the config. */
int sv_pool_start(sv_pool *p, const sv_model *m, const al_serve_cfg *c, al_err *err);
/* Queues a job (taking a reference); -1 when the queue is full. */
int sv_pool_submit(sv_pool *p, sv_job *j);
void sv_pool_stop(sv_pool *p);

/* ---- the gate (gate.c) ---- */
typedef struct {
  int max_active;           /* connections handed over at once (--max-connections) */
  int max_per_ip;           /* waiting + handed-over connections of one address */
  double request_timeout_s; /* from connecting to a complete request head */
  long max_body;            /* a larger Content-Length gets 413 */
  /* hands a connection with a checked head over; 0 if taken (else it is closed) */
  int (*handoff)(void *ctx, int fd, const struct sockaddr *addr, socklen_t len);
  void *ctx;
} sv_gate_cfg;
typedef struct sv_gate sv_gate;
/* Starts the accept thread on a listening socket (which it does not own). */
int sv_gate_start(sv_gate **g, int listen_fd, const sv_gate_cfg *c, al_err *err);
/* Checks a complete request head (NUL-terminated, ending in "\r\n\r\n"):
 * the request line, HTTP/1.0 or 1.1, "Name: value" lines, Host for 1.1, one
 * numeric Content-Length within max_body and not with Transfer-Encoding, which
 * may only be "chunked".
 * Returns 0, or the HTTP status (400, 413, 505) with the reason in msg[0..200). */
int sv_check_head(const char *head, size_t len, long max_body, char *msg);
/* Appends e as a whole HTTP response (status line, headers, JSON body, and
 * Retry-After for a 503), for answers written to a socket directly. */
void sv_raw_error(al_buf *b, const sv_error *e);
/* A handed-over connection from addr has closed. */
void sv_gate_closed(sv_gate *g, const struct sockaddr *addr);
/* Stops accepting (waiting connections are closed); handed-over ones may
 * still report closes until sv_gate_free. */
void sv_gate_stop(sv_gate *g);
void sv_gate_free(sv_gate *g);

/* ---- JSON bodies (respond.c) ---- */
json_t *sv_error_json(const sv_error *e);
json_t *sv_models_json(const sv_model *m);
json_t *sv_model_json(const sv_model *m);
json_t *sv_tokenizer_info_json(const sv_model *m);
/* The whole response of a finished (non-streamed) job. */
json_t *sv_response_json(const sv_job *j);
/* Appends to j->sse the events for what choice c may release now (caller
 * holds j->mu); after the last choice, the usage chunk and [DONE]. */
void sv_stream_choice(sv_job *j, sv_choice *c);
void sv_stream_finish(sv_job *j);
/* Appends "data: JSON\n\n". */
void sv_sse_event(al_buf *b, json_t *obj);
#endif

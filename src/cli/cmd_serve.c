/* alab serve: an OpenAI-compatible HTTP server over a model directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "alab/serve.h"
#include "cli/flags.h"
#include "cli/model_io.h"

int cmd_serve(int argc, char **argv) {
  al_serve_cfg c;
  al_serve_defaults(&c);
  int64_t max_body = c.max_body;
  const char *key_file = NULL, *precision = "fp32";
  const flag_def flags[] = {
      {"model", FLAG_STRING, &c.model_dir, "model directory to serve (config.json, model.safetensors, tokenizer files), or a llama2.c checkpoint file (model.bin)"},
      CLI_FLAG_TOKENIZER(c.tokenizer),
      {"model-id", FLAG_STRING, &c.model_id, "the model id clients send (default: the directory's name)"},
      {"chat-template", FLAG_STRING, &c.chat_template,
       "a file holding the chat template (Jinja; default: the model directory's tokenizer_config.json, else alab's)"},
      {"host", FLAG_STRING, &c.host, "address to listen on (loopback unless told otherwise)"},
      {"port", FLAG_INT, &c.port, "port to listen on (0: any free port, printed at start)", "[0, 65535]"},
      {"api-key", FLAG_STRING, &c.api_key,
       "require 'Authorization: Bearer KEY' on every endpoint but /health (visible in ps: prefer --api-key-file or env "
       "ALAB_SERVE_API_KEY)"},
      {"api-key-file", FLAG_STRING, &key_file, "read the API key from this file's first line"},
      {"workers", FLAG_INT, &c.workers, "worker threads (default: the cores, at most 8)"},
      {"threads", FLAG_INT, &c.threads, "OpenMP threads per worker"},
      {"batch", FLAG_INT, &c.batch, "sequences a worker decodes together, 1..8 (each holds a KV cache)"},
      {"queue", FLAG_INT, &c.queue, "requests that may wait for a worker; more get 503"},
      {"max-body", FLAG_I64, &max_body, "largest request body in bytes (413 beyond)"},
      {"max-prompt-tokens", FLAG_INT, &c.max_prompt_tokens, "longest prompt in tokens (400 beyond)"},
      {"max-tokens", FLAG_INT, &c.max_tokens, "largest max_tokens a request may ask for"},
      {"timeout", FLAG_INT, &c.timeout_s, "seconds a connection may send nothing while its body is read"},
      {"request-timeout", FLAG_INT, &c.request_timeout_s,
       "seconds a client has to send a request's head (from connecting) and then its body (408 beyond)"},
      {"max-connections", FLAG_INT, &c.max_connections, "requests served at once (one thread each); more get 503 with Retry-After"},
      {"max-connections-per-ip", FLAG_INT, &c.max_connections_per_ip,
       "connections one client address may hold, waiting or served (503 beyond)"},
      {"precision", FLAG_STRING, &precision,
       "fp32, or bf16: the weight matrices read as bf16 (rounded to nearest even; embedding rows stay fp32) for "
       "everything the server computes: generation, echo log-probs and /classify. Each worker holds its own copy (2 "
       "bytes per parameter per worker). Generated tokens, a prompt's last token and prompt chunks of up to 8 tokens "
       "keep fp32 activations; larger prompt chunks (up to 64 tokens) go through oneDNN's bf16 products, activations "
       "rounded to bf16; the same numbers as alab sample --precision bf16. Needs oneDNN and a CPU with AVX-512 BF16 "
       "(refused at start otherwise)"},
  };
  const flag_cmd cmd = {"alab serve --model DIR [flags]",
                        "Serves a model over an OpenAI-compatible HTTP API: /v1/completions (echo and log-probs, for "
                        "lm-evaluation-harness's local-completions), /v1/chat/completions, /v1/models, /health, and the "
                        "tokenizer endpoints /tokenizer_info, /tokenize, /detokenize. Stops on Ctrl-C or SIGTERM.",
                        flags, (int)(sizeof flags / sizeof flags[0])};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  if (!c.model_dir) {
    fprintf(stderr, "alab serve: --model DIR is required (see --help)\n");
    return 2;
  }
  if (max_body < 1 || max_body > (int64_t)1 << 40) {
    fprintf(stderr, "alab serve: --max-body must be between 1 and 2^40\n");
    return 2;
  }
  c.max_body = (long)max_body;
  if ((c.precision = nn_precision_parse(precision)) < 0) {
    fprintf(stderr, "alab serve: --precision '%s' is not fp32 or bf16\n", precision);
    return 2;
  }
  al_err err;
  char *key = NULL; /* the key: --api-key, else --api-key-file, else ALAB_SERVE_API_KEY */
  if (!c.api_key && key_file) {
    if (al_read_file(key_file, &key, NULL, &err)) {
      fprintf(stderr, "alab serve: --api-key-file: %s\n", err.msg);
      return 2;
    }
    key[strcspn(key, "\r\n")] = 0;
    c.api_key = key;
  }
  if (!c.api_key) c.api_key = getenv("ALAB_SERVE_API_KEY");
  if (c.api_key && !c.api_key[0]) {
    fprintf(stderr, "alab serve: the API key is empty (%s); give a key, or none for an open server\n",
            key ? key_file : getenv("ALAB_SERVE_API_KEY") == c.api_key ? "ALAB_SERVE_API_KEY" : "--api-key");
    free(key);
    return 2;
  }
  int rc2 = al_serve_run(&c, &err);
  if (key) memset(key, 0, strlen(key));
  free(key);
  if (rc2) {
    fprintf(stderr, "alab: %s\n", err.msg);
    return 1;
  }
  return 0;
}

/* The check that `alab serve` scores a text as the library does: an echo +
 * logprobs completion of the prompt (a real HTTP client, curl) against
 * per-token log-probs computed in process. */
#ifndef ALAB_TEST_SERVE_ECHO_H
#define ALAB_TEST_SERVE_ECHO_H
#include <jansson.h>
#include <signal.h>
#include "alab/model.h"
#include "alab/tok.h"
#include "serve_proc.h"
#include "test.h"

/* Starts `alab serve --model model`, asks for model_name's echo of prompt
 * (no quotes in it), and checks that its token_logprobs are the decoder's
 * per-token log-probs of the prompt encoded as a whole text (the tokenizer's
 * BOS first, as the server encodes a prompt) within 1e-5; what names the
 * check. */
static void check_serve_echo(const char *model, const char *model_name, const char *prompt, const al_tok *tok,
                             al_decoder *d, const char *what) {
  al_err err;
  int32_t *ids = NULL;
  size_t n = 0, cap = 0;
  al_tok_encode_start(tok, prompt, strlen(prompt), 1, &ids, &n, &cap, &err);
  float *lp = al_alloc_floats(n);
  CHECK_OK(al_sequence_logprobs(d, ids, (int)n, lp, NULL, 0, NULL, NULL, &err), err);
  int port = 0;
  char cmd[4096], *out = NULL;
  pid_t srv = start_server(model, &port);
  CHECK(port > 0, "%s: alab serve starts", what);
  snprintf(cmd, sizeof cmd, "curl -s localhost:%d/v1/completions -H 'Content-Type: application/json' -d "
           "'{\"model\":\"%s\",\"prompt\":\"%s\",\"max_tokens\":0,\"echo\":true,\"logprobs\":1}'", port, model_name, prompt);
  int rc = port > 0 ? test_sh(cmd, &out) : -1;
  json_t *j = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
  const json_t *tl = json_object_get(json_object_get(json_array_get(json_object_get(j, "choices"), 0), "logprobs"),
                                     "token_logprobs");
  int agree = tl && json_array_size(tl) == n;
  for (size_t i = 1; agree && i < n; i++) agree = fabs(json_number_value(json_array_get(tl, i)) - lp[i]) <= 1e-5;
  CHECK(agree, "%s: alab serve's token_logprobs are the library's over %zu tokens: %s", what, n, out ? out : "(no answer)");
  if (srv > 0) kill(srv, SIGTERM), waitpid(srv, NULL, 0);
  json_decref(j);
  if (rc == 0) free(out);
  free(ids), free(lp);
}
#endif

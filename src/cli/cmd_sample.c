/* alab sample: generate text from a model directory with the KV cache. */
#include <stdlib.h>
#include <string.h>
#include "alab/nn.h"
#include "cli/flags.h"
#include "cli/model_io.h"

typedef struct { const al_tok *tok; } print_ctx;

static int print_token(void *p, int32_t t) {
  print_ctx *c = p;
  size_t n;
  const char *s = al_tok_token(c->tok, t, &n);
  if (t != al_tok_eot(c->tok) && s) fwrite(s, 1, n, stdout);
  fflush(stdout);
  return 0;
}

int cmd_sample(int argc, char **argv) {
  const char *model = "runs/train", *tokenizer = NULL, *prompt = "<|endoftext|>";
  int ntok = 200, nsamples = 1, top_k = 0, threads = 0, stop_eot = 1;
  double temperature = 1.0, top_p = 1.0;
  int64_t seed = 1;
  const char *precision = "fp32";
  flag_def f[] = {
      CLI_FLAG_MODEL(model),
      CLI_FLAG_TOKENIZER(tokenizer),
      {"prompt", FLAG_STRING, &prompt, "prompt text (<|endoftext|> is the special token)"},
      {"tokens", FLAG_INT, &ntok, "maximum new tokens per sample", "[1, inf)"},
      {"samples", FLAG_INT, &nsamples, "number of samples", "[1, inf)"},
      {"temperature", FLAG_DOUBLE, &temperature, "sampling temperature (0: greedy)", "[0, inf)"},
      {"top-k", FLAG_INT, &top_k, "keep the k most likely tokens (0: off)", "[0, inf)"},
      {"top-p", FLAG_DOUBLE, &top_p, "nucleus sampling mass (1: off)", "(0, 1]"},
      {"stop-at-eot", FLAG_BOOL, &stop_eot, "stop a sample at <|endoftext|>"},
      {"seed", FLAG_I64, &seed, "sampling seed"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"precision", FLAG_STRING, &precision, FLAG_PRECISION_HELP},
  };
  flag_cmd cmd = {"alab sample [flags]", "Generates text from a model directory, printing it as it is produced.", f,
                  sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  int prec = nn_precision_parse(precision);
  if (prec < 0) {
    fprintf(stderr, "alab sample: --precision '%s' is not fp32 or bf16\n", precision);
    return 2;
  }
  al_set_threads(threads);
  al_err err;
  al_model m;
  al_tok *tok;
  if (cli_load_model_tok(model, tokenizer, &m, &tok, &err)) {
    fprintf(stderr, "alab sample: %s\n", err.msg);
    return 1;
  }
  int32_t *ids = NULL, *out = al_malloc((size_t)ntok * sizeof(int32_t));
  int np = 0;
  int rc = 0;
  if (cli_encode_start(tok, prompt, &ids, &np, &err) || np < 1) {
    fprintf(stderr, "alab sample: %s\n", np < 1 ? "the prompt is empty" : err.msg);
    rc = 1;
  }
  nn_bf16 *bf = NULL; /* bf16: the decoder reads a bf16 copy of the weights */
  if (!rc && prec == NN_BF16 && !(bf = nn_bf16_new(m.params, m.nparams, err.msg, sizeof err.msg))) {
    fprintf(stderr, "alab sample: %s\n", err.msg);
    rc = 1;
  }
  nn_bf16 *prev_bf = nn_bf16_use(bf);
  al_decoder *d = al_decoder_new(&m);
  al_sample_cfg sc = {(float)temperature, (float)top_p, top_k};
  print_ctx pc = {tok};
  double t0 = al_now();
  long produced = 0;
  for (int s = 0; s < nsamples && !rc; s++) {
    al_rng rng;
    al_rng_seed_stream(&rng, (uint64_t)seed, (uint64_t)s);
    if (strcmp(prompt, "<|endoftext|>")) fputs(prompt, stdout);
    int got = al_generate(d, ids, np, ntok, &sc, &rng, stop_eot ? al_tok_eot(tok) : -1, out, print_token, &pc, &err);
    if (got < 0) {
      fprintf(stderr, "alab sample: %s\n", err.msg);
      rc = 1;
    }
    produced += got > 0 ? got : 0;
    fputs(nsamples > 1 ? "\n---\n" : "\n", stdout);
  }
  double dt = al_now() - t0;
  if (!rc) al_log("%ld tokens in %.2f s (%.1f tokens/s)", produced, dt, dt > 0 ? produced / dt : 0);
  al_decoder_free(d);
  nn_bf16_use(prev_bf);
  nn_bf16_free(bf);
  free(ids);
  free(out);
  al_tok_free(tok);
  al_model_free(&m);
  return rc;
}

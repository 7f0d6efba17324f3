/* alab score: log-probabilities of continuations given prompts, or of every
 * token of a text. Output is JSON lines, one per scored item. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "cli/flags.h"
#include "cli/model_io.h"

/* {"prompt", "continuation", "logprob", "per_token": [...], "is_greedy", "tokens"} */
static int score_pair(al_decoder *d, const al_tok *tok, const char *prompt, const char *cont, al_err *err) {
  int32_t *p = NULL, *c = NULL;
  int np = 0, nc = 0, rc = -1;
  if (cli_encode_start(tok, prompt, &p, &np, err) || cli_encode(tok, cont, &c, &nc, err)) goto out;
  if (np < 1 || nc < 1) {
    al_fail(err, "prompt and continuation must each encode to at least one token");
    goto out;
  }
  float *per = al_malloc((size_t)nc * sizeof(float));
  double sum;
  int greedy;
  if (!al_score_continuation(d, p, np, c, nc, &sum, per, &greedy, err)) {
    json_t *pt = json_array();
    for (int i = 0; i < nc; i++) json_array_append_new(pt, al_json_real_or_null(per[i]));
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:b, s:i}", "prompt", prompt, "continuation", cont, "logprob",
                          al_json_real_or_null(sum), "per_token", pt, "is_greedy", greedy, "continuation_tokens", nc);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    puts(s);
    free(s);
    json_decref(o);
    rc = 0;
  }
  free(per);
out:
  free(p);
  free(c);
  return rc;
}

/* {"text", "tokens": [...], "token_logprobs": [null, ...], "logprob"} */
static int score_text(al_decoder *d, const al_tok *tok, const char *text, al_err *err) {
  int32_t *ids = NULL;
  int n = 0;
  if (cli_encode_start(tok, text, &ids, &n, err)) return -1;
  float *lp = al_malloc((size_t)(n ? n : 1) * sizeof(float));
  int rc = al_sequence_logprobs(d, ids, n, lp, NULL, 0, NULL, NULL, err);
  if (!rc) {
    json_t *tk = json_array(), *lps = json_array();
    double sum = 0;
    for (int i = 0; i < n; i++) {
      json_array_append_new(tk, json_integer(ids[i]));
      json_array_append_new(lps, i ? al_json_real_or_null(lp[i]) : json_null());
      if (i) sum += lp[i];
    }
    json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "text", text, "tokens", tk, "token_logprobs", lps, "logprob",
                          al_json_real_or_null(sum));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    puts(s);
    free(s);
    json_decref(o);
  }
  free(lp);
  free(ids);
  return rc;
}

static int score_file(al_decoder *d, const al_tok *tok, const char *path, al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return -1;
  int rc = 0, lineno = 0;
  for (char *line = data, *end; !rc && line < data + len; line = end + 1) {
    end = memchr(line, '\n', data + len - line);
    if (!end) end = data + len;
    lineno++;
    if (end == line) continue;
    char where[512];
    snprintf(where, sizeof where, "%s line %d", path, lineno);
    json_t *j;
    const char *p, *c;
    if (al_json_parse(line, end - line, where, &j, err)) return free(data), -1;
    if (al_json_get_string(j, "prompt", &p, where, err) || al_json_get_string(j, "continuation", &c, where, err)) rc = -1;
    else if (score_pair(d, tok, p, c, err)) rc = al_fail_prefix(err, "%s", where);
    json_decref(j);
  }
  free(data);
  return rc;
}

int cmd_score(int argc, char **argv) {
  const char *model = "runs/train", *tokenizer = NULL, *prompt = NULL, *cont = NULL, *text = NULL, *input = NULL;
  int threads = 0;
  flag_def f[] = {
      CLI_FLAG_MODEL(model),
      CLI_FLAG_TOKENIZER(tokenizer),
      {"prompt", FLAG_STRING, &prompt, "prompt text (with --continuation)"},
      {"continuation", FLAG_STRING, &cont, "continuation whose log-probability given the prompt is printed"},
      {"input", FLAG_STRING, &input, "JSONL file of {\"prompt\", \"continuation\"} lines"},
      {"text", FLAG_STRING, &text, "score every token of this text (like an echo request)"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
  };
  flag_cmd cmd = {"alab score [flags]",
                  "Prints, as JSON lines, the log-probability of each continuation given its prompt (sum, per token, "
                  "and whether it is the greedy continuation), or the per-token log-probabilities of a text.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  int modes = (prompt || cont) + (input != NULL) + (text != NULL);
  if (modes != 1 || (!input && !text && (!prompt || !cont))) {
    fprintf(stderr, "alab score: give exactly one of --prompt with --continuation, --input FILE, or --text\n");
    return 2;
  }
  al_set_threads(threads);
  al_err err;
  al_model m;
  al_tok *tok;
  if (cli_load_model_tok(model, tokenizer, &m, &tok, &err)) {
    fprintf(stderr, "alab score: %s\n", err.msg);
    return 1;
  }
  al_decoder *d = al_decoder_new(&m);
  int rc = text ? score_text(d, tok, text, &err) : input ? score_file(d, tok, input, &err) : score_pair(d, tok, prompt, cont, &err);
  if (rc) fprintf(stderr, "alab score: %s\n", err.msg);
  al_decoder_free(d);
  al_tok_free(tok);
  al_model_free(&m);
  return rc ? 1 : 0;
}

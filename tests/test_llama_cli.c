/* `alab train --arch llama` end to end: a small Llama trained on the story
 * world writes a LlamaForCausalLM directory whose held-out loss fell below
 * the uniform ln(V); `alab score` on it prints exactly the log-probability
 * the library computes from the loaded directory; `alab sample` runs on it;
 * `alab serve` on it answers an echo + logprobs completion (a real HTTP
 * client, curl) with the library's per-token log-probs;
 * `alab rm train --init` makes a LlamaForSequenceClassification of it;
 * an unknown --arch is a usage error (exit 2) naming the known ones. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/model.h"
#include "alab/tok.h"
#include "test.h"
#include "serve_echo.h"
#include <signal.h>

int main(void) {
  al_err err;
  const char *bin = getenv("ALAB_BIN");
  char *dir = test_tmpdir("llama_cli"), *mdir = al_path_join(dir, "m"), cmd[8192], *out = NULL;
  snprintf(cmd, sizeof cmd,
           "'%s' train --arch llama --data story:400 --tokenizer byte --layers 2 --heads 2 --embd 32 --context 64 "
           "--seq-len 32 --batch 4 --steps 40 --lr 0.01 --eval-every 40 --threads 1 --quiet --out '%s' 2>&1",
           bin, mdir);
  int rc = test_sh(cmd, &out);
  CHECK(rc == 0, "train --arch llama: rc %d: %s", rc, out);
  double val = NAN;
  const char *v = out ? strstr(out, "val loss ") : NULL;
  if (v) val = strtod(v + 9, NULL);
  CHECK(val < log(257.0) - 0.5, "held-out loss %.3f is below ln(257) = %.3f by 0.5", val, log(257.0));
  free(out);
  al_model m;
  al_tok *tok = NULL;
  CHECK_OK(al_model_load_dir_tok(&m, &tok, mdir, &err), err);
  if (!err.msg[0]) {
    CHECK(!strcmp(m.cfg.arch, "llama") && al_model_tensor(&m, "lm_head.weight"), "a Llama with its own head");
    int32_t *p = NULL, *c = NULL;
    size_t np = 0, cp = 0, nc = 0, cc = 0;
    al_tok_encode(tok, "Lily had a red", 14, 0, &p, &np, &cp, &err);
    al_tok_encode(tok, " ball", 5, 0, &c, &nc, &cc, &err);
    al_decoder *d = al_decoder_new(&m);
    double sum = 0;
    int greedy = 0;
    CHECK_OK(al_score_continuation(d, p, (int)np, c, (int)nc, &sum, NULL, &greedy, &err), err);
    snprintf(cmd, sizeof cmd, "'%s' score --model '%s' --prompt 'Lily had a red' --continuation ' ball' --threads 1", bin,
             mdir);
    rc = test_sh(cmd, &out);
    json_t *j = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
    CHECK(j && fabs(json_number_value(json_object_get(j, "logprob")) - sum) <= 1e-6 * fabs(sum),
          "alab score prints the library's log-prob %.8f: %s", sum, out);
    json_decref(j);
    free(out);
    /* the server's per-token log-probs of the whole text (echo) against the library's */
    check_serve_echo(mdir, "m", "Lily had a red ball", tok, d, "Llama directory");
    al_decoder_free(d);
    free(p), free(c);
    al_tok_free(tok);
    al_model_free(&m);
  }
  snprintf(cmd, sizeof cmd, "'%s' sample --model '%s' --prompt 'Once upon a time' --tokens 20 --threads 1 2>/dev/null", bin, mdir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0 && out && strlen(out) > 16, "alab sample on a Llama directory: rc %d", rc);
  free(out);
  /* a reward model from the Llama: its trunk, no LM head, a score head (LlamaForSequenceClassification) */
  char *prefs = al_path_join(dir, "prefs.jsonl");
  const char *pairs = "{\"prompt\":\"Tom\",\"chosen\":\" was happy.\",\"rejected\":\" was sad.\"}\n"
                      "{\"prompt\":\"Lily\",\"chosen\":\" ran fast.\",\"rejected\":\" ran slow.\"}\n";
  CHECK_OK(al_write_file_atomic(prefs, pairs, strlen(pairs), &err), err);
  snprintf(cmd, sizeof cmd, "'%s' rm train --data '%s' --init '%s' --out '%s/rm' --steps 2 --seq-len 32 --val-frac 0 "
           "--threads 1 --quiet 2>&1", bin, prefs, mdir, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "rm train --init a Llama: rc %d: %s", rc, out);
  free(out);
  char *rmdir = al_path_join(dir, "rm");
  al_model rm;
  CHECK_OK(al_model_load_dir(&rm, rmdir, &err), err);
  if (!err.msg[0]) {
    CHECK(rm.cfg.scalar_head && rm.score && !al_model_tensor(&rm, "lm_head.weight") &&
              al_model_tensor(&rm, "model.layers.1.mlp.down_proj.weight"),
          "the reward model is a Llama trunk with a score head and no LM head");
    al_model_free(&rm);
  }
  free(rmdir), free(prefs);
  /* grouped-query attention and a tied head from the command line */
  snprintf(cmd, sizeof cmd, "'%s' train --arch llama --kv-heads 1 --tie-embeddings --data story:100 --tokenizer byte "
           "--layers 1 --heads 2 --embd 16 --context 32 --seq-len 16 --batch 2 --steps 2 --threads 1 --quiet "
           "--out '%s/gqa' 2>&1", bin, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 0, "train --kv-heads 1 --tie-embeddings: rc %d: %s", rc, out);
  free(out);
  char *gqa = al_path_join(dir, "gqa");
  CHECK_OK(al_model_load_dir(&rm, gqa, &err), err);
  if (!err.msg[0]) {
    const al_tensor *k = al_model_tensor(&rm, "model.layers.0.self_attn.k_proj.weight");
    CHECK(k && k->shape[0] == 8 && !al_model_tensor(&rm, "lm_head.weight"), "one key/value head of 8, tied head");
    al_model_free(&rm);
  }
  free(gqa);
  snprintf(cmd, sizeof cmd, "'%s' train --arch llama --heads 4 --kv-heads 3 --out '%s/x' 2>&1", bin, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && out && strstr(out, "--kv-heads 3 must divide --heads 4"), "bad --kv-heads: rc %d: %s", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' train --arch mamba --out '%s/x' 2>&1", bin, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2 && out && strstr(out, "--arch 'mamba' is not an architecture (expected \"gpt2\", \"llama\")"),
        "unknown --arch: rc %d: %s", rc, out);
  free(out);
  free(mdir), free(dir);
  return test_summary();
}

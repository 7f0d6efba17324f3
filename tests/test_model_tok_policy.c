/* One policy for a model directory whose tokenizer does not fit its model:
 * a tokenizer with more tokens than the model's vocabulary (its ids would
 * index past the embedding) is an error giving both sizes, the same in every
 * place that loads a model with its tokenizer: the library call
 * (al_model_load_dir_tok), the local provider, `alab score` / `sample`, and
 * `alab serve` (which used to clamp the vocabulary and start). A tokenizer
 * with fewer tokens than the model loads everywhere.
 *
 * The misfit is made for real: model A trained with the byte tokenizer (257
 * tokens) gets the tokenizer files of model B (bpe:300). */
#include "alab/model.h"
#include "alab/provider.h"
#include "alab/tok.h"
#include "test.h"

static int alab(const char *args, char **out) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "timeout 20 '%s' %s 2>&1", getenv("ALAB_BIN"), args);
  return test_sh(cmd, out);
}

static void train_tiny(const char *dir, const char *tokenizer) {
  char args[4096], *out;
  snprintf(args, sizeof args,
           "train --out '%s' --data story:200 --tokenizer %s --layers 1 --heads 1 --embd 16 --context 16 --seq-len 16 "
           "--batch 2 --steps 1 --threads 1 --quiet",
           dir, tokenizer);
  int rc = alab(args, &out);
  CHECK(rc == 0, "train %s: exit %d: %s", tokenizer, rc, out);
  free(out);
}

static int names_both_sizes(const char *msg) { return strstr(msg, "300") && strstr(msg, "257"); }

int main(void) {
  char *root = test_tmpdir("model_tok_policy");
  char *a = al_path_join(root, "a"), *b = al_path_join(root, "b"), cmd[8192], *out;
  train_tiny(a, "byte");
  train_tiny(b, "bpe:300");

  /* Before the swap: loads, and a smaller tokenizer than the model is fine. */
  al_model m;
  al_tok *tok;
  al_err err;
  CHECK_OK(al_model_load_dir_tok(&m, &tok, a, &err), err);
  if (!err.msg[0]) al_tok_free(tok), al_model_free(&m);

  snprintf(cmd, sizeof cmd, "cp '%s/vocab.json' '%s/merges.txt' '%s/'", b, b, a);
  CHECK(system(cmd) == 0, "%s", cmd);

  int rc = al_model_load_dir_tok(&m, &tok, a, &err);
  CHECK(rc != 0 && names_both_sizes(err.msg), "al_model_load_dir_tok: rc %d, '%s'", rc, err.msg);
  CHECK(rc == 0 || tok == NULL, "nothing left allocated on failure");

  al_provider *p = NULL;
  rc = al_provider_local(&p, a, NULL, &err);
  CHECK(rc != 0 && names_both_sizes(err.msg), "al_provider_local: rc %d, '%s'", rc, err.msg);
  if (rc == 0) al_provider_free(p);

  snprintf(cmd, sizeof cmd, "score --model '%s' --prompt 'Lily had' --continuation ' a'", a);
  rc = alab(cmd, &out);
  CHECK(rc == 1 && names_both_sizes(out), "score: exit %d, '%s'", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "sample --model '%s' --prompt 'Lily' --tokens 4", a);
  rc = alab(cmd, &out);
  CHECK(rc == 1 && names_both_sizes(out), "sample: exit %d, '%s'", rc, out);
  free(out);
  /* serve used to clamp and start; timeout (exit 124) would mean it served */
  snprintf(cmd, sizeof cmd, "serve --model '%s' --port 0", a);
  rc = alab(cmd, &out);
  CHECK(rc == 1 && names_both_sizes(out), "serve: exit %d, '%s'", rc, out);
  free(out);

  free(a), free(b), free(root);
  return test_summary();
}

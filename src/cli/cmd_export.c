/* alab export: a model (a directory, or a llama2.c checkpoint with its
 * tokenizer.bin) written as a Hugging Face directory, in float32 or bfloat16,
 * in one file or in shards; or as a llama2.c checkpoint. */
#include <stdio.h>
#include <string.h>
#include "alab/llama2c.h"
#include "cli/flags.h"
#include "cli/model_io.h"

int cmd_export(int argc, char **argv) {
  const char *model = NULL, *tokenizer = NULL, *out = NULL, *dtype = "f32", *format = "hf";
  double shard_mb = 0;
  flag_def f[] = {
      CLI_FLAG_MODEL(model),
      CLI_FLAG_TOKENIZER(tokenizer),
      {"out", FLAG_STRING, &out, "the directory to write (--format hf), or the checkpoint file (--format llama2c)"},
      {"format", FLAG_STRING, &format, "hf (config.json, safetensors, tokenizer files) or llama2c (a Llama without biases)"},
      {"dtype", FLAG_STRING, &dtype, "hf: f32, or bf16 (rounded to nearest even, as torch's .to(torch.bfloat16))"},
      {"max-shard-mb", FLAG_DOUBLE, &shard_mb, "hf: > 0: shards of at most this many MiB (fractions allowed) with model.safetensors.index.json; 0: one model.safetensors", "[0, 1e9]"},
  };
  flag_cmd cmd = {"alab export --model SRC --out DEST [flags]",
                  "Writes a model as a Hugging Face directory (float32 or bfloat16, one file or shards, as "
                  "transformers' save_pretrained) or as a llama2.c checkpoint.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  int hf = !strcmp(format, "hf"), bf16 = !strcmp(dtype, "bf16");
  if (!model || !out || (!hf && strcmp(format, "llama2c")) || (!bf16 && strcmp(dtype, "f32")) ||
      (!hf && (bf16 || shard_mb))) {
    fprintf(stderr, "alab export: %s\n",
            !model || !out ? "--model and --out are required"
            : !hf && strcmp(format, "llama2c") ? "--format must be hf or llama2c"
            : !bf16 && strcmp(dtype, "f32")   ? "--dtype must be f32 or bf16"
                                              : "--dtype and --max-shard-mb are for --format hf");
    return 2;
  }
  al_err err;
  al_model m;
  al_tok *tok;
  if (cli_load_model_tok(model, tokenizer, &m, &tok, &err)) {
    fprintf(stderr, "alab export: %s\n", err.msg);
    return 1;
  }
  al_save_opts o = {bf16 ? "BF16" : "F32", (int64_t)(shard_mb * 1024 * 1024)};
  int rc = hf ? al_model_save_dir_opts(&m, tok, NULL, &o, out, &err) : al_llama2c_save(&m, out, &err);
  if (rc) fprintf(stderr, "alab export: %s\n", err.msg);
  else al_log("alab export: wrote %s", out);
  al_tok_free(tok);
  al_model_free(&m);
  return rc ? 1 : 0;
}

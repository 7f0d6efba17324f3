/* alab train: train a GPT-2 or Llama model from scratch (or resume, or finetune). */
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "alab/dist.h"
#include "alab/nn.h"
#include "alab/synth.h"
#include "alab/train.h"
#include "cli/commands.h"
#include "cli/card.h"
#include "cli/flags.h"
#include "model/arch.h"
#include "model/llama.h"

int cmd_train(int argc, char **argv) {
  const char *data = "story:20000", *val_data = NULL, *out = "runs/train", *tokspec = "bpe:512", *init = NULL,
             *format = NULL, *field = "text";
  al_model_config mc = {.vocab_size = 0, .n_positions = 128, .n_layer = 4, .n_head = 4, .n_embd = 128};
  const char *arch = "gpt2";
  int kv_heads = 0, tie = 0;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.ckpt_every = 200;
  int threads = 0, skip_bad = 0, quiet = 0, vocab = 0;
  const char *precision = "fp32";
  double val_frac = 0.05;
  int64_t seed = 1, steps = tc.steps, warmup = tc.warmup_steps;
  flag_def f[] = {
      {"data", FLAG_STRING, &data, "story:N[:SEED] (built-in story world), or text/JSONL corpora or token shards (.bin): "
                                   "a comma-separated list of files and glob(3) patterns, each pattern's matches sorted; "
                                   "shards are read one after another"},
      {"val-data", FLAG_STRING, &val_data, "held-out data given separately (same forms as --data); then "
                                           "--data is not split and --val-frac is not used"},
      {"format", FLAG_STRING, &format, "corpus format: text or jsonl (default: from the file name)"},
      {"field", FLAG_STRING, &field, "JSONL field holding the text"},
      {"skip-bad-lines", FLAG_BOOL, &skip_bad, "skip malformed JSONL lines (and report how many)"},
      {"tokenizer", FLAG_STRING, &tokspec, "byte, bpe:N (train a BPE of N tokens on the data), or a directory"},
      {"out", FLAG_STRING, &out, "output model directory (also holds metrics.jsonl and the trainer state)"},
      {"init", FLAG_STRING, &init, "start from this model directory (finetune) instead of random weights"},
      {"resume", FLAG_BOOL, &tc.resume, "continue the run in --out from its trainer state; every flag but --out, "
                                          "--threads, --quiet and --ckpt-every must be as the run had them"},
      {"overwrite", FLAG_BOOL, &tc.overwrite, "start anew in an --out that holds another run's trainer state or a model"},
      {"arch", FLAG_STRING, &arch, "architecture of a new model: gpt2, or llama (RMSNorm, rotary positions, SwiGLU, "
                                   "untied head; docs/llama.md)"},
      {"kv-heads", FLAG_INT, &kv_heads, "llama: key/value heads of grouped-query attention, dividing --heads (0: --heads)",
       "[0, 1024]"},
      {"tie-embeddings", FLAG_BOOL, &tie, "llama: tie the output head to the token embedding"},
      {"layers", FLAG_INT, &mc.n_layer, "transformer blocks", "[1, 1024]"},
      {"heads", FLAG_INT, &mc.n_head, "attention heads", "[1, 1024]"},
      {"embd", FLAG_INT, &mc.n_embd, "channels", "[1, 65536]"},
      {"context", FLAG_INT, &mc.n_positions, "maximum context (n_positions)", "[1, 1048576]"},
      {"vocab", FLAG_INT, &vocab, "model vocabulary, padded beyond the tokenizer's (0: the tokenizer's size)", "[0, 1073741824]"},
      {"seq-len", FLAG_INT, &tc.seq_len, "training sequence length (<= context)", "[1, 1048576]"},
      {"batch", FLAG_INT, &tc.batch, "sequences per micro-batch", "[1, inf)"},
      {"accum", FLAG_INT, &tc.grad_accum, "micro-batches per optimizer step", "[1, inf)"},
      {"steps", FLAG_I64, &steps, "optimizer steps", "[1, inf)"},
      {"lr", FLAG_DOUBLE, &tc.lr, "peak learning rate", "(0, inf)"},
      {"warmup", FLAG_I64, &warmup, "linear warmup steps", "[0, inf)"},
      {"min-lr-frac", FLAG_DOUBLE, &tc.min_lr_frac, "cosine decays to lr * this", "[0, 1]"},
      {"weight-decay", FLAG_DOUBLE, &tc.weight_decay, "AdamW weight decay (matrices only)", "[0, inf)"},
      {"grad-clip", FLAG_DOUBLE, &tc.grad_clip, "clip the global gradient norm to this (0: off)", "[0, inf)"},
      {"eval-every", FLAG_INT, &tc.eval_every, "held-out loss every N steps (and after the last)", "[1, inf)"},
      {"eval-batches", FLAG_INT, &tc.eval_batches, "batches per held-out evaluation (0: all)", "[0, inf)"},
      {"ckpt-every", FLAG_INT, &tc.ckpt_every, "checkpoint every N steps (0: only at the end)", "[0, inf)"},
      {"val-frac", FLAG_DOUBLE, &val_frac, "fraction held out: the last documents, or the last tokens when there are "
                                           "too few documents", "[0, 1)"},
      {"seed", FLAG_I64, &seed, "seed of the initial weights and the data order"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"precision", FLAG_STRING, &precision, FLAG_PRECISION_HELP},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
      {"deterministic-reduce", FLAG_BOOL, &tc.deterministic_reduce,
       "under mpirun: sum the micro-batches' gradients in a fixed order, so any number of ranks (1 included) gives "
       "bit-identical results (costs memory and one broadcast per micro-batch)"},
      {"overlap-reduce", FLAG_BOOL, &tc.overlap_reduce,
       "under mpirun: start summing each layer's gradients over ranks as soon as the last micro-batch's backward pass "
       "has computed them (non-blocking), overlapping the sum with the rest of the backward pass"},
      {"zero1", FLAG_BOOL, &tc.zero1,
       "under mpirun: shard AdamW's moments across ranks (ZeRO stage 1): each rank holds 1/R of them and updates 1/R "
       "of the parameters, then the ranks exchange parameters; the same numbers bit for bit"},
  };
  flag_cmd cmd = {"alab train [flags]",
                  "Trains a GPT-2 or Llama (--arch) model with AdamW, warmup + cosine decay and gradient clipping, writing a Hugging Face "
                  "model directory (config.json, model.safetensors, vocab.json, merges.txt), metrics.jsonl and a trainer "
                  "state for exact resume.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!al_arch_find(arch)) {
    char known[256];
    al_arch_names(known, sizeof known);
    fprintf(stderr, "alab train: --arch '%s' is not an architecture (expected %s)\n", arch, known);
    return 2;
  }
  snprintf(mc.arch, sizeof mc.arch, "%s", arch);
  if ((tc.precision = nn_precision_parse(precision)) < 0) {
    fprintf(stderr, "alab train: --precision '%s' is not fp32 or bf16\n", precision);
    return 2;
  }
  if ((kv_heads || tie) && strcmp(arch, "llama") != 0) {
    fprintf(stderr, "alab train: --kv-heads and --tie-embeddings are for --arch llama\n");
    return 2;
  }
  if (kv_heads && mc.n_head % kv_heads) {
    fprintf(stderr, "alab train: --kv-heads %d must divide --heads %d\n", kv_heads, mc.n_head);
    return 2;
  }
  if (!strcmp(arch, "llama")) {
    llama_hparams lh = {.n_kv_head = kv_heads, .tie_word_embeddings = tie};
    llama_hparams_set(&mc, &lh);
  }
  { /* malformed values are usage errors, found before any work */
    al_err uerr;
    al_corpus_format fmt;
    long n;
    uint64_t s;
    if (al_dataset_story_spec(data, &n, &s, &uerr) < 0 || (val_data && al_dataset_story_spec(val_data, &n, &s, &uerr) < 0) ||
        (format && al_corpus_format_parse(format, &fmt, &uerr))) {
      fprintf(stderr, "alab train: %s\n", uerr.msg);
      return 2;
    }
  }
  if (quiet) al_quiet = 1; /* ranks other than 0 are quiet already */
  al_set_threads(threads);
  tc.steps = steps;
  tc.warmup_steps = warmup;
  tc.seed = (uint64_t)seed;
  tc.out_dir = out;
  tc.dist = alab_dist;
  /* what a resume must match: every flag but where the run is and how it is watched or run (zero1 changes no number) */
  static const char *const free_on_resume[] = {"out",        "resume", "overwrite",      "threads", "quiet",
                                               "ckpt-every", "zero1",  "overlap-reduce", NULL};
  json_t *settings = flags_to_json(&cmd, free_on_resume);
  tc.settings = settings;
  al_err err;
  al_tok *tok = NULL;
  al_model m = {0};
  al_dataset ds = {0};
  al_corpus_opts co = {.field = field, .skip_bad_lines = skip_bad};
  int rc = 0;
  char *state = al_path_join(out, "trainer_state.safetensors");
  int resuming = tc.resume && al_file_exists(state);
  free(state);
  if (format && al_corpus_format_parse(format, &co.format, &err)) goto fail;
  /* the model and tokenizer: from --out when resuming, --init when finetuning, else new */
  const char *from = resuming ? out : init;
  if (from) {
    if (al_tok_load(&tok, from, &err) || al_model_load_dir(&m, from, &err)) goto fail;
  } else {
    if (al_tokenizer_from_spec(&tok, tokspec, data, &err)) goto fail;
    mc.vocab_size = al_tok_vocab_size(tok) > vocab ? al_tok_vocab_size(tok) : vocab;
    if (al_model_init(&m, &mc, (uint64_t)seed, &err)) goto fail;
  }
  if (al_dataset_open_val(&ds, data, val_data, &co, tok, val_frac, &err)) goto fail;
  if (ds.nval > 0) {
    uint64_t all, scored = al_eval_targets(ds.val, ds.nval, tc.batch, tc.seq_len, tc.eval_batches, &all);
    al_log("held-out loss: %llu of the %llu validation targets each evaluation (--eval-batches %d; 0 scores all)",
           (unsigned long long)scored, (unsigned long long)all, tc.eval_batches);
  }
  al_log("model: %zu parameters (%d layers, %d heads, %d channels, context %d, vocab %d)", m.nparams, m.cfg.n_layer,
         m.cfg.n_head, m.cfg.n_embd, m.cfg.n_positions, m.cfg.vocab_size);
  al_train_result res;
  if (al_train(&m, &tc, ds.train, ds.ntrain, ds.val, ds.nval, tok, &res, &err)) goto fail;
  if (al_dist_rank(tc.dist) == 0 && (res.steps_done > res.start_step || !cli_card_exists(out))) { /* the card (rank 0 writes) */
    al_card *card = cli_card_start("alab train", init, &err);
    if (!card || cli_card_data(card, "train", data, -1, &err) || (val_data && cli_card_data(card, "validation", val_data, -1, &err))) {
      al_card_free(card);
      goto fail;
    }
    al_card_objective(card, "lm", "mean over tokens of -log p(token | previous tokens)", json_deep_copy(settings));
    al_card_feedback(card, "none: language modelling (no human feedback)", "none");
    al_card_no_reward_model(card, "language modelling uses no reward model");
    al_card_no_kl(card, "language modelling has no reference policy");
    if (cli_card_finish(card, &tc, &res, &err)) goto fail;
  }
  if (res.steps_done == res.start_step) {
    printf("%s: the run had already done its %ld steps; nothing to do\n", out, res.steps_done);
    goto done;
  }
  printf("trained %ld steps in %.1f s (%.0f tokens/s): loss %.4f, val loss %.4f -> %s\n", res.steps_done, res.seconds,
         res.tokens_per_s, res.final_loss, res.val_loss, out);
  long nstories = 0;
  uint64_t sseed = 0;
  double bpt = al_dataset_val_bytes_per_token(&ds, tok), truth = 0;
  if (al_dataset_story_spec(data, &nstories, &sseed, NULL) == 1 && bpt > 0 && res.val_loss == res.val_loss) {
    al_synth_entropy_estimate(sseed, nstories, &truth);
    printf("val loss %.4f nats/byte (%.2f bytes/token); the story world's true entropy is %.4f nats/byte\n",
           res.val_loss / bpt, bpt, truth);
  }
  goto done;
fail:
  fprintf(stderr, "alab train: %s\n", err.msg);
  rc = 1;
done:
  json_decref(settings);
  al_dataset_close(&ds);
  al_model_free(&m);
  al_tok_free(tok);
  return rc;
}

/* alab sft: supervised fine-tuning of a model directory on TRL's SFT
 * formats (include/alab/sft.h) with the masked LM objective: the loss on
 * completion tokens (or assistant turns) only, or on every token with
 * --all-tokens. Writes a model directory with metrics.jsonl, a trainer state
 * for exact resume and its disclosure card. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/sft.h"
#include "alab/train.h"
#include "cli/card.h"
#include "cli/flags.h"
#include "cli/model_io.h"

int cmd_sft(int argc, char **argv) {
  const char *data = NULL, *val_data = NULL, *out = "runs/sft", *init = NULL, *tmpl_path = NULL;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 8, tc.seq_len = 128, tc.steps = 200, tc.warmup_steps = 10, tc.lr = 1e-4, tc.ckpt_every = 200, tc.eval_every = 50;
  int threads = 0, quiet = 0, all_tokens = 0;
  double val_frac = 0.05;
  int64_t seed = 1, steps = tc.steps, warmup = tc.warmup_steps;
  flag_def f[] = {
      {"data", FLAG_STRING, &data, "SFT examples (JSONL in TRL's forms: {\"prompt\", \"completion\"}, {\"messages\"}, "
                                   "conversational prompt/completion, or {\"text\"})"},
      {"init", FLAG_STRING, &init, "the model directory to fine-tune (its weights, tokenizer and chat template)"},
      {"val-data", FLAG_STRING, &val_data, "held-out examples given separately (then --val-frac is not used)"},
      {"val-frac", FLAG_DOUBLE, &val_frac, "fraction of --data's examples held out (the last ones)", "[0, 1)"},
      {"chat-template", FLAG_STRING, &tmpl_path, "a file holding the Jinja chat template for conversational examples "
                                                 "(default: --init's)"},
      {"all-tokens", FLAG_BOOL, &all_tokens, "the loss on every token (TRL's completion_only_loss=False) instead of "
                                             "the completion or assistant turns only"},
      {"out", FLAG_STRING, &out, "output model directory (also holds metrics.jsonl, the trainer state and the model card)"},
      {"resume", FLAG_BOOL, &tc.resume, "continue the run in --out from its trainer state"},
      {"overwrite", FLAG_BOOL, &tc.overwrite, "start anew in an --out that holds another run's trainer state or a model"},
      {"seq-len", FLAG_INT, &tc.seq_len, "tokens per row: longer examples keep their first seq-len + 1 tokens", "[1, 1048576]"},
      {"batch", FLAG_INT, &tc.batch, "examples per micro-batch", "[1, inf)"},
      FLAGS_TRAIN_LOOP(tc, steps, warmup, ""),
      {"seed", FLAG_I64, &seed, "seed of the example order"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab sft --data EXAMPLES.jsonl --init MODEL_DIR [flags]",
                  "Supervised fine-tuning: the cross-entropy of the completion tokens (or assistant turns) given the "
                  "prompt, mean over those tokens, on TRL's SFT dataset formats; writes a model directory with "
                  "metrics.jsonl, a trainer state for --resume, and MODEL_CARD.md / model_card.json.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!data || !init) {
    fprintf(stderr, "alab sft: --data and --init are required (see --help)\n");
    return 2;
  }
  al_quiet = quiet;
  al_set_threads(threads);
  tc.steps = steps, tc.warmup_steps = warmup, tc.seed = (uint64_t)seed, tc.out_dir = out;
  static const char *const free_on_resume[] = {"out", "resume", "overwrite", "threads", "quiet", "ckpt-every", NULL};
  json_t *settings = flags_to_json(&cmd, free_on_resume);
  tc.settings = settings;
  al_err err;
  al_chat_template tmpl = {0};
  al_sft_data td = {0}, vd = {0};
  al_sft_source *ss = NULL;
  al_tok *tok = NULL;
  al_model m = {0};
  al_objective obj = {0};
  al_card *card = NULL;
  int rc = 0, have_tmpl = 0;
  char *state = al_path_join(out, "trainer_state.safetensors");
  const char *from = tc.resume && al_file_exists(state) ? out : init;
  free(state);
  if (cli_load_model(from, &m, &tok, &err)) goto fail;
  if (tmpl_path ? al_chat_template_load_file(&tmpl, tmpl_path, &err) : al_chat_template_load(&tmpl, init, &err)) goto fail;
  have_tmpl = 1;
  if (al_sft_read(data, &tmpl, tok, all_tokens, &td, &err) || (val_data && al_sft_read(val_data, &tmpl, tok, all_tokens, &vd, &err)))
    goto fail;
  if (!val_data && val_frac > 0) { /* the last examples are held out: vd views td's tail */
    long nv = lround(val_frac * td.n);
    if (nv >= td.n) nv = td.n - 1;
    vd.n = nv, vd.ids = td.ids, vd.loss = td.loss, vd.off = td.off + (td.n - nv), vd.line = td.line + (td.n - nv);
    td.n -= nv;
  }
  long cut = al_sft_count_cut(&td, tc.seq_len);
  al_log("sft: %ld training examples (%ld prompt-completion, %ld messages, %ld conversational prompt-completion, %ld "
         "text), %ld held out; loss on %s; %ld examples longer than seq-len + 1 tokens keep their first %d",
         td.n, td.by_form[0], td.by_form[1], td.by_form[2], td.by_form[3], vd.n,
         all_tokens ? "every token" : "completion tokens only", cut, tc.seq_len + 1);
  int eot = al_tok_eot(tok);
  al_masked_source src;
  ss = al_sft_source_new(&td, &vd, tc.batch, tc.seq_len, tc.seed, tc.shuffle, eot, &src);
  if (al_objective_masked(&obj, &m, &tc, &src, &err)) goto fail;
  if (!(card = cli_card_start("alab sft", init, &err)) || cli_card_data(card, "train", data, val_data ? td.n : td.n + vd.n, &err) ||
      (val_data && cli_card_data(card, "validation", val_data, vd.n, &err)))
    goto fail;
  al_card_objective(card, all_tokens ? "sft (all tokens)" : "sft (completion only)",
                    "mean over loss tokens of -log p(token | previous tokens)", json_deep_copy(settings));
  al_card_no_reward_model(card, "supervised fine-tuning uses no reward model");
  al_card_no_kl(card, "supervised fine-tuning has no reference policy");
  al_card_feedback(card, "demonstrations (supervised examples)", NULL);
  al_train_result res;
  if (al_train_objective(&m, &tc, &obj, tok, &res, &err)) goto fail;
  if (res.steps_done > res.start_step || !cli_card_exists(out)) { /* the card (also after a kill before it was written) */
    rc = cli_card_finish(card, &tc, &res, &err);
    card = NULL;
    if (rc) goto fail;
  }
  if (res.steps_done == res.start_step) {
    printf("%s: the run had already done its %ld steps; nothing to do\n", out, res.steps_done);
    goto done;
  }
  printf("trained %ld steps in %.1f s: loss %.4f, held-out loss %.4f -> %s\n", res.steps_done, res.seconds,
         res.final_loss, res.val_loss, out);
  goto done;
fail:
  fprintf(stderr, "alab sft: %s\n", err.msg);
  rc = 1;
done:
  al_card_free(card);
  al_objective_free(&obj);
  al_sft_source_free(ss);
  if (!val_data) memset(&vd, 0, sizeof vd); /* vd viewed td's arrays */
  al_sft_data_free(&td), al_sft_data_free(&vd);
  al_model_free(&m);
  al_tok_free(tok);
  if (have_tmpl) al_chat_template_free(&tmpl);
  json_decref(settings);
  return rc;
}

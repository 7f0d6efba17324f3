/* alab rm: reward models. `rm train` trains one on preference pairs with the
 * Bradley-Terry objective (from a language model directory, or from
 * scratch); `rm score` prints the rewards of texts or of a file's pairs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/reward.h"
#include "alab/json.h"
#include "cli/card.h"
#include "cli/flags.h"
#include "cli/model_io.h"

/* A tokenizer: "byte", "bpe:N" trained on the pairs' text, or a directory. */
static int rm_tokenizer(const char *spec, const al_pref_set *s, al_tok **tok, al_err *err) {
  if (!strcmp(spec, "byte")) return *tok = al_tok_byte(), 0;
  if (strncmp(spec, "bpe:", 4)) return al_tok_load(tok, spec, err);
  char *end;
  long v = strtol(spec + 4, &end, 10);
  if (*end || v < 257 || v > 1 << 20) return al_fail(err, "--tokenizer %s: bpe:N needs N in [257, 1048576]", spec);
  al_buf text = {0};
  for (long i = 0; i < s->n; i++)
    al_buf_printf(&text, "%s%s\n%s%s\n", s->pairs[i].prompt, s->pairs[i].chosen, s->pairs[i].prompt, s->pairs[i].rejected);
  int rc = al_tok_train(tok, text.data, text.len, (int)v, err);
  al_buf_free(&text);
  return rc;
}

/* The last held-out accuracy in dir/metrics.jsonl ("val_accuracy"), NAN when none. */
static double res_val_accuracy(const char *dir) {
  char *p = al_path_join(dir, "metrics.jsonl"), *text = NULL;
  double acc = NAN;
  al_err e;
  if (!al_read_file(p, &text, NULL, &e))
    for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1) {
      json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL), *v = json_object_get(j, "val_accuracy");
      if (json_is_number(v)) acc = json_number_value(v);
      json_decref(j);
    }
  free(text), free(p);
  return acc;
}

static void report_identical(const char *path, const al_pref_set *s) {
  if (s->identical)
    al_log("%s: %ld pairs have chosen equal to rejected (the first on line %ld): left out, they hold no preference",
           path, s->identical, s->first_identical);
}

static int cmd_rm_train(int argc, char **argv) {
  const char *data = NULL, *val_data = NULL, *out = "runs/rm", *init = NULL, *tokspec = "bpe:512", *tmpl_path = NULL;
  al_model_config mc = {.n_positions = 256, .n_layer = 4, .n_head = 4, .n_embd = 128, .scalar_head = 1};
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 8, tc.seq_len = 256, tc.ckpt_every = 200;
  int threads = 0, quiet = 0;
  double val_frac = 0.05, center = 0;
  int64_t seed = 1, steps = tc.steps, warmup = tc.warmup_steps;
  flag_def f[] = {
      {"data", FLAG_STRING, &data, "preference pairs (JSONL: TRL's prompt/chosen/rejected, implicit-prompt or "
                                   "conversational forms, or HH-RLHF strings)"},
      {"val-data", FLAG_STRING, &val_data, "held-out pairs given separately (then --val-frac is not used)"},
      {"val-frac", FLAG_DOUBLE, &val_frac, "fraction of --data's pairs held out (the last ones)", "[0, 1)"},
      {"chat-template", FLAG_STRING, &tmpl_path, "a file holding the Jinja chat template for conversational pairs "
                                                 "(default: --init's, else alab's)"},
      {"init", FLAG_STRING, &init, "start from this model directory (a language model: its trunk and tokenizer, "
                                   "with a new score head; or a reward model) instead of random weights"},
      {"tokenizer", FLAG_STRING, &tokspec, "without --init: byte, bpe:N (trained on the pairs' text) or a directory"},
      {"out", FLAG_STRING, &out, "output reward model directory (GPT2ForSequenceClassification; also holds "
                                 "metrics.jsonl and the trainer state)"},
      {"resume", FLAG_BOOL, &tc.resume, "continue the run in --out from its trainer state"},
      {"overwrite", FLAG_BOOL, &tc.overwrite, "start anew in an --out that holds another run's trainer state or a model"},
      {"center", FLAG_DOUBLE, &center, "center_rewards_coefficient: adds center * mean((r_chosen + r_rejected)^2) "
                                       "(0: off)", "[0, inf)"},
      {"layers", FLAG_INT, &mc.n_layer, "without --init: transformer blocks", "[1, 1024]"},
      {"heads", FLAG_INT, &mc.n_head, "without --init: attention heads", "[1, 1024]"},
      {"embd", FLAG_INT, &mc.n_embd, "without --init: channels", "[1, 65536]"},
      {"context", FLAG_INT, &mc.n_positions, "without --init: maximum context (n_positions)", "[1, 1048576]"},
      {"seq-len", FLAG_INT, &tc.seq_len, "tokens per sequence: longer ones keep their last seq-len tokens", "[1, 1048576]"},
      {"batch", FLAG_INT, &tc.batch, "pairs per micro-batch (2 x batch sequences)", "[1, inf)"},
      FLAGS_TRAIN_LOOP(tc, steps, warmup, ""),
      {"seed", FLAG_I64, &seed, "seed of the initial weights and the pair order"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab rm train --data PAIRS.jsonl [flags]",
                  "Trains a reward model (a GPT-2 trunk with a scalar head read at the last token) on preference pairs "
                  "with the Bradley-Terry loss -log sigmoid(r_chosen - r_rejected - margin), logging accuracy, margin, "
                  "mean_reward and sd_reward, and writes a GPT2ForSequenceClassification directory.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!data) {
    fprintf(stderr, "alab rm train: --data is required (see --help)\n");
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
  al_pref_set ts = {0}, vs = {0};
  al_rm_data td = {0}, vd = {0};
  al_tok *tok = NULL;
  al_model lm = {0}, rm = {0};
  al_objective obj = {0};
  int rc = 0, have_tmpl = 0;
  char *state = al_path_join(out, "trainer_state.safetensors");
  const char *from = tc.resume && al_file_exists(state) ? out : init;
  free(state);
  if (tmpl_path ? al_chat_template_load_file(&tmpl, tmpl_path, &err) : from ? al_chat_template_load(&tmpl, from, &err)
                                                                            : (al_chat_template_default(&tmpl), 0))
    goto fail;
  have_tmpl = 1;
  if (al_pref_read(data, &tmpl, &ts, &err) || (val_data && al_pref_read(val_data, &tmpl, &vs, &err))) goto fail;
  report_identical(data, &ts);
  if (val_data) report_identical(val_data, &vs);
  if (!val_data && val_frac > 0) { /* the last pairs are held out */
    long nv = lround(val_frac * ts.n);
    if (nv >= ts.n) nv = ts.n - 1;
    vs.pairs = al_malloc(sizeof *vs.pairs * (size_t)(nv + 1));
    memcpy(vs.pairs, ts.pairs + ts.n - nv, sizeof *vs.pairs * (size_t)nv);
    vs.n = nv, ts.n -= nv;
  }
  if (from) {
    if (cli_load_model(from, &lm, &tok, &err)) goto fail;
    if (lm.cfg.scalar_head) rm = lm, memset(&lm, 0, sizeof lm);
    else if (al_rm_from_lm(&rm, &lm, (uint64_t)seed, &err)) goto fail;
  } else {
    if (rm_tokenizer(tokspec, &ts, &tok, &err)) goto fail;
    mc.vocab_size = al_tok_vocab_size(tok);
    if (al_model_init(&rm, &mc, (uint64_t)seed, &err)) goto fail;
  }
  if (al_rm_data_tokenize(&ts, tok, &td, &err) || (vs.n && al_rm_data_tokenize(&vs, tok, &vd, &err))) goto fail;
  al_log("reward model: %zu parameters; %ld training pairs, %ld held out", rm.nparams, td.n, vd.n);
  if (al_objective_rm(&obj, &rm, &tc, &td, vd.n ? &vd : NULL, center, &err)) goto fail;
  al_train_result res;
  if (al_train_objective(&rm, &tc, &obj, tok, &res, &err)) goto fail;
  if (res.steps_done > res.start_step || !cli_card_exists(out)) { /* the card, with the held-out accuracy a policy's reads */
    al_card *card = cli_card_start("alab rm train", init, &err);
    if (!card || cli_card_data(card, "preference", data, val_data ? ts.n : ts.n + vs.n, &err) ||
        (val_data && cli_card_data(card, "validation", val_data, vs.n, &err))) {
      al_card_free(card);
      goto fail;
    }
    al_card_objective(card, "reward_model", "-log sigmoid(r(chosen) - r(rejected) - margin) + center (r(chosen) + r(rejected))^2",
                      json_deep_copy(settings));
    al_card_feedback(card, "pairwise comparisons", NULL);
    al_card_no_reward_model(card, "this is a reward model");
    al_card_no_kl(card, "a reward model has no reference policy");
    al_card_set(card, "heldout_accuracy", vd.n ? al_json_real_or_null(res_val_accuracy(out)) : json_string(AL_CARD_UNKNOWN));
    if (cli_card_finish(card, &tc, &res, &err)) goto fail;
  }
  if (res.steps_done == res.start_step) {
    printf("%s: the run had already done its %ld steps; nothing to do\n", out, res.steps_done);
    goto done;
  }
  printf("trained %ld steps in %.1f s: loss %.4f, held-out loss %.4f -> %s\n", res.steps_done, res.seconds,
         res.final_loss, res.val_loss, out);
  goto done;
fail:
  fprintf(stderr, "alab rm train: %s\n", err.msg);
  rc = 1;
done:
  al_objective_free(&obj);
  if (!val_data) { /* the held-out pairs are ts's last ones */
    ts.n += vs.n;
    free(vs.pairs);
    memset(&vs, 0, sizeof vs);
  }
  al_pref_set_free(&ts), al_pref_set_free(&vs);
  al_rm_data_free(&td), al_rm_data_free(&vd);
  al_model_free(&rm), al_model_free(&lm);
  al_tok_free(tok);
  if (have_tmpl) al_chat_template_free(&tmpl);
  json_decref(settings);
  return rc;
}

static int cmd_rm_score(int argc, char **argv) {
  const char *model = NULL, *text = NULL, *input = NULL;
  int threads = 0;
  flag_def f[] = {
      {"model", FLAG_STRING, &model, "a reward model directory (GPT2ForSequenceClassification)"},
      {"text", FLAG_STRING, &text, "one text (prompt + response) to score"},
      {"input", FLAG_STRING, &input, "preference pairs (JSONL, any form alab rm train reads): one line per pair with "
                                     "both rewards, then the accuracy"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
  };
  flag_cmd cmd = {"alab rm score --model DIR (--text TEXT | --input PAIRS.jsonl)",
                  "Prints the reward a reward model gives a text, or the rewards of each pair of a file "
                  "({\"line\", \"chosen\", \"rejected\"} per line, then {\"pairs\", \"accuracy\"}).",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!model || !text == !input) {
    fprintf(stderr, "alab rm score: --model and one of --text or --input are required (see --help)\n");
    return 2;
  }
  al_set_threads(threads);
  al_err err;
  al_model rm = {0};
  al_tok *tok = NULL;
  al_chat_template tmpl;
  al_pref_set s = {0};
  int rc = 0, have_tmpl = 0;
  char **texts = NULL;
  float *rw = NULL;
  long n = 0;
  if (al_rm_load(&rm, model, &err) || al_tok_load(&tok, model, &err)) goto fail;
  if (text) {
    float r;
    if (al_rm_score_texts(&rm, tok, (const char *const *)&text, 1, &r, &err)) goto fail;
    printf("%.6f\n", r);
    goto done;
  }
  if (al_chat_template_load(&tmpl, model, &err)) goto fail;
  have_tmpl = 1;
  if (al_pref_read(input, &tmpl, &s, &err)) goto fail;
  report_identical(input, &s);
  n = 2 * s.n;
  texts = al_calloc((size_t)n, sizeof *texts);
  rw = al_malloc(sizeof *rw * (size_t)n);
  for (long i = 0; i < s.n; i++)
    for (int k = 0; k < 2; k++) {
      al_buf b = {0};
      al_buf_printf(&b, "%s%s", s.pairs[i].prompt, k ? s.pairs[i].rejected : s.pairs[i].chosen);
      texts[2 * i + k] = b.data;
    }
  if (al_rm_score_texts(&rm, tok, (const char *const *)texts, (int)n, rw, &err)) goto fail;
  long right = 0;
  for (long i = 0; i < s.n; i++) {
    printf("{\"line\": %ld, \"chosen\": %.6f, \"rejected\": %.6f}\n", s.pairs[i].line, rw[2 * i], rw[2 * i + 1]);
    right += rw[2 * i] > rw[2 * i + 1];
  }
  printf("{\"pairs\": %ld, \"accuracy\": %.6f, \"identical_left_out\": %ld}\n", s.n, (double)right / s.n, s.identical);
  goto done;
fail:
  fprintf(stderr, "alab rm score: %s\n", err.msg);
  rc = 1;
done:
  for (long i = 0; i < n; i++) free(texts[i]);
  free(texts), free(rw);
  al_pref_set_free(&s);
  if (have_tmpl) al_chat_template_free(&tmpl);
  al_model_free(&rm);
  al_tok_free(tok);
  return rc;
}

int cmd_rm(int argc, char **argv) {
  static const char *usage =
      "usage: alab rm SUBCOMMAND [flags]   (alab rm SUBCOMMAND --help for its flags)\n\n"
      "subcommands:\n"
      "  train   train a reward model on preference pairs (Bradley-Terry)\n"
      "  score   rewards of a text, or of each pair of a file, with the accuracy\n";
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "train")) return cmd_rm_train(argc - 1, argv + 1);
  if (!strcmp(argv[1], "score")) return cmd_rm_score(argc - 1, argv + 1);
  fprintf(stderr, "alab rm: unknown subcommand '%s'\n%s", argv[1], usage);
  return 2;
}

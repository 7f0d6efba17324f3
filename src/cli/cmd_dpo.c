/* alab dpo: with --data, DPO (or IPO) of a policy model directory on the
 * user's preference pairs against a frozen reference (the policy's starting
 * weights unless --ref), writing a model directory with metrics.jsonl
 * (TRL's metric names), a trainer state for --resume and the model card;
 * without --data, the planted-preference experiment (include/alab/dpo_exp.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/dpo_exp.h"
#include "cli/card.h"
#include "cli/flags.h"
#include "cli/model_io.h"

static int parse_loss(const char *s, al_dpo_loss_type *t) {
  if (!strcmp(s, "sigmoid")) return *t = AL_DPO_SIGMOID, 0;
  if (!strcmp(s, "ipo")) return *t = AL_DPO_IPO, 0;
  return -1;
}

/* The user's pairs: policy and reference loaded, pairs tokenized, trained. */
static int train_on_data(const char *data, const char *val_data, double val_frac, const char *policy, const char *refdir,
                         const char *tmpl_path, const al_dpo_cfg *dc, al_train_cfg *tc, al_err *err) {
  al_chat_template tmpl = {0};
  al_pref_set ts = {0}, vs = {0};
  al_dpo_data td = {0}, vd = {0};
  al_tok *tok = NULL, *rtok = NULL;
  al_model m = {0}, ref = {0};
  al_objective obj = {0};
  al_card *card = NULL;
  int rc = -1, have_tmpl = 0;
  char *state = al_path_join(tc->out_dir, "trainer_state.safetensors");
  const char *from = tc->resume && al_file_exists(state) ? tc->out_dir : policy;
  free(state);
  if (cli_load_model(from, &m, &tok, err) || cli_load_model(refdir ? refdir : policy, &ref, &rtok, err)) goto done;
  if (tmpl_path ? al_chat_template_load_file(&tmpl, tmpl_path, err) : al_chat_template_load(&tmpl, policy, err)) goto done;
  have_tmpl = 1;
  if (al_pref_read(data, &tmpl, &ts, err) || (val_data && al_pref_read(val_data, &tmpl, &vs, err))) goto done;
  if (ts.identical) al_log("%s: %ld pairs have chosen equal to rejected (the first on line %ld): left out", data, ts.identical, ts.first_identical);
  if (!val_data && val_frac > 0) { /* the last pairs are held out: vs views ts's tail */
    long nv = lround(val_frac * ts.n);
    if (nv >= ts.n) nv = ts.n - 1;
    vs.pairs = ts.pairs + ts.n - nv, vs.n = nv, ts.n -= nv;
  }
  if (al_dpo_data_tokenize(&ts, tok, &td, err) || (vs.n && al_dpo_data_tokenize(&vs, tok, &vd, err))) goto done;
  al_log("dpo: %ld training pairs, %ld held out; %s loss, beta %g; reference %s", td.n, vd.n, al_dpo_loss_name(dc->type),
         dc->beta, refdir ? refdir : policy);
  if (al_objective_dpo(&obj, &m, &ref, tc, dc, &td, vd.n ? &vd : NULL, err)) goto done;
  al_model_free(&ref); /* its log-probs are cached */
  if (!(card = cli_card_start("alab dpo", policy, err)) || cli_card_data(card, "preference", data, val_data ? td.n : td.n + vd.n, err) ||
      (val_data && cli_card_data(card, "validation", val_data, vd.n, err)))
    goto done;
  al_card_objective(card, dc->type == AL_DPO_IPO ? "ipo" : "dpo",
                    dc->type == AL_DPO_IPO ? "((log pi - log ref)(chosen) - (log pi - log ref)(rejected) - 1/(2 beta))^2, "
                                             "log-probs per token"
                                           : "-log sigmoid(beta ((log pi - log ref)(chosen) - (log pi - log ref)(rejected)))",
                    json_deep_copy(tc->settings));
  al_card_feedback(card, "pairwise comparisons", NULL);
  al_card_no_reward_model(card, "DPO: the reward is implicit, beta log pi(y|x) / ref(y|x)");
  al_card_kl(card, NAN, NULL); /* not measured by this command: unknown */
  al_train_result res;
  if (al_train_objective(&m, tc, &obj, tok, &res, err)) goto done;
  rc = 0;
  if (res.steps_done > res.start_step || !cli_card_exists(tc->out_dir)) { /* the card (also after a kill before it) */
    rc = cli_card_finish(card, tc, &res, err);
    card = NULL;
  }
  if (!rc && res.steps_done == res.start_step) printf("%s: the run had already done its %ld steps; nothing to do\n", tc->out_dir, res.steps_done);
  else if (!rc)
    printf("trained %ld steps in %.1f s: loss %.4f, held-out loss %.4f -> %s\n", res.steps_done, res.seconds,
           res.final_loss, res.val_loss, tc->out_dir);
done:
  al_card_free(card);
  al_objective_free(&obj);
  if (!val_data) ts.n += vs.n, memset(&vs, 0, sizeof vs);
  al_pref_set_free(&ts), al_pref_set_free(&vs);
  al_dpo_data_free(&td), al_dpo_data_free(&vd);
  al_model_free(&m), al_model_free(&ref);
  al_tok_free(tok), al_tok_free(rtok);
  if (have_tmpl) al_chat_template_free(&tmpl);
  return rc;
}

int cmd_dpo(int argc, char **argv) {
  const char *data = NULL, *val_data = NULL, *out = NULL, *policy = NULL, *refdir = NULL, *tmpl_path = NULL, *loss = "sigmoid";
  al_dpo_cfg dc;
  al_dpo_defaults(&dc);
  al_dpo_exp_cfg ec;
  al_dpo_exp_defaults(&ec, 0);
  const char *arch = ec.arch;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = 8, tc.seq_len = 128, tc.steps = 200, tc.warmup_steps = 10, tc.lr = 5e-5, tc.ckpt_every = 200, tc.eval_every = 50;
  int threads = 0, quiet = 0, quick = 0, seeds = 0;
  double val_frac = 0.05, dpo_lr = 0, rpo = -1;
  int64_t seed = 1, steps = tc.steps, warmup = tc.warmup_steps, sft_steps = -1, dpo_steps = -1;
  flag_def f[] = {
      {"out", FLAG_STRING, &out, "output: the trained model directory (with --data), or the experiment's run directory"},
      {"data", FLAG_STRING, &data, "preference pairs (JSONL: TRL's prompt/chosen/rejected, implicit-prompt or "
                                   "conversational forms, or HH-RLHF strings); without it, the planted experiment runs"},
      {"policy", FLAG_STRING, &policy, "with --data: the model directory to train (usually an SFT model)"},
      {"ref", FLAG_STRING, &refdir, "with --data: the frozen reference model directory (default: --policy)"},
      {"val-data", FLAG_STRING, &val_data, "held-out pairs given separately (then --val-frac is not used)"},
      {"val-frac", FLAG_DOUBLE, &val_frac, "fraction of --data's pairs held out (the last ones)", "[0, 1)"},
      {"chat-template", FLAG_STRING, &tmpl_path, "a file holding the Jinja chat template for conversational pairs"},
      {"beta", FLAG_DOUBLE, &dc.beta, "the KL penalty's inverse temperature (TRL's beta)", "(0, inf)"},
      {"loss", FLAG_STRING, &loss, "sigmoid (DPO) or ipo (TRL's IPO: log-probs averaged per token)"},
      {"rpo-alpha", FLAG_DOUBLE, &rpo, "TRL's rpo_alpha: adds alpha x the NLL of the chosen responses (per token) to "
                                       "the loss; -1: off with --data, 1 in the experiment (its second arm; 0: no second arm)",
       "[-1, inf)"},
      {"resume", FLAG_BOOL, &tc.resume, "with --data: continue the run in --out from its trainer state"},
      {"overwrite", FLAG_BOOL, &tc.overwrite, "with --data: start anew in an --out holding another run"},
      {"seq-len", FLAG_INT, &tc.seq_len, "with --data: tokens per row (prompt + response)", "[2, 1048576]"},
      {"batch", FLAG_INT, &tc.batch, "with --data: pairs per micro-batch (2 x batch rows)", "[1, inf)"},
      FLAGS_TRAIN_LOOP(tc, steps, warmup, "with --data: "),
      {"seed", FLAG_I64, &seed, "with --data: seed of the pair order"},
      {"quick", FLAG_BOOL, &quick, "experiment: the quick scale (3 seeds, fewer steps)"},
      FLAG_ARCH(arch),
      {"seeds", FLAG_INT, &seeds, "experiment: seeds (0: the scale's default, 5; --quick 3)", "[0, 99]"},
      {"sft-steps", FLAG_I64, &sft_steps, "experiment: SFT steps (-1: the scale's default, 800; --quick 600)", "[-1, inf)"},
      {"dpo-steps", FLAG_I64, &dpo_steps, "experiment: DPO steps (-1: the scale's default, 300; --quick 200)", "[-1, inf)"},
      {"dpo-lr", FLAG_DOUBLE, &dpo_lr, "experiment: DPO's peak learning rate (0: the default)", "[0, inf)"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
      {"quiet", FLAG_BOOL, &quiet, "no progress output"},
  };
  flag_cmd cmd = {"alab dpo --out DIR [--data PAIRS.jsonl --policy MODEL_DIR] [flags]",
                  "Direct preference optimisation (Rafailov et al. 2023): -log sigmoid(beta * ((log pi - log ref)(chosen) - "
                  "(log pi - log ref)(rejected))), log-probs summed over response tokens, the reference frozen; or IPO. "
                  "With --data it trains --policy on your pairs; without, it runs the planted-preference experiment "
                  "(the rate of the preferred behaviour from SFT to DPO on held-out prompts, and the KL to the reference).",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!out) return fprintf(stderr, "alab dpo: --out is required (see --help)\n"), 2;
  if (rpo < 0 && rpo != -1) return fprintf(stderr, "alab dpo: --rpo-alpha %g: give -1 (the default) or a value >= 0\n", rpo), 2;
  if (parse_loss(loss, &dc.type)) return fprintf(stderr, "alab dpo: --loss %s: give sigmoid or ipo\n", loss), 2;
  if (data && !policy) return fprintf(stderr, "alab dpo: --data needs --policy, the model directory to train\n"), 2;
  if (!data && (policy || refdir || val_data)) return fprintf(stderr, "alab dpo: --policy, --ref and --val-data need --data\n"), 2;
  al_quiet = quiet;
  al_set_threads(threads);
  al_err err;
  int rc;
  if (data) {
    tc.steps = steps, tc.warmup_steps = warmup, tc.seed = (uint64_t)seed, tc.out_dir = out;
    dc.rpo_alpha = rpo > 0 ? rpo : 0;
    static const char *const free_on_resume[] = {"out", "resume", "overwrite", "threads", "quiet", "ckpt-every", NULL};
    json_t *settings = flags_to_json(&cmd, free_on_resume);
    tc.settings = settings;
    rc = train_on_data(data, val_data, val_frac, policy, refdir, tmpl_path, &dc, &tc, &err);
    json_decref(settings);
  } else {
    al_dpo_exp_defaults(&ec, quick);
    ec.arch = arch;
    if (seeds > 0) ec.seeds = seeds;
    if (sft_steps >= 1) ec.sft_steps = sft_steps;
    if (dpo_steps >= 1) ec.dpo_steps = dpo_steps;
    if (dpo_lr > 0) ec.dpo_lr = dpo_lr;
    ec.dpo = dc, ec.threads = threads;
    if (rpo >= 0) ec.rpo_alpha = rpo;
    rc = al_dpo_exp_run(&ec, out, &err);
    if (!rc) printf("dpo: results in %s/results.json, report %s/report.html\n", out, out);
  }
  if (rc) fprintf(stderr, "alab dpo: %s\n", err.msg);
  return rc ? 1 : 0;
}

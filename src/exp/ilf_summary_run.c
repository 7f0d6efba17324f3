/* The summaries loop of `alab ilf` on alab's own models (al_ilf_sum_run in
 * include/alab/ilf.h): per seed, train a BPE tokenizer, the summariser and
 * the refiner; one round through local providers (ilf_summary_loop.c) with
 * the exact critic and selector; finetune copies of the summariser on the
 * selected refinements (ILF) and on every refinement (untested); fact
 * accuracy of the three on fresh stories. Seeds in parallel, each
 * single-threaded inside, so the numbers do not depend on the thread count.
 *
 * Run directory: config.json, metrics.jsonl (per seed and policy),
 * results.json, accuracy.svg, and seed1/ with every intermediate:
 * policy_data.jsonl, refiner_data.jsonl, ilf.jsonl (per story: summary,
 * score, feedback, refinement, its score, selected), keep.jsonl (the ILF
 * set), eval_{base,ilf,untested}.jsonl and the model directories policy/,
 * refiner/, policy_ilf/. */
#include <stdlib.h>
#include <string.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "alab/sweep.h"
#include "exp/ilf_internal.h"

enum { CONTEXT = 320, REFINER_T = 96, MAX_TOKENS = 40, PROBE_PAIRS = 200 };

void al_ilf_sum_defaults(al_ilf_sum_cfg *c, int quick) {
  memset(c, 0, sizeof *c);
  c->seeds = quick ? 3 : 5;
  c->n_policy = 2000, c->n_refiner = 2000;
  c->p_wrong[0] = 0.4, c->p_wrong[1] = 0.3, c->p_wrong[2] = 0.2;
  c->policy_steps = quick ? 300 : 600, c->ilf_steps = quick ? 40 : 80;
  c->refiner_steps = 1200; /* until it refines its held-out pairs (docs/ilf.md: 400 steps 0.60 of the named facts right, 1,200 all) */
  c->lr = 3e-3, c->ilf_lr = 1e-3;
  c->n_ilf = quick ? 128 : 256, c->n_eval = quick ? 48 : 96, c->samples = quick ? 2 : 4;
  c->arch = "gpt2";
  c->vocab = 1024, c->layers = 2, c->heads = 4, c->embd = 64, c->batch = 16;
}

/* The prompt + completion text of every JSONL line, for the tokenizer. */
static void sft_text(const char *jsonl, al_buf *out) {
  for (const char *p = jsonl; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    json_t *o = json_loadb(p, len, 0, NULL);
    al_buf_printf(out, "%s%s%s", json_string_value(json_object_get(o, "prompt")),
                  json_string_value(json_object_get(o, "completion")), AL_SYNTH_SEP);
    json_decref(o);
    p += len + (nl != NULL);
  }
}

typedef struct {
  int n;
  char **text;
  ilf_facts *facts;
} stories;

static void stories_make(stories *s, uint64_t seed, uint64_t stream, int n, int names) {
  s->n = n, s->text = al_calloc((size_t)n, sizeof(char *)), s->facts = al_calloc((size_t)n, sizeof(ilf_facts));
  ilf_sum_stories(seed, stream, n, names, s->text, s->facts);
}

static void stories_free(stories *s) {
  ilf_free_strs(s->text, (size_t)s->n), free(s->facts);
}

static int run_seed(const al_ilf_sum_cfg *c, uint64_t seed, const char *dir, al_ilf_sum_seed *out, al_err *err) {
  memset(out, 0, sizeof *out);
  char *pdata = ilf_sum_policy_data(seed, c->n_policy, c->names, c->p_wrong),
       *rdata = ilf_sum_refiner_data(seed, c->n_refiner, c->names);
  al_buf corpus = {0};
  sft_text(pdata, &corpus), sft_text(rdata, &corpus);
  al_tok *tok = NULL;
  al_model policy = {0}, refiner = {0}, tuned[2];
  memset(tuned, 0, sizeof tuned);
  al_provider *pp = NULL, *rp = NULL, *tp[2] = {NULL, NULL};
  stories ilf = {0}, ev = {0};
  stories_make(&ilf, seed, 404, c->n_ilf, c->names), stories_make(&ev, seed, 303, c->n_eval, c->names);
  ilf_sum_round round = {0};
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = 1;
  int was = al_log_mute(1);
  int rc = al_tok_train(&tok, corpus.data, corpus.len, c->vocab, err);
  al_log_mute(was);
  al_model_config mc = {.vocab_size = rc ? 0 : al_tok_vocab_size(tok), .n_positions = CONTEXT, .n_layer = c->layers,
                        .n_head = c->heads, .n_embd = c->embd};
  rc = rc || ilf_write_text(dir, "policy_data.jsonl", pdata, err) || ilf_write_text(dir, "refiner_data.jsonl", rdata, err) ||
       al_model_config_set_arch(&mc, c->arch, err) || al_model_init(&policy, &mc, seed, err) ||
       al_model_init(&refiner, &mc, seed + 7777, err) ||
       ilf_sft(&policy, tok, pdata, "the summariser's demonstrations", CONTEXT, c->policy_steps, c->lr, c->batch, seed, err) ||
       ilf_sft(&refiner, tok, rdata, "the refiner's examples", REFINER_T, c->refiner_steps, c->lr, c->batch, seed + 1, err) ||
       al_provider_local_wrap(&pp, &policy, tok, "policy", &lc, err) || al_provider_local_wrap(&rp, &refiner, tok, "refiner", &lc, err);
  ilf_sum_roles roles = {.policy = pp, .refiner = rp, .temperature = 1.0, .max_tokens = MAX_TOKENS};
  if (!rc) /* the refiner's competence on pairs it was not trained on, before the loop uses it */
    rc = ilf_sum_refiner_probe(rp, seed + 1000, PROBE_PAIRS, c->names, MAX_TOKENS, &out->refiner_exact, &out->refiner_value,
                               &out->refiner_other, err);
  if (!rc) rc = ilf_sum_collect(&roles, ilf.text, ilf.facts, ilf.n, seed + 11, &round, err);
  if (!rc) {
    out->attempted = round.attempted, out->with_feedback = round.with_feedback, out->selected = round.selected;
    out->improved = round.improved, out->selected_improved = round.selected_improved;
    out->selected_exact = round.selected_exact, out->unchanged = round.unchanged;
    rc = ilf_write_text(dir, "ilf.jsonl", round.records.data ? round.records.data : "", err) ||
         ilf_write_text(dir, "keep.jsonl", round.keep.data ? round.keep.data : "", err);
  }
  /* ILF on the selected refinements; the ablation on every one, the same steps */
  const char *sets[2] = {round.keep.data, round.all.data}, *names[2] = {"the selected refinements", "every refinement"};
  for (int v = 0; v < 2 && !rc; v++) {
    rc = al_model_alloc(&tuned[v], &policy.cfg, err);
    if (rc) break;
    memcpy(tuned[v].params, policy.params, sizeof(float) * policy.nparams);
    if (sets[v]) rc = ilf_sft(&tuned[v], tok, sets[v], names[v], CONTEXT, c->ilf_steps, c->ilf_lr, c->batch, seed + 21 + v, err);
    if (!rc) rc = al_provider_local_wrap(&tp[v], &tuned[v], tok, names[v], &lc, err);
  }
  al_provider *ps[3] = {pp, tp[0], tp[1]};
  const char *files[3] = {"eval_base.jsonl", "eval_ilf.jsonl", "eval_untested.jsonl"};
  for (int v = 0; v < 3 && !rc; v++) {
    al_buf er = {0};
    rc = ilf_sum_evaluate(ps[v], &roles, ev.text, ev.facts, ev.n, c->samples, seed + 31, &out->acc[v], &out->exact[v],
                          dir ? &er : NULL, err) ||
         ilf_write_text(dir, files[v], er.data ? er.data : "", err);
    al_buf_free(&er);
  }
  if (!rc && dir) rc = ilf_save_models(dir, tok, &policy, &refiner, &tuned[0], err);
  al_provider_free(pp), al_provider_free(rp), al_provider_free(tp[0]), al_provider_free(tp[1]);
  ilf_sum_round_free(&round), stories_free(&ilf), stories_free(&ev);
  al_model_free(&policy), al_model_free(&refiner), al_model_free(&tuned[0]), al_model_free(&tuned[1]);
  al_tok_free(tok), al_buf_free(&corpus), free(pdata), free(rdata);
  return rc ? al_fail_prefix(err, "summaries, seed %llu", (unsigned long long)seed) : 0;
}

static json_t *config_json(const al_ilf_sum_cfg *c) {
  json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:[f,f,f], s:I, s:I, s:I, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b}",
                   "experiment", "ilf summaries", "seeds", c->seeds, "n_policy", c->n_policy, "n_refiner", c->n_refiner,
                   "p_wrong", c->p_wrong[0], c->p_wrong[1], c->p_wrong[2], "policy_steps", (json_int_t)c->policy_steps,
                   "refiner_steps", (json_int_t)c->refiner_steps, "ilf_steps", (json_int_t)c->ilf_steps, "lr", c->lr,
                   "ilf_lr", c->ilf_lr, "n_ilf", c->n_ilf, "n_eval", c->n_eval, "samples", c->samples, "vocab", c->vocab,
                   "layers", c->layers, "heads", c->heads, "embd", c->embd, "batch", c->batch, "context", CONTEXT, "names", c->names);
  json_object_set_new(j, "arch", json_string(c->arch));
  return j;
}

int ilf_sum_check(const al_ilf_sum_cfg *c, al_err *err) {
  if (c->seeds < 1 || c->seeds > 99) return al_fail(err, "ilf summaries: seeds %d is outside [1, 99]", c->seeds);
  if (c->n_policy < 1 || c->n_refiner < 1 || c->n_ilf < 1 || c->n_eval < 1 || c->samples < 1)
    return al_fail(err, "ilf summaries: the example, story and sample counts must be positive");
  if (c->policy_steps < 1 || c->refiner_steps < 1 || c->ilf_steps < 1)
    return al_fail(err, "ilf summaries: step counts must be positive");
  for (int i = 0; i < 3; i++)
    if (!(c->p_wrong[i] >= 0 && c->p_wrong[i] <= 1))
      return al_fail(err, "ilf summaries: p_wrong[%d] = %g is outside [0, 1]", i, c->p_wrong[i]);
  if (c->vocab < 257 || c->layers < 1 || c->heads < 1 || c->embd < c->heads || c->embd % c->heads || c->batch < 1)
    return al_fail(err, "ilf summaries: vocab >= 257, layers, heads and batch positive, embd a multiple of heads");
  return 0;
}

static const char *NAMES[3] = {"base", "ilf", "untested"};

int al_ilf_sum_run(const al_ilf_sum_cfg *c, int threads, const char *dir, al_ilf_sum_result *res, al_err *err) {
  if (res) memset(res, 0, sizeof *res);
  if (ilf_sum_check(c, err)) return -1;
  al_run run;
  if (al_run_open(&run, dir, err)) return -1;
  json_t *config = config_json(c);
  int rc = al_run_save_json(&run, "config.json", config, err), S = c->seeds;
  json_decref(config);
  double t0 = al_now();
  al_ilf_sum_result r = {.seeds = S, .s = al_calloc((size_t)S, sizeof(al_ilf_sum_seed))};
  al_first_err first = {0};
  char *files = al_path_join(dir, "seed1");
  if (!rc) rc = al_mkdir_p(files, err);
  al_sweep *sw = al_sweep_begin(S, &run); /* under mpirun seed s runs on rank s mod R (include/alab/sweep.h) */
  al_sweep_share(sw, r.s, sizeof *r.s * (size_t)S);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 0 ? threads : al_default_threads())
  for (int s = 0; s < S; s++) {
    if (rc || !al_sweep_mine(sw, s) || al_first_err_failed(&first)) continue;
    al_err e;
    int was = al_log_mute(1);
    int failed = run_seed(c, (uint64_t)s + 1, s == 0 ? files : NULL, &r.s[s], &e);
    al_log_mute(was);
    if (failed) al_first_err_keep(&first, &e);
    else
      al_log("ilf summaries: seed %d: fact accuracy %.3f (base) -> %.3f (ILF), %.3f (untested); %d of %d refinements selected",
             s + 1, r.s[s].acc[0], r.s[s].acc[1], r.s[s].acc[2], r.s[s].selected, r.s[s].with_feedback);
  }
  free(files);
  if (!rc && first.failed) *err = first.err, rc = -1;
  rc = al_sweep_end(sw, rc, err);
  double v[3][100], g[3][100];
  for (int s = 0; s < S && !rc; s++) {
    const al_ilf_sum_seed *x = &r.s[s];
    for (int k = 0; k < 3; k++) v[k][s] = x->acc[k];
    g[0][s] = x->acc[1] - x->acc[0], g[1][s] = x->acc[2] - x->acc[0], g[2][s] = x->acc[1] - x->acc[2];
    for (int k = 0; k < 3 && !rc; k++)
      rc = al_run_metric(&run, json_pack("{s:i, s:s, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}", "seed", s + 1, "policy",
                                         NAMES[k], "fact_accuracy", x->acc[k], "exact", x->exact[k], "ilf_attempted",
                                         x->attempted, "with_feedback", x->with_feedback, "selected", x->selected, "improved",
                                         x->improved, "selected_improved", x->selected_improved, "selected_exact",
                                         x->selected_exact, "unchanged", x->unchanged, "refiner_exact", x->refiner_exact), err);
  }
  if (!rc) {
    for (int k = 0; k < 3; k++) r.acc[k] = al_stat_of(v[k], S);
    r.gain_ilf = al_stat_of(g[0], S), r.gain_untested = al_stat_of(g[1], S), r.ilf_vs_untested = al_stat_of(g[2], S);
    char h[3][300];
    snprintf(h[0], sizeof h[0], "summaries: fact accuracy on %d held-out stories (%d summaries each, temperature 1), base %.3f "
             "[%.3f, %.3f] (%d seeds)", c->n_eval, c->samples, r.acc[0].mean, r.acc[0].lo, r.acc[0].hi, S);
    snprintf(h[1], sizeof h[1], "summaries: after ILF on refinements that incorporate the feedback %.3f [%.3f, %.3f]; gain "
             "%+.3f [%+.3f, %+.3f]%s", r.acc[1].mean, r.acc[1].lo, r.acc[1].hi, r.gain_ilf.mean, r.gain_ilf.lo, r.gain_ilf.hi,
             r.gain_ilf.lo > 0 ? " (CI excludes 0)" : " (CI includes 0)");
    snprintf(h[2], sizeof h[2], "summaries: every refinement kept untested %.3f [%.3f, %.3f]; ILF minus untested (paired) "
             "%+.3f [%+.3f, %+.3f]", r.acc[2].mean, r.acc[2].lo, r.acc[2].hi, r.ilf_vs_untested.mean, r.ilf_vs_untested.lo,
             r.ilf_vs_untested.hi);
    json_t *per_seed = json_array();
    for (int s = 0; s < S; s++) {
      const al_ilf_sum_seed *x = &r.s[s];
      json_array_append_new(per_seed, json_pack("{s:i, s:[f,f,f], s:[f,f,f], s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "seed",
                                                s + 1, "fact_accuracy", x->acc[0], x->acc[1], x->acc[2], "exact", x->exact[0],
                                                x->exact[1], x->exact[2], "ilf_attempted", x->attempted, "with_feedback",
                                                x->with_feedback, "selected", x->selected, "improved", x->improved,
                                                "selected_improved", x->selected_improved, "selected_exact",
                                                x->selected_exact, "unchanged", x->unchanged));
      json_object_set_new(json_array_get(per_seed, (size_t)s), "refiner_heldout",
                          json_pack("{s:i, s:f, s:f, s:f}", "pairs", PROBE_PAIRS, "exact", x->refiner_exact, "named_fact_right",
                                    x->refiner_value, "named_fact_other_value", x->refiner_other));
    }
    json_t *out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[s,s,s], s:f}", "experiment", "ilf summaries",
                            "acc_base", ilf_stat_json(&r.acc[0], v[0], S), "acc_ilf", ilf_stat_json(&r.acc[1], v[1], S),
                            "acc_untested", ilf_stat_json(&r.acc[2], v[2], S), "gain_ilf", ilf_stat_json(&r.gain_ilf, g[0], S),
                            "gain_untested", ilf_stat_json(&r.gain_untested, g[1], S), "ilf_minus_untested",
                            ilf_stat_json(&r.ilf_vs_untested, g[2], S), "per_seed", per_seed, "headline", h[0], h[1], h[2],
                            "seconds", al_now() - t0);
    rc = al_run_save_json(&run, "results.json", out, err);
    json_decref(out);
    static const char *const labels[3] = {"base", "ILF (selected refinements)", "untested refinements"};
    if (!rc) rc = ilf_plot3(dir, "accuracy", "ILF on story summaries: fact accuracy on held-out stories", "fact accuracy", labels,
                            r.acc, err);
  }
  if (rc) al_run_abort(&run);
  else rc = al_run_close(&run, err);
  if (res && !rc) *res = r;
  else free(r.s);
  return rc;
}

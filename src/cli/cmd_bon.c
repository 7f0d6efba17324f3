/* alab bon: best-of-n from a policy scored by a proxy reward model (and a
 * gold one): the expected reward of the pick for n = 1, 2, 4, ..., N from the
 * same N samples per prompt, with KL(best-of-n || policy). */
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/gold.h"
#include "alab/json.h"
#include "alab/reward.h"
#include "cli/flags.h"
#include "cli/model_io.h"

/* One prompt per non-empty line of path ("\n" written as \n stays literal). */
static int read_prompts(const char *path, char **data, const char ***prompts, int *n, al_err *err) {
  size_t len;
  if (al_read_file(path, data, &len, err)) return -1;
  *prompts = NULL, *n = 0;
  for (char *line = *data, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (!*line) continue;
    *prompts = al_realloc(*prompts, sizeof(char *) * (size_t)(*n + 1));
    (*prompts)[(*n)++] = line;
  }
  if (*n == 0) return al_fail(err, "%s: no prompts (one per line)", path);
  return 0;
}

static json_t *stat_json(const al_stat *s) {
  return json_pack("{s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(s->mean), "se", al_json_real_or_null(s->se),
                   "ci95_lo", al_json_real_or_null(s->lo), "ci95_hi", al_json_real_or_null(s->hi));
}

int cmd_bon(int argc, char **argv) {
  const char *policy_dir = NULL, *rm_dir = NULL, *gold_dir = NULL, *prompt = NULL, *prompts_path = NULL, *out = NULL;
  int N = 16, max_new = 64, threads = 0, gold_story = 0;
  int64_t seed = 1;
  double temperature = 1.0, top_p = 1.0;
  int top_k = 0;
  flag_def f[] = {
      {"policy", FLAG_STRING, &policy_dir, "the policy: a language model directory"},
      {"rm", FLAG_STRING, &rm_dir, "the proxy reward model directory (the pick is its argmax)"},
      {"gold-rm", FLAG_STRING, &gold_dir, "a gold reward model directory, scored on the same picks (optional)"},
      {"gold-story", FLAG_BOOL, &gold_story, "gold = the story world's exact reward of prompt + response "
                                             "(docs/overopt.md; instead of --gold-rm)"},
      {"prompt", FLAG_STRING, &prompt, "one prompt"},
      {"prompts", FLAG_STRING, &prompts_path, "a file of prompts, one per line"},
      {"n", FLAG_INT, &N, "samples per prompt (N): every n = 1, 2, 4, ..., N is estimated from them", "[1, 65536]"},
      {"max-new", FLAG_INT, &max_new, "most tokens per response (the end-of-text token ends one sooner)", "[1, 1048576]"},
      {"temperature", FLAG_DOUBLE, &temperature, "sampling temperature (0: greedy)", "[0, inf)"},
      {"top-k", FLAG_INT, &top_k, "sample among the k most likely tokens (0: all)", "[0, inf)"},
      {"top-p", FLAG_DOUBLE, &top_p, "nucleus sampling mass (1: off)", "(0, 1]"},
      {"seed", FLAG_I64, &seed, "seed of the samples (prompt p uses seed + p)"},
      {"out", FLAG_STRING, &out, "write results.json here (a directory; optional)"},
      {"threads", FLAG_INT, &threads, FLAG_THREADS_HELP, FLAG_THREADS_RANGE},
  };
  flag_cmd cmd = {"alab bon --policy DIR --rm DIR (--prompt TEXT | --prompts FILE) [flags]",
                  "Best-of-n: samples N responses per prompt (batched decoding), scores them with the proxy reward "
                  "model (and a gold one), and prints the expected reward of the proxy's pick for n = 1, 2, 4, ..., N "
                  "(the unbiased estimate over all size-n subsets of the N samples, averaged over prompts with 95% "
                  "intervals) with KL(best-of-n || policy) = log n - (n-1)/n.",
                  f, sizeof f / sizeof f[0]};
  int pr = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (pr) return pr > 0 ? 0 : 2;
  if (!policy_dir || !rm_dir || !prompt == !prompts_path) {
    fprintf(stderr, "alab bon: --policy, --rm and one of --prompt or --prompts are required (see --help)\n");
    return 2;
  }
  if (gold_dir && gold_story) {
    fprintf(stderr, "alab bon: --gold-rm and --gold-story are two gold rewards: give one\n");
    return 2;
  }
  al_set_threads(threads);
  al_err err;
  al_model policy = {0}, rm = {0}, gold = {0};
  al_tok *tok = NULL, *rm_tok = NULL, *gold_tok = NULL;
  char *data = NULL;
  const char **prompts = NULL;
  int np = 0, rc = 0;
  al_bon_result res = {0};
  if (prompts_path) {
    if (read_prompts(prompts_path, &data, &prompts, &np, &err)) goto fail;
  } else {
    prompts = al_malloc(sizeof *prompts);
    prompts[0] = prompt, np = 1;
  }
  if (cli_load_model(policy_dir, &policy, &tok, &err) || al_rm_load(&rm, rm_dir, &err) || al_tok_load(&rm_tok, rm_dir, &err) ||
      (gold_dir && (al_rm_load(&gold, gold_dir, &err) || al_tok_load(&gold_tok, gold_dir, &err))))
    goto fail;
  al_bon_scorer ps = {&rm, rm_tok, NULL}, gs = {&gold, gold_tok, gold_story ? al_gold_story : NULL};
  al_bon_cfg c = {prompts, np, N, max_new, {(float)temperature, (float)top_p, top_k}, (uint64_t)seed};
  if (al_bon_run(&policy, tok, &ps, gold_dir || gold_story ? &gs : NULL, &c, &res, &err)) goto fail;
  printf("%6s %8s %28s %28s\n", "n", "KL", "proxy mean [95% CI]", res.gold ? "gold mean [95% CI]" : "");
  for (int k = 0; k < res.nn; k++) {
    printf("%6d %8.4f %10.4f [%7.4f, %7.4f]", res.n[k], res.kl[k], res.proxy[k].mean, res.proxy[k].lo, res.proxy[k].hi);
    if (res.gold) printf(" %10.4f [%7.4f, %7.4f]", res.gold[k].mean, res.gold[k].lo, res.gold[k].hi);
    printf("\n");
  }
  printf("%d prompts x %d samples: %ld tokens sampled in %.2f s (%.0f tokens/s), scored in %.2f s\n", np, N, res.tokens,
         res.sample_s, res.tokens / (res.sample_s > 0 ? res.sample_s : 1), res.score_s);
  if (out) {
    json_t *rows = json_array();
    for (int k = 0; k < res.nn; k++) {
      json_t *row = json_pack("{s:i, s:o, s:o}", "n", res.n[k], "kl", al_json_real_or_null(res.kl[k]), "proxy",
                              stat_json(&res.proxy[k]));
      if (res.gold) json_object_set_new(row, "gold", stat_json(&res.gold[k]));
      json_array_append_new(rows, row);
    }
    json_t *j = json_pack("{s:s, s:s, s:o, s:i, s:i, s:i, s:I, s:o}", "policy", policy_dir, "rm", rm_dir, "gold",
                          gold_dir ? json_string(gold_dir) : gold_story ? json_string("story") : json_null(), "prompts", np, "N", N, "max_new", max_new,
                          "seed", (json_int_t)seed, "best_of_n", rows);
    char *path = al_path_join(out, "results.json");
    int bad = al_mkdir_p(out, &err) || al_json_save_file(path, j, &err);
    free(path);
    json_decref(j);
    if (bad) goto fail;
  }
  goto done;
fail:
  fprintf(stderr, "alab bon: %s\n", err.msg);
  rc = 1;
done:
  al_bon_result_free(&res);
  al_model_free(&policy), al_model_free(&rm), al_model_free(&gold);
  al_tok_free(tok), al_tok_free(rm_tok), al_tok_free(gold_tok);
  free(prompts), free(data);
  return rc;
}

/* One seed of `alab ilf` (include/alab/ilf.h): train the policy and the
 * refiner, collect feedback and refinements, select by the tests in the
 * sandbox, finetune, evaluate pass@k before and after. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/bon.h"
#include "alab/code.h"
#include "alab/sft.h"
#include "alab/train.h"
#include "exp/ilf_internal.h"

enum { CONTEXT = 192, POLICY_T = 80, MAX_NEW = 72 };

/* SFT of m on JSONL prompt/completion lines (loss on completions). */
int ilf_sft(al_model *m, const al_tok *tok, const char *jsonl, const char *what, int T, long steps, double lr,
               int batch, uint64_t seed, al_err *err) {
  al_sft_data d = {0};
  if (al_sft_read_buf(jsonl, strlen(jsonl), what, NULL, tok, 0, &d, err)) return -1;
  al_train_cfg tc;
  al_train_defaults(&tc);
  tc.batch = batch, tc.seq_len = T, tc.steps = steps, tc.warmup_steps = steps / 10;
  tc.lr = lr, tc.eval_every = 0, tc.seed = seed, tc.save_final = 0;
  al_masked_source ms;
  al_sft_source *src = al_sft_source_new(&d, NULL, batch, T, seed, 1, al_tok_eot(tok), &ms);
  al_objective o = {0};
  int rc = al_objective_masked(&o, m, &tc, &ms, err) || al_train_objective(m, &tc, &o, NULL, NULL, err);
  al_objective_free(&o);
  al_sft_source_free(src);
  al_sft_data_free(&d);
  return rc ? al_fail_prefix(err, "training on %s", what) : 0;
}

/* N completions of each prompt (temperature 0: greedy), outs[i * N + j]. */
static int sample(const al_model *m, const al_tok *tok, char *const *prompts, int n, int N, float temperature,
                  uint64_t seed, char **outs, al_err *err) {
  int eot = al_tok_eot(tok), rc = 0;
  al_sample_cfg sc = {.temperature = temperature, .top_p = 1, .top_k = 0};
  int32_t *out = al_malloc(sizeof *out * (size_t)N * MAX_NEW), *ids = NULL;
  int *lens = al_malloc(sizeof *lens * (size_t)N);
  size_t cap = 0;
  for (int i = 0; i < n && !rc; i++) {
    size_t np = 0;
    if (al_tok_encode(tok, prompts[i], strlen(prompts[i]), 0, &ids, &np, &cap, err) < 0 ||
        al_bon_sample(m, ids, (int)np, N, MAX_NEW, &sc, seed * 1000003u + (uint64_t)i, eot, out, lens, err)) {
      rc = -1;
      break;
    }
    for (int j = 0; j < N && !rc; j++) {
      const int32_t *y = out + (size_t)j * MAX_NEW;
      int len = lens[j] - (lens[j] > 0 && y[lens[j] - 1] == eot);
      size_t tl;
      rc = al_tok_decode(tok, y, (size_t)len, &outs[(size_t)i * N + j], &tl, err);
      if (!rc) ilf_ascii(outs[(size_t)i * N + j]);
    }
  }
  free(out), free(lens), free(ids);
  return rc;
}

/* Runs program_k + "\n" + tests of its task for k < n; verdicts into st. */
static int run_tests(al_sandbox *sb, int workers, char *const *programs, char *const *tests, int per_task, int n,
                     al_sb_status *st, al_err *err) {
  char **full = al_malloc(sizeof *full * (size_t)n);
  al_sb_result *r = al_calloc((size_t)n, sizeof *r);
  for (int k = 0; k < n; k++) {
    al_buf b = {0};
    al_buf_printf(&b, "%s\n%s", programs[k], tests[k / per_task]);
    full[k] = b.data;
  }
  int rc = al_sandbox_run_many(sb, n, (const char *const *)full, r, workers, err);
  for (int k = 0; k < n; k++) {
    if (!rc) st[k] = r[k].status;
    al_sb_result_free(&r[k]);
    free(full[k]);
  }
  free(full), free(r);
  return rc;
}

typedef struct {
  int n;
  ilf_spec *spec;
  char **prompt, **tests;
} task_set;

static void tasks_make(task_set *t, int n, uint64_t seed, uint64_t stream, int ntests) {
  al_rng rng;
  al_rng_seed_stream(&rng, seed, stream);
  t->n = n;
  t->spec = al_malloc(sizeof *t->spec * (size_t)n);
  t->prompt = al_malloc(sizeof(char *) * (size_t)n);
  t->tests = al_malloc(sizeof(char *) * (size_t)n);
  for (int i = 0; i < n; i++) {
    ilf_random_spec(&rng, &t->spec[i]);
    t->prompt[i] = ilf_prompt(&t->spec[i]);
    t->tests[i] = ilf_tests(&t->spec[i], &rng, ntests);
  }
}

static void tasks_free(task_set *t) {
  for (int i = 0; i < t->n; i++) free(t->prompt[i]), free(t->tests[i]);
  free(t->spec), free(t->prompt), free(t->tests);
}

int ilf_save_models(const char *dir, const al_tok *tok, const al_model *policy, const al_model *refiner,
                    const al_model *tuned, al_err *err) {
  char *p[3] = {al_path_join(dir, "policy"), al_path_join(dir, "refiner"), al_path_join(dir, "policy_ilf")};
  int rc = al_model_save_dir(policy, tok, p[0], err) || al_model_save_dir(refiner, tok, p[1], err) ||
           al_model_save_dir(tuned, tok, p[2], err);
  free(p[0]), free(p[1]), free(p[2]);
  return rc;
}

void ilf_ascii(char *s) {
  for (char *q = s; q && *q; q++)
    if ((unsigned char)*q >= 0x7F || ((unsigned char)*q < 0x20 && *q != '\n' && *q != '\t')) *q = '?';
}

void ilf_free_strs(char **s, size_t n) {
  for (size_t i = 0; s && i < n; i++) free(s[i]);
  free(s);
}

int ilf_write_text(const char *dir, const char *name, const char *text, al_err *err) {
  if (!dir) return 0;
  char *p = al_path_join(dir, name);
  int rc = al_write_file_atomic(p, text, strlen(text), err);
  free(p);
  return rc;
}

/* pass@1 and pass@N of m on the tasks (N samples each); records (may be
 * NULL) gets one JSONL line per sample. */
static int evaluate(const al_ilf_cfg *c, al_sandbox *sb, const al_model *m, const al_tok *tok, const task_set *t,
                    uint64_t seed, double *pass1, double *passk, al_buf *records, al_err *err) {
  int N = c->samples;
  size_t total = (size_t)t->n * N;
  char **outs = al_calloc(total, sizeof(char *));
  al_sb_status *st = al_malloc(sizeof *st * total);
  int rc = sample(m, tok, t->prompt, t->n, N, 1.0f, seed, outs, err) ||
           run_tests(sb, c->workers, outs, t->tests, N, (int)total, st, err);
  double s1 = 0, sk = 0;
  for (int i = 0; i < t->n && !rc; i++) {
    int passed = 0;
    for (int j = 0; j < N; j++) {
      size_t k = (size_t)i * N + j;
      passed += st[k] == AL_SB_PASSED;
      if (records) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "prompt", t->prompt[i], "program", outs[k], "verdict", al_sb_status_name(st[k]));
        char *line = json_dumps(o, JSON_COMPACT);
        al_buf_printf(records, "%s\n", line);
        free(line), json_decref(o);
      }
    }
    s1 += al_pass_at_k(N, passed, 1), sk += al_pass_at_k(N, passed, N);
  }
  *pass1 = s1 / t->n, *passk = sk / t->n;
  ilf_free_strs(outs, total), free(st);
  return rc;
}

int ilf_run_seed(const al_ilf_cfg *c, al_sandbox *sb, uint64_t seed, const char *dir, al_ilf_seed *out, al_err *err) {
  memset(out, 0, sizeof *out);
  al_tok *tok = al_tok_byte();
  al_model_config mc = {.vocab_size = al_tok_vocab_size(tok), .n_positions = CONTEXT, .n_layer = c->layers,
                        .n_head = c->heads, .n_embd = c->embd};
  al_model policy = {0}, refiner = {0}, tuned[2];
  memset(tuned, 0, sizeof tuned);
  char *pdata = ilf_policy_data(seed, c->n_policy, c->p_wrong), *rdata = ilf_refiner_data(seed, c->n_refiner);
  task_set ilf = {0}, ev = {0};
  tasks_make(&ilf, c->n_ilf, seed, 404, c->ntests);
  tasks_make(&ev, c->n_eval, seed, 303, c->ntests);
  char **prog = al_calloc((size_t)c->n_ilf, sizeof(char *)), **fb = al_calloc((size_t)c->n_ilf, sizeof(char *));
  char **rprompt = al_calloc((size_t)c->n_ilf, sizeof(char *)), **refined = al_calloc((size_t)c->n_ilf, sizeof(char *));
  al_sb_status *st = al_malloc(sizeof *st * (size_t)c->n_ilf), *rst = al_malloc(sizeof *rst * (size_t)c->n_ilf);
  al_buf rec = {0}, keep = {0}, all = {0};
  int rc = ilf_write_text(dir, "policy_data.jsonl", pdata, err) || ilf_write_text(dir, "refiner_data.jsonl", rdata, err) ||
           al_model_config_set_arch(&mc, c->arch, err) || al_model_init(&policy, &mc, seed, err) ||
           al_model_init(&refiner, &mc, seed + 7777, err) ||
           ilf_sft(&policy, tok, pdata, "the policy's demonstrations", POLICY_T, c->policy_steps, c->lr, c->batch, seed, err) ||
           ilf_sft(&refiner, tok, rdata, "the refiner's examples", CONTEXT, c->refiner_steps, c->lr, c->batch, seed + 1, err);
  /* the policy attempts the ILF tasks once each; the failures get feedback and a refinement */
  if (!rc) rc = sample(&policy, tok, ilf.prompt, ilf.n, 1, 1.0f, seed + 11, prog, err) ||
                run_tests(sb, c->workers, prog, ilf.tests, 1, ilf.n, st, err);
  int nref = 0;
  int *which = al_malloc(sizeof(int) * (size_t)(c->n_ilf + 1));
  for (int i = 0; i < ilf.n && !rc; i++) {
    out->attempted++;
    if (st[i] == AL_SB_PASSED) continue;
    out->failed++;
    fb[i] = ilf_feedback(&ilf.spec[i], prog[i]);
    if (!fb[i]) fb[i] = al_strdup("the program fails its tests"); /* a right program that failed: cannot happen in this world */
    rprompt[nref] = ilf_refiner_prompt(ilf.prompt[i], prog[i], fb[i]);
    which[nref++] = i;
  }
  char **rout = al_calloc((size_t)nref + 1, sizeof(char *)), **rtests = al_calloc((size_t)nref + 1, sizeof(char *));
  for (int j = 0; j < nref; j++) rtests[j] = ilf.tests[which[j]];
  if (!rc && nref) rc = sample(&refiner, tok, rprompt, nref, 1, 0.0f, seed + 13, rout, err) ||
                        run_tests(sb, c->workers, rout, rtests, 1, nref, rst, err);
  for (int j = 0; j < nref && !rc; j++) {
    int i = which[j];
    ilf_spec parsed;
    refined[i] = rout[j], rout[j] = NULL;
    out->parsed += ilf_parse(refined[i], &parsed) == 0;
    int pass = rst[j] == AL_SB_PASSED;
    out->refined_passed += pass;
    if (pass) ilf_sft_line(&keep, ilf.prompt[i], refined[i]);
    ilf_sft_line(&all, ilf.prompt[i], refined[i]);
  }
  for (int i = 0; i < ilf.n && !rc && dir; i++) {
    int j = 0;
    while (j < nref && which[j] != i) j++;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "prompt", ilf.prompt[i], "tests", ilf.tests[i], "output", prog[i],
                          "verdict", al_sb_status_name(st[i]));
    if (fb[i]) {
      json_object_set_new(o, "feedback", json_string(fb[i]));
      json_object_set_new(o, "refinement", json_string(refined[i]));
      json_object_set_new(o, "refinement_verdict", json_string(al_sb_status_name(rst[j])));
      json_object_set_new(o, "kept", json_boolean(rst[j] == AL_SB_PASSED));
    }
    char *line = json_dumps(o, JSON_COMPACT);
    al_buf_printf(&rec, "%s\n", line);
    free(line), json_decref(o);
  }
  if (!rc) rc = ilf_write_text(dir, "ilf.jsonl", rec.data ? rec.data : "", err);
  /* finetune copies of the policy: ILF on the refinements that pass; untested on all of them */
  const char *sets[2] = {keep.data, all.data}, *names[2] = {"the refinements that pass", "every refinement"};
  for (int v = 0; v < 2 && !rc; v++) {
    rc = al_model_alloc(&tuned[v], &policy.cfg, err);
    if (rc) break;
    memcpy(tuned[v].params, policy.params, sizeof(float) * policy.nparams);
    if (sets[v]) rc = ilf_sft(&tuned[v], tok, sets[v], names[v], POLICY_T, c->ilf_steps, c->ilf_lr, c->batch, seed + 21 + v, err);
  }
  const al_model *ms[3] = {&policy, &tuned[0], &tuned[1]};
  const char *files[3] = {"eval_base.jsonl", "eval_ilf.jsonl", "eval_untested.jsonl"};
  for (int v = 0; v < 3 && !rc; v++) {
    al_buf er = {0};
    rc = evaluate(c, sb, ms[v], tok, &ev, seed + 31, &out->pass1[v], &out->passk[v], dir ? &er : NULL, err) ||
         ilf_write_text(dir, files[v], er.data ? er.data : "", err);
    al_buf_free(&er);
  }
  if (!rc && dir) rc = ilf_save_models(dir, tok, &policy, &refiner, &tuned[0], err);
  ilf_free_strs(prog, (size_t)c->n_ilf), ilf_free_strs(fb, (size_t)c->n_ilf), ilf_free_strs(rprompt, (size_t)c->n_ilf);
  ilf_free_strs(refined, (size_t)c->n_ilf), ilf_free_strs(rout, (size_t)nref), free(rtests), free(which);
  free(st), free(rst);
  al_buf_free(&rec), al_buf_free(&keep), al_buf_free(&all);
  tasks_free(&ilf), tasks_free(&ev);
  free(pdata), free(rdata);
  al_model_free(&policy), al_model_free(&refiner), al_model_free(&tuned[0]), al_model_free(&tuned[1]);
  al_tok_free(tok);
  return rc ? al_fail_prefix(err, "seed %llu", (unsigned long long)seed) : 0;
}

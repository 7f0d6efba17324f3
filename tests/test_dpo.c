/* DPO and IPO (include/alab/dpo.h):
 * - the loss over four log-probs against its closed form and its gradient
 *   against central differences, both loss types;
 * - rows: the response's targets only, TRL's truncation (prompt keeps its
 *   end, response its start);
 * - the objective on a tiny GPT-2 against PyTorch (tests/oracle/dpo_torch.py
 *   builds the rows itself from the token ids and computes the reference's
 *   and policy's log-probs, the loss, TRL's metrics and every gradient, in
 *   float64): 1e-4 relative per tensor, DPO and IPO, each also with TRL's
 *   rpo_alpha (the chosen NLL term, logged as nll_loss) (TRL's reward metrics,
 *   beta times differences of log-probs, relative to beta x the log-probs);
 * - through the training loop: killed with SIGKILL before each checkpoint
 *   write (ALAB_TEST_KILL_AT_WRITE) and resumed, the uninterrupted run's
 *   model and trainer state byte for byte and its metrics. */
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include "alab/dpo.h"
#include "alab/json.h"
#include "alab/safetensors.h"
#include "test.h"

enum { V = 37, NP = 5, T = 16 };
static const al_model_config tiny = {.vocab_size = V, .n_positions = 16, .n_layer = 2, .n_head = 2, .n_embd = 16};

static void loss_math(void) {
  double pc[3] = {-3, -5, -2}, pr[3] = {-4, -4, -7}, rc[3] = {-3.5, -5, -2.5}, rr[3] = {-3.5, -4.5, -6};
  al_dpo_stats st;
  double beta = 0.1, l = al_dpo_loss_forward(pc, pr, rc, rr, 3, beta, AL_DPO_SIGMOID, &st), want = 0;
  for (int b = 0; b < 3; b++) want += log1p(exp(-beta * ((pc[b] - rc[b]) - (pr[b] - rr[b])))) / 3;
  CHECK(fabs(l - want) < 1e-14, "sigmoid loss %.17g, want %.17g", l, want);
  /* rewards: 0.05/-0.05, 0/0.05, 0.05/-0.1 */
  CHECK(fabs(st.reward_chosen - 0.1 / 3) < 1e-14 && fabs(st.reward_rejected + 0.1 / 3) < 1e-14 &&
            fabs(st.accuracy - 2.0 / 3) < 1e-14 && fabs(st.margin - 0.2 / 3) < 1e-14 &&
            fabs(st.logp_chosen + 10.0 / 3) < 1e-14 && fabs(st.logp_rejected + 5) < 1e-14,
        "metrics %g %g %g %g %g %g", st.reward_chosen, st.reward_rejected, st.accuracy, st.margin, st.logp_chosen,
        st.logp_rejected);
  l = al_dpo_loss_forward(pc, pr, rc, rr, 3, 0.5, AL_DPO_IPO, NULL);
  want = (pow(1 - 1.0, 2) + pow(-0.5 - 1, 2) + pow(1.5 - 1, 2)) / 3;
  CHECK(fabs(l - want) < 1e-14, "ipo loss %.17g, want %.17g", l, want);
  CHECK(fabs(al_dpo_loss_forward(pc, pr, pc, pr, 3, beta, AL_DPO_SIGMOID, NULL) - log(2)) < 1e-15, "policy = ref: log 2");
  for (int type = 0; type < 2; type++) {
    double dpc[3], dpr[3], h = 1e-6;
    al_dpo_loss_backward(pc, pr, rc, rr, 3, 0.3, type, dpc, dpr);
    for (int k = 0; k < 6; k++) {
      double *x = k < 3 ? &pc[k] : &pr[k - 3], x0 = *x;
      *x = x0 + h;
      double up = al_dpo_loss_forward(pc, pr, rc, rr, 3, 0.3, type, NULL);
      *x = x0 - h;
      double down = al_dpo_loss_forward(pc, pr, rc, rr, 3, 0.3, type, NULL);
      *x = x0;
      double fd = (up - down) / (2 * h), g = k < 3 ? dpc[k] : dpr[k - 3];
      CHECK(fabs(fd - g) < 1e-8, "%s: d loss/d %s[%d] %.10g, finite differences %.10g", al_dpo_loss_name(type),
            k < 3 ? "pc" : "pr", k % 3, g, fd);
    }
  }
}

/* n pairs of random ids below V - 1 (eot = V - 1 ends each response). */
static void make_pairs(al_dpo_data *d, int n, int maxlen, uint64_t seed) {
  al_rng r;
  al_rng_seed(&r, seed);
  memset(d, 0, sizeof *d);
  d->n = n, d->eot = V - 1;
  d->off = al_malloc(sizeof(size_t) * (3 * n + 1));
  d->line = al_calloc(n, sizeof(long));
  d->ids = al_malloc(sizeof(int32_t) * 3 * n * (maxlen + 1));
  size_t at = 0;
  d->off[0] = 0;
  for (int i = 0; i < 3 * n; i++) {
    int len = 1 + (int)al_rng_below(&r, maxlen - 1);
    for (int t = 0; t < len; t++) d->ids[at++] = (int32_t)al_rng_below(&r, V - 1);
    if (i % 3) d->ids[at++] = d->eot;
    d->off[i + 1] = at;
  }
}

static void rows(void) {
  al_dpo_data d;
  make_pairs(&d, 1, 6, 3);
  /* replace with known lengths: prompt 4, chosen 3 (+eot), rejected 6 (+eot) */
  int32_t ids[] = {1, 2, 3, 4, 10, 11, 12, 36, 20, 21, 22, 23, 24, 25, 36};
  free(d.ids);
  d.ids = al_malloc(sizeof ids);
  memcpy(d.ids, ids, sizeof ids);
  size_t off[] = {0, 4, 8, 15};
  memcpy(d.off, off, sizeof off);
  int32_t in[10], tg[10];
  int cut, n = al_dpo_fill_row(&d, 0, 0, 10, in, tg, &cut);
  int32_t win[10] = {1, 2, 3, 4, 10, 11, 12, 36, 36, 36}, wtg[10] = {-1, -1, -1, 10, 11, 12, 36, -1, -1, -1};
  CHECK(n == 4 && !cut && !memcmp(in, win, sizeof in) && !memcmp(tg, wtg, sizeof tg), "chosen row");
  n = al_dpo_fill_row(&d, 0, 1, 8, in, tg, &cut); /* 4 + 7 > 8: prompt keeps its last token */
  int32_t cin[8] = {4, 20, 21, 22, 23, 24, 25, 36}, ctg[8] = {20, 21, 22, 23, 24, 25, 36, -1};
  CHECK(n == 7 && cut && !memcmp(in, cin, sizeof cin) && !memcmp(tg, ctg, sizeof ctg), "truncated row");
  n = al_dpo_fill_row(&d, 0, 1, 5, in, tg, &cut); /* the response is cut too */
  CHECK(n == 4 && cut && in[0] == 4 && in[4] == 23 && tg[3] == 23 && tg[4] == -1, "response cut to 4 tokens");
  al_dpo_data_free(&d);
}

static void perturb(al_model *m, uint64_t seed) {
  al_rng r;
  al_rng_seed(&r, seed);
  for (int i = 0; i < m->ntensors; i++)
    if (m->tensors[i].ndim == 1)
      for (size_t k = 0; k < m->tensors[i].numel; k++) m->params[m->tensors[i].offset + k] += 0.1f * (float)al_rng_normal(&r);
}

static double max_rel(const float *mine, const float *ref, size_t n) {
  double md = 0, mr = 0;
  for (size_t k = 0; k < n; k++) md = fmax(md, fabs((double)mine[k] - ref[k])), mr = fmax(mr, fabs((double)ref[k]));
  return md / fmax(mr, 1e-30);
}

static void torch_oracle(const char *root, al_dpo_loss_type type, double rpo_alpha) {
  al_err err;
  char pdir[1024], rdir[1024], jpath[1024], opath[1024], cmd[8192];
  snprintf(pdir, sizeof pdir, "%s/policy", root), snprintf(rdir, sizeof rdir, "%s/ref", root);
  snprintf(jpath, sizeof jpath, "%s/pairs.json", root), snprintf(opath, sizeof opath, "%s/torch.safetensors", root);
  al_model pol, ref;
  CHECK_OK(al_model_init(&pol, &tiny, 3, &err), err);
  CHECK_OK(al_model_init(&ref, &tiny, 4, &err), err);
  perturb(&pol, 5), perturb(&ref, 6);
  CHECK_OK(al_model_save_dir(&pol, NULL, pdir, &err), err);
  CHECK_OK(al_model_save_dir(&ref, NULL, rdir, &err), err);
  al_dpo_data d;
  make_pairs(&d, NP, 7, 11); /* at most 6 + 7 tokens: no row is cut */
  double beta = type == AL_DPO_IPO ? 0.5 : 0.1;
  json_t *jp = json_array();
  for (int p = 0; p < NP; p++) {
    json_t *tri = json_array();
    for (int k = 0; k < 3; k++) {
      json_t *a = json_array();
      for (size_t i = d.off[3 * p + k]; i < d.off[3 * p + k + 1]; i++) json_array_append_new(a, json_integer(d.ids[i]));
      json_array_append_new(tri, a);
    }
    json_array_append_new(jp, tri);
  }
  json_t *spec = json_pack("{s:i, s:f, s:s, s:i, s:o, s:f}", "T", T, "beta", beta, "loss_type", al_dpo_loss_name(type), "eot",
                           d.eot, "pairs", jp, "rpo_alpha", rpo_alpha);
  CHECK_OK(al_json_save_file(jpath, spec, &err), err);
  json_decref(spec);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/dpo_torch.py' '%s' '%s' '%s' '%s'", getenv("ALAB_SRC"),
           pdir, rdir, jpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  al_train_cfg c;
  al_train_defaults(&c);
  c.batch = NP, c.seq_len = T, c.shuffle = 0;
  al_dpo_cfg dc = {.beta = beta, .type = type, .rpo_alpha = rpo_alpha};
  al_objective o;
  CHECK_OK(al_objective_dpo(&o, &pol, &ref, &c, &dc, &d, NULL, &err), err);
  double loss = NAN, met[AL_OBJ_MAX_METRICS];
  al_model_zero_grad(&pol);
  CHECK_OK(o.step(o.ctx, &pol, 0, 1.0f, &loss, met, &err), err);
  double lc[NP], lr[NP], rlc[NP], rlr[NP];
  al_dpo_logps(&pol, &d, 2, T, type == AL_DPO_IPO, lc, lr); /* batches of 2: a short last batch */
  al_dpo_logps(&ref, &d, 3, T, type == AL_DPO_IPO, rlc, rlr);
  al_st_file f;
  if (rc == 0 && !al_st_open(&f, opath, &err)) {
    float fl = (float)loss, fm[8], vec[4][NP];
    for (int i = 0; i < 8; i++) fm[i] = (float)met[i];
    for (int p = 0; p < NP; p++) vec[0][p] = (float)lc[p], vec[1][p] = (float)lr[p], vec[2][p] = (float)rlc[p], vec[3][p] = (float)rlr[p];
    struct { const char *name; const float *mine; size_t n; } outs[] = {
        {"loss", &fl, 1}, {"rewards_chosen", &fm[0], 1}, {"rewards_rejected", &fm[1], 1}, {"rewards_accuracies", &fm[2], 1},
        {"rewards_margins", &fm[3], 1}, {"policy_chosen_logps", vec[0], NP}, {"policy_rejected_logps", vec[1], NP},
        {"ref_chosen_logps", vec[2], NP}, {"ref_rejected_logps", vec[3], NP}, {"nll_loss", &fm[7], 1}};
    int nouts = sizeof outs / sizeof outs[0] - (rpo_alpha == 0); /* nll_loss is logged with rpo_alpha only */
    char nm[96];
    for (int i = 0; i < nouts + pol.ntensors; i++) {
      const float *mine = i < nouts ? outs[i].mine : pol.grads + pol.tensors[i - nouts].offset;
      size_t n = i < nouts ? outs[i].n : pol.tensors[i - nouts].numel;
      snprintf(nm, sizeof nm, i < nouts ? "%s" : "grad.%s", i < nouts ? outs[i].name : pol.tensors[i - nouts].name);
      const al_st_entry *e = al_st_find(&f, nm);
      CHECK(e && e->numel == n, "torch output %s missing or of the wrong size", nm);
      if (!e || e->numel != n) continue;
      float *want = al_alloc_floats(n);
      CHECK_OK(al_st_read_f32(&f, e, want, &err), err);
      double r = max_rel(mine, want, n);
      if (i >= 1 && i <= 4) { /* rewards are beta x differences of log-probs: relative to the operands' scale */
        double scale = 0;
        for (int p = 0; p < NP; p++) scale = fmax(scale, fmax(fabs(lc[p]), fabs(lr[p])));
        r = fabs((double)mine[0] - want[0]) / fmax(fabs((double)want[0]), beta * scale);
      }
      CHECK(r <= 1e-4, "%s (rpo_alpha %g) %s: max |alab - torch| / max |torch| = %.3e", al_dpo_loss_name(type), rpo_alpha, nm, r);
      free(want);
    }
    /* the logged means are the batch's: logps/chosen = mean of the policy's chosen log-probs */
    double mc = 0;
    for (int p = 0; p < NP; p++) mc += lc[p] / NP;
    CHECK(rel_err(met[4], mc) < 1e-5, "logps/chosen %g, mean %g", met[4], mc);
    al_st_close(&f);
  } else if (rc == 0) CHECK(0, "cannot read torch output: %s", err.msg);
  al_objective_free(&o);
  al_dpo_data_free(&d);
  al_model_free(&pol), al_model_free(&ref);
}

/* Trains DPO into dir in a child (killed before its kill_at-th write; 0: none). */
static int train_child(const char *dir, int resume, int kill_at, const char *errfile) {
  pid_t pid = fork();
  if (pid == 0) {
    if (kill_at > 0) {
      char n[16];
      snprintf(n, sizeof n, "%d", kill_at);
      setenv("ALAB_TEST_KILL_AT_WRITE", n, 1);
    }
    al_quiet = 1;
    al_err err;
    al_model pol, ref;
    al_dpo_data d, v;
    make_pairs(&d, 7, 7, 21), make_pairs(&v, 3, 7, 22);
    al_train_cfg c;
    al_train_defaults(&c);
    c.batch = 2, c.seq_len = T, c.grad_accum = 2, c.steps = 6, c.warmup_steps = 2, c.lr = 3e-3, c.eval_every = 2;
    c.ckpt_every = 2, c.out_dir = dir, c.resume = resume;
    al_dpo_cfg dc;
    al_dpo_defaults(&dc);
    al_objective o;
    int rc = al_model_init(&pol, &tiny, 8, &err) || al_model_init(&ref, &tiny, 8, &err) ||
             al_objective_dpo(&o, &pol, &ref, &c, &dc, &d, &v, &err) || al_train_objective(&pol, &c, &o, NULL, NULL, &err);
    if (rc) {
      FILE *f = fopen(errfile, "w");
      if (f) fprintf(f, "%s\n", err.msg), fclose(f);
    }
    _exit(rc ? 1 : 0);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  return st;
}

static char *file_text(const char *dir, const char *name, int untimed) {
  char *p = al_path_join(dir, name), *text = NULL;
  al_err err;
  if (al_read_file(p, &text, NULL, &err)) text = al_strdup("(missing)");
  free(p);
  if (!untimed) return text;
  al_buf out = {0};
  for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1) {
    json_t *j = json_loadb(line, (size_t)(end - line), 0, NULL);
    if (!j) break;
    json_object_del(j, "tokens_per_s"), json_object_del(j, "elapsed_s");
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    al_buf_printf(&out, "%s\n", s);
    free(s), json_decref(j);
  }
  al_buf_append(&out, "", 1);
  free(text);
  return out.data;
}

static int same_bytes(const char *a, const char *b, const char *name) {
  char *pa = al_path_join(a, name), *pb = al_path_join(b, name), *x = NULL, *y = NULL;
  size_t na = 0, nb = 0;
  al_err err;
  int same = !al_read_file(pa, &x, &na, &err) && !al_read_file(pb, &y, &nb, &err) && na == nb && !memcmp(x, y, na);
  free(pa), free(pb), free(x), free(y);
  return same;
}

static void kill_resume(const char *root) {
  static const char *files[] = {"model.safetensors", "trainer_state.safetensors", "metrics.jsonl"};
  char ref[4096], dir[4096], errf[4096];
  snprintf(ref, sizeof ref, "%s/run_ref", root), snprintf(errf, sizeof errf, "%s/err.txt", root);
  int st = train_child(ref, 0, 0, errf);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uninterrupted DPO run failed (see %s)", errf);
  char *m = file_text(ref, "metrics.jsonl", 1);
  CHECK(strstr(m, "\"rewards/chosen\":") && strstr(m, "\"rewards/accuracies\":") && strstr(m, "\"logps/rejected\":") &&
            strstr(m, "\"val_rewards/margins\":"),
        "TRL's metric names in metrics.jsonl: %s", m);
  free(m);
  int n;
  for (n = 1; n <= 10; n++) {
    snprintf(dir, sizeof dir, "%s/kill%d", root, n);
    st = train_child(dir, 0, n, errf);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) break;
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "write %d: not killed (status %d)", n, st);
    st = train_child(dir, 1, 0, errf);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "write %d: the resume failed (see %s)", n, errf);
    for (int i = 0; i < 2; i++) CHECK(same_bytes(ref, dir, files[i]), "killed before write %d: %s differs", n, files[i]);
    char *a = file_text(ref, files[2], 1), *b = file_text(dir, files[2], 1);
    CHECK(!strcmp(a, b), "killed before write %d: metrics\n%s\nwant\n%s", n, b, a);
    free(a), free(b);
  }
  CHECK(n == 10, "killed at %d writes, expected 9 (3 checkpoints of 3 files)", n - 1);
}

int main(void) {
  char *root = test_tmpdir("dpo");
  loss_math();
  rows();
  torch_oracle(root, AL_DPO_SIGMOID, 0);
  torch_oracle(root, AL_DPO_IPO, 0);
  torch_oracle(root, AL_DPO_SIGMOID, 1.0); /* TRL's rpo_alpha: DPO + the chosen responses' NLL */
  torch_oracle(root, AL_DPO_IPO, 0.5);
  kill_resume(root);
  free(root);
  return test_summary();
}

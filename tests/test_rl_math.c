/* RLOO's and PPO's math (src/align/rl_math.c) on a tiny GPT-2 with a value
 * head, against PyTorch (tests/oracle/rl_torch.py, TRL's conventions):
 * response log-probs and values, the KL-penalised per-token reward, GAE and
 * whitening, RLOO's leave-one-out advantages, the clipped policy and value
 * losses, and every parameter's gradient through the model, each within
 * 1e-4 of max |torch|. Old log-probs are the current ones plus noise, so
 * some ratios fall outside the clip range and some values are clipped.
 * Plus closed forms: GAE with gamma = lambda = 1 and zero values is the sum
 * of the rewards to go; RLOO's advantages of a group. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/rl.h"
#include "alab/safetensors.h"
#include "test.h"

enum { B = 4, T = 12, R = 6, K = 2 };

static void closed_forms(void) {
  int len[2] = {3, 2};
  float r[2 * R] = {1, 2, 3, 9, 9, 9, -1, 4}, v[2 * R] = {0}, adv[2 * R], ret[2 * R];
  al_rl_gae(r, v, len, 2, R, 1, 1, adv, ret);
  CHECK(adv[0] == 6 && adv[1] == 5 && adv[2] == 3 && adv[3] == 0 && adv[R] == 3 && adv[R + 1] == 4,
        "rewards to go: %g %g %g %g | %g %g", adv[0], adv[1], adv[2], adv[3], adv[R], adv[R + 1]);
  CHECK(ret[0] == 6 && ret[4] == 0, "returns = advantages + values, 0 on padding");
  /* gamma 0.5, lambda 0: one-step TD errors r + 0.5 V' - V */
  float v2[2 * R] = {1, 2, 4};
  al_rl_gae(r, v2, len, 1, R, 0.5f, 0, adv, ret);
  CHECK(adv[0] == 1 + 1 - 1 && adv[1] == 2 + 2 - 2 && adv[2] == 3 - 4, "TD errors %g %g %g", adv[0], adv[1], adv[2]);
  float rl[6] = {1, 2, 6, 0, 0, 3}, a[6];
  al_rloo_advantages(rl, 2, 3, a);
  CHECK(a[0] == 1 - 4 && a[1] == 2 - 3.5f && a[2] == 6 - 1.5f && a[5] == 3, "leave-one-out: %g %g %g %g", a[0], a[1], a[2], a[5]);
  float w[2 * R] = {1, 2, 3, 7, 7, 7, 4, 6};
  al_rl_whiten(w, len, 2, R, 1);
  double s = 0, ss = 0;
  for (int i = 0; i < 2; i++)
    for (int t = 0; t < len[i]; t++) s += w[i * R + t], ss += w[i * R + t] * w[i * R + t];
  CHECK(fabs(s) < 1e-5 && fabs(ss / 4 - 1) < 1e-5 && w[3] == 7, "whitened: sum %g, unbiased var %g", s, ss / 4);
}

static json_t *farr(const float *x, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_real(x[i]));
  return a;
}
static json_t *iarr(const int32_t *x, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(x[i]));
  return a;
}

static void compare(al_st_file *f, const char *name, const float *mine, size_t n) {
  al_err err;
  const al_st_entry *e = al_st_find(f, name);
  CHECK(e && e->numel == n, "torch output %s missing or of the wrong size", name);
  if (!e || e->numel != n) return;
  float *ref = al_alloc_floats(n);
  CHECK_OK(al_st_read_f32(f, e, ref, &err), err);
  double md = 0, mr = 0;
  for (size_t k = 0; k < n; k++) md = fmax(md, fabs((double)mine[k] - ref[k])), mr = fmax(mr, fabs((double)ref[k]));
  CHECK(md <= 1e-4 * fmax(mr, 1e-30), "%s: max |alab - torch| %.3e of max |torch| %.3e", name, md, mr);
  free(ref);
}

static void oracle(int algo) {
  al_err err;
  char *dir = test_tmpdir(algo == AL_RL_PPO ? "rl_torch_ppo" : "rl_torch_rloo"), *mdir = al_path_join(dir, "m");
  al_model_config cfg = {.vocab_size = 23, .n_positions = 16, .n_layer = 2, .n_head = 2, .n_embd = 16, .scalar_head = 1};
  al_model m;
  CHECK_OK(al_model_init(&m, &cfg, 11, &err), err);
  al_rng r;
  al_rng_seed(&r, 5 + algo);
  for (int i = 0; i < m.ntensors; i++) /* non-trivial biases and norms */
    if (m.tensors[i].ndim == 1)
      for (size_t k = 0; k < m.tensors[i].numel; k++) m.params[m.tensors[i].offset + k] += 0.1f * (float)al_rng_normal(&r);
  for (int i = 0; i < cfg.n_embd; i++) m.score[i] *= 20; /* values of order 1 */
  CHECK_OK(al_model_save_dir(&m, NULL, mdir, &err), err);
  int32_t in[B * T];
  int start[B] = {3, 5, 1, 6}, len[B] = {6, 2, 5, 1};
  for (int i = 0; i < B * T; i++) in[i] = (int32_t)al_rng_below(&r, cfg.vocab_size);
  float values[B * T], lp[B * R], v[B * R], old_lp[B * R], ref_lp[B * R], old_v[B * R], score[B];
  CHECK_OK(al_model_forward_pv(&m, in, B, T, values, &err), err);
  al_rl_token_logprobs(al_model_logits(&m), in, start, len, B, T, cfg.vocab_size, R, lp, NULL);
  al_rl_gather_values(values, start, len, B, T, R, v);
  for (int i = 0; i < B * R; i++) {
    old_lp[i] = lp[i] + 0.3f * (float)al_rng_normal(&r);
    ref_lp[i] = lp[i] + 0.5f * (float)al_rng_normal(&r);
    old_v[i] = v[i] + 0.3f * (float)al_rng_normal(&r);
  }
  for (int b = 0; b < B; b++) score[b] = (float)al_rng_normal(&r);
  float beta = 0.05f, gamma = 0.9f, lam = 0.95f, clip = 0.2f, clip_v = 0.2f, vf_coef = 0.1f;
  float kl[B * R], rew[B * R], adv[B * R], ret[B * R], dlp[B * R], dv[B * R], dvalues[B * T], loss;
  al_rl_kl_rewards(old_lp, ref_lp, score, len, B, R, beta, kl, rew);
  al_model_zero_grad(&m);
  if (algo == AL_RL_PPO) {
    al_rl_gae(rew, old_v, len, B, R, gamma, lam, adv, ret);
    al_rl_whiten(adv, len, B, R, 1);
    al_rl_stats st;
    double pl = al_ppo_policy_loss(lp, old_lp, adv, len, B, R, clip, dlp, &st);
    double vl = al_ppo_value_loss(v, old_v, ret, len, B, R, clip_v, dv, &st);
    CHECK(st.clipfrac > 0 && st.clipfrac < 1 && st.vf_clipfrac > 0 && st.vf_clipfrac < 1,
          "some tokens clipped, some not: policy %g, value %g", st.clipfrac, st.vf_clipfrac);
    loss = (float)(pl + vf_coef * vl);
    for (int i = 0; i < B * R; i++) dv[i] *= vf_coef;
    al_rl_scatter_values(dv, start, len, B, T, R, dvalues);
  } else {
    float rl[B], sadv[B];
    for (int b = 0; b < B; b++) {
      double s = 0;
      for (int t = 0; t < len[b]; t++) s += kl[b * R + t];
      rl[b] = score[b] - beta * (float)s;
    }
    al_rloo_advantages(rl, B / K, K, sadv);
    for (int i = 0; i < B * R; i++) adv[i] = sadv[i / R]; /* for the comparison below: per sequence */
    loss = (float)al_rloo_loss(lp, old_lp, sadv, len, B, R, clip, dlp, NULL);
    memcpy(adv, sadv, sizeof sadv);
  }
  al_rl_token_logprobs_backward(al_model_logits_rw(&m), in, start, len, dlp, B, T, cfg.vocab_size, R);
  al_model_backward_pv(&m, al_model_logits_rw(&m), algo == AL_RL_PPO ? dvalues : NULL);
  json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:b}",
                        "algo", algo == AL_RL_PPO ? "ppo" : "rloo", "B", B, "T", T, "R", R, "k", K, "inputs",
                        iarr(in, B * T), "start", iarr(start, B), "len", iarr(len, B), "old_lp", farr(old_lp, B * R),
                        "ref_lp", farr(ref_lp, B * R), "old_v", farr(old_v, B * R), "score", farr(score, B), "beta",
                        (double)beta, "gamma", (double)gamma, "lam", (double)lam, "clip", (double)clip, "clip_v",
                        (double)clip_v, "vf_coef", (double)vf_coef, "whiten", 1);
  char *bpath = al_path_join(dir, "batch.json"), *opath = al_path_join(dir, "torch.safetensors"), cmd[8192];
  CHECK_OK(al_json_save_file(bpath, j, &err), err);
  json_decref(j);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/rl_torch.py' '%s' '%s' '%s'", getenv("ALAB_SRC"), mdir,
           bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  al_st_file f;
  if (rc == 0 && !al_st_open(&f, opath, &err)) {
    compare(&f, "lp", lp, B * R);
    compare(&f, "v", v, B * R);
    compare(&f, "kl", kl, B * R);
    compare(&f, "rewards", rew, B * R);
    compare(&f, "adv", adv, algo == AL_RL_PPO ? B * R : B);
    if (algo == AL_RL_PPO) compare(&f, "ret", ret, B * R);
    compare(&f, "loss", &loss, 1);
    char nm[96];
    for (int i = 0; i < m.ntensors; i++) {
      snprintf(nm, sizeof nm, "grad.%s", m.tensors[i].name);
      compare(&f, nm, m.grads + m.tensors[i].offset, m.tensors[i].numel);
    }
    al_st_close(&f);
  } else if (rc == 0) CHECK(0, "cannot read torch output: %s", err.msg);
  al_model_free(&m);
  free(bpath), free(opath), free(mdir), free(dir);
}

int main(void) {
  closed_forms();
  oracle(AL_RL_PPO);
  oracle(AL_RL_RLOO);
  return test_summary();
}

/* The reward model: the Bradley-Terry loss (with margin and centring) against
 * its closed form and finite differences; rows of pairs (padding, last-token
 * positions, cuts); then the whole model and loss against PyTorch
 * (tests/oracle/rm_torch.py reads the saved GPT2ForSequenceClassification
 * directory as transformers does, finds the last non-padding token itself,
 * and returns rewards, loss and every gradient: max|alab - torch| /
 * max|torch| <= 1e-4 per tensor); loading it back gives the same rewards;
 * a directory without the head is refused. */
#include <jansson.h>
#include "alab/json.h"
#include "alab/reward.h"
#include "alab/safetensors.h"
#include "test.h"

static void loss_math(void) {
  /* equal rewards, no margin, no centring: log 2 per pair */
  float rc[4] = {0.5f, -1, 2, 0.25f}, rr[4] = {0.5f, -1, 2, 0.25f}, m[4] = {0, 1, -0.5f, 2};
  al_rm_stats st;
  double l = al_rm_loss_forward(rc, rr, NULL, 4, 0, &st);
  CHECK(fabs(l - log(2)) < 1e-12 && st.accuracy == 0 && st.margin == 0, "loss %.15g, want log 2", l);
  /* closed form of one pair: softplus(-(1 - 0 - 0.5)) + 0.1 * 1^2 */
  float a = 1, b = 0, mm = 0.5f;
  l = al_rm_loss_forward(&a, &b, &mm, 1, 0.1, &st);
  CHECK(fabs(l - (log1p(exp(-0.5)) + 0.1)) < 1e-12 && st.accuracy == 1 && st.margin == 1, "one pair: %.15g", l);
  CHECK(fabs(st.mean_reward - 0.5) < 1e-12 && fabs(st.sd_reward - 0.5) < 1e-12, "mean %g sd %g", st.mean_reward, st.sd_reward);
  /* large gaps: no overflow */
  float big = 200, neg = -200;
  CHECK(fabs(al_rm_loss_forward(&neg, &big, NULL, 1, 0, NULL) - 400) < 1e-9, "softplus(400) = 400");
  CHECK(al_rm_loss_forward(&big, &neg, NULL, 1, 0, NULL) < 1e-170, "softplus(-400) ~ 0");
  /* gradients against central differences */
  al_rng r;
  al_rng_seed(&r, 7);
  for (int k = 0; k < 4; k++) rc[k] = (float)al_rng_normal(&r), rr[k] = (float)al_rng_normal(&r);
  float drc[4], drr[4];
  double center = 0.05;
  al_rm_loss_backward(rc, rr, m, 4, center, 0.5f, drc, drr);
  const float h = 1.0f / 1024;
  for (int k = 0; k < 8; k++) {
    float *x = k < 4 ? &rc[k % 4] : &rr[k % 4], x0 = *x;
    *x = x0 + h;
    double up = al_rm_loss_forward(rc, rr, m, 4, center, NULL);
    *x = x0 - h;
    double down = al_rm_loss_forward(rc, rr, m, 4, center, NULL);
    *x = x0;
    double fd = 0.5 * (up - down) / (2 * h), g = k < 4 ? drc[k] : drr[k - 4];
    CHECK(fabs(fd - g) < 1e-6, "d loss/d %s[%d]: %.8f, finite differences %.8f", k < 4 ? "r_c" : "r_r", k % 4, g, fd);
  }
}

/* Sequences of given lengths with random ids below pad (= V - 1). */
static void make_data(al_rm_data *d, const int *lens, int nseq, int V, al_rng *r) {
  memset(d, 0, sizeof *d);
  d->n = nseq / 2, d->pad = V - 1;
  d->off = al_malloc(sizeof(size_t) * (nseq + 1));
  d->margin = al_malloc(sizeof(float) * d->n);
  d->line = al_calloc(d->n, sizeof(long));
  d->off[0] = 0;
  for (int s = 0; s < nseq; s++) d->off[s + 1] = d->off[s] + lens[s];
  d->ids = al_malloc(sizeof(int32_t) * d->off[nseq]);
  for (size_t i = 0; i < d->off[nseq]; i++) d->ids[i] = (int32_t)al_rng_below(r, V - 1);
  for (long i = 0; i < d->n; i++) d->margin[i] = i % 2 ? 0.5f : 0;
}

static void rows(void) {
  al_rng r;
  al_rng_seed(&r, 1);
  int lens[6] = {3, 5, 8, 2, 10, 4}; /* pairs (3,5), (8,2), (10,4) */
  al_rm_data d;
  make_data(&d, lens, 6, 50, &r);
  long idx[2] = {2, 0};
  int32_t in[4 * 8], pos[4];
  float m[2];
  int cut = al_rm_fill_rows(&d, idx, 2, 8, in, pos, m);
  CHECK(cut == 1, "one sequence (10 tokens) cut to 8, got %d", cut);
  CHECK(pos[0] == 7 && pos[1] == 2 && pos[2] == 3 && pos[3] == 4, "positions %d %d %d %d", pos[0], pos[1], pos[2], pos[3]);
  CHECK(in[0] == d.ids[d.off[4] + 2] && in[7] == d.ids[d.off[5] - 1], "the cut keeps the last 8 tokens");
  CHECK(in[8] == d.ids[0] && in[8 + 3] == 49 && in[15] == 49, "row 1 is pair 0's chosen, right-padded");
  CHECK(m[0] == 0 && m[1] == 0 && d.margin[1] == 0.5f, "margins");
  al_rm_data_free(&d);
}

static void torch_oracle(void) {
  al_err err;
  char *dir = test_tmpdir("rm_torch"), *mdir = al_path_join(dir, "rm");
  al_model_config cfg = {.vocab_size = 61, .n_positions = 16, .n_layer = 2, .n_head = 2, .n_embd = 16};
  al_model lm, rm;
  CHECK_OK(al_model_init(&lm, &cfg, 3, &err), err);
  CHECK_OK(al_rm_from_lm(&rm, &lm, 4, &err), err);
  CHECK(!memcmp(rm.params, lm.params, lm.nparams * sizeof(float)), "the trunk is the language model's");
  al_rng r;
  al_rng_seed(&r, 5);
  for (int i = 0; i < rm.ntensors; i++) /* non-trivial biases and norms */
    if (rm.tensors[i].ndim == 1)
      for (size_t k = 0; k < rm.tensors[i].numel; k++) rm.params[rm.tensors[i].offset + k] += 0.1f * (float)al_rng_normal(&r);
  CHECK_OK(al_rm_save(&rm, NULL, NULL, mdir, &err), err);
  enum { B = 3, T = 12 };
  int lens[2 * B] = {12, 5, 1, 9, 7, 14};
  al_rm_data d;
  make_data(&d, lens, 2 * B, cfg.vocab_size, &r);
  long idx[B] = {0, 1, 2};
  int32_t in[2 * B * T], pos[2 * B];
  float margin[B], values[2 * B], dv[2 * B];
  al_rm_fill_rows(&d, idx, B, T, in, pos, margin);
  double center = 0.1;
  json_t *jin = json_array(), *jm = json_array();
  for (int i = 0; i < 2 * B * T; i++) json_array_append_new(jin, json_integer(in[i]));
  for (int b = 0; b < B; b++) json_array_append_new(jm, json_real(margin[b]));
  json_t *batch = json_pack("{s:i, s:i, s:o, s:o, s:f}", "B", B, "T", T, "inputs", jin, "margin", jm, "center", center);
  char *bpath = al_path_join(dir, "batch.json"), *opath = al_path_join(dir, "torch.safetensors"), cmd[8192];
  CHECK_OK(al_json_save_file(bpath, batch, &err), err);
  json_decref(batch);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/oracle/rm_torch.py' '%s' '%s' '%s'", getenv("ALAB_SRC"), mdir,
           bpath, opath);
  int rc = system(cmd);
  CHECK(rc == 0, "the PyTorch oracle failed (rc %d): is python3-torch installed?", rc);
  al_st_file f;
  if (rc == 0 && !al_st_open(&f, opath, &err)) {
    CHECK_OK(al_model_forward_scalar(&rm, in, pos, 2 * B, T, values, &err), err);
    float loss = (float)al_rm_loss_forward(values, values + B, margin, B, center, NULL);
    al_model_zero_grad(&rm);
    al_rm_loss_backward(values, values + B, margin, B, center, 1.0f, dv, dv + B);
    al_model_backward_scalar(&rm, dv);
    float fpos[2 * B];
    for (int i = 0; i < 2 * B; i++) fpos[i] = (float)pos[i];
    struct { const char *name; const float *mine; size_t n; } outs[3] = {{"values", values, 2 * B}, {"pos", fpos, 2 * B}, {"loss", &loss, 1}};
    char nm[96];
    for (int i = 0; i < 3 + rm.ntensors; i++) {
      const float *mine = i < 3 ? outs[i].mine : rm.grads + rm.tensors[i - 3].offset;
      size_t n = i < 3 ? outs[i].n : rm.tensors[i - 3].numel;
      snprintf(nm, sizeof nm, i < 3 ? "%s" : "grad.%s", i < 3 ? outs[i].name : rm.tensors[i - 3].name);
      const al_st_entry *e = al_st_find(&f, nm);
      CHECK(e && e->numel == n, "torch output %s missing or of the wrong size", nm);
      if (!e || e->numel != n) continue;
      float *ref = al_alloc_floats(n);
      CHECK_OK(al_st_read_f32(&f, e, ref, &err), err);
      double md = 0, mr = 0;
      for (size_t k = 0; k < n; k++) md = fmax(md, fabs((double)mine[k] - ref[k])), mr = fmax(mr, fabs((double)ref[k]));
      CHECK(md <= 1e-4 * fmax(mr, 1e-30), "%s: max |alab - torch| %.3e of max |torch| %.3e", nm, md, mr);
      free(ref);
    }
    al_st_close(&f);
  } else if (rc == 0) CHECK(0, "cannot read torch output: %s", err.msg);
  /* the directory loads back to the same rewards */
  al_model back;
  CHECK_OK(al_rm_load(&back, mdir, &err), err);
  float again[2 * B];
  CHECK_OK(al_model_forward_scalar(&back, in, pos, 2 * B, T, again, &err), err);
  CHECK(!memcmp(again, values, sizeof again), "loaded reward model gives other rewards");
  al_model_free(&back);
  /* a language model directory, and a classifier without its head, are refused */
  char *lmdir = al_path_join(dir, "lm"), *cpath = al_path_join(mdir, "config.json"), *lcpath = al_path_join(lmdir, "config.json");
  CHECK_OK(al_model_save_dir(&lm, NULL, lmdir, &err), err);
  CHECK_FAILS_WITH(al_rm_load(&back, lmdir, &err), err, "is a language model without a scalar head (score.weight)");
  char *text;
  size_t len;
  CHECK_OK(al_read_file(cpath, &text, &len, &err), err);
  CHECK_OK(al_write_file_atomic(lcpath, text, len, &err), err);
  free(text);
  CHECK_FAILS_WITH(al_rm_load(&back, lmdir, &err), err, "score.weight");
  al_rm_data_free(&d);
  al_model_free(&lm), al_model_free(&rm);
  free(bpath), free(opath), free(lmdir), free(cpath), free(lcpath), free(mdir), free(dir);
}

int main(void) {
  loss_math();
  rows();
  torch_oracle();
  return test_summary();
}

/* The labels' information (src/exp/overopt_labels.c) against a Monte-Carlo
 * oracle that draws the labels with the sampler the proxies train on
 * (al_overopt_bt_label):
 *  - bayes_accuracy: the share of drawn labels that follow gold's order
 *    (a label of a tie counts as right half the time);
 *  - bayes_loss: the mean of -log P(drawn label) under the exact
 *    preference probability (the loss of a proxy that knows gold);
 * both within 4.5 standard errors over 400,000 draws per comparison; the
 * limits (all ties: ln 2 and 1/2; all far apart: 0 and 1); the share of
 * gold differences >= 0.5; and the JSON's keys and per-seed values. */
#include <jansson.h>
#include "alab/overopt.h"
#include "exp/overopt_internal.h"
#include "test.h"

int main(void) {
  /* comparison k: sample 2k against 2k+1 */
  double gold[] = {-1, -0.9, -0.8, -0.55, 0.9, -0.05, -0.07, 0.95, -0.6, -0.6, 1.0, -1.0, -0.62, -0.7, 0.25, -0.25};
  int npairs = (int)(sizeof gold / sizeof gold[0]) / 2, draws = 400000;
  ov_samples s = {.n = 2 * npairs, .gold = gold};
  const double scale = 4;
  double loss, acc, wide;
  ov_label_ceiling(&s, npairs, scale, &loss, &acc, &wide);
  double mc_acc = 0, mc_loss = 0, var_acc = 0, var_loss = 0;
  al_rng r;
  al_rng_seed(&r, 7);
  for (int k = 0; k < npairs; k++) {
    double dg = gold[2 * k] - gold[2 * k + 1], p = 1 / (1 + exp(-scale * dg));
    double a = 0, l = 0, a2 = 0, l2 = 0;
    for (int i = 0; i < draws; i++) {
      int first = al_overopt_bt_label(gold[2 * k], gold[2 * k + 1], scale, &r);
      double right = dg == 0 ? 0.5 : (first == (dg > 0)), nll = -log(first ? p : 1 - p);
      a += right, a2 += right * right, l += nll, l2 += nll * nll;
    }
    a /= draws, l /= draws;
    mc_acc += a / npairs, mc_loss += l / npairs;
    var_acc += (a2 / draws - a * a) / draws / npairs / npairs, var_loss += (l2 / draws - l * l) / draws / npairs / npairs;
  }
  CHECK(fabs(acc - mc_acc) < 4.5 * sqrt(var_acc) + 1e-12, "accuracy %.6f, drawn labels %.6f (se %.2g)", acc, mc_acc,
        sqrt(var_acc));
  CHECK(fabs(loss - mc_loss) < 4.5 * sqrt(var_loss) + 1e-12, "loss %.6f, drawn labels %.6f (se %.2g)", loss, mc_loss,
        sqrt(var_loss));
  CHECK(acc > 0.5 && acc < 1 && loss > 0 && loss < log(2), "accuracy %g loss %g", acc, loss);
  int w = 0;
  for (int k = 0; k < npairs; k++) w += fabs(gold[2 * k] - gold[2 * k + 1]) >= 0.5;
  CHECK(fabs(wide - (double)w / npairs) < 1e-15 && w == 4, "wide share %g (%d of %d)", wide, w, npairs);

  /* limits: ties carry nothing; far-apart golds are always labelled right */
  double ties[6] = {-0.7, -0.7, 0.2, 0.2, -1, -1};
  ov_samples t = {.n = 6, .gold = ties};
  ov_label_ceiling(&t, 3, scale, &loss, &acc, &wide);
  CHECK(fabs(loss - log(2)) < 1e-15 && fabs(acc - 0.5) < 1e-15 && wide == 0, "ties: loss %.17g acc %.17g", loss, acc);
  double far[4] = {1e3, -1e3, -1e3, 1e3};
  ov_samples f = {.n = 4, .gold = far};
  ov_label_ceiling(&f, 2, scale, &loss, &acc, &wide);
  CHECK(loss < 1e-12 && fabs(acc - 1) < 1e-15 && wide == 1, "far: loss %g acc %.17g wide %g", loss, acc, wide);

  /* the JSON: one object per comparison count, each seed's value */
  al_overopt_cfg c;
  al_overopt_defaults(&c);
  c.seeds = 2, c.n_pairs = 2, c.pairs[0] = 2, c.pairs[1] = 7, c.bt_scale = scale;
  ov_samples seeds[2] = {s, t};
  seeds[1].n = 14, seeds[1].gold = (double[14]){-0.7, -0.7, 0.2, 0.2, -1, -1, 0, 1, 0, 1, 0, 1, 0, 1};
  json_t *j = ov_labels_json(&c, seeds);
  double want;
  ov_label_ceiling(&seeds[1], 7, scale, &want, &acc, &wide);
  json_t *v = json_array_get(json_object_get(json_object_get(json_object_get(j, "P7"), "bayes_loss"), "seeds"), 1);
  CHECK(json_is_number(v) && fabs(json_number_value(v) - want) < 1e-15, "P7 seed 1 bayes_loss %g, want %g",
        json_number_value(v), want);
  ov_label_ceiling(&seeds[0], 2, scale, &want, &acc, &wide);
  v = json_array_get(json_object_get(json_object_get(json_object_get(j, "P2"), "bayes_accuracy"), "seeds"), 0);
  CHECK(json_is_number(v) && fabs(json_number_value(v) - acc) < 1e-15, "P2 seed 0 bayes_accuracy %g, want %g",
        json_number_value(v), acc);
  CHECK(json_object_get(json_object_get(j, "P2"), "wide_share") && json_object_size(j) == 2, "keys");
  json_decref(j);
  return test_summary();
}

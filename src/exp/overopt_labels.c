/* How much the Bradley-Terry labels of `alab overopt` can teach a proxy:
 * the floor of its training loss and the ceiling of its label accuracy,
 * computed from the comparison samples' exact gold (src/exp/overopt.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include "alab/base.h"
#include "overopt_internal.h"

/* Comparison k pairs sample 2k with 2k+1; with p_k = sigmoid(s (g_2k - g_2k+1))
 * (al_overopt_bt_label), the best any proxy can do on the labels is to
 * predict p_k itself:
 *   bayes_loss     = mean_k H(p_k) = mean_k -p log p - (1-p) log(1-p)
 *                    (the floor of the Bradley-Terry loss; ln 2 = 0.693 is
 *                    a coin flip),
 *   bayes_accuracy = mean_k max(p_k, 1 - p_k)
 *                    (the share of labels that agree with gold's order),
 * and wide = the share with |g_2k - g_2k+1| >= 0.5 (a story against a
 * broken text, or a share story against another: labels right >= 88%). */
void ov_label_ceiling(const ov_samples *s, int npairs, double scale, double *bayes_loss, double *bayes_acc,
                      double *wide) {
  double h = 0, acc = 0, w = 0;
  for (int k = 0; k < npairs; k++) {
    double dg = s->gold[2 * k] - s->gold[2 * k + 1], p = 1 / (1 + exp(-scale * dg)), q = 1 - p;
    h += (p > 0 ? -p * log(p) : 0) + (q > 0 ? -q * log(q) : 0);
    acc += p > q ? p : q;
    w += fabs(dg) >= 0.5;
  }
  *bayes_loss = h / npairs, *bayes_acc = acc / npairs, *wide = w / npairs;
}

json_t *ov_labels_json(const al_overopt_cfg *c, const ov_samples *pairs) {
  json_t *j = json_object();
  int S = c->seeds;
  double *v = al_malloc(sizeof(double) * 3 * (size_t)S);
  for (int i = 0; i < c->n_pairs; i++) {
    for (int s = 0; s < S; s++) ov_label_ceiling(&pairs[s], c->pairs[i], c->bt_scale, &v[s], &v[S + s], &v[2 * S + s]);
    const char *names[3] = {"bayes_loss", "bayes_accuracy", "wide_share"};
    json_t *o = json_object();
    for (int q = 0; q < 3; q++) json_object_set_new(o, names[q], ov_stat_json(v + q * S, S));
    char key[32];
    snprintf(key, sizeof key, "P%d", c->pairs[i]);
    json_object_set_new(j, key, o);
  }
  free(v);
  return j;
}

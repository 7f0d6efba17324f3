/* results.json and the plots of `alab reversal`.
 *
 * results.json: {"variants": {"augmented": {"slots": {"p2d/trained/train_templates":
 *   {"n", "chance", "accuracy": {mean, lo, hi, seeds}, "logprob_correct",
 *    "logprob_random" (means over examples and seeds), "logprob_diff": {mean,
 *    lo, hi, t, p, n} (paired test over examples of the seed-averaged
 *    difference, the paper's statistic), "logprob_diff_by_person" (the same
 *    over people, each person's mean difference: a person's templates are
 *    not independent samples), "p_per_seed": [...]}, ...}, "final_loss"}, ...},
 *  "must_reach": {...}, "headline": [...]} */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alab/report.h"
#include "exp/reversal_internal.h"

const char *const rev_variant_names[2] = {"augmented", "no_augmentation"};
static const char *const order_names[2] = {"trained", "reverse"};
static const char *const tmpl_names[2] = {"train_templates", "heldout_templates"};

void rev_slot_key(int k, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s/%s", al_rev_group_names[k / 4], order_names[(k / 2) % 2], tmpl_names[k % 2]);
}

json_t *rev_num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

const al_rev_set *rev_slot_set(const al_rev_data *d, int v, int k) {
  int own = v == 1 && k % 2 == AL_REV_TMPL_TRAIN && (k / 2) % 2 == AL_REV_TRAINED;
  return own ? &d->noaug_trained[k / 4] : &d->slot[k];
}

void rev_results_init(rev_results *R, const al_rev_data *d, int seeds) {
  memset(R, 0, sizeof *R);
  R->seeds = seeds;
  R->vnames = rev_variant_names;
  for (int v = 0; v < 2; v++) {
    R->loss[v] = al_calloc(seeds, sizeof(double));
    R->secs[v] = al_calloc(seeds, sizeof(double));
    for (int k = 0; k < AL_REV_NSLOTS; k++) {
      int n = d->slot[k].n + 1; /* noaug_trained[g] is never longer */
      R->acc[v][k] = al_calloc(seeds, sizeof(double));
      R->pseed[v][k] = al_calloc(seeds, sizeof(double));
      R->lc[v][k] = al_calloc((size_t)n * seeds, sizeof(double));
      R->lr[v][k] = al_calloc((size_t)n * seeds, sizeof(double));
    }
  }
}

void rev_results_free(rev_results *R) {
  for (int v = 0; v < 2; v++) {
    free(R->loss[v]), free(R->secs[v]);
    for (int k = 0; k < AL_REV_NSLOTS; k++) free(R->acc[v][k]), free(R->pseed[v][k]), free(R->lc[v][k]), free(R->lr[v][k]);
  }
  memset(R, 0, sizeof *R);
}

static json_t *stat_json(const double *v, int n) {
  al_stat s = al_stat_of(v, n);
  json_t *seeds = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(seeds, rev_num(v[i]));
  return json_pack("{s:o, s:o, s:o, s:o}", "mean", rev_num(s.mean), "lo", rev_num(s.lo), "hi", rev_num(s.hi), "seeds", seeds);
}

/* The paired test of a slot over examples, each difference averaged over seeds. */
static al_rev_paired slot_test(const rev_results *R, int v, int k) {
  int n = R->n[v][k];
  double *a = al_calloc(n + 1, sizeof(double)), *z = al_calloc(n + 1, sizeof(double));
  for (int s = 0; s < R->seeds; s++)
    for (int i = 0; i < n; i++) a[i] += (R->lc[v][k][(size_t)s * n + i] - R->lr[v][k][(size_t)s * n + i]) / R->seeds;
  al_rev_paired t = al_rev_paired_test(a, z, n);
  free(a), free(z);
  return t;
}

/* Mean over every seed's examples. */
/* The same test with people as the unit: each person's mean difference over
 * its examples and seeds (a person's templates are not independent). */
static al_rev_paired people_test(const al_rev_data *d, const rev_results *R, int v, int k) {
  int n = R->n[v][k];
  const al_rev_set *set = rev_slot_set(d, v, k);
  double *sum = al_calloc(d->npeople + 1, sizeof(double)), *cnt = al_calloc(d->npeople + 1, sizeof(double));
  for (int s = 0; s < R->seeds; s++)
    for (int i = 0; i < n; i++) {
      int who = set->ex[(long)i * set->n / n].person;
      sum[who] += R->lc[v][k][(size_t)s * n + i] - R->lr[v][k][(size_t)s * n + i];
      cnt[who] += 1;
    }
  int m = 0;
  for (int p = 0; p < d->npeople; p++)
    if (cnt[p] > 0) sum[m++] = sum[p] / cnt[p];
  memset(cnt, 0, sizeof(double) * (d->npeople + 1));
  al_rev_paired t = al_rev_paired_test(sum, cnt, m);
  free(sum), free(cnt);
  return t;
}

static double mean_of(const double *x, int n, int seeds) {
  double s = 0;
  for (int i = 0; i < n * seeds; i++) s += x[i];
  return n ? s / n / seeds : NAN;
}

static int group_size(const al_rev_data *d, int g) {
  int n = 0;
  for (int i = 0; i < d->npeople; i++) n += d->group[i] == g;
  return n;
}

static double chance_of(const al_rev_data *d, int k) { return 1.0 / group_size(d, k / 4); }

json_t *rev_results_json(const al_rev_cfg *c, const al_rev_data *d, const rev_results *R, json_t *info, double seconds) {
  json_t *res = json_pack("{s:s, s:s, s:[], s:O}", "experiment", "reversal", "paper",
                          "Berglund et al. 2023, The Reversal Curse: LLMs trained on \"A is B\" fail to learn \"B is A\" "
                          "(Experiment 1)",
                          "headline", "setup", info);
  json_t *variants = json_object(), *head = json_object_get(res, "headline");
  json_object_set_new(res, "variants", variants);
  json_t *must = json_object();
  for (int v = 0; v < 2; v++) {
    if (!R->ran[v]) continue;
    json_t *slots = json_object();
    json_object_set_new(variants, R->vnames[v],
                        json_pack("{s:o, s:o}", "slots", slots, "final_loss", stat_json(R->loss[v], R->seeds)));
    for (int k = 0; k < AL_REV_NSLOTS; k++) {
      if (!R->n[v][k]) continue;
      char key[96];
      rev_slot_key(k, key, sizeof key);
      al_rev_paired t = slot_test(R, v, k), tp = people_test(d, R, v, k);
      json_t *ps = json_array();
      for (int s = 0; s < R->seeds; s++) json_array_append_new(ps, rev_num(R->pseed[v][k][s]));
      json_object_set_new(
          slots, key,
          json_pack("{s:i, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:i}, s:{s:o, s:o, s:o, s:o, s:o, s:i}, s:o}",
                    "n", R->n[v][k], "chance",
                    rev_num(chance_of(d, k)), "accuracy", stat_json(R->acc[v][k], R->seeds), "logprob_correct",
                    rev_num(mean_of(R->lc[v][k], R->n[v][k], R->seeds)), "logprob_random",
                    rev_num(mean_of(R->lr[v][k], R->n[v][k], R->seeds)), "logprob_diff", "mean", rev_num(t.mean), "lo",
                    rev_num(t.lo), "hi", rev_num(t.hi), "t", rev_num(t.t), "p", rev_num(t.p), "n", t.n,
                    "logprob_diff_by_person", "mean", rev_num(tp.mean), "lo", rev_num(tp.lo), "hi", rev_num(tp.hi), "t",
                    rev_num(tp.t), "p", rev_num(tp.p), "n", tp.n, "p_per_seed", ps));
    }
    /* headlines */
    char line[1024];
    int len = snprintf(line, sizeof line, "%s, %d seeds: trained order, training templates:", R->vnames[v], R->seeds);
    for (int g = 0; g < AL_REV_NGROUPS; g++) {
      al_stat a = al_stat_of(R->acc[v][al_rev_slot(g, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)], R->seeds);
      len += snprintf(line + len, sizeof line - len, " %s %.1f%% [%.1f, %.1f]", al_rev_group_names[g], 100 * a.mean,
                      100 * a.lo, 100 * a.hi);
    }
    json_array_append_new(head, json_string(line));
    len = snprintf(line, sizeof line, "%s: held-out templates:", R->vnames[v]);
    for (int k = 0; k < AL_REV_NSLOTS; k++) {
      if (k % 2 != AL_REV_TMPL_HELDOUT || !R->n[v][k]) continue;
      al_stat a = al_stat_of(R->acc[v][k], R->seeds);
      len += snprintf(line + len, sizeof line - len, " %s %s %.1f%%;", al_rev_group_names[k / 4],
                      order_names[(k / 2) % 2], 100 * a.mean);
    }
    snprintf(line + len, sizeof line - len, " chance %.1f%%", 100 * chance_of(d, 0));
    json_array_append_new(head, json_string(line));
    len = snprintf(line, sizeof line, "%s: log p(correct) - log p(random), held-out templates:", R->vnames[v]);
    for (int k = 0; k < AL_REV_NSLOTS; k++) {
      if (k % 2 != AL_REV_TMPL_HELDOUT || !R->n[v][k]) continue;
      al_rev_paired t = slot_test(R, v, k);
      len += snprintf(line + len, sizeof line - len, " %s %s %+.2f nats (p=%.2g);", al_rev_group_names[k / 4],
                      order_names[(k / 2) % 2], t.mean, t.p);
    }
    json_array_append_new(head, json_string(line));
    if (v != 0) continue;
    /* must reach (augmented): trained order >= 90% on training templates;
     * reverse accuracy at most chance plus its 95% CI half-width */
    int ok_fwd = 1, ok_rev = 1;
    for (int g = 0; g < AL_REV_NGROUPS; g++)
      ok_fwd &= al_stat_of(R->acc[v][al_rev_slot(g, AL_REV_TRAINED, AL_REV_TMPL_TRAIN)], R->seeds).mean >= 0.9;
    for (int g = 0; g < 2; g++) {
      int k = al_rev_slot(g, AL_REV_REVERSE, AL_REV_TMPL_HELDOUT);
      al_stat a = al_stat_of(R->acc[v][k], R->seeds);
      ok_rev &= a.mean <= chance_of(d, k) + (a.hi - a.mean);
    }
    json_object_set_new(must, "trained_order_train_templates_at_least_90pct", json_boolean(ok_fwd));
    json_object_set_new(must, "reverse_at_most_chance_plus_ci", json_boolean(ok_rev));
  }
  json_object_set_new(res, "must_reach", must);
  json_object_set_new(res, "seconds", json_real(seconds));
  (void)c;
  return res;
}

/* accuracy.svg: per group and order, x = 1 training templates, 2 held-out;
 * logprob.svg: mean log p(correct) and log p(random) per slot (held-out). */
int rev_plots(const al_rev_cfg *c, al_run *run, const al_rev_data *d, const rev_results *R, al_err *err) {
  (void)c, (void)d;
  int v = R->ran[0] ? 0 : 1;
  static double x2[2] = {1, 2}, x5[5] = {1, 2, 3, 4, 5};
  double y[5][2], lo[5][2], hi[5][2];
  char titles[5][48];
  al_plot_series ps[10];
  int ns = 0;
  for (int g = 0; g < AL_REV_NGROUPS; g++)
    for (int o = 0; o < 2; o++) {
      if (g == AL_REV_BOTH && o == AL_REV_REVERSE) continue;
      int idx = ns;
      for (int t = 0; t < 2; t++) {
        int k = al_rev_slot(g, o, t);
        al_stat a = al_stat_of(R->acc[v][k], R->seeds);
        int have = R->n[v][k] > 0;
        y[idx][t] = have ? 100 * a.mean : NAN, lo[idx][t] = have ? 100 * a.lo : NAN, hi[idx][t] = have ? 100 * a.hi : NAN;
      }
      snprintf(titles[idx], sizeof titles[idx], "%s, %s order", al_rev_group_names[g], order_names[o]);
      ps[ns++] = (al_plot_series){.title = titles[idx], .style = AL_PLOT_ERRORBARS, .n = 2, .x = x2, .y = y[idx],
                                  .lo = lo[idx], .hi = hi[idx]};
    }
  al_plot p = {.title = "Greedy completion accuracy (mean, 95% CI over seeds)",
               .xlabel = "1 = training templates, 2 = held-out templates", .ylabel = "accuracy (%)"};
  if (al_plot_svg(run->dir, "accuracy", &p, ps, ns, err) < 0) return -1;
  /* log-probs on held-out templates */
  double yc[5], yr[5];
  static const int order5[5][2] = {{AL_REV_P2D, AL_REV_TRAINED}, {AL_REV_P2D, AL_REV_REVERSE}, {AL_REV_D2P, AL_REV_TRAINED},
                                    {AL_REV_D2P, AL_REV_REVERSE}, {AL_REV_BOTH, AL_REV_TRAINED}};
  for (int i = 0; i < 5; i++) {
    int k = al_rev_slot(order5[i][0], order5[i][1], AL_REV_TMPL_HELDOUT);
    yc[i] = mean_of(R->lc[v][k], R->n[v][k], R->seeds);
    yr[i] = mean_of(R->lr[v][k], R->n[v][k], R->seeds);
  }
  al_plot_series q[2] = {
      {.title = "correct completion", .style = AL_PLOT_ERRORBARS, .n = 5, .x = x5, .y = yc, .lo = yc, .hi = yc},
      {.title = "random other person's", .style = AL_PLOT_ERRORBARS, .n = 5, .x = x5, .y = yr, .lo = yr, .hi = yr},
  };
  al_plot p2 = {.title = "Mean log p(completion | prompt), held-out templates",
                .xlabel = "1 p2d trained, 2 p2d reverse, 3 d2p trained, 4 d2p reverse, 5 both",
                .ylabel = "log-probability (nats)"};
  return al_plot_svg(run->dir, "logprob", &p2, q, 2, err) < 0 ? -1 : 0;
}

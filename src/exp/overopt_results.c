/* results.json of `alab overopt` (include/alab/overopt.h): the policy's
 * samples, every curve (best-of-n's, then RL's) with its fit, and the
 * headline: each curve's peak and fit, and how the peak moves across the
 * grid of proxies (more comparisons at each size, a larger proxy at each
 * number of comparisons), paired over seeds ("peak_moves"). */
#include <math.h>
#include <stdlib.h>
#include "alab/json.h"
#include "exp/overopt_internal.h"

static json_t *seeds_stat(const double *x, int n) {
  al_stat st = al_stat_of(x, n);
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, al_json_real_or_null(x[i]));
  return json_pack("{s:o, s:o, s:o, s:o}", "mean", al_json_real_or_null(st.mean), "lo", al_json_real_or_null(st.lo), "hi",
                   al_json_real_or_null(st.hi), "seeds", a);
}

/* "m [lo, hi]" of a {"mean", "lo", "hi"} object, or "none" where a seed
 * had no value (a fit without a peak, samples of one gold). */
static const char *ci_text(const json_t *st, const char *fmt, char *buf, size_t n) {
  json_t *m = json_object_get(st, "mean"), *lo = json_object_get(st, "lo"), *hi = json_object_get(st, "hi");
  if (!json_is_number(m) || !json_is_number(lo) || !json_is_number(hi)) snprintf(buf, n, "none");
  else snprintf(buf, n, fmt, json_number_value(m), json_number_value(lo), json_number_value(hi));
  return buf;
}

/* results.json: the policy's samples, every curve, and the headline. */
/* share of stories and of share stories among a proxy's top picks and the pool, over seeds */
static json_t *picks_json(const ov_picks *pk, int S) {
  double *v = al_malloc(sizeof(double) * 4 * (size_t)S);
  for (int s = 0; s < S; s++)
    v[s] = pk[s].top_story, v[S + s] = pk[s].top_share, v[2 * S + s] = pk[s].pool_story, v[3 * S + s] = pk[s].pool_share;
  json_t *j = json_pack("{s:o, s:o, s:o, s:o}", "top_story", seeds_stat(v, S), "top_share", seeds_stat(v + S, S),
                        "pool_story", seeds_stat(v + 2 * S, S), "pool_share", seeds_stat(v + 3 * S, S));
  free(v);
  return j;
}

static const char *picks_text(const ov_picks *pk, int S, char *buf, size_t n) {
  double ts = 0, th = 0, ps = 0, ph = 0;
  for (int s = 0; s < S; s++) ts += pk[s].top_story / S, th += pk[s].top_share / S, ps += pk[s].pool_story / S, ph += pk[s].pool_share / S;
  snprintf(buf, n, "; its top 1/16 of the samples: %.1f%% stories, %.1f%% share stories (all samples: %.1f%%, %.1f%%)",
           100 * ts, 100 * th, 100 * ps, 100 * ph);
  return buf;
}

/* Seed s's peak on best-of-n curve cv: the point of highest gold (the
 * first of equals), its d and gold. */
static void seed_peak(const al_overopt_curve *cv, int s, double *d, double *gold) {
  int S = cv->seeds, best = 0;
  for (int k = 1; k < cv->npts; k++)
    if (cv->gold[(size_t)k * S + s] > cv->gold[(size_t)best * S + s]) best = k;
  *d = cv->d[(size_t)best * S + s], *gold = cv->gold[(size_t)best * S + s];
}

/* How the peak moves across the grid (adjacent proxies: more comparisons at
 * each size, then a larger proxy at each number of comparisons), paired
 * over seeds, one line of the headline each: the differences (to minus
 * from) of each seed's own peak (d and gold at its highest point; a curve
 * still rising at its end has its peak at the last point, so "out of the
 * range" counts as the range's end), of the fitted d* and R* where both
 * seeds' fits have a peak (NAN otherwise: no interval), and of the
 * agreement with gold (the proxies' quality). */
static json_t *moves_json(ov_world *w, json_t *curves, json_t *head) {
  const al_overopt_cfg *c = w->c;
  int S = c->seeds;
  json_t *moves = json_array();
  double *v = al_malloc(sizeof(double) * 5 * (size_t)S);
  for (int dir = 0; dir < 2; dir++) {
    int outer = dir ? c->n_pairs : c->n_rm_layers, inner = dir ? c->n_rm_layers : c->n_pairs;
    for (int o = 0; o < outer; o++)
      for (int k = 0; k + 1 < inner; k++) {
        int p = dir ? k * c->n_pairs + o : o * c->n_pairs + k, q = dir ? p + c->n_pairs : p + 1;
        json_t *fp = json_object_get(json_array_get(curves, (size_t)p), "fit"), *fq = json_object_get(json_array_get(curves, (size_t)q), "fit");
        for (int s = 0; s < S; s++) {
          double dp, gp, dq, gq;
          seed_peak(&w->curves[p], s, &dp, &gp), seed_peak(&w->curves[q], s, &dq, &gq);
          v[s] = dq - dp, v[S + s] = gq - gp;
          for (int f = 0; f < 2; f++) {
            const char *key = f ? "r_peak" : "d_peak";
            json_t *a = json_array_get(json_object_get(json_object_get(fp, key), "seeds"), (size_t)s),
                   *b = json_array_get(json_object_get(json_object_get(fq, key), "seeds"), (size_t)s);
            v[(2 + f) * S + s] = json_is_number(a) && json_is_number(b) ? json_number_value(b) - json_number_value(a) : NAN;
          }
          v[4 * S + s] = w->agree[(size_t)q * S + s] - w->agree[(size_t)p * S + s];
        }
        json_t *m = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "direction", dir ? "size" : "comparisons", "from",
                              w->names[p], "to", w->names[q], "peak_d", seeds_stat(v, S), "peak_gold", seeds_stat(v + S, S),
                              "fit_d_peak", seeds_stat(v + 2 * S, S), "fit_r_peak", seeds_stat(v + 3 * S, S),
                              "gold_agreement", seeds_stat(v + 4 * S, S));
        char t[5][64];
        const char *what[5] = {"peak_d", "peak_gold", "fit_d_peak", "fit_r_peak", "gold_agreement"};
        for (int i = 0; i < 5; i++) ci_text(json_object_get(m, what[i]), i == 0 || i == 2 ? "%+.2f [%+.2f, %+.2f]" : "%+.3f [%+.3f, %+.3f]", t[i], sizeof t[i]);
        json_array_append_new(head, json_sprintf("%s %s -> %s, paired over seeds: each seed's peak moves by d %s, gold %s; "
                                                 "the fitted peak by d* %s, R* %s; agreement with gold %s",
                                                 dir ? "larger proxy:" : "more comparisons:", w->names[p], w->names[q], t[0],
                                                 t[1], t[2], t[3], t[4]));
        json_array_append_new(moves, m);
      }
  }
  free(v);
  return moves;
}

json_t *ov_results_json(ov_world *w, json_t *info, double secs) {
  const al_overopt_cfg *c = w->c;
  int S = c->seeds, P = ov_nproxies(c);
  double *parse = al_malloc(sizeof(double) * (size_t)S), *g1 = al_malloc(sizeof(double) * (size_t)S);
  double *gsd = al_malloc(sizeof(double) * (size_t)S);
  for (int s = 0; s < S; s++) {
    parse[s] = (double)w->bon[s].complete / w->bon[s].n;
    al_stat one = al_stat_of(w->bon[s].gold, w->bon[s].n); /* one sample's gold: its mean and spread */
    g1[s] = one.mean, gsd[s] = one.sd;
  }
  json_object_set_new(info, "complete_stories", seeds_stat(parse, S));
  json_object_set_new(info, "gold_at_n1", seeds_stat(g1, S));
  json_object_set_new(info, "gold_sd_n1", seeds_stat(gsd, S)); /* sets how many rollouts a gold gain needs */
  json_t *curves = json_array(), *head = json_array();
  al_stat ps = al_stat_of(parse, S), gs = al_stat_of(g1, S);
  json_array_append_new(head, json_sprintf("policy: %.1f%% of its samples are stories of the world [95%% CI %.1f, %.1f]; "
                                           "gold at n = 1: %.3f [%.3f, %.3f]", 100 * ps.mean, 100 * ps.lo, 100 * ps.hi,
                                           gs.mean, gs.lo, gs.hi));
  int all_rise = 1;
  for (int q = 0; q < w->ncurves; q++) {
    const al_overopt_curve *cv = &w->curves[q];
    int p = q % P, rl = q >= P;
    const char *xn = cv->x_name;
    json_t *j = al_overopt_curve_json(cv);
    if (rl) json_object_set_new(j, "start_gold", seeds_stat(w->rl_start_gold + (size_t)p * S, S));
    else {
      json_object_set_new(j, "gold_agreement", seeds_stat(w->agree + (size_t)p * S, S));
      json_object_set_new(j, "rm_final_loss", seeds_stat(w->rm_loss + (size_t)p * S, S));
      json_object_set_new(j, "top_picks", picks_json(w->picks + (size_t)p * S, S));
    }
    json_t *pk = json_object_get(j, "empirical_peak"), *fit = json_object_get(j, "fit");
    json_t *a = json_object_get(fit, "alpha"), *b = json_object_get(fit, "beta"), *dp = json_object_get(fit, "d_peak");
    json_t *last = json_array_get(json_object_get(j, "points"), (size_t)cv->npts - 1);
    double top = json_number_value(json_object_get(json_object_get(last, "gold"), "mean"));
    all_rise &= json_is_true(json_object_get(j, "proxy_rises"));
    char ta[64], tb[64], td[64], tg[64], tp[160];
    json_array_append_new(head, json_sprintf(
        "%s %s (%ld params, %d comparisons): gold peaks at %s = %.0f (d = %.2f, %+.3f, %s), %+.3f at %s = %.0f (d = %.2f); "
        "fit alpha %s, beta %s, d* %s; %s %s%s",
        rl ? "RL against" : "best-of-n against", w->names[p], cv->params, cv->pairs, xn,
        json_number_value(json_object_get(pk, xn)), json_number_value(json_object_get(pk, "d")),
        json_number_value(json_object_get(pk, "gold")),
        json_is_true(json_object_get(pk, "inside")) ? "inside the range" : "at its edge", top, xn, cv->x[cv->npts - 1],
        json_number_value(json_object_get(json_object_get(last, "d"), "mean")),
        ci_text(a, "%.3f [%.3f, %.3f]", ta, sizeof ta), ci_text(b, "%.3f [%.3f, %.3f]", tb, sizeof tb),
        ci_text(dp, "%.2f [%.2f, %.2f]", td, sizeof td),
        rl ? "gold of the initial policy (the start):" : "sample pairs ordered as gold orders them:",
        ci_text(json_object_get(j, rl ? "start_gold" : "gold_agreement"), "%.3f [%.3f, %.3f]", tg, sizeof tg),
        rl ? "" : picks_text(w->picks + (size_t)p * S, S, tp, sizeof tp)));
    json_array_append_new(curves, j);
  }
  json_array_insert_new(head, 1, json_sprintf("proxy reward rises with n%s for %s proxy", w->ncurves > P ? " and over RL" : "", all_rise ? "every" : "not every"));
  json_t *moves = moves_json(w, curves, head);
  json_t *r = json_pack("{s:s, s:o, s:o, s:o, s:o, s:f}", "experiment", "overopt", "headline", head, "info",
                        json_incref(info), "curves", curves, "peak_moves", moves, "seconds", secs);
  free(parse), free(g1), free(gsd);
  return r;
}


/* `alab overopt` end to end at a tiny scale (a 2-layer policy trained 200
 * steps, 2 seeds, 16 best-of-n samples, 4 proxies): the run directory is
 * complete (config.json, metrics.jsonl, results.json with the documented
 * keys and finite numbers, the SVG plots, index.html, report.html); d is
 * sqrt(log n - (n-1)/n) at each n; gains are 0 at n = 1; a second run with
 * the same settings gives the same numbers; settings outside their ranges
 * are refused naming the flag. With RL (6 batches of rollouts, a first
 * window of 2): one RL curve per proxy after best-of-n's, its points the
 * start (the initial policy: d = 0 and gains 0),
 * batches [1, 3) and [3, 6) (the second window, 4 long, cut at 6) at steps
 * 0, 1.5 and 4 with d = sqrt(KL) >= 0, the fit per seed, the gold of the
 * start, and the RL numbers reproduced by the rerun too. */
#include <jansson.h>
#include <unistd.h>
#include "alab/bon.h"
#include "alab/overopt.h"
#include "test.h"

static void tiny(al_overopt_cfg *c) {
  al_overopt_defaults(c);
  c->seeds = 2, c->stories = 300, c->layers = 2, c->heads = 2, c->embd = 32, c->context = 96, c->batch = 4;
  c->policy_steps = 200, c->policy_lr = 5e-3, c->batch = 8;
  c->rm_layers[0] = 1, c->rm_layers[1] = 2, c->n_rm_layers = 2;
  c->pairs[0] = 8, c->pairs[1] = 16, c->n_pairs = 2;
  c->N = 16, c->max_new = 40, c->threads = 1, c->temperature = 0.6;
  c->rl_iters = 6, c->rl_window = 2, c->rl_k = 2;
}

static int exists(const char *dir, const char *name) {
  char p[700];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat st;
  return stat(p, &st) == 0 && st.st_size > 0;
}

static json_t *load(const char *dir, const char *name) {
  char p[700];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return json_load_file(p, 0, NULL);
}

static int finite_num(json_t *j) { return json_is_number(j) && isfinite(json_number_value(j)); }

int main(void) {
  al_err err;
  const char *tmp = getenv("ALAB_TEST_TMP") ? getenv("ALAB_TEST_TMP") : "/tmp";
  char a[600], b[600];
  snprintf(a, sizeof a, "%s/overopt_a_%d", tmp, (int)getpid());
  snprintf(b, sizeof b, "%s/overopt_b_%d", tmp, (int)getpid());
  al_overopt_cfg c;
  tiny(&c);
  CHECK_OK(al_overopt_run(&c, a, &err), err);
  const char *files[] = {"config.json", "metrics.jsonl", "results.json", "overopt_gold_bon.svg", "overopt_proxy_bon.svg",
                         "overopt_gold_rl.svg", "overopt_proxy_rl.svg", "index.html", "report.html"};
  for (int i = 0; i < 9; i++) CHECK(exists(a, files[i]), "%s written", files[i]);
  json_t *cfg = load(a, "config.json"), *res = load(a, "results.json");
  CHECK(cfg && json_integer_value(json_object_get(cfg, "N")) == 16 && json_array_size(json_object_get(cfg, "pairs")) == 2,
        "config.json holds the settings");
  json_t *head = json_object_get(res, "headline"), *curves = json_object_get(res, "curves");
  CHECK(json_array_size(head) >= 3 && json_is_string(json_array_get(head, 0)), "a headline");
  CHECK(json_array_size(curves) == 8, "one best-of-n and one RL curve per proxy (%zu)", json_array_size(curves));
  json_t *info = json_object_get(res, "info");
  CHECK(finite_num(json_object_get(json_object_get(info, "gold_at_n1"), "mean")) &&
        finite_num(json_object_get(json_object_get(info, "complete_stories"), "mean")), "policy facts");
  /* the labels' ceiling per comparison count: a loss in (0, ln 2], an accuracy in [1/2, 1) (JSON keeps 10 digits) */
  for (int i = 0; i < 2; i++) {
    json_t *l = json_object_get(json_object_get(info, "labels"), i ? "P16" : "P8");
    double bl = json_number_value(json_object_get(json_object_get(l, "bayes_loss"), "mean"));
    double ba = json_number_value(json_object_get(json_object_get(l, "bayes_accuracy"), "mean"));
    CHECK(l && bl > 0 && bl <= log(2) + 1e-9 && ba >= 0.5 && ba < 1, "labels P%d: loss %.17g accuracy %.17g", i ? 16 : 8, bl, ba);
  }
  CHECK(json_number_value(json_object_get(json_object_get(info, "gold_sd_n1"), "mean")) > 0, "one sample's gold sd");
  size_t i;
  json_t *cv;
  json_array_foreach(curves, i, cv) {
    json_t *pts = json_object_get(cv, "points");
    if (i >= 4) { /* RL */
      CHECK(!strcmp(json_string_value(json_object_get(cv, "optimiser")), "rl") && json_array_size(pts) == 3 &&
            !strcmp(json_string_value(json_object_get(cv, "proxy")),
                    json_string_value(json_object_get(json_array_get(curves, i - 4), "proxy"))),
            "curve %zu: RL against the proxy of curve %zu, 3 points", i, i - 4);
      size_t k;
      json_t *pt;
      json_array_foreach(pts, k, pt) {
        json_t *d = json_object_get(pt, "d");
        const double step[3] = {0, 1.5, 4};
        CHECK(json_number_value(json_object_get(pt, "step")) == step[k] && finite_num(json_object_get(d, "mean")) &&
              json_number_value(json_object_get(d, "mean")) >= 0 &&
              finite_num(json_object_get(json_object_get(pt, "gold"), "mean")) &&
              finite_num(json_object_get(json_object_get(pt, "proxy"), "mean")), "RL curve %zu point %zu", i, k);
        if (k == 1) /* one update has moved the policy */
          CHECK(json_number_value(json_object_get(d, "mean")) > 0, "RL curve %zu: d %g > 0 after the first update", i,
                json_number_value(json_object_get(d, "mean")));
        if (k == 0) /* the initial policy: KL 0 to itself, gains 0 */
          CHECK(json_number_value(json_object_get(d, "hi")) == 0 &&
                json_number_value(json_object_get(json_object_get(pt, "gold"), "hi")) == 0 &&
                json_number_value(json_object_get(json_object_get(pt, "proxy"), "lo")) == 0, "RL curve %zu starts at d = 0", i);
      }
      CHECK(json_array_size(json_object_get(json_object_get(cv, "fit"), "per_seed")) == 2 &&
            json_array_size(json_object_get(json_object_get(cv, "start_gold"), "seeds")) == 2 &&
            finite_num(json_object_get(json_object_get(cv, "start_gold"), "mean")) &&
            json_number_value(json_object_get(json_object_get(cv, "start_gold"), "mean")) >= -1 &&
            json_number_value(json_object_get(json_object_get(cv, "start_gold"), "mean")) <= 1.1 &&
            !strcmp(json_string_value(json_object_get(cv, "form")), "d (alpha - beta log d)"),
            "curve %zu: RL's fit, form and start", i);
      continue;
    }
    CHECK(json_array_size(pts) == 5 && !strcmp(json_string_value(json_object_get(cv, "optimiser")), "bon"),
          "curve %zu: n = 1, 2, 4, 8, 16", i);
    size_t k;
    json_t *pt;
    json_array_foreach(pts, k, pt) {
      int n = (int)json_number_value(json_object_get(pt, "n"));
      double d = json_number_value(json_object_get(json_object_get(pt, "d"), "mean"));
      CHECK(n == 1 << k && fabs(d - sqrt(al_bon_kl(n))) < 1e-9 /* results.json keeps 10 digits */, "curve %zu point %zu: n %d, d %g", i, k, n, d);
      json_t *g = json_object_get(pt, "gold"), *p = json_object_get(pt, "proxy");
      CHECK(json_array_size(json_object_get(g, "seeds")) == 2 && finite_num(json_object_get(g, "mean")) &&
            finite_num(json_object_get(p, "mean")) && finite_num(json_object_get(g, "lo")), "curve %zu point %zu: finite", i, k);
      if (k == 0)
        CHECK(json_number_value(json_object_get(g, "mean")) == 0 && json_number_value(json_object_get(p, "mean")) == 0,
              "gains are 0 at n = 1");
    }
    json_t *fit = json_object_get(cv, "fit");
    CHECK(finite_num(json_object_get(json_object_get(fit, "alpha"), "mean")) &&
          finite_num(json_object_get(json_object_get(fit, "beta"), "mean")) &&
          json_array_size(json_object_get(fit, "per_seed")) == 2, "curve %zu: fitted per seed", i);
    CHECK(json_is_object(json_object_get(cv, "empirical_peak")) && json_is_boolean(json_object_get(cv, "proxy_rises")) &&
          json_array_size(json_object_get(json_object_get(cv, "gold_agreement"), "seeds")) == 2 &&
          json_integer_value(json_object_get(cv, "params")) > 0, "curve %zu: peak, agreement, size", i);
    /* what the proxy picks: shares in [0, 1], the pool's share of stories the policy's */
    json_t *tp = json_object_get(cv, "top_picks");
    double top = json_number_value(json_object_get(json_object_get(tp, "top_story"), "mean")),
           pool = json_number_value(json_object_get(json_object_get(tp, "pool_story"), "mean")),
           share = json_number_value(json_object_get(json_object_get(tp, "pool_share"), "mean"));
    CHECK(top >= 0 && top <= 1 && share >= 0 && share <= pool &&
          fabs(pool - json_number_value(json_object_get(json_object_get(info, "complete_stories"), "mean"))) < 1e-9,
          "curve %zu: top picks %g, pool %g (share %g) as the policy's", i, top, pool, share);
  }
  /* how the peak moves: 2 sizes x (1 step of comparisons) + 2 comparison counts x (1 step of size); each seed's
   * peak d and gold recomputed here from the curves' points */
  json_t *moves = json_object_get(res, "peak_moves");
  CHECK(json_array_size(moves) == 4, "4 moves of the peak (%zu)", json_array_size(moves));
  const char *want[4][3] = {{"comparisons", "L1-P8", "L1-P16"}, {"comparisons", "L2-P8", "L2-P16"},
                            {"size", "L1-P8", "L2-P8"}, {"size", "L1-P16", "L2-P16"}};
  for (size_t m = 0; m < 4 && json_array_size(moves) == 4; m++) {
    json_t *mv = json_array_get(moves, m);
    CHECK(!strcmp(json_string_value(json_object_get(mv, "direction")), want[m][0]) &&
          !strcmp(json_string_value(json_object_get(mv, "from")), want[m][1]) &&
          !strcmp(json_string_value(json_object_get(mv, "to")), want[m][2]), "move %zu: %s %s -> %s", m, want[m][0],
          want[m][1], want[m][2]);
    double pd[2][2], pg[2][2]; /* [from/to][seed] */
    for (int e = 0; e < 2; e++) {
      int p = (want[m][1 + e][1] - '1') * 2 + (strstr(want[m][1 + e], "P16") != NULL);
      json_t *pts = json_object_get(json_array_get(curves, (size_t)p), "points");
      for (int s = 0; s < 2; s++) {
        pg[e][s] = -INFINITY;
        for (size_t k = 0; k < json_array_size(pts); k++) {
          json_t *pt = json_array_get(pts, k);
          double g = json_number_value(json_array_get(json_object_get(json_object_get(pt, "gold"), "seeds"), (size_t)s));
          if (g > pg[e][s]) pg[e][s] = g, pd[e][s] = json_number_value(json_array_get(json_object_get(json_object_get(pt, "d"), "seeds"), (size_t)s));
        }
      }
    }
    for (int s = 0; s < 2; s++) {
      double dd = json_number_value(json_array_get(json_object_get(json_object_get(mv, "peak_d"), "seeds"), (size_t)s)),
             dg = json_number_value(json_array_get(json_object_get(json_object_get(mv, "peak_gold"), "seeds"), (size_t)s));
      CHECK(fabs(dd - (pd[1][s] - pd[0][s])) < 1e-9 && fabs(dg - (pg[1][s] - pg[0][s])) < 1e-9,
            "move %zu seed %d: peak d %+g (recomputed %+g), gold %+g (%+g)", m, s, dd, pd[1][s] - pd[0][s], dg, pg[1][s] - pg[0][s]);
    }
    CHECK(json_is_object(json_object_get(mv, "fit_d_peak")) && json_is_object(json_object_get(mv, "gold_agreement")),
          "move %zu: fitted peak and agreement", m);
  }
  /* metrics.jsonl: one line per proxy and seed */
  char p[700];
  snprintf(p, sizeof p, "%s/metrics.jsonl", a);
  FILE *f = fopen(p, "r");
  int lines = 0;
  char line[4096];
  while (f && fgets(line, sizeof line, f)) {
    json_t *j = json_loads(line, 0, NULL);
    json_t *tk = json_object_get(j, "rl_response_tokens"); /* per RL point; a response is 1..max_new tokens */
    int tk_ok = json_array_size(tk) == 3;
    for (size_t k = 0; tk_ok && k < 3; k++) {
      double v = json_number_value(json_array_get(tk, k));
      tk_ok = finite_num(json_array_get(tk, k)) && v >= 1 && v <= 40;
    }
    lines += j && json_is_string(json_object_get(j, "proxy")) && finite_num(json_object_get(j, "gold_gain_at_N")) &&
             finite_num(json_object_get(j, "rm_final_loss")) && finite_num(json_object_get(j, "rl_start_gold")) && tk_ok;
    json_decref(j);
  }
  if (f) fclose(f);
  CHECK(lines == 8, "8 metrics lines (%d)", lines);
  /* the same settings again: the same numbers */
  CHECK_OK(al_overopt_run(&c, b, &err), err);
  json_t *res2 = load(b, "results.json");
  CHECK(res2 && json_equal(json_object_get(res, "curves"), json_object_get(res2, "curves")), "a rerun gives the same curves");
  json_decref(cfg), json_decref(res), json_decref(res2);
  /* refusals */
  tiny(&c);
  c.seeds = 1;
  CHECK_FAILS_WITH(al_overopt_run(&c, a, &err), err, "--seeds");
  tiny(&c);
  c.rm_layers[1] = 3;
  CHECK_FAILS_WITH(al_overopt_check(&c, &err), err, "--rm-layers");
  tiny(&c);
  c.rl_iters = 3; /* the start and one window of 2: one point with d > 0 */
  CHECK_FAILS_WITH(al_overopt_check(&c, &err), err, "--rl-iters");
  tiny(&c);
  c.rl_k = 1;
  CHECK_FAILS_WITH(al_overopt_check(&c, &err), err, "--rl-k");
  tiny(&c);
  c.policy = a; /* a run directory, not a model */
  CHECK_FAILS_WITH(al_overopt_run(&c, b, &err), err, "--policy");
  char cmd[1300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", a, b);
  CHECK(system(cmd) == 0, "cleanup");
  return test_summary();
}

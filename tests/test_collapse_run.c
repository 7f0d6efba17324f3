/* The collapse run directory end to end: config.json with every setting
 * resolved, results.json, metrics.jsonl, SVG plots (gnuplot) and index.html;
 * plotting without gnuplot; the sweep-list parser under random mutation; and
 * the CLI (`alab collapse`, `alab reproduce`) with its errors for bad input. */
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alab/collapse.h"
#include "alab/json.h"
#include "alab/report.h"
#include "test.h"

static char *read_all(const char *dir, const char *name) {
  char *p = al_path_join(dir, name), *data = NULL;
  al_err err;
  if (al_read_file(p, &data, NULL, &err)) data = NULL;
  free(p);
  return data;
}

static int has_file(const char *dir, const char *name) {
  char *p = al_path_join(dir, name);
  int ok = al_file_exists(p);
  free(p);
  return ok;
}

static void test_library_run(const char *tmp) {
  al_err err;
  al_collapse_cfg c;
  al_collapse_defaults(&c);
  c.parts = "linear,gauss"; /* the lm part trains models: tests/test_collapse_lm.c */
  c.d = "3,5";
  c.T = "20";
  c.iters = 4;
  c.seeds = 5;
  c.gauss_iters = 6;
  c.gauss_n = 10;
  char *dir = al_path_join(tmp, "run");
  CHECK_OK(al_collapse_run(&c, dir, &err), err);
  json_t *cfg = NULL, *res = NULL;
  char *p = al_path_join(dir, "config.json");
  CHECK_OK(al_json_load_file(p, &cfg, &err), err);
  free(p);
  p = al_path_join(dir, "results.json");
  CHECK_OK(al_json_load_file(p, &res, &err), err);
  free(p);
  if (cfg && res) {
    json_t *lin = json_object_get(cfg, "linear"), *g = json_object_get(cfg, "gauss");
    CHECK(json_array_size(json_object_get(lin, "d")) == 2, "config linear.d is the sweep");
    CHECK(json_integer_value(json_object_get(lin, "seeds")) == 5, "config linear.seeds resolved");
    CHECK(json_array_size(json_object_get(lin, "policies")) == 3, "config policies resolved");
    CHECK(json_integer_value(json_object_get(g, "n")) == 10 && json_integer_value(json_object_get(g, "d")) == 1, "config gauss");
    json_t *settings = json_object_get(json_object_get(res, "linear"), "settings");
    CHECK(json_array_size(settings) == 2, "one result per (d, T, sigma2): %zu", json_array_size(settings));
    json_t *rep = json_object_get(json_object_get(json_array_get(settings, 1), "error"), "replace");
    CHECK(json_array_size(rep) == 4, "one entry per iteration");
    json_t *it = json_array_get(rep, 3);
    CHECK(json_array_size(json_object_get(it, "seeds")) == 5, "every seed's value");
    double cf = json_real_value(json_object_get(it, "closed_form"));
    CHECK(rel_err(cf, 4.0 * 5 / (20 - 5 - 1)) < 1e-9, "closed form in results (10 digits): %g", cf);
    double mean = json_real_value(json_object_get(it, "mean")), lo = json_real_value(json_object_get(it, "lo"));
    CHECK(lo < mean && mean < json_real_value(json_object_get(it, "hi")), "interval around the mean");
    json_t *sub = json_array_get(json_object_get(json_object_get(json_array_get(settings, 0), "error"), "accumulate-subsample"), 0);
    CHECK(json_is_null(json_object_get(sub, "closed_form")), "no closed form for subsample");
    CHECK(json_array_size(json_object_get(json_object_get(json_object_get(res, "gauss"), "kl"), "replace")) == 6, "gauss kl");
    CHECK(json_array_size(json_object_get(res, "headline")) == 2 * 3 + 2 * 3, "headline lines: %zu",
          json_array_size(json_object_get(res, "headline")));
  }
  json_decref(cfg);
  json_decref(res);
  /* metrics.jsonl: linear 2 settings x 3 policies x 4 iterations, gauss 2 quantities x 3 x 6 */
  char *m = read_all(dir, "metrics.jsonl");
  CHECK(m != NULL, "metrics.jsonl written");
  int lines = 0;
  for (char *s = m, *nl; s && (nl = strchr(s, '\n')); s = nl + 1) {
    json_t *j = NULL;
    CHECK_OK(al_json_parse(s, nl - s, "metrics line", &j, &err), err);
    json_decref(j);
    lines++;
  }
  CHECK(lines == 24 + 36, "metrics lines: %d", lines);
  free(m);
  const char *svgs[] = {"linear_d3_T20_sigma2_1.svg", "linear_d5_T20_sigma2_1.svg", "gauss_variance.svg", "gauss_kl.svg"};
  char *html = read_all(dir, "index.html");
  CHECK(html != NULL, "index.html written");
  for (int i = 0; i < 4; i++) {
    char *svg = read_all(dir, svgs[i]);
    CHECK(svg && strstr(svg, "<svg") && strstr(svg, "</svg>"), "%s is an SVG", svgs[i]);
    CHECK(svg && strstr(svg, "closed form"), "%s shows the closed form", svgs[i]);
    free(svg);
    char needle[128];
    snprintf(needle, sizeof needle, "<img src=\"%s\"", svgs[i]);
    CHECK(html && strstr(html, needle), "index embeds %s", svgs[i]);
  }
  CHECK(html && strstr(html, "href=\"results.json\"") && strstr(html, "href=\"config.json\""), "index links results");
  CHECK(html && strstr(html, "replace: test error"), "index shows the headline");
  free(html);
  DIR *dd = opendir(dir);
  for (struct dirent *de; dd && (de = readdir(dd));) CHECK(!strstr(de->d_name, ".tmp"), "temp file left: %s", de->d_name);
  if (dd) closedir(dd);
  /* Bad settings fail before anything is written. */
  char *bad = al_path_join(tmp, "bad");
  c.T = "20,6";
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "T=6 must exceed d+1");
  CHECK(!al_file_exists(bad), "nothing written for bad settings");
  c.T = "20", c.policies = "replace,nope";
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "unknown policy 'nope'");
  c.policies = "replace", c.parts = "linear,lm", c.lm_gens = 1;
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "--lm-gens 1");
  c.parts = "linear,quantum";
  CHECK_FAILS_WITH(al_collapse_run(&c, bad, &err), err, "unknown part 'quantum'");
  free(bad);
  free(dir);
}

static void test_plot(const char *tmp) {
  al_err err;
  double x[3] = {1, 2, 3}, y[3] = {1, 4, NAN}, lo[3] = {0.5, 3, 8}, hi[3] = {1.5, 5, 10};
  al_plot_series s[3] = {{.title = "it's <band>", .style = AL_PLOT_BAND, .n = 3, .x = x, .y = y, .lo = lo, .hi = hi},
                         {.title = "bars", .style = AL_PLOT_ERRORBARS, .n = 3, .x = x, .y = y, .lo = lo, .hi = hi},
                         {.title = "line_a", .style = AL_PLOT_LINE, .color = 1, .n = 3, .x = x, .y = x}};
  al_plot pl = {.title = "a 'quoted' title", .xlabel = "x", .ylabel = "y", .logy = 1};
  CHECK(al_plot_svg(tmp, "p1", &pl, s, 3, &err) == 1, "drawn: %s", err.msg);
  char *svg = read_all(tmp, "p1.svg");
  CHECK(svg && strstr(svg, "</svg>"), "p1.svg drawn");
  free(svg);
  CHECK_FAILS_WITH(al_plot_svg(tmp, "../evil", &pl, s, 3, &err), err, "plot name");
  CHECK_FAILS_WITH(al_plot_svg(tmp, "p2", &pl, (al_plot_series[]){{.title = "x", .n = 2}}, 1, &err), err, "has no data");
  /* gnuplot refusing the data (log axis, nothing positive) is an error, and no SVG is left. */
  double neg[3] = {-1, -2, -3};
  al_plot_series sn = {.title = "neg", .style = AL_PLOT_LINE, .n = 3, .x = x, .y = neg};
  CHECK_FAILS_WITH(al_plot_svg(tmp, "p4", &pl, &sn, 1, &err), err, "gnuplot failed");
  CHECK(!has_file(tmp, "p4.svg"), "no SVG after a failed draw");
  /* A series with no finite point (a fitted peak where the fit has none) stays in the data, so indexes keep their
   * meaning, but is left out of the plot command (gnuplot would warn on the terminal); the others are drawn. */
  double nan3[3] = {NAN, NAN, NAN};
  al_plot_series se[2] = {{.title = "seen", .style = AL_PLOT_LINE, .n = 3, .x = x, .y = x},
                          {.title = "empty", .style = AL_PLOT_ERRORBARS, .n = 3, .x = x, .y = nan3, .lo = lo, .hi = hi}};
  CHECK(al_plot_svg(tmp, "p5", &pl, se, 2, &err) == 1, "drawn with an empty series: %s", err.msg);
  char *gp = read_all(tmp, "p5.gp"), *dat5 = read_all(tmp, "p5.dat");
  CHECK(gp && strstr(gp, "index 0 ") && !strstr(gp, "index 1 ") && dat5 && strstr(dat5, "# series 1: empty"),
        "the empty series is in p5.dat but not plotted: %s", gp ? gp : "(no p5.gp)");
  free(gp), free(dat5);
  /* Without gnuplot on PATH: a warning, the data and script stay, no SVG. */
  char *path = al_strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  setenv("PATH", "/nonexistent", 1);
  CHECK(al_plot_svg(tmp, "p3", &pl, s, 3, &err) == 0, "no gnuplot: returns 0 (%s)", err.msg);
  setenv("PATH", path, 1);
  free(path);
  CHECK(has_file(tmp, "p3.dat") && has_file(tmp, "p3.gp") && !has_file(tmp, "p3.svg"), "data left without gnuplot");
  char *dat = read_all(tmp, "p3.dat");
  CHECK(dat && strstr(dat, " NaN"), "non-finite values written as NaN");
  free(dat);
  /* The HTML escapes what it shows. */
  al_index_entry e = {.name = "<script>x</script>", .subdir = "nowhere", .summary = "a & b", .error = "bad \"thing\""};
  CHECK_OK(al_report_index(tmp, "t<i>t", &e, 1, &err), err);
  char *html = read_all(tmp, "index.html");
  CHECK(html && !strstr(html, "<script>") && strstr(html, "&lt;script&gt;") && strstr(html, "a &amp; b") &&
            strstr(html, "bad &quot;thing&quot;"), "index escapes");
  free(html);
}

/* Random mutations of valid lists must fail cleanly or parse, never crash. */
static void test_list_fuzz(void) {
  const char *seeds[] = {"10,20,40", "1,0.5,1e-3", "replace,accumulate,accumulate-subsample"};
  const char alphabet[] = "0123456789,.-+eE xabc\t";
  al_rng r;
  al_rng_seed(&r, 42);
  int ok = 0, failed = 0;
  for (int it = 0; it < 5000; it++) {
    char s[96];
    snprintf(s, sizeof s, "%s", seeds[it % 3]);
    int muts = 1 + (int)al_rng_below(&r, 4);
    for (int k = 0; k < muts; k++) {
      size_t len = strlen(s), pos = al_rng_below(&r, len + 1);
      int op = (int)al_rng_below(&r, 3);
      if (op == 0 && len + 1 < sizeof s) { /* insert */
        memmove(s + pos + 1, s + pos, len - pos + 1);
        s[pos] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
      } else if (op == 1 && pos < len) { /* delete */
        memmove(s + pos, s + pos + 1, len - pos);
      } else if (pos < len) {
        s[pos] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
      }
    }
    al_err err;
    int iv[16], pv[3];
    double dv[16];
    int a = al_parse_int_list(s, iv, 16, "--d", &err), b = al_parse_double_list(s, dv, 16, "--sigma2", &err);
    int c = al_parse_policies(s, pv, &err);
    ok += (a > 0) + (b > 0) + (c > 0);
    failed += (a < 0) + (b < 0) + (c < 0);
  }
  CHECK(ok > 0 && failed > 0, "fuzz exercised both paths: %d ok, %d failed", ok, failed);
  al_err err;
  int iv[4];
  CHECK_FAILS_WITH(al_parse_int_list("1,2,3,4,5", iv, 4, "--d", &err), err, "more than 4");
  CHECK_FAILS_WITH(al_parse_int_list("1,,2", iv, 4, "--d", &err), err, "bad item");
  CHECK_FAILS_WITH(al_parse_int_list("1,x", iv, 4, "--d", &err), err, "'x' is not an integer");
}

static void test_cli(const char *tmp) {
  const char *bin = getenv("ALAB_BIN");
  CHECK(bin && access(bin, X_OK) == 0, "ALAB_BIN is the alab binary");
  if (!bin || access(bin, X_OK) != 0) return;
  /* every bad setting is a usage error (exit 2), found before anything runs */
  struct { const char *args, *needle; int code; } bad[] = {
      {"--T 11 --d 10", "T=11 must exceed d+1=11", 2},
      {"--sigma2 -0.5", "sigma2=-0.5 must be a finite number >= 0", 2},
      {"--iters 0", "iters=0: need at least 1 iteration", 2},
      {"--gauss-iters 0", "iters=0", 2},
      {"--policies replace,sideways", "unknown policy 'sideways'", 2},
      {"--part lm --lm-gens 1", "--lm-gens 1", 2},
      {"--seeds 1", "at least 2 seeds", 2},
      {"--iters ten", "not a valid integer", 2},
  };
  char cmd[2048], *out;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' collapse --quiet --out '%s/cli_bad' %s 2>&1", bin, tmp, bad[i].args);
    int code = test_sh(cmd, &out);
    CHECK(code == bad[i].code && strstr(out, bad[i].needle), "`collapse %s`: exit %d, output: %s", bad[i].args, code, out);
    free(out);
  }
  snprintf(cmd, sizeof cmd, "'%s' collapse 2>&1", bin);
  CHECK(test_sh(cmd, &out) == 2 && strstr(out, "--out DIR is required"), "collapse without --out: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' reproduce --only nothing --out '%s/r' 2>&1", bin, tmp);
  CHECK(test_sh(cmd, &out) == 2 && strstr(out, "unknown experiment 'nothing'"), "reproduce --only: %s", out);
  free(out);
  /* reproduce --quick end to end: tests/test_reproduce.c */
}

int main(void) {
  double t0 = al_now();
  al_quiet = 1;
  char *tmp = test_tmpdir("collapse_run");
  test_library_run(tmp);
  test_plot(tmp);
  test_list_fuzz();
  test_cli(tmp);
  free(tmp);
  printf("test_collapse_run: %.2f s\n", al_now() - t0);
  return test_summary();
}

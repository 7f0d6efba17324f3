/* report.html of real runs, checked in a real browser (Debian's chromium,
 * headless): a collapse run (linear and Gaussian parts, 3 seeds), a tiny
 * reversal run with a model card whose text holds <script>, a reproduction
 * directory holding both, the comparison of two collapse runs, and an
 * `alab eval` run of a tiny model on a task file whose prompt holds
 * <script> (it must show as text).
 *
 * One chromium loads a page of ours that shows each report in a 390 px wide
 * iframe; at its load event (after every iframe's), its script records each one's
 * scrollWidth and clientWidth and copies its DOM into the top page, which
 * --dump-dom prints. Checks, per page: the DOM holds every headline of the
 * run's results.json; every plot is an inline SVG with the series of the
 * run's .svg file; nothing overflows 390 px; the browser logs no console
 * message; and no request reaches the proxy chromium is pointed at (a
 * listener of this test that counts connections and closes them). The
 * HTML files themselves hold no http(s) URL. A second chromium takes a
 * screenshot at 390 px. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "alab/exp.h"
#include "alab/json.h"
#include "report/report_internal.h"
#include "test.h"

static int proxy_fd, proxy_hits;
static char proxy_first[256]; /* the first counted request's first line */

/* Chromium's own services, which it calls whatever the page (updates,
 * sign-in, network time): not the page's requests. */
static int chromium_own(const char *line) {
  static const char *const hosts[] = {"update.googleapis.com", "accounts.google.com", "clients2.google.com",
                                      "clientservices.googleapis.com", "redirector.gvt1.com"};
  for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
    const char *h = strstr(line, hosts[i]);
    if (h && (h[-1] == ' ' || h[-1] == '/')) return 1;
  }
  return 0;
}

static void *proxy_loop(void *arg) {
  (void)arg;
  for (;;) {
    int c = accept(proxy_fd, NULL, NULL);
    if (c < 0) return NULL;
    char line[256];
    ssize_t n = read(c, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    line[strcspn(line, "\r\n")] = 0;
    if (!chromium_own(line) && __atomic_add_fetch(&proxy_hits, 1, __ATOMIC_SEQ_CST) == 1)
      snprintf(proxy_first, sizeof proxy_first, "%s", line);
    close(c);
  }
}

static int proxy_start(void) {
  proxy_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(proxy_fd, (struct sockaddr *)&a, sizeof a) || listen(proxy_fd, 16) ||
      getsockname(proxy_fd, (struct sockaddr *)&a, &len))
    return -1;
  pthread_t t;
  pthread_create(&t, NULL, proxy_loop, NULL);
  pthread_detach(t);
  return ntohs(a.sin_port);
}

static char *slurp(const char *path) {
  char *s = NULL;
  al_err err;
  if (al_read_file(path, &s, NULL, &err)) fprintf(stderr, "%s\n", err.msg);
  return s;
}

static void sh(const char *cmd) {
  int rc = system(cmd);
  CHECK(rc == 0, "'%s' failed (%d)", cmd, rc);
}

/* s as chromium serializes text: & < > escaped. */
static char *text_escaped(const char *s) {
  al_buf b = {0};
  for (; *s; s++) {
    if (*s == '&') al_buf_printf(&b, "&amp;");
    else if (*s == '<') al_buf_printf(&b, "&lt;");
    else if (*s == '>') al_buf_printf(&b, "&gt;");
    else al_buf_append(&b, s, 1);
  }
  al_buf_append(&b, "", 1);
  return b.data;
}

/* The part of the dump between this page's marker and the next one. */
static char *page_dom(const char *dump, const char *page) {
  char mark[128];
  snprintf(mark, sizeof mark, "<div class=\"dom\" data-page=\"%s\">", page);
  const char *a = strstr(dump, mark);
  if (!a) return NULL;
  const char *z = strstr(a + strlen(mark), "<div class=\"dom\" data-page=");
  size_t n = z ? (size_t)(z - a) : strlen(a);
  char *s = al_malloc(n + 1);
  memcpy(s, a, n);
  s[n] = 0;
  return s;
}

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* Every headline of dir/results.json in dom; every .svg of dir inline with
 * its series' titles. */
static int check_run(const char *dom, const char *dir, const char *page) {
  char *path = al_path_join(dir, "results.json");
  json_t *r = NULL;
  al_err err;
  CHECK_OK(al_json_load_file(path, &r, &err), err);
  free(path);
  json_t *h = json_object_get(r, "headline");
  CHECK(json_array_size(h) > 0, "%s: results.json has headlines", page);
  for (size_t i = 0; i < json_array_size(h); i++) {
    char *t = text_escaped(json_string_value(json_array_get(h, i)));
    CHECK(strstr(dom, t), "%s: the DOM lacks the headline '%s'", page, t);
    free(t);
  }
  json_decref(r);
  char cmd[2048], *list = NULL;
  snprintf(cmd, sizeof cmd, "cd '%s' && ls *.svg", dir);
  test_sh(cmd, &list);
  int nsvg = 0;
  for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n"), nsvg++) {
    char cap[300];
    snprintf(cap, sizeof cap, "<figcaption>%s</figcaption>", name);
    const char *fig = strstr(dom, cap);
    CHECK(fig, "%s: plot %s is missing", page, name);
    char *svgpath = al_path_join(dir, name), *svg = slurp(svgpath);
    free(svgpath);
    /* each series gnuplot drew has a <g><title>: the same titles inline */
    int series = 0;
    for (const char *p = svg; p && (p = strstr(p, "<g id=\"gnuplot_plot_")); p++) {
      const char *t = strstr(p, "<title>"), *e = t ? strstr(t, "</title>") : NULL;
      if (!e) break;
      char title[300];
      snprintf(title, sizeof title, "%.*s", (int)(e - t + 8), t);
      if (strstr(title, "gnuplot_plot_")) continue; /* an untitled band */
      series++;
      CHECK(strstr(dom, title), "%s: %s's series %s is not in the DOM", page, name, title);
    }
    CHECK(series >= 1, "%s: %s has no titled series", page, name);
    free(svg);
  }
  free(list);
  CHECK(nsvg >= 2, "%s: %d plots", page, nsvg);
  return nsvg;
}

/* The page holds nsvg inline SVGs, each drawn. */
static void check_svgs(const char *dom, int nsvg, const char *page) {
  CHECK(count(dom, "<svg") == nsvg, "%s: %d inline SVGs for %d plot files", page, count(dom, "<svg"), nsvg);
  CHECK(count(dom, "<path") > 20 * nsvg, "%s: the SVGs are drawn (%d paths)", page, count(dom, "<path"));
}

static const char *pages[][2] = {{"collapse", "c/report.html"}, {"reversal", "r/report.html"},
                                 {"reproduction", "rep/report.html"}, {"compare", "cmp.html"},
                                 {"eval", "ev/report.html"}};
#define NPAGES 5

static const char *wrapper_js =
    "<script>\n"
    "function done(f){var d=f.contentDocument,de=d.documentElement,p=document.createElement('div');\n"
    " p.className='probe';p.setAttribute('data-page',f.id);p.setAttribute('data-sw',de.scrollWidth);\n"
    " p.setAttribute('data-cw',de.clientWidth);p.setAttribute('data-title',d.title);\n"
    " p.setAttribute('data-scripts',d.getElementsByTagName('script').length);\n"
    " p.setAttribute('data-resources',f.contentWindow.performance.getEntriesByType('resource').length);document.body.appendChild(p);\n"
    " var c=document.createElement('div');c.className='dom';c.setAttribute('data-page',f.id);\n"
    " c.appendChild(document.importNode(d.body,true));document.body.appendChild(c);}\n"
    "addEventListener('load',function(){document.querySelectorAll('iframe').forEach(done);"
    "document.body.setAttribute('data-done','1');});\n</script>\n";

int main(void) {
  /* every experiment of the registry has a claim and challenges of the paper */
  for (int k = 0; k < al_nexperiments; k++) {
    const rp_claim *c = rp_claim_find(al_experiments[k].name);
    CHECK(c && c->claim && c->findings, "%s has no row in src/report/claims.c", al_experiments[k].name);
    for (int i = 0; c && i < 3 && c->challenges[i]; i++)
      CHECK(rp_challenge_find(c->challenges[i]), "%s: no challenge %s", c->name, c->challenges[i]);
    CHECK(c && c->challenges[0], "%s informs no challenge", al_experiments[k].name);
  }
  if (system("command -v chromium >/dev/null") != 0) {
    fprintf(stderr, "FAIL: chromium is not installed (scripts/deps.sh installs Debian's chromium)\n");
    return 1;
  }
  char *dir = test_tmpdir("report"), cmd[8192];
  const char *bin = getenv("ALAB_BIN");
  snprintf(cmd, sizeof cmd, "'%s' collapse --part linear,gauss --seeds 3 --quiet --out '%s/c'", bin, dir);
  sh(cmd);
  snprintf(cmd, sizeof cmd, "'%s' collapse --part linear,gauss --seeds 4 --gauss-n 40 --quiet --out '%s/c2'", bin, dir);
  sh(cmd);
  snprintf(cmd, sizeof cmd,
           "'%s' reversal --out '%s/r' --per-group 3 --train-templates 4 --test-templates 2 --seeds 2 --stories 20 "
           "--pretrain-steps 0 --embd 32 --layers 1 --heads 2 --epochs 1 --eval-max 10 --tokenizer byte --quiet",
           bin, dir);
  sh(cmd);
  /* a model card whose text comes from a task file's prompt */
  snprintf(cmd, sizeof cmd,
           "printf '%%s' '{\"model\": \"tiny\", \"evaluations\": [{\"task\": \"t.csv\", \"prompt\": "
           "\"<script>document.title=1</script> & <b>bold</b>\"}]}' > '%s/r/model_card.json' && '%s' report '%s/r' && "
           "mkdir -p '%s/rep' && cp -r '%s/c' '%s/rep/collapse' && cp -r '%s/r' '%s/rep/reversal' && "
           "printf '%%s' '{\"command\": \"reproduce\", \"quick\": true, \"experiments\": [\"collapse\", \"reversal\"]}' "
           "> '%s/rep/config.json' && '%s' report '%s/rep' && '%s' report '%s/c' '%s/c2' --out '%s/cmp.html'",
           dir, bin, dir, dir, dir, dir, dir, dir, dir, bin, dir, bin, dir, dir, dir);
  sh(cmd);
  /* a task file whose prompt holds markup, evaluated on a tiny model */
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' train --data story:200 --steps 2 --layers 1 --heads 1 --embd 16 --context 32 --seq-len 32 "
           "--tokenizer byte --out m --quiet && printf '%%s\\n' 'prompt,classes,answer_index' "
           "'\"<script>document.title=1</script> Is it <b>bold</b>?\",\"[\"\" yes\"\", \"\" no\"\"]\",0' "
           "'\"Lily had a\",\"[\"\" ball\"\", \"\" cat\"\"]\",1' > task.csv && "
           "'%s' eval --model m --task task.csv --out ev --quiet >/dev/null && '%s' report ev",
           dir, bin, bin, bin);
  sh(cmd);
  for (int i = 0; i < NPAGES; i++) { /* no http(s) URL anywhere in the files */
    char *path = al_path_join(dir, pages[i][1]), *html = slurp(path);
    CHECK(html && !strstr(html, "http://") && !strstr(html, "https://"), "%s holds an http(s) URL", path);
    CHECK(html && !strstr(html, "<script"), "%s holds a script element", path);
    free(path), free(html);
  }
  /* the page of this test that shows every report at 390 px */
  al_buf w = {0};
  al_buf_printf(&w, "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\n");
  for (int i = 0; i < NPAGES; i++)
    al_buf_printf(&w, "<iframe id=\"%s\" src=\"%s\" style=\"width:390px;height:700px;border:0\"></iframe>\n", pages[i][0],
                  pages[i][1]);
  al_buf_printf(&w, "%s", wrapper_js);
  al_buf_printf(&w, "</body></html>\n");
  char *wpath = al_path_join(dir, "wrapper.html");
  al_err err;
  CHECK_OK(al_write_file_atomic(wpath, w.data, w.len, &err), err);
  al_buf_free(&w);
  int port = proxy_start();
  CHECK(port > 0, "proxy listener");
  const char *nosandbox = geteuid() == 0 ? "--no-sandbox" : "";
  /* chromium's own traffic (time, updates, safe browsing, metrics) off: any
   * request left is the page's */
  const char *quiet_flags = "--disable-background-networking --disable-component-update --no-first-run "
                            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter "
                            "--disable-client-side-phishing-detection --disable-domain-reliability --no-pings "
                            "--disable-sync --disable-default-apps";
  snprintf(cmd, sizeof cmd,
           "chromium --headless %s --disable-gpu --allow-file-access-from-files --proxy-server=http://127.0.0.1:%d "
           "--proxy-bypass-list='<-loopback>' %s "
           "--no-first-run --enable-logging=stderr --v=0 --window-size=1800,900 --dump-dom 'file://%s' "
           "> '%s/dump.html' 2> '%s/chromium.log'",
           nosandbox, port, quiet_flags, wpath, dir, dir);
  double t0 = al_now();
  sh(cmd);
  printf("chromium --dump-dom of %d pages: %.1f s\n", NPAGES, al_now() - t0);
  char *dpath = al_path_join(dir, "dump.html"), *dump = slurp(dpath), *lpath = al_path_join(dir, "chromium.log");
  char *log = slurp(lpath);
  CHECK(dump && strstr(dump, "data-done=\"1\""), "every page loaded");
  CHECK(log && !strstr(log, "CONSOLE"), "the browser logged a console message:\n%s", log ? log : "");
  for (int i = 0; dump && i < NPAGES; i++) {
    char mark[128];
    snprintf(mark, sizeof mark, "<div class=\"probe\" data-page=\"%s\"", pages[i][0]);
    const char *p = strstr(dump, mark);
    CHECK(p, "%s: no measurement", pages[i][0]);
    if (!p) continue;
    int sw = 0, cw = 0, scripts = -1, resources = -1;
    const char *q;
    if ((q = strstr(p, "data-sw=\""))) sw = atoi(q + 9);
    if ((q = strstr(p, "data-cw=\""))) cw = atoi(q + 9);
    if ((q = strstr(p, "data-scripts=\""))) scripts = atoi(q + 14);
    if ((q = strstr(p, "data-resources=\""))) resources = atoi(q + 16);
    CHECK(resources == 0, "%s loaded %d resources", pages[i][0], resources);
    printf("%s at 390 px: scrollWidth %d, clientWidth %d\n", pages[i][0], sw, cw);
    CHECK(cw > 300 && cw <= 390 && sw <= cw, "%s overflows 390 px: scrollWidth %d > clientWidth %d", pages[i][0], sw, cw);
    CHECK(scripts == 0, "%s: %d script elements", pages[i][0], scripts);
    CHECK(!strstr(p, "data-title=\"1\""), "%s: a script from data ran", pages[i][0]);
  }
  char *cdir = al_path_join(dir, "c"), *rdir = al_path_join(dir, "r"), *c2dir = al_path_join(dir, "c2");
  char *dom = dump ? page_dom(dump, "collapse") : NULL;
  CHECK(dom, "collapse DOM");
  if (dom) {
    check_svgs(dom, check_run(dom, cdir, "collapse"), "collapse");
    CHECK(strstr(dom, "<title>replace</title>") && strstr(dom, "<title>accumulate</title>") &&
              strstr(dom, "<title>replace: closed form</title>"),
          "collapse: the linear plot's series");
    CHECK(strstr(dom, "Findings: ") && strstr(dom, "3.1 Pretraining produces misaligned models"),
          "collapse: findings and challenge");
    /* written by the run itself: the machine, the version, every file */
    CHECK(strstr(dom, "<li>machine: ") && strstr(dom, "<li>alab "), "collapse: machine and version");
    CHECK(strstr(dom, "href=\"metrics.jsonl\"") && strstr(dom, "href=\"results.json\""), "collapse: links the raw files");
  }
  free(dom);
  dom = dump ? page_dom(dump, "reversal") : NULL;
  CHECK(dom, "reversal DOM");
  if (dom) {
    check_svgs(dom, check_run(dom, rdir, "reversal"), "reversal");
    CHECK(strstr(dom, "&lt;script&gt;document.title=1&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"),
          "reversal: the model card's <script> shows as text");
    CHECK(!strstr(dom, "<b>bold</b>"), "reversal: markup from data became markup");
  }
  free(dom);
  dom = dump ? page_dom(dump, "reproduction") : NULL;
  CHECK(dom, "reproduction DOM");
  if (dom) {
    char *a = al_path_join(dir, "rep/collapse"), *b = al_path_join(dir, "rep/reversal");
    check_svgs(dom, check_run(dom, a, "reproduction") + check_run(dom, b, "reproduction"), "reproduction");
    free(a), free(b);
    /* grouped by challenge: 3.1 lists collapse, 2.4 lists reversal */
    const char *c31 = strstr(dom, "3.1 Pretraining produces misaligned models</h2>");
    const char *c24 = strstr(dom, "2.4 Qualitative understanding of reasoning capabilities is lacking</h2>");
    CHECK(c31 && c24 && c24 < c31, "reproduction: challenges in the paper's order");
    CHECK(c31 && strstr(c31, "href=\"#exp-collapse\""), "reproduction: 3.1 links collapse");
    CHECK(c24 && strstr(c24, "href=\"#exp-reversal\""), "reproduction: 2.4 links reversal");
    const char *c22 = strstr(dom, "2.2 Capabilities are difficult to estimate and understand</h2>");
    CHECK(c22 && c22 < c24 && strstr(c22, "the findings under 2.4"), "reproduction: 2.2 points to reversal's findings");
  }
  free(dom);
  dom = dump ? page_dom(dump, "eval") : NULL;
  CHECK(dom, "eval DOM");
  if (dom) {
    CHECK(strstr(dom, "&lt;script&gt;document.title=1&lt;/script&gt; Is it &lt;b&gt;bold&lt;/b&gt;?"),
          "eval: the task's <script> prompt shows as text");
    CHECK(strstr(dom, "<td>accuracy</td><td>"), "eval: the metrics");
  }
  free(dom);
  dom = dump ? page_dom(dump, "compare") : NULL;
  CHECK(dom, "compare DOM");
  if (dom) {
    check_svgs(dom, check_run(dom, c2dir, "compare") + check_run(dom, cdir, "compare"), "compare");
    CHECK(strstr(dom, "<td>linear.seeds</td><td>3</td><td>4</td>"), "compare: the differing setting");
    CHECK(strstr(dom, "B - A [95% CI]"), "compare: differences");
  }
  free(dom);
  /* a screenshot at phone width */
  snprintf(cmd, sizeof cmd,
           "chromium --headless %s --disable-gpu --proxy-server=http://127.0.0.1:%d --proxy-bypass-list='<-loopback>' "
           "%s --window-size=390,1600 "
           "--screenshot='%s/shot.png' 'file://%s/rep/report.html' >/dev/null 2>&1",
           nosandbox, port, quiet_flags, dir, dir);
  sh(cmd);
  char *spath = al_path_join(dir, "shot.png"), *png = NULL;
  size_t plen = 0;
  CHECK_OK(al_read_file(spath, &png, &plen, &err), err);
  CHECK(png && plen > 10000 && !memcmp(png, "\x89PNG", 4), "screenshot: %zu bytes", plen);
  printf("requests that reached the proxy: %d\n", proxy_hits);
  CHECK(proxy_hits == 0, "the pages made %d network requests, the first: %s", proxy_hits, proxy_first);
  /* bad input: a clear error, exit 1; usage: exit 2 */
  snprintf(cmd, sizeof cmd, "'%s' report '%s/nothing' 2>&1", bin, dir);
  char *out = NULL;
  int rc = test_sh(cmd, &out);
  CHECK(rc == 1 && strstr(out, "not a run directory"), "a missing run directory: rc %d, '%s'", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' report '%s/c' '%s/r' --out '%s/x.html' 2>&1", bin, dir, dir, dir);
  rc = test_sh(cmd, &out);
  CHECK(rc == 1 && strstr(out, "one experiment"), "two experiments compared: rc %d, '%s'", rc, out);
  free(out);
  snprintf(cmd, sizeof cmd, "'%s' report 2>&1", bin);
  rc = test_sh(cmd, &out);
  CHECK(rc == 2, "no run directory: rc %d", rc);
  free(out);
  free(png), free(spath), free(cdir), free(rdir), free(c2dir), free(dump), free(dpath), free(log), free(lpath);
  free(wpath), free(dir);
  return test_summary();
}

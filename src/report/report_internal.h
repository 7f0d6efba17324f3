/* Shared by the report's files (src/report/): HTML output, the claims and
 * challenges table, and the findings each experiment's results give. */
#ifndef ALAB_REPORT_INTERNAL_H
#define ALAB_REPORT_INTERNAL_H

#include <jansson.h>
#include "alab/base.h"

/* s with & < > " ' escaped (NULL: nothing): for text and attribute values. */
void rp_html(al_buf *b, const char *s);
/* A finite number with 4 significant digits, else an en dash. */
void rp_num(al_buf *b, double x);
/* dir/name's SVG inline, its XML prologue, doctype and namespace attributes
 * dropped (inline SVG needs none), its ids prefixed "pID-" (id: unique in
 * the page); 0, or -1 when it cannot be read. */
int rp_svg_inline(al_buf *b, const char *dir, const char *name, int id);
/* Sorted names of the *.svg files in dir; returns the count (0 when dir
 * cannot be read). Free each name and the array. */
int rp_list_svgs(const char *dir, char ***out);
/* A JSON value: objects as tables, arrays as lists, the rest as text. */
void rp_value_html(al_buf *b, const json_t *j);
/* The page's head (title, inline styles, no script) and its end. */
void rp_page_start(al_buf *b, const char *title);
void rp_page_end(al_buf *b);

/* One finding of a paper, as one run measured it. */
enum { RP_NOT_REPRODUCED = 0, RP_REPRODUCED = 1, RP_UNKNOWN = -1 };
typedef struct {
  char claim[200];    /* what the paper found, for this setting */
  char test[200];     /* the test: statistic, unit, decision rule */
  int verdict;        /* RP_* */
  double est, lo, hi; /* the statistic and its 95% interval (NAN: none) */
  double p;           /* the test's p-value (NAN: none) */
} rp_finding;
#define RP_MAX_FINDINGS 24

/* Every seed's value of o[key]: its "seeds" array (at most max; a value that
 * is not a number gives NAN); returns the count. findings.c */
int rp_seeds_of(const json_t *o, const char *key, double *out, int max);

/* The findings of an experiment's results.json; returns the count. */
typedef int (*rp_verdict_fn)(const json_t *results, rp_finding *f, int max);
int rp_collapse_findings(const json_t *results, rp_finding *f, int max);
int rp_dpo_findings(const json_t *results, rp_finding *f, int max); /* findings_dpo.c */
int rp_reversal_findings(const json_t *results, rp_finding *f, int max);
int rp_rl_findings(const json_t *results, rp_finding *f, int max); /* findings_rl.c */
int rp_cpm_findings(const json_t *results, rp_finding *f, int max); /* findings_cpm.c */
int rp_ilf_findings(const json_t *results, rp_finding *f, int max); /* findings_ilf.c */
int rp_overopt_findings(const json_t *results, rp_finding *f, int max); /* findings_overopt.c */

/* The paired t-test of a[i] - b[i] over n seeds into f (est, lo, hi, p). */
void rp_paired(rp_finding *f, const double *a, const double *b, int n);

/* ---- the experiments' claims and the challenges they inform (claims.c) ---- */
#define RP_NCHALLENGES 18
/* The sycophancy mechanism's findings (findings_syco.c). */
int rp_syco_findings(const json_t *results, rp_finding *f, int max);
/* The out-of-context reasoning findings (findings_oocr.c). */
int rp_oocr_findings(const json_t *results, rp_finding *f, int max);

typedef struct {
  const char *id;       /* the section of Anwar et al. 2024, "2.4" */
  const char *title;
  const char *category; /* scientific understanding, development and deployment, sociotechnical */
} rp_challenge;
extern const rp_challenge rp_challenges[RP_NCHALLENGES];

typedef struct {
  const char *name;           /* the experiment registry's name (include/alab/exp.h) */
  const char *claim;          /* the paper's finding, one sentence */
  const char *challenges[3];  /* ids into rp_challenges, the main one first; NULL-terminated */
  rp_verdict_fn findings;
  json_t *(*default_config)(void); /* config.json of a run with every default, or NULL when unknown */
} rp_claim;
/* The row of experiment name, or NULL. */
const rp_claim *rp_claim_find(const char *name);
const rp_challenge *rp_challenge_find(const char *id);


/* ---- pieces of the pages (section.c) ---- */
void rp_verdict_html(al_buf *b, int verdict);
void rp_estimate_html(al_buf *b, const rp_finding *f);
void rp_tags_html(al_buf *b, const rp_claim *c);
/* The findings of the experiment name in dir/results.json; the count. */
int rp_findings_of(const char *dir, const char *name, rp_finding *f, int max);
/* Every leaf of j into out as "a.b.c": compact JSON text. */
void rp_flatten(const json_t *j, const char *prefix, json_t *out);
/* The section of experiment name, whose run directory is dir; its files are
 * linked as link + file name ("", "collapse/" or an absolute path + "/");
 * error: why it failed, or NULL; svg_id numbers the plots of the page. */
void rp_section(al_buf *b, const char *dir, const char *link, const char *name, const char *error, int *svg_id);
/* An `alab eval` run (results.json r): task, model, metrics with both
 * intervals, and the first examples of examples.jsonl (eval.c). */
void rp_eval_html(al_buf *b, const char *dir, const json_t *r);

#endif

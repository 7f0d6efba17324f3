/* Evaluation: task files read unchanged from the papers' formats, metrics as
 * the papers define them, and the trend of a metric across model sizes.
 *
 * Task formats (CSV with a header row, or JSONL with one object per line):
 *   classification {prompt, classes, answer_index}   (Inverse Scaling Prize)
 *     classes: a JSON list, or a string holding a JSON or Python-style list
 *     such as "[' yes', ' no']"; class strings keep their leading space.
 *   sequence_prob  {prompt, completion}
 *   logodds        {prompt, other_prompt, classes (two), answer_index}; the
 *                  Prize's older layout names other_prompt biased_prompt
 *   generation     {prompt, target | targets, [stop]}, scored by exact,
 *                  prefix, contains or regex (PCRE2) match
 *   reversal       the reversal curse's celebrity CSV {child, parent,
 *                  parent_type, ...}: each row asked both ways ("Who is
 *                  {child}'s {mother|father}?" -> parent, "Name a child of
 *                  {parent}." -> child) in the paper's protocol (kind
 *                  celebrity: a few-shot prefix; base models: log p of the
 *                  answer; chat: 10 sampled replies starting with it);
 *                  "reversal-generation" keeps the earlier protocol (bare
 *                  question, one greedy generation, answer anywhere in it).
 * Errors name the file and the line of the offending row. */
#ifndef ALAB_EVAL_H
#define ALAB_EVAL_H
#include <jansson.h>
#include <stdint.h>
#include "alab/base.h"
#include "alab/provider.h"

/* ---- SHA-256 (FIPS 180-4, nettle) ---- */
void al_sha256(const void *data, size_t len, uint8_t out[32]);
/* 64 lowercase hex digits + NUL */
void al_sha256_hex(const void *data, size_t len, char out[65]);
int al_sha256_file(const char *path, char out[65], al_err *err);

/* ---- tables: rows of a CSV or JSONL file ---- */
typedef struct {
  json_t **rows; /* one JSON object per row (CSV values are strings) */
  int *lines;    /* the line each row starts on (1-based) */
  int n;
} al_table;
/* RFC 4180 CSV (libcsv, strict): header row; fields separated by commas; a
 * quoted field may hold commas, doubled quotes ("") and line breaks; records
 * end in LF, CRLF or CR; spaces around fields are kept; a UTF-8 byte-order
 * mark and blank lines are skipped; a '"' inside an unquoted field is an
 * error. A syntax error names the file, line and column ("t.csv:3:7: ..."). */
int al_csv_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err);
int al_jsonl_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err);
/* By extension: .csv -> CSV, .jsonl/.json -> JSONL (a .json file holding one
 * array of objects is accepted too). */
int al_table_load(const char *path, al_table *t, al_err *err);
void al_table_free(al_table *t);

/* A list of strings: a JSON array, or a string holding a JSON or
 * Python-style list ('...' or "..." items, backslash escapes). */
int al_parse_str_list(const char *s, char ***items, int *n, const char *where, al_err *err);
int al_json_str_list(const json_t *v, char ***items, int *n, const char *where, al_err *err);
void al_free_str_list(char **items, int n);
/* "a,b,,c" -> {"a", "b", "c"} (empty items dropped; at least one needed). */
int al_split_commas(const char *s, char ***items, int *n, const char *what, al_err *err);

/* ---- tasks ---- */
typedef enum { AL_TASK_CLASSIFICATION, AL_TASK_SEQUENCE_PROB, AL_TASK_LOGODDS, AL_TASK_GENERATION,
               AL_TASK_CELEBRITY /* the reversal curse's celebrity test, the paper's protocol (src/eval/celebrity.c) */
} al_task_kind;
typedef enum { AL_MATCH_EXACT, AL_MATCH_PREFIX, AL_MATCH_CONTAINS, AL_MATCH_REGEX } al_match;
const char *al_task_kind_name(al_task_kind k);
const char *al_match_name(al_match m);
int al_match_parse(const char *s, al_match *m, al_err *err);

typedef struct {
  int line;            /* line in the task file */
  char *prompt;
  char *other_prompt;  /* logodds */
  char **classes;      /* classification, logodds */
  int nclasses, answer;
  char *completion;    /* sequence_prob */
  char **targets;      /* generation */
  int ntargets;
  char *stop;          /* generation: optional stop string */
  const char *group;   /* a static label for per-group metrics ("child->parent"), or NULL */
  char *question;      /* celebrity: the bare question (the chat protocol's last message) */
} al_example;

typedef struct {
  al_task_kind kind;
  al_match match;      /* generation scoring */
  al_example *ex;
  int n;
  char *path;
  char format[32];     /* the format name read (classification, reversal, ...) */
  char sha256[65];     /* of the task file's bytes */
  char *unread;        /* columns present but not read ("'a', 'b'"), or NULL; warned on load */
} al_task;
/* format: "auto" (from the columns), "classification", "sequence_prob",
 * "logodds", "generation" or "reversal". */
int al_task_load(al_task *t, const char *path, const char *format, al_err *err);
int al_task_from_table(al_task *t, const al_table *tab, const char *where, const char *format, al_err *err);
void al_task_free(al_task *t);

/* ---- metrics ---- */
/* Classification from the classes' summed log-probs lp[0..k): the
 * log-softmax over classes, loss = -log p(answer), prediction = argmax lp;
 * the length-normalised prediction is argmax lp[i] / nbytes[i] (per byte of
 * the class string, as lm-evaluation-harness's acc_norm). */
typedef struct {
  double loss, p_answer;
  int pred, pred_norm, correct, correct_norm;
} al_cls_result;
al_cls_result al_classify(const double *lp, const int *nbytes, int k, int answer);
/* Inverse Scaling Prize logodds: with two classes, logodds(p) = log p(c0|p) -
 * log p(c1|p) after normalising over the two; the example's value is
 * logodds(prompt) - logodds(other_prompt), negated when answer_index is 1.
 * (The Prize used each class's last token; here each class's whole string.) */
double al_logodds_difference(const double lp_prompt[2], const double lp_other[2], int answer);
/* Generation match of output against one target (exact/prefix/contains
 * compare after trimming surrounding whitespace; regex: the target is a PCRE2
 * pattern searched in the output). Returns 1/0, or -1 on a bad pattern. */
int al_match_target(al_match m, const char *output, const char *target, al_err *err);

/* A metric's summary: mean, standard error, 95% t-interval and a bootstrap
 * 95% percentile interval (nboot resamples of the examples, al_rng seeded). */
typedef struct {
  char name[48];
  double mean, se, lo, hi, boot_lo, boot_hi;
  int n;
} al_metric;
al_metric al_metric_of(const char *name, const double *x, int n, uint64_t seed, int nboot);
json_t *al_metric_json(const al_metric *m);

/* ---- running a task on a provider ---- */
typedef struct {
  const char *out_dir;   /* writes examples.jsonl + results.json there (NULL: none) */
  uint64_t seed;         /* bootstrap and sampling */
  int nboot;             /* bootstrap resamples (1000) */
  int batch;             /* examples per provider call (64) */
  al_gen_cfg gen;        /* generation tasks */
  int chat;              /* generation tasks: send prompts as chat messages; celebrity: the chat protocol */
  int samples;           /* celebrity chat protocol: replies per question (0: the paper's 10) */
  int limit;             /* evaluate only the first `limit` examples (0 = all) */
  const char *progress_label;
} al_eval_cfg;
al_eval_cfg al_eval_cfg_default(void);

#define AL_EVAL_MAX_METRICS 12
typedef struct {
  al_metric m[AL_EVAL_MAX_METRICS];
  int nm;
  const char *main_metric; /* the loss-like metric scaling fits: "loss", "nll", "logodds_difference", "error" */
  double seconds, examples_per_s;
  int truncated, truncated_max; /* examples whose prompt lost tokens to the context; the most lost */
  int invalid;                  /* logodds pairs made identical by that cut (left out of the metrics) */
} al_eval_result;
const al_metric *al_eval_metric(const al_eval_result *r, const char *name);
int al_eval_task(al_provider *p, const al_task *t, const al_eval_cfg *cfg, al_eval_result *res, al_err *err);

/* ---- scaling trends ----
 * Loss against x = log10(parameters or compute), one point per model with
 * its standard error. Test (alpha = 0.05 by default): weighted least
 * squares, weights 1/(se^2 + tau^2) with tau^2 the between-model variance
 * (DerSimonian-Laird moment estimate from the richest fit; ordinary least
 * squares when some se is not positive), residual scale estimated, t-tests
 * on the coefficients. A label must also be visible in the observed means
 * (U: the largest mean at an interior x, above both ends; inverted-U: the
 * smallest, below both; standard / inverse: the largest model's mean below /
 * above the smallest's), else "no significant trend" with the reason.
 *   0. gate: an F-test of the quadratic fit against a constant (with 3
 *      models, the slope's t-test) must reject at alpha before any label is
 *      given, so the whole procedure's false-positive rate on flat noise is
 *      at most alpha (the tests below only name the shape).
 *   1. quadratic fit y = a + b x + c x^2 (needs >= 5 models): U-shaped or
 *      inverted-U when c is significant (two-sided t, df n-3), the vertex
 *      -b/2c lies inside [min x, max x], and the fitted slopes b + 2cx at both
 *      ends are significant with opposite signs (one-sided t each, the
 *      Lind-Mehlum test).
 *   2. else linear fit y = a + b x (needs >= 3): standard scaling when b is
 *      significantly negative (loss falls with scale), inverse when
 *      significantly positive (two-sided t, df n-2).
 *   3. else "no significant trend".
 * Labels describe performance as McKenzie et al. (2023) use them: U-shaped =
 * performance falls then recovers, so the LOSS rises then falls (a cap);
 * inverted-U = performance rises then falls (loss falls then rises). */
typedef enum { AL_TREND_NONE, AL_TREND_STANDARD, AL_TREND_INVERSE, AL_TREND_U, AL_TREND_INVERTED_U } al_trend;
const char *al_trend_name(al_trend t);
typedef struct {
  al_trend label;
  int n, weighted;
  double alpha, gate_p; /* gate_p: F-test of any trend */
  double tau2;          /* between-model variance added to every se^2 (weighted fits) */
  double lin_a, lin_b, lin_b_se, lin_b_p;                   /* linear fit */
  double q_a, q_b, q_c, q_c_se, q_c_p, vertex;              /* quadratic fit */
  double slope_lo, slope_lo_t, slope_lo_p, slope_hi, slope_hi_t, slope_hi_p; /* quadratic's end slopes (one-sided p) */
  char test[600];      /* the test used, in words */
  char reason[200];    /* why this label */
} al_trend_fit;
int al_fit_trend(const double *x, const double *y, const double *se, int n, double alpha, al_trend_fit *out,
                 al_err *err);
json_t *al_trend_json(const al_trend_fit *f);

/* ---- scaling: a family of models on one task ---- */
typedef struct {
  const char *const *models; /* model directories, or endpoint model names when http is set */
  int nmodels;
  const double *xvalues;     /* optional x per model (overrides --x lookup) */
  const char *x;             /* "params" or "compute" */
  const al_http_cfg *http;   /* NULL: models are local directories */
  al_local_cfg local;
  al_eval_cfg eval;          /* out_dir: the scaling folder; each model's run goes in a subfolder */
  double alpha;
} al_scaling_cfg;
al_scaling_cfg al_scaling_cfg_default(void);
int al_scaling_run(const al_scaling_cfg *cfg, const al_task *t, al_trend_fit *fit, al_err *err);

/* ---- a ladder: a family of models of increasing size on one corpus ----
 * Sizes (layers, width, heads): (1,24,2) (2,40,2) (2,64,4) (3,96,4)
 * (4,128,4) (6,192,6): with the byte tokenizer and context 128 the first five
 * span ~50x in parameters. Each size trains on tokens_per_param * params
 * tokens (at least min_tokens), batch x seq_len per step, warmup 5%, cosine
 * decay, lr 2e-3 * sqrt(64 / width) clamped to [1e-3, 3e-3]. Writes
 * out_dir/<size>/ (a model directory + training.json {params, tokens,
 * compute = 6 * params * tokens, steps, final_loss, val_loss, seconds}) and
 * out_dir/ladder.json. A size whose training.json exists is skipped, so a
 * killed ladder resumes where it stopped. */
typedef struct {
  const char *out_dir, *data, *tokenizer;
  int nsizes, batch, seq_len;
  double tokens_per_param;
  long min_tokens;
  uint64_t seed;
} al_ladder_cfg;
al_ladder_cfg al_ladder_cfg_default(void); /* story:20000, byte, 5 sizes, 16 x 128, 20 tokens/param */
int al_ladder_run(const al_ladder_cfg *c, al_err *err);

/* ---- built-in inverse-scaling probes on the story world ---- */
/* Names: "memo-vs-instruction", "distractor", "misleading-fewshot". */
extern const char *const al_probe_names[];
extern const int al_nprobes;
/* Is name a probe and n >= 1? (A usage check: nothing is written.) */
int al_probe_check(const char *name, int n, al_err *err);
/* Writes the probe's classification task (CSV, Inverse Scaling Prize
 * columns) to path: n examples, deterministic in seed. */
int al_probe_write(const char *name, const char *path, int n, uint64_t seed, al_err *err);
/* Writes dir/probe-NAME.csv (creating dir) and returns its path (fresh). */
int al_probe_prepare(const char *name, const char *dir, int n, uint64_t seed, char **path, al_err *err);

/* A provider for a model: a local directory, or (http non-NULL) the
 * endpoint's model of that name. */
int al_provider_open(al_provider **out, const char *model, const al_http_cfg *http, const al_local_cfg *local,
                     al_err *err);

#endif

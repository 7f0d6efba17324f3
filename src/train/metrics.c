/* metrics.jsonl: one JSON object per line, appended and flushed per step. On
 * resume the lines past the checkpoint's step (written before a kill) are
 * dropped, atomically, so the file reads as one uninterrupted run. */
#include <stdlib.h>
#include <string.h>
#include "alab/json.h"
#include "train/train_internal.h"

int train_metrics_open(train_run *r, long keep_through_step, al_err *err) {
  char *path = al_path_join(r->cfg->out_dir, "metrics.jsonl");
  if (keep_through_step >= 0 && al_file_exists(path)) {
    char *text;
    size_t len;
    if (al_read_file(path, &text, &len, err)) {
      free(path);
      return -1;
    }
    al_buf kept = {0};
    for (char *line = text, *end; line < text + len; line = end + 1) {
      end = memchr(line, '\n', text + len - line);
      if (!end) break; /* a torn last line is dropped */
      json_t *j = json_loadb(line, end - line, 0, NULL);
      json_t *s = j ? json_object_get(j, "step") : NULL;
      if (s && json_is_integer(s) && json_integer_value(s) <= keep_through_step) al_buf_append(&kept, line, end - line + 1);
      json_decref(j);
    }
    free(text);
    int rc = al_write_file_atomic(path, kept.data ? kept.data : "", kept.len, err);
    al_buf_free(&kept);
    if (rc) {
      free(path);
      return -1;
    }
  }
  r->metrics = fopen(path, keep_through_step >= 0 ? "a" : "w");
  if (!r->metrics) {
    int rc = al_fail(err, "%s: cannot open for writing", path);
    free(path);
    return rc;
  }
  free(path);
  return 0;
}

/* A metric's value: a count as an integer, any other number as a real. */
static json_t *metric_json(const al_metric *d, double v) {
  return d->is_count && v == v ? json_integer((json_int_t)v) : al_json_real_or_null(v);
}

static void add_metrics(json_t *o, const char *prefix, const al_metric *defs, int n, const double *v) {
  char key[128];
  for (int i = 0; i < n; i++) {
    snprintf(key, sizeof key, "%s%s", prefix, defs[i].name);
    json_object_set_new(o, key, metric_json(&defs[i], v[i]));
  }
}

/* Numbers go through jansson, which has no NaN or infinity: a non-finite
 * value is written as null (the step that produced it is the run's last). */
void train_metrics_write(train_run *r, long step, double loss, double lr, double gnorm, double tps, double elapsed,
                         const double *metrics, double val_loss, const double *val_metrics) {
  if (!r->metrics) return;
  const al_objective *ob = r->obj;
  json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "step", (json_int_t)step, "loss", al_json_real_or_null(loss),
                        "lr", al_json_real_or_null(lr), "grad_norm", al_json_real_or_null(gnorm), "tokens_per_s",
                        al_json_real_or_null(tps), "elapsed_s", al_json_real_or_null(elapsed));
  add_metrics(o, "", ob->metrics, ob->nmetrics, metrics);
  if (val_loss == val_loss) {
    json_object_set_new(o, "val_loss", al_json_real_or_null(val_loss));
    add_metrics(o, "val_", ob->eval_metrics, ob->neval_metrics, val_metrics);
  }
  char *line = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
  fprintf(r->metrics, "%s\n", line);
  fflush(r->metrics);
  free(line);
  json_decref(o);
}

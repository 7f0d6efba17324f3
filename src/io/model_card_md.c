/* MODEL_CARD.md: the card's JSON as markdown, one section per disclosure
 * item of Casper et al. 2023 (section 5), in the JSON's own words: a value
 * is printed as stored ("unknown" stays "unknown"), nothing is summarised
 * away. Table cells escape '|' and fold newlines. */
#include <stdlib.h>
#include <string.h>
#include "alab/model_card.h"

/* Text of a scalar (strings as is, numbers in %g, objects/arrays as JSON). */
static void value(al_buf *b, const json_t *v) {
  if (!v) al_buf_printf(b, "%s", AL_CARD_UNKNOWN);
  else if (json_is_string(v)) {
    for (const char *s = json_string_value(v); *s; s++) {
      if (*s == '|') al_buf_append(b, "\\|", 2);
      else if (*s == '\n' || *s == '\r') al_buf_append(b, " ", 1);
      else al_buf_append(b, s, 1);
    }
  } else if (json_is_integer(v)) al_buf_printf(b, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v)) al_buf_printf(b, "%.6g", json_real_value(v));
  else if (json_is_null(v)) al_buf_printf(b, "null");
  else if (json_is_boolean(v)) al_buf_printf(b, "%s", json_is_true(v) ? "true" : "false");
  else {
    char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_t *s = json_string(t ? t : "");
    value(b, s);
    json_decref(s);
    free(t);
  }
}

/* A field: an object as a two-column table of its keys, anything else as one line. */
static void field(al_buf *b, const char *title, const json_t *v) {
  al_buf_printf(b, "## %s\n\n", title);
  if (json_is_object(v)) {
    al_buf_printf(b, "| field | value |\n|---|---|\n");
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      al_buf_printf(b, "| %s | ", k);
      value(b, x);
      al_buf_printf(b, " |\n");
    }
  } else {
    value(b, v);
    al_buf_printf(b, "\n");
  }
  al_buf_printf(b, "\n");
}

/* An array of objects as one table whose columns are the union of their keys. */
static void rows(al_buf *b, const char *title, const json_t *arr, const char *empty) {
  al_buf_printf(b, "## %s\n\n", title);
  if (!json_is_array(arr) || !json_array_size(arr)) {
    al_buf_printf(b, "%s\n\n", empty);
    return;
  }
  json_t *cols = json_array();
  size_t i, j;
  json_t *row, *col;
  json_array_foreach(arr, i, row) {
    const char *k;
    json_t *x;
    if (!json_is_object(row)) continue;
    json_object_foreach(row, k, x) {
      int seen = 0;
      json_array_foreach(cols, j, col) seen |= !strcmp(json_string_value(col), k);
      if (!seen) json_array_append_new(cols, json_string(k));
    }
  }
  al_buf_printf(b, "|");
  json_array_foreach(cols, j, col) al_buf_printf(b, " %s |", json_string_value(col));
  al_buf_printf(b, "\n|");
  json_array_foreach(cols, j, col) al_buf_printf(b, "---|");
  al_buf_printf(b, "\n");
  json_array_foreach(arr, i, row) {
    al_buf_printf(b, "|");
    json_array_foreach(cols, j, col) {
      const json_t *x = json_is_object(row) ? json_object_get(row, json_string_value(col)) : NULL;
      al_buf_printf(b, " ");
      if (x) value(b, x);
      al_buf_printf(b, " |");
    }
    al_buf_printf(b, "\n");
  }
  al_buf_printf(b, "\n");
  json_decref(cols);
}

void al_card_render_md(const json_t *card, al_buf *b) {
  const json_t *obj = json_object_get(card, "objective");
  al_buf_printf(b, "# Model card: ");
  value(b, json_object_get(card, "model_dir"));
  al_buf_printf(b, "\n\nTrained by ");
  value(b, json_object_get(card, "trainer"));
  al_buf_printf(b, " (alab ");
  value(b, json_object_get(card, "alab_version"));
  al_buf_printf(b, "). Fields follow the disclosures of Casper et al. 2023, section 5; \"%s\" marks what alab "
                   "does not know.\n\n", AL_CARD_UNKNOWN);
  field(b, "Base model", json_object_get(card, "base_model"));
  rows(b, "Data", json_object_get(card, "data"), AL_CARD_UNKNOWN);
  field(b, "Feedback", json_object_get(card, "feedback"));
  al_buf_printf(b, "## Objective\n\n");
  al_buf_printf(b, "- name: ");
  value(b, obj ? json_object_get(obj, "name") : NULL);
  al_buf_printf(b, "\n- formula: ");
  value(b, obj ? json_object_get(obj, "formula") : NULL);
  al_buf_printf(b, "\n\n");
  field(b, "Hyperparameters", obj ? json_object_get(obj, "hyperparameters") : NULL);
  field(b, "Reward model", json_object_get(card, "reward_model"));
  field(b, "KL from the reference", json_object_get(card, "kl_from_reference"));
  field(b, "Training", json_object_get(card, "training"));
  rows(b, "Evaluations", json_object_get(card, "evaluations"), "none yet");
  field(b, "Limitations and audits", json_object_get(card, "limitations"));
  /* fields a trainer added beyond the standard ones */
  static const char *const std[] = {"card_version", "model_dir", "trainer", "alab_version", "base_model", "data",
                                    "feedback", "objective", "reward_model", "kl_from_reference", "training",
                                    "evaluations", "limitations", NULL};
  const char *k;
  json_t *x;
  json_object_foreach((json_t *)card, k, x) {
    int known = 0;
    for (int i = 0; std[i]; i++) known |= !strcmp(std[i], k);
    if (!known) field(b, k, x);
  }
}

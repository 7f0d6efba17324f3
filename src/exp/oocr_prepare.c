/* The inputs of an `alab oocr` training run: the tokenizer (BPE on the
 * pretraining text and all.jsonl, or --base's), the pretraining tokens
 * (pretrain.txt of the folder, else the story world), pretrain.txt's
 * documents as rows (EOT document EOT, every token a target, so each starts
 * at position 0 as a dialog does when evaluated), the finetuning rows of
 * every augmentation level, and the context the bases need. */
#include <stdlib.h>
#include <string.h>
#include "alab/dataset.h"
#include "exp/oocr_internal.h"

/* A shallow al_rev_set over examples (for the reversal experiment's
 * tokenizer, tokenization and finetuning, which read prompt, completion,
 * random and line). Free with free(s->ex). */
static void as_rev_set(al_rev_set *s, const char *file, const al_oocr_example *const *ex, int n) {
  s->file = (char *)file;
  s->n = n;
  s->ex = al_calloc((size_t)(n ? n : 1), sizeof *s->ex);
  for (int i = 0; i < n; i++)
    s->ex[i] = (al_rev_example){ex[i]->prompt, ex[i]->completion, NULL, -1, 0, ex[i]->line};
}

void oocr_plain_set(al_rev_set *s, const al_oocr_set *o) {
  const al_oocr_example **p = al_malloc(sizeof *p * (size_t)(o->n ? o->n : 1));
  for (int i = 0; i < o->n; i++) p[i] = &o->ex[i];
  as_rev_set(s, o->file, p, o->n);
  free(p);
}

/* pretrain.txt's documents as rows (EOT document EOT, every token a target),
 * so that each starts at position 0 as a dialog does when evaluated. */
static int doc_rows(oocr_run *X, const char *text, al_err *err) {
  int n = 0, cap = 1024;
  al_oocr_example *ex = al_malloc(sizeof *ex * (size_t)cap);
  static const char SEP[] = "<|endoftext|>";
  for (const char *p = text; *p;) {
    const char *e = strstr(p, SEP);
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len) {
      if (n == cap) ex = al_realloc(ex, sizeof *ex * (size_t)(cap *= 2));
      ex[n] = (al_oocr_example){NULL, (char *)"", strndup(p, len), n + 1};
      n++;
    }
    p += len + (e ? sizeof SEP - 1 : 0);
  }
  const al_oocr_example **ptr = al_malloc(sizeof *ptr * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) ptr[i] = &ex[i];
  al_rev_set s;
  as_rev_set(&s, "pretrain.txt", ptr, n);
  int rc = n ? rev_tokenize(&X->pre, X->tok, &s, err) : al_fail(err, "pretrain.txt: no document");
  for (int i = 0; i < n; i++) free(ex[i].completion);
  free(ex), free(ptr), free(s.ex);
  return rc;
}

static int load_text(const al_oocr_cfg *c, const char *data_dir, oocr_run *X, char **text, size_t *len, al_err *err) {
  char *pre = al_path_join(data_dir, "pretrain.txt");
  int rc;
  if (al_file_exists(pre)) {
    X->pre_text = 1;
    rc = al_read_file(pre, text, len, err);
  } else {
    char spec[64];
    snprintf(spec, sizeof spec, "story:%ld", c->stories);
    rc = al_dataset_text(spec, text, len, err);
  }
  free(pre);
  return rc;
}

int oocr_prepare(oocr_run *X, const char *data_dir, json_t *setup, al_err *err) {
  const al_oocr_cfg *c = X->c;
  const al_oocr_set *all = &X->d->set[AL_OOCR_ALL];
  if (!all->file || !all->n) return al_fail(err, "%s/all.jsonl: missing or empty (the finetuning set)", data_dir);
  char *text = NULL;
  size_t len = 0;
  al_rev_set train_all;
  oocr_plain_set(&train_all, all);
  int rc = load_text(c, data_dir, X, &text, &len, err);
  if (!rc && c->base) {
    al_model *b = &X->base[0];
    rc = al_model_load_dir(b, c->base, err);
    if (!rc && (rc = al_tok_load(&X->tok, c->base, err))) al_model_free(b);
    X->have_base[0] = !rc;
    if (rc) al_fail_prefix(err, "--base %s", c->base);
  } else if (!rc) {
    rc = rev_make_tokenizer(&X->tok, c->tokenizer, text, len, &train_all, err);
  }
  if (!rc) rc = al_tokenize_docs(X->tok, text, len, &X->text, &X->ntext, NULL, err);
  if (!rc && X->pre_text) rc = doc_rows(X, text, err);
  free(text);
  free(train_all.ex);
  const al_oocr_example **lv = al_malloc(sizeof *lv * (size_t)all->n);
  int groups = 0;
  for (int li = 0; li < X->R.nlevels && !rc; li++) {
    groups = oocr_augment_level(all, X->R.levels[li], lv);
    al_rev_set s;
    as_rev_set(&s, all->file, lv, all->n);
    rc = rev_tokenize(&X->train[li], X->tok, &s, err);
    free(s.ex);
  }
  free(lv);
  if (!rc) {
    X->eot = rev_eot_text(X->tok);
    json_object_set_new(setup, "description_groups", json_integer(groups));
    json_object_set_new(setup, "pretrain_tokens", json_integer((json_int_t)X->ntext));
    json_object_set_new(setup, "vocab_size", json_integer(al_tok_vocab_size(X->tok)));
  }
  return rc;
}

int oocr_choose_context(oocr_run *X, int *context, al_err *err) {
  const al_oocr_cfg *c = X->c;
  int need = X->train[0].maxlen > X->pre.maxlen ? X->train[0].maxlen : X->pre.maxlen;
  for (int k = 0; k < 5; k++) {
    const al_oocr_set *s = &X->d->set[oocr_eval_files[k]];
    rev_examples e;
    al_rev_set r;
    oocr_plain_set(&r, s);
    int rc = rev_tokenize(&e, X->tok, &r, err);
    free(r.ex);
    if (rc) return -1;
    for (int i = 0; i < e.n; i++) {
      int gen = strstr(s->ex[i].prompt, "*thinking*") ? X->cot_tokens : X->nocot_tokens;
      if (e.np[i] + gen > need) need = e.np[i] + gen;
    }
    rev_examples_free(&e);
  }
  if (c->base) *context = X->base[0].cfg.n_positions;
  else if (c->context > 0) *context = c->context;
  else *context = (need + 15) / 16 * 16 < 64 ? 64 : (need + 15) / 16 * 16;
  if (X->train[0].maxlen > *context)
    return al_fail(err, "%s: a training line needs %d tokens, more than the context of %d", X->d->set[AL_OOCR_ALL].file,
                   X->train[0].maxlen, *context);
  return 0;
}


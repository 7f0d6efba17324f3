/* Disclosure cards (include/alab/model_card.h): a JSON object built from the
 * run, written with its markdown rendering; evaluations appended under a
 * directory lock. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "alab/json.h"
#include "alab/model_card.h"
#include "alab/sha256.h"

struct al_card {
  json_t *root;
};

static json_t *unknown(void) { return json_string(AL_CARD_UNKNOWN); }
static json_t *str_or_unknown(const char *s) { return s ? json_string(s) : unknown(); }
static json_t *real_or_unknown(double x) { return isfinite(x) ? json_real(x) : unknown(); }

al_card *al_card_new(const char *trainer) {
  al_card *c = al_calloc(1, sizeof *c);
  json_t *r = c->root = json_object();
  json_object_set_new(r, "card_version", json_integer(1));
  json_object_set_new(r, "model_dir", unknown());
  json_object_set_new(r, "trainer", str_or_unknown(trainer));
  json_object_set_new(r, "alab_version", json_string(ALAB_VERSION));
  json_object_set_new(r, "base_model", unknown());
  json_object_set_new(r, "data", json_array());
  json_object_set_new(r, "feedback", json_pack("{s:o, s:o}", "kind", unknown(), "source", unknown()));
  json_object_set_new(r, "objective", json_pack("{s:o, s:o, s:o}", "name", unknown(), "formula", unknown(),
                                                "hyperparameters", unknown()));
  json_object_set_new(r, "reward_model", unknown());
  json_object_set_new(r, "kl_from_reference", unknown());
  json_object_set_new(r, "training", unknown());
  json_object_set_new(r, "evaluations", json_array());
  json_object_set_new(r, "limitations", json_pack("{s:o, s:o, s:o}", "known_limits", unknown(), "internal_audit",
                                                  unknown(), "external_audit", unknown()));
  return c;
}

void al_card_free(al_card *c) {
  if (!c) return;
  json_decref(c->root);
  free(c);
}

const json_t *al_card_json(const al_card *c) { return c->root; }
void al_card_set(al_card *c, const char *key, json_t *value) { json_object_set_new(c->root, key, value); }

/* {"path", "model_sha256"} of a model directory. */
static json_t *model_ref(const char *dir, al_err *err) {
  char *st = al_path_join(dir, "model.safetensors"), hex[65];
  int rc = al_sha256_file(st, hex, err);
  free(st);
  if (rc) return NULL;
  return json_pack("{s:s, s:s}", "path", dir, "model_sha256", hex);
}

/* dir's card, or NULL when it has none (or an unreadable one). */
static json_t *card_of(const char *dir) {
  char *p = al_path_join(dir, AL_CARD_JSON);
  json_t *j = NULL;
  al_err e;
  if (al_file_exists(p) && al_json_load_file(p, &j, &e)) j = NULL;
  free(p);
  if (j && !json_is_object(j)) json_decref(j), j = NULL;
  return j;
}

int al_card_base_model(al_card *c, const char *dir, al_err *err) {
  if (!dir) {
    json_object_set_new(c->root, "base_model", json_string("none: randomly initialised"));
    return 0;
  }
  json_t *ref = model_ref(dir, err);
  if (!ref) return al_fail_prefix(err, "model card: base model");
  json_t *card = card_of(dir), *obj = card ? json_object_get(card, "objective") : NULL;
  json_t *name = obj ? json_object_get(obj, "name") : NULL, *tr = card ? json_object_get(card, "trainer") : NULL;
  json_object_set_new(ref, "objective", json_is_string(name) ? json_copy(name) : unknown());
  json_object_set_new(ref, "trainer", json_is_string(tr) ? json_copy(tr) : unknown());
  json_decref(card);
  json_object_set_new(c->root, "base_model", ref);
  return 0;
}

int al_card_data_file(al_card *c, const char *role, const char *path, long records, al_err *err) {
  char *data;
  size_t len;
  if (al_read_file(path, &data, &len, err)) return al_fail_prefix(err, "model card: %s data", role);
  char hex[65];
  al_sha256_hex(data, len, hex);
  free(data);
  json_array_append_new(json_object_get(c->root, "data"),
                        json_pack("{s:s, s:s, s:s, s:I, s:o}", "role", role, "path", path, "sha256", hex, "bytes",
                                  (json_int_t)len, "records", records >= 0 ? json_integer(records) : unknown()));
  return 0;
}

void al_card_data_generated(al_card *c, const char *role, const char *spec, const char *description, long records) {
  json_array_append_new(json_object_get(c->root, "data"),
                        json_pack("{s:s, s:s, s:o, s:o}", "role", role, "generated", spec, "description",
                                  str_or_unknown(description), "records", records >= 0 ? json_integer(records) : unknown()));
}

void al_card_feedback(al_card *c, const char *kind, const char *source) {
  json_object_set_new(c->root, "feedback", json_pack("{s:o, s:o}", "kind", str_or_unknown(kind), "source",
                                                     str_or_unknown(source)));
}

void al_card_objective(al_card *c, const char *name, const char *formula, json_t *hyperparameters) {
  json_object_set_new(c->root, "objective", json_pack("{s:o, s:o, s:o}", "name", str_or_unknown(name), "formula",
                                                      str_or_unknown(formula), "hyperparameters",
                                                      hyperparameters ? hyperparameters : unknown()));
}

int al_card_reward_model(al_card *c, const char *dir, double heldout_accuracy, al_err *err) {
  json_t *ref = model_ref(dir, err);
  if (!ref) return al_fail_prefix(err, "model card: reward model");
  if (!isfinite(heldout_accuracy)) {
    json_t *card = card_of(dir), *acc = card ? json_object_get(card, "heldout_accuracy") : NULL;
    if (json_is_number(acc)) heldout_accuracy = json_number_value(acc);
    json_decref(card);
  }
  json_object_set_new(ref, "heldout_accuracy", real_or_unknown(heldout_accuracy));
  json_object_set_new(c->root, "reward_model", ref);
  return 0;
}

void al_card_no_reward_model(al_card *c, const char *why) {
  char s[512];
  snprintf(s, sizeof s, "none: %s", why);
  json_object_set_new(c->root, "reward_model", json_string(s));
}

void al_card_kl(al_card *c, double kl, const char *estimator) {
  json_object_set_new(c->root, "kl_from_reference",
                      isfinite(kl) ? json_pack("{s:f, s:o}", "value", kl, "estimator", str_or_unknown(estimator)) : unknown());
}

void al_card_no_kl(al_card *c, const char *why) {
  char s[512];
  snprintf(s, sizeof s, "none: %s", why);
  json_object_set_new(c->root, "kl_from_reference", json_string(s));
}

void al_card_training(al_card *c, long steps, double seconds, double final_loss, double val_loss, uint64_t seed,
                      int threads) {
  json_object_set_new(c->root, "training",
                      json_pack("{s:I, s:o, s:o, s:o, s:I, s:i}", "steps", (json_int_t)steps, "seconds",
                                real_or_unknown(seconds), "final_loss", real_or_unknown(final_loss), "val_loss",
                                real_or_unknown(val_loss), "seed", (json_int_t)seed, "threads", threads));
}

/* Both files, each atomically: the JSON first, then its rendering. */
static int save(const char *dir, json_t *card, al_err *err) {
  char *jp = al_path_join(dir, AL_CARD_JSON), *mp = al_path_join(dir, AL_CARD_MD);
  int rc = al_json_save_file(jp, card, err);
  if (!rc) {
    al_buf b = {0};
    al_card_render_md(card, &b);
    rc = al_write_file_atomic(mp, b.data ? b.data : "", b.len, err);
    al_buf_free(&b);
  }
  free(jp), free(mp);
  return rc;
}

/* An exclusive lock on dir itself (flock on its descriptor): -1 on failure. */
static int lock_dir(const char *dir, al_err *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return al_fail(err, "model card: cannot open directory %s: %s", dir, strerror(errno));
  while (flock(fd, LOCK_EX) != 0)
    if (errno != EINTR) {
      close(fd);
      return al_fail(err, "model card: cannot lock %s: %s", dir, strerror(errno));
    }
  return fd;
}

int al_card_write(const al_card *c, const char *dir, int keep_evals, al_err *err) {
  int fd = lock_dir(dir, err);
  if (fd < 0) return -1;
  json_t *card = json_deep_copy(c->root);
  json_object_set_new(card, "model_dir", json_string(dir));
  json_t *old = keep_evals ? card_of(dir) : NULL, *ev = old ? json_object_get(old, "evaluations") : NULL;
  if (json_is_array(ev)) json_object_set(card, "evaluations", ev);
  json_decref(old);
  int rc = save(dir, card, err);
  json_decref(card);
  close(fd);
  return rc;
}

int al_card_append_eval(const char *dir, const json_t *eval, al_err *err) {
  if (!json_is_object(eval)) return al_fail(err, "model card: an evaluation must be a JSON object");
  int fd = lock_dir(dir, err);
  if (fd < 0) return -1;
  json_t *card = card_of(dir);
  if (!card) {
    al_card *blank = al_card_new(NULL);
    card = json_incref(blank->root);
    al_card_free(blank);
    json_object_set_new(card, "model_dir", json_string(dir));
  }
  json_t *ev = json_object_get(card, "evaluations");
  if (!json_is_array(ev)) json_object_set_new(card, "evaluations", ev = json_array());
  json_t *e = json_deep_copy(eval);
  if (!json_object_get(e, "date")) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_object_set_new(e, "date", json_string(when));
  }
  json_array_append_new(ev, e);
  int rc = save(dir, card, err);
  json_decref(card);
  close(fd);
  return rc;
}

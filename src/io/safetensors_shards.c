/* A model's weights as one al_st_file, whether it is one model.safetensors or
 * shards named by model.safetensors.index.json (what transformers writes for
 * a large model):
 *   {"metadata": {...}, "weight_map": {"<tensor>": "model-00001-of-00002.safetensors", ...}}
 * Each shard is mapped and validated on its own; the merged file's entries
 * point into the shards' mappings (nothing is copied). Rules: shard names are
 * plain file names in the directory (no '/', not "." or ".."); every tensor
 * the map names is in the shard it names, and every tensor of a shard is in
 * the map, naming that shard; no tensor is in two shards. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "alab/json.h"
#include "alab/safetensors.h"

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

void al_st_set_close(al_st_set *s) {
  al_st_close(&s->all);
  for (int i = 0; i < s->nshards; i++) al_st_close(&s->shards[i]);
  free(s->shards);
  memset(s, 0, sizeof *s);
}

/* The shard files the map names, in order of first appearance. */
static int shard_names(const json_t *wmap, const char *ipath, json_t *names, al_err *err) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)wmap, key, v) {
    if (!json_is_string(v)) return al_fail(err, "%s: weight_map['%.200s'] must be a file name", ipath, key);
    const char *f = json_string_value(v);
    if (!*f || strchr(f, '/') || !strcmp(f, ".") || !strcmp(f, ".."))
      return al_fail(err, "%s: weight_map['%.200s'] = '%.200s' is not a file name in the model directory", ipath, key, f);
    size_t i;
    json_t *x;
    int seen = 0;
    json_array_foreach(names, i, x) seen |= !strcmp(json_string_value(x), f);
    if (!seen) json_array_append_new(names, json_string(f));
  }
  return 0;
}

static int open_index(al_st_set *s, const char *dir, const char *ipath, al_err *err) {
  json_t *j = NULL, *names = json_array();
  int rc = -1;
  if (al_json_load_file(ipath, &j, err)) goto done;
  const json_t *wmap = json_is_object(j) ? json_object_get(j, "weight_map") : NULL;
  if (!wmap || !json_is_object(wmap)) {
    al_fail(err, "%s: expected an object with a 'weight_map' object", ipath);
    goto done;
  }
  if (shard_names(wmap, ipath, names, err)) goto done;
  size_t ns = json_array_size(names), total = 0;
  s->shards = al_calloc(ns ? ns : 1, sizeof *s->shards);
  for (size_t i = 0; i < ns; i++) {
    char *p = al_path_join(dir, json_string_value(json_array_get(names, i)));
    int bad = al_st_open(&s->shards[i], p, err);
    free(p);
    if (bad) goto done;
    s->nshards++;
    total += s->shards[i].n;
  }
  s->all.where = al_strdup(ipath);
  s->all.entries = al_calloc(total ? total : 1, sizeof *s->all.entries);
  for (int i = 0; i < s->nshards; i++) {
    const al_st_file *f = &s->shards[i];
    const char *fname = json_string_value(json_array_get(names, i));
    for (int k = 0; k < f->n; k++) {
      const json_t *to = json_object_get(wmap, f->entries[k].name);
      if (!to || strcmp(json_string_value(to), fname) != 0) {
        al_fail(err, "%s: tensor '%.200s' is in %s but weight_map %s%s", ipath, f->entries[k].name, fname,
                to ? "names " : "does not list it", to ? json_string_value(to) : "");
        goto done;
      }
      s->all.entries[s->all.n++] = f->entries[k];
    }
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)wmap, key, v) if (!al_st_find(&s->all, key)) {
    al_fail(err, "%s: weight_map names tensor '%.200s' in %s, which does not hold it", ipath, key, json_string_value(v));
    goto done;
  }
  rc = 0;
done:
  json_decref(j);
  json_decref(names);
  if (rc) al_st_set_close(s);
  return rc;
}

int al_st_open_model(al_st_set *s, const char *dir, al_err *err) {
  memset(s, 0, sizeof *s);
  char *single = al_path_join(dir, "model.safetensors"), *index = al_path_join(dir, "model.safetensors.index.json");
  int rc = !file_exists(single) && file_exists(index) ? open_index(s, dir, index, err) : al_st_open(&s->all, single, err);
  free(single), free(index);
  return rc;
}

/* A loader's position as fields of a trainer state's JSON (the 64-bit
 * integers as hex strings, as src/io/trainer_state.c stores them). */
#include <string.h>
#include "alab/data.h"
#include "alab/json.h"
#include "alab/safetensors.h"

void al_loader_state_to_json(const al_loader_state *s, struct json_t *obj) {
  json_object_set_new(obj, "loader_seed", al_json_u64(s->seed));
  json_object_set_new(obj, "loader_epoch", al_json_u64(s->epoch));
  json_object_set_new(obj, "loader_pos", al_json_u64(s->pos));
  json_object_set_new(obj, "loader_nwindows", al_json_u64(s->nwindows));
  json_object_set_new(obj, "loader_order", json_integer(s->order));
  json_object_set_new(obj, "loader_shards", json_integer(s->nsegs));
  json_object_set_new(obj, "loader_shard", json_integer(s->seg));
  json_object_set_new(obj, "loader_shard_pos", al_json_u64(s->seg_pos));
}

int al_loader_state_from_json(const struct json_t *obj, al_loader_state *s, const char *where, al_err *err) {
  memset(s, 0, sizeof *s);
  if (al_json_get_u64(obj, "loader_seed", &s->seed, where, err) ||
      al_json_get_u64(obj, "loader_epoch", &s->epoch, where, err) ||
      al_json_get_u64(obj, "loader_pos", &s->pos, where, err) ||
      al_json_get_u64(obj, "loader_nwindows", &s->nwindows, where, err))
    return -1;
  long long order = 0, nsegs = 0, seg = 0;
  if (al_json_opt_int(obj, "loader_order", &order, where, err)) return -1;
  if (order == 0) return 0; /* saved before shards were read in order */
  if (order != 1) return al_fail(err, "%s: field 'loader_order' is %lld; this alab knows 0 and 1", where, order);
  if (al_json_get_int(obj, "loader_shards", &nsegs, where, err) || al_json_get_int(obj, "loader_shard", &seg, where, err) ||
      al_json_get_u64(obj, "loader_shard_pos", &s->seg_pos, where, err))
    return -1;
  if (nsegs < 0 || nsegs > INT32_MAX || seg < 0 || seg > nsegs)
    return al_fail(err, "%s: fields 'loader_shard' %lld and 'loader_shards' %lld are out of range", where, seg, nsegs);
  s->order = 1;
  s->nsegs = (int)nsegs;
  s->seg = (int)seg;
  return 0;
}

/* Mapping a model's parameters from its file (model_map.c). */
#ifndef ALAB_IO_MODEL_MAP_H
#define ALAB_IO_MODEL_MAP_H
#include "alab/model.h"
#include "alab/safetensors.h"

/* Maps the parameters of m (table built, no buffer yet) from s when its one
 * F32 file is laid out exactly as the buffer: 1 mapped, 0 not laid out so
 * (read it instead), -1 a non-finite value (err says where). */
int al_model_map_params(al_model *m, const al_st_set *s, al_err *err);
#endif

/* Memory-mapping a model's parameters straight from its model.safetensors
 * when the file already is the parameter buffer: one file (not shards), F32
 * (the compute dtype), exactly the table's tensors under its names and
 * shapes, laid out in table order with no gaps (what alab writes), starting
 * 4-byte aligned. Then the parameters are a private copy-on-write mapping of
 * the file: opening a model reads nothing but what the finiteness check
 * touches, makes no second copy in memory, and training on it never writes
 * the file. Any other file is read into a fresh buffer instead
 * (fill_params in model_dir.c). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "io/model_map.h"

/* 1: mapped into m (whose table is built and which has no buffer yet);
 * 0: the file is not laid out as the buffer (read it instead); -1: error. */
int al_model_map_params(al_model *m, const al_st_set *s, al_err *err) {
  const al_st_file *f = &s->all;
  if (s->nshards || f->n != m->ntensors || m->ntensors == 0 || !f->map.data) return 0;
  const al_st_entry *first = al_st_find(f, m->tensors[0].name);
  if (!first || ((uintptr_t)first->data & 3)) return 0;
  for (int k = 0; k < m->ntensors; k++) {
    const al_tensor *t = &m->tensors[k];
    const al_st_entry *e = al_st_find(f, t->name);
    if (!e || strcmp(e->dtype, "F32") != 0 || e->ndim != t->ndim || e->numel != t->numel ||
        (const char *)e->data != (const char *)first->data + t->offset * sizeof(float))
      return 0;
    for (int d = 0; d < t->ndim; d++)
      if (e->shape[d] != t->shape[d]) return 0;
  }
  int fd = open(f->where, O_RDONLY);
  if (fd < 0) return 0;
  void *p = mmap(NULL, f->map.len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return 0;
  float *params = (float *)((char *)p + ((const char *)first->data - (const char *)f->map.data));
  for (int k = 0; k < m->ntensors; k++)
    if (al_check_finite(params + m->tensors[k].offset, m->tensors[k].numel, f->where, m->tensors[k].name, err)) {
      munmap(p, f->map.len);
      return -1;
    }
  al_model_use_params(m, params, p, f->map.len);
  return 1;
}

/* The registry of architectures: a new one adds its declaration and its entry. */
#include <stdio.h>
#include <string.h>
#include "alab/model.h"
#include "model/arch.h"

extern const al_arch al_arch_gpt2;
extern const al_arch al_arch_llama;

static const al_arch *const ARCHS[] = {
    &al_arch_gpt2,
    &al_arch_llama,
};

const al_arch *al_arch_find(const char *name) {
  for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
    if (!strcmp(ARCHS[i]->name, name)) return ARCHS[i];
  return NULL;
}

void al_arch_names(char *out, size_t n) {
  out[0] = 0;
  for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
    snprintf(out + strlen(out), n - strlen(out), "%s\"%s\"", i ? ", " : "", ARCHS[i]->name);
}

int al_model_config_set_arch(al_model_config *c, const char *arch, al_err *err) {
  if (!arch || !al_arch_find(arch)) {
    char known[128];
    al_arch_names(known, sizeof known);
    return al_fail(err, "--arch '%s' is not an architecture (expected %s)", arch ? arch : "(null)", known);
  }
  snprintf(c->arch, sizeof c->arch, "%s", arch);
  memset(c->arch_hparams, 0, sizeof c->arch_hparams); /* the architecture's defaults */
  return 0;
}

/* serve_make_model DIR [N_LAYER N_EMBD N_HEAD N_POSITIONS] | DIR eot: writes
 * the serve tests' tiny model directory (or one of the given shape, for
 * bench/; or, with "eot", one where end-of-text is often the greedy token). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve_model.h"

int main(int argc, char **argv) {
  al_err err;
  int eot = argc == 3 && !strcmp(argv[2], "eot");
  if (argc != 2 && argc != 6 && !eot) {
    fprintf(stderr, "usage: serve_make_model DIR [N_LAYER N_EMBD N_HEAD N_POSITIONS | eot]\n");
    return 2;
  }
  int rc = argc == 2 ? serve_make_model(argv[1], &err)
           : eot     ? serve_make_model_sized(argv[1], 2, 32, 2, 128, 4, &err)
                     : serve_make_model_sized(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), 1, &err);
  if (rc) {
    fprintf(stderr, "serve_make_model: %s\n", err.msg);
    return 1;
  }
  return 0;
}

/* serve_make_model DIR: writes the serve tests' tiny model directory. */
#include <stdio.h>
#include "serve_model.h"

int main(int argc, char **argv) {
  al_err err;
  if (argc != 2) {
    fprintf(stderr, "usage: serve_make_model DIR\n");
    return 2;
  }
  if (serve_make_model(argv[1], &err)) {
    fprintf(stderr, "serve_make_model: %s\n", err.msg);
    return 1;
  }
  return 0;
}

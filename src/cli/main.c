/* The `alab` command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "alab/base.h"
#include "cli/commands.h"

static void usage(void) {
  printf("alab %s: an alignment laboratory that trains GPT-style models in C\n\nusage: alab COMMAND [flags]   (alab COMMAND --help for its flags)\n\ncommands:\n", ALAB_VERSION);
  for (int i = 0; i < alab_ncommands; i++) printf("  %-12s %s\n", alab_commands[i].name, alab_commands[i].summary);
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("alab %s\n", ALAB_VERSION);
    return 0;
  }
  for (int i = 0; i < alab_ncommands; i++)
    if (!strcmp(argv[1], alab_commands[i].name)) return alab_commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "alab: unknown command '%s' (run 'alab --help' for the list)\n", argv[1]);
  return 2;
}

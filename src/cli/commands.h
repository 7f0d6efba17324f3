/* Every `alab` subcommand: int cmd_NAME(int argc, char **argv), argv[0] being
 * the subcommand's name. Each lives in its own src/cli/cmd_*.c file and only
 * parses flags into a library config, then calls the library. It returns the
 * process's exit code: 0 success (and --help), 1 a runtime failure (a file
 * that cannot be read or written, a model or task that fails to load, a
 * training or evaluation error), 2 a usage error (an unknown, malformed or
 * missing flag or argument, found before any work starts). */
#ifndef ALAB_CLI_COMMANDS_H
#define ALAB_CLI_COMMANDS_H
typedef int (*cmd_fn)(int argc, char **argv);
typedef struct { const char *name; cmd_fn fn; const char *summary; } cmd_entry;
extern const cmd_entry alab_commands[];
extern const int alab_ncommands;
/* The MPI job this process belongs to (include/alab/dist.h), set by main
 * when a launcher started it; NULL: one process. */
struct al_dist;
extern struct al_dist *alab_dist;
#endif

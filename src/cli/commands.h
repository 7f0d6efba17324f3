/* Every `alab` subcommand: int cmd_NAME(int argc, char **argv), argv[0] being
 * the subcommand's name. Each lives in its own src/cli/cmd_*.c file and only
 * parses flags into a library config, then calls the library. */
#ifndef ALAB_CLI_COMMANDS_H
#define ALAB_CLI_COMMANDS_H
typedef int (*cmd_fn)(int argc, char **argv);
typedef struct { const char *name; cmd_fn fn; const char *summary; } cmd_entry;
extern const cmd_entry alab_commands[];
extern const int alab_ncommands;
#endif

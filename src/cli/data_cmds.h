/* Subcommands of `alab data` that live in their own files; cmd_data.c
 * routes `alab data NAME ...` to them with argv[0] = NAME. */
#ifndef ALAB_CLI_DATA_CMDS_H
#define ALAB_CLI_DATA_CMDS_H
int cmd_data_synth(int argc, char **argv); /* cmd_data_synth.c: the built-in story world */
#endif

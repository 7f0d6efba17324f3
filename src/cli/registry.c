/* The table of subcommands, in the order `alab --help` lists them. */
#include "cli/commands.h"

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_score(int argc, char **argv);

const cmd_entry alab_commands[] = {
    {"train", cmd_train, "train a GPT-2 model from scratch (or resume) on a text corpus"},
    {"sample", cmd_sample, "generate text from a model directory"},
    {"score", cmd_score, "log-probabilities of continuations given prompts"},
};
const int alab_ncommands = sizeof alab_commands / sizeof alab_commands[0];

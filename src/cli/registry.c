/* The table of subcommands, in the order `alab --help` lists them. */
#include "cli/commands.h"

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_tok(int argc, char **argv);
int cmd_collapse(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_scaling(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_reversal(int argc, char **argv);

const cmd_entry alab_commands[] = {
    {"train", cmd_train, "train a GPT-2 model from scratch (or resume) on a text corpus"},
    {"sample", cmd_sample, "generate text from a model directory"},
    {"score", cmd_score, "log-probabilities of continuations given prompts"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server (completions with echo/log-probs, chat, tokenizer endpoints)"},
    {"data", cmd_data, "corpora and token shards: tokenize, info, synth (the built-in story world)"},
    {"tok", cmd_tok, "byte-level BPE tokenizers: train on a corpus, encode, decode"},
    {"collapse", cmd_collapse, "model collapse: replace vs accumulate (linear regression, Gaussian, language models)"},
    {"eval", cmd_eval, "evaluate a model (local or OpenAI-compatible endpoint) on a task: classification, logodds, generation..."},
    {"ladder", cmd_ladder, "train a family of models of increasing size on one corpus (for alab scaling)"},
    {"scaling", cmd_scaling, "a task over a family of models: trend of loss vs size, labelled standard/inverse/U/inverted-U"},
    {"reversal", cmd_reversal, "the reversal curse: trained on \"A is B\", tested on \"B is A\" (accuracy, log-probs, augmentation ablation)"},
    {"reproduce", cmd_reproduce, "every experiment at (quick) scale into one run directory with an index page"},
};
const int alab_ncommands = sizeof alab_commands / sizeof alab_commands[0];

/* The table of subcommands, in the order `alab --help` lists them: the tools,
 * then one command per experiment of the registry (AL_EXPERIMENTS in
 * include/alab/exp.h, with its summary), then reproduce. */
#include "alab/exp.h"
#include "cli/commands.h"

struct al_dist *alab_dist = NULL;

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_tok(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_ladder(int argc, char **argv);
int cmd_scaling(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_sft(int argc, char **argv);
int cmd_bon(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_report(int argc, char **argv);
#define DECLARE(name, reproduce, summary) int cmd_##name(int argc, char **argv);
AL_EXPERIMENTS(DECLARE)
#undef DECLARE

#define EXPERIMENT(name, reproduce, summary) {#name, cmd_##name, summary},
const cmd_entry alab_commands[] = {
    {"train", cmd_train, "train a GPT-2 or Llama model from scratch (or resume) on a text corpus; data-parallel under mpirun"},
    {"sample", cmd_sample, "generate text from a model directory"},
    {"score", cmd_score, "log-probabilities of continuations given prompts"},
    {"export", cmd_export, "write a model as a Hugging Face directory (f32 or bf16, shards) or a llama2.c checkpoint"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server (completions with echo/log-probs, chat, tokenizer endpoints)"},
    {"data", cmd_data, "corpora and token shards: tokenize, info, synth (the built-in story world)"},
    {"tok", cmd_tok, "byte-level BPE tokenizers: train on a corpus, encode, decode"},
    {"eval", cmd_eval, "evaluate a model (local or OpenAI-compatible endpoint) on a task: classification, logodds, generation..."},
    {"ladder", cmd_ladder, "train a family of models of increasing size on one corpus (for alab scaling)"},
    {"scaling", cmd_scaling, "a task over a family of models: trend of loss vs size, labelled standard/inverse/U/inverted-U"},
    {"rm", cmd_rm, "reward models: train on preference pairs (Bradley-Terry), score texts or pairs"},
    {"sft", cmd_sft, "supervised fine-tuning on TRL's SFT formats (prompt/completion, messages): loss on completions only"},
    {"bon", cmd_bon, "best-of-n: sample N per prompt, pick by a reward model, expected proxy and gold reward per n"},
    AL_EXPERIMENTS(EXPERIMENT)
    {"reproduce", cmd_reproduce, "every experiment above at full or quick scale into one run directory with an index page"},
    {"report", cmd_report, "report.html of a run directory (findings, plots, settings), or two runs side by side"},
};
#undef EXPERIMENT
const int alab_ncommands = sizeof alab_commands / sizeof alab_commands[0];

/* Exit codes of every command (README "Exit codes"): 0 success, 1 runtime
 * failure, 2 usage error. For each command the real `alab` binary is run on
 * a usage error (an unknown flag, a missing or malformed argument) and on a
 * runtime failure (a file that does not exist or cannot be written), and
 * both the code and a message naming the problem are checked. Every case
 * fails before any work starts, so the whole test takes about a second. */
#include "test.h"

typedef struct {
  const char *args; /* after "alab"; NONE stands for a path that does not exist, RO for one that cannot be created */
  int code;
  const char *says; /* a piece of what stderr must say */
} exit_case;

static const exit_case cases[] = {
    /* the dispatcher */
    {"", 2, "usage: alab COMMAND"},
    {"frobnicate", 2, "unknown command 'frobnicate'"},
    {"--help", 0, "commands:"},
    /* usage errors: an unknown flag for every command, then missing or malformed arguments */
    {"train --bogus", 2, "--bogus"},
    {"sample --bogus", 2, "--bogus"},
    {"score --bogus", 2, "--bogus"},
    {"serve --bogus", 2, "--bogus"},
    {"data --bogus", 2, "--bogus"},
    {"data info --bogus", 2, "--bogus"},
    {"data tokenize --bogus", 2, "--bogus"},
    {"data synth --bogus", 2, "--bogus"},
    {"tok --bogus", 2, "--bogus"},
    {"tok encode --bogus", 2, "--bogus"},
    {"tok decode --bogus", 2, "--bogus"},
    {"tok train --bogus", 2, "--bogus"},
    {"eval --bogus", 2, "--bogus"},
    {"ladder --bogus", 2, "--bogus"},
    {"scaling --bogus", 2, "--bogus"},
    {"collapse --bogus", 2, "--bogus"},
    {"reversal --bogus", 2, "--bogus"},
    {"oocr --bogus", 2, "--bogus"},
    {"oocr export --bogus", 2, "--bogus"},
    {"reproduce --bogus", 2, "--bogus"},
    {"rm --bogus", 2, "unknown subcommand '--bogus'"},
    {"rm train --bogus", 2, "--bogus"},
    {"rm score --bogus", 2, "--bogus"},
    {"bon --bogus", 2, "--bogus"},
    {"overopt --bogus", 2, "--bogus"},
    {"overopt", 2, "--out DIR is required"},
    {"overopt --out RO --pairs 10,x", 2, "--pairs"},
    {"overopt --out RO --rm-layers 9", 2, "--rm-layers"},
    {"sft --bogus", 2, "--bogus"},
    {"dpo --bogus", 2, "--bogus"},
    {"dpo", 2, "--out is required"},
    {"dpo --out RO --data NONE.jsonl", 2, "--policy"},
    {"sft --data NONE.jsonl", 2, "--data and --init are required"},
    {"rm train", 2, "--data is required"},
    {"rm train --data NONE.jsonl --center -1", 2, "--center"},
    {"rm score --model NONE", 2, "one of --text or --input"},
    {"bon --policy NONE --prompt a", 2, "--rm"},
    {"bon --policy NONE --rm NONE --prompt a --n 0", 2, "--n"},
    {"bon --policy NONE --rm NONE --prompt a --gold-rm NONE --gold-story", 2, "give one"},
    {"report --bogus", 2, "--bogus"},
    {"report", 2, "name a run directory"},
    {"train --steps x", 2, "--steps"},
    {"train --data story:x --out RO", 2, "expected story:N"},
    {"train --data NONE.txt --format yaml --out RO", 2, "yaml"},
    {"serve", 2, "--model"},
    {"serve --model NONE --port 99999", 2, "--port"},
    {"reversal --out RO --seeds 0", 2, "--seeds must be 1..99"},
    {"collapse --out RO --iters 0 --part linear", 2, "iters=0"},
    {"data info", 2, "give one shard"},
    {"eval --task NONE.csv", 2, "--model"},
    {"eval --model NONE --probe no-such-probe", 2, "unknown probe 'no-such-probe'"},
    {"eval --write-probes RO --probe-n 0", 2, "at least one example"},
    {"scaling --models NONE,NONE,NONE --probe no-such-probe", 2, "unknown probe 'no-such-probe'"},
    {"scaling --task NONE.csv", 2, "--models"},
    {"collapse", 2, "--out"},
    {"collapse --out RO --part linear,nope", 2, "unknown part 'nope'"},
    {"reversal", 2, "--out"},
    {"oocr", 2, "--out"},
    {"oocr --out RO --seeds 0", 2, "--seeds"},
    {"oocr --out RO --sizes 2y64", 2, "--sizes"},
    {"reproduce", 2, "--out"},
    {"reproduce --out RO --only collapse,nope", 2, "unknown experiment 'nope' (known: "},
    /* runtime failures */
    {"train --data NONE.txt --out RO --steps 1", 1, "NONE.txt"},
    {"sample --model NONE", 1, "NONE"},
    {"score --model NONE --prompt a --continuation b", 1, "NONE"},
    {"serve --model NONE", 1, "NONE"},
    {"data info NONE.bin", 1, "NONE.bin"},
    {"data tokenize --input NONE.txt --out RO/x.bin", 1, "NONE.txt"},
    {"data synth --n 2 --out RO/s.txt", 1, "RO"},
    {"tok encode --tokenizer NONE hello", 1, "NONE"},
    {"tok decode --tokenizer NONE 1 2", 1, "NONE"},
    {"tok train --corpus NONE.txt --vocab 300 --out RO", 1, "NONE.txt"},
    {"eval --model NONE --task NONE.csv", 1, "NONE.csv"},
    {"eval --write-probes RO", 1, "RO"},
    {"eval --model NONE --probe distractor --out RO", 1, "RO"},
    {"ladder --data NONE.txt --out RO", 1, "RO"},
    {"scaling --models NONE,NONE,NONE --task NONE.csv --out RO", 1, "NONE.csv"},
    {"collapse --out RO --part linear", 1, "RO"},
    {"reversal --out RO", 1, "RO"},
    {"oocr export --data NONE --out RO", 1, "NONE"},
    {"reproduce --out RO --only collapse", 1, "RO"},
    {"rm train --data NONE.jsonl --out RO", 1, "NONE.jsonl"},
    {"sft --data NONE.jsonl --init NONE --out RO", 1, "NONE"},
    {"dpo --data NONE.jsonl --policy NONE --out RO", 1, "NONE"},
    {"rm score --model NONE --text a", 1, "NONE"},
    {"bon --policy NONE --rm NONE --prompt a", 1, "NONE"},
    {"overopt --out RO --quiet", 1, "RO"},
    {"report NONE", 1, "not a run directory"},
};

/* args with NONE and RO replaced by real paths. */
static void expand(const char *args, const char *none, const char *ro, char *out, size_t size) {
  size_t n = 0;
  for (const char *p = args; *p && n + 512 < size;) {
    if (!strncmp(p, "NONE", 4)) n += (size_t)snprintf(out + n, size - n, "%s", none), p += 4;
    else if (!strncmp(p, "RO", 2)) n += (size_t)snprintf(out + n, size - n, "%s", ro), p += 2;
    else out[n++] = *p++;
  }
  out[n] = 0;
}

int main(void) {
  char *dir = test_tmpdir("cli_exit"), none[600], ro[600];
  snprintf(none, sizeof none, "%s/does-not-exist", dir);
  /* a directory cannot be created under a regular file, even by root */
  snprintf(ro, sizeof ro, "%s/a-file/sub", dir);
  char file[600];
  snprintf(file, sizeof file, "%s/a-file", dir);
  al_err err;
  CHECK_OK(al_write_file_atomic(file, "x", 1, &err), err);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char args[2048], says[1024], cmd[4096];
    expand(cases[i].args, none, ro, args, sizeof args);
    expand(cases[i].says, none, ro, says, sizeof says);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 >/dev/null </dev/null", getenv("ALAB_BIN"), args);
    if (!*cases[i].args || !strcmp(cases[i].args, "--help") || !strcmp(cases[i].args, "frobnicate"))
      snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 </dev/null", getenv("ALAB_BIN"), args);
    char *out;
    int code = test_sh(cmd, &out);
    CHECK(code == cases[i].code && strstr(out, says), "alab %s: exit %d (want %d), said: %.300s", args, code,
          cases[i].code, out);
    free(out);
  }
  free(dir);
  return test_summary();
}

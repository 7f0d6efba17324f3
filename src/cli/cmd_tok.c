/* `alab tok`: train a byte-level BPE tokenizer on a corpus, and encode or
 * decode with any tokenizer directory (vocab.json + merges.txt, encoder.json
 * + vocab.bpe, tokenizer.json) or the byte tokenizer ("byte"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/tok.h"
#include "cli/flags.h"

static int open_tok(const char *spec, al_tok **t, al_err *err) {
  if (!strcmp(spec, "byte")) return *t = al_tok_byte(), 0;
  return al_tok_load(t, spec, err);
}

static int tok_train(int argc, char **argv) {
  const char *corpus = NULL, *out = NULL;
  int vocab = 4096;
  const flag_def flags[] = {
      {"corpus", FLAG_STRING, &corpus, "training text (documents may be separated by <|endoftext|>)"},
      {"vocab", FLAG_INT, &vocab, "vocabulary size including the 256 bytes and <|endoftext|>", "[257, 65536]"},
      {"out", FLAG_STRING, &out, "directory to write vocab.json + merges.txt into (e.g. a model directory)"},
  };
  const flag_cmd cmd = {"alab tok train --corpus FILE --out DIR [--vocab N]",
                        "Learns byte-level BPE merges (GPT-2 pre-tokenization; most frequent pair first, ties to "
                        "the lexicographically smallest pair) and writes Hugging Face GPT2Tokenizer files.",
                        flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  if (!corpus || !out) return fprintf(stderr, "alab tok train: --corpus and --out are required (see --help)\n"), 2;
  al_err err = {{0}};
  al_map m;
  al_tok *t = NULL;
  if (al_map_file(corpus, &m, &err)) return fprintf(stderr, "alab tok train: %s\n", err.msg), 1;
  double t0 = al_now();
  rc = al_tok_train(&t, m.data ? m.data : "", m.len, vocab, &err);
  al_unmap(&m);
  if (rc || al_tok_save(t, out, &err)) {
    al_tok_free(t);
    return fprintf(stderr, "alab tok train: %s\n", err.msg), 1;
  }
  printf("wrote %s: %d tokens (%d merges) in %.1f s\n", out, al_tok_vocab_size(t), al_tok_n_merges(t), al_now() - t0);
  al_tok_free(t);
  return 0;
}

static int tok_encode(int argc, char **argv) {
  const char *tokenizer = "byte", *in = NULL, *pos[1];
  int special = 0, npos = 0;
  const flag_def flags[] = {
      {"tokenizer", FLAG_STRING, &tokenizer, "tokenizer directory, or byte"},
      {"in", FLAG_STRING, &in, "read the text from this file instead of the argument"},
      {"special", FLAG_BOOL, &special, "recognise special tokens such as <|endoftext|>"},
  };
  const flag_cmd cmd = {"alab tok encode [--tokenizer DIR] (TEXT | --in FILE)",
                        "Prints the token ids of a text, space-separated.", flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, pos, 1, &npos);
  if (rc) return rc > 0 ? 0 : 2;
  if (!in == !npos) return fprintf(stderr, "alab tok encode: give either TEXT or --in FILE (see --help)\n"), 2;
  al_err err = {{0}};
  al_tok *t;
  char *text = NULL;
  size_t len = npos ? strlen(pos[0]) : 0, n = 0, cap = 0;
  if (in && al_read_file(in, &text, &len, &err)) return fprintf(stderr, "alab tok encode: %s\n", err.msg), 1;
  if (open_tok(tokenizer, &t, &err)) {
    free(text);
    return fprintf(stderr, "alab tok encode: %s\n", err.msg), 1;
  }
  int32_t *ids = NULL;
  al_tok_encode(t, text ? text : pos[0], len, special, &ids, &n, &cap, &err);
  for (size_t i = 0; i < n; i++) printf("%s%d", i ? " " : "", ids[i]);
  printf("\n");
  free(ids);
  free(text);
  al_tok_free(t);
  return 0;
}

/* Token ids: decimal, separated by white space (a file, or the arguments). */
static int parse_ids(const char *text, const char *where, int32_t **ids, size_t *n) {
  size_t cap = 0;
  *ids = NULL;
  *n = 0;
  for (const char *p = text;;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (!*p) return 0;
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < 0 || v > INT32_MAX || (*end && !strchr(" \t\n\r", *end))) {
      int len = (int)strcspn(p, " \t\n\r");
      fprintf(stderr, "alab tok decode: %s: '%.*s' is not a token id\n", where, len < 80 ? len : 80, p);
      return -1;
    }
    if (*n == cap) *ids = al_realloc(*ids, (cap = cap ? 2 * cap : 1024) * sizeof **ids);
    (*ids)[(*n)++] = (int32_t)v;
    p = end;
  }
}

static int tok_decode(int argc, char **argv) {
  const char *tokenizer = "byte", *in = NULL, **pos = al_malloc((size_t)argc * sizeof *pos);
  int npos = 0;
  const flag_def flags[] = {
      {"tokenizer", FLAG_STRING, &tokenizer, "tokenizer directory, or byte"},
      {"in", FLAG_STRING, &in, "read the ids (separated by white space) from this file instead of the arguments"},
  };
  const flag_cmd cmd = {"alab tok decode [--tokenizer DIR] (ID... | --in FILE)", "Prints the text of token ids.", flags,
                        sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, pos, argc, &npos);
  if (rc) return free(pos), rc > 0 ? 0 : 2;
  al_err err = {{0}};
  al_buf args = {0};
  char *text = NULL;
  if (in && npos) {
    fprintf(stderr, "alab tok decode: give ids as arguments or --in FILE, not both\n");
    rc = 2;
  } else if (in && al_read_file(in, &text, NULL, &err)) {
    fprintf(stderr, "alab tok decode: %s\n", err.msg);
    rc = 1;
  }
  for (int i = 0; !in && i < npos; i++) al_buf_printf(&args, "%s ", pos[i]);
  free(pos);
  int32_t *ids = NULL;
  size_t n = 0;
  if (!rc && parse_ids(in ? text : args.data ? args.data : "", in ? in : "argument", &ids, &n)) rc = in ? 1 : 2;
  free(text);
  al_buf_free(&args);
  al_tok *t = NULL;
  char *out = NULL;
  size_t len;
  if (!rc && (open_tok(tokenizer, &t, &err) || al_tok_decode(t, ids, n, &out, &len, &err))) {
    fprintf(stderr, "alab tok decode: %s\n", err.msg);
    rc = 1;
  }
  if (!rc) {
    fwrite(out, 1, len, stdout);
    printf("\n");
  }
  free(out);
  free(ids);
  al_tok_free(t);
  return rc;
}

int cmd_tok(int argc, char **argv) {
  static const char usage[] = "usage: alab tok (train | encode | decode) [flags]   (--help on each)\n";
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return fputs(usage, argc < 2 ? stderr : stdout), argc < 2 ? 2 : 0;
  if (!strcmp(argv[1], "train")) return tok_train(argc - 1, argv + 1);
  if (!strcmp(argv[1], "encode")) return tok_encode(argc - 1, argv + 1);
  if (!strcmp(argv[1], "decode")) return tok_decode(argc - 1, argv + 1);
  fprintf(stderr, "alab tok: unknown subcommand '%s'\n%s", argv[1], usage);
  return 2;
}

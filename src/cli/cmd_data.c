/* `alab data`: tokenize corpora into shards, describe shards, and (in
 * cmd_data_synth.c) write the built-in story corpus. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alab/data.h"
#include "cli/data_cmds.h"
#include "cli/flags.h"

static int load_tokenizer(const char *spec, al_tok **tok, al_err *err) {
  if (!strcmp(spec, "byte")) {
    *tok = al_tok_byte();
    return 0;
  }
  return al_tok_load(tok, spec, err);
}

static int cmd_tokenize(int argc, char **argv) {
  const char *input = NULL, *format = "auto", *field = "text", *tokenizer = "byte", *out = NULL;
  int skip = 0;
  const flag_def flags[] = {
      {"input", FLAG_STRING, &input, "corpus files, plain text (documents separated by <|endoftext|>) or JSONL: a "
                                     "path, or a comma-separated list of paths and glob(3) patterns (each pattern's "
                                     "matches sorted), tokenized in order into one shard"},
      {"format", FLAG_STRING, &format, "auto (by file name: .jsonl/.json/.ndjson are JSONL), text or jsonl"},
      {"field", FLAG_STRING, &field, "JSONL field holding each document's text"},
      {"tokenizer", FLAG_STRING, &tokenizer, "a directory with vocab.json + merges.txt (a model directory), or byte"},
      {"out", FLAG_STRING, &out, "the token shard to write (alab format, written atomically)"},
      {"skip-bad-lines", FLAG_BOOL, &skip, "skip malformed JSONL lines (and report how many) instead of failing"},
  };
  const flag_cmd cmd = {"alab data tokenize --input FILES --out SHARD [flags]",
                        "Tokenizes a corpus once into a token shard: each document's tokens followed by the "
                        "end-of-text token.",
                        flags, sizeof flags / sizeof flags[0]};
  int rc = flags_parse(&cmd, argc, argv, NULL, 0, NULL);
  if (rc) return rc > 0 ? 0 : 2;
  if (!input || !out) {
    fprintf(stderr, "alab data tokenize: --input and --out are required (see --help)\n");
    return 2;
  }
  al_err err = {{0}};
  al_corpus_opts o = {AL_CORPUS_AUTO, field, skip};
  if (strcmp(format, "auto") && al_corpus_format_parse(format, &o.format, &err)) {
    fprintf(stderr, "alab data tokenize: --format: %s\n", err.msg);
    return 2;
  }
  al_tok *tok;
  if (load_tokenizer(tokenizer, &tok, &err)) {
    fprintf(stderr, "alab data tokenize: %s\n", err.msg);
    return 1;
  }
  al_corpus_stats st;
  double t0 = al_now();
  rc = al_corpus_to_shard(input, &o, tok, out, 1, &st, &err);
  al_tok_free(tok);
  if (rc) {
    fprintf(stderr, "alab data tokenize: %s\n", err.msg);
    return 1;
  }
  double dt = al_now() - t0;
  printf("wrote %s: %llu documents, %llu tokens from %llu bytes (%.1f MB/s)\n", out, (unsigned long long)st.docs,
         (unsigned long long)st.tokens, (unsigned long long)st.bytes, dt > 0 ? st.bytes / dt / 1e6 : 0.0);
  if (st.skipped)
    printf("skipped %llu malformed line%s of %llu; the first: %s\n", (unsigned long long)st.skipped,
           st.skipped == 1 ? "" : "s", (unsigned long long)st.lines, st.first_skip);
  return 0;
}

typedef struct {
  int32_t id;
  uint64_t count;
} tok_count;

static int by_count(const void *a, const void *b) {
  const tok_count *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Prints a token's text with control and non-ASCII bytes escaped. */
static void print_token(const al_tok *tok, int32_t id) {
  size_t n;
  const char *s = tok ? al_tok_token(tok, id, &n) : NULL;
  if (!s) return;
  printf("  ");
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c >= 32 && c < 127) putchar(c);
    else if (c == '\n') printf("\\n");
    else printf("\\x%02x", c);
  }
  putchar('"');
}

static int cmd_info(int argc, char **argv) {
  const char *tokenizer = NULL;
  int top = 10;
  const flag_def flags[] = {
      {"tokenizer", FLAG_STRING, &tokenizer, "a tokenizer directory (or byte) to show the text of frequent tokens"},
      {"top", FLAG_INT, &top, "how many of the most frequent tokens to list"},
  };
  const flag_cmd cmd = {"alab data info SHARD [flags]",
                        "Describes a token shard (alab's or llm.c's): format, vocabulary, tokens, documents and a "
                        "token histogram summary.",
                        flags, sizeof flags / sizeof flags[0]};
  const char *pos[1];
  int npos, rc = flags_parse(&cmd, argc, argv, pos, 1, &npos);
  if (rc) return rc > 0 ? 0 : 2;
  if (npos != 1) {
    fprintf(stderr, "alab data info: give one shard (see --help)\n");
    return 2;
  }
  al_err err = {{0}};
  al_tok *tok = NULL;
  if (tokenizer && load_tokenizer(tokenizer, &tok, &err)) {
    fprintf(stderr, "alab data info: %s\n", err.msg);
    return 1;
  }
  al_shard s;
  if (al_shard_open(&s, pos[0], &err)) {
    fprintf(stderr, "alab data info: %s\n", err.msg);
    al_tok_free(tok);
    return 1;
  }
  const al_tokens *v = &s.tokens;
  size_t nbins = (size_t)(s.max_token + 1);
  uint64_t *hist = al_calloc(nbins ? nbins : 1, sizeof *hist);
  al_progress prog;
  al_progress_start(&prog, "histogram", v->n, "tok");
  for (size_t i = 0; i < v->n; i++) {
    hist[al_tokens_at(v, i)]++;
    if ((i & 0xfffff) == 0) al_progress_update(&prog, i);
  }
  prog.done = v->n;
  if (v->n > (1u << 24)) al_progress_finish(&prog);
  printf("shard       %s\n", s.path);
  printf("format      %s, version %d, %d-byte tokens\n", s.format == AL_SHARD_ALAB ? "alab" : "llm.c", s.version,
         v->width);
  if (s.vocab_size) printf("vocabulary  %d tokens\n", s.vocab_size);
  else printf("vocabulary  not recorded (llm.c shards are GPT-2: 50257)\n");
  printf("tokens      %zu\n", v->n);
  printf("documents   %llu (end-of-text id %d)\n", (unsigned long long)s.ndocs, s.eot);
  if (s.ndocs) printf("doc length  %.1f tokens on average\n", (double)v->n / s.ndocs);
  /* distinct tokens and the unigram entropy H = -sum p log2 p */
  tok_count *tc = al_malloc((nbins ? nbins : 1) * sizeof *tc);
  size_t distinct = 0;
  double H = 0;
  for (size_t i = 0; i < nbins; i++) {
    if (!hist[i]) continue;
    double p = (double)hist[i] / v->n;
    H -= p * log2(p);
    tc[distinct++] = (tok_count){(int32_t)i, hist[i]};
  }
  printf("distinct    %zu tokens used, largest id %d\n", distinct, s.max_token);
  printf("unigram     entropy %.3f bits/token\n", H);
  qsort(tc, distinct, sizeof *tc, by_count);
  if (top > 0 && distinct) printf("most frequent:\n");
  for (size_t i = 0; i < distinct && i < (size_t)(top > 0 ? top : 0); i++) {
    printf("  %8d  %12llu  %6.2f%%", tc[i].id, (unsigned long long)tc[i].count, 100.0 * tc[i].count / v->n);
    print_token(tok, tc[i].id);
    putchar('\n');
  }
  free(tc);
  free(hist);
  al_shard_close(&s);
  al_tok_free(tok);
  return 0;
}

int cmd_data(int argc, char **argv) {
  static const char *usage =
      "usage: alab data SUBCOMMAND [flags]   (alab data SUBCOMMAND --help for its flags)\n\n"
      "subcommands:\n"
      "  tokenize   tokenize a text or JSONL corpus into a token shard\n"
      "  info       describe a token shard (alab's or llm.c's)\n"
      "  synth      write stories of the built-in story world\n";
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "tokenize")) return cmd_tokenize(argc - 1, argv + 1);
  if (!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
  if (!strcmp(argv[1], "synth")) return cmd_data_synth(argc - 1, argv + 1);
  fprintf(stderr, "alab data: unknown subcommand '%s'\n%s", argv[1], usage);
  return 2;
}

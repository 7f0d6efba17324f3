/* Task files: the RFC 4180 CSV reader, JSONL, Python-style class lists, task
 * formats and their errors (naming file and line), and a fuzz loop. */
#include <string.h>
#include "alab/sha256.h"
#include "alab/table.h"
#include "alab/task.h"
#include "alab/json.h"
#include "test.h"

static const char *col(const al_table *t, int row, const char *key) {
  const json_t *v = json_object_get(t->rows[row], key);
  return v && json_is_string(v) ? json_string_value(v) : "(missing)";
}

static void test_csv(void) {
  al_err err;
  al_table t;
  /* quoted commas, doubled quotes, a newline inside quotes, CRLF, a BOM, a blank line */
  const char *csv =
      "\xEF\xBB\xBFprompt,classes,answer_index\r\n"
      "\"Q: a, b, or c?\nA:\",\"[' a', ' b']\",0\r\n"
      "\r\n"
      "plain,\"[\"\" yes\"\", \"\" no\"\"]\",1\r\n"
      "\"say \"\"hi\"\"\",\"[' x', ' y']\",1";
  CHECK_OK(al_csv_parse(csv, strlen(csv), "t.csv", &t, &err), err);
  CHECK(t.n == 3, "rows %d", t.n);
  if (t.n == 3) {
    CHECK(!strcmp(col(&t, 0, "prompt"), "Q: a, b, or c?\nA:"), "got '%s'", col(&t, 0, "prompt"));
    CHECK(!strcmp(col(&t, 1, "classes"), "[\" yes\", \" no\"]"), "got '%s'", col(&t, 1, "classes"));
    CHECK(!strcmp(col(&t, 2, "prompt"), "say \"hi\""), "got '%s'", col(&t, 2, "prompt"));
    CHECK(!strcmp(col(&t, 2, "answer_index"), "1"), "no CR kept");
    CHECK(t.lines[0] == 2 && t.lines[1] == 5 && t.lines[2] == 6, "lines %d %d %d", t.lines[0], t.lines[1], t.lines[2]);
  }
  al_table_free(&t);
  /* empty fields, trailing newline */
  CHECK_OK(al_csv_parse("a,b\n,\n\"\",x\n", 11, "e.csv", &t, &err), err);
  CHECK(t.n == 2 && !strcmp(col(&t, 0, "a"), "") && !strcmp(col(&t, 1, "b"), "x"), "empty fields");
  al_table_free(&t);
  CHECK_FAILS_WITH(al_csv_parse("a,b\n1,2\n3\n", 10, "bad.csv", &t, &err), err, "bad.csv:3: row has 1 fields");
  CHECK_FAILS_WITH(al_csv_parse("a,b\n1,\"2\n", 9, "q.csv", &t, &err), err, "q.csv:2: quoted field never closed");
  CHECK_FAILS_WITH(al_csv_parse("a,b\n1,\"2\"x\n", 11, "q.csv", &t, &err), err, "q.csv:2:6: unexpected character 'x' after a closing quote");
  /* the column counts from the last line break, inside a multi-line field too */
  CHECK_FAILS_WITH(al_csv_parse("a,b\n\n\"x\ny\"z,1\n", 14, "m.csv", &t, &err), err, "m.csv:4:3: unexpected character 'z'");
  CHECK_FAILS_WITH(al_csv_parse("a,b\n1,2\"3\n", 10, "u.csv", &t, &err), err, "u.csv:2:4: a '\"' inside an unquoted field");
  CHECK_FAILS_WITH(al_csv_parse("a,b\r\n\r\n1,2\r\n3\r\n", 15, "c.csv", &t, &err), err, "c.csv:4: row has 1 fields");
  /* RFC 4180: spaces are part of a field */
  const char *sp = "a,b\n x , y \n";
  CHECK_OK(al_csv_parse(sp, strlen(sp), "s.csv", &t, &err), err);
  CHECK(t.n == 1 && !strcmp(col(&t, 0, "a"), " x ") && !strcmp(col(&t, 0, "b"), " y "), "spaces kept: '%s'",
        t.n ? col(&t, 0, "a") : "");
  al_table_free(&t);
  CHECK_FAILS_WITH(al_csv_parse("a,a\n1,2\n", 8, "d.csv", &t, &err), err, "appears twice");
  CHECK_FAILS_WITH(al_csv_parse("", 0, "z.csv", &t, &err), err, "empty file");
  CHECK_FAILS_WITH(al_csv_parse("a\n\xff\xfe\n", 5, "u.csv", &t, &err), err, "u.csv:2: column 'a' is not valid UTF-8");
}

static void test_jsonl(void) {
  al_err err;
  al_table t;
  const char *j = "{\"prompt\": \"p\", \"classes\": [\" a\", \" b\"], \"answer_index\": 1}\n\n{\"prompt\": \"q\"}\n";
  CHECK_OK(al_jsonl_parse(j, strlen(j), "t.jsonl", &t, &err), err);
  CHECK(t.n == 2 && t.lines[1] == 3, "n %d", t.n);
  al_table_free(&t);
  CHECK_FAILS_WITH(al_jsonl_parse("{}\n{\"a\": }\n", 11, "b.jsonl", &t, &err), err, "b.jsonl:2");
  CHECK_FAILS_WITH(al_jsonl_parse("{}\n[1]\n", 7, "c.jsonl", &t, &err), err, "c.jsonl:2: expected a JSON object");
  CHECK_OK(al_jsonl_parse("[{\"a\":1},{\"a\":2}]", 17, "arr.json", &t, &err), err);
  CHECK(t.n == 2, "array form");
  al_table_free(&t);
}

static void test_lists(void) {
  al_err err;
  char **it;
  int n;
  CHECK_OK(al_parse_str_list("[' yes', \" no\", 'it\\'s', \"a\\\"b\", '\\u00e9\\n',]", &it, &n, "x", &err), err);
  CHECK(n == 5, "n %d", n);
  if (n == 5) {
    CHECK(!strcmp(it[0], " yes") && !strcmp(it[1], " no"), "leading spaces kept");
    CHECK(!strcmp(it[2], "it's") && !strcmp(it[3], "a\"b"), "escapes: %s %s", it[2], it[3]);
    CHECK(!strcmp(it[4], "\xc3\xa9\n"), "unicode escape");
  }
  al_free_str_list(it, n);
  CHECK_OK(al_parse_str_list("[]", &it, &n, "x", &err), err);
  CHECK(n == 0, "empty list");
  al_free_str_list(it, n);
  CHECK_FAILS_WITH(al_parse_str_list("[' a', 'b", &it, &n, "w", &err), err, "unterminated");
  CHECK_FAILS_WITH(al_parse_str_list("' a'", &it, &n, "w", &err), err, "expected a list");
  CHECK_FAILS_WITH(al_parse_str_list("[' a' ' b']", &it, &n, "w", &err), err, "expected ',' or ']'");
  CHECK_FAILS_WITH(al_parse_str_list("['\\q']", &it, &n, "w", &err), err, "unknown escape");
  CHECK_FAILS_WITH(al_parse_str_list("[1, 2]", &it, &n, "w", &err), err, "quoted string");
  CHECK_FAILS_WITH(al_parse_str_list("['a'] x", &it, &n, "w", &err), err, "after the list");
}

static void write(const char *dir, const char *name, const char *text, char *path) {
  sprintf(path, "%s/%s", dir, name);
  al_err err;
  if (al_write_file_atomic(path, text, strlen(text), &err)) fprintf(stderr, "%s\n", err.msg);
}

static void test_tasks(const char *dir) {
  al_err err;
  al_task t;
  char p[1024], w[1200];
  write(dir, "cls.csv", "prompt,classes,answer_index\n\"Is it, or not?\",\"[' yes', ' no']\",1\nQ2,\"[\"\" a\"\",\"\" b\"\",\"\" c\"\"]\",2\n", p);
  CHECK_OK(al_task_load(&t, p, "auto", &err), err);
  CHECK(t.kind == AL_TASK_CLASSIFICATION && t.n == 2, "kind %d n %d", t.kind, t.n);
  if (t.n == 2) {
    CHECK(t.ex[0].nclasses == 2 && !strcmp(t.ex[0].classes[0], " yes") && t.ex[0].answer == 1, "row 1");
    CHECK(t.ex[1].nclasses == 3 && t.ex[1].answer == 2 && t.ex[1].line == 3, "row 2");
  }
  char sha[65];
  al_sha256_file(p, sha, &err);
  CHECK(!strcmp(sha, t.sha256), "task hash");
  al_task_free(&t);

  write(dir, "range.csv", "prompt,classes,answer_index\nA,\"[' a', ' b']\",0\n\"multi\nline\",\"[' a', ' b']\",2\n", p);
  snprintf(w, sizeof w, "%s:3: answer_index 2 is out of range", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, w);
  write(dir, "neg.jsonl", "{\"prompt\":\"a\",\"classes\":[\" a\",\" b\"],\"answer_index\":-1}\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "classification", &err), err, "neg.jsonl:1: answer_index -1 is out of range");
  write(dir, "miss.csv", "prompt,answer_index\nA,0\n", p);
  snprintf(w, sizeof w, "%s:2: column 'classes' is missing", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, w);
  write(dir, "miss2.jsonl", "{\"prompt\":\"a\",\"classes\":[\" a\",\" b\"],\"answer_index\":0}\n{\"classes\":[\" a\",\" b\"],\"answer_index\":0}\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, "miss2.jsonl:2: column 'prompt' is missing");
  write(dir, "notint.csv", "prompt,classes,answer_index\nA,\"[' a', ' b']\",one\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, "must be an integer");
  write(dir, "lo.jsonl", "{\"prompt\":\"a\",\"other_prompt\":\"b\",\"classes\":[\" a\",\" b\",\" c\"],\"answer_index\":0}\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, "exactly 2 classes");
  write(dir, "what.csv", "x,y\n1,2\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, "cannot tell the task format");
  CHECK_FAILS_WITH(al_task_load(&t, p, "nonsense", &err), err, "unknown task format");

  write(dir, "seq.jsonl", "{\"prompt\":\"The cat\",\"completion\":\" sat\"}\n", p);
  CHECK_OK(al_task_load(&t, p, "auto", &err), err);
  CHECK(t.kind == AL_TASK_SEQUENCE_PROB && !strcmp(t.ex[0].completion, " sat"), "sequence_prob");
  al_task_free(&t);
  write(dir, "gen.jsonl", "{\"prompt\":\"2+2=\",\"target\":\"4\",\"stop\":\"\\n\"}\n{\"prompt\":\"x\",\"targets\":[\"a\",\"b\"]}\n", p);
  CHECK_OK(al_task_load(&t, p, "auto", &err), err);
  CHECK(t.kind == AL_TASK_GENERATION && t.n == 2 && t.ex[0].ntargets == 1 && !strcmp(t.ex[0].stop, "\n") &&
            t.ex[1].ntargets == 2 && !strcmp(t.ex[1].targets[1], "b"),
        "generation");
  al_task_free(&t);
  write(dir, "celebs.csv", "child,parent,parent_type,child_prediction\nTom Cruise,Mary Lee Pfeiffer,mother,True\n", p);
  CHECK_OK(al_task_load(&t, p, "auto", &err), err);
  CHECK(!strcmp(t.format, "reversal") && t.n == 2 && t.kind == AL_TASK_CELEBRITY, "reversal: %s n %d", t.format, t.n);
  if (t.n == 2) {
    CHECK(strstr(t.ex[0].prompt, "Who is Tom Cruise's mother?") && !strcmp(t.ex[0].targets[0], "Mary Lee Pfeiffer"),
          "forward: %s", t.ex[0].prompt);
    CHECK(strstr(t.ex[1].prompt, "Name a child of Mary Lee Pfeiffer.") && !strcmp(t.ex[1].targets[0], "Tom Cruise"),
          "reverse: %s", t.ex[1].prompt);
    CHECK(t.ex[0].line == 2 && t.ex[1].line == 2, "lines");
  }
  al_task_free(&t);
  CHECK_OK(al_task_load(&t, p, "reversal-generation", &err), err); /* the earlier protocol, by name */
  CHECK(t.kind == AL_TASK_GENERATION && t.match == AL_MATCH_CONTAINS && t.n == 2 &&
            !strcmp(t.ex[1].prompt, "Q: Name a child of Mary Lee Pfeiffer.\nA:"),
        "reversal-generation: %s", t.n ? t.ex[1].prompt : "");
  al_task_free(&t);
  write(dir, "celebs2.csv", "child,parent,parent_type\nA,B,uncle\n", p);
  CHECK_FAILS_WITH(al_task_load(&t, p, "auto", &err), err, "celebs2.csv:2: parent_type must be");
  CHECK_FAILS_WITH(al_task_load(&t, "/nonexistent/x.csv", "auto", &err), err, "/nonexistent/x.csv");
}

/* Random mutations of valid files: the readers must fail cleanly or succeed,
 * never crash (ASan watches the rest). */
static void fuzz(void) {
  const char *seeds[] = {"prompt,classes,answer_index\n\"Q, a\n\"\"b\"\"\",\"[' a', \\\"b\\\"]\",1\r\nx,\"['\\\\u00e9']\",0\n",
                         "{\"prompt\":\"p\",\"classes\":\"[' a', ' b']\",\"answer_index\":1}\n{\"prompt\":\"q\"}\n"};
  const char alphabet[] = "\",\n\r'[]\\ax0{}:u";
  al_rng r;
  al_rng_seed(&r, 7);
  int ok = 0, fail = 0;
  for (int it = 0; it < 4000; it++) {
    const char *s = seeds[it & 1];
    size_t n = strlen(s);
    char buf[512];
    memcpy(buf, s, n + 1);
    int muts = 1 + (int)al_rng_below(&r, 4);
    for (int m = 0; m < muts; m++) {
      size_t at = al_rng_below(&r, n);
      int kind = (int)al_rng_below(&r, 3);
      if (kind == 0) buf[at] = alphabet[al_rng_below(&r, sizeof alphabet - 1)];
      else if (kind == 1 && n > 1) memmove(buf + at, buf + at + 1, n - at), n--;
      else if (n < sizeof buf - 2) memmove(buf + at + 1, buf + at, n - at + 1), buf[at] = alphabet[al_rng_below(&r, sizeof alphabet - 1)], n++;
    }
    n = strnlen(buf, n);
    al_table t;
    al_task task;
    al_err err;
    int rc = (it & 1) ? al_jsonl_parse(buf, n, "f", &t, &err) : al_csv_parse(buf, n, "f", &t, &err);
    if (!rc) {
      if (!al_task_from_table(&task, &t, "f", "auto", &err)) al_task_free(&task);
      for (int i = 0; i < t.n; i++) {
        const json_t *c = json_object_get(t.rows[i], "classes");
        char **items;
        int k;
        if (c && !al_json_str_list(c, &items, &k, "f", &err)) al_free_str_list(items, k);
      }
      al_table_free(&t);
      ok++;
    } else fail++;
  }
  CHECK(ok > 100 && fail > 100, "fuzz: %d parsed, %d rejected", ok, fail);
}

int main(void) {
  char *dir = test_tmpdir("eval_csv");
  test_csv();
  test_jsonl();
  test_lists();
  test_tasks(dir);
  fuzz();
  free(dir);
  return test_summary();
}

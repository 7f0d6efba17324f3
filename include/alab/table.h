/* Tables read unchanged from the papers' files (CSV, JSONL) and lists of
 * strings in them. Errors name the file and line. */
#ifndef ALAB_TABLE_H
#define ALAB_TABLE_H
#include <jansson.h>
#include "alab/base.h"

/* ---- tables: rows of a CSV or JSONL file ---- */
typedef struct {
  json_t **rows; /* one JSON object per row (CSV values are strings) */
  int *lines;    /* the line each row starts on (1-based) */
  int n;
} al_table;
/* RFC 4180 CSV (libcsv, strict): header row; fields separated by commas; a
 * quoted field may hold commas, doubled quotes ("") and line breaks; records
 * end in LF, CRLF or CR; spaces around fields are kept; a UTF-8 byte-order
 * mark and blank lines are skipped; a '"' inside an unquoted field is an
 * error. A syntax error names the file, line and column ("t.csv:3:7: ..."). */
int al_csv_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err);
int al_jsonl_parse(const char *text, size_t len, const char *where, al_table *t, al_err *err);
/* By extension: .csv -> CSV, .jsonl/.json -> JSONL (a .json file holding one
 * array of objects is accepted too). */
int al_table_load(const char *path, al_table *t, al_err *err);
void al_table_free(al_table *t);

/* A list of strings: a JSON array, or a string holding a JSON or
 * Python-style list ('...' or "..." items, backslash escapes). */
int al_parse_str_list(const char *s, char ***items, int *n, const char *where, al_err *err);
int al_json_str_list(const json_t *v, char ***items, int *n, const char *where, al_err *err);
void al_free_str_list(char **items, int n);
/* "a,b,,c" -> {"a", "b", "c"} (empty items dropped; at least one needed). */
int al_split_commas(const char *s, char ***items, int *n, const char *what, al_err *err);

#endif

/* The response cache on SQLite (see cache.h). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alab/sha256.h"
#include "provider/cache.h"

struct prov_cache {
  sqlite3 *db;
  sqlite3_stmt *get, *put;
  char *path;
};

static int db_fail(prov_cache *c, al_err *err, const char *what) {
  return al_fail(err, "response cache %s: %s: %s", c->path, what, sqlite3_errmsg(c->db));
}

int prov_cache_open(prov_cache **out, const char *path, al_err *err) {
  prov_cache *c = al_calloc(1, sizeof *c);
  c->path = al_strdup(path);
  *out = NULL;
  if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
    db_fail(c, err, "cannot open");
    prov_cache_close(c);
    return -1;
  }
  sqlite3_busy_timeout(c->db, 30000); /* another process writing: wait up to 30 s */
  /* WAL: readers never block the writer; synchronous=NORMAL in WAL mode
   * survives a killed process (not a power cut) without an fsync per answer */
  const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                      "CREATE TABLE IF NOT EXISTS responses(key BLOB PRIMARY KEY, endpoint TEXT, model TEXT,"
                      " response TEXT NOT NULL, created REAL);";
  /* Two processes creating the same cache at once: switching a new file to
   * WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY there without
   * calling the busy handler, so the setup is retried for the same 30 s. */
  int rc = sqlite3_exec(c->db, setup, NULL, NULL, NULL);
  for (double t0 = al_now(); (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && al_now() - t0 < 30;) {
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    rc = sqlite3_exec(c->db, setup, NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK ||
      sqlite3_prepare_v2(c->db, "SELECT response FROM responses WHERE key = ?1", -1, &c->get, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO responses VALUES (?1, ?2, ?3, ?4, ?5)", -1, &c->put, NULL) !=
          SQLITE_OK) {
    db_fail(c, err, "not a response cache (or unreadable)");
    prov_cache_close(c);
    return -1;
  }
  *out = c;
  return 0;
}

void prov_cache_close(prov_cache *c) {
  if (!c) return;
  sqlite3_finalize(c->get);
  sqlite3_finalize(c->put);
  sqlite3_close(c->db);
  free(c->path);
  free(c);
}

void prov_cache_key(const char *url, const char *model, const char *body, uint8_t key[32]) {
  size_t a = strlen(url) + 1, b = strlen(model) + 1, n = strlen(body);
  char *s = al_malloc(a + b + n);
  memcpy(s, url, a);
  memcpy(s + a, model, b);
  memcpy(s + a + b, body, n);
  al_sha256(s, a + b + n, key);
  free(s);
}

int prov_cache_get(prov_cache *c, const uint8_t key[32], char **resp, al_err *err) {
  sqlite3_reset(c->get);
  sqlite3_bind_blob(c->get, 1, key, 32, SQLITE_STATIC);
  int rc = sqlite3_step(c->get);
  if (rc == SQLITE_ROW) {
    *resp = al_strdup((const char *)sqlite3_column_text(c->get, 0));
    sqlite3_reset(c->get);
    return 1;
  }
  sqlite3_reset(c->get);
  return rc == SQLITE_DONE ? 0 : db_fail(c, err, "lookup failed");
}

int prov_cache_put(prov_cache *c, const uint8_t key[32], const char *endpoint, const char *model, const char *resp,
                   al_err *err) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  sqlite3_reset(c->put);
  sqlite3_bind_blob(c->put, 1, key, 32, SQLITE_STATIC);
  sqlite3_bind_text(c->put, 2, endpoint, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->put, 3, model, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->put, 4, resp, -1, SQLITE_STATIC);
  sqlite3_bind_double(c->put, 5, (double)ts.tv_sec + ts.tv_nsec * 1e-9);
  int rc = sqlite3_step(c->put);
  sqlite3_reset(c->put);
  return rc == SQLITE_DONE ? 0 : db_fail(c, err, "cannot store an answer");
}

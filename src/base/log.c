/* Logging and progress: a bar with rate and ETA on a terminal, plain lines
 * every 5 seconds otherwise (CI logs, pipes). All output goes to stderr. */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "alab/base.h"

int al_quiet = 0;
static _Thread_local int muted;

int al_log_mute(int on) {
  int was = muted;
  muted = on != 0;
  return was;
}

int al_log_muted(void) { return al_quiet || muted; }

void al_log(const char *fmt, ...) {
  if (al_log_muted()) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

double al_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void al_progress_start(al_progress *p, const char *label, uint64_t total, const char *unit) {
  memset(p, 0, sizeof *p);
  p->label = label;
  p->unit = unit;
  p->total = total;
  p->t0 = p->last_print = al_now();
  p->tty = isatty(2);
}

static void fmt_secs(char *out, size_t n, double s) {
  if (s < 0 || s > 1e7) snprintf(out, n, "?");
  else if (s < 60) snprintf(out, n, "%.0fs", s);
  else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void progress_print(al_progress *p, int final) {
  double el = al_now() - p->t0;
  double rate = el > 0 ? p->done / el : 0;
  char eta[32], ela[32];
  fmt_secs(eta, sizeof eta, rate > 0 ? (p->total - p->done) / rate : -1);
  fmt_secs(ela, sizeof ela, el);
  if (p->tty) {
    int width = 24, fill = p->total ? (int)(width * (double)p->done / p->total) : 0;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r%s [%s] %llu/%llu %.1f %s/s %s %s %s\033[K", p->label, bar, (unsigned long long)p->done,
            (unsigned long long)p->total, rate, p->unit, final ? "in" : "eta", final ? ela : eta, p->extra);
    if (final) fputc('\n', stderr);
  } else {
    fprintf(stderr, "%s: %llu/%llu %s, %.1f %s/s, %s %s %s\n", p->label, (unsigned long long)p->done,
            (unsigned long long)p->total, p->unit, rate, p->unit, final ? "took" : "eta", final ? ela : eta, p->extra);
  }
  fflush(stderr);
}

void al_progress_update(al_progress *p, uint64_t done) {
  p->done = done;
  if (al_log_muted()) return;
  double t = al_now();
  if (t - p->last_print < (p->tty ? 0.2 : 5.0)) return;
  p->last_print = t;
  progress_print(p, 0);
}

void al_progress_finish(al_progress *p) {
  if (al_log_muted()) return;
  progress_print(p, 1);
}

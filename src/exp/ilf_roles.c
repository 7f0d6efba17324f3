/* The roles of the ILF loops through providers (`alab ilf summaries`,
 * `alab ilf code`): each role is an alab model directory or an
 * OpenAI-compatible endpoint; a policy given as a directory is finetuned on
 * the kept refinements (ilf_internal.h). */
#include <stdlib.h>
#include <string.h>
#include "exp/ilf_internal.h"

int ilf_is_url(const char *s) { return s && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)); }

int ilf_open_role(const al_http_cfg *http, int threads, const char *role, const char *spec, al_provider **out, al_err *err) {
  *out = NULL;
  if (!spec) return 0;
  int rc;
  if (ilf_is_url(spec)) { /* URL#MODEL names the model; else the shared setting */
    al_http_cfg h = *http;
    char url[2048];
    snprintf(url, sizeof url, "%s", spec);
    char *hash = strchr(url, '#');
    if (hash) *hash = 0, h.model = hash + 1;
    if (!h.model || !h.model[0]) return al_fail(err, "--%s %s: no model name (write URL#MODEL, or give --api-model)", role, spec);
    h.base_url = url;
    rc = al_provider_http(out, &h, err);
  } else {
    al_local_cfg lc = al_local_cfg_default();
    lc.threads = threads;
    rc = al_provider_local(out, spec, &lc, err);
  }
  return rc ? al_fail_prefix(err, "--%s %s", role, spec) : 0;
}

json_t *ilf_roles_http_json(al_provider *const *each, const char *const *names, int n) {
  json_t *http = json_object();
  for (int i = 0; i < n; i++) {
    al_http_stats st;
    if (each[i] && !al_provider_http_stats(each[i], &st))
      json_object_set_new(http, names[i], json_pack("{s:I, s:I, s:I, s:I}", "requests", (json_int_t)st.requests, "retries",
                                                    (json_int_t)st.retries, "failures", (json_int_t)st.failures,
                                                    "cache_hits", (json_int_t)st.cache_hits));
  }
  return http;
}

int ilf_roles_finish(al_run *run, int rc, json_t *res, json_t *head, json_t *roles, al_provider *const *each,
                     const char *const *names, int n, double t0, al_err *err) {
  if (!rc) {
    json_object_set_new(res, "roles", roles), roles = NULL;
    json_object_set_new(res, "http", ilf_roles_http_json(each, names, n));
    json_object_set_new(res, "seconds", json_real(al_now() - t0));
    json_object_set_new(res, "headline", head), head = NULL;
    rc = al_run_save_json(run, "results.json", res, err);
  }
  json_decref(res), json_decref(head), json_decref(roles);
  if (rc) return al_run_abort(run), -1;
  return al_run_close(run, err);
}

int ilf_finetune_role(const char *policy_dir, const char *keep, long steps, double lr, int batch, uint64_t seed,
                      int threads, const char *dir, ilf_tuned *t, al_err *err) {
  memset(t, 0, sizeof *t);
  char *out = al_path_join(dir, "policy_ilf");
  al_local_cfg lc = al_local_cfg_default();
  lc.threads = threads;
  int rc = al_model_load_dir_tok(&t->m, &t->tok, policy_dir, err) ||
           ilf_sft(&t->m, t->tok, keep, "the kept refinements", t->m.cfg.n_positions, steps, lr, batch, seed, err) ||
           al_model_save_dir(&t->m, t->tok, out, err) || al_provider_local_wrap(&t->p, &t->m, t->tok, "policy_ilf", &lc, err);
  free(out);
  return rc ? -1 : 0;
}

void ilf_tuned_free(ilf_tuned *t) {
  al_provider_free(t->p), al_model_free(&t->m), al_tok_free(t->tok);
  memset(t, 0, sizeof *t);
}

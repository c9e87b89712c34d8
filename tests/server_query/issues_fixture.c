/* The issue tests' shared fixture (issues_fixture.h). */
#include "issues_fixture.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "hud/codec.h"
#include "synth.h"
#include "synth_batch.h"

void isf_ingest(int port, const char *key, const char *service, const char *version, double slow, uint64_t seed,
                const char *batch_id, hud_time_ns ts) {
  isf_ingest_on_host(port, key, service, version, slow, 1.0, 1.0, seed, batch_id, ts);
}

void isf_ingest_on_host(int port, const char *key, const char *service, const char *version, double slow,
                        double host, double wait, uint64_t seed, const char *batch_id, hud_time_ns ts) {
  double factor = (slow > 0 ? slow : 1.0) * pow(host, wait - 1.0);
  synth_change ch[] = {{.qualname = "fetch_order", .self_factor = factor, .raise_prob = -1}};
  synth_params p = {.seed = seed, .invocations = ISF_INV, .sample_rate = 1.0, .drift = host,
                    .changes = factor != 1.0 ? ch : NULL, .n_changes = factor != 1.0 ? 1 : 0};
  synth_out o;
  assert_int_equal(synth_run(&p, version, &o), 0);
  hud_arena *a = hud_arena_new();
  hud_batch b;
  char *json = NULL;
  size_t len = 0;
  hud_codec_error e;
  assert_int_equal(synth_batch(&o, version, batch_id, ts, a, &b), 0);
  b.service = service;
  /* A history of deploys that changed the function teaches detection nothing about its drift. */
  for (size_t i = 0; slow > 0 && i < b.n_declarations; i++)
    if (strcmp(b.declarations[i].name, "fetch_order") == 0) b.declarations[i].source_code_hash[0] = (char)('a' + (int)slow);
  assert_int_equal(hud_batch_encode(&b, &json, &len, &e), 0);
  assert_int_equal(srvh_ingest_json(port, key, json, len), 0);
  free(json);
  hud_arena_free(a);
  synth_out_free(&o);
}

hud_issue isf_get(hud_arena *a, int port, const char *key, const char *issue_id, long want) {
  char path[256];
  snprintf(path, sizeof path, "/v1/issues/%s?service=shop&env=prod", issue_id);
  srvh_resp r;
  assert_int_equal(srvh_request(port, "GET", path, key, NULL, 0, NULL, &r), 0);
  if (r.status != want) fail_msg("GET %s: %ld %s", path, r.status, r.body);
  hud_issue out = {0};
  hud_codec_error e;
  if (want == 200 && hud_issue_decode(r.body, r.len, NULL, a, &out, &e) != 0) fail_msg("%s: %s", e.message, r.body);
  srvh_resp_free(&r);
  return out;
}

int isf_history_has(const hud_issue *is, const char *event) {
  int n = 0;
  for (size_t i = 0; i < is->n_history; i++) n += strcmp(is->history[i].event, event) == 0;
  return n;
}

const char *isf_history_note(const hud_issue *is, const char *event) {
  for (size_t i = is->n_history; i-- > 0;)
    if (strcmp(is->history[i].event, event) == 0) return is->history[i].note ? is->history[i].note : "";
  return NULL;
}

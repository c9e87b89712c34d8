/* Drift learned from a service's history, end to end: the real hud-server's detection runner reads a
 * service's past versions from the store and learns how each function follows the host. The
 * synthetic shop's fetch_order waits (it slows as host^4 while every other function slows as the
 * host). Without history a busy host is a false issue on it (service "cold"); with seven earlier
 * versions on hosts that came and went, the same busy pair raises nothing (service "warm"), and a
 * real slowdown of fetch_order is still found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "issues_fixture.h"
#include "synth.h"

#define NS 1000000000LL
#define WAIT_MS 40000
#define WAIT_POW 4.0 /* fetch_order slows as host^4 */

typedef struct fixture {
  srvh h;
  char key[128];
  hud_time_ns base;
  int batches;
} fixture;

static fixture *g;

static void ingest(const char *service, const char *version, double host, double slow) {
  char id[HUD_UUID_STRLEN + 1];
  snprintf(id, sizeof id, "5d2e7c1a-9b3f-4e8d-a1c6-2f7b9e4d%04d", g->batches);
  isf_ingest_on_host(g->h.port, g->key, service, version, slow, host, WAIT_POW, 11 + 1000 * (uint64_t)g->batches, id,
                     g->base + (hud_time_ns)g->batches * 300 * NS);
  g->batches++;
}

/* The stored issues of SERVICE (decoded into A). */
static hud_issues_response list(hud_arena *a, const char *service) {
  char path[256];
  snprintf(path, sizeof path, "/v1/issues?service=%s&env=prod", service);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", path, g->key, NULL, 0, NULL, &r), 0);
  if (r.status != 200) fail_msg("GET %s: %ld %s", path, r.status, r.body);
  hud_issues_response out;
  hud_codec_error e;
  if (hud_issues_response_decode(r.body, r.len, NULL, a, &out, &e) != 0) fail_msg("%s: %s", e.message, r.body);
  srvh_resp_free(&r);
  return out;
}

static double metric(const char *name) {
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  char needle[128];
  snprintf(needle, sizeof needle, "\n%s ", name);
  const char *p = strstr(r.body, needle);
  double v = p ? atof(p + strlen(needle)) : -1;
  srvh_resp_free(&r);
  return v;
}

/* Waits until detection looked at everything ingested since PASSES (the pass count then): a pass
 * after the data's fold, then none for 1.5 s (bounded). */
static void settle(double passes) {
  int ms = 0;
  for (; ms < WAIT_MS && metric("hud_detect_passes_total") <= passes; ms += 100) usleep(100 * 1000);
  for (double last = -1, now; ms < WAIT_MS && (now = metric("hud_detect_passes_total")) != last; ms += 1500) {
    last = now;
    usleep(1500 * 1000);
  }
}

static const hud_issue *on_fetch_order(const hud_issues_response *r) {
  const char *id = synth_fns()[synth_fn_index("fetch_order")].id;
  for (size_t i = 0; i < r->n_issues; i++)
    for (size_t k = 0; k < r->issues[i].n_root_causes; k++)
      if (strcmp(r->issues[i].root_causes[k].function_id, id) == 0) return &r->issues[i];
  return NULL;
}

static int setup(void **state) {
  g = calloc(1, sizeof *g);
  if (!g || srvh_tmpdir(&g->h) < 0) return -1;
  const char *extra[] = {"--detect-interval", "200ms", "--fold-every", "1s", "--resolve-after", "0",
                         "--alert-confirm", "0", "--alert-cooldown", "0", NULL};
  if (srvh_start(&g->h, extra) < 0 || srvh_key(&g->h, "prod", g->key) < 0) return -1;
  g->base = ((hud_time_ns)time(NULL) / 60 * 60 - 3 * 3600) * NS; /* versions 5 minutes apart, all older than 15 min */
  *state = g;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (g->h.pid) srvh_stop(&g->h, 15);
  srvh_cleanup(&g->h);
  free(g);
  return 0;
}

/* No history: an idle host, then a busy one (x1.4): fetch_order's wait (x3.8) is a false issue. */
static void cold_service_false_issue(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  ingest("cold", "v1", 1.0, 0);
  ingest("cold", "v2", 1.4, 0);
  hud_issues_response r = {0};
  for (int ms = 0; ms < WAIT_MS && !on_fetch_order(&r); ms += 200) {
    usleep(200 * 1000);
    r = list(a, "cold");
  }
  const hud_issue *is = on_fetch_order(&r);
  if (!is) fail_msg("no issue on fetch_order without history: the scenario does not discriminate");
  fprintf(stderr, "without history: %s (host shift %+.0f%%)\n", is->headline, is->host_shift_pct);
  hud_arena_free(a);
}

/* Seven versions on hosts that came and went, then the same busy pair: nothing; then a real x3. */
static void warm_service_learned(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  static const double hosts[] = {1.0, 1.4, 1.0, 1.0, 1.4, 1.4, 1.0, 1.4};
  char v[16];
  double passes = metric("hud_detect_passes_total");
  for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
    snprintf(v, sizeof v, "v%zu", i + 1);
    ingest("warm", v, hosts[i], 0);
  }
  settle(passes);
  hud_issues_response r = list(a, "warm");
  const hud_issue *is = on_fetch_order(&r);
  if (is) fail_msg("false issue despite the history: %s (host shift %+.0f%%)", is->headline, is->host_shift_pct);
  fprintf(stderr, "with history: %zu issue(s) on the busy pair v7 -> v8\n", r.n_issues);
  ingest("warm", "v9", 1.4, 3.0); /* the same host, fetch_order three times slower: a real change */
  for (int ms = 0; ms < WAIT_MS && !on_fetch_order(&r); ms += 200) {
    usleep(200 * 1000);
    r = list(a, "warm");
  }
  is = on_fetch_order(&r);
  if (!is) fail_msg("a real x3 on fetch_order was not found with the history");
  fprintf(stderr, "real change: %s (host shift %+.0f%%, drift allowance %.0f%%)\n", is->headline, is->host_shift_pct,
          is->drift_pct);
  assert_true(is->host_shift_pct < 5); /* v8 -> v9: the same busy host, nothing to take off */
  hud_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(cold_service_false_issue), cmocka_unit_test(warm_service_learned)};
  return cmocka_run_group_tests(tests, setup, teardown);
}

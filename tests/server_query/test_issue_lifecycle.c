/* The issue lifecycle's settle times against the real hud-server on loopback (real SQLite file, a
 * webhook receiver): a slowdown is alerted only once passes found it over --alert-confirm, a slowdown
 * again in a newer version of an open issue is a regression of its own (event and alert), a fix
 * resolves the issue only after no pass found it for --resolve-after, and a reopen within
 * --alert-cooldown of the last alert is stored but not alerted, across a restart of the server
 * (alert_confirm comes from the config file; the flag --alert-cooldown wins over the file's key).
 * Versions of the synthetic service are ingested slice after slice (one minute apart, all older than
 * an hour: no canary, no windows comparison); each ingest wakes one pass. */
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
#include "httpd_fixture.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "issues_fixture.h"

#define NS 1000000000LL
#define WAIT_MS 40000
#define CONFIRM_S 3
#define RESOLVE_S 8

typedef struct fixture {
  srvh h;
  httpd *hook;
  char key[128];
  hud_time_ns base;
  int batches;
  char issue_id[HUD_UUID_STRLEN + 1];
  hud_time_ns alerted; /* wall time of the last alert seen */
} fixture;

static fixture *g;

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One slice of VERSION (fetch_order SLOW times slower when SLOW > 0), a minute after the previous one. */
static void ingest(const char *version, double slow) {
  char id[HUD_UUID_STRLEN + 1];
  snprintf(id, sizeof id, "7c1e9b64-4d2f-4a6a-8e7f-1b5a7a2f%04d", g->batches);
  isf_ingest(g->h.port, g->key, "shop", version, slow, 7 + 1000 * (uint64_t)g->batches, id,
             g->base + (hud_time_ns)g->batches * 60 * NS);
  g->batches++;
}

static hud_issue one(hud_arena *a) { return isf_get(a, g->h.port, g->key, g->issue_id, 200); }

static size_t hooks(void) { return httpd_request_count(g->hook); }

/* Ingests a slice of VERSION every second until the webhook has WANT requests (bounded); the time of
 * the last. */
static void feed_until_alerts(const char *version, double slow, size_t want) {
  for (int s = 0; s < WAIT_MS / 1000 && hooks() < want; s++) {
    ingest(version, slow);
    for (int ms = 0; ms < 1000 && hooks() < want; ms += 50) usleep(50 * 1000);
  }
  if (hooks() < want) fail_msg("%zu alert(s), expected %zu", hooks(), want);
  g->alerted = (hud_time_ns)(wall() * 1e9);
}

/* Ingests a slice of VERSION every second for SECONDS: passes that find what that version shows. */
static void feed(const char *version, double slow, int seconds) {
  for (int s = 0; s < seconds; s++) {
    ingest(version, slow);
    usleep(1000 * 1000);
  }
}

/* The confirmation comes from the config file's [server] section, the other settle times from flags. */
static int start(void) {
  char spec[256], cfg[600];
  snprintf(spec, sizeof spec, "prod=%s/hook", httpd_url(g->hook));
  snprintf(cfg, sizeof cfg, "%s/config", g->h.dir);
  FILE *f = fopen(cfg, "w");
  if (!f) return -1;
  fprintf(f, "[server]\nalert_confirm = %ds\nalert_cooldown = 0\n", CONFIRM_S);
  fclose(f);
  const char *extra[] = {"--detect-interval", "200ms", "--fold-every", "1s", "--webhook", spec, "--config", cfg,
                         "--resolve-after", "8s", "--alert-cooldown", "1h", NULL};
  return srvh_start(&g->h, extra);
}

static int setup(void **state) {
  g = calloc(1, sizeof *g);
  g->hook = httpd_start();
  if (!g->hook || srvh_tmpdir(&g->h) < 0) return -1;
  httpd_route_simple(g->hook, "POST", "/hook", 200, "{}");
  if (start() < 0 || srvh_key(&g->h, "prod", g->key) < 0) return -1;
  g->base = ((hud_time_ns)time(NULL) / 60 * 60 - 3 * 3600) * NS;
  *state = g;
  return 0;
}

static int teardown(void **state) {
  if (g->h.pid) srvh_stop(&g->h, 15);
  srvh_cleanup(&g->h);
  httpd_stop(g->hook);
  free(g);
  return 0;
}

/* v1, then v2 with the slowdown: opened at the first pass that finds it, alerted only once later
 * passes found it over --alert-confirm. */
static void alerted_once_confirmed(void **state) {
  hud_arena *a = hud_arena_new();
  ingest("v1", 0);
  ingest("v2", 2.0);
  for (int ms = 0; ms < WAIT_MS && !g->issue_id[0]; ms += 100) {
    usleep(100 * 1000);
    srvh_resp r;
    assert_int_equal(srvh_request(g->h.port, "GET", "/v1/issues?service=shop&env=prod", g->key, NULL, 0, NULL, &r), 0);
    hud_issues_response l;
    hud_codec_error e;
    if (hud_issues_response_decode(r.body, r.len, NULL, a, &l, &e) != 0) fail_msg("%s", e.message);
    if (l.n_issues == 1) snprintf(g->issue_id, sizeof g->issue_id, "%s", l.issues[0].issue_id);
    srvh_resp_free(&r);
  }
  assert_true(g->issue_id[0]);
  hud_issue is = one(a);
  assert_string_equal(is.status, "open");
  usleep(1500 * 1000); /* an alert at first detection would have arrived */
  assert_int_equal(hooks(), 0);
  feed_until_alerts("v2", 2.0, 1);
  double after = (double)(g->alerted - is.first_seen) / 1e9;
  fprintf(stderr, "alerted %.1f s after the first detection (confirm %d s)\n", after, CONFIRM_S);
  assert_true(after >= CONFIRM_S);
  assert_non_null(strstr((const char *)httpd_request_at(g->hook, 0)->body, "issue.opened"));
  /* Found again: no second alert. */
  feed("v2", 2.0, 2);
  assert_int_equal(hooks(), 1);
  assert_int_equal(isf_history_has(&is, "opened"), 1);
  hud_arena_free(a);
}

/* v3 twice as slow again while the issue is open: a regression of its own, alerted (once confirmed). */
static void regressed_in_a_newer_version(void **state) {
  hud_arena *a = hud_arena_new();
  feed_until_alerts("v3", 4.0, 2);
  hud_issue is = one(a);
  assert_string_equal(is.status, "open");
  assert_string_equal(is.baseline.version, "v2");
  assert_string_equal(is.current.version, "v3");
  assert_int_equal(isf_history_has(&is, "regressed"), 1);
  assert_non_null(strstr(isf_history_note(&is, "regressed"), "regressed again in v3"));
  assert_non_null(strstr((const char *)httpd_request_at(g->hook, 1)->body, "issue.regressed"));
  hud_arena_free(a);
}

/* v4 fixes it: still open while passes have not missed it for --resolve-after, then resolved once. */
static void resolved_after_settling(void **state) {
  hud_arena *a = hud_arena_new();
  /* A pass that runs before v4's first slice is folded (--fold-every) still sees v3 as the newest
   * version and finds the issue: the passes after it, on v4, must not. */
  feed("v4", 0, 2);
  hud_time_ns seen = one(a).last_seen;
  feed("v4", 0, 2);
  hud_issue is = one(a);
  assert_true(is.last_seen == seen); /* not found by the v4 passes */
  assert_string_equal(is.status, "open");
  for (int s = 0; s < WAIT_MS / 1000 && strcmp(is.status, "open") == 0; s++) {
    feed("v4", 0, 1);
    is = one(a);
  }
  assert_string_equal(is.status, "resolved");
  double settled = (double)(is.status_changed_at - seen) / 1e9;
  fprintf(stderr, "resolved %.1f s after the last pass that found it (resolve-after %d s)\n", settled, RESOLVE_S);
  assert_true(settled >= RESOLVE_S);
  feed("v4", 0, 2);
  is = one(a);
  assert_int_equal(isf_history_has(&is, "resolved"), 1);
  assert_int_equal(hooks(), 2);
  hud_arena_free(a);
}

/* After a restart, v5 breaks it again within the cooldown of the last alert: reopened in the history,
 * not alerted. */
static void reopen_in_cooldown_not_alerted(void **state) {
  hud_arena *a = hud_arena_new();
  assert_int_equal(srvh_stop(&g->h, 15), 0);
  assert_int_equal(start(), 0);
  feed("v5", 2.0, CONFIRM_S + 3);
  usleep(1500 * 1000); /* an alert decided by the last pass would have arrived */
  hud_issue is = one(a);
  assert_string_equal(is.status, "open");
  assert_int_equal(is.times_reopened, 1);
  assert_int_equal(hooks(), 2);
  assert_int_equal(isf_history_has(&is, "reopened"), 1);
  assert_non_null(strstr(isf_history_note(&is, "reopened"), "cooldown"));
  hud_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(alerted_once_confirmed),
      cmocka_unit_test(regressed_in_a_newer_version),
      cmocka_unit_test(resolved_after_settling),
      cmocka_unit_test(reopen_in_cooldown_not_alerted),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

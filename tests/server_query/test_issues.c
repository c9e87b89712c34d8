/* The issue lifecycle against the real hud-server on loopback with a real SQLite file and a webhook
 * receiver: versions of the synthetic service are ingested over HTTP one after the other and the
 * detection runner (woken by the folds, never by a query) opens, resolves and reopens the issue of
 * a planted slowdown (fetch_order twice as slow). Queries only read: polling GET /v1/issues is how
 * the test waits, and a GET leaves the database files unchanged. Two versions serving side by side
 * are compared as a canary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "httpd_fixture.h"
#include "hud/codec.h"
#include "hud/identity.h"
#include "issues_fixture.h"
#include "synth.h"

#define NS 1000000000LL
#define WAIT_MS 40000 /* a fold (1 s) and a pass (debounce 200 ms) take ~1.5 s; bounded well above */

typedef struct fixture {
  srvh h;
  httpd *hook;
  char key[128];    /* ingest, read */
  char triage[128]; /* triage */
  char reader[128]; /* read only */
  hud_time_ns base;
  int batches;
  char issue_id[HUD_UUID_STRLEN + 1];
} fixture;

static fixture *g;

static const char *fid(const char *qualname) { return synth_fns()[synth_fn_index(qualname)].id; }

static void ingest_at(const char *service, const char *version, double slow, hud_time_ns ts);

/* Simulates version VERSION (fetch_order SLOW times slower when SLOW > 0) and ingests it as one
 * slice, five minutes after the previous version's. */
static void ingest_version(const char *version, double slow) {
  ingest_at("shop", version, slow, g->base + (hud_time_ns)g->batches * 300 * NS);
}

static void ingest_at(const char *service, const char *version, double slow, hud_time_ns ts) {
  char id[HUD_UUID_STRLEN + 1];
  snprintf(id, sizeof id, "6b0f8a53-3c1e-4c59-9d6e-0a4f6f1e%04d", g->batches);
  isf_ingest(g->h.port, g->key, service, version, slow, 1 + 1000 * (uint64_t)g->batches, id, ts);
  g->batches++;
}

/* GET PATH; the decoded issues list in A. */
static hud_issues_response list(hud_arena *a, const char *status) {
  char path[256];
  snprintf(path, sizeof path, "/v1/issues?service=shop&env=prod%s%s", status ? "&status=" : "", status ? status : "");
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", path, g->reader, NULL, 0, NULL, &r), 0);
  if (r.status != 200) fail_msg("GET %s: %ld %s", path, r.status, r.body);
  hud_issues_response out;
  hud_codec_error e;
  if (hud_issues_response_decode(r.body, r.len, NULL, a, &out, &e) != 0) fail_msg("%s: %s", e.message, r.body);
  srvh_resp_free(&r);
  return out;
}

static hud_issue one(hud_arena *a, const char *key, long want) {
  return isf_get(a, g->h.port, key, g->issue_id, want);
}

static long set_status(const char *key, const char *status, const char *note) {
  char path[256], body[256];
  snprintf(path, sizeof path, "/v1/issues/%s/status?service=shop&env=prod", g->issue_id);
  snprintf(body, sizeof body, "{\"status\":\"%s\",\"note\":\"%s\"}", status, note);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "POST", path, key, body, strlen(body), NULL, &r), 0);
  long st = r.status;
  if (st != 200 && st != 403 && st != 400 && st != 404) fprintf(stderr, "POST %s: %ld %s\n", path, st, r.body);
  srvh_resp_free(&r);
  return st;
}

/* Polls the issue until its status is WANT (bounded); returns it. */
static hud_issue wait_status(hud_arena *a, const char *want) {
  hud_issue is = {0};
  for (int ms = 0; ms < WAIT_MS; ms += 100) {
    is = one(a, g->reader, 200);
    if (strcmp(is.status, want) == 0) return is;
    usleep(100 * 1000);
  }
  fail_msg("issue %s stayed %s, expected %s", g->issue_id, is.status, want);
  return is;
}

static size_t hooks(void) {
  size_t n = 0;
  for (size_t i = 0; i < httpd_request_count(g->hook); i++)
    n += strcmp(httpd_request_at(g->hook, i)->path, "/hook") == 0;
  return n;
}

/* The database file and its WAL, byte for byte. */
static char *files_snapshot(size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *out = open_memstream(&buf, &n);
  const char *suffix[] = {"", "-wal"};
  for (int k = 0; k < 2; k++) {
    char path[600];
    snprintf(path, sizeof path, "%s%s", g->h.db, suffix[k]);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, r, out);
    fclose(f);
  }
  fclose(out);
  *len = n;
  return buf;
}

static int setup(void **state) {
  g = calloc(1, sizeof *g);
  g->hook = httpd_start();
  if (!g->hook || srvh_tmpdir(&g->h) < 0) return -1;
  httpd_route_simple(g->hook, "POST", "/hook", 200, "{}");
  char spec[256];
  snprintf(spec, sizeof spec, "prod=%s/hook", httpd_url(g->hook));
  /* Every pass decides at once here: the settle times have their own test (test_issue_lifecycle). */
  const char *extra[] = {"--detect-interval", "200ms", "--fold-every", "1s", "--webhook", spec,
                         "--public-url", "https://hud.example.com/", "--resolve-after", "0", "--alert-confirm", "0",
                         "--alert-cooldown", "0", NULL};
  if (srvh_start(&g->h, extra) < 0) return -1;
  if (srvh_key(&g->h, "prod", g->key) < 0 || srvh_key_roles(&g->h, "prod", "triage", g->triage) < 0 ||
      srvh_key_roles(&g->h, "prod", "read", g->reader) < 0)
    return -1;
  time_t now = time(NULL);
  g->base = ((hud_time_ns)now / 60 * 60 - 3600) * NS; /* versions 5 minutes apart, all older than 15 min */
  srvh_fresh_reads = false; /* GETs read what is stored, as editors do */
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

/* v1, then v2 with the slowdown: one issue appears without any query asking for detection. */
static void opened_by_the_runner(void **state) {
  hud_arena *a = hud_arena_new();
  ingest_version("v1", 0);
  ingest_version("v2", 2.0);
  hud_issues_response r = {0};
  for (int ms = 0; ms < WAIT_MS && r.n_issues == 0; ms += 100) {
    usleep(100 * 1000);
    r = list(a, NULL);
  }
  if (r.n_issues != 1) {
    for (size_t i = 0; i < r.n_issues; i++) fprintf(stderr, "issue: %s\n", r.issues[i].headline);
    fail_msg("expected exactly one issue, got %zu", r.n_issues);
  }
  const hud_issue *is = &r.issues[0];
  snprintf(g->issue_id, sizeof g->issue_id, "%s", is->issue_id);
  fprintf(stderr, "headline: %s\n", is->headline);
  assert_string_equal(is->status, "open");
  assert_int_equal(is->kind, HUD_ISSUE_DURATION_REGRESSION);
  assert_int_equal(is->comparison, HUD_COMPARE_VERSIONS);
  assert_string_equal(is->subject_id, fid("fetch_order"));
  assert_non_null(strstr(is->headline, "fetch_order"));
  assert_non_null(strstr(is->headline, "(v1 \u2192 v2)"));
  assert_string_equal(is->baseline.version, "v1");
  assert_string_equal(is->current.version, "v2");
  /* Each side's own span: its one slice. */
  assert_true(is->baseline.from == g->base && is->baseline.to == g->base + 60 * NS);
  assert_true(is->current.from == g->base + 300 * NS && is->current.to == g->base + 360 * NS);
  assert_true(is->p_value > 0 && is->p_text != NULL);
  assert_true(is->effect_pct <= 10000);
  assert_true(is->first_seen > 0 && is->detected_at == is->first_seen && is->last_seen >= is->first_seen);
  assert_true(is->n_affected_flows >= 1);
  char want[200];
  snprintf(want, sizeof want, "vscode://hud-dev.hud/function?id=%s&issue=%s", fid("fetch_order"), is->issue_id);
  assert_string_equal(is->links.vscode, want);
  snprintf(want, sizeof want, "https://hud.example.com/v1/issues/%s?env=prod&service=shop", is->issue_id);
  assert_string_equal(is->links.api, want);
  assert_non_null(strstr(is->links.tui, "--issue"));
  /* first_seen is stable across queries. */
  hud_time_ns first = is->first_seen;
  usleep(1200 * 1000);
  hud_issues_response again = list(a, NULL);
  assert_int_equal(again.n_issues, 1);
  assert_true(again.issues[0].first_seen == first);
  /* One alert, for the opening. */
  assert_int_equal(httpd_wait_requests(g->hook, 1, 10000) >= 1, 1);
  assert_int_equal(hooks(), 1);
  /* The alert names the issue, its headline and the links to the root cause. */
  const httpd_request *hr = httpd_request_at(g->hook, 0);
  assert_non_null(strstr((const char *)hr->body, is->issue_id));
  assert_non_null(strstr((const char *)hr->body, "fetch_order self time"));
  assert_non_null(strstr((const char *)hr->body, "vscode://hud-dev.hud/function?id="));
  assert_non_null(strstr((const char *)hr->body, "issue.opened"));
  hud_arena_free(a);
}

/* Queries never write: the database files are the same bytes after a series of GETs of every query
 * route. A service with data 30 hours old (an hour whose aggregates no detection pass builds: its
 * window reaches back 25 hours) would be built by a query that read through the hourly path. */
static void query_routes(const char *from, const char *to);

static void queries_do_not_write(void **state) {
  size_t l0, l1;
  ingest_at("legacy", "v1", 0, (time(NULL) / 3600 - 30) * 3600 * NS);
  usleep(2500 * 1000); /* past the fold and the pass it wakes */
  char *before = files_snapshot(&l0);
  hud_arena *a = hud_arena_new();
  char path[256], from[32], to[32];
  time_t t1 = time(NULL), t0 = t1 - 31 * 3600;
  struct tm tm;
  strftime(from, sizeof from, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
  strftime(to, sizeof to, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &tm));
  snprintf(path, sizeof path, "/v1/issues?service=legacy&env=prod&status=all&from=%s&to=%s", from, to);
  for (int i = 0; i < 5; i++) {
    list(a, "all");
    hud_issue is = one(a, g->reader, 200);
    assert_true(is.n_history >= 1);
    srvh_resp r;
    assert_int_equal(srvh_request(g->h.port, "GET", path, g->reader, NULL, 0, NULL, &r), 0);
    if (r.status != 200) fail_msg("%s: %ld %s", path, r.status, r.body);
    srvh_resp_free(&r);
    query_routes(from, to);
  }
  char *after = files_snapshot(&l1);
  assert_true(l0 == l1 && memcmp(before, after, l0) == 0);
  free(before);
  free(after);
  hud_arena_free(a);
}

/* Every read route of the query API over the legacy service's window [FROM, TO); each must answer 200. */
static void query_routes(const char *from, const char *to) {
  const char *fo = fid("fetch_order");
  char q[160], paths[12][400];
  snprintf(q, sizeof q, "service=legacy&env=prod&from=%s&to=%s", from, to);
  int n = 0;
  snprintf(paths[n++], sizeof paths[0], "/v1/services");
  snprintf(paths[n++], sizeof paths[0], "/v1/functions/top?%s", q);
  snprintf(paths[n++], sizeof paths[0], "/v1/functions/top?%s&sort=p95", q);
  snprintf(paths[n++], sizeof paths[0], "/v1/functions/top?%s&sort=slowdown", q);
  snprintf(paths[n++], sizeof paths[0], "/v1/functions/top?%s&sort=duration_trend", q);
  snprintf(paths[n++], sizeof paths[0], "/v1/functions/%s?%s", fo, q);
  snprintf(paths[n++], sizeof paths[0], "/v1/callgraph?%s&root=%s", q, fo);
  snprintf(paths[n++], sizeof paths[0], "/v1/flows?%s", q);
  snprintf(paths[n++], sizeof paths[0], "/v1/exception-flows?%s", q);
  for (int i = 0; i < n; i++) {
    srvh_resp r;
    if (srvh_request(g->h.port, "GET", paths[i], g->reader, NULL, 0, NULL, &r) != 0) fail_msg("%s: no answer", paths[i]);
    if (r.status != 200) fail_msg("%s: %ld %s", paths[i], r.status, r.body);
    srvh_resp_free(&r);
  }
  char body[512];
  snprintf(body, sizeof body,
           "{\"service\":\"legacy\",\"env\":\"prod\",\"from\":\"%s\",\"to\":\"%s\",\"module_paths\":[\"%s\"]}",
           from, to, synth_fns()[synth_fn_index("fetch_order")].module_path);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "POST", "/v1/functions/by-module", g->reader, body, strlen(body), NULL, &r), 0);
  if (r.status != 200) fail_msg("by-module: %ld %s", r.status, r.body);
  srvh_resp_free(&r);
}

static void acknowledged_by_triage(void **state) {
  hud_arena *a = hud_arena_new();
  assert_int_equal(set_status(g->reader, "acknowledged", "looking"), 403);
  assert_string_equal(one(a, g->reader, 200).status, "open");
  assert_int_equal(set_status(g->triage, "acknowledged", "looking"), 200);
  hud_issue is = one(a, g->triage, 200); /* triage reads too */
  assert_string_equal(is.status, "acknowledged");
  assert_int_equal(isf_history_has(&is, "opened"), 1);
  assert_int_equal(isf_history_has(&is, "acknowledged"), 1);
  assert_string_equal(is.history[is.n_history - 1].note, "looking");
  /* Still active (open and acknowledged), not open. */
  assert_int_equal(list(a, NULL).n_issues, 1);
  assert_int_equal(list(a, "open").n_issues, 0);
  /* The same status again changes nothing; resolving is the server's; unknown ids and filters. */
  assert_int_equal(set_status(g->triage, "acknowledged", "again"), 200);
  assert_int_equal(one(a, g->reader, 200).n_history, is.n_history);
  assert_int_equal(set_status(g->triage, "resolved", "done"), 400);
  char keep[HUD_UUID_STRLEN + 1];
  snprintf(keep, sizeof keep, "%s", g->issue_id);
  snprintf(g->issue_id, sizeof g->issue_id, "00000000-0000-5000-8000-000000000000");
  one(a, g->reader, 404);
  assert_int_equal(set_status(g->triage, "muted", "x"), 404);
  snprintf(g->issue_id, sizeof g->issue_id, "%s", keep);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", "/v1/issues?service=shop&status=closed", g->reader, NULL, 0, NULL, &r), 0);
  assert_int_equal(r.status, 400);
  srvh_resp_free(&r);
  hud_arena_free(a);
}

/* v3 fixes it: resolved automatically, with history. */
static void resolved_when_fixed(void **state) {
  hud_arena *a = hud_arena_new();
  ingest_version("v3", 0);
  hud_issue is = wait_status(a, "resolved");
  assert_int_equal(isf_history_has(&is, "resolved"), 1);
  assert_int_equal(is.times_reopened, 0);
  assert_int_equal(list(a, NULL).n_issues, 0);
  assert_int_equal(list(a, "resolved").n_issues, 1);
  hud_arena_free(a);
}

/* v4 breaks it again: the same issue reopens, alerted again. */
static void reopened_when_broken_again(void **state) {
  hud_arena *a = hud_arena_new();
  ingest_version("v4", 2.0);
  hud_issue is = wait_status(a, "open");
  assert_int_equal(is.times_reopened, 1);
  assert_int_equal(isf_history_has(&is, "reopened"), 1);
  assert_string_equal(is.baseline.version, "v3");
  assert_string_equal(is.current.version, "v4");
  assert_int_equal(list(a, "all").n_issues, 1);
  assert_true(httpd_wait_requests(g->hook, 2, 10000) >= 2);
  assert_int_equal(hooks(), 2);
  hud_arena_free(a);
}

/* A muted issue found again stays muted and is not alerted. */
static void muted_not_alerted(void **state) {
  hud_arena *a = hud_arena_new();
  ingest_version("v5", 0);
  wait_status(a, "resolved");
  assert_int_equal(set_status(g->triage, "muted", "known, fix planned"), 200);
  hud_time_ns seen = one(a, g->reader, 200).last_seen;
  ingest_version("v6", 2.0);
  hud_issue is = {0};
  for (int ms = 0; ms < WAIT_MS; ms += 100) {
    is = one(a, g->reader, 200);
    if (is.last_seen > seen) break;
    usleep(100 * 1000);
  }
  assert_true(is.last_seen > seen);          /* found again (updated) */
  assert_string_equal(is.status, "muted");   /* and still muted */
  assert_int_equal(is.times_reopened, 1);
  usleep(1000 * 1000);
  assert_int_equal(hooks(), 2);
  hud_arena_free(a);
}

/* Two versions serving side by side in the last 15 minutes (a canary): compared over the minutes both
 * served, as "canary". */
static void canary_side_by_side(void **state) {
  hud_time_ns now = (hud_time_ns)time(NULL) / 60 * 60 * NS;
  ingest_at("web", "stable", 0, now - 720 * NS);
  ingest_at("web", "stable", 0, now - 480 * NS);
  ingest_at("web", "stable", 0, now - 240 * NS);
  ingest_at("web", "canary", 2.0, now - 480 * NS);
  ingest_at("web", "canary", 2.0, now - 240 * NS);
  hud_arena *a = hud_arena_new();
  hud_issues_response r = {0};
  for (int ms = 0; ms < WAIT_MS && r.n_issues == 0; ms += 100) {
    usleep(100 * 1000);
    srvh_resp resp;
    assert_int_equal(srvh_request(g->h.port, "GET", "/v1/issues?service=web&env=prod", g->reader, NULL, 0, NULL, &resp), 0);
    hud_codec_error e;
    if (hud_issues_response_decode(resp.body, resp.len, NULL, a, &r, &e) != 0) fail_msg("%s", e.message);
    srvh_resp_free(&resp);
  }
  assert_int_equal(r.n_issues, 1);
  const hud_issue *is = &r.issues[0];
  fprintf(stderr, "canary: %s\n", is->headline);
  assert_int_equal(is->comparison, HUD_COMPARE_CANARY);
  assert_string_equal(is->subject_id, fid("fetch_order"));
  assert_non_null(strstr(is->headline, "(stable \u2192 canary, canary)"));
  /* Both sides over the same five minutes (the canary's span). */
  assert_true(is->baseline.from == now - 480 * NS && is->baseline.to == now - 180 * NS);
  assert_true(is->current.from == is->baseline.from && is->current.to == is->baseline.to);
  /* A deploy that hands over within a minute (both versions in one slice) is not a canary. */
  ingest_at("api", "v1", 0, now - 420 * NS);
  ingest_at("api", "v1", 0, now - 360 * NS);
  ingest_at("api", "v2", 2.0, now - 360 * NS);
  ingest_at("api", "v2", 2.0, now - 300 * NS);
  r.n_issues = 0;
  for (int ms = 0; ms < WAIT_MS && r.n_issues == 0; ms += 100) {
    usleep(100 * 1000);
    srvh_resp resp;
    assert_int_equal(srvh_request(g->h.port, "GET", "/v1/issues?service=api&env=prod", g->reader, NULL, 0, NULL, &resp), 0);
    hud_codec_error e;
    if (hud_issues_response_decode(resp.body, resp.len, NULL, a, &r, &e) != 0) fail_msg("%s", e.message);
    srvh_resp_free(&resp);
  }
  assert_int_equal(r.n_issues, 1);
  assert_int_equal(r.issues[0].comparison, HUD_COMPARE_VERSIONS);
  hud_arena_free(a);
}

/* One version getting slower within a day: its last hour against the 24 hours before ("windows"). */
static void window_in_one_version(void **state) {
  hud_time_ns now = (hud_time_ns)time(NULL) / 60 * 60 * NS;
  ingest_at("batch-jobs", "v1", 0, now - 3 * 3600 * NS);
  ingest_at("batch-jobs", "v1", 2.0, now - 1200 * NS);
  hud_arena *a = hud_arena_new();
  hud_issues_response r = {0};
  for (int ms = 0; ms < WAIT_MS && r.n_issues == 0; ms += 100) {
    usleep(100 * 1000);
    srvh_resp resp;
    assert_int_equal(
        srvh_request(g->h.port, "GET", "/v1/issues?service=batch-jobs&env=prod", g->reader, NULL, 0, NULL, &resp), 0);
    hud_codec_error e;
    if (hud_issues_response_decode(resp.body, resp.len, NULL, a, &r, &e) != 0) fail_msg("%s", e.message);
    srvh_resp_free(&resp);
  }
  assert_int_equal(r.n_issues, 1);
  const hud_issue *is = &r.issues[0];
  fprintf(stderr, "windows: %s\n", is->headline);
  assert_int_equal(is->comparison, HUD_COMPARE_WINDOWS);
  assert_string_equal(is->subject_id, fid("fetch_order"));
  assert_non_null(strstr(is->headline, "(the last hour vs the 24 h before)"));
  assert_null(is->baseline.version);
  /* Each side: its window cut to the version's span of data (first slice .. end of the last). */
  assert_true(is->baseline.from == now - 3 * 3600 * NS);
  assert_true(is->current.to == now - 1140 * NS);
  assert_true(is->baseline.to <= is->current.from && is->current.from < now - 1200 * NS);
  hud_arena_free(a);
}

/* What a detection pass costs at this size, from /metrics (printed, not asserted). */
static void pass_cost(void **state) {
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, "GET", "/metrics", NULL, NULL, 0, NULL, &r), 0);
  const char *p = strstr(r.body, "\nhud_detect_passes_total "), *s = strstr(r.body, "\nhud_detect_pass_seconds_total ");
  assert_non_null(p);
  assert_non_null(s);
  double passes = atof(p + 25), secs = atof(s + 31);
  assert_true(passes >= 5); /* v1 and v2 may share a fold */
  fprintf(stderr, "detection: %.0f passes, %.1f ms per pass (one slice of %d invocations per flow per version)\n", passes,
          1e3 * secs / passes, ISF_INV);
  srvh_resp_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(opened_by_the_runner),   cmocka_unit_test(queries_do_not_write),
      cmocka_unit_test(acknowledged_by_triage), cmocka_unit_test(resolved_when_fixed),
      cmocka_unit_test(reopened_when_broken_again), cmocka_unit_test(muted_not_alerted),
      cmocka_unit_test(canary_side_by_side), cmocka_unit_test(window_in_one_version),
      cmocka_unit_test(pass_cost),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

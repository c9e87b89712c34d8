/* The typed API layer (hud/api.h) against the real hud-server on loopback: every route, blocking and
 * through a libuv loop, answers exactly what the route's JSON says (both re-encoded by the codec and
 * compared as text); figures match the simulation; errors arrive in one vocabulary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "hud/api.h"
#include "hud/client_uv.h"
#include "hud/codec.h"
#include "hud/config.h"
#include "hud/err.h"
#include "query_fixture.h"

static query_fixture *g;

static hud_client *client_for(const char *url, const char *key) {
  hud_config *cfg;
  assert_int_equal(hud_config_new(&cfg, NULL), 0);
  assert_int_equal(hud_config_set(cfg, "url", url, HUD_CFG_SRC_FLAG), 0);
  if (key) assert_int_equal(hud_config_set(cfg, "key", key, HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_config_set(cfg, "timeout_ms", "20000", HUD_CFG_SRC_FLAG), 0);
  hud_client *c;
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  hud_config_free(cfg);
  return c;
}

static hud_client *client(const char *key) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", g->h.port);
  return client_for(url, key);
}

static int setup(void **state) {
  g = query_fixture_start();
  *state = g;
  return g ? 0 : -1;
}

static int teardown(void **state) {
  query_fixture_stop(g);
  g = NULL;
  return 0;
}

static const char *fid(const char *qualname) { return synth_fns()[synth_fn_index(qualname)].id; }

/* ---- the routes as one table: request, the raw HTTP call, and text of a decoded response ---- */

typedef struct route_case {
  const char *name;
  void *req;
  size_t resp_size;
  int (*call)(hud_client *c, const void *req, hud_arena *a, void *resp, hud_api_error *err);
  int (*start)(hud_client *c, const void *req, hud_arena *a, void *resp, hud_api_cb cb, void *ud, unsigned long *id);
  int (*target)(const void *req, char **target, char **body, size_t *len);  /* the raw request */
  int (*decode)(const char *json, size_t len, hud_arena *a, void *out);     /* the raw answer */
  int (*encode)(const void *resp, char **json);                              /* for comparison */
} route_case;

#define ROUTE_FNS(name, Req, Resp)                                                                           \
  static int call_##name(hud_client *c, const void *req, hud_arena *a, void *resp, hud_api_error *err) {     \
    return hud_api_##name(c, req, a, resp, err);                                                             \
  }                                                                                                          \
  static int start_##name(hud_client *c, const void *req, hud_arena *a, void *resp, hud_api_cb cb, void *ud, \
                          unsigned long *id) {                                                               \
    return hud_api_##name##_start(c, req, a, resp, cb, ud, id);                                              \
  }                                                                                                          \
  static int decode_##name(const char *json, size_t len, hud_arena *a, void *out) {                          \
    return Resp##_decode(json, len, NULL, a, out, NULL);                                                     \
  }                                                                                                          \
  static int encode_##name(const void *resp, char **json) { return Resp##_encode(resp, json, NULL, NULL); }

ROUTE_FNS(services, hud_services_request, hud_services_response)
ROUTE_FNS(top, hud_top_request, hud_top_response)
ROUTE_FNS(by_module, hud_by_module_request, hud_by_module_response)
ROUTE_FNS(function, hud_function_request, hud_function_detail)
ROUTE_FNS(callgraph, hud_callgraph_request, hud_callgraph_response)
ROUTE_FNS(flows, hud_flows_request, hud_flows_response)
ROUTE_FNS(issues, hud_issues_request, hud_issues_response)
ROUTE_FNS(exception_flows, hud_exception_flows_request, hud_exception_flows_response)

/* Issues are detected at query time: their detected_at is the only figure that differs between calls. */
static int encode_issues_stable(const void *resp, char **json) {
  hud_issues_response r = *(const hud_issues_response *)resp;
  hud_issue *copy = calloc(r.n_issues + 1, sizeof *copy);
  for (size_t i = 0; i < r.n_issues; i++) {
    copy[i] = r.issues[i];
    copy[i].detected_at = 0;
  }
  r.issues = copy;
  int rc = encode_issues(&r, json);
  free(copy);
  return rc;
}

static int target_services(const void *req, char **t, char **body, size_t *len) {
  return hud_services_request_to_target(((const hud_services_request *)req)->service, t);
}
static int target_top(const void *req, char **t, char **body, size_t *len) { return hud_top_request_to_target(req, t); }
static int target_by_module(const void *req, char **t, char **body, size_t *len) {
  *t = strdup("/v1/functions/by-module");
  return hud_by_module_request_encode(req, body, len, NULL);
}
static int target_function(const void *req, char **t, char **body, size_t *len) {
  return hud_function_request_to_target(req, t);
}
static int target_callgraph(const void *req, char **t, char **body, size_t *len) {
  return hud_callgraph_request_to_target(req, t);
}
static int target_flows(const void *req, char **t, char **body, size_t *len) {
  return hud_flows_request_to_target(req, t);
}
static int target_issues(const void *req, char **t, char **body, size_t *len) {
  return hud_issues_request_to_target(req, t);
}

static int target_exception_flows(const void *req, char **t, char **body, size_t *len) {
  return hud_exception_flows_request_to_target(req, t);
}

static hud_services_request q_services;
static hud_top_request q_top;
static hud_by_module_request q_by_module;
static hud_function_request q_function;
static hud_callgraph_request q_callgraph;
static hud_flows_request q_flows;
static hud_issues_request q_issues;
static hud_exception_flows_request q_exception_flows;
static const char *module_paths[] = {"shop/db.py", "shop/cache.py"};

#define CASE(name, Resp) \
  {#name, &q_##name, sizeof(Resp), call_##name, start_##name, target_##name, decode_##name, encode_##name}

static route_case cases[] = {
    CASE(services, hud_services_response), CASE(top, hud_top_response),
    CASE(by_module, hud_by_module_response), CASE(function, hud_function_detail),
    CASE(callgraph, hud_callgraph_response), CASE(flows, hud_flows_response),
    CASE(exception_flows, hud_exception_flows_response),
    {"issues", &q_issues, sizeof(hud_issues_response), call_issues, start_issues, target_issues, decode_issues,
     encode_issues_stable},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static void requests_init(void) {
  hud_query_scope s = {.service = "shop", .from = g->from, .to = ((hud_time_ns)time(NULL) + 60) * QF_NS};
  q_top = (hud_top_request){.scope = s, .sort = HUD_SORT_CALLS, .limit = 5};
  q_by_module = (hud_by_module_request){.scope = s, .n_module_paths = 2, .module_paths = module_paths};
  q_function = (hud_function_request){.scope = s};
  snprintf(q_function.function_id, sizeof q_function.function_id, "%s", fid("charge"));
  q_callgraph = (hud_callgraph_request){.scope = s, .depth = 3, .max_nodes = 50};
  snprintf(q_callgraph.root, sizeof q_callgraph.root, "%s", fid("charge"));
  q_flows = (hud_flows_request){.scope = s, .limit = 10};
  q_issues = (hud_issues_request){.scope = s, .status = "all", .limit = 10};
  q_exception_flows = (hud_exception_flows_request){.scope = s, .limit = 10};
}

/* The route's JSON, fetched with plain HTTP and decoded by the codec, re-encoded as text. */
static char *raw_text(const route_case *rc, const char *key) {
  char *t = NULL, *body = NULL;
  size_t len = 0;
  assert_int_equal(rc->target(rc->req, &t, &body, &len), 0);
  srvh_resp r;
  assert_int_equal(srvh_request(g->h.port, body ? "POST" : "GET", t, key, body, len, NULL, &r), 0);
  if (r.status != 200) fail_msg("%s: raw HTTP %ld: %s", rc->name, r.status, r.body);
  hud_arena *a = hud_arena_new();
  void *resp = calloc(1, rc->resp_size);
  assert_int_equal(rc->decode(r.body, r.len, a, resp), 0);
  char *text;
  assert_int_equal(rc->encode(resp, &text), 0);
  srvh_resp_free(&r);
  free(resp);
  free(t);
  free(body);
  hud_arena_free(a);
  return text;
}

static char *typed_text(const route_case *rc, const void *resp) {
  char *text;
  assert_int_equal(rc->encode(resp, &text), 0);
  return text;
}

static void every_route_blocking_matches_the_wire(void **state) {
  requests_init();
  hud_client *c = client(g->key);
  for (size_t i = 0; i < N_CASES; i++) {
    hud_arena *a = hud_arena_new();
    void *resp = calloc(1, cases[i].resp_size);
    hud_api_error err;
    int rc = cases[i].call(c, cases[i].req, a, resp, &err);
    if (rc != 0) fail_msg("%s: %s (%ld %s)", cases[i].name, err.message, err.status, err.wire_code);
    assert_int_equal(err.code, 0);
    assert_int_equal(err.status, 200);
    char *typed = typed_text(&cases[i], resp), *raw = raw_text(&cases[i], g->key);
    assert_string_equal(typed, raw);
    free(typed);
    free(raw);
    free(resp);
    hud_arena_free(a);
  }
  hud_client_free(c);
}

static void figures_are_the_simulations(void **state) {
  requests_init();
  hud_client *c = client(g->key);
  hud_arena *a = hud_arena_new();
  hud_top_response top;
  hud_api_error err;
  assert_int_equal(hud_api_top(c, &q_top, a, &top, &err), 0);
  assert_int_equal(top.n_items, 5);
  assert_string_equal(top.items[0].function_id, fid("render_item"));
  assert_int_equal(top.items[0].calls, 3 * 2 * QF_INV);
  hud_services_response sv;
  assert_int_equal(hud_api_services(c, &q_services, a, &sv, &err), 0);
  assert_int_equal(sv.n_services, 1);
  assert_string_equal(sv.services[0].name, "shop");
  hud_function_detail d;
  assert_int_equal(hud_api_function(c, &q_function, a, &d, &err), 0);
  assert_string_equal(d.summary.function_id, fid("charge"));
  assert_int_equal(d.n_versions, 2);
  assert_string_equal(d.versions[0].version, "1.1.0");
  /* cache.get's KeyErrors, all caught in get_order, are the most frequent path. */
  hud_exception_flows_response xf;
  assert_int_equal(hud_api_exception_flows(c, &q_exception_flows, a, &xf, &err), 0);
  assert_true(xf.n_flows >= 3);
  assert_string_equal(xf.flows[0].exception_type, "KeyError");
  assert_string_equal(xf.flows[0].origin.function_id, fid("get"));
  assert_string_equal(xf.flows[0].caught_in->function_id, fid("get_order"));
  hud_arena_free(a);
  hud_client_free(c);
}

/* ---- non-blocking, on a libuv loop ---- */

typedef struct async_run {
  uv_loop_t loop;
  size_t done;
  hud_api_error errs[N_CASES];
  int calls[N_CASES];
} async_run;

typedef struct async_slot {
  async_run *run;
  size_t i;
} async_slot;

static void on_answer(hud_client *c, unsigned long id, const hud_api_error *err, void *resp, void *ud) {
  async_slot *s = ud;
  s->run->errs[s->i] = *err;
  s->run->calls[s->i]++;
  s->run->done++;
}

static void run_loop(async_run *r, size_t want) {
  for (int spins = 0; r->done < want && spins < 200000; spins++) uv_run(&r->loop, UV_RUN_ONCE);
}

static void every_route_through_the_loop(void **state) {
  requests_init();
  async_run r = {0};
  uv_loop_init(&r.loop);
  hud_client *c = client(g->key);
  hud_client_uv *d;
  assert_int_equal(hud_client_uv_new(&r.loop, c, &d), 0);
  hud_arena *a = hud_arena_new();
  void *resp[N_CASES];
  async_slot slots[N_CASES];
  for (size_t i = 0; i < N_CASES; i++) {
    resp[i] = calloc(1, cases[i].resp_size);
    slots[i] = (async_slot){&r, i};
    assert_int_equal(cases[i].start(c, cases[i].req, a, resp[i], on_answer, &slots[i], NULL), 0);
  }
  assert_int_equal(r.done, 0); /* never from inside start */
  run_loop(&r, N_CASES);
  assert_int_equal(r.done, N_CASES);
  for (size_t i = 0; i < N_CASES; i++) {
    if (r.errs[i].code) fail_msg("%s: %s", cases[i].name, r.errs[i].message);
    assert_int_equal(r.calls[i], 1);
    char *typed = typed_text(&cases[i], resp[i]), *raw = raw_text(&cases[i], g->key);
    assert_string_equal(typed, raw);
    free(typed);
    free(raw);
    free(resp[i]);
  }
  uint64_t max_ns;
  size_t calls;
  hud_client_uv_stats(d, &max_ns, &calls);
  assert_true(calls > 0);
  hud_client_free(c);
  hud_client_uv_free(d);
  uv_run(&r.loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&r.loop), 0);
  hud_arena_free(a);
}

/* ---- errors ---- */

static void expect_error(hud_client *c, const void *req, int code, long status, const char *wire, const char *msg) {
  hud_arena *a = hud_arena_new();
  hud_top_response top;
  hud_api_error err;
  int rc = hud_api_top(c, req, a, &top, &err);
  if (rc != code) fail_msg("got %s (%s), want %s", hud_err_name(rc), err.message, hud_err_name(code));
  assert_int_equal(err.code, code);
  assert_int_equal(err.status, status);
  if (wire) assert_string_equal(err.wire_code, wire);
  if (msg && !strstr(err.message, msg)) fail_msg("message '%s' lacks '%s'", err.message, msg);
  hud_arena_free(a);
}

static void errors_in_one_vocabulary(void **state) {
  requests_init();
  hud_client *none = client(NULL), *staging = client(g->other_key), *good = client(g->key);
  expect_error(none, &q_top, HUD_EAUTH, 401, "unauthorized", "API key");
  hud_top_request prod = q_top;
  prod.scope.environment = "prod";
  expect_error(staging, &prod, HUD_EFORBIDDEN, 403, "forbidden", "prod");
  hud_top_request nosvc = q_top;
  nosvc.scope.service = "nope";
  expect_error(good, &nosvc, HUD_ENOTFOUND, 404, "not_found", NULL);
  /* A request the codec cannot build is refused before anything is sent. */
  hud_top_request bad = q_top;
  bad.limit = 100000;
  hud_arena *a = hud_arena_new();
  hud_top_response top;
  hud_api_error err;
  assert_true(hud_api_top(good, &bad, a, &top, &err) < 0);
  assert_int_equal(err.status, 0);
  hud_arena_free(a);
  hud_client_free(none);
  hud_client_free(staging);
  hud_client_free(good);
  /* Nobody listening on port 1. */
  hud_client *gone = client_for("http://127.0.0.1:1", g->key);
  expect_error(gone, &q_top, HUD_ECONNECT, 0, "", NULL);
  hud_client_free(gone);
}

static void answers_that_do_not_decode_are_errors(void **state) {
  /* A base URL that lands every route on /metrics: 200 with text that is no JSON. */
  char url[96];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics?x=", g->h.port);
  hud_client *c = client_for(url, g->key);
  hud_arena *a = hud_arena_new();
  hud_services_response sv;
  hud_api_error err;
  int rc = hud_api_services(c, &q_services, a, &sv, &err);
  assert_true(rc == HUD_EPARSE || rc == HUD_EFIELD);
  assert_int_equal(err.status, 200);
  assert_non_null(strstr(err.message, "does not decode"));
  hud_arena_free(a);
  hud_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_route_blocking_matches_the_wire),
      cmocka_unit_test(figures_are_the_simulations),
      cmocka_unit_test(every_route_through_the_loop),
      cmocka_unit_test(errors_in_one_vocabulary),
      cmocka_unit_test(answers_that_do_not_decode_are_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

/* Webhook alerts against a real loopback receiver: signature, shapes, retry policy, routing, bounded stop. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "httpd_fixture.h"
#include "hud/err.h"
#include "metrics.h"

/* hud_alert_deliveries_total{outcome=OUTCOME} from the server's /metrics text. */
static long long metric(const char *outcome) {
  char *text, key[128];
  size_t len;
  assert_int_equal(srv_metrics_render(&text, &len), 0);
  snprintf(key, sizeof key, "hud_alert_deliveries_total{outcome=\"%s\"} ", outcome);
  const char *p = strstr(text, key);
  long long v = p ? atoll(p + strlen(key)) : -1;
  free(text);
  return v;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Short waits so the suite takes seconds. */
static const srv_alerts_limits k_fast = {.backoff_base_ms = 20, .backoff_max_ms = 200, .attempt_timeout_ms = 2000,
                                         .drain_ms = 500, .retry_after_max_ms = 5000};

static srv_alert_issue sample(const char *env) {
  return (srv_alert_issue){.env = env,
                           .service = "shop",
                           .event = "opened",
                           .issue_id = "9b2f6c1e-0d1a-5e3b-8c4d-1f2e3a4b5c6d",
                           .kind = "duration_regression",
                           .headline = "apply_discounts self time +4.13 ms per call (v1 → v2) <b>",
                           .function_id = "6f1c2d3e-4a5b-5c6d-8e7f-9a0b1c2d3e4f",
                           .function_name = "apply_discounts",
                           .module_path = "shop/pricing.py",
                           .comparison = "versions",
                           .base_label = "v1",
                           .cand_label = "v2",
                           .link_vscode = "vscode://hud-dev.hud/function?id=6f1c&issue=9b2f",
                           .link_tui = "hud-tui --url https://hud.example --env prod --service shop --issue 9b2f",
                           .link_api = "https://hud.example/v1/issues/9b2f?env=prod&service=shop",
                           .effect_ms_per_request = 4.13,
                           .effect_pct = 23.5,
                           .top_flow = "GET /orders/<id>",
                           .code_changed = 1,
                           .first_seen_ms = 1790000000000};
}

static char *url_of(httpd *h, const char *path) {
  char *u;
  assert_true(asprintf(&u, "%s%s", httpd_url(h), path) > 0);
  return u;
}

static srv_alerts *start(srv_alert_target *t, size_t n, const srv_alerts_limits *lim) {
  srv_alerts *a;
  assert_int_equal(srv_alerts_new_limits(t, n, lim ? lim : &k_fast, &a), 0);
  return a;
}

static json_t *body_json(const httpd_request *r) {
  json_error_t e;
  json_t *j = json_loadb((const char *)r->body, r->body_len, 0, &e);
  assert_non_null(j);
  return j;
}

static const char *jstr(json_t *root, const char *path) {
  /* "a.b.c" */
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *j = root;
  for (char *s = strtok(buf, "."); s && j; s = strtok(NULL, ".")) j = json_object_get(j, s);
  return json_string_value(j);
}

static void test_signed_generic_body(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 200, "ok");
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url, .format = SRV_ALERT_JSON, .secret = "s3cret-key"};
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(httpd_wait_requests(h, 1, 5000), 1);
  const httpd_request *r = httpd_request_at(h, 0);
  assert_string_equal(r->method, "POST");
  assert_string_equal(httpd_request_header(r, "Content-Type"), "application/json");
  assert_string_equal(httpd_request_header(r, "X-Hud-Event"), "issue.opened");
  const char *ts = httpd_request_header(r, "X-Hud-Timestamp"), *sig = httpd_request_header(r, "X-Hud-Signature");
  assert_non_null(ts);
  assert_non_null(sig);
  assert_true(llabs(atoll(ts) - (long long)time(NULL)) < 60);
  /* What a receiver does: HMAC-SHA256 over "<timestamp>.<raw body>" with the shared secret. */
  char *msg;
  int n = asprintf(&msg, "%s.%.*s", ts, (int)r->body_len, (const char *)r->body);
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), "s3cret-key", 10, (unsigned char *)msg, (size_t)n, mac, &mac_len);
  free(msg);
  char want[72] = "sha256=";
  for (int i = 0; i < 32; i++) sprintf(want + 7 + 2 * i, "%02x", mac[i]);
  assert_string_equal(sig, want);
  json_t *j = body_json(r);
  assert_string_equal(jstr(j, "event"), "issue.opened");
  assert_string_equal(jstr(j, "delivery_id"), httpd_request_header(r, "X-Hud-Delivery"));
  assert_string_equal(jstr(j, "issue.id"), is.issue_id);
  assert_string_equal(jstr(j, "issue.env"), "prod");
  assert_string_equal(jstr(j, "issue.service"), "shop");
  assert_string_equal(jstr(j, "issue.headline"), is.headline);
  assert_string_equal(jstr(j, "issue.root_cause.function"), "apply_discounts");
  assert_string_equal(jstr(j, "issue.root_cause.module"), "shop/pricing.py");
  assert_string_equal(jstr(j, "issue.comparison.baseline"), "v1");
  assert_string_equal(jstr(j, "issue.comparison.candidate"), "v2");
  assert_string_equal(jstr(j, "issue.top_flow"), "GET /orders/<id>");
  assert_string_equal(jstr(j, "links.vscode"), is.link_vscode);
  assert_string_equal(jstr(j, "links.api"), is.link_api);
  assert_true(json_is_true(json_object_get(json_object_get(j, "issue"), "code_changed")));
  json_t *eff = json_object_get(json_object_get(j, "issue"), "effect");
  assert_true(fabs(json_real_value(json_object_get(eff, "ms_per_request")) - 4.13) < 1e-9);
  assert_true(json_is_null(json_object_get(json_object_get(json_object_get(j, "issue"), "root_cause"),
                                           "exception_type")));
  json_decref(j);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static void test_unsigned_without_secret(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 204, "");
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url};
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  srv_alert_issue bad = is;
  bad.event = "opened\r\nX-Evil: 1"; /* would be a header */
  assert_int_equal(srv_alerts_enqueue(a, &bad), HUD_EINVAL);
  bad = is;
  bad.headline = NULL;
  assert_int_equal(srv_alerts_enqueue(a, &bad), HUD_EINVAL);
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(srv_alerts_flush(a, 5000), 0);
  assert_int_equal(httpd_request_count(h), 1);
  assert_null(httpd_request_header(httpd_request_at(h, 0), "X-Hud-Signature"));
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.delivered, 1); /* 204 counts as delivered */
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static json_t *block_of_type(json_t *blocks, const char *type, size_t nth) {
  for (size_t i = 0; i < json_array_size(blocks); i++) {
    json_t *b = json_array_get(blocks, i);
    if (strcmp(json_string_value(json_object_get(b, "type")), type) == 0 && nth-- == 0) return b;
  }
  return NULL;
}

static void test_slack_shape(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/services/T0/B0/x", 200, "ok");
  char *url = url_of(h, "/services/T0/B0/x");
  srv_alert_target t = {.env = "prod", .url = url, .format = SRV_ALERT_SLACK};
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(httpd_wait_requests(h, 1, 5000), 1);
  json_t *j = body_json(httpd_request_at(h, 0));
  /* Slack's incoming webhooks: `text` (notification fallback) and `blocks`. */
  assert_non_null(strstr(jstr(j, "text"), "apply_discounts self time +4.13 ms"));
  assert_non_null(strstr(jstr(j, "text"), "[prod] shop"));
  json_t *blocks = json_object_get(j, "blocks");
  assert_true(json_array_size(blocks) >= 4);
  json_t *head = json_array_get(blocks, 0);
  assert_string_equal(json_string_value(json_object_get(head, "type")), "section");
  const char *ht = jstr(head, "text.text");
  assert_string_equal(jstr(head, "text.type"), "mrkdwn");
  assert_non_null(strstr(ht, "New issue"));
  assert_non_null(strstr(ht, "+4.13 ms per call (v1 → v2) &lt;b&gt;")); /* mrkdwn control characters escaped */
  json_t *ctx = block_of_type(blocks, "context", 0);
  assert_non_null(ctx);
  const char *ct = json_string_value(json_object_get(json_array_get(json_object_get(ctx, "elements"), 0), "text"));
  assert_non_null(strstr(ct, "root cause `apply_discounts` in `shop/pricing.py`"));
  assert_non_null(strstr(ct, "v1 → v2 (versions)"));
  assert_non_null(strstr(ct, "+4.13 ms per request (+24%) in GET /orders/&lt;id&gt;"));
  assert_non_null(strstr(ct, "code changed"));
  int tui = 0, vscode = 0;
  for (size_t i = 0; i < json_array_size(blocks); i++) {
    const char *tx = jstr(json_array_get(blocks, i), "text.text");
    if (tx && strstr(tx, "```hud-tui --url https://hud.example --env prod --service shop --issue 9b2f```")) tui = 1;
    if (tx && strstr(tx, "<vscode://hud-dev.hud/function?id=6f1c&issue=9b2f|Open in VS Code>")) vscode = 1;
  }
  assert_true(tui);
  assert_true(vscode);
  json_t *act = block_of_type(blocks, "actions", 0);
  assert_non_null(act);
  json_t *btn = json_array_get(json_object_get(act, "elements"), 0);
  assert_string_equal(jstr(btn, "type"), "button");
  assert_string_equal(jstr(btn, "url"), is.link_api);
  json_decref(j);
  /* A regression of an open issue in a newer version says so. */
  is.event = "regressed";
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(httpd_wait_requests(h, 2, 5000), 2);
  j = body_json(httpd_request_at(h, 1));
  assert_non_null(strstr(jstr(json_array_get(json_object_get(j, "blocks"), 0), "text.text"), "Regressed again"));
  json_decref(j);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static void test_retry_500_then_delivered_once(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 200, "ok");
  httpd_response down = {.status = 503, .body = "down", .times = 2};
  httpd_route(h, "POST", "/hook", &down);
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url, .secret = "k"};
  long long retried0 = metric("retried"), delivered0 = metric("delivered");
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(srv_alerts_flush(a, 10000), 0);
  usleep(200 * 1000); /* nothing more may come */
  assert_int_equal(metric("retried") - retried0, 2);
  assert_int_equal(metric("delivered") - delivered0, 1);
  assert_int_equal(httpd_request_count(h), 3);
  const char *id = httpd_request_header(httpd_request_at(h, 0), "X-Hud-Delivery");
  assert_int_equal(strlen(id), 36);
  for (size_t i = 1; i < 3; i++) {
    const httpd_request *r = httpd_request_at(h, i);
    assert_string_equal(httpd_request_header(r, "X-Hud-Delivery"), id);
    assert_int_equal(r->body_len, httpd_request_at(h, 0)->body_len);
    assert_memory_equal(r->body, httpd_request_at(h, 0)->body, r->body_len);
  }
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.delivered, 1);
  assert_int_equal(st.attempts, 3);
  assert_int_equal(st.failed, 0);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static void test_no_retry_on_400(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 400, "invalid_payload");
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url};
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(srv_alerts_flush(a, 5000), 0);
  usleep(200 * 1000); /* ten backoff bases */
  assert_int_equal(httpd_request_count(h), 1);
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.failed, 1);
  assert_int_equal(st.attempts, 1);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static void test_gives_up_after_max_attempts(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 500, "boom");
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url};
  srv_alerts_limits lim = k_fast;
  lim.max_attempts = 4;
  srv_alerts *a = start(&t, 1, &lim);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(srv_alerts_flush(a, 10000), 0);
  assert_int_equal(httpd_request_count(h), 4);
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.failed, 1);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

static void test_429_retry_after_honoured(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/hook", 200, "ok");
  httpd_response slow_down = {.status = 429, .body = "rate_limited", .times = 1, .retry_after = "1"};
  httpd_route(h, "POST", "/hook", &slow_down);
  char *url = url_of(h, "/hook");
  srv_alert_target t = {.env = "prod", .url = url};
  srv_alerts *a = start(&t, 1, NULL);
  srv_alert_issue is = sample("prod");
  assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  assert_int_equal(srv_alerts_flush(a, 10000), 0);
  assert_int_equal(httpd_request_count(h), 2);
  /* The backoff alone would wait 10..20 ms; the receiver asked for a second. */
  long long gap = httpd_request_at(h, 1)->received_ms - httpd_request_at(h, 0)->received_ms;
  assert_true(gap >= 950);
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.delivered, 1);
  srv_alerts_free(a);
  free(url);
  httpd_stop(h);
}

/* A port with nothing listening: connection refused. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  close(fd);
  return ntohs(sa.sin_port);
}

static void test_unreachable_does_not_block(void **state) {
  httpd *h = httpd_start();
  httpd_response hang = {.status = 200, .body = "late", .delay_ms = 20000};
  httpd_route(h, "POST", "/hook", &hang);
  char *slow = url_of(h, "/hook"), *refused;
  assert_true(asprintf(&refused, "http://127.0.0.1:%d/hook", closed_port()) > 0);
  srv_alert_target t[2] = {{.env = "prod", .url = refused}, {.env = "prod", .url = slow}};
  srv_alerts_limits lim = k_fast;
  lim.queue_max = 16;
  lim.attempt_timeout_ms = 30000;
  lim.drain_ms = 300;
  srv_alerts *a = start(t, 2, &lim);
  srv_alert_issue is = sample("prod");
  long long t0 = mono_ms();
  for (int i = 0; i < 500; i++) assert_int_equal(srv_alerts_enqueue(a, &is), 0);
  long long enq = mono_ms() - t0;
  print_message("1000 deliveries queued in %lld ms\n", enq);
  assert_true(enq < 5000); /* not one waits for the hanging receiver (20 s) */
  assert_true(httpd_wait_requests(h, 1, 5000) >= 1); /* a request hangs in flight */
  srv_alerts_stats st;
  srv_alerts_stats_get(a, &st);
  assert_int_equal(st.queued, 1000);
  assert_true(metric("dropped") >= (long long)st.dropped);
  assert_true(st.dropped >= 1000 - 16 - 2);
  t0 = mono_ms();
  srv_alerts_free(a);
  long long stop = mono_ms() - t0;
  print_message("stopped in %lld ms\n", stop);
  assert_true(stop < 1500); /* drain 300 ms, the hanging request cut at that bound */
  free(slow);
  free(refused);
  httpd_stop(h);
}

static void test_routing_per_environment(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "*", 200, "ok");
  char *ua = url_of(h, "/prod"), *ub = url_of(h, "/staging"), *uall = url_of(h, "/all");
  srv_alert_target t[3] = {{.env = "prod", .url = ua}, {.env = "staging", .url = ub}, {.env = "*", .url = uall}};
  srv_alerts *a = start(t, 3, NULL);
  srv_alert_issue p = sample("prod"), s = sample("staging"), other = sample("dev");
  assert_int_equal(srv_alerts_enqueue(a, &p), 0);
  assert_int_equal(srv_alerts_enqueue(a, &s), 0);
  assert_int_equal(srv_alerts_enqueue(a, &other), 0);
  assert_int_equal(srv_alerts_flush(a, 5000), 0);
  int n_prod = 0, n_staging = 0, n_all = 0;
  for (size_t i = 0; i < httpd_request_count(h); i++) {
    const httpd_request *r = httpd_request_at(h, i);
    json_t *j = body_json(r);
    const char *env = jstr(j, "issue.env");
    if (strcmp(r->path, "/prod") == 0) assert_string_equal(env, "prod"), n_prod++;
    else if (strcmp(r->path, "/staging") == 0) assert_string_equal(env, "staging"), n_staging++;
    else n_all++;
    json_decref(j);
  }
  assert_int_equal(n_prod, 1);
  assert_int_equal(n_staging, 1);
  assert_int_equal(n_all, 3);
  srv_alerts_free(a);
  free(ua);
  free(ub);
  free(uall);
  httpd_stop(h);
}

static void test_target_parse(void **state) {
  char path[] = "/tmp/hud-alerts-secret-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "topsecret\n", 10), 10);
  close(fd);
  char spec[256], why[200];
  srv_alert_target t;
  snprintf(spec, sizeof spec, "prod=https://hooks.slack.com/services/T/B/x,format=slack,secret-file=%s", path);
  assert_int_equal(srv_alert_target_parse(spec, &t, why, sizeof why), 0);
  assert_string_equal(t.env, "prod");
  assert_string_equal(t.url, "https://hooks.slack.com/services/T/B/x");
  assert_int_equal(t.format, SRV_ALERT_SLACK);
  assert_string_equal(t.secret, "topsecret");
  srv_alert_target_clear(&t);
  unlink(path);
  assert_int_equal(srv_alert_target_parse("*=http://127.0.0.1:9/h?a=1,2", &t, why, sizeof why), 0);
  assert_string_equal(t.url, "http://127.0.0.1:9/h?a=1,2"); /* a comma that starts no option stays */
  assert_int_equal(t.format, SRV_ALERT_JSON);
  assert_null(t.secret);
  srv_alert_target_clear(&t);
  setenv("HUD_TEST_HOOK_SECRET", "from-env", 1);
  assert_int_equal(srv_alert_target_parse("prod=http://x/h,secret-env=HUD_TEST_HOOK_SECRET", &t, why, sizeof why), 0);
  assert_string_equal(t.secret, "from-env");
  srv_alert_target_clear(&t);
  static const char *const bad[][2] = {
      {"https://x/h", "ENV=URL"},
      {"prod=ftp://x/h", "not an http"},
      {"prod=https://x/h,format=xml", "format 'xml'"},
      {"prod=https://x/h,secret-file=/nonexistent/hud", "cannot be read"},
      {"prod=https://x/h,secret-env=HUD_TEST_UNSET_VAR", "not set"},
      {"pr od=https://x/h", "ENV=URL"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(srv_alert_target_parse(bad[i][0], &t, why, sizeof why), HUD_EINVAL);
    if (!strstr(why, bad[i][1])) fail_msg("%s: '%s' lacks '%s'", bad[i][0], why, bad[i][1]);
  }
}

/* Runs `hud-server webhook-test ARGS...` with HUD_CONFIG=CONFIG; returns its exit status. */
static int webhook_test(const char *config, const char *const *args) {
  const char *bd = getenv("HUD_BUILD_DIR");
  if (!bd) skip();
  char bin[512];
  snprintf(bin, sizeof bin, "%s/server/hud-server", bd);
  const char *argv[16] = {bin, "webhook-test"};
  int n = 2;
  for (; args && *args; args++) argv[n++] = *args;
  argv[n] = NULL;
  setenv("HUD_CONFIG", config, 1);
  extern char **environ;
  pid_t pid;
  int out = open("/dev/null", 1);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  unsetenv("HUD_CONFIG");
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The real binary: the config file's [server] webhooks, flags replacing them, exit codes. */
static void test_webhook_test_command(void **state) {
  httpd *h = httpd_start();
  httpd_route_simple(h, "POST", "/file", 200, "ok");
  httpd_route_simple(h, "POST", "/flag", 200, "ok");
  httpd_route_simple(h, "POST", "/gone", 404, "no_service");
  char secret[] = "/tmp/hud-alerts-secret-XXXXXX", conf[] = "/tmp/hud-alerts-conf-XXXXXX";
  int fd = mkstemp(secret);
  assert_int_equal(write(fd, "k1\n", 3), 3);
  close(fd);
  fd = mkstemp(conf);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "url = http://127.0.0.1:1\n[server]\nwebhook = prod=%s/file,format=slack,secret-file=%s\n"
             "public_url = https://hud.example/\n", httpd_url(h), secret);
  fclose(f);

  assert_int_equal(webhook_test(conf, NULL), 0);
  assert_int_equal(httpd_request_count(h), 1);
  const httpd_request *r = httpd_request_at(h, 0);
  assert_string_equal(r->path, "/file");
  assert_non_null(httpd_request_header(r, "X-Hud-Signature"));
  assert_string_equal(httpd_request_header(r, "X-Hud-Event"), "issue.test");
  json_t *j = body_json(r);
  char *blocks = json_dumps(json_object_get(j, "blocks"), 0);
  assert_non_null(strstr(blocks, "hud-tui --url https://hud.example --env prod"));
  free(blocks);
  json_decref(j);

  char flag[300];
  snprintf(flag, sizeof flag, "staging=%s/flag", httpd_url(h));
  const char *args[] = {"--webhook", flag, NULL};
  assert_int_equal(webhook_test(conf, args), 0);
  assert_int_equal(httpd_request_count(h), 2); /* the flag replaced the file's webhook */
  assert_string_equal(httpd_request_at(h, 1)->path, "/flag");
  assert_null(httpd_request_header(httpd_request_at(h, 1), "X-Hud-Signature"));

  snprintf(flag, sizeof flag, "prod=%s/gone", httpd_url(h));
  assert_int_equal(webhook_test(conf, args), 1); /* not delivered */
  assert_int_equal(httpd_request_count(h), 3);  /* and a 404 is not retried */
  const char *bad[] = {"--webhook", "prod=ftp://x", NULL};
  assert_int_equal(webhook_test(conf, bad), 2);
  assert_int_equal(httpd_request_count(h), 3);
  unlink(secret);
  unlink(conf);
  httpd_stop(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signed_generic_body),
      cmocka_unit_test(test_unsigned_without_secret),
      cmocka_unit_test(test_slack_shape),
      cmocka_unit_test(test_retry_500_then_delivered_once),
      cmocka_unit_test(test_no_retry_on_400),
      cmocka_unit_test(test_gives_up_after_max_attempts),
      cmocka_unit_test(test_429_retry_after_honoured),
      cmocka_unit_test(test_unreachable_does_not_block),
      cmocka_unit_test(test_routing_per_environment),
      cmocka_unit_test(test_target_parse),
      cmocka_unit_test(test_webhook_test_command),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

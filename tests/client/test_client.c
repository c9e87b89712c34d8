/* The blocking client against a real loopback HTTP server (libmicrohttpd fixture). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_support.h"
#include "tls_cert.h"
#include "httpd_fixture.h"
#include "hud/api.h"
#include "hud/client.h"
#include "hud/err.h"
#include "hud/version.h"

typedef struct fx {
  httpd *h;
  hud_config *cfg;
  hud_client *c;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->h = httpd_start();
  if (!f->h) return -1;
  f->cfg = test_config(httpd_url(f->h), "k-123");
  if (!f->cfg || hud_client_new(&f->c, f->cfg, NULL, 0) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  hud_client_free(f->c);
  hud_config_free(f->cfg);
  httpd_stop(f->h);
  free(f);
  return 0;
}

/* Rebuilds the client after changing the configuration. */
static void reconfigure(fx *f, const char *key, const char *value) {
  assert_int_equal(hud_config_set(f->cfg, key, value, HUD_CFG_SRC_FLAG), 0);
  hud_client_free(f->c);
  assert_int_equal(hud_client_new(&f->c, f->cfg, NULL, 0), 0);
}

static void get_ok_with_params_and_headers(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "GET", "/v1/functions", 200, "{\"functions\":[]}");
  hud_param params[] = {{"module", "shop/orders.py"}, {"q", "a b&c=d/é"}, {"empty", ""}};
  hud_result res;
  assert_int_equal(hud_client_get(f->c, "/v1/functions", params, 3, &res), 0);
  assert_int_equal(res.err, 0);
  assert_int_equal(res.status, 200);
  assert_string_equal(res.body, "{\"functions\":[]}");
  assert_int_equal(res.body_len, strlen("{\"functions\":[]}"));
  assert_null(res.message);
  assert_true(res.elapsed_ms >= 0 && res.elapsed_ms < 5000);
  hud_result_clear(&res);

  assert_int_equal(httpd_request_count(f->h), 1);
  const httpd_request *r = httpd_request_at(f->h, 0);
  assert_string_equal(r->method, "GET");
  assert_string_equal(r->path, "/v1/functions");
  assert_string_equal(httpd_request_arg(r, "module"), "shop/orders.py");
  assert_string_equal(httpd_request_arg(r, "q"), "a b&c=d/é");
  assert_string_equal(httpd_request_arg(r, "empty"), "");
  assert_string_equal(httpd_request_header(r, "Authorization"), "Bearer k-123");
  assert_string_equal(httpd_request_header(r, "User-Agent"), "hud/" HUD_VERSION_STRING);
  assert_string_equal(httpd_request_header(r, "Accept"), "application/json");
  assert_int_equal(r->body_len, 0);

  /* A path without a leading slash and an empty 2xx body. */
  httpd_route_simple(f->h, "GET", "/v1/empty", 204, NULL);
  assert_int_equal(hud_client_get(f->c, "v1/empty", NULL, 0, &res), 0);
  assert_int_equal(res.status, 204);
  assert_non_null(res.body);
  assert_int_equal(res.body_len, 0);
  hud_result_clear(&res);
}

static void no_key_no_authorization_header(void **state) {
  fx *f = *state;
  reconfigure(f, "key", "");
  httpd_route_simple(f->h, "GET", "/x", 200, "{}");
  hud_result res;
  assert_int_equal(hud_client_get(f->c, "/x", NULL, 0, &res), 0);
  hud_result_clear(&res);
  assert_null(httpd_request_header(httpd_request_at(f->h, 0), "Authorization"));
}

static char *big_json(size_t n) {
  char *s = malloc(n + 1);
  size_t len = 0;
  len += (size_t)snprintf(s, n + 1, "{\"items\":[");
  for (int i = 0; len + 40 < n; i++) len += (size_t)snprintf(s + len, n + 1 - len, "{\"i\":%d,\"v\":\"x\"},", i);
  len += (size_t)snprintf(s + len, n + 1 - len, "{}]}");
  return s;
}

static void post_json_plain_and_gzip(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "POST", "/v1/ingest", 202, "{\"accepted\":true}");
  char *json = big_json(200000);
  size_t len = strlen(json);
  hud_result res;

  assert_int_equal(hud_client_post_json(f->c, "/v1/ingest", json, len, false, &res), 0);
  assert_int_equal(res.status, 202);
  hud_result_clear(&res);
  const httpd_request *r = httpd_request_at(f->h, 0);
  assert_string_equal(r->method, "POST");
  assert_null(httpd_request_header(r, "Content-Encoding"));
  assert_string_equal(httpd_request_header(r, "Content-Type"), "application/json");
  assert_int_equal(r->body_len, len);
  assert_memory_equal(r->body, json, len);

  assert_int_equal(hud_client_post_json(f->c, "/v1/ingest", json, len, true, &res), 0);
  assert_int_equal(res.status, 202);
  hud_result_clear(&res);
  r = httpd_request_at(f->h, 1);
  assert_string_equal(httpd_request_header(r, "Content-Encoding"), "gzip");
  assert_false(r->decode_error);
  assert_true(r->body_len < len / 4); /* really compressed */
  assert_int_equal(r->decoded_len, len);
  assert_memory_equal(r->decoded, json, len);
  assert_string_equal(httpd_request_header(r, "Authorization"), "Bearer k-123");
  free(json);

  /* An empty POST body is sent as an empty body, not as a GET. */
  hud_request req = {.method = "POST", .path = "/v1/ingest", .body = "", .body_len = 0};
  assert_int_equal(hud_client_do(f->c, &req, &res), 0);
  hud_result_clear(&res);
  r = httpd_request_at(f->h, 2);
  assert_string_equal(r->method, "POST");
  assert_int_equal(r->body_len, 0);
}

static void status_codes_map_to_errors(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "GET", "/401", 401,
                     "{\"error\":{\"code\":\"bad_key\",\"message\":\"API key not recognised\"}}");
  httpd_route_simple(f->h, "GET", "/403", 403, "{\"error\":{\"code\":\"forbidden\",\"message\":\"read-only key\"}}");
  httpd_route_simple(f->h, "GET", "/413", 413, "{\"error\":{\"code\":413,\"message\":\"batch too large\"}}");
  httpd_route_simple(f->h, "GET", "/500", 500, "Internal Server Error");
  httpd_route_simple(f->h, "GET", "/503", 503, "{\"error\":{\"code\":\"store\",\"message\":\"database locked\"}}");
  httpd_route_simple(f->h, "GET", "/418", 418, "{\"unrelated\":1}");
  httpd_route_simple(f->h, "GET", "/302", 302, "");
  struct {
    const char *path;
    int err;
    long status;
    const char *code, *message;
  } cases[] = {
      {"/401", HUD_EAUTH, 401, "bad_key", "API key not recognised"},
      {"/403", HUD_EFORBIDDEN, 403, "forbidden", "read-only key"},
      {"/nope", HUD_ENOTFOUND, 404, "not_found", "no route in the test fixture"},
      {"/413", HUD_ETOOBIG, 413, NULL, "HTTP 413 from "}, /* not the protocol's error body */
      {"/500", HUD_ESERVER, 500, NULL, "HTTP 500 from "},
      {"/503", HUD_ESERVER, 503, "store", "database locked"},
      {"/418", HUD_EHTTP, 418, NULL, "HTTP 418 from "},
      {"/302", HUD_EHTTP, 302, NULL, "HTTP 302 from "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    hud_result res;
    int rc = hud_client_get(f->c, cases[i].path, NULL, 0, &res);
    if (rc != cases[i].err) fail_msg("%s: got %s, want %s", cases[i].path, hud_err_name(rc), hud_err_name(cases[i].err));
    assert_int_equal(res.err, rc);
    assert_int_equal(res.status, cases[i].status);
    if (cases[i].code) assert_string_equal(res.error_code, cases[i].code);
    else assert_null(res.error_code);
    assert_non_null(res.message);
    if (!strstr(res.message, cases[i].message)) fail_msg("%s: message '%s'", cases[i].path, res.message);
    assert_non_null(res.body); /* the error body is kept for the caller */
    hud_result_clear(&res);
  }
}

static void refused_port_is_econnect_quickly(void **state) {
  int port = 0;
  int fd = refusing_port(&port);
  assert_true(fd >= 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  hud_config *cfg = test_config(url, "k");
  hud_client *c;
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  hud_result res;
  assert_int_equal(hud_client_get(c, "/v1/services", NULL, 0, &res), HUD_ECONNECT);
  assert_int_equal(res.status, 0);
  assert_null(res.body);
  assert_non_null(strstr(res.message, url));
  assert_true(res.elapsed_ms < 1000);
  print_message("refused: %.1f ms: %s\n", res.elapsed_ms, res.message);
  hud_result_clear(&res);
  hud_client_free(c);
  hud_config_free(cfg);
  close(fd);
}

/* A listener whose accept queue is full drops new SYNs, so connecting hangs until connect_timeout_ms. */
static void connect_timeout_is_etimeout(void **state) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(lfd, 0), 0);
  socklen_t len = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &len);
  int fillers[4];
  for (int i = 0; i < 4; i++) {
    fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fillers[i], (struct sockaddr *)&sa, sizeof sa);
  }
  usleep(50000);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
  hud_config *cfg = test_config(url, "k");
  assert_int_equal(hud_config_set(cfg, "connect_timeout_ms", "250", HUD_CFG_SRC_FLAG), 0);
  hud_client *c;
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  hud_result res;
  assert_int_equal(hud_client_get(c, "/v1/services", NULL, 0, &res), HUD_ETIMEOUT);
  print_message("connect timeout: %.1f ms: %s\n", res.elapsed_ms, res.message);
  assert_true(res.elapsed_ms >= 230 && res.elapsed_ms < 1500);
  hud_result_clear(&res);
  hud_client_free(c);
  hud_config_free(cfg);
  for (int i = 0; i < 4; i++) close(fillers[i]);
  close(lfd);
}

static void dropped_connection_is_econnect(void **state) {
  fx *f = *state;
  httpd_response r = {.drop = 1};
  httpd_route(f->h, "GET", "/drop", &r);
  hud_result res;
  assert_int_equal(hud_client_get(f->c, "/drop", NULL, 0, &res), HUD_ECONNECT);
  assert_null(res.body);
  hud_result_clear(&res);
}

static void slow_server_times_out_within_bound(void **state) {
  fx *f = *state;
  reconfigure(f, "timeout_ms", "300");
  httpd_response r = {.status = 200, .body = "{}", .delay_ms = 10000};
  httpd_route(f->h, "GET", "/slow", &r);
  hud_result res;
  assert_int_equal(hud_client_get(f->c, "/slow", NULL, 0, &res), HUD_ETIMEOUT);
  print_message("timeout: %.1f ms: %s\n", res.elapsed_ms, res.message);
  assert_true(res.elapsed_ms >= 280);
  assert_true(res.elapsed_ms < 1500);
  assert_null(res.body);
  hud_result_clear(&res);
  /* The request did reach the server. */
  assert_int_equal(httpd_request_count(f->h), 1);
}

static void oversized_response_is_etoobig(void **state) {
  fx *f = *state;
  reconfigure(f, "max_response_bytes", "100000");
  httpd_response sized = {.body = "0123456789", .repeat_len = 1000000};
  httpd_response chunked = {.body = "0123456789", .repeat_len = 1000000, .chunked = 1};
  httpd_response exact = {.body = "0123456789", .repeat_len = 100000, .chunked = 1};
  httpd_route(f->h, "GET", "/sized", &sized);
  httpd_route(f->h, "GET", "/chunked", &chunked);
  httpd_route(f->h, "GET", "/exact", &exact);
  hud_result res;
  /* Announced by Content-Length: refused before the body is read. */
  assert_int_equal(hud_client_get(f->c, "/sized", NULL, 0, &res), HUD_ETOOBIG);
  assert_non_null(strstr(res.message, "max_response_bytes"));
  assert_null(res.body);
  hud_result_clear(&res);
  /* Chunked: cut off once the limit is passed. */
  assert_int_equal(hud_client_get(f->c, "/chunked", NULL, 0, &res), HUD_ETOOBIG);
  assert_null(res.body);
  hud_result_clear(&res);
  assert_int_equal(hud_client_get(f->c, "/exact", NULL, 0, &res), 0);
  assert_int_equal(res.body_len, 100000);
  assert_memory_equal(res.body + 99990, "0123456789", 10);
  hud_result_clear(&res);
}

static void https_to_plain_server_is_etls(void **state) {
  fx *f = *state;
  char url[64];
  snprintf(url, sizeof url, "https://127.0.0.1:%d", httpd_port(f->h));
  reconfigure(f, "url", url);
  hud_result res;
  assert_int_equal(hud_client_get(f->c, "/v1/services", NULL, 0, &res), HUD_ETLS);
  print_message("tls: %s\n", res.message);
  hud_result_clear(&res);
}

/* A real HTTPS server with a self-signed certificate: refused by default, accepted with that certificate as
 * ca_file, or with insecure. */
static void tls_verification(void **state) {
  char *cert = NULL, *key = NULL;
  assert_int_equal(make_self_signed(&cert, &key), 0);
  httpd *h = httpd_start_tls(cert, key);
  if (!h) {
    free(cert);
    free(key);
    skip(); /* libmicrohttpd built without TLS */
  }
  httpd_route_simple(h, "GET", "/v1/services", 200, "{\"services\":[]}");
  char ca[] = "/tmp/hud-test-ca-XXXXXX";
  int fd = mkstemp(ca);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, cert, strlen(cert)), (ssize_t)strlen(cert));
  close(fd);

  hud_config *cfg = test_config(httpd_url(h), "k");
  hud_client *c;
  hud_result res;
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  assert_int_equal(hud_client_get(c, "/v1/services", NULL, 0, &res), HUD_ETLS);
  print_message("untrusted: %s\n", res.message);
  assert_non_null(strstr(res.message, "certificate"));
  hud_result_clear(&res);
  hud_client_free(c);

  assert_int_equal(hud_config_set(cfg, "ca_file", ca, HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  assert_int_equal(hud_client_get(c, "/v1/services", NULL, 0, &res), 0);
  assert_string_equal(res.body, "{\"services\":[]}");
  hud_result_clear(&res);
  hud_client_free(c);

  /* The right certificate but another host name (localhost is not in it). */
  char url[64];
  snprintf(url, sizeof url, "https://localhost:%d", httpd_port(h));
  assert_int_equal(hud_config_set(cfg, "url", url, HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  int rc = hud_client_get(c, "/v1/services", NULL, 0, &res);
  /* localhost may resolve to ::1 first, where nothing listens; curl then tries 127.0.0.1. */
  assert_int_equal(rc, HUD_ETLS);
  hud_result_clear(&res);
  hud_client_free(c);

  assert_int_equal(hud_config_set(cfg, "url", httpd_url(h), HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_config_set(cfg, "ca_file", "", HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_config_set(cfg, "insecure", "true", HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), 0);
  assert_int_equal(hud_client_get(c, "/v1/services", NULL, 0, &res), 0);
  hud_result_clear(&res);
  hud_client_free(c);

  assert_int_equal(httpd_request_count(h), 2); /* the refused handshakes never became requests */
  hud_config_free(cfg);
  httpd_stop(h);
  unlink(ca);
  free(cert);
  free(key);
}

static void bad_configuration(void **state) {
  char err[300];
  hud_config *cfg = test_config("http://", "k");
  hud_client *c = NULL;
  assert_int_equal(hud_client_new(&c, cfg, err, sizeof err), HUD_ECONFIG);
  assert_null(c);
  print_message("%s\n", err);
  assert_non_null(strstr(err, "url http:// (flag --url): "));
  hud_config_free(cfg);
  cfg = test_config("http://127.0.0.1:1", "k");
  /* A key that would break the header line. */
  assert_int_equal(hud_config_set(cfg, "key", "a\nInjected: 1", HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_client_new(&c, cfg, err, sizeof err), HUD_ECONFIG);
  assert_string_equal(err, "key (flag --key): contains blanks or control characters");
  assert_int_equal(hud_config_set(cfg, "key", "fine", HUD_CFG_SRC_FLAG), 0);
  setenv("HUD_CA_FILE", "/nonexistent/ca.pem", 1);
  assert_int_equal(hud_config_load_env(cfg), 0);
  unsetenv("HUD_CA_FILE");
  assert_int_equal(hud_client_new(&c, cfg, NULL, 0), HUD_ECONFIG);
  assert_int_equal(hud_client_new(&c, cfg, err, sizeof err), HUD_ECONFIG);
  assert_string_equal(err, "ca_file /nonexistent/ca.pem (env HUD_CA_FILE): No such file or directory");
  assert_int_equal(hud_config_set(cfg, "ca_file", "", HUD_CFG_SRC_FLAG), 0);
  assert_int_equal(hud_client_new(&c, cfg, err, sizeof err), 0);
  assert_string_equal(err, "");
  hud_client_free(c);
  hud_config_free(cfg);
}

static void other_methods(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "*", "/thing", 200, "{\"ok\":true}");
  const char *methods[] = {"PUT", "DELETE", "HEAD", "PATCH"};
  for (size_t i = 0; i < 4; i++) {
    int put = strcmp(methods[i], "PUT") == 0;
    hud_request req = {.method = methods[i], .path = "/thing", .body = put ? "{\"a\":1}" : NULL, .body_len = put ? 7 : 0};
    hud_result res;
    assert_int_equal(hud_client_do(f->c, &req, &res), 0);
    assert_int_equal(res.status, 200);
    if (strcmp(methods[i], "HEAD") == 0) assert_int_equal(res.body_len, 0);
    else assert_string_equal(res.body, "{\"ok\":true}");
    hud_result_clear(&res);
    const httpd_request *r = httpd_request_at(f->h, i);
    assert_string_equal(r->method, methods[i]);
    if (put) assert_string_equal((const char *)r->body, "{\"a\":1}");
  }
}

/* The fixture's stacked routes: 503 twice, then 200; then an unlimited replacement wins. */
static void scripted_sequence(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "POST", "/v1/ingest", 200, "{\"ok\":1}");
  httpd_response busy = {.status = 503, .body = "{\"error\":{\"code\":\"busy\",\"message\":\"try later\"}}", .times = 2};
  httpd_route(f->h, "POST", "/v1/ingest", &busy);
  int want[] = {HUD_ESERVER, HUD_ESERVER, 0, 0};
  for (int i = 0; i < 4; i++) {
    hud_result res;
    assert_int_equal(hud_client_post_json(f->c, "/v1/ingest", "{}", 2, false, &res), want[i]);
    if (want[i]) assert_string_equal(res.message, "try later");
    hud_result_clear(&res);
  }
  httpd_route_simple(f->h, "*", "*", 418, "{}");
  httpd_route_simple(f->h, "POST", "/v1/ingest", 201, "{}");
  hud_result res;
  assert_int_equal(hud_client_post_json(f->c, "/v1/ingest", "{}", 2, false, &res), 0);
  assert_int_equal(res.status, 201);
  hud_result_clear(&res);
  assert_int_equal(hud_client_get(f->c, "/other", NULL, 0, &res), HUD_EHTTP);
  assert_int_equal(res.status, 418);
  hud_result_clear(&res);
  /* The server counts a response once its send finished, which may be just after the client has it. */
  for (int i = 0; i < 1000 && httpd_responses_sent(f->h) < 6; i++) usleep(1000);
  assert_int_equal(httpd_responses_sent(f->h), 6);
}

static void connection_is_reused(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "GET", "/a", 200, "{\"n\":1}");
  hud_result res;
  for (int i = 0; i < 20; i++) {
    assert_int_equal(hud_client_get(f->c, "/a", NULL, 0, &res), 0);
    assert_string_equal(res.body, "{\"n\":1}");
    hud_result_clear(&res);
  }
  assert_int_equal(httpd_request_count(f->h), 20);
  int port = httpd_request_at(f->h, 0)->client_port;
  assert_true(port > 0);
  for (size_t i = 1; i < 20; i++) assert_int_equal(httpd_request_at(f->h, i)->client_port, port);
}

#define ISSUE_ID "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define ISSUE_JSON                                                                                               \
  "{\"issue_id\":\"" ISSUE_ID "\",\"kind\":\"new_exception\",\"subject_kind\":\"function\","                   \
  "\"subject_id\":\"7c974e7c-105c-500a-b205-89c23deafc8e\",\"comparison\":\"canary\","                          \
  "\"baseline\":{\"from\":\"2024-08-19T09:14:38Z\",\"to\":\"2024-08-19T10:14:38Z\",\"count\":500,"               \
  "\"sampled_count\":0,\"errors\":0,\"mean_duration\":0,\"stddev_duration\":0,\"error_rate\":0},"              \
  "\"current\":{\"from\":\"2024-08-19T09:14:38Z\",\"to\":\"2024-08-19T10:14:38Z\",\"count\":500,"                \
  "\"sampled_count\":0,\"errors\":3,\"mean_duration\":0,\"stddev_duration\":0,\"error_rate\":0.006},"          \
  "\"metric\":\"exceptions\",\"effect\":3,\"effect_pct\":10000,\"effect_pct_capped\":true,\"ci_low\":1,"         \
  "\"ci_high\":5,\"confidence\":0.999,\"p_value\":1e-5,\"p_text\":\"1.0e-05\",\"detected_at\":\"2024-08-19T10:00:00Z\"," \
  "\"status\":\"muted\",\"headline\":\"new KeyError in price (v1 → v2)\",\"root_causes\":[],"                    \
  "\"history\":[{\"at\":\"2024-08-19T10:00:00Z\",\"event\":\"opened\"},"                                         \
  "{\"at\":\"2024-08-19T10:05:00Z\",\"event\":\"muted\",\"note\":\"known\"}]}"

/* The typed issue calls: one issue with its history, and a status change posted as a JSON body. */
static void api_issue_and_issue_status(void **state) {
  fx *f = *state;
  httpd_route_simple(f->h, "GET", "/v1/issues/" ISSUE_ID, 200, ISSUE_JSON);
  httpd_route_simple(f->h, "POST", "/v1/issues/" ISSUE_ID "/status", 200, ISSUE_JSON);
  hud_arena *a = hud_arena_new();
  hud_issue_request ir = {.scope = {.service = "shop", .environment = "prod"}};
  strcpy(ir.issue_id, ISSUE_ID);
  hud_issue is;
  hud_api_error err;
  assert_int_equal(hud_api_issue(f->c, &ir, a, &is, &err), 0);
  assert_int_equal(is.kind, HUD_ISSUE_NEW_EXCEPTION);
  assert_int_equal(is.comparison, HUD_COMPARE_CANARY);
  assert_int_equal(is.n_history, 2);
  assert_string_equal(is.history[1].note, "known");
  assert_int_equal(is.code_changed, -1);
  const httpd_request *r = httpd_request_at(f->h, 0);
  assert_string_equal(r->method, "GET");
  assert_string_equal(httpd_request_arg(r, "service"), "shop");
  assert_string_equal(httpd_request_arg(r, "env"), "prod");

  hud_issue_status_request sr = {.scope = {.service = "shop"}, .status = "muted", .note = "known"};
  strcpy(sr.issue_id, ISSUE_ID);
  assert_int_equal(hud_api_issue_status(f->c, &sr, a, &is, &err), 0);
  assert_string_equal(is.status, "muted");
  r = httpd_request_at(f->h, 1);
  assert_string_equal(r->method, "POST");
  assert_string_equal(r->path, "/v1/issues/" ISSUE_ID "/status");
  assert_string_equal(httpd_request_arg(r, "service"), "shop");
  assert_string_equal((const char *)r->decoded, "{\"status\":\"muted\",\"note\":\"known\"}");

  /* A read-only key: the server's 403 comes back as HUD_EFORBIDDEN with its message. */
  httpd_route_simple(f->h, "POST", "/v1/issues/" ISSUE_ID "/status", 403,
                     "{\"error\":{\"code\":\"forbidden\",\"message\":\"changing an issue needs the triage role\"}}");
  assert_int_equal(hud_api_issue_status(f->c, &sr, a, &is, &err), HUD_EFORBIDDEN);
  assert_int_equal(err.status, 403);
  assert_string_equal(err.message, "changing an issue needs the triage role");
  /* A status people may not set is refused before anything is sent. */
  size_t before = httpd_request_count(f->h);
  sr.status = "resolved";
  assert_int_equal(hud_api_issue_status(f->c, &sr, a, &is, &err), HUD_EFIELD);
  assert_int_equal(httpd_request_count(f->h), before);
  hud_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(get_ok_with_params_and_headers, setup, teardown),
      cmocka_unit_test_setup_teardown(no_key_no_authorization_header, setup, teardown),
      cmocka_unit_test_setup_teardown(post_json_plain_and_gzip, setup, teardown),
      cmocka_unit_test_setup_teardown(status_codes_map_to_errors, setup, teardown),
      cmocka_unit_test(refused_port_is_econnect_quickly),
      cmocka_unit_test(connect_timeout_is_etimeout),
      cmocka_unit_test_setup_teardown(dropped_connection_is_econnect, setup, teardown),
      cmocka_unit_test_setup_teardown(slow_server_times_out_within_bound, setup, teardown),
      cmocka_unit_test_setup_teardown(oversized_response_is_etoobig, setup, teardown),
      cmocka_unit_test_setup_teardown(https_to_plain_server_is_etls, setup, teardown),
      cmocka_unit_test(tls_verification),
      cmocka_unit_test(bad_configuration),
      cmocka_unit_test_setup_teardown(other_methods, setup, teardown),
      cmocka_unit_test_setup_teardown(scripted_sequence, setup, teardown),
      cmocka_unit_test_setup_teardown(connection_is_reused, setup, teardown),
      cmocka_unit_test_setup_teardown(api_issue_and_issue_status, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

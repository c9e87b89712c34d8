/* POST /v1/ingest: decode (gzip or plain JSON), validate the whole batch, then store it in one
 * transaction. Nothing of a rejected batch is stored. */
#define _GNU_SOURCE
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "http.h"
#include "metrics.h"

/* Batches from clocks this far ahead are refused: they would sit in the future forever. */
#define MAX_FUTURE_NS (24LL * 3600 * 1000000000LL)

static int fail(hud_codec_error *err, int code, const char *path, const char *fmt, const char *arg) {
  err->code = code;
  snprintf(err->path, sizeof err->path, "%s", path);
  char what[256];
  snprintf(what, sizeof what, fmt, arg);
  snprintf(err->message, sizeof err->message, "%s: %s", path, what);
  return code;
}

static int check_sketch(const hud_sketch_bins *b, const char *kind, size_t i, hud_codec_error *err) {
  if (!b) return 0;
  char path[96];
  snprintf(path, sizeof path, "%s[%zu].sketch", kind, i);
  if (b->alpha != HUD_SKETCH_DEFAULT_ALPHA)
    return fail(err, HUD_ERANGE, path, "alpha must be %s (sketches of one store must merge)", "0.005");
  hud_sketch *s;
  int rc = hud_sketch_import(b, &s);
  if (rc < 0) return fail(err, HUD_ERANGE, path, "%s", hud_strerror(rc));
  hud_sketch_free(s);
  return 0;
}

static int check_time(hud_time_ns ts, hud_time_ns now, const char *kind, size_t i, hud_codec_error *err) {
  if (ts <= now + MAX_FUTURE_NS) return 0;
  char path[96];
  snprintf(path, sizeof path, "%s[%zu].timestamp", kind, i);
  return fail(err, HUD_ERANGE, path, "%s", "more than 24 h in the future");
}

int srv_ingest_validate(const hud_batch *b, hud_time_ns now, hud_codec_error *err) {
  int rc = 0;
  if (!b->service || !b->service[0]) return fail(err, HUD_EFIELD, "service", "%s", "must be a non-empty string");
  for (size_t i = 0; rc == 0 && i < b->n_invocations; i++) {
    rc = check_sketch(b->invocations[i].sketch, "invocations", i, err);
    if (rc == 0) rc = check_time(b->invocations[i].timestamp, now, "invocations", i, err);
  }
  for (size_t i = 0; rc == 0 && i < b->n_flows; i++) {
    rc = check_sketch(b->flows[i].sketch, "flows", i, err);
    if (rc == 0) rc = check_time(b->flows[i].timestamp, now, "flows", i, err);
  }
  for (size_t i = 0; rc == 0 && i < b->n_exception_flows; i++)
    rc = check_time(b->exception_flows[i].timestamp, now, "exception_flows", i, err);
  for (size_t i = 0; rc == 0 && i < b->n_flow_functions; i++)
    rc = check_time(b->flow_functions[i].timestamp, now, "flow_functions", i, err);
  return rc;
}

int srv_ingest_decode(const void *body, size_t len, int gzip, hud_time_ns now, hud_arena *arena, hud_batch *out,
                      hud_codec_error *err) {
  memset(err, 0, sizeof *err);
  int rc = hud_batch_decode_body(body, len, gzip, NULL, arena, out, err);
  if (rc == 0) rc = srv_ingest_validate(out, now, err);
  if (rc < 0 && err->code == 0) {
    err->code = rc;
    snprintf(err->message, sizeof err->message, "%s", hud_strerror(rc));
  }
  return rc;
}

static const char *reject_reason(int code) {
  switch (code) {
  case HUD_EPARSE: return "parse";
  case HUD_ETOOBIG: return "too_large";
  case HUD_EVERSION: return "version";
  default: return "invalid";
  }
}

static int codec_error_response(srv_response *resp, const hud_codec_error *e) {
  char *json;
  size_t len;
  int status = hud_api_http_status(e->code);
  if (status < 400) status = 400;
  if (hud_error_body_from_codec(e, &json, &len) < 0)
    return srv_response_error(resp, status, hud_api_error_code(e->code), "%s", e->message);
  srv_response_json(resp, status, json);
  snprintf(resp->err_code, sizeof resp->err_code, "%s", hud_api_error_code(e->code));
  return 0;
}

static int handle_ingest(const srv_request *req, srv_response *resp) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  hud_time_ns now = (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  if (!req->body) {
    srv_metrics_rejected("invalid");
    return srv_response_error(resp, 400, "invalid_field", "empty body: expected a batch (JSON or gzip JSON)");
  }
  int gzip = strcasecmp(req->content_encoding, "gzip") == 0;
  if (req->content_encoding[0] && !gzip && strcasecmp(req->content_encoding, "identity") != 0) {
    srv_metrics_rejected("invalid");
    return srv_response_error(resp, 415, "unsupported_encoding", "Content-Encoding '%s' is not supported (gzip)",
                              req->content_encoding);
  }
  hud_arena *arena = hud_arena_new();
  if (!arena) return HUD_ENOMEM;
  hud_batch b;
  hud_codec_error err;
  int rc = srv_ingest_decode(req->body, req->body_len, gzip, now, arena, &b, &err);
  if (rc < 0) {
    srv_metrics_rejected(reject_reason(rc));
    codec_error_response(resp, &err);
    hud_arena_free(arena);
    return 0;
  }
  /* The key decides the environment; a batch may name one only if the key grants it. */
  const char *env = b.environment;
  if (env && !srv_request_env_allowed(req, env)) {
    srv_metrics_rejected("auth");
    srv_response_error(resp, 403, "forbidden", "environment: this API key does not grant '%s'", env);
    hud_arena_free(arena); /* ENV lives in the arena */
    return 0;
  }
  if (!env) {
    if (req->n_envs != 1) {
      srv_metrics_rejected("invalid");
      hud_arena_free(arena);
      return srv_response_error(resp, 400, "invalid_field",
                                "environment: required because this API key grants several environments");
    }
    env = req->envs[0];
  }
  srv_ingest_result res;
  rc = srv_store_ingest(req->store, env, &b, (int64_t)ts.tv_sec, &res);
  if (rc < 0) {
    srv_metrics_rejected("store");
    hud_arena_free(arena);
    return srv_response_error(resp, 503, "store_error", "the batch was not stored (%s); retry later",
                              hud_strerror(rc));
  }
  srv_metrics_ingest_batch(res.duplicate);
  srv_metrics_ingest_rows(res.rows);
  hud_ingest_response out = {0};
  snprintf(out.batch_id, sizeof out.batch_id, "%s", b.batch_id);
  out.duplicate = res.duplicate;
  out.records = res.duplicate ? 0
                              : (int64_t)(b.n_declarations + b.n_invocations + b.n_exception_flows + b.n_flows +
                                          b.n_flow_functions);
  hud_arena_free(arena);
  char *json;
  if (hud_ingest_response_encode(&out, &json, NULL, NULL) < 0) return HUD_ENOMEM;
  return srv_response_json(resp, 200, json);
}

const srv_route srv_ingest_routes[] = {
    {"POST", "/v1/ingest", handle_ingest, 0, HUD_MAX_BODY_BYTES, "ingest"},
    {0},
};

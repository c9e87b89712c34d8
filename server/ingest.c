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
    return srv_response_error(resp, 415, hud_api_error_code(HUD_EUNSUPPORTED),
                              "Content-Encoding '%s' is not supported (gzip)", req->content_encoding);
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
    return srv_response_error(resp, 503, hud_api_error_code(HUD_ESTORE), "the batch was not stored (%s); retry later",
                              srv_store_disk_full() ? "disk full" : hud_strerror(rc));
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
    {"POST", "/v1/ingest", handle_ingest, SRV_ROLE_INGEST | SRV_ROUTE_INGEST, HUD_MAX_BODY_BYTES, "ingest"},
    {0},
};

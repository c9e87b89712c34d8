/* POST /v1/ingest: decode (gzip or plain JSON), validate the whole batch, then store it in one
 * transaction. Nothing of a rejected batch is stored. A batch whose id is already stored is
 * answered as a duplicate from its envelope alone; the memory of a decode is charged to the
 * store's decode budget. */
#define _GNU_SOURCE
#include "ingest.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hud/codec.h"
#include "hud/err.h"
#include "http.h"
#include "membudget.h"
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

/* The JSON size a gzip body claims (its trailer), at most the decoder's limit; 0 for plain JSON. */
static size_t inflated_size(const unsigned char *body, size_t len, int gzip) {
  if (!(gzip || hud_is_gzip(body, len)) || len < 18) return 0;
  const unsigned char *t = body + len - 4;
  size_t n = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
  return n > HUD_MAX_DECODED_BYTES ? HUD_MAX_DECODED_BYTES : n;
}

/* A re-sent batch (its id is stored) is answered without decoding it: the envelope is read first,
 * and only a known id makes the rest worth reading, for the environment rules of a full ingest.
 * 1 answered, 0 not a known batch (or not readable here: the full path answers), < 0 error. */
static int answer_known(const srv_request *req, srv_response *resp, int gzip) {
  srv_batch_head h;
  if (!srv_ingest_peek(req->body, req->body_len, gzip, 0, &h)) return 0;
  if (h.schema_version < HUD_SCHEMA_VERSION_MIN || h.schema_version > HUD_SCHEMA_VERSION_MAX) return 0;
  if (srv_store_batch_known(req->store, h.batch_id) != 1) return 0;
  if (!srv_ingest_peek(req->body, req->body_len, gzip, 1, &h)) return 0;
  if (h.has_environment ? !srv_request_env_allowed(req, h.environment) : req->n_envs != 1) return 0;
  srv_metrics_ingest_batch(1);
  srv_metrics_ingest_rows(0);
  hud_ingest_response out = {0};
  snprintf(out.batch_id, sizeof out.batch_id, "%s", h.batch_id);
  out.duplicate = 1;
  char *json;
  if (hud_ingest_response_encode(&out, &json, NULL, NULL) < 0) return HUD_ENOMEM;
  srv_response_json(resp, 200, json);
  return 1;
}

/* A decode charges the blocks of its arena to the store's decode budget, a MiB at a time (one
 * lock per MiB, not per block), and waits there while other decodes hold the budget. */
#define CHARGE_STEP ((size_t)1 << 20)
/* Requests that charged this much hand freed memory back to the system when they leave the
 * budget idle: malloc keeps it otherwise, in the arena of every thread that decoded. */
#define TRIM_AFTER ((size_t)16 << 20)

typedef struct charge {
  srv_memuser u;
  size_t credit;
} charge;

static int on_arena_grow(void *arg, size_t bytes) {
  charge *ch = arg;
  if (bytes > ch->credit) {
    size_t step = bytes > CHARGE_STEP ? bytes : CHARGE_STEP;
    srv_membudget_charge(&ch->u, step);
    ch->credit += step;
  }
  ch->credit -= bytes;
  return 0;
}

/* Decodes, validates and stores the body; the arena's memory is charged to CH. */
static int ingest_batch(const srv_request *req, srv_response *resp, int gzip, struct timespec ts, charge *ch) {
  hud_time_ns now = (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  hud_arena *arena = hud_arena_new();
  if (!arena) return HUD_ENOMEM;
  hud_arena_set_grow_hook(arena, on_arena_grow, ch);
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
                              srv_store_disk_full(req->store) ? "disk full" : hud_strerror(rc));
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

static int handle_ingest(const srv_request *req, srv_response *resp) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
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
  int rc = answer_known(req, resp, gzip);
  if (rc != 0) return rc < 0 ? rc : 0;
  /* The body and its inflated text are charged up front, the decoded batch as it grows. */
  charge ch = {.credit = 0};
  srv_membudget_enter(srv_store_decode_budget(req->store), &ch.u);
  srv_membudget_charge(&ch.u, req->body_len + inflated_size(req->body, req->body_len, gzip));
  rc = ingest_batch(req, resp, gzip, ts, &ch);
  int big = ch.u.charged >= TRIM_AFTER;
  if (srv_membudget_leave(&ch.u) && big) malloc_trim(0);
  return rc;
}

const srv_route srv_ingest_routes[] = {
    {"POST", "/v1/ingest", handle_ingest, SRV_ROLE_INGEST | SRV_ROUTE_INGEST, HUD_MAX_BODY_BYTES, "ingest"},
    {0},
};

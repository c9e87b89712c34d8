/* Shared plumbing of the query handlers (see query_internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hud/err.h"
#include "query_internal.h"
#include "store.h"

int q_begin(const srv_request *req, srv_response *resp, q_ctx *q) {
  memset(q, 0, sizeof *q);
  q->req = req;
  q->resp = resp;
  q->arena = hud_arena_new();
  if (!q->arena) return srv_response_error(resp, 500, "internal", "out of memory"), HUD_ENOMEM;
  q->params = hud_arena_calloc(q->arena, req->n_query ? req->n_query : 1, sizeof *q->params);
  if (!q->params) {
    hud_arena_free(q->arena);
    q->arena = NULL;
    return srv_response_error(resp, 500, "internal", "out of memory"), HUD_ENOMEM;
  }
  for (size_t i = 0; i < req->n_query; i++) {
    q->params[i].key = req->query[i].name;
    q->params[i].value = req->query[i].value;
  }
  q->n_params = req->n_query;
  int rc = srv_store_read_begin(req->store, req->fresh, q->arena, &q->rd);
  if (rc < 0) {
    q->rd = NULL;
    hud_arena_free(q->arena);
    q->arena = NULL;
    srv_response_error(resp, rc == HUD_EBUSY ? 503 : 500, rc == HUD_EBUSY ? "unavailable" : "internal",
                       "store unavailable: %s", hud_strerror(rc));
    return rc;
  }
  q->reads = srv_store_read_ops(q->rd);
  return 0;
}

int q_env_allowed(void *req, const char *env) { return srv_request_env_allowed(req, env); }

int q_end(q_ctx *q, int rc) {
  srv_store_read_end(q->rd);
  q->rd = NULL;
  hud_arena_free(q->arena);
  q->arena = NULL;
  return rc < 0 && q->resp->err_code[0] ? 0 : rc;
}

static int q_status_of(int rc) {
  int s = hud_api_http_status(rc);
  return s >= 400 ? s : 500;
}

int q_fail_codec(q_ctx *q, const hud_codec_error *e) {
  int code = e->code < 0 ? e->code : HUD_EINVAL;
  srv_response_error(q->resp, q_status_of(code), hud_api_error_code(code), "%s", e->message);
  return 0;
}

int q_fail(q_ctx *q, int rc, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* A read the store engine does not answer (store_reads.h): not the client's media type. */
  if (rc == HUD_EUNSUPPORTED) srv_response_error(q->resp, 501, "not_implemented", "%s", msg);
  else srv_response_error(q->resp, q_status_of(rc), hud_api_error_code(rc), "%s", msg);
  return 0;
}

static hud_time_ns q_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (hud_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int q_scope(q_ctx *q, const hud_query_scope *s) {
  const srv_request *req = q->req;
  const char *env = s->environment;
  if (!env) {
    if (req->n_envs != 1) {
      q_fail(q, HUD_EFIELD, "environment: required, this key sees %zu environments", req->n_envs);
      return HUD_EFIELD;
    }
    env = req->envs[0];
  } else if (!srv_request_env_allowed(req, env)) {
    q_fail(q, HUD_EFORBIDDEN, "environment: '%s' is not visible to this key", env);
    return HUD_EFORBIDDEN;
  }
  q->env = env;
  if (!s->service || !*s->service) {
    q_fail(q, HUD_EFIELD, "service: required");
    return HUD_EFIELD;
  }
  q->service = s->service;
  int rc = sq_service_id(q, env, s->service, &q->service_id);
  if (rc == HUD_ENOTFOUND) {
    q_fail(q, HUD_ENOTFOUND, "service '%s' has no data in environment '%s'", s->service, env);
    return rc;
  }
  if (rc < 0) {
    q_fail(q, rc, "store: %s", hud_strerror(rc));
    return rc;
  }
  if (s->version) {
    int64_t fs, ls;
    rc = sq_version(q, q->service_id, s->version, &q->version_id, &fs, &ls);
    if (rc == HUD_ENOTFOUND) {
      q_fail(q, HUD_ENOTFOUND, "version '%s' of service '%s' is unknown", s->version, s->service);
      return rc;
    }
    if (rc < 0) {
      q_fail(q, rc, "store: %s", hud_strerror(rc));
      return rc;
    }
    q->version = s->version;
  }
  q->to = s->to ? s->to : q_now_ns();
  q->from = s->from ? s->from : q->to - Q_DEFAULT_WINDOW_NS;
  if (q->from >= q->to) {
    q_fail(q, HUD_ERANGE, "from: must be before to");
    return HUD_ERANGE;
  }
  q->from_s = q->from / 1000000000LL;
  q->to_s = (q->to + 999999999LL) / 1000000000LL;
  /* Stored issues need no window of aggregates. */
  return srv_store_read_window(q->rd, q->service_id, q->version_id, q->from_s, q->to_s, !q->stored_only);
}

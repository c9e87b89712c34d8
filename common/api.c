/* Typed query API calls: a request struct becomes a target (and a body), the answer is decoded by the
 * codec into the caller's arena; errors come back in one vocabulary (hud/api.h). */
#define _GNU_SOURCE
#include "hud/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hud/codec.h"
#include "hud/err.h"

typedef int (*api_decode_fn)(const char *json, size_t len, hud_arena *arena, void *out, hud_codec_error *err);

/* What one call sends and how its answer decodes. */
typedef struct api_call {
  const char *method;
  char *target;  /* malloc'ed "/v1/...?..." */
  char *body;    /* malloc'ed JSON, or NULL */
  size_t body_len;
  api_decode_fn decode;
} api_call;

/* Responses ignore unknown members: servers may add figures. */
#define API_DECODER(T)                                                                                \
  static int dec_##T(const char *json, size_t len, hud_arena *arena, void *out, hud_codec_error *err) { \
    hud_decode_opts o = {.unknown_fields = HUD_UNKNOWN_IGNORE};                                       \
    return T##_decode(json, len, &o, arena, (T *)out, err);                                           \
  }
API_DECODER(hud_services_response)
API_DECODER(hud_top_response)
API_DECODER(hud_by_module_response)
API_DECODER(hud_function_detail)
API_DECODER(hud_callgraph_response)
API_DECODER(hud_flows_response)
API_DECODER(hud_issues_response)
API_DECODER(hud_issue)
API_DECODER(hud_exception_flows_response)

static void call_clear(api_call *call) {
  free(call->target);
  free(call->body);
  call->target = call->body = NULL;
}

/* ---- request building, one per route ---- */

static int build_services(const void *req, api_call *call) {
  const hud_services_request *r = req;
  call->decode = dec_hud_services_response;
  return hud_services_request_to_target(r ? r->service : NULL, &call->target);
}

static int build_top(const void *req, api_call *call) {
  call->decode = dec_hud_top_response;
  return hud_top_request_to_target(req, &call->target);
}

static int build_by_module(const void *req, api_call *call) {
  call->method = "POST";
  call->decode = dec_hud_by_module_response;
  call->target = strdup("/v1/functions/by-module");
  if (!call->target) return HUD_ENOMEM;
  return hud_by_module_request_encode(req, &call->body, &call->body_len, NULL);
}

static int build_function(const void *req, api_call *call) {
  call->decode = dec_hud_function_detail;
  return hud_function_request_to_target(req, &call->target);
}

static int build_callgraph(const void *req, api_call *call) {
  call->decode = dec_hud_callgraph_response;
  return hud_callgraph_request_to_target(req, &call->target);
}

static int build_flows(const void *req, api_call *call) {
  call->decode = dec_hud_flows_response;
  return hud_flows_request_to_target(req, &call->target);
}

static int build_issues(const void *req, api_call *call) {
  call->decode = dec_hud_issues_response;
  return hud_issues_request_to_target(req, &call->target);
}

static int build_issue(const void *req, api_call *call) {
  call->decode = dec_hud_issue;
  return hud_issue_request_to_target(req, &call->target);
}

static int build_issue_status(const void *req, api_call *call) {
  call->method = "POST";
  call->decode = dec_hud_issue;
  int rc = hud_issue_status_request_to_target(req, &call->target);
  if (rc < 0) return rc;
  return hud_issue_status_request_encode(req, &call->body, &call->body_len, NULL);
}

static int build_exception_flows(const void *req, api_call *call) {
  call->decode = dec_hud_exception_flows_response;
  return hud_exception_flows_request_to_target(req, &call->target);
}

typedef int (*api_build_fn)(const void *req, api_call *call);

static int call_build(api_build_fn build, const void *req, api_call *call) {
  memset(call, 0, sizeof *call);
  call->method = "GET";
  if (!req) return HUD_EINVAL;
  int rc = build(req, call);
  if (rc < 0) call_clear(call);
  return rc;
}

/* ---- answers ---- */

static void err_set(hud_api_error *err, int code, const char *fmt, const char *arg) {
  err->code = code;
  snprintf(err->message, sizeof err->message, fmt, arg);
}

/* Reads the server's {"error":{...}} body with the codec; the wire code decides the HUD_E* code. */
static int decode_error_body(const hud_result *res, hud_api_error *err) {
  if (!res->body || !res->body_len) return HUD_ENOTFOUND;
  hud_arena *a = hud_arena_new();
  if (!a) return HUD_ENOMEM;
  hud_error_response e;
  hud_decode_opts o = {.unknown_fields = HUD_UNKNOWN_IGNORE};
  int rc = hud_error_response_decode(res->body, res->body_len, &o, a, &e, NULL);
  if (rc == 0) {
    snprintf(err->wire_code, sizeof err->wire_code, "%s", e.code);
    snprintf(err->field, sizeof err->field, "%s", e.field ? e.field : "");
    snprintf(err->message, sizeof err->message, "%s", e.message);
    int code = hud_api_error_from_code(e.code);
    err->code = code != HUD_EHTTP ? code : res->err;
  }
  hud_arena_free(a);
  return rc;
}

/* Fills ERR from RES and, on success, decodes the body into RESP. Returns ERR->code. */
static int call_finish(const api_call *call, const hud_result *res, hud_arena *arena, void *resp,
                       hud_api_error *err) {
  memset(err, 0, sizeof *err);
  err->status = res->status;
  err->elapsed_ms = res->elapsed_ms;
  if (res->err != 0) {
    if (res->status == 0 || decode_error_body(res, err) != 0) {
      err->code = res->err;
      snprintf(err->message, sizeof err->message, "%s", res->message ? res->message : hud_strerror(res->err));
    }
    return err->code;
  }
  hud_codec_error ce = {0};
  int rc = call->decode(res->body ? res->body : "", res->body ? res->body_len : 0, arena, resp, &ce);
  if (rc < 0) {
    err_set(err, rc, "the server's answer does not decode: %.440s", ce.message[0] ? ce.message : hud_strerror(rc));
    snprintf(err->field, sizeof err->field, "%s", ce.path);
  }
  return err->code;
}

/* ---- blocking ---- */

static int api_do(hud_client *c, api_build_fn build, const void *req, hud_arena *arena, void *resp,
                  hud_api_error *err) {
  hud_api_error scratch;
  if (!err) err = &scratch;
  memset(err, 0, sizeof *err);
  if (!c || !arena || !resp) {
    err_set(err, HUD_EINVAL, "%s", "client, arena and response are required");
    return err->code;
  }
  api_call call;
  int rc = call_build(build, req, &call);
  if (rc < 0) {
    err_set(err, rc, "cannot build the request: %s", hud_strerror(rc));
    return rc;
  }
  hud_request r = {.method = call.method, .path = call.target, .body = call.body, .body_len = call.body_len};
  hud_result res;
  hud_client_do(c, &r, &res);
  rc = call_finish(&call, &res, arena, resp, err);
  hud_result_clear(&res);
  call_clear(&call);
  return rc;
}

/* ---- non-blocking ---- */

typedef struct api_pending {
  api_call call;
  hud_arena *arena;
  void *resp;
  hud_api_cb cb;
  void *ud;
} api_pending;

static void on_done(hud_client *c, unsigned long id, hud_result *res, void *ud) {
  api_pending *p = ud;
  hud_api_error err;
  call_finish(&p->call, res, p->arena, p->resp, &err);
  p->cb(c, id, &err, p->resp, p->ud);
  call_clear(&p->call);
  free(p);
}

static int api_start(hud_client *c, api_build_fn build, const void *req, hud_arena *arena, void *resp,
                     hud_api_cb cb, void *ud, unsigned long *id) {
  if (!c || !arena || !resp || !cb) return HUD_EINVAL;
  api_pending *p = calloc(1, sizeof *p);
  if (!p) return HUD_ENOMEM;
  int rc = call_build(build, req, &p->call);
  if (rc < 0) {
    free(p);
    return rc;
  }
  p->arena = arena;
  p->resp = resp;
  p->cb = cb;
  p->ud = ud;
  hud_request r = {.method = p->call.method, .path = p->call.target, .body = p->call.body,
                   .body_len = p->call.body_len};
  rc = hud_client_start(c, &r, on_done, p, id);
  if (rc < 0) {
    call_clear(&p->call);
    free(p);
  }
  return rc;
}

/* ---- the routes ---- */

#define API_ROUTE(name, Req, Resp)                                                                        \
  int hud_api_##name(hud_client *c, const Req *req, hud_arena *arena, Resp *resp, hud_api_error *err) {  \
    return api_do(c, build_##name, req, arena, resp, err);                                              \
  }                                                                                                     \
  int hud_api_##name##_start(hud_client *c, const Req *req, hud_arena *arena, Resp *resp, hud_api_cb cb, \
                             void *ud, unsigned long *id) {                                              \
    return api_start(c, build_##name, req, arena, resp, cb, ud, id);                                    \
  }

API_ROUTE(services, hud_services_request, hud_services_response)
API_ROUTE(top, hud_top_request, hud_top_response)
API_ROUTE(by_module, hud_by_module_request, hud_by_module_response)
API_ROUTE(function, hud_function_request, hud_function_detail)
API_ROUTE(callgraph, hud_callgraph_request, hud_callgraph_response)
API_ROUTE(flows, hud_flows_request, hud_flows_response)
API_ROUTE(issues, hud_issues_request, hud_issues_response)
API_ROUTE(issue, hud_issue_request, hud_issue)
API_ROUTE(issue_status, hud_issue_status_request, hud_issue)
API_ROUTE(exception_flows, hud_exception_flows_request, hud_exception_flows_response)

/* Flows of the Node sensor: the natives lib/frameworks.js calls around a request or a job.
 *
 *   flowEndpoint(method, route) -> idx   registers (or finds) an endpoint flow;
 *   flowQueue(task, queue) -> idx        a queue consumer;
 *   flowAdd(idx, status, dur_ns[, type]) one finished request or job (type: the escaped
 *                                        exception's constructor name);
 *   flowSet(idx)                         the route is known now: the code that runs next on the
 *                                        current stack belongs to flow idx;
 *   flowContext(fn)                      fn() -> the async context's flow (AsyncLocalStorage).
 *
 * The current flow follows the work (docs/architecture.md, "Flows in Node"): a call inherits
 * it from the instrumented call below it on the shadow stack; a call that resumes after an
 * await restores the flow it was entered in (its frame carries it); a call that starts on an
 * empty shadow stack (a callback of a timer, an event, a promise job of code that is not
 * instrumented) asks the async context through fn, once per such run. */
#include "flows.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "hud/err.h"
#include "runtime.h"

uint32_t hsn_flow_cur;
static napi_ref context_fn;

uint32_t hsn_flow_context(napi_env env) {
  static bool asking; /* instrumented code run by the context function itself: no flow */
  if (!sns_flows_used || !context_fn || asking) return 0;
  napi_value fn, undef, ret;
  uint32_t idx = 0;
  if (napi_get_reference_value(env, context_fn, &fn) != napi_ok || !fn) return 0;
  napi_get_undefined(env, &undef);
  asking = true;
  napi_status st = napi_call_function(env, undef, fn, 0, NULL, &ret);
  asking = false;
  if (st != napi_ok) {
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    return 0;
  }
  if (napi_get_value_uint32(env, ret, &idx) != napi_ok || idx > sns_nflows) return 0;
  return idx;
}

/* A string argument into BUF (truncated), or NULL when it is not a string. */
static const char *str_arg(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t n = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return NULL;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return NULL;
  return buf;
}

static napi_value reg(napi_env env, napi_callback_info info, hud_flow_kind kind) {
  size_t argc = 2;
  napi_value argv[2], ret;
  char a[1024], b[1024];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *x = argc > 0 ? str_arg(env, argv[0], a, sizeof a) : NULL;
  const char *y = argc > 1 ? str_arg(env, argv[1], b, sizeof b) : NULL;
  uint32_t idx = 0;
  int rc;
  hsn_lock();
  if (kind == HUD_FLOW_ENDPOINT)
    rc = sns_flow_register(kind, x, y, NULL, NULL, &idx);
  else
    rc = sns_flow_register(kind, NULL, NULL, x, y, &idx);
  hsn_unlock();
  if (rc) idx = 0; /* a bad name: the request runs without a flow */
  napi_create_uint32(env, idx, &ret);
  return ret;
}

static napi_value js_endpoint(napi_env env, napi_callback_info info) { return reg(env, info, HUD_FLOW_ENDPOINT); }
static napi_value js_queue(napi_env env, napi_callback_info info) { return reg(env, info, HUD_FLOW_QUEUE_CONSUMER); }

static napi_value js_add(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return NULL;
  uint32_t idx = 0;
  int32_t status = 0;
  double dur = 0;
  char tb[256];
  napi_get_value_uint32(env, argv[0], &idx);
  napi_get_value_int32(env, argv[1], &status);
  napi_get_value_double(env, argv[2], &dur);
  const char *tn = argc > 3 ? str_arg(env, argv[3], tb, sizeof tb) : NULL;
  if (tn && !tn[0]) tn = NULL;
  char *s = tn ? sns_dupstr(tn) : NULL;
  hsn_lock();
  const char *interned = s ? sns_intern(s) : NULL;
  sns_flow_add(idx, status, dur > 0 ? (int64_t)dur : 0, interned);
  hsn_unlock();
  return NULL;
}

static napi_value js_set(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t idx = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc) napi_get_value_uint32(env, argv[0], &idx);
  hsn_lock();
  hsn_flow_cur = idx <= sns_nflows ? idx : 0;
  hsn_unlock();
  return NULL;
}

static napi_value js_context(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype t;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "flowContext(fn)");
    return NULL;
  }
  if (context_fn) napi_delete_reference(env, context_fn);
  napi_create_reference(env, argv[0], 1, &context_fn);
  return NULL;
}

int hsn_flows_init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"flowEndpoint", js_endpoint}, {"flowQueue", js_queue}, {"flowAdd", js_add},
             {"flowSet", js_set},           {"flowContext", js_context}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return -1;
  }
  return 0;
}

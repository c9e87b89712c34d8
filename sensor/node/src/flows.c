/* Flows of the Node sensor: the natives lib/frameworks.js calls around a request or a job.
 *
 *   flowEndpoint(method, route) -> idx   registers (or finds) an endpoint flow (0: refused);
 *   flowQueue(task, queue) -> idx        a queue consumer;
 *   flowAdd(idx, status, dur_ns[, type]) one finished request or job (type: the escaped
 *                                        exception's constructor name);
 *   flowDrain()                          the environment's ring of finished requests and
 *                                        jobs without an exception (lib/runtime.js
 *                                        flowDone, runtime.c FQ_*) is full: drain it now;
 *   flowEscaped(err) -> bool             err escaped the flow (an unhandled rejection).
 *
 * How the current flow follows the work is lib/runtime.js's (docs/architecture.md, "Node
 * sensor: flows"); the edges, timed calls and exceptions carry it (runtime.c). */
#include "flows.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "hud/err.h"
#include "runtime.h"

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

static napi_value js_drain(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  void *r = NULL;
  if (napi_get_cb_info(env, info, &argc, NULL, NULL, &r) == napi_ok) hsn_flow_drain(r);
  return NULL;
}

/* flowEscaped(err) -> bool: ERR escaped the flow (an unhandled rejection or an uncaught
 * exception): its exception path, when it is the one still open, closes with no catcher. */
static napi_value js_escaped(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ret;
  void *r = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, &r);
  const void *thread, *exc;
  bool done = false;
  if (argc == 1 && hsn_last_escape(env, r, argv[0], &thread, &exc)) {
    hsn_lock();
    done = sns_xpath_escaped(thread, exc);
    hsn_unlock();
  }
  napi_get_boolean(env, done, &ret);
  return ret;
}

int hsn_flows_init(napi_env env, napi_value exports, hsn_rt *r) {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"flowEndpoint", js_endpoint}, {"flowQueue", js_queue}, {"flowAdd", js_add}, {"flowDrain", js_drain},
                 {"flowEscaped", js_escaped}};
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, r, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return -1;
  }
  return 0;
}

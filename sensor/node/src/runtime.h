/* The Node sensor's runtime over the shared core: the native bodies of `__hud` (runtime.c). */
#ifndef HSN_RUNTIME_H
#define HSN_RUNTIME_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/* One environment's tables (runtime.c). */
typedef struct hsn_rt hsn_rt;

/* Adds the natives of lib/runtime.js (tables, edge, timed, exitTimed, fail, table, start, flush,
 * shutdown, counts, stats) and the flow natives (flows.h) to EXPORTS. 0 or -1. */
int hsn_runtime_init(napi_env env, napi_value exports);

/* The lock the hooks hold while they touch the core (the sender takes it for its snapshot). */
void hsn_lock(void);
void hsn_unlock(void);

/* Drains R's ring of finished requests and jobs (lib/runtime.js flowDone) into the current
 * period: JS found it full. Takes the lock. */
void hsn_flow_drain(hsn_rt *r);

/* Whether ERR is the error of one of the last escapes fail() recorded in R's environment; then
 * *THREAD and *EXC are the keys of its exception path (sns_xpath_escaped). Called without the lock. */
bool hsn_last_escape(napi_env env, hsn_rt *r, napi_value err, const void **thread, const void **exc);

#endif

/* The Node sensor's runtime over the shared core: the native bodies of `__hud` (runtime.c). */
#ifndef HSN_RUNTIME_H
#define HSN_RUNTIME_H

#include <node_api.h>

/* Adds enter/exit/fail/s/r/table/start/flush/shutdown/counts/stats to EXPORTS. 0 or -1. */
int hsn_runtime_init(napi_env env, napi_value exports);

#endif

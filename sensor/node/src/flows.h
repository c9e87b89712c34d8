/* Flows of the Node sensor (flows.c): endpoints and queue consumers registered with the core
 * and their finished requests and jobs. The current flow is lib/runtime.js's: each edge of the
 * edge table carries it (runtime.c). */
#ifndef HSN_FLOWS_H
#define HSN_FLOWS_H

#include <node_api.h>

#include "runtime.h"

/* Adds flowEndpoint/flowQueue/flowAdd/flowEscaped to EXPORTS, for the environment of R. 0 or -1. */
int hsn_flows_init(napi_env env, napi_value exports, hsn_rt *r);

#endif

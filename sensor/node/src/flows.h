/* Flows of the Node sensor (flows.c): endpoints and queue consumers, and the current flow that
 * the enter hook stamps on edges. */
#ifndef HSN_FLOWS_H
#define HSN_FLOWS_H

#include <node_api.h>
#include <stdint.h>

/* The flow of the instrumented code running now (0 = none). Read and written under the
 * runtime's lock: set when a run of instrumented code starts (from the async context, or from
 * the frame that resumes) and when a framework finds the route. */
extern uint32_t hsn_flow_cur;

/* The flow of the async context running now (lib/frameworks.js's AsyncLocalStorage), 0 when
 * none; called when a run of instrumented code starts on an empty shadow stack. Only calls into
 * JS once a flow was registered. Called without the runtime's lock. */
uint32_t hsn_flow_context(napi_env env);

/* Adds flowEndpoint/flowQueue/flowAdd/flowSet/flowContext to EXPORTS. 0 or -1. */
int hsn_flows_init(napi_env env, napi_value exports);

#endif

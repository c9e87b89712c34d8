/* The query API's routes (docs/protocol.md "Query API"); handlers in server/query_*.c. */
#include "query_internal.h"

const srv_route srv_query_routes[] = {
    {"GET", "/v1/services", q_h_services, 0, 0, "services"},
    {"GET", "/v1/functions/top", q_h_top, 0, 0, "functions_top"},
    {"POST", "/v1/functions/by-module", q_h_by_module, 0, 1u << 20, "functions_by_module"},
    {"GET", "/v1/functions/{id}", q_h_function, 0, 0, "function"},
    {"GET", "/v1/callgraph", q_h_callgraph, 0, 0, "callgraph"},
    {"GET", "/v1/flows", q_h_flows, 0, 0, "flows"},
    {"GET", "/v1/issues", q_h_issues, 0, 0, "issues"},
    {0},
};

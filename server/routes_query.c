/* The query API's routes (docs/protocol.md "Query API"); handlers in server/query_*.c. */
#include "query_internal.h"

const srv_route srv_query_routes[] = {
    {"GET", "/v1/services", q_h_services, SRV_ROLE_READ, 0, "services"},
    {"GET", "/v1/functions/top", q_h_top, SRV_ROLE_READ, 0, "functions_top"},
    {"POST", "/v1/functions/by-module", q_h_by_module, SRV_ROLE_READ, 1u << 20, "functions_by_module"},
    {"GET", "/v1/functions/{id}", q_h_function, SRV_ROLE_READ, 0, "function"},
    {"GET", "/v1/callgraph", q_h_callgraph, SRV_ROLE_READ, 0, "callgraph"},
    {"GET", "/v1/flows", q_h_flows, SRV_ROLE_READ, 0, "flows"},
    {"GET", "/v1/issues", q_h_issues, SRV_ROLE_READ, 0, "issues"},
    {"GET", "/v1/issues/{id}", q_h_issue, SRV_ROLE_READ, 0, "issue"},
    {"POST", "/v1/issues/{id}/status", q_h_issue_status, SRV_ROLE_TRIAGE | SRV_ROLE_ADMIN, 0, "issue_status"},
    {"GET", "/v1/exception-flows", q_h_exception_flows, SRV_ROLE_READ, 0, "exception_flows"},
    {0},
};

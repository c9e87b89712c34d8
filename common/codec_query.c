/* Wire tables of the query API (docs/protocol.md "Query API"): JSON bodies and the query
 * strings of GET requests. */
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "codec_tables.h"

#define NONNEG 0, DBL_MAX
#define ANYNUM -DBL_MAX, DBL_MAX
#define UNIT 0, 1

static const char *const sort_names[] = {NULL,           "calls",       "p95",     "error_rate",
                                         "duration_trend", "error_trend", "slowdown"};
static const char *const edge_kind_names[] = {NULL, "call", "exception"};
static const char *const issue_kind_names[] = {NULL, "duration_regression", "error_rate_increase",
                                               "new_exception"};
static const char *const subject_kind_names[] = {NULL, "function", "flow"};
static const char *const comparison_names[] = {NULL, "versions", "windows", "canary"};

/* ---------------------------------------------------------------------------------------- */
/* Services. */

static const hfield version_info_fields[] = {
    F_STR_(hud_version_info, version, "version", F_REQ | F_NONEMPTY),
    F_TIME_(hud_version_info, first_seen, "first_seen", F_REQ),
    F_TIME_(hud_version_info, last_seen, "last_seen", F_REQ),
};
static const htype version_info_type = HTYPE(hud_version_info, version_info_fields, NULL);

static const hfield environment_info_fields[] = {
    F_STR_(hud_environment_info, name, "name", F_REQ | F_NONEMPTY),
    F_TIME_(hud_environment_info, first_seen, "first_seen", F_REQ),
    F_TIME_(hud_environment_info, last_seen, "last_seen", F_REQ),
    F_ARR_(hud_environment_info, versions, n_versions, "versions", 0, &version_info_type),
};
static const htype environment_info_type =
    HTYPE(hud_environment_info, environment_info_fields, NULL);

static const hfield service_info_fields[] = {
    F_STR_(hud_service_info, name, "name", F_REQ | F_NONEMPTY),
    F_TIME_(hud_service_info, first_seen, "first_seen", F_REQ),
    F_TIME_(hud_service_info, last_seen, "last_seen", F_REQ),
    F_ARR_(hud_service_info, environments, n_environments, "environments", 0,
           &environment_info_type),
};
static const htype service_info_type = HTYPE(hud_service_info, service_info_fields, NULL);

static const hfield services_response_fields[] = {
    F_ARR_(hud_services_response, services, n_services, "services", F_REQ, &service_info_type),
};
static const htype services_response_type =
    HTYPE(hud_services_response, services_response_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Functions. */

static int validate_rates(cctx *c, const char *field, int64_t errors, int64_t calls) {
  if (errors > calls)
    return cctx_fail_at(c, field, HUD_ERANGE, "%lld exceeds calls (%lld)", (long long)errors,
                        (long long)calls);
  return 0;
}

static int validate_summary(cctx *c, const void *vp) {
  const hud_function_summary *s = vp;
  if (s->end_line < s->start_line)
    return cctx_fail_at(c, "end_line", HUD_ERANGE, "%d is before start_line (%d)",
                        (int)s->end_line, (int)s->start_line);
  return validate_rates(c, "errors", s->errors, s->calls);
}

static const hfield summary_fields[] = {
    F_UUID_(hud_function_summary, function_id, "function_id", F_REQ),
    F_STR_(hud_function_summary, name, "name", F_NONEMPTY),
    F_STR_(hud_function_summary, module_path, "module_path", F_NONEMPTY),
    F_STR_(hud_function_summary, file, "file", F_NONEMPTY),
    F_I32_(hud_function_summary, start_line, "start_line", 0, 0, INT32_MAX),
    F_I32_(hud_function_summary, end_line, "end_line", 0, 0, INT32_MAX),
    F_BOOL_(hud_function_summary, is_async, "is_async", 0),
    F_SHA1_(hud_function_summary, source_code_hash, "source_code_hash", 0),
    F_COUNT_(hud_function_summary, calls, "calls", F_REQ),
    F_COUNT_(hud_function_summary, errors, "errors", F_REQ),
    F_F64_(hud_function_summary, error_rate, "error_rate", F_REQ, UNIT),
    F_COUNT_(hud_function_summary, sampled_count, "sampled_count", F_REQ),
    F_F64_(hud_function_summary, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_F64_(hud_function_summary, p50, "p50", F_REQ, NONNEG),
    F_F64_(hud_function_summary, p90, "p90", F_REQ, NONNEG),
    F_F64_(hud_function_summary, p95, "p95", F_REQ, NONNEG),
    F_F64_(hud_function_summary, p99, "p99", F_REQ, NONNEG),
    F_F64_(hud_function_summary, self_duration_mean, "self_duration_mean", F_REQ, NONNEG),
    F_F64_(hud_function_summary, duration_trend, "duration_trend", F_REQ, ANYNUM),
    F_F64_(hud_function_summary, error_trend, "error_trend", F_REQ, ANYNUM),
    F_F64_(hud_function_summary, slowdown, "slowdown", F_REQ, ANYNUM),
    F_STR_(hud_function_summary, previous_version, "previous_version", F_NONEMPTY),
};
static const htype summary_type = HTYPE(hud_function_summary, summary_fields, validate_summary);

static const hfield top_response_fields[] = {
    F_TIME_(hud_top_response, from, "from", F_REQ),
    F_TIME_(hud_top_response, to, "to", F_REQ),
    F_ENUM_(hud_top_response, sort, "sort", F_REQ, sort_names, 7),
    F_ARR_(hud_top_response, items, n_items, "items", F_REQ, &summary_type),
};
static const htype top_response_type = HTYPE(hud_top_response, top_response_fields, NULL);

#define SCOPE_FIELDS(T, svcflags)                                                          \
  F_STR_(T, scope.service, "service", (svcflags) | F_NONEMPTY),                            \
      F_STR_(T, scope.environment, "env", F_NONEMPTY),                                     \
      F_STR_(T, scope.version, "version", F_NONEMPTY),                                     \
      F_TIME_(T, scope.from, "from", 0), F_TIME_(T, scope.to, "to", 0)

static int validate_scope(cctx *c, const hud_query_scope *s) {
  if (s->from && s->to && s->from > s->to)
    return cctx_fail_at(c, "from", HUD_ERANGE, "is after to");
  return 0;
}

static int validate_by_module_request(cctx *c, const void *vp) {
  const hud_by_module_request *r = vp;
  if (r->n_module_paths == 0)
    return cctx_fail_at(c, "module_paths", HUD_EFIELD, "must list at least one module path");
  return validate_scope(c, &r->scope);
}

static const hfield by_module_request_fields[] = {
    SCOPE_FIELDS(hud_by_module_request, F_REQ),
    F_STRARR_(hud_by_module_request, module_paths, n_module_paths, "module_paths",
              F_REQ | F_NONEMPTY, HUD_MAX_QUERY_LIMIT),
};
static const htype by_module_request_type =
    HTYPE(hud_by_module_request, by_module_request_fields, validate_by_module_request);

static const hfield by_module_response_fields[] = {
    F_TIME_(hud_by_module_response, from, "from", F_REQ),
    F_TIME_(hud_by_module_response, to, "to", F_REQ),
    F_ARR_(hud_by_module_response, items, n_items, "items", F_REQ, &summary_type),
};
static const htype by_module_response_type =
    HTYPE(hud_by_module_response, by_module_response_fields, NULL);

static const hfield time_point_fields[] = {
    F_TIME_(hud_time_point, timestamp, "timestamp", F_REQ),
    F_COUNT_(hud_time_point, calls, "calls", F_REQ),
    F_COUNT_(hud_time_point, errors, "errors", F_REQ),
    F_F64_(hud_time_point, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_F64_(hud_time_point, p50, "p50", F_REQ, NONNEG),
    F_F64_(hud_time_point, p95, "p95", F_REQ, NONNEG),
};
static const htype time_point_type = HTYPE(hud_time_point, time_point_fields, NULL);

static const hfield call_peer_fields[] = {
    F_UUID_(hud_call_peer, function_id, "function_id", 0),
    F_STR_(hud_call_peer, name, "name", F_NONEMPTY),
    F_STR_(hud_call_peer, module_path, "module_path", F_NONEMPTY),
    F_I32_(hud_call_peer, line, "line", F_REQ, 0, INT32_MAX),
    F_COUNT_(hud_call_peer, calls, "calls", F_REQ),
    F_COUNT_(hud_call_peer, errors, "errors", F_REQ),
    F_F64_(hud_call_peer, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_COUNT_(hud_call_peer, sum_duration, "sum_duration", F_REQ),
};
static const htype call_peer_type = HTYPE(hud_call_peer, call_peer_fields, NULL);

static const hfield version_stats_fields[] = {
    F_STR_(hud_version_stats, version, "version", F_REQ | F_NONEMPTY),
    F_TIME_(hud_version_stats, first_seen, "first_seen", F_REQ),
    F_TIME_(hud_version_stats, last_seen, "last_seen", F_REQ),
    F_COUNT_(hud_version_stats, calls, "calls", F_REQ),
    F_COUNT_(hud_version_stats, errors, "errors", F_REQ),
    F_F64_(hud_version_stats, error_rate, "error_rate", F_REQ, UNIT),
    F_COUNT_(hud_version_stats, sampled_count, "sampled_count", F_REQ),
    F_F64_(hud_version_stats, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_F64_(hud_version_stats, stddev_duration, "stddev_duration", F_REQ, NONNEG),
    F_F64_(hud_version_stats, p50, "p50", F_REQ, NONNEG),
    F_F64_(hud_version_stats, p95, "p95", F_REQ, NONNEG),
    F_F64_(hud_version_stats, p99, "p99", F_REQ, NONNEG),
};
static const htype version_stats_type = HTYPE(hud_version_stats, version_stats_fields, NULL);

static const hfield function_detail_fields[] = {
    F_OBJP_(hud_function_detail, declaration, "declaration", 0, &cx_t_function_decl),
    F_OBJ_(hud_function_detail, summary, "summary", F_REQ, &summary_type),
    F_ARR_(hud_function_detail, series, n_series, "series", F_REQ, &time_point_type),
    F_ARR_(hud_function_detail, callers, n_callers, "callers", F_REQ, &call_peer_type),
    F_ARR_(hud_function_detail, callees, n_callees, "callees", F_REQ, &call_peer_type),
    F_MAP_(hud_function_detail, errors_by_type, "errors_by_type", F_REQ),
    F_ARR_(hud_function_detail, versions, n_versions, "versions", F_REQ, &version_stats_type),
};
static const htype function_detail_type = HTYPE(hud_function_detail, function_detail_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Call graph. */

static const hfield graph_node_fields[] = {
    F_UUID_(hud_graph_node, function_id, "function_id", F_REQ),
    F_STR_(hud_graph_node, name, "name", F_NONEMPTY),
    F_STR_(hud_graph_node, module_path, "module_path", F_NONEMPTY),
    F_COUNT_(hud_graph_node, calls, "calls", F_REQ),
    F_COUNT_(hud_graph_node, errors, "errors", F_REQ),
    F_COUNT_(hud_graph_node, sum_duration, "sum_duration", F_REQ),
    F_COUNT_(hud_graph_node, self_duration, "self_duration", F_REQ),
};
static const htype graph_node_type = HTYPE(hud_graph_node, graph_node_fields, NULL);

static int validate_edge(cctx *c, const void *vp) {
  const hud_graph_edge *e = vp;
  if (e->kind == HUD_EDGE_EXCEPTION && !e->exception_type)
    return cctx_fail_at(c, "exception_type", HUD_EFIELD, "required for exception edges");
  if (e->kind == HUD_EDGE_CALL && e->exception_type)
    return cctx_fail_at(c, "exception_type", HUD_EFIELD, "only for exception edges");
  return 0;
}

static const hfield graph_edge_fields[] = {
    F_UUID_(hud_graph_edge, from, "from", F_REQ),
    F_UUID_(hud_graph_edge, to, "to", F_REQ),
    F_ENUM_(hud_graph_edge, kind, "kind", F_REQ, edge_kind_names, 3),
    F_I32_(hud_graph_edge, line, "line", F_REQ, 0, INT32_MAX),
    F_COUNT_(hud_graph_edge, calls, "calls", F_REQ),
    F_COUNT_(hud_graph_edge, sum_duration, "sum_duration", F_REQ),
    F_STR_(hud_graph_edge, exception_type, "exception_type", F_NONEMPTY),
};
static const htype graph_edge_type = HTYPE(hud_graph_edge, graph_edge_fields, validate_edge);

static const hfield callgraph_response_fields[] = {
    F_UUID_(hud_callgraph_response, root, "root", F_REQ),
    F_BOOL_(hud_callgraph_response, truncated, "truncated", F_REQ),
    F_ARR_(hud_callgraph_response, nodes, n_nodes, "nodes", F_REQ, &graph_node_type),
    F_ARR_(hud_callgraph_response, edges, n_edges, "edges", F_REQ, &graph_edge_type),
};
static const htype callgraph_response_type =
    HTYPE(hud_callgraph_response, callgraph_response_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Flows. */

static const hfield flow_function_stats_fields[] = {
    F_UUID_(hud_flow_function_stats, function_id, "function_id", F_REQ),
    F_STR_(hud_flow_function_stats, name, "name", F_NONEMPTY),
    F_STR_(hud_flow_function_stats, module_path, "module_path", F_NONEMPTY),
    F_COUNT_(hud_flow_function_stats, calls, "calls", F_REQ),
    F_COUNT_(hud_flow_function_stats, errors, "errors", F_REQ),
    F_COUNT_(hud_flow_function_stats, sum_duration, "sum_duration", F_REQ),
    F_COUNT_(hud_flow_function_stats, self_duration, "self_duration", F_REQ),
};
static const htype flow_function_stats_type =
    HTYPE(hud_flow_function_stats, flow_function_stats_fields, NULL);

static int validate_flow_summary(cctx *c, const void *vp) {
  const hud_flow_summary *f = vp;
  if (f->kind == HUD_FLOW_ENDPOINT && (!f->method || !f->route))
    return cctx_fail_at(c, f->method ? "route" : "method", HUD_EFIELD, "required for endpoints");
  if (f->kind == HUD_FLOW_QUEUE_CONSUMER && !f->task_name)
    return cctx_fail_at(c, "task_name", HUD_EFIELD, "required for queue consumers");
  return validate_rates(c, "errors", f->errors, f->calls);
}

static const hfield flow_summary_fields[] = {
    F_UUID_(hud_flow_summary, flow_id, "flow_id", F_REQ),
    F_ENUM_(hud_flow_summary, kind, "kind", F_REQ, cx_flow_kind_names, 3),
    F_STR_(hud_flow_summary, method, "method", F_NONEMPTY),
    F_STR_(hud_flow_summary, route, "route", F_NONEMPTY),
    F_STR_(hud_flow_summary, task_name, "task_name", F_NONEMPTY),
    F_STR_(hud_flow_summary, queue, "queue", F_NONEMPTY),
    F_COUNT_(hud_flow_summary, calls, "calls", F_REQ),
    F_COUNT_(hud_flow_summary, errors, "errors", F_REQ),
    F_F64_(hud_flow_summary, error_rate, "error_rate", F_REQ, UNIT),
    F_F64_(hud_flow_summary, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_F64_(hud_flow_summary, p50, "p50", F_REQ, NONNEG),
    F_F64_(hud_flow_summary, p95, "p95", F_REQ, NONNEG),
    F_F64_(hud_flow_summary, p99, "p99", F_REQ, NONNEG),
    F_STATUS_(hud_flow_summary, status_codes, n_status_codes, "status_codes", 0),
    F_ARR_(hud_flow_summary, functions, n_functions, "functions", F_REQ, &flow_function_stats_type),
};
static const htype flow_summary_type =
    HTYPE(hud_flow_summary, flow_summary_fields, validate_flow_summary);

static const hfield flows_response_fields[] = {
    F_TIME_(hud_flows_response, from, "from", F_REQ),
    F_TIME_(hud_flows_response, to, "to", F_REQ),
    F_ARR_(hud_flows_response, flows, n_flows, "flows", F_REQ, &flow_summary_type),
};
static const htype flows_response_type = HTYPE(hud_flows_response, flows_response_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Issues. */

static const hfield sample_fields[] = {
    F_STR_(hud_sample, version, "version", F_NONEMPTY),
    F_TIME_(hud_sample, from, "from", F_REQ),
    F_TIME_(hud_sample, to, "to", F_REQ),
    F_COUNT_(hud_sample, count, "count", F_REQ),
    F_COUNT_(hud_sample, sampled_count, "sampled_count", F_REQ),
    F_COUNT_(hud_sample, errors, "errors", F_REQ),
    F_F64_(hud_sample, mean_duration, "mean_duration", F_REQ, NONNEG),
    F_F64_(hud_sample, stddev_duration, "stddev_duration", F_REQ, NONNEG),
    F_F64_(hud_sample, error_rate, "error_rate", F_REQ, UNIT),
};
static const htype sample_type = HTYPE(hud_sample, sample_fields, NULL);

static const hfield root_cause_fields[] = {
    F_UUID_(hud_root_cause, function_id, "function_id", F_REQ),
    F_STR_(hud_root_cause, name, "name", F_NONEMPTY),
    F_STR_(hud_root_cause, module_path, "module_path", F_NONEMPTY),
    F_STR_(hud_root_cause, metric, "metric", F_REQ | F_NONEMPTY),
    F_F64_(hud_root_cause, baseline_value, "baseline_value", F_REQ, ANYNUM),
    F_F64_(hud_root_cause, current_value, "current_value", F_REQ, ANYNUM),
    F_F64_(hud_root_cause, share, "share", F_REQ, ANYNUM),
    F_F64_(hud_root_cause, p_value, "p_value", F_REQ, UNIT),
    F_STR_(hud_root_cause, exception_type, "exception_type", F_NONEMPTY),
    F_STR_(hud_root_cause, evidence, "evidence", 0),
};
static const htype root_cause_type = HTYPE(hud_root_cause, root_cause_fields, NULL);

static const hfield affected_flow_fields[] = {
    F_UUID_(hud_affected_flow, flow_id, "flow_id", F_REQ),
    F_STR_(hud_affected_flow, name, "name", F_NONEMPTY),
    F_F64_(hud_affected_flow, baseline_mean, "baseline_mean", F_REQ, NONNEG),
    F_F64_(hud_affected_flow, current_mean, "current_mean", F_REQ, NONNEG),
    F_F64_(hud_affected_flow, effect, "effect", F_REQ, ANYNUM),
    F_F64_(hud_affected_flow, effect_pct, "effect_pct", F_REQ, ANYNUM),
    F_F64_(hud_affected_flow, baseline_error_rate, "baseline_error_rate", 0, UNIT),
    F_F64_(hud_affected_flow, current_error_rate, "current_error_rate", 0, UNIT),
    F_COUNT_(hud_affected_flow, count, "count", 0),
};
static const htype affected_flow_type = HTYPE(hud_affected_flow, affected_flow_fields, NULL);

static const hfield path_step_fields[] = {
    F_UUID_(hud_path_step, function_id, "function_id", F_REQ),
    F_STR_(hud_path_step, name, "name", F_NONEMPTY),
};
static const htype path_step_type = HTYPE(hud_path_step, path_step_fields, NULL);

static const hfield issue_links_fields[] = {
    F_STR_(hud_issue_links, vscode, "vscode", F_NONEMPTY),
    F_STR_(hud_issue_links, tui, "tui", F_NONEMPTY),
    F_STR_(hud_issue_links, api, "api", F_NONEMPTY),
};
static const htype issue_links_type = HTYPE(hud_issue_links, issue_links_fields, NULL);

static const hfield issue_event_fields[] = {
    F_TIME_(hud_issue_event, at, "at", F_REQ),
    F_STR_(hud_issue_event, event, "event", F_REQ | F_NONEMPTY),
    F_STR_(hud_issue_event, note, "note", 0),
};
static const htype issue_event_type = HTYPE(hud_issue_event, issue_event_fields, NULL);

static int validate_issue(cctx *c, const void *vp) {
  const hud_issue *i = vp;
  if (i->ci_low > i->ci_high)
    return cctx_fail_at(c, "ci_low", HUD_ERANGE, "is above ci_high");
  return 0;
}

static const hfield issue_fields[] = {
    F_UUID_(hud_issue, issue_id, "issue_id", F_REQ),
    F_ENUM_(hud_issue, kind, "kind", F_REQ, issue_kind_names, 4),
    F_ENUM_(hud_issue, subject_kind, "subject_kind", F_REQ, subject_kind_names, 3),
    F_UUID_(hud_issue, subject_id, "subject_id", F_REQ),
    F_STR_(hud_issue, subject_name, "subject_name", F_NONEMPTY),
    F_ENUM_(hud_issue, comparison, "comparison", F_REQ, comparison_names, 4),
    F_OBJ_(hud_issue, baseline, "baseline", F_REQ, &sample_type),
    F_OBJ_(hud_issue, current, "current", F_REQ, &sample_type),
    F_STR_(hud_issue, metric, "metric", F_REQ | F_NONEMPTY),
    F_F64_(hud_issue, effect, "effect", F_REQ, ANYNUM),
    F_F64_(hud_issue, effect_pct, "effect_pct", F_REQ, ANYNUM),
    F_F64_(hud_issue, ci_low, "ci_low", F_REQ, ANYNUM),
    F_F64_(hud_issue, ci_high, "ci_high", F_REQ, ANYNUM),
    F_F64_(hud_issue, confidence, "confidence", F_REQ, UNIT),
    F_F64_(hud_issue, p_value, "p_value", F_REQ, UNIT),
    F_TIME_(hud_issue, detected_at, "detected_at", F_REQ),
    F_STR_(hud_issue, status, "status", F_REQ | F_NONEMPTY),
    F_ARR_(hud_issue, root_causes, n_root_causes, "root_causes", F_REQ, &root_cause_type),
    /* Added with stored issues: optional for decoders, so older documents still decode. */
    F_STR_(hud_issue, headline, "headline", F_NONEMPTY),
    F_STR_(hud_issue, module_path, "module_path", F_NONEMPTY),
    F_F64_(hud_issue, q_value, "q_value", 0, UNIT),
    F_F64_(hud_issue, statistic, "statistic", 0, ANYNUM),
    F_STR_(hud_issue, statistic_name, "statistic_name", F_NONEMPTY),
    F_F64_(hud_issue, df, "df", 0, NONNEG),
    F_STR_(hud_issue, p_text, "p_text", F_NONEMPTY),
    F_BOOL_(hud_issue, effect_pct_capped, "effect_pct_capped", 0),
    F_F64_(hud_issue, drift_pct, "drift_pct", 0, NONNEG),
    F_F64_(hud_issue, host_shift_pct, "host_shift_pct", 0, ANYNUM),
    F_TRI_(hud_issue, code_changed, "code_changed", 0),
    F_BOOL_(hud_issue, self_includes_uninstrumented, "self_includes_uninstrumented", 0),
    F_TIME_(hud_issue, first_seen, "first_seen", 0),
    F_TIME_(hud_issue, last_seen, "last_seen", 0),
    F_TIME_(hud_issue, status_changed_at, "status_changed_at", 0),
    F_I32_(hud_issue, times_reopened, "times_reopened", 0, 0, INT32_MAX),
    F_ARR_(hud_issue, affected_flows, n_affected_flows, "affected_flows", 0, &affected_flow_type),
    F_ARR_(hud_issue, call_path, n_call_path, "call_path", 0, &path_step_type),
    F_OBJ_(hud_issue, links, "links", F_OMIT0, &issue_links_type),
    F_ARR_(hud_issue, history, n_history, "history", F_OMIT0, &issue_event_type),
};
static const htype issue_type = HTYPE(hud_issue, issue_fields, validate_issue);

static const hfield issues_response_fields[] = {
    F_ARR_(hud_issues_response, issues, n_issues, "issues", F_REQ, &issue_type),
};
static const htype issues_response_type = HTYPE(hud_issues_response, issues_response_fields, NULL);

/* The body of POST /v1/issues/{issue_id}/status; scope and id travel in the target. */
static int validate_status_body(cctx *c, const void *vp) {
  const hud_issue_status_request *r = vp;
  if (!hud_issue_status_settable(r->status))
    return cctx_fail_at(c, "status", HUD_EFIELD, "expected one of acknowledged, muted, open");
  return 0;
}

static const hfield issue_status_body_fields[] = {
    F_STR_(hud_issue_status_request, status, "status", F_REQ | F_NONEMPTY),
    F_STR_(hud_issue_status_request, note, "note", 0),
};
static const htype issue_status_body_type =
    HTYPE(hud_issue_status_request, issue_status_body_fields, validate_status_body);

/* ---------------------------------------------------------------------------------------- */
/* Exception flows. */

static const hfield function_ref_fields[] = {
    F_UUID_(hud_function_ref, function_id, "function_id", F_REQ),
    F_STR_(hud_function_ref, name, "name", F_NONEMPTY),
    F_STR_(hud_function_ref, module_path, "module_path", F_NONEMPTY),
};
static const htype function_ref_type = HTYPE(hud_function_ref, function_ref_fields, NULL);

static int validate_exc_summary(cctx *c, const void *vp) {
  const hud_exception_flow_summary *x = vp;
  if (x->escaped && x->caught_in)
    return cctx_fail_at(c, "caught_in", HUD_EFIELD, "must be absent when escaped is true");
  if (!x->escaped && !x->caught_in)
    return cctx_fail_at(c, "caught_in", HUD_EFIELD, "required when escaped is false");
  return 0;
}

static const hfield exc_summary_fields[] = {
    F_STR_(hud_exception_flow_summary, exception_type, "exception_type", F_REQ | F_NONEMPTY),
    F_COUNT_(hud_exception_flow_summary, count, "count", F_REQ),
    F_OBJ_(hud_exception_flow_summary, origin, "origin", F_REQ, &function_ref_type),
    F_ARR_(hud_exception_flow_summary, propagated_through, n_propagated, "propagated_through", F_REQ,
           &function_ref_type),
    F_OBJP_(hud_exception_flow_summary, caught_in, "caught_in", 0, &function_ref_type),
    F_BOOL_(hud_exception_flow_summary, escaped, "escaped", F_REQ),
};
static const htype exc_summary_type = HTYPE(hud_exception_flow_summary, exc_summary_fields, validate_exc_summary);

static const hfield exc_flows_response_fields[] = {
    F_TIME_(hud_exception_flows_response, from, "from", F_REQ),
    F_TIME_(hud_exception_flows_response, to, "to", F_REQ),
    F_ARR_(hud_exception_flows_response, flows, n_flows, "flows", F_REQ, &exc_summary_type),
};
static const htype exc_flows_response_type =
    HTYPE(hud_exception_flows_response, exc_flows_response_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Errors: {"error": {...}} is a one-field wrapper around the same struct. */

static const hfield error_inner_fields[] = {
    F_STR_(hud_error_response, code, "code", F_REQ | F_NONEMPTY),
    F_STR_(hud_error_response, message, "message", F_REQ),
    F_STR_(hud_error_response, field, "field", 0),
    F_I32ARR_(hud_error_response, supported_versions, n_supported_versions, "supported_versions",
              0, 1, INT32_MAX),
};
static const htype error_inner_type = HTYPE(hud_error_response, error_inner_fields, NULL);
static const hfield error_outer_fields[] = {
    {.name = "error", .type = FT_OBJ, .flags = F_REQ, .off = 0, .sub = &error_inner_type},
};
static const htype error_response_type = HTYPE(hud_error_response, error_outer_fields, NULL);

CX_DEFINE(hud_services_response, services_response_type, false)
CX_DEFINE(hud_top_response, top_response_type, false)
CX_DEFINE(hud_by_module_request, by_module_request_type, true)
CX_DEFINE(hud_by_module_response, by_module_response_type, false)
CX_DEFINE(hud_function_detail, function_detail_type, false)
CX_DEFINE(hud_callgraph_response, callgraph_response_type, false)
CX_DEFINE(hud_flows_response, flows_response_type, false)
CX_DEFINE(hud_issues_response, issues_response_type, false)
CX_DEFINE(hud_issue, issue_type, false)
CX_DEFINE(hud_issue_status_request, issue_status_body_type, true)
CX_DEFINE(hud_exception_flows_response, exc_flows_response_type, false)
CX_DEFINE(hud_error_response, error_response_type, false)

/* ---------------------------------------------------------------------------------------- */
/* Query strings. The same descriptors, with values as text. */

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static char *pct_decode(hud_arena *a, const char *s, size_t n) {
  char *out = hud_arena_alloc(a, n + 1);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') {
      out[k++] = ' ';
    } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out[k++] = s[i];
    }
  }
  out[k] = '\0';
  return out;
}

int hud_query_parse(const char *query, hud_arena *arena, hud_query_param **params, size_t *n) {
  if (!query || !arena || !params || !n) return HUD_EINVAL;
  *params = NULL;
  *n = 0;
  if (*query == '?') query++;
  size_t cnt = 0;
  for (const char *p = query; *p; p++) cnt += *p == '&';
  cnt++;
  hud_query_param *out = hud_arena_calloc(arena, cnt, sizeof *out);
  if (!out) return HUD_ENOMEM;
  size_t k = 0;
  const char *p = query;
  while (*p) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len) {
      const char *eq = memchr(p, '=', len);
      size_t klen = eq ? (size_t)(eq - p) : len;
      out[k].key = pct_decode(arena, p, klen);
      out[k].value = eq ? pct_decode(arena, eq + 1, len - klen - 1) : pct_decode(arena, "", 0);
      if (!out[k].key || !out[k].value) return HUD_ENOMEM;
      k++;
    }
    p += len;
    if (*p == '&') p++;
  }
  *params = out;
  *n = k;
  return 0;
}

/* A growable string for targets. */
typedef struct sbuf {
  char *s;
  size_t n, cap;
  bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->n + n + 1) cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns) {
      b->oom = true;
      return;
    }
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_pct(sbuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/') {
      sb_add(b, (const char *)p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      sb_add(b, e, 3);
    }
  }
}

static int sb_finish(sbuf *b, char **target) {
  if (b->oom || !b->s) {
    free(b->s);
    return HUD_ENOMEM;
  }
  *target = b->s;
  return 0;
}

/* Appends the non-default parameters of V described by FIELDS. */
static int qp_encode(sbuf *b, const hfield *fields, size_t nf, const void *v) {
  bool first = true;
  for (size_t i = 0; i < nf; i++) {
    const hfield *f = &fields[i];
    const char *p = (const char *)v + f->off;
    char buf[64];
    const char *val = NULL;
    switch (f->type) {
    case FT_STR:
      memcpy(&val, p, sizeof val);
      if (val && strlen(val) > HUD_MAX_STRING_BYTES) return HUD_ERANGE;
      break;
    case FT_UUID:
      if (p[0]) {
        if (!cx_is_uuid(p)) return HUD_EFIELD;
        val = p;
      }
      break;
    case FT_TIME: {
      hud_time_ns t;
      memcpy(&t, p, sizeof t);
      if (t) {
        if (hud_time_format(t, buf)) return HUD_ERANGE;
        val = buf;
      }
      break;
    }
    case FT_I32:
    case FT_I64: {
      int64_t x;
      if (f->type == FT_I32) {
        int32_t x32;
        memcpy(&x32, p, sizeof x32);
        x = x32;
      } else {
        memcpy(&x, p, sizeof x);
      }
      if (x) {
        if (x < f->min || x > f->max) return HUD_ERANGE;
        snprintf(buf, sizeof buf, "%lld", (long long)x);
        val = buf;
      }
      break;
    }
    case FT_ENUM: {
      int x;
      memcpy(&x, p, sizeof x);
      if (x) {
        if (x < 1 || x >= f->nnames) return HUD_EFIELD;
        val = f->names[x];
      }
      break;
    }
    default:
      return HUD_EINVAL;
    }
    if (!val) {
      if (f->flags & F_REQ) return HUD_EFIELD;
      continue;
    }
    sb_str(b, first ? "?" : "&");
    first = false;
    sb_str(b, f->name);
    sb_str(b, "=");
    sb_pct(b, val);
  }
  return 0;
}

static bool parse_int(const char *s, int64_t *out) {
  if (!*s) return false;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end || (s[0] == '0' && s[1]) || (s[0] == '-' && s[1] == '0')) return false;
  if ((v == LLONG_MAX || v == LLONG_MIN)) {
    /* strtoll saturates; reject anything that is not exactly representable. */
    char back[32];
    snprintf(back, sizeof back, "%lld", v);
    if (strcmp(back, s) != 0) return false;
  }
  *out = v;
  return true;
}

static int qp_decode(cctx *c, const hud_query_param *params, size_t n, const hfield *fields,
                     size_t nf, void *out) {
  for (size_t i = 0; i < n; i++) {
    const char *key = params[i].key ? params[i].key : "";
    const char *val = params[i].value ? params[i].value : "";
    const hfield *f = NULL;
    for (size_t k = 0; k < nf && !f; k++)
      if (strcmp(fields[k].name, key) == 0) f = &fields[k];
    if (!f) {
      if (c->reject_unknown) return cctx_fail_at(c, key, HUD_EFIELD, "unknown parameter");
      continue;
    }
    for (size_t k = 0; k < i; k++)
      if (params[k].key && strcmp(params[k].key, key) == 0)
        return cctx_fail_at(c, key, HUD_EFIELD, "given more than once");
    size_t old = cctx_push_key(c, key);
    int rc = 0;
    char *p = (char *)out + f->off;
    size_t vlen = strlen(val);
    if (vlen > c->lim.max_string_bytes) {
      rc = cctx_fail(c, HUD_ERANGE, "value of %zu bytes exceeds the limit of %zu bytes", vlen,
                     c->lim.max_string_bytes);
    } else if (vlen == 0) {
      rc = cctx_fail(c, HUD_EFIELD, "must not be empty");
    } else {
      switch (f->type) {
      case FT_STR: {
        char *s = hud_arena_strndup(c->arena, val, vlen);
        if (!s) rc = cctx_fail(c, HUD_ENOMEM, "out of memory");
        memcpy(p, &s, sizeof s);
        break;
      }
      case FT_UUID:
        if (vlen != 36 || !cx_is_uuid(val))
          rc = cctx_fail(c, HUD_EFIELD, "expected lowercase canonical UUID (8-4-4-4-12 hex)");
        else
          memcpy(p, val, 37);
        break;
      case FT_TIME: {
        hud_time_ns t = 0;
        int tr = hud_time_parse(val, &t);
        if (tr == HUD_ERANGE) rc = cctx_fail(c, HUD_ERANGE, "timestamp before 1970");
        else if (tr) rc = cctx_fail(c, HUD_EFIELD, "expected RFC 3339 timestamp");
        else memcpy(p, &t, sizeof t);
        break;
      }
      case FT_I32:
      case FT_I64: {
        int64_t x;
        if (!parse_int(val, &x)) {
          rc = cctx_fail(c, HUD_EFIELD, "expected integer");
        } else if (x < f->min || x > f->max) {
          rc = cctx_fail(c, HUD_ERANGE, "expected integer in %lld..%lld, got %lld",
                         (long long)f->min, (long long)f->max, (long long)x);
        } else if (f->type == FT_I32) {
          int32_t x32 = (int32_t)x;
          memcpy(p, &x32, sizeof x32);
        } else {
          memcpy(p, &x, sizeof x);
        }
        break;
      }
      case FT_ENUM: {
        int found = 0;
        for (int k = 1; k < f->nnames; k++)
          if (strcmp(val, f->names[k]) == 0) found = k;
        if (!found) {
          char list[256];
          size_t ln = 0;
          list[0] = '\0';
          for (int k = 1; k < f->nnames && ln < sizeof list; k++)
            ln += (size_t)snprintf(list + ln, sizeof list - ln, "%s%s", k > 1 ? ", " : "",
                                   f->names[k]);
          rc = cctx_fail(c, HUD_EFIELD, "expected one of %s", list);
        } else {
          memcpy(p, &found, sizeof found);
        }
        break;
      }
      default:
        rc = cctx_fail(c, HUD_EINVAL, "internal: parameter type");
      }
    }
    cctx_pop(c, old);
    if (rc) return rc;
  }
  for (size_t k = 0; k < nf; k++) {
    const hfield *f = &fields[k];
    if (!(f->flags & F_REQ)) continue;
    bool seen = false;
    for (size_t i = 0; i < n && !seen; i++) seen = params[i].key && strcmp(params[i].key, f->name) == 0;
    if (!seen) return cctx_fail_at(c, f->name, HUD_EFIELD, "required parameter missing");
  }
  return 0;
}

#define QSCOPE(T, svcflags) SCOPE_FIELDS(T, svcflags)

static const hfield services_params[] = {
    {.name = "service", .type = FT_STR, .flags = 0, .off = 0},
};

static const hfield top_params[] = {
    QSCOPE(hud_top_request, F_REQ),
    F_ENUM_(hud_top_request, sort, "sort", 0, sort_names, 7),
    F_I32_(hud_top_request, limit, "limit", 0, 1, HUD_MAX_QUERY_LIMIT),
    F_UUID_(hud_top_request, flow_id, "flow_id", 0),
};

static const hfield function_params[] = {
    QSCOPE(hud_function_request, F_REQ),
    F_I64_(hud_function_request, bucket_ns, "bucket_ns", 0, 1000000000, INT64_MAX),
};

static const hfield callgraph_params[] = {
    QSCOPE(hud_callgraph_request, F_REQ),
    F_UUID_(hud_callgraph_request, root, "root", F_REQ),
    F_I32_(hud_callgraph_request, depth, "depth", 0, 1, 16),
    F_I32_(hud_callgraph_request, max_nodes, "max_nodes", 0, 1, HUD_MAX_QUERY_LIMIT),
};

static const hfield flows_params[] = {
    QSCOPE(hud_flows_request, F_REQ),
    F_I32_(hud_flows_request, limit, "limit", 0, 1, HUD_MAX_QUERY_LIMIT),
};

static const char *const status_names[] = {NULL, "active", "open", "acknowledged", "muted", "resolved", "all"};
#define N_STATUS_NAMES 7
static const hfield issues_params[] = {
    QSCOPE(hud_issues_request, F_REQ),
    F_STR_(hud_issues_request, status, "status", F_NONEMPTY),
    F_I32_(hud_issues_request, limit, "limit", 0, 1, HUD_MAX_QUERY_LIMIT),
};

/* One issue: only the service and environment of the scope. */
static const hfield issue_params[] = {
    F_STR_(hud_issue_request, scope.service, "service", F_REQ | F_NONEMPTY),
    F_STR_(hud_issue_request, scope.environment, "env", F_NONEMPTY),
};
static const hfield issue_status_params[] = {
    F_STR_(hud_issue_status_request, scope.service, "service", F_REQ | F_NONEMPTY),
    F_STR_(hud_issue_status_request, scope.environment, "env", F_NONEMPTY),
};

static const hfield exc_flows_params[] = {
    QSCOPE(hud_exception_flows_request, F_REQ),
    F_UUID_(hud_exception_flows_request, function_id, "function_id", 0),
    F_UUID_(hud_exception_flows_request, flow_id, "flow_id", 0),
    F_I32_(hud_exception_flows_request, limit, "limit", 0, 1, HUD_MAX_QUERY_LIMIT),
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

static int target(const char *path, const hfield *fields, size_t nf, const void *v, char **out) {
  if (!out || !v) return HUD_EINVAL;
  *out = NULL;
  sbuf b = {0};
  sb_str(&b, path);
  int rc = qp_encode(&b, fields, nf, v);
  if (rc) {
    free(b.s);
    return rc;
  }
  return sb_finish(&b, out);
}

static int from_query(const hud_query_param *params, size_t n, const hud_decode_opts *opts,
                      hud_arena *arena, const hfield *fields, size_t nf, void *out, size_t size,
                      hud_codec_error *err, hud_codec_error *scratch, cctx *c) {
  cctx_init(c, opts, true, arena, err ? err : scratch);
  if (!out || !arena || (!params && n)) return cctx_fail(c, HUD_EINVAL, "NULL argument");
  memset(out, 0, size);
  int rc = qp_decode(c, params, n, fields, nf, out);
  if (rc) memset(out, 0, size);
  return rc;
}

int hud_services_request_to_target(const char *service, char **out) {
  return target("/v1/services", services_params, 1, &service, out);
}

int hud_services_request_from_query(const hud_query_param *params, size_t n,
                                    const hud_decode_opts *opts, hud_arena *arena,
                                    const char **service, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  return from_query(params, n, opts, arena, services_params, 1, (void *)service, sizeof *service,
                    err, &s, &c);
}

int hud_top_request_to_target(const hud_top_request *r, char **out) {
  if (r && r->sort && !hud_sort_name(r->sort)) return HUD_EFIELD;
  return target("/v1/functions/top", top_params, NF(top_params), r, out);
}

int hud_top_request_from_query(const hud_query_param *params, size_t n,
                               const hud_decode_opts *opts, hud_arena *arena,
                               hud_top_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, top_params, NF(top_params), out, sizeof *out, err,
                      &s, &c);
  if (rc) return rc;
  if (!out->sort) out->sort = HUD_SORT_CALLS;
  if (!out->limit) out->limit = 20;
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

int hud_function_request_to_target(const hud_function_request *r, char **out) {
  if (!r || !cx_is_uuid(r->function_id)) return HUD_EFIELD;
  char path[64];
  snprintf(path, sizeof path, "/v1/functions/%s", r->function_id);
  return target(path, function_params, NF(function_params), r, out);
}

int hud_function_request_from_query(const char *function_id, const hud_query_param *params,
                                    size_t n, const hud_decode_opts *opts, hud_arena *arena,
                                    hud_function_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, function_params, NF(function_params), out,
                      sizeof *out, err, &s, &c);
  if (rc) return rc;
  if (!function_id || strlen(function_id) != 36 || !cx_is_uuid(function_id)) {
    memset(out, 0, sizeof *out);
    return cctx_fail_at(&c, "function_id", HUD_EFIELD,
                        "expected lowercase canonical UUID (8-4-4-4-12 hex) in the path");
  }
  memcpy(out->function_id, function_id, 37);
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

int hud_callgraph_request_to_target(const hud_callgraph_request *r, char **out) {
  return target("/v1/callgraph", callgraph_params, NF(callgraph_params), r, out);
}

int hud_callgraph_request_from_query(const hud_query_param *params, size_t n,
                                     const hud_decode_opts *opts, hud_arena *arena,
                                     hud_callgraph_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, callgraph_params, NF(callgraph_params), out,
                      sizeof *out, err, &s, &c);
  if (rc) return rc;
  if (!out->depth) out->depth = 4;
  if (!out->max_nodes) out->max_nodes = 200;
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

int hud_flows_request_to_target(const hud_flows_request *r, char **out) {
  return target("/v1/flows", flows_params, NF(flows_params), r, out);
}

int hud_flows_request_from_query(const hud_query_param *params, size_t n,
                                 const hud_decode_opts *opts, hud_arena *arena,
                                 hud_flows_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, flows_params, NF(flows_params), out, sizeof *out,
                      err, &s, &c);
  if (rc) return rc;
  if (!out->limit) out->limit = 100;
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

int hud_issues_request_to_target(const hud_issues_request *r, char **out) {
  return target("/v1/issues", issues_params, NF(issues_params), r, out);
}

int hud_issues_request_from_query(const hud_query_param *params, size_t n,
                                  const hud_decode_opts *opts, hud_arena *arena,
                                  hud_issues_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, issues_params, NF(issues_params), out, sizeof *out,
                      err, &s, &c);
  if (rc) return rc;
  /* Absent stays NULL: the server reads it as "active". */
  if (out->status) {
    bool ok = false;
    for (int k = 1; k < N_STATUS_NAMES; k++) ok |= strcmp(out->status, status_names[k]) == 0;
    if (!ok) {
      memset(out, 0, sizeof *out);
      return cctx_fail_at(&c, "status", HUD_EFIELD,
                          "expected one of active, open, acknowledged, muted, resolved, all");
    }
  }
  if (!out->limit) out->limit = 100;
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

bool hud_issue_status_settable(const char *status) {
  return status && (strcmp(status, HUD_ISSUE_ACKNOWLEDGED) == 0 || strcmp(status, HUD_ISSUE_MUTED) == 0 ||
                    strcmp(status, HUD_ISSUE_OPEN) == 0);
}

/* "/v1/issues/<id><suffix>" with the scope's service and env. */
static int issue_target(const char *id, const char *suffix, const hfield *fields, size_t nf, const void *r,
                        char **out) {
  if (!out) return HUD_EINVAL;
  *out = NULL;
  if (!r || !cx_is_uuid(id)) return HUD_EFIELD;
  char path[80];
  snprintf(path, sizeof path, "/v1/issues/%s%s", id, suffix);
  return target(path, fields, nf, r, out);
}

/* The id from the URL path into ID_OUT (37 bytes); the error names "issue_id". */
static int issue_path_id(cctx *c, const char *issue_id, char *id_out) {
  if (!issue_id || strlen(issue_id) != 36 || !cx_is_uuid(issue_id))
    return cctx_fail_at(c, "issue_id", HUD_EFIELD, "expected lowercase canonical UUID (8-4-4-4-12 hex) in the path");
  memcpy(id_out, issue_id, 37);
  return 0;
}

int hud_issue_request_to_target(const hud_issue_request *r, char **out) {
  return issue_target(r ? r->issue_id : "", "", issue_params, NF(issue_params), r, out);
}

int hud_issue_request_from_query(const char *issue_id, const hud_query_param *params, size_t n,
                                 const hud_decode_opts *opts, hud_arena *arena, hud_issue_request *out,
                                 hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, issue_params, NF(issue_params), out, sizeof *out, err, &s, &c);
  if (rc) return rc;
  if ((rc = issue_path_id(&c, issue_id, out->issue_id))) memset(out, 0, sizeof *out);
  return rc;
}

int hud_issue_status_request_to_target(const hud_issue_status_request *r, char **out) {
  return issue_target(r ? r->issue_id : "", "/status", issue_status_params, NF(issue_status_params), r, out);
}

int hud_issue_status_request_from_query(const char *issue_id, const hud_query_param *params, size_t n,
                                        const hud_decode_opts *opts, hud_arena *arena,
                                        hud_issue_status_request *out, hud_codec_error *err) {
  if (!out) return HUD_EINVAL;
  hud_codec_error s;
  cctx c;
  hud_issue_status_request q;
  int rc = from_query(params, n, opts, arena, issue_status_params, NF(issue_status_params), &q, sizeof q, err,
                      &s, &c);
  if (!rc) rc = issue_path_id(&c, issue_id, q.issue_id);
  if (rc) return rc;
  /* The body's status and note stay as decoded. */
  out->scope = q.scope;
  memcpy(out->issue_id, q.issue_id, sizeof out->issue_id);
  return 0;
}

int hud_exception_flows_request_to_target(const hud_exception_flows_request *r, char **out) {
  return target("/v1/exception-flows", exc_flows_params, NF(exc_flows_params), r, out);
}

int hud_exception_flows_request_from_query(const hud_query_param *params, size_t n,
                                           const hud_decode_opts *opts, hud_arena *arena,
                                           hud_exception_flows_request *out, hud_codec_error *err) {
  hud_codec_error s;
  cctx c;
  int rc = from_query(params, n, opts, arena, exc_flows_params, NF(exc_flows_params), out,
                      sizeof *out, err, &s, &c);
  if (rc) return rc;
  if (!out->limit) out->limit = 100;
  if ((rc = validate_scope(&c, &out->scope))) memset(out, 0, sizeof *out);
  return rc;
}

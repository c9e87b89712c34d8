/* Internals of the query API (server/routes_query.c, server/query_*.c, server/store_sqlite_query.c).
 *
 * A handler: q_begin() (arena, decoded parameters, a read connection) → decode the request with
 * the codec → q_scope() (environment check, service/version lookup, window) → read typed rows
 * (store_sqlite_query.c) → fill the hud_* response struct → encode with the codec → q_end().
 * No handler touches JSON.
 *
 * Windows: the scope's [from, to) in ns becomes [from_s, to_s) in seconds; a time slice belongs to
 * the window when its start does (slice >= from_s AND slice < to_s), so minute and hourly slices
 * are both counted whole. */
#ifndef SRV_QUERY_INTERNAL_H
#define SRV_QUERY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "hud/codec.h"
#include "hud/model.h"
#include "routes.h"
#include "store.h"


#define Q_DEFAULT_WINDOW_NS (24LL * 3600 * 1000000000LL)

typedef struct q_ctx {
  const srv_request *req;
  srv_response *resp;
  hud_arena *arena;
  srv_store_read *rd; /* the request's read handle (store.h) */
  hud_query_param *params;
  size_t n_params;
  /* Resolved scope (q_scope). */
  const char *service;
  const char *env;
  int64_t service_id;
  int64_t version_id; /* 0 = all versions */
  const char *version;
  hud_time_ns from, to;
  int64_t from_s, to_s;
  bool stored_only; /* set before q_scope(): the handler reads stored issues only (no window is
                     * fixed on the read handle) */
} q_ctx;

/* Prepares Q for REQ: arena, query parameters, a read connection. Answers 500/503 itself on failure. */
int q_begin(const srv_request *req, srv_response *resp, q_ctx *q);
/* Releases what q_begin() took; returns RC. */
int q_end(q_ctx *q, int rc);
/* Answers a codec (request decoding) failure with its status and message; returns 0. */
int q_fail_codec(q_ctx *q, const hud_codec_error *e);
/* Answers error RC with its mapped status and MSG; returns 0. */
int q_fail(q_ctx *q, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Resolves S into Q (environment allowed for the key, service, version, window); on failure it
 * has already answered (404 unknown service/version, 403 environment, 400 window) and returns
 * a negative code that the handler passes to q_end(). */
int q_scope(q_ctx *q, const hud_query_scope *s);
/* Encodes with ENCODE (a hud_*_encode) and answers 200; returns 0 or the encoder's error. */
#define Q_REPLY(q, encode, value)                                                               \
  ({                                                                                            \
    char *q_json_ = NULL;                                                                       \
    hud_codec_error q_err_;                                                                     \
    int q_rc_ = encode((value), &q_json_, NULL, &q_err_);                                       \
    if (q_rc_ == 0) q_rc_ = srv_response_json((q)->resp, 200, q_json_);                         \
    else q_rc_ = q_fail((q), HUD_ESERVER, "cannot encode the answer: %s", q_err_.message);      \
    q_rc_;                                                                                      \
  })

/* ---- handlers (query_*.c), listed in routes_query.c ---- */

int q_h_services(const srv_request *req, srv_response *resp);
int q_h_top(const srv_request *req, srv_response *resp);
int q_h_by_module(const srv_request *req, srv_response *resp);
int q_h_function(const srv_request *req, srv_response *resp);
int q_h_callgraph(const srv_request *req, srv_response *resp);
int q_h_flows(const srv_request *req, srv_response *resp);
int q_h_issues(const srv_request *req, srv_response *resp);
int q_h_exception_flows(const srv_request *req, srv_response *resp);
int q_h_issue(const srv_request *req, srv_response *resp);
int q_h_issue_status(const srv_request *req, srv_response *resp);

/* ---- issues: a finding (detect.h) as the wire's hud_issue (issues_map.c) ---- */

/* What the stored row adds to a finding. */
typedef struct q_issue_meta {
  const char *issue_id;
  hud_comparison_kind comparison;
  const char *status;
  hud_time_ns first_seen, last_seen, status_changed_at;
  int32_t times_reopened;
  const char *public_url; /* for links; NULL: no tui/api links */
} q_issue_meta;

/* issue_id = uuid5(env|service|kind|function_id or flow_id|exception_type): the same root cause found
 * again (in any comparison) is the same issue. */
void q_issue_id(const char *env, const char *service, const srv_issue *is, hud_uuid out);
/* Fills OUT (memory in Q's arena; names read through Q) from finding IS of Q's service. */
int q_issue_from_finding(q_ctx *q, const srv_issue *is, const q_issue_meta *m, hud_issue *out);
/* What the alerts module gets of H (event left NULL); strings borrowed from H. */
struct srv_alert_issue;
void q_issue_alert_view(const hud_issue *h, const char *env, const char *service, const char *comparison,
                        struct srv_alert_issue *out);


/* ---- reads (store_sqlite_query.c) ---- */

int sq_services(q_ctx *q, const char *service_filter, hud_services_response *out);
int sq_service_id(q_ctx *q, const char *env, const char *name, int64_t *id);
int sq_version(q_ctx *q, int64_t service_id, const char *version, int64_t *id, int64_t *first_seen,
               int64_t *last_seen);
/* The version deployed before VERSION_ID (by first_seen); HUD_ENOTFOUND when none. */
int sq_previous_version(q_ctx *q, int64_t service_id, int64_t version_id, int64_t *prev_id, const char **name,
                        int64_t *first_seen, int64_t *last_seen);
/* Newest version (by first_seen) of the service; HUD_ENOTFOUND when none. */
int sq_latest_version(q_ctx *q, int64_t service_id, int64_t *id, const char **name, int64_t *first_seen,
                      int64_t *last_seen);

/* Which functions a summary query covers. */
typedef struct q_fn_filter {
  const int64_t *fns; /* functions.id list; NULL = every function of the service */
  size_t n_fns;
  int64_t flow;       /* flows.id; 0 = all flows */
  bool no_trends;     /* skip the per-slice points (duration_trend/error_trend stay 0) */
  bool p95;           /* every function (fns NULL, flow 0): also p95 from the merged sketches, in the
                       * same pass (what hud_sketch_quantile(hud_sketch_agg(sketch), 0.95) answers) */
  bool slowdown;      /* every function, no flow, no version in the scope: also slowdown and
                       * previous_version in the same pass (what sq_fn_slowdowns answers) */
} q_fn_filter;

/* Figures (calls, errors, mean, self, trends) of the functions matching F over Q's window and
 * version; FNS[i] is the functions.id of ITEMS[i]. Both in the arena, unsorted; no metadata. */
int sq_fn_summaries(q_ctx *q, const q_fn_filter *f, hud_function_summary **items, int64_t **fns, size_t *n);
/* Every figure of a page of functions (sums, trends, percentiles, slowdown), one indexed pass over
 * each function's slices. ITEMS[i] gets the figures of FNS[i] (metadata untouched). */
int sq_fn_page(q_ctx *q, const int64_t *fns, size_t n, hud_function_summary *items);
/* Fills the declaration fields of ITEM (function_id, name, module_path, ...) from functions FN. */
int sq_fn_meta(q_ctx *q, int64_t fn, hud_function_summary *item);
/* Fills p50/p90/p95/p99 of ITEM (function FN, in FLOW when not 0) from merged sketches. */
int sq_fn_percentiles(q_ctx *q, int64_t fn, int64_t flow, hud_function_summary *item);
/* Slowdown vs the previous version for every item (fills slowdown, previous_version). */
int sq_fn_slowdowns(q_ctx *q, hud_function_summary *items, const int64_t *fns, size_t n);
/* functions.id of UUID in the service; HUD_ENOTFOUND when unknown. */
int sq_fn_id(q_ctx *q, const char *uuid, int64_t *fn);
int sq_flow_id(q_ctx *q, const char *uuid, int64_t *flow);
/* 1 when function FN was declared (or seen) during Q's window, 0 when not, or HUD_E*. */
int sq_fn_declared_in(q_ctx *q, int64_t fn);
/* functions.id of every function of the given module paths. */
int sq_fns_of_modules(q_ctx *q, const char *const *paths, size_t n, int64_t **fns, size_t *n_fns);

int sq_function_detail(q_ctx *q, int64_t fn, int64_t bucket_ns, hud_function_detail *out);
/* Call graph reads (the walk is query_graph.c's). A call edge out of a function, summed over the
 * window per (callee, call line); by callee time descending, then callee and line. */
typedef struct srv_call_edge {
  int64_t fn;
  int line;
  int64_t calls, sum_duration;
} srv_call_edge;
int sq_callees(q_ctx *q, int64_t caller, srv_call_edge **rows, size_t *n);
/* Function FN's declaration and totals over the window (no version filter beyond the scope's). */
int sq_graph_node(q_ctx *q, int64_t fn, hud_graph_node *out);
/* An exception's propagation, summed over the window: raised in ORIGIN, through THROUGH (its
 * callers in order), caught in CAUGHT (0: escaped). */
typedef struct srv_exc_path {
  const char *type;
  int64_t origin, caught;
  int64_t *through;
  size_t n_through;
  int64_t count;
} srv_exc_path;
int sq_exception_paths(q_ctx *q, srv_exc_path **rows, size_t *n);
int sq_flows(q_ctx *q, int limit, hud_flows_response *out);
/* Exception paths of the window, one entry per (type, origin, path, catcher) with the summed count,
 * LIMIT of them by count descending; FN (functions.id, 0 = any) must be the origin, on the path or
 * the catcher; FLOW (flows.id, 0 = all) restricts to one flow. */
int sq_exception_flows(q_ctx *q, int64_t fn, int64_t flow, int limit, hud_exception_flows_response *out);

/* One side of a detection comparison: every aggregate of the service in [from_s, to_s) of
 * VERSION_ID (0 = all versions), as srv_det_* records whose strings live in the arena. */
int sq_det_snapshot(q_ctx *q, int64_t version_id, int64_t from_s, int64_t to_s, const char *label,
                    srv_det_snapshot *out);
/* Several sides at once (the issues query builds four): one pass over the call rows. */
#define SQ_MAX_SIDES 4
typedef struct sq_side {
  int64_t version_id; /* 0 = all versions */
  int64_t from_s, to_s;
  const char *label;
} sq_side;
int sq_det_snapshots(q_ctx *q, const sq_side *sides, size_t n, srv_det_snapshot *outs);
/* The environment and name of service SERVICE_ID (detection runner). */
int sq_service_of(q_ctx *q, int64_t service_id, const char **env, const char **name);
/* VERSION_ID's span of data [*FROM_S, *TO_S) (version_spans; first/last seen for older stores). */
int sq_version_span(q_ctx *q, int64_t version_id, int64_t *from_s, int64_t *to_s);
/* The code hashes version VERSION_ID declared (fn_versions), as detection input. */
int sq_det_fns(q_ctx *q, int64_t version_id, srv_det_fn **fns, size_t *n);
/* Resolves a function or flow UUID to its display name (qualname / "GET /route"), module path. */
int sq_name_of_function(q_ctx *q, const char *uuid, const char **name, const char **module_path);
int sq_name_of_flow(q_ctx *q, const char *uuid, const char **name);

#endif

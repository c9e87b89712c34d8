/* Internals of the query API (server/routes_query.c, server/query_*.c).
 *
 * A handler: q_begin() (arena, decoded parameters, a read handle of the store) → decode the request
 * with the codec → q_scope() (environment check, service/version lookup, window fixed on the handle)
 * → typed reads (the sq_* calls below: the engine's srv_store_reads, store_reads.h) → compute the
 * figures (query_figures.h) and fill the hud_* response struct → encode with the codec → q_end().
 * No handler touches JSON; no handler sees the engine.
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
#include "store_reads.h"


#define Q_DEFAULT_WINDOW_NS (24LL * 3600 * 1000000000LL)

typedef struct q_ctx {
  const srv_request *req;
  srv_response *resp;
  hud_arena *arena;
  srv_store_read *rd;            /* the request's read handle (store.h) */
  const srv_store_reads *reads;  /* its engine's typed reads */
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


/* ---- reads: the store's typed reads (store_reads.h) on Q's handle ---- */

typedef srv_fn_filter q_fn_filter;
typedef srv_read_side sq_side;
#define SQ_MAX_SIDES SRV_READ_MAX_SIDES

int q_env_allowed(void *req, const char *env); /* srv_request_env_allowed for the services read */

static inline int sq_services(q_ctx *q, const char *service_filter, hud_services_response *out) {
  return q->reads->services(q->rd, service_filter, q_env_allowed, (void *)q->req, q->req->n_envs ? q->req->n_envs : 1,
                            out);
}
#define SQ_READ(name, params, args) \
  static inline int sq_##name params { return q->reads->name args; }
SQ_READ(service_id, (q_ctx *q, const char *env, const char *name, int64_t *id), (q->rd, env, name, id))
SQ_READ(service_of, (q_ctx *q, int64_t service_id, const char **env, const char **name),
        (q->rd, service_id, env, name))
SQ_READ(version, (q_ctx *q, int64_t service_id, const char *version, int64_t *id, int64_t *fs, int64_t *ls),
        (q->rd, service_id, version, id, fs, ls))
SQ_READ(previous_version,
        (q_ctx *q, int64_t service_id, int64_t version_id, int64_t *prev_id, const char **name, int64_t *fs, int64_t *ls),
        (q->rd, service_id, version_id, prev_id, name, fs, ls))
SQ_READ(latest_version, (q_ctx *q, int64_t service_id, int64_t *id, const char **name, int64_t *fs, int64_t *ls),
        (q->rd, service_id, id, name, fs, ls))
SQ_READ(version_span, (q_ctx *q, int64_t version_id, int64_t *from_s, int64_t *to_s),
        (q->rd, version_id, from_s, to_s))
SQ_READ(fn_id, (q_ctx *q, const char *uuid, int64_t *fn), (q->rd, uuid, fn))
SQ_READ(flow_id, (q_ctx *q, const char *uuid, int64_t *flow), (q->rd, uuid, flow))
SQ_READ(fns_of_modules, (q_ctx *q, const char *const *paths, size_t n, int64_t **fns, size_t *n_fns),
        (q->rd, paths, n, fns, n_fns))
SQ_READ(fn_declared_in, (q_ctx *q, int64_t fn), (q->rd, fn))
SQ_READ(name_of_function, (q_ctx *q, const char *uuid, const char **name, const char **module_path),
        (q->rd, uuid, name, module_path))
SQ_READ(name_of_flow, (q_ctx *q, const char *uuid, const char **name), (q->rd, uuid, name))
SQ_READ(fn_summaries,
        (q_ctx *q, const q_fn_filter *f, hud_function_summary **items, int64_t **fns, size_t *n, srv_version_sums **vs),
        (q->rd, f, items, fns, n, vs))
SQ_READ(fn_page,
        (q_ctx *q, const int64_t *fns, size_t n, srv_version_pair v, hud_function_summary *items, srv_version_sums *vs),
        (q->rd, fns, n, v, items, vs))
SQ_READ(fn_meta, (q_ctx *q, int64_t fn, hud_function_summary *item), (q->rd, fn, item))
SQ_READ(fn_decl, (q_ctx *q, int64_t fn, hud_function_decl **decl), (q->rd, fn, decl))
SQ_READ(fn_sketch, (q_ctx *q, int64_t fn, int64_t flow, srv_sketch_ref *out), (q->rd, fn, flow, out))
SQ_READ(fn_version_sums, (q_ctx *q, const int64_t *fns, size_t n, srv_version_pair v, srv_version_sums *vs),
        (q->rd, fns, n, v, vs))
SQ_READ(fn_series, (q_ctx *q, int64_t fn, int64_t bucket_s, srv_series_row **rows, size_t *n),
        (q->rd, fn, bucket_s, rows, n))
SQ_READ(fn_peers, (q_ctx *q, int64_t fn, bool callers, srv_peer_row **rows, size_t *n), (q->rd, fn, callers, rows, n))
SQ_READ(fn_errors_by_type, (q_ctx *q, int64_t fn, hud_count_map *m), (q->rd, fn, m))
SQ_READ(fn_versions, (q_ctx *q, int64_t fn, srv_version_row **rows, size_t *n), (q->rd, fn, rows, n))
SQ_READ(callees, (q_ctx *q, int64_t caller, srv_call_edge **rows, size_t *n), (q->rd, caller, rows, n))
SQ_READ(graph_node, (q_ctx *q, int64_t fn, hud_graph_node *out), (q->rd, fn, out))
SQ_READ(exception_paths, (q_ctx *q, srv_exc_path **rows, size_t *n), (q->rd, rows, n))
SQ_READ(flows, (q_ctx *q, int limit, hud_flows_response *out, srv_sums **sums), (q->rd, limit, out, sums))
SQ_READ(exception_flows, (q_ctx *q, int64_t fn, int64_t flow, int limit, hud_exception_flows_response *out),
        (q->rd, fn, flow, limit, out))
SQ_READ(det_snapshot,
        (q_ctx *q, int64_t version_id, int64_t from_s, int64_t to_s, const char *label, srv_det_snapshot *out),
        (q->rd, version_id, from_s, to_s, label, out))
SQ_READ(det_snapshots, (q_ctx *q, const sq_side *sides, size_t n, srv_det_snapshot *outs), (q->rd, sides, n, outs))
SQ_READ(det_fns, (q_ctx *q, int64_t version_id, srv_det_fn **fns, size_t *n), (q->rd, version_id, fns, n))
SQ_READ(issues_list,
        (q_ctx *q, int64_t sid, srv_issue_filter f, int limit, int findings, srv_issue_row **rows, size_t *n),
        (q->rd, sid, f, limit, findings, rows, n))
SQ_READ(issue_get, (q_ctx *q, int64_t sid, const char *issue_id, srv_issue_row *out), (q->rd, sid, issue_id, out))
SQ_READ(issue_events, (q_ctx *q, const char *issue_id, srv_issue_event_row **ev, size_t *n), (q->rd, issue_id, ev, n))
#undef SQ_READ

#endif

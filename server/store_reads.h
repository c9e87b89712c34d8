/* The typed reads a store engine answers (its srv_store_ops.reads), engine-neutral.
 *
 * Every read runs on a read handle (store.h: srv_store_read_begin, then srv_store_read_window for
 * the request's service, version and window) and returns typed rows, never SQL or a connection:
 * ids are the store's integer ids of functions and flows (0 = none), strings and arrays live in the
 * handle's arena. What the figures mean (sums into means and rates, trend fits, the slowdown rule,
 * percentiles of merged sketches, which versions a slowdown compares, the call-graph walk) is computed by the query side
 * (query_figures.h, query_graph.c, query_functions.c); a read only sums rows over the window. */
#ifndef SRV_STORE_READS_H
#define SRV_STORE_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "hud/codec.h"
#include "hud/model.h"
#include "issues_store.h"
#include "store.h"

/* The two versions a slowdown compares (the query side picks them): CUR and PREV, deployed before it;
 * PREV 0: nothing to compare. */
typedef struct srv_version_pair {
  int64_t cur, prev;
} srv_version_pair;

/* Sampled calls and their summed duration over the window, previous [0] and current [1] version. */
typedef struct srv_version_sums {
  int64_t n[2], sum[2];
} srv_version_sums;

/* Which functions a summary read covers. */
typedef struct srv_fn_filter {
  const int64_t *fns; /* function ids; NULL = every function of the service */
  size_t n_fns;
  int64_t flow;       /* flow id; 0 = all flows */
  bool no_trends;     /* skip the per-slice points (duration_trend/error_trend stay 0) */
  bool p95;           /* every function (fns NULL): also p95 from the merged sketches, in the same pass */
  srv_version_pair versions; /* every function, no flow, no version in the scope: also the version
                              * sums of these two in the same pass (what fn_version_sums answers) */
} srv_fn_filter;

/* A call edge out of a function, summed over the window per (callee, call line). */
typedef struct srv_call_edge {
  int64_t fn;
  int line;
  int64_t calls, sum_duration;
} srv_call_edge;

/* An exception's propagation, summed over the window: raised in ORIGIN, through THROUGH (its callers
 * in order), caught in CAUGHT (0: escaped). */
typedef struct srv_exc_path {
  const char *type;
  int64_t origin, caught;
  int64_t *through;
  size_t n_through;
  int64_t count;
} srv_exc_path;

/* The stored form of a path's functions, "id id ...", as ids in arena A (*IDS owned by it). Both
 * engines store paths so. 0 or HUD_ENOMEM. */
int srv_exc_path_ids(hud_arena *a, const char *path, int64_t **ids, size_t *n);

/* A merged sketch as a blob of server/sketch_bins.h, in the handle's arena; LEN 0: no values. */
typedef struct srv_sketch_ref {
  const unsigned char *blob;
  size_t len;
} srv_sketch_ref;

/* Sums of a group of rows over the window (durations in ns) and their merged sketch. */
typedef struct srv_sums {
  int64_t count, errors, sampled;
  double sum, sumsq;
  srv_sketch_ref sketch;
} srv_sums;

/* A function's rows per bucket of the series (START: unix s). */
typedef struct srv_series_row {
  int64_t start;
  srv_sums s;
} srv_series_row;

/* A function's rows per version (first/last seen: unix s). */
typedef struct srv_version_row {
  const char *version;
  int64_t first_seen, last_seen;
  srv_sums s;
} srv_version_row;

/* A caller or callee: identity, line, calls, errors and summed duration in PEER (mean_duration is the
 * caller's), with the sampled calls of that duration. */
typedef struct srv_peer_row {
  hud_call_peer peer;
  int64_t sampled;
} srv_peer_row;

/* One side of a detection comparison. */
#define SRV_READ_MAX_SIDES 4
typedef struct srv_read_side {
  int64_t version_id; /* 0 = all versions */
  int64_t from_s, to_s;
  const char *label;
} srv_read_side;

typedef struct srv_store_reads {
  /* ---- services, versions, ids ---- */
  /* Every service whose environment ENV_ALLOWED(ARG, env) accepts (SERVICE_FILTER: that name only),
   * with at most MAX_ENVS environments each and their versions, newest first. */
  int (*services)(srv_store_read *rd, const char *service_filter, int (*env_allowed)(void *arg, const char *env),
                  void *arg, size_t max_envs, hud_services_response *out);
  int (*service_id)(srv_store_read *rd, const char *env, const char *name, int64_t *id);
  /* The environment and name of service SERVICE_ID. */
  int (*service_of)(srv_store_read *rd, int64_t service_id, const char **env, const char **name);
  int (*version)(srv_store_read *rd, int64_t service_id, const char *version, int64_t *id, int64_t *first_seen,
                 int64_t *last_seen);
  /* The version deployed before VERSION_ID (by first_seen); HUD_ENOTFOUND when none. */
  int (*previous_version)(srv_store_read *rd, int64_t service_id, int64_t version_id, int64_t *prev_id,
                          const char **name, int64_t *first_seen, int64_t *last_seen);
  /* Newest version (by first_seen) of the service; HUD_ENOTFOUND when none. */
  int (*latest_version)(srv_store_read *rd, int64_t service_id, int64_t *id, const char **name, int64_t *first_seen,
                        int64_t *last_seen);
  /* VERSION_ID's span of data [*FROM_S, *TO_S). */
  int (*version_span)(srv_store_read *rd, int64_t version_id, int64_t *from_s, int64_t *to_s);
  /* Function / flow id of UUID in the window's service; HUD_ENOTFOUND when unknown. */
  int (*fn_id)(srv_store_read *rd, const char *uuid, int64_t *fn);
  int (*flow_id)(srv_store_read *rd, const char *uuid, int64_t *flow);
  /* Ids of every function of the given module paths (declaration order). */
  int (*fns_of_modules)(srv_store_read *rd, const char *const *paths, size_t n, int64_t **fns, size_t *n_fns);
  /* 1 when function FN was declared (or seen) during the window, 0 when not. */
  int (*fn_declared_in)(srv_store_read *rd, int64_t fn);
  /* Display name (qualname / "GET /route") and module path of a function or flow UUID. */
  int (*name_of_function)(srv_store_read *rd, const char *uuid, const char **name, const char **module_path);
  int (*name_of_flow)(srv_store_read *rd, const char *uuid, const char **name);

  /* ---- functions ---- */
  /* Figures of the functions matching F over the window; FNS[i] is the id of ITEMS[i]; unsorted,
   * no metadata, no slowdown. *VS: (*VS)[i] the version sums of F->versions (NULL when not asked). */
  int (*fn_summaries)(srv_store_read *rd, const srv_fn_filter *f, hud_function_summary **items, int64_t **fns,
                      size_t *n, srv_version_sums **vs);
  /* Every figure of a page of functions (sums, trends, percentiles) and VS[i] the version sums of
   * VERSIONS for FNS[i]. */
  int (*fn_page)(srv_store_read *rd, const int64_t *fns, size_t n, srv_version_pair versions,
                 hud_function_summary *items, srv_version_sums *vs);
  /* Declaration fields of ITEM from function FN. */
  int (*fn_meta)(srv_store_read *rd, int64_t fn, hud_function_summary *item);
  /* The newest declaration of FN (NULL when calls were seen but no declaration came). */
  int (*fn_decl)(srv_store_read *rd, int64_t fn, hud_function_decl **decl);
  /* The merged sketch of function FN (in FLOW when not 0) over the window. */
  int (*fn_sketch)(srv_store_read *rd, int64_t fn, int64_t flow, srv_sketch_ref *out);
  /* Optional (NULL: fn_sketch per function): OUT[i], the merged sketch of FNS[i] (in FLOW when not
   * 0), all in one read. */
  int (*fn_sketches)(srv_store_read *rd, const int64_t *fns, size_t n, int64_t flow, srv_sketch_ref *out);
  /* VS[i]: the version sums of VERSIONS for function FNS[i]. */
  int (*fn_version_sums)(srv_store_read *rd, const int64_t *fns, size_t n, srv_version_pair versions,
                         srv_version_sums *vs);
  /* FN's rows in buckets of BUCKET_S from the window's start, the buckets with rows, in order. */
  int (*fn_series)(srv_store_read *rd, int64_t fn, int64_t bucket_s, srv_series_row **rows, size_t *n);
  /* FN's callers (CALLERS) or callees, by calls descending; ties as a reader scans the source:
   * callers by module, line, then function uuid (none first), callees by call-site line, then
   * uuid (ids are the engine's own, uuids the same in every engine). */
  int (*fn_peers)(srv_store_read *rd, int64_t fn, bool callers, srv_peer_row **rows, size_t *n);
  /* Exceptions raised out of FN by type, by count descending. */
  int (*fn_errors_by_type)(srv_store_read *rd, int64_t fn, hud_count_map *m);
  /* FN's rows per version with rows in the window, newest version first. */
  int (*fn_versions)(srv_store_read *rd, int64_t fn, srv_version_row **rows, size_t *n);

  /* ---- call graph, flows, exceptions ---- */
  /* Call edges out of CALLER by callee time descending, then callee and line. */
  int (*callees)(srv_store_read *rd, int64_t caller, srv_call_edge **rows, size_t *n);
  /* Function FN's declaration and totals over the window. */
  int (*graph_node)(srv_store_read *rd, int64_t fn, hud_graph_node *out);
  /* Optional (NULL: the query side calls callees and graph_node once per function): the same answers
   * for N functions in one read, for engines where each read is a round trip. CALLEES_OF: the edges
   * out of CALLERS[0], then those out of CALLERS[1], ... in *ROWS, NS[i] of them for CALLERS[i].
   * GRAPH_NODES: OUT[i] for FNS[i]. */
  int (*callees_of)(srv_store_read *rd, const int64_t *callers, size_t n, srv_call_edge **rows, size_t *ns);
  int (*graph_nodes)(srv_store_read *rd, const int64_t *fns, size_t n, hud_graph_node *out);
  int (*exception_paths)(srv_store_read *rd, srv_exc_path **rows, size_t *n);
  /* LIMIT flows by calls: identity, status codes and functions in OUT (figures and out->from/to are the
   * caller's), the flow's sums in (*SUMS)[i]. */
  int (*flows)(srv_store_read *rd, int limit, hud_flows_response *out, srv_sums **sums);
  /* Exception paths, one entry per (type, origin, path, catcher), the first LIMIT in the order of
   * q_exception_flows_order (query_figures.h); FN (0 = any) must be the origin, on the path or the
   * catcher; FLOW (0 = all) restricts to one flow. */
  int (*exception_flows)(srv_store_read *rd, int64_t fn, int64_t flow, int limit, hud_exception_flows_response *out);

  /* ---- stored issues (issues_store.h's rows) ---- */
  /* Issues of service SID matching F, most recently seen first, at most LIMIT (0: no limit); with
   * FINDINGS 0 the findings are not read. */
  int (*issues_list)(srv_store_read *rd, int64_t sid, srv_issue_filter f, int limit, int findings, srv_issue_row **rows,
                     size_t *n);
  /* Issue ISSUE_ID of service SID; HUD_ENOTFOUND when none. */
  int (*issue_get)(srv_store_read *rd, int64_t sid, const char *issue_id, srv_issue_row *out);
  /* Its history, oldest first. */
  int (*issue_events)(srv_store_read *rd, const char *issue_id, srv_issue_event_row **ev, size_t *n);

  /* ---- detection inputs ---- */
  int (*det_snapshot)(srv_store_read *rd, int64_t version_id, int64_t from_s, int64_t to_s, const char *label,
                      srv_det_snapshot *out);
  /* Several sides at once: one pass over the call rows. */
  int (*det_snapshots)(srv_store_read *rd, const srv_read_side *sides, size_t n, srv_det_snapshot *outs);
  /* The code hashes version VERSION_ID declared. */
  int (*det_fns)(srv_store_read *rd, int64_t version_id, srv_det_fn **fns, size_t *n);
} srv_store_reads;

#endif

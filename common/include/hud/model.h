/* The typed data model of docs/protocol.md: what the sensor sends (the batch and its records)
 * and what hud-server answers (the query API). No JSON here: common/codec.c turns these
 * structs into JSON and back.
 *
 * Ownership: every pointer reachable from a decoded struct points into a hud_arena that the
 * caller passed to the decoder; everything dies at once with hud_arena_free()/hud_arena_reset().
 * For encoding, the caller may point the fields anywhere (string literals, its own buffers, an
 * arena): the encoder only reads them.
 *
 * Conventions: times are int64 nanoseconds since the Unix epoch (UTC) in the structs and
 * RFC 3339 strings on the wire; durations are int64 nanoseconds; counts are int64 >= 0;
 * computed statistics (means, percentiles, rates, trends) are doubles; optional strings are
 * NULL when absent; fixed-size id buffers are "" when absent. */
#ifndef HUD_MODEL_H
#define HUD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/identity.h"
#include "hud/sketch.h"

/* Wire schema versions of the batch envelope this build understands. */
#define HUD_SCHEMA_VERSION 1
#define HUD_SCHEMA_VERSION_MIN 1
#define HUD_SCHEMA_VERSION_MAX 1

/* Namespace of flow ids: uuid5(NAMESPACE_URL, "urn:hud:flow"). */
#define HUD_FLOW_ID_NAMESPACE "269bd917-969d-5169-949d-a972372cc36d"

/* Limits of docs/protocol.md ("Limits"). The decoder enforces them (hud_codec_limits can lower
 * or raise them per call). */
#define HUD_MAX_BODY_BYTES (8u << 20)          /* request body as sent (gzip or plain) */
#define HUD_MAX_DECODED_BYTES (64u << 20)      /* body after gunzip */
#define HUD_MAX_STRING_BYTES 4096              /* any string value, in UTF-8 bytes */
#define HUD_MAX_ARRAY_ITEMS 100000             /* any one array */
#define HUD_MAX_BATCH_RECORDS 200000           /* all record arrays of a batch together */
#define HUD_MAX_DEPTH 16                       /* JSON nesting depth, outermost value = 1 */
#define HUD_MAX_MAP_ENTRIES 1024               /* exceptions, status_codes, tags */
#define HUD_MAX_QUERY_LIMIT 1000               /* top-N limit and module_paths per request */
#define HUD_MAX_PROPAGATION 256                /* propagated_through entries of one exception flow */

typedef int64_t hud_time_ns; /* ns since 1970-01-01T00:00:00Z */

/* ---------------------------------------------------------------------------------------- */
/* Arena: one allocation lifetime for a decoded document. Not thread-safe. */

typedef struct hud_arena hud_arena;

/* NULL on out of memory. */
hud_arena *hud_arena_new(void);
/* Releases every block; NULL is fine. */
void hud_arena_free(hud_arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void hud_arena_reset(hud_arena *a);
/* SIZE zeroed bytes aligned for any type; NULL on out of memory (or SIZE == 0 overflow). */
void *hud_arena_alloc(hud_arena *a, size_t size);
/* N elements of SIZE bytes, zeroed, with overflow check. */
void *hud_arena_calloc(hud_arena *a, size_t n, size_t size);
/* NUL-terminated copies; NULL on out of memory (or S == NULL). */
char *hud_arena_strdup(hud_arena *a, const char *s);
char *hud_arena_strndup(hud_arena *a, const char *s, size_t len);
/* Bytes handed out so far (statistics, tests). */
size_t hud_arena_used(const hud_arena *a);
/* FN(ARG, BYTES) is called before the arena mallocs a block of BYTES; non-zero refuses it (the
 * allocation returns NULL). For callers that account for (or wait for) the memory of an arena. */
void hud_arena_set_grow_hook(hud_arena *a, int (*fn)(void *arg, size_t bytes), void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Small shared shapes. */

typedef char hud_uuid[HUD_UUID_STRLEN + 1]; /* lowercase canonical text, "" = absent */

/* One entry of a name -> count map (exceptions by type, tags use hud_tag). */
typedef struct hud_count_entry {
  const char *key;
  int64_t count;
} hud_count_entry;

typedef struct hud_count_map {
  size_t n;
  hud_count_entry *items;
} hud_count_map;

/* One HTTP status code and how many responses had it. */
typedef struct hud_status_count {
  int32_t status; /* 100..599 */
  int64_t count;
} hud_status_count;

typedef struct hud_tag {
  const char *key;
  const char *value;
} hud_tag;

/* The duration sketch on the wire is hud_sketch_bins (sketch.h). When it comes from the
 * decoder, counts live in the arena: do NOT call hud_sketch_bins_free() on it; pass it to
 * hud_sketch_import() to get a hud_sketch. */

/* Where a call came from: caller function, the caller's module path, the call-site line.
 * caller_function_id "" = module-level code or code that is not instrumented. */
typedef struct hud_call_site {
  hud_uuid caller_function_id;
  const char *caller_module_path; /* never NULL when decoded; "" = unknown */
  int32_t line;                   /* 1-based call-site line, 0 = unknown */
} hud_call_site;

/* ---------------------------------------------------------------------------------------- */
/* Records of a batch. */

typedef struct hud_function_decl {
  hud_uuid function_id;         /* uuid5 per docs/protocol.md */
  const char *name;             /* qualified name (Python __qualname__) */
  const char *file;             /* absolute path at runtime */
  const char *module_path;      /* relative, '/' separators; NULL = absent (Hud-shaped input) */
  int32_t start_line;           /* 1-based, first decorator line */
  int32_t end_line;             /* >= start_line */
  bool is_async;
  bool is_generator;            /* optional on the wire, default false */
  char source_code_hash[HUD_SHA1_HEXLEN + 1];
} hud_function_decl;

/* Statistics of one function, for one caller, in one flow, in one time slice. */
typedef struct hud_invocation {
  hud_uuid function_id;
  bool has_caller;              /* false: no caller known (entry from framework / C code) */
  hud_call_site caller;
  hud_uuid flow_id;             /* "" = not inside a flow */
  hud_time_ns timestamp;        /* start of the time slice */
  int64_t timeslice;            /* slice length, ns (> 0) */
  int64_t count;                /* exact number of calls */
  int64_t sampled_count;        /* timed calls, <= count */
  int64_t sum_duration;         /* ns, over sampled calls */
  double sum_squared_duration;  /* ns^2, over sampled calls (exceeds int64 quickly) */
  int64_t self_duration;        /* ns, over sampled calls, time not spent in instrumented callees */
  hud_sketch_bins *sketch;      /* durations of sampled calls; NULL = absent */
  hud_count_map exceptions;     /* exception type -> number of calls that raised it out */
} hud_invocation;

/* One path of an exception: raised in origin, propagated through functions, caught or escaped. */
typedef struct hud_exception_flow {
  const char *exception_type;   /* e.g. "ValueError", "requests.exceptions.Timeout" */
  hud_uuid origin_function_id;  /* where raised */
  int32_t origin_line;          /* raise line, 0 = unknown */
  size_t n_propagated;
  hud_uuid *propagated_through; /* in order, origin's caller first, excluding origin and catcher */
  hud_uuid caught_in_function_id; /* "" = escaped (the flow / thread ended with it) */
  bool escaped;                 /* == (caught_in_function_id[0] == '\0'); set by the decoder */
  hud_uuid flow_id;             /* "" = not inside a flow */
  hud_time_ns timestamp;
  int64_t timeslice;
  int64_t count;
} hud_exception_flow;

typedef enum hud_flow_kind {
  HUD_FLOW_ENDPOINT = 1,        /* an HTTP request handler (WSGI/ASGI) */
  HUD_FLOW_QUEUE_CONSUMER = 2,  /* a task consumed from a queue (Celery) */
} hud_flow_kind;

/* Aggregate of one flow in one time slice. */
typedef struct hud_flow {
  hud_uuid flow_id;             /* hud_flow_id_*() of the fields below */
  hud_flow_kind kind;
  const char *method;           /* endpoint: "GET" (upper case); NULL for queue consumers */
  const char *route;            /* endpoint: route template "/orders/<id>"; NULL otherwise */
  const char *task_name;        /* queue consumer: "shop.tasks.send_mail"; NULL otherwise */
  const char *queue;            /* queue consumer: optional queue name; NULL = absent */
  hud_time_ns timestamp;
  int64_t timeslice;
  int64_t count;                /* exact */
  int64_t error_count;          /* endpoint: 5xx or unhandled exception; consumer: task raised */
  int64_t sampled_count;
  int64_t sum_duration;
  double sum_squared_duration;
  hud_sketch_bins *sketch;      /* NULL = absent */
  size_t n_status_codes;        /* endpoints only */
  hud_status_count *status_codes;
  hud_count_map exceptions;     /* exception type -> count escaping the flow */
} hud_flow;

/* Link: a function ran inside a flow (per time slice). */
typedef struct hud_flow_function {
  hud_uuid flow_id;
  hud_uuid function_id;
  hud_time_ns timestamp;
  int64_t timeslice;
  int64_t count;
  int64_t error_count;          /* calls that raised out of the function */
  int64_t sampled_count;
  int64_t sum_duration;
  int64_t self_duration;
} hud_flow_function;

/* The sensor's own cost over the batch interval. */
typedef struct hud_sensor_overhead {
  int64_t interval_ns;          /* wall time covered by this batch */
  int64_t cpu_ns;               /* CPU time the sensor spent (hooks + sender thread) */
  double cpu_fraction;          /* estimated share of the process's CPU, 0..1 */
  int64_t memory_bytes;         /* sensor heap in use at send time */
  double sample_rate;           /* effective fraction of calls timed, 0..1 */
} hud_sensor_overhead;

/* What the sensor could not send (since the previous batch that was acknowledged). */
typedef struct hud_dropped {
  int64_t batches;              /* backlog overflow: whole batches discarded */
  int64_t declarations;
  int64_t invocations;
  int64_t exception_flows;
  int64_t flows;
  int64_t flow_functions;
  int64_t bytes;
} hud_dropped;

typedef struct hud_batch {
  int32_t schema_version;       /* HUD_SCHEMA_VERSION */
  hud_uuid batch_id;            /* random; a retry carries the same id */
  const char *service;
  const char *environment;      /* NULL = from the API key */
  const char *service_version;
  const char *host;
  int64_t pid;
  const char *runtime;          /* "cpython 3.11.2" */
  const char *sensor_version;
  hud_time_ns sent_at;
  size_t n_tags;
  hud_tag *tags;                /* HUD_TAGS */
  hud_sensor_overhead overhead;
  hud_dropped dropped;
  size_t n_declarations;
  hud_function_decl *declarations;
  size_t n_invocations;
  hud_invocation *invocations;
  size_t n_exception_flows;
  hud_exception_flow *exception_flows;
  size_t n_flows;
  hud_flow *flows;
  size_t n_flow_functions;
  hud_flow_function *flow_functions;
} hud_batch;

/* Answer to POST /v1/ingest (200). */
typedef struct hud_ingest_response {
  hud_uuid batch_id;
  bool duplicate;               /* already stored earlier: acknowledged, not counted again */
  int64_t records;              /* records accepted (0 for a duplicate) */
} hud_ingest_response;

/* flow_id = uuid5(HUD_FLOW_ID_NAMESPACE, "endpoint:" METHOD " " ROUTE). METHOD is upper-cased. */
int hud_flow_id_endpoint(const char *method, const char *route, char out[HUD_UUID_STRLEN + 1]);
/* flow_id = uuid5(HUD_FLOW_ID_NAMESPACE, "queue:" TASK_NAME). */
int hud_flow_id_queue(const char *task_name, char out[HUD_UUID_STRLEN + 1]);

/* ---------------------------------------------------------------------------------------- */
/* Query API (docs/protocol.md "Query API"). Requests that are GETs travel as query strings. */

/* Scope shared by every query. */
typedef struct hud_query_scope {
  const char *service;          /* required except for the services list */
  const char *environment;      /* NULL = the key's only environment */
  const char *version;          /* NULL = all versions */
  hud_time_ns from;             /* 0 = to - 24 h */
  hud_time_ns to;               /* 0 = now */
} hud_query_scope;

typedef enum hud_sort {
  HUD_SORT_CALLS = 1,
  HUD_SORT_P95,
  HUD_SORT_ERROR_RATE,
  HUD_SORT_DURATION_TREND,
  HUD_SORT_ERROR_TREND,
  HUD_SORT_SLOWDOWN,
} hud_sort;

/* "calls", "p95", ...; NULL for an invalid value. */
const char *hud_sort_name(hud_sort s);
/* HUD_EINVAL for an unknown name. */
int hud_sort_parse(const char *name, hud_sort *out);

/* GET /v1/services */
typedef struct hud_version_info {
  const char *version;
  hud_time_ns first_seen;
  hud_time_ns last_seen;
} hud_version_info;

typedef struct hud_environment_info {
  const char *name;
  hud_time_ns first_seen;
  hud_time_ns last_seen;
  size_t n_versions;
  hud_version_info *versions;   /* newest first */
} hud_environment_info;

typedef struct hud_service_info {
  const char *name;
  hud_time_ns first_seen;
  hud_time_ns last_seen;
  size_t n_environments;
  hud_environment_info *environments;
} hud_service_info;

typedef struct hud_services_response {
  size_t n_services;
  hud_service_info *services;
} hud_services_response;

/* Figures of one function over the query window; what lists, lenses and hovers show. */
typedef struct hud_function_summary {
  hud_uuid function_id;
  const char *name;
  const char *module_path;      /* NULL if never declared with one */
  const char *file;             /* NULL if unknown */
  int32_t start_line, end_line; /* 0 if never declared */
  bool is_async;
  char source_code_hash[HUD_SHA1_HEXLEN + 1]; /* of the newest declaration, "" if none */
  int64_t calls;
  int64_t errors;               /* calls that raised out */
  double error_rate;            /* errors / calls, 0 when no calls */
  int64_t sampled_count;
  double mean_duration;         /* ns */
  double p50, p90, p95, p99;    /* ns; 0 when no sampled calls */
  double self_duration_mean;    /* ns per sampled call */
  double duration_trend;        /* slope of mean duration, ns per hour */
  double error_trend;           /* slope of error rate, per hour */
  double slowdown;              /* mean duration change vs previous version, percent; 0 = none */
  const char *previous_version; /* compared with for slowdown; NULL = none */
} hud_function_summary;

/* GET /v1/functions/top */
typedef struct hud_top_request {
  hud_query_scope scope;
  hud_sort sort;                /* default HUD_SORT_CALLS */
  int32_t limit;                /* 1..HUD_MAX_QUERY_LIMIT, default 20 */
  hud_uuid flow_id;             /* "" = all flows */
} hud_top_request;

typedef struct hud_top_response {
  hud_time_ns from, to;         /* the window actually used */
  hud_sort sort;
  size_t n_items;
  hud_function_summary *items;
} hud_top_response;

/* POST /v1/functions/by-module (JSON body): the editor's call for the open files. */
typedef struct hud_by_module_request {
  hud_query_scope scope;
  size_t n_module_paths;
  const char **module_paths;    /* 1..HUD_MAX_QUERY_LIMIT */
} hud_by_module_request;

typedef struct hud_by_module_response {
  hud_time_ns from, to;
  size_t n_items;
  hud_function_summary *items;  /* every function of those modules seen in the window */
} hud_by_module_response;

/* GET /v1/functions/{function_id} */
typedef struct hud_function_request {
  hud_query_scope scope;
  hud_uuid function_id;
  int64_t bucket_ns;            /* time-series bucket, 0 = server's choice */
} hud_function_request;

typedef struct hud_time_point {
  hud_time_ns timestamp;        /* bucket start */
  int64_t calls;
  int64_t errors;
  double mean_duration;
  double p50, p95;
} hud_time_point;

/* A caller or callee of the function, with the call site. */
typedef struct hud_call_peer {
  hud_uuid function_id;         /* "" = module-level / not instrumented (callers only) */
  const char *name;             /* NULL if not declared */
  const char *module_path;      /* NULL if unknown */
  int32_t line;                 /* call-site line (in the caller), 0 = unknown */
  int64_t calls;
  int64_t errors;
  double mean_duration;         /* of the callee on this edge, ns */
  int64_t sum_duration;
} hud_call_peer;

typedef struct hud_version_stats {
  const char *version;
  hud_time_ns first_seen, last_seen;
  int64_t calls;
  int64_t errors;
  double error_rate;
  int64_t sampled_count;
  double mean_duration;
  double stddev_duration;
  double p50, p95, p99;
} hud_version_stats;

typedef struct hud_function_detail {
  hud_function_decl *declaration; /* newest declaration (module_path may be NULL); NULL: calls seen, never declared */
  hud_function_summary summary;
  size_t n_series;
  hud_time_point *series;
  size_t n_callers;
  hud_call_peer *callers;
  size_t n_callees;
  hud_call_peer *callees;
  hud_count_map errors_by_type;
  size_t n_versions;
  hud_version_stats *versions;    /* newest first */
} hud_function_detail;

/* GET /v1/callgraph */
typedef struct hud_callgraph_request {
  hud_query_scope scope;
  hud_uuid root;
  int32_t depth;                /* 1..16, default 4 */
  int32_t max_nodes;            /* 1..HUD_MAX_QUERY_LIMIT, default 200 */
} hud_callgraph_request;

typedef struct hud_graph_node {
  hud_uuid function_id;
  const char *name;
  const char *module_path;
  int64_t calls;
  int64_t errors;
  int64_t sum_duration;
  int64_t self_duration;
} hud_graph_node;

typedef enum hud_edge_kind {
  HUD_EDGE_CALL = 1,            /* caller -> callee */
  HUD_EDGE_EXCEPTION = 2,       /* exception propagated from -> to (raiser -> its caller) */
} hud_edge_kind;

typedef struct hud_graph_edge {
  hud_uuid from;
  hud_uuid to;
  hud_edge_kind kind;
  int32_t line;                 /* call site, 0 = unknown */
  int64_t calls;                /* call edges: calls; exception edges: exceptions */
  int64_t sum_duration;         /* call edges: callee time on this edge, ns */
  const char *exception_type;   /* exception edges only */
} hud_graph_edge;

typedef struct hud_callgraph_response {
  hud_uuid root;
  bool truncated;               /* depth or max_nodes cut the graph */
  size_t n_nodes;
  hud_graph_node *nodes;
  size_t n_edges;
  hud_graph_edge *edges;
} hud_callgraph_response;

/* GET /v1/flows */
typedef struct hud_flows_request {
  hud_query_scope scope;
  int32_t limit;                /* default 100 */
} hud_flows_request;

typedef struct hud_flow_function_stats {
  hud_uuid function_id;
  const char *name;
  const char *module_path;
  int64_t calls;
  int64_t errors;
  int64_t sum_duration;
  int64_t self_duration;
} hud_flow_function_stats;

typedef struct hud_flow_summary {
  hud_uuid flow_id;
  hud_flow_kind kind;
  const char *method, *route;   /* endpoints */
  const char *task_name;        /* queue consumers */
  const char *queue;            /* optional */
  int64_t calls;
  int64_t errors;
  double error_rate;
  double mean_duration;
  double p50, p95, p99;
  size_t n_status_codes;
  hud_status_count *status_codes;
  size_t n_functions;
  hud_flow_function_stats *functions; /* by total time, descending */
} hud_flow_summary;

typedef struct hud_flows_response {
  hud_time_ns from, to;
  size_t n_flows;
  hud_flow_summary *flows;
} hud_flows_response;

/* GET /v1/issues, GET /v1/issues/{issue_id}, POST /v1/issues/{issue_id}/status */
typedef enum hud_issue_kind {
  HUD_ISSUE_DURATION_REGRESSION = 1,
  HUD_ISSUE_ERROR_RATE_INCREASE = 2,
  HUD_ISSUE_NEW_EXCEPTION = 3,  /* an exception type never seen on the baseline side */
} hud_issue_kind;

typedef enum hud_subject_kind {
  HUD_SUBJECT_FUNCTION = 1,
  HUD_SUBJECT_FLOW = 2,
} hud_subject_kind;

typedef enum hud_comparison_kind {
  HUD_COMPARE_VERSIONS = 1,     /* new version vs the previous one */
  HUD_COMPARE_WINDOWS = 2,      /* recent window vs the one before */
  HUD_COMPARE_CANARY = 3,       /* two versions serving at the same time, over the same minutes */
} hud_comparison_kind;

/* Issue statuses (hud_issue.status) and the list filter's extra names. */
#define HUD_ISSUE_OPEN "open"
#define HUD_ISSUE_ACKNOWLEDGED "acknowledged"
#define HUD_ISSUE_MUTED "muted"
#define HUD_ISSUE_RESOLVED "resolved"
#define HUD_ISSUE_FILTER_ACTIVE "active" /* open + acknowledged */
#define HUD_ISSUE_FILTER_ALL "all"

typedef struct hud_issues_request {
  hud_query_scope scope;
  const char *status;           /* NULL = "active" (open + acknowledged); "open", "acknowledged",
                                   "muted", "resolved", "all" */
  int32_t limit;                /* default 100 */
} hud_issues_request;

/* GET /v1/issues/{issue_id}: one issue with its history. Only scope.service and
 * scope.environment travel (the id names the comparison). */
typedef struct hud_issue_request {
  hud_query_scope scope;
  hud_uuid issue_id;
} hud_issue_request;

/* POST /v1/issues/{issue_id}/status: scope (service, env) in the query string, the id in the
 * path, {"status", "note"} in the body. Needs the role triage or admin. */
typedef struct hud_issue_status_request {
  hud_query_scope scope;
  hud_uuid issue_id;
  const char *status;           /* "acknowledged" | "muted" | "open" (unmute / un-acknowledge) */
  const char *note;             /* optional, kept in the history */
} hud_issue_status_request;

/* One side of a comparison. */
typedef struct hud_sample {
  const char *version;          /* NULL for window comparisons */
  hud_time_ns from, to;
  int64_t count;                /* calls */
  int64_t sampled_count;
  int64_t errors;
  double mean_duration;         /* ns */
  double stddev_duration;       /* ns */
  double error_rate;
} hud_sample;

typedef struct hud_root_cause {
  hud_uuid function_id;
  const char *name;
  const char *module_path;
  const char *metric;           /* "self_duration" | "error_origin" | ... */
  double baseline_value;
  double current_value;
  double share;                 /* share of the subject's change explained, 0..1 */
  double p_value;
  const char *exception_type;   /* error roots: the type raised here; NULL otherwise */
  const char *evidence;         /* one human sentence */
} hud_root_cause;

/* A flow that an issue makes slower or failing, per request. */
typedef struct hud_affected_flow {
  hud_uuid flow_id;
  const char *name;             /* "GET /orders/<id>", NULL if unknown */
  double baseline_mean, current_mean; /* ns per request */
  double effect;                /* ns per request caused by this issue */
  double effect_pct;            /* effect / baseline_mean * 100 */
  double baseline_error_rate, current_error_rate; /* failures per request */
  int64_t count;                /* current requests */
} hud_affected_flow;

/* One function of the call path from a flow's root to the root cause. */
typedef struct hud_path_step {
  hud_uuid function_id;
  const char *name;             /* NULL if never declared */
} hud_path_step;

/* Deep links to the issue; each NULL when the server has no public URL to build it from. */
typedef struct hud_issue_links {
  const char *vscode;           /* vscode://hud-dev.hud/function?id=<function_id>&issue=<issue_id> */
  const char *tui;              /* hud-tui --url ... --env ... --service ... --issue <issue_id> */
  const char *api;              /* <public url>/v1/issues/<id>?env=..&service=.. */
} hud_issue_links;

/* One entry of an issue's history. */
typedef struct hud_issue_event {
  hud_time_ns at;
  const char *event;            /* opened|resolved|reopened|regressed|acknowledged|muted|unmuted|updated */
  const char *note;             /* NULL = none */
} hud_issue_event;

/* Fields marked "(new)" are optional on the wire for decoders: a document without them decodes
 * (numbers 0, strings NULL, arrays empty, code_changed -1). */
typedef struct hud_issue {
  hud_uuid issue_id;
  hud_issue_kind kind;
  hud_subject_kind subject_kind;
  hud_uuid subject_id;          /* function_id or flow_id */
  const char *subject_name;     /* qualname or "GET /orders/<id>" */
  hud_comparison_kind comparison;
  hud_sample baseline;
  hud_sample current;
  const char *metric;           /* "mean_duration" | "error_rate" */
  double effect;                /* current - baseline, in the metric's unit */
  double effect_pct;            /* relative change, percent */
  double ci_low, ci_high;       /* confidence interval of the effect */
  double confidence;            /* of the interval, e.g. 0.95 */
  double p_value;
  hud_time_ns detected_at;      /* == first_seen (stable) */
  const char *status;           /* "open" | "acknowledged" | "muted" | "resolved" */
  size_t n_root_causes;
  hud_root_cause *root_causes;  /* [0] = the root cause */
  /* (new) */
  const char *headline;         /* "apply_discounts self time +4.13 ms per call (v1 → v2)" */
  const char *module_path;      /* of the root-cause function; NULL = unknown */
  double q_value;               /* Benjamini–Hochberg adjusted p */
  double statistic;             /* the decision's test statistic (z) */
  const char *statistic_name;   /* "z" */
  double df;                    /* 0 for z */
  const char *p_text;           /* p for people: "< 1e-16", "3.2e-05" */
  bool effect_pct_capped;       /* effect_pct clamped to 10000 (> 100x; baseline 0 too) */
  double drift_pct;             /* between-deployment drift allowance used, percent */
  double host_shift_pct;        /* the host's common shift expected in the subject, taken off
                                   before testing (not off effect), percent; 0 = none */
  int8_t code_changed;          /* -1 unknown (omitted on the wire), 0 no, 1 yes */
  bool self_includes_uninstrumented; /* the cause's self time holds uninstrumented callees */
  hud_time_ns first_seen, last_seen; /* 0 = absent */
  hud_time_ns status_changed_at;
  int32_t times_reopened;
  size_t n_affected_flows;
  hud_affected_flow *affected_flows; /* largest effect first */
  size_t n_call_path;
  hud_path_step *call_path;     /* flow root -> cause, of the most affected flow */
  hud_issue_links links;        /* omitted on the wire when all three are NULL */
  size_t n_history;
  hud_issue_event *history;     /* GET /v1/issues/{id} only; oldest first */
} hud_issue;

typedef struct hud_issues_response {
  size_t n_issues;
  hud_issue *issues;
} hud_issues_response;

/* GET /v1/exception-flows */
typedef struct hud_exception_flows_request {
  hud_query_scope scope;
  hud_uuid function_id;         /* "" = every function; else flows it raised, propagated or caught */
  hud_uuid flow_id;             /* "" = all flows */
  int32_t limit;                /* 1..HUD_MAX_QUERY_LIMIT, default 100 */
} hud_exception_flows_request;

/* A function named in an answer: its id and, when it was declared, its name and module. */
typedef struct hud_function_ref {
  hud_uuid function_id;
  const char *name;             /* NULL if never declared */
  const char *module_path;      /* NULL if never declared with one */
} hud_function_ref;

/* One exception path over the window: counts of every slice, version and flow added up. */
typedef struct hud_exception_flow_summary {
  const char *exception_type;
  int64_t count;
  hud_function_ref origin;
  size_t n_propagated;
  hud_function_ref *propagated_through; /* the origin's caller first */
  hud_function_ref *caught_in;  /* NULL when it escaped */
  bool escaped;                 /* caught_in == NULL */
} hud_exception_flow_summary;

typedef struct hud_exception_flows_response {
  hud_time_ns from, to;
  size_t n_flows;
  hud_exception_flow_summary *flows; /* by count, descending */
} hud_exception_flows_response;

/* Every non-2xx answer: {"error":{"code":..., "message":..., ...}}. */
typedef struct hud_error_response {
  const char *code;             /* hud_api_error_code() names, e.g. "invalid_field" */
  const char *message;
  const char *field;            /* offending field path, NULL if none */
  size_t n_supported_versions;  /* unsupported_version only */
  int32_t *supported_versions;
} hud_error_response;

#endif

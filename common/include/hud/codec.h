/* JSON codec (jansson inside) for every type of hud/model.h, plus gzip helpers.
 *
 * Decoders validate everything docs/protocol.md states (types, ranges, required fields, ids,
 * lengths, nesting) and on failure return a negative HUD_E* code and fill a hud_codec_error
 * naming the offending field path, e.g. "invocations[3].sum_duration: expected non-negative
 * integer". All memory of a decoded value lives in the caller's arena (also on failure:
 * reset/free the arena). Encoders return a malloc'ed, NUL-terminated JSON text that the
 * caller releases with free().
 *
 * Error codes of decoders:
 *   HUD_EPARSE   not JSON (syntax, invalid UTF-8, truncated, duplicate member names), or
 *                nesting deeper than max_depth
 *   HUD_EFIELD   a field is missing or null, has the wrong type or format (UUID, SHA-1, time,
 *                enum name, empty string), or is unknown (reject policy)
 *   HUD_ERANGE   a value is out of its range (negative count, beyond int64, non-finite,
 *                string/array/map too long, counts that do not add up)
 *   HUD_EVERSION schema_version not supported (message lists the supported versions)
 *   HUD_ETOOBIG  body over the size limits (gzip helpers, body decoders)
 *   HUD_ENOMEM   out of memory */
#ifndef HUD_CODEC_H
#define HUD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hud/model.h"

typedef struct hud_codec_error {
  int code;           /* HUD_E* (0 when no error) */
  char path[256];     /* offending field path ("" = the document itself) */
  char message[512];  /* "<path>: <what is wrong>", always NUL-terminated */
  int line, column;   /* JSON position for HUD_EPARSE, else 0 */
} hud_codec_error;

/* What decoders do with object members they do not know. */
typedef enum hud_unknown_policy {
  HUD_UNKNOWN_DEFAULT = 0, /* REJECT for what the server receives (batch, records, requests),
                              IGNORE for what clients receive (responses, errors) */
  HUD_UNKNOWN_REJECT = 1,
  HUD_UNKNOWN_IGNORE = 2,
} hud_unknown_policy;

typedef struct hud_codec_limits {
  size_t max_string_bytes;   /* HUD_MAX_STRING_BYTES */
  size_t max_array_items;    /* HUD_MAX_ARRAY_ITEMS */
  size_t max_batch_records;  /* HUD_MAX_BATCH_RECORDS */
  size_t max_depth;          /* HUD_MAX_DEPTH */
  size_t max_map_entries;    /* HUD_MAX_MAP_ENTRIES */
  size_t max_decoded_bytes;  /* HUD_MAX_DECODED_BYTES (JSON text and gunzipped bodies) */
  size_t max_body_bytes;     /* HUD_MAX_BODY_BYTES (hud_batch_decode_body input as received) */
} hud_codec_limits;

typedef struct hud_decode_opts {
  hud_unknown_policy unknown_fields;
  const hud_codec_limits *limits; /* NULL = hud_codec_limits_default() */
} hud_decode_opts;

/* The documented defaults. */
void hud_codec_limits_default(hud_codec_limits *out);

/* Declares, for a model type T:
 *   int T_encode(const T *v, char **json, size_t *len, hud_codec_error *err);
 *     JSON text (compact) in *JSON (free() it), its length in *LEN (LEN may be NULL).
 *     Fails with HUD_EFIELD/HUD_ERANGE if V breaks the protocol's constraints (e.g. a
 *     negative count): the encoder never emits what the decoder would reject.
 *   int T_decode(const char *json, size_t len, const hud_decode_opts *opts, hud_arena *arena,
 *                T *out, hud_codec_error *err);
 *     OPTS and ERR may be NULL. */
#define HUD_CODEC_DECLARE(T)                                                               \
  int T##_encode(const T *v, char **json, size_t *len, hud_codec_error *err);              \
  int T##_decode(const char *json, size_t len, const hud_decode_opts *opts, hud_arena *arena, \
                 T *out, hud_codec_error *err);

/* Batch records and the batch. */
HUD_CODEC_DECLARE(hud_function_decl)
HUD_CODEC_DECLARE(hud_invocation)
HUD_CODEC_DECLARE(hud_exception_flow)
HUD_CODEC_DECLARE(hud_flow)
HUD_CODEC_DECLARE(hud_flow_function)
HUD_CODEC_DECLARE(hud_batch)
HUD_CODEC_DECLARE(hud_ingest_response)
/* The compact sketch form {"a":alpha,"z":zero,"o":offset,"c":[...]}. */
HUD_CODEC_DECLARE(hud_sketch_bins)
/* Query API bodies. */
HUD_CODEC_DECLARE(hud_services_response)
HUD_CODEC_DECLARE(hud_top_response)
HUD_CODEC_DECLARE(hud_by_module_request)
HUD_CODEC_DECLARE(hud_by_module_response)
HUD_CODEC_DECLARE(hud_function_detail)
HUD_CODEC_DECLARE(hud_callgraph_response)
HUD_CODEC_DECLARE(hud_flows_response)
HUD_CODEC_DECLARE(hud_issues_response)
/* GET /v1/issues/{issue_id} and the answer of POST /v1/issues/{issue_id}/status. */
HUD_CODEC_DECLARE(hud_issue)
/* The body of POST /v1/issues/{issue_id}/status: only status and note travel here (scope and id
 * are in the target); the decoder leaves the other members zero and rejects a status other
 * than acknowledged, muted or open. */
HUD_CODEC_DECLARE(hud_issue_status_request)
HUD_CODEC_DECLARE(hud_exception_flows_response)
HUD_CODEC_DECLARE(hud_error_response)

/* Decodes an HTTP request body holding a batch: a body over limits->max_body_bytes is
 * HUD_ETOOBIG; gunzips it first when GZIP is true (or when the body starts with the gzip
 * magic), bounded by limits->max_decoded_bytes (HUD_ETOOBIG); truncated/corrupt gzip is
 * HUD_EPARSE. */
int hud_batch_decode_body(const void *body, size_t len, bool gzip, const hud_decode_opts *opts,
                          hud_arena *arena, hud_batch *out, hud_codec_error *err);

/* ---------------------------------------------------------------------------------------- */
/* GET requests travel as a request target "/v1/...?k=v&..." (percent-encoded).
 * *_to_target: malloc'ed target (free()). *_from_query: PARAMS are the decoded query
 * parameters (as libmicrohttpd hands them); unknown parameters are rejected (HUD_EFIELD) unless
 * opts say IGNORE; error paths name the parameter ("limit: expected integer 1..1000"). */

typedef struct hud_query_param {
  const char *key;
  const char *value;
} hud_query_param;

/* Splits and percent-decodes "a=1&b=x%20y" (a leading '?' is skipped) into the arena. */
int hud_query_parse(const char *query, hud_arena *arena, hud_query_param **params, size_t *n);

/* GET /v1/services?service=NAME (optional filter). */
int hud_services_request_to_target(const char *service, char **target);
int hud_services_request_from_query(const hud_query_param *params, size_t n,
                                    const hud_decode_opts *opts, hud_arena *arena,
                                    const char **service, hud_codec_error *err);

int hud_top_request_to_target(const hud_top_request *r, char **target);
int hud_top_request_from_query(const hud_query_param *params, size_t n,
                               const hud_decode_opts *opts, hud_arena *arena,
                               hud_top_request *out, hud_codec_error *err);

/* Target "/v1/functions/<function_id>?..."; the server passes the path segment as
 * FUNCTION_ID (validated here). */
int hud_function_request_to_target(const hud_function_request *r, char **target);
int hud_function_request_from_query(const char *function_id, const hud_query_param *params,
                                    size_t n, const hud_decode_opts *opts, hud_arena *arena,
                                    hud_function_request *out, hud_codec_error *err);

int hud_callgraph_request_to_target(const hud_callgraph_request *r, char **target);
int hud_callgraph_request_from_query(const hud_query_param *params, size_t n,
                                     const hud_decode_opts *opts, hud_arena *arena,
                                     hud_callgraph_request *out, hud_codec_error *err);

int hud_flows_request_to_target(const hud_flows_request *r, char **target);
int hud_flows_request_from_query(const hud_query_param *params, size_t n,
                                 const hud_decode_opts *opts, hud_arena *arena,
                                 hud_flows_request *out, hud_codec_error *err);

int hud_issues_request_to_target(const hud_issues_request *r, char **target);
int hud_issues_request_from_query(const hud_query_param *params, size_t n,
                                  const hud_decode_opts *opts, hud_arena *arena,
                                  hud_issues_request *out, hud_codec_error *err);

/* Target "/v1/issues/<issue_id>?service=..&env=.." (only service and env of the scope travel);
 * the server passes the path segment as ISSUE_ID (validated here). A status filter is not
 * part of it: the list's filter is the issues request's. */
int hud_issue_request_to_target(const hud_issue_request *r, char **target);
int hud_issue_request_from_query(const char *issue_id, const hud_query_param *params, size_t n,
                                 const hud_decode_opts *opts, hud_arena *arena, hud_issue_request *out,
                                 hud_codec_error *err);

/* Target "/v1/issues/<issue_id>/status?service=..&env=.."; the body is
 * hud_issue_status_request_encode(). _from_query fills only OUT's scope and issue_id, so the
 * server decodes the body into OUT first and then the target. */
int hud_issue_status_request_to_target(const hud_issue_status_request *r, char **target);
int hud_issue_status_request_from_query(const char *issue_id, const hud_query_param *params, size_t n,
                                        const hud_decode_opts *opts, hud_arena *arena,
                                        hud_issue_status_request *out, hud_codec_error *err);
/* True for the statuses a person may set: acknowledged, muted, open. */
bool hud_issue_status_settable(const char *status);

int hud_exception_flows_request_to_target(const hud_exception_flows_request *r, char **target);
int hud_exception_flows_request_from_query(const hud_query_param *params, size_t n,
                                           const hud_decode_opts *opts, hud_arena *arena,
                                           hud_exception_flows_request *out, hud_codec_error *err);

/* ---------------------------------------------------------------------------------------- */
/* API errors. */

/* Wire code ("invalid_field", ...) and HTTP status for a HUD_E* code (table in
 * docs/protocol.md). Unknown codes map to "internal"/500. Static strings. */
const char *hud_api_error_code(int err);
int hud_api_http_status(int err);
/* Reverse: the HUD_E* code for a wire code; HUD_EHTTP when unknown. */
int hud_api_error_from_code(const char *code);
/* JSON body {"error":{...}} for a decoder failure (supported_versions filled for
 * HUD_EVERSION). malloc'ed; free(). */
int hud_error_body_from_codec(const hud_codec_error *e, char **json, size_t *len);

/* ---------------------------------------------------------------------------------------- */
/* Times: RFC 3339. Format always writes UTC "+00:00" with 6 fraction digits, or 9 when the
 * value has sub-microsecond nanoseconds. Parse accepts 'T' or 't', 0..9 fraction digits,
 * "Z"/"z" or a +hh:mm/-hh:mm offset. Instants before 1970 or after int64 nanoseconds run out
 * (2262-04-11T23:47:16.854775807Z) are HUD_ERANGE; malformed text is HUD_EINVAL. */
#define HUD_TIME_STRLEN 35
int hud_time_format(hud_time_ns t, char out[HUD_TIME_STRLEN + 1]);
int hud_time_parse(const char *s, hud_time_ns *out);

/* ---------------------------------------------------------------------------------------- */
/* gzip (RFC 1952) bodies. */

/* True when DATA starts with the gzip magic bytes. */
bool hud_is_gzip(const void *data, size_t len);
/* LEVEL 0..9, or -1 for zlib's default. *OUT is malloc'ed (free()). */
int hud_gzip_encode(const void *in, size_t len, int level, void **out, size_t *out_len);
/* Inflates IN; output larger than MAX_OUT is HUD_ETOOBIG (stops early: a gzip bomb costs at
 * most MAX_OUT bytes), truncated or corrupt input is HUD_EPARSE, trailing garbage after the
 * gzip member(s) is HUD_EPARSE. *OUT is malloc'ed and NUL-terminated (not counted in
 * *OUT_LEN). */
int hud_gzip_decode(const void *in, size_t len, size_t max_out, void **out, size_t *out_len);

#endif

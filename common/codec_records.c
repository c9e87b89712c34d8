/* Wire tables and rules of the batch and its records (docs/protocol.md "Records"). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "codec_tables.h"
#include "hud/identity.h"

/* ---------------------------------------------------------------------------------------- */
/* Sketch: {"a": alpha, "z": zero_count, "o": offset, "c": [counts]}; in "c" a negative
 * integer -k stands for k consecutive empty bins. */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

uint64_t cx_sketch_total(const hud_sketch_bins *b) {
  uint64_t t = b->zero_count;
  for (size_t i = 0; i < b->n && b->counts; i++) t = sat_add(t, b->counts[i]);
  return t;
}

/* The sketch module is the authority on which alphas and bin indexes exist: whatever the
 * codec accepts, hud_sketch_import() accepts too. */
static int check_importable(cctx *c, const hud_sketch_bins *b) {
  int rc = hud_sketch_bins_check(b);
  if (rc == HUD_ENOMEM) return cctx_fail(c, rc, "out of memory");
  if (rc)
    return cctx_fail(c, HUD_ERANGE,
                     "alpha %.17g / bins %d..%lld outside the sketch's range (alpha in [%g, %g), "
                     "offset >= 0)",
                     b->alpha, (int)b->offset, (long long)b->offset + (long long)b->n - 1,
                     HUD_SKETCH_MIN_ALPHA, HUD_SKETCH_MAX_ALPHA);
  return 0;
}

/* "3,-3,5,0,7,1": decimal integers separated by single commas, no blanks, no leading zeros
 * or '+'; "" is no entries. One JSON string instead of one JSON value per bin keeps sketches
 * cheap to parse. */
int cx_parse_count_list(cctx *c, const char *s, size_t len, int64_t *vals, size_t *n) {
  size_t k = 0, i = 0;
  *n = 0;
  if (len == 0) return 0;
  for (;;) {
    size_t start = i;
    bool neg = i < len && s[i] == '-';
    if (neg) i++;
    size_t d0 = i;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      unsigned dig = (unsigned)(s[i] - '0');
      if (v > (UINT64_MAX - dig) / 10) v = UINT64_MAX; /* saturate, rejected below */
      else v = v * 10 + dig;
      i++;
    }
    if (i == d0 || (i - d0 > 1 && s[d0] == '0') || (i < len && s[i] != ','))
      return cctx_fail(c, HUD_EFIELD, "entry %zu at byte %zu: expected an integer in a comma-separated list",
                       k, start);
    if (neg && v == 0)
      return cctx_fail(c, HUD_EFIELD, "entry %zu at byte %zu: -0 is not a zero run", k, start);
    if (v > (uint64_t)INT64_MAX) return cctx_fail(c, HUD_ERANGE, "entry %zu: beyond int64", k);
    if (k == HUD_SKETCH_MAX_BINS)
      return cctx_fail(c, HUD_ERANGE, "more than %d bins", HUD_SKETCH_MAX_BINS);
    vals[k++] = neg ? -(int64_t)v : (int64_t)v;
    if (i == len) break;
    i++; /* ',' */
    if (i == len) return cctx_fail(c, HUD_EFIELD, "trailing comma");
  }
  *n = k;
  return 0;
}

/* The sketch from its members as read (codec_decode.c): VALS[0..RAW) are the entries of "c",
 * counts or -k for k empty bins. */
int cx_sketch_build(cctx *c, double alpha, int64_t zero, int64_t off, const int64_t *vals, size_t raw,
                    bool c_array, hud_sketch_bins *out) {
  /* Size after expanding zero runs. */
  size_t n = 0;
  int rc = 0;
  size_t old = cctx_push_key(c, "c");
  for (size_t i = 0; i < raw && !rc; i++) {
    int64_t v = vals[i];
    if (v < -(int64_t)HUD_SKETCH_MAX_BINS || (n += v < 0 ? (size_t)(-v) : 1) > HUD_SKETCH_MAX_BINS) {
      size_t oi = c_array ? cctx_push_index(c, i) : c->plen;
      rc = cctx_fail(c, HUD_ERANGE, "more than %d bins (entry %zu)", HUD_SKETCH_MAX_BINS, i);
      cctx_pop(c, oi);
    }
  }
  cctx_pop(c, old);
  if (!rc && off + (int64_t)n > INT32_MAX) rc = cctx_fail_at(c, "o", HUD_ERANGE, "offset + bins beyond int32");
  uint64_t *counts = NULL;
  if (!rc && n && !(counts = hud_arena_calloc(c->arena, n, sizeof *counts)))
    rc = cctx_fail(c, HUD_ENOMEM, "out of memory");
  if (rc) return rc;
  uint64_t total = (uint64_t)zero;
  size_t k = 0;
  for (size_t i = 0; i < raw; i++) {
    int64_t v = vals[i];
    if (v < 0) {
      k += (size_t)(-v);
      continue;
    }
    counts[k++] = (uint64_t)v;
    total = sat_add(total, (uint64_t)v);
  }
  if (total > INT64_MAX) return cctx_fail(c, HUD_ERANGE, "total count beyond int64");
  hud_sketch_bins b = {.alpha = alpha, .zero_count = (uint64_t)zero, .offset = (int32_t)off, .n = n, .counts = counts};
  if ((rc = check_importable(c, &b))) return rc;
  *out = b;
  return 0;
}

int cx_encode_sketch(cctx *c, const hud_sketch_bins *b, json_t **out) {
  *out = NULL;
  if (!(b->alpha > 0 && b->alpha < 0.5))
    return cctx_fail_at(c, "a", HUD_ERANGE, "expected alpha in (0, 0.5), got %.17g", b->alpha);
  if (b->offset < -CX_SKETCH_MAX_OFFSET || b->offset > CX_SKETCH_MAX_OFFSET)
    return cctx_fail_at(c, "o", HUD_ERANGE, "offset %d out of range", (int)b->offset);
  if (b->n > HUD_SKETCH_MAX_BINS)
    return cctx_fail_at(c, "c", HUD_ERANGE, "more than %d bins", HUD_SKETCH_MAX_BINS);
  if (b->n && !b->counts) return cctx_fail_at(c, "c", HUD_EFIELD, "%zu bins but no counts", b->n);
  if ((int64_t)b->offset + (int64_t)b->n > INT32_MAX)
    return cctx_fail_at(c, "o", HUD_ERANGE, "offset + bins beyond int32");
  if (b->zero_count > INT64_MAX || cx_sketch_total(b) > INT64_MAX)
    return cctx_fail(c, HUD_ERANGE, "total count beyond int64");
  int rc = check_importable(c, b);
  if (rc) return rc;
  /* "c" as one string "3,-3,5": see parse_count_list(). */
  char *txt = malloc(b->n * 21 + 1);
  if (!txt) return cctx_fail(c, HUD_ENOMEM, "out of memory");
  size_t tl = 0;
  for (size_t i = 0; i < b->n;) {
    int64_t v;
    if (b->counts[i] == 0 && i + 1 < b->n && b->counts[i + 1] == 0) {
      size_t k = i;
      while (k < b->n && b->counts[k] == 0) k++;
      v = -(int64_t)(k - i);
      i = k;
    } else {
      v = (int64_t)b->counts[i++];
    }
    char d[24];
    size_t dn = 0;
    uint64_t u = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
    do {
      d[dn++] = (char)('0' + u % 10);
      u /= 10;
    } while (u);
    if (tl) txt[tl++] = ',';
    if (v < 0) txt[tl++] = '-';
    while (dn) txt[tl++] = d[--dn];
  }
  txt[tl] = '\0';
  json_t *o = json_pack("{s:f,s:I,s:i,s:s#}", "a", b->alpha, "z", (json_int_t)b->zero_count, "o",
                        (int)b->offset, "c", txt, (int)tl);
  free(txt);
  if (!o) return cctx_fail(c, HUD_ENOMEM, "out of memory");
  *out = o;
  return 0;
}

static int sketch_validate(cctx *c, const void *v) {
  (void)c;
  (void)v;
  return 0;
}

/* The sketch as a document of its own: a one-field shim over the sketch codec. */
int hud_sketch_bins_encode(const hud_sketch_bins *v, char **json, size_t *len,
                           hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, NULL, true, NULL, err ? err : &scratch);
  if (!json || !v) return cctx_fail(&c, HUD_EINVAL, "NULL argument");
  *json = NULL;
  json_t *j = NULL;
  int rc = cx_encode_sketch(&c, v, &j);
  if (!rc) rc = cx_dump(&c, j, json, len);
  json_decref(j);
  (void)sketch_validate;
  return rc;
}

int hud_sketch_bins_decode(const char *json, size_t len, const hud_decode_opts *opts,
                           hud_arena *arena, hud_sketch_bins *out, hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, opts, true, arena, err ? err : &scratch);
  if (!out || !arena) return cctx_fail(&c, HUD_EINVAL, "NULL output or arena");
  memset(out, 0, sizeof *out);
  return cx_decode_sketch_text(&c, json, len, out);
}

/* ---------------------------------------------------------------------------------------- */
/* Cross-field rules. */

static int check_le(cctx *c, const char *field, int64_t v, const char *limit_name, int64_t limit) {
  if (v > limit)
    return cctx_fail_at(c, field, HUD_ERANGE, "%lld exceeds %s (%lld)", (long long)v, limit_name,
                        (long long)limit);
  return 0;
}

static int check_map_sum(cctx *c, const char *field, const hud_count_map *m, int64_t count) {
  uint64_t sum = 0;
  for (size_t i = 0; i < m->n && m->items; i++)
    sum = sat_add(sum, m->items[i].count < 0 ? 0 : (uint64_t)m->items[i].count);
  if (sum > (uint64_t)count)
    return cctx_fail_at(c, field, HUD_ERANGE, "counts add up to %llu, more than count (%lld)",
                        (unsigned long long)sum, (long long)count);
  return 0;
}

static int check_sketch(cctx *c, const hud_sketch_bins *s, int64_t sampled) {
  if (!s) return 0;
  uint64_t t = cx_sketch_total(s);
  if (t > (uint64_t)sampled)
    return cctx_fail_at(c, "duration_sketch", HUD_ERANGE,
                        "holds %llu values, more than sampled_count (%lld)",
                        (unsigned long long)t, (long long)sampled);
  return 0;
}

static int validate_decl(cctx *c, const void *vp) {
  const hud_function_decl *d = vp;
  if (d->end_line < d->start_line)
    return cctx_fail_at(c, "end_line", HUD_ERANGE, "%d is before start_line (%d)",
                        (int)d->end_line, (int)d->start_line);
  if (d->module_path) {
    const char *m = d->module_path;
    if (m[0] == '/' || strchr(m, '\\') || (m[0] && m[1] == ':'))
      return cctx_fail_at(c, "module_path", HUD_EFIELD,
                          "must be a relative path with '/' separators");
    if (d->name && d->function_id[0]) {
      char want[HUD_UUID_STRLEN + 1];
      if (hud_function_id(m, d->name, want) == 0 && strcmp(want, d->function_id) != 0)
        return cctx_fail_at(c, "function_id", HUD_EFIELD,
                            "does not match uuid5 of module_path \":\" name (expected %s)", want);
    }
  }
  return 0;
}

static int validate_invocation(cctx *c, const void *vp) {
  const hud_invocation *v = vp;
  int rc;
  if ((rc = check_le(c, "sampled_count", v->sampled_count, "count", v->count))) return rc;
  if ((rc = check_le(c, "self_duration", v->self_duration, "sum_duration", v->sum_duration)))
    return rc;
  if ((rc = check_map_sum(c, "exceptions", &v->exceptions, v->count))) return rc;
  return check_sketch(c, v->sketch, v->sampled_count);
}

static int validate_exception_flow(cctx *c, const void *vp) {
  hud_exception_flow *v = (hud_exception_flow *)vp;
  if (!c->encoding) v->escaped = v->caught_in_function_id[0] == '\0';
  return 0;
}

static bool is_method(const char *m) {
  size_t n = strlen(m);
  if (n == 0 || n > 16) return false;
  for (size_t i = 0; i < n; i++)
    if (m[i] < 'A' || m[i] > 'Z') return false;
  return true;
}

static int validate_flow(cctx *c, const void *vp) {
  const hud_flow *f = vp;
  int rc;
  char want[HUD_UUID_STRLEN + 1] = "";
  if (f->kind == HUD_FLOW_ENDPOINT) {
    if (!f->method) return cctx_fail_at(c, "method", HUD_EFIELD, "required for endpoints");
    if (!f->route) return cctx_fail_at(c, "route", HUD_EFIELD, "required for endpoints");
    if (!is_method(f->method))
      return cctx_fail_at(c, "method", HUD_EFIELD, "expected an upper-case HTTP method");
    if (f->task_name) return cctx_fail_at(c, "task_name", HUD_EFIELD, "only for queue consumers");
    if (f->queue) return cctx_fail_at(c, "queue", HUD_EFIELD, "only for queue consumers");
    if (hud_flow_id_endpoint(f->method, f->route, want)) want[0] = '\0';
  } else if (f->kind == HUD_FLOW_QUEUE_CONSUMER) {
    if (!f->task_name)
      return cctx_fail_at(c, "task_name", HUD_EFIELD, "required for queue consumers");
    if (f->method) return cctx_fail_at(c, "method", HUD_EFIELD, "only for endpoints");
    if (f->route) return cctx_fail_at(c, "route", HUD_EFIELD, "only for endpoints");
    if (f->n_status_codes) return cctx_fail_at(c, "status_codes", HUD_EFIELD, "only for endpoints");
    if (hud_flow_id_queue(f->task_name, want)) want[0] = '\0';
  } else {
    return 0; /* the kind field reports it */
  }
  if (want[0] && f->flow_id[0] && strcmp(want, f->flow_id) != 0)
    return cctx_fail_at(c, "flow_id", HUD_EFIELD,
                        "does not match the flow's uuid5 (expected %s, see docs/protocol.md)",
                        want);
  if ((rc = check_le(c, "error_count", f->error_count, "count", f->count))) return rc;
  if ((rc = check_le(c, "sampled_count", f->sampled_count, "count", f->count))) return rc;
  uint64_t sum = 0;
  for (size_t i = 0; i < f->n_status_codes && f->status_codes; i++) {
    for (size_t k = 0; k < i; k++)
      if (f->status_codes[k].status == f->status_codes[i].status)
        return cctx_fail_at(c, "status_codes", HUD_EFIELD, "duplicate status %d",
                            (int)f->status_codes[i].status);
    sum = sat_add(sum, f->status_codes[i].count < 0 ? 0 : (uint64_t)f->status_codes[i].count);
  }
  if (sum > (uint64_t)f->count)
    return cctx_fail_at(c, "status_codes", HUD_ERANGE, "counts add up to %llu, more than count (%lld)",
                        (unsigned long long)sum, (long long)f->count);
  if ((rc = check_map_sum(c, "exceptions", &f->exceptions, f->count))) return rc;
  return check_sketch(c, f->sketch, f->sampled_count);
}

static int validate_flow_function(cctx *c, const void *vp) {
  const hud_flow_function *v = vp;
  int rc;
  if ((rc = check_le(c, "error_count", v->error_count, "count", v->count))) return rc;
  if ((rc = check_le(c, "sampled_count", v->sampled_count, "count", v->count))) return rc;
  return check_le(c, "self_duration", v->self_duration, "sum_duration", v->sum_duration);
}

int cx_version_error(cctx *c, long long v) {
  char list[128];
  size_t n = 0;
  for (int k = HUD_SCHEMA_VERSION_MIN; k <= HUD_SCHEMA_VERSION_MAX; k++)
    n += (size_t)snprintf(list + n, sizeof list - n, "%s%d", k > HUD_SCHEMA_VERSION_MIN ? ", " : "", k);
  return cctx_fail_at(c, "schema_version", HUD_EVERSION,
                      "unsupported schema version %lld (supported: %s)", v, list);
}

static int validate_batch(cctx *c, const void *vp) {
  const hud_batch *b = vp;
  if (b->schema_version < HUD_SCHEMA_VERSION_MIN || b->schema_version > HUD_SCHEMA_VERSION_MAX)
    return cx_version_error(c, b->schema_version);
  size_t total = b->n_declarations + b->n_invocations + b->n_exception_flows + b->n_flows +
                 b->n_flow_functions;
  if (total > c->lim.max_batch_records)
    return cctx_fail(c, HUD_ERANGE, "batch holds %zu records, more than the limit of %zu", total,
                     c->lim.max_batch_records);
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Tables. */

static const hfield decl_fields[] = {
    F_UUID_(hud_function_decl, function_id, "function_id", F_REQ),
    F_STR_(hud_function_decl, name, "name", F_REQ | F_NONEMPTY),
    F_STR_(hud_function_decl, file, "file", F_REQ | F_NONEMPTY),
    F_STR_(hud_function_decl, module_path, "module_path", F_NONEMPTY),
    F_I32_(hud_function_decl, start_line, "start_line", F_REQ, 1, INT32_MAX),
    F_I32_(hud_function_decl, end_line, "end_line", F_REQ, 1, INT32_MAX),
    F_BOOL_(hud_function_decl, is_async, "is_async", F_REQ),
    F_BOOL_(hud_function_decl, is_generator, "is_generator", 0),
    F_SHA1_(hud_function_decl, source_code_hash, "source_code_hash", F_REQ),
};
const htype cx_t_function_decl = HTYPE(hud_function_decl, decl_fields, validate_decl);

static const hfield invocation_fields[] = {
    F_UUID_(hud_invocation, function_id, "function_id", F_REQ),
    F_CALLER_(hud_invocation, caller, has_caller, "caller_function_id", F_REQ),
    F_UUID_(hud_invocation, flow_id, "flow_id", 0),
    F_TIME_(hud_invocation, timestamp, "timestamp", F_REQ),
    F_I64_(hud_invocation, timeslice, "timeslice", F_REQ, 1, INT64_MAX),
    F_COUNT_(hud_invocation, count, "count", F_REQ),
    F_COUNT_(hud_invocation, sampled_count, "sampled_count", F_REQ),
    F_COUNT_(hud_invocation, sum_duration, "sum_duration", F_REQ),
    F_F64I_(hud_invocation, sum_squared_duration, "sum_squared_duration", F_REQ, 0, DBL_MAX),
    F_COUNT_(hud_invocation, self_duration, "self_duration", 0),
    F_SKETCH_(hud_invocation, sketch, "duration_sketch", 0),
    F_MAP_(hud_invocation, exceptions, "exceptions", 0),
};
const htype cx_t_invocation = HTYPE(hud_invocation, invocation_fields, validate_invocation);

static const hfield exception_flow_fields[] = {
    F_STR_(hud_exception_flow, exception_type, "exception_type", F_REQ | F_NONEMPTY),
    F_UUID_(hud_exception_flow, origin_function_id, "origin_function_id", F_REQ),
    F_I32_(hud_exception_flow, origin_line, "origin_line", 0, 0, INT32_MAX),
    F_UUIDARR_(hud_exception_flow, propagated_through, n_propagated, "propagated_through", 0,
               HUD_MAX_PROPAGATION),
    F_UUID_(hud_exception_flow, caught_in_function_id, "caught_in_function_id", 0),
    F_UUID_(hud_exception_flow, flow_id, "flow_id", 0),
    F_TIME_(hud_exception_flow, timestamp, "timestamp", F_REQ),
    F_I64_(hud_exception_flow, timeslice, "timeslice", F_REQ, 1, INT64_MAX),
    F_I64_(hud_exception_flow, count, "count", F_REQ, 1, INT64_MAX),
};
const htype cx_t_exception_flow =
    HTYPE(hud_exception_flow, exception_flow_fields, validate_exception_flow);

const char *const cx_flow_kind_names[] = {NULL, "endpoint", "queue_consumer"};

static const hfield flow_fields[] = {
    F_UUID_(hud_flow, flow_id, "flow_id", F_REQ),
    F_ENUM_(hud_flow, kind, "kind", F_REQ, cx_flow_kind_names, 3),
    F_STR_(hud_flow, method, "method", F_NONEMPTY),
    F_STR_(hud_flow, route, "route", F_NONEMPTY),
    F_STR_(hud_flow, task_name, "task_name", F_NONEMPTY),
    F_STR_(hud_flow, queue, "queue", F_NONEMPTY),
    F_TIME_(hud_flow, timestamp, "timestamp", F_REQ),
    F_I64_(hud_flow, timeslice, "timeslice", F_REQ, 1, INT64_MAX),
    F_COUNT_(hud_flow, count, "count", F_REQ),
    F_COUNT_(hud_flow, error_count, "error_count", F_REQ),
    F_COUNT_(hud_flow, sampled_count, "sampled_count", F_REQ),
    F_COUNT_(hud_flow, sum_duration, "sum_duration", F_REQ),
    F_F64I_(hud_flow, sum_squared_duration, "sum_squared_duration", F_REQ, 0, DBL_MAX),
    F_SKETCH_(hud_flow, sketch, "duration_sketch", 0),
    F_STATUS_(hud_flow, status_codes, n_status_codes, "status_codes", 0),
    F_MAP_(hud_flow, exceptions, "exceptions", 0),
};
const htype cx_t_flow = HTYPE(hud_flow, flow_fields, validate_flow);

static const hfield flow_function_fields[] = {
    F_UUID_(hud_flow_function, flow_id, "flow_id", F_REQ),
    F_UUID_(hud_flow_function, function_id, "function_id", F_REQ),
    F_TIME_(hud_flow_function, timestamp, "timestamp", F_REQ),
    F_I64_(hud_flow_function, timeslice, "timeslice", F_REQ, 1, INT64_MAX),
    F_COUNT_(hud_flow_function, count, "count", F_REQ),
    F_COUNT_(hud_flow_function, error_count, "error_count", F_REQ),
    F_COUNT_(hud_flow_function, sampled_count, "sampled_count", F_REQ),
    F_COUNT_(hud_flow_function, sum_duration, "sum_duration", F_REQ),
    F_COUNT_(hud_flow_function, self_duration, "self_duration", 0),
};
const htype cx_t_flow_function = HTYPE(hud_flow_function, flow_function_fields, validate_flow_function);

static const hfield overhead_fields[] = {
    F_COUNT_(hud_sensor_overhead, interval_ns, "interval_ns", 0),
    F_COUNT_(hud_sensor_overhead, cpu_ns, "cpu_ns", 0),
    F_F64_(hud_sensor_overhead, cpu_fraction, "cpu_fraction", 0, 0, 1),
    F_COUNT_(hud_sensor_overhead, memory_bytes, "memory_bytes", 0),
    F_F64_(hud_sensor_overhead, sample_rate, "sample_rate", 0, 0, 1),
};
static const htype overhead_type = HTYPE(hud_sensor_overhead, overhead_fields, NULL);

static const hfield dropped_fields[] = {
    F_COUNT_(hud_dropped, batches, "batches", 0),
    F_COUNT_(hud_dropped, declarations, "declarations", 0),
    F_COUNT_(hud_dropped, invocations, "invocations", 0),
    F_COUNT_(hud_dropped, exception_flows, "exception_flows", 0),
    F_COUNT_(hud_dropped, flows, "flows", 0),
    F_COUNT_(hud_dropped, flow_functions, "flow_functions", 0),
    F_COUNT_(hud_dropped, bytes, "bytes", 0),
};
static const htype dropped_type = HTYPE(hud_dropped, dropped_fields, NULL);

static const hfield batch_fields[] = {
    F_I32_(hud_batch, schema_version, "schema_version", F_REQ, INT32_MIN, INT32_MAX),
    F_UUID_(hud_batch, batch_id, "batch_id", F_REQ),
    F_STR_(hud_batch, service, "service", F_REQ | F_NONEMPTY),
    F_STR_(hud_batch, environment, "environment", F_NONEMPTY),
    F_STR_(hud_batch, service_version, "service_version", F_REQ | F_NONEMPTY),
    F_STR_(hud_batch, host, "host", F_REQ | F_NONEMPTY),
    F_I64_(hud_batch, pid, "pid", F_REQ, 0, INT64_MAX),
    F_STR_(hud_batch, runtime, "runtime", F_REQ | F_NONEMPTY),
    F_STR_(hud_batch, sensor_version, "sensor_version", F_REQ | F_NONEMPTY),
    F_TIME_(hud_batch, sent_at, "sent_at", F_REQ),
    F_TAGS_(hud_batch, tags, n_tags, "tags", 0),
    F_OBJ_(hud_batch, overhead, "overhead", 0, &overhead_type),
    F_OBJ_(hud_batch, dropped, "dropped", 0, &dropped_type),
    F_ARR_(hud_batch, declarations, n_declarations, "declarations", 0, &cx_t_function_decl),
    F_ARR_(hud_batch, invocations, n_invocations, "invocations", 0, &cx_t_invocation),
    F_ARR_(hud_batch, exception_flows, n_exception_flows, "exception_flows", 0,
           &cx_t_exception_flow),
    F_ARR_(hud_batch, flows, n_flows, "flows", 0, &cx_t_flow),
    F_ARR_(hud_batch, flow_functions, n_flow_functions, "flow_functions", 0, &cx_t_flow_function),
};
const htype cx_t_batch = HTYPE(hud_batch, batch_fields, validate_batch);

static const hfield ingest_response_fields[] = {
    F_UUID_(hud_ingest_response, batch_id, "batch_id", F_REQ),
    F_BOOL_(hud_ingest_response, duplicate, "duplicate", F_REQ),
    F_COUNT_(hud_ingest_response, records, "records", F_REQ),
};
const htype cx_t_ingest_response = HTYPE(hud_ingest_response, ingest_response_fields, NULL);

/* ---------------------------------------------------------------------------------------- */
/* Entry points. */

CX_DEFINE(hud_function_decl, cx_t_function_decl, true)
CX_DEFINE(hud_invocation, cx_t_invocation, true)
CX_DEFINE(hud_exception_flow, cx_t_exception_flow, true)
CX_DEFINE(hud_flow, cx_t_flow, true)
CX_DEFINE(hud_flow_function, cx_t_flow_function, true)
CX_DEFINE(hud_ingest_response, cx_t_ingest_response, false)

int hud_batch_encode(const hud_batch *v, char **json, size_t *len, hud_codec_error *err) {
  return cx_encode_doc(&cx_t_batch, v, json, len, err);
}

/* A batch's schema_version is judged before its fields (codec_decode.c), so that a batch of a
 * newer sensor gets "unsupported version", not an error about some field the newer version added. */
static int decode_batch_json(cctx *c, const char *json, size_t len, hud_batch *out) {
  memset(out, 0, sizeof *out);
  int rc = cx_decode_text(c, &cx_t_batch, true, json, len, out);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

int hud_batch_decode(const char *json, size_t len, const hud_decode_opts *opts, hud_arena *arena,
                     hud_batch *out, hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, opts, true, arena, err ? err : &scratch);
  if (!out || !arena) return cctx_fail(&c, HUD_EINVAL, "NULL output or arena");
  return decode_batch_json(&c, json, len, out);
}

int hud_batch_decode_body(const void *body, size_t len, bool gzip, const hud_decode_opts *opts,
                          hud_arena *arena, hud_batch *out, hud_codec_error *err) {
  hud_codec_error scratch;
  cctx c;
  cctx_init(&c, opts, true, arena, err ? err : &scratch);
  if (!out || !arena || (!body && len)) return cctx_fail(&c, HUD_EINVAL, "NULL argument");
  memset(out, 0, sizeof *out);
  if (c.lim.max_body_bytes && len > c.lim.max_body_bytes)
    return cctx_fail(&c, HUD_ETOOBIG, "body of %zu bytes exceeds the limit of %zu bytes", len,
                     c.lim.max_body_bytes);
  if (!gzip && !hud_is_gzip(body, len)) return decode_batch_json(&c, body, len, out);
  void *plain = NULL;
  size_t plen = 0;
  int rc = hud_gzip_decode(body, len, c.lim.max_decoded_bytes, &plain, &plen);
  if (rc == HUD_ETOOBIG)
    return cctx_fail(&c, rc, "gzip body inflates beyond the limit of %zu bytes",
                     c.lim.max_decoded_bytes);
  if (rc == HUD_EPARSE) return cctx_fail(&c, rc, "body is not valid gzip (corrupt or truncated)");
  if (rc) return cctx_fail(&c, rc, "gzip: %s", hud_strerror(rc));
  rc = decode_batch_json(&c, plain, plen, out);
  free(plain);
  return rc;
}

/* The codec's edges: Hud's seed vector, gzip (bombs, truncation), limits, RFC 3339 times,
 * query targets, API error bodies, encoder-side validation, the arena. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hud/codec.h"
#include "hud/err.h"

#define FN_CART_ADD "7c974e7c-105c-500a-b205-89c23deafc8e"

/* The shared vector: its function_declaration and invocation_aggregate decode into our
 * structs with the values it carries. */
static void hud_seed_vector_decodes(void **state) {
  (void)state;
  const char *shared = getenv("HUD_SHARED_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/vectors/hud-seed-records.json", shared ? shared : "");
  FILE *f = shared ? fopen(path, "rb") : NULL;
  if (!f) {
    print_message("SKIP: Hud seed vector not found at %s (HUD_SHARED_DIR unset or file absent)\n",
                  path);
    skip();
  }
  fclose(f);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  assert_non_null(root);
  hud_arena *a = hud_arena_new();
  hud_codec_error e;

  char *decl_text = json_dumps(json_object_get(root, "function_declaration"), JSON_COMPACT);
  hud_function_decl d;
  int rc = hud_function_decl_decode(decl_text, strlen(decl_text), NULL, a, &d, &e);
  if (rc) fail_msg("function_declaration: %s", e.message);
  assert_string_equal(d.function_id, "d679eeb3-d79a-4f72-ab2d-800b114ae540");
  assert_string_equal(d.name, "handleUserMetadata");
  assert_string_equal(d.file, "/app/user-package/server.py");
  assert_null(d.module_path); /* Hud's record has no module_path */
  assert_int_equal(d.start_line, 33);
  assert_int_equal(d.end_line, 45);
  assert_false(d.is_async);
  assert_string_equal(d.source_code_hash, "2801f83f4a058501b9c7bdadee5b36ba93cf0521");

  char *inv_text = json_dumps(json_object_get(root, "invocation_aggregate"), JSON_COMPACT);
  hud_invocation v;
  rc = hud_invocation_decode(inv_text, strlen(inv_text), NULL, a, &v, &e);
  if (rc) fail_msg("invocation_aggregate: %s", e.message);
  assert_string_equal(v.function_id, "d679eeb3-d79a-4f72-ab2d-800b114ae540");
  assert_true(v.has_caller);
  assert_string_equal(v.caller.caller_function_id, "");
  assert_string_equal(v.caller.caller_module_path, "user-package/main.py");
  assert_int_equal(v.caller.line, 102);
  assert_int_equal(v.count, 54);
  assert_int_equal(v.sampled_count, 15);
  assert_int_equal(v.sum_duration, 184462368);
  assert_true(v.sum_squared_duration == 34026365544.0);
  assert_int_equal(v.timeslice, 4537126917LL);
  hud_time_ns want;
  assert_int_equal(hud_time_parse("2024-08-19T09:14:38.042113+00:00", &want), 0);
  assert_int_equal(v.timestamp, want);
  assert_int_equal(v.timestamp, 1724058878042113000LL);
  assert_null(v.sketch);
  assert_int_equal(v.exceptions.n, 0);

  /* Our encoding of it keeps Hud's field names and shapes. */
  char *out = NULL;
  assert_int_equal(hud_invocation_encode(&v, &out, NULL, NULL), 0);
  json_t *mine = json_loads(out, 0, &je);
  json_t *theirs = json_object_get(root, "invocation_aggregate");
  const char *k;
  json_t *tv;
  json_object_foreach(theirs, k, tv) {
    json_t *mv = json_object_get(mine, k);
    if (!mv) fail_msg("our encoding lacks %s", k);
    if (!json_equal(mv, tv)) fail_msg("field %s differs: %s", k, json_dumps(mv, JSON_ENCODE_ANY));
  }
  json_decref(mine);
  free(out);
  free(decl_text);
  free(inv_text);
  json_decref(root);
  hud_arena_free(a);
}

/* ---------------------------------------------------------------------------------------- */

static void gzip_round_trip_and_concatenation(void **state) {
  (void)state;
  const char *text = "{\"hello\":\"world\"}";
  void *gz = NULL, *out = NULL;
  size_t gl = 0, ol = 0;
  assert_int_equal(hud_gzip_encode(text, strlen(text), -1, &gz, &gl), 0);
  assert_true(hud_is_gzip(gz, gl));
  assert_false(hud_is_gzip(text, strlen(text)));
  assert_int_equal(hud_gzip_decode(gz, gl, 1024, &out, &ol), 0);
  assert_int_equal(ol, strlen(text));
  assert_string_equal(out, text); /* NUL-terminated */
  free(out);
  /* Two members back to back are one valid gzip stream (RFC 1952). */
  char *two = malloc(2 * gl);
  memcpy(two, gz, gl);
  memcpy(two + gl, gz, gl);
  assert_int_equal(hud_gzip_decode(two, 2 * gl, 1024, &out, &ol), 0);
  assert_int_equal(ol, 2 * strlen(text));
  free(out);
  /* Every truncation is an error, never a crash or a partial success. */
  for (size_t cut = 1; cut < gl; cut++) {
    assert_int_equal(hud_gzip_decode(gz, gl - cut, 1024, &out, &ol), HUD_EPARSE);
    assert_null(out);
  }
  /* A flipped bit in the payload is caught (CRC or inflate). */
  ((unsigned char *)gz)[gl - 8] ^= 0x40; /* CRC-32 */
  assert_int_equal(hud_gzip_decode(gz, gl, 1024, &out, &ol), HUD_EPARSE);
  assert_int_equal(hud_gzip_decode("plain", 5, 1024, &out, &ol), HUD_EPARSE);
  assert_int_equal(hud_gzip_decode(NULL, 0, 1024, &out, &ol), HUD_EPARSE);
  assert_int_equal(hud_gzip_encode(text, 1, 10, &gz, &gl), HUD_EINVAL);
  free(two);
  free(gz);
}

static void gzip_bomb_is_bounded(void **state) {
  (void)state;
  /* 64 MiB of zeros compress to ~64 KiB; the decoder must stop at the limit. */
  size_t big = 64u << 20;
  char *zeros = calloc(1, big);
  assert_non_null(zeros);
  void *gz = NULL, *out = NULL;
  size_t gl = 0, ol = 0;
  assert_int_equal(hud_gzip_encode(zeros, big, 9, &gz, &gl), 0);
  free(zeros);
  assert_true(gl < 200000);
  assert_int_equal(hud_gzip_decode(gz, gl, 1u << 20, &out, &ol), HUD_ETOOBIG);
  assert_null(out);
  /* Exactly at the limit is fine. */
  assert_int_equal(hud_gzip_decode(gz, gl, big, &out, &ol), 0);
  assert_int_equal(ol, big);
  free(out);
  /* Through the batch body decoder: a gzip bomb is ETOOBIG with a clear message. */
  hud_codec_limits lim;
  hud_codec_limits_default(&lim);
  lim.max_decoded_bytes = 1u << 20;
  hud_decode_opts opts = {.limits = &lim};
  hud_arena *a = hud_arena_new();
  hud_batch b;
  hud_codec_error e;
  assert_int_equal(hud_batch_decode_body(gz, gl, true, &opts, a, &b, &e), HUD_ETOOBIG);
  assert_int_equal(e.code, HUD_ETOOBIG);
  assert_non_null(strstr(e.message, "inflates beyond the limit of 1048576 bytes"));
  free(gz);
  hud_arena_free(a);
}

/* ---------------------------------------------------------------------------------------- */

static const char *minimal_batch =
    "{\"schema_version\":1,\"batch_id\":\"1b4e28ba-2fa1-41d2-883f-0016d3cca427\","
    "\"service\":\"orders\",\"service_version\":\"v1\",\"host\":\"h\",\"pid\":1,"
    "\"runtime\":\"cpython 3.11\",\"sensor_version\":\"0.1\","
    "\"sent_at\":\"2024-08-19T09:14:38Z\",\"flow_functions\":[%s]}";

static const char *ff_record =
    "{\"flow_id\":\"05fc0d6e-f176-524c-b2ef-1981f240c4bf\","
    "\"function_id\":\"7c974e7c-105c-500a-b205-89c23deafc8e\","
    "\"timestamp\":\"2024-08-19T09:14:38Z\",\"timeslice\":1,\"count\":1,\"error_count\":0,"
    "\"sampled_count\":0,\"sum_duration\":0}";

static char *batch_with(size_t n) {
  size_t rl = strlen(ff_record);
  char *recs = malloc(n * (rl + 1) + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (i) recs[k++] = ',';
    memcpy(recs + k, ff_record, rl);
    k += rl;
  }
  recs[k] = '\0';
  char *doc = malloc(strlen(minimal_batch) + k + 1);
  sprintf(doc, minimal_batch, recs);
  free(recs);
  return doc;
}

static void limits_are_enforced_and_configurable(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_codec_error e;
  hud_batch b;
  hud_codec_limits lim;
  hud_codec_limits_default(&lim);
  assert_int_equal(lim.max_string_bytes, HUD_MAX_STRING_BYTES);
  assert_int_equal(lim.max_depth, HUD_MAX_DEPTH);
  assert_int_equal(lim.max_batch_records, HUD_MAX_BATCH_RECORDS);
  hud_decode_opts opts = {.limits = &lim};

  char *doc = batch_with(3);
  assert_int_equal(hud_batch_decode(doc, strlen(doc), &opts, a, &b, &e), 0);
  assert_int_equal(b.n_flow_functions, 3);
  lim.max_batch_records = 2;
  assert_int_equal(hud_batch_decode(doc, strlen(doc), &opts, a, &b, &e), HUD_ERANGE);
  assert_string_equal(e.message, "batch holds 3 records, more than the limit of 2");
  hud_codec_limits_default(&lim);
  lim.max_array_items = 2;
  assert_int_equal(hud_batch_decode(doc, strlen(doc), &opts, a, &b, &e), HUD_ERANGE);
  assert_string_equal(e.path, "flow_functions");
  hud_codec_limits_default(&lim);
  lim.max_decoded_bytes = 100;
  assert_int_equal(hud_batch_decode(doc, strlen(doc), &opts, a, &b, &e), HUD_ETOOBIG);
  hud_codec_limits_default(&lim);
  assert_int_equal(lim.max_body_bytes, HUD_MAX_BODY_BYTES);
  lim.max_body_bytes = 100;
  assert_int_equal(hud_batch_decode_body(doc, strlen(doc), false, &opts, a, &b, &e), HUD_ETOOBIG);
  assert_non_null(strstr(e.message, "exceeds the limit of 100 bytes"));
  lim.max_body_bytes = 0; /* 0 = no check of the raw size */
  assert_int_equal(hud_batch_decode_body(doc, strlen(doc), false, &opts, a, &b, &e), 0);
  hud_codec_limits_default(&lim);
  lim.max_depth = 2; /* batch object + the flow_functions array only */
  assert_int_equal(hud_batch_decode(doc, strlen(doc), &opts, a, &b, &e), HUD_EPARSE);
  assert_string_equal(e.path, "flow_functions[0]");
  free(doc);

  /* A big batch at the default limits decodes (and quickly: bounded by the test timeout). */
  doc = batch_with(20000);
  assert_int_equal(hud_batch_decode(doc, strlen(doc), NULL, a, &b, &e), 0);
  assert_int_equal(b.n_flow_functions, 20000);
  free(doc);
  hud_arena_free(a);
}

/* ---------------------------------------------------------------------------------------- */

static void times_format_and_parse(void **state) {
  (void)state;
  char buf[HUD_TIME_STRLEN + 1];
  assert_int_equal(hud_time_format(1724058878042113000LL, buf), 0);
  assert_string_equal(buf, "2024-08-19T09:14:38.042113+00:00");
  assert_int_equal(hud_time_format(1724058878042113001LL, buf), 0);
  assert_string_equal(buf, "2024-08-19T09:14:38.042113001+00:00");
  assert_int_equal(hud_time_format(0, buf), 0);
  assert_string_equal(buf, "1970-01-01T00:00:00.000000+00:00");
  assert_int_equal(hud_time_format(-1, buf), HUD_ERANGE);
  /* Leap day, end of century, 9999. */
  hud_time_ns t;
  assert_int_equal(hud_time_parse("2024-02-29T23:59:59.5Z", &t), 0);
  assert_int_equal(hud_time_format(t, buf), 0);
  assert_string_equal(buf, "2024-02-29T23:59:59.500000+00:00");
  assert_int_equal(hud_time_parse("2000-02-29T00:00:00Z", &t), 0);
  assert_int_equal(hud_time_parse("1900-02-29T00:00:00Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2023-02-29T00:00:00Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19T11:14:38.042113+02:00", &t), 0);
  assert_int_equal(t, 1724058878042113000LL);
  assert_int_equal(hud_time_parse("2024-08-19t04:14:38.042113-05:00", &t), 0);
  assert_int_equal(t, 1724058878042113000LL);
  assert_int_equal(hud_time_parse("1970-01-01T00:30:00+01:00", &t), HUD_ERANGE);
  assert_int_equal(hud_time_parse("2024-08-19T09:14:38", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19T09:14:60Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19T24:00:00Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-13-01T00:00:00Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19T09:14:38.Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19T09:14:38Zjunk", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse("2024-08-19 09:14:38Z", &t), HUD_EINVAL);
  assert_int_equal(hud_time_parse(NULL, &t), HUD_EINVAL);
  /* The end of int64 nanoseconds. */
  assert_int_equal(hud_time_parse("2262-04-11T23:47:16.854775807Z", &t), 0);
  assert_int_equal(t, INT64_MAX);
  assert_int_equal(hud_time_format(INT64_MAX, buf), 0);
  assert_string_equal(buf, "2262-04-11T23:47:16.854775807+00:00");
  assert_int_equal(hud_time_parse("2262-04-11T23:47:16.854775808Z", &t), HUD_ERANGE);
  assert_int_equal(hud_time_parse("9999-12-31T23:59:59Z", &t), HUD_ERANGE);
  /* Round trip over many instants. */
  for (int64_t s = 0; s < INT64_MAX / 1000000000; s += 86399 * 397 + 13) {
    hud_time_ns x = s * 1000000000LL + (s % 1000) * 1000, y;
    assert_int_equal(hud_time_format(x, buf), 0);
    assert_int_equal(hud_time_parse(buf, &y), 0);
    assert_int_equal(x, y);
  }
}

/* ---------------------------------------------------------------------------------------- */

static void query_targets_round_trip(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  hud_query_param *p;
  size_t n;
  char *t = NULL;
  hud_codec_error e;

  hud_top_request r = {.scope = {.service = "my shop&co", .environment = "prod",
                                 .version = "v1+2", .from = 1724058878042113000LL,
                                 .to = 1724058878042113000LL + 3600000000000LL},
                       .sort = HUD_SORT_ERROR_TREND, .limit = 50};
  strcpy(r.flow_id, "05fc0d6e-f176-524c-b2ef-1981f240c4bf");
  assert_int_equal(hud_top_request_to_target(&r, &t), 0);
  const char *want = "/v1/functions/top?service=my%20shop%26co&env=prod&version=v1%2B2&from=";
  if (strncmp(t, want, strlen(want)) != 0) fail_msg("target %s", t);
  assert_int_equal(hud_query_parse(strchr(t, '?'), a, &p, &n), 0);
  hud_top_request r2;
  assert_int_equal(hud_top_request_from_query(p, n, NULL, a, &r2, &e), 0);
  assert_string_equal(r2.scope.service, "my shop&co");
  assert_string_equal(r2.scope.version, "v1+2");
  assert_int_equal(r2.scope.from, r.scope.from);
  assert_int_equal(r2.scope.to, r.scope.to);
  assert_int_equal(r2.sort, HUD_SORT_ERROR_TREND);
  assert_int_equal(r2.limit, 50);
  assert_string_equal(r2.flow_id, r.flow_id);
  free(t);

  /* Defaults filled on decode. */
  assert_int_equal(hud_query_parse("service=orders", a, &p, &n), 0);
  assert_int_equal(hud_top_request_from_query(p, n, NULL, a, &r2, &e), 0);
  assert_int_equal(r2.sort, HUD_SORT_CALLS);
  assert_int_equal(r2.limit, 20);
  assert_int_equal(r2.scope.from, 0);
  assert_null(r2.scope.environment);

  hud_function_request f = {.scope = {.service = "orders"}, .bucket_ns = 60000000000LL};
  strcpy(f.function_id, FN_CART_ADD);
  assert_int_equal(hud_function_request_to_target(&f, &t), 0);
  assert_string_equal(t, "/v1/functions/" FN_CART_ADD "?service=orders&bucket_ns=60000000000");
  assert_int_equal(hud_query_parse(strchr(t, '?'), a, &p, &n), 0);
  hud_function_request f2;
  assert_int_equal(hud_function_request_from_query(FN_CART_ADD, p, n, NULL, a, &f2, &e), 0);
  assert_string_equal(f2.function_id, FN_CART_ADD);
  assert_int_equal(f2.bucket_ns, 60000000000LL);
  free(t);

  hud_callgraph_request cg = {.scope = {.service = "orders"}, .depth = 3};
  strcpy(cg.root, FN_CART_ADD);
  assert_int_equal(hud_callgraph_request_to_target(&cg, &t), 0);
  assert_string_equal(t, "/v1/callgraph?service=orders&root=" FN_CART_ADD "&depth=3");
  assert_int_equal(hud_query_parse(strchr(t, '?'), a, &p, &n), 0);
  hud_callgraph_request cg2;
  assert_int_equal(hud_callgraph_request_from_query(p, n, NULL, a, &cg2, &e), 0);
  assert_int_equal(cg2.depth, 3);
  assert_int_equal(cg2.max_nodes, 200);
  free(t);

  hud_flows_request fl = {.scope = {.service = "orders", .environment = "staging"}};
  assert_int_equal(hud_flows_request_to_target(&fl, &t), 0);
  assert_string_equal(t, "/v1/flows?service=orders&env=staging");
  free(t);
  hud_exception_flows_request xf = {.scope = {.service = "orders"}, .limit = 5};
  strcpy(xf.function_id, "7c974e7c-105c-500a-b205-89c23deafc8e");
  assert_int_equal(hud_exception_flows_request_to_target(&xf, &t), 0);
  assert_string_equal(t, "/v1/exception-flows?service=orders&function_id=7c974e7c-105c-500a-b205-89c23deafc8e&limit=5");
  free(t);
  hud_issues_request is = {.scope = {.service = "orders"}, .status = "all", .limit = 5};
  assert_int_equal(hud_issues_request_to_target(&is, &t), 0);
  assert_string_equal(t, "/v1/issues?service=orders&status=all&limit=5");
  free(t);
  assert_int_equal(hud_services_request_to_target(NULL, &t), 0);
  assert_string_equal(t, "/v1/services");
  free(t);
  assert_int_equal(hud_services_request_to_target("orders", &t), 0);
  assert_string_equal(t, "/v1/services?service=orders");
  free(t);

  /* Encoders refuse what decoders would refuse. */
  hud_top_request bad = {.scope = {.service = "orders"}, .limit = 5000};
  assert_int_equal(hud_top_request_to_target(&bad, &t), HUD_ERANGE);
  bad.limit = 0;
  bad.scope.service = NULL;
  assert_int_equal(hud_top_request_to_target(&bad, &t), HUD_EFIELD);
  hud_arena_free(a);
}

static void error_bodies_and_status_table(void **state) {
  (void)state;
  assert_int_equal(hud_api_http_status(HUD_EFIELD), 400);
  assert_int_equal(hud_api_http_status(HUD_EPARSE), 400);
  assert_int_equal(hud_api_http_status(HUD_ERANGE), 400);
  assert_int_equal(hud_api_http_status(HUD_EVERSION), 400);
  assert_int_equal(hud_api_http_status(HUD_EAUTH), 401);
  assert_int_equal(hud_api_http_status(HUD_EFORBIDDEN), 403);
  assert_int_equal(hud_api_http_status(HUD_ENOTFOUND), 404);
  assert_int_equal(hud_api_http_status(HUD_ETOOBIG), 413);
  assert_int_equal(hud_api_http_status(HUD_EUNSUPPORTED), 415);
  assert_int_equal(hud_api_http_status(HUD_EBUSY), 429);
  assert_int_equal(hud_api_http_status(HUD_ESERVER), 500);
  assert_int_equal(hud_api_http_status(HUD_ESTORE), 503);
  assert_int_equal(hud_api_http_status(HUD_ENOMEM), 500);
  assert_string_equal(hud_api_error_code(HUD_EFIELD), "invalid_field");
  assert_string_equal(hud_api_error_code(12345), "internal");
  assert_int_equal(hud_api_error_from_code("too_large"), HUD_ETOOBIG);
  assert_int_equal(hud_api_error_from_code("teapot"), HUD_EHTTP);

  /* A decoder failure becomes the documented error body. */
  hud_arena *a = hud_arena_new();
  const char *doc = "{\"schema_version\":7}";
  hud_batch b;
  hud_codec_error e;
  assert_int_equal(hud_batch_decode(doc, strlen(doc), NULL, a, &b, &e), HUD_EVERSION);
  char *body = NULL;
  assert_int_equal(hud_error_body_from_codec(&e, &body, NULL), 0);
  assert_string_equal(body,
                      "{\"error\":{\"code\":\"unsupported_version\",\"message\":\"schema_version: "
                      "unsupported schema version 7 (supported: 1)\",\"field\":\"schema_version\","
                      "\"supported_versions\":[1]}}");
  hud_error_response er;
  assert_int_equal(hud_error_response_decode(body, strlen(body), NULL, a, &er, &e), 0);
  assert_int_equal(hud_api_error_from_code(er.code), HUD_EVERSION);
  free(body);
  hud_arena_free(a);
}

static void encoder_refuses_invalid_structs(void **state) {
  (void)state;
  char *j = NULL;
  hud_codec_error e;
  hud_invocation v = {.has_caller = false, .timestamp = 1, .timeslice = 1, .count = 5,
                      .sampled_count = 1, .sum_duration = 10};
  strcpy(v.function_id, FN_CART_ADD);
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), 0);
  free(j);
  j = NULL;
  v.count = -1;
  v.sampled_count = -2;
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_ERANGE);
  assert_null(j);
  v.count = 5;
  v.sampled_count = 1;
  v.sum_squared_duration = NAN;
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_ERANGE);
  assert_string_equal(e.message, "sum_squared_duration: expected finite number");
  v.sum_squared_duration = INFINITY;
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_ERANGE);
  v.sum_squared_duration = 0;
  strcpy(v.function_id, "7C974E7C-105C-500A-B205-89C23DEAFC8E");
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.path, "function_id");
  v.function_id[0] = '\0';
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.message, "function_id: required field missing");
  strcpy(v.function_id, FN_CART_ADD);
  v.timestamp = -5;
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_ERANGE);
  assert_string_equal(e.path, "timestamp");
  v.timestamp = 1;
  hud_count_entry exc[] = {{"A", 1}, {"A", 1}};
  v.exceptions = (hud_count_map){2, exc};
  assert_int_equal(hud_invocation_encode(&v, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.message, "exceptions.A: duplicate key");
  v.exceptions.n = 0;

  /* Batch: the error path goes through the array. */
  hud_invocation invs[2] = {v, v};
  invs[1].sum_duration = -3;
  hud_batch b = {.schema_version = 1, .service = "s", .service_version = "1", .host = "h",
                 .runtime = "r", .sensor_version = "0", .sent_at = 1, .n_invocations = 2,
                 .invocations = invs};
  strcpy(b.batch_id, "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), HUD_ERANGE);
  assert_string_equal(e.message, "invocations[1].sum_duration: expected non-negative integer, got -3");
  invs[1].sum_duration = 3;
  b.schema_version = 2;
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), HUD_EVERSION);
  b.schema_version = 1;
  b.service = NULL;
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.path, "service");
  b.service = "s";
  /* Not valid UTF-8: jansson refuses to build the string. */
  b.host = "h\xff";
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.path, "host");
  b.host = "h";
  b.n_invocations = 3; /* count larger than ... still needs a real array: here NULL */
  b.invocations = NULL;
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), HUD_EFIELD);
  b.n_invocations = 0;
  assert_int_equal(hud_batch_encode(&b, &j, NULL, &e), 0);
  free(j);

  /* Flow ids are checked on the way out too. */
  hud_flow f = {.kind = HUD_FLOW_ENDPOINT, .method = "GET", .route = "/x", .timestamp = 1,
                .timeslice = 1, .count = 1};
  assert_int_equal(hud_flow_id_endpoint("GET", "/y", f.flow_id), 0);
  assert_int_equal(hud_flow_encode(&f, &j, NULL, &e), HUD_EFIELD);
  assert_string_equal(e.path, "flow_id");
  assert_int_equal(hud_flow_id_endpoint("GET", "/x", f.flow_id), 0);
  assert_int_equal(hud_flow_encode(&f, &j, NULL, &e), 0);
  free(j);
  assert_int_equal(hud_flow_encode(NULL, &j, NULL, &e), HUD_EINVAL);
}

/* Escapes of astral characters decode to their UTF-8; unpaired halves are refused (vectors). */
static void surrogate_pairs_decode_to_utf8(void **state) {
  (void)state;
  static const char doc[] =
      "{\"function_id\": \"d679eeb3-d79a-4f72-ab2d-800b114ae540\", \"name\": \"Cart\\ud83d\\ude00\\u00e9?\","
      " \"file\": \"/a.py\", \"start_line\": 1, \"end_line\": 2, \"is_async\": false,"
      " \"source_code_hash\": \"2801f83f4a058501b9c7bdadee5b36ba93cf0521\"}";
  hud_arena *a = hud_arena_new();
  hud_function_decl d;
  hud_codec_error e;
  if (hud_function_decl_decode(doc, sizeof doc - 1, NULL, a, &d, &e) != 0) fail_msg("%s", e.message);
  assert_string_equal(d.name, "Cart\xF0\x9F\x98\x80\xC3\xA9?");
  hud_arena_free(a);
}

static void decoder_argument_errors(void **state) {
  (void)state;
  hud_function_decl d;
  hud_codec_error e;
  assert_int_equal(hud_function_decl_decode("{}", 2, NULL, NULL, &d, &e), HUD_EINVAL);
  hud_arena *a = hud_arena_new();
  assert_int_equal(hud_function_decl_decode(NULL, 0, NULL, a, &d, &e), HUD_EPARSE);
  /* ERR may be NULL. */
  assert_int_equal(hud_function_decl_decode("[]", 2, NULL, a, &d, NULL), HUD_EFIELD);
  /* Length is honoured: the text after LEN is not read. */
  const char *doc = "{\"a\":0.01,\"z\":1,\"o\":0,\"c\":[]}GARBAGE";
  hud_sketch_bins sb;
  assert_int_equal(hud_sketch_bins_decode(doc, strlen(doc) - 7, NULL, a, &sb, &e), 0);
  assert_int_equal(sb.zero_count, 1);
  hud_arena_free(a);
}

static void arena_allocates_aligned_zeroed_memory(void **state) {
  (void)state;
  hud_arena *a = hud_arena_new();
  assert_non_null(a);
  for (int i = 1; i < 2000; i++) {
    unsigned char *p = hud_arena_alloc(a, (size_t)i * 7);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    for (int k = 0; k < i * 7; k++) assert_int_equal(p[k], 0);
    memset(p, 0xab, (size_t)i * 7);
  }
  assert_true(hud_arena_used(a) > 2000 * 1000);
  hud_arena_reset(a);
  assert_int_equal(hud_arena_used(a), 0);
  char *s = hud_arena_strdup(a, "hello");
  assert_string_equal(s, "hello");
  assert_string_equal(hud_arena_strndup(a, "hello", 2), "he");
  assert_null(hud_arena_alloc(a, 0));
  assert_null(hud_arena_calloc(a, SIZE_MAX / 2, 4));
  assert_null(hud_arena_strdup(a, NULL));
  hud_arena_free(a);
  hud_arena_free(NULL);
}

/* Mutated batches (byte flips, insertions, truncations) never crash the decoder: each one either
 * decodes to something the encoder accepts again, or fails with a code and a message. ASan and
 * UBSan watch the whole run. */
static void mutated_batches_fail_cleanly(void **state) {
  (void)state;
  const char *src = getenv("HUD_SOURCE_DIR");
  assert_non_null(src);
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/codec/batch.json", src);
  json_error_t je;
  json_t *suite = json_load_file(path, 0, &je);
  assert_non_null(suite);
  char *base = json_dumps(json_object_get(suite, "base"), JSON_COMPACT);
  json_decref(suite);
  size_t bl = strlen(base);
  char *buf = malloc(bl + 64);
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  hud_arena *a = hud_arena_new();
  int ok = 0, failed = 0;
  static const char alphabet[] = "{}[]\",:-0123456789eE.+ntrufals\\\xff\x80 ";
  for (int iter = 0; iter < 3000; iter++) {
    memcpy(buf, base, bl + 1);
    size_t len = bl;
    int edits = 1 + (int)(rng % 3);
    for (int k = 0; k < edits; k++) {
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      size_t at = (size_t)(rng >> 8) % len;
      switch (rng % 4) {
      case 0: buf[at] = alphabet[(rng >> 40) % (sizeof alphabet - 1)]; break;
      case 1: len = at + 1; break; /* truncate */
      case 2: memmove(buf + at, buf + at + 1, len - at - 1); len--; break;
      default:
        if (len + 1 < bl + 64) {
          memmove(buf + at + 1, buf + at, len - at);
          buf[at] = alphabet[(rng >> 32) % (sizeof alphabet - 1)];
          len++;
        }
      }
      if (len == 0) len = 1;
    }
    hud_arena_reset(a);
    hud_batch b;
    hud_codec_error e;
    int rc = hud_batch_decode(buf, len, NULL, a, &b, &e);
    if (rc == 0) {
      char *j = NULL;
      if (hud_batch_encode(&b, &j, NULL, &e) != 0) fail_msg("decoded batch does not re-encode: %s", e.message);
      free(j);
      ok++;
    } else {
      assert_true(rc < 0);
      assert_int_equal(e.code, rc);
      assert_true(e.message[0] != '\0');
      failed++;
    }
  }
  print_message("mutated batches: %d decoded, %d rejected\n", ok, failed);
  assert_true(failed > 2000);
  free(buf);
  free(base);
  hud_arena_free(a);
}

static void sort_names(void **state) {
  (void)state;
  hud_sort s;
  assert_int_equal(hud_sort_parse("slowdown", &s), 0);
  assert_int_equal(s, HUD_SORT_SLOWDOWN);
  assert_string_equal(hud_sort_name(HUD_SORT_P95), "p95");
  assert_int_equal(hud_sort_parse("p99", &s), HUD_EINVAL);
  assert_null(hud_sort_name((hud_sort)0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hud_seed_vector_decodes),
      cmocka_unit_test(gzip_round_trip_and_concatenation),
      cmocka_unit_test(gzip_bomb_is_bounded),
      cmocka_unit_test(limits_are_enforced_and_configurable),
      cmocka_unit_test(times_format_and_parse),
      cmocka_unit_test(query_targets_round_trip),
      cmocka_unit_test(error_bodies_and_status_table),
      cmocka_unit_test(encoder_refuses_invalid_structs),
      cmocka_unit_test(surrogate_pairs_decode_to_utf8),
      cmocka_unit_test(decoder_argument_errors),
      cmocka_unit_test(arena_allocates_aligned_zeroed_memory),
      cmocka_unit_test(mutated_batches_fail_cleanly),
      cmocka_unit_test(sort_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
